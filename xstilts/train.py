"""The training loop shared by MLM pretraining, intermediate (single and multi-task), the controls, and
target fine-tuning: AdamW, linear warmup/decay, gradient clipping, dynamic padding, length-grouped batches,
examples-proportional task sampling, validation on English dev with early stopping and the best state kept.
"""
from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass, field

import torch

from . import evaluate as E
from . import tasks as T
from .features import Encoded, collate, length_grouped_batches, lengths, mlm_batch


@dataclass
class HParams:
    lr: float = 1e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    batch_size: int = 32
    grad_accum: int = 1
    epochs: float = 3.0
    max_steps: int = 0  # > 0 overrides epochs
    clip: float = 1.0
    eval_every: int = 1000
    eval_examples: int = 500
    patience: int = 30
    max_length: int = 256
    sample_cap: int = 0  # examples-proportional sampling cap (0 = none)
    mlm_ratio: float = 0.0  # MLM control: share of steps that are MLM batches
    mask_prob: float = 0.15
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "HParams":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class _Stream:
    """Endless length-grouped batches over one task's features, reshuffled each pass."""

    def __init__(self, enc: Encoded, bs: int, rng: random.Random):
        self.enc, self.bs, self.rng = enc, bs, rng
        self.lens = lengths(enc)
        self.queue: list[list[int]] = []

    def next(self) -> list[int]:
        if not self.queue:
            self.queue = length_grouped_batches(self.lens, self.bs, self.rng)
        return self.queue.pop()


def train(model, pad_id: int, train_sets: dict[str, Encoded], dev_sets: dict[str, tuple[Encoded, list]],
          hp: HParams, seed: int, mlm_tokens: list[list[int]] | None = None, tokenizer=None,
          log=print, device="cpu") -> dict:
    """Train `model` in place; returns history and the best validation score. With dev sets, the model ends
    in its best validated state (the "best checkpoint kept" rule)."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    names = list(train_sets)
    sizes = [len(train_sets[n]) for n in names]
    capped = [min(s, hp.sample_cap) if hp.sample_cap else s for s in sizes]
    probs = [c / sum(capped) for c in capped]
    steps_per_epoch = max(1, math.ceil(sum(sizes) / (hp.batch_size * hp.grad_accum)))
    total = hp.max_steps or max(1, int(round(hp.epochs * steps_per_epoch)))
    streams = {n: _Stream(train_sets[n], hp.batch_size, rng) for n in names}

    decay = [p for n, p in model.named_parameters() if p.requires_grad and not any(
        k in n for k in ("bias", "LayerNorm", "layer_norm"))]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and any(
        k in n for k in ("bias", "LayerNorm", "layer_norm"))]
    fused = device != "cpu" and torch.cuda.is_available()
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=hp.lr, fused=fused or None)
    warm = int(hp.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    history, best, best_state, bad = [], -math.inf, None, 0
    use_bf16 = device != "cpu" and torch.cuda.is_available()
    t0, tokens = time.time(), 0
    model.train()
    for step in range(total):
        opt.zero_grad(set_to_none=True)
        for _ in range(hp.grad_accum):
            if mlm_tokens and rng.random() < hp.mlm_ratio:
                task = "mlm"
                rows = [mlm_tokens[rng.randrange(len(mlm_tokens))] for _ in range(hp.batch_size)]
                batch = mlm_batch(rows, tokenizer, hp.mask_prob, gen)
            else:
                task = rng.choices(names, probs)[0] if len(names) > 1 else names[0]
                batch = collate(train_sets[task], streams[task].next(), pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            tokens += int(batch["attention_mask"].sum())
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                loss, _ = model(task, batch)
            (loss / hp.grad_accum).backward()
        if hp.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), hp.clip)
        opt.step()
        sched.step()
        last = step + 1 == total
        if dev_sets and ((step + 1) % hp.eval_every == 0 or last):
            val = validate(model, pad_id, dev_sets, device)
            model.train()
            history.append({"step": step + 1, "loss": float(loss), "val": val,
                            "tok_per_s": tokens / max(1e-9, time.time() - t0)})
            log(f"step {step + 1}/{total} loss {float(loss):.4f} val {val:.2f} "
                f"({tokens / max(1e-9, time.time() - t0):.0f} tok/s)")
            if val > best:
                best, bad = val, 0
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            else:
                bad += 1
                if bad >= hp.patience:
                    log(f"early stop at step {step + 1}: {bad} validations without improvement")
                    break
        elif (step + 1) % max(1, total // 10) == 0:
            log(f"step {step + 1}/{total} loss {float(loss):.4f} "
                f"({tokens / max(1e-9, time.time() - t0):.0f} tok/s)")
    if best_state is not None:
        model.load_state_dict(best_state)
    return {"steps": step + 1, "total_steps": total, "best_val": best if dev_sets else None,
            "history": history, "seconds": time.time() - t0, "train_tokens": tokens}


def validate(model, pad_id: int, dev_sets: dict[str, tuple[Encoded, list]], device="cpu") -> float:
    """Mean primary metric over the tasks' English dev subsets."""
    vals = []
    for name, (enc, labels) in dev_sets.items():
        task = T.get(name)
        preds = E.predict(model, enc, pad_id, allow_null=task.unanswerable, device=device)
        vals.append(E.primary(task, E.score(task, enc.records, preds, labels)))
    return sum(vals) / len(vals)
