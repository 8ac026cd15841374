"""Task scores from the tidy results, and the generated booktabs tables of the paper.

Everything here starts from the tidy long table (docs/records.md, one row per number, scores in percent) and
ends in `paper/tables/*.tex` (plus a CSV of the same numbers beside each table). Nothing is typed by hand.

Scoring follows XTREME (PROTOCOL.md, "Scoring"): per language the task's primary metric, (F1 + EM) / 2 for the
QA targets; the task score is the mean over the task's languages, English included; the XTREME score is the
mean of the task scores. Seeds are kept apart until the end: every derived quantity (a delta, a mean over
targets, a best-per-target score) is computed per seed and only then summarised as mean ± sd over seeds.
Two quantities are paired by seed (same seed in both runs); when two runs share no seed the difference of
their means is used instead and the sd is left empty (n = 0 in the CSVs marks these unpaired numbers).

Split choice for the dev table (and for choosing the best intermediate model, and for the controls): a target
is scored on `dev` when the main encoder has clean dev rows for it, otherwise on `test` (Tatoeba has no dev
split). The choice is printed in each caption.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import tasks as T
from ..records import atomic_write_text

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
    # attack rows (xstilts/attack.py) are not perturbed copies of the test set: robustness.attack_table
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


# --------------------------------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------------------------------

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "—": "---", "–": "--", "±": r"$\pm$", "≤": r"$\leq$", "≥": r"$\geq$", "Δ": r"$\Delta$",
                "→": r"$\rightarrow$", "×": r"$\times$", "≈": r"$\approx$", "−": "-"}


def tex_escape(text) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def fmt(mean: float, sd: float = math.nan, n: int = 1, signed: bool = False, bold: bool = False,
        digits: int = 1, mark: bool = False) -> str:
    """A math-mode cell: 71.2, +1.3, 71.2 \\pm 0.4 (sd shown when there are several seeds); -- when missing;
    mark adds a dagger (significant in the paired bootstrap)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "--"
    mean = round(mean, digits) + 0.0  # no "-0.0"
    body = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    if n and n > 1 and not math.isnan(sd):
        body += rf" \pm {sd:.{digits}f}"
    dagger = r"^{\dagger}" if mark else ""
    return f"$\\mathbf{{{body}}}{dagger}$" if bold else f"${body}{dagger}$"


def provenance(tidy: pd.DataFrame | None, inventory: dict | None) -> str:
    if inventory:
        parts = {k: inventory.get(k, "") for k in ["scale", "model_id", "config_hash", "git_rev"]}
    elif tidy is not None and len(tidy):
        parts = {k: ",".join(sorted(map(str, tidy[k].unique()))) for k in ["scale", "model_id", "config_hash",
                                                                           "git_rev"]}
    else:
        parts = {}
    return " ".join(f"{k}={v}" for k, v in parts.items())


def render_table(colspec: str, header: list[str], body: list, caption: str, label: str, prov: str = "",
                 wide: bool = True) -> str:
    """A booktabs table float. `body` items are lists of cells or the string "midrule"."""
    env = "table*" if wide else "table"
    lines = ["% Generated by xstilts.report from the tidy results; do not edit by hand.",
             f"% {prov}" if prov else "%", f"\\begin{{{env}}}[tbp]", "\\centering", "\\small",
             f"\\begin{{tabular}}{{{colspec}}}", "\\toprule", " & ".join(header) + r" \\", "\\midrule"]
    for row in body:
        if isinstance(row, str):
            if lines[-1] != f"\\{row}":
                lines.append(f"\\{row}")
            continue
        if len(row) != len(header):
            raise AssertionError(f"row of {len(row)} cells under {len(header)} columns: {row}")
        lines.append(" & ".join(row) + r" \\")
    if lines[-1] == "\\midrule":
        lines.pop()
    lines += ["\\bottomrule", "\\end{tabular}", f"\\caption{{{caption}}}", f"\\label{{{label}}}",
              f"\\end{{{env}}}", ""]
    return "\n".join(lines)


def _name(x: str, names: dict) -> str:
    return tex_escape(names.get(x, x))


def _is_best(value: float, values) -> bool:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return bool(vals) and not math.isnan(value) and math.isclose(value, max(vals), rel_tol=0, abs_tol=1e-9)


def write_dev_deltas(tidy: pd.DataFrame, outdir, inventory: dict | None = None, ts=None,
                     sig: pd.DataFrame | None = None) -> list[Path]:
    from .significance import pooled_marks
    ts = task_scores(tidy) if ts is None else ts
    dd = dev_deltas(tidy, ts)
    splits = selection_splits(ts)
    marks = pooled_marks(sig, splits)
    # significant: the paired bootstrap's 95% interval excludes 0 in every seed (empty: not bootstrapped)
    dd["significant"] = [marks.get((r.itask, r.ttask), "") if r.kind == "delta" else "" for r in dd.itertuples()]
    targets = [t for t in splits if ((dd["ttask"] == t)).any()]
    cols = targets + ["avg"]
    header = ["Intermediate task"] + [_name(t, TARGET_NAMES) for t in targets] + ["Avg"]
    body = []
    base = [lookup(dd, itask=BASELINE, ttask=t) for t in cols]
    body.append([_name(BASELINE, ITASK_NAMES)] + [fmt(r.v_mean, r.v_sd, r.v_n) if r is not None else "--"
                                                 for r in base])
    body.append("midrule")
    deltas = dd[dd["kind"] == "delta"]
    itasks = _ordered(deltas["itask"].unique(), CANDIDATE_ITASKS)
    best = {t: deltas.loc[deltas["ttask"] == t, "v_mean"].tolist() for t in cols}
    for it in itasks:
        cells = [_name(it, ITASK_NAMES)]
        for t in cols:
            r = lookup(deltas, itask=it, ttask=t)
            cells.append("--" if r is None else fmt(r.v_mean, r.v_sd, r.v_n, signed=True,
                                                    bold=_is_best(r.v_mean, best[t]),
                                                    mark=marks.get((it, t), False)))
        body.append(cells)
    caption = (r"Score of each intermediate task minus the baseline (no intermediate phase) on each target; top "
               r"row: the baseline's absolute score. Task scores are XTREME-style means over languages (QA: "
               r"(F1+EM)/2); deltas are paired by seed, mean $\pm$ sd over seeds. Avg: mean over the targets "
               r"present. " + tex_escape(_split_note(splits)) + " Best per column in bold. " + sig_note(sig))
    paths = [atomic_write_text(Path(outdir) / "tables" / "dev_deltas.tex",
                               render_table("l" + "r" * len(cols), header, body, caption, "tab:dev-deltas",
                                            provenance(tidy, inventory)))]
    paths.append(write_csv(dd, Path(outdir) / "tables" / "dev_deltas.csv"))
    return paths


def write_xtreme_test(tidy: pd.DataFrame, outdir, inventory: dict | None = None, ts=None,
                      sig: pd.DataFrame | None = None) -> list[Path]:
    from .significance import pooled_marks
    xt = xtreme_test(tidy, ts)
    marks = pooled_marks(sig, {t: "test" for t in xt["ttask"]})
    xt["significant"] = [marks.get((r.best_itask, r.ttask), "") for r in xt.itertuples()]
    header = ["Target", "Baseline", "Best intermediate", "Chosen on", "Best (test)", r"$\Delta$"]
    body = []
    for r in xt.itertuples():
        if r.ttask == "xtreme":
            body.append("midrule")
            name, chosen, it = f"XTREME ({r.n_targets} tasks)", "", "per target"
        else:
            name, chosen, it = _name(r.ttask, TARGET_NAMES), r.selected_on, _name(r.best_itask, ITASK_NAMES)
        pair = [r.baseline_mean, r.best_mean]
        body.append([tex_escape(name), fmt(r.baseline_mean, r.baseline_sd, r.baseline_n,
                                           bold=_is_best(r.baseline_mean, pair)),
                     it, chosen, fmt(r.best_mean, r.best_sd, r.best_n, bold=_is_best(r.best_mean, pair)),
                     fmt(r.gain_mean, r.gain_sd, r.gain_n, signed=True,
                         mark=marks.get((r.best_itask, r.ttask), False))])
    caption = (r"Test scores of the baseline and of the best intermediate model per target, chosen on dev only "
               r"(``Chosen on''): the target's own dev set, else the dev set of the target sharing its model "
               r"(XQuAD: MLQA; Tatoeba: BUCC); a target with neither is not selected and left out of the XTREME "
               r"average, the mean of the task scores over the targets with both models. Mean $\pm$ sd over "
               r"seeds; higher of the two in bold. " + sig_note(sig))
    return [atomic_write_text(Path(outdir) / "tables" / "xtreme_test.tex",
                              render_table("lrllrr", header, body, caption, "tab:xtreme-test",
                                           provenance(tidy, inventory), wide=False)),
            write_csv(xt, Path(outdir) / "tables" / "xtreme_test.csv")]


def write_controls(tidy: pd.DataFrame, outdir, inventory: dict | None = None, ts=None,
                   reference: str = CONTROL_REFERENCE) -> list[Path]:
    ct = controls(tidy, ts, reference)
    header = ["Target", _name(reference, ITASK_NAMES)]
    for c in CONTROL_ITASKS:
        header += [_name(c, ITASK_NAMES), r"$\Delta$"]
    body = []
    for r in ct.to_dict("records"):
        if r["ttask"] == "avg":
            body.append("midrule")
        name = "Avg" if r["ttask"] == "avg" else _name(r["ttask"], TARGET_NAMES)
        scores = [r["ref_mean"]] + [r[f"{c}_mean"] for c in CONTROL_ITASKS]
        cells = [name, fmt(r["ref_mean"], r["ref_sd"], r["ref_n"], bold=_is_best(r["ref_mean"], scores))]
        for c in CONTROL_ITASKS:
            cells += [fmt(r[f"{c}_mean"], r[f"{c}_sd"], r[f"{c}_n"], bold=_is_best(r[f"{c}_mean"], scores)),
                      fmt(r[f"{c}_delta_mean"], r[f"{c}_delta_sd"], r[f"{c}_delta_n"], signed=True)]
        body.append(cells)
    splits = selection_splits(task_scores(tidy) if ts is None else ts)
    caption = (f"Controls against plain English intermediate training ({tex_escape(ITASK_NAMES[reference])}; "
               r"the paper compares each control with the same-task intermediate model, here both controls are "
               r"compared with the multi-task model, the plain model trained on the task mixture the controls "
               r"also see). $\Delta$ = control $-$ plain, paired by seed; negative = plain English training is "
               r"better. " + tex_escape(_split_note(splits)) + " Best per row in bold.")
    return [atomic_write_text(Path(outdir) / "tables" / "controls.tex",
                              render_table("l" + "r" * (len(header) - 1), header, body, caption, "tab:controls",
                                           provenance(tidy, inventory))),
            write_csv(ct, Path(outdir) / "tables" / "controls.csv")]


def write_robustness(tidy: pd.DataFrame, outdir, inventory: dict | None = None, ls=None, rb=None) -> list[Path]:
    ls = language_scores(tidy) if ls is None else ls
    rb = robustness(tidy, ls) if rb is None else rb
    header = ["Perturbation", "Severity", "Intermediate task", "Clean", "Perturbed", "Drop", r"Drop (\%)",
              r"$\Delta$ drop vs baseline"]
    body = []
    if not rb.empty:
        for (fam, sev), grp in rb.groupby(["family", "severity"], sort=True):
            body.append("midrule")
            best_vs = grp.loc[grp["itask"] != BASELINE, "vs_baseline_mean"].tolist()
            best_p = grp["perturbed_mean"].tolist()
            for r in grp.to_dict("records"):
                body.append([tex_escape(fam), f"${sev:g}$", _name(r["itask"], ITASK_NAMES),
                             fmt(r["clean_mean"], r["clean_sd"], r["clean_n"]),
                             fmt(r["perturbed_mean"], r["perturbed_sd"], r["perturbed_n"],
                                 bold=_is_best(r["perturbed_mean"], best_p)),
                             fmt(r["drop_mean"], r["drop_sd"], r["drop_n"]),
                             fmt(r["rel_drop_mean"], r["rel_drop_sd"], r["rel_drop_n"]),
                             "--" if r["itask"] == BASELINE else
                             fmt(r["vs_baseline_mean"], r["vs_baseline_sd"], r["vs_baseline_n"], signed=True,
                                 bold=_is_best(r["vs_baseline_mean"], best_vs))])
    else:
        body.append(["--"] * len(header))
    split = rb["split"].iloc[0] if not rb.empty else "test"
    caption = (r"Robustness on perturbed " + split + r" sets. Clean and perturbed: mean over the targets that the "
               r"model and the baseline both have for the perturbation (each the mean over its perturbed "
               r"languages, clean scored on the same languages). Drop = clean $-$ perturbed (points; relative: "
               r"\% of clean). $\Delta$ drop vs baseline = baseline drop $-$ model drop: positive = more robust "
               r"than the baseline. Mean $\pm$ sd over seeds; best perturbed score and best $\Delta$ per block in "
               r"bold. Per task and language: robustness\_detail.csv.")
    det = robustness_detail(tidy, ls)
    return [atomic_write_text(Path(outdir) / "tables" / "robustness.tex",
                              render_table("lrlrrrrr", header, body, caption, "tab:robustness",
                                           provenance(tidy, inventory))),
            write_csv(rb, Path(outdir) / "tables" / "robustness.csv"),
            write_csv(det, Path(outdir) / "tables" / "robustness_detail.csv")]


def write_control_encoder(tidy: pd.DataFrame, outdir, inventory: dict | None = None, ls=None) -> list[Path]:
    ce = control_encoder(tidy, ls)
    header = ["Target", "Split", "Pretrained en", "Pretrained non-en", "Random en", "Random non-en",
              r"$\Delta$ non-en"]
    body = []
    for r in ce.to_dict("records"):
        en = [r["pretrained_en_mean"], r["random_en_mean"]]
        xx = [r["pretrained_xx_mean"], r["random_xx_mean"]]
        body.append([_name(r["ttask"], TARGET_NAMES), r["split"]] + [
            fmt(r[f"{e}_{k}_mean"], r[f"{e}_{k}_sd"], r[f"{e}_{k}_n"],
                bold=_is_best(r[f"{e}_{k}_mean"], en if k == "en" else xx))
            for e in [MAIN_ENCODER, CONTROL_ENCODER] for k in ["en", "xx"]
        ] + [fmt(r["delta_xx_mean"], r["delta_xx_sd"], r["delta_xx_n"], signed=True)])
    if not body:
        body.append(["--"] * len(header))
    caption = (r"Pretrained encoder against the random-init control encoder (same tokenizer), no intermediate "
               r"phase, clean data: English score and mean over the non-English languages (zero-shot). Transfer "
               r"the random encoder also achieves comes from token overlap, not from pretraining. $\Delta$ = "
               r"pretrained $-$ random on the non-English mean. Retrieval targets have no English side "
               r"(``--''). Higher of the two encoders in bold.")
    return [atomic_write_text(Path(outdir) / "tables" / "control_encoder.tex",
                              render_table("llrrrrr", header, body, caption, "tab:control-encoder",
                                           provenance(tidy, inventory))),
            write_csv(ce, Path(outdir) / "tables" / "control_encoder.csv")]


def write_task_scores(tidy: pd.DataFrame, outdir) -> list[Path]:
    return [write_csv(task_score_table(tidy), Path(outdir) / "tables" / "task_scores.csv")]


def sig_note(sig: pd.DataFrame | None) -> str:
    """Caption sentence on the dagger marks."""
    if sig is None or sig.empty:
        return "No per-example results, so no significance marks."
    n = int(sig["n_resamples"].max())
    return (r"$^{\dagger}$: the paired bootstrap over examples (" + f"{n}" + r" resamples, stratified by language, "
            r"same encoder and seed) puts the 95\% interval of the difference from the baseline above or below 0 "
            r"in every seed; retrieval targets have no per-example results.")


def write_significance_csv(sig: pd.DataFrame | None, outdir) -> list[Path]:
    from .significance import COLUMNS
    return [write_csv(sig if sig is not None else pd.DataFrame(columns=COLUMNS),
                      Path(outdir) / "tables" / "significance.csv")]


def write_tables(tidy: pd.DataFrame, outdir, inventory: dict | None = None,
                 sig: pd.DataFrame | None = None, rb: pd.DataFrame | None = None) -> list[Path]:
    """`rb`: `robustness(tidy)` when the caller has it already (make_all computes it once for the tables,
    numbers and figures; it is the slowest table to build)."""
    ls = language_scores(tidy)
    ts = task_scores(tidy, ls)
    return (write_task_scores(tidy, outdir) + write_dev_deltas(tidy, outdir, inventory, ts, sig)
            + write_xtreme_test(tidy, outdir, inventory, ts, sig) + write_controls(tidy, outdir, inventory, ts)
            + write_significance_csv(sig, outdir)
            + write_robustness(tidy, outdir, inventory, ls, rb) + write_control_encoder(tidy, outdir, inventory, ls))


# --------------------------------------------------------------------------------------------------------------
# numbers.tex
# --------------------------------------------------------------------------------------------------------------

_DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
MACRO_STEMS = {"squad_v2": "Squad", "anli_plus": "AnliPlus", "sst2": "Sst", "pawsx": "Pawsx"}


def macro_name(*parts: str) -> str:
    """A LaTeX macro name (letters only) from parts: ("squad_v2", "DevGain") -> SquadDevGain."""
    out = []
    for p in parts:
        p = MACRO_STEMS.get(p, p)
        p = re.sub(r"\d", lambda m: _DIGITS[int(m.group())], p)
        out += [w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z]+", p) if w]
    return "".join(out)


def _num(x: float, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = round(x, 1) + 0.0
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def numbers(tidy: pd.DataFrame, inventory: dict | None = None, claims=None,
            sig: pd.DataFrame | None = None, rb: pd.DataFrame | None = None) -> dict[str, str]:
    """The numbers quoted in the text, as macro name -> text (`rb`: as in `write_tables`)."""
    ls = language_scores(tidy)
    ts = task_scores(tidy, ls)
    dd, xt, ct = dev_deltas(tidy, ts), xtreme_test(tidy, ts), controls(tidy, ts)
    rb = robustness(tidy, ls) if rb is None else rb
    m: dict[str, str] = {}
    if inventory:
        m["RunScale"] = tex_escape(inventory["scale"])
        m["RunModel"] = tex_escape(inventory["model_id"])
    for r in dd[dd["ttask"] == "avg"].itertuples():
        if r.itask == BASELINE:
            m["BaselineDevAvg"] = _num(r.v_mean)
        else:
            m[macro_name(r.itask, "DevGain")] = _num(r.v_mean, signed=True)
            m[macro_name(r.itask, "DevGainTargets")] = str(r.n_targets)
    for r in xt.itertuples():
        if r.ttask == "xtreme":
            m["BaselineXtreme"] = _num(r.baseline_mean)
            m["BestXtreme"] = _num(r.best_mean)
            m["BestXtremeGain"] = _num(r.gain_mean, signed=True)
            m["XtremeTargets"] = str(r.n_targets)
        else:
            m[macro_name("baseline", r.ttask, "Test")] = _num(r.baseline_mean)
            m[macro_name("best", r.ttask, "Test")] = _num(r.best_mean)
            m[macro_name("best", r.ttask, "Gain")] = _num(r.gain_mean, signed=True)
            m[macro_name("best", r.ttask, "Itask")] = tex_escape(ITASK_NAMES.get(r.best_itask, r.best_itask))
    avg = lookup(ct, ttask="avg") if not ct.empty else None
    if avg is not None:
        for c in CONTROL_ITASKS:
            m[macro_name(c, "Delta")] = _num(avg[f"{c}_delta_mean"], signed=True)
    if not rb.empty:
        for fam, grp in rb.groupby("family"):
            top = grp[grp["severity"] == grp["severity"].max()]
            b = lookup(top, itask=BASELINE)
            if b is not None:
                m[macro_name(fam, "BaselineDrop")] = _num(b["drop_mean"])
            others = top[top["itask"] != BASELINE].dropna(subset=["vs_baseline_mean"])
            if not others.empty:
                best = others.sort_values("vs_baseline_mean", ascending=False).iloc[0]
                m[macro_name(fam, "MostRobustItask")] = tex_escape(ITASK_NAMES.get(best["itask"], best["itask"]))
                m[macro_name(fam, "MostRobustGain")] = _num(best["vs_baseline_mean"], signed=True)
    if sig is not None and not sig.empty:
        from .significance import pooled_marks
        marks = {k: v for k, v in pooled_marks(sig, selection_splits(ts)).items() if k[0] in CANDIDATE_ITASKS}
        m["BootstrapResamples"] = str(int(sig["n_resamples"].max()))
        m["DevDeltasTested"] = str(len(marks))
        m["DevDeltasSignificant"] = str(sum(marks.values()))
    if claims is not None:
        from .claims import VERDICT_MACROS
        m["NumClaims"] = str(len(claims))
        for c in claims:  # \ClaimFourPaper, \ClaimFourValue, \ClaimFourVerdict: claim C4 as in claims.tex
            stem = macro_name("claim", c.id[1:])
            m[f"{stem}Paper"], m[f"{stem}Value"], m[f"{stem}Verdict"] = (tex_escape(c.paper), tex_escape(c.value),
                                                                          tex_escape(c.verdict))
        for v, stem in VERDICT_MACROS.items():
            m[f"NumClaims{stem}"] = str(sum(c.verdict == v for c in claims))
    return m


def write_numbers(tidy: pd.DataFrame, outdir, inventory: dict | None = None, claims=None,
                  sig: pd.DataFrame | None = None, rb: pd.DataFrame | None = None) -> list[Path]:
    m = numbers(tidy, inventory, claims, sig, rb)
    lines = ["% Generated by xstilts.report from the tidy results; do not edit by hand.",
             f"% {provenance(tidy, inventory)}"]
    lines += [f"\\newcommand{{\\{k}}}{{{v}}}" for k, v in m.items()]
    return [atomic_write_text(Path(outdir) / "numbers.tex", "\n".join(lines) + "\n")]
