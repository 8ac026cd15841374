"""Rule perturb_testset: every severity of one family on one target task's test sets, in every language."""
from pathlib import Path

from xstilts.perturb_sets import perturb_task_family
from xstilts.snake import start, write_json

log = start(snakemake)
manifest = perturb_task_family(snakemake.params.data, snakemake.wildcards.ttask, snakemake.wildcards.family,
                               snakemake.params.severities, snakemake.params.seed,
                               Path(snakemake.output[0]).parent, cfg=snakemake.params.cfg,
                               homoglyph_table=(snakemake.input.homoglyphs or [None])[0], log=log.info)
write_json(snakemake.output[0], manifest)
