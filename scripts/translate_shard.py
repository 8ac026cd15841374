"""Rule translate_shard: machine-translate shard k of n of an MT-control task's English training set into one
language (xstilts.data.translate; GPU when present). prepare_hub_task merges the shards in order."""
import re

from xstilts import records as R
from xstilts.data import translate as X
from xstilts.snake import start

log = start(snakemake)
w = snakemake.wildcards
k, n = map(int, re.fullmatch(r"(\d+)-of-(\d+)", w.shard).groups())
recs = R.read_jsonl(snakemake.params.english)  # the English training set the download wrote
part = X.shard(recs, k, n)
cfg = dict(snakemake.params.mt, model=snakemake.input.model)  # the local folder download_mt_model filled
tr = X.make_translator(cfg, w.lang, log=log.info)
out, report = X.translate_records(w.task, part, tr, w.lang, log=log.info)
X.write_shard(snakemake.output.shard, out, report)  # and its report beside it (output.report)
log.info(f"{w.task} -> {w.lang} shard {w.shard}: {report['examples_in']} in, {report['examples_out']} out")
