"""Hyper-parameter search with Ray Tune: ASHA early stopping, HyperOpt suggestions, live trial events.

``tune_models`` is what ``reviewtui tune`` runs. Each trial fine-tunes on the train split and
reports validation metrics after every epoch (``ray.tune.report``), so ASHA can stop bad trials
early. With ``[tuning] candidates`` the base model itself is searched too, "quick" standing for the
embeddings + logistic-regression model (an AutoTrain-like "auto" mode). The best configuration is
retrained, evaluated on the test split and saved like ``reviewtui train``.

A ``tune.Callback`` turns trial starts, results, completions and errors into
:class:`reviewtui.events.TrialUpdate` events for the CLI's live table and the app's DataTable.
Setting the ``cancel`` event stops the search through a ``tune.Stopper``: finished trials' results
are kept and the Ray instance this function started is shut down.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from reviewtui.settings import TuningSettings, to_toml_dict
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, TrialUpdate, emit
from reviewtui.modeling import Cancelled
from reviewtui.modeling.card import ModelCard

TUNING_DEFAULTS: dict[str, Any] = to_toml_dict(TuningSettings())
HP_KEYS = ("learning_rate", "epochs", "batch_size", "weight_decay", "warmup_ratio", "seed")
QUICK = "quick"
METRIC = "objective"  # same name as trial_events.METRIC


@dataclass
class TuneResult:
    """The outcome of a search. ``trials`` holds each trial's last TrialUpdate (the status tells
    how it ended); ``configs`` the exact configuration of each trial, in the same order (unrounded:
    ``tune_models(configs=...)`` replays them); ``best_config`` and ``best_metrics`` (validation)
    come from the best epoch of the best trial; ``card`` is the retrained best model (None when
    cancelled or nothing succeeded)."""

    trials: list[TrialUpdate] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    best_trial_id: str | None = None
    best_config: dict[str, Any] = field(default_factory=dict)
    best_metrics: dict[str, float] = field(default_factory=dict)
    card: ModelCard | None = None
    cancelled: bool = False
    search_seconds: float = 0.0
    total_seconds: float = 0.0
    scheduler: str = "asha"

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.trials:
            out[t.status] = out.get(t.status, 0) + 1
        return out

    @property
    def early_stopped(self) -> int:
        return sum(1 for t in self.trials if t.early_stopped)


# --- search space ------------------------------------------------------------------------------
def tuning_params(tuning: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(TUNING_DEFAULTS)
    out.update({k: v for k, v in (tuning or {}).items() if v is not None})
    return out


def _range(value: Any, key: str) -> tuple[float, float] | None:
    """(lo, hi) for a two-number list, None for a scalar; raises ReviewtuiError otherwise."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(isinstance(v, (int, float)) for v in value) or value[0] > value[1]:
            raise ReviewtuiError(f"[tuning] {key} must be a number or [low, high], not {value!r}")
        return float(value[0]), float(value[1])
    if not isinstance(value, (int, float)):
        raise ReviewtuiError(f"[tuning] {key} must be a number or [low, high], not {value!r}")
    return None


def search_space(tuning: dict[str, Any], base_model: str) -> dict[str, Any]:
    """Ray Tune search space from [tuning]: ranges become samplers, scalars stay fixed.

    learning_rate is log-uniform; epochs and seed integers; batch_size a choice; weight_decay and
    warmup_ratio uniform; ``candidates`` (model specs and/or "quick") a choice over base models.
    Raises ReviewtuiError for malformed entries.
    """
    from ray import tune

    t = tuning_params(tuning)
    space: dict[str, Any] = {}
    lr = _range(t["learning_rate"], "learning_rate")
    space["learning_rate"] = tune.loguniform(*lr) if lr and lr[0] < lr[1] else float(lr[0] if lr else t["learning_rate"])
    if lr and lr[0] <= 0:
        raise ReviewtuiError("[tuning] learning_rate bounds must be positive")
    max_epochs = int(t["max_epochs"])
    ep = _range(t["epochs"], "epochs")
    if ep:
        lo, hi = int(ep[0]), min(int(ep[1]), max_epochs)
        space["epochs"] = tune.randint(lo, hi + 1) if lo < hi else lo
    else:
        space["epochs"] = min(int(t["epochs"]), max_epochs)
    bs = t["batch_size"]
    space["batch_size"] = tune.choice([int(b) for b in bs]) if isinstance(bs, (list, tuple)) and len(bs) > 1 \
        else int(bs[0] if isinstance(bs, (list, tuple)) else bs)
    for key in ("weight_decay", "warmup_ratio"):
        r = _range(t[key], key)
        space[key] = tune.uniform(*r) if r and r[0] < r[1] else float(r[0] if r else t[key])
    sd = _range(t["seed"], "seed")
    space["seed"] = tune.randint(int(sd[0]), int(sd[1]) + 1) if sd and sd[0] < sd[1] else int(sd[0] if sd else t["seed"])
    candidates = [str(c) for c in (t.get("candidates") or [])]
    if candidates:
        space["model"] = tune.choice(candidates) if len(candidates) > 1 else candidates[0]
        if QUICK in candidates:
            qc = _range(t["quick_C"], "quick_C")
            space["quick_C"] = tune.loguniform(*qc) if qc and qc[0] < qc[1] else float(qc[0] if qc else t["quick_C"])
    else:
        space["model"] = base_model
    return space


def _default_point(space: dict[str, Any], training: dict[str, Any], base_model: str) -> dict[str, Any] | None:
    """The [training] configuration as the first point HyperOpt evaluates (clipped into the space)."""
    from ray.tune.search.sample import Categorical, Domain, Float, Integer

    point: dict[str, Any] = {}
    for key, dom in space.items():
        if not isinstance(dom, Domain):
            continue
        want = {"model": base_model, "quick_C": 10.0}.get(key, training.get(key))
        if isinstance(dom, Categorical):
            point[key] = want if want in dom.categories else dom.categories[0]
        elif isinstance(dom, Integer):
            point[key] = int(min(max(int(want if want is not None else dom.lower), dom.lower), dom.upper - 1))
        elif isinstance(dom, Float):
            point[key] = float(min(max(float(want if want is not None else dom.lower), dom.lower), dom.upper))
    return point or None


# --- the trial ---------------------------------------------------------------------------------
def _objective(metrics: dict[str, float]) -> float:
    # validation accuracy moves in steps of 1/len(validation); the loss breaks the many ties
    loss = metrics.get("loss", 0.0)
    return float(metrics.get("accuracy", 0.0)) - 1e-3 * (loss if math.isfinite(loss) else 1e3)


def release_freed_memory() -> bool:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim(0)``); False where there
    is no glibc (macOS, musl) or it fails. Cheap: tens of milliseconds after a trial."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError):  # no malloc_trim in this libc
        return False


def run_trial(config: dict[str, Any], data: dict[str, Any]) -> None:
    """One Ray Tune trial (runs in a Ray worker): report validation metrics after every epoch.

    Actors are reused between trials and each trial runs in a new thread, so glibc serves it from
    another malloc arena: the ~0.5-0.8 GB a fine-tune frees stayed cached in that arena, and a
    reused worker grew by that much per trial (to ~11 GB after a 20-trial search on 2 CPUs,
    where the OOM killer stepped in). The memory is returned after every trial instead, also
    when Ray ends the trial from inside ``tune.report`` (a ``SystemExit`` raised by an ASHA stop):
    the exception, whose traceback holds the model and the Trainer, is dropped first.
    """
    stop: SystemExit | None = None
    try:
        _trial(config, data)
    except SystemExit as exc:  # Ray stopping the trial; re-raised below once the memory is freed
        stop = SystemExit(exc.code)
    finally:
        import gc

        gc.collect()  # the Trainer, its callbacks and the model hold reference cycles
        release_freed_memory()
    if stop is not None:
        raise stop


def _trial(config: dict[str, Any], data: dict[str, Any]) -> None:
    import torch
    from ray import tune

    torch.set_num_threads(max(1, int(data.get("threads", 1))))
    model = str(config.get("model", data["base_model"]))
    if model == QUICK:
        from reviewtui.modeling.finetune import classification_metrics
        from reviewtui.modeling.quick import QuickModel

        X_tr, y_tr, X_va, y_va = data["quick"]
        quick = QuickModel(C=float(config.get("quick_C", 10.0))).fit(X_tr, y_tr)
        labels = data["labels"]
        pred = quick.predict(X_va)
        metrics, _, _ = classification_metrics([labels.index(v) for v in y_va], [labels.index(v) for v in pred], labels)
        proba = quick.predict_proba(X_va)
        cols = [quick.classes_.index(v) for v in y_va]
        loss = float(-sum(math.log(max(float(proba[i, c]), 1e-12)) for i, c in enumerate(cols)) / max(1, len(cols)))
        row = {"accuracy": metrics["accuracy"], "f1_weighted": metrics["f1_weighted"],
               "f1_macro": metrics["f1_macro"], "loss": loss}
        tune.report({**row, METRIC: _objective(row), "epoch": 1, "planned_epochs": 1})
        return

    from reviewtui.modeling.finetune import fit_transformer

    hp = {k: config[k] for k in HP_KEYS if k in config}
    hp.update({k: v for k, v in data.get("training", {}).items() if k not in hp and k in ("class_weights",)})
    hp["epochs"] = int(hp.get("epochs", 1))
    hp["early_stopping_patience"] = hp["epochs"] + 1  # the scheduler stops bad trials, not patience

    def report(epoch: int, metrics: dict[str, float]) -> None:
        row = {k: float(v) for k, v in metrics.items() if k != "epoch"}
        tune.report({**row, METRIC: _objective(row), "epoch": epoch, "planned_epochs": hp["epochs"]})

    fit_transformer(data["train_df"], data["val_df"], data["labels"], model, hp=hp,
                    max_length=int(data["max_length"]), epoch_callback=report)


# --- Ray -----------------------------------------------------------------------------------------
def _quiet_ray_env() -> None:
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no CSV/JSON/TensorBoard loggers
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the new output engine prints tables even at verbose=0
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")


def _start_ray(address: str | None, on_event: EventSink | None) -> bool:
    """Connect to ``address`` or start a local Ray; returns whether this call started it."""
    import ray

    if ray.is_initialized():
        return False
    _quiet_ray_env()
    kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                                  configure_logging=True)
    if address:
        emit(on_event, Notice("info", f"connecting to the Ray cluster at {address}"))
        try:
            ray.init(address=address, **kwargs)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError depending on the failure
            raise ReviewtuiError(f"cannot connect to the Ray cluster at {address!r} ({exc}); check --ray-address "
                                 "(e.g. ray://head:10001 or auto) or leave it out to run locally") from exc
    else:
        emit(on_event, Notice("info", "starting Ray (a few seconds)"))
        import torch

        ray.init(num_cpus=os.cpu_count() or 1, num_gpus=torch.cuda.device_count(), **kwargs)
    return True


def _resources(tuning: dict[str, Any], trials: int, res: dict[str, float] | None = None
               ) -> tuple[dict[str, float], int, int]:
    """(resources per trial, concurrency, threads per trial) from the cluster's resources.

    With GPUs each trial gets ``gpus_per_trial`` of one (default 1; 0.25 runs four small trials
    side by side on each GPU: a 22M-parameter MiniLM on a few hundred reviews leaves a big GPU
    mostly idle). Raises ReviewtuiError for a bad ``gpus_per_trial``.
    """
    if res is None:
        import ray

        res = ray.cluster_resources()
    cpus = max(1, int(res.get("CPU", 1)))
    gpus = int(res.get("GPU", 0))
    per = int(tuning.get("cpus_per_trial") or 0) or max(1, min(4, cpus // 2))
    per = min(per, cpus)
    if gpus:
        try:
            share = float(tuning.get("gpus_per_trial") or 1)
        except (TypeError, ValueError):
            share = -1.0
        if not (0 < share <= 1 or (share > 1 and share == int(share))):
            raise ReviewtuiError(f"[tuning] gpus_per_trial must be a fraction in (0, 1] or a whole number of GPUs, "
                                 f"not {tuning.get('gpus_per_trial')!r}")
        concurrency = max(1, min(trials, int(gpus / share + 1e-9), cpus // per))
        return {"cpu": per, "gpu": share}, concurrency, per
    concurrency = max(1, min(trials, cpus // per))
    return {"cpu": per}, concurrency, per


# --- the search ----------------------------------------------------------------------------------
def tune_models(df, *, models_dir: Path, label_keys: Sequence[str], cache_dir: Path | None = None,
                model_spec: str = "minilm", tuning: dict[str, Any] | None = None,
                training: dict[str, Any] | None = None, max_length: int = 128, trials: int | None = None,
                ray_address: str | None = None, name: str | None = None, dataset_version: str | None = None,
                dataset_sha256: str | None = None, on_event: EventSink | None = None,
                cancel: threading.Event | None = None, scheduler: str = "asha", retrain: bool = True,
                overwrite: bool = False, configs: Sequence[dict[str, Any]] | None = None) -> TuneResult:
    """Search hyper-parameters (and optionally the base model) with Ray Tune, then retrain the
    best configuration, evaluate it on the test split and save it; returns a TuneResult.

    ``scheduler`` is "asha" (early stopping) or "fifo" (every trial runs all its epochs, for
    comparison). ``configs`` replays exactly these configurations (e.g. another search's
    ``TuneResult.configs``), one trial each, in order, instead of HyperOpt's proposals: that is how
    a search without early stopping is compared with an ASHA search on the same trials.
    Emits a TrialUpdate per trial event and Progress("tune", finished, trials).
    Raises ReviewtuiError for a bad [tuning] section, too little data, no reachable Ray cluster or
    when every trial failed. Cancelling returns the trials finished so far with ``cancelled`` set.
    """
    from reviewtui.modeling.finetune import prepare_frame, present_labels, split_frame, training_params
    from reviewtui.modeling.loading import resolve_model

    started = time.perf_counter()
    t = tuning_params(tuning)
    n_trials = len(configs) if configs is not None else int(trials if trials is not None else t["trials"])
    if n_trials < 1:
        raise ReviewtuiError("--trials must be at least 1")
    try:
        budget = float(t.get("time_budget_s") or 0)
    except (TypeError, ValueError):
        budget = -1.0
    if budget < 0:
        raise ReviewtuiError(f"[tuning] time_budget_s must be 0 (no budget) or a number of seconds, "
                             f"not {t.get('time_budget_s')!r}")
    train_hp = training_params(training)
    resolve_model(model_spec)
    candidates = [str(c) for c in (t.get("candidates") or [])]
    for cand in candidates:
        if cand != QUICK:
            resolve_model(cand)  # fail before Ray starts, with the same message as train
    data_df = prepare_frame(df, label_keys)
    labels = present_labels(list(data_df["label"]), label_keys)
    train_df, val_df, test_df = split_frame(data_df)
    if (QUICK in candidates) and cache_dir is None:
        raise ReviewtuiError("the quick model candidate needs an embedding cache folder")

    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
    from ray.tune.search import BasicVariantGenerator
    from ray.tune.search.hyperopt import HyperOptSearch

    space = search_space(t, model_spec)
    trial_data: dict[str, Any] = {"train_df": train_df[["content", "label"]], "val_df": val_df[["content", "label"]],
                                  "labels": labels, "max_length": max_length, "base_model": model_spec,
                                  "training": train_hp}
    if QUICK in candidates:
        from reviewtui.modeling.embeddings import EmbeddingCache

        cache = EmbeddingCache(cache_dir, model_spec if model_spec != QUICK else "minilm", max_length)  # type: ignore[arg-type]
        try:
            trial_data["quick"] = (cache.embed(list(train_df["content"]), on_event=on_event, cancel=cancel),
                                   list(train_df["label"]),
                                   cache.embed(list(val_df["content"]), on_event=on_event, cancel=cancel),
                                   list(val_df["label"]))
        except Cancelled:
            return TuneResult(cancelled=True, scheduler=scheduler, total_seconds=time.perf_counter() - started)
        trial_data["quick_embedding_model"] = cache.resolved.name

    from reviewtui.modeling.trial_events import SESSIONS, CancelStopper, Session, TrialEvents, new_session_id

    session_id = new_session_id()
    work = Path(tempfile.mkdtemp(prefix="reviewtui-tune-"))
    own_ray = False
    result = TuneResult(scheduler=scheduler)
    try:
        own_ray = _start_ray(ray_address, on_event)
        per_trial, concurrency, threads = _resources(t, n_trials)
        trial_data["threads"] = threads
        session = Session(on_event, cancel, n_trials, gpus=bool(per_trial.get("gpu")))
        SESSIONS[session_id] = session
        max_epochs = max(1, int(t["max_epochs"]))
        if scheduler == "asha":
            sched = ASHAScheduler(time_attr="training_iteration", max_t=max_epochs,
                                  grace_period=min(int(t["grace_period"]), max_epochs),
                                  reduction_factor=float(t["reduction_factor"]))
        elif scheduler == "fifo":
            sched = FIFOScheduler()
        else:
            raise ReviewtuiError(f"scheduler must be 'asha' or 'fifo', not {scheduler!r}")
        point = _default_point(space, train_hp, candidates[0] if candidates else model_spec)
        search = None
        if configs is not None:
            search = BasicVariantGenerator(points_to_evaluate=[dict(c) for c in configs])
        elif point is not None:
            search = HyperOptSearch(random_state_seed=int(t["seed_search"]), points_to_evaluate=[point],
                                    n_initial_points=max(2, min(10, n_trials // 2)))
        gpu_share = f" + {per_trial['gpu']:g} GPU" if per_trial.get("gpu") else ""
        emit(on_event, Notice("info", f"searching {n_trials} trials, {concurrency} at a time "
                                      f"({per_trial.get('cpu')} CPU{gpu_share} each)"))
        trainable = tune.with_resources(tune.with_parameters(run_trial, data=trial_data), per_trial)
        tuner = tune.Tuner(
            trainable, param_space=space,
            tune_config=tune.TuneConfig(metric=METRIC, mode="max", num_samples=n_trials, scheduler=sched,
                                        search_alg=search, max_concurrent_trials=concurrency, reuse_actors=True,
                                        time_budget_s=budget or None),
            run_config=tune.RunConfig(name="search", storage_path=str(work), verbose=0,
                                      callbacks=[TrialEvents(session_id)], stop=CancelStopper(session_id),
                                      failure_config=tune.FailureConfig(max_failures=0)),
        )
        search_started = time.perf_counter()
        tuner.fit()
        result.search_seconds = time.perf_counter() - search_started
        result.cancelled = bool(cancel is not None and cancel.is_set())
        for key in session.order:  # trials cut short by a cancel may get no completion callback
            row = session.rows[key]
            if row.status in ("PENDING", "RUNNING"):
                why = None if result.cancelled else (
                    f"time budget of {budget:g}s spent" if budget else "ended without a final result")
                session.rows[key] = replace(row, status="STOPPED", early_stopped=False, error=why)
                emit(on_event, session.rows[key])
        result.trials = [session.rows[k] for k in session.order]
        result.configs = [dict(session.configs.get(k, {})) for k in session.order]
        if session.best:
            best_id = max(session.best, key=lambda k: session.best[k][0])
            best_trial = session.rows[best_id]
            result.best_trial_id = best_id
            result.best_config = dict(best_trial.config)
            result.best_metrics = dict(session.best[best_id][1])
            result.best_config["best_epoch"] = session.best[best_id][2]
    finally:
        SESSIONS.pop(session_id, None)
        if own_ray:
            import ray

            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    if result.cancelled:
        emit(on_event, Notice("warning", f"search cancelled: {len(result.trials)} trials kept, nothing saved"))
        result.total_seconds = time.perf_counter() - started
        return result
    if result.best_trial_id is None:
        errors = [tr.error for tr in result.trials if tr.error]
        raise ReviewtuiError(f"all {len(result.trials)} trials failed"
                             + (f"; the first error: {errors[0]}" if errors else "")
                             + ": check [tuning] in reviewtui.toml and the candidates")
    if retrain:
        try:
            result.card = _retrain_best(result, df, models_dir=models_dir, label_keys=label_keys, cache_dir=cache_dir,
                                        model_spec=model_spec, training=train_hp, max_length=max_length, name=name,
                                        dataset_version=dataset_version, dataset_sha256=dataset_sha256,
                                        on_event=on_event, cancel=cancel, overwrite=overwrite, n_trials=n_trials)
        except Cancelled:
            result.cancelled = True
    result.total_seconds = time.perf_counter() - started
    return result


def _retrain_best(result: TuneResult, df, *, models_dir, label_keys, cache_dir, model_spec, training, max_length,
                  name, dataset_version, dataset_sha256, on_event, cancel, overwrite, n_trials) -> ModelCard:
    from reviewtui.modeling.finetune import default_model_name, train_model
    from reviewtui.modeling.quick import train_quick

    best = result.best_config
    model = str(best.get("model", model_spec))
    extra = {"tuning": {"trials": n_trials, "scheduler": result.scheduler, "best_trial": result.best_trial_id,
                        "best_config": best, "best_validation": result.best_metrics,
                        "search_seconds": round(result.search_seconds, 2), "counts": result.counts,
                        "early_stopped": result.early_stopped}}
    name = name or default_model_name(dataset_version, "tuned")
    emit(on_event, Notice("info", f"retraining the best configuration ({result.best_trial_id}) on the train split"))
    if model == QUICK:
        return train_quick(df, models_dir=models_dir, label_keys=label_keys, cache_dir=cache_dir,
                           model_spec=model_spec if model_spec != QUICK else "minilm", max_length=max_length,
                           C=float(best.get("quick_C", 10.0)), name=name, dataset_version=dataset_version,
                           dataset_sha256=dataset_sha256, on_event=on_event, cancel=cancel, overwrite=overwrite,
                           extra=extra)
    hp = dict(training)
    hp.update({k: best[k] for k in HP_KEYS if k in best})
    return train_model(df, models_dir=models_dir, label_keys=label_keys, model_spec=model, training=hp, cache_dir=cache_dir,
                       max_length=max_length, name=name, dataset_version=dataset_version,
                       dataset_sha256=dataset_sha256, on_event=on_event, cancel=cancel, overwrite=overwrite,
                       extra=extra)
