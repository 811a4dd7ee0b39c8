"""Stars against text: reviews whose star score says the opposite of what their text says.

A 5-star review with a clearly negative text, or a 1-star review with a clearly positive one, is
often sarcastic, mis-tapped or mislabeled: worth a second look. "Clearly" means the sentiment
score (-1..1: VADER's compound, or p(positive) - p(negative) of a model) is at or beyond
``[quality] star_threshold`` on the other side. The sentiment analyzer is the workspace's
``[sentiment]`` option, given in (anything with ``analyze(texts) -> SentimentScores``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from reviewtui.events import EventSink

HIGH, LOW = 5, 1


@dataclass(frozen=True)
class StarConflict:
    """One review whose stars contradict its text. ``strength`` is how far the sentiment score
    goes against the stars (the score for a 1-star review, minus it for a 5-star one)."""

    external_id: str
    text: str
    stars: int
    sentiment: str
    score: float
    strength: float
    label: str | None = None
    confirmed: bool = False


@dataclass
class StarReport:
    """The conflicts, strongest first, out of ``checked`` 1- and 5-star reviews."""

    analyzer: str
    threshold: float
    checked: int
    items: list[StarConflict] = field(default_factory=list)

    @property
    def open(self) -> list[StarConflict]:
        """The conflicts whose label nobody confirmed yet."""
        return [c for c in self.items if not c.confirmed]

    def to_dict(self) -> dict[str, Any]:
        return {"analyzer": self.analyzer, "threshold": self.threshold, "checked": self.checked,
                "conflicts": [c.__dict__ for c in self.items]}


def star_value(score: Any) -> int | None:
    """A star score 1..5 as an int, None when missing or not a star score."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def conflicts_from_scores(external_ids: Sequence[str], texts: Sequence[str], stars: Sequence[int],
                          sentiments: Sequence[str], scores: Sequence[float], threshold: float, *,
                          labels: Sequence[str | None] | None = None,
                          confirmed: Mapping[str, str] | None = None) -> list[StarConflict]:
    """The 5-star rows scored <= -threshold and the 1-star rows scored >= threshold, strongest
    first (ties in input order)."""
    out: list[tuple[float, int, StarConflict]] = []
    confirmed = confirmed or {}
    for i, (ext, text, star, sent, score) in enumerate(zip(external_ids, texts, stars, sentiments, scores)):
        if star == HIGH:
            strength = -float(score)
        elif star == LOW:
            strength = float(score)
        else:
            continue
        if strength < threshold or strength <= 0:
            continue
        label = labels[i] if labels is not None else None
        out.append((-strength, i, StarConflict(str(ext), str(text), int(star), str(sent), float(score), strength,
                                               label, label is not None and confirmed.get(str(ext)) == label)))
    return [c for _, _, c in sorted(out, key=lambda t: (t[0], t[1]))]


def find_star_conflicts(store, analyzer, threshold: float, *, on_event: EventSink | None = None,
                        cancel: threading.Event | None = None) -> StarReport:
    """Reviews of the store (not skipped) with 1 or 5 stars (metadata ``score``) whose text
    ``analyzer`` scores clearly the other way; labels someone confirmed are marked. Only the 1-
    and 5-star texts are analyzed. Raises Cancelled when ``cancel`` is set."""
    rows = []
    for a in store.iter_assets(skipped=False):
        star = star_value(a.metadata.get("score"))
        if star in (LOW, HIGH):
            rows.append((a.external_id, a.text, star, a.label))
    name = str(getattr(analyzer, "name", "sentiment"))
    if not rows:
        return StarReport(name, threshold, 0)
    result = analyzer.analyze([r[1] for r in rows], on_event=on_event, cancel=cancel)
    items = conflicts_from_scores([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], result.labels,
                                  np.asarray(result.scores, dtype=float), threshold, labels=[r[3] for r in rows],
                                  confirmed=store.confirmed_labels())
    return StarReport(name, threshold, len(rows), items)
