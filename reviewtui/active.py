"""Active learning: query strategies, the labeling queue, and simulation against an oracle.

The quick model (cached sentence embeddings + a linear classifier) scores every unlabeled asset;
a strategy turns its probabilities into the next batch to label:

* ``random``            a uniform sample (the baseline);
* ``least_confidence``  lowest top probability first;
* ``margin``            smallest gap between the two top probabilities first;
* ``entropy``           highest entropy of the probabilities first;
* ``diversity``         the ``DIVERSITY_POOL`` x size most uncertain assets (by margin) are
                        clustered into ``size`` groups by k-means weighted by that uncertainty,
                        and the asset nearest each group's centre is taken: one per region of
                        the uncertain part of the corpus (weighted k-means over an uncertainty
                        pre-filter, as in Zhdanov 2019, "Diverse mini-batch active learning");
* ``weakest``           the category that most needs labels (``target``: fewest labels, or the
                        lowest cross-validated F1, see ``loop.stopping.weakest_category``): the
                        assets whose probability of it is nearest 0.5 first, i.e. that category's
                        one-against-the-rest boundary, where its errors are.

Every strategy but random skips near-duplicates inside a batch: a candidate whose embedding has a
cosine similarity above ``NEAR_DUPLICATE`` with one already picked waits until the batch cannot be
filled otherwise, so a batch is not ``size`` rewordings of the same review.

``build_queue`` writes the batch's priorities to the backend (the local store, or Kili's priority
call) and returns it as data. ``simulate`` replays labeling rounds from an oracle file and returns
learning curves. numpy only at import; sklearn, torch and matplotlib load inside the functions.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.modeling import Cancelled

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.backends import MoveResult
    from reviewtui.workspace import Workspace

STRATEGIES = ("random", "least_confidence", "margin", "entropy", "diversity", "weakest")
ALIASES = {"lc": "least_confidence", "least-confidence": "least_confidence", "uncertainty": "least_confidence",
           "diverse": "diversity", "cluster": "diversity", "kmeans": "diversity", "weakest_category": "weakest",
           "weakest-category": "weakest"}
DIVERSITY_POOL = 3  # diversity clusters the size * DIVERSITY_POOL most uncertain candidates
NEAR_DUPLICATE = 0.9  # cosine similarity above which two candidates count as near-duplicates
TEST_SEED = 42




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


def weighted_kmeans_picks(X: np.ndarray, weights: np.ndarray, k: int, seed: int = 0) -> list[int]:
    """Rows of ``X`` (compared by cosine: rows are scaled to unit length): the one nearest each
    centre of a ``k``-means clustering in which each row counts in proportion to its weight.
    An empty cluster gives none, so the list can be shorter than ``k``."""
    from sklearn.cluster import KMeans

    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    X = X / np.where(norms > 0, norms, 1.0)
    w = np.asarray(weights, dtype=np.float64)
    w = w if np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0 else None
    km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=100).fit(X, sample_weight=w)
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
                 seed: int = 0, n: int | None = None, target: int | None = None) -> np.ndarray:
    """Indices of the ``size`` rows to label next, most useful first.

    ``proba`` is (N, K) class probabilities of the candidates (None before any model exists:
    then uncertainty strategies fall back to :func:`representative_batch` on ``embeddings``, or to
    random without them; ``n`` gives the number of candidates when there is neither).
    ``embeddings`` (N, D) let every strategy but random skip near-duplicates within the batch
    (:func:`skip_near_duplicates`); ``diversity`` needs them. ``weakest`` takes ``target``, the
    column of the category to steer to (without one it ranks as margin). Ties keep input order.
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
    if strategy == "weakest" and target is not None:
        if not 0 <= int(target) < np.asarray(proba).shape[1]:
            raise ReviewtuiError(f"the weakest strategy's category column {target} is not among the "
                                 f"{np.asarray(proba).shape[1]} categories")
        u = target_uncertainty(proba, target)
    else:  # weakest with no category known yet ranks as margin
        u = uncertainty(proba, strategy)
    ranked = np.argsort(-u, kind="stable")
    if strategy != "diversity":
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
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=size, n_init=1, random_state=seed, max_iter=100).fit(X[cand])
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


# --- fitting ----------------------------------------------------------------------------------
def fit_quick(X: np.ndarray, y: Sequence[str], C: float = 10.0):
    """A fitted :class:`~reviewtui.modeling.quick.QuickModel`, or None when ``y`` has fewer than
    two distinct labels (no model can be fitted yet). ``QuickModel.fit`` solves with Newton-CG on
    one BLAS thread: milliseconds for a refit after every labeling round."""
    from reviewtui.modeling.quick import QuickModel

    labels = [str(v) for v in y]
    if len(set(labels)) < 2:
        return None
    return QuickModel(C=C).fit(X, labels)


def proba_for(model, X: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """(N, len(classes)) probabilities of ``model`` with columns in ``classes`` order (zeros for
    classes the model has not seen)."""
    if model is None:
        return np.zeros((len(X), len(classes)), dtype=np.float32)
    return model.proba_for(X, list(classes))


# --- the labeling queue -----------------------------------------------------------------------
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
    (fewer than two training categories labeled) and the batch was chosen by coverage instead."""

    strategy: str
    size: int
    items: list[QueueItem]
    labeled: int
    candidates: int
    cold_start: bool
    backend: str
    moved: "MoveResult | None" = None
    seconds: float = 0.0

    @property
    def external_ids(self) -> list[str]:
        return [i.external_id for i in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "size": self.size, "labeled": self.labeled,
                "candidates": self.candidates, "cold_start": self.cold_start, "backend": self.backend,
                "seconds": self.seconds, "items": [i.__dict__ for i in self.items],
                "failed": dict(self.moved.failed) if self.moved else {}}


def embedding_cache(ws: "Workspace"):
    """The workspace's :class:`EmbeddingCache` for the ``[model]`` base and max length."""
    from reviewtui.modeling.embeddings import EmbeddingCache

    model = ws.config.section("model")
    return EmbeddingCache(ws.cache_dir, str(model.get("embedding_model") or model.get("base") or "minilm"),
                          int(model.get("max_length", 128)))


def training_assets(ws: "Workspace") -> tuple[list[str], list[str], list[str]]:
    """(external_ids, texts, labels) of non-skipped assets whose label is a training category."""
    keys = set(ws.taxonomy.training_keys)
    ids, texts, labels = [], [], []
    for a in ws.store.iter_assets(labeled=True, skipped=False):
        if a.label in keys and a.status in ("LABELED", "REVIEWED", "TO_REVIEW"):
            ids.append(a.external_id)
            texts.append(a.text)
            labels.append(a.label)
    return ids, texts, labels


def build_queue(ws: "Workspace", strategy: str | None = None, size: int | None = None, *, seed: int = 0,
                apply: bool = True, on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> QueueBatch:
    """Choose the next ``size`` unlabeled assets with ``strategy`` and (when ``apply``) set their
    queue priorities in the backend (size..1; every other asset 0). Defaults come from
    ``[active_learning]``. Raises ReviewtuiError on an empty workspace, nothing left to label, or
    an unknown strategy; Cancelled when ``cancel`` is set while embedding."""
    t0 = time.perf_counter()
    settings = ws.config.section("active_learning")
    strategy = check_strategy(strategy or settings.get("strategy", "margin"))
    size = int(size if size is not None else settings.get("batch_size", 50))
    if size < 1:
        raise ReviewtuiError(f"the batch size must be at least 1, not {size}")
    if ws.store.count() == 0:
        raise ReviewtuiError("the workspace has no reviews: import some first (reviewtui import FILE.csv)")
    pool = [a for a in ws.store.iter_assets(statuses=("TODO", "ONGOING"), skipped=False, labeled=False)]
    if not pool:
        raise ReviewtuiError("nothing left to label: every asset is labeled, skipped or in review")
    cap = int(settings.get("candidates", 5000) or 0)
    if strategy != "random" and cap and len(pool) > cap:
        # Score a stable subset of the pool: the same candidates stay in it (and in the embedding
        # cache) until they are labeled, so an interactive re-rank on 40k reviews costs seconds.
        pool = sorted(pool, key=lambda a: hashlib.sha1(a.external_id.encode("utf-8")).digest())[:cap]
        pool.sort(key=lambda a: a.id)
    lab_ids, lab_texts, lab_labels = training_assets(ws)
    classes = ws.taxonomy.training_keys
    X_pool = X_lab = None
    model = None
    need_embed = strategy != "random" or len(set(lab_labels)) >= 2
    if need_embed:
        cache = embedding_cache(ws)
        emb = cache.embed(lab_texts + [a.text for a in pool], on_event=on_event, cancel=cancel)
        X_lab, X_pool = emb[:len(lab_texts)], emb[len(lab_texts):]
        model = fit_quick(X_lab, lab_labels, float(settings.get("C", 10.0)))
    proba = proba_for(model, X_pool, classes) if model is not None and X_pool is not None else None
    picked = select_batch(strategy, proba, size, embeddings=X_pool, seed=seed, n=len(pool))
    scores = uncertainty(proba, strategy) if proba is not None else np.zeros(len(pool))
    items = []
    for rank, i in enumerate(picked):
        a = pool[int(i)]
        sug = conf = None
        if proba is not None:
            j = int(proba[i].argmax())
            sug, conf = classes[j], float(proba[i, j])
        items.append(QueueItem(a.external_id, a.text, float(scores[i]), sug, conf, len(picked) - rank))
    moved = None
    if apply:
        emit(on_event, Notice("info", f"setting {len(items)} queue priorities in the {ws.backend.name} backend"))
        moved = ws.backend.set_priorities({it.external_id: it.priority for it in items})
    return QueueBatch(strategy, size, items, len(lab_ids), len(pool), model is None and strategy != "random",
                      ws.backend.name, moved, time.perf_counter() - t0)


# --- suggestions for the labeling screen ------------------------------------------------------
class Suggester:
    """The quick model's suggestion for assets being labeled. Refits only when the training
    labels changed by ``retrain_every`` or more since the last fit (or a category appeared)."""

    def __init__(self, ws: "Workspace") -> None:
        self.ws = ws
        self._cache = None  # one EmbeddingCache: it keeps the vectors in memory between calls
        self._model = None
        self._fitted_on: dict[str, str] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        ids, texts, labels = training_assets(self.ws)
        current = dict(zip(ids, labels))
        every = int(self.ws.config.section("active_learning").get("retrain_every", 10) or 1)
        changed = sum(1 for k, v in current.items() if self._fitted_on.get(k) != v)
        changed += sum(1 for k in self._fitted_on if k not in current)
        new_class = set(labels) - set(self._fitted_on.values())
        if self._model is not None and changed < every and not new_class:
            return
        if len(set(labels)) < 2:
            self._model, self._fitted_on = None, {}
            return
        X = self.cache.embed(texts)
        self._model = fit_quick(X, labels, float(self.ws.config.section("active_learning").get("C", 10.0)))
        self._fitted_on = current

    @property
    def cache(self):
        if self._cache is None:
            self._cache = embedding_cache(self.ws)
        return self._cache

    def suggestions(self, external_ids: Sequence[str]) -> dict[str, tuple[str, float]]:
        """external id -> (label, probability) from the quick model; empty before two training
        categories are labeled. Unknown ids raise ReviewtuiError."""
        with self._lock:
            self._refresh()
            if self._model is None or not external_ids:
                return {}
            assets = [self.ws.store.get(e) for e in external_ids]
            X = self.cache.embed([a.text for a in assets])
            p = self._model.predict_proba(X)
            out = {}
            for a, row in zip(assets, p):
                j = int(row.argmax())
                out[a.external_id] = (self._model.classes_[j], float(row[j]))
            return out


# --- oracle files -----------------------------------------------------------------------------
@dataclass
class Oracle:
    """external id -> label key, read from an oracle file and checked against the workspace."""

    path: Path
    labels: dict[str, str]
    id_column: str
    missing: list[str] = field(default_factory=list)  # ids not in the workspace (when allowed)


def read_oracle(path: str | Path, ws: "Workspace", *, allow_missing: bool = False) -> Oracle:
    """Read an oracle CSV (an id column — reviewId, externalId, id or external_id — and a label
    column — label or category). The id column is the candidate whose values match the
    workspace's ids best. Raises ReviewtuiError on a missing/unreadable file, an unknown label
    (naming the line), or ids not in the workspace (unless ``allow_missing``)."""
    from reviewtui.workspace import read_csv_rows

    p, header, rows = read_csv_rows(path, "oracle file")
    id_cols = [c for c in ("reviewId", "externalId", "id", "external_id") if c in header]
    label_col = next((c for c in ("label", "category") if c in header), None)
    if not id_cols or label_col is None:
        raise ReviewtuiError(f"{p}: an oracle file needs an id column (reviewId, externalId or id) and a "
                             f"label column (label or category); the columns are: {', '.join(header) or 'none'}")
    if not rows:
        raise ReviewtuiError(f"{p}: the oracle file has no rows")
    best, best_hits = id_cols[0], -1
    for c in id_cols:
        hits = len(ws.store.existing_ids((r[c] or "").strip() for r in rows))
        if hits > best_hits:
            best, best_hits = c, hits
    labels: dict[str, str] = {}
    for line, r in enumerate(rows, start=2):
        ext = (r[best] or "").strip()
        if not ext:
            raise ReviewtuiError(f"{p}: line {line}: empty id in column {best!r}")
        labels[ext] = ws.taxonomy.require(r[label_col] or "", f"{p}: line {line}")
    present = ws.store.existing_ids(labels)
    missing = [i for i in labels if i not in present]
    if missing and not allow_missing:
        raise ReviewtuiError(
            f"{p}: {len(missing)} of {len(labels)} ids (column {best!r}) are not in this workspace, e.g. "
            f"{', '.join(repr(m) for m in missing[:3])}: import those reviews first, or pass --allow-missing "
            "to leave them out (rows the import dropped as empty are expected to be missing)")
    if not present:
        raise ReviewtuiError(f"{p}: none of its ids are in this workspace; is it the oracle of another corpus?")
    for m in missing:
        del labels[m]
    return Oracle(p, labels, best, missing)


# --- simulation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurvePoint:
    """Held-out scores after one round. ``labels`` counts every oracle answer spent (OTHER and
    MULTI_LABEL too); ``train_labels`` those that went into training."""

    strategy: str
    seed: int
    round: int
    labels: int
    train_labels: int
    accuracy: float
    macro_f1: float
    fit_seconds: float


@dataclass
class SimulationResult:
    """Learning curves per strategy and seed on a fixed held-out split, and the full-pool score."""

    points: list[CurvePoint]
    strategies: list[str]
    seeds: list[int]
    batch: int
    rounds: int
    pool_size: int
    test_size: int
    full_pool: dict[str, float]
    csv_path: Path | None = None
    png_path: Path | None = None
    summary_path: Path | None = None

    def frame(self):
        """The points as a pandas DataFrame (one row per strategy, seed and round)."""
        import pandas as pd

        return pd.DataFrame([p.__dict__ for p in self.points])

    def mean_curves(self) -> dict[str, list[tuple[int, float, float, float, float]]]:
        """strategy -> [(labels, mean accuracy, std accuracy, mean macro-F1, std macro-F1)] by round."""
        out: dict[str, list[tuple[int, float, float, float, float]]] = {}
        for s in self.strategies:
            rounds: dict[int, list[CurvePoint]] = {}
            for p in self.points:
                if p.strategy == s:
                    rounds.setdefault(p.round, []).append(p)
            rows = []
            for r in sorted(rounds):
                ps = rounds[r]
                acc = np.array([p.accuracy for p in ps])
                f1 = np.array([p.macro_f1 for p in ps])
                rows.append((int(round(np.mean([p.labels for p in ps]))), float(acc.mean()), float(acc.std()),
                             float(f1.mean()), float(f1.std())))
            out[s] = rows
        return out

    def labels_to_reach(self, fraction: float = 0.95, metric: str = "macro_f1",
                        interpolate: bool = False) -> dict[str, float | None]:
        """strategy -> labels at the first round whose mean ``metric`` reaches ``fraction`` of the
        full-pool score (None when it never does within the rounds run). With ``interpolate`` the
        crossing is placed linearly between that round and the one before, which is less coarse
        than whole batches when comparing strategies."""
        target = fraction * self.full_pool[metric]
        col = 3 if metric == "macro_f1" else 1
        out: dict[str, float | None] = {}
        for s, rows in self.mean_curves().items():
            i = next((k for k, r in enumerate(rows) if r[col] >= target - 1e-12), None)
            if i is None:
                out[s] = None
            elif not interpolate or i == 0:
                out[s] = rows[i][0]
            else:
                (l0, f0), (l1, f1) = (rows[i - 1][0], rows[i - 1][col]), (rows[i][0], rows[i][col])
                out[s] = round(l0 + (target - f0) / (f1 - f0) * (l1 - l0), 1) if f1 > f0 else float(l1)
        return out


def _scores(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return (float(accuracy_score(y_true, y_pred)),
            float(f1_score(y_true, y_pred, labels=list(classes), average="macro", zero_division=0)))


def held_out_split(labels: Sequence[str], training_keys: Sequence[str], test_fraction: float = 0.2,
                   seed: int = TEST_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(pool indices, test indices): a stratified split of the rows whose label is a training key
    into test; every other row (and the rest) is the pool. Fixed ``seed`` so every strategy and
    seed is scored on the same test rows."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    trainable = np.array([lab in set(training_keys) for lab in labels], dtype=bool)
    cand = idx[trainable]
    y = np.asarray(labels, dtype=object)[cand]
    _, counts = np.unique(y, return_counts=True)
    strat = y if len(counts) > 1 and counts.min() >= 2 else None
    _, test = train_test_split(cand, test_size=test_fraction, random_state=seed, stratify=strat)
    test = np.sort(test)
    pool = np.setdiff1d(idx, test)
    return pool, test


def simulate_arrays(embeddings: np.ndarray, labels: Sequence[str], training_keys: Sequence[str], *,
                    strategies: Sequence[str] = ("random", "margin", "diversity"), batch: int = 50,
                    rounds: int = 10, seeds: int | Sequence[int] = 5, initial: int | None = None,
                    test_fraction: float = 0.2, C: float = 10.0, on_event: EventSink | None = None,
                    cancel: threading.Event | None = None) -> SimulationResult:
    """Replay labeling rounds on in-memory data.

    Every strategy and seed starts from the same random ``initial`` labels (default ``batch``) of
    that seed, then labels ``batch`` more per round with the strategy, refitting the quick model
    each round; after each fit it is scored on the fixed held-out split (accuracy, macro-F1 over
    ``training_keys`` present in the test). Rows whose label is not a training key cost a label but
    are not trained on. Raises ReviewtuiError when there is too little data.
    """
    X = np.asarray(embeddings, dtype=np.float32)
    labels = [str(v) for v in labels]
    if len(X) != len(labels):
        raise ReviewtuiError(f"simulation: {len(labels)} labels for {len(X)} embeddings")
    strategies = [check_strategy(s) for s in strategies]
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if batch < 1 or rounds < 0 or not seed_list:
        raise ReviewtuiError("simulation needs --batch >= 1, --rounds >= 0 and at least one seed")
    train_keys = list(training_keys)
    n_trainable = sum(lab in set(train_keys) for lab in labels)
    if n_trainable < 10 or len({lab for lab in labels if lab in train_keys}) < 2:
        raise ReviewtuiError(f"simulation needs at least 10 oracle labels in two or more training categories; "
                             f"the oracle has {n_trainable}")
    pool, test = held_out_split(labels, train_keys, test_fraction)
    y = np.asarray(labels, dtype=object)
    test_classes = [k for k in train_keys if k in set(y[test])]
    X_test, y_test = X[test], list(y[test])
    is_train = np.array([lab in set(train_keys) for lab in labels], dtype=bool)

    def score(idx: np.ndarray):
        t = time.perf_counter()
        fit_idx = idx[is_train[idx]]
        model = fit_quick(X[fit_idx], list(y[fit_idx]), C)
        secs = time.perf_counter() - t
        if model is None:  # one class so far: predict it everywhere
            only = y[fit_idx][0] if len(fit_idx) else None
            pred = [only] * len(y_test)
        else:
            pred = model.predict(X_test)
        acc, f1 = _scores(y_test, pred, test_classes)
        return acc, f1, len(fit_idx), secs, model

    full_acc, full_f1, _, _, _ = score(pool)
    initial = int(initial if initial is not None else batch)
    total_steps = len(strategies) * len(seed_list) * (rounds + 1)
    step = 0
    points: list[CurvePoint] = []
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        start = rng.choice(pool, size=min(initial, len(pool)), replace=False)
        for strategy in strategies:
            labeled = np.array(start, dtype=int)
            model = None
            for r in range(rounds + 1):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"simulation cancelled after {step} of {total_steps} rounds")
                if r > 0:  # the model scored last round is the one that picks this round's batch
                    rest = np.setdiff1d(pool, labeled)
                    if len(rest) == 0:
                        break
                    proba = proba_for(model, X[rest], train_keys) if model is not None else None
                    pick = select_batch(strategy, proba, batch, embeddings=X[rest], seed=seed * 1000 + r)
                    labeled = np.concatenate([labeled, rest[pick]])
                acc, f1, n_train, secs, model = score(labeled)
                points.append(CurvePoint(strategy, seed, r, len(labeled), n_train, acc, f1, secs))
                step += 1
                emit(on_event, Progress("simulate", step, total_steps, f"{strategy} seed {seed}"))
    return SimulationResult(points, strategies, seed_list, batch, rounds, len(pool), len(test),
                            {"accuracy": full_acc, "macro_f1": full_f1})


def simulate_workspace(ws: "Workspace", oracle_path: str | Path, *, strategies: Sequence[str] | None = None,
                       batch: int | None = None, rounds: int = 10, seeds: int = 5, initial: int | None = None,
                       test_fraction: float = 0.2, allow_missing: bool = False, write: bool = True,
                       on_event: EventSink | None = None, cancel: threading.Event | None = None) -> SimulationResult:
    """Simulate labeling the workspace's assets from an oracle file (see :func:`simulate_arrays`)
    and, when ``write``, save ``results/simulation/curves.csv``, ``summary.csv`` and
    ``learning_curves.png``. Raises ReviewtuiError on a bad oracle file (nothing written)."""
    settings = ws.config.section("active_learning")
    oracle = read_oracle(oracle_path, ws, allow_missing=allow_missing)
    if oracle.missing:
        emit(on_event, Notice("warning", f"{len(oracle.missing)} oracle ids are not in the workspace; left out"))
    strategies = list(strategies or ("random", "margin", "diversity"))
    batch = int(batch or settings.get("batch_size", 50))
    ids = list(oracle.labels)
    texts = {e: t for e, t in ws.store.texts()}
    X = embedding_cache(ws).embed([texts[i] for i in ids], on_event=on_event, cancel=cancel)
    result = simulate_arrays(X, [oracle.labels[i] for i in ids], ws.taxonomy.training_keys,
                             strategies=strategies, batch=batch, rounds=rounds, seeds=seeds, initial=initial,
                             test_fraction=test_fraction, C=float(settings.get("C", 10.0)),
                             on_event=on_event, cancel=cancel)
    if write:
        write_simulation(result, ws.results_dir / "simulation")
    return result


def write_simulation(result: SimulationResult, folder: Path) -> SimulationResult:
    """Write curves.csv (every point), summary.csv (mean/std per strategy and round, and labels to
    reach 95% of the full-pool macro-F1) and learning_curves.png into ``folder``, atomically."""
    from reviewtui.analysis.export import write_csv_atomic
    from reviewtui.config import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols = ["strategy", "seed", "round", "labels", "train_labels", "accuracy", "macro_f1", "fit_seconds"]
    write_csv_atomic(folder / "curves.csv", cols, [[getattr(p, c) for c in cols] for p in result.points])
    reach = result.labels_to_reach(0.95)
    interp = result.labels_to_reach(0.95, interpolate=True)
    rows = []
    for s, curve in result.mean_curves().items():
        for r, (n, acc, acc_sd, f1, f1_sd) in enumerate(curve):
            rows.append([s, r, n, round(acc, 4), round(acc_sd, 4), round(f1, 4), round(f1_sd, 4),
                         "" if reach[s] is None else reach[s], "" if interp[s] is None else interp[s]])
    write_csv_atomic(folder / "summary.csv", ["strategy", "round", "labels", "accuracy_mean", "accuracy_std",
                                              "macro_f1_mean", "macro_f1_std", "labels_to_95pct_full_f1",
                                              "labels_to_95pct_interpolated"], rows)
    atomic_write_bytes(folder / "learning_curves.png", learning_curve_png(result))
    result.csv_path = folder / "curves.csv"
    result.summary_path = folder / "summary.csv"
    result.png_path = folder / "learning_curves.png"
    return result


def learning_curve_png(result: SimulationResult) -> bytes:
    """A PNG of mean accuracy and macro-F1 against labels, one line per strategy (std band)."""
    from reviewtui.analysis.charts import figure_png, pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for s, curve in result.mean_curves().items():
        n = [c[0] for c in curve]
        for ax, (m, sd) in zip(axes, ((1, 2), (3, 4))):
            mean = np.array([c[m] for c in curve])
            std = np.array([c[sd] for c in curve])
            ax.plot(n, mean, marker="o", ms=3, label=s)
            ax.fill_between(n, mean - std, mean + std, alpha=0.15)
    for ax, name, key in zip(axes, ("accuracy", "macro-F1"), ("accuracy", "macro_f1")):
        ax.axhline(result.full_pool[key], color="grey", ls="--", lw=1, label="full pool")
        ax.set_xlabel("labels")
        ax.set_ylabel(f"held-out {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Learning curves ({len(result.seeds)} seeds, batch {result.batch}, test {result.test_size})")
    return figure_png(fig)

