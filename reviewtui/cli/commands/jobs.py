"""``reviewtui jobs``: the background jobs of the workspace (list, follow, cancel), and the
``--detach`` of train, tune and predict."""

from __future__ import annotations

import argparse
import time
from typing import Any

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace


def detach(args: argparse.Namespace, kind: str, **params: Any) -> int:
    """Start ``kind`` as a background job and say how to follow it (the ``--detach`` of a command)."""
    ws = open_workspace(args)
    job = ws.start_job(kind, **params)
    if getattr(args, "json", False):
        render.print_json(job.to_dict())
    else:
        render.print_lines([say.job_started_sentence(job)])
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    action = getattr(args, "jobs_cmd", None)
    if action == "follow":
        return follow(args)
    if action == "cancel":
        return cancel(args)
    ws = open_workspace(args)
    jobs = ws.jobs.list()
    if args.json:
        render.print_json([j.to_dict() for j in jobs])
        return 0
    render.jobs_table(jobs)
    return 0


def follow(args: argparse.Namespace) -> int:
    """Replay a job's journal, then stream it until the job ends. Ctrl-C stops following only.
    Progress is a live bar on a terminal, plain lines (:class:`ProgressLines`) when the output
    is not one."""
    from reviewtui.cli.live import ProgressLines, ProgressSink, TrialBoard, follow_job
    from reviewtui.errors import ReviewtuiError

    ws = open_workspace(args)
    job = ws.jobs.get(args.id) if args.id else ws.jobs.latest()
    if job is None:
        raise ReviewtuiError("no job in this workspace yet: start one with --detach (train, tune, predict) "
                             "or from the app")
    render.print_lines([f"Job {job.id} ({say.job_command(job)}), {job.state}."])
    searching = job.kind == "tune" or (job.kind == "train" and job.params.get("auto"))
    if not render.console().is_terminal:  # a log or a pipe: progress, trials and candidates as plain lines
        out = render.console()
        ended = follow_job(ws.jobs, job, ProgressLines(lambda line: render.print_lines([line], out)))
    elif job.kind == "tune":
        board = TrialBoard(int(job.params.get("trials") or ws.settings.tuning.trials))
        ended = follow_job(ws.jobs, job, board, live_board=board)
    elif searching:  # train --auto: the candidates' comparison, live
        from reviewtui.cli.choice import CandidateBoard

        auto = CandidateBoard(job.params.get("budget_s") or ws.settings.auto.budget_s, ws.settings.evaluation.metric)
        ended = follow_job(ws.jobs, job, auto, live_board=auto)  # type: ignore[arg-type]
    else:
        with ProgressSink() as sink:
            ended = follow_job(ws.jobs, job, sink)
    if ended is None:
        render.print_lines([f"Stopped following; job {job.id} goes on (reviewtui jobs cancel {job.id} stops it)."])
        return 130
    job = ws.jobs.get(job.id)
    render.print_lines([say.job_end_sentence(job)])
    return 0 if job.state == "finished" else 1


def cancel(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    known = ws.jobs.get(args.id)
    if known.state == "cancelled":  # asked twice (a script run again): done already, not an error
        render.print_lines([f"Job {known.id} ({known.kind}) is cancelled already."])
        return 0
    job = ws.jobs.cancel(args.id, force=args.force)
    if args.force:
        render.print_lines([f"Killed job {job.id} ({job.kind}) and everything it started."])
    else:
        render.print_lines([f"Asked job {job.id} ({job.kind}) to stop; it is finishing cleanly "
                            f"(reviewtui jobs follow {job.id} shows it end)."])
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and ws.jobs.get(job.id).active:
        time.sleep(0.2)
    return 0
