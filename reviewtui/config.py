"""reviewtui.toml: the taxonomy, the backend and the settings of every room.

The file is the workspace's single configuration. Sections that later rooms own (``model``,
``training``, ``tuning``, ``sentiment``, ``active_learning``, ``kili``) are kept as plain dicts
here and read by those rooms through :meth:`Config.section`, with their own defaults.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewtui.errors import ReviewtuiError

CONFIG_NAME = "reviewtui.toml"

DEFAULT_CATEGORIES: list[dict[str, Any]] = [
    {"key": "SUBSCRIPTION", "name": "Subscription", "colour": "#E4572E", "train": True},
    {"key": "CONTENT", "name": "Content", "colour": "#2E86AB", "train": True},
    {"key": "INTERFACE", "name": "Interface", "colour": "#F3A712", "train": True},
    {"key": "USER_EXPERIENCE", "name": "User experience", "colour": "#4CAF50", "train": True},
    {"key": "OTHER", "name": "Other", "colour": "#9E9E9E", "train": False},
    {"key": "MULTI_LABEL", "name": "Multi label", "colour": "#8E44AD", "train": False},
]

DEFAULT_CLEANING: dict[str, bool] = {
    "drop_missing": True,
    "remove_urls": True,
    "remove_html": True,
    "remove_emoji": True,
    "lowercase": True,
    "collapse_whitespace": True,
    "drop_empty": True,
}

DEFAULT_SECTIONS: dict[str, dict[str, Any]] = {
    "model": {"base": "minilm", "max_length": 128},
    "training": {
        "epochs": 10, "learning_rate": 1e-4, "batch_size": 16, "weight_decay": 0.01,
        "warmup_ratio": 0.1, "seed": 42, "early_stopping_patience": 5, "class_weights": "auto",
        "ensemble_quick": True,
    },
    "tuning": {
        "trials": 20, "max_epochs": 8, "learning_rate": [2e-5, 2e-4], "epochs": 8,
        "batch_size": [8, 16, 32], "weight_decay": [0.0, 0.1], "warmup_ratio": [0.0, 0.2],
        "seed": [1, 100], "candidates": [], "seed_search": 42, "quick_C": [1.0, 100.0],
        "cpus_per_trial": 0, "gpus_per_trial": 1, "grace_period": 1, "reduction_factor": 3, "time_budget_s": 0,
    },
    "sentiment": {"model": "vader"},
    "active_learning": {"strategy": "margin", "batch_size": 50, "retrain_every": 10, "candidates": 5000,
                        "C": 10.0},
}

KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def category_key(name: str) -> str:
    """``"User experience"`` -> ``"USER_EXPERIENCE"``."""
    return re.sub(r"[^A-Z0-9]+", "_", name.strip().upper()).strip("_")


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    colour: str
    train: bool


class Taxonomy:
    """The ordered categories. Labels are stored and exported by key (``USER_EXPERIENCE``)."""

    def __init__(self, categories: list[Category]) -> None:
        self.categories = list(categories)
        self._by_key = {c.key: c for c in self.categories}
        self._lookup: dict[str, str] = {}
        for c in self.categories:
            for alias in (c.key, c.name, category_key(c.name)):
                self._lookup[alias.casefold()] = c.key

    def __iter__(self):
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.categories]

    @property
    def training_keys(self) -> list[str]:
        """Keys of the categories that go into training, in taxonomy order."""
        return [c.key for c in self.categories if c.train]

    def get(self, key: str) -> Category:
        return self._by_key[key]

    def resolve(self, label: str) -> str | None:
        """The key for a key or a name written any case; None when unknown."""
        return self._lookup.get(str(label).strip().casefold())

    def require(self, label: str, where: str = "") -> str:
        """Like :meth:`resolve` but raises :class:`ReviewtuiError` naming the known keys."""
        key = self.resolve(label)
        if key is None:
            at = f" ({where})" if where else ""
            raise ReviewtuiError(
                f"unknown label {label!r}{at}: the taxonomy has {', '.join(self.keys)}; "
                "fix the label or add the category to reviewtui.toml"
            )
        return key

    def to_list(self) -> list[dict[str, Any]]:
        return [{"key": c.key, "name": c.name, "colour": c.colour, "train": c.train} for c in self]

    @classmethod
    def from_list(cls, items: list[dict[str, Any]], where: str = CONFIG_NAME) -> "Taxonomy":
        cats: list[Category] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "name" not in item:
                raise ReviewtuiError(f"{where}: category #{i + 1} needs at least a name")
            key = str(item.get("key") or category_key(item["name"]))
            if not KEY_RE.match(key):
                raise ReviewtuiError(f"{where}: category key {key!r} must be UPPER_SNAKE_CASE")
            if key in seen:
                raise ReviewtuiError(f"{where}: category key {key!r} appears twice")
            seen.add(key)
            cats.append(Category(key, str(item["name"]), str(item.get("colour", "#888888")),
                                 bool(item.get("train", True))))
        if not cats:
            raise ReviewtuiError(f"{where}: the taxonomy has no categories")
        return cls(cats)

    @classmethod
    def default(cls) -> "Taxonomy":
        return cls.from_list(DEFAULT_CATEGORIES)


class Config:
    """The parsed reviewtui.toml. Mutate with the setters and call :meth:`save`."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.taxonomy = Taxonomy.from_list(data.get("categories", []), where=str(path))

    @classmethod
    def default_data(cls, name: str, backend: str = "local") -> dict[str, Any]:
        return {
            "workspace": {"name": name},
            "backend": {"kind": backend},
            "categories": [dict(c) for c in DEFAULT_CATEGORIES],
            "import": dict(DEFAULT_CLEANING),
            **{k: dict(v) for k, v in DEFAULT_SECTIONS.items()},
        }

    @classmethod
    def load(cls, path: Path) -> "Config":
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ReviewtuiError(f"{path}: not valid TOML ({exc}); fix the file by hand") from exc
        except OSError as exc:
            raise ReviewtuiError(f"{path}: cannot read ({exc.strerror})") from exc
        backend = data.get("backend", {}).get("kind", "local")
        if backend not in ("local", "kili"):
            raise ReviewtuiError(f"{path}: backend kind must be \"local\" or \"kili\", not {backend!r}")
        return cls(path, data)

    @property
    def backend_kind(self) -> str:
        return str(self.data.get("backend", {}).get("kind", "local"))

    @property
    def name(self) -> str:
        return str(self.data.get("workspace", {}).get("name", self.path.parent.name))

    def section(self, name: str) -> dict[str, Any]:
        """A copy of section ``name`` merged over its defaults (empty dict when none)."""
        merged = dict(DEFAULT_SECTIONS.get(name, {}))
        if name == "import":
            merged = dict(DEFAULT_CLEANING)
        merged.update(self.data.get(name, {}))
        return merged

    def set_section(self, name: str, values: dict[str, Any]) -> None:
        self.data[name] = dict(values)
        if name == "categories":
            self.taxonomy = Taxonomy.from_list(values)  # type: ignore[arg-type]

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        write_toml(self.path, self.data)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ValueError("TOML has no null")
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else _toml_value(key)


def dumps_toml(data: dict[str, Any]) -> str:
    """Serialise the shapes reviewtui.toml uses: tables of scalars/lists and arrays of tables."""
    lines: list[str] = ["# reviewtui workspace configuration", ""]
    for name, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"[[{_toml_key(name)}]]")
                lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items() if v is not None]
                lines.append("")
        elif isinstance(value, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
            lines.append("")
        elif value is not None:
            lines.insert(2, f"{_toml_key(name)} = {_toml_value(value)}")
    return "\n".join(lines)


def write_toml(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, dumps_toml(data))


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and an atomic rename, so a
    crash never leaves half a file. Creates the folder. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))
