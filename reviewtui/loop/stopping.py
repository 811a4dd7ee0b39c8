"""When labeling stops paying off: the stop signal after every retrain, and the weakest category.

After each retrain the new model predicts a fixed, seeded sample of the unlabeled reviews (the
"stop set"). Three numbers are kept per round:

* Cohen's kappa between the new and the previous model's predictions on the stop set
  (stabilizing predictions, Bloodgood & Vijay-Shanker 2009);
* the mean uncertainty (1 - top probability) on the stop set;
* the macro-F1 of the labels so far, cross-validated (out-of-fold predictions of the quick model),
  with the F1 of each category: the per-category learning curves.

The rule: "stable for N rounds" once the last ``stop_rounds`` kappas are all at least
``stop_kappa`` (``[active_learning]``; 0.96 and 3 by default). BV09 stop when the mean kappa over
a window of three rounds reaches 0.99 (small-text's ``KappaAverage`` looks at how much kappa still
changes within the window instead); with rounds of ten labels and the quick model, 0.99 came
two to five times later than the learning curves flattened on the benchmark corpora
(docs/BENCHMARKS.md); 0.96 for three rounds is the lowest threshold that did not stop before 90 %
of the final macro-F1 on either corpus over 20 seeds (0.94 did once, at 87.8 %). The kappa follows the quick
model alone, not its blend with the zero-shot prior: the prior is the same every round and would
make early rounds look stable while the labels still move the model. The rounds are
kept in the store's meta table under ``stop_signal`` so the labeling screen can draw a sparkline
and ``reviewtui status`` one line.

:func:`weakest_category` names the category that most needs labels (fewest labels below a
minimum, else the lowest cross-validated F1); the ``weakest`` strategy steers the queue to it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import utc_now
from reviewtui.settings import ActiveLearningSettings

if TYPE_CHECKING:
    import numpy as np

DEFAULTS = ActiveLearningSettings()

META_KEY = "stop_signal"
STATE_VERSION = 1
MIN_LABELS_PER_CATEGORY = 5  # below this a category is the weakest whatever its F1
SPARK = "▁▂▃▄▅▆▇█"


# --- the numbers --------------------------------------------------------------------------------
def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa between two label sequences of equal length. Two identical constant sequences
    agree perfectly (1.0; sklearn gives nan there); an empty pair gives 1.0."""
    import numpy as np

    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"kappa needs two sequences of one length, got {len(a)} and {len(b)}")
    if not a or a == b:
        return 1.0
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        k = float(cohen_kappa_score(a, b))
    return 0.0 if np.isnan(k) else k


def mean_uncertainty(proba: np.ndarray) -> float:
    """Mean of 1 - top probability over the rows (0 for no rows)."""
    import numpy as np

    p = np.asarray(proba, dtype=np.float64)
    return float((1.0 - p.max(axis=1)).mean()) if len(p) else 0.0


@dataclass(frozen=True)
class Validation:
    """Cross-validated scores of the quick model on the labels so far: macro-F1 over the training
    categories with labels, the F1 of each (0.0 for one never predicted right), the folds used."""

    macro_f1: float
    per_class: dict[str, float]
    folds: int


def cross_validate(X: np.ndarray, y: Sequence[str], classes: Sequence[str], *, C: float = DEFAULTS.C,
                   folds: int = 5, seed: int = 0, min_labels: int = 10) -> Validation | None:
    """Out-of-fold predictions of the quick model (stratified ``folds``-fold, fewer when a category
    has fewer labels) scored as macro-F1 over the ``classes`` that have labels. None with fewer
    than ``min_labels`` labels or fewer than two categories (nothing to validate yet)."""
    import numpy as np

    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from reviewtui.active import fit_quick

    y = np.asarray([str(v) for v in y], dtype=object)
    X = np.asarray(X, dtype=np.float32)
    present, counts = np.unique(y, return_counts=True)
    if len(y) < min_labels or len(present) < 2:
        return None
    k = int(max(2, min(folds, counts.max(), len(y) // 2)))
    pred = np.empty(len(y), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a category with fewer labels than folds
        splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y))
    for train, test in splits:
        model = fit_quick(X[train], list(y[train]), C)
        if model is None:  # one category in this fold's training part
            pred[test] = y[train][0]
        else:
            pred[test] = model.predict(X[test])
    labels = [c for c in classes if c in set(present)]
    per = f1_score(list(y), list(pred), labels=labels, average=None, zero_division=0)
    return Validation(float(np.mean(per)), {c: float(f) for c, f in zip(labels, per)}, k)


def stable_rounds(kappas: Sequence[float | None], threshold: float) -> int:
    """How many of the latest rounds in a row have kappa >= ``threshold``."""
    n = 0
    for k in reversed(list(kappas)):
        if k is None or k < threshold:
            break
        n += 1
    return n


# --- one round and the history ------------------------------------------------------------------
@dataclass(frozen=True)
class RoundRecord:
    """The numbers after one retrain. ``kappa`` is None on the first round (nothing to compare);
    ``macro_f1``/``per_class_f1`` come from :func:`cross_validate` (None/empty with too few
    labels); ``stable`` counts the latest rounds in a row with kappa at the threshold; ``stop``
    is the rule's verdict."""

    round: int
    at: str
    labels: int
    kappa: float | None
    mean_uncertainty: float
    macro_f1: float | None
    per_class_f1: dict[str, float]
    label_counts: dict[str, int]
    stable: int
    stop: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RoundRecord":
        return cls(int(d["round"]), str(d["at"]), int(d["labels"]),
                   None if d.get("kappa") is None else float(d["kappa"]), float(d["mean_uncertainty"]),
                   None if d.get("macro_f1") is None else float(d["macro_f1"]),
                   {str(k): float(v) for k, v in dict(d.get("per_class_f1") or {}).items()},
                   {str(k): int(v) for k, v in dict(d.get("label_counts") or {}).items()},
                   int(d.get("stable", 0)), bool(d.get("stop", False)))


@dataclass
class StopSignal:
    """The stop set and the rounds so far. ``sample`` are the stop set's external ids (fixed once
    chosen), ``last`` the previous model's predictions on it; ``kappa``/``rounds`` the rule."""

    sample: list[str] = field(default_factory=list)
    last: list[str] | None = None
    history: list[RoundRecord] = field(default_factory=list)
    kappa: float = DEFAULTS.stop_kappa
    rounds: int = DEFAULTS.stop_rounds

    def observe(self, predictions: Sequence[str], proba: np.ndarray, *, labels: int,
                validation: Validation | None, label_counts: Mapping[str, int] | None = None,
                at: str | None = None) -> RoundRecord:
        """Record one retrain: the new model's ``predictions`` and ``proba`` on the stop set (in
        ``sample`` order), the number of training ``labels``, and the cross-validated scores.
        Returns the round's record (also appended to ``history``)."""
        preds = [str(p) for p in predictions]
        if self.sample and len(preds) != len(self.sample):
            raise ValueError(f"{len(preds)} predictions for a stop set of {len(self.sample)}")
        kappa = cohen_kappa(self.last, preds) if self.last is not None and len(self.last) == len(preds) else None
        kappas = [r.kappa for r in self.history] + [kappa]
        stable = stable_rounds(kappas, self.kappa)
        rec = RoundRecord(len(self.history) + 1, at or utc_now(), int(labels), kappa, mean_uncertainty(proba),
                          validation.macro_f1 if validation else None,
                          dict(validation.per_class) if validation else {}, dict(label_counts or {}),
                          stable, stable >= self.rounds)
        self.history.append(rec)
        self.last = preds
        return rec

    @property
    def latest(self) -> RoundRecord | None:
        return self.history[-1] if self.history else None

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, "sample": self.sample, "last": self.last,
                           "kappa": self.kappa, "rounds": self.rounds,
                           "history": [r.to_dict() for r in self.history]}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None, *, kappa: float = DEFAULTS.stop_kappa,
                  rounds: int = DEFAULTS.stop_rounds) -> "StopSignal":
        """The state saved by :meth:`to_json` (a fresh one for None). ``kappa``/``rounds`` are the
        rule to apply from now on (the settings may have changed since)."""
        if not text:
            return cls(kappa=kappa, rounds=rounds)
        try:
            d = json.loads(text)
            history = [RoundRecord.from_dict(r) for r in d.get("history", [])]
            return cls([str(s) for s in d.get("sample", [])], d.get("last"), history, kappa, rounds)
        except (ValueError, KeyError, TypeError) as exc:
            raise ReviewtuiError(f"the stop signal saved in the store is unreadable ({exc}); "
                                 "the next retrain starts it again") from exc


def choose_sample(ids: Sequence[str], size: int, seed: int = 0) -> list[str]:
    """A seeded sample of ``size`` of ``ids`` (all when fewer), in the given order."""
    import numpy as np

    ids = list(ids)
    if len(ids) <= size:
        return ids
    pick = np.sort(np.random.default_rng(seed).choice(len(ids), size=size, replace=False))
    return [ids[i] for i in pick]


# --- in the store --------------------------------------------------------------------------------
def load_signal(store, settings: ActiveLearningSettings = DEFAULTS) -> StopSignal:
    """The stop signal kept in ``store`` (a LocalStore's meta), or a fresh one, with the rule of
    ``settings`` (``stop_kappa``, ``stop_rounds``)."""
    return StopSignal.from_json(store.get_meta(META_KEY), kappa=settings.stop_kappa, rounds=settings.stop_rounds)


def save_signal(store, signal: StopSignal) -> None:
    """Keep ``signal`` in the store's meta table (one transaction)."""
    store.set_meta(META_KEY, signal.to_json())


def reset_signal(store) -> None:
    """Forget the rounds and the stop set (a new taxonomy, a new labeling campaign)."""
    store.set_meta(META_KEY, "")


def record_round(store, model, embed, taxonomy, settings: ActiveLearningSettings = DEFAULTS, *,
                 X_labeled: np.ndarray, y_labeled: Sequence[str], seed: int = 0,
                 label_counts: dict[str, int] | None = None) -> RoundRecord | None:
    """After a retrain: predict the stop set with ``model`` (the quick model alone: anything with
    ``proba_for(X, labels)``), cross-validate on the labeled embeddings, append the round to the
    signal kept in ``store`` and return it. The stop set is drawn (``settings.stop_sample``
    unlabeled, not skipped assets, seeded) on the first round and kept. ``embed`` maps texts to
    embeddings (an EmbeddingCache's ``embed``). Returns None, recording nothing, when the training
    labels differ by fewer than ``settings.stop_round_labels`` from the last round's (a refit on the
    same labels, on a few more, or on a few fewer after undos: undoing labels one at a time would
    otherwise record a round per undo, each close to the one before, and push toward a false stop);
    as many fewer or more (an undone bulk label) make a round.
    ``label_counts`` are every training label per category where ``y_labeled`` is a sample of them
    (past [active_learning] fit_max_labels): a round counts every label."""
    import numpy as np

    try:
        signal = load_signal(store, settings)
    except ReviewtuiError:  # an unreadable state: start again rather than never record a round
        signal = StopSignal(kappa=settings.stop_kappa, rounds=settings.stop_rounds)
    sample_size, C = settings.stop_sample, settings.C
    n = sum(label_counts.values()) if label_counts is not None else len(y_labeled)
    if signal.latest is not None and abs(n - signal.latest.labels) < settings.stop_round_labels:
        return None  # the labels of the last round, a few more or a few undone: not a round yet
    if not signal.sample:
        pool = [a.external_id for a in store.iter_assets(labeled=False, skipped=False)]
        signal.sample = choose_sample(pool, sample_size, seed)
        signal.last = None
    texts = {ext: text for ext, (text, _) in store.stored_texts(signal.sample).items()}  # the stop set alone
    sample = [s for s in signal.sample if s in texts]
    if len(sample) != len(signal.sample):  # assets gone from the store: a smaller stop set from now on
        signal.sample, signal.last = sample, None
    if signal.last is not None:  # the last round's predictions under keys renamed or merged since: as they read now
        signal.last = [taxonomy.current(p) for p in signal.last]
    classes = taxonomy.training_keys
    X = np.asarray(embed([texts[s] for s in sample]), dtype=np.float32)
    proba = model.proba_for(X, classes) if len(X) else np.zeros((0, len(classes)), dtype=np.float32)
    preds = [classes[int(j)] for j in proba.argmax(axis=1)] if len(proba) else []
    validation = cross_validate(X_labeled, y_labeled, classes, C=C)
    counts = ({c: int(label_counts.get(c, 0)) for c in classes} if label_counts is not None
              else {c: int(sum(1 for v in y_labeled if v == c)) for c in classes})
    rec = signal.observe(preds, proba, labels=n, validation=validation, label_counts=counts)
    save_signal(store, signal)
    return rec


# --- what the front ends show --------------------------------------------------------------------
def sparkline(values: Sequence[float | None], lo: float | None = None, hi: float | None = None) -> str:
    """One character per value, ▁ (low) to █ (high); a space for None. ``lo``/``hi`` fix the scale
    (default: the values' own range)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return " " * len(values)
    lo = min(vals) if lo is None else lo
    hi = max(vals) if hi is None else hi
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            t = 0.0 if span <= 0 else min(1.0, max(0.0, (v - lo) / span))
            out.append(SPARK[int(round(t * (len(SPARK) - 1)))])
    return "".join(out)


@dataclass(frozen=True)
class StopSummary:
    """What ``reviewtui status`` and the labeling screen show: one line, a kappa sparkline and the
    numbers behind them (``None`` fields before the first round)."""

    line: str
    sparkline: str
    rounds: int
    stable: int
    stop: bool
    kappa: float | None
    macro_f1: float | None
    mean_uncertainty: float | None
    weakest: str | None


def summarize(signal: StopSignal, *, last: int = 20, counts: Mapping[str, int] | None = None) -> StopSummary:
    """The signal as one line and a sparkline of the last ``last`` kappas. ``counts``: the labels
    each training category has now, which choose the weakest with the round's F1 (the round's own
    counts without them)."""
    rec = signal.latest
    if rec is None:
        return StopSummary("stop signal: no round yet (a round comes with each refit of the quick model)",
                           "", 0, 0, False, None, None, None, None)
    kappas = [r.kappa for r in signal.history[-last:]]
    spark = sparkline(kappas, lo=0.0, hi=1.0)
    # the labels it was measured on: `train` measures again on all the labels there are now
    f1 = f", CV macro-F1 {rec.macro_f1:.2f}" if rec.macro_f1 is not None else ""
    if f1 and rec.kappa is not None:
        f1 += f" at {rec.labels:,} labels"
    unc = f", mean uncertainty {rec.mean_uncertainty:.2f}"
    weak = weakest_category(rec.per_class_f1, rec.label_counts if counts is None else counts)
    if rec.kappa is None:
        line = f"round 1 ({rec.labels:,} labels): the next retrain gives the first agreement{f1}"
    elif rec.stop:
        line = (f"predictions stable for {rec.stable} rounds (kappa {rec.kappa:.2f}): further labels change "
                f"little{f1}")
    else:
        line = (f"predictions still changing: kappa {rec.kappa:.2f} (stop at {signal.kappa:g} for "
                f"{signal.rounds} rounds; {rec.stable} so far){f1}{unc}")
    return StopSummary(line, spark, len(signal.history), rec.stable, rec.stop, rec.kappa, rec.macro_f1,
                       rec.mean_uncertainty, weak)


def learning_curves(signal: StopSignal) -> dict[str, list[tuple[int, float]]]:
    """category -> [(labels, cross-validated F1)] over the rounds that had a validation."""
    out: dict[str, list[tuple[int, float]]] = {}
    for r in signal.history:
        for c, f in r.per_class_f1.items():
            out.setdefault(c, []).append((r.labels, f))
    return out


@dataclass(frozen=True)
class CategoryNeed:
    """How much one training category still needs labels, from the latest round: its ``labels``,
    its cross-validated ``f1`` (None before a validation), the F1's ``change`` over the last
    ``over`` rounds (the window, or the rounds there are: None before the second), and whether it is
    the ``weakest``."""

    key: str
    labels: int
    f1: float | None
    change: float | None
    over: int
    weakest: bool


def category_needs(signal: StopSignal, classes: Sequence[str], *, window: int = 3,
                   counts: Mapping[str, int] | None = None) -> list[CategoryNeed]:
    """One :class:`CategoryNeed` per training category in ``classes`` (taxonomy order), from the
    latest round (empty before the first); the change is taken over the last ``window`` rounds.
    ``counts``: the labels each category has now (the store's), which replace the round's: labels
    given since the round, or a category trained since, count at once, while the F1 stays the
    round's until the next."""
    rec = signal.latest
    if rec is None:
        return []
    have = {c: int(counts.get(c, 0)) if counts is not None else int(rec.label_counts.get(c, 0)) for c in classes}
    weak = weakest_category(rec.per_class_f1, have)
    # over the last ``window`` rounds, or over those there are (2 rounds give a change over 1)
    start = max(0, len(signal.history) - window - 1)
    back = signal.history[start] if len(signal.history) > 1 else None
    span = len(signal.history) - 1 - start
    out = []
    for c in classes:
        f1 = rec.per_class_f1.get(c)
        before = back.per_class_f1.get(c) if back is not None else None
        change = f1 - before if f1 is not None and before is not None else None
        out.append(CategoryNeed(c, have[c], f1, change, span if back is not None else window, c == weak))
    return out


def weakest_category(per_class_f1: Mapping[str, float], label_counts: Mapping[str, int], *,
                     min_labels: int = MIN_LABELS_PER_CATEGORY) -> str | None:
    """The category that most needs labels: among those with fewer than ``min_labels`` labels the
    one with fewest (ties: the lower cross-validated F1, then taxonomy order), else the lowest
    cross-validated F1. None when nothing is known yet."""
    if label_counts:
        short = [(n, per_class_f1.get(c, 0.0), i, c) for i, (c, n) in enumerate(label_counts.items())
                 if n < min_labels]
        if short:
            return min(short)[3]
    if per_class_f1:
        return min(per_class_f1.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return None
