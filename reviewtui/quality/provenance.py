"""Who made each change of a version diff, and when, from the store's label history.

For a relabeled row the change is the latest label event (not undone) on the asset that gave it
its new label; for a status change, the latest label or status event after which the asset had
its new status; for a removed row, the latest undo, skip, status or label event after version A
(what took it out of B). Another author's history-only label (a consensus pull) changed neither, so it is
never the answer. Events are looked for after version A was exported and up to when version B was
(``store_last_change`` in their manifests) when the manifests say so, else in the whole history
up to B. A version registered from elsewhere has no such time, and a row no event explains keeps
no author.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from reviewtui.diff import Change, VersionDiff
from reviewtui.files import format_timestamp, parse_timestamp


def _moment(text: Any) -> datetime | None:
    try:
        return parse_timestamp(str(text)) if text else None
    except ValueError:
        return None


def status_after(events: list[Any], current_status: str | None) -> dict[int, str | None]:
    """event id -> the asset's status right after it, for one asset's history rows in order: the
    next non-undo event's ``prev_status``, or ``current_status`` after the last one."""
    rows = [e for e in events if e.kind != "undo"]
    out: dict[int, str | None] = {}
    for e, nxt in zip(rows, rows[1:] + [None]):
        out[e.id] = nxt.prev_status if nxt is not None else current_status
    return out


def attribute_changes(diff: VersionDiff, events: Iterable[Any], *, since: str | None = None,
                      until: str | None = None, current_status: Mapping[str, str] | None = None) -> VersionDiff:
    """A copy of ``diff`` whose added, relabeled and status-changed rows carry ``author`` and ``at``
    of the label event that made them (``events``: the store's label history), and whose removed
    rows carry those of the latest event after A that took the review out of B (an undo, a skip, a
    move to review, a label). ``since``/``until`` bound the events looked at (timestamps; None = open)."""
    wanted = {c.external_id for c in diff.added + diff.relabeled + diff.status_changed + diff.removed}
    history: dict[str, list[Any]] = {}
    undone: set[int] = set()
    for e in events:
        if e.kind == "undo" and e.undoes is not None:
            undone.add(e.undoes)
        if e.external_id in wanted:
            history.setdefault(e.external_id, []).append(e)
    lo, hi = _moment(since), _moment(until)

    def in_window(e: Any, strict: bool) -> bool:
        t = _moment(e.created_at)
        if t is None:
            return False
        if hi is not None and t > hi:
            return False
        return not (strict and lo is not None and t <= lo)

    def pick(candidates: list[Any], after_a_only: bool = False) -> Any:
        for strict in (True,) if after_a_only else (True, False):  # after A first; an older event only when none is
            found = [e for e in candidates if in_window(e, strict)]
            if found:
                return found[-1]
        return None

    def relabel(c: Change) -> Change:  # an added row: the event that gave the label it has in B
        label = c.after if c.kind == "relabeled" else c.label
        mine = [e for e in history.get(c.external_id, []) if e.id not in undone and not e.history_only]
        evs = [e for e in mine if e.kind == "label" and e.category == label]
        if c.kind == "added" and pick(evs, after_a_only=True) is None:
            # labeled before A, and in B since a confirmation or a status move after A's export (a
            # review under review settled): that is the change, not the older label
            settled = [e for e in mine if (e.kind == "confirm" and e.category == label) or e.kind == "status"]
            made = pick(settled, after_a_only=True)
            if made is not None:
                return _with(c, made)
        return _with(c, pick(evs))

    def status(c: Change) -> Change:
        evs = history.get(c.external_id, [])
        after = status_after(evs, (current_status or {}).get(c.external_id))
        cands = [e for e in evs if e.kind in ("label", "status") and e.id not in undone
                 and not e.history_only
                 and (e.note if e.kind == "status" else after.get(e.id)) == c.after]
        return _with(c, pick(cands))

    def removal(c: Change) -> Change:  # in A, so what took it out came after A's export
        evs = [e for e in history.get(c.external_id, []) if e.kind in REMOVING and e.id not in undone
               and not e.history_only]
        return _with(c, pick(evs, after_a_only=True))

    return replace(diff, added=[relabel(c) for c in diff.added], relabeled=[relabel(c) for c in diff.relabeled],
                   status_changed=[status(c) for c in diff.status_changed],
                   removed=[removal(c) for c in diff.removed])


#: the events that can take a labeled review out of the next version: an undo of its label, a skip,
#: a move to another status (to review), a label the export leaves out
REMOVING = ("undo", "skip", "status", "label")


def _with(change: Change, event: Any) -> Change:
    if event is None:
        return change
    t = _moment(event.created_at)
    return replace(change, author=event.author, at=format_timestamp(t) if t else str(event.created_at),
                   note=event.note or None)


#: A diff's added rows whose making label is not the label their review has now (relabeled since,
#: or labeled before version A) are looked for in their histories when there are at most this many.
ATTRIBUTE_ADDED = 5_000
#: ... and are read from their reviews' current labels when there are at most this many: past it
#: (a whole import labeled at once) the added rows have no author, which for 560,598 of them would
#: double the diff's time (6 s to 13 s on a million-review workspace).
ATTRIBUTE_ADDED_BY_LABEL = 100_000


def _canonical(text: Any) -> bool:
    """True for a time as :func:`reviewtui.files.utc_now` writes it (such strings sort in time order)."""
    return type(text) is str and len(text) == 29 and text.endswith("+00:00") and text[10] == "T"


def attribute_by_label(diff: VersionDiff, makers: Mapping[str, tuple[str, str, str, str | None]],
                       since: str | None, until: str | None) -> VersionDiff:
    """``diff`` with each added or relabeled row whose review's current label is the label it has
    in B, given after A's export (``since``) and up to B's (``until``), made by that label's event
    (``makers``: ``LocalStore.label_makers``): the event :func:`attribute_changes` finds for it,
    read with one query for every row instead of each row's history. The other rows stay as
    they are."""
    lo, hi = _moment(since), _moment(until)
    if (since is not None and lo is None) or (until is not None and hi is None):
        return diff  # bounds that are not times: the histories decide
    # times as utc_now writes them compare as strings; the bounds too when they are so written
    plain = (since is None or _canonical(since)) and (until is None or _canonical(until))

    def within(at: str) -> tuple[bool, str]:
        """Whether ``at`` lies within the bounds, and the time as shown."""
        if plain and _canonical(at):
            return (until is None or at <= until) and (since is None or at > since), at
        t = _moment(at)
        if t is None:
            return False, at
        return (hi is None or t <= hi) and (lo is None or t > lo), format_timestamp(t)

    # the makers within the bounds, each time as shown: once per review, not per row
    window: dict[str, tuple[str, str, str, str | None]] = {}
    for ext, (category, author, at, note) in makers.items():
        ok, shown = within(at)
        if ok:
            window[ext] = (category, author, shown, note or None)

    def made(c: Change, label: str | None) -> Change:
        found = window.get(c.external_id)
        if found is None or found[0] != label:
            return c
        return Change(c.kind, c.external_id, c.content, c.before, c.after, c.label, found[1], found[2], found[3])

    return replace(diff, added=[made(c, c.label) for c in diff.added],
                   relabeled=[made(c, c.after) for c in diff.relabeled])


def attribute_diff(diff: VersionDiff, store, a: Any, b: Any) -> VersionDiff:
    """:func:`attribute_changes` for versions ``a`` and ``b`` (VersionInfo) of ``store``'s
    workspace, bounded by the times in their manifests. Relabeled rows, and added rows up to
    ``ATTRIBUTE_ADDED_BY_LABEL``, are read from their reviews' current labels first
    (:func:`attribute_by_label`, one query however many); only the rows left, and the status
    changes, read their histories (the added and the removed ones up to ``ATTRIBUTE_ADDED`` each)."""
    since, until = a.manifest.get("store_last_change"), b.manifest.get("store_last_change")
    kinds = ("added", "relabeled") if len(diff.added) <= ATTRIBUTE_ADDED_BY_LABEL else ("relabeled",)
    labeled = diff.external_ids(kinds)
    if labeled:
        diff = attribute_by_label(diff, store.label_makers(labeled), since, until)
    ids = list(dict.fromkeys([c.external_id for c in diff.relabeled if c.author is None]
                             + diff.external_ids(("status",))))
    added = list(dict.fromkeys(c.external_id for c in diff.added if c.author is None))
    ids += added if len(added) <= ATTRIBUTE_ADDED else []
    removed = diff.external_ids(("removed",))
    ids += removed if len(removed) <= ATTRIBUTE_ADDED else []
    if not ids:
        return diff
    current = {}
    for ext in diff.external_ids(("status",)):
        asset = store.find(ext)
        if asset is not None:
            current[ext] = asset.status
    events = [e for ext in ids for e in store.label_history(ext)]
    return attribute_changes(diff, events, since=since, until=until, current_status=current)
