"""Rules download_model and download_mt_model (paper scale, localrules): fetch a model (the starting encoder, the
MT model) at a pinned revision, once. Safetensors weights only: pickled checkpoints are never fetched."""
import json
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)
import os  # noqa: E402

for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the one job that may use the network
    os.environ.pop(k, None)
import re  # noqa: E402

from huggingface_hub import HfApi, snapshot_download  # noqa: E402

hub_id, revision = snakemake.params.hub_id, snakemake.params.revision
# a branch name ("main") moves: resolve it to the commit actually downloaded and record that, so the run's
# provenance names an exact model version even when the config did not pin one
sha = HfApi().model_info(hub_id, revision=revision).sha
if not re.fullmatch(r"[0-9a-f]{40}", str(revision or "")):
    log.warning(f"model.revision {revision!r} is not a commit: resolved to {sha}; pin it in the config "
                f"(model.revision: {sha}) to rerun exactly this model")
out = Path(snakemake.output[0])
path = snapshot_download(repo_id=hub_id, revision=sha, local_dir=str(out),
                         allow_patterns=getattr(snakemake.params, "allow_patterns", None)
                         or ["*.json", "*.safetensors", "sentencepiece.bpe.model", "*.txt"])
(out / "xstilts_run.json").write_text(json.dumps({"hub_id": hub_id, "revision": revision, "commit": sha}),
                                      encoding="utf-8")
log.info(f"downloaded {hub_id}@{sha} (config revision {revision!r}) to {path}")
