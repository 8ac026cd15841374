# Tables, claims table, numbers, figures and the compiled paper under paper/, generated from the tidy results,
# the inventory and the significance table: of this run (results/) or of the committed frozen copy
# (paper/frozen/); xstilts/report/frozen.py says which and why.
# (PAPER_OUTPUTS, the frozen-copy switch and the input functions live in common.smk.)


rule make_tables:
    input:
        unpack(tables_inputs),
    output:
        [_reported(p) for p in PAPER_OUTPUTS],
    log:
        "logs/make_tables.log",
    benchmark:
        "logs/benchmarks/make_tables.tsv"
    localrule: True
    conda:
        conda_env("report")
    params:
        source=lambda w: "%s (%s)" % tables_source(),
        frozen=FROZEN,
        # PAPER_OUTPUTS[0] is PAPER/claims.tex: the folder make_all writes under
        outdir=lambda w, output: os.path.dirname(output[0]),
    script:
        "../scripts/make_tables.py"


rule compile_paper:
    input:
        tex="paper/main.tex",
        generated=PAPER_OUTPUTS,
        # a run's PDF waits for its robustness tables; a tables-only build (frozen copy) has none to wait for
        robustness=lambda w: (
            ROBUSTNESS_OUTPUTS if tables_source()[0] == "results" else []
        ),
    output:
        pdf=report("paper/main.pdf", caption="../report/paper.rst", category="Paper"),
    log:
        "logs/compile_paper.log",
    benchmark:
        "logs/benchmarks/compile_paper.tsv"
    localrule: True
    conda:
        conda_env("report")
    script:
        "../scripts/compile_paper.py"


# `snakemake freeze`: copy this run's results into the committed frozen copy (then commit paper/frozen/).
# The copy is no declared output on purpose: if it were, make_tables reading paper/frozen/ would make every
# tables-only build depend on results/, i.e. on the whole run, which is what the frozen copy avoids.
rule freeze:
    input:
        **_F.paths("results"),
    log:
        "logs/freeze.log",
    localrule: True
    conda:
        conda_env("report")
    params:
        frozen=FROZEN,
    script:
        "../scripts/freeze_results.py"
