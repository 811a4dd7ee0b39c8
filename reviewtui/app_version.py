"""App versions ordered as versions: ``4.10`` after ``4.9``, ``4.10.1`` after ``4.10``, ``2.0-beta``
before ``2.0``; the latest version of each app, never across apps; and one spelling of an app's
name written in other case.

A low module: pure functions, no reviewtui imports.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

_PARTS = re.compile(r"\d+|[A-Za-z]+")
# a number sorts after the end of a version, which sorts after a word: 1.0-beta < 1.0 < 1.0.1
_WORD, _END, _NUMBER = 0, 1, 2


def version_key(version: str | None) -> tuple:
    """A sort key for an app version string. Numbers compare as numbers; a word after the numbers
    (beta, rc) sorts before the plain release; blanks and versions without any digit sort first."""
    text = (version or "").strip()
    parts = _PARTS.findall(text)
    if not any(p.isdigit() for p in parts):
        return ((_WORD, text.casefold()),)  # "", "unknown", "Varies with device"
    key = [(_NUMBER, int(p)) if p.isdigit() else (_WORD, p.casefold()) for p in parts]
    return (*key, (_END, ""))


def is_version(version: str | None) -> bool:
    """True when ``version`` holds a digit (so it can be ordered)."""
    return bool(version) and any(ch.isdigit() for ch in str(version))


def sort_versions(versions: Iterable[str | None]) -> list[str]:
    """The distinct versions, oldest first (ties between equal keys keep text order)."""
    return sorted({v for v in versions if v is not None}, key=lambda v: (version_key(v), v))


def latest_version(versions: Iterable[str | None]) -> str | None:
    """The latest of ``versions`` that :func:`is_version`, or None."""
    ordered = [v for v in sort_versions(versions) if is_version(v)]
    return ordered[-1] if ordered else None


def latest_by_app(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str | None, str]:
    """``{app: latest version}`` from (app, version) pairs; each app's versions are compared only
    with its own. Apps without any orderable version are left out."""
    by_app: dict[str | None, list[str | None]] = {}
    for app, version in pairs:
        by_app.setdefault(app, []).append(version)
    out = {}
    for app, versions in by_app.items():
        latest = latest_version(versions)
        if latest is not None:
            out[app] = latest
    return out


def nearest_apps(wanted: str, apps: Sequence[str], limit: int = 8) -> str:
    """``apps`` as an error lists them for a ``wanted`` app the workspace lacks: those that contain
    it and those spelled alike first ("greenlight" -> me.greenlight, me.greenlight-eu...), then the
    rest, at most ``limit`` and how many more; "none" when there is no app."""
    import difflib

    text = str(wanted).strip().casefold()
    holding = [a for a in apps if text and text in str(a).casefold()]
    alike = difflib.get_close_matches(str(wanted).strip(), list(apps), n=limit, cutoff=0.6)
    ordered = list(dict.fromkeys([*holding, *alike, *apps]))
    shown = ordered[:limit]
    return (", ".join(shown) + (f" and {len(ordered) - len(shown)} more" if len(ordered) > len(shown) else "")
            if shown else "none")


def one_spelling_per_app(counts: Mapping[str, int], known: Sequence[str] = ()) -> dict[str, str]:
    """{spelling: the one it is written as} of the app names in ``counts`` (name -> reviews) that
    differ only in case ("quickbite ios" beside "QuickBite iOS", a spreadsheet's hand-typed rows): the
    workspace's spelling (``known``, its apps, the most reviews first) where it has the name, else the
    most frequent (then the greatest, so that ties are decided the same way every time). Names
    spelled one way only are not in it."""
    spellings: dict[str, list[str]] = {}
    for name in counts:
        spellings.setdefault(str(name).casefold(), []).append(name)
    theirs: dict[str, str] = {}
    for name in known:
        theirs.setdefault(str(name).casefold(), str(name))
    mapping = {}
    for fold, names in spellings.items():
        main = theirs.get(fold) or max(names, key=lambda n: (counts[n], n))
        mapping.update({n: main for n in names if n != main})
    return mapping


__all__ = ["is_version", "latest_by_app", "latest_version", "nearest_apps", "one_spelling_per_app", "sort_versions",
           "version_key"]
