"""What the small profile's engine switches buy on a CPU, measured in one run: seconds per training step of
multilingual-e5-small (batch 16 of real XNLI pairs) with every parameter trained, with the word embeddings
frozen, and with the embeddings and the bottom 8 blocks frozen, each in fp32 and under bf16 autocast; and
evaluation throughput in fp32 and bf16.

    python benchmarks/bench_small_engine.py [--model resources/models/encoder~pretrained] [--steps 8]

Needs the converted encoder (`snakemake resources/models/encoder~pretrained --configfile config/small.yaml`)
and the bundle (data/small). Ratios are against the first row (all trained, fp32) in the same process.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from xstilts import tasks as T
from xstilts.data import bundle as B
from xstilts.env import autocast
from xstilts.models.modeling import MultiTaskModel, load_encoder, make_head
from xstilts.train.features import collate, encode
from xstilts.train.loop import freeze_bottom_layers, freeze_word_embeddings

ROOT = Path(__file__).resolve().parents[1]


def xnli_records(n: int) -> list[dict]:
    rows = B.BundleLoader(ROOT / "data/small")("nyu-mll/glue", "mnli", "train")[:n]
    return [{"id": str(i), "text_a": r["premise"], "text_b": r["hypothesis"], "label": r["label"]}
            for i, r in enumerate(rows)]


def step_time(model_dir, recs, freeze: str, precision: str, steps: int) -> float:
    enc_model, tok = load_encoder(model_dir)
    model = MultiTaskModel(enc_model, {"xnli": make_head(T.get("xnli"), enc_model.config.hidden_size, 3)},
                           {"xnli": T.CLASSIFICATION})
    if freeze in ("embeddings", "embeddings+8"):
        freeze_word_embeddings(model)
    if freeze == "embeddings+8":
        freeze_bottom_layers(model, 8)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    enc = encode(recs, T.get("xnli"), tok, 128, list(T.NLI))
    batches = [collate(enc, list(range(k, k + 16)), tok.pad_token_id) for k in range(0, 16 * (steps + 2), 16)]
    model.train()
    times = []
    for b in batches:
        t = time.perf_counter()
        with autocast(precision, "cpu"):
            loss, _ = model("xnli", b)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
    return sum(times[2:]) / len(times[2:])  # the first two steps warm up allocators and kernels


def eval_rate(model_dir, recs, precision: str) -> float:
    from xstilts.train.evaluate import predict
    enc_model, tok = load_encoder(model_dir)
    model = MultiTaskModel(enc_model, {"xnli": make_head(T.get("xnli"), enc_model.config.hidden_size, 3)},
                           {"xnli": T.CLASSIFICATION})
    enc = encode(recs, T.get("xnli"), tok, 128, list(T.NLI))
    predict(model, enc, tok.pad_token_id, precision=precision)
    t = time.perf_counter()
    predict(model, enc, tok.pad_token_id, precision=precision)
    return len(recs) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "resources/models/encoder~pretrained"))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    recs = xnli_records(16 * (args.steps + 2))
    print(f"multilingual-e5-small, batch 16 of XNLI English pairs, {args.threads} thread(s), {args.steps} timed steps")
    base = None
    for freeze in ("none", "embeddings", "embeddings+8"):
        for precision in ("fp32", "bf16"):
            s = step_time(args.model, recs, freeze, precision, args.steps)
            base = base or s
            print(f"train  frozen={freeze:13s} {precision}: {s:.3f} s/step  speed-up {base / s:.2f}x")
    ev = {p: eval_rate(args.model, recs, p) for p in ("fp32", "bf16")}
    print(f"eval   fp32: {ev['fp32']:.0f} examples/s   bf16: {ev['bf16']:.0f} examples/s   "
          f"speed-up {ev['bf16'] / ev['fp32']:.2f}x")


if __name__ == "__main__":
    main()
