"""Robustness analysis from the per-example results (examples.jsonl.gz of every fine-tune job).

For every (encoder, itask, seed, ttask, lang, family, severity) with a perturbed test set:
  clean, perturbed   the target's score (XTREME: accuracy; span F1; QA (F1 + EM) / 2) on the same examples
  drop, rel_drop     clean - perturbed (points) and 100 * drop / clean
  flip_rate          share of examples whose prediction changed under the perturbation (paired by id)
and per (..., family): auc = area under perturbed/clean against severity from 0 (ratio 1) to the largest
severity, divided by that severity (1 = no loss at any severity).

Paired bootstrap (`bootstrap_vs_baseline`): for each intermediate model, target, family and severity, the
difference of its relative drop from the baseline's (model - baseline; negative = more robust), pooled over
the perturbed languages and averaged over seeds. Each resample draws examples (lang, id) with replacement,
jointly for the four systems (baseline clean and perturbed, model clean and perturbed), and recomputes the
corpus metrics from the summed statistics (`xstilts.stats`: the resampler and scores the significance table uses).

Attack rows (families "attack", "attack_transfer") come from the tidy table (`attack_table`).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import stats
from xstilts import tasks as T
from xstilts.records import atomic_write_text, read_examples
from xstilts.report import tables as tb
from xstilts.report import typeset as ts
from xstilts.report.aggregate import wildcards_of

STATS = list(stats.STAT_KEYS)
GROUP = ["encoder", "itask", "seed", "ttask", "lang", "split", "family", "severity"]
N_BOOT = 1000
ATTACK_FAMILIES = ("attack", "attack_transfer")


def load_examples(paths) -> pd.DataFrame:
    """All per-example rows of the given examples.jsonl.gz files, with encoder/itask/seed from the path."""
    frames = []
    for p in paths:
        rows = read_examples(p)
        if not rows:
            continue
        w = wildcards_of(p)
        df = pd.DataFrame(rows)
        df["encoder"], df["itask"], df["seed"] = w["encoder"], w["itask"], int(w["seed"])
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=GROUP + ["id", "pred"] + STATS)
    df = pd.concat(frames, ignore_index=True)
    for c in STATS:
        if c not in df:
            df[c] = np.nan
    df[STATS] = df[STATS].astype(float).fillna(0.0)
    return df


def _paired(ex: pd.DataFrame) -> pd.DataFrame:
    """Perturbed test rows joined with the clean test row of the same model, task, language and id."""
    test = ex[ex["split"] == "test"]
    clean = test[test["family"] == "clean"]
    pert = test[(test["family"] != "clean") & ~test["family"].isin(ATTACK_FAMILIES)]
    keys = ["encoder", "itask", "seed", "ttask", "lang", "id"]
    c = clean[keys + ["pred"] + STATS].rename(columns={"pred": "pred_clean", **{s: f"c_{s}" for s in STATS}})
    return pert.merge(c, on=keys, how="inner", validate="many_to_one")


def summary(ex: pd.DataFrame) -> pd.DataFrame:
    """One row per GROUP (perturbed sets only): n, clean, perturbed, drop, rel_drop, flip_rate."""
    pr = _paired(ex)
    if pr.empty:
        return pd.DataFrame(columns=GROUP + ["n", "clean", "perturbed", "drop", "rel_drop", "flip_rate"])
    pr = pr.assign(flip=(pr["pred"] != pr["pred_clean"]).astype(float))
    agg = pr.groupby(GROUP, sort=True).agg(
        n=("id", "size"), flip_rate=("flip", "mean"),
        **{s: (s, "sum") for s in STATS}, **{f"c_{s}": (f"c_{s}", "sum") for s in STATS}).reset_index()
    agg["perturbed"] = [float(stats.task_score(t, {s: r[s] for s in STATS})) for t, (_, r) in zip(agg["ttask"], agg.iterrows())]
    agg["clean"] = [float(stats.task_score(t, {s: r[f"c_{s}"] for s in STATS})) for t, (_, r) in zip(agg["ttask"], agg.iterrows())]
    agg["drop"] = agg["clean"] - agg["perturbed"]
    agg["rel_drop"] = 100 * agg["drop"] / agg["clean"].where(agg["clean"] != 0)
    agg["flip_rate"] *= 100
    return agg[GROUP + ["n", "clean", "perturbed", "drop", "rel_drop", "flip_rate"]]


def auc(summ: pd.DataFrame) -> pd.DataFrame:
    """Area under perturbed/clean against severity, from (0, 1) to the largest severity, over that severity."""
    keys = [k for k in GROUP if k != "severity"]
    out = []
    for key, g in summ.groupby(keys, sort=True):
        g = g.sort_values("severity")
        ratio = (g["perturbed"] / g["clean"].where(g["clean"] != 0)).to_numpy()
        if np.isnan(ratio).any():
            continue
        x = np.concatenate([[0.0], g["severity"].to_numpy(dtype=float)])
        y = np.concatenate([[1.0], ratio])
        out.append({**dict(zip(keys, key)), "auc": float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / x[-1])})
    return pd.DataFrame(out, columns=keys + ["auc"])


def _rel_drop(ttask, clean_sums, pert_sums):
    c, p = stats.task_score(ttask, clean_sums), stats.task_score(ttask, pert_sums)
    return np.where(c > 0, 100 * (c - p) / np.where(c > 0, c, 1.0), np.nan)


def bootstrap_vs_baseline(ex: pd.DataFrame, n: int = N_BOOT, seed: int = 0,
                          baseline: str = tb.BASELINE) -> pd.DataFrame:
    """Per (encoder, itask != baseline, ttask, family, severity): the model's relative drop minus the
    baseline's (pooled over languages; each the mean over the fine-tuning seeds both have), with a 95%
    paired-bootstrap interval and p = share of resampled differences >= 0 (one-sided: evidence that the model
    is more robust than the baseline). One resample draws examples (lang, id) once and applies the draw to
    every system and seed, so seeds are averaged inside each resample."""
    pr = _paired(ex)
    cols = ["encoder", "itask", "ttask", "family", "severity", "n_seeds", "n_examples", "rel_drop",
            "rel_drop_baseline", "diff", "low", "high", "p"]
    if pr.empty:
        return pd.DataFrame(columns=cols)
    out = []
    rng = np.random.default_rng(seed)
    keys = ["encoder", "ttask", "family", "severity"]
    # numpy, not per-group pandas indexing: one sort, then contiguous blocks per (group, itask, seed) in
    # (lang, id) order; models and seeds are paired with the baseline by (lang, id), never by position
    pr = pr.sort_values(keys + ["itask", "seed", "lang", "id"], kind="stable").reset_index(drop=True)
    clean_m = pr[[f"c_{s}" for s in STATS]].to_numpy(dtype=float)
    pert_m = pr[STATS].to_numpy(dtype=float)
    # (lang, id) as one integer per row, increasing in the (lang, id) sort order within each block, so the
    # blocks can be intersected and searched as sorted arrays. Never a separator-joined string: pandas' str
    # dtype without pyarrow drops a NUL in concatenation and the keys would no longer split back.
    lid = pr.groupby(["lang", "id"], sort=True).ngroup().to_numpy()
    # contiguous row positions of every (group, itask, seed) block, keyed by tuples
    block_pos: dict[tuple, dict[tuple, np.ndarray]] = {}
    for bkey, bpos in pr.groupby(keys + ["itask", "seed"], sort=True).indices.items():
        block_pos.setdefault(tuple(bkey[:len(keys)]), {})[tuple(bkey[len(keys):])] = np.sort(bpos)
    counts_of: dict[int, np.ndarray] = {}  # one resampling per example count, shared by models and seeds
    for key, blocks in sorted(block_pos.items()):
        t = key[1]
        base_seeds = sorted(sd for it, sd in blocks if it == baseline)
        if not base_seeds:
            continue
        for itask in sorted({it for it, _ in blocks if it != baseline}):
            seeds = [sd for sd in base_seeds if (itask, sd) in blocks]
            if not seeds:
                continue
            involved = [blocks[(baseline, sd)] for sd in seeds] + [blocks[(itask, sd)] for sd in seeds]
            common = lid[involved[0]]
            for bl in involved[1:]:
                if not np.array_equal(lid[bl], common):
                    common = np.intersect1d(common, lid[bl])
            k = len(common)
            if not k:
                continue
            aligned = [bl if np.array_equal(lid[bl], common) else bl[np.searchsorted(lid[bl], common)]
                       for bl in involved]
            ns = len(seeds)
            # per seed: [baseline clean, baseline perturbed, model clean, model perturbed]
            mats = [[clean_m[aligned[i]], pert_m[aligned[i]], clean_m[aligned[ns + i]], pert_m[aligned[ns + i]]]
                    for i in range(ns)]
            if k not in counts_of:
                counts_of[k] = stats.resample_counts(rng, k, n)

            def rel_drops(sums4):  # 4 arrays (rows x stats) -> (model, baseline) relative drops
                d = [dict(zip(STATS, x.T)) for x in sums4]
                return _rel_drop(t, d[2], d[3]), _rel_drop(t, d[0], d[1])

            full = [rel_drops([x.sum(0, keepdims=True) for x in m]) for m in mats]
            rd_m = float(np.mean([f[0][0] for f in full]))
            rd_b = float(np.mean([f[1][0] for f in full]))
            boot = np.zeros(n)
            for m in mats:  # one product per seed for its four systems
                rm, rb = rel_drops(np.split(counts_of[k] @ np.hstack(m), 4, axis=1))
                boot += (rm - rb) / ns
            boot = boot[~np.isnan(boot)]
            lo, hi = stats.interval(boot) if len(boot) else (math.nan, math.nan)
            out.append({**dict(zip(keys, key)), "itask": itask, "n_seeds": ns, "n_examples": k,
                        "rel_drop": rd_m, "rel_drop_baseline": rd_b, "diff": rd_m - rd_b, "low": float(lo),
                        "high": float(hi), "p": float(np.mean(boot >= 0)) if len(boot) else math.nan})
    return pd.DataFrame(out, columns=cols)


def attack_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per (encoder, itask, ttask, family in attack/attack_transfer, metric): mean over languages and seeds."""
    df = tidy[tidy["family"].isin(ATTACK_FAMILIES)]
    if df.empty:
        return pd.DataFrame(columns=["encoder", "itask", "ttask", "family", "metric", "value", "n_langs"])
    return (df.groupby(["encoder", "itask", "ttask", "family", "metric"], sort=True)
            .agg(value=("value", "mean"), n_langs=("lang", "nunique")).reset_index())


# ------------------------------------------------------------------------------------------------ output

def _itasks(values) -> list[str]:
    return tb._ordered(values, tb.ITASK_ORDER)


def write_analysis(ex: pd.DataFrame, tidy: pd.DataFrame, outdir, inventory: dict | None = None) -> list[Path]:
    outdir = Path(outdir)
    summ = summary(ex)
    au = auc(summ)
    bs = bootstrap_vs_baseline(ex)
    at = attack_table(tidy)
    prov = ts.provenance(tidy, inventory)
    paths = [tb.write_csv(summ, outdir / "tables" / "robustness_examples.csv"),
             tb.write_csv(au, outdir / "tables" / "robustness_auc.csv"),
             tb.write_csv(bs, outdir / "tables" / "robustness_bootstrap.csv"),
             tb.write_csv(at, outdir / "tables" / "robustness_attack.csv")]
    paths.append(atomic_write_text(outdir / "tables" / "robustness_bootstrap.tex", _bootstrap_tex(bs, prov)))
    paths.append(atomic_write_text(outdir / "tables" / "robustness_flips.tex", _flips_tex(summ, au, prov)))
    paths.append(atomic_write_text(outdir / "tables" / "robustness_attack.tex", _attack_tex(at, prov)))
    from xstilts.report import figures as fg
    paths += plot_severity(summ, outdir, fg)
    return paths


def _no_results(caption: str, label: str, prov: str) -> str:
    return ts.render_table("l", ["--"], [["no perturbed per-example results"]], caption, label, prov)


def _at_largest_severity(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows at the largest severity of their (target, family)."""
    return frame[frame["severity"] == frame.groupby(["ttask", "family"])["severity"].transform("max")]


def _bootstrap_tex(bs: pd.DataFrame, prov: str) -> str:
    main = bs[bs["encoder"] == tb.MAIN_ENCODER]
    caption = (r"Difference in relative drop (model $-$ baseline, \% of clean; negative = more robust than the "
               r"baseline) at the largest severity, pooled over the perturbed languages, with 95\% paired-bootstrap "
               rf"intervals ({N_BOOT} resamples of examples, joint over clean/perturbed and both models); bold: the "
               r"interval excludes 0. Relative drops are means over the fine-tuning seeds, resampled jointly. Every "
               r"severity: robustness\_bootstrap.csv.")
    if main.empty:
        return _no_results(caption, "tab:robustness-boot", prov)
    top = _at_largest_severity(main)
    fams = sorted(top["family"].unique())
    header = ["target", "model"] + [ts.tex_escape(f) for f in fams]
    body = []
    for t in tb._ordered(top["ttask"].unique(), T.TARGET_TASKS):
        sub = top[top["ttask"] == t]
        for it in _itasks(sub["itask"].unique()):
            cells = [ts.tex_escape(t), ts._name(it, tb.ITASK_NAMES)]
            for f in fams:
                r = sub[(sub["itask"] == it) & (sub["family"] == f)]
                if r.empty:
                    cells.append("--")
                    continue
                d, lo, hi = r["diff"].iloc[0], r["low"].iloc[0], r["high"].iloc[0]
                sig = not (math.isnan(lo) or lo <= 0 <= hi)
                cells.append(ts.fmt(d, signed=True, bold=sig) + rf"\,{{\scriptsize[{lo:+.1f}, {hi:+.1f}]}}")
            body.append(cells)
        body.append("midrule")
    return ts.render_table("ll" + "r" * len(fams), header, body, caption, "tab:robustness-boot", prov)


def _flips_tex(summ: pd.DataFrame, au: pd.DataFrame, prov: str) -> str:
    main = summ[summ["encoder"] == tb.MAIN_ENCODER]
    caption = (r"Prediction flip rate / AUC per family. Flip rate: \% of test examples whose prediction changes "
               r"under the perturbation (largest severity); AUC: area under the perturbed/clean score curve over severity (AUC; 1 = no "
               r"loss), per family; mean over targets, perturbed languages and seeds. Per task, language, "
               r"severity and seed: robustness\_examples.csv, robustness\_auc.csv.")
    if main.empty:
        return _no_results(caption, "tab:robustness-flips", prov)
    top = _at_largest_severity(main)
    a = au[au["encoder"] == tb.MAIN_ENCODER]
    fams = sorted(top["family"].unique())
    header = ["model"] + [ts.tex_escape(f) for f in fams]
    body = []
    for it in _itasks(top["itask"].unique()):
        cells = [ts._name(it, tb.ITASK_NAMES)]
        for f in fams:
            fl = top[(top["itask"] == it) & (top["family"] == f)]["flip_rate"].mean()
            ar = a[(a["itask"] == it) & (a["family"] == f)]["auc"].mean()
            cells.append(f"{ts.fmt(fl)} / {ts.fmt(ar, digits=3)}")
        body.append(cells)
    return ts.render_table("l" + "r" * len(fams), header, body, caption, "tab:robustness-flips", prov)


def _attack_tex(at: pd.DataFrame, prov: str) -> str:
    caption = (r"Black-box greedy attack (word importance by deletion, candidates from the perturbation "
               r"families, per-example query and changed-word budgets). Direct: each model attacked itself; "
               r"transfer: the baseline's adversarial examples. Accuracy under attack, attack success rate "
               r"(\% of the correctly classified examples flipped), words changed and queries per attacked "
               r"example; mean over the attacked languages and seeds.")
    main = at[at["encoder"] == tb.MAIN_ENCODER]
    if main.empty:
        return ts.render_table("l", ["--"], [["no attack results"]], caption, "tab:attack", prov)
    header = ["target", "model", "acc.\\ attacked", "success", "words", "queries", "acc.\\ transfer",
              "success transfer"]
    body = []
    for t in tb._ordered(main["ttask"].unique(), T.TARGET_TASKS):
        for it in _itasks(main[main["ttask"] == t]["itask"].unique()):
            def v(fam, metric):
                r = main[(main["ttask"] == t) & (main["itask"] == it) & (main["family"] == fam)
                         & (main["metric"] == metric)]["value"]
                return r.mean() if len(r) else math.nan
            body.append([ts.tex_escape(t), ts._name(it, tb.ITASK_NAMES), ts.fmt(v("attack", "accuracy")),
                         ts.fmt(v("attack", "attack_success_rate")), ts.fmt(v("attack", "attack_words_changed")),
                         ts.fmt(v("attack", "attack_queries")), ts.fmt(v("attack_transfer", "accuracy")),
                         ts.fmt(v("attack_transfer", "attack_success_rate"))])
        body.append("midrule")
    return ts.render_table("llrrrrrr", header, body, caption, "tab:attack", prov)


def plot_severity(summ: pd.DataFrame, outdir, fg) -> list[Path]:
    """perturbed/clean against severity (0 = 1), one line per intermediate task, one panel per task x family;
    mean over languages and seeds; the baseline thick and black."""
    import seaborn as sns
    main = summ[summ["encoder"] == tb.MAIN_ENCODER]
    if main.empty:
        return fg._placeholder(outdir, "robustness_severity", "no perturbed per-example results")
    d = main.assign(ratio=main["perturbed"] / main["clean"].where(main["clean"] != 0))
    d = d.groupby(["ttask", "family", "itask", "severity"], as_index=False)["ratio"].mean()
    zero = d.drop_duplicates(["ttask", "family", "itask"]).assign(severity=0.0, ratio=1.0)
    d = pd.concat([zero, d], ignore_index=True).sort_values(["ttask", "family", "itask", "severity"])
    d["model"] = d["itask"].map(lambda i: tb.ITASK_NAMES.get(i, i))
    ttasks = tb._ordered(d["ttask"].unique(), T.TARGET_TASKS)
    fams = sorted(d["family"].unique())
    order = [tb.ITASK_NAMES.get(i, i) for i in _itasks(d["itask"].unique())]
    palette = dict(zip(order, sns.color_palette("tab20", len(order))))
    base = tb.ITASK_NAMES[tb.BASELINE]
    palette[base] = (0, 0, 0)
    fig = fg._new_figure(2.4 * len(fams) + 2.0, 2.2 * len(ttasks))
    axes = fig.subplots(len(ttasks), len(fams), squeeze=False, sharex=True, sharey=True)
    for r, t in enumerate(ttasks):
        for c, f in enumerate(fams):
            ax = axes[r][c]
            sub = d[(d["ttask"] == t) & (d["family"] == f)]
            if sub.empty:
                ax.axis("off")
                continue
            # one value per point already (means): no seaborn aggregation or bootstrapped bands
            sns.lineplot(data=sub, x="severity", y="ratio", hue="model", palette=palette, linewidth=1.0,
                         hue_order=[o for o in order if o in set(sub["model"])], marker="o", markersize=3,
                         estimator=None, errorbar=None, ax=ax, legend=(r == 0 and c == 0))
            b = sub[sub["model"] == base]
            ax.plot(b["severity"], b["ratio"], color="black", linewidth=2.4, zorder=5)
            ax.set_title(f"{t} / {f}", fontsize="small")
            ax.set_xlabel("severity" if r == len(ttasks) - 1 else "")
            ax.set_ylabel("score / clean" if c == 0 else "")
    leg = axes[0][0].get_legend()
    if leg is not None:
        handles, labels = axes[0][0].get_legend_handles_labels()
        leg.remove()
        fig.legend(handles, labels, loc="outside right center", fontsize="small")
    return fg.save(fig, outdir, "robustness_severity")
