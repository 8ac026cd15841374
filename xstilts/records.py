"""Record schemas (docs/records.md): validation, and atomic JSONL reading and writing.

Every writer validates every record before anything reaches disk, and writes through a temporary file, so
a bad row never leaves a partial output behind; every reader validates too and names file and row on error.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

from xstilts import tasks as T


class RecordError(ValueError):
    """A record that breaks its schema; the message names the file and row."""


def _fail(where: str, msg: str):
    raise RecordError(f"{where}: {msg}")


def _str(rec, key, where, allow_empty=False, allow_none=False):
    v = rec.get(key, KeyError)
    if v is KeyError:
        _fail(where, f"missing field {key!r}")
    if v is None and allow_none:
        return
    if not isinstance(v, str):
        _fail(where, f"field {key!r} must be a string, got {type(v).__name__}")
    if not allow_empty and not v.strip():
        _fail(where, f"field {key!r} is empty")


def validate(rec: dict, fmt: str, where: str, labels=None, n_choices: int | None = None) -> None:
    """Raise RecordError naming `where` if `rec` breaks the schema of `fmt`."""
    if not isinstance(rec, dict):
        _fail(where, f"record must be a JSON object, got {type(rec).__name__}")
    _str(rec, "id", where)
    if fmt == T.CLASSIFICATION:
        _str(rec, "text_a", where)
        _str(rec, "text_b", where, allow_none=True)
        _label(rec, where, len(labels) if labels else None)
    elif fmt == T.MULTIPLE_CHOICE:
        _str(rec, "context", where)
        _str(rec, "question", where, allow_empty=True)
        ch = rec.get("choices")
        if not isinstance(ch, list) or not ch or not all(isinstance(c, str) and c.strip() for c in ch):
            _fail(where, "field 'choices' must be a non-empty list of non-empty strings")
        if n_choices and len(ch) != n_choices:
            _fail(where, f"expected {n_choices} choices, got {len(ch)}")
        _label(rec, where, len(ch))
    elif fmt == T.SPAN_QA:
        _str(rec, "context", where)
        _str(rec, "question", where)
        ans = rec.get("answers")
        if not isinstance(ans, dict) or set(ans) != {"text", "answer_start"}:
            _fail(where, "field 'answers' must be {'text': [...], 'answer_start': [...]}")
        texts, starts = ans["text"], ans["answer_start"]
        if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
            _fail(where, "answers.text and answers.answer_start must be lists of equal length")
        ctx = rec["context"]
        for t, s in zip(texts, starts):
            if not isinstance(t, str) or not t or not isinstance(s, int) or isinstance(s, bool):
                _fail(where, f"bad answer {t!r} at {s!r}")
            if ctx[s:s + len(t)] != t:
                _fail(where, f"answer {t!r} not found at offset {s} of the context "
                             f"(context there reads {ctx[s:s + len(t)]!r})")
    elif fmt == T.TAGGING:
        toks, tags = rec.get("tokens"), rec.get("tags")
        if not isinstance(toks, list) or not toks or not all(isinstance(t, str) and t for t in toks):
            _fail(where, "field 'tokens' must be a non-empty list of non-empty strings")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            _fail(where, "field 'tags' must be a list of strings")
        if len(toks) != len(tags):
            _fail(where, f"{len(toks)} tokens but {len(tags)} tags")
        if labels:
            bad = sorted(set(tags) - set(labels))
            if bad:
                _fail(where, f"tags {bad} not in the label set")
    elif fmt == T.TATOEBA:
        _str(rec, "source", where)
        _str(rec, "target", where)
    elif fmt == T.BUCC:
        if "side" in rec:
            if rec["side"] not in ("source", "target"):
                _fail(where, f"field 'side' must be 'source' or 'target', got {rec['side']!r}")
            _str(rec, "text", where)
        else:
            _fail(where, "BUCC sentence record needs 'side' and 'text'")
    elif fmt == T.MLM:
        _str(rec, "lang", where)
        _str(rec, "text", where)
    else:
        _fail(where, f"unknown record format {fmt!r}")


def _label(rec, where, n):
    lab = rec.get("label", KeyError)
    if lab is KeyError:
        _fail(where, "missing field 'label'")
    if not isinstance(lab, int) or isinstance(lab, bool):
        _fail(where, f"field 'label' must be an integer, got {lab!r}")
    if n is not None and not 0 <= lab < n:
        _fail(where, f"label {lab} out of range 0..{n - 1}")


def validate_bucc_gold(rec: dict, where: str, source_ids: set, target_ids: set) -> None:
    for key, ids in (("source_id", source_ids), ("target_id", target_ids)):
        if not isinstance(rec.get(key), str):
            _fail(where, f"missing or non-string {key!r}")
        if rec[key] not in ids:
            _fail(where, f"{key} {rec[key]!r} is not a sentence of the split")


def check_unique_ids(recs: list[dict], where: str) -> None:
    seen = set()
    for i, r in enumerate(recs):
        if r["id"] in seen:
            _fail(f"{where}:{i + 1}", f"duplicate id {r['id']!r}")
        seen.add(r["id"])


def atomic_write(path: str | os.PathLike, write, binary: bool = False) -> Path:
    """Call write(f) on a temporary file beside `path`, then rename it into place: readers never see a
    half-written output, and a failure leaves no file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data), binary=True)


# Per-example predictions and statistics of one evaluation job (evaluate.example_stats), for paired
# bootstraps and prediction-flip rates. One row per (ttask, lang, split, family, severity, id).
EXAMPLE_KEYS = ("ttask", "lang", "split", "family", "severity", "id", "pred")


def write_examples(path, rows: Iterable[dict]) -> Path:
    """Gzipped JSON lines, byte-deterministic (gzip mtime 0): same predictions, same bytes."""
    import gzip
    lines = []
    for i, r in enumerate(rows):
        missing = [k for k in EXAMPLE_KEYS if k not in r]
        if missing:
            raise ValueError(f"{path}: example row {i + 1} lacks {missing}")
        lines.append(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    return atomic_write_bytes(path, gzip.compress("".join(lines).encode("utf-8"), mtime=0))


def read_examples(path) -> list[dict]:
    import gzip
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable per-example file ({e})") from e


def write_jsonl(path, recs: Iterable[dict], fmt: str | None = None, labels=None, n_choices=None) -> int:
    """Validate every record (when `fmt` is given), then write all of them atomically."""
    recs = list(recs)
    if fmt is not None:
        for i, r in enumerate(recs):
            validate(r, fmt, f"{path}:{i + 1}", labels, n_choices)
        check_unique_ids(recs, str(path))
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    return len(recs)


def read_jsonl(path, fmt: str | None = None, labels=None, n_choices=None) -> list[dict]:
    """Read a JSONL file, plain or gzipped (`.gz`); with `fmt`, validate every row. Errors name the file and row."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such data file")
    out = []
    data = path.read_bytes()
    if path.suffix == ".gz":
        import gzip
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise RecordError(f"{path}: unreadable gzip JSONL ({e}); truncated file?") from None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as e:
        row = data.count(b"\n", 0, e.start) + 1
        hint = " (the file ends inside a character: truncated file?)" if e.end == len(data) else ""
        raise RecordError(f"{path}:{row}: not valid UTF-8 at byte {e.start}{hint}") from None
    for i, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise RecordError(f"{path}:{i}: invalid JSON ({e.msg}); truncated file?") from None
        if fmt is not None:
            validate(rec, fmt, f"{path}:{i}", labels, n_choices)
        out.append(rec)
    if fmt is not None and fmt != T.BUCC:
        check_unique_ids(out, str(path))
    return out


def read_meta(task_dir) -> dict:
    p = Path(task_dir) / "meta.json"
    if not p.exists():
        raise FileNotFoundError(f"{p}: task metadata missing")
    return json.loads(p.read_text(encoding="utf-8"))


def task_file(data_dir, task: str, lang: str, split: str, suffix: str = ".jsonl") -> Path:
    return Path(data_dir) / f"task~{task}" / f"lang~{lang}" / f"{split}{suffix}"


def load_split(data_dir, task: str, lang: str, split: str) -> tuple[list[dict], dict]:
    """Records of one (task, language, split), validated against the task's meta.json."""
    meta = read_meta(Path(data_dir) / f"task~{task}")
    spec = T.get(task)
    recs = read_jsonl(task_file(data_dir, task, lang, split), meta.get("format", spec.format),
                      meta.get("labels") or None, spec.n_choices or None)
    return recs, meta
