"""Rule hub_manifest: one file marking that every task the run needs is prepared."""
import json
from pathlib import Path

from xstilts.snake import start, write_json

log = start(snakemake)
metas = {Path(p).parent.name: json.loads(Path(p).read_text(encoding="utf-8")) for p in snakemake.input}
write_json(snakemake.output[0], {"source": "hub", "tasks": {k: m.get("counts", {}) for k, m in metas.items()}})
log.info(f"{len(metas)} tasks prepared")
