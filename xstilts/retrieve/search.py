"""Sentence retrieval for BUCC 2018 and Tatoeba (PROTOCOL.md, "Retrieval").

Sentence vectors are mean-pooled hidden states of one transformer layer (`embed`). Retrieval is exact
inner-product k-NN (`knn` with faiss, `knn_numpy` as a plain numpy reference with the same semantics), used
for Tatoeba nearest-neighbour accuracy and for BUCC ratio-margin bitext mining as in XTREME
(`third_party/utils_retrieve.py`, itself LASER's `mine_bitexts.py`) and jiant (`bucc2018` task lib, which
the paper's runs used).

What the reference code does, and what is reproduced here:

- Tatoeba direction. XTREME `evaluate_retrieval.py` calls `similarity_search(x=<other language>,
  y=<English>)`, which indexes x and searches y: every *English* sentence queries the other-language
  side, and prediction i is an index into the other side. jiant's `TatoebaEvaluationScheme` does the same
  (`x=other_lang_embeddings, y=eng_embeddings`). This matches PROTOCOL.md ("from each English sentence to
  the other side"). Both use `IndexFlatL2` on L2-normalised vectors, which ranks exactly as cosine; we use
  inner product on normalised vectors.
- BUCC sides. Both references call `mine_bitext(x=<other language>, y=<English>)`; gold lines are
  "<other id>\\t<English id>", so `src` here is the non-English side and `tgt` English.
- BUCC de-duplication. Identical sentences are mined once (the embedding of the *last* occurrence is
  kept, as `unique_embeddings` does). Mapping back to ids differs between the references:
  jiant (`create_ids_map` + `itertools.product`) gives a mined pair to *every* id of both deduplicated
  sentences, so gold pairs on any copy can be found ("expand", the default, since the paper ran jiant);
  XTREME's `read_sent2id` deletes repeated sentences from its sentence->id map, so candidates touching a
  duplicated sentence are dropped and gold pairs on them can never be recalled ("drop"). jiant keys
  sentences on `text.strip()`; so do we.
- BUCC mining is the "max" strategy: forward best (by margin among the source's k-NN) for every source,
  backward best for every target, all of them sorted by descending score and accepted greedily with each
  source and each target used once, keeping scores above 0 (`threshold=0` in the reference miner).
- BUCC threshold (`bucc_optimize`): walk the candidates by descending score, and whenever F1 improves set
  the threshold to the midpoint between the current and the next score; pairs with score >= threshold are
  extracted. The reference raises IndexError when the best F1 is at the last candidate; here the threshold
  is then that candidate's own score.

Determinism: inner products are first found approximately (faiss BLAS/GPU kernels, or numpy matmul), then
the retained candidates are re-scored with one canonical computation (float64 dot rounded to float32) and
ordered by (-similarity, index). A row whose k-th neighbour cannot be certified against the float32 error
bound of the first pass is searched again with more candidates, so both paths return the same neighbours
with the same ties (lower index first) and bitwise-equal similarities.
"""
from __future__ import annotations

import contextlib

import itertools
import math
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "embed",
    "knn",
    "knn_numpy",
    "l2_normalize",
    "tatoeba_predict",
    "tatoeba_accuracy",
    "mine_margin",
    "mine_bucc",
    "bucc_optimal_threshold",
    "bucc_score",
]

# faiss GPU flat search supports k up to this many neighbours.
_GPU_MAX_K = 2048


# --------------------------------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------------------------------
def embed(model, tokenizer, texts: Sequence[str], layer: int, batch_size: int = 64, max_length: int = 512,
          device=None, prefix: str = "") -> np.ndarray:
    """Mean-pooled `hidden_states[layer]` (0 = embedding output) of `model` for each text.

    `prefix` is prepended to every text before tokenisation (e5 models expect "query: "; XLM-R none).

    The mean runs over every non-padding token, special tokens included. Texts are batched by length
    (longest first) and returned in input order as a float32 array [len(texts), hidden]. The forward pass
    and the pooling run in float32 on every device (issue 18: bf16 moved retrieval scores). `device=None` uses the
    device the model is on; otherwise the model is moved there.
    """
    import torch

    if isinstance(texts, str):
        raise ValueError("embed: texts must be a sequence of strings, not one string")
    texts = list(texts)
    if not texts:
        raise ValueError("embed: no texts to embed")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"embed: texts must be strings; text {bad[0]} is {type(texts[bad[0]]).__name__}")
    if not isinstance(prefix, str):
        raise ValueError(f"embed: prefix must be a string, got {type(prefix).__name__}")
    if prefix:
        texts = [prefix + t for t in texts]
    if batch_size < 1 or max_length < 2:
        raise ValueError(f"embed: batch_size must be >= 1 and max_length >= 2 "
                         f"(got {batch_size}, {max_length})")
    if getattr(tokenizer, "pad_token_id", None) is None:
        raise ValueError("embed: the tokenizer has no pad token; set tokenizer.pad_token first")
    n_layers = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or layer < 0 or (
            n_layers is not None and layer > n_layers):
        raise ValueError(f"embed: layer must be an int in 0..{n_layers if n_layers is not None else 'L'} "
                         f"(0 = embedding output), got {layer!r}")

    if device is None:
        device = next(model.parameters()).device
    else:
        device = torch.device(device)
        model.to(device)

    # One tokenisation pass; batches are padded from the ids so that only real tokens carry mask 1.
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    feature_keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    lengths = np.array([len(ids) for ids in enc["input_ids"]])
    order = np.argsort(-lengths, kind="stable")

    out = None
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), _only_layers_below(model, layer) as truncated:
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                batch = tokenizer.pad({k: [enc[k][i] for i in rows] for k in feature_keys},
                                      padding=True, return_attention_mask=True, return_tensors="pt")
                batch = {k: v.to(device) for k, v in batch.items()}
                # float32 on every device, no autocast (retrieve.job.embed_many says why)
                if truncated:  # the last of the blocks kept is hidden_states[layer]
                    states = model(**batch).last_hidden_state.float()
                else:
                    hidden = model(**batch, output_hidden_states=True).hidden_states
                    if layer >= len(hidden):
                        raise ValueError(f"embed: layer {layer} out of range 0..{len(hidden) - 1}")
                    states = hidden[layer].float()
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                if out is None:
                    out = np.empty((len(texts), pooled.shape[-1]), dtype=np.float32)
                out[rows] = pooled.cpu().numpy()
    finally:
        model.train(was_training)

    bad_rows = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if bad_rows.size:
        raise ValueError(f"embed: non-finite sentence vectors for {bad_rows.size} text(s), "
                         f"first at index {bad_rows[0]}")
    return out


@contextlib.contextmanager
def _only_layers_below(model, layer: int):
    """Run only the blocks that `hidden_states[layer]` depends on: the blocks above it cannot change it, and
    skipping them saves 5/12 of e5-small's forward pass (layer 7) and 10/24 of XLM-R Large's (layer 14).
    The encoder's block list is swapped for its first `layer` blocks and restored on exit. Models without a
    `model.encoder.layer` list (anything not BERT-shaped) run whole. Yields whether the blocks were cut, so
    that the caller reads `last_hidden_state` (BERT-shaped encoders apply nothing after their last block)."""
    import torch

    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(blocks, torch.nn.ModuleList) or layer >= len(blocks):
        yield False
        return
    model.encoder.layer = torch.nn.ModuleList(list(blocks)[:layer])
    try:
        yield True
    finally:
        model.encoder.layer = blocks


# --------------------------------------------------------------------------------------------------
# Exact k-NN
# --------------------------------------------------------------------------------------------------
def _as_matrix(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array [n, dim], got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: is empty (0 vectors)")
    if a.shape[1] == 0:
        raise ValueError(f"{name}: vectors have dimension 0")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"{name}: expected real numbers, got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    finite = np.isfinite(a).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        what = "NaN" if np.isnan(a[bad[0]]).any() else "infinite"
        raise ValueError(f"{name}: {bad.size} vector(s) contain NaN or infinite values "
                         f"(first: row {bad[0]}, {what})")
    return a


def _check_pair(x, y, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    x = _as_matrix(x, x_name)
    y = _as_matrix(y, y_name)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"dimension mismatch: {x_name} has dim {x.shape[1]}, {y_name} has dim {y.shape[1]}")
    return x, y


def _canonical_sims(xq: np.ndarray, y: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """float32(float64 dot) of each query row with its candidate rows of y; same code in every path.

    Each value is an elementwise float64 product (exact for float32 inputs) summed over one contiguous
    row, so it does not depend on how the candidates were found or chunked.
    """
    m, c = cand.shape
    d = y.shape[1]
    budget = 1 << 21  # float64 elements per chunk (16 MB): small enough to stay in cache
    col_step = min(c, max(1, budget // d))
    row_step = max(1, budget // (col_step * d))
    out = np.empty((m, c), dtype=np.float32)
    for r in range(0, m, row_step):
        q = xq[r:r + row_step].astype(np.float64)[:, None, :]
        for j in range(0, c, col_step):
            g = y[cand[r:r + row_step, j:j + col_step]].astype(np.float64)
            g *= q
            out[r:r + row_step, j:j + col_step] = g.sum(axis=-1)
    return out


def _row_norms(a: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Row L2 norms accumulated in float64 without a full float64 copy of `a`."""
    out = np.empty(a.shape[0], dtype=np.float64)
    for s in range(0, a.shape[0], chunk):
        b = a[s:s + chunk].astype(np.float64)
        out[s:s + chunk] = np.sqrt(np.einsum("ij,ij->i", b, b))
    return out


def _sort_candidates(sims: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((cand, -sims), axis=-1)  # primary: similarity descending; ties: lower index
    return np.take_along_axis(sims, order, axis=-1), np.take_along_axis(cand, order, axis=-1)


# A search function maps (query rows [m, d], number of candidates c) to (approximate sims, indices),
# each [m, c], holding the c largest approximate inner products of each row (any order).
SearchFn = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _knn_generic(x: np.ndarray, y: np.ndarray, k: int, block_size: int, search: SearchFn,
                 max_c: int) -> tuple[np.ndarray, np.ndarray]:
    n, d = x.shape
    ny = y.shape[0]
    # Worst-case float32 error of a length-d dot product is about d * 2^-24 * |x| |y| (Cauchy-Schwarz);
    # doubled, plus room for the final rounding to float32.
    u = 2.0 ** -23
    y_norm_max = float(_row_norms(y).max())
    x_norm = _row_norms(x)
    tol = (d + 8) * u * x_norm * y_norm_max + np.finfo(np.float32).tiny

    sims = np.empty((n, k), dtype=np.float32)
    idx = np.empty((n, k), dtype=np.int64)
    c0 = min(ny, k + max(4, k))
    budget = max(block_size * c0, 1 << 20)  # candidates held at once: rows x c
    for start in range(0, n, block_size):
        pending = [(np.arange(start, min(start + block_size, n)), c0)]
        while pending:
            rows, c = pending.pop()
            if c > max_c:  # only reachable on GPU (k limit): score every database vector for these rows
                c = ny
            step = max(1, budget // c)
            for s in range(0, rows.size, step):
                sub = rows[s:s + step]
                if c >= ny:
                    approx, cand = None, np.broadcast_to(np.arange(ny), (sub.size, ny))
                else:
                    approx, cand = search(x[sub], c)
                exact, cand = _sort_candidates(_canonical_sims(x[sub], y, cand), cand)
                if c >= ny:
                    done = np.ones(sub.size, dtype=bool)
                else:
                    # A vector not retrieved has approximate sim <= the lowest retrieved one, so exact sim
                    # <= that + tol; if this is below the exact k-th sim, the top k are certain.
                    done = approx.min(axis=1).astype(np.float64) + tol[sub] < exact[:, k - 1]
                sims[sub[done]] = exact[done, :k]
                idx[sub[done]] = cand[done, :k]
                if not done.all():
                    pending.append((sub[~done], min(ny, 4 * c)))
    return sims, idx


def _check_k(k, ny: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > ny:
        raise ValueError(f"k={k} exceeds the number of database vectors ({ny})")
    return int(k)


def search_backend(device: str = "auto") -> tuple[bool, str]:
    """(use_gpu, description) for config `retrieval.device`: "gpu" requires faiss with GPU support and a visible
    device (else a ValueError naming the key and the fix), "cpu" never uses one, "auto" uses one when there."""
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"config retrieval.device: {device!r} is not one of auto, cpu, gpu")
    try:
        import faiss
    except ImportError:
        faiss = None
    gpu = faiss is not None and _faiss_gpu_available(faiss)
    if device == "gpu" and not gpu:
        why = "faiss is not installed" if faiss is None else "this faiss has no GPU support or sees no device"
        raise ValueError(f"config retrieval.device: gpu, but {why}. Run on a GPU node with faiss-gpu (pip install "
                         "-r requirements-cluster.txt, or --sdm conda, whose retrieval rules then use "
                         "envs/retrieve-gpu.yaml), or set retrieval.device: auto to search on the CPU")
    use_gpu = gpu and device != "cpu"
    name = "faiss GPU" if use_gpu else ("faiss CPU" if faiss is not None else "numpy")
    return use_gpu, name


def _faiss_gpu_available(faiss) -> bool:
    # Without a GPU, index_cpu_to_all_gpus returns an empty index and only search fails (bare assertion).
    return hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0


def knn(x, y, k: int, block_size: int = 16384, use_gpu: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product k-NN of each row of `x` among the rows of `y`, with faiss.

    Returns (sims [n, k] float32, idx [n, k] int64), sorted by descending similarity, ties by lower index.
    Queries are searched `block_size` rows at a time, so memory beyond the inputs is O(block_size * k).
    `use_gpu=None` uses a GPU when faiss sees one; True requires one.
    """
    import faiss

    x, y = _check_pair(x, y, "queries x", "database y")
    k = _check_k(k, y.shape[0])
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    gpu_ok = _faiss_gpu_available(faiss)
    if use_gpu and not gpu_ok:
        raise ValueError("knn: use_gpu=True but faiss sees no GPU (faiss-cpu build, or no device visible)")
    use_gpu = gpu_ok if use_gpu is None else bool(use_gpu)

    index = faiss.IndexFlatIP(y.shape[1])
    resources = None
    if use_gpu:
        resources = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(resources, 0, index)
    index.add(y)

    try:
        return _knn_generic(x, y, k, block_size, index.search, _GPU_MAX_K if use_gpu else y.shape[0])
    finally:
        del index, resources  # the GPU index before its resources


def knn_numpy(x, y, k: int, block_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Plain numpy reference for `knn` with identical results: blocked `x @ y.T` then top-k per row.

    Memory beyond the inputs is O(block_size * len(y)) for one block of similarities.
    """
    x, y = _check_pair(x, y, "queries x", "database y")
    k = _check_k(k, y.shape[0])
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")

    ny = y.shape[0]
    buf = np.empty((min(block_size, x.shape[0]), ny), dtype=np.float32)  # reused: no page faults per block

    def search(q, c):
        s = np.matmul(q, y.T, out=buf[:q.shape[0]])
        if c < ny:
            cand = np.argpartition(s, ny - c, axis=1)[:, ny - c:]
        else:
            cand = np.broadcast_to(np.arange(ny), s.shape).copy()
        return np.take_along_axis(s, cand, axis=1), cand

    return _knn_generic(x, y, k, block_size, search, y.shape[0])


def _knn(x, y, k, use_faiss: bool, use_gpu: bool | None = None):
    return knn(x, y, k, use_gpu=use_gpu) if use_faiss else knn_numpy(x, y, k)


def l2_normalize(a) -> np.ndarray:
    """Row-wise L2 normalisation into a new float32 array; zero rows stay zero (as faiss.normalize_L2)."""
    a = np.array(a, dtype=np.float32, copy=True)
    if a.ndim != 2:
        raise ValueError(f"l2_normalize: expected a 2-D array, got shape {a.shape}")
    norms = _row_norms(a)[:, None]
    np.divide(a, norms, out=a, where=norms > 0)
    return a


# --------------------------------------------------------------------------------------------------
# Tatoeba
# --------------------------------------------------------------------------------------------------
def tatoeba_predict(src, tgt, use_faiss: bool = True, query_side: str = "tgt",
                    use_gpu: bool | None = None) -> np.ndarray:
    """Nearest neighbour by cosine for Tatoeba.

    `src` is the non-English side and `tgt` English (XTREME's file naming). With the default
    `query_side="tgt"` (XTREME and jiant: each English sentence queries the other side), prediction i is
    the index of the `src` sentence nearest to English sentence i; `query_side="src"` reverses this.
    """
    src, tgt = _check_pair(src, tgt, "src embeddings", "tgt embeddings")
    if query_side not in ("tgt", "src"):
        raise ValueError(f"query_side must be 'tgt' or 'src', got {query_side!r}")
    queries, database = (tgt, src) if query_side == "tgt" else (src, tgt)
    _, idx = _knn(l2_normalize(queries), l2_normalize(database), 1, use_faiss, use_gpu)
    return idx[:, 0]


def tatoeba_accuracy(pred) -> float:
    """Percentage of queries whose prediction is their own index (line i of both files is aligned)."""
    pred = np.asarray(pred)
    if pred.ndim != 1 or pred.size == 0:
        raise ValueError("tatoeba_accuracy: expected a non-empty 1-D array of predictions, "
                         f"got shape {pred.shape}")
    return float(100.0 * np.mean(pred == np.arange(pred.size)))


# --------------------------------------------------------------------------------------------------
# BUCC
# --------------------------------------------------------------------------------------------------
def mine_margin(x, y, k: int = 4, use_faiss: bool = True, min_score: float = 0.0, use_gpu: bool | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio-margin "max" mining between L2-normalised, de-duplicated `x` (source) and `y` (target).

    Returns (src_index, tgt_index, score) arrays of the accepted pairs in acceptance order (descending
    score). k is capped by each side's size, as in the reference. `use_gpu` is passed to `knn`.
    """
    x, y = _check_pair(x, y, "src embeddings", "tgt embeddings")
    kx, ky = min(y.shape[0], k), min(x.shape[0], k)
    x2y_sim, x2y_ind = _knn(x, y, kx, use_faiss, use_gpu)
    y2x_sim, y2x_ind = _knn(y, x, ky, use_faiss, use_gpu)
    x2y_mean = x2y_sim.astype(np.float64).mean(axis=1)
    y2x_mean = y2x_sim.astype(np.float64).mean(axis=1)

    # score(x, y) = cos(x, y) / ((mean k-NN sim of x + mean k-NN sim of y) / 2); cos comes from the k-NN
    # lists, which hold exactly the candidates scored.
    fwd_scores = x2y_sim / ((x2y_mean[:, None] + y2x_mean[x2y_ind]) / 2)
    bwd_scores = y2x_sim / ((y2x_mean[:, None] + x2y_mean[y2x_ind]) / 2)
    fwd_arg = fwd_scores.argmax(axis=1)
    bwd_arg = bwd_scores.argmax(axis=1)
    fwd_best = x2y_ind[np.arange(x.shape[0]), fwd_arg]
    bwd_best = y2x_ind[np.arange(y.shape[0]), bwd_arg]

    src = np.concatenate((np.arange(x.shape[0]), bwd_best))
    tgt = np.concatenate((fwd_best, np.arange(y.shape[0])))
    scores = np.concatenate((fwd_scores[np.arange(x.shape[0]), fwd_arg],
                             bwd_scores[np.arange(y.shape[0]), bwd_arg]))
    keep = _greedy_one_to_one(src, tgt, scores)
    # as the reference: a candidate at or below min_score still uses up its sentences
    keep = keep[scores[keep] > min_score]
    return src[keep], tgt[keep], scores[keep]


def _greedy_one_to_one(src: np.ndarray, tgt: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Positions of the candidates accepted by the reference's greedy walk, in acceptance order.

    Walk by descending score (stable: equal scores in candidate order); accept a candidate when neither
    its source nor its target was used by an accepted one. Each acceptance depends on the earlier ones, so
    the walk is sequential; it runs over plain Python ints and byte flags (no hashing), about 0.1 s per
    100,000 candidates (benchmarks/bench_retrieval.py --breakdown).
    """
    order = np.argsort(-scores, kind="stable")
    used_s = bytearray(int(src.max()) + 1 if src.size else 0)
    used_t = bytearray(int(tgt.max()) + 1 if tgt.size else 0)
    keep = []
    for i, s, t in zip(order.tolist(), src[order].tolist(), tgt[order].tolist()):
        if not (used_s[s] or used_t[t]):
            used_s[s] = used_t[t] = 1
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def _unify(emb, ids, texts, side: str):
    emb = _as_matrix(emb, f"{side} embeddings")
    ids, texts = list(ids), list(texts)
    if not (len(ids) == len(texts) == emb.shape[0]):
        raise ValueError(f"{side}: {emb.shape[0]} embeddings, {len(ids)} ids and {len(texts)} texts; "
                         "they must match one to one")
    if len(set(ids)) != len(ids):
        raise ValueError(f"{side}: sentence ids are not unique")
    key2u: dict[str, int] = {}
    groups: list[list] = []
    last_row: list[int] = []
    for row, (sid, text) in enumerate(zip(ids, texts)):
        if not isinstance(text, str):
            raise ValueError(f"{side}: text for id {sid!r} is not a string")
        u = key2u.setdefault(text.strip(), len(key2u))
        if u == len(groups):
            groups.append([])
            last_row.append(row)
        groups[u].append(sid)
        last_row[u] = row  # the reference keeps the embedding of the last occurrence
    return emb[last_row], groups


def mine_bucc(src_emb, src_ids, src_texts, tgt_emb, tgt_ids, tgt_texts, k: int = 4, use_faiss: bool = True,
              duplicates: str = "expand", min_score: float = 0.0, use_gpu: bool | None = None) -> list[tuple]:
    """Mine BUCC bitext candidates: de-duplicate, L2-normalise, ratio-margin "max" mining.

    `src` is the non-English side, `tgt` English; ids are the BUCC sentence ids. Returns
    [(src_id, tgt_id, score)] by descending score. `duplicates="expand"` (jiant, default) gives a pair of
    deduplicated sentences to every combination of their ids; "drop" (XTREME) discards pairs touching a
    sentence that occurs more than once.
    """
    if duplicates not in ("expand", "drop"):
        raise ValueError(f"duplicates must be 'expand' or 'drop', got {duplicates!r}")
    x, src_groups = _unify(src_emb, src_ids, src_texts, "src")
    y, tgt_groups = _unify(tgt_emb, tgt_ids, tgt_texts, "tgt")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"dimension mismatch: src embeddings have dim {x.shape[1]}, "
                         f"tgt embeddings have dim {y.shape[1]}")
    s_idx, t_idx, scores = mine_margin(l2_normalize(x), l2_normalize(y), k=k, use_faiss=use_faiss,
                                       min_score=min_score, use_gpu=use_gpu)
    out = []
    for s, t, score in zip(s_idx, t_idx, scores):
        sg, tg = src_groups[s], tgt_groups[t]
        if duplicates == "drop" and (len(sg) > 1 or len(tg) > 1):
            continue
        out.extend((a, b, float(score)) for a, b in itertools.product(sg, tg))
    return out


def _cand2score(candidates: Iterable) -> dict:
    c2s: dict = {}
    for cand in candidates:
        try:
            src_id, tgt_id, score = cand
        except (TypeError, ValueError):
            raise ValueError(f"candidates must be (src_id, tgt_id, score) triples, got {cand!r}") from None
        score = float(score)
        if math.isnan(score):
            raise ValueError(f"candidate ({src_id!r}, {tgt_id!r}) has a NaN score")
        key = (src_id, tgt_id)
        c2s[key] = max(score, c2s.get(key, score))  # as XTREME's read_candidate2score
    return c2s


def _gold_set(gold_pairs) -> set:
    gold = {tuple(p) for p in gold_pairs}
    if not gold:
        raise ValueError("gold_pairs is empty: recall is undefined")
    if any(len(p) != 2 for p in gold):
        raise ValueError("gold_pairs must be (src_id, tgt_id) pairs")
    return gold


def bucc_score(candidates, gold_pairs, threshold: float) -> dict:
    """Precision, recall and F1 (percent) of the candidates with score >= threshold against the gold."""
    c2s = _cand2score(candidates)
    gold = _gold_set(gold_pairs)
    extracted = [key for key, score in c2s.items() if score >= threshold]
    ncorrect = len(gold.intersection(extracted))
    if ncorrect:
        precision = ncorrect / len(extracted)
        recall = ncorrect / len(gold)
        f1 = 2 * precision * recall / (precision + recall)
    else:
        precision = recall = f1 = 0.0
    return {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * f1,
            "threshold": float(threshold)}


def bucc_example_stats(candidates, gold_pairs, threshold: float) -> list[dict]:
    """Per source sentence with a gold or an extracted pair: tp (its extracted pairs that are gold), n_pred
    (pairs extracted for it), n_gold (its gold pairs). Summed over sources they give bucc_score's
    precision/recall/F1 (metrics.metric_from_stats): the units of a paired bootstrap. Sources with neither
    contribute nothing to any sum and are left out."""
    c2s = _cand2score(candidates)
    gold = _gold_set(gold_pairs)
    per: dict = {}
    for (src, tgt), score in c2s.items():
        if score >= threshold:
            row = per.setdefault(src, {"tp": 0, "n_pred": 0, "n_gold": 0})
            row["n_pred"] += 1
            row["tp"] += (src, tgt) in gold
    for src, _ in gold:
        per.setdefault(src, {"tp": 0, "n_pred": 0, "n_gold": 0})["n_gold"] += 1
    return [{"id": str(src), **v} for src, v in sorted(per.items(), key=lambda kv: str(kv[0]))]


def bucc_optimal_threshold(candidates, gold_pairs) -> tuple[float, dict]:
    """The score threshold maximising F1 on (dev) gold pairs, as XTREME/jiant `bucc_optimize`.

    Returns (threshold, bucc_score(candidates, gold_pairs, threshold)). With no correct candidate the
    threshold stays 0, as in the reference.
    """
    c2s = _cand2score(candidates)
    gold = _gold_set(gold_pairs)
    items = sorted(c2s.items(), key=lambda kv: -kv[1])
    nextract = ncorrect = 0
    threshold, best_f1 = 0.0, 0.0
    for i, (key, score) in enumerate(items):
        nextract += 1
        ncorrect += key in gold
        if ncorrect:
            precision, recall = ncorrect / nextract, ncorrect / len(gold)
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best_f1:
                best_f1 = f1
                # the reference indexes items[i + 1] unconditionally (IndexError at the end)
                threshold = (score + items[i + 1][1]) / 2 if i + 1 < len(items) else score
    return threshold, bucc_score([(s, t, v) for (s, t), v in c2s.items()], gold, threshold)
