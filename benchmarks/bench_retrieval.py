"""Benchmark BUCC-style margin mining (k-NN both ways + ratio margin + greedy "max" selection).

Random unit vectors, N x N, dimension d. Each path runs in a fresh process so that its peak memory
(resource.getrusage ru_maxrss: the whole process, faiss's C++ buffers included) is its own. tracemalloc is
not used: it sees only Python/numpy allocations and doubles the time of the Python selection loop.

    python benchmarks/bench_retrieval.py                    # 50,000 x 50,000, d=768: faiss vs numpy on CPU
    python benchmarks/bench_retrieval.py --n 400000 --d 1024  # on a GPU machine: faiss-GPU time

Paths: faiss (GPU when faiss sees one, else CPU), faiss-cpu (forced CPU), numpy (blocked reference).
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

    from xstilts.retrieve import l2_normalize

    rng = np.random.default_rng(seed)
    x = l2_normalize(rng.standard_normal((n, d), dtype=np.float32))
    y = l2_normalize(rng.standard_normal((n, d), dtype=np.float32))
    return x, y


def _run_path(path: str, n: int, d: int, k: int, seed: int, queue) -> None:
    import numpy as np

    from xstilts import retrieve as R

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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="vectors per side (default 50,000)")
    ap.add_argument("--d", type=int, default=768, help="dimension (default 768)")
    ap.add_argument("--k", type=int, default=4, help="neighbours for the margin (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default=None,
                    help="comma-separated: faiss, faiss-cpu, numpy (default: faiss,numpy; "
                         "faiss only above n=100,000 where the numpy reference takes too long)")
    args = ap.parse_args(argv)
    paths = (args.paths or ("faiss,numpy" if args.n <= 100_000 else "faiss")).split(",")
    bad = set(paths) - {"faiss", "faiss-cpu", "numpy"}
    if bad:
        ap.error(f"unknown path(s): {', '.join(sorted(bad))}")

    import faiss
    import numpy as np

    print(f"margin mining, {args.n:,} x {args.n:,}, d={args.d}, k={args.k}; faiss {faiss.__version__}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"faiss OpenMP threads {faiss.omp_get_max_threads()}, "
          f"faiss GPUs {faiss.get_num_gpus() if hasattr(faiss, 'get_num_gpus') else 'n/a (faiss-cpu)'}",
          flush=True)
    ctx = mp.get_context("spawn")
    results = {}
    for path in paths:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_path, args=(path, args.n, args.d, args.k, args.seed, queue))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
