"""Fake part wheels of an installable encoder: a model folder zipped, split in five and wrapped in
five wheels whose RECORD declares each part's sha256 and size, as the registry's packages are."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from reviewtui.modeling.registry import SplitZipEncoder


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def folder_zip(model_dir: Path, folder: str) -> bytes:
    """The files of ``model_dir`` zipped under ``folder/`` (what the published zip holds)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/", "")
        for path in sorted(Path(model_dir).rglob("*")):
            if path.is_file():
                zf.writestr(f"{folder}/{path.relative_to(model_dir).as_posix()}", path.read_bytes())
    return buf.getvalue()


def part_wheels(dest: Path, encoder: SplitZipEncoder, data: bytes) -> list[Path]:
    """The five wheels of ``encoder`` carrying ``data`` (a zip) in five pieces, in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    step = -(-len(data) // len(encoder.packages))
    out = []
    for i, package in enumerate(encoder.packages):
        piece = data[i * step:(i + 1) * step]
        dist = f"{package.replace('-', '_')}-{encoder.version}"
        files = {f"{encoder.modules[i]}/__init__.py": b"", encoder.part_member(i): piece,
                 f"{dist}.dist-info/METADATA":
                     f"Metadata-Version: 2.1\nName: {package}\nVersion: {encoder.version}\n".encode(),
                 f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                 f"{dist}.dist-info/top_level.txt": f"{encoder.modules[i]}\n".encode()}
        record = "".join(f"{n},sha256={_b64(d)},{len(d)}\n" for n, d in files.items()) + f"{dist}.dist-info/RECORD,,\n"
        path = dest / f"{dist}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            for n, d in files.items():
                zf.writestr(n, d)
            zf.writestr(f"{dist}.dist-info/RECORD", record)
        out.append(path)
    return out
