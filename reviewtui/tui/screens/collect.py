"""The collect form: which Google Play apps, how many reviews, in which order. It only gathers the
answers; the status screen runs the collect (``Workspace.collect``) in a worker."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select


@dataclass(frozen=True)
class CollectRequest:
    """What the form asks for, as typed (the core reads and checks it)."""

    app_ids: str
    count: str
    sort: str


class CollectDialog(ModalScreen["CollectRequest | None"]):
    """Asks for app ids, a count and the sort; enter or ctrl+s starts, escape closes."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start collecting", priority=True, id="collect.start"),
        Binding("escape", "cancel", "Close", id="collect.close"),
    ]

    def __init__(self, sort: str = "newest", app_ids: str = "") -> None:
        super().__init__(classes="dialog")
        self.sort = sort
        self.app_ids = app_ids

    def compose(self) -> ComposeResult:
        blink = getattr(self.app, "cursor_blink", True)
        with Vertical(classes="dialog-box", id="collect-box"):
            yield Label("Collect reviews from Google Play", classes="dialog-question")
            apps = Input(self.app_ids, placeholder="com.example.app, com.other.app", id="collect-apps")
            count = Input("200", placeholder="a number, or all", id="collect-count")
            for field in (apps, count):
                field.cursor_blink = blink
            yield Label("app ids (from the store address, ?id=...)")
            yield apps
            with Horizontal(id="collect-options"):
                with Vertical(classes="field"):
                    yield Label("new reviews per app")
                    yield count
                with Vertical(classes="field"):
                    yield Label("order")
                    yield Select([("newest first", "newest"), ("most relevant", "relevant")], value=self.sort,
                                 allow_blank=False, id="collect-sort", compact=True)
            yield Label("enter or ctrl+s: collect (then esc on the status screen cancels)    esc: close",
                        classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        sort = self.query_one("#collect-sort", Select).value
        self.dismiss(CollectRequest(self.query_one("#collect-apps", Input).value.strip(),
                                    self.query_one("#collect-count", Input).value.strip(),
                                    str(sort) if isinstance(sort, str) else "newest"))

    def action_cancel(self) -> None:
        self.dismiss(None)
