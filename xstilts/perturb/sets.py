"""Perturbed copies of one task's test sets for one family, laid out so the evaluators read them like clean
data (one job per task x family; every severity of the family in that job):

  <out>/family~F/manifest.json
  <out>/family~F/severity~S/seed~N/meta.json
  <out>/family~F/severity~S/seed~N/lang~L/test.jsonl

A language where the family has no eligible word at all (diacritic_drop on Cyrillic or Chinese, homoglyph
on text without a table letter, code_switch without a dictionary) is left out and listed under
"not_applicable" with the reason: its copy would equal the clean set.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from xstilts import records as R
from xstilts import tasks as T
from xstilts.perturb import core as P


class ResourceError(ValueError):
    """A resource a family needs (dictionary, homoglyph table) is missing or unreadable; names the key."""


def family_resources(family: str, lang: str, cfg: dict, data_dir, homoglyph_table=None, all_langs=()) -> dict:
    """The Context resources `family` needs for `lang`, from the `perturb` config section.

    code_switch: `perturb.code_switch.dictionary` = "micro" (the micro benchmark's lexicon) or a path
    pattern with {src} and {tgt} (MUSE-style "source target" lines), into `perturb.code_switch.to`
    languages (empty: every other language of the task, `all_langs`). A missing file raises ResourceError, or with
    `on_missing: skip` warns and leaves that pair out (no pair at all: the language is not applicable).
    """
    if family == "homoglyph":
        if not homoglyph_table:
            raise ResourceError("family homoglyph needs the per-tokenizer table (rule homoglyph_table); none given")
        from xstilts.perturb.families import load_homoglyph_table
        return {"homoglyphs": load_homoglyph_table(homoglyph_table)}
    if family != "code_switch":
        return {}
    from xstilts.perturb.families import load_muse, micro_dictionaries
    cs = cfg.get("code_switch") or {}
    source = cs.get("dictionary", "micro")
    to = [t for t in (cs.get("to") or all_langs) if t != lang]
    if source == "micro":
        dicts = micro_dictionaries(Path(data_dir) / "lexicon.json", lang)
        return {"dictionary": {t: d for t, d in dicts.items() if not to or t in to}}
    if "{src}" not in source or "{tgt}" not in source:
        raise ResourceError(f"config key perturb.code_switch.dictionary: {source!r} must be 'micro' or a path "
                            "pattern holding {src} and {tgt}")
    out = {}
    for t in to:
        path = Path(source.format(src=lang, tgt=t))
        if not path.is_file():
            msg = (f"config key perturb.code_switch.dictionary: no dictionary {path} for {lang}->{t}")
            if cs.get("on_missing", "error") == "skip":
                warnings.warn(msg + " (skipped: perturb.code_switch.on_missing is 'skip')")
                continue
            raise ResourceError(msg + " (set perturb.code_switch.on_missing: skip to leave such pairs out)")
        out[t] = load_muse(path, "config key perturb.code_switch.dictionary")
    return {"dictionary": out}


def _all_or_nothing(outdir, build):
    """Run build(tmp) in a temporary sibling folder that replaces `outdir` only when it returns: a bad row in
    the last language leaves no perturbed copies of the first ones behind."""
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}.", suffix=".tmp"))
    try:
        result = build(tmp)
        if outdir.exists():  # a stale tree from an earlier run of this job
            shutil.rmtree(outdir)
        os.replace(tmp, outdir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return result


def perturb_task_family(data_dir, task: str, family: str, severities: list[float], seed: int, outdir,
                        cfg: dict | None = None, homoglyph_table=None, log=print) -> dict:
    """Every severity of one family on every test language of `task`, all or nothing; returns the family
    manifest."""
    return _all_or_nothing(outdir, lambda tmp: _perturb_task_family(data_dir, task, family, severities, seed, tmp,
                                                                    cfg, homoglyph_table, log))


def _perturb_task_family(data_dir, task, family, severities, seed, outdir, cfg, homoglyph_table, log) -> dict:
    cfg = cfg or {}
    spec = T.get(task)
    meta = R.read_meta(Path(data_dir) / f"task~{task}")
    only = cfg.get("languages") or []  # perturb.languages: the languages whose test sets are perturbed
    langs = [l for l in meta["languages"] if "test" in meta["splits"].get(l, []) and (not only or l in only)]
    manifest = {"task": task, "family": family, "seed": seed, "sets": [], "not_applicable": {}}
    if not P.applicable(spec.format, family):
        manifest["not_applicable"]["*"] = f"family {family} does not apply to format {spec.format}"
        log(f"{task} {family}: not applicable to format {spec.format}")
        return manifest
    res_of, skip = {}, {}
    for lang in langs:
        res = family_resources(family, lang, cfg, data_dir, homoglyph_table, meta["languages"])
        missing = [k for k in P.get_family(family).needs if not res.get(k)]
        if missing:
            skip[lang] = f"no {', '.join(missing)} for {lang}"
        res_of[lang] = res
    written: dict[str, dict] = {}
    # perturb.variants: extra task-aware variants (classification "hypothesis"/"premise", QA "context"),
    # written under variant~V with family "F__V" in the results
    variants = ["default"] + [v for v in cfg.get("variants") or [] if v != "default" and v in P.VARIANTS[spec.format]]
    for variant in variants:
        name = family if variant == "default" else f"{family}__{variant}"
        base = Path(outdir) if variant == "default" else Path(outdir) / f"variant~{variant}"
        for sev in severities:
            root = base / f"severity~{sev}" / f"seed~{seed}"
            done, stats_all = [], {}
            for lang in langs:
                if lang in skip:
                    continue
                src = R.task_file(data_dir, task, lang, "test")
                # the task's label set: a label out of range is refused here, not at evaluation
                recs = R.read_jsonl(src, spec.format, meta.get("labels") or None, spec.n_choices or None)
                out, stats = P._perturb_all(recs, spec.format, family, float(sev), seed, lang, variant, res_of[lang])
                if stats["words_total"] == 0:
                    if variant == "default":
                        skip[lang] = "no eligible word in this language's test set (e.g. no strippable diacritic)"
                    continue
                R.write_jsonl(root / f"lang~{lang}" / "test.jsonl", out,
                              None if spec.format == T.BUCC else spec.format, meta.get("labels") or None,
                              spec.n_choices or None)
                done.append(lang)
                stats_all[lang] = stats
            if not done:
                continue
            pm = {**{k: meta[k] for k in ("task", "format", "labels") if k in meta}, "languages": done,
                  "family": name, "variant": variant, "severity": float(sev), "seed": seed, "stats": stats_all}
            R.atomic_write_text(root / "meta.json", json.dumps(pm, indent=1, ensure_ascii=False))
            written[f"{variant} {sev}"] = {"family": name, "variant": variant, "severity": float(sev),
                                          "languages": done}
            log(f"{task} {name} s={sev}: {done}")
    manifest["sets"] = list(written.values())
    manifest["not_applicable"] = skip
    for lang, why in skip.items():
        log(f"{task} {family} {lang}: not applicable ({why})")
    return manifest


def perturb_task(data_dir, task: str, families: list[str], severities: list[float], seed: int, outdir,
                 cfg: dict | None = None, homoglyph_table=None, log=print) -> dict:
    """Every family of a task in one job (`perturb.bundle_families`: saves per-job start-up when the sets are
    small): <outdir>/family~F/... exactly as `perturb_task_family` writes them, all families or none."""
    def build(tmp):
        out = {"task": task, "families": {}}
        for fam in families:
            m = _perturb_task_family(data_dir, task, fam, severities, seed, Path(tmp) / f"family~{fam}", cfg,
                                     homoglyph_table, log)
            R.atomic_write_text(Path(tmp) / f"family~{fam}" / "manifest.json",
                                json.dumps(m, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
            out["families"][fam] = m
        return out
    return _all_or_nothing(outdir, build)


def perturbed_sets(perturbed_dir, ttask: str, cfg: dict | None = None) -> list[Path]:
    """Folders task~T/family~F[/variant~V]/severity~S/seed~N holding lang~L/test.jsonl + meta.json.

    With `cfg`, only the sets this config asks for (families, severities, seed, variants): sets left on disk
    by an earlier config are never evaluated into this run's results."""
    if not perturbed_dir:
        return []
    root = Path(perturbed_dir) / f"task~{ttask}"
    found = sorted(p.parent for pattern in ("family~*/severity~*/seed~*/meta.json",
                                            "family~*/variant~*/severity~*/seed~*/meta.json")
                   for p in root.glob(pattern))
    if cfg is None:
        return found
    pc = cfg["perturb"]
    sevs = {round(float(s), 6) for s in pc["severities"]}
    variants = {"default", *pc.get("variants", [])}
    keep = []
    for d in found:
        m = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if (m["family"] in pc["families"] and round(float(m["severity"]), 6) in sevs
                and int(m["seed"]) == int(pc["seed"]) and m.get("variant", "default") in variants):
            keep.append(d)
    return keep
