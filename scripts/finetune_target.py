"""Rule finetune_target: phase 3 for one or all targets; metrics of every language, clean and perturbed."""
from xstilts.perturb.attack import write_adversarial
from xstilts.records import write_examples
from xstilts.snake import start, write_json

log = start(snakemake)
from xstilts.train.jobs import checkpoint_dir, checkpointer, finetune_evaluate  # noqa: E402

w = snakemake.wildcards
ckpt = checkpoint_dir(snakemake.config, snakemake.output.metrics)  # resumable state survives a killed job
res = finetune_evaluate(snakemake.config, w.itask, snakemake.params.ttasks, snakemake.input.encoder,
                        snakemake.params.data, snakemake.params.perturbed, int(w.seed), snakemake.threads,
                        log=log.info, ckpt_dir=ckpt, adversarial_in=(snakemake.input.adversarial or [None])[0])
res["wildcards"] = dict(w.items())
# examples first: metrics.json is the rule's "done" marker readers look for
write_examples(snakemake.output.examples, res.pop("examples"))
# this model's adversarial examples (the baseline's are transferred to the other intermediate models)
write_adversarial(snakemake.output.adversarial, res.pop("adversarial"))
write_json(snakemake.output.metrics, res)
checkpointer(snakemake.config, ckpt).clear()  # outputs written: the training states are no longer needed
