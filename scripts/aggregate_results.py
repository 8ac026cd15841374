"""Rule aggregate_results: the tidy long table (schema-validated) and the run's inventory."""
import csv
import io

import yaml

from xstilts.records import atomic_write_text
from xstilts.report import aggregate as A
from xstilts.snake import start, write_json

log = start(snakemake)
rows = A.tidy_rows(snakemake.config, snakemake.input.finetune, snakemake.input.retrieve,
                   snakemake.input.intermediate)
with open(snakemake.params.schema, encoding="utf-8") as f:
    A.validate_rows(rows, yaml.safe_load(f))
buf = io.StringIO()
w = csv.DictWriter(buf, fieldnames=A.COLUMNS, delimiter="\t", lineterminator="\n")
w.writeheader()
w.writerows(rows)
atomic_write_text(snakemake.output.tidy, buf.getvalue())
write_json(snakemake.output.inventory, A.inventory(snakemake.config, snakemake.params.data))
log.info(f"{len(rows)} tidy rows")
