"""Scale benchmark (not a test): a million reviews in one workspace.

Every figure is taken at the full size and, as the baseline of the same run, on a 40,000-review
demo workspace (the size the other benches use), so the ratio shows how each path grows. Commands
run as fresh processes, as a user runs them; their wall time, CPU time (user + system, all
threads) and peak memory (``ru_maxrss`` of that process, from ``os.wait4``) are recorded, with the
machine's load average before and after, since this machine is shared.

Parts (``--only`` picks some):
  demo      ``reviewtui demo DIR --size N``: generate, import, two labeling rounds, two exports
  import    ``reviewtui import`` of the same export into a fresh workspace (rows/s)
  status    ``reviewtui status``, median of 5 cold starts
  versions  every review labeled from the oracle (store.add_labels), ``reviewtui export``, 1% relabeled and
            1% skipped, ``reviewtui export`` again, ``reviewtui diff`` of the two versions
  app       the app's first paint (status screen), the labeling screen's first review, and the next
            review after a label (median of 20, in the app); the store's queue call alone
  predict   ``reviewtui predict --model quick --sentiment vader`` with the embedding cache filled first
            with synthetic 384-d vectors for every distinct text (encoding a million reviews on this CPU
            takes hours; the quick model, VADER, the cache reads and the result file are the real path)
  summary   ``reviewtui summary`` on those predictions, and the app's summary screen until it shows them

Run:  .venv/bin/python bench/bench_scale.py [--size 1000000] [--base 40000] [--only demo,import] [--keep DIR] [--no-write]
The figures go into docs/BENCHMARKS.md between the scale markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import write_section  # noqa: E402

START, END = "<!-- scale:start -->", "<!-- scale:end -->"
PARTS = ("demo", "import", "status", "versions", "app", "predict", "summary")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def load() -> float:
    return os.getloadavg()[0]


def run(argv: list[str], *, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``argv``; its wall and CPU seconds, peak RSS (MB), exit status, stdout, and the load."""
    before = load()
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_fd = proc.stdout
    out = out_fd.read() if out_fd else b""
    _pid, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024,
            "load": (before, load()), "stdout": out.decode("utf-8", "replace")}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "reviewtui", *args]


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


# --- parts ---------------------------------------------------------------------------------------
def part_demo(root: Path, size: int) -> dict[str, Any]:
    shutil.rmtree(root, ignore_errors=True)
    return run(cli("demo", str(root), "--size", str(size)))


def part_import(demo: Path, work: Path) -> dict[str, Any]:
    ws = work / f"import-{demo.name}"
    shutil.rmtree(ws, ignore_errors=True)
    run(cli("init", str(ws)))
    res = run(cli("-w", str(ws), "import", str(demo / "demo-data" / "inkwell_reviews.csv"), "--json"))
    rows = sum(int(r["rows_read"]) for r in json.loads(res["stdout"]))
    shutil.rmtree(ws, ignore_errors=True)
    return {**res, "rows": rows}


def part_status(root: Path, runs: int = 5) -> dict[str, Any]:
    results = [run(cli("-w", str(root), "status")) for _ in range(runs + 1)][1:]  # one warm-up for the file cache
    return {"median": statistics.median(r["wall"] for r in results), "cpu": statistics.median(r["cpu"] for r in results),
            "load": (results[0]["load"][0], results[-1]["load"][1])}


LABEL_ALL = """
import json, random, sys, time
from pathlib import Path
from reviewtui.demo import read_oracle
from reviewtui.store import LabelRow
from reviewtui.workspace import Workspace
ws = Workspace.open(sys.argv[1])
oracle = read_oracle(Path(sys.argv[1]) / "demo-data" / "inkwell_oracle.csv")
ids = [ext for ext, _ in ws.store.texts()]
t = time.perf_counter()
ws.store.add_labels([LabelRow(e, oracle[e], "bench", "import") for e in ids])
labeled = time.perf_counter() - t
print(json.dumps({"labeled": len(ids), "seconds": labeled}))
"""

CHANGE_SOME = """
import json, random, sys
from reviewtui.store import LabelRow
from reviewtui.demo import TRAINING
from reviewtui.workspace import Workspace
ws = Workspace.open(sys.argv[1])
rng = random.Random(1)
exported = [ext for _id, ext, _s, _st, label, _t, _r in ws.store.labeled_rows() if label in TRAINING]
picked = rng.sample(exported, len(exported) // 50)
relabel, skip = picked[: len(picked) // 2], picked[len(picked) // 2:]
rows = []
for ext in relabel:
    cur = ws.store.get(ext).label
    rows.append(LabelRow(ext, rng.choice([c for c in TRAINING if c != cur]), "bench", "human"))
ws.store.add_labels(rows)
for ext in skip:
    ws.store.skip(ext, "bench", author="bench")
print(json.dumps({"relabeled": len(relabel), "skipped": len(skip)}))
"""


def part_versions(root: Path) -> dict[str, Any]:
    labeled = json.loads(run(py(LABEL_ALL, str(root)))["stdout"])
    first = run(cli("-w", str(root), "export"))
    changed = json.loads(run(py(CHANGE_SOME, str(root)))["stdout"])
    second = run(cli("-w", str(root), "export"))
    versions = sorted(p.stem for p in (root / "versions").glob("dataset-*.csv"))
    versions.sort(key=lambda n: int(n.split("-")[1]))
    a, b = versions[-2], versions[-1]
    rows = json.loads((root / "versions" / f"{b}.json").read_text())["rows"]
    diff = run(cli("-w", str(root), "diff", a, b, "--json"))
    counts = json.loads(diff["stdout"])["counts"]
    return {"labeled": labeled, "export1": first, "changed": changed, "export2": second, "diff": diff,
            "rows": rows, "counts": counts, "a": a, "b": b}


PAINT = """
import asyncio, json, sys, time
t0 = time.perf_counter()
from reviewtui.tui.app import ReviewApp
from reviewtui.workspace import Workspace
HEAVY = {"torch", "transformers", "datasets", "ray", "sklearn"}

async def main():
    app = ReviewApp(Workspace.open(sys.argv[1]), start=sys.argv[2], probe_gpus=False, assist=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = time.perf_counter() - t0
        first_cpu = time.process_time()
        await app.workers.wait_for_complete()
        await pilot.pause()
        loaded = time.perf_counter() - t0
        out = {"first": first, "first_cpu": first_cpu, "loaded": loaded}
        if sys.argv[2] == "labeling":
            # key to frame: the key goes to the driver as a terminal's would, and the time is taken
            # when the screen hands the app the first frame that holds the next review (headless,
            # the frame is rendered but not written). The test pilot's press is kept beside it: it
            # waits for the app to go idle, at least 40 ms of its own, so it measures the harness.
            from textual import events
            screen = app.screen
            frames = []
            display = app._display

            def timed_display(shown_screen, renderable):
                current = getattr(shown_screen, "current", None)
                frames.append((time.perf_counter(), current.external_id if current is not None else None))
                return display(shown_screen, renderable)

            app._display = timed_display
            times, cpu0 = [], time.process_time()
            for _ in range(20):
                before = screen.current.external_id
                key = events.Key("1", "1")
                key.set_sender(app)
                t = time.perf_counter()
                app._driver.send_message(key)
                deadline = t + 10
                while time.perf_counter() < deadline and not any(
                        at >= t and shown not in (before, None) for at, shown in frames):
                    await asyncio.sleep(0.0002)
                times.append(min(at for at, shown in frames if at >= t and shown not in (before, None)) - t)
                await pilot.pause()
            out["next_cpu"] = (time.process_time() - cpu0) / 20
            times.sort()
            out["next_median"] = times[len(times) // 2]
            out["next_max"] = times[-1]
            pressed = []
            for _ in range(10):
                before = screen.current.external_id
                t = time.perf_counter()
                await pilot.press("1")
                while screen.current is None or screen.current.external_id == before:
                    await pilot.pause(0.001)
                await pilot.pause()
                pressed.append(time.perf_counter() - t)
            pressed.sort()
            out["pilot_median"] = pressed[len(pressed) // 2]
            t = time.perf_counter()
            await pilot.press("f24")  # bound to nothing: the pilot's own wait
            out["pilot_idle"] = time.perf_counter() - t
        if sys.argv[2] == "summary":
            out["shown"] = "reviews" in str(app.screen.query_one("#summary-state").render())
        out["heavy"] = sorted(k for k in sys.modules if k.split(".")[0] in HEAVY)
    print(json.dumps(out))

asyncio.run(main())
"""

QUEUE = """
import json, statistics, sys, time
from reviewtui.workspace import Workspace
ws = Workspace.open(sys.argv[1])
seen, times = [], []
for _ in range(51):
    t = time.perf_counter()
    items = ws.queue(50, exclude=seen)
    times.append(time.perf_counter() - t)
    seen += [a.external_id for a in items[:10]]
print(json.dumps({"median": statistics.median(times[1:]), "max": max(times[1:])}))
"""


def part_app(root: Path, runs: int = 3) -> dict[str, Any]:
    def median_of(start: str) -> dict[str, Any]:
        outs = [json.loads(run(py(PAINT, str(root), start))["stdout"].strip().splitlines()[-1])
                for _ in range(runs + 1)][1:]
        keys = [k for k, v in outs[0].items() if isinstance(v, float)]
        return {**{k: statistics.median(o[k] for o in outs) for k in keys}, "heavy": outs[-1]["heavy"]}

    before = load()
    paint = median_of("status")
    labeling = median_of("labeling")
    queue = json.loads(run(py(QUEUE, str(root)))["stdout"])
    return {"paint": paint, "labeling": labeling, "queue": queue, "load": (before, load())}


PREFILL = """
import json, sys, time
import numpy as np
from reviewtui.modeling.embeddings import text_digests
from reviewtui.workspace import Workspace
ws = Workspace.open(sys.argv[1])
cache = ws.embedding_cache()
keys = text_digests([t for _, t in ws.store.texts()])
rng = np.random.default_rng(0)
t = time.perf_counter()
for s in range(0, len(keys), 65536):
    v = rng.normal(size=(len(keys[s:s + 65536]), 384)).astype(np.float32)
    cache.vectors.append(keys[s:s + 65536], v / np.linalg.norm(v, axis=1, keepdims=True))
print(json.dumps({"vectors": len(cache), "seconds": time.perf_counter() - t, "shards": len(cache.vectors.shards)}))
"""


def part_predict(root: Path) -> dict[str, Any]:
    prefill = json.loads(run(py(PREFILL, str(root)))["stdout"])
    res = run(cli("-w", str(root), "predict", "--model", "quick", "--sentiment", "vader", "--json"))
    return {**res, "prefill": prefill, "rows": json.loads(res["stdout"])["rows"]}


def part_summary(root: Path) -> dict[str, Any]:
    cold = run(cli("-w", str(root), "summary", "--json"))
    screen = [json.loads(run(py(PAINT, str(root), "summary"))["stdout"].strip().splitlines()[-1]) for _ in range(2)][-1]
    return {"cli": cold, "screen": screen}


# --- the report ----------------------------------------------------------------------------------
def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def ratio(big: float, small: float) -> str:
    return f"{big / small:.1f}x" if small else "-"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def section(args, res: dict[str, dict[str, Any]], when: str, loads: list[float]) -> str:
    n, b = args.size, args.base
    big, small = res.get("big", {}), res.get("small", {})
    lines = [f"## Scale: a million reviews (`bench/bench_scale.py`)", "",
             f"Run {when} on {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
             + (f"with nothing else running (the 1-minute load average ranged {min(loads):.1f}-{max(loads):.1f} during "
                f"the run: the benchmark's own processes)" if max(loads) <= (os.cpu_count() or 1) else
                f"shared with other work: the 1-minute load average ranged {min(loads):.1f}-{max(loads):.1f} during the "
                f"run, so wall times are several times what a quiet machine gives")
             + f"; CPU time (user + system, all threads of the process) is given beside them. Demo corpora of {n:,} and {b:,} reviews (seed 7); the "
             f"{b:,}-review column is the baseline of the same run.", "",
             f"| measure | {n:,} reviews | {b:,} reviews | ratio | goal | met |", "|---|---|---|---|---|---|"]
    rows: list[str] = []
    if "demo" in big:
        d, s = big["demo"], small.get("demo")
        rows.append(f"| `reviewtui demo --size` (generate, import, label, 2 exports) | {fmt_s(d['wall'])} wall, "
                    f"{fmt_s(d['cpu'])} CPU, peak {d['rss_mb'] / 1024:.1f} GB | "
                    f"{fmt_s(s['wall']) + ', peak ' + format(s['rss_mb'] / 1024, '.1f') + ' GB' if s else '-'} | "
                    f"{ratio(d['wall'], s['wall']) if s else '-'} | reasonable time and memory | "
                    f"{met(d['rss_mb'] < 4096)} |")
    if "import" in big:
        d, s = big["import"], small.get("import")
        rps, cps = d["rows"] / d["wall"], d["rows"] / d["cpu"]
        rows.append(f"| import (`reviewtui import`, process start included) | {rps:,.0f} rows/s wall "
                    f"({fmt_s(d['wall'])}); {cps:,.0f} rows/s of CPU ({fmt_s(d['cpu'])}); peak "
                    f"{d['rss_mb'] / 1024:.1f} GB | {s['rows'] / s['wall']:,.0f} rows/s wall, "
                    f"{s['rows'] / s['cpu']:,.0f} of CPU | - | >= 50,000 rows/s | "
                    f"{'yes by CPU time; wall under load: ' + ('yes' if rps >= 50_000 else 'no') if cps >= 50_000 else '**no**'} |")
    if "status" in big:
        d, s = big["status"], small.get("status")
        rows.append(f"| `reviewtui status` cold start (median of 5) | {fmt_s(d['median'])} ({fmt_s(d['cpu'])} CPU) | "
                    f"{fmt_s(s['median']) if s else '-'} | {ratio(d['median'], s['median']) if s else '-'} | "
                    f"< 0.5 s | {met(d['median'] < 0.5)} |")
    if "versions" in big:
        d, s = big["versions"], small.get("versions")
        for key, label in (("export1", "export (first version)"), ("export2", "export (second version)"),
                           ("diff", "`reviewtui diff` of the two")):
            rows.append(f"| {label}, {d['rows']:,} rows | {fmt_s(d[key]['wall'])} wall, {fmt_s(d[key]['cpu'])} CPU | "
                        f"{fmt_s(s[key]['wall']) if s else '-'} | {ratio(d[key]['wall'], s[key]['wall']) if s else '-'} | "
                        f"< 10 s | {met(d[key]['wall'] < 10)} (CPU: {met(d[key]['cpu'] < 10)}) |")
    if "app" in big:
        d, s = big["app"], small.get("app")
        rows.append(f"| app first paint (status screen, fresh process) | {fmt_s(d['paint']['first'])} "
                    f"({fmt_s(d['paint']['first_cpu'])} CPU) | "
                    f"{fmt_s(s['paint']['first']) if s else '-'} | {ratio(d['paint']['first'], s['paint']['first']) if s else '-'} "
                    f"| < 1 s | {met(d['paint']['first'] < 1)} |")
        rows.append(f"| labeling screen: first review shown (fresh process) | {fmt_s(d['labeling']['loaded'])} | "
                    f"{fmt_s(s['labeling']['loaded']) if s else '-'} | - | - | - |")
        nd, ns = d["labeling"], (s["labeling"] if s else None)
        rows.append(f"| next review after a label, in the app: key to the frame that shows it (median of 20) | "
                    f"{nd['next_median'] * 1000:.0f} ms (slowest {nd['next_max'] * 1000:.0f} ms; "
                    f"{nd['next_cpu'] * 1000:.0f} ms CPU per label, the pause after it included) | "
                    f"{(format(ns['next_median'] * 1000, '.0f') + ' ms') if ns else '-'} | - | < 50 ms | "
                    f"{met(nd['next_median'] < 0.05)} |")
        rows.append(f"| the same through the test pilot's `press` (median of 10; a press of an unbound key alone "
                    f"takes {nd['pilot_idle'] * 1000:.0f} ms) | {nd['pilot_median'] * 1000:.0f} ms | "
                    f"{(format(ns['pilot_median'] * 1000, '.0f') + ' ms') if ns else '-'} | - | - | - |")
        rows.append(f"| the store's queue call (50 reviews, median of 50) | {d['queue']['median'] * 1000:.1f} ms | "
                    f"{s['queue']['median'] * 1000:.1f} ms | - | - | - |" if s else
                    f"| the store's queue call | {d['queue']['median'] * 1000:.1f} ms | - | - | - | - |")
    if "predict" in big:
        d, s = big["predict"], small.get("predict")
        rows.append(f"| `reviewtui predict --model quick --sentiment vader`, warm cache | {fmt_s(d['wall'])} wall, "
                    f"{fmt_s(d['cpu'])} CPU, peak {d['rss_mb'] / 1024:.2f} GB | "
                    f"{('peak ' + format(s['rss_mb'] / 1024, '.2f') + ' GB') if s else '-'} | - | peak < 4 GB | "
                    f"{met(d['rss_mb'] < 4096)} |")
    if "summary" in big:
        d, s = big["summary"], small.get("summary")
        rows.append(f"| `reviewtui summary` (fresh process) | {fmt_s(d['cli']['wall'])} wall, {fmt_s(d['cli']['cpu'])} CPU | "
                    f"{fmt_s(s['cli']['wall']) if s else '-'} | - | - | - |")
        rows.append(f"| app summary screen until shown (fresh process) | {fmt_s(d['screen']['loaded'])} | "
                    f"{fmt_s(s['screen']['loaded']) if s else '-'} | - | - | - |")
    lines += rows
    notes = ["", "Notes:"]
    if "versions" in big:
        d = big["versions"]
        notes.append(f"- versions: labeling all {d['labeled']['labeled']:,} reviews through `store.add_labels` took "
                     f"{d['labeled']['seconds']:.0f} s (setup, not a goal); then {d['changed']['relabeled']:,} relabeled "
                     f"and {d['changed']['skipped']:,} skipped; the diff counts {d['counts']}.")
    if "predict" in big:
        d = big["predict"]
        notes.append(f"- predict: the quick model on the demo's 300 labels; the embedding cache was filled first with "
                     f"{d['prefill']['vectors']:,} synthetic vectors (one per distinct text, {d['prefill']['shards']} "
                     f"shard(s) after merging, written in {d['prefill']['seconds']:.0f} s), so no encoder ran: the "
                     f"peak is the predict path itself (assets, cache reads, probabilities, VADER, the result file); "
                     f"loading MiniLM to encode adds about 0.3 GB.")
    if "app" in big:
        notes.append(f"- app: ML modules loaded by the first paint: {', '.join(big['app']['paint']['heavy']) or 'none'}.")
    lines += notes
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=1_000_000)
    p.add_argument("--base", type=int, default=40_000)
    p.add_argument("--only", help=f"comma-separated parts of {','.join(PARTS)}")
    p.add_argument("--keep", help="build the workspaces in this folder and keep them (reruns reuse the demo)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    parts = [x.strip() for x in args.only.split(",")] if args.only else list(PARTS)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="reviewtui-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    loads = [load()]
    results: dict[str, dict[str, Any]] = {"small": {}, "big": {}}
    started = time.perf_counter()
    try:
        for label, size in (("small", args.base), ("big", args.size)):
            root = work / f"demo-{size}"
            out = results[label]
            if "demo" in parts or not (root / "reviewtui.toml").exists():
                out["demo"] = part_demo(root, size)
                print(f"{label} demo: {out['demo']['wall']:.1f}s", flush=True)
            if "import" in parts:
                out["import"] = part_import(root, work)
                print(f"{label} import: {out['import']['wall']:.1f}s", flush=True)
            if "status" in parts:
                out["status"] = part_status(root)
            if "app" in parts:
                out["app"] = part_app(root)
            if "predict" in parts:
                out["predict"] = part_predict(root)
                print(f"{label} predict: {out['predict']['wall']:.1f}s", flush=True)
            if "summary" in parts:
                out["summary"] = part_summary(root)
            if "versions" in parts:  # last: it labels every review, which the other parts must not see
                out["versions"] = part_versions(root)
                print(f"{label} versions: export {out['versions']['export1']['wall']:.1f}s", flush=True)
            loads.append(load())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = section(args, results, when, loads)
    text += f"\nWhole bench {time.perf_counter() - started:.0f} s.\n"
    print(text)
    if not args.no_write:
        write_section(f"{START}\n{text.strip()}\n{END}", START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
