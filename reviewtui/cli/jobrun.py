"""The process of a background job: ``python -m reviewtui.cli.jobrun WORKSPACE JOB_ID``.

:meth:`reviewtui.workspace.Workspace.start_job` starts it in a session of its own. It records
itself as the job's process, runs the job's work in a thread (Workspace.run_job) with every event
going to the job's journal, and ends the journal and ``job.json`` with how it went: finished (and
what it made), cancelled, or failed (and why). SIGTERM and SIGINT cancel the work the way Ctrl-C
does in the foreground (a search stops its trials and keeps what finished, a prediction keeps its
finished chunks); SIGHUP is ignored: the terminal that started it going away is no reason to stop.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from typing import Any, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice
from reviewtui.jobs import JobEnded


def result_data(kind: str, result: Any) -> dict[str, Any]:
    """What a job's work returned, as the JSON data kept in job.json and the journal's End record
    (the ``--json`` output of the same command; a search also keeps all :func:`save_tuned` needs)."""
    from reviewtui.cli import render

    if result is None:
        return {}
    if kind == "tune":
        from reviewtui.modeling.tuning import tune_result_to_dict

        return {**render.tune_json(result), "search": tune_result_to_dict(result)}
    if kind == "train" and isinstance(result, tuple):  # train --auto: (Selection, ModelCard)
        selection, card = result
        return {"model": card.to_dict(), "selection": selection.table()}
    if kind in ("train", "keep"):
        return {"model": result.to_dict()}
    if kind == "predict":
        return result.to_dict()
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    root, job_id = list(argv if argv is not None else sys.argv[1:])[:2]
    from reviewtui.modeling import Cancelled
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    store = ws.jobs
    job = store.mark_running(job_id)
    sink = store.sink(job)
    cancel = threading.Event()

    # the signal that asked to cancel, said in the journal by the main loop below (up to 0.2 s
    # after it came: the work's own words on stopping may come first)
    asked: list[str] = []

    def stop(signum: int, _frame: Any) -> None:
        # only a flag: the handler runs in the main thread, which may be inside the journal's lock
        if not cancel.is_set():
            asked.append(signal.Signals(signum).name)
            cancel.set()

    def say_asked() -> None:
        if asked:
            sink(Notice("warning", f"cancel requested ({asked.pop()}): stopping"))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = ws.run_job(job, on_event=sink, cancel=cancel)
        except Cancelled as exc:
            outcome["cancelled"] = str(exc) or "cancelled"
        except ReviewtuiError as exc:
            outcome["error"] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - whatever it was, the job record must say so
            traceback.print_exc()
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=work, name=f"job-{job.id}", daemon=True)
    thread.start()
    while thread.is_alive():  # the main thread stays free for the signal handlers
        thread.join(0.2)
        say_asked()
    say_asked()

    result = outcome.get("result")
    if "error" in outcome:
        state, error, data = "failed", outcome["error"], None
    elif "cancelled" in outcome or getattr(result, "cancelled", False):
        state, error, data = "cancelled", outcome.get("cancelled"), result_data(job.kind, result)
    else:
        state, error, data = "finished", None, result_data(job.kind, result)
    # nothing left to cancel: a late signal must not stop the ending half-written
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the record first: whoever sees the journal's End record then finds the job ended
    store.finish(job.id, state, result=data, error=error)
    sink.end(JobEnded(state, error, data))
    ws.close()
    return 0 if state == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
