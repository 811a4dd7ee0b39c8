"""Predicting the category and sentiment of every asset in the store: ``results/result.csv``.

The work is split into fixed chunks of assets (in store order). Each finished chunk's
probabilities and sentiments are saved under ``results/.predict/<run key>/`` at once, so a run that
is killed or cancelled resumes where it stopped; the run key covers the model, the sentiment
option, the asset ids and the chunk size, so a resumed run gives the same file a fresh run would.
``result.csv`` is written atomically once every chunk is done, then the chunks are removed.

Inside a chunk the classifier runs length-sorted batches in inference mode on the GPU when there
is one (``SavedClassifier`` for saved models; cached embeddings + the quick model otherwise).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

import numpy as np

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.files import atomic_write_bytes, atomic_write_text, utc_now
from reviewtui.modeling import Cancelled
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache

RESULT_NAME = "result.csv"
RESULT_META = "result.json"
RUN_RECORD = "run.json"
RESULT_COLUMNS = ["reviewId", "content", "score", "app", "reviewCreatedVersion", "at", "thumbsUpCount",
                  "predicted_category", "confidence", "sentiment", "sentiment_score", "model"]
CHUNK_SIZE = 2048
SENTIMENT_CODES = ("negative", "neutral", "positive", "")


class Classifier(Protocol):
    """What predict needs from a model: texts -> (N, K) probabilities in ``labels`` order."""

    name: str
    labels: list[str]

    def fingerprint(self) -> str: ...

    def predict_proba(self, texts: Sequence[str], on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray: ...


class SavedModel:
    """A saved model folder (fine-tuned or quick), through the modeling package's SavedClassifier."""

    def __init__(self, models_dir: Path, name: str, *, cache_dir: Path, taxonomy: Taxonomy) -> None:
        from reviewtui.modeling.card import list_cards
        from reviewtui.modeling.inference import SavedClassifier

        folder = Path(models_dir) / name
        if not folder.is_dir():
            known = ", ".join(c.name for c in list_cards(models_dir)) or "none yet"
            raise ReviewtuiError(f"no model {name!r} in {models_dir} (saved models: {known}); "
                                 "train one with reviewtui train, or use --model quick")
        self.inner = SavedClassifier.load(folder, cache_dir=cache_dir)
        self.inner.check_taxonomy(taxonomy.training_keys)
        self.name = self.inner.name
        self.labels = list(self.inner.labels)
        self.folder = folder

    def fingerprint(self) -> str:
        stamp = max((p.stat().st_mtime_ns for p in self.folder.iterdir() if p.is_file()), default=0)
        return f"saved:{self.name}:{self.inner.card.created_at}:{stamp}"

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        return self.inner.predict_proba(texts, on_event=on_event, cancel=cancel)


class QuickFromLabels:
    """The quick model fitted on the store's current training labels, with inverse regularisation ``C``."""

    name = "quick"

    def __init__(self, store: LocalStore, taxonomy: Taxonomy, cache: "EmbeddingCache", C: float,
                 on_event: EventSink | None = None, cancel: threading.Event | None = None) -> None:
        from reviewtui.modeling.quick import QuickModel

        ids, texts, labels = store.training_assets(taxonomy.training_keys)
        if len(set(labels)) < 2:
            raise ReviewtuiError(
                "no model to predict with: no saved model in models/ and fewer than two training categories "
                f"labeled ({len(labels)} labels); train one (reviewtui train) or label more reviews")
        self.cache = cache
        X = self.cache.embed(texts, on_event=on_event, cancel=cancel)
        self.model = QuickModel(C=C).fit(X, labels)
        self.labels = [k for k in taxonomy.training_keys if k in self.model.classes_]
        pairs = "\n".join(f"{i}\t{lab}" for i, lab in sorted(zip(ids, labels)))
        self._fp = f"quick:{self.cache.folder.name}:{hashlib.sha1(pairs.encode()).hexdigest()}"

    def fingerprint(self) -> str:
        return self._fp

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        X = self.cache.embed(list(texts), on_event=on_event, cancel=cancel)
        return self.model.proba_for(X, self.labels)


def resolve_classifier(model: str | None, *, store: LocalStore, taxonomy: Taxonomy, models_dir: Path,
                       cache_dir: Path, embeddings: Callable[[], "EmbeddingCache"], C: float,
                       on_event: EventSink | None = None, cancel: threading.Event | None = None) -> Classifier:
    """The classifier for ``model``: a saved model's name (a folder of ``models_dir``), "quick"
    (fitted now on the store's training labels, with ``C``, embedding through ``embeddings()``),
    or None for the newest saved model, falling back to the quick model. Raises ReviewtuiError
    when there is no model to use or the saved one was trained on another taxonomy."""
    if model and model.lower() != "quick":
        return SavedModel(models_dir, model, cache_dir=cache_dir, taxonomy=taxonomy)
    if not model:
        from reviewtui.modeling.card import list_cards

        cards = list_cards(models_dir)
        if cards:
            return SavedModel(models_dir, cards[-1].name, cache_dir=cache_dir, taxonomy=taxonomy)
        emit(on_event, Notice("info", "no saved model: predicting with the quick model on the current labels"))
    return QuickFromLabels(store, taxonomy, embeddings(), C, on_event=on_event, cancel=cancel)


@dataclass
class PredictResult:
    """What ``predict_workspace`` wrote. ``resumed_chunks`` were found done from an earlier run."""

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

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _load_chunk(path: Path, rows: int, k: int) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {key: data[key] for key in ("proba", "sent", "sent_score")}
    except (OSError, ValueError, KeyError):
        return None
    if out["proba"].shape != (rows, k) or len(out["sent"]) != rows:
        return None
    return out


class _Offset:
    """Re-emits a stage's per-chunk Progress as overall progress of the run."""

    def __init__(self, sink: EventSink | None, task: str, offset: int, total: int) -> None:
        self.sink, self.task, self.offset, self.total = sink, task, offset, total

    def __call__(self, event) -> None:
        if self.sink is None:
            return
        if isinstance(event, Progress):
            self.sink(Progress(self.task, self.offset + event.done, self.total, event.task))
        else:
            self.sink(event)


def predict_assets(store: LocalStore, taxonomy: Taxonomy, *, models_dir: Path, cache_dir: Path, results_dir: Path,
                   embeddings: Callable[[], "EmbeddingCache"], sentiment: str, max_length: int, C: float,
                   model: str | None = None, chunk_size: int = CHUNK_SIZE, on_event: EventSink | None = None,
                   cancel: threading.Event | None = None) -> PredictResult:
    """Predict category, confidence and sentiment for every asset of ``store`` and write
    ``results_dir/result.csv`` (and its record ``result.json``).

    ``model`` is as in :func:`resolve_classifier` (a saved model in ``models_dir``, "quick" with
    ``C``, or None). ``sentiment`` is "vader", "stars", a sentiment model folder (run with
    ``max_length`` tokens), or "none". ``embeddings`` gives the embedding cache when the quick
    model or the star head needs one. Emits Progress("predict"/"sentiment", done, total). Raises
    ReviewtuiError on an empty store, no usable model or a bad sentiment model (before anything
    is written), and Cancelled when ``cancel`` is set (finished chunks are kept for the next run).
    """
    from reviewtui.analysis.export import write_csv_atomic
    from reviewtui.analysis.sentiment import make_analyzer

    t0 = time.perf_counter()
    assets = list(store.iter_assets())
    if not assets:
        raise ReviewtuiError("the workspace has no reviews to predict: import some first (reviewtui import FILE.csv)")
    if chunk_size < 1:
        raise ReviewtuiError(f"chunk size must be at least 1, not {chunk_size}")
    spec = str(sentiment)
    analyzer = None
    if spec.lower() not in ("none", "off", ""):
        analyzer = make_analyzer(spec, max_length=max_length, store=store, embeddings=embeddings,
                                 on_event=on_event, cancel=cancel)
    clf = resolve_classifier(model, store=store, taxonomy=taxonomy, models_dir=models_dir, cache_dir=cache_dir,
                             embeddings=embeddings, C=C, on_event=on_event, cancel=cancel)
    n, k = len(assets), len(clf.labels)
    ids_hash = hashlib.sha1("\n".join(a.external_id + "\t" + a.text for a in assets).encode()).hexdigest()
    sent_fp = analyzer.fingerprint() if analyzer is not None else "none"
    key = hashlib.sha1(f"{clf.fingerprint()}|{sent_fp}|{ids_hash}|{chunk_size}".encode()).hexdigest()[:16]
    runs = results_dir / ".predict"
    run_dir = runs / key
    run_dir.mkdir(parents=True, exist_ok=True)
    for other in runs.iterdir():  # chunks of another model/corpus can never be resumed
        if other.is_dir() and other.name != key:
            shutil.rmtree(other, ignore_errors=True)
    atomic_write_text(run_dir / RUN_RECORD, json.dumps({"model": clf.name, "sentiment": spec, "rows": n,
                                                        "chunk_size": chunk_size, "started": utc_now()}))
    from reviewtui.modeling.loading import best_device

    device = best_device()
    chunks = list(range(0, n, chunk_size))
    proba = np.zeros((n, k), dtype=np.float32)
    sent = np.full(n, 3, dtype=np.int8)
    sent_score = np.zeros(n, dtype=np.float32)
    resumed = 0
    for ci, start in enumerate(chunks):
        stop = min(n, start + chunk_size)
        path = run_dir / f"chunk-{ci:05d}.npz"
        done = _load_chunk(path, stop - start, k) if path.exists() else None
        if done is None:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"prediction cancelled after {start} of {n} reviews; run it again to resume")
            texts = [a.text for a in assets[start:stop]]
            p = clf.predict_proba(texts, on_event=_Offset(on_event, "predict", start, n), cancel=cancel)
            s_idx = np.full(stop - start, 3, dtype=np.int8)
            s_score = np.zeros(stop - start, dtype=np.float32)
            if analyzer is not None:
                out = analyzer.analyze(texts, on_event=_Offset(on_event, "sentiment", start, n), cancel=cancel)
                s_idx = np.array([SENTIMENT_CODES.index(lab) for lab in out.labels], dtype=np.int8)
                s_score = np.asarray(out.scores, dtype=np.float32)
            done = {"proba": np.asarray(p, dtype=np.float32), "sent": s_idx, "sent_score": s_score}
            _save_npz(path, **done)
        else:
            resumed += 1
        proba[start:stop], sent[start:stop], sent_score[start:stop] = done["proba"], done["sent"], done["sent_score"]
        emit(on_event, Progress("predict", stop, n, f"chunk {ci + 1}/{len(chunks)}"))

    pred = proba.argmax(axis=1)
    rows = []
    counts: dict[str, int] = {lab: 0 for lab in clf.labels}
    scounts: dict[str, int] = {}
    for i, a in enumerate(assets):
        m = a.metadata
        label = clf.labels[int(pred[i])]
        counts[label] += 1
        s = SENTIMENT_CODES[int(sent[i])]
        if s:
            scounts[s] = scounts.get(s, 0) + 1
        rows.append([a.external_id, a.text, m.get("score", ""), m.get("app", ""), m.get("app_version", ""),
                     m.get("at", ""), m.get("thumbs_up", ""), label, round(float(proba[i, pred[i]]), 4), s,
                     round(float(sent_score[i]), 4) if s else "", clf.name])
    results_dir.mkdir(parents=True, exist_ok=True)
    out_path = write_csv_atomic(results_dir / RESULT_NAME, RESULT_COLUMNS, rows)
    result = PredictResult(out_path, n, clf.name, spec if analyzer is not None else "none", len(chunks), resumed,
                           time.perf_counter() - t0, device, counts, scounts)
    meta = {**result.to_dict(), "labels": clf.labels, "created": utc_now()}
    atomic_write_text(results_dir / RESULT_META, json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(run_dir, ignore_errors=True)
    return result
