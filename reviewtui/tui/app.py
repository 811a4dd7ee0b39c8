"""ReviewApp: the keyboard-driven terminal app over one Workspace.

Seven screens (Textual modes, listed in :mod:`reviewtui.tui.screens`) on the number keys 1-7 and a
tab bar: status, labeling, diff, tuning, summary, quality, discover. Every screen calls the Workspace facade only;
long work runs in thread workers that post typed messages (:mod:`reviewtui.tui.messages`); a
ReviewtuiError shows as a notification with the same text the CLI prints. Nothing heavy (torch,
transformers, datasets, ray) is imported until the user starts work that needs it.
"""

from __future__ import annotations

import asyncio
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from reviewtui import presentation as say
from reviewtui.errors import ReviewtuiError
from reviewtui.tui.commands import ActionsProvider
from reviewtui.tui.messages import ExportFinished, WorkspaceChanged, error_text
from reviewtui.tui.output import LibraryOutput
from reviewtui.tui.screens import SCREENS, modes

if TYPE_CHECKING:
    from reviewtui.workspace import Workspace


class NoWaitExecutor(ThreadPoolExecutor):
    """The executor of the app's thread workers when the app runs for a user. asyncio waits for
    the default executor's threads when the app's loop ends: ctrl+q left the terminal blank for
    minutes while the labeling screen embedded the corpus for its first suggestions. This one does
    not wait, and the command ends the process once the app has closed (``cmd_app``)."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


class ReviewApp(App):
    """The app. ``ReviewApp(Workspace.open(path)).run()``."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    TITLE = "reviewtui"
    MODES = modes()
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        *[Binding(f"{s.key},f{s.key}", f"screen('{s.mode}')", s.title, show=False, id=f"app.screen.{s.mode}")
          for s in SCREENS],
        Binding("left_square_bracket", "cycle(-1)", "Previous screen", show=False, id="app.screen.previous"),
        Binding("right_square_bracket", "cycle(1)", "Next screen", show=False, id="app.screen.next"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("e", "export", "Export", id="app.export"),
    ]

    def __init__(self, workspace: "Workspace", *, start: str = "status", assist: bool = True,
                 probe_gpus: bool = True, cursor_blink: bool = True, quit_at_once: bool = False) -> None:
        """``assist``: model suggestions and automatic queue re-ranking while labeling (they load
        the embedding model in the background); ``probe_gpus``: the tuning screen asks nvidia-smi
        for GPUs at once. Tests turn both off, and the cursor blink, to be fast and deterministic.
        ``quit_at_once`` (the app as ``reviewtui`` runs it): quitting does not wait for a worker
        thread still at work (see :class:`NoWaitExecutor`)."""
        super().__init__()
        self.quit_at_once = quit_at_once
        self.ws = workspace
        self.start_mode = start
        self.assist = assist
        self.probe_gpus = probe_gpus
        self.cursor_blink = cursor_blink
        self.library_output = LibraryOutput(self.ws.cache_dir / "app-output.log")

    @property
    def title_line(self) -> str:
        return f"{self.ws.config.name} · {self.ws.config.backend_kind}"

    def on_mount(self) -> None:
        self.library_output.install()  # Ray, torch and transformers print into cache/app-output.log
        if self.quit_at_once:  # thread workers run in the loop's default executor
            asyncio.get_running_loop().set_default_executor(NoWaitExecutor(thread_name_prefix="worker"))
        self.switch_mode(self.start_mode)

    def on_unmount(self) -> None:
        self.library_output.restore()

    # -- navigation -------------------------------------------------------------------------
    def action_screen(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_cycle(self, step: int) -> None:
        order = [s.mode for s in SCREENS]
        current = self.current_mode if self.current_mode in order else order[0]
        self.switch_mode(order[(order.index(current) + step) % len(order)])

    async def run_on_screen(self, mode: str, action: str) -> None:
        """Switch to ``mode`` and run one of its actions (for the command palette)."""
        await self.switch_mode(mode)
        screen = self.screen
        title = next((s.title for s in SCREENS if s.mode == mode), mode)
        ready = getattr(screen, "ready_for_actions", lambda: True)
        for _ in range(300):  # a screen opened for the first time loads what it shows (15 s at most)
            if ready():
                break
            await asyncio.sleep(0.05)
        if not ready():
            self.notify(f"the {title} screen is still loading: nothing was done; try again in a moment",
                        severity="warning")
            return
        await screen.run_action(action)

    def action_help(self) -> None:
        from reviewtui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.current_mode))

    # -- workspace actions ------------------------------------------------------------------
    def action_export(self) -> None:
        self.export_version()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_version(self) -> None:
        info = self.ws.export()
        self.post_message(ExportFinished(info, self.ws.latest_version().name if info is None else None))

    @on(ExportFinished)
    def show_export(self, message: ExportFinished) -> None:
        self.notify(say.export_sentence(message.info, root=self.ws.root, latest=message.latest),
                    title="Export", markup=False)
        self.workspace_changed()

    def built_screens(self) -> Iterator[Screen]:
        """Every screen the app has built, in the stacks of its modes (a screen not opened yet loads
        fresh data when it is)."""
        for s in SCREENS:
            try:
                stack = self.get_screen_stack(s.mode)
            except KeyError:
                continue
            yield from stack

    def workspace_changed(self) -> None:
        """Tell every screen the app has built that the workspace changed on disk (a version,
        labels, a model): each reloads what it shows."""
        for screen in self.built_screens():
            screen.post_message(WorkspaceChanged())

    def reviews_changed(self) -> None:
        """Tell the screens that keep reviews they showed (the labeling screen's answered ones) that
        labels or statuses changed from another screen (sent to review from the diff or quality
        screen): each reads those reviews again."""
        for screen in self.built_screens():
            refresh = getattr(screen, "reviews_changed", None)
            if callable(refresh):
                refresh()

    # -- errors -----------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker(event.worker)

    def report_worker(self, worker: Worker) -> None:
        """Show a failed worker's error as a notification (the CLI's text for a ReviewtuiError)."""
        if worker.error is not None and worker.state == WorkerState.ERROR:
            error = worker.error
            if not isinstance(error, ReviewtuiError):
                self.log.error("".join(traceback.format_exception(error)))
            self.notify(error_text(error), severity="error", timeout=10, markup=False)


def run(path: str | Path | None = None) -> None:
    from reviewtui.workspace import Workspace

    ReviewApp(Workspace.open(path)).run()
