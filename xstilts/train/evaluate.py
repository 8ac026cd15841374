"""Prediction and scoring for every task format."""
from __future__ import annotations

import numpy as np
import torch

from xstilts import tasks as T
from xstilts.train import metrics as M
from xstilts.train.features import Encoded, collate, lengths


@torch.inference_mode()
def predict(model, enc: Encoded, pad_id: int, batch_size: int = 64, max_answer_length: int = 30,
            allow_null: bool = False, device="cpu", precision: str = "auto") -> list:
    """One prediction per record: a label index, a tag list or an answer string. `precision`: as
    `train.HParams.precision` (the forward pass under bf16 autocast or not; logits are read as float32)."""
    from xstilts.env import autocast
    model.eval()
    lens = lengths(enc)
    order = sorted(range(len(enc)), key=lambda i: lens[i])  # length-sorted: minimal padding
    outs: dict[int, np.ndarray] = {}
    for k in range(0, len(order), batch_size):
        ids = order[k:k + batch_size]
        batch = {a: b.to(device) for a, b in collate(enc, ids, pad_id, train=False).items() if a != "labels"}
        with autocast(precision, device):
            _, logits = model(enc.task, batch)
        logits = logits.float().cpu().numpy()
        for j, i in enumerate(ids):
            outs[i] = logits[j]
    fmt = enc.fmt
    if fmt in (T.CLASSIFICATION, T.MULTIPLE_CHOICE):
        return [int(np.argmax(outs[i])) for i in range(len(enc))]
    if fmt == T.TAGGING:
        preds = []
        for i, f in enumerate(enc.features):
            # one tag per word whose first piece is inside max_length; words cut off by truncation get no
            # prediction and are dropped from the gold too (score, example_stats), as XTREME's run_tag does
            preds.append([int(np.argmax(outs[i][p])) for p in f["first"]])
        return preds
    if fmt == T.SPAN_QA:
        return _qa_postprocess(enc, outs, max_answer_length, allow_null)
    raise ValueError(fmt)


def _qa_postprocess(enc: Encoded, outs, max_answer_length: int, allow_null: bool) -> list[str]:
    """Best character span over all windows of an example (transformers' run_qa post-processing)."""
    best: dict[int, tuple[float, str]] = {}
    null: dict[int, float] = {}
    for i, f in enumerate(enc.features):
        ex = f["ex"]
        s_log, e_log = outs[i][:, 0], outs[i][:, 1]
        offs = f["offsets"]
        n = len(f["input_ids"])
        null[ex] = min(null.get(ex, np.inf), s_log[0] + e_log[0])
        cand_s = [p for p in np.argsort(-s_log[:n])[:20] if offs[p] is not None]
        cand_e = [p for p in np.argsort(-e_log[:n])[:20] if offs[p] is not None]
        ctx = enc.records[ex]["context"]
        for s in cand_s:
            for e in cand_e:
                if e < s or e - s + 1 > max_answer_length:
                    continue
                sc = s_log[s] + e_log[e]
                if ex not in best or sc > best[ex][0]:
                    best[ex] = (sc, ctx[offs[s][0]:offs[e][1]])
    preds = []
    for ex in range(len(enc.records)):
        sc, text = best.get(ex, (-np.inf, ""))
        if allow_null and null.get(ex, -np.inf) > sc:
            text = ""
        preds.append(text)
    return preds


def score(task: T.Task, records: list[dict], preds: list, labels=None, lang: str = "en") -> dict:
    """Metrics in percent, plus per-example scores (for paired bootstrap)."""
    fmt = task.format
    if fmt in (T.CLASSIFICATION, T.MULTIPLE_CHOICE):
        gold = [r["label"] for r in records]
        per = [float(p == g) for p, g in zip(preds, gold)]
        return {"accuracy": M.accuracy(preds, gold), "n": len(gold), "per_example": per}
    if fmt == T.TAGGING:
        # gold cut to the words that were predicted (truncation drops the rest from both sides, as XTREME)
        y_true = [list(r["tags"][:len(p)]) for r, p in zip(records, preds)]
        y_pred = [[labels[t] for t in p] for p in preds]
        if task.metric == "accuracy":  # CCG supertagging is scored per token
            flat = [(a == b) for t, p in zip(y_true, y_pred) for a, b in zip(t, p)]
            return {"accuracy": 100.0 * sum(flat) / len(flat), "n": len(records),
                    "per_example": [float(np.mean([a == b for a, b in zip(t, p)])) for t, p in zip(y_true, y_pred)]}
        r = M.seqeval_f1(y_true, y_pred)
        per = [float(t == p) for t, p in zip(y_true, y_pred)]
        return {"f1": r["f1"], "precision": r["precision"], "recall": r["recall"], "n": len(records),
                "per_example": per, "words_truncated": sum(len(r["tags"]) - len(p) for r, p in zip(records, preds))}
    if fmt == T.SPAN_QA:
        norm = task.qa_normalisation
        p = {r["id"]: a for r, a in zip(records, preds)}
        g = {r["id"]: r["answers"]["text"] for r in records}
        # synthetic (micro) languages are unknown to MLQA's script: language-neutral normalisation
        qa_lang = lang if norm == "squad" or lang in M.MLQA_LANGS else None
        res = M.qa_scores(p, g, normalisation=norm, lang=qa_lang)
        per = [M.squad_em_f1(a, r["answers"]["text"])[1] if r["answers"]["text"] else float(a == "")
               for r, a in zip(records, preds)] if norm == "squad" else []
        return {"f1": res["f1"], "em": res["em"], "n": len(records), "per_example": per}
    raise ValueError(fmt)


def primary(task: T.Task, res: dict) -> float:
    return res[task.metric]


# Per-example statistics: additive counts from which each corpus metric is recomputed exactly
# (metrics.metric_from_stats), so a bootstrap can resample examples and get the corpus metric of each
# resample -- span F1 is not a mean of per-sentence F1s, so per-example "scores" alone would be wrong.
STAT_COLUMNS = ("correct", "n_units", "tp", "n_pred", "n_gold", "f1", "em")


def example_stats(task: T.Task, records: list[dict], preds: list, labels=None, lang: str = "en") -> list[dict]:
    """One dict per record: ``id``, ``pred`` (a string, to compare predictions across perturbations) and the
    statistics of ``STAT_COLUMNS`` that this task's metric uses."""
    fmt = task.format
    out = []
    if fmt in (T.CLASSIFICATION, T.MULTIPLE_CHOICE):
        for r, p in zip(records, preds):
            out.append({"id": r["id"], "pred": str(labels[p] if labels else p), "correct": int(p == r["label"]),
                        "n_units": 1})
        return out
    if fmt == T.TAGGING:
        for r, p in zip(records, preds):
            tags = [labels[t] for t in p]
            row = {"id": r["id"], "pred": " ".join(tags)}
            if task.metric == "accuracy":
                row.update(correct=sum(a == b for a, b in zip(r["tags"], tags)), n_units=len(tags))
            else:
                gold = set(M.seqeval_entities([list(r["tags"][:len(tags)])]))
                pred = set(M.seqeval_entities([tags]))
                row.update(tp=len(gold & pred), n_pred=len(pred), n_gold=len(gold))
            out.append(row)
        return out
    if fmt == T.SPAN_QA:
        norm = task.qa_normalisation
        qa_lang = lang if norm == "squad" or lang in M.MLQA_LANGS else None
        for r, a in zip(records, preds):
            em, f1 = M.squad_em_f1(a, list(r["answers"]["text"]), normalisation=norm, lang=qa_lang)
            out.append({"id": r["id"], "pred": a, "f1": f1, "em": em, "n_units": 1})
        return out
    raise ValueError(fmt)
