"""Rule retrieve_sentences: Tatoeba accuracy and BUCC F1 from the stored sentence vectors."""
from xstilts import env
from xstilts.records import write_examples
from xstilts.snake import start, write_json

log = start(snakemake)
from xstilts.retrieve.job import score  # noqa: E402

w = snakemake.wildcards
p = snakemake.params
res = score(snakemake.config, snakemake.input.embeddings, p.data, p.perturbed, snakemake.threads, log=log.info)
res.update(env.provenance(snakemake.config, **dict(w.items())))
# per-example statistics first: metrics.json is the "done" marker (the paired bootstrap reads both)
write_examples(snakemake.output.examples, res.pop("examples"))
write_json(snakemake.output.metrics, res)
