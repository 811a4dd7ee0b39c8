"""What every screen shares: the tab bar on top, the footer of bindings, the workspace handle."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from reviewtui.tui.messages import WorkspaceChanged
from reviewtui.tui.screens import SCREENS
from reviewtui.tui.widgets.footer import FittingFooter
from reviewtui.tui.widgets.tabs import ScreenTabs

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from reviewtui.workspace import Workspace


class WorkspaceScreen(Screen):
    """A screen of the app. Subclasses set ``MODE`` and implement :meth:`compose_body`."""

    MODE = ""
    FUNCTION_KEY_TABS = False

    @property
    def ws(self) -> "Workspace":
        return self.app.ws  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield ScreenTabs([(s.mode, s.key, s.title) for s in SCREENS], self.MODE,
                         self.app.title_line, self.FUNCTION_KEY_TABS)  # type: ignore[attr-defined]
        yield from self.compose_body()
        yield FittingFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker(event.worker)  # type: ignore[attr-defined]

    def ready_for_actions(self) -> bool:
        """Whether the screen shows what its actions act on (the command palette waits for it)."""
        return True

    #: the screen is the current one since its last resume
    _showing = False

    def on_screen_resume(self) -> None:
        # Textual resumes a mode's screen twice when it first shows it: one came_into_view() per showing
        if not self._showing:
            self._showing = True
            self.came_into_view()

    def on_screen_suspend(self) -> None:
        self._showing = False

    def came_into_view(self) -> None:
        """The screen became the current one (switched to, or uncovered by a dialog closing)."""

    @staticmethod
    def still_wanted() -> bool:
        """In a worker: False once a newer run of the same exclusive worker replaced it (its thread
        runs on to the end, and what it found is older than what the newer run will post)."""
        return not get_current_worker().is_cancelled

    @on(WorkspaceChanged)
    def reload_after_change(self) -> None:
        self.workspace_changed()

    def workspace_changed(self) -> None:
        """The workspace changed on disk (an export, a new model): reload what is shown."""

    def error(self, text: str) -> None:
        """Show ``text`` (the same words the CLI prints) as an error notification."""
        self.notify(text, severity="error", timeout=8, markup=False)

    #: False while the screen shows again a job's end the app told of before: no notification
    _news = True

    def notify(self, message: str, *, title: str = "", severity: "SeverityLevel" = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        if self._news:
            super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @contextmanager
    def telling(self, news: bool) -> Iterator[None]:
        """Within it, the screen's notifications are shown only when ``news`` (``JobDone.news``):
        a screen that shows a job's end again (the app reopened) shows it without the old toasts."""
        before, self._news = self._news, bool(news)
        try:
            yield
        finally:
            self._news = before
