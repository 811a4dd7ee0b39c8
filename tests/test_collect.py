"""Collecting from Google Play, offline: the real google-play-scraper request format and parser
against a loopback replay of Google Play's answers (tests/play_replay.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from play_replay import BASE, Replay, ReplayServer, make_corpus
from reviewtui.collect import RetryPolicy, collect_play
from reviewtui.collect import raw
from reviewtui.collect.play import RECORD_COLUMNS
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress
from reviewtui.settings import CollectSettings

APP = "com.example.app"
FAST = CollectSettings(page_size=20, pause_s=0.0, backoff_s=0.01, max_backoff_s=0.05, timeout_s=5.0)
POLICY = RetryPolicy(retries=3, backoff_s=0.01, max_backoff_s=0.05, timeout_s=5.0, offline_after_s=5.0)


def ids_in_pages(folder: Path) -> list[str]:
    return [r["reviewId"] for r in raw.iter_records(folder)]


def test_the_replay_is_what_google_play_scraper_itself_reads(monkeypatch):
    import ssl

    # importing the package directly switches certificate checks off process-wide: undo at teardown
    monkeypatch.setattr(ssl, "_create_default_https_context", ssl._create_default_https_context)
    from google_play_scraper import Sort, reviews
    from google_play_scraper.constants.request import Formats

    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        monkeypatch.setattr(Formats.Reviews, "URL_FORMAT", url + "/_/PlayStoreUi/data/batchexecute?hl={lang}&gl={country}")
        first, token = reviews(APP, count=20, sort=Sort.NEWEST)
        second, token2 = reviews(APP, continuation_token=token)
        third, token3 = reviews(APP, continuation_token=token2)
    assert [len(first), len(second), len(third)] == [20, 20, 5]
    assert token.token == "tok-20" and token3.token is None
    assert first[0]["reviewId"] == f"{APP}-00045" and first[0]["userImage"] == "https://img/45"
    assert first[0]["at"].timestamp() == BASE.timestamp()


def test_paging_over_several_pages(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    events = []
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path / "raw", FAST, policy=POLICY, base_url=url, on_event=events.append)
    app = res.apps[0]
    assert (app.pages, app.reviews, app.stopped_because, app.resumed) == (3, 45, "end", False)
    assert [p.name for p in app.page_files] == ["page-000001.jsonl", "page-000002.jsonl", "page-000003.jsonl"]
    assert [(r["sort"], r["count"], r["token"]) for r in rep.requests] == [(2, 20, None), (2, 20, "tok-20"),
                                                                           (2, 20, "tok-40")]
    rec = app.records[0]
    assert tuple(rec) == RECORD_COLUMNS and rec["appId"] == APP and rec["reviewId"] == f"{APP}-00045"
    assert rec["at"] == "2026-03-01T12:00:00.000+00:00"  # UTC, whatever the machine's time zone
    assert len({r["reviewId"] for r in res.records}) == 45
    state = raw.load_state(app.folder)
    assert state.status == "finished" and state.stopped_because == "end" and state.token is None
    assert [e.done for e in events if isinstance(e, Progress)] == [20, 40, 45]


def test_count_caps_the_new_reviews_and_the_last_request(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path, FAST, count=30, policy=POLICY, base_url=url)
    assert res.reviews == 30 and res.apps[0].stopped_because == "count"
    assert [r["count"] for r in rep.requests] == [20, 10]


def test_a_weekly_rerun_with_sort_newest_fetches_only_what_is_new(tmp_path):
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    with ReplayServer(rep) as url:
        collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url)
        newer = make_corpus(52)[:7]  # seven reviews posted since
        rep.corpora[APP] = newer + corpus
        rep.requests.clear()
        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url)
        again = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url, on_event=(seen := []).append)
    app = res.apps[0]
    assert (app.pages, app.reviews, app.stopped_because) == (1, 7, "known")
    assert [r["reviewId"] for r in app.records] == [r["reviewId"] for r in newer]
    assert len(rep.requests) == 2  # one page each
    assert again.reviews == 0 and any("nothing new" in e.text for e in seen if isinstance(e, Notice))
    all_ids = ids_in_pages(app.folder)
    assert len(all_ids) == len(set(all_ids)) == 52


def test_reviews_already_in_the_workspace_stop_a_newest_collect_and_are_skipped_otherwise(tmp_path):
    corpus = make_corpus(45)
    in_workspace = {r["reviewId"] for r in corpus[25:]}
    asked = []

    def known(app_id, ids):
        asked.append((app_id, len(ids)))
        return in_workspace.intersection(ids)

    rep = Replay({APP: corpus})
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path / "a", FAST, policy=POLICY, base_url=url, known=known)
        assert (res.reviews, res.apps[0].stopped_because) == (25, "known")
        assert asked == [(APP, 20), (APP, 20)]
        relevant = collect_play([APP], tmp_path / "b", replace(FAST, sort="relevant"), policy=POLICY, base_url=url,
                                known=known)
    assert relevant.reviews == 25 and relevant.apps[0].stopped_because == "end"
    assert rep.requests[-1]["sort"] == 1


def test_since_stops_a_newest_collect_at_the_first_older_review(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url, since=date(2026, 3, 1))
    # reviews are an hour apart, the newest at 12:00 on 1 March: 13 are from that day
    assert res.reviews == 13 and res.apps[0].stopped_because == "since"


def test_score_filter_is_sent_to_google_play(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path, FAST, score=1, policy=POLICY, base_url=url)
    assert {r["score"] for r in rep.requests} == {1}
    assert res.reviews == 9 and {r["score"] for r in res.records} == {1}


def test_throttling_and_server_errors_are_retried_with_backoff(tmp_path):
    rep = Replay({APP: make_corpus(45)}, script=[429, "gateway", 503])
    events = []
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url, on_event=events.append)
    assert res.reviews == 45 and res.apps[0].stopped_because == "end"
    warnings = [e.text for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert len(warnings) == 3 and "HTTP 429" in warnings[0] and "PlayGatewayError" in warnings[1]
    assert "try 4 of 4" in warnings[2]
    assert len(rep.requests) == 6


def test_giving_up_keeps_what_was_saved_and_a_rerun_continues(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    policy = replace(POLICY, retries=1)
    with ReplayServer(rep) as url:
        # the second page fails twice: the collect gives up after page 1
        rep.script[:] = []
        orig = rep.answer
        calls = {"n": 0}

        def flaky(body):
            calls["n"] += 1
            return (500, {}, "oops") if calls["n"] in (2, 3) else orig(body)

        rep.answer = flaky  # type: ignore[method-assign]
        with pytest.raises(ReviewtuiError, match=r"page 2: Google Play answered HTTP 500; gave up after 2 tries.*"
                                                 r"run the same collect again"):
            collect_play([APP], tmp_path, FAST, policy=policy, base_url=url)
        state = raw.load_state(tmp_path / APP)
        assert state.status == "running" and state.token == "tok-20" and state.reviews == 20
        res = collect_play([APP], tmp_path, FAST, policy=policy, base_url=url)
    assert res.apps[0].resumed and res.apps[0].pages == 2 and res.reviews == 45
    assert len(res.records) == 45  # the interrupted run's page is part of this collection
    assert sorted(ids_in_pages(tmp_path / APP)) == sorted({r["reviewId"] for r in make_corpus(45)})


KILLED_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from reviewtui.collect import RetryPolicy, collect_play
    from reviewtui.settings import CollectSettings
    collect_play(["com.example.app"], Path(sys.argv[2]), CollectSettings(page_size=5, pause_s=0.4),
                 policy=RetryPolicy(retries=0, offline_after_s=5), base_url=sys.argv[1])
""")


def test_a_collect_killed_midway_continues_from_its_token_without_duplicates(tmp_path):
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    folder = tmp_path / "raw" / APP
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    with ReplayServer(rep) as url:
        proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, url, str(tmp_path / "raw")], env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = raw.load_state(folder) if (folder / raw.STATE_NAME).exists() else None
                if state is not None and state.pages >= 3:
                    break
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        killed = raw.load_state(folder)
        assert killed.status == "running" and 3 <= killed.pages < 9, killed
        saved = ids_in_pages(folder)
        n_before = len(rep.requests)
        res = collect_play([APP], tmp_path / "raw", replace(FAST, page_size=5), policy=POLICY, base_url=url)
    app = res.apps[0]
    assert app.resumed and app.stopped_because == "end"
    assert rep.requests[n_before]["token"] == killed.token  # continued from the saved token
    ids = ids_in_pages(folder)
    assert ids[:len(saved)] == saved
    assert len(ids) == len(set(ids)) == 45 and len(app.records) == 45
    assert raw.page_numbers(folder) == list(range(1, 10))


def test_a_page_saved_without_its_state_is_replaced_on_resume(tmp_path):
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    folder = tmp_path / APP
    with ReplayServer(rep) as url:
        cancel = threading.Event()

        def stop_after_first(event):
            if isinstance(event, Progress):
                cancel.set()

        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url, cancel=cancel,
                           on_event=stop_after_first)
        assert res.cancelled and res.reviews == 20 and raw.load_state(folder).status == "running"
        # as if killed after writing page 2 and before saving the state
        raw.write_page(folder, 2, [{"reviewId": r["reviewId"]} for r in corpus[20:40]])
        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url)
    assert res.apps[0].resumed and res.reviews == 45
    ids = ids_in_pages(folder)
    assert len(ids) == len(set(ids)) == 45
    assert all("content" in r for r in raw.iter_records(folder))  # the orphan page was rewritten


def test_a_changed_query_starts_a_new_collection(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    events = []
    with ReplayServer(rep) as url:
        cancel = threading.Event()
        collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url, cancel=cancel,
                     on_event=lambda e: cancel.set() if isinstance(e, Progress) else None)
        res = collect_play([APP], tmp_path, replace(FAST, country="in"), policy=POLICY, base_url=url,
                           on_event=events.append)
    assert not res.apps[0].resumed
    assert any("used other options" in e.text for e in events if isinstance(e, Notice))
    # a fresh collection from the newest review, which the cancelled one already saved
    assert (res.reviews, res.apps[0].stopped_because, res.apps[0].pages) == (0, "known", 1)
    assert raw.load_state(tmp_path / APP).country == "in"


def test_the_pause_between_pages(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        t = time.perf_counter()
        collect_play([APP], tmp_path, replace(FAST, pause_s=0.3), policy=POLICY, base_url=url)
        elapsed = time.perf_counter() - t
    assert 0.6 <= elapsed < 5


def test_cancel_wakes_the_pause(tmp_path):
    rep = Replay({APP: make_corpus(45)})
    cancel = threading.Event()
    with ReplayServer(rep) as url:
        threading.Timer(0.3, cancel.set).start()
        t = time.perf_counter()
        res = collect_play([APP], tmp_path, replace(FAST, pause_s=30), policy=POLICY, base_url=url, cancel=cancel)
    assert time.perf_counter() - t < 5 and res.cancelled and res.reviews == 20


def test_no_network_is_one_clear_error_within_ten_seconds(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    t = time.perf_counter()
    with pytest.raises(ReviewtuiError) as err:
        collect_play([APP], tmp_path, CollectSettings(), base_url=f"http://127.0.0.1:{port}")
    assert time.perf_counter() - t < 10
    msg = str(err.value)
    assert msg.startswith("no network: cannot reach 127.0.0.1") and "works offline" in msg and "JSON" in msg
    assert not (tmp_path / APP).exists()


def test_an_unreadable_answer_says_to_update_the_package(tmp_path):
    rep = Replay({APP: make_corpus(45)}, script=["garbage"])
    with ReplayServer(rep) as url, pytest.raises(ReviewtuiError, match="pip install -U google-play-scraper"):
        collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url)


def test_an_app_with_no_reviews_warns(tmp_path):
    rep = Replay({})
    events = []
    with ReplayServer(rep) as url:
        res = collect_play(["com.nobody.here"], tmp_path, FAST, policy=POLICY, base_url=url, on_event=events.append)
    assert res.reviews == 0 and res.apps[0].stopped_because == "end"
    assert any("returned no reviews" in e.text for e in events if isinstance(e, Notice))


@pytest.mark.parametrize("kwargs,expected", [
    ({"app_ids": ["../etc"]}, "not a Google Play app id"),
    ({"app_ids": []}, "at least one Google Play app id"),
    ({"count": 0}, "--count must be a positive number"),
    ({"score": 6}, "--score must be a star rating from 1 to 5"),
])
def test_bad_inputs(tmp_path, kwargs, expected):
    args = {"app_ids": [APP], **kwargs}
    with pytest.raises(ReviewtuiError, match=expected):
        collect_play(args.pop("app_ids"), tmp_path, FAST, base_url="http://127.0.0.1:9", **args)


def test_importing_the_package_leaves_certificate_checks_on():
    code = ("import ssl; from reviewtui.collect.play import play_package; play_package(); "
            "import google_play_scraper; print(ssl._create_default_https_context is ssl.create_default_context)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.stdout.strip() == "True"


def test_collected_records_import_as_reviews_with_their_app(tmp_path):
    from reviewtui.ingest import read_records

    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        res = collect_play([APP], tmp_path, FAST, policy=POLICY, base_url=url)
    batch = read_records(res.records, f"collect {APP}")
    assert len(batch.external_ids) == 45 and batch.report.profile == "google-play-scraper"
    assert batch.metadata[0]["app"] == APP and batch.metadata[0]["app_version"] == "4.9.0"
    assert batch.metadata[0]["at"] == "2026-03-01 12:00:00"  # in the store's form, UTC
    page = json.loads((tmp_path / APP / "page-000001.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert page["appId"] == APP


def test_the_network_check_goes_to_the_proxy_when_there_is_one(tmp_path, monkeypatch):
    rep = Replay({APP: make_corpus(5)})
    with ReplayServer(rep) as url:
        # the store's host cannot be resolved here, but the (loopback) proxy answers: not "offline"
        monkeypatch.setenv("https_proxy", url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        from reviewtui.collect.play import check_network

        check_network("https://play.invalid", 5)
        monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
        with pytest.raises(ReviewtuiError, match="no network: cannot reach 127.0.0.1"):
            check_network("https://play.invalid", 5)
