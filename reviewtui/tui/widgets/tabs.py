"""The tab bar at the top of every screen: the screens with their keys, the active one lit."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.widgets import Label


class ScreenTab(Label):
    def __init__(self, mode: str, key: str, title: str, active: bool) -> None:
        super().__init__(f" {key} {title} ", classes="tab -active" if active else "tab")
        self.mode = mode

    def on_click(self, event: Click) -> None:
        self.app.switch_mode(self.mode)


class ScreenTabs(Horizontal):
    """One row: ``1 Status  2 Label ...  6 Quality  7 Discover`` and the workspace name on the right.

    ``tabs`` are (mode, key, title) in order; ``function_keys`` shows F1, F2... instead of the digits
    (the labeling screen uses the digits for categories)."""

    def __init__(self, tabs: Sequence[tuple[str, str, str]], current: str, title: str = "",
                 function_keys: bool = False) -> None:
        super().__init__(id="tabs")
        self.tabs = list(tabs)
        self.current = current
        self.title_text = title
        self.function_keys = function_keys

    def compose(self) -> ComposeResult:
        for mode, key, title in self.tabs:
            yield ScreenTab(mode, f"F{key}" if self.function_keys else key, title, mode == self.current)
        yield Label(self.title_text, id="tabs-title")
