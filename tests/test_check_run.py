"""tools/check_run.py, which CI runs after the README's command 1: it must fail on a run that "finished" with
missing, empty or wrong outputs, and name each problem."""
from __future__ import annotations

import csv
import importlib.util
import shutil

from conftest import REPO

spec = importlib.util.spec_from_file_location("check_run", REPO / "tools" / "check_run.py")
check_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_run)


def _tree(tmp_path):
    d = tmp_path / "run"
    (d / "results").mkdir(parents=True)
    shutil.copy(REPO / "paper/frozen/tidy.tsv", d / "results/tidy.tsv")
    (d / "paper/tables").mkdir(parents=True)
    (d / "paper/figures").mkdir(parents=True)
    with (d / "paper/claims.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "claim", "kind", "paper", "value", "verdict", "scale", "basis"])
        for i in range(1, 21):
            w.writerow([f"C{i}", "c", "tested", "-", "v", "supported", "embedded", "b"])
    for name in ("claims.tex", "claims.md", "numbers.tex"):
        (d / "paper" / name).write_text("x\n")
    for stem in ("dev_deltas", "xtreme_test", "controls", "robustness_bootstrap", "robustness_flips",
                 "robustness_attack"):
        (d / f"paper/tables/{stem}.tex").write_text("\\begin{tabular}{l}\\end{tabular}\n")
    for stem in ("robustness_examples", "robustness_bootstrap"):
        (d / f"paper/tables/{stem}.csv").write_text("a,b\n1,2\n")
    for ext, data in (("png", check_run.PNG + b"rest"), ("pdf", b"%PDF-1.5")):
        (d / f"paper/figures/robustness_severity.{ext}").write_bytes(data)
    return d


def test_a_complete_tree_has_only_the_dry_run_problem(tmp_path):
    # no Snakefile here: the only complaint left is that snakemake cannot confirm "Nothing to be done"
    problems = check_run.check(_tree(tmp_path), [])
    assert len(problems) == 1 and problems[0].startswith("a second `snakemake` would still run jobs")


def test_missing_rows_bad_figures_and_empty_tables_are_named(tmp_path):
    d = _tree(tmp_path)
    rows = (d / "paper/claims.csv").read_text().splitlines()
    rows[1] = rows[1].replace("supported", "proven")  # C1: a verdict outside the rule set
    rows[2] = rows[2].replace("tested", "descriptive")  # C2: descriptive yet judged
    (d / "paper/claims.csv").write_text("\n".join(rows[:-1]) + "\n")  # C20 lost
    (d / "paper/figures/robustness_severity.png").write_bytes(b"not an image")
    (d / "paper/tables/robustness_examples.csv").write_text("a,b\n")
    (d / "paper/tables/controls.tex").write_text("no table here\n")
    (d / "paper/numbers.tex").unlink()
    text = "\n".join(check_run.check(d, []))
    assert "paper/claims.csv: claim ids" in text and "expected C1..C20" in text
    assert "claim C1 has verdict 'proven'" in text and "claim C2 is descriptive with verdict 'supported'" in text
    assert "robustness_severity.png: not a PNG image" in text
    assert "robustness_examples.csv: header only" in text
    assert "controls.tex: no tabular" in text
    assert "paper/numbers.tex: missing or empty" in text


def test_invalid_tidy_rows_are_refused(tmp_path):
    d = _tree(tmp_path)
    lines = (d / "results/tidy.tsv").read_text().splitlines()
    cols = lines[1].split("\t")
    cols[lines[0].split("\t").index("metric")] = "not-a-metric"
    (d / "results/tidy.tsv").write_text("\n".join([lines[0], "\t".join(cols)] + lines[2:]) + "\n")
    assert any("results/tidy.tsv" in p for p in check_run.check(d, []))
