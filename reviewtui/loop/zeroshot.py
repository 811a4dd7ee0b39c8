"""Zero-shot suggestions: a category's description and examples against each review's embedding.

Each training category with a ``description`` or ``examples`` in the taxonomy gets a prototype:
the normalised mean of the embeddings of "Name: description" and of each example (the category's
name alone when it has neither). A taxonomy with no description or example at all (categories
made with ``init --categories``) gets prototypes from the names alone: weaker (on dataset-11 the
names give 0.51 accuracy where descriptions and examples give 0.68, against 0.41 for the
majority class), so they choose the first batch and make the suggestions before the first model,
and are not blended in once labels exist. A name's prototype is moved once towards the reviews
it fits best (:func:`name_feedback_prototypes`: a name is a few words, reviews are sentences).
A review's score for a category is its cosine similarity with the
prototype, minus that category's mean similarity over the pool of reviews given at fit time
(centering: some prototypes are closer to every review than others, and without it those
categories swallow the predictions). Scores become probabilities by a softmax with a temperature;
with labels, :meth:`ZeroShotModel.calibrate` fits the temperature to them (temperature scaling,
Guo et al. 2017).

With labels the quick model takes over; :func:`blend` mixes the two while labels are few
(weight ``n / (n + prior_labels)`` on the quick model after ``n`` training labels), and
:func:`zero_shot_batch` is the first batch when there is no label at all: spread over the
categories the zero-shot model predicts, and inside each over the embedding space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.modeling.metrics import softmax
from reviewtui.settings import ActiveLearningSettings

# centred cosine similarities differ by ~0.05-0.2 between categories
DEFAULT_TEMPERATURE = ActiveLearningSettings().zero_shot_temperature
#: the share of the reviews a category known by its name predicts that its prototype moves towards
#: (:func:`name_feedback_prototypes`), and the fewest reviews it moves towards
NAME_FEEDBACK = 0.5
FEEDBACK_MIN = 5
EmbedFn = Callable[[Sequence[str]], np.ndarray]


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def category_texts(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """key -> the texts that describe each training category: "Name: description" and the
    examples; the name alone when the category has neither."""
    out: dict[str, list[str]] = {}
    for key in taxonomy.training_keys:
        c = taxonomy.get(key)
        texts = [f"{c.name}: {c.description}"] if c.description else []
        texts += list(c.examples)
        out[key] = texts or [c.name]
    return out


def described(taxonomy: Taxonomy) -> list[str]:
    """Keys of the training categories that have a description or examples."""
    return [k for k in taxonomy.training_keys if taxonomy.get(k).description or taxonomy.get(k).examples]


@dataclass
class ZeroShotModel:
    """Class probabilities from similarity to category prototypes. ``classes_`` are the training
    keys in taxonomy order; ``prototypes`` (K, D) unit vectors; ``offsets`` (K,) the mean
    similarity of the pool to each prototype (subtracted); ``temperature`` of the softmax."""

    classes_: list[str]
    prototypes: np.ndarray
    offsets: np.ndarray
    temperature: float = DEFAULT_TEMPERATURE
    missing: tuple[str, ...] = ()  # training categories with neither description nor examples

    @classmethod
    def fit(cls, taxonomy: Taxonomy, embed: EmbedFn, pool: np.ndarray | None = None, *,
            temperature: float = DEFAULT_TEMPERATURE, names_only: bool = False,
            name_feedback: float = NAME_FEEDBACK) -> "ZeroShotModel":
        """A model for ``taxonomy``'s training categories. ``embed`` turns texts into unit
        embeddings (an EmbeddingCache's ``embed``); ``pool`` (N, D) the embeddings of the reviews to
        centre on (the unlabeled pool). The prototype of a category known by its name alone is moved
        once towards the best-scored ``name_feedback`` share of the pool's reviews it predicts
        (:func:`name_feedback_prototypes`; 0 leaves it). Raises ReviewtuiError when the taxonomy has
        fewer than two training categories, or none of them has a description or examples (unless
        ``names_only``: then the names are the prototypes)."""
        keys = taxonomy.training_keys
        if len(keys) < 2:
            raise ReviewtuiError("zero-shot suggestions need at least two training categories in the taxonomy")
        if not described(taxonomy) and not names_only:
            raise ReviewtuiError(
                "zero-shot suggestions need a description or examples for the categories: add "
                '`description = "..."` and `examples = ["...", "..."]` to their [[categories]] tables in '
                "reviewtui.toml (the presets have them: reviewtui init DIR --taxonomy app-review)")
        texts = category_texts(taxonomy)
        flat = [t for k in keys for t in texts[k]]
        owner = np.array([i for i, k in enumerate(keys) for _ in texts[k]])
        E = _unit(np.asarray(embed(flat), dtype=np.float32))
        protos = _unit(np.stack([E[owner == i].mean(axis=0) for i in range(len(keys))]))
        offsets = np.zeros(len(keys), dtype=np.float32)
        missing = tuple(k for k in keys if k not in described(taxonomy))
        if pool is not None and len(pool):
            pool = np.asarray(pool, dtype=np.float32)
            if missing and name_feedback > 0:
                protos = name_feedback_prototypes(protos, pool, [keys.index(k) for k in missing], name_feedback)
            offsets = (pool @ protos.T).mean(axis=0)
        return cls(list(keys), protos.astype(np.float32), offsets.astype(np.float32), float(temperature), missing)

    def scores(self, X: np.ndarray) -> np.ndarray:
        """(N, K) centred cosine similarities."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.prototypes.shape[1]:
            raise ReviewtuiError(f"zero-shot model expects embeddings of width {self.prototypes.shape[1]}, "
                                 f"got shape {X.shape}")
        return X @ self.prototypes.T - self.offsets

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, K) probabilities, columns in ``classes_`` order."""
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)), dtype=np.float32)
        return softmax(self.scores(X).astype(np.float64) / self.temperature)

    def proba_for(self, X: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """(N, len(labels)) probabilities in ``labels`` order (zeros for a label it does not know)."""
        out = np.zeros((len(X), len(labels)), dtype=np.float32)
        if len(X) == 0:
            return out
        p = self.predict_proba(X)
        for j, label in enumerate(labels):
            if label in self.classes_:
                out[:, j] = p[:, self.classes_.index(label)]
        return out

    def predict(self, X: np.ndarray) -> list[str]:
        """The most similar category of each row."""
        if len(X) == 0:
            return []
        return [self.classes_[i] for i in self.scores(X).argmax(axis=1)]

    def calibrate(self, X: np.ndarray, y: Sequence[str], *, bounds: tuple[float, float] = (0.005, 1.0)) -> float:
        """Fit the temperature to labeled rows (minimum negative log-likelihood; labels outside
        ``classes_`` are ignored); sets and returns it. Needs at least 5 usable labels, else keeps
        the temperature it had."""
        from scipy.optimize import minimize_scalar

        idx = [i for i, v in enumerate(y) if v in self.classes_]
        if len(idx) < 5:
            return self.temperature
        S = self.scores(np.asarray(X)[idx]).astype(np.float64)
        target = np.array([self.classes_.index(y[i]) for i in idx])

        def nll(log_t: float) -> float:
            z = S / np.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            return float(-(z[np.arange(len(z)), target] - np.log(np.exp(z).sum(axis=1))).mean())

        res = minimize_scalar(nll, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
        self.temperature = float(np.exp(res.x))
        return self.temperature


def name_feedback_prototypes(protos: np.ndarray, pool: np.ndarray, which: Sequence[int],
                             share: float = 0.5) -> np.ndarray:
    """``protos`` (K, D) with the prototypes of rows ``which`` (categories known by their names
    alone) each moved once towards the reviews of ``pool`` (N, D) its name fits best: of the
    reviews it predicts (centred scores), the better-scored ``share`` (at least
    :data:`FEEDBACK_MIN`); the new prototype is the mean of the name's unit vector and theirs
    (pseudo-relevance feedback, Rocchio 1971). A name is a few words where reviews are sentences:
    this brings its prototype to where the reviews lie. On four labeled corpora with their
    taxonomies' names alone, zero-shot macro-F1 rose by 0.03-0.18 (docs/BENCHMARKS.md); with
    descriptions and examples it did not rise on two of them, so described categories keep theirs."""
    S = pool @ protos.T
    S = S - S.mean(axis=0)
    predicted = S.argmax(axis=1)
    out = protos.copy()
    for k in which:
        rows = np.flatnonzero(predicted == k)
        if not len(rows):
            continue
        best = rows[np.argsort(-S[rows, k], kind="stable")[:max(FEEDBACK_MIN, int(share * len(rows)))]]
        out[k] = _unit(protos[k] + _unit(pool[best].mean(axis=0)))
    return _unit(out).astype(np.float32)


def blend_weight(n_labels: int, prior_labels: float) -> float:
    """The quick model's weight after ``n_labels`` training labels: n / (n + prior_labels)
    (1.0 when ``prior_labels`` is 0: no prior)."""
    if prior_labels <= 0:
        return 1.0
    return float(n_labels) / (float(n_labels) + float(prior_labels))


def blend(quick: np.ndarray | None, prior: np.ndarray, n_labels: int, prior_labels: float) -> np.ndarray:
    """Probabilities mixing the quick model's (None before it exists) with the zero-shot prior, both
    (N, K) in the same column order; rows sum to 1."""
    if quick is None:
        return np.asarray(prior, dtype=np.float32)
    w = blend_weight(n_labels, prior_labels)
    p = w * np.asarray(quick, dtype=np.float64) + (1.0 - w) * np.asarray(prior, dtype=np.float64)
    s = p.sum(axis=1, keepdims=True)
    return (p / np.where(s > 0, s, 1.0)).astype(np.float32)


def quotas(sizes: Sequence[int], total: int) -> list[int]:
    """How many of ``total`` to take from each group of ``sizes``: as equal as the groups allow
    (a group never gives more than it has; what a small group cannot give goes to the others)."""
    sizes = [max(0, int(s)) for s in sizes]
    total = min(int(total), sum(sizes))
    out = [0] * len(sizes)
    while total > 0:
        open_ = [i for i, s in enumerate(sizes) if out[i] < s]
        share = max(1, total // len(open_))
        for i in sorted(open_, key=lambda i: (out[i], -sizes[i], i)):
            if total == 0:
                break
            give = min(share, sizes[i] - out[i], total)
            out[i] += give
            total -= give
    return out


def zero_shot_batch(proba: np.ndarray, embeddings: np.ndarray, size: int, *, seed: int = 0,
                    short: np.ndarray | None = None) -> np.ndarray:
    """Indices of a first batch of ``size`` rows with no label yet: an equal share for each
    category the zero-shot model predicts (``proba`` (N, K)), and inside each category the row
    nearest each centre of a k-means on that category's rows, weighted by the probability of the
    category (so the likelier members and every region of it are asked about). Categories are
    interleaved so any prefix of the batch covers them; near-duplicates are skipped. Rows marked
    ``short`` (a word or two: "good", "Worst app", which a category's share would otherwise take
    as its best matches) come after every other row."""
    from reviewtui.active import skip_near_duplicates, weighted_kmeans_picks

    P = np.asarray(proba, dtype=np.float64)
    X = np.asarray(embeddings, dtype=np.float32)
    n = len(P)
    size = max(0, min(int(size), n))
    if size == 0:
        return np.zeros(0, dtype=int)
    pred = P.argmax(axis=1)
    wordy = np.ones(n, dtype=bool) if short is None else ~np.asarray(short, dtype=bool)
    if not wordy.any():
        wordy[:] = True  # short reviews only: they are spread over the categories as any would be
    groups = [np.flatnonzero((pred == k) & wordy) for k in range(P.shape[1])]
    share = quotas([len(g) for g in groups], size)
    picks: list[list[int]] = []
    for k, (g, q) in enumerate(zip(groups, share)):
        if q == 0:
            picks.append([])
            continue
        if len(g) <= q:
            chosen = [int(i) for i in g]
        else:
            chosen = [int(g[j]) for j in weighted_kmeans_picks(X[g], P[g, k], q, seed=seed + k)]
        chosen.sort(key=lambda i: -P[i, k])
        picks.append(chosen)
    order: list[int] = []
    for r in range(max((len(p) for p in picks), default=0)):
        order += [p[r] for p in picks if r < len(p)]
    taken = set(order)
    ranked = np.argsort(-P.max(axis=1), kind="stable")
    rest = [int(i) for i in ranked if wordy[i] and int(i) not in taken]
    rest += [int(i) for i in ranked if not wordy[i]]
    return skip_near_duplicates(order + rest, X, size)


#: A review of fewer words than this, and fewer characters than :data:`SHORT_CHARS`, is "short" for
#: the first batch (:func:`zero_shot_batch`); the characters keep a review in a language written
#: without spaces (Chinese, Japanese, Thai: one "word") out of it.
SHORT_WORDS = 3
SHORT_CHARS = 15
#: Scripts written without spaces between words, where a character says about what a word does
#: elsewhere: a text of them is short under :data:`SHORT_WORDS` characters
UNSPACED_RE = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                         "\uac00-\ud7af]")


def _short(text: str) -> bool:
    text = text.strip()
    if UNSPACED_RE.search(text):
        return len(text) < 2 * SHORT_WORDS
    return len(text.split()) < SHORT_WORDS and len(text) < SHORT_CHARS


def short_texts(texts: Sequence[str]) -> np.ndarray:
    """Which of ``texts`` are short: fewer than :data:`SHORT_WORDS` words and :data:`SHORT_CHARS`
    characters, or in a script written without spaces, fewer than twice SHORT_WORDS characters."""
    return np.fromiter((_short(t) for t in texts), dtype=bool, count=len(texts))


def zero_shot_for(taxonomy: Taxonomy, embed: EmbedFn, pool: np.ndarray | None, settings: ActiveLearningSettings, *,
                  X_labeled: np.ndarray | None = None, y_labeled: Sequence[str] = ()) -> ZeroShotModel | None:
    """The zero-shot model the labeling loop uses, or None when no training category has a
    description or examples (or the prior is off: ``settings.prior_labels`` = 0). Its temperature
    starts at ``settings.zero_shot_temperature`` and is refitted to the labels when there are 5."""
    if settings.prior_labels <= 0 or not described(taxonomy) or len(taxonomy.training_keys) < 2:
        return None
    model = ZeroShotModel.fit(taxonomy, embed, pool, temperature=settings.zero_shot_temperature)
    if X_labeled is not None and len(y_labeled):
        model.calibrate(X_labeled, y_labeled)
    return model


class ZeroShotPrior:
    """The zero-shot prior of a workspace's labeling loop, as the Suggester and the queue use it
    (``active.suggestions.Prior``): its :class:`ZeroShotModel` is fitted on first use, centred on
    the embeddings of ``pool()`` (texts of a stable sample of the unlabeled reviews), and its
    temperature refitted to the labels whenever their number changed (from 5 labels on).
    Thread-safe: the suggestion and re-rank workers share one."""

    name = "zero-shot"

    def __init__(self, taxonomy: Taxonomy, embed: EmbedFn, pool: Callable[[], Sequence[str]],
                 settings: ActiveLearningSettings) -> None:
        import threading

        self.taxonomy = taxonomy
        self.embed = embed
        self.pool = pool
        self.settings = settings
        # no description or example anywhere: the names alone, used only until the first model
        self.names_only = not described(taxonomy)
        if self.names_only:
            self.name = "zero-shot (category names)"  # how the first batch says it was chosen
        self.classes = list(taxonomy.training_keys)
        self._model: ZeroShotModel | None = None
        self._calibrated_on = -1
        self._lock = threading.Lock()

    @property
    def model(self) -> ZeroShotModel:
        """The zero-shot model (fitted now when it was not yet)."""
        with self._lock:
            if self._model is None:
                texts = list(self.pool())
                X_pool = np.asarray(self.embed(texts), dtype=np.float32) if texts else None
                self._model = ZeroShotModel.fit(self.taxonomy, self.embed, X_pool,
                                                temperature=self.settings.zero_shot_temperature,
                                                names_only=self.names_only)
            return self._model

    def update(self, X_labeled: np.ndarray, y_labeled: Sequence[str]) -> None:
        """Refit the temperature to the labels so far when their number changed (needs 5)."""
        model = self.model
        with self._lock:
            if len(y_labeled) >= 5 and len(y_labeled) != self._calibrated_on:
                model.calibrate(X_labeled, list(y_labeled))
                self._calibrated_on = len(y_labeled)

    def proba(self, X: np.ndarray) -> np.ndarray:
        """(N, K) zero-shot probabilities, columns in the taxonomy's training order."""
        return self.model.proba_for(X, self.classes)

    def weight(self, n_labels: int) -> float:
        """The prior's share of a suggestion after ``n_labels`` training labels (1 before a model;
        0 with one for a prior from the names alone)."""
        if self.names_only:
            return 1.0 if n_labels <= 0 else 0.0
        return 1.0 - blend_weight(n_labels, self.settings.prior_labels)

    def combine(self, quick: np.ndarray | None, X: np.ndarray, n_labels: int) -> np.ndarray:
        """The quick model's probabilities (None before it exists) blended with the prior's (a
        prior from the names alone leaves the quick model's as they are)."""
        if self.names_only and quick is not None:
            return np.asarray(quick, dtype=np.float32)
        return blend(quick, self.proba(X), n_labels, self.settings.prior_labels)

    def first_batch(self, proba: np.ndarray, X: np.ndarray, size: int, seed: int = 0,
                    texts: Sequence[str] | None = None) -> np.ndarray:
        """The first batch when there is no model yet: :func:`zero_shot_batch`, the short ``texts``
        last."""
        return zero_shot_batch(proba, X, size, seed=seed, short=short_texts(texts) if texts is not None else None)


def has_prior(taxonomy: Taxonomy, settings: ActiveLearningSettings) -> bool:
    """Whether the labeling loop has a zero-shot prior: two training categories or more, and
    ``settings.prior_labels`` above 0 (described categories or not: names alone also make one)."""
    return settings.prior_labels > 0 and len(taxonomy.training_keys) >= 2


def zero_shot_prior(taxonomy: Taxonomy, embed: EmbedFn, pool: Callable[[], Sequence[str]],
                    settings: ActiveLearningSettings) -> ZeroShotPrior | None:
    """The labeling loop's prior, or None when the taxonomy has fewer than two training categories
    or ``settings.prior_labels`` is 0 (the prior turned off). With no description or example in
    the taxonomy it is a prior from the category names, used until the first model
    (``names_only``). Nothing is embedded until it is first used."""
    return ZeroShotPrior(taxonomy, embed, pool, settings) if has_prior(taxonomy, settings) else None
