"""The live trial table: one row per Ray Tune trial, keyed by trial id, updated in place."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from reviewtui.events import TrialUpdate

COLUMNS = [("trial", "trial", 10), ("status", "status", 10), ("params", "params", 34), ("iter", "iter", 4),
           ("accuracy", "acc", 6), ("loss", "loss", 6), ("elapsed", "elapsed", 7), ("early", "early", 5)]
SHORT = {"learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "weight_decay": "wd", "warmup_ratio": "wu",
         "seed": "seed", "model": "", "quick_C": "C"}


def params_text(config: dict[str, Any]) -> str:
    """``minilm lr=3e-05 bs=16 ep=3``: the model first, then only the parameters it uses (the quick
    model uses C alone; the transformers everything but C)."""
    parts = []
    quick = config.get("model") == "quick"
    ordered = sorted(config.items(), key=lambda kv: kv[0] != "model")
    for key, value in ordered:
        if key != "model" and "model" in config and (key == "quick_C") != quick:
            continue
        if isinstance(value, float):
            value = f"{value:.2g}"
        name = SHORT.get(key, key)
        parts.append(f"{name}={value}" if name else str(value))
    return " ".join(parts)


def metric_text(value: Any, digits: int = 3) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.{digits}f}"
    return "-"


def elapsed_text(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class TrialTable(DataTable):
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

    @staticmethod
    def score(update: TrialUpdate) -> float | None:
        acc = update.metrics.get("accuracy")
        if not isinstance(acc, (int, float)) or update.status == "ERROR":
            return None
        loss = update.metrics.get("loss", 0.0)
        return float(acc) - 1e-3 * (loss if isinstance(loss, (int, float)) and math.isfinite(loss) else 1e3)

    def cells(self, u: TrialUpdate) -> dict[str, Any]:
        best = u.trial_id == self.best_id
        style = "bold" if best else ""
        status = u.status if not u.error else f"{u.status}: {u.error}"
        values = {"trial": ("★ " if best else "  ") + u.trial_id, "status": status, "params": params_text(u.config),
                  "iter": str(u.iteration), "accuracy": metric_text(u.metrics.get("accuracy")),
                  "loss": metric_text(u.metrics.get("loss")), "elapsed": elapsed_text(u.elapsed),
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
        scored = [(s, tid) for tid, u in self.trials.items() if (s := self.score(u)) is not None]
        best = max(scored)[1] if scored else None
        if best == self.best_id:
            return
        old, self.best_id = self.best_id, best
        for tid in (old, best):
            if tid is not None and tid in self.trials:
                for key, value in self.cells(self.trials[tid]).items():
                    self.update_cell(tid, key, value)
