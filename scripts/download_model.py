"""Rules download_model and download_mt_model (paper scale, localrules): fetch a model (the starting encoder, the
MT model) at a pinned revision, once. Safetensors weights only: pickled checkpoints are never fetched."""
import json
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)
import os  # noqa: E402

for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the one job that may use the network
    os.environ.pop(k, None)
from huggingface_hub import snapshot_download  # noqa: E402

out = Path(snakemake.output[0])
path = snapshot_download(repo_id=snakemake.params.hub_id, revision=snakemake.params.revision, local_dir=str(out),
                         allow_patterns=getattr(snakemake.params, "allow_patterns", None)
                         or ["*.json", "*.safetensors", "sentencepiece.bpe.model", "*.txt"])
(out / "xstilts_run.json").write_text(json.dumps({"hub_id": snakemake.params.hub_id,
                                                  "revision": snakemake.params.revision}), encoding="utf-8")
log.info(f"downloaded {snakemake.params.hub_id}@{snakemake.params.revision} to {path}")
