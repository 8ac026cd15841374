"""Glue for the thin scripts under scripts/: logging to the rule's log file, offline flags, atomic outputs."""
from __future__ import annotations

import json
import logging
import sys
import traceback
from pathlib import Path

from . import env


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
    return logger


def write_json(path, obj) -> None:
    from .records import atomic_write_text
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n")
