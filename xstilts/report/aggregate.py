"""All metrics files of a run -> the tidy long table (docs/records.md) and the inventory the claims use."""
from __future__ import annotations

import json
import re
from pathlib import Path

from xstilts import env
from xstilts import tasks as T

COLUMNS = ["encoder", "itask", "ttask", "lang", "split", "seed", "family", "severity", "metric", "value", "n",
           "scale", "model_id", "config_hash", "git_rev"]
_WILD = re.compile(r"(\w+)~([^/]+)")


def wildcards_of(path) -> dict:
    return dict(_WILD.findall(str(path)))


def tidy_rows(config: dict, finetune: list, retrieve: list, intermediate: list) -> list[dict]:
    common = {"scale": config["scale"], "model_id": config["model"]["id"]}
    rows = []
    for path in list(finetune) + list(retrieve):
        m = json.loads(Path(path).read_text(encoding="utf-8"))
        w = wildcards_of(path)
        prov = {"config_hash": m.get("config_hash", ""), "git_rev": m.get("git_rev", "")}
        for r in m["rows"]:
            rows.append({"encoder": w["encoder"], "itask": w["itask"], "seed": int(w["seed"]), **r, **common,
                         **prov})
    for mdir in intermediate:  # each intermediate model's own English dev score(s)
        info = json.loads((Path(mdir) / "xstilts_run.json").read_text(encoding="utf-8"))
        w = wildcards_of(mdir)
        for task, val in info.get("dev", {}).items():
            rows.append({"encoder": w["encoder"], "itask": w["itask"], "ttask": task, "lang": "en",
                         "split": "dev", "seed": int(w["seed"]), "family": "clean", "severity": 0.0,
                         "metric": T.get(task).metric, "value": float(val), "n": None, **common,
                         "config_hash": info.get("config_hash", ""), "git_rev": info.get("git_rev", "")})
    return [{c: r.get(c) for c in COLUMNS} for r in rows]


def validate_rows(rows: list[dict], schema: dict) -> None:
    import jsonschema
    v = jsonschema.Draft202012Validator(schema)
    for i, r in enumerate(rows):
        errs = sorted(v.iter_errors(r), key=lambda e: list(e.path))
        if errs:
            e = errs[0]
            raise ValueError(f"tidy row {i + 1} ({r.get('encoder')}/{r.get('itask')}/{r.get('ttask')}): "
                             f"{'.'.join(map(str, e.path)) or 'row'}: {e.message}")


def inventory(config: dict, data_dir) -> dict:
    data_dir = Path(data_dir)
    inv = {"scale": config["scale"], "model_id": config["model"]["id"], "config_hash": env.config_hash(config),
           "git_rev": env.git_rev(),
           "phases": (["mlm_pretraining"] + (["intermediate_training"] if config["intermediate_tasks"] else [])
                      + ["target_finetuning", "zero_shot_evaluation"]),
           "targets": {}, "intermediate": {}, "anli_plus_components": None}

    # counts come from the data stage's inventory (rule data_inventory / the micro generator): one source of
    # truth for the claims (C9, C15-C19) and for what the data stage reported
    from xstilts.data.prepare import inventory_count, read_inventory
    rows = read_inventory(data_dir / "inventory.tsv")

    def count(task, lang="en", split="train"):
        return inventory_count(rows, task, lang, split)

    for t in config["targets"]:
        spec = T.get(t)
        meta_p = data_dir / f"task~{t}" / "meta.json"
        meta = json.loads(meta_p.read_text(encoding="utf-8")) if meta_p.exists() else {"languages": []}
        inv["targets"][t] = {"languages": meta["languages"], "has_training_data": spec.train_from is not None,
                             "train_examples": count(spec.train_from) if spec.train_from else None}
    for t in config["intermediate_tasks"]:
        spec = T.get(t)
        avail = (data_dir / f"task~{t}" / "meta.json").exists()
        inv["intermediate"][t] = {
            "available": avail, "train_examples": count(t) if avail else None, "format": spec.format,
            "group": T.PAPER_GROUPS[t], "description": spec.description,
            "reason_unavailable": None if avail else (
                "CCGbank is LDC-licensed: user-supplied data (config data.ccgbank_path)" if t == "ccg"
                else "data missing")}
    comp = {r["component"]: r["examples"] for r in rows
            if r["task"] == "anli_plus" and r["component"] and r["split"] == "train"}
    inv["anli_plus_components"] = comp or None
    return inv
