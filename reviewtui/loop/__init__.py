"""The labeling loop's helpers: suggestions before the first label, when to stop, what to label next.

* ``zeroshot``  ZeroShotModel: categories' descriptions and examples against review embeddings,
                the first batch spread over predicted categories and the embedding space, and the
                blend of the zero-shot prior with the quick model while labels are few;
* ``stopping``  the stop signal after every retrain (Cohen's kappa between consecutive models on a
                fixed sample, mean uncertainty, cross-validated macro-F1), per-category F1 over
                rounds and the weakest category, kept in the store;
* ``search``    full-text search (SQLite FTS5) and filters over the queue, and bulk labels;
* ``discover``  clusters of chosen reviews named by their distinctive words, "what is new in a
                version", and the plan that turns a cluster into a new category;
* ``replay``    the loop replayed against an oracle (cold start, stop signal), for benchmarks.

Every function takes what it needs (a store, a taxonomy, arrays, an embedding function or cache,
a typed settings section), never the workspace. numpy only at import; sklearn loads inside.
"""

from __future__ import annotations
