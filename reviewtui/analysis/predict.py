"""Predicting the category and sentiment of every asset in the workspace: ``results/result.csv``.

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
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, Progress, emit
from reviewtui.modeling import Cancelled

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.workspace import Workspace

RESULT_NAME = "result.csv"
RESULT_META = "result.json"
RESULT_COLUMNS = ["reviewId", "content", "score", "reviewCreatedVersion", "at", "thumbsUpCount",
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
    """A saved model folder (fine-tuned or quick), through the modeling room's SavedClassifier."""

    def __init__(self, ws: "Workspace", name: str) -> None:
        from reviewtui.modeling.inference import SavedClassifier

        folder = ws.models_dir / name
        if not folder.is_dir():
            known = ", ".join(m.get("name", "?") for m in ws.models()) or "none yet"
            raise ReviewtuiError(f"no model {name!r} in {ws.models_dir} (saved models: {known}); "
                                 "train one with reviewtui train, or use --model quick")
        self.inner = SavedClassifier.load(folder, cache_dir=ws.cache_dir)
        self.inner.check_taxonomy(ws.taxonomy.training_keys)
        self.name = self.inner.name
        self.labels = list(self.inner.labels)
        self.folder = folder

    def fingerprint(self) -> str:
        stamp = max((p.stat().st_mtime_ns for p in self.folder.iterdir() if p.is_file()), default=0)
        return f"saved:{self.name}:{self.inner.card.created_at}:{stamp}"

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        return self.inner.predict_proba(texts, on_event=on_event, cancel=cancel)


class QuickFromLabels:
    """The quick model fitted on the workspace's current training labels."""

    name = "quick"

    def __init__(self, ws: "Workspace", on_event: EventSink | None = None,
                 cancel: threading.Event | None = None) -> None:
        from reviewtui.active import embedding_cache, fit_quick, training_assets

        ids, texts, labels = training_assets(ws)
        if len(set(labels)) < 2:
            raise ReviewtuiError(
                "no model to predict with: no saved model in models/ and fewer than two training categories "
                f"labeled ({len(labels)} labels); train one (reviewtui train) or label more reviews")
        self.cache = embedding_cache(ws)
        X = self.cache.embed(texts, on_event=on_event, cancel=cancel)
        self.model = fit_quick(X, labels, float(ws.config.section("active_learning").get("C", 10.0)))
        self.labels = [k for k in ws.taxonomy.training_keys if k in self.model.classes_]
        pairs = "\n".join(f"{i}\t{lab}" for i, lab in sorted(zip(ids, labels)))
        self._fp = f"quick:{self.cache.folder.name}:{hashlib.sha1(pairs.encode()).hexdigest()}"

    def fingerprint(self) -> str:
        return self._fp

    def predict_proba(self, texts, on_event=None, cancel=None) -> np.ndarray:
        X = self.cache.embed(list(texts), on_event=on_event, cancel=cancel)
        p = self.model.predict_proba(X) if len(X) else np.zeros((0, len(self.model.classes_)), np.float32)
        return p[:, [self.model.classes_.index(k) for k in self.labels]]


def resolve_classifier(ws: "Workspace", model: str | None = None, on_event: EventSink | None = None,
                       cancel: threading.Event | None = None) -> Classifier:
    """The classifier for ``model``: a saved model's name, "quick" (fitted on the current labels),
    or None for the newest saved model, falling back to the quick model. Raises ReviewtuiError
    when there is no model to use or the saved one was trained on another taxonomy."""
    if model and model.lower() != "quick":
        return SavedModel(ws, model)
    if not model:
        from reviewtui.modeling.card import list_cards

        cards = list_cards(ws.models_dir)
        if cards:
            return SavedModel(ws, cards[-1].name)
        emit(on_event, Notice("info", "no saved model: predicting with the quick model on the current labels"))
    return QuickFromLabels(ws, on_event=on_event, cancel=cancel)


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def predict_workspace(ws: "Workspace", model: str | None = None, *, sentiment: str | None = None,
                      chunk_size: int = CHUNK_SIZE, on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> PredictResult:
    """Predict category, confidence and sentiment for every asset and write ``results/result.csv``.

    ``sentiment`` is "vader", "stars", a sentiment model folder, or "none" (default: the
    ``[sentiment] model`` setting). Emits Progress("predict"/"sentiment", done, total). Raises
    ReviewtuiError on an empty workspace, no usable model or a bad sentiment model (before anything
    is written), and Cancelled when ``cancel`` is set (finished chunks are kept for the next run).
    """
    from reviewtui.analysis.export import write_csv_atomic
    from reviewtui.analysis.sentiment import make_analyzer

    t0 = time.perf_counter()
    assets = list(ws.store.iter_assets())
    if not assets:
        raise ReviewtuiError("the workspace has no reviews to predict: import some first (reviewtui import FILE.csv)")
    if chunk_size < 1:
        raise ReviewtuiError(f"chunk size must be at least 1, not {chunk_size}")
    spec = str(sentiment if sentiment is not None else ws.config.section("sentiment").get("model", "vader"))
    analyzer = None
    if spec.lower() not in ("none", "off", ""):
        analyzer = make_analyzer(spec, ws, on_event=on_event, cancel=cancel)
    clf = resolve_classifier(ws, model, on_event=on_event, cancel=cancel)
    n, k = len(assets), len(clf.labels)
    ids_hash = hashlib.sha1("\n".join(a.external_id + "\t" + a.text for a in assets).encode()).hexdigest()
    sent_fp = analyzer.fingerprint() if analyzer is not None else "none"
    key = hashlib.sha1(f"{clf.fingerprint()}|{sent_fp}|{ids_hash}|{chunk_size}".encode()).hexdigest()[:16]
    runs = ws.results_dir / ".predict"
    run_dir = runs / key
    run_dir.mkdir(parents=True, exist_ok=True)
    for other in runs.iterdir():  # chunks of another model/corpus can never be resumed
        if other.is_dir() and other.name != key:
            shutil.rmtree(other, ignore_errors=True)
    (run_dir / "run.json").write_text(json.dumps({"model": clf.name, "sentiment": spec, "rows": n,
                                                  "chunk_size": chunk_size}), encoding="utf-8")
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
        rows.append([a.external_id, a.text, m.get("score", ""), m.get("app_version", ""), m.get("at", ""),
                     m.get("thumbs_up", ""), label, round(float(proba[i, pred[i]]), 4), s,
                     round(float(sent_score[i]), 4) if s else "", clf.name])
    ws.results_dir.mkdir(parents=True, exist_ok=True)
    out_path = write_csv_atomic(ws.results_dir / RESULT_NAME, RESULT_COLUMNS, rows)
    result = PredictResult(out_path, n, clf.name, spec if analyzer is not None else "none", len(chunks), resumed,
                           time.perf_counter() - t0, device, counts, scounts)
    from reviewtui.config import atomic_write_text

    meta = {**result.to_dict(), "labels": clf.labels, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_text(ws.results_dir / RESULT_META, json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(run_dir, ignore_errors=True)
    return result
