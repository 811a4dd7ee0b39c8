"""Sentiment of reviews: negative / neutral / positive with a polarity score in [-1, 1].

Three analyzers answer through the same interface, ``analyze(texts) -> SentimentScores``:

* ``vader``   VADER's rule-based compound score (offline, no model): >= 0.05 positive,
              <= -0.05 negative, else neutral; the score is the compound.
* a folder or cached hub id of a Hugging Face sequence classifier whose labels are sentiments
  (for example cardiffnlp/twitter-roberta-base-sentiment); the score is p(positive) - p(negative).
* ``stars``   a linear head trained on the corpus itself over the cached sentence embeddings, with
              the star score as a weak label (1-2 negative, 3 neutral, 4-5 positive).

``auto`` (the default) picks one for the corpus: :func:`choose_sentiment`.

:func:`compare_with_stars` reports how each option agrees with the stars.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Progress, emit
from reviewtui.modeling import Cancelled
from reviewtui.settings import SentimentSettings
from reviewtui.store import LocalStore

if TYPE_CHECKING:  # pragma: no cover
    from reviewtui.modeling.embeddings import EmbeddingCache

SENTIMENTS = ("negative", "neutral", "positive")
VADER_THRESHOLD = 0.05
STAR_SPECS = ("stars", "star", "star-head")  # the names of the star-trained head
#: what --sentiment and [sentiment] model take besides a sentiment model folder ("off" and "" mean none too)
SENTIMENT_OPTIONS = ("auto", "vader", "stars", "team", "none")


def unknown_sentiment(spec: str) -> str:
    """The message for a sentiment ``spec`` that is no option and no sentiment model on this machine."""
    folder = Path(spec).expanduser()
    path_like = spec.startswith((".", "/", "~")) or "\\" in spec or spec.count("/") > 1  # as resolve_model reads it
    why = (f"{folder} holds no config.json" if folder.is_dir() else
           f"{folder} is a file, not a model folder" if folder.exists() else
           f"the folder {spec} does not exist" if path_like else
           "it is neither a folder here nor a model in the Hugging Face cache")
    return (f"sentiment {spec!r} (--sentiment, or [sentiment] model in reviewtui.toml) is not one of "
            f"{', '.join(SENTIMENT_OPTIONS)}, and {why}: give one of those, or the folder of a Hugging Face "
            "sentiment model (as save_pretrained or huggingface-cli download --local-dir writes it)")


def check_sentiment(spec: str | None, *, max_length: int) -> None:
    """Raise ReviewtuiError (:func:`unknown_sentiment`, or why a folder is no sentiment classifier)
    when predict could not run ``spec``; reads at most a folder's config.json, never a model."""
    low = str(spec or "").strip().lower()
    if low in (*SENTIMENT_OPTIONS, *STAR_SPECS, "off", ""):
        return
    TransformerSentiment(str(spec).strip(), max_length=max_length)
# id2label names of known 3-class models that only say LABEL_0/1/2 (cardiffnlp's first model)
GENERIC_3 = ("label_0", "label_1", "label_2")


@dataclass
class SentimentScores:
    """One label (negative/neutral/positive) and one polarity in [-1, 1] per text, input order."""

    analyzer: str
    labels: list[str]
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def star_label(score: Any) -> str | None:
    """The weak sentiment of a star score: 1-2 negative, 3 neutral, 4-5 positive; None otherwise."""
    try:
        s = int(float(score))
    except (TypeError, ValueError):
        return None
    if s in (1, 2):
        return "negative"
    if s == 3:
        return "neutral"
    if s in (4, 5):
        return "positive"
    return None


# --- VADER ------------------------------------------------------------------------------------
class VaderAnalyzer:
    """VADER's compound score. Offline, about 10k short texts a second on one core."""

    name = "vader"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def fingerprint(self) -> str:
        return "vader-3.3"

    def analyze(self, texts: Sequence[str], on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> SentimentScores:
        n = len(texts)
        scores = np.zeros(n, dtype=np.float32)
        step = 2000
        for start in range(0, n, step):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"sentiment cancelled after {start} of {n} texts")
            for i in range(start, min(n, start + step)):
                scores[i] = self._vader.polarity_scores(str(texts[i]))["compound"]
            emit(on_event, Progress("sentiment", min(n, start + step), n))
        labels = ["positive" if s >= VADER_THRESHOLD else "negative" if s <= -VADER_THRESHOLD else "neutral"
                  for s in scores]
        return SentimentScores(self.name, labels, scores)


# --- Hugging Face classifiers -----------------------------------------------------------------
def sentiment_columns(config: dict[str, Any], spec: str) -> dict[str, int]:
    """sentiment -> output column of a sequence classifier's config.json, or ReviewtuiError when
    the model is not a sentiment classifier (wrong architecture, or labels that are not sentiments)."""
    arch = " ".join(config.get("architectures") or [])
    if "ForSequenceClassification" not in arch:
        raise ReviewtuiError(
            f"{spec} is not a sentiment classifier: its architecture is {arch or 'unknown'}, not a "
            "sequence classifier; give a folder like cardiffnlp/twitter-roberta-base-sentiment, or use vader")
    id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
    names = {i: v.strip().lower() for i, v in id2label.items()}
    cols: dict[str, int] = {}
    for i, v in names.items():
        for s in SENTIMENTS:
            if v.startswith(s[:3]):
                cols[s] = i
    if len(names) == 3 and sorted(names.values()) == list(GENERIC_3) and "sentiment" in spec.lower():
        cols = {"negative": 0, "neutral": 1, "positive": 2}  # cardiffnlp's documented order
    if "negative" not in cols or "positive" not in cols or len(cols) != len(names):
        raise ReviewtuiError(
            f"{spec} is not a sentiment classifier: its labels are {', '.join(id2label.values()) or 'none'}, "
            "not negative/neutral/positive; give a sentiment model folder, or use vader")
    return cols


class TransformerSentiment:
    """A Hugging Face sentiment classifier from a local folder (or the local hub cache)."""

    def __init__(self, spec: str, max_length: int, batch_size: int = 64) -> None:
        from reviewtui.modeling.loading import resolve_model

        try:
            self.resolved = resolve_model(spec)
        except ReviewtuiError as exc:  # its advice is about [model] base: say what a sentiment takes
            raise ReviewtuiError(unknown_sentiment(spec)) from exc
        if not self.resolved.is_local:
            raise ReviewtuiError(unknown_sentiment(spec))
        try:
            config = json.loads((Path(self.resolved.path) / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReviewtuiError(f"{spec}: config.json cannot be read ({exc})") from exc
        self.columns = sentiment_columns(config, spec)
        self.name = self.resolved.name
        self.max_length = max_length
        self.batch_size = batch_size
        self._model = self._tokenizer = None

    def fingerprint(self) -> str:
        path = Path(self.resolved.path)
        stamp = max((p.stat().st_mtime_ns for p in path.iterdir() if p.is_file()), default=0)
        return f"hf:{path}:{stamp}"

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from reviewtui.modeling.loading import best_device, quiet_transformers

        quiet_transformers()
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.resolved.path, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(self.resolved.path, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ReviewtuiError(f"{self.resolved.path}: the sentiment model cannot be loaded ({exc})") from exc
        self._model = model.to(best_device()).eval()

    def analyze(self, texts: Sequence[str], on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> SentimentScores:
        from reviewtui.modeling.batching import predict_logits
        from reviewtui.modeling.metrics import softmax

        self._load()
        logits = predict_logits(self._model, self._tokenizer, [str(t) for t in texts], max_length=self.max_length,
                                batch_size=self.batch_size, on_event=on_event, cancel=cancel, task="sentiment")
        if len(logits) == 0:
            return SentimentScores(self.name, [], np.zeros(0, np.float32))
        p = softmax(logits)
        inv = {i: s for s, i in self.columns.items()}
        labels = [inv[int(j)] for j in p.argmax(axis=1)]
        scores = (p[:, self.columns["positive"]] - p[:, self.columns["negative"]]).astype(np.float32)
        return SentimentScores(self.name, labels, scores)


# --- the star-trained head --------------------------------------------------------------------
class StarHead:
    """Logistic regression on sentence embeddings, trained with stars as weak sentiment labels."""

    name = "stars"

    def __init__(self, cache, C: float = 1.0) -> None:
        self.cache = cache  # an EmbeddingCache
        self.C = C
        self.model = None
        self.trained_on = 0

    def fingerprint(self) -> str:
        return f"stars:{self.cache.folder.name}:{self.trained_on}:{self.C}"

    def fit(self, texts: Sequence[str], stars: Sequence[Any], on_event: EventSink | None = None,
            cancel: threading.Event | None = None) -> "StarHead":
        """Fit on the texts whose star score is 1-5. Raises ReviewtuiError when fewer than two
        sentiment classes have stars."""
        from reviewtui.modeling.quick import QuickModel

        pairs = [(t, star_label(s)) for t, s in zip(texts, stars)]
        pairs = [(t, lab) for t, lab in pairs if lab is not None]
        if len(pairs) > STAR_HEAD_SAMPLE:  # a logistic regression learns no more from a million
            keep = np.sort(np.random.default_rng(0).choice(len(pairs), STAR_HEAD_SAMPLE, replace=False))
            pairs = [pairs[i] for i in keep]
        kinds = {lab for _, lab in pairs}
        if len(kinds) < 2:
            has = (f"every review with stars here is {next(iter(kinds))} ({len(pairs):,} of them)" if kinds
                   else "no review here has a star score from 1 to 5")
            raise ReviewtuiError("the star-trained sentiment head needs reviews with star scores of at least two "
                                 f"kinds (1-2 negative, 3 neutral, 4-5 positive); {has}: use vader "
                                 "(--sentiment vader)")
        X = self.cache.embed([t for t, _ in pairs], on_event=on_event, cancel=cancel)
        self.model = QuickModel(C=self.C, class_weight="balanced").fit(X, [lab for _, lab in pairs])
        self.trained_on = len(pairs)
        return self

    def scores_from_proba(self, p: np.ndarray, classes: Sequence[str]) -> SentimentScores:
        col = {c: i for i, c in enumerate(classes)}
        labels = [classes[j] for j in p.argmax(axis=1)] if len(p) else []
        pos = p[:, col["positive"]] if "positive" in col else 0.0
        neg = p[:, col["negative"]] if "negative" in col else 0.0
        return SentimentScores(self.name, labels, np.asarray(pos - neg, dtype=np.float32).reshape(len(p)))

    def analyze(self, texts: Sequence[str], on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> SentimentScores:
        if self.model is None:
            raise ReviewtuiError("the star-trained sentiment head is not trained yet")
        X = self.cache.embed(list(texts), on_event=on_event, cancel=cancel)
        p = self.model.predict_proba(X) if len(X) else np.zeros((0, len(self.model.classes_)), np.float32)
        return self.scores_from_proba(p, self.model.classes_)


# --- choosing one -----------------------------------------------------------------------------
AUTO = "auto"
#: reviews with a star score the star-trained head needs, and of each of two star sentiments at least
AUTO_MIN_STARS, AUTO_MIN_PER_KIND = 200, 20
#: the star-trained head learns from at most this many reviews (a sample of a larger corpus)
STAR_HEAD_SAMPLE = 20_000


def choose_sentiment(scores: Sequence[Any] | Mapping[Any, int], team: Mapping[str, int],
                     min_team_labels: int) -> tuple[str, str]:
    """What ``[sentiment] model = "auto"`` runs, and why: "team" once the team has labeled
    ``min_team_labels`` sentiments (``team``: sentiment -> labels), of two kinds at least (the team
    model learns from the stars before that); else "stars" (the star-trained head) when ``scores`` (each
    review's star score, None where it has none; or star score -> reviews, as
    ``LocalStore.counts_by_score`` gives them) hold at least :data:`AUTO_MIN_STARS` usable ones,
    :data:`AUTO_MIN_PER_KIND` of two kinds (1-2, 3, 4-5) at least; else "vader". On 300
    play-store-fintech reviews whose sentiment was read from the text alone, the star-trained head
    scored 0.576 macro-F1 and VADER 0.441 (docs/BENCHMARKS.md): VADER misreads short complaints in
    the reviewers' own idiom, and calls a quarter of the one-star reviews positive there."""
    team_labels = sum(team.values())
    if team_labels >= min_team_labels and sum(1 for n in team.values() if n) >= 2:
        return "team", f"the team labeled {team_labels:,} sentiments"
    kinds: Counter[str] = Counter()
    for score, n in scores.items() if isinstance(scores, Mapping) else ((s, 1) for s in scores):
        if (kind := star_label(score)) is not None:
            kinds[kind] += n
    usable = sum(kinds.values())
    if usable >= AUTO_MIN_STARS and sum(1 for n in kinds.values() if n >= AUTO_MIN_PER_KIND) >= 2:
        return "stars", f"{usable:,} reviews have a star score to learn from"
    why = (f"only {usable:,} reviews have a star score" if usable < AUTO_MIN_STARS
           else "the star scores are nearly all of one kind")
    return "vader", f"{why} and the team labeled {team_labels:,} sentiments"


def make_analyzer(spec: str | None, *, max_length: int, store: LocalStore | None = None,
                  assets: Sequence[Any] | None = None, embeddings: Callable[[], "EmbeddingCache"] | None = None,
                  on_event: EventSink | None = None, cancel: threading.Event | None = None):
    """The analyzer for ``spec`` (None: ``[sentiment] model``'s default): "vader", "stars"
    (trained now on the assets of ``store``, embedded through ``embeddings()``), "auto" without the
    team's model (one of those two, :func:`choose_sentiment`), or a Hugging Face sentiment model
    folder / cached hub id (reading ``max_length`` tokens of each review). ``assets``: the store's
    assets when the caller has read them already (else they are read from ``store``). Raises
    ReviewtuiError for a folder that is not a sentiment classifier or a spec that is neither."""
    spec = str(spec or SentimentSettings().model).strip()
    low = spec.lower()
    if assets is None and store is not None and (low == AUTO or low in STAR_SPECS):
        assets = list(store.iter_assets())
    if low == AUTO:  # without the team's model, which predict builds: the star head or VADER
        scores = [a.metadata.get("score") for a in assets or ()]
        low = spec = choose_sentiment(scores, {}, SentimentSettings().min_team_labels)[0]
    if low == "vader":
        return VaderAnalyzer()
    if low in STAR_SPECS:
        if assets is None or embeddings is None:
            raise ReviewtuiError("the star-trained sentiment head needs the workspace's reviews and embeddings")
        return StarHead(embeddings()).fit([a.text for a in assets], [a.metadata.get("score") for a in assets],
                                          on_event=on_event, cancel=cancel)
    return TransformerSentiment(spec, max_length=max_length)


# --- agreement with the stars -----------------------------------------------------------------
@dataclass
class Agreement:
    """How one analyzer's labels agree with the stars' weak labels on ``n`` reviews.

    ``confusion``: rows are star sentiments, columns the analyzer's, in SENTIMENTS order.
    ``cross_validated`` is True for the star head (its figures are out-of-fold predictions)."""

    analyzer: str
    n: int
    accuracy: float
    macro_f1: float
    kappa: float
    confusion: list[list[int]]
    distribution: dict[str, int]
    cross_validated: bool = False


@dataclass
class SentimentComparison:
    """Agreement of each option with the stars, and between options (share of equal labels)."""

    n: int
    star_distribution: dict[str, int]
    agreements: list[Agreement]
    pairwise: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "star_distribution": self.star_distribution,
                "agreements": [a.__dict__ for a in self.agreements], "pairwise": self.pairwise}


def agreement(name: str, stars: Sequence[str], labels: Sequence[str], cross_validated: bool = False) -> Agreement:
    """Accuracy, macro-F1 and Cohen's kappa of ``labels`` against star sentiments ``stars``."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, f1_score

    stars, labels = list(stars), list(labels)
    cm = confusion_matrix(stars, labels, labels=list(SENTIMENTS)).tolist() if stars else [[0] * 3] * 3
    kappa = float(cohen_kappa_score(stars, labels)) if len(set(stars) | set(labels)) > 1 else 1.0
    return Agreement(name, len(stars), float(accuracy_score(stars, labels)) if stars else 0.0,
                     float(f1_score(stars, labels, labels=list(SENTIMENTS), average="macro", zero_division=0)),
                     0.0 if kappa != kappa else kappa, [[int(v) for v in r] for r in cm],
                     {s: labels.count(s) for s in SENTIMENTS}, cross_validated)


def compare_with_stars(store: LocalStore, options: Sequence[str] = ("vader", "stars"), *, max_length: int,
                       embeddings: Callable[[], "EmbeddingCache"], sample: int | None = 5000, seed: int = 0,
                       on_event: EventSink | None = None, cancel: threading.Event | None = None) -> SentimentComparison:
    """Run each sentiment option on the reviews of ``store`` that have a 1-5 star score (a seeded
    sample of at most ``sample``) and measure agreement with the stars. The star head is scored
    with 5-fold out-of-fold predictions so it is not graded on its own training labels; it and a
    Hugging Face option take ``embeddings`` and ``max_length`` as in :func:`make_analyzer`.
    Raises ReviewtuiError when no review has a star score."""
    assets = [a for a in store.iter_assets() if star_label(a.metadata.get("score")) is not None]
    if not assets:
        raise ReviewtuiError("no review in this workspace has a 1-5 star score (score column): the sentiment "
                             "options cannot be compared with the stars")
    if sample and len(assets) > sample:
        rng = np.random.default_rng(seed)
        assets = [assets[i] for i in sorted(rng.choice(len(assets), size=sample, replace=False))]
    texts = [a.text for a in assets]
    stars = [star_label(a.metadata.get("score")) for a in assets]
    results: list[Agreement] = []
    predicted: dict[str, list[str]] = {}
    for spec in options:
        if str(spec).lower() in STAR_SPECS:
            labels = _star_head_oof(embeddings(), texts, stars, seed, on_event, cancel)
            results.append(agreement("stars", stars, labels, cross_validated=True))
            predicted["stars"] = labels
            continue
        analyzer = make_analyzer(spec, max_length=max_length, store=store, embeddings=embeddings)
        out = analyzer.analyze(texts, on_event=on_event, cancel=cancel)
        results.append(agreement(analyzer.name, stars, out.labels))
        predicted[analyzer.name] = out.labels
    pairwise = {a: {b: float(np.mean([x == y for x, y in zip(la, lb)])) for b, lb in predicted.items()}
                for a, la in predicted.items()}
    dist = {s: stars.count(s) for s in SENTIMENTS}
    return SentimentComparison(len(texts), dist, results, pairwise)


def _star_head_oof(cache: "EmbeddingCache", texts, stars, seed, on_event, cancel) -> list[str]:
    from sklearn.model_selection import StratifiedKFold

    from reviewtui.modeling.quick import QuickModel

    X = cache.embed(texts, on_event=on_event, cancel=cancel)
    y = np.asarray(stars, dtype=object)
    _, counts = np.unique(y, return_counts=True)
    folds = int(min(5, counts.min())) if len(counts) > 1 else 0
    if folds < 2:
        raise ReviewtuiError("too few reviews per star class to cross-validate the star head; use vader")
    out = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        m = QuickModel(C=1.0, class_weight="balanced").fit(X[train], list(y[train]))
        out[test] = m.predict(X[test])
    return [str(v) for v in out]
