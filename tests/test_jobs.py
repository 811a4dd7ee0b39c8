"""Background jobs: events through the journal, a real detached job (predict) that is followed,
replayed, refused when another would write the same results, cancelled, and found failed when its
process is killed; and a detached search that outlives the process that started it, which a new
app instance reattaches to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.events import GpuStat, Notice, Progress, TrialUpdate
from reviewtui.jobs import JobEnded, JobStore, JournalSink, event_from_dict, event_to_dict, read_records

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float = 120, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up after {timeout}s waiting for {predicate}")


def label_some(ws, n: int = 16) -> None:
    for i, (ext, lab) in enumerate(ws.truth.items()):
        if i >= n:
            break
        ws.label(ext, lab)


def test_every_event_goes_through_json_unchanged():
    events = [Progress("embed", 3, 10, "batch 1"), Notice("warning", "careful"),
              TrialUpdate("t1", "RUNNING", {"learning_rate": 1e-3, "model": "minilm"}, 2, {"accuracy": 0.8},
                          12.5, True, None, (GpuStat(0, "H200", 55.0, 1000.0, 140000.0),), {"objective": 0.7})]
    import json

    assert [event_from_dict(json.loads(json.dumps(event_to_dict(e)))) for e in events] == events


def test_the_journal_thins_fast_progress_but_keeps_its_last_value_and_every_other_event(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JournalSink(path)
    for i in range(1, 1001):
        sink(Progress("embed", i, 2000))
    sink(Notice("info", "halfway"))
    sink(Progress("embed", 1500, 2000))
    sink.end(JobEnded("finished", None, {"rows": 2}))
    records, offset = read_records(path)
    assert offset == path.stat().st_size
    kinds = [r["type"] for r in records]
    progress = [r["event"]["done"] for r in records if r["type"] == "Progress"]
    assert len(progress) < 20 and 1000 in progress and progress == sorted(progress)
    assert kinds.index("Notice") > progress.index(1000)  # the held-back value is written before the notice
    assert kinds[-1] == "End" and progress[-1] == 1500
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))


def test_a_job_that_would_write_what_a_running_one_writes_is_refused(tmp_path):
    store = JobStore(tmp_path / "jobs")
    first = store.claim("tune", "tune name=m1", {}, ["models/m1"])
    with pytest.raises(ReviewtuiError, match=f"tune job \\({first.id}.*models/m1.*jobs cancel {first.id}"):
        store.claim("train", "train name=m1", {}, ["models/m1"])
    assert store.claim("train", "train name=m2", {}, ["models/m2"]).kind == "train"  # other results: fine
    store.finish(first.id, "finished")
    assert store.claim("train", "train name=m1", {}, ["models/m1"]).writes == ["models/m1"]


def test_a_detached_predict_is_followed_replayed_refused_twice_and_cancelled(analysis_ws):
    ws = analysis_ws
    label_some(ws)
    job = ws.start_job("predict", sentiment="vader", chunk_size=4)
    assert job.pid and job.writes == ["results/result.csv"]
    with pytest.raises(ReviewtuiError, match=f"predict job \\({job.id}"):
        ws.start_job("predict")
    live = list(ws.jobs.follow(job))  # from the start, then as it is written, to its end
    assert isinstance(live[-1], JobEnded) and live[-1].state == "finished", live[-1]
    assert live == ws.jobs.events(job)  # replaying the journal gives exactly what following it gave
    done = ws.jobs.get(job.id[:4])
    assert done.state == "finished" and done.result["rows"] == 64 and done.ended >= done.started
    assert (ws.results_dir / "result.csv").is_file()
    progress = [e for e in live if isinstance(e, Progress) and e.task == "predict"]
    assert progress[-1].done == progress[-1].total == 64
    # the next one may start now, and a cancel stops it cleanly, keeping its finished chunks
    (ws.results_dir / "result.csv").unlink()
    again = ws.start_job("predict", sentiment="vader", chunk_size=1)
    wait_for(lambda: any(isinstance(e, Progress) and e.task == "predict" and e.done >= 3
                         for e in ws.jobs.events(again)))
    ws.jobs.cancel(again.id)
    ended = [e for e in ws.jobs.follow(again)][-1]
    assert ended.state == "cancelled" and "cancelled" in ended.error
    assert any(isinstance(e, Notice) and "SIGTERM" in e.text for e in ws.jobs.events(again))
    assert not (ws.results_dir / "result.csv").exists()
    assert list((ws.results_dir / ".predict").glob("*/chunk-*.npz"))  # resumable
    with pytest.raises(ReviewtuiError, match="not running"):
        ws.jobs.cancel(again.id)


def test_a_job_whose_process_is_killed_shows_as_failed(analysis_ws):
    ws = analysis_ws
    label_some(ws)
    job = ws.start_job("predict", sentiment="vader", chunk_size=1)
    wait_for(lambda: ws.jobs.get(job.id).state == "running")
    os.killpg(job.pid, signal.SIGKILL)
    failed = wait_for(lambda: (j := ws.jobs.get(job.id)).state == "failed" and j)
    assert "without a final record" in failed.error and str(failed.log_path) in failed.error
    assert isinstance(list(ws.jobs.follow(failed))[-1], JobEnded)
    ws.start_job("predict", sentiment="none").pid  # its claim on result.csv died with it
