# Every metrics file -> one tidy, schema-validated long table, plus the data/task inventory.


rule aggregate_results:
    input:
        finetune=finetune_outputs(),
        retrieve=retrieve_outputs(),
        intermediate=[
            f"results/intermediate/encoder~{e}/itask~{i}/seed~{ISEED}/model"
            for e, i in runs()
            if i != "baseline"
        ],
        data=f"{DATA}/manifest.json",
        data_inventory=f"{DATA}/inventory.tsv",
    output:
        tidy="results/tidy.tsv",
        inventory="results/inventory.json",
    log:
        "logs/aggregate_results.log",
    localrule: True
    conda:
        conda_env("report")
    params:
        data=lambda w, input: os.path.dirname(input.data),
        schema=RESULTS_SCHEMA,
    script:
        "../scripts/aggregate_results.py"
