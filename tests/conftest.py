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
