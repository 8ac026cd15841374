"""Rule make_tables: LaTeX tables, the claims table, numbers and figures, from the tidy table only."""
import json
from pathlib import Path

import pandas as pd

from xstilts.snake import start

log = start(snakemake)
from xstilts.report import make_all  # noqa: E402

tidy = pd.read_csv(snakemake.input.tidy, sep="\t")
inventory = json.loads(Path(snakemake.input.inventory).read_text(encoding="utf-8"))
paths = make_all(tidy, inventory, "paper")
missing = [p for p in snakemake.output if not Path(p).exists()]
if missing:
    raise RuntimeError(f"make_all did not write {missing}")
log.info(f"wrote {len(paths)} files")
