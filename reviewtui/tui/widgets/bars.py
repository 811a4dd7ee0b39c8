"""Small horizontal bar charts (counts by status, by label) drawn with block characters."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from reviewtui.presentation import bar


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
        self._total = 0

    def on_resize(self) -> None:
        self.update(self._table())

    def set_data(self, data: dict[str, int], colours: dict[str, str] | None = None,
                 total: int | None = None) -> None:
        self._data = dict(data)
        self._colours = dict(colours or {})
        self._total = total if total is not None else sum(data.values())
        self.update(self._table())

    def _table(self) -> Table | Text:
        if not self._data:
            return Text("nothing yet", style="dim")
        name_w = max(len(k) for k in self._data)
        count_w = max(len(str(v)) for v in self._data.values())
        space = self.content_size.width - count_w - 2  # for the name and the bar
        name_w = min(name_w, max(6, space - 8))
        width = max(4, min(self.bar_width * 2, space - name_w)) if space > 0 else self.bar_width
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, width=name_w, overflow="ellipsis")
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for name, n in self._data.items():
            table.add_row(Text(name), Text(bar(n, self._total, width), style=self._colours.get(name, "")),
                          Text(str(n)))
        return table
