"""Rule generate_micro: the embedded micro benchmark, deterministic from the seed."""
from pathlib import Path

from xstilts.data import micro
from xstilts.snake import start

log = start(snakemake)
cfg = {"seed": snakemake.params.seed, "languages": snakemake.params.languages, **snakemake.params.overrides}
manifest = micro.generate(Path(snakemake.output.manifest).parent, cfg)
log.info(f"wrote {len(manifest.get('files', []))} files")
