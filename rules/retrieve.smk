# BUCC and Tatoeba: no training data; the (intermediate) encoder's representations are used directly.
# Two steps: the encoder embeds every sentence once (the expensive part, GPU at paper scale), then
# scoring reads the stored vectors, so changing k or the threshold protocol never re-embeds.


rule embed_sentences:
    input:
        data=f"{DATA}/manifest.json",
        encoder=encoder_dir,
        perturbed=lambda w: perturbed_manifests(["tatoeba"]),
    output:
        embeddings="results/embeddings/encoder~{encoder}/itask~{itask}/seed~{seed}/sentences.npz",
    log:
        "logs/embed_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
    benchmark:
        "logs/benchmarks/embed_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
    conda:
        ENV
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=1 if config["scale"] == "paper" else 0,
    script:
        "../scripts/embed_sentences.py"


rule retrieve_sentences:
    input:
        data=f"{DATA}/manifest.json",
        embeddings=rules.embed_sentences.output.embeddings,
        perturbed=lambda w: perturbed_manifests(["tatoeba"]),
    output:
        metrics="results/retrieve/encoder~{encoder}/itask~{itask}/seed~{seed}/metrics.json",
    log:
        "logs/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
    benchmark:
        "logs/benchmarks/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
    conda:
        ENV
    threads: THREADS
    resources:
        # BUCC mining at paper scale is ~400k x 400k per language: faiss on the GPU
        mem_mb=4000,
        runtime=60,
        gpu=1 if config["scale"] == "paper" else 0,
    script:
        "../scripts/retrieve_sentences.py"
