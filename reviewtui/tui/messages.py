"""The app's messages: core events carried into the app, and the results of its workers.

Core work runs in thread workers. It reports progress through an ``on_event`` callback, which
:func:`event_sink` turns into :class:`CoreEvent` messages (high-rate progress coalesces with
``can_replace`` so a fast loop never floods the queue). When the work is done, the worker posts
one typed result message (``DiffLoaded``, ``TuneFinished``...) to its screen, which handles it
with ``@on(...)``. ``post_message`` is thread-safe, so workers never call back into widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EpochProgress, Notice, Progress, TrialUpdate
from reviewtui.jobs import JOB_FILE


def error_text(error: BaseException) -> str:
    """What to tell the user: a ReviewtuiError's own message (as the CLI prints it), else the type too."""
    if isinstance(error, ReviewtuiError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class CoreEvent(Message):
    """One core event (Progress, Notice or TrialUpdate) for the screen that started the work."""

    def __init__(self, event: Any, group: str = "") -> None:
        super().__init__()
        self.event = event
        self.group = group

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, CoreEvent) or message.group != self.group:
            return False
        new, old = self.event, message.event
        if isinstance(new, Progress) and isinstance(old, Progress):
            return new.task == old.task
        if isinstance(new, TrialUpdate) and isinstance(old, TrialUpdate):
            # a later RUNNING update of the same trial supersedes an earlier one; status changes never drop
            return new.trial_id == old.trial_id and new.status == old.status == "RUNNING"
        return False


class EpochProgressed(Message):
    """A training step's :class:`reviewtui.events.EpochProgress` (the step of the epoch, samples/s,
    time left) for the screen that started the training. One arrives per step, so a newer one of
    the same task replaces one still waiting in the queue (``can_replace``)."""

    def __init__(self, event: EpochProgress, group: str = "") -> None:
        super().__init__()
        self.event = event
        self.group = group

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, EpochProgressed) and message.group == self.group
                and message.event.task == self.event.task)


def event_sink(target: MessagePump, group: str = ""):
    """An EventSink for core functions that posts each event to ``target`` (safe from threads):
    EpochProgress as :class:`EpochProgressed`, every other event as :class:`CoreEvent`."""

    def sink(event: Any) -> None:
        if isinstance(event, EpochProgress):
            target.post_message(EpochProgressed(event, group))
        else:
            target.post_message(CoreEvent(event, group))

    return sink


def notice_severity(event: Notice) -> str:
    return {"error": "error", "warning": "warning"}.get(event.level, "information")


class Result(Message, bubble=False):
    """A message for one screen (or the app) only, never bubbling: mostly the result of a worker."""


# --- the whole app ---------------------------------------------------------------------------------
class WorkspaceChanged(Result):
    """The workspace changed on disk (a version, labels, a model): screens reload what they show."""


class ExportFinished(Result):
    """``e`` wrote a version (``info``), or nothing changed since ``latest`` (``info`` None)."""

    def __init__(self, info: Any, latest: str | None) -> None:
        super().__init__()
        self.info = info
        self.latest = latest


# --- background jobs -------------------------------------------------------------------------------
class JobAttached(Result):
    """A screen follows ``job`` now (just started, or found running or finished when it opened):
    its journal's events come next as CoreEvents, the ones written before as ``replayed``."""

    def __init__(self, job: Any) -> None:
        super().__init__()
        self.job = job


#: A file in a job's folder: the app has told of the job's end (its notification was shown once).
TOLD_FILE = "told"


def first_telling(job: Any) -> bool:
    """True the first time the app tells of ``job``'s end, False ever after: the first call leaves
    :data:`TOLD_FILE` in the job's folder. A job that has no folder of the workspace's jobs, or
    one the app cannot write to, is told of every time."""
    folder = Path(getattr(job, "folder", None) or "")
    if not (folder / JOB_FILE).is_file():
        return True
    try:
        with open(folder / TOLD_FILE, "x", encoding="utf-8") as fh:
            fh.write(f"{job.state}\n")
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


class JobDone(Result):
    """The followed job ended; ``job`` is its final record (state, result, error). ``news`` is
    False when the app told of this end before (a screen reopened on a job that ended earlier,
    in this run of the app or an earlier one): the screen shows the job as it ended again, but its
    notifications are old news and are not shown (:meth:`WorkspaceScreen.telling` holds them back
    while it is handled)."""

    def __init__(self, job: Any) -> None:
        super().__init__()
        self.job = job
        self.news = first_telling(job)


class JobsLoaded(Result):
    """The workspace's background jobs, oldest first."""

    def __init__(self, jobs: list) -> None:
        super().__init__()
        self.jobs = jobs


# --- status ----------------------------------------------------------------------------------------
class StatusLoaded(Result):
    """The workspace status, the models' history and the learning curve."""

    def __init__(self, status: Any, history: list, curve: list) -> None:
        super().__init__()
        self.status = status
        self.history = history
        self.curve = curve


# --- labeling --------------------------------------------------------------------------------------
class QueueLoaded(Result):
    """The next reviews of the labeling queue (fewer than asked: the queue's end)."""

    def __init__(self, assets: list, asked: int) -> None:
        super().__init__()
        self.assets = assets
        self.asked = asked


class SuggestionsReady(Result):
    """external id -> (label, confidence) from the quick model; ``ranked_by`` what ranked the
    batch waiting in the queue, as the workspace recorded it (None: not read, or not recorded)."""

    def __init__(self, suggestions: dict[str, Any], ranked_by: str | None = None) -> None:
        super().__init__()
        self.suggestions = suggestions
        self.ranked_by = ranked_by


class RerankFinished(Result):
    """A re-rank of the queue ended; ``ranked`` is False when it failed (the error is shown apart);
    ``first`` names the zero-shot first batch when that is what ranked it ("" otherwise)."""

    def __init__(self, ranked: bool, first: str = "") -> None:
        super().__init__()
        self.ranked = ranked
        self.first = first


class SentToReview(Result):
    """Assets went to review (a MoveResult); ``asset``: the one review the labeling screen sent."""

    def __init__(self, moved: Any, asset: Any = None) -> None:
        super().__init__()
        self.moved = moved
        self.asset = asset


# --- diff ------------------------------------------------------------------------------------------
class DiffLoaded(Result):
    def __init__(self, diff: Any) -> None:
        super().__init__()
        self.diff = diff


# --- tuning ----------------------------------------------------------------------------------------
class GpusProbed(Result):
    def __init__(self, stats: tuple) -> None:
        super().__init__()
        self.stats = stats


class TuneFinished(Result):
    """A search ended: its TuneResult, or None when it failed (the error is shown apart)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class TunedModelSaved(Result):
    """``k`` retrained and saved the best trial of a cancelled search: its ModelCard, or None
    when that failed (the error is shown apart)."""

    def __init__(self, card: Any) -> None:
        super().__init__()
        self.card = card


# --- summary ---------------------------------------------------------------------------------------
class SummaryLoaded(Result):
    """The summary of every version (``overall``) and of the chosen filter (``chosen``); or, when
    there are no predictions yet, ``missing``: why (the CLI's text)."""

    def __init__(self, overall: Any = None, chosen: Any = None, missing: str | None = None) -> None:
        super().__init__()
        self.overall = overall
        self.chosen = chosen
        self.missing = missing


class PredictFinished(Result):
    """Prediction ended: its PredictResult, or None when it failed or was cancelled."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class ReportWritten(Result):
    def __init__(self, paths: Any) -> None:
        super().__init__()
        self.paths = paths


# --- collect (status) --------------------------------------------------------------------------------
class CollectFinished(Result):
    """A collect ended: its CollectOutcome (cancelled ones too: what was saved is imported), or
    None when it failed (the error is shown apart)."""

    def __init__(self, outcome: Any) -> None:
        super().__init__()
        self.outcome = outcome


# --- the labeling loop -----------------------------------------------------------------------------
class StopSignalChanged(Result):
    """The stop signal after a refit (``loop.stopping.StopSummary``)."""

    def __init__(self, summary: Any) -> None:
        super().__init__()
        self.summary = summary


class FilterApplied(Result):
    """The labeling queue is filtered: what the filter keeps (``description``) and how many, counted
    for ``scope`` (the filter and search as ``Workspace.find`` takes them); ``why``, when it keeps
    nothing because no review of its apps has the version it names, says so."""

    def __init__(self, description: str, total: int, scope: dict[str, Any] | None = None,
                 why: str | None = None) -> None:
        super().__init__()
        self.description = description
        self.total = total
        self.scope = scope
        self.why = why


class BulkLabeled(Result):
    """``B`` labeled the filtered queue (``loop.search.BulkLabel``)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class VersionsListed(Result):
    """The app versions of the reviews, newest first, by app (one entry, None, for one app or
    none): the discover screen's choices."""

    def __init__(self, versions: dict[str | None, list[str]], default: str = "other") -> None:
        super().__init__()
        self.versions = versions
        self.default = default  # the selection plain `reviewtui discover` looks into


class DiscoveryFinished(Result):
    """Clusters of a selection (``loop.discover.Discovery``), or None when discovery failed."""

    def __init__(self, discovery: Any) -> None:
        super().__init__()
        self.discovery = discovery


class CategoryMade(Result):
    """``n`` made a cluster a category (``loop.discover.NewCategory``)."""

    def __init__(self, made: Any) -> None:
        super().__init__()
        self.made = made


# --- label quality ---------------------------------------------------------------------------------
class ReviewQueueLoaded(Result):
    """The next reviews of a review queue of the labeling screen (a tui.queues.QueuePage), for the
    queue ``name`` as chosen the ``generation``-th time; ``error``: why it could not be built."""

    def __init__(self, name: str, generation: int, page: Any = None, error: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.generation = generation
        self.page = page
        self.error = error


class QualityLoaded(Result):
    """The quality screen's numbers (a QualityStats), the open disagreements to send to review, and
    the open ones a send leaves as they are ({id: why}: waiting in review already, reviewed since)."""

    def __init__(self, stats: Any, open_disagreements: list, left_out: dict | None = None) -> None:
        super().__init__()
        self.stats = stats
        self.open_disagreements = open_disagreements
        self.left_out = dict(left_out or {})
