"""Simulating labeling rounds against an oracle: learning curves of each strategy.

``simulate_arrays`` replays rounds on in-memory embeddings and labels; ``simulate_oracle`` does it
for a store's assets and an oracle file. Writing the curves (CSV, PNG) is the analysis package's
``learning_curves`` module.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from reviewtui.active.model import fit_quick, proba_for
from reviewtui.active.oracle import read_oracle
from reviewtui.active.strategies import check_strategy, select_batch
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.modeling import Cancelled
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache

TEST_SEED = 42
DEFAULT_STRATEGIES = ("random", "margin", "diversity")


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
                    strategies: Sequence[str] = DEFAULT_STRATEGIES, batch: int | None = None,
                    rounds: int = 10, seeds: int | Sequence[int] = 5, initial: int | None = None,
                    test_fraction: float = 0.2, C: float | None = None, on_event: EventSink | None = None,
                    cancel: threading.Event | None = None) -> SimulationResult:
    """Replay labeling rounds on in-memory data.

    Every strategy and seed starts from the same random ``initial`` labels (default ``batch``) of
    that seed, then labels ``batch`` more per round with the strategy, refitting the quick model
    each round; after each fit it is scored on the fixed held-out split (accuracy, macro-F1 over
    ``training_keys`` present in the test). Rows whose label is not a training key cost a label but
    are not trained on. ``batch`` and the quick model's ``C`` default to ``[active_learning]``'s
    defaults. Raises ReviewtuiError when there is too little data.
    """
    defaults = ActiveLearningSettings()
    batch = defaults.batch_size if batch is None else int(batch)
    C = defaults.C if C is None else C
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


def oracle_embeddings(store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache", oracle_path: str | Path, *,
                      allow_missing: bool = False, on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> tuple[np.ndarray, list[str]]:
    """The embeddings (through ``cache``) and the oracle's labels of the assets an oracle file
    labels, in the file's order; a warning names the oracle ids left out with ``allow_missing``.
    Raises ReviewtuiError on a bad oracle file."""
    oracle = read_oracle(oracle_path, store, taxonomy, allow_missing=allow_missing)
    if oracle.missing:
        emit(on_event, Notice("warning", f"{len(oracle.missing)} oracle ids are not in the workspace; left out"))
    ids = list(oracle.labels)
    texts = store.texts_of(ids)
    X = cache.embed([texts[i] for i in ids], on_event=on_event, cancel=cancel)
    return X, [oracle.labels[i] for i in ids]


def simulate_oracle(store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache", settings: ActiveLearningSettings,
                    oracle_path: str | Path, *, strategies: Sequence[str] | None = None, batch: int | None = None,
                    rounds: int = 10, seeds: int = 5, initial: int | None = None, test_fraction: float = 0.2,
                    allow_missing: bool = False, on_event: EventSink | None = None,
                    cancel: threading.Event | None = None) -> SimulationResult:
    """Simulate labeling the assets of ``store`` from an oracle file (see :func:`simulate_arrays`),
    embedding them with ``cache``; ``settings`` gives the default batch size and the quick model's
    C. Raises ReviewtuiError on a bad oracle file, Cancelled when ``cancel`` is set."""
    X, labels = oracle_embeddings(store, taxonomy, cache, oracle_path, allow_missing=allow_missing,
                                  on_event=on_event, cancel=cancel)
    return simulate_arrays(X, labels, taxonomy.training_keys,
                           strategies=list(strategies or DEFAULT_STRATEGIES), batch=int(batch or settings.batch_size),
                           rounds=rounds, seeds=seeds, initial=initial, test_fraction=test_fraction, C=settings.C,
                           on_event=on_event, cancel=cancel)
