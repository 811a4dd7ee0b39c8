"""Background jobs: events through the journal, a real detached job (predict) that is followed,
replayed, refused when another would write the same results, cancelled, and found failed when its
process is killed; and a detached search that outlives the process that started it, which a new
app instance reattaches to."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EpochProgress, GpuStat, Notice, Progress, TrialUpdate
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
                          12.5, True, None, (GpuStat(0, "H200", 55.0, 1000.0, 140000.0),), {"objective": 0.7}),
              EpochProgress("cv 2/5 finetune:minilm", 3, 6, 12, 40, 35.2, 41.0)]
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


def test_the_journal_thins_training_steps_but_keeps_each_epochs_last_step(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JournalSink(path)
    for epoch in (1, 2):
        for step in range(1, 401):
            sink(EpochProgress("train", epoch, 2, step, 400, 30.0, (400 - step) / 30.0))
    sink.end(JobEnded("finished", None, {}))
    records, _ = read_records(path)
    steps = [(r["event"]["epoch"], r["event"]["step"]) for r in records if r["type"] == "EpochProgress"]
    assert len(steps) < 40 and (1, 400) in steps and steps[-1] == (2, 400) and steps == sorted(steps)
    assert isinstance(event_from_dict(records[0]), EpochProgress)


def test_the_work_of_a_job_knows_it_runs_as_one(tmp_path):
    """Work that says how to outlive the terminal (--detach) or stop (Ctrl-C) asks its sink whether
    it runs as a background job: a job's journal says so, through sinks that wrap it too."""
    from reviewtui.events import ShiftedProgress, background_job

    store = JobStore(tmp_path / "jobs")
    job = store.claim("train", "train name=m1", {}, ["models/m1"])
    sink = store.sink(job)
    assert background_job(sink) == job.id and background_job(ShiftedProgress(sink, 0, 10)) == job.id
    assert background_job(None) is None and background_job(print) is None
    assert background_job(ShiftedProgress(None, 0, 10)) is None
    sink.close()


def test_a_job_that_would_write_what_a_running_one_writes_is_refused(tmp_path):
    store = JobStore(tmp_path / "jobs")
    first = store.claim("tune", "tune name=m1", {}, ["models/m1"])
    with pytest.raises(ReviewtuiError, match=f"tune job \\({first.id}.*models/m1.*jobs cancel {first.id}"):
        store.claim("train", "train name=m1", {}, ["models/m1"])
    assert store.claim("train", "train name=m2", {}, ["models/m2"]).kind == "train"  # other results: fine
    store.finish(first.id, "finished")
    assert store.claim("train", "train name=m1", {}, ["models/m1"]).writes == ["models/m1"]


def test_work_running_in_a_terminal_refuses_a_job_and_the_same_work_elsewhere_that_would_write_over_it(tmp_path):
    """A predict in the foreground, then `predict --detach`: the job ran beside it and the two
    wrote results/ over each other without a word."""
    store = JobStore(tmp_path / "jobs")
    with store.foreground(["results/result.csv"]):
        with pytest.raises(ReviewtuiError, match="a command running in a terminal is writing results/result.csv"):
            store.claim("predict", "predict", {}, ["results/result.csv"])
        with pytest.raises(ReviewtuiError, match="running in another terminal is writing results/result.csv"):
            with JobStore(tmp_path / "jobs").foreground(["results/result.csv"]):
                pass
        assert store.claim("train", "train name=m2", {}, ["models/m2"]).kind == "train"  # other results: fine
    assert store.claim("predict", "predict", {}, ["results/result.csv"]).kind == "predict"  # done: free again


def test_following_a_job_between_its_record_and_its_end_line_waits_for_the_journal(tmp_path):
    """The runner records how the job ended, then writes the journal's End line: a follower that
    looked in between made up an end of its own, and then the journal held a second one."""
    store = JobStore(tmp_path / "jobs")
    job = store.claim("predict", "predict", {}, ["results/result.csv"])
    runner = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from reviewtui.jobs import JobEnded, JobStore
        store = JobStore({str(tmp_path / "jobs")!r})
        job = store.mark_running({job.id!r})
        sink = store.sink(job)
        store.finish(job.id, "finished", result={{"rows": 1}})
        time.sleep(1.5)
        sink.end(JobEnded("finished", None, {{"rows": 2}}))
    """)])
    try:
        wait_for(lambda: store.get(job.id).state == "finished", timeout=60, every=0.05)
        live = list(store.follow(store.get(job.id), poll_s=0.05))
    finally:
        runner.wait(60)
    assert live == [JobEnded("finished", None, {"rows": 2})] == store.events(job)
    # a runner that died without its End line still gets one made up, from its record
    dead = store.claim("train", "train name=m1", {}, ["models/m1"])
    store.finish(dead.id, "failed", error="boom")
    assert list(store.follow(store.get(dead.id), poll_s=0.05)) == [JobEnded("failed", "boom", None)]
    # nor is one waited for from a runner that lives on without writing it (here: this process)
    alive = store.claim("train", "train name=m2", {}, ["models/m2"])
    store.mark_running(alive.id)
    store.finish(alive.id, "failed", error="boom")
    assert list(store.follow(store.get(alive.id), poll_s=0.05)) == [JobEnded("failed", "boom", None)]


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
    from reviewtui.store import NewAsset

    # enough work (one review a chunk) that the cancel lands while it runs
    ws.store.add_assets([NewAsset(f"extra{i}", f"another review number {i} about the reading app") for i in range(3000)])
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


STARTER = textwrap.dedent("""
    import sys, time
    from reviewtui.workspace import Workspace
    job = Workspace.open(sys.argv[1]).start_job("tune", trials=2, tuning={"time_budget_s": 1800, "cpus_per_trial": 1})
    print(job.id, flush=True)
    time.sleep(600)  # the terminal that started it, until it is killed
""")


@pytest.mark.slow
@pytest.mark.ray
async def test_a_detached_search_outlives_its_starter_and_a_new_app_reattaches(tmp_path, tiny_bert, monkeypatch):
    from tui_data import build_tuning_workspace

    from reviewtui.tui.app import ReviewApp
    from reviewtui.tui.widgets.trials import TrialTable
    from reviewtui.workspace import Workspace

    root = tmp_path / "ws"
    build_tuning_workspace(root, tiny_bert).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(root)], stdout=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)
    job_id = starter.stdout.readline().strip()
    ws = Workspace.open(root)
    wait_for(lambda: any(isinstance(e, Notice) and "searching 2 trials" in e.text
                         for e in ws.jobs.events(ws.jobs.get(job_id))), timeout=180)
    os.killpg(starter.pid, signal.SIGKILL)  # the app (or the SSH session) that started it is gone
    starter.wait(timeout=30)
    job = ws.jobs.get(job_id)
    assert job.active and job.pid != starter.pid and os.getpgid(job.pid) == job.pid  # a session of its own

    seen: list[TrialUpdate] = []
    upsert = TrialTable.upsert
    monkeypatch.setattr(TrialTable, "upsert", lambda self, update: (seen.append(update), upsert(self, update))[1])
    app = ReviewApp(ws, start="tuning", assist=False, probe_gpus=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        for _ in range(600):  # a loaded machine: up to a minute
            if screen.job is not None:
                break
            await pilot.pause(0.1)
        assert screen.job.id == job_id and screen.job.active  # attached while it runs: replay, then live
        # the form shows the search as it was started (in another terminal), not the settings' defaults
        form = {f: screen.query_one(f"#tune-{f}").value for f in ("trials", "budget", "cpus")}
        assert form == {"trials": "2", "budget": "30", "cpus": "1"}
        for _ in range(3000):
            if screen.job.state != "running" and not screen.running:
                break
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        table = screen.query_one(TrialTable)
        journal = [e for e in ws.jobs.events(job) if isinstance(e, TrialUpdate)]
        last = {u.trial_id: u for u in journal}
        assert screen.job.state == "finished", screen.job.error
        assert len(last) == 2 and table.trials == last  # every trial, as the journal ends it
        for trial in last:  # every status change reached the table (RUNNING repeats may coalesce)
            assert [u.status for u in seen if u.trial_id == trial][-1] == last[trial].status
            assert {u.status for u in seen if u.trial_id == trial} == {u.status for u in journal if u.trial_id == trial}
        state = str(screen.query_one("#tune-state").render())
        assert "Search done in" in state and f"Saved model {job.params['name']}" in state
    assert [m["name"] for m in ws.models()] == [job.params["name"]]
    assert ws.jobs.get(job_id).result["model"]["name"] == job.params["name"]


def test_progress_without_a_terminal_is_a_line_per_stage_step_and_pause():
    """What `jobs follow` prints when its output is a log: a line when a stage first shows, every
    10 percent, every 30 seconds and at the end; not one per event."""
    from reviewtui.cli.live import ProgressLines

    lines: list[str] = []
    now = [0.0]
    sink = ProgressLines(lines.append, clock=lambda: now[0])
    sink(Progress("predict", 64, 1000, "embed"))  # a new stage
    sink(Progress("predict", 90, 1000, "embed"))  # same stage, same 10 %: quiet
    sink(Progress("sentiment", 100, 1000, "sentiment"))  # another task
    sink(Progress("predict", 100, 1000, "chunk 1/10"))  # a new stage of predict
    sink(Progress("predict", 150, 1000, "embed"))  # quiet
    now[0] = 31.0
    sink(Progress("predict", 160, 1000, "embed"))  # 30 s went by
    sink(Progress("predict", 210, 1000, "embed"))  # past 20 %
    sink(Notice("warning", "careful"))
    sink(Progress("predict", 1000, 1000, "chunk 10/10"))  # the end
    sink(Progress("predict", 1000, 1000, "chunk 10/10"))  # said already
    assert lines == ["predict embed: 64/1,000 (6%)", "sentiment: 100/1,000 (10%)",
                     "predict chunk 1/10: 100/1,000 (10%)", "predict embed: 160/1,000 (16%)",
                     "predict embed: 210/1,000 (21%)", "warning: careful", "predict chunk 10/10: 1,000/1,000 (100%)"]
    # a search's trials (and train --auto's candidates): a line as each starts and as it ends
    lines.clear()
    sink(TrialUpdate("t1", "RUNNING", iteration=1, metrics={"accuracy": 0.5}))
    sink(TrialUpdate("t1", "RUNNING", iteration=2, metrics={"accuracy": 0.6}))  # a report: quiet
    sink(TrialUpdate("t1", "TERMINATED", iteration=3, metrics={"accuracy": 0.81, "f1_weighted": 0.8}, elapsed=12))
    sink(TrialUpdate("t2", "STOPPED", iteration=1, metrics={"accuracy": 0.4}, early_stopped=True, elapsed=3))
    sink(TrialUpdate("quick", "TERMINATED", metrics={"f1_macro": 0.7031, "f1_macro_std": 0.0234}, elapsed=2))
    assert lines == ["trial t1: running", "trial t1: done, weighted F1 0.800, accuracy 0.810 (12 s)",
                     "trial t2: stopped (ASHA), accuracy 0.400 (3 s)", "trial quick: done, macro F1 0.703 ± 0.023 (2 s)"]


def test_the_cli_detaches_lists_follows_and_cancels_jobs(analysis_ws, capsys):
    from reviewtui.cli import main

    ws = analysis_ws
    label_some(ws)
    from reviewtui.store import NewAsset

    # enough work (one review a chunk) that the cancel lands while it runs, on a loaded machine too
    ws.store.add_assets([NewAsset(f"extra{i}", f"another review number {i} about the reading app") for i in range(3000)])
    root = str(ws.root)
    assert main(["-w", root, "predict", "--detach", "--sentiment", "vader", "--chunk-size", "1",
                 "--precision", "fp32"]) == 0
    out = capsys.readouterr().out
    assert "Started predict job" in out and "reviewtui jobs follow" in out
    job = ws.jobs.latest("predict")
    assert job.params == {"sentiment": "vader", "chunk_size": 1, "precision": "fp32"}
    assert main(["-w", root, "predict", "--detach"]) == 2  # the same results: refused
    assert f"a predict job ({job.id}" in capsys.readouterr().err
    assert main(["-w", root, "jobs", "--json"]) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    assert [j["id"] for j in listed] == [job.id] and listed[0]["writes"] == ["results/result.csv"]
    wait_for(lambda: any(isinstance(e, Progress) and e.task == "predict" for e in ws.jobs.events(job)))
    assert main(["-w", root, "jobs", "cancel", job.id[:5]]) == 0
    assert f"Asked job {job.id} (predict) to stop" in capsys.readouterr().out
    assert main(["-w", root, "jobs", "follow", job.id]) == 1  # replays to its end: cancelled
    out = capsys.readouterr().out
    assert f"Job {job.id} (predict) cancelled" in out
    assert main(["-w", root, "jobs", "cancel", job.id]) == 0  # again, as a script rerun would: done already
    assert f"Job {job.id} (predict) is cancelled already." in capsys.readouterr().out
    assert re.search(r"^predict .*: \d+/3,?064 \(\d+%\)$", out, re.M), out  # not a terminal: progress as lines
    assert main(["-w", root, "jobs"]) == 0
    table = capsys.readouterr().out
    assert job.id in table and "cancelled" in table
    assert main(["-w", root, "jobs", "follow", "nope"]) == 2
    assert "no job 'nope'" in capsys.readouterr().err


def test_a_detached_predict_passes_its_precision_and_ray_cluster_on(tmp_path, monkeypatch):
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    started = []

    def start_job(self, kind, **params):
        started.append((kind, params))
        raise ReviewtuiError("not started here")

    monkeypatch.setattr(Workspace, "start_job", start_job)
    assert main(["-w", str(ws.root), "predict", "--detach", "--precision", "int8",
                 "--ray-address", "127.0.0.1:6379"]) == 2
    assert started == [("predict", {"model": None, "sentiment": None, "chunk_size": None, "precision": "int8",
                                    "ray_address": "127.0.0.1:6379"})]
    # and the job's runner hands them to the prediction
    seen = {}
    monkeypatch.setattr(Workspace, "predict", lambda self, **kw: seen.update(kw))
    from reviewtui.jobs import Job

    job = Job.from_dict({"id": "j1", "kind": "predict", "command": "predict", "state": "running",
                         "params": {"precision": "int8", "ray_address": "127.0.0.1:6379"}}, tmp_path / "j1")
    ws.run_job(job)
    assert seen["precision"] == "int8" and seen["ray_address"] == "127.0.0.1:6379"


def test_a_running_job_shows_what_was_asked_in_the_commands_words(tmp_path, capsys, monkeypatch):
    """The outcome of a running job is its command as typed (`--budget 3m`), not the parameters it
    keeps (`training={"budget_s": 180.0}`)."""
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    monkeypatch.setenv("COLUMNS", "160")
    ws = Workspace.init(tmp_path / "ws")
    params = {"version": "dataset-3", "name": "dataset-3-quick-20261202-095229", "training": {"budget_s": 180.0},
              "quick": True}
    ws.jobs.claim("train", 'train version=dataset-3 training={"budget_s": 180.0} quick=True', params, ["models/x"])
    assert main(["-w", str(ws.root), "jobs"]) == 0
    out = capsys.readouterr().out
    assert "train --quick --budget 3m (dataset-3)" in out and "budget_s" not in out


def test_listing_jobs_loads_no_ml_stack(tmp_path):
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    ws.jobs.claim("tune", "tune trials=2", {"trials": 2}, ["models/x"])
    code = ("import contextlib, io, json, sys\n"
            "from reviewtui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['-w', {str(ws.root)!r}, 'jobs'])\n"
            "heavy = ('torch', 'transformers', 'datasets', 'ray', 'sklearn', 'textual')\n"
            "print(json.dumps([rc] + sorted(k for k in sys.modules if k.split('.')[0] in heavy)))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[0]"


def test_work_in_the_foreground_is_refused_beside_a_job_writing_the_same(analysis_ws, capsys, tmp_path):
    """A foreground predict while a predict job runs would write result.csv and say so, then the
    job writes over it; a foreground train of a model a job is writing would train for minutes,
    then fail. Both are refused at once, as a second job is. A detached predict of a model that is
    not saved, or a train from a folder that holds no model, is refused before it starts."""
    from reviewtui.cli import main

    ws = analysis_ws
    label_some(ws)
    ws.export()
    root = str(ws.root)
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    assert main(["-w", root, "predict", "--model", "quick", "--sentiment", "none"]) == 2
    assert f"a predict job ({job.id}" in capsys.readouterr().err
    assert not (ws.results_dir / "result.csv").exists()
    train = ws.jobs.claim("train", "train name=m1", {}, ["models/m1"])
    assert main(["-w", root, "train", "--quick", "--name", "m1"]) == 2
    assert f"a train job ({train.id}" in capsys.readouterr().err
    assert main(["-w", root, "predict", "--model", "nosuch", "--detach"]) == 2
    assert "no model 'nosuch'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["-w", root, "train", "--model", str(tmp_path / "empty"), "--detach"]) == 2
    assert "is not a Hugging Face model folder" in capsys.readouterr().err
    assert [j.id for j in ws.jobs.list()] == [job.id, train.id]  # nothing started


def test_a_train_in_the_terminal_saves_its_model_under_the_name_it_held(analysis_ws, capsys, monkeypatch):
    """Without --name a train named its model when it ended, while the folder it held against other
    work was named when it started: a second train beside it was refused for a folder the first
    never wrote. The model is saved under the name held."""
    from reviewtui.cli import main
    from reviewtui.jobs import JobStore
    from reviewtui.modeling import card as card_module

    ws = analysis_ws
    label_some(ws)
    ws.export()
    held: list[list[str]] = []
    real = JobStore.foreground

    def holding(self, writes):
        held.append(list(writes))
        return real(self, writes)

    ticks = iter(range(100))

    class Clock:  # every name asked for gets a later time, as minutes of training would give
        @staticmethod
        def strftime(fmt):
            return f"20261204-1200{next(ticks):02d}"

    monkeypatch.setattr(JobStore, "foreground", holding)
    monkeypatch.setattr(card_module, "time", Clock)
    assert main(["-w", str(ws.root), "train", "--quick", "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)["name"]
    assert held == [[f"models/{saved}"]] and (ws.models_dir / saved).is_dir()


def test_a_running_job_reads_as_its_command_in_the_app_and_the_cli():
    """The jobs tables of the app's status screen and of `reviewtui jobs` show a running job as the
    command it stands for, with its options, not the parameters it is stored with."""
    from reviewtui import presentation as say
    from reviewtui.jobs import Job

    job = Job("5eed0a17", "train", 'train name=ft1 training={"epochs": 1, "budget_s": 240.0} version=dataset-1',
              {"name": "ft1", "training": {"epochs": 1, "budget_s": 240.0}, "version": "dataset-1"}, ["models/ft1"],
              state="running", started="2026-12-02T10:00:00Z")
    assert say.job_cells(job)[-1] == "train --epochs 1 --budget 4m (dataset-1)"
    job.cancel_requested = "2026-12-02T10:01:00Z"
    assert say.job_cells(job)[-1] == "cancelling"


def closed_port() -> int:
    """A port of this machine that nothing listens on (connecting to it is refused at once)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_card(ws, name: str = "m1") -> None:
    """A saved model's card (enough for predict's checks, which load no model)."""
    from reviewtui.modeling.card import ModelCard

    keys = list(ws.taxonomy.training_keys)
    (ws.models_dir / name).mkdir(parents=True)
    ModelCard(name, "quick", "minilm", "package", keys, keys).save(ws.models_dir / name)


def test_a_detached_predict_is_refused_for_what_predict_in_the_terminal_refuses(analysis_ws, capsys, monkeypatch):
    """The checks predict makes before it loads a model (Workspace.check_predict) run in the
    terminal and before a job starts alike: a job that would fail a moment later is not started, and
    the same error comes with a non-zero exit either way."""
    from reviewtui.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ws = analysis_ws
    root = str(ws.root)

    def refused(flags: list[str], error: str) -> None:
        for where in ([], ["--detach"]):
            assert main(["-w", root, "predict", *flags, *where]) == 2, (flags, where)
            err = capsys.readouterr().err
            assert error in err and "Traceback" not in err, (flags, where, err)

    refused([], "no model to predict with: no saved model in models/ and fewer than two training categories")
    save_card(ws)
    refused(["--chunk-size", "0"], "chunk size must be at least 1, not 0")
    refused(["--sentiment", "bogus"], "sentiment 'bogus' (--sentiment, or [sentiment] model in reviewtui.toml)")
    refused(["--ray-address", f"127.0.0.1:{closed_port()}"], "cannot reach the Ray cluster at '127.0.0.1:")
    label_some(ws)
    refused(["--model", "quick", "--ray-address", "127.0.0.1:1"], "prediction on a Ray cluster needs a saved model")
    assert ws.jobs.list() == []  # nothing started, nothing claims results/result.csv


def test_a_detached_train_or_tune_is_refused_for_what_it_would_stop_on_at_once(analysis_ws, capsys, monkeypatch):
    """An evaluation override out of range, a Ray cluster that does not answer, a candidate base
    that is not on this machine: refused before the job starts, not by the job a moment later."""
    from reviewtui.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ws = analysis_ws
    label_some(ws, 24)
    ws.export()
    root = str(ws.root)
    for args, error in [(["train", "--folds", "1"], "[evaluation] (override) folds must be between 2 and 50"),
                        (["tune", "--trials", "1", "--ray-address", f"127.0.0.1:{closed_port()}"],
                         "cannot reach the Ray cluster"),
                        (["tune", "--trials", "1", "--candidates", "owner/not-cached-here"],
                         "model 'owner/not-cached-here' is neither a local folder nor in the Hugging Face cache")]:
        assert main(["-w", root, *args, "--detach"]) == 2, args
        assert error in capsys.readouterr().err, args
    assert ws.jobs.list() == []


def test_a_job_killed_on_request_is_cancelled_not_failed(tmp_path, capsys):
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    job = ws.jobs.launch(job, [sys.executable, "-c", "import time; time.sleep(120)"])
    assert main(["-w", str(ws.root), "jobs", "cancel", job.id, "--force"]) == 0
    assert f"Killed job {job.id} (predict)" in capsys.readouterr().out
    ended = wait_for(lambda: not (j := ws.jobs.get(job.id)).active and j, timeout=30)
    assert ended.state == "cancelled", ended
    assert "killed on request (reviewtui jobs cancel --force)" in ended.error and "without a final record" not in ended.error
    assert list(ws.jobs.follow(ended))[-1] == JobEnded("cancelled", ended.error, None)
    assert main(["-w", str(ws.root), "jobs", "cancel", job.id]) == 0  # asked again: cancelled already
    assert "is cancelled already" in capsys.readouterr().out


def test_a_job_of_another_user_is_not_marked_killed_when_its_kill_is_refused(tmp_path, capsys, monkeypatch):
    """--force recorded the kill before sending it; a kill refused (another user's job) escaped as a
    traceback and left the job to be read as killed on request when it later failed."""
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    job = ws.jobs.launch(job, [sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        def refused(*_):
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "killpg", refused)
        monkeypatch.setattr(os, "kill", lambda pid, sig: refused() if sig != 0 else None)
        for force in (["--force"], []):
            assert main(["-w", str(ws.root), "jobs", "cancel", job.id, *force]) == 2
            assert "runs as another user" in capsys.readouterr().err
            again = ws.jobs.get(job.id)
            assert again.active and not again.killed
    finally:
        monkeypatch.undo()
        ws.jobs.cancel(job.id, force=True)


def test_a_job_of_another_machine_is_never_found_dead_or_signalled_from_here(tmp_path, capsys):
    """A workspace on a shared disk: a job running on another machine has a pid that means nothing
    here. `status` or `jobs` marked it failed (and rewrote its record), and a cancel would have
    signalled whatever process has that pid here."""
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    ws.jobs._update(job.id, state="running", started="2026-12-04T10:00:00Z", pid=2 ** 22 + 7, host="gpu-box-2")
    assert [j.state for j in ws.jobs.list()] == ["running"] and ws.jobs.get(job.id).state == "running"
    assert main(["-w", str(ws.root), "jobs", "cancel", job.id, "--force"]) == 2
    assert "runs on the machine gpu-box-2: cancel it there" in capsys.readouterr().err
    ws.jobs._update(job.id, host=None)  # a job of this machine whose process is gone: failed
    assert ws.jobs.get(job.id).state == "failed"


def test_status_names_a_running_job_and_does_not_propose_what_it_does(analysis_ws, capsys):
    """`reviewtui status` lists each running job in one line (kind, id, start, its last progress)
    and proposes following it rather than starting the same work again."""
    import json

    from reviewtui.cli import main

    ws = analysis_ws
    label_some(ws)
    ws.export()
    save_card(ws)
    root = str(ws.root)
    assert main(["-w", root, "status"]) == 0
    assert "reviewtui predict" in capsys.readouterr().out  # a saved model, no prediction yet
    job = ws.jobs.claim("predict", "predict model=m1", {"model": "m1"}, ["results/result.csv"])
    sink = JournalSink(job.journal_path)
    sink(Progress("predict", 10, 64))
    sink.close()
    assert main(["-w", root, "status"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Running: predict job {job.id} (predict --model m1), started " in out and "; predict 10/64 (15%)" in out
    assert "reviewtui predict" not in out and f"wait for the predict job: reviewtui jobs follow {job.id}" in out
    assert main(["-w", root, "status", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["jobs"]
    assert [(j["id"], j["progress"]["done"], j["progress"]["total"]) for j in listed] == [(job.id, 10, 64)]
