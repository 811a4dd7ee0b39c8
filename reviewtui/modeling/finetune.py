"""Fine-tuning a transformer classifier with the Hugging Face Trainer, and evaluating it.

``train_model`` is what ``reviewtui train`` runs: the dataset version's one split
(:func:`reviewtui.modeling.data.split_dataset`), fine-tuning with early stopping on the validation
split (class weights when classes are imbalanced), evaluation on the test split, and
``models/<name>/`` (weights, tokenizer, model_card.json) written atomically.

``fit_transformer`` is the training step alone; Ray Tune trials call it with an ``epoch_callback``
that reports validation metrics to the scheduler after every epoch, cross-validation
(:mod:`reviewtui.modeling.selection`) with no validation split and an ``epoch_model_callback``
that scores the held-out fold after every epoch. Every step emits
:class:`reviewtui.events.EpochProgress` (steps, samples/s, ETA) through
:class:`reviewtui.modeling.progress.EpochMeter`.

Below ``[evaluation] cv_below`` labels ``reviewtui train`` does not come here but to
:func:`reviewtui.modeling.selection.train_cross_validated` (k-fold scores, the saved model trained
on all labels); the card's ``extra["evaluation"]`` says which way a model was scored.

The Trainer arguments used here mean the same in transformers 4.46 and later and in 5.x: the
warm-up is given as a whole number of steps (``warmup_steps`` is a count in 4.x and a ratio below 1
in 5.x), the checkpoint's dtype is cast after loading, and the tokenizer is not handed to the
Trainer (``tokenizer=`` became ``processing_class=`` in 4.46; the collator already pads).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, background_job, emit
from reviewtui.modeling import Cancelled
from reviewtui.modeling.budget import MARGIN, budget_option, say_duration, spread, training_share
from reviewtui.modeling.card import ModelCard, default_model_name, hardware_info, now_iso, write_model_dir
from reviewtui.modeling.data import split_dataset
from reviewtui.modeling.metrics import BestSoFar, classification_metrics, softmax, validation_metrics
from reviewtui.modeling.progress import EpochMeter
from reviewtui.settings import ModelSettings, TrainingSettings, to_toml_dict

#: The validation metric that picks the best epoch (ties broken by the lower validation loss).
SELECT_METRIC = "accuracy"
#: The ensemble's quick half with ``[training] ensemble_features = "packaged"`` embeds with the packaged
#: MiniLM at the default length, whatever encoder is fine-tuned: offline, and the vectors active
#: learning caches with the default [model].
ENSEMBLE_ENCODER = ModelSettings(base="minilm")

EpochCallback = Callable[[int, dict[str, float]], None]


class TrainingDiverged(ReviewtuiError):
    """The loss became NaN or infinite (learning rate too high, or broken data)."""


# --- class weights -------------------------------------------------------------------------------
def class_weights_for(labels: Sequence[str], classes: Sequence[str], mode: str = "auto",
                      threshold: float = 1.5) -> dict[str, float] | None:
    """Inverse-frequency class weights (n / (k * count)), or None.

    ``mode`` "auto" weights only when the largest class is ``threshold`` times the smallest;
    "balanced" always; "none" never.
    """
    mode = str(mode or "auto").lower()
    if mode in ("none", "off", "false"):
        return None
    counts = {c: 0 for c in classes}
    for label in labels:
        if label in counts:
            counts[label] += 1
    present = [v for v in counts.values() if v > 0]
    if not present:
        return None
    if mode == "auto" and max(present) < threshold * min(present):
        return None
    n, k = sum(present), len(classes)
    return {c: (n / (k * v) if v else 1.0) for c, v in counts.items()}


# --- training ---------------------------------------------------------------------------------
def warmup_steps_for(ratio: float, epochs: int, rows: int, batch_size: int) -> int:
    """Warm-up steps for a warm-up ``ratio`` of the whole run: ``ceil(ratio x total steps)``, with
    ``ceil(rows / batch_size)`` optimiser steps per epoch (what the Trainer takes with no gradient
    accumulation), as transformers itself rounds a ratio."""
    steps_per_epoch = max(1, math.ceil(rows / max(1, batch_size)))
    return math.ceil(float(ratio) * int(epochs) * steps_per_epoch)


@dataclass
class FitResult:
    """What :func:`fit_transformer` returns: the model (best validation epoch restored), its
    tokenizer, per-epoch validation metrics and the epochs actually run."""

    model: Any
    tokenizer: Any
    labels: list[str]
    history: list[dict[str, float]] = field(default_factory=list)
    epochs_trained: float = 0.0
    best_epoch: float = 0  # a whole epoch, or a partial one stopped at a deadline
    validation_metrics: dict[str, float] = field(default_factory=dict)
    class_weights: dict[str, float] | None = None
    seconds: float = 0.0
    device: str = "cpu"
    #: the epoch (fractional) at which a ``deadline_s`` stopped the training; None when it ran its course
    stopped_at_deadline: float | None = None


def _tokenized(tokenizer, texts: Sequence[str], labels: Sequence[int] | None, max_length: int):
    from datasets import Dataset

    # one tokenizer call, no Dataset.map: map fingerprints its function by pickling the closure
    # (the whole tokenizer), 0.15-0.9 s per call against 0.02 s for the tokenising itself
    data: dict[str, list] = dict(tokenizer([str(t) for t in texts], truncation=True, max_length=max_length))
    if labels is not None:
        data["label"] = [int(v) for v in labels]
    return Dataset.from_dict(data)


def _quiet_datasets() -> None:
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def fit_transformer(train_df, val_df, labels: Sequence[str], model: ModelSettings, training: TrainingSettings, *,
                    on_event: EventSink | None = None, cancel: threading.Event | None = None,
                    epoch_callback: EpochCallback | None = None, work_dir: Path | None = None,
                    epoch_model_callback: Callable[[int, Any, Any], None] | None = None,
                    progress_task: str = "train", long_run: Callable[[float], str] | None = None,
                    max_steps: int | None = None, deadline_s: float | None = None) -> FitResult:
    """Fine-tune ``model.base`` on ``train_df`` (columns content, label), evaluating on ``val_df``
    after every epoch; stops early after ``training.early_stopping_patience`` epochs without a better
    validation score (0: never) and restores the best epoch's weights. With ``val_df`` None it
    trains exactly ``training.epochs`` epochs and keeps the last weights (the final fit on all
    labels after cross-validation).

    ``epoch_callback(epoch, val_metrics)`` runs after each evaluation (Ray Tune reports there);
    ``epoch_model_callback(epoch, model, tokenizer)`` after each epoch (cross-validation scores
    the held-out fold there). Emits Progress("train", step, total_steps) and, per step,
    EpochProgress(progress_task, ...); with ``long_run``, a Notice of its text when the pace of the
    first steps says the steps left take long (:class:`EpochMeter`).

    ``max_steps`` trains one pass of that many steps instead of ``training.epochs`` epochs (the
    learning-rate schedule spans them: part of one epoch, when a time budget fits no whole one).
    ``deadline_s`` stops the training once it has run that many seconds: the step under way ends,
    the partial epoch is scored on ``val_df`` like a whole one, and the best weights are kept
    (``FitResult.stopped_at_deadline``). Raises Cancelled when ``cancel`` is set, TrainingDiverged on
    a NaN/inf loss, ReviewtuiError when the model cannot be loaded.
    """
    import torch
    from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, PrinterCallback,
                              Trainer, TrainerCallback, TrainingArguments, set_seed)

    from reviewtui.modeling.loading import (apply_thread_cap, load_error, load_tokenizer, quiet_transformers,
                                            resolve_model)

    apply_thread_cap()
    labels = list(labels)
    label2id = {label: i for i, label in enumerate(labels)}
    resolved = resolve_model(model.base)
    quiet_transformers()
    _quiet_datasets()
    tokenizer = load_tokenizer(resolved)
    set_seed(training.seed)
    try:
        classifier = AutoModelForSequenceClassification.from_pretrained(
            resolved.path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
            ignore_mismatched_sizes=True, local_files_only=resolved.is_local,
        )
    except OSError as exc:
        raise ReviewtuiError(load_error(resolved, exc)) from exc
    classifier = classifier.float()  # a checkpoint saved in fp16/bf16 still trains in fp32 (AMP does the rest)

    y_train = [label2id[v] for v in train_df["label"]]
    train_ds = _tokenized(tokenizer, list(train_df["content"]), y_train, model.max_length)
    val_ds = None
    if val_df is not None:
        val_ds = _tokenized(tokenizer, list(val_df["content"]), [label2id[v] for v in val_df["label"]],
                            model.max_length)

    weights = class_weights_for(list(train_df["label"]), labels, training.class_weights)
    compute_loss_func = None
    if weights is not None:
        weight_tensor = torch.tensor([weights[label] for label in labels], dtype=torch.float32)

        def compute_loss_func(outputs, targets, num_items_in_batch=None):
            logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
            return torch.nn.functional.cross_entropy(
                logits.float(), targets.to(logits.device), weight=weight_tensor.to(logits.device))

    best: BestSoFar[int] = BestSoFar()  # the best report's index in the history; its weights are kept in state
    state: dict[str, Any] = {"history": [], "best_weights": None, "cancelled": False, "diverged": None,
                             "deadline": None}

    def val_metrics_of(eval_pred) -> dict[str, float]:
        logits, y = eval_pred
        logits = logits[0] if isinstance(logits, tuple) else logits
        return validation_metrics(list(y), list(np.asarray(logits).argmax(-1)), labels)

    steps_per_epoch = math.ceil(len(train_df) / training.batch_size)
    if max_steps is not None:
        max_steps = max(1, min(int(max_steps), steps_per_epoch))
    meter = EpochMeter(on_event, progress_task, epochs=1 if max_steps else training.epochs,
                       batch_size=training.batch_size, steps_per_epoch=max_steps or steps_per_epoch,
                       samples=min(len(train_df), (max_steps or steps_per_epoch) * training.batch_size),
                       long_run=long_run)
    clock = {"started": time.perf_counter()}

    def past_deadline(tstate, control) -> None:
        """Stop at ``deadline_s`` unless this is the last step anyway."""
        if (deadline_s is not None and state["deadline"] is None and tstate.global_step < tstate.max_steps
                and time.perf_counter() - clock["started"] >= deadline_s):
            state["deadline"] = float(tstate.epoch or 0)
            control.should_training_stop = True

    def epoch_of(tstate) -> float:
        """The epoch a report is at: whole, or to three decimals for a partial one (a deadline,
        max_steps)."""
        e = float(tstate.epoch or 0)
        return int(round(e)) if abs(e - round(e)) < 1e-6 else round(e, 3)

    class Watch(TrainerCallback):
        def on_step_end(self, args, tstate, control, **kw):
            meter.step(tstate.global_step)  # first: a log shows the epoch's line, not this one too
            emit(on_event, Progress("train", tstate.global_step, tstate.max_steps,
                                    f"epoch {tstate.epoch or 0:.1f}"))
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                control.should_training_stop = True
            else:
                past_deadline(tstate, control)  # the epoch's end still scores the partial epoch
            return control

        def on_log(self, args, tstate, control, logs=None, **kw):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                state["diverged"] = f"training loss became {loss} at epoch {tstate.epoch or 0:.1f}"
                control.should_training_stop = True
            return control

        def on_evaluate(self, args, tstate, control, metrics=None, model=None, **kw):
            metrics = dict(metrics or {})
            epoch = epoch_of(tstate)
            row = {"epoch": float(epoch)}
            row.update({k.removeprefix("eval_"): float(v) for k, v in metrics.items()
                        if k.startswith("eval_") and isinstance(v, (int, float))
                        and k not in ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second")})
            if not math.isfinite(row.get("loss", 0.0)):
                state["diverged"] = f"validation loss became {row.get('loss')} at epoch {epoch}"
                control.should_training_stop = True
                return control
            state["history"].append(row)
            score = (row.get(SELECT_METRIC, 0.0), -row.get("loss", 0.0))
            if best.offer(score, len(state["history"]) - 1):
                state["best_weights"] = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            elif best.out_of_patience(training.early_stopping_patience):
                control.should_training_stop = True
            emit(on_event, Notice("info", f"epoch {epoch}: validation accuracy {row.get('accuracy', 0):.3f}, "
                                          f"weighted F1 {row.get('f1_weighted', 0):.3f}"))
            if epoch_callback is not None:
                epoch_callback(epoch, row)
            past_deadline(tstate, control)  # passed while the validation split was scored: stop here
            return control

        def on_epoch_end(self, args, tstate, control, model=None, **kw):
            if state["cancelled"] or state["diverged"]:
                control.should_evaluate = False  # nothing is kept: do not score the validation split first
            else:
                past_deadline(tstate, control)  # passed during the epoch's last step: stop at its end
            if epoch_model_callback is not None and not state["cancelled"] and not state["diverged"]:
                epoch_model_callback(int(round(tstate.epoch or 0)), model, tokenizer)
            return control

    use_cuda = torch.cuda.is_available()
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    out_dir = Path(tempfile.mkdtemp(prefix="reviewtui-train-", dir=work_dir))
    try:
        args = TrainingArguments(
            output_dir=str(out_dir), num_train_epochs=training.epochs, learning_rate=training.learning_rate,
            per_device_train_batch_size=training.batch_size,
            per_device_eval_batch_size=max(32, training.batch_size),
            weight_decay=training.weight_decay, warmup_steps=0, seed=training.seed,
            eval_strategy="epoch" if val_ds is not None else "no", save_strategy="no",
            logging_strategy="epoch", report_to="none",
            disable_tqdm=True, bf16=bf16, fp16=bool(use_cuda and not bf16), dataloader_num_workers=0,
            use_cpu=not use_cuda and not _mps_ok(),
        )
        # a whole number of steps: transformers 4 reads warmup_steps as a count, 5 reads one below 1 as a ratio
        args.warmup_steps = warmup_steps_for(training.warmup_ratio, training.epochs, len(train_ds),
                                             args.train_batch_size)
        if max_steps is not None:
            args.max_steps = max_steps
            args.warmup_steps = math.ceil(float(training.warmup_ratio) * max_steps)
        trainer = Trainer(model=classifier, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                          data_collator=DataCollatorWithPadding(tokenizer),
                          compute_metrics=val_metrics_of if val_ds is not None else None,
                          compute_loss_func=compute_loss_func, callbacks=[Watch()])
        trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout
        started = clock["started"] = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if state["cancelled"]:
        raise Cancelled("training cancelled; no model was saved")
    if state["diverged"]:
        raise TrainingDiverged(f"{state['diverged']}: lower the learning rate in [training] and retrain")
    best_row = state["history"][best.item] if best.item is not None else {}
    best_epoch = best_row.get("epoch", 0)
    if state["best_weights"] is not None:
        trainer.model.load_state_dict(state["best_weights"])
    trainer.model.eval()
    return FitResult(model=trainer.model, tokenizer=tokenizer, labels=labels, history=state["history"],
                     epochs_trained=float(output.metrics.get("epoch", training.epochs) or training.epochs),
                     best_epoch=best_epoch, validation_metrics=best_row, class_weights=weights,
                     seconds=seconds, device=str(trainer.args.device), stopped_at_deadline=state["deadline"])


def _mps_ok() -> bool:
    import torch

    return bool(getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available())


def save_transformer(models_dir: Path, name: str, fit: FitResult, card: ModelCard, overwrite: bool = False,
                     quick=None) -> Path:
    """Write weights, tokenizer, the ensemble's quick model (if any) and model card to
    ``models_dir/name`` atomically."""

    def fill(tmp: Path) -> None:
        fit.model.save_pretrained(tmp)
        fit.tokenizer.save_pretrained(tmp)
        if quick is not None:
            quick.save(tmp)
        card.save(tmp)

    path = write_model_dir(models_dir, name, fill, overwrite=overwrite)
    card.path = str(path)
    return path


def quick_head_proba(train_texts: Sequence[str], train_labels: Sequence[str], texts: Sequence[str],
                     labels: Sequence[str], *, cache_dir: Path | None, encoder: ModelSettings, C: float,
                     on_event: EventSink | None = None, cancel: threading.Event | None = None):
    """(QuickModel fitted on the train texts, its (N, K) probabilities for ``texts`` in ``labels`` order)."""
    from reviewtui.modeling.embeddings import embed_texts
    from reviewtui.modeling.quick import QuickModel

    def embed(items: Sequence[str]):
        return embed_texts(items, encoder.base, max_length=encoder.max_length, cache_dir=cache_dir,
                           on_event=on_event, cancel=cancel)

    quick = QuickModel(C=C).fit(embed(train_texts), list(train_labels))
    return quick, quick.proba_for(embed(texts), list(labels))



def finetuned_quick_head(model, tokenizer, train_texts: Sequence[str], train_labels: Sequence[str],
                         texts: Sequence[str], labels: Sequence[str], *, max_length: int, C: float,
                         cancel: threading.Event | None = None):
    """(QuickModel fitted on the fine-tuned encoder's pooled last hidden layer of the train texts,
    its (N, K) probabilities for ``texts`` in ``labels`` order): the quick half of the one-pass
    ensemble, which reads the same forward pass as the classifier's head."""
    from reviewtui.modeling.forward import EmbeddingHead, forward_texts
    from reviewtui.modeling.quick import QuickModel

    head = EmbeddingHead(int(model.config.hidden_size))

    def embed(items: Sequence[str]):
        return forward_texts(model, tokenizer, items, head, max_length=max_length, cancel=cancel, task="embed")

    quick = QuickModel(C=C).fit(embed(train_texts), list(train_labels))
    return quick, quick.proba_for(embed(texts), list(labels))


def precision_checks_for(model, tokenizer, texts: Sequence[str], labels: Sequence[str], *, max_length: int,
                         quick=None, encoder=None, on: str = "validation and test splits",
                         cache_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """How the faster precisions agree with fp32 on ``texts``, for the model as it will predict:
    the classifier alone, the one-pass ensemble (``quick`` given), or the two-encoder ensemble
    (``quick`` and ``encoder``: (tokenizer, model, max length) of its quick half). What the card
    records; int8's quantised files are kept under ``cache_dir`` for the predictions to come."""
    from reviewtui.modeling.forward import ClassifierHead, EmbeddingHead, EnsembleHead, QuickWeights, forward_texts
    from reviewtui.modeling.loading import best_device
    from reviewtui.modeling.precision import record_checks

    if quick is not None and encoder is not None:
        enc_tok, enc_model, enc_length = encoder

        def run_factory(items):
            def run(models):
                clf, enc = models
                p_head = forward_texts(clf, tokenizer, items, ClassifierHead(len(labels)), max_length=max_length)
                X = forward_texts(enc, enc_tok, items, EmbeddingHead(int(enc.config.hidden_size)),
                                  max_length=enc_length)
                return (p_head + quick.proba_for(X, labels)) / 2
            return run

        return record_checks((model, enc_model), texts, run_factory, device=best_device(), on=on, cache_dir=cache_dir)
    head = EnsembleHead(QuickWeights.of(quick, labels)) if quick is not None else ClassifierHead(len(labels))

    def run_factory(items):
        return lambda m: forward_texts(m, tokenizer, items, head, max_length=max_length)

    return record_checks(model, texts, run_factory, device=best_device(), on=on, cache_dir=cache_dir)


def plan_training(budget_s: float, model: ModelSettings, training: TrainingSettings, rows: int, val_rows: int, *,
                  texts: Sequence[str] = (), after: dict[str, int] | None = None,
                  on_event: EventSink | None = None):
    """The :class:`reviewtui.modeling.budget.BudgetPlan` of a fine-tune of ``rows`` training rows
    (and ``val_rows`` scored after each epoch) within ``budget_s`` seconds, from the time of a few
    training steps on ``texts`` (the training rows' own) on the device training uses. ``after``
    counts the work that follows the training (:func:`reviewtui.modeling.budget.after_training_seconds`'s
    keywords): its estimate is kept out of the training's share. A Notice says what the budget leaves
    out when it cuts the settings' epochs, and a warning when the work after the training alone
    leaves the command past the budget."""
    from reviewtui.modeling import budget

    step_s = budget.train_step_seconds(model.base, texts, max_length=model.max_length,
                                       batch_size=training.batch_size)
    after_s = budget.after_training_seconds(step_s, training.batch_size, **(after or {}))
    share = budget.training_share(budget_s, after_s)
    plan = budget.plan_for_budget(MARGIN * share, epochs=training.epochs,
                                  steps_per_epoch=math.ceil(rows / training.batch_size), step_s=step_s,
                                  eval_s=val_rows * step_s / training.batch_size * budget.FORWARD_SHARE,
                                  after_s=after_s)
    then = f", and what follows it about {say_duration(after_s)}" if after_s >= 1 else ""
    if plan.cut:
        more = budget_option(plan.estimate_s / MARGIN + after_s)
        fits = (f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''}" if plan.max_steps is None
                else f"one pass over {min(rows, plan.max_steps * training.batch_size):,} of the {rows:,} rows")
        emit(on_event, Notice("info", f"{training.epochs} epochs on {rows:,} rows would take about "
                                      f"{say_duration(plan.estimate_s)} here{then}; the {say_duration(budget_s)} "
                                      f"budget fits {fits}, which this training runs (`{more}`, `--budget none` "
                                      f"or [training] budget_s trains them all)"))
    if share + after_s > budget_s * 1.05:
        emit(on_event, Notice("warning", f"the test split's predictions, the ensemble's quick half and the faster "
                                         f"precisions' checks after the training take about {say_duration(after_s)} "
                                         f"here: with the training's {say_duration(share)}, this command runs past "
                                         f"its {say_duration(budget_s)} budget"))
    return plan


def after_training(splits, training: TrainingSettings, check_on: Sequence[str],
                   cache_dir: Path | None) -> dict[str, int]:
    """What :func:`train_model` does after the training, counted for its budget's plan
    (:func:`reviewtui.modeling.budget.after_training_seconds`): the test split predicted, the
    ensemble's quick half (the packaged encoder's embeddings not cached yet, or a pass of the
    fine-tuned encoder), and ``check_on`` through the faster precisions' checks when any applies."""
    from reviewtui.modeling.loading import best_device
    from reviewtui.modeling.precision import candidates_for

    test = list(splits.test["content"])
    counts = {"scored": len(test), "embedded": 0, "encoders": 1,
              "checked": len(check_on) if candidates_for(best_device()) else 0}
    if not training.ensemble_quick:
        return counts
    fit_texts = splits.fit_texts()[0]
    if training.ensemble_features == "finetuned":
        counts["scored"] += len(fit_texts) + len(test)
        return counts
    texts = [str(t) for t in fit_texts] + test
    if cache_dir is not None:
        from reviewtui.modeling.embeddings import EmbeddingCache

        cache = EmbeddingCache(cache_dir, ENSEMBLE_ENCODER.base, ENSEMBLE_ENCODER.max_length)
        counts["embedded"] = len(set(t for t, hit in zip(texts, cache.cached(texts)) if not hit))
    else:
        counts["embedded"] = len(texts)
    counts["encoders"] = 2
    return counts


def say_checked(held_out: int, of: int, corpus: int) -> str:
    """What a new model's precision checks ran on, as its card says it."""
    where = "validation and test splits" if held_out >= of else f"{held_out:,} rows of the validation and test splits"
    return where + (f" and {corpus} reviews of the corpus" if corpus else "")


#: What makes a fine-tuning started by ``reviewtui train`` faster (its long-run notice says it).
TRAIN_FASTER = ("`reviewtui train --quick` (embeddings + logistic regression, minutes on a CPU), `--epochs N` "
                "trains fewer")


def train_model(df, *, models_dir: Path, label_keys: Sequence[str], model: ModelSettings,
                training: TrainingSettings, quick_C: float, cache_dir: Path | None = None, name: str | None = None,
                dataset_version: str | None = None, dataset_sha256: str | None = None,
                on_event: EventSink | None = None, cancel: threading.Event | None = None,
                overwrite: bool = False, extra: dict[str, Any] | None = None,
                check_texts: Sequence[str] = (), faster: str | None = TRAIN_FASTER,
                budget_s: float | None = None) -> ModelCard:
    """Fine-tune ``model.base`` on a dataset version and save it; returns the saved model's card.

    ``df`` has the dataset CSV's columns (content, label, skipped, ...); rows whose label is not in
    ``label_keys`` (the taxonomy's training keys) are left out. With ``training.ensemble_quick``
    the saved model also holds a quick model (logistic regression with ``quick_C``, fitted on train +
    validation) on what ``training.ensemble_features`` names: "packaged", the packaged MiniLM's
    embeddings (through the embedding cache in ``cache_dir`` when given), or "finetuned", the
    fine-tuned encoder's mean-pooled last hidden layer (one forward pass serves both halves); it
    predicts the mean of both models' probabilities. The card's ``metrics`` are then the ensemble's
    and ``extra`` keeps each part's. The card's ``precision_checks`` record how the faster precisions
    (:func:`reviewtui.modeling.precision.candidates_for`) agree with fp32 on the validation and test
    rows and on ``check_texts`` (reviews of the corpus the model will label: a few hundred held-out
    rows cannot tell 99.5 % agreement from 97 %), for the model as it predicts. ``faster``: what the
    notice of a long fine-tuning says makes it faster, in the words of the command that runs it
    (:data:`TRAIN_FASTER`, ``reviewtui train``'s options), or None to say nothing of it.
    ``budget_s``: the most seconds the fine-tune trains (:mod:`reviewtui.modeling.budget`: fewer
    epochs, or part of one, when the estimated pace says the settings' epochs do not fit; the card's
    ``extra["budget"]`` records the plan). Raises ReviewtuiError for too little data, a bad model
    spec or a taken name; Cancelled when ``cancel`` is set.
    """
    from reviewtui.modeling.loading import resolve_model

    resolved = resolve_model(model.base)
    splits = split_dataset(df, label_keys)
    labels, train_df, val_df, test_df = splits.labels, splits.train, splits.validation, splits.test
    emit(on_event, Notice("info", f"training {resolved.name} on {len(train_df)} rows "
                                  f"(validation {len(val_df)}, test {len(test_df)}), {len(labels)} categories"))
    name = name or default_model_name(dataset_version, resolved.name)
    if (Path(models_dir) / name).exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name or delete it")

    job = background_job(on_event)  # a job outlives the terminal already, and Ctrl-C does not reach it
    stop = (f"`reviewtui jobs cancel {job}` stops it, saving nothing" if job else
            "`--detach` keeps it running after the terminal closes; Ctrl-C stops it, saving nothing")

    from reviewtui.modeling.precision import CHECK_HELD_OUT

    held_out = spread(list(val_df["content"]) + list(test_df["content"]), CHECK_HELD_OUT)
    check_on = held_out + [str(t) for t in check_texts]
    plan = plan_training(budget_s, model, training, len(train_df), len(val_df), texts=list(train_df["content"]),
                         after=after_training(splits, training, check_on, cache_dir),
                         on_event=on_event) if budget_s else None
    if plan is not None:
        training = replace(training, epochs=plan.epochs)
        extra = {**(extra or {}), "budget": {**plan.to_dict(), "budget_s": budget_s,
                                             "fits_all_s": round(plan.estimate_s / MARGIN + plan.after_s, 1)}}
    what = (f"{training.epochs} epochs" if plan is None or plan.max_steps is None
            else f"{plan.max_steps * training.batch_size:,} of the {len(train_df):,} rows once")

    def long_run(seconds_left: float) -> str:
        sooner = "early stopping may end it sooner" + (f", the {say_duration(budget_s)} budget at the latest"
                                                        if budget_s else "")
        return (f"fine-tuning {resolved.name} on {len(train_df):,} rows: about {seconds_left / 60:.0f} min more for "
                f"{what} at this pace ({sooner}). " + (f"Faster: {faster}; " if faster else "") + stop)

    fit = fit_transformer(train_df, val_df, labels, model, training, on_event=on_event, cancel=cancel,
                          long_run=long_run, max_steps=plan.max_steps if plan is not None else None,
                          deadline_s=training_share(budget_s, plan.after_s) if plan is not None else None)
    if fit.stopped_at_deadline is not None:  # the pace was slower than planned: what it really was
        stopped = max(float(fit.stopped_at_deadline), 1e-3)
        record = dict((extra or {}).get("budget") or {"budget_s": budget_s, "asked_epochs": training.epochs})
        measured = fit.seconds / stopped * int(record.get("asked_epochs") or training.epochs)
        record.update(stopped_at_epoch=fit.stopped_at_deadline, rows_seen=int(stopped * len(train_df)),
                      fits_all_s=round(max(float(record.get("fits_all_s") or 0),
                                           measured / MARGIN + float(record.get("after_training_s") or 0)), 1))
        extra = {**(extra or {}), "budget": record}
        share = ("" if not record.get("after_training_s") else
                 f"training's {say_duration(training_share(float(budget_s or 0), record['after_training_s']))} of the ")
        emit(on_event, Notice("warning", f"stopped at the {share}{say_duration(float(budget_s or 0))} budget in epoch "
                                         f"{fit.stopped_at_deadline:.2f}; kept the weights of epoch {fit.best_epoch:g}, "
                                         f"the best on the validation split (`--budget` or [training] budget_s "
                                         f"trains longer)"))
    from reviewtui.modeling.forward import ClassifierHead, forward_texts

    y_test = splits.label_ids(test_df)
    test_texts = list(test_df["content"])
    ft_proba = forward_texts(fit.model, fit.tokenizer, test_texts, ClassifierHead(len(labels)),
                             max_length=model.max_length, cancel=cancel)
    metrics, per_class, confusion = classification_metrics(y_test, list(ft_proba.argmax(1)), labels)
    hp: dict[str, Any] = {**to_toml_dict(training), "select_metric": SELECT_METRIC}
    extra = dict(extra or {})
    extra.setdefault("evaluation", {"method": "split", "splits": splits.sizes, "seed": splits.seed})
    quick = encoder = None
    if training.ensemble_quick:
        fit_texts, fit_labels = splits.fit_texts()
        if training.ensemble_features == "finetuned":
            quick, q_proba = finetuned_quick_head(fit.model, fit.tokenizer, fit_texts, fit_labels, test_texts, labels,
                                                  max_length=model.max_length, C=quick_C, cancel=cancel)
        else:
            from reviewtui.modeling.embeddings import load_encoder_cached

            quick, q_proba = quick_head_proba(fit_texts, fit_labels, test_texts, labels, cache_dir=cache_dir,
                                              encoder=ENSEMBLE_ENCODER, C=quick_C, on_event=on_event, cancel=cancel)
            enc_tok, enc_model = load_encoder_cached(resolve_model(ENSEMBLE_ENCODER.base))
            encoder = (enc_tok, enc_model, ENSEMBLE_ENCODER.max_length)
            hp.update({"embedding_model": ENSEMBLE_ENCODER.base, "embedding_max_length": ENSEMBLE_ENCODER.max_length})
        extra["finetuned_only_metrics"] = metrics
        extra["quick_only_metrics"] = classification_metrics(y_test, list(q_proba.argmax(1)), labels)[0]
        metrics, per_class, confusion = classification_metrics(y_test, list((ft_proba + q_proba).argmax(1)), labels)
        hp["ensemble_features"] = training.ensemble_features
    checks = precision_checks_for(fit.model, fit.tokenizer, check_on, labels, max_length=model.max_length,
                                  quick=quick, encoder=encoder, cache_dir=cache_dir,
                                  on=say_checked(len(held_out), len(val_df) + len(test_df), len(check_texts)))
    card = ModelCard(
        name=name, kind="finetuned", base_model=resolved.name, base_source=resolved.source, labels=labels,
        taxonomy_keys=list(label_keys), dataset_version=dataset_version, dataset_sha256=dataset_sha256,
        hyperparameters={**hp, "max_length": model.max_length, "model": resolved.name}, metrics=metrics,
        validation_metrics=fit.validation_metrics, per_class=per_class, confusion_matrix=confusion,
        splits=splits.sizes, class_weights=fit.class_weights, epochs_trained=fit.epochs_trained,
        history=fit.history, created_at=now_iso(), train_seconds=round(fit.seconds, 3),
        hardware={**hardware_info(), "device": fit.device}, extra=extra, precision_checks=checks,
    )
    if cancel is not None and cancel.is_set():
        raise Cancelled("training cancelled; no model was saved")
    save_transformer(models_dir, name, fit, card, overwrite=overwrite, quick=quick)
    emit(on_event, Notice("info", f"saved model {name}: test accuracy {metrics['accuracy']:.3f}, "
                                  f"weighted F1 {metrics['f1_weighted']:.3f}"))
    return card
