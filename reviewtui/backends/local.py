"""The default backend: labels live in the workspace's own SQLite store."""

from __future__ import annotations

from typing import Mapping, Sequence

from reviewtui.backends import MoveResult, SyncReport
from reviewtui.events import EventSink
from reviewtui.store import LocalStore


class LocalBackend:
    name = "local"

    def __init__(self, store: LocalStore, author: str = "local") -> None:
        self.store = store
        self.author = author  # who the status changes are recorded as: the workspace's user

    def _split(self, external_ids: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        ids = list(dict.fromkeys(str(e) for e in external_ids))
        present = self.store.existing_ids(ids)
        return [i for i in ids if i in present], {i: "not in this workspace" for i in ids if i not in present}

    def send_to_review(self, external_ids: Sequence[str]) -> MoveResult:
        ok, failed = self._split(external_ids)
        self.store.set_status(ok, "TO_REVIEW", author=self.author)
        return MoveResult(ok, failed)

    def send_back_to_queue(self, external_ids: Sequence[str]) -> MoveResult:
        ok, failed = self._split(external_ids)
        self.store.set_status(ok, "TODO", author=self.author)
        return MoveResult(ok, failed)

    def set_priorities(self, priorities: Mapping[str, int]) -> MoveResult:
        ok, failed = self._split(list(priorities))
        self.store.set_priorities({k: priorities[k] for k in ok}, reset=True)
        return MoveResult(ok, failed)

    def sync(self, on_event: EventSink | None = None) -> SyncReport:
        return SyncReport()
