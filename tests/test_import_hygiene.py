"""The core never imports textual; light commands and the app's first paint import no ML stack.

Each check runs in a fresh interpreter so what earlier tests imported does not count.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tui_data import build_workspace, write_results

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "datasets", "ray", "sklearn")


def run_python(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def core_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "reviewtui").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if rel.parts[1:2] == ("tui",):
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_core_source_never_mentions_textual():
    pattern = re.compile(r"^\s*(from|import)\s+textual", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "reviewtui").rglob("*.py"))
                 if "tui" not in p.relative_to(ROOT / "reviewtui").parts[:1]
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_importing_every_core_module_loads_no_textual():
    modules = [m for m in core_modules() if m != "reviewtui.__main__"]
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'textual_plotext'))))")
    assert run_python(code) == []


def test_cli_import_graph_has_no_textual():
    code = ("import json, sys\n"
            "import reviewtui.cli\n"
            "reviewtui.cli.build_parser().parse_args(['status'])\n"
            "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'textual_plotext'))))")
    assert run_python(code) == []


def test_light_commands_load_no_ml_stack_and_no_textual(tmp_path):
    build_workspace(tmp_path / "ws").close()
    ws = str(tmp_path / "ws")
    commands = [["status"], ["diff", "1", "2"], ["label", "r20", "CONTENT"], ["export"], ["status", "--json"]]
    code = ("import contextlib, io, json, sys\n"
            "from reviewtui.cli import main\n"
            "codes = []\n"
            f"for argv in {commands!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            f"        codes.append(main(['-w', {ws!r}] + argv))\n"
            f"print(json.dumps([codes] + sorted(k for k in sys.modules if k.split('.')[0] in {HEAVY + ('textual',)!r})))")
    assert run_python(code) == [[0, 0, 0, 0, 0]]


def test_app_first_paint_and_every_screen_load_no_ml_stack(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    write_results(ws)
    ws.close()
    code = f"""
import asyncio, json, sys, time
t0 = time.perf_counter()
from reviewtui.tui.app import ReviewApp
from reviewtui.workspace import Workspace

async def main():
    app = ReviewApp(Workspace.open({str(tmp_path / 'ws')!r}), probe_gpus=False, assist=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        first = time.perf_counter() - t0
        after_paint = sorted(k for k in sys.modules if k.split('.')[0] in {HEAVY!r})
        for key in "34561":
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()
        after_all = sorted(k for k in sys.modules if k.split('.')[0] in {HEAVY!r})
    print(json.dumps({{"first": first, "after_paint": after_paint, "after_all": after_all}}))

asyncio.run(main())
"""
    out = run_python(code)
    assert out["after_paint"] == [] and out["after_all"] == []
    # how fast the first paint is, is measured in bench/bench_app.py, not asserted here
    print(f"first paint after {out['first']:.2f}s")


def test_no_screen_imports_the_app():
    """The screens, widgets and help read the registry and the app's bindings; none imports the app
    (tui/app.py imports the registry, so that would be an import cycle)."""
    import grimp

    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("reviewtui", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    importers = graph.find_modules_that_directly_import("reviewtui.tui.app")
    assert sorted(m for m in importers if m.startswith("reviewtui.tui")) == []


def test_the_front_ends_use_no_private_textual_attribute():
    private = re.compile(r"\b(app|self|screen|pilot\.app)\._(capture_\w+|screen_stacks|notifications|modes|"
                         r"installed_screens|current_mode|driver)\b")
    offenders = [f"{p.relative_to(ROOT)}:{n}" for folder in ("reviewtui/tui", "reviewtui/cli", "tests")
                 for p in sorted((ROOT / folder).rglob("*.py"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if private.search(line)]
    assert offenders == []


def test_status_loads_not_even_numpy(tmp_path):
    """`reviewtui status` reads counts, the stop signal and how far the predictions are behind;
    numpy alone costs it a tenth of a second."""
    from tui_data import FROZEN, write_result_record

    ws = build_workspace(tmp_path / "ws")
    write_results(ws)
    write_result_record(ws, rows=30)  # ten reviews imported after it, and a model card to check labels against
    card = ws.models_dir / "fixture-model" / "model_card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"name": "fixture-model", "kind": "quick", "labels": [], "created_at": FROZEN,
                                "dataset_version": "dataset-1"}), encoding="utf-8")
    assert ws.prediction_staleness().unpredicted == 10
    ws.close()
    ws = str(tmp_path / "ws")
    code = ("import contextlib, io, json, sys\n"
            "from reviewtui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    codes = [main(['-w', {ws!r}, 'status']), main(['-w', {ws!r}, 'status', '--json'])]\n"
            "print(json.dumps([codes, 'numpy' in sys.modules]))")
    assert run_python(code) == [[0, 0], False]


def test_ctrl_c_while_the_modules_load_ends_in_one_line(tmp_path):
    """A Ctrl-C in the first tenth of a second, while the command's modules were imported, printed
    a traceback: the entry imports them where the interrupt is caught."""
    code = ("import builtins, sys\n"
            "real = builtins.__import__\n"
            "def interrupted(name, *args, **kwargs):\n"
            "    if name == 'reviewtui.cli':\n"
            "        raise KeyboardInterrupt\n"
            "    return real(name, *args, **kwargs)\n"
            "builtins.__import__ = interrupted\n"
            "from reviewtui.entry import main\n"
            "sys.exit(main())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 130 and proc.stderr == "interrupted\n"
