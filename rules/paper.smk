# Tables, claims table, numbers and figures for paper/, generated from the tidy table only.

PAPER_OUTPUTS = [
    "paper/claims.tex",
    "paper/claims.csv",
    "paper/claims.md",
    "paper/numbers.tex",
    "paper/tables/dev_deltas.tex",
    "paper/tables/xtreme_test.tex",
    "paper/tables/controls.tex",
    "paper/tables/robustness.tex",
    "paper/tables/control_encoder.tex",
    "paper/figures/dev_deltas.png",
]


rule make_tables:
    input:
        tidy="results/tidy.tsv",
        inventory="results/inventory.json",
    output:
        PAPER_OUTPUTS,
    log:
        "logs/make_tables.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/make_tables.py"
