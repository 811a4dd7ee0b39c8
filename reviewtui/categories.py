"""A team's own taxonomy without editing TOML: create, add, change, rename, merge and remove categories.

The changes are pure functions over the ``[[categories]]`` list of reviewtui.toml: each returns a
:class:`CategoryChange` (the new list, and which labels move to which key). :func:`apply_change`
then records the moves as NEW label events in the store (the history is never rewritten; every
event carries a note saying why) and saves the new list, in one store transaction: when saving
fails, no label moved. Exported dataset versions are files and stay as they are.

Also here: taxonomies from a list of names, a team's file or a preset (``reviewtui/presets/*.toml``,
installed with the package and named by their stem: ``--taxonomy app-review``), all
following the same rules for what they leave out (:func:`with_defaults`), and the check that an
import's labels are all in the taxonomy.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from reviewtui.config import Taxonomy, category_key
from reviewtui.errors import ReviewtuiError
from reviewtui.store import CATEGORY_NOTES, STATUSES, LabelRow, LocalStore

RENAMED, MERGED = CATEGORY_NOTES  # the notes of a rename's and a merge's label events start so

#: Colours given to new categories, in order, skipping those already used.
PALETTE = ("#E4572E", "#2E86AB", "#F3A712", "#4CAF50", "#8E44AD", "#E91E63", "#00897B", "#795548",
           "#3F51B5", "#CDDC39", "#FF7043", "#26C6DA", "#9E9E9E")

#: Names of a catch-all category (any case). It is trained like any other unless the taxonomy says
#: ``train = false`` (the original project's Other was kept out of training, and its preset says so):
#: a model that never saw the catch-all puts the vague reviews ("bad", "worst app") into the trained
#: categories, and the summary then counts them there.
CATCH_ALL = ("Other",)

COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class CategoryChange:
    """A new ``[[categories]]`` list and the label moves it implies (old key -> new key)."""

    action: str                      # init, add, rename, merge, remove
    items: list[dict[str, Any]]
    relabel: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class UnknownLabel:
    """A label of an import that is not in the taxonomy: the key it would get, how it was written
    (spelling -> rows) and how many rows carry it."""

    key: str
    spellings: dict[str, int]
    rows: int

    @property
    def name(self) -> str:
        """The most frequent spelling (the first seen on a tie)."""
        return max(self.spellings, key=lambda s: self.spellings[s])


# --- building a taxonomy -------------------------------------------------------------------------
def parse_names(text: str) -> list[str]:
    """``"Bug report, Feature request, Praise"`` -> the names, stripped; a trailing comma is
    allowed. Raises ReviewtuiError for an empty name between two commas (a slip that would
    otherwise pass unseen)."""
    names = [n.strip() for n in str(text).split(",")]
    if not any(names):
        return []  # nothing given: the caller asks for at least one name
    if not names[-1]:
        names.pop()
    if any(not n for n in names):
        at = next(i for i, n in enumerate(names) if not n) + 1
        raise ReviewtuiError(f"--categories {text!r}: name #{at} is empty (two commas in a row?); give every "
                             "category a name")
    return names


def _colour(items: Sequence[Mapping[str, Any]]) -> str:
    """The first colour of :data:`PALETTE` no category of ``items`` uses; past it, the first
    unused of hues a golden angle apart (a fourteenth category got the first one's colour)."""
    import colorsys

    used = {str(i.get("colour", "")).upper() for i in items}
    for c in PALETTE:
        if c.upper() not in used:
            return c
    for n in range(1, 10_000):
        r, g, b = colorsys.hls_to_rgb((n * 0.381966) % 1.0, 0.5 if n % 2 else 0.4, 0.6)
        c = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
        if c not in used:
            return c
    return PALETTE[len(items) % len(PALETTE)]


def with_defaults(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with what a category leaves out filled in, as ``--categories`` does: ``colour`` the
    next colour of :data:`PALETTE` that no category uses, ``train`` true. A ``colour`` or ``train``
    a category sets is kept."""
    out = [dict(i) for i in items]
    used = [i for i in out if "colour" in i]  # set colours count as taken wherever they stand
    for item in out:
        if "colour" not in item:
            item["colour"] = _colour(used)
            used.append(item)
        item.setdefault("train", True)
    return out


def taxonomy_from_names(names: Sequence[str]) -> CategoryChange:
    """A new taxonomy of ``names`` (keys derived, colours from :data:`PALETTE`), every category
    trained. Raises ReviewtuiError when a name is empty or two names give the same key."""
    if not names:
        raise ReviewtuiError("give at least one category name, for example --categories \"Bug report, Feature request\"")
    items: list[dict[str, Any]] = []
    for name in names:
        key = category_key(name)
        if any(i["key"] == key for i in items):
            raise ReviewtuiError(f"categories {name!r} and {next(i['name'] for i in items if i['key'] == key)!r} "
                                 f"would both have the key {key}; name them apart")
        items.append({"key": key, "name": name.strip()})
    items = with_defaults(items)
    Taxonomy.from_list(items, where="--categories")
    return CategoryChange("init", items, note=f"taxonomy of {len(items)} categories")


#: The most distinct labels ``init --categories-from`` makes categories of; beyond :data:`FEW_LABELS`
#: distinct labels, a column also needs at least two labeled rows per label (a column of texts,
#: ids or dates has about one row per value).
MAX_CATEGORIES_FROM = 100
FEW_LABELS = 10


def taxonomy_from_labels(labels: Iterable[str | None], source: str) -> CategoryChange:
    """A new taxonomy of the labels a file gives (``init --categories-from``): one category per key
    the labels give as an import matches them ("Bug Report" and "bug report" are one), named by its
    most frequent spelling, the most frequent label first; every category trained, colours from
    :data:`PALETTE`. Raises ReviewtuiError, naming ``source``, when no row has a label."""
    groups = unknown_labels(labels, None)
    if not groups:
        raise ReviewtuiError(f"{source} has no labels (every row is blank there); name the column that holds "
                             "the labels with --label-col")
    labeled = sum(g.rows for g in groups)
    if len(groups) > MAX_CATEGORIES_FROM or (len(groups) > FEW_LABELS and 2 * len(groups) > labeled):
        raise ReviewtuiError(
            f"{source} gives {len(groups):,} distinct labels over {labeled:,} labeled rows: not a column of "
            f"categories (a label column repeats a few labels; at most {MAX_CATEGORIES_FROM}, and at most one "
            "distinct label per two labeled rows); name the column that holds the labels with --label-col, or "
            "give the categories with --categories")
    items = with_defaults([{"key": g.key, "name": g.name} for g in groups])
    Taxonomy.from_list(items, where=source)
    return CategoryChange("init", items, note=f"taxonomy of {len(items)} categories from {source}")


#: The taxonomy presets, installed with the package: ``--taxonomy NAME`` takes one by its file's stem.
PRESETS_DIR = Path(__file__).with_name("presets")


def preset_names() -> list[str]:
    """The presets' names (their files' stems), sorted."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def taxonomy_file(source: str | Path) -> Path:
    """The taxonomy file ``source`` names: a file that exists, else a preset by its name
    (``app-review``), also by the path the presets had before they were installed with the package
    (``data/taxonomies/medium.toml``); any other path that is not a file is an error. Raises
    ReviewtuiError naming the presets when it is neither."""
    p = Path(source)
    if p.is_file():
        return p
    name = p.stem if p.suffix.lower() == ".toml" else p.name
    former = p.parts[-3:-1] == ("data", "taxonomies")  # where the presets were kept before
    bare = "/" not in str(source) and "\\" not in str(source)  # app-review or app-review.toml, no folder
    if name in preset_names() and (bare or former):
        return PRESETS_DIR / f"{name}.toml"
    raise ReviewtuiError(f"{source}: no such taxonomy file or preset; give the path of a TOML file of "
                         f"[[categories]], or a preset: {', '.join(preset_names())}")


def load_preset(path: str | Path) -> CategoryChange:
    """The ``[[categories]]`` of a taxonomy file or preset (:func:`taxonomy_file`), validated; a
    category without ``colour`` or ``train`` gets them as ``--categories`` gives them
    (:func:`with_defaults`: trained, a colour of the palette). Raises ReviewtuiError naming the
    file."""
    p = taxonomy_file(path)
    shown = p.stem if p.parent == PRESETS_DIR else str(p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReviewtuiError(f"{shown}: not valid TOML ({exc})") from exc
    items = data.get("categories")
    if not isinstance(items, list):
        raise ReviewtuiError(f"{shown}: no [[categories]] tables; a taxonomy file lists its categories as "
                             "[[categories]] with name (and key, colour, train, description, examples)")
    Taxonomy.from_list(items, where=shown)  # each item a table with a name, before filling in
    taxonomy = Taxonomy.from_list(with_defaults(items), where=shown)
    note = f"the {shown} preset" if p.parent == PRESETS_DIR else p.name
    return CategoryChange("init", taxonomy.to_list(), note=f"taxonomy from {note}")


# --- changing one ---------------------------------------------------------------------------------
def _find(items: Sequence[Mapping[str, Any]], label: str, what: str = "category") -> int:
    taxonomy = Taxonomy.from_list(list(items))
    key = taxonomy.resolve(label, former=False)
    now = taxonomy.resolve(label) if key is None else None
    if now is not None:  # labels read a former key as the category it went to; a change of the taxonomy does not
        raise ReviewtuiError(f"{label!r} is no longer a {what}: it was renamed to, or merged into, {now} "
                             f"({taxonomy.get(now).name}); name {now} to change that {what}")
    if key is None:
        known = ", ".join(f"{i['key']} ({i['name']})" for i in items)
        raise ReviewtuiError(f"no {what} {label!r}{taxonomy.did_you_mean(label)}; the taxonomy has {known}")
    return next(n for n, i in enumerate(items) if i["key"] == key)


def check_colour(colour: str, where: str) -> str:
    """``colour`` as ``#RRGGBB`` in capitals. Raises ReviewtuiError, naming ``where``, when it is not
    a ``#`` and six hex digits."""
    text = str(colour).strip()
    if not COLOUR_RE.match(text):
        raise ReviewtuiError(f"{where}: {colour!r} is not a colour of the form #RRGGBB; give a # and six hex "
                             "digits, for example --colour #2E86AB")
    return text.upper()


def add_category(items: Sequence[Mapping[str, Any]], name: str, *, key: str | None = None,
                 colour: str | None = None, train: bool = True, description: str = "",
                 examples: Sequence[str] = ()) -> CategoryChange:
    """``items`` plus a new category at the end. Raises ReviewtuiError when its key or name is taken
    or ``colour`` is not #RRGGBB."""
    name = str(name).strip()
    if not name:
        raise ReviewtuiError("categories add needs a name: reviewtui categories add \"Billing\"")
    key = key or category_key(name)
    taxonomy = Taxonomy.from_list(list(items))
    taken = taxonomy.resolve(name, former=False) or (key if key in taxonomy.keys else None)
    if taken:
        raise ReviewtuiError(f"the taxonomy already has {taken} ({taxonomy.get(taken).name}); choose another name")
    taxonomy.refuse_former(key, name)
    if any(not str(e).strip() for e in examples):
        raise ReviewtuiError(f"categories add {name}: an example is blank; give the text of a review, or no --example")
    colour = check_colour(colour, "categories add") if colour else _colour(items)
    item: dict[str, Any] = {"key": key, "name": name, "colour": colour, "train": bool(train)}
    if description:
        item["description"] = description
    if examples:
        item["examples"] = [str(e).strip() for e in examples]
    new = [dict(i) for i in items] + [item]
    Taxonomy.from_list(new, where="categories add")
    return CategoryChange("add", new, note=f"added {key}")


def set_category(items: Sequence[Mapping[str, Any]], label: str, *, train: bool | None = None,
                 colour: str | None = None, description: str | None = None,
                 examples: Sequence[str] | None = None, add_examples: Sequence[str] = ()) -> CategoryChange:
    """``label`` with ``train``, ``colour`` (#RRGGBB) and ``description`` set where given (None keeps
    what it has; a blank description removes it). ``examples`` replaces its example reviews (an
    empty list removes them); ``add_examples`` adds to them (one it has already is not added
    twice). No label moves. Raises ReviewtuiError for an unknown label, nothing to change, a colour
    that is not #RRGGBB, a blank example, or a taxonomy left with no category to train on."""
    at = _find(items, label)
    key = items[at]["key"]
    if train is None and colour is None and description is None and examples is None and not add_examples:
        raise ReviewtuiError(f"nothing to change for {key}: give --train or --no-train, --colour #RRGGBB, "
                             "--description TEXT, --example TEXT, --add-example TEXT or --no-examples")
    for text in [*(examples or ()), *add_examples]:
        if not str(text).strip():
            raise ReviewtuiError(f"categories set {key}: an example is blank; give the text of a review "
                                 "(--no-examples removes them all)")
    new = [dict(i) for i in items]
    item, changed = new[at], []
    if train is not None:
        item["train"] = bool(train)
        changed.append("trained" if train else "not trained")
        if not any(i.get("train", True) for i in new):
            raise ReviewtuiError(f"with {key} untrained no category is left to train a model on; keep it trained, "
                                 "or first train another with `reviewtui categories set NAME --train`")
    if colour is not None:
        item["colour"] = check_colour(colour, f"categories set {key}")
        changed.append(f"colour {item['colour']}")
    if description is not None:
        if description.strip():
            item["description"] = description.strip()
            changed.append("new description")
        else:
            item.pop("description", None)
            changed.append("description removed")
    if examples is not None or add_examples:
        kept = [] if examples is not None else [str(e) for e in item.get("examples", [])]
        for text in [*(examples or ()), *add_examples]:
            if str(text).strip() not in kept:
                kept.append(str(text).strip())
        if kept:
            item["examples"] = kept
        else:
            item.pop("examples", None)
        changed.append(f"{len(kept)} example{'' if len(kept) == 1 else 's'}")
    Taxonomy.from_list(new, where="categories set")
    return CategoryChange("set", new, note=f"set {key}: {', '.join(changed)}")


def rename_category(items: Sequence[Mapping[str, Any]], label: str, new_name: str, *,
                    new_key: str | None = None) -> CategoryChange:
    """Rename ``label``; its key becomes ``new_key`` or the key of ``new_name``. When the key
    changes, the assets labeled with the old key move to the new one. Raises ReviewtuiError when
    the new key belongs to another category (merge them instead)."""
    at = _find(items, label)
    old = items[at]
    new_name = str(new_name).strip()
    key = new_key or category_key(new_name)
    if not new_name or not key:
        raise ReviewtuiError("the new category name is empty")
    if key != old["key"] and any(i["key"] == key for i in items):
        raise ReviewtuiError(f"the taxonomy already has {key}; to put {old['key']} and {key} together use "
                             f"`reviewtui categories merge {old['key']} --into {key}`")
    taxonomy = Taxonomy.from_list(list(items))
    taxonomy.refuse_former(key, new_name, itself=old["key"])
    taken = taxonomy.resolve(new_name, former=False)  # a label given by name must pick one category
    if taken and taken != old["key"]:
        raise ReviewtuiError(f"the taxonomy already has {taken} named {new_name!r}; choose another name, or put "
                             f"{old['key']} and {taken} together with `reviewtui categories merge {old['key']} "
                             f"--into {taken}`")
    new = [dict(i) for i in items]
    new[at] = {**new[at], "key": key, "name": new_name}
    if key != old["key"]:  # labels, predictions and versions with the old key read as this category
        new[at]["former_keys"] = _former(new[at], [old])
    Taxonomy.from_list(new, where="categories rename")
    relabel = {old["key"]: key} if key != old["key"] else {}
    if key == old["key"]:  # the name alone: say the names (the key is what it was)
        return CategoryChange("rename", new, relabel, f"{RENAMED}{old['name']!r} to {new_name!r} (key {key} kept)")
    return CategoryChange("rename", new, relabel, f"{RENAMED}{old['key']} to {key}")


def _former(target: Mapping[str, Any], moved: Sequence[Mapping[str, Any]]) -> list[str]:
    """``target``'s former keys with the keys (and former keys) of ``moved`` added."""
    keys = [str(k) for k in target.get("former_keys", [])]
    for item in moved:
        keys += [str(item["key"]), *(str(k) for k in item.get("former_keys", []))]
    return [k for k in dict.fromkeys(keys) if k != target["key"]]


def merge_categories(items: Sequence[Mapping[str, Any]], sources: Sequence[str], into: str) -> CategoryChange:
    """Fold ``sources`` into ``into``: their assets move to ``into``'s key and they leave the
    taxonomy. Raises ReviewtuiError for an unknown label or a source equal to ``into``."""
    if not sources:
        raise ReviewtuiError("name the categories to merge")
    target = items[_find(items, into)]["key"]
    keys = []
    for s in sources:
        k = items[_find(items, s)]["key"]
        if k == target:
            raise ReviewtuiError(f"cannot merge {k} into itself")
        keys.append(k)
    keys = list(dict.fromkeys(keys))
    new = [dict(i) for i in items if i["key"] not in keys]
    at = next(n for n, i in enumerate(new) if i["key"] == target)
    new[at]["former_keys"] = _former(new[at], [i for i in items if i["key"] in keys])
    return CategoryChange("merge", new, {k: target for k in keys}, f"{MERGED}{', '.join(keys)} into {target}")


def remove_category(items: Sequence[Mapping[str, Any]], label: str | Sequence[str],
                    labeled: Mapping[str, int]) -> CategoryChange:
    """``items`` without ``label`` (a key or name, or several). ``labeled`` counts assets per key
    (:func:`label_counts`): a category still in use is refused (merge it into another instead), as
    is removing every category; nothing is removed unless all can be."""
    labels = [label] if isinstance(label, str) else list(label)
    if not labels:
        raise ReviewtuiError("name the categories to remove, or give --unused for those no review carries")
    keys = list(dict.fromkeys(items[_find(items, lab)]["key"] for lab in labels))
    used = [k for k in keys if labeled.get(k, 0)]
    if used:
        counts = ", ".join(f"{labeled[k]:,} review{' is' if labeled[k] == 1 else 's are'} labeled {k}" for k in used)
        others = [i["key"] for i in items if i["key"] not in keys]
        into = (f"--into {others[0]}`" + (f" (or another of {', '.join(others[1:4])}{', ...' if len(others) > 4 else ''})"
                                          if len(others) > 1 else "")) if others else "--into KEY`"
        raise ReviewtuiError(f"{counts}; nothing removed: move them first with "
                             f"`reviewtui categories merge {used[0]} {into}")
    new = [dict(i) for i in items if i["key"] not in keys]
    if not new:
        raise ReviewtuiError(f"{', '.join(keys)} {'is the last category' if len(keys) == 1 else 'are all the categories'}"
                             "; a taxonomy needs at least one; nothing removed")
    return CategoryChange("remove", new, note=f"removed {', '.join(keys)}")


def unused_categories(items: Sequence[Mapping[str, Any]], labeled: Mapping[str, int]) -> list[str]:
    """The keys of ``items`` no review carries (``labeled``: :func:`label_counts`), in taxonomy order."""
    return [str(i["key"]) for i in items if not labeled.get(i["key"], 0)]


# --- store side -----------------------------------------------------------------------------------
def label_counts(store: LocalStore) -> Counter:
    """Assets per effective label, skipped ones included."""
    return Counter(row[4] for row in store.labeled_rows(STATUSES))


def apply_change(store: LocalStore, change: CategoryChange, save: Callable[[list[dict[str, Any]]], None], *,
                 author: str) -> int:
    """Record ``change``'s label moves as new label events (status, skip flag and spans kept, the
    note saying why), give the stored predictions the new keys, and call ``save(change.items)``,
    all in one store transaction: if ``save`` raises, nothing moved. Returns how many assets moved."""
    with store.transaction():
        rows = []
        if change.relabel:
            # a moved label keeps the source of the label it replaces: an imported label stays the
            # import's (a newer release of the file still applies to it), a person's stays a person's
            sources = store.label_sources()
            for _id, ext, skipped, status, label, _text, _remote in store.labeled_rows(STATUSES):
                if label in change.relabel:
                    rows.append(LabelRow(ext, change.relabel[label], author, sources.get(ext, "human"), status=status,
                                         spans=store.latest_spans(ext), skipped=bool(skipped), note=change.note))
            if rows:
                store.add_labels(rows)
            store.rename_predictions(change.relabel)  # the queue's predicted= filter reads them
        save(change.items)
    return len(rows)


# --- imports with labels ----------------------------------------------------------------------------
def unknown_labels(labels: Iterable[str | None], taxonomy: Taxonomy | None) -> list[UnknownLabel]:
    """The labels (None and blanks ignored) that ``taxonomy`` does not resolve (every label when it
    is None), grouped by the key they would get ("Bug Report" and "bug report" are one), most rows
    first."""
    spellings: dict[str, Counter] = {}
    for lab in labels:
        if lab is None or not str(lab).strip() or (taxonomy is not None and taxonomy.resolve(str(lab)) is not None):
            continue
        text = str(lab).strip()
        spellings.setdefault(category_key(text), Counter())[text] += 1
    out = [UnknownLabel(k, dict(c.most_common()), sum(c.values())) for k, c in spellings.items()]
    return sorted(out, key=lambda u: (-u.rows, u.key))


#: What an import with labels outside the taxonomy can do (the end of :func:`unknown_labels_error`).
IMPORT_FIX = "import with --add-categories to add them, or add or rename categories first (`reviewtui categories`)"


def unknown_labels_error(source: str, unknown: Sequence[UnknownLabel], taxonomy: Taxonomy, *,
                         lines: Mapping[str, int] | None = None, ids: Mapping[str, str] | None = None,
                         fix: str = IMPORT_FIX) -> ReviewtuiError:
    """The one error a file with labels outside the taxonomy stops with: each label with its row
    count (``lines``: the line each key is first given on, where known, else ``ids``: the review it
    is first given to) and the category it is close to, if any; ``fix`` says what to do."""
    def one(u: UnknownLabel) -> str:
        notes = [f"{u.rows:,} row{'s' if u.rows != 1 else ''}"]
        if lines and u.key in lines:
            notes.append(f"{'line' if u.rows == 1 else 'first on line'} {lines[u.key]}")
        elif ids and u.key in ids:
            notes.append(f"{'review' if u.rows == 1 else 'first the review'} {ids[u.key]}")
        close = taxonomy.did_you_mean(u.name).strip().strip("()")
        return f"{u.name!r} ({', '.join([*notes, close] if close else notes)})"

    shown = ", ".join(one(u) for u in unknown[:8])
    more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
    return ReviewtuiError(f"{source}: {len(unknown)} label{'s' if len(unknown) != 1 else ''} not in the taxonomy "
                          f"({', '.join(taxonomy.keys)}): {shown}{more}; {fix}")


def add_unknown(items: Sequence[Mapping[str, Any]], unknown: Sequence[UnknownLabel]) -> CategoryChange:
    """``items`` plus one category per unknown label, named by its most frequent spelling."""
    new = [dict(i) for i in items]
    for u in unknown:
        new.append({"key": u.key, "name": u.name, "colour": _colour(new), "train": True})
    Taxonomy.from_list(new, where="--add-categories")
    return CategoryChange("add", new, note=f"added {', '.join(u.key for u in unknown)} from an import")


__all__ = ["AppliedChange", "CATCH_ALL", "CategoryChange", "CategoryRow", "IMPORT_FIX", "PALETTE", "UnknownLabel", "add_category",
           "add_unknown", "apply_change", "check_colour",
           "label_counts", "load_preset", "merge_categories", "preset_names", "PRESETS_DIR", "parse_names", "remove_category", "rename_category",
           "set_category", "taxonomy_file", "taxonomy_from_labels", "taxonomy_from_names", "unknown_labels", "unknown_labels_error",
           "unused_categories", "with_defaults"]


# --- what the workspace hands back ------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryRow:
    """One category of a workspace's taxonomy and how many reviews carry its label."""

    key: str
    name: str
    colour: str
    train: bool
    description: str
    examples: tuple[str, ...]
    labeled: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "colour": self.colour, "train": self.train,
                "description": self.description, "examples": list(self.examples), "labeled": self.labeled}


@dataclass(frozen=True)
class AppliedChange:
    """A :class:`CategoryChange` saved to a workspace, and how many reviews got a new label event."""

    change: CategoryChange
    moved: int
