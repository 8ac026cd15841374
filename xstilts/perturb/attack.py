"""Black-box greedy word-substitution attack on sentence-pair classification (XNLI, PAWS-X).

Per example (only those the model gets right: an already wrong prediction needs no attack):
1. importance: each eligible word of both sentences is deleted in turn (one batched query set); importance =
   drop of the gold-class probability;
2. greedy: words in order of importance; each gets one candidate per configured family (the family's own
   seeded edit of that word: a same-script typo, keyboard typo, homoglyph, translation, deletion, ...); all
   candidates of a word are one batch; the one that lowers the gold probability most is kept if it lowers
   it at all; stop when the prediction flips (success), after `max_words` changed words, or when the next
   batch would exceed `max_queries` model calls (the importance queries count too).

Only the model's output probabilities are used (black box). Candidates come from the perturbation families'
`edit` with an Rng keyed by (seed, id, field, unit, family, "attack"), so an attack is deterministic.

Modes: `attack_records` attacks one model directly; its adversarial records (with the clean originals'
ids) are written by the fine-tune job, and `transfer_rows` evaluates another model on the baseline's
adversaries of the same (encoder, target, seed). Fine-tuned models are not kept at paper scale, so both run
inside the fine-tune job right after training.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from xstilts import tasks as T
from xstilts.perturb import core as P

ATTACK_FIELDS = ("text_a", "text_b")


@dataclass
class Budget:
    max_queries: int
    max_words: int


def gold_probs(model, tok, task: T.Task, recs: list[dict], labels, max_length: int, device="cpu",
               batch_size: int = 128) -> np.ndarray:
    """Softmax class probabilities, one row per record (one model call per record)."""
    import torch
    from xstilts.train.features import collate, encode
    enc = encode(recs, task, tok, max_length, labels)
    out = np.zeros((len(recs), len(labels)))
    model.eval()
    with torch.inference_mode():
        for k in range(0, len(recs), batch_size):
            ids = list(range(k, min(len(recs), k + batch_size)))
            batch = {a: b.to(device) for a, b in collate(enc, ids, tok.pad_token_id, train=False).items()
                     if a != "labels"}
            _, logits = model(task.name, batch)
            out[k:k + len(ids)] = torch.softmax(logits.float(), -1).cpu().numpy()
    return out


def _render(text: str, units: list[P.Unit], repl: dict[int, str]) -> str:
    out, pos = [], 0
    for i, u in enumerate(units):
        if i in repl:
            out.append(text[pos:u.start])
            out.append(repl[i])
            pos = u.end
    out.append(text[pos:])
    return re.sub(r"[ ]{2,}", " ", "".join(out)).strip()


def attack_records(model, tok, task: T.Task, recs: list[dict], labels, max_length: int, families: list[str],
                   budget: Budget, seed: int, lang: str, resources: dict | None = None, device="cpu") -> list[dict]:
    """Attack every record; returns one adversarial record per input record (the original text when the
    model was wrong already or nothing was changed) with attack statistics under "attack"."""
    if task.format != T.CLASSIFICATION:
        raise ValueError(f"the attack handles sentence-pair classification only, not {task.name} ({task.format})")
    resources = resources or {}
    fams = [P.get_family(f) for f in families]
    for f in fams:
        if f.permute:
            raise ValueError(f"config key perturb.attack.families: {f.name} is not a word substitution")
    usable = [f for f in fams if all(resources.get(k) for k in f.needs)]
    probs0 = gold_probs(model, tok, task, recs, labels, max_length, device)
    out = []
    for r, p0 in zip(recs, probs0):
        gold = r["label"]
        info = {"clean_correct": int(np.argmax(p0)) == gold, "success": False, "words_changed": 0, "queries": 1}
        adv = dict(r)
        if info["clean_correct"]:
            adv, info = _attack_one(model, tok, task, r, labels, max_length, usable, budget, seed, lang,
                                    resources, device, float(p0[gold]), info)
        info["adv_correct"] = info["clean_correct"] and not info["success"]
        adv["attack"] = info
        adv["orig"] = {f: r[f] for f in ATTACK_FIELDS if f in r}
        out.append(adv)
    return out


def _attack_one(model, tok, task, r, labels, max_length, fams, budget, seed, lang, resources, device, p_gold,
                info):
    gold = r["label"]
    fields = [f for f in ATTACK_FIELDS if r.get(f)]
    segs = {f: P.segment(r[f]) for f in fields}
    ctx = {f: P.Context(P.Letters(r[f]), lang, resources) for f in fields}
    words = [(f, i) for f in fields for i, u in enumerate(segs[f]) if u.wordlike]
    repl: dict[str, dict[int, str]] = {f: {} for f in fields}

    def variant(f, i, new):
        rec = dict(r)
        for g in fields:
            rr = dict(repl[g])
            if g == f:
                rr[i] = new
            rec[g] = _render(r[g], segs[g], rr) or r[g]
        return rec

    left = budget.max_queries - info["queries"]
    probe = words[:max(0, left)]
    if not probe:
        return variant(None, None, None), info
    pr = gold_probs(model, tok, task, [variant(f, i, "") for f, i in probe], labels, max_length, device)
    info["queries"] += len(probe)
    order = sorted(range(len(probe)), key=lambda k: (-(p_gold - pr[k, gold]), k))
    current = p_gold
    for k in order:
        if info["words_changed"] >= budget.max_words:
            break
        f, i = probe[k]
        u = segs[f][i]
        cands = []
        for fam in fams:
            if fam.eligible(u, ctx[f]):
                new = fam.edit(u, P.Rng("attack", seed, r["id"], f, i, fam.name), ctx[f])
                if new != u.text and new not in cands:
                    cands.append(new)
        if not cands:
            continue
        if info["queries"] + len(cands) > budget.max_queries:
            cands = cands[:budget.max_queries - info["queries"]]
            if not cands:
                break
        pc = gold_probs(model, tok, task, [variant(f, i, c) for c in cands], labels, max_length, device)
        info["queries"] += len(cands)
        best = int(np.argmin(pc[:, gold]))
        if pc[best, gold] < current:
            repl[f][i] = cands[best]
            current = float(pc[best, gold])
            info["words_changed"] += 1
            if int(np.argmax(pc[best])) != gold:
                info["success"] = True
                break
    return variant(None, None, None), info


def summary_rows(ttask: str, lang: str, family: str, adv: list[dict], n_clean_correct: int | None = None
                 ) -> list[dict]:
    """Tidy rows of one attacked (or transferred) set: accuracy under attack, attack success rate (share of
    the originally correct examples whose prediction flipped), mean words changed and queries per attacked
    example."""
    n = len(adv)
    if not n:
        return []
    ok = [a for a in adv if a["attack"]["clean_correct"]]
    acc = 100.0 * sum(a["attack"]["adv_correct"] for a in adv) / n
    key = {"ttask": ttask, "lang": lang, "split": "test", "family": family, "severity": 0.0, "n": n}
    rows = [{**key, "metric": "accuracy", "value": acc},
            {**key, "metric": "attack_success_rate",
             "value": 100.0 * sum(a["attack"]["success"] for a in ok) / len(ok) if ok else 0.0}]
    if family == "attack":
        rows += [{**key, "metric": "attack_words_changed",
                  "value": float(np.mean([a["attack"]["words_changed"] for a in ok])) if ok else 0.0},
                 {**key, "metric": "attack_queries",
                  "value": float(np.mean([a["attack"]["queries"] for a in ok])) if ok else 0.0}]
    return rows


def transfer(model, tok, task: T.Task, adv: list[dict], labels, max_length: int, device="cpu") -> list[dict]:
    """This model on another model's adversarial records: per record, whether this model gets the clean
    original right ("clean_correct") and whether the adversarial copy flips it ("success")."""
    originals = [{k: v for k, v in a.items() if k not in ("attack", "orig")} | a["orig"] for a in adv]
    advs = [{k: v for k, v in a.items() if k not in ("attack", "orig")} for a in adv]
    p_clean = gold_probs(model, tok, task, originals, labels, max_length, device)
    p_adv = gold_probs(model, tok, task, advs, labels, max_length, device)
    out = []
    for a, pc, pa in zip(adv, p_clean, p_adv):
        ok = int(np.argmax(pc)) == a["label"]
        good = int(np.argmax(pa)) == a["label"]
        out.append({"id": a["id"], "attack": {"clean_correct": ok, "success": ok and not good, "adv_correct": good,
                                              "words_changed": a["attack"]["words_changed"], "queries": 0}})
    return out


def write_adversarial(path, rows: list[dict]):
    """Gzipped JSON lines, byte-deterministic: {ttask, lang, id, text_a, text_b, label, orig, attack}."""
    import gzip
    import json
    from xstilts.records import atomic_write_bytes
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    return atomic_write_bytes(path, gzip.compress(data.encode("utf-8"), mtime=0))


def read_adversarial(path) -> list[dict]:
    from xstilts.records import read_examples
    rows = read_examples(path)
    for i, r in enumerate(rows):
        missing = [k for k in ("ttask", "lang", "id", "label", "orig", "attack") if k not in r]
        if missing:
            raise ValueError(f"{path}: adversarial row {i + 1} lacks {missing}")
    return rows


def attack_config(cfg: dict) -> dict | None:
    """The enabled `perturb.attack` section, or None."""
    a = (cfg.get("perturb") or {}).get("attack")
    return a if a and a.get("enabled") else None


def run_in_job(cfg: dict, model, tok, ttask: str, hp, data_dir, homoglyph_table, device,
               adversarial_in: list[dict] | None, log=print, memo=None) -> tuple[list[dict], list[dict]]:
    """The fine-tune job's hook: attack this model on `ttask` (rows family "attack") and, given the
    baseline's adversaries, evaluate this model on them (rows family "attack_transfer").
    Returns (tidy rows, adversarial records to write). `memo(key, compute)` (jobs.ResultStore.memo) keeps
    each language's results as it completes, so a stopped job resumes at the next language."""
    if memo is None:
        def memo(key, compute):
            return compute()
    import time
    from pathlib import Path
    from xstilts import records as R
    from xstilts.perturb.sets import family_resources
    a = attack_config(cfg)
    if a is None or ttask not in a["tasks"]:
        return [], []
    t0 = time.time()
    task = T.get(ttask)
    meta = R.read_meta(Path(data_dir) / f"task~{ttask}")
    labels = meta.get("labels")
    langs = [l for l in meta["languages"] if "test" in meta["splits"].get(l, [])
             and (not a.get("languages") or l in a["languages"])]
    budget = Budget(a["max_queries"], a["max_words"])
    rows, adv_out = [], []
    for lang in langs:
        def one_language(lang=lang):
            recs, _ = R.load_split(data_dir, ttask, lang, "test")
            if a["n_examples"]:
                recs = recs[:a["n_examples"]]  # the first n: the same examples for every model
            res = {}
            for fam in a["families"]:
                try:
                    res.update(family_resources(fam, lang, cfg["perturb"], data_dir, homoglyph_table,
                                                meta["languages"]))
                except ValueError as e:
                    log(f"attack {ttask} {lang}: family {fam} left out ({e})")
            adv = attack_records(model, tok, task, recs, labels, hp.max_length, a["families"], budget,
                                 cfg["perturb"]["seed"], lang, res, device)
            out_rows = summary_rows(ttask, lang, "attack", adv)
            if adversarial_in is not None:
                theirs = [r for r in adversarial_in if r["ttask"] == ttask and r["lang"] == lang]
                clean = [{k: v for k, v in r.items() if k not in ("ttask", "lang")} for r in theirs]
                out_rows += summary_rows(ttask, lang, "attack_transfer",
                                         transfer(model, tok, task, clean, labels, hp.max_length, device))
            return {"rows": out_rows, "adv": [{"ttask": ttask, "lang": lang, **r} for r in adv]}
        theirs_digest = None
        if adversarial_in is not None:
            import hashlib
            import json
            theirs_digest = hashlib.sha256(json.dumps(
                [r for r in adversarial_in if r["ttask"] == ttask and r["lang"] == lang],
                sort_keys=True, default=str).encode()).hexdigest()[:16]
        done = memo({"phase": "attack", "ttask": ttask, "lang": lang, "config": a, "transfer": theirs_digest},
                    one_language)
        rows += done["rows"]
        adv_out += done["adv"]
    log(f"{ttask}: attack on {langs} ({a['n_examples'] or 'all'} examples each) in {time.time() - t0:.1f}s")
    return rows, adv_out
