"""Reading and cleaning review exports.

Files are read by :mod:`reviewtui.readers` (CSV/TSV in UTF-8 or UTF-16, JSON, JSON Lines, Parquet,
Excel). google-play-scraper exports (reviewId, userName, userImage, content, score, thumbsUpCount,
reviewCreatedVersion, at, replyContent, repliedAt) and the common App Store exports are recognised
by their header (:data:`PROFILES`); in any other file the text is the first of the usual text
columns (:data:`TEXT_COLUMNS`: ``content``, ``text``, ``review``, ...) or the one given. The id column is
``reviewId``, ``review_id``, ``externalId`` or ``id`` in any file that has one (else ids are taken
from the text); the app comes from an ``app``/``appId``/``app_name`` column, a given name or a
per-app folder. Cleaning follows the original project:
drop missing text, remove URLs, HTML tags and emoji, lowercase, collapse whitespace, drop what is
left empty (or left with invisible characters only: zero-width spaces, direction marks). Every rule
can be switched off in reviewtui.toml's [import] section.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import ID_COLUMNS, find_column
from reviewtui.readers import Table, read_table, review_files, table_from_records
from reviewtui.store import AssetColumns, metadata_json
from reviewtui.settings import ImportSettings

PLAY_COLUMNS = ["reviewId", "userName", "userImage", "content", "score", "thumbsUpCount",
                "reviewCreatedVersion", "at", "replyContent", "repliedAt"]
PII_COLUMNS = {"userName": "user_name", "userImage": "user_image"}
#: Columns that hold a review's text in a file no profile recognises (any case), first found wins:
#: the names public review sets and spreadsheet exports use.
#: (``review_text`` also finds ``reviewText`` and ``Review Text``: see :func:`find_column`)
TEXT_COLUMNS: tuple[str, ...] = ("content", "text", "review", "review_text", "review_body", "body", "comment",
                                 "comments", "translated_review", "feedback", "review_content")
#: Columns that name a review's app (any case and spelling, see :func:`find_column`), first found
#: wins. Reviews of products, hotels or places group by what they review as app reviews by app.
APP_COLUMNS: tuple[str, ...] = ("app", "appId", "app_id", "app_name", "product", "product_name", "product_title",
                                "product_id", "asin", "item", "item_name", "hotel", "hotel_name", "business_name",
                                "business_id", "package_name", "package", "company", "company_name")
# metadata key -> candidate column names (any case and spelling), first found wins
META_COLUMNS: dict[str, tuple[str, ...]] = {
    "score": ("score", "rating", "stars", "star_rating", "overall", "review_rating", "im:rating", "review_score",
              "review_stars", "rating_value"),
    "app_version": ("reviewCreatedVersion", "app_version", "version", "im:version", "app_version_name",
                    "version_name", "appVersion"),
    "at": ("at", "date", "created_at", "createdDate", "timestamp", "updated", "review_date", "reviewed_at",
           "review_time", "unixReviewTime", "date_created", "posted_at", "published", "submitted_at", "time",
           "review_submit_date_and_time", "review_last_update_date_and_time", "review_created_utc",
           "review_created", "timestamp_created", "date_of_experience", "date_published", "submission_date"),
    "thumbs_up": ("thumbsUpCount", "thumbs_up", "helpful", "helpful_votes", "helpful_vote", "vote_count",
                  "votes_helpful", "helpfulness_numerator", "helpful_count", "useful", "im:voteSum"),
    "reply": ("replyContent", "reply", "developer_reply_text", "developer_reply", "developer_response_text",
              "developer_response_body", "response_body"),
    "replied_at": ("repliedAt", "replied_at", "developer_reply_date_and_time", "developer_response_date",
                   "company_reply_date_utc", "reply_date", "developer_response_modified",
                   "developer_response_last_modified_date"),
    "title": ("title", "review_title", "summary", "headline", "review_headline", "review_summary", "subject"),
}
#: The metadata a file's column can be named for (``import --stars-col ...``): option -> key.
COLUMN_OPTIONS: dict[str, str] = {"app": "app", "stars": "score", "date": "at", "version": "app_version",
                                  "title": "title"}
#: Metadata keys read as dates (:func:`reviewtui.values.read_dates`).
DATE_META = ("at", "replied_at")
#: A text longer than this in a delimited file that also spans many lines is taken for an
#: unbalanced quote that swallowed the rows after it; a long review alone is read.
MAX_FIELD_CHARS = 100_000
#: ... and more lines than this in one such text is what an unbalanced quote leaves
SWALLOWED_LINES = 200
#: No text is read past this length (a file that is not reviews, or one broken beyond reading).
MAX_TEXT_CHARS = 2_000_000
#: A votes pair as Amazon's review sets write "helpful" (``[2, 3]``: 2 of 3 found it helpful).
HELPFUL_PAIR_RE = r"^\s*\[\s*(\d+)\s*,\s*\d+\s*\]\s*$"

#: Every character Python's ``\s`` matches in text, spelled out: pyarrow's regex engine (RE2) runs a
#: class of literal characters in C, but hands ``\s`` back to Python's ``re``, row by row.
WHITESPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
URL_RE = "(?:https?://|www\\.)[^" + WHITESPACE + "]+"
#: A text of whitespace and invisible format characters only (zero-width spaces and joiners,
#: direction marks, a stray byte-order mark, soft hyphens): nothing a reader sees.
INVISIBLE_ONLY_RE = ("[" + WHITESPACE
                     + "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")
#: The longest such text looked for (the check reads short texts only: a million rows pass quickly).
INVISIBLE_MAX = 64
WHITESPACE_RE = "[" + WHITESPACE + "]+"
# what collapsing can change besides the ends: a whitespace character other than a space, or two spaces
ODD_WHITESPACE_RE = "[" + WHITESPACE.replace(" ", "") + "]|  "
#: an HTML tag (a letter after "<" or "</", attributes, ">") or comment: not "<3", "2 < 3" nor "> $10"
HTML_RE = "<!--.{0,500}?-->|</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:[/" + WHITESPACE + "][^<>]{0,300})?>"
#: Letters written with the enclosed alphanumerics ("🅅🄴🅁🅈 🄶🄾🄾🄳"): parenthesized, squared,
#: negative circled and negative squared capitals, in the emoji block; read as the letters they show
#: before the emoji are removed, or such a review was dropped as empty.
STYLED_LETTERS = {start + i: chr(ord("A") + i) for start in (0x1F110, 0x1F130, 0x1F150, 0x1F170) for i in range(26)}
STYLED_RE = "[\U0001F110-\U0001F129\U0001F130-\U0001F149\U0001F150-\U0001F169\U0001F170-\U0001F189]"
EMOJI_RE = ("[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
            "\U0000FE0F\U0000200D\U000020E3\U0001F3FB-\U0001F3FF\U00002190-\U000021FF\U00003030\U0000303D"
            "\U00003297\U00003299]")


@dataclass(frozen=True)
class ExportProfile:
    """An export recognised by its header: all ``signature`` columns present (any case)."""

    name: str
    signature: tuple[str, ...]
    text: str

    def text_column(self, header: Sequence[str]) -> str | None:
        return find_column(header, (self.text,))


PROFILES: tuple[ExportProfile, ...] = (
    ExportProfile("google-play-scraper", ("reviewId", "content", "score"), "content"),
    # app-store-scraper (Node) and the App Store's RSS feed: id, date, userName, userUrl, version,
    # score, title, text, url
    ExportProfile("App Store (app-store-scraper)", ("userName", "version", "score", "title", "text"), "text"),
    # app-store-scraper (Python): date, review, rating, isEdited, title, userName, developerResponse
    ExportProfile("App Store (app-store-scraper, Python)", ("review", "rating", "title", "isEdited"), "review"),
    # App Store Connect's customer reviews: id, rating, title, body, reviewerNickname, createdDate, territory
    ExportProfile("App Store Connect", ("rating", "title", "body", "reviewerNickname"), "body"),
    # the iTunes customer-reviews JSON feed flattened: id, title, content, im:rating, im:version, author, updated
    ExportProfile("App Store RSS feed", ("title", "content", "im:rating"), "content"),
    # Google Play Console's monthly reviews_<package>_<YYYYMM>.csv (UTF-16): Package Name, App Version
    # Code, App Version Name, Reviewer Language, Device, Review Submit Date and Time, ... Millis Since
    # Epoch, Review Last Update Date and Time, Star Rating, Review Title, Review Text, Developer Reply
    # Date and Time, Developer Reply Text, Review Link
    ExportProfile("Google Play Console", ("Package Name", "Star Rating", "Review Text"), "Review Text"),
)


@dataclass
class CleaningReport:
    """How many rows each rule dropped or changed, for one file. ``ids_from_text`` counts rows whose
    empty id was taken from their text (``fill_missing_ids``); ``apps`` lists the apps seen."""

    source: str
    rows_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    added: int = 0
    existing: int = 0
    #: labels of the file's label column recorded; already so; kept as given since (not the file's)
    labels: int = 0
    labels_unchanged: int = 0
    labels_kept: int = 0
    format: str = "csv"
    profile: str | None = None
    ids_from_text: int = 0
    apps: list[str] = field(default_factory=list)
    app_column: str | None = None
    #: the text column found by its name (:data:`TEXT_COLUMNS`), for files no profile recognised and
    #: no --text-col named; None otherwise
    text_column: str | None = None
    #: metadata key -> the column it was read from (the app's under "app")
    columns: dict[str, str] = field(default_factory=dict)
    #: the file's columns that nothing read (user names and images, unless --keep-pii, are left out
    #: on purpose and not listed)
    unused_columns: list[str] = field(default_factory=list)
    #: of those, with no id column read, the ones whose name says id and whose values are unique
    id_like: list[str] = field(default_factory=list)
    #: sentences on star and date values read into another form or left as written
    readings: list[str] = field(default_factory=list)
    #: reviews already in the store that got metadata keys they lacked from this file
    filled: int = 0
    #: this file's ids already stored with another text (left as stored, metadata and labels too), and
    #: the first few as (id, the stored text, the file's text)
    other_text: int = 0
    other_text_examples: list[tuple[str, str, str]] = field(default_factory=list)
    #: labels of the file left out because their review's id is stored with another text
    labels_other_text: int = 0


@dataclass
class ReviewBatch:
    """Cleaned rows of one file, ready for the store. ``metadata`` is one dict per row (a
    :class:`MetadataColumn`: JSON texts, read as dicts)."""

    source: Path
    sha256: str
    external_ids: list[str]
    texts: list[str]
    metadata: Sequence[dict[str, Any]]
    labels: list[str | None]
    report: CleaningReport
    #: for each row whose id was derived from its text and what tells it apart (app, stars, date,
    #: version), the id a text alone gave it before: a workspace that stored the review under it
    #: keeps it (``Workspace.import_reviews``); None for the other rows
    legacy_ids: list[str | None] = field(default_factory=list)

    def assets(self) -> AssetColumns:
        """The rows as the store's column batch (ids, texts, metadata as JSON)."""
        meta = self.metadata
        texts = meta.json if isinstance(meta, MetadataColumn) else [metadata_json(m) for m in meta]
        return AssetColumns(self.external_ids, self.texts, texts)


class MetadataColumn(Sequence[dict[str, Any]]):
    """Each row's metadata as the JSON text the store keeps (``json``), read as a dict on access:
    a million rows are built and stored without a million dicts."""

    def __init__(self, texts: list[str]) -> None:
        self.json = texts

    def __len__(self) -> int:
        return len(self.json)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [json.loads(t) for t in self.json[index]]
        return json.loads(self.json[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(json.loads, self.json)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetadataColumn):
            return self.json == other.json
        if isinstance(other, Sequence):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"MetadataColumn({len(self)} rows)"


def stable_id(text: str) -> str:
    """An id derived from the review text, the same on every import."""
    return "t" + hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


#: the metadata that tells two reviews with the same text apart, as a file writes it (with the app)
ID_KEYS = ("score", "at", "app_version")


#: A column name that says it holds ids (tweet_id, reviewID, uuid).
ID_LIKE_RE = re.compile(r"(?:^|[_\s.-])(?:id|Id|ID)$|[a-z](?:Id|ID)$|^(?:uuid|UUID|guid|GUID)$")
#: ... unless it names something else than the review (the author, the product, the place)
OTHER_ID_RE = re.compile(r"^(?:user|author|reviewer|customer|profile|business|product|item|app|parent|listing|"
                         r"hotel|store|place|location|game|shop|seller|order)", re.IGNORECASE)
#: An id made from a review's text (:func:`stable_id`, with what tells two such reviews apart after it).
TEXT_ID_RE = re.compile(r"^t[0-9a-f]{16}(?:-|$)")


def text_ids(texts):
    """Ids of rows that have none and nothing but their text to tell them apart (a pandas Series,
    the same index back), the same on every import of the file: a text's first row gets
    :func:`stable_id` (what it always got), its n-th row ``stable_id`` and ``-n``. The same row twice
    is dropped before as one review given twice."""
    return _numbered(texts.str.strip().map(stable_id))


def _numbered(ids):
    """``ids`` (a pandas Series) with the n-th repeat of an id given ``-n`` after it; the first keeps it."""
    nth = ids.groupby(ids, sort=False).cumcount() + 1
    return ids.where(nth == 1, ids + "-" + nth.astype(str))


def keyed_ids(texts, keys):
    """Ids of rows that have none, from their text and ``keys`` (what tells two reviews with the
    same text apart: app, stars, date, version as the file writes them), whatever the rows' order:
    :func:`stable_id` of the text, ``-`` and 16 hex digits of the text and key. "Good" from two apps, or with
    two star scores, is two reviews; the same review in two overlapping exports is one."""
    stripped = texts.str.strip()
    return _numbered(stripped.map(stable_id) + "-" + (stripped + "\x1e" + keys).map(  # two keys of one hash: two ids
        lambda k: hashlib.sha1(k.encode("utf-8")).hexdigest()[:16]))


def recognise(header: Sequence[str]) -> ExportProfile | None:
    """The export whose signature columns are all in ``header`` (any case), or None."""
    for profile in PROFILES:
        if all(find_column(header, (c,)) is not None for c in profile.signature):
            return profile
    return None


def read_reviews(path: str | Path, *, text_col: str | None = None, id_col: str | None = None,
                 label_col: str | None = None, delimiter: str | None = None, keep_pii: bool = False,
                 cleaning: ImportSettings | None = None, max_field_chars: int = MAX_FIELD_CHARS,
                 sheet: str | None = None, app: str | None = None, default_app: str | None = None,
                 fill_missing_ids: bool = False, columns: Mapping[str, str] | None = None,
                 dayfirst: bool | None = None, encoding: str | None = None, ids_per_app: bool = False,
                 known_apps: Sequence[str] = ()) -> ReviewBatch:
    """Read and clean one review file of any format :mod:`reviewtui.readers` reads.

    ``app`` sets every row's app (over an app column); ``default_app`` is the app of rows that have
    none (a per-app folder's name). ``fill_missing_ids`` takes the ids of rows with an empty id from
    their text (counted in the report) instead of refusing the file. ``columns`` names the column of
    some metadata (keys of :data:`COLUMN_OPTIONS`: app, stars, date, version, title) over the columns
    found by their names; ``dayfirst`` reads numeric dates day first (see
    :func:`reviewtui.values.read_dates`); ``encoding`` decodes a text file so (see
    :func:`reviewtui.readers.read_table`); ``ids_per_app`` reads the file's ids as unique only within
    each app and stores a review of an app as ``APP/ID``; ``known_apps`` are the apps the workspace
    has (an app written in other case is theirs). Raises ReviewtuiError naming the file (and
    line) on bad input; nothing is written."""
    table = read_table(path, delimiter=delimiter, sheet=sheet, encoding=encoding)
    return clean_table(table, text_col=text_col, id_col=id_col, label_col=label_col, keep_pii=keep_pii,
                       cleaning=cleaning, max_field_chars=max_field_chars, app=app, default_app=default_app,
                       fill_missing_ids=fill_missing_ids, columns=columns, dayfirst=dayfirst,
                       ids_per_app=ids_per_app, known_apps=known_apps)


def read_label_column(path: str | Path, label_col: str, *, delimiter: str | None = None, sheet: str | None = None,
                      encoding: str | None = None, cleaning: ImportSettings | None = None) -> tuple[str, list[str], bool]:
    """The labels of the label column ``label_col`` (found in any case and spelling, as an import
    finds it) in the review files ``path`` names (a file, or a folder of them as
    :func:`expand_inputs` reads it), read with the import's ``delimiter``, ``sheet`` and
    ``encoding``, and a name for them in messages (``FILE, column label``). Where the file has a
    text column an import finds, only the rows the import's cleaning (``cleaning``, default the
    default settings) keeps give labels: a label on a row the import drops (empty text) is left
    out. The third value says whether every file has such a text column (a file of ids and labels
    only is labels for reviews imported from elsewhere: ``label --from``, not ``import``). Raises
    ReviewtuiError naming the file for a file it cannot read, one without the column, and a column
    the import would read as the review text."""
    label_col = str(label_col or "").strip()
    if not label_col:
        raise ReviewtuiError("--label-col needs the name of the column that holds the labels (for example label)")
    cells: list[str] = []
    found = label_col
    with_text = True
    for f in expand_inputs([path]):
        table = read_table(f.path, delimiter=delimiter, sheet=sheet, encoding=encoding)
        header = [str(c) for c in table.header]
        col = find_column(header, (label_col,))
        if col is None:
            raise ReviewtuiError(f"{f.path}: no label column {label_col!r}; the columns are: "
                                 f"{', '.join(header)}; name the column that holds the labels with --label-col")
        found = col
        profile = recognise(header)
        text = (profile.text_column(header) if profile else None) or find_column(header, TEXT_COLUMNS)
        if text == col:
            raise ReviewtuiError(f"{f.path}: column {col} is the review text (an import reads it as the text), not "
                                 "labels; name the column that holds the labels with --label-col")
        if text is None or table.frame.empty:  # the import would need --text-col: the labels as they are
            cells += table.frame[col].tolist()
            with_text = with_text and text is not None
        else:  # the labels of the rows the import keeps (ids do not matter here: taken from the text if blank)
            cells += [lab for lab in clean_table(table, label_col=col, cleaning=cleaning, fill_missing_ids=True).labels
                      if lab is not None]
    return f"{path}, column {found}", cells, with_text


def read_records(records: Sequence[Mapping[str, Any]], source: str, **options: Any) -> ReviewBatch:
    """:func:`read_reviews` for rows already in memory (collected reviews): the same recognition,
    id rules and cleaning. ``source`` names them in messages and in the import record."""
    sha = hashlib.sha256(json.dumps(list(records), sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return clean_table(table_from_records(records, source, sha256=sha), **options)


def _check_lengths(path: Path | str, fmt: str, texts: Any, limit: int) -> str:
    """Refuse a text that shows an unbalanced quote (in a delimited file, longer than ``limit``
    and over :data:`SWALLOWED_LINES` lines) or that is past :data:`MAX_TEXT_CHARS`; say how many
    long reviews are read as they are ("" when none)."""
    lengths = texts.str.len()
    long = lengths > limit
    if not bool(long.any()):
        return ""
    rows = [int(i) for i in long.values.nonzero()[0]]
    for row in rows:
        text, n = texts.iloc[row], int(lengths.iloc[row])
        lines = text.count("\n") + 1
        if fmt in ("csv", "tsv", "text") and lines > SWALLOWED_LINES:
            raise ReviewtuiError(
                f"{path}: data row {row + 1}: the text is {n:,} characters on {lines:,} lines: a quote is "
                "probably unbalanced at its start, and the rows after it were read into it — fix the file")
        if n > MAX_TEXT_CHARS:
            raise ReviewtuiError(f"{path}: data row {row + 1}: the text is {n:,} characters long (limit "
                                 f"{MAX_TEXT_CHARS:,}); is this a file of reviews?")
    first = rows[0] + 1
    return (f"{len(rows):,} review{'s are' if len(rows) != 1 else ' is'} over {limit:,} characters (data row "
            f"{first}{' and others' if len(rows) > 1 else ''}): stored whole (a model reads the start of a text)")


def clean_table(table: Table, *, text_col: str | None = None, id_col: str | None = None,
                label_col: str | None = None, keep_pii: bool = False, cleaning: ImportSettings | None = None,
                max_field_chars: int = MAX_FIELD_CHARS, app: str | None = None, default_app: str | None = None,
                fill_missing_ids: bool = False, columns: Mapping[str, str] | None = None,
                dayfirst: bool | None = None, ids_per_app: bool = False, known_apps: Sequence[str] = ()) -> ReviewBatch:
    """Check and clean the rows of ``table`` (see :func:`read_reviews`)."""
    import pandas as pd

    path = table.source
    df = table.frame
    header = [str(c) for c in table.header]
    # --id-col none: the ids made from the texts, whatever id column the file has (a file imported
    # before without its id column, imported again as then)
    no_ids = bool(id_col) and id_col.strip().casefold() == "none" and find_column(header, (id_col,)) is None
    if no_ids:
        id_col = None
    # a column named by an option is found in any case and spelling, as the columns found by name are
    text_col, id_col, label_col = (find_column(header, (c,)) or c if c else None for c in (text_col, id_col, label_col))
    named = _named_columns(path, header, columns or {})
    _refuse_overlaps(path, named, {"text": text_col, "id": id_col, "label": label_col})
    profile = recognise(header)
    columns = header  # type: ignore[assignment]
    tcol = text_col or (profile.text_column(columns) if profile else None) or find_column(columns, TEXT_COLUMNS)
    if tcol is None or tcol not in columns:
        hint = ""
        if len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
            hint = " (the header is one column: is the delimiter wrong? use --delimiter)"
        what = f"text column {tcol!r}" if tcol else f"text column (none of {', '.join(TEXT_COLUMNS)})"
        if len(table.sheets) > 1:  # the reviews may be on another sheet
            others = [n for n in table.sheets if n != table.sheet]
            hint += (f" (in sheet {table.sheet!r}; the workbook's other sheets: {', '.join(map(repr, others))}: "
                     "--sheet NAME reads one)")
        raise ReviewtuiError(f"{path}: no {what}; the columns are: {', '.join(columns)}{hint}; "
                             "name the text column with --text-col")
    if not text_col and tcol in named.values():  # the text found by its name, but named for something else
        _refuse_overlaps(path, named, {"the text column found by its name": tcol})
    icol = None if no_ids else id_col or find_column([c for c in columns if c != tcol and c not in named.values()],
                                                     ID_COLUMNS)
    if icol is not None and icol not in columns:
        raise ReviewtuiError(f"{path}: no id column {icol!r}; the columns are: {', '.join(columns)}")
    if label_col is not None and label_col not in columns:
        raise ReviewtuiError(f"{path}: no label column {label_col!r}; the columns are: {', '.join(columns)}")
    acol = None if app else named.get("app") or _app_column(
        df, [c for c in columns if c not in (tcol, icol, label_col, *named.values())])
    if df.empty:
        raise ReviewtuiError(f"{path}: the file has a header but no rows")

    rules = (cleaning or ImportSettings()).as_flags()
    long_texts = _check_lengths(path, table.format, df[tcol], max_field_chars)

    report = CleaningReport(source=str(path), rows_read=len(df), format=table.format,
                            profile=profile.name if profile else None,
                            text_column=None if text_col or profile else tcol)
    if long_texts:
        report.readings.append(long_texts)
    raw_text = df[tcol]
    stripped_texts = None

    def stripped():
        """The texts stripped (computed once: a pass over every text of a big file)."""
        nonlocal stripped_texts
        if stripped_texts is None:
            stripped_texts = raw_text.str.strip()
        return stripped_texts

    meta_cols: dict[str, str] = {key: col for key, col in named.items() if key != "app"}
    taken = {tcol, icol, label_col, acol, *named.values()}
    for key, names in META_COLUMNS.items():
        if key not in meta_cols:
            found = find_column([c for c in columns if c not in taken], names)
            if found is not None:
                meta_cols[key] = found
                taken.add(found)
    if keep_pii:
        meta_cols.update({v: k for k, v in PII_COLUMNS.items() if k in columns})

    def row_apps():
        """Each row's app as the import stores it ("" for none), or None when neither the file
        nor the options give an app."""
        if app:
            return pd.Series(app.strip(), index=df.index)
        if acol or default_app:
            apps = df[acol].str.strip() if acol else pd.Series("", index=df.index)
            return apps.where(apps != "", default_app or "")
        return None

    def review_keys():
        """What tells two reviews with the same text apart, as the file writes it (app, stars,
        date, version), or None when the file gives none of it."""
        parts = [df[meta_cols[k]].str.strip() for k in ID_KEYS if k in meta_cols]
        apps = row_apps()
        if apps is not None:
            parts.insert(0, apps)
        return parts[0].str.cat(parts[1:], sep="\x1f") if parts else None

    def derive(rows):
        """(ids, the same review again, legacy ids, what makes rows one review) of the rows ``rows``
        selects, whose ids come from their text: by :func:`keyed_ids` when the file tells reviews
        apart, else :func:`text_ids` (a row the same in every column but its label is the same review)."""
        keys = review_keys()
        if keys is None:
            others = [c for c in df.columns if c != label_col]
            same = (pd.util.hash_pandas_object(df.loc[rows, others], index=False) if others
                    else raw_text[rows])  # every column but the label alike (a 64-bit hash of them)
            again = same.duplicated().reindex(df.index, fill_value=False)
            return text_ids(raw_text[rows & ~again]).reindex(df.index), again, None, same.reindex(df.index)
        both = stripped() + "\x1e" + keys
        again = both[rows].duplicated().reindex(df.index, fill_value=False)
        keyed = keyed_ids(raw_text[rows], keys[rows]).reindex(df.index)
        return keyed, again, keyed.str.slice(0, 17), both.where(rows)  # stable_id's 17 characters first

    filled = pd.Series(False, index=df.index)
    # the same review twice is read once (an export read twice into one file, overlapping exports)
    again = pd.Series(False, index=df.index)
    legacy = None
    group = None  # what makes rows one review, where some are: their labels are read together
    id_list = None  # the ids as a list already, when the check of an id column made one
    id_spellings: list[str] = []  # the apps' spellings the ids were made with (--ids-per-app)
    if icol:
        ids = df[icol].str.strip()
        blank = ids == ""
        if ids_per_app:  # ids unique only within each app: a review of an app is APP/ID
            apps = row_apps()
            if apps is None:
                raise ReviewtuiError(f"{path}: --ids-per-app stores each id as APP/ID, but the file names no app; "
                                     "name its app column with --app-col, or give the app with --app")
            own = ~blank & (apps != "")
            # the app as it is stored: a review of "quickbite ios" beside "QuickBite iOS" (in this
            # file, or in the workspace) has the one id in whichever file it comes
            from reviewtui.app_version import one_spelling_per_app
            spelled = one_spelling_per_app(apps[own].value_counts().to_dict(), known_apps)
            ids = ids.where(~own, apps.replace(spelled) + "/" + ids)
            id_spellings = list(dict.fromkeys(spelled.values()))  # the app column is written the same
        no_text = stripped() == ""
        # a row with neither id nor text is dropped as missing text below, not refused for its id
        missing = blank & ~(no_text & bool(rules["drop_missing"]))
        if missing.any():
            n = int(missing.sum())
            if not fill_missing_ids:
                rows = ", ".join(str(i + 1) for i in df.index[missing][:5]) + (", ..." if n > 5 else "")
                raise ReviewtuiError(
                    f"{path}: {n:,} row{'s' if n != 1 else ''} with an empty id in column {icol!r} (data row"
                    f"{'s' if n != 1 else ''} {rows}); give every row an id, or import with --fill-missing-ids "
                    "to take those rows' ids from their text")
            derived, again, legacy, group = derive(missing)
            ids = ids.where(~missing, derived)
            filled = missing
            report.ids_from_text = n
        explicit = ids[~blank]
        # whether any id repeats, told by a set of them (0.3 s on a million ids, where pandas'
        # duplicated took 1.5 s in a fresh process); most files have none, and then nothing else here runs
        dup = pd.Series(False, index=explicit.index)
        explicit_ids = explicit.tolist()
        if not blank.any():  # every row's id, as the batch gives them (unless some repeat)
            id_list = explicit_ids
        if explicit.hasnans or len(set(explicit_ids)) < len(explicit_ids):
            id_list = None
            # one id with one text twice is one review (a count may have moved)
            same = (ids + "\x1e" + stripped()).where(~blank)
            again |= same.duplicated() & ~blank
            group = same if group is None else group.where(blank, same)
            explicit = ids[~blank & ~again]
            dup = explicit.duplicated(keep=False)
        if dup.any():
            first = explicit[dup].iloc[0]
            rows = [str(i + 1) for i in explicit.index[explicit == first][:5]]
            times = int((explicit == first).sum())
            more = int(dup.sum()) - times
            bare = first.split("/", 1)[-1] if ids_per_app else first
            if re.fullmatch(r"[0-9]\.[0-9]+[Ee]\+?[0-9]+", bare):
                raise ReviewtuiError(
                    f"{path}: id {first!r} appears {times} times (data rows {', '.join(rows)}): the ids are long "
                    "numbers a spreadsheet rounded to a few digits (scientific notation) when it saved the file, "
                    "so reviews share them. Export the file again with the id column as text, or import it "
                    f"without --id-col {icol} (the ids are then made from the texts)")
            apps = row_apps()
            per_app = (not ids_per_app and apps is not None
                       and apps[explicit.index[explicit == first]].nunique() > 1)
            raise ReviewtuiError(f"{path}: id {first!r} appears {times} times (data rows {', '.join(rows)}) with "
                                 "texts that differ" + (f", and {more:,} more row{'s' if more != 1 else ''} share "
                                                        f"{'ids' if more != 1 else 'an id'}" if more else "")
                                 + "; ids must be unique within a file (the same review twice is read once)"
                                 + ("; its rows are reviews of different apps: when the file's ids are unique only "
                                    "within each app, import it with --ids-per-app (each id stored as APP/ID)"
                                    if per_app else ""))
    else:
        ids, again, legacy, group = derive(pd.Series(True, index=df.index))

    keep = pd.Series(True, index=df.index)
    if rules["drop_missing"]:
        missing = stripped() == ""
        report.dropped["missing text"] = int(missing.sum())
        keep &= ~missing
    # The rules run on the rows one of them can change, found by a look at every text for what each
    # rule acts on (an "&" or a tag, a URL, an emoji, whitespace to collapse or strip): each rule's
    # pass over every text wrote a new copy of all of them (a million texts, several times over).
    # The others are left as they are by every rule, so the changes counted are the same. Lowercasing
    # changes most rows: with it the rules run on every row.
    touched = None if rules.get("lowercase") else _cleanable(raw_text, stripped, rules)
    cleaned = raw_text.copy() if touched is None else raw_text[touched]

    def apply(rule: str, func) -> None:
        nonlocal cleaned
        if rules.get(rule):
            new = _in_parts(func, cleaned)
            report.changed[rule.replace("_", " ")] = int((new != cleaned).sum())
            cleaned = new

    # tags, then entities, then the tags escaped ones spelled (&lt;br&gt;): "&lt;3" stays "<3"
    apply("remove_html", lambda s: _unescape(s.str.replace(HTML_RE, " ", regex=True)).str.replace(
        HTML_RE, " ", regex=True))
    apply("remove_urls", lambda s: s.str.replace(URL_RE, " ", regex=True))
    apply("remove_emoji", lambda s: _plain_letters(s).str.replace(EMOJI_RE, "", regex=True))
    apply("lowercase", lambda s: s.str.lower())
    apply("collapse_whitespace", _collapse_whitespace)
    if rules["drop_empty"]:
        # the texts as they are kept, stripped: cleaned where a rule could change them; a row no
        # rule touched is as it was
        if touched is None:
            now = cleaned.str.strip()
        else:
            now = stripped()
            if touched.any():
                now = now.copy()
                now.iloc[touched.nonzero()[0]] = cleaned.str.strip().to_numpy()
        blank = (now == "").to_numpy(dtype=bool, na_value=False, copy=True)
        short = keep.to_numpy(dtype=bool) & ~blank & (now.str.len() <= INVISIBLE_MAX).to_numpy(dtype=bool,
                                                                                               na_value=False)
        if short.any():  # nothing visible: as empty as a blank text
            import numpy as np

            unseen = now[short].str.fullmatch(INVISIBLE_ONLY_RE).to_numpy(dtype=bool, na_value=False)
            blank[np.flatnonzero(short)[unseen]] = True
        empty = pd.Series(blank, index=df.index) & keep
        report.dropped["empty after cleaning"] = int(empty.sum())
        keep &= ~empty
    if again.any() or not icol:
        dup = again & keep
        report.dropped["duplicate row"] = int(dup.sum())
        keep &= ~dup

    report.columns = {**({"app": acol} if acol else {}), **meta_cols}
    # a recognised export's other columns are known and left out on purpose (Google Play's appVersion
    # repeats reviewCreatedVersion): only a file of the team's own gets the list
    report.unused_columns = [] if profile else [c for c in columns if c not in taken and c not in meta_cols.values()
                                                 and c not in PII_COLUMNS]
    if not icol and not no_ids:  # ids made from the text unasked: a column of ids it could have read is named
        report.id_like = [c for c in report.unused_columns if ID_LIKE_RE.search(str(c)) and not OTHER_ID_RE.match(str(c))
                          and not (df[c].str.strip() == "").any() and df[c].is_unique]

    import pyarrow as pa
    import pyarrow.compute as pc

    kept = df.index[keep]
    mask = keep.to_numpy()
    every = bool(mask.all())

    def pick(series):
        """The kept rows of a column of ``df`` (or one of its index): a boolean mask, many times faster
        than ``.loc[kept]`` on a big column of texts (3.2 s against 0.25 s on a million reviews)."""
        return series if every else series[mask]

    meta = [(key, _read_values(key, col, _arrow_strings(pick(df[col])), dayfirst, report))
            for key, col in meta_cols.items()]
    if app or acol or default_app:
        if app:
            apps = pa.array([app] * len(kept), pa.string())
        else:
            apps = pc.utf8_trim_whitespace(_arrow_strings(pick(df[acol]))) if acol else pa.nulls(len(kept), pa.string())
            if default_app:
                apps = pc.if_else(pc.fill_null(pc.equal(apps, ""), True), default_app, apps)
            apps = _one_spelling_per_app(apps, report, [*known_apps, *id_spellings])
        meta.append(("app", apps))
        report.apps = sorted(a for a in pc.unique(apps).to_pylist() if a)
        report.app_column = acol
        bare = int(pc.sum(pc.fill_null(pc.equal(apps, ""), True)).as_py() or 0) if acol and not app else 0
        if bare and report.apps:
            report.readings.append(
                f"{bare:,} row{'s have' if bare != 1 else ' has'} an empty {acol!r}: no app's review"
                f"{'s' if bare != 1 else ''}, grouped as \"(no app)\" and left out of the comparisons of apps "
                "(fill the column, or import those rows with --app NAME)")
    metadata = MetadataColumn(_metadata_json_in_parts(meta, len(kept)))
    if label_col and group is not None and again.any():  # a review given twice keeps its label from either row
        given = df[label_col].str.strip()
        given = given.where(given != "")
        firsts = given.groupby(group).transform("first")
        kinds = given.groupby(group).transform("nunique")
        two = int((pick(kinds) > 1).sum())
        if two:
            report.readings.append(f"{two:,} review{'s' if two != 1 else ''} given twice with two labels kept the "
                                   "first row's")
        labels = [v if isinstance(v, str) else None for v in pick(given.where(given.notna(), firsts))]
    else:
        labels = pick(df[label_col]).tolist() if label_col else [None] * len(kept)
    report.kept = len(kept)
    # the rows with an id of their own have none (NaN here: pandas keeps it through where(..., None))
    legacy_ids = [v if isinstance(v, str) else None for v in pick(legacy)] if legacy is not None else []
    if touched is None:
        texts = pick(cleaned).tolist()
    else:  # every text again: the rows no rule touched as they were, and the cleaned ones
        every_text = raw_text.to_numpy(dtype=object, copy=True)
        every_text[touched] = cleaned.to_numpy(dtype=object)
        texts = (every_text if every else every_text[mask]).tolist()
    if id_list is None:
        id_list = pick(ids).tolist()
    elif not every:
        import numpy as np

        id_list = np.array(id_list, dtype=object)[mask].tolist()
    return ReviewBatch(path, table.sha256, id_list, texts,
                       metadata, [lab if lab else None for lab in labels], report, legacy_ids)


def _app_column(df, columns: list[str]) -> str | None:
    """The column of :data:`APP_COLUMNS` that names each review's app, the first found; but where
    it holds numbers only (Steam's app_id 570) and another holds names (app_name Dota 2), the names."""
    first = find_column(columns, APP_COLUMNS)
    if first is None:
        return None

    def numbers_only(col: str) -> bool:
        values = df[col].head(1000).str.strip()
        values = values[values != ""]
        return bool(len(values)) and bool(values.str.fullmatch(r"\d+").all())

    if not numbers_only(first):
        return first
    rest = [c for c in columns if c != first]
    while (other := find_column(rest, APP_COLUMNS)) is not None:
        if not numbers_only(other):
            return other
        rest.remove(other)
    return first


def _named_columns(path: Path, header: list[str], columns: Mapping[str, str]) -> dict[str, str]:
    """{metadata key: column} of the columns named by options (``{"stars": "Rating"}``), each found
    in any case and spelling. Raises ReviewtuiError for a column the file does not have."""
    out: dict[str, str] = {}
    for option, name in columns.items():
        if not name:
            continue
        if option not in COLUMN_OPTIONS:
            raise ValueError(f"no column option {option!r}; the options are {', '.join(COLUMN_OPTIONS)}")
        found = find_column(header, (name,))
        if found is None:
            raise ReviewtuiError(f"{path}: no {option} column {name!r} (--{option}-col); the columns are: "
                                 f"{', '.join(header)}")
        out[COLUMN_OPTIONS[option]] = found
    return out


def _refuse_overlaps(path: Path, named: Mapping[str, str], others: Mapping[str, str | None]) -> None:
    """Refuse one column named for two things (``--stars-col X --date-col X``, ``--app-col`` naming
    the text column): one would silently take the other's values."""
    options = {key: option for option, key in COLUMN_OPTIONS.items()}
    uses: dict[str, list[str]] = {}
    for key, col in named.items():
        uses.setdefault(col, []).append(f"--{options[key]}-col")
    for what, col in others.items():
        if col:
            uses.setdefault(col, []).append(what if " " in what else f"--{what}-col")
    for col, opts in uses.items():
        if len(opts) > 1:
            raise ReviewtuiError(f"{path}: column {col!r} is named by {' and '.join(opts)}; give each its own column")


def _one_spelling_per_app(apps, report: CleaningReport, known: Sequence[str] = ()):
    """``apps`` (a pyarrow string array) with the names that differ only in case written as one
    spelling (:func:`reviewtui.app_version.one_spelling_per_app`), said in ``report``'s readings:
    apart, they were two apps in every comparison."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from reviewtui.app_version import one_spelling_per_app

    counts = {v["values"]: v["counts"] for v in pc.value_counts(apps).to_pylist() if v["values"]}
    mapping = one_spelling_per_app(counts, known)
    if not mapping:
        return apps
    index = pc.index_in(apps, value_set=pa.array(list(mapping), pa.string()))
    renamed = pc.take(pa.array(list(mapping.values()), pa.string()), index)
    shown = ", ".join(f"{n!r} ({counts[n]:,} row{'s' if counts[n] != 1 else ''}) as {m!r}"
                      for n, m in list(mapping.items())[:5])
    shown += f" and {len(mapping) - 5} more" if len(mapping) > 5 else ""
    report.readings.append(f"app names that differ only in case read as one: {shown}")
    return pc.if_else(pc.is_null(index), apps, renamed)


def _read_values(key: str, column: str, values, dayfirst: bool | None, report: CleaningReport):
    """A metadata column's values as the store keeps them: stars read by
    :func:`reviewtui.values.read_star_values`, dates by :func:`reviewtui.values.read_dates` (ISO
    dates, most files' and every Google Play export's, pass untouched without a look at each);
    what could not be read is said in ``report.readings``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from reviewtui.values import ISO_DATE_RE, WHOLE_EPOCH, read_dates, read_star_values

    if key == "score":
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(values))
        dictionary = encoded.dictionary.to_pylist()
        distinct = [v for v in dictionary if v]
        # the rows of each value, for what the reading counts (a few distinct values: one pass)
        rows = {d["values"]: d["counts"] for d in pc.value_counts(encoded.indices).to_pylist()}
        mapping, reading = read_star_values(distinct, column,
                                            {v: rows.get(i, 0) for i, v in enumerate(dictionary) if v})
        report.readings += reading.sentences("star")
        if all(str(mapping[v]) == v for v in distinct):
            return values
        new = [None if not v else str(mapping[v]) for v in dictionary]
        return pa.array(new, pa.string()).take(encoded.indices)
    if key == "thumbs_up":
        # Amazon's review sets: "helpful": [helpful votes, all votes]; the first is the thumbs-up count
        return pc.replace_substring_regex(values, HELPFUL_PAIR_RE, r"\1")
    if key in DATE_META:
        trimmed = pc.utf8_trim_whitespace(pc.fill_null(values, ""))
        iso = pc.match_substring_regex(trimmed, ISO_DATE_RE)
        # ISO in shape but no day of the calendar (2023-02-30): read as the others, and counted unreadable
        days = pc.dictionary_encode(pc.utf8_slice_codeunits(trimmed, 0, 10))  # a few hundred distinct days
        read = pc.strptime(days.dictionary, format="%Y-%m-%d", unit="s", error_is_null=True)  # 02-30 reads 03-02
        real = pc.fill_null(pc.equal(pc.strftime(read, format="%Y-%m-%d"), days.dictionary), False)
        iso = pc.and_(iso, real.take(days.indices))
        todo = pc.and_(pc.invert(iso), pc.not_equal(trimmed, ""))
        if not pc.any(todo).as_py():
            return values
        raw = pc.filter(trimmed, todo)
        if pc.all(pc.match_substring_regex(raw, WHOLE_EPOCH)).as_py():
            # Unix seconds or milliseconds (Amazon's review sets): read in one pass, not value by value
            numbers = pc.cast(raw, pa.int64())
            seconds = pc.if_else(pc.greater_equal(numbers, 100_000_000_000), pc.divide(numbers, 1000), numbers)
            read = pc.cast(pc.cast(pc.cast(seconds, pa.int64()), pa.timestamp("s")), pa.string())  # 2020-09-13 12:26:40
            return pc.replace_with_mask(values, todo, read)
        encoded = pc.dictionary_encode(raw)
        dictionary = encoded.dictionary.to_pylist()
        counts = {d["values"]: d["counts"] for d in pc.value_counts(encoded.indices).to_pylist()}
        mapping, reading = read_dates(dictionary, column, dayfirst,
                                      {v: counts.get(i, 0) for i, v in enumerate(dictionary)})
        report.readings += reading.sentences("date")
        read = pa.array([mapping[v] for v in encoded.dictionary.to_pylist()], pa.string()).take(encoded.indices)
        return pc.replace_with_mask(values, todo, read)
    return values


#: Below this many rows the cleaning runs in one piece; above it, in one piece per core (at most
#: :data:`PARTS`) on threads: pyarrow's string kernels, where the time goes, release the GIL.
PARALLEL_ROWS = 100_000
PARTS = 2


def _parts(n: int) -> int:
    if n < PARALLEL_ROWS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(PARTS, cores))


def _in_slices(n: int, work) -> list:
    """``[work(a, b), ...]`` over consecutive slices ``a:b`` of ``n`` rows, in order: one slice when
    ``n`` is small, else one per core (at most :data:`PARTS`), each on its own thread."""
    k = _parts(n)
    bounds = [n * i // k for i in range(k + 1)]
    if k == 1:
        return [work(0, n)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(k) as pool:
        return list(pool.map(lambda ab: work(*ab), zip(bounds, bounds[1:])))


def _in_parts(func, s):
    """``func(s)`` for a row-wise ``func`` over a pandas Series, computed by :func:`_in_slices` and
    joined in order (the same result as one call)."""
    if _parts(len(s)) == 1:
        return func(s)
    import pandas as pd

    return pd.concat(_in_slices(len(s), lambda a, b: func(s.iloc[a:b])))


def _metadata_json_in_parts(columns: list[tuple[str, Any]], n: int) -> list[str]:
    """:func:`_metadata_json` computed by :func:`_in_slices` and joined in order."""
    if _parts(n) == 1 or not columns:
        return _metadata_json(columns, n)
    parts = _in_slices(n, lambda a, b: _metadata_json([(key, values.slice(a, b - a)) for key, values in columns], b - a))
    return [text for part in parts for text in part]


def _cleanable(texts, stripped, rules: Mapping[str, bool]):
    """A numpy mask of the ``texts`` that a cleaning rule of ``rules`` (lowercasing aside) can change;
    ``stripped()`` gives the texts stripped."""
    import numpy as np

    mask = np.zeros(len(texts), dtype=bool)
    patterns = []
    if rules.get("remove_html"):
        mask |= texts.str.contains("&", regex=False, na=False).to_numpy()
        patterns.append(HTML_RE)
    if rules.get("remove_urls"):
        patterns.append(URL_RE)
    if rules.get("remove_emoji"):
        patterns.append(EMOJI_RE)
    if rules.get("collapse_whitespace"):
        patterns.append(ODD_WHITESPACE_RE)
        mask |= (stripped() != texts).fillna(False).to_numpy(dtype=bool)
    if patterns:  # one pass over the texts for all of them
        mask |= texts.str.contains("|".join(f"(?:{p})" for p in patterns), regex=True, na=False).to_numpy()
    return mask


def _plain_letters(s):
    """The texts with letters of the enclosed alphanumerics as plain capitals (:data:`STYLED_LETTERS`);
    only rows that have one are visited."""
    styled = s.str.contains(STYLED_RE, regex=True, na=False)
    if not styled.any():
        return s
    out = s.copy()
    out[styled] = s[styled].str.translate(STYLED_LETTERS)
    return out


def _unescape(s):
    """``html.unescape`` of every row; only rows with an ``&`` can change, so only they are visited."""
    amp = s.str.contains("&", regex=False, na=False)
    if not amp.any():
        return s
    out = s.copy()
    out[amp] = s[amp].map(html.unescape)
    return out


def _collapse_whitespace(s):
    """Runs of whitespace to one space, ends stripped. The replacement runs only on the rows that
    have something to collapse (a few percent): over every row it costs ten times more."""
    odd = s.str.contains(ODD_WHITESPACE_RE, regex=True, na=False)
    out = s.copy()
    if odd.any():
        out[odd] = s[odd].str.replace(WHITESPACE_RE, " ", regex=True)
    return out.str.strip()


#: Metadata keys whose values are stored as numbers when they read as numbers ("4", "4.0").
NUMERIC_META = ("score", "thumbs_up")
# the characters json.dumps escapes with a short form; any other control character is rare, and the
# rows that have one are written by json itself
JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                ("\b", "\\b"), ("\f", "\\f"))
OTHER_CONTROL_RE = r"[\x00-\x07\x0b\x0e-\x1f]"
ESCAPED_RE = r'[\\"\n\r\t\x08\x0c]'


def _arrow_strings(series):
    """A pandas column of strings as a pyarrow string array (missing values as nulls)."""
    import pyarrow as pa

    values = pa.array(series, type=pa.string(), from_pandas=True)
    # a column read by pyarrow's CSV reader is in chunks (one per block of the file)
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _meta_value(key: str, value: str) -> Any:
    """A metadata value as stored: scores and thumbs-up counts as ints where they read as numbers."""
    if key in NUMERIC_META:
        try:
            return int(float(value))
        except (ValueError, OverflowError):
            return value
    return value


def _metadata_json(columns: list[tuple[str, Any]], n: int) -> list[str]:
    """Each row's metadata as the JSON text ``json.dumps(dict, ensure_ascii=False)`` gives for
    the dict of its non-empty values (keys in ``columns`` order), built column by column with
    pyarrow instead of row by row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not columns:
        return ["{}"] * n
    fragments = []
    by_python = pa.array([False] * n, pa.bool_())  # typed: a file whose rows were all dropped has n = 0
    nothing = None  # the rows without any value
    for key, values in columns:
        if pa.types.is_null(values.type):  # a column empty in every row of the file: no type to compute on
            values = values.cast(pa.string())
        present = pc.and_(pc.is_valid(values), pc.not_equal(pc.fill_null(values, ""), ""))
        name = json.dumps(key, ensure_ascii=False) + ": "
        # each column's fragment ("key": value) is null where the row has no value
        if key in NUMERIC_META:  # few distinct values: write each once
            encoded = pc.dictionary_encode(values)
            written = [None if v is None or v == "" else name + json.dumps(_meta_value(key, v), ensure_ascii=False)
                       for v in encoded.dictionary.to_pylist()]
            fragment = pa.array(written, pa.string()).take(encoded.indices)
        else:
            escaped = pc.fill_null(values, "")
            if pc.any(pc.match_substring_regex(escaped, ESCAPED_RE)).as_py():  # dates and versions never
                for char, escape in JSON_ESCAPES:
                    escaped = pc.replace_substring(escaped, char, escape)
            if not pc.all(present).as_py():
                escaped = pc.if_else(present, escaped, pa.scalar(None, pa.string()))
            fragment = pc.binary_join_element_wise(name + '"', escaped, '"', "")
            by_python = pc.or_(by_python, pc.fill_null(pc.match_substring_regex(values, OTHER_CONTROL_RE), False))
        fragments.append(fragment)
        nothing = pc.invert(present) if nothing is None else pc.and_(nothing, pc.invert(present))
    # the present fragments joined by ", ", in one pass (each column's fragments were joined and chosen
    # in passes of their own, several copies of every row's metadata). A join with
    # null_handling="skip" leaves out a row whose every value is null (pyarrow 26) instead of giving
    # "": such rows get an empty first fragment.
    if pc.any(nothing).as_py():
        fragments[0] = pc.if_else(nothing, "", fragments[0])
    body = pc.binary_join_element_wise(*fragments, ", ", null_handling="skip")
    texts = pc.binary_join_element_wise("{", body, "}", "").to_pylist()
    for i in pc.indices_nonzero(by_python).to_pylist():
        row = {key: _meta_value(key, v) for key, col in columns if (v := col[i].as_py())}
        texts[i] = json.dumps(row, ensure_ascii=False)
    return texts


#: an Android application id (com.example.app, in.junio): two or more dot-separated names, each
#: starting with a letter; the name google-play-scraper's exports are kept under
_APP_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")


def is_app_id(name: str | None) -> bool:
    """Whether ``name`` (a folder's name) is written as an app's id is: ``com.example.app``."""
    return bool(name) and _APP_ID.fullmatch(name) is not None


@dataclass(frozen=True)
class InputFile:
    """A file to import and the app its folder names (None for a file given by itself)."""

    path: Path
    app: str | None = None


def expand_inputs(paths: Sequence[str | Path]) -> list[InputFile]:
    """The files to import for ``paths``: a file stays as it is; a folder gives the review files in
    it (their app: the folder's name) and in its subfolders one level down (their app: the
    subfolder's name), which is how per-app folders of exports are laid out
    (``exports/com.example.app/reviews_1.csv``). Raises ReviewtuiError for a folder with none."""
    out: list[InputFile] = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append(InputFile(p))
            continue
        found = [InputFile(f, p.resolve().name) for f in review_files(p)]
        for sub in sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith(".")):
            found += [InputFile(f, sub.name) for f in review_files(sub)]
        if not found:
            raise ReviewtuiError(f"{p}: is a folder with no review files in it or in its subfolders "
                                 "(.csv, .tsv, .json, .jsonl, .parquet, .xlsx); give the files to import")
        out += found
    return out
