"""The quick model as active learning uses it: fitted on whatever labels exist so far (or not at
all before two categories are labeled), and its probabilities in the taxonomy's order."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from reviewtui.settings import ActiveLearningSettings


def fit_quick(X: np.ndarray, y: Sequence[str], C: float | None = None):
    """A fitted :class:`~reviewtui.modeling.quick.QuickModel` with inverse regularisation ``C``
    (default: ``[active_learning] C``'s default), or None when ``y`` has fewer than two distinct
    labels (no model can be fitted yet). ``QuickModel.fit`` solves with Newton-CG on one BLAS
    thread: milliseconds for a refit after every labeling round."""
    from reviewtui.modeling.quick import QuickModel

    labels = [str(v) for v in y]
    if len(set(labels)) < 2:
        return None
    return QuickModel(C=ActiveLearningSettings().C if C is None else C).fit(X, labels)


def fit_sample(labels: Sequence[str], max_labels: int, seed: int = 0) -> list[int] | None:
    """Which of ``labels`` the loop's quick model is fitted on when they are more than
    ``max_labels`` ([active_learning] fit_max_labels; 0 = no limit): a seeded sample of
    ``max_labels`` that keeps every category (a cap below twice the categories is raised to it),
    each in proportion to its count but with at least ``max_labels / (2 x the categories)`` labels
    where it has them (a rare category keeps its few), in the order given. None when every label
    is used."""
    n = len(labels)
    if not max_labels or n <= max_labels:
        return None
    by_class: dict[str, list[int]] = {}
    for i, v in enumerate(labels):
        by_class.setdefault(str(v), []).append(i)
    cap = max(int(max_labels), 2 * len(by_class))
    if n <= cap:
        return None
    floor = cap // (2 * len(by_class))
    quota = {c: min(len(ix), max(floor, int(cap * len(ix) / n))) for c, ix in by_class.items()}
    # to exactly ``cap``: take from the categories above their floor, the largest first, or give to
    # those with labels left, the largest first (each step one label: at most a few per category)
    while sum(quota.values()) > cap:
        big = max((c for c in quota if quota[c] > min(floor, len(by_class[c]))), key=lambda c: quota[c])
        quota[big] -= 1
    while sum(quota.values()) < cap:
        room = [c for c in quota if quota[c] < len(by_class[c])]
        quota[max(room, key=lambda c: len(by_class[c]) - quota[c])] += 1
    rng = np.random.default_rng(seed)
    keep = [int(i) for c, ix in by_class.items()
            for i in (ix if quota[c] >= len(ix) else rng.choice(ix, size=quota[c], replace=False))]
    return sorted(keep)


def proba_for(model, X: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """(N, len(classes)) probabilities of ``model`` with columns in ``classes`` order (zeros for
    classes the model has not seen, and everywhere when ``model`` is None)."""
    if model is None:
        return np.zeros((len(X), len(classes)), dtype=np.float32)
    return model.proba_for(X, list(classes))
