"""The quick model's suggestion for the assets being labeled (the labeling screen's hint)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Sequence

from reviewtui.active.model import fit_quick
from reviewtui.config import Taxonomy
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache


class Suggester:
    """Suggestions from the quick model fitted on the store's current training labels.

    When it fits, following ``[active_learning] retrain_every`` (``settings.retrain_every``):

    * on the first request, and on every request while there is no model yet (fewer than two
      training categories labeled);
    * ``retrain_every = N > 0``: again once N training labels changed since the last fit, or when
      a category the model has not seen gets labeled;
    * ``retrain_every = 0``: never by itself once a model exists, only when asked: :meth:`refit`,
      or ``suggestions(..., refit=True)`` (the labeling screen's ``r``).

    Thread-safe: one lock covers the fit and the embedding cache, so two workers asking at once
    fit and embed once. ``settings`` may be replaced between calls (a changed reviewtui.toml).
    """

    def __init__(self, store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache",
                 settings: ActiveLearningSettings) -> None:
        self.store = store
        self.taxonomy = taxonomy
        self.cache = cache  # one EmbeddingCache: it keeps the vectors in memory between calls
        self.settings = settings
        self._model = None
        self._fitted_on: dict[str, str] = {}
        self._lock = threading.Lock()

    def _refresh(self, force: bool) -> None:
        every = self.settings.retrain_every
        if self._model is not None and every == 0 and not force:
            return
        ids, texts, labels = self.store.training_assets(self.taxonomy.training_keys)
        current = dict(zip(ids, labels))
        if self._model is not None and not force:
            changed = sum(1 for k, v in current.items() if self._fitted_on.get(k) != v)
            changed += sum(1 for k in self._fitted_on if k not in current)
            new_class = set(labels) - set(self._fitted_on.values())
            if changed < every and not new_class:
                return
        if len(set(labels)) < 2:
            self._model, self._fitted_on = None, {}
            return
        X = self.cache.embed(texts)
        self._model = fit_quick(X, labels, self.settings.C)
        self._fitted_on = current

    def refit(self) -> bool:
        """Fit on the current training labels now, whatever ``retrain_every`` says. Returns
        whether there is a model (False before two training categories are labeled)."""
        with self._lock:
            self._refresh(force=True)
            return self._model is not None

    def suggestions(self, external_ids: Sequence[str], *, refit: bool = False) -> dict[str, tuple[str, float]]:
        """external id -> (label, probability) from the quick model (refitted first when ``refit``);
        empty before two training categories are labeled. Unknown ids raise ReviewtuiError."""
        with self._lock:
            self._refresh(force=refit)
            if self._model is None or not external_ids:
                return {}
            assets = [self.store.get(e) for e in external_ids]
            X = self.cache.embed([a.text for a in assets])
            p = self._model.predict_proba(X)
            out = {}
            for a, row in zip(assets, p):
                j = int(row.argmax())
                out[a.external_id] = (self._model.classes_[j], float(row[j]))
            return out
