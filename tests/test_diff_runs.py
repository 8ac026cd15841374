"""tools/diff_runs.py: two runs' outputs compared byte for byte with only the recorded code revision masked."""
import shutil
import subprocess
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import diff_runs  # noqa: E402  (tools/diff_runs.py)

HEADER = "encoder\titask\tttask\tlang\tsplit\tseed\tfamily\tseverity\tmetric\tvalue\tn\tscale\tmodel_id\tconfig_hash\tgit_rev\n"


def _run(root, rev, value="56.0"):
    (root / "results").mkdir(parents=True)
    (root / "paper/tables").mkdir(parents=True)
    (root / "results/tidy.tsv").write_text(
        HEADER + f"pretrained\tbaseline\txnli\ten\tdev\t1\tclean\t0.0\taccuracy\t{value}\t100\tembedded\tm\th\t{rev}\n")
    for rel in diff_runs.FILES[1:]:
        (root / rel).write_text(f"% git_rev={rev}\nsame line\n")
    (root / "paper/tables/dev_deltas.tex").write_text(f"% scale=embedded git_rev={rev}\n$+1.2$ \\\\\n")
    return root


def test_runs_differing_only_in_their_revision_are_identical(tmp_path):
    a, b = _run(tmp_path / "a", "c91105cd9cc1"), _run(tmp_path / "b", "0ed0cf9aa111-dirty")
    assert diff_runs.differences(a, b) == []
    r = subprocess.run([sys.executable, str(REPO / "tools/diff_runs.py"), str(a), str(b)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "8 files identical" in r.stdout, r.stdout + r.stderr


def test_a_changed_number_or_a_missing_table_is_named(tmp_path):
    a, b = _run(tmp_path / "a", "aaa"), _run(tmp_path / "b", "bbb", value="56.1")
    (b / "paper/tables/dev_deltas.tex").write_text("% scale=embedded git_rev=bbb\n$+1.3$ \\\\\n")
    shutil.copy(a / "paper/tables/dev_deltas.tex", a / "paper/tables/extra.tex")
    diff = diff_runs.differences(a, b)
    assert diff == [
        "paper/tables/dev_deltas.tex:2: " + repr("$+1.2$ \\\\") + " != " + repr("$+1.3$ \\\\"),
        f"paper/tables/extra.tex: only in {a}",
        "results/tidy.tsv:2: " + repr("pretrained\tbaseline\txnli\ten\tdev\t1\tclean\t0.0\taccuracy\t56.0\t100\tembedded\tm\th\t"
                                      "<git_rev>") + " != " +
        repr("pretrained\tbaseline\txnli\ten\tdev\t1\tclean\t0.0\taccuracy\t56.1\t100\tembedded\tm\th\t<git_rev>"),
    ], diff
    r = subprocess.run([sys.executable, str(REPO / "tools/diff_runs.py"), str(a), str(b)], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "3 of 9 files differ" in r.stderr
