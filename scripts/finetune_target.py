"""Rule finetune_target: phase 3 for one or all targets; metrics of every language, clean and perturbed."""
from xstilts.snake import start, write_json

log = start(snakemake)
from xstilts.jobs import finetune_evaluate  # noqa: E402

w = snakemake.wildcards
res = finetune_evaluate(snakemake.config, w.itask, snakemake.params.ttasks, snakemake.input.encoder,
                        snakemake.params.data, "resources/perturbed", int(w.seed), snakemake.threads,
                        log=log.info)
res["wildcards"] = dict(w.items())
write_json(snakemake.output.metrics, res)
