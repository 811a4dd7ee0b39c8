"""Pilot tests of the app: drive it by keys, check the store and the files it wrote."""

from __future__ import annotations

import csv
import json

import pytest

from tui_data import build_workspace, write_results

from reviewtui.presentation import trial_status_word
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


def notes(app) -> list[str]:
    return app.notes


async def test_label_three_reviews_by_keys(fixture_ws):
    ws = fixture_ws
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")  # the labeling screen
        await settle(app, pilot)
        assert app.current_mode == "labeling"
        await pilot.press("1", "2", "3")
        await settle(app, pilot)
    # the queue is the TODO assets in id order: r16, r17, r18
    assert [ws.store.get(e).label for e in ("r16", "r17", "r18")] == ["SUBSCRIPTION", "CONTENT", "INTERFACE"]
    for e in ("r16", "r17", "r18"):
        asset = ws.store.get(e)
        assert asset.status == "LABELED"
        history = ws.store.label_history(e)
        assert history[-1].source == "human" and history[-1].author == ws.author


async def test_undo_skip_and_review(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4", "2")          # r16 USER_EXPERIENCE, r17 CONTENT
        await pilot.press("u")               # undo r17
        await settle(app, pilot)
        screen = app.screen
        assert screen.current.external_id == "r17"
        assert ws.store.get("r17").label is None and ws.store.get("r17").status == "TODO"
        assert ws.store.get("r16").label == "USER_EXPERIENCE"
        await pilot.press("s")               # skip r17, with a reason
        await pilot.pause()
        await pilot.press(*"spam", "enter")
        await settle(app, pilot)
        assert screen.current.external_id == "r18"
        await pilot.press("R")               # send r18 to review
        await settle(app, pilot)
        await pilot.press("left", "left")    # back to r17: shows it as skipped
        await pilot.pause()
        assert screen.current.external_id == "r17" and screen.current.skipped
    r17 = ws.store.get("r17")
    assert r17.skipped and r17.skip_reason == "spam"
    assert ws.store.get("r18").status == "TO_REVIEW"
    assert any(n.startswith("Undid label Content on r17") for n in notes(app))  # the category by its name
    # r18 had no label: where it went is said
    assert any(n.startswith("Sent r18 to review with no label yet: it leaves the labeling queue; the filter "
                            "status=TO_REVIEW (f) finds it") for n in notes(app))


async def test_evidence_spans(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = app.screen.current.text
        await pilot.press("v", "right", "space", "right", "space", "1")
        await settle(app, pilot)
    words = text.split()
    spans = ws.store.latest_spans("r16")
    assert [s["text"] for s in spans] == words[1:3]
    assert all(s["category"] == "SUBSCRIPTION" and text[s["start"]:s["end"]] == s["text"] for s in spans)


async def test_diff_two_versions_and_send_to_review(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.diff is not None and screen.diff.counts == {"added": 4, "removed": 0, "relabeled": 2,
                                                                   "status_changed": 2, "renamed": 0,
                                                                   "sentiment_changed": 0}
        await pilot.press("f")               # filter: added
        await pilot.pause()
        table = screen.query_one("#diff-rows")
        assert table.row_count == 4
        await pilot.press("t")               # the selected row (r12), asks first
        await pilot.pause()
        await pilot.press("n")               # no: nothing moves
        await settle(app, pilot)
        assert ws.store.get("r12").status == "LABELED"
        await pilot.press("f", "f", "f", "f")  # back to all
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
    moved = {e for e in ws.store.existing_ids(f"r{i:02d}" for i in range(40))
             if ws.store.get(e).status == "TO_REVIEW"}
    # r02 and r03 changed only by their review (REVIEWED in dataset-2): sending them back would undo it
    assert moved == {"r00", "r05", "r12", "r13", "r14", "r15"}
    assert ("Sent 6 assets to review. 2 assets left as they are: 2 reviewed since (status REVIEWED)."
            in notes(app))


async def test_the_diff_names_the_categories_as_the_app_does(fixture_ws):
    """A version keeps the categories' keys; the diff screen reads them as the other screens do."""
    ws = fixture_ws
    names = {c.key: c.name for c in ws.taxonomy}
    assert any(k != n for k, n in names.items())
    app = make_app(ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#diff-rows")
        relabeled = [table.get_row_at(i) for i in range(table.row_count) if table.get_row_at(i)[0] == "relabeled"]
        expected = {(names[c.before], names[c.after]) for c in screen.diff.relabeled}
        assert relabeled and {(r[2], r[3]) for r in relabeled} == expected
        summary = str(screen.query_one("#diff-summary").render())
        first = screen.diff.relabeled[0]
        assert f"{names[first.before]} -> {names[first.after]}" in summary
        assert first.before not in summary.replace(names[first.before], "")


async def test_a_large_diff_shows_its_first_rows_and_sends_them_all(fixture_ws, monkeypatch):
    """A diff of two large versions changes hundreds of thousands of rows: the table shows the first
    MAX_ROWS (built on the UI thread) and says how many there are; the preview still follows the
    cursor, and `a` sends every row of the filter, shown or not."""
    from reviewtui.tui.screens import diff as diff_screen

    monkeypatch.setattr(diff_screen, "MAX_ROWS", 3)
    ws = fixture_ws
    app = make_app(ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#diff-rows")
        assert table.row_count == 3 and "the first 3 of 8" in str(table.border_title)
        await pilot.press("down")
        await pilot.pause()
        assert str(screen.query_one("#diff-preview").render()).strip()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
    assert "Sent 6 assets to review. 2 assets left as they are: 2 reviewed since (status REVIEWED)." in notes(app)


async def test_the_diff_tables_category_columns_fit_the_names_and_the_id_gives_way_at_80_columns(fixture_ws):
    """From and to were 15 wide at any size ("Login and accou"), and at 80x24 a UUID id took 36
    columns while the names were cut to 11."""
    items = [{**c, "name": c["name"] + " and account"} for c in fixture_ws.taxonomy.to_list()]
    fixture_ws.config.set_categories(items)
    longest = max(len(c["name"]) for c in items)
    app = make_app(fixture_ws, start="diff")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#diff-rows")
        widths = {str(c.key.value): c.width for c in table.ordered_columns}
        assert widths["from"] == widths["to"] == min(24, longest) and widths["id"] <= 20



async def test_the_diff_table_is_laid_out_again_when_the_terminal_narrows(tmp_path):
    """Opened at 120 columns with UUID ids, then narrowed to 80: the id kept its 36 columns and
    the label columns were cut to two letters."""
    import uuid

    from tui_data import TEXTS

    from reviewtui.store import LabelRow, NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "uuids", name="uuids")
    cats = list(TEXTS)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(16)]
    ws.store.add_assets([NewAsset(e, TEXTS[cats[i % 4]][i % 4] + f" ({i})", {}) for i, e in enumerate(ids)])
    ws.store.add_labels([LabelRow(e, cats[i % 4], "fixture", "human") for i, e in enumerate(ids[:8])])
    ws.export()
    ws.store.add_labels([LabelRow(e, cats[i % 4], "fixture", "human") for i, e in enumerate(ids[8:])])
    ws.export()
    longest = max(len(c["name"]) for c in ws.taxonomy.to_list())
    app = make_app(ws, start="diff")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        table = app.screen.query_one("#diff-rows")
        widths = {str(c.key.value): c.width for c in table.ordered_columns}
        assert widths["from"] == widths["to"] == min(24, longest) and widths["id"] <= 20


async def test_a_diff_filter_with_no_row_leaves_no_preview_of_a_row_it_hides(fixture_ws):
    """f to a filter no row of the diff has (dataset-1 -> dataset-2 removes nothing): the line under
    the table went on showing the row highlighted before, which the table no longer lists; it says
    that the filter keeps no row instead."""
    app = make_app(fixture_ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#diff-rows")
        first = screen.selected_id()
        assert first and first in str(screen.query_one("#diff-preview").render())
        await pilot.press("f", "f")                 # added, then removed: none
        await settle(app, pilot)
        assert screen.filter == "removed" and table.row_count == 0
        preview = str(screen.query_one("#diff-preview").render())
        assert first not in preview and "no removed row" in preview
        await pilot.press("f")                      # relabeled: a row again, and its preview
        await settle(app, pilot)
        assert table.row_count > 0 and screen.selected_id() in str(screen.query_one("#diff-preview").render())


async def test_export_from_the_app_then_diff_it(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("1", "2", "e")
        await settle(app, pilot)
        assert [v.name for v in ws.versions()][-1] == "dataset-3"
        await pilot.press("f3")              # F-keys switch screens on the labeling screen
        await settle(app, pilot)
        assert app.current_mode == "diff"
        d = app.screen.diff
        assert (d.a, d.b, d.counts["added"]) == ("dataset-2", "dataset-3", 2)
        labeling = app.get_screen_stack("labeling")[-1]
        answered = [a.external_id for a in labeling.items[:labeling.index]]
        await pilot.press("a")               # send the diff's rows to review
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert {ws.store.get(e).status for e in answered} == {"TO_REVIEW"}
        await pilot.press("f2", "left")      # back on the labeling screen, the last review answered
        await settle(app, pilot)
        assert app.screen is labeling and labeling.current.external_id == answered[-1]
        # it says the status the store has, not the LABELED it had when it was answered
        assert labeling.current.status == "TO_REVIEW"
    assert any(n.startswith("Wrote versions/dataset-3.csv: 18 rows") for n in notes(app))


async def test_errors_show_the_cli_text(tmp_path):
    ws = build_workspace(tmp_path / "empty", versions=False)
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
    from reviewtui.errors import ReviewtuiError

    with pytest.raises(ReviewtuiError) as err:
        ws.export()
    assert str(err.value) in notes(app)


async def test_command_palette_and_help(fixture_ws):
    app = make_app(fixture_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to diff")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "diff"
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.current_mode == "tuning"


async def test_every_key_has_an_id_and_a_palette_entry(fixture_ws):
    from textual.binding import Binding

    from reviewtui.tui.commands import ActionsProvider
    from reviewtui.tui.screens import SCREENS, screen_class

    app = make_app(fixture_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        entries = {text for text, _help, _run in ActionsProvider(app.screen).commands()}
    ids = [b.id for b in ReviewApp.BINDINGS]
    for s in SCREENS:
        for b in screen_class(s.mode).BINDINGS:
            assert isinstance(b, Binding) and b.id, b
            ids.append(b.id)
            if b.description:
                assert f"{s.title}: {b.description}" in entries
    assert len(ids) == len(set(ids))
    assert {"Label: Re-rank", "Label: To review", "Tune: Keep best", "Export", "Go to Tune"} <= entries


async def test_summary_with_the_version_filter(fixture_ws):
    ws = fixture_ws
    write_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#summary-table")
        keys = [str(c) for c in ws.summary().categories.index]
        assert table.row_count == len(keys) >= 4
        assert screen.app_versions == ["4.4", "4.5"] and screen.latest == "4.5"
        assert sum(int(table.get_row(c)[1]) for c in keys) == 40
        await pilot.press("l")               # the latest app version only
        await settle(app, pilot)
        assert screen.version == "4.5"
        assert sum(int(table.get_row(c)[1]) for c in keys) == ws.summary("4.5").reviews < 40
        await pilot.press("w")
        await settle(app, pilot)
    assert (ws.results_dir / "report.md").is_file()
    assert any(n.startswith("Wrote ") and "report.md" in n for n in notes(app))


async def test_summary_and_status_say_the_reviews_imported_after_the_prediction(fixture_ws):
    from tui_data import write_result_record

    from reviewtui.store import NewAsset

    ws = fixture_ws
    write_results(ws)
    write_result_record(ws, rows=40)
    ws.store.add_assets([NewAsset(f"late{i}", f"a review imported later {i}") for i in range(5)])
    line = "5 reviews imported after the last prediction have no prediction: run p on the Summary screen."
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        state = " ".join(str(app.screen.query_one("#summary-state").render()).split())
        assert "40 reviews" in state and line in state
        # the latest version's line stays, above the note (the note pushed it out of the panel)
        assert "latest 4.5: 13 reviews" in state and state.index("latest 4.5: 13 reviews") < state.index(line)
        await pilot.press("1")
        await settle(app, pilot)
        steps = " ".join(str(app.screen.query_one("#status-next").render()).split())
        assert line in steps
        # meanwhile a prediction in a terminal covers them: the summary shown again reads it again
        write_results(ws)
        write_result_record(ws, rows=45)
        await pilot.press("5")
        await settle(app, pilot)
        state = " ".join(str(app.screen.query_one("#summary-state").render()).split())
        assert "imported after the last prediction" not in state
    # a category the prediction's model does not know: its line comes first of the notes, where at
    # 80x24 it fell under the panel's last row
    record = json.loads((ws.results_dir / "result.json").read_text(encoding="utf-8"))
    record.update(rows=40, labels=ws.taxonomy.training_keys[:-1])
    (ws.results_dir / "result.json").write_text(json.dumps(record), encoding="utf-8")
    app = make_app(ws, start="summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        state = " ".join(str(app.screen.query_one("#summary-state").render()).split())
        assert state.index("does not know") < state.index("imported after the last prediction")


async def test_trial_events_update_rows_in_place_and_show_the_gpu(fixture_ws):
    from tui_data import trial_events

    from reviewtui.tui.messages import CoreEvent

    app = make_app(fixture_ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#tune-trials-table")
        gpu = screen.query_one("#tune-gpu")
        assert not gpu.display or not gpu.has_class("-visible")
        for event in trial_events():
            screen.post_message(CoreEvent(event, "tune"))
            await pilot.pause()
        assert table.row_count == 3  # three trials, six updates

        def cell(trial: str, column: str) -> str:
            return str(table.get_cell(trial, column))

        assert [cell("t1", c) for c in ("trial", "status", "iter", "accuracy", "best")] == \
            ["★ t1", "running", "2", "0.780", "0.780"]
        assert cell("t2", "early") == "yes" and cell("t2", "status") == "stopped"
        assert table.best_id == "t1" and not cell("t3", "trial").startswith("★")
        assert gpu.has_class("-visible") and gpu.stats[0].name == "NVIDIA H200"


async def test_the_star_and_the_closing_summary_name_the_same_best_trial(fixture_ws):
    """One meaning of a trial's best: its best report, not its last. t1 reported 0.800 then 0.700;
    t2 0.750: the star, the best column and the summary all name t1 with 0.800."""
    from tui_data import best_versus_last_reports

    from reviewtui.jobs import Job
    from reviewtui.modeling.tuning import tune_result_to_dict
    from reviewtui.tui.messages import CoreEvent, JobDone

    events, result = best_versus_last_reports()
    result.cancelled = True  # cancelled, and nothing saved: k offers to keep the best trial
    assert result.best_trial_id == "t1"
    app = make_app(fixture_ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#tune-trials-table")
        for event in events:
            screen.post_message(CoreEvent(event, "tune"))
            await pilot.pause()
        assert table.best_id == result.best_trial_id
        assert str(table.get_cell("t1", "trial")) == "★ t1"
        assert str(table.get_cell("t1", "accuracy")) == "0.700" and str(table.get_cell("t1", "best")) == "0.800"
        assert str(table.get_cell("t2", "best")) == "0.750"
        # the search ran as a job that ended cancelled: its record carries the result
        job = Job("a1b2c3d4", "tune", "tune trials=2", {"trials": 2}, ["models/x"], state="cancelled",
                  result={"search": tune_result_to_dict(result)}, folder=fixture_ws.root / "jobs" / "a1b2c3d4")
        screen.post_message(JobDone(job))
        await settle(app, pilot)
        state = str(screen.query_one("#tune-state").render())
        assert "Best trial t1: validation accuracy 0.800 at epoch 1." in state
        assert "Nothing saved (cancelled). k keeps the best trial" in state
        assert screen.cancelled_job is job


async def test_keep_best_needs_a_cancelled_search(fixture_ws):
    app = make_app(fixture_ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
    assert any(n.startswith("nothing to keep: k saves the best trial of a cancelled search") for n in notes(app))
    assert fixture_ws.models() == []


async def test_tuning_form_refuses_zero_trials(fixture_ws):
    app = make_app(fixture_ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f", "end", "backspace", "backspace", "0", "ctrl+s")  # f: into the form
        await settle(app, pilot)
        assert app.screen.job is None and fixture_ws.jobs.list() == []
    assert "the trials field must be at least 1, not 0" in notes(app)


async def test_a_training_refused_before_it_starts_says_so_in_the_state_line(tmp_path):
    """t with no dataset version: the notification said why, and the line under the form kept
    "starting the training ... in the background" as if it ran."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    ws.store.add_assets([NewAsset(f"r{i}", f"review number {i}") for i in range(5)])
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        state = str(app.screen.query_one("#tune-state").render())
        assert state.startswith("not started: no dataset version yet") and "in the background" not in state
    assert ws.jobs.list() == [] and any(n.startswith("no dataset version yet") for n in notes(app))


async def test_a_palette_action_of_the_label_screen_waits_for_its_first_review(fixture_ws):
    """"Label: Sentiment positive" from the palette before the Label screen was ever opened: the
    action ran before the queue's first review was in, did nothing, and said nothing."""
    app = make_app(fixture_ws, start="status")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.run_on_screen("labeling", "sentiment('positive')")
        await settle(app, pilot)
        shown = app.screen.current
        assert shown is not None
    assert fixture_ws.store.sentiments([shown.external_id])[shown.external_id].sentiment == "positive"


async def test_the_diff_screen_of_a_workspace_with_no_version_says_what_a_diff_needs(tmp_path):
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    app = make_app(ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        said = str(app.screen.query_one("#diff-summary").render())
    assert said.startswith("No version so far: a diff needs two. Label some reviews (2) and press e to export.")


def chart_lines(chart) -> list[str]:
    """Every line of a bar chart (those scrolled out of sight too) as plain text, at its width."""
    import io

    from rich.console import Console

    from reviewtui.tui.widgets.bars import BarRows

    rows = chart.query_one(BarRows)
    console = Console(width=rows.content_size.width, color_system=None, record=True, file=io.StringIO())
    console.print(rows.content)
    return console.export_text().splitlines()


def bar_rows(chart) -> list[tuple[str, str, float]]:
    """(name as shown, bar, count) of each line of a bar chart: ``name  ████····  count``."""
    import re

    out = []
    for line in chart_lines(chart):
        found = re.fullmatch(r"\s*(.+?)\s+([█▒░▓·]+)\s+([\d,.]+)\s*", line)
        assert found, f"not a bar line: {line!r}"
        out.append((found[1], found[2], float(found[3].replace(",", ""))))
    return out


def named_by(shown: str, name: str) -> bool:
    """Whether a name shown beside a bar (maybe shortened around "…") is ``name``."""
    head, _, tail = shown.partition("…")
    return name.startswith(head) and name.endswith(tail) if "…" in shown else shown == name


async def test_summary_charts_and_table_use_the_category_names(fixture_ws):
    ws = fixture_ws
    write_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        categories = "\n".join(chart_lines(screen.query_one("#chart-categories")))
        cross = "\n".join(chart_lines(screen.query_one("#chart-cross")))
        table = screen.query_one("#summary-table")
        assert str(table.get_row("USER_EXPERIENCE")[0]) == "User experience"
    for chart in (categories, cross):
        assert "User experience" in chart and "Subscription" in chart
        assert "USER_EXPERIE" not in chart


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
async def test_summary_bars_stand_beside_their_own_names(fixture_ws, size):
    """Uneven counts (10, 7, 4 and 1 reviews a category): on every line of every chart the name,
    the bar's length and the count belong to the same category, sentiment or star score (a plotted
    chart put some names beside a neighbour's bar when its rows were fewer than its bars)."""
    ws = fixture_ws
    write_results(ws, per_category={"CONTENT": 7, "INTERFACE": 4, "USER_EXPERIENCE": 1})
    expected = {
        "#chart-categories": {"Subscription": 10, "Content": 7, "Interface": 4, "User experience": 1},
        "#chart-sentiment": {"negative": 14, "neutral": 0, "positive": 8},
        "#chart-scores": {"1★": 10, "2★": 4, "3★": 0, "4★": 7, "5★": 1},
        "#chart-cross": {"Subscription": 10, "Content": 7, "Interface": 4, "User experience": 1},
    }
    app = make_app(ws, start="summary")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        for selector, counts in expected.items():
            chart = app.screen.query_one(selector)
            rows = bar_rows(chart)
            assert len(rows) == len(counts)
            longest = max(counts.values())
            for (shown, drawn, count), (name, n) in zip(rows, counts.items()):
                assert named_by(shown, name) and count == n, (selector, shown, count)
                filled = len(drawn.rstrip("·"))
                assert filled == round(len(drawn) * n / longest), (selector, shown, drawn)
        # the sentiments apart: Subscription all negative (█), Content all positive (░)
        cross = [drawn for _, drawn, _ in bar_rows(app.screen.query_one("#chart-cross"))]
        assert set(cross[0]) == {"█"} and set(cross[1].rstrip("·")) == {"░"}


async def test_a_bar_chart_with_fewer_rows_than_bars_scrolls_to_every_bar():
    """Twelve bars in six rows: each line still holds one bar with its own name and count, names
    alike when cut stay apart ("Cate…er 10"), and the chart scrolls to the last of them."""
    from textual.app import App

    from reviewtui.tui.widgets.bars import BarChart

    data = {f"Category number {i}": 12 - i for i in range(12)}

    class Charts(App):
        CSS = "BarChart { height: 6; width: 26; }"

        def compose(self):
            yield BarChart("Categories", id="many", can_focus=True)

    app = Charts()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(BarChart)
        chart.set_data(data, total=12)
        for _ in range(3):  # laid out, then drawn again beside the scrollbar that appeared
            await pilot.pause()
        rows = bar_rows(chart)
        assert [count for _, _, count in rows] == list(data.values())
        assert len({shown for shown, _, _ in rows}) == 12
        assert all(named_by(shown, name) for (shown, _, _), name in zip(rows, data))
        assert chart.max_scroll_y == 12 - chart.scrollable_content_region.height > 0
        chart.focus()
        await pilot.press("end")
        await pilot.pause()
        assert chart.scroll_y == chart.max_scroll_y


@pytest.mark.parametrize("view", ["categories", "versions"])
async def test_the_summary_table_fits_beside_its_chart_at_80_columns(fixture_ws, view):
    """At 80x24 the table takes short headers (named under it) and is as wide as its columns:
    nothing of it is past its edge or needs a sideways scroll; at 100 columns it keeps its long
    headers."""
    from test_tui_reviews_in import write_app_results

    ws = fixture_ws
    write_app_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        if view == "versions":
            await pilot.press("t")
            await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#summary-table")
        cross = screen.query_one("#chart-cross")
        headers = [str(c.label) for c in table.ordered_columns]
        assert table.max_scroll_x == 0 and table.region.right <= 80 and cross.region.width >= 28
        assert "neg." in headers and "★" in headers
        assert "n reviews · neg. negative · ★ mean" in str(table.border_subtitle)
        await pilot.resize_terminal(100, 30)
        await settle(app, pilot)
        headers = [str(c.label) for c in table.ordered_columns]
        assert "negative" in headers and "mean ★" in headers and not table.border_subtitle
        assert table.max_scroll_x == 0


async def test_no_automatic_rerank_when_retrain_every_is_zero(fixture_ws):
    ws = fixture_ws
    ws.config.update_section("active_learning", {"retrain_every": 0})
    app = make_app(ws, start="labeling", assist=True)
    ws.suggestions = lambda ids, refit=False: {}  # the app's own logic, without loading the embedding model
    ws.prepare_suggestions = lambda on_event=None: {}
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press(*"1234123412")       # ten labels: no re-rank starts by itself
        await pilot.pause()
        assert screen.labels_given == 10 and not screen.reranking
        queue_text = str(screen.query_one("#queue-info").render())
        assert "re-rank with r" in queue_text and "re-rank in" not in queue_text
    ws.config.update_section("active_learning", {"retrain_every": 4})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "re-rank in 4 labels" in str(app.screen.query_one("#queue-info").render())


async def test_library_output_goes_to_the_log_file(fixture_ws):
    import os
    import sys

    before = sys.stdout
    app = make_app(fixture_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert sys.stdout.encoding == "utf-8" and sys.stderr.encoding == "utf-8"
        os.fstat(sys.stderr.fileno())  # a real file: faulthandler can write to it
        print("a library says hello")
        sys.stderr.write("and warns\n")
    assert sys.stdout is before
    log = (fixture_ws.cache_dir / "app-output.log").read_text(encoding="utf-8")
    assert "a library says hello\nand warns\n" in log


async def wait_until(pilot, condition, timeout: float = 120.0) -> None:
    for _ in range(int(timeout / 0.2)):
        if condition():
            return
        await pilot.pause(0.2)
    raise AssertionError("timed out waiting for the app")


def ray_stopped() -> bool:
    import ray

    return not ray.is_initialized()


@pytest.mark.slow
@pytest.mark.ray
async def test_tuning_run_fills_the_trial_table_and_saves_a_model(tmp_path, tiny_bert):
    from tui_data import build_tuning_workspace

    ws = build_tuning_workspace(tmp_path / "ws", tiny_bert)
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#tune-trials-table")
        await pilot.press("f", "end", "backspace", "backspace", "1")  # f: into the form; one trial
        await pilot.press("ctrl+s")  # a background job: the table follows its journal
        await wait_until(pilot, lambda: screen.job is not None and screen.job.state == "finished" and table.trials)
        await settle(app, pilot)
        finished = [u for u in table.trials.values() if u.status in ("TERMINATED", "STOPPED")]
        assert table.row_count == 1 and finished and "accuracy" in finished[0].metrics
        assert table.best_id in table.trials
        assert str(table.get_cell(table.best_id, "trial")).startswith("★")
        assert all(str(table.get_cell(t, "status")) == trial_status_word(u.status) for t, u in table.trials.items())  # in place
        state = str(screen.query_one("#tune-state").render())
        assert "Search done in" in state and f"Best trial {table.best_id}:" in state
    assert ray_stopped()
    assert [m["name"] for m in ws.models()], "the best configuration was retrained and saved"


@pytest.mark.slow
@pytest.mark.ray
async def test_tuning_cancel_keeps_the_finished_trials_and_k_saves_the_best(tmp_path, tiny_bert):
    from tui_data import build_tuning_workspace

    ws = build_tuning_workspace(tmp_path / "ws", tiny_bert)
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#tune-trials-table")
        await pilot.press("f", "end", "backspace", "backspace", "6")  # 6 trials, one at a time
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any(u.status == "TERMINATED" for u in table.trials.values()))
        await pilot.press("ctrl+x")
        # the trial under way stops at its next report: beside another worker's tests, minutes
        await wait_until(pilot, lambda: screen.job.state == "cancelled", timeout=360)
        await settle(app, pilot)
        assert 1 <= table.row_count < 6
        assert any(u.status == "TERMINATED" and "accuracy" in u.metrics for u in table.trials.values())
        state = str(screen.query_one("#tune-state").render())
        assert "Search cancelled in" in state and "k keeps the best trial" in state
        assert ws.models() == []
        best = table.best_id
        assert best is not None and screen.cancelled_job.result["best_trial"] == best
        await pilot.press("k")  # the retraining is a job too
        await wait_until(pilot, lambda: screen.job.kind == "keep" and screen.job.state == "finished")
        await settle(app, pilot)
        assert str(screen.query_one("#tune-state").render()).startswith("Saved model ")
    assert ray_stopped()
    [card] = ws.models()
    assert card["extra"]["tuning"]["best_trial"] == best and card["extra"]["tuning"]["cancelled"] is True


@pytest.mark.slow
async def test_suggestions_and_strategy_switch_rerank_the_queue(fixture_ws, tiny_bert):
    ws = fixture_ws
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    ws.config.update_section("active_learning", {"strategy": "margin", "batch_size": 8, "retrain_every": 2})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.current is not None and screen.current.external_id in screen.suggestions)
        label, confidence = screen.suggestions[screen.current.external_id]
        assert label in ws.taxonomy.training_keys and 0 < confidence <= 1
        await pilot.press("t")               # margin -> entropy: re-rank in the background
        assert screen.strategy == "entropy"
        await wait_until(pilot, lambda: not screen.reranking)
        await settle(app, pilot)
        shown = screen.current.external_id  # the review on screen stays; what follows is re-ranked
        ranked = [a.external_id for a in ws.queue(8) if a.external_id != shown]
        assert [a.external_id for a in screen.items[1:1 + len(ranked)]] == ranked
        assert all(ws.store.get(e).priority > 0 for e in ranked)
        await pilot.press("1", "2")          # retrain_every 2: a re-rank after the second label
        await pilot.pause()
        assert screen.reranking or screen.labels_given == 2
        await wait_until(pilot, lambda: not screen.reranking)
        await settle(app, pilot)


@pytest.mark.slow
async def test_r_reranks_when_retrain_every_is_zero(fixture_ws, tiny_bert):
    ws = fixture_ws
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    ws.config.update_section("active_learning", {"strategy": "margin", "batch_size": 8, "retrain_every": 0})
    app = make_app(ws, start="labeling", assist=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.current is not None and screen.current.external_id in screen.suggestions)
        await pilot.press("1", "2", "3")
        await settle(app, pilot)
        assert not screen.reranking and all(ws.store.get(a.external_id).priority == 0 for a in screen.items)
        await pilot.press("r")
        await wait_until(pilot, lambda: not screen.reranking)
        await settle(app, pilot)
        shown = screen.current.external_id
        ranked = [a.external_id for a in ws.queue(8) if a.external_id != shown]
        assert all(ws.store.get(e).priority > 0 for e in ranked)
        assert [a.external_id for a in screen.items[screen.index + 1:screen.index + 1 + len(ranked)]] == ranked
        assert shown in screen.suggestions


# --- the footer fits the terminal -------------------------------------------------------------------
def test_footer_fit_keeps_help_and_the_first_keys():
    from reviewtui.tui.widgets.footer import fit

    keys = [("1-9", "Label", False), ("l", "Any category", False), ("s", "Skip", False),
            ("/", "Search", False), ("?", "Help", True), ("e", "Export", False)]
    # all of it in Textual's style: 11+16+8+10+8+10 = 63, the palette's key 12
    assert fit(keys, "^p palette", 75) == ([0, 1, 2, 3, 4, 5], False, True, False)
    # one cell less: the compact style (one cell less a key) keeps everything
    assert fit(keys, "^p palette", 74) == ([0, 1, 2, 3, 4, 5], True, True, False)
    # compact without the palette's key: 10+15+7+9+7+9 = 57
    assert fit(keys, "^p palette", 57) == ([0, 1, 2, 3, 4, 5], True, False, False)
    # narrower: the first keys that fit, help always, named "All keys" (10+15+7 and 11)
    assert fit(keys, "^p palette", 43) == ([0, 1, 2, 4], True, False, True)
    assert fit(keys, "^p palette", 5) == ([4], True, False, True)
    assert fit([k for k in keys if not k[2]], None, 20) == ([0], True, False, False)


@pytest.mark.parametrize("start", ["status", "labeling", "diff", "tuning", "summary", "quality", "discover"])
async def test_footer_fits_80_columns_and_keeps_help(fixture_ws, start):
    """At 80 columns every key the footer shows lies inside the line, `?` among them; when keys are
    left out it says "All keys". Widened to 200 columns, every shown key of the screen is back."""
    from textual.widgets._footer import FooterKey

    app = make_app(fixture_ws, start=start)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        keys = list(app.screen.query(FooterKey))
        assert keys and all(k.region.right <= 80 for k in keys)
        help_keys = [k for k in keys if k.action == "help"]
        assert len(help_keys) == 1
        narrow = {k.action for k in keys}
        shown = {b.action for _n, b, _e, _t in app.screen.active_bindings.values() if b.show}
        if shown - narrow:
            assert help_keys[0].description == "All keys"
        await pilot.resize_terminal(200, 24)
        await settle(app, pilot)
        wide = {k.action for k in app.screen.query(FooterKey)}
        assert shown <= wide
        assert [k.description for k in app.screen.query(FooterKey) if k.action == "help"] in ([], ["Help"])


async def test_the_summarys_lower_charts_and_table_are_on_screen_at_80x24(fixture_ws):
    """At 80x24 a state of several lines pushed the Category x sentiment chart and the table t
    switches under the footer; the state keeps at most six lines (scrolled within) and both chart
    rows fit."""
    ws = fixture_ws
    write_results(ws)
    app = make_app(ws, start="summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#summary-state").update("\n".join(f"line {i} of a long state" for i in range(9)))
        await settle(app, pilot)
        for row in ("#summary-charts", "#summary-lower"):
            region = screen.query_one(row).region
            assert region.height >= 6 and region.bottom <= 23, (row, region)
        assert screen.query_one("#summary-state").region.height <= 6


async def test_summary_of_products_without_versions_offers_no_version_keys(fixture_ws):
    """Reviews of products (several "apps", no version): no version choice, no v or l in the footer,
    and t shows one row per product without a version column."""
    from textual.widgets import DataTable, Select
    from textual.widgets._footer import FooterKey

    from tests.test_apps import EVEN, result_rows, write_results as write_rows

    write_rows(fixture_ws, result_rows([("Lamp", "", 40, 0.3, EVEN), ("Jacket", "", 40, 0.6, EVEN)]))
    app = make_app(fixture_ws, start="summary")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        actions = {k.action for k in screen.query(FooterKey)}
        assert "cycle_app" in actions and "toggle_view" in actions
        assert not {"cycle_version", "latest"} & actions
        assert not screen.query_one("#summary-version", Select).display
        assert not screen.query_one("#summary-version-label").display
        await pilot.press("t")
        await settle(app, pilot)
        table = screen.query_one("#summary-table", DataTable)
        assert table.border_title.startswith("Per app")
        assert [str(c.label) for c in table.columns.values()][:2] == ["app", "reviews"]
        assert table.row_count == 2


async def test_the_tuning_screen_keeps_digits_for_the_screens_until_the_form_is_entered(fixture_ws):
    """The trials have the focus first: a digit switches screens as everywhere (a 5 meant for the
    summary replaced the trial count the form had selected). f enters the form, where digits type
    numbers and the footer shows esc, which hands them back."""
    from textual.widgets import Input
    from textual.widgets._footer import FooterKey

    app = make_app(fixture_ws, start="tuning")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        keys = {k.action for k in app.screen.query(FooterKey)}
        assert "focus_form" in keys and "focus_table" not in keys
        trials = app.screen.query_one("#tune-trials", Input).value
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen.focused, Input)
        assert "focus_table" in {k.action for k in app.screen.query(FooterKey)}
        await pilot.press("escape")
        await settle(app, pilot)
        assert "focus_table" not in {k.action for k in app.screen.query(FooterKey)}
        assert app.screen.query_one("#tune-trials", Input).value == trials
        await pilot.press("6")
        await settle(app, pilot)
        assert app.current_mode == "quality"


async def test_the_summary_without_predictions_answers_each_key_with_p(fixture_ws):
    """No predictions yet: the state line gave the command line's advice, t and v did nothing and
    said nothing, l said "no app versions in the predictions" and w "run reviewtui predict first"."""
    app = make_app(fixture_ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        state = str(app.screen.query_one("#summary-state").render())
        assert state.startswith("No predictions yet: p predicts every review") and "reviewtui" not in state
        for key in "tvlw":
            before = len(notes(app))
            await pilot.press(key)
            await settle(app, pilot)
            assert notes(app)[before:] == ["no predictions yet: p predicts every review"], key
    assert not (fixture_ws.results_dir / "report.md").exists()


async def test_the_summary_keeps_saying_a_prediction_runs_while_it_reloads(fixture_ws):
    """g (or v) while a predict job runs replaced "predicting every review (job …)" with "no
    predictions yet … p predicts every review now" until the job's next progress."""
    ws = fixture_ws
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    ws.jobs.mark_running(job.id)
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.job is not None)  # following the job (no settle: it runs on)
        await pilot.press("g")
        for _ in range(20):
            await pilot.pause(0.05)
        state = str(screen.query_one("#summary-state").render())
        assert f"predicting every review (job {job.id}; x cancels)" in state and "p predicts" not in state
        ws.jobs.finish(job.id, "cancelled")
        await wait_until(pilot, lambda: not screen.running)


async def test_predict_with_a_model_of_the_taxonomy_before_is_refused_before_a_job_starts(fixture_ws):
    """A category added since the newest model learnt, and labeled since (without a label the model
    predicts the others): the job started, then failed with the command line's advice and every
    key; the screen now says so at once, in its keys."""
    from reviewtui.modeling.card import ModelCard

    ws = fixture_ws
    keys = ws.taxonomy.training_keys
    (ws.models_dir / "m1").mkdir(parents=True)
    ModelCard(name="m1", kind="quick", base_model="minilm", base_source="package", labels=keys, taxonomy_keys=keys,
              dataset_version="dataset-2").save(ws.models_dir / "m1")
    assert ws.model_misfit() is None
    assert any(s.startswith("predict every review") for s in ws.status().next_steps)
    ws.add_category("Instant transfer slow")
    assert ws.model_misfit() is None  # no label of it yet: the model predicts the other categories
    ws.label(next(iter(ws.store.iter_assets())).external_id, "Instant transfer slow")
    assert ws.model_misfit() == ("model m1 learnt the taxonomy as it was before: it does not know Instant transfer "
                                 "slow, and Instant transfer slow has labels now")
    assert ws.model_misfit("quick") is None
    # status's next step is not the prediction that would be refused
    steps = ws.status().next_steps
    assert not any(s.startswith("predict every review") for s in steps)
    assert any(s.startswith("train a model on the taxonomy as it is now (model m1 learnt the taxonomy as it was "
                            "before: it does not know Instant transfer slow, and Instant transfer slow has labels "
                            "now)") for s in steps), steps
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert any("Instant transfer slow has labels now: e (export) and t on the Tune screen" in n for n in notes(app))
        assert ws.jobs.list() == []


async def test_summary_without_sentiment_hides_its_charts_and_says_why(fixture_ws):
    """Predictions made with --sentiment none: the screen drew a sentiment chart and a category x
    sentiment chart of zeros and a negative column of "-". Now they are left out, said in a line."""
    ws = fixture_ws
    path = write_results(ws)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    col = rows[0].index("sentiment")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0]] + [r[:col] + [""] + r[col + 1:] for r in rows[1:]])
    app = make_app(ws, start="summary")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        state = " ".join(str(screen.query_one("#summary-state").render()).split())
        assert "No sentiment was predicted: run `reviewtui predict --sentiment auto`" in state
        assert not screen.query_one("#chart-sentiment").display and not screen.query_one("#chart-cross").display
        table = screen.query_one("#summary-table")
        assert [str(c.label) for c in table.columns.values()] == ["category", "reviews", "share", "mean ★"]
