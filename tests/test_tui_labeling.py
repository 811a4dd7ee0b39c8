"""Pilot tests of the labeling screen found by walking through the app: the re-rank count in the
review queues, scrolling a long review, an undo bringing back a review with its suggestion, the
categories by name in the review queues and the undo notices, the session's count, the skip
reason, the status screen's hint before any label, and the side panel at 80x24. Driven by keys;
checked on the store and on what the panels say. The quick model is not under test here: its
suggestions are replaced by fixed ones so that no embedding model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_tui import make_app, settle
from test_tui_quality import panel, text_of, wait_until
from tui_data import ANN, BOB, stop_signal_rounds

from reviewtui.store import NewAsset

SIZE = (100, 30)


def fixed_suggestions(ws, label: str = "CONTENT") -> list[bool]:
    """Every review gets ``label`` at 90% (no embedding model loads); returns the ``refit`` flag
    of every call, and the calls of ``queue_batch`` (the labeling queue's ranking) as None."""
    calls: list = []

    def suggestions(ids, refit=False):
        calls.append(refit)
        return {e: (label, 0.9) for e in ids}

    def queue_batch(*args, **kwargs):
        calls.append(None)

    ws.suggestions = suggestions
    ws.prepare_suggestions = lambda on_event=None: {}
    ws.queue_batch = queue_batch
    return calls


def name_of(ws, key: str) -> str:
    return ws.taxonomy.get(key).name


async def test_the_re_rank_count_starts_again_in_the_review_queues(quality_ws):
    """retrain_every = 2: in S two labels rebuild the suspects once and the count starts again (it
    stuck at 1, and every later label rebuilt them); in T two labels refit the model; back in A
    one label does not rank the queue at once."""
    ws = quality_ws
    ws.config.update_section("active_learning", {"retrain_every": 2})
    calls = fixed_suggestions(ws)
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        source = screen.sources["suspects"]
        await pilot.press("S")
        await wait_until(pilot, lambda: source.computed == 1 and screen.items)
        await settle(app, pilot)
        assert "re-rank in 2 labels" in panel(screen, "#queue-info")
        await pilot.press("1")
        await settle(app, pilot)
        assert source.computed == 1 and screen.labels_since_rank == 1
        one = panel(screen, "#queue-info")
        await pilot.press("1")                       # the second label: the suspects again, the count back to 2
        await wait_until(pilot, lambda: source.computed == 2)
        await settle(app, pilot)
        assert screen.labels_since_rank == 0 and "re-rank in 2 labels" in panel(screen, "#queue-info")
        assert "re-rank in 1 label\n" in one        # one label, not "1 labels"
        assert True in calls                         # the model was refitted for the stop line
        if screen.current is not None:
            await pilot.press("1")                   # one more: not yet
            await settle(app, pilot)
            assert source.computed == 2 and screen.labels_since_rank == 1

        await pilot.press("T")
        await settle(app, pilot)
        refits = calls.count(True)
        assert screen.labels_since_rank == 1         # the count goes on across the queues
        await pilot.press("1")
        await settle(app, pilot)
        assert calls.count(True) == refits + 1 and screen.labels_since_rank == 0
        assert "re-rank in 2 labels" in panel(screen, "#queue-info")

        await pilot.press("A")
        await settle(app, pilot)
        ranked = calls.count(None)
        await pilot.press("2")                       # one label in A: not a ranking at once
        await settle(app, pilot)
        assert calls.count(None) == ranked and screen.labels_since_rank == 1
        await pilot.press("3")
        await settle(app, pilot)
        assert calls.count(None) == ranked + 1 and screen.labels_since_rank == 0


async def test_a_long_review_scrolls_from_the_keyboard_at_80x24(fixture_ws):
    ws = fixture_ws
    long_text = " ".join(f"sentence {i} of a long review about the app and its subscription." for i in range(25))
    assert len(long_text) > 1500
    ws.store.add_assets([NewAsset("a00", long_text, {"score": 2})], source="long.csv", sha256="1" * 64, rows_read=1)
    ws.store.set_priorities({"a00": 10})
    app = make_app(ws, start="labeling")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.current.external_id == "a00"
        scroll = screen.query_one("#review-scroll")
        assert scroll.max_scroll_y > 0 and scroll.scroll_y == 0
        for _ in range(10):
            await pilot.press("pagedown")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y  # the end of the review
        await pilot.press("shift+up")
        await pilot.pause()
        assert 0 < scroll.scroll_y < scroll.max_scroll_y
        await pilot.press("shift+down", "pageup", "pageup")
        await pilot.pause()
        assert scroll.scroll_y < scroll.max_scroll_y
        await pilot.press("pagedown", "right")       # the next review opens at its start
        await pilot.pause()
        assert scroll.scroll_y == 0
        footer = " ".join(str(k.render()) for k in screen.query("FooterKey"))
        assert "PgDn" in footer
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = " ".join(text_of(w) for w in app.screen.query("Static"))
        assert "PgDn" in help_text and "PgUp" in help_text and "Scroll up" in help_text


async def test_undoing_a_label_of_an_earlier_session_brings_its_suggestion(fixture_ws):
    ws = fixture_ws
    ws.config.update_section("active_learning", {"retrain_every": 0})
    ws.label("r39", "INTERFACE")                     # an earlier session
    fixed_suggestions(ws, "INTERFACE")
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert "r39" not in [a.external_id for a in screen.items]
        await pilot.press("u")
        await settle(app, pilot)
        assert screen.current.external_id == "r39" and ws.store.get("r39").label is None
        model = panel(screen, "#suggestion")
        assert "coming" not in model and name_of(ws, "INTERFACE") in model
        assert screen.labels_given == 0              # not a label of this session
        assert f"Undid label {name_of(ws, 'INTERFACE')} on r39." in app.notes


async def test_the_review_queues_and_the_undo_notices_name_the_categories(quality_ws):
    ws = quality_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("S")
        await wait_until(pilot, lambda: screen.done_loading or len(screen.items) > 1)
        await settle(app, pilot)
        top = ws.suspects().suspects[0]
        why = panel(screen, "#suggestion")
        suggested, label = name_of(ws, top.suggested), name_of(ws, top.label)
        assert f"suggests {suggested}" in why and f"the model gives {suggested} {top.confidence:.0%}, {label}" in why
        # the label's own probability beside it, on the first line (at 80x24 the reason line is cut)
        assert why.splitlines()[0].startswith(f"labeled {label}  {top.label_probability:.0%}")
        await pilot.press("D")
        await settle(app, pilot)
        assert f"ann {name_of(ws, ANN['r02'])} · bob {name_of(ws, BOB['r02'])}" in panel(screen, "#suggestion")
        await pilot.press("A", "1")
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        first = ws.taxonomy.categories[0]
        assert any(n.startswith(f"Undid label {first.name} on ") for n in app.notes)
        await pilot.press("U")                       # the latest change is not a bulk label
        await settle(app, pilot)
        assert app.notes[-1] == ("Your latest change is not a bulk label nor a labels file: nothing was undone (u "
                                 "takes back your latest label).")


async def test_the_session_counts_each_review_once(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("1", "2", "left")          # r16, r17, then back to r17
        await pilot.press("2")                       # the same label again: still two reviews
        await settle(app, pilot)
        assert "labeled this session: 2" in panel(screen, "#queue-info")
        await pilot.press("left", "3")               # relabeled: still two
        await settle(app, pilot)
        assert "labeled this session: 2" in panel(screen, "#queue-info")
        await pilot.press("u")                       # r17 keeps a label of this session
        await settle(app, pilot)
        assert screen.labels_given == 2
        await pilot.press("u", "u")                  # both of r17's labels undone
        await settle(app, pilot)
        assert ws.store.get("r17").label is None and screen.labels_given == 1


async def test_a_skip_without_a_reason_says_one_is_needed(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")                   # an empty reason: the dialog stays and says why
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "PromptDialog"
        assert "a skip needs a reason" in str(dialog.query_one("#prompt-message").render())
        await pilot.press(*"spam", "enter")
        await settle(app, pilot)
        assert app.screen is screen and ws.store.get("r16").skipped and ws.store.get("r16").skip_reason == "spam"


async def test_the_status_screen_says_to_label_first_without_labels(tmp_path: Path):
    from tui_data import reviews

    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "new", name="new")
    ws.store.add_assets(reviews(), source="fixture.csv", sha256="0" * 64, rows_read=40)
    app = make_app(ws, start="status")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            models = app.screen.query_one("#status-models")
            assert str(models.get_row_at(0)[0]) == "no model yet: press 2 to label reviews first"
    finally:
        ws.close()


async def test_a_workspace_without_reviews_says_how_to_get_some(tmp_path: Path):
    """The labeling screen of a new workspace said there was nothing left to label and offered an
    export; the status screen's models row said to label first."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "new", name="new", categories="Bug, Praise")
    try:
        app = make_app(ws, start="labeling")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            text = str(app.screen.query_one("#review-text").render())
            assert text.startswith("No reviews yet.") and "c collects reviews" in text and "export" not in text
        app = make_app(ws, start="status")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            models = app.screen.query_one("#status-models")
            assert str(models.get_row_at(0)[0]) == "no model yet: c collects reviews first"
    finally:
        ws.close()


async def test_the_footer_leaves_out_search_while_the_filter_is_typed(fixture_ws):
    app = make_app(fixture_ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f")
        await pilot.pause()
        keys = [str(k.render()) for k in screen.query("FooterKey")]
        assert not any("Search" in k for k in keys), keys
        await pilot.press("escape")
        await pilot.pause()
        keys = [str(k.render()) for k in screen.query("FooterKey")]
        assert any("Search" in k for k in keys), keys


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_the_queue_panel_and_the_filter_line_keep_their_lines(fixture_ws, size):
    """With a suggestion and where it comes from in the model box, the queue panel keeps its lines
    and its border (at 80x24 the model box gives way), and the filter line its count and hint."""
    from reviewtui.active.suggestions import Suggestions

    ws = fixture_ws
    stop_signal_rounds(ws)                           # the stop line takes two rows at 80 columns
    ws.config.update_section("active_learning", {"retrain_every": 0})
    fixed_suggestions(ws)
    ws.prepare_suggestions = lambda on_event=None: Suggestions(source="model", labels=290, prior_weight=0.2)
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"layout OR font", "enter")
        await settle(app, pilot)
        screen = app.screen
        side, queue = screen.query_one("#label-side").region, screen.query_one("#queue-info")
        lines = panel(screen, "#queue-info").splitlines()
        assert lines[-2:] == ["re-rank with r", "labeled this session: 0"]
        assert queue.region.height == len(lines) + 2 and queue.region.bottom <= side.bottom
        assert "Content" in panel(screen, "#suggestion")
        line = screen.query_one("#filter-line")
        text = panel(screen, "#filter-line")
        assert text.endswith("· B label them all") and "reviews" in text
        assert line.region.height * (line.region.width - 2) >= len(text)
        assert queue.region.height == len(lines) + 2 and queue.region.bottom <= side.bottom


async def test_a_category_change_from_another_process_is_shown_before_a_number_labels(fixture_ws):
    """The CLI merges a category while the app is open: the number keys no longer mean what the
    list on screen says, so the first press redraws the list and labels nothing; the app's own
    changes then start from the file as the CLI left it."""
    from test_tui import SIZE, make_app, notes

    from reviewtui.workspace import Workspace

    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = app.screen.current.external_id
        other = Workspace.open(ws.root)  # the CLI, beside the app
        other.merge_categories(["SUBSCRIPTION"], "CONTENT")
        other.close()
        await pilot.press("1")
        await settle(app, pilot)
        assert ws.store.get(first).label is None
        assert any("categories changed in reviewtui.toml" in n for n in notes(app))
        assert "Subscription" not in text_of(app.screen.query_one("#categories"))
        await pilot.press("1")  # now the first category on screen: CONTENT
        await settle(app, pilot)
    assert ws.store.get(first).label == "CONTENT"
    ws.add_category("Pricing")  # written on the merged taxonomy, not the one the app opened with
    assert ws.taxonomy.keys[:2] == ["CONTENT", "INTERFACE"] and "SUBSCRIPTION" not in ws.taxonomy.keys
    assert ws.taxonomy.get("CONTENT").former_keys == ("SUBSCRIPTION",)


async def test_a_reviewtui_toml_left_invalid_is_said_once_and_the_labels_use_the_last_reading(fixture_ws):
    from test_tui import SIZE, make_app, notes

    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = app.screen.current.external_id
        path = ws.config.path
        path.write_text("categories = 5\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
    said = [n for n in notes(app) if "cannot be read now" in n]
    assert len(said) == 1 and ws.store.get(first).label == "SUBSCRIPTION"


async def test_a_reviews_title_is_shown_above_its_text(tmp_path: Path):
    """Exports with titles (App Store, Amazon, Trustpilot, the Play Console) keep them in the store:
    the labeling screen shows the title in bold above the text; a review without one shows its text alone."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="titles", categories="Bug, Praise")
    ws.store.add_assets([NewAsset("a1", "Transfers fail since the update", {"title": "Too  slow", "score": 1}),
                         NewAsset("a2", "Works well", {"score": 5})])
    app = make_app(ws, start="labeling")
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None)
            await settle(app, pilot)
            first = panel(screen, "#review-text")
            assert first.splitlines()[:2] == ["Too slow", "Transfers fail since the update"]
            await pilot.press("1")
            await settle(app, pilot)
            assert panel(screen, "#review-text").strip() == "Works well"
    finally:
        ws.close()


async def test_the_queue_panel_names_the_zero_shot_first_batch_not_the_strategy(tmp_path: Path):
    """Before any label the queue is ranked by the zero-shot first batch: the queue panel says so
    instead of naming the strategy (margin), which did not order it."""
    from types import SimpleNamespace

    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="first", categories="Bug, Praise")
    ws.store.add_assets([NewAsset(f"a{i}", f"review number {i}", {}) for i in range(5)])
    fixed_suggestions(ws)
    ws.queue_batch = lambda *args, **kwargs: SimpleNamespace(first="zero-shot")
    ws.record_refit = lambda: None
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None and screen.ranked_by)
            await settle(app, pilot)
            queue = panel(screen, "#queue-info")
            assert "zero-shot first batch" in queue and "margin" not in queue
    finally:
        ws.close()


def waiting_batch_ws(root: Path, priorities: dict[str, int]):
    """A workspace of five reviews and no label whose queue holds a batch an earlier ranking left
    (``priorities``); its suggestions are the zero-shot prior's (no model yet), no embedding model
    loads, and a ranking asked of it is recorded in the returned list instead of run."""
    from reviewtui.active.suggestions import Suggestions
    from reviewtui.workspace import Workspace

    ws = Workspace.init(root, name="waiting", categories="Bug, Praise")
    ws.store.add_assets([NewAsset(f"a{i}", f"review number {i}", {}) for i in range(5)])
    ws.backend.set_priorities(priorities)
    ranked: list = []
    ws.suggestions = lambda ids, refit=False: Suggestions({e: ("BUG", 0.6) for e in ids}, source="zero-shot")
    ws.prepare_suggestions = lambda on_event=None: {}
    ws.queue_batch = lambda *args, **kwargs: ranked.append(args)
    ws.record_refit = lambda: None
    return ws, ranked


async def test_the_zero_shot_batch_ranked_before_the_app_opened_is_named_as_such(tmp_path: Path):
    """The app opened again before any label, on the zero-shot first batch an earlier opening (or
    `reviewtui queue`) ranked: no ranking runs (a batch is waiting), and the queue panel named the
    strategy (margin), which did not order it."""
    ws, ranked = waiting_batch_ws(tmp_path / "ws", {"a3": 2, "a1": 1})
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None)
            await settle(app, pilot)
            assert screen.current.external_id == "a3" and not ranked  # the waiting batch, not ranked again
            queue = panel(screen, "#queue-info")
            assert "zero-shot first batch" in queue and "margin" not in queue
    finally:
        ws.close()


async def test_a_batch_ranked_before_the_app_opened_is_named_as_the_workspace_recorded_it(tmp_path: Path):
    """The batch waiting is a category made from a discovered cluster, with no model yet: the
    queue panel names it as recorded, not as the zero-shot first batch nor the strategy."""
    from reviewtui.workspace import QUEUE_RANKED_BY

    ws, ranked = waiting_batch_ws(tmp_path / "ws", {"a2": 2, "a4": 1})
    ws.store.set_meta(QUEUE_RANKED_BY, "new category Login")
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None and screen.ranked_by)
            await settle(app, pilot)
            queue = panel(screen, "#queue-info")
            assert screen.current.external_id == "a2" and not ranked  # the waiting batch, not ranked again
            assert "new category Login" in queue and "zero-shot" not in queue and "margin" not in queue
    finally:
        ws.close()


async def test_a_teammates_label_since_the_review_was_shown_is_shown_not_replaced_unseen(tmp_path: Path):
    """Bob labels the review on Ann's screen from his terminal: Ann's number key shows her his
    label instead of replacing it, and a second press gives hers. Her own change of it from
    elsewhere (the same author) is no teammate's."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="team", categories="Bug, Praise")
    ws.author = "ann"
    ws.store.add_assets([NewAsset(f"a{i}", f"review number {i}", {}) for i in range(4)])
    fixed_suggestions(ws, "BUG")
    app = make_app(ws, start="labeling")
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None)
            await settle(app, pilot)
            shown = screen.current.external_id
            ws.store.add_label(shown, "PRAISE", author="bob")   # from bob's terminal
            await pilot.press("1")
            await settle(app, pilot)
            assert ws.store.get(shown).label == "PRAISE" and screen.current.external_id == shown
            assert any("bob labeled it Praise since this review was shown" in n and "Label it again to replace that"
                       in n for n in app.notes), app.notes
            assert screen.current.label == "PRAISE"  # the screen shows it as stored
            await pilot.press("1")
            await settle(app, pilot)
            assert ws.store.get(shown).label == "BUG" and ws.store.label_history(shown)[-1].author == "ann"
            mine = screen.current.external_id
            ws.store.skip(mine, "spam", author="ann")           # ann's own terminal
            await pilot.press("2")
            await settle(app, pilot)
            assert ws.store.get(mine).label == "PRAISE"
    finally:
        ws.close()


async def test_undoing_a_label_the_last_ranking_learnt_fits_the_model_again(tmp_path: Path):
    """The label that set off a re-rank, undone at once: the model that ranking fitted learnt it,
    so the suggestions' model is fitted again without it (it kept suggesting the label undone)."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", name="undo", categories="Bug, Praise")
    ws.store.add_assets([NewAsset(f"a{i}", f"review number {i}", {}) for i in range(5)])
    ws.config.update_section("active_learning", {"retrain_every": 1})
    calls = fixed_suggestions(ws)
    ws.record_refit = lambda: None
    asked: list[list[str]] = []
    suggest = ws.suggestions

    def suggestions(ids, refit=False):
        if refit:
            asked.append(list(ids))
        return suggest(ids, refit)

    ws.suggestions = suggestions
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.current is not None)
            await settle(app, pilot)
            first = screen.current.external_id
            await pilot.press("1")  # a label, then the re-rank it sets off (retrain_every = 1)
            await wait_until(pilot, lambda: None in calls and not screen.reranking)
            asked.clear()
            await pilot.press("u")
            await wait_until(pilot, lambda: asked)
            assert len(asked) == 1 and first in asked[0]  # with every review loaded (see test_tui_labeling_fixes)
    finally:
        ws.close()


async def test_a_review_queue_shows_why_at_80x24(quality_ws):
    """At 80x24 the Why panel's four lines held the label, its keys (wrapped) and the suggestion: the
    reason, what the queue is for, was cut. The keys are in the panel's edge now."""
    from textual.widgets import Static

    app = make_app(quality_ws, start="labeling")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        screen = app.screen
        await wait_until(pilot, lambda: screen.in_review_queue and screen.current is not None, timeout=60)
        await settle(app, pilot)
        why = screen.query_one("#suggestion", Static)
        assert why.border_title == "Why" and why.border_subtitle == "c keep · 1-9 change"
        note = screen.notes[screen.current.external_id]
        text = " ".join(strip.text for strip in why.render_lines(why.region.reset_offset))  # as drawn, border and all
        assert "│ labeled " in text and f"│ {' '.join(note.reason.split()[:3])}" in text
        await pilot.press("A")
        await settle(app, pilot)
        assert why.border_title == "Model" and not why.border_subtitle
