"""Converters from real upstream files and Hugging Face hub rows into xstilts records (docs/records.md).

Every function here is pure: it takes file paths or an iterable of rows (dicts as `datasets` yields them, or as
`pandas.read_parquet(...).to_dict("records")` gives them: numpy integers and arrays are accepted) and returns a
list of records. Every record goes through `records.validate` with a `where` that names its origin:

* files: ``<path>:<line>`` (1-based physical line where the row starts; for SQuAD-style JSON the JSON path and
  the question id);
* hub rows: ``<source>:row <i>`` (0-based index, as `datasets` indexes a split).

Bad input (missing field, label out of range, tokens/tags of different length, invalid UTF-8, truncated JSON,
wrong column count, duplicate id, ...) raises `records.RecordError` naming that origin. No network and no
`datasets` import is needed: the paper-scale data stage reads hub rows or raw files and feeds them through here,
then calls `write_task`, which writes the same layout as the embedded micro benchmark.

Text fields are NFC-normalised (a no-op on NFC input, which all fixtures are); nothing else is changed except
where a docstring says so (Tatoeba newlines, PAN-X language prefixes). Functions whose sources can hold rows
without a gold label (SNLI/MNLI `-` or `-1`) drop those rows and return ``(records, n_dropped)``; everywhere else
a missing gold label is an error, since an unlabelled row cannot become a record.
"""
from __future__ import annotations

import contextvars
import csv
import io
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path
from typing import Any, NoReturn

from . import records as R
from . import tasks as T
from .records import RecordError

SPLITS = ("train", "dev", "test")

# Hub label aliases: XNLI-MT / XTREME translate-train spell contradiction "contradictory"; ANLI's raw files use e/n/c.
NLI_ALIASES = {"contradictory": 2, "e": 0, "n": 1, "c": 2}

# TyDiQA ids start with the language name (`english-…`) [HUB_SCHEMAS §1.7].
TYDIQA_LANGS = {"arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi", "indonesian": "id",
                "korean": "ko", "russian": "ru", "swahili": "sw", "telugu": "te"}

# Tatoeba (LASER v1) ISO 639-3 codes of the 36 XTREME languages -> the 2-letter codes used elsewhere.
TATOEBA_ISO3 = {"afr": "af", "ara": "ar", "ben": "bn", "bul": "bg", "deu": "de", "cmn": "zh", "ell": "el",
                "est": "et", "eus": "eu", "fin": "fi", "fra": "fr", "heb": "he", "hin": "hi", "hun": "hu",
                "ind": "id", "ita": "it", "jav": "jv", "jpn": "ja", "kat": "ka", "kaz": "kk", "kor": "ko",
                "mal": "ml", "mar": "mr", "nld": "nl", "pes": "fa", "por": "pt", "rus": "ru", "spa": "es",
                "swh": "sw", "tam": "ta", "tel": "te", "tgl": "tl", "tha": "th", "tur": "tr", "urd": "ur",
                "vie": "vi"}

# google/xtreme `udpos.<Language>` config names -> language codes.
UDPOS_LANGUAGES = {"Afrikaans": "af", "Arabic": "ar", "Basque": "eu", "Bulgarian": "bg", "Dutch": "nl",
                   "English": "en", "Estonian": "et", "Finnish": "fi", "French": "fr", "German": "de",
                   "Greek": "el", "Hebrew": "he", "Hindi": "hi", "Hungarian": "hu", "Indonesian": "id",
                   "Italian": "it", "Japanese": "ja", "Kazakh": "kk", "Korean": "ko", "Chinese": "zh",
                   "Marathi": "mr", "Persian": "fa", "Portuguese": "pt", "Russian": "ru", "Spanish": "es",
                   "Tagalog": "tl", "Tamil": "ta", "Telugu": "te", "Thai": "th", "Turkish": "tr", "Urdu": "ur",
                   "Vietnamese": "vi", "Yoruba": "yo"}

# BUCC 2018 release names -> our splits, as XTREME uses them (sample-gold = dev, training-gold = test).
BUCC_SPLITS = {"sample": "dev", "training": "test"}


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _fail(where: str, msg: str) -> NoReturn:
    raise RecordError(f"{where}: {msg}")


# Malformed-row policy (config `data.on_bad_row`). "error" (the default) raises on the first bad row; under
# `bad_rows("drop")` every row-level RecordError inside a `_row(where)` block drops that row and is recorded, so
# the caller can write how many were dropped and why -- never silently.
_BAD_ROWS: contextvars.ContextVar[list | None] = contextvars.ContextVar("xstilts_bad_rows", default=None)
BAD_ROW_POLICIES = ("error", "drop")


@contextmanager
def bad_rows(policy: str = "error"):
    """Within the block, loaders follow `policy` for malformed rows; yields the list of dropped rows
    ({"where", "error"}), empty under "error"."""
    if policy not in BAD_ROW_POLICIES:
        raise ValueError(f"config key data.on_bad_row: {policy!r} is not one of {list(BAD_ROW_POLICIES)}")
    dropped: list[dict] = []
    token = _BAD_ROWS.set(dropped if policy == "drop" else None)
    try:
        yield dropped
    finally:
        _BAD_ROWS.reset(token)


class _row:
    """`with _row(where):` around the conversion of one row: re-raises a RecordError, or under
    `bad_rows("drop")` records it and skips the row."""
    __slots__ = ("where",)

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        if et is not None and issubclass(et, RecordError):
            sink = _BAD_ROWS.get()
            if sink is not None:
                sink.append({"where": self.where, "error": str(e)})
                return True
        return False


def _nfc(s):
    return unicodedata.normalize("NFC", s) if isinstance(s, str) else s


def _get(row, key: str, where: str):
    if not isinstance(row, Mapping):
        _fail(where, f"row must be a mapping, got {type(row).__name__}")
    if key not in row:
        _fail(where, f"missing field {key!r} (fields: {', '.join(map(str, row)) or 'none'})")
    return row[key]


def _seq(v, where: str, field: str) -> list:
    """A list from a list/tuple/numpy array (parquet via pandas yields arrays)."""
    if isinstance(v, (list, tuple)):
        return list(v)
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        out = v.tolist()
        if isinstance(out, list):
            return out
    _fail(where, f"field {field!r} must be a list, got {type(v).__name__}")


def _int(v, where: str, field: str) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral):
        if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
            return int(v)
        _fail(where, f"field {field!r} must be an integer, got {v!r}")
    return int(v)


def _is_unlabelled(v) -> bool:
    if v is None:
        return True
    if isinstance(v, Integral) and not isinstance(v, bool):
        return int(v) == -1
    return isinstance(v, str) and v.strip() in ("", "-", "-1")


def _label(v, names, where: str, aliases: Mapping | None = None, numeric_strings: bool = False,
           field: str = "label") -> int:
    """Index of a gold label given as an int index, a label name, an alias or (optionally) a digit string."""
    n = len(names)
    if _is_unlabelled(v):
        _fail(where, f"field {field!r} is {v!r}: no gold label (unlabelled test split?)")
    if isinstance(v, bool):
        _fail(where, f"field {field!r} must be an integer or a label name, got {v!r}")
    if isinstance(v, Integral):
        i = int(v)
    elif isinstance(v, str):
        s = v.strip()
        if s in names:
            return list(names).index(s)
        if aliases and s in aliases:
            return aliases[s]
        if numeric_strings and re.fullmatch(r"-?\d+", s):
            i = int(s)
        else:
            _fail(where, f"unknown label {v!r} in field {field!r} (expected one of {list(names)})")
    else:
        _fail(where, f"field {field!r} must be an integer or a label name, got {type(v).__name__}")
    if not 0 <= i < n:
        _fail(where, f"label {i} out of range 0..{n - 1} in field {field!r}")
    return i


def _tags(v, names, where: str, field: str) -> list[str]:
    out = []
    for j, t in enumerate(_seq(v, where, field)):
        if isinstance(t, Integral) and not isinstance(t, bool):
            if not 0 <= int(t) < len(names):
                _fail(where, f"{field}[{j}] = {int(t)} out of range 0..{len(names) - 1}")
            out.append(names[int(t)])
        elif isinstance(t, str) and t in names:
            out.append(t)
        else:
            _fail(where, f"{field}[{j}] = {t!r} is not a tag index or a name in {list(names)}")
    return out


class _Out:
    """Collects records: validates each one (naming its origin) and keeps ids unique."""

    def __init__(self, fmt: str, labels=None, n_choices=None):
        self.fmt, self.labels, self.n_choices = fmt, (list(labels) if labels else None), n_choices
        self.recs: list[dict] = []
        self.seen: dict[str, str] = {}

    @classmethod
    def task(cls, task: str) -> "_Out":
        spec = T.get(task)
        return cls(spec.format, spec.labels or None, spec.n_choices or None)

    def add(self, rec: dict, where: str) -> None:
        R.validate(rec, self.fmt, where, self.labels, self.n_choices)
        first = self.seen.get(rec["id"])
        if first is not None:
            _fail(where, f"duplicate id {rec['id']!r} (first seen at {first})")
        self.seen[rec["id"]] = where
        self.recs.append(rec)


def _read_text(path) -> str:
    """Whole file as strict UTF-8 (a BOM is dropped); invalid bytes raise naming file, line and byte."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such data file")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise RecordError(f"{p}:{line}: not valid UTF-8 at byte {e.start} ({data[e.start:e.start + 4]!r}); "
                          "wrong encoding or corrupt download?") from None
    return text[1:] if text.startswith("\ufeff") else text


def _lines(path) -> list[tuple[int, str]]:
    """(line number, line) pairs. Splits on '\\n' only (not str.splitlines, which would also split on U+2028,
    U+0085, form feeds, ... that occur inside real sentences) and drops a trailing '\\r'."""
    text = _read_text(path)
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [(i, line[:-1] if line.endswith("\r") else line) for i, line in enumerate(parts, 1)]


def _tsv(path, header: bool, n_fields: int | None = None, required=()) -> tuple[list[str], list[tuple[str, list]]]:
    """Tab-separated rows with no quoting at all (csv.QUOTE_NONE semantics); blank lines are skipped.

    Returns (header fields or [], [(where, fields)]). Every row must have as many fields as the header
    (or `n_fields`)."""
    lines = [(i, l) for i, l in _lines(path) if l.strip()]
    cols: list[str] = []
    if header:
        if not lines:
            _fail(f"{path}:1", "empty file (expected a header line)")
        i0, h = lines.pop(0)
        cols = h.split("\t")
        missing = [c for c in required if c not in cols]
        if missing:
            _fail(f"{path}:{i0}", f"header lacks column(s) {missing} (header: {cols})")
        n_fields = len(cols)
    rows = []
    for i, line in lines:
        f = line.split("\t")
        if n_fields is not None and len(f) != n_fields:
            _fail(f"{path}:{i}", f"expected {n_fields} tab-separated fields, got {len(f)}")
        rows.append((f"{path}:{i}", f))
    return cols, rows


def _csv(path, required=()) -> list[tuple[str, dict]]:
    """RFC-4180 CSV with a header (quoted fields may hold commas and newlines); `where` = start line."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    try:
        header = next(reader, None)
        if header is None:
            _fail(f"{path}:1", "empty file (expected a CSV header)")
        missing = [c for c in required if c not in header]
        if missing:
            _fail(f"{path}:1", f"CSV header lacks column(s) {missing} (header: {header})")
        start = reader.line_num + 1
        for row in reader:
            where = f"{path}:{start}"
            start = reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                _fail(where, f"expected {len(header)} CSV fields, got {len(row)}")
            out.append((where, dict(zip(header, row))))
    except csv.Error as e:
        _fail(f"{path}:{reader.line_num}", f"malformed CSV ({e})")
    return out


def _jsonl(path) -> list[tuple[str, Any]]:
    out = []
    for i, line in _lines(path):
        if not line.strip():
            continue
        try:
            out.append((f"{path}:{i}", json.loads(line)))
        except json.JSONDecodeError as e:
            _fail(f"{path}:{i}", f"invalid JSON ({e.msg} at column {e.colno}); truncated file?")
    return out


def _json(path):
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        _fail(f"{path}:{e.lineno}", f"invalid JSON ({e.msg} at column {e.colno}); truncated file?")


def _rows(rows, source: str):
    """(where, row) for hub rows; a `datasets.Dataset` or any iterable of mappings works."""
    for i, row in enumerate(rows):
        yield f"{source}:row {i}", row


# ---------------------------------------------------------------------------------------------------------------
# XNLI


def xnli_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "facebook/xnli",
                       id_prefix: str | None = None) -> list[dict]:
    """`facebook/xnli` per-language config rows (premise, hypothesis, label = ClassLabel int 0..2 or its name).

    The rows carry no id; ids are `<id_prefix><row index>` (default prefix `xnli-<lang>-`). The `all_languages`
    config (premise is a Translation dict) is rejected: load one config per language."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    for i, (where, row) in enumerate(_rows(rows, source)):
        premise = _get(row, "premise", where)
        if isinstance(premise, Mapping):  # a config error, not a bad row: never dropped
            _fail(where, "premise is a Translation dict: this is the 'all_languages' config; "
                         "load a per-language config (e.g. 'de') instead")
        with _row(where):
            label = _label(_get(row, "label", where), T.NLI, where, NLI_ALIASES)
            out.add({"id": f"{prefix}{i}", "text_a": _nfc(premise),
                     "text_b": _nfc(_get(row, "hypothesis", where)), "label": label}, where)
    return out.recs


def xnli_from_xtreme_rows(rows: Iterable[Mapping], lang: str, source: str = "google/xtreme:XNLI",
                          id_prefix: str | None = None) -> list[dict]:
    """`google/xtreme` config `XNLI`: all 15 languages stacked, fields language, sentence1, sentence2 and a
    **string** gold_label (`entailment`/`neutral`/`contradiction`). Keeps the rows of `lang`; ids are
    `<id_prefix><index within lang>` (default `xnli-<lang>-`). The same works on rows of the raw
    `XNLI-1.0/xnli.{dev,test}.tsv` read with a header."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    k = 0
    for where, row in _rows(rows, source):
        if _get(row, "language", where) != lang:
            continue
        label = _label(_get(row, "gold_label", where), T.NLI, where, NLI_ALIASES, field="gold_label")
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(_get(row, "sentence1", where)),
                 "text_b": _nfc(_get(row, "sentence2", where)), "label": label}, where)
        k += 1
    if not out.recs:
        _fail(source, f"no rows with language {lang!r}")
    return out.recs


def xnli_from_xglue_tsv(path, lang: str, id_prefix: str | None = None) -> list[dict]:
    """XGLUE-style XNLI TSV: no header, `premise<TAB>hypothesis<TAB>label` with a string label.
    Ids are `<id_prefix><row index>` (default `xnli-<lang>-`)."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    _, rows = _tsv(path, header=False, n_fields=3)
    for k, (where, (a, b, lab)) in enumerate(rows):
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(a), "text_b": _nfc(b),
                 "label": _label(lab, T.NLI, where, NLI_ALIASES)}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# PAWS-X


def pawsx_from_tsv(path, lang: str | None = None) -> list[dict]:
    """Raw PAWS-X TSV (`id, sentence1, sentence2, label` with a header), read with QUOTE_NONE semantics: a quote
    character is text, so no row is swallowed (the google/xtreme parser's default quoting loses rows).
    Ids are the file's ids. `lang` is informational only."""
    out = _Out.task("pawsx")
    cols, rows = _tsv(path, header=True, required=("id", "sentence1", "sentence2", "label"))
    ix = {c: cols.index(c) for c in ("id", "sentence1", "sentence2", "label")}
    for where, f in rows:
        out.add({"id": f[ix["id"]].strip(), "text_a": _nfc(f[ix["sentence1"]]), "text_b": _nfc(f[ix["sentence2"]]),
                 "label": _label(f[ix["label"]], T.TASKS["pawsx"].labels, where)}, where)
    return out.recs


def pawsx_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "google-research-datasets/paws-x",
                        id_prefix: str | None = None) -> list[dict]:
    """PAWS-X hub rows: `google-research-datasets/paws-x` (id int, label ClassLabel int) or `google/xtreme`
    `PAWS-X.<lang>` (no id, label string "0"/"1"). Without an id field the id is `<id_prefix><row index>`
    (default `pawsx-<lang>-`)."""
    prefix = f"pawsx-{lang}-" if id_prefix is None else id_prefix
    labels = T.TASKS["pawsx"].labels
    out = _Out.task("pawsx")
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            rid = row.get("id") if isinstance(row, Mapping) else None
            if rid is None:
                rid = f"{prefix}{i}"
            elif not isinstance(rid, str):
                rid = str(_int(rid, where, "id"))
            out.add({"id": rid, "text_a": _nfc(_get(row, "sentence1", where)),
                     "text_b": _nfc(_get(row, "sentence2", where)),
                     "label": _label(_get(row, "label", where), labels, where)}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# UD POS


def udpos_from_conllu(path, id_prefix: str = "", hf_compat: bool = True) -> list[dict]:
    """CoNLL-U -> tagging records with the UPOS column (4th) as tags.

    Like the Hugging Face `google/xtreme` udpos builder, this keeps *syntactic words*: comment lines (`#`),
    multi-word token ranges (`1-2`, whose UPOS is `_`) and empty nodes (`1.1`) are skipped, and with
    `hf_compat` (default) word lines whose FORM or UPOS is `_` are dropped as HF drops them (treebanks that
    hide their forms, e.g. Arabic-NYUAD). XTREME's own preprocessing instead replaces sub-tokens by the fused
    form, so token sequences differ from the XTREME paper's files for languages with contractions.
    Unlike HF, the last sentence is kept when the file does not end with a blank line.
    Ids are `<id_prefix><sent_id>` (`# sent_id` comment) or `<id_prefix><file stem>-<n>` without one.
    A word line with other than 10 fields, or an unknown UPOS, raises naming file and line."""
    out = _Out.task("udpos")
    stem = Path(path).name.split(".")[0]
    toks: list[str] = []
    tags: list[str] = []
    sent_id: str | None = None
    start = None
    n = 0

    def flush():
        nonlocal toks, tags, sent_id, start, n
        if toks:
            rid = f"{id_prefix}{sent_id}" if sent_id else f"{id_prefix}{stem}-{n}"
            out.add({"id": rid, "tokens": toks, "tags": tags}, f"{path}:{start}")
            n += 1
        toks, tags, sent_id, start = [], [], None, None

    for i, line in _lines(path):
        if not line.strip():
            flush()
            continue
        if start is None:
            start = i
        if line.startswith("#"):
            m = re.match(r"#\s*sent_id\s*=\s*(.*\S)", line)
            if m:
                sent_id = m.group(1)
            continue
        f = line.split("\t")
        where = f"{path}:{i}"
        if len(f) != 10:
            _fail(where, f"CoNLL-U word line needs 10 tab-separated fields, got {len(f)}")
        wid, form, upos = f[0], f[1], f[3]
        if re.fullmatch(r"\d+-\d+", wid) or re.fullmatch(r"\d+\.\d+", wid):
            continue  # multi-word token range / empty node, skipped as HF does
        if not re.fullmatch(r"\d+", wid):
            _fail(where, f"bad CoNLL-U ID {wid!r}")
        if hf_compat and (form == "_" or upos == "_"):
            continue
        if upos not in T.UPOS:
            _fail(where, f"UPOS {upos!r} is not one of the 17 universal tags")
        if not form:
            _fail(where, "empty FORM")
        toks.append(_nfc(form))
        tags.append(upos)
    flush()
    return out.recs


def udpos_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "google/xtreme:udpos",
                        id_prefix: str | None = None) -> list[dict]:
    """`google/xtreme` `udpos.<Language>` rows: tokens, pos_tags (ClassLabel ints 0..16 -> `tasks.UPOS` names;
    names are accepted too). Ids `<id_prefix><row index>` (default `udpos-<lang>-`)."""
    prefix = f"udpos-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("udpos")
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            toks = [_nfc(t) for t in _seq(_get(row, "tokens", where), where, "tokens")]
            tags = _tags(_get(row, "pos_tags", where), T.UPOS, where, "pos_tags")
            out.add({"id": f"{prefix}{i}", "tokens": toks, "tags": tags}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# PAN-X / WikiANN

_LANG_PREFIX = re.compile(r"([a-z]{2,3}(?:-[a-z]+)?):(.+)", re.S)


def strip_lang_prefix(tokens: list[str], lang: str | None = None) -> list[str]:
    """Remove the `xx:` language prefix of raw PAN-X tokens (`af:Later` -> `Later`). Only strips when every
    token of the sentence carries the same prefix (and it equals `lang` when given), so already-stripped hub
    tokens such as `Re:` or `http://x` are left alone."""
    if not tokens:
        return tokens
    ms = [_LANG_PREFIX.fullmatch(t) if isinstance(t, str) else None for t in tokens]
    if all(ms) and len({m.group(1) for m in ms}) == 1 and (lang is None or ms[0].group(1) == lang):
        return [m.group(2) for m in ms]
    return tokens


def panx_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "google/xtreme:PAN-X",
                       id_prefix: str | None = None) -> list[dict]:
    """`google/xtreme` `PAN-X.<lang>` / `unimelb-nlp/wikiann` rows: tokens, ner_tags (ClassLabel ints ->
    `tasks.NER` names). `xx:` prefixes are stripped if present (`strip_lang_prefix`); `langs`/`spans` ignored.
    Ids `<id_prefix><row index>` (default `panx-<lang>-`)."""
    prefix = f"panx-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("panx")
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            toks = strip_lang_prefix(_seq(_get(row, "tokens", where), where, "tokens"), lang)
            tags = _tags(_get(row, "ner_tags", where), T.NER, where, "ner_tags")
            out.add({"id": f"{prefix}{i}", "tokens": [_nfc(t) for t in toks], "tags": tags}, where)
    return out.recs


def panx_from_truth_csv(path, lang: str | None = None, id_prefix: str | None = None) -> list[dict]:
    """Rahimi et al. token CSV (`sent_idx,word_idx,word,word_id,truth`; words like `af:Later`, quoted when they
    contain a comma). Rows of a sentence must be contiguous with word_idx 0, 1, 2, ...; the `xx:` prefix is
    stripped. `lang` defaults to the prefix. Ids `<id_prefix><sent_idx>` (default `panx-<lang>-`)."""
    out = _Out.task("panx")
    rows = _csv(path, required=("sent_idx", "word_idx", "word", "truth"))
    sents: list[tuple[str, int, list, list]] = []
    done: set[int] = set()
    for where, r in rows:
        s = _int(r["sent_idx"], where, "sent_idx")
        w = _int(r["word_idx"], where, "word_idx")
        if not sents or sents[-1][1] != s:
            if s in done:
                _fail(where, f"sentence {s} is not contiguous (seen earlier in the file)")
            if sents:
                done.add(sents[-1][1])
            sents.append((where, s, [], []))
        _, _, toks, tags = sents[-1]
        if w != len(toks):
            _fail(where, f"word_idx {w} in sentence {s}, expected {len(toks)}")
        if r["truth"] not in T.NER:
            _fail(where, f"tag {r['truth']!r} not in {T.NER}")
        toks.append(r["word"])
        tags.append(r["truth"])
    for where, s, toks, tags in sents:
        stripped = strip_lang_prefix(toks, lang)
        if stripped is toks:
            _fail(where, f"tokens of sentence {s} lack a common language prefix "
                         f"{(lang + ':') if lang else 'xx:'} (first token {toks[0]!r})")
        if lang is None:
            lang = toks[0].split(":", 1)[0]
        prefix = f"panx-{lang}-" if id_prefix is None else id_prefix
        out.add({"id": f"{prefix}{s}", "tokens": [_nfc(t) for t in stripped], "tags": tags}, where)
    return out.recs


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


def qa_from_rows(rows: Iterable[Mapping], source: str, unanswerable: bool = False,
                 stats: dict | None = None, row_numbers: list[int] | None = None) -> list[dict]:
    """Hub rows of XQuAD / MLQA / TyDiQA / SQuAD (`id, context, question, answers{text, answer_start}` in the HF
    dict-of-lists form; a SQuAD list of {text, answer_start} is accepted too). Offsets are repaired as in
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


def qa_from_jsonl(path, unanswerable: bool = False, stats: dict | None = None) -> list[dict]:
    """JSONL of hub-style QA rows (e.g. the MLQA fixture, an Arrow export): one row per line as `qa_from_rows`."""
    out = _Out(T.SPAN_QA)
    for where, row in _jsonl(path):
        out.add(_qa_row(row, where, unanswerable, stats), where)
    return out.recs


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


# ---------------------------------------------------------------------------------------------------------------
# Tatoeba


def tatoeba_from_files(source_path, target_path, lang: str | None = None,
                       id_prefix: str | None = None) -> list[dict]:
    """LASER Tatoeba v1 line files: `tatoeba.<l>-eng.<l>` (non-English source) and `tatoeba.<l>-eng.eng`
    (English target); line i aligns with line i. Only the line break is removed. `lang` defaults to the
    source file's extension (3-letter code; see `TATOEBA_ISO3`). Ids `<id_prefix><i>` (default
    `tatoeba-<lang>-`)."""
    lang = lang or Path(source_path).suffix.lstrip(".")
    prefix = f"tatoeba-{lang}-" if id_prefix is None else id_prefix
    src, tgt = _lines(source_path), _lines(target_path)
    if len(src) != len(tgt):
        _fail(f"{source_path}", f"{len(src)} lines but {target_path} has {len(tgt)}: files are not aligned")
    out = _Out(T.TATOEBA)
    for k, ((i, s), (_, t)) in enumerate(zip(src, tgt)):
        where = f"{source_path}:{i} / {target_path}:{i}"
        out.add({"id": f"{prefix}{k}", "source": _nfc(s), "target": _nfc(t)}, where)
    return out.recs


def tatoeba_from_hub_rows(rows: Iterable[Mapping], config: str, source: str | None = None,
                          id_prefix: str | None = None) -> list[dict]:
    """`google/xtreme` `tatoeba.<lang3>` rows (source_sentence, target_sentence). The sentences keep the file's
    trailing newline, which is stripped here; the language comes from the config name, because the rows'
    `source_lang` holds a fragment of the download-cache path, not a language code."""
    lang = config.split(".", 1)[1] if config.startswith("tatoeba.") else config
    source = source or f"google/xtreme:{config}"
    prefix = f"tatoeba-{lang}-" if id_prefix is None else id_prefix
    out = _Out(T.TATOEBA)
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            s, t = _get(row, "source_sentence", where), _get(row, "target_sentence", where)
            s = s.rstrip("\r\n") if isinstance(s, str) else s
            t = t.rstrip("\r\n") if isinstance(t, str) else t
            out.add({"id": f"{prefix}{i}", "source": _nfc(s), "target": _nfc(t)}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# BUCC


def bucc_from_raw(directory, lang: str, split: str, require_gold: bool = True) -> tuple[list[dict], list[dict]]:
    """Raw BUCC 2018 files in `directory`: `<lang>-en.<split>.<lang>` and `<lang>-en.<split>.en` (lines
    `id<TAB>sentence`: the monolingual candidate pools) and `<lang>-en.<split>.gold` (lines
    `src_id<TAB>tgt_id`). `split` is the release name (`sample`, `training`, `test`; `BUCC_SPLITS` maps the
    first two to dev/test as XTREME does). Returns (sentence records with side source/target, gold records
    {source_id, target_id}). Mining needs these full pools: the google/xtreme `bucc18` rows hold only the
    gold pairs (see `bucc_from_hub_rows`)."""
    d = Path(directory)
    sents = _Out(T.BUCC)
    ids = {"source": set(), "target": set()}
    for side, ext in (("source", lang), ("target", "en")):
        path = d / f"{lang}-en.{split}.{ext}"
        for i, line in _lines(path):
            where = f"{path}:{i}"
            if not line.strip():
                continue
            with _row(where):
                f = line.split("\t", 1)
                if len(f) != 2:
                    _fail(where, "expected `id<TAB>sentence`")
                sid = f[0].strip()
                sents.add({"id": sid, "side": side, "text": _nfc(f[1])}, where)
                ids[side].add(sid)
    gold: list[dict] = []
    gpath = d / f"{lang}-en.{split}.gold"
    if not gpath.exists():
        if require_gold:
            raise FileNotFoundError(f"{gpath}: no gold file (the BUCC test release has none; "
                                    "pass require_gold=False to read its sentences only)")
        return sents.recs, gold
    seen = set()
    for i, line in _lines(gpath):
        where = f"{gpath}:{i}"
        if not line.strip():
            continue
        with _row(where):  # under data.on_bad_row: drop, a pair naming a dropped sentence goes too
            f = line.split("\t")
            if len(f) != 2:
                _fail(where, f"expected `source_id<TAB>target_id`, got {len(f)} fields")
            rec = {"source_id": f[0].strip(), "target_id": f[1].strip()}
            R.validate_bucc_gold(rec, where, ids["source"], ids["target"])
            key = (rec["source_id"], rec["target_id"])
            if key in seen:
                _fail(where, f"duplicate gold pair {key}")
            seen.add(key)
            gold.append(rec)
    return sents.recs, gold


def bucc_from_hub_rows(rows: Iterable[Mapping], source: str = "google/xtreme:bucc18") -> NoReturn:
    """Always raises: `google/xtreme` `bucc18.<lang>` rows cannot feed BUCC mining.

    Each of those rows is one *gold pair* (source_sentence, target_sentence; the `*_lang` fields hold the
    sentence ids), built from the `.gold` file only. The mining evaluation needs the full monolingual candidate
    pools (tens of thousands of non-parallel sentences per side), which are not in the dataset. Download
    `bucc2018-<lang>-en.{sample,training}-gold.tar.bz2` and read them with `bucc_from_raw`."""
    first = next(iter(rows), None)
    looks = isinstance(first, Mapping) and {"source_sentence", "target_sentence"} <= set(first)
    raise RecordError(
        f"{source}: {'these are google/xtreme bucc18 rows, which' if looks else 'hub BUCC rows'} hold only the "
        "gold sentence pairs, not the monolingual candidate pools that BUCC mining searches; scoring on them "
        "would be retrieval among translations only and inflate F1. Use the raw BUCC 2018 files "
        "(bucc2018-<lang>-en.{sample,training}-gold.tar.bz2) with loaders.bucc_from_raw.")


# ---------------------------------------------------------------------------------------------------------------
# intermediate tasks: classification


def classification_from_hub_rows(rows: Iterable[Mapping], task: str, source: str, text_a: str,
                                 text_b: str | None = None, id_field: str | None = None,
                                 id_prefix: str | None = None, label_field: str = "label",
                                 drop_unlabelled: bool = False) -> tuple[list[dict], int]:
    """Generic hub rows -> classification records of `task` (labels from `tasks`): e.g. QQP
    (`question1`, `question2`), SST-2 (`sentence`), ANLI/SNLI/MNLI (`premise`, `hypothesis`). Labels may be the
    ClassLabel int, a label name or an NLI alias. Ids: `str(row[id_field])` when given, else
    `<id_prefix><row index>` (default `<task>-`). With `drop_unlabelled`, rows with label -1 / "-" / "" are
    dropped and counted; otherwise they raise. Returns (records, n_dropped)."""
    spec = T.get(task)
    prefix = f"{task}-" if id_prefix is None else id_prefix
    aliases = NLI_ALIASES if list(spec.labels) == T.NLI else None
    out = _Out.task(task)
    dropped = 0
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            lab = _get(row, label_field, where)
            if drop_unlabelled and _is_unlabelled(lab):
                dropped += 1
                continue
            rid = f"{prefix}{i}" if id_field is None else _get(row, id_field, where)
            rec = {"id": rid if isinstance(rid, str) else str(_int(rid, where, id_field)),
                   "text_a": _nfc(_get(row, text_a, where)),
                   "text_b": _nfc(_get(row, text_b, where)) if text_b else None,
                   "label": _label(lab, spec.labels, where, aliases, field=label_field)}
            out.add(rec, where)
    return out.recs, dropped


def nli_from_hub_rows(rows: Iterable[Mapping], source: str, task: str = "mnli", id_field: str | None = None,
                      id_prefix: str | None = None) -> tuple[list[dict], int]:
    """ANLI (`facebook/anli`, id_field `uid`), SNLI (`stanfordnlp/snli`, no id), MNLI (`nyu-mll/multi_nli`,
    id_field `pairID`; `nyu-mll/glue` mnli, id_field `idx`) rows: premise, hypothesis, label int. Rows with
    label -1 (SNLI gold `-`, GLUE test) are dropped. Returns (records, n_dropped)."""
    return classification_from_hub_rows(rows, task, source, "premise", "hypothesis", id_field=id_field,
                                        id_prefix=id_prefix, drop_unlabelled=True)


def anli_from_csv(path, task: str = "anli_plus") -> list[dict]:
    """ANLI CSV as in facebookresearch/anli `anlizinganli` (context, statement = hypothesis, gold_label e/n/c,
    uid; other columns ignored). Ids are the uids."""
    out = _Out.task(task)
    for where, r in _csv(path, required=("context", "statement", "gold_label", "uid")):
        out.add({"id": r["uid"].strip(), "text_a": _nfc(r["context"]), "text_b": _nfc(r["statement"]),
                 "label": _label(r["gold_label"], T.NLI, where, NLI_ALIASES, field="gold_label")}, where)
    return out.recs


def nli_from_jsonl(path, task: str = "mnli", id_prefix: str | None = None) -> tuple[list[dict], int]:
    """NLI JSONL: jiant's format (premise, hypothesis, label name) or raw SNLI 1.0 / MultiNLI 1.0
    (sentence1, sentence2, gold_label, pairID). Gold `-` rows are dropped and counted; a row with no label
    field at all (an unlabelled test file) raises. Ids: pairID when present, else `<id_prefix><row index>`
    (default `<file stem>-`). Returns (records, n_dropped)."""
    prefix = f"{Path(path).stem}-" if id_prefix is None else id_prefix
    out = _Out.task(task)
    dropped = 0
    for k, (where, row) in enumerate(_jsonl(path)):
        if not isinstance(row, Mapping):
            _fail(where, f"row must be a JSON object, got {type(row).__name__}")
        raw = "gold_label" in row or "sentence1" in row
        a, b, lf = ("sentence1", "sentence2", "gold_label") if raw else ("premise", "hypothesis", "label")
        lab = _get(row, lf, where)
        if isinstance(lab, str) and lab.strip() == "-" or (isinstance(lab, int) and lab == -1):
            dropped += 1
            continue
        rid = row.get("pairID")
        out.add({"id": str(rid) if rid is not None else f"{prefix}{k}", "text_a": _nfc(_get(row, a, where)),
                 "text_b": _nfc(_get(row, b, where)),
                 "label": _label(lab, T.NLI, where, NLI_ALIASES, field=lf)}, where)
    return out.recs, dropped


mnli_from_jiant_jsonl = nli_from_jsonl


def mnli_from_glue_tsv(path, task: str = "mnli") -> tuple[list[dict], int]:
    """GLUE MNLI TSV (header with sentence1, sentence2, gold_label, pairID; QUOTE_NONE). Rows with gold `-`
    are dropped and counted. A test file (no gold_label column) raises. Returns (records, n_dropped)."""
    out = _Out.task(task)
    cols, rows = _tsv(path, header=True, required=("pairID", "sentence1", "sentence2", "gold_label"))
    ix = {c: cols.index(c) for c in ("pairID", "sentence1", "sentence2", "gold_label")}
    dropped = 0
    for where, f in rows:
        if f[ix["gold_label"]].strip() == "-":
            dropped += 1
            continue
        out.add({"id": f[ix["pairID"]].strip(), "text_a": _nfc(f[ix["sentence1"]]),
                 "text_b": _nfc(f[ix["sentence2"]]),
                 "label": _label(f[ix["gold_label"]], T.NLI, where, NLI_ALIASES, field="gold_label")}, where)
    return out.recs, dropped


def qqp_from_tsv(path) -> list[dict]:
    """GLUE QQP TSV (`id qid1 qid2 question1 question2 is_duplicate`, QUOTE_NONE); ids are the pair ids."""
    out = _Out.task("qqp")
    cols, rows = _tsv(path, header=True, required=("id", "question1", "question2", "is_duplicate"))
    ix = {c: cols.index(c) for c in ("id", "question1", "question2", "is_duplicate")}
    for where, f in rows:
        out.add({"id": f[ix["id"]].strip(), "text_a": _nfc(f[ix["question1"]]), "text_b": _nfc(f[ix["question2"]]),
                 "label": _label(f[ix["is_duplicate"]], T.TASKS["qqp"].labels, where, numeric_strings=True,
                                 field="is_duplicate")}, where)
    return out.recs


def sst2_from_tsv(path, id_prefix: str | None = None) -> list[dict]:
    """GLUE SST-2 TSV (`sentence<TAB>label`, 0 = negative, 1 = positive); single-sentence, text_b null.
    Ids `<id_prefix><row index>` (default `sst2-<file stem>-`). A test file (no label column) raises."""
    prefix = f"sst2-{Path(path).name.split('.')[0]}-" if id_prefix is None else id_prefix
    out = _Out.task("sst2")
    cols, rows = _tsv(path, header=True, required=("sentence", "label"))
    ix = {c: cols.index(c) for c in ("sentence", "label")}
    for k, (where, f) in enumerate(rows):
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(f[ix["sentence"]]), "text_b": None,
                 "label": _label(f[ix["label"]], T.TASKS["sst2"].labels, where, numeric_strings=True)}, where)
    return out.recs


def squad_v2_from_json(path, stats: dict | None = None) -> list[dict]:
    """SQuAD v2.0 JSON: unanswerable questions (`is_impossible`) get empty answer lists."""
    return squad_from_json(path, unanswerable=True, stats=stats)


# ---------------------------------------------------------------------------------------------------------------
# intermediate tasks: multiple choice


def _hellaswag_row(row, where, out):
    endings = [_nfc(e) for e in _seq(_get(row, "endings", where), where, "endings")]
    ctx_a, ctx_b = _get(row, "ctx_a", where), _get(row, "ctx_b", where)
    if not isinstance(ctx_a, str) or not isinstance(ctx_b, str):
        _fail(where, "fields 'ctx_a' and 'ctx_b' must be strings")
    context, question = (ctx_a, ctx_b) if ctx_a.strip() else (ctx_b, "")
    label = _label(_get(row, "label", where), [str(i) for i in range(len(endings))], where)
    out.add({"id": str(_get(row, "ind", where)), "context": _nfc(context), "question": _nfc(question),
             "choices": endings, "label": label}, where)


def hellaswag_from_rows(rows: Iterable[Mapping], source: str = "Rowan/hellaswag") -> list[dict]:
    """HellaSwag rows (hub: label string "0".."3"; raw JSONL: label int). context = `ctx_a`, question = `ctx_b`
    (the start of the sentence the ending completes, possibly ""; `ctx` = ctx_a + " " + ctx_b), choices =
    the 4 endings; so the usual input pair is (context, question + " " + choice). Ids are `ind`. Test rows
    (label "") raise."""
    out = _Out.task("hellaswag")
    for where, row in _rows(rows, source):
        with _row(where):
            _hellaswag_row(row, where, out)
    return out.recs


def hellaswag_from_jsonl(path) -> list[dict]:
    """Raw `hellaswag_{train,val}.jsonl` (rowanz/hellaswag); see `hellaswag_from_rows`."""
    out = _Out.task("hellaswag")
    for where, row in _jsonl(path):
        with _row(where):
            _hellaswag_row(row, where, out)
    return out.recs


def _cosmos_row(row, where, out):
    choices = [_nfc(_get(row, f"answer{j}", where)) for j in range(4)]
    out.add({"id": str(_get(row, "id", where)), "context": _nfc(_get(row, "context", where)),
             "question": _nfc(_get(row, "question", where)), "choices": choices,
             "label": _label(_get(row, "label", where), ["0", "1", "2", "3"], where, numeric_strings=True)},
            where)


def cosmosqa_from_rows(rows: Iterable[Mapping], source: str = "allenai/cosmos_qa") -> list[dict]:
    """CosmosQA rows (id, context, question, answer0..answer3, label int 0..3; test label -1 raises)."""
    out = _Out.task("cosmosqa")
    for where, row in _rows(rows, source):
        with _row(where):
            _cosmos_row(row, where, out)
    return out.recs


def cosmosqa_from_csv(path) -> list[dict]:
    """Raw CosmosQA CSV (wilburOne/cosmosqa `data/{train,valid}.csv`; label as a digit string)."""
    out = _Out.task("cosmosqa")
    for where, row in _csv(path, required=("id", "context", "question", "answer0", "answer1", "answer2",
                                           "answer3", "label")):
        with _row(where):
            _cosmos_row(row, where, out)
    return out.recs


def _csqa_row(row, where, out):
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


def commonsenseqa_from_rows(rows: Iterable[Mapping], source: str = "tau/commonsense_qa") -> list[dict]:
    """CommonsenseQA rows, either the HF flattened schema (question str, choices{label, text}, answerKey) or
    the original nested one (question{stem, choices[{label, text}]}, answerKey). The record puts the question
    stem in `context` (the format needs a non-empty context) and leaves `question` "". answerKey A..E -> 0..4."""
    out = _Out.task("commonsenseqa")
    for where, row in _rows(rows, source):
        with _row(where):
            _csqa_row(row, where, out)
    return out.recs


def commonsenseqa_from_jsonl(path) -> list[dict]:
    """CommonsenseQA JSONL in either schema (see `commonsenseqa_from_rows`)."""
    out = _Out.task("commonsenseqa")
    for where, row in _jsonl(path):
        with _row(where):
            _csqa_row(row, where, out)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# writing a task folder

_LANG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _lang_order(langs):
    return sorted(langs, key=lambda l: (l != "en", l))


def write_task(outdir, task: str, lang_split_records: Mapping[str, Mapping[str, Any]], source: str,
               provenance: Mapping | None = None) -> Path:
    """Write `<outdir>/task~<task>/lang~<lang>/<split>.jsonl` and `<outdir>/task~<task>/meta.json` as
    docs/records.md specifies (`outdir` is `resources/data/<source>`).

    `lang_split_records[lang][split]` is a list of records; for BUCC it is a pair (sentences, gold), written as
    `<split>.jsonl` and `<split>.gold.jsonl`. Splits must be train/dev/test and non-empty. Every record is
    validated (the error names the file and line it would have had) and ids are checked unique per file
    before anything is written; the task folder is then built beside the target and swapped in, so a failure
    leaves the previous folder (or none) intact, with no partial files and no stale languages.
    meta.json: task, format, labels, languages (en first, then sorted), splits and counts (sentence records
    for BUCC) per language, source, provenance. Returns the task folder."""
    spec = T.get(task)
    if not isinstance(source, str) or not source:
        raise ValueError("source must be a non-empty string (e.g. 'micro' or 'hub')")
    labels = list(spec.labels)
    outdir = Path(outdir)
    final = outdir / f"task~{task}"
    if not lang_split_records:
        raise ValueError(f"write_task({task}): no languages given")
    files: dict[Path, list[dict]] = {}
    splits, counts = {}, {}
    for lang in _lang_order(lang_split_records):
        if not isinstance(lang, str) or not _LANG_RE.fullmatch(lang):
            raise ValueError(f"write_task({task}): bad language code {lang!r}")
        by_split = lang_split_records[lang]
        bad = [s for s in by_split if s not in SPLITS]
        if bad:
            raise ValueError(f"write_task({task}, {lang}): unknown split(s) {bad}; splits are {list(SPLITS)}")
        splits[lang] = [s for s in SPLITS if s in by_split]
        counts[lang] = {}
        for split in splits[lang]:
            rel = Path(f"lang~{lang}") / f"{split}.jsonl"
            shown = final / rel
            recs = by_split[split]
            gold = None
            if spec.format == T.BUCC:
                if not (isinstance(recs, (tuple, list)) and len(recs) == 2 and all(isinstance(x, list) for x in recs)):
                    raise ValueError(f"write_task({task}, {lang}, {split}): BUCC needs a (sentences, gold) pair")
                recs, gold = recs
            recs = list(recs)
            if not recs:
                raise RecordError(f"{shown}: no records for {task}/{lang}/{split}")
            seen = {}
            for i, r in enumerate(recs, 1):
                R.validate(r, spec.format, f"{shown}:{i}", labels or None, spec.n_choices or None)
                if r["id"] in seen:
                    raise RecordError(f"{shown}:{i}: duplicate id {r['id']!r} (first at line {seen[r['id']]})")
                seen[r["id"]] = i
            files[rel] = recs
            counts[lang][split] = len(recs)
            if gold is not None:
                grel = Path(f"lang~{lang}") / f"{split}.gold.jsonl"
                src_ids = {r["id"] for r in recs if r["side"] == "source"}
                tgt_ids = {r["id"] for r in recs if r["side"] == "target"}
                for i, g in enumerate(gold, 1):
                    R.validate_bucc_gold(g, f"{final / grel}:{i}", src_ids, tgt_ids)
                files[grel] = list(gold)
    meta = {"task": task, "format": spec.format, "labels": labels, "languages": list(splits),
            "splits": splits, "counts": counts, "source": source, "provenance": dict(provenance or {})}
    meta_text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"

    def fill(tmp: Path) -> None:
        for rel, recs in files.items():
            fmt = None if rel.name.endswith(".gold.jsonl") else spec.format
            R.write_jsonl(tmp / rel, recs, fmt, labels or None, spec.n_choices or None)
        R.atomic_write_text(tmp / "meta.json", meta_text)

    return swap_in_folder(final, fill)


def swap_in_folder(final, fill) -> Path:
    """Build folder `final` with `fill(tmp)` in a temporary folder beside it, then swap it in: a failure leaves
    the previous folder (or none) intact, with no partial files and no stale leftovers."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    old = None
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; the task folder should be as readable as any other
        fill(tmp)
        for sub in tmp.rglob("*"):  # mkstemp/mkdtemp create 0600/0700; data files are meant to be shared
            os.chmod(sub, 0o755 if sub.is_dir() else 0o644)
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".old"))
            os.rmdir(old)
            os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            if old is not None:
                os.replace(old, final)
                old = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final
