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


def refit_suggestions(ws, fits) -> list[bool]:
    """The suggestions' model is replaced by ``fits``: the number of training labels -> (source,
    label) of a model fitted on them. Each fit (the first call, then each refit) gives every
    review its label at 90% (none when the source is ""). No embedding model loads. Returns the
    ``refit`` flag of every call."""
    from reviewtui.active.suggestions import Suggestions

    calls: list[bool] = []
    fitted: list[tuple[str, str, int]] = []

    def suggestions(ids, refit=False):
        calls.append(refit)
        if refit or not fitted:
            n = len(ws.store.training_assets(ws.taxonomy.training_keys)[0])
            fitted[:] = [(*fits(n), n)]
        source, label, labels = fitted[0]
        out = Suggestions(source=source, labels=labels)
        if source:
            out.update({e: (label, 0.9) for e in ids})
        return out

    ws.suggestions = suggestions
    ws.prepare_suggestions = lambda on_event=None: suggestions([])
    ws.queue_batch = lambda *args, **kwargs: None
    ws.record_refit = lambda: None
    return calls


async def label_twice_and_rank(app, pilot, calls) -> None:
    """Once the labeling screen shows a review: labels two (with retrain_every = 2 the second refits
    the model and ranks the queue), then waits for that ranking to end."""
    screen = app.screen
    await wait_until(pilot, lambda: screen.current is not None and not screen.reranking, timeout=20)
    await settle(app, pilot)
    refits = calls.count(True)
    await pilot.press("1", "2")
    await wait_until(pilot, lambda: calls.count(True) > refits and not screen.reranking, timeout=20)
    await settle(app, pilot)


async def undo_after_a_ranking(ws, fits) -> tuple[str, str, str]:
    """retrain_every = 2: two labels (the second refits the model and ranks the queue), then u.
    Returns the model panel of the review undone, of the one after it, and the categories panel."""
    ws.config.update_section("active_learning", {"retrain_every": 2})
    calls = refit_suggestions(ws, fits)
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await label_twice_and_rank(app, pilot, calls)
        second = screen.items[screen.index - 1].external_id
        refits = calls.count(True)
        await pilot.press("u")
        await wait_until(pilot, lambda: calls.count(True) > refits, timeout=20)
        await settle(app, pilot)
        assert screen.current.external_id == second and ws.store.get(second).label is None
        undone, categories = panel(screen, "#suggestion"), panel(screen, "#categories")
        await pilot.press("right")
        await settle(app, pilot)
        return undone, panel(screen, "#suggestion"), categories


async def test_after_an_undo_the_model_panel_reads_the_model_fitted_without_the_label(fixture_ws):
    """The undo refits the model: the review undone and the ones after it show the new fit's
    suggestion (the next review kept the old model's under the new model's line)."""
    ws = fixture_ws
    content, interface = ws.taxonomy.get("CONTENT").name, ws.taxonomy.get("INTERFACE").name
    undone, following, categories = await undo_after_a_ranking(
        ws, lambda n: ("model", "INTERFACE" if n == 17 else "CONTENT"))
    assert undone.splitlines() == [f"{interface}  90%", "quick model on 17 labels"]
    assert following.splitlines() == [f"{interface}  90%", "quick model on 17 labels"]
    assert f"{interface} ◀" in categories and f"{content} ◀" not in categories


async def test_an_undo_that_leaves_no_model_leaves_no_suggestion(tmp_path):
    """An undo takes back the only label of a category: no model is left (and no zero-shot
    prior): the panel says so instead of the suggestion of the model that is gone."""
    from tui_data import reviews

    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="undo")
    ws.store.add_assets(reviews(), source="fixture.csv", sha256="0" * 64, rows_read=40)
    try:
        undone, following, categories = await undo_after_a_ranking(
            ws, lambda n: ("model", "CONTENT") if n >= 2 else ("", ""))
    finally:
        ws.close()
    for text in (undone, following):
        assert text.startswith("no suggestion yet: label reviews of two categories") and "%" not in text
    assert "◀" not in categories


async def test_a_filter_that_keeps_no_review_says_so_and_offers_no_bulk_label(fixture_ws):
    """A search, then a filter, that no review matches: the filter line says that no review
    matches and how to clear what is in use, instead of "0 reviews · B label them all"; the keys
    it names clear it."""
    app = make_app(fixture_ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("slash", *"zzzqqq", "enter")
        await settle(app, pilot)
        line = panel(screen, "#filter-line")
        assert line == "filter: search 'zzzqqq' · no review matches · to clear it: /, backspace, enter"
        await pilot.press("f", *"stars=3", "enter")
        await settle(app, pilot)
        line = panel(screen, "#filter-line")
        assert "B label" not in line and "0 reviews" not in line
        assert line.endswith("no review matches · to clear them: / (search) and f (filter), each with backspace, "
                             "enter")
        await pilot.press("slash", "backspace", "enter")
        await settle(app, pilot)
        assert panel(screen, "#filter-line") == ("filter: stars 3 · no review matches · to clear it: f, backspace, "
                                                 "enter")
        await pilot.press("f", "backspace", "enter")
        await settle(app, pilot)
        assert not screen.filtered and screen.current is not None
        assert panel(screen, "#filter-line").startswith("/ search")


async def test_the_review_after_a_label_that_ranks_the_queue_reads_the_new_fit(tmp_path):
    """The second label sets off a ranking that fits the first model: the review shown next gets
    its suggestion (it said "suggestion coming…" for good: the ranking refitted only the reviews
    up to the one labeled)."""
    from tui_data import reviews

    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="rank")
    ws.store.add_assets(reviews(), source="fixture.csv", sha256="0" * 64, rows_read=40)
    ws.config.update_section("active_learning", {"retrain_every": 2})
    calls = refit_suggestions(ws, lambda n: ("model", "CONTENT") if n >= 2 else ("", ""))
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await label_twice_and_rank(app, pilot, calls)
            assert screen.index == 2
            assert panel(screen, "#suggestion").splitlines() == [f"{ws.taxonomy.get('CONTENT').name}  90%",
                                                                 "quick model on 2 labels"]
    finally:
        ws.close()


async def test_a_ranking_that_ends_in_a_review_queue_keeps_its_suggestions(quality_ws):
    """r, then S while the ranking runs: when it ends, the suspects keep the label their queue
    suggests (the quick model's answer for the reviews reached meanwhile replaced it)."""
    import threading

    ws = quality_ws
    ws.config.update_section("active_learning", {"retrain_every": 0})
    refit_suggestions(ws, lambda n: ("model", "CONTENT"))
    release = threading.Event()
    ws.queue_batch = lambda *args, **kwargs: release.wait(30)
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.current is not None, timeout=20)
        await settle(app, pilot)
        await pilot.press("r", "S")
        await wait_until(pilot, lambda: screen.in_review_queue and len(screen.items) > 1, timeout=60)
        suggested = {e: n.suggested for e, n in screen.notes.items() if n.suggested}
        assert suggested and any(s != "CONTENT" for s in suggested.values())
        await pilot.press("right")
        release.set()
        await wait_until(pilot, lambda: not screen.reranking, timeout=20)
        await settle(app, pilot)
        assert all(screen.suggestions[e][0] == s for e, s in suggested.items() if e in screen.suggestions)
        assert all(e in screen.suggestions for e in [a.external_id for a in screen.items[:2]])


async def test_a_searched_queue_labeled_to_its_end_says_none_is_left(fixture_ws):
    """The reviews a search found, all labeled: the queue panel said "2 of 2" beside "no review
    matches", as if the second were still shown."""
    import re

    app = make_app(fixture_ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        word = max(re.findall(r"[a-z]{5,}", screen.current.text.lower()), key=len)
        await pilot.press("slash", *word, "enter")
        await settle(app, pilot)
        found = len(screen.items)
        assert screen.done_loading and 1 <= found <= 20, (word, found)
        for _ in range(found):
            await pilot.press("1")
            await settle(app, pilot)
        assert screen.current is None
        assert f"none left of {found}" in panel(screen, "#queue-info")
