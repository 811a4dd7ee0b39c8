"""The team sentiment model (embeddings + star features, team labels, weak star labels) and its
cross-validated agreement with the team's labels, on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from reviewtui.analysis.sentiment import SENTIMENTS
from reviewtui.analysis.sentiment_model import (TeamSentimentModel, compare_with_team, out_of_fold,
                                                star_features)
from reviewtui.errors import ReviewtuiError


def corpus(n=300, seed=0, text_signal=0.35):
    """Reviews whose sentiment shows weakly in the text and strongly (not always) in the stars."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    centers = rng.normal(size=(3, 32))
    X = rng.normal(size=(n, 32)) + text_signal * centers[truth]
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    base = np.array([1, 3, 5])[truth] + rng.choice([-1, 0, 0, 0, 1], n)
    stars = [str(int(min(5, max(1, s)))) for s in base]
    stars[0] = ""  # a review without a score
    return X.astype(np.float32), stars, [SENTIMENTS[t] for t in truth]


def test_star_features():
    f = star_features(["1", "5", None, "3.0", "9"], weight=2.0)
    assert f.shape == (5, 7)
    assert f[0].tolist() == [2, 0, 0, 0, 0, 0, -2] and f[1].tolist() == [0, 0, 0, 0, 2, 0, 2]
    assert f[2, 5] == 2 and f[3, 2] == 2 and f[3, 6] == 0 and f[4, 5] == 2


def test_starts_from_the_stars_then_learns_from_the_team():
    X, stars, truth = corpus()
    few = [truth[i] if i < 10 else None for i in range(len(truth))]
    model = TeamSentimentModel(min_labels=30).fit(X, stars, few)
    assert model.mode == "stars" and model.trained_on == {"team": 0, "weak": 299}
    assert model.predict_proba(X[:4], stars[:4]).shape == (4, 3)
    many = [truth[i] if i < 200 else None for i in range(len(truth))]
    model = TeamSentimentModel(min_labels=30, weak_weight=0.1).fit(X, stars, many)
    assert model.mode == "team" and model.trained_on == {"team": 200, "weak": 100}
    scores = model.scores(X[200:], stars[200:])
    assert len(scores) == 100 and np.all(np.abs(scores.scores) <= 1)
    assert np.mean([a == b for a, b in zip(scores.labels, truth[200:])]) > 0.7
    with pytest.raises(ReviewtuiError, match="unknown sentiment label"):
        TeamSentimentModel().fit(X, stars, ["great"] + [None] * (len(truth) - 1))
    with pytest.raises(ReviewtuiError, match="label the sentiment of more reviews"):
        TeamSentimentModel().fit(X, [""] * len(truth), few)


def test_out_of_fold_predictions_never_see_their_own_label():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 200)).astype(np.float32)  # memorisable noise
    labels = [SENTIMENTS[i] for i in rng.integers(0, 3, 120)]
    stars = [""] * 120
    fitted = TeamSentimentModel(C=100.0, use_stars=False, min_labels=1).fit(X, stars, labels)
    assert np.mean([a == b for a, b in zip(fitted.predict(X, stars), labels)]) > 0.95  # in-sample: memorised
    oof = out_of_fold(lambda: TeamSentimentModel(C=100.0, use_stars=False, min_labels=1), X, stars, labels, folds=5)
    assert np.mean([a == b for a, b in zip(oof, labels)]) < 0.5  # held out: chance


def test_compare_with_team_reports_every_option_and_stars_help():
    X, stars, truth = corpus(n=400, seed=2, text_signal=0.25)
    texts = ["great app love it" if t == "positive" else "terrible, broken" if t == "negative" else "it is an app"
             for t in truth]
    labels = [truth[i] if i < 300 else None for i in range(len(truth))]
    result = compare_with_team(X, texts, stars, labels, folds=5, extra={"hf model": truth})
    names = [a.analyzer for a in result.agreements]
    assert names[:3] == ["star rule (1-2 negative, 3 neutral, 4-5 positive)", "vader",
                         "stars head (text, trained on star labels)"]
    assert result.n == 300 and sum(result.team_distribution.values()) == 300
    by = {a.analyzer: a for a in result.agreements}
    assert by["hf model"].accuracy == 1.0 and not by["hf model"].cross_validated
    text_only, with_stars = by["team labels (text only)"], by["team labels (text + stars)"]
    assert with_stars.cross_validated and with_stars.macro_f1 > text_only.macro_f1 + 0.05
    with pytest.raises(ReviewtuiError, match="no review has a team sentiment label"):
        compare_with_team(X, texts, stars, [None] * len(truth))


def test_the_star_head_says_why_stars_of_one_kind_cannot_train_it():
    """Every review 1-star: it said the corpus had no usable score column."""
    from reviewtui.analysis.sentiment import StarHead

    with pytest.raises(ReviewtuiError, match=r"every review with stars here is negative \(3 of them\): use vader"):
        StarHead(None).fit(["bad", "awful", "crash"], [1, 2, 1])
    with pytest.raises(ReviewtuiError, match="no review here has a star score from 1 to 5"):
        StarHead(None).fit(["bad"], [""])
