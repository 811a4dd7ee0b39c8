"""``reviewtui kili create|attach|push|pull|predictions``: labeling in a Kili project."""

from __future__ import annotations

import argparse
from typing import Any

from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.cli.live import ProgressSink
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress


class KiliInterrupted(ReviewtuiError):
    """Ctrl-C during a kili action: what was done in Kili and how to finish (exit code 130)."""

    exit_code = 130


def _interrupted(action: str, args: argparse.Namespace, done: int) -> KiliInterrupted:
    if action == "push":
        return KiliInterrupted(f"interrupted: {done} assets were pushed to Kili before Ctrl-C (their Kili ids "
                               "are kept). Rerun `reviewtui kili push` to finish: assets Kili already has are "
                               "skipped, so nothing is duplicated")
    if action == "pull":
        return KiliInterrupted("interrupted: a pull records everything in one go at its end, so the workspace has "
                               "all of it or none of it. Rerun `reviewtui kili pull`: what is already recorded "
                               "is skipped")
    if action == "predictions":
        return KiliInterrupted(f"interrupted: {done} predictions were sent before Ctrl-C. Rerun the same "
                               "`reviewtui kili predictions` to finish: the model's predictions are replaced, "
                               "not doubled")
    if action == "create":
        return KiliInterrupted(f"interrupted while creating the Kili project {args.title!r}: if Kili shows it, use "
                               "it with `reviewtui kili attach PROJECT_ID`; otherwise rerun `reviewtui kili create`")
    return KiliInterrupted(f"interrupted while attaching Kili project {args.project_id}: reviewtui.toml is as "
                           "it was; rerun `reviewtui kili attach`")


def cmd_kili(args: argparse.Namespace) -> int:
    action = args.kili_cmd
    if action is None:
        raise ReviewtuiError("say what to do: reviewtui kili create|attach|push|pull|predictions (see --help)")
    ws = open_workspace(args)
    done = [0]  # how far push/predictions got (their Progress events), for an interrupted run
    try:
        if action == "create":
            rep = ws.kili_create(args.title, args.description)
        elif action == "attach":
            rep = ws.kili_attach(args.project_id)
        else:
            preds, model = ws.kili_predictions_from_csv(args.file) if action == "predictions" else (None, None)
            model = args.model or model if action == "predictions" else None
            if action == "predictions" and not model:
                raise ReviewtuiError(f"{args.file}: no model column; name the model with --model NAME")
            held: list[Notice] = []  # what push warns of: its result lines say it, or these if it fails
            with ProgressSink() as sink:
                def on_event(event: Any) -> None:
                    if isinstance(event, Progress) and event.task in ("kili push", "kili predictions"):
                        done[0] = event.done
                    if action == "push" and not args.json and isinstance(event, Notice):
                        held.append(event)  # (deleted in Kili, left out) said once, by the result lines
                        return
                    sink(event)

                if action == "push":
                    try:
                        rep = ws.kili_push(limit=args.limit, on_event=on_event, restore_deleted=args.restore_deleted)
                    except BaseException:  # no result lines: the warnings are all there is
                        for notice in held:
                            sink(notice)
                        raise
                elif action == "pull":
                    rep = ws.kili_pull(full=args.full, on_event=on_event)
                else:
                    rep = ws.kili_push_predictions(preds, model, args.model_version or "", on_event=on_event)
    except KeyboardInterrupt:
        raise _interrupted(action, args, done[0]) from None
    # predictions of which none reached the project (no row is one of its assets): exit 1, the
    # lines below say why for each
    code = 1 if action == "predictions" and not rep.sent and rep.failed else 0
    if args.json:
        render.print_json(rep.to_dict())
        return code
    con = render.console()
    for line in render.kili_lines(action, rep):
        con.print(line)
    return code
