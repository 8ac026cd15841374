# BUCC and Tatoeba: no training data; the (intermediate) encoder's representations are used directly.
# Two steps: the encoder embeds every sentence once (the expensive part, GPU at paper scale), then
# scoring reads the stored vectors, so changing k or the threshold protocol never re-embeds.


# config bundle_embeddings (embedded default): one job embeds with every encoder of the run (torch and
# transformers start-up, ~5 s, paid once instead of per encoder). It waits for the last intermediate model;
# the fine-tuning jobs keep the other core busy meanwhile. Otherwise (paper scale): one (GPU) job per encoder.
# EMBED_* in common.smk hold the two layouts of the one rule's files.
rule embed_sentences:
    input:
        data=f"{DATA}/manifest.json",
        encoder=EMBED_ENCODERS,
        perturbed=lambda w: perturbed_manifests(["tatoeba"]),
    output:
        embeddings=EMBED_OUTPUTS,
    log:
        EMBED_LOG,
    benchmark:
        EMBED_BENCHMARK
    priority: 2  # as soon as its encoders exist (rules/intermediate.smk)
    conda:
        conda_env("retrieve")
    threads: THREADS
    resources:
        mem_mb=rule_mem_mb("embed_sentences"),
        runtime=rule_runtime("embed_sentences"),
        gpu=GPUS,
    params:
        data=lambda w, input: os.path.dirname(input.data),
        perturbed=PERTURBED,
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
        gpu=GPUS,
    params:
        data=lambda w, input: os.path.dirname(input.data),
        perturbed=PERTURBED,
    script:
        "../scripts/retrieve_sentences.py"
