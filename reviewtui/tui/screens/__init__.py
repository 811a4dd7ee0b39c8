"""The app's screens, one a file, and their registry.

:data:`SCREENS` lists each screen of the app in the order of its number key: the mode name, the
key, the title and where its class lives. :func:`screen_class` imports a screen's module on first
use, so the first paint loads one screen. The app, the tab bar, the help screen and the command
palette all read this registry; none of them imports another screen's module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenInfo:
    """One screen of the app: its mode, number key, title and ``module:Class``."""

    mode: str
    key: str
    title: str
    path: str


SCREENS: tuple[ScreenInfo, ...] = (
    ScreenInfo("status", "1", "Status", "reviewtui.tui.screens.status:StatusScreen"),
    ScreenInfo("labeling", "2", "Label", "reviewtui.tui.screens.labeling:LabelingScreen"),
    ScreenInfo("diff", "3", "Diff", "reviewtui.tui.screens.diff:DiffScreen"),
    ScreenInfo("tuning", "4", "Tune", "reviewtui.tui.screens.tuning:TuningScreen"),
    ScreenInfo("summary", "5", "Summary", "reviewtui.tui.screens.summary:SummaryScreen"),
    ScreenInfo("quality", "6", "Quality", "reviewtui.tui.screens.quality:QualityScreen"),
    ScreenInfo("discover", "7", "Discover", "reviewtui.tui.screens.discover:DiscoverScreen"),
)

BY_MODE = {s.mode: s for s in SCREENS}


def screen_class(mode: str) -> "type[Screen]":
    """The screen class of ``mode``, its module imported on first use. Raises KeyError for an
    unknown mode."""
    module, name = BY_MODE[mode].path.split(":")
    return getattr(importlib.import_module(module), name)


def modes() -> "dict[str, Callable[[], Screen]]":
    """``App.MODES``: mode -> a factory that builds the screen (importing its module then)."""
    return {s.mode: (lambda m=s.mode: screen_class(m)()) for s in SCREENS}
