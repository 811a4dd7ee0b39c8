"""The ``reviewtui`` program's entry: :func:`reviewtui.cli.main`, imported here so that a Ctrl-C
while the modules load (the first tenth of a second) ends with one line, not a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from reviewtui.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    return run()
