"""python -m xstilts.data.micro OUTDIR [--seed N] [--config cfg.json]: write the micro benchmark."""
from __future__ import annotations

import argparse
import json
import sys
import time

from xstilts.data.micro import generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xstilts.data.micro", description=__doc__)
    ap.add_argument("outdir", help="output folder (e.g. resources/data/micro)")
    ap.add_argument("--seed", type=int, default=None, help="master seed (overrides the config's)")
    ap.add_argument("--config", default=None, help="JSON file with generator parameters (keys of DEFAULTS)")
    a = ap.parse_args(argv)
    cfg = {}
    if a.config:
        with open(a.config, encoding="utf-8") as f:
            cfg = json.load(f)
    if a.seed is not None:
        cfg["seed"] = a.seed
    t0 = time.time()
    try:
        man = generate(a.outdir, cfg)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    n = sum(f["records"] or 0 for f in man["files"])
    print(f"wrote {len(man['files'])} files, {n} records to {a.outdir} in {time.time() - t0:.1f} s "
          f"(seed {man['seed']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
