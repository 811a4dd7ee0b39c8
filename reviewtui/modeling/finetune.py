"""Fine-tuning a transformer classifier with the Hugging Face Trainer, and evaluating it.

``train_model`` is what ``reviewtui train`` runs: filter the dataset version to the taxonomy's
training categories, split it the way the original project did (stratified test 0.2, then
validation 0.2 of the rest, seed 42), fine-tune with early stopping on the validation split
(class weights when classes are imbalanced), evaluate on the test split and save
``models/<name>/`` (weights, tokenizer, model_card.json) atomically.

``fit_transformer`` is the training step alone; Ray Tune trials call it with an ``epoch_callback``
that reports validation metrics to the scheduler after every epoch.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from reviewtui.settings import TrainingSettings, to_toml_dict
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.modeling import Cancelled
from reviewtui.modeling.card import ModelCard, hardware_info, now_iso, write_model_dir

SPLIT_SEED = 42
TEST_SIZE = 0.2
VAL_SIZE = 0.2

TRAINING_DEFAULTS: dict[str, Any] = {"class_weights": "auto", "select_metric": "accuracy", "ensemble_quick": True,
                                     **to_toml_dict(TrainingSettings())}

EpochCallback = Callable[[int, dict[str, float]], None]


class TrainingDiverged(ReviewtuiError):
    """The loss became NaN or infinite (learning rate too high, or broken data)."""


# --- data -------------------------------------------------------------------------------------
def prepare_frame(df, label_keys: Sequence[str]):
    """Rows fit for training: not skipped, a label among ``label_keys``, non-empty content.

    Returns a new DataFrame with columns ``content`` and ``label`` (plus the others kept).
    Raises ReviewtuiError when required columns are missing.
    """
    missing = [c for c in ("label", "content") if c not in df.columns]
    if missing:
        raise ReviewtuiError(f"the dataset has no {', '.join(missing)} column: export it again with reviewtui export")
    out = df.copy()
    if "skipped" in out.columns:
        skipped = out["skipped"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        out = out[~skipped]
    out = out[out["label"].notna() & out["content"].notna()]
    out["label"] = out["label"].astype(str).str.strip()
    out["content"] = out["content"].astype(str)
    out = out[out["content"].str.strip() != ""]
    out = out[out["label"].isin(list(label_keys))]
    return out.reset_index(drop=True)


def present_labels(labels: Sequence[str], label_keys: Sequence[str]) -> list[str]:
    """The training keys that occur in ``labels``, in taxonomy order."""
    seen = set(labels)
    return [k for k in label_keys if k in seen]


def split_frame(df, test_size: float = TEST_SIZE, val_size: float = VAL_SIZE, seed: int = SPLIT_SEED):
    """(train, validation, test) DataFrames: stratified test ``test_size``, then validation
    ``val_size`` of the rest, fixed seed — the original project's split.

    Raises ReviewtuiError when there is too little data to split.
    """
    from sklearn.model_selection import train_test_split

    counts = df["label"].value_counts()
    if len(df) < 10 or len(counts) < 2:
        raise ReviewtuiError(
            f"too little data to train: {len(df)} labeled rows in {len(counts)} categories; "
            "label at least 10 assets in two or more training categories"
        )
    # stratifying needs every class in every split; rare classes fall back to a plain split
    stratify_ok = counts.min() >= 4
    strat = df["label"] if stratify_ok else None
    rest, test = train_test_split(df, test_size=test_size, stratify=strat, random_state=seed)
    strat = rest["label"] if stratify_ok and rest["label"].value_counts().min() >= 2 else None
    train, val = train_test_split(rest, test_size=val_size, stratify=strat, random_state=seed)
    return train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True)


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


# --- metrics ----------------------------------------------------------------------------------
def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]):
    """(metrics, per_class, confusion) for integer class ids.

    ``metrics``: accuracy, precision/recall/f1 weighted and macro. ``per_class``: label ->
    precision, recall, f1, support. ``confusion``: rows true, columns predicted, in ``labels`` order.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    ids = list(range(len(labels)))
    metrics: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg in ("weighted", "macro"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=avg, zero_division=0)
        metrics.update({f"precision_{avg}": float(p), f"recall_{avg}": float(r), f"f1_{avg}": float(f)})
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=None, zero_division=0)
    per_class = {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                 for i, label in enumerate(labels)}
    confusion = confusion_matrix(y_true, y_pred, labels=ids).astype(int).tolist()
    return metrics, per_class, confusion


# --- training ---------------------------------------------------------------------------------
def training_params(training: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """[training] merged over the defaults and ``overrides``, with types fixed."""
    hp = dict(TRAINING_DEFAULTS)
    hp.update({k: v for k, v in (training or {}).items() if v is not None})
    hp.update({k: v for k, v in overrides.items() if v is not None})
    try:
        hp["epochs"] = int(round(float(hp["epochs"])))
        hp["batch_size"] = int(hp["batch_size"])
        hp["seed"] = int(hp["seed"])
        hp["early_stopping_patience"] = int(hp["early_stopping_patience"])
        for key in ("learning_rate", "weight_decay", "warmup_ratio"):
            hp[key] = float(hp[key])
    except (TypeError, ValueError) as exc:
        raise ReviewtuiError(f"[training] in reviewtui.toml has a bad value ({exc}); fix the number") from exc
    if hp["epochs"] < 1 or hp["batch_size"] < 1 or not 0 < hp["learning_rate"] < 1:
        raise ReviewtuiError("[training] needs epochs >= 1, batch_size >= 1 and 0 < learning_rate < 1")
    if not 0 <= hp["warmup_ratio"] < 1:
        raise ReviewtuiError("[training] warmup_ratio must be in [0, 1)")
    return hp


@dataclass
class FitResult:
    """What :func:`fit_transformer` returns: the model (best validation epoch restored), its
    tokenizer, per-epoch validation metrics and the epochs actually run."""

    model: Any
    tokenizer: Any
    labels: list[str]
    history: list[dict[str, float]] = field(default_factory=list)
    epochs_trained: float = 0.0
    best_epoch: int = 0
    validation_metrics: dict[str, float] = field(default_factory=dict)
    class_weights: dict[str, float] | None = None
    seconds: float = 0.0
    device: str = "cpu"


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


def fit_transformer(train_df, val_df, labels: Sequence[str], model_spec: str = "minilm", *,
                    hp: dict[str, Any] | None = None, max_length: int = 128,
                    on_event: EventSink | None = None, cancel: threading.Event | None = None,
                    epoch_callback: EpochCallback | None = None, work_dir: Path | None = None,
                    epoch_model_callback: Callable[[int, Any, Any], None] | None = None,
                    progress_task: str = "train") -> FitResult:
    """Fine-tune ``model_spec`` on ``train_df`` (columns content, label), evaluating on ``val_df``
    after every epoch; stops early after ``early_stopping_patience`` epochs without improvement and
    restores the best epoch's weights. With ``val_df`` None it trains exactly ``epochs`` epochs
    and keeps the last weights (the final fit on all labels after cross-validation).

    ``epoch_callback(epoch, val_metrics)`` runs after each evaluation (Ray Tune reports there);
    ``epoch_model_callback(epoch, model, tokenizer)`` after each epoch (cross-validation scores
    the held-out fold there). Emits Progress("train", step, total_steps) and, per step,
    EpochProgress(progress_task, ...). Raises Cancelled when ``cancel`` is set,
    TrainingDiverged on a NaN/inf loss, ReviewtuiError when the model cannot be loaded.
    """
    import torch
    from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, PrinterCallback,
                              Trainer, TrainerCallback, TrainingArguments, set_seed)

    from reviewtui.modeling.loading import load_tokenizer, quiet_transformers, resolve_model

    hp = training_params(hp)
    labels = list(labels)
    label2id = {label: i for i, label in enumerate(labels)}
    resolved = resolve_model(model_spec)
    quiet_transformers()
    _quiet_datasets()
    tokenizer = load_tokenizer(resolved)
    set_seed(hp["seed"])
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            resolved.path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id,
            ignore_mismatched_sizes=True, local_files_only=resolved.is_local,
            dtype=torch.float32,  # a checkpoint saved in fp16/bf16 still trains in fp32 (AMP does the rest)
        )
    except OSError as exc:
        from reviewtui.modeling.loading import load_error

        raise ReviewtuiError(load_error(resolved, exc)) from exc

    y_train = [label2id[v] for v in train_df["label"]]
    train_ds = _tokenized(tokenizer, list(train_df["content"]), y_train, max_length)
    val_ds = None
    if val_df is not None:
        val_ds = _tokenized(tokenizer, list(val_df["content"]), [label2id[v] for v in val_df["label"]], max_length)

    weights = class_weights_for(list(train_df["label"]), labels, hp.get("class_weights", "auto"))
    compute_loss_func = None
    if weights is not None:
        weight_tensor = torch.tensor([weights[label] for label in labels], dtype=torch.float32)

        def compute_loss_func(outputs, targets, num_items_in_batch=None):
            logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
            return torch.nn.functional.cross_entropy(
                logits.float(), targets.to(logits.device), weight=weight_tensor.to(logits.device))

    select = str(hp.get("select_metric", "accuracy"))
    patience = max(1, int(hp["early_stopping_patience"]))
    state = {"best": None, "best_state": None, "best_epoch": 0, "bad": 0, "history": [],
             "cancelled": False, "diverged": None}

    def val_metrics_of(eval_pred) -> dict[str, float]:
        logits, y = eval_pred
        logits = logits[0] if isinstance(logits, tuple) else logits
        metrics, _, _ = classification_metrics(list(y), list(np.asarray(logits).argmax(-1)), labels)
        return {"accuracy": metrics["accuracy"], "f1_weighted": metrics["f1_weighted"],
                "f1_macro": metrics["f1_macro"]}

    from reviewtui.modeling.progress import EpochMeter

    meter = EpochMeter(on_event, progress_task, epochs=hp["epochs"], batch_size=hp["batch_size"],
                       steps_per_epoch=math.ceil(len(train_df) / hp["batch_size"]), samples=len(train_df))

    class Watch(TrainerCallback):
        def on_step_end(self, args, tstate, control, **kw):
            emit(on_event, Progress("train", tstate.global_step, tstate.max_steps,
                                    f"epoch {tstate.epoch or 0:.1f}"))
            meter.step(tstate.global_step)
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                control.should_training_stop = True
            return control

        def on_log(self, args, tstate, control, logs=None, **kw):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                state["diverged"] = f"training loss became {loss} at epoch {tstate.epoch or 0:.1f}"
                control.should_training_stop = True
            return control

        def on_evaluate(self, args, tstate, control, metrics=None, model=None, **kw):
            metrics = dict(metrics or {})
            epoch = int(round(tstate.epoch or 0))
            row = {"epoch": float(epoch)}
            row.update({k.removeprefix("eval_"): float(v) for k, v in metrics.items()
                        if k.startswith("eval_") and isinstance(v, (int, float))
                        and k not in ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second")})
            if not math.isfinite(row.get("loss", 0.0)):
                state["diverged"] = f"validation loss became {row.get('loss')} at epoch {epoch}"
                control.should_training_stop = True
                return control
            state["history"].append(row)
            score = (row.get(select, 0.0), -row.get("loss", 0.0))
            if state["best"] is None or score > state["best"]:
                state["best"], state["best_epoch"], state["bad"] = score, epoch, 0
                state["best_state"] = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            else:
                state["bad"] += 1
                if state["bad"] >= patience:
                    control.should_training_stop = True
            emit(on_event, Notice("info", f"epoch {epoch}: validation accuracy {row.get('accuracy', 0):.3f}, "
                                          f"weighted F1 {row.get('f1_weighted', 0):.3f}"))
            if epoch_callback is not None:
                epoch_callback(epoch, row)
            return control

        def on_epoch_end(self, args, tstate, control, model=None, **kw):
            if epoch_model_callback is not None and not state["cancelled"] and not state["diverged"]:
                epoch_model_callback(int(round(tstate.epoch or 0)), model, tokenizer)
            return control

    use_cuda = torch.cuda.is_available()
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    out_dir = Path(tempfile.mkdtemp(prefix="reviewtui-train-", dir=work_dir))
    try:
        args = TrainingArguments(
            output_dir=str(out_dir), num_train_epochs=hp["epochs"], learning_rate=hp["learning_rate"],
            per_device_train_batch_size=hp["batch_size"], per_device_eval_batch_size=max(32, hp["batch_size"]),
            weight_decay=hp["weight_decay"], warmup_steps=hp["warmup_ratio"], seed=hp["seed"],
            eval_strategy="epoch" if val_ds is not None else "no", save_strategy="no", logging_strategy="epoch", report_to="none",
            disable_tqdm=True, bf16=bf16, fp16=bool(use_cuda and not bf16), dataloader_num_workers=0,
            use_cpu=not use_cuda and not _mps_ok(),
        )
        trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                          data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                          compute_metrics=val_metrics_of if val_ds is not None else None, compute_loss_func=compute_loss_func,
                          callbacks=[Watch()])
        trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout
        started = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if state["cancelled"]:
        raise Cancelled("training cancelled; no model was saved")
    if state["diverged"]:
        raise TrainingDiverged(f"{state['diverged']}: lower the learning rate in [training] and retrain")
    if state["best_state"] is not None:
        trainer.model.load_state_dict(state["best_state"])
    trainer.model.eval()
    best = next((r for r in state["history"] if int(r["epoch"]) == state["best_epoch"]), {})
    return FitResult(model=trainer.model, tokenizer=tokenizer, labels=labels, history=state["history"],
                     epochs_trained=float(output.metrics.get("epoch", hp["epochs"]) or hp["epochs"]),
                     best_epoch=state["best_epoch"], validation_metrics=best, class_weights=weights,
                     seconds=seconds, device=str(trainer.args.device))


def _mps_ok() -> bool:
    import torch

    return bool(getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available())


def predict_logits(model, tokenizer, texts: Sequence[str], *, max_length: int = 128, batch_size: int = 64,
                   on_event: EventSink | None = None, cancel: threading.Event | None = None,
                   task: str = "predict") -> np.ndarray:
    """(N, K) logits of a sequence classifier, in input order: length-sorted batches, inference
    mode, on the model's device. Raises Cancelled when ``cancel`` is set between batches."""
    import torch

    n = len(texts)
    k = int(model.config.num_labels)
    out = np.zeros((n, k), dtype=np.float32)
    if n == 0:
        return out
    from reviewtui.modeling.embeddings import length_sorted_batches

    model.eval()
    with torch.inference_mode():
        for idx, batch in length_sorted_batches(tokenizer, texts, device=next(model.parameters()).device,
                                                max_length=max_length, batch_size=batch_size,
                                                on_event=on_event, cancel=cancel, task=task):
            out[idx] = model(**batch).logits.float().cpu().numpy()
    return out


def evaluate_split(model, tokenizer, test_df, labels: Sequence[str], max_length: int = 128):
    """(metrics, per_class, confusion) of ``model`` on ``test_df``."""
    label2id = {label: i for i, label in enumerate(labels)}
    logits = predict_logits(model, tokenizer, list(test_df["content"]), max_length=max_length)
    return classification_metrics([label2id[v] for v in test_df["label"]], list(logits.argmax(1)), list(labels))


def default_model_name(dataset_version: str | None, base: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = base.replace("/", "-")
    return f"{dataset_version or 'model'}-{base}-{stamp}"


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
                     labels: Sequence[str], *, cache_dir: Path | None, embedding_model: str = "minilm",
                     C: float = 10.0, max_length: int = 128, on_event: EventSink | None = None,
                     cancel: threading.Event | None = None):
    """(QuickModel fitted on the train texts, its (N, K) probabilities for ``texts`` in ``labels`` order)."""
    from reviewtui.modeling.embeddings import embed_texts
    from reviewtui.modeling.quick import QuickModel

    def embed(items: Sequence[str]):
        return embed_texts(items, embedding_model, max_length=max_length, cache_dir=cache_dir, on_event=on_event,
                           cancel=cancel)

    quick = QuickModel(C=C).fit(embed(train_texts), list(train_labels))
    return quick, quick.proba_for(embed(texts), list(labels))


def train_model(df, *, models_dir: Path, label_keys: Sequence[str], model_spec: str = "minilm",
                training: dict[str, Any] | None = None, max_length: int = 128, name: str | None = None,
                dataset_version: str | None = None, dataset_sha256: str | None = None,
                on_event: EventSink | None = None, cancel: threading.Event | None = None,
                overwrite: bool = False, extra: dict[str, Any] | None = None,
                cache_dir: Path | None = None) -> ModelCard:
    """Fine-tune on a dataset version and save it; returns the saved model's card.

    ``df`` has the dataset CSV's columns (content, label, skipped, ...); rows whose label is not in
    ``label_keys`` (the taxonomy's training keys) are left out. With ``[training] ensemble_quick``
    (the default) the saved model also holds a quick model (MiniLM embeddings + logistic
    regression, fitted on train + validation) and predicts the mean of both models' probabilities;
    the card's ``metrics`` are then the ensemble's and ``extra`` keeps each part's. Raises
    ReviewtuiError for too little data, a bad model spec or a taken name; Cancelled when ``cancel``
    is set.
    """
    from reviewtui.modeling.loading import resolve_model

    hp = training_params(training)
    resolved = resolve_model(model_spec)
    data = prepare_frame(df, label_keys)
    labels = present_labels(list(data["label"]), label_keys)
    train_df, val_df, test_df = split_frame(data)
    emit(on_event, Notice("info", f"training {resolved.name} on {len(train_df)} rows "
                                  f"(validation {len(val_df)}, test {len(test_df)}), {len(labels)} categories"))
    name = name or default_model_name(dataset_version, resolved.name)
    if (Path(models_dir) / name).exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name or delete it")
    fit = fit_transformer(train_df, val_df, labels, model_spec, hp=hp, max_length=max_length,
                          on_event=on_event, cancel=cancel)
    label2id = {label: i for i, label in enumerate(labels)}
    y_test = [label2id[v] for v in test_df["label"]]
    from reviewtui.modeling.inference import _softmax

    ft_proba = _softmax(predict_logits(fit.model, fit.tokenizer, list(test_df["content"]), max_length=max_length))
    metrics, per_class, confusion = classification_metrics(y_test, list(ft_proba.argmax(1)), labels)
    extra = dict(extra or {})
    quick = None
    if hp.get("ensemble_quick"):
        embedding_model = str(hp.get("ensemble_embedding_model", "minilm"))
        quick, q_proba = quick_head_proba(
            list(train_df["content"]) + list(val_df["content"]), list(train_df["label"]) + list(val_df["label"]),
            list(test_df["content"]), labels, cache_dir=cache_dir, embedding_model=embedding_model,
            C=float(hp.get("ensemble_quick_C", 10.0)), on_event=on_event, cancel=cancel)
        extra["finetuned_only_metrics"] = metrics
        extra["quick_only_metrics"] = classification_metrics(y_test, list(q_proba.argmax(1)), labels)[0]
        metrics, per_class, confusion = classification_metrics(y_test, list((ft_proba + q_proba).argmax(1)), labels)
        hp = {**hp, "embedding_model": embedding_model, "embedding_max_length": 128}
    card = ModelCard(
        name=name, kind="finetuned", base_model=resolved.name, base_source=resolved.source, labels=labels,
        taxonomy_keys=list(label_keys), dataset_version=dataset_version, dataset_sha256=dataset_sha256,
        hyperparameters={**hp, "max_length": max_length, "model": resolved.name}, metrics=metrics,
        validation_metrics=fit.validation_metrics, per_class=per_class, confusion_matrix=confusion,
        splits={"train": len(train_df), "validation": len(val_df), "test": len(test_df)},
        class_weights=fit.class_weights, epochs_trained=fit.epochs_trained, history=fit.history,
        created_at=now_iso(), train_seconds=round(fit.seconds, 3), hardware={**hardware_info(), "device": fit.device}, extra=extra,
    )
    if cancel is not None and cancel.is_set():
        raise Cancelled("training cancelled; no model was saved")
    save_transformer(models_dir, name, fit, card, overwrite=overwrite, quick=quick)
    emit(on_event, Notice("info", f"saved model {name}: test accuracy {metrics['accuracy']:.3f}, "
                                  f"weighted F1 {metrics['f1_weighted']:.3f}"))
    return card
