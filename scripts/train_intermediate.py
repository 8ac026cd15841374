"""Rule train_intermediate: phase 2 on English intermediate data; writes the encoder (head discarded)."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.jobs import train_intermediate  # noqa: E402

w = snakemake.wildcards
info = train_intermediate(snakemake.config, w.itask, snakemake.input.encoder, snakemake.params.data,
                          snakemake.output.model, int(w.seed), snakemake.threads, log=log.info)
log.info(f"dev: {info['dev']}")
