"""Pilot tests of the app with category names, app ids and reviews that hold square brackets: they
are the team's text, not Textual markup. The category list `l` opens stopped the app with a
MarkupError on a category named "[/]"."""

from __future__ import annotations

from pathlib import Path

from test_tui import make_app, settle

from reviewtui.store import NewAsset
from reviewtui.workspace import Workspace

SIZE = (100, 30)
ODD = ["fees [beta]", "[/]", "praise [b]great[/b]"]


def odd_workspace(root: Path) -> Workspace:
    ws = Workspace.init(root, name="odd", categories=", ".join(ODD))
    ws.store.add_assets([NewAsset(f"r{i}", f"review [red]{i}[/] of the card", {"score": 1 + i % 5, "app": "[app]"})
                         for i in range(6)])
    return ws


async def test_the_category_list_shows_bracketed_names_and_labels_with_them(tmp_path: Path):
    from textual.widgets import OptionList

    ws = odd_workspace(tmp_path / "ws")
    try:
        app = make_app(ws, start="labeling")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            screen = app.screen
            first = screen.current.external_id
            await pilot.press("l")
            await settle(app, pilot)
            options = app.screen.query_one("#picker-list", OptionList)
            prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
            assert [p.split("  ", 1)[1] for p in prompts] == ODD
            await pilot.press("2", "enter")         # the category named "[/]"
            await settle(app, pilot)
            assert ws.store.get(first).label == ws.taxonomy.keys[1]
    finally:
        ws.close()


def write_odd_results(ws: Workspace) -> None:
    import csv

    keys = ws.taxonomy.keys
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["externalId", "content", "app", "predicted_category", "confidence", "sentiment", "score",
                    "reviewCreatedVersion", "thumbsUpCount", "model"])
        for i in range(40):
            w.writerow([f"p{i}", f"review {i}", ["[app]", "bank [/] app"][i % 2], keys[i % 3], "0.9",
                        "negative" if i % 4 else "positive", 1 + i % 5, "1.0", "0", "quick"])


async def test_the_summary_and_diff_screens_show_bracketed_names_and_reviews(tmp_path: Path):
    """A DataTable reads a string cell as markup: the summary's tables (categories, apps as
    columns) and the diff's rows (a review's text) stopped the app with a MarkupError."""
    from textual.widgets import DataTable

    ws = odd_workspace(tmp_path / "ws")
    try:
        keys = ws.taxonomy.keys
        ws.label("r0", keys[0])
        ws.label("r1", keys[1])
        ws.export()
        ws.label("r0", keys[1])
        ws.label("r2", keys[2])
        ws.export()
        write_odd_results(ws)
        app = make_app(ws, start="summary")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            screen = app.screen
            table = screen.query_one("#summary-table", DataTable)
            assert table.row_count == 3
            await pilot.press("t")                   # the apps as columns
            await settle(app, pilot)
            for _ in range(2):                       # each app in the app picker, "bank [/] app" too
                await pilot.press("a")
                await settle(app, pilot)
            assert screen.app_filter == "bank [/] app"
            await pilot.click("#summary-app")        # its list open
            await settle(app, pilot)
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("3")                   # the diff screen: dataset-1 -> dataset-2
            await settle(app, pilot)
            rows = app.screen.query_one("#diff-rows", DataTable)
            assert rows.row_count == 2
        assert app.return_code in (None, 0)
    finally:
        ws.close()


def test_the_learning_curves_table_shows_a_bracketed_category_name(tmp_path: Path):
    """`L`'s table is a rich Table: a category named "[/]" stopped the app with a MarkupError."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from reviewtui.tui.screens.curves import curves_table

    ws = odd_workspace(tmp_path / "ws")
    try:
        needs = [SimpleNamespace(key=k, labels=3, f1=0.5, change=0.1, weakest=i == 1)
                 for i, k in enumerate(ws.taxonomy.keys)]
        console = Console(width=120, file=io.StringIO(), record=True)
        for compact in (False, True):
            console.print(curves_table(needs, {}, ws.taxonomy, compact=compact))
        text = console.export_text()
        assert all(name in text for name in ODD)
    finally:
        ws.close()


async def test_a_plain_table_cell_rewritten_by_coordinate_shows_as_written():
    """update_cell_at goes through update_cell: the value is escaped once, not twice (which showed
    "\\[b]" with its backslash)."""
    from rich.text import Text
    from textual.app import App
    from textual.coordinate import Coordinate

    from reviewtui.tui.widgets.tables import PlainTable

    class One(App):
        def compose(self):
            yield PlainTable()

    app = One()
    async with app.run_test():
        table = app.query_one(PlainTable)
        table.add_column("[name]")
        table.add_row("fees [beta]")
        table.update_cell_at(Coordinate(0, 0), "praise [b]great[/b]")
        assert Text.from_markup(table.get_cell_at(Coordinate(0, 0))).plain == "praise [b]great[/b]"
        table.update_cell(table.coordinate_to_cell_key(Coordinate(0, 0)).row_key,
                          table.coordinate_to_cell_key(Coordinate(0, 0)).column_key, "[/]")
        assert Text.from_markup(table.get_cell_at(Coordinate(0, 0))).plain == "[/]"


async def test_dialog_questions_and_suggestions_are_shown_as_written(tmp_path: Path):
    """The tune screen's budget question lost its "[auto]" (read as markup), and a cluster's words
    in the new-category dialog are the reviews' text ("[/]" stopped the app)."""
    from textual.widgets import Label

    from reviewtui.tui.screens.dialogs import PromptDialog
    from reviewtui.tui.screens.tuning import BudgetDialog

    ws = odd_workspace(tmp_path / "ws")
    try:
        app = make_app(ws, start="status")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(BudgetDialog("30m"))
            await settle(app, pilot)
            texts = [str(label.render()) for label in app.screen.query(Label)]
            assert any("([auto] budget_s unless changed)" in t for t in texts), texts
            app.pop_screen()
            app.push_screen(PromptDialog("Name the cluster “[/] fees [b]”", "name", ("[/]", "Fees [beta]")))
            await settle(app, pilot)
            texts = [str(label.render()) for label in app.screen.query(Label)]
            assert any("“[/] fees [b]”" in t for t in texts) and any("[/], Fees [beta]" in t for t in texts), texts
        assert app.return_code in (None, 0)
    finally:
        ws.close()
