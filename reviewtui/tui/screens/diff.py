"""Diff: pick two versions, read what changed, send the changed assets to review.

Keys: f cycle the change-type filter (all, added, removed, relabeled, status, and renamed when a
category rename or merge moved rows, which "all" does not send), t send the selected
row's asset to review, a send every asset the filter shows to review (both ask first), g reload.
An added, relabeled or status-changed row says who made the change and on which day ("by / at"; the
preview under the table gives the time). The id column is as wide as the ids, up to a UUID's 36
characters; a longer id is cut in the middle, and the preview gives it whole. Labels read as the
app names their categories (a version keeps their keys); a category change's rows show its keys.
The two version pickers are Selects (tab to reach them, enter to open).
"""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Select, Static

from reviewtui import presentation as say
from reviewtui.diff import ID_WIDTH, VersionDiff
from reviewtui.tui.messages import DiffLoaded, SentToReview
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.tables import PlainTable

FILTERS = ("all", "added", "removed", "relabeled", "status")  # and "sentiment", "renamed" when a diff has such rows
KINDS = ("added", "removed", "relabeled", "status")
#: The most changed rows the table shows at once: a diff of two large versions changes hundreds of
#: thousands, and a table row is built on the UI thread (the count says how many there are; `a`
#: sends them all, `reviewtui diff --json` lists them all).
MAX_ROWS = 1_000


class DiffScreen(WorkspaceScreen):
    MODE = "diff"
    AUTO_FOCUS = "#diff-rows"
    BINDINGS = [
        Binding("f", "cycle_filter", "Filter", id="diff.filter"),
        Binding("t", "send_selected", "Selected to review", id="diff.review_selected"),
        Binding("a", "send_all", "All shown to review", id="diff.review_all"),
        Binding("g", "reload", "Reload", id="diff.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.diff: VersionDiff | None = None
        self.filter = "all"
        self.version_names: list[str] | None = None  # none read yet: the first read (of none) says so
        self.rows_by_key: dict[str, object] = {}  # the rows the table shows, by row key
        self.id_width = 0  # the id column's width (set_columns)
        self.laid_out_for = 0  # the width the rows were laid out for (under 100 columns; 100 for any wider)
        self.label_width = 15  # the from and to columns' width (set_columns)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="diff-pick"):
            yield Label("from", classes="pick-label")
            yield Select([], id="diff-a", prompt="version A", type_to_search=False, compact=True)
            yield Label("to", classes="pick-label")
            yield Select([], id="diff-b", prompt="version B", type_to_search=False, compact=True)
        yield Static(id="diff-summary")
        rows = PlainTable(id="diff-rows", cursor_type="row", zebra_stripes=True)
        rows.border_title = "Changed rows"
        yield rows
        yield Static(id="diff-preview")

    def on_mount(self) -> None:
        self.set_columns(14)

    def set_columns(self, id_width: int, label_width: int = 15) -> None:
        """The table's columns, the id's ``id_width`` wide and from/to ``label_width`` (its rows
        go with them)."""
        table = self.query_one("#diff-rows", DataTable)
        table.clear(columns=True)
        self.id_width, self.label_width = id_width, label_width
        widths = {"change": 9, "id": id_width, "from": label_width, "to": label_width, "by": 14, "content": 60}
        for title, key in say.DIFF_COLUMNS:
            table.add_column(title, key=key, width=widths[key])

    def came_into_view(self) -> None:
        self.fill_versions()

    def workspace_changed(self) -> None:
        self.fill_versions()

    def action_reload(self) -> None:
        self.fill_versions(force=True)

    def fill_versions(self, force: bool = False) -> None:
        names = [v.name for v in self.ws.versions()]
        if names == self.version_names and not force:
            return
        self.version_names = names
        a, b = self.query_one("#diff-a", Select), self.query_one("#diff-b", Select)
        options = [(n, n) for n in names]
        with self.prevent(Select.Changed):
            a.set_options(options)
            b.set_options(options)
            if len(names) >= 2:
                a.value, b.value = names[-2], names[-1]
        if len(names) < 2:
            self.diff = None
            self.query_one("#diff-summary", Static).update(
                f"{'No version' if not names else 'One version'} so far: a diff needs two. Label some reviews (2) "
                "and press e to export.")
            self.query_one("#diff-rows", DataTable).clear()
            return
        self.run_diff(names[-2], names[-1])

    def on_select_changed(self, event: Select.Changed) -> None:
        a, b = self.query_one("#diff-a", Select).value, self.query_one("#diff-b", Select).value
        if isinstance(a, str) and isinstance(b, str):
            self.run_diff(a, b)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def run_diff(self, a: str, b: str) -> None:
        diff = self.ws.diff(a, b)
        if self.still_wanted():  # not replaced by the diff of two versions chosen since
            self.post_message(DiffLoaded(diff))

    @on(DiffLoaded)
    def show_loaded(self, message: DiffLoaded) -> None:
        self.show_diff(message.diff)

    def show_diff(self, diff: VersionDiff) -> None:
        self.diff = diff
        self.show_summary()
        self.fill_rows()

    def show_summary(self) -> None:
        d = self.diff
        if d is None:
            return
        head, _, counts = say.diff_headline(d).partition(": ")
        summary = Text.assemble((head, "bold"), ": ", counts)
        relabels = Counter(f"{self.category(c.before)} -> {self.category(c.after)}" for c in d.relabeled).most_common()
        pairs = ", ".join(f"{pair}: {n:,}" for pair, n in relabels[:4])
        if pairs:
            more = len(relabels) - 4
            summary.append(f"\nrelabeled {pairs}" + (f" (+{more} more)" if more > 0 else ""))
        if d.rename_pairs:
            summary.append("\ncategory changes " + ", ".join(f"{pair}: {n:,}" for pair, n in d.rename_pairs.items())
                           + " (not sent to review)")
        statuses = say.status_change_counts(d)
        if statuses:
            summary.append("\nstatus " + ", ".join(f"{k}: {v:,}" for k, v in statuses.items()))
        summary.append_text(Text.assemble("\nfilter: ", (self.filter, "bold"), " (f)"))
        self.query_one("#diff-summary", Static).update(summary)

    def category(self, key: str | None) -> str:
        """A label as the app names its category ("" stays "")."""
        return say.category_name(key, self.ws.taxonomy) if key else ""

    def shown(self) -> list:
        if self.diff is None:
            return []
        return [c for c in self.diff.changes if self.filter == "all" or c.kind == self.filter]

    def layout_width(self) -> int:
        """The width the columns depend on: the screen's under 100 columns, where the id gives way."""
        return min(self.size.width, 100)

    def on_resize(self) -> None:
        if self.rows_by_key and self.layout_width() != self.laid_out_for:  # lay the columns out again
            self.fill_rows()

    def fill_rows(self) -> None:
        table = self.query_one("#diff-rows", DataTable)
        shown = self.shown()
        self.rows_by_key = {f"{ch.kind}:{ch.external_id}": ch for ch in shown[:MAX_ROWS]}
        # the id column as wide as the ids (a UUID whole), a longer id cut in the middle: ids of
        # one source often share their start, and a cut at the end made two of them read the same
        id_width = min(ID_WIDTH, max([14, *(len(ch.external_id) for ch in self.rows_by_key.values())]))
        rows = []
        for key, ch in self.rows_by_key.items():
            cells = list(say.diff_cells(ch))
            if ch.kind not in ("renamed", "sentiment"):  # categories as the app names them; a category change: keys
                cells[2], cells[3] = self.category(cells[2]), self.category(cells[3])
            rows.append((key, cells))
        # from and to as wide as the names they show (up to 24), and at a narrow terminal the id
        # gives way first (cut in the middle) so that both names stay readable
        label_width = min(24, max([8, *(len(str(c)) for _, cells in rows for c in cells[2:4])]))
        self.laid_out_for = self.layout_width()
        if self.size.width and self.size.width < 100:
            id_width = min(id_width, max(14, self.size.width - 9 - 2 * label_width - 14 - 8))
        if (id_width, label_width) != (self.id_width, self.label_width):
            self.set_columns(id_width, label_width)
        else:
            table.clear()
        for key, cells in rows:
            cells[1] = say.short_id(cells[1], id_width)
            table.add_row(*cells, key=key)
        if not self.rows_by_key:  # no row to highlight: the line under the table is no earlier row's
            self.query_one("#diff-preview", Static).update(
                f"no {self.filter} row between these versions: f shows the next filter" if self.diff is not None
                and self.diff.changes else "")
        if len(shown) > MAX_ROWS:
            table.border_title = (f"Changed rows (the first {MAX_ROWS:,} of {len(shown):,}, filter {self.filter}; "
                                  "reviewtui diff --json lists them all)")
        else:
            table.border_title = f"Changed rows ({len(shown):,}, filter {self.filter})"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value or ""
        change = self.rows_by_key.get(key)
        preview = self.query_one("#diff-preview", Static)
        if change is None:
            preview.update("")
            return
        name = (lambda key: key) if change.kind in ("renamed", "sentiment") else self.category
        move = f"{name(change.before)} → {name(change.after)}" if change.before else name(change.label or "")
        by = say.by_at_text(change)
        preview.update(Text.assemble((change.kind, "bold"), f" {change.external_id} · {move}"
                                     + (f" · {by}" if by else "") + f"\n{change.content}"))

    def action_cycle_filter(self) -> None:
        filters = FILTERS + (("sentiment",) if self.diff is not None and self.diff.sentiment_changed else ()) + (
            ("renamed",) if self.diff is not None and self.diff.renamed else ())
        self.filter = filters[(filters.index(self.filter) + 1) % len(filters)] if self.filter in filters else "all"
        self.show_summary()
        self.fill_rows()

    # -- send to review ---------------------------------------------------------------------
    def selected_id(self) -> str | None:
        table = self.query_one("#diff-rows", DataTable)
        if self.diff is None or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return key.split(":", 1)[1]

    def action_send_selected(self) -> None:
        ext = self.selected_id()
        if ext is None:
            self.notify("no changed row selected", severity="warning")
            return
        self.confirm_send(f"Send asset {ext} to review (status TO_REVIEW)?", external_ids=[ext])

    def action_send_all(self) -> None:
        if self.diff is None or not self.shown():
            self.notify("no differing assets to send", severity="warning")
            return
        kinds = KINDS if self.filter == "all" else (self.filter,)
        n = len(self.diff.external_ids(kinds))
        if n == 0:  # only rows a category change moved: nobody's change to review
            self.notify("nothing to send: the rows shown only moved with a renamed or merged category",
                        severity="warning")
            return
        self.confirm_send(f"Send all {n:,} differing assets ({', '.join(kinds)}) of {self.diff.a} → {self.diff.b} "
                          "to review (status TO_REVIEW)?", kinds=kinds)

    def confirm_send(self, question: str, *, external_ids: list[str] | None = None,
                     kinds: tuple[str, ...] = KINDS) -> None:
        from reviewtui.tui.screens.dialogs import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.send(kinds, external_ids)

        self.app.push_screen(ConfirmDialog(question), done)

    @work(thread=True, exclusive=True, group="diff-review", exit_on_error=False)
    def send(self, kinds: tuple[str, ...], external_ids: list[str] | None) -> None:
        assert self.diff is not None
        self.post_message(SentToReview(self.ws.diff_to_review(self.diff, kinds, external_ids)))

    @on(SentToReview)
    def sent_to_review(self, message: SentToReview) -> None:
        moved = message.moved
        if moved.moved and callable(changed := getattr(self.app, "reviews_changed", None)):
            changed()  # the labeling screen's answered reviews show their new status
        self.notify(say.to_review_sentence(moved, limit=5), severity="warning" if moved.failed else "information",
                    markup=False)
