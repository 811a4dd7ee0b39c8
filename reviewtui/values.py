"""Star ratings and dates as review files write them, read into the forms the store keeps.

The store keeps a review's stars as an int from 1 to 5 and its date as ISO 8601 text
(``2025-03-05`` or ``2025-03-05 14:30:00``): the summary counts stars, and date filters compare text.
Files hold other forms: ``4.0``, ``4 stars``, ``5/5``, ``4,0``, ``★★★★☆``, ``8/10``; ``01/03/2025``,
``05.03.2025``, ``Mar 5, 2025``, Unix seconds. These functions read them, column by column (each
distinct value once), and say what they could not read, for the import's report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

#: A star value: a number (decimal point or comma), optionally "/ N" and a word for stars.
STARS_RE = re.compile(r"^\s*(?:rated|rating:?|score:?|note:?|bewertung:?)?\s*(\d+(?:[.,]\d+)?)\s*"
                      r"(?:(?:/|out of|of|sur|von|de)\s*(\d+(?:[.,]\d+)?))?\s*"
                      r"(?:stars?|étoiles?|sternen?|estrellas?|estrelas?|stelle)?\s*$", re.IGNORECASE)
STAR_GLYPHS = "★☆✩✪✫✬✭✮✯✰⭐"
FULL_STARS = "★✪✫✬✭✮✯⭐"

#: Dates the store keeps as they are: its own form, a day with an optional time (UTC). Other ISO 8601
#: forms (a ``T``, a fraction, a zone: App Store Connect's ``2023-03-01T05:52:07-07:00``) are read
#: into it, in UTC, as dates with a zone written otherwise are: every date of a workspace compares.
ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?$"
YEAR_FIRST_RE = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:$|[^\d])")
NUMERIC_DATE_RE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.*))?$")
#: Unix seconds or milliseconds as whole numbers (a pyarrow pattern too: ingest reads a column of them
#: in one pass); EPOCH_RE also takes seconds with a fraction, read value by value.
WHOLE_EPOCH = r"^\d{9,10}$|^\d{12,13}$"
EPOCH_RE = re.compile(r"^\d{9,10}(?:\.\d+)?$|^\d{12,13}$")
EXAMPLES = 3


def read_stars(value: Any) -> int | float | None:
    """``value`` as stars from 1 to 5 (an int, halves rounded up: ``4.5`` is 5), a number outside
    1-5 as it reads (``7``, ``0``), or None when it does not read as stars. ``8/10`` is 4."""
    if value is None:
        return None
    text = str(value).replace("\ufe0f", "").strip()  # ⭐️ as keyboards type it: the star and a selector
    if not text:
        return None
    if all(ch in STAR_GLYPHS or ch.isspace() for ch in text):
        n = sum(ch in FULL_STARS for ch in text)
        return n if 1 <= n <= 5 else None
    m = STARS_RE.match(text)
    if not m:
        return None
    number = float(m.group(1).replace(",", "."))
    if m.group(2):
        scale = float(m.group(2).replace(",", "."))
        if scale <= 0 or number > scale:
            return None
        number = number / scale * 5
    if 1 <= number <= 5:
        return int(math.floor(number + 0.5))
    return int(number) if number == int(number) else number


@dataclass
class ColumnReading:
    """What reading one column's values gave: examples of those left as written (``unread``) or
    outside the range (``out_of_range``)."""

    column: str
    unread: int = 0
    unread_examples: list[str] = field(default_factory=list)
    out_of_range: int = 0
    out_of_range_examples: list[str] = field(default_factory=list)
    #: dates like 01/03/2025 whose order nothing in the column settles: read month first unless
    #: --dayfirst; an example
    ambiguous_example: str | None = None

    def sentences(self, what: str) -> list[str]:
        out = []
        if self.unread:
            out.append(f"{self.unread:,} {what} value{'s' if self.unread != 1 else ''} in column {self.column!r} "
                       f"could not be read and {'were' if self.unread != 1 else 'was'} stored as written "
                       f"({', '.join(map(repr, self.unread_examples))})")
        if self.out_of_range:
            one = self.out_of_range == 1
            out.append(f"{self.out_of_range:,} star value{'' if one else 's'} in column {self.column!r} "
                       f"{'lies' if one else 'lie'} outside 1-5 ({', '.join(map(repr, self.out_of_range_examples))}): "
                       f"the star counts leave {'it' if one else 'them'} out")
        if self.ambiguous_example:
            out.append(f"dates in column {self.column!r} such as {self.ambiguous_example!r} were read month "
                       "first; import with --dayfirst if the day comes first")
        return out


def read_star_values(distinct: list[str], column: str,
                     rows: Mapping[str, int] | None = None) -> tuple[dict[str, Any], ColumnReading]:
    """{value: what the store keeps} for each distinct value of a star column, and the reading,
    whose counts are of rows where ``rows`` gives each value's (else of distinct values)."""
    reading = ColumnReading(column)
    out: dict[str, Any] = {}
    for v in distinct:
        stars = read_stars(v)
        n = rows.get(v, 1) if rows is not None else 1
        if stars is None:
            out[v] = v
            reading.unread += n
            if len(reading.unread_examples) < EXAMPLES:
                reading.unread_examples.append(v)
            continue
        out[v] = stars
        if not (isinstance(stars, int) and 1 <= stars <= 5):
            reading.out_of_range += n
            if len(reading.out_of_range_examples) < EXAMPLES:
                reading.out_of_range_examples.append(v)
    return out, reading


def _format(ts: Any) -> str:
    if ts.hour or ts.minute or ts.second:
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    return ts.strftime("%Y-%m-%d")


def read_dates(distinct: list[str], column: str, dayfirst: bool | None = None,
               rows: Mapping[str, int] | None = None) -> tuple[dict[str, str], ColumnReading]:
    """{value: ISO 8601 text} for the distinct non-ISO values of a date column (those it cannot read
    map to themselves), and the reading, whose counts are of rows where ``rows`` gives each value's
    (else of distinct values).

    Dates written with dots (``05.03.2025``) are day first. The others (``01/03/2025``,
    ``01-03-2025``) are read in one order for the whole column: day first when ``dayfirst``, or when
    a first number among them is above 12; month first when a second number is above 12 or
    ``dayfirst`` is False; else month first, and the reading names an example so the report can say
    so. Unix seconds and milliseconds are read as UTC."""
    import pandas as pd

    reading = ColumnReading(column)
    out: dict[str, str] = {}
    numeric = {v: m for v in distinct if (m := NUMERIC_DATE_RE.match(v))}
    if numeric:
        order = dayfirst
        slashed = {v: m for v, m in numeric.items() if m.group(2) != "."}  # dotted dates are day first anyway
        if order is None and slashed:
            if any(int(m.group(1)) > 12 for m in slashed.values()):
                order = True
            elif any(int(m.group(3)) > 12 for m in slashed.values()):
                order = False
            else:
                order = False
                reading.ambiguous_example = next(iter(slashed))
        for v, m in numeric.items():
            a, b, year = int(m.group(1)), int(m.group(3)), m.group(4)
            day, month = (a, b) if m.group(2) == "." or order else (b, a)
            y = int(year) + (2000 if len(year) == 2 and int(year) < 70 else 1900 if len(year) == 2 else 0)
            rest = m.group(5) or ""
            text = f"{y:04d}-{month:02d}-{day:02d}"
            try:
                ts = pd.Timestamp(f"{text} {rest}".strip())
            except (ValueError, OverflowError):
                continue
            out[v] = _format(ts)
    for v in distinct:
        if v in out or v in numeric:
            continue
        if EPOCH_RE.match(v):
            unit = "ms" if len(v.split(".")[0]) >= 12 else "s"
            try:
                out[v] = _format(pd.Timestamp(float(v), unit=unit))
            except (ValueError, OverflowError):
                pass
    rest = [v for v in distinct if v not in out and v not in numeric]
    if rest:
        import warnings

        # a date that starts with its year (ISO 8601's 2023-03-01T05:52:07-07:00) is year, month, day
        # whatever the column's other dates: pandas' dayfirst would read it as the 3rd of January
        year_first = [v for v in rest if YEAR_FIRST_RE.match(v)]
        others = [v for v in rest if not YEAR_FIRST_RE.match(v)]
        for values, first in ((year_first, False), (others, bool(dayfirst))):
            if not values:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # every value in UTC (a time without a zone is taken as UTC), so mixed zones read too
                parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed",
                                        dayfirst=first, utc=True)
            for v, ts in zip(values, parsed):
                if not pd.isna(ts):
                    out[v] = _format(ts.tz_localize(None))
    for v in distinct:
        if v not in out:
            out[v] = v
            reading.unread += rows.get(v, 1) if rows is not None else 1
            if len(reading.unread_examples) < EXAMPLES:
                reading.unread_examples.append(v)
    return out, reading
