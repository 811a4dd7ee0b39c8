"""Pilot tests of the labeling screen's search and filter line, its review queues and its model
panel: the keys typed after / or f in a review queue, the suggestions after an undo, and a
filter that keeps no review."""

from __future__ import annotations

from test_tui import make_app, settle
from test_tui_quality import panel, wait_until

SIZE = (100, 30)


async def test_the_filter_typed_in_a_review_queue_takes_the_keys(quality_ws):
    """f in the suspects queue: the input takes the keys typed next (they skipped, labeled and
    re-ranked there); enter filters the labeling queue and goes back to it. / then escape: the
    keys typed changed nothing and the review queue stays."""
    from textual.widgets import Input

    ws = quality_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("S")
        await wait_until(pilot, lambda: screen.done_loading or len(screen.items) > 1)
        await settle(app, pilot)
        first = screen.current.external_id
        before = ws.store.get(first)
        await pilot.press("f", *"stars=1")
        await settle(app, pilot)
        field = screen.query_one("#filter-input", Input)
        assert app.screen is screen and screen.focused is field and field.value == "stars=1"
        after = ws.store.get(first)
        assert (after.label, after.status, after.skipped) == (before.label, before.status, before.skipped)
        assert screen.queue_name == "suspects"
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.queue_name == "active" and screen.filter_text == "stars=1"
        assert screen.items and all(int(a.metadata["score"]) == 1 for a in screen.items)
        assert panel(screen, "#filter-line").startswith("filter: stars 1")

        await pilot.press("S")
        await wait_until(pilot, lambda: screen.done_loading or len(screen.items) > 1)
        await settle(app, pilot)
        current = screen.current.external_id
        before = ws.store.get(current)
        await pilot.press("slash", *"crash", "escape")   # c confirmed, r re-ranked, s skipped
        await settle(app, pilot)
        after = ws.store.get(current)
        assert app.screen is screen and screen.queue_name == "suspects" and screen.current.external_id == current
        assert (after.label, after.status, after.skipped) == (before.label, before.status, before.skipped)
        assert current not in screen.confirmed_here and screen.filter_text == "stars=1" and not screen.search_text
