# Phase 1. Embedded: tokenizer + tiny XLM-R MLM-pretrained on the micro corpus (and the random-init
# control encoder). Paper: xlm-roberta-large, fetched once as a localrule.


if config["model"]["source"] == "micro":

    rule train_tokenizer:
        input:
            f"{DATA}/manifest.json",
        output:
            directory(f"{MODELS}/tokenizer"),
        log:
            "logs/train_tokenizer.log",
        conda:
            conda_env("data")
        params:
            vocab_size=config["model"]["tokenizer"]["vocab_size"],
            languages=config["languages"],
            seed=config["data"]["seed"],
        script:
            "../scripts/train_tokenizer.py"

    rule pretrain_encoder:
        input:
            data=f"{DATA}/manifest.json",
            tokenizer=f"{MODELS}/tokenizer",
        output:
            directory(f"{MODELS}/encoder~{{encoder}}"),
        log:
            "logs/pretrain_encoder/encoder~{encoder}.log",
        benchmark:
            "logs/benchmarks/pretrain_encoder/encoder~{encoder}.tsv"
        conda:
            conda_env("train")
        # MLM pretraining uses both cores; the random-init control only saves its initialisation. With
        # 2 threads it had to wait for both cores to be free at once, which on 2 cores came only at the
        # very end of the run, so the control's fine-tuning ran last with the other core idle.
        threads: lambda w: 2 if w.encoder == "pretrained" else 1
        resources:
            mem_mb=rule_mem_mb("pretrain_encoder"),
            runtime=rule_runtime("pretrain_encoder"),
        params:
            arch=config["model"]["arch"],
            hp=config["model"]["pretrain"],
            languages=config["languages"],
            seed=config["data"]["seed"],
        script:
            "../scripts/pretrain_encoder.py"

else:
    # model.source e5: rules/e5.smk writes encoder~pretrained; the random-init control is shared.
    if config["model"]["source"] == "hub":

        rule download_model:
            output:
                directory(f"{MODELS}/encoder~pretrained"),
            log:
                "logs/download_model.log",
            localrule: True
            conda:
                conda_env("data")
            params:
                hub_id=config["model"]["hub_id"],
                revision=config["model"]["revision"],
            script:
                "../scripts/download_model.py"

    rule init_random_encoder:
        input:
            f"{MODELS}/encoder~pretrained",
        output:
            directory(f"{MODELS}/encoder~random"),
        log:
            "logs/init_random_encoder.log",
        conda:
            conda_env("train")
        resources:
            mem_mb=rule_mem_mb("init_random_encoder"),
            runtime=rule_runtime("init_random_encoder"),
        params:
            seed=config["intermediate_seed"],
        script:
            "../scripts/init_random_encoder.py"
