"""Horizontal bar charts drawn with block characters: counts by status, by label, by category.

Each bar is one line holding its name, its bar and its count, so a name always stands beside its
own bar. (A chart that plots bars on an axis and writes the names as its ticks rounds both to rows
separately: with fewer rows than bars, or a bar that spans two rows, a name ends up beside a
neighbour's bar.) A chart given less height than it has bars scrolls.
"""

from __future__ import annotations

from typing import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from reviewtui.presentation import bar, short_names

#: The characters of a stacked bar's parts, in order (they tell the parts apart without colour).
PART_MARKS = ("█", "▒", "░", "▓")


def amount(value: float) -> str:
    """A count as a bar's number: ``1,204``, or ``3.5`` for a weighted count that is not whole."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


class BarRows(Static):
    """The rows of a :class:`BarChart`, drawn again for their width whenever it changes."""

    def on_resize(self) -> None:
        parent = self.parent
        if isinstance(parent, BarChart):
            self.update(parent.rows(self.content_size.width))


class BarChart(VerticalScroll):
    """``name  ████····  count`` rows; ``colours`` maps a row name to a style (taxonomy colours).
    Bars are ``n / total`` long (``total``: the sum by default; the largest value draws the
    longest bar possible)."""

    DEFAULT_CSS = """
    BarChart { height: auto; scrollbar-size-vertical: 1; }
    BarChart > BarRows { height: auto; }
    """

    def __init__(self, title: str = "", *, bar_width: int = 16, id: str | None = None, classes: str | None = None,
                 can_focus: bool = False) -> None:
        super().__init__(id=id, classes=classes, can_focus=can_focus)
        self.border_title = title
        self.bar_width = bar_width
        self._data: dict[str, float] = {}
        self._colours: dict[str, str] = {}
        self._total: float = 0

    def compose(self) -> ComposeResult:
        yield BarRows()

    def set_data(self, data: dict[str, float], colours: dict[str, str] | None = None,
                 total: float | None = None) -> None:
        self._data = dict(data)
        self._colours = dict(colours or {})
        self._total = total if total is not None else sum(data.values())
        self.redraw()

    def redraw(self) -> None:
        for rows in self.query_children(BarRows):
            rows.update(self.rows(rows.content_size.width))

    def bar_text(self, name: str, width: int) -> Text:
        """The bar of row ``name``, ``width`` characters."""
        return Text(bar(self._data[name], self._total, width), style=self._colours.get(name, ""))

    def rows(self, width: int) -> Table | Text:
        """The chart at ``width`` columns: a name, a bar and a count a line."""
        if not self._data:
            return Text("nothing yet", style="dim")
        name_w = max(len(k) for k in self._data)
        counts = {name: amount(n) for name, n in self._data.items()}
        count_w = max(len(c) for c in counts.values())
        space = width - count_w - 2  # for the name and the bar
        name_w = min(name_w, max(6, space - 6))  # a name read before a longer bar (six cells still compare)
        bar_w = max(4, min(self.bar_width * 2, space - name_w)) if space > 0 else self.bar_width
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, width=name_w)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for name, label in zip(self._data, short_names(list(self._data), name_w)):
            table.add_row(Text(label), self.bar_text(name, bar_w), Text(counts[name]))
        return table


class StackedBarChart(BarChart):
    """Bars in parts (a category's reviews by sentiment): each part drawn with its own character
    and style, named in the legend under the chart; the count is the bar's total. The longest bar
    is the largest total."""

    def __init__(self, title: str = "", **kwargs) -> None:
        super().__init__(title, **kwargs)
        self._parts: list[str] = []
        self._stacks: dict[str, list[float]] = {}
        self._part_styles: dict[str, str] = {}

    def set_stacks(self, stacks: dict[str, Sequence[float]], parts: Sequence[str],
                   styles: dict[str, str] | None = None) -> None:
        """``stacks``: row name -> its value for each of ``parts``; ``styles``: part -> style."""
        self._parts = [str(p) for p in parts]
        self._stacks = {name: [float(v) for v in values] for name, values in stacks.items()}
        self._part_styles = dict(styles or {})
        self.border_subtitle = self.legend()
        totals = {name: sum(values) for name, values in self._stacks.items()}
        self.set_data(totals, total=max(totals.values(), default=0))

    def legend(self) -> Text:
        """Each part's mark and name (their first three letters when the whole line is too wide)."""
        def line(short: bool) -> Text:
            out = Text()
            for i, part in enumerate(self._parts):
                out.append(" " if i else "")
                out.append(PART_MARKS[i % len(PART_MARKS)], style=self._part_styles.get(part, ""))
                out.append(f" {part[:3] if short else part}")
            return out

        whole = line(False)
        return whole if whole.cell_len < self.size.width else line(True)  # the border spans the padding too

    def on_resize(self) -> None:
        self.border_subtitle = self.legend()

    def bar_text(self, name: str, width: int) -> Text:
        out = Text()
        scale = width / self._total if self._total else 0.0
        drawn, running = 0, 0.0
        for i, (part, value) in enumerate(zip(self._parts, self._stacks[name])):
            running += value
            end = max(drawn, min(width, round(running * scale)))  # rounded at the running total: no gap, no overlap
            out.append(PART_MARKS[i % len(PART_MARKS)] * (end - drawn), style=self._part_styles.get(part, ""))
            drawn = end
        out.append("·" * (width - drawn))
        return out
