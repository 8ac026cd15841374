"""Figures of the paper, each written as PDF and PNG into `paper/figures/`.

Figures are drawn on `matplotlib.figure.Figure` objects bound to the Agg canvas explicitly, never through
pyplot's global state, so no display is needed and importing the module changes no global backend. A figure
without data is still written, as a labelled placeholder, so that the paper always compiles.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from xstilts import tasks as T
from xstilts.report import tables as tb

FORMATS = ("pdf", "png")
DPI = 200
# Fixed metadata so that a rerun on the same results gives the same bytes.
METADATA = {"pdf": {"CreationDate": None, "Producer": None, "Creator": "xstilts.report"},
            "png": {"Software": None}}


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, outdir, stem: str) -> list[Path]:
    """Write `stem`.pdf and `stem`.png atomically (temporary file, then rename)."""
    folder = Path(outdir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in FORMATS:
        path = folder / f"{stem}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=DPI, metadata=METADATA[ext])
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        paths.append(path)
    return paths


def _placeholder(outdir, stem: str, message: str) -> list[Path]:
    fig = _new_figure(4, 1.5)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return save(fig, outdir, stem)


def plot_dev_heatmap(tidy: pd.DataFrame, outdir, ts: pd.DataFrame | None = None) -> list[Path]:
    """Heatmap of intermediate task x target: dev score minus baseline (mean over seeds), with the Avg column."""
    dd = tb.dev_deltas(tidy, ts)
    d = dd[dd["kind"] == "delta"]
    if d.empty:
        return _placeholder(outdir, "dev_deltas", "no intermediate-task results")
    grid = d.pivot(index="itask", columns="ttask", values="v_mean")
    cols = [t for t in T.TARGET_TASKS if t in grid.columns] + ["avg"]
    rows = tb._ordered(grid.index, tb.CANDIDATE_ITASKS)
    grid = grid.reindex(index=rows, columns=cols)
    grid.index = [tb.ITASK_NAMES.get(i, i) for i in grid.index]
    grid.columns = [tb.TARGET_NAMES.get(c, "Avg" if c == "avg" else c) for c in grid.columns]
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    fig = _new_figure(1.0 + 0.7 * len(cols), 0.8 + 0.4 * len(rows))
    ax = fig.add_subplot()
    sns.heatmap(grid, ax=ax, annot=True, fmt="+.1f", cmap="RdBu", vmin=-lim, vmax=lim, center=0,
                linewidths=0.5, cbar_kws={"label": "score - baseline (points)"})
    ax.set_xlabel("target task (dev; test where no dev split)")
    ax.set_ylabel("intermediate task")
    return save(fig, outdir, "dev_deltas")


def plot_robustness(tidy: pd.DataFrame, outdir, ls: pd.DataFrame | None = None,
                    rb: pd.DataFrame | None = None) -> list[Path]:
    """Score vs perturbation severity, one panel per family, one line per itask; severity 0 = clean score on the
    same targets and languages. The baseline is drawn thick and black."""
    rb = tb.robustness(tidy, ls) if rb is None else rb
    if rb.empty:
        return _placeholder(outdir, "robustness_curves", "no perturbed results")
    # Severity 0 of each curve: the clean score of that itask on the perturbation's targets and languages
    # (the same in every severity row of one family when the language sets match; the lowest severity's).
    first = rb.sort_values("severity").groupby(["family", "itask"], as_index=False).first()
    clean = first.assign(severity=0.0, score=first["clean_mean"])[["family", "itask", "severity", "score"]]
    pert = rb.assign(score=rb["perturbed_mean"])[["family", "itask", "severity", "score"]]
    data = pd.concat([clean, pert], ignore_index=True).sort_values(["family", "itask", "severity"])
    data["model"] = data["itask"].map(lambda i: tb.ITASK_NAMES.get(i, i))
    families = sorted(data["family"].unique())
    order = [tb.ITASK_NAMES.get(i, i) for i in tb._ordered(data["itask"].unique(), tb.ITASK_ORDER)]
    palette = dict(zip(order, sns.color_palette("tab20", len(order))))
    base = tb.ITASK_NAMES[tb.BASELINE]
    palette[base] = (0, 0, 0)
    fig = _new_figure(3.2 * len(families) + 2.0, 3.2)
    axes = fig.subplots(1, len(families), squeeze=False, sharey=True)[0]
    for ax, fam in zip(axes, families):
        sub = data[data["family"] == fam]
        others = sub[sub["model"] != base]
        if not others.empty:
            sns.lineplot(data=others, x="severity", y="score", hue="model",
                         hue_order=[o for o in order if o in set(others["model"])], palette=palette, marker="o",
                         linewidth=1.0, ax=ax, legend="auto")
            ax.get_legend().remove()
        b = sub[sub["model"] == base]
        ax.plot(b["severity"], b["score"], color="black", linewidth=2.6, marker="s", label=base, zorder=5)
        ax.set_title(fam)
        ax.set_xlabel("severity (share of words perturbed)")
        ax.set_ylabel("score (mean over targets)")
    legend = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, h)
    labels = [o for o in order if o in legend]
    fig.legend([legend[x] for x in labels], labels, loc="outside right center", fontsize="small")
    return save(fig, outdir, "robustness_curves")


def plot_language_gains(tidy: pd.DataFrame, outdir, ts=None, ls=None) -> list[Path]:
    """Per target, bars of best intermediate model - baseline per language (test split, means over seeds)."""
    lg = tb.language_gains(tidy, ts, ls)
    if lg.empty:
        return _placeholder(outdir, "language_gains", "no test results for the baseline and intermediate models")
    targets = [t for t in T.TARGET_TASKS if t in set(lg["ttask"])]
    ncol = min(3, len(targets))
    nrow = -(-len(targets) // ncol)
    widest = int(lg.groupby("ttask").size().max())
    fig = _new_figure(max(3.0, 0.22 * widest + 1.2) * ncol, 2.6 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False).ravel())
    for ax, t in zip(axes, targets):
        sub = lg[lg["ttask"] == t]
        colors = ["tab:blue" if g >= 0 else "tab:red" for g in sub["gain"]]
        sns.barplot(data=sub, x="lang", y="gain", hue="lang", palette=colors, legend=False, ax=ax)
        ax.axhline(0, color="black", linewidth=0.8)
        it = sub["best_itask"].iloc[0]
        ax.set_title(f"{tb.TARGET_NAMES.get(t, t)}: {tb.ITASK_NAMES.get(it, it)} - baseline", fontsize="small")
        ax.set_xlabel("")
        ax.set_ylabel("gain (points)")
        ax.tick_params(axis="x", labelrotation=90, labelsize="x-small")
    for ax in axes[len(targets):]:
        ax.axis("off")
    return save(fig, outdir, "language_gains")


def write_figures(tidy: pd.DataFrame, outdir, rb: pd.DataFrame | None = None) -> list[Path]:
    ls = tb.language_scores(tidy)
    ts = tb.task_scores(tidy, ls)
    return (plot_dev_heatmap(tidy, outdir, ts) + plot_robustness(tidy, outdir, ls, rb)
            + plot_language_gains(tidy, outdir, ts, ls))
