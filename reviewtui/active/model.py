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


def proba_for(model, X: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """(N, len(classes)) probabilities of ``model`` with columns in ``classes`` order (zeros for
    classes the model has not seen, and everywhere when ``model`` is None)."""
    if model is None:
        return np.zeros((len(X), len(classes)), dtype=np.float32)
    return model.proba_for(X, list(classes))
