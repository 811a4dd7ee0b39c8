"""Which of a discovered cluster's reviews come first: the examples a new category gets from it
(`discover`'s `n`, `discover --make`) and the order its reviews are queued in.

Two orders of the same clusters, on three labeled corpora (dataset-11, the 231 labeled fintech
reviews, a 3,000-review demo corpus): nearest the cluster's centre (the earlier order), and
furthest along the centre minus the mean of every review looked into (the order now). Each is
scored by precision at 3 and 5: the share of a cluster's first reviews whose true category is
the cluster's most common one. Discover runs over all of each corpus, 3 seeds.

    .venv/bin/python bench/bench_discover_order.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import log, write_section  # noqa: E402

START, END = "<!-- discover-order:start -->", "<!-- discover-order:end -->"
SEEDS = 3


def main() -> None:
    import numpy as np

    from bench.bench_labeling import dataset11, demo_corpus
    from bench.common import fintech_labeled
    from reviewtui.loop.discover import discover
    from reviewtui.modeling.embeddings import EmbeddingCache

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="discover-order-"))
    cache = EmbeddingCache(tmp / "cache", "minilm", 128)
    ids, texts, labels = fintech_labeled()
    corpora = [dataset11(cache),
               {"name": "fintech (231 labeled)", "ids": ids, "texts": texts, "labels": labels,
                "X": cache.embed(texts)},
               demo_corpus(cache, 3000, tmp)]
    rows = []
    for c in corpora:
        X = c["X"]
        truth = dict(zip(c["ids"], c["labels"]))
        pos = {e: i for i, e in enumerate(c["ids"])}
        middle = X.mean(axis=0)
        scores: dict[str, dict[int, list[float]]] = {"centre": {3: [], 5: []}, "direction": {3: [], 5: []}}
        n_clusters = 0
        for seed in range(SEEDS):
            found = discover(c["ids"], c["texts"], X, seed=seed)
            for cl in found.clusters:
                members = np.array([pos[e] for e in cl.external_ids])
                most = Counter(truth[e] for e in cl.external_ids).most_common(1)[0][0]
                centre = X[members].mean(axis=0)
                n_clusters += 1
                for name, v in (("centre", centre), ("direction", centre - middle)):
                    order = members[np.argsort(-(X[members] @ v), kind="stable")]
                    for k in (3, 5):
                        scores[name][k].append(float(np.mean([truth[c["ids"][i]] == most for i in order[:k]])))
        rows.append((c["name"], n_clusters, {n: {k: float(np.mean(v)) for k, v in s.items()} for n, s in scores.items()}))
        log(c["name"], rows[-1][2])
    lines = [START, "## Discover: which reviews of a cluster come first (`bench/bench_discover_order.py`)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')}; MiniLM embeddings; discover over all of each corpus, "
             f"{SEEDS} seeds. A cluster's first reviews become a new category's examples (the zero-shot "
             "suggestions for it start from them) and are queued first. Precision at k: the share of its "
             "first k reviews whose true category is the cluster's most common one.", "",
             "| corpus | clusters | nearest the centre: p@3 / p@5 | along centre minus the mean (now): p@3 / p@5 |",
             "|---|---:|---|---|"]
    for name, n, s in rows:
        lines.append(f"| {name} | {n} | {s['centre'][3]:.3f} / {s['centre'][5]:.3f} | "
                     f"**{s['direction'][3]:.3f} / {s['direction'][5]:.3f}** |")
    lines += ["", "Nearest the centre, a loose cluster's first reviews are short, vague ones that sit near "
              "the middle of every topic (\"Just started using it\"); along the direction that sets the "
              "cluster apart from the rest they are the reviews most about its topic.", "",
              f"Whole bench {time.perf_counter() - t0:.0f} s.", END]
    write_section("\n".join(lines) + "\n", START, END)


if __name__ == "__main__":
    main()
