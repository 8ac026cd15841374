"""The paper's generated outputs: tables, claims, numbers and figures, from the tidy results and the inventory.

    from xstilts.report import make_all, load_tidy, load_inventory
    paths = make_all(load_tidy("results/tidy.tsv"), load_inventory("results/inventory.json"), "paper")

writes (under `outdir`, every file atomically):
    tables/{dev_deltas,xtreme_test,controls,robustness,control_encoder}.tex  booktabs tables
    tables/*.csv                                                           the same numbers, machine-readable
    tables/task_scores.csv, tables/robustness_detail.csv                  per-task and per-language detail
    tables/significance.csv                                                paired bootstrap vs the baseline
    claims.{tex,csv,md}                                                    the 20 claims and their verdicts
    numbers.tex                                                            \\newcommand macros quoted in text
    figures/{dev_deltas,robustness_curves,language_gains}.{pdf,png}
"""
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
    from .tables import check_tidy
    return check_tidy(pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""]))


def make_all(tidy_df: pd.DataFrame, inventory: dict, outdir, significance: pd.DataFrame | None = None) -> list[Path]:
    """Write every generated table, the claims, numbers.tex and the figures; return the paths written.
    `significance`: the paired-bootstrap table (xstilts.report.significance), marks beside the deltas."""
    from .claims import evaluate_claims, write_claims
    from .figures import write_figures
    from .tables import check_tidy, provenance, robustness, write_numbers, write_tables

    validate_inventory(inventory)
    tidy = check_tidy(tidy_df)
    outdir = Path(outdir)
    claims = evaluate_claims(tidy, inventory, significance)
    rb = robustness(tidy)  # the robustness table, the numbers and the curves all need it: computed once
    paths = write_tables(tidy, outdir, inventory, significance, rb)
    paths += write_claims(claims, outdir, provenance(tidy, inventory))
    paths += write_numbers(tidy, outdir, inventory, claims, significance, rb)
    paths += write_figures(tidy, outdir, rb)
    return paths


__all__ = ["make_all", "load_tidy", "load_inventory", "validate_inventory", "inventory_schema", "SCHEMA_PATH"]
