# Phase 2: English intermediate-task training (one task, all nine, MLM control, MT control).
# Checkpoints go to an undeclared scratch folder so a rerun can resume; only the model is declared.


rule train_intermediate:
    input:
        data=f"{DATA}/manifest.json",
        encoder=f"{MODELS}/encoder~{{encoder}}",
    output:
        model=directory(
            "results/intermediate/encoder~{encoder}/itask~{itask}/seed~{seed}/model"
        ),
    log:
        "logs/train_intermediate/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
    benchmark:
        "logs/benchmarks/train_intermediate/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
    # scheduling order on few cores (Snakemake runs higher priorities first): intermediate models gate the
    # fine-tuning jobs and the embedding job, fine-tuning jobs before the seconds-long retrieval jobs, which
    # then fill the core the last fine-tuning job leaves idle instead of the run ending on one busy core
    priority: 2
    conda:
        conda_env("train")
    threads: THREADS
    resources:
        mem_mb=rule_mem_mb("train_intermediate"),
        runtime=rule_runtime("train_intermediate"),
        gpu=GPUS,
    params:
        data=lambda w, input: os.path.dirname(input.data),
    script:
        "../scripts/train_intermediate.py"
