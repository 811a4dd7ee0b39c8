"""The wheel of reviewtui holds every file the package reads at run time, so that a user who
installs the wheel (a GPU machine's bundle, `pip install`) has what a clone has: the app's styles
and the taxonomy presets that `init --taxonomy NAME` takes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def tracked_package_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "reviewtui"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


def test_the_wheel_holds_the_package_data_and_init_takes_a_preset_from_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    files = tracked_package_files()
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("reviewtui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [rel for rel in files if not rel.endswith(".py")]
    assert "reviewtui/presets/app-review.toml" in data and "reviewtui/tui/app.tcss" in data
    assert [rel for rel in data if rel not in names] == []

    # the presets are read from the installed package, not from a clone's folders
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    workspace = tmp_path / "elsewhere" / "ws"
    workspace.parent.mkdir()
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import reviewtui; "
              "assert reviewtui.__file__.startswith(sys.argv[1]), reviewtui.__file__; "
              "from reviewtui.cli import main; sys.exit(main(sys.argv[2:]))")
    run = subprocess.run([sys.executable, "-c", script, str(site), "init", str(workspace), "--taxonomy", "app-review"],
                         cwd=workspace.parent, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert 'key = "BUG_REPORT"' in (workspace / "reviewtui.toml").read_text(encoding="utf-8")
