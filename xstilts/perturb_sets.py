"""Perturbed copies of one task's test sets, laid out so the evaluators read them like clean data:

  <out>/family~F/severity~S/seed~N/meta.json
  <out>/family~F/severity~S/seed~N/lang~L/test.jsonl
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from . import perturb as P
from . import records as R
from . import tasks as T


def perturb_task(data_dir, task: str, families: list[str], severities: list[float], seed: int, outdir,
                 log=print) -> dict:
    """Write every perturbed set under `outdir`, all or nothing: the sets are built in a temporary sibling
    folder that replaces `outdir` only when every language of every set was read, validated and written,
    so a bad row in the last language leaves no perturbed copies of the first ones behind."""
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}.", suffix=".tmp"))
    try:
        manifest = _perturb_task(data_dir, task, families, severities, seed, tmp, log)
        if outdir.exists():  # a stale tree from an earlier run of this job
            shutil.rmtree(outdir)
        os.replace(tmp, outdir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return manifest


def _perturb_task(data_dir, task, families, severities, seed, outdir, log) -> dict:
    spec = T.get(task)
    meta = R.read_meta(Path(data_dir) / f"task~{task}")
    langs = [l for l in meta["languages"] if "test" in meta["splits"].get(l, [])]
    # retrieval perturbs only the non-English side; the other tasks perturb every language incl. English
    manifest = {"task": task, "seed": seed, "sets": []}
    for family in families:
        for sev in severities:
            root = Path(outdir) / f"family~{family}" / f"severity~{sev}" / f"seed~{seed}"
            done, stats_all = [], {}
            for lang in langs:
                src = R.task_file(data_dir, task, lang, "test")
                try:
                    # the task's label set: a label out of range is refused here, not at evaluation
                    stats = P.perturb_file(src, root / f"lang~{lang}" / "test.jsonl", spec.format, family,
                                           float(sev), seed, lang, labels=meta.get("labels") or None,
                                           n_choices=spec.n_choices or None)
                except P.NotApplicable as e:
                    log(f"{task} {family}: not applicable ({e})")
                    break
                done.append(lang)
                stats_all[lang] = stats
            if not done:
                continue
            pm = {**{k: meta[k] for k in ("task", "format", "labels") if k in meta}, "languages": done,
                  "family": family, "severity": float(sev), "seed": seed, "stats": stats_all}
            R.atomic_write_text(root / "meta.json", json.dumps(pm, indent=1, ensure_ascii=False))
            manifest["sets"].append({"family": family, "severity": float(sev), "languages": done})
            log(f"{task} {family} s={sev}: {done}")
    return manifest
