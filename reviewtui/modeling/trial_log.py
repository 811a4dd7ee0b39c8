"""The record of one search as its trials report: each trial's latest :class:`TrialUpdate`, its exact
configuration, and its best report so far by the search objective.

"Best" has one meaning everywhere: a trial's best is its report with the highest
:func:`~reviewtui.modeling.metrics.search_objective` so far (not its last report, which ASHA or a
bad epoch may have made worse), and the search's best trial is the one whose best is highest.
Every TrialUpdate sent carries the trial's best (``TrialUpdate.best``), so the live table, its star,
the summary and the retrained model agree. No Ray here: the Ray Tune callback in
:mod:`reviewtui.modeling.trial_events` feeds a SearchLog.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from reviewtui.events import EventSink, Progress, TrialUpdate, emit
from reviewtui.modeling.metrics import SEARCH_METRIC

#: Statuses a trial ends in.
FINISHED = ("TERMINATED", "STOPPED", "ERROR")


@dataclass(frozen=True)
class BestReport:
    """A trial's best validation report so far: its objective, metrics and training iteration (epoch)."""

    objective: float
    metrics: dict[str, float]
    iteration: int


@dataclass
class SearchLog:
    """The driver-side record of one search; every update goes through :meth:`send`, which stamps
    the trial's best report on it, emits it to ``sink`` with Progress("tune", finished, total)."""

    sink: EventSink | None = None
    cancel: threading.Event | None = None
    total: int = 0
    gpus: bool = False
    rows: dict[str, TrialUpdate] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # exact, for replaying a trial
    best: dict[str, BestReport] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def send(self, update: TrialUpdate, config: dict[str, Any] | None = None) -> TrialUpdate:
        """Record ``update`` (``config``: the trial's exact configuration, kept the first time) and
        emit it with the trial's best report; returns the update as sent."""
        with self.lock:
            if config is not None and update.trial_id not in self.configs:
                self.configs[update.trial_id] = dict(config)
            best = self.best.get(update.trial_id)
            update = replace(update, best=dict(best.metrics) if best else {})
            if update.trial_id not in self.rows:
                self.order.append(update.trial_id)
            self.rows[update.trial_id] = update
            finished = sum(1 for r in self.rows.values() if r.status in FINISHED)
        emit(self.sink, update)
        emit(self.sink, Progress("tune", finished, self.total))
        return update

    def report(self, update: TrialUpdate, config: dict[str, Any] | None = None) -> TrialUpdate:
        """Record a validation report (``update.metrics`` with the objective): it becomes the trial's
        best when its objective beats the trial's earlier reports. Returns the update as sent."""
        if SEARCH_METRIC in update.metrics:
            with self.lock:
                prev = self.best.get(update.trial_id)
                if prev is None or update.metrics[SEARCH_METRIC] > prev.objective:
                    self.best[update.trial_id] = BestReport(float(update.metrics[SEARCH_METRIC]),
                                                            dict(update.metrics), int(update.iteration))
        return self.send(update, config)

    def latest(self, trial_id: str) -> TrialUpdate | None:
        """The trial's latest update, or None before its first."""
        return self.rows.get(trial_id)

    def best_trial_id(self) -> str | None:
        """The trial whose best report has the highest objective (the earliest to report wins a tie);
        None while no trial has reported."""
        with self.lock:
            if not self.best:
                return None
            return max(self.best, key=lambda k: self.best[k].objective)

    def close_unfinished(self, why: str | None) -> None:
        """Mark trials still PENDING or RUNNING as STOPPED (a cancel or a spent time budget ends them
        without a completion callback), with ``why`` as their error text."""
        for key in list(self.order):
            row = self.rows[key]
            if row.status in ("PENDING", "RUNNING"):
                self.send(replace(row, status="STOPPED", early_stopped=False, error=why))

    def trials(self) -> list[TrialUpdate]:
        """Each trial's latest update, in the order the trials appeared."""
        return [self.rows[k] for k in self.order]

    def exact_configs(self) -> list[dict[str, Any]]:
        """Each trial's exact configuration, in the order of :meth:`trials`."""
        return [dict(self.configs.get(k, {})) for k in self.order]
