"""The whole DAG on a reduced embedded config, in a scratch copy of the workflow: every stage runs, the
tables parse, the claims table has all 20 rows, and a second run has nothing to do."""
import csv
import subprocess

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
    assert all(c["verdict"] in {"supported", "not supported", "not testable at this scale",
                                "needs data the user must supply"} for c in claims)
    assert (run_dir / "paper/claims.tex").stat().st_size > 500
    assert (run_dir / "paper/figures/dev_deltas.png").stat().st_size > 1000


@pytest.mark.slow
def test_second_run_does_nothing(run_dir):
    r = subprocess.run(snakemake_cmd("-n"), cwd=run_dir, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    assert "Nothing to be done" in r.stdout + r.stderr
