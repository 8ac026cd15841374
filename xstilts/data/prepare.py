"""Offline data preparation (paper scale): downloaded task folders -> the task folders every later rule reads, plus
the data inventory. Nothing here touches the network; the head node's `download_hub_task` jobs have already
written `resources/downloads/hub/task~<task>/` (validated records, `xstilts.data.hub.download_task`).

* `prepare_task` links the downloaded files into `resources/data/hub/task~<task>/`, merges machine-translated
  shards into `lang~<l>/train.jsonl` (MT control, `xstilts.data.translate`), and samples the MLM corpus;
* `mlm_allocation` is XLM-R's temperature-based language sampling (q_l proportional to p_l ** alpha);
* `inventory_rows` / `write_inventory` count examples per task, component, language and split
  (`inventory.tsv`), which the claims read (C9, C15-C19).

Every output folder is built beside its target and swapped in (`loaders.swap_in_folder`), so a failed job leaves
no partial data.
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from xstilts import records as R
from xstilts import tasks as T
from xstilts.data import loaders as L


def _link_or_copy(src: Path, dest: Path) -> None:
    """Hard link (no second copy of a 400k-row file) where the filesystem allows it, else copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


# ---------------------------------------------------------------------------------------------------------------
# MLM corpus: temperature sampling


def temperature_shares(sizes: Mapping[str, float], alpha: float) -> dict[str, float]:
    """q_l = p_l^alpha / sum_k p_k^alpha with p_l = sizes[l] / sum(sizes) (XLM-R: alpha = 0.3, i.e. a sampling
    temperature T = 1/alpha). alpha = 1 keeps the corpus proportions, alpha -> 0 samples languages uniformly."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"config key data.mlm_corpus.alpha: {alpha} is not in [0, 1]")
    bad = {l: v for l, v in sizes.items() if not (isinstance(v, (int, float)) and v > 0)}
    if bad:
        raise ValueError(f"config key data.mlm_corpus.sizes: sizes must be positive numbers, got {bad}")
    total = float(sum(sizes.values()))
    w = {l: (v / total) ** alpha for l, v in sizes.items()}
    z = sum(w.values())
    return {l: w[l] / z for l in sizes}


def mlm_allocation(pool: Mapping[str, int], total: int, alpha: float,
                   sizes: Mapping[str, float] | None = None) -> dict[str, int]:
    """Lines to sample per language: `total` split by `temperature_shares` of `sizes` (default: the pool sizes),
    never more than a language's pool. What a capped language cannot give is re-split among the others by their
    shares (water-filling), so the corpus reaches `total` whenever the pools hold that many lines. Deterministic
    (largest remainders, ties by language code)."""
    if total < 1:
        raise ValueError(f"config key data.mlm_corpus.total_lines: {total} must be >= 1")
    langs = sorted(pool)
    sizes = {l: float((sizes or {}).get(l, pool[l])) for l in langs}
    missing = [l for l in langs if pool[l] <= 0]
    if missing:
        raise ValueError(f"MLM corpus: languages {missing} have no lines in the downloaded pool")
    q = temperature_shares(sizes, alpha)
    alloc = {l: 0 for l in langs}
    remaining, open_ = min(total, sum(pool.values())), set(langs)
    while remaining > 0 and open_:
        z = sum(q[l] for l in open_)
        want = {l: remaining * q[l] / z for l in open_}
        base = {l: int(want[l]) for l in open_}
        left = remaining - sum(base.values())
        for l in sorted(open_, key=lambda l: (-(want[l] - base[l]), l))[:left]:
            base[l] += 1
        capped = False
        for l in sorted(open_):
            take = min(base[l], pool[l] - alloc[l])
            alloc[l] += take
            remaining -= take
            if alloc[l] >= pool[l]:
                open_.discard(l)
                capped = True
        if not capped:
            break
    return alloc


def sample_mlm(by_lang: Mapping[str, list[dict]], total: int, alpha: float, seed: int,
               sizes: Mapping[str, float] | None = None) -> tuple[dict[str, list[dict]], dict]:
    """Seeded sample of each language's pool (sizes from `mlm_allocation`), kept in pool order; and a report."""
    alloc = mlm_allocation({l: len(v) for l, v in by_lang.items()}, total, alpha, sizes)
    out = {}
    for l, recs in by_lang.items():
        rng = random.Random(f"{seed}:{l}")  # per-language stream: adding a language does not move the others
        keep = sorted(rng.sample(range(len(recs)), alloc[l]))
        out[l] = [recs[i] for i in keep]
    shares = temperature_shares({l: float((sizes or {}).get(l, len(v))) for l, v in by_lang.items()}, alpha)
    report = {"alpha": alpha, "total_lines": total, "seed": seed,
              "size_basis": "config data.mlm_corpus.sizes" if sizes else "downloaded pool sizes",
              "shares": {l: round(shares[l], 6) for l in sorted(shares)}, "lines": alloc,
              "pool": {l: len(v) for l, v in sorted(by_lang.items())}}
    return out, report


def write_shards(folder: Path, sampled: Mapping[str, list[dict]], n_shards: int, seed: int) -> list[str]:
    """The sampled corpus as `shards/shard~KKK.txt`: one text per line, languages interleaved by a seeded
    shuffle, split into `n_shards` contiguous parts. Returns the relative paths."""
    if n_shards < 1:
        raise ValueError(f"config key data.mlm_corpus.shards: {n_shards} must be >= 1")
    lines = [r["text"] for l in sorted(sampled) for r in sampled[l]]
    random.Random(seed).shuffle(lines)
    (folder / "shards").mkdir(parents=True, exist_ok=True)
    rels, per = [], -(-len(lines) // n_shards)
    for k in range(n_shards):
        rel = f"shards/shard~{k:03d}.txt"
        chunk = lines[k * per:(k + 1) * per]
        # a line break inside a text would split one record into two lines of the shard
        R.atomic_write_text(folder / rel, "".join(t.replace("\n", " ") + "\n" for t in chunk))
        rels.append(rel)
    return rels


# ---------------------------------------------------------------------------------------------------------------
# the prepare step


def prepare_task(task: str, download_dir, out_dir, translations: Mapping[str, list] | None = None,
                 mlm: Mapping | None = None, log=print) -> dict:
    """`download_dir` (= resources/downloads/hub/task~<task>) -> `out_dir` (= resources/data/hub/task~<task>).

    `translations` {lang: [shard paths in order]} are merged (`translate.merge_shards`) into `lang~<lang>/
    train.jsonl`; a language that already has a published translation there is refused (config decides one
    source per language). `mlm` (task mlm_corpus): {total_lines, alpha, seed, shards, sizes}. Returns the meta."""
    download_dir, out_dir = Path(download_dir), Path(out_dir)
    meta = R.read_meta(download_dir)
    if meta.get("task") != task:
        raise ValueError(f"{download_dir}/meta.json is task {meta.get('task')!r}, expected {task!r}")
    spec = T.get(task)
    files = {p.relative_to(download_dir): p for p in sorted(download_dir.rglob("*"))
             if p.is_file() and p.name != "meta.json"}
    new: dict[Path, list[dict]] = {}
    prepared: dict = {"from": str(download_dir)}
    splits = {l: list(v) for l, v in meta["splits"].items()}
    counts = {l: dict(v) for l, v in meta["counts"].items()}

    if translations:
        from xstilts.data import translate as X
        prepared["translations"] = {}
        for lang in sorted(translations):
            if "train" in splits.get(lang, []):
                raise ValueError(f"{task}/{lang}: the download already holds a (published) translated training set; "
                                 f"config controls.mt.source must choose one source per task")
            recs, report = X.merge_shards([Path(p) for p in translations[lang]])
            if not recs:
                raise R.RecordError(f"{task}/{lang}: every translated example was dropped ({report})")
            new[Path(f"lang~{lang}") / "train.jsonl"] = recs
            splits.setdefault(lang, []).insert(0, "train")
            counts.setdefault(lang, {})["train"] = len(recs)
            prepared["translations"][lang] = report
            log(f"{task}/{lang}: {len(recs)} translated training examples ({report.get('dropped_unlocated_answer', 0)}"
                f" dropped: answer not located)")

    shard_files: list[str] = []
    if task == "mlm_corpus":
        if not mlm:
            raise ValueError("task mlm_corpus needs the config block data.mlm_corpus")
        pools = {l: R.read_jsonl(download_dir / f"lang~{l}" / "train.jsonl", T.MLM) for l in meta["languages"]}
        sampled, report = sample_mlm(pools, int(mlm["total_lines"]), float(mlm["alpha"]), int(mlm.get("seed", 0)),
                                     mlm.get("sizes") or None)
        for l, recs in sampled.items():
            files.pop(Path(f"lang~{l}") / "train.jsonl")
            if recs:
                new[Path(f"lang~{l}") / "train.jsonl"] = recs
                counts[l]["train"] = len(recs)
            else:  # a language with share ~0: leave it out rather than write an empty file
                splits.pop(l)
                counts.pop(l)
        prepared["mlm_sampling"] = report
        log(f"mlm_corpus: sampled {sum(report['lines'].values())} lines, alpha {report['alpha']}: {report['lines']}")

    langs = T.lang_order(splits)
    out_meta = dict(meta, languages=langs, splits={l: [s for s in L.SPLITS if s in splits[l]] for l in langs},
                    counts={l: counts[l] for l in langs},
                    provenance=dict(meta.get("provenance", {}), prepared=prepared))

    def fill(tmp: Path) -> None:
        for rel, src in files.items():
            _link_or_copy(src, tmp / rel)
        for rel, recs in new.items():
            R.write_jsonl(tmp / rel, recs, spec.format, list(spec.labels) or None, spec.n_choices or None)
        if task == "mlm_corpus":
            shard_files.extend(write_shards(tmp, {l: new.get(Path(f"lang~{l}") / "train.jsonl", [])
                                                  for l in langs}, int(mlm.get("shards", 1)), int(mlm.get("seed", 0))))
            out_meta["shards"] = shard_files
        R.atomic_write_text(tmp / "meta.json", json.dumps(out_meta, ensure_ascii=False, indent=2) + "\n")

    L.swap_in_folder(out_dir, fill)
    return out_meta


# ---------------------------------------------------------------------------------------------------------------
# inventory

INVENTORY_COLUMNS = ("task", "component", "language", "split", "examples", "dropped_unlabelled", "dropped_malformed",
                     "source")


def inventory_rows(data_dir, tasks: Iterable[str]) -> list[dict]:
    """One row per task, language and split (component "" = the task's file) and, for composite tasks (ANLI+),
    one row per component and split, from each task's meta.json. Counts are of records written, after dropping
    unlabelled rows (counted in `dropped_unlabelled`) and, under data.on_bad_row: drop, malformed ones."""
    rows = []
    for task in tasks:
        meta = R.read_meta(Path(data_dir) / f"task~{task}")
        bad = (meta.get("bad_rows") or {}).get("by_split", {})
        for lang in meta["languages"]:
            for split in meta["splits"][lang]:
                rows.append({"task": task, "component": "", "language": lang, "split": split,
                             "examples": meta["counts"][lang][split], "dropped_unlabelled": 0,
                             "dropped_malformed": bad.get(lang, {}).get(split, 0), "source": meta.get("source", "")})
        for comp, c in sorted((meta.get("components") or {}).items()):
            for split in L.SPLITS:
                if split in c:
                    rows.append({"task": task, "component": comp, "language": "en", "split": split,
                                 "examples": c[split], "dropped_unlabelled": c.get(f"{split}_dropped_unlabelled", 0),
                                 "dropped_malformed": 0, "source": meta.get("source", "")})
        for r in rows:
            if r["task"] == task and r["component"] == "" and r["split"] == "train" and meta.get("components"):
                r["dropped_unlabelled"] = sum(c.get("train_dropped_unlabelled", 0)
                                              for c in meta["components"].values())
    return rows


def write_inventory(path, rows: list[dict]) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=INVENTORY_COLUMNS, delimiter="\t", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return R.atomic_write_text(path, buf.getvalue())


def read_inventory(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and set(rows[0]) != set(INVENTORY_COLUMNS):
        raise ValueError(f"{path}: columns {list(rows[0])}, expected {list(INVENTORY_COLUMNS)}")
    for i, r in enumerate(rows, 2):
        for k in ("examples", "dropped_unlabelled", "dropped_malformed"):
            try:
                r[k] = int(r[k])
            except ValueError:
                raise ValueError(f"{path}:{i}: column {k} is {r[k]!r}, not an integer") from None
    return rows


def inventory_count(rows: list[dict], task: str, lang: str = "en", split: str = "train",
                    component: str = "") -> int | None:
    for r in rows:
        if (r["task"], r["component"], r["language"], r["split"]) == (task, component, lang, split):
            return r["examples"]
    return None
