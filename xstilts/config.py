"""Config checks the JSON Schema cannot express, and the phases a config implies.

Every error names the config key, and runs before any job starts (rules/common.smk calls `check`).
"""
from __future__ import annotations

from xstilts import tasks as T


class ConfigError(ValueError):
    pass


def itasks(config: dict) -> list[str]:
    """All intermediate phases of a run: the baseline and controls from `phases`, then the single tasks."""
    order = [p for p in ("baseline",) if p in config["phases"]]
    order += list(config["intermediate_tasks"])
    order += [p for p in config["phases"] if p != "baseline"]
    return order


def known_languages(source: str) -> list[str]:
    """Languages a data source can provide: the micro generator's, or the union of the XTREME tasks' (40)."""
    if source == "micro":
        from xstilts.data.micro.world import LANGS
        return list(LANGS)
    from xstilts.data import sources
    return sorted(set().union(*(getattr(sources, f"{t.upper()}_LANGS") for t in T.TARGET_TASKS)))


def check(config: dict) -> None:
    for key in ("targets", "intermediate_tasks"):
        for i, name in enumerate(config[key]):
            role = "target" if key == "targets" else "intermediate"
            if name not in T.TASKS or T.TASKS[name].role != role:
                known = T.TARGET_TASKS if role == "target" else T.INTERMEDIATE_TASKS
                raise ConfigError(f"config key {key}[{i}]: unknown {role} task {name!r}; "
                                  f"known: {', '.join(known)}")
    known = known_languages(config["data"]["source"])
    for i, lang in enumerate(config["languages"]):
        if lang not in known:
            raise ConfigError(f"config key languages[{i}]: unknown language {lang!r} for data.source "
                              f"{config['data']['source']!r}; known: {', '.join(known)}")
    if "en" not in config["languages"]:
        raise ConfigError("config key languages: must include 'en' (the training language)")
    for i, t in enumerate(config["perturb"]["tasks"]):
        if t not in T.TARGET_TASKS or t == "bucc":
            raise ConfigError(f"config key perturb.tasks[{i}]: {t!r} is not a perturbable target task "
                              f"(targets other than bucc)")
    for i, t in enumerate(config["controls"]["mt_tasks"]):
        if t not in T.INTERMEDIATE_TASKS:
            raise ConfigError(f"config key controls.mt_tasks[{i}]: unknown intermediate task {t!r}")
    _check_mt(config)
    if src_is_hub(config) and "mlm_control" in config["phases"]:
        mlm = config["data"].get("mlm_corpus") or {}
        missing = [k for k in ("total_lines", "alpha") if k not in mlm]
        if missing:
            raise ConfigError(f"config key data.mlm_corpus: the MLM control at paper scale samples its corpus; "
                              f"set {', '.join(missing)} (see config/paper.yaml)")
    for i, p in enumerate(config["control_encoder"]["itasks"]):
        if p not in itasks(config):
            raise ConfigError(f"config key control_encoder.itasks[{i}]: {p!r} is not a phase of this run "
                              f"(phases + intermediate_tasks)")
    if config["phases"] and any(p in ("multitask", "mlm_control", "mt_control") for p in config["phases"]) \
            and not config["intermediate_tasks"]:
        raise ConfigError("config key phases: multitask and the controls need intermediate_tasks")
    for phase in ("intermediate", "target"):
        for task, hp in config["train"].get(phase, {}).items():
            if task == "_all" or task == "multitask":
                continue
            if task not in T.TASKS:
                raise ConfigError(f"config key train.{phase}.{task}: unknown task {task!r}")
    src, model = config["data"]["source"], config["model"]
    if model["source"] == "hub" and not model.get("hub_id"):
        raise ConfigError("config key model.hub_id: required when model.source is 'hub'")
    if model["source"] == "e5" and not 0 <= config["retrieval"]["layer"] <= 12:
        raise ConfigError(f"config key retrieval.layer: {config['retrieval']['layer']} but multilingual-e5-small "
                          "has 12 layers (0 = embeddings; e5 recipe 12, XTREME recipe 7)")
    if src == "hub" and model["source"] == "micro":
        raise ConfigError("config key model.source: the micro model is pretrained on micro data; "
                          "use data.source: micro or model.source: hub")


def _check_mt(config: dict) -> None:
    """MT-control sources: a published translation must exist for the task, and our MT stage can only translate
    tasks whose labels survive translation (not token tagging such as CCG)."""
    mt = config["controls"].get("mt") or {}
    sources = mt.get("source") or {}
    for t in sources:  # entries for tasks not in mt_tasks are allowed: overlays deep-merge this mapping
        if t not in T.INTERMEDIATE_TASKS:
            raise ConfigError(f"config key controls.mt.source.{t}: unknown intermediate task {t!r}")
    if config["data"]["source"] != "hub":
        return
    from xstilts.data.sources import PUBLISHED_MT, SOURCES
    for i, t in enumerate(config["controls"]["mt_tasks"]):
        src = sources.get(t, "model")
        if src == "published" and not any(p.convert in PUBLISHED_MT for p in SOURCES[t].parts):
            raise ConfigError(f"config key controls.mt.source.{t}: no published translation of {t!r} is known "
                              f"(only {sorted(k for k, v in SOURCES.items() if any(p.convert in PUBLISHED_MT for p in v.parts))}); use 'model'")
        if src == "model":
            if T.get(t).format not in (T.CLASSIFICATION, T.MULTIPLE_CHOICE, T.SPAN_QA):
                raise ConfigError(f"config key controls.mt_tasks[{i}]: {t!r} ({T.get(t).format}) cannot be machine-"
                                  f"translated: its labels are per token and would not align")
            if not mt.get("model") and mt.get("engine", "hf") == "hf":
                raise ConfigError(f"config key controls.mt.model: required to translate {t!r} (source 'model')")
    for i, l in enumerate(mt.get("languages") or []):
        if l not in config["languages"]:
            raise ConfigError(f"config key controls.mt.languages[{i}]: {l!r} is not in languages")


def src_is_hub(config: dict) -> bool:
    return config["data"]["source"] == "hub"


STAGE_ENVS = ("data", "train", "retrieve", "report")


def conda_env(config: dict, stage: str) -> str:
    """The pinned conda env of a stage family, relative to the workflow root (envs/, rendered from pyproject.toml
    by tools/deps.py). Retrieval takes faiss-gpu when retrieval.device is gpu (the paper config) and faiss-cpu
    otherwise: one faiss per env, never both."""
    if stage not in STAGE_ENVS:
        raise ValueError(f"no conda env for stage {stage!r}: one of {', '.join(STAGE_ENVS)}")
    if stage == "retrieve":
        stage += "-gpu" if config.get("retrieval", {}).get("device", "auto") == "gpu" else "-cpu"
    return f"envs/{stage}.yaml"
