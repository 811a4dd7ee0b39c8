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

from reviewtui.events import EpochProgress, EventSink, Notice, emit

#: a training whose steps left would take longer than this (seconds) says so, with the faster ways
LONG_TRAINING_S = 600.0
#: seconds of steps the pace is measured on before that is said
PACE_AFTER_S = 20.0


class EpochMeter:
    """Emits EpochProgress for ``task`` after every step; at most every ``min_interval`` seconds
    except at the end of an epoch (so a fast GPU run does not flood the front end).

    With ``long_run``, once ``pace_after_s`` seconds of steps have given the pace, a training whose
    steps left (every epoch's) would take more than ``long_run_s`` emits one Notice with the text
    ``long_run(seconds_left)``: the wait is said while it can still be stopped."""

    def __init__(self, on_event: EventSink | None, task: str, *, epochs: int, steps_per_epoch: int,
                 batch_size: int, samples: int, min_interval: float = 0.2,
                 clock: Callable[[], float] = time.perf_counter,
                 long_run: Callable[[float], str] | None = None, long_run_s: float | None = None,
                 pace_after_s: float | None = None) -> None:
        self.long_run = long_run
        self.long_run_s = float(LONG_TRAINING_S if long_run_s is None else long_run_s)
        self.pace_after_s = float(PACE_AFTER_S if pace_after_s is None else pace_after_s)
        self._first: tuple[int, float] | None = None  # (global step, time) of the first step seen
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
        if self.long_run is not None:
            self._pace(global_step)
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

    def _pace(self, global_step: int) -> None:
        """Say a long training once, from the pace of the steps since the first one seen."""
        now = self.clock()
        if self._first is None:
            self._first = (global_step, now)
            return
        steps, elapsed = global_step - self._first[0], now - self._first[1]
        if steps <= 0 or elapsed < self.pace_after_s:
            return
        left = (self.epochs * self.steps_per_epoch - global_step) * elapsed / steps
        said, self.long_run = self.long_run, None  # once, long or not: the pace is known now
        if left > self.long_run_s:
            emit(self.on_event, Notice("info", said(left)))
