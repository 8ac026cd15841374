#!/usr/bin/env python3
"""Are two runs' outputs the same? For a change that must not change a result (a refactoring, issue 20):
run the embedded default before and after, then

    python tools/diff_runs.py RUN_A RUN_B     (each a workflow folder holding results/ and paper/)

compares results/tidy.tsv, results/significance.tsv, results/inventory.json, the claims, numbers.tex and every
paper/tables/*.{tex,csv} byte for byte, after one normalisation: the code revision each run records (tidy.tsv's
git_rev column, which also stands in the tables' provenance lines) is masked, since it differs by design.
Prints each differing file with its first differing line; exits 1 when anything differs or is missing.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

FILES = ("results/tidy.tsv", "results/significance.tsv", "results/inventory.json", "paper/claims.csv",
         "paper/claims.tex", "paper/claims.md", "paper/numbers.tex")
GLOBS = ("paper/tables/*.tex", "paper/tables/*.csv")
MASK = "<git_rev>"


def recorded_revs(run: Path) -> set[str]:
    with (run / "results/tidy.tsv").open(encoding="utf-8") as f:
        return {row["git_rev"] for row in csv.DictReader(f, delimiter="\t") if row.get("git_rev")}


def compared_files(a: Path, b: Path) -> list[str]:
    rels = set(FILES)
    for run in (a, b):
        for pattern in GLOBS:
            rels |= {p.relative_to(run).as_posix() for p in run.glob(pattern)}
    return sorted(rels)


def normalised(path: Path, revs: set[str]) -> str:
    text = path.read_text(encoding="utf-8")
    for rev in sorted(revs, key=len, reverse=True):  # "abc-dirty" before "abc"
        text = text.replace(rev, MASK)
    return text


def differences(a: Path, b: Path) -> list[str]:
    """One line per file that is missing on a side or differs, naming the first differing line."""
    out = []
    for run in (a, b):
        if not (run / "results/tidy.tsv").is_file():
            return [f"{run}: no results/tidy.tsv (not a finished run folder)"]
    revs_a, revs_b = recorded_revs(a), recorded_revs(b)
    for rel in compared_files(a, b):
        pa, pb = a / rel, b / rel
        if not pa.is_file() or not pb.is_file():
            out.append(f"{rel}: only in {b if not pa.is_file() else a}")
            continue
        ta, tb = normalised(pa, revs_a).splitlines(), normalised(pb, revs_b).splitlines()
        if ta == tb:
            continue
        i = next((k for k, (x, y) in enumerate(zip(ta, tb)) if x != y), min(len(ta), len(tb)))
        la = ta[i] if i < len(ta) else "<end of file>"
        lb = tb[i] if i < len(tb) else "<end of file>"
        out.append(f"{rel}:{i + 1}: {la[:150]!r} != {lb[:150]!r}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    a = ap.parse_args(argv)
    diff = differences(a.run_a, a.run_b)
    for line in diff:
        print(line)
    n = len(compared_files(a.run_a, a.run_b))
    if diff:
        print(f"diff_runs: {len(diff)} of {n} files differ", file=sys.stderr)
        return 1
    print(f"diff_runs: {n} files identical (git_rev masked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
