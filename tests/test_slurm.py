"""profiles/slurm against a real one-node SLURM (tools/local_slurm.sh): the small embedded run goes through
sbatch, its results equal a local run's, and a job that fails on its first attempt is retried and succeeds.

Needs root and slurm-wlm + munge installed (tools/system_deps.sh installs them; a test never does): it starts
the daemons. Elsewhere the tests skip and say why. Marked `slurm` (and `slow`): run with -m slurm.
"""
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from workflow import copy_workflow, snakemake, tidy_values

SCRIPT = REPO / "tools/local_slurm.sh"
PROFILE = REPO / "profiles/slurm"
GPU_RULES = {"train_intermediate", "finetune_target", "embed_sentences", "retrieve_sentences"}
# the job the test makes fail once: cheap, and a CPU rule, so its runtime comes from default-resources
FAIL_RULE, FAIL_WILDCARD = "perturb_testset", "xnli_all"  # the plugin names log folders by wildcard values
INJECTED = "injected failure (test_slurm): first attempt of perturb_testset xnli"


def _run(*args, timeout=60):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("SLURM tests need root: tools/local_slurm.sh starts the munge and slurm daemons")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -r requirements-test.txt)")
    missing = [b for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue") if not shutil.which(b)]
    if missing:  # tests never install system packages: tools/system_deps.sh does, once (tools/test_all.sh)
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): run tools/system_deps.sh first")
    was_up = _run(str(SCRIPT), "status").returncode == 0
    r = _run(str(SCRIPT), "up", timeout=600)
    if r.returncode != 0:
        pytest.fail(f"tools/local_slurm.sh up failed:\n{r.stdout}{r.stderr}")
    yield
    if not was_up:
        _run(str(SCRIPT), "down")


def _override_profile(d: Path) -> Path:
    """profiles/slurm's own per-rule resources with sizes that fit this one node, plus what a cluster
    without accounting needs. A second --profile replaces a key wholesale, so set-resources is rebuilt
    from the real profile: partitions and runtime expressions stay as the user gets them."""
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    set_res = {}
    for rule, res in prof["set-resources"].items():
        res = dict(res)
        if "mem_mb" in res:
            res["mem_mb"] = 2000
        if "cpus_per_task" in res:
            res["cpus_per_task"] = 1
        set_res[rule] = res
    over = {
        # accounting storage is disabled: sacct knows nothing, squeue does (MinJobAge=600 keeps ended jobs)
        "slurm-status-command": "squeue",
        # jobs here take seconds: poll soon instead of after the plugin's default 40 s
        "slurm-init-seconds-before-status-checks": 2,
        # the test reads the SLURM job logs of successful jobs too
        "slurm-keep-successful-logs": True,
        "latency-wait": 5,
        "jobs": 4,
        "set-resources": set_res,
    }
    p = d / "override"
    p.mkdir()
    (p / "config.yaml").write_text(yaml.safe_dump(over))
    return p


def _inject_first_attempt_failure(d: Path) -> None:
    """Test-only, in the scratch copy: perturb_testset for xnli exits non-zero the first time it runs
    (a marker file remembers), as a node failure would."""
    script = d / "scripts/perturb_testset.py"
    hook = ("import pathlib as _p, sys as _s\n"
            "_m = _p.Path('injected_failure.marker')\n"
            "if snakemake.wildcards.ttask == 'xnli' and not _m.exists():\n"
            "    _m.write_text('failed once\\n')\n"
            f"    _s.exit({INJECTED!r})\n")
    text = script.read_text()
    doc_end = text.index('"""', 3) + 3  # after the module docstring
    script.write_text(text[:doc_end] + "\n" + hook + text[doc_end:])


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    d = copy_workflow(tmp_path_factory.mktemp("run_slurm"), "embedded-one-task")
    _inject_first_attempt_failure(d)
    over = _override_profile(d)
    r = snakemake(d, "--profile", str(PROFILE), "--profile", str(over), timeout=2400,
                  env={"SLURM_CPU_PARTITION": "cpu", "SLURM_GPU_PARTITION": "gpu"}, slurm=True)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    return d, r.stdout + r.stderr


def _slurm_jobs(d: Path) -> dict:
    """rule folder -> [(SLURM job id, log path)], oldest first, from .snakemake/slurm_logs."""
    out = {}
    for log in (d / ".snakemake/slurm_logs").rglob("*.log"):
        rule = log.relative_to(d / ".snakemake/slurm_logs").parts[0]
        out.setdefault(rule, []).append((int(log.stem), log))
    return {k: sorted(v) for k, v in out.items()}


def _squeue(job_ids) -> dict:
    """job id -> (partition, time limit, state), from slurmctld (ended jobs stay MinJobAge = 3600 s)."""
    r = _run("squeue", "-h", "-t", "all", "-j", ",".join(map(str, job_ids)), "-o", "%i|%P|%l|%T")
    assert r.returncode == 0, r.stderr
    info = {int(i): (p, lim, st) for i, p, lim, st in (ln.split("|") for ln in r.stdout.split())}
    gone = set(job_ids) - set(info)
    assert not gone, f"jobs {sorted(gone)} no longer known to slurmctld (ended more than MinJobAge ago?)"
    return info


@pytest.mark.slow
@pytest.mark.slurm
def test_jobs_went_through_sbatch_to_the_profiles_partitions(slurm_run):
    d, out = slurm_run
    submitted = {int(m) for m in re.findall(r"submitted with SLURM jobid (\d+)", out)}
    jobs = _slurm_jobs(d)
    # every compute rule ran as a SLURM job; localrules (generate_micro, aggregate, tables) did not
    assert {f"rule_{r}" for r in ("train_tokenizer", "pretrain_encoder", "perturb_testset",
                                   "train_intermediate", "finetune_target", "retrieve_sentences")} <= set(jobs)
    assert not {"rule_generate_micro", "rule_aggregate_results", "rule_make_tables"} & set(jobs)
    ids = {i for v in jobs.values() for i, _ in v}
    assert ids == submitted, "job ids in .snakemake/slurm_logs and in snakemake's log disagree"
    info = _squeue(ids)
    for rule, v in jobs.items():
        want = "gpu" if rule[len("rule_"):] in GPU_RULES else "cpu"
        for i, _ in v:
            assert info[i][0] == want, (rule, i, info[i])
    # 16 compute jobs of the small config (tokenizer, homoglyph table, 2 encoders, 4 perturbation jobs,
    # 1 intermediate model, 3 fine-tuning, 1 embedding job for all 3 encoders (bundle_embeddings on in
    # config.yaml) and 3 retrieval jobs) + the one injected retry
    assert len(ids) == 17, sorted(ids)


@pytest.mark.slow
@pytest.mark.slurm
def test_slurm_results_equal_the_local_run(slurm_run, small_run_a):
    d, _ = slurm_run
    a, c = tidy_values(small_run_a), tidy_values(d)
    assert a.keys() == c.keys()
    moved = {k: (a[k], c[k]) for k in a if a[k] != c[k]}
    assert not moved, f"{len(moved)} measurements differ between local and SLURM, e.g. {list(moved.items())[:3]}"


@pytest.mark.slow
@pytest.mark.slurm
def test_a_job_failing_on_its_first_attempt_is_retried_with_more_time(slurm_run):
    d, out = slurm_run
    # the plugin files logs as slurm_logs/rule_<rule>/<wildcard values>/<job id>.log
    tries = [(i, log) for i, log in _slurm_jobs(d)[f"rule_{FAIL_RULE}"] if log.parent.name == FAIL_WILDCARD]
    assert len(tries) == 2, tries
    (first, first_log), (second, _) = tries
    assert INJECTED in first_log.read_text()
    info = _squeue([first, second])
    assert info[first][2] == "FAILED" and info[second][2] == "COMPLETED", info
    # runtime "60 * attempt" of the profile's default-resources: one hour, then two
    assert (info[first][1], info[second][1]) == ("1:00:00", "2:00:00"), info
    assert (d / "resources/perturbed/task~xnli/family~all/manifest.json").exists()
