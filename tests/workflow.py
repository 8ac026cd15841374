"""The one helper for tests that run Snakemake: a scratch copy of the workflow as a user's clone holds it,
an overlay config from .test/ (the snakemake-workflows layout) or the test's own, and `snakemake` run in it
with this checkout's xstilts on PYTHONPATH (also for SLURM jobs, which get the environment: --export=ALL)."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIGS = REPO / ".test"
OVERLAY = "test.yaml"  # the overlay's name in a scratch copy

# What a user's clone holds for a run (not paper/frozen/: a run's tables must come from its own results)
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "envs", "profiles", "report", "paper/main.tex")

# Outputs that must be byte-identical between two clean runs: every table and the claims, plus the numbers.
PAPER_TEXT = ["paper/claims.tex", "paper/claims.csv", "paper/claims.md", "paper/numbers.tex",
              "paper/tables/dev_deltas.tex", "paper/tables/xtreme_test.tex", "paper/tables/controls.tex",
              "paper/tables/robustness.tex", "paper/tables/control_encoder.tex"]

# tidy.tsv columns that identify a measurement; the rest (value, n) is what a run measured, and provenance
# (git_rev, versions) is allowed to differ between checkouts
KEY = ("encoder", "itask", "ttask", "seed", "lang", "split", "family", "severity", "metric")


def test_config(name: str) -> dict:
    """An overlay of .test/: embedded (every stage, ~2.5 min), embedded-one-task (18 jobs), small."""
    return yaml.safe_load((TEST_CONFIGS / name / "config.yaml").read_text(encoding="utf-8"))


test_config.__test__ = False  # a helper, not a test, despite its name


def copy_workflow(dest: Path, overlay: str | dict | None = "embedded", extra: tuple[str, ...] = ()) -> Path:
    """The workflow files, plus `extra` paths of the repository (e.g. "config", "data/small", "paper/frozen"),
    and the overlay (a .test/ name or a dict) as test.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES + tuple(extra):
        src, dst = REPO / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy(src, dst)
    if overlay is not None:
        data = test_config(overlay) if isinstance(overlay, str) else overlay
        (dest / OVERLAY).write_text(yaml.safe_dump(data), encoding="utf-8")
    return dest


_STUB_BIN: list[str] = []


def _scontrol_stub() -> str:
    """A folder holding an `scontrol` that fails at once. The SLURM executor plugin (requirements-test.txt) runs
    `scontrol show config` when Snakemake loads it, at every start; with SLURM installed and no controller
    running (tools/system_deps.sh installs it, only tests/test_slurm.py starts it) that call waits 10 s for its
    timeout. Runs that do not submit to SLURM get the stub first on PATH: the plugin then starts in ~0 s."""
    if not _STUB_BIN:
        import atexit
        import tempfile
        d = Path(tempfile.mkdtemp(prefix="xstilts-no-slurm-"))
        atexit.register(shutil.rmtree, d, True)
        (d / "scontrol").write_text("#!/bin/sh\nexit 1\n")
        (d / "scontrol").chmod(0o755)
        _STUB_BIN.append(str(d))
    return _STUB_BIN[0]


def child_env(slurm: bool = False, **extra) -> dict:
    """The environment of snakemake and its jobs: this checkout's xstilts first on PYTHONPATH; without `slurm`,
    the scontrol stub first on PATH where SLURM is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    if not slurm and shutil.which("sinfo"):
        env["PATH"] = os.pathsep.join([_scontrol_stub(), env.get("PATH", "")])
    env.update(extra)
    return env


def snakemake_cmd(*args: str, configfiles: tuple[str, ...] | None = ("config.yaml", OVERLAY)) -> list[str]:
    """`python -m snakemake ARGS --configfile FILES`: targets and options first (a target after --configfile
    would be read as one more config file). configfiles=None: the Snakefile's default."""
    return [sys.executable, "-m", "snakemake", *args] + (["--configfile", *configfiles] if configfiles else [])


def snakemake(cwd: Path, *args: str, configfiles: tuple[str, ...] | None = ("config.yaml", OVERLAY),
              timeout: int = 1500, env: dict | None = None, slurm: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(*args, configfiles=configfiles), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=child_env(slurm=slurm, **(env or {})))


def snakemake_ok(cwd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    r = snakemake(cwd, *args, **kw)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return r


def run_workflow(dest: Path, overlay: str | dict = "embedded", **kw) -> Path:
    """A complete run (--cores 2) of a scratch copy with this overlay."""
    copy_workflow(dest, overlay)
    snakemake_ok(dest, "--cores", "2", **kw)
    return dest


def tidy_values(d: Path) -> dict:
    rows = list(csv.DictReader((d / "results/tidy.tsv").open(encoding="utf-8"), delimiter="\t"))
    out = {tuple(r[k] for k in KEY): (r["value"], r["n"]) for r in rows}
    assert len(out) == len(rows), "tidy.tsv has duplicate measurement keys"
    return out


def assert_image_drawn(png: Path) -> None:
    """A real raster with something drawn on it (a blank or failed figure is one flat colour)."""
    from matplotlib.image import imread
    img = imread(png)
    assert img.shape[0] >= 200 and img.shape[1] >= 200, img.shape
    assert float(img[..., :3].std()) > 0.05, f"{png} is blank"
