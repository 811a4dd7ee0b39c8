"""Where what libraries print goes while the app runs: ``cache/app-output.log`` in the workspace.

While the app runs, Textual points ``sys.stdout``/``sys.stderr`` at print captures that have no
``encoding`` and no usable ``fileno()``. Ray Tune reads ``sys.stdout.encoding`` when it is
imported and ``ray.init`` enables faulthandler on ``sys.stderr.fileno()``; torch and transformers
print warnings. :class:`OutputLog` is a real text file for them: the app installs it in place of
the captures when it mounts and puts the captures back when it unmounts.
"""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path
from typing import Any, TextIO


class OutputLog(io.TextIOBase):
    """A text stream appending to ``path`` (UTF-8, line-buffered), opened on the first write or
    ``fileno()`` call so that an app session that prints nothing leaves no file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.file: TextIO | None = None
        self.lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "replace"

    def open_file(self) -> TextIO:
        with self.lock:
            if self.file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = open(self.path, "a", encoding="utf-8", errors="replace", buffering=1)
            return self.file

    def write(self, text: str) -> int:  # type: ignore[override]
        return self.open_file().write(text)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def fileno(self) -> int:
        return self.open_file().fileno()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        with self.lock:
            if self.file is not None:
                self.file.close()
                self.file = None
        super().close()


class LibraryOutput:
    """Sends ``sys.stdout`` and ``sys.stderr`` to an :class:`OutputLog` between :meth:`install`
    and :meth:`restore` (which puts back what was there, unless someone replaced it since)."""

    def __init__(self, path: Path) -> None:
        self.log = OutputLog(path)
        self.saved: dict[str, Any] = {}

    def install(self) -> None:
        for name in ("stdout", "stderr"):
            self.saved[name] = getattr(sys, name)
            setattr(sys, name, self.log)

    def restore(self) -> None:
        for name, previous in self.saved.items():
            if getattr(sys, name) is self.log:
                setattr(sys, name, previous)
        self.saved.clear()
        self.log.close()
