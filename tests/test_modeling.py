"""Tokenizer, encoder loading, features and heads on real text (German, Chinese, Arabic fixtures)."""
import json

import pytest
import torch
from safetensors import safe_open

from xstilts import tasks as T
from xstilts.data import loaders as L
from xstilts.models.modeling import MultiTaskModel, build_micro_encoder, load_encoder, make_head, save_encoder, \
    train_tokenizer
from xstilts.train import features as F

ARCH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "max_position_embeddings": 514}


def fixture_texts(real):
    texts = []
    for lang in ("deu", "cmn", "ara"):
        for side in (lang, "eng"):
            p = real / "tatoeba" / f"tatoeba.{lang}-eng.{side}"
            texts += [l.strip() for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
    for name in ("en_ewt", "zh_gsd", "ar_pud"):
        for r in L.udpos_from_conllu(next((real / "udpos").glob(f"{name}*.conllu"))):
            texts.append(" ".join(r["tokens"]))
    for f in (real / "xquad").glob("*.json"):
        for r in L.squad_from_json(f):
            texts += [r["context"], r["question"]]
    return texts


@pytest.fixture(scope="module")
def tok_dir(real, tmp_path_factory):
    d = tmp_path_factory.mktemp("tok")
    train_tokenizer(fixture_texts(real), d, vocab_size=1500, seed=0)
    return d


def test_tokenizer_has_almost_no_unknowns_on_its_own_corpus(real, tok_dir):
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(tok_dir)
    ids = [i for t in fixture_texts(real) for i in tok(t, add_special_tokens=False)["input_ids"]]
    assert len(ids) > 10000
    assert sum(i == tok.unk_token_id for i in ids) / len(ids) < 0.005
    # XLM-R's special-token layout, which the conversion must keep
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == len(tok) - 1


def test_vocab_file_constructor_trap_is_avoided(tok_dir):
    """transformers 5: XLMRobertaTokenizer(vocab_file=...) ignores the file; our loader must not use it."""
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(tok_dir)
    ids = tok("Ich habe Hunger.", add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids


def test_tagging_labels_first_subtoken_on_real_chinese_and_arabic(real, tok_dir):
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(tok_dir)
    for name in ("zh_gsd", "ar_pud"):
        recs = L.udpos_from_conllu(next((real / "udpos").glob(f"{name}*.conllu")))[:20]
        enc = F.encode(recs, T.get("udpos"), tok, 512, list(T.UPOS))
        for f, r in zip(enc.features, recs):
            labelled = [y for y in f["labels"] if y != -100]
            assert len(labelled) == len(r["tokens"]) == len(f["first"])
            assert [T.UPOS[y] for y in labelled] == r["tags"]


def test_tagging_truncated_words_leave_prediction_and_gold(real, tok_dir):
    """XTREME's run_tag cuts a sentence's labels with its tokens: a word past max_length is neither predicted
    nor scored (issue 18 item 8; it used to be predicted as tag 0 and scored against its gold)."""
    from xstilts.train import evaluate as E
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(tok_dir)
    rec = L.udpos_from_conllu(next((real / "udpos").glob("en_ewt*.conllu")))[0]
    long = dict(rec, tokens=rec["tokens"] * 6, tags=rec["tags"] * 6)
    task, labels = T.get("udpos"), list(T.UPOS)
    enc = F.encode([long], task, tok, 32, labels)
    kept = len(enc.features[0]["first"])
    assert 0 < kept < len(long["tokens"])

    class Oracle(torch.nn.Module):  # predicts the gold tag of every word it sees
        def forward(self, name, batch):
            L_ = batch["input_ids"].shape[1]
            logits = torch.zeros(1, L_, len(labels))
            for w, p in enumerate(enc.features[0]["first"]):
                logits[0, p, labels.index(long["tags"][w])] = 1.0
            return None, logits

    preds = E.predict(Oracle(), enc, tok.pad_token_id)
    assert len(preds[0]) == kept  # nothing invented for the cut words
    res = E.score(task, [long], preds, labels)
    assert res["f1"] == 100.0 and res["words_truncated"] == len(long["tokens"]) - kept
    stats = E.example_stats(task, [long], preds, labels)[0]
    assert stats["tp"] == stats["n_gold"] == stats["n_pred"] == kept


def test_qa_windows_follow_xtreme_stride_and_question_cap(real, tok_dir):
    """XTREME's QA features at max length 384: question capped at 64 tokens, consecutive windows of a long
    context sharing 128 tokens (issue 18 item 7; the overlap was 96). An answer inside the overlap is found in
    both windows and mapped back to the exact original text."""
    import numpy as np

    from xstilts.train import evaluate as E
    from xstilts.models.modeling import load_tokenizer
    assert F.qa_limits(384) == (64, 128)
    tok = load_tokenizer(tok_dir)
    rec = next(r for r in L.squad_from_json(next((real / "xquad").glob("*.json"))) if r["answers"]["text"])
    filler = " ".join(L.squad_from_json(next((real / "xquad").glob("*.json")))[0]["context"].split()[:60])
    ctx_tokens = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    pre = filler
    while ctx_tokens(pre) < 290:  # the answer lands past the first window's start of overlap
        pre += " " + filler
    answer = rec["answers"]["text"][0]
    context = pre + " " + answer + " " + filler + " " + filler
    start = len(pre) + 1
    long_q = " ".join([rec["question"]] * 12)
    r = {"id": "q1", "question": long_q, "context": context,
         "answers": {"text": [answer], "answer_start": [start]}}
    enc = F.encode([r], T.get("xquad"), tok, 384, train=True)
    feats = enc.features
    assert len(feats) >= 2
    q_len = [f["offsets"].index(next(o for o in f["offsets"] if o is not None)) for f in feats]
    assert all(q == 64 + 3 for q in q_len)  # <s> + 64 question tokens + </s></s>
    ctx_spans = [[o for o in f["offsets"] if o is not None] for f in feats]
    shared = [o for o in ctx_spans[0] if o in ctx_spans[1]]
    assert len(shared) == 128
    hits = [k for k, f in enumerate(feats) if f["start"] > 0]
    assert len(hits) >= 2  # the answer lies in the overlap: both windows can learn it
    for k in hits:  # the gold positions map back to the exact original characters
        f = feats[k]
        assert context[f["offsets"][f["start"]][0]:f["offsets"][f["end"]][1]] == answer
    # post-processing over all windows: logits that point at the answer in the second window
    outs = {}
    for k, f in enumerate(feats):
        lo = np.full((len(f["input_ids"]), 2), -10.0)
        if k == hits[-1]:
            lo[f["start"], 0] = lo[f["end"], 1] = 10.0
        outs[k] = lo
    assert E._qa_postprocess(enc, outs, 30, False) == [answer]


def test_qa_answer_spans_roundtrip_on_real_xquad(real, tok_dir):
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(tok_dir)
    for lang in ("de", "zh"):
        recs = L.squad_from_json(real / "xquad" / f"xquad.{lang}.json")[:40]
        enc = F.encode(recs, T.get("xquad"), tok, 512, train=True)
        hits = 0
        for f in enc.features:
            r = recs[f["ex"]]
            if f["start"] == 0:
                continue
            s, e = f["offsets"][f["start"]][0], f["offsets"][f["end"]][1]
            span = r["context"][s:e]
            assert r["answers"]["text"][0] in span  # token boundaries may widen, never cut, the answer
            assert len(span) <= len(r["answers"]["text"][0]) + 8
            hits += 1
        assert hits >= 30


def test_heads_forward_every_format_and_encoder_saved_without_heads(tok_dir, tmp_path):
    model, tok = build_micro_encoder(tok_dir, ARCH, seed=0)
    model.save_pretrained(tmp_path / "enc")
    tok.save_pretrained(tmp_path / "enc")
    enc, tok = load_encoder(tmp_path / "enc")
    heads = {n: make_head(T.get(n), 32, k) for n, k in
             [("xnli", 3), ("udpos", 17), ("xquad", 0), ("hellaswag", 0)]}
    m = MultiTaskModel(enc, heads, {n: T.get(n).format for n in heads})
    recs = {"xnli": [{"id": "a", "text_a": "Ein Hund.", "text_b": "Ein Tier.", "label": 0}],
            "udpos": [{"id": "a", "tokens": ["Ein", "Hund"], "tags": ["DET", "NOUN"]}],
            "xquad": [{"id": "a", "context": "Anna wohnt in Berlin.", "question": "Wo?",
                       "answers": {"text": ["Berlin"], "answer_start": [14]}}],
            "hellaswag": [{"id": "a", "context": "Er isst", "question": "", "choices": ["a", "b", "c", "d"],
                           "label": 2}]}
    for name, rs in recs.items():
        e = F.encode(rs, T.get(name), tok, 64, list(T.UPOS) if name == "udpos" else None, train=True)
        loss, logits = m(name, F.collate(e, [0], tok.pad_token_id))
        assert torch.isfinite(loss)
        loss.backward()
    save_encoder(m, tok, tmp_path / "out", {"x": 1})
    with safe_open(str(tmp_path / "out" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and not any(k.startswith("heads") or "lm_head" in k for k in keys)
    assert json.loads((tmp_path / "out" / "xstilts_run.json").read_text())["x"] == 1


def test_load_encoder_refuses_wrong_architecture_and_missing_tokenizer(tok_dir, tmp_path):
    from transformers import GPT2Config, GPT2Model
    GPT2Model(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=50)).save_pretrained(tmp_path / "gpt")
    with pytest.raises(ValueError, match="model_type 'gpt2'"):
        load_encoder(tmp_path / "gpt")
    model, tok = build_micro_encoder(tok_dir, ARCH, seed=0)
    model.save_pretrained(tmp_path / "notok")
    with pytest.raises(FileNotFoundError, match="no tokenizer files"):
        load_encoder(tmp_path / "notok")


# ---------------------------------------------------------------------------------------------------------
# Small-scale engine switches: frozen embeddings / bottom blocks, and the forward precision
def _tiny_classifier(tok_dir, layers=3):
    from xstilts.models.modeling import build_micro_encoder
    mlm, tok = build_micro_encoder(tok_dir, {**ARCH, "num_hidden_layers": layers}, seed=0)
    head = make_head(T.get("sst2"), mlm.config.hidden_size, 2)
    return MultiTaskModel(mlm.base_model, {"sst2": head}, {"sst2": T.CLASSIFICATION}), tok


def _sst2_encoded(tok, n=64):
    recs = [{"id": str(i), "text_a": ("good fine great " if i % 2 else "bad awful poor ") * (1 + i % 3),
             "text_b": None, "label": i % 2} for i in range(n)]
    return F.encode(recs, T.get("sst2"), tok, 32)


def test_freeze_layers_trains_only_the_top_blocks_and_the_head(tok_dir):
    from xstilts.train.loop import HParams, train
    model, tok = _tiny_classifier(tok_dir)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    hp = HParams(lr=1e-2, batch_size=8, max_steps=4, eval_every=100, freeze_embeddings=True, freeze_layers=2)
    train(model, tok.pad_token_id, {"sst2": _sst2_encoded(tok)}, {}, hp, seed=0, log=lambda *a: None)
    changed = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert changed, "nothing was trained"
    assert not [n for n in changed if ".embeddings." in n or ".layer.0." in n or ".layer.1." in n]
    assert any(".layer.2." in n for n in changed) and any(n.startswith("heads.") for n in changed)
    with pytest.raises(ValueError, match="freeze_layers=4: the encoder has 3 blocks"):
        train(_tiny_classifier(tok_dir)[0], tok.pad_token_id, {"sst2": _sst2_encoded(tok)}, {},
              HParams(max_steps=1, freeze_layers=4), seed=0, log=lambda *a: None)


def test_freeze_embeddings_alone_keeps_the_word_embeddings(tok_dir):
    from xstilts.train.loop import HParams, train
    model, tok = _tiny_classifier(tok_dir, layers=2)
    w0 = model.encoder.get_input_embeddings().weight.detach().clone()
    pos0 = model.encoder.embeddings.position_embeddings.weight.detach().clone()
    train(model, tok.pad_token_id, {"sst2": _sst2_encoded(tok)}, {},
          HParams(lr=1e-2, batch_size=8, max_steps=3, freeze_embeddings=True), seed=0, log=lambda *a: None)
    assert torch.equal(model.encoder.get_input_embeddings().weight, w0)
    assert not torch.equal(model.encoder.embeddings.position_embeddings.weight, pos0)


def test_precision_switch(tok_dir):
    from xstilts.train import evaluate as E
    from xstilts.env import uses_bf16
    assert uses_bf16("auto", "cpu") is False and uses_bf16("fp32", "cpu") is False
    assert uses_bf16("bf16", "cpu") is True
    with pytest.raises(ValueError, match="train.engine.precision: 'fp16'"):
        uses_bf16("fp16", "cpu")
    model, tok = _tiny_classifier(tok_dir, layers=2)
    enc = _sst2_encoded(tok, 32)
    p32 = E.predict(model, enc, tok.pad_token_id, precision="fp32")
    p16 = E.predict(model, enc, tok.pad_token_id, precision="bf16")
    assert len(p32) == len(p16) == 32
    # bf16 rounds the logits of an untrained model slightly; most argmaxes agree
    assert sum(a == b for a, b in zip(p32, p16)) >= 24
