"""Rule data_inventory: examples per task, component, language and split (inventory.tsv, read by the claims)
and the manifest marking that every task the run needs is prepared."""
from pathlib import Path

from xstilts.data.prepare import inventory_rows, write_inventory
from xstilts.snake import start, write_json

log = start(snakemake)
tasks = [Path(p).parent.name.split("~", 1)[1] for p in snakemake.input]
data_dir = Path(snakemake.output.inventory).parent
rows = inventory_rows(data_dir, tasks)
write_inventory(snakemake.output.inventory, rows)
write_json(snakemake.output.manifest, {"source": "hub", "tasks": tasks, "inventory": "inventory.tsv"})
log.info(f"{len(tasks)} tasks prepared, {len(rows)} inventory rows")
