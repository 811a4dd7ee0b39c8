"""Loading a saved model folder and predicting class probabilities for texts.

Both kinds of saved model answer the same way: ``SavedClassifier.load(models/<name>)`` then
``predict_proba(texts)`` -> (N, K) with columns in ``labels`` order (the taxonomy order the model
was trained with). Fine-tuned models run in length-sorted batches in inference mode on the GPU
when there is one; quick models embed the texts (through the workspace embedding cache when a
``cache_dir`` is given) and apply the linear classifier.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink
from reviewtui.modeling.batching import BATCH_SIZE, DEFAULT_MAX_LENGTH, predict_logits
from reviewtui.modeling.card import ModelCard, load_card
from reviewtui.modeling.metrics import softmax


class SavedClassifier:
    """A saved model ready to predict. ``labels`` are the output columns; ``card`` its model card."""

    def __init__(self, path: Path, card: ModelCard, cache_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.card = card
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._model: Any = None
        self._tokenizer: Any = None
        self._quick: Any = None
        self._lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def max_length(self) -> int:
        """Tokens per text the model was trained with (every card records it)."""
        return int(self.card.hyperparameters.get("max_length", DEFAULT_MAX_LENGTH))

    @classmethod
    def load(cls, model_dir: Path, cache_dir: Path | None = None) -> "SavedClassifier":
        """Read the card of ``model_dir`` (weights load lazily on first predict).

        Raises ReviewtuiError when the folder is not a reviewtui model.
        """
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ReviewtuiError(f"no model folder at {model_dir}: list models with reviewtui models")
        card = load_card(model_dir)
        if card.kind not in ("finetuned", "quick"):
            raise ReviewtuiError(f"{model_dir}: unknown model kind {card.kind!r} in model_card.json")
        return cls(model_dir, card, cache_dir)

    def check_taxonomy(self, training_keys: Sequence[str]) -> None:
        """Raise ReviewtuiError when the model was trained on other categories than ``training_keys``."""
        self.card.check_taxonomy(list(training_keys))

    # -- loading -------------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        with self._lock:
            if self.card.kind == "quick":
                if self._quick is None:
                    from reviewtui.modeling.quick import QuickModel

                    self._quick = QuickModel.load(self.path)
                return
            if self._model is None:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                from reviewtui.modeling.loading import best_device, quiet_transformers

                quiet_transformers()
                try:
                    self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                    model = AutoModelForSequenceClassification.from_pretrained(str(self.path), local_files_only=True)
                except OSError as exc:
                    raise ReviewtuiError(f"{self.path}: the weights or tokenizer cannot be read ({exc}); "
                                         "retrain the model") from exc
                if int(model.config.num_labels) != len(self.labels):
                    raise ReviewtuiError(f"{self.path}: the weights have {model.config.num_labels} outputs but "
                                         f"the model card lists {len(self.labels)} labels; retrain the model")
                device = best_device()
                self._model = model.to(device).eval()
                if self.card.hyperparameters.get("ensemble_quick") and (self.path / "quick_model.npz").is_file():
                    from reviewtui.modeling.quick import QuickModel

                    self._quick = QuickModel.load(self.path)

    # -- predicting ----------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray:
        """(N, K) float32 probabilities, columns in ``labels`` order, rows in input order.

        Emits Progress("predict", done, total) (or "embed" for quick models). Raises Cancelled
        when ``cancel`` is set between batches.
        """
        texts = [str(t) for t in texts]
        self._ensure_loaded()
        if self.card.kind == "quick":
            return self._quick_proba(texts, batch_size, on_event, cancel)
        logits = predict_logits(self._model, self._tokenizer, texts, max_length=self.max_length,
                                batch_size=batch_size, on_event=on_event, cancel=cancel)
        proba = softmax(logits)
        if self._quick is not None:  # the ensemble: weighted mean of both models (equal unless chosen by CV)
            w = float(self.card.hyperparameters.get("ensemble_weight", 0.5))
            proba = w * proba + (1.0 - w) * self._quick_proba(texts, batch_size, on_event, cancel)
        return proba

    def _quick_proba(self, texts, batch_size, on_event, cancel) -> np.ndarray:
        from reviewtui.modeling.embeddings import embed_texts

        hp = self.card.hyperparameters
        X = embed_texts(texts, str(hp.get("embedding_model", self.card.base_model)),
                        max_length=int(hp.get("embedding_max_length", self.max_length)), cache_dir=self.cache_dir,
                        batch_size=batch_size, on_event=on_event, cancel=cancel)
        return self._quick.proba_for(X, self.labels)

    def predict(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts, batch_size=batch_size, on_event=on_event, cancel=cancel)
        return [self.labels[i] for i in proba.argmax(axis=1)] if len(proba) else []


def load_classifier(models_dir: Path, name: str | None = None, cache_dir: Path | None = None) -> SavedClassifier:
    """The model called ``name`` in ``models_dir``, or the newest one when ``name`` is None.

    Raises ReviewtuiError when there is no such model.
    """
    from reviewtui.modeling.card import list_cards

    models_dir = Path(models_dir)
    if name:
        return SavedClassifier.load(models_dir / name, cache_dir)
    cards = list_cards(models_dir)
    if not cards:
        raise ReviewtuiError(f"no trained model in {models_dir}: run reviewtui train first")
    return SavedClassifier.load(Path(cards[-1].path or models_dir / cards[-1].name), cache_dir)
