"""Writing a task folder: records per language and split, validated, into `task~<name>/` with its meta,
built beside the target and swapped in."""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data.loaders.common import SPLITS
from xstilts.records import RecordError

# ---------------------------------------------------------------------------------------------------------------
# writing a task folder

_LANG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


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
    for lang in T.lang_order(lang_split_records):
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
