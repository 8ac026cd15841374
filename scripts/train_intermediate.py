"""Rule train_intermediate: phase 2 on English intermediate data; writes the encoder (head discarded)."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.train.jobs import checkpoint_dir, checkpointer, train_intermediate  # noqa: E402

w = snakemake.wildcards
ckpt = checkpoint_dir(snakemake.config, snakemake.output.model)  # resumable state survives a killed job
info = train_intermediate(snakemake.config, w.itask, snakemake.input.encoder, snakemake.params.data,
                          snakemake.output.model, int(w.seed), snakemake.threads, log=log.info, ckpt_dir=ckpt)
log.info(f"dev: {info['dev']}")
checkpointer(snakemake.config, ckpt).clear()  # the model is written: the training state is no longer needed
