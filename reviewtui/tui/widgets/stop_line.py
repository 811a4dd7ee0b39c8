"""The stop signal in one line: a kappa sparkline and what it says ("predictions stable for 3
rounds: further labels change little")."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from reviewtui import presentation as say


class StopLine(Static):
    """One line under the review and the side panel; lit when the signal says stop. :meth:`show` takes a
    ``loop.stopping.StopSummary``."""

    DEFAULT_CSS = """
    StopLine { height: auto; padding: 0 1; color: $text-muted; }
    StopLine.-stop { color: $success; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__("", id="stop-line", markup=False)
        self.summary: Any = None

    def show(self, summary: Any) -> None:
        self.summary = summary
        self.set_class(bool(summary.stop), "-stop")
        self.update(say.stop_line(summary))
