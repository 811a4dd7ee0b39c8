"""A Kili pull keeps every author's latest label, so agreement is the same whichever backend
labeled: the real kili SDK against the loopback server (tests/kili_server.py)."""

from __future__ import annotations

import math

import pytest

from reviewtui.quality.agreement import store_agreement
from reviewtui.workspace import Workspace
from tests.kili_server import kili_server  # noqa: F401  (fixture)
from tests.test_kili_backend import make_ws

ANN = ["CONTENT"] * 5 + ["INTERFACE"] * 5
BOB = ["CONTENT"] * 4 + ["INTERFACE"] * 5 + ["CONTENT"]


@pytest.fixture
def two_authors(tmp_path, kili_server):  # noqa: F811
    ws = make_ws(tmp_path, n=12)
    ws.kili_create("Reviews")
    ws.kili_push()
    pid = ws.settings.backend.project_id
    for i, (a, b) in enumerate(zip(ANN, BOB)):
        kili_server.state.label(pid, f"r{i:03d}", a, email="ann@example.com")
        kili_server.state.label(pid, f"r{i:03d}", b, email="bob@example.com")
        kili_server.state.label(pid, f"r{i:03d}", "OTHER", label_type="PREDICTION")  # a model's: not an author
    kili_server.state.label(pid, "r010", "SUBSCRIPTION", email="ann@example.com")
    kili_server.state.label(pid, "r010", "CONTENT", email="ann@example.com")  # ann's second thought counts
    yield ws, kili_server, pid
    ws.close()


@pytest.mark.parametrize("urls", [False, True], ids=["inline", "label-json-by-url"])
def test_a_pull_with_two_kili_authors_yields_their_agreement(two_authors, urls):
    ws, srv, pid = two_authors
    srv.state.json_response_urls = urls
    report = ws.kili_pull()
    assert (report.labels_recorded, report.other_authors_recorded) == (11, 10)
    assert [ws.store.get(f"r{i:03d}").label for i in range(10)] == BOB  # the latest label stays effective
    r = store_agreement(ws.store, ws.taxonomy.training_keys)
    assert r.authors == ["ann@example.com", "bob@example.com"] and r.assets == 10
    assert math.isclose(r.cohen_kappa, 0.6)  # p_o 0.8, p_e 0.5: as when both label locally
    assert r.disagreement_ids == ["r004", "r009"]
    n_events = len(ws.store.label_history())
    again = Workspace.open(ws.root).kili_pull(full=True)
    assert (again.labels_recorded, again.other_authors_recorded) == (0, 0)
    assert len(ws.store.label_history()) == n_events
    srv.state.label(pid, "r004", "INTERFACE", email="ann@example.com")  # ann comes round, now the latest
    third = ws.kili_pull()
    assert third.labels_recorded == 1  # ann's is now the latest label, bob's is recorded already
    assert store_agreement(ws.store).disagreement_ids == ["r009"]


def test_a_review_labeled_here_after_kili_keeps_every_kili_authors_label_in_the_history(two_authors):
    """Labeled here after ann and bob labeled it in Kili: the pull kept the label here and recorded
    only bob's (the latest) in the history; ann's was left out, where the next review kept both."""
    ws, srv, pid = two_authors
    ws.author = "carol@example.com"
    ws.label("r000", "SUBSCRIPTION")
    report = ws.kili_pull()
    assert report.local_kept == 1 and ws.store.get("r000").label == "SUBSCRIPTION"
    kili_authors = {e: sorted(x.author for x in ws.store.label_history(e) if x.source == "kili")
                    for e in ("r000", "r001")}
    assert kili_authors == {"r000": ["ann@example.com", "bob@example.com"],
                            "r001": ["ann@example.com", "bob@example.com"]}
    n_events = len(ws.store.label_history())
    for again in (ws.kili_pull(), ws.kili_pull(full=True)):
        assert again.other_authors_recorded == 0 and again.labels_recorded == 0
    assert len(ws.store.label_history()) == n_events
    (r000,) = [d for d in store_agreement(ws.store).disagreements if d.external_id == "r000"]
    assert r000.labels == {"ann@example.com": "CONTENT", "bob@example.com": "CONTENT",
                           "carol@example.com": "SUBSCRIPTION"}
