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
            yield Label(self.question, classes="dialog-question", markup=False)
            yield Label("[b]y[/b] / enter: yes    [b]n[/b] / escape: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptDialog(ModalScreen["str | None"]):
    """Asks for one line of text; dismisses with the text (enter) or None (escape). With
    ``required`` (what to say), enter on an empty line says it and keeps the dialog open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, question: str, placeholder: str = "", suggestions: tuple[str, ...] = (),
                 required: str = "") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.placeholder = placeholder
        self.suggestions = suggestions
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question", markup=False)
            field = Input(placeholder=self.placeholder, id="prompt-input")
            field.cursor_blink = getattr(self.app, "cursor_blink", True)
            yield field
            if self.suggestions:
                yield Label("e.g. " + ", ".join(self.suggestions) + "    enter: ok    escape: cancel",
                            classes="dialog-hint", markup=False)  # a cluster's words are text
            message = Label("", id="prompt-message", classes="dialog-warning")
            message.display = False  # until enter on an empty line that needs text
            yield message

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value and self.required:
            message = self.query_one("#prompt-message", Label)
            message.update(self.required)
            message.display = True
            return
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CategoryPicker(ModalScreen["str | None"]):
    """Every category of the taxonomy, for labeling with one the number keys cannot reach (a
    taxonomy of ten or more). Typing filters by number, name or key; up/down move; enter chooses
    the highlighted one (dismisses with its key); escape cancels (None)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.up"),
    ]

    def __init__(self, question: str, categories: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.question = question
        # (number, key, name) in taxonomy order: number n is categories[n - 1]
        self.every = [(n, k, name) for n, (k, name) in enumerate(categories, start=1)]
        self.shown: list[tuple[int, str, str]] = list(self.every)

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList

        with Vertical(classes="dialog-box", id="picker-box"):
            yield Label(self.question, classes="dialog-question", markup=False)
            field = Input(placeholder="type a number or a name", id="picker-input")
            field.cursor_blink = getattr(self.app, "cursor_blink", True)
            yield field
            yield OptionList(*self._options(), id="picker-list", markup=False)  # names are text, "[/]" too
            yield Label("up/down: move    enter: choose    escape: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#picker-list").highlighted = 0 if self.shown else None

    def _options(self) -> list[str]:
        return [f"{n:>2}  {name}" for n, _, name in self.shown]

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip().lower()
        if text.isdigit():
            self.shown = [c for c in self.every if str(c[0]).startswith(text)]
        else:
            self.shown = [c for c in self.every if text in c[2].lower() or text in c[1].lower()]
        options = self.query_one("#picker-list")
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = 0 if self.shown else None

    def action_move(self, step: int) -> None:
        options = self.query_one("#picker-list")
        if self.shown:
            options.highlighted = ((options.highlighted or 0) + step) % len(self.shown)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        exact = next((k for n, k, _ in self.shown if text.isdigit() and n == int(text)), None)
        if exact is not None:  # an exact number wins over the highlighted one
            self.dismiss(exact)
            return
        index = self.query_one("#picker-list").highlighted
        if index is None or not self.shown:
            self.notify("no category matches", severity="warning")
            return
        self.dismiss(self.shown[index][1])

    def on_option_list_option_selected(self, event) -> None:
        event.stop()
        self.dismiss(self.shown[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
