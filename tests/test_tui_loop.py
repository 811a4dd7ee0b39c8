"""Pilot tests of the labeling loop in the app: search, filters and bulk labels in the labeling
screen, the stop line and the learning curves, the weakest strategy, suggestions from the first
review, and the discover screen making a cluster a category. Driven by keys; checked on the
store and the taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_data import build_workspace, stop_signal_rounds

from reviewtui.demo import DEMO_CATEGORIES
from reviewtui.tui.app import ReviewApp

SIZE = (100, 30)


class RecordingApp(ReviewApp):
    """The app, keeping the text of every notification it showed (``app.notes``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def notify(self, message, **kwargs) -> None:
        self.notes.append(str(message))
        super().notify(message, **kwargs)


def make_app(ws, **kw) -> RecordingApp:
    kw = {"assist": False, "probe_gpus": False, "cursor_blink": False, **kw}
    return RecordingApp(ws, **kw)


async def settle(app, pilot) -> None:
    """Let workers finish and the screen repaint; again while a worker started another after the
    first wait took its list (a message handler that starts one, as a screen's mount does)."""
    from textual.worker import WorkerState

    await pilot.pause()
    for _ in range(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            break


async def wait_until(pilot, condition, timeout: float = 120.0) -> None:
    for _ in range(int(timeout / 0.2)):
        if condition():
            return
        await pilot.pause(0.2)
    raise AssertionError("timed out waiting for the app")


async def filter_queue(app, pilot, condition: str) -> None:
    """The labeling screen settled, then its queue filtered by ``condition`` (``stars=1``)."""
    await settle(app, pilot)
    await pilot.press("f", *condition, "enter")
    await settle(app, pilot)


def text_of(screen, selector: str) -> str:
    """The text a Static shows (a rich renderable printed to plain text)."""
    from rich.console import Console

    content = screen.query_one(selector).content
    if isinstance(content, str):
        return content
    console = Console(width=120, record=True, color_system=None)
    console.print(content)
    return console.export_text()


@pytest.fixture
def described_ws(tmp_path: Path):
    """The 40 reviews with the preset's descriptions and examples and no label; MiniLM at 64 tokens."""
    ws = build_workspace(tmp_path / "described", versions=False)
    ws.config.set_categories([dict(c) for c in DEMO_CATEGORIES])
    ws.config.update_section("model", {"max_length": 64})
    yield ws
    ws.close()


async def test_search_and_filters_narrow_the_queue_and_label_in_order(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("slash", *"layout OR font", "enter")
        await settle(app, pilot)
        wanted = ws.find(search="layout OR font").ids
        assert [a.external_id for a in screen.items] == wanted == ["r18", "r26", "r34"]
        assert "search 'layout OR font' · 3 reviews" in text_of(screen, "#filter-line")
        await pilot.press("3")                      # labels the first of them
        await settle(app, pilot)
        assert ws.store.get(wanted[0]).label == "INTERFACE"
        assert screen.current.external_id == wanted[1]
        labeled = ws.store.counts_by_status()["LABELED"]
        await pilot.press("f", *"stars=2 version=4.5", "enter")
        await settle(app, pilot)
        assert ws.store.counts_by_status()["LABELED"] == labeled  # the digits went into the box, not labels
        both = ws.find(["stars=2", "version=4.5"], "layout OR font").ids
        assert [a.external_id for a in screen.items] == both and both
        assert "stars 2; version 4.5" in text_of(screen, "#filter-line")
        await pilot.press("f", *"colour=red", "enter")  # a bad filter: an error, the filter stays
        await settle(app, pilot)
        assert any(n.startswith("unknown filter 'colour'") for n in app.notes)
        assert [a.external_id for a in screen.items] == both
        await pilot.press("f", "ctrl+u", "enter", "slash", "ctrl+u", "enter")  # empty: cleared
        await settle(app, pilot)
        assert [a.external_id for a in screen.items] == [a.external_id for a in ws.queue(50)]
        assert "/ search" in text_of(screen, "#filter-line")
        await pilot.press("slash", *"zzzqqq", "enter")  # nothing matches: says so, not "nothing left"
        await settle(app, pilot)
        assert screen.items == [] and "matches this search and filter" in text_of(screen, "#review-text")


async def test_a_filter_naming_an_app_the_workspace_lacks_leaves_the_queue_as_it_was(fixture_ws):
    """app= with an app no review has: one error naming the apps, and the filtered queue, its
    review and its filter line stay (the screen stayed on "Loading the queue…" with the filter
    gone, the error coming from the queue's loader)."""
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f", *"stars=1", "enter")
        await settle(app, pilot)
        before = [a.external_id for a in screen.items]
        assert len(before) == 6 and screen.current is not None
        await pilot.press("f", "ctrl+u", *"app=com.nothere", "enter")
        await settle(app, pilot)
        assert [n for n in app.notes if "no review of that app" in n] == [
            "filter app=com.nothere: no review of that app; the apps are: none"]
        assert [a.external_id for a in screen.items] == before and screen.index == 0
        assert "Loading the queue" not in text_of(screen, "#review-text")
        assert screen.current.text in text_of(screen, "#review-text")
        assert "stars 1 · 6 reviews" in text_of(screen, "#filter-line")


async def test_a_filter_on_a_version_no_review_has_names_the_versions(fixture_ws):
    """version= with a version no review has: the filter line names the versions there are, as
    `reviewtui queue --filter` does, instead of only "no review matches"."""
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f", *"version=9.9", "enter")
        await settle(app, pilot)
        line = " ".join(text_of(app.screen, "#filter-line").split())
        assert "filter: version 9.9 · no review in this workspace has version 9.9; the versions are " in line
        assert ws.no_match(ws.queue_filter("version=9.9")) in line
        await pilot.press("f", "ctrl+u", *"version=4.5", "enter", "slash", *"zzzqqq", "enter")
        await settle(app, pilot)
        line = " ".join(text_of(app.screen, "#filter-line").split())  # a version there is: no list of them
        assert "· no review matches ·" in line and "the versions are" not in line


async def test_the_filter_line_counts_the_queue_after_each_change(fixture_ws):
    """The count on the filter line follows every change that moves a review in or out of the
    filtered queue: a label, an undo (the review back in the queue), a skip, a review sent to
    review, a relabel out of a label filter, a bulk label."""
    ws = fixture_ws
    app = make_app(ws, start="labeling")

    def line() -> str:
        return text_of(app.screen, "#filter-line")

    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f", *"stars=1", "enter")
        await settle(app, pilot)
        assert ws.find(["stars=1"]).total == 6 and "stars 1 · 6 reviews" in line()
        steps = [(("1",), 5), (("u",), 6), (("s",), None), (("u",), 6), (("R",), 5), (("u",), 6), (("1", "1"), 4),
                 (("u",), 5)]
        for keys, expected in steps:
            await pilot.press(*keys)
            await settle(app, pilot)
            if expected is None:  # the skip dialog: a reason, then the review leaves the queue
                await pilot.press(*"spam", "enter")
                await settle(app, pilot)
                expected = 5
            assert ws.find(["stars=1"]).total == expected
            assert f"stars 1 · {expected} reviews" in line(), (keys, line())
        await pilot.press("B", "1", "y")             # the five left, labeled at once
        await settle(app, pilot)
        assert "stars 1 · no review matches" in line() and "B label" not in line()
        await pilot.press("f", "ctrl+u", *"label=SUBSCRIPTION status=LABELED", "enter")
        await settle(app, pilot)
        labeled = ws.find(["label=SUBSCRIPTION", "status=LABELED"]).total
        assert f"· {labeled} reviews" in line()
        await pilot.press("2")                       # relabeled Content: out of this filter
        await settle(app, pilot)
        assert f"· {labeled - 1} reviews" in line()
        await pilot.press("R")                       # one sent to review, then confirmed from that filter
        await settle(app, pilot)
        await pilot.press("f", "ctrl+u", *"status=TO_REVIEW", "enter")
        await settle(app, pilot)
        waiting = ws.find(["status=TO_REVIEW"]).total
        assert waiting >= 1 and f"· {waiting} review" in line()
        await pilot.press("c")
        await settle(app, pilot)
        assert ws.find(["status=TO_REVIEW"]).total == waiting - 1
        assert (f"· {waiting - 1} review" if waiting > 1 else "no review matches") in line(), line()


async def test_bulk_label_the_filtered_queue_after_naming_the_count(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("B")                      # nothing filtered: refused
        await pilot.pause()
        assert any("B labels the filtered queue" in n for n in app.notes)
        await pilot.press("f", *"stars=1", "enter")
        await settle(app, pilot)
        ids = ws.find(["stars=1"]).ids
        assert len(ids) == 6
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "BulkLabelDialog" and dialog.count == 6
        await pilot.press("1")                      # Subscription
        await pilot.pause()
        assert "Label all 6 reviews" in text_of(dialog, "#bulk-question")
        assert "as Subscription?" in text_of(dialog, "#bulk-question")
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is not dialog
        assert all(ws.store.get(e).label == "SUBSCRIPTION" for e in ids)
        assert "Labeled 6 reviews as Subscription." in app.notes
        events = [ev for ev in ws.store.label_history() if ev.external_id in set(ids)]
        assert len(events) == 6 and {ev.author for ev in events} == {ws.author}
        await pilot.press("U")                      # the whole set back, in one key
        await settle(app, pilot)
        assert "Undid the bulk label of 6 reviews as Subscription." in app.notes
        assert all(ws.store.get(e).label is None for e in ids)


@pytest.mark.slow
async def test_a_bulk_label_counts_toward_the_next_ranking(fixture_ws):
    """Six labels at once with retrain_every = 5: the model is refitted (a new round of the stop
    signal, the learning curves) as after five labels one by one, though the filtered queue has
    nothing left to rank."""
    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    ws.config.update_section("active_learning", {"retrain_every": 5, "stop_round_labels": 5})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.suggestion_info is not None and not screen.reranking)
        await settle(app, pilot)
        rounds = ws.stop_summary().rounds
        await pilot.press("f", *"stars=1", "enter")
        await settle(app, pilot)
        await pilot.press("B", "1", "y")
        await wait_until(pilot, lambda: ws.stop_summary().rounds > rounds)
        assert screen.labels_given == 6 and screen.labels_since_rank == 0
        await settle(app, pilot)
        assert ws.stop_summary().line in text_of(screen, "#stop-line")  # the stop line follows
        assert "re-rank in 5 labels" in text_of(screen, "#queue-info")
    from reviewtui.loop.stopping import load_signal

    assert load_signal(ws.store).history[-1].labels == 16 + 6  # the round counts the bulk labels


async def test_a_bulk_label_refused_because_the_set_changed_shows_the_new_count(fixture_ws):
    """A teammate labels one of the six between the question and the answer: nothing is labeled,
    the screen says why, and the filter line counts the five left."""
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await filter_queue(app, pilot, "stars=1")
        ids = ws.find(["stars=1"]).ids
        assert "6 reviews" in text_of(app.screen, "#filter-line")
        await pilot.press("B", "1")
        await pilot.pause()
        ws.store.add_label(ids[0], ws.taxonomy.keys[1], author="teammate")
        await pilot.press("y")
        await settle(app, pilot)
        assert any("has 5 reviews now, not the 6 you confirmed" in n for n in app.notes)
        assert all(ws.store.get(e).label is None for e in ids[1:])
        assert "5 reviews" in text_of(app.screen, "#filter-line")


async def test_the_bulk_dialog_asks_for_the_category_before_a_yes(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await filter_queue(app, pilot, "stars=1")
        await pilot.press("B")
        await pilot.pause()
        for key in ("enter", "y"):
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "BulkLabelDialog"
        assert sum("choose the category first" in n for n in app.notes) == 2


async def test_bulk_label_cancelled_labels_nothing(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"smooth", "enter")
        await settle(app, pilot)
        await pilot.press("B", "4", "n")
        await settle(app, pilot)
    assert all(ws.store.get(e).label is None for e in ws.find(search="smooth").ids)


async def test_the_stop_line_and_the_learning_curves(fixture_ws):
    ws = fixture_ws
    stop_signal_rounds(ws)  # four rounds, the last three stable
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        line = text_of(app.screen, "#stop-line")
        assert "predictions stable for 3 rounds" in line and "further labels change little" in line
        assert app.screen.query_one("#stop-line").has_class("-stop")
        await pilot.press("L")
        await pilot.pause()
        curves = app.screen
        assert type(curves).__name__ == "LearningCurvesScreen"
        table = text_of(curves, "#curves-table")
        assert "Interface" in table and "needs labels most" in table
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not curves
        await pilot.press("f1")  # the status screen says it too
        await settle(app, pilot)
        assert app.current_mode == "status"
        assert "stop signal:" in text_of(app.screen, "#status-next")
        assert "further labels change little" in text_of(app.screen, "#status-next")


async def test_search_narrows_the_labeling_queue_not_a_review_queue(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"layout", "enter")
        await settle(app, pilot)
        screen = app.screen
        found = ws.find(search="layout")
        assert [a.external_id for a in screen.items] == found.ids
        assert text_of(screen, "#filter-line").startswith("filter:")
        await pilot.press("D")  # the disagreements: a review queue, not filtered
        await settle(app, pilot)
        assert screen.in_review_queue
        assert "not filtered" in text_of(screen, "#filter-line")
        await pilot.press("slash")  # the input takes the keys; escape leaves the review queue as it was
        await pilot.pause()
        assert screen.query_one("#filter-input").display and screen.focused is screen.query_one("#filter-input")
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.query_one("#filter-input").display and screen.in_review_queue
        await pilot.press("A")  # back to the labeling queue: still filtered
        await settle(app, pilot)
        assert [a.external_id for a in screen.items] == found.ids
        assert text_of(screen, "#filter-line").startswith("filter:")
        await pilot.press("f7")  # the discover screen is 7
        await settle(app, pilot)
        assert app.current_mode == "discover"
    assert "the search narrows the labeling queue: enter applies it there (A), escape stays here" in app.notes


async def test_t_cycles_to_the_weakest_strategy_and_names_the_category(fixture_ws):
    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    ws.config.update_section("active_learning", {"strategy": "diversity", "batch_size": 8})
    weakest = ws.taxonomy.get(ws.weakest_category()).name
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("t")                      # diversity -> weakest
        assert screen.strategy == "weakest"
        await wait_until(pilot, lambda: not screen.reranking)
        await settle(app, pilot)
    assert f"strategy: weakest, steering to {weakest}; re-ranking the queue" in app.notes
    assert any(a.priority > 0 for a in ws.store.iter_assets())
    assert ws.stop_summary().rounds == 1  # the re-rank was a refit: the first round


@pytest.mark.slow
async def test_suggestions_from_the_first_review_are_zero_shot(described_ws):
    ws = described_ws
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.current is not None and screen.current.external_id in screen.suggestions)
        assert screen.suggestion_info.source == "zero-shot"
        label, confidence = screen.suggestions[screen.current.external_id]
        assert label in ws.taxonomy.training_keys and 0 < confidence <= 1
        assert "zero-shot" in text_of(screen, "#suggestion") and "best match" in text_of(screen, "#suggestion")
        assert ws.store.counts_by_status().get("LABELED", 0) == 0


@pytest.mark.slow
async def test_a_fresh_queue_is_ranked_when_the_screen_opens(described_ws):
    """No label and no priority yet (a fresh import): the screen ranks the queue by itself (the
    zero-shot first batch); the review on screen stays, the next ones follow the new order."""
    ws = described_ws
    assert all(a.priority == 0 for a in ws.store.iter_assets())
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.current is not None)
        shown = screen.current.external_id
        await wait_until(pilot, lambda: screen.ranked_on_open and not screen.reranking
                         and any(a.priority > 0 for a in ws.store.iter_assets()))
        await settle(app, pilot)
        ranked = [a.external_id for a in ws.queue(10, exclude=[shown])]
        assert screen.current.external_id == shown
        assert [a.external_id for a in screen.items[1:11]] == ranked
        assert any(n.startswith("ranking the queue") for n in app.notes)
    assert ws.store.counts_by_status().get("LABELED", 0) == 0  # ranked, never labeled


@pytest.mark.slow
async def test_the_screen_does_not_rank_on_opening_with_retrain_every_0(described_ws):
    ws = described_ws
    ws.config.update_section("active_learning", {"retrain_every": 0})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.suggestion_info is not None)
        await settle(app, pilot)
        assert screen.ranked_on_open and not screen.reranking
    assert not any(n.startswith("ranking the queue") for n in app.notes)
    assert all(a.priority == 0 for a in ws.store.iter_assets())


@pytest.mark.slow
async def test_a_ranking_after_retrain_every_labels_refits_the_suggestions_too(fixture_ws):
    """retrain_every = 2, and one of the two labels is Other (not trained on): the ranking after
    them refits the suggestions' model as well, so the model box reads the model the queue and
    the stop line read (it kept the model of 16 labels until two training labels came)."""
    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    ws.config.update_section("active_learning", {"retrain_every": 2})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.suggestion_info is not None and not screen.reranking)
        await settle(app, pilot)
        assert screen.suggestion_info.labels == 16
        other = 1 + ws.taxonomy.keys.index("OTHER")
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press(str(other))
        await wait_until(pilot, lambda: screen.suggestion_info.labels == 17 and not screen.reranking)
        assert "quick model on 17 labels" in text_of(screen, "#suggestion")


async def test_the_quick_model_is_fitted_when_the_screen_opens(fixture_ws):
    ws = fixture_ws  # 16 labels, no descriptions
    ws.config.update_section("model", {"max_length": 32})
    ws.config.update_section("active_learning", {"retrain_every": 0})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.suggestion_info is not None)
        assert screen.suggestion_info.source == "model" and screen.suggestion_info.labels == 16
        await wait_until(pilot, lambda: screen.current is not None and screen.current.external_id in screen.suggestions)
        assert "quick model on 16 labels" in text_of(screen, "#suggestion")
        assert "no suggestion yet" not in text_of(screen, "#suggestion")
        await wait_until(pilot, lambda: "round 1 (16 labels)" in text_of(screen, "#stop-line"))
    assert ws.store.prediction_count() == 24  # the queue's reviews, for the predicted filter


@pytest.mark.slow
async def test_discover_makes_a_cluster_a_category_whose_reviews_are_queued(fixture_ws):
    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    before = {a.external_id: a.label for a in ws.store.iter_assets()}
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f7")                     # the discover screen (the digits label here)
        await settle(app, pilot)
        screen = app.screen
        # nothing is labeled Other: it opens on new in 4.5, the latest version
        assert app.current_mode == "discover" and screen.selection == "version:4.5"
        await pilot.press("d")
        await wait_until(pilot, lambda: not screen.running)
        await settle(app, pilot)
        table = screen.query_one("#discover-clusters")
        assert screen.discovery is not None and table.row_count == len(screen.discovery.clusters) > 0
        assert "new in version 4.5" in text_of(screen, "#discover-state")
        cluster = screen.discovery.clusters[0]
        assert cluster.examples[0][1][:20] in text_of(screen, "#discover-examples")
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Fresh topic", "enter")
        await settle(app, pilot)
    assert "FRESH_TOPIC" in ws.taxonomy.training_keys
    assert ws.config.load(ws.config.path).taxonomy.get("FRESH_TOPIC").name == "Fresh topic"
    queued = [e for e in cluster.external_ids if ws.store.get(e).status == "TODO"]
    assert queued and [a.external_id for a in ws.queue(len(queued))] == queued
    assert {a.external_id: a.label for a in ws.store.iter_assets()} == before  # nothing labeled
    assert any(n.startswith("Added the category Fresh topic (FRESH_TOPIC)") for n in app.notes)


async def test_another_selection_clears_the_clusters_of_the_last(fixture_ws):
    """n must not make a category of a cluster of a selection no longer shown."""
    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    app = make_app(ws, start="discover")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.selection == "version:4.5"     # nothing is labeled Other: the latest version first
        await pilot.press("d")                      # new in 4.5, clustered
        await wait_until(pilot, lambda: not screen.running)
        await settle(app, pilot)
        assert screen.discovery is not None and screen.discovery.clusters
        await pilot.press("s")                      # new in 4.4: not clustered yet
        await pilot.pause()
        assert screen.discovery is None and screen.query_one("#discover-clusters").row_count == 0
        assert "d: cluster these reviews" in text_of(screen, "#discover-state")
        await pilot.press("n")
        await pilot.pause()
    assert any(n.startswith("discover first (d)") for n in app.notes)
    assert len(ws.taxonomy.training_keys) == 4  # no category made


def shown_text(widget) -> str:
    """What a Static shows, printed at the width it has on screen (no wider, as the screen cuts it)."""
    from rich.console import Console

    console = Console(width=widget.content_size.width, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def test_the_learning_curves_fit_80_columns(fixture_ws):
    """At 80x24 the per-category table takes less room (its headers and values whole, the weakest
    mark whole); at 100 columns it keeps its wide layout."""
    ws = fixture_ws
    stop_signal_rounds(ws)
    app = make_app(ws, start="labeling")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("L")
        await settle(app, pilot)
        table = app.screen.query_one("#curves-table")
        text = shown_text(table)
        assert "…" not in text and table.region.right <= 80
        assert all(word in text for word in ("category", "labels", "CV F1", "rounds", "change", "User experience",
                                             "0.52", "+0.12", "needs labels most"))
        await pilot.resize_terminal(120, 30)
        await settle(app, pilot)
        assert "over the rounds" in shown_text(table)


async def test_discover_at_80_columns_shows_the_growth_and_its_caution(fixture_ws):
    """At 80x24 the clusters table fits (the words give way, the growth is whole), and a version
    with 13 reviews shows why its growth is not reliable, the small clusters' growth marked ?;
    at 100 columns the words keep their width."""
    from tui_data import discovery

    from reviewtui.tui.messages import DiscoveryFinished

    app = make_app(fixture_ws, start="discover")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen  # on new in 4.5: nothing is labeled Other
        screen.post_message(DiscoveryFinished(discovery()))
        await settle(app, pilot)
        table = screen.query_one("#discover-clusters")
        assert table.max_scroll_x == 0 and table.region.right <= 80
        # a long headline scrolls within its rows: the table keeps rows for the clusters it lists
        screen.query_one("#discover-state").update("\n".join(f"headline line {i}" for i in range(8)))
        await settle(app, pilot)
        assert table.region.height >= 6 and screen.query_one("#discover-state").region.height <= 5
        assert [str(c) for c in table.get_row_at(0)][-1] == "+19.0% ?"  # 4 reviews: too few
        assert [str(c) for c in table.get_row_at(2)][-1] == "-3.0%"     # 5 reviews
        caution = screen.query_one("#discover-caution")
        text = " ".join(shown_text(caution).split())
        assert caution.display and text.startswith("Too few reviews for reliable growth: 13 in this version and 27 "
                                                   "in the earlier versions")
        await pilot.resize_terminal(100, 30)
        await settle(app, pilot)
        assert table.ordered_columns[1].width == 52
        await pilot.press("s")                      # another selection: its caution goes with its clusters
        await pilot.pause()
        assert not caution.display


async def test_discovering_a_small_version_warns_that_its_growth_is_not_reliable(fixture_ws):
    """A real discovery of what is new in 4.5 (13 reviews against 27): the app says the growth
    rests on too few reviews, in the words the CLI prints."""
    from reviewtui import presentation as say

    ws = fixture_ws
    ws.config.update_section("model", {"max_length": 32})
    app = make_app(ws, start="discover")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.selection == "version:4.5"  # nothing is labeled Other: the latest version first
        await pilot.press("d")
        await wait_until(pilot, lambda: not screen.running)
        await settle(app, pilot)
        found = screen.discovery
        assert found is not None and found.caution is not None and found.caution.reviews == 13
        text = " ".join(shown_text(screen.query_one("#discover-caution")).split())
        assert text == say.growth_caution_sentence(found.caution)
        assert "13 in this version" in text


def test_discover_offers_each_apps_latest_versions_when_there_are_several():
    from reviewtui.tui.screens.discover import choices

    one = choices({None: ["4.5", "4.4"]})
    assert [v for _, v in one][2:] == ["version:4.5", "version:4.4"] and one[2][0] == "New in version 4.5 (the latest)"
    several = choices({"com.bank": ["1.2", "1.1", "1.0"], "com.game": ["9.0"]})
    assert [(label, v) for label, v in several][2:] == [
        ("New in com.bank 1.2 (the latest)", "version:1.2\tcom.bank"), ("New in com.bank 1.1", "version:1.1\tcom.bank"),
        ("New in com.game 9.0 (the latest)", "version:9.0\tcom.game")]


async def test_discover_without_a_selection_to_look_into_says_why(fixture_ws):
    app = make_app(fixture_ws, start="discover")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert [v for _, v in screen.options] == ["other", "low-confidence", "version:4.5", "version:4.4"]
        # nothing is labeled Other in the fixture: the screen opens on what it can cluster, the latest version
        assert screen.selection == "version:4.5"
        await pilot.press("s", "s")                 # version 4.4, then other
        assert screen.selection == "other"
        await pilot.press("d")
        await settle(app, pilot)
        assert not screen.running and screen.discovery is None
        await pilot.press("n")
        await pilot.pause()
    assert any("nothing to discover: the selection (labeled Other or Multi label) has no review (s chooses "
               "another: low-confidence or version)" in n  # the screen's key, not the CLI's words
               for n in app.notes)
    assert any(n.startswith("discover first (d)") for n in app.notes)


async def test_discover_starts_on_the_unsure_predictions_without_a_catch_all(fixture_ws):
    """Every category trained on and none named Other: the screen starts on what plain `reviewtui
    discover` looks into, the predictions below 50 %, rather than on a selection that cannot be."""
    items = [{**c, "train": True, "name": "Leftovers" if c["key"] == "OTHER" else c["name"]}
             for c in fixture_ws.taxonomy.to_list()]
    fixture_ws.config.set_categories(items)
    first = next(fixture_ws.store.iter_assets())
    fixture_ws.store.set_predictions({first.external_id: (items[0]["key"], 0.4)})
    app = make_app(fixture_ws, start="discover")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.screen.selection == "low-confidence"



async def test_discover_starts_on_the_latest_version_before_any_prediction(fixture_ws):
    """Without a catch-all and without predictions, low-confidence cannot run: the screen starts on
    what is new in the latest version, and low-confidence, picked, says how to get predictions."""
    items = [{**c, "train": True, "name": "Leftovers" if c["key"] == "OTHER" else c["name"]}
             for c in fixture_ws.taxonomy.to_list()]
    fixture_ws.config.set_categories(items)
    fixture_ws.store.set_predictions({})
    assert fixture_ws.default_discover_selection() == "version"
    app = make_app(fixture_ws, start="discover")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.selection == "version:4.5"
        await pilot.press("s", "s", "s")  # version 4.4, other, low-confidence
        assert screen.selection == "low-confidence"
        await pilot.press("d")
        await settle(app, pilot)
    assert any("no predictions yet: r on the labeling screen refits the quick model, or p on the Summary screen "
               "predicts every review; then d" in n for n in app.notes)
    # reviews of two apps: the command line needs --app for a version, the screen starts on the
    # latest version of the most reviewed app (it opened on low-confidence, which cannot run yet)
    from reviewtui.store import NewAsset

    fixture_ws.store.add_assets([NewAsset(f"b{i}", f"a review of another app {i}",
                                          {"app": ("com.one", "com.two")[i % 2], "app_version": "2.0"})
                                 for i in range(4)])
    assert fixture_ws.default_discover_selection() == "low-confidence"
    assert fixture_ws.default_discover_selection(any_app=True) == "version"
    app = make_app(fixture_ws, start="discover")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.screen.selection.startswith("version:")


async def test_the_seven_screens_tabs_fit_80_columns(fixture_ws):
    app = make_app(fixture_ws, start="labeling")  # the labeling screen's tabs are the widest (F1-F7)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tabs = list(app.screen.query(".tab"))
        assert [str(t.render()).split()[0] for t in tabs] == [f"F{n}" for n in range(1, 8)]
        assert tabs[-1].region.right <= 80


async def test_a_taxonomy_of_twelve_labels_with_any_category_from_the_list(tmp_path):
    """The number keys reach nine categories; l picks any of them from a list, filtered by typing
    (a number or a name), and the bulk dialog offers the same list."""
    ws = build_workspace(tmp_path / "twelve", versions=False)
    names = ["Login", "Payments", "Fees", "Support", "Performance", "Feature request", "Praise", "Ads",
             "Security", "Card delivery", "Rewards", "Refunds", "Other"]
    ws.config.set_categories([{"key": n.upper().replace(" ", "_"), "name": n, "train": n != "Other"} for n in names])
    ws.config.update_section("active_learning", {"prior_labels": 0})  # no zero-shot: the keys only
    app = make_app(ws, start="labeling")
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        panel = text_of(screen, "#categories")
        assert "9 ■ Security" in panel and "l ■ Card delivery" in panel and "l ■ Other" in panel
        first = screen.current.external_id
        await pilot.press("l", *"refu", "enter")  # typed: the list keeps Refunds
        await settle(app, pilot)
        assert ws.store.get(first).label == "REFUNDS" and screen.current.external_id != first
        second = screen.current.external_id
        await pilot.press("l", "1", "0", "enter")  # an exact number: category 10
        await settle(app, pilot)
        assert ws.store.get(second).label == "CARD_DELIVERY"
        third = screen.current.external_id
        await pilot.press("l", *"zzz", "enter")  # nothing matches: said, the list stays open
        await settle(app, pilot)
        assert "no category matches" in app.notes and app.screen is not screen
        await pilot.press("escape")  # cancelled: nothing labeled, same review
        await settle(app, pilot)
        assert app.screen is screen
        assert ws.store.get(third).label is None and screen.current.external_id == third
        await pilot.press("l", *"99", "enter")  # a number past the last category: no match either
        await settle(app, pilot)
        assert app.notes.count("no category matches") == 2
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("slash", *"zzzqqq OR the", "enter")
        await settle(app, pilot)
        await pilot.press("B", "l", *"rewa", "enter")
        await settle(app, pilot)
        assert "Rewards" in str(app.screen.query_one("#bulk-question").render())
        await pilot.press("escape")
        await settle(app, pilot)


async def test_a_workspace_with_every_review_labeled_opens_on_the_way_to_its_labels(tmp_path: Path):
    """An imported data set whose reviews all carry a label: the labeling queue is empty. The
    screen names the keys that bring the labeled reviews back (S, f status=LABELED), the other
    screens by their F-keys (the digits label here, so 3 and 4 do nothing), and the model panel
    does not promise a suggestion for a review that is not there."""
    from reviewtui.store import LabelRow
    from tui_data import oracle

    ws = build_workspace(tmp_path / "ws", versions=False)
    ws.store.add_labels([LabelRow(e, label, "fixture", "import") for e, label in oracle().items()])
    assert ws.store.count_to_label() == 0
    # nothing to suggest for: the quick model is not fitted when the screen opens (embedding
    # thousands of labeled reviews takes minutes on a CPU)
    fitted = []
    ws.prepare_suggestions = lambda on_event=None: fitted.append(1)
    ws.record_refit = lambda: None
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.done_loading)
            await settle(app, pilot)
            assert fitted == []
            review = " ".join(text_of(screen, "#review-text").split())
            assert review.startswith("Nothing left to label in the queue.")
            assert "S shows the suspect labels" in review and "f with status=LABELED" in review
            assert "F3 to diff versions, F4 to tune a model" in review
            await pilot.press("4")
            await settle(app, pilot)
            assert app.current_mode == "labeling"  # a digit does not leave this screen
            model = text_of(screen, "#suggestion")
            assert "no review on screen" in model and "coming" not in model
            await pilot.press("f", *"status=LABELED", "enter")
            await settle(app, pilot)
            assert screen.current is not None and screen.current.label  # the labeled reviews, to read again
            assert "40 reviews" in text_of(screen, "#filter-line")
    finally:
        ws.close()


async def test_the_first_embedding_of_the_labeled_reviews_shows_its_progress(tmp_path: Path):
    """The quick model's first fit embeds every labeled review (thousands take minutes on a CPU):
    the model panel counts them and says it happens once; then the suggestions take its place."""
    import threading

    from reviewtui.active.suggestions import Suggestions
    from reviewtui.events import Progress

    ws = build_workspace(tmp_path / "ws")
    release = threading.Event()

    def prepare(on_event=None):  # the first fit, halfway through its embedding
        on_event(Progress("embed", 1200, 7963))
        release.wait(30)
        on_event(Progress("embed", 7963, 7963))
        return Suggestions(source="model", labels=16)

    ws.prepare_suggestions = prepare
    ws.record_refit = lambda: None

    def suggestions(ids, refit=False):  # waits for the fit, as the suggester's one lock makes it
        release.wait(30)
        return Suggestions(source="model", labels=16)

    ws.suggestions = suggestions
    app = make_app(ws, start="labeling", assist=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await wait_until(pilot, lambda: screen.embedding is not None and screen.current is not None)
            await pilot.pause()
            model = " ".join(text_of(screen, "#suggestion").split())
            assert "embedding the labeled reviews 1,200 of 7,963 (15%) first time only (then cached)" in model
            release.set()
            await wait_until(pilot, lambda: screen.suggestion_info is not None)
            await settle(app, pilot)
            assert "embedding" not in text_of(screen, "#suggestion")
    finally:
        release.set()
        ws.close()


async def test_undo_passes_over_the_labels_of_an_import(tmp_path: Path):
    """A data set imported with its labels by the same person who labels: u has nothing of theirs
    to undo (an imported label stays), and takes back a relabel given on the screen."""
    from reviewtui.store import LabelRow
    from tui_data import oracle

    ws = build_workspace(tmp_path / "ws", versions=False)
    truth = oracle()
    ws.store.add_labels([LabelRow(e, label, ws.author, "import") for e, label in truth.items()])
    app = make_app(ws, start="labeling")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await settle(app, pilot)
            assert "Nothing to undo." in app.notes
            assert all(ws.store.get(e).label == label for e, label in truth.items())
            await pilot.press("f", *"status=LABELED", "enter")
            await settle(app, pilot)
            shown = app.screen.current.external_id
            await pilot.press("1")  # a relabel given here
            await settle(app, pilot)
            await pilot.press("u")
            await settle(app, pilot)
            assert ws.store.get(shown).label == truth[shown] and ws.store.get(shown).status == "LABELED"
            assert all(ws.store.get(e).label == label for e, label in truth.items())
    finally:
        ws.close()



async def test_a_filter_that_fails_while_the_queue_loads_says_why_and_does_not_stall(fixture_ws, monkeypatch):
    """A filter that passed its check and then fails in the queue's loader (the predictions it
    reads removed meanwhile) is told as an error, and the pane leaves "Loading the queue…"."""
    from reviewtui.errors import ReviewtuiError

    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen

        def gone(*_a, **_k):
            raise ReviewtuiError("filter predicted=INTERFACE: no predictions yet; run reviewtui predict")

        monkeypatch.setattr(ws, "find", gone)
        await pilot.press("f", *"stars=1", "enter")
        await settle(app, pilot)
        assert "filter predicted=INTERFACE: no predictions yet; run reviewtui predict" in app.notes
        assert "Loading the queue" not in text_of(screen, "#review-text")


async def test_p_on_the_summary_with_no_model_and_no_labels_says_so_in_the_apps_keys(described_ws):
    """It said "predicting with the quick model", then the job failed naming `reviewtui train`."""
    ws = described_ws
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        text = " ".join(text_of(app.screen, "#summary-state").split())
    assert text.startswith("no model to predict with: no saved model, and 0 training labels of fewer than two "
                           "categories; label reviews of two categories (2, the labeling screen)")
    assert not any("quick model" in n for n in app.notes) and ws.jobs.latest("predict") is None


def test_discover_looks_into_other_by_default_only_where_the_app_has_reviews_labeled_other(fixture_ws):
    """The default selection counted Other labels of every app: with --app B it chose "other" for
    app A's labels, then found none of B's."""
    from reviewtui.store import LabelRow, NewAsset

    ws = fixture_ws
    ws.store.add_assets([NewAsset(f"a{i}", f"a review of app a number {i}", {"app": ("app.a", "app.b")[i % 2],
                                                                           "app_version": "1.0"})
                         for i in range(6)])
    ws.store.add_labels([LabelRow("a0", "OTHER", "fixture", "human")])  # app.a's
    assert ws.default_discover_selection("app.a") == "other"
    assert ws.default_discover_selection("app.b") != "other"
    assert ws.default_discover_selection() == "other"

