"""Small modal dialogs: a yes/no confirmation and a one-line text prompt (the skip reason)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ConfirmDialog(ModalScreen[bool]):
    """Asks ``question``; dismisses with True on y/enter, False on n/escape."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question")
            yield Label("[b]y[/b] / enter: yes    [b]n[/b] / escape: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptDialog(ModalScreen["str | None"]):
    """Asks for one line of text; dismisses with the text (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, question: str, placeholder: str = "", suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.placeholder = placeholder
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question")
            field = Input(placeholder=self.placeholder, id="prompt-input")
            field.cursor_blink = getattr(self.app, "cursor_blink", True)
            yield field
            if self.suggestions:
                yield Label("e.g. " + ", ".join(self.suggestions) + "    enter: ok    escape: cancel",
                            classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
