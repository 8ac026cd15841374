"""Tests of xstilts.retrieve.search: exact k-NN (faiss vs numpy), Tatoeba, BUCC mining and thresholds, embed()."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from conftest import REAL, REPO
from xstilts.retrieve import search as R

TATOEBA = REAL / "tatoeba"  # ../shared/fixtures/real; the tests using it request the `real` fixture


def _unit(rng, n, d):
    return R.l2_normalize(rng.standard_normal((n, d), dtype=np.float32))


def _oracle_knn(x, y, k):
    """Brute force in float64 over the whole matrix, ties by lower index."""
    s = (x.astype(np.float64) @ y.astype(np.float64).T).astype(np.float32)
    cols = np.broadcast_to(np.arange(y.shape[0]), s.shape)
    order = np.lexsort((cols, -s), axis=1)[:, :k]
    return np.take_along_axis(s, order, axis=1), order


# ---------------------------------------------------------------------------------------------- k-NN
def test_knn_faiss_equals_numpy_and_oracle_with_ties():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 24)).astype(np.float32)
    y = rng.standard_normal((450, 24)).astype(np.float32)
    y[100:130] = y[7]  # 31 identical database vectors: ties well past the first candidate pool
    x[:40] = y[7] + 0.01 * rng.standard_normal((40, 24)).astype(np.float32)
    s_f, i_f = R.knn(x, y, 5, block_size=64)
    s_n, i_n = R.knn_numpy(x, y, 5, block_size=37)
    s_o, i_o = _oracle_knn(x, y, 5)
    np.testing.assert_array_equal(i_f, i_n)
    np.testing.assert_array_equal(s_f, s_n)
    np.testing.assert_array_equal(i_f, i_o)
    np.testing.assert_allclose(s_f, s_o, rtol=0, atol=1e-6)
    assert i_f[0].tolist() == [7, 100, 101, 102, 103]  # equal sims: lower index first
    assert s_f.dtype == np.float32 and i_f.dtype == np.int64


def test_knn_many_exact_ties_need_wider_search():
    # Every query ties with all 200 database vectors: the candidate pool must grow to the whole database.
    x = np.ones((5, 8), dtype=np.float32)
    y = np.ones((200, 8), dtype=np.float32)
    for fn in (R.knn, R.knn_numpy):
        sims, idx = fn(x, y, 3)
        assert (idx == [0, 1, 2]).all() and (sims == 8).all()


def test_knn_candidate_cap_falls_back_to_full_scan():
    # faiss-GPU caps k at 2048; past the cap every database vector is scored. Exercised here on CPU.
    import faiss

    rng = np.random.default_rng(6)
    y = rng.standard_normal((300, 8)).astype(np.float32)
    y[50:90] = y[3]
    x = np.concatenate([y[3:4], rng.standard_normal((20, 8)).astype(np.float32)])
    index = faiss.IndexFlatIP(8)
    index.add(y)
    out = R._knn_generic(x, y, 3, 7, index.search, max_c=12)
    ref = R.knn_numpy(x, y, 3)
    np.testing.assert_array_equal(out[1], ref[1])
    np.testing.assert_array_equal(out[0], ref[0])
    assert out[1][0].tolist() == [3, 50, 51]


def test_knn_block_size_does_not_change_results():
    rng = np.random.default_rng(1)
    x, y = _unit(rng, 257, 16), _unit(rng, 190, 16)
    ref = R.knn(x, y, 4)
    for bs in (1, 10, 256, 10_000):
        for fn in (R.knn, R.knn_numpy):
            out = fn(x, y, 4, block_size=bs)
            np.testing.assert_array_equal(out[0], ref[0])
            np.testing.assert_array_equal(out[1], ref[1])


@pytest.mark.parametrize("fn", [R.knn, R.knn_numpy])
def test_knn_errors_name_the_problem(fn):
    good = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="queries x.*empty"):
        fn(np.zeros((0, 4), dtype=np.float32), good, 1)
    with pytest.raises(ValueError, match="database y.*empty"):
        fn(good, np.zeros((0, 4), dtype=np.float32), 1)
    with pytest.raises(ValueError, match="dimension mismatch.*4.*5"):
        fn(good, np.zeros((3, 5), dtype=np.float32), 1)
    bad = good.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="database y.*NaN.*row 1"):
        fn(good, bad, 1)
    with pytest.raises(ValueError, match="k=4 exceeds"):
        fn(good, good, 4)
    with pytest.raises(ValueError, match="k must be a positive"):
        fn(good, good, 0)
    with pytest.raises(ValueError, match="2-D"):
        fn(np.zeros(4, dtype=np.float32), good, 1)


def test_knn_use_gpu_without_gpu_is_a_clear_error():
    import faiss

    if hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0:
        pytest.skip("a GPU is visible to faiss")
    x = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="no GPU"):
        R.knn(x, x, 1, use_gpu=True)
    assert R.knn(x, x, 1)[1][:, 0].tolist() == [0, 1, 2]  # auto mode falls back to CPU


def test_knn_gpu_matches_numpy():
    import faiss

    if not (hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0):
        pytest.skip("faiss sees no GPU (faiss-cpu build or no device)")
    rng = np.random.default_rng(2)
    x, y = _unit(rng, 3000, 64), _unit(rng, 2500, 64)
    s_g, i_g = R.knn(x, y, 4, use_gpu=True)
    s_n, i_n = R.knn_numpy(x, y, 4)
    np.testing.assert_array_equal(i_g, i_n)
    np.testing.assert_array_equal(s_g, s_n)


# --------------------------------------------------------------------------------------------- Tatoeba
def _planted_pairs(rng, n, d, noise, extra_src=0):
    """src: other language, n + extra_src sentences; tgt: English, tgt[i] a noisy copy of src[perm[i]]."""
    src = _unit(rng, n + extra_src, d)
    perm = rng.permutation(n + extra_src)[:n]
    tgt = src[perm] + noise * rng.standard_normal((n, d)).astype(np.float32)
    return src, tgt, perm


def test_tatoeba_faiss_equals_numpy_on_planted_pairs():
    rng = np.random.default_rng(3)
    src, tgt, perm = _planted_pairs(rng, 400, 32, noise=0.12)
    src_aligned = src[perm]  # line i aligned, as in the Tatoeba files
    p_f = R.tatoeba_predict(src_aligned, tgt)
    p_n = R.tatoeba_predict(src_aligned, tgt, use_faiss=False)
    np.testing.assert_array_equal(p_f, p_n)
    acc = R.tatoeba_accuracy(p_f)
    assert acc == R.tatoeba_accuracy(p_n)
    assert 50 < acc <= 100
    # scale does not matter (cosine)
    np.testing.assert_array_equal(R.tatoeba_predict(3 * src_aligned, 0.5 * tgt), p_f)


def test_tatoeba_direction_english_queries_by_default():
    rng = np.random.default_rng(4)
    src, tgt, perm = _planted_pairs(rng, 50, 16, noise=0.01, extra_src=30)  # 80 other, 50 English
    pred = R.tatoeba_predict(src, tgt)
    assert pred.shape == (50,)  # one prediction per English sentence ...
    np.testing.assert_array_equal(pred, perm)  # ... pointing into the other-language side
    assert R.tatoeba_predict(src, tgt, query_side="src").shape == (80,)
    with pytest.raises(ValueError, match="query_side"):
        R.tatoeba_predict(src, tgt, query_side="eng")


def test_tatoeba_accuracy_and_errors():
    assert R.tatoeba_accuracy(np.array([0, 1, 5, 3])) == 75.0
    with pytest.raises(ValueError, match="non-empty"):
        R.tatoeba_accuracy(np.array([], dtype=int))
    with pytest.raises(ValueError, match="src embeddings.*empty"):
        R.tatoeba_predict(np.zeros((0, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="dimension mismatch"):
        R.tatoeba_predict(np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="tgt embeddings.*NaN"):
        R.tatoeba_predict(np.ones((2, 4)), np.array([[1, 2, 3, np.nan], [1, 1, 1, 1]]))


def _char_ngram_vectors(lines, n=3, dim=4096):
    out = np.zeros((len(lines), dim), dtype=np.float32)
    for i, line in enumerate(lines):
        t = f" {line.strip().lower()} "
        for j in range(len(t) - n + 1):
            out[i, zlib.crc32(t[j:j + n].encode("utf-8")) % dim] += 1
    return out


@pytest.mark.usefixtures("real")  # skips, saying why, when ../shared is missing
@pytest.mark.parametrize("lang", ["deu", "cmn", "ara"])
def test_tatoeba_real_fixtures_faiss_equals_numpy(lang):
    other = (TATOEBA / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()
    eng = (TATOEBA / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()
    assert len(other) == len(eng) == 200
    x, y = _char_ngram_vectors(other), _char_ngram_vectors(eng)
    # cmn/ara share almost no n-grams with English: many exact ties at 0, broken by lower index
    p_f, p_n = R.tatoeba_predict(x, y), R.tatoeba_predict(x, y, use_faiss=False)
    np.testing.assert_array_equal(p_f, p_n)
    assert R.tatoeba_accuracy(p_f) == R.tatoeba_accuracy(p_n)
    if lang == "deu":  # sanity on real data: shared spelling puts German far above chance (0.5%)
        assert R.tatoeba_accuracy(p_f) > 5.0


# ------------------------------------------------------------------------------------------------ BUCC
def _reference_mine(x, y, k=4):
    """Dense float64 port of XTREME/LASER mine_bitext (cosine, ratio margin, retrieval='max', threshold 0)."""
    x, y = R.l2_normalize(x).astype(np.float64), R.l2_normalize(y).astype(np.float64)
    s = x @ y.T

    def top(m, kk):
        cols = np.broadcast_to(np.arange(m.shape[1]), m.shape)
        ind = np.lexsort((cols, -m), axis=1)[:, :kk]
        return np.take_along_axis(m, ind, axis=1), ind

    fs, fi = top(s, min(k, y.shape[0]))
    bs, bi = top(s.T, min(k, x.shape[0]))
    fm, bm = fs.mean(1), bs.mean(1)
    fsc = np.array([[s[i, j] / ((fm[i] + bm[j]) / 2) for j in fi[i]] for i in range(len(x))])
    bsc = np.array([[s[i, j] / ((bm[j] + fm[i]) / 2) for i in bi[j]] for j in range(len(y))])
    fb, bb = fi[np.arange(len(x)), fsc.argmax(1)], bi[np.arange(len(y)), bsc.argmax(1)]
    idx = np.stack((np.concatenate((np.arange(len(x)), bb)), np.concatenate((fb, np.arange(len(y))))), 1)
    sc = np.concatenate((fsc.max(1), bsc.max(1)))
    out, ss, st = [], set(), set()
    for i in np.argsort(-sc, kind="stable"):
        a, b = idx[i]
        if a not in ss and b not in st:
            ss.add(a)
            st.add(b)
            if sc[i] > 0:
                out.append((int(a), int(b), float(sc[i])))
    return out


def _bucc_data(rng, n_src=300, n_tgt=260, n_pairs=120, d=32, noise=0.2):
    src = _unit(rng, n_src, d)
    tgt = _unit(rng, n_tgt, d)
    s_idx = rng.choice(n_src, n_pairs, replace=False)
    t_idx = rng.choice(n_tgt, n_pairs, replace=False)
    tgt[t_idx] = src[s_idx] + noise * rng.standard_normal((n_pairs, d)).astype(np.float32)
    src_ids = [f"de-{i:06d}" for i in range(n_src)]
    tgt_ids = [f"en-{i:06d}" for i in range(n_tgt)]
    gold = {(src_ids[a], tgt_ids[b]) for a, b in zip(s_idx, t_idx)}
    return src, src_ids, [f"s{i}" for i in range(n_src)], tgt, tgt_ids, [f"t{i}" for i in range(n_tgt)], gold


def test_bucc_faiss_equals_numpy_and_reference_port():
    rng = np.random.default_rng(5)
    src, sids, stexts, tgt, tids, ttexts, gold = _bucc_data(rng)
    c_f = R.mine_bucc(src, sids, stexts, tgt, tids, ttexts)
    c_n = R.mine_bucc(src, sids, stexts, tgt, tids, ttexts, use_faiss=False)
    assert c_f == c_n  # same pairs, same order, bitwise-equal margin scores

    ref = _reference_mine(src, tgt)
    assert [(sids[a], tids[b]) for a, b, _ in ref] == [c[:2] for c in c_f]
    np.testing.assert_allclose([s for *_, s in ref], [c[2] for c in c_f], rtol=1e-5)

    th_f, m_f = R.bucc_optimal_threshold(c_f, gold)
    th_n, m_n = R.bucc_optimal_threshold(c_n, gold)
    assert th_f == pytest.approx(th_n, rel=1e-6)
    assert m_f == pytest.approx(m_n)
    assert m_f["f1"] > 80  # planted pairs are found
    assert R.bucc_score(c_f, gold, th_f) == m_f
    # each sentence used at most once
    assert len({c[0] for c in c_f}) == len(c_f) == len({c[1] for c in c_f})
    scores = [c[2] for c in c_f]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0


def test_mine_margin_faiss_equals_numpy_exactly_with_ties():
    rng = np.random.default_rng(11)
    src, _, _, tgt, _, _, _ = _bucc_data(rng, n_src=900, n_tgt=700, n_pairs=400, d=48, noise=0.3)
    tgt[50:60] = tgt[7]  # identical target vectors: tied similarities and tied margin scores
    src[100:105] = src[3]
    x, y = R.l2_normalize(src), R.l2_normalize(tgt)
    out_f = R.mine_margin(x, y, k=4)
    out_n = R.mine_margin(x, y, k=4, use_faiss=False)
    for a, b in zip(out_f, out_n):
        np.testing.assert_array_equal(a, b)
    assert out_f[2].dtype == np.float64 and out_f[0].size > 300


def test_greedy_selection_equals_the_reference_loop():
    rng = np.random.default_rng(12)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        src, tgt = rng.integers(0, 15, n), rng.integers(0, 15, n)
        scores = rng.integers(0, 6, n).astype(np.float64)  # many equal scores
        ref, seen_s, seen_t = [], set(), set()
        for i in np.argsort(-scores, kind="stable"):
            if src[i] not in seen_s and tgt[i] not in seen_t:
                seen_s.add(src[i])
                seen_t.add(tgt[i])
                ref.append(i)
        assert R._greedy_one_to_one(src, tgt, scores).tolist() == ref


@pytest.mark.usefixtures("real")  # skips, saying why, when ../shared is missing
def test_bucc_mining_on_real_text_faiss_equals_numpy_and_reference_port():
    deu = (TATOEBA / "tatoeba.deu-eng.deu").read_text(encoding="utf-8").splitlines()
    eng = (TATOEBA / "tatoeba.deu-eng.eng").read_text(encoding="utf-8").splitlines()
    # a BUCC-like pool: 150 translated pairs, 50 unpaired sentences per side, repeated lines on both sides
    src_texts = deu[:150] + deu[150:200] + deu[:5]
    tgt_texts = eng[:150] + eng[:3] + [f"{e} !" for e in eng[150:200]]
    sids = [f"de-{i:06d}" for i in range(len(src_texts))]
    tids = [f"en-{i:06d}" for i in range(len(tgt_texts))]
    gold = {(sids[i], tids[i]) for i in range(150)}
    x, y = _char_ngram_vectors(src_texts), _char_ngram_vectors(tgt_texts)
    c_f = R.mine_bucc(x, sids, src_texts, y, tids, tgt_texts)
    c_n = R.mine_bucc(x, sids, src_texts, y, tids, tgt_texts, use_faiss=False)
    assert c_f == c_n
    th_f, m_f = R.bucc_optimal_threshold(c_f, gold)
    assert (th_f, m_f) == R.bucc_optimal_threshold(c_n, gold)
    assert m_f["f1"] > 20  # shared spelling finds real translations far above chance
    # the dense reference port on the de-duplicated sentences gives the same pairs and scores
    assert len({t.strip() for t in src_texts}) == 200 and len({t.strip() for t in tgt_texts}) == 200
    tgt_u = list(range(150)) + list(range(153, 203))  # rows 150-152 repeat rows 0-2 exactly
    ref = _reference_mine(x[:200], y[tgt_u])
    ref_pairs = {(sids[a], tids[tgt_u[b]]): sc for a, b, sc in ref}
    firsts = {(a, b): sc for a, b, sc in c_f if int(a[3:]) < 200 and int(b[3:]) in tgt_u}
    assert firsts.keys() == ref_pairs.keys()
    np.testing.assert_allclose([firsts[p] for p in ref_pairs], list(ref_pairs.values()), rtol=1e-5)
    # "expand": a pair mined for a repeated sentence is credited to every id of it
    rep = [(a, b, sc) for a, b, sc in c_f if int(a[3:]) < 5]
    assert rep and all((f"de-{int(a[3:]) + 200:06d}", b, sc) in c_f for a, b, sc in rep)


def test_benchmark_refuses_bucc_size_on_cpu(capsys):
    import faiss

    if hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0:
        pytest.skip("a GPU is visible to faiss")
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_retrieval", REPO / "benchmarks" / "bench_retrieval.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--n", "400000", "--d", "1024"]) == 2
    assert "refusing" in capsys.readouterr().err


def test_bucc_duplicates_expand_like_jiant_or_drop_like_xtreme():
    x = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=np.float32)
    y = np.array([[1, 0.05, 0], [0, 1, 0.05], [0, 0.1, 1]], dtype=np.float32)
    sids, stexts = ["de-1", "de-2", "de-3"], ["Hallo.", "Welt", " Hallo.\n"]  # de-1 and de-3 are one sentence
    tids, ttexts = ["en-1", "en-2", "en-3"], ["Hello.", "World", "Other"]
    cands = R.mine_bucc(x, sids, stexts, y, tids, ttexts, k=2)
    pairs = {c[:2] for c in cands}
    assert {("de-1", "en-1"), ("de-3", "en-1"), ("de-2", "en-2")} <= pairs
    s1 = {c[:2]: c[2] for c in cands}
    assert s1["de-1", "en-1"] == s1["de-3", "en-1"]
    gold = {("de-3", "en-1"), ("de-2", "en-2")}
    th, m = R.bucc_optimal_threshold(cands, gold)
    assert m["recall"] == 100.0

    dropped = R.mine_bucc(x, sids, stexts, y, tids, ttexts, k=2, duplicates="drop")
    assert not any(c[0] in ("de-1", "de-3") for c in dropped)
    assert ("de-2", "en-2") in {c[:2] for c in dropped}
    assert R.bucc_score(dropped, gold, 0.0)["recall"] == 50.0


def test_bucc_errors_name_the_problem():
    x = np.eye(3, dtype=np.float32)
    ids, texts = ["a", "b", "c"], ["x", "y", "z"]
    with pytest.raises(ValueError, match="src embeddings.*empty"):
        R.mine_bucc(np.zeros((0, 3)), [], [], x, ids, texts)
    with pytest.raises(ValueError, match="tgt embeddings.*empty"):
        R.mine_bucc(x, ids, texts, np.zeros((0, 3)), [], [])
    with pytest.raises(ValueError, match="dimension mismatch.*3.*4"):
        R.mine_bucc(x, ids, texts, np.ones((3, 4)), ids, texts)
    nan = x.copy()
    nan[2, 0] = np.nan
    with pytest.raises(ValueError, match="tgt embeddings.*NaN.*row 2"):
        R.mine_bucc(x, ids, texts, nan, ids, texts)
    with pytest.raises(ValueError, match="src: 3 embeddings, 2 ids"):
        R.mine_bucc(x, ids[:2], texts, x, ids, texts)
    with pytest.raises(ValueError, match="duplicates"):
        R.mine_bucc(x, ids, texts, x, ids, texts, duplicates="keep")
    with pytest.raises(ValueError, match="gold_pairs is empty"):
        R.bucc_optimal_threshold([("a", "b", 1.0)], set())


def test_bucc_threshold_as_reference():
    cands = [("s1", "t1", 1.5), ("s2", "t2", 1.4), ("s3", "t9", 1.3), ("s4", "t4", 1.2), ("s5", "t8", 1.1)]
    gold = {("s1", "t1"), ("s2", "t2"), ("s4", "t4"), ("s6", "t6")}
    th, m = R.bucc_optimal_threshold(cands, gold)
    # F1 after each candidate: .4, .667, .571, .75 (best), .667 -> midpoint of 1.2 and 1.1
    assert th == pytest.approx(1.15)
    assert m == pytest.approx({"precision": 75.0, "recall": 75.0, "f1": 75.0, "threshold": 1.15})
    assert R.bucc_score(cands, gold, 1.35) == pytest.approx(
        {"precision": 100.0, "recall": 50.0, "f1": 200 / 3, "threshold": 1.35})
    # best F1 at the last candidate: the reference would raise IndexError; the threshold is its score
    th_last, m_last = R.bucc_optimal_threshold(cands[:2], {("s1", "t1"), ("s2", "t2")})
    assert th_last == 1.4 and m_last["f1"] == 100.0
    # no correct candidate: threshold stays 0 as in the reference
    th0, m0 = R.bucc_optimal_threshold(cands, {("x", "y")})
    assert th0 == 0.0 and m0["f1"] == 0.0
    # a pair listed twice keeps its best score (XTREME read_candidate2score)
    assert R.bucc_score([("s1", "t1", 0.5), ("s1", "t1", 2.0)], {("s1", "t1")}, 1.0)["f1"] == 100.0


# ----------------------------------------------------------------------------------------------- embed
@pytest.fixture(scope="module")
def tiny_model_and_tokenizer():
    torch = pytest.importorskip("torch")
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    specials = ["<s>", "<pad>", "</s>", "<unk>"]  # XLM-R ids: bos 0, pad 1, eos 2
    chars = "abcdefghijklmnopqrstuvwxyzäöüß .,!?'"
    vocab = {t: i for i, t in enumerate(specials + list(chars))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    torch.manual_seed(0)
    model = XLMRobertaModel(XLMRobertaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=2, intermediate_size=64))
    model.eval()  # a fresh model is in training mode; the manual forward passes below need no dropout
    return model, tokenizer


TEXTS = ["hallo welt.", "a", "wie lange sollen tom und ich hierbleiben?", "", "tschüß!", "ok ok ok ok"]


def test_embed_batch_equals_one_by_one_and_order_is_kept(tiny_model_and_tokenizer):
    model, tok = tiny_model_and_tokenizer
    batched = R.embed(model, tok, TEXTS, layer=1, batch_size=4)
    single = np.stack([R.embed(model, tok, [t], layer=1)[0] for t in TEXTS])
    assert batched.shape == (len(TEXTS), 32) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-5)
    assert not np.allclose(batched[0], batched[2])


def test_embed_is_mean_over_real_tokens_including_specials(tiny_model_and_tokenizer):
    import torch

    model, tok = tiny_model_and_tokenizer
    text = "tom."
    ids = tok(text)["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>
    with torch.no_grad():
        hs = model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
    for layer in (0, 1, 2):
        expected = hs[layer][0].mean(dim=0).numpy()
        got = R.embed(model, tok, [text, "a much longer sentence forces padding"], layer=layer)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_embed_runs_only_the_blocks_below_its_layer_and_restores_them(tiny_model_and_tokenizer):
    model, tok = tiny_model_and_tokenizer
    blocks = model.encoder.layer
    calls = []
    hooks = [b.register_forward_hook(lambda m, i, o, k=k: calls.append(k)) for k, b in enumerate(blocks)]
    try:
        R.embed(model, tok, ["tom."], layer=1)
        assert calls == [0]  # block 1 cannot change hidden_states[1]: it is not run
        calls.clear()
        R.embed(model, tok, ["tom."], layer=2)
        assert calls == [0, 1]
    finally:
        for h in hooks:
            h.remove()
    assert model.encoder.layer is blocks and len(blocks) == 2


def test_embed_errors(tiny_model_and_tokenizer):
    model, tok = tiny_model_and_tokenizer
    with pytest.raises(ValueError, match="layer"):
        R.embed(model, tok, ["a"], layer=3)
    with pytest.raises(ValueError, match="layer"):
        R.embed(model, tok, ["a"], layer=-1)
    with pytest.raises(ValueError, match="no texts"):
        R.embed(model, tok, [], layer=1)
    with pytest.raises(ValueError, match="not one string"):
        R.embed(model, tok, "abc", layer=1)


def test_embed_never_autocasts(tiny_model_and_tokenizer, monkeypatch):
    """Retrieval vectors are float32 on every device (issue 18 item 9): no autocast context is entered, so on
    a GPU nothing runs in bf16 either (this machine has none; the spy sees every call)."""
    import torch

    model, tok = tiny_model_and_tokenizer
    calls = []
    real = torch.autocast

    def spy(*a, **k):
        calls.append((a, k))
        return real(*a, **k)

    monkeypatch.setattr(torch, "autocast", spy)
    out = R.embed(model, tok, ["hallo welt.", "a"], layer=1)
    assert out.dtype == np.float32 and calls == []


def test_bucc_example_stats_sum_to_bucc_score():
    """Per-source statistics (the paired bootstrap's units) give back bucc_score's P/R/F1 when summed."""
    from xstilts.train import metrics as M
    cands = [("s1", "t1", 0.9), ("s2", "t9", 0.8), ("s3", "t3", 0.7), ("s4", "t4", 0.2), ("s5", "t5", 0.95)]
    gold = [("s1", "t1"), ("s3", "t3"), ("s4", "t4"), ("s6", "t6")]
    for thr in (0.0, 0.5, 0.85):
        stats = R.bucc_example_stats(cands, gold, thr)
        sums = {k: sum(r[k] for r in stats) for k in ("tp", "n_pred", "n_gold")}
        want = R.bucc_score(cands, gold, thr)
        for m in ("precision", "recall", "f1"):
            assert M.metric_from_stats(m, sums) == pytest.approx(want[m])
        assert {r["id"] for r in stats} >= {"s1", "s3", "s4", "s6"}  # every gold source is a unit
