"""Quality: how the labels changed between dataset versions, who labeled how much and how fast,
and how far the authors agree.

Keys: R sends the reviews on which authors disagree to review (asks first, naming how many), g
reloads; the line under the versions table lists every transition of the highlighted version. The numbers are those of ``reviewtui stats`` (docs/QUALITY.md says how each is computed).
"""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from reviewtui import presentation as say
from reviewtui.tui.messages import QualityLoaded, SentToReview
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.tables import PlainTable

BAR_WIDTH = 24


class QualityScreen(WorkspaceScreen):
    MODE = "quality"
    BINDINGS = [
        Binding("R", "send_disagreements", "Disagreements to review", id="quality.review_disagreements"),
        Binding("g", "reload", "Reload", id="quality.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.open_disagreements: list[str] = []
        self.left_out: dict[str, str] = {}  # open disagreements a send leaves as they are, and why
        self.transitions: dict[str, str] = {}  # version -> all its transitions
        self.shown_once = False  # the statistics were shown once (later loads replace them in place)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="quality-body"):
            yield Static(id="quality-head")
            versions = PlainTable(id="quality-versions", cursor_type="row", zebra_stripes=True)
            versions.border_title = "Dataset versions (against the one before)"
            yield versions
            yield Static(id="quality-transitions")
            authors = PlainTable(id="quality-authors", cursor_type="row", zebra_stripes=True)
            authors.border_title = "Authors (people's labels; s/label: the median)"
            yield authors
            categories = Static(id="quality-categories")
            categories.border_title = "Agreement per category (specific agreement, Fleiss' κ)"
            yield categories

    def on_mount(self) -> None:
        self.reset_table("#quality-versions", say.VERSION_STATS_COLUMNS)
        self.reset_table("#quality-authors", say.AUTHOR_STATS_COLUMNS)

    def reset_table(self, selector: str, columns) -> DataTable:
        """The table emptied, its columns afresh: a column's width grows with the rows it is given
        and a plain clear keeps it, so each load sizes the columns to its own rows alone."""
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        for title, key in columns:
            table.add_column(title, key=key)
        return table

    def came_into_view(self) -> None:
        self.load()

    def workspace_changed(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        """Compute the statistics in a worker; until the first are shown, the head says so (every
        version is read and compared, which takes seconds on large versions)."""
        if not self.shown_once:
            self.query_one("#quality-head", Static).update(
                Text("computing the statistics of every version and author…", style="dim"))
        self.compute()

    @work(thread=True, exclusive=True, group="quality", exit_on_error=False)
    def compute(self) -> None:
        stats = self.ws.quality_stats()
        open_ids = [d.external_id for d in stats.agreement.disagreements if not d.settled]
        left_out = self.ws.left_out_of_review(open_ids)  # waiting in review already, reviewed since
        if self.still_wanted():  # not replaced by a later load (after a send to review, say)
            self.post_message(QualityLoaded(stats, [i for i in open_ids if i not in left_out], left_out))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)  # the error, notified
        if event.worker.name == "compute" and event.state == WorkerState.ERROR and not self.shown_once:
            self.query_one("#quality-head", Static).update(
                Text("the statistics could not be computed (the error is above); g tries again", style="dim"))

    @on(QualityLoaded)
    def show_loaded(self, message: QualityLoaded) -> None:
        st = message.stats
        self.shown_once = True
        self.open_disagreements = list(message.open_disagreements)
        self.left_out = message.left_out
        ag = st.agreement
        head = Text(say.agreement_sentence(ag))
        if ag.assets:
            open_n = len(self.open_disagreements)
            left = Counter(self.left_out.values())
            also = ", ".join(f"{n:,} {why}" for why, n in left.most_common())
            if open_n:
                head.append(f"\n{open_n} open: R sends them to review" + (f" ({also})" if also else ""), style="dim")
            elif left:
                head.append(f"\nnone to send: {also}; c in the D queue settles one", style="dim")
            elif ag.disagreements:
                head.append("\nnone open (a label was confirmed after each)", style="dim")
            pairs = ", ".join(f"{say.short_author(p.a, 10)} · {say.short_author(p.b, 10)} κ {say.number(p.kappa, 2)}"
                              for p in ag.pairs[:4])
            if len(ag.pairs) > 1:
                head.append(f"\npairs: {pairs}", style="dim")
        self.query_one("#quality-head", Static).update(head)
        versions = self.reset_table("#quality-versions", say.VERSION_STATS_COLUMNS)
        taxonomy = self.ws.taxonomy  # the categories by their names, as the other screens show them
        self.transitions = {v.name: line for v in st.versions if (line := say.version_transitions_line(v, taxonomy))}
        for v in st.versions:
            versions.add_row(*say.version_stats_cells(v, limit=1, taxonomy=taxonomy), key=v.name)
        if st.versions:
            versions.move_cursor(row=len(st.versions) - 1)
        self.show_transitions(st.versions[-1].name if st.versions else None)
        if not st.versions:
            versions.add_row("no version yet: press e to export one", *[""] * (len(say.VERSION_STATS_COLUMNS) - 1))
        authors = self.reset_table("#quality-authors", say.AUTHOR_STATS_COLUMNS)
        for a in st.authors:
            authors.add_row(*say.author_stats_cells(a), key=a.author)
        if not st.authors:
            authors.add_row("no label from a person yet", *[""] * (len(say.AUTHOR_STATS_COLUMNS) - 1))
        self.query_one("#quality-categories", Static).update(self.category_bars(ag))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "quality-versions":
            self.show_transitions(event.row_key.value)

    def show_transitions(self, version: str | None) -> None:
        self.query_one("#quality-transitions", Static).update(Text(self.transitions.get(version or "", ""),
                                                                   style="dim"))

    def category_bars(self, ag) -> Table | Text:
        rows = [c for c in ag.per_category if c.ratings]
        if not rows:
            return Text("No review has labels from two authors yet.", style="dim")
        names = dict(zip(self.ws.taxonomy.keys, say.category_names(self.ws.taxonomy.keys, self.ws.taxonomy, 18)))
        colours = {c.key: c.colour for c in self.ws.taxonomy}
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, width=18)
        table.add_column(no_wrap=True)
        for _ in range(3):
            table.add_column(justify="right", no_wrap=True)
        for c in rows:
            name, labels, specific, kappa = say.category_agreement_cells(c, names.get(c.category, c.category))
            table.add_row(Text(name), Text(say.bar(c.specific or 0.0, 1.0, BAR_WIDTH),
                                           style=colours.get(c.category, "")),
                          Text(specific), Text(f"κ {kappa}"), Text(f"{labels} label{'' if str(labels) == '1' else 's'}", style="dim"))
        return table

    # -- send to review ---------------------------------------------------------------------
    def action_send_disagreements(self) -> None:
        ids = list(self.open_disagreements)
        if not ids:
            left = len(self.left_out)
            self.notify("no open disagreement to send to review" + (
                f": the {left} open ones wait in review already or were reviewed since" if left else ""),
                severity="warning")
            return
        from reviewtui.tui.screens.dialogs import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.send(ids)

        self.app.push_screen(ConfirmDialog(say.disagreements_question(len(ids))), done)

    @work(thread=True, exclusive=True, group="quality-review", exit_on_error=False)
    def send(self, external_ids: list[str]) -> None:
        self.post_message(SentToReview(self.ws.send_to_review(external_ids, settled_stay=True)))

    @on(SentToReview)
    def sent_to_review(self, message: SentToReview) -> None:
        moved = message.moved
        if moved.moved and callable(changed := getattr(self.app, "reviews_changed", None)):
            changed()  # the labeling screen's answered reviews show their new status
        self.notify(say.to_review_sentence(moved, limit=5), severity="warning" if moved.failed else "information",
                    markup=False)
        self.load()
