"""A scratch copy of the workflow with a reduced embedded config, shared by the end-to-end tests."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# The embedded default, shrunk to ~2.5 min on 2 cores: every stage, fewer and smaller tasks.
REDUCED = {
    "data": {"micro": {"n_train": 240, "n_train_by_task": {"anli_plus": 240, "tydiqa": 240}, "n_dev": 40,
                       "n_test": 40, "n_mlm": 600, "bucc_sentences": 80, "bucc_gold": 30}},
    "intermediate_tasks": ["mnli", "squad_v2", "hellaswag", "ccg"],
    "controls": {"mt_tasks": ["mnli"]},
    "model": {"pretrain": {"steps": 60}, "tokenizer": {"vocab_size": 800}},
    "train": {"defaults": {"epochs": 1, "eval_every": 20}},
    "perturb": {"severities": [0.3], "tasks": ["xnli", "udpos", "xquad", "tatoeba"]},
    "resources": {"threads": 1},
}


WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "envs", "profiles", "report")


def copy_tree(dest: Path) -> Path:
    """What a user's clone holds for a run (Snakefile, config, rules, scripts, envs, profiles, report captions,
    paper/main.tex) -- not paper/frozen/: a run's tables must come from its own results."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    (dest / "paper").mkdir(exist_ok=True)
    shutil.copy(REPO / "paper/main.tex", dest / "paper/main.tex")
    return dest


def make_workflow(dest: Path, overrides: dict | None = None) -> Path:
    copy_tree(dest)
    (dest / "reduced.yaml").write_text(yaml.safe_dump(overrides or REDUCED))
    return dest


def snakemake_cmd(*extra: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config.yaml", "reduced.yaml",
            *extra]
