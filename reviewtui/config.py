"""reviewtui.toml: the taxonomy (``[[categories]]``) and the typed settings of every section.

The file is the workspace's single configuration. :class:`Config` parses it once, validates every
section into :class:`reviewtui.settings.Settings` (one frozen dataclass per section) and writes it
back atomically when a command changes it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_bytes, atomic_write_text
from reviewtui.settings import Settings, load_settings, parse_section, section_names, to_toml_dict

CONFIG_NAME = "reviewtui.toml"

DEFAULT_CATEGORIES: list[dict[str, Any]] = [
    {"key": "SUBSCRIPTION", "name": "Subscription", "colour": "#E4572E", "train": True},
    {"key": "CONTENT", "name": "Content", "colour": "#2E86AB", "train": True},
    {"key": "INTERFACE", "name": "Interface", "colour": "#F3A712", "train": True},
    {"key": "USER_EXPERIENCE", "name": "User experience", "colour": "#4CAF50", "train": True},
    {"key": "OTHER", "name": "Other", "colour": "#9E9E9E", "train": False},
    {"key": "MULTI_LABEL", "name": "Multi label", "colour": "#8E44AD", "train": False},
]

KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
#: What a [[categories]] table may hold.
CATEGORY_FIELDS = frozenset({"key", "name", "colour", "train", "description", "examples", "former_keys"})


def category_key(name: str) -> str:
    """``"User experience"`` -> ``"USER_EXPERIENCE"``. A name that does not start with a Latin letter
    gets ``LABEL_`` before it (the labels of many public data sets are numbers: ``"1"`` ->
    ``"LABEL_1"``, ``"5 stars"`` -> ``"LABEL_5_STARS"``; ``"5星"`` -> ``"LABEL_5_"`` and 8 hex digits
    of its hash, apart from ``"5"``), and one with no Latin letter or digit at all a key from its hash
    (``"正面"`` -> ``"LABEL_"`` and 8 hex digits). Accented Latin letters keep their letter
    (``"Über Gebühren"`` -> ``"UBER_GEBUHREN"``, ``"Réclamation"`` -> ``"RECLAMATION"``). A sign before
    a number is kept as a word: ``"-1"`` -> ``"LABEL_MINUS_1"``, ``"+1"`` -> ``"LABEL_PLUS_1"``, apart
    from ``"1"`` (labels -1, 0, 1 of sentiment data sets). "" for a blank name."""
    name = name.strip()
    latin = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    sign = re.match(r"([-\u2212\u2013+])\s*(?=\d)", latin)
    if sign:
        latin = ("PLUS " if sign.group(1) == "+" else "MINUS ") + latin[sign.end():]
        return "LABEL_" + re.sub(r"[^A-Z0-9]+", "_", latin.upper()).strip("_")
    key = re.sub(r"[^A-Z0-9]+", "_", latin.upper()).strip("_")
    digest = hashlib.sha1(name.casefold().encode("utf-8")).hexdigest()[:8].upper()
    if not key:
        return "LABEL_" + digest if name else ""
    if key[0].isalpha():
        return key
    # what is left starts with a digit; when letters of another script were dropped ("Ошибка 1",
    # "5星"), the hash keeps the name apart from the bare number ("1", "5")
    other_script = any(ch.isalpha() and not ch.isascii() for ch in name)
    return "LABEL_" + key + ("_" + digest if other_script else "")


@dataclass(frozen=True)
class Category:
    """One category. ``description`` and ``examples`` (optional, written by the user or a preset)
    are what zero-shot suggestions compare reviews with before any label exists."""

    key: str
    name: str
    colour: str
    train: bool
    description: str = ""
    examples: tuple[str, ...] = ()
    #: the keys this category had before a rename, and those of the categories merged into it:
    #: labels, predictions and dataset versions written with them read as this category
    former_keys: tuple[str, ...] = ()


class Taxonomy:
    """The ordered categories. Labels are stored and exported by key (``USER_EXPERIENCE``)."""

    #: how the taxonomy gets a category it lacks, in an unknown label's error (a Kili workspace's
    #: categories come from its project: :data:`KILI_ADD_ADVICE`)
    add_advice = "add the category with `reviewtui categories add`"

    def __init__(self, categories: list[Category]) -> None:
        self.categories = list(categories)
        self._by_key = {c.key: c for c in self.categories}
        self._lookup: dict[str, str] = {}
        # a key wins over a name, a name over the key made from another name ("1" -> LABEL_1 does
        # not shadow a category whose key is LABEL_1)
        for aliases in ([category_key(c.name) for c in self.categories], [c.name for c in self.categories],
                        [c.key for c in self.categories]):
            for alias, c in zip(aliases, self.categories):
                self._lookup[alias.casefold()] = c.key
        # written exactly as a key or a name, a label is that category's whatever another's key or
        # name reads like in other case (a category named "crash" beside the key CRASH)
        self._exact = {c.name.strip(): c.key for c in self.categories} | {c.key: c.key for c in self.categories}
        #: a former key (renamed or merged away) -> the category that has it now
        self.former: dict[str, str] = {old: c.key for c in self.categories for old in c.former_keys}
        self._former_lookup = {old.casefold(): key for old, key in self.former.items()}

    def __eq__(self, other: object) -> bool:  # a file read again, unchanged, is the same taxonomy
        return isinstance(other, Taxonomy) and self.categories == other.categories

    def __hash__(self) -> int:
        return hash(tuple(self.categories))

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

    def refuse_former(self, key: str, name: str, itself: str | None = None) -> None:
        """Raise ReviewtuiError when a new category ``key`` (or the key of its ``name``) is a former
        key of another category than ``itself``: versions, models and predictions written with it
        read as that category, so a new one under it would take over their labels."""
        for k in dict.fromkeys((key, category_key(name))):
            owner = self.former.get(k)
            if owner is not None and owner != itself:
                raise ReviewtuiError(
                    f"{k} was a key of {owner} ({self.get(owner).name}) before a rename or merge, and the dataset "
                    f"versions, models and predictions written with it read as {owner}; a new category under it "
                    f"would take over their labels: choose another name (or key)")

    def current(self, key: str) -> str:
        """The category ``key`` is now: itself, or the one a rename or merge moved it to; an
        unknown key comes back as it is."""
        return key if key in self._by_key else self.former.get(key, key)

    def resolve(self, label: str, *, former: bool = True) -> str | None:
        """The key for a key or a name written any case, or spelled with other spaces and signs
        (``Sizing / Fit`` for ``Sizing/fit``: the same key); with ``former``, a key a category had
        before a rename or merge gives the category it is now. None when unknown."""
        text = str(label).strip()
        found = self._exact.get(text) or self._lookup.get(text.casefold()) or (
            self._lookup.get(category_key(text).casefold()) if text else None)
        if found is None and former and text:
            found = self._former_lookup.get(text.casefold()) or self._former_lookup.get(category_key(text).casefold())
        return found

    def require(self, label: str, where: str = "") -> str:
        """Like :meth:`resolve` but raises :class:`ReviewtuiError` naming the known keys."""
        key = self.resolve(label)
        if key is None:
            at = f" ({where})" if where else ""
            if not str(label).strip():
                raise ReviewtuiError(f"an empty label{at}: give one of {', '.join(self.keys)}")
            raise ReviewtuiError(
                f"unknown label {label!r}{at}{self.did_you_mean(label)}: the taxonomy has {', '.join(self.keys)}; "
                f"fix the label, or {self.add_advice}"
            )
        return key

    def did_you_mean(self, label: str) -> str:
        """``" (did you mean BILLING_FEES?)"``: the key whose key, name or key-from-name ``label``
        is closest to (a typo), or "" when none is close."""
        import difflib

        word = str(label).strip().casefold()
        close = difflib.get_close_matches(word, list(self._lookup), n=1, cutoff=0.75)
        return f" (did you mean {self._lookup[close[0]]}?)" if close else ""

    def to_list(self) -> list[dict[str, Any]]:
        out = []
        for c in self:
            item: dict[str, Any] = {"key": c.key, "name": c.name, "colour": c.colour, "train": c.train}
            if c.description:
                item["description"] = c.description
            if c.examples:
                item["examples"] = list(c.examples)
            if c.former_keys:
                item["former_keys"] = list(c.former_keys)
            out.append(item)
        return out

    @classmethod
    def from_list(cls, items: list[dict[str, Any]], where: str = CONFIG_NAME) -> "Taxonomy":
        cats: list[Category] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "name" not in item:
                raise ReviewtuiError(f"{where}: category #{i + 1} needs at least a name")
            if not isinstance(item["name"], str):
                raise ReviewtuiError(f"{where}: category #{i + 1}: name = {item['name']!r} must be a string, "
                                     'e.g. name = "Bug report"')
            if not item["name"].strip():
                raise ReviewtuiError(f"{where}: category #{i + 1} has an empty name; give it one")
            unknown = sorted(set(item) - CATEGORY_FIELDS)
            if unknown:  # a misspelled key was read as nothing, then dropped at the next write
                import difflib

                close = difflib.get_close_matches(unknown[0], sorted(CATEGORY_FIELDS), n=1)
                raise ReviewtuiError(f"{where}: category #{i + 1} ({item['name'].strip()}): unknown key {unknown[0]!r}"
                                     + (f" (did you mean {close[0]!r}?)" if close else "")
                                     + f"; a category takes {', '.join(sorted(CATEGORY_FIELDS))}")
            key = str(item.get("key") or category_key(item["name"]))
            if not KEY_RE.match(key):
                raise ReviewtuiError(f"{where}: category key {key!r} must be UPPER_SNAKE_CASE")
            if key in seen:
                raise ReviewtuiError(f"{where}: category key {key!r} appears twice")
            seen.add(key)
            description = item.get("description", "")
            if not isinstance(description, str):
                raise ReviewtuiError(f"{where}: category {key!r}: description must be a string")
            examples = item.get("examples", [])
            if isinstance(examples, str) or not isinstance(examples, (list, tuple)) or \
                    not all(isinstance(e, str) for e in examples):
                raise ReviewtuiError(f"{where}: category {key!r}: examples must be a list of strings, "
                                     'e.g. examples = ["the app crashes on start", "dark mode please"]')
            former = item.get("former_keys", [])
            if isinstance(former, str) or not isinstance(former, (list, tuple)) or \
                    not all(isinstance(k, str) and KEY_RE.match(k) for k in former):
                raise ReviewtuiError(f"{where}: category {key!r}: former_keys must be a list of UPPER_SNAKE_CASE "
                                     'keys, e.g. former_keys = ["BUG"]')
            colour = item.get("colour", "#888888")
            if not isinstance(colour, str) or not COLOUR_RE.match(colour.strip()):
                raise ReviewtuiError(f"{where}: category {key!r}: colour {colour!r} is not of the form #RRGGBB; "
                                     'write a # and six hex digits, e.g. colour = "#E4572E"')
            train = item.get("train", True)
            if not isinstance(train, bool):
                raise ReviewtuiError(f"{where}: category {key!r}: train = {train!r} must be true or false")
            cats.append(Category(key, item["name"].strip(), colour.strip(),
                                 train, description.strip(),
                                 tuple(e.strip() for e in examples if e.strip()), tuple(former)))
        if not cats:
            raise ReviewtuiError(f"{where}: the taxonomy has no categories; add them as [[categories]] tables, "
                                 'each with a name (name = "Bug report")')
        if not any(c.train for c in cats):  # as `categories set --no-train` refuses: nothing to learn
            raise ReviewtuiError(f"{where}: every category has train = false, so no model can be trained on the "
                                 "labels; set train = true on the categories a model should learn (at least one)")
        # a label is found by its category's name in any case and spacing: two categories of the
        # same name so read would take each other's labels (a name beside another's key is told
        # apart, as written: resolve)
        named: dict[str, Category] = {}
        for c in cats:
            # names that differ in signs ("C++", "C#") are told apart as written: only case and spacing
            other = named.setdefault(" ".join(c.name.casefold().split()), c)
            if other.key != c.key:
                raise ReviewtuiError(f"{where}: categories {other.key} ({other.name!r}) and {c.key} ({c.name!r}) "
                                     "have the same name in another case or spacing, which labels cannot tell "
                                     "apart; rename one")
        # a key in use is that category's, whatever another once was called; a former key two
        # categories claim stays with the first
        claimed: set[str] = set(seen)
        for i, c in enumerate(cats):
            kept = tuple(k for k in dict.fromkeys(c.former_keys) if k not in claimed)
            claimed.update(kept)
            if kept != c.former_keys:
                cats[i] = replace(c, former_keys=kept)
        return cls(cats)

    @classmethod
    def default(cls) -> "Taxonomy":
        return cls.from_list(DEFAULT_CATEGORIES)


#: A Kili project's interface must list the categories (``categories add`` is refused there)
KILI_ADD_ADVICE = ("add the category to the Kili project's interface first, then to [[categories]] in "
                   "reviewtui.toml, and run `reviewtui kili pull`")


class Config:
    """The parsed reviewtui.toml: ``taxonomy``, typed ``settings`` and the raw ``data`` they came from.
    Change it with :meth:`update_section` / :meth:`set_categories`, which validate and save."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.settings: Settings = load_settings(data, path)
        self.taxonomy = self._advised(Taxonomy.from_list(data.get("categories", []), where=str(path)))
        #: the file as this object last read or wrote it (see :meth:`changed_on_disk`)
        self.signature = file_signature(path)
        #: why the file on disk could not be read again, when another hand left it invalid: this
        #: reading is then the last good one, and nothing is written over the file (:meth:`_write`)
        self.unreadable: str | None = None

    def _write(self, data: dict[str, Any]) -> None:
        """Write ``data`` to the file, unless the file was left invalid by another hand since it was
        read (writing would throw the edit away): then raise ReviewtuiError, nothing written."""
        if self.unreadable is not None:
            raise ReviewtuiError(f"{self.path} was changed since it was read and cannot be read now "
                                 f"({self.unreadable}); nothing was written: fix the file, then try again")
        write_toml(self.path, data)
        self.signature = file_signature(self.path)

    def changed_on_disk(self) -> bool:
        """Whether another process (the CLI beside the app, an editor) wrote the file since this
        object read or wrote it."""
        return file_signature(self.path) != self.signature

    @classmethod
    def default_data(cls, name: str, backend: str = "local") -> dict[str, Any]:
        """The data of a new workspace's reviewtui.toml: every section with its defaults written out."""
        data: dict[str, Any] = to_toml_dict(Settings())
        data["workspace"]["name"] = name
        data["backend"] = {"kind": backend}
        data["kili"] = {}
        data["categories"] = [dict(c) for c in DEFAULT_CATEGORIES]
        return data

    @classmethod
    def load(cls, path: Path) -> "Config":
        """Read and validate ``path``; raises ReviewtuiError naming the file, section and key."""
        signature = file_signature(path)  # before reading: a write in between is seen next time
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ReviewtuiError(f"{path}: not valid TOML ({exc}); fix the file by hand") from exc
        except UnicodeDecodeError as exc:  # TOML is UTF-8: a file saved in another encoding, or not text
            raise ReviewtuiError(f"{path}: not valid TOML (byte {exc.start} is not UTF-8); save the file as UTF-8, "
                                 "or fix it by hand") from exc
        except OSError as exc:
            raise ReviewtuiError(f"{path}: cannot read ({exc.strerror})") from exc
        config = cls(path, data)
        config.signature = signature
        return config

    @property
    def backend_kind(self) -> str:
        return self.settings.backend.kind

    @property
    def name(self) -> str:
        return self.settings.workspace.name or self.path.parent.name

    def update_section(self, name: str, values: dict[str, Any], *, save: bool = True,
                       drop: tuple[str, ...] = ()) -> None:
        """Set ``values`` in TOML section ``name`` (and remove the keys in ``drop``), validate the
        result and save atomically. Nothing changes when a value is invalid."""
        table = {k: v for k, v in dict(self.data.get(name, {})).items() if k not in drop}
        table.update(values)
        cls = type(getattr(self.settings, section_names()[name]))
        parse_section(cls, table, f"{self.path} [{name}]")
        data = {**self.data, name: table}
        settings = load_settings(data, self.path)
        if save:
            self._write(data)
        self.settings, self.data = settings, data

    def _advised(self, taxonomy: "Taxonomy") -> "Taxonomy":
        """``taxonomy``, its errors saying how a category is added in this workspace's backend."""
        if self.settings.backend.kind == "kili":
            taxonomy.add_advice = KILI_ADD_ADVICE
        return taxonomy

    def set_categories(self, items: list[dict[str, Any]], *, save: bool = True) -> None:
        """Replace the taxonomy: validated, then saved, then applied, so a failed save leaves both
        the file and this object as they were."""
        taxonomy = self._advised(Taxonomy.from_list(items, where=str(self.path)))
        data = {**self.data, "categories": [dict(i) for i in items]}
        if save:
            self._write(data)
        self.taxonomy, self.data = taxonomy, data

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        self._write(self.data)


def toml_value(value: Any) -> str:
    """``value`` as a TOML value: a string quoted and escaped, a bool, a number, a list, an inline
    table. Raises ValueError for None (TOML has no null), TypeError for other types."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ValueError("TOML has no null")
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else toml_value(key)


def dumps_toml(data: dict[str, Any]) -> str:
    """Serialise the shapes reviewtui.toml uses: tables of scalars/lists and arrays of tables."""
    lines: list[str] = ["# reviewtui workspace configuration", ""]
    for name, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"[[{_toml_key(name)}]]")
                lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in item.items() if v is not None]
                lines.append("")
        elif isinstance(value, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
            lines.append("")
        elif value is not None:
            lines.insert(2, f"{_toml_key(name)} = {toml_value(value)}")
    return "\n".join(lines)


def write_toml(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path``: the file as it is, with the values that changed changed (a team's
    comments and layout kept, :func:`edited_toml`), or written afresh (:func:`dumps_toml`) when
    there is no file yet or it cannot be edited so."""
    text = None
    try:
        old = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        old = None
    if old is not None:
        text = edited_toml(old, data)
    atomic_write_text(path, text if text is not None else dumps_toml(data))


def _written(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as TOML reads it back: None values left out (TOML has no null), tuples as lists."""
    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items() if x is not None}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v
    return {k: plain(v) for k, v in data.items() if v is not None}


def edited_toml(old: str, data: dict[str, Any]) -> str | None:
    """``old`` (the text of reviewtui.toml) edited to hold ``data``: the tables, keys and categories
    that did not change keep their text and comments; a category is matched by its key. None when
    tomlkit is missing, ``old`` does not parse, or the result would not read back as ``data``."""
    try:
        import tomlkit
        from tomlkit.exceptions import TOMLKitError
    except ImportError:
        return None
    want = _written(data)
    try:
        doc = tomlkit.parse(old)
        for name in [k for k in doc if k not in want]:
            del doc[name]
        for name, value in want.items():
            have = doc.get(name)
            if have is not None and _written({name: _plain(have)}) == {name: value}:
                continue  # unchanged: its text stays as written
            if isinstance(value, dict) and isinstance(have, dict):
                _edit_table(have, value)
            elif (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
                  and isinstance(have, list)):
                doc[name] = _edited_tables(tomlkit, have, value)
            else:
                doc[name] = value
        # tables taken into a new array keep the blank lines around them: one blank line at most,
        # or every write would add more (the read back below refuses a multi-line string so changed)
        text = re.sub(r"\n{3,}", "\n\n", tomlkit.dumps(doc))
    except (TOMLKitError, ValueError, TypeError, KeyError):
        return None
    try:
        if tomllib.loads(text) != want:
            return None
    except tomllib.TOMLDecodeError:
        return None
    return text


def _plain(item: Any) -> Any:
    """A tomlkit item as the plain Python value it holds."""
    return item.unwrap() if hasattr(item, "unwrap") else item


def _edit_table(table: Any, values: dict[str, Any]) -> Any:
    """Set ``table``'s keys to ``values`` in place: changed keys rewritten, missing ones removed.
    Returns ``table``."""
    for k in [k for k in table if k not in values]:
        del table[k]
    for k, v in values.items():
        old = table.get(k)
        if old is None or _plain(old) != v:
            table[k] = v
    return table


def _edited_tables(tomlkit: Any, old: list, items: list[dict[str, Any]]) -> Any:
    """An array of tables holding ``items``; each one whose ``key`` an ``old`` table has is that
    table edited (its comments kept), the others new."""
    by_key = {t.get("key"): t for t in old if hasattr(t, "get") and t.get("key") is not None}
    out = tomlkit.aot()
    for item in items:
        table = by_key.pop(item.get("key"), None)
        out.append(_edit_table(tomlkit.table() if table is None else table, item))
    return out


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime in ns) of ``path``; None when it cannot be read. A write through a
    temporary file and a rename (as :func:`write_toml` does) changes the inode."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


__all__ = ["CONFIG_NAME", "Category", "Config", "DEFAULT_CATEGORIES", "Taxonomy", "atomic_write_bytes",
           "atomic_write_text", "category_key", "dumps_toml", "write_toml"]
