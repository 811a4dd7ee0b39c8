"""Following a background job from a screen: its journal replayed, then streamed.

:func:`follow_job`, called in the thread worker that started or found the job, posts
:class:`JobAttached`, then each journaled event as a :class:`CoreEvent` (group ``<group>-replay``
for what was written before the screen attached, ``<group>`` for what comes after), then
:class:`JobDone` with the job's final record. A screen that closes cancels the worker; the job
goes on.
"""

from __future__ import annotations

import time
from typing import Any

from textual.worker import Worker, get_current_worker

from reviewtui.jobs import JobEnded, read_records, record_event
from reviewtui.tui.messages import CoreEvent, JobAttached, JobDone


class _WorkerStop:
    """``stop`` for JobStore.follow: set when the worker is cancelled."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def is_set(self) -> bool:
        return self.worker.is_cancelled

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return self.is_set()


def follow_job(screen: Any, job: Any, group: str) -> None:
    """Follow ``job`` (of ``screen.ws.jobs``) in the thread worker that calls this, until it ends.

    The worker that started or found the job follows it itself: its group's ``exclusive`` and the
    screen's closing cancel the following, never the job.
    """
    worker = get_current_worker()
    store = screen.ws.jobs
    screen.post_message(JobAttached(job))
    records, offset = read_records(job.journal_path)
    for record in records:
        if worker.is_cancelled:
            return
        item = record_event(record)
        if isinstance(item, JobEnded):
            screen.post_message(JobDone(store.get(job.id)))
            return
        screen.post_message(CoreEvent(item, f"{group}-replay"))
    for item in store.follow(job, start=offset, stop=_WorkerStop(worker)):
        if isinstance(item, JobEnded):
            screen.post_message(JobDone(store.get(job.id)))
            return
        screen.post_message(CoreEvent(item, group))
