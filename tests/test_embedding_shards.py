"""The embedding cache's float16 shards: lookups, appends from several processes, merging, the
older cache format, and a writer killed with SIGKILL in the middle of a shard."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from reviewtui.modeling import shards as shards_mod
from reviewtui.modeling.shards import ShardedVectors

ROOT = Path(__file__).resolve().parents[1]


def keys_for(words) -> np.ndarray:
    return np.array([hashlib.sha1(str(w).encode()).digest() for w in words], dtype="S20")


def unit_rows(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_rows_come_back_by_key_in_any_order_across_shards(tmp_path):
    store = ShardedVectors(tmp_path / "c")
    a, b = unit_rows(50, seed=1), unit_rows(30, seed=2)
    assert store.append(keys_for(range(50)), a) == 50
    assert store.append(keys_for(range(40, 70)), b) == 20  # the ten already stored are left out
    assert len(store) == 70 and store.dim == 8 and len(store.shards) == 2
    wanted = keys_for([69, 3, 45, 3, 1000])
    pos = store.positions(wanted)
    assert pos[-1] == -1 and (pos[:4] >= 0).all()
    got = store.gather(pos[:4])
    assert got.dtype == np.float32
    expected = np.vstack([b[29], a[3], a[45], a[3]])
    assert np.allclose(got, expected, atol=2e-3)  # float16 on disk
    # a second object (another process, later) reads the same rows from the files
    again = ShardedVectors(tmp_path / "c")
    assert np.array_equal(again.gather(again.positions(wanted[:4])), got)
    index = json.loads((tmp_path / "c" / "index.json").read_text())
    assert index["dtype"] == "float16" and [s["rows"] for s in index["shards"]] == [50, 20]


@pytest.mark.parametrize("part", ["vecs", "keys"])
def test_a_shard_cut_short_outside_reviewtui_is_left_out_and_written_again(tmp_path, part):
    """A shard file truncated (a full disk, a copy cut short): every command that embedded failed with
    numpy's "EOF: reading array header". Its rows are now simply not cached: the next append
    stores them again, and the index no longer lists the damaged shard, whose files go."""
    store = ShardedVectors(tmp_path / "c")
    a, b = unit_rows(50, seed=1), unit_rows(30, seed=2)
    store.append(keys_for(range(50)), a)
    store.append(keys_for(range(50, 80)), b)
    damaged = store.shards[0].name
    path = tmp_path / "c" / f"{damaged}.{part}.npy"
    with open(path, "r+b") as fh:
        fh.truncate(50)
    again = ShardedVectors(tmp_path / "c")
    assert len(again) == 30 and (again.positions(keys_for(range(50))) == -1).all()
    assert (again.positions(keys_for(range(50, 80))) >= 0).all()
    assert again.append(keys_for(range(50)), a) == 50
    assert len(ShardedVectors(tmp_path / "c")) == 80
    assert damaged not in [s.name for s in again.shards]
    assert not list((tmp_path / "c").glob(f"{damaged}.*"))


def test_gather_in_blocks_returns_every_row_in_the_order_asked(tmp_path, monkeypatch):
    """gather copies a block of rows at a time out of a mapped shard: blocks of 7 rows over two
    shards, positions shuffled and repeated, give the rows a one-block read gives."""
    store = ShardedVectors(tmp_path / "c")
    a, b = unit_rows(40, seed=3), unit_rows(25, seed=4)
    store.append(keys_for(range(40)), a)
    store.append(keys_for(range(40, 65)), b)
    pos = np.random.default_rng(0).permutation(np.r_[np.arange(65), np.arange(0, 65, 5)])
    whole = store.gather(pos)
    monkeypatch.setattr(shards_mod, "GATHER_ROWS", 7)
    blocks = store.gather(pos)
    assert np.array_equal(blocks, whole)
    both = np.vstack([a, b])
    assert np.allclose(blocks, both[pos], atol=2e-3)


def test_keys_sharing_their_first_eight_bytes_are_told_apart(tmp_path):
    store = ShardedVectors(tmp_path)
    k1 = b"\x01" * 8 + b"\x02" * 12
    k2 = b"\x01" * 8 + b"\x03" * 12
    k3 = b"\x01" * 8 + b"\x04" * 12
    vecs = unit_rows(2)
    store.append(np.array([k1, k2], dtype="S20"), vecs)
    pos = store.positions(np.array([k2, k1, k3], dtype="S20"))
    assert pos[2] == -1
    assert np.allclose(store.gather(pos[:2]), vecs[[1, 0]], atol=2e-3)


def test_small_shards_are_merged_and_their_files_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(shards_mod, "MERGE_AT", 4)
    store = ShardedVectors(tmp_path)
    vecs = unit_rows(40)
    for i in range(4):
        store.append(keys_for(range(10 * i, 10 * i + 10)), vecs[10 * i:10 * i + 10])
    assert [s.rows for s in store.shards] == [40]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len([f for f in files if f.endswith(".vecs.npy")]) == 1 and "index.json" in files
    assert np.allclose(store.gather(store.positions(keys_for([0, 39, 17]))), vecs[[0, 39, 17]], atol=2e-3)


def test_appends_from_several_processes_all_land(tmp_path):
    script = textwrap.dedent(f"""
        import hashlib, sys
        import numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from reviewtui.modeling.shards import ShardedVectors
        store = ShardedVectors(__import__("pathlib").Path(sys.argv[1]))
        w = int(sys.argv[2])
        for i in range(5):
            words = [f"{{w}}-{{i}}-{{j}}" for j in range(20)]
            keys = np.array([hashlib.sha1(x.encode()).digest() for x in words], dtype="S20")
            store.append(keys, np.full((20, 8), w + i / 10, dtype=np.float32))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(w)]) for w in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    store = ShardedVectors(tmp_path)
    assert len(store) == 300
    for w in range(3):
        pos = store.positions(keys_for([f"{w}-4-{j}" for j in range(20)]))
        assert (pos >= 0).all() and np.allclose(store.gather(pos), w + 0.4, atol=1e-2)


def test_an_older_cache_becomes_a_shard(tmp_path):
    from reviewtui.modeling.embeddings import migrate_flat_cache

    texts = ["one", "two", "three"]
    vecs = unit_rows(3)
    np.save(tmp_path / "keys.npy", np.array([hashlib.sha1(t.encode()).hexdigest() for t in texts], dtype="U40"))
    np.save(tmp_path / "vectors.npy", vecs)
    store = ShardedVectors(tmp_path)
    assert migrate_flat_cache(tmp_path, store) is True
    assert not (tmp_path / "keys.npy").exists() and not (tmp_path / "vectors.npy").exists()
    assert np.allclose(store.gather(store.positions(keys_for(["three", "one"]))), vecs[[2, 0]], atol=2e-3)
    assert migrate_flat_cache(tmp_path, store) is False  # nothing left to migrate


# --- a writer killed with SIGKILL ------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import hashlib, os, sys, time
    from pathlib import Path
    import numpy as np
    sys.path.insert(0, {root!r})
    from reviewtui.modeling import shards

    folder, stop_in_shard = Path(sys.argv[1]), int(sys.argv[2])
    store = shards.ShardedVectors(folder)
    real_write = shards.ShardedVectors._write_array

    def write_array(self, path, array):
        # the shard numbered stop_in_shard: write half of its vectors' temp file, say so, wait to be killed
        if self._seq == stop_in_shard and path.name.endswith(".vecs.npy"):
            with open(folder / f".{{path.name}}.partial.tmp", "wb") as fh:
                fh.write(array.tobytes()[: array.nbytes // 2])
                fh.flush()
                os.fsync(fh.fileno())
            print("mid-write", flush=True)
            time.sleep(600)
        real_write(self, path, array)

    shards.ShardedVectors._write_array = write_array
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    while True:
        words = [f"text {{n}}-{{j}}" for j in range(500)]
        keys = np.array([hashlib.sha1(w.encode()).digest() for w in words], dtype="S20")
        vecs = np.full((500, 384), (n + 1) / 1000, dtype=np.float32)
        store.append(keys, vecs)
        print(f"finished {{n}}", flush=True)
        n += 1
""")


def _run_writer(folder: Path, stop_in_shard: int) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT)), str(folder), str(stop_in_shard)],
                            stdout=subprocess.PIPE, text=True)
    finished = []
    for line in proc.stdout:
        if line.startswith("finished"):
            finished.append(int(line.split()[1]))
        elif line.startswith("mid-write"):
            break
    return proc, finished


def _check_reopened(folder: Path, finished: list[int]) -> ShardedVectors:
    store = ShardedVectors(folder)
    assert len(store) == 500 * len(finished)
    for n in finished:
        pos = store.positions(keys_for([f"text {n}-{j}" for j in (0, 250, 499)]))
        assert (pos >= 0).all()
        assert np.allclose(store.gather(pos), (n + 1) / 1000, atol=1e-3)
    return store


def test_a_writer_killed_mid_shard_loses_only_that_shard(tmp_path):
    folder = tmp_path / "cache"
    proc, finished = _run_writer(folder, stop_in_shard=4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert finished == [0, 1, 2]  # shard 4 of this process is the fourth append
    assert any(p.name.endswith(".tmp") for p in folder.iterdir())  # the half-written shard is on disk
    store = _check_reopened(folder, finished)
    # the next writer appends after the finished shards and removes what the killed one left
    assert store.append(keys_for(["after the kill"]), unit_rows(1, 384)) == 1
    assert not any(p.name.endswith(".tmp") for p in folder.iterdir())
    assert len(ShardedVectors(folder)) == 1501


def test_writers_killed_at_random_moments_never_corrupt_the_cache(tmp_path):
    folder = tmp_path / "cache"
    script = WRITER.format(root=str(ROOT))
    rng = np.random.default_rng(7)
    kept: set[int] = set()
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script, str(folder), "-1", str(1000 * round_)],
                                stdout=subprocess.PIPE, text=True)
        seen = []
        for line in proc.stdout:
            seen.append(int(line.split()[1]))
            if len(seen) >= 2:
                break
        time.sleep(float(rng.uniform(0.0, 0.3)))  # somewhere in the next shard, its index or a merge
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        store = ShardedVectors(folder)
        # every shard the writer reported finished is there, with its values; a later unreported one may be too
        for n in seen:
            pos = store.positions(keys_for([f"text {n}-{j}" for j in (0, 499)]))
            assert (pos >= 0).all() and np.allclose(store.gather(pos), (n + 1) / 1000, atol=1e-3)
        kept.update(seen)
    assert len(ShardedVectors(folder)) >= 500 * len(kept)


# --- the embedding cache on top of the shards -------------------------------------------------------
def test_the_cache_writes_shards_as_it_goes_and_keeps_them_on_cancel(tmp_path, tiny_bert, monkeypatch):
    import threading

    from reviewtui.events import Progress
    from reviewtui.modeling import Cancelled
    from reviewtui.modeling import embeddings as emb

    monkeypatch.setattr(emb, "FLUSH_ROWS", 16)
    texts = [f"review number {i} about the app" for i in range(1200)]
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, Progress) and event.done >= 600:  # in the second chunk of 512 texts
            cancel.set()

    cache = emb.EmbeddingCache(tmp_path, str(tiny_bert), max_length=16)
    with pytest.raises(Cancelled):
        cache.embed(texts, on_event=sink, batch_size=8, cancel=cancel)
    kept = sum(cache.cached(texts))
    assert kept == 512 and len(cache.vectors.shards) == 1  # the finished chunk was written
    # a fresh cache (another run) encodes only what is missing, and a hit equals the first answer
    encoded = []
    real = emb.encode_texts
    monkeypatch.setattr(emb, "encode_texts", lambda tok, model, batch, **kw: encoded.extend(batch) or real(
        tok, model, batch, **kw))
    again = emb.EmbeddingCache(tmp_path, str(tiny_bert), max_length=16)
    X = again.embed(texts, batch_size=8)
    assert len(encoded) == 1200 - kept
    assert X.shape == (1200, 32) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(again.embed(texts[::-1]), X[::-1])
    assert len(encoded) == 1200 - kept


def test_ctrl_c_keeps_what_was_encoded_before_it(tmp_path, tiny_bert, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) skipped the save a cancel makes: only the periodic saves were
    kept, while predict said what was embedded was kept."""
    from reviewtui.events import Progress
    from reviewtui.modeling import embeddings as emb

    monkeypatch.setattr(emb, "FLUSH_ROWS", 10**9)
    monkeypatch.setattr(emb, "FLUSH_EVERY_S", 10**9)  # no save on the way: only the one at the end
    texts = [f"review number {i} about the app" for i in range(1200)]

    def ctrl_c(event):
        if isinstance(event, Progress) and event.done >= 600:
            raise KeyboardInterrupt

    cache = emb.EmbeddingCache(tmp_path, str(tiny_bert), max_length=16)
    with pytest.raises(KeyboardInterrupt):
        cache.embed(texts, on_event=ctrl_c, batch_size=8)
    assert sum(emb.EmbeddingCache(tmp_path, str(tiny_bert), max_length=16).cached(texts)) == 512


def test_a_cache_folder_in_the_older_format_is_migrated_on_first_use(tmp_path, tiny_bert, monkeypatch):
    from reviewtui.modeling import embeddings as emb

    cache = emb.EmbeddingCache(tmp_path, str(tiny_bert), max_length=16)
    folder = cache.folder
    folder.mkdir(parents=True)
    old = unit_rows(2, 32)
    np.save(folder / "keys.npy", np.array([emb.text_key("first"), emb.text_key("second")], dtype="U40"))
    np.save(folder / "vectors.npy", old)
    monkeypatch.setattr(emb, "load_encoder_cached", lambda *_: pytest.fail("model loaded for cached texts"))
    X = cache.embed(["second", "first"])
    assert np.allclose(X, old[[1, 0]], atol=2e-3)
    assert not (folder / "vectors.npy").exists() and (folder / "index.json").exists()
