"""The comparison of a model choice (the tuning screen's ``t`` and ``a``): one row per candidate,
keyed by its name and updated in place from its TrialUpdates (folds done, the cross-validated mean ±
spread, its time); the best finished candidate is starred. The cells are the CLI's
(:func:`reviewtui.presentation.candidate_cells`)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from reviewtui import presentation as say
from reviewtui.events import TrialUpdate
from reviewtui.tui.widgets.tables import PlainTable

#: The columns shown (the CLI's, less the description, which does not fit 100 columns) and their widths.
WIDTHS = {"candidate": 24, "status": 12, "folds": 5, "metric": 13, "accuracy": 13, "choice": 8, "time": 6}
COLUMNS = [(key, label) for key, label in say.CANDIDATE_COLUMNS if key in WIDTHS]


class CandidateTable(PlainTable):
    """``upsert(update)`` adds a candidate's row or rewrites its cells; ``show_comparison(table)``
    shows a finished choice's table (``Selection.table()``) as it is saved in the model card."""

    def __init__(self, metric: str = "f1_macro", **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.metric = metric
        self.candidates: dict[str, dict[str, Any]] = {}
        self.winner: str | None = None

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            if key == "metric":
                label = say.METRIC_NAMES.get(self.metric, self.metric)
            self.add_column(label, key=key, width=WIDTHS[key])

    def reset(self) -> None:
        self.clear()
        self.candidates.clear()
        self.winner = None

    def cells(self, row: dict[str, Any]) -> list[Text]:
        cells = say.candidate_cells(row, self.metric, self.winner)
        style = "bold" if row.get("candidate") == self.winner else ""
        return [Text(cells[k], style=style, no_wrap=True, overflow="ellipsis") for k, _ in COLUMNS]

    def put(self, row: dict[str, Any]) -> None:
        key = str(row["candidate"])
        self.candidates[key] = row
        if key in self.rows:
            for (column, _), cell in zip(COLUMNS, self.cells(row)):
                self.update_cell(key, column, cell)
        else:
            self.add_row(*self.cells(row), key=key)

    def upsert(self, update: TrialUpdate) -> None:
        row = say.candidate_row(update)
        old = self.candidates.get(update.trial_id)
        if old is not None and update.status == "RUNNING" and not row["mean"]:
            row = {**old, "folds_done": row["folds_done"], "seconds": row["seconds"]}  # a fold finished
        self.put(row)
        self.update_winner(say.winner_key(self.candidates.values(), self.metric))

    def show_comparison(self, table: dict[str, Any]) -> None:
        self.metric = table.get("metric", self.metric)
        self.reset()
        self.winner = table.get("winner")
        for row in table.get("rows", []):
            self.put(row)

    def update_winner(self, winner: str | None) -> None:
        if winner == self.winner:
            return
        old, self.winner = self.winner, winner
        for key in (old, winner):
            if key is not None and key in self.candidates:
                self.put(self.candidates[key])
