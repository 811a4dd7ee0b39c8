"""The analysis commands: queue, simulate, predict, sentiment, summary, report."""

from __future__ import annotations

import argparse
import sys

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.cli.live import ProgressSink
from reviewtui.errors import ReviewtuiError


def cmd_queue(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    with ProgressSink() as sink:
        batch = ws.queue_batch(args.strategy, args.size, seed=args.seed, apply=not args.dry_run,
                               filters=args.filters, search=args.search, on_event=sink)
    if args.json:
        render.print_json(batch.to_dict())
    else:
        render.queue(batch, args.rows, args.dry_run, how=say.queue_how(batch, ws.taxonomy))
    # the batch is worth showing, but a script must see that the backend set none of its priorities
    return 2 if batch.priorities_all_failed else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    if args.loop:
        return _simulate_loop(ws, args)
    strategies = [x for s in (args.strategy or []) for x in s.split(",") if x.strip()] or None
    with ProgressSink() as sink:
        res = ws.simulate(args.oracle, strategies=strategies, batch=args.batch,
                          rounds=10 if args.rounds is None else args.rounds, seeds=5 if args.seeds is None else args.seeds,
                          initial=args.initial, allow_missing=args.allow_missing, on_event=sink)
    reach = res.labels_to_reach(0.95)
    interp = res.labels_to_reach(0.95, interpolate=True)
    if args.json:
        render.print_json({"full_pool": res.full_pool, "labels_to_95pct": reach, "labels_to_95pct_interpolated": interp,
                           "pool": res.pool_size, "test": res.test_size, "curves": res.mean_curves(),
                           "files": [str(p) for p in (res.csv_path, res.summary_path, res.png_path) if p]})
    else:
        render.simulation(res, reach, interp)
    return 0


def _simulate_loop(ws, args: argparse.Namespace) -> int:
    """simulate --loop: the labeling screen's loop against a random start, and the stop signal."""
    if args.strategy or args.initial is not None:
        raise ReviewtuiError("simulate --loop replays the labeling screen's loop: its strategy is [active_learning] "
                             "strategy and its first batch is --batch reviews; drop --strategy and --initial")
    with ProgressSink() as sink:
        sim = ws.simulate_loop(args.oracle, batch=10 if args.batch is None else args.batch,
                               rounds=20 if args.rounds is None else args.rounds,
                               seeds=3 if args.seeds is None else args.seeds, allow_missing=args.allow_missing,
                               on_event=sink)
    if args.json:
        render.print_json(sim.to_dict())
    else:
        render.print_lines(say.loop_simulation_lines(sim))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    params = dict(model=args.model, sentiment=args.sentiment, chunk_size=args.chunk_size, precision=args.precision,
                  ray_address=args.ray_address)
    if args.detach:
        from reviewtui.cli.commands.jobs import detach

        return detach(args, "predict", **params)  # the job starts only once Workspace.check_predict passes
    ws = open_workspace(args)
    try:
        with ws.foreground("predict", **params), ProgressSink() as sink:  # Workspace.check_predict first
            res = ws.predict(**params, on_event=sink)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: the reviews embedded and the chunks predicted so far are kept, and the same "
                         "predict command resumes from them\n")
        return 130
    if args.json:
        render.print_json(res.to_dict())
        return 0
    render.print_lines([say.predict_sentence(res), *say.predict_count_lines(res, ws.taxonomy),
                        f"Wrote {res.path}. Next: reviewtui report"])
    return 0


def cmd_sentiment(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    options = list(dict.fromkeys(o.strip() for o in args.option or ["vader", "stars"]))  # each compared once
    for o in options:
        if o.lower() in ("none", "auto"):
            raise ReviewtuiError(f"sentiment --option {o}: this command compares sentiment options with the stars "
                                 "and your team's labels; give vader, stars, team or a sentiment model folder "
                                 "(auto is predict's choice among vader, stars and team; none predicts no sentiment)")
    team, why = None, None
    with ProgressSink() as sink:
        try:
            team = ws.team_sentiment(options, sample=args.sample or None, on_event=sink)
        except ReviewtuiError as exc:  # no or too few team labels: the star comparison still stands
            why = str(exc)
        cmp = ws.sentiment_comparison(options, sample=args.sample or None, on_event=sink)
    if args.json:
        render.print_json({**cmp.to_dict(), "team": team.to_dict() if team is not None else None,
                           **({"team_note": why} if why else {})})
        return 0
    if team is not None:
        render.team_sentiment(team)
    else:
        render.print_lines([f"Agreement with the team: {why}"])
    render.sentiment(cmp)
    return 0


def _version_depth(args: argparse.Namespace) -> int | None:
    if args.version_depth < 0:
        raise ReviewtuiError(f"--version-depth must be 0 (versions kept whole) or more, not {args.version_depth}")
    return args.version_depth or None


def cmd_summary(args: argparse.Namespace) -> int:
    depth = _version_depth(args)
    ws = open_workspace(args)
    s = ws.summary(args.app_version, args.weight_thumbs, depth, app=args.app, stars=args.stars)
    if args.json:
        render.print_json({**s.to_dict(), "stale": say.stale_record(s.stale)})
        return 0
    from reviewtui.analysis.report import findings, findings_rule

    names = {c.key: c.name for c in ws.taxonomy}  # as the app shows the categories
    render.summary(s, findings(s, names), findings_rule(s), names)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    depth = _version_depth(args)
    ws = open_workspace(args)
    paths = ws.write_report(args.app_version, args.weight_thumbs, depth, app=args.app, stars=args.stars,
                            notes=say.stale_lines)
    if args.json:
        render.print_json({**paths.to_dict(), "stale": say.stale_record(paths.stale)})
    else:
        render.print_lines([say.report_sentence(paths), *say.stale_lines(paths.stale)])
    return 0
