"""Ray Tune search: search space, a real ASHA + HyperOpt search on CPU with live trial events and
an erroring (NaN) trial, cancellation that keeps finished trials and leaves no Ray behind, one
meaning of a trial's best, and saving the best trial of a cancelled search."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import psutil
import pytest

from modeling_fixtures import (LABELS, default_C, make_frame, make_nan_model, model_settings, training_settings,
                               tuning_settings)
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress, TrialUpdate

TINY_TRAINING = {"epochs": 2, "learning_rate": 5e-3, "batch_size": 16, "warmup_ratio": 0.0, "seed": 42,
                 "ensemble_quick": False}


def tiny_search(tiny_bert, tmp_path, *, tuning: dict, training: dict | None = None, **kw) -> dict:
    """tune_models' keyword arguments for a search over the tiny BERT (16 tokens)."""
    return dict(models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(tiny_bert, 16),
                training=training_settings(**(training or TINY_TRAINING)), tuning=tuning_settings(**tuning),
                quick_C=default_C(), cache_dir=tmp_path / "cache", **kw)


def best_reports(updates: list[TrialUpdate]) -> dict[str, dict[str, float]]:
    """Each trial's best report by the objective, from the stream of its RUNNING reports."""
    best: dict[str, dict[str, float]] = {}
    for u in updates:
        if u.status == "RUNNING" and "objective" in u.metrics:
            if u.trial_id not in best or u.metrics["objective"] > best[u.trial_id]["objective"]:
                best[u.trial_id] = u.metrics
    return best


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
    deadline = time.monotonic() + 60
    while _ray_children() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ray_children() == []


def test_search_space_from_tuning_config():
    from ray.tune.search.sample import Categorical, Float, Integer

    from reviewtui.modeling.tuning import search_space

    space = search_space(tuning_settings(learning_rate=[1e-5, 1e-3], epochs=[2, 9], max_epochs=5, batch_size=[8, 16],
                                         weight_decay=0.0, warmup_ratio=[0.1, 0.1], seed=[7],
                                         candidates=["minilm", "quick"], quick_C=[1.0, 50.0]), "minilm")
    assert isinstance(space["learning_rate"], Float) and space["learning_rate"].lower == 1e-5
    assert isinstance(space["epochs"], Integer) and (space["epochs"].lower, space["epochs"].upper) == (2, 6)
    assert isinstance(space["batch_size"], Categorical) and space["batch_size"].categories == [8, 16]
    # one value (or a range of one point) is fixed
    assert space["weight_decay"] == 0.0 and space["warmup_ratio"] == 0.1 and space["seed"] == 7
    assert space["model"].categories == ["minilm", "quick"] and isinstance(space["quick_C"], Float)
    defaults = search_space(tuning_settings(), "some/model")
    assert defaults["model"] == "some/model" and defaults["epochs"] == 8 and "quick_C" not in defaults
    assert search_space(tuning_settings(epochs=[12], max_epochs=4), "minilm")["epochs"] == 4
    with pytest.raises(ReviewtuiError, match="learning_rate"):
        tuning_settings(learning_rate=[1e-3, 1e-5])
    with pytest.raises(ReviewtuiError, match="epochs"):
        tuning_settings(epochs="many")


def test_the_search_starts_from_the_training_configuration():
    from reviewtui.modeling.tuning import default_point, search_space

    space = search_space(tuning_settings(learning_rate=[1e-5, 1e-3], batch_size=[8, 16, 32], candidates=["quick", "minilm"],
                                         quick_C=[1.0, 50.0]), "minilm")
    point = default_point(space, training_settings(learning_rate=5e-3, batch_size=16), "minilm", 10.0)
    assert point["learning_rate"] == 1e-3  # clipped into the range
    assert point["batch_size"] == 16 and point["model"] == "minilm" and point["quick_C"] == 10.0


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
def test_a_bad_override_is_refused_before_ray_starts(tmp_path, budget):
    from tui_data import build_workspace

    ws = build_workspace(tmp_path / "ws")
    try:
        with pytest.raises(ReviewtuiError, match="time_budget_s"):
            ws.tune(tuning={"time_budget_s": budget}, trials=2)
    finally:
        ws.close()
    assert not (tmp_path / "ws" / "models").exists() or not list((tmp_path / "ws" / "models").iterdir())


def test_zero_trials_are_refused_not_replaced_by_the_configured_number(tmp_path):
    from tui_data import build_workspace

    from reviewtui.modeling.tuning import tune_models

    ws = build_workspace(tmp_path / "ws", versions=False)
    try:  # refused first, before looking for a dataset version
        with pytest.raises(ReviewtuiError, match=r"at least 1, not 0.*\[tuning\] trials \(20\)"):
            ws.tune(trials=0)
    finally:
        ws.close()
    with pytest.raises(ReviewtuiError, match="at least 1, not -2"):
        tune_models(make_frame(40), models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(),
                    training=training_settings(), tuning=tuning_settings(), quick_C=default_C(), trials=-2)
    with pytest.raises(ReviewtuiError, match="no configurations"):
        tune_models(make_frame(40), models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(),
                    training=training_settings(), tuning=tuning_settings(), quick_C=default_C(), configs=[])


@pytest.mark.slow
@pytest.mark.ray
def test_real_search_reports_live_trials_survives_a_nan_trial_and_saves_the_best(tmp_path, tiny_bert):
    from reviewtui.modeling.tuning import tune_models

    nan_model = make_nan_model(tiny_bert, tmp_path / "nan-bert")
    events = []
    result = tune_models(
        make_frame(120),
        # the first point HyperOpt evaluates is the first candidate: the NaN model errors
        **tiny_search(tiny_bert, tmp_path, tuning={"candidates": [str(nan_model), str(tiny_bert)],
                                                   "learning_rate": [1e-3, 1e-2], "epochs": [1, 3], "max_epochs": 3,
                                                   "batch_size": [16], "seed": [42], "seed_search": 7,
                                                   "cpus_per_trial": 2}),
        trials=3, name="best", dataset_version="dataset-4", on_event=events.append)

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

    # one meaning of best: every update carries its trial's best report so far, the result's best
    # trial is the one whose best report is highest, and that trial's exact configuration is saved
    best = best_reports(updates)
    for t in result.trials:
        assert t.best == best.get(t.trial_id, {})
    assert result.best_trial_id == max(best, key=lambda k: best[k]["objective"])
    assert result.best_metrics == best[result.best_trial_id]
    assert result.best_trial_id in {t.trial_id for t in finished}
    assert result.best_config["model"] == str(tiny_bert)
    card = result.card
    assert card is not None and card.name == "best" and card.dataset_version == "dataset-4"
    assert (tmp_path / "models" / "best" / "model.safetensors").is_file()
    assert not (tmp_path / "models" / "best" / "quick_model.npz").exists()  # ensemble_quick = false
    assert card.extra["tuning"]["trials"] == 3 and card.extra["tuning"]["best_trial"] == result.best_trial_id
    exact = result.exact_config(result.best_trial_id)
    assert card.hyperparameters["learning_rate"] == exact["learning_rate"]  # not the rounded value shown
    assert card.hyperparameters["epochs"] == exact["epochs"]
    assert card.hyperparameters["learning_rate"] == pytest.approx(result.best_config["learning_rate"], rel=1e-3)
    _assert_no_ray_left()


@pytest.mark.slow
@pytest.mark.ray
def test_cancel_stops_the_search_keeps_finished_trials_and_leaves_no_ray(tmp_path, tiny_bert):
    from reviewtui.modeling.tuning import save_tuned, tune_models

    cancel = threading.Event()
    events = []

    cancelled_at: list[float] = []

    def sink(event):
        events.append(event)
        if isinstance(event, TrialUpdate) and event.status == "TERMINATED" and not cancel.is_set():
            cancel.set()  # the user presses Ctrl-C once a first trial has finished
            cancelled_at.append(time.monotonic())

    df = make_frame(80)
    result = tune_models(
        df, **tiny_search(tiny_bert, tmp_path, tuning={"learning_rate": [1e-3, 1e-2], "epochs": [30, 40],
                                                       "max_epochs": 40, "batch_size": [16], "cpus_per_trial": 2},
                          training={**TINY_TRAINING, "epochs": 1}),
        trials=6, dataset_version="dataset-1", on_event=sink, cancel=cancel)
    assert result.cancelled and result.card is None
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())
    assert any(isinstance(e, Notice) and "nothing saved" in e.text for e in events)
    first = result.trials[0]
    assert first.status == "TERMINATED" and first.metrics["accuracy"] >= 0.0 and first.best
    assert result.best_trial_id is not None  # the finished trial's result is kept
    assert len(result.trials) < 6
    assert all(t.status in ("TERMINATED", "STOPPED", "ERROR") for t in result.trials)
    assert time.monotonic() - cancelled_at[0] < 60  # the running trials stop at once, not after 30+ epochs
    _assert_no_ray_left()

    # the cancelled search's best trial can still be saved, retrained with exactly its configuration
    more = []
    card = save_tuned(result, df, models_dir=tmp_path / "models", cache_dir=tmp_path / "cache", name="kept",
                      on_event=more.append, check_texts=list(make_frame(20, seed=5)["content"]))
    assert result.card is card and (tmp_path / "models" / "kept" / "model.safetensors").is_file()
    # its faster precisions were checked on the held-out rows and the corpus's reviews too
    assert card.precision_checks["int8"]["on"] == "validation and test splits and 20 reviews of the corpus"
    assert card.dataset_version == "dataset-1" and card.extra["tuning"]["cancelled"] is True
    assert card.extra["tuning"]["best_trial"] == result.best_trial_id
    assert card.hyperparameters["learning_rate"] == result.exact_config(result.best_trial_id)["learning_rate"]
    assert any(isinstance(e, Notice) and result.best_trial_id in e.text for e in more)


@pytest.mark.slow
@pytest.mark.ray
def test_a_cancelled_search_can_save_its_best_trial_on_the_way_out(tmp_path, tiny_bert):
    from reviewtui.modeling.tuning import tune_models

    cancel = threading.Event()
    events = []

    def sink(event):
        events.append(event)
        if isinstance(event, TrialUpdate) and event.status == "RUNNING" and event.best:
            cancel.set()  # Ctrl-C as soon as one trial has reported an epoch

    result = tune_models(
        make_frame(60), **tiny_search(tiny_bert, tmp_path, tuning={"learning_rate": [1e-3, 1e-2], "epochs": [20],
                                                                   "max_epochs": 20, "batch_size": [16],
                                                                   "cpus_per_trial": 2}),
        trials=4, name="on-cancel", dataset_version="dataset-2", on_event=sink, cancel=cancel, save_on_cancel=True)
    assert result.cancelled and result.best_trial_id is not None
    assert result.card is not None and result.card.name == "on-cancel"
    assert (tmp_path / "models" / "on-cancel" / "model_card.json").is_file()
    assert result.card.extra["tuning"]["cancelled"] is True
    assert any(isinstance(e, Notice) and e.level == "warning" and "retraining the best reported trial" in e.text
               for e in events)
    _assert_no_ray_left()


@pytest.mark.slow
@pytest.mark.ray
def test_a_search_can_be_replayed_with_the_same_configurations_without_early_stopping(tmp_path, tiny_bert):
    """bench_models compares ASHA with a full search this way: FIFO over ASHA's exact configs."""
    from reviewtui.modeling.tuning import tune_models

    common = tiny_search(tiny_bert, tmp_path, tuning={"learning_rate": [1e-3, 1e-2], "epochs": 2, "max_epochs": 2,
                                                      "batch_size": [8, 16], "cpus_per_trial": 2}, retrain=False)
    first = tune_models(make_frame(60), trials=3, **common)
    assert len(first.configs) == 3 and all("learning_rate" in c and "batch_size" in c for c in first.configs)
    again = tune_models(make_frame(60), scheduler="fifo", configs=first.configs, **common)
    assert again.configs == first.configs
    assert all(t.status == "TERMINATED" and t.iteration == 2 for t in again.trials)
    _assert_no_ray_left()


def test_resources_share_gpus_and_refuse_bad_shares():
    from dataclasses import replace

    from reviewtui.modeling.tuning import trial_resources

    def tuning(**over):
        return replace(tuning_settings(), **over)  # unvalidated, as a hand-built section could be

    # CPU only: cpus_per_trial CPUs each; 0 takes half the machine, at most 4
    assert trial_resources(tuning(cpus_per_trial=2), 20, {"CPU": 16}) == ({"cpu": 2}, 8, 2)
    assert trial_resources(tuning(cpus_per_trial=0), 20, {"CPU": 16}) == ({"cpu": 4}, 4, 4)
    # one GPU per trial by default; a quarter GPU runs four trials side by side, CPUs permitting
    assert trial_resources(tuning(cpus_per_trial=2), 20, {"CPU": 16, "GPU": 1}) == ({"cpu": 2, "gpu": 1.0}, 1, 2)
    assert trial_resources(tuning(cpus_per_trial=2, gpus_per_trial=0.25), 20, {"CPU": 16, "GPU": 1}) == (
        {"cpu": 2, "gpu": 0.25}, 4, 2)
    assert trial_resources(tuning(cpus_per_trial=4, gpus_per_trial=0.25), 3, {"CPU": 8, "GPU": 2})[1] == 2
    for bad in (0.3 * 5, 0.0, 2.5):
        with pytest.raises(ReviewtuiError, match="gpus_per_trial"):
            trial_resources(tuning(gpus_per_trial=bad), 4, {"CPU": 4, "GPU": 1})
    assert trial_resources(tuning(gpus_per_trial=0.0), 4, {"CPU": 4}) == ({"cpu": 2}, 2, 2)  # no GPU: unused


def _fake_trial(trial_id: str, config: dict, last: dict | None = None):
    return SimpleNamespace(trial_id=trial_id, config=config, status="RUNNING", last_result=last or {},
                           get_error=lambda: "", error_file=None)


def test_a_trials_best_is_its_best_report_not_its_last_and_the_search_saves_that_trial(tmp_path):
    """A fake stream of reports through the real Ray Tune callback: trial a's last report is worse
    than its first. The table's best, the star (the best trial), the summary's metrics and the
    configuration retrained all come from a's first report."""
    from reviewtui.modeling.trial_events import SESSIONS, TrialEvents, new_session_id
    from reviewtui.modeling.trial_log import SearchLog
    from reviewtui.modeling.tuning import SearchInputs, TuneResult, collect_results, save_tuned

    events = []
    log = SearchLog(events.append, None, 2)
    sid = new_session_id()
    SESSIONS[sid] = log
    callback = TrialEvents(sid)
    a = _fake_trial("a", {"model": "quick", "quick_C": 3.14159265})  # exact: more digits than the table shows
    b = _fake_trial("b", {"model": "quick", "quick_C": 77.7})

    def report(trial, it, acc, loss):
        callback.on_trial_result(0, [], trial, {"accuracy": acc, "loss": loss, "objective": acc - 1e-3 * loss,
                                                "training_iteration": it, "time_total_s": float(it)})

    try:
        callback.on_trial_start(0, [], a)
        callback.on_trial_start(0, [], b)
        report(a, 1, 0.95, 0.2)  # a's best
        report(b, 1, 0.80, 0.5)
        report(a, 2, 0.60, 0.9)  # a's last report is worse than its first
        report(b, 2, 0.85, 0.4)  # b's last beats a's last, not a's best
        a.last_result, b.last_result = {"training_iteration": 2, "planned_epochs": 2}, {"training_iteration": 2}
        callback.on_trial_complete(0, [], a)
        callback.on_trial_complete(0, [], b)
    finally:
        SESSIONS.pop(sid)

    updates = [e for e in events if isinstance(e, TrialUpdate)]
    assert [u.best for u in updates if u.trial_id == "a"][0] == {}  # before the first report
    last = {u.trial_id: u for u in updates}
    assert last["a"].status == "TERMINATED" and last["a"].metrics["accuracy"] == 0.60
    assert last["a"].best["accuracy"] == 0.95 and last["b"].best["accuracy"] == 0.85

    result = collect_results(log, TuneResult(inputs=SearchInputs(
        label_keys=LABELS, model=model_settings("minilm"), training=training_settings(), quick_C=default_C(),
        trials=2, dataset_version="dataset-5")))
    assert result.best_trial_id == "a" and result.best_metrics["accuracy"] == 0.95
    assert result.best_config == {"model": "quick", "quick_C": 3.142, "best_epoch": 1}
    card = save_tuned(result, make_frame(60), models_dir=tmp_path / "models", cache_dir=tmp_path / "cache",
                      name="tuned-a")
    assert card.kind == "quick" and card.hyperparameters["C"] == 3.14159265  # a's exact configuration
    assert card.extra["tuning"]["best_trial"] == "a" and card.extra["tuning"]["best_validation"]["accuracy"] == 0.95
    assert card.dataset_version == "dataset-5"


def test_saving_a_search_without_any_report_is_a_clear_error(tmp_path):
    from reviewtui.modeling.tuning import TuneResult, save_tuned

    result = TuneResult(trials=[TrialUpdate("a", "STOPPED")], configs=[{}], cancelled=True)
    with pytest.raises(ReviewtuiError, match="no trial of this search reported.*nothing to save"):
        save_tuned(result, make_frame(40), models_dir=tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_the_workspace_saves_the_best_trial_on_the_version_the_search_ran_on(tmp_path):
    from tui_data import build_workspace

    from reviewtui.modeling.tuning import SearchInputs, TuneResult

    ws = build_workspace(tmp_path / "ws")
    try:
        keys = ws.taxonomy.training_keys
        result = TuneResult(
            trials=[TrialUpdate("t1", "STOPPED", {"model": "quick", "quick_C": 2.5}, 1, {"accuracy": 0.5},
                                best={"accuracy": 0.5})],
            configs=[{"model": "quick", "quick_C": 2.5}], best_trial_id="t1", best_metrics={"accuracy": 0.5},
            best_config={"model": "quick", "quick_C": 2.5, "best_epoch": 1}, cancelled=True,
            inputs=SearchInputs(label_keys=keys, model=ws.settings.model, training=ws.settings.training,
                                quick_C=ws.settings.active_learning.C, trials=3, dataset_version="dataset-1",
                                dataset_sha256=ws.version_info("dataset-1").sha256))
        card = ws.save_tuned(result, name="kept")
        assert card.dataset_version == "dataset-1" and card.hyperparameters["C"] == 2.5
        assert ws.model_card("kept").extra["tuning"]["cancelled"] is True
        assert sum(card.splits.values()) == 12  # dataset-1's 12 labels, not the newer dataset-2's 16

        ws.config.set_categories(ws.taxonomy.to_list()[:3])
        with pytest.raises(ReviewtuiError, match="training categories changed"):
            ws.save_tuned(result, name="again")
    finally:
        ws.close()


def test_a_lucky_first_fold_never_outranks_a_configuration_good_on_every_fold():
    from reviewtui.modeling.selection import cv_objective, partial_objective

    lucky = [{"f1_macro": 0.98, "log_loss": 0.2}]  # stopped by ASHA after one (lucky) fold
    steady = [{"f1_macro": v, "log_loss": 0.4} for v in (0.84, 0.86, 0.85)]
    assert partial_objective(lucky, 3) < partial_objective(steady, 3) == pytest.approx(cv_objective(steady))
    # at the same rung (the same folds done) the factor is the same: ASHA's order is the objective's
    a, b = [{"f1_macro": 0.7, "log_loss": 0.5}], [{"f1_macro": 0.8, "log_loss": 0.5}]
    assert (partial_objective(a, 5) < partial_objective(b, 5)) == (cv_objective(a) < cv_objective(b))


@pytest.mark.slow
@pytest.mark.ray
def test_below_cv_below_trials_are_scored_by_folds_and_the_best_is_trained_on_all_labels(tmp_path, tiny_bert):
    from reviewtui import presentation as say
    from reviewtui.modeling.tuning import tune_models
    from reviewtui.settings import EvaluationSettings

    events = []
    result = tune_models(
        make_frame(60), **tiny_search(tiny_bert, tmp_path, tuning={
            "candidates": ["quick", str(tiny_bert)], "learning_rate": [1e-3, 1e-2], "epochs": [1], "max_epochs": 1,
            "batch_size": [16], "seed": [42], "seed_search": 7, "cpus_per_trial": 2}),
        trials=3, name="cv", dataset_version="dataset-1", on_event=events.append,
        evaluation=EvaluationSettings(folds=3))
    reports = [u for u in events if isinstance(u, TrialUpdate) and u.status == "RUNNING" and "objective" in u.metrics]
    assert reports and {u.iteration for u in reports} <= {1, 2, 3}  # one report per fold: ASHA's rungs are folds
    assert any(u.iteration == 3 for u in reports)
    for t in result.trials:
        mine = [u for u in reports if u.trial_id == t.trial_id]
        objectives = [u.metrics["objective"] for u in sorted(mine, key=lambda u: u.iteration)]
        assert objectives == sorted(objectives) or len(objectives) < 2  # done / k x the CV objective grows
    assert "best_epoch" not in result.best_config and result.best_config["folds"] == 3
    assert "cross-validated accuracy" in say.best_trial_sentence(result) and "over 3 folds" in say.best_trial_sentence(
        result)
    card = result.card
    assert card is not None and card.extra["evaluation"]["method"] == "cross-validation"
    assert card.splits["train"] == 60 and card.extra["tuning"]["best_trial"] == result.best_trial_id
    _assert_no_ray_left()


def test_a_cross_validated_search_result_round_trips_through_json():
    """A cancelled search's result is kept as JSON (a job's record) and read back to keep its best
    trial: the evaluation settings that made it cross-validated come back as settings."""
    import json

    from reviewtui.modeling.tuning import SearchInputs, TuneResult, tune_result_from_dict, tune_result_to_dict
    from reviewtui.settings import EvaluationSettings, ModelSettings, TrainingSettings

    inputs = SearchInputs(label_keys=["A", "B"], model=ModelSettings(), training=TrainingSettings(), quick_C=1.0,
                          trials=2, evaluation=EvaluationSettings(folds=2))
    back = tune_result_from_dict(json.loads(json.dumps(tune_result_to_dict(TuneResult(inputs=inputs)))))
    assert back.inputs.evaluation == EvaluationSettings(folds=2) and back.inputs.model == ModelSettings()


class _Journal:
    """An event sink as a background job's journal is (``reviewtui.jobs.JournalSink``: a ``job_id``)."""

    job_id = "20261202-a1b2"

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)


def _best_of(spec: str, **inputs) -> "TuneResult":  # noqa: F821
    from reviewtui.modeling.tuning import SearchInputs, TuneResult

    return TuneResult(trials=[TrialUpdate("t1", "TERMINATED", {"model": spec}, 1, {"accuracy": 0.9},
                                          best={"accuracy": 0.9})],
                      configs=[{"model": spec}], best_trial_id="t1", best_metrics={"accuracy": 0.9},
                      best_config={"model": spec, "best_epoch": 1},
                      inputs=SearchInputs(label_keys=LABELS, model=model_settings(spec, 16),
                                          training=training_settings(**TINY_TRAINING), quick_C=default_C(), trials=1,
                                          dataset_version="dataset-1", **inputs))


def test_a_detached_tunes_cross_validated_retrain_still_knows_its_job_and_names_no_train_options(tmp_path, monkeypatch):
    """The retrain below [evaluation] cv_below passes its events through a filter that keeps the
    search's trial table; the job behind it is still found (its notices name `jobs cancel`, not
    --detach), and the notices name no option of `train` (tune has no --quick or --split)."""
    from reviewtui.events import background_job
    from reviewtui.modeling import selection
    from reviewtui.modeling.tuning import save_tuned
    from reviewtui.settings import EvaluationSettings

    seen = {}

    def cross_validated(df, **kw):
        seen.update(kw)
        return None, "card"

    monkeypatch.setattr(selection, "train_cross_validated", cross_validated)
    journal = _Journal()
    result = _best_of("quick", evaluation=EvaluationSettings(folds=3))
    assert save_tuned(result, make_frame(60), models_dir=tmp_path / "models", on_event=journal) == "card"
    assert background_job(seen["on_event"]) == journal.job_id
    assert seen["faster"] is None
    seen["on_event"](TrialUpdate("candidate", "RUNNING"))
    seen["on_event"](Progress("train", 1, 2))
    assert not [e for e in journal.events if isinstance(e, TrialUpdate)]
    assert isinstance(journal.events[-1], Progress)


def test_a_tunes_final_fine_tuning_names_no_train_options_in_its_long_run_notice(tmp_path, tiny_bert, monkeypatch):
    """The final retrain of a search fine-tunes through train_model; its notice of a long run says
    the wait and how to stop the job, not `train --quick` or `--epochs N` (tune has neither)."""
    from reviewtui.modeling import Cancelled, finetune
    from reviewtui.modeling.tuning import save_tuned

    said = []

    def fit_transformer(*args, long_run, **kw):
        said.append(long_run(3600.0))
        raise Cancelled("stopped here")

    monkeypatch.setattr(finetune, "fit_transformer", fit_transformer)
    with pytest.raises(Cancelled):
        save_tuned(_best_of(str(tiny_bert)), make_frame(60), models_dir=tmp_path / "models", on_event=_Journal())
    assert said[0].endswith("(early stopping may end it sooner). `reviewtui jobs cancel 20261202-a1b2` stops it, "
                            "saving nothing")
    assert "--epochs" not in said[0] and "--quick" not in said[0]
    with pytest.raises(Cancelled):  # `reviewtui train` names its own
        finetune.train_model(make_frame(60), models_dir=tmp_path / "models", label_keys=LABELS,
                             model=model_settings(tiny_bert, 16), training=training_settings(**TINY_TRAINING),
                             quick_C=default_C())
    assert "Faster: `reviewtui train --quick`" in said[1] and "`--epochs N` trains fewer" in said[1]


def test_a_search_without_an_address_starts_its_own_ray_beside_a_running_cluster(monkeypatch):
    """`ray start` left a cluster on this machine: ray.init() with no address joins it and refuses
    the CPU and GPU counts (a traceback). Without --ray-address the search asks Ray for a local
    instance of its own; RAY_ADDRESS, Ray's own variable, names a cluster as --ray-address does."""
    import ray

    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling import tuning

    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(kw))
    monkeypatch.setattr(tuning, "check_reachable", lambda address: None)  # no cluster answers here: Ray is a fake
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert tuning._start_ray(None, None) is True
    assert calls[-1]["address"] == "local" and "num_cpus" in calls[-1]
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6390")
    tuning._start_ray(None, None)
    assert calls[-1]["address"] == "127.0.0.1:6390" and "num_cpus" not in calls[-1]

    def refuse(**kw):
        raise ConnectionError("InvalidAuthToken")

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(ReviewtuiError, match=r"export RAY_AUTH_MODE=token in this shell first"):
        tuning._start_ray("127.0.0.1:6390", None)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    with pytest.raises(ReviewtuiError) as err:
        tuning._start_ray("127.0.0.1:6390", None)
    assert "RAY_AUTH_MODE" not in str(err.value)


def test_an_address_nothing_answers_on_is_refused_at_once():
    """`predict --ray-address nowhere:1` printed Ray's retry warnings for minutes: a host that does
    not resolve, or a port nothing listens on, is said in one line before Ray is asked."""
    import socket

    from reviewtui.modeling.tuning import check_reachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing answers there
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}", "nowhere.invalid:6379"):
        started = time.monotonic()
        with pytest.raises(ReviewtuiError, match=rf"cannot reach the Ray cluster at '{address}' \(.+\); check --ray-address"):
            check_reachable(address)
        assert time.monotonic() - started < 10
    with socket.socket() as s:  # something listens: left to Ray
        s.bind(("127.0.0.1", 0))
        s.listen()
        check_reachable(f"127.0.0.1:{s.getsockname()[1]}")
    check_reachable("auto")
