"""Label quality through the workspace and the command line: suspects (real MiniLM embeddings and
cleanlab) and --to-review, stars against text with VADER, stats with two local authors and
--disagreements-to-review, and the diff's author and time in --json and at 80 columns."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from modeling_fixtures import LABELS, review_text

from reviewtui.cli import main
from reviewtui.store import LabelRow, NewAsset
from reviewtui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def ws(tmp_path):
    """48 labeled synthetic reviews (12 a category) by ann; bob relabels r05 (CONTENT) SUBSCRIPTION and
    r10 (INTERFACE) USER_EXPERIENCE."""
    w = Workspace.init(tmp_path / "ws")
    w.config.update_section("quality", {"folds": 4, "repeats": 2})
    rng = random.Random(3)
    truth = {f"r{i:02d}": LABELS[i % 4] for i in range(48)}
    w.store.add_assets([NewAsset(ext, review_text(lab, rng)) for ext, lab in truth.items()])
    w.store.add_labels([LabelRow(ext, lab, "ann", "human") for ext, lab in truth.items()])
    w.store.add_label("r05", "SUBSCRIPTION", author="bob")
    w.store.add_label("r10", "USER_EXPERIENCE", author="bob")
    yield w
    w.close()


def test_suspects_json_names_the_planted_label_and_to_review_moves_the_top(ws, capsys, monkeypatch):
    code, out, err = run(capsys, "-w", str(ws.root), "suspects", "--top", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["suspects"]) == 2 and data["folds"] == 4 and data["repeats"] == 2
    found = {s["external_id"]: s for s in data["suspects"]}
    assert set(found) == {"r05", "r10"}
    assert (found["r05"]["label"], found["r05"]["suggested"]) == ("SUBSCRIPTION", "CONTENT")
    assert found["r05"]["reason"].startswith("the model gives CONTENT") and 0 < found["r05"]["confidence"] <= 1
    assert found["r05"]["author"] == "bob"  # whose label it is: bob relabeled it
    assert [s["number"] for s in data["suspects"]] == [1, 2]
    assert ws.store.get("r05").status == "LABELED"  # no --to-review: nothing moved

    code, out, _ = run(capsys, "-w", str(ws.root), "suspects", "--top", "2", "--to-review")
    assert code == 0
    assert "Labels that are probably wrong" in out and "r05" in out and "Sent 2 assets to review." in out
    # each suspect with its review, to judge the label by: two lines each on 80 columns, a table on 160
    text = " ".join(ws.store.get("r05").text.split())[:40]
    assert "Subscription → Content (" in out and text in out  # the categories by their names
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, "-w", str(ws.root), "suspects", "--top", "2")
    assert code == 0 and "┃ review" in out and text[:20] in out
    assert sorted(a.external_id for a in ws.store.iter_assets(statuses=["TO_REVIEW"])) == ["r05", "r10"]

    ws.confirm_label("r05", "Subscription")  # by name: kept, so no longer a suspect
    assert ws.store.confirmed_labels() == {"r05": "SUBSCRIPTION"}
    code, out, _ = run(capsys, "-w", str(ws.root), "suspects", "--json")
    data = json.loads(out)
    assert "r05" not in [s["external_id"] for s in data["suspects"]] and data["confirmed"] == 1


def test_suspects_bad_inputs_are_one_line(tmp_path, capsys):
    Workspace.init(tmp_path / "empty").close()
    code, _, err = run(capsys, "-w", str(tmp_path / "empty"), "suspects")
    assert code == 2 and "no labeled reviews yet" in err
    code, _, err = run(capsys, "-w", str(tmp_path / "empty"), "suspects", "--top", "0")
    assert code == 2 and "--top must be at least 1" in err


def test_star_conflicts_use_the_workspace_sentiment_option(tmp_path):
    ws = Workspace.init(tmp_path / "stars")
    ws.store.add_assets([NewAsset("a", "terrible, it crashes all the time and I hate it", {"score": 5}),
                         NewAsset("b", "I love it, wonderful and great app", {"score": 1}),
                         NewAsset("c", "I love it, wonderful and great app", {"score": 5}),
                         NewAsset("d", "awful", {"score": 3})])
    ws.label("a", "INTERFACE")
    report = ws.star_conflicts()
    assert report.analyzer == "vader" and report.checked == 3
    assert [c.external_id for c in report.items] == ["a", "b"] or [c.external_id for c in report.items] == ["b", "a"]
    ws.confirm_label("a", "INTERFACE")
    assert [c.external_id for c in ws.star_conflicts().open] == ["b"]
    ws.config.update_section("sentiment", {"model": "none"})
    with pytest.raises(Exception, match="needs a sentiment analyzer"):
        ws.star_conflicts()
    ws.close()


def two_authors(ws: Workspace) -> None:
    """carl labels the first ten reviews too (timed a minute apart), agreeing on eight."""
    theirs = {f"r{i:02d}": LABELS[i % 4] for i in range(10)}
    theirs["r02"], theirs["r07"] = "CONTENT", "SUBSCRIPTION"
    for n, (ext, lab) in enumerate(theirs.items()):
        ws.store.add_labels([LabelRow(ext, lab, "carl", "human", current=False,
                                      at=f"2026-01-15T10:{n:02d}:00.000+00:00")])


def test_a_check_from_the_command_line_confirms_and_a_second_send_keeps_what_waits_or_was_reviewed(ws, capsys):
    """The app's `c` had no command: the same label again was a new label, so the suspect came back
    at the next run; and --to-review sent again what waited in review already, and took a finished
    review back into review, while it said it moved them all."""
    code, out, _ = run(capsys, "-w", str(ws.root), "suspects", "--top", "2", "--to-review", "--json")
    assert sorted(json.loads(out)["to_review"]["moved"]) == ["r05", "r10"]
    code, out, _ = run(capsys, "-w", str(ws.root), "label", "r10", "USER_EXPERIENCE")
    assert code == 0 and "r10: USER_EXPERIENCE (as it was; confirmed)" in out
    assert ws.store.get("r10").status == "REVIEWED" and ws.store.confirmed_labels() == {"r10": "USER_EXPERIENCE"}
    code, out, _ = run(capsys, "-w", str(ws.root), "suspects", "--top", "2", "--to-review", "--json")
    data = json.loads(out)
    assert "r10" not in [s["external_id"] for s in data["suspects"]] and data["confirmed"] == 1
    assert "r05" not in data["to_review"]["moved"] and data["to_review"]["kept"]["r05"] == "already waiting in review"
    code, out, _ = run(capsys, "-w", str(ws.root), "confirm", "r05")
    assert code == 0 and "r05: SUBSCRIPTION confirmed (TO_REVIEW -> REVIEWED)" in out
    ws.store.add_assets([NewAsset("u1", "a review nobody labeled yet")])
    code, _, err = run(capsys, "-w", str(ws.root), "confirm", "r01", "u1")
    assert code == 2 and "u1: no label to confirm" in err and "nothing confirmed" in err
    assert ws.store.confirmed_labels().get("r01") is None  # every id is checked before any is confirmed


def test_stats_json_and_disagreements_to_review(ws, capsys):
    two_authors(ws)
    code, out, err = run(capsys, "-w", str(ws.root), "stats", "--json")
    assert code == 0, err
    data = json.loads(out)
    ag = data["agreement"]
    assert ag["authors"] == ["ann", "bob", "carl"] and ag["assets"] == 11
    assert [d["external_id"] for d in ag["disagreements"]] == ["r02", "r05", "r07", "r10"]
    pair = next(p for p in ag["pairs"] if (p["a"], p["b"]) == ("ann", "carl"))
    assert pair["assets"] == 10 and math.isclose(pair["observed"], 0.8)
    carl = next(a for a in data["authors"] if a["author"] == "carl")
    assert (carl["labels"], carl["timed_labels"], carl["median_seconds_per_label"]) == (10, 9, 60.0)
    assert data["versions"] == []

    ws.confirm_label("r07", "USER_EXPERIENCE")  # checked after every label on it: settled
    code, out, _ = run(capsys, "-w", str(ws.root), "stats", "--disagreements-to-review")
    assert code == 0
    assert "Agreement on 11 reviews" in out and "Sent 3 assets to review." in out
    # the app's "open" and the CLI's agree: r07 is settled, said so and left out of the list
    assert "4 disagreements, 3 open (1 settled by a label confirmed after them)." in " ".join(out.split())
    assert "Open disagreements: r02" in out and "r07 (" not in out
    assert sorted(a.external_id for a in ws.store.iter_assets(statuses=["TO_REVIEW"])) == ["r02", "r05", "r10"]
    assert [d.external_id for d in ws.disagreements(settled=True)] == ["r02", "r05", "r07", "r10"]
    code, out, _ = run(capsys, "-w", str(ws.root), "stats", "--json")
    settled = {d["external_id"]: d["settled"] for d in json.loads(out)["agreement"]["disagreements"]}
    assert settled == {"r02": False, "r05": False, "r07": True, "r10": False}
    # r02 reviewed (a label given in review): sending the open ones again keeps it and those waiting
    ws.label("r02", "CONTENT")
    assert ws.store.get("r02").status == "REVIEWED"
    code, out, _ = run(capsys, "-w", str(ws.root), "stats", "--disagreements-to-review", "--json")
    sent = json.loads(out)["to_review"]
    assert sent["moved"] == [] and sent["kept"] == {"r02": "reviewed since (status REVIEWED)",
                                                    "r05": "already waiting in review", "r10": "already waiting in review"}


def test_stats_text_shows_versions_authors_and_categories(ws, capsys):
    two_authors(ws)
    ws.export()
    ws.label("r01", "INTERFACE")
    ws.export()
    code, out, _ = run(capsys, "-w", str(ws.root), "stats")
    assert code == 0
    assert "dataset-1 → dataset-2: CONTENT → INTERFACE 1" in out
    assert "Agreement per category" in out and "Agreement per pair of authors" in out
    assert "carl" in out and "Disagreements: " in out


def test_diff_carries_author_and_time_in_json_and_at_80_columns(tmp_path, capsys):
    ws = Workspace.init(tmp_path / "d")
    ws.store.add_assets([NewAsset(f"review-{i:05d}", f"review {i} about the app and its many screens")
                         for i in range(6)])
    ws.store.add_labels([LabelRow(f"review-{i:05d}", "CONTENT", "ann", "human") for i in range(6)])
    ws.export()
    ws.store.add_labels([LabelRow("review-00001", "USER_EXPERIENCE", "bob@example.com", "kili",
                                  at="2026-03-04T05:06:07.000+00:00")])
    ws.store.set_status(["review-00002"], "REVIEWED", author="cy", at="2026-03-05T08:00:00.000+00:00")
    ws.store.add_assets([NewAsset("review-00009", "a review labeled in Kili after the first version")])
    ws.store.add_labels([LabelRow("review-00009", "INTERFACE", "carol@example.com", "kili",
                                  at="2026-03-06T09:00:00.000+00:00")])
    ws.export()
    ws.close()
    code, out, _ = run(capsys, "-w", str(tmp_path / "d"), "diff", "1", "2", "--json")
    d = json.loads(out)
    assert (d["added"][0]["author"], d["added"][0]["at"]) == ("carol@example.com", "2026-03-06T09:00:00.000+00:00")
    assert d["relabeled"][0]["author"] == "bob@example.com" and d["relabeled"][0]["at"] == "2026-03-04T05:06:07.000+00:00"
    assert (d["status_changed"][0]["author"], d["status_changed"][0]["at"]) == ("cy", "2026-03-05T08:00:00.000+00:00")
    assert set(d) == {"a", "b", "counts", "relabel_pairs", "rename_pairs", "added", "removed", "relabeled",
                      "status_changed", "sentiment_changed", "renamed"}

    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(tmp_path / "d"), "diff", "1", "2"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    header = next(line for line in proc.stdout.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃").split("┃")] == ["change", "externalId", "from", "to", "by / at",
                                                                 "content"]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in proc.stdout.splitlines()
            if line.startswith("│")]
    assert [(r[0], r[1], r[4]) for r in rows] == [("added", "review-00009", "carol 03-06"),
                                                  ("relabeled", "review-00001", "bob 03-04"),
                                                  ("status", "review-00002", "cy 03-05")]
    assert all(len(r[5]) >= 10 for r in rows)


def test_a_row_a_confirmation_brought_into_a_version_is_the_confirmations(ws):
    """r01 was labeled before version A and waited in review at its export; carol's confirmation
    after it brought it into B. The diff said the label's author and time, from before A."""
    label = ws.store.get("r01").label
    ws.send_to_review(["r01"])
    first = ws.export()
    ws.author = "carol"
    ws.confirm_label("r01", label)
    second = ws.export()
    d = ws.diff(first.name, second.name)
    (added,) = [c for c in d.added if c.external_id == "r01"]
    confirm = ws.store.label_history("r01")[-1]
    assert confirm.kind == "confirm" and added.author == "carol"
    assert added.at == confirm.created_at  # not the label's, given before A
