"""Label quality: suspects (real MiniLM embeddings, real cleanlab), stars against text, agreement
coefficients against published and hand-computed values, statistics, and who made a diff's change."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from modeling_fixtures import LABELS, review_text

from reviewtui.analysis.sentiment import SentimentScores
from reviewtui.config import Taxonomy
from reviewtui.diff import diff_versions
from reviewtui.errors import ReviewtuiError
from reviewtui.quality.agreement import (agreement_report, author_labels, category_agreement, cohen_kappa,
                                         fleiss_kappa, krippendorff_alpha, store_agreement)
from reviewtui.quality.provenance import attribute_diff
from reviewtui.quality.stars import conflicts_from_scores, find_star_conflicts
from reviewtui.quality.stats import author_stats, version_stats
from reviewtui.quality.suspects import find_suspects, rank_suspects
from reviewtui.settings import QualitySettings
from reviewtui.store import LabelRow, LocalStore, NewAsset
from reviewtui.versions import export_version, list_versions, read_rows


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "reviewtui.db", create=True)
    yield s
    s.close()


# -- the store: confirmations, other authors' labels ----------------------------------------------
def test_confirm_is_remembered_per_label_and_undo_takes_it_back(store):
    store.add_assets([NewAsset("a", "text a"), NewAsset("b", "text b")])
    store.add_label("a", "CONTENT", author="ann")
    with pytest.raises(ReviewtuiError, match="labeled CONTENT, not INTERFACE"):
        store.confirm_label("a", "INTERFACE", author="ann")
    event = store.confirm_label("a", "CONTENT", author="bob")
    assert (event.kind, event.category, event.author) == ("confirm", "CONTENT", "bob")
    assert store.confirmed_labels() == {"a": "CONTENT"}
    assert store.get("a").label == "CONTENT" and store.get("a").status == "LABELED"
    assert store.undo_last(author="bob").kind == "confirm"
    assert store.confirmed_labels() == {} and store.get("a").label == "CONTENT"


def test_a_label_that_is_not_current_goes_to_the_history_only_and_once(store):
    store.add_assets([NewAsset("a", "text a")])
    store.add_labels([LabelRow("a", "INTERFACE", "bob@x", "kili")])
    other = LabelRow("a", "CONTENT", "ann@x", "kili", current=False)
    assert store.add_labels([other]) == (1, 0)
    assert store.add_labels([other]) == (0, 1)  # the same author's label again: nothing new
    assert store.get("a").label == "INTERFACE"
    assert store.add_labels([LabelRow("a", "SUBSCRIPTION", "ann@x", "kili", current=False)]) == (1, 0)
    assert author_labels(store.label_history()) == {"a": {"bob@x": "INTERFACE", "ann@x": "SUBSCRIPTION"}}
    assert [e.prev_status for e in store.label_history()] == ["TODO", "LABELED", "LABELED"]



def test_undo_never_makes_another_authors_history_only_label_the_effective_one(store):
    store.add_assets([NewAsset("a", "text a")])
    store.add_labels([LabelRow("a", "INTERFACE", "bob@x", "kili"), LabelRow("a", "CONTENT", "bob@x", "kili")])
    store.add_labels([LabelRow("a", "SUBSCRIPTION", "ann@x", "kili", current=False)])  # newer id, history only
    undone = store.undo_last(author="bob@x")
    assert (undone.category, undone.author) == ("CONTENT", "bob@x")
    assert store.get("a").label == "INTERFACE"  # bob's earlier label, not ann's newer history-only one
    assert store.latest_spans("a") is None and store.get("a").status == "LABELED"
    store.set_status(["a"], "REVIEWED", author="cy")
    undone = store.undo_last(author="ann@x")  # ann's history-only label: the asset stays as it is
    assert (undone.kind, undone.category) == ("label", "SUBSCRIPTION")
    asset = store.get("a")
    assert (asset.label, asset.status) == ("INTERFACE", "REVIEWED")
    assert author_labels(store.label_history()) == {"a": {"bob@x": "INTERFACE"}}


def test_a_store_written_before_history_only_rows_is_migrated(tmp_path):
    import sqlite3

    from reviewtui.store import SCHEMA_VERSION
    from tests.conftest import schema_before_5

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(schema_before_5().replace(",\n    history_only INTEGER NOT NULL DEFAULT 0", ""))
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    now = "2020-01-01T10:00:00.000+00:00"
    for i, ext in enumerate(("a", "b"), start=1):
        db.execute("INSERT INTO assets (id, external_id, text, text_hash, created_at, updated_at) "
                   "VALUES (?, ?, ?, '', ?, ?)", (i, ext, f"text {ext}", now, now))
    rows = [(1, 1, "label", "INTERFACE", "bob", None), (2, 1, "label", "CONTENT", "ann", None),  # ann's: history only
            (3, 2, "label", "CONTENT", "bob", None), (4, 2, "label", "INTERFACE", "bob", None),
            (5, 2, "undo", None, "bob", 4)]
    for r in rows:
        db.execute("INSERT INTO labels (id, asset_id, kind, category, author, source, created_at, undoes, "
                   "prev_status) VALUES (?, ?, ?, ?, ?, 'kili', ?, ?, 'LABELED')", (*r[:5], now, r[5]))
    db.execute("UPDATE assets SET label = 'INTERFACE', label_event = 1, status = 'LABELED' WHERE id = 1")
    db.execute("UPDATE assets SET label = 'CONTENT', label_event = 3, status = 'LABELED' WHERE id = 2")
    db.commit()
    db.close()
    s = LocalStore(path)
    try:
        with sqlite3.connect(path) as check:
            marks = dict(check.execute("SELECT id, history_only FROM labels").fetchall())
        assert marks == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0}  # only the row after the effective label, not undone
        assert s.get_meta("schema_version") == str(SCHEMA_VERSION)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            with s.transaction() as conn:
                conn.execute("UPDATE labels SET category = 'X' WHERE id = 1")
        s.add_label("a", "SUBSCRIPTION", author="bob")
        s.undo_last(author="bob")
        assert s.get("a").label == "INTERFACE"
    finally:
        s.close()
    LocalStore(path).close()  # a second open finds nothing to migrate


# -- suspects -------------------------------------------------------------------------------------
def labeled_store(store: LocalStore, n: int = 48, seed: int = 3) -> dict[str, str]:
    rng = random.Random(seed)
    truth = {f"r{i:02d}": LABELS[i % 4] for i in range(n)}
    store.add_assets([NewAsset(ext, review_text(lab, rng)) for ext, lab in truth.items()])
    store.add_labels([LabelRow(ext, lab, "ann", "human") for ext, lab in truth.items()])
    return truth


def test_a_planted_wrong_label_becomes_the_top_suspect_until_confirmed(store, tmp_path):
    from reviewtui.modeling.embeddings import EmbeddingCache

    truth = labeled_store(store)
    cache = EmbeddingCache(tmp_path / "cache", "minilm", 64)
    settings = QualitySettings(folds=4, repeats=2)
    clean = find_suspects(store, cache, LABELS, settings)
    assert len(clean.items) == 48 and clean.folds == 4 and "r05" not in [s.external_id for s in clean.top(3)]

    store.add_label("r05", "SUBSCRIPTION", author="bob")  # r05 is CONTENT
    planted = find_suspects(store, cache, LABELS, settings)
    top = planted.top(1)[0]
    assert (top.external_id, top.label, top.suggested, top.rank) == ("r05", "SUBSCRIPTION", truth["r05"], 0)
    assert top.confidence > top.label_probability and top.disagrees
    assert top.reason.startswith(f"the model gives {truth['r05']} ")
    assert planted.to_dict(top=1)["suspects"][0]["external_id"] == "r05"

    store.confirm_label("r05", "SUBSCRIPTION", author="bob")
    kept = find_suspects(store, cache, LABELS, settings)
    assert "r05" not in [s.external_id for s in kept.suspects] and kept.confirmed == 1
    store.add_label("r05", "INTERFACE", author="bob")  # the label changed: judged again
    assert find_suspects(store, cache, LABELS, settings).top(1)[0].external_id == "r05"


def test_rank_suspects_lowers_folds_and_leaves_out_single_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    labels = ["A"] * 6 + ["B"] * 3 + ["C"]
    X = np.vstack([centres["ABC".index(v)] + 0.05 * rng.normal(size=8) for v in labels])
    ids = [f"x{i}" for i in range(10)]
    report = rank_suspects(ids, ids, labels, X, ["A", "B", "C"], QualitySettings(folds=10))
    assert report.folds == 3 and report.left_out == {"x9": "the only C label"}
    assert report.classes == ["A", "B"] and len(report.items) == 9
    with pytest.raises(ReviewtuiError, match="two labels in each of two categories"):
        rank_suspects(ids[:7], ids[:7], ["A"] * 6 + ["B"], X[:7], ["A", "B"], QualitySettings())
    with pytest.raises(ReviewtuiError, match="not training categories"):
        rank_suspects(ids[:2], ids[:2], ["A", "Z"], X[:2], ["A", "B"], QualitySettings())


def test_a_category_of_a_few_labels_is_left_out_instead_of_setting_every_categorys_folds():
    """Two labels of a new category took every model down to 2 folds (half the labels each): the
    planted flips found fell from 21 to 19 of 30 on dataset-11."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 8))
    labels = ["A"] * 12 + ["B"] * 12 + ["C"] * 2
    X = np.vstack([centres["ABC".index(v)] + 0.05 * rng.normal(size=8) for v in labels])
    ids = [f"x{i}" for i in range(len(labels))]
    report = rank_suspects(ids, ids, labels, X, ["A", "B", "C"], QualitySettings(folds=10))
    assert report.folds == 10 and report.classes == ["A", "B"] and len(report.items) == 24
    assert report.left_out["x24"].startswith("one of only 2 C labels: a category of fewer than 5 is not judged")


# -- stars against text ---------------------------------------------------------------------------
class FixedAnalyzer:
    """A sentiment analyzer with known scores (VADER is exercised in the analysis tests)."""

    name = "fixed"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.seen: list[str] = []

    def analyze(self, texts, on_event=None, cancel=None):
        self.seen += list(texts)
        s = np.array([self.scores[t] for t in texts], dtype=np.float32)
        return SentimentScores(self.name, ["positive" if v > 0 else "negative" for v in s], s)


def test_stars_against_text_finds_both_directions_strongest_first(store):
    rows = [("a", "awful, deleted it", 5, -0.9), ("b", "love it", 1, 0.7), ("c", "meh bad", 5, -0.3),
            ("d", "great", 5, 0.9), ("e", "hate it", 1, -0.8), ("f", "fine i guess", 3, -0.9),
            ("g", "bad bad", 5, -0.6)]
    store.add_assets([NewAsset(e, t, {"score": s}) for e, t, s, _ in rows] + [NewAsset("h", "no stars")])
    store.add_label("g", "INTERFACE")
    store.confirm_label("g", "INTERFACE")
    analyzer = FixedAnalyzer({t: v for _, t, _, v in rows})
    report = find_star_conflicts(store, analyzer, 0.5)
    assert [(c.external_id, c.stars) for c in report.items] == [("a", 5), ("b", 1), ("g", 5)]
    assert report.checked == 6 and "fine i guess" not in analyzer.seen  # 3 stars: not analyzed
    assert math.isclose(report.items[0].strength, 0.9, rel_tol=1e-6)
    assert [c.external_id for c in report.open] == ["a", "b"]  # g's label was confirmed
    assert conflicts_from_scores(["x"], ["t"], [5], ["negative"], [-0.49], 0.5) == []


def test_the_stars_model_judges_each_review_from_the_others_and_outvotes_a_lexicon(store):
    """240 reviews whose embeddings follow their stars (4-5 one way, 1-2 the other), and three
    1-star ones a lexicon reads positive: "great", whose embedding is a 5-star review's (flagged),
    a complaint with kind words, whose embedding is a 1-star one's (not flagged: the stars model
    outvotes the lexicon), and one the lexicon calls mildly positive (0.3) but whose embedding is a
    5-star one's (flagged, as the mean passes 0.5). Fewer than MIN_STARRED reviews: the analyzer
    alone; more than MAX_STARRED: a stable sample, said on the report."""
    from reviewtui.quality import stars as stars_module
    from reviewtui.quality.stars import MIN_STARRED, cross_fitted_star_scores

    rng = np.random.default_rng(0)
    rows, vectors, lexicon = [], {}, {}
    for i in range(240):
        star = [1, 2, 4, 5][i % 4]
        text = f"review {i}"
        rows.append(NewAsset(f"r{i}", text, {"score": star}))
        vectors[text] = np.array([1.0 if star >= 4 else -1.0, 0.0]) + rng.normal(0, 0.3, 2)
        lexicon[text] = 0.6 if star >= 4 else -0.6
    for ext, text, vec, lex in (("great", "great", [1.0, 0.0], 0.9), ("kind", "good app until it froze", [-1.0, 0.0], 0.93),
                                ("mild", "it is ok", [1.2, 0.0], 0.3)):
        rows.append(NewAsset(ext, text, {"score": 1}))
        vectors[text], lexicon[text] = np.array(vec), lex
    store.add_assets(rows)

    def embed(texts):
        return np.stack([vectors[t] for t in texts])

    scores = cross_fitted_star_scores(embed([f"review {i}" for i in range(240)]), [[1, 2, 4, 5][i % 4] for i in range(240)])
    assert scores is not None
    assert scores[[i for i in range(240) if i % 4 >= 2]].mean() > 0.5 > -0.5 > scores[[i for i in range(240) if i % 4 < 2]].mean()
    assert cross_fitted_star_scores(embed(["review 0"] * 10), [1] * 10) is None  # too few, one side
    assert MIN_STARRED > 10
    report = find_star_conflicts(store, FixedAnalyzer(lexicon), 0.5, embed=embed)
    assert report.analyzer == "fixed + stars model" and report.sampled_from is None
    assert {c.external_id for c in report.items} == {"great", "mild"}
    alone = find_star_conflicts(store, FixedAnalyzer(lexicon), 0.5)  # no embeddings: the lexicon alone
    assert {c.external_id for c in alone.items} == {"great", "kind"}
    stars_module.MAX_STARRED, before = 200, stars_module.MAX_STARRED
    try:
        sampled = find_star_conflicts(store, FixedAnalyzer(lexicon), 0.5, embed=embed)
    finally:
        stars_module.MAX_STARRED = before
    assert sampled.sampled_from == 123 and sampled.checked < 123


# -- agreement ------------------------------------------------------------------------------------
def test_cohen_kappa_hand_computed():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert math.isclose(cohen_kappa(a, b), 0.4, abs_tol=1e-12)
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None


# Fleiss (1971)'s construction on the textbook table: 10 subjects, 14 raters, 5 categories.
FLEISS_TABLE = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_fleiss_kappa_textbook_example():
    # P-bar = 0.378, P-e = 0.213, kappa = 0.210 (to three places)
    assert round(fleiss_kappa(np.array(FLEISS_TABLE)), 3) == 0.210
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[1, 0]]))
    assert fleiss_kappa(np.array([[2, 0], [3, 0]])) is None  # one category only: undefined


def test_krippendorff_alpha_textbook_and_hand_computed():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units,
    # missing values; nominal alpha = 0.743
    nan = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    assert round(krippendorff_alpha(data), 3) == 0.743
    # two coders, four units (a,a) (a,b) (b,b) (b,b): coincidences o_aa=2, o_ab=o_ba=1, o_bb=4,
    # n=8, n_a=3, n_b=5; D_o = 2/8, D_e = 2*3*5/(8*7); alpha = 1 - D_o/D_e = 1 - (1/4)/(15/28) = 8/15
    assert math.isclose(krippendorff_alpha([["a", "a", "b", "b"], ["a", "b", "b", "b"]]), 8 / 15, abs_tol=1e-9)
    assert krippendorff_alpha([["a", None], [None, "a"]]) is None


def test_agreement_report_pairs_categories_and_disagreements():
    table = {"1": {"ann": "C", "bob": "C"}, "2": {"ann": "C", "bob": "I"}, "3": {"ann": "I", "bob": "I"},
             "4": {"ann": "I", "bob": "I", "cy": "C"}, "5": {"ann": "C"}}
    r = agreement_report(table, ["C", "I", "S"], texts={"2": "two"})
    assert (r.assets, r.authors, r.ratings) == (4, ["ann", "bob", "cy"], 9)
    assert r.observed == 0.5 and r.cohen_kappa is None  # three authors
    assert r.disagreement_ids == ["2", "4"] and r.disagreements[0].text == "two"
    ab = next(p for p in r.pairs if (p.a, p.b) == ("ann", "bob"))
    assert ab.assets == 4 and ab.observed == 0.75 and math.isclose(ab.kappa, 0.5)
    # counts: [2,0,0], [1,1,0], [0,2,0], [1,2,0]; specific agreement of C: sum n(n-1)=2 over
    # sum n(n_i-1)=2+1+0+2=5 -> 0.4; of I: (0+0+2+2)/(0+1+2+4) = 4/7
    cats = {c.category: c for c in r.per_category}
    assert math.isclose(cats["C"].specific, 0.4) and math.isclose(cats["I"].specific, 4 / 7)
    assert cats["S"].ratings == 0 and cats["S"].specific is None and cats["S"].kappa is None
    assert math.isclose(r.fleiss_kappa, fleiss_kappa(np.array([[2, 0], [1, 1], [0, 2], [1, 2]])))


def test_per_category_kappa_averages_to_fleiss_kappa():
    # Fleiss (1971): with the same number of raters per subject, kappa = sum p_j q_j kappa_j / sum p_j q_j
    table = np.array(FLEISS_TABLE)
    cats = category_agreement(table, list("abcde"))
    p = table.sum(axis=0) / table.sum()
    weighted = sum(pj * (1 - pj) * c.kappa for pj, c in zip(p, cats)) / sum(pj * (1 - pj) for pj in p)
    assert math.isclose(weighted, fleiss_kappa(table), abs_tol=1e-12)
    two = category_agreement(np.array([[2, 0], [1, 1], [0, 2], [2, 0]]), ["C", "I"])  # two categories
    assert math.isclose(two[0].kappa, two[1].kappa)
    assert math.isclose(two[0].kappa, fleiss_kappa(np.array([[2, 0], [1, 1], [0, 2], [2, 0]])))


def test_store_agreement_two_local_authors_and_sources(store):
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(10)])
    ann = ["C"] * 5 + ["I"] * 5
    bob = ["C", "C", "C", "C", "I", "I", "I", "I", "I", "C"]
    for who, labels in (("ann", ann), ("bob", bob)):  # each labels every asset in the app
        for i, v in enumerate(labels):
            store.add_label(str(i), v, author=who)
    store.add_labels([LabelRow(str(i), "S", "import", "import") for i in range(3)])  # not a person
    r = store_agreement(store, ["C", "I"])
    assert r.authors == ["ann", "bob"] and r.assets == 10
    assert math.isclose(r.cohen_kappa, 0.6)  # p_o 0.8, p_e 0.5
    assert r.disagreement_ids == ["4", "9"] and r.disagreements[0].labels == {"ann": "C", "bob": "I"}


# -- statistics -----------------------------------------------------------------------------------
def test_author_stats_sessions_and_time_per_label(store):
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(8)])
    t = "2020-01-01T10:{:02d}:{:02d}.000+00:00"
    store.add_label("0", "C", author="ann", at=t.format(0, 0))
    store.add_label("1", "C", author="ann", at=t.format(0, 10))   # 10 s
    store.add_label("2", "I", author="ann", at=t.format(0, 40))   # 30 s
    store.add_label("3", "I", author="ann", at=t.format(30, 0))   # a break: new session, not timed
    store.add_label("4", "I", author="ann", at=t.format(30, 20))  # 20 s
    store.add_label("5", "C", author="bob", at=t.format(1, 0))
    store.add_label("6", "C", author="model", source="model", at=t.format(1, 1))
    store.skip("7", "spam", author="ann")  # now: long after, a session of its own
    store.undo_last(author="ann")
    ann, bob = author_stats(store.label_history(), session_gap_s=600)
    assert (ann.author, ann.labels, ann.skips, ann.undos, ann.sessions) == ("ann", 5, 1, 1, 3)
    assert ann.timed_labels == 3 and ann.median_seconds_per_label == 20.0
    assert math.isclose(ann.labels_per_hour, 3 / (60 + ann.active_seconds - 60) * 3600)
    assert (bob.labels, bob.timed_labels, bob.median_seconds_per_label, bob.labels_per_hour) == (1, 0, None, None)
    assert "model" not in [s.author for s in author_stats(store.label_history())]


def test_an_author_of_a_bulk_label_and_its_undo_only_has_no_session(store):
    from reviewtui.store import BULK_NOTE, LabelRow

    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(3)])
    store.add_labels([LabelRow(str(i), "C", "ann", "human", None, note=f"{BULK_NOTE} of 3 reviews (now)")
                      for i in range(3)])
    assert len(store.undo_bulk(author="ann")) == 3
    (ann,) = author_stats(store.label_history(), session_gap_s=600)
    assert (ann.labels, ann.undos, ann.sessions, ann.timed_labels) == (3, 3, 0, 0)


def test_a_sentiment_key_does_not_shorten_the_time_of_the_label_that_follows(store):
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(3)])
    t = "2020-01-01T10:00:{:02d}.000+00:00"
    store.add_label("0", "C", author="ann", at=t.format(0))
    store.add_sentiment("1", "negative", author="ann", at=t.format(25))
    store.add_label("1", "C", author="ann", at=t.format(30))      # 30 s for the review, not 5
    store.add_label("2", "I", author="ann", at=t.format(40))      # 10 s
    store.add_sentiment("2", "positive", author="ann", at=t.format(44))  # after its label: no label time
    (ann,) = author_stats(store.label_history(), session_gap_s=600)
    assert ann.labels == 3 and ann.timed_labels == 2 and ann.median_seconds_per_label == 20.0
    assert ann.active_seconds == 44.0


def test_version_stats_counts_and_transitions(store, tmp_path):
    tax = Taxonomy.default()
    versions = tmp_path / "versions"
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(6)])
    store.add_labels([LabelRow(str(i), "CONTENT", "ann", "human") for i in range(4)])
    export_version(store, tax, versions)
    store.add_labels([LabelRow("0", "INTERFACE", "ann", "human"), LabelRow("1", "INTERFACE", "ann", "human"),
                      LabelRow("2", "SUBSCRIPTION", "ann", "human"), LabelRow("4", "CONTENT", "ann", "human")])
    export_version(store, tax, versions, remove=["OTHER"])
    store.skip("3", "spam")
    export_version(store, tax, versions)
    first, second, third = version_stats(list_versions(versions))
    assert (first.rows, first.added, first.relabel_rate) == (4, 4, None)
    assert (second.added, second.removed, second.relabeled) == (1, 0, 3)
    assert second.relabel_rate == 0.75 and second.transitions == {"CONTENT -> INTERFACE": 2,
                                                                   "CONTENT -> SUBSCRIPTION": 1}
    assert (third.removed, third.relabeled, third.relabel_rate) == (1, 0, 0.0)


# -- who made a diff's change ---------------------------------------------------------------------
def test_diff_rows_carry_the_author_and_time_of_the_change(store, tmp_path):
    tax = Taxonomy.default()
    versions = tmp_path / "versions"
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(4)])
    for i in range(4):
        store.add_label(str(i), "CONTENT", author="ann", at=f"2020-01-01T10:00:0{i}.000+00:00")
    a = export_version(store, tax, versions)
    store.add_label("0", "INTERFACE", author="bob", at="2020-01-02T09:00:00.000+00:00")
    store.add_label("1", "SUBSCRIPTION", author="bob", at="2020-01-02T09:01:00Z")  # Kili's form
    store.add_label("2", "INTERFACE", author="cy", at="2020-01-02T09:02:00.000+00:00")
    store.undo_last(author="cy")  # undone: not the change
    store.add_label("2", "INTERFACE", author="dee", at="2020-01-02T09:03:00.000+00:00")
    store.set_status(["3"], "REVIEWED", author="eve")
    b = export_version(store, tax, versions)
    diff = attribute_diff(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)), store, a, b)
    who = {c.external_id: (c.author, c.at) for c in diff.relabeled}
    assert who == {"0": ("bob", "2020-01-02T09:00:00.000+00:00"), "1": ("bob", "2020-01-02T09:01:00.000+00:00"),
                   "2": ("dee", "2020-01-02T09:03:00.000+00:00")}
    (status,) = diff.status_changed
    assert (status.external_id, status.before, status.after, status.author) == ("3", "LABELED", "REVIEWED", "eve")
    assert status.at == store.label_history("3")[-1].created_at
    row = diff.to_dict()["relabeled"][0]
    assert (row["author"], row["at"]) == ("bob", "2020-01-02T09:00:00.000+00:00")
    plain = diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)).to_dict()["relabeled"][0]
    assert "author" not in plain and "at" not in plain  # not enriched: the JSON is as before


def test_another_authors_history_only_label_never_made_a_diffs_change(store, tmp_path):
    tax = Taxonomy.default()
    versions = tmp_path / "versions"
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(2)])
    store.add_labels([LabelRow(str(i), "CONTENT", "ann", "human", at="2020-01-01T10:00:00.000+00:00")
                      for i in range(2)])
    a = export_version(store, tax, versions)
    store.add_label("0", "INTERFACE", author="bob", at="2020-01-02T09:00:00.000+00:00")
    store.set_status(["1"], "REVIEWED", author="cy", at="2020-01-02T09:00:00.000+00:00")
    later = "2020-01-02T09:30:00.000+00:00"  # a consensus pull: dee's labels, after, in the history only
    store.add_labels([LabelRow("0", "INTERFACE", "dee", "kili", current=False, at=later),
                      LabelRow("1", "SUBSCRIPTION", "dee", "kili", current=False, at=later)])
    assert [e.history_only for e in store.label_history("0")] == [False, False, True]
    b = export_version(store, tax, versions)
    diff = attribute_diff(diff_versions(a.name, read_rows(a.csv_path), b.name, read_rows(b.csv_path)), store, a, b)
    assert [(c.external_id, c.author) for c in diff.relabeled] == [("0", "bob")]
    assert [(c.external_id, c.author) for c in diff.status_changed] == [("1", "cy")]


def test_labels_given_many_at_once_count_but_not_in_the_labeling_speed(store):
    """A bulk label and a file of labels (label --from) take milliseconds a label: counted as
    labels, left out of the seconds per label and labels per hour (6,544 an hour before)."""
    from reviewtui.store import BULK_NOTE, FILE_NOTE

    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(30)])
    t = "2020-01-01T10:00:{:02d}.000+00:00"
    store.add_label("0", "C", author="ann", at=t.format(0))
    store.add_label("1", "C", author="ann", at=t.format(20))      # 20 s
    store.add_labels([LabelRow(str(i), "I", "ann", "human", at=t.format(21), note=f"{FILE_NOTE} l.csv")
                      for i in range(2, 16)])
    store.add_labels([LabelRow(str(i), "C", "ann", "human", at=t.format(22), note=f"{BULK_NOTE} of 14 reviews")
                      for i in range(16, 30)])
    store.add_label("0", "I", author="ann", at=t.format(50))      # 30 s after the last label by hand
    (ann,) = author_stats(store.label_history(), session_gap_s=600)
    assert ann.labels == 31 and ann.timed_labels == 2
    assert ann.median_seconds_per_label == 25.0 and math.isclose(ann.labels_per_hour, 2 / 50 * 3600)


def test_labels_given_milliseconds_apart_have_no_rate(store):
    """The demo's author labeled six reviews within a few milliseconds: 4,500,000 labels an hour."""
    store.add_assets([NewAsset(str(i), f"text {i}") for i in range(6)])
    for i in range(6):
        store.add_label(str(i), "C", author="demo", at=f"2020-01-01T10:00:00.{i:03d}+00:00")
    (demo,) = author_stats(store.label_history(), session_gap_s=600)
    assert demo.labels == 6 and demo.timed_labels == 5 and demo.labels_per_hour is None


def test_many_labels_take_one_shuffle_of_at_most_five_folds(monkeypatch):
    """Past MANY_LABELS labels the suspects fit folds x 1 models, not folds x repeats: the report
    says the folds and shuffles it used, and the planted wrong labels still come first."""
    from reviewtui.quality import suspects as sus
    from reviewtui.settings import QualitySettings

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 16)) * 3
    y = np.repeat([0, 1, 2], 60)
    X = (centers[y] + rng.normal(size=(180, 16))).astype(np.float32)
    labels = [f"c{k}" for k in y]
    for i in (0, 61, 122):  # three wrong labels
        labels[i] = f"c{(y[i] + 1) % 3}"
    ids = [f"r{i}" for i in range(180)]
    from reviewtui.modeling.quick import QuickModel

    fits = []

    original = QuickModel.fit
    monkeypatch.setattr(QuickModel, "fit", lambda self, *a, **k: (fits.append(1), original(self, *a, **k))[1])
    settings = QualitySettings(folds=10, repeats=3)
    report = sus.rank_suspects(ids, ids, labels, X, ["c0", "c1", "c2"], settings)
    assert (report.folds, report.repeats, len(fits)) == (10, 3, 30)
    fits.clear()
    monkeypatch.setattr(sus, "MANY_LABELS", 100)
    report = sus.rank_suspects(ids, ids, labels, X, ["c0", "c1", "c2"], settings)
    assert (report.folds, report.repeats, len(fits)) == (5, 1, 5)
    assert {s.external_id for s in report.top(3)} == {"r0", "r61", "r122"}


def test_the_suspects_sentence_says_when_too_few_labels_make_them_rough():
    """70 labels in 14 categories: half of them "probably wrong", nearly all the model's errors,
    with nothing saying so. Below 15 labels in the median category the sentence says it."""
    from types import SimpleNamespace

    from reviewtui.presentation import suspects_sentence

    def report(per_category: int, categories: int):
        items = [SimpleNamespace(label=f"C{c}", flagged=False) for c in range(categories) for _ in range(per_category)]
        return SimpleNamespace(suspects=items[:3], items=items, left_out=[], confirmed=0, folds=5, repeats=1)

    rough = suspects_sentence(report(5, 14))
    assert "With 5 labels in the median category the model that judges them has seen few examples" in rough
    assert "has seen few" not in suspects_sentence(report(40, 4))
