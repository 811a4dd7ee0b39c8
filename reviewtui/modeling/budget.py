"""How much of a fine-tune fits ``reviewtui train``'s time budget (``[training] budget_s``).

On a GPU a fine-tune of a few thousand reviews takes minutes; on a laptop's CPU the same default
(10 epochs) takes hours: MiniLM trains at some 17 reviews a second on two cores, so 10 epochs of
5,096 training rows take about 50 minutes, and the cross-validation below ``cv_below`` labels
trains every epoch five times more. ``reviewtui train`` therefore plans the fine-tune
before it starts, from the time of a few real training steps (:func:`train_step_seconds`: the
model with its classification head, forward, backward and AdamW, on batches of the training texts,
on the device training uses):

* when every epoch fits, nothing changes;
* when fewer fit, it trains as many whole epochs as fit (the learning-rate schedule then spans
  them, and early stopping still reads each epoch's validation score);
* when not even one epoch fits, it trains one pass over as many steps as fit (``max_steps``: the
  schedule spans those steps), which sees part of the training rows once.

The plan is an estimate; :func:`reviewtui.modeling.finetune.fit_transformer` also stops at the
budget itself (the partial epoch is scored on the validation split and the best weights kept), so
a pace slower than estimated overruns the training's budget by one step and that validation pass
at most. What comes after the training (the test split's predictions, the ensemble's quick half,
the faster precisions' checks) is priced from the same timed steps (:func:`after_training_seconds`)
and kept out of the training's share of the budget, so the whole command keeps near it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

#: A training epoch costs this many times an inference pass over the same texts (forward + backward
#: + AdamW over every weight, small random batches that pad more than the embedding cache's
#: length-sorted ones, the Trainer's own work). Measured with MiniLM on dataset-11 on a 2-core CPU:
#: 9-14. What ``train --auto`` estimates a fine-tune with before its first fold (then refined from
#: the time the fold took); ``train``'s plan times real training steps instead.
TRAIN_FACTOR = 10.0
#: texts an inference pass is timed on
PROBE_TEXTS = 64
#: the share of a budget a plan fills (the rest absorbs the estimate's error)
MARGIN = 0.9
#: an inference pass over a text costs about this share of a training step's time per text
FORWARD_SHARE = 1 / 3
#: the Trainer's steps take this many times the bare steps :func:`train_step_seconds` times (its data
#: loading and callbacks, the slower first steps of each epoch, each fold's model loading): measured
#: with MiniLM on dataset-11 on two CPU cores, 0.91 s a step in the Trainer against 0.65 s timed bare
TRAINER_OVERHEAD = 1.4
#: What a training on a split does after its epochs, priced per text as shares of a training step's
#: time per text (:func:`after_training_seconds`). Measured with MiniLM on 7,963 fintech labels on two
#: CPU cores, where a training step of 16 rows took 1.93 s (0.12 s a row): the test split's predictions
#: took 6.7 ms a text (length-sorted batches of 64), embedding a text for the ensemble's quick half 8.9 ms
#: (its cache's writes included), and the faster precisions' checks 18.5 ms a row for each encoder
#: (fp32's reference, then bf16 and int8, int8's ONNX export included).
SCORE_SHARE = 0.06
EMBED_SHARE = 0.08
CHECK_SHARE = 0.16
#: the least share of a budget the training keeps, however long the work after it is estimated to take
TRAINING_SHARE_MIN = 0.25


def spread(texts: Sequence[str], n: int) -> list[str]:
    """At most ``n`` of ``texts``, taken evenly over them (a probe with the data's mix of lengths, a
    sample of the validation and the test split alike)."""
    if len(texts) <= n:
        return list(texts)
    return [texts[i * len(texts) // n] for i in range(n)]


def train_step_seconds(spec: str, texts: Sequence[str], *, max_length: int, batch_size: int,
                       steps: int = 3) -> float:
    """Seconds of one of the Trainer's steps of ``spec`` with a classification head (forward,
    backward, AdamW; bf16 autocast on a GPU that has it, as the Trainer) on ``batch_size`` texts of
    ``texts`` (spread over them: their length decides the pace), on the device training uses: the
    mean of ``steps`` bare steps after one to warm up, times :data:`TRAINER_OVERHEAD`. Raises
    ReviewtuiError when the model cannot be loaded."""
    import contextlib

    import torch
    from transformers import AutoModelForSequenceClassification

    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling.loading import best_device, load_error, load_tokenizer, quiet_transformers, resolve_model

    resolved = resolve_model(spec)
    quiet_transformers()
    tokenizer = load_tokenizer(resolved)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            resolved.path, num_labels=2, ignore_mismatched_sizes=True, local_files_only=resolved.is_local).float()
    except OSError as exc:
        raise ReviewtuiError(load_error(resolved, exc)) from exc
    device = best_device()
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    texts = [str(t) for t in texts] or ["probe review: the app keeps asking me to pay for articles I want to read"]
    need = (steps + 1) * batch_size
    sample = (spread(texts, need) * (need // len(texts) + 1))[:need]
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()

    def synchronize() -> None:  # GPU work is queued: time what was done, not what was asked
        if device == "cuda":
            torch.cuda.synchronize()
        elif device == "mps":
            torch.mps.synchronize()

    started = 0.0
    for i in range(steps + 1):
        if i == 1:
            synchronize()
            started = time.perf_counter()
        chunk = sample[i * batch_size:(i + 1) * batch_size]
        batch = tokenizer(chunk, truncation=True, max_length=max_length, padding=True, return_tensors="pt").to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            loss = model(**batch, labels=torch.zeros(len(chunk), dtype=torch.long, device=device)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    synchronize()
    seconds = (time.perf_counter() - started) / steps * TRAINER_OVERHEAD
    del model, optimizer
    return seconds


def forward_seconds(spec: str, texts: Sequence[str] = (), *, max_length: int) -> float:
    """Seconds per text of one inference pass of the encoder ``spec`` on the device training uses
    (the GPU when there is one), timed on up to :data:`PROBE_TEXTS` of ``texts`` spread over them
    (the data's own: their length decides the pace) or, with none, on as many texts of about 20
    tokens; after a warm-up pass."""
    from reviewtui.modeling.batching import encode_texts
    from reviewtui.modeling.embeddings import load_encoder_cached
    from reviewtui.modeling.loading import best_device, resolve_model

    tokenizer, model = load_encoder_cached(resolve_model(spec))
    texts = [str(t) for t in texts]
    probe = (spread(texts, PROBE_TEXTS) if texts else
             [f"probe review number {i}: the app keeps asking me to pay for articles I want to read"
              for i in range(PROBE_TEXTS)])
    device = best_device()
    encode_texts(tokenizer, model, probe[:8], max_length=max_length, device=device)  # the first calls warm up
    started = time.perf_counter()
    encode_texts(tokenizer, model, probe, max_length=max_length, device=device)
    return (time.perf_counter() - started) / len(probe)


def after_training_seconds(step_s: float, batch_size: int, *, scored: int = 0, embedded: int = 0,
                           checked: int = 0, encoders: int = 1) -> float:
    """Estimated seconds of the work after a training whose step of ``batch_size`` rows takes
    ``step_s`` seconds: ``scored`` texts predicted, ``embedded`` texts embedded for the quick half (the
    ones not cached yet), ``checked`` texts run through the faster precisions' checks by each of
    ``encoders`` encoders (two for an ensemble whose quick half has an encoder of its own). The
    packaged quick-half encoder is priced at the fine-tune's pace: a larger fine-tuned encoder
    overestimates it."""
    per_text = max(0.0, float(step_s)) / max(1, int(batch_size))
    return per_text * (SCORE_SHARE * scored + EMBED_SHARE * embedded + CHECK_SHARE * checked * max(1, encoders))


def training_share(budget_s: float, after_s: float) -> float:
    """The seconds of ``budget_s`` the training gets when ``after_s`` seconds of work follow it:
    the rest, but never under :data:`TRAINING_SHARE_MIN` of the budget."""
    return max(float(budget_s) - max(0.0, float(after_s)), TRAINING_SHARE_MIN * float(budget_s))


@dataclass(frozen=True)
class BudgetPlan:
    """What fits: ``epochs`` whole epochs, or with ``max_steps`` one pass of that many steps.
    ``epoch_s`` is the estimated seconds of one epoch (its validation pass included), ``budget_s``
    the budget planned for, ``asked_epochs`` the epochs the settings asked for, ``after_s`` the
    estimated seconds of the work after the training (kept out of ``budget_s``)."""

    epochs: int
    max_steps: int | None
    epoch_s: float
    budget_s: float
    asked_epochs: int
    after_s: float = 0.0

    @property
    def cut(self) -> bool:
        """True when the budget trains less than the settings asked."""
        return self.max_steps is not None or self.epochs < self.asked_epochs

    @property
    def estimate_s(self) -> float:
        """Estimated seconds of the whole training as the settings asked."""
        return self.epoch_s * self.asked_epochs

    def to_dict(self) -> dict[str, object]:
        return {"budget_s": round(self.budget_s, 1), "asked_epochs": self.asked_epochs, "epochs": self.epochs,
                "max_steps": self.max_steps, "estimated_epoch_s": round(self.epoch_s, 1),
                "after_training_s": round(self.after_s, 1)}


def plan_for_budget(budget_s: float, *, epochs: int, steps_per_epoch: int, step_s: float,
                    eval_s: float = 0.0, after_s: float = 0.0) -> BudgetPlan:
    """The plan for ``epochs`` epochs of ``steps_per_epoch`` steps at ``step_s`` seconds a step,
    with ``eval_s`` seconds of validation after each epoch, within ``budget_s`` seconds (the
    training's share: ``after_s`` is only recorded)."""
    epochs, steps_per_epoch = max(1, int(epochs)), max(1, int(steps_per_epoch))
    epoch_s = steps_per_epoch * max(0.0, step_s) + max(0.0, eval_s)
    fit = math.floor(budget_s / epoch_s) if epoch_s > 0 else epochs
    if fit >= epochs:
        return BudgetPlan(epochs, None, epoch_s, budget_s, epochs, after_s)
    if fit >= 1:
        return BudgetPlan(fit, None, epoch_s, budget_s, epochs, after_s)
    steps = math.floor(max(0.0, budget_s - eval_s) / step_s) if step_s > 0 else steps_per_epoch
    return BudgetPlan(1, max(1, min(steps_per_epoch, steps)), epoch_s, budget_s, epochs, after_s)


def epochs_within(budget_s: float, *, epochs: int, estimate_s: float) -> int:
    """How many of ``epochs`` epochs fit ``budget_s`` seconds when all of them take ``estimate_s``
    (a cross-validation's folds and final training together): ``epochs`` when all fit, 0 when not
    even one does."""
    epochs = max(1, int(epochs))
    if estimate_s <= budget_s:
        return epochs
    return max(0, min(epochs, math.floor(budget_s / (estimate_s / epochs))))


def budget_option(seconds: float) -> str:
    """The ``--budget`` that fits ``seconds``, rounded up: ``--budget 45m``, ``--budget 4h``."""
    minutes = max(1, math.ceil(float(seconds) / 60))
    return f"--budget {minutes}m" if minutes < 60 else f"--budget {math.ceil(minutes / 60)}h"


def say_duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 38 min': how a budget or an estimate is said."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
