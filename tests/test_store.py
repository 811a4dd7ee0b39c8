"""The SQLite store: append-only history, undo, skips, statuses, priorities, the queue."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.store import LabelRow, LocalStore, NewAsset


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "s.db", create=True)
    s.add_assets([NewAsset(f"a{i}", f"text {i}", {"score": i % 5 + 1}) for i in range(10)])
    yield s
    s.close()


def test_wal_and_missing_store(tmp_path, store):
    assert store._read("PRAGMA journal_mode")[0][0] == "wal"
    with pytest.raises(ReviewtuiError, match="store is missing"):
        LocalStore(tmp_path / "nope.db")


def test_history_is_append_only(store):
    store.add_label("a1", "CONTENT")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.transaction() as db:
            db.execute("UPDATE labels SET category = 'X'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.transaction() as db:
            db.execute("DELETE FROM labels")
    assert store.get("a1").label == "CONTENT"


def test_latest_label_wins_and_undo_restores_previous(store):
    store.add_label("a1", "CONTENT", spans=[{"start": 0, "end": 4, "category": "CONTENT"}])
    store.add_label("a1", "INTERFACE", status="REVIEWED")
    assert (store.get("a1").label, store.get("a1").status) == ("INTERFACE", "REVIEWED")
    undone = store.undo_last()
    assert undone.category == "INTERFACE"
    assert (store.get("a1").label, store.get("a1").status) == ("CONTENT", "LABELED")
    assert store.latest_spans("a1") == [{"start": 0, "end": 4, "category": "CONTENT"}]
    store.undo_last()
    assert store.get("a1").label is None and store.get("a1").status == "TODO"
    assert store.undo_last() is None


def test_undo_is_per_author(store):
    store.add_label("a1", "CONTENT", author="ann")
    store.add_label("a2", "INTERFACE", author="bob")
    store.undo_last(author="ann")
    assert store.get("a1").label is None and store.get("a2").label == "INTERFACE"


def test_undoing_a_label_another_author_has_replaced_since_leaves_the_review_as_they_left_it(store):
    """ann labels, bob relabels (or skips, or sends to review), ann undoes hers: the review got back
    the status before ann's label (TODO) with bob's label on it, and export left it out."""
    store.add_label("a1", "CONTENT", author="ann")
    store.add_label("a1", "INTERFACE", author="bob")
    store.undo_last(author="ann")
    a1 = store.get("a1")
    assert (a1.label, a1.status) == ("INTERFACE", "LABELED")
    store.add_label("a2", "CONTENT", author="ann")
    store.skip("a2", "spam", author="bob")
    store.undo_last(author="ann")
    a2 = store.get("a2")
    assert a2.skipped and a2.skip_reason == "spam"
    store.add_label("a3", "CONTENT", author="ann")
    store.add_label("a3", "CONTENT", author="ann")  # her own later label: undone, the earlier one stands
    store.undo_last(author="ann")
    assert (store.get("a3").label, store.get("a3").status) == ("CONTENT", "LABELED")
    store.undo_last(author="ann")
    assert (store.get("a3").label, store.get("a3").status) == (None, "TODO")


def test_skip_needs_reason_and_is_excluded_from_queue(store):
    with pytest.raises(ReviewtuiError, match="reason"):
        store.skip("a0", "  ")
    store.skip("a0", "spam")
    assert "a0" not in [a.external_id for a in store.queue(20)]
    assert store.counts_by_status()["SKIPPED"] == 1


def test_status_changes_are_recorded_and_undoable(store):
    store.add_label("a3", "CONTENT")
    assert store.set_status(["a3", "a3"], "TO_REVIEW") == 1
    assert store.get("a3").status == "TO_REVIEW"
    assert [e.kind for e in store.label_history("a3")] == ["label", "status"]
    store.undo_last()
    assert store.get("a3").status == "LABELED"
    with pytest.raises(ReviewtuiError, match="unknown status"):
        store.set_status(["a3"], "DONE")


def test_a_label_or_confirmation_of_a_review_under_review_makes_it_reviewed(store):
    """A review sent back to review (TO_REVIEW, which no version exports) and then labeled again,
    confirmed or bulk labeled is REVIEWED, so the next version has it again; undo sends it back to
    review; a review not under review is LABELED as always, and its confirmation keeps its status."""
    from reviewtui.store import LabelRow

    for ext in ("a1", "a2", "a3", "a4"):
        store.add_label(ext, "CONTENT")
    store.set_status(["a1", "a2", "a3"], "TO_REVIEW")
    store.confirm_label("a1", "CONTENT")
    store.add_label("a2", "INTERFACE")
    recorded, unchanged = store.add_labels([LabelRow("a3", "CONTENT", "local", "human", status=None),
                                            LabelRow("a5", "CONTENT", "local", "human", status=None)])
    store.confirm_label("a4", "CONTENT")
    assert (recorded, unchanged) == (2, 0)
    assert {e: store.get(e).status for e in ("a1", "a2", "a3", "a4", "a5")} == {
        "a1": "REVIEWED", "a2": "REVIEWED", "a3": "REVIEWED", "a4": "LABELED", "a5": "LABELED"}
    assert store.counts_by_status()["TO_REVIEW"] == 0 and store.counts_by_status()["REVIEWED"] == 3
    store.undo_last(external_id="a1")
    store.undo_last(external_id="a2")
    assert (store.get("a1").status, store.get("a1").label) == ("TO_REVIEW", "CONTENT")
    assert (store.get("a2").status, store.get("a2").label) == ("TO_REVIEW", "CONTENT")
    assert store.counts_by_status()["TO_REVIEW"] == 2
    assert store.add_label("a6", "CONTENT", status="TO_REVIEW") and store.get("a6").status == "TO_REVIEW"
    # the same bulk label again changes nothing: a REVIEWED review labeled again stays REVIEWED
    again = [LabelRow("a3", "CONTENT", "local", "human", status=None)]
    assert store.add_labels(again) == (0, 1) and store.get("a3").status == "REVIEWED"
    store.add_label("a3", "INTERFACE")
    assert store.get("a3").status == "REVIEWED"


def test_priorities_order_the_queue(store):
    store.set_priorities({"a7": 10, "a2": 5})
    assert [a.external_id for a in store.queue(3)] == ["a7", "a2", "a0"]
    store.set_priorities({"a9": 1}, reset=True)
    assert [a.external_id for a in store.queue(2)] == ["a9", "a0"]
    store.add_label("a9", "CONTENT")
    assert store.queue(1)[0].external_id == "a0"


def test_add_labels_is_atomic_and_idempotent(store):
    rows = [LabelRow("a1", "CONTENT", "x", "kili"), LabelRow("missing", "CONTENT", "x", "kili")]
    with pytest.raises(ReviewtuiError, match="missing"):
        store.add_labels(rows)
    assert store.get("a1").label is None
    assert store.add_labels(rows[:1]) == (1, 0)
    assert store.add_labels(rows[:1]) == (0, 1)


def test_threads_share_the_store_safely(store):
    def work(prefix: str) -> None:
        for i in range(10):
            store.add_label(f"a{i}", prefix, author=prefix)

    threads = [threading.Thread(target=work, args=(c,)) for c in ("CONTENT", "INTERFACE")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.label_history()) == 20


def test_transactions_nest_as_savepoints(store):
    with store.transaction():
        store.set_meta("outer", "1")
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.set_meta("inner", "1")
                raise RuntimeError("inner block fails")
        assert store.get_meta("inner") is None and store.get_meta("outer") == "1"
    assert store.get_meta("outer") == "1"
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.set_meta("both", "1")
            with store.transaction():
                store.set_meta("nested", "1")
            raise RuntimeError("outer block fails after the nested one ended")
    assert store.get_meta("both") is None and store.get_meta("nested") is None
    store.set_meta("after", "1")  # the store is usable again, not stuck in a transaction
    assert store.get_meta("after") == "1"


def test_an_id_cut_in_the_middle_resolves_by_its_start_and_end(tmp_path):
    s = LocalStore(tmp_path / "ids.db", create=True)
    base = "5c0c0aa3-b17c-4e1f-9a2b-0123456789ab"
    s.add_assets([NewAsset(base + suffix, f"text {suffix}") for suffix in ("", "-eu", "-us", "-in")])
    assert s.resolve_id("5c0c0aa…ab-eu") == base + "-eu"
    assert s.resolve_id("5c0c0aa…789ab") == base
    with pytest.raises(ReviewtuiError, match="no asset with an id that starts with '5c0c0aa' and ends with '-fr'"):
        s.resolve_id("5c0c0aa…-fr")
    s.add_assets([NewAsset("5c0c0aa-other-eu", "another")])
    with pytest.raises(ReviewtuiError, match="several reviews have an id that starts with '5c0c0aa' and ends with"):
        s.resolve_id("5c0c0aa…-eu")
    s.close()


def test_texts_of_and_a_sample_of_texts_read_only_what_they_return(tmp_path):
    """discover's reads: the texts of given ids (skipped ones and other apps' left out, in the
    order given) and a seeded sample of the other texts, without a pass over every asset."""
    s = LocalStore(tmp_path / "t.db", create=True)
    s.add_assets([NewAsset(f"a{i}", f"text {i}", {"app": "x" if i % 2 else "y"}) for i in range(20)])
    s.skip("a3", "spam")
    assert s.texts_of(["a5", "a3", "a1", "nope", "a2"]) == {"a5": "text 5", "a1": "text 1", "a2": "text 2"}
    assert list(s.texts_of(["a5", "a1", "a2"], app="x")) == ["a5", "a1"]
    assert s.sample_texts(50, app="x", exclude=["a1"]) == [f"text {i}" for i in range(5, 20, 2)]
    drawn = s.sample_texts(4, seed=1)
    assert len(drawn) == 4 and drawn == s.sample_texts(4, seed=1) and "text 3" not in drawn
    assert drawn == sorted(drawn, key=lambda t: int(t.split()[1]))  # store order
    s.close()


def test_an_empty_or_tableless_file_is_not_a_store_and_is_left_as_it_is(tmp_path):
    """A store cut to 0 bytes: every command failed with "no such table", and the file was written
    again as an empty database."""
    path = tmp_path / "reviewtui.db"
    path.write_bytes(b"")
    with pytest.raises(ReviewtuiError, match=r"not a reviewtui store \(an empty file\)"):
        LocalStore(path)
    assert path.stat().st_size == 0
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(ReviewtuiError, match=r"not a reviewtui store \(it has no table of reviews and labels\)"):
        LocalStore(path)
    with pytest.raises(ReviewtuiError, match=r"the workspace store is missing \(moved or deleted\?\)"):
        LocalStore(tmp_path / "gone.db")
    path.write_bytes(b"these bytes are no database at all, " * 200)
    with pytest.raises(ReviewtuiError, match=r"not a reviewtui store \(file is not a database\); put the "
                                             r"workspace's store back from a copy, or make a new workspace"):
        LocalStore(path)


def test_a_store_locked_by_another_process_is_one_error_line(tmp_path, monkeypatch, capsys):
    """Another process holding the store's write lock past the busy timeout: a traceback before."""
    import reviewtui.store as store_module
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    ws.store.add_assets([NewAsset("a1", "text one")])
    ws.close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.3)
    other = sqlite3.connect(tmp_path / "ws" / "reviewtui.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert main(["-w", str(tmp_path / "ws"), "label", "a1", "Bug"]) == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "the store is busy: another process has held its write lock for 0.3 s" in err
    assert "nothing was changed; run the command again" in err
    again = LocalStore(tmp_path / "ws" / "reviewtui.db")
    assert again.get("a1").label is None
    again.close()


def test_a_damaged_store_is_one_error_line(tmp_path):
    """Pages of the assets table overwritten (a valid header): sqlite3's traceback before."""
    import os

    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset(f"a{i}", f"a review of some length, number {i} " * 5) for i in range(3000)])
    page_size = store._read("PRAGMA page_size")[0][0]
    leaves = [r[0] for r in store._read("SELECT pageno FROM dbstat WHERE name = 'assets' AND pagetype = 'leaf'")]
    store.close()
    with open(path, "r+b") as f:
        for n in leaves[5:9]:
            f.seek((n - 1) * page_size + 100)
            f.write(os.urandom(page_size - 200))
    damaged = LocalStore(path)
    with pytest.raises(ReviewtuiError, match=r"s.db: the store is damaged \(database disk image is malformed\); "
                                             r"nothing was changed\. Keep a copy of it, then rebuild it"):
        damaged._read("SELECT COUNT(*), MAX(text) FROM assets")
    damaged.close()


def test_a_store_that_cannot_be_written_says_so_and_changes_nothing(tmp_path):
    """A read-only store: a label ended in sqlite3's traceback."""
    path = tmp_path / "s.db"
    store = LocalStore(path, create=True)
    store.add_assets([NewAsset("a1", "text one")])
    store._db.close()
    store._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    with pytest.raises(ReviewtuiError, match=r"s.db: cannot write the store \(attempt to write a readonly database\): "
                                             r"nothing was changed; make the store and its folder writable"):
        store.add_labels([LabelRow("a1", "BUG", "t", "human")])
    store._db.close()
    again = LocalStore(path)
    assert again.get("a1").label is None
    again.close()
