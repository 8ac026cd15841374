"""Training throughput of the engine (length-grouped batches + dynamic padding) vs a naive baseline (random
batches, every batch padded to max_length), same model, same data, same number of optimizer steps.

Both runs go through `xstilts.train.loop.train`; only the two batching switches differ. Throughput counts *real*
(non-padding) tokens per second, so it measures how much useful work each engine gets done. Each engine runs
in a fresh process (its own peak memory; no allocator state shared), and the script prints the ratio of the
two measured in this one invocation (the machine is noisy; never compare across invocations).

    python benchmarks/bench_training.py                 # CPU: the default run's micro XLM-R (after `snakemake`)
    python benchmarks/bench_training.py --size large --steps 30 --batch-size 32   # GPU: XLM-R Large, bf16, MFU

Data: micro SST-2 sentences extended with same-sentiment sentences to log-normal lengths (median 40 tokens,
p90 ~75, a tail up to the 128-token limit: the shape of MNLI-style inputs; the script prints the
distribution). The final dev accuracy of both runs is printed so a reader can check that the engines learn
the same thing.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = {
    # a CPU-sized XLM-R: large enough that the transformer, not Python, dominates a step
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024},
    # XLM-R Large's shape (random init: throughput does not depend on the weights); vocabulary from --vocab
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}
# dense bf16 peak of the cards we are lent (no sparsity), for model FLOP utilisation
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def _prepare(root: Path, n_train: int, vocab: int, seed: int, median: int, sigma: float, max_length: int,
             encoder: str | None) -> None:
    """Micro SST-2, each sentence followed by other sentences of the same sentiment (a longer review) until
    its token length reaches a draw from a log-normal (median `median`, shape `sigma`): the long right tail of
    real inputs (MNLI pairs, QA windows) that fixed padding pays for on every batch."""
    import math
    import random

    from xstilts import records as R
    from xstilts.data.micro import generate
    from xstilts.models.modeling import load_tokenizer, train_tokenizer
    from xstilts.models.pretrain import corpus_texts
    generate(root / "data", {"tasks": ["sst2", "mlm_corpus"], "languages": ["en"], "n_train": n_train,
                             "n_train_by_task": {}, "n_dev": 300, "n_test": 10, "n_mlm": 3000, "seed": seed})
    corpus = corpus_texts(root / "data", ["en"])
    if encoder:
        tok = load_tokenizer(encoder)
    else:
        train_tokenizer(corpus, root / "tok", vocab_size=vocab)
        tok = load_tokenizer(root / "tok")
    rng = random.Random(seed)
    for split in ("train", "dev"):
        path = R.task_file(root / "data", "sst2", "en", split)
        recs = R.read_jsonl(path)
        by_label = {}
        for r in recs:
            by_label.setdefault(r["label"], []).append(r["text_a"])
        for r in recs:
            target = min(max_length, int(rng.lognormvariate(math.log(median), sigma)))
            n = len(tok(r["text_a"])["input_ids"])
            extra = []
            while n < target:
                # more sentences of the same sentiment (a longer review): the label stays learnable
                s = rng.choice(by_label[r["label"]])
                extra.append(s)
                n += len(tok(s, add_special_tokens=False)["input_ids"])
            r["text_a"] = " ".join([r["text_a"]] + extra)
        R.atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in recs))


def _flops_per_token(arch: dict, seq: float) -> float:
    """Training FLOPs per token: 6 x (non-embedding parameters) for the matmuls, plus attention scores
    (6 x 2 x layers x hidden x sequence length, forward + backward)."""
    h, L, f = arch["hidden_size"], arch["num_hidden_layers"], arch["intermediate_size"]
    params = L * (4 * h * h + 2 * h * f)
    return 6 * params + 12 * L * h * seq


def _run(engine: str, root: str, args: dict, queue) -> None:
    import torch

    from xstilts import env
    from xstilts import records as R
    from xstilts import tasks as T
    from xstilts.train.features import encode, lengths
    from xstilts.models.modeling import MultiTaskModel, build_micro_encoder, make_head
    from xstilts.train.loop import HParams, train, validate

    env.set_threads(args["threads"])
    device = "cuda" if torch.cuda.is_available() and not args["cpu"] else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    root = Path(root)
    if args["encoder"]:  # a trained encoder: fine-tuning learns within the benchmark's few steps
        from xstilts.models.modeling import load_encoder
        base, tok = load_encoder(args["encoder"])
        c = base.config
        arch = {"hidden_size": c.hidden_size, "num_hidden_layers": c.num_hidden_layers,
                "intermediate_size": c.intermediate_size}
    else:
        arch = {**SIZES[args["size"]], "max_position_embeddings": args["max_length"] + 2,
                "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
        mlm, tok = build_micro_encoder(root / "tok", arch, seed=0)
        base = mlm.base_model
    task = T.get("sst2")
    recs, meta = R.load_split(root / "data", "sst2", "en", "train")
    dev, _ = R.load_split(root / "data", "sst2", "en", "dev")
    tr = encode(recs, task, tok, args["max_length"], meta["labels"], train=True)
    dv = encode(dev, task, tok, args["max_length"], meta["labels"])
    torch.manual_seed(1)
    model = MultiTaskModel(base, {"sst2": make_head(task, arch["hidden_size"], 2, 0.1)},
                           {"sst2": task.format}).to(device)
    hp = HParams(lr=args["lr"], batch_size=args["batch_size"], max_steps=args["steps"], eval_every=10 ** 9,
                 max_length=args["max_length"], warmup_ratio=0.1, patience=10 ** 9,
                 group_by_length=engine == "engine", pad_to_max_length=engine == "naive")
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    res = train(model, tok.pad_token_id, {"sst2": tr}, {}, hp, seed=1, log=lambda m: None, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    acc = validate(model, tok.pad_token_id, {"sst2": (dv, meta["labels"])}, device)
    lens = lengths(tr)
    out = {"engine": engine, "device": device, "seconds": res["seconds"], "real_tokens": res["train_tokens"],
           "tok_per_s": res["train_tokens"] / res["seconds"], "dev_accuracy": acc, "steps": res["steps"],
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "len_mean": statistics.mean(lens), "len_p50": statistics.median(lens),
           "len_p90": sorted(lens)[int(0.9 * len(lens))], "len_max": max(lens)}
    if device == "cuda":
        out["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2 ** 20
        out["gpu"] = torch.cuda.get_device_name()
        # FLOPs actually spent: padded positions cost as much as real ones
        seq = args["max_length"] if engine == "naive" else out["len_mean"]
        out["model_tflops"] = _flops_per_token(arch, seq) * res["train_tokens"] / res["seconds"] / 1e12
    queue.put(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--n-train", type=int, default=2000)
    ap.add_argument("--median-length", type=int, default=40, help="median input length in tokens")
    ap.add_argument("--sigma", type=float, default=0.5, help="log-normal shape: p90 ~ 1.9x, p99 ~ 3.2x median")
    ap.add_argument("--vocab", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--threads", type=int, default=1)
    default_enc = Path(__file__).resolve().parents[1] / "resources/models/encoder~pretrained"
    ap.add_argument("--encoder", default="auto",
                    help="start from this trained encoder folder (default: the default run's micro XLM-R when it "
                         "exists, so both engines learn within the benchmark's steps; else a random-init --size "
                         "model, whose accuracy stays at chance; --size large always uses a random-init "
                         "XLM-R Large shape)")
    ap.add_argument("--cpu", action="store_true", help="stay on the CPU even when a GPU is present")
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args(argv)
    if a.encoder == "auto":
        a.encoder = str(default_enc) if a.size == "small" and (default_enc / "config.json").exists() else None
    args = {"size": a.size, "steps": a.steps, "batch_size": a.batch_size, "max_length": a.max_length,
            "lr": a.lr, "threads": a.threads, "cpu": a.cpu, "encoder": a.encoder}
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        _prepare(Path(tmp), a.n_train, a.vocab, 3, a.median_length, a.sigma, a.max_length, a.encoder)
        print(f"data + tokenizer: {time.time() - t0:.1f} s")
        results = {}
        for engine in ("naive", "engine"):
            q = ctx.Queue()
            p = ctx.Process(target=_run, args=(engine, tmp, args, q))
            p.start()
            results[engine] = q.get()
            p.join()
    n, e = results["naive"], results["engine"]
    print(f"sequence lengths (tokens): mean {e['len_mean']:.1f}, median {e['len_p50']}, p90 {e['len_p90']}, "
          f"max {e['len_max']} (max_length {a.max_length})")
    for r in (n, e):
        line = (f"{r['engine']:>6} [{r['device']}]: {r['steps']} steps in {r['seconds']:.1f} s, "
                f"{r['tok_per_s']:.0f} real tok/s, dev accuracy {r['dev_accuracy']:.1f}, "
                f"peak RSS {r['peak_rss_mib']:.0f} MiB")
        if "peak_gpu_mib" in r:
            peak = next((v for k, v in PEAK_TFLOPS.items() if k in r["gpu"]), None)
            mfu = f", MFU {100 * r['model_tflops'] / peak:.1f}% of {peak:.0f} TFLOPS" if peak else ""
            line += f", peak GPU {r['peak_gpu_mib']:.0f} MiB, {r['model_tflops']:.1f} model TFLOPS{mfu} ({r['gpu']})"
        print(line)
    ratio = e["tok_per_s"] / n["tok_per_s"]
    print(f"speed-up (engine / naive, real tokens per second): {ratio:.2f}x")
    if a.json:
        Path(a.json).write_text(json.dumps({"naive": n, "engine": e, "ratio": ratio, "args": args}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
