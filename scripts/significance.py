"""Rule significance: paired bootstrap of every intermediate model vs the baseline, and of each control vs the
English multi-task model (xstilts.report.significance)."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.report.significance import compare_all, write_significance  # noqa: E402

frame = compare_all(list(snakemake.input.examples), n=snakemake.params.resamples, seed=snakemake.params.seed)
write_significance(frame, snakemake.output[0])
log.info(f"{len(frame)} comparisons, {int(frame['significant'].sum()) if len(frame) else 0} significant")
