#!/usr/bin/env bash
# The whole test suite, as CI runs it (README command 2): system packages once, the static checks, the fast
# loop, then the marked tests. A contributor's fast loop is `python -m pytest -q` alone (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "== $1 ($(date -u +%T))"; }

step "system packages for the tex and slurm tests"
tools/system_deps.sh
step "dependencies: committed requirement files and conda envs match pyproject.toml, one faiss per install path"
python tools/deps.py --check
step "snakemake --lint"
snakemake --lint
step "snakefmt --check"
snakefmt --check Snakefile rules
step "fast loop: python -m pytest -q"
start=$SECONDS
python -m pytest -q
echo "== fast loop finished in $((SECONDS - start)) s"
step "marked tests: whole-DAG runs, the small profile, SLURM, TeX"
start=$SECONDS
python -m pytest -q -m "slow or small or slurm or tex"
echo "== marked tests finished in $((SECONDS - start)) s"
step "dependencies as pip resolves them (package index, metadata only): one faiss per install path"
python tools/deps.py --resolve
