# xstilts: X-STILTs (Phang et al., AACL 2020) + a robustness study, as one Snakemake DAG.
# Default: the embedded micro run (config.yaml). Paper scale: --configfile config/paper.yaml.
from snakemake.utils import min_version

min_version("9.0")


# `snakemake --report report.html` after a run: this description, the figures, tables and claims marked with
# report() in rules/paper.smk, and per-rule runtimes.
report: "report/workflow.rst"


# config.yaml is the embedded default and is read only when no --configfile is given: Snakemake would
# otherwise deep-merge it into the paper config and leak embedded settings (epochs, sizes) into a paper
# run. To overlay a small change on the default, pass both: --configfile config.yaml my_change.yaml
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/pretrain.smk"
include: "rules/e5.smk"
include: "rules/perturb.smk"
include: "rules/intermediate.smk"
include: "rules/finetune.smk"
include: "rules/retrieve.smk"
include: "rules/aggregate.smk"
include: "rules/significance.smk"
include: "rules/paper.smk"
include: "rules/robustness.smk"


rule all:
    default_target: True
    input:
        "results/tidy.tsv",
        PAPER_OUTPUTS,
        ROBUSTNESS_OUTPUTS,
        PAPER_PDF,


# Named targets: `snakemake tables` rebuilds tables, claims, figures and the PDF from the tidy results: from
# the committed paper/frozen/ copy (no GPU, no training) when it is newer than results/ (rules/paper.smk).
# `snakemake freeze` copies a finished run's results into paper/frozen/.
# The robustness-analysis outputs are not part of it: they need the run's per-example files, which the frozen
# copy does not hold (a tables-only PDF says so in their place).
rule tables:
    input:
        PAPER_OUTPUTS,
        PAPER_PDF,


# `snakemake download --configfile config/paper.yaml` on a head node with internet: every job that reaches the
# network (datasets at pinned revisions, the MT model), nothing else. Compute nodes then run the rest offline.
rule download:
    input:
        (
            [f"resources/downloads/hub/task~{t}/meta.json" for t in HUB_TASKS]
            + (
                [f"{MODELS}/encoder~pretrained"]
                if config["model"]["source"] == "hub"
                else []
            )
            + sorted(
                {
                    mt_model_dir(l)
                    for t in HUB_TASKS
                    if mt_source(t) == "model"
                    for l in mt_languages()
                    if mt_model_dir(l).startswith(MODELS)
                }
            )
            if config["data"]["source"] == "hub"
            else []
        ),
