"""Machine translation of English intermediate-task training data: the MT control (X-STILTs, Phang et al. 2020).

The MT control trains on the English intermediate data rendered in the target languages. This module is the
library behind that rule (no Snakemake in here): read the English training file, cut it into shards, translate
each shard with one `Translator`, write the shard atomically, and merge the shards back in order.

Design
------
* **One translation call per shard.** `translate_records` first collects every text of every record, sends the
  unique non-empty ones to the translator once, then rebuilds the records. The HF translator sorts those unique
  texts by tokenised length and batches them (little padding, so batch order does not change the outputs and
  long inputs, the likely out-of-memory case, come first) and restores the caller's order.
* **Classification / multiple choice** are translated field by field (text_a, text_b; context, question, every
  choice). `null` and `""` stay as they are; ids and labels are never touched.
* **Span QA contexts are translated sentence by sentence.** An MT system given a whole paragraph truncates
  (`max_source_tokens`) and, worse, gives no handle on where the answer went. Translated sentence by sentence,
  each answer has a known sentence to be looked for in, and a repeated phrase elsewhere in the paragraph is not
  mistaken for it. The splitter (`split_sentences`) is a plain regex: a break after `.`, `!`, `?` (or CJK
  `。！？`), optionally followed by closing quotes/brackets, then whitespace not followed by a lowercase letter
  (or nothing, after CJK marks); it keeps character offsets. Sentences are merged wherever a question's answer would straddle a break (`"U.S.
  Army"`), so every answer lies inside one unit. The merge depends on that question's answers only, never on
  its neighbours, so a paragraph renders the same whichever shard holds the question. Translated units are
  joined with one space, or with nothing for scripts written without spaces (`NO_SPACE_LANGS`).
* **Answers are translated on their own and searched for.** Word alignment would need another model and is
  noisy on short spans; the X-STILTs / XTREME translate-train practice is to translate the answer separately and
  look for it in the translated context. The search (`locate`) looks in the translated sentence that held the
  answer, then in the whole translated context; first for the exact string, then case-insensitively after NFC
  normalisation, then the same with surrounding punctuation stripped (MT likes to add a final period). Of
  several occurrences the one closest to where the answer sat proportionally in the English is taken. The
  stored answer text is the context's own substring, so `context[s:s+len(t)] == t` always holds.
* **What is dropped, explicitly and counted:** a question none of whose answers is found
  (`dropped_unlocated_answer`; of several answers the found ones are kept), and any record with a field the MT
  system rendered as an empty string (`dropped_empty_translation`). Unanswerable questions (empty answer lists)
  stay unanswerable. `dropped_share` is the share of input records dropped. Tagging (CCG) cannot be translated:
  its tags would no longer align with the translated words, so it raises, as does any other format.
* **Deterministic:** same records + same translator = the same bytes (gzip mtime 0, fixed key order, seeded
  generation). Shard files hold only records; timings go to the report beside them (`report_path`). Sharding
  does not change the results as long as the translator is deterministic per text; on a GPU, bf16 numerics can
  in principle vary with batch composition, hence with the shard count: keep the shard count fixed for a rerun.
"""
from __future__ import annotations

import abc
import bisect
import gzip
import hashlib
import json
import os
import re
import string
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterable, Mapping

from xstilts import records as R
from xstilts import tasks as T

# FLORES-200 codes (NLLB) of the 40 XTREME languages. Where a macrolanguage has several FLORES codes, the one
# NLLB was trained on for the standard variety: Modern Standard Arabic, Western Persian, Standard Malay,
# Swahili (individual language), Simplified Chinese.
NLLB_CODES = {
    "af": "afr_Latn", "ar": "arb_Arab", "bg": "bul_Cyrl", "bn": "ben_Beng", "de": "deu_Latn", "el": "ell_Grek",
    "en": "eng_Latn", "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "fi": "fin_Latn",
    "fr": "fra_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hu": "hun_Latn", "id": "ind_Latn", "it": "ita_Latn",
    "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kk": "kaz_Cyrl", "ko": "kor_Hang", "ml": "mal_Mlym",
    "mr": "mar_Deva", "ms": "zsm_Latn", "my": "mya_Mymr", "nl": "nld_Latn", "pt": "por_Latn", "ru": "rus_Cyrl",
    "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu", "th": "tha_Thai", "tl": "tgl_Latn", "tr": "tur_Latn",
    "ur": "urd_Arab", "vi": "vie_Latn", "yo": "yor_Latn", "zh": "zho_Hans",
}

# Languages whose script puts no space between sentences/words: translated sentences are concatenated.
NO_SPACE_LANGS = frozenset({"zh", "ja", "th", "my", "km", "lo", "bo"})

LANG_SCHEMES = ("nllb", "m2m100", "none")
ENGINES = ("hf", "lexicon")
DEFAULTS = {"engine": None, "model": None, "revision": None, "lang_codes": "none", "src_lang": "en",
            "batch_size": 32, "num_beams": 4, "max_source_tokens": 256, "max_new_tokens": 256, "seed": 0,
            "lexicon": None, "progress": True}
# controls.mt keys the workflow reads (which tasks to translate, into which languages, in how many shards): the
# rule passes the whole block, so they are accepted here and ignored
WORKFLOW_KEYS = ("source", "languages", "shards")
TRANSLATABLE = (T.CLASSIFICATION, T.MULTIPLE_CHOICE, T.SPAN_QA)
# report keys that merge_shards sums
COUNT_KEYS = ("examples_in", "examples_out", "dropped_unlocated_answer", "dropped_empty_translation",
              "unique_texts", "translated_chars_in", "translated_chars_out", "answers_in", "answers_located",
              "answers_located_in_sentence", "answers_located_in_context", "answers_located_loose",
              "answers_unlocated", "seconds")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _cfg_error(key: str, msg: str) -> ValueError:
    return ValueError(f"config key controls.mt.{key}: {msg}")


# ---------------------------------------------------------------------------------------------------------------
# translators


class Translator(abc.ABC):
    """translate(texts) -> one translation per text, same order, into one target language; `info` is provenance."""

    info: dict

    @abc.abstractmethod
    def translate(self, texts: list[str]) -> list[str]:
        """One translation per text, in order."""


class LexiconTranslator(Translator):
    """Exact lookup in {english text: translation}: the embedded micro benchmark renders every sentence in
    every language, so its "MT" is a dictionary. An unknown text is an error, never passed through untranslated
    (that would quietly mix English into the translated training set)."""

    def __init__(self, mapping: Mapping[str, str], lang: str, source: str | None = None):
        bad = [k for k, v in mapping.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise _cfg_error("lexicon", f"language {lang!r}: entries must map strings to strings, "
                                        f"e.g. {bad[0]!r}")
        self.mapping = dict(mapping)
        self.lang = lang
        digest = hashlib.sha256(json.dumps(self.mapping, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        self.info = {"engine": "lexicon", "lang": lang, "source": source, "entries": len(self.mapping),
                     "sha256": digest[:16]}

    def translate(self, texts: list[str]) -> list[str]:
        out = []
        for t in texts:
            if t not in self.mapping:
                raise KeyError(f"lexicon for language {self.lang!r} has no translation of {t!r}")
            out.append(self.mapping[t])
        return out


def target_token(lang: str, lang_codes) -> str | None:
    """The token that forces the target language: NLLB code, `__xx__` (M2M-100), a mapping's entry, or None."""
    if lang_codes == "none":
        return None
    if lang_codes == "nllb":
        if lang not in NLLB_CODES:
            raise ValueError(f"no NLLB (FLORES-200) code known for language {lang!r}; give controls.mt.lang_codes "
                             f"as an explicit mapping")
        return NLLB_CODES[lang]
    if lang_codes == "m2m100":
        return f"__{lang}__"
    if isinstance(lang_codes, Mapping):
        if lang not in lang_codes:
            raise ValueError(f"controls.mt.lang_codes has no entry for language {lang!r}")
        return lang_codes[lang]
    raise _cfg_error("lang_codes", f"expected one of {LANG_SCHEMES} or a mapping, got {lang_codes!r}")


def _source_lang_for_tokenizer(src: str, lang_codes) -> str | None:
    # What tokenizer.src_lang expects: NLLB tokenizers take the FLORES code, M2M-100 ones the plain ISO code.
    if lang_codes == "nllb":
        return NLLB_CODES.get(src)
    if lang_codes == "m2m100":
        return src
    if isinstance(lang_codes, Mapping):
        return lang_codes.get(src)
    return None


class HFSeq2SeqTranslator(Translator):
    """Any Hugging Face seq2seq checkpoint (NLLB, M2M-100, Marian, mBART-style), local folder or hub id."""

    def __init__(self, model: str, lang: str, lang_codes="none", revision: str | None = None,
                 src_lang: str = "en", batch_size: int = 32, num_beams: int = 4, max_source_tokens: int = 256,
                 max_new_tokens: int = 256, seed: int = 0, progress: bool = True, log: Callable = print):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.lang, self.batch_size, self.num_beams = lang, int(batch_size), int(num_beams)
        self.max_source_tokens, self.max_new_tokens, self.seed = int(max_source_tokens), int(max_new_tokens), seed
        self.progress, self.log = progress, log
        model_id = model.replace("{lang}", lang)  # per-language checkpoints, e.g. opus-mt-en-{lang}
        kw = {"revision": revision} if revision else {}
        # no remote code (the default): a translation checkpoint must not run code from the hub
        self.tokenizer = AutoTokenizer.from_pretrained(model_id, **kw)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model_id, use_safetensors=True,
                                                           **kw)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.forced_bos_token_id = None
        self.token = target_token(lang, lang_codes)
        src_tok = _source_lang_for_tokenizer(src_lang, lang_codes)
        if src_tok is not None and hasattr(self.tokenizer, "src_lang"):
            self.tokenizer.src_lang = src_tok
        if self.token is not None:
            tid = self.tokenizer.convert_tokens_to_ids(self.token)
            unk = self.tokenizer.unk_token_id
            if tid is None or (unk is not None and tid == unk):
                raise ValueError(f"target language {lang!r}: token {self.token!r} is not in the vocabulary of "
                                 f"{model_id} (lang_codes={lang_codes!r}); this model cannot translate into it")
            self.forced_bos_token_id = int(tid)
        self.info = {"engine": "hf", "model": model_id, "revision": revision,
                     "commit": getattr(self.model.config, "_commit_hash", None), "lang": lang,
                     "lang_token": self.token, "src_lang": src_lang, "num_beams": self.num_beams,
                     "batch_size": self.batch_size, "max_source_tokens": self.max_source_tokens,
                     "max_new_tokens": self.max_new_tokens, "seed": seed,
                     "device": self.device.type, "autocast": "bf16" if self.device.type == "cuda" else None}
        log(f"[mt] {model_id} -> {lang} (token {self.token}, beams {self.num_beams}, device {self.device.type})")

    def _encode(self, texts):
        return self.tokenizer(texts, truncation=True, max_length=self.max_source_tokens, padding=True,
                              return_tensors="pt")

    def _translate_batch(self, texts: list[str]) -> list[str]:
        import torch
        enc = {k: v.to(self.device) for k, v in self._encode(texts).items()}
        gen = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens, "do_sample": False}
        if self.forced_bos_token_id is not None:
            gen["forced_bos_token_id"] = self.forced_bos_token_id
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16,
                                                     enabled=self.device.type == "cuda"):
            out = self.model.generate(**enc, **gen)
        return [_nfc(s.strip()) for s in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def translate(self, texts: list[str]) -> list[str]:
        import torch
        from tqdm import tqdm

        uniq = sorted(set(texts))
        done = {}
        if "" in uniq:  # nothing to translate; a model would still hallucinate something
            done[""] = ""
            uniq.remove("")
        if uniq:
            lengths = [len(ids) for ids in self.tokenizer(uniq, truncation=True,
                                                          max_length=self.max_source_tokens)["input_ids"]]
            # longest first: padding stays small inside a batch and an out-of-memory shows at once
            order = sorted(range(len(uniq)), key=lambda i: (-lengths[i], i))
            torch.manual_seed(self.seed)  # decoding is greedy/beam, but a sampling config must not vary either
            bar = tqdm(total=len(uniq), desc=f"mt {self.lang}", unit="text",
                       disable=not self.progress or not sys.stderr.isatty())
            try:
                for b in range(0, len(order), self.batch_size):
                    batch = [uniq[i] for i in order[b:b + self.batch_size]]
                    for src, tgt in zip(batch, self._translate_batch(batch)):
                        done[src] = tgt
                    bar.update(len(batch))
            finally:
                bar.close()
        return [done[t] for t in texts]


def _load_lexicon(spec, lang: str) -> tuple[Mapping, str]:
    if isinstance(spec, (str, os.PathLike)):
        p = Path(spec)
        if not p.is_file():
            raise _cfg_error("lexicon", f"no such file {str(p)!r}")
        data, source = json.loads(p.read_text(encoding="utf-8")), str(p)
    elif isinstance(spec, Mapping):
        data, source = spec, "inline"
    else:
        raise _cfg_error("lexicon", f"expected a path to a JSON file or a mapping, got {type(spec).__name__}")
    if not isinstance(data, Mapping) or lang not in data or not isinstance(data[lang], Mapping):
        raise _cfg_error("lexicon", f"{source}: no {{english: translation}} table for language {lang!r}")
    return data[lang], source


def check_config(cfg_mt: Mapping) -> dict:
    """Defaults filled in, every key and value checked; errors name `controls.mt.<key>`."""
    if not isinstance(cfg_mt, Mapping):
        raise ValueError(f"config key controls.mt: expected a mapping, got {type(cfg_mt).__name__}")
    unknown = sorted(set(cfg_mt) - set(DEFAULTS) - set(WORKFLOW_KEYS))
    if unknown:
        raise _cfg_error(unknown[0], f"unknown key (known: {', '.join([*DEFAULTS, *WORKFLOW_KEYS])})")
    c = {**DEFAULTS, **{k: v for k, v in cfg_mt.items() if k not in WORKFLOW_KEYS}}
    if c["engine"] not in ENGINES:
        raise _cfg_error("engine", f"expected one of {ENGINES}, got {c['engine']!r}")
    for k in ("batch_size", "num_beams", "max_source_tokens", "max_new_tokens"):
        if not isinstance(c[k], int) or isinstance(c[k], bool) or c[k] < 1:
            raise _cfg_error(k, f"expected a positive integer, got {c[k]!r}")
    if not isinstance(c["seed"], int) or isinstance(c["seed"], bool) or c["seed"] < 0:
        raise _cfg_error("seed", f"expected a non-negative integer, got {c['seed']!r}")
    if not isinstance(c["progress"], bool):
        raise _cfg_error("progress", f"expected true or false, got {c['progress']!r}")
    if not isinstance(c["src_lang"], str) or not c["src_lang"]:
        raise _cfg_error("src_lang", f"expected a language code, got {c['src_lang']!r}")
    if c["revision"] is not None and not isinstance(c["revision"], str):
        raise _cfg_error("revision", f"expected a string, got {c['revision']!r}")
    lc = c["lang_codes"]
    if isinstance(lc, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in lc.items()):
            raise _cfg_error("lang_codes", "a mapping must map language codes to token strings")
    elif lc not in LANG_SCHEMES:
        raise _cfg_error("lang_codes", f"expected one of {LANG_SCHEMES} or a mapping, got {lc!r}")
    if c["engine"] == "hf" and (not isinstance(c["model"], str) or not c["model"]):
        raise _cfg_error("model", f"engine 'hf' needs a model (local folder or hub id), got {c['model']!r}")
    if c["engine"] == "lexicon" and c["lexicon"] is None:
        raise _cfg_error("lexicon", "engine 'lexicon' needs a lexicon (JSON file or mapping)")
    return c


def make_translator(cfg_mt: Mapping, lang: str, log: Callable = print) -> Translator:
    """A translator into `lang` from the `controls.mt` config mapping (see DEFAULTS for the keys)."""
    c = check_config(cfg_mt)
    if c["engine"] == "lexicon":
        table, source = _load_lexicon(c["lexicon"], lang)
        log(f"[mt] lexicon {source} -> {lang} ({len(table)} entries)")
        return LexiconTranslator(table, lang, source)
    return HFSeq2SeqTranslator(c["model"], lang, c["lang_codes"], c["revision"], c["src_lang"], c["batch_size"],
                               c["num_beams"], c["max_source_tokens"], c["max_new_tokens"], c["seed"],
                               c["progress"], log)


# ---------------------------------------------------------------------------------------------------------------
# sentence splitting and answer search (span QA)

# A break after sentence-final punctuation (plus closing quotes/brackets) and whitespace not followed by a
# lowercase letter ("e.g. the"), or right after a CJK full stop. Abbreviations ("Mr. Smith") split wrongly now
# and then: harmless, since a split inside an answer is undone by merge_units and a split elsewhere only makes
# the MT input shorter.
_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[^\sa-z])|(?<=[。！？])[\"'”’)\]」』]*\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`; whitespace between sentences belongs to none."""
    spans, start = [], 0
    for m in _BREAK.finditer(text):
        end = m.end()
        # the closing quotes/brackets belong to the sentence they close; only the whitespace is dropped
        sent_end = len(text[start:end].rstrip())
        if m.end() == len(text) or sent_end == 0:
            continue
        spans.append((start, start + sent_end))
        start = end
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if e > s] or [(0, len(text))]


def merge_units(spans: list[tuple[int, int]], answers: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge neighbouring spans until every answer (start, end) lies inside one span."""
    units = list(spans)
    for a0, a1 in answers:
        starts = [s for s, _ in units]
        i = max(bisect.bisect_right(starts, a0) - 1, 0)
        j = i
        while j + 1 < len(units) and units[j][1] < a1:
            j += 1
        if j > i:
            units[i:j + 1] = [(units[i][0], units[j][1])]
    return units


def _lower_map(s: str) -> tuple[str, list[int]]:
    # str.lower() can change lengths ("İ" -> "i̇"): keep, for every lowered char, the index it came from
    out, idx = [], []
    for i, ch in enumerate(s):
        lo = ch.lower()
        out.append(lo)
        idx.extend([i] * len(lo))
    return "".join(out), idx


def _occurrences(hay: str, needle: str) -> list[int]:
    hits, k = [], hay.find(needle)
    while k != -1:
        hits.append(k)
        k = hay.find(needle, k + 1)
    return hits


def _find(hay: str, needle: str, expected: float, loose: bool) -> tuple[int, int] | None:
    """(start, end) in `hay` of the occurrence of `needle` closest to `expected`; `loose`: case-insensitive."""
    if not needle:
        return None
    if not loose:
        cands = [(h, h + len(needle)) for h in _occurrences(hay, needle)]
    else:
        lh, idx = _lower_map(hay)
        ln = needle.lower()
        cands = [(idx[h], idx[h + len(ln) - 1] + 1) for h in _occurrences(lh, ln)]
    if not cands:
        return None
    return min(cands, key=lambda c: (abs(c[0] - expected), c[0]))


_STRIP = string.punctuation + string.whitespace + "。、，．！？「」『』“”‘’«»„¿¡"


def locate(answer: str, context: str, unit: tuple[int, int], rel: float) -> tuple[int, int, str, str] | None:
    """Find the translated `answer` in the translated `context`: first inside `unit` (start, end) of the
    sentence that held the English answer, then anywhere; exact before case-insensitive, the answer as
    translated before its punctuation-stripped form. `rel` in [0, 1] is where the answer sat in its English
    unit (or context), so of several occurrences the nearest to the same relative position wins.
    Returns (start, end, where, how) or None, where is "sentence" or "context" and how "exact" or "loose";
    the caller takes the answer text from the context, `context[start:end]`, whose casing may differ."""
    answer = _nfc(answer)
    cands = [answer]
    stripped = answer.strip(_STRIP)
    if stripped and stripped != answer:
        cands.append(stripped)
    u0, u1 = unit
    scopes = (("sentence", u0, context[u0:u1], rel * (u1 - u0)), ("context", 0, context, None))
    for where, off, hay, exp in scopes:
        if exp is None:  # whole context: expected position from the unit's own position
            exp = u0 + rel * (u1 - u0)
        for cand in cands:
            for loose in (False, True):
                hit = _find(hay, cand, exp, loose)
                if hit is not None:
                    how = ("loose" if loose or cand is not answer else "exact")
                    return off + hit[0], off + hit[1], where, how
    return None


# ---------------------------------------------------------------------------------------------------------------
# records


def _qa_plan(rec: dict) -> dict:
    ctx = rec["context"]
    ans = rec["answers"]
    spans = [(s, s + len(t)) for t, s in zip(ans["text"], ans["answer_start"])]
    units = merge_units(split_sentences(ctx), spans)
    return {"units": units, "unit_texts": [ctx[a:b] for a, b in units], "spans": spans}


def _qa_build(rec, plan, tr, lang, stats) -> dict | None:
    sep = "" if lang in NO_SPACE_LANGS else " "
    pieces, offsets, pos = [], [], 0
    for u in plan["unit_texts"]:
        t = tr[u]
        if pieces and t:
            pos += len(sep)
        offsets.append((pos, pos + len(t)))
        if t:
            pieces.append(t)
            pos += len(t)
    context = sep.join(pieces)
    question = tr[rec["question"]]
    if not context or not question:
        stats["dropped_empty_translation"] += 1
        return None
    texts, starts = [], []
    for (a0, a1), text in zip(plan["spans"], rec["answers"]["text"]):
        stats["answers_in"] += 1
        k = max(i for i, (u0, _) in enumerate(plan["units"]) if u0 <= a0)
        u0, u1 = plan["units"][k]
        rel = (a0 - u0) / max(u1 - u0, 1)
        hit = locate(tr[text], context, offsets[k], rel)
        if hit is None:
            stats["answers_unlocated"] += 1
            continue
        s, e, where, how = hit
        stats["answers_located"] += 1
        stats[f"answers_located_in_{where}"] += 1
        stats["answers_located_loose"] += how == "loose"
        texts.append(context[s:e])
        starts.append(s)
    if plan["spans"] and not texts:
        stats["dropped_unlocated_answer"] += 1
        return None
    return {**rec, "context": context, "question": question, "answers": {"text": texts, "answer_start": starts}}


def _texts_of(rec: dict, fmt: str, plan: dict | None) -> list[str]:
    if fmt == T.CLASSIFICATION:
        return [rec["text_a"]] + ([rec["text_b"]] if rec.get("text_b") is not None else [])
    if fmt == T.MULTIPLE_CHOICE:
        return [rec["context"], rec["question"], *rec["choices"]]
    return [*plan["unit_texts"], rec["question"], *rec["answers"]["text"]]


def _build(rec, fmt, plan, tr, lang, stats) -> dict | None:
    if fmt == T.SPAN_QA:
        return _qa_build(rec, plan, tr, lang, stats)
    if fmt == T.CLASSIFICATION:
        out = {**rec, "text_a": tr[rec["text_a"]],
               "text_b": None if rec.get("text_b") is None else tr[rec["text_b"]]}
        fields = [out["text_a"]] + ([out["text_b"]] if out["text_b"] is not None else [])
    else:
        out = {**rec, "context": tr[rec["context"]], "question": tr[rec["question"]],
               "choices": [tr[c] for c in rec["choices"]]}
        fields = [out["context"], *out["choices"]] + ([out["question"]] if rec["question"].strip() else [])
    if not all(f.strip() for f in fields):
        stats["dropped_empty_translation"] += 1
        return None
    return out


def translate_records(task: str, records: list[dict], translator: Translator, lang: str,
                      log: Callable = print) -> tuple[list[dict], dict]:
    """Translate the records of `task` into `lang` (see the module docstring); returns (records, report)."""
    t0 = time.perf_counter()
    spec = T.get(task)
    fmt = spec.format
    if fmt == T.TAGGING:
        raise ValueError(f"task {task!r} ({fmt}) cannot be machine-translated: its per-token tags would not align "
                         f"with the translated words")
    if fmt not in TRANSLATABLE:
        raise ValueError(f"task {task!r}: format {fmt!r} is not translatable (only {', '.join(TRANSLATABLE)})")
    labels, n_choices = list(spec.labels) or None, spec.n_choices or None
    for i, r in enumerate(records):
        R.validate(r, fmt, f"{task} input record {i + 1}", labels, n_choices)
    plans = [_qa_plan(r) if fmt == T.SPAN_QA else None for r in records]
    wanted = {t for r, p in zip(records, plans) for t in _texts_of(r, fmt, p) if t.strip()}
    uniq = sorted(wanted)
    tr = {"": ""}
    if uniq:
        out = translator.translate(uniq)
        if len(out) != len(uniq):
            raise RuntimeError(f"translator returned {len(out)} texts for {len(uniq)} inputs")
        tr.update(zip(uniq, (_nfc(o.strip()) for o in out)))
    tr.update({t: "" for r, p in zip(records, plans) for t in _texts_of(r, fmt, p) if not t.strip()})
    stats = {k: 0 for k in COUNT_KEYS if k not in ("examples_in", "examples_out", "unique_texts",
                                                    "translated_chars_in", "translated_chars_out", "seconds")}
    result = []
    for i, (r, p) in enumerate(zip(records, plans)):
        o = _build(r, fmt, p, tr, lang, stats)
        if o is None:
            continue
        R.validate(o, fmt, f"{task} {lang} translated record {i + 1} (id {r['id']})", labels, n_choices)
        result.append(o)
    dropped = len(records) - len(result)
    report = {"task": task, "lang": lang, "format": fmt, "examples_in": len(records), "examples_out": len(result),
              **stats, "dropped_share": round(dropped / len(records), 6) if records else 0.0,
              "unique_texts": len(uniq), "translated_chars_in": sum(len(t) for t in uniq),
              "translated_chars_out": sum(len(tr[t]) for t in uniq), "translator": dict(translator.info),
              "seconds": round(time.perf_counter() - t0, 3)}
    if fmt != T.SPAN_QA:  # answer counters mean nothing without answers
        report = {k: v for k, v in report.items() if not k.startswith("answers_")}
    log(f"[mt] {task} -> {lang}: {len(result)}/{len(records)} records kept "
        f"({report['dropped_unlocated_answer']} unlocated answers, {report['dropped_empty_translation']} empty "
        f"translations), {len(uniq)} unique texts, {report['seconds']:.1f}s")
    return result, report


# ---------------------------------------------------------------------------------------------------------------
# files: shards and their merge


def shard(recs: list, k: int, n: int) -> list:
    """Contiguous chunk `k` (0-based) of `n` near-equal chunks; more shards than records gives empty ones."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of shards must be a positive integer, got {n!r}")
    if not isinstance(k, int) or not 0 <= k < n:
        raise ValueError(f"shard index must be in 0..{n - 1}, got {k!r}")
    m = len(recs)
    return recs[k * m // n:(k + 1) * m // n]


def report_path(path) -> Path:
    """Where the report of shard file `path` lives: `<path>.report.json`."""
    return Path(str(path) + ".report.json")


def _dumps(recs: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")


def write_shard(path, recs: list[dict], report: dict) -> Path:
    """Gzipped JSONL (mtime 0: same records, same bytes) plus `report_path(path)`; both written atomically,
    the report first, so a records file never exists without its report."""
    R.check_unique_ids(recs, str(path))
    R.atomic_write_text(report_path(path), json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return R.atomic_write_bytes(path, gzip.compress(_dumps(recs), mtime=0))


def merge_reports(reports: list[dict]) -> dict:
    """Sum the counts of shard reports of one (task, language, translator); anything else must agree."""
    if not reports:
        raise ValueError("no shard reports to merge")
    first = reports[0]
    for r in reports[1:]:
        for k in ("task", "lang", "format", "translator"):
            if r.get(k) != first.get(k):
                raise ValueError(f"shard reports disagree on {k!r}: {first.get(k)!r} vs {r.get(k)!r}")
    out = {k: first[k] for k in ("task", "lang", "format", "translator")}
    for k in COUNT_KEYS:
        vals = [r[k] for r in reports if k in r]
        if vals:
            out[k] = round(sum(vals), 3) if k == "seconds" else sum(vals)
    dropped = out["examples_in"] - out["examples_out"]
    out["dropped_share"] = round(dropped / out["examples_in"], 6) if out["examples_in"] else 0.0
    out["shards"] = len(reports)
    # unique_texts is counted per shard: a text in two shards counts twice
    return out


def merge_shards(paths: list) -> tuple[list[dict], dict]:
    """Records of the shard files in the given order, and their summed report; ids must be unique across."""
    recs, reports = [], []
    for p in paths:
        recs.extend(R.read_jsonl(p))
        rp = report_path(p)
        if not rp.is_file():
            raise FileNotFoundError(f"{rp}: report of shard {p} missing")
        reports.append(json.loads(rp.read_text(encoding="utf-8")))
    R.check_unique_ids(recs, "merged shards " + ", ".join(str(p) for p in paths))
    return recs, merge_reports(reports)


__all__ = ["NLLB_CODES", "NO_SPACE_LANGS", "Translator", "LexiconTranslator", "HFSeq2SeqTranslator",
           "target_token", "check_config", "make_translator", "split_sentences", "merge_units", "locate",
           "translate_records", "shard", "report_path", "write_shard", "merge_reports",
           "merge_shards"]
