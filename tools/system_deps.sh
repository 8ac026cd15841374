#!/usr/bin/env bash
# System (Debian) packages that some marked tests need, installed once, here and never by a test:
#   tex    latexmk + TeX Live base (xstilts.report.latex.APT_PACKAGES) and poppler-utils (pdftotext):
#          tests/test_outputs.py compiles the paper and reads its text back
#   slurm  slurm-wlm + munge (tools/local_slurm.sh install): tests/test_slurm.py submits to a local cluster
# Needs root and apt-get. Without them it says what it left out, and exits 0: those tests then skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "system_deps: not root or no apt-get: TeX and SLURM not installed (tests marked tex/slurm will skip)"
    exit 0
fi
start=$SECONDS
if ! command -v latexmk >/dev/null; then
    python -m xstilts.report.latex --install
fi
if ! command -v pdftotext >/dev/null; then   # reads the compiled PDF back in tests/test_outputs.py
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
fi
tools/local_slurm.sh install
echo "system_deps: latexmk $(command -v latexmk || echo missing), pdftotext $(command -v pdftotext || echo missing), slurmctld $(command -v slurmctld || echo missing)" \
     "($((SECONDS - start)) s)"
