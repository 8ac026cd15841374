"""The training loop shared by MLM pretraining, intermediate (single and multi-task), the controls, and
target fine-tuning: AdamW, linear warmup/decay, gradient clipping, dynamic padding, length-grouped batches,
examples-proportional task sampling, validation on English dev with early stopping and the best state kept.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

import torch

from xstilts import tasks as T
from xstilts.env import autocast
from xstilts.train import evaluate as E
from xstilts.train.features import Encoded, collate, length_grouped_batches, lengths, mlm_batch


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
    # extractive QA (features.encode): overlap of consecutive windows over a long context and the question's
    # token cap, XTREME's doc_stride 128 and max_query_length 64
    doc_stride: int = 128
    max_query_length: int = 64
    sample_cap: int = 0  # examples-proportional sampling cap (0 = none)
    mlm_ratio: float = 0.0  # MLM control: share of steps that are MLM batches
    mask_prob: float = 0.15
    # batching: length-grouped batches padded to their longest sequence (dynamic padding) by default; the
    # naive alternative (random batches padded to max_length) exists for the benchmark's baseline
    group_by_length: bool = True
    pad_to_max_length: bool = False
    # small scale on CPUs (config/small.yaml): keep the word embeddings fixed. With a 250k-piece vocabulary
    # they are ~80% of a small encoder's parameters, and AdamW over them costs more than the forward pass;
    # a paper-scale run trains everything (the default)
    freeze_embeddings: bool = False
    # small scale on CPUs: keep the embeddings and the bottom N transformer blocks fixed (no gradient flows
    # below the first trained block, so the backward pass is that much shorter); 0 = train every block
    freeze_layers: int = 0
    # numeric precision of training and evaluation forward passes (config train.engine.precision): "auto" =
    # bf16 autocast on a GPU that supports it, fp32 elsewhere; "bf16" = bf16 autocast on any device (CPUs with
    # AVX512-BF16/AMX run it ~2x faster); "fp32" = none. Retrieval embeddings are always fp32 (retrieve.py)
    precision: str = "auto"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "HParams":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class _Stream:
    """Endless length-grouped batches over one task's features, reshuffled each pass."""

    def __init__(self, enc: Encoded, bs: int, rng: random.Random, grouped: bool = True):
        self.enc, self.bs, self.rng, self.grouped = enc, bs, rng, grouped
        self.lens = lengths(enc)
        self.queue: list[list[int]] = []

    def next(self) -> list[int]:
        if not self.queue:
            # mega=1: each batch is a plain random sample (sorting inside one batch changes nothing)
            self.queue = length_grouped_batches(self.lens, self.bs, self.rng, mega=50 if self.grouped else 1)
        return self.queue.pop()


class Preempted(SystemExit):
    """SIGTERM arrived (SLURM preemption or time limit, `scancel`, Snakemake stopping): the state is saved and
    the job exits with 143 (128 + SIGTERM), so a rerun resumes instead of restarting."""

    def __init__(self, where: str):
        super().__init__(143)
        self.where = where

    def __str__(self) -> str:
        return f"preempted by SIGTERM {self.where}"


class _Preemption:
    """The SIGTERM handler of a job. Outside training it raises `Preempted` at once: evaluation results are
    saved set by set (`ResultStore`), so only the set in progress is lost. Inside a training step it only takes
    note; the training loop saves a checkpoint at the end of the step and then raises (a step is seconds, well
    inside SLURM's 30 s KillWait before SIGKILL)."""

    def __init__(self):
        self.pending = False
        self.deferring = False

    def handler(self, signum, frame):
        if self.deferring:
            self.pending = True
            return
        raise Preempted("(outside training: completed results are saved)")


PREEMPTION = _Preemption()


class preemptible:
    """Context manager: SIGTERM -> `Preempted` for the duration of a job (the previous handler is restored), and
    the job's log says where it stopped. Signal handlers can only be set from the main thread; elsewhere this
    does nothing."""

    def __init__(self, log=print):
        self.log = log

    def __enter__(self):
        import signal
        self._old = None
        PREEMPTION.pending = PREEMPTION.deferring = False
        try:
            self._old = signal.signal(signal.SIGTERM, PREEMPTION.handler)
        except ValueError:  # not the main thread
            pass
        return PREEMPTION

    def __exit__(self, exc_type, exc, tb):
        import signal
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        if isinstance(exc, Preempted):
            self.log(f"{exc}; exit 143, a rerun resumes")
        return False


class ResultStore:
    """Results of a job's phases after training (one evaluation set, one attacked language) kept in the job's
    checkpoint folder as they complete, so a job stopped during evaluation resumes at the first missing set.
    Each entry carries the fingerprint of the training state it was computed from: results of another model
    are never reused. Files are written atomically; the folder goes when the job's checkpoints are cleared."""

    def __init__(self, folder, fingerprint: str | None):
        from pathlib import Path
        self.folder = Path(folder) / "results" if folder and fingerprint else None
        self.fp = fingerprint
        self.reused = 0

    def memo(self, key: dict, compute):
        """compute() once per key (a JSON-able dict); its JSON-able value comes back from disk on a rerun."""
        if self.folder is None:
            return compute()
        import hashlib
        import json

        from xstilts.records import atomic_write_text
        name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24] + ".json"
        path = self.folder / name
        if path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                if saved.get("fingerprint") == self.fp and saved.get("key") == key:
                    self.reused += 1
                    return saved["value"]
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed
        value = compute()
        atomic_write_text(path, json.dumps({"fingerprint": self.fp, "key": key, "value": value}))
        return value


class Checkpointer:
    """Resumable training state in a scratch folder that no rule declares (so Snakemake never deletes it as
    an incomplete output): model, optimizer, scheduler, every RNG, the batch streams' queues, the history and
    the best state so far. One safetensors file -- tensors as tensors, everything else as JSON in its
    metadata, so loading runs no pickle -- written atomically (temporary file + rename): a SIGKILL at any
    moment leaves either the previous checkpoint or the new one. A checkpoint whose fingerprint
    (hyperparameters, seed, data sizes, parameter shapes) differs from the run's is ignored with a warning,
    never half-applied.
    """

    FILE = "state.safetensors"

    def __init__(self, folder, every: int, log=print):
        from pathlib import Path
        self.folder = Path(folder) if folder else None
        self.every = max(0, int(every))
        self.log = log

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def load(self, fingerprint: str) -> dict | None:
        if not self.enabled or not (self.folder / self.FILE).exists():
            return None
        import json

        from safetensors import safe_open
        with safe_open(str(self.folder / self.FILE), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
            meta = json.loads(f.metadata()["state"])
        state = _unpack(meta, tensors)
        if state.get("fingerprint") != fingerprint:
            self.log(f"checkpoint {self.folder / self.FILE} belongs to another run configuration; starting over")
            return None
        return state

    def save(self, state: dict) -> None:
        import json
        import os
        import tempfile

        from safetensors.torch import save_file
        self.folder.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, torch.Tensor] = {}
        meta = json.dumps(_pack(state, tensors))
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".state.", suffix=".tmp")
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata={"state": meta})
            os.replace(tmp, self.folder / self.FILE)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def clear(self) -> None:
        import shutil
        if self.enabled and self.folder.exists():
            shutil.rmtree(self.folder)


def _pack(obj, tensors: dict, path: str = "t"):
    """JSON-able structure with every tensor moved into `tensors` (own storage: safetensors refuses shared
    memory, e.g. tied embeddings) and replaced by a reference; dicts with non-string keys (optimizer state is
    keyed by parameter index) keep their key types."""
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _pack(v, tensors, f"{path}.{k}") for k, v in obj.items()}
        return {"__items__": [[k, _pack(v, tensors, f"{path}.{i}")] for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, (list, tuple)):
        return [_pack(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]
    return obj


def _unpack(obj, tensors: dict):
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__items__" in obj:
            return {k: _unpack(v, tensors) for k, v in obj["__items__"]}
        return {k: _unpack(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unpack(v, tensors) for v in obj]
    return obj


def fingerprint(model, hp: HParams, seed: int, train_sets: dict, mlm_tokens, mixture=None) -> str:
    import hashlib
    import json
    desc = {"hp": {k: v for k, v in hp.__dict__.items() if k not in ("extra",)}, "seed": seed, "mixture": mixture,
            "sets": {n: [len(e), sum(lengths(e))] for n, e in train_sets.items()},
            "mlm": [len(mlm_tokens), sum(map(len, mlm_tokens))] if mlm_tokens else None,
            "params": [[n, list(p.shape)] for n, p in model.named_parameters()]}
    return hashlib.sha256(json.dumps(desc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def freeze_word_embeddings(model) -> int:
    """Stop training the encoder's word-embedding matrix (and an MLM decoder tied to it); returns its size."""
    enc = getattr(model, "encoder", model)
    emb = getattr(enc, "_orig_mod", enc).get_input_embeddings()
    emb.weight.requires_grad_(False)
    return emb.weight.numel()


def freeze_bottom_layers(model, n: int) -> int:
    """Stop training all embeddings and the first `n` transformer blocks; returns the parameters frozen."""
    enc = getattr(model, "encoder", model)
    enc = getattr(enc, "_orig_mod", enc)
    blocks = getattr(getattr(enc, "encoder", None), "layer", None)
    if blocks is None or not 0 < n <= len(blocks):
        raise ValueError(f"config freeze_layers={n}: the encoder has {0 if blocks is None else len(blocks)} blocks")
    frozen = 0
    for module in [enc.embeddings, *blocks[:n]]:
        for p in module.parameters():
            p.requires_grad_(False)
            frozen += p.numel()
    return frozen


def _cpu_state(model) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def task_probabilities(sizes: list[int], cap: int = 0) -> list[float]:
    """Examples-proportional task sampling (jiant's default), each size capped at `cap` when set."""
    capped = [min(s, cap) if cap else s for s in sizes]
    return [c / sum(capped) for c in capped]


def train(model, pad_id: int, train_sets: dict[str, Encoded], dev_sets: dict[str, tuple[Encoded, list]],
          hp: HParams, seed: int, mlm_tokens: list[list[int]] | None = None, tokenizer=None,
          log=print, device="cpu", checkpoint: Checkpointer | None = None,
          task_sizes: dict[str, int] | None = None) -> dict:
    """Train `model` in place; returns history and the best validation score. With dev sets, the model ends
    in its best validated state (the "best checkpoint kept" rule). With a `checkpoint`, the run resumes from
    the last saved state and ends exactly where an uninterrupted run would (same seed, same device).
    `task_sizes`: the sizes that set the task mixture (default: the training sets' sizes). The MT control
    passes the English sizes, so translations change the language of a task's batches, not the task mix."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    names = list(train_sets)
    sizes = [len(train_sets[n]) for n in names]
    probs = task_probabilities([task_sizes[n] for n in names] if task_sizes else sizes, hp.sample_cap)
    steps_per_epoch = max(1, math.ceil(sum(sizes) / (hp.batch_size * hp.grad_accum)))
    total = hp.max_steps or max(1, int(round(hp.epochs * steps_per_epoch)))
    streams = {n: _Stream(train_sets[n], hp.batch_size, rng, hp.group_by_length) for n in names}
    pad_to = hp.max_length if hp.pad_to_max_length else None

    if hp.freeze_embeddings:
        freeze_word_embeddings(model)
    if hp.freeze_layers:
        freeze_bottom_layers(model, hp.freeze_layers)
    decay = [p for n, p in model.named_parameters() if p.requires_grad and not any(
        k in n for k in ("bias", "LayerNorm", "layer_norm"))]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and any(
        k in n for k in ("bias", "LayerNorm", "layer_norm"))]
    cuda = device != "cpu" and torch.cuda.is_available()
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=hp.lr, fused=cuda or None)
    warm = int(hp.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    history, best, best_state, bad, tokens, done, elapsed = [], -math.inf, None, 0, 0, 0, 0.0
    batches = {n: 0 for n in names + (["mlm"] if mlm_tokens else [])}  # the mixture as sampled
    finished = False
    ckpt = checkpoint if checkpoint is not None and checkpoint.enabled else None
    fp = fingerprint(model, hp, seed, train_sets, mlm_tokens, probs) if ckpt else None
    state = ckpt.load(fp) if ckpt else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        rng.setstate(_tuples(state["py_rng"]))
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        if cuda and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"])
        for n in names:
            streams[n].queue = queue_from_tensors(state["queues"][n])
        history, best, best_state, bad = state["history"], state["best"], state["best_state"], state["bad"]
        tokens, done, elapsed, finished = state["tokens"], state["step"], state["elapsed"], state["finished"]
        batches = state.get("batches", batches)
        log(f"resumed from {ckpt.folder / ckpt.FILE} at step {done}/{total}"
            + (" (training had finished)" if finished else ""))

    def snapshot(step_done: int, is_finished: bool) -> None:
        ckpt.save({"fingerprint": fp, "step": step_done, "finished": is_finished, "model": _cpu_state(model),
                   "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                   "py_rng": rng.getstate(), "gen": gen.get_state(), "torch_rng": torch.get_rng_state(),
                   "cuda_rng": torch.cuda.get_rng_state() if cuda else None,
                   "queues": {n: queue_to_tensors(streams[n].queue) for n in names}, "history": history,
                   "best": best,
                   "best_state": best_state, "bad": bad, "tokens": tokens, "batches": batches,
                   "elapsed": elapsed + time.time() - t0})

    t0 = time.time()
    step = done
    model.train()
    every_log = max(1, total // 10)
    PREEMPTION.deferring = True  # SIGTERM inside a step: finish the step, save, then stop (_Preemption)
    try:
        for step in range(done, total if not finished else done):
            opt.zero_grad(set_to_none=True)
            for _ in range(hp.grad_accum):
                if mlm_tokens and rng.random() < hp.mlm_ratio:
                    task = "mlm"
                    rows = [mlm_tokens[rng.randrange(len(mlm_tokens))] for _ in range(hp.batch_size)]
                    batch = mlm_batch(rows, tokenizer, hp.mask_prob, gen)
                else:
                    task = rng.choices(names, probs)[0] if len(names) > 1 else names[0]
                    batch = collate(train_sets[task], streams[task].next(), pad_id, pad_to=pad_to)
                batches[task] += 1
                # pinned host memory lets the copy overlap with compute on a GPU
                batch = {k: (v.pin_memory() if cuda else v).to(device, non_blocking=True) for k, v in batch.items()}
                tokens += int(batch["attention_mask"].sum())
                with autocast(hp.precision, device):
                    loss, _ = model(task, batch)
                (loss / hp.grad_accum).backward()
            if hp.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), hp.clip)
            opt.step()
            sched.step()
            n_done = step + 1
            last = n_done == total
            secs = max(1e-9, elapsed + time.time() - t0)
            stop = False
            if dev_sets and (n_done % hp.eval_every == 0 or last):
                val = validate(model, pad_id, dev_sets, device, hp.precision)
                model.train()
                history.append({"step": n_done, "loss": loss.item(), "val": val, "tok_per_s": tokens / secs})
                log(f"step {n_done}/{total} loss {loss.item():.4f} val {val:.2f} ({tokens / secs:.0f} tok/s, "
                    f"{n_done / secs:.2f} steps/s, ETA {(total - n_done) * (time.time() - t0) / (n_done - done):.0f}s)")
                if val > best:
                    best, bad = val, 0
                    best_state = _cpu_state(model)
                else:
                    bad += 1
                    if bad >= hp.patience:
                        log(f"early stop at step {n_done}: {bad} validations without improvement")
                        stop = True
            elif n_done % every_log == 0:
                log(f"step {n_done}/{total} loss {loss.item():.4f} ({tokens / secs:.0f} tok/s, "
                    f"{n_done / secs:.2f} steps/s)")
            if ckpt and ckpt.every and n_done % ckpt.every == 0 and not (last or stop):
                snapshot(n_done, False)
            if stop:
                break
            if PREEMPTION.pending and not last:  # on the last step: the finished state is saved below
                # SIGTERM during this step: save it (ckpt folder configured) and stop; a rerun resumes here
                if ckpt:
                    snapshot(n_done, False)
                log(f"SIGTERM: stopping after step {n_done}/{total}"
                    + (f", state saved to {ckpt.folder / ckpt.FILE}" if ckpt else " (no checkpoint folder configured)"))
                raise Preempted(f"at step {n_done}/{total}")
    finally:
        PREEMPTION.deferring = False
    steps = step + 1 if not finished else done
    if best_state is not None:
        model.load_state_dict(best_state)
    if ckpt and not finished:
        # the finished state (best weights loaded): a job killed during evaluation skips training on rerun
        snapshot(steps, True)
    if PREEMPTION.pending:  # SIGTERM during the last step (or the early-stopping one): finished state saved
        log("SIGTERM: training finished and saved; stopping before evaluation")
        raise Preempted("after training")
    return {"steps": steps, "total_steps": total, "best_val": best if dev_sets else None,
            "history": history, "seconds": elapsed + time.time() - t0, "train_tokens": tokens,
            "resumed_from": done if state is not None else None, "fingerprint": fp, "batches_per_task": batches}


def queue_to_tensors(queue: list[list[int]]) -> dict:
    """A stream's remaining batches as two tensors (indices, batch sizes) for the checkpoint: as JSON in the
    safetensors header they outgrow its 100 MB limit (the MT control's queues reach ~86 MB) and cost seconds
    of parsing."""
    return {"flat": torch.tensor([i for b in queue for i in b], dtype=torch.int64),
            "sizes": torch.tensor([len(b) for b in queue], dtype=torch.int64)}


def queue_from_tensors(saved) -> list[list[int]]:
    if isinstance(saved, list):  # a checkpoint written before the queues were tensors
        return [list(b) for b in saved]
    flat, sizes = saved["flat"].tolist(), saved["sizes"].tolist()
    if sum(sizes) != len(flat):
        raise ValueError(f"checkpoint batch queue is inconsistent: sizes sum to {sum(sizes)}, {len(flat)} indices")
    out, pos = [], 0
    for n in sizes:
        out.append(flat[pos:pos + n])
        pos += n
    return out


def _tuples(x):
    """random.Random state back from its saved form (lists where tuples were)."""
    if isinstance(x, list):
        return tuple(_tuples(v) for v in x)
    return x


def validate(model, pad_id: int, dev_sets: dict[str, tuple[Encoded, list]], device="cpu",
             precision: str = "auto") -> float:
    """Mean primary metric over the tasks' English dev subsets."""
    vals = []
    for name, (enc, labels) in dev_sets.items():
        task = T.get(name)
        preds = E.predict(model, enc, pad_id, allow_null=task.unanswerable, device=device, precision=precision)
        vals.append(E.primary(task, E.score(task, enc.records, preds, labels)))
    return sum(vals) / len(vals)
