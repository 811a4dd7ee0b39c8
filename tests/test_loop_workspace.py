"""The labeling loop wired into the workspace: zero-shot suggestions and first batch, the stop
signal recorded after every refit, stored predictions, search and filters, bulk labels, discover
and a cluster made a category. Real MiniLM embeddings and a real SQLite store, on small data."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tui_data import build_workspace, oracle

from reviewtui.demo import DEMO_CATEGORIES
from reviewtui.errors import ReviewtuiError

ROOT = Path(__file__).resolve().parents[1]


def described_ws(root: Path):
    """The app fixture's 40 reviews with the preset taxonomy (descriptions and examples) and no
    label; MiniLM at 64 tokens."""
    ws = build_workspace(root, versions=False)
    ws.config.set_categories([dict(c) for c in DEMO_CATEGORIES])
    ws.config.update_section("model", {"max_length": 64})
    ws.config.update_section("active_learning", {"batch_size": 8, "stop_sample": 20})
    return ws


@pytest.fixture
def ws(tmp_path):
    w = described_ws(tmp_path / "ws")
    yield w
    w.close()


def label(ws, ids) -> None:
    truth = oracle()
    for e in ids:
        ws.label(e, truth[e])


def test_the_demo_taxonomy_is_the_medium_preset():
    with open(ROOT / "reviewtui" / "presets" / "medium.toml", "rb") as fh:
        preset = tomllib.load(fh)["categories"]
    assert [dict(c) for c in DEMO_CATEGORIES] == preset


def test_zero_shot_suggestions_and_first_batch_with_no_label(ws):
    truth = oracle()
    ready = ws.prepare_suggestions()
    assert ready.source == "zero-shot" and ready.labels == 0
    ids = [f"r{i:02d}" for i in range(16)]
    sugg = ws.suggestions(ids)
    assert sugg.source == "zero-shot" and sugg.prior_weight == 1.0 and set(sugg) == set(ids)
    right = sum(sugg[e][0] == truth[e] for e in ids)
    assert right >= 10, {e: (sugg[e][0], truth[e]) for e in ids}  # the descriptions say enough
    batch = ws.queue_batch("margin", 8)
    assert batch.cold_start and batch.first == "zero-shot" and len(batch.items) == 8
    # spread over the predicted categories: every one of the four is in the first four
    assert {it.suggestion for it in batch.items[:4]} == set(ws.taxonomy.training_keys)
    assert [a.external_id for a in ws.queue(8)] == batch.external_ids
    assert ws.stop_summary().rounds == 0  # no model yet: no round
    assert ws.queue_ranked_by() == "zero-shot first batch"  # what the labeling screen names it
    ws.queue_batch("margin", 4, apply=False)
    assert ws.queue_ranked_by() == "zero-shot first batch"  # a batch not applied ranks nothing


def test_the_cli_queue_shows_zero_shot_suggestions_as_best_matches_not_probabilities(ws, capsys):
    """Before any label the suggestions' sharpened scores overstate them (0.99 for a best match
    right about half the time on another domain): `queue` leaves conf. out and says why, as the
    app's "best match" does; --json gives the scores under their own name."""
    from reviewtui.cli import main

    assert main(["-w", str(ws.root), "queue", "--dry-run", "--size", "4"]) == 0
    out = capsys.readouterr().out
    assert "zero-shot best matches" in out and "not probabilities (conf. -)" in out
    rows = [line for line in out.splitlines() if line.startswith("│ ") and line.split("│")[1].strip().isdigit()]
    assert rows and all(line.split("│")[4].strip() == "-" for line in rows)
    assert main(["-w", str(ws.root), "queue", "--dry-run", "--size", "4", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["suggested_by"] == "zero-shot"
    assert all(isinstance(it["zero_shot_score"], float) and it["confidence"] is None for it in got["items"])
    # a random draw before any label: the same zero-shot suggestions, said so (it said "model", with none)
    assert main(["-w", str(ws.root), "queue", "--dry-run", "--size", "4", "--strategy", "random", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["suggested_by"] == "zero-shot" and all(it["suggestion"] for it in got["items"])
    assert all(isinstance(it["zero_shot_score"], float) and it["confidence"] is None for it in got["items"])


def test_without_descriptions_the_names_suggest_until_the_first_model(tmp_path):
    """A taxonomy of names only (`init --categories`): zero-shot from the names chooses the first
    batch and makes the first suggestions, then steps aside once a model exists."""
    ws = build_workspace(tmp_path / "plain", versions=False)
    ws.config.update_section("model", {"max_length": 64})
    assert not any(c.description or c.examples for c in ws.taxonomy)
    ready = ws.prepare_suggestions()
    assert ready.source == "zero-shot" and ready.from_names and ready.prior_weight == 1.0
    sugg = ws.suggestions(["r00", "r01"])
    assert sugg.source == "zero-shot" and set(sugg) == {"r00", "r01"}
    batch = ws.queue_batch("margin", 4, apply=False)
    assert batch.cold_start and batch.first == "zero-shot (category names)" and len(batch.items) == 4
    label(ws, [f"r{i:02d}" for i in range(12)])
    ready = ws.prepare_suggestions()
    assert ready.source == "model" and ready.labels == 12 and ready.prior_weight == 0.0
    prior = ws._loop_prior()
    quick = ws.suggestions([f"r{i:02d}" for i in range(20, 30)])
    assert prior.names_only and all(0.0 <= p <= 1.0 for _, p in quick.values())
    ws.close()


def test_with_the_prior_off_the_queue_starts_by_coverage(tmp_path):
    ws = build_workspace(tmp_path / "plain", versions=False)
    ws.config.update_section("model", {"max_length": 64})
    ws.config.update_section("active_learning", {"prior_labels": 0})
    assert ws.prepare_suggestions().source == ""
    assert ws.suggestions(["r00"]) == {}
    batch = ws.queue_batch("margin", 4, apply=False)
    assert batch.cold_start and batch.first == "" and len(batch.items) == 4
    ws.close()


def test_a_refit_after_a_predict_of_every_review_replaces_only_its_candidates_predictions(ws):
    """`predict` stored every review's prediction (the fine-tune's); a quick-model refit scores
    the labeling candidates only (at most [active_learning] candidates): those rows become its,
    the others stay, so the filters by prediction still reach every review."""
    label(ws, [f"r{i:02d}" for i in range(12)])
    every = {a.external_id: ("CONTENT", 0.42) for a in ws.store.iter_assets()}
    ws.store.set_predictions(every, model="finetune-v1")
    ws.config.update_section("active_learning", {"candidates": 10})
    ws.prepare_suggestions()
    assert ws.record_refit() is not None
    stored = ws.store.predictions()
    assert len(stored) == len(every)  # nothing dropped
    changed = [e for e, p in stored.items() if p != ("CONTENT", 0.42)]
    assert 0 < len(changed) <= 10 and ws.store.predictions_model() == "quick+finetune-v1"
    label(ws, [f"r{i:02d}" for i in range(12, 24)])
    ws.queue_batch("margin", 4)
    assert len(ws.store.predictions()) == len(every) and ws.store.predictions_model() == "quick+finetune-v1"


def test_every_refit_records_a_round_and_stores_predictions(ws):
    label(ws, [f"r{i:02d}" for i in range(12)])
    ready = ws.prepare_suggestions()  # what the labeling screen does when it opens
    assert ready.source == "model" and ready.labels == 12
    assert 0 < ready.prior_weight < 1  # 12 labels: the prior still counts (20 / 32)
    rec = ws.record_refit()
    assert rec is not None and rec.round == 1 and rec.labels == 12
    assert ws.record_refit() is None  # nothing new since
    assert ws.store.prediction_count() == 28  # every review still to label
    label(ws, [f"r{i:02d}" for i in range(12, 16)])
    ws.queue_batch("margin", 4)  # four labels more: a refit, not a round of the stop signal
    assert ws.stop_summary().rounds == 1
    assert ws.store.prediction_count() == 24  # but the stored predictions are the new model's
    label(ws, [f"r{i:02d}" for i in range(16, 24)])
    batch = ws.queue_batch("margin", 4)  # a re-rank is a refit too; twelve labels more: a round
    assert not batch.cold_start and batch.first == ""
    summary = ws.stop_summary()
    assert summary.rounds == 2 and summary.kappa is not None and len(summary.sparkline) == 2
    assert summary.macro_f1 is not None
    assert ws.store.prediction_count() == 16
    curves = ws.learning_curves()
    assert set(curves) == set(ws.taxonomy.training_keys) and [n for n, _ in curves["CONTENT"]] == [12, 24]
    needs = ws.category_needs()
    assert [n.key for n in needs] == ws.taxonomy.training_keys and sum(n.weakest for n in needs) == 1
    assert all(n.labels == 6 for n in needs)
    status = ws.status().to_dict()
    assert status["stop"]["rounds"] == 2 and len(status["stop"]["categories"]) == 4
    # the same labels again: no new round
    ws.queue_batch("margin", 4)
    assert ws.stop_summary().rounds == 2
    # labels given after the round count at once (the F1 stays the round's until the next round)
    label(ws, [f"r{i:02d}" for i in range(24, 28)])
    after = ws.category_needs()
    assert sum(n.labels for n in after) == 28 and [n.f1 for n in after] == [n.f1 for n in needs]
    # the predicted and confidence filters read the stored predictions
    found = ws.find(["predicted=Interface", "confidence=0-1"])
    assert found.total > 0 and all(ws.store.predictions([e])[e][0] == "INTERFACE" for e in found.ids)


def test_the_weakest_strategy_steers_to_the_weakest_category(ws):
    truth = oracle()
    # Content gets two labels, the others five: Content is the weakest
    ids = [e for e in sorted(truth) if truth[e] != "CONTENT"][:15] + \
          [e for e in sorted(truth) if truth[e] == "CONTENT"][:2]
    label(ws, ids)
    assert ws.weakest_category() == "CONTENT"
    batch = ws.queue_batch("weakest", 4)
    assert batch.strategy == "weakest" and batch.target == "CONTENT"
    assert sum(truth[it.external_id] == "CONTENT" for it in batch.items) >= 1


def test_a_filtered_queue_is_ranked_within_the_filter(ws):
    label(ws, [f"r{i:02d}" for i in range(12)])
    found = ws.find(["stars=1-2"], "the")
    assert found.total > 0
    batch = ws.queue_batch("margin", 3, filters=["stars=1-2"], search="the")
    assert batch.filtered and set(batch.external_ids) <= set(found.ids) and len(batch.items) == min(3, found.total)
    # a refit all the same: a round, and predictions for the whole queue, not only the filtered part
    assert ws.stop_summary().rounds == 1 and ws.store.prediction_count() == 28
    with pytest.raises(ReviewtuiError, match="unknown filter 'colour'"):
        ws.find(["colour=red"])


def test_bulk_label_names_the_count_and_refuses_a_changed_set(ws):
    found = ws.find(["stars=1"], "subscription OR paywall OR premium OR refund")
    assert found.total >= 3
    with pytest.raises(ReviewtuiError, match="not the 99 you confirmed"):
        ws.bulk_label(found.ids, "Subscription", expected=99)
    assert all(ws.store.get(e).label is None for e in found.ids)
    done = ws.bulk_label(found.ids, "Subscription", expected=found.total)
    assert done.recorded == found.total and done.category == "SUBSCRIPTION"
    history = ws.store.label_history()
    assert sum(1 for ev in history if ev.external_id in set(found.ids)) == found.total  # one event each
    assert ws.find(["stars=1"], "subscription OR paywall OR premium OR refund").total == 0
    ws.undo()  # undo takes them back one by one
    assert sum(ws.store.get(e).label is None for e in found.ids) == 1


def test_discover_other_and_make_a_category(ws):
    truth = oracle()
    # label the Interface reviews OTHER, as if the taxonomy lacked a category for them
    other = [e for e in sorted(truth) if truth[e] == "INTERFACE"][:6]
    for e in other:
        ws.label(e, "OTHER")
    found = ws.discover("other")
    assert found.size == 6 and found.clusters and "Other" in found.selection
    biggest = found.clusters[0]
    assert set(biggest.external_ids) <= set(other)
    # its reviews still to label: the queue's Interface reviews that look like them
    result = ws.make_category(biggest, name="Layout problems")
    assert result.key == "LAYOUT_PROBLEMS" and result.already_labeled == biggest.size and result.queued == 0
    cat = ws.taxonomy.get("LAYOUT_PROBLEMS")
    assert cat.train and cat.description.startswith("Reviews about") and cat.examples
    reloaded = type(ws.config).load(ws.config.path)
    assert "LAYOUT_PROBLEMS" in reloaded.taxonomy.keys  # saved in reviewtui.toml
    assert all(ws.store.get(e).label == "OTHER" for e in other)  # nothing relabeled
    # the cluster's reviews labeled Other may belong to the new category: back to review
    assert result.to_review == biggest.size
    assert {ws.store.get(e).status for e in biggest.external_ids} == {"TO_REVIEW"}
    assert set(ws.find(["status=TO_REVIEW"]).ids) == set(biggest.external_ids)
    with pytest.raises(ReviewtuiError, match="already has a category"):
        ws.make_category(biggest, name="Layout problems")


def test_a_cluster_of_the_queue_is_queued_first_never_labeled(ws):
    label(ws, [f"r{i:02d}" for i in range(12)])
    ws.queue_batch("margin", 4)  # an ordinary batch first: priorities 4..1
    assert ws.queue_ranked_by() == "margin"
    with pytest.raises(ReviewtuiError, match=r"the selection \(predictions below 50% confidence\) has no review"):
        ws.discover("low-confidence")  # the quick model is sure of these easy reviews
    found = ws.discover("version")
    cluster = next(c for c in found.clusters if any(ws.store.get(e).status == "TODO" for e in c.external_ids))
    before = {a.external_id: a.label for a in ws.store.iter_assets()}
    made = ws.make_category(cluster, name="Brand new")
    queued = [e for e in cluster.external_ids if ws.store.get(e).status == "TODO"]
    assert made.queued == len(queued) > 0
    assert [a.external_id for a in ws.queue(len(queued))] == queued  # served first, nearest the centre first
    assert {a.external_id: a.label for a in ws.store.iter_assets()} == before  # nothing labeled
    assert ws.stop_summary().rounds == 0  # a new category: the stop signal starts again
    assert "BRAND_NEW" in ws.taxonomy.training_keys
    assert ws.queue_ranked_by() == "new category Brand new"


def test_discover_what_is_new_in_the_latest_version(ws):
    found = ws.discover("version")
    assert found.selection == "new in version 4.5" and found.compared_with > 0
    assert all(c.growth is not None for c in found.clusters)
    assert ws.app_versions() == ["4.5", "4.4"]
    with pytest.raises(ReviewtuiError, match="unknown selection"):
        ws.discover("everything")
    with pytest.raises(ReviewtuiError, match="no predictions yet"):
        ws.discover("low-confidence")
    ws.store.set_predictions({f"r{i:02d}": ("CONTENT", 0.3 + i / 100) for i in range(12)} |
                             {f"r{i:02d}": ("CONTENT", 0.9) for i in range(12, 40)})
    low = ws.discover("low-confidence", limit=8)
    assert low.size == 8 and "the 8 least sure of 12" in low.selection
    assert {e for c in low.clusters for e in c.external_ids} <= {f"r{i:02d}" for i in range(8)}


def test_what_is_new_in_a_version_is_asked_of_one_app_when_there_are_several(ws):
    """Each app numbers its versions its own way: with several apps, the version selection needs
    one, and compares that app's latest version with that app's earlier ones only."""
    from reviewtui.store import NewAsset

    old = ["fast transfers", "easy to send money", "good exchange rate", "instant payment", "cheap fees abroad"]
    new = ["login fails after update", "cannot sign in since update", "password reset broken",
           "locked out of my account", "face id login stopped working"]
    rows = [NewAsset(f"b{i}", f"{t} ({i})", {"app": "com.bank.app", "app_version": "1.0" if i < 10 else "1.1"})
            for i, t in enumerate(old * 2 + new * 2)]
    rows += [NewAsset(f"c{i}", f"great game level {i}", {"app": "com.game.app", "app_version": "9.0"}) for i in range(6)]
    ws.store.add_assets(rows)
    with pytest.raises(ReviewtuiError, match=r"the reviews are of 2 apps \(com\.bank\.app, com\.game\.app\).*"
                                             r"choose one app \(--app NAME\)"):
        ws.discover("version")
    found = ws.discover("version", app="COM.Bank.App")  # an app in any case, as --app everywhere else
    assert found.selection == "new in com.bank.app 1.1" and found.compared_with == 10
    assert {e for c in found.clusters for e in c.external_ids} <= {f"b{i}" for i in range(10, 20)}
    assert ws.versions_by_app() == {"com.bank.app": ["1.1", "1.0"], "com.game.app": ["9.0"]}
    assert ws.app_versions() == ["9.0", "4.5", "4.4", "1.1", "1.0"]  # every app's, from the index
    with pytest.raises(ReviewtuiError, match=r"no review of app 'com\.nope' to look into \(the apps are: "):
        ws.discover("version", app="com.nope")
    ws.label("b0", "OTHER")
    ws.label("r00", "OTHER")
    mine = ws.discover("other", app="com.bank.app")
    assert mine.size == 1 and mine.selection.endswith("of com.bank.app")


def test_a_filtered_queue_says_whether_nothing_matched_or_all_is_done(ws):
    with pytest.raises(ReviewtuiError, match=r"^no review of the queue matches search 'zzqqx' \(change the filter"):
        ws.queue_batch("margin", 4, search="zzqqx")
    with pytest.raises(ReviewtuiError, match=r"^no review in this workspace has version 7\.7; the versions are "):
        ws.queue_batch("margin", 4, filters=["version=7.7"])
    found = ws.find(["stars=1"])
    for e in found.ids:
        ws.label(e, "CONTENT")
    with pytest.raises(ReviewtuiError, match=r"^no review of the queue matches stars 1"):
        ws.queue_batch("margin", 4, filters=["stars=1"])


def test_a_filter_that_names_statuses_queues_those_reviews_to_label_again(ws):
    """status=TO_REVIEW (what LOOP.md gives for relabeling the reviews sent back) ranks those
    reviews, labeled as they are, instead of saying there is nothing to label among them."""
    found = ws.find(["stars=1"])
    for e in found.ids:
        ws.label(e, "CONTENT")
    again = sorted(found.ids)[:3]
    ws.send_to_review(again)
    batch = ws.queue_batch("margin", 10, filters=["status=TO_REVIEW"], apply=False)
    assert sorted(batch.external_ids) == again
    relabel = ws.queue_batch("margin", 4, filters=["stars=1", "status=all"], apply=False)
    assert len(relabel.external_ids) == min(4, found.total) and set(relabel.external_ids) <= set(found.ids)


def test_sending_to_review_is_recorded_as_the_workspaces_user(ws):
    ws.author = "ann"
    assert ws.send_to_review(["r00"]).moved == ["r00"]
    event = ws.store.label_history("r00")[-1]
    assert (event.kind, event.author) == ("status", "ann")  # not a "local" author nobody is


def test_make_category_is_refused_on_the_kili_backend(ws):
    ws.label("r00", "OTHER")
    ws.label("r04", "OTHER")
    found = ws.discover("other")
    ws.config.update_section("backend", {"kind": "kili", "project_id": "p1"})
    before = ws.config.path.read_text(encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"labels in Kili \(project p1\).*so adding a category here alone"):
        ws.make_category(found.clusters[0], name="Something")
    assert ws.config.path.read_text(encoding="utf-8") == before


def test_predict_keeps_its_predictions_in_the_store(analysis_ws):
    ws = analysis_ws
    for e in list(ws.truth)[:16]:
        ws.label(e, ws.truth[e])
    res = ws.predict("quick", sentiment="none")
    assert ws.store.prediction_count() == res.rows == 64
    assert ws.find(["predicted=CONTENT", "status=all"]).total == res.counts["CONTENT"]


def test_discover_other_looks_into_a_trained_category_named_other(ws):
    """A team that trains its "Other": discover's default selection is the category named so,
    instead of refusing because every category is trained on."""
    items = [{**c, "train": True} for c in ws.taxonomy.to_list()]
    ws.config.set_categories(items)
    assert "OTHER" in ws.taxonomy.training_keys
    truth = oracle()
    other = [e for e in sorted(truth) if truth[e] == "INTERFACE"][:6]
    for e in other:
        ws.label(e, "OTHER")
    found = ws.discover("other")
    assert found.size == 6 and "Other" in found.selection
    made = ws.make_category(found.clusters[0], name="Layout problems")  # its reviews back to review
    assert made.to_review == found.clusters[0].size
    ws.config.set_categories([{**c, "name": "Leftovers"} if c["key"] == "OTHER" else c for c in items])
    with pytest.raises(ReviewtuiError, match="every category of the taxonomy is trained on and none is named Other"):
        ws.discover("other")
    # with no selection named, a taxonomy with no catch-all looks into the predictions the model is
    # unsure of; before any prediction, into what is new in the latest version
    assert ws.default_discover_selection() == "version"
    with pytest.raises(ReviewtuiError, match=r"no predictions yet: .* or look into what is new in the latest app "
                                             r"version \(`reviewtui discover --in version`\)"):
        ws.discover("low-confidence")
    ws.store.set_predictions({other[0]: ("INTERFACE", 0.9)})
    assert ws.default_discover_selection() == "low-confidence"
    with pytest.raises(ReviewtuiError, match=r"nothing to discover: the selection \(predictions below 50% confidence\)"):
        ws.discover(None)


def test_the_weakest_strategy_steers_to_a_category_with_no_label_by_its_name(tmp_path):
    """A taxonomy of names; Notifications has no label yet, so the quick model does not know it
    and every review scored 0 for it: the batch was whatever came first. The reviews most like
    the category by its name come first now."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Crashes, Fees, Praise, Notifications")
    ws.config.update_section("model", {"max_length": 64})
    crashes = ["the app crashes when I open it", "keeps crashing after the update", "crash on login every time",
               "it froze and crashed twice today"]
    fees = ["the monthly fee is too high", "they charged me a fee for a transfer", "hidden charges on my card",
            "fees went up again this year"]
    praise = ["great app, love it", "awesome, works well", "love this app so much", "great service, thank you"]
    notes = ["I get a notification for every purchase", "the push notifications never stop",
             "no alert came when my card was used", "please let me turn off the notifications"]
    other = ["nice", "good", "ok app", "fine", "works", "cool", "thanks", "best", "very good app", "simple to use",
             "super", "wow", "easy", "nice design", "good job", "helpful"]
    texts = crashes + fees + praise + notes + other
    ws.store.add_assets([NewAsset(f"r{i:02d}", t, {}) for i, t in enumerate(texts)])
    for i, key in enumerate(["CRASHES"] * 4 + ["FEES"] * 4 + ["PRAISE"] * 4):
        ws.label(f"r{i:02d}", key)
    assert ws.weakest_category() == "NOTIFICATIONS"
    batch = ws.queue_batch("weakest", 4, apply=False)
    assert batch.target == "NOTIFICATIONS"
    about = {f"r{i:02d}" for i in range(12, 16)}
    assert len(about & set(batch.external_ids)) >= 3, [it.text for it in batch.items]
    ws.close()


def test_a_rename_on_the_kili_backend_keeps_the_key_unless_asked_for_another(ws):
    """On Kili a new key is refused (the labels live there), so `categories rename X NAME`, whose
    key follows the name by default, was refused for a rename docs/KILI.md allows: it keeps the key
    there; asking for a new key is still refused."""
    ws.label("r00", "USER_EXPERIENCE")
    ws.config.update_section("backend", {"kind": "kili", "project_id": "p1"})
    ws.rename_category("User experience", "UX")
    assert ws.taxonomy.get("USER_EXPERIENCE").name == "UX" and ws.store.get("r00").label == "USER_EXPERIENCE"
    with pytest.raises(ReviewtuiError, match="renaming a category's key"):
        ws.rename_category("UX", "UX", new_key="UX_KEY")
