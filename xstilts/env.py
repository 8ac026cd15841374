"""Process-wide settings every job applies first: offline hub flags, threads, seeds, provenance."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import subprocess
import sys

# Compute jobs never reach a hub: on a cluster node there is none, and on this machine there is no network.
# Set before transformers/datasets/huggingface_hub are imported anywhere in the process.
OFFLINE_FLAGS = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                 "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}


def set_offline() -> None:
    for k, v in OFFLINE_FLAGS.items():
        os.environ[k] = v


def set_threads(n: int) -> None:
    import torch
    n = max(1, int(n))
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass


def set_seed(seed: int) -> None:
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def config_hash(config: dict) -> str:
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def git_rev(repo_dir: str | None = None) -> str:
    """The code revision, with '-dirty' when the tree has uncommitted changes ('unknown' outside git)."""
    cwd = repo_dir or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        if not rev:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("torch", "transformers", "tokenizers", "sentencepiece", "numpy", "faiss", "snakemake"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


def imported_distributions() -> dict[str, str]:
    """{distribution: version} of the installed third-party packages this process has imported (xstilts and
    the standard library left out), e.g. {"faiss-cpu": "1.15.1", "numpy": "2.4.6"}."""
    from importlib import metadata
    owners = metadata.packages_distributions()
    out = {}
    for top in {name.split(".", 1)[0] for name in list(sys.modules)}:
        if top in sys.stdlib_module_names or top == "xstilts" or top.startswith("_"):
            continue
        for dist in owners.get(top, ()):
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                pass
    return out


def provenance(config: dict, **wildcards) -> dict:
    """What every metrics file carries: wildcards, config hash, code revision, package versions."""
    return {"wildcards": {k: str(v) for k, v in wildcards.items()}, "config_hash": config_hash(config),
            "git_rev": git_rev(), "versions": versions(), "scale": config.get("scale"),
            "model_id": config.get("model", {}).get("id")}


PRECISIONS = ("auto", "bf16", "fp32")


def uses_bf16(precision: str, device) -> bool:
    """Whether forward passes run under bf16 autocast for `precision` on `device` (see train HParams.precision):
    a fact of the machine, so it lives here, beside `device_info`, for training and evaluation alike."""
    if precision not in PRECISIONS:
        raise ValueError(f"config train.engine.precision: {precision!r} is not one of {list(PRECISIONS)}")
    if precision == "auto":
        import torch
        return torch.device(device).type == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return precision == "bf16"


def autocast(precision: str, device):
    """The autocast context for `precision` on `device`."""
    import torch
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=uses_bf16(precision, device))


def device_info(precision: str = "auto") -> dict:
    """The device a job computed on and the dtype of its forward passes (provenance of every metrics file)."""
    import platform

    import torch

    if torch.cuda.is_available():
        kind, name = "cuda", torch.cuda.get_device_name(0)
    else:
        kind, name = "cpu", _cpu_name() or platform.processor() or platform.machine()
    return {"type": kind, "name": name, "forward_dtype": "bf16" if uses_bf16(precision, kind) else "fp32",
            "precision_setting": precision}


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""
