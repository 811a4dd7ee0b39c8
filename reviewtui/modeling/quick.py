"""The quick model: a multinomial logistic regression on cached sentence embeddings.

It trains in milliseconds for hundreds of labels, so active learning refits it after every few
labels and ``tune`` can offer it as a baseline candidate. It is saved as a plain ``.npz`` (weights,
bias, classes, settings) — no pickle — so loading it needs only numpy.
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.files import make_temp_file
from reviewtui.events import EventSink
from reviewtui.modeling.metrics import softmax
from reviewtui.settings import ActiveLearningSettings, ModelSettings

QUICK_FILE = "quick_model.npz"
#: The inverse regularisation of a QuickModel built without one: [active_learning] C's default.
DEFAULT_C = ActiveLearningSettings().C


class QuickModel:
    """Embeddings -> class probabilities with a linear classifier.

    ``C`` is the inverse L2 strength of the logistic regression; ``class_weight`` is None or
    "balanced" (weights inversely proportional to class frequency).
    """

    def __init__(self, C: float = DEFAULT_C, class_weight: str | None = None, max_iter: int = 1000) -> None:
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
        from threadpoolctl import threadpool_limits

        # Newton-CG converges in a handful of iterations on 384-d normalised embeddings, tens of
        # times faster than lbfgs: what a refit after every labeling round needs. BLAS runs on one
        # thread: on matrices this small OpenBLAS's threads cost more than they give, and on a busy
        # machine (or beside torch's threads) they made the same fit 20-50 times slower.
        clf = LogisticRegression(C=self.C, class_weight=self.class_weight, solver="newton-cg", max_iter=self.max_iter)
        with threadpool_limits(limits=1, user_api="blas"):
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
        return softmax(self.decision_function(X))

    def proba_for(self, X: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """(N, len(labels)) probabilities with columns in ``labels`` order: zeros for a label the
        model was not trained on (the taxonomy can have more categories than the labels so far)."""
        out = np.zeros((len(X), len(labels)), dtype=np.float32)
        if len(X) == 0:
            return out
        proba = self.predict_proba(X)
        for j, label in enumerate(labels):
            if label in self.classes_:
                out[:, j] = proba[:, self.classes_.index(label)]
        return out

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
        fd, tmp = make_temp_file(path.parent, prefix=".", suffix=".npz.tmp")
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
        except PermissionError as exc:
            from reviewtui.modeling.card import unreadable_error

            raise unreadable_error(path) from exc
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a file cut short: not a zip
            raise ReviewtuiError(f"{path} is not a reviewtui quick model ({exc}); delete it and retrain") from exc
        return model


def train_quick(df, *, models_dir: Path, label_keys: Sequence[str], cache_dir: Path, model: ModelSettings,
                C: float, class_weight: str | None = None, name: str | None = None,
                dataset_version: str | None = None, dataset_sha256: str | None = None,
                on_event: EventSink | None = None, cancel: threading.Event | None = None,
                overwrite: bool = False, extra: dict[str, Any] | None = None):
    """Train the quick model on a dataset version's train+validation split, evaluate it on the
    test split (the same split as fine-tuning) and save ``models_dir/name``; returns its ModelCard.

    ``model`` is the [model] section (the encoder and its max length); ``C`` the inverse
    regularisation ([active_learning] C, or a tuned value). Raises ReviewtuiError for too little
    data or a taken name; Cancelled when ``cancel`` is set.
    """
    import time

    from reviewtui.events import Notice, emit
    from reviewtui.modeling import Cancelled
    from reviewtui.modeling.card import ModelCard, default_model_name, hardware_info, now_iso, write_model_dir
    from reviewtui.modeling.data import split_dataset
    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.modeling.metrics import classification_metrics

    cache = EmbeddingCache(cache_dir, model.base, model.max_length)
    splits = split_dataset(df, label_keys)
    labels = splits.labels
    name = name or default_model_name(dataset_version, "quick")
    if (Path(models_dir) / name).exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name or delete it")
    fit_texts, fit_labels = splits.fit_texts()
    test_texts = list(splits.test["content"])
    started = time.perf_counter()
    X = cache.embed(fit_texts + test_texts, on_event=on_event, cancel=cancel)
    embedded = time.perf_counter()
    quick = QuickModel(C=C, class_weight=class_weight).fit(X[:len(fit_texts)], fit_labels)
    seconds = time.perf_counter() - embedded
    proba = quick.proba_for(X[len(fit_texts):], labels)
    metrics, per_class, confusion = classification_metrics(splits.label_ids(splits.test), list(proba.argmax(1)),
                                                           labels)
    card = ModelCard(
        name=name, kind="quick", base_model=cache.resolved.name, base_source=cache.resolved.source, labels=labels,
        taxonomy_keys=list(label_keys), dataset_version=dataset_version, dataset_sha256=dataset_sha256,
        hyperparameters={**quick.get_params(), "max_length": model.max_length, "model": "quick",
                         "embedding_model": model.base},
        metrics=metrics, per_class=per_class, confusion_matrix=confusion,
        splits={"train": len(fit_texts), "validation": 0, "test": len(test_texts)},
        created_at=now_iso(), train_seconds=round(seconds, 4), hardware=hardware_info(),
        extra={"evaluation": {"method": "split", "splits": splits.sizes, "seed": splits.seed},
               # train_seconds is the fit alone: the embedding before it is most of the wait
               "embedding": {"seconds": round(embedded - started, 3), "texts": len(X)}, **(extra or {})},
    )
    if cancel is not None and cancel.is_set():
        raise Cancelled("training cancelled; no model was saved")

    def fill(tmp: Path) -> None:
        quick.save(tmp)
        card.save(tmp)

    card.path = str(write_model_dir(models_dir, name, fill, overwrite=overwrite))
    emit(on_event, Notice("info", f"saved quick model {name}: test accuracy {metrics['accuracy']:.3f}"))
    return card
