"""Rule freeze: copy the run's tidy results, inventory and significance table into paper/frozen/ (checked)."""
from pathlib import Path

from xstilts.snake import start

log = start(snakemake)
from xstilts.report.frozen import freeze  # noqa: E402

written = freeze(Path(snakemake.input.tidy).parent, snakemake.params.frozen)
log.info("froze " + ", ".join(map(str, written)) + "; commit paper/frozen/")
