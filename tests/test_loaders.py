"""Loaders: real fixture files and hub-style rows -> validated records; malformed input -> errors naming file/row.

Expected counts and first-row values were read off the fixture files by hand (head/grep); the real fixtures live
in `<repo root>/../shared/fixtures/real` and the tests that need them skip when that folder is missing.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data import loaders as L
from xstilts.records import RecordError





def _clean(s: str) -> bool:
    """NFC and free of the usual mojibake marks (UTF-8 read as Latin-1/cp1252, replacement chars)."""
    return unicodedata.is_normalized("NFC", s) and "\ufffd" not in s and not re.search("[ÃÂ][\x80-\xbf¡-¿]", s)


def _valid(recs, task):
    spec = T.get(task)
    for i, r in enumerate(recs):
        R.validate(r, spec.format, f"test:{i}", list(spec.labels) or None, spec.n_choices or None)
    R.check_unique_ids(recs, "test")


# ------------------------------------------------------------------------------------------------------ XNLI


def test_xnli_xglue_tsv(real):
    recs = L.xnli_from_xglue_tsv(real / "xnli/de/xglue_test.first100.tsv", "de")
    _valid(recs, "xnli")
    assert len(recs) == 100
    assert recs[0] == {"id": "xnli-de-0",
                       "text_a": "Nun, daran dachte ich nicht einmal, aber ich war so frustriert, dass ich am Ende "
                                 "doch mit ihm redete.",
                       "text_b": "Ich habe nicht wieder mit ihm gesprochen.", "label": 2}
    assert [r["label"] for r in recs[:3]] == [2, 0, 1]  # contradiction, entailment, neutral
    assert Counter(r["label"] for r in recs) == {2: 34, 0: 33, 1: 33}
    # text survives byte-for-byte
    raw = (real / "xnli/de/xglue_test.first100.tsv").read_text(encoding="utf-8").split("\n")
    for r, line in zip(recs, raw):
        assert line.split("\t")[:2] == [r["text_a"], r["text_b"]]
        assert _clean(r["text_a"]) and _clean(r["text_b"])


def test_xnli_hub_rows_facebook_and_xtreme():
    fb = [{"premise": "Er schläft.", "hypothesis": "Er ist wach.", "label": 2},
          {"premise": "Sie läuft.", "hypothesis": "Sie bewegt sich.", "label": 0}]
    recs = L.xnli_from_hub_rows(fb, "de")
    assert [r["label"] for r in recs] == [2, 0] and recs[0]["id"] == "xnli-de-0"
    assert recs[0]["text_a"] == "Er schläft."
    xt = [{"language": "de", "sentence1": "A ä", "sentence2": "B", "gold_label": "neutral"},
          {"language": "zh", "sentence1": "他在睡觉。", "sentence2": "他醒着。", "gold_label": "contradiction"},
          {"language": "zh", "sentence1": "她在跑。", "sentence2": "她在动。", "gold_label": "entailment"}]
    zh = L.xnli_from_xtreme_rows(xt, "zh")
    assert [(r["id"], r["label"]) for r in zh] == [("xnli-zh-0", 2), ("xnli-zh-1", 0)]
    assert zh[0]["text_a"] == "他在睡觉。"
    assert L.xnli_from_xtreme_rows(xt, "de")[0]["label"] == 1
    with pytest.raises(RecordError, match="no rows with language 'fr'"):
        L.xnli_from_xtreme_rows(xt, "fr")
    # XNLI-MT spelling
    assert L.xnli_from_xtreme_rows([dict(xt[0], gold_label="contradictory")], "de")[0]["label"] == 2


def test_xnli_hub_rows_errors():
    with pytest.raises(RecordError, match=r"facebook/xnli:row 1: label 3 out of range 0\.\.2"):
        L.xnli_from_hub_rows([{"premise": "a", "hypothesis": "b", "label": 0},
                              {"premise": "a", "hypothesis": "b", "label": 3}], "de")
    with pytest.raises(RecordError, match=r"row 0: missing field 'hypothesis'"):
        L.xnli_from_hub_rows([{"premise": "a", "label": 0}], "de")
    with pytest.raises(RecordError, match="all_languages"):
        L.xnli_from_hub_rows([{"premise": {"de": "a"}, "hypothesis": {}, "label": 0}], "de")
    with pytest.raises(RecordError, match=r"google/xtreme:XNLI:row 0: unknown label 'maybe'"):
        L.xnli_from_xtreme_rows([{"language": "de", "sentence1": "a", "sentence2": "b", "gold_label": "maybe"}], "de")


# ------------------------------------------------------------------------------------------------------ PAWS-X


def test_pawsx_tsv(real):
    recs = L.pawsx_from_tsv(real / "pawsx/de/dev.first100.tsv", "de")
    _valid(recs, "pawsx")
    assert len(recs) == 100
    assert recs[0]["id"] == "4" and recs[0]["label"] == 1
    assert recs[0]["text_a"].startswith("Durch die Zusammenlegung des Four Rivers Council")
    assert recs[1]["text_b"] == "Kathy und ihr Ehemann Peter Dean (Pete Beale) sind finanziell gut aufgestellt."
    assert Counter(r["label"] for r in recs) == {0: 57, 1: 43}
    assert all(_clean(r["text_a"]) and _clean(r["text_b"]) for r in recs)


def test_pawsx_quote_none(tmp_path):
    # a stray quote must not swallow the next row (the google/xtreme parser loses such rows)
    p = tmp_path / "dev.tsv"
    p.write_text('id\tsentence1\tsentence2\tlabel\n1\t"Er sagte\tEr sagte.\t1\n2\tB\tC\t0\n', encoding="utf-8")
    recs = L.pawsx_from_tsv(p)
    assert [r["id"] for r in recs] == ["1", "2"] and recs[0]["text_a"] == '"Er sagte'


def test_pawsx_hub_rows():
    xt = [{"sentence1": "a", "sentence2": "b", "label": "1"}, {"sentence1": "c", "sentence2": "d", "label": "0"}]
    recs = L.pawsx_from_hub_rows(xt, "de", source="google/xtreme:PAWS-X.de")
    assert [(r["id"], r["label"]) for r in recs] == [("pawsx-de-0", 1), ("pawsx-de-1", 0)]
    gr = [{"id": 7, "sentence1": "a", "sentence2": "b", "label": 1}]
    assert L.pawsx_from_hub_rows(gr, "de")[0] == {"id": "7", "text_a": "a", "text_b": "b", "label": 1}
    with pytest.raises(RecordError, match=r"paws-x:row 0: .*no gold label"):
        L.pawsx_from_hub_rows([{"id": 1, "sentence1": "a", "sentence2": "b", "label": -1}], "de")
    with pytest.raises(RecordError, match=r"row 0: unknown label '2'"):
        L.pawsx_from_hub_rows([{"sentence1": "a", "sentence2": "b", "label": "2"}], "de")


# ------------------------------------------------------------------------------------------------------ UD POS


@pytest.mark.parametrize("name,n_tokens", [("en_ewt-ud-test.first100.conllu", 2202),
                                           ("zh_gsd-ud-test.first100.conllu", 2362),
                                           ("ar_pud-ud-test.first100.conllu", 2286)])
def test_udpos_conllu(real, name, n_tokens):
    path = real / "udpos" / name
    recs = L.udpos_from_conllu(path)
    _valid(recs, "udpos")
    assert len(recs) == 100
    # n_tokens = number of plain word lines (`grep -cP '^\d+\t'`): ranges and empty nodes are skipped
    assert sum(len(r["tokens"]) for r in recs) == n_tokens
    # the words concatenate to the sentence's `# text` (spaces aside), in every script
    texts = [l[len("# text = "):] for l in path.read_text(encoding="utf-8").split("\n") if l.startswith("# text = ")]
    assert len(texts) == 100
    for r, t in zip(recs, texts):
        assert "".join(r["tokens"]) == re.sub(r"\s+", "", t)
        assert all(_clean(tok) for tok in r["tokens"])


def test_udpos_conllu_first_rows(real):
    en = L.udpos_from_conllu(real / "udpos/en_ewt-ud-test.first100.conllu")
    assert en[0]["id"] == "weblog-blogspot.com_zentelligence_20040423000200_ENG_20040423_000200-0001"
    assert en[0]["tokens"] == ["What", "if", "Google", "Morphed", "Into", "GoogleOS", "?"]
    assert en[0]["tags"] == ["PRON", "SCONJ", "PROPN", "VERB", "ADP", "PROPN", "PUNCT"]
    # multi-word token `6-7 Google's` is dropped, its syntactic words kept
    s = next(r for r in en if r["id"].endswith("20050511_222700-0002"))
    assert s["tokens"][5:8] == ["Google", "'s", "rush"] and "Google's" not in s["tokens"]
    assert s["tags"][5:7] == ["PROPN", "PART"]
    zh = L.udpos_from_conllu(real / "udpos/zh_gsd-ud-test.first100.conllu")
    assert "".join(zh[0]["tokens"]) == "然而，這樣的處理也衍生了一些問題。"
    assert zh[0]["tokens"][:3] == ["然而", "，", "這樣"] and zh[0]["tags"][:3] == ["SCONJ", "PUNCT", "PRON"]
    ar = L.udpos_from_conllu(real / "udpos/ar_pud-ud-test.first100.conllu")
    assert ar[0]["id"] == "n01001011"
    assert ar[0]["tokens"][:3] == ["كتبت", "كوري", "شولمان"] and ar[0]["tags"][:3] == ["VERB", "PROPN", "PROPN"]


def test_udpos_conllu_empty_nodes_and_errors(tmp_path):
    p = tmp_path / "x.conllu"
    p.write_text("# sent_id = s1\n1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_\n1\tde\tde\tADP\t_\t_\t0\troot\t_\t_\n"
                 "2\tle\tle\tDET\t_\t_\t1\tdet\t_\t_\n2.1\tx\t_\t_\t_\t_\t_\t_\t1:dep\t_\n"
                 "3\tchat\tchat\tNOUN\t_\t_\t1\tobj\t_\t_", encoding="utf-8")  # no final blank line
    recs = L.udpos_from_conllu(p)
    assert recs == [{"id": "s1", "tokens": ["de", "le", "chat"], "tags": ["ADP", "DET", "NOUN"]}]
    p.write_text("1\tde\tde\tADP\t_\t_\t0\troot\t_\t_\n2\tle\tle\tXYZ\t_\t_\t1\tdet\t_\t_\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:2: UPOS 'XYZ'"):
        L.udpos_from_conllu(p)
    p.write_text("1\tde\tde\tADP\t_\t_\t0\troot\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:1: CoNLL-U word line needs 10"):
        L.udpos_from_conllu(p)


def test_udpos_hub_rows():
    rows = [{"tokens": ["Das", "ist", "schön", "."], "pos_tags": [10, 3, 0, 12]}]
    assert L.udpos_from_hub_rows(rows, "de")[0] == {"id": "udpos-de-0", "tokens": ["Das", "ist", "schön", "."],
                                                    "tags": ["PRON", "AUX", "ADJ", "PUNCT"]}
    np = pytest.importorskip("numpy")  # pandas.read_parquet gives numpy arrays and integers
    arr = [{"tokens": np.array(["Das", "ist"], dtype=object), "pos_tags": np.array([10, 3])}]
    assert L.udpos_from_hub_rows(arr, "de")[0]["tags"] == ["PRON", "AUX"]
    with pytest.raises(RecordError, match=r"udpos:row 1: 2 tokens but 1 tags"):
        L.udpos_from_hub_rows(rows + [{"tokens": ["a", "b"], "pos_tags": [0]}], "de")
    with pytest.raises(RecordError, match=r"row 0: pos_tags\[1\] = 17 out of range 0\.\.16"):
        L.udpos_from_hub_rows([{"tokens": ["a", "b"], "pos_tags": [0, 17]}], "de")


# ------------------------------------------------------------------------------------------------------ PAN-X


def test_panx_truth_csv(real):
    recs = L.panx_from_truth_csv(real / "panx/af/test.first100sent.truth.csv")
    _valid(recs, "panx")
    assert len(recs) == 100 and sum(len(r["tokens"]) for r in recs) == 1089  # 1090 lines - header
    assert recs[0] == {"id": "panx-af-0",
                       "tokens": ["Later", "sluit", "sy", "aan", "by", "die", "redaksie", "van", "Rooi", "Rose",
                                  "''", "."],
                       "tags": ["O"] * 8 + ["B-ORG", "I-ORG", "O", "O"]}
    assert recs[1]["tokens"][5] == "Barcelona" and recs[1]["tags"][5] == "B-LOC"
    # a quoted comma ("af:,") is one token
    assert recs[3]["tokens"][10] == ","
    assert not any(t.startswith("af:") for r in recs for t in r["tokens"])


def test_panx_hub_rows():
    rows = [{"tokens": ["Barcelona", "is", "mooi"], "ner_tags": [5, 0, 0], "langs": ["af"] * 3}]
    assert L.panx_from_hub_rows(rows, "af")[0]["tags"] == ["B-LOC", "O", "O"]
    raw = [{"tokens": ["af:Rooi", "af:Rose"], "ner_tags": [3, 4]}]
    assert L.panx_from_hub_rows(raw, "af")[0]["tokens"] == ["Rooi", "Rose"]
    assert L.strip_lang_prefix(["Re:", "http://x"]) == ["Re:", "http://x"]
    with pytest.raises(RecordError, match=r"PAN-X:row 0: ner_tags\[0\] = 'B-MISC'"):
        L.panx_from_hub_rows([{"tokens": ["a"], "ner_tags": ["B-MISC"]}], "af")
    with pytest.raises(RecordError, match=r"row 0: 1 tokens but 2 tags"):
        L.panx_from_hub_rows([{"tokens": ["a"], "ner_tags": [0, 0]}], "af")


# ------------------------------------------------------------------------------------------------------ span QA


def test_xquad_json(real):
    de = L.squad_from_json(real / "xquad/xquad.de.json")
    zh = L.squad_from_json(real / "xquad/xquad.zh.json")
    for recs in (de, zh):
        _valid(recs, "xquad")
        assert len(recs) == 30
    assert de[0]["id"] == zh[0]["id"] == "56beb4343aeaaa14008c925b"
    assert de[0]["question"] == "Wie viele Punkte gab die Verteidigung der Panthers ab?"
    assert de[0]["answers"] == {"text": ["308"], "answer_start": [38]}
    assert zh[0]["question"] == "黑豹队的防守丢了多少分？"
    assert zh[0]["answers"] == {"text": ["308"], "answer_start": [10]}
    assert zh[1]["answers"] == {"text": ["136 次"], "answer_start": [162]}
    assert all(_clean(r["context"]) for r in de + zh)


def test_mlqa_jsonl(real):
    stats = {}
    recs = L.qa_from_rows(L.jsonl_rows(real / "mlqa/de/mlqa.de.de.dev.first50.jsonl"), stats=stats)
    _valid(recs, "mlqa")
    assert len(recs) == 50 and stats == {"answers": 50}  # no offset needed repair
    assert recs[0]["id"] == "b6fc947411e98316fd0790477c4dc3bd97f4df4c"
    assert recs[0]["answers"] == {"text": ["überwiegend antibritisch und prorussisch"], "answer_start": [1591]}
    assert recs[0]["context"].startswith("Das britische Parlament genehmigte Königin Victoria")


def test_tydiqa_language_split_and_english_guard(real):
    recs = L.squad_from_json(real / "tydiqa/goldp_hf_dummy/tydiqa-goldp-v1.1-dev.json")
    _valid(recs, "tydiqa")
    assert len(recs) == 1 and recs[0]["id"] == "arabic-2387335860751143628-1"
    assert recs[0]["answers"] == {"text": ["بطولتين"], "answer_start": [394]}
    assert _clean(recs[0]["context"]) and _clean(recs[0]["question"])
    assert L.tydiqa_language(recs[0]["id"]) == "ar"
    assert L.tydiqa_split(recs, "ar") == recs and L.tydiqa_split(recs, "arabic") == recs
    assert L.tydiqa_split(recs, "en") == []
    with pytest.raises(RecordError, match=r"train:row 0: non-English TyDiQA id 'arabic-2387335860751143628-1'"):
        L.check_english_only(recs, "train")
    en = [dict(recs[0], id="english-1-1"), dict(recs[0], id="english-2-1")]
    L.check_english_only(en, "train")  # passes
    with pytest.raises(RecordError, match=r"row 2: non-English .*'finnish-9-1'.*1 such rows"):
        L.check_english_only(en + [dict(recs[0], id="finnish-9-1")], "train")
    with pytest.raises(RecordError, match="unknown language prefix 'klingon'"):
        L.tydiqa_language("klingon-1-1")


def test_qa_offset_repair_and_absent_answer(real):
    raw = json.loads((real / "xquad/xquad.de.json").read_text(encoding="utf-8"))
    para = raw["data"][0]["paragraphs"][0]
    qa = para["qas"][0]
    # as google/xtreme does: context stripped after a leading blank, answer_start not adjusted
    ctx = "  " + para["context"]
    row = {"id": qa["id"], "context": ctx.strip(), "question": qa["question"],
           "answers": {"text": ["308"], "answer_start": [38 + 2]}}
    stats = {}
    rec = L.qa_from_rows([row], "google/xtreme:XQuAD.de", stats=stats)[0]
    assert rec["answers"] == {"text": ["308"], "answer_start": [38]} and stats["repaired_offset"] == 1
    # nearest occurrence wins when the answer occurs twice
    rec = L.qa_from_rows([{"id": "q", "context": "ab 12 cd 12 ef", "question": "?",
                           "answers": {"text": ["12"], "answer_start": [10]}}], "t")[0]
    assert rec["answers"]["answer_start"] == [9]
    # answer text with stray whitespace
    rec = L.qa_from_rows([{"id": "q", "context": "Die Antwort ist Köln.", "question": "?",
                           "answers": [{"text": "Köln ", "answer_start": 16}]}], "t")[0]
    assert rec["answers"] == {"text": ["Köln"], "answer_start": [16]}
    absent = dict(row, id="gone-1", answers={"text": ["Bratwurst"], "answer_start": [5]})
    with pytest.raises(RecordError, match=r"XQuAD.de:row 0 \(id gone-1\): answer 'Bratwurst' of question id "
                                          r"'gone-1' does not occur"):
        L.qa_from_rows([absent], "google/xtreme:XQuAD.de")
    with pytest.raises(RecordError, match="has no answer"):
        L.qa_from_rows([dict(row, answers={"text": [], "answer_start": []})], "t")


def test_qa_json_bad_offset_file(tmp_path):
    p = tmp_path / "squad.json"
    p.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": "Berlin ist groß.", "qas": [
        {"id": "ok", "question": "Wo?", "answers": [{"text": "Berlin", "answer_start": 3}]},
        {"id": "bad-7", "question": "Was?", "answers": [{"text": "München", "answer_start": 0}]}]}]}]}),
        encoding="utf-8")
    with pytest.raises(RecordError, match=r"squad\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\] \(id bad-7\)"):
        L.squad_from_json(p)


# ------------------------------------------------------------------------------------------------------ Tatoeba


@pytest.mark.parametrize("lang,first_src,first_tgt", [
    ("deu", "Maria sagte, sie wisse nicht, wo Tom sei.", "Mary said she didn't know where Tom was."),
    ("cmn", "我們試試看！", "Let's have a look."),
    ("ara", "كان سامي يربح الكثير من المال.", "Sami earned good money.")])
def test_tatoeba_files(real, lang, first_src, first_tgt):
    src, tgt = real / f"tatoeba/tatoeba.{lang}-eng.{lang}", real / f"tatoeba/tatoeba.{lang}-eng.eng"
    recs = L.tatoeba_from_files(src, tgt)
    _valid(recs, "tatoeba")
    assert len(recs) == 200
    assert recs[0] == {"id": f"tatoeba-{lang}-0", "source": first_src, "target": first_tgt}
    lines = src.read_text(encoding="utf-8").split("\n")
    assert [r["source"] for r in recs] == lines[:200]
    assert all(_clean(r["source"]) for r in recs)
    assert L.TATOEBA_ISO3[lang] in ("de", "zh", "ar")


def test_tatoeba_hub_rows():
    rows = [{"source_sentence": "我們試試看！\n", "target_sentence": "Let's have a look.\n",
             "source_lang": "e9b1c3f2d-extracted/tatoeba.cmn-eng", "target_lang": "eng"}]
    recs = L.tatoeba_from_hub_rows(rows, "tatoeba.cmn")
    assert recs == [{"id": "tatoeba-cmn-0", "source": "我們試試看！", "target": "Let's have a look."}]
    with pytest.raises(RecordError, match=r"google/xtreme:tatoeba.cmn:row 0: field 'source' is empty"):
        L.tatoeba_from_hub_rows([dict(rows[0], source_sentence="\n")], "tatoeba.cmn")


def test_tatoeba_misaligned(tmp_path):
    (tmp_path / "a.deu").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "a.eng").write_text("a\n", encoding="utf-8")
    with pytest.raises(RecordError, match="not aligned"):
        L.tatoeba_from_files(tmp_path / "a.deu", tmp_path / "a.eng")


# ------------------------------------------------------------------------------------------------------ BUCC


def _bucc_files(d: Path):
    (d / "de-en.sample.de").write_text("de-000001\tDer Hund schläft.\nde-000002\tEs regnet.\n", encoding="utf-8")
    (d / "de-en.sample.en").write_text("en-000001\tIt is raining.\nen-000002\tThe cat eats.\n"
                                       "en-000003\tThe dog sleeps.\n", encoding="utf-8")
    (d / "de-en.sample.gold").write_text("de-000001\ten-000003\nde-000002\ten-000001\n", encoding="utf-8")


def test_bucc_raw(tmp_path):
    _bucc_files(tmp_path)
    sents, gold = L.bucc_from_raw(tmp_path, "de", "sample")
    assert len(sents) == 5 and Counter(s["side"] for s in sents) == {"source": 2, "target": 3}
    assert sents[0] == {"id": "de-000001", "side": "source", "text": "Der Hund schläft."}
    assert gold == [{"source_id": "de-000001", "target_id": "en-000003"},
                    {"source_id": "de-000002", "target_id": "en-000001"}]
    assert L.BUCC_SPLITS["sample"] == "dev"
    (tmp_path / "de-en.sample.gold").write_text("de-000001\ten-000009\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"de-en\.sample\.gold:1: target_id 'en-000009' is not a sentence"):
        L.bucc_from_raw(tmp_path, "de", "sample")
    (tmp_path / "de-en.sample.gold").unlink()
    with pytest.raises(FileNotFoundError, match="no gold file"):
        L.bucc_from_raw(tmp_path, "de", "sample")
    assert L.bucc_from_raw(tmp_path, "de", "sample", require_gold=False)[1] == []


def test_bucc_hub_rows_rejected():
    rows = [{"source_sentence": "Der Hund schläft.", "target_sentence": "The dog sleeps.",
             "source_lang": "de-000001", "target_lang": "en-000003"}]
    with pytest.raises(RecordError, match=r"bucc18.*only the gold sentence pairs.*candidate pools.*bucc_from_raw"):
        L.bucc_from_hub_rows(rows)


# ------------------------------------------------------------------------------------------------------ intermediate


def test_anli_csv_and_hub_rows(real):
    recs = L.anli_from_csv(real / "intermediate/anli/ANLI_analysis_r1_dev.first50.csv")
    _valid(recs, "anli_plus")
    assert len(recs) == 50
    assert recs[0]["id"] == "bf628cf5-6948-4595-a6d0-daf99beb47b9" and recs[0]["label"] == 2  # gold 'c'
    assert recs[0]["text_b"] == "Form and meaning are the only aspects of language linguistics is concerned with."
    assert 'Pāṇini, who wrote a formal description of the Sanskrit language in his "Aṣṭādhyāyī ".' in recs[0]["text_a"]
    assert Counter(r["label"] for r in recs) == {2: 19, 1: 17, 0: 14}
    hub = [{"uid": "u1", "premise": "p", "hypothesis": "h", "label": 1, "reason": ""}]
    assert L.nli_from_hub_rows(hub, "facebook/anli:train_r1", task="anli_plus", id_field="uid") == (
        [{"id": "u1", "text_a": "p", "text_b": "h", "label": 1}], 0)


def test_snli_mnli_unlabelled_filtered(tmp_path):
    snli = [{"premise": "p0", "hypothesis": "h0", "label": 0}, {"premise": "p1", "hypothesis": "h1", "label": -1},
            {"premise": "p2", "hypothesis": "h2", "label": 2}]
    recs, dropped = L.nli_from_hub_rows(snli, "stanfordnlp/snli:train")
    assert dropped == 1 and [(r["id"], r["label"]) for r in recs] == [("mnli-0", 0), ("mnli-2", 2)]
    # raw SNLI 1.0 jsonl: gold_label "-"
    p = tmp_path / "snli_1.0_dev.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"sentence1": "A man.", "sentence2": "A person.", "gold_label": "entailment", "pairID": "1e"},
        {"sentence1": "A man.", "sentence2": "A woman.", "gold_label": "-", "pairID": "1n"},
        {"sentence1": "A man.", "sentence2": "Nobody.", "gold_label": "contradiction", "pairID": "1c"}]) + "\n",
        encoding="utf-8")
    recs, dropped = L.nli_from_jsonl(p)
    assert dropped == 1 and [(r["id"], r["label"]) for r in recs] == [("1e", 0), ("1c", 2)]
    # without dropping, -1 is an error naming the row
    with pytest.raises(RecordError, match=r"snli:row 1: field 'label' is -1: no gold label"):
        L.classification_from_hub_rows(snli, "mnli", "snli", "premise", "hypothesis")


def test_mnli_glue_tsv_and_jiant(real):
    d = real / "intermediate/mnli"
    counts = {}
    for name in ("train", "dev_matched", "dev_mismatched"):
        recs, dropped = L.mnli_from_glue_tsv(d / f"hf_dummy/{name}.tsv")
        _valid(recs, "mnli")
        counts[name] = (len(recs), dropped)
    assert counts == {"train": (3, 0), "dev_matched": (2, 0), "dev_mismatched": (2, 0)}
    recs, _ = L.mnli_from_glue_tsv(d / "hf_dummy/train.tsv")
    assert recs[0] == {"id": "31193n",
                       "text_a": "Conceptually cream skimming has two basic dimensions - product and geography.",
                       "text_b": "Product and geography are what make cream skimming work. ", "label": 1}
    tr, dropped = L.mnli_from_jiant_jsonl(d / "jiant_fixture/mnli_train.jsonl")
    assert len(tr) == 5 and dropped == 0 and tr[0]["text_a"] == recs[0]["text_a"] and tr[0]["label"] == 1
    va, _ = L.nli_from_jsonl(d / "jiant_fixture/mnli_val.jsonl")
    assert [r["label"] for r in va] == [1, 2, 0, 2, 2]
    with pytest.raises(RecordError, match=r"mnli_test\.jsonl:1: missing field 'label'"):
        L.nli_from_jsonl(d / "jiant_fixture/mnli_test.jsonl")


def test_qqp_sst2(real):
    tr = L.qqp_from_tsv(real / "intermediate/qqp/hf_dummy/train.tsv")
    dev = L.qqp_from_tsv(real / "intermediate/qqp/hf_dummy/dev.tsv")
    _valid(tr + dev, "qqp")
    assert [(r["id"], r["label"]) for r in tr] == [("133273", 0), ("402555", 1), ("360472", 0)]
    assert dev[0]["text_b"] == "Why are hispanics so beautiful?" and len(dev) == 2
    sst = L.sst2_from_tsv(real / "intermediate/sst2/glue_dev.first100.tsv")
    _valid(sst, "sst2")
    assert len(sst) == 100
    assert sst[0] == {"id": "sst2-glue_dev-0", "text_a": "it 's a charming and often affecting journey . ",
                      "text_b": None, "label": 1}
    assert sst[1]["label"] == 0


def test_squad_v2(real):
    stats = {}
    recs = L.squad_v2_from_json(real / "intermediate/squad_v2/dev-v2.0.first40q.json", stats=stats)
    _valid(recs, "squad_v2")
    assert len(recs) == 40
    assert sum(not r["answers"]["text"] for r in recs) == 23  # is_impossible: plausible_answers ignored
    assert recs[0]["id"] == "56ddde6b9a695914005b9628"
    assert recs[0]["answers"] == {"text": ["France"] * 4, "answer_start": [159] * 4}
    assert recs[5]["answers"] == {"text": [], "answer_start": []}
    assert stats == {"answers": 56}
    with pytest.raises(RecordError, match="has no answer"):
        L.squad_from_json(real / "intermediate/squad_v2/dev-v2.0.first40q.json")  # v1 mode


def test_hellaswag(real):
    recs = L.hellaswag_from_rows(L.jsonl_rows(real / "intermediate/hellaswag/hf_dummy/hellaswag_val.jsonl"))
    _valid(recs, "hellaswag")
    assert recs[0] == {"id": "24", "context": "A man is sitting on a roof.", "question": "he",
                       "choices": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                                   "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
                       "label": 3}
    assert len(recs) == 2 and recs[1]["label"] == 3
    # hub rows: label is a string
    row = json.loads((real / "intermediate/hellaswag/hf_dummy/hellaswag_val.jsonl").read_text().split("\n")[0])
    assert L.hellaswag_from_rows([dict(row, label="1")])[0]["label"] == 1
    with pytest.raises(RecordError, match=r"Rowan/hellaswag:row 0: .*no gold label"):
        L.hellaswag_from_rows([dict(row, label="")])
    with pytest.raises(RecordError, match=r"row 0: expected 4 choices, got 3"):
        L.hellaswag_from_rows([dict(row, endings=row["endings"][:3], label="0")])


def test_cosmosqa(real):
    recs = L.cosmosqa_from_rows(L.csv_rows(real / "intermediate/cosmosqa/valid.first50.csv", L.COSMOSQA_COLUMNS))
    _valid(recs, "cosmosqa")
    assert len(recs) == 50
    assert recs[0]["question"] == "Why is this person asking about divorce ?"
    assert recs[0]["label"] == 1 and recs[0]["choices"][1] == "He wants to get married to a different person ."
    assert Counter(r["label"] for r in recs) == {0: 16, 3: 15, 1: 11, 2: 8}
    hub = [{"id": "x", "context": "c", "question": "q", "answer0": "a", "answer1": "b", "answer2": "c",
            "answer3": "d", "label": 3}]
    assert L.cosmosqa_from_rows(hub)[0]["label"] == 3
    with pytest.raises(RecordError, match=r"cosmos_qa:row 0: .*no gold label"):
        L.cosmosqa_from_rows([dict(hub[0], label=-1)])


def test_commonsenseqa(real):
    recs = L.commonsenseqa_from_rows(L.jsonl_rows(real / "intermediate/commonsenseqa/dev_rand_split.first50.jsonl"))
    _valid(recs, "commonsenseqa")
    assert len(recs) == 50
    assert recs[0] == {"id": "1afa02df02c908a558b4036e80242fac",
                       "context": "A revolving door is convenient for two direction travel, but it also serves as "
                                  "a security measure at a what?",
                       "question": "", "choices": ["bank", "library", "department store", "mall", "new york"],
                       "label": 0}
    assert recs[2]["label"] == 1  # answerKey B
    nested = {"answerKey": "C", "id": "n1", "question": {"question_concept": "x", "stem": "Where?", "choices": [
        {"label": l, "text": t} for l, t in zip("ABCDE", ["a", "b", "c", "d", "e"])]}}
    assert L.commonsenseqa_from_rows([nested])[0] == {"id": "n1", "context": "Where?", "question": "",
                                                      "choices": ["a", "b", "c", "d", "e"], "label": 2}
    with pytest.raises(RecordError, match=r"row 0: answerKey 'F' is not one of the choice labels"):
        L.commonsenseqa_from_rows([dict(nested, answerKey="F")])


# ------------------------------------------------------------------------------------------------------ malformed files


def test_invalid_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_bytes("Prämisse\tHypothese\tneutral\n".encode("utf-8") + "Prämisse\tx\tneutral\n".encode("latin-1"))
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:2: not valid UTF-8"):
        L.xnli_from_xglue_tsv(p, "de")


def test_truncated_jsonl_names_file_and_line(real, tmp_path):
    src = (real / "mlqa/de/mlqa.de.de.dev.first50.jsonl").read_text(encoding="utf-8").split("\n")
    p = tmp_path / "mlqa.jsonl"
    p.write_text("\n".join(src[:3]) + "\n" + src[3][:200], encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:4: invalid JSON .*truncated"):
        L.qa_from_rows(L.jsonl_rows(p))
    q = tmp_path / "squad.json"
    q.write_text((real / "xquad/xquad.de.json").read_text(encoding="utf-8")[:3000], encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(q))}:\d+: invalid JSON"):
        L.squad_from_json(q)


def test_malformed_rows_name_file_and_row(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("a\tb\tneutral\nc\td\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:2: expected 3 tab-separated fields, got 2"):
        L.xnli_from_xglue_tsv(p, "de")
    p.write_text("a\tb\tneutral\nc\t\tneutral\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:2: field 'text_b' is empty"):
        L.xnli_from_xglue_tsv(p, "de")
    p.write_text("id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n2\ta\tb\t3\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:3: unknown label '3'"):
        L.pawsx_from_tsv(p)
    p.write_text("id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n1\tc\td\t0\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(p))}:3: duplicate id '1' \(first seen at .*:2\)"):
        L.pawsx_from_tsv(p)
    c = tmp_path / "anli.csv"
    c.write_text('context,statement,gold_label,uid\n"p, with comma",h,e,u1\n"p2",h2,x,u2\n', encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(c))}:3: unknown label 'x' in field 'gold_label'"):
        L.anli_from_csv(c)
    c.write_text("context,statement,uid\np,h,u1\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(c))}:1: CSV header lacks column\(s\) \['gold_label'\]"):
        L.anli_from_csv(c)
    t = tmp_path / "truth.csv"
    t.write_text("sent_idx,word_idx,word,word_id,truth\n0,0,af:a,1,O\n0,2,af:b,2,O\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(t))}:3: word_idx 2 in sentence 0, expected 1"):
        L.panx_from_truth_csv(t)
    j = tmp_path / "csqa.jsonl"
    j.write_text(json.dumps({"id": "1", "question": "q", "choices": {"label": list("ABCDE"), "text": list("abcde")}})
                 + "\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{re.escape(str(j))}:1: missing field 'answerKey'"):
        L.commonsenseqa_from_rows(L.jsonl_rows(j))


# ------------------------------------------------------------------------------------------------------ write_task


def test_write_task_layout_and_meta(real, tmp_path):
    out = tmp_path / "resources/data/hub"
    de = L.xnli_from_xglue_tsv(real / "xnli/de/xglue_test.first100.tsv", "de")
    en = L.xnli_from_hub_rows([{"premise": "A man sleeps.", "hypothesis": "He is awake.", "label": 2}], "en")
    d = L.write_task(out, "xnli", {"de": {"test": de[50:], "dev": de[:50]}, "en": {"train": en}}, "hub",
                     {"repo": "facebook/xnli"})
    assert d == out / "task~xnli"
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    assert meta == {"task": "xnli", "format": "classification", "labels": ["entailment", "neutral", "contradiction"],
                    "languages": ["en", "de"], "splits": {"en": ["train"], "de": ["dev", "test"]},
                    "counts": {"en": {"train": 1}, "de": {"dev": 50, "test": 50}}, "source": "hub",
                    "provenance": {"repo": "facebook/xnli"}}
    recs, m = R.load_split(out, "xnli", "de", "dev")
    assert recs == de[:50] and m == meta
    assert sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()) == [
        "lang~de/dev.jsonl", "lang~de/test.jsonl", "lang~en/train.jsonl", "meta.json"]
    # non-ASCII text stored as UTF-8, not \u escapes
    umlaut = next(r for r in de[:50] if "ä" in r["text_a"] + r["text_b"])
    assert json.dumps(umlaut, ensure_ascii=False) in (d / "lang~de/dev.jsonl").read_text(encoding="utf-8")
    assert (d / "meta.json").stat().st_mode & 0o044 == 0o044  # readable by group/others
    # rewriting replaces the folder: no stale language left behind, no temp folders
    L.write_task(out, "xnli", {"de": {"test": de}}, "hub", {})
    assert not (d / "lang~en").exists() and R.read_meta(d)["languages"] == ["de"]
    assert [p.name for p in out.iterdir()] == ["task~xnli"]


def test_write_task_is_atomic_on_bad_record(tmp_path):
    out = tmp_path / "hub"
    good = [{"id": "a", "text_a": "x", "text_b": "y", "label": 0}]
    L.write_task(out, "xnli", {"de": {"dev": good}}, "hub", {})
    before = (out / "task~xnli/meta.json").read_text()
    bad = good + [{"id": "b", "text_a": "x", "text_b": "y", "label": 5}]
    with pytest.raises(RecordError, match=r"task~xnli/lang~fr/dev\.jsonl:2: label 5 out of range"):
        L.write_task(out, "xnli", {"de": {"dev": good}, "fr": {"dev": bad}}, "hub", {})
    assert (out / "task~xnli/meta.json").read_text() == before and not (out / "task~xnli/lang~fr").exists()
    assert [p.name for p in out.iterdir()] == ["task~xnli"]
    with pytest.raises(RecordError, match="duplicate id 'a'"):
        L.write_task(out, "xnli", {"de": {"dev": good + good}}, "hub", {})
    with pytest.raises(ValueError, match="unknown split"):
        L.write_task(out, "xnli", {"de": {"validation": good}}, "hub", {})
    with pytest.raises(ValueError, match="bad language code"):
        L.write_task(out, "xnli", {"../x": {"dev": good}}, "hub", {})


def test_write_task_bucc_and_tagging(tmp_path):
    _bucc_files(tmp_path)
    sents, gold = L.bucc_from_raw(tmp_path, "de", "sample")
    out = tmp_path / "micro"
    d = L.write_task(out, "bucc", {"de": {L.BUCC_SPLITS["sample"]: (sents, gold)}}, "micro", {"seed": 1})
    assert R.read_jsonl(d / "lang~de/dev.jsonl", "bucc") == sents
    assert R.read_jsonl(d / "lang~de/dev.gold.jsonl") == gold
    assert R.read_meta(d)["counts"] == {"de": {"dev": 5}}
    bad_gold = [{"source_id": "de-000001", "target_id": "de-000002"}]
    with pytest.raises(RecordError, match=r"dev\.gold\.jsonl:1: target_id 'de-000002' is not a sentence"):
        L.write_task(out, "bucc", {"de": {"dev": (sents, bad_gold)}}, "micro", {})
    rows = [{"tokens": ["Das", "ist", "schön"], "pos_tags": [10, 3, 0]}]
    d = L.write_task(out, "udpos", {"de": {"test": L.udpos_from_hub_rows(rows, "de")}}, "micro", {})
    assert R.load_split(out, "udpos", "de", "test")[0][0]["tokens"] == ["Das", "ist", "schön"]
    assert R.read_meta(d)["labels"] == T.UPOS
