"""The labeling loop's commands: queue --filter/--search, label --filter/--search --category (bulk,
asked or --yes), discover [--make], and the stop signal in status."""

from __future__ import annotations

import json

import pytest

from tui_data import build_workspace, stop_signal_rounds

from reviewtui.cli import main
from reviewtui.demo import DEMO_CATEGORIES


@pytest.fixture
def ws(tmp_path):
    w = build_workspace(tmp_path / "ws")
    w.config.update_section("model", {"max_length": 32})
    yield w
    w.close()


def run(ws, capsys, *argv) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; with --json stdout as printed, else with rich's line wrapping
    undone (whitespace runs as one space)."""
    code = main(["-w", str(ws.root), *argv])
    out = capsys.readouterr()
    text = out.out if "--json" in argv else " ".join(out.out.split())
    return code, text, " ".join(out.err.split())


def test_queue_ranks_within_the_filter(ws, capsys):
    found = ws.find(["stars=1-2"])
    code, out, _ = run(ws, capsys, "queue", "--filter", "stars=1-2", "--size", "3", "--dry-run", "--json")
    assert code == 0
    batch = json.loads(out)
    assert batch["filtered"] and len(batch["items"]) == 3
    assert {it["external_id"] for it in batch["items"]} <= set(found.ids)
    code, out, _ = run(ws, capsys, "queue", "--search", "crashes OR font", "--filter", "version=4.4", "--size", "2")
    assert code == 0 and "1 filtered candidate" in out
    wanted = set(ws.find(["version=4.4"], "crashes OR font").ids)
    assert wanted and {a.external_id for a in ws.store.iter_assets() if a.priority > 0} == wanted
    code, _, err = run(ws, capsys, "queue", "--filter", "stars=9")
    assert code == 2 and err.startswith("error: filter stars='9': stars go from 1 to 5")
    # past the candidates cap the title says how many the filter keeps, not only the sample's size
    unlabeled = [e for e in found.ids if ws.store.get(e).label is None]
    ws.config.update_section("active_learning", {"candidates": 3})
    code, out, _ = run(ws, capsys, "queue", "--filter", "stars=1-2", "--size", "2", "--dry-run")
    assert len(unlabeled) > 3
    assert code == 0 and f"3 filtered candidates (a sample of the {len(unlabeled):,} the filter keeps)" in out
    code, out, _ = run(ws, capsys, "queue", "--filter", "stars=1-2", "--size", "2", "--dry-run", "--json")
    assert json.loads(out)["pool"] == len(unlabeled) and json.loads(out)["candidates"] == 3


def test_the_queue_title_counts_the_labels_it_learns_from_not_every_labeled_review(ws, capsys):
    """Reviews labeled with a category that is not trained (Other) are labeled but not learnt
    from: the title counted only the training labels and called them "labeled", fewer than
    `reviewtui status` showed as LABELED."""
    todo = [a.external_id for a in ws.store.iter_assets() if a.label is None]
    assert run(ws, capsys, "label", todo[0], "OTHER")[0] == 0
    trained = len(ws.store.training_assets(ws.taxonomy.training_keys)[0])
    labeled = sum(1 for a in ws.store.iter_assets() if a.label is not None)
    assert 0 < trained < labeled
    code, out, _ = run(ws, capsys, "queue", "--size", "2", "--dry-run")
    assert code == 0 and f"; {trained} training labels, " in out
    assert f"; {trained} labeled" not in out


def test_the_queue_table_fits_80_columns_with_long_keys_and_ids(capsys, monkeypatch):
    """In a pipe or a log (80 columns) the queue keeps its right border and its whole title; a
    14-character key gives way, the review's text wraps with none of its words cut."""
    from types import SimpleNamespace

    from reviewtui.cli import render

    monkeypatch.setenv("COLUMNS", "80")
    text = "Difficult to understand and find the options, the payment failed twice this week"
    items = [SimpleNamespace(external_id=f"89f1ea77-0e52-4c7e-9d3a-{i:012d}", suggestion="PAYMENT_FAILED",
                             confidence=0.22, uncertainty=0.999, text=text) for i in range(12)]
    batch = SimpleNamespace(items=items, cold_start=False, strategy="margin", labeled=211, candidates=3593,
                            filtered=False, moved=None, backend="local")
    render.queue(batch, 12, dry_run=True)
    lines = capsys.readouterr().out.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in lines) <= 80
    assert table[0].endswith("┓") and all(line[-1] in "┓┃┩│┘" for line in table)
    assert "Next 12 to label — margin; 211 training labels, 3,593 candidates" in lines[0]
    assert "│ 10 │" in " ".join(lines) and "PAYMENT_FAIL" in " ".join(lines)
    first = [line.split("│")[-2].strip() for line in table[3:] if line.startswith("│")][:5]
    assert " ".join(first) == text


def test_bulk_label_asks_and_refuses_without_a_terminal(ws, capsys, monkeypatch):
    ids = ws.find(["stars=5"]).ids
    assert len(ids) == 6
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(ws, capsys, "label", "--filter", "stars=5", "--category", "user experience")
    assert code == 2
    assert "error: nothing labeled: a bulk label asks first and there is no terminal to ask on; confirm with " \
           "--yes to label all 6 reviews of the filtered queue (stars 5) as User experience" in " ".join(err.split())
    assert all(ws.store.get(e).label is None for e in ids)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(ws, capsys, "label", "--filter", "stars=5", "--category", "user experience")
    assert code == 1 and "Nothing labeled." in out and all(ws.store.get(e).label is None for e in ids)
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "y")
    code, out, _ = run(ws, capsys, "label", "--filter", "stars=5", "--category", "user experience")
    assert code == 0 and "Labeled 6 reviews as User experience." in out
    assert "Label all 6 reviews" in asked[0]
    assert all(ws.store.get(e).label == "USER_EXPERIENCE" for e in ids)


def test_bulk_label_with_yes_and_its_mistakes(ws, capsys):
    ids = ws.find(search="premium OR paywall").ids
    code, out, _ = run(ws, capsys, "label", "--search", "premium OR paywall", "--category", "SUBSCRIPTION", "--yes")
    assert code == 0 and f"Labeled {len(ids)} reviews as Subscription." in out
    assert all(ws.store.get(e).label == "SUBSCRIPTION" for e in ids)
    code, _, err = run(ws, capsys, "label", "--search", "premium OR paywall", "--category", "SUBSCRIPTION", "--yes")
    assert code == 2 and "nothing to label: no review of the queue matches search 'premium OR paywall'" in err
    code, _, err = run(ws, capsys, "label", "--filter", "stars=2")
    assert code == 2 and "give --category X" in err
    code, _, err = run(ws, capsys, "label", "--category", "CONTENT", "--yes")
    assert code == 2 and "a bulk label needs a filtered set" in err
    code, _, err = run(ws, capsys, "label", "r20", "CONTENT", "--filter", "stars=2", "--category", "CONTENT")
    assert code == 2 and "not several at once" in err
    code, out, _ = run(ws, capsys, "label", "r20", "CONTENT")  # one review, as before
    assert code == 0 and ws.store.get("r20").label == "CONTENT"


def test_discover_and_make_a_category(ws, capsys):
    ws.config.set_categories([dict(c) for c in DEMO_CATEGORIES])
    for e in ("r02", "r06", "r10", "r14", "r18", "r22"):
        ws.label(e, "OTHER")
    code, out, _ = run(ws, capsys, "discover", "--json")
    assert code == 0
    found = json.loads(out)
    assert found["size"] == 6 and found["clusters"] and "Other" in found["selection"]
    code, out, _ = run(ws, capsys, "discover")  # shares of the selection; growth only for a version
    first = found["clusters"][0]
    assert code == 0 and f"{100 * first['size'] / 6:.1f}%" in out and "growth" not in out
    # the selection changes after the listing: --make makes cluster 1 of the listing the user read
    listed = json.loads((ws.cache_dir / "discover-last.json").read_text())["discovery"]["clusters"][0]
    ws.label("r26", "OTHER")
    code, out, _ = run(ws, capsys, "discover", "--make", "1", "--name", "Layout trouble")
    assert code == 0 and "Added the category Layout trouble (LAYOUT_TROUBLE) to the taxonomy" in out
    assert out.startswith("Cluster 1 of the listing of ") and "6 reviews" in out
    assert ws.store.get(listed["external_ids"][0]).status == "TO_REVIEW"
    assert "were sent to review (filter status=TO_REVIEW to relabel them)" in out
    run(ws, capsys, "discover", "--json")
    code2, out2, _ = run(ws, capsys, "discover", "--make", "1", "--name", "Second", "--json")  # JSON, whole
    assert code2 == 0 and json.loads(out2)["made"]["listed_at"]
    assert "were sent to review (filter status=TO_REVIEW to relabel them)" in out
    assert "Nothing was labeled." in out
    assert "LAYOUT_TROUBLE" in type(ws.config).load(ws.config.path).taxonomy.keys
    code, out, _ = run(ws, capsys, "discover", "--in", "version", "--examples", "1")
    assert code == 0 and "new in version 4.5" in out and "Clusters by growth" in out
    code, _, err = run(ws, capsys, "discover", "--make", "99")
    assert code == 2 and "--make 99: there are" in err
    code, _, err = run(ws, capsys, "discover", "--in", "other", "--version", "4.4")
    assert code == 2 and "--version goes with --in version" in err
    code, out, _ = run(ws, capsys, "discover", "--clusters", "2", "--json")
    assert code == 0 and len(json.loads(out)["clusters"]) == 2 and "k = 2 as asked" in json.loads(out)["reason"]
    code, _, err = run(ws, capsys, "discover", "--clusters", "1")
    assert code == 2 and err == "error: --clusters must be at least 2, not 1"
    code, _, err = run(ws, capsys, "discover", "--clusters", "5")  # 7 reviews labeled Other
    assert code == 2 and err == ("error: --clusters must be at least 2 and at most half the 7 reviews selected (3), "
                                 "not 5")
    code, _, err = run(ws, capsys, "discover", "--min-size", "3", "--clusters", "2")
    assert code == 2 and "not both" in err


def test_make_a_category_names_the_trained_catch_all_its_reviews_left(tmp_path, capsys):
    """A team that trains its catch-all (init --categories "..., Other"): discover looks into the
    reviews labeled Other, and --make sends those of the cluster to review. The sentence named them
    "labeled with a category not trained on", which Other is not here; it names the category."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "team", name="team", categories="Payments failing, Praise, Other")
    try:
        ws.store.add_assets([NewAsset(f"a{i}", text, {}) for i, text in enumerate(
            ["the card was blocked at the shop", "the card got blocked again today", "blocked card, no reason",
             "the rewards page is empty", "no rewards this month at all", "rewards vanished from my account"])])
        assert "OTHER" in ws.taxonomy.training_keys
        for i in range(6):
            ws.label(f"a{i}", "OTHER")
        code, out, _ = run(ws, capsys, "discover", "--clusters", "2")
        assert code == 0
        code, out, _ = run(ws, capsys, "discover", "--clusters", "2", "--make", "1", "--name", "Rewards")
        assert code == 0 and "labeled Other, were sent to review" in out
        assert "not trained on" not in out
    finally:
        ws.close()


def test_a_version_no_review_has_names_each_apps_latest_versions(tmp_path, capsys):
    """Several apps, a filter version= that none has: the error named the 12 highest version numbers
    of the workspace, which were all one app's (the one numbering highest) with the other apps'
    hidden among "(and N older)"; it names each app's latest versions, as summary does."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "apps", name="apps", categories="Bug, Praise")
    try:
        rows = [("kids.app", f"5.{minor}.0") for minor in range(1, 14)] + [("bank.app", "2.0.1"), ("bank.app", "2.1.0")]
        ws.store.add_assets([NewAsset(f"a{i}", f"review {i}", {"app": app, "app_version": version})
                             for i, (app, version) in enumerate(rows)])
        code, _, err = run(ws, capsys, "queue", "--filter", "version=99.9")
        assert code == 2
        assert "bank.app: 2.0.1, 2.1.0" in err and "kids.app: 5.10.0, 5.11.0, 5.12.0, 5.13.0 (and 9 older)" in err
        assert "app= narrows to one" in err
        code, _, err = run(ws, capsys, "queue", "--filter", "version=99.9", "app=bank.app")
        assert code == 2 and err == "error: no review of bank.app has version 99.9; the versions are 2.0.1, 2.1.0"
    finally:
        ws.close()


def test_discover_warns_when_a_version_has_too_few_reviews_for_growth(ws, capsys):
    """Version 4.5 has 13 reviews (27 before it): the table's growth comes with the warning, and
    --json carries its numbers."""
    ws.config.update_section("model", {"max_length": 32})
    code, out, _ = run(ws, capsys, "discover", "--in", "version", "--examples", "0")
    assert code == 0 and "Clusters by growth" in out
    # the clustering's own figures are of the version's and the earlier reviews together, and say so
    assert "compared with 27 reviews of the earlier versions" in out
    assert "Clustered together with the earlier versions' reviews: " in " ".join(out.split())
    assert ("Too few reviews for reliable growth: 13 in this version and 27 in the earlier versions, under 30 each "
            "(one review moves a share by 8 points)") in out
    assert "collect more reviews before acting on it." in out
    code, out, _ = run(ws, capsys, "discover", "--in", "version", "--json")
    caution = json.loads(out)["caution"]
    assert code == 0 and (caution["reviews"], caution["earlier"], caution["min_reviews"]) == (13, 27, 30)


def test_status_shows_the_stop_signal(ws, capsys):
    code, out, _ = run(ws, capsys, "status")
    assert code == 0 and "Stop signal: no round yet: a round is recorded each time the quick model is refitted" in out
    stop_signal_rounds(ws)
    code, out, _ = run(ws, capsys, "status")
    assert code == 0
    assert "Stop signal: ███ predictions stable for 3 rounds (kappa 0.99): further labels change little" in out
    # the labels each category has now (the store's 16), not those of the last round: the round's F1
    # decides only once every category has five
    assert "SUBSCRIPTION: 3 labels, CV F1 0.85 (+0.15 over 3 rounds) <- needs labels most (fewest labels)" in out
    assert "INTERFACE: 5 labels, CV F1 0.52 (+0.12 over 3 rounds) USER_EXPERIENCE" in out
    code, out, _ = run(ws, capsys, "status", "--json")
    stop = json.loads(out)["stop"]
    assert stop["stop"] and stop["rounds"] == 4 and stop["weakest"] == "SUBSCRIPTION"
    assert [c["key"] for c in stop["categories"]] == ws.taxonomy.training_keys


def test_undo_bulk_takes_a_bulk_label_back_as_a_whole(ws, capsys):
    """A bulk label, then one label by hand: undo --bulk refuses while the latest change is the one
    label; after undo takes that back, undo --bulk restores every review of the set as it was."""
    ids = ws.find(search="premium OR paywall").ids
    assert len(ids) > 2
    before = {e: ws.store.get(e).label for e in ids}
    code, out, _ = run(ws, capsys, "label", "--search", "premium OR paywall", "--category", "CONTENT", "--yes")
    assert code == 0 and "`reviewtui undo --bulk` takes them all back." in out
    other = next(a.external_id for a in ws.store.iter_assets() if a.external_id not in ids and a.label is None)
    assert run(ws, capsys, "label", other, "INTERFACE")[0] == 0
    code, out, _ = run(ws, capsys, "undo", "--bulk")
    assert code == 1 and "Your latest change is not a bulk label nor a labels file: nothing was undone" in out
    assert ws.store.get(ids[0]).label == "CONTENT"
    assert run(ws, capsys, "undo")[0] == 0 and ws.store.get(other).label is None
    code, out, _ = run(ws, capsys, "undo", "--bulk")
    changed = sum(1 for e in ids if before[e] != "CONTENT")
    assert code == 0 and f"Undid the bulk label of {changed} reviews as Content." in out
    assert {e: ws.store.get(e).label for e in ids} == before
    code, out, _ = run(ws, capsys, "undo", "--bulk")
    assert code == 1 and "nothing was undone" in out
    code, _, err = run(ws, capsys, "undo", "--bulk", ids[0])
    assert code == 2 and "give no id with it" in err


def test_simulate_loop_replays_the_screens_loop_against_a_random_start(ws, capsys, tmp_path):
    """simulate --loop: a random start and the labeling screen's loop on the oracle's labels, and
    where the stop signal says stop (set to say it at its first chance here); --json carries it
    all; --strategy with --loop is refused."""
    from tui_data import oracle

    path = tmp_path / "oracle.csv"
    path.write_text("id,label\n" + "".join(f"{e},{lab}\n" for e, lab in oracle().items()), encoding="utf-8")
    ws.config.update_section("active_learning", {"stop_kappa": 0.0, "stop_rounds": 1})
    code, out, err = run(ws, capsys, "simulate", "--oracle", str(path), "--loop", "--batch", "4", "--rounds", "3",
                         "--seeds", "2", "--json")
    assert code == 0, err
    sim = json.loads(out)
    assert sim["pool"] + sim["test"] == 40 and sim["batch"] == 4 and sim["seeds"] == [0, 1]
    assert sim["zero_shot"] == "names"  # the default taxonomy has no descriptions
    assert [o["name"] for o in sim["outcomes"]] == ["random first batch, no prior", "the labeling screen's loop"]
    for o in sim["outcomes"]:  # every round after the first is "stable": the stop comes at the second
        assert [s["labels"] for s in o["stops"]] == [8, 8]
    code, out, err = run(ws, capsys, "simulate", "--oracle", str(path), "--loop", "--batch", "4", "--rounds", "3",
                         "--seeds", "1")
    assert code == 0, err
    assert "The labeling loop replayed on" in out and "the labeling screen's loop: " in out
    assert "The stop signal (kappa >= 0 for 1 round) said stop at 8 labels" in out
    assert "The zero-shot start had only the category names" in out
    code, _, err = run(ws, capsys, "simulate", "--oracle", str(path), "--loop", "--strategy", "random")
    assert code == 2 and "drop --strategy and --initial" in err
    # more rounds than the pool holds: the labels said are the pool's, not batch x rounds
    code, out, err = run(ws, capsys, "simulate", "--oracle", str(path), "--loop", "--batch", "10", "--rounds", "20",
                         "--seeds", "1")
    said = " ".join(out.split())
    assert code == 0 and "then up to 20 rounds of 10" in said, err
    assert "after 210 labels" not in said and "after 32 labels" in said


def test_an_oracle_or_labels_file_may_be_json_lines_a_workbook_or_parquet(ws, capsys, tmp_path):
    """simulate --oracle read only CSV: a JSON Lines file's lines were split on commas and listed
    as its "columns"; label --from read CSV and workbooks. Both read what import reads."""
    import json

    import pandas as pd
    from tui_data import oracle

    truth = oracle()
    lines = tmp_path / "oracle.jsonl"
    lines.write_text("\n".join(json.dumps({"id": e, "label": lab}) for e, lab in truth.items()), encoding="utf-8")
    code, out, err = run(ws, capsys, "simulate", "--oracle", str(lines), "--strategy", "random", "--rounds", "1",
                         "--seeds", "1", "--batch", "8", "--json")
    assert code == 0, err
    assert json.loads(out)["pool"] + json.loads(out)["test"] == len(truth)
    some = dict(list(truth.items())[:3])
    parquet = tmp_path / "labels.parquet"
    pd.DataFrame({"id": list(some), "label": list(some.values())}).to_parquet(parquet)
    code, out, err = run(ws, capsys, "label", "--from", str(parquet))
    assert code == 0 and "Applied 3 labels" in out, err
