"""App benchmark (not a test): time to the TUI's first paint on a demo workspace.

The baseline, measured in the same run, is a bare Textual app with one Static widget painted the
same way (headless, 100x30): the ratio says what reviewtui adds on top of Textual itself. Each figure
is the median of several fresh subprocesses, so imports are paid every time.

Run:  .venv/bin/python bench/bench_app.py [--runs 5] [--no-write]
The figures go into docs/BENCHMARKS.md between the app markers (only that section is replaced).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import write_section  # noqa: E402

START, END = "<!-- app:start -->", "<!-- app:end -->"

OURS = """
import asyncio, json, sys, time
t0 = time.perf_counter()
from reviewtui.tui.app import ReviewApp
from reviewtui.workspace import Workspace
HEAVY = {"torch", "transformers", "datasets", "ray"}

async def main():
    app = ReviewApp(Workspace.open(sys.argv[1]), probe_gpus=False, assist=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = time.perf_counter() - t0
        heavy = sorted(k for k in sys.modules if k.split('.')[0] in HEAVY)
    print(json.dumps({"first": first, "heavy": heavy}))

asyncio.run(main())
"""

BASE = """
import asyncio, json, time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("hello")

async def main():
    app = Bare()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        print(json.dumps({"first": time.perf_counter() - t0, "heavy": []}))

asyncio.run(main())
"""


def measure(code: str, args: list[str], runs: int) -> tuple[float, list[str]]:
    times, heavy = [], []
    for _ in range(runs + 1):  # one warm-up run for the OS file cache
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                             cwd=REPO)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(data["first"])
        heavy = data["heavy"]
    return statistics.median(times[1:]), heavy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", type=int, default=40_000)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    from reviewtui.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        Workspace.demo(root, size=args.size).close()
        ours, heavy = measure(OURS, [str(root)], args.runs)
        base, _ = measure(BASE, [], args.runs)
    ratio = ours / base
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"""## App: first paint (`bench/bench_app.py`)

Run {when}; demo workspace of {args.size:,} reviews; headless 100x30; median of {args.runs} fresh
processes after one warm-up (imports included).

| measure | reviewtui | baseline: bare Textual app, same run | ratio | goal | met |
|---|---|---|---|---|---|
| first paint of the status screen | {ours:.2f} s | {base:.2f} s | {ratio:.2f}x | well under 1 s | {"yes" if ours < 1.0 else "no"} |

ML modules loaded by the first paint: {", ".join(heavy) or "none"}.
"""
    print(section)
    if not args.no_write:
        write_section(f"{START}\n{section.strip()}\n{END}", START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
