"""Multiple-choice records (context, question, k choices -> index): HellaSwag, CosmosQA, CommonsenseQA."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from xstilts.data.loaders.common import _Out, _fail, _get, _is_unlabelled, _label, _nfc, _row, _rows, _seq

COSMOSQA_COLUMNS = ("id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label")


def hellaswag_from_rows(rows: Iterable[Mapping], source: str = "Rowan/hellaswag") -> list[dict]:
    """HellaSwag rows: hub rows (label string "0".."3") or raw `hellaswag_{train,val}.jsonl` (rowanz/hellaswag,
    label int) through `jsonl_rows`. context = `ctx_a`, question = `ctx_b`
    (the start of the sentence the ending completes, possibly ""; `ctx` = ctx_a + " " + ctx_b), choices =
    the 4 endings; so the usual input pair is (context, question + " " + choice). Ids are `ind`. Test rows
    (label "") raise."""
    out = _Out.task("hellaswag")
    for where, row in _rows(rows, source):
        with _row(where):
            endings = [_nfc(e) for e in _seq(_get(row, "endings", where), where, "endings")]
            ctx_a, ctx_b = _get(row, "ctx_a", where), _get(row, "ctx_b", where)
            if not isinstance(ctx_a, str) or not isinstance(ctx_b, str):
                _fail(where, "fields 'ctx_a' and 'ctx_b' must be strings")
            context, question = (ctx_a, ctx_b) if ctx_a.strip() else (ctx_b, "")
            label = _label(_get(row, "label", where), [str(i) for i in range(len(endings))], where)
            out.add({"id": str(_get(row, "ind", where)), "context": _nfc(context), "question": _nfc(question),
                     "choices": endings, "label": label}, where)
    return out.recs


def cosmosqa_from_rows(rows: Iterable[Mapping], source: str = "allenai/cosmos_qa") -> list[dict]:
    """CosmosQA rows (id, context, question, answer0..answer3, label 0..3; test label -1 raises): hub rows or
    the raw CSV (wilburOne/cosmosqa `data/{train,valid}.csv`, label a digit string) through
    `csv_rows(path, COSMOSQA_COLUMNS)`."""
    out = _Out.task("cosmosqa")
    for where, row in _rows(rows, source):
        with _row(where):
            choices = [_nfc(_get(row, f"answer{j}", where)) for j in range(4)]
            out.add({"id": str(_get(row, "id", where)), "context": _nfc(_get(row, "context", where)),
                     "question": _nfc(_get(row, "question", where)), "choices": choices,
                     "label": _label(_get(row, "label", where), ["0", "1", "2", "3"], where, numeric_strings=True)},
                    where)
    return out.recs


def commonsenseqa_from_rows(rows: Iterable[Mapping], source: str = "tau/commonsense_qa") -> list[dict]:
    """CommonsenseQA rows, either the HF flattened schema (question str, choices{label, text}, answerKey) or
    the original nested one (question{stem, choices[{label, text}]}, answerKey), from the hub or a JSONL file
    (`jsonl_rows`). The record puts the question
    stem in `context` (the format needs a non-empty context) and leaves `question` "". answerKey A..E -> 0..4."""
    out = _Out.task("commonsenseqa")
    for where, row in _rows(rows, source):
        with _row(where):
            q = _get(row, "question", where)
            if isinstance(q, Mapping):  # original nested schema: question{stem, choices[{label, text}]}
                stem = _get(q, "stem", where)
                ch = _seq(_get(q, "choices", where), where, "question.choices")
                labels = [_get(c, "label", where) for c in ch]
                texts = [_get(c, "text", where) for c in ch]
            else:  # flattened HF schema: question str, choices{label: [...], text: [...]}
                stem = q
                ch = _get(row, "choices", where)
                labels = _seq(_get(ch, "label", where), where, "choices.label")
                texts = _seq(_get(ch, "text", where), where, "choices.text")
            if len(labels) != len(texts):
                _fail(where, f"{len(labels)} choice labels but {len(texts)} choice texts")
            if labels != sorted(labels) or len(set(labels)) != len(labels):
                _fail(where, f"choice labels {labels} are not distinct and in order")
            key = _get(row, "answerKey", where)
            if _is_unlabelled(key):
                _fail(where, f"answerKey is {key!r}: no gold label (unlabelled test split?)")
            if key not in labels:
                _fail(where, f"answerKey {key!r} is not one of the choice labels {labels}")
            out.add({"id": str(_get(row, "id", where)), "context": _nfc(stem), "question": "",
                     "choices": [_nfc(t) for t in texts], "label": labels.index(key)}, where)
    return out.recs
