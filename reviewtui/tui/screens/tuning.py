"""Tuning: a hyper-parameter search with live trials.

The form sets the search (trials, time budget, model candidates, CPUs per trial); ctrl+s starts
it, ctrl+x cancels it. Each TrialUpdate rewrites its trial's row in place; the trial whose best
report scores highest is starred, a progress bar counts finished trials and the GPU panel shows
utilisation and memory per device when there is a GPU. A finished search retrains and saves its
best trial; after a cancelled one, k keeps the best finished trial the same way (ctrl+x stops
that too). Ray and torch load only when a search starts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, ProgressBar, Static

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress, TrialUpdate
from reviewtui.tui.messages import CoreEvent, GpusProbed, TunedModelSaved, TuneFinished, event_sink, notice_severity
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.gpu import GpuPanel
from reviewtui.tui.widgets.trials import TrialTable

KEEP_HINT = "k keeps the best trial (retrains and saves it)."


class TuningScreen(WorkspaceScreen):
    MODE = "tuning"
    AUTO_FOCUS = "#tune-trials"  # the form first: digits typed here are numbers, esc leaves the form
    BINDINGS = [
        Binding("ctrl+s", "start", "Start search", priority=True, id="tuning.start"),
        Binding("ctrl+x", "cancel", "Cancel search", priority=True, id="tuning.cancel"),
        Binding("k", "keep_best", "Keep best", id="tuning.keep_best"),
        Binding("escape", "focus_table", "Leave form", show=False, id="tuning.leave_form"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event: threading.Event | None = None
        self.started_at: float | None = None
        self.budget_s: float = 0.0
        self.total_trials = 0
        self.saving = False
        self.cancelled_result: Any = None  # a cancelled search whose best trial k can still save

    def compose_body(self) -> ComposeResult:
        tuning = self.ws.settings.tuning
        blink = getattr(self.app, "cursor_blink", True)
        with Horizontal(id="tune-form"):
            for label, widget in (
                ("trials", Input(str(tuning.trials), type="integer", id="tune-trials")),
                ("budget min", Input("10", type="number", id="tune-budget")),
                ("candidates", Input(", ".join(map(str, tuning.candidates)) or self.ws.settings.model.base,
                                     id="tune-candidates")),
                ("cpus/trial", Input(str(tuning.cpus_per_trial), type="integer", id="tune-cpus")),
            ):
                widget.cursor_blink = blink
                with Vertical(classes="field"):
                    yield Label(label)
                    yield widget
        with Horizontal(id="tune-progress-row"):
            progress = ProgressBar(total=None, show_eta=False, id="tune-progress")
            progress.display = False  # shown once a search starts (an idle bar would animate)
            yield progress
            yield Static("ready: edit the form (tab moves), ctrl+s starts the search, esc leaves the form",
                         id="tune-state", markup=False)
        table = TrialTable(id="tune-trials-table")
        table.border_title = "Trials (★ best so far)"
        yield table
        gpu = GpuPanel(id="tune-gpu")
        gpu.border_title = "GPU"
        yield gpu

    def on_mount(self) -> None:
        if getattr(self.app, "probe_gpus", True):
            self.probe_gpus()
        self.set_interval(1.0, self.tick)

    @work(thread=True, group="gpu", exit_on_error=False)
    def probe_gpus(self) -> None:
        from reviewtui.modeling.gpu import gpu_stats

        self.post_message(GpusProbed(tuple(gpu_stats())))

    @on(GpusProbed)
    def show_gpus(self, message: GpusProbed) -> None:
        self.query_one("#tune-gpu", GpuPanel).show_stats(message.stats)

    def action_focus_table(self) -> None:
        self.query_one(TrialTable).focus()

    def set_state(self, text: str) -> None:
        self.query_one("#tune-state", Static).update(text)

    # -- the search -------------------------------------------------------------------------
    def form(self) -> dict[str, Any]:
        def number(widget_id: str, kind=int) -> Any:
            text = self.query_one(widget_id, Input).value.strip()
            try:
                return kind(text) if text else 0
            except ValueError:
                raise ReviewtuiError(f"the {widget_id.removeprefix('#tune-')} field needs a number, not {text!r}")

        trials = number("#tune-trials")
        if trials < 1:
            raise ReviewtuiError(f"the trials field must be at least 1, not {trials}")
        candidates = [c.strip() for c in self.query_one("#tune-candidates", Input).value.split(",") if c.strip()]
        return {"trials": trials, "budget_min": number("#tune-budget", float), "candidates": candidates,
                "cpus_per_trial": number("#tune-cpus")}

    def busy(self) -> bool:
        if self.cancel_event is None:
            return False
        what = "the best trial is being saved" if self.saving else "a search is already running"
        self.notify(f"{what}; ctrl+x cancels it", severity="warning")
        return True

    def action_start(self) -> None:
        if self.busy():
            return
        try:
            params = self.form()
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.cancelled_result = None
        self.query_one(TrialTable).reset()
        self.total_trials = params["trials"]
        self.show_progress(params["trials"])
        self.cancel_event = threading.Event()
        self.started_at = time.monotonic()
        self.budget_s = params["budget_min"] * 60
        self.set_state("starting Ray…")
        self.query_one(TrialTable).focus()
        self.search(params, self.cancel_event)

    def show_progress(self, total: int | None) -> None:
        progress = self.query_one("#tune-progress", ProgressBar)
        progress.update(total=total, progress=0)
        progress.display = True

    def action_cancel(self) -> None:
        if self.cancel_event is None:
            self.notify("no search is running", severity="warning")
            return
        self.cancel_event.set()
        self.set_state("cancelling: stopping the retraining…" if self.saving
                       else "cancelling: stopping the running trials…")

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def search(self, params: dict[str, Any], cancel: threading.Event) -> None:
        result = None
        try:
            tuning: dict[str, Any] = {}
            if params["candidates"]:
                tuning["candidates"] = params["candidates"]
            if params["cpus_per_trial"]:
                tuning["cpus_per_trial"] = params["cpus_per_trial"]
            if params["budget_min"]:
                tuning["time_budget_s"] = params["budget_min"] * 60  # Ray Tune's own time budget
            result = self.ws.tune(trials=params["trials"], tuning=tuning,
                                  on_event=event_sink(self, "tune"), cancel=cancel)
        finally:
            self.post_message(TuneFinished(result))

    @on(TuneFinished)
    def search_finished(self, message: TuneFinished) -> None:
        """The outcome, in the words ``reviewtui tune`` prints (a failure shows as an error)."""
        self.cancel_event = None
        self.started_at = None
        result = message.result
        if result is None:
            self.set_state("the search failed: see the error; ctrl+s starts another")
            return
        can_keep = result.cancelled and result.card is None and result.best_trial_id is not None
        self.cancelled_result = result if can_keep else None
        text = say.tune_summary(result, KEEP_HINT)
        self.set_state(text)
        self.notify(text, title="Tuning", timeout=10, markup=False)
        if result.card is not None:
            self.app.workspace_changed()  # type: ignore[attr-defined]

    # -- keep the best trial of a cancelled search ------------------------------------------
    def action_keep_best(self) -> None:
        if self.busy():
            return
        result = self.cancelled_result
        if result is None:
            self.notify("nothing to keep: k saves the best trial of a cancelled search "
                        "(a finished search saves its best by itself)", severity="warning")
            return
        self.saving = True
        self.cancel_event = threading.Event()
        self.show_progress(None)
        self.set_state(f"retraining trial {result.best_trial_id} to save it…")
        self.save_best(result, self.cancel_event)

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def save_best(self, result: Any, cancel: threading.Event) -> None:
        card = None
        try:
            card = self.ws.save_tuned(result, on_event=event_sink(self, "save"), cancel=cancel)
        finally:
            self.post_message(TunedModelSaved(card))

    @on(TunedModelSaved)
    def best_saved(self, message: TunedModelSaved) -> None:
        self.saving = False
        self.cancel_event = None
        self.query_one("#tune-progress", ProgressBar).display = False
        if message.card is None:
            self.set_state("the best trial was not saved: see the error; k tries again")
            return
        self.cancelled_result = None
        text = say.card_sentence(message.card)
        self.set_state(text)
        self.notify(text, title="Tuning", timeout=10, markup=False)
        self.app.workspace_changed()  # type: ignore[attr-defined]

    def tick(self) -> None:
        """Once a second: the elapsed time against the time budget (Ray Tune enforces it)."""
        if self.started_at is None or self.cancel_event is None:
            return
        spent = time.monotonic() - self.started_at
        table = self.query_one(TrialTable)
        done = sum(1 for u in table.trials.values() if u.status in ("TERMINATED", "STOPPED", "ERROR"))
        budget = f" of a {say.elapsed(self.budget_s)} budget" if self.budget_s else ""
        line = f"running {say.elapsed(spent)}{budget} · {done}/{self.total_trials} trials finished"
        if table.best_id:
            line += f" · best {say.trial_best_text(table.trials[table.best_id])} ({table.best_id})"
        if self.cancel_event.is_set():
            line = "cancelling… " + line
        self.set_state(line)

    @on(CoreEvent)
    def core_event(self, message: CoreEvent) -> None:
        event = message.event
        if isinstance(event, TrialUpdate):
            self.query_one(TrialTable).upsert(event)
            if event.gpus:
                self.query_one("#tune-gpu", GpuPanel).show_stats(event.gpus)
        elif isinstance(event, Progress):
            if event.task == "tune" or self.saving:  # the trials finished, or the retraining's steps
                self.query_one("#tune-progress", ProgressBar).update(total=event.total, progress=event.done)
            if event.task != "tune":
                self.set_state(f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, Notice):
            self.notify(event.text, severity=notice_severity(event), markup=False)  # type: ignore[arg-type]
