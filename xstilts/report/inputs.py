"""What the report reads: the tidy results (`results/tidy.tsv`) and the data inventory, both checked on
the way in (the tidy columns by `tables.check_tidy`, the inventory against `inventory.schema.json`)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import pandas as pd

SCHEMA_PATH = Path(__file__).with_name("inventory.schema.json")


@lru_cache(maxsize=1)
def inventory_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_inventory(inventory: dict) -> dict:
    """Raise jsonschema.ValidationError (with the failing path) unless `inventory` matches the schema."""
    jsonschema.validate(inventory, inventory_schema(), cls=jsonschema.Draft202012Validator)
    return inventory


def load_inventory(path) -> dict:
    return validate_inventory(json.loads(Path(path).read_text(encoding="utf-8")))


def load_tidy(path) -> pd.DataFrame:
    """Read results/tidy.tsv (tab-separated, as the aggregate rule writes it)."""
    from xstilts.report.tables import check_tidy
    return check_tidy(pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""]))
