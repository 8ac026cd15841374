"""Rule train_tokenizer: sentencepiece on the micro corpus, wrapped as an XLM-R tokenizer."""
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)
from xstilts.models.pretrain import build_tokenizer  # noqa: E402  (after the offline flags)

info = build_tokenizer(Path(snakemake.input[0]).parent, snakemake.params.languages, snakemake.output[0],
                       snakemake.params.vocab_size, snakemake.params.seed)
log.info(f"tokenizer: {info}")
