"""What evaluating the perturbed test sets adds to one fine-tuning job (the embedded default's cost).

Loads the micro encoder with fresh heads (evaluation cost does not depend on the weights), then times the
evaluation a fine-tune job does (`jobs._eval_rows`): every clean dev/test set, then every perturbed set
found under resources/perturbed, per family. Prints seconds and the perturbed/clean ratio, all measured
in this one run. Needs a finished embedded run's resources/ (data, models, perturbed sets).

    nice python benchmarks/bench_perturbed_eval.py [--families char_typo word_drop] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="resources/data/micro")
    ap.add_argument("--encoder", default="resources/models/encoder~pretrained")
    ap.add_argument("--perturbed", default="resources/perturbed")
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--families", nargs="*", default=None, help="only these families (default: all found)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import yaml
    from xstilts import env
    from xstilts.train import jobs
    from xstilts.perturb.sets import perturbed_sets
    from xstilts import records as R
    from xstilts import tasks as T
    from xstilts.models.modeling import load_encoder

    cfg = yaml.safe_load(Path(a.config).read_text())
    env.set_threads(a.threads)
    targets = [t for t in cfg["targets"] if t in T.TRAINABLE_TARGETS]
    encoder, tok = load_encoder(a.encoder)
    labels = {t: R.read_meta(Path(a.data) / f"task~{t}").get("labels") or None for t in targets}
    model = jobs._model_for(encoder, tok, labels)
    clean_s, pert_s = 0.0, defaultdict(float)
    clean_cpu, pert_cpu = 0.0, 0.0
    n_sets = defaultdict(int)
    for t in targets:
        hp = jobs.hparams(cfg, "target", t)
        meta = R.read_meta(Path(a.data) / f"task~{t}")
        t0, c0 = time.perf_counter(), time.process_time()
        for lang in meta["languages"]:
            for split in meta["splits"].get(lang, []):
                if split in jobs.NON_TRAIN_SPLITS:
                    jobs._eval_rows(model, tok, a.data, t, lang, split, "clean", 0.0, hp, "cpu", examples=[])
        clean_s += time.perf_counter() - t0
        clean_cpu += time.process_time() - c0
        for pdir in perturbed_sets(a.perturbed, t):
            pm = json.loads((pdir / "meta.json").read_text(encoding="utf-8"))
            if a.families and pm["family"] not in a.families:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            for lang in pm["languages"]:
                jobs._eval_rows(model, tok, a.data, t, lang, "test", pm["family"], pm["severity"], hp, "cpu",
                                root=pdir, examples=[])
            pert_s[pm["family"]] += time.perf_counter() - t0
            pert_cpu += time.process_time() - c0
            n_sets[pm["family"]] += len(pm["languages"])
    total = sum(pert_s.values())
    print(f"clean dev+test evaluation: {clean_s:.2f}s ({clean_cpu:.2f} CPU s)")
    for f in sorted(pert_s):
        print(f"  {f:15s} {n_sets[f]:4d} (task, severity, language) sets  {pert_s[f]:6.2f}s")
    print(f"perturbed evaluation: {total:.2f}s ({pert_cpu:.2f} CPU s) = {total / clean_s:.2f}x the clean "
          f"evaluation ({pert_cpu / clean_cpu:.2f}x in CPU time), per fine-tune job")


if __name__ == "__main__":
    main()
