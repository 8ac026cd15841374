"""Rule make_tables: LaTeX tables, the claims table, numbers and figures, from the tidy table, the inventory and
the significance table (this run's or the frozen copy; rules/paper.smk chooses)."""
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)
from xstilts.report import load_inventory, make_all  # noqa: E402
from xstilts.report.frozen import check_manifest, validate_tidy_file  # noqa: E402
from xstilts.report.significance import read_significance  # noqa: E402

log.info(f"source: {snakemake.params.source}")
if Path(snakemake.input.tidy).parent == Path(snakemake.params.frozen):
    check_manifest(snakemake.params.frozen)
tidy = validate_tidy_file(snakemake.input.tidy)
paths = make_all(tidy, load_inventory(snakemake.input.inventory), snakemake.params.outdir,
                 read_significance(snakemake.input.significance))
missing = [p for p in snakemake.output if not Path(p).exists()]
if missing:
    raise RuntimeError(f"make_all did not write {missing}")
log.info(f"wrote {len(paths)} files")
