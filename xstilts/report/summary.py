"""A Markdown summary of a run for the README: English dev vs chance, zero-shot and retrieval of the
pretrained encoder beside the random-init control, from results/tidy.tsv alone.

    python -m xstilts.report.summary results/tidy.tsv                  # summary + robustness
    python -m xstilts.report.summary results/tidy.tsv --per-language   # the small profile's README table
"""
from __future__ import annotations

import sys

import pandas as pd

from xstilts import tasks as T

# chance level of each target's primary metric on the micro benchmark (balanced labels; spans: ~0)
CHANCE = {"xnli": 33.3, "pawsx": 50.0, "udpos": None, "panx": None, "xquad": None, "mlqa": None,
          "tydiqa": None, "bucc": None, "tatoeba": None}


def _score(df: pd.DataFrame, ttask: str) -> pd.Series:
    metric = T.get(ttask).metric
    return df[(df.ttask == ttask) & (df.metric == metric)].groupby("lang")["value"].mean()


def summary(tidy: pd.DataFrame) -> str:
    clean = tidy[(tidy.family == "clean") & (tidy.itask == "baseline")]
    lines = ["| target | metric | chance | pretrained: English dev (test if no dev) | pretrained: zero-shot test, mean of "
             "other languages | random-init control: English dev (test if no dev) | random-init: zero-shot test |",
             "|---|---|---|---|---|---|---|"]
    for t in T.TARGET_TASKS:
        row = [t, T.get(t).metric, "—" if CHANCE.get(t) is None else f"{CHANCE[t]:.1f}"]
        for enc in ("pretrained", "random"):
            d = clean[clean.encoder == enc]
            dev = _score(d[d.split == "dev"], t)
            test = _score(d[d.split == "test"], t)
            en = dev.get("en", _score(d[d.split == "test"], t).get("en"))  # XQuAD has no dev split
            xx = test.drop("en", errors="ignore")
            row += ["—" if en is None else f"{en:.1f}", "—" if xx.empty else f"{xx.mean():.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def robustness(tidy: pd.DataFrame) -> str:
    d = tidy[(tidy.encoder == "pretrained") & (tidy.split == "test")]
    d = d[d.apply(lambda r: r.metric == T.get(r.ttask).metric, axis=1)]
    # clean scores over exactly the (target, language) pairs that have perturbed copies: a paired comparison
    pairs = set(map(tuple, d[d.family != "clean"][["ttask", "lang"]].drop_duplicates().values))
    d = d[[(a, b) in pairs for a, b in zip(d.ttask, d.lang)]]
    g = d.groupby(["itask", "family", "severity"])["value"].mean().unstack(["family", "severity"])
    cols = sorted(g.columns, key=lambda c: (c[0] != "clean", c[0], c[1]))
    g = g[cols]
    head = "| itask | " + " | ".join(f"{f} {s:g}" if f != "clean" else "clean" for f, s in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for itask, r in g.iterrows():
        lines.append(f"| {itask} | " + " | ".join(f"{v:.1f}" for v in r.values) + " |")
    return "\n".join(lines)


def per_language(tidy: pd.DataFrame) -> str:
    """Zero-shot test score (primary metric, clean, mean over seeds) per target and language: the random-init
    control, the baseline, every intermediate model; `margin` = baseline - control."""
    d = tidy[(tidy.split == "test") & (tidy.family == "clean")]
    d = d[d.apply(lambda r: r.metric == T.get(r.ttask).metric, axis=1)]
    from xstilts.report.tables import ITASK_ORDER, _ordered
    itasks = _ordered(d[d.encoder == "pretrained"].itask.unique(), ITASK_ORDER)
    cols = ["random-init"] + itasks
    lines = ["| target | lang | n | " + " | ".join(cols) + " | margin |", "|---" * (len(cols) + 4) + "|"]
    for t in [t for t in T.TARGET_TASKS if t in set(d.ttask)]:
        dt = d[d.ttask == t]
        langs = sorted(dt.lang.unique(), key=lambda l: (l != "en", l))
        for lang in langs:
            dl = dt[dt.lang == lang]
            v = {"random-init": dl[(dl.encoder == "random") & (dl.itask == "baseline")].value.mean()}
            for it in itasks:
                v[it] = dl[(dl.encoder == "pretrained") & (dl.itask == it)].value.mean()
            n = int(dl.n.max())
            cells = ["—" if pd.isna(v[c]) else f"{v[c]:.1f}" for c in cols]
            margin = v.get("baseline", float("nan")) - v["random-init"]
            lines.append(f"| {t} | {lang} | {n} | " + " | ".join(cells) + f" | {margin:+.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m xstilts.report.summary", description=__doc__.split("\n\n")[0])
    ap.add_argument("tidy", nargs="?", default="results/tidy.tsv", help="a run's tidy results (results/tidy.tsv)")
    ap.add_argument("--per-language", action="store_true",
                    help="the per-target, per-language table of the small profile's README section")
    args = ap.parse_args(argv)
    df = pd.read_csv(args.tidy, sep="\t")
    if args.per_language:
        print(per_language(df))
        return 0
    print(summary(df))
    print()
    print("Mean test score over the (target, language) pairs that have perturbed copies, clean vs perturbed:")
    print()
    print(robustness(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
