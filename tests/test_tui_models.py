"""Pilot tests of the sentiment keys of the labeling screen, and of training from the tuning screen
(t: train as `reviewtui train` does; a: the automatic choice) with its epoch progress bar and the
candidates' comparison: driven by keys, checked on the store, the saved model and the exported files."""

from __future__ import annotations

import csv

import pytest

from test_tui import make_app, settle, wait_until
from tui_data import build_tuning_workspace, build_workspace

from reviewtui.tui.messages import EpochProgressed

SIZE = (100, 30)


@pytest.fixture
def fixture_ws(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    yield ws
    ws.close()


async def test_sentiment_keys_record_undo_show_and_export(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        first = screen.current.external_id
        await pilot.press("plus", "1")  # sentiment, then the category (which moves on)
        second = screen.current.external_id
        await pilot.press("minus")
        await pilot.pause()
        assert screen.current.external_id == second  # a sentiment key does not move on
        assert "sentiment negative" in str(screen.query_one("#review-answer").render())
        await pilot.press("u")  # undoes the sentiment, not the first review's label
        await settle(app, pilot)
        assert second not in ws.store.sentiments()
        await pilot.press("equals_sign", "2")
        third = screen.current.external_id
        await pilot.press("0", "left")
        await settle(app, pilot)
        assert screen.current.external_id == second
        assert "neu" in str(screen.query_one("#categories").render())
        await pilot.press("f1")  # the status screen shows the counts (1 labels here)
        await settle(app, pilot)
        assert "sentiment labels: negative 0, neutral 2, positive 1 (3 reviews)" in str(
            app.screen.query_one("#status-head").render())

    labels = {k: v.sentiment for k, v in ws.store.sentiments().items()}
    assert labels == {first: "positive", second: "neutral", third: "neutral"}
    assert ws.store.get(first).label == ws.taxonomy.categories[0].key
    assert ws.store.get(second).label == ws.taxonomy.categories[1].key
    assert [e.kind for e in ws.store.label_history(second)][-3:] == ["undo", "sentiment", "label"]
    info = ws.export()
    with open(info.csv_path, newline="", encoding="utf-8") as fh:
        rows = {r["externalId"]: r for r in csv.DictReader(fh)}
    assert rows[first]["sentiment"] == "positive" and rows[second]["sentiment"] == "neutral"
    assert info.manifest["counts_by_sentiment"]["positive"] == 1


@pytest.fixture
def training_ws(tmp_path, tiny_bert):
    ws = build_tuning_workspace(tmp_path / "ws", tiny_bert, rows=48)
    ws.config.update_section("evaluation", {"folds": 2})
    ws.config.update_section("training", {"ensemble_quick": False})
    yield ws
    ws.close()


@pytest.mark.slow
async def test_t_trains_by_cross_validation_with_an_epoch_bar_and_saves_the_model(training_ws):
    ws = training_ws
    app = make_app(ws, start="tuning")
    seen: list = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        post = screen.post_message

        def record(message) -> bool:  # what the training worker posts to the screen
            if isinstance(message, EpochProgressed):
                seen.append(message.event)
            return post(message)

        screen.post_message = record  # type: ignore[method-assign]
        await pilot.press("escape", "t")  # leave the form, train
        await wait_until(pilot, lambda: screen.cancel_event is None and not screen.training)
        await settle(app, pilot)
        table = screen.query_one("#tune-candidates-table")
        assert table.display and not screen.query_one("#tune-trials-table").display
        key = f"finetune:{ws.settings.model.base}"
        assert str(table.get_cell(key, "candidate")).startswith("★") and " ± " in str(table.get_cell(key, "metric"))
        state = str(screen.query_one("#tune-state").render())
        assert "trained on all 48 labels" in state and "2-fold stratified cross-validation" in state
        assert "epoch" in str(screen.query_one("#epoch-state").render())
    [card] = ws.models()
    assert card["extra"]["evaluation"]["method"] == "cross-validation" and card["splits"]["train"] == 48
    tasks = {e.task for e in seen}
    assert {f"cv 1/2 {key}", f"cv 2/2 {key}", f"final {key}"} <= tasks


async def test_a_without_any_usable_candidate_says_why_and_saves_nothing(training_ws):
    ws = training_ws
    ws.config.update_section("auto", {"candidates": ["finetune:not-installed"]})
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("escape", "a")
        await wait_until(pilot, lambda: screen.cancel_event is None)
        await settle(app, pilot)
        table = screen.query_one("#tune-candidates-table")
        assert "skipped" in str(table.get_cell("finetune:not-installed", "status"))
        assert "no model was saved" in str(screen.query_one("#tune-state").render())
        assert any("no candidate could be scored" in n for n in app.notes)
    assert ws.models() == []
