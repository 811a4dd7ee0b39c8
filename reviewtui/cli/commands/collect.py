"""``reviewtui collect play APP_ID...``: collect Google Play reviews into the workspace.

The collect runs in a thread while a progress bar shows the pages; Ctrl-C sets the cancel event,
the collect stops at once (its pause between pages wakes up), what it saved is imported, and a
rerun continues where it stopped.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any, Callable

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.cli.live import ProgressSink
from reviewtui.collect.options import parse_count, parse_score, parse_since
from reviewtui.errors import ReviewtuiError


def run_cancellable(work: Callable[[threading.Event], Any]) -> tuple[Any, bool]:
    """Run ``work(cancel)`` in a thread; Ctrl-C sets ``cancel`` and waits for it to stop. Returns
    (what ``work`` returned, whether Ctrl-C was pressed); re-raises what it raised."""
    cancel = threading.Event()
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work(cancel)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="reviewtui-collect", daemon=True)
    worker.start()
    interrupted = False
    while not done.is_set():
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:
            interrupted = True
            cancel.set()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], interrupted


def cmd_collect(args: argparse.Namespace) -> int:
    if getattr(args, "collect_cmd", None) != "play":
        raise ReviewtuiError("name the store to collect from: reviewtui collect play APP_ID... "
                             "(Google Play; the app id is in its store address, ?id=com.example.app)")
    count, score, since = parse_count(args.count), parse_score(args.score), parse_since(args.since)
    ws = open_workspace(args)
    with ProgressSink() as sink:
        outcome, interrupted = run_cancellable(lambda cancel: ws.collect(
            args.app_ids, lang=args.lang, country=args.country, sort=args.sort, count=count, score=score,
            since=since, do_import=not args.no_import, on_event=sink, cancel=cancel))
    if args.json:
        render.print_json(collect_json(outcome))
    else:
        render.print_lines(say.collect_lines(outcome, ws.raw_dir.relative_to(ws.root)))
        if outcome.imported is not None and outcome.imported.reports:
            render.print_lines([f"{ws.store.count():,} reviews in the workspace. Next: reviewtui status, or label "
                                "them in the app (reviewtui)"])
    return 130 if outcome.collect.cancelled and interrupted else 0


def collect_json(outcome: Any) -> dict[str, Any]:
    result = outcome.collect
    return {"cancelled": result.cancelled, "pages": result.pages, "reviews": result.reviews,
            "apps": [{"app_id": a.app_id, "pages": a.pages, "reviews": a.reviews,
                      "stopped_because": a.stopped_because, "resumed": a.resumed, "folder": str(a.folder),
                      "page_files": [str(p) for p in a.page_files]} for a in result.apps],
            "imported": None if outcome.imported is None else [r.__dict__ for r in outcome.imported.reports]}
