"""Names and texts with square brackets are data, not rich markup: a category named "[/]" or
"praise [b]great[/b]", an app id or a review with brackets prints as written in every table of
the CLI (it stopped `categories` and `summary` with a MarkupError traceback, or lost its brackets)."""

from __future__ import annotations

import csv

from reviewtui.cli import main
from reviewtui.store import NewAsset
from reviewtui.workspace import Workspace

ODD = ["fees [beta]", "[/]", "praise [b]great[/b]"]
HEADER = ["reviewId", "content", "score", "app", "reviewCreatedVersion", "at", "thumbsUpCount",
          "predicted_category", "confidence", "sentiment", "sentiment_score", "model"]


def odd_workspace(root) -> Workspace:
    ws = Workspace.init(root, name="odd", categories=", ".join(ODD))
    keys = ws.taxonomy.keys
    rows = [(f"r{i}", f"review [red]{i}[/] :smile:", 1 + i % 5, ["[app]", "bank.app"][i % 2], "1.0.0",
             keys[i % 3]) for i in range(40)]
    ws.store.add_assets([NewAsset(e, text, {"score": s, "app": app, "app_version": v}) for e, text, s, app, v, _ in rows])
    for e, *_, key in rows[:6]:
        ws.label(e, key)
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for e, text, s, app, v, key in rows:
            w.writerow([e, text, s, app, v, "2025-01-01 10:00:00", 0, key, 0.9,
                        "negative" if s < 3 else "positive", 0.0, "quick"])
    return ws


def run(root, capsys, *argv) -> tuple[int, str, str]:
    code = main(["-w", str(root), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_categories_summary_and_status_print_bracketed_names_as_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    ws = odd_workspace(tmp_path / "ws")
    try:
        code, out, err = run(ws.root, capsys, "categories")
        assert code == 0 and not err
        assert all(name in out for name in ODD)
        code, out, err = run(ws.root, capsys, "summary")
        assert code == 0 and not err
        assert "fees [beta]" in out and "[/]" in out and "praise [b]great[/b]" in out and "[app]" in out
        code, out, err = run(ws.root, capsys, "status")
        assert code == 0 and "[app]" in out
        code, out, err = run(ws.root, capsys, "queue", "--dry-run", "--strategy", "random", "--rows", "3")
        assert code == 0 and "[red]" in out and ":smile:" in out
        assert "0.000" not in out  # a random draw scores nothing: its uncertainty column says "-"
    finally:
        ws.close()


def test_a_table_titled_with_an_app_id_prints_it_as_written(tmp_path, capsys, monkeypatch):
    """One app: summary's per-version table is titled with its id, and an id with "[/]" in it
    stopped summary with a MarkupError."""
    monkeypatch.setenv("COLUMNS", "200")
    ws = Workspace.init(tmp_path / "ws", name="odd", categories="Bug, Praise")
    keys = ws.taxonomy.keys
    app = "bank [/] app"
    ws.store.add_assets([NewAsset(f"r{i}", f"review {i}", {"score": 1 + i % 5, "app": app,
                                                          "app_version": f"1.0.{i % 3}"}) for i in range(40)])
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(40):
            w.writerow([f"r{i}", f"review {i}", 1 + i % 5, app, f"1.0.{i % 3}", "2025-01-01 10:00:00", 0,
                        keys[i % 2], 0.9, "negative" if i % 5 < 2 else "positive", 0.0, "quick"])
    try:
        code, out, err = run(ws.root, capsys, "summary")
        assert code == 0 and not err
        assert "Per app version of bank [/] app" in out
    finally:
        ws.close()
