"""The labeling queue: choose the next batch with a strategy and set its priorities in the backend."""

from __future__ import annotations

from collections import Counter

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from reviewtui.active.model import fit_quick, fit_sample, proba_for
from reviewtui.active.strategies import check_strategy, select_batch, target_uncertainty, uncertainty
from reviewtui.active.suggestions import Refit
from reviewtui.backends import LabelingBackend, MoveResult
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, emit
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import Asset, LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.active.suggestions import Prior
    from reviewtui.modeling.embeddings import EmbeddingCache


@dataclass
class QueueItem:
    """One asset of a queued batch. ``uncertainty`` is the strategy's score (0 for random);
    ``suggestion``/``confidence`` the quick model's top label and its probability (None before
    a model exists); ``priority`` what was written to the backend (higher first)."""

    external_id: str
    text: str
    uncertainty: float
    suggestion: str | None
    confidence: float | None
    priority: int


@dataclass
class QueueBatch:
    """The batch ``build_queue`` chose. ``cold_start`` is True when no model could be fitted yet
    (fewer than two training categories labeled) and the batch was chosen without one: by
    coverage, or by the prior when ``first`` names it ("zero-shot"). ``target`` is the category
    the weakest strategy steered to; ``filtered`` says the candidates were a filtered part;
    ``pool`` counts the reviews they were drawn from (more than ``candidates`` past the
    [active_learning] candidates cap)."""

    strategy: str
    size: int
    items: list[QueueItem]
    labeled: int
    candidates: int
    cold_start: bool
    backend: str
    moved: MoveResult | None = None
    seconds: float = 0.0
    first: str = ""
    target: str | None = None
    filtered: bool = False
    pool: int = 0
    #: what the items' suggestions come from: "model" (the quick model, blended with the prior while
    #: it has few labels), "zero-shot" (the prior alone: no model yet), or None (no suggestion)
    suggested_by: str | None = None
    #: why the backend set none of the priorities when it failed as a whole (out of reach), said in
    #: a warning already; empty otherwise
    priorities_error: str = ""

    @property
    def external_ids(self) -> list[str]:
        return [i.external_id for i in self.items]

    def ranked_by(self, taxonomy: Taxonomy) -> str:
        """What chose the batch: "zero-shot first batch", "coverage" (both with no model yet),
        "weakest: Interface" (the category by ``taxonomy``'s name), or the strategy."""
        if self.cold_start:
            return f"{self.first} first batch" if self.first else "coverage"
        if self.strategy == "weakest" and self.target:
            return f"weakest: {taxonomy.get(self.target).name if self.target in taxonomy.keys else self.target}"
        return str(self.strategy)

    @property
    def priorities_set(self) -> int:
        """How many of the batch's reviews had their priority set in the backend."""
        failed = self.moved.failed if self.moved else {}
        return sum(1 for it in self.items if it.external_id not in failed)

    @property
    def priorities_all_failed(self) -> bool:
        """The priorities were asked for and not one of them was set (the backend out of reach, or
        it declined them all)."""
        return self.moved is not None and bool(self.items) and self.priorities_set == 0

    @property
    def zero_shot(self) -> bool:
        """The suggestions are zero-shot best matches (no model yet), not a model's probabilities."""
        return self.suggested_by == "zero-shot"

    def to_dict(self) -> dict[str, Any]:
        """The batch as JSON; a zero-shot suggestion's score is ``zero_shot_score`` (a similarity
        sharpened, not a probability) and its ``confidence`` None."""
        items = [dict(i.__dict__) for i in self.items]
        if self.zero_shot:
            for it in items:
                it["zero_shot_score"], it["confidence"] = it["confidence"], None
        suggested_by = self.suggested_by
        return {"strategy": self.strategy, "size": self.size, "labeled": self.labeled,
                "candidates": self.candidates, "cold_start": self.cold_start, "backend": self.backend,
                "seconds": self.seconds, "first": self.first, "target": self.target, "filtered": self.filtered,
                "pool": self.pool, "suggested_by": suggested_by, "items": items,
                "failed": dict(self.moved.failed) if self.moved else {},
                "priorities_set": self.priorities_set if self.moved else 0}


def candidate_refs(store: LocalStore, cap: int = 0, *, within: Sequence[str] | None = None,
                   any_status: bool = False) -> list[tuple[int, str]]:
    """(store id, external id) of the assets still to label (TODO or ONGOING, not skipped, no
    label), in import order; only those of ``within`` when given, and with ``any_status`` all of
    ``within`` whatever their status (a filter that names statuses: reviews sent to review, labeled
    ones). With ``cap`` > 0 and a larger pool, a stable subset of ``cap`` of them: the first by the
    sha1 of their external id, so the same candidates stay in it (and in the embedding cache) until
    they are labeled, and a smaller cap picks a subset of a larger one. Reads ids only: a million of
    them without their texts."""
    if within is not None and any_status:
        refs = store.refs_of(within)
    else:
        refs = store.unlabeled_refs()
    if within is not None and not any_status:
        wanted = set(map(str, within))
        refs = [r for r in refs if r[1] in wanted]
    return cap_refs(refs, cap)


def cap_refs(refs: list[tuple[int, str]], cap: int) -> list[tuple[int, str]]:
    """``refs`` when ``cap`` is 0 or they are no more; else the stable subset of ``cap`` of them
    that :func:`candidate_refs` describes, in import order."""
    if cap and len(refs) > cap:
        refs = sorted(refs, key=lambda r: hashlib.sha1(r[1].encode("utf-8")).digest())[:cap]
        refs.sort()
    return refs


def candidate_pool(store: LocalStore, cap: int = 0, *, within: Sequence[str] | None = None) -> list[Asset]:
    """The assets of :func:`candidate_refs` (same arguments), in import order."""
    return store.assets_by_ids([r[0] for r in candidate_refs(store, cap, within=within)])


def build_queue(store: LocalStore, taxonomy: Taxonomy, backend: LabelingBackend,
                embeddings: Callable[[], "EmbeddingCache"], settings: ActiveLearningSettings,
                strategy: str | None = None, size: int | None = None, *, seed: int = 0, apply: bool = True,
                prior: "Prior | None" = None, target: str | None = None, within: Sequence[str] | None = None,
                any_status: bool = False, on_fit: Callable[[Refit], None] | None = None,
                on_event: EventSink | None = None, cancel: threading.Event | None = None) -> QueueBatch:
    """Choose the next ``size`` unlabeled assets of ``store`` with ``strategy`` and (when ``apply``)
    set their queue priorities in ``backend`` (size..1; every other asset 0).

    ``embeddings`` gives the embedding cache when the strategy needs one (random before a model
    exists needs it only with a ``prior``, for the draw's zero-shot suggestions); ``settings``
    gives the default strategy and size, the candidate cap and the quick model's C. With a ``prior``
    (the zero-shot model) the probabilities are the quick model's blended with it, and before any model exists the batch is its ``first_batch`` (spread
    over the predicted categories and the embedding space) instead of the coverage batch.
    ``target`` is the category the ``weakest`` strategy steers to; ``within`` restricts the
    candidates to those external ids (a filtered queue), whatever their status with ``any_status``
    (a filter that names statuses). ``on_fit`` receives the :class:`Refit`
    after the quick model was fitted. Returns the batch as data. Raises ReviewtuiError on an empty
    store, nothing left to label, or an unknown strategy; Cancelled when ``cancel`` is set while
    embedding.
    """
    t0 = time.perf_counter()
    strategy = check_strategy(strategy or settings.strategy)
    size = int(size if size is not None else settings.batch_size)
    if size < 1:
        raise ReviewtuiError(f"the batch size must be at least 1, not {size}")
    if store.count() == 0:
        raise ReviewtuiError("the workspace has no reviews: import some first (reviewtui import FILE.csv)")
    refs = candidate_refs(store, 0, within=within, any_status=any_status)
    matched = len(refs)  # before the cap: what a filter keeps, or everything left to label
    refs = cap_refs(refs, settings.candidates if strategy != "random" else 0)
    if not refs:
        if within is not None and not len(within):
            raise ReviewtuiError("no review matches the filter (change the filter or the search)")
        if within is not None:
            n = len(within)
            raise ReviewtuiError(f"nothing to label among the {n:,} review{'s' if n != 1 else ''} the filter keeps: "
                                 "every one is labeled, skipped or in review (change the filter)")
        raise ReviewtuiError("nothing left to label: every asset is labeled, skipped or in review")
    pool_size = len(refs)
    lab_ids, lab_texts, lab_labels = store.training_assets(taxonomy.training_keys)
    n_labels = len(lab_labels)  # all of them; the model may learn from a sample
    label_counts = dict(Counter(lab_labels))
    keep = fit_sample(lab_labels, settings.fit_max_labels)
    if keep is not None:
        lab_texts, lab_labels = [lab_texts[i] for i in keep], [lab_labels[i] for i in keep]
    classes = taxonomy.training_keys
    picked_first = None
    if strategy == "random":
        # random draws from the whole pool by position; only the drawn assets are read (and scored)
        picked_first = select_batch(strategy, None, size, seed=seed, n=len(refs))
        refs = [refs[int(i)] for i in picked_first]
    pool = store.assets_by_ids([r[0] for r in refs])
    X_pool = None
    model = None
    # a random draw is embedded only to suggest: by the model, or with no model yet by the prior
    if strategy != "random" or len(set(lab_labels)) >= 2 or prior is not None:
        emb = embeddings().embed(lab_texts + [a.text for a in pool], on_event=on_event, cancel=cancel)
        X_lab, X_pool = emb[:len(lab_texts)], emb[len(lab_texts):]
        model = fit_quick(X_lab, lab_labels, settings.C)
        if prior is not None and model is not None:
            prior.update(X_lab, lab_labels)
    proba = proba_for(model, X_pool, classes) if model is not None and X_pool is not None else None
    first = ""
    if prior is not None and X_pool is not None:
        proba = prior.combine(proba, X_pool, n_labels)
    column = classes.index(target) if strategy == "weakest" and target in classes else None
    # a category with no label yet is unknown to the quick model: the reviews most like it by its
    # name, description and examples (the zero-shot prior's probability of it) come first
    target_scores = None
    if column is not None and not label_counts.get(target) and prior is not None and X_pool is not None:
        target_scores = np.asarray(prior.proba(X_pool), dtype=np.float64)[:, column]
    if picked_first is not None:  # random: drawn already, in draw order
        picked = np.arange(len(pool))
    elif model is None and prior is not None and proba is not None:
        picked = prior.first_batch(proba, X_pool, size, seed=seed, texts=[a.text for a in pool])
        first = prior.name
    else:
        picked = select_batch(strategy, proba, size, embeddings=X_pool, seed=seed, n=len(pool), target=column,
                              target_scores=target_scores)
    if model is not None and on_fit is not None:  # every candidate scored: not a filtered part nor a draw
        on_fit(Refit(model, X_lab, list(lab_labels), list(classes), [a.external_id for a in pool], proba,
                     complete=within is None and picked_first is None, label_counts=label_counts))
    scores = (uncertainty(proba, strategy) if column is None else target_uncertainty(proba, column)) \
        if proba is not None else np.zeros(len(pool))
    if target_scores is not None:
        scores = target_scores
    items = []
    for rank, i in enumerate(picked):
        a = pool[int(i)]
        sug = conf = None
        if proba is not None:
            j = int(proba[i].argmax())
            sug, conf = classes[j], float(proba[i, j])
        items.append(QueueItem(a.external_id, a.text, float(scores[i]), sug, conf, len(picked) - rank))
    moved = None
    error = ""
    if apply:
        emit(on_event, Notice("info", f"setting {len(items)} queue priorities in the {backend.name} backend"))
        try:
            moved = backend.set_priorities({it.external_id: it.priority for it in items})
        except ReviewtuiError as exc:  # Kili out of reach: the batch is still worth showing
            emit(on_event, Notice("warning", f"the queue's priorities were not set in the {backend.name} backend: "
                                             f"{exc}; the batch below is this ranking, to label in this order"))
            moved = MoveResult([], {it.external_id: f"not set: {exc}" for it in items})
            error = str(exc)
    return QueueBatch(strategy, size, items, len(lab_ids), pool_size, model is None and strategy != "random",
                      backend.name, moved, time.perf_counter() - t0, first=first,
                      target=classes[column] if column is not None else None, filtered=within is not None,
                      pool=matched, priorities_error=error,
                      suggested_by=None if proba is None else "model" if model is not None else "zero-shot")
