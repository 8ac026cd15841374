# BUCC and Tatoeba: no training data; the (intermediate) encoder's representations are used directly.


rule retrieve_sentences:
    input:
        data=f"{DATA}/manifest.json",
        encoder=encoder_dir,
        perturbed=lambda w: perturbed_manifests(["tatoeba"]),
    output:
        metrics="results/retrieve/encoder~{encoder}/itask~{itask}/seed~{seed}/metrics.json",
    log:
        "logs/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.log",
    benchmark:
        "benchmarks/retrieve_sentences/encoder~{encoder}/itask~{itask}/seed~{seed}.tsv"
    conda:
        ENV
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=1 if config["scale"] == "paper" else 0,
    script:
        "../scripts/retrieve_sentences.py"
