# Raw data. Embedded: the micro benchmark, generated deterministically from a seed.


if config["data"]["source"] == "micro":

    rule generate_micro:
        output:
            manifest="resources/data/micro/manifest.json",
            inventory="resources/data/micro/inventory.tsv",
        log:
            "logs/generate_micro.log",
        benchmark:
            "logs/benchmarks/generate_micro.tsv"
        localrule: True
        conda:
            conda_env("data")
        params:
            seed=config["data"]["seed"],
            overrides=config["data"]["micro"],
            languages=config["languages"],
        script:
            "../scripts/generate_micro.py"

else:
    # Paper scale, in three steps (README "Data on a cluster"):
    # 1. download_hub_task, download_mt_model: localrules, the only jobs that reach the network (run them on
    #    the head node: `snakemake download --configfile config/paper.yaml`). They write validated records
    #    under resources/downloads/ at pinned revisions.
    # 2. translate_shard: the MT control's machine translation, sharded parallel jobs (GPU at paper scale).
    # 3. prepare_hub_task, data_inventory: offline; merge translations, sample the MLM corpus, count.

    rule download_hub_task:
        input:
            # data.bundle: the committed real-data bundle (its checksums were verified in common.smk)
            BUNDLE_INPUT,
        output:
            "resources/downloads/hub/task~{task}/meta.json",
        log:
            "logs/download_hub_task/task~{task}.log",
        localrule: True
        conda:
            conda_env("data")
        params:
            languages=config["languages"],
            revisions=config["data"].get("revisions", {}),
            ccgbank_path=config["data"].get("ccgbank_path"),
            on_bad_row=config["data"].get("on_bad_row", "error"),
            mlm_corpus=config["data"].get("mlm_corpus", {}),
            published_mt=lambda w: mt_source(w.task) == "published",
            # the bundle folder, from the SOURCES.tsv input (no input: no bundle, read the hub)
            bundle=lambda w, input: os.path.dirname(input[0]) if len(input) else None,
        script:
            "../scripts/download_hub_task.py"

    rule download_mt_model:
        output:
            directory(f"{MODELS}/mt~{{mtkey}}"),
        log:
            "logs/download_mt_model/mt~{mtkey}.log",
        localrule: True
        conda:
            conda_env("data")
        params:
            hub_id=lambda w: mt_model_id(w.mtkey),
            revision=config["controls"].get("mt", {}).get("revision", "main"),
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.spm", "*.txt"],
        script:
            "../scripts/download_model.py"

    rule translate_shard:
        input:
            data="resources/downloads/hub/task~{task}/meta.json",
            model=lambda w: mt_model_dir(w.lang),
        output:
            shard="resources/translations/task~{task}/lang~{lang}/shard~{shard}.jsonl.gz",
            report="resources/translations/task~{task}/lang~{lang}/shard~{shard}.jsonl.gz.report.json",
        log:
            "logs/translate_shard/task~{task}/lang~{lang}/shard~{shard}.log",
        benchmark:
            "logs/benchmarks/translate_shard/task~{task}/lang~{lang}/shard~{shard}.tsv"
        conda:
            conda_env("data")
        threads: THREADS
        resources:
            mem_mb=rule_mem_mb("translate_shard"),
            runtime=rule_runtime("translate_shard"),
            gpu=GPUS,
        params:
            mt=config["controls"].get("mt", {}),
            english=lambda w, input: os.path.join(
                os.path.dirname(input.data), "lang~en", "train.jsonl"
            ),
        script:
            "../scripts/translate_shard.py"

    rule prepare_hub_task:
        input:
            download="resources/downloads/hub/task~{task}/meta.json",
            shards=lambda w: translation_shards(w.task),
        output:
            "resources/data/hub/task~{task}/meta.json",
        log:
            "logs/prepare_hub_task/task~{task}.log",
        localrule: True
        conda:
            conda_env("data")
        params:
            mlm_corpus=config["data"].get("mlm_corpus", {}),
        script:
            "../scripts/prepare_hub_task.py"

    rule data_inventory:
        input:
            [f"resources/data/hub/task~{t}/meta.json" for t in HUB_TASKS],
        output:
            manifest="resources/data/hub/manifest.json",
            inventory="resources/data/hub/inventory.tsv",
        log:
            "logs/data_inventory.log",
        localrule: True
        conda:
            conda_env("data")
        script:
            "../scripts/data_inventory.py"
