"""The options of a collect as users type them (``--count 500``, ``all``, ``--since 2026-01-31``),
read the same way by the CLI and the app's collect form."""

from __future__ import annotations

from datetime import date

from reviewtui.errors import ReviewtuiError


def parse_count(value: str | int | None) -> int | None:
    """``--count``: a positive number (``2,000`` and ``2_000`` too), or ``all``/blank (None).
    Raises ReviewtuiError otherwise."""
    if value is None or str(value).strip().lower() in ("", "all"):
        return None
    try:
        n = int(str(value).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise ReviewtuiError(f"--count must be a positive number or all, not {value!r}") from None
    if n < 1:
        raise ReviewtuiError(f"--count must be a positive number or all, not {value!r}")
    return n


def parse_score(value: str | int | None) -> int | None:
    """``--score``: a star rating from 1 to 5, or None. Raises ReviewtuiError otherwise."""
    if value is None or str(value).strip() == "":
        return None
    if str(value).strip() not in ("1", "2", "3", "4", "5"):
        raise ReviewtuiError(f"--score must be a star rating from 1 to 5, not {value!r}")
    return int(str(value).strip())


def parse_since(value: str | None) -> date | None:
    """``--since``: a date written YYYY-MM-DD, or None. Raises ReviewtuiError otherwise."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ReviewtuiError(f"--since must be a date written YYYY-MM-DD (for example 2026-01-31), "
                             f"not {value!r}") from None


def parse_app_ids(text: str) -> list[str]:
    """App ids typed in one field, separated by commas or spaces."""
    return [a for a in text.replace(",", " ").split() if a]


__all__ = ["parse_app_ids", "parse_count", "parse_score", "parse_since"]
