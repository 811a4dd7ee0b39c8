"""Labels that are probably wrong, found from the quick model's out-of-fold probabilities.

Every labeled asset is scored by quick models (logistic regression on its cached sentence
embedding) that did not see it: stratified k-fold over the labeled assets, ``repeats`` times with
differently shuffled splits, the probabilities averaged. cleanlab (``cleanlab.rank``) turns those
probabilities and the given labels into a label quality score per asset (lower = more likely
wrong), and ``cleanlab.filter.find_label_issues`` flags the ones it counts as label issues. The
suspects are the assets ranked by that score, each with its current label, the label the model
would give and how sure it is.

A label someone checked and kept (``LocalStore.confirm_label``) stays ranked but is marked
``confirmed`` and left out of :attr:`SuspectReport.suspects` while the asset keeps that label.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Progress, emit
from reviewtui.modeling import Cancelled
from reviewtui.settings import QualitySettings

#: Statuses whose label counts as given (what the quick model trains on).
LABELED_STATUSES = ("LABELED", "REVIEWED", "TO_REVIEW")


@dataclass(frozen=True)
class Suspect:
    """One labeled asset as the suspects rank it. ``score`` is cleanlab's label quality (0..1,
    lower = more likely wrong); ``rank`` its place (0 = most suspect); ``suggested`` the label the
    model gives, with probability ``confidence``; ``label_probability`` the model's probability of
    the current ``label``; ``flagged`` whether cleanlab's filter counts it as a label issue."""

    external_id: str
    text: str
    label: str
    suggested: str
    confidence: float
    label_probability: float
    score: float
    rank: int
    flagged: bool
    confirmed: bool = False
    #: who gave the label (its latest label event's author; "" where unknown)
    author: str = ""

    @property
    def disagrees(self) -> bool:
        """True when the model would give another label than the current one."""
        return self.suggested != self.label

    @property
    def reason(self) -> str:
        """Why it is a suspect, in one short line: the model's two probabilities."""
        if not self.disagrees:
            return f"the model agrees ({self.label} {self.confidence:.0%})"
        return f"the model gives {self.suggested} {self.confidence:.0%}, {self.label} {self.label_probability:.0%}"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "reason": self.reason}


@dataclass
class SuspectReport:
    """Every labeled training asset ranked by label quality (``items``, most suspect first)."""

    items: list[Suspect]
    classes: list[str]
    folds: int
    repeats: int
    method: str
    C: float
    left_out: dict[str, str] = field(default_factory=dict)  # external id -> why it could not be judged
    seconds: float = 0.0
    limit: int | None = None  # how many suspects top() and to_dict() give by default (None: all)

    @property
    def suspects(self) -> list[Suspect]:
        """The assets to look at: the model gives another label, and nobody confirmed this one."""
        return [s for s in self.items if s.disagrees and not s.confirmed]

    def top(self, n: int | None = None) -> list[Suspect]:
        """The first ``n`` suspects (default :attr:`limit`; all when both are None)."""
        out = self.suspects
        n = self.limit if n is None else n
        return out if n is None else out[:max(0, int(n))]

    @property
    def confirmed(self) -> int:
        return sum(s.confirmed for s in self.items)

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        return {"labeled": len(self.items), "classes": self.classes, "folds": self.folds, "repeats": self.repeats,
                "method": self.method, "C": self.C, "confirmed": self.confirmed, "seconds": self.seconds,
                "left_out": dict(self.left_out),
                # "number": the row's number as the table shows it (1 first); "rank": its place among
                # every judged label, those the model agrees with and the confirmed ones too
                "suspects": [{**s.to_dict(), "number": n} for n, s in enumerate(self.top(top), start=1)]}


#: Past this many labels the out-of-fold probabilities come from one shuffle of at most
#: MANY_LABELS_FOLDS folds, whatever [quality] folds and repeats say: each fold's model then learns
#: from tens of thousands of labels, so another shuffle or more folds move the probabilities little,
#: while each fit costs seconds (560,758 labels: 30 fits of about 30 s each at the defaults, 5 now).
MANY_LABELS = 20_000
MANY_LABELS_FOLDS = 5


# --- arrays ----------------------------------------------------------------------------------
#: A category with fewer labels than this is not judged while two categories have this many: its
#: count would otherwise set every category's folds.
MIN_TO_JUDGE = 5


def out_of_fold_proba(X: np.ndarray, y: Sequence[int], n_classes: int, *, folds: int, repeats: int = 1,
                      C: float = 2.0, seed: int = 0, on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray:
    """(N, n_classes) probabilities of each row from quick models fitted without it: stratified
    ``folds``-fold cross-validation, ``repeats`` shuffles (seeds ``seed``, ``seed``+1, ...)
    averaged. ``y`` are class indices; every class present needs at least ``folds`` rows.
    Raises Cancelled when ``cancel`` is set between fits."""
    from sklearn.model_selection import StratifiedKFold

    from reviewtui.modeling.quick import QuickModel

    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=int)
    names = [str(k) for k in range(n_classes)]
    out = np.zeros((len(y), n_classes), dtype=np.float64)
    total, done = folds * repeats, 0
    for r in range(repeats):
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for train, test in split.split(X, y):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"suspects cancelled after {done} of {total} fits")
            model = QuickModel(C=C).fit(X[train], [names[i] for i in y[train]])
            out[test] += model.proba_for(X[test], names)
            done += 1
            emit(on_event, Progress("suspects", done, total))
    return out / repeats


def label_quality(y: Sequence[int], proba: np.ndarray, method: str = "self_confidence") -> tuple[np.ndarray, np.ndarray]:
    """(scores, flagged): cleanlab's label quality score of each given label (lower = more likely
    wrong) and cleanlab's filter verdict (True = counted as a label issue)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    y = np.asarray(y, dtype=int)
    proba = np.asarray(proba, dtype=np.float64)
    scores = get_label_quality_scores(y, proba, method=method)
    with warnings.catch_warnings():  # cleanlab warns about tiny classes; the scores above stand
        warnings.simplefilter("ignore")
        try:
            flagged = np.asarray(find_label_issues(y, proba, filter_by="prune_by_noise_rate"), dtype=bool)
        except (ValueError, ZeroDivisionError):
            flagged = np.zeros(len(y), dtype=bool)
    return np.asarray(scores, dtype=np.float64), flagged


def rank_suspects(external_ids: Sequence[str], texts: Sequence[str], labels: Sequence[str], X: np.ndarray,
                  classes: Sequence[str], settings: QualitySettings, *,
                  confirmed: Mapping[str, str] | None = None, on_event: EventSink | None = None,
                  cancel: threading.Event | None = None) -> SuspectReport:
    """Rank labeled rows (ids, texts, labels in ``classes``, embeddings ``X``) by label quality.

    Folds are lowered to the smallest judged category's count; rows of a category with fewer than
    :data:`MIN_TO_JUDGE` labels (two, when fewer than two categories have that many) are not judged
    and are listed in ``left_out``. ``confirmed`` maps an external id to a
    label someone kept: such a row is marked while its label is that one. Raises ReviewtuiError
    when fewer than two categories have two labels or more."""
    t0 = time.perf_counter()
    classes = list(classes)
    labels = [str(v) for v in labels]
    if not (len(external_ids) == len(texts) == len(labels) == len(X)):
        raise ReviewtuiError(f"suspects: {len(external_ids)} ids, {len(texts)} texts, {len(labels)} labels and "
                             f"{len(X)} embeddings do not line up")
    unknown = sorted({v for v in labels if v not in classes})
    if unknown:
        raise ReviewtuiError(f"suspects: labels {', '.join(unknown)} are not training categories "
                             f"({', '.join(classes)})")
    counts = dict.fromkeys(classes, 0)
    for v in labels:
        counts[v] += 1
    # a category of a few labels would lower every category's folds to its count (each fold's model
    # then learns from half the labels): it is left out while two categories of enough labels remain
    least = MIN_TO_JUDGE if sum(1 for c in classes if counts[c] >= MIN_TO_JUDGE) >= 2 else 2
    judged_classes = [c for c in classes if counts[c] >= least]
    if len(judged_classes) < 2:
        raise ReviewtuiError("finding suspect labels needs at least two labels in each of two categories; "
                             f"the labels so far: {', '.join(f'{c} {n}' for c, n in counts.items() if n) or 'none'}")
    left_out = {e: (f"the only {lab} label" if counts[lab] < 2 else
                    f"one of only {counts[lab]} {lab} labels: a category of fewer than {least} is not judged, so that "
                    "the others keep their folds")
                for e, lab in zip(external_ids, labels) if counts[lab] < least}
    keep = [i for i, lab in enumerate(labels) if counts[lab] >= least]
    folds = int(min(settings.folds, min(counts[c] for c in judged_classes)))
    repeats = settings.repeats
    if len(keep) > MANY_LABELS:
        folds, repeats = min(folds, MANY_LABELS_FOLDS), 1
    index = {c: k for k, c in enumerate(judged_classes)}
    y = np.array([index[labels[i]] for i in keep], dtype=int)
    proba = out_of_fold_proba(np.asarray(X)[keep], y, len(judged_classes), folds=folds, repeats=repeats,
                              C=settings.C, seed=settings.seed, on_event=on_event, cancel=cancel)
    scores, flagged = label_quality(y, proba, settings.method)
    order = np.argsort(scores, kind="stable")
    confirmed = confirmed or {}
    items = []
    for rank, j in enumerate(order):
        i = keep[int(j)]
        best = int(proba[j].argmax())
        ext = str(external_ids[i])
        items.append(Suspect(ext, str(texts[i]), labels[i], judged_classes[best], float(proba[j, best]),
                             float(proba[j, y[j]]), float(scores[j]), rank, bool(flagged[j]),
                             confirmed.get(ext) == labels[i]))
    return SuspectReport(items, judged_classes, folds, repeats, settings.method, settings.C, left_out,
                         round(time.perf_counter() - t0, 4))


# --- the store -------------------------------------------------------------------------------
def labeled_training_assets(store, training_keys: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(external ids, texts, labels) of non-skipped assets whose label is a training category and
    whose status is LABELED, REVIEWED or TO_REVIEW, in store order."""
    keys = set(training_keys)
    ids, texts, labels = [], [], []
    for a in store.iter_assets(labeled=True, skipped=False):
        if a.label in keys and a.status in LABELED_STATUSES:
            ids.append(a.external_id)
            texts.append(a.text)
            labels.append(a.label)
    return ids, texts, labels


def find_suspects(store, cache, training_keys: Sequence[str], settings: QualitySettings, *,
                  on_event: EventSink | None = None, cancel: threading.Event | None = None) -> SuspectReport:
    """The store's labeled training assets ranked by how likely their label is wrong (see
    :func:`rank_suspects`), embedded through ``cache`` (an EmbeddingCache: only new texts are
    encoded), with the store's confirmed labels marked. Raises ReviewtuiError with too few labels;
    Cancelled when ``cancel`` is set."""
    ids, texts, labels = labeled_training_assets(store, training_keys)
    if not ids:
        raise ReviewtuiError("no labeled reviews yet: label some before looking for suspect labels")
    X = cache.embed(texts, on_event=on_event, cancel=cancel)
    report = rank_suspects(ids, texts, labels, X, list(training_keys), settings, confirmed=store.confirmed_labels(),
                           on_event=on_event, cancel=cancel)
    makers = store.label_makers(ids)  # (category, author, time, note) of each label's event
    report.items = [replace(s, author=makers[s.external_id][1] if s.external_id in makers else "")
                    for s in report.items]
    return report
