"""A dataset version written for teams that train elsewhere: CSV, Parquet, JSON Lines, or a
Hugging Face ``datasets.Dataset`` saved to disk with a ``ClassLabel`` feature.

The label names (and so the class ids) are the taxonomy the version was exported with, kept in its
manifest, so ids stay stable when the taxonomy changes later. Every format is written atomically:
a file through a temp file and a rename, the ``hf`` folder built in a temp folder next to it and
renamed into place. The version itself is never touched.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_bytes, make_temp_dir
from reviewtui.versions import VersionInfo, read_rows

FORMATS = ("csv", "parquet", "jsonl", "hf")
#: Columns of the parquet, jsonl and hf outputs (``label_id`` is the class index; in hf, ``label``
#: itself is the ClassLabel).
COLUMNS = ("id", "externalId", "status", "label", "label_id", "content")


@dataclass(frozen=True)
class FormattedVersion:
    """What :func:`write_version` wrote."""

    version: str
    format: str
    path: Path
    rows: int
    label_names: list[str]


#: The formats the names of files usually say (a name of no listed ending says nothing).
NAMED_FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
                 ".json": "jsonl", ".ndjson": "jsonl", ".xlsx": None}


def check_name(dest: str | Path, fmt: str) -> None:
    """Raise ReviewtuiError when ``dest`` is named as another format than ``fmt`` (``x.csv`` for a
    Parquet file): a file named as one format holding another misleads every reader."""
    dest = Path(dest)
    ext = dest.suffix.lower()
    if ext in NAMED_FORMATS and NAMED_FORMATS[ext] != fmt:
        renamed = f"{dest.stem} (a folder)" if fmt == "hf" else f"{dest.stem}.{fmt}"  # as default_name ends
        raise ReviewtuiError(f"--out {dest}: a {ext} name for a {fmt} file; name it {renamed}, or give "
                             f"--format {NAMED_FORMATS[ext] or 'csv'}; nothing was written")


def default_name(info: VersionInfo, fmt: str) -> str:
    """``dataset-3.parquet``, ``dataset-3.jsonl``, ``dataset-3.csv`` or ``dataset-3-hf`` (a folder)."""
    return f"{info.name}-hf" if fmt == "hf" else f"{info.name}.{fmt}"


def write_version(info: VersionInfo, dest: str | Path, fmt: str, *, label_names: Sequence[str] | None = None,
                  overwrite: bool = False) -> FormattedVersion:
    """Write version ``info`` to ``dest`` as ``fmt`` (one of :data:`FORMATS`). ``label_names``
    defaults to the taxonomy in the version's manifest. Raises ReviewtuiError for an unknown format,
    an existing ``dest`` (unless ``overwrite``) or a label outside the names."""
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ReviewtuiError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise ReviewtuiError(f"{dest}: already exists; choose another path or remove it")
    rows = read_rows(info.csv_path)
    names = list(label_names or info.manifest.get("taxonomy") or [])
    if not names:
        names = sorted({r["label"] for r in rows})
    index = {n: i for i, n in enumerate(names)}
    outside = sorted({r["label"] for r in rows} - set(index))
    if outside:
        raise ReviewtuiError(f"{info.name}: labels {', '.join(outside)} are not among the label names "
                             f"({', '.join(names)}); export the version again or give the names")
    table = [{"id": r["id"], "externalId": r["externalId"], "status": r["status"], "label": r["label"],
              "label_id": index[r["label"]], "content": r["content"]} for r in rows]
    if fmt == "csv":
        atomic_write_bytes(dest, info.csv_path.read_bytes())
    elif fmt == "jsonl":
        atomic_write_bytes(dest, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in table).encode("utf-8"))
    elif fmt == "parquet":
        atomic_write_bytes(dest, _parquet_bytes(table, info, names))
    else:
        _write_hf(table, dest, names, info, overwrite)
    return FormattedVersion(info.name, fmt, dest, len(rows), names)


def _parquet_bytes(table: list[dict[str, Any]], info: VersionInfo, names: list[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.string()), ("externalId", pa.string()), ("status", pa.string()),
                        ("label", pa.string()), ("label_id", pa.int64()), ("content", pa.string())],
                       metadata={"reviewtui.version": info.name, "reviewtui.label_names": json.dumps(names)})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(table, schema=schema), buf)
    return buf.getvalue()


def _write_hf(table: list[dict[str, Any]], dest: Path, names: list[str], info: VersionInfo, overwrite: bool) -> None:
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"id": Value("string"), "externalId": Value("string"), "status": Value("string"),
                         "content": Value("string"), "label": ClassLabel(names=names)})
    data = {k: [r[k] for r in table] for k in ("id", "externalId", "status", "content")}
    data["label"] = [r["label_id"] for r in table]
    ds = Dataset.from_dict(data, features=features)
    ds.info.description = f"reviewtui dataset version {info.name} ({len(table)} labeled reviews)"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled

    bars = is_progress_bar_enabled()  # the library's bars on stderr would follow the command's one line
    disable_progress_bar()
    try:
        ds.save_to_disk(str(tmp))
        if overwrite and dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if bars:
            enable_progress_bar()


__all__ = ["COLUMNS", "FORMATS", "NAMED_FORMATS", "FormattedVersion", "check_name", "default_name", "write_version"]
