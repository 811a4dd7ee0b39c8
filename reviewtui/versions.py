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
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_text, make_temp_file, utc_now
from reviewtui.store import SENTIMENT_VALUES

COLUMNS = ["id", "externalId", "skipped", "status", "label", "content"]
SENTIMENT_COLUMN = "sentiment"
NAME_RE = re.compile(r"^dataset-(\d+)$")
EXPORT_STATUSES = ("LABELED", "REVIEWED")
#: Beside the versions: the latest label event at which an export found nothing new to write.
CHECKED_FILE = ".checked.json"


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


def check_intact(info: VersionInfo) -> VersionInfo:
    """``info`` when its CSV is the file its manifest records (its SHA-256); raises ReviewtuiError
    when the file was edited, cut short or replaced since: a version is never changed, and a diff
    or a training on such a file would report labels nobody gave."""
    want = info.sha256
    if not want:
        return info
    try:
        with info.csv_path.open("rb") as fh:
            have = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ReviewtuiError(f"{info.csv_path}: cannot read the version ({exc.strerror})") from exc
    if have != want:
        raise ReviewtuiError(f"{info.csv_path}: the file changed after it was written (it is not the file "
                             f"{info.csv_path.with_suffix('.json').name} records); a version is never edited: put "
                             "the file back from a copy, or copy the edited file out of versions/ and register it "
                             "as a new version (reviewtui versions import FILE)")
    return info


def version_name(name: str) -> str:
    """``3``, ``dataset-3`` or ``dataset-3.csv`` -> ``dataset-3``; another name as it is."""
    wanted = str(name).strip()
    if wanted.endswith(".csv"):
        wanted = Path(wanted).stem
    return f"dataset-{int(wanted)}" if wanted.isdigit() else wanted


def resolve_version(versions_dir: Path, name: str) -> VersionInfo:
    """``3``, ``dataset-3`` or ``dataset-3.csv`` -> the version. Raises ReviewtuiError if unknown."""
    wanted = version_name(name)
    versions = list_versions(versions_dir)
    for v in versions:
        if v.name == wanted:
            return v
    known = ", ".join(v.name for v in versions) or "none yet (run `reviewtui export`)"
    raise ReviewtuiError(f"no version {name!r} in {versions_dir}; the versions are: {known}")


class CsvRows(Sequence[dict[str, str]]):
    """The rows of a CSV file held column by column (``table``, a pyarrow Table of strings); a
    row is made a dict when it is read. A million-row version costs its columns, not a million
    dicts, and :func:`reviewtui.diff.diff_versions` compares two of them column-wise."""

    def __init__(self, header: list[str], table: Any) -> None:
        self.header = header
        self.table = table
        self._lists: dict[str, list[str]] = {}

    def column(self, name: str) -> list[str]:
        """One column as a list of strings (converted once)."""
        if name not in self._lists:
            self._lists[name] = self.table.column(name).to_pylist()
        return self._lists[name]

    def __len__(self) -> int:
        return self.table.num_rows

    def _row(self, i: int) -> dict[str, str]:
        return {name: self.column(name)[i] for name in self.header}

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[dict[str, str]]:
        header = self.header
        for values in zip(*(self.column(name) for name in header)):
            yield dict(zip(header, values))


def read_rows(csv_path: Path) -> Sequence[dict[str, str]]:
    """The rows of a CSV written by reviewtui (a version, results/result.csv) as dicts keyed by
    its header. A big file (over a megabyte) is read column-wise by pyarrow into a
    :class:`CsvRows`; a small one with the csv module, as a list."""
    csv_path = Path(csv_path)
    if csv_path.stat().st_size > 1_000_000:
        rows = _read_columns(csv_path)
        if rows is not None:
            return rows
    with open(csv_path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _read_columns(csv_path: Path) -> CsvRows | None:
    """pyarrow's reading of a CSV we wrote (UTF-8, comma, minimal quoting); None when it cannot
    (a ragged row, a repeated column name): the csv module then reads it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(csv_path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    if not header or len(set(header)) != len(header) or any(not h for h in header):
        return None
    try:
        table = pacsv.read_csv(
            csv_path, read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.column_names != header:
        return None
    return CsvRows(header, table)


def _write_rows(versions_dir: Path, rows: Sequence[Sequence[Any]],
                columns: Sequence[str] = COLUMNS) -> tuple[str, str]:
    """Write a version's CSV (header ``columns`` + ``rows``) to a temporary file in ``versions_dir``,
    fsync'd, a block of rows at a time; returns (its path, its sha256)."""
    versions_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp_file(versions_dir, prefix=".export.", suffix=".tmp")
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as fh:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(columns)
            for start in range(0, max(len(rows), 1), 50_000):
                writer.writerows(rows[start:start + 50_000])
                block = buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
                sha.update(block)
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp, sha.hexdigest()


#: A leftover of a killed export (a temporary file, or a manifest whose CSV never came) is removed
#: by the next export once it is this old: younger, it may be another export's, under way.
LEFTOVER_SECONDS = 600


#: The store's record of every version number given (meta key): number -> name, rows, sha256 and
#: time. A version deleted from versions/ by hand keeps its number, which is never given again (a
#: model card naming dataset-3 never comes to mean other rows), and status names it as missing
#: until a copy is put back (``versions import`` of the copy restores it under its number) or it
#: is forgotten (``versions forget``: the number stays given).
GIVEN_KEY = "versions.given"


def _given_from(raw: str | None) -> dict[int, dict[str, Any]]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {int(k): v for k, v in data.items() if str(k).isdigit() and isinstance(v, dict)}


def versions_given(store) -> dict[int, dict[str, Any]]:
    """The version numbers the store has recorded as given (see :data:`GIVEN_KEY`)."""
    return _given_from(store.get_meta(GIVEN_KEY))


def record_given(store, versions: Sequence[VersionInfo], *, forget: str | None = None) -> None:
    """Record ``versions`` (new ones and those already in versions/) as given numbers, in one write
    transaction (two exports at once keep both); ``forget`` marks that version forgotten."""

    def change(raw: str | None) -> str:
        given = _given_from(raw)
        for v in versions:
            entry = {"name": v.name, "rows": v.rows, "sha256": v.sha256, "created": v.manifest.get("created")}
            if v.number not in given or not given[v.number].get("sha256"):
                given[v.number] = entry
            given[v.number].pop("forgotten", None)
        if forget is not None:
            for entry in given.values():
                if entry.get("name") == forget:
                    entry["forgotten"] = True
        return json.dumps({str(k): given[k] for k in sorted(given)})

    store.update_meta(GIVEN_KEY, change)


def missing_versions(store, versions_dir: Path, named: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The versions given here whose CSV is no longer in ``versions_dir`` (deleted or moved by
    hand), oldest first: those the store recorded and not forgotten, and those ``named`` (version
    name -> the model whose card names it) that the store never recorded (a workspace from before
    the record). Each is a dict: name, rows (None when unknown), sha256, created, named_by."""
    given = versions_given(store)
    present = {v.number for v in list_versions(versions_dir)}
    out = {n: {**e, "named_by": None} for n, e in given.items() if n not in present and not e.get("forgotten")}
    for name, model in (named or {}).items():
        m = NAME_RE.match(name or "")
        if m and (n := int(m.group(1))) not in present and n not in given:
            out.setdefault(n, {"name": name, "rows": None, "sha256": "", "created": None, "named_by": model})
    return [out[n] for n in sorted(out)]


def forget_version(store, versions_dir: Path, name: str) -> dict[str, Any]:
    """Stop naming the missing version ``name`` (``3``, ``dataset-3``) as missing; its number stays
    given. Raises ReviewtuiError when it is not a missing version."""
    wanted = version_name(name)
    missing = {m["name"]: m for m in missing_versions(store, versions_dir)}
    if wanted not in missing:
        present = {v.name for v in list_versions(versions_dir)}
        why = "it is in versions/" if wanted in present else "no version of that name was written here"
        raise ReviewtuiError(f"{name!r} is not a missing version ({why}); the missing ones are: "
                             f"{', '.join(missing) or 'none'}")
    record_given(store, [], forget=wanted)
    return missing[wanted]


def _next_number(versions_dir: Path, floor: int = 0) -> int:
    """One past the highest number a version's CSV or manifest holds, or ``floor`` (the highest
    number ever given)."""
    numbers = [int(m.group(1)) for p in versions_dir.glob("dataset-*.*")
               if p.suffix in (".csv", ".json") and (m := NAME_RE.match(p.stem))]
    return max(numbers + [floor], default=0) + 1


def _claim_file(versions_dir: Path, tmp: str, manifest: dict[str, Any], floor: int = 0,
                number: int | None = None) -> VersionInfo:
    """Give the written temporary CSV ``tmp`` the next free number (above ``floor``), or ``number``
    (a missing version put back), with its manifest, never overwriting a version (two exports at
    once get two numbers). The manifest claims the number (linked into place whole), then the CSV
    takes its name: a kill between the two leaves a manifest without its CSV, which no listing
    shows and the next export removes, never a version without its manifest."""
    wanted = number
    try:
        while True:
            existing = list_versions(versions_dir)
            if wanted is not None:
                existing = [v for v in existing if v.number < wanted]
            number = wanted if wanted is not None else _next_number(versions_dir, floor)
            final = versions_dir / f"dataset-{number}.csv"
            full = {"name": final.stem, "number": number, "parent": existing[-1].name if existing else None,
                    **manifest}
            fd, held = make_temp_file(versions_dir, prefix=f".{final.stem}.json.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(full, indent=2, ensure_ascii=False) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(held, final.with_suffix(".json"))  # fails if another writer claimed this number first
            except FileExistsError:
                if wanted is not None:
                    raise ReviewtuiError(f"{final.with_suffix('.json')}: is there already; move it away and run the "
                                         "command again") from None
                continue
            finally:
                held.unlink(missing_ok=True)
            os.link(tmp, final)
            break
    finally:
        Path(tmp).unlink(missing_ok=True)
    return VersionInfo(final.stem, number, final, full)


def tidy_versions(versions_dir: Path, now: float | None = None) -> list[str]:
    """Finish or clear what a killed export left in ``versions_dir``: a version CSV without its
    manifest (written by an earlier reviewtui, which named the CSV first) gets one, read from the
    file ("repaired": true); temporary files and manifests without their CSV older than
    :data:`LEFTOVER_SECONDS` are removed. Returns the names of the versions repaired."""
    import time

    if not versions_dir.is_dir():
        return []
    now = time.time() if now is None else now
    for p in [*versions_dir.glob(".export.*.tmp"), *versions_dir.glob(".dataset-*.json.*.tmp"),
              *(j for j in versions_dir.glob("dataset-*.json") if not j.with_suffix(".csv").exists())]:
        try:
            if now - p.stat().st_mtime > LEFTOVER_SECONDS:
                p.unlink()
        except OSError:
            pass
    repaired = []
    versions = list_versions(versions_dir)
    for i, v in enumerate(versions):
        if not v.manifest.get("incomplete"):
            continue
        sha = hashlib.sha256(v.csv_path.read_bytes()).hexdigest()
        with v.csv_path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        manifest = {"name": v.name, "number": v.number, "parent": versions[i - 1].name if i else None,
                    "created": utc_now(), "source": "repaired", "repaired": True, "rows": len(rows),
                    "counts_by_label": dict(Counter(r.get("label") or "" for r in rows).most_common()),
                    "counts_by_status": dict(Counter(r.get("status") or "" for r in rows).most_common()),
                    "sha256": sha}
        atomic_write_text(v.csv_path.with_suffix(".json"), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        repaired.append(v.name)
    return repaired


def last_event_held(versions_dir: Path, latest: VersionInfo) -> int | None:
    """The latest label event whose history ``latest`` (the newest version) is known to hold: the
    one its manifest recorded, or a later one at which an export found nothing new to write
    (:data:`CHECKED_FILE`). None for a version whose manifest recorded none (exported earlier)."""
    seen = latest.manifest.get("store_last_event")
    if seen is None:
        return None
    try:
        checked = json.loads((versions_dir / CHECKED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return seen
    if isinstance(checked, dict) and checked.get("version") == latest.name and checked.get("sha256") == latest.sha256:
        return checked.get("store_last_event", seen)
    return seen


def checked_taxonomy(versions_dir: Path, latest: VersionInfo) -> list[str] | None:
    """The training categories under which an export found that ``latest`` (the newest version)
    still holds every label (:data:`CHECKED_FILE`; a category added since with no label yet leaves
    the rows as they were), or None when no such export was made."""
    try:
        checked = json.loads((versions_dir / CHECKED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(checked, dict) and checked.get("version") == latest.name and checked.get("sha256") == latest.sha256 \
            and isinstance(checked.get("taxonomy"), list):
        return [str(k) for k in checked["taxonomy"]]
    return None


def export_version(store, taxonomy: Taxonomy, versions_dir: Path, *, remove: Sequence[str] = (),
                   floor: int = 0) -> VersionInfo | None:
    """Export LABELED/REVIEWED, non-skipped assets with training labels as the next version (a
    number above every number given, and above ``floor``: one named elsewhere, by a model card).

    Returns the new version, or None when it would equal the latest version (nothing written).
    """
    removed = [taxonomy.require(r, "--remove") for r in remove]
    tidy_versions(versions_dir)
    dropped_untrained = [c.key for c in taxonomy if not c.train]
    keep = [k for k in taxonomy.training_keys if k not in removed]
    # read before the rows: a label given while they are written is then not counted as in the version
    last_event, last_change = store.last_event(), store.last_change()
    rows = store.export_rows(EXPORT_STATUSES, keep)
    if not rows:
        raise ReviewtuiError("nothing to export: no LABELED or REVIEWED assets with a training label yet; "
                             "label some first (the digits on the Label screen, or `reviewtui label`)")
    # labels the version leaves out because their category is not trained: said at export, as the
    # model will put reviews like them into the trained categories
    have = store.label_counts(EXPORT_STATUSES)
    not_trained = dict(Counter({k: have[k] for k in dropped_untrained if have.get(k)}).most_common())
    # and those --remove names, and labels of a category the taxonomy no longer has (a file edited
    # by hand, a label given back after a rename): said too, never left out without a word
    removed_counts = dict(Counter({k: have[k] for k in removed if have.get(k)}).most_common())
    orphans = dict(Counter({k: n for k, n in have.items() if n and k not in taxonomy.keys}).most_common())
    # labeled reviews sent to review (suspects, a diff) are left out until a label or a confirmation
    in_review = sum(n for k, n in store.label_counts(("TO_REVIEW",)).items() if k in keep)
    labeled = store.sentiments([r[1] for r in rows])
    columns: list[str] = list(COLUMNS)
    if labeled:
        columns.append(SENTIMENT_COLUMN)
        rows = [(*r, labeled[r[1]].sentiment if r[1] in labeled else "") for r in rows]
    tmp, sha = _write_rows(versions_dir, rows, columns)
    existing = list_versions(versions_dir)
    # the rows but their id column: a Kili push gives the reviews new asset ids, and a version that
    # differs from the latest in those alone is no new version
    rows_digest = hashlib.sha256()
    for r in rows:
        rows_digest.update(("\x1f".join(str(v) for v in r[1:]) + "\x1e").encode("utf-8"))
    rows_sha = rows_digest.hexdigest()
    if existing and (existing[-1].sha256 == sha or existing[-1].manifest.get("rows_sha256") == rows_sha):
        Path(tmp).unlink(missing_ok=True)
        # the label history up to last_event gives the latest version again: kept beside the
        # versions, so that status stops asking for an export that would write nothing
        atomic_write_text(versions_dir / CHECKED_FILE, json.dumps(
            {"version": existing[-1].name, "sha256": existing[-1].sha256, "store_last_event": last_event,
             "taxonomy": taxonomy.training_keys}) + "\n")
        return None
    manifest = {
        "created": utc_now(),
        "source": "export",
        "rows": len(rows),
        "counts_by_label": dict(Counter([r[4] for r in rows]).most_common()),
        "counts_by_status": dict(Counter([r[3] for r in rows]).most_common()),
        "labels_not_for_training": not_trained,
        **({"labels_removed": removed_counts} if removed_counts else {}),
        **({"labels_not_in_taxonomy": orphans} if orphans else {}),
        **({"waiting_in_review": in_review} if in_review else {}),
        **({"counts_by_sentiment": dict(Counter([r[6] or "none" for r in rows]).most_common())} if labeled else {}),
        "rules": {
            "statuses": list(EXPORT_STATUSES),
            "skipped": "excluded",
            "label": "latest label wins",
            "dropped_labels_not_for_training": dropped_untrained,
            "removed": removed,
        },
        "taxonomy": taxonomy.training_keys,
        "sha256": sha,
        "rows_sha256": rows_sha,  # of every column but id
        "store_last_change": last_change,
        "store_last_event": last_event,
    }
    info = _claim_file(versions_dir, tmp, manifest, floor=max(floor, max(versions_given(store), default=0)))
    record_given(store, [*existing, info])
    return info


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def register_versions(paths: Sequence[str | Path], taxonomy: Taxonomy, versions_dir: Path,
                      store=None, floor: int = 0) -> list[VersionInfo]:
    """Register existing version CSVs (the original project's dataset-N.csv files), in natural order.

    Every file is validated before any is copied, so a bad file registers nothing. With ``store``,
    the numbers given are recorded there (:data:`GIVEN_KEY`), none given before (or at most
    ``floor``) is reused, and a copy of a version missing from versions/ is put back under its own
    number (``"restored": true`` in what is returned).
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
        norm = [(r["id"], r["externalId"], r["skipped"], r["status"], taxonomy.resolve(r["label"]), r["content"])
                + (((r.get(SENTIMENT_COLUMN) or "").strip().lower(),) if with_sentiment else ())
                for r in rows]
        tmp, sha = _write_rows(versions_dir, norm, columns)
        # a copy of a version's file as it is: the same version, though a category renamed since
        # gives its labels other keys now
        as_is = hashlib.sha256(raw).hexdigest()
        same = next((v for v in list_versions(versions_dir) if v.sha256 in (sha, as_is)), None)
        if same is not None:  # registered before (or exported with the same rows): not a version again
            Path(tmp).unlink(missing_ok=True)
            out.append(replace(same, manifest={**same.manifest, "imported_from": str(p.resolve()), "again": True}))
            continue
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
            "sha256": sha,
        }
        given = versions_given(store) if store is not None else {}
        present = {v.number for v in list_versions(versions_dir)}
        back = next((n for n, e in sorted(given.items()) if e.get("sha256") == sha and n not in present), None)
        if back is not None:
            manifest["restored"] = True
        info = _claim_file(versions_dir, tmp, manifest, floor=max(floor, max(given, default=0)), number=back)
        if store is not None:
            record_given(store, [*list_versions(versions_dir)])
        out.append(info)
    return out


def copy_version(info: VersionInfo, dest: Path) -> None:
    shutil.copyfile(info.csv_path, dest)
