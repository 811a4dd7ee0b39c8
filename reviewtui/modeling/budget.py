"""How much of a fine-tune fits ``reviewtui train``'s time budget (``[training] budget_s``).

On a GPU a fine-tune of a few thousand reviews takes minutes; on a laptop's CPU the same default
(10 epochs) takes hours: MiniLM trained at about 10 reviews a second on two cores, so 10 epochs of
5,096 training rows were estimated at 91 minutes. ``reviewtui train`` therefore plans the fine-tune
before it starts, from the encoder's speed (:func:`forward_seconds`: one inference pass over 64
of the training texts on the device training uses, times :data:`TRAIN_FACTOR` for a training
step):

* when every epoch fits, nothing changes;
* when fewer fit, it trains as many whole epochs as fit (the learning-rate schedule then spans
  them, and early stopping still reads each epoch's validation score);
* when not even one epoch fits, it trains one pass over as many steps as fit (``max_steps``: the
  schedule spans those steps), which sees part of the training rows once.

The plan is an estimate; :func:`reviewtui.modeling.finetune.fit_transformer` also stops at the
budget itself (the partial epoch is scored on the validation split and the best weights kept), so
a pace slower than estimated overruns the training's budget by one step and that validation pass
at most. What comes after the training (the test split's predictions, the ensemble's quick half,
the faster precisions' checks) is not counted in the budget.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

#: A training epoch costs this many times an inference pass over the same texts (forward + backward
#: + AdamW over every weight, small random batches that pad more than the embedding cache's
#: length-sorted ones, the Trainer's own work). Measured with MiniLM on dataset-11 on a 2-core CPU:
#: 9-14. The cross-validation refines it after each candidate's first fold from the time it took.
TRAIN_FACTOR = 10.0
#: texts an inference pass is timed on
PROBE_TEXTS = 64


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
    probe = (texts[::max(1, len(texts) // PROBE_TEXTS)][:PROBE_TEXTS] if texts else
             [f"probe review number {i}: the app keeps asking me to pay for articles I want to read"
              for i in range(PROBE_TEXTS)])
    device = best_device()
    encode_texts(tokenizer, model, probe[:8], max_length=max_length, device=device)  # the first calls warm up
    started = time.perf_counter()
    encode_texts(tokenizer, model, probe, max_length=max_length, device=device)
    return (time.perf_counter() - started) / len(probe)


@dataclass(frozen=True)
class BudgetPlan:
    """What fits: ``epochs`` whole epochs, or with ``max_steps`` one pass of that many steps.
    ``epoch_s`` is the estimated seconds of one epoch (its validation pass included), ``budget_s``
    the budget planned for, ``asked_epochs`` the epochs the settings asked for."""

    epochs: int
    max_steps: int | None
    epoch_s: float
    budget_s: float
    asked_epochs: int

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
                "max_steps": self.max_steps, "estimated_epoch_s": round(self.epoch_s, 1)}


def plan_for_budget(budget_s: float, *, epochs: int, steps_per_epoch: int, step_s: float,
                    eval_s: float = 0.0) -> BudgetPlan:
    """The plan for ``epochs`` epochs of ``steps_per_epoch`` steps at ``step_s`` seconds a step,
    with ``eval_s`` seconds of validation after each epoch, within ``budget_s`` seconds."""
    epochs, steps_per_epoch = max(1, int(epochs)), max(1, int(steps_per_epoch))
    epoch_s = steps_per_epoch * max(0.0, step_s) + max(0.0, eval_s)
    fit = math.floor(budget_s / epoch_s) if epoch_s > 0 else epochs
    if fit >= epochs:
        return BudgetPlan(epochs, None, epoch_s, budget_s, epochs)
    if fit >= 1:
        return BudgetPlan(fit, None, epoch_s, budget_s, epochs)
    steps = math.floor(max(0.0, budget_s - eval_s) / step_s) if step_s > 0 else steps_per_epoch
    return BudgetPlan(1, max(1, min(steps_per_epoch, steps)), epoch_s, budget_s, epochs)


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
