"""A search and the status screen, as a user meets them: a tuned model's name whichever way the
search was started, the best trial's parameters, the status screen's jobs table while a job runs
and its next step after a new model, and the Tune form while typing."""

from __future__ import annotations

import re

from reviewtui.jobs import JobStore


def test_a_tuned_model_has_one_name_however_the_search_was_started(fixture_ws, monkeypatch):
    """``reviewtui tune`` in the foreground names its model ``<version>-tuned-<date-time>``; a
    search started with ``--detach`` or from the app (a tune job) names it the same way, not after
    the [model] base (the search may well pick another candidate)."""
    import pandas as pd

    import reviewtui.modeling.quick as quick
    from reviewtui.events import TrialUpdate
    from reviewtui.modeling.tuning import SearchInputs, TuneResult, save_tuned
    from reviewtui.settings import ModelSettings, TrainingSettings

    ws = fixture_ws
    version = ws.latest_version().name
    pattern = re.compile(rf"{version}-tuned-\d{{8}}-\d{{6}}")

    # a tune job (tune --detach, the app's ctrl+s): its name is settled when it starts
    monkeypatch.setattr(JobStore, "launch", lambda self, job, argv, **kw: job)
    job = ws.start_job("tune", trials=2)
    assert pattern.fullmatch(job.params["name"]), job.params["name"]

    # the foreground search: the name its best trial is saved under
    saved = {}
    monkeypatch.setattr(quick, "train_quick", lambda df, **kw: saved.update(kw))
    inputs = SearchInputs(label_keys=list(ws.taxonomy.training_keys), model=ModelSettings(),
                          training=TrainingSettings(), quick_C=1.0, trials=1, dataset_version=version)
    config = {"model": "quick", "quick_C": 2.0}
    result = TuneResult(trials=[TrialUpdate("t1", "TERMINATED", config, 1, {"accuracy": 0.8}, 1.0)],
                        configs=[config], best_trial_id="t1", inputs=inputs)
    save_tuned(result, pd.DataFrame(), models_dir=ws.models_dir, cache_dir=ws.cache_dir)
    assert pattern.fullmatch(saved["name"]), saved["name"]


def test_the_best_trial_line_shows_the_parameters_of_its_own_kind(capsys, monkeypatch):
    """A search samples every parameter for every trial; the closing line of ``reviewtui tune``
    names the best trial's configuration: C alone for a quick trial (embeddings + logistic
    regression, no learning rate, epochs or batch size, and no epoch to be best at), the
    transformer's parameters without C for a fine-tune."""
    from tui_data import scored, search_updates

    from reviewtui.cli import render
    from reviewtui.events import TrialUpdate

    monkeypatch.setenv("COLUMNS", "400")
    sampled = {"learning_rate": 3e-5, "epochs": 8, "batch_size": 16, "weight_decay": 0.05, "warmup_ratio": 0.1,
               "seed": 7, "quick_C": 12.0}

    def best_line(model: str, accuracy: float) -> str:
        config = {**sampled, "model": model}
        report = scored({"accuracy": accuracy, "loss": 0.5})
        _, result = search_updates([("report", TrialUpdate("t1", "RUNNING", config, 2, report, 1.0)),
                                    ("send", TrialUpdate("t1", "TERMINATED", config, 2, report, 1.0))])
        render.tune_result(result)
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Best trial"))

    quick = best_line("quick", 0.8)
    assert quick == 'Best trial t1: validation accuracy 0.800 with {"model": "quick", "quick_C": 12.0}.'
    finetune = best_line("minilm", 0.8)
    assert "at epoch 2" in finetune and '"learning_rate": 3e-05' in finetune and '"epochs": 8' in finetune
    assert "quick_C" not in finetune


async def test_the_status_screen_follows_a_running_job_while_it_is_shown(fixture_ws, monkeypatch):
    """The jobs table of the status screen reads the jobs again on a timer while the screen is
    shown: a job that starts running, then fails, shows so without leaving the screen; a hidden
    status screen reads nothing."""
    import asyncio

    from test_tui import make_app, settle

    from reviewtui.tui.screens import status

    monkeypatch.setattr(status, "JOBS_REFRESH_S", 0.2, raising=False)
    ws = fixture_ws
    job = ws.jobs.claim("predict", "predict", {}, ["results/result.csv"])
    app = make_app(ws, start="status")
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#status-jobs")

        def cells() -> dict[str, str]:
            return dict(zip(("job", "kind", "state", "started", "took", "outcome"),
                            map(str, table.get_row(job.id))))

        async def shows(**want: str) -> dict[str, str]:
            for _ in range(50):
                await pilot.pause(0.1)
                if all(cells()[k] == v for k, v in want.items()):
                    break
            return cells()

        assert cells()["state"] == "starting"
        ws.jobs.mark_running(job.id)
        assert (await shows(state="running"))["state"] == "running"
        ws.jobs.finish(job.id, "failed", error="the model file was damaged")
        assert (await shows(state="failed"))["outcome"] == "the model file was damaged"
        # the column grows with its cells: "finished" after "running" showed as "finishe"
        ws.jobs.finish(job.id, "cancelled")
        await shows(state="cancelled")
        assert table.columns[list(table.columns)[2]].content_width >= len("cancelled")

        reads = []
        listed = JobStore.list
        monkeypatch.setattr(JobStore, "list", lambda self: (reads.append(1), listed(self))[1])
        await app.run_action("screen('diff')")
        await settle(app, pilot)
        assert app.current_mode == "diff"
        reads.clear()
        await asyncio.sleep(0.8)
        await pilot.pause()
        assert reads == []  # the status screen is not shown: it reads no jobs


async def test_the_status_screen_says_why_every_review_should_be_predicted(fixture_ws, capsys, monkeypatch):
    """After a new model is saved the status screen asks to predict every review and says why:
    the model came after the last prediction (or no prediction ran yet); `reviewtui status` too."""
    import json
    import os

    from test_tui import make_app, settle
    from tui_data import write_results

    from reviewtui.cli import main

    ws = fixture_ws
    result = write_results(ws)
    card = ws.models_dir / "dataset-2-tuned-20261202-101500" / "model_card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"name": card.parent.name, "kind": "quick"}), encoding="utf-8")
    later = result.stat().st_mtime + 5
    os.utime(card.parent, (later, later))
    why = "model dataset-2-tuned-20261202-101500 was saved after the last prediction"
    assert f"predict every review ({why}) and read the summary: reviewtui predict" in " ".join(
        ws.status().next_steps)
    app = make_app(ws, start="status")
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        steps = " ".join(str(app.screen.query_one("#status-next").render()).split())
    assert f"predict every review ({why}) and read the summary: p on the Summary screen (5)" in steps

    result.unlink()
    monkeypatch.setenv("COLUMNS", "200")
    capsys.readouterr()
    assert main(["-w", str(ws.root), "status"]) == 0
    assert "predict every review (no prediction yet) and read the summary" in " ".join(capsys.readouterr().out.split())


async def test_what_is_typed_into_the_tune_form_stays_when_the_last_search_arrives(fixture_ws, monkeypatch):
    """Opening the Tune screen reattaches to the last search in a worker, and fills the form with
    how that search was started. Typing begun before it arrives keeps every character: only the
    fields not typed into take the search's values."""
    import threading

    from test_tui import make_app, settle

    ws = fixture_ws
    job = ws.jobs.claim("tune", "tune trials=3", {"trials": 3, "tuning": {"time_budget_s": 1800, "cpus_per_trial": 3}},
                        ["models/m1"])
    ws.jobs.finish(job.id, "finished", result={})
    listed = JobStore.list
    typing_done = threading.Event()

    def slow_list(self):  # the reattaching worker comes late (a slow disk, torch loading beside it): after the typing
        typing_done.wait(30)  # (a fixed delay lost the race on a loaded machine, where the app took longer to start)
        return listed(self)

    monkeypatch.setattr(JobStore, "list", slow_list)
    app = make_app(ws, start="tuning")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert screen.job is None  # not attached yet; f enters the form, typing starts
        await pilot.press("f", "end", "backspace", "backspace", "1", "2")  # f: into the form
        await pilot.press("tab", "tab", "end", *",quick")
        typed = screen.query_one("#tune-candidates").value
        typing_done.set()
        for _ in range(50):
            await pilot.pause(0.1)
            if screen.job is not None:
                break
        await settle(app, pilot)
        assert screen.job is not None and screen.job.id == job.id
        values = {f: screen.query_one(f"#tune-{f}").value for f in ("trials", "budget", "candidates", "cpus")}
        assert values == {"trials": "12", "budget": "30", "candidates": typed, "cpus": "3"}
        assert typed.endswith(",quick") and app.focused is screen.query_one("#tune-candidates")
