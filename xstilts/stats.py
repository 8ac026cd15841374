"""Scores from summed per-example statistics, and the paired-bootstrap resampler: the one copy of each that
`train.metrics` (one comparison), `report.significance` (per language and pooled) and `report.robustness`
(relative drops against the baseline) share.

Every evaluation stores per-example statistics (`train.evaluate.example_stats`: correct/n_units, span
tp/n_pred/n_gold, QA f1/em) whose sums give the corpus metric, so a bootstrap resample is a weighted sum:
`counts @ stats`, with `counts[r, i]` = how often example i is drawn in resample r. That is right for ratio
metrics such as span F1, where a mean of per-example scores would not be.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from xstilts import tasks as T

STAT_KEYS = ("correct", "n_units", "tp", "n_pred", "n_gold", "f1", "em")
ALPHA = 0.05  # two-sided: "significant" = the 95% percentile interval excludes 0


def _div(a, b):
    """100 a / b elementwise, 0 where b is 0 (as seqeval 0.0.12 does for empty denominators)."""
    b = np.asarray(b, dtype=float)
    return np.where(b > 0, 100.0 * np.asarray(a, dtype=float) / np.where(b > 0, b, 1.0), 0.0)


def metric_from_stats(metric: str, sums: Mapping, span: bool | None = None):
    """A corpus metric in percent from summed statistics; values may be arrays (one per resample).

    accuracy = correct / n_units; span f1/precision/recall from tp, n_pred, n_gold (seqeval's micro average:
    spans never cross sentences, so per-sentence counts add up to the corpus counts); QA f1/em are means over
    questions. `span` says which f1 is meant; by default the span one when `tp` is among the statistics (a
    caller whose table zero-fills every statistic must say). Zero denominators give 0."""
    span = "tp" in sums if span is None else span
    if metric == "accuracy":
        return _div(sums["correct"], sums["n_units"])
    if span and metric in ("f1", "precision", "recall"):
        p, r = _div(sums["tp"], sums["n_pred"]), _div(sums["tp"], sums["n_gold"])
        if metric == "precision":
            return p
        if metric == "recall":
            return r
        return np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1.0), 0.0)
    if metric in ("f1", "em"):
        return _div(sums[metric], sums["n_units"])
    raise ValueError(f"metric_from_stats: no rule for metric {metric!r} with statistics {sorted(sums)}")


def score_metrics(ttask: str) -> tuple[str, ...]:
    """The metrics whose mean is the XTREME score of one language: (F1, EM) for QA, else the task metric."""
    return ("f1", "em") if T.get(ttask).format == T.SPAN_QA else (T.get(ttask).metric,)


def task_score(ttask: str, sums: Mapping):
    """The XTREME score of one language from summed statistics (arrays allowed: one value per resample)."""
    mets = score_metrics(ttask)
    span = T.get(ttask).format != T.SPAN_QA  # QA's f1 is the mean token F1 over questions, never span F1
    return sum(metric_from_stats(m, sums, span) for m in mets) / len(mets)


def stat_matrix(rows, keys) -> np.ndarray:
    """Per-example statistics as an (examples x keys) float matrix; a missing or None value is 0."""
    out = np.array([[float(r.get(k) or 0.0) for k in keys] for r in rows], dtype=float)
    return out.reshape(len(rows), len(keys))  # (0, k) for no rows, not (0,)


def stat_keys(*row_lists) -> list[str]:
    """The statistics present (not None) in any row, in sorted order."""
    return sorted({k for rows in row_lists for r in rows for k, v in r.items() if v is not None and k in STAT_KEYS})


def resample_counts(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """(n, m) float matrix: how often each of m examples is drawn in each of n resamples with replacement.

    One `rng.integers(0, m, (n, m))` draw, counted with a bincount of row-offset indices (no n x m x k
    tensor); paired comparisons apply the same counts to every system, so their scores stay paired."""
    draws = rng.integers(0, m, size=(n, m)) + (np.arange(n) * m)[:, None]
    return np.bincount(draws.ravel(), minlength=n * m).reshape(n, m).astype(float)


def interval(deltas: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    """The (alpha/2, 1 - alpha/2) percentile interval of resampled deltas."""
    low, high = np.percentile(deltas, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)
