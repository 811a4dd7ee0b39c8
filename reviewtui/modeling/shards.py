"""Append-only, memory-mapped float16 vector shards keyed by 20-byte digests.

The embedding cache keeps its vectors here. A folder holds:

* ``s-<writer>.vecs.npy`` — an (n, D) float16 array, read with ``numpy.load(mmap_mode="r")``;
* ``s-<writer>.keys.npy`` — the n keys (sha1 digests, ``S20``) of those rows, in row order;
* ``index.json`` — the shards that are finished, in order, with their row counts.

A shard is written under a temporary name, fsync'd and renamed; only then is ``index.json``
replaced (temporary file, fsync, rename) to list it, under an exclusive lock on ``index.lock`` so
that processes appending at the same time never lose each other's shards. Writers write and list
their shards while holding that lock, so a process killed mid-write loses at most the shard it was
writing (its files are in no index; the next writer removes them) and never corrupts a finished
one; readers take no lock. Many small shards are merged into one
now and then (:data:`MERGE_AT`), through the same write-then-index steps.

In memory the index is a sorted array of the keys' first 8 bytes (an integer) with each key's
global row, so looking up a million keys is a few vectorised numpy calls, and only the rows asked
for are read from the mapped files.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from reviewtui.files import atomic_output, file_lock

INDEX_NAME = "index.json"
LOCK_NAME = "index.lock"
FORMAT = 2
KEY_DTYPE = np.dtype("S20")
VEC_DTYPE = np.dtype("float16")
#: Merge the small shards (fewer than SMALL_ROWS rows) once there are this many of them.
MERGE_AT = 16
SMALL_ROWS = 65_536
GATHER_ROWS = 65_536  # rows copied out of a mapped shard at a time (25 MB of float16 at 384 dimensions)


@dataclass(frozen=True)
class Shard:
    name: str
    rows: int


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ShardedVectors:
    """The shards of one folder. Safe for one writer thread per object (the caller locks) and
    any number of processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._shards: list[Shard] = []
        self._stamp: tuple[int, int] | None = None
        self._vecs: list[np.ndarray] = []  # memmaps, one per shard
        self._offsets = np.zeros(1, dtype=np.int64)  # global row where each shard starts (+ total)
        self._keys = np.zeros(0, dtype=KEY_DTYPE)  # every key, global row order
        self._prefix = np.zeros(0, dtype=np.uint64)  # sorted first 8 bytes of the keys
        self._order = np.zeros(0, dtype=np.int64)  # global row of each sorted prefix
        self._dim: int | None = None
        self._seq = 0

    # -- reading -------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.folder / INDEX_NAME

    def _disk_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.index_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def _read_index(self) -> tuple[list[Shard], int | None]:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return [], None
        except (OSError, ValueError):
            return [], None  # unreadable: treated as empty, rebuilt by the next write
        if data.get("format") != FORMAT:
            return [], None
        shards = [Shard(str(s["name"]), int(s["rows"])) for s in data.get("shards", [])]
        dim = data.get("dim")
        return shards, (int(dim) if dim else None)

    def refresh(self) -> None:
        """Pick up shards other processes finished since the last look (cheap when none did)."""
        stamp = self._disk_stamp()
        if stamp == self._stamp and stamp is not None:
            return
        for _attempt in range(5):
            shards, dim = self._read_index()
            try:
                self._load(shards, dim)
            except FileNotFoundError:  # merged away between reading the index and opening: read again
                continue
            self._stamp = stamp
            return
        raise OSError(errno.ENOENT, f"{self.folder}: the shards listed in {INDEX_NAME} keep disappearing")

    def _load(self, shards: list[Shard], dim: int | None) -> None:
        if [s.name for s in shards[:len(self._shards)]] == [s.name for s in self._shards]:
            new = shards[len(self._shards):]  # only appended: keep what is mapped
            vecs, keys = list(self._vecs), [self._keys]
        else:
            new, vecs, keys = shards, [], []
        damaged = []
        for s in new:
            try:
                v = np.load(self.folder / f"{s.name}.vecs.npy", mmap_mode="r", allow_pickle=False)
                k = np.load(self.folder / f"{s.name}.keys.npy", allow_pickle=False)
            except FileNotFoundError:
                raise  # merged away meanwhile: the caller reads the index again
            except (OSError, ValueError, EOFError):  # cut short or overwritten outside reviewtui
                damaged.append(s.name)
                continue
            if v.ndim != 2 or len(v) != s.rows or len(k) != s.rows or k.dtype != KEY_DTYPE:
                damaged.append(s.name)
                continue
            vecs.append(v)
            keys.append(k)
        # a damaged shard's rows are not cached: they are embedded again, and the next write lists
        # the shards without it (its files then go with the other unlisted ones)
        self._shards = [s for s in shards if s.name not in damaged]
        self._vecs = vecs
        self._keys = np.concatenate(keys) if keys else np.zeros(0, dtype=KEY_DTYPE)
        sizes = [len(v) for v in vecs]
        self._offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self._dim = dim if dim is not None else (int(vecs[0].shape[1]) if vecs else None)
        self._reindex()

    def _reindex(self) -> None:
        prefix = _prefix(self._keys)
        self._order = np.argsort(prefix, kind="stable")
        self._prefix = prefix[self._order]

    def __len__(self) -> int:
        self.refresh()
        return int(self._offsets[-1])

    @property
    def dim(self) -> int | None:
        self.refresh()
        return self._dim

    @property
    def shards(self) -> list[Shard]:
        self.refresh()
        return list(self._shards)

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """The global row of each key (``S20`` digests), -1 where it is not stored."""
        self.refresh()
        keys = np.asarray(keys, dtype=KEY_DTYPE)
        out = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys) or not len(self._prefix):
            return out
        p = _prefix(keys)
        at = np.searchsorted(self._prefix, p, side="left")
        inside = at < len(self._prefix)
        cand = np.where(inside, self._order[np.minimum(at, len(self._order) - 1)], 0)
        hit = inside & (self._keys[cand] == keys)
        out[hit] = cand[hit]
        # two keys sharing their first 8 bytes (about one pair in 10^7 at a million keys): look further
        maybe = np.nonzero(inside & ~hit & (self._prefix[np.minimum(at, len(self._prefix) - 1)] == p))[0]
        for i in maybe:
            j = int(at[i])
            while j < len(self._prefix) and self._prefix[j] == p[i]:
                row = int(self._order[j])
                if self._keys[row] == keys[i]:
                    out[i] = row
                    break
                j += 1
        return out

    def gather(self, positions: np.ndarray) -> np.ndarray:
        """float32 rows at ``positions`` (all stored), in that order, read from the mapped shards."""
        positions = np.asarray(positions, dtype=np.int64)
        dim = self._dim or 0
        out = np.empty((len(positions), dim), dtype=np.float32)
        if not len(positions):
            return out
        shard = np.searchsorted(self._offsets, positions, side="right") - 1
        for s in np.unique(shard):
            sel = np.nonzero(shard == s)[0]
            rows = positions[sel] - self._offsets[s]
            order = np.argsort(rows, kind="stable")  # read each mapped file front to back
            sel, rows, vecs = sel[order], rows[order], self._vecs[int(s)]
            for a in range(0, len(rows), GATHER_ROWS):  # a float16 copy of a block at a time, not of them all
                out[sel[a:a + GATHER_ROWS]] = vecs[rows[a:a + GATHER_ROWS]]
        return out

    # -- writing -------------------------------------------------------------------------------
    def _locked(self):
        """The folder's lock: one writer at a time changes the shards and the index."""
        return file_lock(self.folder / LOCK_NAME)

    def _new_name(self) -> str:
        self._seq += 1
        return f"s-{os.getpid()}-{self._seq}-{os.urandom(4).hex()}"

    def _write_array(self, path: Path, array: np.ndarray) -> None:
        """``array`` as a .npy at ``path``: written to a temporary name, fsync'd, renamed."""
        with atomic_output(path) as fh:
            np.lib.format.write_array(fh, np.ascontiguousarray(array), allow_pickle=False)

    def _write_shard(self, keys: np.ndarray, vecs: np.ndarray) -> Shard:
        name = self._new_name()
        self._write_array(self.folder / f"{name}.vecs.npy", vecs.astype(VEC_DTYPE, copy=False))
        self._write_array(self.folder / f"{name}.keys.npy", keys.astype(KEY_DTYPE, copy=False))
        _fsync_dir(self.folder)
        return Shard(name, len(keys))

    def _write_index(self, shards: Sequence[Shard], dim: int | None) -> None:
        data = {"format": FORMAT, "dtype": VEC_DTYPE.name, "dim": dim,
                "shards": [{"name": s.name, "rows": s.rows} for s in shards]}
        with atomic_output(self.index_path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        _fsync_dir(self.folder)

    def append(self, keys: np.ndarray, vecs: np.ndarray) -> int:
        """Store ``vecs`` (N, D) under ``keys`` (N ``S20`` digests) as one new shard, leaving out
        keys already stored (by this or another process) and repeats. Returns how many rows were
        added. The rows are readable by every process once this returns."""
        keys = np.asarray(keys, dtype=KEY_DTYPE)
        vecs = np.asarray(vecs)
        if vecs.ndim != 2 or len(vecs) != len(keys):
            raise ValueError(f"{len(keys)} keys for vectors of shape {vecs.shape}")
        with self._locked():
            self.refresh()
            if self._dim is not None and vecs.shape[1] != self._dim:
                raise ValueError(f"{self.folder}: vectors of dimension {vecs.shape[1]}, the cache holds {self._dim}")
            _, first = np.unique(keys, return_index=True)
            first.sort()
            fresh = first[self.positions(keys[first]) < 0]
            if not len(fresh):
                return 0
            shard = self._write_shard(keys[fresh], vecs[fresh])
            shards = [*self._shards, shard]
            self._write_index(shards, int(vecs.shape[1]))
            self.refresh()
            self._tidy(shards)
            return len(fresh)

    def _tidy(self, shards: list[Shard]) -> None:
        """Under the lock: merge the small shards when there are many, and remove the files of
        shards no index lists whose writer is gone (a killed write, a merge's leftovers)."""
        small = [s for s in shards if s.rows < SMALL_ROWS]
        if len(small) >= MERGE_AT:
            names = {s.name for s in small}
            rows = [i for i, s in enumerate(self._shards) if s.name in names]
            keys = np.concatenate([self._keys[self._offsets[i]:self._offsets[i + 1]] for i in rows])
            vecs = np.concatenate([np.asarray(self._vecs[i]) for i in rows])
            merged = self._write_shard(keys, vecs)
            kept = [s for s in shards if s.name not in names]
            self._write_index([*kept, merged], self._dim)
            self.refresh()
        self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Under the lock: every shard file no index lists is what a killed writer left (writers
        write and list their shards while holding the same lock), as is any index temp file."""
        listed = {f"{s.name}.{part}.npy" for s in self._shards for part in ("vecs", "keys")}
        for path in self.folder.iterdir():
            name = path.name
            ours = name.startswith(("s-", ".s-", f".{INDEX_NAME}."))
            if ours and name not in listed:
                try:
                    path.unlink()
                except OSError:
                    pass


def _prefix(keys: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each 20-byte key as an unsigned integer (big-endian: sorts like the bytes)."""
    if not len(keys):
        return np.zeros(0, dtype=np.uint64)
    raw = np.ascontiguousarray(keys, dtype=KEY_DTYPE).view(np.uint8).reshape(len(keys), 20)
    return raw[:, :8].copy().view(">u8").ravel().astype(np.uint64)


def digests(hex_keys: Sequence[str]) -> np.ndarray:
    """``S20`` digests of hex keys (40 characters each)."""
    return np.array([bytes.fromhex(k) for k in hex_keys], dtype=KEY_DTYPE)
