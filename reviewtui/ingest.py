"""Reading and cleaning review exports.

google-play-scraper exports (reviewId, userName, userImage, content, score, thumbsUpCount,
reviewCreatedVersion, at, replyContent, repliedAt) are recognised by their header; any other CSV
names its text column (and optionally its id column). Cleaning follows the original project:
drop missing text, remove URLs, HTML tags and emoji, lowercase, collapse whitespace, drop what is
left empty. Every rule can be switched off in reviewtui.toml's [import] section.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewtui.errors import ReviewtuiError
from reviewtui.settings import ImportSettings

PLAY_COLUMNS = ["reviewId", "userName", "userImage", "content", "score", "thumbsUpCount",
                "reviewCreatedVersion", "at", "replyContent", "repliedAt"]
PII_COLUMNS = {"userName": "user_name", "userImage": "user_image"}
# metadata key -> candidate column names (case-insensitive), first found wins
META_COLUMNS: dict[str, tuple[str, ...]] = {
    "score": ("score", "rating", "stars", "star_rating"),
    "app_version": ("reviewCreatedVersion", "app_version", "appVersion", "version"),
    "at": ("at", "date", "created_at", "timestamp"),
    "thumbs_up": ("thumbsUpCount", "thumbs_up", "helpful"),
    "reply": ("replyContent", "reply"),
    "replied_at": ("repliedAt", "replied_at"),
}
MAX_FIELD_CHARS = 100_000

URL_RE = r"(?:https?://|www\.)\S+"
HTML_RE = r"<[^>]{1,200}>"
EMOJI_RE = ("[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
            "\U0000FE0F\U0000200D\U000020E3\U0001F3FB-\U0001F3FF\U00002190-\U000021FF\U00003030\U0000303D"
            "\U00003297\U00003299]")


@dataclass
class CleaningReport:
    """How many rows each rule dropped or changed, for one file."""

    source: str
    rows_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    added: int = 0
    existing: int = 0
    labels: int = 0


@dataclass
class ReviewBatch:
    """Cleaned rows of one file, ready for the store."""

    source: Path
    sha256: str
    external_ids: list[str]
    texts: list[str]
    metadata: list[dict[str, Any]]
    labels: list[str | None]
    report: CleaningReport


def stable_id(text: str) -> str:
    """An id derived from the review text, the same on every import."""
    return "t" + hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


def _read_text(path: Path) -> tuple[str, bytes]:
    if not path.exists():
        raise ReviewtuiError(f"{path}: no such file")
    if path.is_dir():
        raise ReviewtuiError(f"{path}: is a folder; give the CSV files inside it")
    raw = path.read_bytes()
    if not raw.strip():
        raise ReviewtuiError(f"{path}: the file is empty")
    if b"\x00" in raw[:8192]:
        raise ReviewtuiError(f"{path}: not a CSV text file (it contains binary data)")
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ReviewtuiError(
            f"{path}: line {line}: bytes that are not UTF-8 ({raw[exc.start:exc.start + 4]!r}); "
            "re-save the file as UTF-8") from exc


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)  # type: ignore[arg-type]
    return "," if counts[","] > 0 or counts[best] == 0 else best


def read_reviews(path: str | Path, *, text_col: str | None = None, id_col: str | None = None,
                 label_col: str | None = None, delimiter: str | None = None, keep_pii: bool = False,
                 cleaning: ImportSettings | None = None, max_field_chars: int = MAX_FIELD_CHARS) -> ReviewBatch:
    """Read and clean one CSV with the ``cleaning`` rules (default: every rule on, as ``[import]``
    ships). Raises ReviewtuiError naming the file (and line) on bad input."""
    import pandas as pd

    path = Path(path)
    text, raw = _read_text(path)
    header = text.split("\n", 1)[0]
    sep = delimiter or _sniff_delimiter(header)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[],
                         engine="c", quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError as exc:
        raise ReviewtuiError(f"{path}: the file has no header row") from exc
    except pd.errors.ParserError as exc:
        raise ReviewtuiError(f"{path}: not a well-formed CSV ({str(exc).strip()}); check its quoting and "
                             "delimiter (--delimiter)") from exc
    columns = [str(c) for c in df.columns]
    play = all(c in columns for c in ("reviewId", "content", "score"))
    tcol = text_col or ("content" if "content" in columns else None)
    if tcol is None or tcol not in columns:
        hint = ""
        if len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
            hint = " (the header is one column: is the delimiter wrong? use --delimiter)"
        what = f"text column {tcol!r}" if tcol else "text column (content)"
        raise ReviewtuiError(f"{path}: no {what}; the columns are: {', '.join(columns)}{hint}; "
                             "name the text column with --text-col")
    icol = id_col or ("reviewId" if play else None)
    if icol is not None and icol not in columns:
        raise ReviewtuiError(f"{path}: no id column {icol!r}; the columns are: {', '.join(columns)}")
    if label_col is not None and label_col not in columns:
        raise ReviewtuiError(f"{path}: no label column {label_col!r}; the columns are: {', '.join(columns)}")
    if df.empty:
        raise ReviewtuiError(f"{path}: the file has a header but no rows")

    lengths = df[tcol].str.len()
    if int(lengths.max()) > max_field_chars:
        row = int(lengths.values.argmax())
        raise ReviewtuiError(
            f"{path}: data row {row + 1}: the text is {int(lengths.max()):,} characters long (limit "
            f"{max_field_chars:,}); a quote is probably unbalanced before it — fix the file")

    rules = (cleaning or ImportSettings()).as_flags()
    report = CleaningReport(source=str(path), rows_read=len(df))
    raw_text = df[tcol]
    ids = df[icol].str.strip() if icol else raw_text.map(stable_id)
    if icol:
        blank = ids == ""
        if blank.any():
            raise ReviewtuiError(f"{path}: data row {int(blank.values.argmax()) + 1}: empty id in column {icol!r}")
        dup = ids.duplicated(keep=False)
        if dup.any():
            first = ids[dup].iloc[0]
            rows = [str(i + 1) for i in ids.index[ids == first][:5]]
            raise ReviewtuiError(f"{path}: id {first!r} appears {int((ids == first).sum())} times (data rows "
                                 f"{', '.join(rows)}); ids must be unique within a file")

    keep = pd.Series(True, index=df.index)
    if rules["drop_missing"]:
        missing = raw_text.str.strip() == ""
        report.dropped["missing text"] = int(missing.sum())
        keep &= ~missing
    cleaned = raw_text.copy()

    def apply(rule: str, func) -> None:
        nonlocal cleaned
        if rules.get(rule):
            new = func(cleaned)
            report.changed[rule.replace("_", " ")] = int((new != cleaned).sum())
            cleaned = new

    apply("remove_html", lambda s: s.map(html.unescape).str.replace(HTML_RE, " ", regex=True))
    apply("remove_urls", lambda s: s.str.replace(URL_RE, " ", regex=True))
    apply("remove_emoji", lambda s: s.str.replace(EMOJI_RE, "", regex=True))
    apply("lowercase", lambda s: s.str.lower())
    apply("collapse_whitespace", lambda s: s.str.replace(r"\s+", " ", regex=True).str.strip())
    if rules["drop_empty"]:
        empty = (cleaned.str.strip() == "") & keep
        report.dropped["empty after cleaning"] = int(empty.sum())
        keep &= ~empty
    if not icol:
        dup = ids.duplicated() & keep
        report.dropped["duplicate text"] = int(dup.sum())
        keep &= ~dup

    meta_cols: dict[str, str] = {}
    lower = {c.lower(): c for c in columns}
    for key, names in META_COLUMNS.items():
        for n in names:
            if n.lower() in lower and lower[n.lower()] not in (tcol, icol, label_col):
                meta_cols[key] = lower[n.lower()]
                break
    if keep_pii:
        meta_cols.update({v: k for k, v in PII_COLUMNS.items() if k in columns})

    kept = df.index[keep]
    metadata: list[dict[str, Any]] = []
    meta_frame = {key: df[col].loc[kept].tolist() for key, col in meta_cols.items()}
    for i in range(len(kept)):
        item: dict[str, Any] = {}
        for key, values in meta_frame.items():
            v = values[i]
            if v == "":
                continue
            if key in ("score", "thumbs_up"):
                try:
                    v = int(float(v))
                except ValueError:
                    pass
            item[key] = v
        metadata.append(item)
    labels = df[label_col].loc[kept].tolist() if label_col else [None] * len(kept)
    report.kept = len(kept)
    return ReviewBatch(path, hashlib.sha256(raw).hexdigest(), ids.loc[kept].tolist(), cleaned.loc[kept].tolist(),
                       metadata, [lab if lab else None for lab in labels], report)
