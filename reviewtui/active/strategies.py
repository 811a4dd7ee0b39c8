"""Query strategies: which unlabeled assets are most useful to label next.

The quick model's probabilities (or, before a model exists, the embeddings alone) go in; the
indices of the next batch come out. See the package docstring for what each strategy does.
numpy only at import; sklearn loads inside the functions that cluster.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError

STRATEGIES = ("random", "least_confidence", "margin", "entropy", "diversity", "weakest")
ALIASES = {"lc": "least_confidence", "least-confidence": "least_confidence", "uncertainty": "least_confidence",
           "diverse": "diversity", "cluster": "diversity", "kmeans": "diversity", "weakest_category": "weakest",
           "weakest-category": "weakest"}
DIVERSITY_POOL = 3  # diversity clusters the size * DIVERSITY_POOL most uncertain candidates
NEAR_DUPLICATE = 0.9  # cosine similarity above which two candidates count as near-duplicates


def check_strategy(name: str) -> str:
    """The canonical strategy name for ``name``; raises ReviewtuiError naming the known ones."""
    key = str(name or "").strip().lower().replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in STRATEGIES:
        raise ReviewtuiError(f"unknown strategy {name!r}: use one of {', '.join(STRATEGIES)}")
    return key


# --- scores and selection ---------------------------------------------------------------------
def uncertainty(proba: np.ndarray, strategy: str) -> np.ndarray:
    """Per-row uncertainty (higher = more useful to label) under ``strategy``.

    least_confidence: 1 - max p; margin (and diversity): 1 - (p1 - p2); entropy: -sum p log p;
    random: zeros; weakest (without its target category): as margin.
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be 2-D, got shape {p.shape}")
    if strategy == "random" or len(p) == 0:
        return np.zeros(len(p))
    if strategy == "least_confidence":
        return 1.0 - p.max(axis=1)
    if strategy in ("margin", "diversity", "weakest"):
        if p.shape[1] < 2:
            return np.zeros(len(p))
        top2 = -np.partition(-p, 1, axis=1)[:, :2]
        return 1.0 - (top2[:, 0] - top2[:, 1])
    if strategy == "entropy":
        return -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=1)
    raise ReviewtuiError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")


def skip_near_duplicates(order: Sequence[int], embeddings: np.ndarray, size: int,
                         threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """The first ``size`` of ``order`` (indices into ``embeddings``, best first), skipping each
    candidate whose cosine similarity with one already taken is above ``threshold``; when too few
    are left, the skipped ones fill the batch in their order. Deterministic; order is kept."""
    order = [int(i) for i in order]
    size = max(0, min(int(size), len(order)))
    if size <= 1 or threshold >= 1.0:
        return np.asarray(order[:size], dtype=int)
    E = np.asarray(embeddings)
    unit = np.zeros((size, E.shape[1]), dtype=np.float32)
    taken: list[int] = []
    skipped: list[int] = []
    for i in order:
        v = np.asarray(E[i], dtype=np.float32)
        norm = float(np.linalg.norm(v))
        if norm > 0:
            v = v / norm
        if taken and float((unit[:len(taken)] @ v).max()) > threshold:
            skipped.append(i)
            continue
        unit[len(taken)] = v
        taken.append(i)
        if len(taken) == size:
            break
    return np.asarray(taken + skipped[:size - len(taken)], dtype=int)


def _kmeans(X: np.ndarray, k: int, seed: int, weights: np.ndarray | None = None):
    """scikit-learn's KMeans of ``k`` clusters fitted on ``X`` (rows weighted by ``weights``), one
    quick run; fewer distinct rows than clusters (repeated reviews) gives fewer clusters, without
    the ConvergenceWarning that reached the terminal."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=100).fit(X, sample_weight=weights)


def weighted_kmeans_picks(X: np.ndarray, weights: np.ndarray, k: int, seed: int = 0) -> list[int]:
    """Rows of ``X`` (compared by cosine: rows are scaled to unit length): the one nearest each
    centre of a ``k``-means clustering in which each row counts in proportion to its weight.
    An empty cluster gives none, so the list can be shorter than ``k``."""
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    X = X / np.where(norms > 0, norms, 1.0)
    w = np.asarray(weights, dtype=np.float64)
    w = w if np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0 else None
    km = _kmeans(X, k, seed, w)
    picked: list[int] = []
    for c, centre in enumerate(km.cluster_centers_):
        members = np.flatnonzero(km.labels_ == c)
        if len(members):
            picked.append(int(members[int(np.argmin(((X[members] - centre) ** 2).sum(axis=1)))]))
    return picked


def target_uncertainty(proba: np.ndarray, target: int) -> np.ndarray:
    """Per-row uncertainty about one category: 1 - |2 p - 1| for its probability p (1 at p = 0.5)."""
    p = np.asarray(proba, dtype=np.float64)[:, int(target)]
    return 1.0 - np.abs(2.0 * p - 1.0)


def select_batch(strategy: str, proba: np.ndarray | None, size: int, *, embeddings: np.ndarray | None = None,
                 seed: int = 0, n: int | None = None, target: int | None = None,
                 target_scores: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``size`` rows to label next, most useful first.

    ``proba`` is (N, K) class probabilities of the candidates (None before any model exists:
    then uncertainty strategies fall back to :func:`representative_batch` on ``embeddings``, or to
    random without them; ``n`` gives the number of candidates when there is neither).
    ``embeddings`` (N, D) let every strategy but random skip near-duplicates within the batch
    (:func:`skip_near_duplicates`); ``diversity`` needs them. ``weakest`` takes ``target``, the
    column of the category to steer to (without one it ranks as margin), or ``target_scores``, a
    score per row to rank by instead (a category with no label yet: how like it each review is).
    Ties keep input order.
    """
    strategy = check_strategy(strategy)
    if n is None:
        n = len(proba) if proba is not None else (len(embeddings) if embeddings is not None else 0)
    size = max(0, min(int(size), n))
    if size == 0:
        return np.zeros(0, dtype=int)
    rng = np.random.default_rng(seed)
    if strategy == "random":
        return rng.choice(n, size=size, replace=False)
    if proba is None:
        if embeddings is not None:
            return representative_batch(embeddings, size, seed=seed)
        return rng.choice(n, size=size, replace=False)
    if strategy == "weakest" and target_scores is not None:
        u = np.asarray(target_scores, dtype=np.float64)
    elif strategy == "weakest" and target is not None:
        if not 0 <= int(target) < np.asarray(proba).shape[1]:
            raise ReviewtuiError(f"the weakest strategy's category column {target} is not among the "
                                 f"{np.asarray(proba).shape[1]} categories")
        u = target_uncertainty(proba, target)
    else:  # weakest with no category known yet ranks as margin
        u = uncertainty(proba, strategy)
    ranked = np.argsort(-u, kind="stable")
    # weakest spreads its batch as diversity does: the reviews nearest one category's boundary are
    # often one complaint in many words ("bad customer support"), which teach the model little
    spread = strategy == "diversity" or (strategy == "weakest" and embeddings is not None)
    if not spread:
        return ranked[:size] if embeddings is None else skip_near_duplicates(ranked, embeddings, size)
    if embeddings is None:
        raise ReviewtuiError("the diversity strategy needs the embeddings of the candidates")
    pool = ranked[:min(n, size * DIVERSITY_POOL)]
    picked: list[int] = []
    if len(pool) > size:
        picked = [int(pool[j]) for j in weighted_kmeans_picks(np.asarray(embeddings)[pool], u[pool], size, seed)]
        picked.sort(key=lambda i: (-u[i], i))
    # an empty cluster (or a pool no larger than the batch): fill with the next most uncertain
    chosen = set(picked)
    return skip_near_duplicates(picked + [int(i) for i in ranked if int(i) not in chosen], embeddings, size)


def representative_batch(embeddings: np.ndarray, size: int, *, seed: int = 0, sample: int = 20_000) -> np.ndarray:
    """A cold-start batch: the asset nearest each of ``size`` k-means centroids (of a sample of at
    most ``sample`` rows), so the first labels cover the corpus."""
    X = np.asarray(embeddings, dtype=np.float32)
    n = len(X)
    size = min(int(size), n)
    rng = np.random.default_rng(seed)
    cand = np.sort(rng.choice(n, size=min(n, sample), replace=False)) if n > sample else np.arange(n)
    if size >= len(cand):
        return cand[:size]
    km = _kmeans(X[cand], size, seed)
    picked: list[int] = []
    taken: set[int] = set()
    for centre in km.cluster_centers_:
        order = np.argsort(((X[cand] - centre) ** 2).sum(axis=1))
        for j in order:
            if int(cand[j]) not in taken:
                taken.add(int(cand[j]))
                picked.append(int(cand[j]))
                break
    return np.asarray(picked, dtype=int)

