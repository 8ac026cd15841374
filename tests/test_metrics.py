"""Tests for xstilts.train.metrics. Expected values are worked out by hand (shown in comments), never recomputed
with the code under test; the only cross-check against an external implementation (seqeval) is optional."""
from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from xstilts import tasks as T
from xstilts.train import metrics as M


# ---------------------------------------------------------------------------------------------- accuracy

def test_accuracy_percent():
    # 3 of 4 equal -> 75 %
    assert M.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == pytest.approx(75.0)
    assert M.accuracy(["a", "b"], ["a", "b"]) == pytest.approx(100.0)
    assert M.accuracy(np.array([0, 1, 1]), np.array([1, 0, 0])) == pytest.approx(0.0)


def test_accuracy_errors():
    with pytest.raises(ValueError):
        M.accuracy([1, 2], [1])
    with pytest.raises(ValueError):
        M.accuracy([], [])


# ---------------------------------------------------------------------------------------------- seqeval

NER_TRUE = [["B-PER", "I-PER", "O", "B-LOC"], ["I-ORG", "I-ORG", "O", "B-PER", "B-PER"]]
NER_PRED = [["B-PER", "I-LOC", "B-MISC", "B-LOC"], ["B-ORG", "I-ORG", "O", "B-PER", "I-PER"]]


def test_seqeval_ner_hand_computed():
    # Flattened with an 'O' after each sentence: sentence 2 starts at offset 5.
    # gold spans: PER 0-1, LOC 3-3, ORG 5-6 (I- after O starts a span), PER 8-8, PER 9-9 (B-B splits) -> 5
    assert M.seqeval_entities(NER_TRUE) == [("PER", 0, 1), ("LOC", 3, 3), ("ORG", 5, 6), ("PER", 8, 8),
                                            ("PER", 9, 9)]
    # pred spans: PER 0-0 (type change ends it), LOC 1-1, MISC 2-2, LOC 3-3, ORG 5-6, PER 8-9 -> 6
    assert M.seqeval_entities(NER_PRED) == [("PER", 0, 0), ("LOC", 1, 1), ("MISC", 2, 2), ("LOC", 3, 3),
                                            ("ORG", 5, 6), ("PER", 8, 9)]
    # correct: LOC 3-3, ORG 5-6 -> P = 2/6, R = 2/5, F1 = 2*2/(6+5) = 4/11
    r = M.seqeval_f1(NER_TRUE, NER_PRED)
    assert r["precision"] == pytest.approx(100 * 2 / 6)
    assert r["recall"] == pytest.approx(100 * 2 / 5)
    assert r["f1"] == pytest.approx(100 * 4 / 11)


POS_TRUE = [["NOUN", "NOUN", "VERB", "SCONJ", "SCONJ", "PUNCT"], ["NOUN", "ADJ"]]
POS_PRED = [["NOUN", "NOUN", "VERB", "SCONJ", "CCONJ", "PUNCT"], ["NOUN", "NOUN"]]


def test_seqeval_pos_hand_computed_0012_semantics():
    # 0.0.12 reads 'NOUN' as tag 'N', type 'NOUN': consecutive NOUNs merge into one span, while 'SCONJ'
    # (tag 'S' = single) is always a one-token span; the sentence separator 'O' cuts runs.
    # gold: NOUN 0-1, VERB 2-2, SCONJ 3-3, SCONJ 4-4, PUNCT 5-5, NOUN 7-7, ADJ 8-8            -> 7
    # pred: NOUN 0-1, VERB 2-2, SCONJ 3-3, CCONJ 4-4, PUNCT 5-5, NOUN 7-8                     -> 6
    # correct 4 -> P = 4/6, R = 4/7, F1 = 8/13
    assert M.seqeval_entities(POS_TRUE) == [("NOUN", 0, 1), ("VERB", 2, 2), ("SCONJ", 3, 3), ("SCONJ", 4, 4),
                                            ("PUNCT", 5, 5), ("NOUN", 7, 7), ("ADJ", 8, 8)]
    r = M.seqeval_f1(POS_TRUE, POS_PRED)
    assert r["precision"] == pytest.approx(100 * 4 / 6)
    assert r["recall"] == pytest.approx(100 * 4 / 7)
    assert r["f1"] == pytest.approx(100 * 8 / 13)


def test_seqeval_pos_runs_and_singletons():
    assert M.seqeval_entities([["NOUN", "NOUN", "NOUN"]]) == [("NOUN", 0, 2)]
    assert M.seqeval_entities([["SYM", "SYM"]]) == [("SYM", 0, 0), ("SYM", 1, 1)]
    assert M.seqeval_entities([["INTJ", "INTJ"]]) == [("INTJ", 0, 1)]  # 'I' tag continues the run
    assert M.seqeval_entities([["NOUN"], ["NOUN"]]) == [("NOUN", 0, 0), ("NOUN", 2, 2)]
    # A merged gold run is one span, so a half-right prediction earns nothing (token accuracy would be 50%).
    assert M.seqeval_f1([["NOUN", "NOUN"]], [["NOUN", "VERB"]])["f1"] == pytest.approx(0.0)


def test_seqeval_cconj_sconj_distinct_as_in_0012():
    # seqeval >= 0.0.13 parses both as type 'CONJ' and would score this 100; 0.0.12 (and XTREME) give 0.
    assert M.seqeval_f1([["SCONJ"]], [["CCONJ"]])["f1"] == pytest.approx(0.0)


def test_seqeval_length_mismatch_and_empty():
    with pytest.raises(ValueError):
        M.seqeval_f1([["O", "B-PER"]], [["O"]])
    with pytest.raises(ValueError):
        M.seqeval_f1([["O"], ["O"]], [["O"]])
    assert M.seqeval_f1([], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert M.seqeval_f1([["O", "O"]], [["O", "O"]])["f1"] == 0.0


def _installed_seqeval_version():
    try:
        from importlib.metadata import version
        import seqeval.metrics  # noqa: F401
        return version("seqeval")
    except Exception:
        return None


def _random_pairs(tags, rng, trials):
    for _ in range(trials):
        lens = [rng.randint(0, 8) for _ in range(rng.randint(1, 5))]
        yield ([[rng.choice(tags) for _ in range(n)] for n in lens],
               [[rng.choice(tags) for _ in range(n)] for n in lens])


@pytest.mark.skipif(_installed_seqeval_version() is None, reason="seqeval not installed (optional)")
def test_seqeval_matches_reference_on_random_ner():
    # NER labels: every seqeval version parses them alike, so any installed version is a valid reference.
    from seqeval.metrics import f1_score, precision_score, recall_score
    rng = random.Random(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for yt, yp in _random_pairs(T.NER + ["E-PER", "S-LOC", "B-MISC", "I-MISC"], rng, 500):
            r = M.seqeval_f1(yt, yp)
            assert r["precision"] == pytest.approx(100 * precision_score(yt, yp))
            assert r["recall"] == pytest.approx(100 * recall_score(yt, yp))
            assert r["f1"] == pytest.approx(100 * f1_score(yt, yp))


@pytest.mark.skipif(_installed_seqeval_version() != "0.0.12", reason="needs seqeval==0.0.12 (optional)")
def test_seqeval_matches_0012_on_random_pos():
    from seqeval.metrics import f1_score
    from seqeval.metrics.sequence_labeling import get_entities
    rng = random.Random(1)
    for yt, yp in _random_pairs(T.UPOS, rng, 500):
        assert M.seqeval_entities(yt) == get_entities(yt)
        assert M.seqeval_f1(yt, yp)["f1"] == pytest.approx(100 * f1_score(yt, yp))


# ---------------------------------------------------------------------------------------------- SQuAD

def test_normalize_answer_squad():
    # lower -> drop ASCII punctuation ('-' too, so brown-fox -> brownfox) -> drop articles -> squeeze
    assert M.normalize_answer_squad("The  Quick, brown-fox!") == "quick brownfox"
    assert M.normalize_answer_squad("«Berlin»") == "«berlin»"  # non-ASCII punctuation is kept in v1.1
    assert M.normalize_answer_squad("theatre an") == "theatre"  # word boundaries, not substrings


def test_squad_em_f1_max_over_ground_truths():
    # pred tokens [cat, sat]; vs [cat]: P 1/2 R 1 -> 2/3; vs [cat, sat, down]: P 1 R 2/3 -> 0.8
    em, f1 = M.squad_em_f1("the cat sat", ["a cat", "cat sat down"])
    assert em == 0.0
    assert f1 == pytest.approx(0.8)
    assert M.squad_em_f1("The Cat.", ["dog", "cat"]) == (1.0, 1.0)
    assert M.squad_em_f1("", ["cat"]) == (0.0, 0.0)


def test_squad_unanswerable_v2_rule():
    assert M.squad_em_f1("", []) == (1.0, 1.0)
    assert M.squad_em_f1("cat", []) == (0.0, 0.0)
    # As the official v2.0 script: a prediction that normalises to '' counts as abstaining.
    assert M.squad_em_f1("The.", []) == (1.0, 1.0)


def test_qa_scores_squad():
    refs = {"q1": ["cat"], "q2": ["dog house"], "q3": [], "q4": ["x"]}
    preds = {"q1": "the cat", "q2": "house", "q3": "", "extra": "ignored"}
    # q1 EM 1 F1 1; q2 EM 0 F1 (P 1, R 1/2) 2/3; q3 unanswerable + '' -> 1, 1; q4 missing -> 0, 0
    with pytest.warns(UserWarning):
        r = M.qa_scores(preds, refs)
    assert r["em"] == pytest.approx(100 * 2 / 4)
    assert r["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 0) / 4)


def test_qa_scores_errors():
    with pytest.raises(ValueError):
        M.qa_scores({}, {})
    with pytest.raises(ValueError):
        M.qa_scores({"a": "x"}, {"a": ["x"]}, normalisation="bleu")
    with pytest.raises(ValueError):
        M.qa_scores({"a": "x"}, {"a": ["x"]}, normalisation="mlqa", lang="fr")  # not an MLQA language


# ---------------------------------------------------------------------------------------------- MLQA

def test_mlqa_german_articles():
    assert M.normalize_answer_mlqa("Die Hauptstadt der Bundesrepublik", "de") == "hauptstadt bundesrepublik"
    # mlqa/de strips 'der': exact match; SQuAD keeps it: EM 0, F1 = (P 1/2, R 1) 2/3
    assert M.squad_em_f1("der Hauptstadt", ["Hauptstadt"], normalisation="mlqa", lang="de") == (1.0, 1.0)
    em, f1 = M.squad_em_f1("der Hauptstadt", ["Hauptstadt"])
    assert (em, f1) == (0.0, pytest.approx(2 / 3))


def test_mlqa_unicode_punctuation_and_spanish():
    assert M.normalize_answer_mlqa("«Berlin»", "de") == "berlin"
    assert M.normalize_answer_mlqa("¿El Museo del Prado?", "es") == "museo del prado"  # 'del' is no article


def test_mlqa_chinese_mixed_segmentation():
    # every CJK character is a token; Chinese punctuation (category P) is removed first
    assert M.normalize_answer_mlqa("北京大学，很好。", "zh") == "北 京 大 学 很 好"
    assert M.normalize_answer_mlqa("北京 abc 2020", "zh") == "北 京 abc 2020"
    # '北京 市' and '北京市' normalise identically -> EM 1
    assert M.squad_em_f1("北京 市", ["北京市"], normalisation="mlqa", lang="zh") == (1.0, 1.0)
    # pred 4 chars, gold 2, overlap 2 -> P 1/2, R 1 -> F1 2/3; SQuAD sees one token each -> 0
    r = M.qa_scores({"a": "北京大学"}, {"a": ["北京"]}, normalisation="mlqa", lang="zh")
    assert r["em"] == 0.0 and r["f1"] == pytest.approx(100 * 2 / 3)
    assert M.qa_scores({"a": "北京大学"}, {"a": ["北京"]})["f1"] == 0.0


def test_mlqa_arabic_al():
    # the official pattern replaces every 'ال' by a space -- the article prefix, but also inside words
    assert M.normalize_answer_mlqa("الكتاب الجديد", "ar") == "كتاب جديد"
    assert M.normalize_answer_mlqa("سؤال", "ar") == "سؤ"
    assert M.squad_em_f1("الكتاب", ["كتاب"], normalisation="mlqa", lang="ar") == (1.0, 1.0)


def test_mlqa_vietnamese_and_hindi():
    assert M.normalize_answer_mlqa("Đây là của tôi", "vi") == "đây tôi"
    assert M.normalize_answer_mlqa("the book", "hi") == "the book"  # hi: no article removal at all


def test_mlqa_unknown_language():
    with pytest.raises(ValueError):
        M.normalize_answer_mlqa("x", "fr")


# ---------------------------------------------------------------------------------------------- prf

def test_prf_hand_computed():
    # tp = {2, 4}: P 2/4, R 2/3, F1 = 2*2/(4+3) = 4/7
    r = M.prf({1, 2, 3, 4}, {2, 4, 5})
    assert r["precision"] == pytest.approx(50.0)
    assert r["recall"] == pytest.approx(100 * 2 / 3)
    assert r["f1"] == pytest.approx(100 * 4 / 7)
    pairs = M.prf({("de1", "en1"), ("de2", "en9")}, {("de1", "en1")})
    assert pairs["precision"] == pytest.approx(50.0) and pairs["recall"] == pytest.approx(100.0)


def test_prf_division_by_zero():
    assert M.prf(set(), {1}) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert M.prf({1}, set()) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert M.prf(set(), set()) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


# ---------------------------------------------------------------------------------------------- XTREME

def test_xtreme_score_hand_computed():
    scores = {
        "xnli": {"en": {"accuracy": 90.0}, "de": {"accuracy": 80.0}},                    # 85
        "xquad": {"en": {"f1": 80.0, "em": 70.0}, "de": {"f1": 60.0, "em": 40.0}},       # (75 + 50)/2 = 62.5
        "udpos": {"en": {"f1": 96.0, "accuracy": 10.0}},                                 # 96 (f1, not acc)
        "tatoeba": {"de": {"accuracy": 70.0}},                                           # 70
        "bucc": {"de": {"f1": 90.0, "precision": 1.0, "recall": 2.0}},                   # 90
        "mnli": {"en": {"accuracy": 50.0}},                                              # not XTREME
    }
    r = M.xtreme_score(scores)
    assert r["per_task"] == pytest.approx({"xnli": 85.0, "xquad": 62.5, "udpos": 96.0, "tatoeba": 70.0,
                                           "bucc": 90.0})
    assert r["overall"] == pytest.approx((85 + 62.5 + 96 + 70 + 90) / 5)  # 80.7
    assert r["tasks"] == ["bucc", "tatoeba", "udpos", "xnli", "xquad"]
    assert r["ignored"] == ["mnli"]
    assert r["complete"] is False


def test_xtreme_score_complete_and_errors():
    full = {t: {"en": {"accuracy": 50.0, "f1": 50.0, "em": 50.0}} for t in T.TARGET_TASKS}
    r = M.xtreme_score(full)
    assert r["complete"] is True and r["overall"] == pytest.approx(50.0) and len(r["tasks"]) == 9
    with pytest.raises(ValueError):
        M.xtreme_score({"mlqa": {"en": {"f1": 70.0}}})  # QA needs em too
    with pytest.raises(KeyError):
        M.xtreme_score({"nosuchtask": {"en": {"f1": 1.0}}})


# ---------------------------------------------------------------------------------------------- bootstrap

def test_paired_bootstrap_degenerate_cases():
    a, b = np.zeros(50), np.ones(50)
    r = M.paired_bootstrap(a, b, n=200)
    assert r == pytest.approx({"delta": 1.0, "low": 1.0, "high": 1.0, "p": 0.0})
    same = M.paired_bootstrap(b, b, n=200)
    assert same["delta"] == 0.0 and same["p"] == 1.0  # every resampled delta is 0 <= 0


def test_paired_bootstrap_p_value_analytic():
    # b beats a on example 0 only: a resampled delta is <= 0 exactly when example 0 is never drawn,
    # probability (3/4)^4 = 0.3164; with 20000 resamples the standard error is ~0.0033.
    a, b = np.zeros(4), np.array([1.0, 0.0, 0.0, 0.0])
    r = M.paired_bootstrap(a, b, n=20000, seed=3)
    assert r["delta"] == pytest.approx(0.25)
    assert r["p"] == pytest.approx(0.75 ** 4, abs=0.015)
    assert r["low"] == 0.0 and r["high"] == pytest.approx(0.75)  # deltas take values k/4, P(k>=3) ~ 5.1%
    assert M.paired_bootstrap(a, b, n=500, seed=7) == M.paired_bootstrap(a, b, n=500, seed=7)


def test_paired_bootstrap_errors():
    with pytest.raises(ValueError):
        M.paired_bootstrap(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        M.paired_bootstrap(np.zeros(0), np.zeros(0))


def test_mlqa_language_neutral_variant_for_synthetic_languages():
    from xstilts.train.metrics import normalize_answer_mlqa, qa_scores
    # no article removal (unlike en), punctuation still stripped, whitespace tokens
    assert normalize_answer_mlqa("The Dog, sleeps!", None) == "the dog sleeps"
    assert normalize_answer_mlqa("The Dog, sleeps!", "en") == "dog sleeps"
    r = qa_scores({"q": "the blue car"}, {"q": ["blue car"]}, normalisation="mlqa", lang=None)
    assert r["em"] == 0.0 and round(r["f1"], 4) == 80.0  # P 2/3, R 2/2 -> F1 0.8


# ----------------------------------------------------------------------------------------------------------
# Per-example statistics: summed, they give back the corpus metric exactly (the bootstrap relies on it)
# ----------------------------------------------------------------------------------------------------------

def _sums(stats):
    keys = {k for s in stats for k in s if k not in ("id", "pred")}
    return {k: sum(float(s.get(k) or 0) for s in stats) for k in keys}


@pytest.mark.parametrize("task_name", ["udpos", "panx"])
def test_example_stats_reproduce_seqeval(task_name):
    from xstilts.train import evaluate as E
    task = T.get(task_name)
    labels = (["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"] if task_name == "panx"
              else ["ADJ", "NOUN", "VERB", "DET", "PUNCT"])
    rng = random.Random(5)
    recs, preds = [], []
    for i in range(60):
        n = rng.randint(1, 12)
        recs.append({"id": f"s{i}", "tokens": ["w"] * n, "tags": [rng.choice(labels) for _ in range(n)]})
        preds.append([rng.randrange(len(labels)) for _ in range(n)])
    full = E.score(task, recs, preds, labels)
    stats = E.example_stats(task, recs, preds, labels)
    assert [s["id"] for s in stats] == [r["id"] for r in recs]
    sums = _sums(stats)
    for m in ("f1", "precision", "recall"):
        assert M.metric_from_stats(m, sums) == pytest.approx(full[m], abs=1e-9)


def test_example_stats_reproduce_accuracy_and_qa():
    from xstilts.train import evaluate as E
    rng = random.Random(3)
    recs = [{"id": f"x{i}", "text_a": "a", "text_b": "b", "label": rng.randrange(3)} for i in range(50)]
    preds = [rng.randrange(3) for _ in recs]
    labels = ["entailment", "neutral", "contradiction"]
    stats = E.example_stats(T.get("xnli"), recs, preds, labels)
    assert M.metric_from_stats("accuracy", _sums(stats)) == pytest.approx(
        E.score(T.get("xnli"), recs, preds, labels)["accuracy"])
    assert stats[0]["pred"] == labels[preds[0]]
    ctx = "Die Stadt Berlin liegt an der Spree und hat viele Museen."
    qa = [{"id": f"q{i}", "context": ctx, "question": "Wo?",
           "answers": {"text": ["an der Spree"], "answer_start": [ctx.index("an der Spree")]}} for i in range(4)]
    answers = ["an der Spree", "der Spree", "Berlin", ""]
    for name, lang in (("xquad", "de"), ("mlqa", "de")):
        full = E.score(T.get(name), qa, answers, None, lang)
        sums = _sums(E.example_stats(T.get(name), qa, answers, None, lang))
        assert M.metric_from_stats("f1", sums) == pytest.approx(full["f1"])
        assert M.metric_from_stats("em", sums) == pytest.approx(full["em"])


def test_paired_bootstrap_stats_matches_mean_bootstrap_for_accuracy_and_detects_gain():
    rng = np.random.default_rng(0)
    a = (rng.random(200) < 0.6).astype(int)
    b = a.copy()
    b[:30] = 1  # b fixes some of a's errors: a real gain
    sa = [{"correct": int(x), "n_units": 1} for x in a]
    sb = [{"correct": int(x), "n_units": 1} for x in b]
    r = M.paired_bootstrap_stats("accuracy", sa, sb, n=500, seed=1)
    assert r["delta"] == pytest.approx(100 * (b.mean() - a.mean()))
    assert 0 < r["low"] <= r["delta"] <= r["high"] and r["p"] < 0.05
    same = M.paired_bootstrap_stats("accuracy", sa, sa, n=200, seed=1)
    assert same["delta"] == same["low"] == same["high"] == 0.0
    with pytest.raises(ValueError, match="examples"):
        M.paired_bootstrap_stats("accuracy", sa, sb[:-1])


def test_paired_bootstrap_stats_span_f1_is_corpus_f1_not_mean():
    # two sentences: one with 9 gold spans all found, one with 1 gold span missed -> corpus F1 = 2*9/(9+10)
    st = [{"tp": 9, "n_pred": 9, "n_gold": 9}, {"tp": 0, "n_pred": 0, "n_gold": 1}]
    assert M.metric_from_stats("f1", _sums(st)) == pytest.approx(100 * 18 / 19)
    r = M.paired_bootstrap_stats("f1", st, st, n=50)
    assert r["delta"] == 0.0
    with pytest.raises(ValueError, match="no rule"):
        M.metric_from_stats("bleu", {"tp": 1})


def test_examples_file_roundtrip_and_deterministic(tmp_path):
    from xstilts import records as R
    rows = [{"ttask": "xnli", "lang": "de", "split": "test", "family": "clean", "severity": 0.0, "id": "1",
             "pred": "neutral", "correct": 1, "n_units": 1}]
    p1 = R.write_examples(tmp_path / "a.jsonl.gz", rows)
    p2 = R.write_examples(tmp_path / "b.jsonl.gz", rows)
    assert p1.read_bytes() == p2.read_bytes()
    assert R.read_examples(p1) == rows
    with pytest.raises(ValueError, match="lacks"):
        R.write_examples(tmp_path / "c.jsonl.gz", [{"ttask": "xnli"}])
    assert not (tmp_path / "c.jsonl.gz").exists()
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="bad.jsonl.gz"):
        R.read_examples(tmp_path / "bad.jsonl.gz")
