"""Benchmark BUCC-style margin mining (k-NN both ways + ratio margin + greedy "max" selection).

Random unit vectors, N x N, dimension d. Each path runs in a fresh process so that its peak memory
(resource.getrusage ru_maxrss: the whole process, faiss's C++ buffers included) is its own. tracemalloc is
not used: it sees only Python/numpy allocations and doubles the time of the Python selection loop.

    python benchmarks/bench_retrieval.py                    # 50,000 x 50,000, d=768: faiss vs numpy on CPU
    python benchmarks/bench_retrieval.py --breakdown        # + where the time goes (matmul, top-k, ...)
    python benchmarks/bench_retrieval.py --n 400000 --d 1024  # on a GPU machine: faiss-GPU time

Paths: faiss (GPU when faiss sees one, else CPU), faiss-cpu (forced CPU), numpy (blocked reference).
Both CPU paths use the same threads (--threads, default all CPUs: OpenBLAS for numpy, OpenMP for faiss).
At BUCC size without a GPU the script refuses (it would run for hours) unless --force-cpu.
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n: int, d: int, seed: int):
    import numpy as np

    from xstilts.retrieve.search import l2_normalize

    rng = np.random.default_rng(seed)
    x = l2_normalize(rng.standard_normal((n, d), dtype=np.float32))
    y = l2_normalize(rng.standard_normal((n, d), dtype=np.float32))
    return x, y


def _set_threads(threads: int) -> None:
    # before numpy/faiss are imported in this (spawned) process, so that OpenBLAS and OpenMP read them
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _run_path(path: str, n: int, d: int, k: int, seed: int, threads: int, queue) -> None:
    _set_threads(threads)
    import numpy as np

    from xstilts.retrieve import search as R

    x, y = _data(n, d, seed)
    rss_data = _rss_mib()
    import faiss

    use_gpu = False if path == "faiss-cpu" else None
    device = "gpu" if path == "faiss" and R._faiss_gpu_available(faiss) else "cpu"
    t0 = time.perf_counter()
    src, tgt, scores = R.mine_margin(x, y, k=k, use_faiss=path != "numpy", use_gpu=use_gpu)
    seconds = time.perf_counter() - t0
    digest = hashlib.sha1(np.stack([src, tgt]).tobytes()).hexdigest()[:12]
    queue.put({"path": path, "device": device, "seconds": seconds, "rss_peak_mib": _rss_mib(),
               "rss_after_data_mib": rss_data,
               "pairs": int(src.size), "pairs_sha1": digest, "score_sum": float(np.sum(scores))})


def _run_breakdown(n: int, d: int, k: int, seed: int, threads: int, queue) -> None:
    """The pieces of margin mining timed one by one, on the same data (CPU).

    faiss fuses matmul and top-k (a heap per query over BLAS blocks), so its search is one number; the
    numpy reference is split into its matmul and its argpartition. Both paths then share the exact
    re-scoring of the retained candidates, the margin arithmetic and the greedy selection.
    """
    _set_threads(threads)
    import faiss
    import numpy as np

    from xstilts.retrieve import search as R

    x, y = _data(n, d, seed)
    c0 = k + max(4, k)  # the candidates per row that both paths retrieve first (retrieve._knn_generic)
    out = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        res = fn()
        out[name] = out.get(name, 0.0) + time.perf_counter() - t0
        return res

    block = 1024
    buf = np.empty((block, n), dtype=np.float32)
    cands = []
    for q, db in ((x, y), (y, x)):
        for s in range(0, n, block):
            sims = timed("numpy matmul", lambda: np.matmul(q[s:s + block], db.T, out=buf[:min(block, n - s)]))
            timed("numpy top-k (argpartition)", lambda: np.argpartition(sims, n - c0, axis=1)[:, n - c0:])
        index = faiss.IndexFlatIP(d)
        index.add(db)
        approx, cand = timed("faiss search (matmul + top-k fused)", lambda: index.search(q, c0))
        cands.append((q, db, cand))
    nn = []
    for q, db, cand in cands:
        sims, ind = timed("exact re-scoring of the candidates (both paths)",
                          lambda: R._sort_candidates(R._canonical_sims(q, db, cand), cand))
        nn.append((sims[:, :k], ind[:, :k]))  # the k-NN lists (certification aside) for timing the margin
    (fs, fi), (bs, bi) = nn

    def margin():
        fm, bm = fs.astype(np.float64).mean(1), bs.astype(np.float64).mean(1)
        f = fs / ((fm[:, None] + bm[fi]) / 2)
        b = bs / ((bm[:, None] + fm[bi]) / 2)
        fa, ba = f.argmax(1), b.argmax(1)
        return (np.concatenate((np.arange(n), bi[np.arange(n), ba])),
                np.concatenate((fi[np.arange(n), fa], np.arange(n))),
                np.concatenate((f[np.arange(n), fa], b[np.arange(n), ba])))

    src, tgt, scores = timed("margin scores (both paths)", margin)
    timed("greedy one-to-one selection (both paths)", lambda: R._greedy_one_to_one(src, tgt, scores))
    queue.put(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="vectors per side (default 50,000)")
    ap.add_argument("--d", type=int, default=768, help="dimension (default 768)")
    ap.add_argument("--k", type=int, default=4, help="neighbours for the margin (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default=None,
                    help="comma-separated: faiss, faiss-cpu, numpy (default: faiss,numpy; "
                         "faiss only above n=100,000 where the numpy reference takes too long)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="BLAS/OpenMP threads of every path (default: all CPUs)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time the components (matmul, top-k, re-scoring, margin, selection) on CPU")
    ap.add_argument("--force-cpu", action="store_true",
                    help="run above 100,000 x 100,000 even when faiss sees no GPU (hours on a few cores)")
    args = ap.parse_args(argv)
    paths = (args.paths or ("faiss,numpy" if args.n <= 100_000 else "faiss")).split(",")
    bad = set(paths) - {"faiss", "faiss-cpu", "numpy"}
    if bad:
        ap.error(f"unknown path(s): {', '.join(sorted(bad))}")
    if min(args.n, args.d, args.k, args.threads) < 1 or args.k > args.n:
        ap.error("--n, --d, --k and --threads must be positive, and --k at most --n")

    _set_threads(args.threads)
    import faiss
    import numpy as np

    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    cpu_paths = [p for p in paths if p != "faiss" or not gpus]
    if args.n > 100_000 and cpu_paths and not args.force_cpu:
        tflop = 2 * 2 * args.n * args.n * args.d / 1e12  # two directions, multiply + add
        print(f"refusing: {', '.join(cpu_paths)} would run {args.n:,} x {args.n:,} (d={args.d}) on CPU "
              f"({'faiss sees no GPU' if not gpus else 'forced CPU path'}): about {tflop:,.0f} TFLOP of "
              "inner products, hours on a few cores. Run on a GPU machine (faiss-gpu), or pass --force-cpu.",
              file=sys.stderr)
        return 2

    print(f"margin mining, {args.n:,} x {args.n:,}, d={args.d}, k={args.k}; faiss {faiss.__version__}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"faiss OpenMP threads {faiss.omp_get_max_threads()}, "
          f"faiss GPUs {gpus}, threads per path {args.threads}, load average {os.getloadavg()[0]:.1f}",
          flush=True)
    ctx = mp.get_context("spawn")
    results = {}
    for path in paths:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_path, args=(path, args.n, args.d, args.k, args.seed, args.threads, queue))
        proc.start()
        res = queue.get()
        proc.join()
        if proc.exitcode:
            print(f"{path}: child exited with {proc.exitcode}", file=sys.stderr)
            return 1
        results[path] = res
        print(f"{path:9s} [{res['device']}] {res['seconds']:8.2f} s   "
              f"peak RSS {res['rss_peak_mib']:8.0f} MiB "
              f"(+{res['rss_peak_mib'] - res['rss_after_data_mib']:.0f} over the input data)   "
              f"{res['pairs']:,} pairs sha1={res['pairs_sha1']}", flush=True)
    if "numpy" in results:
        for fast in ("faiss", "faiss-cpu"):
            if fast in results:
                r = results["numpy"]["seconds"] / results[fast]["seconds"]
                same = results["numpy"]["pairs_sha1"] == results[fast]["pairs_sha1"]
                print(f"numpy / {fast} time ratio: {r:.2f}x (one run); identical mined pairs: {same}")
    if args.breakdown:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_breakdown, args=(args.n, args.d, args.k, args.seed, args.threads, queue))
        proc.start()
        parts = queue.get()
        proc.join()
        print("components (separate run, same data and threads):")
        for name, sec in parts.items():
            print(f"  {name:50s} {sec:8.2f} s")
    print(f"load average at the end {os.getloadavg()[0]:.1f} (the machine may be shared: compare paths "
          "within one run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
