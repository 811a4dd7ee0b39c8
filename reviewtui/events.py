"""The small event vocabulary that long-running core work emits and both front ends render.

Core functions take ``on_event: EventSink | None``; the CLI feeds events to rich progress bars and
live tables, the app posts them as Textual messages from a thread worker. Events are plain frozen
dataclasses so they can cross threads and be compared in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``task`` finished (``total`` None when unknown)."""

    task: str
    done: int
    total: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class EpochProgress:
    """Training progress inside one epoch: ``step`` of ``steps`` done in epoch ``epoch`` of
    ``epochs``, ``samples_per_s`` over this epoch so far and ``eta_s`` seconds left in it. ``task``
    says what trains ("train", "cv 2/5 finetune:mpnet")."""

    task: str
    epoch: int
    epochs: int
    step: int
    steps: int
    samples_per_s: float
    eta_s: float


@dataclass(frozen=True)
class Notice:
    """A message for the user; ``level`` is "info", "warning" or "error"."""

    level: str
    text: str


@dataclass(frozen=True)
class GpuStat:
    index: int
    name: str
    utilization: float | None  # percent
    memory_used_mb: float | None
    memory_total_mb: float | None


@dataclass(frozen=True)
class TrialUpdate:
    """One Ray Tune trial changed. ``status`` is PENDING, RUNNING, TERMINATED, STOPPED or ERROR.

    ``metrics`` are the trial's latest validation report; ``best`` the metrics of its best report so
    far by the search objective (``{}`` before the first report): the one meaning of a trial's
    "best" in the live table, its star, the summary and the saved model. ``early_stopped`` is True
    when the scheduler (ASHA) stopped the trial before its last epoch.
    """

    trial_id: str
    status: str
    config: dict[str, Any] = field(default_factory=dict)
    iteration: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    early_stopped: bool = False
    error: str | None = None
    gpus: tuple[GpuStat, ...] = ()
    best: dict[str, float] = field(default_factory=dict)


Event = Union[Progress, EpochProgress, Notice, TrialUpdate]
EventSink = Callable[[Event], None]


def emit(sink: EventSink | None, event: Event) -> None:
    """Send ``event`` to ``sink`` when there is one."""
    if sink is not None:
        sink(event)


def background_job(sink: EventSink | None) -> str | None:
    """The id of the background job whose journal ``sink`` writes (a sink with a ``job_id``, or one
    passing events on to such a sink as ``.sink``), None in the foreground. No terminal waits on a
    job's work: what it says leaves out ``--detach`` and Ctrl-C and names ``reviewtui jobs cancel``."""
    for _ in range(8):  # sinks wrap sinks a level or two deep
        if sink is None:
            return None
        job = getattr(sink, "job_id", None)
        if isinstance(job, str) and job:
            return job
        sink = getattr(sink, "sink", None)
    return None


class ShiftedProgress:
    """An EventSink that passes every event on to ``sink``, Progress moved ``offset`` units on and
    measured against ``total``: a part of some work reporting its own progress as progress of the
    whole (a chunk of a run, a stage of a job). With ``task`` the Progress is re-tagged as that
    task, the part's own task becoming its detail ("predict" with detail "embed")."""

    def __init__(self, sink: EventSink | None, offset: int, total: int | None, task: str | None = None) -> None:
        self.sink, self.offset, self.total, self.task = sink, offset, total, task

    def __call__(self, event: Event) -> None:
        if self.sink is None:
            return
        if isinstance(event, Progress):
            if self.task is None:
                event = Progress(event.task, self.offset + event.done, self.total, event.detail)
            else:
                event = Progress(self.task, self.offset + event.done, self.total, event.task)
        self.sink(event)
