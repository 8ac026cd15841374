"""xstilts.report.robustness on small synthetic per-example files: scores from statistics, flip rates,
AUC, the paired bootstrap of relative-drop differences, tables and the figure."""
from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from xstilts.records import write_examples
from xstilts.report import robustness as RB


def _rows(ttask, lang, family, severity, correct, preds):
    return [{"ttask": ttask, "lang": lang, "split": "test", "family": family, "severity": severity,
             "id": f"{lang}-{i}", "pred": p, "correct": int(c), "n_units": 1}
            for i, (c, p) in enumerate(zip(correct, preds))]


def _job(tmp_path, itask, clean, pert, seed=1):
    """One fine-tune job's examples file: xnli in xl, clean and char_typo at 0.1 / 0.3 (`pert`: {s: correct})."""
    rows = _rows("xnli", "xl", "clean", 0.0, clean, [str(c) for c in clean])
    for s, corr in pert.items():
        rows += _rows("xnli", "xl", "char_typo", s, corr, [str(c) for c in corr])
    path = tmp_path / f"results/finetune/encoder~pretrained/itask~{itask}/ttask~all/seed~{seed}/examples.jsonl.gz"
    write_examples(path, rows)
    return path


@pytest.fixture
def ex(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    clean = (rng.random(n) < 0.8).astype(int)
    base = {0.1: clean * (rng.random(n) < 0.9), 0.3: clean * (rng.random(n) < 0.6)}
    # the intermediate model: same clean accuracy, loses much less under perturbation
    good = {0.1: clean * (rng.random(n) < 0.99), 0.3: clean * (rng.random(n) < 0.95)}
    paths = [_job(tmp_path, "baseline", clean, base), _job(tmp_path, "mnli", clean, good),
             _job(tmp_path, "qqp", clean, base)]
    return RB.load_examples(paths)


def test_task_scores_from_summed_statistics_by_hand():
    """The scores the robustness analysis computes (`xstilts.stats.task_score`), worked out by hand."""
    from xstilts import stats as ST
    rows = [{"tp": 2, "n_pred": 3, "n_gold": 4}, {"tp": 0, "n_pred": 1, "n_gold": 0}]
    sums = {k: sum(r[k] for r in rows) for k in rows[0]}  # tp 2, pred 4, gold 4: P = R = 50
    assert float(ST.task_score("udpos", sums)) == pytest.approx(50.0)
    assert float(ST.task_score("xnli", {"correct": 7, "n_units": 9})) == pytest.approx(700 / 9)
    assert float(ST.task_score("xquad", {"f1": 1.5, "em": 1.0, "n_units": 2})) == pytest.approx(62.5)
    # the analysis zero-fills every statistic: QA's f1 must stay the token F1, not become a span F1 of 0
    zero = {"correct": 0, "tp": 0, "n_pred": 0, "n_gold": 0}
    assert float(ST.task_score("xquad", {**zero, "f1": 1.5, "em": 1.0, "n_units": 2})) == pytest.approx(62.5)
    assert float(ST.task_score("udpos", {"tp": 0, "n_pred": 0, "n_gold": 0})) == 0.0


def test_summary_flip_rate_and_drops(ex):
    s = RB.summary(ex)
    assert len(s) == 6  # 3 models x 2 severities
    for _, r in s.iterrows():
        sub = ex[(ex["itask"] == r["itask"]) & (ex["severity"] == r["severity"]) & (ex["family"] == "char_typo")]
        cl = ex[(ex["itask"] == r["itask"]) & (ex["family"] == "clean")].set_index("id")
        assert r["perturbed"] == pytest.approx(100 * sub["correct"].mean())
        assert r["clean"] == pytest.approx(100 * cl["correct"].mean())
        flips = (sub.set_index("id")["pred"] != cl["pred"]).mean() * 100
        assert r["flip_rate"] == pytest.approx(flips)
        assert r["drop"] == pytest.approx(r["clean"] - r["perturbed"])
        assert r["rel_drop"] == pytest.approx(100 * r["drop"] / r["clean"])


def test_auc_trapezoid(ex):
    s = RB.summary(ex)
    a = RB.auc(s).set_index("itask")["auc"]
    b = s[s["itask"] == "baseline"].set_index("severity")
    r1, r3 = b.loc[0.1, "perturbed"] / b.loc[0.1, "clean"], b.loc[0.3, "perturbed"] / b.loc[0.3, "clean"]
    assert a["baseline"] == pytest.approx((0.1 * (1 + r1) / 2 + 0.2 * (r1 + r3) / 2) / 0.3)
    assert a["mnli"] > a["baseline"]


def test_bootstrap_finds_the_robust_model_and_not_the_identical_one(ex):
    bs = RB.bootstrap_vs_baseline(ex, n=400).set_index(["itask", "severity"])
    same = bs.loc[("qqp", 0.3)]
    assert same["diff"] == 0 and same["low"] == 0 and same["high"] == 0
    better = bs.loc[("mnli", 0.3)]
    assert better["diff"] == pytest.approx(better["rel_drop"] - better["rel_drop_baseline"])
    assert better["diff"] < 0 and better["high"] < 0 and better["low"] <= better["diff"] <= better["high"]
    assert better["p"] < 0.05 and better["n_examples"] == 200


def test_bootstrap_pairs_by_example_id(ex):
    # shuffling one model's rows must not change anything: rows are joined by (lang, id), not by position
    shuffled = ex.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = RB.bootstrap_vs_baseline(ex, n=200, seed=5)
    b = RB.bootstrap_vs_baseline(shuffled, n=200, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_write_analysis(tmp_path, ex):
    tidy = pd.DataFrame([{"encoder": "pretrained", "itask": "baseline", "ttask": "xnli", "lang": "xl",
                          "split": "test", "seed": 1, "family": fam, "severity": 0.0, "metric": m, "value": v,
                          "n": 30, "scale": "embedded", "model_id": "m", "config_hash": "h", "git_rev": "g"}
                         for fam, m, v in [("attack", "accuracy", 20.0), ("attack", "attack_success_rate", 60.0),
                                           ("attack", "attack_words_changed", 1.5),
                                           ("attack", "attack_queries", 22.0)]])
    paths = RB.write_analysis(ex, tidy, tmp_path / "paper")
    names = {p.name for p in paths}
    assert {"robustness_bootstrap.tex", "robustness_flips.tex", "robustness_attack.tex",
            "robustness_severity.pdf", "robustness_severity.png", "robustness_examples.csv"} <= names
    boot = (tmp_path / "paper/tables/robustness_bootstrap.tex").read_text()
    bs = RB.bootstrap_vs_baseline(ex).set_index(["itask", "severity"])
    mnli_row = next(line for line in boot.splitlines() if " & MNLI & " in line)
    # the significant cell is bold and holds the bootstrap's difference and interval at the largest severity
    d, lo, hi = bs.loc[("mnli", 0.3), ["diff", "low", "high"]]
    assert rf"\mathbf{{{d:+.1f}}}" in mnli_row.replace("$", "") and f"[{lo:+.1f}, {hi:+.1f}]" in mnli_row
    qqp_row = next(line for line in boot.splitlines() if " & QQP & " in line)
    assert r"\mathbf" not in qqp_row and "[+0.0, +0.0]" in qqp_row  # identical to the baseline: not bold
    # flip rate / AUC per model: the summary's flip rate at the largest severity, the trapezoid AUC
    s, a = RB.summary(ex), RB.auc(RB.summary(ex)).set_index("itask")["auc"]
    flips = (tmp_path / "paper/tables/robustness_flips.tex").read_text()
    for itask, name in (("baseline", "Baseline"), ("mnli", "MNLI")):
        fl = s[(s["itask"] == itask) & (s["severity"] == 0.3)]["flip_rate"].iloc[0]
        row = next(line for line in flips.splitlines() if line.startswith(name))
        assert f"${fl:.1f}$ / ${a[itask]:.3f}$" in row, (row, fl, a[itask])
    # the per-example CSV is the summary itself
    csv = pd.read_csv(tmp_path / "paper/tables/robustness_examples.csv")
    np.testing.assert_allclose(csv["flip_rate"], s["flip_rate"], atol=1e-3)
    np.testing.assert_allclose(csv["rel_drop"], s["rel_drop"], atol=1e-3)
    att = (tmp_path / "paper/tables/robustness_attack.tex").read_text()
    assert "$60.0$" in att and "$22.0$" in att
    # no perturbed results: every file still written, each table saying so instead of holding numbers
    empty = RB.write_analysis(ex.iloc[0:0], tidy.iloc[0:0], tmp_path / "empty")
    assert all(p.exists() for p in empty)
    for name in ("robustness_bootstrap.tex", "robustness_flips.tex"):
        assert "no perturbed per-example results" in (tmp_path / "empty/tables" / name).read_text()


def test_bootstrap_averages_seeds_and_pairs_them(tmp_path):
    rng = np.random.default_rng(1)
    n = 150
    paths, per_seed = [], []
    for sd in (1, 2):
        clean = (rng.random(n) < 0.8).astype(int)
        base = {0.3: clean * (rng.random(n) < 0.6)}
        other = {0.3: clean * (rng.random(n) < 0.8)}
        paths += [_job(tmp_path, "baseline", clean, base, seed=sd), _job(tmp_path, "mnli", clean, other, seed=sd)]
        rd = lambda c, p: 100 * (c.mean() - p.mean()) / c.mean()
        per_seed.append(rd(clean, other[0.3]) - rd(clean, base[0.3]))
    ex = RB.load_examples(paths)
    bs = RB.bootstrap_vs_baseline(ex, n=300)
    assert len(bs) == 1
    r = bs.iloc[0]
    assert r["n_seeds"] == 2 and r["n_examples"] == n
    assert r["diff"] == pytest.approx(np.mean(per_seed))
    assert r["low"] <= r["diff"] <= r["high"]
    # a model that lacks seed 2 is compared on seed 1 only
    one = RB.bootstrap_vs_baseline(ex[~((ex["itask"] == "mnli") & (ex["seed"] == 2))], n=300).iloc[0]
    assert one["n_seeds"] == 1 and one["diff"] == pytest.approx(per_seed[0])


# pandas 3 stores `str` columns in Python objects without pyarrow and in Arrow arrays with it; the two once
# behaved differently (a NUL-joined key lost its NUL without pyarrow: issue 16). Run the analysis under each
# backend this environment has, always including the python one that a requirements.txt install gets.
STRING_BACKENDS = ["python"] + (["pyarrow"] if importlib.util.find_spec("pyarrow") else [])


@pytest.mark.parametrize("storage", STRING_BACKENDS)
def test_bootstrap_under_each_pandas_string_backend(ex, storage):
    odd = ex.copy()
    # ids holding the characters a joined key would use as separators must still pair exactly
    odd["id"] = odd["id"] + "\x00|/"
    for col in odd.columns:
        if odd[col].dtype == object or isinstance(odd[col].dtype, pd.StringDtype):
            odd[col] = odd[col].astype(pd.StringDtype(storage, na_value=np.nan))
    assert odd["id"].iloc[0].endswith("\x00|/")
    got = RB.bootstrap_vs_baseline(odd, n=200, seed=5)
    ref = RB.bootstrap_vs_baseline(ex, n=200, seed=5)
    assert len(got) == len(ref) == 4  # (mnli, qqp) x 2 severities
    num = ["n_seeds", "n_examples", "rel_drop", "rel_drop_baseline", "diff", "low", "high", "p"]
    np.testing.assert_allclose(got[num].to_numpy(dtype=float), ref[num].to_numpy(dtype=float))
    assert list(got["itask"]) == list(ref["itask"]) == ["mnli", "qqp", "mnli", "qqp"]
    assert (got["n_examples"] == 200).all()
