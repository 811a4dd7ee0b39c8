"""Ray Tune search: search space, a real ASHA + HyperOpt search on CPU with live trial events and
an erroring (NaN) trial, and cancellation that keeps finished trials and leaves no Ray behind."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from modeling_fixtures import LABELS, make_frame, make_nan_model
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress, TrialUpdate

TINY_TRAINING = {"epochs": 2, "learning_rate": 5e-3, "batch_size": 16, "warmup_ratio": 0.0, "seed": 42,
                 "ensemble_quick": False}


def _ray_children() -> list[str]:
    names = []
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "ray" in cmd and ("raylet" in cmd or "gcs_server" in cmd or "default_worker" in cmd):
            names.append(cmd[:80])
    return names


def _assert_no_ray_left() -> None:
    import ray

    assert not ray.is_initialized()
    deadline = time.monotonic() + 15
    while _ray_children() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ray_children() == []


def test_search_space_from_tuning_config():
    from ray.tune.search.sample import Categorical, Float, Integer

    from reviewtui.modeling.tuning import search_space

    space = search_space({"learning_rate": [1e-5, 1e-3], "epochs": [2, 9], "max_epochs": 5, "batch_size": [8, 16],
                          "weight_decay": 0.0, "candidates": ["minilm", "quick"]}, "minilm")
    assert isinstance(space["learning_rate"], Float) and space["learning_rate"].lower == 1e-5
    assert isinstance(space["epochs"], Integer) and (space["epochs"].lower, space["epochs"].upper) == (2, 6)
    assert isinstance(space["batch_size"], Categorical) and space["batch_size"].categories == [8, 16]
    assert space["weight_decay"] == 0.0
    assert space["model"].categories == ["minilm", "quick"] and isinstance(space["quick_C"], Float)
    assert search_space({}, "some/model")["model"] == "some/model"
    with pytest.raises(ReviewtuiError, match="learning_rate"):
        search_space({"learning_rate": [1e-3, 1e-5]}, "minilm")
    with pytest.raises(ReviewtuiError, match="batch_size|number"):
        search_space({"epochs": "many"}, "minilm")


def test_a_trial_gives_its_memory_back_even_when_ray_stops_it(monkeypatch):
    """Ray ends a stopped trial with SystemExit from inside tune.report; the traceback holds the
    model. run_trial must drop it before trimming the heap, then re-raise for Ray."""
    import gc
    import weakref

    from reviewtui.modeling import tuning

    class Model:  # stands for the fine-tuned model and its Trainer
        pass

    refs, alive_at_release = [], []

    def trial(config, data, stop):
        model = Model()
        refs.append(weakref.ref(model))
        model.cycle = model  # Trainer and callbacks hold cycles: only gc.collect frees them
        if stop:
            raise SystemExit(0)

    def release():
        alive_at_release.append(refs[-1]() is not None)
        return True

    monkeypatch.setattr(tuning, "release_freed_memory", release)
    monkeypatch.setattr(tuning, "_trial", lambda config, data: trial(config, data, stop=True))
    with pytest.raises(SystemExit) as info:
        tuning.run_trial({}, {})
    assert info.value.code == 0
    monkeypatch.setattr(tuning, "_trial", lambda config, data: trial(config, data, stop=False))
    tuning.run_trial({}, {})
    gc.collect()
    assert alive_at_release == [False, False]
    monkeypatch.undo()
    assert tuning.release_freed_memory() in (True, False)  # malloc_trim on glibc, a no-op elsewhere


@pytest.mark.parametrize("budget", [-5, "soon"])
def test_a_bad_time_budget_is_refused_before_ray_starts(tmp_path, budget):
    from reviewtui.modeling.tuning import tune_models

    with pytest.raises(ReviewtuiError, match="time_budget_s"):
        tune_models(make_frame(40), models_dir=tmp_path / "models", label_keys=LABELS,
                    tuning={"time_budget_s": budget}, trials=2)
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_real_search_reports_live_trials_survives_a_nan_trial_and_saves_the_best(tmp_path, tiny_bert):
    from reviewtui.modeling.tuning import tune_models

    nan_model = make_nan_model(tiny_bert, tmp_path / "nan-bert")
    events = []
    result = tune_models(
        make_frame(120), models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
        # the first point HyperOpt evaluates is the first candidate: the NaN model errors
        tuning={"candidates": [str(nan_model), str(tiny_bert)], "learning_rate": [1e-3, 1e-2], "epochs": [1, 3],
                "max_epochs": 3, "batch_size": [16], "seed": 42, "seed_search": 7, "cpus_per_trial": 2},
        training=TINY_TRAINING, max_length=16, trials=3, name="best", dataset_version="dataset-4",
        on_event=events.append)

    updates = [e for e in events if isinstance(e, TrialUpdate)]
    assert len(result.trials) == 3 and len({u.trial_id for u in updates}) == 3
    errored = [t for t in result.trials if t.status == "ERROR"]
    assert errored and all(t.config["model"] == str(nan_model) for t in errored)
    assert "nan" in errored[0].error.lower()
    finished = [t for t in result.trials if t.status in ("TERMINATED", "STOPPED")]
    assert finished, "the search went on after the erroring trial"
    with_results = [u for u in updates if u.status == "RUNNING" and u.iteration >= 1]
    assert with_results and {"accuracy", "loss", "objective"} <= set(with_results[0].metrics)
    assert all(u.elapsed >= 0 for u in updates)
    order = {"PENDING": 0, "RUNNING": 1, "TERMINATED": 2, "STOPPED": 2, "ERROR": 2}
    for t in result.trials:  # each trial: PENDING while queued, RUNNING, then one final status
        mine = [u.status for u in updates if u.trial_id == t.trial_id]
        assert "RUNNING" in mine and mine[-1] in ("TERMINATED", "STOPPED", "ERROR")
        assert [order[m] for m in mine] == sorted(order[m] for m in mine)
        assert sum(order[m] == 2 for m in mine) == 1
    progress = [e for e in events if isinstance(e, Progress) and e.task == "tune"]
    assert progress[-1].done == progress[-1].total == 3

    assert result.best_trial_id in {t.trial_id for t in finished}
    assert result.best_config["model"] == str(tiny_bert)
    card = result.card
    assert card is not None and card.name == "best" and card.dataset_version == "dataset-4"
    assert (tmp_path / "models" / "best" / "model.safetensors").is_file()
    assert not (tmp_path / "models" / "best" / "quick_model.npz").exists()  # ensemble_quick = false
    assert card.extra["tuning"]["trials"] == 3 and card.extra["tuning"]["best_trial"] == result.best_trial_id
    assert card.hyperparameters["learning_rate"] == pytest.approx(result.best_config["learning_rate"], rel=1e-3)
    _assert_no_ray_left()


@pytest.mark.slow
def test_cancel_stops_the_search_keeps_finished_trials_and_leaves_no_ray(tmp_path, tiny_bert):
    from reviewtui.modeling.tuning import tune_models

    cancel = threading.Event()
    events = []

    def sink(event):
        events.append(event)
        if isinstance(event, TrialUpdate) and event.status == "TERMINATED":
            cancel.set()  # the user presses Ctrl-C once a first trial has finished

    started = time.monotonic()
    result = tune_models(
        make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
        tuning={"learning_rate": [1e-3, 1e-2], "epochs": [30, 40], "max_epochs": 40, "batch_size": [16],
                "cpus_per_trial": 2},
        training={**TINY_TRAINING, "epochs": 1}, max_length=16, trials=6, on_event=sink, cancel=cancel)
    assert result.cancelled and result.card is None
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())
    first = result.trials[0]
    assert first.status == "TERMINATED" and first.metrics["accuracy"] >= 0.0
    assert result.best_trial_id is not None  # the finished trial's result is kept
    assert len(result.trials) < 6
    assert all(t.status in ("TERMINATED", "STOPPED", "ERROR") for t in result.trials)
    assert time.monotonic() - started < 120
    _assert_no_ray_left()


@pytest.mark.slow
def test_a_search_can_be_replayed_with_the_same_configurations_without_early_stopping(tmp_path, tiny_bert):
    """bench_models compares ASHA with a full search this way: FIFO over ASHA's exact configs."""
    from reviewtui.modeling.tuning import tune_models

    common = dict(models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
                  tuning={"learning_rate": [1e-3, 1e-2], "epochs": 2, "max_epochs": 2, "batch_size": [8, 16],
                          "cpus_per_trial": 2},
                  training=TINY_TRAINING, max_length=16, retrain=False)
    first = tune_models(make_frame(60), trials=3, **common)
    assert len(first.configs) == 3 and all("learning_rate" in c and "batch_size" in c for c in first.configs)
    again = tune_models(make_frame(60), scheduler="fifo", configs=first.configs, **common)
    assert again.configs == first.configs
    assert all(t.status == "TERMINATED" and t.iteration == 2 for t in again.trials)
    _assert_no_ray_left()


def test_resources_share_gpus_and_refuse_bad_shares():
    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling.tuning import _resources

    # CPU only: cpus_per_trial CPUs each
    assert _resources({"cpus_per_trial": 2}, 20, {"CPU": 16}) == ({"cpu": 2}, 8, 2)
    # one GPU per trial by default; a quarter GPU runs four trials side by side, CPUs permitting
    assert _resources({"cpus_per_trial": 2}, 20, {"CPU": 16, "GPU": 1}) == ({"cpu": 2, "gpu": 1.0}, 1, 2)
    assert _resources({"cpus_per_trial": 2, "gpus_per_trial": 0.25}, 20, {"CPU": 16, "GPU": 1}) == (
        {"cpu": 2, "gpu": 0.25}, 4, 2)
    assert _resources({"cpus_per_trial": 4, "gpus_per_trial": 0.25}, 3, {"CPU": 8, "GPU": 2})[1] == 2
    for bad in (0.3 * 5, -1, "half", 2.5):
        with pytest.raises(ReviewtuiError, match="gpus_per_trial"):
            _resources({"gpus_per_trial": bad}, 4, {"CPU": 4, "GPU": 1})
