"""Active learning: query strategies, the labeling queue, suggestions, and simulation against an oracle.

The quick model (cached sentence embeddings + a linear classifier) scores every unlabeled asset;
a strategy turns its probabilities into the next batch to label:

* ``random``            a uniform sample (the baseline);
* ``least_confidence``  lowest top probability first;
* ``margin``            smallest gap between the two top probabilities first;
* ``entropy``           highest entropy of the probabilities first;
* ``diversity``         the ``DIVERSITY_POOL`` x size most uncertain assets (by margin) are
                        clustered into ``size`` groups by k-means weighted by that uncertainty,
                        and the asset nearest each group's centre is taken: one per region of
                        the uncertain part of the corpus (weighted k-means over an uncertainty
                        pre-filter, as in Zhdanov 2019, "Diverse mini-batch active learning");
* ``weakest``           the category that most needs labels (``target``: fewest labels, or the
                        lowest cross-validated F1, see ``loop.stopping.weakest_category``): the
                        assets whose probability of it is nearest 0.5 first, i.e. that category's
                        one-against-the-rest boundary, where its errors are; spread over that
                        boundary as ``diversity`` spreads its batch (with the embeddings).

Every strategy but random skips near-duplicates inside a batch: a candidate whose embedding has a
cosine similarity above ``NEAR_DUPLICATE`` with one already picked waits until the batch cannot be
filled otherwise, so a batch is not ``size`` rewordings of the same review.

Modules: ``strategies`` (scores and selection), ``model`` (the quick model's fit and
probabilities), ``queue`` (``build_queue``: the batch as data, its priorities written to the
backend), ``suggestions`` (``Suggester``, following ``[active_learning] retrain_every``; both
take an optional ``Prior``, the zero-shot model of ``loop.zeroshot``, blended in while labels
are few),
``oracle`` (oracle files) and ``simulation`` (learning curves from an oracle). Every function takes
what it needs (a store, a taxonomy, an embedding cache, the ``[active_learning]`` settings), never
the workspace. numpy only at import; sklearn and torch load inside the functions.
"""

from __future__ import annotations

from reviewtui.active.model import fit_quick, proba_for
from reviewtui.active.oracle import Oracle, read_oracle
from reviewtui.active.queue import QueueBatch, QueueItem, build_queue, candidate_pool
from reviewtui.active.simulation import (CurvePoint, SimulationResult, held_out_split, simulate_arrays,
                                         simulate_oracle)
from reviewtui.active.strategies import (ALIASES, DIVERSITY_POOL, NEAR_DUPLICATE, STRATEGIES, check_strategy,
                                         representative_batch, select_batch, skip_near_duplicates, uncertainty,
                                         weighted_kmeans_picks)
from reviewtui.active.suggestions import Prior, Refit, Suggester, Suggestions

__all__ = [
    "ALIASES", "DIVERSITY_POOL", "NEAR_DUPLICATE", "STRATEGIES", "CurvePoint", "Oracle", "Prior", "QueueBatch",
    "QueueItem", "Refit", "SimulationResult", "Suggester", "Suggestions", "build_queue", "candidate_pool",
    "check_strategy", "fit_quick", "held_out_split", "proba_for",
    "read_oracle", "representative_batch", "select_batch", "simulate_arrays", "simulate_oracle",
    "skip_near_duplicates", "uncertainty", "weighted_kmeans_picks",
]
