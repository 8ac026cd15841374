"""Rule prepare_hub_task (paper scale, localrule): one task's data from the hub at pinned revisions, written
as resources/data/hub/task~<task>/ (docs/records.md). The only data job that may use the network."""
import os
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)  # sets the offline flags for every job; this download job lifts them for itself only
for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.pop(k, None)
from xstilts.hub import prepare_task  # noqa: E402  (datasets is imported lazily, after the flags are lifted)

task = snakemake.wildcards.task
out = Path(snakemake.output[0])  # resources/data/hub/task~<task>/meta.json
params = snakemake.params
meta = prepare_task(task, out.parent.parent, languages=params.languages,
                    revisions=getattr(params, "revisions", None) or None,
                    ccgbank_path=getattr(params, "ccgbank_path", None),
                    mlm_lines=getattr(params, "mlm_lines", 100000), log=log.info)
log.info(f"{task}: languages {meta['languages']}, counts {meta['counts']}")
