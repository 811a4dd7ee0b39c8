"""The embedded labeling store: one SQLite file in WAL mode.

Assets (unique external id, text, metadata), their status and skip flag, an append-only label
history and labeling-queue priorities. Every write is one ``BEGIN IMMEDIATE`` transaction with a
busy timeout, so the app and a CLI call working on the same workspace serialise their writes
instead of losing one another's.

Built for a million assets: every path the app and ``status`` take is an index search, never a
scan of the assets table (tests/test_scale.py reads their ``EXPLAIN QUERY PLAN``). Counts by
status, skip flag and label live in ``asset_counts``, kept by a trigger on updates and by the
insert methods (new assets are always TODO, not skipped, unlabeled), so ``status`` costs the same
at any size; the labeled assets have a partial index of their own, so an export or a refit reads
only them.
"""

from __future__ import annotations

import os
import json
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import utc_now

STATUSES = ("TODO", "ONGOING", "LABELED", "TO_REVIEW", "REVIEWED")
SOURCES = ("human", "model", "kili", "import")
TRAINING_STATUSES = ("LABELED", "REVIEWED", "TO_REVIEW")  # the statuses whose label a model learns from
#: The values of the sentiment dimension. A sentiment label is its own event (kind "sentiment") in
#: the same append-only history as the category labels: it never changes the asset's category
#: label or status, and undo takes it back like any other event.
SENTIMENT_VALUES = ("negative", "neutral", "positive")
# 2: full-text index (assets_fts), metadata indexes and predictions; 3: labels.history_only;
# 4: what a million assets need (asset_counts and its triggers, the labeled, updated and undo indexes);
# 5: assets.text_hash dropped (nothing read it; a million-row import spent 2 s computing it)
SCHEMA_VERSION = 5
#: Pages SQLite may keep in memory per connection (KiB, as a negative cache_size): a million-row
#: import inserts into indexes far larger than the default 2 MiB cache.
CACHE_KIB = 262_144
PAGE_SIZE = 16_384

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'TODO',
    skipped INTEGER NOT NULL DEFAULT 0,
    skip_reason TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    remote_id TEXT,
    label TEXT,
    label_event INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assets_queue ON assets(status, skipped, priority DESC, id);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets(id),
    kind TEXT NOT NULL DEFAULT 'label',
    category TEXT,
    spans TEXT,
    author TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undoes INTEGER,
    prev_status TEXT,
    prev_skipped INTEGER,
    prev_skip_reason TEXT,
    note TEXT,
    history_only INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS labels_asset ON labels(asset_id, id);
CREATE TRIGGER IF NOT EXISTS labels_append_only_update BEFORE UPDATE ON labels
BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS labels_append_only_delete BEFORE DELETE ON labels
BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END;
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    added INTEGER NOT NULL,
    existing INTEGER NOT NULL,
    at TEXT NOT NULL
);
"""


#: The app and app version of every asset, indexed: counts by app (and app x version) read the
#: index in order instead of parsing every asset's metadata. Created on open when missing.
APP_INDEX = ("CREATE INDEX IF NOT EXISTS assets_app ON assets(json_extract(metadata, '$.app'), "
             "json_extract(metadata, '$.app_version'))")

# Version 2: the full-text index over the texts (an external-content FTS5 table: the text is stored
# once, in assets), indexes on the metadata fields the queue filters use, and the current model's
# prediction for each asset (replaced as a whole after a refit or a predict run) for the predicted
# category and confidence filters. The store keeps the full-text index in sync itself: the insert
# methods index their new rows in one statement (a per-row insert trigger made a 40,000-review
# import 3.5 times slower), and triggers follow a changed text or a deleted asset. No index on the
# label: its filter is rare, a pass over the table is fast enough, and such an index changed the
# plan (and the order of ties) of the per-label counts. Applied to new stores and, once, to stores
# made before it. The index collects up to 16 MiB of new entries in memory before it writes them (FTS5's
# default is 1 MiB): fewer, larger segments to merge made indexing a million reviews twice as fast.
FTS_HASH_BYTES = 16 * 1024 * 1024
#: The first SQLite whose ALTER TABLE DROP COLUMN is safe on a table with an INTEGER PRIMARY KEY.
DROP_COLUMN_SQLITE = (3, 35, 5)
SEARCH_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS assets_fts USING fts5(
    text, content='assets', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
INSERT INTO assets_fts(assets_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES});
CREATE TRIGGER IF NOT EXISTS assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts(assets_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS assets_fts_update AFTER UPDATE OF text ON assets BEGIN
    INSERT INTO assets_fts(assets_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO assets_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE INDEX IF NOT EXISTS assets_meta_score ON assets(json_extract(metadata, '$.score'));
CREATE INDEX IF NOT EXISTS assets_meta_version ON assets(json_extract(metadata, '$.app_version'));
CREATE INDEX IF NOT EXISTS assets_meta_at ON assets(json_extract(metadata, '$.at'));
CREATE TABLE IF NOT EXISTS predictions (
    asset_id INTEGER PRIMARY KEY REFERENCES assets(id),
    category TEXT NOT NULL,
    confidence REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_category ON predictions(category, confidence);
CREATE INDEX IF NOT EXISTS predictions_confidence ON predictions(confidence);
"""
# the metadata fields the filters read, as the expressions the indexes above are built on
META_EXPR = {key: f"json_extract(a.metadata, '$.{key}')" for key in ("score", "app_version", "at", "app")}
# Version 4: what a million assets need. Applied on creation, and once to a store made before it
# (its counts taken from the assets).
SCALE_SCHEMA = """
DROP INDEX IF EXISTS assets_status;
CREATE INDEX IF NOT EXISTS assets_updated ON assets(updated_at);
CREATE INDEX IF NOT EXISTS assets_labeled ON assets(id) WHERE label IS NOT NULL;
CREATE INDEX IF NOT EXISTS labels_undoes ON labels(undoes) WHERE undoes IS NOT NULL;
CREATE INDEX IF NOT EXISTS labels_author ON labels(author, id);
CREATE TABLE IF NOT EXISTS asset_counts (
    status TEXT NOT NULL,
    skipped INTEGER NOT NULL,
    label TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (status, skipped, label)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS assets_counts_update AFTER UPDATE OF status, skipped, label ON assets
WHEN old.status IS NOT new.status OR old.skipped IS NOT new.skipped OR old.label IS NOT new.label
BEGIN
    UPDATE asset_counts SET n = n - 1
    WHERE status = old.status AND skipped = old.skipped AND label = ifnull(old.label, '');
    INSERT INTO asset_counts VALUES (new.status, new.skipped, ifnull(new.label, ''), 1)
    ON CONFLICT (status, skipped, label) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS assets_counts_delete AFTER DELETE ON assets
BEGIN
    UPDATE asset_counts SET n = n - 1
    WHERE status = old.status AND skipped = old.skipped AND label = ifnull(old.label, '');
END;
"""
COUNT_ALL = ("DELETE FROM asset_counts; INSERT INTO asset_counts "
             "SELECT status, skipped, ifnull(label, ''), COUNT(*) FROM assets GROUP BY 1, 2, 3")


def _statements(script: str) -> list[str]:
    """The statements of a script of ours (a trigger body's semicolons stay inside its statement)."""
    out, current = [], ""
    for part in script.split(";"):
        current += part
        if sqlite3.complete_statement(current + ";"):
            if current.strip():
                out.append(current.strip())
            current = ""
        else:
            current += ";"
    return out


class NewAsset(NamedTuple):
    """An asset to add (a tuple: a million of them are built in a few hundred milliseconds)."""

    external_id: str
    text: str
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Asset:
    id: int
    external_id: str
    text: str
    metadata: dict[str, Any]
    status: str
    skipped: bool
    skip_reason: str | None
    priority: int
    remote_id: str | None
    label: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LabelEvent:
    """One row of the append-only history. ``kind`` is "label", "skip", "status", "undo",
    "confirm" (a label checked and kept as it is) or "sentiment" (the sentiment is in ``category``).
    ``prev_status`` is the asset's status before the event (None for undo rows). ``history_only``:
    a label that never was the asset's effective label (another author's label of a consensus pull)."""

    id: int
    external_id: str
    kind: str
    category: str | None
    spans: list[dict[str, Any]] | None
    author: str
    source: str
    created_at: str
    undoes: int | None = None
    note: str | None = None
    prev_status: str | None = None
    history_only: bool = False
    #: for an event just undone: the asset's effective label after the undo (another author's
    #: later or earlier label), None when it has none left
    label_after: str | None = None


@dataclass(frozen=True)
class AssetQuery:
    """Which assets :meth:`LocalStore.find_ids` returns; every field left empty matches all.

    ``match`` is an FTS5 query over the text (build it from user input with
    ``reviewtui.loop.search.fts_query``); ``versions`` match a version and its sub-versions ("4.5"
    matches 4.5, 4.5.0, 4.5.1); ``date_from``/``date_to`` are inclusive ``YYYY-MM-DD`` bounds on
    the review's date (metadata ``at``); ``stars`` the score; ``labels`` the effective label;
    ``predicted``/``confidence`` (an inclusive [low, high] range) the stored predictions
    (:meth:`LocalStore.set_predictions`): assets without one do not match them."""

    match: str | None = None
    statuses: tuple[str, ...] = ()
    skipped: bool | None = None
    labeled: bool | None = None
    labels: tuple[str, ...] = ()
    stars: tuple[int, ...] = ()
    apps: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    predicted: tuple[str, ...] = ()
    confidence: tuple[float, float] | None = None

    @property
    def needs_predictions(self) -> bool:
        return bool(self.predicted) or self.confidence is not None


@dataclass(frozen=True)
class SentimentLabel:
    """The effective sentiment of an asset: the latest sentiment event that is not undone."""

    external_id: str
    sentiment: str
    author: str
    source: str
    at: str


@dataclass(frozen=True)
class SentimentRow:
    """A sentiment label to record in bulk (an import of a team's sentiment labels, a Kili pull)."""

    external_id: str
    sentiment: str
    author: str
    source: str = "human"
    at: str | None = None
    note: str | None = None  # a labels file's (``file_note``): ``undo --bulk`` takes it back with the labels


@dataclass(frozen=True)
class LabelRow:
    """A label to record in bulk (``reviewtui label --from``, a Kili pull).

    ``current=False`` records an author's label in the history without making it the asset's
    effective label (another author's label of a consensus pull): status and skip stay as they
    are, and it is not recorded again while that author's latest label on the asset is the same.
    ``status`` None is a person's label as the labeling screen gives it (:func:`label_status`)."""

    external_id: str
    category: str
    author: str
    source: str
    status: str | None = "LABELED"
    spans: list[dict[str, Any]] | None = None
    at: str | None = None
    skipped: bool = False
    note: str | None = None  # why, in the history (e.g. "renamed BUG to DEFECT")
    current: bool = True


def label_status(old_status: str | None) -> str:
    """The status a person's label gives a review that had ``old_status``: REVIEWED where it was
    under review (TO_REVIEW: sent back by a diff, the suspects or a disagreement, so the label is
    the review's outcome and the next version exports it) or reviewed already (a label given again
    keeps it so: a bulk label run twice changes nothing the second time), LABELED otherwise. A
    confirmation of a review under review makes it REVIEWED too (:meth:`LocalStore.confirm_label`)."""
    return "REVIEWED" if old_status in ("TO_REVIEW", "REVIEWED") else "LABELED"


_ASSET_COLS = ("id, external_id, text, metadata, status, skipped, skip_reason, priority, remote_id, "
               "label, created_at, updated_at")

# The queries the app and `status` run, named so that query_plans() can show how SQLite runs each.
COUNTS_SQL = "SELECT status, skipped, label, n FROM asset_counts WHERE n != 0"
HIGHEST_SQL = "SELECT MAX(id) FROM assets"
LAST_CHANGE_SQL = "SELECT MAX(updated_at) FROM assets"
LAST_EVENT_SQL = "SELECT MAX(id) FROM labels"
#: The notes of the label events a category change makes (``categories rename`` and ``merge`` move
#: every label of a category to another key) start so: such an event is nobody's judgement of the
#: review, so the late labels, the authors' counts and their agreement leave it out.
CATEGORY_NOTES = ("renamed ", "merged ")

def _category_change(alias: str) -> str:
    """SQL: the label event ``alias`` is a category change's move (its note starts so; GLOB, as
    Python's startswith, minds the case)."""
    return "(" + " OR ".join(f"ifnull({alias}.note, '') GLOB '{n}*'" for n in CATEGORY_NOTES) + ")"


# an asset whose label a category change moved counts by the label event before the move (not undone)
LABELED_SINCE_SQL = ("SELECT COUNT(*) FROM assets a JOIN labels l ON l.id = a.label_event "
                     "WHERE a.updated_at > ? AND a.skipped = 0 AND a.label IN ({labels}) AND CASE WHEN "
                     + _category_change("l") + " THEN EXISTS (SELECT 1 FROM labels p WHERE p.asset_id = a.id "
                     "AND p.id < l.id AND p.kind = 'label' AND p.history_only = 0 AND p.created_at > ? AND NOT "
                     + _category_change("p") + " AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = p.id)) "
                     "ELSE l.created_at > ? END")
ASSET_SQL = f"SELECT {_ASSET_COLS} FROM assets WHERE external_id = :ext"
ASSET_ROW_SQL = "SELECT id, status, skipped, skip_reason, label FROM assets WHERE external_id = :ext"
# the next assets of one status to label: an index range already in queue order (the queue merges two)
QUEUE_SQL = f"SELECT {_ASSET_COLS} FROM assets WHERE status = :status AND skipped = 0 ORDER BY priority DESC, id LIMIT :n"
# labeled assets through their partial index, in id order: an export or a refit never reads the rest
# (the unary + keeps SQLite from preferring the status index and sorting every labeled row)
LABELED_SQL = ("SELECT id, external_id, skipped, status, label, text, remote_id FROM assets "
               "WHERE label IS NOT NULL AND +status IN ({marks}) ORDER BY id")
POOL_SQL = ("SELECT id, external_id FROM assets WHERE status IN ('TODO', 'ONGOING') AND skipped = 0 "
            "AND label IS NULL ORDER BY id")
# a version's rows, ready to write: id (the remote id when there is one), externalId, skipped, status, label, content
EXPORT_SQL = ("SELECT COALESCE(NULLIF(remote_id, ''), CAST(id AS TEXT)), external_id, 'False', status, label, text "
              "FROM assets WHERE label IS NOT NULL AND +skipped = 0 AND +status IN ({statuses}) "
              "AND +label IN ({labels}) ORDER BY id")
TRAINING_SQL = ("SELECT external_id, text, label FROM assets WHERE label IS NOT NULL AND +skipped = 0 AND +status IN ("
                + ", ".join(f"'{s}'" for s in TRAINING_STATUSES) + ") ORDER BY id")
HISTORY_SQL = ("SELECT l.id, a.external_id, l.kind, l.category, l.spans, l.author, l.source, l.created_at, "
               "l.undoes, l.note, l.prev_status, l.history_only FROM labels l JOIN assets a ON a.id = l.asset_id")
# the spans, author and source of an asset's effective label (the event it points at)
LAST_LABEL_SQL = ("SELECT l.spans, l.author, l.source FROM assets a JOIN labels l ON l.id = a.label_event "
                  "WHERE a.id = :asset")
LATEST_SPANS_SQL = ("SELECT l.spans FROM assets a JOIN labels l ON l.id = a.label_event "
                    "WHERE a.external_id = :ext")
UNDO_SQL = ("SELECT l.id, l.asset_id, a.external_id, l.kind, l.category, l.spans, l.author, l.source, "
            "l.created_at, l.prev_status, l.prev_skipped, l.prev_skip_reason, l.note, l.history_only "
            "FROM labels l JOIN assets a ON a.id = l.asset_id WHERE {where} ORDER BY l.id DESC LIMIT 1")
#: The note of every label event of one bulk label starts so (``undo --bulk`` finds them by it).
BULK_NOTE = "bulk label"
#: The note of the labels of a file (``reviewtui label --from``) starts so: with bulk labels, they
#: are left out of the labeling speed (quality.stats), which would read them as instant labels.
FILE_NOTE = "from file"


def file_note(name: str) -> str:
    """The note of the labels one application of a labels file gives: :data:`FILE_NOTE`, the file's
    name and the time, so that ``undo --bulk`` takes back that application's labels together."""
    return f"{FILE_NOTE} {name} ({utc_now()})"


def file_note_name(note: str) -> str | None:
    """The file a :func:`file_note` names, or None for another note (one of an earlier reviewtui,
    which named the file without the time, the same for every application of it, included)."""
    if not note.startswith(FILE_NOTE) or not note.endswith(")") or " (" not in note:
        return None
    return note[len(FILE_NOTE):].strip().rsplit(" (", 1)[0]

UNDO_WHERE = ["l.kind != 'undo'", "l.id NOT IN (SELECT undoes FROM labels WHERE undoes IS NOT NULL)"]
# (NOT EXISTS looks each candidate up in the undoes index; NOT IN built the set of every undo once per
# call, which an undo of a bulk label of thousands of reviews paid thousands of times)
#: A change of the asset after event :event that still stands (not undone, not an undo, not a
#: history-only label, not a sentiment): undoing :event leaves the status it set as it is.
LATER_EVENT_SQL = ("SELECT 1 FROM labels l WHERE l.asset_id = :asset AND l.id > :event AND l.kind NOT IN "
                   "('undo', 'sentiment') AND l.history_only = 0 AND NOT EXISTS (SELECT 1 FROM labels u WHERE "
                   "u.undoes = l.id) LIMIT 1")
#: The status of an asset whose label is the parameter: one with no label left (all its labels
#: undone) is TODO again, not LABELED, REVIEWED or under review with nothing to review.
NO_LABEL_STATUS = "CASE WHEN ? IS NULL AND status IN ('LABELED', 'REVIEWED', 'TO_REVIEW') THEN 'TODO' ELSE status END"
EFFECTIVE_LABEL_SQL = ("SELECT l.id, l.category FROM labels l WHERE l.asset_id = :asset AND l.kind = 'label' "
                       "AND l.history_only = 0 AND "
                       "NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id) ORDER BY l.id DESC LIMIT 1")
HOT_QUERIES: dict[str, str] = {
    "status counts": COUNTS_SQL,
    "status: assets counted": HIGHEST_SQL,
    "status: last change": LAST_CHANGE_SQL,
    "status: last label event": LAST_EVENT_SQL,
    "asset by id": ASSET_SQL,
    "label: asset row": ASSET_ROW_SQL,
    "queue / next review": QUEUE_SQL,
    "labeled rows": LABELED_SQL.format(marks=":status, :status"),
    "export: version rows": EXPORT_SQL.format(statuses=":status, :status", labels=":ext, :ext"),
    "training labels": TRAINING_SQL,
    "label history of an asset": HISTORY_SQL + " WHERE a.external_id = :ext ORDER BY l.id",
    "label: effective label's spans": LAST_LABEL_SQL,
    "evidence spans": LATEST_SPANS_SQL,
    "undo": UNDO_SQL.format(where=" AND ".join([*UNDO_WHERE, "l.author = :author"])),
    "undo: effective label": EFFECTIVE_LABEL_SQL,
}


def _json_encoder() -> Callable[[Any], str]:
    """JSON text of a metadata mapping, as ``json.dumps(m, ensure_ascii=False)`` writes it, with
    one encoder built once (``json.dumps`` builds one per call: most of its cost on small dicts)."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator in this Python
        return lambda m: json.dumps(m, ensure_ascii=False)
    enc = make(None, None, encoder.encode_basestring, None, ": ", ", ", False, False, True)
    dumps = json.dumps

    def encode(m: Any) -> str:
        try:
            return "".join(enc(m, 0))
        except TypeError:  # what the C encoder cannot write (a tuple key...): json's own errors
            return dumps(m, ensure_ascii=False)

    return encode


metadata_json = _json_encoder()


def same_words(text: str) -> str:
    """``text``'s letters and digits, case-folded: what two cleanings of one review keep alike."""
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


def same_text(a: str, b: str) -> bool:
    """Whether two texts are one review's, cleaned alike or not: equal, or the same letters and
    digits (a text of neither, ":)" and ":(", only when equal)."""
    if str(a).strip() == str(b).strip():
        return True
    words = same_words(a)
    return bool(words) and words == same_words(b)


class AssetColumns(NamedTuple):
    """Assets to add as columns: external ids, texts and each one's metadata as JSON text (what an
    import of a million rows hands the store, without a million objects)."""

    external_ids: Sequence[str]
    texts: Sequence[str]
    metadata_json: Sequence[str]


def _asset_rows(records: "Iterable[NewAsset] | AssetColumns") -> tuple[Iterable[tuple], int]:
    """(rows for the assets INSERT: external id, text, metadata JSON; how many) of NewAssets or of an
    AssetColumns batch."""
    if isinstance(records, AssetColumns):
        ids, texts, meta = records
        if not len(ids) == len(texts) == len(meta):
            raise ValueError(f"{len(ids)} ids, {len(texts)} texts and {len(meta)} metadata rows")
        return zip(ids, texts, meta), len(ids)
    enc = metadata_json
    rows = [(r[0], r[1], enc(r[2]) if r[2] else "{}") for r in records]
    return rows, len(rows)


def _sql_text(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


#: A shortened id (from a table that cuts ids, to 8 characters and "…" in a narrow terminal) has at
#: least this many characters: a shorter start of an id is not taken for one unless it ends in "…",
#: lest a typo label another review.
SHORT_ID_CHARS = 6

#: An insert of at least this many assets, into a table holding fewer than it adds, builds the
#: assets' secondary indexes afresh instead of keeping them up to date row by row.
BULK_ROWS = 100_000
#: The page cache (KiB) of a bulk transaction under the rollback journal (see
#: :meth:`LocalStore._bulk_journal`): a smaller cache than :data:`CACHE_KIB` writes the new pages
#: to the file as the insert goes, while the system can still write them out in the background,
#: instead of most of them at the commit.
BULK_CACHE_KIB = 65_536


@contextmanager
def _bulk_indexes(db: sqlite3.Connection, adding: int, holding: int, table: str = "assets") -> Iterator[None]:
    """Inside a write transaction: for a large insert into a smaller table (``adding`` at least
    :data:`BULK_ROWS` and more than the ``holding`` rows already there), drop the secondary indexes
    of ``table`` for the block and create them again after it, in the same transaction (an error
    in the block undoes both with the rest). Measured on a million demo reviews: the insert took
    13.0 s keeping the seven indexes of ``assets`` up to date a row at a time, and 4.7 s without
    them plus 5.7 s to build them after it; a million predictions, 29-39 s with their two indexes
    and 15-16 s without them, the build included. The unique index on external ids stays (it has no
    ``sql``): it is what ignores known ids."""
    if adding < BULK_ROWS or adding <= holding:
        yield
        return
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                         "AND sql IS NOT NULL ORDER BY name", (table,)).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        db.execute(sql)


def damaged_store_error(path: Path | str, exc: BaseException) -> ReviewtuiError | None:
    """The error for a store whose file is damaged (SQLite's "malformed" or "not a database" on a
    page past the header), else None."""
    text = str(exc).lower()
    if not isinstance(exc, sqlite3.DatabaseError) or ("malformed" not in text and "file is not a database" not in text):
        return None
    return ReviewtuiError(f"{path}: the store is damaged ({exc}); nothing was changed. Keep a copy of it, then "
                          "rebuild it with `sqlite3 reviewtui.db .recover | sqlite3 recovered.db` and put recovered.db "
                          "in its place, or restore a backup; the exported versions in versions/ hold every label "
                          "they were made from")


#: How long a write waits for another process's write lock on the store before it gives up.
BUSY_TIMEOUT_S = 30.0


def _set_wal(db: sqlite3.Connection, timeout: float = BUSY_TIMEOUT_S) -> None:
    """Put the store in WAL mode (a no-op when it is). While another connection imports a large
    batch under the rollback journal (:meth:`LocalStore._bulk_journal`), SQLite refuses the switch
    at once ("database is locked") instead of waiting as for other locks: wait for that transaction
    to end as the busy timeout would, then switch."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise ReviewtuiError(f"the store is busy: another process has held a lock on it for more than "
                                     f"{timeout:.0f} s (a large import does); try again when that process is "
                                     "done") from exc
            time.sleep(0.05)


def _asset(row: Sequence[Any]) -> Asset:
    return Asset(row[0], row[1], row[2], json.loads(row[3]), row[4], bool(row[5]), row[6], row[7],
                 row[8], row[9], row[10], row[11])


def _close_connection(lock: threading.RLock, db: sqlite3.Connection) -> None:
    """Close a store's connection once the store is gone or the process exits (a finaliser: see
    LocalStore). Closing the last connection checkpoints the write-ahead log into the database file;
    without it the connection lives on in a reference cycle (its statement cache refers to it), and
    the log stays beside the file until the interpreter's teardown, which the CLI skips after a
    command that loaded torch. A daemon thread still inside a transaction at exit keeps it open."""
    if not lock.acquire(timeout=2):
        return
    try:
        db.close()
    except sqlite3.Error:  # nothing more can be done for it now
        pass
    finally:
        lock.release()


class LocalStore:
    """The SQLite store. Safe to share between threads (one connection, a lock) and processes."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ReviewtuiError(f"{self.path}: the workspace store is missing (moved or deleted?); put it back, or "
                                 "make a new workspace in another folder (`reviewtui init FOLDER`) and import the "
                                 "reviews again")
        if not create and self.path.is_file() and self.path.stat().st_size == 0:
            raise ReviewtuiError(f"{self.path}: not a reviewtui store (an empty file); put the workspace's store "
                                 "back from a copy, or make a new workspace in another folder (`reviewtui init "
                                 "FOLDER`)")
        self._lock = threading.RLock()
        self._depth = 0  # open transaction() blocks (nested ones are savepoints)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
            # a new store gets 16 KiB pages (a no-op on an existing one): a million-row import
            # writes a quarter of the pages, twice as fast as with the default 4 KiB
            self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            try:
                _set_wal(self._db)
            except ReviewtuiError:  # the store stays busy with another process's import: let it go
                self._db.close()
                raise
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            folder = self.path.parent
            if self.path.is_file() and not os.access(folder, os.W_OK):
                raise ReviewtuiError(f"{self.path}: cannot open the store: its folder {folder} is read-only, and "
                                     "SQLite writes its journal beside the store; make the folder writable (or copy "
                                     "the workspace somewhere writable)") from exc
            raise ReviewtuiError(f"{self.path}: not a reviewtui store ({exc}); put the workspace's store back from "
                                 "a copy, or make a new workspace in another folder (`reviewtui init FOLDER`)") from exc
        self._finalizer = weakref.finalize(self, _close_connection, self._lock, self._db)
        if create:
            with self._lock:
                self._db.executescript("BEGIN IMMEDIATE;" + SCHEMA + SEARCH_SCHEMA + SCALE_SCHEMA + "COMMIT;")
            with self.transaction() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._migrate()
        self._ensure_app_index()
        with self._lock:
            legacy = "text_hash" in {r[1] for r in self._db.execute("PRAGMA table_info(assets)")}
        # a store from before version 5 on an SQLite too old to drop a column keeps it, unused
        # the insert's rows are (external id, text, metadata); its time is written into the statement
        self._insert_sql = ("INSERT OR IGNORE INTO assets (external_id, text, metadata, created_at, updated_at"
                            + (", text_hash) VALUES (?, ?, ?, {at}, {at}, '')" if legacy
                               else ") VALUES (?, ?, ?, {at}, {at})"))

    def close(self) -> None:
        self._finalizer()

    def _migrate(self) -> None:
        """Bring a store written by an older reviewtui up to :data:`SCHEMA_VERSION`, each step in one
        transaction and each checked against the store itself (so a store migrated by another process
        while this one waited is left alone):

        * the full-text index over the texts, the metadata indexes and the predictions table
          (version 2), built over the existing assets;
        * ``labels.history_only`` (version 3), which marks the label rows that never were the asset's
          effective label (another author's label of a consensus pull). Older stores did not say so;
          the rows that cannot have been effective are marked: a label row, not undone, after the
          asset's effective label event (or on an asset without one);
        * what a million assets need (version 4): ``asset_counts`` taken from the assets, the
          triggers that keep it, and the labeled, updated-at, undo and author indexes;
        * no ``assets.text_hash`` (version 5): a sha1 of each text that nothing read. Dropped where
          SQLite can drop a column safely (3.35.5 and later: 3.35.0-3.35.4 could move a dropped
          column's values in a table with an INTEGER PRIMARY KEY); otherwise it stays, and inserts
          write ''.
          The full-text index's memory for new entries goes from 1 to 16 MiB (see SEARCH_SCHEMA)."""
        try:
            with self._lock:
                tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(labels)")}
        except sqlite3.DatabaseError as exc:
            raise ReviewtuiError(f"{self.path}: not a reviewtui store ({exc}); put the workspace's store back from "
                                 "a copy, or make a new workspace in another folder (`reviewtui init FOLDER`)") from exc
        if "labels" not in tables or "assets" not in tables:
            raise ReviewtuiError(f"{self.path}: not a reviewtui store (it has no table of reviews and labels); put the "
                                 "workspace's store back from a copy, or make a new workspace in another folder "
                                 "(`reviewtui init FOLDER`)")
        stored = self.get_meta("schema_version")
        if stored is not None and stored.isdigit() and int(stored) > SCHEMA_VERSION:
            raise ReviewtuiError(f"{self.path}: written by a newer reviewtui (store schema {stored}; this version reads "
                                 f"up to {SCHEMA_VERSION}); upgrade reviewtui to open it")
        if "assets_fts" not in tables:
            with self._lock:
                self._db.executescript("BEGIN IMMEDIATE;" + SEARCH_SCHEMA +
                                       "INSERT INTO assets_fts(assets_fts) VALUES ('rebuild');"
                                       "COMMIT;")
        if "history_only" not in columns:
            with self.transaction() as db:
                if "history_only" not in {r[1] for r in db.execute("PRAGMA table_info(labels)")}:
                    db.execute("ALTER TABLE labels ADD COLUMN history_only INTEGER NOT NULL DEFAULT 0")
                    db.execute("DROP TRIGGER IF EXISTS labels_append_only_update")
                    db.execute(
                        "UPDATE labels SET history_only = 1 WHERE kind = 'label' "
                        "AND id NOT IN (SELECT undoes FROM labels WHERE undoes IS NOT NULL) "
                        "AND id > COALESCE((SELECT label_event FROM assets WHERE assets.id = labels.asset_id), 0)")
                    db.execute("CREATE TRIGGER labels_append_only_update BEFORE UPDATE ON labels "
                               "BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END")
        if "asset_counts" not in tables:
            with self.transaction() as db:
                if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'asset_counts'").fetchone() is None:
                    for statement in _statements(SCALE_SCHEMA + ";" + COUNT_ALL):
                        db.execute(statement)
        if int(self.get_meta("schema_version") or 0) < 5:
            with self.transaction() as db:
                if "text_hash" in {r[1] for r in db.execute("PRAGMA table_info(assets)")} and \
                        sqlite3.sqlite_version_info >= DROP_COLUMN_SQLITE:
                    try:
                        db.execute("ALTER TABLE assets DROP COLUMN text_hash")
                    except sqlite3.OperationalError:  # a view of the user's own reads it: the column stays
                        pass
                db.execute(f"INSERT INTO assets_fts(assets_fts, rank) VALUES ('hashsize', {FTS_HASH_BYTES})")
        if self.get_meta("schema_version") != str(SCHEMA_VERSION):
            with self.transaction() as db:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, adding: int = 0) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE so concurrent writers queue.

        Transactions nest: inside another one (same thread; the lock is re-entrant) this is a
        SAVEPOINT, undone alone when its block raises, and nothing is committed before the
        outermost block ends. That is how a multi-step job (a Kili pull: new assets, remote ids,
        labels, statuses, skips, the cursor) lands all at once or not at all.

        ``adding``: how many assets the block is about to insert. An outermost transaction that adds
        at least :data:`BULK_ROWS` assets to a store holding fewer runs under a rollback journal
        instead of the write-ahead log, when no other connection has the store open (see
        :meth:`_bulk_journal`); otherwise, and for every other transaction, nothing changes."""
        with self._lock:
            depth = self._depth
            self._depth += 1
            bulk = False
            try:
                if not depth and adding >= BULK_ROWS:
                    bulk = self._bulk_journal(adding)
                if depth:
                    name = f"nested_{depth}"
                    self._db.execute(f"SAVEPOINT {name}")
                    try:
                        yield self._db
                    except BaseException:
                        self._db.execute(f"ROLLBACK TO {name}")
                        self._db.execute(f"RELEASE {name}")
                        raise
                    else:
                        self._db.execute(f"RELEASE {name}")
                    return
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    try:
                        yield self._db
                    except BaseException:
                        self._db.execute("ROLLBACK")
                        raise
                    else:
                        self._db.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    said = self._cannot_write(exc)
                    if said is None:
                        raise
                    raise said from exc
            finally:
                self._depth = depth
                if bulk:
                    self._wal_again()

    def _cannot_write(self, exc: sqlite3.DatabaseError) -> ReviewtuiError | None:
        """What to tell the user when SQLite cannot write the store (read-only, a full disk, another
        process's write lock held past the busy timeout, a damaged file), else None."""
        text = str(exc).lower()
        if "database is locked" in text or "database is busy" in text:
            return ReviewtuiError(f"{self.path}: the store is busy: another process has held its write lock for "
                                  f"{BUSY_TIMEOUT_S:g} s (an import, a labeling session or a job writing to it); "
                                  "nothing was changed; run the command again when that process is done")
        damaged = damaged_store_error(self.path, exc)
        if damaged is not None:
            return damaged
        if "readonly" in text or "read-only" in text:
            return ReviewtuiError(f"{self.path}: cannot write the store ({exc}): nothing was changed; make the store "
                                  "and its folder writable (chmod u+w), or work on a writable copy of the workspace")
        if "disk is full" in text or "disk i/o error" in text:
            return ReviewtuiError(f"{self.path}: cannot write the store ({exc}): nothing was changed; free disk "
                                  "space (or check the disk) and run the command again")
        return None

    def _bulk_journal(self, adding: int) -> bool:
        """Before a transaction that adds ``adding`` assets: when the store holds fewer and this is
        the only connection to it, switch it to SQLite's rollback journal (synchronous=FULL, as that
        journal needs to be safe from a power loss) and return True; else change nothing and return
        False. In the write-ahead log every page of a million-row import is written twice, to the
        log and then into the store; under a rollback journal the new pages of a store that was
        (nearly) empty are written once, and only the few pages that held something before are
        journaled. The transaction stays atomic: a failure or a crash rolls it back from the journal.
        Another process opening the store meanwhile waits for the transaction to end (see
        :meth:`_set_wal`). :meth:`_wal_again` goes back to the write-ahead log."""
        if adding <= self._last_id(self._db):
            return False
        try:
            mode = self._db.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:  # another connection has the store open: it stays in WAL
            return False
        if str(mode).lower() != "delete":
            return False
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        return True

    def _wal_again(self) -> None:
        """After a bulk transaction: back to the write-ahead log and this connection's settings. When
        another connection reads the store at this moment the switch waits for the next open of the
        store (every open asks for WAL), and this connection keeps synchronous=FULL until then."""
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        try:
            wal = str(self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() == "wal"
        except sqlite3.OperationalError:
            wal = False
        if wal:
            self._db.execute("PRAGMA synchronous=NORMAL")

    def _read(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                said = damaged_store_error(self.path, exc)
                if said is None:
                    raise
                raise said from exc

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))

    def update_meta(self, key: str, change: "Callable[[str | None], str]") -> str:
        """Set ``key`` to ``change(its value or None)`` in one write transaction: two processes
        updating the same key one after the other never lose each other's change. Returns the value."""
        with self.transaction() as db:
            rows = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchall()
            value = change(rows[0][0] if rows else None)
            db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))
        return value

    # -- assets -----------------------------------------------------------------------------
    def add_assets(self, records: "Iterable[NewAsset] | AssetColumns", *, source: str = "", sha256: str = "",
                   rows_read: int | None = None) -> tuple[int, int]:
        """Insert new assets (NewAssets or an AssetColumns batch), ignoring external ids already
        present. Returns (added, existing)."""
        at = utc_now()
        rows, n = _asset_rows(records)
        with self.transaction(adding=n) as db:
            last_id = self._last_id(db)
            with _bulk_indexes(db, n, last_id):
                added = self._insert_assets(db, rows, at)
            self._index_new(db, last_id)
            if source:
                db.execute("INSERT INTO imports (source, sha256, rows_read, added, existing, at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           (source, sha256, rows_read if rows_read is not None else n, added, n - added, at))
        return added, n - added

    def import_batches(self, batches: Sequence[tuple["Sequence[NewAsset] | AssetColumns", str, str, int]]
                       ) -> list[tuple[int, int]]:
        """Add several files' assets in ONE transaction: (records, source, sha256, rows_read) each,
        records being NewAssets or an AssetColumns batch (the fast way for big files). Returns
        (added, existing) per batch; ids already present (or earlier in the call) are kept."""
        at = utc_now()
        out = []
        prepared = [(_asset_rows(records), source, sha256, rows_read)
                    for records, source, sha256, rows_read in batches]
        with self.transaction(adding=sum(n for (_, n), *_ in prepared)) as db:
            last_id = self._last_id(db)
            with _bulk_indexes(db, sum(n for (_, n), *_ in prepared), last_id):
                for (rows, n), source, sha256, rows_read in prepared:
                    added = self._insert_assets(db, rows, at)
                    db.execute("INSERT INTO imports (source, sha256, rows_read, added, existing, at) "
                               "VALUES (?,?,?,?,?,?)", (source, sha256, rows_read, added, n - added, at))
                    out.append((added, n - added))
            self._index_new(db, last_id)
        return out

    def _of_ids(self, columns: str, external_ids: Iterable[str], source: str = "assets",
                params: Sequence[Any] = (), tail: str = "") -> list[tuple]:
        """Rows of ``columns`` (external_id first) of the assets whose ids are among ``external_ids``,
        read in chunks of 900 ids (under SQLite's limit on parameters); ``source`` is the assets
        table, or a join on it; ``tail`` more of the statement after the ids' condition (AND ...,
        GROUP BY ...), whose ``params`` follow the ids."""
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        rows: list[tuple] = []
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            rows += self._read(f"SELECT {columns} FROM {source} WHERE external_id IN ({','.join('?' * len(chunk))})"
                               + tail, [*chunk, *params])
        return rows

    def labels_of(self, external_ids: Iterable[str]) -> dict[str, str | None]:
        """{external id: its label now (None: none)} of those of ``external_ids`` the store has."""
        return dict(self._of_ids("external_id, label", external_ids))

    def opinions_since_last_change(self, external_ids: Iterable[str]) -> set[str]:
        """Those of ``external_ids`` whose latest event (not undone; undos and sentiments aside) is
        another author's label kept in the history only: an opinion that came after the review's
        last label, status or confirmation (a review REVIEWED before it is not settled by it)."""
        rows = self._of_ids(
            "external_id, (SELECT l.history_only FROM labels l WHERE l.asset_id = assets.id AND l.kind NOT IN "
            "('undo', 'sentiment') AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id) "
            "ORDER BY l.id DESC LIMIT 1)", external_ids)
        return {ext for ext, history_only in rows if history_only}

    def skipped_among(self, external_ids: Iterable[str]) -> set[str]:
        """Those of ``external_ids`` that are skipped."""
        return {ext for ext, skipped in self._of_ids("external_id, skipped", external_ids) if skipped}

    def statuses_of(self, external_ids: Iterable[str]) -> dict[str, str]:
        """{external id: its status now} of those of ``external_ids`` the store has."""
        return dict(self._of_ids("external_id, status", external_ids))

    def count_without_remote_id(self) -> int:
        """Assets not yet in the labeling backend's project (no remote id): a Kili push sends them."""
        return int(self._read("SELECT COUNT(*) FROM assets WHERE remote_id IS NULL")[0][0])

    def external_ids(self, *, without_remote_id: bool = False) -> list[str]:
        """The assets' external ids in store order (only those with no remote id when asked); ids
        only, no text."""
        where = " WHERE remote_id IS NULL" if without_remote_id else ""
        return [r[0] for r in self._read(f"SELECT external_id FROM assets{where} ORDER BY id")]

    def label_events_of(self, external_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """{external id: (source, time) of its effective label's event} of the labeled assets among
        ``external_ids``."""
        rows = self._of_ids("external_id, (SELECT source FROM labels WHERE id = label_event), "
                            "(SELECT created_at FROM labels WHERE id = label_event)", external_ids)
        return {ext: (src, at) for ext, src, at in rows if src is not None}

    def confirmations_of(self, external_ids: Iterable[str], *, not_source: str = "") -> dict[str, str]:
        """{external id: time of its latest confirmation (a label checked and kept) that is not
        undone} of those of ``external_ids`` that have one (not of source ``not_source``)."""
        rows = self._of_ids("a.external_id, MAX(l.created_at)", external_ids,
                            "labels l JOIN assets a ON a.id = l.asset_id", [not_source],
                            " AND l.kind = 'confirm' AND l.source != ? AND NOT EXISTS (SELECT 1 FROM labels u "
                            "WHERE u.undoes = l.id) GROUP BY a.external_id")
        return {ext: at for ext, at in rows if at}

    def label_makers(self, external_ids: Iterable[str]) -> dict[str, tuple[str, str, str, str | None]]:
        """{external id: (category, author, time, note) of the event that gave it its label now} of
        the labeled assets among ``external_ids``: one read of every labeled asset when they are
        many (a diff's hundreds of thousands of added rows), else a read of those ids alone."""
        ids = set(map(str, external_ids))
        columns, source = "a.external_id, l.category, l.author, l.created_at, l.note", \
            "assets a JOIN labels l ON l.id = a.label_event"
        rows = (self._read(f"SELECT {columns} FROM {source}") if len(ids) > 20_000
                else self._of_ids(columns, ids, source))
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows if r[0] in ids}

    def states_of(self, external_ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """{external id: (label event, status, skipped, skip reason)} of those of ``external_ids``
        the store has: what a write that changes an asset's label, status or skip changes."""
        return {r[0]: tuple(r[1:]) for r in self._of_ids("external_id, label_event, status, skipped, skip_reason",
                                                         external_ids)}

    def stored_texts(self, external_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """{external id: (text, metadata JSON)} of those of ``external_ids`` the store has."""
        return {ext: (text, meta) for ext, text, meta in self._of_ids("external_id, text, metadata", external_ids)}

    def texts_of(self, external_ids: Iterable[str], *, app: str | None = None) -> dict[str, str]:
        """{external id: text} of those of ``external_ids`` the store has that are not skipped (and
        are reviews of ``app``, when given), in the order of ``external_ids``."""
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        rows = {ext: (text, skipped, of_app) for ext, text, skipped, of_app in self._of_ids(
            "external_id, text, skipped, json_extract(metadata, '$.app')", ids)}
        return {ext: rows[ext][0] for ext in ids
                if ext in rows and not rows[ext][1] and (app is None or rows[ext][2] == app)}

    def sample_texts(self, size: int, seed: int = 0, *, app: str | None = None,
                     exclude: Iterable[str] = ()) -> list[str]:
        """The texts of ``size`` assets drawn with ``seed`` among those not skipped (of ``app``,
        when given) and not in ``exclude``, in store order; all of them when fewer. Reads the ids,
        then only the drawn texts: a sample of a million reviews without reading a million texts."""
        import numpy as np

        where, params = ["skipped = 0"], []
        if app is not None:
            where.append("json_extract(metadata, '$.app') = ?")
            params.append(app)
        left_out = set(map(str, exclude))
        refs = [(i, ext) for i, ext in self._read(f"SELECT id, external_id FROM assets WHERE {' AND '.join(where)} "
                                                  "ORDER BY id", params) if ext not in left_out]
        if size < len(refs):
            picks = np.random.default_rng(seed).choice(len(refs), size=size, replace=False)
            refs = [refs[int(i)] for i in sorted(picks)]
        return [a.text for a in self.assets_by_ids([i for i, _ in refs])]

    def ids_of_texts(self, texts: Iterable[str]) -> dict[str, str]:
        """{text: the external id of a stored review with exactly that text} for those of ``texts``
        the store has (one id per text): one pass over the store against a temporary table of the
        texts, as the texts have no index."""
        wanted = list(dict.fromkeys(str(t) for t in texts))
        if not wanted:
            return {}
        with self._lock:
            db = self._db
            try:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_texts (text TEXT PRIMARY KEY)")
                db.execute("DELETE FROM temp.wanted_texts")
                db.executemany("INSERT OR IGNORE INTO temp.wanted_texts VALUES (?)", ((t,) for t in wanted))
                rows = db.execute("SELECT a.text, min(a.external_id) FROM assets a "
                                  "JOIN temp.wanted_texts w ON w.text = a.text GROUP BY a.text").fetchall()
                db.execute("DELETE FROM temp.wanted_texts")
            except sqlite3.DatabaseError as exc:
                said = damaged_store_error(self.path, exc)
                if said is None:
                    raise
                raise said from exc
        return {text: ext for text, ext in rows}

    def stored_with_other_text(self, external_ids: Sequence[str], texts: Sequence[str]) -> dict[str, str]:
        """{external id: the text stored under it} for the ids of ``external_ids`` already stored
        with another text than the one at the same place of ``texts`` (a review edited since its
        first import, or a file whose ids name other reviews). Texts are compared by their letters
        and digits in any case: a change of the import's cleaning (lower case, emoji) is no other text."""
        given = dict(zip(external_ids, texts))
        return {ext: text for ext, (text, _meta) in self.stored_texts(given).items() if not same_text(text, given[ext])}

    def has_own_ids(self) -> bool:
        """Whether some stored id was not made from a review's text (one starts with another letter
        than "t"), through the unique index on the ids."""
        return bool(self._read("SELECT 1 FROM assets WHERE external_id < 't' LIMIT 1")
                    or self._read("SELECT 1 FROM assets WHERE external_id >= 'u' LIMIT 1"))

    def has_text_ids(self) -> bool:
        """Whether some stored id may have been made from a review's text (one starts with "t"),
        through the unique index on the ids."""
        return bool(self._read("SELECT 1 FROM assets WHERE external_id >= 't' AND external_id < 'u' LIMIT 1"))

    def text_id_siblings(self, bases: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
        """{base: [(external id, text, metadata JSON)]} of the stored reviews whose ids are ``base``
        (an id made from a text alone) or start with it and ``-`` (ids made from the text and more),
        through the unique index on the ids. {} at once when no id of the store starts with "t"."""
        if not self.has_text_ids():
            return {}
        out: dict[str, list[tuple[str, str, str]]] = {}
        with self._lock:
            for base in dict.fromkeys(bases):
                rows = self._db.execute("SELECT external_id, text, metadata FROM assets WHERE external_id >= ? "
                                        "AND external_id < ? ORDER BY external_id", (base, base + ".")).fetchall()
                if rows:
                    out[base] = [tuple(r) for r in rows]
        return out

    def fill_metadata(self, records: AssetColumns, overwrite: Sequence[str] = ()) -> int:
        """Assets already in the store get the metadata keys they lack from ``records``: a
        re-import that reads a column the first import did not (the app, the dates) fills it in.
        Values already stored are kept, except those of the ``overwrite`` keys (a column the user
        named again, dates read again day first: a correction), and texts are not touched, so a
        rerun changes nothing. Returns how many assets changed."""
        at = utc_now()
        keys = list(overwrite)

        def forced(meta: str) -> str:
            if not keys:
                return "{}"
            values = json.loads(meta)
            return json.dumps({k: values[k] for k in keys if k in values}, ensure_ascii=False)

        rows = ((meta, at, ext, forced(meta)) for ext, meta in zip(records.external_ids, records.metadata_json)
                if meta and meta != "{}")
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "UPDATE assets SET metadata = json_patch(json_patch(?1, metadata), ?4), updated_at = ?2 "
                "WHERE external_id = ?3 AND ("
                "EXISTS (SELECT 1 FROM json_each(?1) AS j WHERE json_type(assets.metadata, '$.\"' || j.key || '\"') "
                "IS NULL) OR EXISTS (SELECT 1 FROM json_each(?4) AS f "
                "WHERE json_extract(assets.metadata, '$.\"' || f.key || '\"') IS NOT f.value))", rows)
            return db.total_changes - before

    def _insert_assets(self, db: sqlite3.Connection, rows: Iterable[tuple], at: str) -> int:
        """Insert asset rows, (external id, text, metadata JSON) each, created and updated ``at``
        (ids already present are ignored) and count the new ones, which are all TODO, not skipped
        and unlabeled, in ``asset_counts``. Returns how many were new. The time is a literal of the
        statement, not a parameter of every row: binding it twice per row took a quarter of a
        million-row insert (5.1 s against 3.5-3.8 s)."""
        before = db.total_changes
        db.executemany(self._insert_sql.format(at=_sql_text(at)), rows)
        added = db.total_changes - before
        if added:
            db.execute("INSERT INTO asset_counts VALUES ('TODO', 0, '', ?) "
                       "ON CONFLICT (status, skipped, label) DO UPDATE SET n = n + excluded.n", (added,))
        return added

    @staticmethod
    def _last_id(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM assets").fetchone()[0])

    @staticmethod
    def _index_new(db: sqlite3.Connection, last_id: int) -> None:
        """Add the assets inserted after ``last_id`` to the full-text index, in one statement (new
        rows get ids above the largest one)."""
        db.execute("INSERT INTO assets_fts(rowid, text) SELECT id, text FROM assets WHERE id > ?", (last_id,))

    def label_keys(self) -> set[str]:
        """Every effective label some asset carries, skipped ones included (from the running counts)."""
        return {label for _status, _skipped, label, n in self._counts() if label and n}

    def _counts(self) -> list[tuple[str, int, str, int]]:
        """(status, skipped, label or "", n) from ``asset_counts``. Recounted from the assets when
        the total disagrees with the highest asset id (assets are never deleted, so they match
        unless something inserted assets without counting them, such as an older reviewtui)."""
        with self._lock:
            rows = self._db.execute(COUNTS_SQL).fetchall()
            highest = self._db.execute(HIGHEST_SQL).fetchone()[0] or 0
            if sum(r[3] for r in rows) == highest:
                return rows
        with self.transaction() as db:
            for statement in _statements(COUNT_ALL):
                db.execute(statement)
            return db.execute(COUNTS_SQL).fetchall()

    def count(self, status: str | None = None) -> int:
        return sum(n for st, _sk, _lab, n in self._counts() if status is None or st == status)

    def count_to_label(self) -> int:
        """How many assets the labeling queue can still offer (to do or ongoing, not skipped), from
        the kept counts."""
        return sum(n for st, sk, _lab, n in self._counts() if st in ("TODO", "ONGOING") and not sk)

    def get(self, external_id: str) -> Asset:
        rows = self._read(ASSET_SQL, {"ext": str(external_id)})
        if not rows:
            raise ReviewtuiError(f"no asset with id {external_id!r} in this workspace")
        return _asset(rows[0])

    def resolve_id(self, given: str) -> str:
        """The external id ``given`` names: itself; the one id with its start and end when ``given``
        is cut in the middle ("5c0c0aa…9f-eu"); or the one id that starts with it when ``given``
        is a table's shortened id: it ends in "…" (or "..."), or it has at least
        :data:`SHORT_ID_CHARS` characters (the "…" left out when copying). Read from the unique
        index (a range on ``external_id``, which its unique index answers; LIKE would not use it).
        Raises ReviewtuiError when no id starts with it, or more than one (saying how many)."""
        given = str(given).strip()
        if self._read(ASSET_SQL, {"ext": given}):
            return given
        head, mark, tail = given.partition("…")
        if mark and head and tail:  # cut in the middle ("5c0c0aa…9f-eu"): the start and the end are kept
            return self._resolve_ends(given, head, tail)
        start = given[:-1] if given.endswith("…") else given[:-3] if given.endswith("...") else given
        prefix = (start, start + "\U0010ffff")
        if start and (start != given or len(start) >= SHORT_ID_CHARS):
            found = [r[0] for r in self._read(
                "SELECT external_id FROM assets WHERE external_id >= ? AND external_id < ? ORDER BY external_id "
                "LIMIT 3", prefix)]
            if len(found) == 1:
                return found[0]
            if found:
                n = self._read("SELECT count(*) FROM assets WHERE external_id >= ? AND external_id < ?", prefix)[0][0]
                shown = ", ".join(found[:2]) + (", ..." if len(found) > 2 else "")
                raise ReviewtuiError(f"{n:,} reviews have an id that starts with {start!r} ({shown}): "
                                     "give more of it")
        elif start and self._read("SELECT 1 FROM assets WHERE external_id >= ? AND external_id < ? LIMIT 1", prefix):
            raise ReviewtuiError(f"no asset with id {given!r} in this workspace; to name one by the start of its id "
                                 f"give at least {SHORT_ID_CHARS} characters, or end it with …")
        raise ReviewtuiError(f"no asset with id {given!r} in this workspace")

    def _resolve_ends(self, given: str, head: str, tail: str) -> str:
        """The one external id that starts with ``head`` and ends with ``tail`` (``given`` is how a
        table showed it). Raises ReviewtuiError when none does, or several (saying how many)."""
        found = [r[0] for r in self._read(
            "SELECT external_id FROM assets WHERE external_id >= ? AND external_id < ? AND "
            "substr(external_id, -?) = ? ORDER BY external_id LIMIT 3", (head, head + "\U0010ffff", len(tail), tail))]
        if len(found) == 1:
            return found[0]
        if not found:
            raise ReviewtuiError(f"no asset with an id that starts with {head!r} and ends with {tail!r} in this "
                                 "workspace")
        shown = ", ".join(found[:2]) + (", ..." if len(found) > 2 else "")
        raise ReviewtuiError(f"several reviews have an id that starts with {head!r} and ends with {tail!r} "
                             f"({shown}): give the whole id (--json shows it)")

    def find(self, external_id: str) -> Asset | None:
        rows = self._read(ASSET_SQL, {"ext": str(external_id)})
        return _asset(rows[0]) if rows else None

    def existing_ids(self, external_ids: Iterable[str]) -> set[str]:
        """The subset of ``external_ids`` that are in the store."""
        return {r[0] for r in self._of_ids("external_id", external_ids)}

    def labels_past_import(self, external_ids: Iterable[str]) -> dict[str, str | None]:
        """Those of ``external_ids`` whose label a file's import no longer owns, with their current
        label: the label came from another source (a person, a labels file, a model, Kili), a person
        confirmed it since (a confirm event newer than the label's, not undone), or the review was
        skipped or its status moved on from LABELED (sent to review, reviewed)."""
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        found: dict[str, str | None] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            found.update((r[0], r[1]) for r in self._read(
                "SELECT a.external_id, a.label FROM assets a LEFT JOIN labels l ON l.id = a.label_event "
                f"WHERE a.external_id IN ({','.join('?' * len(chunk))}) AND (a.skipped = 1 "
                "OR (a.label IS NOT NULL AND (a.status != 'LABELED' OR l.source IS NOT 'import' "
                "OR EXISTS (SELECT 1 FROM labels c WHERE c.asset_id = a.id AND c.kind = 'confirm' "
                "AND c.id > a.label_event AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = c.id)))))",
                chunk))
        return found

    def label_sources(self) -> dict[str, str]:
        """external id -> the source of its effective label's event, for every labeled asset."""
        return dict(self._read("SELECT a.external_id, l.source FROM assets a JOIN labels l ON l.id = a.label_event "
                               "WHERE a.label IS NOT NULL"))

    def iter_assets(self, *, statuses: Sequence[str] | None = None, labeled: bool | None = None,
                    skipped: bool | None = None, order: str = "id", limit: int | None = None) -> Iterator[Asset]:
        """All assets matching the filters (the first ``limit`` of them when given), in ``order``
        ("id" or "queue")."""
        where, params = [], []
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params += list(statuses)
        if labeled is not None:
            where.append("label IS NOT NULL" if labeled else "label IS NULL")
        if skipped is not None:
            where.append("skipped = ?")
            params.append(int(skipped))
        sql = f"SELECT {_ASSET_COLS} FROM assets"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY priority DESC, id" if order == "queue" else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        for row in self._read(sql, params):
            yield _asset(row)

    def training_assets(self, training_keys: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """(external ids, texts, labels) of the assets a model can learn from now: not skipped, with a
        label among ``training_keys`` and a status that carries it (LABELED, REVIEWED or TO_REVIEW)."""
        keys = set(training_keys)
        ids, texts, labels = [], [], []
        for ext, text, label in self._read(TRAINING_SQL):
            if label in keys:
                ids.append(ext)
                texts.append(text)
                labels.append(label)
        return ids, texts, labels

    def texts(self) -> list[tuple[str, str]]:
        """(external_id, text) of every asset, in insertion order."""
        return [(r[0], r[1]) for r in self._read("SELECT external_id, text FROM assets ORDER BY id")]

    def unlabeled_refs(self) -> list[tuple[int, str]]:
        """(id, external id) of every asset still to label (TODO or ONGOING, not skipped, no label), in
        store order: the pool active learning picks from, without reading a million texts."""
        return self._read(POOL_SQL)

    def refs_of(self, external_ids: Iterable[str]) -> list[tuple[int, str]]:
        """(id, external id) of those of ``external_ids`` the store has, in store order, whatever their
        status (a filtered queue of labeled reviews or reviews sent to review)."""
        return sorted((int(i), ext) for ext, i in self._of_ids("external_id, id", external_ids))

    def assets_by_ids(self, ids: Sequence[int]) -> list[Asset]:
        """The assets with these store ids, in that order (ids not in the store left out)."""
        found: dict[int, Asset] = {}
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            rows = self._read(f"SELECT {_ASSET_COLS} FROM assets WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update((r[0], _asset(r)) for r in rows)
        return [found[i] for i in ids if i in found]
    # -- search and filters -----------------------------------------------------------------
    @staticmethod
    def query_sql(q: AssetQuery) -> tuple[str, list[Any]]:
        """The SELECT (of external ids, in queue order: priority first, then id) and its parameters
        for ``q``. Each condition is written on the indexed expression it filters by."""
        where: list[str] = []
        params: list[Any] = []
        # The queue's own conditions (skipped, unlabeled; the status too when a narrower filter is
        # there) match most assets: a unary + keeps SQLite from choosing their index over the
        # selective one (the full-text match, a metadata index), which it did without statistics.
        narrow = bool(q.match or q.labels or q.stars or q.apps or q.versions or q.date_from or q.date_to
                      or q.needs_predictions)
        if q.match:
            where.append("a.id IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?)")
            params.append(q.match)
        if q.needs_predictions:
            cond, lo_hi = [], list(q.confidence) if q.confidence is not None else []
            if q.predicted:
                cond.append(f"p.category IN ({','.join('?' * len(q.predicted))})")
            if q.confidence is not None:
                cond.append("p.confidence BETWEEN ? AND ?")
            where.append(f"a.id IN (SELECT p.asset_id FROM predictions p WHERE {' AND '.join(cond)})")
            params += list(q.predicted) + [float(v) for v in lo_hi]
        if q.statuses:
            # the queue's statuses (TODO among them) hold most assets in a workspace being labeled
            wide = narrow or "TODO" in q.statuses
            where.append(f"{'+' if wide else ''}a.status IN ({','.join('?' * len(q.statuses))})")
            params += list(q.statuses)
        if q.skipped is not None:
            where.append("+a.skipped = ?")
            params.append(int(q.skipped))
        if q.labeled is not None:
            where.append("+a.label IS NOT NULL" if q.labeled else "+a.label IS NULL")
        if q.labels:
            where.append(f"a.label IN ({','.join('?' * len(q.labels))})")
            params += list(q.labels)
        if q.stars:
            where.append(f"{META_EXPR['score']} IN ({','.join('?' * len(q.stars))})")
            params += [int(v) for v in q.stars]
        if q.apps:
            where.append(f"{META_EXPR['app']} IN ({','.join('?' * len(q.apps))})")
            params += list(q.apps)
        if q.versions:
            parts = []
            for v in q.versions:  # the version itself, or a sub-version: "4.5." <= x < "4.5/" ('/' follows '.')
                parts.append(f"({META_EXPR['app_version']} = ? OR ({META_EXPR['app_version']} >= ? AND "
                             f"{META_EXPR['app_version']} < ?))")
                params += [v, v + ".", v + "/"]
            where.append("(" + " OR ".join(parts) + ")")
        if q.date_from:
            where.append(f"{META_EXPR['at']} >= ?")
            params.append(q.date_from)
        if q.date_to:  # inclusive: everything on that day sorts below the day's string plus a high char
            where.append(f"{META_EXPR['at']} < ?")
            params.append(q.date_to + "\uffff")
        sql = "SELECT a.external_id FROM assets a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + " ORDER BY a.priority DESC, a.id", params

    def find_ids(self, q: AssetQuery, *, limit: int | None = None) -> list[str]:
        """External ids of the assets ``q`` matches, in queue order (priority first, then id).
        Raises ReviewtuiError when ``q.match`` is not a valid FTS5 query."""
        sql, params = self.query_sql(q)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        try:
            return [r[0] for r in self._read(sql, params)]
        except sqlite3.OperationalError as exc:
            if q.match and self._bad_match(q.match):
                raise ReviewtuiError(f"the search {q.match!r} is not a valid query ({exc})") from exc
            raise

    def _bad_match(self, match: str) -> bool:
        try:
            self._read("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH ?", (match,))
            return False
        except sqlite3.OperationalError:
            return True

    def count_ids(self, q: AssetQuery) -> int:
        """How many assets ``q`` matches (no ordering work)."""
        sql, params = self.query_sql(q)
        sql = sql.replace("SELECT a.external_id FROM", "SELECT COUNT(*) FROM").rsplit(" ORDER BY", 1)[0]
        try:
            return int(self._read(sql, params)[0][0])
        except sqlite3.OperationalError as exc:
            if q.match and self._bad_match(q.match):
                raise ReviewtuiError(f"the search {q.match!r} is not a valid query ({exc})") from exc
            raise

    def count_ids_by_app(self, q: AssetQuery) -> dict[str, int]:
        """{app: how many assets ``q`` matches} ("" for none), the most first."""
        sql, params = self.query_sql(q)
        sql = sql.replace("SELECT a.external_id FROM", f"SELECT {META_EXPR['app']}, COUNT(*) FROM").rsplit(
            " ORDER BY", 1)[0] + " GROUP BY 1 ORDER BY 2 DESC, 1"
        return {str(app or ""): int(n) for app, n in self._read(sql, params)}

    def explain(self, q: AssetQuery) -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN for :meth:`find_ids` with ``q``: one line per step (for
        tests and benchmarks that check every filter uses an index)."""
        sql, params = self.query_sql(q)
        return [str(r[3]) for r in self._read("EXPLAIN QUERY PLAN " + sql, params)]

    def set_predictions(self, predictions: Mapping[str, tuple[str, float]], *, model: str = "",
                        replace: bool = True) -> int:
        """Replace the stored predictions (external id -> (category, confidence)) in one
        transaction, or with ``replace`` False those of these ids only (the others kept); ids not
        in the store are ignored. ``predictions`` may also be anything with ``len`` and an
        ``items()`` giving those pairs (``analysis.predict.Predictions``). ``model`` names what
        made them (kept in meta as ``predictions_model``, with the time). Returns how many are
        stored. Replacing many drops the table's indexes and builds them again after the insert."""
        rows = ((str(cat), float(conf), str(ext)) for ext, (cat, conf) in predictions.items())
        with self.transaction() as db, _bulk_indexes(db, len(predictions) if replace else 0, 0, "predictions"):
            if replace:
                db.execute("DELETE FROM predictions")
            db.executemany("INSERT OR REPLACE INTO predictions (asset_id, category, confidence) "
                           "SELECT id, ?, ? FROM assets WHERE external_id = ?", rows)
            n = int(db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])
            db.execute("INSERT INTO meta VALUES ('predictions_model', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (f"{model}@{utc_now()}",))
        return n

    def predictions_model(self) -> str:
        """What made the stored predictions (``set_predictions``' model; "" for none)."""
        return (self.get_meta("predictions_model") or "").rsplit("@", 1)[0]

    def rename_predictions(self, moves: Mapping[str, str]) -> int:
        """Give the stored predictions of each category of ``moves`` (old key -> new key) the new
        key, as a category rename or merge does to the labels. Returns how many moved."""
        with self.transaction() as db:
            return sum(db.execute("UPDATE predictions SET category = ? WHERE category = ?",
                                  (str(new), str(old))).rowcount for old, new in moves.items())

    def predictions(self, external_ids: Sequence[str] | None = None) -> dict[str, tuple[str, float]]:
        """The stored predictions, external id -> (category, confidence) (of ``external_ids`` only
        when given)."""
        rows = self._read("SELECT a.external_id, p.category, p.confidence FROM predictions p "
                          "JOIN assets a ON a.id = p.asset_id")
        want = None if external_ids is None else set(map(str, external_ids))
        return {r[0]: (r[1], float(r[2])) for r in rows if want is None or r[0] in want}

    def prediction_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM predictions")[0][0])

    def queue(self, limit: int = 50, *, exclude: Sequence[str] = ()) -> list[Asset]:
        """The next assets to label: TODO/ONGOING, not skipped, highest priority first."""
        n = limit + len(exclude)
        rows = self._read(QUEUE_SQL, {"status": "TODO", "n": n}) + self._read(QUEUE_SQL, {"status": "ONGOING", "n": n})
        rows.sort(key=lambda r: (-r[7], r[0]))  # priority first, then id
        ex = set(exclude)
        return [a for a in map(_asset, rows[:n]) if a.external_id not in ex][:limit]

    def set_remote_ids(self, mapping: Mapping[str, str]) -> int:
        with self.transaction() as db:
            before = db.total_changes
            db.executemany("UPDATE assets SET remote_id = ? WHERE external_id = ?",
                           [(v, k) for k, v in mapping.items()])
            return db.total_changes - before

    def clear_remote_ids(self) -> int:
        """Forget every asset's id in the labeling backend's project (another project's ids)."""
        with self.transaction() as db:
            return db.execute("UPDATE assets SET remote_id = NULL WHERE remote_id IS NOT NULL").rowcount

    def set_priorities(self, priorities: Mapping[str, int], *, reset: bool = False) -> int:
        """Set queue priorities (higher comes first). ``reset`` zeroes every other asset first."""
        with self.transaction() as db:
            if reset:
                db.execute("UPDATE assets SET priority = 0 WHERE priority != 0")
            before = db.total_changes
            db.executemany("UPDATE assets SET priority = ? WHERE external_id = ?",
                           [(int(v), str(k)) for k, v in priorities.items()])
            return db.total_changes - before

    # -- labels and statuses ----------------------------------------------------------------
    def _asset_row(self, db: sqlite3.Connection, external_id: str) -> tuple:
        row = db.execute(ASSET_ROW_SQL, {"ext": str(external_id)}).fetchone()
        if row is None:
            raise ReviewtuiError(f"no asset with id {external_id!r} in this workspace")
        return row

    def _append(self, db: sqlite3.Connection, asset_id: int, kind: str, *, category: str | None = None,
                spans: Any = None, author: str, source: str, at: str, undoes: int | None = None,
                prev: tuple | None = None, note: str | None = None, history_only: bool = False) -> int:
        if source not in SOURCES:
            raise ValueError(f"unknown label source {source!r}")
        cur = db.execute(
            "INSERT INTO labels (asset_id, kind, category, spans, author, source, created_at, undoes, "
            "prev_status, prev_skipped, prev_skip_reason, note, history_only) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (asset_id, kind, category, json.dumps(spans) if spans is not None else None, author, source, at,
             undoes, *(prev or (None, None, None)), note, int(history_only)))
        return int(cur.lastrowid)

    def add_label(self, external_id: str, category: str, *, spans: list[dict[str, Any]] | None = None,
                  author: str = "local", source: str = "human", status: str | None = None,
                  at: str | None = None) -> LabelEvent:
        """Record a label (the new effective label) and set the asset's status: ``status``, or by
        default LABELED, REVIEWED for a review that was under review (:func:`label_status`).
        Returns the event."""
        if status is not None:
            self._check_status(status)
        at = at or utc_now()
        with self.transaction() as db:
            asset_id, old_status, old_skipped, old_reason, _ = self._asset_row(db, external_id)
            status = status or label_status(old_status)
            event = self._append(db, asset_id, "label", category=category, spans=spans, author=author,
                                 source=source, at=at, prev=(old_status, old_skipped, old_reason))
            db.execute("UPDATE assets SET label = ?, label_event = ?, status = ?, skipped = 0, skip_reason = NULL, "
                       "updated_at = ? WHERE id = ?", (category, event, status, at, asset_id))
        return LabelEvent(event, str(external_id), "label", category, spans, author, source, at)

    def add_labels(self, rows: Sequence[LabelRow]) -> tuple[int, int]:
        """Record many labels in one transaction; a row identical to the asset's current state
        (same label, spans, status and skip flag, by the same author; for a row of source import,
        by any author whose label also came from an import) is not appended again, so reruns are
        idempotent.
        Returns (recorded, unchanged). Raises ReviewtuiError (nothing written) on an unknown id."""
        for r in rows:
            if r.status is not None:
                self._check_status(r.status)
        recorded = unchanged = 0
        with self.transaction() as db:
            for r in rows:
                asset_id, old_status, old_skipped, old_reason, old_label = self._asset_row(db, r.external_id)
                if r.status is None:
                    r = replace(r, status=label_status(old_status))
                if not r.current:
                    if self._author_label(db, asset_id, r.author) == (r.category, r.spans):
                        unchanged += 1
                        continue
                    self._append(db, asset_id, "label", category=r.category, spans=r.spans, author=r.author,
                                 source=r.source, at=r.at or utc_now(), prev=(old_status, old_skipped, old_reason),
                                 history_only=True)
                    recorded += 1
                    continue
                if old_label == r.category and old_status == r.status and bool(old_skipped) == r.skipped:
                    last = db.execute(LAST_LABEL_SQL, {"asset": asset_id}).fetchone()
                    if last is None or ((json.loads(last[0]) if last[0] else None) == r.spans and (
                            last[1] == r.author or (r.source == "import" and last[2] == "import"))):
                        unchanged += 1
                        continue
                at = r.at or utc_now()
                event = self._append(db, asset_id, "label", category=r.category, spans=r.spans, author=r.author,
                                     source=r.source, at=at, prev=(old_status, old_skipped, old_reason), note=r.note)
                db.execute("UPDATE assets SET label = ?, label_event = ?, status = ?, skipped = ?, updated_at = ? "
                           "WHERE id = ?", (r.category, event, r.status, int(r.skipped), at, asset_id))
                recorded += 1
        return recorded, unchanged

    @staticmethod
    def _author_label(db: sqlite3.Connection, asset_id: int, author: str) -> tuple[str, Any] | None:
        """(category, spans) of ``author``'s latest label on the asset that is not undone, or None."""
        row = db.execute(
            "SELECT l.category, l.spans FROM labels l WHERE l.asset_id = ? AND l.author = ? AND l.kind = 'label' "
            "AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id) ORDER BY l.id DESC LIMIT 1",
            (asset_id, author)).fetchone()
        return (row[0], json.loads(row[1]) if row[1] else None) if row else None

    def confirm_label(self, external_id: str, category: str, *, author: str = "local",
                      source: str = "human") -> LabelEvent:
        """Record that ``author`` checked the asset's label ``category`` and kept it (a "confirm"
        history row; label and skip flag stay as they are, and so does the status, but for a review
        under review, which becomes REVIEWED: its review is done; undo takes it back). Raises
        ReviewtuiError when ``category`` is not the asset's current label."""
        at = utc_now()
        with self.transaction() as db:
            asset_id, old_status, old_skipped, old_reason, label = self._asset_row(db, external_id)
            if label != category:
                raise ReviewtuiError(f"asset {external_id!r} is labeled {label or 'nothing'}, not {category}: "
                                     "only its current label can be confirmed")
            event = self._append(db, asset_id, "confirm", category=category, author=author, source=source, at=at,
                                 prev=(old_status, old_skipped, old_reason))
            db.execute("UPDATE assets SET status = ?, updated_at = ? WHERE id = ?",
                       ("REVIEWED" if old_status == "TO_REVIEW" else old_status, at, asset_id))
        return LabelEvent(event, str(external_id), "confirm", category, None, author, source, at,
                          prev_status=old_status)

    def confirmed_labels(self) -> dict[str, str]:
        """external id -> the label confirmed last on it (confirmations taken back by undo left out).
        A confirmation holds while the asset keeps the label it was given on: relabeled since, even
        back to the same category, the review is judged again (its confirmation is older than its
        label)."""
        rows = self._read(
            "SELECT a.external_id, l.category FROM labels l JOIN assets a ON a.id = l.asset_id "
            "WHERE l.kind = 'confirm' AND l.id > COALESCE(a.label_event, 0) "
            "AND l.id NOT IN (SELECT undoes FROM labels WHERE undoes IS NOT NULL) "
            "ORDER BY l.id")
        return {ext: cat for ext, cat in rows}

    # -- sentiment --------------------------------------------------------------------------
    @staticmethod
    def _check_sentiment(sentiment: str) -> str:
        value = str(sentiment or "").strip().lower()
        if value not in SENTIMENT_VALUES:
            raise ReviewtuiError(f"unknown sentiment {sentiment!r}: use one of {', '.join(SENTIMENT_VALUES)}")
        return value

    _EFFECTIVE_SENTIMENT = (
        "SELECT a.external_id, l.category, l.author, l.source, l.created_at FROM labels l "
        "JOIN assets a ON a.id = l.asset_id WHERE l.kind = 'sentiment' AND l.id = (SELECT MAX(s.id) FROM labels s WHERE "
        "s.asset_id = l.asset_id AND s.kind = 'sentiment' AND s.id NOT IN "
        "(SELECT undoes FROM labels WHERE undoes IS NOT NULL))")

    def add_sentiment(self, external_id: str, sentiment: str, *, author: str = "local", source: str = "human",
                      at: str | None = None) -> LabelEvent:
        """Record the sentiment (negative/neutral/positive) of an asset as its own label event; the
        category label and the status stay as they are. Returns the event. Raises ReviewtuiError
        for an unknown asset or sentiment."""
        value = self._check_sentiment(sentiment)
        at = at or utc_now()
        with self.transaction() as db:
            asset_id, old_status, old_skipped, old_reason, _ = self._asset_row(db, external_id)
            event = self._append(db, asset_id, "sentiment", category=value, author=author, source=source, at=at,
                                 prev=(old_status, old_skipped, old_reason))
            db.execute("UPDATE assets SET updated_at = ? WHERE id = ?", (at, asset_id))
        return LabelEvent(event, str(external_id), "sentiment", value, None, author, source, at,
                          prev_status=old_status)

    def add_sentiments(self, rows: Sequence[SentimentRow]) -> tuple[int, int]:
        """Record many sentiment labels in one transaction; a row equal to the asset's current
        sentiment is not appended again (reruns are idempotent). Returns (recorded, unchanged).
        Raises ReviewtuiError (nothing written) on an unknown id or sentiment."""
        values = [self._check_sentiment(r.sentiment) for r in rows]
        current = self.sentiments()
        recorded = unchanged = 0
        with self.transaction() as db:
            for r, value in zip(rows, values):
                asset_id, old_status, old_skipped, old_reason, _ = self._asset_row(db, r.external_id)
                now = current.get(str(r.external_id))
                if now is not None and now.sentiment == value:
                    unchanged += 1
                    continue
                at = r.at or utc_now()
                self._append(db, asset_id, "sentiment", category=value, author=r.author, source=r.source, at=at,
                             prev=(old_status, old_skipped, old_reason), note=r.note)
                db.execute("UPDATE assets SET updated_at = ? WHERE id = ?", (at, asset_id))
                current[str(r.external_id)] = SentimentLabel(str(r.external_id), value, r.author, r.source, at)
                recorded += 1
        return recorded, unchanged

    def sentiments(self, external_ids: Iterable[str] | None = None) -> dict[str, SentimentLabel]:
        """external_id -> the effective sentiment label, for assets that have one (all, or those in
        ``external_ids``)."""
        out = {r[0]: SentimentLabel(r[0], r[1], r[2], r[3], r[4]) for r in self._read(self._EFFECTIVE_SENTIMENT)}
        if external_ids is None:
            return out
        wanted = {str(e) for e in external_ids}
        return {k: v for k, v in out.items() if k in wanted}

    def counts_by_score(self) -> dict[Any, int]:
        """Assets per star score (metadata ``score`` as stored; None for those without one), read
        through the index on the score rather than by reading every asset."""
        return dict(self._read("SELECT json_extract(metadata, '$.score'), COUNT(*) FROM assets GROUP BY 1"))

    def counts_by_sentiment(self) -> dict[str, int]:
        """Effective sentiment labels of non-skipped assets, per value (all three keys present)."""
        counts = {v: 0 for v in SENTIMENT_VALUES}
        # the skip flag is read through the join with the few assets that carry a sentiment label,
        # never by a scan of every asset (status at a million reviews)
        rows = self._read(f"SELECT category, COUNT(*) FROM ({self._EFFECTIVE_SENTIMENT} AND a.skipped = 0) "
                          "GROUP BY category")
        for value, n in rows:
            counts[value] += n
        return counts

    def skip(self, external_id: str, reason: str, *, author: str = "local", source: str = "human") -> LabelEvent:
        """Mark an asset skipped with a reason (kept in the history; undo brings it back)."""
        if not reason or not reason.strip():
            raise ReviewtuiError("a skip needs a reason (for example: not English, spam, unclear)")
        at = utc_now()
        with self.transaction() as db:
            asset_id, old_status, old_skipped, old_reason, _ = self._asset_row(db, external_id)
            event = self._append(db, asset_id, "skip", author=author, source=source, at=at,
                                 prev=(old_status, old_skipped, old_reason), note=reason.strip())
            db.execute("UPDATE assets SET skipped = 1, skip_reason = ?, updated_at = ? WHERE id = ?",
                       (reason.strip(), at, asset_id))
        return LabelEvent(event, str(external_id), "skip", None, None, author, source, at, note=reason.strip())

    def unskip(self, external_ids: Iterable[str], *, author: str = "local", source: str = "human",
               only_source: str | None = None) -> int:
        """Take the skip off the skipped assets among ``external_ids`` (a status event noting it;
        undo brings the skip back); with ``only_source``, only those whose latest change that stands
        came from that source (a review skipped in Kili and un-skipped there, not one skipped here).
        Returns how many changed."""
        at = utc_now()
        changed = 0
        with self.transaction() as db:
            for ext in dict.fromkeys(str(e) for e in external_ids):
                asset_id, status, skipped, reason, _ = self._asset_row(db, ext)
                if not skipped:
                    continue
                if only_source is not None:
                    # the latest change that stands (a skip, or a label pulled with its skip flag)
                    by = db.execute("SELECT l.source FROM labels l WHERE l.asset_id = ? AND l.kind IN ('skip', "
                                    "'label', 'status') AND l.history_only = 0 AND NOT EXISTS (SELECT 1 FROM labels u "
                                    "WHERE u.undoes = l.id) ORDER BY l.id DESC LIMIT 1", (asset_id,)).fetchone()
                    if by is None or by[0] != only_source:
                        continue
                self._append(db, asset_id, "status", author=author, source=source, at=at,
                             prev=(status, skipped, reason), note="unskipped")
                db.execute("UPDATE assets SET skipped = 0, skip_reason = NULL, updated_at = ? WHERE id = ?",
                           (at, asset_id))
                changed += 1
        return changed

    def set_status(self, external_ids: Iterable[str], status: str, *, author: str = "local",
                   source: str = "human", at: str | None = None) -> int:
        """Move assets to ``status`` (recorded in the history, at ``at``: default now). Returns how
        many changed."""
        self._check_status(status)
        at = at or utc_now()
        changed = 0
        with self.transaction() as db:
            for ext in dict.fromkeys(str(e) for e in external_ids):
                asset_id, old_status, old_skipped, old_reason, _ = self._asset_row(db, ext)
                if old_status == status:
                    continue
                self._append(db, asset_id, "status", author=author, source=source, at=at,
                             prev=(old_status, old_skipped, old_reason), note=status)
                db.execute("UPDATE assets SET status = ?, updated_at = ? WHERE id = ?", (status, at, asset_id))
                changed += 1
        return changed

    def undo_bulk(self, *, author: str | None = None) -> list[LabelEvent]:
        """Undo the latest bulk label or labels file (of ``author`` when given) as a whole: each of
        its label events not undone yet, latest first, in one transaction. [] when the latest event
        that :meth:`undo_last` would undo is part of neither (its note starts with
        :data:`BULK_NOTE`, or :data:`FILE_NOTE` and names the time of the file's application)."""
        with self.transaction() as db:
            where, params = list(UNDO_WHERE), []
            if author is not None:
                where.append("l.author = ?")
                params.append(author)
            row = db.execute(UNDO_SQL.format(where=" AND ".join(where)), params).fetchone()
            note = (row[12] or "") if row is not None else ""
            if not (note.startswith(BULK_NOTE) or file_note_name(note) is not None):
                return []
            # every event of the set in one query, latest first, then each undone by its row
            rows = db.execute(UNDO_SQL.format(where=" AND ".join(where + ["l.note = ?"])).replace(" LIMIT 1", ""),
                              params + [row[12]]).fetchall()
            at = utc_now()
            # each undo carries the set's note: the labeling speed leaves it out as it does the set
            return [self._undo_row(db, r, author, at, note=row[12]) for r in rows]

    def undo_last(self, *, author: str | None = None, external_id: str | None = None,
                  note: str | None = None, skip_sources: Sequence[str] = (),
                  refuse: Callable[[LabelEvent], str | None] | None = None) -> LabelEvent | None:
        """Undo the latest label/skip/status/confirm event (of ``author``, on ``external_id``, with
        ``note``, when given; not of a source in ``skip_sources``) that is not itself undone;
        restores the previous label, status and skip flag. When ``refuse`` gives a reason for that
        event, nothing is undone: ReviewtuiError with the reason. The
        effective label is recomputed from the asset's own effective history: another author's
        history-only label never becomes it, and undoing such a label leaves the asset as it is.
        Returns the undone event, or None when there is nothing to undo."""
        at = utc_now()
        with self.transaction() as db:
            where = list(UNDO_WHERE)
            params: list[Any] = []
            if author is not None:
                where.append("l.author = ?")
                params.append(author)
            if external_id is not None:
                where.append("a.external_id = ?")
                params.append(str(external_id))
            if note is not None:
                where.append("l.note = ?")
                params.append(note)
            if skip_sources:
                where.append(f"l.source NOT IN ({', '.join('?' for _ in skip_sources)})")
                params.extend(skip_sources)
            row = db.execute(UNDO_SQL.format(where=" AND ".join(where)), params).fetchone()
            if row is None:
                return None
            if refuse is not None:
                why = refuse(LabelEvent(row[0], row[2], row[3], row[4], None, row[6], row[7], row[8], note=row[12]))
                if why:
                    raise ReviewtuiError(why)
            return self._undo_row(db, row, author, at)

    def _undo_row(self, db: sqlite3.Connection, row: tuple, author: str | None, at: str,
                  note: str | None = None) -> LabelEvent:
        """Undo the event of ``row`` (a row of :data:`UNDO_SQL`): an undo event (with ``note``), and
        the asset's label, status and skip flag as they were before it."""
        ev_id, asset_id, ext, kind = row[0], row[1], row[2], row[3]
        self._append(db, asset_id, "undo", author=author or row[6], source=row[7], at=at, undoes=ev_id, note=note)
        if row[13]:  # a history-only label never changed the asset: nothing to restore
            return LabelEvent(ev_id, ext, kind, row[4], json.loads(row[5]) if row[5] else None, row[6], row[7],
                              row[8], note=row[12], history_only=True)
        # the effective label is the latest effective label event that is not undone
        event, label = db.execute(EFFECTIVE_LABEL_SQL, {"asset": asset_id}).fetchone() or (None, None)
        if db.execute(LATER_EVENT_SQL, {"asset": asset_id, "event": ev_id}).fetchone():
            # a later change of the review stands (another author's label, skip or review): the
            # status and skip it left stay; only the label is read again, which stays the later one
            db.execute(f"UPDATE assets SET label = ?, label_event = ?, status = {NO_LABEL_STATUS}, updated_at = ? "
                       "WHERE id = ?", (label, event, label, at, asset_id))
        else:
            db.execute(f"UPDATE assets SET status = ?, skipped = ?, skip_reason = ?, label = ?, label_event = ?, "
                       "updated_at = ? WHERE id = ?",
                       (row[9] or "TODO", int(row[10] or 0), row[11], label, event, at, asset_id))
            if label is None:
                db.execute(f"UPDATE assets SET status = {NO_LABEL_STATUS} WHERE id = ?", (None, asset_id))
        return LabelEvent(ev_id, ext, kind, row[4], json.loads(row[5]) if row[5] else None, row[6], row[7],
                          row[8], note=row[12], label_after=label)

    def label_history(self, external_id: str | None = None) -> list[LabelEvent]:
        sql = HISTORY_SQL
        params: tuple = ()
        if external_id is not None:
            sql += " WHERE a.external_id = ?"
            params = (str(external_id),)
        return [LabelEvent(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None, r[5], r[6], r[7], r[8], r[9],
                           r[10], bool(r[11]))
                for r in self._read(sql + " ORDER BY l.id", params)]

    def latest_spans(self, external_id: str) -> list[dict[str, Any]] | None:
        rows = self._read(LATEST_SPANS_SQL, {"ext": str(external_id)})
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    # -- counts -----------------------------------------------------------------------------
    def counts_by_status(self) -> dict[str, int]:
        """Assets by status, a skipped one under SKIPPED only (the counts add up to the assets)."""
        counts = {s: 0 for s in STATUSES}
        counts["SKIPPED"] = 0
        for status, skipped, _label, n in self._counts():
            key = "SKIPPED" if skipped else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def label_counts(self, statuses: Sequence[str]) -> dict[str, int]:
        """Effective labels of non-skipped assets whose status is in ``statuses``, from the running
        counts (no read of the assets)."""
        wanted = set(statuses)
        out: dict[str, int] = {}
        for status, skipped, label, n in self._counts():
            if label and not skipped and status in wanted:
                out[label] = out.get(label, 0) + n
        return out

    def counts_by_label(self) -> dict[str, int]:
        """Effective labels of non-skipped assets, most common first."""
        by_label = self.label_counts(STATUSES)
        # most common first; ties in the order the GROUP BY query this replaces gave them
        return dict(sorted(by_label.items(), key=lambda kv: (kv[1], kv[0]), reverse=True))

    def labeled_rows(self, statuses: Sequence[str] = ("LABELED", "REVIEWED")) -> list[tuple]:
        """(id, external_id, skipped, status, label, text, remote_id) of labeled assets in order."""
        marks = ",".join("?" * len(statuses))
        return self._read(LABELED_SQL.format(marks=marks), list(statuses))

    def export_rows(self, statuses: Sequence[str], labels: Sequence[str]) -> list[tuple[str, str, str, str, str, str]]:
        """(id, externalId, "False", status, label, content) of the non-skipped assets with one of
        ``statuses`` and one of ``labels``, in store order: a dataset version's rows, as written."""
        if not statuses or not labels:
            return []
        sql = EXPORT_SQL.format(statuses=",".join("?" * len(statuses)), labels=",".join("?" * len(labels)))
        return self._read(sql, [*statuses, *labels])

    def last_change(self) -> str | None:
        return self._read(LAST_CHANGE_SQL)[0][0]

    def last_event(self) -> int:
        """The id of the latest event of the label history (a label, skip, status change, undo...;
        0 before any): what a dataset version holds changes only with it, while imports and
        metadata filled in by a re-import change assets without an event."""
        return int(self._read(LAST_EVENT_SQL)[0][0] or 0)

    def labeled_since(self, at: str, labels: Sequence[str]) -> int:
        """How many assets, not skipped, carry one of ``labels`` given after ``at`` (a timestamp in
        the format of :func:`reviewtui.files.utc_now`). Counted over the assets changed since
        ``at`` (the ``updated_at`` index), not over the whole label history."""
        if not labels:
            return 0
        return self._read(LABELED_SINCE_SQL.format(labels=",".join("?" * len(labels))), [at, *labels, at, at])[0][0]

    def imports(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT source, sha256, rows_read, added, existing, at FROM imports ORDER BY id")
        return [dict(zip(("source", "sha256", "rows_read", "added", "existing", "at"), r)) for r in rows]

    # -- apps -------------------------------------------------------------------------------
    def _ensure_app_index(self) -> None:
        """Add :data:`APP_INDEX` to a store made before it, and drop the app-only index such stores
        had (``assets_app`` starts with the app, so it serves those queries too, and one index
        fewer to keep is faster imports). Once; a read-only store goes without."""
        try:
            names = {r[0] for r in self._read(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('assets_app', 'assets_meta_app')")}
            if names != {"assets_app"}:
                with self.transaction() as db:
                    db.execute(APP_INDEX)
                    db.execute("DROP INDEX IF EXISTS assets_meta_app")
        except sqlite3.OperationalError:
            pass

    def counts_by_app(self, *, skipped: bool = True) -> dict[str | None, int]:
        """Assets per app (``metadata["app"]``; None for assets without one), most first; with
        ``skipped=False``, the skipped ones left out."""
        where = "" if skipped else "WHERE skipped = 0 "
        rows = self._read("SELECT json_extract(metadata, '$.app'), COUNT(*) FROM assets "
                          f"{where}GROUP BY json_extract(metadata, '$.app')")
        return dict(sorted(rows, key=lambda r: (-r[1], str(r[0]))))

    def versions_of(self, *, app: str | None = None, skipped: bool = False) -> list[tuple[str, str | None]]:
        """(external id, app version or None) of every asset (of ``app``, when given; with
        ``skipped=False`` the skipped ones left out), in store order: the versions without the texts
        or the rest of the metadata."""
        where, params = [], []
        if not skipped:
            where.append("skipped = 0")
        if app is not None:
            where.append("json_extract(metadata, '$.app') = ?")
            params.append(app)
        sql = "SELECT external_id, json_extract(metadata, '$.app_version') FROM assets"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [(ext, None if v is None else str(v)) for ext, v in self._read(sql + " ORDER BY id", params)]

    def counts_by_app_version(self) -> dict[tuple[str | None, str | None], int]:
        """Assets per (app, app version); None where the metadata has none. In index order."""
        rows = self._read("SELECT json_extract(metadata, '$.app'), json_extract(metadata, '$.app_version'), "
                          "COUNT(*) FROM assets GROUP BY json_extract(metadata, '$.app'), "
                          "json_extract(metadata, '$.app_version')")
        return {(app, None if version is None else str(version)): n for app, version, n in rows}

    def app_counts_of(self, external_ids: Iterable[str]) -> dict[str | None, int]:
        """Those of ``external_ids`` the store has, counted by their app (None: no app), most first."""
        ids = set(map(str, external_ids))
        columns = "external_id, json_extract(metadata, '$.app')"
        rows = self._read(f"SELECT {columns} FROM assets") if len(ids) > 20_000 else self._of_ids(columns, ids)
        counts: dict[str | None, int] = {}
        for ext, app in rows:  # one read of every asset when they are many (a million-row file again)
            if ext in ids:
                counts[app] = counts.get(app, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))

    def existing_ids_of_app(self, external_ids: Iterable[str], app: str) -> set[str]:
        """The subset of ``external_ids`` in the store as reviews of ``app`` or of no app."""
        ids = list(dict.fromkeys(str(i) for i in external_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            found.update(r[0] for r in self._read(
                f"SELECT external_id FROM assets WHERE external_id IN ({','.join('?' * len(chunk))}) AND "
                "(json_extract(metadata, '$.app') = ? OR json_extract(metadata, '$.app') IS NULL)", [*chunk, app]))
        return found

    def query_plans(self) -> dict[str, list[str]]:
        """What SQLite does for each query the app and ``status`` run (``EXPLAIN QUERY PLAN``
        details, one line per step), by name: how tests and benchmarks check that none scans the
        assets table."""
        example = {"status": "TODO", "ext": "x", "n": 50, "author": "a", "asset": 1}
        plans = {}
        for name, sql in HOT_QUERIES.items():
            with self._lock:
                rows = self._db.execute("EXPLAIN QUERY PLAN " + sql, example).fetchall()
            plans[name] = [str(r[-1]) for r in rows]
        return plans

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in STATUSES:
            raise ReviewtuiError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
