"""Writing results safely: atomic files and CSV cells that spreadsheets cannot run as formulas.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab/carriage return) would be a
formula in Excel or LibreOffice; :func:`safe_cell` prefixes it with ``'`` so it is shown as text.
Numbers we compute (scores, confidences, counts) are written as numbers and left as they are.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, Sequence

from reviewtui.files import atomic_output


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would read as a formula (a
    lone "-", the tables' "none", is not)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-":
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text of ``header`` and ``rows`` with every text cell neutralised by :func:`safe_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(str(h)) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def write_csv_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a neutralised CSV atomically (the bytes of :func:`csv_text`, streamed through a
    temporary file in the same folder, fsync'd and renamed: a million rows never sit in memory as
    one string); returns ``path``."""
    path = Path(path)
    with atomic_output(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([safe_cell(str(h)) for h in header])
        for row in rows:
            w.writerow([safe_cell(v) for v in row])
    return path


def frame_csv_bytes(df, index: bool = True) -> bytes:
    """A pandas DataFrame as neutralised CSV bytes (the index becomes the first column)."""
    data = df.reset_index() if index else df
    rows = data.itertuples(index=False, name=None)
    return csv_text([str(c) for c in data.columns], ([_plain(v) for v in r] for r in rows)).encode("utf-8")


def _plain(v: Any) -> Any:
    """numpy scalars as Python numbers; floats rounded to 6 places for stable files."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float):
        return "" if v != v else round(v, 6)
    return v
