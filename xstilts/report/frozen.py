"""The frozen copy of a run's results under paper/frozen/, and which copy the paper's outputs are built from.

A finished run's `results/{tidy.tsv,inventory.json,significance.tsv}` are everything the tables, claims,
figures and the paper need. `snakemake freeze` copies them (checked) to `paper/frozen/`, which is committed,
so anyone can rebuild every table and figure with `snakemake tables`: no GPU, no training.

Which copy rule make_tables reads (`source`; config key `outputs.tables_from`):
* "results" / "frozen": always that one.
* "auto" (default): the run's results when this invocation builds the run (the default target `all`, or any
  target beyond the paper's outputs), so a run's tables always show that run; for a tables-only invocation
  (`snakemake tables`) the newer of the two: the frozen copy when `paper/frozen/tidy.tsv` is newer than
  `results/tidy.tsv` or there are no results.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import yaml

from xstilts.records import atomic_write_bytes, atomic_write_text

FILES = {"tidy": "tidy.tsv", "inventory": "inventory.json", "significance": "significance.tsv"}
MODES = ("auto", "results", "frozen")
SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "schemas" / "results.schema.yaml"


def choose_source(mode: str, results_dir, frozen_dir, builds_run: bool) -> tuple[str, str]:
    """("results" | "frozen", why). `builds_run`: the invocation asks for more than the paper's outputs."""
    if mode not in MODES:
        raise ValueError(f"config outputs.tables_from: {mode!r} is not one of {MODES}")
    res, frz = Path(results_dir) / FILES["tidy"], Path(frozen_dir) / FILES["tidy"]
    if mode != "auto":
        return mode, f"outputs.tables_from: {mode}"
    if not frz.exists():
        return "results", f"no frozen copy ({frz})"
    if builds_run:
        return "results", "this invocation builds the run, so its tables show its results"
    if not res.exists():
        return "frozen", f"no {res}"
    if frz.stat().st_mtime > res.stat().st_mtime:
        return "frozen", f"{frz} is newer than {res}"
    return "results", f"{res} is not older than {frz}"


def paths(folder) -> dict[str, str]:
    return {k: str(Path(folder) / v) for k, v in FILES.items()}


def tidy_records(df: pd.DataFrame) -> list[dict]:
    """Rows of a tidy table read from TSV, typed as the aggregate rule wrote them (for schema validation)."""
    out = []
    for r in df.to_dict("records"):
        r = {k: v for k, v in r.items() if not (k == "n" and pd.isna(v))}
        r["seed"] = int(r["seed"])
        r["severity"] = float(r["severity"])
        r["value"] = float(r["value"])
        if "n" in r:
            r["n"] = int(r["n"])
        for k in ("config_hash", "git_rev"):
            r[k] = "" if pd.isna(r.get(k)) else str(r[k])
        out.append(r)
    return out


def validate_tidy_file(path) -> pd.DataFrame:
    """Read a tidy TSV and validate every row against rules/schemas/results.schema.yaml; errors name the file
    and the row."""
    from xstilts.report.aggregate import validate_rows
    df = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""],
                     dtype={"config_hash": str, "git_rev": str})
    try:
        validate_rows(tidy_records(df), yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    except (ValueError, KeyError) as e:
        raise ValueError(f"{path}: {e}") from None
    return df


def freeze(results_dir, frozen_dir) -> list[Path]:
    """Copy the run's results into the frozen folder after checking them; every file atomically, plus a
    manifest.json (sha256 and size of each file, the run's provenance)."""
    from xstilts.report.inputs import load_inventory
    from xstilts.report.significance import read_significance
    src = paths(results_dir)
    missing = [p for p in src.values() if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"cannot freeze: missing {missing} (finish a run first)")
    tidy = validate_tidy_file(src["tidy"])
    inv = load_inventory(src["inventory"])
    read_significance(src["significance"])
    written, manifest = [], {"files": {}, "provenance": {k: inv.get(k) for k in
                                                         ("scale", "model_id", "config_hash", "git_rev")},
                             "tidy_rows": int(len(tidy))}
    for key, name in FILES.items():
        data = Path(src[key]).read_bytes()
        written.append(atomic_write_bytes(Path(frozen_dir) / name, data))
        # keep the run's mtime (as cp -p): a fresh copy is then not "newer" than the results it came from, so
        # `snakemake tables` does not switch to it and back (a git checkout gives it the checkout time)
        st = Path(src[key]).stat()
        os.utime(written[-1], ns=(st.st_atime_ns, st.st_mtime_ns))
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    written.append(atomic_write_text(Path(frozen_dir) / "manifest.json",
                                     json.dumps(manifest, indent=1, sort_keys=True) + "\n"))
    return written


def check_manifest(frozen_dir) -> None:
    """Raise ValueError when a frozen file differs from its manifest entry (edited by hand or half-copied)."""
    mpath = Path(frozen_dir) / "manifest.json"
    if not mpath.exists():
        return
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        got = hashlib.sha256((Path(frozen_dir) / name).read_bytes()).hexdigest()
        if got != entry["sha256"]:
            raise ValueError(f"{Path(frozen_dir) / name}: sha256 {got[:12]} differs from {mpath} "
                             f"({entry['sha256'][:12]}); refresh the copy with `snakemake freeze`")


__all__ = ["choose_source", "freeze", "paths", "validate_tidy_file", "check_manifest", "FILES", "MODES"]
