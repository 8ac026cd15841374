"""Safety rules, checked on the source: no remote code, weights only as safetensors (nothing unpickled), and
no config string ever reaches a shell (rules use `script:`, Python starts processes with argument lists).

Each checker is also run on a small bad snippet, so a checker that stopped finding anything would fail here.
"""
from __future__ import annotations

import ast
import re

import pytest

from conftest import REPO

CODE_DIRS = ("xstilts", "scripts", "benchmarks", "tools")
RULE_FILES = sorted((REPO / "rules").glob("*.smk")) + [REPO / "Snakefile"]


def _py_files():
    return sorted(p for d in CODE_DIRS for p in (REPO / d).rglob("*.py"))


def _code_files():
    return _py_files() + RULE_FILES + sorted((REPO / "tools").glob("*.sh"))


# --- 1. remote code --------------------------------------------------------------------------------------
def remote_code_hits(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if "trust_remote_code" in ln]


# --- 2. pickles and non-safetensors weights --------------------------------------------------------------
PICKLE_PATTERNS = [
    (re.compile(r"\btorch\.(load|save)\s*\("), "torch.load/torch.save (pickle)"),
    (re.compile(r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve)\b", re.M), "pickle-based module"),
    (re.compile(r"safe_serialization\s*=\s*False"), "safe_serialization=False"),
    (re.compile(r"use_safetensors\s*=\s*False"), "use_safetensors=False"),
    (re.compile(r"allow_pickle\s*=\s*True"), "numpy allow_pickle=True"),
    (re.compile(r"weights_only\s*=\s*False"), "torch weights_only=False"),
    (re.compile(r"pytorch_model\.bin|\*\.bin\b|\.pt['\"]|\.pth['\"]|\.ckpt['\"]"), "a pickled checkpoint file"),
]


def pickle_hits(text: str) -> list[str]:
    return [why for rx, why in PICKLE_PATTERNS if rx.search(text)]


def model_loads_without_safetensors(tree: ast.AST) -> list[int]:
    """Lines where a model class's from_pretrained is called without use_safetensors=True (transformers would
    fall back to unpickling pytorch_model.bin). Tokenizers and configs hold no weights."""
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "from_pretrained"):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
        if "Tokenizer" in name or "Config" in name or "Processor" in name:
            continue
        ok = any(k.arg == "use_safetensors" and isinstance(k.value, ast.Constant) and k.value.value is True
                 for k in node.keywords)
        if not ok:
            bad.append(node.lineno)
    return bad


# --- 3. shells -------------------------------------------------------------------------------------------
def rule_shell_hits(text: str) -> list[str]:
    """Rules must run Python through `script:`; `shell:` (and `run:` blocks that could shell out) would put
    config values into a command line."""
    return [ln.strip() for ln in text.splitlines() if re.match(r"\s*(shell|run)\s*:", ln)]


def rules_without_script(text: str) -> list[str]:
    # target-only rules (all, tables, download) have inputs and nothing to run
    out, rule, has_script = [], None, False
    for ln in text.splitlines() + ["rule _end:"]:
        m = re.match(r"\s*rule\s+(\w+)\s*:", ln)
        if m:
            if rule and not has_script and rule not in ("all", "tables", "download"):
                out.append(rule)
            rule, has_script = m.group(1), False
        elif rule and re.match(r"\s*script\s*:", ln):
            has_script = True
    return out


def process_calls_with_shell(tree: ast.AST) -> list[int]:
    """os.system/os.popen, shell=True, or a subprocess call whose command is a string (shell-parsed)."""
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        dotted = f"{getattr(f.value, 'id', '')}.{f.attr}" if isinstance(f, ast.Attribute) else ""
        if dotted in ("os.system", "os.popen"):
            bad.append(node.lineno)
        if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
               for k in node.keywords):
            bad.append(node.lineno)
        if dotted.startswith("subprocess.") and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
            bad.append(node.lineno)
    return bad


def test_the_scan_covers_the_code():
    names = {p.name for p in _code_files()}
    assert {"modeling.py", "jobs.py", "finetune_target.py", "common.smk", "finetune.smk", "Snakefile"} <= names


@pytest.mark.parametrize("path", _code_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_remote_code_no_pickles(path):
    text = path.read_text(encoding="utf-8")
    assert not remote_code_hits(text), f"{path}: trust_remote_code: {remote_code_hits(text)}"
    assert not pickle_hits(text), f"{path}: {pickle_hits(text)}"


@pytest.mark.parametrize("path", _py_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_models_load_safetensors_only_and_no_shell(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert not model_loads_without_safetensors(tree), \
        f"{path}: from_pretrained without use_safetensors=True at lines {model_loads_without_safetensors(tree)}"
    assert not process_calls_with_shell(tree), f"{path}: shell command at lines {process_calls_with_shell(tree)}"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rules_use_script_never_shell(path):
    text = path.read_text(encoding="utf-8")
    assert not rule_shell_hits(text), f"{path}: {rule_shell_hits(text)}"
    assert not rules_without_script(text), f"{path}: rules without script: {rules_without_script(text)}"


def test_checkers_find_violations():
    bad_py = ("import pickle\nimport subprocess, os\n"
              "m = AutoModel.from_pretrained(p, trust_remote_code=True)\n"
              "m.save_pretrained(p, safe_serialization=False)\nsd = torch.load('x.pt')\n"
              "os.system(f\"cp {config['x']} y\")\nsubprocess.run(f\"ls {d}\")\nsubprocess.run(['ls'], shell=True)\n")
    assert remote_code_hits(bad_py)
    assert {"pickle-based module", "safe_serialization=False", "torch.load/torch.save (pickle)"} <= set(pickle_hits(bad_py))
    tree = ast.parse(bad_py)
    assert model_loads_without_safetensors(tree) == [3]
    assert sorted(set(process_calls_with_shell(tree))) == [6, 7, 8]
    ok = ast.parse("AutoModel.from_pretrained(p, use_safetensors=True)\nAutoTokenizer.from_pretrained(p)\n"
                   "subprocess.run(['git', 'status'], capture_output=True)\n")
    assert not model_loads_without_safetensors(ok) and not process_calls_with_shell(ok)
    smk = 'rule a:\n    output: "x"\n    shell: "echo {config[x]} > {output}"\nrule b:\n    script: "s.py"\n'
    assert rule_shell_hits(smk) and rules_without_script(smk) == ["a"]
