"""Rule pretrain_encoder: the tiny XLM-R, MLM-pretrained (encoder~pretrained) or left at its random
initialisation (encoder~random, the control)."""
from pathlib import Path

from xstilts import env
from xstilts.snake import start

log = start(snakemake)
from xstilts.models.pretrain import pretrain_mlm  # noqa: E402

env.set_threads(snakemake.threads)
init = snakemake.wildcards.encoder
info = pretrain_mlm(Path(snakemake.input.data).parent, snakemake.params.languages, snakemake.input.tokenizer,
                    snakemake.output[0], snakemake.params.arch, snakemake.params.hp, snakemake.params.seed,
                    init=init, log=log.info)
log.info(f"{init}: {info}")
