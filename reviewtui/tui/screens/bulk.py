"""The bulk-label dialog: choose a category for every review of the filtered queue, then confirm
a question that names their count."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from reviewtui import presentation as say


class BulkLabelDialog(ModalScreen["str | None"]):
    """``count`` reviews kept by ``description``; ``categories`` are (key, name) in taxonomy
    order. A number key chooses one of the first nine, l any of them from a list; y/enter confirms
    (dismisses with its key), n/escape cancels (None)."""

    BINDINGS = [
        *[Binding(str(n), f"choose({n})", "Choose the category" if n == 1 else f"Choose category {n}",
                  key_display="1-9", show=n == 1, id=f"bulk.choose{n}") for n in range(1, 10)],
        Binding("l", "pick", "Any category", id="bulk.pick"),
        Binding("y,enter", "confirm", "Yes", id="bulk.yes"),
        Binding("n,escape", "cancel", "No", id="bulk.no"),
    ]

    def __init__(self, count: int, description: str, categories: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.count = count
        self.description = description
        self.categories = categories  # the number keys reach the first nine, l any of them
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="bulk-box"):
            yield Label(self.question(), id="bulk-question", classes="dialog-question", markup=False)
            listed = [f"{n if n <= 9 else 'l'}  {name}" for n, (_, name) in enumerate(self.categories, start=1)]
            yield Static("\n".join(listed), id="bulk-categories", markup=False)
            yield Label("1-9 or l: category    y / enter: label them all    n / escape: cancel", classes="dialog-hint")

    def question(self) -> str:
        if self.chosen is None:
            return (f"Label all {self.count:,} reviews of the filtered queue ({self.description})? "
                    "Choose the category with its number.")
        name = dict(self.categories)[self.chosen]
        return say.bulk_question(self.count, self.description, name, in_app=True)

    def action_choose(self, n: int) -> None:
        if n > len(self.categories):
            self.notify(f"no category {n}: there are {len(self.categories)}", severity="warning")
            return
        self.choose(self.categories[n - 1][0])

    def choose(self, key: str) -> None:
        self.chosen = key
        self.query_one("#bulk-question", Label).update(self.question())

    def action_pick(self) -> None:
        from reviewtui.tui.screens.dialogs import CategoryPicker

        def chosen(key: str | None) -> None:
            if key is not None:
                self.choose(key)

        self.app.push_screen(CategoryPicker("Label them with which category?", self.categories), chosen)

    def action_confirm(self) -> None:
        if self.chosen is None:
            self.notify("choose the category first (its number)", severity="warning")
            return
        self.dismiss(self.chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
