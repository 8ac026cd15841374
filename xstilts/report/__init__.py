"""Report stage. Takes: the tidy results, the data inventory, per-example statistics (significance, robustness).
Gives: the paper's generated tables, claims, numbers and figures, every file written atomically.

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

from pathlib import Path

import pandas as pd

from xstilts.report.inputs import SCHEMA_PATH, inventory_schema, load_inventory, load_tidy, validate_inventory


def make_all(tidy_df: pd.DataFrame, inventory: dict, outdir, significance: pd.DataFrame | None = None) -> list[Path]:
    """Write every generated table, the claims, numbers.tex and the figures; return the paths written.
    `significance`: the paired-bootstrap table (xstilts.report.significance), marks beside the deltas."""
    from xstilts.report.claims import evaluate_claims, write_claims
    from xstilts.report.figures import write_figures
    from xstilts.report.numbers import write_numbers
    from xstilts.report.tables import check_tidy, robustness
    from xstilts.report.typeset import provenance, write_tables

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
