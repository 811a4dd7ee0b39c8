"""Background jobs of a workspace: long work (train, tune, predict) that outlives the terminal.

A job is a separate process in its own session (so a dropped SSH connection or a closed app does
not end it), with a folder ``jobs/<id>/`` in the workspace:

* ``job.json`` — what it is (kind, the command it stands for, its parameters, the results it
  writes), its process (pid and the process's start time, so a reused pid is not mistaken for it),
  its state (starting, running, finished, cancelled, failed), when it started and ended (in the
  one UTC format of :mod:`reviewtui.files`), its result or its error. Replaced atomically.
* ``events.jsonl`` — its journal: every event it emitted (:mod:`reviewtui.events`: Progress,
  Notice, TrialUpdate), one JSON line each, appended and fsync'd, then one ``End`` record. Anyone
  can replay it and then follow it as it grows (:meth:`JobStore.follow`); fast progress is
  thinned to a few lines a second, every other event is kept.
* ``output.log`` — what the process printed.

:meth:`JobStore.claim` refuses a job that would write what a running one writes (two predicts
share results/result.csv; a tune and a train saving one model name share models/<name>), under a
lock so two claims at once cannot both pass. A job whose process is gone without an End record is
shown as failed, unless it was killed on request: then it is cancelled. :meth:`JobStore.cancel` sends
SIGTERM, which the job handles as a cancel (a search stops its trials, a prediction keeps its finished
chunks); ``force`` records the kill, then sends SIGKILL to its session.

This module knows nothing of what a job does: the workspace says what a job writes and which
command line runs it (``python -m reviewtui.cli.jobrun``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EpochProgress, Event, GpuStat, Notice, Progress, TrialUpdate
from reviewtui.files import atomic_write_text, file_lock, utc_now

KINDS = ("train", "tune", "predict", "keep")
ACTIVE = ("starting", "running")
FINAL = ("finished", "cancelled", "failed")
JOB_FILE = "job.json"
JOURNAL = "events.jsonl"
LOG = "output.log"
#: Progress of one task is journaled at most this often (and always at its end).
PROGRESS_EVERY_S = 0.25
#: how long after a job's record says it ended a follower waits for the journal's End record
END_GRACE_S = 30.0

DIED = ("the job's process ended without a final record (killed, out of memory, or the machine "
        "restarted); its output is in {log}")
KILLED = "killed on request (reviewtui jobs cancel --force) at {at}; its output is in {log}"


# --- events as JSON -------------------------------------------------------------------------------
_EVENT_TYPES: dict[str, type] = {"Progress": Progress, "Notice": Notice, "TrialUpdate": TrialUpdate,
                                  "EpochProgress": EpochProgress}


@dataclass(frozen=True)
class JobEnded:
    """The last record of a journal: how the job ended, its result (JSON data) or its error."""

    state: str
    error: str | None = None
    result: dict[str, Any] | None = None


def event_to_dict(event: Event) -> dict[str, Any]:
    """``{"type": "TrialUpdate", "event": {...}}``: an event as JSON data."""
    name = type(event).__name__
    if name not in _EVENT_TYPES:
        raise TypeError(f"not a core event: {event!r}")
    return {"type": name, "event": asdict(event)}


def event_from_dict(data: dict[str, Any]) -> Event:
    """The event :func:`event_to_dict` wrote (unknown fields from a newer reviewtui are left out)."""
    cls = _EVENT_TYPES[data["type"]]
    values = dict(data["event"])
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in values.items() if k in known}
    if cls is TrialUpdate:
        values["gpus"] = tuple(GpuStat(**g) for g in values.get("gpus") or ())
    return cls(**values)


# --- the job record --------------------------------------------------------------------------------
@dataclass
class Job:
    """One job (the contents of its ``job.json``); ``folder`` is where it lives."""

    id: str
    kind: str
    command: str
    params: dict[str, Any] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    state: str = "starting"
    created: str = ""
    started: str | None = None
    ended: str | None = None
    pid: int | None = None
    process_start: str | None = None
    #: the machine its process runs on: another machine's process cannot be looked for here (a
    #: workspace on a shared disk), so it is never found dead from there
    host: str | None = None
    cancel_requested: str | None = None
    killed: str | None = None  # when `jobs cancel --force` killed it: it ends cancelled, not failed
    result: dict[str, Any] | None = None
    error: str | None = None
    folder: Path = Path()

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def journal_path(self) -> Path:
        return self.folder / JOURNAL

    @property
    def log_path(self) -> Path:
        return self.folder / LOG

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], folder: Path) -> "Job":
        known = {f.name for f in fields(cls)} - {"folder"}
        return cls(**{k: v for k, v in data.items() if k in known}, folder=folder)


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` as the kernel counts it (Linux), "" when the system does
    not tell, None when there is no such live process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat = ""
    if stat:
        after = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces: fields after it
        if after[0] in ("Z", "X"):
            _reap(pid)
            return None
        return after[19]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def _host() -> str:
    import socket

    return socket.gethostname()


def _runner_alive(job: "Job") -> bool:
    """Whether ``job``'s process (its pid) is alive and is still the runner: the same start time,
    where the system tells it (a pid reused by another process is not). A job of another machine
    counts as alive: its process cannot be looked for from here."""
    if job.host and job.host != _host():
        return True
    now = _process_start(job.pid) if job.pid is not None else None
    return now is not None and (not job.process_start or not now or now == job.process_start)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # our own child (the app started it): let it go
    except ChildProcessError:
        pass


# --- the journal ----------------------------------------------------------------------------------
class JournalSink:
    """An EventSink that appends each event to a job's journal (fsync'd). Progress of a task (and
    a training epoch's EpochProgress) is written at most every :data:`PROGRESS_EVERY_S` (its last
    value is never lost: it is written before any other event and by :meth:`close`)."""

    def __init__(self, path: Path, job_id: str | None = None) -> None:
        self.path = Path(path)
        self.job_id = job_id  # the work it journals runs as this job (events.background_job)
        self._fh = open(self.path, "ab")
        self._lock = threading.Lock()
        self._seq = sum(1 for _ in open(self.path, "rb"))
        self._pending: dict[str, Progress | EpochProgress] = {}
        self._last: dict[str, float] = {}

    def _write(self, record: dict[str, Any]) -> None:
        self._seq += 1
        line = json.dumps({"seq": self._seq, "at": utc_now(), **record}, ensure_ascii=False, default=str)
        self._fh.write(line.encode("utf-8") + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _flush_pending(self) -> None:
        for task, event in list(self._pending.items()):
            self._write(event_to_dict(event))
            self._last[task] = time.monotonic()
        self._pending.clear()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, (Progress, EpochProgress)):
                now = time.monotonic()
                if isinstance(event, Progress):
                    key, final = event.task, event.total is not None and event.done >= event.total
                else:  # one per training step: an epoch's last step always gets through
                    key, final = f"epoch:{event.task}", event.step >= event.steps
                if not final and now - self._last.get(key, 0.0) < PROGRESS_EVERY_S:
                    self._pending[key] = event
                    return
                self._pending.pop(key, None)
                self._flush_pending()
                self._write(event_to_dict(event))
                self._last[key] = now
                return
            self._flush_pending()
            self._write(event_to_dict(event))

    def end(self, ended: JobEnded) -> None:
        """Write the End record (after any progress still held back) and close the journal."""
        with self._lock:
            self._flush_pending()
            self._write({"type": "End", **asdict(ended)})
            self._fh.close()

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._flush_pending()
                self._fh.close()


def read_records(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete records of a journal from byte ``offset`` on, and the offset after the last
    complete line (a line still being written is left for the next read)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    records = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
    return records, offset + end


def record_event(record: dict[str, Any]) -> Event | JobEnded:
    """The event (or the JobEnded) a journal record holds."""
    if record["type"] == "End":
        return JobEnded(record.get("state", "failed"), record.get("error"), record.get("result"))
    return event_from_dict(record)


# --- the jobs of a workspace ----------------------------------------------------------------------
def _not_ours(job: "Job") -> ReviewtuiError:
    """The error for a job whose process this user may not signal (another user started it)."""
    return ReviewtuiError(f"job {job.id} ({job.kind}) runs as another user (process {job.pid}): it was not "
                          "stopped; ask whoever started it, or stop it as that user (reviewtui jobs cancel "
                          f"{job.id})")


class JobStore:
    """The jobs under ``folder`` (a workspace's ``jobs/``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _locked(self, name: str = ".lock"):
        """An exclusive lock on the jobs folder's ``name`` (claims are made under it)."""
        return file_lock(self.folder / name)

    def _read(self, folder: Path) -> Job | None:
        try:
            data = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Job.from_dict(data, folder)

    def _save(self, job: Job) -> None:
        atomic_write_text(job.folder / JOB_FILE, json.dumps(job.to_dict(), indent=2, ensure_ascii=False) + "\n")

    def _update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a job's record under the store's lock; returns the job as saved."""
        with self._locked():
            job = self._read(self.folder / job_id)
            if job is None:
                raise ReviewtuiError(f"no job {job_id!r} in {self.folder}")
            for key, value in changes.items():
                setattr(job, key, value)
            self._save(job)
            return job

    def _checked(self, job: Job) -> Job:
        """``job`` with a dead process found out: an active job whose process is gone (or is
        another process with the same pid) is failed, or cancelled when it was killed on request
        (:meth:`cancel` with ``force``), and its record says so."""
        if not job.active:
            return job
        if job.pid is None:
            # claimed but never launched, or launched a moment ago: give it a minute to start
            if job.created and _age_s(job.created) < 60:
                return job
        elif _runner_alive(job):
            return job
        with self._locked():
            fresh = self._read(job.folder) or job
            if fresh.active and fresh.pid == job.pid:
                fresh.state = "cancelled" if fresh.killed else "failed"
                fresh.ended = fresh.ended or utc_now()
                fresh.error = fresh.error or (KILLED.format(at=_when(fresh.killed), log=fresh.log_path) if fresh.killed
                                              else DIED.format(log=fresh.log_path))
                self._save(fresh)
            return fresh

    def list(self) -> list[Job]:
        """Every job, oldest first, with dead processes found out."""
        if not self.folder.is_dir():
            return []
        jobs = [j for d in self.folder.iterdir() if d.is_dir() and (j := self._read(d)) is not None]
        return [self._checked(j) for j in sorted(jobs, key=lambda j: (j.created, j.id))]

    def get(self, job_id: str) -> Job:
        """The job ``job_id`` (or the one job whose id starts with it). Raises ReviewtuiError when
        there is none or the prefix fits several."""
        job_id = str(job_id).strip()
        if job_id and (self.folder / job_id / JOB_FILE).is_file():
            job = self._read(self.folder / job_id)
            if job is not None:
                return self._checked(job)
        matches = [j for j in self.list() if job_id and j.id.startswith(job_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ReviewtuiError(f"job id {job_id!r} fits {len(matches)} jobs ({', '.join(j.id for j in matches)}); "
                                 "give more of it")
        known = ", ".join(j.id for j in reversed(self.list()[-5:])) or "none yet"
        raise ReviewtuiError(f"no job {job_id!r} in this workspace (the latest, newest first: {known}); "
                             "`reviewtui jobs` lists them")

    def latest(self, kind: str | None = None) -> Job | None:
        """The newest job (of ``kind``), running ones first."""
        jobs = [j for j in self.list() if kind is None or j.kind == kind]
        running = [j for j in jobs if j.active]
        return (running or jobs or [None])[-1]

    def claim(self, kind: str, command: str, params: dict[str, Any], writes: Sequence[str]) -> Job:
        """Record a new job (state starting) unless a running job writes one of ``writes``:
        then raise ReviewtuiError naming that job and what to do."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        with self._locked():
            self._refuse_shared(writes)
            job_id = secrets.token_hex(4)
            while (self.folder / job_id).exists():
                job_id = secrets.token_hex(4)
            job = Job(job_id, kind, command, dict(params), list(writes), created=utc_now(),
                      folder=self.folder / job_id)
            job.folder.mkdir(parents=True)
            job.journal_path.touch()
            self._save(job)
            return job

    def refuse_shared(self, writes: Sequence[str]) -> None:
        """Raise ReviewtuiError, naming the job and what to do, when a running job writes one of
        ``writes`` (work about to run in the foreground would write over it, or it over the work)."""
        if self.folder.is_dir():  # read without the lock: a read-only jobs/ refuses nothing here
            self._refuse_shared(writes)

    def _refuse_shared(self, writes: Sequence[str]) -> None:
        for other in self.list():
            shared = sorted(set(other.writes) & set(writes))
            if other.active and shared:
                raise ReviewtuiError(
                    f"a {other.kind} job ({other.id}, started {_when(other.started or other.created)}) is already "
                    f"writing {', '.join(shared)}: wait for it (reviewtui jobs follow {other.id}) or cancel it "
                    f"(reviewtui jobs cancel {other.id})")
        busy = [w for w in sorted(set(writes)) if self._held(w)]
        if busy:
            raise ReviewtuiError(f"a command running in a terminal is writing {', '.join(busy)}: wait for it to "
                                 "finish, or stop it (Ctrl-C there)")

    def _writer_lock(self, target: str) -> Path:
        return self.folder / (".writes-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in target) + ".lock")

    def _held(self, target: str) -> bool:
        """Whether work in the foreground holds ``target``'s writer lock (:meth:`foreground`)."""
        import fcntl

        path = self._writer_lock(target)
        if not path.exists():
            return False
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing releases a lock taken here
        return False

    @contextmanager
    def foreground(self, writes: Sequence[str]) -> Iterator[None]:
        """While work runs in this process (a command in a terminal), hold a lock for each file it
        writes: a job started meanwhile that writes one of them is refused, as is the same work in
        another terminal. A jobs folder that cannot be written (a read-only workspace) locks nothing."""
        import fcntl

        fds: list[int] = []
        try:
            for target in sorted(set(writes)):
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    fd = os.open(self._writer_lock(target), os.O_RDWR | os.O_CREAT, 0o644)
                except OSError:
                    continue
                fds.append(fd)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise ReviewtuiError(f"a command running in another terminal is writing {target}: wait for it "
                                         "to finish, or stop it (Ctrl-C there)") from None
            yield
        finally:
            for fd in fds:
                os.close(fd)

    def launch(self, job: Job, argv: Sequence[str], *, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> Job:
        """Start ``argv`` (the job's runner) as a process in a session of its own, its output in
        the job's ``output.log``; returns the job with its pid. A failure to start fails the job."""
        try:
            with open(job.log_path, "ab") as log:
                proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        except OSError as exc:
            self.finish(job.id, "failed", error=f"could not start the job: {exc}")
            raise ReviewtuiError(f"could not start the {job.kind} job: {exc}") from exc
        with self._locked():
            fresh = self._read(job.folder) or job
            if fresh.pid is None:  # the runner may already have recorded itself
                fresh.pid = proc.pid
                fresh.process_start = _process_start(proc.pid) or ""
                fresh.host = _host()
                self._save(fresh)
            return fresh

    def mark_running(self, job_id: str) -> Job:
        """The runner's first step: this process runs the job."""
        pid = os.getpid()
        return self._update(job_id, state="running", started=utc_now(), pid=pid,
                            process_start=_process_start(pid) or "", host=_host())

    def finish(self, job_id: str, state: str, *, result: dict[str, Any] | None = None,
               error: str | None = None) -> Job:
        """The runner's last step: how the job ended."""
        if state not in FINAL:
            raise ValueError(f"not a final state: {state!r}")
        return self._update(job_id, state=state, ended=utc_now(), result=result, error=error)

    def sink(self, job: Job) -> JournalSink:
        """The EventSink that writes ``job``'s journal (for its runner)."""
        return JournalSink(job.journal_path, job.id)

    def cancel(self, job_id: str, *, force: bool = False) -> Job:
        """Ask a running job to stop (SIGTERM: it cancels cleanly); ``force`` kills its whole
        session at once (SIGKILL), recorded first so that the job is then cancelled, not failed.
        Raises ReviewtuiError when the job is not running."""
        job = self.get(job_id)
        if not job.active or job.pid is None:
            raise ReviewtuiError(f"job {job.id} ({job.kind}) is not running: it is {job.state}"
                                 + (f" since {_when(job.ended)}" if job.ended else ""))
        if job.host and job.host != _host():  # its pid means another process here
            raise ReviewtuiError(f"job {job.id} ({job.kind}) runs on the machine {job.host}: cancel it there "
                                 f"(reviewtui jobs cancel {job.id})")
        if force:
            # the kill is recorded before it is sent: whoever finds the process gone reads it
            job = self._update(job.id, cancel_requested=job.cancel_requested or utc_now(), killed=utc_now())
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except ProcessLookupError:  # it had ended by itself: not killed here
                job = self._update(job.id, killed=None)
            except PermissionError as exc:  # another user's job: not killed, and not to be read as killed
                self._update(job.id, killed=None)
                raise _not_ours(job) from exc
            return self._checked(job)
        try:
            os.kill(job.pid, signal.SIGTERM)
        except ProcessLookupError:
            return self._checked(job)
        except PermissionError as exc:
            raise _not_ours(job) from exc
        return self._update(job.id, cancel_requested=utc_now())

    @staticmethod
    def _writing_end(job: Job) -> bool:
        """Whether ``job``'s runner has recorded how it ended and is still alive, about to write
        the journal's End record (it writes the record first). Waited for :data:`END_GRACE_S` at most:
        a runner that lives on without writing it (hung, or this very process) gets one made up."""
        if job.pid is None or job.pid == os.getpid() or _age_s(job.ended or "") > END_GRACE_S:
            return False
        return _runner_alive(job)

    @staticmethod
    def last_progress(job: Job, tail_bytes: int = 65536) -> Progress | None:
        """The last Progress ``job`` journaled (None when none is in the journal's last ``tail_bytes``):
        read from the journal's end, so a long job's journal is not read whole."""
        try:
            with open(job.journal_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - tail_bytes))
                data = fh.read()
        except OSError:
            return None
        lines = data.split(b"\n")
        if size > tail_bytes:
            lines = lines[1:]  # the first may be the end of a line cut by the seek
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue  # an empty line, or one still being written
            if isinstance(record, dict) and record.get("type") == "Progress":
                return event_from_dict(record)  # type: ignore[return-value]
        return None

    def events(self, job: Job) -> list[Event | JobEnded]:
        """Everything ``job`` has journaled so far."""
        records, _ = read_records(job.journal_path)
        return [record_event(r) for r in records]

    def follow(self, job: Job, *, poll_s: float = 0.2, stop: Any = None,
               start: int = 0) -> Iterator[Event | JobEnded]:
        """``job``'s journal from byte ``start`` (its beginning), then each event as it is written,
        ending with a JobEnded (from the journal, or made up when the job died without writing
        one). Stops early, without a JobEnded, when ``stop`` (a threading.Event, or anything with
        ``is_set`` and ``wait``) is set."""
        offset = start
        while True:
            records, offset = read_records(job.journal_path, offset)
            for record in records:
                item = record_event(record)
                yield item
                if isinstance(item, JobEnded):
                    return
            if stop is not None and stop.is_set():
                return
            if not records:
                current = self._checked(self._read(job.folder) or job)
                if not current.active and not self._writing_end(current):
                    records, offset = read_records(job.journal_path, offset)  # written just before it ended
                    for record in records:
                        item = record_event(record)
                        yield item
                        if isinstance(item, JobEnded):
                            return
                    yield JobEnded(current.state, current.error, current.result)
                    return
                if stop is not None:
                    stop.wait(poll_s)
                else:
                    time.sleep(poll_s)


def _age_s(stamp: str) -> float:
    from reviewtui.files import parse_timestamp

    try:
        return time.time() - parse_timestamp(stamp).timestamp()
    except ValueError:
        return float("inf")


def _when(stamp: str | None) -> str:
    return (stamp or "?").replace("T", " ")[:19]
