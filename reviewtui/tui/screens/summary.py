"""Summary: what the predicted reviews say, by category, sentiment and star score.

Bar charts of categories, sentiment and scores and of category x sentiment (a bar a line, its
name beside it: see :mod:`reviewtui.tui.widgets.bars`), and a table of the negative share per
category, or (t) of each app's versions with their n and interval, or (t again, with several apps)
of each app's share of reviews in each category (short headers on a screen narrower than 100
columns, so it fits beside the chart); a filter by app (a cycles) and by app
version (v cycles, the latest is marked and set against the earlier ones; with several apps
choose an app first). p predicts every review as a background job (with progress, also when the
screen reopens while it runs; x cancels it), w writes the report. All numbers come from
Workspace.summary (the same as ``reviewtui report``), and so does the line on what the predictions
miss (reviews imported, labels given after them).
"""

from __future__ import annotations

import math
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, ProgressBar, Select, Static

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress
from reviewtui.tui.jobs import follow_job
from reviewtui.tui.messages import CoreEvent, JobAttached, JobDone, ReportWritten, SummaryLoaded, notice_severity
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.bars import BarChart, StackedBarChart
from reviewtui.tui.widgets.tables import PlainTable

ALL = "all"
#: Narrower screens (an 80-column terminal) give the table short headers, so it fits beside the chart.
NARROW_BELOW = 100
NARROW_NAME = 18  # the longest category name in the narrow table; longer ones are shortened
NARROW_LEGEND = "n reviews · neg. negative · ★ mean"


def pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, (int, float)) and math.isfinite(value) else "-"


def num(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) and math.isfinite(value) else "-"


#: The characters an app id keeps in the app picker (its cells less the borders and the arrow).
APP_PICK_CHARS = 22


class SummaryScreen(WorkspaceScreen):
    MODE = "summary"
    AUTO_FOCUS = "#summary-table"
    BINDINGS = [
        Binding("a", "cycle_app", "App", id="summary.app"),
        Binding("v", "cycle_version", "App version", id="summary.version"),
        Binding("t", "toggle_view", "Next table", id="summary.view"),
        Binding("l", "latest", "Latest version", id="summary.latest"),
        Binding("p", "predict", "Predict", id="summary.predict"),
        Binding("x", "cancel", "Cancel predict", id="summary.cancel"),
        Binding("w", "write_report", "Write report", id="summary.report"),
        Binding("g", "reload", "Reload", id="summary.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.app_versions: list[str] = []
        self.latest: str | None = None
        self.version = ALL
        self.apps: list[str] = []
        self.app_filter = ALL
        self.view = "categories"  # or "versions": the app x version table; or "apps": categories by app
        self.chosen: Any = None  # the summary on show
        self.table_narrow = False  # whether the table has the narrow headers
        self.job: Any = None  # the prediction job this screen follows
        # what the predictions hold (until they are read: as if versions and one app)
        self.has_versions = True
        self.several_apps = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="summary-filter"):
            yield Label("app ", classes="pick-label")
            yield Select([(ALL + " apps", ALL)], value=ALL, allow_blank=False, id="summary-app",
                         type_to_search=False, compact=True)
            yield Label(" version ", classes="pick-label", id="summary-version-label")
            yield Select([(ALL + " versions", ALL)], value=ALL, allow_blank=False, id="summary-version",
                         type_to_search=False, compact=True)
            progress = ProgressBar(total=None, show_eta=False, id="summary-progress")
            progress.display = False
            yield progress
        yield Static("", id="summary-state")
        with Horizontal(id="summary-charts", classes="chart-row"):
            yield BarChart("Categories", id="chart-categories", classes="chart", can_focus=True)
            yield BarChart("Sentiment", id="chart-sentiment", classes="chart", can_focus=True)
            yield BarChart("Stars", id="chart-scores", classes="chart", can_focus=True)
        with Horizontal(id="summary-lower", classes="chart-row"):
            yield StackedBarChart("Category x sentiment", id="chart-cross", classes="chart", can_focus=True)
            table = PlainTable(id="summary-table", cursor_type="row", zebra_stripes=True)
            table.border_title = "Negative share per category"
            yield table

    def on_mount(self) -> None:
        self.load()
        self.reattach()

    @work(thread=True, exclusive=True, group="predict-start", exit_on_error=False)
    def reattach(self) -> None:
        """Follow a prediction job that is running (started here before, or from the CLI)."""
        job = self.ws.jobs.latest("predict")
        if job is not None and job.active:
            follow_job(self, job, "predict")

    def workspace_changed(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def came_into_view(self) -> None:
        # shown again: read again when the results or the labels changed meanwhile (a predict run
        # from a terminal, labels given on the labeling screen), not on every visit (a million rows)
        if self.data_signature() != getattr(self, "loaded_signature", None):
            self.load()

    def data_signature(self) -> tuple:
        """What the summary shown depends on: the result files as they are on disk, the store's last change."""
        out = []
        for name in ("result.csv", "result.json"):
            try:
                st = (self.ws.results_dir / name).stat()
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return (*out, self.ws.store.last_change())

    # -- data -------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the summary again, for the app and version chosen now, in a worker."""
        self.loaded_signature = self.data_signature()
        self.read_summary(None if self.app_filter == ALL else self.app_filter, self.version)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def read_summary(self, app: str | None, version: str) -> None:
        try:
            overall = self.ws.summary(None, app=app)
            loaded = SummaryLoaded(overall, overall if version == ALL else self.ws.summary(version, app=app))
        except ReviewtuiError as exc:
            loaded = SummaryLoaded(missing=str(exc))
        if self.still_wanted():  # not replaced by a load for another app or version, or newer results
            self.post_message(loaded)

    @on(SummaryLoaded)
    def show_loaded(self, message: SummaryLoaded) -> None:
        if message.missing is not None:
            self.show_missing(message.missing)
        else:
            self.show_summary(message.overall, message.chosen)

    def show_missing(self, text: str) -> None:
        self.chosen = None  # (the tables of results read before are not the results now)
        if self.running:  # the prediction under way says where it is (g or v while it runs said "none yet")
            self.show_predicting()
        elif text.startswith("no predictions yet"):  # the CLI's advice, in the app's key
            self.query_one("#summary-state", Static).update(Text.assemble(
                "No predictions yet: ", ("p", "bold"), " predicts every review (in the background; ",
                ("x", "bold"), " cancels)."))
        else:
            self.query_one("#summary-state", Static).update(Text.assemble(text, "\n", ("p", "bold"),
                                                                          " predicts every review now."))
        for row in self.query(".chart-row"):
            row.display = False

    def show_summary(self, overall: Any, s: Any) -> None:
        if self.app_filter == ALL and overall.apps != self.apps:
            self.apps = list(overall.apps)
            select = self.query_one("#summary-app", Select)
            with self.prevent(Select.Changed):
                # the picker is 28 cells wide: long ids keep their start and their end ("-eu", "-us")
                shown = say.short_names([str(a) for a in self.apps], APP_PICK_CHARS)
                # an app id is text, not markup ("[/]" in one stopped the app)
                select.set_options([(ALL + " apps", ALL)] + [(Text(name), a) for name, a in zip(shown, self.apps)])
                select.value = ALL
        versions = [] if overall.several_apps else [str(v) for v in overall.by_version.index if str(v) != "unknown"]
        self.latest = overall.latest_version
        if overall.has_versions != self.has_versions or overall.several_apps != self.several_apps:
            # reviews of products or places have no version: no version choice, no v or l
            self.has_versions, self.several_apps = overall.has_versions, overall.several_apps
            self.query_one("#summary-version", Select).display = self.has_versions
            self.query_one("#summary-version-label", Label).display = self.has_versions
            if not self.has_versions and not self.several_apps:
                self.view = "categories"
            self.refresh_bindings()
        if versions != self.app_versions:
            self.app_versions = versions
            select = self.query_one("#summary-version", Select)
            with self.prevent(Select.Changed):
                select.set_options([(ALL + " versions", ALL)] +
                                   [(Text(f"{v} (latest)" if v == self.latest else v), v) for v in reversed(versions)])
                select.value = self.version if self.version in versions else ALL
        for row in self.query(".chart-row"):
            row.display = True
        # predicted with --sentiment none: no charts of zeros
        for chart in ("#chart-sentiment", "#chart-cross"):
            self.query_one(chart).display = overall.has_sentiment
        which = "all apps" if self.app_filter == ALL else self.app_filter
        if self.has_versions:
            which += ", all versions" if self.version == ALL else f", version {self.version}"
        sentiment = f" · sentiment {escape(overall.sentiment_source)}" if overall.sentiment_source else ""
        # app ids, versions and model names are text, not markup
        lines = [f"[b]{escape(which)}[/b]: {s.reviews:,} reviews · model {escape(str(s.model or '-'))}{sentiment}"]
        for app, latest in (overall.latest_by_app.items() if overall.several_apps else [(None, overall.latest)]):
            if not latest:
                continue
            line = (f"{escape(app) + ': ' if app else ''}latest {escape(str(latest['version']))}: "
                    f"{latest['reviews']:,} reviews, negative {pct(latest['negative_share'])}")
            if latest.get("earlier_reviews"):
                line += (f" (earlier {pct(latest['negative_share_others'])}), mean ★ {num(latest['mean_score'])} "
                         f"(earlier {num(latest['mean_score_others'])})")
                if latest["reviews"] < s.min_group_size:  # the findings need as many to compare
                    line += f" · too few reviews to compare (under {s.min_group_size})"
            lines.append(line)
        # what the predictions miss (reviews imported since, labels given since), as the CLI says it:
        # under the latest versions, which give way to it (the panel has a few rows)
        # the most telling first (a category no review is predicted in, then labels, then reviews since)
        stale = [f"[$warning]{escape(line)}[/]" for line in reversed(say.stale_lines(overall.stale, in_app=True,
                                                                                     untrained=False))]
        # a category kept out of training last: not behind, and no prediction changes it
        stale += [f"[$warning]{escape(line)}[/]" for line in say.untrained_lines(overall.stale, in_app=True)]
        if not overall.has_sentiment:
            stale.insert(0, f"[$warning]{escape(say.no_sentiment_line())}[/]")
        keep = 3 if not stale else 2
        if len(lines) > keep:
            more = len(lines) - keep
            lines = lines[:keep] + [f"… {more} more app{'s' if more != 1 else ''}: t shows every app's versions"]
        lines += stale
        self.query_one("#summary-state", Static).update("\n".join(lines))
        self.chosen = s
        cats = [str(c) for c in s.categories.index]
        names = say.category_names(cats, self.ws.taxonomy)
        colours = self.sentiment_styles()
        self.bar("#chart-categories", dict(zip(names, s.categories.values)),
                 {c.name: c.colour for c in self.ws.taxonomy})
        self.bar("#chart-sentiment", dict(zip(map(str, s.sentiments.index), s.sentiments.values)), colours)
        self.bar("#chart-scores", {f"{v}★": n for v, n in s.scores.items()})
        cross = s.category_sentiment
        parts = [str(c) for c in cross.columns]
        self.query_one("#chart-cross", StackedBarChart).set_stacks(
            {name: [float(cross.at[c, col]) if c in cross.index else 0.0 for col in cross.columns]
             for c, name in zip(cats, names)}, parts, colours)
        self.fill_table(s, cats, names)

    @property
    def narrow(self) -> bool:
        """Whether the screen is narrower than ``NARROW_BELOW``: the table's short headers."""
        return self.size.width < NARROW_BELOW

    def on_resize(self) -> None:
        if self.chosen is not None and self.narrow != self.table_narrow:
            cats = [str(c) for c in self.chosen.categories.index]
            self.fill_table(self.chosen, cats, say.category_names(cats, self.ws.taxonomy))

    def fill_table(self, s: Any, cats: list[str], names: list[str]) -> None:
        """The lower right table: the negative share per category, each app's versions (t), or
        with several apps each app's share of reviews in each category (t again). Narrow, it takes
        short headers (named under it) and shortened category names, so it fits beside the chart."""
        narrow = self.table_narrow = self.narrow
        table = self.query_one("#summary-table", DataTable)
        table.clear(columns=True)
        table.border_subtitle = NARROW_LEGEND if narrow else ""
        if self.view == "apps" and not s.several_apps:  # one app chosen: nothing to set side by side
            self.view = "categories"
        if self.view == "apps":
            self.fill_apps(table, s, cats, names, narrow)
            return
        if self.view == "versions":
            versions = self.has_versions  # without versions: one row per app, no version column
            table.border_title = f"{'App x version' if versions else 'Per app'} ({100 * s.confidence:g}% intervals)"
            head = ("app", "version", "n", "neg.", "interval", "★") if narrow else \
                ("app", "version", "reviews", "negative", "interval", "mean ★")
            kept = [i for i in range(len(head)) if (versions or i != 1) and (s.has_sentiment or i not in (3, 4))]
            table.add_columns(*(head[i] for i in kept))
            rows = s.by_app_version
            for app in s.apps:
                mine = rows[rows["app"] == app]
                latest = s.latest_by_app.get(app, {}).get("version")
                for label, row in mine.iloc[::-1].iterrows():
                    low, high = row["negative_low"], row["negative_high"]
                    version = (str(row["version"]) + (" ★" if row["version"] == latest else ""),) if versions else ()
                    neg = (pct(row["negative_share"]),
                           f"{pct(low)}–{pct(high)}" if low == low and high == high else "-")
                    table.add_row(app, *version, f"{row['reviews']:,.0f}", *(neg if s.has_sentiment else ()),
                                  num(row["mean_score"]), key=str(label))
            return
        table.border_title = "Negative share per category" if s.has_sentiment else "Per category"
        head = (("category", "n", "share", "neg.", "★") if narrow else
                ("category", "reviews", "share", "negative", "mean ★"))
        table.add_columns(*(h for i, h in enumerate(head) if s.has_sentiment or i != 3))
        for c, name in zip(cats, say.short_names(names, NARROW_NAME) if narrow else names):
            neg = (pct(s.negative_share.get(c)),) if s.has_sentiment else ()
            table.add_row(name, f"{s.categories.get(c, 0):,.0f}", pct(s.category_share.get(c)), *neg,
                          num(s.mean_score.get(c)), key=c)

    def fill_apps(self, table: DataTable, s: Any, cats: list[str], names: list[str], narrow: bool) -> None:
        """Categories as rows, apps as columns: each app's reviews, then its share of them in each
        category (bold where a finding says the app stands apart), and all apps together."""
        shares = s.category_by_app
        apart = {(f.app, f.subject) for f in s.findings if f.kind == "app_category"}
        table.border_title = "Categories by app (%)" if narrow else "Categories by app (% of each app's reviews)"
        table.border_subtitle = "bold: stands apart (a finding)" if apart else ""
        apps = say.short_names(s.apps, 10 if narrow else 16)
        table.add_columns("category", *apps, "all")
        table.add_row("reviews", *(f"{s.by_app.at[a, 'reviews']:,.0f}" for a in s.apps), f"{s.total:,.0f}",
                      key="reviews")
        for c, name in zip(cats, say.short_names(names, NARROW_NAME) if narrow else names):
            table.add_row(name, *(Text(pct(shares.at[c, a]), style="bold" if (a, c) in apart else "")
                                  for a in s.apps), pct(shares.at[c, "all"]), key=c)

    def bar(self, selector: str, data: dict[str, Any], colours: dict[str, str] | None = None) -> None:
        """One chart's bars: ``data`` maps a bar's name to its value (the largest draws the longest)."""
        values = {name: float(n) for name, n in data.items()}
        self.query_one(selector, BarChart).set_data(values, colours, total=max(values.values(), default=0))

    def sentiment_styles(self) -> dict[str, str]:
        """The theme's error and success colours for negative and positive (neutral keeps the text's)."""
        theme = self.app.get_css_variables()
        return {"negative": theme.get("error", ""), "positive": theme.get("success", "")}

    # -- the app and version filters --------------------------------------------------------
    def on_select_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        if event.select.id == "summary-app":
            if event.value != self.app_filter:
                self.set_app(event.value)
        elif event.value != self.version:
            self.version = event.value
            self.load()

    def set_app(self, app: str) -> None:
        self.app_filter = app
        self.version = ALL  # versions belong to one app
        with self.prevent(Select.Changed):
            self.query_one("#summary-app", Select).value = app
        self.load()

    def action_cycle_app(self) -> None:
        if len(self.apps) < 2:
            if not self.apps and self.nothing_shown():
                return
            self.notify("the predictions hold one app" if self.apps else "the predictions name no app",
                        severity="warning")
            return
        order = [ALL] + self.apps
        self.set_app(order[(order.index(self.app_filter) + 1) % len(order)] if self.app_filter in order else ALL)

    def nothing_shown(self) -> bool:
        """True, and said, when there is no summary to act on (no predictions yet)."""
        if self.chosen is not None:
            return False
        self.notify("predicting every review now (x cancels)" if self.running else
                    "no predictions yet: p predicts every review", severity="warning")
        return True

    def action_toggle_view(self) -> None:
        """categories -> versions -> (several apps) categories by app -> categories."""
        if self.nothing_shown():
            return
        several = self.chosen is not None and self.chosen.several_apps
        order = ["categories", "versions"] + (["apps"] if several else [])
        self.view = order[(order.index(self.view) + 1) % len(order)] if self.view in order else "categories"
        if self.chosen is not None:
            cats = [str(c) for c in self.chosen.categories.index]
            self.fill_table(self.chosen, cats, say.category_names(cats, self.ws.taxonomy))

    def set_version(self, version: str) -> None:
        self.version = version
        with self.prevent(Select.Changed):
            self.query_one("#summary-version", Select).value = version
        self.load()

    def action_cycle_version(self) -> None:
        if self.nothing_shown():
            return
        if not self.app_versions and len(self.apps) > 1 and self.app_filter == ALL:
            self.notify("several apps: choose one first (a), then its versions (v)", severity="warning")
            return
        order = [ALL] + list(reversed(self.app_versions))
        self.set_version(order[(order.index(self.version) + 1) % len(order)] if self.version in order else ALL)

    def action_latest(self) -> None:
        if self.nothing_shown():
            return
        if self.latest is None:
            several = len(self.apps) > 1 and self.app_filter == ALL
            self.notify("several apps: choose one first (a)" if several else "no app versions in the predictions",
                        severity="warning")
            return
        self.set_version(self.latest)

    # -- predict and report -----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.state in ("starting", "running")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel":
            return self.running  # x shows in the footer only while a prediction runs
        if action in ("cycle_version", "latest"):
            return self.has_versions  # reviews of products or places have no version to choose
        if action == "toggle_view":
            return self.has_versions or self.several_apps
        return True

    def action_predict(self) -> None:
        if self.running:
            self.notify(f"prediction is already running (job {self.job.id}); x cancels it", severity="warning")
            return
        self.query_one("#summary-state", Static).update("starting the prediction in the background…")
        self.start_predict()

    @work(thread=True, exclusive=True, group="predict-start", exit_on_error=False)
    def start_predict(self) -> None:
        labels = self.ws.no_model_to_predict()  # no job to start: said in the app's keys
        if labels is not None:
            text = (f"no model to predict with: no saved model, and {say.count(labels, 'training label')} of fewer "
                    "than two categories; label reviews of two categories (2, the labeling screen), or train a model "
                    "(t on the Tune screen, 4), then p")
            self.app.call_from_thread(self.error, text)
            self.app.call_from_thread(self.query_one("#summary-state", Static).update, Text(text))
            return
        misfit = self.ws.model_misfit()  # said before a job starts, in the app's keys
        if misfit is not None:
            text = (f"{misfit}: e (export) and t on the Tune screen train one on the taxonomy now; then p "
                    "predicts")
            self.app.call_from_thread(self.error, text)
            self.app.call_from_thread(self.query_one("#summary-state", Static).update, Text(text))
            return
        follow_job(self, self.ws.start_job("predict"), "predict")

    @on(JobAttached)
    def attached(self, message: JobAttached) -> None:
        self.job = message.job
        progress = self.query_one("#summary-progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        self.show_predicting()
        self.refresh_bindings()

    def show_predicting(self) -> None:
        """The state line while the prediction this screen follows runs."""
        self.query_one("#summary-state", Static).update(f"predicting every review (job {self.job.id}; x cancels)…")

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("nothing is running", severity="warning")
            return
        try:
            self.job = self.ws.jobs.cancel(self.job.id)
        except ReviewtuiError as exc:
            self.error(str(exc))
        self.refresh_bindings()

    @on(JobDone)
    def predict_finished(self, message: JobDone) -> None:
        with self.telling(message.news):  # told once
            self.show_predict_end(message.job)

    def show_predict_end(self, job) -> None:
        self.job = job
        self.refresh_bindings()
        self.query_one("#summary-progress", ProgressBar).display = False
        if job.state != "finished":
            text = say.job_end_sentence(job)
            self.query_one("#summary-state", Static).update(text)
            if job.state == "failed":
                self.error(job.error or text)
            return
        from types import SimpleNamespace

        result = SimpleNamespace(**job.result)
        self.notify(f"{say.predict_sentence(result)} Wrote {result.path}.", title="Predict", timeout=10,
                    markup=False)
        self.load()

    def action_write_report(self) -> None:
        if self.nothing_shown():
            return
        self.write_report(None if self.version == ALL else self.version,
                          None if self.app_filter == ALL else self.app_filter)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def write_report(self, app_version: str | None, app: str | None = None) -> None:
        self.post_message(ReportWritten(self.ws.write_report(app_version, app=app, notes=say.stale_lines)))

    @on(ReportWritten)
    def report_written(self, message: ReportWritten) -> None:
        self.notify(say.report_sentence(message.paths), title="Report", timeout=10, markup=False)

    @on(CoreEvent)
    def core_event(self, message: CoreEvent) -> None:
        event = message.event
        if isinstance(event, Progress):
            self.query_one("#summary-progress", ProgressBar).update(total=event.total, progress=event.done)
            self.query_one("#summary-state", Static).update(
                f"{event.task} {event.done}/{event.total or '?'} {event.detail}".strip())
        elif isinstance(event, Notice) and not message.group.endswith("-replay"):
            self.notify(event.text, severity=notice_severity(event), markup=False)  # type: ignore[arg-type]
