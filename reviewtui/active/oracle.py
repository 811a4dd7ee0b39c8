"""Oracle files: the true label of each review, for simulating labeling rounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.files import ID_COLUMNS, find_column
from reviewtui.readers import read_rows
from reviewtui.store import LocalStore

LABEL_COLUMNS = ("label", "category")


@dataclass
class Oracle:
    """external id -> label key, read from an oracle file and checked against the workspace."""

    path: Path
    labels: dict[str, str]
    id_column: str
    missing: list[str] = field(default_factory=list)  # ids not in the workspace (when allowed)


def read_oracle(path: str | Path, store: LocalStore, taxonomy: Taxonomy, *, allow_missing: bool = False) -> Oracle:
    """Read an oracle CSV (an id column — reviewId, externalId, id or external_id — and a label
    column — label or category) against the assets of ``store`` and the ``taxonomy``. The id
    column is the candidate whose values match the store's ids best. Raises ReviewtuiError on a
    missing/unreadable file, an unknown label (naming the line), or ids not in the store (unless
    ``allow_missing``)."""
    p, header, rows = read_rows(path, "oracle file")  # a CSV, or a workbook, JSON(L) or Parquet file
    id_cols = [c for c in ID_COLUMNS if c in header]
    label_col = find_column(header, LABEL_COLUMNS)
    if not id_cols or label_col is None:
        raise ReviewtuiError(f"{p}: an oracle file needs an id column (reviewId, externalId or id) and a "
                             f"label column (label or category); the columns are: {', '.join(header) or 'none'}")
    if not rows:
        raise ReviewtuiError(f"{p}: the oracle file has no rows")
    best, best_hits = id_cols[0], -1
    for c in id_cols:
        hits = len(store.existing_ids((r[c] or "").strip() for r in rows))
        if hits > best_hits:
            best, best_hits = c, hits
    labels: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for r in rows:
        line = r.line
        ext = (r[best] or "").strip()
        if not ext:
            raise ReviewtuiError(f"{p}: line {line}: empty id in column {best!r}")
        key = taxonomy.require(r[label_col] or "", f"{p}: line {line}")
        if ext in labels and labels[ext] != key:  # which one is the truth? the simulation cannot tell
            raise ReviewtuiError(f"{p}: id {ext!r} gets the label {labels[ext]!r} on line {first_line[ext]} and "
                                 f"{key!r} on line {line}; keep one")
        labels[ext] = key
        first_line.setdefault(ext, line)
    present = store.existing_ids(labels)
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

