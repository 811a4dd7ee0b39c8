"""The labeling screen's queue selector (its base class): the active-learning queue and the review
queues of :mod:`reviewtui.tui.queues`.

A (active learning), S (suspect labels), T (stars vs text) and D (disagreements) switch the queue;
c confirms the current review's label (it is kept and remembered: the review queues do not offer it
again while it keeps that label). In a review queue the side panel says what the queue suggests
and why; a number key writes a new label as anywhere else. The suspects are ranked again after
every ``[active_learning] retrain_every`` labels (0: only when r asks), like the labeling queue, and
in every review queue the model is refitted then (the stop line follows).
A review queue is built in the screen's queue worker and comes back as a ReviewQueueLoaded message.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.markup import escape
from textual import on

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.modeling import Cancelled
from reviewtui.events import Progress
from reviewtui.tui.messages import CoreEvent, ReviewQueueLoaded, event_sink
from reviewtui.tui.queues import QueueNote, QueueSource, queue_sources
from reviewtui.tui.screens.base import WorkspaceScreen


class ReviewQueueScreen(WorkspaceScreen):
    """What the labeling screen needs of it: ``items``, ``index``, ``suggestions``,
    ``done_loading``, ``current``, ``render_review``, ``replace_current``, ``advance`` and
    ``load_queue`` (which calls :meth:`review_page` while a review queue is chosen)."""

    def __init__(self) -> None:
        super().__init__()
        self.sources = queue_sources()
        self.queue_name = "active"
        self.notes: dict[str, QueueNote] = {}
        self.confirmed_here: dict[str, str] = {}  # external id -> the label confirmed in this session
        self.generation = 0  # how many times a queue was chosen: a page of an earlier choice is dropped
        self.fresh = False
        self.cancel_queue = threading.Event()
        self.building: tuple[str, int, int] | None = None  # (task, done, total) while a review queue is built

    # -- the chosen queue -------------------------------------------------------------------
    @property
    def queue(self) -> QueueSource:
        return self.sources[self.queue_name]

    @property
    def in_review_queue(self) -> bool:
        return self.queue.reviews

    def action_queue(self, name: str) -> None:
        """A/S/T/D: show the reviews of queue ``name`` (built afresh)."""
        if name not in self.sources:
            self.notify(f"no queue {name!r}", severity="warning")
            return
        self.cancel_queue.set()  # a suspects computation still running for the previous choice stops
        self.cancel_queue = threading.Event()
        self.queue_name = name
        self.generation += 1
        self.fresh = True
        self.building = None
        self.items.clear()  # type: ignore[attr-defined]
        self.notes.clear()
        self.suggestions.clear()  # type: ignore[attr-defined]
        self.done_loading = False
        self.set_reactive(type(self).index, 0)  # type: ignore[attr-defined]
        panel = self.query_one("#suggestion")
        panel.border_title = "Why" if self.in_review_queue else "Model"
        # the keys in the panel's bottom edge: at 80x24 its four lines are the label and the reason
        panel.border_subtitle = "c keep · 1-9 change" if self.in_review_queue else ""
        self.notify(f"queue: {self.queue.title}" + ("; finding the reviews…" if self.in_review_queue else ""),
                    markup=False)
        self.render_review()  # type: ignore[attr-defined]
        self.load_queue()  # type: ignore[attr-defined]

    def review_page(self, seen: list[str], limit: int) -> ReviewQueueLoaded:
        """The next page of the chosen review queue (in the screen's queue worker)."""
        name, generation, fresh, cancel = self.queue_name, self.generation, self.fresh, self.cancel_queue
        self.fresh = False
        sink = event_sink(self, f"queue-build:{generation}")
        try:
            page = self.sources[name].page(self.ws, limit, seen, fresh=fresh, cancel=cancel, on_event=sink)
        except Cancelled:
            return ReviewQueueLoaded(name, -1)  # another queue was chosen meanwhile: dropped
        except ReviewtuiError as exc:
            return ReviewQueueLoaded(name, generation, error=str(exc))
        return ReviewQueueLoaded(name, generation, page)

    @on(CoreEvent)
    def queue_build_progressed(self, message: CoreEvent) -> None:
        """A review queue being built (the suspects' first embedding of thousands of labeled reviews
        takes minutes on a CPU): its progress where the review will show."""
        event = message.event
        if (message.group != f"queue-build:{self.generation}" or not isinstance(event, Progress)
                or self.items):  # type: ignore[attr-defined]
            return
        self.building = (event.task, event.done, event.total or event.done)
        self.render_review()  # type: ignore[attr-defined]

    def loading_text(self) -> str:
        """The review pane while the chosen queue's first page is built."""
        if not self.in_review_queue or self.building is None:
            return "Loading the queue…"
        task, done, total = self.building
        # the stars-vs-text queue embeds the reviews that have stars, the others the labeled ones
        embedded = "the reviews with stars" if self.queue_name == "stars" else "the labeled reviews"
        what = {"embed": f"embedding {embedded} (the first time only, then cached)",
                "suspects": "fitting the out-of-fold models",
                "sentiment": "scoring the reviews' sentiment"}.get(task, task)
        return f"Finding the {self.queue.title}: {what}\n{done:,} of {total:,} ({done / max(1, total):.0%})"

    @on(ReviewQueueLoaded)
    def add_review_page(self, message: ReviewQueueLoaded) -> None:
        if message.name != self.queue_name or message.generation != self.generation:
            return
        self.building = None
        if message.error is not None:
            self.done_loading = True
            self.error(message.error)
            self.render_review()  # type: ignore[attr-defined]
            return
        page = message.page
        self.done_loading = len(page.assets) < page.asked
        if not self.items and page.summary:  # type: ignore[attr-defined]
            self.notify(page.summary, markup=False)
        seen = {a.external_id for a in self.items}  # type: ignore[attr-defined]
        self.items.extend(a for a in page.assets if a.external_id not in seen)  # type: ignore[attr-defined]
        self.notes.update(page.notes)
        for ext, note in page.notes.items():
            if note.suggested:
                self.suggestions[ext] = (note.suggested, note.confidence or 0.0)  # type: ignore[attr-defined]
        self.render_review()  # type: ignore[attr-defined]

    def rerank_review_queue(self, asked: bool) -> None:
        """Build the chosen review queue afresh and refill what comes after the current review:
        the suspects after every retrain, any review queue when r asks (``asked``)."""
        if not asked and self.queue_name != "suspects":
            return
        self.fresh = True
        self.notify(f"ranking the {self.queue.title} again", markup=False)
        del self.items[self.index + 1:]  # type: ignore[attr-defined]
        self.done_loading = False
        self.load_queue()  # type: ignore[attr-defined]

    # -- confirming -------------------------------------------------------------------------
    def action_confirm(self) -> None:
        """c: keep the current review's label, and remember that it was checked."""
        asset = self.current  # type: ignore[attr-defined]
        if asset is None:
            return
        if not asset.label:
            self.notify("this review has no label to confirm: label it with 1-9", severity="warning")
            return
        try:
            self.ws.confirm_label(asset.external_id, asset.label)
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.confirmed_here[asset.external_id] = asset.label
        self.replace_current(self.ws.store.get(asset.external_id))  # type: ignore[attr-defined]
        self.recount()  # type: ignore[attr-defined]  # a confirmed review leaves a status=TO_REVIEW filter
        self.advance()  # type: ignore[attr-defined]

    # -- what the side panel says -----------------------------------------------------------
    def queue_line(self) -> str:
        return f"[b]{escape(self.queue.title)}[/b]  [dim]A S T D[/dim]"

    def note_text(self, asset: Any) -> str | None:
        """The "Why" panel in a review queue (markup); None in the labeling queue."""
        if not self.in_review_queue:
            return None
        if asset is None:
            return "[dim]nothing to review here[/dim]"
        note = self.notes.get(asset.external_id)
        lines = []
        # the label first, then why (the keys are in the panel's edge: a short panel cuts the reason)
        if asset.label:
            label = escape(say.category_name(asset.label, self.ws.taxonomy))
            confirmed = self.confirmed_here.get(asset.external_id) == asset.label
            # its probability beside it: at 80x24 the reason line, which says it too, is cut
            listed = note.label_probability if note is not None else None
            own = f"  {say.percent(listed[1])}" if listed is not None and listed[0] == asset.label else ""
            lines.append(f"labeled [b]{label}[/b]{own}" + ("  [b]✓ confirmed[/b]" if confirmed else ""))
        else:
            lines.append("[dim]no label yet · 1-9: label it[/dim]")
        if note is not None and note.suggested:
            name = say.category_name(note.suggested, self.ws.taxonomy)
            lines.append(f"suggests [b]{escape(name)}[/b]  {say.percent(note.confidence)}")
        if note is not None:
            lines.append(escape(note.reason))
        return "\n".join(lines)

    def queue_end_text(self) -> str:
        """What the review pane says when the chosen queue has nothing (more) to show."""
        if not self.in_review_queue and getattr(self, "filtered", False):
            return ("No review left in the queue matches this search and filter.\n\n"
                    "Press / to search for something else or f to change the filter (an empty one clears it).")
        if not self.in_review_queue and not self.ws.store.count():  # (the store's kept counts: no read)
            return ("No reviews yet.\n\n"
                    "F1 opens the Status screen, where c collects reviews from Google Play; a file of reviews is "
                    "imported from a terminal: reviewtui import FILE.csv (CSV, JSON, Excel, Parquet).")
        if not self.in_review_queue:
            # the digits label on this screen: the other screens are F-keys here
            return ("Nothing left to label in the queue.\n\n"
                    "To read the labeled reviews again: S shows the suspect labels; f with status=LABELED "
                    "brings back every labeled review (add app=, stars=, or a search with /).\n\n"
                    "Press e to export a dataset version, F3 to diff versions, F4 to tune a model.")
        return (f"Nothing (more) to review in the {self.queue.title} queue.\n\n"
                "Press A to go back to the labeling queue, S, T or D for another review queue, r to build this one "
                "again.")
