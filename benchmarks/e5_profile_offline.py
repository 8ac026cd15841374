"""Run the config/e5.yaml profile's retrieval stage offline on the real Tatoeba fixture heads.

The profile reads Tatoeba from the hub; here the hub step is replaced by the fixture files (written with the
same `loaders.write_task` the hub rule uses, as `resources/data/hub/task~tatoeba`), and everything after it
is the profile's own DAG in a separate work directory: convert_e5 (with its check), the random-init control,
perturbed copies, retrieve_sentences for both encoders.

    python benchmarks/e5_profile_offline.py WORKDIR [--fixtures ../shared/fixtures/real/tatoeba]

Prints Tatoeba accuracy (%, English queries as XTREME) per encoder, test set and language from the two
retrieve_sentences outputs (aggregate_results is not run: it reads its schema relative to the working dir).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LANGS3 = ("deu", "cmn", "ara")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir")
    ap.add_argument("--fixtures", default=str(REPO.parent / "shared/fixtures/real/tatoeba"))
    ap.add_argument("--cores", default="2")
    a = ap.parse_args(argv)

    import yaml

    from xstilts.data import loaders as L

    work = Path(a.workdir).resolve()
    data = work / "resources/data/hub"
    fx = Path(a.fixtures)
    recs = {L.TATOEBA_ISO3[l3]: {"test": L.tatoeba_from_files(fx / f"tatoeba.{l3}-eng.{l3}",
                                                              fx / f"tatoeba.{l3}-eng.eng")} for l3 in LANGS3}
    L.write_task(data, "tatoeba", recs, "hub", {"loader": "benchmarks/e5_profile_offline.py", "fixtures": str(fx)})
    overlay = work / "offline.yaml"
    # only what the fixtures hold: Tatoeba in these languages (the profile also lists BUCC and more languages)
    overlay.write_text(yaml.safe_dump({"languages": ["en"] + sorted(recs), "targets": ["tatoeba"]}))
    metrics = [f"results/retrieve/encoder~{e}/itask~baseline/seed~1/metrics.json" for e in ("pretrained", "random")]
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work),
           "--cores", a.cores, "--configfile", str(REPO / "config/e5.yaml"), str(overlay),
           "--allowed-rules", "convert_e5", "init_random_encoder", "homoglyph_table", "perturb_testset",
           "embed_sentences", "retrieve_sentences",
           "--", *metrics]
    # the hub rules are left out: their outputs (the fixture data and a manifest) are written here
    (data / "manifest.json").write_text('{"source": "hub", "tasks": {"tatoeba": {}}}\n')
    r = subprocess.run(cmd, cwd=work)
    if r.returncode:
        return r.returncode
    import json

    langs = sorted(recs)
    print("| encoder | test set | " + " | ".join(langs) + " |")
    print("|---|---|" + "---|" * len(langs))
    for path in metrics:
        rows = json.loads((work / path).read_text())["rows"]
        enc = path.split("encoder~")[1].split("/")[0]
        for key in dict.fromkeys((r["family"], r["severity"]) for r in rows):
            acc = {r["lang"]: r["value"] for r in rows if (r["family"], r["severity"]) == key}
            name = "clean" if key[0] == "clean" else f"{key[0]} {key[1]:g}"
            print(f"| {enc} | {name} | " + " | ".join(f"{acc[lang]:.1f}" for lang in langs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
