"""Tests of the embedded micro benchmark generator (xstilts.data.micro), on a reduced configuration."""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data.micro import DEFAULTS, generate, resolve_config
from xstilts.data.micro import world as W

SMALL = {"n_train": 45, "n_dev": 15, "n_test": 15, "n_mlm": 80, "bucc_sentences": 40, "bucc_gold": 12,
         "n_train_by_task": {"anli_plus": 60, "tydiqa": 30}}
SYN = ["xl", "xc", "xg", "xk"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("micro")
    man = generate(out, {**SMALL, "seed": 7})
    return out, man


def load(path):
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]


def recs(out, task, lang, split):
    return R.load_split(out, task, lang, split)[0]


def texts_of(rec):
    """Every text field of a record (the English side of retrieval records excluded)."""
    out = []
    for k in ("text_a", "text_b", "context", "question", "text", "source"):
        if isinstance(rec.get(k), str) and rec.get("side") != "target":
            out.append(rec[k])
    return out + list(rec.get("choices", [])) + list(rec.get("tokens", []))


# ----------------------------------------------------------------------------------------------------------
def test_config_validation():
    with pytest.raises(ValueError, match="bogus"):
        resolve_config({"bogus": 1})
    with pytest.raises(ValueError, match="'xq'"):
        resolve_config({"cognate_share": {"xq": 0.2}})
    with pytest.raises(ValueError, match="'nope'"):
        resolve_config({"n_train_by_task": {"nope": 3}})
    with pytest.raises(ValueError, match="languages"):
        resolve_config({"languages": ["xl"]})
    with pytest.raises(ValueError):
        resolve_config({"cognate_share": {"xl": 1.5}})
    p = resolve_config({"cognate_share": {"xl": 0.9}, "seed": 3})
    assert p["cognate_share"] == {**DEFAULTS["cognate_share"], "xl": 0.9} and p["seed"] == 3
    assert resolve_config(None) == resolve_config({})


def test_unknown_key_raises_in_generate(tmp_path):
    with pytest.raises(ValueError, match="not_a_key"):
        generate(tmp_path, {"not_a_key": 1})
    assert not (tmp_path / "manifest.json").exists()


def test_determinism(tmp_path, data):
    out, man = data
    cfg = {**SMALL, "seed": 7, "tasks": ["xnli", "squad_v2", "panx", "mlm_corpus", "bucc"]}
    a = generate(tmp_path / "a", cfg)
    b = generate(tmp_path / "b", cfg)
    c = generate(tmp_path / "c", {**cfg, "seed": 8})
    files = [f["path"] for f in a["files"]]
    assert files == [f["path"] for f in b["files"]]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a/manifest.json").read_bytes() == (tmp_path / "b/manifest.json").read_bytes()
    # same seed, different task selection: a task's data does not depend on which other tasks are made
    full = {f["path"]: f["sha256"] for f in man["files"]}
    for f in a["files"]:
        if f["path"] not in ("lexicon.json", "inventory.tsv") and not f["path"].endswith("meta.json"):
            assert full[f["path"]] == f["sha256"], f["path"]
    # another seed gives other data
    sa = {f["path"]: f["sha256"] for f in a["files"]}
    sc = {f["path"]: f["sha256"] for f in c["files"]}
    assert sa.keys() == sc.keys()
    assert all(sa[k] != sc[k] for k in sa if k.endswith(".jsonl"))


def test_manifest_and_layout(data):
    out, man = data
    assert (out / "manifest.json").exists()
    assert json.loads((out / "manifest.json").read_text()) == man
    assert man["seed"] == 7 and man["params"]["n_train"] == 45
    assert set(man["tasks"]) == set(T.TASKS)
    for f in man["files"]:
        p = out / f["path"]
        assert p.exists(), f["path"]
        if f["records"] is not None:
            assert len(p.read_text(encoding="utf-8").splitlines()) == f["records"]
    langs = ["en"] + SYN
    for task in T.TASKS:
        meta = R.read_meta(out / f"task~{task}")
        assert meta["task"] == task and meta["format"] == T.TASKS[task].format and meta["source"] == "micro"
        assert meta["provenance"]["seed"] == 7
        for lang, splits in meta["splits"].items():
            for s in splits:
                suffix = ".jsonl"
                n = len(load(R.task_file(out, task, lang, s, suffix)))
                assert meta["counts"][lang][s] == n
    m = lambda t: R.read_meta(out / f"task~{t}")["splits"]
    assert m("tydiqa") == {"en": ["train", "dev", "test"], **{l: ["dev", "test"] for l in SYN}}
    assert m("xnli") == m("pawsx") == m("udpos") == m("panx") == m("tydiqa")
    assert m("squad_v1") == {"en": ["train", "dev"]}
    assert m("xquad") == {l: ["test"] for l in langs}
    assert m("mlqa") == {l: ["dev", "test"] for l in langs}
    assert m("tatoeba") == {l: ["test"] for l in SYN}
    assert m("bucc") == {l: ["dev", "test"] for l in SYN}
    assert m("mlm_corpus") == {l: ["train"] for l in langs}
    for t in T.INTERMEDIATE_TASKS:
        assert m(t) == {"en": ["train", "dev"], **{l: ["train"] for l in SYN}}, t
    counts = R.read_meta(out / "task~anli_plus")["counts"]
    assert counts["en"]["train"] == 60 and counts["xk"]["train"] == 60
    assert R.read_meta(out / "task~mnli")["counts"]["en"] == {"train": 45, "dev": 15}
    assert R.read_meta(out / "task~ccg")["labels"] == W.CCG_LABELS


def test_every_file_validates(data):
    out, man = data
    n = 0
    for task in T.TASKS:
        meta = R.read_meta(out / f"task~{task}")
        for lang, splits in meta["splits"].items():
            for s in splits:
                rs, _ = R.load_split(out, task, lang, s)
                assert rs
                n += 1
                for r in rs:
                    for t in texts_of(r):
                        assert unicodedata.normalize("NFC", t) == t
    assert n > 100


def test_labels_balanced(data):
    out, _ = data
    for task, spec in T.TASKS.items():
        if spec.format not in (T.CLASSIFICATION, T.MULTIPLE_CHOICE):
            continue
        meta = R.read_meta(out / f"task~{task}")
        for lang, splits in meta["splits"].items():
            for s in splits:
                c = Counter(r["label"] for r in recs(out, task, lang, s))
                k = len(meta["labels"]) or spec.n_choices
                assert len(c) == k and max(c.values()) - min(c.values()) <= 1, (task, lang, s, c)


def test_parallel_and_mt_copies(data):
    out, _ = data
    en = recs(out, "xnli", "en", "test")
    for l in SYN:
        x = recs(out, "xnli", l, "test")
        assert [r["id"] for r in x] == [r["id"] for r in en] and [r["label"] for r in x] == [r["label"] for r in en]
    for task in ("mnli", "sst2", "hellaswag", "squad_v2", "ccg"):
        en = recs(out, task, "en", "train")
        for l in SYN:
            x = recs(out, task, l, "train")
            assert [r["id"] for r in x] == [r["id"] for r in en]
            if "label" in en[0]:
                assert [r["label"] for r in x] == [r["label"] for r in en]
            if "answers" in en[0]:
                assert [bool(r["answers"]["text"]) for r in x] == [bool(r["answers"]["text"]) for r in en]


# ----------------------------------------------------------------------------------------------------------
# labels follow from the text
_FUNC = {"was", "were", "is", "are", "by", "the", "a", "an", "did", "does", "do", "not", "in"}


def _en_words(world):
    lemma_of = {}
    for lx in world.lex.values():
        for f in lx.en.values():
            lemma_of.setdefault(f.lower(), lx.id)
    return lemma_of


def _norm(text, lemma_of):
    toks = re.findall(r"[A-Za-z]+|\d+", text)
    return {lemma_of.get(t.lower(), t.lower()) for t in toks if t.lower() not in _FUNC}


def test_nli_rules(data):
    out, _ = data
    w = W.World(7, ["en"], {})
    lemma_of = _en_words(w)
    n_ent = 0
    for task in ("mnli", "xnli"):
        for split in ("train", "dev"):
            for r in recs(out, task, "en", split):
                a, b, lab = r["text_a"], r["text_b"], r["label"]
                ha, hb = _norm(a, lemma_of), _norm(b, lemma_of)
                if lab == 0:  # entailment: the hypothesis only drops details
                    assert hb <= ha, r
                    assert " not " not in b
                    n_ent += 1
                if " not " in b and " not " not in a:
                    assert lab == 2, r  # added negation contradicts
                if lab in (1, 2) and a.count(".") == 1 and " and " not in a and " not " not in b:
                    assert hb - ha, r  # a changed or added detail is a word the premise lacks
    assert n_ent > 10


_POL = {**{a: 1 for a in W.POSITIVE + W.FEEL_POS}, **{a: 0 for a in W.NEGATIVE + W.FEEL_NEG}}
_CLAUSE = re.compile(r"^(?P<subj>.+?) (was|is|were|are)(?P<neg> not)?( (very|really|quite|extremely))? "
                     r"(?P<a1>[a-z]+)( and (?P<a2>[a-z]+))?$")


def _clause_polarity(cl):
    m = _CLAUSE.match(cl)
    if not m or re.search(r" (was|is|were|are|and) ", m.group("subj")):
        return None
    pols = {_POL.get(m.group("a1"))} | ({_POL.get(m.group("a2"))} if m.group("a2") else set())
    assert len(pols) == 1 and None not in pols, cl
    return pols.pop() ^ bool(m.group("neg"))


def test_sentiment_rules(data):
    out, _ = data
    checked = Counter()
    for split in ("train", "dev"):
        for r in recs(out, "sst2", "en", split):
            t = r["text_a"].rstrip(".")
            clause = t.split(", but ")[1] if ", but " in t else t  # the clause after 'but' decides
            p = _clause_polarity(clause)
            if p is not None:
                assert p == r["label"], r
                checked["but" if ", but " in t else "single"] += 1
                checked["negated"] += " not " in clause
    assert checked["but"] > 3 and checked["negated"] > 3 and checked["single"] > 3, checked


def test_qa_answers(data):
    out, _ = data
    for task in ("squad_v1", "squad_v2", "xquad", "mlqa", "tydiqa"):
        meta = R.read_meta(out / f"task~{task}")
        for lang, splits in meta["splits"].items():
            for s in splits:
                for r in recs(out, task, lang, s):  # load_split already checked context[s:s+len] == text
                    a = r["answers"]
                    if task != "squad_v2":
                        assert len(a["text"]) == 1
                    for t, st in zip(a["text"], a["answer_start"]):
                        assert r["context"][st:st + len(t)] == t
                        if lang == "xk":
                            assert " " not in t and t in r["context"]
                    if lang == "en" and a["text"]:
                        q, t = r["question"], a["text"][0]
                        if q.startswith("How many"):
                            assert t.isdigit()
                        elif q.startswith("What colour"):
                            assert t in W.COLOURS
                        elif q.startswith(("Where", "In which city")):
                            assert t[0].isupper()
                        elif q.startswith("Who "):
                            assert all(x[0].isupper() for x in t.split())
    v2 = recs(out, "squad_v2", "en", "train")
    share = sum(not r["answers"]["text"] for r in v2) / len(v2)
    assert abs(share - DEFAULTS["unanswerable_share"]) < 0.05
    for r in v2:
        if not r["answers"]["text"] and r["question"].startswith("Where"):
            # the asked-about event has no place, but other sentences state theirs
            assert " in " in r["context"]


def test_multiple_choice(data):
    out, _ = data
    for task in ("hellaswag", "cosmosqa", "commonsenseqa"):
        for l in ["en"] + SYN:
            for r in recs(out, task, l, "train"):
                assert len(set(r["choices"])) == len(r["choices"]) == T.TASKS[task].n_choices
    # HellaSwag: the right ending is the next step by the same person on the same object
    for r in recs(out, "hellaswag", "en", "train"):
        right = r["choices"][r["label"]]
        person = r["context"].split()[0]
        assert right.startswith(f"Then {person} ")
        assert right.split()[-1].rstrip(".") in r["context"]


def test_tagging(data):
    out, _ = data
    for task, labels in (("udpos", T.UPOS), ("panx", T.NER), ("ccg", W.CCG_LABELS)):
        meta = R.read_meta(out / f"task~{task}")
        assert meta["labels"] == list(labels)
        for lang, splits in meta["splits"].items():
            for s in splits:
                for r in recs(out, task, lang, s):
                    assert len(r["tokens"]) == len(r["tags"])
                    if task == "panx":  # BIO well-formed
                        for prev, tag in zip(["O"] + r["tags"], r["tags"]):
                            if tag.startswith("I-"):
                                assert prev[2:] == tag[2:], r
    en = recs(out, "panx", "en", "train")
    assert all(any(t != "O" for t in r["tags"]) for r in en)
    lo, hi = DEFAULTS["sentence_words"]
    for r in recs(out, "udpos", "en", "train"):
        assert lo <= sum(t != "PUNCT" for t in r["tags"]) <= hi


def test_xk_has_no_spaces(data):
    out, _ = data
    for task in T.TASKS:
        meta = R.read_meta(out / f"task~{task}")
        if "xk" not in meta["splits"]:
            continue
        for s in meta["splits"]["xk"]:
            for r in recs(out, task, "xk", s):
                for t in texts_of(r):
                    assert " " not in t, (task, t)
    # the tagging tokens are words, and concatenated they give the surface text
    w = W.World(7, ["en", "xk"], {"xk": 0.15})
    rng = W.stream(1, "t")
    ev = w.event(rng)
    toks = w.sentence(w.langs["xk"], ev)
    assert w.text(w.langs["xk"], toks) == "".join(t[0] for t in toks)
    assert len(toks) > 4


def test_xc_is_verb_final(data):
    out, _ = data
    w = W.World(7, ["en", "xc"], {"xc": 0.3})
    rng = W.stream(2, "t")
    for _ in range(50):
        ev = w.event(rng)
        toks = w.sentence(w.langs["xc"], ev)
        assert toks[-1][1] == "PUNCT" and toks[-2][1] == "VERB", toks
        en = w.sentence(w.langs["en"], ev.copy(time=None))
        assert en[1][1] == "VERB" or en[2][1] == "VERB"  # English is SVO
    for s in ("dev", "test"):
        for r in recs(out, "udpos", "xc", s):
            assert r["tags"][-1] == "PUNCT" and r["tags"][-2] in ("VERB", "AUX"), r


def _ascii_words(text):
    return re.findall(r"[A-Za-z]+", text)


def test_scripts(data, tmp_path):
    out, _ = data
    lex = json.loads((out / "lexicon.json").read_text(encoding="utf-8"))
    for l in ("xc", "xg", "xk"):
        cognates = {f for r in lex[l] if r["cognate"] for f in [r["form"]]}
        for s in ("dev", "test"):
            for r in recs(out, "udpos", l, s):
                for tok in r["tokens"]:
                    if _ascii_words(tok):  # Latin letters only in cognates (English spelling by default)
                        assert tok in cognates or tok[:1].lower() + tok[1:] in cognates, (l, tok)
    # with transliterated cognates the non-Latin languages contain no Latin letters at all
    generate(tmp_path, {**SMALL, "seed": 7, "cognate_script": "native",
                        "tasks": ["udpos", "xnli", "squad_v2", "mlm_corpus", "tatoeba", "bucc"]})
    for p in sorted(tmp_path.glob("task~*/lang~x[cgk]/*.jsonl")):
        if p.name.endswith(".gold.jsonl"):
            continue
        for r in load(p):
            for t in texts_of(r):
                assert not _ascii_words(t), (p, t)
    # the Latin-script language keeps diacritics; Cyrillic and Greek text is in its script
    text = " ".join(r["text"] for r in recs(out, "mlm_corpus", "xl", "train"))
    assert re.search("[àáèéìíòóùú]", text)
    assert re.search("[а-я]", " ".join(r["text"] for r in recs(out, "mlm_corpus", "xc", "train")))
    assert re.search("[α-ω]", " ".join(r["text"] for r in recs(out, "mlm_corpus", "xg", "train")))
    assert re.search("[\u3040-\u30ff]", " ".join(r["text"] for r in recs(out, "mlm_corpus", "xk", "train")))


def test_tydiqa_train_only_english(data):
    out, _ = data
    meta = R.read_meta(out / "task~tydiqa")
    assert [l for l, s in meta["splits"].items() if "train" in s] == ["en"]
    assert not list(out.glob("task~tydiqa/lang~x*/train.jsonl"))


def test_bucc_gold(data):
    out, _ = data
    for l in SYN:
        for s in ("dev", "test"):
            sents = recs(out, "bucc", l, s)
            ids = [r["id"] for r in sents]
            assert len(ids) == len(set(ids)) == 2 * SMALL["bucc_sentences"]
            src = {r["id"]: r["text"] for r in sents if r["side"] == "source"}
            tgt = {r["id"]: r["text"] for r in sents if r["side"] == "target"}
            assert len(set(src.values())) == len(src) and len(set(tgt.values())) == len(tgt)
            gold = load(R.task_file(out, "bucc", l, s, ".gold.jsonl"))
            assert len(gold) == SMALL["bucc_gold"]
            for j, g in enumerate(gold):
                R.validate_bucc_gold(g, f"gold:{j}", set(src), set(tgt))
            assert len({g["source_id"] for g in gold}) == len({g["target_id"] for g in gold}) == len(gold)
    # a gold pair shares its digits (numbers are shared across languages)
    sents = {r["id"]: r["text"] for r in recs(out, "bucc", "xc", "dev")}
    for g in load(R.task_file(out, "bucc", "xc", "dev", ".gold.jsonl")):
        assert re.findall(r"\d+", sents[g["source_id"]]) == re.findall(r"\d+", sents[g["target_id"]])


def test_tatoeba(data):
    out, _ = data
    for l in SYN:
        rs = recs(out, "tatoeba", l, "test")
        assert len(rs) == SMALL["n_test"] and len({r["target"] for r in rs}) == len(rs)
        assert all(re.findall(r"\d+", r["source"]) == re.findall(r"\d+", r["target"]) for r in rs)


def test_cognate_share(data, tmp_path):
    out, man = data
    lex = json.loads((out / "lexicon.json").read_text(encoding="utf-8"))

    def share(lex, l):
        content = {r["lemma"]: r["cognate"] for r in lex[l] if r["class"] in W.CONTENT_CLASSES}
        return sum(content.values()) / len(content)

    for l, v in DEFAULTS["cognate_share"].items():
        assert abs(share(lex, l) - v) < 0.02, (l, share(lex, l))
    # in running text too, roughly (token shares depend on word frequencies)
    en_forms = {r["en"] for r in lex["xl"] if r["en"]}
    toks = [t for s in ("dev", "test") for r in recs(out, "udpos", "xl", s)
            for t, g in zip(r["tokens"], r["tags"]) if g in ("NOUN", "VERB", "ADJ", "ADV")]
    tok_share = sum(t.lower() in en_forms for t in toks) / len(toks)
    assert 0.25 < tok_share < 0.75, tok_share
    generate(tmp_path, {**SMALL, "cognate_share": {"xl": 0.9, "xg": 0.0}, "tasks": ["sst2"]})
    lex2 = json.loads((tmp_path / "lexicon.json").read_text(encoding="utf-8"))
    assert abs(share(lex2, "xl") - 0.9) < 0.02 and share(lex2, "xg") == 0.0


def test_codeswitch_anchors_and_language_subset(tmp_path):
    base = {**SMALL, "languages": ["en", "xc"], "tasks": ["mlm_corpus"], "cognate_share": {"xc": 0.0}}
    generate(tmp_path / "a", base)
    generate(tmp_path / "b", {**base, "mlm_codeswitch_share": 1.0})
    assert sorted(p.name for p in (tmp_path / "a").glob("task~mlm_corpus/lang~*")) == ["lang~en", "lang~xc"]
    plain = " ".join(r["text"] for r in recs(tmp_path / "a", "mlm_corpus", "xc", "train"))
    mixed = " ".join(r["text"] for r in recs(tmp_path / "b", "mlm_corpus", "xc", "train"))
    assert not _ascii_words(plain)  # no cognates, names transliterated: Cyrillic only
    assert len(_ascii_words(mixed)) > 0.2 * len(mixed.split())


def test_mlm_corpus_not_aligned(data):
    out, _ = data
    en = recs(out, "mlm_corpus", "en", "train")
    assert all(r["lang"] == "en" for r in en) and len(en) == SMALL["n_mlm"]
    for l in SYN:
        x = recs(out, "mlm_corpus", l, "train")
        assert len(x) == len(en) and all(r["lang"] == l for r in x)
        same_digits = sum(re.findall(r"\d+", a["text"]) == re.findall(r"\d+", b["text"]) and
                          bool(re.findall(r"\d+", a["text"])) for a, b in zip(en, x))
        assert same_digits < 0.2 * len(en)
    xl = recs(out, "mlm_corpus", "xl", "train")
    first = sum(a["text"].split()[0] == b["text"].split()[0] for a, b in zip(en, xl))
    assert first < 0.3 * len(en)  # names are shared in xl: aligned corpora would start alike


def test_cli(tmp_path):
    from xstilts.data.micro.__main__ import main
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**SMALL, "tasks": ["pawsx", "commonsenseqa"]}))
    assert main([str(tmp_path / "o"), "--seed", "5", "--config", str(cfg)]) == 0
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["seed"] == 5 and man["tasks"] == ["pawsx", "commonsenseqa"]
    cfg.write_text(json.dumps({"wrong": 1}))
    assert main([str(tmp_path / "p"), "--config", str(cfg)]) == 2
