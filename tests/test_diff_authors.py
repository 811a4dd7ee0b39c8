"""A diff's added rows say who labeled them and when, up to 100,000 of them: read from the label
each review has now (one query), the same answer as each review's history gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtui.config import Taxonomy
from reviewtui.diff import diff_versions
from reviewtui.quality import provenance
from reviewtui.quality.provenance import attribute_changes, attribute_diff
from reviewtui.store import LabelRow, LocalStore, NewAsset
from reviewtui.versions import export_version, read_rows


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "reviewtui.db", create=True)
    yield s
    s.close()


def at(minute: int) -> str:  # later than the clock: the assets' import comes before every label
    return f"2099-02-01T10:{minute:02d}:00.000+00:00"


def two_versions(store: LocalStore, versions: Path):
    """Version A of r0-r3 by ann; then bob labels r4-r9 (added), cy relabels r0, dee's label of r8
    is undone after bob's, r9 is labeled twice; version B; then r4 is relabeled (after B)."""
    tax = Taxonomy.default()
    store.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(10)])
    store.add_labels([LabelRow(f"r{i}", "CONTENT", "ann", "human", at=at(i)) for i in range(4)])
    a = export_version(store, tax, versions)
    store.add_labels([LabelRow(f"r{i}", "INTERFACE", "bob", "human", at=at(10 + i)) for i in range(4, 10)])
    store.add_label("r0", "SUBSCRIPTION", author="cy", at=at(30))
    store.add_label("r8", "CONTENT", author="dee", at=at(31))
    store.undo_last(author="dee")
    store.add_label("r9", "CONTENT", author="eve", at="2099-02-01T10:32:00Z")  # Kili's form of a time
    b = export_version(store, tax, versions)
    store.add_label("r4", "USER_EXPERIENCE", author="zed", at=at(50))  # after B: not B's change
    return a, b


def test_every_added_row_says_who_labeled_it_past_the_history_cap(store, tmp_path, monkeypatch):
    a, b = two_versions(store, tmp_path / "versions")
    monkeypatch.setattr(provenance, "ATTRIBUTE_ADDED", 2)  # fewer than the 6 added rows
    diff = attribute_diff(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)), store, a, b)
    who = {c.external_id: (c.author, c.at) for c in diff.added}
    assert who == {"r4": ("bob", at(14)), "r5": ("bob", at(15)), "r6": ("bob", at(16)), "r7": ("bob", at(17)),
                   "r8": ("bob", at(18)), "r9": ("eve", "2099-02-01T10:32:00.000+00:00")}
    assert [(c.external_id, c.author, c.at) for c in diff.relabeled] == [("r0", "cy", at(30))]


def test_the_current_label_gives_the_answer_each_history_gives(store, tmp_path):
    a, b = two_versions(store, tmp_path / "versions")
    plain = diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path))
    quick = attribute_diff(plain, store, a, b)
    slow = attribute_changes(plain, store.label_history(), since=a.manifest.get("store_last_change"),
                             until=b.manifest.get("store_last_change"))
    assert quick.changes == slow.changes
    assert all(c.author for c in quick.changes)


def test_a_whole_import_of_added_rows_goes_without_authors_and_relabels_keep_theirs(store, tmp_path, monkeypatch):
    """Past ATTRIBUTE_ADDED_BY_LABEL added rows (a whole import labeled at once) the added rows have
    no author, which keeps such a diff quick; the relabeled rows still have theirs."""
    a, b = two_versions(store, tmp_path / "versions")
    monkeypatch.setattr(provenance, "ATTRIBUTE_ADDED", 2)
    monkeypatch.setattr(provenance, "ATTRIBUTE_ADDED_BY_LABEL", 5)  # fewer than the 6 added rows
    diff = attribute_diff(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)), store, a, b)
    assert len(diff.added) == 6 and all(c.author is None and c.at is None for c in diff.added)
    assert [(c.external_id, c.author, c.at) for c in diff.relabeled] == [("r0", "cy", at(30))]


def test_a_removed_row_says_who_took_it_out_and_when(store, tmp_path):
    """A review in A and not in B was skipped, sent to review or had its label undone after A: the
    diff names that event's author and time; a removal no event after A explains keeps none."""
    tax = Taxonomy.default()
    store.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(5)])
    store.add_labels([LabelRow(f"r{i}", "CONTENT", "ann", "human") for i in range(5)])
    a = export_version(store, tax, tmp_path / "versions")
    skipped = store.skip("r1", "not english", author="bob")
    store.set_status(["r2"], "TO_REVIEW", author="rev")
    undone = store.undo_last(author="ann", external_id="r3")
    b = export_version(store, tax, tmp_path / "versions")
    diff = attribute_diff(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)), store, a, b)
    who = {c.external_id: c.author for c in diff.removed}
    assert who == {"r1": "bob", "r2": "rev", "r3": "ann"}
    at_of = {c.external_id: c.at for c in diff.removed}
    assert at_of["r1"][:19] == skipped.created_at[:19] and at_of["r3"][:19] == undone.created_at[:19]
    # with A's bound after every event (a version registered later), nothing explains the removals
    late = attribute_changes(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)),
                             store.label_history(), since="2999-01-01T00:00:00.000+00:00")
    assert all(c.author is None for c in late.removed)
