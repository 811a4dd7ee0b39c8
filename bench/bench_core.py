"""Core benchmarks (not tests): import, export, diff and CLI cold start on a 40,000-review demo.

Each figure is set against a baseline measured in the same run on the same machine:
  import   reviewtui import vs pandas.read_csv + sqlite3 executemany of the raw rows
  export   reviewtui export vs pandas.read_sql + DataFrame.to_csv of the same rows
  diff     reviewtui diff   vs a pandas merge-based diff of the same two version CSVs
  status   `reviewtui --workspace WS status` cold start vs `python -c "import pandas"` (median of 5)
  formats  reading and importing the same reviews as JSON Lines and as Parquet, vs
           pandas.read_json(lines=True) / pandas.read_parquet of the same file
  collect  50 pages of 200 reviews from a loopback replay of Google Play (tests/play_replay.py),
           with no pause and with a pause between pages: pages/s, and the time that is not pause

Run:  .venv/bin/python bench/bench_core.py [--size 40000] [--repeat 3] [--only formats,collect] [--no-write]
The figures go into docs/BENCHMARKS.md between the core markers (import/export/diff/status) and the
core-inputs markers (formats/collect); only the sections that ran are replaced.
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

from bench.common import BENCHMARKS, write_section  # noqa: E402
from reviewtui.demo import TRAINING, generate_demo, read_oracle  # noqa: E402
from reviewtui.store import LabelRow  # noqa: E402
from reviewtui.workspace import Workspace  # noqa: E402

START, END = "<!-- core:start -->", "<!-- core:end -->"
INPUTS_START, INPUTS_END = "<!-- core-inputs:start -->", "<!-- core-inputs:end -->"
PARTS = ("core", "formats", "collect")


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


def write_format_files(csv_path: Path, work: Path) -> dict[str, Path]:
    """The demo export as google-play-scraper records saved as JSON Lines and as Parquet (ints as
    ints, datetimes as timestamps in Parquet and strings in JSON, missing values as null)."""
    import json

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    records = []
    for r in df.to_dict("records"):
        version = r["reviewCreatedVersion"] or None
        records.append({**r, "score": int(r["score"]), "thumbsUpCount": int(r["thumbsUpCount"]),
                        "reviewCreatedVersion": version, "replyContent": r["replyContent"] or None,
                        "repliedAt": r["repliedAt"] or None, "appVersion": version, "appId": "com.inkwell.reader"})
    jsonl = work / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    table = pa.Table.from_pylist(records)
    table = table.set_column(table.schema.get_field_index("at"), "at",
                             pa.array(pd.to_datetime([r["at"] for r in records]), pa.timestamp("s")))
    parquet = work / "reviews.parquet"
    pq.write_table(table, parquet)
    return {"jsonl": jsonl, "parquet": parquet}


def bench_formats(csv_path: Path, work: Path, repeat: int) -> dict:
    import pandas as pd

    from reviewtui.readers import read_table

    files = write_format_files(csv_path, work)
    counter = iter(range(10_000))
    out = {}
    for fmt, path in files.items():
        baseline = (lambda p=path: pd.read_json(p, lines=True, dtype=False)) if fmt == "jsonl" else \
            (lambda p=path: pd.read_parquet(p))
        t_base, frame = timed(baseline, repeat)
        t_read, table = timed(lambda p=path: read_table(p), repeat)

        def full(p=path):
            ws = Workspace.init(work / f"{fmt}-{next(counter)}", name="bench")
            result = ws.import_reviews([p])
            ws.close()
            return result

        t_import, result = timed(full, repeat)
        n = len(frame)
        assert len(table) == n
        out[fmt] = {"rows": n, "kept": result.reports[0].kept, "size_mb": path.stat().st_size / 1e6,
                    "base_s": t_base, "read_s": t_read, "import_s": t_import,
                    "base_rps": n / t_base, "read_rps": n / t_read, "import_rps": n / t_import}
    return out


def bench_collect(work: Path, pages: int = 50, page_size: int = 200, pause_s: float = 0.05) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from play_replay import Replay, ReplayServer, make_corpus

    from reviewtui.collect import RetryPolicy, collect_play
    from reviewtui.settings import CollectSettings

    app = "com.example.app"
    replay = Replay({app: make_corpus(pages * page_size, app)})
    policy = RetryPolicy(retries=0, offline_after_s=5)
    runs = {}
    with ReplayServer(replay) as url:
        for name, pause in (("no pause", 0.0), ("pause", pause_s)):
            settings = CollectSettings(page_size=page_size, pause_s=pause)
            t = time.perf_counter()
            res = collect_play([app], work / f"raw-{name.replace(' ', '-')}", settings, policy=policy, base_url=url)
            elapsed = time.perf_counter() - t
            assert res.pages == pages and res.reviews == pages * page_size, (res.pages, res.reviews)
            runs[name] = {"s": elapsed, "pps": pages / elapsed, "pause_total": pause * (pages - 1)}
    base = runs["no pause"]["s"]
    paused = runs["pause"]
    return {"pages": pages, "page_size": page_size, "pause_s": pause_s, "runs": runs,
            "extra_s": paused["s"] - paused["pause_total"] - base}


def render_inputs(res: dict, args: argparse.Namespace, total_s: float) -> tuple[str, list[tuple]]:
    table = []
    if "formats" in res:
        for fmt, f in res["formats"].items():
            label = "JSON Lines" if fmt == "jsonl" else "Parquet"
            base = "pandas.read_json(lines=True)" if fmt == "jsonl" else "pandas.read_parquet"
            table.append((f"read {f['rows']:,} reviews, {label}", f"{f['read_rps']:,.0f} rows/s ({f['read_s']:.2f} s)",
                          f"{f['base_rps']:,.0f} rows/s ({f['base_s']:.2f} s, {base})",
                          f"{f['read_rps'] / f['base_rps']:.2f}x", "-", None))
            table.append((f"import {f['rows']:,} reviews, {label}",
                          f"{f['import_rps']:,.0f} rows/s ({f['import_s']:.2f} s)",
                          f"{f['base_rps']:,.0f} rows/s ({base})", f"{f['import_rps'] / f['base_rps']:.2f}x",
                          ">= 20,000 rows/s", f["import_rps"] >= 20_000))
    if "collect" in res:
        c = res["collect"]
        nop, pau = c["runs"]["no pause"], c["runs"]["pause"]
        table.append((f"collect {c['pages']} pages x {c['page_size']} (replay)", f"{nop['pps']:,.1f} pages/s "
                      f"({nop['s']:.2f} s, no pause)", "-", "-", "-", None))
        table.append((f"same, {c['pause_s']:g} s pause", f"{pau['s']:.2f} s = {pau['pause_total']:.2f} s of pauses "
                      f"+ {pau['s'] - pau['pause_total']:.2f} s", f"{nop['s']:.2f} s (no pause)",
                      f"{c['extra_s']:+.2f} s beyond the pauses", "pause is the only wait", abs(c["extra_s"]) < 0.5 + 0.2 * nop["s"]))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        INPUTS_START,
        "## Core: reading formats and collecting (`bench/bench_core.py --only formats,collect`)",
        "",
        f"Run {now} on {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({machine_load()}); demo corpus of {args.size:,} reviews (seed {args.seed}); "
        f"median of {args.repeat} runs; whole run {total_s:.0f} s.",
        "",
        "| measure | reviewtui | baseline (same run) | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, ours, base, ratio, goal, met in table:
        verdict = "-" if met is None else "yes" if met else "NO"
        lines.append(f"| {name} | {ours} | {base} | {ratio} | {goal} | {verdict} |")
    if "formats" in res:
        f = res["formats"]
        lines += ["", f"- formats: the demo export as google-play-scraper records with an `appId` column, "
                      f"{f['jsonl']['size_mb']:.1f} MB of JSON Lines and {f['parquet']['size_mb']:.1f} MB of Parquet; "
                      "`read` is `reviewtui.readers.read_table` (every cell to a string, the header), `import` is "
                      "`Workspace.import_reviews` (read, recognise, check ids, clean, write assets with their app in "
                      f"one transaction; {f['jsonl']['kept']:,} kept). The baseline only parses the file."]
    if "collect" in res:
        c = res["collect"]
        lines += [f"- collect: `collect_play` against a loopback replay of Google Play's answers, parsed by "
                  f"google-play-scraper's own parser, each page saved as JSON Lines with the resumable state; "
                  f"{c['pages'] * c['page_size']:,} reviews. With a {c['pause_s']:g} s pause the run takes the "
                  f"{c['pages'] - 1} pauses plus the no-pause time {c['extra_s']:+.2f} s: the pause is the only wait."]
    lines.append(INPUTS_END)
    return "\n".join(lines) + "\n", table


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
        f"({machine_load()}); demo corpus of {args.size:,} reviews (seed {args.seed}); "
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


def machine_load() -> str:
    """How busy the machine was when the section was written, in words."""
    load1 = os.getloadavg()[0]
    if load1 <= 0.75 * (os.cpu_count() or 1):
        return f"nothing else running: 1-minute load average {load1:.2f}"
    return f"shared with other work, 1-minute load average {load1:.2f}, so expect noise"


def print_table(title: str, table: list[tuple]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in ("measure", "reviewtui", "baseline", "ratio", "goal", "met"):
        t.add_column(c)
    for name, ours, base, ratio, goal, met in table:
        t.add_row(name, ours, base, ratio, goal, "-" if met is None else "[green]yes[/]" if met else "[red]NO[/]")
    Console().print(t)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=40_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="runs per in-process measure (median)")
    p.add_argument("--runs", type=int, default=5, help="runs per cold-start measure (median)")
    p.add_argument("--only", default=",".join(PARTS),
                   help=f"comma-separated parts to run: {', '.join(PARTS)} (core = import, export, diff, status)")
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    args = p.parse_args(argv)
    parts = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in parts if x not in PARTS]
    if unknown:
        p.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    started = time.perf_counter()
    res: dict = {}
    inputs: dict = {}
    with tempfile.TemporaryDirectory(prefix="reviewtui-bench-") as tmp:
        work = Path(tmp)
        if "core" in parts or "formats" in parts:
            t = time.perf_counter()
            files = generate_demo(work / "data", size=args.size, seed=args.seed)
            res["generate_s"] = time.perf_counter() - t
            print(f"generated {args.size:,} reviews in {res['generate_s']:.2f} s", flush=True)
        if "core" in parts:
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
        if "formats" in parts:
            inputs["formats"] = bench_formats(files.export_csv, work, args.repeat)
            print("formats done", flush=True)
        if "collect" in parts:
            inputs["collect"] = bench_collect(work)
            print("collect done", flush=True)
    total_s = time.perf_counter() - started
    if "core" in parts:
        section, table = render(res, args, total_s)
        print_table(f"reviewtui core benchmarks ({args.size:,} reviews)", table)
        if not args.no_write:
            write_section(section, START, END)
    if inputs:
        section, table = render_inputs(inputs, args, total_s)
        print_table("reviewtui reading formats and collecting", table)
        if not args.no_write:
            write_section(section, INPUTS_START, INPUTS_END)
    if not args.no_write:
        print(f"wrote {BENCHMARKS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
