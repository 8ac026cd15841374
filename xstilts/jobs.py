"""What each compute rule does, as functions of (config, wildcards, paths): the scripts stay thin.

  train_intermediate   phase 2: one English task, all nine (multitask), + MLM (mlm_control), + MT data
  finetune_evaluate    phase 3: fresh head, English training, model selection on English dev, zero-shot
                       evaluation on every language, clean and perturbed
  retrieve             BUCC and Tatoeba from the (intermediate) encoder's representations, clean and perturbed
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import env
from . import records as R
from . import tasks as T

NON_TRAIN_SPLITS = ("dev", "test")


def hparams(cfg: dict, phase: str, task: str):
    from .train import HParams
    tr = cfg["train"]
    d = dict(tr["defaults"])
    d.update(tr.get(phase, {}).get("_all", {}))
    d.update(tr.get(phase, {}).get(task, {}))
    return HParams.from_dict(d)


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


def _load_encoded(data_dir, task: str, lang: str, split: str, tok, hp, train: bool, limit: int = 0,
                  as_task: str | None = None):
    """Records of `task`, encoded for the head of `as_task` (a target trained on another task's data)."""
    from .features import encode
    recs, meta = R.load_split(data_dir, task, lang, split)
    if limit and len(recs) > limit:
        recs = recs[:limit]  # a fixed-size dev subset: the first `limit` records, the same for every run
    labels = meta.get("labels") or None
    return encode(recs, T.get(as_task or task), tok, hp.max_length, labels, train=train), labels


def _model_for(encoder, tok, tasks_labels: dict[str, list | None], lm_head=None):
    from .modeling import MultiTaskModel, make_head
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
                       log=print) -> dict:
    from .modeling import load_encoder, save_encoder
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
    lm_head = mlm_model.lm_head if itask == "mlm_control" else None
    train_sets, dev_sets, labels_of, mt_added = {}, {}, {}, {}
    mt_tasks = cfg["controls"]["mt_tasks"] if itask == "mt_control" else []
    for name in task_names:
        enc, labels = _load_encoded(data_dir, name, "en", "train", tok, hp, train=True)
        n_en = len(enc.features)
        if name in mt_tasks:
            # MT control: English plus the machine-translated copies (the languages that have them),
            # as one training set per task
            splits = R.read_meta(Path(data_dir) / f"task~{name}")["splits"]
            for l in [l for l in langs_mt if "train" in splits.get(l, [])]:
                e2, _ = _load_encoded(data_dir, name, l, "train", tok, hp, train=True)
                enc.features += e2.features
        train_sets[name] = enc
        mt_added[name] = len(enc.features) - n_en
        labels_of[name] = labels
        dev_sets[name] = _load_encoded(data_dir, name, "en", "dev", tok, hp, train=False, limit=hp.eval_examples)
    if mt_tasks and not hp.max_steps:
        # the MT control gets as many updates as plain multi-task training: the translated copies change
        # what it sees, not how long it trains (otherwise it would be a compute control, not an MT one)
        import math
        en = sum(len(train_sets[n]) - mt_added[n] for n in task_names)
        hp.max_steps = max(1, round(hp.epochs * math.ceil(en / (hp.batch_size * hp.grad_accum))))
    mlm_rows = None
    if itask == "mlm_control":
        from .pretrain import corpus_texts
        texts = corpus_texts(data_dir, cfg["languages"])
        mlm_rows = tok(texts, truncation=True, max_length=hp.max_length)["input_ids"]
    from .train import train
    model = _model_for(encoder, tok, labels_of, lm_head).to(device)
    log(f"intermediate {itask}: tasks {task_names}, {sum(len(v) for v in train_sets.values())} features")
    res = train(model, tok.pad_token_id, train_sets, dev_sets, hp, seed, mlm_rows, tok, log, device)
    from .train import validate
    dev_scores = {n: validate(model, tok.pad_token_id, {n: dev_sets[n]}, device) for n in task_names}
    info = {"itask": itask, "tasks": task_names, "mt_tasks": mt_tasks, "hparams": hp.__dict__,
            "train": {k: v for k, v in res.items()}, "dev": dev_scores, "encoder_in": str(encoder_dir),
            "seed": seed, **env.provenance(cfg, itask=itask, seed=seed)}
    save_encoder(model, tok, outdir, info)
    return info


def finetune_evaluate(cfg: dict, itask: str, ttasks: list[str], encoder_dir, data_dir, perturbed_dir,
                      seed: int, threads: int = 1, log=print) -> dict:
    """For each target: fresh head, English training, best-on-English-dev, zero-shot on every language."""
    from .modeling import load_encoder
    from .train import train
    env.set_threads(threads)
    _setup_cuda()
    device = _device()
    rows, runs, trained = [], {}, {}
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
            train_enc, labels = _load_encoded(data_dir, src, "en", "train", tok, hp, train=True, as_task=ttask)
            dev_enc = _load_encoded(data_dir, src, "en", "dev", tok, hp, train=False, limit=hp.eval_examples,
                                    as_task=ttask)
            # the intermediate head is not carried over: the model is the encoder plus a new head
            model = _model_for(encoder, tok, {ttask: labels}).to(device)
            res = train(model, tok.pad_token_id, {ttask: train_enc}, {ttask: dev_enc}, hp, seed, log=log,
                        device=device)
            trained[key] = (model, res, ttask, tok)
        meta = R.read_meta(Path(data_dir) / f"task~{ttask}")
        for lang in meta["languages"]:
            for split in meta["splits"].get(lang, []):
                if split not in NON_TRAIN_SPLITS:
                    continue
                rows += _eval_rows(model, tok, data_dir, ttask, lang, split, "clean", 0.0, hp, device)
        for pdir in _perturbed_sets(perturbed_dir, ttask):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            for lang in pm["languages"]:
                rows += _eval_rows(model, tok, data_dir, ttask, lang, "test",
                                   pm["family"], pm["severity"], hp, device, root=pdir)
        runs[ttask] = {"train": res, "hparams": hp.__dict__, "seconds": time.time() - t0}
        log(f"{ttask}: trained {res['steps']} steps, best English dev {res['best_val']:.2f} "
            f"({time.time() - t0:.0f}s)")
    return {"rows": rows, "runs": runs, **env.provenance(cfg, itask=itask, seed=seed)}


def _perturbed_sets(perturbed_dir, ttask: str) -> list[Path]:
    """Folders task~T/family~F/severity~S/seed~N holding lang~L/test.jsonl + meta.json."""
    if not perturbed_dir:
        return []
    root = Path(perturbed_dir) / f"task~{ttask}"
    return sorted(p.parent for p in root.glob("family~*/severity~*/seed~*/meta.json"))


def _eval_rows(model, tok, data_dir, ttask, lang, split, family, severity, hp, device, root=None):
    from . import evaluate as E
    from .features import encode
    task = T.get(ttask)
    if root is not None:
        path = Path(root) / f"lang~{lang}" / f"{split}.jsonl"
        meta = json.loads((Path(root) / "meta.json").read_text(encoding="utf-8"))
        recs = R.read_jsonl(path, task.format, meta.get("labels") or None, task.n_choices or None)
    else:
        recs, meta = R.load_split(data_dir, ttask, lang, split)
    labels = meta.get("labels") or None
    enc = encode(recs, task, tok, hp.max_length, labels)
    preds = E.predict(model, enc, tok.pad_token_id, device=device)
    res = E.score(task, recs, preds, labels, lang)
    base = {"ttask": ttask, "lang": lang, "split": split, "family": family, "severity": float(severity),
            "n": res["n"]}
    return [{**base, "metric": m, "value": float(res[m])} for m in ("accuracy", "f1", "em", "precision", "recall")
            if m in res]


def retrieve(cfg: dict, encoder_dir, data_dir, perturbed_dir, threads: int = 1, log=print) -> dict:
    """BUCC mining and Tatoeba retrieval from mean-pooled hidden states of the configured layer."""
    from . import retrieve as RT
    from .modeling import load_encoder
    env.set_threads(threads)
    _setup_cuda()
    device = _device()
    rc = cfg["retrieval"]
    model, tok = load_encoder(encoder_dir)
    model.to(device)
    layer = rc["layer"]
    n_layers = model.config.num_hidden_layers
    if not 0 <= layer <= n_layers:
        raise ValueError(f"config retrieval.layer={layer} but {encoder_dir} has {n_layers} layers")

    def emb(texts):
        return RT.embed(model, tok, texts, layer=layer, batch_size=rc["batch_size"],
                        max_length=rc["max_length"], device=device)

    rows = []
    if "tatoeba" in cfg["targets"]:
        meta = R.read_meta(Path(data_dir) / "task~tatoeba")
        sets = [("clean", 0.0, Path(data_dir) / "task~tatoeba")]
        for pdir in _perturbed_sets(perturbed_dir, "tatoeba"):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            sets.append((pm["family"], pm["severity"], pdir))
        en_cache = {}
        for family, sev, root in sets:
            for lang in meta["languages"]:
                recs = R.read_jsonl(Path(root) / f"lang~{lang}" / "test.jsonl", T.TATOEBA)
                if lang not in en_cache:  # the English side is never perturbed: embed it once
                    en_cache[lang] = emb([r["target"] for r in recs])
                pred = RT.tatoeba_predict(emb([r["source"] for r in recs]), en_cache[lang])
                rows.append({"ttask": "tatoeba", "lang": lang, "split": "test", "family": family,
                             "severity": float(sev), "metric": "accuracy",
                             "value": float(RT.tatoeba_accuracy(pred)), "n": len(recs)})
    if "bucc" in cfg["targets"]:
        meta = R.read_meta(Path(data_dir) / "task~bucc")
        for lang in meta["languages"]:
            mined = {}
            for split in ("dev", "test"):
                sents = R.read_jsonl(R.task_file(data_dir, "bucc", lang, split), T.BUCC)
                gold_recs = R.read_jsonl(R.task_file(data_dir, "bucc", lang, split, ".gold.jsonl"))
                src = [s for s in sents if s["side"] == "source"]
                tgt = [s for s in sents if s["side"] == "target"]
                for side, recs in (("source", src), ("target", tgt)):
                    if not recs:  # nothing to mine from: say which file, not "no texts to embed"
                        raise R.RecordError(f"{R.task_file(data_dir, 'bucc', lang, split)}: no {side}-side "
                                            f"sentences")
                # a gold pair naming no sentence of the split would silently cap recall: refuse it
                gpath = R.task_file(data_dir, "bucc", lang, split, ".gold.jsonl")
                sids, tids = {s["id"] for s in src}, {s["id"] for s in tgt}
                for i, g in enumerate(gold_recs, 1):
                    R.validate_bucc_gold(g, f"{gpath}:{i}", sids, tids)
                gold = {(g["source_id"], g["target_id"]) for g in gold_recs}
                mined[split] = (RT.mine_bucc(emb([s["text"] for s in src]), [s["id"] for s in src],
                                             [s["text"] for s in src], emb([s["text"] for s in tgt]),
                                             [s["id"] for s in tgt], [s["text"] for s in tgt], k=rc["k"]), gold)
            # threshold tuned on the dev gold, reused unchanged on test
            thr, _ = RT.bucc_optimal_threshold(*mined["dev"])
            for split, (cands, gold) in mined.items():
                sc = RT.bucc_score(cands, gold, thr)
                for m in ("f1", "precision", "recall", "threshold"):
                    rows.append({"ttask": "bucc", "lang": lang, "split": split, "family": "clean",
                                 "severity": 0.0, "metric": m, "value": float(sc[m]), "n": len(gold)})
    return {"rows": rows, "layer": layer}
