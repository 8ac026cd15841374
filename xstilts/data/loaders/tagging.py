"""Tagging records (one tag per pre-split token): UD POS from CoNLL-U or hub rows, PAN-X/WikiANN from hub
rows or the truth CSV."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from xstilts import tasks as T
from xstilts.data.loaders.common import _Out, _csv, _fail, _get, _int, _lines, _nfc, _row, _rows, _seq, _tags

# google/xtreme `udpos.<Language>` config names -> language codes.
UDPOS_LANGUAGES = {"Afrikaans": "af", "Arabic": "ar", "Basque": "eu", "Bulgarian": "bg", "Dutch": "nl",
                   "English": "en", "Estonian": "et", "Finnish": "fi", "French": "fr", "German": "de",
                   "Greek": "el", "Hebrew": "he", "Hindi": "hi", "Hungarian": "hu", "Indonesian": "id",
                   "Italian": "it", "Japanese": "ja", "Kazakh": "kk", "Korean": "ko", "Chinese": "zh",
                   "Marathi": "mr", "Persian": "fa", "Portuguese": "pt", "Russian": "ru", "Spanish": "es",
                   "Tagalog": "tl", "Tamil": "ta", "Telugu": "te", "Thai": "th", "Turkish": "tr", "Urdu": "ur",
                   "Vietnamese": "vi", "Yoruba": "yo"}


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
