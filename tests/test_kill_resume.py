"""SIGKILL to the whole `snakemake` process tree while a training job runs, then the same command again:
the run completes, nothing that had finished is recomputed, the interrupted training resumes from its
checkpoint, and the final tables equal those of an uninterrupted run (the shared reduced run)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from workflow import child_env, copy_workflow, snakemake, snakemake_cmd


def _running(d: Path) -> list[str]:
    """Outputs of the jobs that were running: Snakemake's incomplete markers (.snakemake/incomplete/, one
    file per output, named by the urlsafe base64 of its path, long names split into '@'-prefixed folders)."""
    from base64 import urlsafe_b64decode
    root = d / ".snakemake/incomplete"
    out = []
    for f in root.rglob("*") if root.exists() else []:
        if f.is_file() and f.name != "migration_underway":
            parts = [p.lstrip("@") for p in f.relative_to(root).parts]
            out.append(urlsafe_b64decode("".join(parts)).decode())
    return out


def _outputs(d: Path) -> dict[str, int]:
    """Outputs of finished jobs and their modification times (not logs, scratch, or the outputs of jobs that
    were still running: those are incomplete and rightly redone)."""
    running = _running(d)
    out = {}
    for top in ("resources", "results"):
        for p in (d / top).rglob("*"):
            rel = str(p.relative_to(d))
            if p.is_file() and not p.name.startswith(".") and not any(
                    rel == r or rel.startswith(r.rstrip("/") + "/") for r in running):
                out[rel] = p.stat().st_mtime_ns
    return out


@pytest.mark.slow
def test_killed_run_resumes_and_matches_uninterrupted(reduced_run, tmp_path):
    d = copy_workflow(tmp_path, "embedded")
    p = subprocess.Popen(snakemake_cmd("--cores", "2"), cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, env=child_env())
    ckpts = d / "scratch/checkpoints/results/finetune"
    deadline = time.time() + 900
    killed_in = None
    while time.time() < deadline and p.poll() is None:
        found = sorted(ckpts.rglob("state.safetensors")) if ckpts.exists() else []
        if found:
            os.killpg(p.pid, signal.SIGKILL)  # snakemake and every job it started
            before = _outputs(d)
            killed_in = found[0]
            break
        time.sleep(0.2)
    p.wait(timeout=60)
    assert killed_in is not None, "the run ended before a fine-tuning checkpoint appeared"
    job_dir = killed_in.relative_to(d / "scratch/checkpoints").parents[1]  # results/finetune/.../seed~N
    r = snakemake(d, "--cores", "2")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    # the interrupted job resumed from its checkpoint
    log = d / "logs/finetune_target" / (str(job_dir.relative_to("results/finetune")) + ".log")
    assert "resumed from" in log.read_text(), log
    # nothing finished before the kill was recomputed (the killed job's own outputs did not exist yet)
    after = _outputs(d)
    changed = [f for f, t in before.items() if after.get(f) != t]
    assert not changed, changed[:10]
    assert not (d / "scratch/checkpoints" / job_dir).exists()  # cleared after the job's outputs were written
    # the same tables and claims as the uninterrupted run
    for rel in ("paper/claims.csv", "paper/tables/dev_deltas.csv", "paper/tables/xtreme_test.csv",
                "paper/tables/robustness.csv"):
        assert (d / rel).read_bytes() == (reduced_run / rel).read_bytes(), rel


def test_stale_lock_is_cleared_only_when_its_owner_is_gone(tmp_path):
    import json
    import socket

    from xstilts.snake import _proc_start, claim_locks
    locks = tmp_path / ".snakemake/locks"
    owner = tmp_path / ".snakemake/xstilts_lock_owner.json"

    def lock(pid, start):
        locks.mkdir(parents=True, exist_ok=True)
        (locks / "0.output.lock").write_text("results/x\n")
        owner.write_text(json.dumps({"pid": pid, "start": start, "host": socket.gethostname()}))

    assert claim_locks(tmp_path) == "claimed"  # no locks: this process becomes the owner
    assert json.loads(owner.read_text())["pid"] == os.getpid()
    lock(os.getpid(), _proc_start(os.getpid()))  # a live run holds them
    assert claim_locks(tmp_path) == "held" and (locks / "0.output.lock").exists()
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock(dead.pid, "12345")  # its process is gone
    msgs = []
    assert claim_locks(tmp_path, log=msgs.append) == "cleared"
    assert not list(locks.glob("*.lock")) and "stale" in msgs[0]
    lock(os.getpid(), "0")  # same PID, another start time: the PID was reused, the owner is gone
    assert claim_locks(tmp_path) == "cleared"
    (locks / "0.output.lock").write_text("results/x\n")
    owner.unlink()  # locks of unknown origin are never touched
    assert claim_locks(tmp_path) == "held" and (locks / "0.output.lock").exists()
