"""A team's own files and bulk work (not tests): reading stars and dates, a re-import that fills in
metadata, and undoing a bulk label. Each figure is set against a baseline measured in the same run:

  values    reading the star and date columns of N rows into 1-5 and ISO 8601
            (``ingest._read_values``), for ISO dates (every Google Play export), Unix milliseconds
            (Amazon's review sets) and day-first dates of 10,000 distinct days, against building the
            metadata JSON of the same columns as they are (``ingest._metadata_json``), which every
            import does anyway
  re-import ``store.fill_metadata`` over N stored reviews that lack a column, against the import
            of the same rows (``store.import_batches``)
  undo      ``undo --bulk`` of a bulk label of N reviews, against the bulk label itself

Run:  .venv/bin/python bench/bench_inputs.py [--rows 1000000] [--bulk 5000,20000] [--no-write]
The figures go into docs/BENCHMARKS.md between the inputs markers.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import write_section  # noqa: E402

START, END = "<!-- inputs:start -->", "<!-- inputs:end -->"
DAY0 = datetime(1999, 1, 1)


def timed(func) -> tuple[float, object]:
    t = time.perf_counter()
    out = func()
    return time.perf_counter() - t, out


def bench_values(n: int) -> list[tuple[str, float, float]]:
    """(case, seconds reading the two columns, seconds of their metadata JSON as they are)."""
    import pyarrow as pa

    from reviewtui.ingest import CleaningReport, _metadata_json, _read_values

    stars = pa.array([str(i % 5 + 1) for i in range(n)], pa.string())
    cases = {
        "ISO dates": [f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00" for i in range(n)],
        "Unix milliseconds": [str(1_600_000_000_000 + i * 997) for i in range(n)],
        "day-first dates, 10,000 distinct days": [(DAY0 + timedelta(days=i % 10_000)).strftime("%d/%m/%Y")
                                                  for i in range(n)],
    }
    out = []
    for case, values in cases.items():
        dates = pa.array(values, pa.string())
        report = CleaningReport("bench")
        read, _ = timed(lambda: (_read_values("score", "stars", stars, None, report),
                                 _read_values("at", "date", dates, None, report)))
        base, _ = timed(lambda: _metadata_json([("score", stars), ("at", dates)], n))
        out.append((case, read, base))
    return out


def bench_reimport(n: int) -> tuple[float, float, int]:
    """(seconds of the import of n rows without dates, seconds of the re-import filling them, filled)."""
    from reviewtui.store import AssetColumns, LocalStore

    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "s.db", create=True)
        ids = [f"r{i}" for i in range(n)]
        texts = [f"review number {i} about the app" for i in range(n)]
        first = AssetColumns(ids, texts, [f'{{"score": {i % 5 + 1}}}' for i in range(n)])
        again = AssetColumns(ids, texts, [f'{{"score": {i % 5 + 1}, "at": "2025-03-{i % 28 + 1:02d}"}}'
                                          for i in range(n)])
        imported, _ = timed(lambda: store.import_batches([(first, "a.csv", "0", n)]))
        filled_s, filled = timed(lambda: store.fill_metadata(again))
        store.close()
    return imported, filled_s, int(filled)


def bench_undo(n: int) -> tuple[float, float, int]:
    """(seconds of a bulk label of n reviews, seconds of undo --bulk, reviews undone)."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws", name="bench")
        ws.store.add_assets([NewAsset(f"a{i}", f"text {i}", {}) for i in range(n)])
        key = ws.taxonomy.keys[0]
        ids = [f"a{i}" for i in range(n)]
        label_s, _ = timed(lambda: ws.bulk_label(ids, key, expected=n))
        undo_s, events = timed(ws.undo_bulk)
        ws.close()
    return label_s, undo_s, len(events)


def render(values, reimport, undos, n: int) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [START, "## A team's own files and bulk work (`bench/bench_inputs.py`)", "",
             f"Run {when} on {platform.machine()}, Python {platform.python_version()}; one process.", "",
             "| what | reviewtui | baseline (same run) | ratio |", "|---|---:|---:|---:|"]
    for case, read, base in values:
        lines.append(f"| reading stars and dates of {n:,} rows: {case} | {read:.2f} s | "
                     f"{base:.2f} s (their metadata JSON as they are) | {read / base:.2f}x |")
    imported, filled_s, filled = reimport
    lines.append(f"| re-import filling a date into {filled:,} stored reviews (`store.fill_metadata`) | "
                 f"{filled_s:.2f} s | {imported:.2f} s (the import of the same rows) | {filled_s / imported:.2f}x |")
    for size, (label_s, undo_s, undone) in undos:
        lines.append(f"| `undo --bulk` of a bulk label of {size:,} reviews ({undone:,} undone) | {undo_s:.2f} s | "
                     f"{label_s:.2f} s (the bulk label itself) | {undo_s / label_s:.2f}x |")
    lines += ["", "Notes:",
              "- values: the reading is what an import adds per file to the cleaning it did before. ISO dates "
              "and plain stars are checked with one pattern over the column; Unix times are converted in one "
              "pyarrow pass; other dates are read once per distinct value.",
              "- re-import: every stored review lacks the date, so each row is updated; a re-import with "
              "nothing to fill runs the same statement per row and changes nothing.",
              "- undo: each event of the set is read in one query and undone by its row; before, the set was "
              "undone one `undo_last` query at a time and each undo rebuilt the set of every undo (5,000 "
              "reviews took 23 s, measured once by hand on this machine; not a baseline of this run).",
              END]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reimport", type=int, default=200_000)
    ap.add_argument("--bulk", default="5000,20000")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    values = bench_values(args.rows)
    reimport = bench_reimport(args.reimport)
    undos = [(int(s), bench_undo(int(s))) for s in args.bulk.split(",")]
    text = render(values, reimport, undos, args.rows)
    print(text)
    if not args.no_write:
        write_section(text, START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
