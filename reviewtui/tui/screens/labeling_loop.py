"""The labeling loop's part of the labeling screen: search and filters over the queue, the bulk
label of a filtered queue, the stop signal's line, the per-category learning curves, and where
the suggestions come from (the quick model, or zero-shot before it).

Keys: ``/`` full-text search, ``f`` filters (``stars=1-2 version=4.5 predicted=KEY
confidence=<0.6``, the same as ``reviewtui queue --filter``), ``B`` label every review of the
filtered queue (after a dialog naming their count), ``L`` the learning curves. An empty search or
filter clears it. In a review queue (S, T, D) ``/`` and ``f`` open the input too: enter applies it
to the labeling queue and goes back to it. The labeling screen derives from :class:`LoopControls`
and calls its hooks.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.store import Asset
from reviewtui.tui.messages import (BulkLabeled, CoreEvent, FilterApplied, StopSignalChanged, SuggestionsReady,
                                    event_sink)
from reviewtui.tui.screens.base import WorkspaceScreen
from reviewtui.tui.widgets.filter_bar import FilterBar
from reviewtui.tui.widgets.stop_line import StopLine

# search and filter come right after the label keys: a narrow footer keeps the first keys
FIND_BINDINGS = [
    Binding("slash", "search", "Search", key_display="/", id="labeling.search"),
    Binding("f", "filter", "Filter", id="labeling.filter"),
]
LOOP_BINDINGS = [
    Binding("B", "bulk_label", "Bulk label", id="labeling.bulk"),
    Binding("U", "undo_bulk", "Undo bulk label", show=False, id="labeling.undo_bulk"),
    Binding("L", "learning_curves", "Curves", id="labeling.curves"),
]
#: the keys first: at 80 columns the end of a placeholder is cut
SEARCH_HINT = 'enter: apply, empty: clear, esc · words to find: refund OR "money back", crash*, login NOT password'
#: the filter bar's placeholder; {category} is the taxonomy's first trained key
FILTER_HINT = "empty: clear · stars=1-2 version=4.5 date=2025-03-01..2025-03-31 predicted={category} confidence=<0.6"


class LoopControls(WorkspaceScreen):
    """The base of the labeling screen, which provides ``items``, ``index``, ``assist``,
    ``done_loading``, ``count_labels``, ``labels_since_rank``, ``maybe_rerank``, ``load_queue`` and
    ``render_review``."""

    AUTO_FOCUS = ""  # the keys label; the filter input takes the focus only on / or f
    search_text = ""
    filter_text = ""
    filter_total: int | None = None
    suggestion_info: Any = None  # active.Suggestions: where the suggestions come from
    embedding: tuple[int, int] | None = None  # (done, total) while the labeled reviews are embedded

    # -- hooks the labeling screen calls -------------------------------------------------------
    def compose_filter_bar(self) -> ComposeResult:
        yield FilterBar()

    def compose_stop_line(self) -> ComposeResult:
        yield StopLine()

    def start_loop(self) -> None:
        """On mount: the stop line, and with suggestions on, the quick model fitted now (or the
        zero-shot prior before any model)."""
        self.load_stop_line()
        if getattr(self, "assist", False):
            self.prepare_suggestions()

    @property
    def filtered(self) -> bool:
        return bool(self.search_text or self.filter_text)

    def queue_scope(self) -> dict[str, Any]:
        """The filter as ``Workspace.queue_batch``/``find`` take it."""
        return {"filters": self.filter_text, "search": self.search_text or None}

    def filtered_page(self, seen: list[str], limit: int) -> list[Asset]:
        """In a worker: the next ``limit`` reviews of the filtered queue not in ``seen``."""
        ws = self.ws
        scope = self.queue_scope()
        found = ws.find(limit=len(seen) + limit, **scope)
        self.post_message(FilterApplied(found.describe(), found.total, scope,
                                        ws.missing_version(found.filter) if found.total == 0 else None))
        skip = set(seen)
        return [ws.store.get(e) for e in found.ids if e not in skip][:limit]

    def recount(self) -> None:
        """After a change that can move a review in or out of the filtered queue (a label or a
        relabel, a skip, an undo, a review sent to review): the filter line counts it again."""
        if self.filtered and not getattr(self, "in_review_queue", False):
            self.count_filtered(self.queue_scope())

    @work(thread=True, exclusive=True, group="filter-count", exit_on_error=False)
    def count_filtered(self, scope: dict[str, Any]) -> None:
        found = self.ws.find(limit=0, **scope)
        why = self.ws.missing_version(found.filter) if found.total == 0 else None
        if self.still_wanted():  # not replaced by a count after a later change
            self.post_message(FilterApplied(found.describe(), found.total, scope, why))

    def note_suggestions(self, suggestions: Any) -> None:
        if getattr(suggestions, "source", None) is not None:
            self.suggestion_info = suggestions

    def after_suggestions(self) -> None:
        """In a worker, after suggestions were computed: record the stop signal's round when the
        model was refitted for them."""
        ws = self.ws
        if ws.record_refit() is not None:
            self.post_message(StopSignalChanged(ws.stop_summary()))

    def after_rerank(self) -> None:
        """In the re-rank worker: the stop line after the refit."""
        self.post_message(StopSignalChanged(self.ws.stop_summary()))

    def embedding_text(self) -> str | None:
        """The model box while the quick model's labeled reviews are embedded (the first time:
        minutes for thousands on a CPU), or None."""
        if self.embedding is None or self.suggestion_info is not None:
            return None
        done, total = self.embedding
        # three short lines: the panel is 30 cells wide and a short terminal has few rows for it
        return (f"[dim]embedding the labeled reviews\n{done:,} of {total:,} ({done / max(1, total):.0%})\n"
                "first time only (then cached)[/dim]")

    def waiting_text(self) -> str:
        """The model box while the review on screen has no suggestion."""
        info = self.suggestion_info
        if info is None:
            return "[dim]preparing suggestions…[/dim]"
        if not info.source:
            return f"[dim]{say.suggestion_source('', 0, 0.0)}[/dim]"
        return "[dim]suggestion coming…[/dim]"

    def source_text(self) -> str:
        """Under a suggestion: where it comes from (zero-shot marked as such)."""
        info = self.suggestion_info
        if info is None or not info.source:
            return ""
        text = say.suggestion_source(info.source, info.labels, info.prior_weight, info.from_names)
        return f"\n[i]{text}[/i]" if info.source == "zero-shot" else f"\n[dim]{text}[/dim]"

    # -- workers ----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="prepare", exit_on_error=False)
    def prepare_suggestions(self) -> None:
        ws = self.ws
        if ws.store.count_to_label() == 0:
            return  # nothing left to label: no suggestion is wanted, and the first fit can take minutes
        self.post_message(SuggestionsReady(ws.prepare_suggestions(on_event=event_sink(self, "suggestions-embed"))))
        self.after_suggestions()

    @on(CoreEvent)
    def embedding_progressed(self, message: CoreEvent) -> None:
        event = message.event
        if message.group != "suggestions-embed" or not isinstance(event, Progress) or event.task != "embed":
            return
        self.embedding = (event.done, event.total or event.done)
        screen: Any = self
        screen.query_one("#suggestion").update(screen.suggestion_text(screen.current))

    @work(thread=True, exclusive=True, group="stop", exit_on_error=False)
    def load_stop_line(self) -> None:
        self.post_message(StopSignalChanged(self.ws.stop_summary()))

    @on(StopSignalChanged)
    def show_stop(self, message: StopSignalChanged) -> None:
        self.query_one(StopLine).show(message.summary)

    @on(FilterApplied)
    def show_filter(self, message: FilterApplied) -> None:
        # a count for another filter (changed since), or while a review queue is shown, is not this line's
        if not self.filtered or message.scope != self.queue_scope() or getattr(self, "in_review_queue", False):
            return
        self.filter_total = message.total
        if message.total == 0:  # nothing to bulk label: say how to clear what keeps nothing
            self.query_one(FilterBar).show(f"filter: {message.description} · {message.why or 'no review matches'}"
                                           f" · {self.clear_hint()}")
            return
        self.query_one(FilterBar).show(
            say.filter_header(message.description, message.total) + " · B label them all")

    def clear_hint(self) -> str:
        """How to clear the search and the filter in use (their input, emptied, then enter)."""
        if self.search_text and self.filter_text:
            return "to clear them: / (search) and f (filter), each with backspace, enter"
        return f"to clear it: {'/' if self.search_text else 'f'}, backspace, enter"

    # -- search and filters -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # while the search or filter is typed, "/" is a character of it: the footer leaves the key out
        if action == "search" and isinstance(self.focused, Input):
            return False
        return True

    def in_labeling_queue(self) -> bool:
        """Search and filters narrow the labeling queue (A), not the review queues (S, T, D)."""
        if getattr(self, "in_review_queue", False):
            self.notify("search and filters narrow the labeling queue: press A first", severity="warning")
            return False
        return True

    def queue_chosen(self) -> None:
        """After A/S/T/D: a review queue is not filtered (the filter stays for the labeling queue,
        whose first page shows it again)."""
        if self.filtered and getattr(self, "in_review_queue", False):
            self.query_one(FilterBar).show("this review queue is not filtered: A goes back to the filtered queue")

    def action_search(self) -> None:
        self.open_filter_bar("search", self.search_text, SEARCH_HINT)

    def action_filter(self) -> None:
        keys = self.ws.taxonomy.training_keys or self.ws.taxonomy.keys
        self.open_filter_bar("filter", self.filter_text, FILTER_HINT.format(category=keys[0] if keys else "KEY"))

    def open_filter_bar(self, kind: str, value: str, hint: str) -> None:
        """/ or f: the input takes the keys typed next, in a review queue too (they labeled,
        skipped or confirmed reviews there); enter applies it to the labeling queue and goes back
        to it, escape stays in the review queue."""
        if getattr(self, "in_review_queue", False):
            self.notify(f"the {kind} narrows the labeling queue: enter applies it there (A), escape stays here",
                        markup=False)
        self.query_one(FilterBar).open(kind, value, hint)

    @on(FilterBar.Submitted)
    def apply_filter(self, message: FilterBar.Submitted) -> None:
        search = message.value if message.kind == "search" else self.search_text
        text = message.value if message.kind == "filter" else self.filter_text
        try:
            self.ws.check_queue_filter(text, search or None)  # the queue stays as it is when refused
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.search_text, self.filter_text = search, text
        if not self.filtered:
            self.filter_total = None
            self.query_one(FilterBar).show(None)
        if getattr(self, "in_review_queue", False):
            screen: Any = self
            screen.action_queue("active")  # typed in a review queue: the labeling queue, filtered
            return
        self.restart_queue()

    def restart_queue(self) -> None:
        """Load the queue again from its start (the filter changed, or a bulk label emptied it)."""
        screen: Any = self
        del screen.items[:]
        screen.done_loading = False
        if screen.index != 0:
            screen.index = 0
        screen.render_review()
        screen.load_queue()

    # -- bulk label -------------------------------------------------------------------------
    def action_bulk_label(self) -> None:
        from reviewtui.tui.screens.bulk import BulkLabelDialog

        ws = self.ws
        if not self.in_labeling_queue():
            return
        if not self.filtered:
            self.notify("B labels the filtered queue: search with / or filter with f first",
                        severity="warning")
            return
        try:
            found = ws.find(limit=1, **self.queue_scope())
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        if found.total == 0:
            self.notify("the filtered queue is empty: nothing to label", severity="warning")
            return
        categories = [(c.key, c.name) for c in ws.taxonomy.categories]

        def done(key: str | None) -> None:
            if key:
                self.bulk_label(key, found.total)

        self.app.push_screen(BulkLabelDialog(found.total, found.describe(), categories), done)

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def bulk_label(self, key: str, expected: int) -> None:
        ws = self.ws
        found = ws.find(**self.queue_scope())
        try:
            result = ws.bulk_label(found.ids, key, expected=expected)
        except ReviewtuiError as exc:  # the set changed since the question (a teammate labeled some)
            self.app.call_from_thread(self.bulk_refused, str(exc))
            return
        self.post_message(BulkLabeled(result))

    def bulk_refused(self, text: str) -> None:
        """Say why nothing was labeled, and show the filtered queue as it is now (its count too)."""
        self.error(text)
        self.restart_queue()

    @on(BulkLabeled)
    def bulk_labeled(self, message: BulkLabeled) -> None:
        screen: Any = self
        screen.notify(say.bulk_sentence(message.result, screen.ws.taxonomy), markup=False)
        screen.count_labels(message.result.external_ids)  # each review of the set now has the chosen label
        screen.labels_since_rank += message.result.recorded
        self.restart_queue()
        every = screen.retrain_every
        if every and screen.assist and screen.labels_since_rank >= every:
            # many labels at once: the model, the stop line and the learning curves catch up (the
            # filtered queue itself may have nothing left to rank)
            screen.labels_since_rank = 0
            self.refit_model()

    def action_undo_bulk(self) -> None:
        self.undo_bulk()

    @work(thread=True, exclusive=True, group="undo-bulk", exit_on_error=False)
    def undo_bulk(self) -> None:
        events = self.ws.undo_bulk()  # thousands of reviews take a second: off the screen's thread
        self.app.call_from_thread(self.bulk_undone, events)

    def bulk_undone(self, events: list) -> None:
        self.notify(say.undo_bulk_sentence(events, self.ws.taxonomy, undo="u"), markup=False)
        if events:
            screen: Any = self
            screen.count_labels([e.external_id for e in events], -1)
            screen.labels_since_rank = max(0, screen.labels_since_rank - len(events))
            self.restart_queue()  # the reviews are back in the queue

    @work(thread=True, exclusive=True, group="suggestions-refit", exit_on_error=False)
    def refit_model(self, ids: list[str] | None = None) -> None:
        """Refit the suggestions' model on the labels so far (after a bulk label, labels given in a
        review queue, which ranks no labeling queue, or an undo of a label the model learnt); the
        reviews ``ids`` get their suggestions from the new fit; the stop line follows."""
        self.post_message(SuggestionsReady(self.ws.suggestions(list(ids or []), refit=True)))
        self.after_suggestions()

    # -- learning curves --------------------------------------------------------------------
    def action_learning_curves(self) -> None:
        from reviewtui.tui.screens.curves import LearningCurvesScreen

        ws = self.ws
        self.app.push_screen(LearningCurvesScreen(ws.stop_summary(), ws.category_needs(),
                                                  ws.learning_curves(), ws.taxonomy))
