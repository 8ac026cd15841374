# Tables, claims table, numbers, figures and the compiled paper under paper/, generated from the tidy results,
# the inventory and the significance table: of this run (results/) or of the committed frozen copy
# (paper/frozen/); xstilts/report/frozen.py says which and why.
import shutil

from xstilts.report import frozen as _F

FROZEN = "paper/frozen"
TABLE_STEMS = ["dev_deltas", "xtreme_test", "controls", "robustness", "control_encoder"]
FIGURE_STEMS = ["dev_deltas", "robustness_curves", "language_gains"]
PAPER_OUTPUTS = (
    ["paper/claims.tex", "paper/claims.csv", "paper/claims.md", "paper/numbers.tex"]
    + [f"paper/tables/{s}.{e}" for s in TABLE_STEMS for e in ("tex", "csv")]
    + ["paper/tables/significance.csv"]
    + [f"paper/figures/{s}.{e}" for s in FIGURE_STEMS for e in ("pdf", "png")]
)
# In the HTML report (snakemake --report): figures, the claims and the tables' numbers, with captions.
REPORTED = {
    "paper/figures/dev_deltas.png": ("Figures", "dev_deltas"),
    "paper/figures/language_gains.png": ("Figures", "language_gains"),
    "paper/figures/robustness_curves.png": ("Figures", "robustness_curves"),
    "paper/claims.csv": ("Claims", "claims"),
    "paper/tables/dev_deltas.csv": ("Tables", "dev_deltas"),
    "paper/tables/xtreme_test.csv": ("Tables", "xtreme_test"),
    "paper/tables/controls.csv": ("Tables", "controls"),
    "paper/tables/significance.csv": ("Tables", "significance"),
    "paper/tables/robustness.csv": ("Tables", "robustness"),
    "paper/tables/control_encoder.csv": ("Tables", "control_encoder"),
}
# Targets that only (re)build the paper's outputs: with tables_from auto they may read the frozen copy.
TABLES_ONLY_TARGETS = {
    "tables",
    "make_tables",
    "compile_paper",
    "paper/main.pdf",
    *PAPER_OUTPUTS,
}
# The PDF needs latexmk; without it the DAG leaves it out (one warning) instead of failing.
LATEXMK = shutil.which("latexmk")
PAPER_PDF = ["paper/main.pdf"] if LATEXMK else []
if not LATEXMK:
    logger.warning(
        "latexmk not found: paper/main.pdf is not built (tables and figures are); install a TeX toolchain, "
        "e.g. `python -m xstilts.report.latex --install` as root on Debian/Ubuntu"
    )


def _reported(path):
    if path not in REPORTED:
        return path
    category, stem = REPORTED[path]
    return report(path, caption=f"../report/{stem}.rst", category=category)


def _builds_run():
    """True unless every requested target is one of the paper's outputs (no targets = the default `all`)."""
    settings = getattr(workflow, "dag_settings", None)
    targets = (
        set(settings.targets) if settings is not None and settings.targets else set()
    )
    return not targets or not targets <= TABLES_ONLY_TARGETS


def tables_source():
    mode = config.get("outputs", {}).get("tables_from", "auto")
    return _F.choose_source(mode, "results", FROZEN, _builds_run())


def tables_inputs(wildcards):
    src, _why = tables_source()
    return _F.paths("results" if src == "results" else FROZEN)


rule make_tables:
    input:
        unpack(tables_inputs),
    output:
        [_reported(p) for p in PAPER_OUTPUTS],
    log:
        "logs/make_tables.log",
    benchmark:
        "benchmarks/make_tables.tsv"
    localrule: True
    conda:
        ENV
    params:
        source=lambda w: "%s (%s)" % tables_source(),
        frozen=FROZEN,
    script:
        "../scripts/make_tables.py"


rule compile_paper:
    input:
        tex="paper/main.tex",
        generated=PAPER_OUTPUTS,
    output:
        pdf=report("paper/main.pdf", caption="../report/paper.rst", category="Paper"),
    log:
        "logs/compile_paper.log",
    benchmark:
        "benchmarks/compile_paper.tsv"
    localrule: True
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
    params:
        frozen=FROZEN,
    script:
        "../scripts/freeze_results.py"
