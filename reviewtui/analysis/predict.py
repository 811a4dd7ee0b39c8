"""Predicting the category and sentiment of every asset in the store: ``results/result.csv``.

The work is split into fixed chunks of assets (in store order). Each finished chunk's
probabilities and sentiments are saved under ``results/.predict/<run key>/`` at once, so a run that
is killed or cancelled resumes where it stopped; the run key covers the model, its precision, the
sentiment option, the asset ids and the chunk size, so a resumed run gives the same file a fresh run
would (a run given no chunk size takes the interrupted run's, so a run stopped with
``--chunk-size N`` resumes without it too). ``result.csv`` (and the same rows as Parquet parts under ``result-parts/``) are written
atomically once every chunk is done, then the chunks are removed. ``result.json`` records the run:
the model, the device, the precision it ran in and why (``precision``).

A saved model streams the chunks through ``SavedClassifier.predict_chunks`` (the next chunk is
tokenised while the model runs the current one; token-budget batches; bf16 on a GPU, on the CPU bf16
where it is native, else int8, when the model's check allows it). With ``ray_address`` the chunks run on a Ray cluster instead
(:mod:`reviewtui.analysis.predict_ray`), into the same files. The quick model fitted on the current
labels embeds through the workspace embedding cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence

import numpy as np

from reviewtui.analysis.results import QUICK_MODEL, RESULT_META, RESULT_NAME, WRITING_MARK
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, ShiftedProgress, emit
from reviewtui.files import atomic_write_bytes, atomic_write_text, make_temp_dir, replace_dir, utc_now
from reviewtui.modeling import Cancelled
from reviewtui.settings import PredictSettings, SentimentSettings
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache

#: The folder of Parquet parts holding the same rows as result.csv.
RESULT_PARTS = "result-parts"
#: Rows per Parquet part.
PART_ROWS = 131_072
RUN_RECORD = "run.json"
RESULT_COLUMNS = ["reviewId", "content", "score", "app", "reviewCreatedVersion", "at", "thumbsUpCount",
                  "predicted_category", "confidence", "sentiment", "sentiment_score", "model"]
CHUNK_SIZE = 2048
#: Reviews per chunk on a GPU: a 2048-review chunk is a few tens of milliseconds there, and each
#: chunk costs a device sync and a file write.
GPU_CHUNK_SIZE = 16384
SENTIMENT_CODES = ("negative", "neutral", "positive", "")


class Classifier(Protocol):
    """What predict needs from a model: texts -> (N, K) probabilities in ``labels`` order.

    A classifier may also have ``prepare(sample, on_event) -> dict`` (load, choose the precision:
    the dict the run records) and ``predict_chunks(chunks, on_event, cancel, total)`` (a stream
    of arrays, one per chunk); predict uses them when present.
    """

    name: str
    labels: list[str]

    def fingerprint(self) -> str: ...

    def predict_proba(self, texts: Sequence[str], on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray: ...


def labeled_keys(store: LocalStore, taxonomy: Taxonomy) -> set[str]:
    """The categories (current keys) that have training labels in ``store``, from its running counts."""
    from reviewtui.store import TRAINING_STATUSES

    return {taxonomy.current(k) for k, n in store.label_counts(TRAINING_STATUSES).items() if n}


class SavedModel:
    """A saved model folder (fine-tuned or quick), through the modeling package's SavedClassifier,
    predicting in ``precision`` ("auto", "fp32", "bf16", "int8") on ``device`` (None: the best).

    With ``labeled`` (:func:`labeled_keys`), a model trained before categories without labels yet
    were added predicts the others: ``unlearnt`` has their keys, and a notice says so."""

    def __init__(self, models_dir: Path, name: str, *, cache_dir: Path, taxonomy: Taxonomy, precision: str = "auto",
                 device: str | None = None, labeled: set[str] | None = None,
                 on_event: EventSink | None = None) -> None:
        from reviewtui.modeling.card import list_cards
        from reviewtui.modeling.inference import SavedClassifier

        folder = Path(models_dir) / name
        if not folder.is_dir():
            known = ", ".join(c.name for c in list_cards(models_dir)) or "none yet"
            raise ReviewtuiError(f"no model {name!r} in {models_dir} (saved models: {known}); "
                                 "train one with reviewtui train, or use --model quick")
        self.inner = SavedClassifier.load(folder, cache_dir=cache_dir, precision=precision, device=device)
        self.unlearnt = self.inner.check_taxonomy(taxonomy.training_keys, taxonomy.current, labeled)
        self.name = self.inner.name
        if self.unlearnt:
            names = [taxonomy.get(k).name for k in self.unlearnt]
            one = len(names) == 1
            emit(on_event, Notice("warning", (
                f"model {self.name} was trained before {', '.join(names)} {'was' if one else 'were'} added, so no "
                f"review is predicted as {' or '.join(names)}: label reviews of {'it' if one else 'them'}, then "
                "reviewtui export and reviewtui train")))
        self.labels = [taxonomy.current(k) for k in self.inner.labels]  # a renamed category by its key now
        self.folder = folder

    def fingerprint(self) -> str:
        stamp = max((p.stat().st_mtime_ns for p in self.folder.iterdir() if p.is_file()), default=0)
        return f"saved:{self.name}:{self.inner.card.created_at}:{stamp}:{self.inner.precision}"

    def prepare(self, sample: Sequence[str], on_event: EventSink | None = None) -> dict[str, Any]:
        return self.inner.prepare(sample, on_event)

    def predict_chunks(self, chunks, on_event=None, cancel=None, total=None) -> Iterator[np.ndarray]:
        return self.inner.predict_chunks(chunks, on_event=on_event, cancel=cancel, total=total)

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        return self.inner.predict_proba(texts, on_event=on_event, cancel=cancel)


class QuickFromLabels:
    """The quick model fitted on the store's current training labels, with inverse regularisation ``C``."""

    name = QUICK_MODEL

    def __init__(self, store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache", C: float,
                 on_event: EventSink | None = None, cancel: threading.Event | None = None) -> None:
        from reviewtui.modeling.quick import QuickModel

        ids, texts, labels = store.training_assets(taxonomy.training_keys)
        if len(set(labels)) < 2:
            raise ReviewtuiError(no_model_message(len(labels)))
        self.cache = cache
        X = self.cache.embed(texts, on_event=on_event, cancel=cancel)
        self.model = QuickModel(C=C).fit(X, labels)
        self.labels = [k for k in taxonomy.training_keys if k in self.model.classes_]
        pairs = "\n".join(f"{i}\t{lab}" for i, lab in sorted(zip(ids, labels)))
        self._fp = f"quick:{self.cache.folder.name}:{hashlib.sha1(pairs.encode()).hexdigest()}"

    def fingerprint(self) -> str:
        return self._fp

    def prepare(self, sample: Sequence[str], on_event: EventSink | None = None) -> dict[str, Any]:
        return {"precision": "fp32", "requested": "fp32", "device": None,
                "reason": "quick model on cached embeddings", "check": None}

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        X = self.cache.embed(list(texts), on_event=on_event, cancel=cancel)
        return self.model.proba_for(X, self.labels)


NO_REVIEWS = "the workspace has no reviews to predict: import some first (reviewtui import FILE.csv)"


def no_model_message(labels: int) -> str:
    """Why predict has no model: none saved, and ``labels`` training labels in fewer than two categories."""
    return ("no model to predict with: no saved model in models/ and fewer than two training categories "
            f"labeled ({labels} labels); train one (reviewtui train) or label more reviews")


RAY_NEEDS_SAVED = ("prediction on a Ray cluster needs a saved model: train one (reviewtui train) "
                   "or name one with --model")


def check_predict_options(*, sentiment: str, chunk_size: int | None, precision: str, ray_address: str | None,
                          max_length: int) -> str:
    """The mistakes in predict's options found without loading a model or reading the reviews: a
    chunk size below 1, a precision or a sentiment predict does not take, a Ray cluster that does
    not answer. Raises ReviewtuiError naming the option; returns the precision asked for.
    :func:`predict_assets` calls it first, and the workspace before it starts a predict job."""
    from reviewtui.analysis.sentiment import check_sentiment
    from reviewtui.modeling.precision import validate_precision

    want = validate_precision(precision)
    if chunk_size is not None and chunk_size < 1:
        raise ReviewtuiError(f"chunk size must be at least 1, not {chunk_size}")
    check_sentiment(sentiment, max_length=max_length)
    if ray_address:
        from reviewtui.modeling.tuning import check_reachable

        check_reachable(ray_address)
    return want


def sentiment_embeddings(embeddings: Callable[[], "EmbeddingCache"], spec: str,
                         chosen: str = "") -> "EmbeddingCache":
    """``embeddings()`` for the star-trained or the team sentiment, whose failure to resolve
    [model] base is said as the sentiment's: it is the sentiment option that needs the encoder
    (``chosen``: why "auto" chose ``spec``)."""
    try:
        return embeddings()
    except ReviewtuiError as exc:
        how = f"chosen by --sentiment auto: {chosen}" if chosen else "--sentiment, or [sentiment] model"
        raise ReviewtuiError(f"the {spec} sentiment ({how}) embeds the reviews with [model] base, which cannot be "
                             f"used here: {exc}; or predict with --sentiment vader, which needs no model") from exc


def resolve_classifier(model: str | None, *, store: LocalStore, taxonomy: Taxonomy, models_dir: Path,
                       cache_dir: Path, embeddings: Callable[[], "EmbeddingCache"], C: float,
                       precision: str = "auto", device: str | None = None,
                       on_event: EventSink | None = None, cancel: threading.Event | None = None) -> Classifier:
    """The classifier for ``model``: a saved model's name (a folder of ``models_dir``), "quick"
    (fitted now on the store's training labels, with ``C``, embedding through ``embeddings()``),
    or None for the newest saved model, falling back to the quick model. A saved model predicts in
    ``precision`` on ``device``. Raises ReviewtuiError when there is no model to use or the saved
    one was trained on another taxonomy (categories added since without labels yet excepted: a
    notice names them)."""
    if model and model.lower() != "quick":
        return SavedModel(models_dir, model, cache_dir=cache_dir, taxonomy=taxonomy, precision=precision,
                          device=device, labeled=labeled_keys(store, taxonomy), on_event=on_event)
    if not model:
        from reviewtui.modeling.card import list_cards

        cards = list_cards(models_dir)
        if cards:
            _say_a_better_model(cards, on_event)
            return SavedModel(models_dir, cards[-1].name, cache_dir=cache_dir, taxonomy=taxonomy,
                              precision=precision, device=device, labeled=labeled_keys(store, taxonomy),
                              on_event=on_event)
        emit(on_event, Notice("info", "no saved model: predicting with the quick model on the current labels"))
    return QuickFromLabels(store, taxonomy, embeddings(), C, on_event=on_event, cancel=cancel)


def _say_a_better_model(cards: Sequence[Any], on_event: EventSink | None, margin: float = 0.01) -> None:
    """Without --model predict takes the newest saved model; when another model of the same dataset
    version has a test accuracy higher by more than ``margin`` on its card, measured the same way
    (cross-validated over every label, or on a test split: the two are not comparable), a notice
    names it."""
    newest = cards[-1]
    mine = newest.metrics.get("accuracy")
    if mine is None or not newest.dataset_version:
        return

    def cross_validated(card: Any) -> bool:
        return "cv_folds" in (card.splits or {})

    rivals = [c for c in cards[:-1] if c.dataset_version == newest.dataset_version
              and cross_validated(c) == cross_validated(newest)
              and c.metrics.get("accuracy") is not None and c.metrics["accuracy"] > mine + margin]
    if rivals:
        best = max(rivals, key=lambda c: c.metrics["accuracy"])
        emit(on_event, Notice("warning", f"predicting with {newest.name}, the newest model; {best.name}, trained on "
                                         f"the same {newest.dataset_version}, has a higher accuracy on its card "
                                         f"({best.metrics['accuracy']:.3f} against {mine:.3f}): --model {best.name} "
                                         "predicts with it"))


@dataclass
class PredictResult:
    """What ``predict_assets`` wrote. ``resumed_chunks`` were found done from an earlier run;
    ``precision`` is the precision the model ran in (fp32, bf16, int8) and ``precision_info`` why
    (requested, device, reason, the agreement check); ``ray_address`` the cluster it ran on, if any."""

    path: Path
    rows: int
    model: str
    sentiment: str
    chunks: int
    resumed_chunks: int
    seconds: float
    device: str
    counts: dict[str, int] = field(default_factory=dict)
    sentiment_counts: dict[str, int] = field(default_factory=dict)
    precision: str = "fp32"
    precision_info: dict[str, Any] = field(default_factory=dict)
    ray_address: str | None = None
    parts_dir: Path | None = None
    sentiment_choice: str = ""  # why [sentiment] model = "auto" ran this sentiment
    #: each review's category and confidence as result.csv has them, for the store (not in result.json)
    predictions: "Predictions | None" = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("predictions", None)
        d["path"] = str(self.path)
        d["parts_dir"] = str(self.parts_dir) if self.parts_dir is not None else None
        return d


@dataclass(frozen=True)
class Predictions:
    """Each review's predicted category and confidence, as result.csv holds them (the confidence
    rounded to 4 places), kept compactly: external ids, the labels, one label index and one
    confidence per review. ``items()`` gives (external id, (category, confidence)) pairs, what
    ``LocalStore.set_predictions`` reads, without result.csv being read back."""

    ids: list[str]
    labels: list[str]
    codes: np.ndarray
    confidences: list[float]

    def __len__(self) -> int:
        return len(self.ids)

    def items(self) -> Iterator[tuple[str, tuple[str, float]]]:
        labels = self.labels
        return ((ext, (labels[int(code)], conf)) for ext, code, conf in zip(self.ids, self.codes, self.confidences))


#: Characters per token of English review text, about: what tells a review longer than the model reads.
CHARS_PER_TOKEN = 4


def _say_long_texts(assets: Sequence[Any], max_length: int, on_event: EventSink | None, share: float = 0.1) -> None:
    """Say when ``share`` or more of the reviews are longer than the ``max_length`` tokens a model
    reads (about :data:`CHARS_PER_TOKEN` characters a token): each is classified by its start."""
    limit = max_length * CHARS_PER_TOKEN
    long = sum(1 for a in assets if len(a.text) > limit)
    if assets and long >= share * len(assets):
        emit(on_event, Notice("info", f"{long:,} of the {len(assets):,} reviews ({long / len(assets):.0%}) are longer "
                                      f"than the model reads (about {max_length} tokens, [model] max_length): each "
                                      "is classified by its start; a model trained with a larger max_length reads "
                                      "more of them, and takes longer"))


def save_chunk(path: Path, **arrays: np.ndarray) -> None:
    """Write one finished chunk's arrays (proba, sent, sent_score) atomically."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_chunk(path: Path, rows: int, k: int) -> dict[str, np.ndarray] | None:
    """A chunk saved by :func:`save_chunk` with ``rows`` rows and ``k`` labels, or None when it is
    missing, torn or of another shape."""
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {key: data[key] for key in ("proba", "sent", "sent_score")}
    except (OSError, ValueError, KeyError):
        return None
    if out["proba"].shape != (rows, k) or len(out["sent"]) != rows:
        return None
    return out


@dataclass
class PredictRun:
    """One predict run being computed: the assets, the model, the chunk layout and where chunks go."""

    assets: list
    clf: Any
    analyzer: Any
    sentiment: str
    chunk_size: int
    run_dir: Path
    precision: dict[str, Any]
    device: str
    sentiment_choice: str = ""  # why [sentiment] model = "auto" ran ``sentiment``

    @property
    def n(self) -> int:
        return len(self.assets)

    @property
    def k(self) -> int:
        return len(self.clf.labels)

    def bounds(self, ci: int) -> tuple[int, int]:
        start = ci * self.chunk_size
        return start, min(self.n, start + self.chunk_size)

    @property
    def chunks(self) -> int:
        return (self.n + self.chunk_size - 1) // self.chunk_size

    def texts(self, ci: int) -> list[str]:
        start, stop = self.bounds(ci)
        return [a.text for a in self.assets[start:stop]]

    def chunk_path(self, ci: int) -> Path:
        return self.run_dir / f"chunk-{ci:05d}.npz"


def _chunk_stream(run: PredictRun, pending: list[int], on_event: EventSink | None,
                  cancel: threading.Event | None, ready: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """(chunk index, probabilities) for every pending chunk, in order, on this process. Progress
    is re-tagged "predict" (the model's own task, "embed", as its detail) and counts the reviews
    of the whole run: ``ready`` (those of resumed chunks) plus every one predicted so far."""
    clf = run.clf
    if hasattr(clf, "predict_chunks"):  # its progress counts over all the chunks it is given
        total = sum(run.bounds(ci)[1] - run.bounds(ci)[0] for ci in pending)
        stream = clf.predict_chunks((run.texts(ci) for ci in pending),
                                    on_event=ShiftedProgress(on_event, ready, run.n, "predict"),
                                    cancel=cancel, total=total)
        for ci, proba in zip(pending, stream):
            yield ci, proba
        return
    done = ready
    for ci in pending:
        texts = run.texts(ci)
        yield ci, clf.predict_proba(texts, on_event=ShiftedProgress(on_event, done, run.n, "predict"), cancel=cancel)
        done += len(texts)


def _interrupted_chunk_size(runs: Path, run_key: Callable[[int], str]) -> int | None:
    """The chunk size of an interrupted run of the same model, sentiment and reviews under ``runs``
    (its folder named by ``run_key`` of the chunk size its record keeps), else None."""
    if not runs.is_dir():
        return None
    for folder in runs.iterdir():
        try:
            size = int(json.loads((folder / RUN_RECORD).read_text(encoding="utf-8")).get("chunk_size") or 0)
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        if size > 0 and folder.name == run_key(size):
            return size
    return None


def predict_assets(store: LocalStore, taxonomy: Taxonomy, *, models_dir: Path, cache_dir: Path, results_dir: Path,
                   embeddings: Callable[[], "EmbeddingCache"], sentiment: str, max_length: int, C: float,
                   model: str | None = None, chunk_size: int | None = None, settings: PredictSettings | None = None,
                   precision: str | None = None, device: str | None = None, ray_address: str | None = None,
                   on_event: EventSink | None = None, cancel: threading.Event | None = None,
                   sentiment_settings: SentimentSettings | None = None) -> PredictResult:
    """Predict category, confidence and sentiment for every asset of ``store`` and write
    ``results_dir/result.csv``, the same rows as Parquet parts in ``results_dir/result-parts/``,
    and the run's record ``result.json``.

    ``model`` is as in :func:`resolve_classifier` (a saved model in ``models_dir``, "quick" with
    ``C``, or None). ``sentiment`` is "vader", "stars", "team" (trained on the team's sentiment
    labels with ``sentiment_settings``, see :class:`reviewtui.analysis.sentiment_model.TeamAnalyzer`),
    a sentiment model folder (run with ``max_length`` tokens), or "none". ``embeddings`` gives the
    embedding cache when the quick model or the star head needs one. ``chunk_size`` is the reviews
    per resumable chunk (default :data:`CHUNK_SIZE`, :data:`GPU_CHUNK_SIZE` on a GPU). ``settings``
    is the [predict] section; ``precision`` overrides its precision; ``device`` forces a device.
    With ``ray_address`` a saved model runs on that Ray cluster (sentiment stays on this process).
    Emits Progress("predict"/"sentiment", done, total). Raises ReviewtuiError on an empty store,
    no usable model or a bad sentiment model (before anything is written), and Cancelled when
    ``cancel`` is set (finished chunks are kept for the next run).
    """
    settings = settings or PredictSettings()
    want = check_predict_options(sentiment=sentiment, chunk_size=chunk_size, precision=precision or settings.precision,
                                 ray_address=ray_address, max_length=max_length)
    t0 = time.perf_counter()
    assets = list(store.iter_assets())
    if not assets:
        raise ReviewtuiError(NO_REVIEWS)
    spec = str(sentiment)
    analyzer = None
    chosen = ""  # why "auto" ran what it ran
    if spec.strip().lower() == "auto":
        from reviewtui.analysis.sentiment import choose_sentiment

        spec, chosen = choose_sentiment([a.metadata.get("score") for a in assets], store.counts_by_sentiment(),
                                        (sentiment_settings or SentimentSettings()).min_team_labels)
    if spec.lower() == "team":
        from reviewtui.analysis.sentiment_model import TeamAnalyzer

        analyzer = TeamAnalyzer(store, sentiment_embeddings(embeddings, spec, chosen),
                                sentiment_settings or SentimentSettings()).fit(on_event=on_event, cancel=cancel)
    elif spec.lower() not in ("none", "off", ""):
        from reviewtui.analysis.sentiment import make_analyzer

        analyzer = make_analyzer(spec, max_length=max_length, store=store, assets=assets,
                                 embeddings=lambda: sentiment_embeddings(embeddings, spec, chosen),
                                 on_event=on_event, cancel=cancel)
    clf = resolve_classifier(model, store=store, taxonomy=taxonomy, models_dir=models_dir, cache_dir=cache_dir,
                             embeddings=embeddings, C=C, precision=want, device=device, on_event=on_event,
                             cancel=cancel)
    _say_long_texts(assets, int(getattr(clf, "max_length", None) or max_length), on_event)
    if ray_address:
        if not isinstance(clf, SavedModel):
            raise ReviewtuiError(RAY_NEEDS_SAVED)
        info = {"precision": want, "requested": want, "device": "ray", "reason": "chosen by each Ray actor",
                "check": None}
        fp = f"{clf.fingerprint()}|ray:{want}"
    else:
        info = clf.prepare([a.text for a in assets[:chunk_size or CHUNK_SIZE]], on_event) if hasattr(clf, "prepare") else {}
        fp = clf.fingerprint()
        ran = str(info.get("precision") or "fp32")
        if want != "auto" and ran != want:  # asked for by name (--precision, [predict]), and not what ran: said
            emit(on_event, Notice("warning", f"precision {want} was asked for, and the model ran in {ran}: "
                                             f"{info.get('reason') or 'the only precision it has here'}"))
    from reviewtui.modeling.loading import best_device

    run_device = "ray" if ray_address else str(info.get("device") or device or best_device())
    n, k = len(assets), len(clf.labels)
    ids_hash = hashlib.sha1("\n".join(a.external_id + "\t" + a.text for a in assets).encode()).hexdigest()
    sent_fp = analyzer.fingerprint() if analyzer is not None else "none"

    def run_key(size: int) -> str:
        return hashlib.sha1(f"{fp}|{sent_fp}|{ids_hash}|{size}".encode()).hexdigest()[:16]

    runs = results_dir / ".predict"
    if chunk_size is None:  # the same run stopped with --chunk-size N resumes in its chunks, not over again
        chunk_size = _interrupted_chunk_size(runs, run_key) or (GPU_CHUNK_SIZE if run_device == "cuda" else CHUNK_SIZE)
    key = run_key(chunk_size)
    run_dir = runs / key
    run_dir.mkdir(parents=True, exist_ok=True)
    for other in runs.iterdir():  # chunks of another model/corpus can never be resumed
        if other.is_dir() and other.name != key:
            shutil.rmtree(other, ignore_errors=True)
    record = {"model": clf.name, "sentiment": spec, "sentiment_choice": chosen, "rows": n, "chunk_size": chunk_size,
              "started": utc_now(),
              "device": run_device, "precision": info, "ray_address": ray_address}
    atomic_write_text(run_dir / RUN_RECORD, json.dumps(record, indent=2) + "\n")
    run = PredictRun(assets, clf, analyzer, spec, chunk_size, run_dir, info, run_device, chosen)

    proba = np.zeros((n, k), dtype=np.float32)
    sent = np.full(n, 3, dtype=np.int8)
    sent_score = np.zeros(n, dtype=np.float32)
    pending: list[int] = []
    resumed = 0
    for ci in range(run.chunks):
        start, stop = run.bounds(ci)
        path = run.chunk_path(ci)
        done = load_chunk(path, stop - start, k) if path.exists() else None
        if done is None:
            pending.append(ci)
            continue
        resumed += 1
        proba[start:stop], sent[start:stop], sent_score[start:stop] = done["proba"], done["sent"], done["sent_score"]
    finished = run.chunks - len(pending)
    waiting = set(pending)
    resumed_rows = sum(run.bounds(ci)[1] - run.bounds(ci)[0] for ci in range(run.chunks) if ci not in waiting)
    if pending and cancel is not None and cancel.is_set():
        raise Cancelled(f"prediction cancelled after {resumed_rows} of {n} reviews; run it again to resume")
    precisions: set[str] = set()
    if ray_address:
        from reviewtui.analysis.predict_ray import ray_chunk_stream

        stream = ray_chunk_stream(run, pending, address=ray_address, settings=settings, precision=want,
                                  on_event=on_event, cancel=cancel, precisions=precisions)
    else:
        stream = _chunk_stream(run, pending, on_event, cancel, ready=resumed_rows)
    done_rows = resumed_rows  # reviews with a category and a sentiment, counted in the order they come
    try:
        for ci, p in stream:
            start, stop = run.bounds(ci)
            s_idx = np.full(stop - start, 3, dtype=np.int8)
            s_score = np.zeros(stop - start, dtype=np.float32)
            if analyzer is not None:
                out = analyzer.analyze(run.texts(ci), on_event=ShiftedProgress(on_event, done_rows, n, "sentiment"),
                                       cancel=cancel)
                s_idx = np.array([SENTIMENT_CODES.index(lab) for lab in out.labels], dtype=np.int8)
                s_score = np.asarray(out.scores, dtype=np.float32)
            p = np.asarray(p, dtype=np.float32)
            save_chunk(run.chunk_path(ci), proba=p, sent=s_idx, sent_score=s_score)
            proba[start:stop], sent[start:stop], sent_score[start:stop] = p, s_idx, s_score
            finished += 1
            done_rows += stop - start
            emit(on_event, Progress("predict", done_rows, n, f"chunk {finished}/{run.chunks}"))
    except Cancelled as exc:
        raise Cancelled(f"prediction cancelled ({exc}); finished chunks are kept: run it again to resume") from exc
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    if ray_address and precisions:
        info = {**info, "precision": "+".join(sorted(precisions)), "reason": "chosen by each Ray actor"}
    return _write_results(run, results_dir, proba, sent, sent_score, resumed=resumed, seconds=time.perf_counter() - t0,
                          info=info, ray_address=ray_address, on_event=on_event)


def _write_results(run: PredictRun, results_dir: Path, proba: np.ndarray, sent: np.ndarray, sent_score: np.ndarray,
                   *, resumed: int, seconds: float, info: dict[str, Any], ray_address: str | None,
                   on_event: EventSink | None = None) -> PredictResult:
    """result.csv, the Parquet parts and result.json from a finished run's arrays; removes the chunks.
    The earlier parts are removed; where they cannot be, a notice says where they were left."""
    from reviewtui.analysis.export import write_csv_atomic

    clf = run.clf
    pred = proba.argmax(axis=1)
    rows = []
    confidences: list[float] = []
    counts: dict[str, int] = {lab: 0 for lab in clf.labels}
    scounts: dict[str, int] = {}
    for i, a in enumerate(run.assets):
        m = a.metadata
        label = clf.labels[int(pred[i])]
        counts[label] += 1
        s = SENTIMENT_CODES[int(sent[i])]
        if s:
            scounts[s] = scounts.get(s, 0) + 1
        confidence = round(float(proba[i, pred[i]]), 4)
        confidences.append(confidence)
        rows.append([a.external_id, a.text, m.get("score", ""), m.get("app", ""), m.get("app_version", ""),
                     m.get("at", ""), m.get("thumbs_up", ""), label, confidence, s,
                     round(float(sent_score[i]), 4) if s else "", clf.name])
    results_dir.mkdir(parents=True, exist_ok=True)
    # the three files are replaced one after the other: the mark says so until the last is in place
    mark = results_dir / WRITING_MARK
    atomic_write_text(mark, json.dumps({"pid": os.getpid(), "started": utc_now()}) + "\n")
    # each file is written whole beside the one it replaces first, then the three are put in place
    # one after the other: a failure or a Ctrl-C while they are written leaves the last results as
    # they were (only a kill between the renames leaves the mark)
    out_path, meta_path = results_dir / RESULT_NAME, results_dir / RESULT_META
    staged: list[Path] = []
    try:
        staged.append(write_csv_atomic(results_dir / f".{RESULT_NAME}.new", RESULT_COLUMNS, rows))
        parts_tmp = write_parts(results_dir / RESULT_PARTS, rows, place=False)
        if parts_tmp is not None:
            staged.append(parts_tmp)
        result = PredictResult(out_path, run.n, clf.name, run.sentiment if run.analyzer is not None else "none",
                               run.chunks, resumed, seconds, run.device, counts, scounts,
                               precision=str(info.get("precision") or "fp32"), precision_info=info,
                               ray_address=ray_address, parts_dir=results_dir / RESULT_PARTS if parts_tmp else None,
                               sentiment_choice=run.sentiment_choice if run.analyzer is not None else "",
                               predictions=Predictions([a.external_id for a in run.assets], list(clf.labels),
                                                       pred.astype(np.int32), confidences))
        meta = {**result.to_dict(), "labels": clf.labels, "created": utc_now()}
        staged.append(atomic_write_text(results_dir / f".{RESULT_META}.new", json.dumps(meta, indent=2) + "\n"))
    except BaseException:
        for path in staged:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        mark.unlink(missing_ok=True)  # nothing was replaced
        raise
    os.replace(staged[0], out_path)
    if parts_tmp is not None:
        replace_dir(parts_tmp, results_dir / RESULT_PARTS, on_left=lambda old: emit(on_event, Notice(
            "warning", f"the earlier result parts could not be removed: they are left in {old}; remove that "
                       "folder (it is no longer used)")))
    os.replace(staged[-1], meta_path)
    mark.unlink(missing_ok=True)
    shutil.rmtree(run.run_dir, ignore_errors=True)
    return result


def write_parts(folder: Path, rows: list[list[Any]], part_rows: int = PART_ROWS, *,
                place: bool = True) -> Path | None:
    """The rows of result.csv as Parquet parts ``part-00000.parquet``... in ``folder``, replacing
    the folder atomically (written beside it, then renamed into place). Returns ``folder``, or
    None when pyarrow is not installed (the CSV is the result; the parts are a convenience). Not
    ``place``: the folder written beside it is returned, for the caller to put in place
    (:func:`reviewtui.files.replace_dir`)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - Ray Data brings pyarrow
        return None
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(folder.parent, prefix=f".{folder.name}.", suffix=".tmp")
    try:
        text = ("reviewId", "content", "score", "app", "reviewCreatedVersion", "at", "thumbsUpCount", "predicted_category")
        for part, start in enumerate(range(0, max(1, len(rows)), part_rows)):
            chunk = rows[start:start + part_rows]
            cols = list(zip(*chunk)) if chunk else [()] * len(RESULT_COLUMNS)
            arrays = {}
            for name, values in zip(RESULT_COLUMNS, cols):
                if name in text or name in ("sentiment", "model"):
                    arrays[name] = pa.array(["" if v is None else str(v) for v in values], pa.string())
                else:  # confidence, sentiment_score: numbers, empty = null
                    arrays[name] = pa.array([None if v == "" else float(v) for v in values], pa.float32())
            pq.write_table(pa.table(arrays), tmp / f"part-{part:05d}.parquet")
        if not place:
            return tmp
        replace_dir(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
