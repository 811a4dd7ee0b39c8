"""Tuning: a hyper-parameter search with live trials.

The form sets the search (trials, time budget, model candidates, CPUs per trial); ctrl+s starts
it, ctrl+x cancels it. Each TrialUpdate rewrites its trial's row in place; the best trial so far is
starred, a progress bar counts finished trials and the GPU panel shows utilisation and memory per
device when there is a GPU. Ray and torch load only when a search starts.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, ProgressBar, Static

from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress, TrialUpdate
from reviewtui.tui.messages import CoreEvent, event_sink, notice_severity
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.gpu import GpuPanel
from reviewtui.tui.widgets.trials import TrialTable, elapsed_text, metric_text


class TuningScreen(WorkspaceScreen):
    MODE = "tuning"
    AUTO_FOCUS = "#tune-trials"  # the form first: digits typed here are numbers, esc leaves the form
    BINDINGS = [
        Binding("ctrl+s", "start", "Start search", priority=True, id="tuning.start"),
        Binding("ctrl+x", "cancel", "Cancel search", priority=True, id="tuning.cancel"),
        Binding("escape", "focus_table", "Leave form", show=False, id="tuning.leave_form"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event: threading.Event | None = None
        self.started_at: float | None = None
        self.budget_s: float = 0.0
        self.total_trials = 0

    def compose_body(self) -> ComposeResult:
        t = self.ws.config.section("tuning")
        blink = getattr(self.app, "cursor_blink", True)
        with Horizontal(id="tune-form"):
            for label, widget in (
                ("trials", Input(str(t.get("trials", 20)), type="integer", id="tune-trials")),
                ("budget min", Input("10", type="number", id="tune-budget")),
                ("candidates", Input(", ".join(map(str, t.get("candidates") or [])) or
                                     str(self.ws.config.section("model").get("base", "minilm")), id="tune-candidates")),
                ("cpus/trial", Input(str(t.get("cpus_per_trial") or 0), type="integer", id="tune-cpus")),
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
                         id="tune-state")
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

        stats = gpu_stats()
        self.app.call_from_thread(self.query_one("#tune-gpu", GpuPanel).show_stats, stats)

    def action_focus_table(self) -> None:
        self.query_one(TrialTable).focus()

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
            raise ReviewtuiError("--trials must be at least 1")
        candidates = [c.strip() for c in self.query_one("#tune-candidates", Input).value.split(",") if c.strip()]
        return {"trials": trials, "budget_min": number("#tune-budget", float), "candidates": candidates,
                "cpus_per_trial": number("#tune-cpus")}

    def action_start(self) -> None:
        if self.cancel_event is not None:
            self.notify("a search is already running; ctrl+x cancels it", severity="warning")
            return
        try:
            params = self.form()
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.query_one(TrialTable).reset()
        self.total_trials = params["trials"]
        progress = self.query_one("#tune-progress", ProgressBar)
        progress.update(total=params["trials"], progress=0)
        progress.display = True
        self.cancel_event = threading.Event()
        self.started_at = time.monotonic()
        self.budget_s = params["budget_min"] * 60
        self.query_one("#tune-state", Static).update("starting Ray…")
        self.query_one(TrialTable).focus()
        self.search(params, self.cancel_event)

    def action_cancel(self) -> None:
        if self.cancel_event is None:
            self.notify("no search is running", severity="warning")
            return
        self.cancel_event.set()
        self.query_one("#tune-state", Static).update("cancelling: stopping the running trials…")

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def search(self, params: dict[str, Any], cancel: threading.Event) -> None:
        try:
            tuning = {}
            if params["candidates"]:
                tuning["candidates"] = params["candidates"]
            if params["cpus_per_trial"]:
                tuning["cpus_per_trial"] = params["cpus_per_trial"]
            if params["budget_min"]:
                tuning["time_budget_s"] = params["budget_min"] * 60  # Ray Tune's own time budget
            result = self.ws.tune(trials=params["trials"], tuning=tuning,
                                  on_event=event_sink(self, "tune"), cancel=cancel)
        finally:
            self.app.call_from_thread(self.search_ended)
        self.app.call_from_thread(self.show_result, result)

    def search_ended(self) -> None:
        self.cancel_event = None
        self.started_at = None

    def show_result(self, result: Any) -> None:
        """The outcome, in the words ``reviewtui tune`` prints."""
        counts = ", ".join(f"{n} {s.lower()}" for s, n in result.counts.items())
        text = (f"Search {'cancelled' if result.cancelled else 'done'} in {result.search_seconds:.0f}s: {counts}; "
                f"{result.early_stopped} stopped early by ASHA.")
        if result.best_trial_id:
            text += (f" Best trial {result.best_trial_id}: validation accuracy "
                     f"{metric_text(result.best_metrics.get('accuracy'))}.")
        if result.card is not None:
            text += f" Saved model {result.card.name}."
        elif result.cancelled:
            text += " Nothing saved (cancelled)."
        self.query_one("#tune-state", Static).update(text)
        self.notify(text, title="Tuning", timeout=10)
        self.app.workspace_changed()  # type: ignore[attr-defined]

    def tick(self) -> None:
        """Once a second: the elapsed time against the time budget (Ray Tune enforces it)."""
        if self.started_at is None or self.cancel_event is None:
            return
        spent = time.monotonic() - self.started_at
        table = self.query_one(TrialTable)
        done = sum(1 for u in table.trials.values() if u.status in ("TERMINATED", "STOPPED", "ERROR"))
        budget = f" of a {elapsed_text(self.budget_s)} budget" if self.budget_s else ""
        line = f"running {elapsed_text(spent)}{budget} · {done}/{self.total_trials} trials finished"
        if table.best_id:
            best = table.trials[table.best_id]
            line += f" · best {metric_text(best.metrics.get('accuracy'))} ({table.best_id})"
        if self.cancel_event.is_set():
            line = "cancelling… " + line
        self.query_one("#tune-state", Static).update(line)

    def on_core_event(self, message: CoreEvent) -> None:
        event = message.event
        if isinstance(event, TrialUpdate):
            self.query_one(TrialTable).upsert(event)
            if event.gpus:
                self.query_one("#tune-gpu", GpuPanel).show_stats(event.gpus)
        elif isinstance(event, Progress):
            if event.task == "tune":
                self.query_one("#tune-progress", ProgressBar).update(total=event.total, progress=event.done)
            else:
                self.query_one("#tune-state", Static).update(f"{event.task} {event.done}/{event.total or '?'} "
                                                            f"{event.detail}".strip())
        elif isinstance(event, Notice):
            self.notify(event.text, severity=notice_severity(event))  # type: ignore[arg-type]
