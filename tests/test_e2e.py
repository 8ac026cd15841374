"""The whole DAG on a reduced embedded config, in a scratch copy of the workflow: every stage runs, the
tables parse, the claims table has all 20 rows, and a second run has nothing to do."""
import csv
import shutil

import pytest

from workflow import assert_image_drawn, snakemake


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
    # the LaTeX claims table says what the CSV says, row by row
    tex_rows = {line.split(" & ", 1)[0]: line for line in (run_dir / "paper/claims.tex").read_text().splitlines()
                if line.startswith("C") and " & " in line}
    for c in claims:
        assert c["verdict"] in tex_rows[c["id"]], (c["id"], c["verdict"], tex_rows[c["id"]])
    assert_image_drawn(run_dir / "paper/figures/dev_deltas.png")


def _tidy_dev_means(run_dir, ttask, metric):
    """{itask: mean over languages of this target's dev metric}, pretrained encoder, clean, seed 1."""
    import pandas as pd
    t = pd.read_csv(run_dir / "results/tidy.tsv", sep="\t")
    t = t[(t["ttask"] == ttask) & (t["split"] == "dev") & (t["family"] == "clean") & (t["metric"] == metric)
          & (t["encoder"] == "pretrained") & (t["seed"] == 1)]
    return t.groupby("itask")["value"].mean().to_dict()


@pytest.mark.slow
def test_dev_delta_table_and_significance_follow_the_tidy_results(run_dir):
    """The dev-delta table's numbers are the tidy results' language means minus the baseline's, and the
    paired bootstrap (from the per-example files, another path) finds the same pooled delta."""
    import pandas as pd
    table = pd.read_csv(run_dir / "paper/tables/dev_deltas.csv")
    sig = pd.read_csv(run_dir / "results/significance.tsv", sep="\t")
    nonzero = 0
    for ttask, metric in (("xnli", "accuracy"), ("pawsx", "accuracy"), ("udpos", "f1"), ("panx", "f1")):
        means = _tidy_dev_means(run_dir, ttask, metric)
        rows = table[(table["ttask"] == ttask) & (table["split"] == "dev")].set_index("itask")
        assert rows.loc["baseline", "kind"] == "absolute"
        assert rows.loc["baseline", "v_mean"] == pytest.approx(means["baseline"], abs=1e-3)
        for itask in ("mnli", "squad_v2", "hellaswag", "ccg", "multitask"):
            want = means[itask] - means["baseline"]
            assert rows.loc[itask, "kind"] == "delta"
            assert rows.loc[itask, "v_mean"] == pytest.approx(want, abs=1e-3), (ttask, itask)
            pooled = sig[(sig["itask"] == itask) & (sig["ttask"] == ttask) & (sig["split"] == "dev")
                         & (sig["lang"] == "all") & (sig["reference"] == "baseline") & (sig["encoder"] == "pretrained")]
            assert len(pooled) == 1 and pooled["delta"].iloc[0] == pytest.approx(want, abs=1e-3), (ttask, itask)
            assert bool(rows.loc[itask, "significant"]) == bool(pooled["significant"].iloc[0]), (ttask, itask)
            nonzero += abs(want) > 0.5
    assert nonzero >= 3  # the check compared real differences, not a column of zeros


@pytest.mark.slow
def test_second_run_does_nothing(run_dir):
    r = snakemake(run_dir, "-n", timeout=300)
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
    r = snakemake(run_dir, "--report", "report.html", timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    html = (run_dir / "report.html").read_text(errors="replace")
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html[:2000]
    for needle in ("dev_deltas.png", "language_gains.png", "claims.csv", "finetune_target", "make_tables"):
        assert needle in html, needle
