"""What every loader shares: the malformed-row policy, field checks that name the row, the record
collector (`_Out`) and readers of TSV, CSV, JSON and JSONL files that yield `(where, row)` pairs."""
from __future__ import annotations

import contextvars
import csv
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path
from typing import NoReturn

from xstilts import records as R
from xstilts import tasks as T
from xstilts.records import RecordError

SPLITS = ("train", "dev", "test")


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


def _csv(path, required=()) -> Located:
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
    return Located(out)


def _jsonl(path) -> Located:
    out = []
    for i, line in _lines(path):
        if not line.strip():
            continue
        try:
            out.append((f"{path}:{i}", json.loads(line)))
        except json.JSONDecodeError as e:
            _fail(f"{path}:{i}", f"invalid JSON ({e.msg} at column {e.colno}); truncated file?")
    return Located(out)


def _json(path):
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        _fail(f"{path}:{e.lineno}", f"invalid JSON ({e.msg} at column {e.colno}); truncated file?")


class Located(list):
    """(where, row) pairs read from a file (`jsonl_rows`, `csv_rows`): every `*_from_rows` loader takes them
    as it takes hub rows, and keeps each row's file position as its `where`. One loader per source schema,
    whatever the container: hub split, parquet export, JSONL or CSV file."""


def _rows(rows, source: str):
    """(where, row) for hub rows (a `datasets.Dataset` or any iterable of mappings) or `Located` file rows."""
    if isinstance(rows, Located):
        yield from rows
        return
    for i, row in enumerate(rows):
        yield f"{source}:row {i}", row


# the file readers under their public names: `L.hellaswag_from_rows(L.jsonl_rows(path))`
jsonl_rows = _jsonl
csv_rows = _csv
