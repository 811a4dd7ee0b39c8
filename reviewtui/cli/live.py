"""Live displays on stderr: a progress bar fed by Progress/Notice events (and one bar per training
epoch, fed by EpochProgress: steps, samples/s, time left), and the trial board of ``reviewtui tune``
fed by TrialUpdate events from the search thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from reviewtui import presentation as say
from reviewtui.cli.render import err_console
from reviewtui.cli.tables import Table
from reviewtui.events import EpochProgress, Notice, TrialUpdate
from reviewtui.events import Progress as ProgressEvent


#: Where stderr is not a terminal, a task prints no progress line in its first seconds: a command
#: that is done by then leaves its log as it was, a long one says how far it got.
QUIET_S = 10.0


class ProgressSink:
    """Feeds Progress/Notice events to a rich progress bar (transient) on stderr, and EpochProgress
    to one bar per training epoch (steps of the epoch, samples/s, time left in it). Where stderr is
    not a terminal (``predict > log 2>&1``, nohup, a pipe), where a bar shows nothing, the progress
    of a task that runs past ``QUIET_S`` seconds goes there as plain lines (:class:`ProgressLines`)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        console = err_console()
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=console,
                                 transient=True, disable=not console.is_terminal)
        self.lines = None if console.is_terminal else ProgressLines(
            lambda line: console.print(Text(line), soft_wrap=True), after_s=QUIET_S, clock=clock)
        self.tasks: dict[str, Any] = {}
        self.epoch_of: dict[str, str] = {}  # each epoch bar's current description

    def __enter__(self) -> "ProgressSink":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Any) -> None:
        if self.lines is not None and isinstance(event, (ProgressEvent, EpochProgress)):
            self.lines(event)
        elif isinstance(event, ProgressEvent):
            task = self.tasks.get(event.task)
            if task is None:
                task = self.tasks[event.task] = self.progress.add_task(event.task, total=event.total, info="")
            self.progress.update(task, completed=event.done, total=event.total,
                                 description=f"{event.task} {event.detail}".strip())
        elif isinstance(event, EpochProgress):
            self.epoch(event)
        elif isinstance(event, Notice):
            style = {"error": "red", "warning": "yellow"}.get(event.level, "")
            # whole lines in a log: a notice names commands and paths that a wrap at 80 columns would cut
            self.progress.console.print(Text(event.text, style=style), soft_wrap=not self.progress.console.is_terminal)

    def epoch(self, event: EpochProgress) -> None:
        """The bar of the epoch ``event`` is in: a new epoch (or a new fit) starts the bar over."""
        key = f"epoch:{event.task}"
        description = f"{event.task} epoch {event.epoch}/{event.epochs}"
        eta = say.elapsed(event.eta_s) if event.eta_s == event.eta_s else "?"
        info = f"{event.samples_per_s:.1f} samples/s · {eta} left"
        task = self.tasks.get(key)
        if task is None:
            task = self.tasks[key] = self.progress.add_task(description, total=event.steps, info=info)
        elif self.epoch_of.get(key) != description:
            self.progress.reset(task, total=event.steps, description=description)
        self.epoch_of[key] = description
        self.progress.update(task, completed=event.step, total=event.steps, description=description, info=info)


class ProgressLines:
    """Progress/EpochProgress/Notice events as plain lines, for output that is not a terminal (a
    log file, a pipe), where a progress bar shows nothing. A task's progress gets a line when one
    of its stages (the first word of the detail: "embed", "chunk") first shows, when it passes
    another ``step`` percent, when ``every_s`` seconds went by since its last line, and when it is
    complete; an epoch gets a line when it starts and then at most every ``every_s`` seconds; every
    Notice gets its line. A task or a fit says nothing in its first ``after_s`` seconds (it is shown
    from its first event after them). ``print_line`` prints one line; ``clock`` gives seconds."""

    def __init__(self, print_line: Callable[[str], None], *, every_s: float = 30.0, step: int = 10,
                 after_s: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.print_line, self.every_s, self.step, self.clock = print_line, every_s, step, clock
        self.after_s = after_s
        self.first_at: dict[str, float] = {}
        self.stages: set[tuple[str, str]] = set()
        self.last_at: dict[str, float] = {}
        self.last_step: dict[str, int] = {}
        self.complete: set[str] = set()
        self.epochs_seen = False  # a training's steps come as both Progress and EpochProgress
        self.trial_status: dict[str, str] = {}

    def __call__(self, event: Any) -> None:
        if isinstance(event, ProgressEvent):
            # a training's steps come as Progress("train") and as its epoch's EpochProgress (task
            # "train", "cv 2/5 finetune:minilm", "final ..."): the epoch lines say more
            if not (event.task == "train" and self.epochs_seen):
                self.progress(event)
        elif isinstance(event, EpochProgress):
            self.epochs_seen = True
            self.epoch(event)
        elif isinstance(event, Notice):
            self.print_line(event.text if event.level == "info" else f"{event.level}: {event.text}")
        elif isinstance(event, TrialUpdate):
            self.trial(event)

    def trial(self, event: TrialUpdate) -> None:
        """A line when a trial (or a candidate of train --auto) starts and when it ends, with its
        scores: a search's table, which only a terminal can redraw, as a log of lines."""
        if self.trial_status.get(event.trial_id) == event.status:
            return
        self.trial_status[event.trial_id] = event.status
        line = (f"trial {event.trial_id}: {say.trial_status_word(event.status)}"
                + (" (ASHA)" if event.early_stopped else ""))
        m = event.metrics or {}
        scores = [f"{name} {m[key]:.3f}" + (f" ± {m[key + '_std']:.3f}" if key + "_std" in m else "")
                  for key, name in (("f1_macro", "macro F1"), ("f1_weighted", "weighted F1"), ("accuracy", "accuracy"))
                  if isinstance(m.get(key), (int, float))]
        if event.status != "RUNNING" and scores:
            line += ", " + ", ".join(scores) + (f" ({event.elapsed:.0f} s)" if event.elapsed else "")
        if event.error:
            line += f": {event.error}"
        self.print_line(line)

    def _due(self, key: str, now: float) -> bool:
        return now - self.last_at.get(key, float("-inf")) >= self.every_s

    def _quiet(self, key: str, now: float) -> bool:
        """Whether ``key`` is still in its first ``after_s`` seconds, when it prints nothing."""
        return now - self.first_at.setdefault(key, now) < self.after_s

    def progress(self, event: ProgressEvent) -> None:
        now = self.clock()
        stage = (event.task, event.detail.split(" ", 1)[0] if event.detail else "")
        known = bool(event.total and event.total > 0)
        pct = min(100, int(100 * event.done / event.total)) if known else None
        step = pct // self.step if pct is not None else -1
        complete = known and event.done >= event.total
        show = (stage not in self.stages or step > self.last_step.get(event.task, -1)
                or (complete and event.task not in self.complete) or self._due(event.task, now))
        self.stages.add(stage)
        if complete:
            self.complete.add(event.task)
        if not show or self._quiet(event.task, now):
            return
        self.last_at[event.task] = now
        self.last_step[event.task] = max(step, self.last_step.get(event.task, -1))
        name = event.task if event.detail in ("", event.task) else f"{event.task} {event.detail}"
        if known:
            self.print_line(f"{name}: {event.done:,}/{event.total:,} ({pct}%)")
        else:
            self.print_line(f"{name}: {event.done:,}")

    def epoch(self, event: EpochProgress) -> None:
        now = self.clock()
        key = f"epoch:{event.task}"
        stage = (key, str(event.epoch))
        if self._quiet(key, now) or (stage in self.stages and not self._due(key, now) and event.step < event.steps):
            self.stages.add(stage)
            return
        self.stages.add(stage)
        self.last_at[key] = now
        self.print_line(f"{event.task} epoch {event.epoch}/{event.epochs}: step {event.step}/{event.steps}, "
                        f"{event.samples_per_s:.1f} samples/s")


COLOURS = {"RUNNING": "cyan", "TERMINATED": "green", "STOPPED": "yellow", "ERROR": "red"}


class TrialBoard:
    """The live table of Ray Tune trials. ``best`` is each trial's best report so far; the row
    with the highest best objective is starred (the trial the closing summary names). ``echo``,
    where set (:func:`run_search` into a log or a pipe), also gets every event."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.rows: dict[str, TrialUpdate] = {}
        self.notes: list[str] = []
        self.lock = threading.Lock()
        self.cancelling = False
        self.echo: Callable[[Any], None] | None = None

    def __call__(self, event: Any) -> None:
        with self.lock:
            if isinstance(event, TrialUpdate):
                self.rows[event.trial_id] = event
            elif isinstance(event, Notice):
                self.notes = (self.notes + [event.text])[-3:]
        if self.echo is not None:
            self.echo(event)

    def render(self) -> Group:
        with self.lock:
            rows = list(self.rows.values())
            notes = list(self.notes)
        best = say.best_trial_id(rows)
        finished = sum(r.status in ("TERMINATED", "STOPPED", "ERROR") for r in rows)
        table = Table(title=f"Trials ({finished}/{self.total} finished; * best)", expand=False)
        for col in ("trial", "status", "model", "lr", "epochs", "batch", "epoch", "val acc", "val F1", "loss",
                    "best", "time"):
            table.add_column(col, justify="left" if col in ("trial", "status", "model") else "right")
        fmt = say.number
        for r in rows:
            c = r.config
            model = str(c.get("model", ""))
            quick = model == "quick"
            lr = f"C={fmt(c.get('quick_C'), 1)}" if quick else (f"{c['learning_rate']:.1e}" if "learning_rate" in c else "-")
            table.add_row(r.trial_id + (" *" if r.trial_id == best else ""),
                          Text(say.trial_status_word(r.status) + (" (ASHA)" if r.early_stopped else ""),
                               style=COLOURS.get(r.status, "")),
                          Path(model).name if "/" in model and Path(model).exists() else model, lr,
                          "-" if quick else str(c.get("epochs", "-")), "-" if quick else str(c.get("batch_size", "-")),
                          str(r.iteration), fmt(r.metrics.get("accuracy")), fmt(r.metrics.get("f1_weighted")),
                          fmt(r.metrics.get("loss")), say.trial_best_text(r), f"{r.elapsed:.0f}s",
                          style="bold" if r.trial_id == best else "")
        parts: list[Any] = [table]
        gpus = next((r.gpus for r in reversed(rows) if r.gpus), ())
        for g in gpus:
            parts.append(Text(f"GPU {g.index} {g.name}: {fmt(g.utilization, 0)}% util, "
                              f"{fmt(g.memory_used_mb, 0)}/{fmt(g.memory_total_mb, 0)} MB"))
        errors = [r for r in rows if r.status == "ERROR" and r.error]
        parts += [Text(f"{r.trial_id}: {r.error}", style="red") for r in errors[-3:]]
        parts += [Text(n, style="dim") for n in notes]
        if self.cancelling:
            parts.append(Text("cancelling: stopping the running trials…", style="yellow"))
        return Group(*parts)


def run_search(board: Any, search: Callable[[threading.Event], Any]) -> Any:
    """Run ``search(cancel)`` in a thread while ``board`` (a TrialBoard or train --auto's
    CandidateBoard) is shown live on stderr; Ctrl-C sets ``cancel`` (the search stops its trials
    cleanly and keeps the finished ones). Where stderr is not a terminal (a log, a pipe, nohup),
    where a live table shows only at the end, each trial's start and end, with its scores, and the
    notices are written as lines as they come instead (:class:`ProgressLines`, as ``jobs follow``
    writes them). Returns what ``search`` returned; re-raises what it raised."""
    cancel = threading.Event()
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = search(cancel)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="reviewtui-tune", daemon=True)
    console = err_console()

    def wait(update: Callable[[], None]) -> None:
        # a plain sleep, not Thread.join: a Ctrl-C inside join() can leave is_alive() wrong on 3.11
        while not done.is_set():
            try:
                time.sleep(0.25)
                update()
            except KeyboardInterrupt:
                cancel.set()
                board.cancelling = True
                if not console.is_terminal:
                    console.print(Text("cancelling: stopping the running trials…"), soft_wrap=True)

    if console.is_terminal:
        with Live(board.render(), console=console, refresh_per_second=4, transient=False,
                  redirect_stdout=False, redirect_stderr=False) as live:
            worker.start()
            wait(lambda: live.update(board.render()))
            live.update(board.render())
    else:
        board.echo = ProgressLines(lambda line: console.print(Text(line), soft_wrap=True))
        worker.start()
        wait(lambda: None)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def follow_job(store: Any, job: Any, sink: Callable[[Any], None], *, live_board: TrialBoard | None = None) -> Any:
    """Feed ``job``'s journal (replayed, then followed as it grows) to ``sink`` until the job ends;
    with ``live_board`` the trial board is shown live meanwhile. Returns the JobEnded, or None
    when Ctrl-C stopped the following (the job itself goes on)."""
    from reviewtui.jobs import JobEnded

    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            for item in store.follow(job, stop=stop):
                if isinstance(item, JobEnded):
                    outcome["ended"] = item
                else:
                    sink(item)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="reviewtui-follow", daemon=True)
    live = (Live(live_board.render(), console=err_console(), refresh_per_second=4, transient=False,
                 redirect_stdout=False, redirect_stderr=False) if live_board is not None else None)
    if live is not None:
        live.start()
    worker.start()
    try:
        while worker.is_alive():
            try:
                time.sleep(0.25)
                if live is not None and live_board is not None:
                    live.update(live_board.render())
            except KeyboardInterrupt:
                stop.set()
                break
        worker.join(5)
    finally:
        if live is not None and live_board is not None:
            live.update(live_board.render())
            live.stop()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("ended")
