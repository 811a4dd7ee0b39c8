"""The CLI's tables: rich's Table, with every text cell, column header and title shown as written.

What the tables hold is the team's data (category names, app ids, review texts, file names): a
category named "[/]" or "praise [b]great[/b]", or a review with ":smile:" in it, is text, not rich
markup nor an emoji code. A cell that should be styled is given as a ``rich.text.Text``."""

from __future__ import annotations

from typing import Any

from rich import table
from rich.text import Text


def plain(value: Any) -> Any:
    """``value`` as text shown as written when it is a string; any other renderable as it is."""
    return Text(value) if isinstance(value, str) else value


class Table(table.Table):
    """A rich Table whose string cells, headers, title and caption are plain text (:func:`plain`; a
    title names an app: "Per app version of bank [/] app")."""

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any) -> None:
        # a Text title or caption takes no style of the table's: it is given the one rich gives a str
        if isinstance(title, str):
            title = Text(title, style=kwargs.get("title_style") or "table.title")
        if isinstance(caption, str):
            caption = Text(caption, style=kwargs.get("caption_style") or "table.caption")
        super().__init__(*headers, title=title, caption=caption, **kwargs)

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(plain(header), *args, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(plain(r) for r in renderables), **kwargs)
