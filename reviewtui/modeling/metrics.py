"""Scores of a classifier: softmax, accuracy, weighted and macro F1, the per-class report, the
confusion matrix, the validation log loss, and the search objective that ranks Ray Tune reports.

numpy only at import; sklearn loads inside :func:`classification_metrics`.
"""

from __future__ import annotations

import math
from typing import Any, Generic, Sequence, TypeVar

import numpy as np

#: The validation metrics reported after every epoch (and by every trial).
VALIDATION_KEYS = ("accuracy", "f1_weighted", "f1_macro")
#: The name of the score Ray Tune maximises; every trial report carries it.
SEARCH_METRIC = "objective"

T = TypeVar("T")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits as float32 (stable: the row maximum is subtracted first)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]):
    """(metrics, per_class, confusion) for integer class ids.

    ``metrics``: accuracy, precision/recall/f1 weighted and macro; the macro mean is over the
    classes the rows hold or the model predicted (a class absent from both, none of a small test
    split's rows, is no zero in it). ``per_class``: label -> precision, recall, f1, support.
    ``confusion``: rows true, columns predicted, in ``labels`` order.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    ids = list(range(len(labels)))
    seen = sorted({int(v) for v in y_true} | {int(v) for v in y_pred}) or ids
    metrics: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg in ("weighted", "macro"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=seen if avg == "macro" else ids,
                                                     average=avg, zero_division=0)
        metrics.update({f"precision_{avg}": float(p), f"recall_{avg}": float(r), f"f1_{avg}": float(f)})
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=None, zero_division=0)
    per_class = {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, label in enumerate(labels)}
    confusion = confusion_matrix(y_true, y_pred, labels=ids).astype(int).tolist()
    return metrics, per_class, confusion


def validation_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict[str, float]:
    """The :data:`VALIDATION_KEYS` of :func:`classification_metrics`."""
    metrics, _, _ = classification_metrics(y_true, y_pred, labels)
    return {k: metrics[k] for k in VALIDATION_KEYS}


def mean_log_loss(proba: np.ndarray, y_true: Sequence[int]) -> float:
    """Mean negative log-likelihood of the true columns ``y_true`` of (N, K) probabilities."""
    if len(y_true) == 0:
        return 0.0
    picked = np.asarray(proba, dtype=np.float64)[np.arange(len(y_true)), np.asarray(y_true, dtype=int)]
    return float(-np.log(np.maximum(picked, 1e-12)).mean())


def search_objective(metrics: dict[str, float]) -> float:
    """The score that ranks validation reports in a search: accuracy, ties broken by the loss.

    Validation accuracy moves in steps of 1/len(validation), so many reports tie on it; a lower
    loss wins then. A NaN or infinite loss counts as a very high one.
    """
    loss = float(metrics.get("loss", 0.0))
    return float(metrics.get("accuracy", 0.0)) - 1e-3 * (loss if math.isfinite(loss) else 1e3)


class BestSoFar(Generic[T]):
    """The best of a stream of scored reports: ``offer(score, item)`` keeps ``item`` when ``score``
    beats every earlier one (the first report always does) and counts the reports since the last
    improvement (``since``), which is what early stopping's patience is measured in."""

    def __init__(self) -> None:
        self.score: Any = None
        self.item: T | None = None
        self.since = 0

    def offer(self, score: Any, item: T) -> bool:
        """Record one report; True when it is the new best."""
        if self.score is None or score > self.score:
            self.score, self.item, self.since = score, item, 0
            return True
        self.since += 1
        return False

    def out_of_patience(self, patience: int) -> bool:
        """True when ``patience`` reports in a row did not improve; ``patience`` 0 never runs out."""
        return patience > 0 and self.since >= patience
