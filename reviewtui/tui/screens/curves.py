"""Per-category learning curves: for each training category its labels, its cross-validated F1
over the rounds (a sparkline) and its change, the weakest marked; the stop signal on top."""

from __future__ import annotations

from typing import Any, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewtui import presentation as say

SPARK = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float]) -> str:
    """A sparkline of F1 values on the fixed 0-1 scale."""
    return "".join(SPARK[int(round(max(0.0, min(1.0, v)) * (len(SPARK) - 1)))] for v in values)


def curves_table(needs: Sequence[Any], curves: dict[str, list[tuple[int, float]]], taxonomy: Any) -> Table:
    table = Table(title="Per category (cross-validated on the labels so far)", title_justify="left", box=None,
                  padding=(0, 2))
    for col, justify in (("category", "left"), ("labels", "right"), ("CV F1", "right"), ("over the rounds", "left"),
                         ("change", "right"), ("", "left")):
        table.add_column(col, justify=justify, no_wrap=True)
    for n in needs:
        points = curves.get(n.key, [])
        table.add_row(say.category_name(n.key, taxonomy), f"{n.labels:,}", say.number(n.f1, 2),
                      spark([f for _, f in points[-24:]]),
                      f"{n.change:+.2f}" if n.change is not None else "-",
                      Text("needs labels most", style="bold") if n.weakest else "")
    return table


class LearningCurvesScreen(ModalScreen[None]):
    """The stop signal and each category's learning curve (``summary``: StopSummary; ``needs``:
    CategoryNeed list; ``curves``: category -> [(labels, F1)])."""

    BINDINGS = [Binding("escape,q,L", "close", "Close", id="curves.close")]

    def __init__(self, summary: Any, needs: Sequence[Any], curves: dict[str, list[tuple[int, float]]],
                 taxonomy: Any) -> None:
        super().__init__(classes="dialog")
        self.summary = summary
        self.needs = list(needs)
        self.curves = curves
        self.taxonomy = taxonomy

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box", id="curves-box"):
            yield Static(Text(say.stop_line(self.summary)), id="curves-stop")
            if self.needs:
                yield Static(curves_table(self.needs, self.curves, self.taxonomy), id="curves-table")
                yield Static(Text("t in the labeling screen switches to the weakest strategy, which steers the queue "
                                  "to the category that needs labels most.", style="dim"))
            else:
                yield Static(Text("No round recorded yet: the curves start when the quick model is first fitted "
                                  "(label reviews of two categories).", style="dim"))
            yield Static(Text("escape: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
