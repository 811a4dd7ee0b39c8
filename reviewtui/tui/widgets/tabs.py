"""The tab bar at the top of every screen: the screens with their number keys, the active one lit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.widgets import Label

# (mode, key, title) in the order of the number keys
SCREENS: list[tuple[str, str, str]] = [
    ("status", "1", "Status"),
    ("labeling", "2", "Label"),
    ("diff", "3", "Diff"),
    ("tuning", "4", "Tune"),
    ("summary", "5", "Summary"),
]


class ScreenTab(Label):
    def __init__(self, mode: str, key: str, title: str, active: bool) -> None:
        super().__init__(f" {key} {title} ", classes="tab -active" if active else "tab")
        self.mode = mode

    def on_click(self, event: Click) -> None:
        self.app.switch_mode(self.mode)


class ScreenTabs(Horizontal):
    """One row: ``1 Status  2 Label  3 Diff  4 Tune  5 Summary`` and the workspace name on the right.

    F1-F5 switch screens everywhere; the digits too, except on the labeling screen."""

    def __init__(self, current: str, title: str = "", function_keys: bool = False) -> None:
        super().__init__(id="tabs")
        self.current = current
        self.title_text = title
        self.function_keys = function_keys  # the labeling screen uses the digits for categories

    def compose(self) -> ComposeResult:
        for mode, key, title in SCREENS:
            yield ScreenTab(mode, f"F{key}" if self.function_keys else key, title, mode == self.current)
        yield Label(self.title_text, id="tabs-title")
