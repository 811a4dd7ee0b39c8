"""Predicting a corpus's chunks on a Ray cluster with Ray Data.

:func:`ray_chunk_stream` is what ``predict_assets(..., ray_address=ADDR)`` runs in place of the
single-process stream: the pending chunks (the same chunk layout, so a run resumes from the chunks
either way saved) become a Ray dataset of one row per chunk, ``map_batches`` runs a pool of
:class:`ChunkPredictor` actors over it (one per GPU of the cluster, or one per
``[predict] ray_cpus_per_actor`` CPUs), and the driver receives each chunk's probabilities as it
finishes and saves it at once. A run stopped by a failure or a cancel keeps every chunk received;
the next run (on the cluster or not) does only the rest.

The model folder travels through Ray's object store, so the nodes need no shared filesystem; each
actor loads it with the same ``SavedClassifier`` (and the same precision rules: "auto" gives bf16 on
a GPU actor; on a CPU actor bf16 where it is native, else int8, when the model's card allows it) and predicts a chunk exactly as
the single-process path does. Every node needs reviewtui installed. ray loads inside the functions.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, emit
from reviewtui.modeling import Cancelled
from reviewtui.settings import PredictSettings

#: Files of a model folder an actor needs (everything but folders and hidden files).
_SKIP_PREFIX = "."


def connect(address: str, on_event: EventSink | None = None) -> bool:
    """Connect this process to the Ray cluster at ``address`` unless Ray is already up; returns
    whether this call connected (and so should disconnect). Raises ReviewtuiError when it cannot."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    emit(on_event, Notice("info", f"connecting to the Ray cluster at {address}"))
    from reviewtui.modeling.tuning import check_reachable

    check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 configure_logging=True)
    except Exception as exc:  # ConnectionError, RuntimeError, ValueError depending on the failure
        from reviewtui.modeling.tuning import cluster_auth_hint

        raise ReviewtuiError(f"cannot connect to the Ray cluster at {address!r} ({exc}); check --ray-address "
                             f"(e.g. ray://head:10001, HOST:6379 or auto){cluster_auth_hint()} or leave it out to "
                             "predict here") from exc
    return True


def actor_plan(nodes: list[dict[str, float]], settings: PredictSettings) -> tuple[int, dict[str, float]]:
    """(number of actors, resources per actor) for a cluster whose alive nodes have ``nodes``
    resources: one actor per GPU (one CPU and one GPU each), or without GPUs one per
    ``[predict] ray_cpus_per_actor`` CPUs of a node (never more than one node has: an actor cannot
    span nodes); ``ray_actors`` > 0 sets the number."""
    gpus = sum(int(n.get("GPU", 0)) for n in nodes)
    if gpus:
        return settings.ray_actors or gpus, {"num_cpus": 1.0, "num_gpus": 1.0}
    largest = max((int(n.get("CPU", 0)) for n in nodes), default=1) or 1
    per_cpu = max(1, min(settings.ray_cpus_per_actor, largest))
    fits = sum(int(n.get("CPU", 0)) // per_cpu for n in nodes)
    return settings.ray_actors or max(1, fits), {"num_cpus": float(per_cpu)}


def model_files(folder: Path) -> dict[str, bytes]:
    """The files of a saved model folder, name -> bytes (what travels to the actors)."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())
            if p.is_file() and not p.name.startswith(_SKIP_PREFIX)}


class ChunkPredictor:
    """A Ray Data actor: writes the model folder from the object store to a local temp folder,
    loads it once, and turns each batch of chunk rows into their probabilities."""

    def __init__(self, files_ref: list, name: str, precision: str, threads: int) -> None:
        import ray

        from reviewtui.modeling.inference import SavedClassifier
        from reviewtui.modeling.loading import set_torch_threads

        set_torch_threads(max(1, threads))
        files = ray.get(files_ref[0])
        self.folder = Path(tempfile.mkdtemp(prefix="reviewtui-ray-model-")) / name
        self.folder.mkdir(parents=True)
        for file_name, data in files.items():
            (self.folder / file_name).write_bytes(data)
        self.clf = SavedClassifier.load(self.folder, precision=precision)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        chunks, rows, probas, precisions = [], [], [], []
        for ci, texts in zip(batch["chunk"], batch["texts"]):
            texts = [str(t) for t in list(texts)]
            proba = self.clf.predict_proba(texts)
            chunks.append(int(ci))
            rows.append(len(texts))
            probas.append(np.ascontiguousarray(proba, dtype=np.float32).tobytes())
            precisions.append(str(self.clf.precision))
        return {"chunk": np.array(chunks, dtype=np.int64), "rows": np.array(rows, dtype=np.int64),
                "proba": np.array(probas, dtype=object), "precision": np.array(precisions, dtype=object)}

    def __del__(self) -> None:  # pragma: no cover - best effort when the actor ends
        shutil.rmtree(self.folder.parent, ignore_errors=True)


def ray_chunk_stream(run, pending: list[int], *, address: str, settings: PredictSettings, precision: str,
                     on_event: EventSink | None = None, cancel: threading.Event | None = None,
                     precisions: set[str] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(chunk index, (rows, K) probabilities) for each of ``pending`` chunks of ``run`` (a
    ``predict.PredictRun`` with a saved model), in the order they finish on the cluster at
    ``address``. Adds each actor's precision to ``precisions``. Raises Cancelled when ``cancel`` is
    set (between chunks), ReviewtuiError when the cluster cannot be reached."""
    if not pending:
        return
    import ray
    import ray.data

    own = connect(address, on_event)
    stream = None
    try:
        size, per_actor = actor_plan([n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")], settings)
        size = max(1, min(size, len(pending)))
        k = run.k
        files_ref = ray.put(model_files(run.clf.folder))
        emit(on_event, Notice("info", f"predicting {len(pending)} chunks on Ray with {size} actor(s) "
                                      f"({' + '.join(f'{v:g} {n[4:-1].upper()}' for n, v in per_actor.items())} each)"))
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.verbose_progress = False
        # one block per chunk, so each chunk is one task and its result streams back on its own
        ds = ray.data.from_items([{"chunk": ci, "texts": run.texts(ci)} for ci in pending],
                                 override_num_blocks=len(pending))
        out = ds.map_batches(ChunkPredictor, batch_size=1, compute=ray.data.ActorPoolStrategy(size=size),
                             fn_constructor_kwargs={"files_ref": [files_ref], "name": run.clf.name,
                                                    "precision": precision,
                                                    "threads": int(per_actor.get("num_cpus", 1))},
                             batch_format="numpy", **per_actor)
        stream = iter(out.iter_rows())
        for row in stream:
            if cancel is not None and cancel.is_set():
                raise Cancelled("prediction on the Ray cluster cancelled")
            rows = int(row["rows"])
            proba = np.frombuffer(row["proba"], dtype=np.float32).reshape(rows, k).copy()
            if precisions is not None:
                precisions.add(str(row["precision"]))
            yield int(row["chunk"]), proba
    finally:
        # Stop Ray Data's streaming executor before leaving the cluster. When the caller fails
        # mid-stream (a cancel, an error in a progress callback), the exception's traceback keeps
        # the row generators alive, so their own cleanup, which shuts the executor down, would
        # run after ray.shutdown(); the executor's thread then called into a shut-down Ray and the
        # whole process exited with status 1.
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        import gc

        gc.collect()  # the inner generators of the stream, held in reference cycles
        if own:
            ray.shutdown()
