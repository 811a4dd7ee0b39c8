"""Immutable dataset versions: ``versions/dataset-N.csv`` plus ``dataset-N.json`` (the manifest).

The CSV keeps the original project's columns (id, externalId, skipped, status, label, content),
plus a last ``sentiment`` column (negative/neutral/positive, empty where unlabeled) when at least one
exported asset has a sentiment label, so versions without sentiment labels stay as they were. A
version is never overwritten: its number is claimed with an exclusive hard link, so two exports
running at once get two numbers, and an export that equals the latest version writes nothing.
This module uses the csv module, not pandas, so export and diff stay light.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_text, utc_now
from reviewtui.store import SENTIMENT_VALUES

COLUMNS = ["id", "externalId", "skipped", "status", "label", "content"]
SENTIMENT_COLUMN = "sentiment"
NAME_RE = re.compile(r"^dataset-(\d+)$")
EXPORT_STATUSES = ("LABELED", "REVIEWED")


@dataclass(frozen=True)
class VersionInfo:
    name: str
    number: int
    csv_path: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return int(self.manifest.get("rows", 0))

    @property
    def parent(self) -> str | None:
        return self.manifest.get("parent")

    @property
    def sha256(self) -> str:
        return str(self.manifest.get("sha256", ""))


def list_versions(versions_dir: Path) -> list[VersionInfo]:
    """The versions in ``versions_dir``, oldest first."""
    out: list[VersionInfo] = []
    if not versions_dir.is_dir():
        return out
    for csv_path in versions_dir.glob("dataset-*.csv"):
        m = NAME_RE.match(csv_path.stem)
        if not m:
            continue
        manifest_path = csv_path.with_suffix(".json")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {"name": csv_path.stem, "incomplete": True}
        out.append(VersionInfo(csv_path.stem, int(m.group(1)), csv_path, manifest))
    return sorted(out, key=lambda v: v.number)


def resolve_version(versions_dir: Path, name: str) -> VersionInfo:
    """``3``, ``dataset-3`` or ``dataset-3.csv`` -> the version. Raises ReviewtuiError if unknown."""
    wanted = str(name).strip()
    if wanted.endswith(".csv"):
        wanted = Path(wanted).stem
    if wanted.isdigit():
        wanted = f"dataset-{int(wanted)}"
    versions = list_versions(versions_dir)
    for v in versions:
        if v.name == wanted:
            return v
    known = ", ".join(v.name for v in versions) or "none yet (run `reviewtui export`)"
    raise ReviewtuiError(f"no version {name!r} in {versions_dir}; the versions are: {known}")


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    """The rows of a version CSV as dicts (keys are COLUMNS)."""
    with open(csv_path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _render(rows: Iterable[Sequence[Any]], columns: Sequence[str] = COLUMNS) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _claim(versions_dir: Path, data: bytes, manifest: dict[str, Any]) -> VersionInfo:
    """Write the CSV and manifest under the next free number, never overwriting one."""
    versions_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=versions_dir, prefix=".export.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        while True:
            existing = list_versions(versions_dir)
            number = (existing[-1].number if existing else 0) + 1
            final = versions_dir / f"dataset-{number}.csv"
            try:
                os.link(tmp, final)  # fails if another writer claimed this number first
            except FileExistsError:
                continue
            break
    finally:
        Path(tmp).unlink(missing_ok=True)
    manifest = {"name": final.stem, "number": number,
                "parent": existing[-1].name if existing else None, **manifest}
    atomic_write_text(final.with_suffix(".json"), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return VersionInfo(final.stem, number, final, manifest)


def export_version(store, taxonomy: Taxonomy, versions_dir: Path, *, remove: Sequence[str] = ()) -> VersionInfo | None:
    """Export LABELED/REVIEWED, non-skipped assets with training labels as the next version.

    Returns the new version, or None when it would equal the latest version (nothing written).
    """
    removed = [taxonomy.require(r, "--remove") for r in remove]
    dropped_untrained = [c.key for c in taxonomy if not c.train]
    keep = set(taxonomy.training_keys) - set(removed)
    rows = []
    for _id, ext, skipped, status, label, text, remote_id in store.labeled_rows(EXPORT_STATUSES):
        if skipped or label not in keep:
            continue
        rows.append((remote_id or str(_id), ext, "False", status, label, text))
    if not rows:
        raise ReviewtuiError("nothing to export: no LABELED or REVIEWED assets with a training label yet; "
                             "label some first (`reviewtui label` or the app)")
    labeled = store.sentiments([r[1] for r in rows])
    columns: list[str] = list(COLUMNS)
    if labeled:
        columns.append(SENTIMENT_COLUMN)
        rows = [(*r, labeled[r[1]].sentiment if r[1] in labeled else "") for r in rows]
    data = _render(rows, columns)
    sha = hashlib.sha256(data).hexdigest()
    existing = list_versions(versions_dir)
    if existing and existing[-1].sha256 == sha:
        return None
    manifest = {
        "created": utc_now(),
        "source": "export",
        "rows": len(rows),
        "counts_by_label": dict(Counter(r[4] for r in rows).most_common()),
        "counts_by_status": dict(Counter(r[3] for r in rows).most_common()),
        **({"counts_by_sentiment": dict(Counter(r[6] or "none" for r in rows).most_common())} if labeled else {}),
        "rules": {
            "statuses": list(EXPORT_STATUSES),
            "skipped": "excluded",
            "label": "latest label wins",
            "dropped_labels_not_for_training": dropped_untrained,
            "removed": removed,
        },
        "taxonomy": taxonomy.training_keys,
        "sha256": sha,
        "store_last_change": store.last_change(),
    }
    return _claim(versions_dir, data, manifest)


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def register_versions(paths: Sequence[str | Path], taxonomy: Taxonomy, versions_dir: Path) -> list[VersionInfo]:
    """Register existing version CSVs (the original project's dataset-N.csv files), in natural order.

    Every file is validated before any is copied, so a bad file registers nothing.
    """
    checked: list[tuple[Path, bytes, list[dict[str, str]], bool]] = []
    for p in sorted((Path(p) for p in paths), key=_natural_key):
        if not p.exists():
            raise ReviewtuiError(f"{p}: no such file")
        if p.is_dir():
            raise ReviewtuiError(f"{p}: is a folder; give the CSV files inside it")
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise ReviewtuiError(f"{p}: line {line}: bytes that are not UTF-8; re-save the file as UTF-8") from exc
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ReviewtuiError(f"{p}: not a dataset version: missing column(s) {', '.join(missing)}; "
                                 f"the columns are: {', '.join(header) or 'none'}")
        rows = list(reader)
        if not rows:
            raise ReviewtuiError(f"{p}: the version has no rows")
        seen: set[str] = set()
        for i, row in enumerate(rows, start=2):
            if taxonomy.resolve(row["label"]) is None:
                raise ReviewtuiError(f"{p}: line {i}: unknown label {row['label']!r}; the taxonomy has "
                                     f"{', '.join(taxonomy.keys)}")
            if row["externalId"] in seen:
                raise ReviewtuiError(f"{p}: line {i}: externalId {row['externalId']!r} appears twice")
            if (row.get(SENTIMENT_COLUMN) or "").strip().lower() not in ("", *SENTIMENT_VALUES):
                raise ReviewtuiError(f"{p}: line {i}: unknown sentiment {row[SENTIMENT_COLUMN]!r}; use "
                                     f"{', '.join(SENTIMENT_VALUES)} or leave it empty")
            seen.add(row["externalId"])
        checked.append((p, raw, rows, SENTIMENT_COLUMN in header))
    out = []
    for p, raw, rows, with_sentiment in checked:
        columns = [*COLUMNS, SENTIMENT_COLUMN] if with_sentiment else COLUMNS
        norm = _render(((r["id"], r["externalId"], r["skipped"], r["status"], taxonomy.resolve(r["label"]), r["content"])
                        + (((r.get(SENTIMENT_COLUMN) or "").strip().lower(),) if with_sentiment else ())
                        for r in rows), columns)
        manifest = {
            "created": utc_now(),
            "source": "imported",
            "imported_from": str(p.resolve()),
            "imported_sha256": hashlib.sha256(raw).hexdigest(),
            "rows": len(rows),
            "counts_by_label": dict(Counter(taxonomy.resolve(r["label"]) for r in rows).most_common()),
            "counts_by_status": dict(Counter(r["status"] for r in rows).most_common()),
            "rules": {"note": "registered as-is from an existing export"},
            "taxonomy": taxonomy.training_keys,
            "sha256": hashlib.sha256(norm).hexdigest(),
        }
        out.append(_claim(versions_dir, norm, manifest))
    return out


def copy_version(info: VersionInfo, dest: Path) -> None:
    shutil.copyfile(info.csv_path, dest)
