"""Check a finished run of the workflow as a newcomer would see it: every output the README lists is there
and holds what it should, and a second `snakemake` has nothing to do.

    python tools/check_run.py            # in the workflow folder, after `snakemake --cores all`
    python tools/check_run.py --configfile config/e5.yaml

.ci/run calls it right after the README's command 1, in the fresh environment that command installed. It
exits non-zero with one line per problem (file and what is wrong), so CI fails on a run that "finished" but
wrote an empty table, a claims table with missing rows, or a figure that is not an image.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

# what the README's quick start promises after command 1 (paper/main.pdf only where latexmk exists)
TIDY = "results/tidy.tsv"
CLAIMS = ("paper/claims.csv", "paper/claims.tex", "paper/claims.md")
NUMBERS = "paper/numbers.tex"
ROBUSTNESS = ("paper/tables/robustness_bootstrap.tex", "paper/tables/robustness_flips.tex",
              "paper/tables/robustness_attack.tex", "paper/tables/robustness_examples.csv",
              "paper/tables/robustness_bootstrap.csv", "paper/figures/robustness_severity.png",
              "paper/figures/robustness_severity.pdf")
N_CLAIMS = 20
# tables that hold rows after every run (others, e.g. robustness_attack.csv, are legitimately empty when a
# config turns that part off)
NONEMPTY_CSV = ("dev_deltas.csv", "xtreme_test.csv", "task_scores.csv", "robustness_examples.csv",
                "robustness_bootstrap.csv")
PNG = b"\x89PNG\r\n\x1a\n"


def check(root: Path, configfiles: list[str]) -> list[str]:
    problems: list[str] = []

    def need(rel: str) -> Path | None:
        p = root / rel
        if not p.is_file() or p.stat().st_size == 0:
            problems.append(f"{rel}: missing or empty")
            return None
        return p

    # 1. the tidy results: every row valid against rules/schemas/results.schema.yaml, several targets measured
    if (p := need(TIDY)) is not None:
        from xstilts.report.frozen import validate_tidy_file
        try:
            tidy = validate_tidy_file(p)
        except ValueError as e:
            problems.append(str(e))
        else:
            if tidy["ttask"].nunique() < 2 or tidy["encoder"].nunique() < 1:
                problems.append(f"{TIDY}: only {sorted(tidy['ttask'].unique())} measured")
            if (tidy["family"] != "clean").sum() == 0:
                problems.append(f"{TIDY}: no perturbed measurement (the robustness study did not run)")
    # 2. the claims table: all 20 claims, each with a verdict and a basis
    for rel in CLAIMS:
        need(rel)
    if (p := root / CLAIMS[0]).is_file():
        rows = list(csv.DictReader(p.open(encoding="utf-8")))
        ids = [r.get("id") for r in rows]
        if ids != [f"C{i}" for i in range(1, N_CLAIMS + 1)]:
            problems.append(f"{CLAIMS[0]}: claim ids {ids}, expected C1..C{N_CLAIMS}")
        from xstilts.report.claims import DESCRIBED, DESCRIPTIVE, KINDS, VERDICTS
        for r in rows:
            if not (r.get("verdict") or "").strip() or not (r.get("basis") or "").strip():
                problems.append(f"{CLAIMS[0]}: claim {r.get('id')} has no verdict or no basis")
            elif r["verdict"] not in VERDICTS or r.get("kind") not in KINDS:
                problems.append(f"{CLAIMS[0]}: claim {r.get('id')} has verdict {r['verdict']!r} / kind "
                                f"{r.get('kind')!r}, not one of the rule set's")
            elif (r["kind"] == DESCRIBED) != (r["verdict"] == DESCRIPTIVE):
                problems.append(f"{CLAIMS[0]}: claim {r.get('id')} is {r['kind']} with verdict {r['verdict']!r}")
    need(NUMBERS)
    # 3. tables and figures: LaTeX tables hold a tabular, CSVs a header and rows, figures are images
    tables = sorted((root / "paper/tables").glob("*.tex"))
    if len(tables) < 5:
        problems.append(f"paper/tables: {len(tables)} .tex tables, expected the paper's and the robustness tables")
    for t in tables:
        if "\\begin{tabular" not in t.read_text(encoding="utf-8"):
            problems.append(f"{t.relative_to(root)}: no tabular")
    for rel in ROBUSTNESS:
        need(rel)
    for c in sorted((root / "paper/tables").glob("*.csv")):
        if c.name in NONEMPTY_CSV and len(c.read_text(encoding="utf-8").splitlines()) < 2:
            problems.append(f"{c.relative_to(root)}: header only")
    figures = sorted((root / "paper/figures").glob("*.png"))
    if not figures:
        problems.append("paper/figures: no PNG figure")
    for f in figures:
        if f.read_bytes()[:8] != PNG:
            problems.append(f"{f.relative_to(root)}: not a PNG image")
        if not f.with_suffix(".pdf").is_file():
            problems.append(f"{f.with_suffix('.pdf').relative_to(root)}: missing beside its PNG")
    # 4. nothing left to do: a second run of the same command would not run any job
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run"]
    if configfiles:
        cmd += ["--configfile", *configfiles]
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if r.returncode != 0 or "Nothing to be done" not in r.stdout + r.stderr:
        problems.append("a second `snakemake` would still run jobs:\n" + (r.stdout + r.stderr)[-2000:])
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".", help="the workflow folder (default: here)")
    ap.add_argument("--configfile", nargs="*", default=[], help="the config files the run was started with")
    args = ap.parse_args(argv)
    problems = check(Path(args.root).resolve(), args.configfile)
    for p in problems:
        print(f"check_run: {p}", file=sys.stderr)
    if not problems:
        print("check_run: every listed output is present and valid; nothing left to do")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
