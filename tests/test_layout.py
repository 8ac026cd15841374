"""The package layout: one subpackage per stage, imports without cycles, long modules say why.

The import graph counts every `import` / `from ... import` of an xstilts module in the source, the ones
inside functions too: a lazy import hides a cycle from Python at import time, not from a reader.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "xstilts"
STAGES = ("data", "models", "train", "perturb", "retrieve", "report")
LONG = 620  # lines ("about 600", issue 20); a longer module states why in its docstring, after "Why one module"


def _modules(root: Path = ROOT) -> dict[str, Path]:
    out = {}
    for p in sorted(root.rglob("*.py")):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the xstilts modules its source imports (a `from pkg import name` counts as an import of
    `pkg.name` when that is a module, else of `pkg`)."""
    mods = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    src = ".".join(base + ([node.module] if node.module else []))
                else:
                    src = node.module or ""
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in mods else src for a in node.names]
            for t in targets:
                while t and t not in mods:  # `import xstilts.a.b.c` of a function path: its module
                    t = t.rpartition(".")[0]
                if t and t != mod and t.startswith("xstilts"):
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_library_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_one(tmp_path):
    """The check above can fail: two modules that import each other (one lazily) are a cycle."""
    pkg = tmp_path / "xstilts"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text("")
    (pkg / "stage" / "a.py").write_text("from xstilts.stage import b\n")
    (pkg / "stage" / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    (pkg / "c.py").write_text("from xstilts.stage.a import thing\n")
    graph = import_graph(pkg)
    assert graph["xstilts.c"] == {"xstilts.stage.a"}
    assert cycles(graph) == [["xstilts.stage.a", "xstilts.stage.b"]]


def test_the_shared_core_imports_no_stage_but_config_reads_the_source_tables():
    """tasks, records, env, snake and stats sit under every stage; config checks a config against the hub
    source table and the micro world's languages."""
    graph = import_graph()
    allowed = {"xstilts.config": {"xstilts.data.sources", "xstilts.data.micro.world"}}
    for mod in ("xstilts.tasks", "xstilts.records", "xstilts.config", "xstilts.env", "xstilts.snake",
                "xstilts.stats"):
        stages = {t for t in graph[mod] if t.split(".")[1] in STAGES}
        assert stages <= allowed.get(mod, set()), (mod, stages)


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_says_what_it_takes_and_gives(stage):
    doc = ast.get_docstring(ast.parse((ROOT / stage / "__init__.py").read_text())) or ""
    assert "Takes:" in doc and "Gives:" in doc, stage


def test_long_modules_say_why():
    long = {m: p for m, p in _modules().items() if len(p.read_text().splitlines()) > LONG}
    unexplained = [m for m, p in long.items()
                   if "Why one module" not in (ast.get_docstring(ast.parse(p.read_text())) or "")]
    assert unexplained == []
