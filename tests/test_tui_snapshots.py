"""Snapshots of every screen at 100x30, and of the widest ones at 80x24 (a plain terminal), on a
fixed workspace (update with --snapshot-update).

The workspace lives at a fixed temp path (the status screen shows it), version times are frozen,
the cursor does not blink and no model or GPU probe runs, so the pictures are deterministic.
"""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import pytest

from tui_data import build_workspace, write_results

from reviewtui.tui.app import ReviewApp

SIZE = (100, 30)
ROOT = Path(tempfile.gettempdir()) / "reviewtui-snapshot-ws"


@pytest.fixture
def snap_ws():
    # the path is fixed (the status screen shows it): a lock keeps two concurrent test runs apart
    with open(f"{ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ws = build_workspace(ROOT)
        write_results(ws)
        yield ws
        ws.close()


async def settle(pilot) -> None:
    """Until the workers are done, their result messages handled and the screen laid out again
    (tables size their columns on the refresh after their rows arrive): a few rounds, so a busy
    machine gives the same picture as a quiet one."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)


def app_for(ws, start: str) -> ReviewApp:
    return ReviewApp(ws, start=start, assist=False, probe_gpus=False, cursor_blink=False)


@pytest.mark.parametrize("start", ["status", "labeling", "diff", "tuning", "summary", "discover"])
def test_screen(snap_compare, snap_ws, start):
    assert snap_compare(app_for(snap_ws, start), terminal_size=SIZE, run_before=settle)


def test_help(snap_compare, snap_ws):
    async def open_help(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=open_help)


def test_skip_dialog(snap_compare, snap_ws):
    async def skip(pilot) -> None:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=skip)


def test_tuning_with_trials(snap_compare, snap_ws):
    from tui_data import trial_events

    from reviewtui.tui.messages import CoreEvent

    async def feed(pilot) -> None:
        await settle(pilot)
        for event in trial_events():
            pilot.app.screen.post_message(CoreEvent(event, "tune"))
            await pilot.pause()

    assert snap_compare(app_for(snap_ws, "tuning"), terminal_size=SIZE, run_before=feed)


def test_training_with_candidates_and_an_epoch_bar(snap_compare, snap_ws):
    """The tuning screen following an automatic-choice job (`a`): the candidates' rows (one skipped,
    one done, one running) and the running fine-tune's epoch bar, from the job's journal."""
    from reviewtui.events import EpochProgress, TrialUpdate
    from reviewtui.jobs import Job
    from reviewtui.tui.messages import CoreEvent, JobAttached

    def update(key, status, description, folds=0, mean=None, std=None, seconds=0.0, error=None):
        metrics = {**(mean or {}), **{f"{k}_std": v for k, v in (std or {}).items()}}
        return TrialUpdate(key, status, {"candidate": key, "description": description}, folds, metrics, seconds,
                           error=error)

    events = [
        update("head:mpnet", "STOPPED", "mpnet head", error="mpnet is not installed (reviewtui models add mpnet)"),
        update("quick", "TERMINATED", "minilm embeddings + logistic regression (C=10)", 5,
               {"accuracy": 0.821, "f1_macro": 0.802}, {"accuracy": 0.031, "f1_macro": 0.028}, 4.0),
        update("finetune:minilm", "RUNNING", "minilm fine-tune (≤6 epochs, lr 0.0001)"),
        update("finetune:minilm", "RUNNING", "", 2, seconds=95.0),
        EpochProgress("cv 3/5 finetune:minilm", 2, 6, 9, 14, 31.5, 12.0),
    ]
    job = Job("5eed0a17", "train", "train auto=True budget_s=1800.0", {"auto": True, "budget_s": 1800.0},
              ["models/v1-auto"], state="running", folder=ROOT / "jobs" / "5eed0a17")

    async def feed(pilot) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        screen.post_message(JobAttached(job))
        await pilot.pause()
        for event in events:
            screen.post_message(CoreEvent(event, "tune"))
            await pilot.pause()

    assert snap_compare(app_for(snap_ws, "tuning"), terminal_size=SIZE, run_before=feed)


def test_labeling_with_a_sentiment(snap_compare, snap_ws):
    async def positive(pilot) -> None:
        await settle(pilot)
        await pilot.press("plus")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=positive)


def test_collect_dialog(snap_compare, snap_ws):
    async def open_form(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press(*"com.example.app")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "status"), terminal_size=SIZE, run_before=open_form)


def test_status_with_apps(snap_compare, snap_ws):
    from reviewtui.store import NewAsset

    snap_ws.store.add_assets([NewAsset(f"{app}-{i}", f"review {i} of {app}", {"app": app, "app_version": "1.0"})
                              for app, n in (("com.example.app", 24), ("com.other.app", 12)) for i in range(n)])
    assert snap_compare(app_for(snap_ws, "status"), terminal_size=SIZE, run_before=settle)


def test_summary_app_versions(snap_compare, snap_ws):
    from test_tui_reviews_in import write_app_results

    write_app_results(snap_ws)

    async def versions(pilot) -> None:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(app_for(snap_ws, "summary"), terminal_size=SIZE, run_before=versions)



def test_summary_categories_by_app(snap_compare, snap_ws):
    """t twice with several apps: each app's reviews and its share of them in each category."""
    from test_tui_reviews_in import write_app_results

    write_app_results(snap_ws)

    async def by_app(pilot) -> None:
        await settle(pilot)
        await pilot.press("t", "t")
        await settle(pilot)

    assert snap_compare(app_for(snap_ws, "summary"), terminal_size=NARROW, run_before=by_app)

# --- label quality -------------------------------------------------------------------------------
QUALITY_ROOT = Path(tempfile.gettempdir()) / "reviewtui-snapshot-quality-ws"


@pytest.fixture
def quality_snap_ws():
    from tui_data import build_quality_workspace

    with open(f"{QUALITY_ROOT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ws = build_quality_workspace(QUALITY_ROOT)
        yield ws
        ws.close()


def test_quality_screen(snap_compare, quality_snap_ws):
    assert snap_compare(app_for(quality_snap_ws, "quality"), terminal_size=SIZE, run_before=settle)


@pytest.mark.parametrize("key", ["S", "T", "D"], ids=["suspects", "stars", "disagreements"])
def test_review_queue(snap_compare, quality_snap_ws, key):
    """The labeling screen in a review queue: the current label, what the queue suggests and why
    (the notifications are cleared: how long they stay depends on how long the queue took)."""
    async def choose(pilot) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app_for(quality_snap_ws, "labeling"), terminal_size=SIZE, run_before=choose)


# --- the labeling loop ------------------------------------------------------------------------
def test_labeling_filtered_with_the_stop_line(snap_compare, snap_ws):
    from tui_data import stop_signal_rounds

    stop_signal_rounds(snap_ws)

    async def search(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"layout OR font", "enter")
        await settle(pilot)

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=search)


def test_bulk_label_dialog(snap_compare, snap_ws):
    async def bulk(pilot) -> None:
        await settle(pilot)
        await pilot.press("f", *"stars=1", "enter")
        await settle(pilot)
        await pilot.press("B", "1")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=bulk)


def test_learning_curves(snap_compare, snap_ws):
    from tui_data import stop_signal_rounds

    stop_signal_rounds(snap_ws)

    async def curves(pilot) -> None:
        await settle(pilot)
        await pilot.press("L")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=SIZE, run_before=curves)


def test_discover_with_clusters(snap_compare, snap_ws):
    from tui_data import discovery

    from reviewtui.tui.messages import DiscoveryFinished

    async def feed(pilot) -> None:
        await settle(pilot)  # nothing is labeled Other: the screen opens on new in 4.5
        pilot.app.screen.post_message(DiscoveryFinished(discovery()))
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app_for(snap_ws, "discover"), terminal_size=SIZE, run_before=feed)


# --- a plain 80x24 terminal -----------------------------------------------------------------------
NARROW = (80, 24)


def test_summary_at_80x24(snap_compare, snap_ws):
    """The charts a bar a line, the table as wide as its short headers beside the stacked chart."""
    assert snap_compare(app_for(snap_ws, "summary"), terminal_size=NARROW, run_before=settle)


def test_discover_with_clusters_at_80x24(snap_compare, snap_ws):
    """The words give way so the growth shows whole; the caution of a version of 13 reviews."""
    from tui_data import discovery

    from reviewtui.tui.messages import DiscoveryFinished

    async def feed(pilot) -> None:
        await settle(pilot)  # nothing is labeled Other: the screen opens on new in 4.5
        pilot.app.screen.post_message(DiscoveryFinished(discovery()))
        await settle(pilot)

    assert snap_compare(app_for(snap_ws, "discover"), terminal_size=NARROW, run_before=feed)


def test_learning_curves_at_80x24(snap_compare, snap_ws):
    """The compact per-category table: every header and value whole."""
    from tui_data import stop_signal_rounds

    stop_signal_rounds(snap_ws)

    async def curves(pilot) -> None:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)

    assert snap_compare(app_for(snap_ws, "labeling"), terminal_size=NARROW, run_before=curves)
