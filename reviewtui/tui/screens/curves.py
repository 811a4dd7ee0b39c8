"""Per-category learning curves: for each training category its labels, its cross-validated F1
over the rounds (a sparkline) and its change, the weakest marked; the stop signal on top."""

from __future__ import annotations

from typing import Any, Sequence

from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewtui import presentation as say

SPARK = "▁▂▃▄▅▆▇█"
SPARK_ROUNDS = 24  # the last rounds a sparkline shows (half of them in the compact table)


def spark(values: Sequence[float]) -> str:
    """A sparkline of F1 values on the fixed 0-1 scale."""
    return "".join(SPARK[int(round(max(0.0, min(1.0, v)) * (len(SPARK) - 1)))] for v in values)


def curves_table(needs: Sequence[Any], curves: dict[str, list[tuple[int, float]]], taxonomy: Any, *,
                 compact: bool = False) -> Table:
    """Each category's labels, CV F1, sparkline and change. ``compact`` (a narrow terminal): less
    space between columns, a short header over a sparkline of the last rounds only, and the
    category and the weakest mark wrap rather than push the table past the dialog's edge."""
    table = Table(title="Per category: its labels now; CV F1 as of the last round", title_justify="left", box=None,
                  padding=(0, 1 if compact else 2))
    for col, justify, wraps in (("category", "left", True), ("labels", "right", False), ("CV F1", "right", False),
                                ("rounds" if compact else "over the rounds", "left", False),
                                ("change", "right", False), ("", "left", True)):
        table.add_column(col, justify=justify, no_wrap=not (compact and wraps))
    for n in needs:
        points = curves.get(n.key, [])
        table.add_row(Text(say.category_name(n.key, taxonomy)), f"{n.labels:,}", say.number(n.f1, 2),
                      spark([f for _, f in points[-(SPARK_ROUNDS // 2 if compact else SPARK_ROUNDS):]]),
                      f"{n.change:+.2f}" if n.change is not None else "-",
                      Text("needs labels most", style="bold") if n.weakest else "")
    return table


class CurvesTable(Static):
    """The per-category table, compact when the whole one is wider than the dialog."""

    def __init__(self, needs: Sequence[Any], curves: dict[str, list[tuple[int, float]]], taxonomy: Any) -> None:
        super().__init__(curves_table(needs, curves, taxonomy), id="curves-table")
        self.needs, self.curves, self.taxonomy = needs, curves, taxonomy

    def on_resize(self) -> None:
        whole = curves_table(self.needs, self.curves, self.taxonomy)
        console = self.app.console
        needed = Measurement.get(console, console.options.update_width(10_000), whole).maximum  # its width unwrapped
        self.update(whole if needed <= self.content_size.width else
                    curves_table(self.needs, self.curves, self.taxonomy, compact=True))


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
                yield CurvesTable(self.needs, self.curves, self.taxonomy)
                yield Static(Text("t in the labeling screen switches to the weakest strategy, which steers the queue "
                                  "to the category that needs labels most.", style="dim"))
            else:
                yield Static(Text("No round recorded yet: the curves start when the quick model is first fitted "
                                  "(label reviews of two categories).", style="dim"))
            yield Static(Text("escape: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
