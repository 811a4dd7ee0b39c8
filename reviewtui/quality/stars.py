"""Stars against text: reviews whose star score says the opposite of what their text says.

A 5-star review with a clearly negative text, or a 1-star review with a clearly positive one, is
often sarcastic, mis-tapped or mislabeled: worth a second look. "Clearly" means the sentiment
score (-1..1: VADER's compound, or p(positive) - p(negative) of a model) is at or beyond
``[quality] star_threshold`` on the other side. The sentiment analyzer is the workspace's
``[sentiment]`` option, given in (anything with ``analyze(texts) -> SentimentScores``).

With ``embed`` (the default judge), the text is read twice: by the analyzer, and by a model of the
stars of the other reviews (:func:`cross_fitted_star_scores`: a logistic regression on the
embeddings, k-fold, so no review is judged by a model that learnt from its own stars); the score
is their mean. A lexicon alone tops the queue with long complaints that use kind words ("This was a
good app until...": VADER +0.93 on a 1-star review), and with reviews in languages it cannot read;
the stars model reads what the reviews of this corpus with these words were given. Both must lean
the same way for a review to pass the threshold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from reviewtui.events import EventSink

HIGH, LOW = 5, 1
#: the least reviews with 1-2 or 4-5 stars the stars model learns from (fewer: the analyzer alone)
MIN_STARRED = 200
#: the most reviews with stars it embeds, learns from and judges: a larger corpus is judged on a
#: stable sample of them (embedding tens of thousands of reviews takes minutes on a CPU, and a
#: sample of this size already puts more contradictions in the queue than anyone reviews)
MAX_STARRED = 5_000
FOLDS = 5


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
    #: the reviews with 1 or 5 stars when ``checked`` is a sample of them, else None
    sampled_from: int | None = None

    @property
    def open(self) -> list[StarConflict]:
        """The conflicts whose label nobody confirmed yet."""
        return [c for c in self.items if not c.confirmed]

    def to_dict(self) -> dict[str, Any]:
        return {"analyzer": self.analyzer, "threshold": self.threshold, "checked": self.checked,
                "sampled_from": self.sampled_from, "conflicts": [c.__dict__ for c in self.items]}


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


def cross_fitted_star_scores(embeddings: np.ndarray, stars: Sequence[int], *, folds: int = FOLDS,
                             seed: int = 0) -> np.ndarray | None:
    """p(4-5 stars) - p(1-2 stars), from -1 to 1, of each review with 1, 2, 4 or 5 ``stars`` (NaN for
    3 stars), by a logistic regression on ``embeddings`` fitted on the other folds' reviews (never
    on its own stars). None when fewer than :data:`MIN_STARRED` reviews have 1-2 or 4-5 stars, or
    either side has fewer than ``folds``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    stars = np.asarray(stars)
    side = np.where(stars <= 2, 0, np.where(stars >= 4, 1, -1))
    idx = np.flatnonzero(side >= 0)
    counts = np.bincount(side[idx], minlength=2) if len(idx) else np.zeros(2, int)
    if len(idx) < MIN_STARRED or counts.min() < folds:
        return None
    out = np.full(len(stars), np.nan)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(idx, side[idx]):
        model = LogisticRegression(max_iter=1000, class_weight="balanced")
        model.fit(embeddings[idx[train]], side[idx[train]])
        out[idx[test]] = 2 * model.predict_proba(embeddings[idx[test]])[:, 1] - 1
    return out


def find_star_conflicts(store, analyzer, threshold: float, *,
                        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
                        on_event: EventSink | None = None, cancel: threading.Event | None = None) -> StarReport:
    """Reviews of the store (not skipped) with 1 or 5 stars (metadata ``score``) whose text
    ``analyzer`` scores clearly the other way; labels someone confirmed are marked. Only the 1-
    and 5-star texts are analyzed. With ``embed`` (texts -> embeddings) and at least
    :data:`MIN_STARRED` reviews with stars, the score is the mean of the analyzer's and
    :func:`cross_fitted_star_scores`'s, on a stable sample of :data:`MAX_STARRED` of them when there
    are more. Raises Cancelled when ``cancel`` is set."""
    starred = []  # 1, 2, 4 and 5 stars: what the stars model learns from; 1 and 5 are judged
    for a in store.iter_assets(skipped=False):
        star = star_value(a.metadata.get("score"))
        if star is not None and star != 3:
            starred.append((a.external_id, a.text, star, a.label))
    name = str(getattr(analyzer, "name", "sentiment"))
    confirmed = store.confirmed_labels()
    model = None
    if embed is not None and len(starred) >= MIN_STARRED:
        sample = stable_sample(starred, MAX_STARRED)
        model = cross_fitted_star_scores(embed([r[1] for r in sample]), [r[2] for r in sample])
    if model is not None:
        judged = [i for i, r in enumerate(sample) if r[2] in (LOW, HIGH)]
        rows = [sample[i] for i in judged]
        result = analyzer.analyze([r[1] for r in rows], on_event=on_event, cancel=cancel)
        lexicon, stars_model = np.asarray(result.scores, dtype=float), model[judged]
        # both judges must lean the same way: a review they disagree on is no contradiction
        scores = np.where(np.sign(lexicon) == np.sign(stars_model), (lexicon + stars_model) / 2, 0.0)
        sentiments = ["positive" if v > 0 else "negative" if v < 0 else "neutral" for v in scores]
        total = sum(1 for r in starred if r[2] in (LOW, HIGH))
        items = conflicts_from_scores([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], sentiments,
                                      scores, threshold, labels=[r[3] for r in rows], confirmed=confirmed)
        return StarReport(name + " + stars model", threshold, len(rows), items,
                          total if len(sample) < len(starred) else None)
    rows = [r for r in starred if r[2] in (LOW, HIGH)]
    if not rows:
        return StarReport(name, threshold, 0)
    result = analyzer.analyze([r[1] for r in rows], on_event=on_event, cancel=cancel)
    items = conflicts_from_scores([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], result.labels,
                                  np.asarray(result.scores, dtype=float), threshold, labels=[r[3] for r in rows],
                                  confirmed=confirmed)
    return StarReport(name, threshold, len(rows), items)


def stable_sample(rows: Sequence[tuple], n: int) -> list[tuple]:
    """At most ``n`` of ``rows`` (external id first), in their order: those whose ids hash lowest, so
    the sample keeps its reviews as the corpus grows."""
    if len(rows) <= n:
        return list(rows)
    import hashlib

    ranked = sorted(range(len(rows)), key=lambda i: hashlib.sha1(str(rows[i][0]).encode("utf-8")).digest())
    return [rows[i] for i in sorted(ranked[:n])]
