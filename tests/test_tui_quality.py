"""Pilot tests of label quality in the app, driven by keys and checked on the store: the suspects,
stars-vs-text and disagreement queues of the labeling screen (confirm, relabel, undo, re-rank),
the quality screen (disagreements to review), the diff's author and time, help and palette."""

from __future__ import annotations

from test_tui import make_app, settle
from tui_data import ANN, BOB

SIZE = (100, 30)


async def wait_until(pilot, condition, timeout: float = 120.0) -> None:
    import time

    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.1)


def panel(screen, selector: str) -> str:
    return text_of(screen.query_one(selector))


def text_of(widget) -> str:
    """The text a Static shows, whatever it holds (a markup string, a Text, a rich Table)."""
    import io

    from rich.console import Console
    from rich.text import Text

    content = widget.content
    if isinstance(content, str):
        return Text.from_markup(content).plain
    console = Console(width=100, file=io.StringIO())
    console.print(content)
    return console.file.getvalue()


def test_queue_sources_page_skip_and_leave_out_what_changed(quality_ws):
    from reviewtui.tui.queues import queue_sources

    ws = quality_ws
    sources = queue_sources()
    assert [a.external_id for a in sources["active"].page(ws, 3, ["r16"]).assets] == ["r17", "r18", "r19"]
    stars = sources["stars"]
    page = stars.page(ws, 1, [])
    assert [a.external_id for a in page.assets] == ["q2"] and page.asked == 1 and stars.computed == 1
    assert page.notes["q2"].suggested is None and page.notes["q2"].reason.startswith("1★ but the text reads positive")
    assert "2 reviews whose stars contradict their text" in page.summary
    assert [a.external_id for a in stars.page(ws, 5, ["q2"]).assets] == ["q1"] and stars.computed == 1  # from memory
    ws.label("q1", "CONTENT")  # relabeled since the queue was built: judged again next time, not shown now
    assert stars.page(ws, 5, ["q2"]).assets == []
    assert [a.external_id for a in stars.page(ws, 5, ["q2"], fresh=True).assets] == ["q1"] and stars.computed == 2
    page = sources["disagreements"].page(ws, 5, ["r02"])
    assert [a.external_id for a in page.assets] == ["r07"] and page.notes["r07"].reason == "ann User experience · bob Interface"


async def test_suspects_queue_confirm_relabel_and_undo(quality_ws):
    ws = quality_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("S")
        await wait_until(pilot, lambda: screen.done_loading or len(screen.items) > 1)
        await settle(app, pilot)
        assert screen.queue_name == "suspects" and len(screen.items) >= 2
        report = ws.suspects()
        assert [a.external_id for a in screen.items] == [s.external_id for s in report.suspects]
        first, second = screen.items[0], screen.items[1]
        why = panel(screen, "#suggestion")
        top = report.suspects[0]
        suggested = ws.taxonomy.get(top.suggested).name  # the categories by their names
        assert f"suggests {suggested}" in why and f"the model gives {suggested}" in why
        assert "suspect labels" in panel(screen, "#queue-info")

        await pilot.press("c")                       # keep the first suspect's label
        await settle(app, pilot)
        assert ws.store.confirmed_labels() == {first.external_id: first.label}
        assert ws.store.label_history(first.external_id)[-1].kind == "confirm"
        assert screen.current.external_id == second.external_id

        key = next(n for n, c in enumerate(ws.taxonomy.categories, start=1) if c.key != second.label)
        new_label = ws.taxonomy.categories[key - 1].key
        await pilot.press(str(key))                  # the second one gets another label: a new label event
        await settle(app, pilot)
        event = ws.store.label_history(second.external_id)[-1]
        assert (event.kind, event.category, event.author) == ("label", new_label, ws.author)
        assert ws.store.get(second.external_id).label == new_label

        await pilot.press("u")                       # undo the label, then the confirmation
        await settle(app, pilot)
        assert ws.store.get(second.external_id).label == second.label
        await pilot.press("u")
        await settle(app, pilot)
        assert ws.store.confirmed_labels() == {}
        assert screen.current.external_id == first.external_id and first.external_id not in screen.confirmed_here
        assert "Undid confirm" in app.notes[-1]


async def test_suspects_are_ranked_again_after_each_retrain_and_on_r(quality_ws):
    ws = quality_ws
    ws.config.update_section("active_learning", {"retrain_every": 1})
    app = make_app(ws, start="labeling", assist=True)
    ws.suggestions = lambda ids, refit=False: {}  # the labeling queue's own suggestions are not under test
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        source = screen.sources["suspects"]
        await pilot.press("S")
        await wait_until(pilot, lambda: source.computed == 1 and screen.items)
        await settle(app, pilot)
        await pilot.press("c")                       # not a label: no retrain
        await settle(app, pilot)
        assert source.computed == 1
        await pilot.press("1")                       # a label: retrain_every 1 ranks the suspects again
        await wait_until(pilot, lambda: source.computed == 2)
        await settle(app, pilot)
    ws.config.update_section("active_learning", {"retrain_every": 0})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        source = screen.sources["suspects"]
        await pilot.press("S")
        await wait_until(pilot, lambda: source.computed == 1 and screen.items)
        await pilot.press("2")                       # retrain_every 0: nothing by itself
        await settle(app, pilot)
        assert source.computed == 1
        await pilot.press("r")                       # ... until r asks
        await wait_until(pilot, lambda: source.computed == 2)
        await settle(app, pilot)


async def test_stars_queue_labels_and_confirms(quality_ws):
    ws = quality_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("T")
        await settle(app, pilot)
        assert screen.queue_name == "stars" and [a.external_id for a in screen.items] == ["q2", "q1"]
        assert "1★ but the text reads positive (vader" in panel(screen, "#suggestion")
        await pilot.press("c")                       # q2 has no label: nothing to confirm
        await settle(app, pilot)
        assert ws.store.confirmed_labels() == {} and "no label to confirm" in app.notes[-1]
        await pilot.press("4")                       # label it
        await settle(app, pilot)
        assert ws.store.get("q2").label == "USER_EXPERIENCE"
        assert screen.current.external_id == "q1"
        await pilot.press("c")
        await settle(app, pilot)
        assert ws.store.confirmed_labels() == {"q1": "INTERFACE"}
        await pilot.press("A", "T")                  # built again: the confirmed one is left out
        await settle(app, pilot)
        assert [a.external_id for a in screen.items] == ["q2"]
        await pilot.press("A")                       # back to the labeling queue
        await settle(app, pilot)
        assert screen.queue_name == "active" and screen.items[0].status == "TODO"
        assert panel(screen, "#suggestion").startswith("suggestions are off")


async def test_disagreements_queue_shows_each_authors_label(quality_ws):
    ws = quality_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("D")
        await settle(app, pilot)
        assert [a.external_id for a in screen.items] == ["r02", "r07"]
        names = {c.key: c.name for c in ws.taxonomy}
        assert f"ann {names[ANN['r02']]} · bob {names[BOB['r02']]}" in panel(screen, "#suggestion")
        await pilot.press("c", "D")
        await settle(app, pilot)
        assert ws.store.confirmed_labels() == {"r02": "INTERFACE"}
        assert [a.external_id for a in screen.items] == ["r07"]


async def test_quality_screen_sends_the_open_disagreements_to_review(quality_ws):
    ws = quality_ws
    ws.confirm_label("r07", "USER_EXPERIENCE")  # settled: not sent
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        screen = app.screen
        assert app.current_mode == "quality"
        head = panel(screen, "#quality-head")
        assert "Agreement on 7 reviews" in head and "Cohen's κ" in head and "1 open" in head
        authors = screen.query_one("#quality-authors")
        rows = {authors.get_row_at(i)[0]: authors.get_row_at(i) for i in range(authors.row_count)}
        assert set(rows) == {"ann", "bob", "fixture", ws.author}
        assert rows["ann"][1:3] == ["7", "0"] and rows["ann"][6] == "60.0" and rows[ws.author][4] == "1"
        assert "Subscription" in panel(screen, "#quality-categories")
        assert "Subscription → Content 1" in panel(screen, "#quality-transitions")
        await pilot.press("R")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog" and "Send the 1 reviews" in app.screen.question
        await pilot.press("n")
        await settle(app, pilot)
        assert ws.store.counts_by_status()["TO_REVIEW"] == 0
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert [a.external_id for a in ws.store.iter_assets(statuses=["TO_REVIEW"])] == ["r02"]
        assert "Sent 1 asset to review." in app.notes
        await settle(app, pilot)  # r02 waits in review now: nothing is left to send, and the head says so
        assert "none to send: 1 already waiting in review" in panel(screen, "#quality-head")
        await pilot.press("R")
        await pilot.pause()
        assert type(app.screen).__name__ != "ConfirmDialog"
        assert any("wait in review already or were reviewed since" in n for n in app.notes)


async def test_diff_screen_says_who_and_when(quality_ws):
    app = make_app(quality_ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#diff-rows")
        rows = {table.get_row_at(i)[1]: table.get_row_at(i) for i in range(table.row_count)}
        assert rows["r00"][4] == "fixtu… 01-15" and rows["r02"][4] == "fixtu… 01-15"
        assert rows["r12"][4] == "fixtu… 01-15"  # an added row: who gave its label
        await pilot.press("down", "down", "down", "down")
        await pilot.pause()
        assert "by fixture at 2026-01-15 09:30 UTC" in str(app.screen.query_one("#diff-preview").render())


async def test_queue_keys_and_quality_are_in_help_and_the_palette(quality_ws):
    app = make_app(quality_ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = " ".join(text_of(w) for w in app.screen.query("Static"))
        for phrase in ("Queue: suspect labels", "Queue: stars vs text", "Queue: disagreements", "Confirm label",
                       "Disagreements to review", "6 Quality"):
            assert phrase in text, phrase
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"suspect labels")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "queue_name", "") == "suspects")
        await settle(app, pilot)


async def test_building_the_suspects_shows_its_progress(quality_ws, monkeypatch):
    """S on a workspace imported with thousands of labels embeds them all first (minutes on a
    CPU): the review pane said "Loading the queue…" the whole time. It now says what is done."""
    import threading

    from reviewtui.events import Progress

    ws = quality_ws
    release, real = threading.Event(), ws.suspects

    def slow_suspects(*, top=None, on_event=None, cancel=None):
        on_event(Progress("embed", 1200, 4800))
        release.wait(60)
        return real(top=top, on_event=on_event, cancel=cancel)

    monkeypatch.setattr(ws, "suspects", slow_suspects)
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("S")
        await wait_until(pilot, lambda: screen.building is not None)
        await pilot.pause(0.1)
        pane = " ".join(panel(screen, "#review-text").split())
        assert pane == ("Finding the suspect labels: embedding the labeled reviews (the first time only, then cached) "
                        "1,200 of 4,800 (25%)")
        release.set()
        await wait_until(pilot, lambda: len(screen.items) > 0)
        await settle(app, pilot)
        assert screen.building is None and "Finding" not in panel(screen, "#review-text")
