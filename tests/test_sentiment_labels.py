"""Sentiment as a labelable dimension: its own label history in the store, undo, bulk import, and the
`sentiment` column of exported versions."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.store import LocalStore, NewAsset, SentimentRow
from reviewtui.versions import COLUMNS, export_version, read_rows, register_versions


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "s.db", create=True)
    s.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(5)])
    yield s
    s.close()


def test_sentiment_is_its_own_history_and_leaves_the_category_alone(store):
    store.add_label("r1", "CONTENT", author="ann")
    ev = store.add_sentiment("r1", "Positive", author="ann")
    assert ev.kind == "sentiment" and ev.category == "positive" and ev.author == "ann"
    store.add_sentiment("r2", "negative", author="bo")  # sentiment without a category label
    asset1, asset2 = store.get("r1"), store.get("r2")
    assert asset1.label == "CONTENT" and asset1.status == "LABELED"
    assert asset2.label is None and asset2.status == "TODO"
    store.add_sentiment("r1", "neutral", author="bo")
    got = store.sentiments()
    assert {k: v.sentiment for k, v in got.items()} == {"r1": "neutral", "r2": "negative"}
    assert got["r1"].author == "bo" and got["r1"].at.endswith("+00:00")
    kinds = [(e.kind, e.category, e.author) for e in store.label_history("r1")]
    assert kinds == [("label", "CONTENT", "ann"), ("sentiment", "positive", "ann"), ("sentiment", "neutral", "bo")]
    assert store.counts_by_sentiment() == {"negative": 1, "neutral": 1, "positive": 0}
    assert store.sentiments(["r2", "r4"]).keys() == {"r2"}


def test_undo_takes_back_the_last_sentiment_only(store):
    store.add_label("r1", "CONTENT", author="ann")
    store.add_sentiment("r1", "positive", author="ann")
    store.add_sentiment("r1", "negative", author="ann")
    undone = store.undo_last(author="ann")
    assert undone.kind == "sentiment" and undone.category == "negative"
    assert store.sentiments()["r1"].sentiment == "positive"
    assert store.get("r1").label == "CONTENT" and store.get("r1").status == "LABELED"
    store.undo_last(author="ann")
    assert "r1" not in store.sentiments()
    assert store.get("r1").label == "CONTENT"  # the category label is the next thing undo would take back
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        with store.transaction() as db:
            db.execute("DELETE FROM labels WHERE kind = 'sentiment'")


def test_bad_sentiments_and_bulk_rows(store):
    with pytest.raises(ReviewtuiError, match="unknown sentiment 'meh'"):
        store.add_sentiment("r1", "meh")
    with pytest.raises(ReviewtuiError, match="no asset with id 'zz'"):
        store.add_sentiment("zz", "positive")
    rows = [SentimentRow("r0", "negative", "team"), SentimentRow("r3", "positive", "team")]
    assert store.add_sentiments(rows) == (2, 0)
    assert store.add_sentiments(rows) == (0, 2)  # idempotent
    assert store.add_sentiments([SentimentRow("r3", "neutral", "team")]) == (1, 0)
    with pytest.raises(ReviewtuiError):
        store.add_sentiments([SentimentRow("r4", "positive", "team"), SentimentRow("zz", "positive", "team")])
    assert "r4" not in store.sentiments()  # nothing written
    store.skip("r3", "spam")
    assert store.counts_by_sentiment() == {"negative": 1, "neutral": 0, "positive": 0}


def test_export_adds_a_sentiment_column_only_when_there_are_sentiment_labels(store, tmp_path):
    tax = Taxonomy.default()
    keys = tax.training_keys
    for i in range(4):
        store.add_label(f"r{i}", keys[i % len(keys)], author="ann")
    v1 = export_version(store, tax, tmp_path / "versions")
    assert list(read_rows(v1.csv_path)[0]) == COLUMNS and "counts_by_sentiment" not in v1.manifest

    store.add_sentiment("r1", "negative", author="ann")
    store.add_sentiment("r4", "positive", author="ann")  # not exported: no category label
    v2 = export_version(store, tax, tmp_path / "versions")
    rows = read_rows(v2.csv_path)
    assert list(rows[0]) == [*COLUMNS, "sentiment"]
    assert {r["externalId"]: r["sentiment"] for r in rows} == {"r0": "", "r1": "negative", "r2": "", "r3": ""}
    assert v2.manifest["counts_by_sentiment"] == {"none": 3, "negative": 1}
    assert export_version(store, tax, tmp_path / "versions") is None  # same content: nothing new

    # registering a version with a sentiment column keeps it, and checks its values
    again = register_versions([v2.csv_path], tax, tmp_path / "other")
    assert [r["sentiment"] for r in read_rows(again[0].csv_path)] == [r["sentiment"] for r in rows]
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*COLUMNS, "sentiment"])
        w.writerow(["1", "x1", "False", "LABELED", keys[0], "text", "great"])
    with pytest.raises(ReviewtuiError, match="line 2: unknown sentiment 'great'"):
        register_versions([bad], tax, tmp_path / "third")
