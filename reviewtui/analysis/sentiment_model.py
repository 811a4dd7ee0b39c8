"""Sentiment a team can trust: a model trained on the team's own sentiment labels, with the star
score as a feature, and its agreement with those labels measured by cross-validation.

Reading the stars alone (1-2 negative, 3 neutral, 4-5 positive) is a strong baseline and a weak
truth: a 3-star review is often a complaint, a 5-star one sometimes a bug report. So:

* :class:`TeamSentimentModel` is a logistic regression on the review's sentence embedding plus the
  star score (one-hot 1-5, "no score", and (stars - 3) / 2), trained on the team's sentiment labels
  (the store's sentiment history). Unlabeled reviews with a star score can join as weak examples
  with a small weight (``weak_weight``). Before the team has labeled enough (fewer than
  ``min_labels``, or not two sentiments), it learns from the stars' weak labels alone, on the
  text only (with the star as a feature it would merely copy the rule).
* :func:`compare_with_team` scores every option against the team's labels: the star rule and VADER
  directly, the star-trained head of :mod:`reviewtui.analysis.sentiment`, and the team models
  out-of-fold (each team label is predicted by a model that never saw it).

A Hugging Face sentiment model folder stays available through
:class:`reviewtui.analysis.sentiment.TransformerSentiment`; :func:`compare_with_team` takes its labels
as one more option (``extra``).

On a workspace: :class:`TeamAnalyzer` is ``[sentiment] model = "team"`` for ``reviewtui predict``, and
:func:`compare_store_with_team` is what ``reviewtui sentiment`` reports about the team's labels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from reviewtui.analysis.sentiment import (SENTIMENTS, STAR_HEAD_SAMPLE, Agreement, SentimentScores, agreement,
                                         star_label)
from reviewtui.errors import ReviewtuiError

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.events import EventSink
    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.settings import SentimentSettings
    from reviewtui.store import LocalStore

STAR_FEATURES = 7  # one-hot 1..5, "no score", ordinal


def star_score(value: Any) -> int | None:
    """A 1-5 star score as an int, None when there is none."""
    try:
        s = int(float(value))
    except (TypeError, ValueError):
        return None
    return s if 1 <= s <= 5 else None


def star_features(stars: Sequence[Any], weight: float = 1.0) -> np.ndarray:
    """(N, 7) float32: one-hot of the 1-5 score, a "no score" flag, and (score - 3) / 2 (0 without
    a score); all times ``weight``, which sets how much the stars count next to the unit-length
    text embedding."""
    out = np.zeros((len(stars), STAR_FEATURES), dtype=np.float32)
    for i, value in enumerate(stars):
        s = star_score(value)
        if s is None:
            out[i, 5] = 1.0
        else:
            out[i, s - 1] = 1.0
            out[i, 6] = (s - 3) / 2.0
    return out * float(weight)


@dataclass
class TeamSentimentModel:
    """Embeddings (+ star features) -> negative / neutral / positive.

    ``mode`` after :meth:`fit`: "team" (trained on team labels) or "stars" (too few team labels:
    trained on the stars' weak labels, text only)."""

    C: float = 1.0
    use_stars: bool = True
    star_weight: float = 1.0
    weak_weight: float = 0.0
    min_labels: int = 30
    class_weight: str | None = "balanced"
    mode: str = ""
    trained_on: dict[str, int] = field(default_factory=dict)
    _clf: Any = field(default=None, repr=False)

    def _features(self, X: np.ndarray, stars: Sequence[Any]) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if self.mode == "team" and self.use_stars:
            return np.hstack([X, star_features(stars, self.star_weight)])
        return X

    def fit(self, X: np.ndarray, stars: Sequence[Any], labels: Sequence[str | None]) -> "TeamSentimentModel":
        """Fit on embeddings ``X`` (N, D), star scores and team labels (None where a review has no
        team label). Raises ReviewtuiError when neither the team labels nor the stars give two
        sentiments to learn from."""
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        labels = [None if v is None or str(v).strip() == "" else str(v).strip().lower() for v in labels]
        bad = sorted({v for v in labels if v is not None and v not in SENTIMENTS})
        if bad:
            raise ReviewtuiError(f"unknown sentiment label(s) {', '.join(bad)}: use {', '.join(SENTIMENTS)}")
        team = [i for i, v in enumerate(labels) if v is not None]
        weak = [i for i, v in enumerate(labels) if v is None and star_label(stars[i]) is not None]
        rows: list[int]
        y: list[str]
        w: list[float]
        if len(team) >= self.min_labels and len({labels[i] for i in team}) >= 2:
            self.mode = "team"
            rows, y, w = list(team), [labels[i] for i in team], [1.0] * len(team)  # type: ignore[misc]
            if self.weak_weight > 0:
                rows += weak
                y += [star_label(stars[i]) for i in weak]  # type: ignore[misc]
                w += [self.weak_weight] * len(weak)
        else:
            self.mode = "stars"
            rows = [i for i in range(len(labels)) if star_label(stars[i]) is not None]
            y, w = [star_label(stars[i]) for i in rows], [1.0] * len(rows)  # type: ignore[misc]
            if len(set(y)) < 2:
                raise ReviewtuiError(
                    f"the sentiment model has {len(team)} team sentiment labels (it needs {self.min_labels} "
                    "of at least two sentiments) and no star scores of two kinds to start from: label the "
                    "sentiment of more reviews, or use vader")
        Z = self._features(np.asarray(X)[rows], [stars[i] for i in rows])
        weights = np.asarray(w, dtype=np.float64)
        if self.class_weight == "balanced":
            # balanced over the labels the model learns from first (the team's, in team mode): weak
            # labels keep their small weight, so a sentiment only the stars use (3 stars: neutral,
            # where the team reads a complaint) is not weighted up over the team's own reading
            primary = y[:len(team)] if self.mode == "team" else y
            values, counts = np.unique(np.asarray(primary, dtype=object), return_counts=True)
            balance = {v: len(primary) / (len(values) * c) for v, c in zip(values, counts)}
            weights = weights * np.asarray([balance.get(v, 1.0) for v in y])
        self._clf = LogisticRegression(C=self.C, max_iter=2000)
        with threadpool_limits(limits=1, user_api="blas"):
            self._clf.fit(Z, np.asarray(y, dtype=object), sample_weight=weights)
        self.trained_on = {"team": len(team) if self.mode == "team" else 0,
                           "weak": (len(weak) if self.weak_weight > 0 else 0) if self.mode == "team" else len(rows)}
        return self

    def predict_proba(self, X: np.ndarray, stars: Sequence[Any]) -> np.ndarray:
        """(N, 3) probabilities in SENTIMENTS order (zeros for a sentiment it never saw)."""
        if self._clf is None:
            raise ReviewtuiError("the sentiment model is not trained yet")
        out = np.zeros((len(X), len(SENTIMENTS)), dtype=np.float64)
        if len(X) == 0:
            return out
        p = self._clf.predict_proba(self._features(X, stars))
        for j, c in enumerate(self._clf.classes_):
            out[:, SENTIMENTS.index(str(c))] = p[:, j]
        return out

    def predict(self, X: np.ndarray, stars: Sequence[Any]) -> list[str]:
        p = self.predict_proba(X, stars)
        return [SENTIMENTS[j] for j in p.argmax(1)] if len(p) else []

    def scores(self, X: np.ndarray, stars: Sequence[Any]) -> SentimentScores:
        """Labels and polarity p(positive) - p(negative), as the other analyzers answer."""
        p = self.predict_proba(X, stars)
        labels = [SENTIMENTS[j] for j in p.argmax(1)] if len(p) else []
        return SentimentScores(f"team ({self.mode})", labels, (p[:, 2] - p[:, 0]).astype(np.float32))


# --- agreement with the team ----------------------------------------------------------------------
@dataclass
class TeamComparison:
    """Agreement of each option with the team's sentiment labels on ``n`` labeled reviews."""

    n: int
    folds: int
    team_distribution: dict[str, int]
    agreements: list[Agreement]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "folds": self.folds, "team_distribution": self.team_distribution,
                "agreements": [a.__dict__ for a in self.agreements]}


def out_of_fold(make: Callable[[], TeamSentimentModel], X: np.ndarray, stars: Sequence[Any],
                labels: Sequence[str | None], *, folds: int = 5, seed: int = 0) -> list[str]:
    """Out-of-fold predictions for every team-labeled review (in their order): each fold's model is
    fitted on the other folds' team labels (plus every unlabeled review, for weak labels) and never
    sees the fold's labels."""
    from sklearn.model_selection import StratifiedKFold

    team = np.asarray([i for i, v in enumerate(labels) if v is not None])
    y = np.asarray([labels[i] for i in team], dtype=object)
    _, counts = np.unique(y, return_counts=True)
    k = int(min(folds, counts.min()))
    if k < 2 or len(counts) < 2:
        raise ReviewtuiError("too few team sentiment labels per sentiment to cross-validate: label at least two "
                             "reviews of each of two sentiments")
    out = np.empty(len(team), dtype=object)
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        hidden = set(team[te].tolist())
        train_labels = [None if i in hidden else v for i, v in enumerate(labels)]
        model = make().fit(X, stars, train_labels)
        out[te] = model.predict(X[team[te]], [stars[i] for i in team[te]])
    return [str(v) for v in out]


def compare_with_team(X: np.ndarray, texts: Sequence[str], stars: Sequence[Any], labels: Sequence[str | None], *,
                      folds: int = 5, seed: int = 0, C: float = 1.0, weak_weight: float = 0.1,
                      extra: dict[str, Sequence[str]] | None = None) -> TeamComparison:
    """Score the sentiment options against the team's labels (``labels``: a sentiment or None per
    review; ``X`` the reviews' embeddings, ``texts`` for VADER, ``stars`` the scores):

    * "star rule" (no score: neutral) and "vader", directly;
    * "stars head": text-only, trained on the weak star labels of every review (the ``stars`` option);
    * "team (text only)", "team (text + stars)" and "team (text + stars + weak labels)": out-of-fold;
    * each of ``extra`` (name -> labels for every review, e.g. an HF sentiment model's), directly.

    Raises ReviewtuiError when there are too few team labels to cross-validate."""
    from reviewtui.analysis.sentiment import VaderAnalyzer

    labels = [None if v is None or str(v).strip() == "" else str(v).strip().lower() for v in labels]
    team = [i for i, v in enumerate(labels) if v is not None]
    if not team:
        raise ReviewtuiError("no review has a team sentiment label yet: label some (the sentiment keys of the "
                             "labeling screen) before measuring agreement with the team")
    ref = [labels[i] for i in team]
    results: list[Agreement] = []
    results.append(agreement("star rule (1-2 negative, 3 neutral, 4-5 positive)", ref,
                             [star_label(stars[i]) or "neutral" for i in team]))
    vader = VaderAnalyzer().analyze([texts[i] for i in team])
    results.append(agreement("vader", ref, vader.labels))
    head = TeamSentimentModel(C=C, min_labels=10**9).fit(X, stars, [None] * len(labels))
    results.append(agreement("stars head (text, trained on star labels)", ref,
                             head.predict(X[team], [stars[i] for i in team])))
    k = min(folds, len(team))
    for name, kwargs in (("team labels (text only)", {"use_stars": False}),
                         ("team labels (text + stars)", {"use_stars": True}),
                         (f"team labels (text + stars, weak star labels at weight {weak_weight:g})",
                          {"use_stars": True, "weak_weight": weak_weight})):
        pred = out_of_fold(lambda kw=kwargs: TeamSentimentModel(C=C, min_labels=1, **kw), X, stars, labels,
                           folds=k, seed=seed)
        results.append(agreement(name, ref, pred, cross_validated=True))
    for name, pred_all in (extra or {}).items():
        results.append(agreement(name, ref, [pred_all[i] for i in team]))
    return TeamComparison(len(team), k, {s: ref.count(s) for s in SENTIMENTS}, results)


# --- the workspace's team model and agreement -------------------------------------------------------
def labeled_pool(store: "LocalStore", *, sample: int | None = 5000, seed: int = 0):
    """(assets, team labels) for fitting and measuring: every asset with a team sentiment label, then
    the others that have a 1-5 star score (a seeded sample of at most ``sample``; None: all), whose
    stars give weak labels. ``labels[i]`` is the team's sentiment or None."""
    sentiments = store.sentiments()
    assets = list(store.iter_assets())
    labeled = [a for a in assets if a.external_id in sentiments]
    others = [a for a in assets if a.external_id not in sentiments and star_score(a.metadata.get("score")) is not None]
    if sample and len(others) > sample:
        rng = np.random.default_rng(seed)
        others = [others[i] for i in sorted(rng.choice(len(others), size=sample, replace=False))]
    pool = labeled + others
    return pool, [sentiments[a.external_id].sentiment if a.external_id in sentiments else None for a in pool]


class TeamAnalyzer:
    """``[sentiment] model = "team"`` for ``reviewtui predict``: a :class:`TeamSentimentModel` fitted
    on the workspace's sentiment labels (the stars' weak labels before there are
    ``settings.min_team_labels``), answering like the other analyzers (``analyze(texts)``). A
    review's star score is looked up by its text among the workspace's reviews."""

    name = "team"

    def __init__(self, store: "LocalStore", cache: "EmbeddingCache", settings: "SentimentSettings",
                 C: float = 1.0) -> None:
        self.store = store
        self.cache = cache
        self.settings = settings
        self.C = C
        self.model: TeamSentimentModel | None = None
        self.stars_by_text: dict[str, Any] = {}
        self._key = ""

    def fit(self, on_event: "EventSink | None" = None, cancel: "threading.Event | None" = None) -> "TeamAnalyzer":
        """Fit on every review with a team label, and the star scores of up to 20,000 others. Raises
        ReviewtuiError when neither gives two sentiments to learn from."""
        import hashlib

        # every team label, and the stars' weak labels of at most STAR_HEAD_SAMPLE other reviews: at a
        # million reviews all of them would be embedded and held at once for a linear model
        pool, labels = labeled_pool(self.store, sample=STAR_HEAD_SAMPLE)
        for a in self.store.iter_assets():
            self.stars_by_text.setdefault(a.text, a.metadata.get("score"))
        stars = [a.metadata.get("score") for a in pool]
        X = self.cache.embed([a.text for a in pool], on_event=on_event, cancel=cancel)
        self.model = TeamSentimentModel(C=self.C, min_labels=self.settings.min_team_labels,
                                        weak_weight=self.settings.weak_weight).fit(X, stars, labels)
        digest = hashlib.sha1("\n".join(f"{a.external_id}={v}" for a, v in zip(pool, labels) if v).encode())
        self._key = f"{self.model.mode}:{len(pool)}:{digest.hexdigest()[:12]}"
        return self

    def fingerprint(self) -> str:
        return (f"team:{self.cache.folder.name}:{self._key}:{self.C}:{self.settings.min_team_labels}:"
                f"{self.settings.weak_weight}")

    def analyze(self, texts: Sequence[str], on_event: "EventSink | None" = None,
                cancel: "threading.Event | None" = None) -> SentimentScores:
        if self.model is None:
            raise ReviewtuiError("the team sentiment model is not trained yet")
        X = self.cache.embed([str(t) for t in texts], on_event=on_event, cancel=cancel)
        return self.model.scores(X, [self.stars_by_text.get(str(t)) for t in texts])


def compare_store_with_team(store: "LocalStore", cache: "EmbeddingCache", settings: "SentimentSettings", *,
                            extra: dict[str, Callable[[Sequence[str]], Sequence[str]]] | None = None,
                            sample: int | None = 5000, folds: int = 5, seed: int = 0,
                            on_event: "EventSink | None" = None,
                            cancel: "threading.Event | None" = None) -> TeamComparison:
    """:func:`compare_with_team` on a workspace: its team-labeled reviews, plus a seeded sample of at
    most ``sample`` other reviews with star scores (the weak labels' pool), embedded through
    ``cache``. ``extra`` maps an option's name to a function labeling texts (a Hugging Face
    sentiment model folder). Raises ReviewtuiError when no review has a team sentiment label, or
    too few to cross-validate."""
    pool, labels = labeled_pool(store, sample=sample, seed=seed)
    if not any(v is not None for v in labels):
        raise ReviewtuiError("no review has a team sentiment label yet: label the sentiment of some (the - 0 + "
                             "keys of the labeling screen; `reviewtui label ID --sentiment positive`; or "
                             "`reviewtui label --from FILE` with a sentiment column) before measuring agreement "
                             "with the team")
    texts = [a.text for a in pool]
    X = cache.embed(texts, on_event=on_event, cancel=cancel)
    extra_labels = {name: list(run(texts)) for name, run in (extra or {}).items()}
    return compare_with_team(X, texts, [a.metadata.get("score") for a in pool], labels, folds=folds, seed=seed,
                             weak_weight=settings.weak_weight, extra=extra_labels)


__all__ = ["STAR_FEATURES", "TeamAnalyzer", "TeamComparison", "TeamSentimentModel", "compare_store_with_team",
           "compare_with_team", "labeled_pool", "out_of_fold", "star_features", "star_score"]
