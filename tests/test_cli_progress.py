"""Progress of the CLI's long commands where stderr is not a terminal (a log, nohup, a pipe)."""

from __future__ import annotations

import io

from rich.console import Console

from reviewtui.events import EpochProgress, Notice, Progress


def sink_on(monkeypatch, *, terminal: bool, now: list[float]):
    from reviewtui.cli import live

    buf = io.StringIO()
    monkeypatch.setattr(live, "err_console", lambda: Console(file=buf, force_terminal=terminal, width=120))
    return live.ProgressSink(clock=lambda: now[0]), buf


def test_a_log_gets_the_progress_of_a_long_task_as_lines_and_nothing_of_a_short_one(monkeypatch):
    now = [0.0]
    sink, buf = sink_on(monkeypatch, terminal=False, now=now)
    with sink:
        sink(Progress("import", 0, 10, "read"))
        now[0] = 2.0
        sink(Progress("import", 10, 10, "read"))  # done within the quiet seconds: no line
        sink(Notice("info", "imported 10 reviews"))  # a notice always has its line
        sink(Progress("predict", 0, 40_000, "embed"))  # starts at 2 s
        now[0] = 5.0
        sink(Progress("predict", 2_048, 40_000, "embed"))  # still quiet
        now[0] = 13.0
        sink(Progress("predict", 6_144, 40_000, "embed"))  # past the quiet seconds: said
        sink(Progress("predict", 7_000, 40_000, "embed"))  # same 10 %: not again
        now[0] = 30.0
        sink(Progress("predict", 40_000, 40_000, "embed"))  # the end
        sink(EpochProgress("train", 1, 3, 1, 50, 2.5, 60.0))
        now[0] = 45.0
        sink(EpochProgress("train", 1, 3, 20, 50, 2.5, 40.0))  # the fit's quiet seconds are over
    assert buf.getvalue().splitlines() == [
        "imported 10 reviews", "predict embed: 6,144/40,000 (15%)", "predict embed: 40,000/40,000 (100%)",
        "train epoch 1/3: step 20/50, 2.5 samples/s"]


def test_a_terminal_gets_bars_not_lines(monkeypatch):
    sink, buf = sink_on(monkeypatch, terminal=True, now=[100.0])
    assert sink.lines is None
    with sink:
        sink(Progress("predict", 6_144, 40_000, "embed"))
    assert "predict embed: 6,144/40,000" not in buf.getvalue()


def test_a_log_gets_each_line_whole_and_a_terminal_gets_it_wrapped():
    from reviewtui.cli.render import print_lines

    line = "Next: reviewtui -w /a/very/long/path/to/the/workspace import /another/long/path/to/labeled.csv"
    log, tty = io.StringIO(), io.StringIO()
    print_lines([line], Console(file=log, force_terminal=False, width=40))
    print_lines([line], Console(file=tty, force_terminal=True, width=40))
    assert log.getvalue() == line + "\n"
    assert len(tty.getvalue().splitlines()) > 1


def test_a_log_gets_a_notice_whole_and_a_training_step_once(monkeypatch):
    """A notice names commands and paths (the training's budget line, the faster ways): a log cut
    it at 80 columns. A training step comes as Progress and as EpochProgress: one line in a log."""
    now = [0.0]
    sink, buf = sink_on(monkeypatch, terminal=False, now=now)
    notice = ("10 epochs on 5,096 rows would take about 91 min here; the 60 min budget fits 6 epochs, which this "
              "training runs (`--budget 2h`, `--budget none` or [training] budget_s trains them all)")
    with sink:
        sink(Notice("info", notice))
        sink(Progress("train", 1, 280, "epoch 0.0"))
        sink(EpochProgress("train", 1, 1, 1, 280, 9.6, 500.0))
        now[0] = 20.0
        sink(Progress("train", 40, 280, "epoch 0.1"))
        sink(EpochProgress("train", 1, 1, 40, 280, 11.7, 400.0))
    assert buf.getvalue().splitlines() == [notice, "train epoch 1/1: step 40/280, 11.7 samples/s"]


def test_a_log_gets_a_cross_validated_trainings_epochs_only(monkeypatch):
    """Below cv_below labels the epochs come as "cv 1/5 finetune:minilm", the steps as "train"."""
    now = [0.0]
    sink, buf = sink_on(monkeypatch, terminal=False, now=now)
    with sink:
        sink(EpochProgress("cv 1/5 finetune:minilm", 1, 6, 1, 40, 3.0, 90.0))
        sink(Progress("train", 1, 240, "epoch 0.0"))
        now[0] = 20.0
        sink(EpochProgress("cv 1/5 finetune:minilm", 1, 6, 12, 40, 3.1, 60.0))
        sink(Progress("train", 12, 240, "epoch 0.3"))
    assert buf.getvalue().splitlines() == ["cv 1/5 finetune:minilm epoch 1/6: step 12/40, 3.1 samples/s"]


def test_a_search_into_a_log_writes_its_candidates_as_lines_as_they_come(monkeypatch):
    """`train --auto` (and `tune`) with stderr in a log: each candidate's start and end are written
    when they happen, not a table at the end; the board still holds every row for the summary."""
    import threading

    from reviewtui.cli import live
    from reviewtui.cli.choice import CandidateBoard
    from reviewtui.events import TrialUpdate

    buf = io.StringIO()
    monkeypatch.setattr(live, "err_console", lambda: Console(file=buf, force_terminal=False, width=80))
    board = CandidateBoard(60.0)
    seen: list[str] = []

    def search(cancel: threading.Event) -> str:
        board(TrialUpdate("quick", "RUNNING", {"model": "quick"}))
        seen.append(buf.getvalue())  # written before the search goes on
        board(TrialUpdate("quick", "TERMINATED", {"model": "quick"}, metrics={"f1_macro": 0.7, "f1_macro_std": 0.02},
                          elapsed=2))
        return "done"

    assert live.run_search(board, search) == "done"
    assert seen == ["trial quick: running\n"]
    assert buf.getvalue().splitlines() == ["trial quick: running", "trial quick: done, macro F1 0.700 ± 0.020 (2 s)"]
    assert list(board.rows) == ["quick"]
