"""Resumable training: a job killed with SIGKILL mid-training and rerun continues from its last checkpoint and
ends with exactly the metrics of an uninterrupted run (CPU, same seed, same thread count); the intermediate
head never reaches target fine-tuning."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from conftest import REPO

ARCH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "max_position_embeddings": 130, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}

# A job runner in a fresh interpreter, as Snakemake runs a script: what it prints last is the result.
RUNNER = r"""
import json, sys
from xstilts.train import jobs
cfg = json.load(open(sys.argv[1]))
kind, out, ckpt = sys.argv[2], sys.argv[3], sys.argv[4]
if kind == "finetune":
    res = jobs.finetune_evaluate(cfg, "baseline", ["xnli", "udpos"], cfg["_encoder"], cfg["_data"], None, 1,
                                 threads=1, log=lambda m: print(m, flush=True), ckpt_dir=ckpt)
    res = {"rows": res["rows"], "examples": res["examples"],
           "train": {t: {k: r["train"][k] for k in ("steps", "best_val", "history")} for t, r in res["runs"].items()}}
else:
    info = jobs.train_intermediate(cfg, kind, cfg["_encoder"], cfg["_data"], out, 1, threads=1,
                                   log=lambda m: print(m, flush=True), ckpt_dir=ckpt)
    res = {"dev": info["dev"], "steps": info["train"]["steps"], "history": info["train"]["history"]}
json.dump(res, open(out + ".json", "w"), sort_keys=True)
jobs.checkpointer(cfg, ckpt).clear()
print("DONE", flush=True)
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from xstilts.data.micro import generate
    from xstilts.models.modeling import build_micro_encoder, train_tokenizer
    from xstilts.models.pretrain import corpus_texts
    root = tmp_path_factory.mktemp("resume")
    data = root / "data"
    generate(data, {"tasks": ["xnli", "udpos", "mnli", "sst2", "mlm_corpus"], "languages": ["en", "xl"],
                    "n_train": 160, "n_train_by_task": {}, "n_dev": 30, "n_test": 30, "n_mlm": 200})
    train_tokenizer(corpus_texts(data, ["en", "xl"]), root / "tok", vocab_size=400)
    model, tok = build_micro_encoder(root / "tok", ARCH, seed=0)
    model.save_pretrained(root / "encoder")
    tok.save_pretrained(root / "encoder")
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["languages"] = ["en", "xl"]
    cfg["targets"] = ["xnli", "udpos"]
    cfg["intermediate_tasks"] = ["mnli", "sst2"]
    cfg["train"]["defaults"].update(epochs=3, batch_size=16, eval_every=6, eval_examples=30, patience=100)
    cfg["train"]["target"] = {"_all": {}}
    cfg["train"]["intermediate"] = {"_all": {}, "multitask": {"epochs": 2}}
    cfg["train"]["engine"].update(checkpoint_dir=str(root / "ckpt"), checkpoint_every=4,
                                  feature_cache=str(root / "cache"))
    cfg["controls"]["mlm_ratio"] = 0.3
    cfg["_encoder"], cfg["_data"] = str(root / "encoder"), str(data)
    (root / "cfg.json").write_text(json.dumps(cfg))
    (root / "runner.py").write_text(RUNNER)
    return root


def _cmd(root, kind, name):
    return [sys.executable, str(root / "runner.py"), str(root / "cfg.json"), kind, str(root / name),
            str(root / "ckpt" / name)]


def _timeless(x):
    """Results without wall-clock throughput (the only thing a resumed run may differ in)."""
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if k != "tok_per_s"}
    if isinstance(x, list):
        return [_timeless(v) for v in x]
    return x


def _run(root, kind, name):
    r = subprocess.run(_cmd(root, kind, name), capture_output=True, text=True, timeout=900,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout, _timeless(json.loads((root / f"{name}.json").read_text()))


def _kill_after(root, kind, name, n_checkpoints: int) -> None:
    """Start the job and SIGKILL it once it has written its n-th checkpoint (any moment after works)."""
    state = root / "ckpt" / name
    p = subprocess.Popen(_cmd(root, kind, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    seen, last = 0, None
    deadline = time.time() + 600
    while time.time() < deadline and p.poll() is None:
        files = sorted(state.rglob("state.safetensors"))
        stamp = [(str(f), f.stat().st_mtime_ns) for f in files if f.exists()]
        if stamp and stamp != last:
            seen, last = seen + 1, stamp
            if seen >= n_checkpoints:
                os.killpg(p.pid, signal.SIGKILL)
                break
        time.sleep(0.05)
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, f"job ended ({p.returncode}) before it could be killed"
    assert list(state.rglob("state.safetensors")), "no checkpoint survived the kill"


_CLEAN: dict = {}


def _clean(root, kind, name):
    """The uninterrupted reference run, once per module."""
    if name not in _CLEAN:
        _CLEAN[name] = _run(root, kind, name)[1]
    return _CLEAN[name]


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [2, 6])  # in the first task's training / after it, inside the second's
def test_finetune_killed_and_rerun_gives_identical_metrics(setup, kill_at):
    clean = _clean(setup, "finetune", "ft_clean")
    name = f"ft_kill{kill_at}"
    _kill_after(setup, "finetune", name, kill_at)
    out, resumed = _run(setup, "finetune", name)
    assert "resumed from" in out
    assert resumed == clean  # every metric, every per-example prediction, the whole validation history
    assert not (setup / "ckpt" / name).exists()  # cleared once the outputs exist


def _sigterm_when(root, kind, name, ready) -> str:
    """Start the job, send SIGTERM once ready(state folder) holds; the job must save and exit with 143."""
    state = root / "ckpt" / name
    p = subprocess.Popen(_cmd(root, kind, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and p.poll() is None and not ready(state):
        time.sleep(0.05)
    assert p.poll() is None, f"job ended ({p.returncode}) before SIGTERM"
    os.killpg(p.pid, signal.SIGTERM)
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 143, f"exit {p.returncode} after SIGTERM:\n{out[-3000:]}"
    return out


@pytest.mark.slow
def test_sigterm_in_training_saves_the_step_and_the_rerun_matches(setup):
    """SLURM preemption or a time limit sends SIGTERM (then SIGKILL after KillWait): the step in progress is
    finished and saved, the job exits 143, and the rerun resumes from that step, not from the last periodic
    checkpoint."""
    clean = _clean(setup, "finetune", "ft_clean")
    out = _sigterm_when(setup, "finetune", "ft_term", lambda st: any(st.rglob("state.safetensors")))
    assert "SIGTERM: stopping after step" in out and "state saved" in out
    out, resumed = _run(setup, "finetune", "ft_term")
    assert "resumed from" in out
    assert resumed == clean


@pytest.mark.slow
def test_sigterm_in_evaluation_keeps_finished_sets_and_the_rerun_matches(setup):
    """Stopped during evaluation: the finished state and every evaluation set done so far survive; the rerun
    skips training and those sets, and its results equal an uninterrupted run's."""
    clean = _clean(setup, "finetune", "ft_clean")
    out = _sigterm_when(setup, "finetune", "ft_term_eval", lambda st: len(list(st.rglob("results/*.json"))) >= 2)
    assert "preempted by SIGTERM (outside training" in out
    out, resumed = _run(setup, "finetune", "ft_term_eval")
    assert "(training had finished)" in out and "evaluation results taken from" in out
    assert resumed == clean


@pytest.mark.slow
def test_mlm_control_killed_and_rerun_gives_identical_model(setup):
    """Multi-task + MLM batches: the task sampler, the masking generator and dropout all resume exactly."""
    from safetensors.torch import load_file
    clean = _clean(setup, "mlm_control", "mlm_clean")
    _kill_after(setup, "mlm_control", "mlm_kill", 3)
    out, resumed = _run(setup, "mlm_control", "mlm_kill")
    assert "resumed from" in out
    assert resumed == clean
    a = load_file(setup / "mlm_clean" / "model.safetensors")
    b = load_file(setup / "mlm_kill" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_of_another_configuration_is_ignored(setup, tmp_path):
    from xstilts.train.loop import Checkpointer
    c = Checkpointer(tmp_path / "c", every=1, log=lambda m: msgs.append(m))
    msgs = []
    c.save({"fingerprint": "aaa", "step": 3})
    assert c.load("aaa")["step"] == 3
    assert c.load("bbb") is None and "another run configuration" in msgs[-1]
    c.clear()
    assert not (tmp_path / "c").exists() and c.load("aaa") is None
    assert not Checkpointer(None, 5).enabled


def test_intermediate_head_is_discarded(setup, tmp_path):
    """The target model is the intermediate encoder plus a *fresh* head: the head's initial weights are the
    same whatever encoder it sits on, and nothing of the intermediate head is saved."""
    from safetensors import safe_open

    from xstilts import env
    from xstilts.train import jobs
    from xstilts.models.modeling import load_encoder
    cfg = json.loads((setup / "cfg.json").read_text())
    cfg["train"]["engine"]["checkpoint_dir"] = None
    out = tmp_path / "inter"
    jobs.train_intermediate(cfg, "mnli", cfg["_encoder"], cfg["_data"], out, 1, log=lambda m: None)
    with safe_open(out / "model.safetensors", "pt") as f:
        keys = list(f.keys())
    assert keys and not any("heads" in k or "lm_head" in k for k in keys)
    heads = []
    for enc_dir in (cfg["_encoder"], out):
        encoder, tok = load_encoder(enc_dir)
        env.set_seed(7)
        m = jobs._model_for(encoder, tok, {"xnli": ["entailment", "neutral", "contradiction"]})
        heads.append({k: v.clone() for k, v in m.heads.state_dict().items()})
    assert heads[0].keys() == heads[1].keys()
    assert all(torch.equal(heads[0][k], heads[1][k]) for k in heads[0])
    # the encoders do differ: intermediate training changed them
    a, _ = load_encoder(cfg["_encoder"])
    b, _ = load_encoder(out)
    assert any(not torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_feature_cache_reused_and_equal(setup):
    from xstilts import records as R
    from xstilts import tasks as T
    from xstilts.train.features import encode, encode_cached
    from xstilts.models.modeling import load_tokenizer
    tok = load_tokenizer(setup / "encoder")
    recs, meta = R.load_split(setup / "data", "udpos", "en", "train")
    src = R.task_file(setup / "data", "udpos", "en", "train")
    cache = setup / "cache_test"
    logs = []
    a = encode_cached(recs, T.get("udpos"), tok, 64, meta["labels"], True, cache, src, log=logs.append)
    b = encode_cached(recs, T.get("udpos"), tok, 64, meta["labels"], True, cache, src, log=logs.append)
    ref = encode(recs, T.get("udpos"), tok, 64, meta["labels"], train=True)
    assert a.features == b.features == ref.features
    assert len(list(cache.iterdir())) == 1 and logs and "from cache" in logs[-1]
    # another max length is another entry, never the wrong one
    encode_cached(recs, T.get("udpos"), tok, 32, meta["labels"], True, cache, src)
    assert len(list(cache.iterdir())) == 2
    # a damaged entry is recomputed, not trusted
    for f in cache.iterdir():
        f.write_bytes(b"garbage")
    c = encode_cached(recs, T.get("udpos"), tok, 64, meta["labels"], True, cache, src)
    assert c.features == ref.features


def test_checkpoint_holds_batch_queues_of_the_mt_control_size(tmp_path):
    """The MT control's batch queues (~9 million feature indices) once went into the safetensors header as JSON
    (~86 MB, near its 100 MB limit); as tensors the header stays small and they come back exactly."""
    import struct

    import numpy as np

    from xstilts.train.loop import Checkpointer, queue_from_tensors, queue_to_tensors
    n, bs = 9_000_000, 32
    flat = np.random.default_rng(0).permutation(n).tolist()
    queue = [flat[i:i + bs] for i in range(0, n, bs)]  # the last batch is short
    ck = Checkpointer(tmp_path / "ck", every=1)
    ck.save({"fingerprint": "fp", "queues": {"mnli_mt": queue_to_tensors(queue)}, "step": 3})
    path = tmp_path / "ck" / Checkpointer.FILE
    with open(path, "rb") as f:
        header_bytes = struct.unpack("<Q", f.read(8))[0]
    assert header_bytes < 100_000, header_bytes
    back = ck.load("fp")
    assert back["step"] == 3
    assert queue_from_tensors(back["queues"]["mnli_mt"]) == queue
    assert queue_from_tensors([[3, 1], [2]]) == [[3, 1], [2]]  # checkpoints written before the change


def test_mt_control_keeps_the_english_task_mixture(setup):
    """The MT control adds translated copies to a task's training set; the task mixture must stay the English
    multi-task model's (examples-proportional over the English sets), the translations only changing the
    language of that task's batches. Measured on the sampled batches of a real training run."""
    import copy

    from xstilts.train import jobs
    from xstilts.models.modeling import load_encoder
    from xstilts.train.loop import train
    cfg = json.loads((setup / "cfg.json").read_text())
    encoder, tok = load_encoder(cfg["_encoder"])
    hp = jobs.hparams(cfg, "intermediate", "multitask")
    hp.max_steps, hp.batch_size, hp.eval_every = 400, 2, 10_000
    sets, labels = {}, {}
    for name in ("mnli", "sst2"):
        enc, lab = jobs._load_encoded(cfg["_data"], name, "en", "train", tok, hp, train=True)
        sets[name], labels[name] = enc, lab
    english = {n: len(e) for n, e in sets.items()}
    mt = {n: copy.copy(e) for n, e in sets.items()}
    mt["mnli"].features = list(sets["mnli"].features) * 5  # English + four "translations" of MNLI

    def shares(train_sets, task_sizes):
        model = jobs._model_for(encoder, tok, labels)
        res = train(model, tok.pad_token_id, train_sets, {}, hp, 1, log=lambda m: None, task_sizes=task_sizes)
        b = res["batches_per_task"]
        return b["mnli"] / sum(b.values())

    want = english["mnli"] / sum(english.values())
    assert abs(shares(mt, english) - want) < 0.07  # 400 draws: sd ~0.025
    # proportional to the sizes with translations, MNLI takes ~5/6 of the batches: what the fix prevents
    assert shares(mt, None) > want + 0.2
