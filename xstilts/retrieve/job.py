"""The two retrieval rules: embed every retrieval sentence once, then score BUCC and Tatoeba from the vectors.

`embed_sentences` (rule embed_sentences, one job per encoder, or one for all with bundle_embeddings) runs the encoder over every side that scoring
needs and writes one .npz: Tatoeba's English side once per language (it is never perturbed), its other
side clean and in every perturbed copy, and BUCC's source and target pools of dev and test. Each array is
stored with the SHA-1 of the texts it was computed from, so `score` refuses vectors that no longer match
the data instead of silently scoring stale ones. `score` (rule retrieve_sentences) needs no model: it
imports numpy and faiss only, so re-scoring (k, threshold, duplicates) never re-embeds.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from xstilts import records as R
from xstilts import tasks as T
from xstilts.perturb.sets import perturbed_sets

MANIFEST_KEY = "__manifest__"


def _texts_sha1(texts) -> str:
    h = hashlib.sha1()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def bucc_split(data_dir, lang: str, split: str):
    """BUCC sentences of one split, by side, and its gold pairs, checked: both sides non-empty and every gold
    pair naming sentences of this split (one that does not would silently cap recall)."""
    path = R.task_file(data_dir, "bucc", lang, split)
    sents = R.read_jsonl(path, T.BUCC)
    src = [s for s in sents if s["side"] == "source"]
    tgt = [s for s in sents if s["side"] == "target"]
    for side, recs in (("source", src), ("target", tgt)):
        if not recs:  # nothing to mine from: say which file, not "no texts to embed"
            raise R.RecordError(f"{path}: no {side}-side sentences")
    gpath = R.task_file(data_dir, "bucc", lang, split, ".gold.jsonl")
    sids, tids = {s["id"] for s in src}, {s["id"] for s in tgt}
    gold_recs = R.read_jsonl(gpath)
    for i, g in enumerate(gold_recs, 1):
        R.validate_bucc_gold(g, f"{gpath}:{i}", sids, tids)
    return src, tgt, {(g["source_id"], g["target_id"]) for g in gold_recs}


def sentence_sets(cfg: dict, data_dir, perturbed_dir) -> dict[str, list[str]]:
    """Every side that scoring embeds, as key -> texts in file order.

    Keys (names of the arrays in the .npz, never parsed back: `_sentence_sets` says what each Tatoeba side is):
    tatoeba/L/target (English), tatoeba/L/clean/source, tatoeba/L/family~F/severity~S/seed~N/source,
    bucc/L/SPLIT/source and bucc/L/SPLIT/target.
    """
    return _sentence_sets(cfg, data_dir, perturbed_dir)[0]


def _sentence_sets(cfg: dict, data_dir, perturbed_dir) -> tuple[dict[str, list[str]], list[dict]]:
    """`sentence_sets` and, per non-English Tatoeba side, what it is: {lang, family, severity, key, english}."""
    data_dir = Path(data_dir)
    sets: dict[str, list[str]] = {}
    sides: list[dict] = []
    if "tatoeba" in cfg["targets"]:
        meta = R.read_meta(data_dir / "task~tatoeba")
        for lang in meta["languages"]:
            recs = R.read_jsonl(R.task_file(data_dir, "tatoeba", lang, "test"), T.TATOEBA)
            sets[f"tatoeba/{lang}/target"] = [r["target"] for r in recs]
            sets[f"tatoeba/{lang}/clean/source"] = [r["source"] for r in recs]
            sides.append({"lang": lang, "family": "clean", "severity": 0.0, "key": f"tatoeba/{lang}/clean/source",
                          "english": f"tatoeba/{lang}/target"})
        root = Path(perturbed_dir or ".") / "task~tatoeba"
        for pdir in perturbed_sets(perturbed_dir, "tatoeba", cfg):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            for lang in pm["languages"]:
                path = pdir / f"lang~{lang}" / "test.jsonl"
                recs = R.read_jsonl(path, T.TATOEBA)
                english = sets.get(f"tatoeba/{lang}/target")
                if english is None or [r["target"] for r in recs] != english:
                    # the English side is embedded once, from the clean file: a perturbed copy must keep it
                    raise ValueError(f"{path}: English (target) side differs from the clean Tatoeba test set "
                                     f"of {lang}; perturbed copies may change the other side only")
                key = f"tatoeba/{lang}/{pdir.relative_to(root).as_posix()}/source"
                sets[key] = [r["source"] for r in recs]
                sides.append({"lang": lang, "family": pm["family"], "severity": float(pm["severity"]), "key": key,
                              "english": f"tatoeba/{lang}/target"})
    if "bucc" in cfg["targets"]:
        meta = R.read_meta(data_dir / "task~bucc")
        for lang in meta["languages"]:
            for split in ("dev", "test"):
                src, tgt, _ = bucc_split(data_dir, lang, split)
                sets[f"bucc/{lang}/{split}/source"] = [x["text"] for x in src]
                sets[f"bucc/{lang}/{split}/target"] = [x["text"] for x in tgt]
    return sets, sides


def _write_npz(path, arrays: dict) -> Path:
    """np.savez through a temporary file and a rename: no half-written output."""
    return R.atomic_write(path, lambda f: np.savez(f, **arrays), binary=True)


def embed_sentences(cfg: dict, encoder_dir, data_dir, perturbed_dir, out_path, threads: int = 1,
                    log=print) -> dict:
    """Embed every side of `sentence_sets` with the configured layer; write them to `out_path` (.npz)."""
    return embed_many(cfg, [(encoder_dir, out_path)], data_dir, perturbed_dir, threads, log)[0]


def embed_sentences_many(cfg: dict, encoder_dirs, data_dir, perturbed_dir, out_paths, threads: int = 1,
                         log=print) -> list[dict]:
    """`embed_sentences` for every (encoder, output) pair in one process (config bundle_embeddings)."""
    if len(encoder_dirs) != len(out_paths):
        raise ValueError(f"{len(encoder_dirs)} encoders but {len(out_paths)} outputs")
    return embed_many(cfg, list(zip(encoder_dirs, out_paths)), data_dir, perturbed_dir, threads, log)


def embed_many(cfg: dict, pairs, data_dir, perturbed_dir, threads: int = 1, log=print) -> list[dict]:
    """`embed_sentences` for several (encoder_dir, out_path) pairs in one process (config bundle_embeddings):
    torch and transformers are imported and the sentence sets read once, not once per encoder. Each output
    is exactly what a one-encoder job writes."""
    from xstilts import env
    from xstilts.retrieve import search as RT
    from xstilts.models.modeling import load_encoder

    env.set_threads(threads)
    import torch

    # float32 throughout (no bf16 autocast, no TF32 matmuls): retrieval compares cosine similarities whose
    # margins are small, and the XTREME reference computes them in float32
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    device_info = env.device_info("fp32")
    rc = cfg["retrieval"]
    layer = rc["layer"]
    sets = sentence_sets(cfg, data_dir, perturbed_dir)
    out = []
    for encoder_dir, out_path in pairs:
        model, tok = load_encoder(encoder_dir)
        model.to(device)
        n_layers = model.config.num_hidden_layers
        if not 0 <= layer <= n_layers:
            raise ValueError(f"config retrieval.layer={layer} but {encoder_dir} has {n_layers} layers")
        # (retrieve.embed runs only the blocks below `layer`: hidden_states[layer] depends on nothing above)

        def fn(texts, model=model, tok=tok):
            return RT.embed(model, tok, texts, layer=layer, batch_size=rc["batch_size"],
                            max_length=rc["max_length"], device=device, prefix=rc.get("prefix", ""))

        if len(pairs) > 1:
            log(f"encoder {encoder_dir} -> {out_path}")
        out.append(write_embeddings(out_path, sets, fn, {"layer": layer, "encoder": str(encoder_dir),
                                                          "prefix": rc.get("prefix", ""), "device": device_info},
                                    log, store_dtype=rc.get("store_dtype", "float32")))
    return out


STORE_DTYPES = ("float32", "float16")


def write_embeddings(out_path, sets: dict[str, list[str]], embed_fn, info: dict, log=print,
                     store_dtype: str = "float32") -> dict:
    """`embed_fn(texts) -> float32 [n, dim]` for every set, all into one .npz with a manifest. `store_dtype`
    float16 halves the file (config retrieval.store_dtype; paper scale: BUCC's pools make a float32 file of
    several GB per encoder); the vectors are computed in float32 and read back as float32, and the manifest
    records the stored dtype."""
    if store_dtype not in STORE_DTYPES:
        raise ValueError(f"config retrieval.store_dtype: {store_dtype!r} is not one of {list(STORE_DTYPES)}")
    arrays, manifest = {}, {**info, "store_dtype": store_dtype, "sets": {}}
    for i, (key, texts) in enumerate(sets.items()):
        if not texts:
            raise ValueError(f"{key}: no sentences to embed (empty side in the data)")
        vecs = np.asarray(embed_fn(texts), dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[0] != len(texts):
            raise ValueError(f"{key}: expected {len(texts)} vectors, got an array of shape {vecs.shape}")
        arrays[f"a{i}"] = vecs.astype(store_dtype)
        manifest["sets"][key] = {"array": f"a{i}", "n": len(texts), "texts_sha1": _texts_sha1(texts)}
        log(f"embedded {key}: {len(texts)} sentences")
    arrays[MANIFEST_KEY] = np.array(json.dumps(manifest, sort_keys=True))
    _write_npz(out_path, arrays)
    return manifest


class Embeddings:
    """The vectors of one `embed_sentences` output, checked against the texts they must match."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: sentence embeddings missing (rule embed_sentences)")
        self._npz = np.load(self.path, allow_pickle=False)
        if MANIFEST_KEY not in self._npz.files:
            raise ValueError(f"{self.path}: not an embed_sentences output (no {MANIFEST_KEY})")
        self.manifest = json.loads(str(self._npz[MANIFEST_KEY]))

    def get(self, key: str, texts) -> np.ndarray:
        entry = self.manifest["sets"].get(key)
        if entry is None:
            raise ValueError(f"{self.path}: no embeddings for {key}; rerun embed_sentences")
        if entry["n"] != len(texts) or entry["texts_sha1"] != _texts_sha1(texts):
            raise ValueError(f"{self.path}: embeddings of {key} were computed from other texts "
                             f"({entry['n']} sentences) than the data now hold ({len(texts)}); rerun embed_sentences")
        return np.asarray(self._npz[entry["array"]], dtype=np.float32)


def score(cfg: dict, emb_path, data_dir, perturbed_dir, threads: int = 1, log=print) -> dict:
    """Tatoeba accuracy and BUCC F1/precision/recall/threshold rows (tidy-row dicts) from stored vectors."""
    from xstilts import env
    from xstilts.retrieve import search as RT

    env.set_threads(threads)
    # config retrieval.device: checked before any work, so a GPU run without faiss-gpu stops at once
    use_gpu, backend = RT.search_backend(cfg["retrieval"].get("device", "auto"))
    log(f"nearest-neighbour search: {backend} (retrieval.device: {cfg['retrieval'].get('device', 'auto')})")
    emb = Embeddings(emb_path)
    sets, sides = _sentence_sets(cfg, data_dir, perturbed_dir)
    rows, examples = [], []
    for side in sides:  # Tatoeba: each other-language side, clean and perturbed, against its English side
        key, english = side["key"], side["english"]
        pred = RT.tatoeba_predict(emb.get(key, sets[key]), emb.get(english, sets[english]), use_gpu=use_gpu)
        where = {"ttask": "tatoeba", "lang": side["lang"], "split": "test", "family": side["family"],
                 "severity": side["severity"]}
        rows.append({**where, "metric": "accuracy", "value": float(RT.tatoeba_accuracy(pred)), "n": len(sets[key])})
        # per English query (line i of both sides): the paired bootstrap's units (docs/records.md)
        examples += [{**where, "id": f"{side['lang']}-{i:06d}", "pred": str(int(p)), "correct": int(p == i),
                      "n_units": 1} for i, p in enumerate(pred)]
    if "bucc" in cfg["targets"]:
        meta = R.read_meta(Path(data_dir) / "task~bucc")
        for lang in meta["languages"]:
            mined = {}
            for split in ("dev", "test"):
                src, tgt, gold = bucc_split(data_dir, lang, split)
                s_texts, t_texts = [s["text"] for s in src], [s["text"] for s in tgt]
                cands = RT.mine_bucc(emb.get(f"bucc/{lang}/{split}/source", s_texts), [s["id"] for s in src],
                                     s_texts, emb.get(f"bucc/{lang}/{split}/target", t_texts),
                                     [s["id"] for s in tgt], t_texts, k=cfg["retrieval"]["k"], use_gpu=use_gpu)
                mined[split] = (cands, gold)
            # threshold tuned on the dev gold, reused unchanged on test (reported beside the scores)
            thr, _ = RT.bucc_optimal_threshold(*mined["dev"])
            for split, (cands, gold) in mined.items():
                sc = RT.bucc_score(cands, gold, thr)
                examples += [{"ttask": "bucc", "lang": lang, "split": split, "family": "clean", "severity": 0.0,
                              "pred": "", **st} for st in RT.bucc_example_stats(cands, gold, thr)]
                log(f"bucc {lang} {split}: F1 {sc['f1']:.2f} at threshold {thr:.4f} ({len(cands)} candidates)")
                for m in ("f1", "precision", "recall", "threshold"):
                    rows.append({"ttask": "bucc", "lang": lang, "split": split, "family": "clean",
                                 "severity": 0.0, "metric": m, "value": float(sc[m]), "n": len(gold)})
    return {"rows": rows, "examples": examples, "layer": emb.manifest["layer"], "search_backend": backend}
