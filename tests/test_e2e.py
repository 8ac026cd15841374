"""The whole DAG on a reduced embedded config, in a scratch copy of the workflow: every stage runs, the
tables parse, the claims table has all 20 rows, and a second run has nothing to do."""
import csv
import shutil
import subprocess
import sys

import pytest

from workflow import snakemake_cmd


@pytest.fixture(scope="module")
def run_dir(reduced_run):
    return reduced_run


@pytest.mark.slow
def test_every_stage_ran_and_tidy_table_is_complete(run_dir):
    rows = list(csv.DictReader((run_dir / "results/tidy.tsv").open(), delimiter="\t"))
    got = {(r["encoder"], r["itask"], r["ttask"]) for r in rows}
    for itask in ("baseline", "mnli", "squad_v2", "hellaswag", "ccg", "multitask", "mlm_control", "mt_control"):
        for ttask in ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc", "tatoeba"):
            assert ("pretrained", itask, ttask) in got, (itask, ttask)
    assert ("random", "baseline", "xnli") in got
    fams = {r["family"] for r in rows}
    assert {"clean", "char_typo", "keyboard_typo", "diacritic_drop", "homoglyph", "code_switch", "word_drop",
            "word_shuffle", "attack", "attack_transfer"} <= fams
    assert all(r["git_rev"] and r["config_hash"] for r in rows)


@pytest.mark.slow
def test_tables_parse_and_claims_have_20_rows(run_dir):
    for name in ("dev_deltas", "xtreme_test", "controls", "robustness", "control_encoder", "robustness_bootstrap",
                 "robustness_flips", "robustness_attack"):
        tex = (run_dir / "paper/tables" / f"{name}.tex").read_text()
        assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 1
        assert "\\toprule" in tex and "\\bottomrule" in tex
    claims = list(csv.DictReader((run_dir / "paper/claims.csv").open()))
    assert [c["id"] for c in claims] == [f"C{i}" for i in range(1, 21)]
    from xstilts.report import claims as C
    described = {c["id"] for c in claims if c["kind"] == "descriptive"}
    assert described == {"C1", "C9", "C15", "C18", "C19", "C20"}
    assert all((c["verdict"] == C.DESCRIPTIVE) == (c["id"] in described) for c in claims)
    assert all(c["verdict"] in C.VERDICTS for c in claims)
    # every judged comparison carries its paired-bootstrap interval in the table
    judged = [c for c in claims if c["id"] in ("C4", "C5", "C6", "C7", "C12", "C13", "C14")
              and c["verdict"] in (C.SUPPORTED, C.NOT_SUPPORTED, C.INCONCLUSIVE)]
    assert judged and all("95% interval" in c["basis"] for c in judged), [(c["id"], c["basis"]) for c in judged]
    assert (run_dir / "paper/claims.tex").stat().st_size > 500
    assert (run_dir / "paper/figures/dev_deltas.png").stat().st_size > 1000


@pytest.mark.slow
def test_second_run_does_nothing(run_dir):
    r = subprocess.run(snakemake_cmd("-n"), cwd=run_dir, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    assert "Nothing to be done" in r.stdout + r.stderr


@pytest.mark.slow
def test_significance_and_paper(run_dir):
    sig = list(csv.DictReader((run_dir / "results/significance.tsv").open(), delimiter="\t"))
    pooled = [r for r in sig if r["lang"] == "all" and r["encoder"] == "pretrained"]
    assert {r["itask"] for r in pooled} >= {"mnli", "squad_v2", "hellaswag", "multitask"}
    # retrieval is bootstrapped too (per-query Tatoeba, per-source BUCC statistics)
    assert {"tatoeba", "bucc"} <= {r["ttask"] for r in pooled}
    assert all(float(r["low"]) <= float(r["delta"]) <= float(r["high"]) for r in sig)
    assert "source: results" in (run_dir / "logs/make_tables.log").read_text()
    if shutil.which("latexmk"):
        assert (run_dir / "paper/main.pdf").read_bytes()[:5] == b"%PDF-"
    else:
        assert not (run_dir / "paper/main.pdf").exists()


@pytest.mark.slow
def test_html_report(run_dir):
    r = subprocess.run([sys.executable, "-m", "snakemake", "--report", "report.html", "--configfile", "config.yaml",
                        "reduced.yaml"], cwd=run_dir, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    html = (run_dir / "report.html").read_text(errors="replace")
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html[:2000]
    for needle in ("dev_deltas.png", "language_gains.png", "claims.csv", "finetune_target", "make_tables"):
        assert needle in html, needle
