"""A dataset version written as csv, parquet, jsonl or a Hugging Face dataset with a ClassLabel."""

from __future__ import annotations

import json

import pytest

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.store import LabelRow, LocalStore, NewAsset
from reviewtui.version_formats import default_name, write_version
from reviewtui.versions import export_version


@pytest.fixture
def version(tmp_path):
    store = LocalStore(tmp_path / "reviewtui.db", create=True)
    store.add_assets([NewAsset(f"r{i}", f"review number {i}") for i in range(6)])
    labels = ["CONTENT", "INTERFACE", "SUBSCRIPTION", "CONTENT", "OTHER", "USER_EXPERIENCE"]
    store.add_labels([LabelRow(f"r{i}", lab, "ann", "human") for i, lab in enumerate(labels)])
    info = export_version(store, Taxonomy.default(), tmp_path / "versions")
    store.close()
    return info


def test_csv_is_the_version_as_it_is(version, tmp_path):
    out = write_version(version, tmp_path / "out" / default_name(version, "csv"), "csv")
    assert out.path.read_bytes() == version.csv_path.read_bytes() and out.rows == 5


def test_parquet_and_jsonl_carry_label_ids_from_the_version_taxonomy(version, tmp_path):
    import pyarrow.parquet as pq

    names = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
    pq_out = write_version(version, tmp_path / "v.parquet", "parquet")
    table = pq.read_table(pq_out.path)
    assert pq_out.label_names == names and table.num_rows == 5
    rows = table.to_pylist()
    assert [(r["externalId"], r["label"], r["label_id"]) for r in rows][:3] == [
        ("r0", "CONTENT", 1), ("r1", "INTERFACE", 2), ("r2", "SUBSCRIPTION", 0)]
    assert json.loads(table.schema.metadata[b"reviewtui.label_names"]) == names
    jl = write_version(version, tmp_path / "v.jsonl", "jsonl")
    lines = [json.loads(x) for x in jl.path.read_text(encoding="utf-8").splitlines()]
    assert lines == rows


def test_hf_dataset_with_a_class_label(version, tmp_path):
    from datasets import ClassLabel, load_from_disk

    out = write_version(version, tmp_path / default_name(version, "hf"), "hf")
    ds = load_from_disk(str(out.path))
    assert isinstance(ds.features["label"], ClassLabel)
    assert ds.features["label"].names == ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
    assert [ds.features["label"].int2str(x) for x in ds["label"]] == ["CONTENT", "INTERFACE", "SUBSCRIPTION",
                                                                       "CONTENT", "USER_EXPERIENCE"]
    assert ds["content"][0] == "review number 0"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp folder left
    with pytest.raises(ReviewtuiError, match="already exists"):
        write_version(version, out.path, "hf")
    again = write_version(version, out.path, "hf", overwrite=True)
    assert load_from_disk(str(again.path)).num_rows == 5


def test_bad_requests(version, tmp_path):
    with pytest.raises(ReviewtuiError, match="unknown export format 'xlsx'"):
        write_version(version, tmp_path / "x", "xlsx")
    with pytest.raises(ReviewtuiError, match="labels CONTENT, INTERFACE, SUBSCRIPTION, USER_EXPERIENCE are not"):
        write_version(version, tmp_path / "x.parquet", "parquet", label_names=["BUG"])
    assert not (tmp_path / "x.parquet").exists()


def _labeled_store(tmp_path):
    store = LocalStore(tmp_path / "kill.db", create=True)
    store.add_assets([NewAsset(f"r{i}", f"review number {i}") for i in range(4)])
    store.add_labels([LabelRow(f"r{i}", "CONTENT", "ann", "human") for i in range(4)])
    return store


def test_an_export_killed_between_its_manifest_and_its_csv_leaves_no_version(tmp_path, monkeypatch):
    """The manifest claims the number first: a kill before the CSV takes its name leaves no
    version without its manifest (which `versions` showed as one of 0 rows, trained on as one,
    and the next export wrote again beside), and the next export writes the version."""
    import os

    from reviewtui.versions import list_versions, tidy_versions

    store, out = _labeled_store(tmp_path), tmp_path / "versions"
    real_link = os.link

    def killed_at_the_csv(src, dst, *a, **k):
        if str(dst).endswith(".csv"):
            raise KeyboardInterrupt
        return real_link(src, dst, *a, **k)

    monkeypatch.setattr(os, "link", killed_at_the_csv)
    with pytest.raises(KeyboardInterrupt):
        export_version(store, Taxonomy.default(), out)
    monkeypatch.setattr(os, "link", real_link)
    assert list_versions(out) == [] and not list(out.glob(".export.*"))
    again = export_version(store, Taxonomy.default(), out)
    assert again.name == "dataset-2" and again.rows == 4 and [v.name for v in list_versions(out)] == ["dataset-2"]
    assert export_version(store, Taxonomy.default(), out) is None  # nothing changed: nothing written
    # the manifest left alone is removed once it is old enough not to be another export's under way
    tidy_versions(out, now=__import__("time").time() + 3600)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("dataset-")) == ["dataset-2.csv", "dataset-2.json"]


def test_a_version_without_its_manifest_gets_one_and_is_not_exported_again(tmp_path):
    """What an earlier reviewtui's killed export left (the CSV named first): the next export
    reads the manifest back from the file instead of writing the same version a second time."""
    from reviewtui.versions import list_versions

    store, out = _labeled_store(tmp_path), tmp_path / "versions"
    first = export_version(store, Taxonomy.default(), out)
    first.csv_path.with_suffix(".json").unlink()
    assert list_versions(out)[0].manifest.get("incomplete")
    assert export_version(store, Taxonomy.default(), out) is None
    (v,) = list_versions(out)
    assert v.manifest["repaired"] and v.rows == 4 and v.sha256 == first.sha256
    assert v.manifest["counts_by_label"] == {"CONTENT": 4}
