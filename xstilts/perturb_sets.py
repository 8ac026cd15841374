"""Perturbed copies of one task's test sets, laid out so the evaluators read them like clean data:

  <out>/family~F/severity~S/seed~N/meta.json
  <out>/family~F/severity~S/seed~N/lang~L/test.jsonl
"""
from __future__ import annotations

import json
from pathlib import Path

from . import perturb as P
from . import records as R
from . import tasks as T


def perturb_task(data_dir, task: str, families: list[str], severities: list[float], seed: int, outdir,
                 log=print) -> dict:
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
                    stats = P.perturb_file(src, root / f"lang~{lang}" / "test.jsonl", spec.format, family,
                                           float(sev), seed, lang)
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
