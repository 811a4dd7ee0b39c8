"""Hyper-parameter search with Ray Tune: ASHA early stopping, HyperOpt suggestions, live trial events.

``tune_models`` is what ``reviewtui tune`` runs. With ``evaluation`` given and fewer labels than
its ``cv_below``, each trial is scored by stratified k-fold cross-validation
(:func:`reviewtui.modeling.selection.cv_trial_folds`): it reports after every fold, ASHA's time
attribute is the number of folds done, and the objective is the cross-validated one
(:func:`~reviewtui.modeling.selection.partial_objective`), so a configuration's edge has to hold on
most folds, not on one validation row; the best configuration is then cross-validated and trained
on all labels like ``reviewtui train``. Otherwise each trial fine-tunes on the train split and
reports validation metrics after every epoch (``ray.tune.report``), so ASHA can stop bad trials
early. With ``[tuning] candidates`` the base model itself is searched too, "quick" standing for the
embeddings + logistic-regression model (an AutoTrain-like "auto" mode). The best trial — the one
whose best report scores highest on the search objective (see :mod:`reviewtui.modeling.trial_log`)
— is retrained with exactly its configuration, evaluated on the test split and saved like
``reviewtui train``.

A ``tune.Callback`` turns trial starts, results, completions and errors into
:class:`reviewtui.events.TrialUpdate` events for the CLI's live table and the app's DataTable.
Setting the ``cancel`` event stops the search through a ``tune.Stopper``: finished trials' results
are kept and the Ray instance this function started is shut down. A cancelled search saves its
best reported trial when asked (``save_on_cancel``), or later through :func:`save_tuned`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, TrialUpdate, emit
from reviewtui.modeling import Cancelled
from reviewtui.modeling.card import TUNED_BASE, ModelCard, default_model_name
from reviewtui.modeling.metrics import SEARCH_METRIC, mean_log_loss, search_objective, validation_metrics
from reviewtui.modeling.trial_log import SearchLog
from reviewtui.settings import EvaluationSettings, ModelSettings, TrainingSettings, TuningSettings

#: The [training] hyperparameters a trial's configuration may set.
HP_KEYS = ("learning_rate", "epochs", "batch_size", "weight_decay", "warmup_ratio", "seed")
_HP_TYPES = {"learning_rate": float, "epochs": int, "batch_size": int, "weight_decay": float,
             "warmup_ratio": float, "seed": int}
#: The candidate name of the quick model (embeddings + logistic regression).
QUICK = "quick"
SCHEDULERS = ("asha", "fifo")


@dataclass(frozen=True)
class SearchInputs:
    """What a search trained on and with: enough to retrain any of its trials later
    (:func:`save_tuned`)."""

    label_keys: list[str]
    model: ModelSettings
    training: TrainingSettings
    quick_C: float
    trials: int
    dataset_version: str | None = None
    dataset_sha256: str | None = None
    #: set when the trials were scored by cross-validation (fewer labels than its cv_below)
    evaluation: EvaluationSettings | None = None


@dataclass
class TuneResult:
    """The outcome of a search. ``trials`` holds each trial's last TrialUpdate (the status tells
    how it ended; ``best`` its best report); ``configs`` the exact configuration of each trial, in
    the same order (unrounded: ``tune_models(configs=...)`` replays them). ``best_trial_id`` is the
    trial whose best report has the highest objective, ``best_metrics`` that report (validation),
    ``best_config`` its configuration as shown (rounded) plus ``best_epoch``. ``card`` is the saved
    model (None when nothing was saved); ``inputs`` what :func:`save_tuned` needs to retrain."""

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
    inputs: SearchInputs | None = None

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.trials:
            out[t.status] = out.get(t.status, 0) + 1
        return out

    @property
    def early_stopped(self) -> int:
        return sum(1 for t in self.trials if t.early_stopped)

    def exact_config(self, trial_id: str) -> dict[str, Any]:
        """The exact (unrounded) configuration of trial ``trial_id``. Raises ReviewtuiError when the
        search has no such trial."""
        for update, config in zip(self.trials, self.configs):
            if update.trial_id == trial_id:
                return dict(config)
        raise ReviewtuiError(f"this search has no trial {trial_id!r}")


# --- search space ------------------------------------------------------------------------------
def _sampled(values: Sequence[float], *, log: bool = False, integer: bool = False) -> Any:
    """One value: fixed; ``[low, high]``: a Ray Tune sampler over the range (both ends included)."""
    from ray import tune

    lo, hi = values[0], values[-1]
    if integer:
        return tune.randint(int(lo), int(hi) + 1) if int(lo) < int(hi) else int(lo)
    if float(lo) == float(hi):
        return float(lo)
    return tune.loguniform(float(lo), float(hi)) if log else tune.uniform(float(lo), float(hi))


def search_space(tuning: TuningSettings, base_model: str) -> dict[str, Any]:
    """The Ray Tune search space of [tuning]: every range (a list of one value = fixed, two values =
    [low, high]) becomes a sampler, or stays fixed.

    learning_rate and quick_C are log-uniform; epochs (at most max_epochs) and seed integers;
    batch_size a choice; weight_decay and warmup_ratio uniform; ``candidates`` (model specs and/or
    "quick") a choice over base models, ``base_model`` when there are none.
    """
    from ray import tune

    space: dict[str, Any] = {"learning_rate": _sampled(tuning.learning_rate, log=True)}
    space["epochs"] = _sampled([min(int(e), tuning.max_epochs) for e in tuning.epochs], integer=True)
    sizes = [int(b) for b in tuning.batch_size]
    space["batch_size"] = tune.choice(sizes) if len(sizes) > 1 else sizes[0]
    space["weight_decay"] = _sampled(tuning.weight_decay)
    space["warmup_ratio"] = _sampled(tuning.warmup_ratio)
    space["seed"] = _sampled(tuning.seed, integer=True)
    candidates = [str(c) for c in tuning.candidates]
    if candidates:
        space["model"] = tune.choice(candidates) if len(candidates) > 1 else candidates[0]
        if QUICK in candidates:
            space["quick_C"] = _sampled(tuning.quick_C, log=True)
    else:
        space["model"] = base_model
    return space


def default_point(space: dict[str, Any], training: TrainingSettings, base_model: str,
                  quick_C: float) -> dict[str, Any] | None:
    """The [training] configuration (and ``quick_C``) as the first point HyperOpt evaluates,
    clipped into the space; None when nothing is searched."""
    from ray.tune.search.sample import Categorical, Domain, Float, Integer

    point: dict[str, Any] = {}
    for key, dom in space.items():
        if not isinstance(dom, Domain):
            continue
        want = {"model": base_model, "quick_C": quick_C}.get(key, getattr(training, key, None))
        if isinstance(dom, Categorical):
            point[key] = want if want in dom.categories else dom.categories[0]
        elif isinstance(dom, Integer):
            point[key] = int(min(max(int(want if want is not None else dom.lower), dom.lower), dom.upper - 1))
        elif isinstance(dom, Float):
            point[key] = float(min(max(float(want if want is not None else dom.lower), dom.lower), dom.upper))
    return point or None


def trial_training(config: dict[str, Any], training: TrainingSettings) -> TrainingSettings:
    """``training`` with a trial configuration's hyperparameters (:data:`HP_KEYS`) put in."""
    return replace(training, **{k: _HP_TYPES[k](config[k]) for k in HP_KEYS if k in config})


# --- the trial ---------------------------------------------------------------------------------
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
    from ray import tune

    from reviewtui.modeling.loading import set_torch_threads

    set_torch_threads(int(data.get("threads", 1)))
    model: ModelSettings = data["model"]
    spec = str(config.get("model", model.base))
    labels: list[str] = data["labels"]
    if data.get("cv") is not None:
        _cv_trial(config, data, spec)
        return
    if spec == QUICK:
        from reviewtui.modeling.quick import QuickModel

        X_tr, y_tr, X_va, y_va = data["quick"]
        quick = QuickModel(C=float(config["quick_C"])).fit(X_tr, y_tr)
        ids = [labels.index(v) for v in y_va]
        proba = quick.proba_for(X_va, labels)
        row = {**validation_metrics(ids, list(proba.argmax(1)), labels), "loss": mean_log_loss(proba, ids)}
        tune.report({**row, SEARCH_METRIC: search_objective(row), "epoch": 1, "planned_epochs": 1})
        return

    from reviewtui.modeling.finetune import fit_transformer

    # the scheduler stops bad trials, not patience
    training = replace(trial_training(config, data["training"]), early_stopping_patience=0)

    def report(epoch: int, metrics: dict[str, float]) -> None:
        row = {k: float(v) for k, v in metrics.items() if k != "epoch"}
        tune.report({**row, SEARCH_METRIC: search_objective(row), "epoch": epoch, "planned_epochs": training.epochs})

    fit_transformer(data["train_df"], data["val_df"], labels, replace(model, base=spec), training,
                    epoch_callback=report)


def _cv_trial(config: dict[str, Any], data: dict[str, Any], spec: str) -> None:
    """A trial scored by cross-validation: one report per fold (the running means, the partial
    objective), so ASHA's rungs are folds."""
    from ray import tune

    from reviewtui.modeling.selection import cv_trial_folds

    cv_data, evaluation = data["cv"], data["evaluation"]
    model: ModelSettings = data["model"]
    k = len(data["folds"])
    if spec == QUICK:
        from reviewtui.modeling.quick import QuickModel

        X = data["quick_all"]

        def fit_predict(tr, te):
            quick = QuickModel(C=float(config["quick_C"])).fit(X[tr], [cv_data.labels[j] for j in cv_data.y[tr]])
            return quick.proba_for(X[te], cv_data.labels)
    else:
        from reviewtui.modeling.batching import predict_logits
        from reviewtui.modeling.finetune import fit_transformer
        from reviewtui.modeling.metrics import softmax

        training = replace(trial_training(config, data["training"]), early_stopping_patience=0)
        trial_model = replace(model, base=spec)

        def fit_predict(tr, te):
            fit = fit_transformer(cv_data.frame(tr), None, cv_data.labels, trial_model, training)
            return softmax(predict_logits(fit.model, fit.tokenizer, [cv_data.texts[i] for i in te],
                                          max_length=model.max_length))

    def report(done: int, mean: dict[str, float], objective: float) -> None:
        row = {k_: float(v) for k_, v in mean.items() if k_ != "log_loss"}
        row["loss"] = float(mean.get("log_loss", 0.0))
        tune.report({**row, SEARCH_METRIC: objective, "fold": done, "planned_epochs": k})

    cv_trial_folds(fit_predict, cv_data, evaluation=evaluation, report=report)


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
    address = address or os.environ.get("RAY_ADDRESS") or None  # Ray's own variable names a cluster too
    if address:
        emit(on_event, Notice("info", f"connecting to the Ray cluster at {address}"))
        check_reachable(address)
        try:
            ray.init(address=address, **kwargs)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError depending on the failure
            raise ReviewtuiError(f"cannot connect to the Ray cluster at {address!r} ({exc}); check --ray-address "
                                 f"(e.g. ray://head:10001 or auto){cluster_auth_hint()} or leave it out to run "
                                 "locally") from exc
    else:
        emit(on_event, Notice("info", "starting Ray (a few seconds)"))
        import torch

        # "local": a Ray of its own, even where `ray start` left a cluster running on this machine
        # (ray.init() would join that one, and refuse the CPU and GPU counts given to it)
        ray.init(address="local", num_cpus=os.cpu_count() or 1, num_gpus=torch.cuda.device_count(), **kwargs)
    return True


def _trials(result: "TuneResult") -> str:
    """``3 trials (1 finished)``: how many a search started, and how many of them finished."""
    n = len(result.trials)
    finished = sum(t.status == "TERMINATED" for t in result.trials)
    return f"{n} trial{'s' if n != 1 else ''} ({finished} finished)"


def check_search_models(tuning: TuningSettings, model: ModelSettings) -> None:
    """Raise ReviewtuiError, with the same message as train, when [model] base or a candidate of
    ``tuning`` cannot be used here: found before Ray starts (and before a tune job starts)."""
    from reviewtui.modeling.loading import resolve_model

    resolve_model(model.base)
    for cand in (str(c) for c in tuning.candidates):
        if cand != QUICK:
            resolve_model(cand)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Raise ReviewtuiError when ``address`` (``HOST:PORT`` or ``ray://HOST:PORT``; ``auto`` and
    ``local`` are left to Ray) names a host that does not resolve or a port nothing answers on:
    Ray's own client retries such an address for minutes, printing warnings."""
    import socket

    text = address.strip()
    if text.lower() in ("auto", "local") or ":" not in text:
        return
    rest = text.split("://", 1)[1] if "://" in text else text
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return  # Ray says what is wrong with it
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise ReviewtuiError(f"cannot reach the Ray cluster at {address!r} ({why}); check --ray-address (e.g. "
                             "ray://head:10001, HOST:6379 or auto), that the cluster runs and that this machine can "
                             "reach it, or leave it out to run here") from exc


def cluster_auth_hint() -> str:
    """What to add to a failed connection's message when this shell does not send the token that
    a cluster made with ``ray start`` asks for (Ray's token authentication), else ""."""
    if os.environ.get("RAY_AUTH_MODE"):
        return ""
    return "; a cluster started with `ray start` asks for its token: export RAY_AUTH_MODE=token in this shell first"


def trial_resources(tuning: TuningSettings, trials: int, res: dict[str, float] | None = None
                    ) -> tuple[dict[str, float], int, int]:
    """(resources per trial, concurrency, threads per trial) from the cluster's resources.

    ``cpus_per_trial`` 0 takes half the machine, at most 4. With GPUs each trial gets
    ``gpus_per_trial`` of one (0.25 runs four small trials side by side on each GPU: a
    22M-parameter MiniLM on a few hundred reviews leaves a big GPU mostly idle). Raises
    ReviewtuiError for a ``gpus_per_trial`` that is neither a fraction in (0, 1] nor whole.
    """
    if res is None:
        import ray

        res = ray.cluster_resources()
    cpus = max(1, int(res.get("CPU", 1)))
    gpus = int(res.get("GPU", 0))
    per = min(tuning.cpus_per_trial or max(1, min(4, cpus // 2)), cpus)
    if gpus:
        share = float(tuning.gpus_per_trial)
        if not (0 < share <= 1 or (share > 1 and share == int(share))):
            raise ReviewtuiError(f"[tuning] gpus_per_trial must be a fraction in (0, 1] or a whole number of GPUs, "
                                 f"not {tuning.gpus_per_trial!r}")
        concurrency = max(1, min(trials, int(gpus / share + 1e-9), cpus // per))
        return {"cpu": per, "gpu": share}, concurrency, per
    concurrency = max(1, min(trials, cpus // per))
    return {"cpu": per}, concurrency, per


# --- the search ----------------------------------------------------------------------------------
def tune_models(df, *, models_dir: Path, label_keys: Sequence[str], model: ModelSettings,
                training: TrainingSettings, tuning: TuningSettings, quick_C: float, cache_dir: Path | None = None,
                trials: int | None = None, ray_address: str | None = None, name: str | None = None,
                dataset_version: str | None = None, dataset_sha256: str | None = None,
                on_event: EventSink | None = None, cancel: threading.Event | None = None,
                scheduler: str = "asha", retrain: bool = True, save_on_cancel: bool = False,
                overwrite: bool = False, configs: Sequence[dict[str, Any]] | None = None,
                evaluation: EvaluationSettings | None = None, check_texts: Sequence[str] = ()) -> TuneResult:
    """Search hyper-parameters (and optionally the base model) with Ray Tune, then retrain the
    best trial's configuration, evaluate it on the test split and save it; returns a TuneResult.

    ``model`` is [model] (the base searched when [tuning] has no candidates, and the max length),
    ``training`` the [training] settings a trial's configuration is put into, ``quick_C`` the quick
    model's C where it is part of the model ([active_learning] C). ``trials`` (default
    ``tuning.trials``) must be at least 1. ``scheduler`` is "asha" (early stopping) or "fifo"
    (every trial runs all its epochs, for comparison). ``configs`` replays exactly these
    configurations (e.g. another search's ``TuneResult.configs``), one trial each, in order,
    instead of HyperOpt's proposals. ``evaluation``: with fewer labels than its ``cv_below``, trials
    are scored by cross-validation (one report per fold; see the module docstring) and the best
    configuration is saved as ``reviewtui train`` saves below that threshold; None scores on the one
    validation split. ``check_texts`` (reviews of the corpus) join the held-out rows in the saved
    model's precision checks (``train_model``). Emits a TrialUpdate per trial event and
    Progress("tune", finished, trials).

    Cancelling returns the trials finished so far with ``cancelled`` set and saves nothing, unless
    ``save_on_cancel``: then the best reported trial is retrained and saved (that retraining no
    longer watches ``cancel``, which is already set; :func:`save_tuned` retrains with a cancel of
    its own). Raises ReviewtuiError for a bad trial count or scheduler, too little data, no
    reachable Ray cluster or when every trial failed.
    """
    from reviewtui.modeling.data import split_dataset
    from reviewtui.modeling.loading import resolve_model

    started = time.perf_counter()
    if configs is not None:
        n_trials = len(configs)
        if n_trials < 1:
            raise ReviewtuiError("no configurations to replay: give at least one")
    else:
        n_trials = tuning.trials if trials is None else int(trials)
        if n_trials < 1:
            raise ReviewtuiError(f"the number of trials must be at least 1, not {n_trials}")
    if scheduler not in SCHEDULERS:
        raise ReviewtuiError(f"scheduler must be 'asha' or 'fifo', not {scheduler!r}")
    check_search_models(tuning, model)
    candidates = [str(c) for c in tuning.candidates]
    if QUICK in candidates and cache_dir is None:
        raise ReviewtuiError("the quick model candidate needs an embedding cache folder")
    if name and (retrain or save_on_cancel) and (Path(models_dir) / name).exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name or delete it")
    from reviewtui.modeling.selection import Data, stratified_folds, use_cross_validation

    cv_data = Data.from_frame(df, label_keys)
    if evaluation is not None and not use_cross_validation(len(cv_data.texts), evaluation):
        evaluation = None
    splits = split_dataset(df, label_keys)
    train_df, val_df = splits.train, splits.validation
    inputs = SearchInputs(label_keys=list(label_keys), model=model, training=training, quick_C=float(quick_C),
                          trials=n_trials, dataset_version=dataset_version, dataset_sha256=dataset_sha256,
                          evaluation=evaluation)
    result = TuneResult(scheduler=scheduler, inputs=inputs)

    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
    from ray.tune.search import BasicVariantGenerator
    from ray.tune.search.hyperopt import HyperOptSearch

    space = search_space(tuning, model.base)
    trial_data: dict[str, Any] = {"train_df": train_df[["content", "label"]], "val_df": val_df[["content", "label"]],
                                  "labels": splits.labels, "model": model, "training": training}
    rungs = tuning.max_epochs  # ASHA's time attribute: epochs, or folds when cross-validating
    if evaluation is not None:
        folds = stratified_folds([cv_data.labels[j] for j in cv_data.y], evaluation.folds, evaluation.seed,
                                 cv_data.texts)
        trial_data.update({"cv": cv_data, "evaluation": evaluation, "folds": folds, "labels": cv_data.labels})
        rungs = len(folds)
        emit(on_event, Notice("info", f"{len(cv_data.texts)} labels: each trial is scored by {len(folds)}-fold "
                                      "cross-validation (one report per fold)"))
    if QUICK in candidates:
        from reviewtui.modeling.embeddings import EmbeddingCache

        cache = EmbeddingCache(cache_dir, model.base, model.max_length)  # type: ignore[arg-type]
        try:
            if evaluation is not None:
                trial_data["quick_all"] = cache.embed(cv_data.texts, on_event=on_event, cancel=cancel)
            else:
                trial_data["quick"] = (cache.embed(list(train_df["content"]), on_event=on_event, cancel=cancel),
                                       list(train_df["label"]),
                                       cache.embed(list(val_df["content"]), on_event=on_event, cancel=cancel),
                                       list(val_df["label"]))
        except Cancelled:
            result.cancelled = True
            result.total_seconds = time.perf_counter() - started
            return result

    from reviewtui.modeling.trial_events import SESSIONS, CancelStopper, TrialEvents, new_session_id

    session_id = new_session_id()
    work = Path(tempfile.mkdtemp(prefix="reviewtui-tune-"))
    own_ray = False
    budget = float(tuning.time_budget_s)
    try:
        own_ray = _start_ray(ray_address, on_event)
        per_trial, concurrency, threads = trial_resources(tuning, n_trials)
        trial_data["threads"] = threads
        log = SearchLog(on_event, cancel, n_trials, gpus=bool(per_trial.get("gpu")))
        SESSIONS[session_id] = log
        if scheduler == "asha":
            sched = ASHAScheduler(time_attr="training_iteration", max_t=rungs,
                                  grace_period=min(tuning.grace_period, rungs),
                                  reduction_factor=float(tuning.reduction_factor))
        else:
            sched = FIFOScheduler()
        point = default_point(space, training, candidates[0] if candidates else model.base, quick_C)
        search = None
        if configs is not None:
            search = BasicVariantGenerator(points_to_evaluate=[dict(c) for c in configs])
        elif point is not None:
            search = HyperOptSearch(random_state_seed=tuning.seed_search, points_to_evaluate=[point],
                                    n_initial_points=max(2, min(10, n_trials // 2)))
        gpu_share = f" + {per_trial['gpu']:g} GPU" if per_trial.get("gpu") else ""
        emit(on_event, Notice("info", f"searching {n_trials} trials, {concurrency} at a time "
                                      f"({per_trial.get('cpu')} CPU{gpu_share} each)"))
        trainable = tune.with_resources(tune.with_parameters(run_trial, data=trial_data), per_trial)
        tuner = tune.Tuner(
            trainable, param_space=space,
            tune_config=tune.TuneConfig(metric=SEARCH_METRIC, mode="max", num_samples=n_trials, scheduler=sched,
                                        search_alg=search, max_concurrent_trials=concurrency, reuse_actors=True,
                                        time_budget_s=budget or None),
            run_config=tune.RunConfig(name="search", storage_path=str(work), verbose=0,
                                      callbacks=[TrialEvents(session_id)], stop=CancelStopper(session_id),
                                      failure_config=tune.FailureConfig(max_failures=0)),
        )
        search_started = time.perf_counter()
        tuner.fit()
        result.search_seconds = time.perf_counter() - search_started
        result.cancelled = log.cancelled
        # trials cut short by a cancel or the time budget may get no completion callback
        log.close_unfinished(None if result.cancelled else (
            f"time budget of {budget:g}s spent" if budget else "ended without a final result"))
        collect_results(log, result)
    finally:
        SESSIONS.pop(session_id, None)
        if own_ray:
            import ray

            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    if result.cancelled:
        if save_on_cancel and result.best_trial_id is not None:
            emit(on_event, Notice("warning", f"search cancelled after {_trials(result)}: retraining the "
                                             f"best reported trial ({result.best_trial_id}) to save it"))
            result.card = _retrain(result, df, models_dir=models_dir, cache_dir=cache_dir, name=name,
                                   on_event=on_event, cancel=None, overwrite=overwrite, check_texts=check_texts)
        else:
            why = "no trial had reported yet" if save_on_cancel else "nothing saved"
            emit(on_event, Notice("warning", f"search cancelled after {_trials(result)}, {why}"))
        result.total_seconds = time.perf_counter() - started
        return result
    if result.best_trial_id is None:
        errors = [tr.error for tr in result.trials if tr.error]
        raise ReviewtuiError(f"all {len(result.trials)} trials failed"
                             + (f"; the first error: {errors[0]}" if errors else "")
                             + ": check [tuning] in reviewtui.toml and the candidates")
    if retrain:
        try:
            result.card = _retrain(result, df, models_dir=models_dir, cache_dir=cache_dir, name=name,
                                   on_event=on_event, cancel=cancel, overwrite=overwrite, check_texts=check_texts)
        except Cancelled:
            result.cancelled = True
    result.total_seconds = time.perf_counter() - started
    return result


def tune_result_to_dict(result: TuneResult) -> dict[str, Any]:
    """A TuneResult as JSON data (a background search hands its result over this way), complete
    enough for :func:`tune_result_from_dict` to give back what :func:`save_tuned` needs."""
    from dataclasses import asdict

    return {"trials": [asdict(t) for t in result.trials], "configs": result.configs,
            "best_trial_id": result.best_trial_id, "best_config": result.best_config,
            "best_metrics": result.best_metrics, "card": result.card.to_dict() if result.card else None,
            "cancelled": result.cancelled, "search_seconds": result.search_seconds,
            "total_seconds": result.total_seconds, "scheduler": result.scheduler,
            "inputs": asdict(result.inputs) if result.inputs is not None else None}


def tune_result_from_dict(data: dict[str, Any]) -> TuneResult:
    """The TuneResult :func:`tune_result_to_dict` wrote."""
    from reviewtui.events import GpuStat

    trials = [TrialUpdate(**{**t, "gpus": tuple(GpuStat(**g) for g in t.get("gpus") or ())})
              for t in data.get("trials", [])]
    inputs = None
    if data.get("inputs"):
        raw = dict(data["inputs"])
        inputs = SearchInputs(**{**raw, "model": ModelSettings(**raw["model"]),
                                 "training": TrainingSettings(**raw["training"]),
                                 "evaluation": EvaluationSettings(**raw["evaluation"]) if raw.get("evaluation")
                                 else None})
    card = ModelCard.from_dict(data["card"]) if data.get("card") else None
    return TuneResult(trials, list(data.get("configs", [])), data.get("best_trial_id"),
                      dict(data.get("best_config") or {}), dict(data.get("best_metrics") or {}), card,
                      bool(data.get("cancelled")), float(data.get("search_seconds", 0.0)),
                      float(data.get("total_seconds", 0.0)), str(data.get("scheduler", "asha")), inputs)


def collect_results(log: SearchLog, result: TuneResult) -> TuneResult:
    """Fill ``result``'s trials, exact configs and best trial (the one whose best report has the
    highest objective) from a search's log; returns ``result``."""
    result.trials = log.trials()
    result.configs = log.exact_configs()
    best_id = log.best_trial_id()
    result.best_trial_id = best_id
    if best_id is not None:
        best = log.best[best_id]
        result.best_metrics = dict(best.metrics)
        cv = result.inputs is not None and result.inputs.evaluation is not None
        # a cross-validated trial reports once per fold: its iteration counts folds, not epochs
        result.best_config = {**log.rows[best_id].config, ("folds" if cv else "best_epoch"): best.iteration}
    return result


def save_tuned(result: TuneResult, df, *, models_dir: Path, cache_dir: Path | None = None, name: str | None = None,
               on_event: EventSink | None = None, cancel: threading.Event | None = None,
               overwrite: bool = False, check_texts: Sequence[str] = ()) -> ModelCard:
    """Retrain the best trial of a finished or cancelled search with exactly its configuration on
    ``df`` (the dataset version the search ran on), evaluate it on the test split and save it;
    returns the card (also set as ``result.card``). ``check_texts``: as for ``train_model``.

    Raises ReviewtuiError when no trial of the search reported a validation score, or the result
    does not come from :func:`tune_models`; Cancelled when ``cancel`` is set.
    """
    if result.best_trial_id is None:
        raise ReviewtuiError("no trial of this search reported a validation score, so there is nothing to save: "
                             "run the search again (reviewtui tune) and let at least one trial finish an epoch")
    if result.inputs is None:
        raise ReviewtuiError("this search result does not record what it trained on: run the search again")
    result.card = _retrain(result, df, models_dir=models_dir, cache_dir=cache_dir, name=name, on_event=on_event,
                           cancel=cancel, overwrite=overwrite, check_texts=check_texts)
    return result.card


def _retrain(result: TuneResult, df, *, models_dir: Path, cache_dir: Path | None, name: str | None,
             on_event: EventSink | None, cancel: threading.Event | None, overwrite: bool,
             check_texts: Sequence[str] = ()) -> ModelCard:
    """Train and save the best trial's exact configuration (see :func:`save_tuned`)."""
    from reviewtui.modeling.finetune import train_model
    from reviewtui.modeling.quick import train_quick

    inputs = result.inputs
    assert inputs is not None and result.best_trial_id is not None
    config = result.exact_config(result.best_trial_id)
    spec = str(config.get("model", inputs.model.base))
    extra = {"tuning": {"trials": inputs.trials, "scheduler": result.scheduler, "best_trial": result.best_trial_id,
                        "best_config": result.best_config, "best_validation": result.best_metrics,
                        "search_seconds": round(result.search_seconds, 2), "counts": result.counts,
                        "early_stopped": result.early_stopped, "cancelled": result.cancelled}}
    name = name or default_model_name(inputs.dataset_version, TUNED_BASE)
    common = dict(models_dir=models_dir, label_keys=inputs.label_keys, name=name,
                  dataset_version=inputs.dataset_version, dataset_sha256=inputs.dataset_sha256, on_event=on_event,
                  cancel=cancel, overwrite=overwrite, extra=extra)
    if inputs.evaluation is not None:
        from reviewtui.modeling.selection import train_cross_validated

        emit(on_event, Notice("info", f"cross-validating the best configuration ({result.best_trial_id}), then "
                                      "training it on all labels"))

        _, card = train_cross_validated(
            df, model=replace(inputs.model, base=inputs.model.base if spec == QUICK else spec),
            training=trial_training(config, inputs.training), evaluation=inputs.evaluation,
            quick_C=float(config.get("quick_C", inputs.quick_C)), cache_dir=cache_dir, quick=spec == QUICK,
            faster=None, **{**common, "on_event": NotTrials(on_event)})
        return card
    emit(on_event, Notice("info", f"retraining the best configuration ({result.best_trial_id}) on the train split"))
    if spec == QUICK:
        if cache_dir is None:
            raise ReviewtuiError("the quick model candidate needs an embedding cache folder")
        return train_quick(df, cache_dir=cache_dir, model=inputs.model, C=float(config["quick_C"]), **common)
    # tune has no --quick or --epochs: its long-run notice names none (the configuration is the search's best)
    return train_model(df, model=replace(inputs.model, base=spec), training=trial_training(config, inputs.training),
                       quick_C=inputs.quick_C, cache_dir=cache_dir, check_texts=check_texts, faster=None, **common)


class NotTrials:
    """An EventSink passing every event but TrialUpdate on to ``sink``: the cross-validation's
    candidate rows are not trials of the search (the trial table and board keep the search's
    trials); its progress and notices still pass. It keeps ``sink`` as ``.sink``, so that
    ``events.background_job`` finds the job behind it (a detached tune's notices name
    ``reviewtui jobs cancel``)."""

    def __init__(self, sink: EventSink | None) -> None:
        self.sink = sink

    def __call__(self, event: Any) -> None:
        if not isinstance(event, TrialUpdate):
            emit(self.sink, event)
