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
