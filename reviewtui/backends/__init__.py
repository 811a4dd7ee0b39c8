"""The labeling-backend protocol: where labels live (the local store, or a Kili project).

The workspace's SQLite store is always the local mirror. A backend moves statuses and priorities
where the labeling happens and records the result in the store, so export, diff, training and the
app work the same whatever the backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence, runtime_checkable

from reviewtui.events import EventSink


@dataclass
class MoveResult:
    """Which assets were moved, and why the others could not be (external id -> reason)."""

    moved: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: assets left as they are, and why (already waiting in review; reviewed since): not failures
    kept: dict[str, str] = field(default_factory=dict)


@dataclass
class SyncReport:
    """What a pull from the backend recorded in the store."""

    assets_seen: int = 0
    labels_recorded: int = 0
    unchanged: int = 0
    new_assets: int = 0
    problems: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class LabelingBackend(Protocol):
    name: str

    def send_to_review(self, external_ids: Sequence[str]) -> MoveResult:
        """Move assets to TO_REVIEW."""

    def send_back_to_queue(self, external_ids: Sequence[str]) -> MoveResult:
        """Move assets back to the labeling queue (TODO/ONGOING)."""

    def set_priorities(self, priorities: Mapping[str, int]) -> MoveResult:
        """Set labeling-queue priorities (higher is labeled first)."""

    def sync(self, on_event: EventSink | None = None) -> SyncReport:
        """Bring the backend's labels into the store (a no-op for the local backend)."""
