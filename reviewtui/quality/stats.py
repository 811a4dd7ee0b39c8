"""Statistics of labeling: per dataset version and per author.

Per version (against the version before it): rows, labels added, relabeled and removed, the
relabel rate (relabeled / rows in both versions) and the transitions (from -> to counts), the
drift a team watches between versions.

Per author, from the store's label history (people's events only: sources human and kili):
labels, skips, undos, confirmations, and time. **Time per label** is measured between
consecutive events of the same author: the seconds from the author's previous event (label, skip,
undo, confirm or status move; a sentiment key pressed for the same review does not start the
time) to a label. A gap longer than ``session_gap_s`` ends a session and
is not counted (a break, a night), so the first event of each session has no time. The median
of the labels' times is "median seconds per label"; "labels per hour" is the labels with a time
divided by the author's active time (the sum of every counted gap, whatever the event), times 3600.
Labels given many at once (a bulk label, ``label --from``) count as labels but not in the time.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from reviewtui.files import parse_timestamp
from reviewtui.quality.agreement import PEOPLE, AgreementReport
from reviewtui.store import BULK_NOTE, CATEGORY_NOTES, FILE_NOTE


@dataclass(frozen=True)
class VersionStats:
    """One dataset version against ``parent`` (None for the first: every row counts as added)."""

    name: str
    parent: str | None
    rows: int
    added: int
    removed: int
    relabeled: int
    status_changed: int
    relabel_rate: float | None  # relabeled / rows present in both versions
    transitions: dict[str, int] = field(default_factory=dict)  # "FROM -> TO" -> count
    renamed: dict[str, int] = field(default_factory=dict)  # "OLD -> NEW" -> rows moved by a category change

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AuthorStats:
    author: str
    labels: int
    skips: int
    undos: int
    confirms: int
    sessions: int
    timed_labels: int
    median_seconds_per_label: float | None
    labels_per_hour: float | None
    active_seconds: float
    first: str | None
    last: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class QualityStats:
    """Everything ``reviewtui stats`` and the quality screen show: each dataset version against
    the one before it (oldest first), each author (most labels first), and the agreement between
    authors."""

    versions: list[VersionStats]
    authors: list[AuthorStats]
    agreement: AgreementReport

    def to_dict(self) -> dict[str, Any]:
        return {"versions": [v.to_dict() for v in self.versions], "authors": [a.to_dict() for a in self.authors],
                "agreement": self.agreement.to_dict()}


def version_stats(versions: Sequence[Any], current: Callable[[str], str] | None = None,
                  attribute: Callable[[Any, Any, Any], Any] | None = None,
                  notes: tuple[str, ...] = ()) -> list[VersionStats]:
    """Statistics of each version (VersionInfo, oldest first) against the one before it; with
    ``current`` (``Taxonomy.current``), the rows a category rename or merge moved are ``renamed``,
    not relabeled (``attribute(diff, a, b)`` finds the events that made the changes, whose
    ``notes`` tell a category change: ``diff.split_renamed``)."""
    from reviewtui.diff import diff_versions, split_renamed
    from reviewtui.versions import read_rows

    out: list[VersionStats] = []
    prev_rows: list = []
    for i, v in enumerate(versions):
        rows = read_rows(v.csv_path)
        if i == 0:
            out.append(VersionStats(v.name, None, len(rows), len(rows), 0, 0, 0, None, {}))
            prev_rows = rows
            continue
        prev = versions[i - 1]
        d = diff_versions(prev.name, prev_rows, v.name, rows)
        if current is not None:
            d = split_renamed(attribute(d, prev, v) if attribute is not None else d, current, notes)
        prev_rows = rows
        common = len(rows) - len(d.added)
        out.append(VersionStats(v.name, prev.name, len(rows), len(d.added), len(d.removed), len(d.relabeled),
                                len(d.status_changed), (len(d.relabeled) / common) if common else None,
                                d.relabel_pairs, d.rename_pairs))
    return out


#: The least active labeling time (seconds) that gives an author a rate of labels per hour.
MIN_ACTIVE_S = 10.0


def author_stats(events: Iterable[Any], *, session_gap_s: float = 600.0,
                 sources: Sequence[str] = PEOPLE) -> list[AuthorStats]:
    """Per author (most labels first) from label history rows (LabelEvent); see the module
    docstring for how time is counted. Events of other ``sources`` are left out."""
    by_author: dict[str, list[tuple[Any, Any]]] = {}
    for e in events:
        if e.source not in sources or (e.kind == "label" and (e.note or "").startswith(CATEGORY_NOTES)):
            # a rename's moves are no one's labels
            continue
        by_author.setdefault(e.author, []).append((parse_timestamp(e.created_at), e))
    out = []
    for author, everything in by_author.items():
        everything.sort(key=lambda t: (t[0], t[1].id))
        kinds = [e.kind for _, e in everything]
        # labels given many at once (a bulk label, a file) count as labels, not in the time
        rows = [(t, e) for t, e in everything if not (e.note or "").startswith((BULK_NOTE, FILE_NOTE))]
        label_times: list[float] = []
        active = 0.0
        sessions = 1 if rows else 0  # an author of bulk and file labels only has no session to time
        anchor: Any = rows[0][0] if rows and rows[0][1].kind != "sentiment" else None
        for (t_prev, _), (t, e) in zip(rows, rows[1:]):
            gap = (t - t_prev).total_seconds()
            if gap > session_gap_s:
                sessions += 1
                anchor = t if e.kind != "sentiment" else None
                continue
            active += gap
            if e.kind == "sentiment":
                continue
            if e.kind == "label" and anchor is not None:
                label_times.append((t - anchor).total_seconds())
            anchor = t
        # no timed label (confirmations, skips only): no rate, as for an author of files only; nor
        # under MIN_ACTIVE_S of labeling (labels a script gave a few milliseconds apart read as
        # millions an hour)
        per_hour = (len(label_times) / active * 3600.0) if active >= MIN_ACTIVE_S and label_times else None
        out.append(AuthorStats(author, kinds.count("label"), kinds.count("skip"), kinds.count("undo"),
                               kinds.count("confirm"), sessions, len(label_times),
                               statistics.median(label_times) if label_times else None, per_hour, active,
                               everything[0][1].created_at, everything[-1][1].created_at))
    return sorted(out, key=lambda s: (-s.labels, s.author))
