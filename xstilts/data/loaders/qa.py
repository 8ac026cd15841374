"""Span-QA records (SQuAD style; unanswerable = empty answers): XQuAD, MLQA, TyDiQA-GoldP and SQuAD v1/v2,
from SQuAD JSON or hub-style rows, with answer offsets repaired where the hub's copy shifted them."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from xstilts import tasks as T
from xstilts.data.loaders.common import _Out, _fail, _get, _int, _json, _nfc, _row, _rows, _seq
from xstilts.records import RecordError

# TyDiQA ids start with the language name (`english-…`) [HUB_SCHEMAS §1.7].
TYDIQA_LANGS = {"arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi", "indonesian": "id",
                "korean": "ko", "russian": "ru", "swahili": "sw", "telugu": "te"}


# ---------------------------------------------------------------------------------------------------------------
# span QA


def fix_answer(context: str, text: str, start: int, where: str, qid: str) -> tuple[str, int, str | None]:
    """Check `context[start:start+len(text)] == text`; if not, move `start` to the nearest occurrence of `text`
    (hub contexts are stripped without adjusting answer_start, so offsets shift). If `text` does not occur, its
    whitespace-stripped form is tried. Returns (text, start, what was repaired or None); raises naming `qid` if
    the answer is nowhere in the context."""
    if 0 <= start and context[start:start + len(text)] == text:
        return text, start, None
    for cand, how in ((text, "offset"), (text.strip(), "stripped")):
        if not cand:
            continue
        hits, k = [], context.find(cand)
        while k != -1:
            hits.append(k)
            k = context.find(cand, k + 1)
        if hits:
            best = min(hits, key=lambda h: (abs(h - start), h))
            return cand, best, how
    _fail(where, f"answer {text!r} of question id {qid!r} does not occur in the context "
                 f"(answer_start {start})")


def _qa_record(qid, context, question, answers, where: str, unanswerable: bool, stats: dict | None) -> dict:
    """answers: list of (text, start). NFC-normalises and maps offsets, then checks/repairs them."""
    if not isinstance(qid, str):
        qid = str(_int(qid, where, "id"))
    if not isinstance(context, str):
        _fail(where, f"field 'context' must be a string, got {type(context).__name__}")
    if not answers and not unanswerable:
        _fail(where, f"question id {qid!r} has no answer (unanswerable questions are only allowed for SQuAD v2.0)")
    ctx = _nfc(context)
    changed = ctx != context
    texts, starts = [], []
    for t, s in answers:
        if not isinstance(t, str) or not t:
            _fail(where, f"question id {qid!r}: bad answer text {t!r}")
        s = _int(s, where, "answer_start")
        t2 = _nfc(t)
        if changed:  # NFC changed lengths: map the offset through the normalised prefix
            s = len(_nfc(context[:max(s, 0)]))
        t2, s, how = fix_answer(ctx, t2, s, where, qid)
        if stats is not None:
            stats["answers"] = stats.get("answers", 0) + 1
            if how:
                stats[f"repaired_{how}"] = stats.get(f"repaired_{how}", 0) + 1
        texts.append(t2)
        starts.append(s)
    return {"id": qid, "context": ctx, "question": _nfc(question), "answers": {"text": texts, "answer_start": starts}}


def squad_from_json(path, unanswerable: bool = False, stats: dict | None = None) -> list[dict]:
    """SQuAD-style JSON (`data[].paragraphs[].qas[]`): XQuAD, TyDiQA-GoldP, SQuAD v1.1 and v2.0, MLQA raw, and
    the XTREME/MLQA translate-train files. All answers of a question are kept (dev sets have several).
    `is_impossible: true` (SQuAD v2.0) gives empty answer lists, ignoring `plausible_answers`; that needs
    `unanswerable=True`, otherwise a question without answers raises. Offsets are checked and repaired by
    `fix_answer`; `stats` (a dict) counts answers and repairs."""
    data = _json(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        _fail(f"{path}", "not a SQuAD-style file (expected a top-level object with a 'data' list)")
    out = _Out(T.SPAN_QA)
    for a, art in enumerate(data["data"]):
        paras = _get(art, "paragraphs", f"{path}: data[{a}]")
        for p, para in enumerate(_seq(paras, f"{path}: data[{a}]", "paragraphs")):
            pw = f"{path}: data[{a}].paragraphs[{p}]"
            ctx = _get(para, "context", pw)
            for q, qa in enumerate(_seq(_get(para, "qas", pw), pw, "qas")):
                where = f"{pw}.qas[{q}]"
                qid = _get(qa, "id", where)
                where = f"{where} (id {qid})"
                if qa.get("is_impossible"):
                    answers = []
                else:
                    answers = []
                    for an in _seq(_get(qa, "answers", where), where, "answers"):
                        answers.append((_get(an, "text", where), _get(an, "answer_start", where)))
                out.add(_qa_record(qid, ctx, _get(qa, "question", where), answers, where, unanswerable, stats),
                        where)
    return out.recs


def qa_from_rows(rows: Iterable[Mapping], source: str = "", unanswerable: bool = False,
                 stats: dict | None = None, row_numbers: list[int] | None = None) -> list[dict]:
    """Hub rows of XQuAD / MLQA / TyDiQA / SQuAD (`id, context, question, answers{text, answer_start}` in the HF
    dict-of-lists form; a SQuAD list of {text, answer_start} is accepted too), or the same rows from a JSONL
    file (`jsonl_rows`: the MLQA fixture, an Arrow export). Offsets are repaired as in
    `fix_answer` (google/xtreme strips contexts without adjusting answer_start). `row_numbers[k]` is row k's index
    in the split it was selected from (TyDiQA languages), so errors name the hub row."""
    out = _Out(T.SPAN_QA)
    for k, (where, row) in enumerate(_rows(rows, source)):
        if row_numbers is not None:  # rows selected from a larger split: name the row's index in that split
            where = f"{source}:row {row_numbers[k]}"
        with _row(where):
            out.add(_qa_row(row, where, unanswerable, stats), where)
    return out.recs


def _qa_row(row, where, unanswerable, stats):
    qid = _get(row, "id", where)
    where = f"{where} (id {qid})"
    ans = _get(row, "answers", where)
    if isinstance(ans, Mapping):
        texts = _seq(_get(ans, "text", where), where, "answers.text")
        starts = _seq(_get(ans, "answer_start", where), where, "answers.answer_start")
        if len(texts) != len(starts):
            _fail(where, f"{len(texts)} answer texts but {len(starts)} answer starts")
        pairs = list(zip(texts, starts))
    else:
        pairs = [(_get(a, "text", where), _get(a, "answer_start", where)) for a in _seq(ans, where, "answers")]
    return _qa_record(qid, _get(row, "context", where), _get(row, "question", where), pairs, where,
                      unanswerable, stats)


def tydiqa_language(qid: str) -> str:
    """Language code of a TyDiQA-GoldP id (`english-123-1` -> `en`)."""
    name = str(qid).split("-", 1)[0].lower()
    if name not in TYDIQA_LANGS:
        raise RecordError(f"TyDiQA id {qid!r}: unknown language prefix {name!r} "
                          f"(expected one of {sorted(TYDIQA_LANGS)})")
    return TYDIQA_LANGS[name]


def tydiqa_split(rows: Iterable[Mapping], lang: str) -> list:
    """The rows (hub rows or records, anything with an `id`) whose id prefix is language `lang` (a code such as
    `en`, or the name `english`). TyDiQA mixes all nine languages in one split without a language column."""
    return [r for _, r in tydiqa_split_indexed(rows, lang)]


def tydiqa_split_indexed(rows: Iterable[Mapping], lang: str, source: str = "") -> list[tuple[int, Mapping]]:
    """(row index in the split, row) of `tydiqa_split`."""
    code = TYDIQA_LANGS.get(lang, lang)
    if code not in TYDIQA_LANGS.values():
        raise ValueError(f"unknown TyDiQA language {lang!r}; known: {sorted(TYDIQA_LANGS.values())}")
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping) or "id" not in r:
            _fail(f"{source + ':' if source else ''}row {i}", "TyDiQA row without an 'id'")
        if tydiqa_language(r["id"]) == code:
            out.append((i, r))
    return out


def check_english_only(recs: Iterable[Mapping], source: str) -> None:
    """Guard for the TyDiQA training set: XTREME fine-tunes on the English part only, so any non-English id in
    an English training set is a leak of target-language data. Raises naming the first offender and the count."""
    bad = []
    for i, r in enumerate(recs):
        if tydiqa_language(_get(r, "id", f"{source}:row {i}")) != "en":
            bad.append((i, r["id"]))
    if bad:
        i, qid = bad[0]
        raise RecordError(f"{source}:row {i}: non-English TyDiQA id {qid!r} in an English-only training set "
                          f"({len(bad)} such rows); filter with tydiqa_split(rows, 'en') first")


def squad_v2_from_json(path, stats: dict | None = None) -> list[dict]:
    """SQuAD v2.0 JSON: unanswerable questions (`is_impossible`) get empty answer lists."""
    return squad_from_json(path, unanswerable=True, stats=stats)
