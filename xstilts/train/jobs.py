"""What each compute rule does, as functions of (config, wildcards, paths): the scripts stay thin.

  train_intermediate   phase 2: one English task, all nine (multitask), + MLM (mlm_control), + MT data
  finetune_evaluate    phase 3: fresh head, English training, model selection on English dev, zero-shot
                       evaluation on every language, clean and perturbed
  embed_sentences      every BUCC/Tatoeba sentence through the (intermediate) encoder, once (clean and perturbed)
  retrieve             BUCC and Tatoeba scores from those vectors
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from xstilts import env
from xstilts import records as R
from xstilts import tasks as T
from xstilts.perturb.sets import perturbed_sets

NON_TRAIN_SPLITS = ("dev", "test")


def hparams(cfg: dict, phase: str, task: str):
    from xstilts.train.loop import HParams
    tr = cfg["train"]
    d = dict(tr["defaults"])
    d.update(tr.get(phase, {}).get("_all", {}))
    d.update(tr.get(phase, {}).get(task, {}))
    hp = HParams.from_dict(d)
    hp.extra["eval_batch_size"] = _engine(cfg)["eval_batch_size"]  # not a hyperparameter: no effect on results
    hp.precision = _engine(cfg).get("precision", "auto")  # changes the numbers a little: part of hparams
    return hp


def _device() -> str:
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def _setup_cuda():
    import torch
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def available_itasks(cfg: dict, data_dir) -> list[str]:
    """Configured intermediate tasks whose data exist (CCG needs user-supplied CCGbank at paper scale)."""
    return [t for t in cfg["intermediate_tasks"] if (Path(data_dir) / f"task~{t}" / "meta.json").exists()]


def _engine(cfg: dict) -> dict:
    return {"checkpoint_dir": None, "checkpoint_every": 0, "feature_cache": None, "eval_batch_size": 64,
            "compile": False, **cfg["train"].get("engine", {})}


def _load_encoded(data_dir, task: str, lang: str, split: str, tok, hp, train: bool, limit: int = 0,
                  as_task: str | None = None, cache=None, log=None):
    """Records of `task`, encoded for the head of `as_task` (a target trained on another task's data)."""
    from xstilts.train.features import encode_cached
    recs, meta = R.load_split(data_dir, task, lang, split)
    if limit and len(recs) > limit:
        recs = recs[:limit]  # a fixed-size dev subset: the first `limit` records, the same for every run
    labels = meta.get("labels") or None
    return encode_cached(recs, T.get(as_task or task), tok, hp.max_length, labels, train=train, cache_dir=cache,
                         source=R.task_file(data_dir, task, lang, split), limit=limit, log=log,
                         doc_stride=hp.doc_stride, max_query_length=hp.max_query_length), labels


def checkpointer(cfg: dict, ckpt_dir, log=print):
    """The training-state checkpointer of one training run (None folder: not resumable)."""
    from xstilts.train.loop import Checkpointer
    return Checkpointer(ckpt_dir if _engine(cfg)["checkpoint_dir"] else None, _engine(cfg)["checkpoint_every"],
                        log=log)


def checkpoint_dir(cfg: dict, output) -> Path | None:
    """Scratch folder for the trainings of the job writing `output`: <checkpoint_dir>/<output's folder>."""
    root = _engine(cfg)["checkpoint_dir"]
    return Path(root) / Path(output).parent if root else None


def _maybe_compile(model, cfg: dict, log=print):
    if _engine(cfg)["compile"]:
        import torch
        # dynamic=True: dynamic padding gives every batch its own length
        model.encoder = torch.compile(model.encoder, dynamic=True)
        log("encoder compiled with torch.compile(dynamic=True)")
    return model


def _model_for(encoder, tok, tasks_labels: dict[str, list | None], lm_head=None):
    from xstilts.models.modeling import MultiTaskModel, make_head
    hidden = encoder.config.hidden_size
    heads, formats = {}, {}
    for name, labels in tasks_labels.items():
        t = T.get(name)
        heads[name] = make_head(t, hidden, len(labels) if labels else 0, encoder.config.hidden_dropout_prob)
        formats[name] = t.format
    if lm_head is not None:
        formats["mlm"] = T.MLM
    return MultiTaskModel(encoder, heads, formats, lm_head)


def train_intermediate(cfg: dict, itask: str, encoder_dir, data_dir, outdir, seed: int, threads: int = 1,
                       log=print, ckpt_dir=None) -> dict:
    """Phase 2 for one intermediate model. SIGTERM saves the training state and exits 143 (train.Preempted)."""
    from xstilts.train.loop import preemptible
    with preemptible(log):
        return _train_intermediate(cfg, itask, encoder_dir, data_dir, outdir, seed, threads, log, ckpt_dir)


def _train_intermediate(cfg, itask, encoder_dir, data_dir, outdir, seed, threads, log, ckpt_dir) -> dict:
    from xstilts.models.modeling import load_encoder, save_encoder
    env.set_threads(threads)
    _setup_cuda()
    env.set_seed(seed)
    device = _device()
    langs_mt = [l for l in cfg["languages"] if l != "en"]
    if itask in T.INTERMEDIATE_TASKS:
        task_names = [itask]
    elif itask in ("multitask", "mlm_control", "mt_control"):
        task_names = available_itasks(cfg, data_dir)
    else:
        raise ValueError(f"unknown intermediate phase {itask!r}")
    phase_key = itask if itask in T.INTERMEDIATE_TASKS else "multitask"
    hp = hparams(cfg, "intermediate", phase_key)
    if itask == "mlm_control":
        hp.mlm_ratio = cfg["controls"]["mlm_ratio"]
    mlm_model, tok = load_encoder(encoder_dir, with_mlm_head=itask == "mlm_control")
    encoder = mlm_model.base_model if itask == "mlm_control" else mlm_model
    # the checkpoint's own MLM head: `lm_head` (XLM-R, RoBERTa) or `cls` (BERT; multilingual-e5 ships none, so
    # its transform is newly initialised, decoder tied to the word embeddings)
    lm_head = (getattr(mlm_model, "lm_head", None) or mlm_model.cls) if itask == "mlm_control" else None
    train_sets, dev_sets, labels_of, mt_added = {}, {}, {}, {}
    cache = _engine(cfg)["feature_cache"]
    mt_tasks = cfg["controls"]["mt_tasks"] if itask == "mt_control" else []
    for name in task_names:
        enc, labels = _load_encoded(data_dir, name, "en", "train", tok, hp, train=True, cache=cache, log=log)
        n_en = len(enc.features)
        if name in mt_tasks:
            # MT control: English plus the machine-translated copies (the languages that have them),
            # as one training set per task
            splits = R.read_meta(Path(data_dir) / f"task~{name}")["splits"]
            for l in [l for l in langs_mt if "train" in splits.get(l, [])]:
                e2, _ = _load_encoded(data_dir, name, l, "train", tok, hp, train=True, cache=cache, log=log)
                enc.features += e2.features
        train_sets[name] = enc
        mt_added[name] = len(enc.features) - n_en
        labels_of[name] = labels
        dev_sets[name] = _load_encoded(data_dir, name, "en", "dev", tok, hp, train=False, limit=hp.eval_examples,
                                       cache=cache)
    if mt_tasks and not hp.max_steps:
        # the MT control gets as many updates as plain multi-task training: the translated copies change
        # what it sees, not how long it trains (otherwise it would be a compute control, not an MT one)
        import math
        en = sum(len(train_sets[n]) - mt_added[n] for n in task_names)
        hp.max_steps = max(1, round(hp.epochs * math.ceil(en / (hp.batch_size * hp.grad_accum))))
    mlm_rows = None
    if itask == "mlm_control":
        from xstilts.models.pretrain import corpus_texts
        texts = corpus_texts(data_dir, cfg["languages"])
        mlm_rows = tok(texts, truncation=True, max_length=hp.max_length)["input_ids"]
    from xstilts.train.loop import train
    model = _maybe_compile(_model_for(encoder, tok, labels_of, lm_head).to(device), cfg, log)
    log(f"intermediate {itask}: tasks {task_names}, {sum(len(v) for v in train_sets.values())} features")
    # the MT control samples tasks as the English multi-task model does (by English size) and, within a task,
    # English and translated examples alike: it changes the language of the data, not the task mixture
    # (proportional to the sizes with translations, MNLI would go from ~18% to ~62% of batches)
    task_sizes = {n: len(train_sets[n]) - mt_added[n] for n in task_names} if mt_tasks else None
    res = train(model, tok.pad_token_id, train_sets, dev_sets, hp, seed, mlm_rows, tok, log, device,
                checkpoint=checkpointer(cfg, ckpt_dir, log), task_sizes=task_sizes)
    log(f"intermediate {itask}: batches per task {res['batches_per_task']}")
    from xstilts.train.loop import validate
    dev_scores = {n: validate(model, tok.pad_token_id, {n: dev_sets[n]}, device, hp.precision) for n in task_names}
    info = {"itask": itask, "tasks": task_names, "mt_tasks": mt_tasks, "hparams": hp.__dict__,
            "train": {k: v for k, v in res.items()}, "dev": dev_scores, "encoder_in": str(encoder_dir),
            "seed": seed, "device": env.device_info(hp.precision), **env.provenance(cfg, itask=itask, seed=seed)}
    save_encoder(model, tok, outdir, info)
    return info


def finetune_evaluate(cfg: dict, itask: str, ttasks: list[str], encoder_dir, data_dir, perturbed_dir,
                      seed: int, threads: int = 1, log=print, ckpt_dir=None, adversarial_in=None) -> dict:
    """For each target: fresh head, English training, best-on-English-dev, zero-shot on every language.
    SIGTERM saves the training state, or keeps the evaluation results done so far, and exits 143
    (train.Preempted); a rerun resumes from there."""
    from xstilts.train.loop import preemptible
    with preemptible(log):
        return _finetune_evaluate(cfg, itask, ttasks, encoder_dir, data_dir, perturbed_dir, seed, threads, log,
                                  ckpt_dir, adversarial_in)


def _finetune_evaluate(cfg, itask, ttasks, encoder_dir, data_dir, perturbed_dir, seed, threads, log, ckpt_dir,
                       adversarial_in) -> dict:
    from xstilts.models.modeling import load_encoder
    from xstilts.train.loop import ResultStore, train
    env.set_threads(threads)
    _setup_cuda()
    device = _device()
    rows, runs, trained, examples, adversarial = [], {}, {}, [], []
    adv_in = _read_adversarial(adversarial_in)
    cache = _engine(cfg)["feature_cache"]
    for ttask in ttasks:
        t0 = time.time()
        task = T.get(ttask)
        env.set_seed(seed)  # same seed, same head init and batch order, whatever ran before in this job
        hp = hparams(cfg, "target", ttask)
        src = task.train_from
        # XQuAD and MLQA both fine-tune on SQuAD v1.1: with equal hyperparameters the model is the same, so
        # a bundled job trains it once and evaluates it on both (as XTREME does)
        key = (src, task.format, json.dumps(hp.__dict__, sort_keys=True))
        if key in trained:
            model, res, prev, tok = trained[key]
            model.heads[ttask], model.formats[ttask] = model.heads[prev], model.formats[prev]
            log(f"{ttask}: reusing the {prev} model (same training data and hyperparameters)")
        else:
            encoder, tok = load_encoder(encoder_dir)
            train_enc, labels = _load_encoded(data_dir, src, "en", "train", tok, hp, train=True, as_task=ttask,
                                              cache=cache, log=log)
            dev_enc = _load_encoded(data_dir, src, "en", "dev", tok, hp, train=False, limit=hp.eval_examples,
                                    as_task=ttask, cache=cache)
            # the intermediate head is not carried over: the model is the encoder plus a new head
            model = _maybe_compile(_model_for(encoder, tok, {ttask: labels}).to(device), cfg, log)
            res = train(model, tok.pad_token_id, {ttask: train_enc}, {ttask: dev_enc}, hp, seed, log=log,
                        device=device, checkpoint=checkpointer(cfg, ckpt_dir and Path(ckpt_dir) / ttask, log))
            trained[key] = (model, res, ttask, tok)
        # every evaluation set's results are kept as they complete (with the training state's fingerprint):
        # a job stopped during evaluation (SIGTERM, SIGKILL) resumes at the first set not done
        store = ResultStore(ckpt_dir and Path(ckpt_dir) / ttask, res.get("fingerprint"))

        def evaluated(lang, split, family, severity, root=None):
            src = (Path(root) / f"lang~{lang}" / f"{split}.jsonl" if root is not None
                   else R.task_file(data_dir, ttask, lang, split))
            st = Path(src).stat()
            # the file's size and mtime: a set regenerated since the stopped run is evaluated again
            key = {"phase": "eval", "ttask": ttask, "lang": lang, "split": split, "family": family,
                   "severity": float(severity), "file": str(src), "stat": [st.st_size, st.st_mtime_ns]}
            def run():
                ex: list = []
                r = _eval_rows(model, tok, data_dir, ttask, lang, split, family, severity, hp, device,
                               root=root, examples=ex, cache=cache)
                return {"rows": r, "examples": ex}
            out = store.memo(key, run)
            examples.extend(out["examples"])
            return out["rows"]

        meta = R.read_meta(Path(data_dir) / f"task~{ttask}")
        for lang in meta["languages"]:
            for split in meta["splits"].get(lang, []):
                if split not in NON_TRAIN_SPLITS:
                    continue
                rows += evaluated(lang, split, "clean", 0.0)
        for pdir in perturbed_sets(perturbed_dir, ttask, cfg):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            for lang in pm["languages"]:
                rows += evaluated(lang, "test", pm["family"], pm["severity"], root=pdir)
        # black-box attack (XNLI, PAWS-X) while the model exists: fine-tuned models are not saved
        a_rows, a_recs = _attack(cfg, model, tok, ttask, hp, data_dir, perturbed_dir, device, adv_in, log, store)
        rows += a_rows
        adversarial += a_recs
        if store.reused:
            log(f"{ttask}: {store.reused} evaluation results taken from {store.folder} (an earlier, stopped run)")
        runs[ttask] = {"train": res, "hparams": hp.__dict__, "seconds": time.time() - t0}
        log(f"{ttask}: trained {res['steps']} steps, best English dev {res['best_val']:.2f} "
            f"({time.time() - t0:.0f}s)")
    return {"rows": rows, "runs": runs, "examples": examples, "adversarial": adversarial,
            "device": env.device_info(_engine(cfg).get("precision", "auto")),
            **env.provenance(cfg, itask=itask, seed=seed)}


def _read_adversarial(path):
    if not path:
        return None
    from xstilts.perturb.attack import read_adversarial
    return read_adversarial(path)


def _attack(cfg, model, tok, ttask, hp, data_dir, perturbed_dir, device, adv_in, log, store=None):
    from xstilts.perturb.attack import run_in_job
    table = Path(perturbed_dir) / "homoglyphs.json" if perturbed_dir else None
    return run_in_job(cfg, model, tok, ttask, hp, data_dir, table if table and table.exists() else None,
                      device, adv_in, log, memo=store.memo if store is not None else None)


def _eval_rows(model, tok, data_dir, ttask, lang, split, family, severity, hp, device, root=None,
               examples: list | None = None, cache=None):
    from xstilts.train import evaluate as E
    from xstilts.train.features import encode_cached
    task = T.get(ttask)
    if root is not None:
        path = Path(root) / f"lang~{lang}" / f"{split}.jsonl"
        meta = json.loads((Path(root) / "meta.json").read_text(encoding="utf-8"))
        recs = R.read_jsonl(path, task.format, meta.get("labels") or None, task.n_choices or None)
    else:
        path = R.task_file(data_dir, ttask, lang, split)
        recs, meta = R.load_split(data_dir, ttask, lang, split)
    labels = meta.get("labels") or None
    # every fine-tuning job evaluates the same clean and perturbed test sets with the same tokenizer:
    # tokenised once (first job), read back by the others
    enc = encode_cached(recs, task, tok, hp.max_length, labels, cache_dir=cache, source=path,
                        doc_stride=hp.doc_stride, max_query_length=hp.max_query_length)
    preds = E.predict(model, enc, tok.pad_token_id, batch_size=hp.extra.get("eval_batch_size", 64), device=device,
                      precision=hp.precision)
    res = E.score(task, recs, preds, labels, lang)
    key = {"ttask": ttask, "lang": lang, "split": split, "family": family, "severity": float(severity)}
    if examples is not None:
        examples += [{**key, **st} for st in E.example_stats(task, recs, preds, labels, lang)]
    base = {**key, "n": res["n"]}
    return [{**base, "metric": m, "value": float(res[m])} for m in ("accuracy", "f1", "em", "precision", "recall")
            if m in res]
