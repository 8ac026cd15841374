"""Rule retrieve_sentences: Tatoeba accuracy and BUCC F1 from the stored sentence vectors."""
from xstilts import env
from xstilts.snake import start, write_json

log = start(snakemake)
from xstilts.jobs import retrieve  # noqa: E402

w = snakemake.wildcards
res = retrieve(snakemake.config, snakemake.input.embeddings, snakemake.input.data.rsplit("/", 1)[0],
               "resources/perturbed", snakemake.threads, log=log.info)
res.update(env.provenance(snakemake.config, **dict(w.items())))
write_json(snakemake.output.metrics, res)
