"""Pilot tests of reviews coming into the app: the status screen's collect (c, the form, the
worker's progress, esc cancels) against the loopback replay of Google Play, counts by app, and
the summary screen's app filter and app x version table."""

from __future__ import annotations

import csv
import random

from play_replay import Replay, ReplayServer, make_corpus
from test_tui import make_app, notes, settle, wait_until

from reviewtui.collect import raw

APP = "com.example.app"
SIZE = (100, 30)


def use_replay(ws, url: str, **collect) -> None:
    ws.config.update_section("collect", {"base_url": url, "page_size": 20, "pause_s": 0.0, "backoff_s": 0.01,
                                         "timeout_s": 5.0, **collect})


async def test_collect_by_keys_imports_the_reviews_with_their_app(fixture_ws):
    ws = fixture_ws
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        use_replay(ws, url)
        app = make_app(ws)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert not app.screen.query_one("#by-app").display  # no review has an app yet
            await pilot.press("c")
            await pilot.pause()
            assert type(app.screen).__name__ == "CollectDialog"
            await pilot.press(*APP)
            await pilot.press("tab", *"all")  # focusing the field selects its text: typing replaces it
            await pilot.press("enter")
            await wait_until(pilot, lambda: any("45 new reviews" in n for n in notes(app)))
            await settle(app, pilot)
            status = app.screen
            assert status.query_one("#by-app").display and not status.query_one("#collect-row").display
    assert ws.store.counts_by_app() == {APP: 45, None: 40}
    assert ws.store.get(f"{APP}-00045").metadata["app"] == APP
    assert [r["count"] for r in rep.requests] == [20, 20, 20]
    assert any(f"{APP}: 3 pages, 45 new reviews (no more reviews); 45 added to the workspace." in n for n in notes(app))


async def test_escape_cancels_a_running_collect_and_keeps_what_it_saved(fixture_ws):
    ws = fixture_ws
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        use_replay(ws, url, page_size=5, pause_s=30)
        app = make_app(ws)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("c")
            await pilot.pause()
            await pilot.press(*APP, "enter")
            folder = ws.raw_dir / APP
            await wait_until(pilot, lambda: (folder / raw.STATE_NAME).exists() and raw.load_state(folder).pages >= 1)
            await pilot.pause(0.3)
            assert app.screen.query_one("#collect-row").display
            await pilot.press("escape")
            await wait_until(pilot, lambda: any("Cancelled" in n for n in notes(app)), timeout=20)
            await settle(app, pilot)
    assert ws.store.counts_by_app()[APP] == 5
    assert any("rerun the same command to continue" in n for n in notes(app))
    assert raw.load_state(ws.raw_dir / APP).status == "running"  # collecting again continues


async def test_a_collect_error_shows_the_cli_text(fixture_ws):
    ws = fixture_ws
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"not an id", "enter")
        await settle(app, pilot)
        assert not app.screen.query_one("#collect-row").display
    assert any("is not a Google Play app id" in n for n in notes(app))
    assert ws.store.count() == 40


async def test_collect_is_in_the_palette_and_the_help(fixture_ws):
    app = make_app(fixture_ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"collect from google")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "status" and type(app.screen).__name__ == "CollectDialog"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = " ".join(text_of(w.content) for w in app.screen.query("Static"))
    assert "Collect from Google Play" in help_text and "Cancel collect" in help_text


def text_of(content) -> str:
    """What a rich renderable shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def write_app_results(ws, names: tuple[str, str, str] = ("A", "B", "C")) -> None:
    """results/result.csv of 3 apps (A: versions 1.9 and 1.10, B: 2.0, C: 3.1; or ``names``) for the
    summary screen."""
    rng = random.Random(2)
    keys = ws.taxonomy.training_keys
    rows = []
    a, b, c = names
    for app, version, n in ((a, "1.9.0", 40), (a, "1.10.0", 40), (b, "2.0", 35), (c, "3.1", 31)):
        for i in range(n):
            negative = rng.random() < (0.7 if version == "1.10.0" else 0.2)
            rows.append([f"{app}{version}-{i}", "text", "1" if negative else "5", app, version, "", "0",
                         rng.choice(keys), "0.9", "negative" if negative else "positive", "0", "fixture-model"])
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["reviewId", "content", "score", "app", "reviewCreatedVersion", "at", "thumbsUpCount",
                    "predicted_category", "confidence", "sentiment", "sentiment_score", "model"])
        w.writerows(rows)


async def test_summary_sets_the_apps_category_shares_side_by_side(fixture_ws):
    """t twice with several apps: categories as rows, one column of shares per app (each app's
    reviews in the first row) and all apps; at 80 columns it keeps beside the chart. With one app
    chosen the table cycles between categories and versions only."""
    from textual.widgets import DataTable

    ws = fixture_ws
    write_app_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#summary-table", DataTable)
        await pilot.press("t", "t")
        await settle(app, pilot)
        assert screen.view == "apps" and table.border_title.startswith("Categories by app")
        assert [str(c.label) for c in table.ordered_columns] == ["category", "A", "B", "C", "all"]
        assert [str(c) for c in table.get_row("reviews")] == ["reviews", "80", "35", "31", "146"]
        s = ws.summary()
        first = ws.taxonomy.training_keys[0]
        assert [str(c) for c in table.get_row(first)[1:]] == [f"{s.category_by_app.at[first, a]:.0%}"
                                                             for a in ("A", "B", "C", "all")]
        assert table.region.right <= 80
        await pilot.press("t")
        await settle(app, pilot)
        assert screen.view == "categories"
        await pilot.press("a")  # app A alone: nothing to set side by side
        await settle(app, pilot)
        await pilot.press("t", "t")
        await settle(app, pilot)
        assert screen.view == "categories" and table.border_title == "Negative share per category"


async def test_the_app_picker_keeps_the_ends_of_long_app_ids(fixture_ws):
    from textual.widgets import Select

    ws = fixture_ws
    names = ("com.dreamplug.androidapp", "com.dreamplug.androidapp-eu", "com.dreamplug.androidapp-us")
    write_app_results(ws, names)
    app = make_app(ws, start="summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        select = app.screen.query_one("#summary-app", Select)
        prompts = [str(prompt) for prompt, _ in select._options[1:]]
        assert len(set(prompts)) == 3 and all(len(p) <= 22 for p in prompts)
        assert prompts[1].endswith("-eu") and prompts[2].endswith("-us")
        assert [value for _, value in select._options[1:]] == list(names)


async def test_summary_app_filter_and_the_app_version_table(fixture_ws):
    ws = fixture_ws
    write_app_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#summary-table")
        assert screen.apps == ["A", "B", "C"] and screen.app_versions == []
        await pilot.press("v")  # several apps: versions need an app first
        await pilot.pause()
        assert any("choose one first" in n for n in notes(app)) and screen.version == "all"
        await pilot.press("t")
        await settle(app, pilot)
        assert table.row_count == 4  # every app's versions, newest first
        assert [str(table.get_row_at(i)[1]) for i in range(2)] == ["1.10 ★", "1.9"]
        await pilot.press("a")
        await settle(app, pilot)
        assert screen.app_filter == "A" and screen.app_versions == ["1.9", "1.10"] and screen.latest == "1.10"
        assert table.row_count == 2
        await pilot.press("v")
        await settle(app, pilot)
        assert screen.version == "1.10"
        await pilot.press("t")
        await settle(app, pilot)
        keys = [str(c) for c in ws.summary(app="A").categories.index]
        assert sum(int(table.get_row(c)[1]) for c in keys) == 40
        await pilot.press("w")
        await settle(app, pilot)
    assert "40 reviews (app A, app version 1.10)" in (ws.results_dir / "report.md").read_text(encoding="utf-8")
