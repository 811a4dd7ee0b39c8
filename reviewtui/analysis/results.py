"""What a prediction leaves in ``results/``, and how far it is behind the workspace.

:mod:`reviewtui.analysis.predict` writes ``result.csv`` (a row per review) and ``result.json``, the
record of the run (the model, how many reviews, when). :func:`staleness` sets that record against
the store now: reviews imported after the prediction ran have no row, and labels given after the
model learnt its labels are not in it. Light on purpose: ``reviewtui status`` calls it, so it reads
two or three small JSON files and runs two counts in the store, and imports no pandas or numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.modeling.card import CARD_FILE
from reviewtui.store import TRAINING_STATUSES, LocalStore

RESULT_NAME = "result.csv"
RESULT_META = "result.json"
#: The model name a prediction records when it fitted the quick model on the labels of the moment.
QUICK_MODEL = "quick"


@dataclass(frozen=True)
class Staleness:
    """How far the predictions are behind the workspace.

    ``predicted``: the reviews the prediction covered; ``reviews``: the reviews in the store now.
    ``model``: the model it came from; ``kind``: "saved" (a model under models/) or "quick" (fitted
    on the labels when the prediction ran). ``version``: the dataset version the saved model was
    trained on, when its card names one. ``late_labels``: reviews whose training label was given
    after the model learnt its labels (the export of ``version``, else the training; for the quick
    model, the prediction)."""

    predicted: int
    reviews: int
    model: str
    kind: str = "saved"
    version: str | None = None
    late_labels: int = 0
    #: training categories the predicting model does not know (added to the taxonomy since, or
    #: with no label when it learnt): no review is predicted in them; and their names
    unknown_categories: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()
    #: the newest dataset version, when it was exported after the model learnt and holds every label
    #: given since (the export is done: training on it folds them in)
    in_version: str | None = None
    #: (key, name, labels) of the categories kept out of training whose labels are a notable share
    #: (:data:`UNTRAINED_SHARE`) of all: no review is predicted in them, their like go elsewhere
    untrained: tuple[tuple[str, str, int], ...] = ()

    @property
    def unpredicted(self) -> int:
        """Reviews of the store the predictions do not cover (imported after they ran)."""
        return max(0, self.reviews - self.predicted)

    @property
    def stale(self) -> bool:
        return bool(self.unpredicted or self.late_labels or self.unknown_categories)

    def to_dict(self) -> dict[str, Any]:
        return {"predicted": self.predicted, "reviews": self.reviews, "unpredicted": self.unpredicted,
                "model": self.model, "kind": self.kind, "version": self.version, "late_labels": self.late_labels,
                "unknown_categories": list(self.unknown_categories), "unknown_names": list(self.unknown_names),
                "in_version": self.in_version,
                "untrained": [{"key": k, "name": n, "labels": c} for k, n, c in self.untrained]}


#: The share of all labels at which a category kept out of training (``train = false``) is named
#: beside the predictions: the reviews like its labels are predicted in the trained categories.
UNTRAINED_SHARE = 0.1
#: ... and at least this many labels (a few labels say little of what the corpus holds)
UNTRAINED_LABELS = 10


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


#: Present while a prediction writes its result files (result.csv, the Parquet parts, result.json):
#: left behind, it says they may be of two runs (the process was killed while writing them).
WRITING_MARK = ".writing"


def check_written(results_dir: Path) -> None:
    """Raise ReviewtuiError when a prediction was stopped while it wrote ``results_dir``'s files
    (or writes them right now): result.csv and result.json may then be of two runs."""
    mark = Path(results_dir) / WRITING_MARK
    if mark.exists():
        raise ReviewtuiError(
            f"{results_dir}: a prediction was stopped while it wrote its result files (or writes them now), so "
            "result.csv and result.json may be of two runs; run the same `reviewtui predict` again (it resumes "
            "from its finished chunks)")


def prediction_record(results_dir: Path) -> dict[str, Any]:
    """What the last prediction recorded in ``results_dir`` (result.json: its model, sentiment,
    time...); {} when there is none."""
    return _read_json(Path(results_dir) / RESULT_META) or {}


def staleness(store: LocalStore, results_dir: Path, *, models_dir: Path, versions_dir: Path,
              training_keys: Sequence[str], former: Mapping[str, str] | None = None,
              names: Mapping[str, str] | None = None, kept_out: Sequence[str] = ()) -> Staleness | None:
    """The :class:`Staleness` of ``results_dir``'s predictions against ``store`` (labels counted
    among ``training_keys``; a category the model knew by a ``former`` key, renamed or merged
    since, is known; ``names`` names the categories; ``kept_out``: the categories out of training,
    named when their labels are a notable share); the model's card is read from ``models_dir`` and its dataset version's
    manifest from ``versions_dir``. None when there is no readable record of a prediction
    (``result.json``); an unknown model (its folder removed) counts no late label."""
    meta = _read_json(Path(results_dir) / RESULT_META)
    if meta is None or not isinstance(meta.get("rows"), int):
        return None
    model = str(meta.get("model") or "")
    kind, version, since = "saved", None, None
    if model == QUICK_MODEL:
        kind, since = "quick", meta.get("created")
    elif model:
        card = _read_json(Path(models_dir) / model / CARD_FILE) or {}
        since = card.get("created_at") or None
        version = card.get("dataset_version") or None
        if version:
            manifest = _read_json(Path(versions_dir) / f"{version}.json") or {}
            exported = manifest.get("created")
            if isinstance(exported, str) and (since is None or exported < since):
                since = exported  # what was labeled between the export and the training is not in it either
    late = 0
    if isinstance(since, str) and since:
        last = store.last_change()
        late = store.labeled_since(since, list(training_keys)) if last is not None and last > since else 0
    in_version = None
    if late and kind == "saved":  # the newest version, exported with every label event there is
        from reviewtui.versions import last_event_held, list_versions

        versions = list_versions(Path(versions_dir))
        newest = versions[-1] if versions else None
        if newest is not None and newest.name != version and newest.manifest.get("source") == "export":
            held = last_event_held(Path(versions_dir), newest)
            if held is not None and store.last_event() <= held:
                in_version = newest.name
    known = meta.get("labels")
    unknown: tuple[str, ...] = ()
    if isinstance(known, list) and known:
        knew = {(former or {}).get(str(k), str(k)) for k in known}
        unknown = tuple(k for k in training_keys if k not in knew)
    untrained: tuple[tuple[str, str, int], ...] = ()
    if kept_out:
        counts = store.label_counts(TRAINING_STATUSES)
        total = sum(counts.values())
        untrained = tuple((k, (names or {}).get(k, k), counts[k]) for k in kept_out
                          if counts.get(k, 0) >= max(UNTRAINED_LABELS, UNTRAINED_SHARE * total))
    return Staleness(meta["rows"], store.count(), model, kind, version, late, unknown,
                     tuple((names or {}).get(k, k) for k in unknown), in_version, untrained)


__all__ = ["QUICK_MODEL", "RESULT_META", "RESULT_NAME", "WRITING_MARK", "Staleness", "check_written",
           "prediction_record", "staleness"]
