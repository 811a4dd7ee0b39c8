"""The live trial table: one row per Ray Tune trial, keyed by trial id, updated in place.

``acc`` and ``loss`` are the trial's latest report, ``best`` the accuracy of its best report so
far (``TrialUpdate.best``); the starred row is the trial whose best report has the highest search
objective: the trial the closing summary names and the one a save retrains.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from reviewtui import presentation as say
from reviewtui.events import TrialUpdate
from reviewtui.tui.widgets.tables import PlainTable

COLUMNS = [("trial", "trial", 10), ("status", "status", 10), ("params", "params", 26), ("iter", "iter", 4),
           ("accuracy", "acc", 6), ("loss", "loss", 6), ("best", "best", 6), ("elapsed", "elapsed", 7),
           ("early", "early", 5)]


class TrialTable(PlainTable):
    """``upsert(update)`` adds a trial's row or rewrites its cells; the best trial is starred and bold."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.trials: dict[str, TrialUpdate] = {}
        self.best_id: str | None = None

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def reset(self) -> None:
        """Forget the trials of a previous search (a new search starts a new table)."""
        self.clear()
        self.trials.clear()
        self.best_id = None

    def cells(self, u: TrialUpdate) -> dict[str, Any]:
        best = u.trial_id == self.best_id
        style = "bold" if best else ""
        status = say.trial_status_word(u.status) + (f": {u.error}" if u.error else "")
        values = {"trial": ("★ " if best else "  ") + u.trial_id, "status": status,
                  "params": say.params_text(u.config), "iter": str(u.iteration),
                  "accuracy": say.number(u.metrics.get("accuracy")), "loss": say.number(u.metrics.get("loss")),
                  "best": say.trial_best_text(u), "elapsed": say.elapsed(u.elapsed),
                  "early": "yes" if u.early_stopped else ""}
        return {k: Text(v, style=style, no_wrap=True, overflow="ellipsis") for k, v in values.items()}

    def upsert(self, update: TrialUpdate) -> None:
        self.trials[update.trial_id] = update
        if update.trial_id in self.rows:
            for key, value in self.cells(update).items():
                self.update_cell(update.trial_id, key, value)
        else:
            cells = self.cells(update)
            self.add_row(*(cells[k] for k, _l, _w in COLUMNS), key=update.trial_id)
        self.update_best()

    def update_best(self) -> None:
        best = say.best_trial_id(self.trials.values())
        if best == self.best_id:
            return
        old, self.best_id = self.best_id, best
        for tid in (old, best):
            if tid is not None and tid in self.trials:
                for key, value in self.cells(self.trials[tid]).items():
                    self.update_cell(tid, key, value)
