"""Finding what to label: full-text search and filters over the queue, and bulk labels.

The search runs on the store's FTS5 index (``assets_fts``, kept in sync by triggers on every write
to the assets). Plain words find the words they begin: ``crash`` finds crash, crashes and crashing,
as people hunting a topic expect (the index has no stemmer, and a review rarely uses the word in
the form typed); all the words must appear. A query with FTS5 syntax runs as written when it
parses as such (``paywall OR "free trial"``, ``"crash"`` for the exact word, ``dark NOT mode``);
anything else — an apostrophe, a hyphen, an unbalanced quote — is searched as plain words that
must all appear, so user input never raises an SQL error. Words with an operator out of place
(``NOT money``, ``money OR``) are refused with a clear message instead: read as plain words they
would find reviews with "not…" and "money", the opposite of what was asked.

Filters narrow the same query: stars, app, app version (``4.5`` matches 4.5.x), date range,
status, label, and — from the predictions stored with :meth:`LocalStore.set_predictions` after a
refit or a predict run, so the CLI and the app see the same ones — predicted category and
confidence range. Everything runs as one SQL query; the result is external ids in queue order
(priority first), so a filtered queue is labeled in the order the strategy ranked it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Sequence

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.files import utc_now
from reviewtui.store import BULK_NOTE, STATUSES, AssetQuery, LabelRow, LocalStore

QUEUE_STATUSES = ("TODO", "ONGOING")
FILTER_KEYS = ("stars", "app", "version", "date", "from", "to", "status", "label", "predicted", "confidence")
_NEXT_FILTER = re.compile(r"\s+(?=(?:" + "|".join(FILTER_KEYS) + r")\s*=)", re.IGNORECASE)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_CHECK_DB: sqlite3.Connection | None = None
_CHECK_LOCK = threading.Lock()


def _valid_fts(text: str) -> bool:
    """Whether ``text`` parses as an FTS5 query (tried on an empty in-memory FTS5 table)."""
    global _CHECK_DB
    with _CHECK_LOCK:
        if _CHECK_DB is None:
            _CHECK_DB = sqlite3.connect(":memory:", check_same_thread=False)
            _CHECK_DB.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
        try:
            _CHECK_DB.execute("SELECT rowid FROM t WHERE t MATCH ?", (text,)).fetchall()
            return True
        except sqlite3.OperationalError:
            return False


def plain_words(text: str) -> str:
    """``text`` as an FTS5 query in which every word must appear, each found by the words it begins
    as plain words are (``crash`` finds crashes): each whitespace-separated part becomes a quoted
    string (inner quotes doubled, so no character has a syntax meaning) searched as a prefix."""
    parts = [p for p in str(text).split() if p.strip()]
    # a prefix only after a letter or digit: "c++"* would be every word starting with c
    return " AND ".join('"' + p.replace('"', '""') + '"' + ("*" if re.search(r"[^\W_]$", p) else "") for p in parts)


#: Words only (letters and digits, any script), none of them an FTS5 operator: searched as prefixes.
_WORDS = re.compile(r"^[^\W_]+(?:\s+[^\W_]+)*$")
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def fts_query(text: str | None) -> str | None:
    """The FTS5 query to run for what the user typed: for plain words, each word as a prefix that
    must appear (``crash pay`` -> ``"crash"* AND "pay"*``); else ``text`` itself when it is valid
    FTS5 syntax with at least one word, else :func:`plain_words` of it; None for a blank search.
    Raises ReviewtuiError for words with an operator that is not between two of them (``NOT money``):
    as plain words that search would find the opposite of what it says."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    words = text.split()
    if _WORDS.match(text) and not _OPERATORS & set(words):
        return " AND ".join(f'"{w}"*' for w in words)
    if _valid_fts(text):
        return text
    if _OPERATORS & set(words) and set(words) - _OPERATORS and _WORDS.match(text):
        # "NOT money" or "money OR" read as plain words would find "not…" and "money": the opposite
        raise ReviewtuiError(f"search {text!r}: {' and '.join(sorted(_OPERATORS & set(words)))} needs a word on "
                             f"each side (dark NOT mode, refund OR billed); write it in lower case to search "
                             f"for the word itself")
    return plain_words(text) or None


@dataclass(frozen=True)
class QueueFilter:
    """A search and filters over the assets. ``statuses`` default to the queue (TODO, ONGOING, not
    skipped, no label); empty ``statuses`` with ``queue_only=False`` means every asset.
    ``predicted``/``confidence`` need stored predictions when the filter is applied."""

    search: str | None = None
    stars: tuple[int, ...] = ()
    apps: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    statuses: tuple[str, ...] = QUEUE_STATUSES
    queue_only: bool = True
    labels: tuple[str, ...] = ()
    predicted: tuple[str, ...] = ()
    confidence: tuple[float, float] | None = None

    @property
    def needs_predictions(self) -> bool:
        return bool(self.predicted) or self.confidence is not None

    def asset_query(self) -> AssetQuery:
        """The store's part of the filter (everything but predicted category and confidence)."""
        return AssetQuery(match=fts_query(self.search), statuses=tuple(self.statuses),
                          skipped=False if self.queue_only else None, labeled=False if self.queue_only else None,
                          labels=tuple(self.labels), stars=tuple(self.stars), apps=tuple(self.apps),
                          versions=tuple(self.versions), date_from=self.date_from, date_to=self.date_to,
                          predicted=tuple(self.predicted), confidence=self.confidence)

    def describe(self) -> str:
        """One line naming what the filter keeps, for the screen's header and the CLI."""
        bits = []
        if self.search:
            bits.append(f"search {self.search!r}")
        if self.stars:
            bits.append("stars " + ",".join(map(str, self.stars)))
        if self.apps:
            bits.append("app " + ",".join(self.apps))
        if self.versions:
            bits.append("version " + ",".join(self.versions))
        if self.date_from or self.date_to:
            bits.append(f"date {self.date_from or '…'}..{self.date_to or '…'}")
        if tuple(self.statuses) != QUEUE_STATUSES or not self.queue_only:
            bits.append("status " + (",".join(self.statuses) if self.statuses else "all"))
        if self.labels:
            bits.append("label " + ",".join(self.labels))
        if self.predicted:
            bits.append("predicted " + ",".join(self.predicted))
        if self.confidence is not None:
            bits.append(f"confidence {self.confidence[0]:g}-{self.confidence[1]:g}")
        return "; ".join(bits) if bits else "the whole queue"


def _ints(value: str, key: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in value.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        try:
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo > hi:
                    raise ValueError
                out += list(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ReviewtuiError(f"filter {key}={value!r}: write stars as 1-5, a range 1-2 or a list 1,2") from None
    if any(not 1 <= v <= 5 for v in out):
        raise ReviewtuiError(f"filter {key}={value!r}: stars go from 1 to 5")
    return tuple(sorted(set(out)))


def _date(value: str, key: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not DATE_RE.match(value):
        raise ReviewtuiError(f"filter {key}={value!r}: write dates as YYYY-MM-DD")
    from datetime import date

    try:
        date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ReviewtuiError(f"filter {key}={value!r}: no such date ({exc})") from exc
    return value


def _confidence(value: str) -> tuple[float, float]:
    v = value.strip()
    try:
        if v.startswith("<"):
            lo, hi = 0.0, float(v.lstrip("<="))
        elif v.startswith(">"):
            lo, hi = float(v.lstrip(">=")), 1.0
        elif "-" in v[1:]:
            a, b = v.split("-", 1) if not v.startswith("-") else ("", v)
            lo, hi = float(a), float(b)
        else:
            raise ValueError
    except ValueError:
        raise ReviewtuiError(f"filter confidence={value!r}: write a range 0.2-0.6, <0.5 or >0.9") from None
    if not 0.0 <= lo <= hi <= 1.0:
        raise ReviewtuiError(f"filter confidence={value!r}: the range must lie within 0-1, low before high")
    return lo, hi


def split_filters(text: str | None) -> list[str]:
    """The ``KEY=VALUE`` items of one line (the screen's filter box): split on spaces, quotes
    keep a value with spaces together (``app="my app"``). Raises ReviewtuiError for an unclosed
    quote."""
    import shlex

    try:
        return shlex.split(text or "")
    except ValueError as exc:
        raise ReviewtuiError(f"filters {text!r}: {exc}; write KEY=VALUE items separated by spaces") from None


def app_names(value: str, known: Sequence[str] | None) -> tuple[str, ...]:
    """The apps ``app=VALUE`` names: its comma-separated names, where a name of ``known`` (the
    workspace's apps, any case) that holds commas itself ("Acme Bank, Inc.") is taken whole."""
    folded = {k.casefold() for k in known or ()}
    parts = value.split(",")
    out: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i + 1, -1):  # the longest run of parts that is one known app
            whole = ",".join(parts[i:j]).strip()
            if whole.casefold() in folded:
                out.append(whole)
                i = j
                break
        else:
            if parts[i].strip():
                out.append(parts[i].strip())
            i += 1
    return tuple(out)


def parse_filters(items: Sequence[str], taxonomy: Taxonomy, *, search: str | None = None,
                  apps: Sequence[str] | None = None) -> QueueFilter:
    """A :class:`QueueFilter` from ``KEY=VALUE`` strings (``reviewtui queue --filter``, the screen's
    filter box): ``stars=1-2``, ``app=NAME[,NAME]``, ``version=4.5``, ``date=2025-01-01..2025-03-31``
    (or ``from=``/``to=``), ``status=TODO,LABELED`` or ``status=all``, ``label=KEY``,
    ``predicted=KEY[,KEY]``, ``confidence=0-0.6`` (or ``<0.6``, ``>0.9``). Category names may be
    written as names or keys; an app of ``apps`` whose name holds a comma is read whole
    (:func:`app_names`). Raises ReviewtuiError naming the bad item and the known keys."""
    f = QueueFilter(search=search.strip() if search and search.strip() else None)
    # "predicted=PRAISE confidence=<0.6" given as one (quoted) argument is two filters; a value with
    # spaces (app=QuickBite iOS) stays whole: the split is only before a filter key and its "="
    items = [part for item in items for part in _NEXT_FILTER.split(item.strip()) if part]
    given: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ReviewtuiError(f"filter {item!r}: write KEY=VALUE with KEY one of {', '.join(FILTER_KEYS)}")
        key, value = (s.strip() for s in item.split("=", 1))
        key = key.lower()
        if key not in FILTER_KEYS:
            raise ReviewtuiError(f"unknown filter {key!r}: use one of {', '.join(FILTER_KEYS)}")
        if not value:
            raise ReviewtuiError(f"filter {key}= needs a value")
        if key in given:  # the later one would replace the earlier without a word
            raise ReviewtuiError(f"filter {key}= is given twice ({key}={given[key]} and {key}={value}): give it "
                                 f"once, with its values separated by commas ({key}={given[key]},{value})")
        dates = [k for k in ("date", "from", "to") if k in given and key in ("date", "from", "to")]
        if dates and (key == "date" or "date" in dates):
            raise ReviewtuiError(f"filter {key}={value} and {dates[0]}={given[dates[0]]} both set the dates: use "
                                 f"date=FROM..TO, or from= and to=")
        given[key] = value
        values = tuple(v.strip() for v in value.split(",") if v.strip())
        if key == "stars":
            f = replace(f, stars=_ints(value, key))
        elif key == "app":
            f = replace(f, apps=app_names(value, apps))
        elif key == "version":
            f = replace(f, versions=tuple(v.lstrip("vV") for v in values))
        elif key == "date":
            if ".." not in value:
                day = _date(value, key)
                f = replace(f, date_from=day, date_to=day)
            else:
                a, b = value.split("..", 1)
                f = replace(f, date_from=_date(a, key), date_to=_date(b, key))
        elif key == "from":
            f = replace(f, date_from=_date(value, key))
        elif key == "to":
            f = replace(f, date_to=_date(value, key))
        elif key == "status":
            if value.lower() == "all":
                f = replace(f, statuses=(), queue_only=False)
            else:
                statuses = tuple(v.upper() for v in values)
                bad = [s for s in statuses if s not in STATUSES]
                if bad:
                    raise ReviewtuiError(f"filter status={value!r}: unknown {', '.join(bad)}; use "
                                         f"{', '.join(STATUSES)} or all")
                f = replace(f, statuses=statuses, queue_only=set(statuses) <= set(QUEUE_STATUSES))
        elif key == "label":
            f = replace(f, labels=tuple(taxonomy.require(v, "filter label=") for v in values),
                        queue_only=False, statuses=f.statuses if f.statuses != QUEUE_STATUSES else ())
        elif key == "predicted":
            f = replace(f, predicted=tuple(taxonomy.require(v, "filter predicted=") for v in values))
        elif key == "confidence":
            f = replace(f, confidence=_confidence(value))
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise ReviewtuiError(f"filter date: {f.date_from} is after {f.date_to}")
    fts_query(f.search)  # a search that would find the opposite of what it says is refused now
    return f


@dataclass
class FoundAssets:
    """What a filtered search found: ``ids`` in queue order, how many there are (``total``; the
    ids may stop at a limit), and how long it took."""

    ids: list[str]
    total: int
    filter: QueueFilter
    seconds: float = 0.0
    #: {app: reviews} when a version filter with no app filter kept reviews of several apps (their
    #: versions are numbered apart: 2.0 of one app is not 2.0 of another)
    apps: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """The filter as it reads, and the apps a version filter mixes."""
        text = self.filter.describe()
        if len(self.apps) > 1:
            shown = ", ".join(f"{a} {n:,}" for a, n in list(self.apps.items())[:4])
            more = f" and {len(self.apps) - 4} more" if len(self.apps) > 4 else ""
            text += f" (of {len(self.apps)} apps: {shown}{more}; app= narrows to one)"
        return text


def check_filter(store: LocalStore, flt: QueueFilter) -> list[str]:
    """Raises ReviewtuiError, as :func:`find` would, for a filter that can keep nothing: the
    predicted-category or confidence filter while the store holds no predictions, or app= naming
    only apps that are not in the store. Reads no review (the app index and a count). Returns the
    store's apps when the filter names some (else [])."""
    if flt.needs_predictions and store.prediction_count() == 0:
        raise ReviewtuiError("the predicted and confidence filters need predictions: refit the quick model "
                             "(r in the labeling screen, or `reviewtui queue`) or run `reviewtui predict` first")
    if not flt.apps:
        return []
    known = [a for a in store.counts_by_app() if a]
    unknown = _unknown_apps(flt, known)
    if unknown:  # one misspelt app of a list would quietly narrow what a bulk label takes
        raise _no_such_app(unknown[0], known)
    return known


def _unknown_apps(flt: QueueFilter, known: Sequence[str]) -> list[str]:
    """The apps ``flt`` names that are none of ``known`` (app ids match without regard to case)."""
    folded = {k.casefold() for k in known}
    return [a for a in flt.apps if a.casefold() not in folded]


def _no_such_app(app: str, known: Sequence[str]) -> ReviewtuiError:
    from reviewtui.app_version import nearest_apps

    return ReviewtuiError(f"filter app={app}: no review of that app; the apps are: {nearest_apps(app, known)}")


def find(store: LocalStore, flt: QueueFilter, *, limit: int | None = None) -> FoundAssets:
    """The assets ``flt`` keeps, in queue order (the first ``limit`` of them, with the total).
    Raises ReviewtuiError when the predicted-category or confidence filter is asked for while the
    store holds no predictions, and when nothing is kept and an app named is not in the store."""
    t0 = time.perf_counter()
    known = check_filter(store, flt)
    q = flt.asset_query()
    if flt.apps:  # app ids match without regard to case, as `summary --app` takes them
        wanted = {a.casefold() for a in flt.apps}
        q = replace(q, apps=tuple(a for a in known if a.casefold() in wanted) or tuple(flt.apps))
    if limit is not None:
        total = store.count_ids(q)
        ids = store.find_ids(q, limit=limit)
    else:
        ids = store.find_ids(q)
        total = len(ids)
    if total == 0 and flt.apps:  # nothing kept: say so when an app named is none of the workspace's
        unknown = _unknown_apps(flt, known)
        if unknown:
            raise _no_such_app(unknown[0], known)
    apps: dict[str, int] = {}
    if flt.versions and not flt.apps and total and len(store.counts_by_app()) > 1:
        apps = store.count_ids_by_app(q)
    return FoundAssets(ids, total, flt, time.perf_counter() - t0, apps)


def predictions_from_proba(ids: Sequence[str], proba, classes: Sequence[str]) -> dict[str, tuple[str, float]]:
    """external id -> (most probable class, its probability) from an (N, K) probability array."""
    import numpy as np

    p = np.asarray(proba)
    if len(p) == 0:
        return {}
    j = p.argmax(axis=1)
    return {str(i): (str(classes[int(k)]), float(p[n, int(k)])) for n, (i, k) in enumerate(zip(ids, j))}


@dataclass(frozen=True)
class BulkLabel:
    """What :func:`bulk_label` wrote: one label event per changed asset, in one transaction."""

    category: str
    recorded: int
    unchanged: int
    external_ids: list[str] = field(default_factory=list)


def bulk_label(store: LocalStore, taxonomy: Taxonomy, external_ids: Sequence[str], category: str, *,
               expected: int, author: str = "local", status: str | None = None) -> BulkLabel:
    """Label every asset of ``external_ids`` with ``category``: each gets its own label event (so
    undo and the history treat them one by one), all in one transaction. ``expected`` is the count
    the user confirmed; when the set has changed since (another labeler, a re-rank), nothing is
    written and ReviewtuiError says so. An asset already carrying that label and status is left
    as it is (counted in ``unchanged``). The status is ``status``, or as one label gives it
    (LABELED, REVIEWED for a review under review: :func:`store.label_status`)."""
    key = taxonomy.require(category, "bulk label")
    ids = list(dict.fromkeys(str(i) for i in external_ids))
    if not ids:
        raise ReviewtuiError("nothing to label: the filter matches no review")
    if len(ids) != int(expected):
        raise ReviewtuiError(f"the filtered set has {len(ids)} reviews now, not the {expected} you confirmed; "
                             "nothing was labeled: look at the set again and confirm its new count")
    # one note for the whole set, so that `undo --bulk` takes it back as a whole
    note = f"{BULK_NOTE} of {len(ids)} reviews ({utc_now()})"
    recorded, unchanged = store.add_labels([LabelRow(i, key, author, "human", status=status, note=note) for i in ids])
    return BulkLabel(key, recorded, unchanged, ids)
