"""Tuning: a hyper-parameter search with live trials.

The form sets the search (trials, time budget, model candidates, CPUs per trial); ctrl+s starts
it, ctrl+x cancels it. Each TrialUpdate rewrites its trial's row in place; the trial whose best
report scores highest is starred, a progress bar counts finished trials and the GPU panel shows
utilisation and memory per device when there is a GPU. A finished search retrains and saves its
best trial; after a cancelled one, k keeps the best finished trial the same way (ctrl+x stops
that too). Ray and torch load only when a search starts.

t trains the [model] base as ``reviewtui train`` does (k-fold cross-validation below [evaluation]
cv_below labels, then the saved model on all labels); a trains the automatic choice of ``reviewtui
train --auto`` within the form's budget. Both show the candidates' comparison in place of the trial
table (one row per candidate, fed by its TrialUpdates: folds done, mean ± spread) and a progress bar
per training epoch (steps, samples/s, time left; ctrl+x cancels).
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
from reviewtui.tui.messages import (CoreEvent, EpochProgressed, GpusProbed, TrainFinished, TunedModelSaved,
                                    TuneFinished, event_sink, notice_severity)
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.candidates import CandidateTable
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
        Binding("t", "train", "Train", id="tuning.train"),
        Binding("a", "auto", "Auto train", id="tuning.auto"),
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
        self.training: str = ""  # "train" or "auto" while t or a runs; the trial table is hidden then

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
        with Horizontal(id="epoch-progress-row"):
            epoch = ProgressBar(total=None, show_eta=False, id="epoch-progress")
            yield epoch
            yield Static("", id="epoch-state", markup=False)
        table = TrialTable(id="tune-trials-table")
        table.border_title = "Trials (★ best so far)"
        yield table
        candidates = CandidateTable(self.ws.settings.evaluation.metric, id="tune-candidates-table")
        candidates.border_title = "Candidates (cross-validated; ★ best)"
        yield candidates
        gpu = GpuPanel(id="tune-gpu")
        gpu.border_title = "GPU"
        yield gpu

    def on_mount(self) -> None:
        self.query_one("#epoch-progress-row").display = False  # shown while a model trains
        self.query_one(CandidateTable).display = False  # shown by t and a in place of the trials
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
        what = ("the best trial is being saved" if self.saving else "a model is training" if self.training
                else "a search is already running")
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
        self.show_table("search")
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
                       else "cancelling: stopping the training…" if self.training
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

    # -- train (t) and the automatic choice (a) -------------------------------------------
    def show_table(self, which: str) -> None:
        """The trial table for a search, the candidates' comparison for t and a."""
        self.query_one(TrialTable).display = which == "search"
        self.query_one(CandidateTable).display = which != "search"

    def start_training(self, what: str) -> threading.Event | None:
        if self.busy():
            return None
        self.training = what
        self.cancelled_result = None
        self.show_table("choice")
        self.query_one(CandidateTable).reset()
        self.show_progress(None)
        self.cancel_event = threading.Event()
        self.started_at = time.monotonic()
        self.query_one(CandidateTable).focus()
        return self.cancel_event

    def action_train(self) -> None:
        """t: train the [model] base and save it, scored as `reviewtui train` scores it."""
        cancel = self.start_training("train")
        if cancel is None:
            return
        self.budget_s = 0.0
        self.set_state(f"training {self.ws.settings.model.base}…")
        self.train_model(cancel)

    def action_auto(self) -> None:
        """a: the automatic choice of `reviewtui train --auto`, within the form's budget."""
        try:
            minutes = self.form()["budget_min"]
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        cancel = self.start_training("auto")
        if cancel is None:
            return
        self.budget_s = minutes * 60 if minutes else self.ws.settings.auto.budget_s
        self.set_state(f"choosing a model within {say.elapsed(self.budget_s)}…")
        self.auto_train(self.budget_s, cancel)

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def train_model(self, cancel: threading.Event) -> None:
        card = None
        try:
            card = self.ws.train(on_event=event_sink(self, "train"), cancel=cancel)
        finally:
            self.post_message(TrainFinished(card))

    @work(thread=True, exclusive=True, group="tune", exit_on_error=False)
    def auto_train(self, budget_s: float, cancel: threading.Event) -> None:
        card, comparison = None, None
        try:
            selection, card = self.ws.train_auto(budget_s=budget_s, on_event=event_sink(self, "train"), cancel=cancel)
            comparison = selection.table()
        finally:
            self.post_message(TrainFinished(card, comparison))

    @on(TrainFinished)
    def training_finished(self, message: TrainFinished) -> None:
        """The saved model in the words the CLI prints (a failure shows as an error)."""
        self.training = ""
        self.cancel_event = None
        self.started_at = None
        self.query_one("#epoch-progress-row").display = False
        self.query_one("#tune-progress", ProgressBar).display = False
        card = message.card
        if card is None:
            self.set_state("no model was saved: see the error; t trains, a chooses automatically")
            return
        table = message.comparison or (card.extra or {}).get("selection")
        if table:
            self.query_one(CandidateTable).show_comparison(table)
        lines = ([say.selection_sentence(message.comparison)] if message.comparison else []) + [
            say.card_sentence(card), *say.evaluation_lines(card)]
        self.set_state(" ".join(lines))
        self.notify(say.card_sentence(card), title="Training", timeout=10, markup=False)
        self.app.workspace_changed()  # type: ignore[attr-defined]

    @on(EpochProgressed)
    def epoch_progressed(self, message: EpochProgressed) -> None:
        event = message.event
        self.query_one("#epoch-progress-row").display = True
        self.query_one("#epoch-progress", ProgressBar).update(total=event.steps, progress=event.step)
        self.query_one("#epoch-state", Static).update(say.epoch_progress_text(event))

    def tick(self) -> None:
        """Once a second: the elapsed time against the time budget (Ray Tune enforces it)."""
        if self.started_at is None or self.cancel_event is None:
            return
        if self.training:
            spent = time.monotonic() - self.started_at
            budget = f" of a {say.elapsed(self.budget_s)} budget" if self.budget_s else ""
            table = self.query_one(CandidateTable)
            done = sum(1 for r in table.candidates.values() if r.get("status") not in ("running", "waiting"))
            line = f"training {say.elapsed(spent)}{budget} · {done}/{len(table.candidates)} candidates scored"
            if table.winner:
                row = table.candidates[table.winner]
                line += f" · best {table.winner} {say.spread(row.get('mean', {}), row.get('std', {}), table.metric)}"
            self.set_state(("cancelling… " if self.cancel_event.is_set() else "") + line)
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
        if isinstance(event, TrialUpdate) and self.training:
            self.query_one(CandidateTable).upsert(event)
        elif isinstance(event, TrialUpdate):
            self.query_one(TrialTable).upsert(event)
            if event.gpus:
                self.query_one("#tune-gpu", GpuPanel).show_stats(event.gpus)
        elif isinstance(event, Progress) and self.training:
            if event.task not in ("train", "predict"):  # embedding: the epoch bar shows the training
                self.set_state(f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, Progress):
            if event.task == "tune" or self.saving:  # the trials finished, or the retraining's steps
                self.query_one("#tune-progress", ProgressBar).update(total=event.total, progress=event.done)
            if event.task != "tune":
                self.set_state(f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, Notice):
            self.notify(event.text, severity=notice_severity(event), markup=False)  # type: ignore[arg-type]
