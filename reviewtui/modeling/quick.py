"""The quick model: a multinomial logistic regression on cached sentence embeddings.

It trains in milliseconds for hundreds of labels, so active learning refits it after every few
labels and ``tune`` can offer it as a baseline candidate. It is saved as a plain ``.npz`` (weights,
bias, classes, settings) — no pickle — so loading it needs only numpy.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError

QUICK_FILE = "quick_model.npz"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class QuickModel:
    """Embeddings -> class probabilities with a linear classifier.

    ``C`` is the inverse L2 strength of the logistic regression; ``class_weight`` is None or
    "balanced" (weights inversely proportional to class frequency).
    """

    def __init__(self, C: float = 10.0, class_weight: str | None = None, max_iter: int = 1000) -> None:
        self.C = float(C)
        self.class_weight = class_weight
        self.max_iter = int(max_iter)
        self.classes_: list[str] = []
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        return {"C": self.C, "class_weight": self.class_weight, "max_iter": self.max_iter}

    @property
    def is_fitted(self) -> bool:
        return self.coef_ is not None

    def fit(self, X: np.ndarray, y: Sequence[str]) -> "QuickModel":
        """Fit on embeddings ``X`` (N, D) and labels ``y``; returns self.

        Raises ReviewtuiError when there are fewer than two distinct labels or X and y disagree.
        """
        from sklearn.linear_model import LogisticRegression

        X = np.asarray(X, dtype=np.float32)
        labels = [str(v) for v in y]
        if X.ndim != 2 or len(X) != len(labels):
            raise ReviewtuiError(f"quick model: {len(labels)} labels for an embedding matrix of shape {X.shape}")
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ReviewtuiError(
                f"quick model: need labels of at least two categories, got {classes or 'none'}; label more assets"
            )
        clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        clf.fit(X, np.asarray(labels, dtype=object))
        self.classes_ = [str(c) for c in clf.classes_]
        coef, bias = clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32)
        if len(self.classes_) == 2:  # sklearn keeps one row for two classes: expand to softmax form
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            bias = np.array([-bias[0] / 2, bias[0] / 2], dtype=np.float32)
        self.coef_, self.intercept_ = coef, bias
        return self

    def _require_fitted(self) -> None:
        if self.coef_ is None or self.intercept_ is None:
            raise ReviewtuiError("quick model is not trained yet: call fit() or load a saved one")

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        self._require_fitted()
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.coef_.shape[1]:  # type: ignore[union-attr]
            raise ReviewtuiError(
                f"quick model expects embeddings of width {self.coef_.shape[1]}, got shape {X.shape}: "  # type: ignore[union-attr]
                "it was trained with another embedding model"
            )
        return X @ self.coef_.T + self.intercept_  # type: ignore[union-attr,operator]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, K) probabilities, columns in ``classes_`` order."""
        return _softmax(self.decision_function(X).astype(np.float64)).astype(np.float32)

    def predict(self, X: np.ndarray) -> list[str]:
        """The most probable label of each row."""
        if len(X) == 0:
            return []
        idx = self.decision_function(X).argmax(axis=1)
        return [self.classes_[i] for i in idx]

    def save(self, path: Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the model to ``path`` (a .npz file, or a folder that gets quick_model.npz) atomically."""
        self._require_fitted()
        path = Path(path)
        if path.suffix != ".npz":
            path.mkdir(parents=True, exist_ok=True)
            path = path / QUICK_FILE
        meta = json.dumps({"params": self.get_params(), "extra": extra or {}})
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, coef=self.coef_, intercept=self.intercept_,
                         classes=np.array(self.classes_, dtype=str), meta=np.array(meta))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: Path) -> "QuickModel":
        """Read a model written by :meth:`save`. Raises ReviewtuiError when missing or unreadable."""
        path = Path(path)
        if path.is_dir():
            path = path / QUICK_FILE
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                model = cls(**meta.get("params", {}))
                model.coef_ = data["coef"].astype(np.float32)
                model.intercept_ = data["intercept"].astype(np.float32)
                model.classes_ = [str(c) for c in data["classes"]]
        except FileNotFoundError as exc:
            raise ReviewtuiError(f"no quick model at {path}: train one first") from exc
        except (OSError, KeyError, ValueError) as exc:
            raise ReviewtuiError(f"{path} is not a reviewtui quick model ({exc}); delete it and retrain") from exc
        return model
