"""Full-text search kept in sync by the store's own writes, filters over the queue, bulk labels."""

from __future__ import annotations

import re
import sqlite3

import pytest

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.loop.search import QueueFilter, bulk_label, find, fts_query, parse_filters, plain_words
from reviewtui.store import SCHEMA_VERSION, AssetQuery, LabelRow, LocalStore, NewAsset
from tests.conftest import schema_before_5

TAX = Taxonomy.default()

ROWS = [
    ("p1", "the paywall is everywhere, can't read anything", {"score": 1, "app_version": "4.5.1", "at": "2025-03-01 09:00:00", "app": "inkwell"}),
    ("p2", "paid membership but the paywall still shows", {"score": 2, "app_version": "4.5", "at": "2025-03-02 09:00:00", "app": "inkwell"}),
    ("c1", "great articles about science and history", {"score": 5, "app_version": "4.4.2", "at": "2025-02-10 09:00:00", "app": "inkwell"}),
    ("i1", "the app crashes on sign-in since the update", {"score": 1, "app_version": "4.50.1", "at": "2025-03-03 23:59:59", "app": "other"}),
    ("i2", "dark mode is broken and crashing", {"score": 2, "app_version": "4.10.0", "at": "2025-03-04T08:00:00Z", "app": "inkwell"}),
    ("u1", "love it, smooth and easy", {"score": 5, "at": "2025-01-20 09:00:00"}),
]


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "store.db", create=True)
    s.add_assets([NewAsset(i, t, m) for i, t, m in ROWS])
    yield s
    s.close()


def ids(store, **kw) -> list[str]:
    return store.find_ids(AssetQuery(**kw))


def test_fts_stays_in_sync_after_import_relabel_and_undo(store):
    assert sorted(ids(store, match="paywall")) == ["p1", "p2"]
    # import more (one call and the several-files call): the new texts are searchable at once
    store.add_assets([NewAsset("p3", "another paywall rant", {"score": 1})])
    store.import_batches([([NewAsset("p4", "paywall again and again", {})], "f.csv", "x", 1)])
    store.add_assets([NewAsset("p1", "a re-import of an existing id is ignored, paywall or not", {})])
    assert sorted(ids(store, match="paywall")) == ["p1", "p2", "p3", "p4"]
    assert ids(store, match="ignored") == []
    # relabel: the label filter follows, the text index is untouched
    store.add_label("p1", "SUBSCRIPTION")
    store.add_label("p1", "INTERFACE")
    assert ids(store, match="paywall", labels=("INTERFACE",)) == ["p1"]
    assert ids(store, match="paywall", labels=("SUBSCRIPTION",)) == []
    assert sorted(ids(store, match="paywall", statuses=("TODO",))) == ["p2", "p3", "p4"]
    # undo twice: back to SUBSCRIPTION, then unlabeled and in the queue again
    store.undo_last()
    assert ids(store, match="paywall", labels=("SUBSCRIPTION",)) == ["p1"]
    store.undo_last()
    assert sorted(ids(store, match="paywall", statuses=("TODO",), labeled=False)) == ["p1", "p2", "p3", "p4"]
    # the index agrees with the table row for row (FTS5's own consistency check)
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO assets_fts(assets_fts) VALUES ('integrity-check')")
        assert db.execute("SELECT COUNT(*) FROM assets_fts").fetchone()[0] == store.count()
        # a text changed or a row deleted (by hand here): the triggers keep the index right
        db.execute("UPDATE assets SET text = 'now about fonts' WHERE external_id = 'p4'")
        db.execute("DELETE FROM assets WHERE external_id = 'p3'")
        db.execute("INSERT INTO assets_fts(assets_fts) VALUES ('integrity-check')")
        assert db.execute("SELECT COUNT(*) FROM assets_fts WHERE assets_fts MATCH 'paywall'").fetchone()[0] == 2
    assert sorted(ids(store, match="paywall")) == ["p1", "p2"]
    assert ids(store, match="fonts") == ["p4"]


def test_an_old_store_gets_its_index_when_opened(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # a store as version 1 wrote it: no FTS table, no metadata indexes
        db.executescript(schema_before_5())
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO assets (external_id, text, text_hash, metadata, created_at, updated_at) VALUES "
                   "('o1', 'old review about the paywall', 'h', '{\"score\": 2}', 'now', 'now')")
    s = LocalStore(path)
    assert s.find_ids(AssetQuery(match="paywall")) == ["o1"]
    assert s.get_meta("schema_version") == str(SCHEMA_VERSION)
    s.add_assets([NewAsset("o2", "new paywall review")])
    assert sorted(s.find_ids(AssetQuery(match="paywall", stars=(2,)))) == ["o1"]
    s.close()
    assert LocalStore(path).find_ids(AssetQuery(match="paywall")) == ["o1", "o2"]  # migrated once


def test_user_input_never_breaks_the_query(store):
    for q in ['can\'t', '"unbalanced', 'sign-in', 'a" OR "b', "((", "NOT", "*", "-", "x:y", "AND OR", "é'\"`;--"]:
        found = find(store, QueueFilter(search=q, queue_only=False, statuses=()))
        assert isinstance(found.ids, list)
    assert find(store, QueueFilter(search="can't")).ids == ["p1"]
    assert find(store, QueueFilter(search="sign-in")).ids == ["i1"]
    assert sorted(find(store, QueueFilter(search="crash*")).ids) == ["i1", "i2"]  # FTS5 syntax still works
    # plain words find the words they begin (no stemmer: "crash" is in neither review as such)
    assert sorted(find(store, QueueFilter(search="crash")).ids) == ["i1", "i2"]
    assert find(store, QueueFilter(search="crash dark")).ids == ["i2"]  # every word must appear
    assert find(store, QueueFilter(search='"crash"')).ids == []  # quoted: the exact word
    # an unbalanced quote is plain words, found by the words they begin as plain words are
    assert sorted(find(store, QueueFilter(search='"crash')).ids) == ["i1", "i2"]
    assert fts_query("crash Dark") == '"crash"* AND "Dark"*' and fts_query("dark OR crash") == "dark OR crash"
    assert find(store, QueueFilter(search="paywall NOT membership")).ids == ["p1"]
    # an operator without a word on each side is refused: as plain words "NOT paywall" would find paywall
    for text in ("NOT paywall", "paywall NOT", "paywall OR"):
        with pytest.raises(ReviewtuiError, match=r"needs a word on each side .*lower case"):
            find(store, QueueFilter(search=text))
        with pytest.raises(ReviewtuiError, match=r"needs a word on each side"):
            parse_filters([], TAX, search=text)
    assert fts_query("not paywall") == '"not"* AND "paywall"*'  # in lower case, the word itself
    assert fts_query("   ") is None and plain_words('say "hi"') == '"say"* AND """hi"""'
    # a prefix only after a letter or digit: "c++"* would find every word starting with c
    assert plain_words("c++ sdk") == '"c++" AND "sdk"*'
    with pytest.raises(ReviewtuiError, match="not a valid query"):
        store.find_ids(AssetQuery(match='"unbalanced'))  # the store itself refuses raw bad syntax cleanly


def test_filters_compose_with_search_and_keep_queue_order(store):
    store.set_priorities({"p2": 5, "i1": 3})
    assert ids(store)[:2] == ["p2", "i1"]  # queue order: priority, then insertion
    assert ids(store, stars=(1, 2)) == ["p2", "i1", "p1", "i2"]
    assert ids(store, versions=("4.5",)) == ["p2", "p1"]  # 4.5 and 4.5.1, not 4.50.1
    assert ids(store, versions=("4.10",)) == ["i2"]
    assert ids(store, apps=("other",)) == ["i1"]
    assert ids(store, date_from="2025-03-03", date_to="2025-03-04") == ["i1", "i2"]  # both days inclusive
    assert ids(store, date_to="2025-02-28") == ["c1", "u1"]
    assert ids(store, match="crash*", stars=(2,)) == ["i2"]
    assert ids(store, match="paywall", versions=("4.5",), stars=(1,)) == ["p1"]
    # an app the store does not have: said, with the apps it has (a known app that keeps nothing is not)
    with pytest.raises(ReviewtuiError, match=r"filter app=nosuch: no review of that app; the apps are: inkwell, other"):
        find(store, parse_filters(["app=nosuch"], TAX))
    assert find(store, parse_filters(["app=other", "stars=5"], TAX)).total == 0
    # one misspelt app of a list is refused too: it would quietly narrow a bulk label to the others
    with pytest.raises(ReviewtuiError, match=r"filter app=nosuch: no review of that app; the apps are: inkwell, other"):
        find(store, parse_filters(["app=other,nosuch"], TAX))


def test_the_app_filter_matches_app_ids_in_any_case(store):
    """`summary --app` takes an app id in any case; the queue's app= filter does too."""
    assert find(store, parse_filters(["app=OTHER"], TAX)).ids == ["i1"]
    assert set(find(store, parse_filters(["app=Inkwell,other", "stars=1"], TAX)).ids) == {"p1", "i1"}
    with pytest.raises(ReviewtuiError, match=r"filter app=NoSuch: no review of that app; the apps are: inkwell, other"):
        find(store, parse_filters(["app=NoSuch"], TAX))


def test_parse_filters_and_their_errors():
    f = parse_filters(["stars=1-2", "version=v4.5", "date=2025-03-01..2025-03-31", "predicted=Interface",
                       "confidence=<0.6", "app=inkwell,other"], TAX, search="paywall")
    assert f.stars == (1, 2) and f.versions == ("4.5",) and f.date_from == "2025-03-01"
    assert f.predicted == ("INTERFACE",) and f.confidence == (0.0, 0.6) and f.apps == ("inkwell", "other")
    assert f.queue_only and f.statuses == ("TODO", "ONGOING")
    assert "search 'paywall'" in f.describe() and "stars 1,2" in f.describe()
    assert parse_filters(["status=all"], TAX).statuses == () and parse_filters([], TAX).describe() == "the whole queue"
    assert parse_filters(["stars=1,5"], TAX).stars == (1, 5)
    assert parse_filters(["confidence=0.2-0.7"], TAX).confidence == (0.2, 0.7)
    assert not parse_filters(["status=LABELED"], TAX).queue_only
    # several filters quoted as one argument (as the app's filter box takes them) are several; an app
    # name with spaces is one value
    both = parse_filters(["predicted=Interface  Confidence=<0.6"], TAX)
    assert both.predicted == ("INTERFACE",) and both.confidence == (0.0, 0.6)
    assert parse_filters(["app=Quick Bite iOS stars=1"], TAX, apps=["Quick Bite iOS"]).apps == ("Quick Bite iOS",)
    for bad, msg in [(["stars=0"], "1 to 5"), (["stars=x"], "1-5"), (["colour=red"], "unknown filter 'colour'"),
                     (["date=03/01/2025"], "YYYY-MM-DD"), (["date=2023-13-01"], "no such date"),
                     (["from=2023-02-30"], "no such date"), (["status=DONE"], "unknown DONE"),
                     (["predicted=nope"], "unknown label 'nope'"), (["confidence=2"], "range"),
                     (["from=2025-03-02", "to=2025-03-01"], "after"), (["stars"], "KEY=VALUE"),
                     # a key given twice would replace the earlier value without a word
                     (["stars=1", "stars=5"], r"stars= is given twice .*\(stars=1,5\)"),
                     (["app=a", "App=b"], "app= is given twice"),
                     (["date=2025-03-01..2025-03-31", "from=2025-03-05"], "both set the dates")]:
        with pytest.raises(ReviewtuiError, match=msg):
            parse_filters(bad, TAX)


def test_predicted_category_and_confidence_filters(store):
    f = parse_filters(["predicted=SUBSCRIPTION"], TAX)
    with pytest.raises(ReviewtuiError, match="need predictions"):
        find(store, f)
    preds = {"p1": ("SUBSCRIPTION", 0.9), "p2": ("SUBSCRIPTION", 0.4), "i1": ("INTERFACE", 0.55),
             "c1": ("CONTENT", 0.8), "gone": ("CONTENT", 0.1)}
    assert store.set_predictions(preds, model="quick") == 4  # an id not in the store is ignored
    assert store.predictions(["p1", "u1"]) == {"p1": ("SUBSCRIPTION", pytest.approx(0.9))}
    assert find(store, f).ids == ["p1", "p2"]
    assert find(store, parse_filters(["confidence=<0.6"], TAX)).ids == ["p2", "i1"]  # i2, u1: no prediction
    both = parse_filters(["predicted=SUBSCRIPTION,INTERFACE", "confidence=0.5-1"], TAX, search="crashes OR paywall")
    assert find(store, both).ids == ["p1", "i1"]
    store.set_predictions({"u1": ("USER_EXPERIENCE", 0.99)})  # a refit replaces them all
    assert find(store, f).ids == [] and store.prediction_count() == 1
    store.set_predictions({"p1": ("CONTENT", 0.3)}, replace=False)  # or those of its ids only
    assert store.predictions() == {"u1": ("USER_EXPERIENCE", 0.99), "p1": ("CONTENT", 0.3)}
    store.set_predictions({"p1": ("CONTENT", 0.6)}, replace=False)
    assert store.predictions()["p1"] == ("CONTENT", 0.6) and store.prediction_count() == 2
    assert store.get_meta("predictions_model").startswith("@")
    assert find(store, QueueFilter(), limit=2).total == 6 and len(find(store, QueueFilter(), limit=2).ids) == 2


def test_every_filter_uses_an_index(store):
    store.set_predictions({"p1": ("CONTENT", 0.3)})
    store.add_assets([NewAsset(f"x{i}", f"filler review {i}", {"score": 1 + i % 5, "app_version": f"4.{i % 7}.0",
                                                                "at": f"2025-0{1 + i % 9}-01 10:00:00", "app": "a"})
                      for i in range(300)])
    with sqlite3.connect(store.path) as db:
        db.execute("ANALYZE")
    queries = [AssetQuery(match="paywall"), AssetQuery(stars=(1,)), AssetQuery(versions=("4.5",)),
               AssetQuery(apps=("other",)), AssetQuery(date_from="2025-03-01", date_to="2025-03-02"),
               AssetQuery(statuses=("LABELED",)),
               AssetQuery(match="paywall", stars=(1,), statuses=("TODO",)),
               AssetQuery(predicted=("CONTENT",), statuses=("TODO", "ONGOING"), skipped=False, labeled=False),
               AssetQuery(confidence=(0.0, 0.5))]
    for q in queries:
        plan = store.explain(q)
        assert any("USING" in step or "VIRTUAL TABLE" in step for step in plan), (q, plan)
        assert not any(re.match(r"SCAN a\b", step) for step in plan), (q, plan)  # no full scan of assets
    # the whole queue is most of the store: one pass over the table is the right plan there
    assert store.explain(AssetQuery(statuses=("TODO", "ONGOING"), skipped=False, labeled=False))[0] == "SCAN a"


def test_bulk_label_writes_one_event_each_in_one_transaction(store):
    found = find(store, QueueFilter(search="paywall"))
    assert found.total == 2
    with pytest.raises(ReviewtuiError, match="has 2 reviews now, not the 3"):
        bulk_label(store, TAX, found.ids, "Subscription", expected=3)
    assert store.label_history() == []  # nothing written
    done = bulk_label(store, TAX, found.ids, "Subscription", expected=2, author="ann")
    assert done.category == "SUBSCRIPTION" and done.recorded == 2 and done.unchanged == 0
    history = store.label_history()
    assert [(e.external_id, e.category, e.author) for e in history] == [("p1", "SUBSCRIPTION", "ann"),
                                                                       ("p2", "SUBSCRIPTION", "ann")]
    assert find(store, QueueFilter(search="paywall")).ids == []  # out of the queue
    assert bulk_label(store, TAX, found.ids, "SUBSCRIPTION", expected=2, author="ann").unchanged == 2
    store.undo_last(author="ann")  # undo goes one asset at a time
    assert find(store, QueueFilter(search="paywall")).ids == ["p2"]
    with pytest.raises(ReviewtuiError, match="unknown label"):
        bulk_label(store, TAX, ["p1"], "nope", expected=1)
    with pytest.raises(ReviewtuiError, match="matches no review"):
        bulk_label(store, TAX, [], "OTHER", expected=0)
    with pytest.raises(ReviewtuiError, match="no asset"):
        bulk_label(store, TAX, ["p1", "missing"], "OTHER", expected=2)
    assert store.get("p1").label == "SUBSCRIPTION"  # the failed bulk label wrote nothing


def test_an_app_whose_name_holds_a_comma_is_read_whole_where_the_workspace_has_it(tmp_path):
    """app=Acme Bank, Inc. split into "Acme Bank" and "Inc.", neither an app: no filter by such an
    app was possible. A run of parts that is one app of the workspace is read whole."""
    from reviewtui.loop.search import app_names

    known = ["Acme Bank, Inc.", "com.example.app", "Foo, Bar, Baz"]
    assert app_names("Acme Bank, Inc.", known) == ("Acme Bank, Inc.",)
    assert app_names("acme bank, inc.,com.example.app", known) == ("acme bank, inc.", "com.example.app")
    assert app_names("com.example.app, Foo, Bar, Baz", known) == ("com.example.app", "Foo, Bar, Baz")
    assert app_names("a,b", known) == ("a", "b") and app_names("a, b", None) == ("a", "b")
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    ws.store.add_assets([NewAsset("a1", "card declined", {"app": "Acme Bank, Inc."}),
                         NewAsset("b1", "fees too high", {"app": "Other"})])
    assert ws.find(["app=Acme Bank, Inc."]).ids == ["a1"]
    assert sorted(ws.find(["app=Other,Acme Bank, Inc."]).ids) == ["a1", "b1"]
    ws.close()


def test_a_version_filter_with_no_app_says_which_apps_it_mixes(tmp_path):
    """version=2.0 kept CRED's 2.0.8 and Junio's 2.0.1 together without a word: the found set's
    description names the apps and their counts; with one app (or app=) it says nothing more."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    ws.store.add_assets([NewAsset("c1", "card declined", {"app": "com.cred", "app_version": "2.0.8"}),
                         NewAsset("c2", "fees", {"app": "com.cred", "app_version": "2.0.8"}),
                         NewAsset("j1", "slow", {"app": "in.junio", "app_version": "2.0.1"}),
                         NewAsset("j2", "crash", {"app": "in.junio", "app_version": "3.1"})])
    found = ws.find(["version=2.0"])
    assert sorted(found.ids) == ["c1", "c2", "j1"]
    assert found.describe() == "version 2.0 (of 2 apps: com.cred 2, in.junio 1; app= narrows to one)"
    assert ws.find(["version=2.0", "app=in.junio"]).describe() == "app in.junio; version 2.0"
    assert ws.find(["version=3.1"]).describe() == "version 3.1"
    ws.close()
