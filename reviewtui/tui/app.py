"""ReviewApp: the keyboard-driven terminal app over one Workspace.

Five screens (Textual modes) on the number keys 1-5 and a tab bar: status, labeling, diff,
tuning, summary. Every screen calls the Workspace facade only, long work runs in thread workers,
and a ReviewtuiError shows as a notification with the same text the CLI prints. Nothing heavy
(torch, transformers, datasets, ray) is imported until the user starts work that needs it.
"""

from __future__ import annotations

import importlib
import os
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.worker import Worker

from reviewtui.errors import ReviewtuiError
from reviewtui.tui.widgets.tabs import SCREENS

if TYPE_CHECKING:
    from reviewtui.workspace import Workspace

SCREEN_CLASSES = {
    "status": "reviewtui.tui.screens.status:StatusScreen",
    "labeling": "reviewtui.tui.screens.labeling:LabelingScreen",
    "diff": "reviewtui.tui.screens.diff:DiffScreen",
    "tuning": "reviewtui.tui.screens.tuning:TuningScreen",
    "summary": "reviewtui.tui.screens.summary:SummaryScreen",
}


def screen_class(mode: str) -> type[Screen]:
    """The screen class of ``mode``, imported on first use so the first paint loads one screen."""
    module, name = SCREEN_CLASSES[mode].split(":")
    return getattr(importlib.import_module(module), name)


def _mode_factory(mode: str) -> Callable[[], Screen]:
    return lambda: screen_class(mode)()


def error_text(error: BaseException) -> str:
    """What to tell the user: a ReviewtuiError's own message (as the CLI prints it), else the type too."""
    if isinstance(error, ReviewtuiError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class ActionsProvider(Provider):
    """The command palette's entries: every screen, and every binding of every screen."""

    def commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: ReviewApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], Any]]] = []
        for mode, key, title in SCREENS:
            out.append((f"Go to {title}", f"screen {key}", lambda m=mode: app.switch_mode(m)))
        for binding in app.BINDINGS:
            if isinstance(binding, Binding) and binding.description and not binding.action.startswith("screen"):
                out.append((binding.description, f"key {binding.key}",
                            lambda a=binding.action: app.run_action(a)))
        for mode, _key, title in SCREENS:
            for binding in getattr(screen_class(mode), "BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                out.append((f"{title}: {binding.description}", f"key {binding.key.split(',')[0]} on {title}",
                            lambda m=mode, a=binding.action: app.run_on_screen(m, a)))
        return out

    async def discover(self) -> Hits:
        for text, help_text, command in self.commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, command in self.commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)


class ReviewApp(App):
    """The app. ``ReviewApp(Workspace.open(path)).run()``."""

    CSS_PATH = "app.tcss"
    TITLE = "reviewtui"
    MODES = {mode: _mode_factory(mode) for mode in SCREEN_CLASSES}
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        *[Binding(f"{key},f{key}", f"screen('{mode}')", title, show=False, id=f"app.screen.{mode}")
          for mode, key, title in SCREENS],
        Binding("left_square_bracket", "cycle(-1)", "Previous screen", show=False, id="app.screen.previous"),
        Binding("right_square_bracket", "cycle(1)", "Next screen", show=False, id="app.screen.next"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("e", "export", "Export", id="app.export"),
    ]

    def __init__(self, workspace: "Workspace", *, start: str = "status", assist: bool = True,
                 probe_gpus: bool = True, cursor_blink: bool = True) -> None:
        """``assist``: model suggestions and queue re-ranking while labeling (they load the embedding
        model in the background); ``probe_gpus``: the tuning screen asks nvidia-smi for GPUs at once.
        Tests turn both off, and the cursor blink, to be fast and deterministic."""
        super().__init__()
        self.ws = workspace
        self.start_mode = start
        self.assist = assist
        self.probe_gpus = probe_gpus
        self.cursor_blink = cursor_blink
        self._patch_print_captures()

    def _patch_print_captures(self) -> None:
        """While the app runs, Textual replaces sys.stdout/stderr with print captures. Ray Tune
        reads ``sys.stdout.encoding`` on import and ``ray.init`` enables faulthandler on
        ``sys.stderr.fileno()``; the captures have neither. Give them an encoding and a real file
        (cache/app-output.log in the workspace, opened on first use) so nothing reaches the screen."""
        log_path = self.ws.cache_dir / "app-output.log"
        state: dict[str, int] = {}

        def fileno() -> int:
            if "fd" not in state:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                state["fd"] = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            return state["fd"]

        for name in ("_capture_stdout", "_capture_stderr"):
            capture = getattr(self, name, None)
            if capture is not None:
                capture.encoding = "utf-8"
                capture.fileno = fileno

    @property
    def title_line(self) -> str:
        backend = self.ws.config.backend_kind
        return f"{self.ws.config.name} · {backend}"

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)

    # -- navigation -------------------------------------------------------------------------
    def action_screen(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_cycle(self, step: int) -> None:
        modes = [m for m, _k, _t in SCREENS]
        current = self.current_mode if self.current_mode in modes else modes[0]
        self.switch_mode(modes[(modes.index(current) + step) % len(modes)])

    async def run_on_screen(self, mode: str, action: str) -> None:
        """Switch to ``mode`` and run one of its actions (for the command palette)."""
        await self.switch_mode(mode)
        await self.screen.run_action(action)

    def action_help(self) -> None:
        from reviewtui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.current_mode))

    # -- workspace actions ------------------------------------------------------------------
    def action_export(self) -> None:
        self.export_version()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_version(self) -> None:
        info = self.ws.export()
        if info is None:
            text = f"Nothing changed since {self.ws.latest_version().name}; no version written."
        else:
            m = info.manifest
            counts = ", ".join(f"{k} {v}" for k, v in m["counts_by_label"].items())
            text = (f"Wrote {info.csv_path.relative_to(self.ws.root)}: {m['rows']} rows ({counts}); "
                    f"parent {m['parent'] or '-'}.")
        self.call_from_thread(self.notify, text, title="Export")
        self.call_from_thread(self.workspace_changed)

    def workspace_changed(self) -> None:
        """Tell every mounted screen the workspace changed on disk (a version, labels, a model)."""
        for mode in SCREEN_CLASSES:
            for screen in self._screen_stacks.get(mode, []):
                hook = getattr(screen, "workspace_changed", None)
                if hook is not None:
                    hook()

    # -- errors -----------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker(event.worker)

    def report_worker(self, worker: Worker) -> None:
        """Show a failed worker's error as a notification (the CLI's text for a ReviewtuiError)."""
        if worker.error is not None and worker.state.name == "ERROR":
            error = worker.error
            if not isinstance(error, ReviewtuiError):
                self.log.error("".join(traceback.format_exception(error)))
            self.notify(error_text(error), severity="error", timeout=10)


def run(path: str | Path | None = None) -> None:
    from reviewtui.workspace import Workspace

    ReviewApp(Workspace.open(path)).run()
