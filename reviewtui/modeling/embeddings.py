"""Sentence embeddings of review texts, computed once and cached in the workspace.

Embeddings are the mean of the encoder's last hidden states over real tokens, L2-normalised (what
sentence-transformers does for all-MiniLM-L6-v2). They are cached per model and max length under
``cache/embeddings/<model-key>/`` keyed by the sha1 of each text, so re-running active learning or
the quick model only encodes texts it has never seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from reviewtui.events import EventSink
from reviewtui.modeling import Cancelled
from reviewtui.modeling.batching import BATCH_SIZE, encode_texts
from reviewtui.modeling.loading import ResolvedModel, resolve_model
from reviewtui.settings import ModelSettings

#: The encoder and length used where no [model] settings are given: the settings' defaults.
DEFAULT_MODEL = ModelSettings()

_LOADED: dict[str, tuple[object, object]] = {}
SAVE_EVERY_S = 60.0
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


class EmbeddingCache:
    """Embeddings of texts for one model, cached on disk by text sha1.

    ``embed(texts)`` returns an (N, D) float32 array, rows L2-normalised, in input order.
    """

    def __init__(self, cache_dir: Path, model_spec: str = DEFAULT_MODEL.base,
                 max_length: int = DEFAULT_MODEL.max_length) -> None:
        self.resolved = resolve_model(model_spec)
        self.max_length = int(max_length)
        self.folder = Path(cache_dir) / "embeddings" / _model_key(self.resolved, self.max_length)
        self._keys: dict[str, int] | None = None
        self._vecs: np.ndarray | None = None
        self._lock = threading.Lock()

    # -- storage -------------------------------------------------------------------------------
    @property
    def _keys_path(self) -> Path:
        return self.folder / "keys.npy"

    @property
    def _vecs_path(self) -> Path:
        return self.folder / "vectors.npy"

    def _load(self) -> None:
        if self._keys is not None:
            return
        keys, vecs = self._read_disk()
        self._keys = {k: i for i, k in enumerate(keys)}
        self._vecs = vecs

    def _read_disk(self) -> tuple[list[str], np.ndarray | None]:
        try:
            keys = np.load(self._keys_path, allow_pickle=False)
            vecs = np.load(self._vecs_path, allow_pickle=False)
        except (OSError, ValueError):
            return [], None
        if len(keys) != len(vecs):  # a torn pair from an old crash: start over
            return [], None
        return [str(k) for k in keys], vecs.astype(np.float32, copy=False)

    def _save(self, new_keys: list[str], new_vecs: np.ndarray) -> None:
        """Merge with what is on disk now (another process may have added some) and replace atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        disk_keys, disk_vecs = self._read_disk()
        merged = {k: i for i, k in enumerate(disk_keys)}
        rows = [disk_vecs] if disk_vecs is not None and len(disk_keys) else []
        keys = list(disk_keys)
        fresh = [(k, i) for i, k in enumerate(new_keys) if k not in merged]
        if fresh:
            keys += [k for k, _ in fresh]
            rows.append(new_vecs[[i for _, i in fresh]])
        vecs = np.concatenate(rows, axis=0) if rows else new_vecs[:0]
        # vectors first, keys last: a reader that sees the new keys also sees the new vectors
        for path, arr in ((self._vecs_path, vecs), (self._keys_path, np.array(keys, dtype="U40"))):
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npy.tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.save(fh, arr, allow_pickle=False)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        self._keys = {k: i for i, k in enumerate(keys)}
        self._vecs = vecs

    # -- public --------------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        self._load()
        return None if self._vecs is None else int(self._vecs.shape[1])

    def _config_dim(self) -> int:
        """The encoder's hidden size from its config.json, without loading the weights."""
        import json

        try:
            return int(json.loads((Path(self.resolved.path) / "config.json").read_text())["hidden_size"])
        except (OSError, ValueError, KeyError):
            return 0

    def __len__(self) -> int:
        self._load()
        return len(self._keys or {})

    def cached(self, texts: Sequence[str]) -> list[bool]:
        """Whether each text already has a cached embedding."""
        self._load()
        return [text_key(t) in (self._keys or {}) for t in texts]

    def embed(self, texts: Sequence[str], on_event: EventSink | None = None, batch_size: int = BATCH_SIZE,
              cancel: threading.Event | None = None) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``texts`` in input order.

        Only texts not in the cache are encoded (batched, length-sorted, inference mode, GPU when
        present); they are added to the cache. Emits Progress("embed", done, total). Raises
        Cancelled when ``cancel`` is set (what was encoded before is kept in the cache) and
        ReviewtuiError when the model cannot be loaded.
        """
        with self._lock:
            self._load()
            keys = [text_key(t) for t in texts]
            missing: dict[str, str] = {}
            for k, t in zip(keys, texts):
                if k not in self._keys and k not in missing:  # type: ignore[operator]
                    missing[k] = str(t)
            if missing:
                self._encode_missing(missing, on_event, batch_size, cancel)
            assert self._keys is not None
            if not keys:
                return np.zeros((0, self.dim or self._config_dim()), dtype=np.float32)
            assert self._vecs is not None
            return self._vecs[[self._keys[k] for k in keys]].copy()

    def _encode_missing(self, missing: dict[str, str], on_event, batch_size, cancel) -> None:
        from reviewtui.modeling.loading import best_device

        tokenizer, model = load_encoder_cached(self.resolved)
        mkeys, mtexts = list(missing), list(missing.values())
        device = best_device()
        chunk = max(batch_size * 8, 512)
        # Each save rewrites the cache file, so save at most every SAVE_EVERY_S seconds (and at the
        # end, and on cancel): writes stay linear in the corpus while a cancel keeps the work done.
        pending_keys: list[str] = []
        pending: list[np.ndarray] = []
        last_save = time.monotonic()

        def flush() -> None:
            nonlocal pending_keys, pending, last_save
            if pending_keys:
                self._save(pending_keys, np.concatenate(pending, axis=0))
            pending_keys, pending, last_save = [], [], time.monotonic()

        for start in range(0, len(mtexts), chunk):
            try:
                vecs = encode_texts(tokenizer, model, mtexts[start:start + chunk], max_length=self.max_length,
                                    batch_size=batch_size, device=device, on_event=on_event, cancel=cancel,
                                    done_offset=start, total=len(mtexts))
            except Cancelled:
                flush()
                raise
            pending_keys += mkeys[start:start + chunk]
            pending.append(vecs)
            if time.monotonic() - last_save >= SAVE_EVERY_S:
                flush()
        flush()


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
