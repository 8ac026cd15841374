# Phase 3: fresh head, fine-tune on English, select on English dev, evaluate zero-shot on every language,
# clean and perturbed. ttask~all = every trainable target in one job (embedded: saves start-up time).


rule finetune_target:
    input:
        data=f"{DATA}/manifest.json",
        encoder=encoder_dir,
        perturbed=lambda w: perturbed_manifests(ft_targets(w)),
        # the attack needs the homoglyph table; transfer: the baseline's adversaries of this (encoder, unit, seed)
        homoglyphs=lambda w: attack_homoglyphs(ft_targets(w)),
        adversarial=lambda w: attack_transfer_input(w, ft_targets(w)),
    output:
        metrics="results/finetune/encoder~{encoder}/itask~{itask}/ttask~{ttask}/seed~{seed}/metrics.json",
        # per-example predictions and statistics: paired bootstraps and flip rates (docs/records.md)
        examples="results/finetune/encoder~{encoder}/itask~{itask}/ttask~{ttask}/seed~{seed}/examples.jsonl.gz",
        # adversarial examples of the black-box attack on this model (xstilts/perturb/attack.py); empty without attack
        adversarial="results/finetune/encoder~{encoder}/itask~{itask}/ttask~{ttask}/seed~{seed}/adversarial.jsonl.gz",
    log:
        "logs/finetune_target/encoder~{encoder}/itask~{itask}/ttask~{ttask}/seed~{seed}.log",
    benchmark:
        "logs/benchmarks/finetune_target/encoder~{encoder}/itask~{itask}/ttask~{ttask}/seed~{seed}.tsv"
    priority: 1  # after the intermediate models, before retrieval scoring (rules/intermediate.smk)
    conda:
        conda_env("train")
    threads: THREADS
    resources:
        mem_mb=rule_mem_mb("finetune_target"),
        runtime=rule_runtime("finetune_target"),
        gpu=GPUS,
    params:
        data=lambda w, input: os.path.dirname(input.data),
        perturbed=PERTURBED,
        ttasks=ft_targets,
    script:
        "../scripts/finetune_target.py"
