"""A bad config is refused before any job starts, with the offending key named."""

import pytest
import yaml

from conftest import REPO
from workflow import snakemake


def dry_run(tmp_path, extra: dict | None = None, configfile=None):
    # --forceall: plan every job even where a local run already left outputs
    files = None
    if extra is not None:
        p = tmp_path / "bad.yaml"
        p.write_text(yaml.safe_dump(extra))
        files = ("config.yaml", str(p))
    if configfile:
        files = (str(configfile),)
    return snakemake(REPO, "-n", "--forceall", "--quiet", "rules", configfiles=files, timeout=120)


@pytest.mark.parametrize("extra, needle", [
    ({"seedz": [1]}, "seedz"),  # misspelled top-level key
    ({"retrieval": {"layr": 3}}, "layr"),  # misspelled nested key
    ({"seeds": "one"}, "seeds"),  # wrong type
    ({"train": {"defaults": {"lr": -0.1}}}, "lr"),  # negative learning rate
    ({"targets": ["xnli", "xnlj"]}, "xnlj"),  # unknown task
    ({"languages": []}, "languages"),  # empty language list
])
def test_bad_config_refused_with_key_named(tmp_path, extra, needle):
    r = dry_run(tmp_path, extra)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert needle in out, out[-2000:]
    assert "rule " not in r.stdout  # nothing was planned, let alone run


def test_unknown_task_in_cross_field_check(tmp_path):
    r = dry_run(tmp_path, {"perturb": {"tasks": ["bucc"]}})
    assert r.returncode != 0 and "perturb.tasks[0]" in r.stdout + r.stderr


def test_default_config_plans(tmp_path):
    r = dry_run(tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "finetune_target" in r.stdout and "retrieve_sentences" in r.stdout


def test_paper_config_plans_full_grid(tmp_path):
    r = snakemake(REPO, "-n", "--forceall", configfiles=("config/paper.yaml",), timeout=180)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    stats = r.stdout[r.stdout.index("Job stats"):]
    counts = {l.split()[0]: int(l.split()[1]) for l in stats.splitlines()[3:] if len(l.split()) == 2
              and l.split()[1].isdigit()}
    # 8 available intermediate tasks (CCG needs CCGbank) + multitask + 2 controls
    assert counts["train_intermediate"] == 11
    # (baseline + 11) encoders x 6 fine-tuning units x 3 seeds: XQuAD and MLQA share one SQuAD-trained job
    assert counts["finetune_target"] == 12 * 6 * 3
    assert "ttask~squad" in r.stdout and "ttask~xquad" not in r.stdout and "ttask~mlqa" not in r.stdout
    assert counts["retrieve_sentences"] == 12
    assert counts["embed_sentences"] == 12  # each encoder embeds once; scoring reads the stored vectors
    # per-rule resources at paper scale come from the rules themselves (rules/common.smk RULE_RESOURCES),
    # not only from profiles/slurm: a cluster run without that profile still asks for a day and 64 GB
    import re
    plan = {}
    for block in r.stdout.split("\nrule ")[1:]:
        res = re.search(r"resources: (.*)", block)
        plan.setdefault(block.split(":", 1)[0], res.group(1) if res else "")
    assert "runtime=1440" in plan["train_intermediate"] and "mem_mb=64000" in plan["train_intermediate"]
    assert "runtime=720" in plan["finetune_target"] and "mem_mb=48000" in plan["finetune_target"]
    assert "mem_mb=64000" in plan["embed_sentences"] and "gpu=1" in plan["retrieve_sentences"]


@pytest.mark.parametrize("path", ["config.yaml", "config/paper.yaml"])
def test_each_config_is_complete_on_its_own(path):
    """The Snakefile reads config.yaml only when no --configfile is given, so each file must validate alone
    (no embedded setting may leak into a paper run through Snakemake's deep merge)."""
    from snakemake.utils import validate

    from xstilts import config as C
    cfg = yaml.safe_load((REPO / path).read_text())
    validate(cfg, str(REPO / "rules/schemas/config.schema.yaml"))
    C.check(cfg)
    if path != "config.yaml":
        assert "micro" not in cfg["data"] and "arch" not in cfg["model"]


def test_paper_config_dry_run_lists_every_variant_target_and_seed(tmp_path):
    """With CCGbank supplied: 9 single intermediate tasks + multi-task + MLM control + MT control, each (and the
    baseline) fine-tuned on all 7 trainable targets with 3 seeds: one job per target, XQuAD and MLQA together."""
    from xstilts import tasks as T
    (tmp_path / "ccg.yaml").write_text("data:\n  ccgbank_path: /data/ccgbank_1_1\n")
    r = snakemake(REPO, "-n", "--forceall", configfiles=("config/paper.yaml", str(tmp_path / "ccg.yaml")),
                  timeout=180)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    jobs, rule = set(), None
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("rule ") and line.endswith(":"):
            rule = line[5:-1]
        elif line.startswith("wildcards:") and rule in ("finetune_target", "train_intermediate"):
            w = dict(kv.split("=", 1) for kv in line[len("wildcards:"):].strip().split(", "))
            jobs.add((rule, w["itask"], w.get("ttask"), w["seed"]))
    variants = set(T.INTERMEDIATE_TASKS) | {"multitask", "mlm_control", "mt_control"}
    assert len(variants) == 12
    assert {j[1] for j in jobs if j[0] == "train_intermediate"} == variants
    targets = {"xnli", "pawsx", "udpos", "panx", "squad", "tydiqa"}  # squad: XQuAD and MLQA in one job
    want = {("finetune_target", i, t, s) for i in variants | {"baseline"} for t in targets for s in ("1", "2", "3")}
    assert {j for j in jobs if j[0] == "finetune_target"} == want


def test_schema_task_and_family_enums_match_the_registries():
    """The config schema's enums are hand-written YAML; they must list exactly the registry's names
    (xstilts/tasks.py, xstilts/perturb/core.py), or a new task is refused or a removed one accepted."""
    from xstilts.perturb import core as P
    from xstilts import tasks as T
    schema = yaml.safe_load((REPO / "rules/schemas/config.schema.yaml").read_text())
    d = schema["definitions"]
    assert d["itask_name"]["enum"] == T.INTERMEDIATE_TASKS
    assert d["target_name"]["enum"] == T.TARGET_TASKS
    assert d["phase_name"]["enum"] == ["baseline"] + T.INTERMEDIATE_TASKS + [
        t for t in T.SPECIAL_ITASKS if t != "baseline"]
    trainable = [t for t in T.TARGET_TASKS if t in T.TRAINABLE_TARGETS]
    assert d["hparams_by_task"]["propertyNames"]["enum"] == ["_all", "multitask"] + T.INTERMEDIATE_TASKS + trainable
    fam = schema["properties"]["perturb"]["properties"]["families"]["items"]["enum"]
    assert sorted(fam) == sorted(P.FAMILIES)
