"""Training from the tuning screen as background jobs: t trains the [model] base as `reviewtui train`
does, a makes the automatic choice of `reviewtui train --auto` within the budget asked for. Driven by
keys on a tiny model; checked on the saved model folder, the job's journal, the epoch bar and the
candidates' table; a new app reattaches to the job. And the CLI's `train --auto --detach`."""

from __future__ import annotations

import pytest

from test_tui import make_app, settle, wait_until
from tui_data import build_tuning_workspace

from reviewtui.events import EpochProgress, TrialUpdate
from reviewtui.tui.screens.tuning import TuningScreen

SIZE = (100, 30)


@pytest.fixture
def training_ws(tmp_path, tiny_bert):
    ws = build_tuning_workspace(tmp_path / "ws", tiny_bert, rows=48)
    ws.config.update_section("training", {"ensemble_quick": False})
    ws.config.update_section("auto", {"candidates": [f"head:{tiny_bert}", f"finetune:{tiny_bert}"],
                                      "ensembles": False, "minilm_epochs": 1, "mpnet_epochs": 1,
                                      "minilm_learning_rate": 5e-3, "mpnet_learning_rate": 5e-3})
    yield ws
    ws.close()


def record_epochs(monkeypatch) -> list[EpochProgress]:
    seen: list[EpochProgress] = []
    show = TuningScreen.show_epoch
    monkeypatch.setattr(TuningScreen, "show_epoch", lambda self, event: (seen.append(event), show(self, event))[1])
    return seen


@pytest.mark.slow
async def test_t_trains_as_a_job_with_an_epoch_bar_and_a_new_app_reattaches(training_ws, monkeypatch):
    ws = training_ws
    seen = record_epochs(monkeypatch)
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("escape", "t")  # leave the form, train
        await wait_until(pilot, lambda: screen.job is not None and screen.job.kind == "train", timeout=60)
        job = screen.job
        assert job.params["version"] == ws.latest_version().name and not job.params.get("auto")
        assert screen.budget_s == 3600  # the state line reads "training 0m12s of a 60m00s budget"
        await pilot.press("t")  # a model is training: a second one is not started
        await wait_until(pilot, lambda: screen.job.state in ("finished", "failed", "cancelled"), timeout=600)
        await settle(app, pilot)
        assert screen.job.state == "finished", screen.job.error
        table = screen.query_one("#tune-candidates-table")
        assert table.display and not screen.query_one("#tune-trials-table").display
        key = f"finetune:{ws.settings.model.base}"
        assert str(table.get_cell(key, "candidate")).startswith("★") and " ± " in str(table.get_cell(key, "metric"))
        state = str(screen.query_one("#tune-state").render())
        assert f"Saved model {job.params['name']}" in state and "trained on all 48 labels" in state
        assert not screen.query_one("#epoch-progress-row").display  # shown while it trained
        assert any("a model is training" in n for n in app.notes)
    assert [j.kind for j in ws.jobs.list()] == ["train"]
    assert (ws.models_dir / job.params["name"] / "model_card.json").is_file()
    journal = [e for e in ws.jobs.events(ws.jobs.get(job.id)) if isinstance(e, EpochProgress)]
    assert journal and seen  # the bar got the journal's epochs
    tasks = {e.task for e in seen}
    assert {f"cv 1/2 {key}", f"cv 2/2 {key}", f"final {key}"} <= tasks
    assert all(e.step <= e.steps and e.epoch <= e.epochs for e in seen)
    assert any(e.step == e.steps for e in seen)  # an epoch's last step always gets through

    again = make_app(ws, start="tuning")  # reopening the app shows the newest job, replayed
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        screen = again.screen
        assert screen.job.id == job.id and screen.query_one("#tune-candidates-table").display
        assert f"Saved model {job.params['name']}" in str(screen.query_one("#tune-state").render())


@pytest.mark.slow
async def test_a_asks_for_a_budget_and_fills_the_candidates_table(training_ws, tiny_bert, monkeypatch):
    ws = training_ws
    seen = record_epochs(monkeypatch)
    app = make_app(ws, start="tuning")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("escape", "a")
        await pilot.pause()
        assert app.screen.query_one("#prompt-input").value == "30m"  # [auto] budget_s
        await pilot.press("x", "y", "enter")  # not a duration: said, nothing started
        await settle(app, pilot)
        assert any("the budget '30mxy' is not a duration" in n for n in app.notes) and ws.jobs.list() == []
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("ctrl+u", "1", "0", "m", "enter")
        await wait_until(pilot, lambda: screen.job is not None and screen.job.kind == "train", timeout=60)
        job = screen.job
        assert job.params["auto"] is True and job.params["budget_s"] == 600.0
        await wait_until(pilot, lambda: screen.job.state in ("finished", "failed", "cancelled"), timeout=600)
        await settle(app, pilot)
        assert screen.job.state == "finished", screen.job.error
        table = screen.query_one("#tune-candidates-table")
        heads = {f"head:{tiny_bert}", f"finetune:{tiny_bert}"}
        assert set(table.candidates) == heads and table.row_count == 2  # one row each, updated in place
        assert table.winner in heads and str(table.get_cell(table.winner, "candidate")).startswith("★")
        state = str(screen.query_one("#tune-state").render())
        assert f"Saved model {job.params['name']}" in state
    result = ws.jobs.get(job.id).result
    assert {r["candidate"] for r in result["selection"]["rows"]} == heads
    card = ws.model_card(job.params["name"])
    assert card.extra["auto"]["budget_s"] == 600.0 and card.extra["selection"]["winner"] == table.winner
    updates = [e for e in ws.jobs.events(ws.jobs.get(job.id)) if isinstance(e, TrialUpdate)]
    assert {u.trial_id for u in updates} == heads  # the comparison rows are journaled
    assert any(e.task.endswith(f"finetune:{tiny_bert}") for e in seen)


@pytest.mark.slow
def test_the_cli_detaches_train_auto_and_refuses_a_second_writer(training_ws, tiny_bert, capsys):
    from test_jobs import wait_for

    from reviewtui.cli import main

    ws = training_ws
    ws.config.update_section("auto", {"candidates": [f"head:{tiny_bert}"]})
    root = str(ws.root)
    assert main(["-w", root, "train", "--auto", "--detach", "--epochs", "2"]) == 2
    assert "leave out --epochs" in capsys.readouterr().err
    assert main(["-w", root, "train", "--auto", "--detach", "--budget", "2m", "--name", "chosen"]) == 0
    assert "Started train job" in capsys.readouterr().out
    job = ws.jobs.latest("train")
    assert job.params == {"auto": True, "budget_s": 120.0, "version": ws.latest_version().name, "name": "chosen"}
    assert job.writes == ["models/chosen"]
    assert main(["-w", root, "train", "--detach", "--name", "chosen"]) == 2  # the same model folder: refused
    assert f"a train job ({job.id}" in capsys.readouterr().err
    assert main(["-w", root, "jobs", "follow", job.id]) == 0  # its comparison live, then its end
    captured = capsys.readouterr()
    assert f"Job {job.id} (train" in captured.out and "chosen" in captured.out
    wait_for(lambda: not ws.jobs.get(job.id).active)
    done = ws.jobs.get(job.id)
    assert done.state == "finished" and done.result["model"]["name"] == "chosen"
    assert done.result["selection"]["winner"] == f"head:{tiny_bert}"
    assert (ws.models_dir / "chosen" / "model_card.json").is_file()


def test_the_training_line_counts_candidates_only_where_there_are_some():
    from reviewtui import presentation as say

    # train --auto: its budget and the candidates scored so far
    assert say.training_state(75, 1800, 1, 3) == "training 1m15s of a 30m00s budget · 1/3 candidates scored"
    # a training on a held-out split (thousands of labels) cross-validates no candidate
    assert say.training_state(75, None, 0, 0) == "training 1m15s"
