"""Training data: a dataset version's rows fit for training, and the one train/validation/test split.

Every model (the quick model, a fine-tune, each Ray Tune trial and the retrained best) sees the same
rows and the same split: the taxonomy's training categories only, a stratified test share of 0.2,
then a validation share of 0.2 of the rest, seed 42 (the original project's split). pandas and
sklearn load inside the functions.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Sequence

from reviewtui.errors import ReviewtuiError

SPLIT_SEED = 42
TEST_SIZE = 0.2
VAL_SIZE = 0.2
#: The fewest labeled rows :func:`split_frame` accepts.
MIN_ROWS = 10


def prepare_frame(df, label_keys: Sequence[str]):
    """Rows fit for training: not skipped, a label among ``label_keys``, non-empty content.

    Returns a new DataFrame with columns ``content`` and ``label`` (plus the others kept).
    Raises ReviewtuiError when required columns are missing.
    """
    missing = [c for c in ("label", "content") if c not in df.columns]
    if missing:
        raise ReviewtuiError(f"the dataset has no {', '.join(missing)} column: export it again with reviewtui export")
    out = df.copy()
    if "skipped" in out.columns:
        skipped = out["skipped"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        out = out[~skipped]
    out = out[out["label"].notna() & out["content"].notna()]
    out["label"] = out["label"].astype(str).str.strip()
    out["content"] = out["content"].astype(str)
    out = out[out["content"].str.strip() != ""]
    out = out[out["label"].isin(list(label_keys))]
    return out.reset_index(drop=True)


def present_labels(labels: Sequence[str], label_keys: Sequence[str]) -> list[str]:
    """The training keys that occur in ``labels``, in taxonomy order."""
    seen = set(labels)
    return [k for k in label_keys if k in seen]


def split_frame(df, test_size: float = TEST_SIZE, val_size: float = VAL_SIZE, seed: int = SPLIT_SEED):
    """(train, validation, test) DataFrames: stratified test ``test_size``, then validation
    ``val_size`` of the rest, fixed seed — the original project's split.

    Raises ReviewtuiError when there is too little data to split.
    """
    counts = df["label"].value_counts()
    if len(df) < MIN_ROWS or len(counts) < 2:
        raise ReviewtuiError(
            f"too little data to train: {len(df)} labeled rows in {len(counts)} categories; "
            f"label at least {MIN_ROWS} assets in two or more training categories"
        )
    # stratified by category; categories too rare to be in every split are stratified together;
    # reviews of the same text stay on one side (a "good app" in both would score the model on
    # what it was trained on)
    rest, test = _split(df, test_size, 4, seed)
    train, val = _split(rest, val_size, 2, seed)
    return train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True)


def text_groups(texts: Sequence[str]) -> list[int] | None:
    """A group number per text, the same for texts that read the same (case and spacing aside);
    None when every text is different."""
    index: dict[str, int] = {}
    groups = [index.setdefault(" ".join(str(t).lower().split()), len(index)) for t in texts]
    return groups if len(index) < len(groups) else None


def same_text_error(rows: int) -> ReviewtuiError:
    """What training says when its ``rows`` labeled rows all read the same (:func:`text_groups`)."""
    return ReviewtuiError(f"every one of the {rows} labeled rows has the same text: label reviews that differ to "
                          "train a model")


def _split(df, size: float, fewest: int, seed: int):
    """(rest, part of ``size``) of ``df``, stratified by :func:`strata` (``fewest``), the rows of
    one text on the same side."""
    groups = text_groups(list(df["content"])) if "content" in df.columns else None
    if groups is None:
        return _stratified_split(df, size, strata(df["label"], fewest), seed)
    import pandas as pd

    keys = pd.Series(groups, index=df.index)
    heads = df[~keys.duplicated()]  # a text's first row stands for it (and its label for its stratum)
    if len(heads) < 2:
        raise same_text_error(len(df))
    _, part = _stratified_split(heads, size, strata(heads["label"], fewest), seed)
    in_part = keys.isin(set(keys[part.index]))
    return df[~in_part], df[in_part]


def _stratified_split(df, size: float, stratify, seed: int):
    """train_test_split stratified by ``stratify`` where the part of ``size`` can hold a row of each
    group, else plain (a few rows of many categories)."""
    from sklearn.model_selection import train_test_split

    if stratify is not None:
        part = math.ceil(size * len(df)) if isinstance(size, float) else int(size)
        if part < stratify.nunique() or len(df) - part < stratify.nunique():
            stratify = None
    return train_test_split(df, test_size=size, stratify=stratify, random_state=seed)


def strata(labels, fewest: int):
    """What a split stratifies ``labels`` (a pandas Series) by: each category with at least
    ``fewest`` rows on its own, the rarer ones together (a category of 3 labels cannot be in each
    part, and without this one such category made the whole split unstratified); None when even
    that leaves a group of one row."""
    counts = labels.value_counts()
    rare = counts.index[counts < fewest]
    if not len(rare):
        return labels
    grouped = labels.where(~labels.isin(rare), "\x00rare")
    if (grouped == "\x00rare").sum() == 1:  # one row of one category: with the largest, the others stratified still
        grouped = grouped.where(grouped != "\x00rare", counts.index[0])
    return grouped if grouped.value_counts().min() >= 2 and grouped.nunique() >= 2 else None


@dataclass(frozen=True)
class Splits:
    """A dataset version ready to train on: ``labels`` are the training keys present (taxonomy
    order, the model's output columns); ``train``, ``validation`` and ``test`` are DataFrames with
    ``content`` and ``label`` columns."""

    labels: list[str]
    label_keys: list[str]
    train: Any
    validation: Any
    test: Any
    seed: int = SPLIT_SEED

    @property
    def sizes(self) -> dict[str, int]:
        """Rows per split, as the model card records them."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def label_ids(self, part) -> list[int]:
        """The labels of ``part`` (one of the three frames) as indices into ``labels``."""
        index = {label: i for i, label in enumerate(self.labels)}
        return [index[v] for v in part["label"]]

    def fit_texts(self) -> tuple[list[str], list[str]]:
        """(texts, labels) of train + validation: what a model with no early stopping fits on."""
        return (list(self.train["content"]) + list(self.validation["content"]),
                list(self.train["label"]) + list(self.validation["label"]))


def split_dataset(df, label_keys: Sequence[str], seed: int = SPLIT_SEED) -> Splits:
    """:func:`prepare_frame` then :func:`split_frame` of a dataset version's frame.

    Raises ReviewtuiError for missing columns or too little data.
    """
    data = prepare_frame(df, label_keys)
    labels = present_labels(list(data["label"]), label_keys)
    train, validation, test = split_frame(data, seed=seed)
    return Splits(labels=labels, label_keys=list(label_keys), train=train, validation=validation, test=test,
                  seed=seed)
