"""The layers are a contract: import-linter's `layers` contract in pyproject.toml, and no import
cycle anywhere in the package (lazy imports inside functions count too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_contract_holds():
    result = _lint(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "reviewtui", copy / "reviewtui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    store = copy / "reviewtui" / "store.py"
    store.write_text(store.read_text(encoding="utf-8") + "\n\ndef _upward():\n    import reviewtui.workspace\n",
                     encoding="utf-8")
    result = _lint(copy, copy)
    assert result.returncode != 0
    assert "reviewtui.store is not allowed to import reviewtui.workspace" in " ".join(result.stdout.split())


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(m: str) -> None:
        index[m] = low[m] = counter[0]
        counter[0] += 1
        stack.append(m)
        on_stack.add(m)
        for n in graph.find_modules_directly_imported_by(m):
            if n not in modules:
                continue
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            comp = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                comp.append(n)
                if n == m:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("reviewtui", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def test_no_import_cycle_in_the_package(graph):
    modules = set(graph.modules)
    # a package's __init__ re-exporting from its own modules is not a cycle between modules
    cycles = [c for c in _cycles(graph, modules) if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []


def test_only_the_front_ends_import_the_workspace(graph):
    importers = graph.find_modules_that_directly_import("reviewtui.workspace")
    allowed = ("reviewtui.cli", "reviewtui.tui", "reviewtui.presentation")
    assert sorted(m for m in importers if not m.startswith(allowed)) == []
