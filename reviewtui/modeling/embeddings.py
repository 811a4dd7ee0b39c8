"""Sentence embeddings of review texts, computed once and cached in the workspace.

Embeddings are the mean of the encoder's last hidden states over real tokens, L2-normalised (what
sentence-transformers does for all-MiniLM-L6-v2). They are cached per model and max length under
``cache/embeddings/<model-key>/`` keyed by the sha1 of each text, so re-running active learning or
the quick model only encodes texts it has never seen.

On a CPU that computes bf16 natively (AMX or AVX-512 BF16) new texts are encoded by a bf16 copy of
the encoder (``EmbeddingCache(precision="fp32")`` keeps fp32): on MiniLM-L6 with two cores of a
Xeon with AMX it encoded 2.4x as fast, and a quick model on its embeddings scored the same 5-fold
CV accuracy on dataset-11 and gave fp32's label on 99.9 % of 5,000 play-store reviews
(bench/bench_predict.py --parts embed); the cache stores float16 either way, a rounding of the same
order. On a GPU the encoder runs as loaded (fp32), as before.

The cache is a folder of memory-mapped float16 shards (:mod:`reviewtui.modeling.shards`): a
million embeddings take 0.75 GB on disk and only the rows asked for are read. Vectors come back as
float32, renormalised after the float16 rounding, and the same every time (a cache hit equals the
first call). New vectors are written as a shard every :data:`FLUSH_ROWS` texts or
:data:`FLUSH_EVERY_S` seconds, so a cancel or a kill keeps the work done before it. A cache in the
older format (``keys.npy`` + ``vectors.npy``, float32) becomes one shard the first time it opens.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from reviewtui.events import EventSink
from reviewtui.modeling import Cancelled
from reviewtui.modeling.batching import BATCH_SIZE, encode_texts
from reviewtui.modeling.loading import ResolvedModel, resolve_model
from reviewtui.modeling.shards import ShardedVectors
from reviewtui.settings import ModelSettings

#: The encoder and length used where no [model] settings are given: the settings' defaults.
DEFAULT_MODEL = ModelSettings()

_LOADED: dict[str, tuple[object, object]] = {}
_BF16: dict[tuple[str, str], object] = {}
#: How new texts are encoded: "auto" (bf16 on a CPU with native bf16, else fp32) or "fp32".
EMBEDDING_PRECISIONS = ("auto", "fp32")
#: Encoded vectors are written as a shard after this many texts or seconds, whichever comes first.
FLUSH_ROWS = 16_384
FLUSH_EVERY_S = 30.0
_LOAD_LOCK = threading.Lock()


def text_key(text: str) -> str:
    """The cache key of a text: sha1 of its UTF-8 bytes, hex."""
    return hashlib.sha1(str(text).encode("utf-8")).hexdigest()


def _model_key(resolved: ResolvedModel, max_length: int) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", resolved.name)[:60]
    where = hashlib.sha1(resolved.path.encode("utf-8")).hexdigest()[:8] if resolved.source == "local" else ""
    return f"{base}{'-' + where if where else ''}-L{max_length}"


def load_encoder_cached(resolved: ResolvedModel):
    """(tokenizer, model) for ``resolved``, loaded once per process."""
    from reviewtui.modeling.loading import load_encoder, load_tokenizer

    with _LOAD_LOCK:
        if resolved.path not in _LOADED:
            _LOADED[resolved.path] = (load_tokenizer(resolved), load_encoder(resolved))
        return _LOADED[resolved.path]


def encoder_for_cache(resolved: ResolvedModel, precision: str, device: str):
    """(tokenizer, model, precision) that fill the cache on ``device``: the fp32 encoder, or with
    ``precision`` "auto" on a CPU with native bf16 a bf16 copy of it (kept for the process; the fp32
    encoder stays as loaded for the models that read it)."""
    from reviewtui.modeling.precision import bf16_available

    tokenizer, model = load_encoder_cached(resolved)
    if precision != "auto" or device != "cpu" or not bf16_available("cpu"):
        return tokenizer, model, "fp32"
    with _LOAD_LOCK:
        key = (resolved.path, device)
        if key not in _BF16:
            import copy

            import torch

            _BF16[key] = copy.deepcopy(model).to(device=device, dtype=torch.bfloat16).eval()
        return tokenizer, _BF16[key], "bf16"


class EmbeddingCache:
    """Embeddings of texts for one model, cached on disk by text sha1.

    ``embed(texts)`` returns an (N, D) float32 array, rows L2-normalised, in input order.
    ``precision`` ("auto" or "fp32", :data:`EMBEDDING_PRECISIONS`) is how new texts are encoded
    (:func:`encoder_for_cache`); ``encoded_in`` says how the last ones were.
    """

    def __init__(self, cache_dir: Path, model_spec: str = DEFAULT_MODEL.base,
                 max_length: int = DEFAULT_MODEL.max_length, precision: str = "auto") -> None:
        if precision not in EMBEDDING_PRECISIONS:
            from reviewtui.errors import ReviewtuiError

            raise ReviewtuiError(f"embedding precision {precision!r} is not one of {', '.join(EMBEDDING_PRECISIONS)}")
        self.precision = precision
        self.encoded_in: str | None = None
        self.resolved = resolve_model(model_spec)
        self.max_length = int(max_length)
        self.folder = Path(cache_dir) / "embeddings" / _model_key(self.resolved, self.max_length)
        self.vectors = ShardedVectors(self.folder)
        self._migrated = False
        self._lock = threading.Lock()

    # -- storage -------------------------------------------------------------------------------
    def _open(self) -> ShardedVectors:
        if not self._migrated:
            migrate_flat_cache(self.folder, self.vectors)
            self._migrated = True
        return self.vectors

    # -- public --------------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        return self._open().dim

    def _config_dim(self) -> int:
        """The encoder's hidden size from its config.json, without loading the weights."""
        import json

        try:
            return int(json.loads((Path(self.resolved.path) / "config.json").read_text())["hidden_size"])
        except (OSError, ValueError, KeyError):
            return 0

    def __len__(self) -> int:
        return len(self._open())

    def cached(self, texts: Sequence[str]) -> list[bool]:
        """Whether each text already has a cached embedding."""
        return (self._open().positions(text_digests(texts)) >= 0).tolist()

    def embed(self, texts: Sequence[str], on_event: EventSink | None = None, batch_size: int = BATCH_SIZE,
              cancel: threading.Event | None = None) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``texts`` in input order.

        Only texts not in the cache are encoded (batched, length-sorted, inference mode, GPU when
        present); they are added to the cache. Emits Progress("embed", done, total) while encoding,
        ``total`` being ``len(texts)`` and ``done`` the texts whose embedding is ready (the cached
        ones count as done from the start, so the last event says ``total``). Raises
        Cancelled when ``cancel`` is set (what was encoded before is kept in the cache) and
        ReviewtuiError when the model cannot be loaded.
        """
        with self._lock:
            store = self._open()
            keys = text_digests(texts)
            if not len(keys):
                return np.zeros((0, store.dim or self._config_dim()), dtype=np.float32)
            pos = store.positions(keys)
            if (pos < 0).any():
                missing: dict[bytes, str] = {}
                for i in np.nonzero(pos < 0)[0]:
                    missing.setdefault(bytes(keys[i]), str(texts[i]))
                self._encode_missing(missing, on_event, batch_size, cancel, ready=len(keys) - len(missing))
                pos = store.positions(keys)
            vecs = store.gather(pos)
        # undo float16's rounding of the norm (einsum: no squared copy of every vector)
        norms = np.sqrt(np.einsum("ij,ij->i", vecs, vecs))[:, None]
        np.divide(vecs, norms, out=vecs, where=norms > 0)
        return vecs

    def _encode_missing(self, missing: dict[bytes, str], on_event, batch_size, cancel, ready: int = 0) -> None:
        """Encode ``missing`` (digest -> text) into the cache; progress counts from ``ready`` (the
        texts asked for that need no encoding: cached, or a repeat of a missing one) to
        ``ready + len(missing)``."""
        from reviewtui.modeling.loading import best_device

        device = best_device()
        tokenizer, model, self.encoded_in = encoder_for_cache(self.resolved, self.precision, device)
        mkeys = np.array(list(missing), dtype="S20")
        mtexts = list(missing.values())
        chunk = max(batch_size * 8, 512)
        pending_from = 0  # texts [pending_from, done) are encoded but not written yet
        pending: list[np.ndarray] = []
        last_flush = time.monotonic()

        def flush(done: int) -> None:
            nonlocal pending_from, pending, last_flush
            if pending:
                self.vectors.append(mkeys[pending_from:done], np.concatenate(pending, axis=0))
            pending_from, pending, last_flush = done, [], time.monotonic()

        for start in range(0, len(mtexts), chunk):
            try:
                vecs = encode_texts(tokenizer, model, mtexts[start:start + chunk], max_length=self.max_length,
                                    batch_size=batch_size, device=device, on_event=on_event, cancel=cancel,
                                    done_offset=ready + start, total=ready + len(mtexts))
            except (Cancelled, KeyboardInterrupt):  # cancel in the app, or Ctrl-C: what is encoded is kept
                flush(start)
                raise
            pending.append(vecs)
            done = min(start + chunk, len(mtexts))
            if done - pending_from >= FLUSH_ROWS or time.monotonic() - last_flush >= FLUSH_EVERY_S:
                flush(done)
        flush(len(mtexts))


def text_digests(texts: Sequence[str]) -> np.ndarray:
    """The cache keys of ``texts`` as 20-byte sha1 digests (``S20``), in order."""
    sha1 = hashlib.sha1
    return np.array([sha1(str(t).encode("utf-8")).digest() for t in texts], dtype="S20")


def migrate_flat_cache(folder: Path, vectors: ShardedVectors) -> bool:
    """Turn a cache folder in the older format (``keys.npy`` of hex keys + ``vectors.npy`` of
    float32 rows, whole arrays) into one shard of ``vectors``, then remove the old files. A torn or
    unreadable old pair is dropped (its texts are encoded again when asked for). Returns True when
    there was an old cache."""
    keys_path, vecs_path = folder / "keys.npy", folder / "vectors.npy"
    if not keys_path.exists() and not vecs_path.exists():
        return False
    try:
        keys = np.load(keys_path, allow_pickle=False)
        vecs = np.load(vecs_path, allow_pickle=False)
        ok = len(keys) == len(vecs) and vecs.ndim == 2
    except (OSError, ValueError):
        ok = False
    if ok and len(keys):
        vectors.append(np.array([bytes.fromhex(str(k)) for k in keys], dtype="S20"), vecs)
    for path in (keys_path, vecs_path):
        path.unlink(missing_ok=True)
    return True


def embed_texts(texts: Sequence[str], spec: str, *, max_length: int = DEFAULT_MODEL.max_length,
                cache_dir: Path | None = None, batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> np.ndarray:
    """(N, D) embeddings of ``texts`` with model ``spec``: through the embedding cache in
    ``cache_dir`` when there is one (only new texts are encoded), else encoded now with the encoder
    kept loaded for the process. Raises Cancelled when ``cancel`` is set."""
    if cache_dir is not None:
        return EmbeddingCache(cache_dir, spec, max_length).embed(list(texts), on_event=on_event,
                                                                 batch_size=batch_size, cancel=cancel)
    tokenizer, model = load_encoder_cached(resolve_model(spec))
    return encode_texts(tokenizer, model, list(texts), max_length=max_length, batch_size=batch_size,
                        on_event=on_event, cancel=cancel)
