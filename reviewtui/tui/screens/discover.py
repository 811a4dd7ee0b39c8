"""Discover: cluster a selection of reviews to find what the taxonomy is missing, and make a
cluster a new category.

The selection (s cycles it, or the picker): the reviews labeled with a category that is not
trained on ("Other"), the predictions below 50 % confidence, or what is new in an app version
against the versions before it. d clusters it (in the background: the embeddings are computed
once and cached); the table lists the clusters (their distinctive words, size, share and, for a
version, growth) and the pane below shows the reviews nearest the highlighted cluster's centre.
n makes the highlighted cluster a category: it asks for a name, adds the category to the taxonomy
and queues its reviews first in the labeling queue. Nothing is ever labeled here.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Select, Static

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress
from reviewtui.tui.messages import (CategoryMade, CoreEvent, DiscoveryFinished, VersionsListed, event_sink,
                                    notice_severity)
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.tables import PlainTable

BASE_CHOICES = (("Reviews labeled Other (untrained categories, else Other)", "other"),
                ("Predictions below 50% confidence", "low-confidence"))
VERSIONS_SHOWN = 6
#: The clusters table's columns but the words, and their widths; the words take what they leave
#: (a wide terminal shows ``WORDS_WIDTH`` of them, a narrow one fewer, the growth always whole).
COLUMN_WIDTHS = {"#": 3, "size": 7, "share": 7, "growth": 8}
WORDS_WIDTH = 52


#: Of several apps, each app's latest versions offered.
APP_VERSIONS_SHOWN = 2


def choices(versions: dict[str | None, list[str]]) -> list[tuple[str, str]]:
    """The selections: Other, low confidence, and what is new in each of the latest versions; of
    several apps, in each app's latest versions (value ``version:V<tab>APP``): versions are compared
    within one app."""
    out = list(BASE_CHOICES)
    for app, listed in versions.items():
        shown = listed[:VERSIONS_SHOWN if app is None else APP_VERSIONS_SHOWN]
        for i, v in enumerate(shown):
            latest = " (the latest)" if i == 0 else ""
            if app is None:
                out.append((f"New in version {v}{latest}", f"version:{v}"))
            else:
                out.append((f"New in {app} {v}{latest}", f"version:{v}\t{app}"))
    return out


class DiscoverScreen(WorkspaceScreen):
    MODE = "discover"
    AUTO_FOCUS = "#discover-clusters"
    BINDINGS = [
        Binding("d", "discover", "Discover", id="discover.run"),
        Binding("s", "cycle_selection", "Selection", id="discover.selection"),
        Binding("n", "new_category", "New category", id="discover.new_category"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.options: list[tuple[str, str]] = list(BASE_CHOICES)
        self.selection = "other"
        self.picked = False  # the user chose a selection (else it follows the taxonomy's default)
        self.discovery: Any = None
        self.running = False
        self.running_for = ""  # the selection being clustered
        self.words_width = 0  # the cluster column's width now

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="discover-pick"):
            yield Label("look into", classes="pick-label")
            yield Select(self.options, id="discover-selection", value=self.selection, allow_blank=False,
                         type_to_search=False, compact=True)
        yield Static(id="discover-state", markup=False)
        caution = Static(id="discover-caution", markup=False)
        caution.display = False
        yield caution
        table = PlainTable(id="discover-clusters", cursor_type="row", zebra_stripes=True)
        table.border_title = "Clusters"
        yield table
        examples = Static(id="discover-examples")
        examples.border_title = "Nearest the centre"
        yield examples

    def on_mount(self) -> None:
        self.fill_table()
        self.show_state()
        self.list_versions()

    def on_resize(self) -> None:
        if self.fitting_words_width() != self.words_width:
            self.fill_table()

    def fitting_words_width(self) -> int:
        """The cluster column's width: what the screen leaves after the other columns (a cell is
        padded by one either side), the border and a scrollbar; at most ``WORDS_WIDTH``."""
        others = sum(COLUMN_WIDTHS.values()) + 2 * len(say.DISCOVER_COLUMNS) + 2 + 2
        return max(12, min(WORDS_WIDTH, self.size.width - others))

    def fill_table(self) -> None:
        """The clusters table's columns for the screen's width, and the clusters' rows."""
        table = self.query_one("#discover-clusters", DataTable)
        row = table.cursor_row
        self.words_width = self.fitting_words_width()
        table.clear(columns=True)
        for col in say.DISCOVER_COLUMNS:
            table.add_column(col, key=col, width=COLUMN_WIDTHS.get(col, self.words_width))
        if self.discovery is not None:
            for c in self.discovery.clusters:
                table.add_row(*say.cluster_cells(c, self.discovery.caution, self.discovery.size), key=str(c.id))
            if 0 < row < table.row_count:
                table.move_cursor(row=row)

    def workspace_changed(self) -> None:
        self.list_versions()

    # -- the selection ----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="versions", exit_on_error=False)
    def list_versions(self) -> None:
        # before any prediction, several apps too: the latest version of the most reviewed app
        self.post_message(VersionsListed(self.ws.versions_by_app(), self.ws.default_discover_selection(any_app=True)))

    @on(VersionsListed)
    def fill_choices(self, message: VersionsListed) -> None:
        self.options = choices(message.versions)
        picker = self.query_one("#discover-selection", Select)
        values = [v for _, v in self.options]
        if not self.picked:  # a taxonomy with no catch-all: low-confidence, or before predictions the latest version
            default = message.default
            if default == "version":  # the latest version of the most reviewed app
                default = next((v for v in values if v.startswith("version:")), "low-confidence")
            if default in values:
                self.selection = default
        with self.prevent(Select.Changed):
            picker.set_options(self.options)
            if self.selection not in values:
                self.selection = values[0]
            picker.value = self.selection

    @on(Select.Changed, "#discover-selection")
    def selection_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            if event.value != self.selection:  # the Select says its first value too: not a choice
                self.clear_discovery()
                self.picked = True
            self.selection = event.value
            self.show_state()

    def action_cycle_selection(self) -> None:
        values = [v for _, v in self.options]
        self.selection = values[(values.index(self.selection) + 1) % len(values)] if self.selection in values \
            else values[0]
        self.picked = True
        with self.prevent(Select.Changed):
            self.query_one("#discover-selection", Select).value = self.selection
        self.clear_discovery()
        self.show_state()

    def clear_discovery(self) -> None:
        """Another selection: the clusters of the last one go (n must not make a category of them)."""
        self.discovery = None
        self.query_one("#discover-clusters", DataTable).clear()
        self.show_examples()
        self.show_caution()

    def selection_label(self, value: str | None = None) -> str:
        """How the picker names ``value`` (default: the selection chosen)."""
        value = value or self.selection
        return dict((v, label) for label, v in self.options).get(value, value)

    def show_state(self, text: str | None = None) -> None:
        if text is None:
            if self.running:  # the selection under way, not one chosen since
                text = f"clustering: {self.selection_label(self.running_for)}…"
            elif self.discovery is not None:
                text = say.discovery_headline(self.discovery) + (
                    "  n: make the highlighted cluster a category" if self.discovery.clusters else
                    "  s: another selection")
            else:
                text = "d: cluster these reviews · s: another selection"
        self.query_one("#discover-state", Static).update(text)

    # -- discover ---------------------------------------------------------------------------
    def action_discover(self) -> None:
        if self.running:
            self.notify("discovery is running already", severity="warning")
            return
        self.running = True
        self.running_for = self.selection
        self.clear_discovery()
        self.show_state()
        kind, _, rest = self.selection.partition(":")
        version, _, app = rest.partition("\t")
        self.run_discovery(kind, version or None, app or None)

    @work(thread=True, exclusive=True, group="discover", exit_on_error=False)
    def run_discovery(self, selection: str, version: str | None, app: str | None = None) -> None:
        found = None
        try:
            found = self.ws.discover(selection, version=version, app=app, on_event=event_sink(self, "discover"))
        except ReviewtuiError as exc:  # the CLI's advice, in the app's keys
            text = str(exc)
            if text.startswith("no predictions yet"):
                raise ReviewtuiError("no predictions yet: r on the labeling screen refits the quick model, or p on "
                                     "the Summary screen predicts every review; then d") from exc
            if text.startswith("nothing to discover") and "(choose " in text:
                raise ReviewtuiError(text.replace("(choose ", "(s chooses another: ")) from exc
            raise
        finally:
            self.post_message(DiscoveryFinished(found))

    @on(CoreEvent)
    def core_event(self, message: CoreEvent) -> None:
        event = message.event
        if isinstance(event, Progress) and self.running:
            self.show_state(f"clustering: {self.selection_label(self.running_for)}… {event.task} {event.done:,} of "
                            f"{event.total:,}")
        elif isinstance(event, Notice):
            self.notify(event.text, severity=notice_severity(event), markup=False)

    @on(DiscoveryFinished)
    def show_discovery(self, message: DiscoveryFinished) -> None:
        self.running = False
        stale = bool(self.running_for) and self.running_for != self.selection
        self.running_for = ""
        if message.discovery is not None and stale:
            self.notify("another selection was chosen while clustering: press d to cluster it", markup=False)
        elif message.discovery is not None:
            self.discovery = message.discovery
            self.fill_table()
            self.show_examples()
            self.show_caution()
        self.show_state()

    def show_caution(self) -> None:
        """Under the headline: why the growth figures are not reliable, when they are not."""
        text = say.growth_caution_sentence(self.discovery.caution) if self.discovery is not None else None
        caution = self.query_one("#discover-caution", Static)
        caution.update(text or "")
        caution.display = text is not None

    def highlighted(self) -> Any:
        if self.discovery is None or not self.discovery.clusters:
            return None
        row = self.query_one("#discover-clusters", DataTable).cursor_row
        return self.discovery.clusters[row] if 0 <= row < len(self.discovery.clusters) else None

    @on(DataTable.RowHighlighted, "#discover-clusters")
    def row_highlighted(self) -> None:
        self.show_examples()

    def show_examples(self) -> None:
        c = self.highlighted()
        out = Text()
        if c is not None:
            out.append(", ".join(c.words) or c.name, style="bold")
            for _, text in c.examples:
                out.append(f"\n“{text}”")
        self.query_one("#discover-examples", Static).update(out)

    # -- a cluster becomes a category -------------------------------------------------------
    def action_new_category(self) -> None:
        from reviewtui.tui.screens.dialogs import PromptDialog

        cluster = self.highlighted()
        if cluster is None:
            self.notify("discover first (d), then highlight a cluster", severity="warning")
            return

        def done(name: str | None) -> None:
            if name:
                self.make_category(cluster, name)

        words = ", ".join(cluster.words[:3]) or cluster.name
        self.app.push_screen(PromptDialog(f"Name the new category for the cluster “{words}” "
                                          f"({say.count(cluster.size, 'review')}). Its reviews are queued first, "
                                          "none is labeled.",
                                          "category name", tuple(w.capitalize() for w in cluster.words[:2]),
                                          required="a new category needs a name: type one, or escape to cancel"),
                             done)

    @work(thread=True, exclusive=True, group="category", exit_on_error=False)
    def make_category(self, cluster: Any, name: str) -> None:
        self.post_message(CategoryMade(self.ws.make_category(cluster, name=name)))

    @on(CategoryMade)
    def category_made(self, message: CategoryMade) -> None:
        self.notify(say.new_category_sentence(message.made), title="New category", markup=False, timeout=10)
        self.app.workspace_changed()  # type: ignore[attr-defined]
