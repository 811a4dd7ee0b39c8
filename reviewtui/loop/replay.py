"""The labeling loop replayed against an oracle: cold start, the prior blend and the stop signal.

Like ``active.simulate_arrays`` (a fixed stratified held-out split, the quick model refitted every
round), but the first batch can be chosen by the zero-shot model instead of at random, the
zero-shot prior can be blended into the quick model while labels are few, and after every round
the stop signal is computed as the labeling screen would (kappa between consecutive models on a
fixed stop set, mean uncertainty, cross-validated macro-F1). The benchmarks use it to measure the
labels a cold start saves and where the stop signal fires against where the curve flattens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Progress, emit
from reviewtui.loop.stopping import DEFAULTS, StopSignal, cohen_kappa, cross_validate, weakest_category
from reviewtui.loop.zeroshot import ZeroShotModel, blend, zero_shot_batch
from reviewtui.modeling import Cancelled

FIRST_BATCHES = ("random", "zeroshot")


@dataclass(frozen=True)
class ReplayPoint:
    """One round of one seed: held-out ``accuracy``/``macro_f1`` of the model that would be shown
    (the blend when a prior is on), and the stop signal after the round. ``kappa_shown`` compares
    the shown model's predictions on the stop set with the previous round's (the quick model's
    own are ``kappa``, what the stop signal follows)."""

    seed: int
    round: int
    labels: int
    train_labels: int
    accuracy: float
    macro_f1: float
    kappa: float | None
    mean_uncertainty: float
    cv_macro_f1: float | None
    stable: int
    stop: bool
    per_class_f1: dict[str, float] = field(default_factory=dict)  # held-out, per training category
    kappa_shown: float | None = None


@dataclass
class ReplayResult:
    """Every round of every seed, and the score of a model trained on the whole pool."""

    points: list[ReplayPoint]
    first: str
    strategy: str
    prior_labels: float
    batch: int
    seeds: list[int]
    pool_size: int
    test_size: int
    full_pool: dict[str, float]

    def curve(self, seed: int | None = None, metric: str = "macro_f1") -> list[tuple[int, float]]:
        """[(labels, metric)] by round: one seed's, or the mean over seeds (labels rounded)."""
        rounds: dict[int, list[ReplayPoint]] = {}
        for p in self.points:
            if seed is None or p.seed == seed:
                rounds.setdefault(p.round, []).append(p)
        return [(int(round(np.mean([p.labels for p in ps]))), float(np.mean([getattr(p, metric) for p in ps])))
                for r, ps in sorted(rounds.items())]

    def labels_to_reach(self, fraction: float = 0.95, *, interpolate: bool = True) -> float | None:
        """Labels at which the mean macro-F1 curve first reaches ``fraction`` of the full-pool
        macro-F1 (linearly placed between rounds with ``interpolate``); None when it never does."""
        return crossing(self.curve(), fraction * self.full_pool["macro_f1"], interpolate=interpolate)

    def stop_points(self) -> dict[int, ReplayPoint | None]:
        """seed -> the first round at which the stop signal said stop (None when it never did)."""
        out: dict[int, ReplayPoint | None] = {}
        for s in self.seeds:
            out[s] = next((p for p in self.points if p.seed == s and p.stop), None)
        return out


def crossing(curve: Sequence[tuple[int, float]], target: float, *, interpolate: bool = True) -> float | None:
    """The labels at which ``curve`` [(labels, value)] first reaches ``target``."""
    for i, (n, v) in enumerate(curve):
        if v >= target - 1e-12:
            if not interpolate or i == 0:
                return float(n)
            (n0, v0) = curve[i - 1]
            return float(n0 + (target - v0) / (v - v0) * (n - n0)) if v > v0 else float(n)
    return None


def replay(embeddings: np.ndarray, labels: Sequence[str], training_keys: Sequence[str], *,
           first: str = "random", zero_shot: ZeroShotModel | None = None, strategy: str = "margin",
           batch: int = 10, rounds: int = 25, seeds: int | Sequence[int] = 5, prior_labels: float = 0.0,
           kappa: float = DEFAULTS.stop_kappa, stable_rounds: int = DEFAULTS.stop_rounds,
           stop_sample: int = DEFAULTS.stop_sample, test_fraction: float = 0.2,
           C: float = DEFAULTS.C, validate: bool = True, calibrate: bool = False,
           stop_pool: np.ndarray | None = None, on_event: EventSink | None = None, cancel: threading.Event | None = None) -> ReplayResult:
    """Replay ``rounds`` labeling rounds of ``batch`` labels after a first batch of ``batch``
    (``first``: "random", or "zeroshot" with ``zero_shot``), selecting with ``strategy``
    (``weakest`` steers to :func:`weakest_category` of the cross-validated scores). With
    ``prior_labels`` > 0 the zero-shot prior is blended into the quick model
    (:func:`~reviewtui.loop.zeroshot.blend`) for selection and scoring; with ``calibrate`` its
    temperature is refitted to the labels every round. Rows whose label is not a
    training key cost a label but are not trained on. The stop set is ``stop_sample`` rows of the
    pool, or of ``stop_pool`` (embeddings of unlabeled reviews, as the labeling screen's stop set)
    when given. Raises ReviewtuiError on bad arguments."""
    from reviewtui.active import check_strategy, fit_quick, held_out_split, proba_for, select_batch

    X = np.asarray(embeddings, dtype=np.float32)
    labels = [str(v) for v in labels]
    keys = list(training_keys)
    strategy = check_strategy(strategy)
    if first not in FIRST_BATCHES:
        raise ReviewtuiError(f"unknown first batch {first!r}: use one of {', '.join(FIRST_BATCHES)}")
    if (first == "zeroshot" or prior_labels > 0) and zero_shot is None:
        raise ReviewtuiError("a zero-shot first batch or prior needs a zero-shot model")
    if len(X) != len(labels) or batch < 1 or rounds < 0:
        raise ReviewtuiError("replay needs one label per embedding, batch >= 1 and rounds >= 0")
    X_stop = X if stop_pool is None else np.asarray(stop_pool, dtype=np.float32)
    if X_stop.ndim != 2 or X_stop.shape[1] != X.shape[1] or not len(X_stop):
        raise ReviewtuiError(f"the stop pool must be embeddings of width {X.shape[1]}, got shape {X_stop.shape}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    pool, test = held_out_split(labels, keys, test_fraction)
    stop_candidates = pool if stop_pool is None else np.arange(len(X_stop))
    y = np.asarray(labels, dtype=object)
    is_train = np.isin(y, keys)
    test_classes = [k for k in keys if k in set(y[test])]
    y_test = list(y[test])
    prior_all = zero_shot.proba_for(X, keys) if zero_shot is not None else None
    temperature = zero_shot.temperature if zero_shot is not None else 0.0

    def scores(pred: Sequence[str]) -> tuple[float, float, dict[str, float]]:
        from sklearn.metrics import accuracy_score, f1_score

        per = f1_score(y_test, list(pred), labels=test_classes, average=None, zero_division=0)
        return float(accuracy_score(y_test, list(pred))), float(np.mean(per)), dict(zip(test_classes, map(float, per)))

    full = fit_quick(X[pool[is_train[pool]]], list(y[pool[is_train[pool]]]), C)
    full_acc, full_f1, _ = scores(full.predict(X[test]))
    total = len(seed_list) * (rounds + 1)
    step = 0
    points: list[ReplayPoint] = []
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        stop_set = np.sort(rng.choice(stop_candidates, size=min(stop_sample, len(stop_candidates)), replace=False))
        signal = StopSignal(kappa=kappa, rounds=stable_rounds)
        shown_before: list[str] | None = None
        if first == "random":
            labeled = rng.choice(pool, size=min(batch, len(pool)), replace=False)
        else:
            assert prior_all is not None
            labeled = pool[zero_shot_batch(prior_all[pool], X[pool], batch, seed=seed)]
        model = None
        target = None
        if calibrate and zero_shot is not None:
            zero_shot.temperature = temperature
            prior_all = zero_shot.proba_for(X, keys)
        for r in range(rounds + 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"replay cancelled after {step} of {total} rounds")
            if r > 0:
                rest = np.setdiff1d(pool, labeled)
                if len(rest) == 0:
                    break
                p = probabilities(model, X[rest], keys, prior_all[rest] if prior_all is not None else None,
                                  n_train, prior_labels)
                pick = select_batch(strategy, p, batch, embeddings=X[rest], seed=seed * 1000 + r, target=target)
                labeled = np.concatenate([labeled, rest[pick]])
            fit_idx = labeled[is_train[labeled]]
            n_train = len(fit_idx)
            if calibrate and zero_shot is not None and prior_labels > 0:
                zero_shot.calibrate(X[fit_idx], list(y[fit_idx]))
                prior_all = zero_shot.proba_for(X, keys)
            model = fit_quick(X[fit_idx], list(y[fit_idx]), C)
            p_test = probabilities(model, X[test], keys, prior_all[test] if prior_all is not None else None,
                                   n_train, prior_labels)
            if p_test is None:  # one category so far and no prior: it is predicted everywhere
                only = y[fit_idx][0] if n_train else keys[0]
                pred = [only] * len(test)
            else:
                pred = [keys[j] for j in p_test.argmax(axis=1)]
            acc, f1, per = scores(pred)
            # the stop signal follows the quick model alone: the prior is the same every round and
            # would make early models look stable while the labels still move them
            p_stop = proba_for(model, X_stop[stop_set], keys) if model is not None else None
            if p_stop is None:
                only = y[fit_idx][0] if n_train else keys[0]
                p_stop = np.tile(np.eye(len(keys), dtype=np.float32)[keys.index(only)], (len(stop_set), 1))
            prior_stop = None
            if prior_all is not None:
                prior_stop = prior_all[stop_set] if stop_pool is None else zero_shot.proba_for(X_stop[stop_set], keys)
            p_shown = probabilities(model, X_stop[stop_set], keys, prior_stop, n_train, prior_labels)
            shown = [keys[j] for j in (p_shown if p_shown is not None else p_stop).argmax(axis=1)]
            kappa_shown = cohen_kappa(shown_before, shown) if shown_before is not None else None
            shown_before = shown
            validation = cross_validate(X[fit_idx], list(y[fit_idx]), keys, C=C, seed=seed) if validate else None
            counts = {k: int((y[fit_idx] == k).sum()) for k in keys}
            rec = signal.observe([keys[j] for j in p_stop.argmax(axis=1)], p_stop, labels=n_train,
                                 validation=validation, label_counts=counts, at="")
            if strategy == "weakest":
                weak = weakest_category(rec.per_class_f1, counts)
                target = keys.index(weak) if weak is not None else None
            points.append(ReplayPoint(seed, r, len(labeled), n_train, acc, f1, rec.kappa, rec.mean_uncertainty,
                                      rec.macro_f1, rec.stable, rec.stop, per, kappa_shown))
            step += 1
            emit(on_event, Progress("replay", step, total, f"{first} first batch, seed {seed}"))
    return ReplayResult(points, first, strategy, float(prior_labels), batch, seed_list, len(pool), len(test),
                        {"accuracy": full_acc, "macro_f1": full_f1})


def probabilities(model, X: np.ndarray, keys: Sequence[str], prior: np.ndarray | None, n_train: int,
                  prior_labels: float) -> np.ndarray | None:
    """The probabilities the loop would use: the quick model's, blended with the zero-shot prior
    when ``prior_labels`` > 0 (the prior alone before a model exists); None with neither."""
    from reviewtui.active import proba_for

    quick = proba_for(model, X, keys) if model is not None else None
    if prior is not None and prior_labels > 0:
        return blend(quick, prior, n_train, prior_labels)
    return quick


# --- the labeling loop replayed on a team's own labels (`reviewtui simulate --loop`) -------------
@dataclass(frozen=True)
class LoopOutcome:
    """One way of starting the loop, replayed: ``labels_to_95`` of the full-pool macro-F1 on the
    mean curve (None: never within the rounds), the mean curve's last macro-F1 (``final_f1``) and
    the labels where it first reaches 95 % of that (``flat_at``); per seed, the labels at which
    the stop signal said stop (None: it never did) and the held-out macro-F1 there."""

    name: str
    labels_to_95: float | None
    final_f1: float
    flat_at: float | None
    stops: list[tuple[int, int | None, float | None]]

    @property
    def stopped(self) -> list[tuple[int, int, float]]:
        return [(s, n, f) for s, n, f in self.stops if n is not None and f is not None]

    def to_dict(self) -> dict:
        return {"name": self.name, "labels_to_95": self.labels_to_95, "final_f1": self.final_f1,
                "flat_at": self.flat_at,
                "stops": [{"seed": s, "labels": n, "macro_f1": f} for s, n, f in self.stops]}


@dataclass(frozen=True)
class LoopSimulation:
    """``simulate --loop``: a random first batch with no prior against the loop as the labeling
    screen runs it (the zero-shot first batch and prior), on the same held-out split."""

    outcomes: list[LoopOutcome]
    full_pool_f1: float
    pool_size: int
    test_size: int
    batch: int
    rounds: int
    seeds: list[int]
    strategy: str
    stop_kappa: float
    stop_rounds: int
    zero_shot: str  # "descriptions" (descriptions or examples), "names" (the names alone)

    def to_dict(self) -> dict:
        return {"full_pool_macro_f1": self.full_pool_f1, "pool": self.pool_size, "test": self.test_size,
                "batch": self.batch, "rounds": self.rounds, "seeds": self.seeds, "strategy": self.strategy,
                "stop_kappa": self.stop_kappa, "stop_rounds": self.stop_rounds, "zero_shot": self.zero_shot,
                "outcomes": [o.to_dict() for o in self.outcomes]}


def outcome(name: str, res: ReplayResult) -> LoopOutcome:
    """What one replay comes to: see :class:`LoopOutcome`."""
    curve = res.curve()
    final = curve[-1][1] if curve else 0.0
    stops = []
    for seed, point in res.stop_points().items():
        stops.append((seed, point.labels if point else None, point.macro_f1 if point else None))
    return LoopOutcome(name, res.labels_to_reach(0.95), final, crossing(curve, 0.95 * final) if curve else None, stops)


def simulate_loop(X: np.ndarray, labels: Sequence[str], taxonomy, settings, embed, *, batch: int = 10,
                  rounds: int = 20, seeds: int = 3, on_event: EventSink | None = None,
                  cancel: threading.Event | None = None) -> LoopSimulation:
    """Replay the labeling loop on labeled reviews (``X`` their embeddings, ``labels`` their keys):
    a random first batch with no prior, and the loop as the labeling screen runs it with
    ``settings`` ([active_learning]: strategy, prior, stop signal): the first batch chosen by the
    zero-shot model of ``taxonomy`` (its descriptions and examples, else its names; ``embed``
    embeds them) and, when the categories are described, its prior blended in while labels are few."""
    from reviewtui.loop.zeroshot import described

    keys = taxonomy.training_keys
    names_only = not described(taxonomy)
    zs = ZeroShotModel.fit(taxonomy, embed, X, temperature=settings.zero_shot_temperature, names_only=names_only)
    common = dict(strategy=settings.strategy, batch=batch, rounds=rounds, seeds=seeds, C=settings.C,
                  kappa=settings.stop_kappa, stable_rounds=settings.stop_rounds, stop_sample=settings.stop_sample,
                  validate=False, on_event=on_event, cancel=cancel)
    plain = replay(X, labels, keys, first="random", **common)
    # with the names alone the labeling screen uses the prior only until the first model
    prior = 0.0 if names_only else settings.prior_labels
    loop = replay(X, labels, keys, first="zeroshot", zero_shot=zs, prior_labels=prior, calibrate=prior > 0, **common)
    return LoopSimulation([outcome("random first batch, no prior", plain), outcome("the labeling screen's loop", loop)],
                          plain.full_pool["macro_f1"], plain.pool_size, plain.test_size, batch, rounds, plain.seeds,
                          plain.strategy, settings.stop_kappa, settings.stop_rounds,
                          "names" if names_only else "descriptions")
