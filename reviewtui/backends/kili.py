"""The Kili backend: labeling happens in a Kili Technology project, through the real kili SDK.

The workspace's SQLite store stays the local mirror: a push uploads its assets to Kili, a pull
records Kili's labels in its label history (source ``kili``), so export, diff, training and the
app work exactly as with local labels. Review and queue moves use the SDK's current calls
(``add_to_review``, ``send_back_to_queue``, ``set_assets_priority``; kili 26 silently drops
``update_properties_in_assets(status_array=...)``) and report every asset Kili declined.

Every SDK or network failure surfaces as a ReviewtuiError within seconds (see kili_client), and
every operation can be rerun: push asks Kili which external ids exist and skips them, pull only
writes once everything was read and skips what the store already has.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from reviewtui.backends import MoveResult, SyncReport
from reviewtui.backends.kili_client import LOST_ANSWER, connect, connection_settings, kili_errors, redact
from reviewtui.backends.kili_interface import (
    CLASSIFICATION_JOB,
    InterfaceCheck,
    LabelProblem,
    build_interface,
    check_interface,
    prediction_response,
    read_label,
)
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.files import parse_timestamp, utc_now
from reviewtui.settings import KiliSettings
from reviewtui.store import LabelRow, LocalStore, NewAsset

BATCH = 100  # Kili's documented maximum per append call; also our unit of resumption
#: The metadata a push sends with each asset (store key -> Kili key): what tells reviews apart in
#: Kili's filters (the app of a several-app project, stars, version, date); no personal data.
METADATA_KEYS = {"app": "app", "score": "score", "app_version": "app_version", "at": "date",
                 "thumbs_up": "thumbs_up", "title": "title"}
LABEL_TYPES = ("DEFAULT", "REVIEW")  # human labels; PREDICTION/INFERENCE/AUTOSAVE are not labels

V1_STATUSES = ("TODO", "ONGOING", "LABELED", "TO_REVIEW", "REVIEWED")
DECLINED = {
    "review": "Kili declined: the asset has no label yet, or it cannot move on (its step is not done, "
              "someone is labeling it)",
    "queue": "Kili declined: the asset is still to be labeled (or skipped, in a step workflow)",
    "priority": "Kili declined: the asset is not waiting to be labeled (in progress, done or skipped)",
}


@dataclass
class ProjectInfo:
    """A Kili project as reviewtui sees it."""

    id: str
    title: str
    input_type: str
    workflow: str  # "V1" (statuses) or "V2"/"V3" (steps)
    steps: list[dict[str, Any]]
    check: InterfaceCheck
    #: the workspace's reviews with no asset of this project (what a push sends; attach matches the
    #: project's external ids first), once the project is this workspace's; None before
    to_push: int | None = None
    #: the workspace's reviews, once the project is this workspace's; None before
    reviews: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "input_type": self.input_type, "workflow": self.workflow,
                "steps": [s.get("name") for s in self.steps], "classification_job": self.check.classification_job,
                "ner_job": self.check.ner_job, "warnings": list(self.check.warnings), "to_push": self.to_push}


@dataclass
class PushReport:
    """What ``push`` did. ``left_out``: local assets past the cap, not pushed."""

    project_id: str
    pushed: int = 0
    already_in_kili: int = 0
    left_out: int = 0
    cap: int = 0
    batches: int = 0
    cancelled: bool = False
    left_out_ids: list[str] = field(default_factory=list)
    #: assets once pushed to (or pulled from) this project that Kili no longer has: deleted there,
    #: and not sent again unless the push was asked to restore them
    deleted_in_kili: int = 0
    deleted_ids: list[str] = field(default_factory=list)
    restored: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["left_out_ids"] = self.left_out_ids[:20]
        d["deleted_ids"] = self.deleted_ids[:20]
        return d


@dataclass
class KiliPullReport(SyncReport):
    """A SyncReport with what a Kili pull also did."""

    project_id: str = ""
    incremental: bool = False
    statuses_changed: int = 0
    skips_recorded: int = 0
    skips_undone: int = 0  # skips Kili gave before and has taken off since
    other_authors_recorded: int = 0  # labels of authors other than the latest one, kept in the history
    #: reviews labeled here (the app, ``label``) after Kili's label, or with none in Kili: their
    #: label and status stay as they are (Kili's label, when it has one, goes into the history)
    local_kept: int = 0
    #: reviews whose label here came from Kili and that Kili now has with no label (a project made
    #: anew for the workspace, or the label deleted in Kili): label, status and skip kept here, so
    #: that no version silently leaves them out
    kili_label_gone: list[str] = field(default_factory=list)
    #: reviews labeled here that Kili has skipped (after that label, or with no label there): the
    #: label here is kept and the skip not taken; named so that nobody learns of it only later
    kili_skips_not_taken: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PredictionReport:
    project_id: str
    model_name: str
    sent: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def map_step(step_type: str | None, step_status: str | None, has_label: bool) -> tuple[str, bool]:
    """(reviewtui status, skipped) for an asset in a step workflow (Kili V2/V3).

    A labeling step (type DEFAULT): TO_DO -> TODO; IN_PROGRESS, PARTIALLY_DONE, REWORK (and the
    deprecated DOING, REDO) -> ONGOING; DONE -> LABELED. A review step (type REVIEW, or a name in
    [kili] review_steps): DONE -> REVIEWED, anything else -> TO_REVIEW. SKIPPED keeps the status
    its label gives and sets the skipped flag. No current step: LABELED with a label, else TODO.
    """
    status = (step_status or "").upper()
    if step_type is None:
        return ("LABELED" if has_label else "TODO"), status == "SKIPPED"
    if status == "SKIPPED":
        return ("LABELED" if has_label else "TODO"), True
    if step_type == "REVIEW":
        return ("REVIEWED" if status == "DONE" else "TO_REVIEW"), False
    if status == "TO_DO":
        return ("ONGOING" if has_label else "TODO"), False
    if status == "DONE":
        return ("LABELED" if has_label else "TODO"), False
    return "ONGOING", False


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _local_label_wins(local_at: str, label: Mapping[str, Any] | None) -> bool:
    """Whether a label given in this workspace at ``local_at`` stays over Kili's latest ``label``:
    when Kili has none, or Kili's is older (it was given before, and the local one corrects it)."""
    if label is None:
        return True
    try:
        return parse_timestamp(local_at) > parse_timestamp(str(label.get("createdAt") or ""))
    except ValueError:
        return False


def _same_time(stored: str | None, given: Any) -> bool:
    """Whether a stored event time and a time Kili gives are the same instant."""
    try:
        return parse_timestamp(str(stored or "")) == parse_timestamp(str(given or ""))
    except ValueError:
        return False


def _other_authors_latest(labels: Sequence[Mapping[str, Any]], latest_author: str) -> list[Mapping[str, Any]]:
    """The latest human label (DEFAULT or REVIEW) of each author but ``latest_author``, oldest first."""
    best: dict[str, Mapping[str, Any]] = {}
    for lab in labels:
        email = (lab.get("author") or {}).get("email")
        if not email or email == latest_author or lab.get("labelType", "DEFAULT") not in LABEL_TYPES:
            continue
        if email not in best or str(lab.get("createdAt") or "") >= str(best[email].get("createdAt") or ""):
            best[email] = lab
    return sorted(best.values(), key=lambda lab: str(lab.get("createdAt") or ""))


def _kili_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """App, score, app version, date, thumbs up and title (:data:`METADATA_KEYS`) as Kili asset
    metadata; no personal data."""
    out: dict[str, Any] = {}
    for key, kili_key in METADATA_KEYS.items():
        value = metadata.get(key)
        if value is not None and value != "":
            out[kili_key] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


class KiliBackend:
    """A LabelingBackend whose labels live in a Kili project.

    Built from the store, the taxonomy, the ``[kili]`` settings, the workspace folder (where a
    ``.env`` may hold the API key), the author of local changes and the project id of
    ``[backend] project_id`` (empty before ``kili create``/``attach``). ``create_project`` and
    ``attach`` return the project; keeping its id and job names in reviewtui.toml is the caller's
    part (the workspace's), and :attr:`settings` shows the job names this backend now uses.
    """

    name = "kili"

    def __init__(self, store: LocalStore, taxonomy: Taxonomy, settings: KiliSettings, root: Path,
                 author: str, *, project_id: str | None = None) -> None:
        self.store = store
        self.taxonomy = taxonomy
        self.settings = settings
        self.root = Path(root)
        self.author = author
        self.connection = connection_settings(self.root, settings)
        self._project_id = str(project_id) if project_id else None
        self._client: Any = None
        self._project: ProjectInfo | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:  # never the key
        return f"KiliBackend(project_id={self.project_id!r}, endpoint={self.connection.endpoint!r})"

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def project_id(self) -> str | None:
        return self._project_id

    def _require_project(self) -> str:
        pid = self.project_id
        if not pid:
            raise ReviewtuiError("this workspace has no Kili project yet: run `reviewtui kili create` or "
                                 "`reviewtui kili attach PROJECT_ID`")
        return pid

    @property
    def kili(self) -> Any:
        """The connected SDK client (connects, and checks the key, on first use)."""
        with self._lock:
            if self._client is None:
                self._client = connect(self.connection)
            return self._client

    def _errors(self, doing: str):
        return kili_errors(self.connection, doing)

    def _jobs(self) -> tuple[str, str | None]:
        return self.settings.classification_job, (self.settings.ner_job or None)

    def project_info(self, project_id: str | None = None) -> ProjectInfo:
        """The project (default: the workspace's) with its interface checked against the taxonomy."""
        pid = project_id or self._require_project()
        if self._project is not None and self._project.id == pid:
            return self._project
        try:
            with self._errors(f"reading Kili project {pid}"):
                found = list(self.kili.projects(
                    project_id=pid, disable_tqdm=True,
                    fields=["id", "title", "inputType", "jsonInterface", "workflowVersion",
                            "steps.id", "steps.name", "steps.type"]))
        except ReviewtuiError as exc:
            if "Kili refused the request" not in exc.message:
                raise
            raise ReviewtuiError(f"Kili project {pid!r} cannot be read at {self.connection.endpoint} "
                                 f"({exc.message.split('Kili refused the request: ', 1)[-1]}); check the id "
                                 "(Kili > project > settings) and that this API key's user is a member") from None
        if not found:
            raise ReviewtuiError(f"Kili project {pid!r} does not exist at {self.connection.endpoint} or this API key "
                                 "cannot see it; check the id (Kili > project > settings) and KILI_API_KEY")
        p = found[0]
        info = ProjectInfo(pid, str(p.get("title", "")), str(p.get("inputType", "")),
                           str(p.get("workflowVersion") or "V1"), list(p.get("steps") or []),
                           check_interface(p.get("jsonInterface"), self.taxonomy))
        if project_id is None or project_id == self.project_id:
            self._project = info
            self._forget_other_projects_ids(pid)
        return info

    def _forget_other_projects_ids(self, pid: str, *, unrecorded_too: bool = False) -> None:
        """Drop the Kili asset ids the store keeps for another project than ``pid``.

        They are an asset's id in the project they were pushed to; when reviewtui.toml's project_id
        now names another project (edited by hand), a move or a prediction sent with them would act
        on the first project's assets. The ids of this project are asked for again as needed. With
        ``unrecorded_too`` (a project adopted by create or attach) ids kept before the store
        recorded their project are dropped too; reading the configured project keeps them.
        """
        kept = self.store.get_meta("kili.project_id")
        if kept == pid:
            return
        if kept is not None or unrecorded_too:
            self.store.clear_remote_ids()
        self.store.set_meta("kili.project_id", pid)

    def _adopt(self, info: ProjectInfo) -> None:
        """Use project ``info`` from now on: its id and job names (in :attr:`settings`)."""
        self._project_id = info.id
        self.settings = replace(self.settings, classification_job=info.check.classification_job or CLASSIFICATION_JOB,
                                ner_job=info.check.ner_job or "")
        self._project = info
        self._forget_other_projects_ids(info.id, unrecorded_too=True)

    # -- project ------------------------------------------------------------------------------
    def create_project(self, title: str, description: str = "") -> ProjectInfo:
        """Create a TEXT project whose interface is built from the taxonomy and use it; returns the
        project (its id and job names go into reviewtui.toml). Raises ReviewtuiError when the
        workspace already has a project."""
        if self.project_id:
            raise ReviewtuiError(f"this workspace already uses Kili project {self.project_id} "
                                 "(reviewtui.toml [backend] project_id); remove that line to create another")
        if not title.strip():
            raise ReviewtuiError("a Kili project needs a title (--title)")
        interface = build_interface(self.taxonomy)
        client = self.kili  # a missing key or an unreachable Kili fails here, before anything is asked
        try:
            with self._errors(f"creating Kili project {title!r}"):
                created = client.create_project(title=title, description=description, input_type="TEXT",
                                                   json_interface=interface)
        except ReviewtuiError as exc:
            if exc.message.startswith("connecting to Kili"):
                raise
            # the mutation may have gone through before the failure (the SDK then polls for the project)
            raise ReviewtuiError(f"{exc.message}. If Kili shows a new project titled {title!r}, use it with "
                                 "`reviewtui kili attach PROJECT_ID`; otherwise rerun `reviewtui kili create`") from None
        info = ProjectInfo(str(created["id"]), title, "TEXT", "V1", [],
                           check_interface(interface, self.taxonomy))
        self._adopt(info)
        return info

    def attach(self, project_id: str) -> ProjectInfo:
        """Use an existing project after checking its interface against the taxonomy; returns it
        (its id and job names go into reviewtui.toml)."""
        info = self.project_info(project_id.strip())
        if info.input_type != "TEXT":
            raise ReviewtuiError(f"Kili project {info.id} ({info.title!r}) is a {info.input_type} project; "
                                 "reviewtui labels text reviews and needs a TEXT project")
        if not info.check.ok:
            raise ReviewtuiError(f"Kili project {info.id} ({info.title!r}) does not match the taxonomy in "
                                 f"reviewtui.toml: {'; '.join(info.check.errors)}. Make the categories agree "
                                 "(same keys), or create a new project with `reviewtui kili create`")
        # the store's reviews the project holds already (a teammate pushed them): their Kili ids
        # are recorded as a push would record them, so the reviews left to send are the ones missing
        same = self.store.get_meta("kili.project_id") == info.id
        unmatched = self.store.external_ids(without_remote_id=same)
        there = self._held_by(info.id, unmatched)
        self._adopt(info)
        if there:
            self.store.set_remote_ids(there)
        return info

    def _held_by(self, pid: str, external_ids: Sequence[str]) -> dict[str, str]:
        """external id -> Kili id of those of ``external_ids`` that project ``pid`` holds; asked by
        batches of external ids, or by listing the project when that takes fewer pages."""
        if not external_ids:
            return {}
        wanted = set(external_ids)
        out: dict[str, str] = {}
        with self._errors(f"matching this workspace's reviews with the assets of Kili project {pid}"):
            in_project = int(self.kili.count_assets(project_id=pid))
            if in_project == 0:
                return {}
            if in_project <= len(wanted):
                for a in self.kili.assets(project_id=pid, fields=["id", "externalId"], as_generator=True,
                                          disable_tqdm=True):
                    if a["externalId"] in wanted:
                        out[a["externalId"]] = a["id"]
                return out
            self._ids_by_batches(pid, external_ids, out)
        return out

    def _ids_by_batches(self, pid: str, external_ids: Sequence[str], out: dict[str, str]) -> None:
        """Add to ``out`` the Kili asset id of each of ``external_ids`` the project holds, asked by
        batches of :data:`BATCH` ids."""
        for chunk in _chunks(list(dict.fromkeys(external_ids)), BATCH):
            for a in self.kili.assets(project_id=pid, fields=["id", "externalId"],
                                      external_id_strictly_in=list(chunk), as_generator=True, disable_tqdm=True):
                out[a["externalId"]] = a["id"]

    # -- push -----------------------------------------------------------------------------------
    def remote_ids(self, external_ids: Sequence[str] | None = None) -> dict[str, str]:
        """external id -> Kili asset id, for the whole project or the given ids (paged)."""
        pid = self._require_project()
        out: dict[str, str] = {}
        with self._errors("listing the assets of the Kili project"):
            if external_ids is None:
                for a in self.kili.assets(project_id=pid, fields=["id", "externalId"], as_generator=True,
                                          disable_tqdm=True):
                    out[a["externalId"]] = a["id"]
            else:
                self._ids_by_batches(pid, external_ids, out)
        return out

    def push(self, *, limit: int | None = None, on_event: EventSink | None = None,
             cancel: threading.Event | None = None, restore_deleted: bool = False) -> PushReport:
        """Upload the store's assets (text, external id, metadata) in batches of at most 100.

        Assets Kili already has (by external id) are skipped, so a push that was interrupted is
        finished by running it again, without duplicates; so are assets another push (a teammate's,
        at the same time) sent meanwhile. At most ``limit`` (default [kili] max_assets, 25,000) of
        the assets Kili lacks, in store order; the rest are reported as left out, and the next push
        sends the next ones. An asset this project once had (its Kili id is kept) and no longer
        has was deleted in Kili: it is left out unless ``restore_deleted``.
        """
        pid = self._require_project()
        cap = int(limit if limit is not None else self.settings.max_assets)
        if cap <= 0:
            raise ReviewtuiError(f"the push limit must be a positive number of assets, not {cap}")
        self.project_info()  # fails early on an unknown project, and forgets another project's ids
        assets = list(self.store.iter_assets())
        emit(on_event, Progress("kili push", 0, None, "asking Kili which assets it has"))
        remote = self.remote_ids()
        known = {a.external_id: remote[a.external_id] for a in assets
                 if a.external_id in remote and a.remote_id != remote[a.external_id]}
        if known:
            self.store.set_remote_ids(known)
        missing = [a for a in assets if a.external_id not in remote]
        deleted = [a for a in missing if a.remote_id]
        report = PushReport(pid, cap=cap)
        if deleted and not restore_deleted:
            missing = [a for a in missing if not a.remote_id]
            report.deleted_in_kili, report.deleted_ids = len(deleted), [a.external_id for a in deleted]
            emit(on_event, Notice("warning", f"{len(deleted)} assets were deleted in Kili after they were pushed "
                                             f"(for example {deleted[0].external_id}) and are not pushed again; "
                                             "`reviewtui kili push --restore-deleted` sends them"))
        empty = [a for a in missing if not a.text.strip()]
        # the cap counts what this push sends: a second `--limit 100` sends the next 100
        sendable = [a for a in missing if a.text.strip()]
        todo, rest = sendable[:cap], sendable[cap:]
        report.left_out, report.left_out_ids = len(rest), [a.external_id for a in rest]
        if rest:
            emit(on_event, Notice("warning", f"{len(rest)} assets are past the cap of {cap} and are not pushed "
                                             "(the next push sends them; raise the cap with --limit or max_assets "
                                             "in reviewtui.toml's kili section)"))
        if empty:
            emit(on_event, Notice("warning", f"{len(empty)} assets have an empty text and are not pushed "
                                             f"(for example {empty[0].external_id})"))
            report.left_out += len(empty)
            report.left_out_ids += [a.external_id for a in empty]
        report.already_in_kili = len(assets) - len(missing) - report.deleted_in_kili
        total = len(todo)
        emit(on_event, Progress("kili push", 0, total))
        n_batches = (total + BATCH - 1) // BATCH
        sent = 0  # assets of the batches done: the progress counts them, pushed or found there
        for i, batch in enumerate(_chunks(todo, BATCH), start=1):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            try:
                with self._errors(f"pushing batch {i} of {n_batches} ({batch[0].external_id} … "
                                  f"{batch[-1].external_id})"):
                    created, there = self._append(pid, batch)
            except ReviewtuiError as exc:
                raise ReviewtuiError(
                    f"{exc.message}. {report.pushed} assets were pushed before this batch. Rerun "
                    "`reviewtui kili push` to finish: assets Kili already has are skipped, so nothing is "
                    "duplicated") from None
            if created or there:
                self.store.set_remote_ids({**created, **there})
            report.pushed += len(created)
            report.already_in_kili += len(there)
            report.restored += sum(1 for a in batch if a.remote_id and a.external_id in created)
            report.batches += 1
            sent += len(batch)
            emit(on_event, Progress("kili push", sent, total))
        return report

    def _append(self, pid: str, batch: Sequence[Any]) -> tuple[dict[str, str], dict[str, str]]:
        """Send one batch: (external id -> Kili id) of the assets created, and of those another push
        created meanwhile (Kili refuses a batch that holds one: the rest is sent again)."""
        from kili.services.asset_import.exceptions import ImportValidationError

        try:
            result = self.kili.append_many_to_dataset(
                project_id=pid, content_array=[a.text for a in batch], external_id_array=[a.external_id for a in batch],
                json_metadata_array=[_kili_metadata(a.metadata) for a in batch], disable_tqdm=True)
        except Exception as exc:  # the SDK's own check, or the API's "assetsAlreadyExist"
            said = str(exc)
            if not ("assetsAlreadyExist" in said or (isinstance(exc, ImportValidationError)
                                                     and "already exist" in said)):
                raise
            there = self.remote_ids([a.external_id for a in batch])
            if not there:
                raise
            rest = [a for a in batch if a.external_id not in there]
            if not rest:
                return {}, there
            created, more = self._append(pid, rest)
            return created, {**there, **more}
        ids = [str(x) for x in result.get("asset_ids") or []]
        if len(ids) == len(batch):
            return dict(zip((a.external_id for a in batch), ids)), {}
        # an answer without the ids: ask Kili for them
        return self.remote_ids([a.external_id for a in batch]), {}

    # -- pull -----------------------------------------------------------------------------------
    def _cursor_key(self, pid: str) -> str:
        return f"kili.pull_cursor.{pid}"

    def pull(self, *, full: bool = False, on_event: EventSink | None = None) -> KiliPullReport:
        """Record Kili's labels, statuses and skips in the store (source kili).

        Reads every asset changed since the last pull (``full``: all of them) as a paged
        generator, checks all labels, then writes everything in one store transaction. Nothing is written when a
        label cannot be recorded (an unknown category...), and rerunning writes nothing new.
        """
        pid = self._require_project()
        info = self.project_info()
        if not info.check.ok:
            raise ReviewtuiError(f"Kili project {pid} no longer matches reviewtui.toml: "
                                 f"{'; '.join(info.check.errors)}")
        cls_job, ner_job = self._jobs()
        steps_v1 = info.workflow == "V1"
        review_steps = set(self.settings.review_steps)
        step_types = {s.get("name"): ("REVIEW" if s.get("name") in review_steps else s.get("type", "DEFAULT"))
                      for s in info.steps}
        fields = ["id", "externalId", "skipped", "updatedAt", "latestLabel.jsonResponse", "latestLabel.author.email", "latestLabel.createdAt",
                  "latestLabel.labelType", "labels.id", "labels.jsonResponse", "labels.author.email",
                  "labels.createdAt", "labels.labelType"]
        fields += ["status"] if steps_v1 else ["currentStep.name", "currentStep.status"]
        cursor = None if full else self.store.get_meta(self._cursor_key(pid))
        # Kili documents its date filters as YYYY-MM-DD: ask from the day of the newest change seen
        # (UTC); what is read again is recorded once (unchanged rows are skipped)
        since = cursor[:10] if cursor else None
        with self._errors(f"reading assets of Kili project {pid}"):
            total = self.kili.count_assets(project_id=pid, updated_at_gte=since)
            emit(on_event, Progress("kili pull", 0, total))
            seen: list[dict[str, Any]] = []
            for asset in self.kili.assets(project_id=pid, fields=fields, updated_at_gte=since,
                                          as_generator=True, disable_tqdm=True):
                seen.append(asset)
                if len(seen) % BATCH == 0:
                    emit(on_event, Progress("kili pull", len(seen), total))
        emit(on_event, Progress("kili pull", len(seen), total))

        report = KiliPullReport(assets_seen=len(seen), project_id=pid, incremental=cursor is not None)
        rows: list[LabelRow] = []
        others: list[LabelRow] = []  # other authors' latest labels: history only
        problems: dict[str, str] = {}
        statuses: dict[str, list[str]] = {}
        skips: list[str] = []
        unskips: list[str] = []  # not skipped in Kili: a skip Kili gave here before is taken off
        remote: dict[str, str] = {}
        new_assets: list[str] = []
        present = self.store.existing_ids(a["externalId"] for a in seen)
        # labels given here, not pulled: a pull must not take them back (see _local_label_wins)
        local = {ext: at for ext, (src, at) in self.store.label_events_of(a["externalId"] for a in seen).items()
                 if src != "kili"}
        # the event that gave each review its label now: Kili's same label again is no new label
        makers = self.store.label_makers(a["externalId"] for a in seen)
        # a label confirmed here (a review's outcome, `c`) is the workspace's too: kept over Kili's
        # older state, as a relabel is
        for ext, at in self.store.confirmations_of((a["externalId"] for a in seen), not_source="kili").items():
            if ext not in local or at > local[ext]:
                local[ext] = at
        newest = cursor
        for a in seen:
            ext = str(a["externalId"])
            remote[ext] = str(a["id"])
            if a.get("updatedAt") and (newest is None or str(a["updatedAt"]) > newest):
                newest = str(a["updatedAt"])
            if ext not in present:
                new_assets.append(ext)
            label = a.get("latestLabel")
            if label is not None and label.get("labelType", "DEFAULT") not in LABEL_TYPES:
                label = None
            if steps_v1:
                status = str(a.get("status") or "TODO")
                skipped = bool(a.get("skipped"))
                if status not in V1_STATUSES:
                    problems[ext] = f"unknown Kili status {status!r}"
                    continue
            else:
                step = a.get("currentStep") or {}
                status, step_skipped = map_step(step_types.get(step.get("name"), "DEFAULT") if step else None,
                                                step.get("status"), label is not None)
                skipped = bool(a.get("skipped")) or step_skipped
            if label is not None:
                try:
                    category, spans = read_label(label.get("jsonResponse"), self.taxonomy, cls_job, ner_job)
                except LabelProblem as exc:
                    problems[ext] = str(exc)
                    continue
                author = ((label.get("author") or {}).get("email")) or "kili"
            if ext in local and _local_label_wins(local[ext], label):
                report.local_kept += 1
                if skipped and ext in present and not self.store.get(ext).skipped:
                    report.kili_skips_not_taken.append(ext)
                try:  # every Kili author's latest label, the latest one's too: history only
                    others.extend(self._other_authors_rows(ext, a, author if label is not None else "", status,
                                                           skipped))
                except LabelProblem as exc:
                    problems[ext] = str(exc)
                    continue
                if label is not None:
                    others.append(LabelRow(ext, category, author, "kili", status, spans, label.get("createdAt"),
                                           skipped, current=False))
                continue
            if label is None and ext in makers and status in ("TODO", "ONGOING"):
                report.kili_label_gone.append(ext)  # its label here stays, with its status and skip
                continue
            if label is None:
                if status in ("LABELED", "TO_REVIEW", "REVIEWED"):
                    status = "ONGOING"  # a status that needs a label the SDK did not return
                (skips if skipped else unskips).append(ext)
                statuses.setdefault(status, []).append(ext)
                continue
            made = makers.get(ext)
            if made is not None and ext not in local and (made[0], made[1]) == (category, author) \
                    and _same_time(made[2], label.get("createdAt")):
                # the label stored is this one: only its status or skip moved (a review step, the
                # queue), recorded as such, not as a new label of its author
                (skips if skipped else unskips).append(ext)
                statuses.setdefault(status, []).append(ext)
                continue
            try:  # every other author's latest label too (consensus), recorded beside the effective one
                others.extend(self._other_authors_rows(ext, a, author, status, skipped))
            except LabelProblem as exc:
                problems[ext] = str(exc)
                continue
            rows.append(LabelRow(ext, category, author, "kili", status, spans, label.get("createdAt"), skipped))
        if problems:
            listed = "; ".join(f"{k}: {v}" for k, v in list(problems.items())[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ReviewtuiError(f"{len(problems)} Kili label{'s' if len(problems) != 1 else ''} cannot be recorded — {listed}{more}. Nothing was "
                                 "recorded; fix these labels in Kili or add the categories to reviewtui.toml, "
                                 "then rerun `reviewtui kili pull`")

        # everything Kili is asked for comes first; then one store transaction records it all,
        # the cursor included, so an interrupted pull leaves the store as it was
        records = self._new_asset_records(new_assets, on_event) if new_assets else []
        with self.store.transaction():
            before = self.store.states_of(present)
            if records:
                report.new_assets, _ = self.store.add_assets(records, source=f"kili:{pid}", sha256="",
                                                              rows_read=len(records))
            if remote:
                current = {a.external_id: a.remote_id for a in self.store.iter_assets()}
                stale_ids = {k: v for k, v in remote.items() if current.get(k) != v}
                if stale_ids:
                    self.store.set_remote_ids(stale_ids)
            if others:
                report.other_authors_recorded, _ = self.store.add_labels(others)
            if rows:
                report.labels_recorded, _ = self.store.add_labels(rows)
            for status, ids in statuses.items():
                report.statuses_changed += self.store.set_status(ids, status, author="kili", source="kili")
            for ext in skips:
                if not self.store.get(ext).skipped:
                    self.store.skip(ext, "skipped in Kili", author="kili", source="kili")
                    report.skips_recorded += 1
            skipped_here = self.store.skipped_among(unskips) if unskips else set()
            if skipped_here:
                report.skips_undone += self.store.unskip(skipped_here, author="kili", source="kili",
                                                         only_source="kili")
            if newest:
                self.store.set_meta(self._cursor_key(pid), newest)
            # each review counted once: one whose label, status and skip here are as they were
            after = self.store.states_of(before)
            report.unchanged = sum(after.get(ext) == state for ext, state in before.items())
        return report

    def _other_authors_rows(self, ext: str, asset: Mapping[str, Any], latest_author: str, status: str,
                            skipped: bool) -> list[LabelRow]:
        """The latest label of each Kili author of ``asset`` but ``latest_author``, as history-only
        rows (agreement reads them; rerunning records none twice). Raises LabelProblem."""
        cls_job, ner_job = self._jobs()
        out = []
        for other in _other_authors_latest(asset.get("labels") or [], latest_author):
            category, spans = read_label(other.get("jsonResponse"), self.taxonomy, cls_job, ner_job)
            out.append(LabelRow(ext, category, other["author"]["email"], "kili", status, spans,
                                other.get("createdAt"), skipped, current=False))
        return out

    def _new_asset_records(self, external_ids: list[str], on_event: EventSink | None = None) -> list[NewAsset]:
        """Assets someone added in Kili directly: their text (downloaded when Kili gives a URL, as it
        does for uploaded text) and metadata. Asked for separately: a pull does not carry every
        asset's content URL. Says its progress (``on_event``): a teammate's first pull downloads
        every text, one request each."""
        pid = self._require_project()
        out: list[NewAsset] = []
        emit(on_event, Progress("kili pull: texts", 0, len(external_ids)))
        with self._errors("reading the assets added in Kili"):
            for chunk in _chunks(external_ids, BATCH):
                emit(on_event, Progress("kili pull: texts", len(out), len(external_ids)))
                for a in self.kili.assets(project_id=pid, fields=["externalId", "content", "jsonMetadata"],
                                          external_id_strictly_in=list(chunk), as_generator=True,
                                          disable_tqdm=True):
                    content = str(a.get("content") or "")
                    if content.startswith(("http://", "https://")):
                        response = self.kili.http_client.get(content)
                        response.raise_for_status()
                        content = response.content.decode("utf-8", errors="replace")
                    meta = a.get("jsonMetadata")
                    meta = meta if isinstance(meta, dict) else {}
                    back = {kili_key: key for key, kili_key in METADATA_KEYS.items()}  # "date" is stored as "at"
                    out.append(NewAsset(str(a["externalId"]), content, {back.get(k, k): v for k, v in meta.items()}))
                    if len(out) % 25 == 0:
                        emit(on_event, Progress("kili pull: texts", len(out), len(external_ids)))
        emit(on_event, Progress("kili pull: texts", len(out), len(external_ids)))
        return out

    def sync(self, on_event: EventSink | None = None) -> SyncReport:
        return self.pull(on_event=on_event)

    # -- review, queue, priorities ------------------------------------------------------------
    def _resolve(self, external_ids: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
        """(external id -> Kili id, failed) using the store's remote ids, asking Kili for the rest.

        The project is read first: an id that names no project fails here, and ids kept for
        another project are not used."""
        self.project_info()
        ids = list(dict.fromkeys(str(e) for e in external_ids))
        found: dict[str, str] = {}
        for ext in ids:
            a = self.store.find(ext)
            if a is not None and a.remote_id:
                found[ext] = a.remote_id
        missing = [e for e in ids if e not in found]
        if missing:
            looked_up = self.remote_ids(missing)
            in_store = self.store.existing_ids(looked_up)
            if in_store:
                self.store.set_remote_ids({k: v for k, v in looked_up.items() if k in in_store})
            found.update(looked_up)
        absent = set(ids) - set(found)
        here = self.store.existing_ids(sorted(absent)) if absent else set()
        failed = {e: ("not in the Kili project (run `reviewtui kili push` first)" if e in here else
                      "not in this workspace (import the review first, or check the id)") for e in ids if e in absent}
        return found, failed

    def _move(self, external_ids: Sequence[str], call: str, kind: str, **kwargs: Any) -> MoveResult:
        pid = self._require_project()
        found, failed = self._resolve(external_ids)
        result = MoveResult([], dict(failed))
        if not found:
            return result
        by_id = {v: k for k, v in found.items()}
        with self._errors(f"{call.replace('_', ' ')} in Kili project {pid}"):
            outcome = getattr(self.kili, call)(asset_ids=list(found.values()), **kwargs)
        for item in outcome.get("succeeded", []):
            ext = by_id.get(item.get("assetId"), item.get("externalId"))
            if ext is not None:
                result.moved.append(ext)
        for item in outcome.get("declined", []):
            ext = by_id.get(item.get("assetId"), item.get("externalId"))
            if ext is not None:
                result.failed[ext] = DECLINED[kind]
        for item in outcome.get("failed", []):
            ext = by_id.get(item.get("assetId"), item.get("externalId"))
            if ext is not None:
                result.failed[ext] = f"Kili failed to move it: {item.get('details') or 'no details'} (worth retrying)"
        answered = set(result.moved) | set(result.failed)
        for ext in found:
            if ext not in answered:
                result.failed[ext] = "Kili did not report on this asset"
        return result

    def send_to_review(self, external_ids: Sequence[str]) -> MoveResult:
        """add_to_review in Kili; the moved assets become TO_REVIEW in the store."""
        result = self._move(external_ids, "add_to_review", "review")
        self._record_status(result.moved, "TO_REVIEW")
        return result

    def send_back_to_queue(self, external_ids: Sequence[str]) -> MoveResult:
        """send_back_to_queue in Kili; the moved assets become ONGOING in the store (as in Kili)."""
        result = self._move(external_ids, "send_back_to_queue", "queue")
        self._record_status(result.moved, "ONGOING")
        return result

    def _record_status(self, external_ids: Sequence[str], status: str) -> None:
        ids = [e for e in external_ids if e in self.store.existing_ids(external_ids)]
        if ids:
            self.store.set_status(ids, status, author="kili", source="kili")

    def set_priorities(self, priorities: Mapping[str, int]) -> MoveResult:
        """set_assets_priority in Kili, one call per priority value; assets prioritised before and
        not in ``priorities`` go back to 0 (as the local backend does).

        A call that fails after an earlier one was answered stops the calls there: the groups set
        before count as moved (and are recorded in the store), the failed group's and the unsent
        groups' ids fail with the reason, and the earlier priorities are left as they are, here as
        in Kili. A failure before any call was answered (Kili out of reach) fails the whole batch."""
        wanted = {str(k): int(v) for k, v in priorities.items()}
        self.project_info()  # an unknown project fails here; another project's ids are dropped
        stale = [a.external_id for a in self.store.iter_assets()
                 if a.priority != 0 and a.external_id not in wanted and a.remote_id]
        groups: dict[int, list[str]] = {}
        for ext, p in wanted.items():
            groups.setdefault(p, []).append(ext)
        result = MoveResult()
        ordered = sorted(groups.items(), reverse=True)
        stopped = False
        for n, (p, ids) in enumerate(ordered):
            try:
                r = self._move(ids, "set_assets_priority", "priority", priority=p)
            except ReviewtuiError as exc:
                if n == 0:  # no call answered yet: the whole batch failed
                    raise
                _stop_priorities(result, ids, [e for _, rest in ordered[n + 1:] for e in rest], stale, exc)
                stopped = True
                break
            result.moved += r.moved
            result.failed.update(r.failed)
        if stale and not stopped:  # not asked for: a failure here is reported, the requested moves stand
            try:
                reset = self._move(stale, "set_assets_priority", "priority", priority=0)
                for ext, why in reset.failed.items():
                    result.failed.setdefault(ext, f"its earlier priority could not be reset to 0: {why}")
            except ReviewtuiError as exc:
                for ext in stale:
                    result.failed.setdefault(ext, f"its earlier priority could not be reset to 0: {exc.message}")
        in_store = self.store.existing_ids(set(result.moved))
        # stopped: only the priorities Kili took change here, the others stay as Kili still has them
        self.store.set_priorities({k: v for k, v in wanted.items() if k in in_store}, reset=not stopped)
        return result

    # -- predictions --------------------------------------------------------------------------
    def push_predictions(self, predictions: Mapping[str, Any], model_name: str, model_version: str = "",
                         *, on_event: EventSink | None = None) -> PredictionReport:
        """Send model predictions as Kili pre-annotations (create_predictions).

        ``predictions``: external id -> category, or -> (category, confidence 0..1). The model is
        recorded in Kili as ``name@version`` and in the store's meta ``kili.predictions``.
        Existing predictions of the same model name are replaced (rerunning is idempotent).
        """
        pid = self._require_project()
        if not model_name.strip():
            raise ReviewtuiError("predictions need a model name (--model)")
        cls_job, _ = self._jobs()
        full_name = f"{model_name}@{model_version}" if model_version else model_name
        responses: dict[str, dict[str, Any]] = {}
        bad: list[str] = []
        for ext, value in predictions.items():
            category, confidence = (value if isinstance(value, (tuple, list)) else (value, None))
            key = self.taxonomy.require(str(category), f"prediction for {ext}")
            if confidence is not None:
                try:
                    confidence = float(confidence)
                except (TypeError, ValueError):
                    confidence = float("nan")
                if not 0.0 <= confidence <= 1.0:  # NaN too
                    bad.append(f"{ext}: {value[1]!r}")
                    continue
            responses[str(ext)] = prediction_response(key, confidence, cls_job)
        if bad:
            raise ReviewtuiError(f"{len(bad)} prediction{'s have a confidence' if len(bad) != 1 else ' has a confidence'} "
                                 f"that is not a number from 0 to 1 ({'; '.join(bad[:5])}"
                                 f"{' ...' if len(bad) > 5 else ''}); nothing was sent. A percentage (87) is "
                                 "written 0.87; fix the file, or leave the confidence column out")
        report = PredictionReport(pid, full_name)
        found, failed = self._resolve(list(responses))
        report.failed.update(failed)
        targets = [e for e in responses if e in found]
        emit(on_event, Progress("kili predictions", 0, len(targets)))
        for chunk in _chunks(targets, BATCH):
            try:
                with self._errors(f"sending predictions of {full_name}"):
                    self.kili.create_predictions(project_id=pid, asset_id_array=[found[e] for e in chunk],
                                                 json_response_array=[responses[e] for e in chunk],
                                                 model_name=full_name, overwrite=True, disable_tqdm=True)
            except ReviewtuiError as exc:
                raise ReviewtuiError(f"{exc.message}. {report.sent} predictions were sent before; rerun to "
                                     "finish (the same model's predictions are replaced, not doubled)") from None
            report.sent += len(chunk)
            emit(on_event, Progress("kili predictions", report.sent, len(targets)))
        history = json.loads(self.store.get_meta("kili.predictions", "[]") or "[]")
        history.append({"project_id": pid, "model": model_name, "version": model_version, "kili_model_name": full_name,
                        "sent": report.sent, "at": utc_now()})
        self.store.set_meta("kili.predictions", json.dumps(history))
        return report


def _stop_priorities(result: MoveResult, failed: Sequence[str], unsent: Sequence[str], stale: Sequence[str],
                     exc: ReviewtuiError) -> None:
    """Why set_priorities, stopped by ``exc``, did not set these: the ids of the call that failed,
    of the calls not sent after it, and the earlier priorities not reset to 0."""
    rerun = "rerunning `reviewtui queue` sets the queue's priorities again"
    if LOST_ANSWER in exc.message:
        why = f"{exc.message.split(LOST_ANSWER, 1)[0]}: the priority may have been applied; {rerun}"
    else:
        why = f"not set: {exc.message}; {rerun}"
    for ext in failed:
        result.failed.setdefault(ext, why)
    for ext in unsent:
        result.failed.setdefault(ext, f"not sent, as the priority call before it failed; {rerun}")
    for ext in stale:
        result.failed.setdefault(ext, f"its earlier priority was not reset to 0, as a priority call failed; {rerun}")


__all__ = ["KiliBackend", "ProjectInfo", "PushReport", "PredictionReport", "map_step", "build_interface",
           "check_interface", "redact"]
