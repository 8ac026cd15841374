"""Retrieval records: Tatoeba (index-aligned sentence pairs) and BUCC 2018 (candidate pools + gold pairs)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NoReturn

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data.loaders.common import _Out, _fail, _get, _lines, _nfc, _row, _rows
from xstilts.records import RecordError

# Tatoeba (LASER v1) ISO 639-3 codes of the 36 XTREME languages -> the 2-letter codes used elsewhere.
TATOEBA_ISO3 = {"afr": "af", "ara": "ar", "ben": "bn", "bul": "bg", "deu": "de", "cmn": "zh", "ell": "el",
                "est": "et", "eus": "eu", "fin": "fi", "fra": "fr", "heb": "he", "hin": "hi", "hun": "hu",
                "ind": "id", "ita": "it", "jav": "jv", "jpn": "ja", "kat": "ka", "kaz": "kk", "kor": "ko",
                "mal": "ml", "mar": "mr", "nld": "nl", "pes": "fa", "por": "pt", "rus": "ru", "spa": "es",
                "swh": "sw", "tam": "ta", "tel": "te", "tgl": "tl", "tha": "th", "tur": "tr", "urd": "ur",
                "vie": "vi"}

# BUCC 2018 release names -> our splits, as XTREME uses them (sample-gold = dev, training-gold = test).
BUCC_SPLITS = {"sample": "dev", "training": "test"}


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
