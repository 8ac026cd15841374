"""Whole-workflow runs shared by the determinism and SLURM tests: a small embedded config, run in scratch
copies of the workflow. Run A (local) is session-scoped so both test modules compare against the same run."""
from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from workflow import REDUCED, copy_tree

# The e2e test's reduced config, narrowed to one intermediate task and the baseline (18 jobs instead of 40):
# every rule still runs (tokenizer, pretraining of both encoders, perturbation, intermediate training,
# fine-tuning, retrieval, aggregation, tables); three (encoder, itask) runs instead of ten.
SMALL = copy.deepcopy(REDUCED)
SMALL.update({"intermediate_tasks": ["mnli"], "phases": ["baseline"], "controls": {"mt_tasks": ["mnli"]}})

# Outputs that must be byte-identical between two clean runs: every table and the claims, plus the numbers.
PAPER_TEXT = ["paper/claims.tex", "paper/claims.csv", "paper/claims.md", "paper/numbers.tex",
              "paper/tables/dev_deltas.tex", "paper/tables/xtreme_test.tex", "paper/tables/controls.tex",
              "paper/tables/robustness.tex", "paper/tables/control_encoder.tex"]


def copy_workflow(d: Path) -> Path:
    copy_tree(d)
    (d / "small.yaml").write_text(yaml.safe_dump(SMALL))
    return d


def child_env(**extra) -> dict:
    """The environment of snakemake and (through sbatch --export=ALL) of every job: this checkout's xstilts."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(extra)
    return env


def snakemake(d: Path, *args: str, timeout: int = 1500, **env) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", *args, "--configfile", "config.yaml", "small.yaml"]
    return subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=timeout, env=child_env(**env))


def local_run(d: Path) -> Path:
    copy_workflow(d)
    r = snakemake(d, "--cores", "2")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return d


# tidy.tsv columns that identify a measurement; the rest (value, n) is what a run measured, and provenance
# (git_rev, versions) is allowed to differ between checkouts
KEY = ("encoder", "itask", "ttask", "seed", "lang", "split", "family", "severity", "metric")


def tidy_values(d: Path) -> dict:
    rows = list(csv.DictReader((d / "results/tidy.tsv").open(encoding="utf-8"), delimiter="\t"))
    out = {tuple(r[k] for k in KEY): (r["value"], r["n"]) for r in rows}
    assert len(out) == len(rows), "tidy.tsv has duplicate measurement keys"
    return out


@pytest.fixture(scope="session")
def small_run_a(tmp_path_factory):
    return local_run(tmp_path_factory.mktemp("run_a"))
