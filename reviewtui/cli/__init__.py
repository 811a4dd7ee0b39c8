"""The command line: a thin command per pipeline step, each calling one Workspace method.

``reviewtui`` with no command opens the app. Errors the user can cause print as one line on
stderr and exit 2. Heavy libraries (torch, transformers, datasets, ray) and textual are never
imported here; the core imports the heavy ones when a command needs them, the ``app`` command
imports the app.

Modules:

* ``parser``     the argparse tree: every command, its options and its handler (``build_parser``)
* ``commands/``  the handlers: parse the arguments, call one Workspace method, render
  (``workspace``: init, import, label, skip, undo, status, export, versions, diff, demo, app;
  ``modeling``: train, tune, models; ``analysis``: queue, simulate, predict, sentiment, summary,
  report; ``kili``: the kili actions; ``quality``: suspects, stats; ``collect``: collect play;
  ``categories``: the taxonomy)
* ``render``     rich output: consoles, JSON and the tables; the sentences shared with the app
  come from :mod:`reviewtui.presentation` (``render_quality``: the suspects and stats tables)
* ``render_data`` the tables of reviews coming in: import notes, categories, counts by app, the
  summary's app and app x version tables
* ``live``       live displays on stderr: the progress bar and the trial board of ``tune``
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from typing import Sequence

from reviewtui.cli.parser import build_parser, handler
from reviewtui.errors import Interrupted, ReviewtuiError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (``argv`` default: ``sys.argv[1:]``); returns the exit code. As the program's
    entry (no ``argv``), a command that loaded torch ends the process at once (see :func:`_end`)."""
    code = _run(argv)
    if argv is None:
        _end(code)
    return code


#: The errors of a write the file system refuses (a read-only mount, permissions, a full disk).
WRITE_REFUSED = (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT)


def _run(argv: Sequence[str] | None) -> int:
    try:
        os.getcwd()
    except FileNotFoundError:  # every relative path would end in a traceback
        sys.stderr.write("error: the current folder no longer exists (deleted or moved while this shell was in it); "
                         "cd to a folder that exists and run the command again\n")
        return 2
    try:
        args = build_parser().parse_args(argv)  # an option given twice is a ReviewtuiError (parser.Once)
        func = handler(getattr(args, "func", "workspace:cmd_app"))
        return func(args)
    except ReviewtuiError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except Interrupted as exc:
        sys.stderr.write(f"{exc}\n")
        return 130
    except KeyboardInterrupt:  # the commands that keep part of their work say so themselves
        sys.stderr.write("interrupted before the command finished: it changes the workspace in one go at its end, "
                         "so nothing was changed; run it again\n")
        return 130
    except sqlite3.DatabaseError as exc:  # a read past the store's own checks: its file is damaged
        from reviewtui.store import damaged_store_error

        said = damaged_store_error("the workspace's store (reviewtui.db)", exc)
        if said is None:
            raise
        sys.stderr.write(f"error: {said}\n")
        return 2
    except BrokenPipeError:  # `reviewtui ... | head`: the reader has what it wanted
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        except OSError:
            pass
        return 0
    except OSError as exc:
        if exc.errno not in WRITE_REFUSED:
            if exc.errno is None or not exc.strerror or not exc.filename:
                raise
            # a path the system refuses (a file where a folder is wanted, a mount that cannot be replaced)
            name = errno.errorcode.get(exc.errno, exc.errno)
            sys.stderr.write(f"error: {exc.filename}: {exc.strerror} ({name}); check that path and run the command "
                             "again\n")
            return 2
        where = exc.filename or "a file of the workspace"
        sys.stderr.write(f"error: cannot write {where}: {exc.strerror}; nothing was kept half-written. Make the "
                         "workspace folder writable (or copy the workspace somewhere writable) and run the "
                         "command again\n")
        return 2


def _end(code: int) -> None:
    """After a command that loaded torch, with no other non-daemon thread left: run the exit
    handlers (Ray's shutdown, temporary folders, logging), flush the output and leave with ``code``,
    skipping the interpreter's teardown of torch's and transformers' modules, which took 1.2-1.5 s
    after a prediction that had finished. The store's exit handler closes its connections, which
    checkpoints the write-ahead log into the database file, as the teardown did."""
    import threading

    if "torch" not in sys.modules:
        return
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread() for t in threading.enumerate()):
        return
    import atexit
    import os

    atexit._run_exitfuncs()  # among them the store's, which closes its connections (and the WAL)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    try:  # what C extensions wrote through stdio
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
    os._exit(code)
