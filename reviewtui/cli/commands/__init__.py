"""The command handlers: each parses its arguments, calls one Workspace method and renders the
result (:mod:`reviewtui.cli.render`). One module per part of the pipeline: ``workspace`` (init,
import, label, skip, undo, status, export, versions, diff, demo, app), ``modeling`` (train, tune,
models), ``analysis`` (queue, simulate, predict, sentiment, summary, report), ``kili``,
``quality`` (suspects, stats), ``collect`` (collect play) and ``categories`` (list, add, rename,
merge, remove)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewtui.workspace import Workspace


def open_workspace(args: argparse.Namespace) -> "Workspace":
    """The workspace of ``--workspace`` (default: the current folder or one above it)."""
    from reviewtui.errors import ReviewtuiError
    from reviewtui.workspace import Workspace

    author = getattr(args, "author", None)
    if author is not None and not author.strip():
        raise ReviewtuiError("--author needs a name")
    if author is not None and any(not ch.isprintable() for ch in author.strip()):
        # a line break or a control character would break every table that shows authors
        raise ReviewtuiError(f"--author {author.strip()!r}: a name of printable characters only (no line break, "
                             "tab or control character)")
    ws = Workspace.open(args.workspace)
    if author:
        ws.author = author.strip()
    return ws


def version_name(value: str | None) -> str | None:
    """``11`` -> ``dataset-11``; a full name (or None) as it is."""
    return f"dataset-{value}" if value and str(value).isdigit() else value
