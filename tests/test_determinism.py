"""Two clean runs of .test/embedded-one-task on CPU give byte-identical tables, claims and tidy results."""
import hashlib

import pytest

from workflow import PAPER_TEXT, run_workflow, tidy_values


@pytest.fixture(scope="module")
def small_run_b(tmp_path_factory):
    return run_workflow(tmp_path_factory.mktemp("run_b"), "embedded-one-task")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("rel", PAPER_TEXT + ["results/tidy.tsv", "results/inventory.json"])
def test_clean_runs_are_byte_identical(small_run_a, small_run_b, rel):
    a, b = small_run_a / rel, small_run_b / rel
    assert a.stat().st_size > 0, rel
    assert _digest(a) == _digest(b), f"{rel} differs between two clean runs ({small_run_a} vs {small_run_b})"


@pytest.mark.slow
def test_clean_runs_measure_the_same_values(small_run_a, small_run_b):
    # redundant with the bytes above when they pass; when they fail, this names the measurements that moved
    a, b = tidy_values(small_run_a), tidy_values(small_run_b)
    assert a.keys() == b.keys()
    moved = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert not moved, f"{len(moved)} measurements differ, e.g. {list(moved.items())[:3]}"
