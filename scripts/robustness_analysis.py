"""Rule robustness_analysis: robustness tables and the severity figure from the per-example results."""
from pathlib import Path

from xstilts.report import load_inventory, load_tidy
from xstilts.report.robustness import load_examples, write_analysis
from xstilts.snake import start

log = start(snakemake)
ex = load_examples(snakemake.input.examples)
log.info(f"{len(ex)} per-example rows from {len(snakemake.input.examples)} files")
paths = write_analysis(ex, load_tidy(snakemake.input.tidy), Path(snakemake.output[0]).parents[1],
                       load_inventory(snakemake.input.inventory))
missing = [p for p in snakemake.output if not Path(p).exists()]
if missing:
    raise RuntimeError(f"robustness analysis did not write {missing}")
log.info(f"wrote {len(paths)} files")
