"""xstilts.data.translate: the MT control's translation library (no network: a tiny local seq2seq checkpoint)."""
import gzip
import json

import pytest

from xstilts import records as R
from xstilts.data import loaders as L
from xstilts.data import translate as X

import tiny_seq2seq

QUIET = {"log": lambda *a, **k: None}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, real):
    return str(tiny_seq2seq.build(tmp_path_factory.mktemp("tiny_mt"), real))


def hf_cfg(model, **kw):
    return {"engine": "hf", "model": model, "lang_codes": "m2m100", "num_beams": 1, "max_new_tokens": 8,
            "batch_size": 4, "progress": False, **kw}


@pytest.fixture(scope="session")
def tr_de(tiny_model):
    return X.make_translator(hf_cfg(tiny_model), "de", **QUIET)


@pytest.fixture(scope="session")
def sentences(real):
    lines = (real / "tatoeba" / "tatoeba.deu-eng.eng").read_text(encoding="utf-8").splitlines()
    return [s.strip() for s in lines[:24]]


@pytest.fixture(scope="session")
def sst2(real):
    return L.sst2_from_tsv(real / "intermediate" / "sst2" / "glue_dev.first100.tsv")[:10]


class Fake(X.Translator):
    """A deterministic stand-in for an MT system: a function of each text; records every call."""

    def __init__(self, fn, name="fake"):
        self.fn, self.calls = fn, []
        self.info = {"engine": name}

    def translate(self, texts):
        self.calls.append(list(texts))
        return [self.fn(t) for t in texts]


def qa(ctx, answers, qid="q1", question="Who?"):
    """A span_qa record; answers: list of (text, occurrence index) located in ctx."""
    texts, starts = [], []
    for t, nth in answers:
        s = -1
        for _ in range(nth + 1):
            s = ctx.index(t, s + 1)
        texts.append(t)
        starts.append(s)
    rec = {"id": qid, "context": ctx, "question": question, "answers": {"text": texts, "answer_start": starts}}
    R.validate(rec, "span_qa", "test")
    return rec


# --------------------------------------------------------------------------------------------------------------
# HF translator on the tiny checkpoint


def test_batching_by_length_restores_order(tiny_model, tr_de, sentences):
    texts = sentences + sentences[:5][::-1]  # duplicates, in another order
    batched = tr_de.translate(texts)
    one = X.make_translator(hf_cfg(tiny_model, batch_size=1), "de", **QUIET)
    single = [one.translate([t])[0] for t in texts]
    assert batched == single
    assert len(set(batched)) > 5  # the model's output depends on its input: the comparison is not vacuous
    assert batched[len(sentences):] == batched[:5][::-1]


def test_dedupe_translates_each_string_once(tr_de, sentences, monkeypatch):
    seen = []
    real_batch = tr_de._translate_batch

    def counting(batch):
        seen.extend(batch)
        return real_batch(batch)

    monkeypatch.setattr(tr_de, "_translate_batch", counting)
    texts = sentences[:6] * 3 + [""]
    out = tr_de.translate(texts)
    assert sorted(seen) == sorted(set(sentences[:6]))
    assert out[:6] == out[6:12] == out[12:18] and out[-1] == ""
    # translate_records sends every unique string once, in one call
    fake = Fake(str.upper)
    recs = [{"id": f"r{i}", "text_a": "same premise", "text_b": f"hyp {i % 2}", "label": 0} for i in range(6)]
    X.translate_records("mnli", recs, fake, "de", **QUIET)
    assert fake.calls == [["hyp 0", "hyp 1", "same premise"]]


def test_forced_target_token(tiny_model, tr_de, monkeypatch):
    tok = tr_de.tokenizer
    tr_fr = X.make_translator(hf_cfg(tiny_model), "fr", **QUIET)
    tr_nllb = X.make_translator(hf_cfg(tiny_model, lang_codes="nllb"), "de", **QUIET)
    tr_map = X.make_translator(hf_cfg(tiny_model, lang_codes={"de": "fra_Latn"}), "de", **QUIET)
    assert tr_de.forced_bos_token_id == tok.convert_tokens_to_ids("__de__")
    assert tr_fr.forced_bos_token_id == tok.convert_tokens_to_ids("__fr__") != tr_de.forced_bos_token_id
    assert tr_nllb.forced_bos_token_id == tok.convert_tokens_to_ids("deu_Latn")
    assert tr_map.forced_bos_token_id == tok.convert_tokens_to_ids("fra_Latn")
    assert tr_nllb.info["lang_token"] == "deu_Latn"
    for tr in (tr_de, tr_fr, tr_nllb):
        outs = []
        gen = tr.model.generate

        def spy(*a, _gen=gen, **k):
            outs.append(_gen(*a, **k))
            return outs[-1]

        monkeypatch.setattr(tr.model, "generate", spy)
        tr.translate(["the cat is here.", "i am tom."])
        # position 0 is the decoder start token; the first generated token is the forced language token
        assert outs and all((o[:, 1] == tr.forced_bos_token_id).all() for o in outs)


def test_unknown_language_token_errors(tiny_model):
    with pytest.raises(ValueError, match=r"'xx'.*'__xx__'"):
        X.make_translator(hf_cfg(tiny_model), "xx", **QUIET)
    with pytest.raises(ValueError, match="'sw'.*swh_Latn"):  # a real FLORES code this vocabulary lacks
        X.make_translator(hf_cfg(tiny_model, lang_codes="nllb"), "sw", **QUIET)
    with pytest.raises(ValueError, match="NLLB.*'xx'"):
        X.make_translator(hf_cfg(tiny_model, lang_codes="nllb"), "xx", **QUIET)
    with pytest.raises(ValueError, match="lang_codes has no entry for language 'fr'"):
        X.make_translator(hf_cfg(tiny_model, lang_codes={"de": "__de__"}), "fr", **QUIET)


def test_model_id_per_language(tiny_model, tmp_path):
    (tmp_path / "m-de").symlink_to(tiny_model)
    tr = X.make_translator(hf_cfg(str(tmp_path / "m-{lang}"), lang_codes="none"), "de", **QUIET)
    assert tr.info["model"].endswith("m-de") and tr.forced_bos_token_id is None
    assert tr.translate(["hello ."])[0]


def test_shards_merge_equal_unsharded_and_deterministic(tiny_model, tr_de, sst2, tmp_path):
    full, rep = X.translate_records("sst2", sst2, tr_de, "de", **QUIET)
    X.write_shard(tmp_path / "full.jsonl.gz", full, rep)
    for recs, n, name in ((sst2, 3, "a"), (sst2[:2], 3, "b")):
        ref, ref_rep = X.translate_records("sst2", recs, tr_de, "de", **QUIET)
        X.write_shard(tmp_path / f"ref{name}.jsonl.gz", ref, ref_rep)
        paths = []
        for k in range(n):
            part = X.shard(recs, k, n)
            # a fresh translator per shard, as separate jobs would load one
            tr = X.make_translator(hf_cfg(tiny_model), "de", **QUIET)
            out, r = X.translate_records("sst2", part, tr, "de", **QUIET)
            paths.append(X.write_shard(tmp_path / f"{name}{k}.jsonl.gz", out, r))
        if name == "b":
            assert R.read_jsonl(paths[0]) == []  # 2 records over 3 shards: one is empty
        merged, mrep = X.merge_shards(paths)
        X.write_shard(tmp_path / f"merged{name}.jsonl.gz", merged, mrep)
        assert (tmp_path / f"merged{name}.jsonl.gz").read_bytes() == (tmp_path / f"ref{name}.jsonl.gz").read_bytes()
        assert [r["id"] for r in merged] == [r["id"] for r in recs]
        assert mrep["examples_in"] == len(recs) and mrep["shards"] == n
        assert mrep["examples_out"] == ref_rep["examples_out"]
    # a second run, a second translator: the same bytes
    tr2 = X.make_translator(hf_cfg(tiny_model), "de", **QUIET)
    again, rep2 = X.translate_records("sst2", sst2, tr2, "de", **QUIET)
    X.write_shard(tmp_path / "again.jsonl.gz", again, rep2)
    assert (tmp_path / "again.jsonl.gz").read_bytes() == (tmp_path / "full.jsonl.gz").read_bytes()
    assert {k: v for k, v in rep.items() if k != "seconds"} == {k: v for k, v in rep2.items() if k != "seconds"}
    assert rep["translator"]["model"] == tiny_model and rep["translator"]["lang_token"] == "__de__"
    recs = [json.loads(line) for line in gzip.decompress((tmp_path / "full.jsonl.gz").read_bytes()).splitlines()]
    assert recs == full and all(r["text_b"] is None for r in full)
    assert json.loads(X.report_path(tmp_path / "full.jsonl.gz").read_text())["examples_in"] == len(sst2)


def test_merge_rejects_duplicate_ids_and_mixed_reports(tmp_path):
    rec = {"id": "a", "text_a": "x", "text_b": None, "label": 0}
    rep = {"task": "sst2", "lang": "de", "format": "classification", "translator": {"engine": "fake"},
           "examples_in": 1, "examples_out": 1, "dropped_empty_translation": 0, "seconds": 0.1}
    p1 = X.write_shard(tmp_path / "1.jsonl.gz", [rec], rep)
    p2 = X.write_shard(tmp_path / "2.jsonl.gz", [rec], rep)
    with pytest.raises(R.RecordError, match="duplicate id 'a'"):
        X.merge_shards([p1, p2])
    p3 = X.write_shard(tmp_path / "3.jsonl.gz", [{**rec, "id": "b"}], {**rep, "lang": "fr"})
    with pytest.raises(ValueError, match="disagree on 'lang'"):
        X.merge_shards([p1, p3])


def test_shard_bounds():
    recs = list(range(10))
    parts = [X.shard(recs, k, 3) for k in range(3)]
    assert sum(parts, []) == recs and [len(p) for p in parts] == [3, 3, 4]
    assert sum((X.shard(recs, k, 25) for k in range(25)), []) == recs
    for k, n in ((3, 3), (-1, 3), (0, 0)):
        with pytest.raises(ValueError):
            X.shard(recs, k, n)


def test_config_errors(tmp_path):
    with pytest.raises(ValueError, match=r"controls\.mt\.beams"):
        X.make_translator({"engine": "hf", "model": "m", "beams": 2}, "de", **QUIET)
    # the workflow's own keys of the block pass through (the rule hands over all of controls.mt)
    c = X.check_config({"engine": "lexicon", "lexicon": "x.json", "source": {"mnli": "published"},
                        "languages": ["de"], "shards": 8})
    assert "shards" not in c and c["batch_size"] == 32 and c["num_beams"] == 4
    with pytest.raises(ValueError, match=r"controls\.mt\.engine"):
        X.make_translator({"engine": "google"}, "de", **QUIET)
    with pytest.raises(ValueError, match=r"controls\.mt\.num_beams"):
        X.make_translator({"engine": "hf", "model": "m", "num_beams": 0}, "de", **QUIET)
    with pytest.raises(ValueError, match=r"controls\.mt\.lang_codes"):
        X.make_translator({"engine": "hf", "model": "m", "lang_codes": "flores"}, "de", **QUIET)
    with pytest.raises(ValueError, match=r"controls\.mt\.model"):
        X.make_translator({"engine": "hf"}, "de", **QUIET)
    with pytest.raises(ValueError, match=r"controls\.mt\.lexicon"):
        X.make_translator({"engine": "lexicon"}, "de", **QUIET)
    with pytest.raises(ValueError, match=r"controls\.mt\.lexicon.*'fr'"):
        X.make_translator({"engine": "lexicon", "lexicon": {"de": {}}}, "fr", **QUIET)


def test_nllb_codes():
    xtreme = "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te " \
             "th tl tr ur vi yo zh".split()
    assert sorted(X.NLLB_CODES) == sorted(xtreme)
    expect = {"zh": "zho_Hans", "fa": "pes_Arab", "ms": "zsm_Latn", "sw": "swh_Latn", "ar": "arb_Arab",
              "et": "est_Latn", "my": "mya_Mymr", "tl": "tgl_Latn", "jv": "jav_Latn", "kk": "kaz_Cyrl",
              "de": "deu_Latn", "he": "heb_Hebr", "ja": "jpn_Jpan", "ko": "kor_Hang", "ka": "kat_Geor"}
    assert {k: X.NLLB_CODES[k] for k in expect} == expect
    assert X.target_token("de", "m2m100") == "__de__" and X.target_token("de", "none") is None


# --------------------------------------------------------------------------------------------------------------
# lexicon translator


def test_lexicon_translator(tmp_path):
    p = tmp_path / "lex.json"
    p.write_text(json.dumps({"xl": {"a dog .": "un cane .", "a cat .": "un gatto ."}}))
    tr = X.make_translator({"engine": "lexicon", "lexicon": str(p)}, "xl", **QUIET)
    assert tr.translate(["a cat .", "a dog .", "a cat ."]) == ["un gatto .", "un cane .", "un gatto ."]
    assert tr.info["engine"] == "lexicon" and tr.info["entries"] == 2
    with pytest.raises(KeyError, match="'a bird .'"):
        tr.translate(["a dog .", "a bird ."])


# --------------------------------------------------------------------------------------------------------------
# span QA: sentence-level translation and answer carrying


def test_split_sentences_keeps_offsets():
    ctx = 'Anna met Bob. "Go!" he said.  Then e.g. the U.S. Army came? Yes 3.5 times.'
    spans = X.split_sentences(ctx)
    assert [ctx[a:b] for a, b in spans] == ["Anna met Bob.", '"Go!" he said.', "Then e.g. the U.S.",
                                           "Army came?", "Yes 3.5 times."]
    merged = X.merge_units(spans, [(ctx.index("U.S. Army"), ctx.index("U.S. Army") + 9)])
    assert [ctx[a:b] for a, b in merged][2] == "Then e.g. the U.S. Army came?"


def test_answer_located_exactly():
    rec = qa("Paris is big. Rome is old.", [("Rome", 0)])
    table = {"Paris is big.": "Parigi è grande.", "Rome is old.": "Roma è antica.", "Rome": "Roma", "Who?": "Chi?"}
    out, rep = X.translate_records("squad_v2", [rec], X.LexiconTranslator(table, "it"), "it", **QUIET)
    assert out[0]["context"] == "Parigi è grande. Roma è antica."
    assert out[0]["answers"] == {"text": ["Roma"], "answer_start": [17]}
    assert out[0]["question"] == "Chi?" and out[0]["id"] == "q1"
    assert rep["answers_located_in_sentence"] == 1 and rep["dropped_unlocated_answer"] == 0


def test_answer_located_case_insensitively_with_nfc():
    rec = qa("The lake is cold. Zurich is far.", [("Zurich", 0)])
    # the answer comes back decomposed (u + combining diaeresis) and lower-cased, the sentence precomposed
    table = {"The lake is cold.": "Der See ist kalt.", "Zurich is far.": "Zürich ist weit.",
             "Zurich": "zu\u0308rich.", "Who?": "Wer?"}
    out, rep = X.translate_records("squad_v2", [rec], X.LexiconTranslator(table, "de"), "de", **QUIET)
    assert out[0]["answers"] == {"text": ["Zürich"], "answer_start": [18]}
    assert rep["answers_located_loose"] == 1


def test_answer_found_in_the_right_sentence():
    ctx = "Anna met Bob. Later Carl met Bob."
    rec = qa(ctx, [("Bob", 1)])  # the second Bob
    fake = Fake(lambda t: t.replace("met", "traf").replace("Later", "Später"))
    out, _ = X.translate_records("squad_v2", [rec], fake, "de", **QUIET)
    c, s = out[0]["context"], out[0]["answers"]["answer_start"][0]
    assert c == "Anna traf Bob. Später Carl traf Bob." and s == c.rindex("Bob")
    # twice inside one sentence: the occurrence nearest the English position wins
    rec = qa("Bob told Bob.", [("Bob", 1)])
    out, _ = X.translate_records("squad_v2", [rec], Fake(lambda t: t.replace("told", "sagte es")), "de", **QUIET)
    assert out[0]["answers"]["answer_start"] == [out[0]["context"].rindex("Bob")]


def test_unlocatable_dropped_unanswerable_kept_partial_kept():
    recs = [qa("Rome is old. Paris is big.", [("Rome", 0)], "lost"),
            qa("Rome is old. Paris is big.", [], "unanswerable"),
            qa("Rome is old. Paris is big.", [("Rome", 0), ("Paris", 0)], "partial")]
    table = {"Rome is old.": "Roma è antica.", "Paris is big.": "Parigi è grande.", "Who?": "Chi?",
             "Rome": "Urbe", "Paris": "Parigi"}
    out, rep = X.translate_records("squad_v2", recs, X.LexiconTranslator(table, "it"), "it", **QUIET)
    assert [r["id"] for r in out] == ["unanswerable", "partial"]
    assert out[0]["answers"] == {"text": [], "answer_start": []}
    assert out[1]["answers"] == {"text": ["Parigi"], "answer_start": [15]}
    assert rep["dropped_unlocated_answer"] == 1 and rep["examples_in"] == 3 and rep["examples_out"] == 2
    assert rep["dropped_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert rep["answers_in"] == 3 and rep["answers_unlocated"] == 2


def test_no_space_join_for_chinese():
    rec = qa("Paris is big. Rome is old.", [("Rome", 0)])
    table = {"Paris is big.": "巴黎很大。", "Rome is old.": "罗马很古老。", "Rome": "罗马", "Who?": "谁？"}
    out, _ = X.translate_records("squad_v2", [rec], X.LexiconTranslator(table, "zh"), "zh", **QUIET)
    assert out[0]["context"] == "巴黎很大。罗马很古老。"
    assert out[0]["answers"] == {"text": ["罗马"], "answer_start": [5]}


def test_real_squad_v2_rows(real):
    recs = L.squad_v2_from_json(real / "intermediate" / "squad_v2" / "dev-v2.0.first40q.json")
    fake = Fake(str.upper)
    out, rep = X.translate_records("squad_v2", recs, fake, "de", **QUIET)
    assert len(fake.calls) == 1
    assert rep["examples_out"] == rep["examples_in"] == len(recs) and rep["dropped_unlocated_answer"] == 0
    assert rep["answers_located"] == rep["answers_in"] == sum(len(r["answers"]["text"]) for r in recs)
    for src, tgt in zip(recs, out):
        assert tgt["id"] == src["id"] and tgt["question"] == src["question"].upper()
        # sentence units rejoined with one space: the English context up to whitespace between sentences
        assert tgt["context"].split() == src["context"].upper().split()
        assert tgt["answers"]["text"] == [t.upper() for t in src["answers"]["text"]]
        assert len(tgt["answers"]["text"]) == len(src["answers"]["text"])  # unanswerable stay unanswerable
        for t, s in zip(tgt["answers"]["text"], tgt["answers"]["answer_start"]):
            assert tgt["context"][s:s + len(t)] == t
    # the carried span is the same span: the answer's character position among non-space characters
    for src, tgt in zip(recs, out):
        for s0, s1 in zip(src["answers"]["answer_start"], tgt["answers"]["answer_start"]):
            assert len(src["context"][:s0].split()) == len(tgt["context"][:s1].split())
    # a real German paragraph must keep its own sentences' answers even when the translator is identity
    xq = L.squad_from_json(real / "xquad" / "xquad.de.json")[:20]
    out, rep = X.translate_records("squad_v2", xq, Fake(lambda t: t), "de", **QUIET)
    assert rep["dropped_unlocated_answer"] == 0
    assert [r["answers"]["text"] for r in out] == [r["answers"]["text"] for r in xq]


# --------------------------------------------------------------------------------------------------------------
# other formats


def test_classification_and_multiple_choice_field_by_field(real, sst2):
    tag = Fake(lambda t: f"<de> {t}")
    out, rep = X.translate_records("sst2", sst2, tag, "de", **QUIET)
    assert [(r["id"], r["label"], r["text_b"]) for r in out] == [(r["id"], r["label"], None) for r in sst2]
    assert all(o["text_a"] == f"<de> {s['text_a'].strip()}" for o, s in zip(out, sst2))
    assert "answers_in" not in rep and rep["dropped_empty_translation"] == 0
    mnli = [{"id": "m1", "text_a": "A man sleeps.", "text_b": "Nobody sleeps.", "label": 2}]
    out, _ = X.translate_records("mnli", mnli, tag, "de", **QUIET)
    assert out == [{"id": "m1", "text_a": "<de> A man sleeps.", "text_b": "<de> Nobody sleeps.", "label": 2}]
    csqa = L.commonsenseqa_from_rows(L.jsonl_rows(real / "intermediate" / "commonsenseqa" / "dev_rand_split.first50.jsonl"))[:5]
    cosmos = L.cosmosqa_from_rows(L.csv_rows(real / "intermediate" / "cosmosqa" / "valid.first50.csv", L.COSMOSQA_COLUMNS))[:5]
    for task, recs in (("commonsenseqa", csqa), ("cosmosqa", cosmos)):
        out, _ = X.translate_records(task, recs, tag, "de", **QUIET)
        for o, s in zip(out, recs):
            assert (o["id"], o["label"]) == (s["id"], s["label"])
            assert o["context"] == f"<de> {s['context'].strip()}"
            assert o["question"] == (f"<de> {s['question'].strip()}" if s["question"] else "")
            assert o["choices"] == [f"<de> {c.strip()}" for c in s["choices"]]


def test_empty_translation_dropped_not_written():
    recs = [{"id": "a", "text_a": "keep me", "text_b": None, "label": 0},
            {"id": "b", "text_a": "lose me", "text_b": None, "label": 1}]
    out, rep = X.translate_records("sst2", recs, Fake(lambda t: "" if t == "lose me" else t), "de", **QUIET)
    assert [r["id"] for r in out] == ["a"] and rep["dropped_empty_translation"] == 1
    assert rep["dropped_share"] == 0.5


def test_untranslatable_formats_raise():
    ccg = [{"id": "c", "tokens": ["a", "dog"], "tags": ["NP/N", "N"]}]
    with pytest.raises(ValueError, match="'ccg'.*tags would not align"):
        X.translate_records("ccg", ccg, Fake(str), "de", **QUIET)
    with pytest.raises(ValueError, match="'tatoeba'.*not translatable"):
        X.translate_records("tatoeba", [{"id": "t", "source": "x", "target": "y"}], Fake(str), "de", **QUIET)


def test_answer_found_elsewhere_when_its_sentence_lost_it():
    # MT moved the name into the neighbouring sentence: the whole translated context is searched next
    rec = qa("Paris is big. Rome is old.", [("Paris", 0)])
    table = {"Paris is big.": "Sie ist groß.", "Rome is old.": "Rom ist älter als Paris.", "Paris": "Paris",
             "Who?": "Wer?"}
    out, rep = X.translate_records("squad_v2", [rec], X.LexiconTranslator(table, "de"), "de", **QUIET)
    c = out[0]["context"]
    assert out[0]["answers"] == {"text": ["Paris"], "answer_start": [c.index("Paris")]}
    assert rep["answers_located_in_context"] == 1 and rep["answers_located_in_sentence"] == 0


def test_qa_through_the_tiny_model(tr_de, real):
    # a random model rarely reproduces an answer inside its context: whatever survives must be valid
    recs = L.squad_v2_from_json(real / "intermediate" / "squad_v2" / "dev-v2.0.first40q.json")[:8]
    out, rep = X.translate_records("squad_v2", recs, tr_de, "de", **QUIET)
    assert rep["examples_out"] == len(out) and len(out) + rep["dropped_unlocated_answer"] \
        + rep["dropped_empty_translation"] == len(recs)
    unanswerable = sum(not r["answers"]["text"] for r in recs)
    assert sum(not r["answers"]["text"] for r in out) == unanswerable
    for r in out:
        R.validate(r, "span_qa", "tiny")
