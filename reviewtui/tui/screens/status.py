"""Status: the workspace, its backend, counts by status and label, versions, models, background
jobs (running and finished, when there are any), next steps."""

from __future__ import annotations

from types import SimpleNamespace

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from reviewtui import presentation as say
from reviewtui.tui.messages import JobsLoaded, StatusLoaded
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.bars import BarChart


def when(iso: str | None) -> str:
    return (iso or "-").replace("T", " ")[:16]


class StatusScreen(WorkspaceScreen):
    MODE = "status"
    BINDINGS = [Binding("g", "reload", "Reload", id="status.reload")]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="status-body"):
            yield Static(id="status-head")
            with Horizontal(id="status-bars"):
                yield BarChart("By status", id="by-status")
                yield BarChart("By label", id="by-label")
            versions = DataTable(id="status-versions", cursor_type="row", zebra_stripes=True)
            versions.border_title = "Versions"
            yield versions
            models = DataTable(id="status-models", cursor_type="row", zebra_stripes=True)
            models.border_title = "Models (learning curve: accuracy by version)"
            yield models
            jobs = DataTable(id="status-jobs", cursor_type="row", zebra_stripes=True)
            jobs.border_title = "Background jobs (reviewtui jobs follow ID, reviewtui jobs cancel ID)"
            jobs.display = False  # shown once the workspace has jobs
            yield jobs
            next_steps = Static(id="status-next")
            next_steps.border_title = "Next"
            yield next_steps

    def on_mount(self) -> None:
        self.query_one("#status-versions", DataTable).add_columns("version", "rows", "parent", "created", "source")
        self.query_one("#status-models", DataTable).add_columns("model", "version", "kind", "base", "accuracy",
                                                                 "weighted F1", "")
        self.query_one("#status-jobs", DataTable).add_columns(*say.JOB_COLUMNS)

    def on_screen_resume(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def workspace_changed(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def load(self) -> None:
        self.post_message(StatusLoaded(self.ws.status(), self.ws.model_history(), self.ws.learning_curve()))
        self.post_message(JobsLoaded(self.ws.jobs.list()))

    @on(JobsLoaded)
    def show_jobs(self, message: JobsLoaded) -> None:
        table = self.query_one("#status-jobs", DataTable)
        table.clear()
        for job in reversed(message.jobs[-20:]):  # the newest first
            table.add_row(*say.job_cells(job), key=job.id)
        table.display = bool(message.jobs)

    @on(StatusLoaded)
    def show_loaded(self, message: StatusLoaded) -> None:
        self.show_status(message.status, message.history, message.curve)

    def show_status(self, st, history: list | None = None, curve: list | None = None) -> None:
        backend = st.backend.get("kind", "local")
        if st.backend.get("project_id"):
            backend += f" (Kili project {st.backend['project_id']})"
        self.query_one("#status-head", Static).update(
            f"[b]{st.name}[/b]  {st.root}\nbackend: {backend}    assets: {st.assets}    "
            f"sentiment labels: {say.sentiment_counts_text(st.by_sentiment)}")
        statuses = {k: v for k, v in st.by_status.items()}
        self.query_one("#by-status", BarChart).set_data(statuses, total=st.assets)
        colours = {c.key: c.colour for c in self.ws.taxonomy}
        self.query_one("#by-label", BarChart).set_data(st.by_label, colours)
        versions = self.query_one("#status-versions", DataTable)
        versions.clear()
        for v in st.versions:
            versions.add_row(v["name"], str(v["rows"]), v["parent"] or "-", when(v["created"]),
                             str(v["source"] or ""), key=v["name"])
        models = self.query_one("#status-models", DataTable)
        models.clear()
        if history is not None:  # the models' history: ordered by dataset version
            rows = [(r.name, r.dataset_version, r.kind + (" tuned" if r.tuned else ""), r.base_model,
                     {"accuracy": r.accuracy, "f1_weighted": r.f1_weighted}) for r in history]
        else:
            rows = [(m["name"], m.get("version"), "", m.get("base"), m.get("metrics") or {}) for m in st.models]
        for name, version, kind, base, met in rows:
            acc = met.get("accuracy")
            models.add_row(str(name), str(version or "-"), kind, str(base or "-"), say.number(met.get("accuracy")),
                           say.number(met.get("f1_weighted")),
                           say.bar(acc, 1.0, 12) if isinstance(acc, (int, float)) else "")
        if not rows:
            models.add_row("no model yet: press 4 to tune one", "", "", "", "", "", "")
        title = "Models (test metrics per dataset version)"
        points = [p for p in (curve or []) if isinstance(p.f1_weighted, (int, float))]
        if points:
            title = "Models · learning curve (best weighted F1): " + " → ".join(
                f"{p.version} {p.f1_weighted:.2f}" for p in points[-4:])
        models.border_title = title
        steps = "\n".join(f"→ {s}" for s in st.next_steps) or "Nothing pressing."
        stop = getattr(st, "stop", None)
        if stop:  # the stop signal, as on the labeling screen (L there: the learning curves)
            steps = f"stop signal: {escape(say.stop_line(SimpleNamespace(**stop)))}\n{steps}"
        keys = ("keys: 2 label · e export · 3 diff · 4 tune · 5 summary · 6 quality · 7 discover · ? help · "
                "ctrl+p commands")
        self.query_one("#status-next", Static).update(f"{steps}\n[dim]{keys}[/dim]")
