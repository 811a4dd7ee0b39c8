"""Ray Tune callback and stopper that feed reviewtui's live trial table (imports ray: load lazily).

They live in their own module so Ray pickles them by reference: the driver-side record of a search
(a :class:`~reviewtui.modeling.trial_log.SearchLog`: the event sink, the cancel event, the rows so
far, each trial's best report) stays in ``SESSIONS`` and is found by session id.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from ray.tune import Callback, Stopper

from reviewtui.events import TrialUpdate
from reviewtui.modeling.metrics import SEARCH_METRIC
from reviewtui.modeling.trial_log import SearchLog

REPORTED = ("accuracy", "f1_weighted", "f1_macro", "loss", SEARCH_METRIC)

SESSIONS: dict[str, SearchLog] = {}
_ids = itertools.count(1)


def new_session_id() -> str:
    return f"s{next(_ids)}-{os.getpid()}"


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """Trial config with numpy scalars made plain and floats rounded to 4 significant digits."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float):
            value = float(f"{value:.4g}")
        out[key] = value
    return out


def plain_config(config: dict[str, Any]) -> dict[str, Any]:
    """Trial config with numpy scalars made plain, values unchanged (for replaying the trial)."""
    return {key: (value.item() if hasattr(value, "item") else value) for key, value in config.items()}


def error_text(trial) -> str:
    """The last line of a failed trial's traceback ("SomeError: message"), at most 300 characters."""
    text = ""
    try:
        text = str(trial.get_error() or "")
    except Exception:
        text = ""
    if not text and getattr(trial, "error_file", None):
        try:
            text = Path(trial.error_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "trial failed")[:300]


class TrialEvents(Callback):
    """Turns Ray Tune trial starts, results, completions and errors into TrialUpdate events."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    @property
    def session(self) -> SearchLog | None:
        return SESSIONS.get(self.session_id)

    def _gpus(self):
        s = self.session
        if s is None or not s.gpus:
            return ()
        from reviewtui.modeling.gpu import gpu_stats

        return gpu_stats()

    def _last_metrics(self, trial_id: str) -> dict[str, float]:
        s = self.session
        prev = s.latest(trial_id) if s else None
        return dict(prev.metrics) if prev else {}

    def on_step_begin(self, iteration, trials, **info):
        s = self.session
        if s is None:
            return
        for trial in trials:  # trials the searcher created but that wait for resources
            if trial.trial_id not in s.rows and str(trial.status) == "PENDING":
                s.send(TrialUpdate(trial.trial_id, "PENDING", clean_config(trial.config)), plain_config(trial.config))

    def on_trial_start(self, iteration, trials, trial, **info):
        s = self.session
        if s is not None:
            s.send(TrialUpdate(trial.trial_id, "RUNNING", clean_config(trial.config), gpus=self._gpus()),
                   plain_config(trial.config))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        s = self.session
        if s is None:
            return
        metrics = {k: float(result[k]) for k in REPORTED if isinstance(result.get(k), (int, float))}
        it = int(result.get("training_iteration", 0) or 0)
        s.report(TrialUpdate(trial.trial_id, "RUNNING", clean_config(trial.config), it, metrics,
                             float(result.get("time_total_s", 0.0) or 0.0), gpus=self._gpus()),
                 plain_config(trial.config))

    def on_trial_complete(self, iteration, trials, trial, **info):
        s = self.session
        if s is None:
            return
        last = dict(trial.last_result or {})
        it = int(last.get("training_iteration", 0) or 0)
        planned = int(last.get("planned_epochs", it) or it)
        early = it < planned and not s.cancelled  # ASHA stopped it before its last epoch
        status = "STOPPED" if it < planned else "TERMINATED"
        s.send(TrialUpdate(trial.trial_id, status, clean_config(trial.config), it,
                           self._last_metrics(trial.trial_id), float(last.get("time_total_s", 0.0) or 0.0),
                           early_stopped=early, gpus=self._gpus()))

    def on_trial_error(self, iteration, trials, trial, **info):
        s = self.session
        if s is None:
            return
        last = dict(trial.last_result or {})
        s.send(TrialUpdate(trial.trial_id, "ERROR", clean_config(trial.config),
                           int(last.get("training_iteration", 0) or 0), self._last_metrics(trial.trial_id),
                           float(last.get("time_total_s", 0.0) or 0.0), error=error_text(trial)))


class CancelStopper(Stopper):
    """Stops every trial once the session's cancel event is set."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    def _cancelled(self) -> bool:
        s = SESSIONS.get(self.session_id)
        return bool(s and s.cancelled)

    def __call__(self, trial_id, result) -> bool:
        return self._cancelled()

    def stop_all(self) -> bool:
        return self._cancelled()
