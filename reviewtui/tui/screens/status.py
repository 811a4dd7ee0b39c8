"""Status: the workspace, its backend, counts by status, label and app, versions, models, background
jobs (running and finished, when there are any), next steps.

While the screen is shown the jobs table follows the jobs every :data:`JOBS_REFRESH_S` seconds (their
records only: state, duration, outcome), and a job that ends reloads the rest (a model it saved).

``c`` opens the collect form (Google Play app ids, count, order); the collect runs in a worker with
a progress bar, ``esc`` cancels it (what was saved is imported; collecting again continues).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, ProgressBar, Static

from reviewtui import presentation as say
from reviewtui.events import Notice, Progress
from reviewtui.tui.messages import (CollectFinished, CoreEvent, JobsLoaded, StatusLoaded, event_sink,
                                    notice_severity)
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.bars import BarChart
from reviewtui.tui.widgets.tables import PlainTable

#: What the app names for each of status's next steps (``workspace.NextStep.action``): its keys, not
#: the commands the CLI prints (a step without one, such as Kili's, keeps its command).
APP_STEPS = {
    "import": "c collects from Google Play; a file: reviewtui import FILE.csv",
    "label": "2, the labeling screen",
    "export": "e",
    "diff": "3, the diff screen",
    "train": "t on the Tune screen (4), or a search there with ctrl+s",
    "predict": "p on the Summary screen (5)",
    "summary": "5, the Summary screen",
    "stop": "e exports; t on the Tune screen (4) trains; 7 discovers",
    "jobs": "the Jobs table of this screen follows it",
}


#: How often the jobs table is read again while the screen is shown (seconds).
JOBS_REFRESH_S = 2.0


def app_step(step) -> str:
    """A next step of ``status`` in the app's words."""
    return f"{step.what}: {APP_STEPS.get(step.action, step.command)}"


def when(iso: str | None) -> str:
    return (iso or "-").replace("T", " ")[:16]


class StatusScreen(WorkspaceScreen):
    MODE = "status"
    BINDINGS = [
        Binding("g", "reload", "Reload", id="status.reload"),
        Binding("c", "collect", "Collect from Google Play", id="status.collect"),
        Binding("escape", "cancel_collect", "Cancel collect", id="status.cancel_collect"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.collect_cancel: threading.Event | None = None
        self.last_apps = ""
        self.job_ids: list[str] = []  # the jobs table's rows, top to bottom
        self.active_jobs: set[str] = set()  # the jobs running when the table was last read

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="status-body"):
            yield Static(id="status-head")
            with Horizontal(id="collect-row"):
                yield ProgressBar(total=None, show_eta=False, id="collect-progress")
                yield Static("", id="collect-state", markup=False)
            with Horizontal(id="status-bars"):
                yield BarChart("By status", id="by-status")
                yield BarChart("By label", id="by-label")
                yield BarChart("By app", id="by-app")
            versions = PlainTable(id="status-versions", cursor_type="row", zebra_stripes=True)
            versions.border_title = "Versions"
            yield versions
            models = PlainTable(id="status-models", cursor_type="row", zebra_stripes=True)
            models.border_title = "Models (learning curve: accuracy by version)"
            yield models
            jobs = PlainTable(id="status-jobs", cursor_type="row", zebra_stripes=True)
            jobs.border_title = "Background jobs (4 Tune and 5 Summary follow and cancel theirs)"
            jobs.display = False  # shown once the workspace has jobs
            yield jobs
            next_steps = Static(id="status-next")
            next_steps.border_title = "Next"
            yield next_steps

    def on_mount(self) -> None:
        self.query_one("#collect-row").display = False  # shown while a collect runs
        self.query_one("#by-app").display = False  # shown once reviews have an app
        self.query_one("#status-versions", DataTable).add_columns("version", "rows", "parent", "created", "source")
        self.query_one("#status-models", DataTable).add_columns("model", "version", "kind", "base", "accuracy",
                                                                 "weighted F1", "")
        jobs = self.query_one("#status-jobs", DataTable)
        for column in say.JOB_COLUMNS:
            jobs.add_column(column, key=column)
        self.set_interval(JOBS_REFRESH_S, self.refresh_jobs)

    def came_into_view(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def workspace_changed(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def load(self) -> None:
        loaded = StatusLoaded(self.ws.status(), self.ws.model_history(), self.ws.learning_curve())
        jobs = JobsLoaded(self.ws.jobs.list())
        if self.still_wanted():  # not replaced by a later load
            self.post_message(loaded)
            self.post_message(jobs)

    def refresh_jobs(self) -> None:
        """The timer's tick: read the jobs again while the screen is shown."""
        if self.is_current:
            self.load_jobs()

    @work(thread=True, exclusive=True, group="status-jobs", exit_on_error=False)
    def load_jobs(self) -> None:
        jobs = JobsLoaded(self.ws.jobs.list())
        if self.still_wanted():
            self.post_message(jobs)

    @on(JobsLoaded)
    def show_jobs(self, message: JobsLoaded) -> None:
        table = self.query_one("#status-jobs", DataTable)
        jobs = list(reversed(message.jobs[-20:]))  # the newest first
        ids = [job.id for job in jobs]
        if ids == self.job_ids:  # the same jobs: their cells change in place (the cursor stays)
            for job in jobs:
                for column, value in zip(say.JOB_COLUMNS, say.job_cells(job)):
                    table.update_cell(job.id, column, value, update_width=True)  # "finished" is wider than "running"
        else:
            table.clear()
            for job in jobs:
                table.add_row(*say.job_cells(job), key=job.id)
            self.job_ids = ids
        table.display = bool(message.jobs)
        active = {job.id for job in message.jobs if job.active}
        ended = self.active_jobs - active
        self.active_jobs = active
        if ended:  # a job that ended may have saved a model or predictions: the rest follows
            self.load()

    @on(StatusLoaded)
    def show_loaded(self, message: StatusLoaded) -> None:
        self.show_status(message.status, message.history, message.curve)

    def show_status(self, st, history: list | None = None, curve: list | None = None) -> None:
        backend = st.backend.get("kind", "local")
        if st.backend.get("project_id"):
            backend += f" (Kili project {st.backend['project_id']})"
        self.query_one("#status-head", Static).update(
            f"[b]{st.name}[/b]  {st.root}\nbackend: {backend}    assets: {st.assets:,}    "
            f"sentiment labels: {say.sentiment_counts_text(st.by_sentiment)}")
        statuses = {k: v for k, v in st.by_status.items()}
        self.query_one("#by-status", BarChart).set_data(statuses, total=st.assets)
        # the categories' names, as the labeling screen shows them (a key the taxonomy lost stays a key)
        names = dict(zip(st.by_label, say.category_names(st.by_label, self.ws.taxonomy)))
        colours = {names[c.key]: c.colour for c in self.ws.taxonomy if c.key in names}
        self.query_one("#by-label", BarChart).set_data({names[k]: v for k, v in st.by_label.items()}, colours)
        apps = say.app_count_rows(getattr(st, "by_app", {}))
        by_app = self.query_one("#by-app", BarChart)
        by_app.display = bool(apps)
        by_app.set_data(dict(apps), total=st.assets)
        versions = self.query_one("#status-versions", DataTable)
        versions.clear()
        for v in st.versions:
            versions.add_row(v["name"], f"{v['rows']:,}", v["parent"] or "-", when(v["created"]),
                             str(v["source"] or ""), key=v["name"])
        models = self.query_one("#status-models", DataTable)
        models.clear()
        if history is not None:  # the models' history: ordered by dataset version
            rows = [(r.name, r.dataset_version, "files missing" if r.missing else r.kind + (" tuned" if r.tuned else ""),
                     r.base_model, {"accuracy": r.accuracy, "f1_weighted": r.f1_weighted}) for r in history]
        else:
            rows = [(m["name"], m.get("version"), "", m.get("base"), m.get("metrics") or {}) for m in st.models]
        for name, version, kind, base, met in rows:
            acc = met.get("accuracy")
            models.add_row(str(name), str(version or "-"), kind, str(base or "-"), say.number(met.get("accuracy")),
                           say.number(met.get("f1_weighted")),
                           say.bar(acc, 1.0, 12) if isinstance(acc, (int, float)) else "")
        if not rows:  # a model learns from labels: before any, labeling comes first
            hint = ("press 4 to tune one" if sum(st.by_label.values()) else "press 2 to label reviews first"
                    if st.assets else "c collects reviews first")
            models.add_row(f"no model yet: {hint}", "", "", "", "", "", "")
        title = "Models (test metrics per dataset version)"
        points = [p for p in (curve or []) if isinstance(p.f1_weighted, (int, float))]
        if points:
            title = "Models · learning curve (best weighted F1): " + " → ".join(
                f"{p.version} {p.f1_weighted:.2f}" for p in points[-4:])
        models.border_title = title
        steps = "\n".join([*(f"→ {escape(line)}" for line in say.stale_lines(getattr(st, "stale", None), in_app=True,
                                                                                 untrained=False)),
                           *(f"→ {escape(app_step(s))}" for s in st.steps)]) or "Nothing pressing."
        stop = getattr(st, "stop", None)
        if stop:  # the stop signal, as on the labeling screen (L there: the learning curves)
            steps = f"stop signal: {escape(say.stop_line(SimpleNamespace(**stop)))}\n{steps}"
        keys = ("keys: c collect · 2 label · e export · 3 diff · 4 tune · 5 summary · 6 quality · 7 discover · ? help · "
                "ctrl+p commands")
        self.query_one("#status-next", Static).update(f"{steps}\n[dim]{keys}[/dim]")

    # -- collect ----------------------------------------------------------------------------
    def action_collect(self) -> None:
        if self.collect_cancel is not None:
            self.notify("a collect is running; esc cancels it", severity="warning")
            return
        from reviewtui.tui.screens.collect import CollectDialog

        self.app.push_screen(CollectDialog(self.ws.settings.collect.sort, self.last_apps), self.start_collect)

    def start_collect(self, request) -> None:
        if request is None:
            return
        self.last_apps = request.app_ids
        self.collect_cancel = threading.Event()
        self.query_one("#collect-row").display = True
        self.query_one("#collect-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#collect-state", Static).update(f"collecting {request.app_ids}… (esc cancels)")
        self.collect(request, self.collect_cancel)

    def action_cancel_collect(self) -> None:
        if self.collect_cancel is None:
            return
        self.collect_cancel.set()
        self.query_one("#collect-state", Static).update("cancelling: importing what was collected…")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel_collect":
            return self.collect_cancel is not None  # only while a collect runs
        return True

    @work(thread=True, exclusive=True, group="collect", exit_on_error=False)
    def collect(self, request, cancel: threading.Event) -> None:
        from reviewtui.collect.options import parse_app_ids, parse_count

        outcome = None
        try:
            outcome = self.ws.collect(parse_app_ids(request.app_ids), sort=request.sort,
                                      count=parse_count(request.count), on_event=event_sink(self, "collect"),
                                      cancel=cancel)
        finally:
            self.post_message(CollectFinished(outcome))

    @on(CollectFinished)
    def collect_finished(self, message: CollectFinished) -> None:
        self.collect_cancel = None
        self.query_one("#collect-row").display = False
        self.refresh_bindings()
        if message.outcome is not None:
            self.notify("\n".join(say.collect_lines(message.outcome)), title="Collect", timeout=12, markup=False)
            self.load()
            self.app.workspace_changed()

    @on(CoreEvent)
    def core_event(self, message: CoreEvent) -> None:
        event = message.event
        if isinstance(event, Progress):
            self.query_one("#collect-progress", ProgressBar).update(total=event.total, progress=event.done)
            self.query_one("#collect-state", Static).update(f"{event.detail} (esc cancels)")
        elif isinstance(event, Notice):
            self.notify(event.text, severity=notice_severity(event), markup=False)  # type: ignore[arg-type]
