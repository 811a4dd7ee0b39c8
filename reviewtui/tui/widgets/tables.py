"""The app's data tables: a DataTable that shows every string cell and column label as written.

A DataTable reads a string cell as markup, and what the tables hold is the team's data: a
category named "[/]" or "fees [beta]", an app id or a review with brackets in it is text (an
unbalanced "[/]" stopped the app with a MarkupError; "[b]" lost its brackets). A cell that should be
styled is given as a ``rich.text.Text``, which is kept as it is."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.widgets import DataTable


def plain(value: Any) -> Any:
    """A string with its markup escaped, so that it shows as written; anything else as it is."""
    return escape(value) if isinstance(value, str) else value


class PlainTable(DataTable):
    """A DataTable whose string cells and column labels are shown as written (:func:`plain`)."""

    def add_column(self, label: Any, *args: Any, **kwargs: Any) -> Any:
        return super().add_column(plain(label), *args, **kwargs)

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(plain(c) for c in cells), **kwargs)

    def _update_dimensions(self, new_rows: Any) -> None:
        # The columns are measured again when the app is next idle; a frame drawn between the rows'
        # arrival and then keeps its lines (the header at the old widths above rows at the new ones,
        # on a busy machine), for DataTable's line caches do not know the widths: drawn again
        widths = [c.get_render_width(self) for c in self.ordered_columns]
        super()._update_dimensions(new_rows)
        if widths != [c.get_render_width(self) for c in self.ordered_columns]:
            self._clear_caches()
            self.refresh()

    def update_cell(self, row_key: Any, column_key: Any, value: Any, *args: Any, **kwargs: Any) -> None:
        # (DataTable's update_cell_at calls this: a value is escaped once, whichever is used)
        super().update_cell(row_key, column_key, plain(value), *args, **kwargs)
