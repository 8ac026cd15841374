"""Paper-scale data: read every task from the Hugging Face hub (or its raw upstream files) at pinned revisions
and write `resources/data/hub/task~<task>/...` in the layout of docs/records.md.

`SOURCES` (module `sources`) says, per task, which repo/config/split (or raw URL) feeds which of our splits and languages; the
row -> record conversion is `xstilts.data.loaders`, and `loaders.write_task` writes and validates. Only
`download_task` touches the network, through two injectable callables, so everything here is testable offline:

* `load(repo, config, split, revision=None, streaming=False, parquet_layout=False)` -> iterable of hub rows;
  the default `hub_load` is `datasets.load_dataset`. `parquet_layout=True` reads a `refs/convert/parquet`-style
  branch (`<config>/<split>/*.parquet`), which is how repos that are still script-only on `main`
  (datasets 5.x cannot run scripts, HUB_SCHEMAS.md) are read.
* `fetch(url)` -> binary file object, for raw files (BUCC tarballs, fallbacks); default `urllib`.

Our splits: train / dev (= hub `validation`) / test. Targets get the English training set they fine-tune on
(`tasks.Task.train_from`) and dev/test in every language that has them; intermediate tasks get English train and
dev; the MNLI task also gets the XNLI-MT 1.0 translations of its training set as `lang~<l>/train.jsonl` (MT
control). A load that fails (script-only repo, missing parquet export) falls back to the source's listed
alternatives holding the same data, unless the repo's revision was pinned by the caller; bad rows never fall back,
they raise `records.RecordError` naming repo, config, split and row.
"""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import re
import tarfile
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data import loaders as L
from xstilts.data.bundle import BundleError, Omitted
from xstilts.records import RecordError

from xstilts.data.sources import (DEFAULT_REVISIONS, PARQUET_BRANCH, PUBLISHED_MT, SOURCES, Part, Source, _fmt,
                                    mlm_corpus_source)
# ---------------------------------------------------------------------------------------------------------------
# I/O hooks (the only network access)


def hub_load(repo, config=None, split="train", revision=None, streaming=False, parquet_layout=False):
    """`datasets.load_dataset` for one split. A parquet conversion branch is read as a data folder per config."""
    import datasets
    if parquet_layout:
        return datasets.load_dataset(repo, data_dir=config, split=split, revision=revision, streaming=streaming)
    return datasets.load_dataset(repo, config, split=split, revision=revision, streaming=streaming)


def open_url(url):
    import urllib.request
    return urllib.request.urlopen(url, timeout=120)


# ---------------------------------------------------------------------------------------------------------------
# converters: (rows, lang, source, part, task) -> (records, n_dropped)


def _nli(id_field, prefix=""):
    def conv(rows, lang, source, part, task):
        return L.nli_from_hub_rows(rows, source, task=task, id_field=id_field, id_prefix=prefix)
    return conv


def _plain(fn):
    def conv(rows, lang, source, part, task):
        return fn(rows, lang, source), 0
    return conv


def _tydiqa(rows, lang, source, part, task):
    keep = L.tydiqa_split_indexed(rows, lang, source)
    recs = L.qa_from_rows([r for _, r in keep], source, row_numbers=[i for i, _ in keep])
    if part.split == "train":
        L.check_english_only(recs, source)  # the jiant pitfall: the multilingual GoldP train set is not English
    return recs, 0


def _tydiqa_en(rows, lang, source, part, task):
    if lang != "en":
        raise ValueError(f"{source}: TyDiQA training data is English only, not {lang!r}")
    return _tydiqa(rows, lang, source, part, task)


def _mlm_records(lines: Iterable[tuple[str, str, str]], lang: str, cap: int, prefix: str = "cc100") -> list[dict]:
    """(where, id, text) -> mlm records, the first `cap` non-empty texts."""
    out = []
    for where, rid, text in lines:
        with L._row(where):
            if not isinstance(text, str):
                raise RecordError(f"{where}: field 'text' is missing or not a string ({type(text).__name__})")
            text = unicodedata.normalize("NFC", text.rstrip("\r\n"))
            if not text.strip():  # CC-100 separates documents by empty lines: not a bad row
                continue
            out.append({"id": f"{prefix}-{lang}-{rid}", "lang": lang, "text": text})
        if len(out) >= cap:
            break
    return out


CONVERTERS: dict[str, Callable] = {
    "xnli": _plain(L.xnli_from_hub_rows),
    "xnli_mt": lambda rows, lang, source, part, task: (
        L.xnli_from_hub_rows(rows, lang, source, id_prefix=f"xnlimt-{lang}-"), 0),
    "nli_glue": _nli("idx", ""), "nli_anli": _nli("uid"), "nli_snli": _nli(None, ""),
    "pawsx": _plain(L.pawsx_from_hub_rows),
    "udpos": _plain(L.udpos_from_hub_rows),
    "panx": _plain(L.panx_from_hub_rows),
    "qa": lambda rows, lang, source, part, task: (L.qa_from_rows(rows, source), 0),
    "qa_v2": lambda rows, lang, source, part, task: (L.qa_from_rows(rows, source, unanswerable=True), 0),
    "tydiqa": _tydiqa, "tydiqa_en": _tydiqa_en,
    "tatoeba": lambda rows, lang, source, part, task: (
        L.tatoeba_from_hub_rows(rows, part.config.format(**_fmt(lang)), source), 0),
    "qqp": lambda rows, lang, source, part, task: L.classification_from_hub_rows(
        rows, "qqp", source, "question1", "question2", id_field="idx"),
    "sst2": lambda rows, lang, source, part, task: L.classification_from_hub_rows(
        rows, "sst2", source, "sentence", None, id_field="idx"),
    "hellaswag": lambda rows, lang, source, part, task: (L.hellaswag_from_rows(rows, source), 0),
    "cosmosqa": lambda rows, lang, source, part, task: (L.cosmosqa_from_rows(rows, source), 0),
    "commonsenseqa": lambda rows, lang, source, part, task: (L.commonsenseqa_from_rows(rows, source), 0),
}

FILE_CONVERTERS: dict[str, Callable] = {  # (local path, lang) -> records
    "hellaswag_jsonl": lambda path, lang: L.hellaswag_from_rows(L.jsonl_rows(path)),
    "cosmosqa_csv": lambda path, lang: L.cosmosqa_from_rows(L.csv_rows(path, L.COSMOSQA_COLUMNS)),
}


# ---------------------------------------------------------------------------------------------------------------
# BUCC and CCGbank


def bucc_from_tarball(path, lang: str, release: str, source: str | None = None) -> tuple[list[dict], list[dict]]:
    """Sentences and gold pairs of `bucc2018-<lang>-en.<release>-gold.tar.bz2` (via `loaders.bucc_from_raw`)."""
    source = source or str(path)
    wanted = {f"{lang}-en.{release}.{ext}" for ext in (lang, "en", "gold")}
    with tempfile.TemporaryDirectory(prefix="bucc-") as tmp:
        try:
            with tarfile.open(path, "r:*") as tf:
                for m in tf.getmembers():
                    name = PurePosixPath(m.name).name
                    if m.isfile() and name in wanted:  # only the three known names: no path from the archive is used
                        with tf.extractfile(m) as src:
                            (Path(tmp) / name).write_bytes(src.read())
        except tarfile.TarError as e:
            raise RecordError(f"{source}: not a readable tar archive ({e}); truncated download?") from None
        missing = sorted(w for w in wanted if not (Path(tmp) / w).exists())
        if missing:
            raise RecordError(f"{source}: archive lacks {missing}")
        try:
            return L.bucc_from_raw(tmp, lang, release)
        except RecordError as e:
            raise RecordError(f"{source}: {str(e).replace(tmp + '/', '')}") from None


CCG_SECTIONS = {"02-21": [f"{s:02d}" for s in range(2, 22)], "00": ["00"]}
_CCG_LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")
_CCG_FILE = re.compile(r"wsj_(\d\d)\d\d\.auto")


def ccg_from_auto(path) -> list[dict]:
    """One CCGbank AUTO file: `ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1` lines, each followed by its derivation,
    whose leaves `(<L CAT POS POS word PredArgCat>)` give the tokens and their supertags (CAT)."""
    out = L._Out(T.TAGGING)
    rid = None
    for i, line in L._lines(path):
        where = f"{path}:{i}"
        if not line.strip():
            continue
        if line.startswith("ID="):
            if rid is not None:
                raise RecordError(f"{where}: ID line follows ID line {rid!r} without a derivation")
            rid = line.split()[0][3:]
            continue
        if rid is None:
            raise RecordError(f"{where}: derivation without a preceding ID= line")
        leaves = _CCG_LEAF.findall(line)
        if not leaves:
            raise RecordError(f"{where}: no (<L CAT POS POS word PredArgCat>) leaves in derivation {rid!r}")
        out.add({"id": rid, "tokens": [unicodedata.normalize("NFC", lf[3]) for lf in leaves],
                 "tags": [lf[0] for lf in leaves]}, where)
        rid = None
    if rid is not None:
        raise RecordError(f"{path}: ID {rid!r} at the end of the file has no derivation (truncated file?)")
    return out.recs


def read_ccgbank(ccgbank_path, sections: list[str]) -> tuple[list[dict], list[str]]:
    """Records of the given WSJ sections under `ccgbank_path` (the release root, `data/AUTO`, or any folder
    holding `wsj_SSNN.auto` files) and the files read."""
    if not ccgbank_path:
        raise ValueError("task ccg needs CCGbank (LDC2005T13, licensed by the LDC: no public download). Set "
                         "data.ccgbank_path to a local copy (the folder holding data/AUTO/<section>/wsj_*.auto); "
                         "without it the workflow leaves CCG out of the intermediate tasks.")
    root = Path(ccgbank_path)
    if not root.exists():
        raise FileNotFoundError(f"data.ccgbank_path {root}: no such folder")
    files = sorted(p for p in root.rglob("*.auto") if (m := _CCG_FILE.fullmatch(p.name)) and m.group(1) in sections)
    if not files:
        raise FileNotFoundError(f"{root}: no CCGbank AUTO files wsj_SSNN.auto of sections {sections[0]}-"
                                f"{sections[-1]} (is this the CCGbank release root?)")
    recs = [r for p in files for r in ccg_from_auto(p)]
    R.check_unique_ids(recs, f"{root} sections {sections[0]}-{sections[-1]}")
    return recs, [str(p.relative_to(root)) for p in files]


# ---------------------------------------------------------------------------------------------------------------
# the task preparer


def task_languages(task: str, languages: Iterable[str]) -> list[str]:
    """The task's languages that the config asks for (2-letter codes; Tatoeba's ISO 639-3 configs are mapped)."""
    src = _source(task)
    want = set(languages)
    return [l for l in src.languages if l in want]


def _source(task: str) -> Source:
    if task not in SOURCES:
        raise ValueError(f"no hub source for task {task!r}; tasks with sources: {', '.join(SOURCES)}")
    return SOURCES[task]


def _sha256_copy(src, dest) -> str:
    h = hashlib.sha256()
    with open(dest, "wb") as out:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


class _Run:
    """State of one download_task call: the hooks, the revisions, a cache of loaded tables and the provenance."""

    def __init__(self, task, load, fetch, revisions, pool_lines, log, tmp, on_bad_row="error"):
        self.task, self.load, self.fetch, self.log, self.tmp = task, load, fetch, log, Path(tmp)
        self.on_bad_row = on_bad_row
        self.bad: list[dict] = []  # rows dropped as malformed (policy "drop"), with where and why
        self.pinned = dict(revisions or {})
        self.pool_lines = int(pool_lines)
        self.cache: dict = {}
        self.used: list[dict] = []
        self.revisions: dict[str, str | None] = {}

    def revision(self, part: Part):
        if part.repo in self.pinned:
            return self.pinned[part.repo]
        if part.parquet_layout:
            return PARQUET_BRANCH
        return DEFAULT_REVISIONS.get(part.repo)

    def rows(self, part: Part, lang: str):
        config = part.config.format(**_fmt(lang)) if part.config else None
        rev = self.revision(part)
        key = (part.repo, config, part.hub_split, rev, part.parquet_layout, part.streaming)
        if key not in self.cache:
            self.log(f"{self.task}: loading {part.repo} {config or ''} {part.hub_split} @ {rev or 'main'}")
            rows = self.load(part.repo, config, part.hub_split, revision=rev, streaming=part.streaming,
                             parquet_layout=part.parquet_layout)
            if part.streaming:
                return rows, config, rev  # read once, lazily (capped)
            if iter(rows) is rows:  # a one-shot iterator: keep the rows for parts that reuse the table
                rows = list(rows)
            self.cache[key] = rows
        return self.cache[key], config, rev

    def convert(self, part: Part, lang: str) -> tuple[list, dict]:
        source = part.source(lang)
        info = {"lang": lang, "split": part.split, "source": source}
        if part.component:
            info["component"] = part.component
        kind, _, arg = part.convert.partition(":")
        if part.url:
            url = part.url.format(**_fmt(lang))
            info["url"] = url
            if kind == "mlm_xz":
                with self.fetch(url) as raw:
                    text = io.TextIOWrapper(lzma.open(raw), encoding="utf-8", newline="\n")
                    recs = _mlm_records(((f"{url}:{i + 1}", str(i), line) for i, line in enumerate(text)), lang,
                                        self.pool_lines)
                info["note"] = "first lines of the xz stream; no checksum (the file is not read to its end)"
                return recs, info
            self.log(f"{self.task}: downloading {url}")
            dest = self.tmp / re.sub(r"[^A-Za-z0-9._-]", "_", url.rsplit("/", 1)[-1])
            with self.fetch(url) as raw:
                info["sha256"] = _sha256_copy(raw, dest)
            if kind == "bucc":
                return bucc_from_tarball(dest, lang, arg, source=url), info
            return FILE_CONVERTERS[kind](dest, lang), info
        rows, config, rev = self.rows(part, lang)
        info.update(repo=part.repo, config=config, hub_split=part.hub_split, revision=rev)
        if hasattr(self.load, "provenance"):  # a local bundle (xstilts.data.bundle): where the rows really come from
            info["bundle"] = self.load.provenance(part.repo, config, part.hub_split)
            info.pop("revision")
        if part.parquet_layout:
            info["parquet_layout"] = True
        if kind == "mlm":
            lines = ((f"{source}:row {i}", str(r.get("id", i)), r.get("text")) for i, r in enumerate(rows))
            return _mlm_records(lines, lang, self.pool_lines), info
        if kind == "mlm_wiki":  # one record per paragraph of each article
            paras = ((f"{source}:row {i}", f"{r.get('id', i)}.{j}", p) for i, r in enumerate(rows)
                     for j, p in enumerate(r["text"].split("\n") if isinstance(r.get("text"), str) else [None]))
            return _mlm_records(paras, lang, self.pool_lines, prefix="wiki"), info
        recs, dropped = CONVERTERS[kind](rows, lang, source, part, self.task)
        if dropped:
            info["dropped_unlabelled"] = dropped
        return recs, info

    def part(self, part: Part, lang: str) -> list[dict]:
        """Records of one part, trying its alternatives when the primary cannot be loaded."""
        errors = []
        candidates = [part]
        if part.repo not in self.pinned:  # a pinned revision is never swapped for other data
            candidates += list(part.alternatives)
        for cand in candidates:
            try:
                with L.bad_rows(self.on_bad_row) as bad:
                    recs, info = self.convert(cand, lang)
            except Omitted as e:  # a local bundle leaves this table out on purpose: recorded, not an error
                self.log(f"{self.task}/{lang}/{part.split}: {e}")
                self.used.append({"lang": lang, "split": part.split, "source": cand.source(lang),
                                  "records": 0, "omitted": str(e)})
                return []
            except (RecordError, BundleError, KeyboardInterrupt):
                raise
            except Exception as e:  # noqa: BLE001 - script-only repo, missing export, network: try the next
                errors.append(f"{cand.source(lang)}: {type(e).__name__}: {e}")
                if cand is not candidates[-1]:
                    self.log(f"{self.task}: {errors[-1]}; trying {candidates[candidates.index(cand) + 1].source(lang)}")
                continue
            if bad:
                info["dropped_malformed"] = len(bad)
                self.bad += [dict(b, lang=lang, split=part.split) for b in bad]
                self.log(f"{self.task}/{lang}/{part.split}: dropped {len(bad)} malformed row(s) of "
                         f"{cand.source(lang)} (data.on_bad_row: drop), first: {bad[0]['error']}")
            if cand is not part:
                info["fallback_for"] = part.source(lang)
            if cand.repo:
                self.revisions[cand.repo] = info.get("revision")
            if isinstance(recs, tuple):  # BUCC: (sentences, gold pairs)
                info["records"], info["gold_pairs"] = len(recs[0]), len(recs[1])
            else:
                info["records"] = len(recs)
            self.used.append(info)
            if cand.component:
                recs = [dict(r, id=f"{cand.component}-{r['id']}") for r in recs]
            return recs
        raise RuntimeError(f"{self.task}/{lang}/{part.split}: no source could be read:\n  " + "\n  ".join(errors))


def download_task(task: str, out_root, languages: Iterable[str], revisions: Mapping[str, str] | None = None,
                  ccgbank_path=None, pool_lines: int = 100000, log=print, load=None, fetch=None,
                  on_bad_row: str = "error", mlm_source: str = "cc100", wikipedia_date: str = "20231101",
                  published_mt: bool = True) -> dict:
    """Read `task` from its sources (`SOURCES`) for the configured `languages`, write
    `<out_root>/task~<task>/...` with `loaders.write_task`, and return the meta (as written to meta.json).

    This is the only step that touches the network (rule download_hub_task, on the head node). `revisions`
    ({repo: sha}) override `DEFAULT_REVISIONS` and the parquet branch; `load`/`fetch` replace the hub and URL
    readers (tests). `pool_lines` caps the lines per language of the MLM corpus pool (task mlm_corpus, read from
    `mlm_source` cc100 or wikipedia), which `prepare_task` then samples. `on_bad_row` ("error" | "drop", config
    data.on_bad_row): a malformed row raises naming dataset, split and row, or is dropped and counted in
    meta["bad_rows"] and `bad_rows.jsonl` beside meta.json. `published_mt=False` skips published translations
    (XNLI-MT for MNLI) when config controls.mt.source says the task is translated by our MT stage instead."""
    src = mlm_corpus_source(mlm_source, wikipedia_date) if task == "mlm_corpus" else _source(task)
    spec = T.get(task)
    langs = task_languages(task, languages)
    not_in_bundle = []
    if hasattr(load, "has"):  # a local bundle holds some languages of a task: the others are left out, said
        keep = [l for l in langs if all(load.has(p.repo, p.config.format(**_fmt(l)) if p.config else None,
                                                 p.hub_split)
                                        for p in src.parts if p.repo and (p.langs is None or l in p.langs)
                                        and not p.component)]
        not_in_bundle = [l for l in langs if l not in keep]
        if not_in_bundle:
            log(f"{task}: languages {not_in_bundle} are configured but not in the bundle: left out")
        langs = keep
    if not langs:
        raise ValueError(f"task {task!r}: none of its languages {list(src.languages)} is configured "
                         f"(languages: {sorted(set(languages))})" + (" and in the bundle" if not_in_bundle else ""))
    if task in T.TASKS and (spec.role == "intermediate" or spec.train_from == task) and "en" not in langs:
        log(f"WARNING {task}: 'en' is not configured, so its English training/dev data are not written")
    out: dict[str, dict[str, list]] = {}
    components: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix=f"xstilts-hub-{task}-") as tmp:
        run = _Run(task, load or hub_load, fetch or open_url, revisions, pool_lines, log, tmp, on_bad_row)
        for lang in langs:
            for part in src.parts:
                if part.langs is not None and lang not in part.langs:
                    continue
                if part.convert in PUBLISHED_MT and not published_mt:
                    continue
                if part.convert.startswith("ccgbank:"):
                    recs, read = read_ccgbank(ccgbank_path, CCG_SECTIONS[part.convert.split(":", 1)[1]])
                    run.used.append({"lang": lang, "split": part.split, "source": f"CCGbank AUTO {part.convert}",
                                     "files": len(read), "records": len(recs)})
                else:
                    recs = run.part(part, lang)
                if part.component:
                    c = components.setdefault(part.component, {})
                    c[part.split] = c.get(part.split, 0) + len(recs)
                    dropped = run.used[-1].get("dropped_unlabelled")
                    if dropped:
                        c[f"{part.split}_dropped_unlabelled"] = dropped
                by_split = out.setdefault(lang, {})
                if spec.format == T.BUCC:
                    by_split[part.split] = recs
                else:
                    by_split.setdefault(part.split, []).extend(recs)
                log(f"{task}/{lang}/{part.split}: {run.used[-1]['records']} records from {run.used[-1]['source']}")
    provenance = {"loader": "xstilts.data.hub", "sources": run.used, "revisions": run.revisions,
                  "note": src.note}
    if hasattr(load, "folder"):
        provenance["bundle"] = {"folder": str(load.folder), "languages_not_in_bundle": not_in_bundle}
    if task == "mlm_corpus":
        provenance["pool_lines"] = int(pool_lines)
        provenance["mlm_source"] = mlm_source
    if task == "ccg":
        provenance["ccgbank_path"] = str(ccgbank_path)
    try:
        import datasets
        provenance["datasets_version"] = datasets.__version__
    except ImportError:
        pass
    folder = L.write_task(out_root, task, out, "hub", provenance)
    extra = {"bad_rows": {"policy": on_bad_row, "dropped": len(run.bad),
                          "by_split": _count_by_lang_split(run.bad)}}
    if run.bad:  # the full list beside the data; meta keeps the count and the first few
        extra["bad_rows"]["first"] = run.bad[:20]
        R.atomic_write_text(folder / "bad_rows.jsonl",
                            "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in run.bad))
    if components:
        extra["components"] = components
    if task == "ccg":
        # CCG supertags form an open set: the label inventory is what the data hold, so the head can be sized
        extra["labels"] = sorted({t for by_split in out.values() for recs in by_split.values()
                                  for r in recs for t in r["tags"]})
    meta = R.read_meta(folder)
    meta.update(extra)
    R.atomic_write_text(folder / "meta.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return meta


def _count_by_lang_split(rows: list[dict]) -> dict:
    """{lang: {split: n}}: nested, never a "lang/split" string to be split again."""
    out: dict = {}
    for r in rows:
        by_split = out.setdefault(str(r["lang"]), {})
        by_split[str(r["split"])] = by_split.get(str(r["split"]), 0) + 1
    return out
