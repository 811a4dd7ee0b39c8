"""``reviewtui models add NAME`` and ``reviewtui models remove NAME``: encoders installed into the
user's model cache (not into a workspace), with a bytes progress bar while the parts are joined."""

from __future__ import annotations

import argparse
from typing import Any

from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)
from rich.text import Text

from reviewtui.cli import render
from reviewtui.events import Notice
from reviewtui.events import Progress as ProgressEvent


class BytesProgress:
    """Progress("install", bytes, total) as a rich bar in bytes (size, speed, time left) on stderr;
    Notices printed above it."""

    def __init__(self) -> None:
        console = render.err_console()
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=True,
                                 disable=not console.is_terminal)
        self.task: Any = None

    def __enter__(self) -> "BytesProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Any) -> None:
        if isinstance(event, ProgressEvent):
            if self.task is None:
                self.task = self.progress.add_task(event.task, total=event.total)
            self.progress.update(self.task, completed=event.done, total=event.total,
                                 description=f"{event.task} {event.detail}".strip())
        elif isinstance(event, Notice):
            self.progress.console.print(Text(event.text, style="yellow" if event.level != "info" else ""))


def cmd_add(args: argparse.Namespace) -> int:
    from reviewtui.workspace import Workspace

    with BytesProgress() as sink:
        result = Workspace.add_encoder(args.name, source=args.source, force=args.force, on_event=sink)
    if args.json:
        render.print_json({"name": result.name, "path": str(result.path), "status": result.status,
                           "source": result.source, "bytes": result.bytes, "seconds": round(result.seconds, 1)})
        return 0
    if result.status == "already installed":
        line = f"{result.name} is already installed in {result.path} (--force installs it again)."
    else:
        line = (f"Installed {result.name} in {result.path} ({result.bytes / 1e6:,.0f} MB of parts checked, "
                f"{result.seconds:.0f}s).")
    render.print_lines([line, f'Use it: set [model] base = "{result.name}" in reviewtui.toml, '
                              f"or add head:{result.name} / finetune:{result.name} to [auto] candidates."])
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from reviewtui.workspace import Workspace

    folder = Workspace.remove_encoder(args.name)
    render.print_lines([f"Removed {args.name} ({folder})." if folder is not None
                        else f"{args.name} was not installed; nothing removed."])
    return 0
