"""Rule embed_sentences: every BUCC/Tatoeba sentence through the encoder once, into one .npz."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.jobs import embed_sentences  # noqa: E402

embed_sentences(snakemake.config, snakemake.input.encoder, snakemake.input.data.rsplit("/", 1)[0],
                "resources/perturbed", snakemake.output.embeddings, snakemake.threads, log=log.info)
