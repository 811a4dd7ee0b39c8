"""Differences between two dataset versions, keyed by externalId."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping

#: A version's column of sentiment labels (versions.SENTIMENT_COLUMN; this module reads rows only)
SENTIMENT = "sentiment"


@dataclass(frozen=True)
class Change:
    """One differing asset. ``kind`` is added, removed, relabeled, status, sentiment (its sentiment
    label, "none" when it had none) or renamed (its label moved with its category:
    :func:`split_renamed`)."""

    kind: str
    external_id: str
    content: str
    before: str | None = None  # label (relabeled), status (status) or sentiment (sentiment) in A
    after: str | None = None   # the same in B
    label: str | None = None   # the label in B (or A for removed)
    author: str | None = None  # who made the change (when the store knows; a removed row: who took it out)
    at: str | None = None      # when: the time of the label event that made it
    note: str | None = None    # that event's note ("renamed BUG to DEFECT" for a category change)


#: The widest an external id's column gets in a diff's table: a UUID (36 characters) shows whole;
#: a longer id is cut in the middle (``presentation.short_id``).
ID_WIDTH = 36


@dataclass
class VersionDiff:
    a: str
    b: str
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    relabeled: list[Change] = field(default_factory=list)
    status_changed: list[Change] = field(default_factory=list)
    #: rows whose label moved with its category (a rename or merge of the taxonomy), not relabeled
    #: by anyone: see :func:`split_renamed`
    renamed: list[Change] = field(default_factory=list)
    #: rows of both versions whose sentiment label differs
    sentiment_changed: list[Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed),
                "relabeled": len(self.relabeled), "status_changed": len(self.status_changed),
                "renamed": len(self.renamed), "sentiment_changed": len(self.sentiment_changed)}

    @property
    def relabel_pairs(self) -> dict[str, int]:
        """"FROM -> TO" -> count, most common first."""
        return dict(Counter(f"{c.before} -> {c.after}" for c in self.relabeled).most_common())

    @property
    def rename_pairs(self) -> dict[str, int]:
        """"OLD -> NEW" -> count of the rows a category change moved, most common first."""
        return dict(Counter(f"{c.before} -> {c.after}" for c in self.renamed).most_common())

    @property
    def changes(self) -> list[Change]:
        return self.added + self.removed + self.relabeled + self.status_changed + self.sentiment_changed + self.renamed

    def external_ids(self, kinds: tuple[str, ...] = ("added", "removed", "relabeled", "status")) -> list[str]:
        """Distinct external ids of the changes of ``kinds``, in order."""
        return list(dict.fromkeys(c.external_id for c in self.changes if c.kind in kinds))

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    def to_dict(self) -> dict:
        def rows(items: list[Change]) -> list[dict]:
            return [{k: v for k, v in c.__dict__.items() if v is not None} for c in items]
        return {"a": self.a, "b": self.b, "counts": self.counts, "relabel_pairs": self.relabel_pairs,
                "rename_pairs": self.rename_pairs, "added": rows(self.added), "removed": rows(self.removed),
                "relabeled": rows(self.relabeled), "status_changed": rows(self.status_changed),
                "sentiment_changed": rows(self.sentiment_changed), "renamed": rows(self.renamed)}


def split_renamed(diff: VersionDiff, current: Callable[[str], str], notes: tuple[str, ...] = ()) -> VersionDiff:
    """``diff`` with the relabels a taxonomy change made moved to ``renamed``: those whose old and
    new label are one category now (``current``: a key to the key of its category today,
    ``Taxonomy.current``), as ``BUG -> DEFECT`` after ``categories rename BUG Defect``, or a
    merged category's rows. With ``notes`` (the category changes' note prefixes), a row whose
    making event is known (its ``author``) moves only when that event's note is one of them: a
    person's relabel from BUG to OTHER stays a relabel after BUG is merged into OTHER."""
    def moved(c: Change) -> bool:
        if not (c.before and c.after and current(c.before) == current(c.after)):
            return False
        return not notes or c.author is None or (c.note or "").startswith(notes)

    renamed = [replace(c, kind="renamed") for c in diff.relabeled if moved(c)]
    if not renamed:
        return diff
    return replace(diff, relabeled=[c for c in diff.relabeled if not moved(c)], renamed=diff.renamed + renamed)


def reversed_diff(diff: VersionDiff) -> VersionDiff:
    """``diff`` (from ``a`` to ``b``) read from ``b`` to ``a``: added and removed swap, every
    before and after too, and each row's label is its label in the new "b" (``a``). A row keeps the
    author, time and note of the event that makes the two versions differ, and a row a category
    change moved stays ``renamed``: a diff of a newer version against an older one tells renames
    from relabels as the other way round does."""
    older = {c.external_id: c.before for c in diff.relabeled + diff.renamed}

    def back(c: Change, kind: str | None = None, swap: bool = True) -> Change:
        label = older.get(c.external_id, c.label)
        if swap:
            return replace(c, kind=kind or c.kind, before=c.after, after=c.before, label=label)
        return replace(c, kind=kind or c.kind, label=c.label)

    return VersionDiff(
        diff.b, diff.a,
        added=[back(c, "added", swap=False) for c in diff.removed],
        removed=[back(c, "removed", swap=False) for c in diff.added],
        relabeled=[back(c) for c in diff.relabeled],
        status_changed=[back(c) for c in diff.status_changed],
        renamed=[back(c) for c in diff.renamed],
        sentiment_changed=[back(c) for c in diff.sentiment_changed])


def diff_versions(a: str, a_rows: Iterable[Mapping[str, str]], b: str,
                  b_rows: Iterable[Mapping[str, str]]) -> VersionDiff:
    """Compare version ``a`` (older) with ``b``, given the rows of each (dicts with externalId,
    label, status and content, as a version CSV holds them): the added, removed, relabeled and
    status-changed rows. Two :class:`reviewtui.versions.CsvRows` (a big version read column-wise)
    are compared column by column, without a dict per row."""
    table_a, table_b = getattr(a_rows, "table", None), getattr(b_rows, "table", None)
    if table_a is not None and table_b is not None:
        fast = _diff_tables(a, table_a, b, table_b)
        if fast is not None:
            return fast
    rows_a = {r["externalId"]: r for r in a_rows}
    rows_b = {r["externalId"]: r for r in b_rows}
    out = VersionDiff(a, b)
    for ext, rb in rows_b.items():
        ra = rows_a.get(ext)
        if ra is None:
            out.added.append(Change("added", ext, rb["content"], label=rb["label"]))
            continue
        if ra["label"] != rb["label"]:
            out.relabeled.append(Change("relabeled", ext, rb["content"], ra["label"], rb["label"], rb["label"]))
        if ra["status"] != rb["status"]:
            out.status_changed.append(Change("status", ext, rb["content"], ra["status"], rb["status"], rb["label"]))
        sa, sb = ra.get(SENTIMENT) or "", rb.get(SENTIMENT) or ""
        if sa != sb:
            out.sentiment_changed.append(Change("sentiment", ext, rb["content"], sa or "none", sb or "none",
                                                rb["label"]))
    for ext, ra in rows_a.items():
        if ext not in rows_b:
            out.removed.append(Change("removed", ext, ra["content"], label=ra["label"]))
    return out


def _diff_tables(a: str, table_a, b: str, table_b) -> VersionDiff | None:
    """:func:`diff_versions` over two pyarrow tables of strings (externalId, label, status,
    content), vectorised: Change objects are made for the differing rows only, in the same order
    as the row-by-row comparison. None when an id repeats within a version (then the row-by-row
    rules, where the last repeat counts, apply)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids_a, ids_b = table_a.column("externalId"), table_b.column("externalId")
    for ids in (ids_a, ids_b):
        if pc.count_distinct(ids).as_py() != len(ids):
            return None
    out = VersionDiff(a, b)
    where = pc.index_in(ids_b, value_set=ids_a)  # row of A for each row of B (null: added)
    matched = pc.is_valid(where)
    rows_a = pc.fill_null(where, 0)

    def take(table, column, rows):
        return table.column(column).take(rows) if len(rows) else pa.array([], pa.string())

    added = pc.indices_nonzero(pc.invert(matched))
    for ext, text, label in zip(*(take(table_b, c, added).to_pylist() for c in ("externalId", "content", "label"))):
        out.added.append(Change("added", ext, text, label=label))
    for kind, column, target in (("relabeled", "label", out.relabeled), ("status", "status", out.status_changed)):
        before = take(table_a, column, rows_a)
        differs = pc.and_(matched, pc.not_equal(before, table_b.column(column)))
        rows = pc.indices_nonzero(pc.fill_null(differs, False))
        values = [take(table_b, c, rows).to_pylist() for c in ("externalId", "content", column, "label")]
        for ext, text, old, new, label in zip(values[0], values[1], before.take(rows).to_pylist(), values[2], values[3]):
            target.append(Change(kind, ext, text, old, new, label))
    if SENTIMENT in table_a.column_names or SENTIMENT in table_b.column_names:
        def sentiments(table):
            if SENTIMENT in table.column_names:
                return pc.fill_null(table.column(SENTIMENT), "")
            return pa.array([""] * len(table), pa.string())

        sent_a, sent_b = sentiments(table_a).take(rows_a), sentiments(table_b)
        rows = pc.indices_nonzero(pc.fill_null(pc.and_(matched, pc.not_equal(sent_a, sent_b)), False))
        values = [take(table_b, c, rows).to_pylist() for c in ("externalId", "content", "label")]
        for ext, text, old, new, label in zip(values[0], values[1], sent_a.take(rows).to_pylist(),
                                              sent_b.take(rows).to_pylist(), values[2]):
            out.sentiment_changed.append(Change("sentiment", ext, text, old or "none", new or "none", label))
    removed = pc.indices_nonzero(pc.invert(pc.is_in(ids_a, value_set=ids_b)))
    for ext, text, label in zip(*(take(table_a, c, removed).to_pylist() for c in ("externalId", "content", "label"))):
        out.removed.append(Change("removed", ext, text, label=label))
    return out
