"""The families of xstilts.perturb.families and the per-family perturbation jobs, on real text
(shared/fixtures/real: German, Chinese, Arabic; SQuAD-format QA; CoNLL-U tagging) and UDHR article 1."""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from xstilts import records as R
from xstilts import tasks as T
from xstilts.perturb import core as P
from xstilts.perturb import families as F
from xstilts.perturb import sets as PS

from test_perturb import UDHR, conllu_records, needs_real, tatoeba_records, xnli_records, xquad_records

NEW = ["keyboard_typo", "diacritic_drop", "homoglyph", "code_switch", "word_shuffle"]
SEVERITIES = [0.0, 0.1, 0.2, 0.3, 0.5, 1.0]


def nfkc_normaliser():
    """The Hugging Face tokenizers NFKC normaliser: what XLM-R's sentencepiece precompiled map does."""
    from tokenizers import normalizers
    return normalizers.NFKC().normalize_str


@pytest.fixture(scope="module")
def table():
    return F.build_homoglyph_table(nfkc_normaliser(), "NFKC")["pairs"]


# a tiny German -> English MUSE-style dictionary (words of the German Tatoeba fixture)
DE_EN = {"ich": "I", "nicht": "not", "ist": "is", "das": "that", "du": "you", "er": "he", "sie": "she",
         "und": "and", "ein": "a", "eine": "a", "der": "the", "die": "the", "es": "it", "wir": "we",
         "haben": "have", "hat": "has", "mit": "with", "zu": "to", "in": "in", "habe": "have", "nach": "after"}


ZH_EN = {"是": "is", "的": "of", "在": "in", "年": "year", "和": "and", "他": "he", "我": "I"}


def resources(table, lang="de"):
    d = DE_EN if lang == "de" else ZH_EN
    return {"homoglyphs": table, "dictionary": {"en": {k.casefold(): v for k, v in d.items()}}}


def real_texts(lang3):
    return [r["source"] for r in tatoeba_records(lang3)][:80]


# ---------------------------------------------------------------------------- determinism and nesting

@needs_real
@pytest.mark.parametrize("family", NEW)
def test_deterministic_and_nested(family, table):
    res = resources(table)
    for i, text in enumerate(real_texts("deu")):
        prev = None
        for s in SEVERITIES:
            a = P.perturb_text(text, family, s, 3, f"r{i}", "text", "de", resources=res)
            b = P.perturb_text(text, family, s, 3, f"r{i}", "text", "de", resources=res)
            assert a.text == b.text
            if s == 0:
                assert a.text == text
            if family != "word_shuffle":  # shuffle: the *selected* words are nested, their partners vary
                now = {e.index: e.new for e in a.edits}
                if prev is not None:
                    assert all(now.get(k) == v for k, v in prev.items()), (text, s)
                prev = now


@needs_real
def test_shuffle_selection_is_nested_and_keeps_the_words():
    sel = lambda s, text: P.select([i for i, u in enumerate(P.segment(text)) if u.wordlike], s, 3, "r", "text")
    for i, text in enumerate(real_texts("deu")):
        for lo, hi in zip(SEVERITIES, SEVERITIES[1:]):
            assert set(sel(lo, text)) <= set(sel(hi, text))
        out = P.perturb_text(text, "word_shuffle", 0.5, 3, f"r{i}", "text", "de").text
        assert Counter(u.text for u in P.segment(out)) == Counter(u.text for u in P.segment(text))
    moved = sum(P.perturb_text(t, "word_shuffle", 0.5, 3, f"r{i}").text != t for i, t in enumerate(real_texts("deu")))
    assert moved > 40


# ---------------------------------------------------------------------------- script safety

def _new_letters(old: str, new: str) -> set[str]:
    return {ch for ch in new if unicodedata.category(ch).startswith("L")} - set(old)


@needs_real
@pytest.mark.parametrize("lang3", ["deu", "ara", "cmn"])
def test_keyboard_typo_stays_in_the_script(lang3):
    changed = 0
    for i, text in enumerate(real_texts(lang3)):
        pt = P.perturb_text(text, "keyboard_typo", 0.5, 1, f"k{i}", "text", lang3)
        changed += pt.text != text
        for e in pt.edits:  # a new letter is of the script of the word it lands in (a Latin name: Latin)
            own = {P.script_of(c) for c in e.old} - {None}
            for ch in _new_letters(e.old, e.new):
                assert P.script_of(ch) in own, (text, e)
        own_script = {P.script_of(c) for c in text} - {None}
        assert {P.script_of(c) for c in _new_letters(text, pt.text)} <= own_script
    assert changed > 40


def test_keyboard_typo_uses_layout_neighbours():
    for text, lang in [(UDHR["ru"], "ru"), (UDHR["el"], "el"), ("the quick brown fox jumps over it", "en")]:
        out = P.perturb_text(text, "keyboard_typo", 1.0, 2, "kb", "text", lang)
        assert out.edits
        for e in out.edits:
            diff = [(a, b) for a, b in zip(e.old, e.new) if a != b]
            assert len(e.old) == len(e.new) and len(diff) == 1, e
            a, b = diff[0]
            assert b.lower() in F.KEY_NEIGHBOURS[a.lower()], e
            assert P.script_of(a) == P.script_of(b)


def test_diacritics_stripped_only_where_letters_stay_the_same():
    assert F.strip_diacritics("für Müller café") == "fur Muller cafe"
    assert F.strip_diacritics("Όλοι άνθρωποι") == "Ολοι ανθρωποι"
    assert F.strip_diacritics("كَتَبَ") == "كتب"
    assert F.strip_diacritics("своей ёлке") == "своей ёлке"  # й and ё are letters of their own
    assert F.strip_diacritics(UDHR["hi"]) == UDHR["hi"]  # virama and matras are spelling
    for lang in ("ru", "hi"):
        pt = P.perturb_text(UDHR[lang], "diacritic_drop", 1.0, 0, "d", "text", lang)
        assert pt.n_eligible == 0 and pt.text == UDHR[lang]
    pt = P.perturb_text(UDHR["el"], "diacritic_drop", 1.0, 0, "d", "text", "el")
    assert pt.edits and pt.text == F.strip_diacritics(UDHR["el"])


@needs_real
def test_diacritic_drop_on_real_german_and_arabic_tagging(real):
    recs = conllu_records("ar_pud-ud-test.first100.conllu")
    out = P.perturb_records(recs, T.TAGGING, "diacritic_drop", 1.0, 0, "ar")
    for a, b in zip(recs, out):
        assert len(a["tokens"]) == len(b["tokens"]) and a["tags"] == b["tags"]
        assert [F.strip_diacritics(t) or t for t in a["tokens"]] == b["tokens"]


# ---------------------------------------------------------------------------- homoglyphs and normalisation

def test_homoglyph_table_is_decided_by_the_normaliser():
    nfkc = F.build_homoglyph_table(nfkc_normaliser())
    ident = F.build_homoglyph_table(lambda s: s)
    assert "\u0430" in nfkc["pairs"]["a"]  # Cyrillic а survives NFKC
    assert "\uff41" not in nfkc["pairs"]["a"] and nfkc["rejected"]["a"]["\uff41"] == "a"  # fullwidth folds back
    assert "\u2f00" not in nfkc["pairs"].get("一", [])  # Kangxi radical one -> 一
    assert "\uff41" in ident["pairs"]["a"]  # a normaliser that keeps it keeps the pair
    lower = F.build_homoglyph_table(lambda s: unicodedata.normalize("NFKC", s).lower())
    assert all(g.lower() != k.lower() for k, gs in lower["pairs"].items() for g in gs)


MICRO_TOKENIZER = Path(__file__).resolve().parents[1] / "resources" / "models" / "tokenizer"


@pytest.mark.skipif(not MICRO_TOKENIZER.is_dir(), reason="needs the micro tokenizer (from a default run)")
def test_homoglyph_table_of_the_micro_tokenizer():
    tab = F.build_homoglyph_table_for(MICRO_TOKENIZER)
    from transformers import AutoTokenizer
    norm = F.normaliser_of(AutoTokenizer.from_pretrained(str(MICRO_TOKENIZER)))
    for k, gs in tab["pairs"].items():
        for g in gs:
            assert norm(g) != norm(k)
    assert tab["rejected"]  # the sentencepiece map folds fullwidth forms


@needs_real
@pytest.mark.parametrize("lang3", ["deu", "cmn", "ara"])
def test_homoglyphs_survive_normalisation(lang3, table):
    norm = nfkc_normaliser()
    hits = 0
    for i, text in enumerate(real_texts(lang3)):
        pt = P.perturb_text(text, "homoglyph", 0.5, 1, f"h{i}", "text", lang3, resources={"homoglyphs": table})
        for e in pt.edits:
            hits += 1
            assert norm(e.new) != norm(e.old), e
    if lang3 == "deu":
        assert hits > 50
    else:  # no Latin/Cyrillic/Greek look-alike in Arabic; Chinese look-alikes are NFKC-folded
        assert hits == 0 or lang3 == "cmn"


def test_homoglyph_without_table_is_an_error(tmp_path):
    with pytest.raises(P.NotApplicable, match="homoglyphs"):
        P.perturb_text("a test", "homoglyph", 1.0, 0, "x")
    with pytest.raises(PS.ResourceError, match="homoglyph"):
        PS.family_resources("homoglyph", "de", {}, tmp_path)
    bad = tmp_path / "h.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="h.json"):
        PS.family_resources("homoglyph", "de", {}, tmp_path, bad)


# ---------------------------------------------------------------------------- code-switching

@needs_real
def test_code_switch_uses_the_dictionary_and_keeps_tags_aligned(table):
    res = resources(table)
    recs = xnli_records()
    out = P.perturb_records(recs, T.CLASSIFICATION, "code_switch", 1.0, 0, "de", resources=res)
    switched = 0
    for a, b in zip(recs, out):
        assert a["label"] == b["label"]
        for f in ("text_a", "text_b"):
            old, new = P.segment(a[f]), P.segment(b[f])
            assert len(old) == len(new)
            for u, v in zip(old, new):
                if u.text != v.text:
                    switched += 1
                    assert v.text.casefold() == DE_EN[u.text.casefold()].casefold()
    assert switched > 50
    tags = [{"id": "t", "tokens": ["Ich", "habe", "das", "nicht", "gesehen", "."], "tags": ["PRON"] * 6}]
    got = P.perturb_records(tags, T.TAGGING, "code_switch", 1.0, 0, "de", resources=res)[0]
    assert got["tokens"] == ["I", "have", "that", "not", "gesehen", "."] and got["tags"] == tags[0]["tags"]


def test_muse_dictionaries_and_missing_files(tmp_path):
    (tmp_path / "de-en.txt").write_text("Haus house\nhaus home\nKatze cat\n", encoding="utf-8")
    cfg = {"code_switch": {"dictionary": str(tmp_path / "{src}-{tgt}.txt"), "to": ["en", "fr"]}}
    with pytest.raises(PS.ResourceError, match=r"perturb.code_switch.dictionary.*de-fr.txt"):
        PS.family_resources("code_switch", "de", cfg, tmp_path)
    cfg["code_switch"]["on_missing"] = "skip"
    with pytest.warns(UserWarning, match="de-fr.txt"):
        res = PS.family_resources("code_switch", "de", cfg, tmp_path)
    assert res["dictionary"] == {"en": {"haus": "house", "katze": "cat"}}
    (tmp_path / "de-en.txt").write_text("Haus house home\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"de-en.txt:1"):
        PS.family_resources("code_switch", "de", cfg, tmp_path)


def test_micro_lexicon_dictionaries(tmp_path):
    lex = {"xl": [{"lemma": "n:dog", "infl": "", "en": "dog", "form": "kano"},
                  {"lemma": "d:the", "infl": "", "en": "the", "form": None}],
           "xc": [{"lemma": "n:dog", "infl": "", "en": "dog", "form": "кано"}]}
    (tmp_path / "lexicon.json").write_text(json.dumps(lex, ensure_ascii=False), encoding="utf-8")
    assert F.micro_dictionaries(tmp_path / "lexicon.json", "xl") == {"en": {"kano": "dog"}, "xc": {"kano": "кано"}}
    with pytest.raises(ValueError, match="no lexicon for language 'zz'"):
        F.micro_dictionaries(tmp_path / "lexicon.json", "zz")


# ---------------------------------------------------------------------------- task-aware application

@needs_real
@pytest.mark.parametrize("family", NEW + ["char_typo", "word_drop"])
@pytest.mark.parametrize("lang", ["de", "zh"])
def test_qa_context_answers_stay_valid(family, lang, table):
    recs = xquad_records(lang)
    out = P.perturb_records(recs, T.SPAN_QA, family, 0.5, 4, lang, "context", resources=resources(table, lang))
    for a, b in zip(recs, out):
        assert a["question"] == b["question"]
        for t, s in zip(b["answers"]["text"], b["answers"]["answer_start"]):
            assert b["context"][s:s + len(t)] == t


@needs_real
@pytest.mark.parametrize("family", ["keyboard_typo", "diacritic_drop", "homoglyph", "code_switch"])
@pytest.mark.parametrize("name", ["en_ewt-ud-test.first100.conllu", "zh_gsd-ud-test.first100.conllu",
                                  "ar_pud-ud-test.first100.conllu"])
def test_tagging_one_to_one(family, name, table):
    recs = conllu_records(name)
    out = P.perturb_records(recs, T.TAGGING, family, 0.5, 2, name[:2], resources=resources(table))
    for a, b in zip(recs, out):
        assert len(a["tokens"]) == len(b["tokens"]) and a["tags"] == b["tags"]
        assert all(t.strip() and not any(c.isspace() for c in t) for t in b["tokens"])


def test_word_shuffle_not_applicable_to_tagging():
    assert not P.applicable(T.TAGGING, "word_shuffle")
    with pytest.raises(P.NotApplicable):
        P.perturb_record({"id": "t", "tokens": ["a", "b"], "tags": ["X", "X"]}, T.TAGGING, "word_shuffle", 1, 0, "en")


@needs_real
@pytest.mark.parametrize("family", NEW)
def test_retrieval_perturbs_the_source_side_only(family, table):
    recs = tatoeba_records("deu")[:50]
    out = P.perturb_records(recs, T.TATOEBA, family, 0.5, 1, "de", resources=resources(table))
    assert [r["target"] for r in out] == [r["target"] for r in recs]


# ---------------------------------------------------------------------------- per-family jobs

def _task_dir(tmp_path, lang_texts: dict[str, list[str]]):
    data = tmp_path / "data"
    d = data / "task~tatoeba"
    for lang, texts in lang_texts.items():
        R.write_jsonl(d / f"lang~{lang}" / "test.jsonl",
                      [{"id": f"{lang}{i}", "source": t, "target": "x"} for i, t in enumerate(texts)], T.TATOEBA)
    meta = {"task": "tatoeba", "format": T.TATOEBA, "languages": list(lang_texts),
            "splits": {l: ["test"] for l in lang_texts}}
    (d / "meta.json").write_text(json.dumps(meta))
    return data


def test_perturb_task_family_reports_not_applicable_languages(tmp_path):
    data = _task_dir(tmp_path, {"de": ["Müller fährt über die Brücke", "schön"], "ru": [UDHR["ru"]],
                                "hi": [UDHR["hi"]]})
    out = tmp_path / "out" / "family~diacritic_drop"
    m = PS.perturb_task_family(data, "tatoeba", "diacritic_drop", [0.5, 1.0], 7, out, log=lambda *a: None)
    assert set(m["not_applicable"]) == {"ru", "hi"}
    assert [s["languages"] for s in m["sets"]] == [["de"], ["de"]]
    assert not (out / "severity~1.0" / "seed~7" / "lang~ru").exists()
    got = R.read_jsonl(out / "severity~1.0" / "seed~7" / "lang~de" / "test.jsonl")
    assert got[0]["source"] == "Muller fahrt uber die Brucke"
    # bundle: every family in one call, same layout
    b = PS.perturb_task(data, "tatoeba", ["word_drop", "diacritic_drop"], [0.5], 7, tmp_path / "b",
                        log=lambda *a: None)
    assert set(b["families"]) == {"word_drop", "diacritic_drop"}
    assert (tmp_path / "b" / "family~word_drop" / "severity~0.5" / "seed~7" / "meta.json").exists()
    lang_only = PS.perturb_task_family(data, "tatoeba", "word_drop", [0.5], 7, tmp_path / "c",
                                       {"languages": ["ru"]}, log=lambda *a: None)
    assert lang_only["sets"][0]["languages"] == ["ru"]


def test_variants_are_written_beside_the_default(tmp_path):
    data = tmp_path / "data"
    d = data / "task~xnli"
    recs = [{"id": f"p{i}", "text_a": "Der Mann liest ein Buch im Garten.", "text_b": "Ein Mann liest heute.",
             "label": 0} for i in range(5)]
    R.write_jsonl(d / "lang~de" / "test.jsonl", recs, T.CLASSIFICATION)
    (d / "meta.json").write_text(json.dumps({"task": "xnli", "format": T.CLASSIFICATION, "labels": list(T.NLI),
                                             "languages": ["de"], "splits": {"de": ["test"]}}))
    out = tmp_path / "pert" / "task~xnli" / "family~word_drop"
    m = PS.perturb_task_family(data, "xnli", "word_drop", [1.0], 7, out, {"variants": ["hypothesis", "context"]},
                               log=lambda *a: None)
    assert [(s["family"], s["variant"]) for s in m["sets"]] == [("word_drop", "default"),
                                                                 ("word_drop__hypothesis", "hypothesis")]
    hyp = R.read_jsonl(out / "variant~hypothesis" / "severity~1.0" / "seed~7" / "lang~de" / "test.jsonl")
    assert all(h["text_a"] == r["text_a"] and h["text_b"] != r["text_b"] for h, r in zip(hyp, recs))
    found = PS.perturbed_sets(tmp_path / "pert", "xnli")
    assert [json.loads((p / "meta.json").read_text())["family"] for p in found] == ["word_drop",
                                                                                   "word_drop__hypothesis"]
