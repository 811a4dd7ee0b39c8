"""Tuning: a hyper-parameter search with live trials.

The form sets the search (trials, time budget, model candidates, CPUs per trial); ctrl+s starts
it as a background job of the workspace (it goes on if the app or the terminal closes), ctrl+x
cancels it. Opening the screen reattaches to the newest search job: its trial table fills in from
the job's journal, then follows it live. Each TrialUpdate rewrites its trial's row in place; the
trial whose best report scores highest is starred, a progress bar counts finished trials and the
GPU panel shows utilisation and memory per device when there is a GPU. A finished search retrains
and saves its best trial; after a cancelled one, k keeps the best finished trial the same way (a
job too; ctrl+x stops it). Ray and torch load only in the job's own process.

t trains the [model] base as ``reviewtui train`` does, a makes the automatic choice of ``reviewtui
train --auto`` (it asks for the budget, [auto] budget_s by default); both run as background ``train``
jobs. While one runs, the candidates' comparison takes the trial table's place (one row per candidate,
filled in as each is cross-validated) and a bar follows each training epoch (steps, samples/s, time
left); its end shows the saved model. Opening the screen reattaches to the newest job of either kind.
"""

from __future__ import annotations

import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EpochProgress, Notice, Progress, TrialUpdate
from reviewtui.tui.jobs import follow_job
from reviewtui.tui.messages import CoreEvent, GpusProbed, JobAttached, JobDone, error_text, notice_severity
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.screens.dialogs import PromptDialog
from reviewtui.tui.widgets.candidates import CandidateTable
from reviewtui.tui.widgets.gpu import GpuPanel
from reviewtui.tui.widgets.trials import TrialTable

KEEP_HINT = "k keeps the best trial (retrains and saves it)."


def _epoch(stamp: str | None) -> float | None:
    from reviewtui.files import parse_timestamp

    try:
        return parse_timestamp(stamp).timestamp() if stamp else None
    except ValueError:
        return None


class BudgetDialog(PromptDialog):
    """``a``'s question: the automatic choice's budget, filled in with [auto] budget_s."""

    def __init__(self, default: str) -> None:
        super().__init__("Time budget for the automatic choice ([auto] budget_s unless changed)", "budget",
                         ("30m", "1h", "90s"))
        self.default = default

    def on_mount(self) -> None:
        field = self.query_one("#prompt-input", Input)
        field.value = self.default
        field.cursor_position = len(self.default)


class TuningScreen(WorkspaceScreen):
    MODE = "tuning"
    # the trials first: digits switch screens here as everywhere (a 5 meant for the summary
    # replaced the selected trial count); f or tab enters the form, esc leaves it
    AUTO_FOCUS = "#tune-trials-table"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start search", priority=True, id="tuning.start"),
        Binding("ctrl+x", "cancel", "Cancel search", priority=True, id="tuning.cancel"),
        Binding("k", "keep_best", "Keep best", id="tuning.keep_best"),
        Binding("t", "train", "Train", id="tuning.train"),
        Binding("a", "auto", "Auto train", id="tuning.auto"),
        Binding("f", "focus_form", "Edit form", id="tuning.edit_form"),
        # shown while the form has the focus: digits and ? type into it there, esc gives them back
        Binding("escape", "focus_table", "Leave form (digits: screens)", key_display="esc", id="tuning.leave_form"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.job: Any = None  # the job this screen follows (a search, or k's retraining)
        self.started_at: float | None = None  # when it started (epoch seconds)
        self.budget_s: float = 0.0
        self.total_trials = 0
        self.cancelled_job: Any = None  # a cancelled search whose best trial k can still save
        self.form_filled: dict[str, str] = {}  # what the form was last filled with, by field id

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
            yield Static("ready: f edits the form (tab moves), ctrl+s starts the search, esc leaves the form",
                         id="tune-state", markup=False)
        with Horizontal(id="epoch-progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="epoch-progress")
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
        self.form_filled = self.form_values()
        if getattr(self.app, "probe_gpus", True):
            self.probe_gpus()
        self.set_interval(1.0, self.tick)
        self.reattach()

    @work(thread=True, exclusive=True, group="tune-start", exit_on_error=False)
    def reattach(self) -> None:
        """Follow the newest search, k's retraining or training (t, a) job, running or ended, if there is one."""
        jobs = [j for j in self.ws.jobs.list() if j.kind in ("tune", "keep", "train")]
        running = [j for j in jobs if j.active]
        job = (running or jobs or [None])[-1]
        if job is not None:
            follow_job(self, job, "tune")

    @work(thread=True, group="gpu", exit_on_error=False)
    def probe_gpus(self) -> None:
        from reviewtui.modeling.gpu import gpu_stats

        self.post_message(GpusProbed(tuple(gpu_stats())))

    @on(GpusProbed)
    def show_gpus(self, message: GpusProbed) -> None:
        self.query_one("#tune-gpu", GpuPanel).show_stats(message.stats)

    def action_focus_table(self) -> None:
        self.query_one(TrialTable).focus()

    def action_focus_form(self) -> None:
        self.query_one("#tune-trials", Input).focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "focus_table":
            return isinstance(self.focused, Input)
        if action == "focus_form":
            return not isinstance(self.focused, Input)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # "esc Leave form" comes and goes with the form's focus

    def set_state(self, text: str) -> None:
        self.query_one("#tune-state", Static).update(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)  # the error, notified
        if event.worker.group == "tune-start" and event.state == WorkerState.ERROR and not self.running:
            # refused before a job started (no version yet, a job already writing the model...)
            self.set_state(f"not started: {error_text(event.worker.error)}")

    # -- the search -------------------------------------------------------------------------
    def form_values(self) -> dict[str, str]:
        """The form's fields as they read now, by ``#id``."""
        return {f"#{field.id}": field.value for field in self.query("#tune-form Input")}

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

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.state in ("starting", "running")

    def busy(self) -> bool:
        if not self.running:
            return False
        what = {"keep": "the best trial is being saved", "train": "a model is training"}.get(
            self.job.kind, "a search is already running")
        self.notify(f"{what} (job {self.job.id}); ctrl+x cancels it", severity="warning")
        return True

    def action_start(self) -> None:
        if self.busy():
            return
        try:
            params = self.form()
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.form_filled = self.form_values()  # the search shows its own values once it starts
        self.set_state("starting the search in the background…")
        self.query_one(TrialTable).focus()
        self.start_search(params)

    @work(thread=True, exclusive=True, group="tune-start", exit_on_error=False)
    def start_search(self, params: dict[str, Any]) -> None:
        tuning: dict[str, Any] = {}
        if params["candidates"]:
            tuning["candidates"] = params["candidates"]
        if params["cpus_per_trial"]:
            tuning["cpus_per_trial"] = params["cpus_per_trial"]
        if params["budget_min"]:
            tuning["time_budget_s"] = params["budget_min"] * 60  # Ray Tune's own time budget
        job = self.ws.start_job("tune", trials=params["trials"], tuning=tuning or None)
        follow_job(self, job, "tune")

    def show_progress(self, total: int | None) -> None:
        progress = self.query_one("#tune-progress", ProgressBar)
        progress.update(total=total, progress=0)
        progress.display = True

    @on(JobAttached)
    def attached(self, message: JobAttached) -> None:
        """A search (or k's retraining) to show: a fresh table, then its journal's events."""
        job = message.job
        self.job = job
        self.started_at = _epoch(job.started or job.created)
        self.show_table("choice" if job.kind == "train" else "search")
        self.query_one("#epoch-progress-row").display = False
        if job.kind == "train":
            self.cancelled_job = None
            self.query_one(CandidateTable).reset()
            if job.params.get("auto"):
                self.budget_s = float(job.params.get("budget_s") or self.ws.settings.auto.budget_s)
            elif job.params.get("quick"):
                self.budget_s = 0.0
            else:  # a fine-tune keeps within [training] budget_s (or the job's override)
                self.budget_s = float((job.params.get("training") or {}).get(
                    "budget_s", self.ws.settings.training.budget_s) or 0.0)
            self.query_one("#tune-progress", ProgressBar).display = False
            self.set_state(f"{'automatic choice' if job.params.get('auto') else 'training'} job {job.id}: {job.state}")
        elif job.kind == "tune":
            self.cancelled_job = None
            self.query_one(TrialTable).reset()
            self.total_trials = int(job.params.get("trials") or self.ws.settings.tuning.trials)
            self.budget_s = float((job.params.get("tuning") or {}).get("time_budget_s") or 0.0)
            self.show_progress(self.total_trials)
            self.show_search_form(job.params)
            self.set_state(f"search job {job.id}: {job.state}")
        else:
            self.show_progress(None)
            self.set_state(f"retraining the best trial to save it (job {job.id})…")

    def show_search_form(self, params: dict[str, Any]) -> None:
        """The form as the search shown was started (a job reattached to, perhaps started from the
        CLI or another terminal), not the settings' defaults: what ctrl+s would run again.

        A field edited since the form was last filled keeps what was typed: the job arrives from a
        worker, a moment after the screen opened, when typing may have begun."""
        tuning = params.get("tuning") or {}
        budget_s = tuning.get("time_budget_s")
        settings = self.ws.settings
        values = {"#tune-trials": str(int(params.get("trials") or settings.tuning.trials)),
                  "#tune-budget": f"{float(budget_s) / 60:g}" if budget_s else "",  # as typed: 0.25, 45
                  "#tune-candidates": ", ".join(map(str, tuning.get("candidates") or settings.tuning.candidates))
                  or settings.model.base,
                  "#tune-cpus": str(tuning.get("cpus_per_trial") or self.ws.settings.tuning.cpus_per_trial)}
        for widget_id, value in values.items():
            field = self.query_one(widget_id, Input)
            if field.value != self.form_filled.get(widget_id, field.value):
                continue  # typed into since: what was typed stays
            field.value = value
            self.form_filled[widget_id] = value

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("no search is running", severity="warning")
            return
        try:
            self.job = self.ws.jobs.cancel(self.job.id)
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.set_state("cancelling: stopping the retraining…" if self.job.kind == "keep"
                       else "cancelling: stopping the training…" if self.job.kind == "train"
                       else "cancelling: stopping the running trials…")

    @on(JobDone)
    def job_done(self, message: JobDone) -> None:
        """The outcome, in the words ``reviewtui tune`` prints (a failure shows as an error); told
        once (:meth:`telling`)."""
        with self.telling(message.news):
            self.show_job_end(message.job)

    def show_job_end(self, job) -> None:
        self.job = job
        self.started_at = None
        data = job.result or {}
        self.query_one("#epoch-progress-row").display = False
        if job.state == "failed":
            self.query_one("#tune-progress", ProgressBar).display = False
            self.set_state(f"job {job.id} failed: {job.error}; ctrl+s starts another search")
            self.error(job.error or f"job {job.id} failed")
            return
        if job.kind == "train":
            self.training_done(job)
            return
        if job.kind == "keep":
            self.query_one("#tune-progress", ProgressBar).display = False
            if not data.get("model"):
                self.set_state(f"the best trial was not saved ({job.state}); k tries again")
                return
            from reviewtui.modeling.card import ModelCard

            text = say.card_sentence(ModelCard.from_dict(data["model"]))
        else:
            from reviewtui.modeling.tuning import tune_result_from_dict

            result = tune_result_from_dict(data["search"]) if data.get("search") else None
            if result is None:
                self.set_state(f"search job {job.id} {job.state}: no trial reported")
                return
            can_keep = result.cancelled and result.card is None and result.best_trial_id is not None
            self.cancelled_job = job if can_keep else None
            text = say.tune_summary(result, KEEP_HINT)
        self.set_state(text)
        self.notify(text, title="Tuning", timeout=10, markup=False)
        if data.get("model"):
            self.app.workspace_changed()  # type: ignore[attr-defined]

    # -- keep the best trial of a cancelled search ------------------------------------------
    def action_keep_best(self) -> None:
        if self.busy():
            return
        if self.cancelled_job is None:
            self.notify("nothing to keep: k saves the best trial of a cancelled search "
                        "(a finished search saves its best by itself)", severity="warning")
            return
        self.keep_best(self.cancelled_job.id)

    @work(thread=True, exclusive=True, group="tune-start", exit_on_error=False)
    def keep_best(self, job_id: str) -> None:
        follow_job(self, self.ws.start_job("keep", job=job_id), "tune")

    # -- train (t) and the automatic choice (a), as train jobs ---------------------------------
    def show_table(self, which: str) -> None:
        """The trial table for a search, the candidates' comparison for t and a."""
        self.query_one(TrialTable).display = which == "search"
        self.query_one(CandidateTable).display = which != "search"

    def action_train(self) -> None:
        """t: train the [model] base and save it, scored as `reviewtui train` scores it (a job)."""
        if self.busy():
            return
        self.set_state(f"starting the training of {self.ws.settings.model.base} in the background…")
        self.start_training({})

    def action_auto(self) -> None:
        """a: the automatic choice of `reviewtui train --auto` (a job), within the budget asked for."""
        if self.busy():
            return
        default = f"{self.ws.settings.auto.budget_s / 60:g}m"

        def chosen(text: str | None) -> None:
            if text is None:
                return
            from reviewtui.modeling.selection import parse_budget

            try:
                budget = parse_budget(text) if text.strip() else None
            except ReviewtuiError as exc:
                self.error(str(exc).replace("--budget ", "the budget ", 1))
                return
            self.set_state("starting the automatic choice in the background…")
            self.start_training({"auto": True, "budget_s": budget})

        self.app.push_screen(BudgetDialog(default), chosen)

    @work(thread=True, exclusive=True, group="tune-start", exit_on_error=False)
    def start_training(self, params: dict[str, Any]) -> None:
        follow_job(self, self.ws.start_job("train", **params), "tune")

    def training_done(self, job: Any) -> None:
        """A train job's end: its comparison as saved, the saved model in the CLI's words."""
        data = job.result or {}
        card_data = data.get("model")
        if not card_data:
            self.set_state(f"training job {job.id} {job.state}: no model was saved; t trains, a chooses automatically")
            return
        from reviewtui.modeling.card import ModelCard

        card = ModelCard.from_dict(card_data)
        comparison = data.get("selection") or (card.extra or {}).get("selection")
        if comparison:
            self.query_one(CandidateTable).show_comparison(comparison)
        lines = ([say.selection_sentence(data["selection"])] if data.get("selection") else []) + [
            say.card_sentence(card), *say.evaluation_lines(card)]
        self.set_state(" ".join(lines))
        self.notify(say.card_sentence(card), title="Training", timeout=10, markup=False)
        chance = say.chance_warning(card)
        if chance:
            self.notify(chance, title="Training", severity="warning", timeout=15, markup=False)
        self.app.workspace_changed()  # type: ignore[attr-defined]

    def show_epoch(self, event: EpochProgress) -> None:
        self.query_one("#epoch-progress-row").display = True
        self.query_one("#epoch-progress", ProgressBar).update(total=event.steps, progress=event.step)
        self.query_one("#epoch-state", Static).update(say.epoch_progress_text(event))

    def tick(self) -> None:
        """Once a second: the elapsed time against the time budget (Ray Tune enforces it)."""
        if self.started_at is not None and self.running and self.job.kind == "train":
            table = self.query_one(CandidateTable)
            done = sum(1 for r in table.candidates.values() if r.get("status") not in ("running", "waiting"))
            line = say.training_state(time.time() - self.started_at, self.budget_s, done, len(table.candidates))
            if table.winner:
                row = table.candidates[table.winner]
                line += f" · best {table.winner} {say.spread(row.get('mean', {}), row.get('std', {}), table.metric)}"
            self.set_state(("cancelling… " if self.job.cancel_requested else "") + line)
            return
        if self.started_at is None or not self.running or self.job.kind != "tune":
            return
        spent = time.time() - self.started_at
        table = self.query_one(TrialTable)
        done = sum(1 for u in table.trials.values() if u.status in ("TERMINATED", "STOPPED", "ERROR"))
        budget = f" of a {say.elapsed(self.budget_s)} budget" if self.budget_s else ""
        line = f"running {say.elapsed(spent)}{budget} · {done}/{self.total_trials} trials finished"
        if table.best_id:
            line += f" · best {say.trial_best_text(table.trials[table.best_id])} ({table.best_id})"
        if self.job.cancel_requested:
            line = "cancelling… " + line
        self.set_state(line)

    @on(CoreEvent)
    def core_event(self, message: CoreEvent) -> None:
        event = message.event
        training = self.job is not None and self.job.kind == "train"
        if isinstance(event, EpochProgress):
            self.show_epoch(event)
        elif isinstance(event, TrialUpdate) and training:
            self.query_one(CandidateTable).upsert(event)
        elif isinstance(event, Progress) and training:
            if event.task not in ("train", "predict"):  # embedding: the epoch bar shows the training
                self.set_state(f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, TrialUpdate):
            self.query_one(TrialTable).upsert(event)
            if event.gpus:
                self.query_one("#tune-gpu", GpuPanel).show_stats(event.gpus)
        elif isinstance(event, Progress):
            saving = self.job is not None and self.job.kind == "keep"
            if event.task == "tune" or saving:  # the trials finished, or the retraining's steps
                self.query_one("#tune-progress", ProgressBar).update(total=event.total, progress=event.done)
            if event.task != "tune":
                self.set_state(f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, Notice) and not message.group.endswith("-replay"):  # old news is not news
            self.notify(event.text, severity=notice_severity(event), markup=False)  # type: ignore[arg-type]
