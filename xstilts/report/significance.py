"""Paired bootstrap over examples: each intermediate model against the baseline, per target, seed and language.

Input: the fine-tuning jobs' per-example files (`results/finetune/.../examples.jsonl.gz`, docs/records.md).
Two runs are compared when they share the encoder and the seed (the same fine-tuning seed and data, only the
intermediate phase differs) and the examples are paired by (language, id). For every (encoder, itask,
target, split, seed), clean data only:

* one row per language: the language's XTREME score (the primary corpus metric; (F1 + EM) / 2 for QA),
  other - baseline, with a 95% percentile interval and a one-sided p (share of resampled deltas <= 0);
* one row with lang "all": the task score (mean of the per-language scores, as XTREME averages languages),
  resampled per language (stratified; the same draws as the per-language rows), so the pooled delta equals
  the difference of the task scores that the tables report.

Each resample recomputes the corpus metric from summed statistics (`xstilts.stats`, shared with the
metrics and the robustness analysis), which is right for span F1 where a mean of per-sentence F1 would not
be. Resampling is vectorised: a resample is a vector of counts per example, and sums = counts @ stats. Each comparison draws from its own generator,
seeded from the configured seed and the comparison's key, so the numbers do not depend on which comparisons
run or in what order.

Output: `results/significance.tsv` (COLUMNS below), part of the frozen copy under paper/frozen/.
"""
from __future__ import annotations

import io
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from xstilts import stats
from xstilts.records import atomic_write_text
from xstilts.report.aggregate import wildcards_of

COLUMNS = ["encoder", "itask", "reference", "ttask", "split", "seed", "lang", "delta", "low", "high", "p",
           "significant", "n_examples", "n_langs", "n_resamples"]
REFERENCE = "baseline"
ALPHA = stats.ALPHA
POOLED = "all"


def _resampled(ttask: str, base: dict[str, list[dict]], other: dict[str, list[dict]], n: int,
               seed: int) -> dict[str, tuple[float, np.ndarray]]:
    """Per language (sorted): (full-data delta, n resampled deltas) of the XTREME score, other - base. One
    generator for all languages, drawn in language order: the pooled row reuses the per-language draws."""
    if set(base) != set(other):
        raise ValueError(f"paired bootstrap ({ttask}): languages differ: {sorted(base)} vs {sorted(other)}")
    if not base:
        raise ValueError(f"paired bootstrap ({ttask}): no languages")
    rng = np.random.default_rng(seed)
    out = {}
    for lang in sorted(base):
        b, o = base[lang], other[lang]
        if len(b) != len(o) or not b:
            raise ValueError(f"paired bootstrap ({ttask}, {lang}): {len(b)} vs {len(o)} examples")
        keys = stats.stat_keys(b, o)
        a_m, o_m = stats.stat_matrix(b, keys), stats.stat_matrix(o, keys)

        def score(sums):  # rows of summed statistics -> XTREME score per row
            return stats.task_score(ttask, dict(zip(keys, sums.T)))

        counts = stats.resample_counts(rng, len(b), n)
        deltas = score(counts @ o_m) - score(counts @ a_m)
        full = float(score(o_m.sum(0, keepdims=True))[0] - score(a_m.sum(0, keepdims=True))[0])
        out[lang] = (full, deltas)
    return out


def _summary(full: float, deltas: np.ndarray, n_examples: int, n_langs: int) -> dict:
    low, high = stats.interval(deltas)
    return {"delta": full, "low": low, "high": high, "p": float(np.mean(deltas <= 0)),
            "n_examples": n_examples, "n_langs": n_langs, "n_resamples": len(deltas)}


def paired_bootstrap_by_lang(ttask: str, base: dict[str, list[dict]], other: dict[str, list[dict]],
                             n: int = 1000, seed: int = 0) -> dict[str, dict]:
    """Per language and pooled (key POOLED): the summary of `paired_bootstrap`, from one set of draws."""
    res = _resampled(ttask, base, other, n, seed)
    out = {lang: _summary(f, d, len(base[lang]), 1) for lang, (f, d) in res.items()}
    out[POOLED] = _summary(float(np.mean([f for f, _ in res.values()])),
                           np.mean([d for _, d in res.values()], axis=0), sum(len(v) for v in base.values()),
                           len(res))
    return out


def paired_bootstrap(ttask: str, base: dict[str, list[dict]], other: dict[str, list[dict]], n: int = 1000,
                     seed: int = 0) -> dict:
    """Stratified paired bootstrap of the task score (mean over languages of the per-language XTREME score),
    other - base. `base` and `other` map language -> example statistics, aligned by example within a language.
    Each resample draws examples with replacement within every language, the same draw for both systems.
    Returns delta (full data), low/high (95% percentile interval), p (one-sided, share of deltas <= 0),
    n_examples, n_langs, n_resamples."""
    return paired_bootstrap_by_lang(ttask, base, other, n, seed)[POOLED]


def _key_seed(seed: int, *parts) -> int:
    """A generator seed per comparison: the configured seed and a stable hash of the comparison's key."""
    return (int(seed) * 1_000_003 + zlib.crc32("/".join(map(str, parts)).encode())) % (2 ** 32)


def _clean_rows(path) -> list[dict]:
    """The clean rows of an examples file. records.write_examples writes sorted keys, so a perturbed row is
    recognised without parsing it (most rows are perturbed copies; parsing them dominated the run time)."""
    import gzip
    import json
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if '"family": "clean"' in line]
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable per-example file ({e})") from e
    bad = [r for r in rows if r.get("family") != "clean"]
    if bad:
        raise ValueError(f"{path}: a row mentions family clean but is {bad[0].get('family')!r}")
    return rows


def load_examples(path) -> dict[tuple, dict[str, list[dict]]]:
    """Clean examples of one fine-tuning job: (ttask, split) -> lang -> rows sorted by id. Duplicate ids are an
    error naming the file."""
    out: dict[tuple, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for i, r in enumerate(_clean_rows(path), 1):
        by_id = out[(r["ttask"], r["split"])][r["lang"]]
        if r["id"] in by_id:
            raise ValueError(f"{path}: example row {i}: duplicate id {r['id']!r} for "
                             f"{r['ttask']}/{r['lang']}/{r['split']}")
        by_id[r["id"]] = r
    return {k: {lang: [rows[i] for i in sorted(rows)] for lang, rows in v.items()} for k, v in out.items()}


# Targets whose per-example files list only the units with a non-zero statistic (BUCC: source sentences with
# a gold or an extracted pair); two runs are aligned on the union of their ids, a unit one run lacks counting
# zero there. Leaving out units that are zero in both changes no resampled sum.
SPARSE_TARGETS = ("bucc",)


def _zero_filled(ttask, base: dict, other: dict) -> tuple[dict, dict]:
    out_b, out_o = {}, {}
    for lang in sorted(set(base) & set(other)):
        b = {r["id"]: r for r in base[lang]}
        o = {r["id"]: r for r in other[lang]}
        ids = sorted(set(b) | set(o))
        zero = {k: 0 for k in stats.STAT_KEYS}
        out_b[lang] = [b.get(i) or {**zero, "id": i} for i in ids]
        out_o[lang] = [o.get(i) or {**zero, "id": i} for i in ids]
    return out_b, out_o


def _aligned(path_b, path_o, ttask, split, base: dict, other: dict) -> tuple[dict, dict]:
    """Languages both runs have, with the examples checked to be the same ids in the same order."""
    if ttask in SPARSE_TARGETS:
        return _zero_filled(ttask, base, other)
    langs = sorted(set(base) & set(other))
    for lang in langs:
        ib, io_ = [r["id"] for r in base[lang]], [r["id"] for r in other[lang]]
        if ib != io_:
            raise ValueError(f"{path_o} vs {path_b}: {ttask}/{lang}/{split}: the example ids differ "
                             f"({len(io_)} vs {len(ib)} examples); paired comparisons need the same test sets")
    return {lang: base[lang] for lang in langs}, {lang: other[lang] for lang in langs}


def compare_runs(paths: list, n: int = 1000, seed: int = 0, reference: str = REFERENCE,
                 itasks: list[str] | None = None) -> pd.DataFrame:
    """Every itask (or those of `itasks`) vs `reference` on the same encoder and seed, per language and pooled
    (lang "all")."""
    runs = {}
    for p in paths:
        w = wildcards_of(p)
        missing = [k for k in ("encoder", "itask", "seed") if k not in w]
        if missing:
            raise ValueError(f"{p}: cannot read {missing} from the path (expected .../encoder~E/itask~I/.../seed~S/)")
        runs.setdefault((w["encoder"], int(w["seed"])), {}).setdefault(w["itask"], []).append(Path(p))
    rows = []
    for (enc, s), by_itask in sorted(runs.items()):
        if reference not in by_itask:
            continue
        base = {}
        for p in by_itask[reference]:
            base.update({k: (p, v) for k, v in load_examples(p).items()})
        for itask in sorted(by_itask):
            if itask == reference or (itasks is not None and itask not in itasks):
                continue
            for p in by_itask[itask]:
                for (ttask, split), ex in sorted(load_examples(p).items()):
                    if (ttask, split) not in base:
                        continue
                    pb, bex = base[(ttask, split)]
                    b, o = _aligned(pb, p, ttask, split, bex, ex)
                    if not b:
                        continue
                    by_lang = paired_bootstrap_by_lang(ttask, b, o, n, _key_seed(seed, enc, itask, ttask, split, s))
                    for lang, res in by_lang.items():
                        rows.append(dict(encoder=enc, itask=itask, reference=reference, ttask=ttask, split=split,
                                         seed=s, lang=lang, significant=not (res["low"] <= 0 <= res["high"]),
                                         **res))
    return pd.DataFrame(rows, columns=COLUMNS)


CONTROL_REFERENCE = "multitask"  # the controls are judged against the English multi-task model (tables.py)
CONTROL_ITASKS = ("mlm_control", "mt_control")


def compare_all(paths: list, n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The significance table: every itask vs the baseline, and each control vs the English multi-task model
    (claims C13, C14). The `reference` column tells the two apart."""
    frames = [compare_runs(paths, n, seed, REFERENCE),
              compare_runs(paths, n, seed, CONTROL_REFERENCE, itasks=list(CONTROL_ITASKS))]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def write_significance(frame: pd.DataFrame, path) -> Path:
    buf = io.StringIO()
    frame.to_csv(buf, sep="\t", index=False, float_format="%.6g", lineterminator="\n")
    return atomic_write_text(path, buf.getvalue())


def read_significance(path) -> pd.DataFrame:
    """results/significance.tsv (or the frozen copy); raises ValueError naming the file on a wrong header."""
    df = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: significance table lacks columns {missing}")
    df["seed"] = df["seed"].astype(int)
    df["significant"] = df["significant"].map(lambda v: str(v).strip().lower() in ("true", "1"))
    return df


def pooled_marks(sig: pd.DataFrame | None, split_of: dict[str, str]) -> dict[tuple[str, str], bool]:
    """(itask, ttask) -> True when the pooled-over-languages delta is significant in every seed, on the split
    the table uses for that target (split_of); main encoder only. Missing comparisons are absent."""
    if sig is None or sig.empty:
        return {}
    s = sig[(sig["lang"] == POOLED) & (sig["encoder"] == "pretrained") & (sig["reference"] == REFERENCE)]
    out = {}
    for (it, t), g in s.groupby(["itask", "ttask"]):
        g = g[g["split"] == split_of.get(t, "")]
        if not g.empty:
            out[(it, t)] = bool(g["significant"].all())
    return out
