# Robustness analysis from the per-example results: flip rates, AUC over severity, paired-bootstrap
# differences in relative drop from the baseline, attack table, severity curves (xstilts/report/robustness.py).

ROBUSTNESS_OUTPUTS = [
    "paper/tables/robustness_bootstrap.tex",
    "paper/tables/robustness_flips.tex",
    "paper/tables/robustness_attack.tex",
    "paper/tables/robustness_examples.csv",
    "paper/tables/robustness_bootstrap.csv",
    "paper/figures/robustness_severity.pdf",
    "paper/figures/robustness_severity.png",
]


rule robustness_analysis:
    input:
        tidy="results/tidy.tsv",
        inventory="results/inventory.json",
        examples=[
            p.replace("metrics.json", "examples.jsonl.gz")
            for p in finetune_outputs() + retrieve_outputs()
        ],
    output:
        ROBUSTNESS_OUTPUTS,
    log:
        "logs/robustness_analysis.log",
    benchmark:
        "logs/benchmarks/robustness_analysis.tsv"
    localrule: True
    conda:
        conda_env("report")
    script:
        "../scripts/robustness_analysis.py"
