"""A diff's table tells long external ids apart: the id column is as wide as the ids (a UUID whole)
and an id too long for it is cut in the middle, in the app's Diff screen and in `reviewtui diff`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_tui import make_app, settle

from reviewtui.store import LabelRow, NewAsset
from reviewtui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "com.example.reader:review:2026-"  # ids of one source share their start
IDS = [f"{PREFIX}{i:05d}" for i in range(4)]  # 36 characters each
LONG = ["gp:AOqpTOF" + "x" * 40 + "-first", "gp:AOqpTOF" + "x" * 40 + "-second"]  # 56 and 57


@pytest.fixture
def long_ids_ws(tmp_path):
    ws = Workspace.init(tmp_path / "w")
    ws.store.add_assets([NewAsset(ext, f"review {i} about the reader app") for i, ext in enumerate(IDS + LONG)])
    ws.store.add_labels([LabelRow(ext, "CONTENT", "ann", "human") for ext in IDS[:2]])
    ws.export()
    ws.store.add_labels([LabelRow(IDS[0], "INTERFACE", "bob", "human")]
                        + [LabelRow(ext, "CONTENT", "ann", "human") for ext in IDS[2:] + LONG])
    ws.export()
    yield ws
    ws.close()


async def test_the_diff_screen_shows_long_ids_whole_or_cut_in_the_middle(long_ids_ws):
    app = make_app(long_ids_ws, start="diff")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#diff-rows")
        shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert table.columns["id"].width == 36
    assert len(shown) == 5 and set(IDS[2:] + [IDS[0]]) <= set(shown)  # 36 characters: whole
    cut = [s for s in shown if s.startswith("gp:")]
    assert len(cut) == 2 and len(set(cut)) == 2 and all(len(s) == 36 and "…" in s for s in cut)
    assert cut[0].endswith("-first") and cut[1].endswith("-second")


def cli_rows(ws: Workspace, columns: int) -> list[list[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns)}
    proc = subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(ws.root), "diff", "1", "2"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= columns
    return [[c.strip() for c in line.strip("│").split("│")] for line in proc.stdout.splitlines()
            if line.startswith("│")]


def test_the_cli_diff_shows_long_ids_whole_or_cut_in_the_middle(long_ids_ws):
    wide = cli_rows(long_ids_ws, 140)
    ids = [r[1] for r in wide]
    assert set(IDS[2:] + [IDS[0]]) <= set(ids)  # 36 characters: whole
    cut = [i for i in ids if i.startswith("gp:")]
    assert len(set(cut)) == 2 and cut[0].endswith("-first") and cut[1].endswith("-second")
    narrow = [r[1] for r in cli_rows(long_ids_ws, 80)]
    assert len(set(narrow)) == len(narrow) == 5  # cut to fit, every id still its own
    same_start = [i for i in narrow if not i.startswith("gp:")]
    assert all("…" in i for i in same_start) and {i[-5:] for i in same_start} == {"00000", "00002", "00003"}


def test_a_version_edited_after_it_was_written_is_refused_by_diff_and_train(long_ids_ws):
    """dataset-2.csv edited by hand: diff reported a relabel nobody made, train learnt it."""
    from reviewtui.errors import ReviewtuiError

    ws = long_ids_ws
    path = ws.versions_dir / "dataset-2.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("INTERFACE", "CONTENT", 1), encoding="utf-8")
    for attempt in (lambda: ws.diff("1", "2"), lambda: ws.load_version("dataset-2"), lambda: ws.train(quick=True)):
        with pytest.raises(ReviewtuiError, match=r"dataset-2.csv: the file changed after it was written \(it is not the "
                                                 r"file dataset-2.json records\); a version is never edited"):
            attempt()
    assert len(ws.load_version("dataset-1")) == 2  # the versions not edited read as before
