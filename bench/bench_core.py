"""Core benchmarks (not tests): import, export, diff and CLI cold start on a 40,000-review demo.

Each figure is set against a baseline measured in the same run on the same machine:
  import   reviewtui import vs pandas.read_csv + sqlite3 executemany of the raw rows
  export   reviewtui export vs pandas.read_sql + DataFrame.to_csv of the same rows
  diff     reviewtui diff   vs a pandas merge-based diff of the same two version CSVs
  status   `reviewtui --workspace WS status` cold start vs `python -c "import pandas"` (median of 5)

Run:  .venv/bin/python bench/bench_core.py [--size 40000] [--repeat 3] [--no-write]
The figures go into docs/BENCHMARKS.md between the core markers (only that section is replaced).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reviewtui.files import atomic_write_text  # noqa: E402
from reviewtui.demo import TRAINING, generate_demo, read_oracle  # noqa: E402
from reviewtui.store import LabelRow  # noqa: E402
from reviewtui.workspace import Workspace  # noqa: E402

BENCH_FILE = REPO / "docs" / "BENCHMARKS.md"
START, END = "<!-- core:start -->", "<!-- core:end -->"
HEADER = "# reviewtui benchmarks\n\nFigures written by the scripts in `bench/`; each bench owns its marked section.\n"


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def bench_import(csv_path: Path, work: Path, repeat: int) -> dict:
    import pandas as pd  # warm: neither side pays for the import

    n = len(pd.read_csv(csv_path, dtype=str, keep_default_na=False))
    counter = iter(range(10_000))

    def ours():
        ws = Workspace.init(work / f"import-{next(counter)}", name="bench")
        result = ws.import_reviews([csv_path])
        ws.close()
        return result

    def baseline():
        df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        db_path = work / f"raw-{next(counter)}.db"
        db = sqlite3.connect(db_path)
        db.execute("PRAGMA journal_mode=WAL")
        cols = ", ".join(f'"{c}" TEXT' for c in df.columns)
        db.execute(f"CREATE TABLE raw ({cols})")
        db.executemany(f"INSERT INTO raw VALUES ({','.join('?' * len(df.columns))})",
                       df.itertuples(index=False, name=None))
        db.commit()
        db.close()
        return len(df)

    t_ours, result = timed(ours, repeat)
    t_base, _ = timed(baseline, repeat)
    return {"rows": n, "kept": result.reports[0].kept, "ours_s": t_ours, "base_s": t_base,
            "ours_rps": n / t_ours, "base_rps": n / t_base}


def bench_export(ws: Workspace, oracle: dict[str, str], repeat: int) -> dict:
    import pandas as pd

    ids = [ext for ext, _ in ws.store.texts()]
    t = time.perf_counter()
    ws.store.add_labels([LabelRow(ext, oracle[ext], "bench", "import") for ext in ids])
    label_s = time.perf_counter() - t
    t_ours = time.perf_counter()
    v1 = ws.export()
    t_ours = time.perf_counter() - t_ours
    assert v1 is not None

    out = ws.root / "baseline-export.csv"

    def baseline():
        db = sqlite3.connect(ws.store.path)
        df = pd.read_sql_query(
            "SELECT id, external_id AS externalId, skipped, status, label, text AS content FROM assets "
            "WHERE label IN (%s) AND status IN ('LABELED', 'REVIEWED') AND skipped = 0 ORDER BY id"
            % ",".join("?" * len(TRAINING)), db, params=list(TRAINING))
        db.close()
        df["skipped"] = "False"
        df.to_csv(out, index=False)
        return len(df)

    t_base, base_rows = timed(baseline, repeat)
    return {"labeled": len(ids), "label_s": label_s, "rows": v1.rows, "base_rows": base_rows,
            "ours_s": t_ours, "base_s": t_base, "version": v1.name}


def make_second_version(ws: Workspace, oracle: dict[str, str], seed: int = 1) -> dict:
    """Relabel ~1% and drop (skip) ~1% of the exported assets, then export again."""
    rng = random.Random(seed)
    exported = [ext for _id, ext, skipped, _s, label, _t, _r in ws.store.labeled_rows() if label in TRAINING]
    picked = rng.sample(exported, 2 * (len(exported) // 100))
    relabel, drop = picked[: len(picked) // 2], picked[len(picked) // 2:]
    rows = [LabelRow(ext, rng.choice([c for c in TRAINING if c != oracle[ext]]), "bench", "human") for ext in relabel]
    rows += [LabelRow(ext, oracle[ext], "bench", "human", skipped=True) for ext in drop]
    ws.store.add_labels(rows)
    v2 = ws.export()
    assert v2 is not None
    return {"relabeled": len(relabel), "dropped": len(drop), "version": v2.name}


def pandas_diff(a_csv: Path, b_csv: Path) -> dict[str, int]:
    import pandas as pd

    a = pd.read_csv(a_csv, dtype=str, keep_default_na=False)
    b = pd.read_csv(b_csv, dtype=str, keep_default_na=False)
    m = a.merge(b, on="externalId", how="outer", suffixes=("_a", "_b"), indicator=True)
    both = m[m["_merge"] == "both"]
    return {"added": int((m["_merge"] == "right_only").sum()), "removed": int((m["_merge"] == "left_only").sum()),
            "relabeled": int((both["label_a"] != both["label_b"]).sum()),
            "status_changed": int((both["status_a"] != both["status_b"]).sum())}


def bench_diff(ws: Workspace, a: str, b: str, repeat: int) -> dict:
    t_ours, diff = timed(lambda: ws.diff(a, b), repeat)
    ca, cb = ws.version_info(a).csv_path, ws.version_info(b).csv_path
    t_base, base_counts = timed(lambda: pandas_diff(ca, cb), repeat)
    return {"ours_s": t_ours, "base_s": t_base, "counts": diff.counts, "base_counts": base_counts,
            "rows_a": ws.version_info(a).rows, "rows_b": ws.version_info(b).rows}


def cold_start(cmd: list[str], runs: int = 5) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)  # warm disk cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_status(ws_root: Path, runs: int = 5) -> dict:
    venv_bin = Path(sys.executable).parent
    cli = venv_bin / "reviewtui"
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "reviewtui"]
    ours = cold_start([*cmd, "--workspace", str(ws_root), "status"], runs)
    base = cold_start([sys.executable, "-c", "import pandas"], runs)
    return {"ours_s": ours, "base_s": base, "command": " ".join(Path(c).name if i == 0 else c
                                                                  for i, c in enumerate(cmd))}


def render(res: dict, args: argparse.Namespace, total_s: float) -> tuple[str, list[tuple]]:
    imp, exp, dif, st = res["import"], res["export"], res["diff"], res["status"]
    table = [
        (f"import {imp['rows']:,} reviews", f"{imp['ours_rps']:,.0f} rows/s ({imp['ours_s']:.2f} s)",
         f"{imp['base_rps']:,.0f} rows/s ({imp['base_s']:.2f} s)", f"{imp['ours_rps'] / imp['base_rps']:.2f}x",
         ">= 20,000 rows/s", imp["ours_rps"] >= 20_000),
        (f"export {exp['rows']:,} labeled", f"{exp['ours_s']:.2f} s ({exp['rows'] / exp['ours_s']:,.0f} rows/s)",
         f"{exp['base_s']:.2f} s", f"{exp['ours_s'] / exp['base_s']:.2f}x time", "-", None),
        (f"diff {dif['rows_a']:,} vs {dif['rows_b']:,}", f"{dif['ours_s']:.3f} s", f"{dif['base_s']:.3f} s",
         f"{dif['ours_s'] / dif['base_s']:.2f}x time", "< 1 s", dif["ours_s"] < 1.0),
        ("`status` cold start", f"{st['ours_s']:.2f} s", f"{st['base_s']:.2f} s (import pandas)",
         f"{st['ours_s'] / st['base_s']:.2f}x time", "<= 1.5x", st["ours_s"] / st["base_s"] <= 1.5),
    ]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        "## Core: import, export, diff, status (`bench/bench_core.py`)",
        "",
        f"Run {now} on {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(shared with other work, so expect noise); demo corpus of {args.size:,} reviews (seed {args.seed}); "
        f"median of {args.repeat} runs ({args.runs} for cold starts); whole bench {total_s:.0f} s.",
        "",
        "| measure | reviewtui | baseline (same run) | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, ours, base, ratio, goal, met in table:
        verdict = "-" if met is None else "yes" if met else "NO"
        lines.append(f"| {name} | {ours} | {base} | {ratio} | {goal} | {verdict} |")
    lines += [
        "",
        f"- import: {imp['rows']:,} rows read, {imp['kept']:,} kept after cleaning; reviewtui reads, cleans "
        "(URLs, HTML, emoji, case, whitespace), checks ids and writes assets + metadata JSON in one transaction; "
        "the baseline is `pandas.read_csv` + `sqlite3.executemany` of the raw rows, no cleaning.",
        f"- export: all {exp['labeled']:,} assets labeled from the oracle first ({exp['label_s']:.1f} s through "
        f"`store.add_labels`); {exp['rows']:,} rows have a training label. Baseline: `pandas.read_sql` + `to_csv` "
        "of the same rows (no manifest, no hash, no atomic claim).",
        f"- diff: {res['second']['relabeled']} relabeled and {res['second']['dropped']} dropped (skipped) between "
        f"the versions; reviewtui counts {dif['counts']}, the pandas merge counts {dif['base_counts']}.",
        f"- status: `{st['command']} --workspace WS status` on the {args.size:,}-review workspace with two "
        f"versions, vs `python -c \"import pandas\"`, each median of {args.runs} subprocess runs after one warm-up.",
        END,
    ]
    return "\n".join(lines) + "\n", table


def write_section(section: str) -> None:
    text = BENCH_FILE.read_text(encoding="utf-8") if BENCH_FILE.exists() else HEADER
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCH_FILE.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(BENCH_FILE, text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=40_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="runs per in-process measure (median)")
    p.add_argument("--runs", type=int, default=5, help="runs per cold-start measure (median)")
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = p.parse_args(argv)
    started = time.perf_counter()
    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="reviewtui-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        files = generate_demo(work / "data", size=args.size, seed=args.seed)
        res["generate_s"] = time.perf_counter() - t
        print(f"generated {args.size:,} reviews in {res['generate_s']:.2f} s", flush=True)
        oracle = read_oracle(files.oracle_csv)

        res["import"] = bench_import(files.export_csv, work, args.repeat)
        print("import done", flush=True)
        ws = Workspace.init(work / "ws", name="bench")
        ws.import_reviews([files.export_csv])
        res["export"] = bench_export(ws, oracle, args.repeat)
        print("export done", flush=True)
        res["second"] = make_second_version(ws, oracle)
        res["diff"] = bench_diff(ws, res["export"]["version"], res["second"]["version"], args.repeat)
        print("diff done", flush=True)
        ws.close()
        res["status"] = bench_status(work / "ws", args.runs)
    section, table = render(res, args, time.perf_counter() - started)

    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"reviewtui core benchmarks ({args.size:,} reviews)")
    for c in ("measure", "reviewtui", "baseline", "ratio", "goal", "met"):
        t.add_column(c)
    for name, ours, base, ratio, goal, met in table:
        t.add_row(name, ours, base, ratio, goal, "-" if met is None else "[green]yes[/]" if met else "[red]NO[/]")
    Console().print(t)
    if not args.no_write:
        write_section(section)
        print(f"wrote {BENCH_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
