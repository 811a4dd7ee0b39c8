"""Reading the review files teams have into one shape: a header and rows of strings.

Formats: CSV and TSV (UTF-8, UTF-8 with a BOM, UTF-16 LE/BE with a BOM — what spreadsheet programs
save as "Unicode text" — and UTF-16 without a BOM when its zero bytes give it away), JSON (a list of
objects, e.g. google-play-scraper's results saved as they are, datetimes as strings), JSON Lines,
Parquet and Excel ``.xlsx`` (the first sheet or a named one). The format comes from the file's first
bytes where they tell (zip, Parquet, old Excel, gzip, a byte-order mark), else from its extension,
else from its first character (``[`` or ``{``).

Every cell becomes a string ("" for a missing value; whole numbers without ``.0``; datetimes as
``YYYY-MM-DD HH:MM:SS``; nested values as JSON), so cleaning sees the same thing whatever the
format. Every bad input is one :class:`ReviewtuiError` naming the file, the place and what to do.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import sniff_delimiter

if TYPE_CHECKING:  # pandas stays a lazy import
    import pandas as pd

#: File extensions read as each format (a folder import picks files by these).
EXTENSIONS: dict[str, str] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx",
}
FORMATS_TEXT = "CSV, TSV, JSON, JSON Lines, Parquet or Excel (.xlsx)"

_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls)
_GZIP = b"\x1f\x8b"
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"))


@dataclass
class Table:
    """One file's rows. ``frame`` is a pandas DataFrame whose every cell is a str ("" when missing);
    ``header`` is its column names in file order. ``encoding`` is set for text formats, ``sheet``
    for Excel."""

    source: Path
    format: str
    header: list[str]
    frame: "pd.DataFrame"
    sha256: str
    encoding: str | None = None
    sheet: str | None = None
    #: every sheet of an Excel workbook, in its order
    sheets: tuple[str, ...] = ()

    @property
    def rows(self) -> list[list[str]]:
        """The rows as lists of strings, in header order."""
        return self.frame.values.tolist()

    def __len__(self) -> int:
        return len(self.frame)


# --- cells -------------------------------------------------------------------------------------
def cell(value: Any) -> str:
    """One value as the string the importer sees: "" for None/NaN, ``5`` for 5.0, ``true`` for
    True, ``2023-04-24 12:13:57`` for a datetime, JSON for lists and dicts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat(sep=" ")
        return value.strftime("%Y-%m-%d %H:%M:%S") if not value.microsecond else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def table_from_records(records: Sequence[Mapping[str, Any]], source: str | Path, *, fmt: str = "records",
                       sha256: str = "", header: Sequence[str] | None = None) -> Table:
    """A :class:`Table` from dicts (JSON objects, collected reviews). The header is ``header`` or
    every key in first-seen order. Raises ReviewtuiError when ``records`` is empty."""
    import pandas as pd

    if not records:
        raise ReviewtuiError(f"{source}: no rows")
    cols: dict[str, None] = dict.fromkeys(header or ())
    if header is None:
        for r in records:
            for k in r:
                if k not in cols:
                    cols[str(k)] = None
    names = list(cols)
    data = {}
    for n in names:
        values = [r.get(n) for r in records]
        data[n] = [v if type(v) is str else cell(v) for v in values]
    frame = pd.DataFrame(data, columns=names, dtype=object)
    return Table(Path(source), fmt, names, frame, sha256)


def _unlabeled(value: Any) -> Any:
    """A value as the App Store's RSS feed wraps it, ``{"label": "5"}`` (with ``attributes`` at
    times: ``content``), as the value itself; objects of such values (``author``: name, uri) too."""
    if type(value) is not dict:
        return value
    if "label" in value and set(value) <= {"label", "attributes"}:
        return value["label"]
    return {k: _unlabeled(v) for k, v in value.items()}


def _feed_entries(data: Any) -> Any:
    """The reviews of the App Store's customer reviews RSS feed as JSON, ``{"feed": {"entry": [...]}}``
    (one review: ``entry`` is that object; several pages saved as a list: their entries one after
    the other); anything else as it is."""
    def entries(page: Any) -> list | None:
        feed = page.get("feed") if isinstance(page, dict) else None
        if not isinstance(feed, dict) or "entry" not in feed:
            return None
        entry = feed["entry"]
        return [entry] if isinstance(entry, dict) else entry if isinstance(entry, list) else None

    if isinstance(data, dict):
        found = entries(data)
        return data if found is None else found
    if isinstance(data, list) and data and all(entries(p) is not None for p in data):
        return [e for p in data for e in entries(p) or []]
    return data


def flat_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its objects' fields as fields of its own: those of ``attributes`` (JSON:API,
    as App Store Connect's API writes a review: id, type, attributes {rating, title, body, ...}) by
    their own names where the record has no such field, the others' as ``parent_field``
    (app-store-scraper's developerResponse {body, modified}: developerResponse_body). A record
    without an object is returned as it is."""
    if not any(type(v) is dict for v in record.values()):
        return record
    record = {k: _unlabeled(v) for k, v in record.items()}
    out: dict[str, Any] = {}
    for key, value in record.items():
        if type(value) is not dict:
            out.setdefault(key, value)
            continue
        for sub, v in value.items():
            name = str(sub) if key == "attributes" and sub not in record else f"{key}_{sub}"
            out.setdefault(name, v)
    return out


# --- format detection ----------------------------------------------------------------------------
def detect_format(path: Path, head: bytes) -> str:
    """The format of ``path`` from its first bytes, then its extension, then its first character.
    Raises ReviewtuiError for formats that cannot be read (old .xls, gzip, other binary files)."""
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_PARQUET):
        return "parquet"
    if head.startswith(_OLE):
        raise ReviewtuiError(f"{path}: an Excel 97-2003 workbook (.xls), which cannot be read; open it and "
                             "save it as .xlsx or CSV (UTF-8), then import that")
    if head.startswith(_GZIP):
        raise ReviewtuiError(f"{path}: a compressed (gzip) file; unpack it first (gunzip) and import the file inside")
    ext = EXTENSIONS.get(path.suffix.lower())
    if ext in ("xlsx", "parquet"):
        what = "an Excel workbook" if ext == "xlsx" else "a Parquet file"
        raise ReviewtuiError(f"{path}: named like {what} but it is not one (its first bytes say otherwise); "
                             "check the file or re-save it")
    return ext or "text"


def _decode(path: Path, raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding name) of a text file; raises ReviewtuiError for binary or undecodable bytes.
    ``encoding`` (a Python codec name: cp1252, latin-1, ...) decodes it so, a UTF-8 byte-order mark
    at its start aside."""
    if encoding is not None:
        body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = body[:exc.start].count(b"\n") + 1
            raise ReviewtuiError(f"{path}: line {line}: bytes that are not {encoding} "
                                 f"({body[exc.start:exc.start + 4]!r}); check --encoding") from exc
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), name
            except UnicodeDecodeError as exc:
                hint = ("import with --encoding cp1252 if the file comes from Excel on Windows (--encoding names "
                        "any other), or re-save it as UTF-8" if codec == "utf-8-sig" else "re-save the file as UTF-8")
                raise ReviewtuiError(f"{path}: starts with a {name} byte-order mark but byte {exc.start} is not "
                                     f"{name}; {hint}") from exc
    head = raw[:8192]
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            codec, name = "utf-16-le", "UTF-16 LE"
        elif len(head) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            codec, name = "utf-16-be", "UTF-16 BE"
        else:
            at = head.index(b"\x00")
            line = head[:at].count(b"\n") + 1
            raise ReviewtuiError(f"{path}: not a CSV text file: it contains binary data (a NUL byte on line {line}, "
                                 f"byte {at}); import a {FORMATS_TEXT} file")
        try:
            return raw.decode(codec), f"{name} (no BOM)"
        except UnicodeDecodeError as exc:
            raise ReviewtuiError(f"{path}: looks like {name} text but byte {exc.start} is not; re-save the file "
                                 "as UTF-8") from exc
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ReviewtuiError(
            f"{path}: line {line}: bytes that are not UTF-8 ({raw[exc.start:exc.start + 4]!r}); "
            "import with --encoding cp1252 if the file comes from Excel on Windows (--encoding names any "
            "other), or re-save it as UTF-8") from exc


# --- readers -------------------------------------------------------------------------------------
def read_table(path: str | Path, *, delimiter: str | None = None, sheet: str | None = None,
               encoding: str | None = None) -> Table:
    """Read one review file of any supported format (see the module docstring) into a :class:`Table`.

    ``delimiter`` forces the delimiter of a CSV/TSV file; ``sheet`` names the Excel sheet (default:
    the first); ``encoding`` the text encoding of a CSV, TSV or JSON file (default: UTF-8 or UTF-16,
    told by a byte-order mark or the bytes). Raises ReviewtuiError naming the file (and line, item or sheet) on bad input: a
    missing file, a folder, an empty file, binary or undecodable bytes, malformed JSON, an unknown
    sheet, a file with a header but no rows."""
    path = Path(path)
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise ReviewtuiError(f"{path}: the delimiter must be one character (for example , ; | or \\t), "
                                 f"not {delimiter!r}; fix --delimiter")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise ReviewtuiError(f"unknown encoding {encoding!r} (--encoding): give a name such as utf-8, cp1252 "
                                 "or latin-1") from None
        if encoding in ("utf-8", "utf-8-sig"):
            encoding = None  # what the default reads, and the fast path for big files
    if not path.exists():
        raise ReviewtuiError(f"{path}: no such file")
    if path.is_dir():
        raise ReviewtuiError(f"{path}: is a folder; give the files inside it")
    fast = _read_big_utf8_file(path, delimiter) if encoding is None and sheet is None else None
    if isinstance(fast, Table):
        return fast
    raw = path.read_bytes()
    if not raw or raw.isspace():  # (not raw.strip(), without copying a big file)
        raise ReviewtuiError(f"{path}: the file is empty{EMPTY_FIX}")
    sha = hashlib.sha256(raw).hexdigest()
    fmt = detect_format(path, raw[:16])
    if sheet is not None and fmt != "xlsx":
        raise ReviewtuiError(f"{path}: --sheet applies to Excel workbooks only; this is a {fmt.upper()} file")
    if fmt == "xlsx":
        table = _read_xlsx(path, raw, sheet)
    elif fmt == "parquet":
        table = _read_parquet(path, raw)
    elif encoding is None and fast is None and isinstance(
            fast := _read_big_utf8_delimited(path, raw, fmt, delimiter), Table):
        table = fast
    else:
        text, encoding = _decode(path, raw, encoding)
        if text.startswith("\ufeff"):
            text = text[1:]
        first = text.lstrip()[:1]
        if fmt == "text":
            fmt = "json" if first == "[" else "jsonl" if first == "{" else "csv"
        if fmt == "json" and first == "{" and _looks_like_lines(text):
            fmt = "jsonl"
        if fmt == "json":
            table = _read_json(path, text)
        elif fmt == "jsonl":
            table = _read_jsonl(path, text)
        else:
            # a big UTF-8 file was read from its bytes above, or refused by pyarrow there: pandas reads it
            table = _read_delimited(path, text, delimiter or ("\t" if fmt == "tsv" else None), arrow=fast is None)
        table.encoding = encoding
    table.sha256 = sha
    if len(table) == 0:
        others = [n for n in table.sheets if n != table.sheet]
        raise ReviewtuiError(f"{path}: the file has a header but no rows"
                             + (f" in sheet {table.sheet!r}; the workbook's other sheets: "
                                f"{', '.join(map(repr, others))}: --sheet NAME reads one" if others else ""))
    return table


def _looks_like_lines(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:3] if ln.strip()]
    return len(lines) > 1 and all(ln.lstrip().startswith("{") and ln.rstrip().endswith("}") for ln in lines)


def _read_delimited(path: Path, text: str, delimiter: str | None, *, arrow: bool = True) -> Table:
    """``text`` as a Table; read by pandas alone when not ``arrow``."""
    import pandas as pd

    end = text.find("\n")
    header = text if end < 0 else text[:end]
    sep = delimiter or sniff_delimiter(header)
    fast = None if not arrow or len(text) < ARROW_BYTES else _read_delimited_arrow(header, sep, text.encode("utf-8"))
    if fast is not None:
        _refuse_rows_read_into_a_field(path, fast, sep, lambda: text)
        return _delimited_table(path, sep, fast)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[],
                         engine="c", quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError as exc:
        raise ReviewtuiError(f"{path}: the file has no header row") from exc
    except pd.errors.ParserError as exc:
        line = _open_quote_line(text, sep) if "EOF inside string" in str(exc) else None
        if line is not None:
            raise ReviewtuiError(f"{path}: line {line}: a quoted field opens there and is never closed (a \" without "
                                 "its closing one, so every line after it reads as that one field); close it, or "
                                 "write a quote inside a text as two (\"\"), and import again") from exc
        raise ReviewtuiError(f"{path}: not a well-formed CSV ({str(exc).strip()}); check its quoting and "
                             "delimiter (--delimiter)") from exc
    if not isinstance(df.index, pd.RangeIndex):
        # the first row has more fields than the header: pandas would take the first ones for an
        # index and shift each value into the next column's place (the text read as the id, ...); the
        # rows after it are read the same way whether they have as many fields or not
        extra = df.index.nlevels
        raise ReviewtuiError(f"{path}: the header names {len(df.columns)} columns and the first row has "
                             f"{len(df.columns) + extra} fields; a value that holds the delimiter "
                             f"({sep!r}) must be in double quotes: check the file's quoting and delimiter (--delimiter)")
    df.columns = [str(c) for c in df.columns]
    _refuse_rows_read_into_a_field(path, df, sep, lambda: text)
    return _delimited_table(path, sep, df)


def _refuse_rows_read_into_a_field(path: Path, frame: "pd.DataFrame", sep: str, text: Callable[[], str]) -> None:
    """Raise ReviewtuiError when a quoted field of the file runs over several lines and its closing
    quote is followed by more text (``"broken text,1`` … ``third,"3"``): the rows between were read
    into that one field, lost as reviews, without an error from the reader. A text over several
    lines whose quotes close properly is a review's paragraphs and is kept. The file is read again
    (``text()``) only when some field holds a line break."""
    if not any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        return
    span = _malformed_multiline_record(text(), sep)
    if span is not None:
        first, last = span
        raise ReviewtuiError(f"{path}: line {first}: a quoted field opens there and its closing quote, on line {last}, "
                             "is followed by more text, so the rows between were read into that one field; close "
                             "the quote where the field ends, or write a quote inside a text as two (\"\"), and "
                             "import again")


def _malformed_multiline_record(text: str, sep: str) -> tuple[int, int] | None:
    """(first line, last line) of the first record of ``text`` that spans several lines and that
    Python's strict CSV reader refuses, or None."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    start = 1
    while True:
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            if "expected after" not in str(exc):  # a field over csv's size limit: the import's own check of
                return None                        # texts over many lines names it
            if reader.line_num > start:
                return start, reader.line_num
            if reader.line_num < start:  # no progress: the reader is at its end
                return None
        start = reader.line_num + 1


def _open_quote_line(text: str, sep: str) -> int | None:
    """The line of ``text`` (a delimited file) on which the record starts whose quoted field runs to
    the end of the file, or None when every quote closes."""
    # not strict: a field such as "nice" app, which pandas reads too, does not stop it early; the
    # record that runs to the end of the file is the last one, and its quote stays open when the file
    # from its first line on holds an odd number of quote marks
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    start = last = 1
    try:
        for _ in reader:
            last, start = start, reader.line_num + 1
    except csv.Error:
        return start
    lines = text.splitlines(keepends=True)
    return last if "".join(lines[last - 1:]).count('"') % 2 else None


def _delimited_table(path: Path, sep: str, frame: "pd.DataFrame") -> Table:
    return Table(path, "tsv" if sep == "\t" else "csv", list(frame.columns), frame, "")


#: Text files at least this big are read by pyarrow (:func:`_read_delimited_arrow`); smaller ones by
#: pandas, which is as fast on them.
ARROW_BYTES = 1_000_000


#: How much of a big file :func:`_read_big_utf8_file` reads to tell its format and header.
HEAD_BYTES = 1 << 16


def _read_big_utf8_file(path: Path, delimiter: str | None) -> Table | bool | None:
    """:func:`_read_big_utf8_delimited` of a big file, with pyarrow reading the file itself in blocks
    instead of from a copy of all its bytes in memory (300 MB for a million reviews, each page of it
    new memory for the process to fill), and the file's SHA-256 read in blocks too. None when the
    usual path must read the file (not big, not such a file, or its header line longer than
    :data:`HEAD_BYTES`); False when pyarrow refused it (the usual path then reads it with pandas or
    says what is wrong)."""
    try:
        if path.stat().st_size < ARROW_BYTES:
            return None
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None  # the usual path says what is wrong
    fmt = detect_format(path, head[:16])
    if head.isspace() or fmt not in ("csv", "tsv", "text"):
        return None
    bom = head.startswith(codecs.BOM_UTF8)
    if head.find(b"\n", len(codecs.BOM_UTF8) if bom else 0) < 0:
        return None
    table = _read_big_utf8_delimited(path, head, fmt, delimiter, source=path)
    if isinstance(table, Table):
        table.sha256 = _file_sha256(path)
        if len(table) == 0:
            raise ReviewtuiError(f"{path}: the file has a header but no rows")
    return table


def _file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks (hashlib's own file reader)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read_big_utf8_delimited(path: Path, raw: bytes, fmt: str, delimiter: str | None, *,
                             source: Path | None = None) -> Table | bool | None:
    """A big CSV/TSV file in UTF-8 (with or without a BOM) read by pyarrow straight from its bytes,
    without first decoding the whole file to a str (on a million reviews: 0.7 s and the text's size
    in memory). pyarrow checks the UTF-8 itself. None for any other file; False when pyarrow refused
    this one. The usual path then reads it (pandas, after a False), or says what is wrong. With
    ``source``, ``raw`` is the start of that file (its header line whole) and pyarrow reads the file."""
    if (source is None and len(raw) < ARROW_BYTES) or fmt not in ("csv", "tsv", "text"):
        return None
    bom = raw.startswith(codecs.BOM_UTF8)
    if not bom and any(raw.startswith(b) for b, _, _ in _BOMS):
        return None
    start = len(codecs.BOM_UTF8) if bom else 0
    head = raw[start:start + 8192]
    if b"\x00" in head:
        return None
    if fmt == "text" and head.lstrip()[:1] in (b"[", b"{"):
        return None  # JSON
    end = raw.find(b"\n", start)
    try:
        header = raw[start:].decode("utf-8") if end < 0 else raw[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    sep = delimiter or ("\t" if fmt == "tsv" else sniff_delimiter(header))
    import pyarrow as pa

    # pyarrow's reader passes over a UTF-8 byte-order mark at the start of a file itself
    data = pa.OSFile(str(source)) if source is not None else pa.BufferReader(pa.py_buffer(raw).slice(start))
    try:
        frame = _read_delimited_arrow(header, sep, data)
    finally:
        data.close()
    if frame is None:
        return False

    def text() -> str:
        data = source.read_bytes() if source is not None else raw
        return data[start:].decode("utf-8", errors="replace")

    _refuse_rows_read_into_a_field(path, frame, sep, text)
    table = _delimited_table(path, sep, frame)
    table.encoding = "UTF-8 with BOM" if bom else "UTF-8"
    return table


def _read_delimited_arrow(header: str, sep: str, data: Any) -> "pd.DataFrame | None":
    """The frame pandas' reader gives (every cell a str, "" for an empty field), read by pyarrow's
    multithreaded CSV reader from ``data`` (UTF-8 bytes or a pyarrow buffer of them): several times
    faster on big files (its callers keep files under :data:`ARROW_BYTES` for pandas, as fast on
    them). None when the file needs pandas' reader: a header with an empty or repeated name, a row
    with a missing or extra field, anything pyarrow refuses (pandas then reads it, or says what is
    wrong in its words)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        names = next(csv.reader(io.StringIO(header), delimiter=sep))
    except (csv.Error, StopIteration, TypeError):  # TypeError: a delimiter of several characters
        return None
    if not names or any(not n or n != n.strip() for n in names) or len(set(names)) != len(names):
        return None
    try:
        arrow = pacsv.read_csv(
            data if isinstance(data, pa.NativeFile) else pa.BufferReader(data),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    if arrow.column_names != names:
        return None
    frame = arrow.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=float("nan")),
                                          pa.large_string(): pd.StringDtype("pyarrow", na_value=float("nan"))}.get)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _objects(path: Path, items: Iterable[Any], where: str) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ReviewtuiError(f"{path}: {where} {i} is {type(item).__name__}, not an object with named fields; "
                                 "each review must be an object like {\"reviewId\": ..., \"content\": ...}")
        out.append(flat_record(item))
    return out


def _read_json(path: Path, text: str) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReviewtuiError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
                             "fix the file (a JSON Lines file should be named .jsonl)") from exc
    data = _feed_entries(data)
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if len(lists) == 1:
            data = data[lists[0]]
        else:
            raise ReviewtuiError(f"{path}: a JSON object, not a list of reviews; save the reviews as a list "
                                 "([{...}, {...}]) or as JSON Lines (one object per line)")
    if not isinstance(data, list):
        raise ReviewtuiError(f"{path}: JSON {type(data).__name__}, not a list of reviews")
    if not data:
        raise ReviewtuiError(f"{path}: the JSON list is empty (no rows)")
    return table_from_records(_objects(path, data, "item"), path, fmt="json")


def _read_jsonl(path: Path, text: str) -> Table:
    # one parse of the whole file is several times faster than one per line; a raw newline only
    # ever separates records (inside a JSON string it is written \n)
    body = text.strip().replace("\r\n", "\n")
    records = None
    if "\n\n" not in body and "\r" not in body:
        try:
            records = json.loads("[" + body.replace("\n", ",") + "]")
        except json.JSONDecodeError:
            records = None
    if records is not None and all(type(r) is dict for r in records):
        records = [flat_record(r) for r in records]
        if not records:
            raise ReviewtuiError(f"{path}: the file is empty{EMPTY_FIX}")
        return table_from_records(records, path, fmt="jsonl")
    records = []  # find the bad line and say which
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReviewtuiError(f"{path}: line {n}: not valid JSON ({exc.msg}); each line of a JSON Lines "
                                 "file must be one complete object") from exc
        if not isinstance(item, dict):
            raise ReviewtuiError(f"{path}: line {n} is {type(item).__name__}, not an object with named fields")
        records.append(flat_record(item))
    if not records:
        raise ReviewtuiError(f"{path}: the file is empty{EMPTY_FIX}")
    return table_from_records(records, path, fmt="jsonl")


def _read_parquet(path: Path, raw: bytes) -> Table:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as exc:
        raise ReviewtuiError(f"{path}: not a readable Parquet file ({exc}); re-export it") from exc
    columns: dict[str, list[str]] = {}
    for name, col in zip(arrow.column_names, arrow.columns):
        t = col.type
        if pa.types.is_dictionary(t):
            col, t = col.cast(t.value_type), t.value_type
        if pa.types.is_timestamp(t):
            if t.tz:
                text = pc.strftime(col.cast(pa.timestamp("s", "UTC"), safe=False), format="%Y-%m-%dT%H:%M:%S+00:00")
            else:
                text = pc.strftime(col.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%d %H:%M:%S")
            values = text.fill_null("").to_pylist()
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            values = col.fill_null("").to_pylist()
        elif (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
              or pa.types.is_decimal(t)):
            values = [cell(v) for v in col.to_pylist()] if pa.types.is_floating(t) else \
                col.cast(pa.string()).fill_null("").to_pylist()
        else:
            values = [cell(v) for v in col.to_pylist()]
        columns[str(name)] = values
    frame = pd.DataFrame(columns, columns=list(columns), dtype=object)
    return Table(path, "parquet", list(columns), frame, "")


#: A number format that shows a fixed count of decimals ("0.00"): how a sheet keeps 5.10 from reading 5.1.
FIXED_DECIMALS = re.compile(r"^0\.(0+)$")


def _xlsx_value(c: Any) -> Any:
    """A cell's value, a number shown with fixed decimals as the text the sheet shows (an app
    version 5.10 typed as a number and formatted "0.00" is "5.10", not 5.1)."""
    value = c.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value):
        m = FIXED_DECIMALS.match(str(getattr(c, "number_format", "") or ""))
        if m:
            return f"{value:.{len(m.group(1))}f}"
    return value


def _read_xlsx(path: Path, raw: bytes, sheet: str | None) -> Table:
    import zipfile

    import pandas as pd
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReviewtuiError(f"{path}: a zip archive that is not an Excel workbook ({exc}); if it holds review "
                             "files, unpack it and import those") from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise ReviewtuiError(f"{path}: no sheet {sheet!r}; the sheets are: {', '.join(names)}")
        rows = ([_xlsx_value(c) for c in r] for r in ws.iter_rows())
        header_row: list | None = None
        for r in rows:
            if any(v is not None and str(v).strip() for v in r):
                header_row = r
                break
        if header_row is None:
            raise ReviewtuiError(f"{path}: sheet {ws.title!r} is empty; name the sheet with the reviews (--sheet)")
        width = max(i for i, v in enumerate(header_row) if v is not None and str(v).strip()) + 1
        header = []
        for i, v in enumerate(header_row[:width]):
            name = cell(v).strip()
            if not name:
                raise ReviewtuiError(f"{path}: sheet {ws.title!r}: column {i + 1} has no name in the header row; "
                                     "name every column that holds data")
            header.append(name)
        data: list[list[str]] = []
        for r in rows:
            values = [cell(v) for v in r[:width]]
            if len(values) < width:
                values += [""] * (width - len(values))
            if any(values):
                data.append(values)
        title = ws.title
    finally:
        wb.close()
    frame = pd.DataFrame(data, columns=header, dtype=object) if data else pd.DataFrame(columns=header, dtype=object)
    return Table(path, "xlsx", header, frame, "", sheet=title, sheets=tuple(names))


def read_rows(path: str | Path, what: str = "file"):
    """(path, header, rows) of a file of ids and labels (``label --from``, ``simulate --oracle``):
    a CSV as :func:`reviewtui.files.read_csv_rows` reads it, or a workbook, JSON, JSON Lines or
    Parquet file as :func:`read_table` reads it, each row a ``files.CsvRow`` whose ``line`` is the
    sheet's row (its first row the header) or the item's number."""
    from reviewtui.files import CsvRow, read_csv_rows

    p = Path(path)
    fmt = EXTENSIONS.get(p.suffix.lower())
    if fmt in (None, "csv", "tsv") or not p.is_file():
        return read_csv_rows(path, what)
    table = read_table(p)
    first = 2 if fmt == "xlsx" else 1
    rows = []
    for i, values in enumerate(table.frame[table.header].itertuples(index=False, name=None)):
        row = CsvRow(zip(table.header, values))
        row.line = i + first
        rows.append(row)
    return p, list(table.header), rows  # read_table refuses a file with no rows


#: What to do about an empty file, said after "the file is empty".
EMPTY_FIX = (": it holds no rows; give a file with a header line and rows (an empty file in a folder stops its "
             "import too: move it out of the folder, or name the other files)")


def review_files(folder: Path) -> list[Path]:
    """The review files directly in ``folder`` (by extension, hidden files and .txt skipped: a folder
    often holds a README), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in EXTENSIONS and p.suffix.lower() != ".txt")


__all__ = ["EXTENSIONS", "FORMATS_TEXT", "Table", "cell", "detect_format", "read_table", "review_files",
           "read_rows", "sniff_delimiter", "table_from_records"]
