"""The quick model's suggestion for the assets being labeled (the labeling screen's hint)."""

from __future__ import annotations

from collections import Counter

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from reviewtui.active.model import fit_quick, fit_sample, proba_for
from reviewtui.config import Taxonomy
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache


class Prior(Protocol):
    """Probabilities known before (and besides) the labels, which the quick model's are blended
    with while labels are few: the zero-shot prior of ``loop.zeroshot.ZeroShotPrior``. Columns
    are the taxonomy's training keys in order."""

    name: str

    def update(self, X_labeled: np.ndarray, y_labeled: Sequence[str]) -> None: ...

    def proba(self, X: np.ndarray) -> np.ndarray: ...

    def weight(self, n_labels: int) -> float: ...

    def combine(self, quick: np.ndarray | None, X: np.ndarray, n_labels: int) -> np.ndarray: ...

    def first_batch(self, proba: np.ndarray, X: np.ndarray, size: int, seed: int = 0,
                    texts: Sequence[str] | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class Refit:
    """A quick model just fitted on the training labels so far: ``model`` (has ``proba_for``), the
    labels' embeddings ``X_labeled`` and categories ``y_labeled``. When the fit scored candidates
    too (a queue batch), ``ids``/``proba`` are those candidates and their probabilities (columns
    ``classes``), and ``complete`` says they are every candidate, not a filtered part.
    ``label_counts`` are the training labels per category, all of them: past [active_learning]
    fit_max_labels the model learns from a sample (``y_labeled``), while the stop signal's rounds
    count every label (None: ``y_labeled`` is all of them)."""

    model: Any
    X_labeled: np.ndarray
    y_labeled: list[str]
    classes: list[str]
    ids: list[str] | None = None
    proba: np.ndarray | None = None
    complete: bool = False
    label_counts: dict[str, int] | None = None

    @property
    def n_labels(self) -> int:
        """Every training label, sampled or not."""
        return sum(self.label_counts.values()) if self.label_counts is not None else len(self.y_labeled)


class Suggestions(dict):
    """external id -> (label, probability), and where they come from: ``source`` is "model" (the
    quick model on ``labels`` training labels, blended with the prior at weight ``prior_weight``
    while labels are few), "zero-shot" (no model yet: the prior alone) or "" (no suggestion).
    ``from_names``: the prior knows the category names only (no description or example)."""

    def __init__(self, items: Any = (), *, source: str = "", labels: int = 0, prior_weight: float = 0.0,
                 from_names: bool = False) -> None:
        super().__init__(items)
        self.source = source
        self.labels = labels
        self.prior_weight = prior_weight
        self.from_names = from_names


class Suggester:
    """Suggestions from the quick model fitted on the store's current training labels.

    When it fits, following ``[active_learning] retrain_every`` (``settings.retrain_every``):

    * on the first request, and on every request while there is no model yet (fewer than two
      training categories labeled);
    * ``retrain_every = N > 0``: again once N training labels changed since the last fit, or when
      a category the model has not seen gets labeled;
    * ``retrain_every = 0``: never by itself once a model exists, only when asked: :meth:`refit`,
      or ``suggestions(..., refit=True)`` (the labeling screen's ``r``).

    With a ``prior`` (the zero-shot model of the categories' descriptions), suggestions exist
    before any label: the prior alone while there is no model, then the quick model blended with
    it (:meth:`Prior.combine`). After every fit the :class:`Refit` waits in :meth:`take_refit` for
    whoever records the stop signal and the stored predictions.

    Thread-safe: one lock covers the fit and the embedding cache, so two workers asking at once
    fit and embed once. ``settings`` may be replaced between calls (a changed reviewtui.toml).
    """

    def __init__(self, store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache",
                 settings: ActiveLearningSettings, *, prior: Prior | None = None) -> None:
        self.store = store
        self.taxonomy = taxonomy
        self.cache = cache  # one EmbeddingCache: it keeps the vectors in memory between calls
        self.settings = settings
        self.prior = prior
        self._model = None
        self._fitted_on: dict[str, str] = {}
        self._labels = 0
        self._pending: Refit | None = None
        self._lock = threading.Lock()

    def _refresh(self, force: bool, on_event: Any = None) -> None:
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
        self._labels = len(labels)
        if len(set(labels)) < 2:
            self._model, self._fitted_on = None, {}
            return
        counts = dict(Counter(labels))  # every label: the stop signal counts them all
        keep = fit_sample(labels, self.settings.fit_max_labels)
        if keep is not None:  # hundreds of thousands of labels: a stratified sample of them
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        X = self.cache.embed(texts, on_event=on_event)
        self._model = fit_quick(X, labels, self.settings.C)
        self._fitted_on = current
        if self.prior is not None:
            self.prior.update(X, labels)
        self._pending = Refit(self._model, X, list(labels), list(self.taxonomy.training_keys), label_counts=counts)

    def refit(self) -> bool:
        """Fit on the current training labels now, whatever ``retrain_every`` says. Returns
        whether there is a model (False before two training categories are labeled)."""
        with self._lock:
            self._refresh(force=True)
            return self._model is not None

    def prepare(self, on_event: Any = None) -> Suggestions:
        """Fit the model if there is none yet (and the prior, for zero-shot suggestions), as the
        labeling screen does when it opens; returns an empty :class:`Suggestions` saying what the
        suggestions will come from. ``on_event`` gets the ``Progress("embed", ...)`` of the labeled
        reviews' embedding (thousands take minutes on a CPU the first time; cached after)."""
        with self._lock:
            self._refresh(force=False, on_event=on_event)
            if self._model is None and self.prior is not None:
                self.prior.update(np.zeros((0, 0), dtype=np.float32), [])  # fits the zero-shot model
            return self._empty()

    def _empty(self) -> Suggestions:
        if self._model is not None:
            weight = self.prior.weight(len(self._fitted_on)) if self.prior is not None else 0.0
            return Suggestions(source="model", labels=len(self._fitted_on), prior_weight=weight)
        if self.prior is not None:
            return Suggestions(source="zero-shot", labels=self._labels, prior_weight=1.0,
                               from_names=bool(getattr(self.prior, "names_only", False)))
        return Suggestions(labels=self._labels)

    def take_refit(self) -> Refit | None:
        """The latest fit not handed out yet (then None until the next fit)."""
        with self._lock:
            refit, self._pending = self._pending, None
            return refit

    def suggestions(self, external_ids: Sequence[str], *, refit: bool = False) -> Suggestions:
        """external id -> (label, probability) (refitted first when ``refit``): the quick model's,
        blended with the prior while labels are few; the prior's alone before a model exists;
        empty with neither. Unknown ids raise ReviewtuiError."""
        with self._lock:
            self._refresh(force=refit)
            out = self._empty()
            if not out.source or not external_ids:
                return out
            assets = [self.store.get(e) for e in external_ids]
            X = self.cache.embed([a.text for a in assets])
            classes = self.taxonomy.training_keys
            quick = proba_for(self._model, X, classes) if self._model is not None else None
            p = self.prior.combine(quick, X, len(self._fitted_on)) if self.prior is not None else quick
            assert p is not None
            for a, row in zip(assets, p):
                j = int(np.argmax(row))
                out[a.external_id] = (classes[j], float(row[j]))
            return out
