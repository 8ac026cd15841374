"""Rule compile_paper: paper/main.tex -> paper/main.pdf with latexmk (the rule exists only when latexmk does)."""
from xstilts.snake import start

log = start(snakemake)
from xstilts.report.latex import compile_pdf  # noqa: E402

log.info(f"wrote {compile_pdf(snakemake.input.tex, snakemake.output.pdf)}")
