"""Where the labeling screen's reviews come from: its queues.

* ``active``         the labeling queue (active learning orders it): the reviews to label next;
* ``suspects``       labels that are probably wrong (:meth:`Workspace.suspects`), most suspect first;
* ``stars``          reviews whose stars contradict their text (:meth:`Workspace.star_conflicts`);
* ``disagreements``  reviews on which authors' latest labels differ (:meth:`Workspace.disagreements`).

The last three are review queues: each review comes with a :class:`QueueNote` (the label the
queue suggests, how sure, and why), its current label can be confirmed, and a review someone
confirmed is not offered again while it keeps that label. A source is called from the screen's
thread worker (:meth:`QueueSource.page`); the suspects and the stars are computed once and paged
from memory until the screen asks for them afresh (after a retrain, or ``r``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from textual.binding import Binding

from reviewtui import presentation as say

if TYPE_CHECKING:
    from reviewtui.events import EventSink
    from reviewtui.store import Asset
    from reviewtui.workspace import Workspace


@dataclass(frozen=True)
class QueueNote:
    """Why a review is in a review queue: the label the queue suggests (None when it suggests
    none), with what confidence, and the reason in one line."""

    suggested: str | None
    confidence: float | None
    reason: str
    #: (the review's label when listed, the model's probability of it): the suspects' queue
    label_probability: tuple[str, float] | None = None


@dataclass
class QueuePage:
    """The next reviews of a queue (fewer than ``asked``: the queue's end), each review queue's
    notes by external id, and a sentence about the whole queue (how many, how computed)."""

    assets: list["Asset"]
    asked: int
    notes: dict[str, QueueNote] = field(default_factory=dict)
    summary: str = ""


class QueueSource:
    """One queue. ``name`` is its id, ``title`` what the screen calls it, ``key`` its binding."""

    name = ""
    title = ""
    key = ""
    reviews = True  # a review queue: labeled reviews with a note each; c confirms

    def page(self, ws: "Workspace", limit: int, exclude: Sequence[str], *, fresh: bool = False,
             cancel: threading.Event | None = None, on_event: "EventSink | None" = None) -> QueuePage:
        """The next ``limit`` reviews not in ``exclude``; ``fresh`` recomputes the queue first
        (``on_event`` gets its Progress: the first embedding of thousands of labeled reviews takes
        minutes on a CPU). Raises ReviewtuiError when the queue cannot be built (too few labels,
        no sentiment)."""
        raise NotImplementedError


class ActiveQueue(QueueSource):
    name, title, key, reviews = "active", "active learning", "A", False

    def page(self, ws, limit, exclude, *, fresh=False, cancel=None, on_event=None) -> QueuePage:
        return QueuePage(ws.queue(limit, exclude=list(exclude)), limit)


class CachedQueue(QueueSource):
    """A review queue computed once (in a worker) and paged from memory until asked afresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._report: Any = None
        self.computed = 0  # how many times the queue was built

    def compute(self, ws: "Workspace", cancel: threading.Event | None, on_event: "EventSink | None" = None) -> Any:
        raise NotImplementedError

    def entries(self, report: Any, taxonomy: Any = None) -> list[tuple[str, str | None, QueueNote]]:
        """(external id, the label the entry was judged with, note) in queue order; the notes name
        the categories as ``taxonomy`` does."""
        raise NotImplementedError

    def summary(self, report: Any) -> str:
        return ""

    def page(self, ws, limit, exclude, *, fresh=False, cancel=None, on_event=None) -> QueuePage:
        with self._lock:
            report = None if fresh else self._report
        if report is None:
            report = self.compute(ws, cancel, on_event)
            with self._lock:
                self._report = report
                self.computed += 1
        skip = set(exclude)
        out = QueuePage([], limit, summary=self.summary(report))
        for ext, label, note in self.entries(report, ws.taxonomy):
            if len(out.assets) >= limit:
                break
            if ext in skip:
                continue
            asset = ws.store.find(ext)
            if asset is None or (label is not None and asset.label != label):
                continue  # relabeled since the queue was computed: it is judged again next time
            out.assets.append(asset)
            out.notes[ext] = note
        return out


class SuspectsQueue(CachedQueue):
    name, title, key = "suspects", "suspect labels", "S"

    def compute(self, ws, cancel, on_event=None):
        return ws.suspects(cancel=cancel, on_event=on_event)

    def entries(self, report, taxonomy=None):
        return [(s.external_id, s.label, QueueNote(s.suggested, s.confidence, say.suspect_reason(s, taxonomy),
                                                   (s.label, s.label_probability)))
                for s in report.suspects]

    def summary(self, report) -> str:
        return say.suspects_sentence(report)


class StarsQueue(CachedQueue):
    name, title, key = "stars", "stars vs text", "T"

    def compute(self, ws, cancel, on_event=None):
        return ws.star_conflicts(cancel=cancel, on_event=on_event)

    def entries(self, report, taxonomy=None):
        return [(c.external_id, c.label, QueueNote(None, None, say.star_reason(c, report.analyzer)))
                for c in report.open]

    def summary(self, report) -> str:
        return say.stars_sentence(report)


class DisagreementsQueue(QueueSource):
    name, title, key = "disagreements", "disagreements", "D"

    def page(self, ws, limit, exclude, *, fresh=False, cancel=None, on_event=None) -> QueuePage:
        items = ws.disagreements()
        skip = set(exclude)
        out = QueuePage([], limit, summary=f"{len(items)} reviews on which authors disagree (confirmed ones left out).")
        for d in items:
            if len(out.assets) >= limit:
                break
            asset = ws.store.find(d.external_id)
            if d.external_id in skip or asset is None:
                continue
            out.assets.append(asset)
            out.notes[d.external_id] = QueueNote(None, None, say.disagreement_reason(d.labels, ws.taxonomy))
        return out


def queue_sources() -> dict[str, QueueSource]:
    """A fresh source of each queue, by name, in the order the keys list them."""
    return {q.name: q for q in (ActiveQueue(), SuspectsQueue(), StarsQueue(), DisagreementsQueue())}


#: The queue keys of the labeling screen, and c (confirm the current label).
QUEUE_BINDINGS = [
    Binding("A", "queue('active')", "Queue: active learning", show=False, id="labeling.queue.active"),
    Binding("S", "queue('suspects')", "Queue: suspect labels", show=False, id="labeling.queue.suspects"),
    Binding("T", "queue('stars')", "Queue: stars vs text", show=False, id="labeling.queue.stars"),
    Binding("D", "queue('disagreements')", "Queue: disagreements", show=False, id="labeling.queue.disagreements"),
    Binding("c", "confirm", "Confirm label", id="labeling.confirm"),
]
