"""Labels a file writes as numbers (0, 1, 2): the category each number stands for.

Public review sets often keep their classes as integers: a Hugging Face dataset's Parquet file
writes a ``ClassLabel`` column as 0..N-1 and keeps the names in the file's schema metadata; a CSV
written from it keeps only the numbers. ``reviewtui import --label-col label`` reads the names from
such a Parquet file by itself, and ``--label-names`` gives them for any file: ``neg,neu,pos`` (in
order, 0 first) or ``1=bug,2=praise`` (value=category).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping, Sequence

from reviewtui.errors import ReviewtuiError

_NUMBER = re.compile(r"-?\d+(?:\.0+)?")


def parse_label_names(text: str | None) -> dict[str, str]:
    """``neg,neu,pos`` -> {"0": "neg", "1": "neu", "2": "pos"}; ``1=bug, 2=praise`` -> {"1": "bug",
    "2": "praise"}; ``-1=`` (no name) leaves the rows of that value without a label (Hugging Face
    test splits write -1 for none): {"-1": ""}. Raises ReviewtuiError for an empty list, a listed
    name left empty or a value given twice."""
    parts = [p.strip() for p in str(text or "").split(",")]
    if not any(parts):
        raise ReviewtuiError("--label-names needs the categories the file's label values stand for: "
                             "neg,neu,pos (0 first) or 1=bug,2=praise")
    mapped = all("=" in p for p in parts if p)
    if any("=" in p for p in parts) and not mapped:
        raise ReviewtuiError(f"--label-names {text!r}: give every value its category (1=bug,2=praise) or list "
                             "the categories in order (bug,praise), not both")
    out: dict[str, str] = {}
    for i, part in enumerate(parts):
        value, _, name = part.partition("=") if mapped else (str(i), "", part)
        value, name = value.strip(), name.strip()
        if not value or (not name and not mapped):
            raise ReviewtuiError(f"--label-names {text!r}: item {i + 1} ({part!r}) has no "
                                 f"{'category' if value else 'value'}; write neg,neu,pos or 0=neg,1=neu,2=pos")
        key = plain_value(value)
        if key in out:
            raise ReviewtuiError(f"--label-names {text!r}: the value {value} is given twice")
        out[key] = name
    return out


def plain_value(value: str) -> str:
    """A label value as a number is written once: ``1.0`` (a column of numbers with gaps) is ``1``."""
    value = value.strip()
    return str(int(float(value))) if _NUMBER.fullmatch(value) else value


def dataset_label_names(path: str | Path, column: str) -> list[str] | None:
    """The class names a Hugging Face dataset's Parquet file keeps for ``column`` (a ``ClassLabel``,
    its values 0..N-1 in this order), or None: not Parquet, no such metadata, another type."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        return None
    try:
        import pyarrow.parquet as pq

        raw = (pq.read_schema(path).metadata or {}).get(b"huggingface")
        features = json.loads(raw).get("info", {}).get("features", {}) if raw else {}
    except (OSError, ValueError, AttributeError):
        return None
    found = next((f for name, f in features.items() if name.lower() == column.lower()), None)
    if not isinstance(found, dict) or found.get("_type") != "ClassLabel":
        return None
    names = found.get("names")
    return [str(n) for n in names] if isinstance(names, list) and names else None


def rename_labels(labels: Sequence[str | None], names: Mapping[str, str]) -> tuple[list[str | None], int]:
    """``labels`` with each value ``names`` has replaced by its category (one named "" by None: no
    label), and how many were."""
    out: list[str | None] = []
    renamed = 0
    for label in labels:
        name = names.get(plain_value(label)) if label is not None else None
        if name is not None:
            renamed += 1
        out.append((name or None) if name is not None else label)
    return out, renamed


def all_numbers(values: Sequence[str]) -> bool:
    """True when every value is written as a whole number (labels a dataset keeps as class ids)."""
    return bool(values) and all(_NUMBER.fullmatch(str(v).strip()) for v in values)


def value_names(path: str | Path, column: str, given: Mapping[str, str] | None) -> tuple[Mapping[str, str] | None, str]:
    """(value -> category, where it comes from) for the labels ``column`` of the file ``path`` holds:
    ``given`` (``--label-names``), else the class names a dataset's Parquet file keeps (0, 1, 2 in
    their order); (None, "") when neither names them."""
    found = dataset_label_names(path, column)
    if given is not None:
        own = {str(i): n for i, n in enumerate(found or [])}
        if own and any(own.get(v, n) != n for v, n in given.items()):  # the file names its values otherwise
            return given, ("--label-names; the dataset's file names them otherwise: "
                           + ", ".join(f"{v}={n}" for v, n in own.items()))
        return given, "--label-names"
    if found is None:
        return None, ""
    return {str(i): n for i, n in enumerate(found)}, "the class names the dataset's file keeps"


def name_batch_labels(batch, column: str, given: Mapping[str, str] | None) -> None:
    """Give a read file's labels (``batch``: an ingest.ReviewBatch, its labels from ``column``) the
    categories ``given`` (``--label-names``) or its dataset's class names stand for, and say so in
    its report's readings."""
    from collections import Counter

    names, source = value_names(batch.source, column, given)
    if names is None:
        return
    values = Counter(plain_value(v) for v in batch.labels if v is not None and str(v).strip())
    unnamed = {v: n for v, n in values.items() if v not in names}
    if unnamed and all_numbers(list(unnamed)):  # a number the names leave out would become a category of its own
        order = sorted(unnamed, key=lambda v: float(v))
        listed = ", ".join(f"{v} ({unnamed[v]:,} row{'s' if unnamed[v] != 1 else ''})" for v in order[:5])
        named = ",".join(f"{v}={n}" for v, n in names.items())
        shown = sorted(values, key=lambda v: float(v)) if all_numbers(list(values)) else []
        if len(shown) == len(names):  # as many values as names: the names in order, the file's values
            fix = (f"the file's values are {', '.join(shown)}: --label-names="
                   f"{','.join(f'{v}={n}' for v, n in zip(shown, names.values()))} names them in that order")
        else:
            fix = f"name every value (--label-names={named},{order[0]}=NAME)"
        raise ReviewtuiError(
            f"{batch.source}: {source} names the values {', '.join(names)} of column {column}, which also holds "
            f"{listed}; {fix}, or leave the rows of a value without a label by giving it no name "
            f"(--label-names={named},{order[0]}=; Hugging Face test splits write -1 for no label)")
    present = set(values)
    batch.labels, renamed = rename_labels(batch.labels, names)
    if renamed:
        pairs = [f"{v} as {n or 'no label'}" for v, n in names.items() if v in present]
        shown = ", ".join(pairs[:10]) + (f" and {len(pairs) - 10} more" if len(pairs) > 10 else "")
        batch.report.readings.append(f"labels read by value ({source}): {shown}")
