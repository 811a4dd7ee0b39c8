"""The command handlers: each parses its arguments, calls one Workspace method and renders the
result (:mod:`reviewtui.cli.render`). One module per part of the pipeline: ``workspace`` (init,
import, label, skip, undo, status, export, versions, diff, demo, app), ``modeling`` (train, tune,
models), ``analysis`` (queue, simulate, predict, sentiment, summary, report), ``kili``,
``quality`` (suspects, stats), ``collect`` (collect play) and ``categories`` (list, add, rename,
merge, remove)."""

from __future__ import annotations

import argparse
import os
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
    from reviewtui.workspace import author_problem

    if author is not None and (problem := author_problem(author.strip())):
        raise ReviewtuiError(f"--author {problem}")
    named = os.environ.get("REVIEWTUI_AUTHOR", "").strip()
    if author is None and named and (problem := author_problem(named)):
        raise ReviewtuiError(f"REVIEWTUI_AUTHOR {problem}; set it again, or give --author NAME")
    ws = Workspace.open(args.workspace)
    if author:
        ws.author = author.strip()
    return ws


def version_name(value: str | None) -> str | None:
    """``11`` -> ``dataset-11``; a full name (or None) as it is."""
    return f"dataset-{value}" if value and str(value).isdigit() else value
