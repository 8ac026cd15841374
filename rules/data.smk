# Raw data. Embedded: the micro benchmark, generated deterministically from a seed.


if config["data"]["source"] == "micro":

    rule generate_micro:
        output:
            manifest="resources/data/micro/manifest.json",
        log:
            "logs/generate_micro.log",
        benchmark:
            "logs/benchmarks/generate_micro.tsv"
        localrule: True
        conda:
            ENV
        params:
            seed=config["data"]["seed"],
            overrides=config["data"]["micro"],
            languages=config["languages"],
        script:
            "../scripts/generate_micro.py"

else:
    # Paper scale: one download/prepare job per task, localrules (login node has the network),
    # writing under resources/; compute jobs then read local files with the offline flags set.

    rule prepare_hub_task:
        output:
            "resources/data/hub/task~{task}/meta.json",
        log:
            "logs/prepare_hub_task/task~{task}.log",
        localrule: True
        conda:
            ENV
        params:
            languages=config["languages"],
            revisions=config["data"].get("revisions", {}),
            ccgbank_path=config["data"].get("ccgbank_path"),
        script:
            "../scripts/prepare_hub_task.py"

    rule hub_manifest:
        input:
            [f"resources/data/hub/task~{t}/meta.json" for t in HUB_TASKS],
        output:
            "resources/data/hub/manifest.json",
        log:
            "logs/hub_manifest.log",
        localrule: True
        conda:
            ENV
        script:
            "../scripts/hub_manifest.py"
