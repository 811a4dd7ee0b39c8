"""The label-quality commands: suspects (labels that are probably wrong) and stats (versions,
authors, agreement)."""

from __future__ import annotations

import argparse

from reviewtui.backends import MoveResult
from reviewtui.cli import render, render_quality
from reviewtui.cli.commands import open_workspace
from reviewtui.cli.live import ProgressSink
from reviewtui.errors import ReviewtuiError


def cmd_suspects(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ReviewtuiError(f"--top must be at least 1, not {args.top}")
    ws = open_workspace(args)
    with ProgressSink() as sink:
        report = ws.suspects(top=args.top, on_event=sink)
    moved = ws.send_to_review([s.external_id for s in report.top()], settled_stay=True) if args.to_review else None
    if args.json:
        data = report.to_dict()
        if moved is not None:
            data["to_review"] = {"moved": moved.moved, "failed": moved.failed, "kept": moved.kept}
        render.print_json(data)
        return 0
    render_quality.suspects(report, moved, ws.taxonomy)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    rows = sum(int(v.rows or 0) for v in ws.versions())
    if rows >= 200_000:  # every version is read and compared with the one before it
        render.err_console().print(f"comparing the versions ({rows:,} rows in all)…", markup=False, highlight=False)
    stats = ws.quality_stats()
    moved = None
    if args.disagreements_to_review:
        ids = [d.external_id for d in stats.agreement.disagreements if not d.settled]
        moved = ws.send_to_review(ids, settled_stay=True) if ids else MoveResult([], {})
    if args.json:
        data = stats.to_dict()
        if moved is not None:
            data["to_review"] = {"moved": moved.moved, "failed": moved.failed, "kept": moved.kept}
        render.print_json(data)
        return 0
    render_quality.stats(stats, ws.taxonomy, moved)
    return 0
