"""The labeling screen's search and filter bar: one line saying what the queue is filtered by, and
an input that opens on ``/`` (full-text search) or ``f`` (``KEY=VALUE`` filters)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

HINT = "/ search · f filter · L curves"  # (the filter's examples are in its input)


class FilterBar(Vertical):
    """The filter line and its input (hidden until :meth:`open`). Enter posts
    :class:`FilterBar.Submitted`; escape closes the input and changes nothing."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar #filter-line { height: 1; padding: 0 1; color: $text-muted; }
    FilterBar.-filtered #filter-line { color: $text-accent; text-style: bold; height: auto; max-height: 3; }
    FilterBar #filter-input { margin: 0 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close the search", show=False, id="filterbar.close")]

    class Submitted(Message):
        """The user entered a search (``kind`` "search") or filters ("filter"); ``value`` may be
        empty: that kind is cleared."""

        def __init__(self, kind: str, value: str) -> None:
            super().__init__()
            self.kind = kind
            self.value = value

    def __init__(self) -> None:
        super().__init__(id="filter-bar")
        self.kind = ""

    def compose(self) -> ComposeResult:
        yield Static(HINT, id="filter-line", markup=False)
        field = Input(id="filter-input")
        field.cursor_blink = getattr(self.app, "cursor_blink", True)
        field.display = False  # until / or f
        yield field

    @property
    def editing(self) -> bool:
        return self.has_class("-editing")

    def open(self, kind: str, value: str, placeholder: str) -> None:
        """Show the input for ``kind`` holding ``value`` and focus it."""
        self.kind = kind
        field = self.query_one("#filter-input", Input)
        field.value = value
        field.placeholder = placeholder
        self.add_class("-editing")
        field.display = True
        field.focus()

    def show(self, text: str | None) -> None:
        """The line: ``text`` (what the queue is filtered by), or the keys when it is not."""
        self.set_class(bool(text), "-filtered")
        self.query_one("#filter-line", Static).update(text or HINT)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        kind = self.kind
        self.action_close()
        self.post_message(self.Submitted(kind, event.value.strip()))

    def action_close(self) -> None:
        self.remove_class("-editing")
        self.query_one("#filter-input", Input).display = False
        self.screen.set_focus(None)
