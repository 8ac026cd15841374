"""`paper/numbers.tex`: every number the paper's text quotes, as `\\newcommand` macros computed from the tidy
results, the claims and the significance table (nothing typed by hand)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from xstilts.records import atomic_write_text
from xstilts.report.claims import VERDICT_MACROS
from xstilts.report.significance import pooled_marks
from xstilts.report.tables import (BASELINE, CANDIDATE_ITASKS, CONTROL_ITASKS, ITASK_NAMES, controls, dev_deltas,
                                   language_scores, lookup, robustness, selection_splits, task_scores, xtreme_test)
from xstilts.report.typeset import provenance, tex_escape

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
        marks = {k: v for k, v in pooled_marks(sig, selection_splits(ts)).items() if k[0] in CANDIDATE_ITASKS}
        m["BootstrapResamples"] = str(int(sig["n_resamples"].max()))
        m["DevDeltasTested"] = str(len(marks))
        m["DevDeltasSignificant"] = str(sum(marks.values()))
    if claims is not None:
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
