"""Collecting reviews from Google Play through the google-play-scraper package.

The package's own pieces do the Google Play part: ``Formats.Reviews`` builds the request (address
and body, continuation token included), ``Regex.REVIEWS`` and ``ElementSpecs.Review`` parse the
answer into its familiar columns. The transport is ours, because ``google_play_scraper.reviews()``
turns every error into "no more pages" (its ``except Exception: token = None``), which would make
a dropped connection look like the end of an app's reviews, and its requests have no timeout. Ours
has a timeout, bounded retries with exponential backoff on network errors, HTTP 5xx and throttling
(HTTP 429/503, Retry-After, the "PlayGatewayError" answer), verified TLS, a polite pause between
pages, and a quick network check so that "no network" is one clear error within seconds.

Each page is saved under ``<raw_dir>/<app id>/`` with the continuation token (:mod:`.raw`), so a
collect killed midway continues where it stopped, and with ``sort="newest"`` a rerun stops at the
first review already known: a weekly run fetches only what is new.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

from reviewtui.collect import raw
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.files import format_timestamp, parse_timestamp, utc_now
from reviewtui.settings import CollectSettings

PLAY_BASE_URL = "https://play.google.com"
SORTS = ("newest", "relevant")
#: Columns of a collected review: google-play-scraper's, plus the app id.
RECORD_COLUMNS = ("reviewId", "userName", "userImage", "content", "score", "thumbsUpCount",
                  "reviewCreatedVersion", "at", "replyContent", "repliedAt", "appVersion", "appId")
STOP_REASONS = ("count", "known", "since", "end", "cancelled")
OFFLINE_MESSAGE = ("no network: cannot reach {host} ({reason}). Collecting from Google Play needs the internet; "
                   "importing CSV, JSON, JSON Lines, Parquet or Excel files works offline (`reviewtui import FILE`)")
_GATEWAY_ERROR = "com.google.play.gateway.proto.PlayGatewayError"
_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) reviewtui"

#: (app_id, review ids) -> the ids among them already in the workspace.
KnownIds = Callable[[str, Sequence[str]], Collection[str]]


# --- the package ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Package:
    formats: Any
    regex: Any
    specs: dict[str, Any]
    sorts: dict[str, int]
    version: str


_PACKAGE: _Package | None = None
_PACKAGE_LOCK = threading.Lock()


def play_package() -> _Package:
    """The parts of google-play-scraper we use, imported once. Raises ReviewtuiError when missing."""
    global _PACKAGE
    with _PACKAGE_LOCK:
        if _PACKAGE is None:
            import ssl
            from importlib.metadata import PackageNotFoundError, version

            # importing the package switches off certificate checks for every later urllib call in
            # the process (it assigns ssl._create_default_https_context); put the default back
            default_context = ssl._create_default_https_context
            try:
                from google_play_scraper import Sort
                from google_play_scraper.constants.element import ElementSpecs
                from google_play_scraper.constants.regex import Regex
                from google_play_scraper.constants.request import Formats
            except ImportError as exc:
                raise ReviewtuiError("collecting from Google Play needs the google-play-scraper package: "
                                     "pip install google-play-scraper") from exc
            finally:
                ssl._create_default_https_context = default_context
            try:
                ver = version("google-play-scraper")
            except PackageNotFoundError:  # pragma: no cover - installed without metadata
                ver = "unknown"
            _PACKAGE = _Package(Formats.Reviews, Regex, dict(ElementSpecs.Review),
                                {"newest": int(Sort.NEWEST), "relevant": int(Sort.MOST_RELEVANT)}, ver)
        return _PACKAGE


def _utc(value: Any) -> str | None:
    # the package gives naive local datetimes (datetime.fromtimestamp); store the one UTC format
    if isinstance(value, datetime):
        return format_timestamp(value.astimezone(timezone.utc) if value.tzinfo is None else value)
    return value


def parse_reviews_page(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """(reviews, next token) of one batchexecute answer, parsed as google-play-scraper parses it.
    Raises ValueError when the answer is not in that format."""
    pkg = play_package()
    found = pkg.regex.REVIEWS.findall(text)
    if not found:
        raise ValueError("the answer is not in the reviews format")
    envelope = json.loads(found[0])
    inner = envelope[0][2]
    if inner is None:
        return [], None
    data = json.loads(inner)
    try:
        token = data[-2][-1]
    except (TypeError, IndexError, KeyError):
        token = None
    if not isinstance(token, str):  # the last page has no token (the package's isinstance(token, list))
        token = None
    items = data[0] if data and data[0] else []
    out = []
    for item in items:
        rec = {k: spec.extract_content(item) for k, spec in pkg.specs.items()}
        rec["at"], rec["repliedAt"] = _utc(rec.get("at")), _utc(rec.get("repliedAt"))
        out.append(rec)
    return out, token


# --- transport -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``retries`` further tries after a failure, waiting ``backoff_s`` and then
    twice as long each time (at most ``max_backoff_s``); ``timeout_s`` per request;
    ``offline_after_s`` bounds the network check before the first request."""

    retries: int = 4
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0
    timeout_s: float = 30.0
    offline_after_s: float = 8.0

    @classmethod
    def from_settings(cls, s: CollectSettings) -> "RetryPolicy":
        return cls(retries=s.retries, backoff_s=s.backoff_s, max_backoff_s=s.max_backoff_s, timeout_s=s.timeout_s)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 2`` (``attempt`` counts from 0)."""
        wait = self.backoff_s * (2 ** attempt)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_backoff_s)


class _HttpStatus(Exception):
    def __init__(self, code: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code
        self.retry_after = retry_after


class _Throttled(Exception):
    pass


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _post(url: str, body: bytes, timeout: float) -> str:
    import ssl

    req = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/x-www-form-urlencoded", "user-agent": _USER_AGENT})
    context = ssl.create_default_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise _HttpStatus(exc.code, _retry_after(exc.headers.get("Retry-After") if exc.headers else None)) from exc


def check_network(base_url: str, within_s: float = 8.0) -> None:
    """Raise ReviewtuiError (no network, imports work offline) unless a TCP connection to
    ``base_url``'s host (or to the proxy urllib would use for it) opens within ``within_s``
    seconds (two tries; DNS included)."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):  # urllib goes through the proxy: check that
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = p.hostname or host, p.port or 8080
    outcome: dict[str, Any] = {}

    def probe() -> None:
        for attempt in range(2):
            try:
                with socket.create_connection((host, port), timeout=max(0.5, within_s / 2 - 0.5)):
                    outcome["ok"] = True
                    return
            except OSError as exc:
                outcome["error"] = exc
                if attempt == 0:
                    time.sleep(0.5)

    t = threading.Thread(target=probe, name="reviewtui-network-check", daemon=True)
    t.start()
    t.join(within_s)
    if not outcome.get("ok"):
        err = outcome.get("error")
        reason = (getattr(err, "strerror", None) or str(err)) if err else f"no answer within {within_s:g} s"
        raise ReviewtuiError(OFFLINE_MESSAGE.format(host=host, reason=reason))


# --- collecting ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppCollect:
    """One app's part of a collect. ``reviews`` counts the new reviews of this collection (pages an
    interrupted earlier run saved included, when it was resumed); ``records`` are those reviews,
    newest first; ``pages`` counts the requests made now."""

    app_id: str
    pages: int
    reviews: int
    stopped_because: str
    resumed: bool
    folder: Path
    page_files: list[Path]
    records: list[dict[str, Any]] = field(repr=False)


@dataclass(frozen=True)
class CollectResult:
    """Every app's :class:`AppCollect`, in the order asked."""

    apps: list[AppCollect]

    @property
    def pages(self) -> int:
        return sum(a.pages for a in self.apps)

    @property
    def reviews(self) -> int:
        return sum(a.reviews for a in self.apps)

    @property
    def cancelled(self) -> bool:
        return any(a.stopped_because == "cancelled" for a in self.apps)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for a in self.apps for r in a.records]


class _Session:
    """One collect call: the pause between requests, cancellation and the retry loop."""

    def __init__(self, settings: CollectSettings, policy: RetryPolicy, base_url: str,
                 on_event: EventSink | None, cancel: threading.Event | None) -> None:
        self.settings, self.policy, self.base_url = settings, policy, base_url.rstrip("/")
        self.on_event, self.cancel = on_event, cancel
        self.requests = 0

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` (woken early by cancel). True when cancelled."""
        if seconds <= 0:
            return self.cancelled()
        if self.cancel is not None:
            return self.cancel.wait(seconds)
        time.sleep(seconds)
        return False

    def fetch(self, app_id: str, token: str | None, count: int, score: int | None, page: int):
        """(reviews, next token) of one page, or None when cancelled while waiting."""
        pkg = play_package()
        s = self.settings
        path = pkg.formats.build(lang=s.lang, country=s.country).split("/_/", 1)[1]
        url = f"{self.base_url}/_/{path}"
        body = pkg.formats.build_body(app_id, pkg.sorts[s.sort], count, "null" if score is None else score,
                                      "null", token)
        tries = self.policy.retries + 1
        for attempt in range(tries):
            if attempt == 0 and self.requests and self.wait(s.pause_s):  # a retry has waited its backoff
                return None
            self.requests += 1
            retry_after = None
            try:
                text = _post(url, body, self.policy.timeout_s)
                if _GATEWAY_ERROR in text:
                    raise _Throttled()
                return parse_reviews_page(text)
            except _HttpStatus as exc:
                if exc.code == 404:
                    raise ReviewtuiError(f"Google Play has no app {app_id!r} (HTTP 404); check the id in the app's "
                                         "store address") from exc
                if exc.code in (429, 503):
                    why, retry_after = f"Google Play is throttling (HTTP {exc.code})", exc.retry_after
                elif exc.code >= 500:
                    why = f"Google Play answered HTTP {exc.code}"
                else:
                    raise ReviewtuiError(f"Google Play refused the request for {app_id} (HTTP {exc.code}); check the "
                                         "app id, --lang and --country") from exc
            except _Throttled:
                why = "Google Play is throttling (PlayGatewayError)"
            except ValueError as exc:
                raise ReviewtuiError(
                    f"{app_id}: page {page}: Google Play's answer is not in the format google-play-scraper "
                    f"{pkg.version} reads ({exc}); update it (pip install -U google-play-scraper) and rerun: "
                    "the pages saved so far are kept") from exc
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                why = f"network error ({reason})"
            if attempt + 1 == tries:
                raise ReviewtuiError(
                    f"{app_id}: page {page}: {why}; gave up after {tries} tries. The pages collected so far are "
                    "saved: run the same collect again later to continue from this page")
            delay = self.policy.delay(attempt, retry_after)
            emit(self.on_event, Notice("warning", f"{app_id}: {why}; waiting {delay:.1f} s before try "
                                                   f"{attempt + 2} of {tries}"))
            if self.wait(delay):
                return None
        return None  # pragma: no cover - the loop returns or raises


def _since_utc(since: date | datetime | None) -> datetime | None:
    if since is None:
        return None
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day)
    return since.replace(tzinfo=timezone.utc) if since.tzinfo is None else since.astimezone(timezone.utc)


def _check(app_ids: Sequence[str], settings: CollectSettings, count: int | None, score: int | None) -> list[str]:
    if not app_ids:
        raise ReviewtuiError("give at least one Google Play app id (for example com.example.app)")
    ids = [raw.check_app_id(a) for a in app_ids]
    if count is not None and count < 1:
        raise ReviewtuiError(f"--count must be a positive number or all, not {count}")
    if score is not None and score not in (1, 2, 3, 4, 5):
        raise ReviewtuiError(f"--score must be a star rating from 1 to 5, not {score}")
    if settings.sort not in SORTS:
        raise ReviewtuiError(f"--sort must be newest or relevant, not {settings.sort!r}")
    return list(dict.fromkeys(ids))


def collect_play(app_ids: Sequence[str], raw_dir: Path, settings: CollectSettings, *, count: int | None = None,
                 score: int | None = None, since: date | datetime | None = None, known: KnownIds | None = None,
                 policy: RetryPolicy | None = None, on_event: EventSink | None = None,
                 cancel: threading.Event | None = None, base_url: str = PLAY_BASE_URL) -> CollectResult:
    """Collect the reviews of ``app_ids`` from Google Play into ``raw_dir/<app id>/``.

    ``settings`` gives the language, country, sort, page size and pause; ``count`` caps the new
    reviews per app (None: all); ``score`` keeps one star rating; ``since`` keeps reviews from that
    date on (with sort newest the collect stops at the first older one); ``known(app_id, ids)``
    says which ids the workspace already has: with sort newest the collect stops at the first one,
    otherwise it skips them. An unfinished collection of an app (killed, cancelled, failed) with
    the same language, country, sort and score continues from its saved token.

    Emits Progress("collect", reviews so far, count, detail) after each page and a warning Notice
    before each retry; checks ``cancel`` between pages and while waiting. Returns a
    :class:`CollectResult`. Raises ReviewtuiError on bad input, with no network (within
    ``policy.offline_after_s``), on an unknown app, and after the last retry (what was saved stays)."""
    ids = _check(app_ids, settings, count, score)
    policy = policy or RetryPolicy.from_settings(settings)
    play_package()
    check_network(base_url, policy.offline_after_s)
    session = _Session(settings, policy, base_url, on_event, cancel)
    results = []
    for app_id in ids:
        results.append(_collect_app(session, app_id, Path(raw_dir), count, score, _since_utc(since), known))
        if results[-1].stopped_because == "cancelled":
            break
    return CollectResult(results)


def _start(folder: Path, app_id: str, s: CollectSettings, score: int | None,
           on_event: EventSink | None) -> tuple[raw.CollectState, bool]:
    state = raw.load_state(folder)
    if state is not None and state.status == "running" and state.same_query(s.lang, s.country, s.sort, score):
        removed = raw.remove_pages_from(folder, state.next_page)
        emit(on_event, Notice("info", f"{app_id}: continuing the unfinished collect at page "
                                      f"{state.next_page - state.first_page + 1} ({state.reviews:,} reviews so far"
                                      f"{'; removed a page saved without its state' if removed else ''})"))
        return state, True
    if state is not None and state.status == "running":
        emit(on_event, Notice("warning", f"{app_id}: the unfinished collect used other options ({state.lang}, "
                                         f"{state.country}, {state.sort}, score {state.score}); starting from the "
                                         "first page"))
    numbers = raw.page_numbers(folder)
    first = (numbers[-1] + 1) if numbers else 1
    now = utc_now()
    state = raw.CollectState(app_id, s.lang, s.country, s.sort, score, None, first, first, started_at=now,
                             updated_at=now)
    folder.mkdir(parents=True, exist_ok=True)
    raw.save_state(folder, state)
    return state, False


def _collect_app(session: _Session, app_id: str, raw_dir: Path, count: int | None, score: int | None,
                 since: datetime | None, known: KnownIds | None) -> AppCollect:
    s = session.settings
    folder = raw.app_dir(raw_dir, app_id)
    state, resumed = _start(folder, app_id, s, score, session.on_event)
    seen = raw.known_ids(folder)
    newest = s.sort == "newest"
    pages = 0
    stop: str | None = None
    while stop is None:
        if count is not None and state.reviews >= count:
            stop = "count"
            break
        if session.cancelled():
            stop = "cancelled"
            break
        want = s.page_size if count is None else min(s.page_size, count - state.reviews)
        fetched = session.fetch(app_id, state.token, want, score, state.next_page - state.first_page + 1)
        if fetched is None:
            stop = "cancelled"
            break
        items, token = fetched
        pages += 1
        in_workspace = set(known(app_id, [str(r.get("reviewId")) for r in items])) if known and items else set()
        new: list[dict[str, Any]] = []
        for item in items:
            rid = str(item.get("reviewId"))
            if rid in seen or rid in in_workspace:
                if newest:
                    stop = "known"
                    break
                continue
            if since is not None and item.get("at") and parse_timestamp(item["at"]) < since:
                if newest:
                    stop = "since"
                    break
                continue
            seen.add(rid)
            new.append({**{k: item.get(k) for k in RECORD_COLUMNS[:-1]}, "appId": app_id})
            if count is not None and state.reviews + len(new) >= count:
                stop = "count"
                break
        if new:
            raw.write_page(folder, state.next_page, new)
        if stop is None and token is None:
            stop = "end"
        state = replace(state, token=token, next_page=state.next_page + 1, pages=state.pages + 1,
                        reviews=state.reviews + len(new), updated_at=utc_now(),
                        status="finished" if stop else "running", stopped_because=stop)
        raw.save_state(folder, state)
        emit(session.on_event, Progress("collect", state.reviews, count,
                                        f"{app_id}: page {state.pages}, {state.reviews:,} new reviews"))
    if stop != "cancelled" and state.status != "finished":
        state = replace(state, status="finished", stopped_because=stop, updated_at=utc_now())
        raw.save_state(folder, state)
    if stop == "known" and state.reviews == 0:
        emit(session.on_event, Notice("info", f"{app_id}: nothing new since the last collect"))
    elif stop == "end" and state.reviews == 0 and not resumed and pages == 1:
        emit(session.on_event, Notice("warning", f"{app_id}: Google Play returned no reviews; check the app id "
                                                 "(and --score, --lang, --country)"))
    numbers = [n for n in raw.page_numbers(folder) if state.first_page <= n < state.next_page]
    records = list(raw.iter_records(folder, numbers))
    return AppCollect(app_id, pages, state.reviews, stop, resumed, folder,
                      [raw.page_path(folder, n) for n in numbers], records)


__all__ = ["AppCollect", "CollectResult", "KnownIds", "OFFLINE_MESSAGE", "PLAY_BASE_URL", "RECORD_COLUMNS",
           "RetryPolicy", "STOP_REASONS", "check_network", "collect_play", "parse_reviews_page", "play_package"]
