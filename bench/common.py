"""What the benchmarks share: where the repository and ../shared/data are, models loaded offline,
a timestamped log line, one marked section of docs/BENCHMARKS.md replaced, a sample of the
play-store-fintech reviews, and the play-store-fintech reviews labeled in a fintech taxonomy
(bench/fixtures: ids and categories only, the texts joined at run time).

A benchmark starts with::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.common import DATA, ROOT, log, write_section
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"


def log(*parts: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, flush=True)


def write_section(text: str, start: str, end: str, path: Path = BENCHMARKS) -> None:
    """Replace the part of ``path`` from ``start`` to ``end`` (both included) with ``text``, which
    carries the two markers itself; append it when the file has no such part."""
    from reviewtui.files import atomic_write_text

    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in old and end in old:
        new = old[:old.index(start)] + text.rstrip("\n") + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, new)


def fintech_reviews(n: int, seed: int = 0):
    """``n`` cleaned reviews sampled from play-store-fintech, each id once: ids, texts, metadata,
    and how many distinct reviews there were to sample from."""
    import numpy as np

    from reviewtui.ingest import read_reviews

    ids, texts, meta = [], [], []
    for f in sorted((DATA / "play-store-fintech").glob("*/app_reviews_*.csv")):
        b = read_reviews(f)
        ids += b.external_ids
        texts += b.texts
        meta += b.metadata
    seen, uniq = set(), []
    for i, e in enumerate(ids):
        if e not in seen:
            seen.add(e)
            uniq.append(i)
    pick = sorted(np.random.default_rng(seed).choice(uniq, size=min(n, len(uniq)), replace=False))
    return [ids[i] for i in pick], [texts[i] for i in pick], [meta[i] for i in pick], len(uniq)


FINTECH_LABELS = ROOT / "bench" / "fixtures" / "categories-play-store-231.csv"
FINTECH_TAXONOMY = ROOT / "bench" / "fixtures" / "fintech-taxonomy.toml"


def fintech_labeled(path: Path = FINTECH_LABELS):
    """The reviews of ``path`` (columns reviewId,category: ids and categories only) with their
    texts read from play-store-fintech: ids, texts, categories, in the file's order. Raises
    SystemExit when a labeled review is not in the corpus."""
    import csv

    from reviewtui.ingest import read_reviews

    with open(path, encoding="utf-8", newline="") as fh:
        labels = {r["reviewId"]: r["category"] for r in csv.DictReader(fh)}
    texts: dict[str, str] = {}
    for f in sorted((DATA / "play-store-fintech").glob("*/*.csv")):
        b = read_reviews(f)
        for e, t in zip(b.external_ids, b.texts):
            if e in labels:
                texts.setdefault(e, t)
    missing = [i for i in labels if i not in texts]
    if missing:
        raise SystemExit(f"{len(missing)} labeled reviews are not in {DATA / 'play-store-fintech'} (e.g. {missing[0]})")
    ids = list(labels)
    return ids, [texts[i] for i in ids], [labels[i] for i in ids]
