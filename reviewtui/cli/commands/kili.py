"""``reviewtui kili create|attach|push|pull|predictions``: labeling in a Kili project."""

from __future__ import annotations

import argparse

from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.cli.live import ProgressSink
from reviewtui.errors import ReviewtuiError


def cmd_kili(args: argparse.Namespace) -> int:
    action = args.kili_cmd
    if action is None:
        raise ReviewtuiError("say what to do: reviewtui kili create|attach|push|pull|predictions (see --help)")
    ws = open_workspace(args)
    if action == "create":
        rep = ws.kili_create(args.title, args.description)
    elif action == "attach":
        rep = ws.kili_attach(args.project_id)
    else:
        preds, model = ws.kili_predictions_from_csv(args.file) if action == "predictions" else (None, None)
        model = args.model or model if action == "predictions" else None
        if action == "predictions" and not model:
            raise ReviewtuiError(f"{args.file}: no model column; name the model with --model NAME")
        with ProgressSink() as sink:
            if action == "push":
                rep = ws.kili_push(limit=args.limit, on_event=sink)
            elif action == "pull":
                rep = ws.kili_pull(full=args.full, on_event=sink)
            else:
                rep = ws.kili_push_predictions(preds, model, args.model_version or "", on_event=sink)
    if args.json:
        render.print_json(rep.to_dict())
        return 0
    con = render.console()
    for line in render.kili_lines(action, rep):
        con.print(line)
    return 0
