"""Paper outputs: paired bootstrap (significance), the frozen results copy and the choice of source, tables
that follow the results, and the workflow's tables-only build from paper/frozen/ (with the PDF when a TeX
toolchain is present or can be installed)."""
from __future__ import annotations

import os
import shutil
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from workflow import assert_image_drawn, copy_workflow, snakemake, snakemake_ok
from test_report import EFFECT, make_inventory, make_sig, make_tidy
from xstilts import records as R
from xstilts.report import claims as C
from xstilts.report import frozen as F
from xstilts.report import latex
from xstilts.report import make_all
from xstilts.report import significance as S
from xstilts.train import metrics as M

# --------------------------------------------------------------------------------------------------------------
# significance
# --------------------------------------------------------------------------------------------------------------


def test_stats_scores_on_resample_rows_equal_row_by_row_scores():
    """`stats.metric_from_stats` on arrays (one value per resample, as the bootstraps call it) gives, row by
    row, what it gives on one row of plain numbers; zero denominators give 0; QA scores are (F1 + EM) / 2."""
    from xstilts import stats
    rng = np.random.default_rng(0)
    for metric, keys in [("accuracy", ["correct", "n_units"]), ("f1", ["tp", "n_pred", "n_gold"]),
                         ("precision", ["tp", "n_pred", "n_gold"]), ("recall", ["tp", "n_pred", "n_gold"]),
                         ("em", ["em", "n_units"])]:
        sums = rng.integers(0, 20, size=(50, len(keys))).astype(float)
        sums[0] = 0  # zero denominators give 0
        got = stats.metric_from_stats(metric, {k: sums[:, i] for i, k in enumerate(keys)})
        want = [float(stats.metric_from_stats(metric, dict(zip(keys, map(float, row))))) for row in sums]
        np.testing.assert_allclose(got, want, atol=1e-9)
        assert got[0] == 0.0
    assert float(stats.task_score("xquad", {"f1": 3.0, "em": 1.0, "n_units": 4})) == pytest.approx(50.0)
    assert float(stats.task_score("panx", {"tp": 2, "n_pred": 4, "n_gold": 2})) == pytest.approx(200 / 3)
    counts = stats.resample_counts(np.random.default_rng(1), 7, 5)
    assert counts.shape == (5, 7) and (counts.sum(1) == 7).all()


def _cls(correct):
    return [{"correct": int(c), "n_units": 1} for c in correct]


def test_bootstrap_matches_paired_bootstrap_stats_for_one_language():
    rng = np.random.default_rng(1)
    base, other = _cls(rng.random(100) < 0.5), _cls(rng.random(100) < 0.7)
    mine = S.paired_bootstrap("xnli", {"en": base}, {"en": other}, n=500, seed=3)
    ref = M.paired_bootstrap_stats("accuracy", base, other, n=500, seed=3)
    for k in ("delta", "low", "high", "p"):
        assert mine[k] == pytest.approx(ref[k], abs=1e-9), k


def test_bootstrap_identical_systems_and_clear_gain():
    rng = np.random.default_rng(2)
    base = {lang: _cls(rng.random(100) < 0.5) for lang in ("en", "de")}
    same = S.paired_bootstrap("xnli", base, base, n=300)
    assert same["delta"] == same["low"] == same["high"] == 0.0 and same["p"] == 1.0
    better = {lang: [{"correct": 1, "n_units": 1} for _ in rows] for lang, rows in base.items()}
    res = S.paired_bootstrap("xnli", base, better, n=300)
    # pooled delta = mean over languages of the per-language accuracy difference
    want = np.mean([100 - 100 * np.mean([r["correct"] for r in base[g]]) for g in base])
    assert res["delta"] == pytest.approx(want)
    assert 0 < res["low"] <= res["delta"] <= res["high"] and res["p"] == 0.0
    assert res["n_langs"] == 2 and res["n_examples"] == 200


def test_bootstrap_qa_score_is_mean_of_f1_and_em():
    base = {"en": [{"f1": 0.5, "em": 0.0, "n_units": 1}] * 10}
    other = {"en": [{"f1": 1.0, "em": 1.0, "n_units": 1}] * 10}
    assert S.paired_bootstrap("xquad", base, other, n=50)["delta"] == pytest.approx((50 + 100) / 2)


def _write_run(root, itask, rows, seed=1, encoder="pretrained"):
    p = root / f"results/finetune/encoder~{encoder}/itask~{itask}/ttask~all/seed~{seed}/examples.jsonl.gz"
    R.write_examples(p, rows)
    return p


def _ex(ttask, lang, split, i, correct, family="clean", severity=0.0):
    return dict(ttask=ttask, lang=lang, split=split, family=family, severity=severity, id=f"{lang}-{i}",
                pred="x", correct=int(correct), n_units=1)


def test_compare_runs_pairs_by_encoder_seed_and_id(tmp_path):
    rng = np.random.default_rng(4)
    b_rows, m_rows = [], []
    for lang in ("en", "xl"):
        for i in range(60):
            b_rows.append(_ex("xnli", lang, "dev", i, rng.random() < 0.4))
            m_rows.append(_ex("xnli", lang, "dev", i, rng.random() < 0.9))
            # perturbed copies are left to the robustness analysis
            m_rows.append(_ex("xnli", lang, "dev", i, 0, family="char_typo", severity=0.1))
    paths = [_write_run(tmp_path, "baseline", b_rows), _write_run(tmp_path, "mnli", list(reversed(m_rows))),
             _write_run(tmp_path, "mnli", m_rows, seed=2)]  # no seed-2 baseline: not compared
    df = S.compare_runs(paths, n=200)
    assert list(df.columns) == S.COLUMNS
    assert sorted(df["lang"]) == ["all", "en", "xl"] and set(df["seed"]) == {1}
    pooled = df[df["lang"] == "all"].iloc[0]
    per = df[df["lang"] != "all"]["delta"].mean()
    assert pooled["delta"] == pytest.approx(per) and pooled["significant"]
    # written and read back
    S.write_significance(df, tmp_path / "sig.tsv")
    back = S.read_significance(tmp_path / "sig.tsv")
    assert back["significant"].dtype == bool and len(back) == 3


def test_compare_all_adds_the_controls_against_the_multitask_model(tmp_path):
    rng = np.random.default_rng(5)
    runs = {}
    for itask, p in (("baseline", 0.4), ("multitask", 0.8), ("mlm_control", 0.5), ("mnli", 0.6)):
        runs[itask] = [_ex("xnli", lang, "dev", i, rng.random() < p) for lang in ("en", "xl") for i in range(80)]
    paths = [_write_run(tmp_path, it, rows) for it, rows in runs.items()]
    df = S.compare_all(paths, n=200)
    pooled = df[df["lang"] == "all"]
    by_ref = {r: sorted(g["itask"]) for r, g in pooled.groupby("reference")}
    assert by_ref == {"baseline": ["mlm_control", "mnli", "multitask"], "multitask": ["mlm_control"]}
    ctl = pooled[(pooled["reference"] == "multitask")].iloc[0]
    assert ctl["delta"] < 0 and ctl["high"] < 0  # the control is clearly below the multi-task model
    # the tables' significance marks are the comparisons with the baseline only
    marks = S.pooled_marks(df, {"xnli": "dev"})
    assert set(marks) == {("mlm_control", "xnli"), ("mnli", "xnli"), ("multitask", "xnli")}
    assert marks[("mlm_control", "xnli")] == bool(
        pooled[(pooled["reference"] == "baseline") & (pooled["itask"] == "mlm_control")]["significant"].iloc[0])


def test_bucc_is_paired_on_the_union_of_its_sparse_units(tmp_path):
    """BUCC's per-example files list only sources with a gold or an extracted pair; two models are paired on
    the union, a source one model lacks counting zero there, and the pooled delta is the F1 difference."""
    from xstilts.train import metrics as M

    def row(i, tp, n_pred, n_gold):
        return dict(ttask="bucc", lang="de", split="test", family="clean", severity=0.0, id=f"de-{i}", pred="",
                    tp=tp, n_pred=n_pred, n_gold=n_gold)
    base = [row(i, int(i % 3 == 0), 1, 1) for i in range(60)] + [row(100 + i, 0, 1, 0) for i in range(20)]
    other = [row(i, int(i % 3 != 2), 1, 1) for i in range(60)] + [row(200 + i, 0, 1, 0) for i in range(5)]
    paths = [_write_run(tmp_path, "baseline", base), _write_run(tmp_path, "mnli", other)]
    df = S.compare_runs(paths, n=300)
    pooled = df[df["lang"] == "all"].iloc[0]
    f1 = lambda rows: M.metric_from_stats("f1", {k: sum(r[k] for r in rows) for k in ("tp", "n_pred", "n_gold")})  # noqa: E731
    assert pooled["delta"] == pytest.approx(f1(other) - f1(base))
    assert pooled["n_examples"] == 60 + 20 + 5 and pooled["significant"]


def test_compare_runs_refuses_unpaired_examples(tmp_path):
    b = [_ex("xnli", "en", "dev", i, 1) for i in range(5)]
    o = [_ex("xnli", "en", "dev", i + 1, 1) for i in range(5)]
    paths = [_write_run(tmp_path, "baseline", b), _write_run(tmp_path, "mnli", o)]
    with pytest.raises(ValueError, match="example ids differ"):
        S.compare_runs(paths, n=10)
    dup = [_ex("xnli", "en", "dev", 0, 1)] * 2
    with pytest.raises(ValueError, match="duplicate id"):
        S.compare_runs([_write_run(tmp_path, "baseline", dup)], n=10)


# --------------------------------------------------------------------------------------------------------------
# a changed result changes the table and the verdict it feeds
# --------------------------------------------------------------------------------------------------------------

def _sig_for(tidy) -> pd.DataFrame:
    """A significance table marking squad_v2 on xquad (dev) significant, everything else not."""
    rows = []
    for it in ("mnli", "squad_v2", "hellaswag", "multitask"):
        for t in ("xnli", "xquad", "tydiqa"):
            for s in (1, 2):
                sig = it == "squad_v2" and t == "xquad"
                rows.append(dict(encoder="pretrained", itask=it, reference="baseline", ttask=t, split="dev", seed=s,
                                 lang="all", delta=1.0, low=0.5 if sig else -1.0, high=2.0, p=0.01, significant=sig,
                                 n_examples=200, n_langs=2, n_resamples=1000))
    return pd.DataFrame(rows, columns=S.COLUMNS)


def test_changed_result_changes_table_and_verdict(tmp_path):
    tidy = make_tidy()
    inv = make_inventory()
    make_all(tidy, inv, tmp_path / "a", _sig_for(tidy))
    before = (tmp_path / "a/tables/dev_deltas.tex").read_text()
    verdict = {c.id: c.verdict for c in C.evaluate_claims(tidy, inv, make_sig())}
    assert verdict["C4"] == C.SUPPORTED
    assert r"^{\dagger}" in before and "SQuAD" in before
    numbers = (tmp_path / "a/numbers.tex").read_text()
    assert r"\newcommand{\DevDeltasSignificant}{1}" in numbers and r"\ClaimFourVerdict" in numbers

    changed = tidy.copy()
    m = (changed["itask"] == "squad_v2") & (changed["split"] == "dev")
    changed.loc[m, "value"] -= 20.0  # squad_v2 now far below the baseline on dev
    changed_sig = make_sig(effect={**EFFECT, "squad_v2": {k: v - 20 for k, v in EFFECT["squad_v2"].items()}})
    make_all(changed, inv, tmp_path / "b", changed_sig)
    after = (tmp_path / "b/tables/dev_deltas.tex").read_text()
    assert after != before
    row = next(line for line in after.splitlines() if line.startswith("SQuAD"))
    assert row.count("$-") >= 3  # every SQuAD cell negative now
    assert {c.id: c.verdict for c in C.evaluate_claims(changed, inv, changed_sig)}["C4"] == C.NOT_SUPPORTED
    assert "not supported" in (tmp_path / "b/claims.csv").read_text().split("C4,", 1)[1].split("\n", 1)[0]


# --------------------------------------------------------------------------------------------------------------
# frozen copy
# --------------------------------------------------------------------------------------------------------------

def _write_results(folder, tidy=None):
    folder.mkdir(parents=True, exist_ok=True)
    (tidy if tidy is not None else make_tidy()).to_csv(folder / "tidy.tsv", sep="\t", index=False)
    import json
    (folder / "inventory.json").write_text(json.dumps(make_inventory()))
    S.write_significance(_sig_for(None), folder / "significance.tsv")


def test_choose_source(tmp_path):
    res, frz = tmp_path / "results", tmp_path / "frozen"
    assert F.choose_source("auto", res, frz, False)[0] == "results"  # no frozen copy
    _write_results(frz)
    assert F.choose_source("auto", res, frz, False)[0] == "frozen"  # no results
    assert F.choose_source("auto", res, frz, True)[0] == "results"  # a full run shows its own results
    _write_results(res)
    now = time.time()
    os.utime(res / "tidy.tsv", (now - 100, now - 100))
    assert F.choose_source("auto", res, frz, False) == ("frozen", f"{frz / 'tidy.tsv'} is newer than "
                                                                  f"{res / 'tidy.tsv'}")
    os.utime(res / "tidy.tsv", (now + 100, now + 100))
    assert F.choose_source("auto", res, frz, False)[0] == "results"
    assert F.choose_source("frozen", res, frz, True)[0] == "frozen"
    with pytest.raises(ValueError, match="tables_from"):
        F.choose_source("newest", res, frz, False)


def test_freeze_checks_and_copies(tmp_path):
    res, frz = tmp_path / "results", tmp_path / "frozen"
    with pytest.raises(FileNotFoundError, match="finish a run first"):
        F.freeze(res, frz)
    _write_results(res)
    written = F.freeze(res, frz)
    assert sorted(p.name for p in written) == ["inventory.json", "manifest.json", "significance.tsv", "tidy.tsv"]
    assert (frz / "tidy.tsv").read_bytes() == (res / "tidy.tsv").read_bytes()
    # a fresh copy is not newer than its source, so tables-only builds keep reading the results
    assert F.choose_source("auto", res, frz, False)[0] == "results"
    F.check_manifest(frz)
    text = (frz / "tidy.tsv").read_text().replace("\t80.0\t", "\t81.0\t", 1)
    (frz / "tidy.tsv").write_text(text)
    with pytest.raises(ValueError, match="differs from"):
        F.check_manifest(frz)
    bad = make_tidy()
    bad.loc[5, "split"] = "train"
    _write_results(res, bad)
    with pytest.raises(ValueError, match=r"tidy\.tsv: tidy row 6 .*split"):
        F.freeze(res, frz)


# --------------------------------------------------------------------------------------------------------------
# the workflow: `snakemake tables` from the committed frozen copy alone
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def latex_toolchain():
    """(latexmk, "") when latexmk is on PATH, else (None, the reason). Tests never install it: tools/system_deps.sh
    does, once (CI). The tables-only build runs either way; only the PDF check (marked tex) skips."""
    if latex.latexmk():
        return latex.latexmk(), ""
    return None, "latexmk is not installed (tools/system_deps.sh installs TeX Live with apt, as root)"


@pytest.fixture(scope="module")
def tables_only(tmp_path_factory, latex_toolchain):
    # a clone's workflow files and the committed frozen copy, no run: `snakemake tables` with the default config
    d = copy_workflow(tmp_path_factory.mktemp("frozen_wf"), overlay=None, extra=("paper/frozen",))
    plan = snakemake_ok(d, "-n", "tables", configfiles=None, timeout=900)
    snakemake_ok(d, "--cores", "1", "tables", configfiles=None, timeout=900)
    return d, plan.stdout + plan.stderr, latex_toolchain


def test_tables_rebuild_from_frozen_copy_alone(tables_only, tmp_path):
    d, plan, (tex, _) = tables_only
    block = plan.split("Job stats:", 1)[1].split("\n\n", 1)[0]  # "job count" table of the dry run
    jobs = {line.split()[0] for line in block.splitlines()[3:] if line.strip()}
    assert jobs == {"make_tables", "tables", "total"} | ({"compile_paper"} if tex else set()), plan[-2000:]
    assert not (d / "results").exists()
    assert "frozen is newer" in (d / "logs/make_tables.log").read_text() or \
        "no results/tidy.tsv" in (d / "logs/make_tables.log").read_text()
    claims = pd.read_csv(d / "paper/claims.csv")
    assert list(claims["id"]) == [f"C{i}" for i in range(1, 21)]
    # the rule read the committed copy, all three files of it: the same function on the same files, run here,
    # writes the same tables, claims and numbers byte for byte
    from xstilts.report import load_inventory
    frz = REPO / "paper/frozen"
    here = tmp_path / "inprocess"
    make_all(F.validate_tidy_file(frz / "tidy.tsv"), load_inventory(frz / "inventory.json"), here,
             S.read_significance(frz / "significance.tsv"))
    for rel in ("claims.csv", "numbers.tex", *(f"tables/{s}.tex" for s in
                                               ("dev_deltas", "xtreme_test", "controls", "robustness",
                                                "control_encoder"))):
        assert (d / "paper" / rel).read_bytes() == (here / rel).read_bytes(), rel
    for stem in ("dev_deltas", "robustness_curves", "language_gains"):
        assert (d / f"paper/figures/{stem}.pdf").read_bytes()[:5] == b"%PDF-"
        assert_image_drawn(d / f"paper/figures/{stem}.png")




@pytest.mark.tex
def test_paper_compiles(tables_only):
    """The PDF is built and says what numbers.tex says: its text (pdftotext) holds the claim counts."""
    import re
    import subprocess
    d, _, (tex, why) = tables_only
    if not tex:
        pytest.skip(f"no TeX toolchain: {why}")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed (poppler-utils: tools/system_deps.sh installs it)")
    pdf = d / "paper/main.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list((d / "paper").glob("*.aux"))  # aux files stay in latexmk's temporary folder
    nums = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{([^}]*)\}", (d / "paper/numbers.tex").read_text()))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert f"Of the {nums['NumClaims']} claims of the paper" in text, text[:2000]
    assert (f"of the others, {nums['NumClaimsSupported']} are supported by this run, "
            f"{nums['NumClaimsNotSupported']} are not, {nums['NumClaimsInconclusive']} are inconclusive") in text


def test_default_target_builds_the_run_not_the_frozen_copy(tables_only):
    d, _, _ = tables_only
    plan = snakemake_ok(d, "-n", configfiles=None, timeout=900)
    assert "finetune_target" in plan.stdout and "significance" in plan.stdout


def test_committed_frozen_copy_is_valid():
    """The committed paper/frozen/ copy: files match their manifest, the tidy rows pass the schema, the
    significance table reads, the inventory passes its schema, and all come from one run."""
    from xstilts.report import load_inventory
    frz = REPO / "paper/frozen"
    F.check_manifest(frz)
    tidy = F.validate_tidy_file(frz / "tidy.tsv")
    inv = load_inventory(frz / "inventory.json")
    sig = S.read_significance(frz / "significance.tsv")
    assert set(tidy["config_hash"]) == {inv["config_hash"]} and set(tidy["scale"]) == {inv["scale"]}
    # (empty when the frozen run predates per-example outputs; then the tables carry no significance marks)
    assert set(sig["itask"]) <= set(tidy["itask"]) and set(sig["ttask"]) <= set(tidy["ttask"])


def test_without_latexmk_the_pdf_is_left_out(tables_only, tmp_path):
    """No TeX toolchain: the DAG plans no compile_paper job and says so once, instead of failing."""
    d, _, _ = tables_only
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("which", "git", "sh", "bash", "env", "uname"):
        if shutil.which(name):
            (tools / name).symlink_to(shutil.which(name))
    (d / "paper/main.pdf").unlink(missing_ok=True)
    r = snakemake(d, "-n", "tables", configfiles=None, timeout=600,
                  env={"PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{tools}"})
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "latexmk not found" in out and "compile_paper" not in out
