# BUCC and Tatoeba: no training data; the (intermediate) encoder's representations are used directly.
# Two steps: the encoder embeds every sentence once (the expensive part, GPU at paper scale), then
# scoring reads the stored vectors, so changing k or the threshold protocol never re-embeds.


if config.get("bundle_embeddings"):
    # Embedded default: one job embeds with every encoder of the run (torch/transformers start-up, ~5 s, paid
    # once instead of per encoder). It waits for the last intermediate model; the fine-tuning jobs keep the
    # other core busy meanwhile. Paper scale keeps one (GPU) job per encoder.

    rule embed_sentences:
        input:
            data=f"{DATA}/manifest.json",
            encoder=[encoder_path(e, i) for e, i in runs()],
            perturbed=perturbed_manifests(["tatoeba"]),
        output:
            embeddings=[embeddings_path(e, i, ISEED) for e, i in runs()],
        log:
            "logs/embed_sentences/all.log",
        benchmark:
            "logs/benchmarks/embed_sentences/all.tsv"
        priority: 2  # as soon as its encoders exist (rules/intermediate.smk)
        conda:
            conda_env("retrieve")
        threads: THREADS
        resources:
            mem_mb=rule_mem_mb("embed_sentences"),
            runtime=rule_runtime("embed_sentences"),
            gpu=1 if config["scale"] == "paper" else 0,
        script:
            "../scripts/embed_sentences.py"

else:

    rule embed_sentences:
        input:
            data=f"{DATA}/manifest.json",
            encoder=encoder_dir,
            perturbed=lambda w: perturbed_manifests(["tatoeba"]),
        output:
            embeddings=embeddings_path("{encoder}", "{itask}", "{seed}"),
        log:
            "logs/embed_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
        benchmark:
            "logs/benchmarks/embed_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
        priority: 2  # as soon as its encoders exist (rules/intermediate.smk)
        conda:
            conda_env("retrieve")
        threads: THREADS
        resources:
            mem_mb=rule_mem_mb("embed_sentences"),
            runtime=rule_runtime("embed_sentences"),
            gpu=1 if config["scale"] == "paper" else 0,
        script:
            "../scripts/embed_sentences.py"


rule retrieve_sentences:
    input:
        data=f"{DATA}/manifest.json",
        embeddings=embeddings_path("{encoder}", "{itask}", "{seed}"),
        perturbed=lambda w: perturbed_manifests(["tatoeba"]),
    output:
        metrics="results/retrieve/encoder~{encoder}/itask~{itask}/seed~{seed}/metrics.json",
        # per query (Tatoeba) and per source sentence (BUCC) statistics for the paired bootstrap
        examples="results/retrieve/encoder~{encoder}/itask~{itask}/seed~{seed}/examples.jsonl.gz",
    log:
        "logs/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
    benchmark:
        "logs/benchmarks/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
    conda:
        conda_env("retrieve")
    threads: THREADS
    resources:
        # BUCC mining at paper scale is ~400k x 400k per language: faiss on the GPU
        mem_mb=rule_mem_mb("retrieve_sentences"),
        runtime=rule_runtime("retrieve_sentences"),
        gpu=1 if config["scale"] == "paper" else 0,
    script:
        "../scripts/retrieve_sentences.py"
