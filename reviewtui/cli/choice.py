"""The live display of ``reviewtui train --auto``: the candidates' comparison, updated in place as
each one is cross-validated (fed by TrialUpdate events), the current fine-tune's epoch bar (fed by
EpochProgress) and the latest notices, on stderr while the choice runs in a thread."""

from __future__ import annotations

import threading
from typing import Any, Callable

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.text import Text

from reviewtui import presentation as say
from reviewtui.cli.render import comparison_table
from reviewtui.cli.tables import Table
from reviewtui.events import EpochProgress, Notice, TrialUpdate


class CandidateBoard:
    """The comparison table keyed by candidate; ``render()`` draws it with the epoch bar of the
    running fine-tune under it. ``cancelling`` is set by the runner on Ctrl-C."""

    def __init__(self, budget_s: float | None, metric: str = "f1_macro") -> None:
        self.budget_s = budget_s
        self.metric = metric
        self.rows: dict[str, dict[str, Any]] = {}
        self.epoch: EpochProgress | None = None
        self.notes: list[str] = []
        self.lock = threading.Lock()
        self.cancelling = False
        self.echo: Callable[[Any], None] | None = None  # where set (a log, a pipe), every event too

    def __call__(self, event: Any) -> None:
        if self.echo is not None:
            self.echo(event)
        with self.lock:
            if isinstance(event, TrialUpdate):
                row = say.candidate_row(event)
                if event.status == "RUNNING" and not row["mean"] and event.trial_id in self.rows:
                    # a fold finished: keep the description, update the count and the time
                    self.rows[event.trial_id].update(folds_done=row["folds_done"], seconds=row["seconds"])
                else:
                    self.rows[event.trial_id] = row
            elif isinstance(event, EpochProgress):
                self.epoch = event
            elif isinstance(event, Notice):
                self.notes = (self.notes + [event.text])[-3:]

    def render(self) -> Group:
        with self.lock:
            rows = [dict(r) for r in self.rows.values()]
            epoch, notes = self.epoch, list(self.notes)
        budget = f", budget {say.elapsed(self.budget_s)}" if self.budget_s else ""
        parts: list[Any] = [comparison_table({"metric": self.metric, "method": f"cross-validation{budget}"}, rows)]
        if epoch is not None and any(r["status"] == "running" for r in rows):
            line = Table.grid(padding=(0, 1))
            line.add_row(ProgressBar(total=epoch.steps, completed=epoch.step, width=30),
                         Text(say.epoch_progress_text(epoch)))
            parts.append(line)
        parts += [Text(n, style="dim") for n in notes]
        if self.cancelling:
            parts.append(Text("cancelling: stopping the running candidate…", style="yellow"))
        return Group(*parts)
