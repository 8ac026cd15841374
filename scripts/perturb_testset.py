"""Rule perturb_testset: every severity of one family (or of all, family~all) on one target task's test sets."""
from pathlib import Path

from xstilts.perturb.sets import perturb_task, perturb_task_family
from xstilts.snake import start, write_json

log = start(snakemake)
w, p = snakemake.wildcards, snakemake.params
out = Path(snakemake.output[0]).parent
table = (snakemake.input.homoglyphs or [None])[0]
if w.family == "all":
    manifest = perturb_task(p.data, w.ttask, p.families, p.severities, p.seed, out.parent, cfg=p.cfg,
                            homoglyph_table=table, log=log.info)
else:
    manifest = perturb_task_family(p.data, w.ttask, w.family, p.severities, p.seed, out, cfg=p.cfg,
                                   homoglyph_table=table, log=log.info)
write_json(snakemake.output[0], manifest)
