"""The Kili backend through the real kili SDK against the loopback server (tests/kili_server.py).

Every test drives the real SDK over HTTP and asserts on what it sent (the server's operation log)
and on the workspace store.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from reviewtui.backends.kili import DECLINED, KiliBackend, map_step
from reviewtui.backends.kili_interface import build_interface
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.settings import BackendSettings
from reviewtui.store import NewAsset
from reviewtui.workspace import Workspace
from tests.kili_server import TEST_KEY, kili_server  # noqa: F401  (fixture)

FAST = {"retry_deadline": 1, "request_timeout": 10}  # a loaded machine's slow answer is not a dead server


def make_ws(tmp_path: Path, n: int = 250, settings: dict | None = FAST) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", backend="kili")
    if settings is not None:
        ws.config.update_section("kili", dict(settings))
    ws.store.add_assets([NewAsset(f"r{i:03d}", f"review number {i}: the app is fine",
                                  {"score": i % 5 + 1, "app_version": "4.5.0", "at": "2026-01-02 10:00:00",
                                   "user_name": "Ann", "app": ("com.a", "com.b")[i % 2]}) for i in range(n)])
    return ws


def kili_store_events(ws: Workspace) -> list:
    return [e for e in ws.store.label_history() if e.source == "kili"]


@pytest.fixture
def pushed(tmp_path, kili_server):
    """A workspace with 250 assets, a created project, and everything pushed."""
    ws = make_ws(tmp_path)
    ws.kili_create("Reviews")
    ws.kili_push()
    kili_server.clear_log()
    yield ws, kili_server, ws.settings.backend.project_id
    ws.close()


# -- project ------------------------------------------------------------------------------------
def test_create_sends_the_taxonomy_interface_and_keeps_the_id(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=0)
    info = ws.kili_create("App reviews", "Customer reviews to classify")
    (sent,) = kili_server.calls("createProject")
    assert sent["data"]["inputType"] == "TEXT"
    assert sent["data"]["title"] == "App reviews" and sent["data"]["description"] == "Customer reviews to classify"
    assert isinstance(sent["data"]["jsonInterface"], str)  # travels as a JSON string
    iface = json.loads(sent["data"]["jsonInterface"])
    job0, job1 = iface["jobs"]["JOB_0"], iface["jobs"]["JOB_1"]
    assert job0["mlTask"] == "CLASSIFICATION" and job0["required"] == 1 and job0["content"]["input"] == "radio"
    assert list(job0["content"]["categories"]) == ws.taxonomy.keys
    assert job0["content"]["categories"]["USER_EXPERIENCE"]["name"] == "User experience"
    assert job1["mlTask"] == "NAMED_ENTITIES_RECOGNITION"
    assert {k: v["color"] for k, v in job1["content"]["categories"].items()} == {c.key: c.colour for c in ws.taxonomy}
    reopened = Workspace.open(ws.root)
    assert reopened.settings.backend == BackendSettings(kind="kili", project_id=info.id)
    assert reopened.settings.kili.classification_job == "JOB_0" and reopened.settings.kili.ner_job == "JOB_1"
    assert isinstance(reopened.backend, KiliBackend)
    with pytest.raises(ReviewtuiError, match="already uses Kili project"):
        ws.kili_create("again")


def test_attach_checks_the_interface_and_explains_mismatches(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=0)
    iface = build_interface(ws.taxonomy)
    del iface["jobs"]["JOB_0"]["content"]["categories"]["CONTENT"]
    iface["jobs"]["JOB_0"]["content"]["categories"]["PRICING"] = {"name": "Pricing", "children": []}
    bad = kili_server.state.add_project(title="Old", json_interface=iface)
    with pytest.raises(ReviewtuiError) as err:
        ws.kili_attach(bad)
    assert "lacks the categories CONTENT" in str(err.value) and "PRICING" in str(err.value)
    assert Workspace.open(ws.root).settings.backend.project_id == ""
    with pytest.raises(ReviewtuiError, match="does not exist"):
        ws.kili_attach("no-such-project")
    good = kili_server.state.add_project(title="Good", json_interface=build_interface(ws.taxonomy))
    info = ws.kili_attach(good)
    assert info.check.ok and Workspace.open(ws.root).settings.backend.project_id == good


def test_attaching_another_project_forgets_the_old_asset_ids(pushed):
    ws, srv, pid = pushed
    assert ws.store.get("r000").remote_id
    other = srv.state.add_project(title="Other", json_interface=build_interface(ws.taxonomy))
    ws.kili_attach(other)
    assert ws.store.get("r000").remote_id is None
    result = ws.backend.send_to_review(["r000"])
    assert "kili push" in result.failed["r000"] and srv.calls("addAssetsToReview") == []


def test_a_project_id_changed_in_reviewtui_toml_never_moves_the_old_projects_assets(pushed):
    ws, srv, pid = pushed
    srv.state.label(pid, "r000", "CONTENT")
    srv.state.label(pid, "r001", "CONTENT")
    other = srv.state.add_project(title="Other", json_interface=build_interface(ws.taxonomy))
    ws.config.update_section("backend", {"project_id": other})  # edited by hand
    moved = ws.backend.send_to_review(["r000"])
    assert moved.moved == [] and "kili push" in moved.failed["r000"]
    assert ws.backend.set_priorities({"r002": 3}).moved == []
    sent = ws.backend.push_predictions({"r001": "CONTENT", "no-such-review": "CONTENT"}, "quick")
    assert sent.sent == 0 and "kili push" in sent.failed["r001"]
    # an id the workspace does not have: pushing would change nothing, so that is not the advice
    assert sent.failed["no-such-review"] == "not in this workspace (import the review first, or check the id)"
    assert srv.calls("addAssetsToReview") == srv.calls("setAssetsPriority") == srv.calls("appendManyLabels") == []
    assert srv.state.asset(pid, "r000")["status"] == "LABELED" and srv.state.asset(pid, "r002")["priority"] == 0
    assert ws.store.get("r000").remote_id is None

    ws.config.update_section("backend", {"project_id": "gone"})
    for act in (lambda: ws.backend.send_to_review(["r001"]), lambda: ws.backend.set_priorities({"r002": 3}),
                lambda: ws.backend.push_predictions({"r001": "CONTENT"}, "quick")):
        with pytest.raises(ReviewtuiError, match="'gone' does not exist"):
            act()
    assert srv.calls("addAssetsToReview") == srv.calls("setAssetsPriority") == srv.calls("appendManyLabels") == []


# -- push ---------------------------------------------------------------------------------------
def test_push_uploads_in_batches_of_100_with_ids_and_metadata(tmp_path, kili_server):
    ws = make_ws(tmp_path)
    pid = ws.kili_create("Reviews").id
    events: list = []
    report = ws.kili_push(on_event=events.append)
    batches = kili_server.calls("appendManyAssets")
    assert [len(b["data"]["externalIDArray"]) for b in batches] == [100, 100, 50]
    sent_ids = [e for b in batches for e in b["data"]["externalIDArray"]]
    assert sent_ids == [f"r{i:03d}" for i in range(250)]
    meta = json.loads(batches[0]["data"]["jsonMetadataArray"][3])
    assert meta == {"app": "com.b", "score": 4, "app_version": "4.5.0", "date": "2026-01-02 10:00:00"}  # no user name
    assert len(kili_server.calls("PUT")) == 250  # text goes through the signed-URL bucket
    assert kili_server.text_of(pid, "r007") == "review number 7: the app is fine"
    assert (report.pushed, report.already_in_kili, report.batches, report.left_out) == (250, 0, 3, 0)
    assert [e.done for e in events if isinstance(e, Progress) and e.total == 250] == [0, 100, 200, 250]
    assert ws.store.get("r007").remote_id == kili_server.state.asset(pid, "r007")["id"]
    again = ws.kili_push()  # nothing new: no append at all
    assert (again.pushed, again.already_in_kili) == (0, 250) and len(kili_server.calls("appendManyAssets")) == 3


def test_push_cap_reports_what_was_left_out(tmp_path, kili_server):
    ws = make_ws(tmp_path)
    ws.kili_create("Reviews")
    report = ws.kili_push(limit=120)
    assert report.pushed == 120 and report.left_out == 130 and report.left_out_ids[0] == "r120"
    assert [len(b["data"]["externalIDArray"]) for b in kili_server.calls("appendManyAssets")] == [100, 20]
    # the cap counts what a push sends: the same push again sends the next 120 (it sent none)
    again = ws.kili_push(limit=120)
    assert (again.pushed, again.already_in_kili, again.left_out) == (120, 120, 10)
    assert ws.kili_push(limit=120).pushed == 10


def test_push_answer_lost_mid_push_then_rerun_creates_no_duplicate(tmp_path, kili_server):
    ws = make_ws(tmp_path)
    pid = ws.kili_create("Reviews").id
    # the 2nd batch is applied by Kili but its answer never arrives (the SDK does not resend it)
    kili_server.fail("appendManyAssets", "drop", after=1)
    with pytest.raises(ReviewtuiError) as err:
        ws.kili_push()
    msg = str(err.value)
    assert "r100" in msg and "100 assets were pushed before" in msg and "reviewtui kili push" in msg
    assert len(kili_server.state.assets[pid]) == 200
    report = ws.kili_push()
    assert report.pushed == 50 and report.already_in_kili == 200
    ext = [a["externalId"] for a in kili_server.state.assets[pid]]
    assert len(ext) == len(set(ext)) == 250


def test_push_killed_between_batches_resumes(tmp_path, kili_server):
    ws = make_ws(tmp_path)
    pid = ws.kili_create("Reviews").id

    def die_after_first_batch(event):
        if isinstance(event, Progress) and event.task == "kili push" and event.done == 100:
            raise KeyboardInterrupt  # the process is killed here

    with pytest.raises(KeyboardInterrupt):
        ws.kili_push(on_event=die_after_first_batch)
    assert len(kili_server.state.assets[pid]) == 100
    kili_server.clear_log()
    ws.kili_push()
    resent = [e for b in kili_server.calls("appendManyAssets") for e in b["data"]["externalIDArray"]]
    assert resent == [f"r{i:03d}" for i in range(100, 250)]
    assert len({a["externalId"] for a in kili_server.state.assets[pid]}) == len(kili_server.state.assets[pid]) == 250


def test_assets_deleted_in_kili_are_not_pushed_again_unless_asked(pushed):
    ws, srv, pid = pushed
    srv.state.assets[pid] = [a for a in srv.state.assets[pid] if a["externalId"] not in ("r003", "r007")]
    events: list = []
    report = ws.kili_push(on_event=events.append)
    assert srv.calls("appendManyAssets") == []
    assert (report.pushed, report.deleted_in_kili, report.already_in_kili) == (0, 2, 248)
    assert report.deleted_ids == ["r003", "r007"]
    assert any("deleted in Kili" in getattr(e, "text", "") and "--restore-deleted" in e.text for e in events)
    again = ws.kili_push(restore_deleted=True)
    (sent,) = srv.calls("appendManyAssets")
    assert sent["data"]["externalIDArray"] == ["r003", "r007"]
    assert (again.pushed, again.restored, again.deleted_in_kili) == (2, 2, 0)
    assert ws.store.get("r003").remote_id == srv.state.asset(pid, "r003")["id"]


def test_a_push_running_alongside_another_counts_what_it_created(tmp_path, kili_server, monkeypatch):
    ws = make_ws(tmp_path, n=150)
    pid = ws.kili_create("Reviews").id
    upload = kili_server._op_createUploadBucketSignedUrls

    def teammate_pushes_first(v):  # between the SDK's check and its append, another push lands
        if not kili_server.state.assets[pid]:
            for i in range(0, 100, 2):
                kili_server.add_remote_asset(pid, f"r{i:03d}", f"review number {i}: the app is fine")
        return upload(v)

    monkeypatch.setattr(kili_server, "_op_createUploadBucketSignedUrls", teammate_pushes_first)
    report = ws.kili_push()
    ext = [a["externalId"] for a in kili_server.state.assets[pid]]
    assert len(ext) == len(set(ext)) == 150
    assert (report.pushed, report.already_in_kili) == (100, 50)
    assert all(ws.store.get(f"r{i:03d}").remote_id == kili_server.state.asset(pid, f"r{i:03d}")["id"]
               for i in range(150))


def test_push_can_be_cancelled(tmp_path, kili_server):
    ws = make_ws(tmp_path)
    ws.kili_create("Reviews")
    cancel = threading.Event()
    report = ws.kili_push(on_event=lambda e: cancel.set() if isinstance(e, Progress) and e.done == 100 else None,
                          cancel=cancel)
    assert report.cancelled and report.pushed == 100


# -- pull ---------------------------------------------------------------------------------------
def test_pull_records_labels_statuses_spans_and_is_incremental(pushed):
    ws, srv, pid = pushed
    st = srv.state
    for i in range(40):
        st.label(pid, f"r{i:03d}", ["CONTENT", "INTERFACE", "SUBSCRIPTION", "USER_EXPERIENCE"][i % 4],
                 email=f"lab{i % 3}@example.com")
    st.label(pid, "r001", "INTERFACE", spans=[{"category": "INTERFACE", "start": 0, "end": 6, "text": "review"}],
             email="rev@example.com", label_type="REVIEW")  # reviewed, with an evidence span
    st.skip(pid, "r050")
    st._set_status(pid, st.asset(pid, "r051"), "ONGOING")
    report = ws.kili_pull()
    assert report.labels_recorded == 40 and report.skips_recorded == 1 and report.statuses_changed == 1
    assert report.unchanged == 250 - 42  # each review counted once (a skip's review was counted twice)
    ev = [e for e in kili_store_events(ws) if e.external_id == "r001"]
    assert (ev[-1].category, ev[-1].author, ev[-1].source) == ("INTERFACE", "rev@example.com", "kili")
    assert ev[-1].spans == [{"category": "INTERFACE", "start": 0, "end": 6, "text": "review"}]
    assert ev[-1].created_at == st.asset(pid, "r001")["latestLabel"]["createdAt"]
    assert ws.store.get("r001").status == "REVIEWED" and ws.store.get("r002").status == "LABELED"
    assert ws.store.get("r050").skipped and ws.store.get("r051").status == "ONGOING"
    assert ws.store.counts_by_status()["LABELED"] == 39
    n_events = len(ws.store.label_history())

    again = ws.kili_pull()  # incremental: from the day of the newest updatedAt seen
    where = srv.calls("assets")[-1]["where"]
    assert len(where["updatedAtGte"]) == 10 and again.labels_recorded == 0
    assert 0 < again.assets_seen < 250
    assert len(ws.store.label_history()) == n_events
    full = ws.kili_pull(full=True)
    assert full.assets_seen == full.unchanged == 250 and full.labels_recorded == 0
    assert len(ws.store.label_history()) == n_events and again.unchanged == again.assets_seen
    st.label(pid, "r002", "OTHER")  # relabeled in Kili
    third = ws.kili_pull()
    assert third.labels_recorded == 1 and ws.store.get("r002").label == "OTHER"
    assert third.unchanged == third.assets_seen - 1


def test_a_new_project_without_the_labels_pulled_from_the_old_one_keeps_them_in_the_next_version(pushed):
    """Moving to a new Kili project (the old one's id removed, a project made anew, everything
    pushed to it): its pull found none of the labels pulled from the old one, set the reviews back
    to TODO and took their skips off, and the next export left every one of them out."""
    ws, srv, pid = pushed
    for i in range(12):
        srv.state.label(pid, f"r{i:03d}", ["CONTENT", "INTERFACE"][i % 2])
    srv.state.skip(pid, "r020")
    ws.kili_pull()
    first = ws.export()
    assert first.rows == 12 and ws.store.get("r020").skipped
    other = srv.state.add_project(title="Again", json_interface=build_interface(ws.taxonomy))
    ws.config.update_section("backend", {"project_id": other})
    ws.kili_push()
    report = ws.kili_pull()
    assert sorted(report.kili_label_gone) == [f"r{i:03d}" for i in range(12)]
    assert ws.store.get("r003").status == "LABELED" and ws.store.get("r003").label == "INTERFACE"
    assert ws.export() is None  # the same reviews and labels (under the new project's asset ids): none left out
    from reviewtui.cli.render import kili_lines

    said = " ".join(" ".join(kili_lines("pull", report)).split())
    assert f"12 reviews labeled from Kili before have no label in project {other} now" in said


def test_pull_keeps_the_labels_given_here_unless_kili_has_a_newer_one(pushed):
    """A label given in the workspace (the app, ``label``) is not in Kili: a pull that finds no
    label there, or an older one, leaves its label and status as they are."""
    from datetime import datetime, timedelta, timezone

    ws, srv, pid = pushed
    st = srv.state
    st.label(pid, "r000", "CONTENT", email="lab@example.com")  # in Kili first
    assert ws.kili_pull().labels_recorded == 1
    for ext in ("r000", "r100", "r101", "r102"):
        ws.label(ext, "INTERFACE")  # r000 corrected here, the others labeled here only
    report = ws.kili_pull(full=True)
    assert report.local_kept == 4 and report.statuses_changed == 0 and report.labels_recorded == 0
    assert {e: (ws.store.get(e).label, ws.store.get(e).status) for e in ("r000", "r100", "r101", "r102")} == \
        {e: ("INTERFACE", "LABELED") for e in ("r000", "r100", "r101", "r102")}
    assert ws.export().rows == 4
    # a label given in Kili after the local one wins, as any newer label does
    st._clock = datetime.now(timezone.utc) + timedelta(days=1)
    st.label(pid, "r100", "SUBSCRIPTION", email="lab@example.com")
    again = ws.kili_pull(full=True)
    assert again.labels_recorded == 1 and again.local_kept == 3
    assert (ws.store.get("r100").label, ws.store.get("r100").status) == ("SUBSCRIPTION", "LABELED")
    # an older Kili label of a review corrected here stays in the history, not over the correction
    older = [e for e in ws.store.label_history() if e.external_id == "r000" and e.source == "kili"]
    assert [e.category for e in older] == ["CONTENT"]
    # a review labeled here and skipped in Kili since keeps its label here, and the pull says so
    st.skip(pid, "r101")
    third = ws.kili_pull(full=True)
    assert third.kili_skips_not_taken == ["r101"] and not ws.store.get("r101").skipped
    from reviewtui.cli.render import kili_lines

    assert "1 review labeled here is skipped in Kili, e.g. r101: the label here is kept and the skip not taken" in \
        " ".join(" ".join(kili_lines("pull", third)).split())


def test_a_label_confirmed_here_is_kept_by_the_next_pull(pushed):
    """Sent to review (here and in Kili), then confirmed here (`c`): REVIEWED. The next pull set it
    back to TO_REVIEW from Kili's older state and recorded Kili's label again, so export left it
    out and asked for the confirmation the pull undid."""
    ws, srv, pid = pushed
    srv.state.label(pid, "r003", "CONTENT", email="lab@example.com")
    ws.kili_pull()
    assert ws.send_to_review(["r003"]).moved == ["r003"]
    ws.confirm_label("r003", "CONTENT")
    assert ws.store.get("r003").status == "REVIEWED"
    events = len(ws.store.label_history("r003"))
    report = ws.kili_pull(full=True)
    assert report.local_kept >= 1 and report.labels_recorded == 0
    assert (ws.store.get("r003").label, ws.store.get("r003").status) == ("CONTENT", "REVIEWED")
    assert len([e for e in ws.store.label_history("r003") if e.kind != "undo"]) >= events
    assert "r003" in {r["externalId"] for r in ws.load_version(ws.export().name).to_dict("records")}


def test_a_status_moved_in_kili_is_a_status_change_not_a_new_label(pushed):
    """A reviewer moves labeled reviews to review in Kili and back, with no new label: each pull
    recorded the same label again as a new event of its author (stats counted 30 labels for 10)."""
    ws, srv, pid = pushed
    st = srv.state
    ids = ["r010", "r011", "r012"]
    for e in ids:
        st.label(pid, e, "CONTENT", email="ann@example.com")
    assert ws.kili_pull().labels_recorded == 3
    for status in ("TO_REVIEW", "ONGOING"):
        for e in ids:
            a = st.asset(pid, e)
            st._set_status(pid, a, status)
            a["updatedAt"] = st.tick()
        report = ws.kili_pull()
        assert report.labels_recorded == 0 and report.statuses_changed == 3
        assert {ws.store.get(e).status for e in ids} == {status}
    for e in ids:
        assert [ev.kind for ev in ws.store.label_history(e)] == ["label", "status", "status"]


def test_pull_with_unknown_category_records_nothing_then_rerun_finishes(pushed):
    ws, srv, pid = pushed
    for i in range(5):
        srv.state.label(pid, f"r{i:03d}", "CONTENT")
    srv.state.label(pid, "r003", "PRICING")
    with pytest.raises(ReviewtuiError) as err:
        ws.kili_pull()
    assert "r003" in str(err.value) and "'PRICING'" in str(err.value) and "Nothing was recorded" in str(err.value)
    assert str(err.value).startswith("1 Kili label cannot be recorded")
    assert kili_store_events(ws) == [] and ws.store.get_meta(f"kili.pull_cursor.{pid}") is None
    srv.state.label(pid, "r003", "INTERFACE")  # fixed in Kili
    assert ws.kili_pull().labels_recorded == 5


def test_pull_interrupted_while_writing_leaves_the_store_as_it_was(pushed, monkeypatch):
    ws, srv, pid = pushed
    for i in range(6):
        srv.state.label(pid, f"r{i:03d}", "CONTENT")
    srv.state.skip(pid, "r050")
    srv.add_remote_asset(pid, "web-2", "added in Kili", {"score": 4})
    history = len(ws.store.label_history())
    real_skip = type(ws.store).skip

    def killed(*args, **kwargs):  # the labels, statuses and new asset are written by now
        raise KeyboardInterrupt

    monkeypatch.setattr(type(ws.store), "skip", killed)
    with pytest.raises(KeyboardInterrupt):
        ws.kili_pull()
    assert len(ws.store.label_history()) == history and ws.store.find("web-2") is None
    assert ws.store.get_meta(f"kili.pull_cursor.{pid}") is None and not ws.store.get("r050").skipped
    monkeypatch.setattr(type(ws.store), "skip", real_skip)
    report = ws.kili_pull()
    assert (report.labels_recorded, report.skips_recorded, report.new_assets) == (6, 1, 1)
    assert ws.store.get_meta(f"kili.pull_cursor.{pid}") is not None


def test_pull_reads_label_json_from_the_bucket(pushed):
    ws, srv, pid = pushed
    srv.state.json_response_urls = True  # Kili serves big label json through a URL
    srv.state.label(pid, "r004", "SUBSCRIPTION", spans=[{"category": "SUBSCRIPTION", "start": 0, "end": 6}])
    assert ws.kili_pull().labels_recorded == 1
    assert ws.store.get("r004").label == "SUBSCRIPTION" and ws.store.latest_spans("r004")[0]["end"] == 6


def test_pull_brings_assets_added_in_kili(pushed):
    ws, srv, pid = pushed
    srv.add_remote_asset(pid, "web-1", "added in the Kili web app", {"score": 2, "date": "2026-02-03", "app": "com.a"})
    srv.state.label(pid, "web-1", "OTHER")
    events: list = []
    report = ws.kili_pull(on_event=events.append)
    assert report.new_assets == 1
    # the texts' download is said (a teammate's first pull downloads every review, one by one)
    texts = [(e.done, e.total) for e in events if isinstance(e, Progress) and e.task == "kili pull: texts"]
    assert texts[0] == (0, 1) and texts[-1] == (1, 1)
    a = ws.store.get("web-1")  # Kili's metadata keys read back as a push wrote them
    assert (a.text, a.metadata, a.label) == ("added in the Kili web app",
                                             {"score": 2, "at": "2026-02-03", "app": "com.a"}, "OTHER")


def test_pull_refuses_when_the_interface_changed_in_kili(pushed):
    ws, srv, pid = pushed
    iface = json.loads(srv.state.projects[pid]["jsonInterface"])
    del iface["jobs"]["JOB_0"]["content"]["categories"]["OTHER"]
    srv.state.projects[pid]["jsonInterface"] = json.dumps(iface)
    msg, _ = timed(lambda: Workspace.open(ws.root).kili_pull())
    assert "no longer matches" in msg and "OTHER" in msg


# -- review, queue, priorities, predictions -----------------------------------------------------
def test_send_to_review_and_back_to_queue_use_the_current_sdk_calls(pushed):
    ws, srv, pid = pushed
    for i in range(6):
        srv.state.label(pid, f"r{i:03d}", "CONTENT")
    ws.kili_pull()
    srv.clear_log()
    ws.store.add_assets([NewAsset("local-only", "never pushed")])
    result = ws.backend.send_to_review(["r000", "r001", "r002", "r200", "local-only"])
    (call,) = srv.calls("addAssetsToReview")
    ids = {srv.state.asset(pid, e)["id"] for e in ("r000", "r001", "r002", "r200")}
    assert set(call["where"]["idIn"]) == ids
    assert sorted(result.moved) == ["r000", "r001", "r002"]
    assert "no label yet" in result.failed["r200"] and "kili push" in result.failed["local-only"]
    assert ws.store.get("r001").status == "TO_REVIEW" and ws.store.get("r200").status == "TODO"
    assert srv.state.asset(pid, "r001")["status"] == "TO_REVIEW"
    back = ws.backend.send_back_to_queue(["r001", "r201"])
    assert srv.calls("sendAssetsBackToQueue")[0]["where"]["idIn"]
    assert back.moved == ["r001"] and "still to be labeled" in back.failed["r201"]
    assert ws.store.get("r001").status == "ONGOING"
    assert "updatePropertiesInAssets" not in srv.op_names()  # the deprecated call silently drops statuses


def test_diff_to_review_moves_changed_assets_in_kili(pushed):
    ws, srv, pid = pushed
    for i in range(10):
        srv.state.label(pid, f"r{i:03d}", "CONTENT")
    ws.kili_pull()
    v1 = ws.export()
    for i in range(3):
        srv.state.label(pid, f"r{i:03d}", "INTERFACE")
    ws.kili_pull()
    v2 = ws.export()
    result = ws.diff_to_review(ws.diff(v1.name, v2.name))
    assert sorted(result.moved) == ["r000", "r001", "r002"] and not result.failed
    assert len(srv.calls("addAssetsToReview")[0]["where"]["idIn"]) == 3


def test_priorities_go_through_set_assets_priority(pushed):
    ws, srv, pid = pushed
    srv.state.label(pid, "r009", "CONTENT")
    ws.kili_pull()
    srv.clear_log()
    result = ws.backend.set_priorities({"r010": 5, "r011": 5, "r012": 2, "r009": 5})
    calls = srv.calls("setAssetsPriority")
    assert [(c["priority"], len(c["where"]["idIn"])) for c in calls] == [(5, 3), (2, 1)]
    assert sorted(result.moved) == ["r010", "r011", "r012"] and "not waiting" in result.failed["r009"]
    assert srv.state.asset(pid, "r010")["priority"] == 5 and ws.store.get("r012").priority == 2
    ws.backend.set_priorities({"r020": 3})  # the earlier ones go back to 0, in Kili too
    assert srv.state.asset(pid, "r010")["priority"] == 0 and ws.store.get("r010").priority == 0
    assert srv.state.asset(pid, "r020")["priority"] == 3


def test_predictions_are_sent_as_pre_annotations_with_model_name_and_version(pushed):
    ws, srv, pid = pushed
    report = ws.kili_push_predictions({"r000": ("CONTENT", 0.91), "r001": "Interface", "zzz": "OTHER"},
                                      "quick", "3")
    (call,) = srv.calls("appendManyLabels")
    assert call["data"]["labelType"] == "PREDICTION"
    items = call["data"]["labelsData"]
    assert {i["modelName"] for i in items} == {"quick@3"}
    assert json.loads(items[0]["jsonResponse"]) == {"JOB_0": {"categories": [{"name": "CONTENT", "confidence": 91}]}}
    assert json.loads(items[1]["jsonResponse"]) == {"JOB_0": {"categories": [{"name": "INTERFACE"}]}}
    assert report.sent == 2 and "zzz" in report.failed
    assert json.loads(ws.store.get_meta("kili.predictions"))[-1]["kili_model_name"] == "quick@3"
    with pytest.raises(ReviewtuiError, match="unknown label 'PRICING'"):
        ws.kili_push_predictions({"r000": "PRICING"}, "quick", "3")
    srv.clear_log()
    with pytest.raises(ReviewtuiError, match=r"2 predictions have a confidence that is not a number from 0 to 1 "
                                             r"\(r000: 1\.7; r001: 'high'\); nothing was sent"):
        ws.kili_push_predictions({"r000": ("CONTENT", 1.7), "r001": ("CONTENT", "high"), "r002": ("CONTENT", 0.5)},
                                 "quick", "4")
    assert srv.calls("appendManyLabels") == []


# -- workflow with steps (V2) -------------------------------------------------------------------
def test_step_workflow_maps_steps_to_statuses(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=8)
    pid = kili_server.state.add_project(json_interface=build_interface(ws.taxonomy), workflow="V2")
    info = ws.kili_attach(pid)
    assert info.workflow == "V2"
    ws.kili_push()
    st = kili_server.state
    st.label(pid, "r000", "CONTENT")                      # labeling done -> waits in the review step
    st.label(pid, "r001", "CONTENT", label_type="REVIEW")  # review done
    st._set_status(pid, st.asset(pid, "r002"), "ONGOING")
    st.skip(pid, "r003")
    ws.kili_pull()
    query = [o.query for o in kili_server.ops if o.name == "assets"][-1]
    assert "currentStep" in query
    got = {e: (ws.store.get(e).status, ws.store.get(e).skipped) for e in ("r000", "r001", "r002", "r003", "r004")}
    assert got == {"r000": ("TO_REVIEW", False), "r001": ("REVIEWED", False), "r002": ("ONGOING", False),
                   "r003": ("TODO", True), "r004": ("TODO", False)}


def test_map_step_table():
    assert map_step("DEFAULT", "TO_DO", False) == ("TODO", False)
    assert map_step("DEFAULT", "IN_PROGRESS", False) == ("ONGOING", False)
    assert map_step("DEFAULT", "REWORK", True) == ("ONGOING", False)
    assert map_step("DEFAULT", "DONE", True) == ("LABELED", False)
    assert map_step("REVIEW", "TO_DO", True) == ("TO_REVIEW", False)
    assert map_step("REVIEW", "DONE", True) == ("REVIEWED", False)
    assert map_step("DEFAULT", "SKIPPED", False) == ("TODO", True)
    assert map_step(None, None, True) == ("LABELED", False)


# -- bad input and faults ----------------------------------------------------------------------
def timed(fn):
    start = time.monotonic()
    with pytest.raises(ReviewtuiError) as err:
        fn()
    return str(err.value), time.monotonic() - start


def test_no_key_fails_before_any_request(tmp_path, kili_server, monkeypatch):
    monkeypatch.delenv("KILI_API_KEY")
    ws = make_ws(tmp_path, n=1)
    msg, _ = timed(lambda: ws.kili_create("x"))
    assert "KILI_API_KEY" in msg and kili_server.ops == []
    assert "If Kili shows a new project" not in msg  # nothing can have been created without a key


def test_key_and_endpoint_from_dotenv(tmp_path, kili_server, monkeypatch):
    monkeypatch.delenv("KILI_API_KEY")
    endpoint = kili_server.endpoint
    monkeypatch.delenv("KILI_API_ENDPOINT")
    ws = make_ws(tmp_path, n=1)
    (ws.root / ".env").write_text(f"KILI_API_KEY={TEST_KEY}\nKILI_API_ENDPOINT={endpoint}\n")
    assert ws.kili_create("from dotenv").id
    import os

    assert "KILI_API_KEY" not in os.environ  # read from the file, not exported


def test_wrong_key_fails_in_seconds_with_default_settings(tmp_path, kili_server, monkeypatch):
    monkeypatch.setenv("KILI_API_KEY", "not-the-right-key-123456")
    ws = make_ws(tmp_path, n=1, settings=None)  # the shipped retry deadline and timeout
    msg, took = timed(lambda: ws.kili_create("x"))
    assert "rejected the API key (HTTP 401)" in msg and took < 15
    assert "not-the-right-key-123456" not in msg


@pytest.mark.parametrize("kind, expect", [("429", "rate-limiting"), ("500", "HTTP 500")])
def test_http_errors_give_a_clear_message(tmp_path, kili_server, kind, expect):
    ws = make_ws(tmp_path, n=3)
    ws.kili_create("Reviews")
    kili_server.fail("*", kind, times=None)
    msg, took = timed(lambda: ws.kili_push())
    assert expect in msg and took < 15


def test_wrong_endpoint_path_and_bad_settings(tmp_path, kili_server, monkeypatch):
    monkeypatch.setenv("KILI_API_ENDPOINT", kili_server.endpoint.replace("/api/label/v2/graphql", "/graphql"))
    ws = make_ws(tmp_path, n=1)
    msg, took = timed(lambda: ws.kili_create("x"))
    assert "no Kili API at" in msg and "KILI_API_ENDPOINT" in msg and took < 15
    config = ws.root / "reviewtui.toml"
    before = config.read_bytes()
    with pytest.raises(ReviewtuiError, match=r"reviewtui.toml \[kili\] request_timeout must be a number, not 'soon'"):
        ws.config.update_section("kili", {"request_timeout": "soon"})
    with pytest.raises(ReviewtuiError, match=r"\[kili\] retry_deadline must be between 0.01 and 3,600, not 0"):
        ws.config.update_section("kili", {"retry_deadline": 0})
    assert config.read_bytes() == before and ws.settings.kili.request_timeout == FAST["request_timeout"]
    config.write_text(before.decode().replace("request_timeout = 10", 'request_timeout = "soon"'))
    msg, _ = timed(lambda: Workspace.open(ws.root))
    assert "[kili] request_timeout must be a number" in msg


def test_unreachable_network(tmp_path, kili_server, monkeypatch):
    ws = make_ws(tmp_path, n=3, settings=None)
    ws.config.update_section("backend", {"project_id": "proj-x"})
    kili_server.stop()
    msg, took = timed(lambda: ws.kili_pull())
    assert "cannot reach Kili" in msg and took < 15


def test_timeout_mid_push_then_rerun_finishes(tmp_path, kili_server):
    ws = make_ws(tmp_path, settings=None)  # default request timeout
    pid = ws.kili_create("Reviews").id
    kili_server.fail("appendManyAssets", "hang", after=1, seconds=8)
    msg, took = timed(lambda: ws.kili_push())
    assert "did not answer" in msg and "Rerun `reviewtui kili push`" in msg and took < 15
    kili_server.clear_faults()
    ws.kili_push()
    ext = [a["externalId"] for a in kili_server.state.assets[pid]]
    assert len(ext) == len(set(ext)) == 250


def test_bucket_upload_hang_fails_fast_then_rerun_finishes(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=150, settings=None)  # default request timeout
    pid = ws.kili_create("Reviews").id
    kili_server.fail("PUT", "hang", after=120, seconds=8)  # during the 2nd batch's text uploads
    msg, took = timed(lambda: ws.kili_push())
    assert "did not answer within 5 s" in msg and took < 15
    assert len(kili_server.state.assets[pid]) == 100
    kili_server.clear_faults()
    assert ws.kili_push().pushed == 50 and len(kili_server.state.assets[pid]) == 150


def test_create_whose_answer_is_lost_says_how_to_recover(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=1)
    kili_server.fail("createProject", "drop")
    msg, took = timed(lambda: ws.kili_create("Reviews"))
    assert "did not answer createProject" in msg and "kili attach" in msg and took < 15
    (pid,) = kili_server.state.projects  # it was created: attaching it finishes the job
    assert ws.kili_attach(pid).id == pid


def test_unknown_project_id_in_config(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=3)
    ws.config.update_section("backend", {"project_id": "gone"})
    msg, _ = timed(lambda: ws.kili_push())
    assert "'gone' does not exist" in msg


def test_no_project_yet(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=3)
    msg, _ = timed(lambda: ws.kili_pull())
    assert "reviewtui kili create" in msg


def test_attaching_a_project_without_a_span_job_keeps_it_that_way(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=0)
    iface = build_interface(ws.taxonomy)
    del iface["jobs"]["JOB_1"]
    pid = kili_server.state.add_project(title="No spans", json_interface=iface)
    ws.kili_attach(pid)
    reopened = Workspace.open(ws.root)
    assert reopened.settings.backend.project_id == pid
    assert reopened.settings.kili.classification_job == "JOB_0" and reopened.settings.kili.ner_job == ""
    assert reopened.kili_backend().settings.ner_job == ""
    reopened.close()
    ws.close()


def test_the_backend_follows_a_changed_reviewtui_toml(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=0)
    first = ws.backend
    assert isinstance(first, KiliBackend) and ws.backend is first and ws.kili_backend() is first
    ws.config.update_section("kili", {"review_steps": ["Second opinion"]})
    assert ws.backend is not first and ws.backend.settings.review_steps == ["Second opinion"]
    ws.config.update_section("backend", {"kind": "local"})
    assert ws.backend.name == "local"
    ws.close()


def test_assets_kili_declines_are_listed_once_per_reason():
    from reviewtui import presentation as say
    from reviewtui.backends import MoveResult

    moved = MoveResult(["a"], {f"r{i}": DECLINED["review"] for i in range(12)} | {"x": "not in this workspace's store"})
    text = say.to_review_sentence(moved, limit=3)
    assert text.startswith("Sent 1 asset to review. 13 could not be moved: r0, r1, r2 and 9 more: Kili declined")
    assert text.count("Kili declined") == 1 and text.endswith("; x: not in this workspace's store")


def test_assets_not_moved_and_assets_kept_are_two_sentences():
    from reviewtui import presentation as say
    from reviewtui.backends import MoveResult

    moved = MoveResult(["a"], {"x": "not in this workspace's store"}, {"k": "already waiting in review"})
    assert say.to_review_sentence(moved) == ("Sent 1 asset to review. 1 could not be moved: x: not in this "
                                             "workspace's store. 1 asset left as it is: 1 already waiting in review.")


def test_the_next_steps_of_a_kili_workspace_go_through_kili(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=5)
    assert ws.status().next_steps[0].startswith("make the Kili project and send it the reviews: reviewtui kili create")
    ws.kili_create("Reviews")
    assert ws.status().next_steps[0] == "send Kili the 5 reviews it does not have yet: reviewtui kili push"
    ws.kili_push()
    assert ws.status().next_steps[0].startswith("label in the Kili project (0 labeled so far), then bring the "
                                                "labels here: reviewtui kili pull")


def test_a_queue_whose_priorities_kili_refuses_still_shows_the_batch(pushed):
    ws, srv, pid = pushed
    srv.fail("setAssetsPriority", "500", times=None)
    notices = []
    batch = ws.queue_batch("random", 5, on_event=lambda e: notices.append(e))
    assert len(batch.items) == 5 and batch.moved is not None and len(batch.moved.failed) == 5
    warned = [n.text for n in notices if getattr(n, "level", "") == "warning"]
    assert warned and warned[0].startswith("the queue's priorities were not set in the kili backend: ")


def test_undo_passes_over_what_a_pull_brought(pushed):
    """A label or a skip pulled from Kili stays in Kili: undone here, the next incremental pull would
    not bring it back (the asset did not change there). undo passes over them; a label given here by
    the same author is undone."""
    ws, srv, pid = pushed
    st = srv.state
    st.label(pid, "r000", "CONTENT", email="lab@example.com")
    st.skip(pid, "r050")
    report = ws.kili_pull()
    assert report.labels_recorded == 1 and report.skips_recorded == 1
    for author in ("lab@example.com", "kili"):
        ws.author = author
        assert ws.undo() is None
    assert ws.store.get("r000").label == "CONTENT" and ws.store.get("r050").skipped
    ws.author = "lab@example.com"
    ws.label("r100", "INTERFACE")
    undone = ws.undo()
    assert undone is not None and undone.external_id == "r100" and ws.store.get("r100").label is None
    assert ws.store.get("r000").label == "CONTENT"


def test_a_review_unskipped_in_kili_is_unskipped_by_the_pull_not_one_skipped_here(pushed):
    """Skipped in Kili, then un-skipped there: it stayed skipped here, even after a full pull. A
    review skipped here (not in Kili) stays skipped."""
    ws, srv, pid = pushed
    st = srv.state
    a = st.asset(pid, "r020")
    a["skipped"] = True
    a["updatedAt"] = st.tick()
    ws.kili_pull()
    assert ws.store.get("r020").skipped
    ws.skip("r021", "spam")  # skipped here only
    a["skipped"] = False
    a["updatedAt"] = st.tick()
    report = ws.kili_pull(full=True)
    assert not ws.store.get("r020").skipped and ws.store.get("r021").skipped
    assert report.skips_undone == 1 and report.skips_recorded == 0  # an unskip is not counted as a skip
    assert ws.store.label_history("r020")[-1].note == "unskipped"
    from reviewtui.cli.render import kili_lines

    assert "0 skips, 1 skip taken off" in kili_lines("pull", report)[0]


def test_a_dotenv_line_that_cannot_be_read_is_named_with_its_file_and_never_quoted(tmp_path, kili_server, monkeypatch,
                                                                                    caplog):
    monkeypatch.delenv("KILI_API_KEY")
    ws = make_ws(tmp_path, n=1)
    (ws.root / ".env").write_text(f'OTHER=1\nKILI_API_KEY="{TEST_KEY}\n', encoding="utf-8")  # a quote left open
    msg, _ = timed(lambda: ws.kili_create("x"))
    assert f"line 2 of {ws.root / '.env'} could not be read (not NAME=value: a quote left open?)" in msg
    assert TEST_KEY not in msg and TEST_KEY not in caplog.text and kili_server.ops == []
    assert "could not parse" not in caplog.text  # python-dotenv's own warning, which names no file


def test_a_rejected_key_says_where_it_came_from_and_an_endpoint_that_is_no_url_is_named(tmp_path, kili_server,
                                                                                       monkeypatch):
    monkeypatch.setenv("KILI_API_KEY", "stale-key-from-the-shell-123456")
    ws = make_ws(tmp_path, n=1)
    (ws.root / ".env").write_text(f"KILI_API_KEY={TEST_KEY}\n", encoding="utf-8")
    msg, _ = timed(lambda: ws.kili_create("x"))
    assert "rejected the API key (HTTP 401); check KILI_API_KEY (the environment's, which comes before the " \
           "workspace's .env)" in msg
    monkeypatch.setenv("KILI_API_KEY", TEST_KEY)
    for i, bad in enumerate(("htp://127.0.0.1:1/api", "127.0.0.1:1/api/label/v2/graphql")):
        monkeypatch.setenv("KILI_API_ENDPOINT", bad)
        fresh = make_ws(tmp_path / str(i), n=1)
        msg, _ = timed(lambda: fresh.kili_create("x"))
        assert msg.startswith(f"KILI_API_ENDPOINT (from the environment) is not an http(s) URL: {bad!r}"), msg
    assert kili_server.ops == [] or all("createProject" not in str(op) for op in kili_server.ops)


def test_an_export_after_a_push_that_only_gave_the_reviews_kili_ids_writes_no_version(tmp_path, kili_server):
    ws = make_ws(tmp_path, n=20)
    ws.kili_create("Reviews")
    ws.label("r001", "CONTENT")
    ws.label("r002", "INTERFACE")
    first = ws.export()
    ws.kili_push()
    assert ws.store.get("r001").remote_id  # the version's id column would now hold Kili's ids
    assert ws.export() is None and [v.name for v in ws.versions()] == [first.name]
    assert not any("export a dataset version" in step for step in ws.status().next_steps)
    ws.label("r003", "CONTENT")
    assert ws.export().rows == 3  # a label is a change, as before


BAD_KEYS = {"line break": "kq7Z-Wx3v\n9Tr-Pm2s-Ld5F", "curly quotes": "\u201ckq7Z-Wx3v9Tr-Pm2s-Ld5F\u201d",
            "space or tab": "kq7Z-Wx3v\t9Tr-Pm2s-Ld5F", "not plain ASCII": "kq7Z-Wx3v\u00e99Tr-Pm2s-Ld5F"}


def fragments(key: str, n: int = 4) -> set[str]:
    return {key[i:i + n] for i in range(len(key) - n + 1)}


@pytest.mark.parametrize("fault", BAD_KEYS)
@pytest.mark.parametrize("where", ["environment", "dotenv"])
def test_a_key_no_header_can_carry_is_named_with_its_source_before_any_request(tmp_path, kili_server, monkeypatch,
                                                                               fault, where):
    """A key pasted with a line break or curly quotes failed inside the SDK: "InvalidHeader: ...
    'X-API-Key: ***ET\\n9d8c***'" (the middle of the key) or a latin-1 UnicodeEncodeError."""
    key = BAD_KEYS[fault]
    ws = make_ws(tmp_path, n=1)
    if where == "environment":
        monkeypatch.setenv("KILI_API_KEY", key)
        came = "the environment"
    else:
        monkeypatch.delenv("KILI_API_KEY")
        (ws.root / ".env").write_text(f"KILI_API_KEY={json.dumps(key, ensure_ascii=False)}\n", encoding="utf-8")
        came = str(ws.root / ".env")
    msg, _ = timed(lambda: ws.kili_create("x"))
    assert msg.startswith(f"KILI_API_KEY (from {came}) has characters an API key cannot have (")
    assert fault.split(" ")[-1] in msg and "paste it again" in msg and kili_server.ops == []
    assert not [f for f in fragments(key) if f in msg]


def test_redact_hides_the_key_as_an_sdk_message_escapes_it():
    """requests quotes a header value with repr(): the escaped line break let six characters of the
    key's middle through."""
    from reviewtui.backends.kili_client import redact

    key = BAD_KEYS["line break"]
    said = f"InvalidHeader: ... in header value: {'X-API-Key: ' + key!r}"
    assert redact(said, key) == "InvalidHeader: ... in header value: 'X-API-Key: ***'"
    escaped = repr(key)[1:-1]
    for cut in (escaped[3:-3], escaped[7:13], json.dumps(key)[2:-2], key[2:9]):
        out = redact(f"value: {cut}!", key)
        assert out == "value: ***!" and not [f for f in fragments(escaped, 6) | fragments(key, 6) if f in out]


def test_attach_matches_the_reviews_the_project_holds_by_batches_of_ids(pushed, tmp_path):
    """A second workspace with 120 of the project's 250 reviews and 5 of its own: attach asks for
    its ids by batches of 100 (not the whole project), keeps the Kili ids, and 5 are left to push."""
    ws, srv, pid = pushed
    other = Workspace.init(tmp_path / "b", backend="kili")
    other.config.update_section("kili", dict(FAST))
    other.store.add_assets([NewAsset(f"r{i:03d}", f"review number {i}: the app is fine") for i in range(120)]
                           + [NewAsset(f"new{i}", f"a review of its own {i}") for i in range(5)])
    info = other.kili_attach(pid)
    asked = [c["where"].get("externalIdStrictlyIn") for c in srv.calls("assets")]
    assert all(asked) and max(map(len, asked)) == 100 and len({e for a in asked for e in a}) == 125
    assert info.to_push == 5 and other.store.get("r119").remote_id == srv.state.asset(pid, "r119")["id"]
    assert other.status().next_steps[0] == "send Kili the 5 reviews it does not have yet: reviewtui kili push"
    report = other.kili_push()
    assert (report.pushed, report.already_in_kili) == (5, 120)
    other.close()


def test_a_move_kili_did_not_answer_says_to_rerun_and_the_rerun_is_safe(pushed):
    """"Kili did not answer addAssetsToReview in time; it may or may not have been applied" gave no
    next step. The rerun moves what was not moved and leaves what was as it is."""
    ws, srv, pid = pushed
    for ext in ("r000", "r001"):
        srv.state.label(pid, ext, "CONTENT")
    ws.kili_pull()
    srv.fail("addAssetsToReview", "drop")  # applied in Kili, the answer lost
    msg, took = timed(lambda: ws.send_to_review(["r000", "r001"], settled_stay=True))
    assert "did not answer addAssetsToReview" in msg and took < 15
    assert msg.endswith("it may or may not have been applied; rerun the same command: reviews already in review "
                        "are left as they are")
    assert srv.state.asset(pid, "r000")["status"] == "TO_REVIEW" and ws.store.get("r000").status == "LABELED"
    again = ws.send_to_review(["r000", "r001"], settled_stay=True)
    assert sorted(again.moved) == ["r000", "r001"] and again.failed == {}
    assert [srv.state.asset(pid, e)["status"] for e in ("r000", "r001")] == ["TO_REVIEW"] * 2
    assert [ws.store.get(e).status for e in ("r000", "r001")] == ["TO_REVIEW"] * 2
    srv.fail("sendAssetsBackToQueue", "drop")
    msg, _ = timed(lambda: ws.backend.send_back_to_queue(["r000"]))
    assert msg.endswith("rerun the same command: reviews already back in the queue are left as they are")
    assert ws.backend.send_back_to_queue(["r000"]).moved == ["r000"]
