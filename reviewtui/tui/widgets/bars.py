"""Small horizontal bar charts (counts by status, by label) drawn with block characters."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static


def bar(n: float, total: float, width: int) -> str:
    filled = round(width * n / total) if total else 0
    filled = max(0, min(width, filled))
    return "█" * filled + "·" * (width - filled)


class BarChart(Static):
    """``name  ████····  count`` rows; ``colours`` maps a row name to a style (taxonomy colours)."""

    DEFAULT_CSS = """
    BarChart { height: auto; }
    """

    def __init__(self, title: str = "", *, bar_width: int = 16, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.bar_width = bar_width
        self._data: dict[str, int] = {}
        self._colours: dict[str, str] = {}

    def set_data(self, data: dict[str, int], colours: dict[str, str] | None = None,
                 total: int | None = None) -> None:
        self._data = dict(data)
        self._colours = dict(colours or {})
        self._total = total if total is not None else sum(data.values())
        self.update(self._table())

    def _table(self) -> Table | Text:
        if not self._data:
            return Text("nothing yet", style="dim")
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for name, n in self._data.items():
            table.add_row(Text(name), Text(bar(n, self._total, self.bar_width), style=self._colours.get(name, "")),
                          Text(str(n)))
        return table
