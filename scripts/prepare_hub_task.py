"""Rule prepare_hub_task (offline): a downloaded task folder -> resources/data/hub/task~<task>/, with the
machine-translated shards merged (MT control) and the MLM corpus sampled by temperature (xstilts.data.prepare)."""
import re
from collections import defaultdict
from pathlib import Path

from xstilts.data.prepare import prepare_task
from xstilts.snake import start

log = start(snakemake)
task = snakemake.wildcards.task
shards = defaultdict(list)
for p in snakemake.input.shards:  # .../lang~<l>/shard~KK-of-NN.jsonl.gz, in shard order
    shards[re.search(r"lang~([^/]+)/shard~", p).group(1)].append(Path(p))
meta = prepare_task(task, Path(snakemake.input.download).parent, Path(snakemake.output[0]).parent,
                    translations=dict(shards) or None,
                    mlm=snakemake.params.mlm_corpus if task == "mlm_corpus" else None, log=log.info)
log.info(f"{task}: languages {meta['languages']}")
