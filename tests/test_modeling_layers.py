"""The modeling package's own layering: its modules import each other without a cycle (imports inside
functions count), in the order its docstring lists them, and no ``_private`` name crosses modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELING = ROOT / "reviewtui" / "modeling"

#: Bottom to top: a module may import only modules listed before it (and the package's __init__).
ORDER = ["data", "metrics", "card", "registry", "loading", "batching", "forward", "onnx_int8", "precision", "shards",
         "embeddings", "progress", "budget", "quick", "finetune", "inference", "selection", "trial_log", "gpu", "trial_events",
         "tuning", "history"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in ``path``, at any depth; relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [alias.name for alias in node.names]
            out.append((base, names))
            # "from package import module" imports the module
            out += [(f"{base}.{n}", []) for n in names if (ROOT / Path(*f"{base}.{n}".split("."))).with_suffix(".py").is_file()]
    return out


def modeling_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(MODELING.glob("*.py")):
        me = module_name(path)
        graph[me] = {m for m, _ in imports_of(path)
                     if m.startswith("reviewtui.modeling.") and m != me}
    return graph


def test_every_modeling_module_is_placed_in_the_order():
    names = {p.stem for p in MODELING.glob("*.py") if p.stem != "__init__"}
    assert names == set(ORDER)


def test_modeling_modules_import_only_modules_below_them():
    rank = {f"reviewtui.modeling.{n}": i for i, n in enumerate(ORDER)}
    upward = [(me, dep) for me, deps in modeling_graph().items() if me in rank
              for dep in deps if dep in rank and rank[dep] >= rank[me]]
    assert upward == []


def test_no_import_cycle_inside_modeling():
    graph = modeling_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_private_name_is_imported_across_modules():
    offenders = []
    for path in sorted((ROOT / "reviewtui").rglob("*.py")):
        me = module_name(path)
        for module, names in imports_of(path):
            if not module.startswith("reviewtui"):
                continue
            if not (module.startswith("reviewtui.modeling") or me.startswith("reviewtui.modeling")):
                continue
            offenders += [f"{me}: from {module} import {n}" for n in names if n.startswith("_")]
    assert offenders == []


def test_the_checks_see_a_cycle_and_a_private_import(tmp_path, monkeypatch):
    """The helpers above find what they look for (a check that cannot fail proves nothing)."""
    fake = tmp_path / "reviewtui" / "modeling"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "data.py").write_text("def f():\n    from reviewtui.modeling.metrics import _softmax\n")
    (fake / "metrics.py").write_text("from reviewtui.modeling import data\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "MODELING", fake)
    graph = modeling_graph()
    assert graph["reviewtui.modeling.data"] == {"reviewtui.modeling.metrics"}
    assert graph["reviewtui.modeling.metrics"] == {"reviewtui.modeling.data"}
    assert ("reviewtui.modeling.metrics", ["_softmax"]) in imports_of(fake / "data.py")
