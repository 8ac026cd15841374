"""Task scores from the tidy results, and the generated booktabs tables of the paper.

Everything here starts from the tidy long table (docs/records.md, one row per number, scores in percent) and
ends in `paper/tables/*.tex` (plus a CSV of the same numbers beside each table). Nothing is typed by hand.

Scoring follows XTREME (PROTOCOL.md, "Scoring"): per language the task's primary metric, (F1 + EM) / 2 for the
QA targets; the task score is the mean over the task's languages, English included; the XTREME score is the
mean of the task scores. Seeds are kept apart until the end: every derived quantity (a delta, a mean over
targets, a best-per-target score) is computed per seed and only then summarised as mean ± sd over seeds.
Two quantities are paired by seed (same seed in both runs); when two runs share no seed the difference of
their means is used instead and the sd is left empty (n = 0 in the CSVs marks these unpaired numbers).

The numbers quoted in the text (`numbers.tex`) are made in `report/numbers.py` from the same functions.

Split choice for the dev table (and for choosing the best intermediate model, and for the controls): a target
is scored on `dev` when the main encoder has clean dev rows for it, otherwise on `test` (Tatoeba has no dev
split). The choice is printed in each caption.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import tasks as T
from xstilts.records import atomic_write_text

KEYS = ["encoder", "itask", "ttask", "split", "seed", "family", "severity"]
TIDY_COLUMNS = KEYS[:4] + ["lang"] + KEYS[4:] + ["metric", "value", "n", "scale", "model_id", "config_hash",
                                                  "git_rev"]
QA_TARGETS = ("xquad", "mlqa", "tydiqa")
MAIN_ENCODER = "pretrained"
CONTROL_ENCODER = "random"
BASELINE = "baseline"
CLEAN = "clean"
SINGLE_ITASKS = list(T.INTERMEDIATE_TASKS)
# Candidates for "best intermediate model per target" and for the gain shares of C8/C10/C11: the nine tasks and
# the multi-task model, as in the paper's result tables; the two controls are compared separately.
CANDIDATE_ITASKS = SINGLE_ITASKS + ["multitask"]
CONTROL_ITASKS = ["mlm_control", "mt_control"]
# The paper compares each control with the intermediate model of the same task. Here both controls are
# compared with `multitask`: it is the plain English model trained on the same task mixture the controls see.
CONTROL_REFERENCE = "multitask"
ITASK_ORDER = [BASELINE] + CANDIDATE_ITASKS + CONTROL_ITASKS
POOLED = -1  # seed index of a number that could not be paired by seed

ITASK_NAMES = {
    "baseline": "Baseline (none)", "anli_plus": "ANLI+", "mnli": "MNLI", "qqp": "QQP", "squad_v2": "SQuAD v2.0",
    "hellaswag": "HellaSwag", "cosmosqa": "CosmosQA", "commonsenseqa": "CommonsenseQA", "sst2": "SST-2",
    "ccg": "CCG", "multitask": "Multi-task", "mlm_control": "MLM control", "mt_control": "MT control",
}
TARGET_NAMES = {
    "xnli": "XNLI", "pawsx": "PAWS-X", "udpos": "POS", "panx": "NER", "xquad": "XQuAD", "mlqa": "MLQA",
    "tydiqa": "TyDiQA", "bucc": "BUCC", "tatoeba": "Tatoeba",
}


# --------------------------------------------------------------------------------------------------------------
# Input checks and atomic output
# --------------------------------------------------------------------------------------------------------------

def check_tidy(tidy: pd.DataFrame) -> pd.DataFrame:
    """A typed copy of the tidy table; raises ValueError naming what is wrong."""
    missing = [c for c in TIDY_COLUMNS if c not in tidy.columns and c != "n"]  # n is optional in the schema
    if missing:
        raise ValueError(f"tidy results lack columns {missing}; expected {TIDY_COLUMNS}")
    df = tidy.copy()
    if "n" not in df.columns:
        df["n"] = np.nan
    for c in ["encoder", "itask", "ttask", "lang", "split", "family", "metric", "scale", "model_id"]:
        df[c] = df[c].astype(str)
    df["seed"] = pd.to_numeric(df["seed"], errors="raise").astype(int)
    df["severity"] = pd.to_numeric(df["severity"], errors="raise").astype(float)
    df["value"] = pd.to_numeric(df["value"], errors="raise").astype(float)
    bad = ~df["split"].isin(["dev", "test"])
    if bad.any():
        raise ValueError(f"tidy results: split must be dev or test, got {sorted(df.loc[bad, 'split'].unique())}")
    return df


def write_csv(frame: pd.DataFrame, path) -> Path:
    return atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))


# --------------------------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------------------------

def language_scores(tidy: pd.DataFrame, targets=tuple(T.TARGET_TASKS)) -> pd.DataFrame:
    """One XTREME score per (KEYS, lang): the primary metric, (F1 + EM) / 2 for QA targets."""
    df = check_tidy(tidy)
    df = df[df["ttask"].isin(list(targets))]
    primary = df["ttask"].map(lambda t: T.get(t).metric)
    is_qa = df["ttask"].isin(QA_TARGETS)
    df = df[(is_qa & df["metric"].isin(["f1", "em"])) | (~is_qa & (df["metric"] == primary))]
    idx = KEYS + ["lang"]
    dup = df.duplicated(idx + ["metric"], keep=False)
    if dup.any():
        raise ValueError(f"tidy results hold {int(dup.sum())} duplicated score rows, e.g.\n"
                         f"{df[dup].head(4)[idx + ['metric', 'value']].to_string(index=False)}")
    if df.empty:
        return pd.DataFrame(columns=idx + ["score"])
    wide = df.set_index(idx + ["metric"])["value"].unstack("metric")
    wide = wide.reindex(columns=["accuracy", "f1", "em"]).reset_index()
    qa = wide["ttask"].isin(QA_TARGETS)
    half = qa & (wide["f1"].isna() | wide["em"].isna())
    if half.any():
        raise ValueError("QA targets need both f1 and em (XTREME scores them as (F1 + EM) / 2); missing for\n"
                         f"{wide.loc[half, idx].head(4).to_string(index=False)}")
    prim = wide["ttask"].map(lambda t: T.get(t).metric)
    wide["score"] = np.where(qa, (wide["f1"] + wide["em"]) / 2,
                             np.where(prim == "accuracy", wide["accuracy"], wide["f1"]))
    return wide[idx + ["score"]].reset_index(drop=True)


def task_scores(tidy: pd.DataFrame, lang_scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-seed task score: mean over the task's languages (English included). Columns KEYS, score, n_langs."""
    ls = language_scores(tidy) if lang_scores is None else lang_scores
    if ls.empty:
        return pd.DataFrame(columns=KEYS + ["score", "n_langs"])
    g = ls.groupby(KEYS, dropna=False)["score"]
    return pd.DataFrame({"score": g.mean(), "n_langs": g.size()}).reset_index()


def task_score_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Item 1 of the report: task score per (encoder, itask, ttask, split, family, severity) as mean ± sd over
    seeds (sd with ddof = 1, empty for one seed)."""
    ts = task_scores(tidy)
    keys = [k for k in KEYS if k != "seed"]
    g = ts.groupby(keys, dropna=False)["score"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n_seeds": g.size()}).reset_index()
    return _sort(out)


@dataclass(frozen=True)
class Stat:
    """Mean ± sd over seeds; n = number of seeds, 0 for an unpaired number (difference of means)."""
    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, s: pd.Series) -> "Stat":
        s = s.dropna()
        if s.empty:
            return cls(math.nan, math.nan, 0)
        if list(s.index) == [POOLED]:
            return cls(float(s.iloc[0]), math.nan, 0)
        return cls(float(s.mean()), float(s.std(ddof=1)) if len(s) > 1 else math.nan, int(len(s)))

    @property
    def ok(self) -> bool:
        return not math.isnan(self.mean)

    def cols(self, prefix: str) -> dict:
        return {f"{prefix}_mean": self.mean, f"{prefix}_sd": self.sd, f"{prefix}_n": self.n}


def _seeds(ts: pd.DataFrame, **eq) -> pd.Series:
    """Per-seed scores of one run (all filters given), indexed by seed."""
    m = np.ones(len(ts), dtype=bool)
    for k, v in eq.items():
        m &= (ts[k] == v).to_numpy()
    sub = ts[m]
    if sub["seed"].duplicated().any():
        raise ValueError(f"ambiguous selection {eq}: several rows per seed")
    return pd.Series(sub["score"].to_numpy(dtype=float), index=sub["seed"].to_numpy(), dtype=float).sort_index()


def _combine(parts: list[pd.Series], how: str = "mean") -> pd.Series:
    """Per-seed mean of several series (or difference a - b), on the seeds they share; the means' combination at
    index POOLED when they share none."""
    if not parts or any(p.dropna().empty for p in parts):
        return pd.Series(dtype=float)
    wide = pd.concat([p.dropna() for p in parts], axis=1, join="inner")
    if wide.empty:
        wide = pd.DataFrame([[p.mean() for p in parts]], index=[POOLED])
    if how == "mean":
        return wide.mean(axis=1)
    if how == "diff":
        return wide.iloc[:, 0] - wide.iloc[:, 1]
    raise ValueError(how)


def _ordered(names, order) -> list[str]:
    names = list(dict.fromkeys(names))
    return [n for n in order if n in names] + sorted(n for n in names if n not in order)


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ["encoder", "itask", "ttask", "split", "seed", "family", "severity"] if c in df.columns]
    rank = {"itask": {n: i for i, n in enumerate(ITASK_ORDER)},
            "ttask": {n: i for i, n in enumerate(T.TARGET_TASKS)}}
    return df.sort_values(keys, key=lambda c: c.map(rank[c.name]).fillna(99) if c.name in rank else c,
                          kind="stable").reset_index(drop=True)


def _main_clean(ts: pd.DataFrame) -> pd.DataFrame:
    return ts[(ts["encoder"] == MAIN_ENCODER) & (ts["family"] == CLEAN)]


def selection_splits(ts: pd.DataFrame) -> dict[str, str]:
    """Split used per target for the dev table, model choice and controls: dev when the main encoder has clean dev
    rows for the target, else test."""
    mc = _main_clean(ts)
    targets = _ordered(mc["ttask"], T.TARGET_TASKS)
    return {t: "dev" if ((mc["ttask"] == t) & (mc["split"] == "dev")).any() else "test" for t in targets}


def _split_note(splits: dict[str, str]) -> str:
    test = [TARGET_NAMES.get(t, t) for t, s in splits.items() if s == "test"]
    if not test:
        return "All targets scored on their dev split."
    why = "no dev results" + ("; Tatoeba has no dev split" if splits.get("tatoeba") == "test" else "")
    return f"Dev split where a target has one; test for {', '.join(test)} ({why})."


# --------------------------------------------------------------------------------------------------------------
# (a) dev deltas
# --------------------------------------------------------------------------------------------------------------

def dev_deltas(tidy: pd.DataFrame, ts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table: for the baseline the absolute score per target (kind "absolute"); for every candidate itask
    its difference from the baseline (kind "delta", paired by seed); ttask "avg" = mean over the targets the
    itask has (n_targets says how many). Scores on the selection split of each target."""
    ts = task_scores(tidy) if ts is None else ts
    mc = _main_clean(ts)
    splits = selection_splits(ts)
    rows = []
    base = {t: _seeds(mc, itask=BASELINE, ttask=t, split=s, severity=0.0) for t, s in splits.items()}
    base = {t: s for t, s in base.items() if not s.empty}
    for t, s in base.items():
        rows.append(dict(itask=BASELINE, ttask=t, split=splits[t], kind="absolute", n_targets=1,
                         **Stat.of(s).cols("v")))
    if base:
        rows.append(dict(itask=BASELINE, ttask="avg", split="", kind="absolute", n_targets=len(base),
                         **Stat.of(_combine(list(base.values()))).cols("v")))
    itasks = _ordered([i for i in mc["itask"].unique() if i in CANDIDATE_ITASKS], CANDIDATE_ITASKS)
    for it in itasks:
        per_target = {}
        for t, b in base.items():
            a = _seeds(mc, itask=it, ttask=t, split=splits[t], severity=0.0)
            d = _combine([a, b], "diff")
            if not d.empty:
                per_target[t] = d
                rows.append(dict(itask=it, ttask=t, split=splits[t], kind="delta", n_targets=1,
                                 **Stat.of(d).cols("v")))
        if per_target:
            rows.append(dict(itask=it, ttask="avg", split="", kind="delta", n_targets=len(per_target),
                             **Stat.of(_combine(list(per_target.values()))).cols("v")))
    cols = ["itask", "ttask", "split", "kind", "n_targets", "v_mean", "v_sd", "v_n"]
    return pd.DataFrame(rows, columns=cols)


def lookup(frame: pd.DataFrame, **eq) -> pd.Series | None:
    """The one row of `frame` matching all filters, or None."""
    m = np.ones(len(frame), dtype=bool)
    for k, v in eq.items():
        m &= (frame[k] == v).to_numpy()
    sub = frame[m]
    return None if sub.empty else sub.iloc[0]


# --------------------------------------------------------------------------------------------------------------
# (b) XTREME test: baseline vs best intermediate model per target
# --------------------------------------------------------------------------------------------------------------

# Targets without a dev set choose their intermediate model on the dev set of the sibling target that uses the
# same model: XQuAD and MLQA share one SQuAD-trained model per intermediate task, Tatoeba and BUCC use the
# intermediate encoder itself. Without the sibling's dev results the target is not selected at all (never on
# test: that would make the best-per-target gain optimistic).
DEV_PROXY = {"xquad": "mlqa", "tatoeba": "bucc"}


def model_selection(ts: pd.DataFrame) -> dict[str, tuple[str, str] | None]:
    """Per target: (target, split) whose dev scores choose its best intermediate model, or None."""
    mc = _main_clean(ts)
    has_dev = {t for t in mc["ttask"].unique() if ((mc["ttask"] == t) & (mc["split"] == "dev")).any()}
    out = {}
    for t in _ordered(mc["ttask"], T.TARGET_TASKS):
        if t in has_dev:
            out[t] = (t, "dev")
        elif DEV_PROXY.get(t) in has_dev:
            out[t] = (DEV_PROXY[t], "dev")
        else:
            out[t] = None
    return out


def selected_on(sel: tuple[str, str] | None, target: str) -> str:
    if sel is None:
        return "no dev"
    return "dev" if sel[0] == target else f"{sel[0]} dev"


def best_per_target(ts: pd.DataFrame) -> dict[str, str]:
    """The candidate itask with the highest mean dev score for each target (model_selection); targets with no
    dev to choose on are absent."""
    mc = _main_clean(ts)
    best = {}
    for t, sel in model_selection(ts).items():
        if sel is None:
            continue
        src, split = sel
        have = set(mc[(mc["ttask"] == t) & (mc["split"] == "test")]["itask"])  # candidates with test results
        sub = mc[(mc["ttask"] == src) & (mc["split"] == split) & (mc["itask"].isin(CANDIDATE_ITASKS))
                 & (mc["itask"].isin(have))]
        if not sub.empty:
            means = sub.groupby("itask")["score"].mean()
            best[t] = _ordered(means[means == means.max()].index, CANDIDATE_ITASKS)[0]
    return best


def xtreme_test(tidy: pd.DataFrame, ts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per target: baseline test score, the best intermediate model (chosen on the selection split) and its test
    score, and the gain; last row ttask "xtreme" = mean of the task scores over the targets that have both."""
    ts = task_scores(tidy) if ts is None else ts
    mc = _main_clean(ts)
    sel = model_selection(ts)
    best = best_per_target(ts)
    rows, bases, bests = [], [], []
    for t in sel:
        b = _seeds(mc, itask=BASELINE, ttask=t, split="test", severity=0.0)
        it = best.get(t)
        a = _seeds(mc, itask=it, ttask=t, split="test", severity=0.0) if it else pd.Series(dtype=float)
        if b.empty and a.empty:
            continue
        if not b.empty and not a.empty:
            bases.append(b)
            bests.append(a)
        rows.append(dict(ttask=t, selected_on=selected_on(sel[t], t), best_itask=it or "",
                         **Stat.of(b).cols("baseline"),
                         **Stat.of(a).cols("best"), **Stat.of(_combine([a, b], "diff")).cols("gain"),
                         n_targets=1))
    if bases:
        xb, xa = _combine(bases), _combine(bests)
        rows.append(dict(ttask="xtreme", selected_on="", best_itask="", **Stat.of(xb).cols("baseline"),
                         **Stat.of(xa).cols("best"), **Stat.of(_combine([xa, xb], "diff")).cols("gain"),
                         n_targets=len(bases)))
    cols = (["ttask", "selected_on", "best_itask"] + [f"{p}_{s}" for p in ["baseline", "best", "gain"]
                                                      for s in ["mean", "sd", "n"]] + ["n_targets"])
    return pd.DataFrame(rows, columns=cols)


def language_gains(tidy: pd.DataFrame, ts: pd.DataFrame | None = None,
                   ls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per target and language (test split, clean, main encoder): baseline and best-intermediate score (means over
    seeds) and the gain, the best model chosen as in `xtreme_test`."""
    ls = language_scores(tidy) if ls is None else ls
    ts = task_scores(tidy, ls) if ts is None else ts
    best = best_per_target(ts)
    lc = ls[(ls["encoder"] == MAIN_ENCODER) & (ls["family"] == CLEAN) & (ls["split"] == "test")]
    rows = []
    for t, it in best.items():
        sub = lc[lc["ttask"] == t]
        b = sub[sub["itask"] == BASELINE].groupby("lang")["score"].mean()
        a = sub[sub["itask"] == it].groupby("lang")["score"].mean()
        for lang in sorted(set(a.index) & set(b.index)):
            rows.append(dict(ttask=t, lang=lang, best_itask=it, baseline=b[lang], best=a[lang],
                             gain=a[lang] - b[lang]))
    return pd.DataFrame(rows, columns=["ttask", "lang", "best_itask", "baseline", "best", "gain"])


# --------------------------------------------------------------------------------------------------------------
# (c) controls
# --------------------------------------------------------------------------------------------------------------

def controls(tidy: pd.DataFrame, ts: pd.DataFrame | None = None, reference: str = CONTROL_REFERENCE) -> pd.DataFrame:
    """Per target (selection split): the reference (plain English intermediate) score, each control's score and
    its delta control - reference (negative = plain English training is better); ttask "avg" = mean over the
    targets where both are present."""
    ts = task_scores(tidy) if ts is None else ts
    mc = _main_clean(ts)
    splits = selection_splits(ts)
    rows = []
    refs, scores, deltas = {}, {c: {} for c in CONTROL_ITASKS}, {c: {} for c in CONTROL_ITASKS}
    for t, s in splits.items():
        r = _seeds(mc, itask=reference, ttask=t, split=s, severity=0.0)
        row = dict(ttask=t, split=s, reference=reference, **Stat.of(r).cols("ref"))
        for c in CONTROL_ITASKS:
            v = _seeds(mc, itask=c, ttask=t, split=s, severity=0.0)
            d = _combine([v, r], "diff")
            if not v.empty:
                scores[c][t] = v
            if not d.empty:
                deltas[c][t] = d
            row.update(Stat.of(v).cols(c))
            row.update(Stat.of(d).cols(f"{c}_delta"))
        if any(t in scores[c] for c in CONTROL_ITASKS):
            if not r.empty:
                refs[t] = r
            rows.append(row)
    if rows:
        avg = dict(ttask="avg", split="", reference=reference)
        avg.update(Stat.of(_combine(list(refs.values()))).cols("ref"))
        for c in CONTROL_ITASKS:
            d = deltas[c]
            avg.update(Stat.of(_combine(list(scores[c].values()))).cols(c))
            avg.update(Stat.of(_combine(list(d.values()))).cols(f"{c}_delta"))
            avg[f"{c}_n_targets"] = len(d)
            avg[f"{c}_share_plain_better"] = (float(np.mean([Stat.of(x).mean < 0 for x in d.values()]))
                                              if d else math.nan)
        rows.append(avg)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# (d) robustness
# --------------------------------------------------------------------------------------------------------------

def robustness_detail(tidy: pd.DataFrame, ls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (itask, ttask, split, seed, family, severity, lang), main encoder: the clean and the perturbed score of
    the same language and split, drop = clean - perturbed (points; positive = worse under perturbation)."""
    ls = language_scores(tidy) if ls is None else ls
    ls = ls[ls["encoder"] == MAIN_ENCODER]
    # attack rows (xstilts/perturb/attack.py) are not perturbed copies of the test set: robustness.attack_table
    pert = ls[(ls["family"] != CLEAN) & ~ls["family"].isin(["attack", "attack_transfer"])]
    clean = ls[ls["family"] == CLEAN].drop(columns=["family", "severity"]).rename(columns={"score": "clean"})
    on = ["encoder", "itask", "ttask", "split", "seed", "lang"]
    out = pert.rename(columns={"score": "perturbed"}).merge(clean, on=on, how="inner")
    out["drop"] = out["clean"] - out["perturbed"]
    out["rel_drop"] = 100 * out["drop"] / out["clean"].where(out["clean"] != 0)
    cols = ["itask", "ttask", "split", "seed", "family", "severity", "lang", "clean", "perturbed", "drop", "rel_drop"]
    return _sort(out[cols])


def robustness(tidy: pd.DataFrame, ls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per itask × family × severity: clean and perturbed score (mean over the targets that itask and the
    baseline both have for that perturbation, each target the mean over its perturbed languages), the drop
    (clean - perturbed, points), the relative drop (% of clean) and drop_vs_baseline = baseline drop - itask drop
    (positive = more robust than the baseline). Test split where perturbed test rows exist, else dev."""
    det = robustness_detail(tidy, ls)
    rows = []
    if det.empty:
        return pd.DataFrame(rows)
    split = "test" if (det["split"] == "test").any() else "dev"
    det = det[det["split"] == split]
    per_task = (det.groupby(["itask", "ttask", "seed", "family", "severity"])[["clean", "perturbed"]].mean()
                .reset_index())

    # one lookup table instead of four boolean masks over the whole frame per call: thousands of calls made
    # this the slowest part of make_tables (groupby keeps each group's rows in frame order, as the masks did)
    groups = dict(iter(per_task.groupby(["itask", "ttask", "family", "severity"], sort=False)))
    none = per_task.iloc[:0]

    def series(it, t, fam, sev, col):
        sub = groups.get((it, t, fam, sev), none)
        return pd.Series(sub[col].to_numpy(dtype=float), index=sub["seed"].to_numpy()).sort_index()

    for (fam, sev), grp in per_task.groupby(["family", "severity"]):
        base_targets = set(grp.loc[grp["itask"] == BASELINE, "ttask"])
        for it in _ordered(grp["itask"].unique(), ITASK_ORDER):
            own = set(grp.loc[grp["itask"] == it, "ttask"])
            # Compare like with like: the targets the baseline also has, unless it has none of them.
            targets = _ordered(own & base_targets or own, T.TARGET_TASKS)
            c = _combine([series(it, t, fam, sev, "clean") for t in targets])
            p = _combine([series(it, t, fam, sev, "perturbed") for t in targets])
            d = _combine([c, p], "diff")
            rel = 100 * d / c
            row = dict(itask=it, family=fam, severity=sev, split=split, targets=" ".join(targets),
                       n_targets=len(targets), **Stat.of(c).cols("clean"), **Stat.of(p).cols("perturbed"),
                       **Stat.of(d).cols("drop"), **Stat.of(rel).cols("rel_drop"))
            if it != BASELINE and base_targets and set(targets) <= base_targets:
                bc = _combine([series(BASELINE, t, fam, sev, "clean") for t in targets])
                bp = _combine([series(BASELINE, t, fam, sev, "perturbed") for t in targets])
                row.update(Stat.of(_combine([_combine([bc, bp], "diff"), d], "diff")).cols("vs_baseline"))
            else:
                row.update(Stat(math.nan, math.nan, 0).cols("vs_baseline"))
            rows.append(row)
    return _sort(pd.DataFrame(rows))


# --------------------------------------------------------------------------------------------------------------
# (e) pretrained vs random-init encoder
# --------------------------------------------------------------------------------------------------------------

def control_encoder(tidy: pd.DataFrame, ls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Baseline itask, clean, test split (dev where a target has no test rows): per target and encoder the
    English score and the mean over the non-English languages (per seed, then mean ± sd), and the pretrained -
    random difference of the non-English mean (the transfer that pretraining adds beyond token overlap)."""
    ls = language_scores(tidy) if ls is None else ls
    ls = ls[(ls["itask"] == BASELINE) & (ls["family"] == CLEAN)]
    rows = []
    for t in _ordered(ls["ttask"].unique(), T.TARGET_TASKS):
        sub = ls[ls["ttask"] == t]
        split = "test" if (sub["split"] == "test").any() else "dev"
        sub = sub[sub["split"] == split]
        row = dict(ttask=t, split=split)
        xx = {}
        for enc in [MAIN_ENCODER, CONTROL_ENCODER]:
            e = sub[sub["encoder"] == enc]
            en = e[e["lang"] == "en"].groupby("seed")["score"].mean()
            xx[enc] = e[e["lang"] != "en"].groupby("seed")["score"].mean()
            row.update(Stat.of(en).cols(f"{enc}_en"))
            row.update(Stat.of(xx[enc]).cols(f"{enc}_xx"))
        row.update(Stat.of(_combine([xx[MAIN_ENCODER], xx[CONTROL_ENCODER]], "diff")).cols("delta_xx"))
        rows.append(row)
    return pd.DataFrame(rows)
