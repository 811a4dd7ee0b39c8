"""The demo corpus: deterministic, shaped like a google-play-scraper export, with usable signal."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from reviewtui.config import DEFAULT_CATEGORIES
from reviewtui.demo import EXPORT_COLUMNS, generate_demo, read_oracle
from reviewtui.errors import ReviewtuiError
from reviewtui.ingest import PLAY_COLUMNS, read_reviews

KEYS = {c["key"] for c in DEFAULT_CATEGORIES}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("demo"), size=6000, seed=7)


@pytest.fixture(scope="module")
def rows(demo):
    with open(demo.export_csv, encoding="utf-8", newline="") as fh:
        export = list(csv.DictReader(fh))
    oracle = read_oracle(demo.oracle_csv)
    return [dict(r, label=oracle[r["reviewId"]]) for r in export]


def test_same_seed_and_size_give_identical_bytes(tmp_path, demo):
    again = generate_demo(tmp_path / "again", size=6000, seed=7)
    assert again.export_csv.read_bytes() == demo.export_csv.read_bytes()
    assert again.oracle_csv.read_bytes() == demo.oracle_csv.read_bytes()
    other = generate_demo(tmp_path / "other", size=6000, seed=8)
    assert other.export_csv.read_bytes() != demo.export_csv.read_bytes()
    assert not list((tmp_path / "again").glob("*.tmp"))


def test_size_columns_and_oracle(demo, rows):
    assert demo.size == 6000 and len(rows) == 6000
    with open(demo.export_csv, encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == EXPORT_COLUMNS == PLAY_COLUMNS
    with open(demo.oracle_csv, encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == ["reviewId", "label"]
    oracle = read_oracle(demo.oracle_csv)
    ids = [r["reviewId"] for r in rows]
    assert len(set(ids)) == len(ids) and set(oracle) == set(ids)
    assert set(oracle.values()) <= KEYS
    shares = Counter(oracle.values())
    assert shares["INTERFACE"] > shares["CONTENT"] > shares["SUBSCRIPTION"] > shares["OTHER"] > 0
    assert 0 < shares["MULTI_LABEL"] < 0.05 * len(rows)
    assert all(r["score"] in "12345" and r["thumbsUpCount"].isdigit() for r in rows)
    replied = sum(1 for r in rows if r["replyContent"])
    assert 0.12 < replied / len(rows) < 0.3
    assert all(r["repliedAt"] >= r["at"] for r in rows if r["replyContent"])


def test_scores_follow_categories(rows):
    scores = defaultdict(list)
    for r in rows:
        scores[r["label"]].append(int(r["score"]))
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    assert mean["SUBSCRIPTION"] < mean["INTERFACE"] < mean["CONTENT"] < mean["USER_EXPERIENCE"]
    assert mean["SUBSCRIPTION"] < 2.3 and mean["USER_EXPERIENCE"] > 3.4


def test_versions_dates_and_the_redesign(rows):
    by_version = defaultdict(list)
    for r in rows:
        if r["reviewCreatedVersion"]:
            by_version[r["reviewCreatedVersion"][:3]].append(r)
    assert sorted(by_version) == ["4.0", "4.1", "4.2", "4.3", "4.4", "4.5"]
    assert any(not r["reviewCreatedVersion"] for r in rows)
    ordered = sorted(by_version)
    for older, newer in zip(ordered, ordered[1:]):
        assert max(r["at"] for r in by_version[older]) < min(r["at"] for r in by_version[newer])

    def interface_share(items):
        return sum(r["label"] == "INTERFACE" for r in items) / len(items)

    latest = interface_share(by_version["4.5"])
    assert all(latest > interface_share(by_version[v]) + 0.1 for v in ordered[:-1])


def test_the_importer_accepts_the_export_and_drops_empty_rows(demo):
    batch = read_reviews(demo.export_csv)
    report = batch.report
    assert report.rows_read == 6000
    dropped = report.dropped["missing text"] + report.dropped["empty after cleaning"]
    assert report.dropped["missing text"] > 0 and report.dropped["empty after cleaning"] > 0
    assert report.kept == 6000 - dropped
    assert all(report.changed[k] > 0 for k in ("remove html", "remove urls", "remove emoji"))
    assert all("user_name" not in m for m in batch.metadata)  # personal data dropped by default
    assert any("app_version" in m and "score" in m for m in batch.metadata)


def test_texts_vary_and_carry_signal(rows):
    texts = [r["content"] for r in rows]
    assert len(set(texts)) > 0.8 * len(texts)
    lengths = [len(t.split()) for t in texts if t.strip()]
    assert min(lengths) <= 2 and max(lengths) >= 25
    words = {"SUBSCRIPTION": ("paywall", "refund", "membership", "price", "trial", "charged"),
             "INTERFACE": ("button", "font", "layout", "dark mode", "design", "crash")}
    for key, vocab in words.items():
        own = [r["content"].lower() for r in rows if r["label"] == key]
        rest = [r["content"].lower() for r in rows if r["label"] != key]
        hit = sum(any(w in t for w in vocab) for t in own) / len(own)
        miss = sum(any(w in t for w in vocab) for t in rest) / len(rest)
        assert hit > 0.5 and miss < 0.25, (key, hit, miss)


def test_build_demo_workspace(tmp_path):
    from reviewtui.workspace import Workspace

    events = []
    ws = Workspace.demo(tmp_path / "demo", size=2000, on_event=events.append)
    try:
        assert (tmp_path / "demo" / "demo-data" / "inkwell_reviews.csv").is_file()
        assert 1900 < ws.store.count() < 2000
        assert [v.name for v in ws.versions()] == ["dataset-1", "dataset-2"]
        diff = ws.diff("dataset-1", "dataset-2")
        assert diff.added and diff.relabeled and diff.status_changed and not diff.removed
        assert len(diff.relabeled) == 6 and len(diff.status_changed) == 10
        assert events[-1].__class__.__name__ == "Notice"
        with pytest.raises(ReviewtuiError, match="already a reviewtui workspace"):
            Workspace.demo(tmp_path / "demo", size=100)
    finally:
        ws.close()


def test_rejects_a_bad_size(tmp_path):
    with pytest.raises(ReviewtuiError):
        generate_demo(tmp_path, size=0)
    assert not list(Path(tmp_path).iterdir())
