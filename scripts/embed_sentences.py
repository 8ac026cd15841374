"""Rule embed_sentences: every BUCC/Tatoeba sentence through the encoder once, into one .npz per encoder
(one job per encoder, or one job for all of them with bundle_embeddings)."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.retrieve.job import embed_sentences_many  # noqa: E402


def paths(v):
    # a named input/output of one file is that path (a str), of several a list
    return [str(v)] if isinstance(v, str) else [str(p) for p in v]


p = snakemake.params
embed_sentences_many(snakemake.config, paths(snakemake.input.encoder), p.data, p.perturbed,
                     paths(snakemake.output.embeddings), snakemake.threads, log=log.info)
