"""Collected pages as they came, under ``<workspace>/data/raw/<app id>/``.

One JSON Lines file per page (``page-000001.jsonl``: google-play-scraper's columns plus ``appId``,
only reviews not collected before) and ``.state.json``, the collection's progress: its options, the
continuation token, the next page number and whether it finished. Both are written atomically,
the page first and the state after it, so a collect killed at any moment leaves either the page
and its state or neither (an orphan page past the state's ``next_page`` is removed on resume).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_text

STATE_NAME = ".state.json"  # hidden: `reviewtui import data/raw/<app id>` reads the pages only
PAGE_RE = re.compile(r"^page-(\d{6,})\.jsonl$")
APP_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")


def check_app_id(app_id: str) -> str:
    """``app_id`` if it looks like a Play package name (``com.example.app``); else ReviewtuiError."""
    app_id = str(app_id).strip()
    if not APP_ID_RE.match(app_id):
        raise ReviewtuiError(f"{app_id!r} is not a Google Play app id; use the id from the app's store address "
                             "(play.google.com/store/apps/details?id=com.example.app -> com.example.app)")
    return app_id


def app_dir(raw_dir: Path, app_id: str) -> Path:
    """The folder of ``app_id``'s raw pages."""
    return Path(raw_dir) / check_app_id(app_id)


@dataclass(frozen=True)
class CollectState:
    """The progress of one app's collection, saved after every page."""

    app_id: str
    lang: str
    country: str
    sort: str
    score: int | None
    token: str | None
    first_page: int          # the first page file of this collection
    next_page: int           # the number the next page file gets
    pages: int = 0           # pages fetched by this collection
    reviews: int = 0         # new reviews it saved
    status: str = "running"  # running (resumable) or finished
    stopped_because: str | None = None
    started_at: str = ""
    updated_at: str = ""

    def same_query(self, lang: str, country: str, sort: str, score: int | None) -> bool:
        return (self.lang, self.country, self.sort, self.score) == (lang, country, sort, score)


def load_state(folder: Path) -> CollectState | None:
    """The saved state, or None when the app was never collected. Raises ReviewtuiError when the
    file is unreadable (say which, and that deleting it starts the app afresh)."""
    path = folder / STATE_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in fields(CollectState)}
        return CollectState(**{k: v for k, v in data.items() if k in names})
    except (OSError, ValueError, TypeError) as exc:
        raise ReviewtuiError(f"{path}: not a readable collect state ({exc}); delete it to collect this app "
                             "from the newest reviews again") from exc


def save_state(folder: Path, state: CollectState) -> None:
    atomic_write_text(folder / STATE_NAME, json.dumps(asdict(state), indent=2, ensure_ascii=False) + "\n")


def page_path(folder: Path, number: int) -> Path:
    return folder / f"page-{number:06d}.jsonl"


def page_numbers(folder: Path) -> list[int]:
    """The numbers of the page files in ``folder``, ascending."""
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := PAGE_RE.match(p.name)))


def write_page(folder: Path, number: int, records: Sequence[dict[str, Any]]) -> Path:
    """Write one page's records atomically as JSON Lines. Returns the file."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return atomic_write_text(page_path(folder, number), text)


def iter_records(folder: Path, numbers: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
    """The records of the given pages (all pages by default), in page order."""
    wanted = page_numbers(folder) if numbers is None else numbers
    for n in wanted:
        path = page_path(folder, n)
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def known_ids(folder: Path) -> set[str]:
    """The review ids in every page file of ``folder``."""
    return {str(r.get("reviewId")) for r in iter_records(folder)}


def remove_pages_from(folder: Path, number: int) -> list[int]:
    """Delete page files numbered ``number`` or more (left by a collect killed between writing a page
    and saving its state). Returns the numbers removed."""
    gone = [n for n in page_numbers(folder) if n >= number]
    for n in gone:
        page_path(folder, n).unlink(missing_ok=True)
    return gone


__all__ = ["CollectState", "STATE_NAME", "app_dir", "check_app_id", "iter_records", "known_ids", "load_state",
           "page_numbers", "page_path", "remove_pages_from", "save_state", "write_page"]
