"""Small helpers that every package uses and that belong to none: atomic file writes, reading a
small CSV with clear errors, finding a column by its usual names, and UTC timestamps.

This module sits at the bottom of the layers: it imports nothing of reviewtui but ``errors``.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import secrets
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from reviewtui.errors import ReviewtuiError

#: Column names that hold a review's id, in the order they are tried.
ID_COLUMNS: tuple[str, ...] = ("reviewId", "review_id", "externalId", "external_id", "id")
#: Random names tried for a temporary file or folder before giving up.
TEMP_TRIES = 100


# --- files -----------------------------------------------------------------------------------------
def make_temp_file(folder: str | Path, prefix: str = "", suffix: str = ".tmp") -> tuple[int, Path]:
    """(open file descriptor, path) of a new empty file with a name no other file has in
    ``folder``. Unlike :func:`tempfile.mkstemp` (always 0600) it gets the permissions a plain
    :func:`open` would give, 0666 less the umask, so a file renamed into place from it is as
    readable by the user's group as any other file they write."""
    folder = Path(folder)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(TEMP_TRIES):
        path = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")


def make_temp_dir(parent: str | Path, prefix: str = "", suffix: str = ".tmp") -> Path:
    """A new empty folder in ``parent`` with a name no other entry has, with the permissions a
    plain :func:`os.mkdir` gives (0777 less the umask; :func:`tempfile.mkdtemp` makes it 0700): for
    a folder that is filled, then renamed into place."""
    parent = Path(parent)
    for _ in range(TEMP_TRIES):
        path = parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary folder name in {parent}")


def give_plain_permissions(folder: str | Path, dir_mode: int) -> None:
    """Give every file under ``folder`` the mode ``dir_mode & 0o666`` and every folder under it
    ``dir_mode`` (keeping their setuid, setgid and sticky bits), where ``dir_mode`` is what a plain
    :func:`os.mkdir` gave (0777 less the umask; the mode of a folder from :func:`make_temp_dir`):
    files a library wrote with its own mode (safetensors writes 0600) become as readable by the
    user's group as any other file they write."""
    dir_mode &= 0o777
    for root, dirs, files in os.walk(folder):
        for name, mode in [(d, dir_mode) for d in dirs] + [(f, dir_mode & 0o666) for f in files]:
            path = os.path.join(root, name)
            st = os.lstat(path)
            if not os.path.islink(path) and st.st_mode & 0o777 != mode:
                os.chmod(path, (st.st_mode & 0o7000) | mode)


@contextmanager
def atomic_output(path: str | Path, mode: str = "wb", **open_args: Any) -> Iterator[IO]:
    """A file opened under a temporary name in ``path``'s folder (created if missing), flushed,
    fsync'd and renamed to ``path`` when the block ends without an error, removed when it raises:
    a crash never leaves half a file. ``mode`` and ``open_args`` go to :func:`open`. A symbolic
    link is written through: the file it points to is replaced (a team's shared reviewtui.toml)."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp_file(path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_args) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_output`. Returns ``path``."""
    with atomic_output(path) as fh:
        fh.write(data)
    return Path(path)


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing, its folder too) for the block:
    other processes taking the same lock wait."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


#: A folder's copy set aside by :func:`replace_dir` is put back when its replacement never came and
#: the copy has been aside this long (seconds): younger, a replacement may be under way.
RESTORE_AFTER = 5.0
#: A temporary folder or file left by a killed fill (a model being saved) is removed past this age.
LEFTOVER_AFTER = 24 * 3600.0


def remove_tree(path: str | Path) -> bool:
    """Remove the folder ``path`` and all it holds, its read-only folders made writable where they
    refuse (a user's ``chmod -R a-w``: :func:`shutil.rmtree` alone left them whole). Returns whether
    it is gone; what still cannot be removed (another user's, a read-only mount) is left."""
    import shutil
    import stat

    opened: set[str] = set()

    def writable(folder: str) -> bool:
        try:
            os.chmod(folder, os.stat(folder, follow_symlinks=False).st_mode | stat.S_IRWXU)
            return True
        except OSError:
            return False

    top = os.path.abspath(str(path))

    def retry(func: Any, name: str, _exc: Any) -> None:
        parent = os.path.dirname(os.path.abspath(name))
        if parent == top or parent.startswith(top + os.sep):  # never the folder holding ``path``
            writable(parent)
        try:
            if func in (os.unlink, os.remove, os.rmdir):
                func(name)
            elif name not in opened and os.path.isdir(name) and not os.path.islink(name) and writable(name):
                opened.add(name)  # a folder that could not be read: readable now
                shutil.rmtree(name, onerror=retry)
        except OSError:
            pass

    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        writable(str(path))
    shutil.rmtree(path, onerror=retry)
    return not (path.exists() or path.is_symlink())


def replace_dir(tmp: str | Path, final: str | Path, on_left: Callable[[Path], None] | None = None) -> Path:
    """Put the filled folder ``tmp`` in place of ``final`` (created or replaced). The old folder is
    set aside as ``.NAME.old-PID`` for the moment between the two renames; a kill there leaves
    ``final`` missing, and :func:`recover_dirs` puts the old one back. The old folder is removed
    after (:func:`remove_tree`); where it cannot be, ``on_left`` is called with where it is."""
    tmp, final = Path(tmp), Path(final)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None and not remove_tree(old) and on_left is not None:
        on_left(old)
    return final


def recover_dirs(parent: str | Path, now: float | None = None) -> list[str]:
    """Undo what a killed :func:`replace_dir` left in ``parent``: a folder set aside whose
    replacement never came back in its place; set-aside copies and temporary folders
    (``.NAME.*.tmp``) left over are removed once old enough. Returns the names put back."""
    import re
    import shutil
    import time

    parent = Path(parent)
    if not parent.is_dir():
        return []
    now = time.time() if now is None else now
    restored = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []
    aside = []
    for p in entries:
        if m := re.match(r"^\.(.+)\.old-\d+$", p.name):
            try:
                aside.append((p.stat().st_ctime, m.group(1), p))
            except OSError:
                continue
    # the copy set aside last first: of two a name has, the newer is the one put back
    for ctime, name, path in sorted(aside, key=lambda e: e[0], reverse=True):
        try:
            age = now - ctime
            final = parent / name
            if not final.exists() and age > RESTORE_AFTER:
                os.replace(path, final)
                restored.append(name)
            elif final.exists() and age > RESTORE_AFTER:
                remove_tree(path)
        except OSError:
            continue
    for path in entries:
        if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_dir():
            try:
                if now - path.stat().st_mtime > LEFTOVER_AFTER:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue
    return restored


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


class CsvRow(dict):
    """A row of :func:`read_csv_rows`: column -> value, and ``line``, the file line it starts on (a
    quoted field may span several lines)."""

    line: int = 0


def sniff_delimiter(header: str) -> str:
    """The delimiter of a header line: the most frequent of , ; tab |, a comma winning ties (for
    small CSVs here, and for review files in :mod:`reviewtui.readers`)."""
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)  # type: ignore[arg-type]
    return "," if counts[best] == 0 or counts[","] == counts[best] else best


def read_csv_rows(path: str | Path, what: str = "file") -> tuple[Path, list[str], list[CsvRow]]:
    """(path, header, rows) of a small CSV whose delimiter (comma, semicolon, tab or bar) is the one
    its header line uses most, in UTF-8 or, with a byte-order mark, UTF-16 or UTF-32. Raises
    :class:`ReviewtuiError` when it is missing, a folder, empty, a workbook or other binary file, or
    not in those encodings; ``what`` names the file in the missing-file message ("oracle file")."""
    p = Path(path)
    if not p.exists():
        raise ReviewtuiError(f"{p}: no such {what}")
    if p.is_dir():
        raise ReviewtuiError(f"{p}: is a folder, not a CSV file")
    text = _csv_text(p, p.read_bytes())
    if not text.strip():
        raise ReviewtuiError(f"{p}: the file is empty; it needs a header line and rows")
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text.lstrip("\r\n").split("\n", 1)[0]))
    header: list[str] = []
    rows: list[CsvRow] = []
    start = 1
    for values in reader:
        if not values:  # a blank line
            start = reader.line_num + 1
            continue
        if not header:
            header = values
        else:  # as csv.DictReader builds it: missing values None, extra ones under None
            row = CsvRow(zip(header, values + [None] * (len(header) - len(values))))
            if len(values) > len(header):
                row[None] = values[len(header):]
            row.line = start
            rows.append(row)
        start = reader.line_num + 1
    return p, header, rows


#: The first bytes of files that are not text, and what to say of each.
_NOT_CSV = ((b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
            (b"PAR1", "a Parquet file"), (b"\x1f\x8b", "a compressed (gzip) file"))
#: Byte-order marks, the longer first (a UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def _csv_text(p: Path, raw: bytes) -> str:
    """The text of a small CSV: UTF-8, or UTF-8, UTF-16 or UTF-32 with a byte-order mark (what
    spreadsheet programs save as "CSV UTF-8" and "Unicode text"). Raises ReviewtuiError for a
    workbook or another binary file, and for bytes its encoding does not allow."""
    for magic, what in _NOT_CSV:
        if raw.startswith(magic):
            raise ReviewtuiError(f"{p}: {what}, not a CSV file; open it in a spreadsheet program, save it as "
                                 "CSV UTF-8 (comma delimited), and give that file")
    codec, name = next(((c, n) for bom, c, n in _BOMS if raw.startswith(bom)), ("utf-8", "UTF-8"))
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ReviewtuiError(f"{p}: line {line}: bytes that are not {name} ({raw[exc.start:exc.start + 4]!r}); "
                             "save the file as CSV UTF-8 and give it again") from exc
    if "\x00" in text[:4096]:  # UTF-16 without its byte-order mark
        raise ReviewtuiError(f"{p}: not UTF-8 text (it has zero bytes: UTF-16 without a byte-order mark?); save "
                             "the file as CSV UTF-8 and give it again")
    return text.removeprefix("\ufeff")


def find_column(header: Iterable[str], candidates: Sequence[str]) -> str | None:
    """The column of the first of ``candidates`` present in ``header``: the column named exactly so,
    else one that differs only in case, else one that differs in case and in spaces, underscores,
    hyphens, dots and brackets (``Review Text`` for ``review_text``, ``Review Created (UTC)`` for
    ``review_created_utc``). None when there is none."""
    names = [str(h) for h in header]
    folded = {h.casefold(): h for h in reversed(names)}
    loose = {_loose(h): h for h in reversed(names)}
    for c in candidates:
        if c in names:
            return c
        found = folded.get(c.casefold()) or loose.get(_loose(c))
        if found is not None:
            return found
    return None


def _loose(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in " _-.()")


# --- time ------------------------------------------------------------------------------------------
def utc_now() -> str:
    """Now as the one timestamp format of every output: UTC ISO 8601 with milliseconds,
    ``2026-12-01T09:30:00.123+00:00``. Strings in this format sort in time order."""
    return format_timestamp(datetime.now(timezone.utc))


def format_timestamp(moment: datetime) -> str:
    """``moment`` in the format of :func:`utc_now` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse_timestamp(text: str) -> datetime:
    """A timestamp written by :func:`utc_now` (or any ISO 8601 form, ``Z`` included) as an aware
    datetime in UTC. Raises ValueError when ``text`` is not ISO 8601."""
    text = str(text).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
