# Paired bootstrap over examples: every intermediate model vs the baseline, per target, seed and language and
# pooled over languages; read from the per-example files of the fine-tuning and retrieval jobs. Cheap (seconds on the embedded run).


rule significance:
    input:
        examples=[
            p.replace("metrics.json", "examples.jsonl.gz")
            for p in finetune_outputs() + retrieve_outputs()
        ],
    output:
        "results/significance.tsv",
    log:
        "logs/significance.log",
    benchmark:
        "logs/benchmarks/significance.tsv"
    localrule: True
    conda:
        conda_env("report")
    params:
        resamples=config.get("outputs", {}).get("bootstrap", {}).get("resamples", 1000),
        seed=config.get("outputs", {}).get("bootstrap", {}).get("seed", 0),
    script:
        "../scripts/significance.py"
