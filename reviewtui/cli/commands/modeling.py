"""The modeling commands: train (and train --auto, with its live comparison), tune (with its live trial
board), models (`models add`/`remove` are in :mod:`reviewtui.cli.commands.encoders`)."""

from __future__ import annotations

import argparse
from typing import Any

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace, version_name
from reviewtui.cli.live import ProgressSink, TrialBoard, run_search
from reviewtui.errors import ReviewtuiError


def cmd_train(args: argparse.Namespace) -> int:
    if args.auto:
        return cmd_train_auto(args)
    overrides = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.lr),
                                   ("batch_size", args.batch_size)) if v is not None}
    if args.budget:
        from reviewtui.modeling.selection import parse_budget

        overrides["budget_s"] = parse_budget(args.budget, allow_none=True)
    if args.split and args.folds is not None:
        raise ReviewtuiError("--folds sets the cross-validation, and --split trains on a train/validation/test "
                             "split instead: give one of them")
    evaluation: dict[str, Any] = {"folds": args.folds} if args.folds is not None else {}
    if args.split:
        evaluation["cv_below"] = 0
    if args.detach:
        from reviewtui.cli.commands.jobs import detach

        return detach(args, "train", version=version_name(args.version), name=args.name, model=args.model,
                      training=overrides or None, quick=args.quick or None, overwrite=args.overwrite or None,
                      evaluation=evaluation or None)
    ws = open_workspace(args)
    with ws.foreground("train", version=version_name(args.version), name=args.name, model=args.model,
                       training=overrides or None, quick=args.quick or None, overwrite=args.overwrite or None,
                       evaluation=evaluation or None) as settled, ProgressSink() as sink:
        card = ws.train(version_name(args.version), settled["name"], model=args.model, training=overrides,
                        quick=args.quick, overwrite=args.overwrite, evaluation=evaluation, on_event=sink,
                        quick_name=settled.get("quick_name"))
    if args.json:
        render.print_json(card.to_dict())
    else:
        render.card(card, ws.taxonomy)
    return 0


def cmd_train_auto(args: argparse.Namespace) -> int:
    """``train --auto``: the live comparison while the candidates are cross-validated, then the
    saved model's card with the comparison."""
    from reviewtui.cli.choice import CandidateBoard
    from reviewtui.modeling.selection import parse_budget

    clash = [flag for flag, on in (("--quick", args.quick), ("--model", args.model), ("--epochs", args.epochs),
                                   ("--lr", args.lr), ("--batch-size", args.batch_size), ("--folds", args.folds),
                                   ("--split", args.split)) if on]
    if clash:
        raise ReviewtuiError(f"--auto chooses the model itself: leave out {', '.join(clash)} (set [auto] "
                             "candidates and [evaluation] in reviewtui.toml instead)")
    budget = parse_budget(args.budget) if args.budget else None
    if getattr(args, "detach", False):
        from reviewtui.cli.commands.jobs import detach

        return detach(args, "train", auto=True, budget_s=budget, version=version_name(args.version), name=args.name,
                      overwrite=args.overwrite or None)
    ws = open_workspace(args)
    board = CandidateBoard(budget if budget is not None else ws.settings.auto.budget_s, ws.settings.evaluation.metric)
    with ws.foreground("train", auto=True, budget_s=budget, version=version_name(args.version), name=args.name,
                       overwrite=args.overwrite or None) as settled:
        selection, card = run_search(board, lambda cancel: ws.train_auto(
            version_name(args.version), settled["name"], budget_s=budget, overwrite=args.overwrite, on_event=board,
            cancel=cancel))
    if args.json:
        render.print_json(card.to_dict())
        return 0
    render.print_lines([say.selection_sentence(selection.table())])
    render.card(card, ws.taxonomy)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    if args.trials is not None and args.trials < 1:
        raise ReviewtuiError(f"--trials must be at least 1, not {args.trials}: leave it out to run "
                             "[tuning] trials from reviewtui.toml")
    tuning: dict[str, Any] = {}
    if args.candidates:
        tuning["candidates"] = [c.strip() for c in args.candidates.split(",") if c.strip()]
    if args.time_budget is not None:
        tuning["time_budget_s"] = time_budget_s(args.time_budget)
    if args.detach:
        from reviewtui.cli.commands.jobs import detach

        return detach(args, "tune", trials=args.trials, ray_address=args.ray_address,
                      version=version_name(args.version), name=args.name, tuning=tuning or None,
                      save_on_cancel=args.save_on_cancel or None)
    ws = open_workspace(args)
    board = TrialBoard(args.trials if args.trials is not None else ws.settings.tuning.trials)
    with ws.foreground("tune", trials=args.trials, ray_address=args.ray_address, version=version_name(args.version),
                       name=args.name, tuning=tuning or None) as settled:
        result = run_search(board, lambda cancel: ws.tune(
            args.trials, args.ray_address, version=version_name(args.version), name=settled["name"], tuning=tuning,
            save_on_cancel=args.save_on_cancel, on_event=board, cancel=cancel))
    if args.json:
        render.print_json(render.tune_json(result))
    else:
        render.tune_result(result)
    return 130 if result.cancelled else 0


def time_budget_s(text: str) -> float:
    """Seconds from ``tune --time-budget``: a duration as ``train --budget`` takes it (30m, 1h30m),
    or a bare number of minutes, as it always took."""
    from reviewtui.modeling.selection import parse_budget

    try:
        minutes = float(text)
    except ValueError:
        return parse_budget(text, option="--time-budget")
    return parse_budget(minutes * 60, option="--time-budget")


def cmd_models(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    rows = ws.model_history()
    curve = ws.learning_curve()
    if args.json:
        render.print_json({"models": [r.to_dict() for r in rows], "learning_curve": [p.to_dict() for p in curve]})
    else:
        render.models(rows, curve)
    return 0
