"""Help: every key of the app and of each screen, built from the bindings themselves: the app's
(``self.app.BINDINGS``) and each screen's, found through the screen registry."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewtui.tui.screens import SCREENS, screen_class

INTRO = ("reviewtui runs the active-learning loop: label reviews (2), export a dataset version (e), "
         "compare versions (3), tune a model (4), predict and read the summary (5), check the labels' "
         "quality (6), discover what the taxonomy is missing (7). Every answer is saved the moment it is "
         "given. ctrl+p lists every action; ctrl+q quits.")


def key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"left_square_bracket": "[", "right_square_bracket": "]", "question_mark": "?", "left": "←",
             "right": "→", "space": "space", "escape": "esc"}
    return ", ".join(names.get(k, k) for k in binding.key.split(","))


def bindings_table(title: str, bindings: list) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    seen: set[str] = set()
    for b in bindings:
        if not isinstance(b, Binding) or not b.description:
            continue
        name = key_name(b)
        if name in seen:  # 1-9 on the labeling screen: one row
            continue
        seen.add(name)
        table.add_row(name, b.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, current: str = "") -> None:
        super().__init__(classes="dialog")
        self.current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box", id="help-box"):
            yield Static(Text(INTRO))
            app_keys = [Binding(",".join(s.key for s in SCREENS), "", "Screens: " +
                                " ".join(f"{s.key} {s.title}" for s in SCREENS) +
                                f" (on the labeling screen the digits label: F1-F{len(SCREENS)} there)",
                                key_display=f"1-{len(SCREENS)}, F1-F{len(SCREENS)}"),
                        *[b for b in self.app.BINDINGS if isinstance(b, Binding) and not b.action.startswith("screen")],
                        Binding("ctrl+p", "", "Command palette (every action)"),
                        Binding("ctrl+q", "", "Quit")]
            yield Static(bindings_table("Everywhere", app_keys))
            for s in sorted(SCREENS, key=lambda s: s.mode != self.current):
                title = f"{s.key} {s.title}" + ("  (this screen)" if s.mode == self.current else "")
                yield Static(bindings_table(title, screen_class(s.mode).BINDINGS))

    def action_close(self) -> None:
        self.dismiss(None)
