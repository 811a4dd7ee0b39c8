"""A million reviews in one workspace: the store's hot queries never scan the assets table, the
counts that `status` reads stay exact through every kind of write, an older store is migrated,
and the fast import paths (pyarrow CSV reading, column-wise metadata JSON, the streaming demo
generator) give exactly what the slower ones gave."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import numpy as np
import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.store import SCHEMA_VERSION, LabelRow, LocalStore, NewAsset
from tests.conftest import schema_before_5

# a step that reads every row of a table; the one scan allowed is the labeled assets' own partial index
FULL_SCAN = re.compile(r"^SCAN (assets|labels|a|l)\b(?! USING INDEX assets_labeled)")


def full_scans(plans: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: [step for step in steps if FULL_SCAN.match(step)] for name, steps in plans.items()
            if any(FULL_SCAN.match(step) for step in steps)}


def direct_counts(store: LocalStore) -> tuple[dict, dict]:
    db = sqlite3.connect(store.path)
    by_status = dict(db.execute("SELECT status, COUNT(*) FROM assets WHERE skipped = 0 GROUP BY status").fetchall())
    by_status["SKIPPED"] = db.execute("SELECT COUNT(*) FROM assets WHERE skipped = 1").fetchone()[0]
    by_label = dict(db.execute("SELECT label, COUNT(*) FROM assets WHERE label IS NOT NULL AND skipped = 0 "
                               "GROUP BY label").fetchall())
    db.close()
    return by_status, by_label


def busy_store(path) -> LocalStore:
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset(f"a{i}", f"review {i}", {"score": i % 5 + 1}) for i in range(60)])
    store.add_labels([LabelRow(f"a{i}", "CONTENT" if i % 3 else "INTERFACE", "bulk", "import") for i in range(20)])
    store.add_label("a30", "PRICING", author="me")
    store.skip("a31", "spam", author="me")
    store.skip("a5", "not English", author="me")
    store.set_status(["a1", "a2", "a40"], "TO_REVIEW", author="me")
    store.set_status(["a41"], "ONGOING", author="me")
    store.set_priorities({"a50": 5, "a41": 9, "a45": 5})
    store.undo_last(author="me")  # the ONGOING move
    store.undo_last(author="me")  # the TO_REVIEW moves (one event each: the latest)
    store.add_label("a3", "PRICING", author="me", status="REVIEWED")
    return store


def test_no_hot_query_scans_the_assets_or_labels_table(tmp_path):
    store = busy_store(tmp_path / "s.db")
    plans = store.query_plans()
    assert {"status counts", "queue / next review", "export: version rows", "labeled rows",
            "label history of an asset", "undo", "status: last change"} <= set(plans)
    assert full_scans(plans) == {}
    # the check does see a scan when there is one
    bad = [str(r[-1]) for r in sqlite3.connect(store.path).execute(
        "EXPLAIN QUERY PLAN SELECT id FROM assets WHERE text = 'x'").fetchall()]
    assert full_scans({"by text": bad}) == {"by text": bad}


def test_counts_follow_every_kind_of_write(tmp_path):
    store = busy_store(tmp_path / "s.db")
    by_status, by_label = direct_counts(store)
    counts = store.counts_by_status()
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in by_status.items() if v}
    assert store.counts_by_label() == by_label
    assert list(store.counts_by_label()) == sorted(by_label, key=lambda k: (by_label[k], k), reverse=True)
    labeled = sqlite3.connect(store.path).execute("SELECT COUNT(*) FROM assets WHERE status = 'LABELED'").fetchone()[0]
    assert store.count() == 60 and store.count("LABELED") == labeled  # skipped or not
    # ids already present are neither inserted nor counted again
    assert store.add_assets([NewAsset("a1", "again"), NewAsset("new", "new one")]) == (1, 1)
    assert store.count() == 61 and store.counts_by_status()["TODO"] == direct_counts(store)[0]["TODO"]


def test_counts_repair_themselves_when_assets_were_added_without_them(tmp_path):
    store = busy_store(tmp_path / "s.db")
    db = sqlite3.connect(store.path)  # what an older reviewtui's import does: no count kept
    db.execute("INSERT INTO assets (external_id, text, metadata, created_at, updated_at) "
               "VALUES ('old', 'from an older version', '{}', 'x', 'x')")
    db.commit()
    db.close()
    assert store.count() == 61 and store.counts_by_status() == {**direct_counts(store)[0], "ONGOING": 0}


def test_the_queue_is_highest_priority_first_across_todo_and_ongoing(tmp_path):
    store = busy_store(tmp_path / "s.db")
    store.set_status(["a45"], "ONGOING")
    db = sqlite3.connect(store.path)
    expected = [r[0] for r in db.execute(
        "SELECT external_id FROM assets WHERE status IN ('TODO', 'ONGOING') AND skipped = 0 "
        "ORDER BY priority DESC, id").fetchall()]
    assert [a.external_id for a in store.queue(12)] == expected[:12]
    assert [a.external_id for a in store.queue(5, exclude=expected[:3])] == expected[3:8]
    assert expected[:4] == ["a41", "a45", "a50", "a20"]  # priority 9, then 5 (ONGOING a45, TODO a50: by id), then 0


def test_a_schema_1_store_is_migrated_when_it_opens(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(schema_before_5() + "CREATE INDEX assets_status ON assets(status);")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    for i in range(10):
        db.execute("INSERT INTO assets (external_id, text, text_hash, metadata, status, skipped, label, created_at, "
                   "updated_at) VALUES (?, ?, '', '{}', ?, ?, ?, ?, ?)",
                   (f"x{i}", f"t{i}", "LABELED" if i < 4 else "TODO", int(i == 2), "CONTENT" if i < 4 else None,
                    f"2026-01-0{i % 9 + 1}", f"2026-01-0{i % 9 + 1}"))
    db.commit()
    db.close()
    store = LocalStore(path)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert store.counts_by_status()["LABELED"] == 3 and store.counts_by_status()["SKIPPED"] == 1  # x2 skipped
    assert store.counts_by_label() == {"CONTENT": 3}
    assert store.last_change() == "2026-01-09"
    assert full_scans(store.query_plans()) == {}
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "assets_status" not in names and {"assets_labeled", "assets_updated", "labels_author"} <= names
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(assets)")]
    assert "text_hash" not in columns and "text" in columns  # version 5
    hashsize = "SELECT v FROM assets_fts_config WHERE k = 'hashsize'"
    assert sqlite3.connect(path).execute(hashsize).fetchall() == [(16 * 1024 * 1024,)]
    fresh = LocalStore(tmp_path / "fresh.db", create=True)
    assert fresh._read(hashsize) == [(16 * 1024 * 1024,)] and "text_hash" not in {
        r[1] for r in fresh._read("PRAGMA table_info(assets)")}
    assert [a.text for a in store.iter_assets()] == [f"t{i}" for i in range(10)]
    store.add_label("x7", "PRICING")
    assert store.counts_by_label() == {"CONTENT": 3, "PRICING": 1}
    assert store.add_assets([NewAsset("new", "a new review")]) == (1, 0)
    store.close()
    assert LocalStore(path).counts_by_label() == {"CONTENT": 3, "PRICING": 1}  # opening again changes nothing


def test_an_sqlite_that_cannot_drop_a_column_keeps_text_hash_and_still_imports(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(schema_before_5())
        db.execute("INSERT INTO meta VALUES ('schema_version', '4')")
        db.execute("INSERT INTO assets (external_id, text, text_hash, created_at, updated_at) "
                   "VALUES ('o1', 'old', 'h', 'x', 'x')")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 35, 4))  # DROP COLUMN is safe from 3.35.5
    store = LocalStore(path)
    assert store.add_assets([NewAsset("n1", "new one")]) == (1, 0)
    assert store.import_batches([([NewAsset("n2", "another")], "f.csv", "s", 1)]) == [(1, 0)]
    rows = sqlite3.connect(path).execute("SELECT external_id, text_hash FROM assets ORDER BY id").fetchall()
    assert rows == [("o1", "h"), ("n1", ""), ("n2", "")]
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)


# --- import fast paths ------------------------------------------------------------------------------
def test_big_csv_files_read_by_pyarrow_equal_what_pandas_reads(tmp_path):
    import pandas as pd

    from reviewtui.demo import generate_demo
    from reviewtui.readers import read_table

    files = generate_demo(tmp_path / "demo", size=4000, seed=3)  # over a megabyte: the pyarrow path
    assert files.export_csv.stat().st_size > 1_000_000
    text = files.export_csv.read_text(encoding="utf-8")
    table = read_table(files.export_csv)
    expected = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[], engine="c")
    assert table.frame.equals(expected) and table.header == list(expected.columns)
    # a row with a missing field is left to pandas, which fills it as it always did
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(text + "only-an-id,\n", encoding="utf-8")
    frame = read_table(ragged).frame
    assert len(frame) == 4001 and frame.iloc[-1]["reviewId"] == "only-an-id"


TRICKY = ['plain', 'a "quoted" word', "back\\slash", "line\nbreak", "tab\there", "bell\x07!", "ünïcødé ✓ 😀",
          "", "cr\rlf", "\x1f unit sep", "form\ffeed", "back\bspace"]


def test_metadata_json_is_what_json_dumps_writes(tmp_path):
    from reviewtui.ingest import clean_table
    from reviewtui.readers import table_from_records

    records = [{"reviewId": f"r{i}", "content": f"review {i}", "score": s, "replyContent": t,
                "thumbsUpCount": th, "reviewCreatedVersion": "4.5.1" if i % 2 else ""}
               for i, (t, s, th) in enumerate(zip(TRICKY, ["5", "4.0", "x", "", "1", "2", "3", "5", "nan", "1e1",
                                                          "inf", "3"], ["0", "", "7", "12", "0", "1", "2", "3",
                                                                        "4", "5", "6", "7"]))]
    batch = clean_table(table_from_records(records, "tricky"), app="Inkwell")
    expected = []
    for r in records:
        m = {}
        for key, col in (("score", "score"), ("app_version", "reviewCreatedVersion"), ("thumbs_up", "thumbsUpCount"),
                         ("reply", "replyContent")):
            v = r[col]
            if v == "":
                continue
            if key in ("score", "thumbs_up"):
                try:
                    v = int(float(v))
                except (ValueError, OverflowError):
                    pass
            m[key] = v
        m["app"] = "Inkwell"
        expected.append(m)
    assert list(batch.metadata) == expected
    assert batch.metadata.json == [json.dumps(m, ensure_ascii=False) for m in expected]
    assert batch.assets().metadata_json == batch.metadata.json


def test_the_store_keeps_column_batches_like_new_assets(tmp_path):
    from reviewtui.store import AssetColumns

    a = LocalStore(tmp_path / "a.db", create=True)
    b = LocalStore(tmp_path / "b.db", create=True)
    metas = [{"score": 5, "reply": t} for t in TRICKY]
    a.add_assets([NewAsset(f"r{i}", t, m) for i, (t, m) in enumerate(zip(TRICKY, metas))], source="x")
    b.add_assets(AssetColumns([f"r{i}" for i in range(len(TRICKY))], TRICKY,
                              [json.dumps(m, ensure_ascii=False) for m in metas]), source="x")
    assert [(x.external_id, x.text, x.metadata) for x in a.iter_assets()] == \
           [(x.external_id, x.text, x.metadata) for x in b.iter_assets()]
    with pytest.raises(ValueError):
        b.add_assets(AssetColumns(["only one id"], TRICKY[:2], ["{}", "{}"]))


def index_sql(store: LocalStore) -> list[tuple[str, str]]:
    return store._read("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'assets' ORDER BY name")


def test_a_large_insert_builds_the_indexes_afresh_and_leaves_them_as_they_were(tmp_path, monkeypatch):
    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 20)
    small = LocalStore(tmp_path / "small.db", create=True)  # below the threshold: indexes kept row by row
    bulk = LocalStore(tmp_path / "bulk.db", create=True)
    before = index_sql(bulk)
    rows = [NewAsset(f"a{i}", f"review {i} about the app", {"score": i % 5 + 1, "app": "A", "app_version": "1.0",
                                                            "at": f"2026-01-{i % 28 + 1:02d}"}) for i in range(60)]
    dropped = []
    bulk._db = _Spy(bulk._db, dropped)
    bulk.import_batches([(rows[:30], "one", "x", 30), (rows[30:], "two", "y", 30)])
    small.add_assets(rows[:10])
    small.add_assets(rows[10:])
    assert dropped, "the bulk path did not drop the indexes"
    assert index_sql(bulk) == before == index_sql(small)
    assert full_scans(bulk.query_plans()) == {}
    for sql in ("SELECT json_extract(metadata, '$.score'), COUNT(*) FROM assets INDEXED BY assets_meta_score "
                "GROUP BY 1", "SELECT status, COUNT(*) FROM assets INDEXED BY assets_queue GROUP BY 1",
                "SELECT json_extract(metadata, '$.app'), COUNT(*) FROM assets INDEXED BY assets_app GROUP BY 1"):
        assert bulk._read(sql) == small._read(sql)
    assert bulk._read("PRAGMA integrity_check") == [("ok",)]
    fts = "SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'about'"
    assert bulk._read(fts) == small._read(fts) == [(60,)]
    # a second large batch into a table that now holds more than it adds keeps the indexes up to date
    dropped.clear()
    bulk.add_assets([NewAsset(f"b{i}", f"more {i}", {"score": 1}) for i in range(25)])
    assert dropped == [] and bulk._read("PRAGMA integrity_check") == [("ok",)]


def test_replacing_many_predictions_builds_their_indexes_afresh_and_leaves_them_as_they_were(tmp_path, monkeypatch):
    import reviewtui.store as store_module
    from reviewtui.analysis.predict import Predictions

    monkeypatch.setattr(store_module, "BULK_ROWS", 20)
    store = LocalStore(tmp_path / "s.db", create=True)
    store.add_assets([NewAsset(f"a{i}", f"review {i}", {"score": 1}) for i in range(60)])

    def prediction_indexes():
        return store._read("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'predictions' "
                           "AND sql IS NOT NULL ORDER BY name")

    before = prediction_indexes()
    assert [name for name, _ in before] == ["predictions_category", "predictions_confidence"]
    store.set_predictions({"a1": ("OLD", 0.1)})
    dropped = []
    store._db = _Spy(store._db, dropped)
    labels = ["CONTENT", "INTERFACE"]
    ids = [f"a{i}" for i in range(50)] + ["not-in-the-store"]
    given = Predictions(ids, labels, np.array([i % 2 for i in range(51)]), [round(i / 51, 4) for i in range(51)])
    assert store.set_predictions(given, model="m") == 50  # the unknown id is left out
    assert dropped and prediction_indexes() == before
    assert store.predictions() == {f"a{i}": (labels[i % 2], round(i / 51, 4)) for i in range(50)}
    assert store._read("PRAGMA integrity_check") == [("ok",)]
    plan = " ".join(str(r) for r in store._read("EXPLAIN QUERY PLAN SELECT asset_id FROM predictions "
                                                "WHERE category = 'CONTENT' AND confidence < 0.5"))
    assert "predictions_category" in plan
    dropped.clear()  # a few kept with the rest: indexes kept up to date row by row
    assert store.set_predictions({"a55": ("CONTENT", 0.9)}, replace=False) == 51 and dropped == []


def test_a_failed_large_insert_leaves_the_store_and_its_indexes_untouched(tmp_path, monkeypatch):
    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 5)
    store = LocalStore(tmp_path / "s.db", create=True)
    before = index_sql(store)
    good = [NewAsset(f"a{i}", f"review {i}", {"score": 1}) for i in range(10)]
    real, calls = LocalStore._insert_assets, []

    def insert_then_fail(self, db, rows, at):  # the second file fails after the first went in, indexes dropped
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, db, rows, at)

    monkeypatch.setattr(LocalStore, "_insert_assets", insert_then_fail)
    with pytest.raises(ReviewtuiError, match=r"cannot write the store \(disk I/O error\): nothing was changed"):
        store.import_batches([(good, "one", "x", 10), (good, "two", "y", 10)])
    assert index_sql(store) == before
    assert store._read("SELECT COUNT(*) FROM assets") == [(0,)] and store.imports() == []


class _Spy:
    """A connection that notes the DROP INDEX statements run through it."""

    def __init__(self, db: sqlite3.Connection, dropped: list[str]) -> None:
        self._db, self._dropped = db, dropped

    def execute(self, sql, *args):
        if str(sql).startswith("DROP INDEX"):
            self._dropped.append(sql)
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_the_demo_generator_streams_the_same_bytes_for_the_same_seed(tmp_path):
    from reviewtui.demo import generate_demo

    one = generate_demo(tmp_path / "one", size=3000, seed=11)
    two = generate_demo(tmp_path / "two", size=3000, seed=11)
    assert one.export_csv.read_bytes() == two.export_csv.read_bytes()
    rows = list(csv.DictReader(io.StringIO(one.export_csv.read_text(encoding="utf-8"))))
    oracle = list(csv.DictReader(io.StringIO(one.oracle_csv.read_text(encoding="utf-8"))))
    assert [r["reviewId"] for r in rows] == [r["reviewId"] for r in oracle]
    stamps = [r["at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert not [p for p in (tmp_path / "one").iterdir() if p.name.endswith(".tmp")]


def test_big_versions_are_read_and_compared_column_wise_with_the_same_result(tmp_path):
    import random

    from reviewtui.diff import diff_versions
    from reviewtui.versions import COLUMNS, CsvRows, read_rows

    rng = random.Random(5)
    labels = ["CONTENT", "INTERFACE", "PRICING"]
    base = [[str(i), f"e{i}", "False", "LABELED", rng.choice(labels), f"review {i} " + "words, \"quoted\" " * 8]
            for i in range(9000)]
    changed = [list(r) for r in base if int(r[0]) % 50 != 7]  # removed
    for r in changed[::40]:
        r[4] = "PRICING" if r[4] != "PRICING" else "CONTENT"  # relabeled
    for r in changed[::97]:
        r[3] = "REVIEWED"
    changed += [[str(i), f"e{i}", "False", "LABELED", "CONTENT", "new\nline"] for i in range(9000, 9100)]
    repeated = changed + [list(changed[10])]  # a repeated id: the last one counts
    repeated[-1][4] = "INTERFACE"
    paths = []
    for name, rows in (("a", base), ("b", changed), ("c", repeated)):
        path = tmp_path / f"{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(COLUMNS)
            w.writerows(rows)
        paths.append(path)
    assert paths[0].stat().st_size > 1_000_000
    fast_a, fast_b = read_rows(paths[0]), read_rows(paths[1])
    assert isinstance(fast_a, CsvRows) and isinstance(fast_b, CsvRows)
    slow_a, slow_b = (list(csv.DictReader(open(p, encoding="utf-8", newline=""))) for p in paths[:2])
    assert list(fast_a) == slow_a and fast_b[3] == slow_b[3] and fast_b[-1] == slow_b[-1] and len(fast_b) == len(slow_b)
    fast, slow = diff_versions("a", fast_a, "b", fast_b), diff_versions("a", slow_a, "b", slow_b)
    assert fast.to_dict() == slow.to_dict()
    assert fast.counts["added"] == 100 and fast.counts["removed"] == 180 and fast.counts["relabeled"] > 200
    assert fast.counts["status_changed"] > 50
    # with a repeated id the row-by-row rules apply, on the same columns
    fast_c = read_rows(paths[2])
    slow_c = list(csv.DictReader(open(paths[2], encoding="utf-8", newline="")))
    assert diff_versions("a", fast_a, "c", fast_c).to_dict() == diff_versions("a", slow_a, "c", slow_c).to_dict()


def test_an_export_writes_the_bytes_it_always_wrote(tmp_path):
    from reviewtui.config import Category, Taxonomy
    from reviewtui.versions import COLUMNS, export_version

    store = busy_store(tmp_path / "s.db")
    store.set_remote_ids({"a4": "remote-4", "a6": ""})
    taxonomy = Taxonomy([Category("CONTENT", "Content", "#000000", True), Category("PRICING", "Pricing", "#111111", True),
                         Category("INTERFACE", "Interface", "#222222", False)])
    info = export_version(store, taxonomy, tmp_path / "versions")
    expected = io.StringIO()
    w = csv.writer(expected, lineterminator="\n")
    w.writerow(COLUMNS)
    for _id, ext, skipped, status, label, text, remote in store.labeled_rows(("LABELED", "REVIEWED")):
        if not skipped and label in taxonomy.training_keys:
            w.writerow((remote or str(_id), ext, "False", status, label, text))
    assert info.csv_path.read_bytes() == expected.getvalue().encode("utf-8")
    assert export_version(store, taxonomy, tmp_path / "versions") is None  # unchanged: nothing written
    assert not [p for p in (tmp_path / "versions").iterdir() if p.name.endswith(".tmp")]


def test_a_store_left_without_close_checkpoints_its_log_and_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset("a", "a review")])
    assert path.with_name("s.db-wal").exists()
    del store  # its finaliser closes the connection, which a reference cycle would otherwise keep open
    assert not path.with_name("s.db-wal").exists()
    assert LocalStore(path).count() == 1
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(ReviewtuiError, match=rf"written by a newer reviewtui \(store schema {SCHEMA_VERSION + 1}; "
                                             rf"this version reads up to {SCHEMA_VERSION}\); upgrade reviewtui"):
        LocalStore(path)


def journal_mode(store: LocalStore) -> str:
    return store._read("PRAGMA journal_mode")[0][0]


def test_a_bulk_import_runs_under_the_rollback_journal_and_goes_back_to_wal(tmp_path, monkeypatch):
    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 20)
    store = LocalStore(tmp_path / "s.db", create=True)
    modes = []
    real = LocalStore._insert_assets

    def insert(self, db, rows, at):
        modes.append(db.execute("PRAGMA journal_mode").fetchone()[0])
        return real(self, db, rows, at)

    monkeypatch.setattr(LocalStore, "_insert_assets", insert)
    rows = [NewAsset(f"a{i}", f"crème brûlée number {i}", {"score": 5}) for i in range(30)]
    assert store.import_batches([(rows, "one", "x", 30)]) == [(30, 0)]
    assert modes == ["delete"] and journal_mode(store) == "wal"
    assert store._read("PRAGMA synchronous") == [(1,)]  # NORMAL again
    assert store._read("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'creme AND number'") == [(30,)]
    assert store._read("PRAGMA integrity_check") == [("ok",)] and store.count() == 30
    times = store._read("SELECT DISTINCT created_at, updated_at FROM assets")
    assert len(times) == 1 and times[0][0] == times[0][1] and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", times[0][0])
    # the same rows again add nothing; a small import, and one into a store holding more, stay in WAL
    assert store.import_batches([(rows, "one", "x", 30)]) == [(0, 30)]
    store.add_assets([NewAsset(f"b{i}", f"more {i}") for i in range(25)])
    assert modes[1:] == ["wal", "wal"] and store.count() == 55


def test_a_bulk_import_stays_in_wal_while_another_connection_has_the_store_open(tmp_path, monkeypatch):
    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 20)
    store = LocalStore(tmp_path / "s.db", create=True)
    reader = LocalStore(tmp_path / "s.db")  # the app, say, open in another terminal
    assert reader.count() == 0
    real, switched = LocalStore._bulk_journal, []
    monkeypatch.setattr(LocalStore, "_bulk_journal", lambda self, n: switched.append(real(self, n)) or switched[-1])
    store.add_assets([NewAsset(f"a{i}", f"review {i}") for i in range(30)], source="x")
    assert switched == [False] and journal_mode(store) == "wal" and reader.count() == 30
    assert reader._read("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'review'") == [(30,)]


def test_a_failed_bulk_import_leaves_the_store_as_it_was_and_in_wal(tmp_path, monkeypatch):
    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 5)
    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset("old", "an older review")], source="first")
    store.add_label("old", "BUG")
    before = (store._read("SELECT * FROM assets"), store.imports(), store.label_history(), index_sql(store))
    good = [NewAsset(f"a{i}", f"review {i}", {"score": 1}) for i in range(10)]
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction(adding=20):
            store.import_batches([(good, "one", "x", 10)])
            assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            store._db.execute("INSERT INTO assets (id, external_id, text, created_at, updated_at) "
                              "VALUES (1, 'again', 'x', '', '')")  # a failure after the rows went in
    assert (store._read("SELECT * FROM assets"), store.imports(), store.label_history(), index_sql(store)) == before
    assert journal_mode(store) == "wal" and not (tmp_path / "s.db-journal").exists()
    assert store._read("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'review'") == [(1,)]
    assert store._read("PRAGMA integrity_check") == [("ok",)] and store.count() == 1


CRASH_IN_BULK = """
import os, sys
import reviewtui.store as store_module
from reviewtui.store import LocalStore, NewAsset
store_module.BULK_ROWS = 5
store = LocalStore(sys.argv[1])
with store.transaction(adding=50):
    store.import_batches([([NewAsset(f"a{i}", "lost review " * 500 + str(i)) for i in range(50)], "one", "x", 50)])
    store._db.execute("PRAGMA cache_size=1")  # pages reach the file before the commit
    store._db.execute("UPDATE assets SET priority = 1")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    os._exit(3)  # the process dies inside the transaction
"""


def test_a_process_killed_in_a_bulk_import_leaves_the_store_as_it_was(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset("old", "an older review")], source="first")
    before = (store._read("SELECT * FROM assets"), store.imports())
    store.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(__import__("pathlib").Path(__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", CRASH_IN_BULK, str(path)], env=env, capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    assert (tmp_path / "s.db-journal").exists()  # the journal a crash leaves: the next open rolls it back
    again = LocalStore(path)
    assert (again._read("SELECT * FROM assets"), again.imports()) == before
    assert journal_mode(again) == "wal" and again._read("PRAGMA integrity_check") == [("ok",)]
    assert again._read("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'lost'") == [(0,)]
    assert again.count() == 1


def test_a_store_opened_during_a_bulk_import_waits_for_it(tmp_path, monkeypatch):
    import threading

    import reviewtui.store as store_module

    monkeypatch.setattr(store_module, "BULK_ROWS", 5)
    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    inside, opened, counts = threading.Event(), threading.Event(), []

    def open_meanwhile():
        inside.wait()
        other = LocalStore(path)  # SQLite refuses its switch to WAL at once: the open waits
        counts.append(other.count())
        opened.set()
        other.close()

    thread = threading.Thread(target=open_meanwhile)
    thread.start()
    with store.transaction(adding=10):
        store.import_batches([([NewAsset(f"a{i}", f"review {i}") for i in range(10)], "one", "x", 10)])
        inside.set()
        assert not opened.wait(0.5)
    thread.join(10)
    assert counts == [10] and journal_mode(store) == "wal"


def test_a_store_opened_during_a_long_bulk_import_gives_up_with_a_clear_error(tmp_path, monkeypatch):
    """Past the wait (30 s in the app and the CLI), an open says the store is busy with an import,
    not sqlite's 'database is locked' traceback."""
    import reviewtui.store as store_module
    from reviewtui.errors import ReviewtuiError

    monkeypatch.setattr(store_module, "BULK_ROWS", 5)
    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    with store.transaction(adding=10):
        store.import_batches([([NewAsset(f"a{i}", f"review {i}") for i in range(10)], "one", "x", 10)])
        other = sqlite3.connect(path)
        with pytest.raises(ReviewtuiError, match=r"the store is busy: another process has held a lock on it for more "
                                                 r"than 0 s \(a large import does\); try again when that process is done"):
            store_module._set_wal(other, timeout=0.2)
        other.close()
    assert journal_mode(store) == "wal"


def test_metadata_json_of_rows_with_some_values_and_with_none():
    import pyarrow as pa

    from reviewtui.ingest import _metadata_json

    score = pa.array(["5", "", None, "", "2", ""])
    version = pa.array(["1.0", "", "2.0", None, "", ""])
    at = pa.array(["", "", "2026-01-02", None, 'say "hi"', ""])
    texts = _metadata_json([("score", score), ("app_version", version), ("at", at)], 6)
    want = [{"score": 5, "app_version": "1.0"}, {}, {"app_version": "2.0", "at": "2026-01-02"}, {},
            {"score": 2, "at": 'say "hi"'}, {}]
    assert texts == [json.dumps(m, ensure_ascii=False) for m in want]
    assert _metadata_json([("at", pa.array(["", None], pa.string()))], 2) == ["{}", "{}"]
    assert _metadata_json([("at", pa.array([], pa.string()))], 0) == []
