"""Scoring: accuracy, tagging span F1 (seqeval 0.0.12), SQuAD / MLQA QA scores, BUCC P/R/F1, the XTREME
score and a paired bootstrap.

Everything here is standard library + numpy so that scoring never depends on which seqeval version happens to
be installed: the protocol (PROTOCOL.md, "Scoring") requires seqeval **0.0.12** behaviour, which differs from
later releases on UD-POS, so we carry our own faithful copy of its chunking instead of importing it.

Conventions: corpus-level functions return percentages (0-100); the per-example QA function
``squad_em_f1`` returns fractions (0-1), like the official scripts' per-question scores.
"""
from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
import warnings
from collections import Counter
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

from xstilts import stats
from xstilts import tasks as T

__all__ = [
    "accuracy", "seqeval_entities", "seqeval_f1", "normalize_answer_squad", "normalize_answer_mlqa",
    "squad_em_f1", "qa_scores", "prf", "xtreme_score", "paired_bootstrap",
    "MLQA_LANGS", "QA_TASKS",
]


# ----------------------------------------------------------------------------------------------------------
# Accuracy
# ----------------------------------------------------------------------------------------------------------

def accuracy(preds: Sequence, golds: Sequence) -> float:
    """Share of positions where ``preds[i] == golds[i]``, in percent (0-100).

    Raises ValueError on a length mismatch or empty input: a silent ``zip`` truncation or a 0/0 would hide a
    broken prediction file rather than score it.
    """
    preds, golds = list(preds), list(golds)
    if len(preds) != len(golds):
        raise ValueError(f"accuracy: {len(preds)} predictions but {len(golds)} gold labels")
    if not golds:
        raise ValueError("accuracy: empty input")
    correct = sum(1 for p, g in zip(preds, golds) if p == g)
    return 100.0 * correct / len(golds)


# ----------------------------------------------------------------------------------------------------------
# Tagging span F1, exactly as seqeval 0.0.12
# ----------------------------------------------------------------------------------------------------------
# Source read: the seqeval 0.0.12 sdist from PyPI (seqeval/metrics/sequence_labeling.py); the later code in
# chakki-works/seqeval (stored search index, commit 052db9f8) has the same start/end rules but parses tags
# differently. What 0.0.12 does, reproduced below:
#   * nested input (any element is a list) is flattened with an 'O' appended after EVERY sentence, and one
#     more 'O' is appended at the end; spans are (type, begin, end) offsets into that flattened sequence;
#   * a label is split as  tag = label[0],  type = label.split('-')[-1]  -- no validation at all. So a UD
#     tag like 'NOUN' becomes tag 'N' / type 'NOUN': runs of the same POS merge into ONE span; 'SCONJ' and
#     'SYM' start with 'S' and so are always single-token spans; 'INTJ' starts with 'I' (behaves like I-X);
#   * micro P/R/F1 over the SETS of spans (so duplicates cannot occur thanks to offsets).
# Later seqeval code (chakki-works master, e.g. commit 052db9f8; which release first shipped it is not
# verified here) takes type = label[1:].split('-', 1)[-1] or '_', so 'CCONJ' and 'SCONJ' both become type
# 'CONJ' and are no longer told apart -- the likely source of the higher POS score of later versions
# (XTREME's mock test: 70.217 with 0.0.12 vs 70.398 later). For IOB/IOBES NER labels both parses agree.


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """seqeval 0.0.12 ``end_of_chunk``: did a chunk end between the previous and the current token?"""
    # The original's six (prev_tag, tag) pairs (B,B) (B,S) (B,O) (I,B) (I,S) (I,O), grouped.
    if prev_tag == "E" or prev_tag == "S":
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    # The '.' exemption is in 0.0.12 too (a legacy of conlleval); kept for fidelity.
    if prev_tag != "O" and prev_tag != "." and prev_type != type_:
        return True
    return False


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """seqeval 0.0.12 ``start_of_chunk``: did a chunk start between the previous and the current token?"""
    if tag == "B" or tag == "S":
        return True
    # The original's six pairs (E,E) (E,I) (S,E) (S,I) (O,E) (O,I), grouped.
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    if tag != "O" and tag != "." and prev_type != type_:
        return True
    return False


def _flatten_0012(seqs) -> list[str]:
    """Flatten like seqeval 0.0.12: nested input gets an 'O' after every sentence; flat input is kept."""
    seqs = list(seqs)
    if any(isinstance(s, str) for s in seqs):
        if not all(isinstance(s, str) for s in seqs):
            # 0.0.12 would crash (str + list) or silently iterate characters; refuse clearly instead.
            raise TypeError("seqeval: mix of label strings and label sequences")
        return seqs  # a single flat sequence: 0.0.12 adds no separator
    flat: list[str] = []
    for sent in seqs:
        sent = list(sent)  # tuples / numpy arrays behave as lists would in 0.0.12
        for lab in sent:
            if not isinstance(lab, str):
                raise TypeError(f"seqeval: labels must be strings, got {type(lab).__name__}")
        flat.extend(sent)
        flat.append("O")
    return flat


def seqeval_entities(seq) -> list[tuple[str, int, int]]:
    """Spans ``(type, begin, end)`` (inclusive offsets) as seqeval 0.0.12's ``get_entities`` returns them.

    ``seq`` is a flat list of labels or a list of sentences (flattened with 'O' separators, see above).
    """
    flat = _flatten_0012(seq)
    prev_tag, prev_type, begin = "O", "", 0
    chunks: list[tuple[str, int, int]] = []
    # The trailing 'O' closes a span that runs to the very end (as in 0.0.12).
    for i, label in enumerate(flat + ["O"]):
        if label == "":
            # 0.0.12 would raise IndexError on label[0]; say what is wrong instead.
            raise ValueError(f"seqeval: empty label at flattened position {i}")
        tag, type_ = label[0], label.split("-")[-1]
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def seqeval_f1(y_true: list[list[str]], y_pred: list[list[str]]) -> dict:
    """Micro span precision / recall / F1 in percent, reproducing seqeval 0.0.12 (as XTREME and jiant use it).

    Raises ValueError when the number of sentences or any sentence length differs: 0.0.12 itself does not
    check, and a shifted offset would silently turn every later span into an error.
    With no spans on a side, the corresponding ratio is 0 (0.0.12's convention), so empty input gives zeros.
    """
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"seqeval: {len(y_true)} gold sequences but {len(y_pred)} predicted")
    for k, (t, p) in enumerate(zip(y_true, y_pred)):
        if isinstance(t, str) != isinstance(p, str):
            raise TypeError(f"seqeval: sequence {k}: one side is a label, the other a sentence")
        if not isinstance(t, str) and len(list(t)) != len(list(p)):
            raise ValueError(f"seqeval: sentence {k} has {len(list(t))} gold labels but {len(list(p))} predicted")
    true_spans = set(seqeval_entities(y_true))
    pred_spans = set(seqeval_entities(y_pred))
    correct = len(true_spans & pred_spans)
    p = correct / len(pred_spans) if pred_spans else 0.0
    r = correct / len(true_spans) if true_spans else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": 100.0 * p, "recall": 100.0 * r, "f1": 100.0 * f}


# ----------------------------------------------------------------------------------------------------------
# Extractive QA: SQuAD v1.1 (XQuAD, TyDiQA-GoldP, SQuAD) and MLQA
# ----------------------------------------------------------------------------------------------------------

_SQUAD_PUNCT = set(string.punctuation)  # SQuAD v1.1 strips ASCII punctuation only
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer_squad(s: str) -> str:
    """SQuAD v1.1 ``normalize_answer``: lower-case, drop ASCII punctuation, drop English articles, squeeze
    whitespace (in that order, as the official ``evaluate-v1.1.py``)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _SQUAD_PUNCT)
    s = _SQUAD_ARTICLES.sub(" ", s)
    return " ".join(s.split())


# MLQA official evaluation script (facebookresearch/MLQA, mlqa_evaluation_v1.py, read via the search index at
# commit 5ef5c731): PUNCT = every code point whose Unicode category starts with 'P', plus string.punctuation;
# order lower -> remove punctuation -> remove articles -> whitespace fix; 'zh' uses "mixed segmentation"
# (each char in U+4E00..U+9FA5 is its own token -- note the script's range stops at 9FA5, not 9FFF);
# other languages split on whitespace; any other language code is an error.
@functools.lru_cache(maxsize=1)
def _mlqa_punct() -> frozenset[str]:
    """MLQA's PUNCT set; built on first use because scanning all code points takes ~0.2 s."""
    return frozenset({chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
                     | set(string.punctuation))


_MLQA_WHITESPACE_LANGS = ("en", "es", "hi", "vi", "de", "ar")
_MLQA_MIXED_SEGMENTATION_LANGS = ("zh",)
MLQA_LANGS = _MLQA_WHITESPACE_LANGS + _MLQA_MIXED_SEGMENTATION_LANGS
_MLQA_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    # The official pattern is '\sال^|ال': the first branch can never match ('^' after a character), so in
    # effect EVERY occurrence of 'ال' is replaced by a space -- also inside words. Reproduced as is.
    "ar": re.compile(r"\sال^|ال"),
    # hi and zh: no articles removed (the script returns the text unchanged).
}
_CJK = re.compile(r"[\u4e00-\u9fa5]")


def _mixed_segmentation(text: str) -> list[str]:
    """MLQA ``mixed_segmentation``: CJK characters (and punctuation) are single tokens, the rest is
    whitespace-split."""
    punct = _mlqa_punct()
    out: list[str] = []
    buf = ""
    for ch in text:
        if _CJK.search(ch) or ch in punct:
            if buf:
                out.extend(buf.split())
                buf = ""
            out.append(ch)
        else:
            buf += ch
    if buf:
        out.extend(buf.split())
    return out


def normalize_answer_mlqa(s: str, lang: str | None) -> str:
    """MLQA ``normalize_answer(s, lang)``: lower-case, drop Unicode punctuation, drop the language's
    articles, then re-join tokens (CJK characters split individually for zh). Unknown lang -> ValueError.

    lang=None is the language-neutral variant (no articles, whitespace tokens) used for the micro
    benchmark's synthetic languages, which MLQA's script does not know."""
    if lang is not None and lang not in MLQA_LANGS:
        raise ValueError(f"MLQA normalisation: unknown language {lang!r} (known: {', '.join(MLQA_LANGS)})")
    s = s.lower()
    punct = _mlqa_punct()
    s = "".join(ch for ch in s if ch not in punct)
    if lang in _MLQA_ARTICLES:
        s = _MLQA_ARTICLES[lang].sub(" ", s)
    tokens = _mixed_segmentation(s) if lang in _MLQA_MIXED_SEGMENTATION_LANGS else s.split()
    return " ".join(t for t in tokens if t.strip() != "")


def _normalizer(normalisation: str, lang: str):
    """The answer normaliser for a scheme name ("squad" | "mlqa")."""
    if normalisation == "squad":
        return normalize_answer_squad
    if normalisation == "mlqa":
        if lang is not None and lang not in MLQA_LANGS:
            raise ValueError(f"MLQA normalisation: unknown language {lang!r}")
        return lambda s: normalize_answer_mlqa(s, lang)
    raise ValueError(f"unknown QA normalisation {normalisation!r} (expected 'squad' or 'mlqa')")


def _token_f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    """Bag-of-tokens F1 of the v1.1 / MLQA scripts (0 when nothing overlaps, even if both are empty)."""
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * p * r / (p + r)


def squad_em_f1(prediction: str, ground_truths: list[str], *, normalisation: str = "squad",
                lang: str = "en") -> tuple[float, float]:
    """Per-question (EM, F1) as fractions in [0, 1], each the max over the ground truths (SQuAD v1.1 /
    MLQA scripts).

    An empty ``ground_truths`` list means unanswerable (SQuAD v2.0): as the official v2.0 script (whose only
    gold answer is then ''), the prediction scores 1 for both when it normalises to the empty string
    (e.g. '' -- but also 'the' or '.', which normalise away) and 0 otherwise.
    """
    norm = _normalizer(normalisation, lang)
    pred_norm = norm(prediction)
    if len(ground_truths) == 0:
        ok = 1.0 if pred_norm == "" else 0.0
        return ok, ok
    pred_tokens = pred_norm.split()
    em = f1 = 0.0
    for gt in ground_truths:
        gt_norm = norm(gt)
        em = max(em, 1.0 if pred_norm == gt_norm else 0.0)
        # For zh the normalised string is already space-separated characters, so .split() gives the
        # character tokens, exactly as MLQA's f1_score does.
        f1 = max(f1, _token_f1(pred_tokens, gt_norm.split()))
    return em, f1


def qa_scores(predictions: Mapping[Hashable, str], references: Mapping[Hashable, list[str]],
              normalisation: str = "squad", lang: str = "en") -> dict:
    """Corpus EM and F1 in percent over every id in ``references``.

    As the official scripts, a question without a prediction scores 0 (with a warning) and predictions for
    unknown ids are ignored. ``normalisation`` is "squad" (XQuAD, TyDiQA, SQuAD) or "mlqa" (then ``lang`` is
    the answer/context language). Raises ValueError on empty ``references``.
    """
    if not references:
        raise ValueError("qa_scores: no reference questions")
    _normalizer(normalisation, lang)  # fail on a bad scheme/lang before looping
    em_sum = f1_sum = 0.0
    missing = 0
    for qid, golds in references.items():
        if qid not in predictions:
            missing += 1
            continue
        em, f1 = squad_em_f1(predictions[qid], list(golds), normalisation=normalisation, lang=lang)
        em_sum += em
        f1_sum += f1
    if missing:
        warnings.warn(f"qa_scores: {missing} of {len(references)} questions have no prediction; scored 0")
    n = len(references)
    return {"f1": 100.0 * f1_sum / n, "em": 100.0 * em_sum / n}


# ----------------------------------------------------------------------------------------------------------
# BUCC mining: precision / recall / F1 of predicted pairs
# ----------------------------------------------------------------------------------------------------------

def prf(predicted: Iterable, gold: Iterable) -> dict:
    """Precision, recall and F1 in percent of a predicted set against a gold set (e.g. BUCC sentence pairs).

    Any division by zero gives 0 (no predictions -> precision 0; no gold -> recall 0), so an empty side never
    raises in the middle of a threshold sweep.
    """
    predicted, gold = set(predicted), set(gold)
    tp = len(predicted & gold)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": 100.0 * p, "recall": 100.0 * r, "f1": 100.0 * f}


# ----------------------------------------------------------------------------------------------------------
# XTREME score
# ----------------------------------------------------------------------------------------------------------

QA_TASKS = tuple(t for t in T.TARGET_TASKS if T.TASKS[t].format == T.SPAN_QA)  # xquad, mlqa, tydiqa


def _language_score(task: str, lang: str, metrics: Mapping[str, float]) -> float:
    """One language's number for the XTREME score: (F1 + EM) / 2 for QA, else the task's primary metric."""
    try:
        if task in QA_TASKS:
            return (float(metrics["f1"]) + float(metrics["em"])) / 2.0
        return float(metrics[T.TASKS[task].metric])
    except KeyError as e:
        raise ValueError(f"xtreme_score: {task}/{lang} lacks metric {e.args[0]!r}; has {sorted(metrics)}") from None


def xtreme_score(scores: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict:
    """XTREME score from ``scores[task][lang][metric]`` (values in percent).

    Per task: mean over its languages (English included), using (f1 + em) / 2 for xquad / mlqa / tydiqa,
    accuracy for xnli / pawsx / tatoeba and f1 for udpos / panx / bucc (from the task registry). Overall:
    mean over the target tasks present. Non-target tasks (intermediate tasks, corpora) are not part of the
    XTREME score and are listed under "ignored" rather than silently mixed in; unknown names raise KeyError.

    Returns ``{"per_task": {task: score}, "overall": float | nan, "tasks": sorted tasks used,
    "complete": all nine targets present, "ignored": sorted ignored tasks}``.
    """
    per_task: dict[str, float] = {}
    ignored: list[str] = []
    for task, by_lang in scores.items():
        spec = T.get(task)  # KeyError with the known names for a typo
        if spec.role != "target":
            ignored.append(task)
            continue
        if not by_lang:
            raise ValueError(f"xtreme_score: task {task!r} has no languages")
        per_task[task] = float(np.mean([_language_score(task, lang, m) for lang, m in by_lang.items()]))
    overall = float(np.mean(list(per_task.values()))) if per_task else float("nan")
    return {"per_task": per_task, "overall": overall, "tasks": sorted(per_task),
            "complete": set(per_task) == set(T.TARGET_TASKS), "ignored": sorted(ignored)}


# ----------------------------------------------------------------------------------------------------------
# Paired bootstrap
# ----------------------------------------------------------------------------------------------------------

def _bootstrap(full: float, score, m: int, n: int, seed: int) -> dict:
    """delta (full data), the 95% interval and a one-sided p (share of resampled deltas <= 0) of
    `score(counts)` over n resamples of m examples (`stats.resample_counts`)."""
    if n < 1:
        raise ValueError("paired bootstrap: n must be >= 1")
    deltas = score(stats.resample_counts(np.random.default_rng(seed), m, n))
    low, high = stats.interval(deltas)
    return {"delta": float(full), "low": low, "high": high, "p": float(np.mean(deltas <= 0))}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap over per-example scores of two systems on the same examples.

    ``delta`` = mean(b) - mean(a) on the full data; ``low``/``high`` = 2.5 / 97.5 percentiles of the
    resampled deltas (95% CI); ``p`` = share of resamples with delta <= 0, a one-sided p-value for
    "b is better than a". Examples are resampled jointly (same indices for a and b) because the two systems'
    scores on one example are correlated; a fixed ``seed`` makes the result reproducible.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("paired_bootstrap: a and b must be 1-D arrays of per-example scores")
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap: {a.shape[0]} vs {b.shape[0]} examples")
    if a.size == 0:
        raise ValueError("paired_bootstrap: empty input")
    diff = b - a
    return _bootstrap(diff.mean(), lambda counts: counts @ diff / diff.size, diff.size, n, seed)


# ----------------------------------------------------------------------------------------------------------
# Corpus metrics from per-example statistics (evaluate.example_stats), and a paired bootstrap on them
# ----------------------------------------------------------------------------------------------------------

def metric_from_stats(metric: str, sums: Mapping[str, float]) -> float:
    """A corpus metric in percent from summed per-example statistics (`xstilts.stats.metric_from_stats`)."""
    return float(stats.metric_from_stats(metric, sums))


def paired_bootstrap_stats(metric: str, base: Sequence[Mapping[str, float]], other: Sequence[Mapping[str, float]],
                           n: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap of the corpus ``metric`` (other - base) over examples, both lists aligned by example.

    Each resample draws example indices with replacement, sums both systems' statistics over them and
    recomputes the corpus metric: right for ratio metrics such as span F1, where a mean of per-example
    scores would not be. Returns delta (full data), the 95% interval and a one-sided p (share of resampled
    deltas <= 0)."""
    if len(base) != len(other):
        raise ValueError(f"paired_bootstrap_stats: {len(base)} vs {len(other)} examples")
    if not base:
        raise ValueError("paired_bootstrap_stats: no examples")
    keys = stats.stat_keys(base, other)
    a, b = stats.stat_matrix(base, keys), stats.stat_matrix(other, keys)

    def metric_of(sums):  # rows of summed statistics -> the metric per row
        return stats.metric_from_stats(metric, dict(zip(keys, sums.T)))

    full = metric_of(b.sum(0, keepdims=True))[0] - metric_of(a.sum(0, keepdims=True))[0]
    res = _bootstrap(full, lambda counts: metric_of(counts @ b) - metric_of(counts @ a), len(base), n, seed)
    return {**res, "n_examples": len(base), "n_resamples": n}
