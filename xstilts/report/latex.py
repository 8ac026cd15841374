"""Compiling paper/main.tex: find latexmk, install a minimal TeX toolchain where we may, build the PDF.

The toolchain is optional. The default run builds `paper/main.pdf` only when `latexmk` is on PATH (rule
`compile_paper` writes a note instead otherwise), and the test that compiles the paper installs the packages
below when it runs as root on a Debian/Ubuntu machine with apt (so CI needs no extra step), else skips and says
why. `python -m xstilts.report.latex --install` does the same install by hand and prints how long it took.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The smallest Debian set that builds main.tex (booktabs, geometry, graphicx, amssymb, T1 fonts), installed
# without recommends: texlive-latex-recommended holds booktabs; -fonts-recommended the Type 1 fonts pdflatex
# embeds; latexmk pulls texlive-latex-base and texlive-binaries.
APT_PACKAGES = ("latexmk", "texlive-latex-base", "texlive-latex-recommended", "texlive-fonts-recommended")


def latexmk() -> str | None:
    return shutil.which("latexmk")


def can_install() -> tuple[bool, str]:
    """(True, "") when an apt install is possible here, else (False, the reason)."""
    if latexmk():
        return False, "latexmk is already installed"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False, "latexmk is not installed and we are not root, so the TeX toolchain cannot be installed"
    if not shutil.which("apt-get"):
        return False, "latexmk is not installed and there is no apt-get to install it with"
    return True, ""


def install(timeout: int = 1800) -> float:
    """apt-get install APT_PACKAGES (no recommends); returns the seconds it took. Raises RuntimeError with
    apt's output on failure."""
    ok, why = can_install()
    if not ok:
        raise RuntimeError(why)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    t0 = time.monotonic()
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
    if not latexmk():
        raise RuntimeError(f"installed {APT_PACKAGES} but latexmk is still not on PATH")
    return time.monotonic() - t0


def compile_pdf(tex: Path, out_pdf: Path | None = None, timeout: int = 600) -> Path:
    """latexmk -pdf in the .tex file's folder (so \\input and \\includegraphics paths are relative to it), aux
    files in a temporary folder there, the PDF moved into place (default: beside the .tex) only when the build
    succeeded. Raises RuntimeError with the tail of the LaTeX log on failure."""
    tex = Path(tex).resolve()
    out_pdf = Path(out_pdf).resolve() if out_pdf else tex.with_suffix(".pdf")
    exe = latexmk()
    if not exe:
        raise RuntimeError("latexmk not found on PATH")
    build = Path(tempfile.mkdtemp(dir=tex.parent, prefix=".latexmk-"))
    try:
        cmd = [exe, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               f"-outdir={build}", tex.name]
        r = subprocess.run(cmd, cwd=tex.parent, capture_output=True, text=True, timeout=timeout)
        pdf = build / tex.with_suffix(".pdf").name
        if r.returncode != 0 or not pdf.exists():
            log = build / tex.with_suffix(".log").name
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else (r.stdout + r.stderr)[-3000:]
            raise RuntimeError(f"latexmk failed on {tex} ({r.returncode}):\n{tail}")
        out_pdf.parent.mkdir(parents=True, exist_ok=True)
        os.replace(pdf, out_pdf)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return out_pdf


if __name__ == "__main__":  # python -m xstilts.report.latex --install
    if "--install" in sys.argv[1:]:
        print(f"installed {' '.join(APT_PACKAGES)} in {install():.0f} s")
    print(f"latexmk: {latexmk()}")
