"""Glue for the thin scripts under scripts/: logging to the rule's log file, offline flags, atomic outputs."""
from __future__ import annotations

import atexit
import json
import logging
import sys
import traceback
from pathlib import Path

from xstilts import env


def start(snakemake) -> logging.Logger:
    """Offline flags first (before transformers is imported), then a logger writing to the rule's log."""
    env.set_offline()
    log_path = snakemake.log[0] if len(snakemake.log) else None
    logger = logging.getLogger("xstilts")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)

    def hook(tp, val, tb):
        logger.error("".join(traceback.format_exception(tp, val, tb)))
        sys.__excepthook__(tp, val, tb)

    sys.excepthook = hook
    # the job's last log line names the installed distributions it imported: provenance for the reader, and
    # what tests/test_deps.py checks each rule's conda env (envs/, rules/common.smk conda_env) against
    atexit.register(lambda: logger.info("distributions imported: " + " ".join(
        f"{d}=={v}" for d, v in sorted(env.imported_distributions().items()))))
    return logger


def write_json(path, obj) -> None:
    from xstilts.records import atomic_write_text
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n")


# ----------------------------------------------------------------------------------------------------------
# Stale Snakemake locks: a run killed with SIGKILL (or a lost login session) leaves .snakemake/locks behind,
# and the same command then stops with a LockException until the user runs --unlock. We record which
# process holds the locks (PID, its start time, host); a later run removes them only when that process is
# provably gone. A live run -- or a lock of unknown owner -- is left alone: Snakemake's protection stands.
# ----------------------------------------------------------------------------------------------------------

def _proc_start(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            # the command name (field 2) may contain spaces: fields after the closing parenthesis
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def claim_locks(workdir=".", log=None) -> str:
    """Clear locks left by a dead run, then record this process as the lock holder.

    Returns "cleared", "held" (a live or unknown run holds the locks: nothing touched) or "claimed"."""
    import os
    import socket
    base = Path(workdir) / ".snakemake"
    owner = base / "xstilts_lock_owner.json"
    locks = sorted((base / "locks").glob("*.lock")) if (base / "locks").is_dir() else []
    status = "claimed"
    if locks:
        try:
            info = json.loads(owner.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "held"
        dead = (info.get("host") == socket.gethostname()
                and _proc_start(int(info.get("pid", -1))) != info.get("start"))
        if not dead:
            return "held"
        for f in locks:
            f.unlink(missing_ok=True)
        if log:
            log(f"removed {len(locks)} stale Snakemake lock(s) of a run that no longer exists "
                f"(pid {info.get('pid')} on {info.get('host')}, killed or lost)")
        status = "cleared"
    base.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    from xstilts.records import atomic_write_text
    atomic_write_text(owner, json.dumps({"pid": pid, "start": _proc_start(pid), "host": socket.gethostname()}))
    return status
