"""Metrics of every trained model per dataset version: a table, and learning-curve data.

Both read only the model cards under ``models/`` (no torch), so ``reviewtui models`` is quick.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from reviewtui.modeling.card import ModelCard, list_cards, missing_files

CURVE_METRICS = ("accuracy", "f1_weighted", "precision_weighted", "recall_weighted", "f1_macro")


@dataclass(frozen=True)
class ModelRow:
    """One trained model in the history table (metrics on its test split, or cross-validated:
    ``scored_on`` says which)."""

    name: str
    kind: str
    base_model: str
    dataset_version: str | None
    created_at: str
    accuracy: float | None
    f1_weighted: float | None
    precision_weighted: float | None
    recall_weighted: float | None
    f1_macro: float | None
    test_rows: int
    train_seconds: float
    tuned: bool
    #: how the metrics were measured: "5-fold CV over 138 labels" or "28 test rows"
    scored_on: str
    #: files the model needs that are gone from its folder (it cannot predict until they are back)
    missing: tuple[str, ...] = ()
    #: an ensemble whose fine-tuned part adds nothing: (its accuracy alone, the quick part's alone)
    idle_finetune: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


#: an ensemble's fine-tune "adds nothing" when the ensemble scores no more than this above its quick part
NO_GAIN = 0.005


def idle_finetune(card: ModelCard) -> tuple[float, float] | None:
    """(the fine-tune's accuracy alone, the quick part's alone) of an ensemble whose fine-tuned
    part adds nothing: it scores below the quick part alone, and the ensemble no more than
    :data:`NO_GAIN` above it (its weight went to the quick part). None otherwise."""
    extra = card.extra or {}
    alone, quick = extra.get("finetuned_only_metrics") or {}, extra.get("quick_only_metrics") or {}
    a, q, e = alone.get("accuracy"), quick.get("accuracy"), card.metrics.get("accuracy")
    if not all(isinstance(v, (int, float)) for v in (a, q, e)):
        return None
    return (float(a), float(q)) if a < q and e <= q + NO_GAIN else None


@dataclass(frozen=True)
class CurvePoint:
    """The best model of one dataset version (:func:`learning_curve`)."""

    version: str
    number: int | None
    model: str
    accuracy: float | None
    f1_weighted: float | None
    precision_weighted: float | None
    recall_weighted: float | None
    f1_macro: float | None
    #: how its metrics were measured (:attr:`ModelRow.scored_on`)
    scored_on: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def version_number(version: str | None) -> int | None:
    """``"dataset-11"`` -> 11; None when the name has no trailing number."""
    m = re.search(r"(\d+)$", version or "")
    return int(m.group(1)) if m else None


def _metric(card: ModelCard, key: str) -> float | None:
    value = card.metrics.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def row_of(card: ModelCard) -> ModelRow:
    return ModelRow(
        name=card.name, kind=card.kind, base_model=card.base_model, dataset_version=card.dataset_version,
        created_at=card.created_at, accuracy=_metric(card, "accuracy"), f1_weighted=_metric(card, "f1_weighted"),
        precision_weighted=_metric(card, "precision_weighted"), recall_weighted=_metric(card, "recall_weighted"),
        f1_macro=_metric(card, "f1_macro"), test_rows=int(card.splits.get("test", 0)),
        train_seconds=float(card.train_seconds), tuned="tuning" in (card.extra or {}), scored_on=scored_on(card),
        missing=tuple(missing_files(Path(card.path), card)) if card.path else (), idle_finetune=idle_finetune(card),
    )


def scored_on(card: ModelCard) -> str:
    """How ``card``'s metrics were measured: cross-validation (small data sets) or a test split."""
    folds = int(card.splits.get("cv_folds", 0) or 0)
    if folds:
        return f"{folds}-fold CV over {int(card.splits.get('train', 0)):,} labels"
    return f"{int(card.splits.get('test', 0)):,} test rows"


def _sort_key(row: ModelRow):
    n = version_number(row.dataset_version)
    return (n is None, n if n is not None else 0, row.dataset_version or "", row.created_at, row.name)


def model_history(models_dir: Path) -> list[ModelRow]:
    """Every saved model, ordered by dataset version number then training time."""
    return sorted((row_of(c) for c in list_cards(models_dir)), key=_sort_key)


def learning_curve(models_dir: Path, kind: str | None = None) -> list[CurvePoint]:
    """Per dataset version, the metrics of its best model (highest weighted F1; ``kind`` filters
    "finetuned" or "quick"), ordered by version number: data for a learning-curve chart. Scores of
    one way of measuring are compared: a model cross-validated over every label wins over one
    scored on a test split of a few rows (the two are not comparable), and among those the highest
    weighted F1."""
    best: dict[str, ModelRow] = {}

    def rank(row: ModelRow) -> tuple[bool, float]:
        return "CV" in row.scored_on, row.f1_weighted if row.f1_weighted is not None else -1.0

    for row in model_history(models_dir):
        if row.dataset_version is None or (kind and row.kind != kind):
            continue
        current = best.get(row.dataset_version)
        if current is None or rank(row) > rank(current):
            best[row.dataset_version] = row
    points = [CurvePoint(v, version_number(v), r.name, r.accuracy, r.f1_weighted, r.precision_weighted,
                         r.recall_weighted, r.f1_macro, r.scored_on) for v, r in best.items()]
    points.sort(key=lambda p: (p.number is None, p.number or 0, p.version))
    return points
