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


# Session-wide local run of the small embedded config, shared by test_determinism.py and test_slurm.py
import workflow_runs  # noqa: E402

small_run_a = workflow_runs.small_run_a
