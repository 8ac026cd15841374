"""Rule homoglyph_table: the look-alike letters that survive this tokenizer's Unicode normalisation."""
from xstilts.perturb.families import build_homoglyph_table_for
from xstilts.snake import start, write_json

log = start(snakemake)
table = build_homoglyph_table_for(snakemake.input.tokenizer)
log.info(f"{sum(map(len, table['pairs'].values()))} homoglyph pairs kept, "
         f"{sum(map(len, table['rejected'].values()))} folded back by the normaliser: {table['rejected']}")
write_json(snakemake.output[0], table)
