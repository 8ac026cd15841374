"""Start-up and repeated work in the embedded run's small jobs, before and after, measured in this one run.

1. Evaluation features: tokenising every clean and perturbed evaluation set of one fine-tuning job
   (`features.encode`, what each job did) vs reading them back from the feature cache (`encode_cached`,
   what every job after the first now does).
2. Sentence embeddings: one process per encoder running every encoder block (the former per-encoder
   `embed_sentences` jobs) vs one process for all of them running only the blocks up to `retrieval.layer`
   (`bundle_embeddings`). Both write .npz files; the script checks that they hold the same arrays.

Needs a finished embedded run's resources/ and results/intermediate/. Prints seconds and ratios.

    nice python benchmarks/bench_small_jobs.py [--encoders 4]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# one encoder, every block (as the former per-encoder job did): embed_sentences with the block stack intact
_ONE = """
import sys, yaml
sys.path.insert(0, {root!r})
from xstilts.retrieve import job as RJ
from xstilts import env
from xstilts.retrieve import search as RT
from xstilts.models.modeling import load_encoder
cfg = yaml.safe_load(open({config!r}))
env.set_threads(1)
model, tok = load_encoder({enc!r})
rc = cfg["retrieval"]
fn = lambda texts: RT.embed(model, tok, texts, layer=rc["layer"], batch_size=rc["batch_size"],
                            max_length=rc["max_length"], device="cpu", prefix=rc.get("prefix", ""))
RJ.write_embeddings({out!r}, RJ.sentence_sets(cfg, {data!r}, {pert!r}), fn, {{}}, log=lambda *a: None)
"""

_MANY = """
import sys, yaml
sys.path.insert(0, {root!r})
from xstilts.retrieve.job import embed_sentences_many
cfg = yaml.safe_load(open({config!r}))
embed_sentences_many(cfg, {encs!r}, {data!r}, {pert!r}, {outs!r}, 1, log=lambda *a: None)
"""


def _run(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t


def bench_features(cfg, data, pert) -> None:
    from xstilts import records as R
    from xstilts import tasks as T
    from xstilts.train.features import encode, encode_cached
    from xstilts.train.jobs import _perturbed_sets
    from xstilts.models.modeling import load_tokenizer

    tok = load_tokenizer(ROOT / "resources/models/encoder~pretrained")
    sets = []
    for tt in [t for t in cfg["targets"] if t in T.TRAINABLE_TARGETS]:
        meta = R.read_meta(Path(data) / f"task~{tt}")
        for lang in meta["languages"]:
            for split in [s for s in meta["splits"].get(lang, []) if s in ("dev", "test")]:
                recs, m = R.load_split(data, tt, lang, split)
                sets.append((tt, recs, m.get("labels") or None, R.task_file(data, tt, lang, split)))
        for pdir in _perturbed_sets(pert, tt, cfg):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            task = T.get(tt)
            for lang in pm["languages"]:
                path = pdir / f"lang~{lang}" / "test.jsonl"
                recs = R.read_jsonl(path, task.format, pm.get("labels") or None, task.n_choices or None)
                sets.append((tt, recs, pm.get("labels") or None, path))
    with tempfile.TemporaryDirectory() as cache:
        for tt, recs, labels, path in sets:  # fill the cache (what the first job of a run does)
            encode_cached(recs, T.get(tt), tok, 128, labels, cache_dir=cache, source=path)
        t0 = time.perf_counter()
        for tt, recs, labels, path in sets:
            encode(recs, T.get(tt), tok, 128, labels)
        t1 = time.perf_counter()
        for tt, recs, labels, path in sets:
            encode_cached(recs, T.get(tt), tok, 128, labels, cache_dir=cache, source=path)
        t2 = time.perf_counter()
    print(f"evaluation features of one fine-tuning job ({len(sets)} sets): tokenised {t1 - t0:.2f}s, "
          f"from the cache {t2 - t1:.2f}s ({(t1 - t0) / (t2 - t1):.1f}x)")


def bench_embeddings(cfg_path, cfg, data, pert, n: int) -> None:
    import numpy as np
    models = [ROOT / "resources/models/encoder~pretrained"]
    models += sorted((ROOT / "results/intermediate/encoder~pretrained").glob("itask~*/seed~*/model"))
    models = [str(m) for m in models[:n]]
    with tempfile.TemporaryDirectory() as d:
        old = [f"{d}/old{i}.npz" for i in range(len(models))]
        new = [f"{d}/new{i}.npz" for i in range(len(models))]
        t_old = sum(_run(_ONE.format(root=str(ROOT), config=cfg_path, enc=m, out=o, data=data, pert=pert))
                    for m, o in zip(models, old))
        t_new = _run(_MANY.format(root=str(ROOT), config=cfg_path, encs=models, outs=new, data=data, pert=pert))
        for o, w in zip(old, new):
            a, b = np.load(o), np.load(w)
            for k in a.files:
                if k.startswith("a") and not np.array_equal(a[k], b[k]):
                    raise SystemExit(f"embeddings differ: {k} of {o} vs {w}")
    print(f"sentence embeddings of {len(models)} encoders: one process each, all blocks {t_old:.1f}s; "
          f"one process, blocks up to layer {cfg['retrieval']['layer']} {t_new:.1f}s ({t_old / t_new:.1f}x); "
          "same vectors")


def main() -> None:
    import yaml
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=str(ROOT / "config.yaml"))
    ap.add_argument("--data", default=str(ROOT / "resources/data/micro"))
    ap.add_argument("--perturbed", default=str(ROOT / "resources/perturbed"))
    ap.add_argument("--encoders", type=int, default=4, help="how many encoders to embed with (default 4)")
    a = ap.parse_args()
    from xstilts import env
    env.set_offline()
    env.set_threads(1)
    cfg = yaml.safe_load(open(a.config))
    bench_features(cfg, a.data, a.perturbed)
    bench_embeddings(a.config, cfg, a.data, a.perturbed, a.encoders)


if __name__ == "__main__":
    main()
