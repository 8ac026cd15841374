"""Tests of xstilts.perturb.core on real text (shared/fixtures/real) in several scripts."""
from __future__ import annotations

import json
from collections import Counter
import math
import re
import unicodedata

import pytest

from conftest import REAL

from xstilts import records as R
from xstilts import tasks as T
from xstilts.perturb import core as P

needs_real = pytest.mark.usefixtures("real")  # skips, saying why, when ../shared is missing

SEVERITIES = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]
FAMILIES = ["char_typo", "word_drop"]

# Article 1 of the Universal Declaration of Human Rights (official translations): scripts the fixtures lack.
UDHR = {
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и "
          "совестью и должны поступать в отношении друг друга в духе братства.",
    "el": "Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα. Είναι "
          "προικισμένοι με λογική και συνείδηση, και οφείλουν να συμπεριφέρονται μεταξύ τους με πνεύμα "
          "αδελφοσύνης.",
    "hi": "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। उन्हें "
          "बुद्धि और अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिए।",
}


# ---------------------------------------------------------------------------------------------- fixtures

def lines(name: str) -> list[str]:
    return [ln for ln in (REAL / "tatoeba" / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def tatoeba_records(lang3: str) -> list[dict]:
    src, tgt = lines(f"tatoeba.{lang3}-eng.{lang3}"), lines(f"tatoeba.{lang3}-eng.eng")
    return [{"id": f"{lang3}-{i}", "source": s, "target": t} for i, (s, t) in enumerate(zip(src, tgt))]


def conllu_records(name: str) -> list[dict]:
    recs, toks, tags = [], [], []
    for ln in (REAL / "udpos" / name).read_text(encoding="utf-8").splitlines() + [""]:
        if not ln.strip():
            if toks:
                recs.append({"id": f"{name}-{len(recs)}", "tokens": toks, "tags": tags})
            toks, tags = [], []
        elif not ln.startswith("#"):
            cols = ln.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            toks.append(cols[1])
            tags.append(cols[3])
    return recs


def xquad_records(lang: str) -> list[dict]:
    data = json.loads((REAL / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    out = []
    for art in data["data"]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                out.append({"id": qa["id"], "context": para["context"], "question": qa["question"],
                            "answers": {"text": [a["text"] for a in qa["answers"]],
                                        "answer_start": [a["answer_start"] for a in qa["answers"]]}})
    return out


def xnli_records() -> list[dict]:
    path = next((REAL / "xnli" / "de").glob("*.tsv"))
    out = []
    for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines()):
        a, b, lab = ln.split("\t")
        out.append({"id": f"xnli-de-{i}", "text_a": a, "text_b": b, "label": T.NLI.index(lab)})
    return out


def mc_records() -> list[dict]:
    path = REAL / "intermediate" / "commonsenseqa" / "dev_rand_split.first50.jsonl"
    out = []
    for ln in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(ln)
        out.append({"id": r["id"], "context": r["question"], "question": "Which one?",
                    "choices": r["choices"]["text"], "label": r["choices"]["label"].index(r["answerKey"])})
    return out


def bucc_records() -> list[dict]:
    de, en = lines("tatoeba.deu-eng.deu")[:60], lines("tatoeba.deu-eng.eng")[:60]
    return ([{"id": f"de-{i:06d}", "side": "source", "text": s} for i, s in enumerate(de)]
            + [{"id": f"en-{i:06d}", "side": "target", "text": s} for i, s in enumerate(en)])


# ------------------------------------------------------------------------------------ units and scripts

def test_clusters_keep_combining_marks_on_their_base():
    assert P.clusters("नमस्ते") == ["न", "म", "स्", "ते"]
    assert P.clusters("cafe\u0301 x") == ["c", "a", "f", "e\u0301", " ", "x"]
    assert P.clusters(" \u0301a") == [" ", "\u0301", "a"]  # an orphan mark is not glued to a space
    assert P.clusters("قدّم") == ["ق", "دّ", "م"]


def test_clusters_are_unicode_extended_graphemes():
    """What `regex`'s \\X adds over a base-plus-marks rule: a flag (two regional indicators), a conjoining-jamo
    Hangul syllable and an emoji ZWJ sequence are one cluster each, so no edit splits them."""
    assert P.clusters("🇩🇪x") == ["🇩🇪", "x"]
    assert P.clusters("\u1100\u1161\u11a8!") == ["\u1100\u1161\u11a8", "!"]
    assert P.clusters("👩\u200d👧 a") == ["👩\u200d👧", " ", "a"]


def test_script_of():
    assert P.script_of("a") == "LATIN" and P.script_of("ж") == "CYRILLIC" and P.script_of("λ") == "GREEK"
    assert P.script_of("س") == "ARABIC" and P.script_of("क") == "DEVANAGARI" and P.script_of("我") == "HAN"
    assert P.script_of("か") == "HIRAGANA" and P.script_of("カ") == "KATAKANA" and P.script_of("가") == "HANGUL"
    assert P.script_of("ก") == "THAI" and P.script_of("ａ") == "FULLWIDTH LATIN"
    assert P.script_of("1") is None and P.script_of(".") is None and P.script_of("\u0301") is None


def test_builtin_alphabets_hold_only_letters_of_their_script():
    for script, alphabet in P.ALPHABETS.items():
        assert len(set(alphabet)) >= 20, script
        assert {P.script_of(c) for c in alphabet} == {script}, script


def test_segmentation():
    words = [u.text for u in P.segment('Ich liebe dich. "Hallo", sagte er (heute).')]
    assert words == ["Ich", "liebe", "dich", ".", '"', "Hallo", '",', "sagte", "er", "(", "heute", ")."]
    zh = [u.text for u in P.segment("今天是６月１８号，也是Muiriel的生日！")]
    assert zh == ["今", "天", "是", "６", "月", "１８", "号", "，", "也", "是", "Muiriel", "的", "生", "日", "！"]
    assert [u.text for u in P.segment("如果Bob 听从了")] == ["如", "果", "Bob", "听", "从", "了"]
    assert [u.text for u in P.segment("Hallo!")] == ["H", "a", "l", "l", "o", "!"]  # no whitespace at all
    assert [u.text for u in P.segment("  two  words ")] == ["two", "words"]
    # eligibility: punctuation never; one-cluster words only when cut out of spaceless text
    ctx = P.Context(P.Letters("a I 我 ."), "xx")
    elig = {u.text: P.FAMILIES["char_typo"].eligible(u, ctx) for u in P.segment("a I go 我 .")}
    assert elig == {"a": False, "I": False, "go": True, "我": True, ".": False}
    assert not P.FAMILIES["word_drop"].eligible(P.segment("« — »")[1], ctx)


# --------------------------------------------------------------------- determinism, nesting, severity

@needs_real
def test_deterministic_and_seed_dependent():
    recs = tatoeba_records("deu")[:50]
    for fam in FAMILIES:
        a = P.perturb_records(recs, T.TATOEBA, fam, 0.3, seed=7, lang="de")
        b = P.perturb_records(recs, T.TATOEBA, fam, 0.3, seed=7, lang="de")
        c = P.perturb_records(recs, T.TATOEBA, fam, 0.3, seed=8, lang="de")
        assert a == b
        assert a != c
        assert [r["id"] for r in a] == [r["id"] for r in recs]


def test_pinned_outputs_do_not_drift():
    """The hash-derived randomness must give the same text on every platform and version."""
    s = "Ich habe heute keine Lust, das Haus zu verlassen, weil es regnet."
    assert P.perturb_text(s, "char_typo", 0.3, 1, "x1").text == \
        "cIh habe ehute keine Lust, dsa Haus zu verlassen, weil ews regnet."
    assert P.perturb_text(s, "word_drop", 0.3, 1, "x1").text == "habe keine Lust, Haus zu verlassen, weil regnet."
    assert P.perturb_text("كان سامي يربح الكثير من المال.", "char_typo", 0.5, 3, "a").text == \
        "كان ساميا يربح الكيثر من اسمال."


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_nested_across_severities_with_the_same_edit(family):
    texts = lines("tatoeba.deu-eng.deu") + lines("tatoeba.ara-eng.ara") + lines("tatoeba.cmn-eng.cmn")
    texts += list(UDHR.values())
    grew = 0
    for i, text in enumerate(texts):
        previous: dict[int, str] = {}
        for s in SEVERITIES:
            res = P.perturb_text(text, family, s, seed=11, rec_id=f"r{i}", field="source")
            edits = {e.index: e.new for e in res.edits}
            assert previous.items() <= edits.items(), (text, s)  # subset, and each edit unchanged
            grew += len(edits) > len(previous)
            previous = edits
    assert grew > len(texts)  # the property is not vacuous


@needs_real
def test_tagging_is_nested_too():
    for rec in conllu_records("ar_pud-ud-test.first100.conllu") + conllu_records("zh_gsd-ud-test.first100.conllu"):
        previous: dict[int, str] = {}
        for s in SEVERITIES:
            _, edits, _ = P.perturb_tokens(rec["tokens"], "char_typo", s, 3, rec["id"])
            now = {e.index: e.new for e in edits}
            assert previous.items() <= now.items()
            previous = now


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_severity_zero_is_identity_for_every_format(family):
    cases = [(T.TATOEBA, tatoeba_records("ara")), (T.CLASSIFICATION, xnli_records()),
             (T.MULTIPLE_CHOICE, mc_records()), (T.SPAN_QA, xquad_records("zh")), (T.BUCC, bucc_records())]
    if family == "char_typo":
        cases.append((T.TAGGING, conllu_records("zh_gsd-ud-test.first100.conllu")))
    for fmt, recs in cases:
        for variant in P.VARIANTS[fmt]:  # every XNLI record is a pair, so 'hypothesis' applies too
            assert P.perturb_records(recs, fmt, family, 0, 3, "xx", variant) == recs, (fmt, variant)


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_perturbed_share_matches_severity(family):
    texts = lines("tatoeba.deu-eng.deu") + lines("tatoeba.ara-eng.ara") + lines("tatoeba.cmn-eng.cmn")
    for s in (0.05, 0.1, 0.3, 0.5):
        total = hit = 0
        for i, text in enumerate(texts):
            res = P.perturb_text(text, family, s, seed=5, rec_id=str(i), field="source")
            n, k = res.n_eligible, len(res.edits)
            cap = n - P.FAMILIES[family].min_keep
            assert abs(k - s * n) < 1 or k == max(cap, 0), (text, s, n, k)
            assert all(e.new != e.old for e in res.edits)  # every selected word really changes
            total += n
            hit += k
        assert total > 1000
        assert abs(hit / total - s) < 0.02, (s, hit, total)


def test_bad_severity_is_rejected():
    for bad in (-0.1, 1.5, math.nan, True, "0.1"):
        with pytest.raises(ValueError):
            P.perturb_text("zwei Wörter", "char_typo", bad, 0, "x")


# ---------------------------------------------------------------------------------- script and marks

ASCII_LETTER = re.compile(r"[A-Za-z]")


def _letter_scripts(text: str) -> set:
    return {P.script_of(c) for c in text if P.script_of(c)}


@needs_real
def test_char_typo_injects_no_foreign_letters():
    texts = [t for t in lines("tatoeba.ara-eng.ara") + lines("tatoeba.cmn-eng.cmn") if not ASCII_LETTER.search(t)]
    texts += [UDHR["ru"], UDHR["el"], UDHR["hi"]]
    changed = 0
    for i, text in enumerate(texts):
        for seed in range(4):
            out = P.perturb_text(text, "char_typo", 1.0, seed, f"t{i}", "source").text
            assert not ASCII_LETTER.search(out), (text, out)
            assert _letter_scripts(out) <= _letter_scripts(text), (text, out)
            changed += out != text
    assert changed > 0.9 * 4 * len(texts)
    # per word: a Latin name inside Chinese text draws Latin letters, the Han characters around it Han
    for text in ["今天是６月１８号，也是Muiriel的生日！", "如果Bob 听从了我的忠告，一切都还应该好好的。"]:
        for seed in range(20):
            res = P.perturb_text(text, "char_typo", 1.0, seed, "m", "source")
            assert len(res.edits) == res.n_eligible > 10
            for e in res.edits:
                assert _letter_scripts(e.new) == _letter_scripts(e.old), e


def _marks(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c).startswith("M")]


def _mark_tails(text: str) -> set[str]:
    return {cl[1:] for cl in P.clusters(text) if len(cl) > 1}


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_combining_marks_stay_attached(family):
    texts = [UDHR["hi"], unicodedata.normalize("NFD", UDHR["el"]),
             *[unicodedata.normalize("NFD", t) for t in lines("tatoeba.deu-eng.deu") if re.search("[äöüÄÖÜé]", t)],
             *[t for t in lines("tatoeba.ara-eng.ara") if "\u0651" in t]]  # shadda
    assert len(texts) > 20
    for i, text in enumerate(texts):
        for s, seed in ((0.5, 1), (1.0, 2)):
            out = P.perturb_text(text, family, s, seed, f"m{i}", "source").text
            for j, ch in enumerate(out):
                if unicodedata.category(ch).startswith("M"):
                    assert j > 0 and not out[j - 1].isspace(), (text, out)
            assert _mark_tails(out) <= _mark_tails(text), (text, out)  # no mark moved to a new sequence
            assert Counter(_marks(out)) <= Counter(_marks(text)), (text, out)  # marks only leave with a base


def test_substitute_keeps_the_marks_of_the_replaced_base():
    seen = False
    for seed in range(200):
        res = P.perturb_text("स्ते", "char_typo", 1.0, seed, "one", "text")
        out = res.text
        assert P.clusters(out)[0][0] != "\u094d"
        if len(out) == 4 and out != "स्ते":
            seen = seen or (out[1] == "\u094d" and out[0] != "स")
    assert seen


# ------------------------------------------------------------------------------------------ formats

@needs_real
@pytest.mark.parametrize("name", ["ar_pud-ud-test.first100.conllu", "zh_gsd-ud-test.first100.conllu",
                                  "en_ewt-ud-test.first100.conllu"])
def test_tagging_keeps_tokens_and_tags_aligned(name):
    recs = conllu_records(name)
    out = P.perturb_records(recs, T.TAGGING, "char_typo", 0.5, 4, name[:2])
    changed = total = 0
    for old, new in zip(recs, out):
        R.validate(new, T.TAGGING, new["id"], labels=T.UPOS)
        assert new["id"] == old["id"] and new["tags"] == old["tags"]
        assert len(new["tokens"]) == len(old["tokens"])
        for a, b in zip(old["tokens"], new["tokens"]):
            assert b and not any(c.isspace() for c in b if c not in a)
            changed += a != b
            total += 1
    assert 0.25 < changed / total < 0.55  # half the eligible tokens; punctuation and 1-letter words are not


@needs_real
def test_word_drop_is_not_applicable_to_tagging():
    rec = conllu_records("en_ewt-ud-test.first100.conllu")[0]
    with pytest.raises(P.NotApplicable, match="tagging"):
        P.perturb_record(rec, T.TAGGING, "word_drop", 0.5, 0, "en")
    with pytest.raises(P.NotApplicable):
        P.perturb_records([rec], T.TAGGING, "word_drop", 0.0, 0, "en")
    with pytest.raises(P.NotApplicable):
        P.perturb_tokens(rec["tokens"], "word_drop", 0.5, 0, rec["id"])
    assert not P.applicable(T.TAGGING, "word_drop") and P.applicable(T.TAGGING, "char_typo")
    assert P.applicable(T.SPAN_QA, "word_drop", "context")


@needs_real
@pytest.mark.parametrize("lang", ["de", "zh"])
@pytest.mark.parametrize("family", FAMILIES)
def test_qa_context_variant_keeps_answers_valid(lang, family):
    recs = xquad_records(lang)
    for s in (0.3, 1.0):
        out = P.perturb_records(recs, T.SPAN_QA, family, s, 9, lang, variant="context")
        moved = 0
        for old, new in zip(recs, out):
            R.validate(new, T.SPAN_QA, new["id"])
            assert new["question"] == old["question"] and new["answers"]["text"] == old["answers"]["text"]
            assert new["context"] != old["context"]
            for t, st in zip(new["answers"]["text"], new["answers"]["answer_start"]):
                assert new["context"][st:st + len(t)] == t
            moved += new["answers"]["answer_start"] != old["answers"]["answer_start"]
        assert moved > len(recs) // 2  # offsets really were recomputed


def test_qa_context_protects_answers_inside_tokens_and_their_gaps():
    ctx = "Die Brücke wurde (1998) von der Stadt gebaut und 2005 erneuert."
    rec = {"id": "q1", "context": ctx, "question": "Wann wurde die Brücke gebaut?",
           "answers": {"text": ["1998", "von der Stadt"], "answer_start": [ctx.index("1998"), ctx.index("von")]}}
    for seed in range(30):
        for fam in FAMILIES:
            new = P.perturb_record(rec, T.SPAN_QA, fam, 1.0, seed, "de", "context")
            assert "(1998) von der Stadt" in new["context"]


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_qa_question_variant_leaves_context_alone(family):
    recs = xquad_records("de")
    out = P.perturb_records(recs, T.SPAN_QA, family, 0.5, 2, "de")
    assert out == P.perturb_records(recs, T.SPAN_QA, family, 0.5, 2, "de", variant="question")
    assert all(n["context"] == o["context"] and n["answers"] == o["answers"] for o, n in zip(recs, out))
    assert sum(n["question"] != o["question"] for o, n in zip(recs, out)) > 0.7 * len(recs)


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_retrieval_perturbs_the_source_side_only(family):
    recs = tatoeba_records("ara")
    out = P.perturb_records(recs, T.TATOEBA, family, 0.5, 1, "ar")
    assert all(n["target"] == o["target"] for o, n in zip(recs, out))
    assert sum(n["source"] != o["source"] for o, n in zip(recs, out)) > 0.8 * len(recs)
    recs = bucc_records()
    out = P.perturb_records(recs, T.BUCC, family, 0.5, 1, "de")
    assert all(n == o for o, n in zip(recs, out) if o["side"] == "target")
    assert sum(n != o for o, n in zip(recs, out) if o["side"] == "source") > 40


@needs_real
@pytest.mark.parametrize("family", FAMILIES)
def test_classification_and_multiple_choice_fields(family):
    recs = xnli_records()
    both = P.perturb_records(recs, T.CLASSIFICATION, family, 0.5, 1, "de")
    hyp = P.perturb_records(recs, T.CLASSIFICATION, family, 0.5, 1, "de", "hypothesis")
    assert all(h["text_a"] == o["text_a"] and h["label"] == o["label"] for o, h in zip(recs, hyp))
    assert all(h["text_b"] == b["text_b"] for b, h in zip(both, hyp))  # same field key: same edits
    assert sum(b["text_a"] != o["text_a"] for o, b in zip(recs, both)) > 0.8 * len(recs)
    single = {"id": "sst", "text_a": "Ein wirklich schöner Film.", "text_b": None, "label": 1}
    assert P.perturb_record(single, T.CLASSIFICATION, family, 1.0, 0, "de")["text_b"] is None
    with pytest.raises(P.NotApplicable, match="'sst'"):
        P.perturb_record(single, T.CLASSIFICATION, family, 0.5, 0, "de", "hypothesis")
    mc = mc_records()
    out = P.perturb_records(mc, T.MULTIPLE_CHOICE, family, 0.5, 1, "en")
    assert all(n["choices"] == o["choices"] and n["label"] == o["label"] for o, n in zip(mc, out))
    assert sum(n["context"] != o["context"] for o, n in zip(mc, out)) > 0.8 * len(mc)


def test_unknown_variant_and_format():
    rec = {"id": "x", "source": "Guten Morgen zusammen", "target": "Good morning all"}
    with pytest.raises(P.NotApplicable, match="variant"):
        P.perturb_record(rec, T.TATOEBA, "char_typo", 0.5, 0, "de", "context")
    with pytest.raises(ValueError, match="format"):
        P.perturb_record(rec, "nope", "char_typo", 0.5, 0, "de")
    with pytest.raises(KeyError, match="known"):
        P.perturb_record(rec, T.TATOEBA, "no_such_family", 0.5, 0, "de")


# ------------------------------------------------------------------------------ registry and errors

@pytest.fixture
def scratch_family():
    added = []

    def add(fam):
        added.append(fam.name)
        return P.register_family(fam)
    yield add
    for name in added:
        P.FAMILIES.pop(name, None)


def test_registry_takes_new_families(scratch_family):
    upper = scratch_family(P.Family("test_upper", "char", lambda u, c: u.wordlike,
                                    lambda u, rng, c: u.text.upper(), token_preserving=True))
    rec = {"id": "u1", "source": "ein kleiner Test", "target": "a small test"}
    assert P.perturb_record(rec, T.TATOEBA, upper, 1.0, 0, "de")["source"] == "EIN KLEINER TEST"
    assert P.perturb_record(rec, T.TATOEBA, "test_upper", 1.0, 0, "de")["source"] == "EIN KLEINER TEST"
    with pytest.raises(ValueError, match="already registered"):
        P.register_family(upper)
    with pytest.raises(ValueError, match="reserved"):
        P.register_family(P.Family("clean", "word", lambda u, c: True, lambda u, r, c: "", False))


def test_broken_family_is_caught_with_the_record_id(scratch_family):
    scratch_family(P.Family("test_blank", "char", lambda u, c: u.wordlike, lambda u, rng, c: " ",
                            token_preserving=True))
    rec = {"id": "tok-17", "tokens": ["Hallo", "Welt"], "tags": ["INTJ", "NOUN"]}
    with pytest.raises(P.PerturbationError, match="tok-17"):
        P.perturb_record(rec, T.TAGGING, "test_blank", 1.0, 0, "de")
    rec = {"id": "pair-3", "text_a": "Hallo", "text_b": "Welt", "label": 0}
    with pytest.raises(P.PerturbationError, match="pair-3"):
        P.perturb_record(rec, T.CLASSIFICATION, "test_blank", 1.0, 0, "de", "premise")


def test_word_drop_never_empties_a_field():
    for text in ("Hallo", "zwei Wörter", "a b c d e f", "« Ja ! »"):
        out = P.perturb_text(text, "word_drop", 1.0, 0, "x").text
        assert out.strip() and any(c.isalnum() for c in out), (text, out)
    assert P.perturb_text("Ich sehe dich nicht.", "word_drop", 1.0, 1, "y").text.count(" ") == 0


# ---------------------------------------------------------------------------------------------- files

@needs_real
def test_perturb_file_round_trip(tmp_path):
    recs = xquad_records("de")
    src, dst = tmp_path / "test.jsonl", tmp_path / "out" / "test.jsonl"
    R.write_jsonl(src, recs, T.SPAN_QA)
    stats = P.perturb_file(src, dst, T.SPAN_QA, "word_drop", 0.2, 3, "de", "context")
    out = R.read_jsonl(dst, T.SPAN_QA)
    assert out == P.perturb_records(recs, T.SPAN_QA, "word_drop", 0.2, 3, "de", "context")
    assert set(stats) == {"n", "n_changed", "words_total", "words_perturbed"}
    assert stats["n"] == len(recs) and stats["n_changed"] == sum(a != b for a, b in zip(recs, out))
    assert abs(stats["words_perturbed"] / stats["words_total"] - 0.2) < 0.03
    bsrc, bdst = tmp_path / "bucc.jsonl", tmp_path / "bucc.out.jsonl"
    R.write_jsonl(bsrc, bucc_records(), T.BUCC)
    st = P.perturb_file(bsrc, bdst, T.BUCC, "char_typo", 0.3, 3, "de")
    assert st["n"] == 120 and 0 < st["n_changed"] <= 60
