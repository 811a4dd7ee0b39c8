"""Clusters named by their distinctive words, what is new in a version, and a cluster made a category."""

from __future__ import annotations

import numpy as np
import pytest

from reviewtui.config import Config, Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.loop.discover import (MIN_GROWTH_CLUSTER, MIN_GROWTH_REVIEWS, Cluster, app_words, category_from_cluster,
                                     cluster, discover, distinctive_words, growth_caution, k_bounds,
                                     latest_version, new_in_version, select_labeled, select_low_confidence,
                                     StoreTexts)
from reviewtui.store import LabelRow, LocalStore, NewAsset

THEMES = {
    "billing": ["charged twice on my card", "refund for the double charge", "billing charged my card again",
                "card charged after cancelling, refund please"],
    "offline": ["offline mode loses my downloads", "downloads vanish in offline mode", "offline reading broken",
                "cannot open downloads offline"],
    "redesign": ["the redesign hides the menu", "new redesign is confusing", "redesign moved every button",
                 "bring back the layout from before the redesign"],
}


def corpus(per_theme: dict[str, int], seed: int = 0, version: str = "1.0"):
    """(ids, texts, embeddings, versions): each theme a tight direction in 32-d, texts from its phrases."""
    rng = np.random.default_rng(seed)
    dirs = {t: np.eye(32)[i * 5] for i, t in enumerate(THEMES)}
    ids, texts, X, versions = [], [], [], []
    for theme, n in per_theme.items():
        for j in range(n):
            ids.append(f"{version}-{theme}-{j}")
            texts.append(THEMES[theme][j % 4] + f" ({j})")
            X.append(dirs[theme] + rng.normal(scale=0.08, size=32))
            versions.append(f"{version}.{j % 3}")
    X = np.array(X, dtype=np.float32)
    return ids, texts, X / np.linalg.norm(X, axis=1, keepdims=True), versions


def test_discover_finds_the_themes_and_names_them():
    ids, texts, X, _ = corpus({"billing": 40, "offline": 30, "redesign": 20})
    d = discover(ids, texts, X, background=["the app is fine", "nice articles to read"], selection="other")
    assert [c.size for c in d.clusters] == [40, 30, 20] and d.unclustered == 0
    assert d.method in ("kmeans", "hdbscan") and d.reason
    words = [set(c.words) for c in d.clusters]
    assert {"charged", "card"} & words[0] and {"offline", "downloads"} & words[1] and "redesign" in words[2]
    assert all(i.startswith("1.0-billing") for i in d.clusters[0].external_ids)
    assert len(d.clusters[0].examples) == 3 and d.to_dict()["clusters"][0]["name"] == d.clusters[0].name


def test_a_clusters_examples_are_distinct_texts():
    """Copies of a review under several apps or countries are one example, not three."""
    ids, texts, X, _ = corpus({"billing": 40, "offline": 30, "redesign": 20})
    texts = [t.split(" (")[0] for t in texts]  # every phrase ten times over, as copies per country would be
    d = discover(ids, texts, X, background=["the app is fine"], selection="other")
    for c in d.clusters:
        shown = [t for _, t in c.examples]
        assert len(shown) == 3 and len(set(shown)) == 3


def test_kmeans_k_is_chosen_by_silhouette():
    ids, texts, X, _ = corpus({"billing": 30, "offline": 30, "redesign": 30})
    labels, method, reason, sil = cluster(X, method="kmeans")
    assert method == "kmeans" and "k = 3" in reason and sil > 0.5
    assert len(set(labels.tolist())) == 3
    with pytest.raises(ReviewtuiError, match="no reviews"):
        discover([], [], np.zeros((0, 32)))


TOPICS = ("billing", "offline", "redesign", "delivery", "privacy")


def families(per_topic: int = 50, seed: int = 0, noise: float = 0.12):
    """(texts, embeddings, topic of each row): five topics in two families (3 + 2). The topics of a
    family share a direction, as reviews share a language or a tone, so the silhouette is highest
    for the two families (0.61 against 0.50 for the five topics)."""
    rng = np.random.default_rng(seed)
    eye = np.eye(32)
    texts, X, topic = [], [], []
    for t in range(5):
        centre = eye[0 if t < 3 else 1] + 0.7 * eye[2 + t]
        for j in range(per_topic):
            texts.append(f"{TOPICS[t]} trouble again ({j})")
            X.append(centre + rng.normal(scale=noise, size=32))
            topic.append(t)
    X = np.array(X, dtype=np.float32)
    return texts, X / np.linalg.norm(X, axis=1, keepdims=True), np.array(topic)


def test_five_topics_in_two_families_give_five_clusters_not_two():
    texts, X, topic = families()
    ids = [str(i) for i in range(len(texts))]
    d = discover(ids, texts, X)
    assert len(d.clusters) == 5 and d.method == "kmeans" and "k = 5" in d.reason
    for c in d.clusters:  # each cluster one planted topic, whole
        members = {topic[int(i)] for i in c.external_ids}
        assert len(members) == 1 and c.size == 50 and c.words[0].split()[0] == TOPICS[members.pop()]


def test_clusters_and_min_size_steer_the_clustering():
    texts, X, topic = families()
    ids = [str(i) for i in range(len(texts))]
    three = discover(ids, texts, X, clusters=3)
    assert len(three.clusters) == 3 and "k = 3 as asked" in three.reason
    twelve = discover(ids, texts, X, clusters=12)
    assert len(twelve.clusters) == 12
    big = discover(ids, texts, X, min_cluster_size=100)  # clusters of 100: at most 250 // 100 = 2
    assert len(big.clusters) == 2 and min(c.size for c in big.clusters) >= 100
    assert k_bounds(250, 5) == (5, 15) and k_bounds(90, 5) == (2, 15) and k_bounds(3000, 30) == (6, 15)
    assert k_bounds(250, 100) == (2, 2)
    for bad, match in [(dict(clusters=1), "--clusters must be at least 2 and at most half the 250 reviews"),
                       (dict(clusters=126), "--clusters must be at least 2"),
                       (dict(min_cluster_size=1), "--min-size must be at least 2"),
                       (dict(min_cluster_size=126), "--min-size must be at least 2 and at most half"),
                       (dict(clusters=4, min_cluster_size=10), "not both")]:
        with pytest.raises(ReviewtuiError, match=match):
            discover(ids, texts, X, **bad)


def test_distinctive_words_prefer_what_is_rare_elsewhere():
    groups = [["the app crashes on start", "crashes again on start"], ["the app is great", "great app"]]
    w = distinctive_words(groups, ["the app", "app app app"])
    assert w[0][0] in ("crashes", "start", "crashes start") and "app" not in w[0][:2]
    assert distinctive_words([["the and of"]], []) == [[]]


def test_what_is_new_in_a_version_ranks_by_growth():
    old = corpus({"billing": 40, "offline": 40, "redesign": 2}, seed=1, version="4.9")
    new = corpus({"billing": 15, "offline": 15, "redesign": 30}, seed=2, version="4.10")
    older = corpus({"billing": 10, "offline": 10}, seed=3, version="4.1")
    ids, texts, versions = old[0] + new[0] + older[0], old[1] + new[1] + older[1], old[3] + new[3] + older[3]
    X = np.vstack([old[2], new[2], older[2]])
    assert latest_version(versions + ["", None]) == "4.10"  # 4.10 after 4.9
    d = new_in_version(ids, texts, X, versions, "4.10")
    top = d.clusters[0]
    assert "redesign" in top.words and top.share == pytest.approx(0.5) and top.growth > 0.4
    assert d.size == 60 and d.compared_with == 102 and all(i.startswith("4.10-") for i in top.external_ids)
    assert [c.growth for c in d.clusters] == sorted((c.growth for c in d.clusters), reverse=True)
    assert d.caution is None and d.to_dict()["caution"] is None  # enough reviews on both sides
    with pytest.raises(ReviewtuiError, match="no reviews of version 5.0"):
        new_in_version(ids, texts, X, versions, "5.0")
    with pytest.raises(ReviewtuiError, match="nothing to compare"):
        new_in_version(ids, texts, X, versions, "4.1")


def test_a_version_read_from_the_store_reads_only_the_sampled_texts(tmp_path):
    """What is new in a version, from the store: the ids and versions come without the texts
    (versions_of: the app's alone, skipped reviews left out), and only the sampled reviews' texts are
    read, in one read per group; the result is the one the same reviews give as lists."""
    old = corpus({"billing": 40, "offline": 40, "redesign": 2}, seed=1, version="4.9")
    new = corpus({"billing": 15, "offline": 15, "redesign": 30}, seed=2, version="4.10")
    ids, texts, versions = old[0] + new[0], old[1] + new[1], old[3] + new[3]
    X = np.vstack([old[2], new[2]])
    store = LocalStore(tmp_path / "s.db", create=True)
    store.add_assets([NewAsset(i, t, {"app": "reader", "app_version": v}) for i, t, v in zip(ids, texts, versions)]
                     + [NewAsset("other-app-1", "charged twice", {"app": "bank", "app_version": "4.10.0"}),
                        NewAsset("skipped-1", "a skipped review", {"app": "reader", "app_version": "4.10.0"})])
    store.skip("skipped-1", "not a review")
    refs = store.versions_of(app="reader")
    assert [e for e, _ in refs] == ids and [v for _, v in refs] == versions
    assert ("skipped-1", "4.10.0") in store.versions_of(app="reader", skipped=True)
    lazy = StoreTexts(store, ids)
    reads = []
    real = store.stored_texts
    store.stored_texts = lambda wanted: reads.append(len(list(wanted))) or real(wanted)
    assert len(lazy) == len(ids) and lazy.take([3, 0, 3]) == [texts[3], texts[0], texts[3]]
    reads.clear()
    by_id = dict(zip(ids, X))
    embed = lambda ts: np.array([by_id[ids[texts.index(t)]] for t in ts])  # noqa: E731
    from_store = new_in_version(ids, lazy, None, versions, "4.10", embed=embed, max_previous=50, max_current=40)
    from_lists = new_in_version(ids, texts, None, versions, "4.10", embed=embed, max_previous=50, max_current=40)
    assert [c.to_dict() for c in from_store.clusters] == [c.to_dict() for c in from_lists.clusters]
    assert sum(reads) == 50 + 40 + 40 + 50 and len(reads) == 3  # the sample for the embeddings, then each side
    store.close()


def test_growth_of_a_small_version_comes_with_a_caution():
    """12 reviews of 4.10 against 82 before: the growth figures rest on too few reviews, and the
    result says so (the version's count, the threshold, the clusters too small), in its JSON too."""
    old = corpus({"billing": 40, "offline": 40, "redesign": 2}, seed=1, version="4.9")
    new = corpus({"billing": 2, "offline": 2, "redesign": 8}, seed=2, version="4.10")
    ids, texts, versions = old[0] + new[0], old[1] + new[1], old[3] + new[3]
    d = new_in_version(ids, texts, np.vstack([old[2], new[2]]), versions, "4.10", method="kmeans")
    c = d.caution
    assert c is not None and (c.reviews, c.earlier, c.min_reviews) == (12, 82, MIN_GROWTH_REVIEWS)
    assert c.min_cluster == MIN_GROWTH_CLUSTER
    assert list(c.small_clusters) == [k.id + 1 for k in d.clusters if k.size < MIN_GROWTH_CLUSTER] != []
    assert d.to_dict()["caution"]["reviews"] == 12


def test_growth_caution_thresholds():
    big = Cluster(0, 40, ["a"], [], [])
    small = Cluster(1, MIN_GROWTH_CLUSTER - 1, ["b"], [], [])
    assert growth_caution(MIN_GROWTH_REVIEWS, MIN_GROWTH_REVIEWS, [big]) is None
    assert growth_caution(MIN_GROWTH_REVIEWS - 1, 500, [big]).reviews == MIN_GROWTH_REVIEWS - 1
    assert growth_caution(500, MIN_GROWTH_REVIEWS - 1, [big]).earlier == MIN_GROWTH_REVIEWS - 1
    assert growth_caution(500, 500, [big, small]).small_clusters == (2,)


def test_a_cluster_made_a_category_is_in_the_taxonomy_and_its_reviews_in_the_queue(tmp_path):
    ids, texts, X, _ = corpus({"billing": 12, "offline": 12, "redesign": 12})
    store = LocalStore(tmp_path / "s.db", create=True)
    store.add_assets([NewAsset(i, t) for i, t in zip(ids, texts)])
    store.add_assets([NewAsset(f"q{i}", f"queued before {i}") for i in range(3)])
    store.set_priorities({"q0": 3, "q1": 2, "q2": 1})
    store.add_labels([LabelRow(ids[24], "OTHER", "t", "human")])  # one redesign review already labeled
    cfg = Config(tmp_path / "reviewtui.toml", Config.default_data("t"))
    cfg.save()
    d = discover(ids, texts, X)
    redesign = next(c for c in d.clusters if "redesign" in c.words)
    unlabeled = [a.external_id for a in store.iter_assets(labeled=False, skipped=False)]
    top = max(a.priority for a in store.iter_assets())
    plan = category_from_cluster(cfg.taxonomy, redesign, unlabeled=unlabeled, top_priority=top)
    assert plan.category["key"] == "REDESIGN" and plan.category["name"] == "Redesign"
    assert plan.category["examples"] and "redesign" in plan.category["description"]
    assert plan.already_labeled == [ids[24]] and len(plan.priorities) == 11
    assert min(plan.priorities.values()) > top
    # what phase B's workspace does with the plan: save the taxonomy, write the priorities
    history_before = len(store.label_history())
    cfg.set_categories(plan.categories)
    store.set_priorities(plan.priorities)
    again = Config.load(tmp_path / "reviewtui.toml")
    assert "REDESIGN" in again.taxonomy.training_keys
    assert again.taxonomy.get("REDESIGN").examples == tuple(plan.category["examples"])
    queue = [a.external_id for a in store.queue(11)]
    assert set(queue) == set(plan.priorities) and queue[0] == redesign.external_ids[0]
    assert len(store.label_history()) == history_before  # nothing was labeled
    with pytest.raises(ReviewtuiError, match="already has a category 'REDESIGN'"):
        category_from_cluster(again.taxonomy, redesign, unlabeled=unlabeled)
    with pytest.raises(ReviewtuiError, match="UPPER_SNAKE_CASE"):
        category_from_cluster(cfg.taxonomy, redesign, unlabeled=[], name="New one", key="9bad")
    named = category_from_cluster(Taxonomy.default(), redesign, unlabeled=[], name="Layout change")
    assert named.category["key"] == "LAYOUT_CHANGE" and named.priorities == {}
    store.close()


def test_selections(tmp_path):
    store = LocalStore(tmp_path / "s.db", create=True)
    store.add_assets([NewAsset(f"a{i}", f"text {i}") for i in range(5)])
    store.add_labels([LabelRow("a1", "OTHER", "t", "human"), LabelRow("a2", "CONTENT", "t", "human")])
    assert select_labeled(store, ["OTHER", "MULTI_LABEL"]) == (["a1"], ["text 1"])
    preds = {"a0": ("CONTENT", 0.3), "a3": ("INTERFACE", 0.45), "a4": ("CONTENT", 0.9)}
    assert select_low_confidence(preds, 0.5) == ["a0", "a3"]
    store.close()
    assert Cluster(0, 1, [], ["x"], []).name == "cluster 1"


def test_a_clusters_examples_are_its_most_typical_reviews_not_the_vague_ones_at_its_centre():
    """Three vague reviews in each of two clusters sit nearer its centre than its two topical
    ones (they lean to what every review shares): the examples, and the order the cluster's
    reviews are queued in, start with the topical ones."""
    import numpy as np

    from reviewtui.loop.discover import _clusters_from_labels

    def unit(v):
        v = np.asarray(v, dtype=float)
        return v / np.linalg.norm(v)

    X = np.array([unit([1, 0, 0.05]), unit([1, 0, 0.1])] + [unit([0.5, 0, 0.87])] * 3
                 + [unit([0, 1, 0.05]), unit([0, 1, 0.1])] + [unit([0, 0.5, 0.87])] * 3)
    ids = [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]
    texts = ["refund never arrived", "refund still missing", "ok", "fine i guess", "just started using it",
             "app crashes on start", "crashes when paying", "nice", "good app", "works"]
    labels = np.array([0] * 5 + [1] * 5)
    centre = X[:5].mean(axis=0)
    assert (X[2:5] @ centre).min() > (X[:2] @ centre).max()  # the vague ones are nearest the centre
    a, b = _clusters_from_labels(labels, ids, texts, X, [], 2)
    assert [t for _, t in a.examples] == ["refund never arrived", "refund still missing"]
    assert a.external_ids[:2] == ["a0", "a1"] and b.external_ids[:2] == ["b0", "b1"]


def test_a_small_cluster_whose_reviews_share_no_word_is_still_named():
    from reviewtui.loop.discover import distinctive_words

    words = distinctive_words([["worst way to get robbed", "stealing your information", "it is very bad"],
                               ["great app love it", "great design love the app", "love it great"]], [])
    assert words[0] and set(words[0]) <= {"worst", "way", "robbed", "stealing", "information", "bad", "worst way",
                                          "way robbed", "stealing information", "robbed stealing"}
    assert "great" in words[1] or "love" in words[1]


def test_a_clusters_name_leaves_out_the_apps_name_and_the_words_of_every_review():
    """The app's own name and "app"/"good" (in most reviews of the corpus) would top the crash
    cluster's name; it is named by what sets it apart."""
    crashes = [f"acme app is good but acme crashes at login {i}" for i in range(12)]
    refunds = [f"good app, acme never sent my refund {i}" for i in range(12)]
    background = ([f"good app {w}" for w in ("overall", "mostly", "really", "so far")] * 10
                  + ["acme is ok", "nice design", "fast transfers", "helpful support"] * 5)
    before = distinctive_words([crashes, refunds], background, common_share=1.0)  # nothing common
    assert {"acme", "app", "good"} & set(before[0][:3])
    named = distinctive_words([crashes, refunds], background, leave_out=app_words(["com.acme.wallet"]))
    assert named[0][0] in ("crashes", "login", "crashes login") and named[1][0] in ("refund", "sent", "sent refund")
    assert not {"acme", "app", "good", "acme app", "good app"} & {w for ws in named for w in ws}


def test_a_function_word_frequent_in_every_topic_is_left_out_in_any_language():
    """Hinglish reviews: "hai" and "nahi" are in most reviews of every topic, so they say nothing
    of the refund cluster; no stop list of the language is needed."""
    refund = [f"refund nahi aaya hai, paisa atka hai {i}" for i in range(15)]
    login = [f"login nahi hota hai, otp nahi aata hai {i}" for i in range(15)]
    background = [f"{w} hai, sab theek nahi hai" for w in ("accha", "bekar", "sahi", "mast", "slow")] * 20
    words = distinctive_words([refund, login], background)
    assert not {"hai", "nahi"} & {w for ws in words for w in ws}
    assert words[0] and set(words[0]) <= {"refund", "paisa", "atka", "aaya", "refund aaya", "paisa atka"}
    assert words[1] and set(words[1]) <= {"login", "otp", "hota", "aata", "login hota", "otp aata"}
    # a cluster of nothing but common words is named by them (short praise is a theme of its own)
    assert distinctive_words([["accha hai"] * 5], background)[0]


def test_the_apps_names_come_from_their_ids_and_the_pieces_their_reviewers_use():
    assert {"epifi", "paisa", "greenlight", "junio"} <= app_words(["com.epifi.paisa", "me.greenlight", "in.junio"])
    texts = {"com.epifi.paisa": ["fi is my bank", "love fi", "good bank", "epic app"] * 5,
             "me.greenlight": ["kids love it", "green light card for my son", "good"] * 5}
    words = app_words(list(texts), texts)
    assert {"fi", "green", "light"} <= words and not {"epi", "good", "kids", "bank"} & words
