"""Discovering new categories: clusters of chosen reviews, named by their distinctive words.

:func:`discover` clusters the embeddings of a selection of reviews (the "other" category, the
low-confidence predictions, one app version; see the ``select_*`` functions) and describes each
cluster by its size, its most distinctive words and its most typical reviews.

How the clustering is chosen, per selection. Every clustering keeps clusters of at least
``min_size`` reviews (by default 1 % of the selection and at least 5).

* k-means, k by the best silhouette (cosine) over a range whose lower end grows with the
  selection: one cluster per ``REVIEWS_PER_CLUSTER`` (50) reviews, at least 2 and at most
  ``K_FLOOR_MAX`` (6), up to ``K_MAX`` (15, at most a ``min_size``-th of the reviews), among the k
  whose smallest cluster holds ``min_size`` reviews. The silhouette alone rewards the coarsest
  split of review embeddings: on 3,000 real fintech reviews it is 0.03 to 0.2 for every k and
  peaks at k = 2 to 4 (short Hindi or one-word reviews against the rest), and on planted topics
  that share a direction (a language, a tone) it prefers the families to the topics. The floor
  keeps small selections free to have 2 or 3 clusters.
* HDBSCAN (on a 30-dimensional PCA of the embeddings) finds dense themes and leaves the rest
  unclustered (counted in ``unclustered``). It is kept when it clusters at least
  ``MIN_COVERAGE`` of the selection into at least as many clusters as k-means' lower end, with a
  better silhouette; otherwise k-means. The coverage matters on reviews: the dense clusters of a
  fintech app's version (8 holding 20 % of it, silhouette 0.69) were near-duplicate short praise
  ("good", "nice app"), while on the demo corpus HDBSCAN's 10 clusters holding a third of the
  reviews single out the 4.5 redesign. The count keeps it from winning with the two families
  the silhouette prefers.

``clusters`` fixes k (k-means). The result says which clustering was used and why.

Words: class-based TF-IDF (as in BERTopic): each cluster's reviews are one document, and the rest
of the corpus (``background``) one more, so a word scores high when it is frequent in the cluster
and rare elsewhere. Left out of the names: the words of the apps' ids (:func:`app_words`) and the
words in more than ``COMMON_SHARE`` of the reviews outside the cluster, whatever their language
(no stop list but English's). ``new_in_version`` clusters a version's reviews together with those of the
versions before it and ranks the clusters by how much their share grew. Shares of few reviews
move a lot with each review: when the version or the versions before it have fewer than
``MIN_GROWTH_REVIEWS`` reviews, or a cluster holds fewer than ``MIN_GROWTH_CLUSTER`` of the
version's, the result carries a :class:`GrowthCaution` saying so.

:func:`category_from_cluster` is the pure step behind "make this cluster a category": the new
taxonomy entries and the queue priorities for the cluster's unlabeled reviews. Nothing is labeled.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Mapping, Sequence

import numpy as np

from reviewtui.categories import CATCH_ALL
from reviewtui.config import KEY_RE, Taxonomy, category_key
from reviewtui.errors import ReviewtuiError

SELECTIONS = ("other", "low-confidence", "version")
LOW_CONFIDENCE = 0.5  # the low-confidence selection: predictions below this probability
BACKGROUND = 5000  # texts of the rest of the corpus the words are contrasted with (a sample)
#: With every category trained on, the "other" selection looks into the category named so (any
#: case): the catch-all names a taxonomy keeps out of training, and their usual variants.
CATCH_ALL_NAMES = tuple(n.casefold() for n in (*CATCH_ALL, "Others", "Misc", "Miscellaneous"))
MIN_COVERAGE = 0.3  # HDBSCAN must cluster at least this share of the selection to be chosen
K_MAX = 15
#: The automatic k is at least one cluster per this many reviews (up to K_FLOOR_MAX): the silhouette
#: alone prefers the coarsest split of review embeddings (see the module docstring).
REVIEWS_PER_CLUSTER = 50
K_FLOOR_MAX = 6
N_INIT = 3  # k-means restarts per k: 5 took about twice as long on 3,000 reviews for the same k
PCA_DIMS = 30
SILHOUETTE_SAMPLE = 3000
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_']+\b"
#: Growth compares shares, and a share of few reviews moves a lot with each one: below 30 reviews
#: (the version's, or the earlier versions'), one review is more than 3 points of share and the
#: 95 % interval of a 20 % share is wider than ±14 points, so growth is flagged as unreliable.
MIN_GROWTH_REVIEWS = 30
#: A cluster holding fewer of the version's reviews than this has a growth that one review more
#: or less turns around (2 of 13 reviews is 15 %, 3 of 13 is 23 %): its growth is flagged.
MIN_GROWTH_CLUSTER = 5
#: A word in more than this share of the reviews outside a cluster (and in at least
#: COMMON_MIN_REVIEWS of them) is left out of the cluster's name, with the phrases holding it: a
#: word of every topic. Of 34k fintech reviews of four apps, "app" is in 32 %, "good" 17 %, "card"
#: 15 %, "money" 12 %, "cred" (the most reviewed app's name) 7 %, "payment" 6.5 %, "bank" 5.3 %,
#: "kids" 5.2 % (docs/LOOP.md). Outside a cluster the share is lower for the cluster's own topic:
#: at 5 % the Greenlight cluster keeps "kids" and a bank cluster "payments"; at 10 % "credit",
#: "payment" and "cred" still named half the low-confidence clusters; at 3 % "kids" and "update"
#: went too. Shares are counted outside the cluster so that a big topic keeps its words.
COMMON_SHARE = 0.05
COMMON_MIN_REVIEWS = 5
#: A start or end of an app id's part ("fi" of "epifi") is the app's name when it is in at least
#: this share of the app's reviews and this many times as often as in the other apps' reviews.
ID_PIECE_SHARE = 0.01
ID_PIECE_LIFT = 5.0
APP_SAMPLE = 1000  # reviews of each app read to find which pieces of its id its reviewers use
PALETTE = ("#1ABC9C", "#D35400", "#C0392B", "#7F8C8D", "#2980B9", "#8E44AD", "#27AE60", "#F39C12")


@dataclass
class Cluster:
    """One cluster: its members (``external_ids``, most typical first: furthest along its centre
    minus the mean of the reviews looked into), their count, the most distinctive ``words``, and a
    few ``examples`` (external id, text), the most typical.
    ``share``/``previous_share``/``growth`` are set by :func:`new_in_version`."""

    id: int
    size: int
    words: list[str]
    external_ids: list[str]
    examples: list[tuple[str, str]]
    share: float | None = None
    previous_share: float | None = None
    growth: float | None = None

    @property
    def name(self) -> str:
        return ", ".join(self.words[:3]) if self.words else f"cluster {self.id + 1}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": self.size, "words": self.words,
                "examples": [{"id": i, "text": t} for i, t in self.examples], "share": self.share,
                "previous_share": self.previous_share, "growth": self.growth, "external_ids": self.external_ids}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Cluster":
        """The cluster :meth:`to_dict` wrote."""
        return cls(int(data["id"]), int(data["size"]), list(data["words"]), list(data["external_ids"]),
                   [(e["id"], e["text"]) for e in data.get("examples", [])], data.get("share"),
                   data.get("previous_share"), data.get("growth"))


@dataclass(frozen=True)
class GrowthCaution:
    """Why the growth of a version's clusters is not reliable: the version has ``reviews`` and
    the earlier versions ``earlier`` (unreliable below ``min_reviews``), and the clusters ranked
    ``small_clusters`` (1-based) hold fewer than ``min_cluster`` of the version's reviews."""

    reviews: int
    earlier: int
    min_reviews: int
    small_clusters: tuple[int, ...]
    min_cluster: int

    def to_dict(self) -> dict[str, Any]:
        return {"reviews": self.reviews, "earlier": self.earlier, "min_reviews": self.min_reviews,
                "small_clusters": list(self.small_clusters), "min_cluster": self.min_cluster}


def growth_caution(reviews: int, earlier: int, clusters: Sequence[Cluster], *,
                   min_reviews: int = MIN_GROWTH_REVIEWS, min_cluster: int = MIN_GROWTH_CLUSTER
                   ) -> GrowthCaution | None:
    """A :class:`GrowthCaution` when the version's ``reviews`` or the ``earlier`` versions' are
    fewer than ``min_reviews``, or some of ``clusters`` (ranked, ``id`` their rank from 0) hold
    fewer than ``min_cluster`` reviews; None when the growth figures rest on enough reviews."""
    small = tuple(c.id + 1 for c in clusters if c.size < min_cluster)
    if reviews >= min_reviews and earlier >= min_reviews and not small:
        return None
    return GrowthCaution(int(reviews), int(earlier), min_reviews, small, min_cluster)


@dataclass
class Discovery:
    """The clusters of one selection, ranked (by size, or by growth for a version), and how they
    were made. ``unclustered`` counts the reviews HDBSCAN left out (0 for k-means); ``caution``
    (a version's result) says why its growth figures are not reliable, None when they are."""

    selection: str
    clusters: list[Cluster]
    method: str
    reason: str
    silhouette: float | None
    size: int
    unclustered: int = 0
    compared_with: int = 0  # reviews of the earlier versions (new_in_version)
    caution: GrowthCaution | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"selection": self.selection, "method": self.method, "reason": self.reason,
                "silhouette": self.silhouette, "size": self.size, "unclustered": self.unclustered,
                "compared_with": self.compared_with, "clusters": [c.to_dict() for c in self.clusters],
                "caution": self.caution.to_dict() if self.caution is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Discovery":
        """The discovery :meth:`to_dict` wrote (a listing saved to make one of its clusters later)."""
        c = data.get("caution")
        caution = GrowthCaution(c["reviews"], c["earlier"], c["min_reviews"], tuple(c["small_clusters"]),
                                c["min_cluster"]) if c else None
        return cls(data["selection"], [Cluster.from_dict(x) for x in data["clusters"]], data["method"],
                   data["reason"], data.get("silhouette"), int(data["size"]), int(data.get("unclustered", 0)),
                   int(data.get("compared_with", 0)), caution)


# --- clustering ----------------------------------------------------------------------------------
def _silhouette(X: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    from sklearn.metrics import silhouette_score

    if len(set(labels.tolist())) < 2 or len(labels) < 3:
        return None
    size = min(len(labels), SILHOUETTE_SAMPLE)
    return float(silhouette_score(X, labels, metric="cosine", sample_size=size, random_state=seed))


def default_min_size(n: int) -> int:
    """The default smallest cluster for a selection of ``n`` reviews: 1 % of them, at least 5."""
    return max(5, n // 100)


def check_options(n: int | None, *, clusters: int | None = None, min_size: int | None = None) -> None:
    """Raises ReviewtuiError when ``clusters`` (a fixed k) or ``min_size`` (the smallest cluster)
    cannot work for a selection of ``n`` reviews (``n`` None: checks what needs no selection)."""
    if clusters is not None and min_size is not None:
        raise ReviewtuiError("give --clusters K (a fixed number of clusters) or --min-size N (the smallest "
                             "cluster, k chosen for it), not both")
    for flag, value in (("--clusters", clusters), ("--min-size", min_size)):
        if value is not None and (value < 2 or (n is not None and 2 * value > n)):
            most = f" and at most half the {n:,} reviews selected ({n // 2:,})" if n is not None else ""
            raise ReviewtuiError(f"{flag} must be at least 2{most}, not {value}")


def k_bounds(n: int, min_size: int) -> tuple[int, int]:
    """The k the automatic choice tries for ``n`` reviews and clusters of at least ``min_size``:
    from one cluster per ``REVIEWS_PER_CLUSTER`` reviews (at least 2, at most ``K_FLOOR_MAX``) to
    ``K_MAX`` (at most ``n // min_size``, at least 2)."""
    hi = max(2, min(K_MAX, n // max(1, min_size)))
    return min(hi, max(2, min(K_FLOOR_MAX, n // REVIEWS_PER_CLUSTER))), hi


@dataclass(frozen=True)
class KChoice:
    """k-means' choice: ``labels``, ``k``, its ``silhouette``, the ``tried`` range of k, whether
    k was ``fixed`` (given), and its ``smallest`` cluster."""

    labels: np.ndarray
    k: int
    silhouette: float
    tried: tuple[int, int]
    fixed: bool = False
    smallest: int = 0

    def reason(self, min_size: int) -> str:
        if self.fixed:
            return f"k-means, k = {self.k} as asked (silhouette {self.silhouette:.3f})"
        why = (f"clusters of at least {min_size}" if self.smallest >= min_size else
               f"no k gave clusters of at least {min_size}: the smallest has {self.smallest}")
        return (f"k-means, k = {self.k} by silhouette ({self.silhouette:.3f}) over k = {self.tried[0]} to "
                f"{self.tried[1]}, {why}")


def kmeans_k(X: np.ndarray, *, k: int | None = None, min_size: int = 1, seed: int = 0) -> KChoice:
    """k-means on the rows of ``X``: with ``k`` given, that k; else the k of :func:`k_bounds` whose
    cosine silhouette is the best among those whose smallest cluster has ``min_size`` rows (when
    none has, the k whose smallest cluster is largest)."""
    from sklearn.cluster import KMeans

    n = len(X)
    lo, hi = (k, k) if k is not None else k_bounds(n, min_size)
    fixed = k is not None
    tried = []  # (k, silhouette, smallest cluster, labels)
    for j in range(max(2, lo), hi + 1):
        labels = KMeans(n_clusters=j, n_init=N_INIT, random_state=seed).fit(X).labels_.astype(int)
        s = _silhouette(X, labels, seed)
        if s is not None:
            tried.append((j, s, int(np.bincount(labels).min()), labels))
    if not tried:
        return KChoice(np.zeros(n, dtype=int), 1, 0.0, (lo, hi), fixed)
    big = [t for t in tried if t[2] >= min_size] or [max(tried, key=lambda t: (t[2], -t[0]))]
    best_k, s, smallest, labels = max(big, key=lambda t: t[1])
    return KChoice(labels, best_k, s, (lo, hi), fixed, smallest)


def hdbscan_labels(X: np.ndarray, *, min_cluster_size: int, seed: int = 0) -> np.ndarray:
    """HDBSCAN labels (-1 = not in a cluster) on a PCA of ``X`` to ``PCA_DIMS`` dimensions."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    Z = X
    if X.shape[1] > PCA_DIMS and len(X) > PCA_DIMS:
        Z = PCA(n_components=PCA_DIMS, random_state=seed).fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return HDBSCAN(min_cluster_size=int(min_cluster_size)).fit(Z).labels_.astype(int)


def cluster(X: np.ndarray, *, seed: int = 0, min_cluster_size: int | None = None, method: str = "auto",
            clusters: int | None = None) -> tuple[np.ndarray, str, str, float | None]:
    """(labels, method, reason, silhouette) for the rows of ``X`` (unit embeddings). ``method``:
    "auto" (the rule in the module docstring), "hdbscan" or "kmeans"; ``clusters`` fixes k-means'
    k; ``min_cluster_size`` is the smallest cluster (default :func:`default_min_size`). Labels are
    -1 for rows no cluster holds. Raises ReviewtuiError for options that cannot work
    (:func:`check_options`)."""
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    check_options(n, clusters=clusters, min_size=min_cluster_size)
    if n < 4:
        return np.zeros(n, dtype=int), "none", "too few reviews to cluster: one group", None
    mcs = int(min_cluster_size or default_min_size(n))
    if clusters is not None:
        km = kmeans_k(X, k=clusters, seed=seed)
        return km.labels, "kmeans", km.reason(mcs), km.silhouette
    km = None
    if method in ("auto", "kmeans"):
        km = kmeans_k(X, min_size=mcs, seed=seed)
        if method == "kmeans":
            return km.labels, "kmeans", km.reason(mcs), km.silhouette
    hd = hdbscan_labels(X, min_cluster_size=mcs, seed=seed)
    kept = hd >= 0
    n_clusters = len(set(hd[kept].tolist()))
    hd_sil = _silhouette(X[kept], hd[kept], seed) if n_clusters >= 2 else None
    coverage = float(kept.mean())
    hd_reason = f"HDBSCAN, clusters of at least {mcs}: {n_clusters} clusters, {coverage:.0%} clustered"
    if method == "hdbscan":
        return hd, "hdbscan", hd_reason, hd_sil
    assert km is not None
    enough = n_clusters >= max(2, km.tried[0]) and coverage >= MIN_COVERAGE
    if enough and hd_sil is not None and hd_sil > km.silhouette:
        return hd, "hdbscan", (f"{hd_reason}, silhouette {hd_sil:.3f}, over k-means (k = {km.k}, silhouette "
                               f"{km.silhouette:.3f})"), hd_sil
    why = (f"HDBSCAN found {n_clusters} clusters covering {coverage:.0%}" +
           (f" with silhouette {hd_sil:.3f}" if hd_sil is not None else ""))
    return km.labels, "kmeans", f"{km.reason(mcs)}; {why}", km.silhouette


# --- words ---------------------------------------------------------------------------------------
def app_words(app_ids: Sequence[str], texts_by_app: Mapping[str, Sequence[str]] | None = None) -> set[str]:
    """The words of the apps' own names, left out of cluster names: each part of an app id
    (``com.epifi.paisa``: "com", "epifi", "paisa"), and each start or end of a part of two letters or
    more ("fi" of "epifi") that is in at least ``ID_PIECE_SHARE`` of that app's reviews
    (``texts_by_app``: a sample of each app's texts) and, when there are other apps, at least
    ``ID_PIECE_LIFT`` times as often as in theirs (how a brand shortened from its id shows)."""
    words: set[str] = set()
    pieces: dict[str, set[str]] = {}
    for app in app_ids:
        for part in re.findall(r"[^\W\d_]+", str(app).casefold()):
            words.add(part)
            ends = {part[:i] for i in range(2, len(part))} | {part[i:] for i in range(1, len(part) - 1)}
            pieces.setdefault(str(app), set()).update(ends)
    if not texts_by_app:
        return words
    tokens = re.compile(TOKEN_PATTERN)
    wanted = set().union(*pieces.values()) - words
    # each app's reviews holding each piece, counted once: another app's share is then the
    # total less the app's own
    held: dict[Any, Counter[str]] = {}
    n_texts: dict[Any, int] = {}
    for a, texts in texts_by_app.items():
        held[a], n_texts[a] = Counter(), len(texts)
        for t in texts:
            held[a].update(wanted.intersection(tokens.findall(str(t).casefold())))
    total: Counter[str] = sum(held.values(), Counter())
    n_total = sum(n_texts.values())
    for app, candidates in pieces.items():
        n_own = n_texts.get(app, 0)
        if not n_own:
            continue
        own, n_others = held[app], n_total - n_texts[app]
        for piece in candidates - words:
            rate = own[piece] / n_own
            if rate >= ID_PIECE_SHARE and (not n_others
                                           or rate >= ID_PIECE_LIFT * ((total[piece] - own[piece]) / n_others)):
                words.add(piece)
    return words


def distinctive_words(groups: Sequence[Sequence[str]], background: Sequence[str], *, top: int = 6,
                      leave_out: Collection[str] = (), common_share: float | None = None) -> list[list[str]]:
    """For each group of texts, its ``top`` terms (words and two-word phrases, English stop words
    left out) by class-based TF-IDF against the other groups and ``background`` (the rest of the
    corpus, one more class): tf = the term's share of the group's terms, idf = log(1 + A / f) with
    A the mean number of terms per class and f the term's count over all classes. A phrase makes
    the single words inside it redundant, so they are dropped from the same list.

    Left out of a group's terms: the words of ``leave_out`` (the apps' own names, :func:`app_words`)
    and the phrases holding one; the words in more than ``common_share`` (default
    ``COMMON_SHARE``) of the reviews outside the group, in at least ``COMMON_MIN_REVIEWS`` of them
    (words of every topic: "app", "good", a language's function words), and the phrases holding
    one ("good app", "hai otp"). A group with nothing else is named by its common
    words (a cluster of "good app" praise)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    common_share = COMMON_SHARE if common_share is None else common_share
    sizes = [len(g) for g in groups]
    docs = [str(t) for g in groups for t in g] + [str(t) for t in background]
    if not any(d.strip() for d in docs):
        return [[] for _ in groups]
    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, lowercase=True)
    try:
        per_review = vec.fit_transform(docs).tocsr()
    except ValueError:  # nothing but stop words
        return [[] for _ in groups]
    terms = vec.get_feature_names_out()
    # one row per class (each group, then the background) of term counts, and of reviews holding the term
    bounds = np.cumsum([0, *sizes, len(background)])
    counts = np.vstack([np.asarray(per_review[a:b].sum(axis=0)).ravel() for a, b in zip(bounds[:-1], bounds[1:])])
    present = per_review.copy()
    present.data[:] = 1
    holding = np.vstack([np.asarray(present[a:b].sum(axis=0)).ravel() for a, b in zip(bounds[:-1], bounds[1:])])
    totals = counts.sum(axis=1, keepdims=True)
    tf = counts / np.where(totals > 0, totals, 1.0)
    A = counts.sum() / len(counts)
    idf = np.log(1.0 + A / np.maximum(counts.sum(axis=0), 1.0))
    score = tf * idf
    # phrase j holds word k: a phrase is left out with any word of it, by one product per group
    index = {str(t): j for j, t in enumerate(terms)}
    pairs = [(j, index[w]) for j, t in enumerate(terms) if " " in str(t) for w in str(t).split()]
    rows, cols = zip(*pairs) if pairs else ((), ())
    holds = sparse.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(terms), len(terms)))

    def with_phrases(words: np.ndarray) -> np.ndarray:
        return words | (holds @ words.astype(float) > 0)

    left_out = {str(w).casefold() for w in leave_out}
    named = np.zeros(len(terms), dtype=bool)
    named[[index[w] for w in left_out if w in index and w.split() == [w]]] = True
    own_name = with_phrases(named)
    in_all = holding.sum(axis=0)
    out: list[list[str]] = []
    for g in range(len(groups)):
        outside = len(docs) - sizes[g]
        in_rest = in_all - holding[g]
        common = with_phrases((in_rest >= COMMON_MIN_REVIEWS) & (in_rest > common_share * max(outside, 1)))
        ranked = np.argsort(-score[g], kind="stable")
        order = ranked[(score[g, ranked] > 0) & ~own_name[ranked]]
        words = _name_terms(order, terms, common, holding[g], sizes[g], top)
        out.append(words or _name_terms(order, terms, np.zeros(len(terms), dtype=bool), holding[g], sizes[g], top))
    return out


def _name_terms(order: Sequence[int], terms: Sequence[str], common: np.ndarray, holding: np.ndarray, size: int,
                top: int) -> list[str]:
    """The first ``top`` of ``order`` (term indices, best first) that are not ``common`` and are in at
    least two of the group's ``size`` reviews (``holding``: per term), or in one when no term is."""
    for min_docs in ((2, 1) if size > 2 else (1,)):
        words: list[str] = []
        for j in order:
            if len(words) >= top:
                break
            term = str(terms[j])
            if common[j] or holding[j] < min_docs:
                continue
            if any(term in w.split() or w in term.split() for w in words if " " in w or " " in term):
                continue  # "new design" already says "design"
            words.append(term)
        if words:
            return words
    return []


# --- discover ------------------------------------------------------------------------------------
def _clusters_from_labels(labels: np.ndarray, ids: Sequence[str], texts: Sequence[str], X: np.ndarray,
                          background: Sequence[str], n_examples: int, leave_out: Collection[str] = ()) -> list[Cluster]:
    found = sorted(set(labels.tolist()) - {-1})
    groups = [[texts[i] for i in np.flatnonzero(labels == c)] for c in found]
    words = distinctive_words(groups, background, leave_out=leave_out)
    middle = X.mean(axis=0)
    out = []
    for rank, c in enumerate(found):
        members = np.flatnonzero(labels == c)
        # most typical first: furthest along what sets the cluster apart from all the reviews
        # looked into, not nearest its centre (where short, vague reviews of any topic sit)
        direction = X[members].mean(axis=0) - middle
        order = members[np.argsort(-(X[members] @ direction), kind="stable")]
        out.append(Cluster(rank, len(members), words[rank], [ids[i] for i in order],
                           _distinct_examples(ids, texts, order, n_examples)))
    return out


def _distinct_examples(ids: Sequence[str], texts: Sequence[str], order: Sequence[int], n: int) -> list[tuple[str, str]]:
    """The first ``n`` of ``order`` whose texts differ (a review posted under several apps or
    countries is one example, not three)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i in order:
        key = " ".join(str(texts[i]).casefold().split())
        if key not in seen:
            seen.add(key)
            out.append((ids[i], texts[i]))
            if len(out) == n:
                break
    return out


def discover(ids: Sequence[str], texts: Sequence[str], embeddings: np.ndarray, *, background: Sequence[str] = (),
             selection: str = "", seed: int = 0, method: str = "auto", min_cluster_size: int | None = None,
             clusters: int | None = None, n_examples: int = 3, leave_out: Collection[str] = ()) -> Discovery:
    """Cluster the selected reviews (``ids``/``texts``/``embeddings`` aligned) and describe each
    cluster against ``background`` (texts of the rest of the corpus), its name without the words of
    ``leave_out`` (the apps' own names: :func:`app_words`). Clusters come largest first.
    ``clusters`` fixes their number, ``min_cluster_size`` their smallest size (:func:`cluster`).
    Raises ReviewtuiError for an empty selection or options that cannot work for it."""
    X = np.asarray(embeddings, dtype=np.float32)
    if len(ids) == 0:
        raise ReviewtuiError(f"nothing to discover in {selection or 'the selection'}: it has no reviews")
    if not (len(ids) == len(texts) == len(X)):
        raise ReviewtuiError(f"discover: {len(ids)} ids, {len(texts)} texts and {len(X)} embeddings")
    labels, used, reason, sil = cluster(X, seed=seed, min_cluster_size=min_cluster_size, method=method,
                                        clusters=clusters)
    found = _clusters_from_labels(labels, ids, texts, X, background, n_examples, leave_out)
    found.sort(key=lambda c: (-c.size, c.id))
    for i, c in enumerate(found):
        c.id = i
    return Discovery(selection, found, used, reason, sil, len(ids), int((labels < 0).sum()))


class StoreTexts:
    """The texts of ``ids`` read from ``store`` when asked for, many at a time through :func:`_take`:
    what is new in a version reads the texts of its sample, not those of every review of the app."""

    def __init__(self, store, ids: Sequence[str]) -> None:
        self.store, self.ids = store, list(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> str:
        return self.take([i])[0]

    def take(self, indices: Sequence[int]) -> list[str]:
        wanted = [self.ids[int(i)] for i in indices]
        found = {ext: text for ext, (text, _) in self.store.stored_texts(wanted).items()}
        return [found.get(ext, "") for ext in wanted]


def _take(texts, indices) -> list[str]:
    """``texts[i]`` for each of ``indices``: a list's items, or a :class:`StoreTexts`'s in one read."""
    take = getattr(texts, "take", None)
    return take(indices) if take is not None else [texts[int(i)] for i in indices]


def new_in_version(ids: Sequence[str], texts: Sequence[str], embeddings: np.ndarray | None,
                   versions: Sequence[str | None], version: str, *, background: Sequence[str] = (), seed: int = 0,
                   method: str = "auto", min_cluster_size: int | None = None, clusters: int | None = None,
                   n_examples: int = 3, max_previous: int | None = None, max_current: int | None = None,
                   embed: Callable[[Sequence[str]], np.ndarray] | None = None,
                   leave_out: Collection[str] = ()) -> Discovery:
    """What is new in ``version``: its reviews and those of every earlier version (ordered as
    versions: 4.10 after 4.9; ``4.5`` matches 4.5.x; blank versions are left out) are clustered
    together; each cluster's ``share`` of the version's reviews is compared with its share of the
    earlier ones, and clusters are ranked by the growth (share - previous share). The clusters hold
    only the version's reviews. ``max_previous``/``max_current`` cap the earlier reviews and the
    version's own (seeded samples: the shares are estimated on them). ``embeddings`` are aligned
    with ``ids``; or give None and ``embed`` (texts -> embeddings), called for the sampled reviews
    only. ``clusters``/``min_cluster_size`` as for :func:`cluster` (on the version's and the earlier
    reviews together). ``leave_out``: words kept out of the names (:func:`discover`). Raises
    ReviewtuiError when the version has no reviews or nothing came before it, or for options that
    cannot work."""
    from reviewtui.app_version import version_key

    wanted = str(version).strip().lstrip("vV")
    depth = len(wanted.split("."))
    groups = [None if not v or not str(v).strip() else ".".join(str(v).strip().split(".")[:depth]) for v in versions]
    this = np.array([g == wanted for g in groups])
    wanted_key = version_key(wanted)
    before = np.array([g is not None and g != wanted and version_key(g) < wanted_key for g in groups])
    if not this.any():
        known = sorted({g for g in groups if g}, key=version_key)
        raise ReviewtuiError(f"no reviews of version {wanted}; the versions are {', '.join(known[-8:]) or 'none'}")
    if not before.any():
        raise ReviewtuiError(f"no reviews of a version before {wanted}: nothing to compare with")
    rng = np.random.default_rng(seed)
    prev_idx = np.flatnonzero(before)
    if max_previous is not None and len(prev_idx) > max_previous:
        prev_idx = np.sort(rng.choice(prev_idx, size=max_previous, replace=False))
    this_idx = np.flatnonzero(this)
    if max_current is not None and len(this_idx) > max_current:
        this_idx = np.sort(rng.choice(this_idx, size=max_current, replace=False))
    both = np.concatenate([this_idx, prev_idx])
    check_options(len(both), clusters=clusters, min_size=min_cluster_size)  # before embedding
    if embeddings is not None:
        Xb = np.asarray(embeddings, dtype=np.float32)[both]
    elif embed is not None:
        Xb = np.asarray(embed(_take(texts, both)), dtype=np.float32)
    else:
        raise ReviewtuiError("new_in_version needs the embeddings or an embedding function")
    labels, used, reason, sil = cluster(Xb, seed=seed, min_cluster_size=min_cluster_size, method=method,
                                        clusters=clusters)
    lab_this, lab_prev = labels[:len(this_idx)], labels[len(this_idx):]
    sel_ids = [ids[i] for i in this_idx]
    sel_texts = _take(texts, this_idx)
    # words against the earlier versions' reviews and the rest of the corpus
    bg = _take(texts, prev_idx) + list(background)
    clusters = _clusters_from_labels(lab_this, sel_ids, sel_texts, Xb[:len(this_idx)], bg, n_examples, leave_out)
    found = sorted(set(lab_this.tolist()) - {-1})
    for c, lab in zip(clusters, found):
        c.share = float((lab_this == lab).mean())
        c.previous_share = float((lab_prev == lab).mean())
        c.growth = c.share - c.previous_share
    clusters.sort(key=lambda c: (-(c.growth or 0.0), -c.size))
    for i, c in enumerate(clusters):
        c.id = i
    return Discovery(f"new in version {wanted}", clusters, used, reason, sil, len(this_idx),
                     int((lab_this < 0).sum()), len(prev_idx),
                     growth_caution(len(this_idx), len(prev_idx), clusters))


# --- selections ----------------------------------------------------------------------------------
def select_labeled(store, keys: Sequence[str], *, app: str | None = None) -> tuple[list[str], list[str]]:
    """(external ids, texts) of the non-skipped assets labeled with one of ``keys`` (for the
    "other" selection: the taxonomy's categories that are not trained on), of ``app`` when given,
    in store order; read by a query, not by a pass over every asset."""
    from reviewtui.store import AssetQuery

    ids = store.find_ids(AssetQuery(labels=tuple(keys), skipped=False, apps=(app,) if app is not None else ()))
    ids = [e for _, e in store.refs_of(ids)]  # store order
    texts = store.texts_of(ids)
    return [i for i in ids if i in texts], [texts[i] for i in ids if i in texts]


def select_low_confidence(predictions: Mapping[str, tuple[str, float]], threshold: float = 0.5) -> list[str]:
    """External ids whose predicted category has a probability below ``threshold``, least sure first."""
    low = [(conf, i) for i, (_, conf) in predictions.items() if conf < threshold]
    return [i for _, i in sorted(low)]


def latest_version(versions: Sequence[str | None], depth: int = 2) -> str | None:
    """The latest of ``versions`` cut to ``depth`` parts (4.10 after 4.9); None when none is set."""
    from reviewtui.app_version import version_key

    cut = {".".join(str(v).strip().split(".")[:depth]) for v in versions if v and str(v).strip()}
    return max(cut, key=version_key) if cut else None


def sample_indices(n: int, size: int, seed: int = 0) -> list[int]:
    """``size`` of ``range(n)`` drawn without replacement with ``seed``, in order (all when fewer)."""
    if size >= n:
        return list(range(n))
    return sorted(int(i) for i in np.random.default_rng(seed).choice(n, size=size, replace=False))


def other_keys(taxonomy: Taxonomy) -> list[str]:
    """The categories the "other" selection looks into: those not trained on, and the one named
    Other (:data:`CATCH_ALL_NAMES`) trained or not: a team that trains its catch-all and leaves a
    rare category out of training still finds its catch-all looked into."""
    training = set(taxonomy.training_keys)
    return [c.key for c in taxonomy if c.key not in training or c.name.strip().casefold() in CATCH_ALL_NAMES]


def discover_selection(store, taxonomy: Taxonomy, embed: Callable[[Sequence[str]], np.ndarray], selection: str, *,
                       version: str | None = None, app: str | None = None, limit: int = 3000,
                       seed: int = 0, clusters: int | None = None, min_size: int | None = None) -> Discovery:
    """:func:`discover` (or :func:`new_in_version`) on a named selection of the store's reviews
    (skipped ones left out), embedding only what is clustered with ``embed``:

    * ``other``: the reviews labeled with a category that is not trained on (OTHER, MULTI_LABEL);
    * ``low-confidence``: the stored predictions below ``LOW_CONFIDENCE``, least sure first;
    * ``version``: what is new in ``version`` ("latest" or None: the latest app version) against
      the versions before it.

    ``app`` keeps the reviews of that app only; the version selection needs one when the reviews
    are of several apps (each app numbers its versions its own way). At most ``limit`` reviews are
    clustered (a seeded sample; the least sure for low-confidence; for a version, as many of the
    earlier versions too). The words are contrasted with a sample of the other reviews. ``clusters``
    fixes the number of clusters, ``min_size`` the smallest (:func:`cluster`). The names leave out
    the words of the apps' ids (:func:`store_app_words`). Raises
    ReviewtuiError for an unknown selection or app, a selection with no review, or ``clusters`` or
    ``min_size`` that cannot work for it (checked before anything is embedded)."""
    choice = str(selection or "").strip().lower().replace("_", "-").replace(" ", "-")
    choice = {"low": "low-confidence", "lowconfidence": "low-confidence", "new": "version"}.get(choice, choice)
    if choice not in SELECTIONS:
        raise ReviewtuiError(f"unknown selection {selection!r}: use one of {', '.join(SELECTIONS)}")
    check_options(None, clusters=clusters, min_size=min_size)
    apps = sorted(str(a) for a in store.counts_by_app(skipped=False) if a)
    if app is not None:
        app = str(app).strip()
        # an app in any case, as --app and app= everywhere else: the spelling the reviews carry
        app = next((a for a in apps if a == app), None) or next((a for a in apps if a.casefold() == app.casefold()),
                                                               app)
        if app not in apps:
            from reviewtui.app_version import nearest_apps

            known = f"the apps are: {nearest_apps(app, apps, 12)}" if apps else "no review has an app"
            raise ReviewtuiError(f"no review of app {app!r} to look into ({known})")
    elif choice == "version" and len(apps) > 1:
        named = ", ".join(apps[:6]) + (", ..." if len(apps) > 6 else "")
        raise ReviewtuiError(f"the reviews are of {len(apps)} apps ({named}) and each numbers its versions its own "
                             "way: choose one app (--app NAME)")
    if choice == "version":  # every review of the app: the versions decide which are new
        refs = store.versions_of(app=app)  # ids and versions only: the texts of the sampled ones come after
        ids, versions = [e for e, _ in refs], [v for _, v in refs]
        wanted = version if version and version.strip().lower() != "latest" else latest_version(versions)
        if wanted is None:
            raise ReviewtuiError("no review carries an app version: there is no version to look into")
        found = new_in_version(ids, StoreTexts(store, ids), None, versions, wanted,
                               seed=seed, max_previous=limit, max_current=limit, embed=embed, clusters=clusters,
                               min_cluster_size=min_size, leave_out=store_app_words(store, apps, seed))
        if app is not None:
            found.selection = f"new in {app} {wanted}"
        return found
    if choice == "other":
        keys = other_keys(taxonomy)
        if not keys:
            raise ReviewtuiError("every category of the taxonomy is trained on and none is named Other: there is no "
                                 "'other' category to look into (choose low-confidence or version)")
        ids, texts = select_labeled(store, keys, app=app)
        name = "labeled " + " or ".join(taxonomy.get(k).name for k in keys)
        if app is not None:
            name += f" of {app}"
        if len(ids) > limit:
            keep = sample_indices(len(ids), limit, seed)
            name += f" (a sample of {limit:,} of {len(ids):,})"
            ids, texts = [ids[i] for i in keep], [texts[i] for i in keep]
    else:
        predictions = store.predictions()
        if not predictions:
            several = " --app NAME" if len(apps) > 1 and app is None else ""
            raise ReviewtuiError("no predictions yet: refit the quick model (r in the labeling screen, or "
                                 "`reviewtui queue`), or predict every review (p on the Summary screen, or "
                                 "`reviewtui predict`) first; or look into what is new in the latest app version "
                                 f"(`reviewtui discover --in version{several}`)")
        by_id = store.texts_of(select_low_confidence(predictions, LOW_CONFIDENCE), app=app)
        low = list(by_id)
        name = f"predictions below {LOW_CONFIDENCE:.0%} confidence" + (f" of {app}" if app is not None else "")
        if len(low) > limit:
            name += f" (the {limit:,} least sure of {len(low):,})"
            low = low[:limit]
        ids, texts = low, [by_id[i] for i in low]
    if not ids:
        other = "low-confidence or version" if choice == "other" else "other or version"
        raise ReviewtuiError(f"nothing to discover: the selection ({name}) has no review (choose {other})")
    background = store.sample_texts(BACKGROUND, seed, app=app, exclude=ids)
    check_options(len(ids), clusters=clusters, min_size=min_size)  # before embedding
    return discover(ids, texts, embed(texts), background=background, selection=name, seed=seed, clusters=clusters,
                    min_cluster_size=min_size, leave_out=store_app_words(store, apps, seed))


def store_app_words(store, apps: Sequence[str], seed: int = 0) -> set[str]:
    """:func:`app_words` of the store's ``apps``, each app's pieces checked on a sample of
    ``APP_SAMPLE`` of its reviews."""
    return app_words(apps, {a: store.sample_texts(APP_SAMPLE, seed, app=a) for a in apps})


# --- a cluster becomes a category ----------------------------------------------------------------
@dataclass(frozen=True)
class NewCategoryPlan:
    """What making a cluster a category changes: ``categories`` is the whole new taxonomy list
    (``Config.set_categories`` takes it), ``category`` the added entry, ``priorities`` the queue
    priorities for the cluster's reviews still to label (the most typical highest, above every
    priority now in the queue), ``already_labeled`` the cluster's reviews that keep their label."""

    category: dict[str, Any]
    categories: list[dict[str, Any]]
    priorities: dict[str, int]
    already_labeled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewCategory:
    """What making a cluster a category did: the category's ``key`` and ``name``, how many of its
    reviews were ``queued`` first, how many were ``already_labeled`` (they keep their label),
    the backend's ``moved`` (a MoveResult of the priorities), and how many of the labeled ones,
    labeled with a category the "other" selection looks into (:func:`other_keys`), were sent
    ``to_review``, and the names of those categories (``from_names``)."""

    key: str
    name: str
    queued: int
    already_labeled: int
    moved: Any = None
    to_review: int = 0
    from_names: tuple[str, ...] = ()


def category_from_cluster(taxonomy: Taxonomy, cluster: Cluster, *, unlabeled: Sequence[str],
                          name: str | None = None, key: str | None = None, train: bool = True,
                          top_priority: int = 0, n_examples: int = 3) -> NewCategoryPlan:
    """The plan to turn ``cluster`` into a category of ``taxonomy``: named ``name`` (default: its
    first distinctive words), described by its words, with its most typical texts as
    examples (they seed zero-shot suggestions for it; edit them in reviewtui.toml). Its members
    in ``unlabeled`` (the ids still in the queue) get priorities above ``top_priority`` (the
    highest priority in the queue now), the most typical first, so the labeling queue serves them
    next. Nothing is labeled. Raises ReviewtuiError for a key that exists or is malformed."""
    name = (name or (cluster.words[0].capitalize() if cluster.words else f"Cluster {cluster.id + 1}")).strip()
    key = (key or category_key(name)).strip().upper()
    if not name or not KEY_RE.match(key):
        raise ReviewtuiError(f"category key {key!r} must be UPPER_SNAKE_CASE (give --key or another name)")
    if key in taxonomy.keys:
        raise ReviewtuiError(f"the taxonomy already has a category {key!r}: choose another name or key")
    if taxonomy.resolve(name, former=False) is not None:
        raise ReviewtuiError(f"the taxonomy already has a category named {name!r}: choose another name")
    taxonomy.refuse_former(key, name)
    colour = next((c for c in PALETTE if c not in {cat.colour for cat in taxonomy}), PALETTE[0])
    entry: dict[str, Any] = {"key": key, "name": name, "colour": colour, "train": bool(train)}
    if cluster.words:
        entry["description"] = "Reviews about " + ", ".join(cluster.words) + "."
    examples = [t for _, t in cluster.examples[:n_examples]]
    if examples:
        entry["examples"] = examples
    queue = set(str(i) for i in unlabeled)
    todo = [i for i in cluster.external_ids if i in queue]
    priorities = {i: int(top_priority) + len(todo) - r for r, i in enumerate(todo)}
    labeled = [i for i in cluster.external_ids if i not in queue]
    return NewCategoryPlan(entry, taxonomy.to_list() + [entry], priorities, labeled)
