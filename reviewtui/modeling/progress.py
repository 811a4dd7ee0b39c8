"""Per-epoch training progress: steps, samples per second and the time left in the epoch.

:class:`EpochMeter` turns the trainer's global step into :class:`reviewtui.events.EpochProgress`
events, which the CLI draws as one progress bar per epoch and the app as a bar on its training
screen. It is fed from the Trainer callback in :mod:`reviewtui.modeling.finetune`; it keeps no
reference to the trainer, so it is tested on its own.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from reviewtui.events import EpochProgress, EventSink, emit


class EpochMeter:
    """Emits EpochProgress for ``task`` after every step; at most every ``min_interval`` seconds
    except at the end of an epoch (so a fast GPU run does not flood the front end)."""

    def __init__(self, on_event: EventSink | None, task: str, *, epochs: int, steps_per_epoch: int,
                 batch_size: int, samples: int, min_interval: float = 0.2,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.on_event = on_event
        self.task = task
        self.epochs = max(1, int(epochs))
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.batch_size = max(1, int(batch_size))
        self.samples = int(samples)
        self.min_interval = float(min_interval)
        self.clock = clock
        self._epoch_started = clock()
        self._epoch = 1
        self._last_emit = -math.inf

    def step(self, global_step: int) -> EpochProgress | None:
        """Record that ``global_step`` steps are done (1-based, across epochs); returns the event
        emitted, or None when it was throttled."""
        epoch = min(self.epochs, (global_step - 1) // self.steps_per_epoch + 1)
        if epoch != self._epoch:
            self._epoch, self._epoch_started = epoch, self.clock()
            self._last_emit = -math.inf
        in_epoch = global_step - (epoch - 1) * self.steps_per_epoch
        now = self.clock()
        end = in_epoch >= self.steps_per_epoch
        if not end and now - self._last_emit < self.min_interval:
            return None
        self._last_emit = now
        elapsed = max(now - self._epoch_started, 1e-9)
        done_samples = min(self.samples, in_epoch * self.batch_size)
        rate = done_samples / elapsed
        left = (self.steps_per_epoch - in_epoch) * (elapsed / in_epoch) if in_epoch else float("nan")
        event = EpochProgress(self.task, epoch, self.epochs, in_epoch, self.steps_per_epoch, round(rate, 2),
                              round(max(0.0, left), 2))
        emit(self.on_event, event)
        if end:  # the next step starts a new epoch; its clock starts now, not at the next step
            self._epoch_started = now
            self._epoch = epoch + 1 if epoch < self.epochs else epoch
        return event
