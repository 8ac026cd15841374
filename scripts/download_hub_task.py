"""Rule download_hub_task (paper scale, localrule): one task's data from the hub at pinned revisions, converted
to validated records under resources/downloads/hub/task~<task>/ (docs/records.md). With download_mt_model, the
only jobs that may use the network."""
import os
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)  # sets the offline flags for every job; this download job lifts them for itself only
params = snakemake.params
loader = None
if params.bundle:  # data.bundle: hub rows from the committed local bundle (xstilts.data.bundle), never the network
    from xstilts.data.bundle import BundleLoader
    loader = BundleLoader(params.bundle)
    log.info(f"reading hub tables from the local bundle {params.bundle} (checksums verified)")
else:
    for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.pop(k, None)
from xstilts.data.hub import download_task  # noqa: E402  (datasets is imported lazily, after the flags are lifted)


def no_fetch(url):
    raise RuntimeError(f"{url}: data.bundle is set, so nothing is downloaded; add this table to the bundle")


mlm = params.mlm_corpus or {}
meta = download_task(snakemake.wildcards.task, Path(snakemake.output[0]).parent.parent, languages=params.languages,
                     revisions=params.revisions or None, ccgbank_path=params.ccgbank_path,
                     pool_lines=mlm.get("pool_lines", 100000), mlm_source=mlm.get("source", "cc100"),
                     wikipedia_date=str(mlm.get("wikipedia_date", "20231101")), on_bad_row=params.on_bad_row,
                     published_mt=params.published_mt, log=log.info, load=loader,
                     fetch=no_fetch if loader else None)
log.info(f"{meta['task']}: languages {meta['languages']}, counts {meta['counts']}, "
         f"malformed rows dropped {meta['bad_rows']['dropped']}")
