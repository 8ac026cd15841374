"""Rule perturb_testset: every family x severity of one target task's test sets, in every language."""
from pathlib import Path

from xstilts.perturb_sets import perturb_task
from xstilts.snake import start, write_json

log = start(snakemake)
manifest = perturb_task(snakemake.params.data, snakemake.wildcards.ttask, snakemake.params.families,
                        snakemake.params.severities, snakemake.params.seed,
                        Path(snakemake.output[0]).parent, log=log.info)
write_json(snakemake.output[0], manifest)
