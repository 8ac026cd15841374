"""Embed once, score from the stored vectors: xstilts.retrieve.job on a tiny hand-written data folder."""
from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from xstilts import records as R
from xstilts.retrieve import job as J
from xstilts.retrieve import search as RT

CFG = {"targets": ["tatoeba", "bucc"], "retrieval": {"k": 2},
       "perturb": {"families": ["word_drop"], "severities": [0.3], "seed": 7}}


def _vec(texts, dim=256):
    """Deterministic character-trigram counts: a stand-in encoder with no model."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        t = f" {t.lower()} "
        for j in range(len(t) - 2):
            out[i, zlib.crc32(t[j:j + 3].encode()) % dim] += 1
    return out + 0.01  # no all-zero vector


def _write(path, recs):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


@pytest.fixture()
def data(tmp_path):
    d = tmp_path / "data"
    en = ["the cat sleeps", "a dog runs home", "we eat bread", "birds sing early", "the sun is hot"]
    xl = ["thé cät sleepz", "ä dög runz homé", "wé eät breäd", "birdz sing eärly", "thé sun iz hót"]
    (d / "task~tatoeba").mkdir(parents=True)
    (d / "task~tatoeba" / "meta.json").write_text(json.dumps({"task": "tatoeba", "languages": ["xl"]}))
    _write(d / "task~tatoeba" / "lang~xl" / "test.jsonl",
           [{"id": str(i), "source": s, "target": t} for i, (s, t) in enumerate(zip(xl, en))])
    (d / "task~bucc").mkdir(parents=True)
    (d / "task~bucc" / "meta.json").write_text(json.dumps({"task": "bucc", "languages": ["xl"]}))
    for split in ("dev", "test"):
        sents = ([{"id": f"xl-{i}", "side": "source", "text": s} for i, s in enumerate(xl + ["zzz qqq"])]
                 + [{"id": f"en-{i}", "side": "target", "text": t} for i, t in enumerate(en)])
        _write(d / "task~bucc" / "lang~xl" / f"{split}.jsonl", sents)
        _write(d / "task~bucc" / "lang~xl" / f"{split}.gold.jsonl",
               [{"source_id": f"xl-{i}", "target_id": f"en-{i}"} for i in range(4)])
    p = tmp_path / "perturbed" / "task~tatoeba" / "family~word_drop" / "severity~0.3" / "seed~7"
    (p).mkdir(parents=True)
    (p / "meta.json").write_text(json.dumps({"family": "word_drop", "severity": 0.3, "seed": 7, "languages": ["xl"]}))
    _write(p / "lang~xl" / "test.jsonl",
           [{"id": str(i), "source": s.split()[0], "target": t} for i, (s, t) in enumerate(zip(xl, en))])
    return d, tmp_path / "perturbed"


def test_embed_once_then_score_equals_direct_computation(data, tmp_path):
    d, pert = data
    sets = J.sentence_sets(CFG, d, pert)
    assert sorted(sets) == ["bucc/xl/dev/source", "bucc/xl/dev/target", "bucc/xl/test/source",
                            "bucc/xl/test/target", "tatoeba/xl/clean/source",
                            "tatoeba/xl/family~word_drop/severity~0.3/seed~7/source", "tatoeba/xl/target"]
    calls = []

    def fn(texts):
        calls.append(len(texts))
        return _vec(texts)

    out = tmp_path / "emb" / "sentences.npz"
    J.write_embeddings(out, sets, fn, {"layer": 2}, log=lambda *_: None)
    assert len(calls) == len(sets)  # the English Tatoeba side once, not once per perturbed copy
    assert not list(out.parent.glob(".*.tmp"))

    res = J.score(CFG, out, d, pert, log=lambda *_: None)
    rows = {(r["ttask"], r["split"], r["family"], r["metric"]): r["value"] for r in res["rows"]}
    recs = R.read_jsonl(d / "task~tatoeba" / "lang~xl" / "test.jsonl")
    direct = RT.tatoeba_accuracy(RT.tatoeba_predict(_vec([r["source"] for r in recs]),
                                                    _vec([r["target"] for r in recs])))
    assert rows["tatoeba", "test", "clean", "accuracy"] == direct == 100.0
    assert ("tatoeba", "test", "word_drop", "accuracy") in rows
    # BUCC: threshold tuned on dev and reused on test; the extra source sentence is no gold pair
    assert rows["bucc", "dev", "clean", "threshold"] == rows["bucc", "test", "clean", "threshold"]
    assert rows["bucc", "test", "clean", "recall"] == 100.0
    assert res["layer"] == 2
    # per-example statistics for the paired bootstrap: one Tatoeba row per query, BUCC rows per source
    ex = res["examples"]
    tat = [e for e in ex if e["ttask"] == "tatoeba" and e["family"] == "clean"]
    assert len(tat) == len(recs) and 100.0 * sum(e["correct"] for e in tat) / len(tat) == direct
    bucc_test = [e for e in ex if e["ttask"] == "bucc" and e["split"] == "test"]
    from xstilts.train import metrics as M
    sums = {k: sum(e[k] for e in bucc_test) for k in ("tp", "n_pred", "n_gold")}
    assert M.metric_from_stats("recall", sums) == rows["bucc", "test", "clean", "recall"]


def test_stale_or_missing_embeddings_are_refused(data, tmp_path):
    d, pert = data
    out = tmp_path / "sentences.npz"
    J.write_embeddings(out, J.sentence_sets(CFG, d, pert), _vec, {"layer": 2}, log=lambda *_: None)
    f = d / "task~tatoeba" / "lang~xl" / "test.jsonl"
    f.write_text(f.read_text(encoding="utf-8").replace("sleepz", "sleeps"), encoding="utf-8")
    with pytest.raises(ValueError, match="tatoeba/xl/clean/source were computed from other texts"):
        J.score(CFG, out, d, pert)
    with pytest.raises(FileNotFoundError, match="embed_sentences"):
        J.score(CFG, tmp_path / "none.npz", d, pert)
    with pytest.raises(ValueError, match="expected 5 vectors"):
        J.write_embeddings(tmp_path / "x.npz", {"k": ["a"] * 5}, lambda t: np.zeros((4, 3)), {})
    assert not (tmp_path / "x.npz").exists()


def test_perturbed_copy_must_keep_the_english_side(data):
    d, pert = data
    f = pert / "task~tatoeba" / "family~word_drop" / "severity~0.3" / "seed~7" / "lang~xl" / "test.jsonl"
    f.write_text(f.read_text(encoding="utf-8").replace("the cat", "one cat"), encoding="utf-8")
    with pytest.raises(ValueError, match="English .* side differs"):
        J.sentence_sets(CFG, d, pert)


def test_retrieval_device_gpu_refuses_to_run_without_faiss_gpu(data, tmp_path):
    """Paper scale sets retrieval.device: gpu; without faiss GPU support (this machine) retrieval stops at
    once with the key and the fix, instead of mining BUCC on the CPU for days. auto says what it used."""
    d, pert = data
    sets = J.sentence_sets(CFG, d, pert)
    out = tmp_path / "sentences.npz"
    J.write_embeddings(out, sets, _vec, {"layer": 2}, log=lambda *_: None)
    gpu_cfg = {**CFG, "retrieval": {**CFG["retrieval"], "device": "gpu"}}
    with pytest.raises(ValueError, match=r"retrieval\.device: gpu.*faiss-gpu"):
        J.score(gpu_cfg, out, d, pert, log=lambda *_: None)
    logs = []
    res = J.score({**CFG, "retrieval": {**CFG["retrieval"], "device": "auto"}}, out, d, pert, log=logs.append)
    assert res["search_backend"] in ("faiss CPU", "numpy") and any("nearest-neighbour search" in m for m in logs)
    with pytest.raises(ValueError, match="retrieval.device"):
        RT.search_backend("tpu")


def test_float16_storage_halves_the_file_and_keeps_the_results(data, tmp_path):
    """retrieval.store_dtype float16 (paper config): half the bytes on disk, vectors read back as float32 within
    float16 rounding, and the same Tatoeba and BUCC results as float32 storage on this data."""
    d, pert = data
    sets = J.sentence_sets(CFG, d, pert)
    outs = {}
    for dt in ("float32", "float16"):
        outs[dt] = tmp_path / dt / "sentences.npz"
        man = J.write_embeddings(outs[dt], sets, _vec, {"layer": 2}, log=lambda *_: None, store_dtype=dt)
        assert man["store_dtype"] == dt
    a, b = J.Embeddings(outs["float32"]), J.Embeddings(outs["float16"])
    key = next(iter(sets))
    va, vb = a.get(key, sets[key]), b.get(key, sets[key])
    assert vb.dtype == np.float32 and np.allclose(va, vb, rtol=1e-3, atol=1e-3)
    sizes = {dt: sum(np.load(p)[k].nbytes for k in np.load(p).files if k.startswith("a")) for dt, p in outs.items()}
    assert sizes["float16"] * 2 == sizes["float32"]
    ra = J.score(CFG, outs["float32"], d, pert, log=lambda *_: None)["rows"]
    rb = J.score(CFG, outs["float16"], d, pert, log=lambda *_: None)["rows"]
    # every score equal; the BUCC threshold (a margin score between two candidates) moves in the 4th digit
    assert [r for r in ra if r["metric"] != "threshold"] == [r for r in rb if r["metric"] != "threshold"]
    for x, y in zip(ra, rb):
        assert x["value"] == pytest.approx(y["value"], rel=1e-3)
    with pytest.raises(ValueError, match="store_dtype"):
        J.write_embeddings(tmp_path / "x.npz", sets, _vec, {}, store_dtype="int8")
