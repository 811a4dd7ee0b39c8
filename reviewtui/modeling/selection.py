"""Honest evaluation for small data, and the automatic choice among the models that exist here.

With a few hundred labels one validation split decides by a row or two (one row of 56 is 1.8
points), and holding out 36 % of the labels costs the saved model a third of what it could learn
from. Below ``[evaluation] cv_below`` labels a candidate is therefore scored by stratified, seeded
k-fold cross-validation (mean and spread over the folds), and the saved model is then trained on
ALL the labels with what cross-validation chose (the epoch count, the ensemble weight).

Candidates (``[auto] candidates``):

* ``quick`` / ``head:ENCODER`` — sentence embeddings + logistic regression (seconds);
* ``finetune:ENCODER`` — the Hugging Face Trainer; in each fold it trains ``epochs`` epochs on the
  other folds and scores the held-out fold after every epoch. The epoch count used for a fold's
  score is the one that did best on the OTHER folds (so the fold does not pick its own epoch); the
  final model trains for the epoch count that did best over all folds;
* ``ensemble:FINETUNE+HEAD`` — the weighted mean of both probabilities; the weight is chosen the
  same way, on the other folds' out-of-fold predictions, so it costs no training at all.

:func:`select_model` runs the candidates cheapest first within a time budget (each one's cost is
estimated first from the encoder's measured speed, and re-estimated after its first fold; what
would not fit is skipped or stopped), on the GPU when there is one. :func:`train_selected` trains
the winner on all labels and saves it with the comparison table in its model card.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, TrialUpdate, background_job, emit
from reviewtui.modeling import Cancelled
from reviewtui.modeling.budget import MARGIN, TRAIN_FACTOR, say_duration
from reviewtui.modeling.data import prepare_frame, present_labels, same_text_error, text_groups
from reviewtui.modeling.metrics import mean_log_loss, softmax, validation_metrics
from reviewtui.modeling.quick import DEFAULT_C
from reviewtui.settings import AutoSettings, EvaluationSettings, ModelSettings, TrainingSettings, to_toml_dict

METRICS = ("accuracy", "f1_macro", "f1_weighted")
WEIGHTS = (0.25, 0.4, 0.5, 0.6, 0.75)  # the fine-tune's share in an ensemble


# --- folds and scores ------------------------------------------------------------------------------
def stratified_folds(labels: Sequence[str], k: int, seed: int,
                     texts: Sequence[str] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) of stratified, shuffled k-fold CV with ``seed``. ``k`` is
    lowered to the smallest category's count when that is smaller. With ``texts``, the rows of a text
    that occurs more than once (case and spacing aside) are in one fold: a "good app" on both sides
    scored a model on reviews it was trained on. Raises ReviewtuiError when a category has fewer
    than 2 labels or there are fewer than 2 categories."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray([str(v) for v in labels], dtype=object)
    values, counts = np.unique(y, return_counts=True)
    if len(values) < 2:
        raise ReviewtuiError(f"cross-validation needs labels of at least two categories, got {list(values) or 'none'}")
    if counts.min() < 2:
        rare = [str(v) for v, c in zip(values, counts) if c < 2]
        names = rare[0] if len(rare) == 1 else ", ".join(rare[:-1]) + " and " + rare[-1]
        has = "has only 1 label" if len(rare) == 1 else "have only 1 label each"
        raise ReviewtuiError(f"cross-validation needs at least 2 labels per category; {names} {has}: "
                             "label more (reviewtui queue --search WORDS finds candidates), or leave "
                             f"{'it' if len(rare) == 1 else 'them'} out of training "
                             + " and ".join(f"(reviewtui categories set {r} --no-train)" for r in rare[:3]))
    k = int(min(k, counts.min()))
    groups = text_groups(texts) if texts is not None else None
    if groups is None:
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed))
        return [(tr, te) for tr, te in skf.split(np.zeros(len(y)), y)]
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    distinct = len(set(groups))
    if distinct < 2:
        raise same_text_error(len(y))
    k = min(k, distinct)
    with warnings.catch_warnings():  # "the least populated class has only N members": k was fitted to it
        warnings.simplefilter("ignore", UserWarning)
        sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=int(seed))
        return [(tr, te) for tr, te in sgkf.split(np.zeros(len(y)), y, groups) if len(te) and len(tr)]


def use_cross_validation(n_labels: int, evaluation: EvaluationSettings) -> bool:
    """True when ``n_labels`` is below ``[evaluation] cv_below``: score by CV, train on all labels."""
    return int(n_labels) < int(evaluation.cv_below)


def scores_of(y: np.ndarray, proba: np.ndarray, n_classes: int) -> dict[str, float]:
    """accuracy, f1_macro, f1_weighted and log_loss of probabilities ``proba`` for class ids ``y``."""
    labels = [str(i) for i in range(n_classes)]  # validation_metrics needs names only to count the classes
    scores = validation_metrics(list(y), list(np.asarray(proba).argmax(1)), labels)
    return {**scores, "log_loss": mean_log_loss(proba, list(y))}


def summarize(folds: Sequence[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """(mean, standard deviation) of each metric over folds."""
    keys = [k for k in folds[0]] if folds else []
    mean = {k: float(np.mean([f[k] for f in folds])) for k in keys}
    std = {k: float(np.std([f[k] for f in folds])) for k in keys}
    return mean, std


def _rank(scores: dict[str, float], metric: str) -> tuple[float, float]:
    return (scores.get(metric, 0.0), -scores.get("log_loss", 0.0))


def cv_objective(folds: Sequence[dict[str, float]], metric: str = "f1_macro") -> float:
    """The tuning objective of a cross-validated trial: the mean of ``metric`` over folds minus
    half its standard error (a configuration must be better on most folds, not on one), with the
    mean log-loss breaking ties. ``-inf`` without folds."""
    if not folds:
        return -math.inf
    values = [f[metric] for f in folds]
    sem = float(np.std(values) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    loss = float(np.mean([f.get("log_loss", 0.0) for f in folds]))
    return float(np.mean(values)) - 0.5 * sem - 1e-3 * (loss if math.isfinite(loss) else 1e3)


# --- what a candidate reports ------------------------------------------------------------------------
@dataclass
class CandidateScore:
    """One candidate's cross-validation. ``status``: "done", "skipped" (would not fit the budget),
    "stopped" (ran over its estimate), "failed" or "cancelled"."""

    key: str
    description: str
    status: str = "done"
    reason: str = ""
    folds: list[dict[str, float]] = field(default_factory=list)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    oof: np.ndarray | None = None
    epochs: int | None = None
    fold_epochs: list[int] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    weight: float | None = None
    fold_weights: list[float] = field(default_factory=list)
    seconds: float = 0.0
    estimate_s: float = 0.0

    def row(self) -> dict[str, Any]:
        """The comparison-table row (JSON-ready)."""
        out: dict[str, Any] = {"candidate": self.key, "description": self.description, "status": self.status,
                               "mean": {k: round(v, 4) for k, v in self.mean.items()},
                               "std": {k: round(v, 4) for k, v in self.std.items()},
                               "folds": [{k: round(v, 4) for k, v in f.items()} for f in self.folds],
                               "seconds": round(self.seconds, 1), "estimate_s": round(self.estimate_s, 1)}
        if self.reason:
            out["reason"] = self.reason
        if self.epochs is not None:
            out["epochs"] = self.epochs
            out["fold_epochs"] = list(self.fold_epochs)
        if self.weight is not None:
            out["weight"] = self.weight
            out["fold_weights"] = list(self.fold_weights)
        return out


@dataclass
class Data:
    """The labeled texts a selection works on; ``y`` are indices into ``labels``."""

    texts: list[str]
    y: np.ndarray
    labels: list[str]

    @classmethod
    def from_frame(cls, df, label_keys: Sequence[str]) -> "Data":
        """From a dataset version frame: training rows only (:func:`reviewtui.modeling.data.prepare_frame`)."""
        data = prepare_frame(df, label_keys)
        labels = present_labels(list(data["label"]), label_keys)
        index = {label: i for i, label in enumerate(labels)}
        return cls(list(data["content"]), np.asarray([index[v] for v in data["label"]], dtype=int), labels)

    def frame(self, idx: np.ndarray | None = None):
        import pandas as pd

        idx = np.arange(len(self.texts)) if idx is None else idx
        return pd.DataFrame({"content": [self.texts[i] for i in idx], "label": [self.labels[j] for j in self.y[idx]]})


#: a cross-validation estimated longer than this (seconds, with the final training) names the faster ways
LONG_RUN_S = 600.0


#: What makes a cross-validation started by ``reviewtui train`` faster (its long-run notice says it).
CV_FASTER = "`reviewtui train --quick` takes seconds, `--split` trains once on a held-out split"


@dataclass
class Context:
    """What candidates share: the embedding cache folder, the measured encoder speeds, events."""

    cache_dir: Path | None
    max_length: int = ModelSettings().max_length
    metric: str = "f1_macro"
    seed: int = 42
    on_event: EventSink | None = None
    cancel: threading.Event | None = None
    work_dir: Path | None = None
    #: seconds per text of one inference pass, per encoder spec, measured while embedding
    forward_s: dict[str, float] = field(default_factory=dict)
    train_factor: float = TRAIN_FACTOR
    #: what a long cross-validation's notice says makes it faster (None: nothing, as under tune)
    faster: str | None = CV_FASTER
    #: whether a long cross-validation says its time and how to stop it (not train --auto's: its budget bounds it)
    long_run_hint: bool = True
    #: which candidates may win (select_model's ``allowed_winners``; None: any), said in each update
    may_win: Callable[[str], bool] | None = None
    #: seconds spent encoding texts the cache did not have, and how many: most of a quick model's wait
    embedded_s: float = 0.0
    embedded_n: int = 0

    def check_cancel(self, what: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"{what} cancelled; no model was saved")

    def embed(self, spec: str, texts: Sequence[str]) -> np.ndarray:
        """Embeddings through the cache; records the encoder's speed when it encodes new texts."""
        from reviewtui.modeling.embeddings import EmbeddingCache, embed_texts

        if self.cache_dir is None:
            started = time.perf_counter()
            X = embed_texts(list(texts), spec, max_length=self.max_length, on_event=self.on_event, cancel=self.cancel)
            took = time.perf_counter() - started
            self.forward_s.setdefault(spec, took / max(1, len(texts)))
            self.embedded_s, self.embedded_n = self.embedded_s + took, self.embedded_n + len(texts)
            return X
        cache = EmbeddingCache(self.cache_dir, spec, self.max_length)
        missing = uncached(cache, texts)
        started = time.perf_counter()
        X = cache.embed(list(texts), on_event=self.on_event, cancel=self.cancel)
        took = time.perf_counter() - started
        if missing and missing >= 16:
            self.forward_s[spec] = took / missing
        if missing:
            self.embedded_s, self.embedded_n = self.embedded_s + took, self.embedded_n + missing
        return X

    def forward_seconds(self, spec: str, texts: Sequence[str] = ()) -> float:
        """Seconds per text of one inference pass of ``spec`` on the device training uses (the GPU
        when there is one): measured, or probed on 64 of ``texts`` (the data's own: their length
        decides the pace) or, with none, on 64 texts of about 20 tokens."""
        if spec not in self.forward_s:
            from reviewtui.modeling import budget

            self.forward_s[spec] = budget.forward_seconds(spec, texts, max_length=self.max_length)
        return self.forward_s[spec]


def uncached(cache, texts: Sequence[str]) -> int:
    """How many distinct ``texts`` the embedding cache has no vector for."""
    unique = list(dict.fromkeys(str(t) for t in texts))
    return sum(1 for hit in cache.cached(unique) if not hit)


# --- candidates ---------------------------------------------------------------------------------------
class HeadCandidate:
    """Sentence embeddings of ``encoder`` + logistic regression (the quick model for MiniLM)."""

    kind = "head"

    def __init__(self, encoder: str = ModelSettings().base, C: float = DEFAULT_C) -> None:
        self.encoder = encoder
        self.C = float(C)
        self.key = "quick" if encoder == "minilm" else f"head:{encoder}"
        self.description = f"{encoder} embeddings + logistic regression (C={self.C:g})"

    def estimate(self, data: Data, k: int, ctx: Context) -> float:
        from reviewtui.modeling.embeddings import EmbeddingCache

        if ctx.cache_dir is not None:
            n = uncached(EmbeddingCache(ctx.cache_dir, self.encoder, ctx.max_length), data.texts)
        else:
            n = len(data.texts)
        return n * ctx.forward_seconds(self.encoder) + 0.05 * (k + 1) if n else 0.05 * (k + 1)

    def final_estimate(self, data: Data, ctx: Context) -> float:
        return 0.1

    def cross_validate(self, data: Data, folds, ctx: Context, score: CandidateScore) -> CandidateScore:
        from reviewtui.modeling.quick import QuickModel

        X = ctx.embed(self.encoder, data.texts)
        oof = np.zeros((len(data.texts), len(data.labels)), dtype=np.float64)
        for tr, te in folds:
            ctx.check_cancel("cross-validation")
            model = QuickModel(C=self.C).fit(X[tr], [data.labels[j] for j in data.y[tr]])
            oof[te] = model.proba_for(X[te], data.labels)
            score.folds.append(scores_of(data.y[te], oof[te], len(data.labels)))
        score.oof = oof
        return score

    def fit_final(self, data: Data, ctx: Context):
        from reviewtui.modeling.quick import QuickModel

        X = ctx.embed(self.encoder, data.texts)
        return QuickModel(C=self.C).fit(X, [data.labels[j] for j in data.y])


class FineTuneCandidate:
    """A fine-tuned ``encoder`` with ``training`` ([training] values); ``training.epochs`` is the
    most each fold trains."""

    kind = "finetune"

    def __init__(self, encoder: str, training: TrainingSettings, step_s: float | None = None) -> None:
        self.encoder = encoder
        self.training = training
        self.step_s = step_s  # a training step's measured time (train's budget plan), else estimated
        self.key = f"finetune:{encoder}"
        self.description = f"{encoder} fine-tune (≤{training.epochs} epochs, lr {training.learning_rate:g})"

    def model(self, ctx: Context) -> ModelSettings:
        return ModelSettings(base=self.encoder, max_length=ctx.max_length)

    def timed_step(self, ctx: Context) -> float:
        """The measured step's time, scaled as ``ctx.train_factor`` moves from TRAIN_FACTOR when folds are timed."""
        return float(self.step_s) * ctx.train_factor / TRAIN_FACTOR

    def epoch_seconds(self, n_rows: int, ctx: Context) -> float:
        if self.step_s is not None:
            return math.ceil(n_rows / self.training.batch_size) * self.timed_step(ctx)
        return ctx.train_factor * n_rows * ctx.forward_seconds(self.encoder)

    def scoring_seconds(self, n_rows: int, ctx: Context) -> float:
        if self.step_s is not None:
            from reviewtui.modeling.budget import FORWARD_SHARE

            return n_rows * self.timed_step(ctx) / self.training.batch_size * FORWARD_SHARE
        return n_rows * ctx.forward_seconds(self.encoder)

    def estimate(self, data: Data, k: int, ctx: Context) -> float:
        n_train = len(data.texts) * (k - 1) / k
        per_epoch = self.epoch_seconds(int(n_train), ctx) + self.scoring_seconds(round(len(data.texts) / k), ctx)
        return k * self.training.epochs * per_epoch

    def final_estimate(self, data: Data, ctx: Context, epochs: int | None = None) -> float:
        return int(epochs or self.training.epochs) * self.epoch_seconds(len(data.texts), ctx)

    def cross_validate(self, data: Data, folds, ctx: Context, score: CandidateScore,
                       after_fold: Callable[[int, float], None] | None = None) -> CandidateScore:
        from reviewtui.modeling.batching import predict_logits
        from reviewtui.modeling.finetune import fit_transformer

        k = len(folds)
        per_epoch: list[list[np.ndarray]] = []  # fold -> epoch -> probabilities of the held-out fold
        for f, (tr, te) in enumerate(folds):
            ctx.check_cancel("cross-validation")
            probas: list[np.ndarray] = []
            test_texts = [data.texts[i] for i in te]

            def on_epoch(epoch: int, model, tokenizer, _out=probas, _texts=test_texts) -> None:
                _out.append(softmax(predict_logits(model, tokenizer, _texts, max_length=ctx.max_length)))

            started = time.perf_counter()
            fit_transformer(data.frame(tr), None, data.labels, self.model(ctx), self.training,
                            on_event=ctx.on_event, cancel=ctx.cancel, epoch_model_callback=on_epoch,
                            work_dir=ctx.work_dir, progress_task=f"cv {f + 1}/{k} {self.key}")
            per_epoch.append(probas)
            if after_fold is not None:
                after_fold(f, time.perf_counter() - started)  # may raise to stop the candidate
        return self._score(data, folds, per_epoch, ctx, score)

    def _score(self, data: Data, folds, per_epoch: list[list[np.ndarray]], ctx: Context,
               score: CandidateScore) -> CandidateScore:
        epochs = min(len(p) for p in per_epoch)
        table = [[scores_of(data.y[te], per_epoch[f][e], len(data.labels)) for e in range(epochs)]
                 for f, (_, te) in enumerate(folds)]

        def best_epoch(use: Sequence[int]) -> int:
            means = [summarize([table[f][e] for f in use])[0] for e in range(epochs)]
            return max(range(epochs), key=lambda e: (_rank(means[e], ctx.metric), -e)) + 1

        oof = np.zeros((len(data.texts), len(data.labels)), dtype=np.float64)
        for f, (_, te) in enumerate(folds):
            others = [g for g in range(len(folds)) if g != f] or [f]
            e = best_epoch(others)
            score.fold_epochs.append(e)
            oof[te] = per_epoch[f][e - 1]
            score.folds.append(table[f][e - 1])
        score.epochs = best_epoch(range(len(folds)))
        score.curve = [{"epoch": float(e + 1), **summarize([table[f][e] for f in range(len(folds))])[0]}
                       for e in range(epochs)]
        score.oof = oof
        return score

    def fit_final(self, data: Data, ctx: Context, epochs: int):
        from reviewtui.modeling.finetune import fit_transformer

        return fit_transformer(data.frame(), None, data.labels, self.model(ctx),
                               replace(self.training, epochs=int(epochs)), on_event=ctx.on_event, cancel=ctx.cancel,
                               work_dir=ctx.work_dir, progress_task=f"final {self.key}")


def ensemble_score(finetune: CandidateScore, head: CandidateScore, data: Data, folds, metric: str) -> CandidateScore:
    """The weighted mean of two candidates' out-of-fold probabilities: each fold uses the weight that
    did best on the other folds; the final weight is the best over all folds. No training."""
    key = f"ensemble:{finetune.key}+{head.key}"
    score = CandidateScore(key, f"weighted mean of ({finetune.description}) and ({head.description})")
    assert finetune.oof is not None and head.oof is not None
    n_classes = len(data.labels)

    def mix(w: float, idx: np.ndarray) -> np.ndarray:
        return w * finetune.oof[idx] + (1 - w) * head.oof[idx]  # type: ignore[index]

    def best_weight(use: Sequence[int]) -> float:
        idx = np.concatenate([folds[g][1] for g in use])
        return max(WEIGHTS, key=lambda w: (_rank(scores_of(data.y[idx], mix(w, idx), n_classes), metric),
                                           -abs(w - 0.5)))

    oof = np.zeros_like(finetune.oof)
    for f, (_, te) in enumerate(folds):
        w = best_weight([g for g in range(len(folds)) if g != f] or [f])
        score.fold_weights.append(w)
        oof[te] = mix(w, te)
        score.folds.append(scores_of(data.y[te], oof[te], n_classes))
    score.weight = best_weight(range(len(folds)))
    score.epochs = finetune.epochs
    score.oof = oof
    score.seconds = finetune.seconds + head.seconds
    return score


# --- the selection ------------------------------------------------------------------------------------
def parse_budget(text: str | float | int, *, allow_none: bool = False, option: str = "--budget") -> float:
    """Seconds from ``--budget`` (or ``option``): "30m", "1h", "90s", "1h30m" or a number of
    seconds; with ``allow_none``, "none" is 0 (no limit). Raises ReviewtuiError for anything else."""
    import re

    if allow_none and str(text).strip().lower() == "none":
        return 0.0
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip().lower()
        parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?", raw)
        if not raw or parts is None or not any(parts.groups()):
            raise ReviewtuiError(f"{option} {text!r} is not a duration: write 30m, 1h, 1h30m or 600 (seconds)"
                                 + (", or none for no limit" if allow_none else ""))
        h, m, s = (float(g) if g else 0.0 for g in parts.groups())
        value = h * 3600 + m * 60 + s
    if value <= 0 and allow_none:
        return 0.0  # 0, 0s, 0m: no limit, as budget_s = 0
    if value <= 0:
        raise ReviewtuiError(f"{option} must be more than 0 seconds, not {text!r}")
    return value


def make_candidates(specs: Sequence[str], *, auto: AutoSettings, training: TrainingSettings,
                    available: Callable[[str], bool], C: float = DEFAULT_C) -> tuple[list[Any], list[CandidateScore]]:
    """Candidate objects for ``specs`` ("quick", "head:ENC", "finetune:ENC") and a skipped row for each
    one whose encoder is not available (``available(encoder)`` False: mpnet not installed). A
    fine-tune takes ``training`` with the epochs and learning rate of ``[auto]`` for its size; a head
    regularises with ``C``."""
    out: list[Any] = []
    skipped: list[CandidateScore] = []
    for spec in specs:
        kind, _, encoder = str(spec).partition(":")
        kind, encoder = kind.strip().lower(), encoder.strip() or "minilm"
        if kind == "quick":
            kind, encoder = "head", "minilm"
        if kind not in ("head", "finetune"):
            raise ReviewtuiError(f"[auto] candidates: {spec!r} is not quick, head:ENCODER or finetune:ENCODER")
        if not available(encoder):
            key = "quick" if (kind, encoder) == ("head", "minilm") else f"{kind}:{encoder}"
            skipped.append(CandidateScore(key, f"{encoder} {kind}", status="skipped",
                                          reason=f"{encoder} is not installed (reviewtui models add {encoder})"))
            continue
        if kind == "head":
            out.append(HeadCandidate(encoder, C=C))
        else:
            small = encoder.lower() in ("minilm", "all-minilm-l6-v2")
            out.append(FineTuneCandidate(encoder, replace(
                training, epochs=auto.minilm_epochs if small else auto.mpnet_epochs,
                learning_rate=auto.minilm_learning_rate if small else auto.mpnet_learning_rate)))
    return out, skipped


def encoder_available(spec: str) -> bool:
    """False when ``spec`` cannot be resolved here (an installable encoder not installed yet)."""
    from reviewtui.modeling.loading import resolve_model

    try:
        resolve_model(spec)
    except ReviewtuiError:
        return False
    return True


class _OverBudget(Exception):
    pass


@dataclass
class Selection:
    """What :func:`select_model` found: every candidate's row (``scores``), the winner's key and the
    folds used. ``table()`` is the comparison for the model card and the tuning screen."""

    scores: list[CandidateScore]
    winner: str | None
    folds: int
    seed: int
    metric: str
    budget_s: float | None
    seconds: float
    candidates: dict[str, Any] = field(default_factory=dict)

    def score(self, key: str) -> CandidateScore:
        return next(s for s in self.scores if s.key == key)

    def table(self) -> dict[str, Any]:
        ranked = sorted(self.scores, key=lambda s: (s.status != "done", -s.mean.get(self.metric, 0.0)))
        return {"method": f"{self.folds}-fold stratified cross-validation (seed {self.seed})",
                "metric": self.metric, "winner": self.winner, "budget_s": self.budget_s,
                "seconds": round(self.seconds, 1), "rows": [s.row() for s in ranked]}


def _update(ctx: Context, score: CandidateScore, status: str, iteration: int = 0, error: str | None = None) -> None:
    mean, std = summarize(score.folds) if score.folds else ({}, {})
    metrics = {k: round(v, 4) for k, v in mean.items()}
    metrics.update({f"{k}_std": round(v, 4) for k, v in std.items()})
    config = {"candidate": score.key, "description": score.description}
    if ctx.may_win is not None and not ctx.may_win(score.key):
        config["may_win"] = False  # scored, shown, but not what this training saves: never starred
    emit(ctx.on_event, TrialUpdate(score.key, status, config, iteration, metrics, score.seconds, error=error))


def select_model(data: Data, candidates: Sequence[Any], *, evaluation: EvaluationSettings, ctx: Context,
                 budget_s: float | None = None, ensembles: bool = True, skipped: Sequence[CandidateScore] = (),
                 allowed_winners: Callable[[str], bool] | None = None, fallback: str | None = None,
                 skip_over_budget: bool = True, overrun: float = 0.0,
                 clock: Callable[[], float] = time.perf_counter) -> Selection:
    """Cross-validate ``candidates`` on ``data`` cheapest first within ``budget_s`` seconds (None:
    no limit; the final training of the winner is kept in reserve), then add the ensembles of each
    fine-tune with each head. Emits a TrialUpdate per candidate (RUNNING, then TERMINATED, STOPPED
    or ERROR) and Notices. ``allowed_winners`` limits the winners; with ``fallback`` (what to say)
    any candidate scored may win when none of those finished because the budget stopped or skipped
    them (one that failed is an error still). ``skip_over_budget`` False starts every candidate
    whatever its estimate (its epochs were already fitted to the budget): the pace measured after
    its first fold stops it when the rest would not fit by more than ``overrun`` (a share of the
    budget: a fine-tune about to finish a little late is worth more than the quick model instead).
    Raises Cancelled when ``ctx.cancel`` is set, ReviewtuiError when no candidate could be scored."""
    started = clock()
    folds = stratified_folds([data.labels[j] for j in data.y], evaluation.folds, evaluation.seed, data.texts)
    k = len(folds)
    ctx.metric, ctx.seed, ctx.may_win = evaluation.metric, evaluation.seed, allowed_winners
    scores: list[CandidateScore] = list(skipped)
    for score in skipped:  # not available here (mpnet not installed): a row that says so
        _update(ctx, score, "STOPPED", error=score.reason)
    by_key: dict[str, Any] = {}
    estimates = []
    for cand in candidates:
        estimates.append((cand.estimate(data, k, ctx), cand))
    estimates.sort(key=lambda pair: pair[0])
    emit(ctx.on_event, Notice("info", f"{len(estimates)} candidate{'s' if len(estimates) != 1 else ''}, {k}-fold cross-validation on {len(data.texts)} "
                                      f"labels" + (f", budget {budget_s:.0f} s" if budget_s else "")))

    def left() -> float:
        return math.inf if budget_s is None else budget_s - (clock() - started)

    for estimate, cand in estimates:
        ctx.check_cancel("model selection")
        estimate = cand.estimate(data, k, ctx)  # speeds measured by earlier candidates refine it
        score = CandidateScore(cand.key, cand.description, estimate_s=estimate)
        reserve = cand.final_estimate(data, ctx)
        scores.append(score)
        by_key[cand.key] = cand
        if skip_over_budget and estimate + reserve > left():
            score.status = "skipped"
            score.reason = f"estimated {estimate + reserve:.0f} s with its final training, {max(0.0, left()):.0f} s left"
            _update(ctx, score, "STOPPED", error=score.reason)
            emit(ctx.on_event, Notice("info", f"skipping {cand.key}: {score.reason}"))
            continue
        _update(ctx, score, "RUNNING")
        hint = ""
        if ctx.long_run_hint and estimate + reserve > LONG_RUN_S:  # say the faster ways before the wait
            job = background_job(ctx.on_event)  # a job outlives the terminal already
            hint = (f", {(estimate + reserve) / 60:.0f} min with its final training: "
                    + (f"{ctx.faster}, " if ctx.faster else "")
                    + (f"`reviewtui jobs cancel {job}` stops it" if job else
                       "`--detach` keeps it running after the terminal closes"))
        emit(ctx.on_event, Notice("info", f"cross-validating {cand.key} (estimated {estimate:.0f} s{hint})"))
        t0 = clock()

        def after_fold(f: int, seconds: float, _score=score, _cand=cand, _t0=t0) -> None:
            done = f + 1
            per_fold = (clock() - _t0) / done
            # the measured pace replaces the estimate: stop now rather than overrun the budget
            ctx.train_factor = max(0.5, ctx.train_factor * per_fold / max(1e-9, _cand.estimate(data, k, ctx) / k))
            remaining = per_fold * (k - done) + _cand.final_estimate(data, ctx)
            _score.seconds = clock() - _t0
            emit(ctx.on_event, TrialUpdate(_score.key, "RUNNING", {"candidate": _score.key}, done, {}, _score.seconds))
            # after the last fold only the final training is left, priced at the most epochs: not worth a stop
            if done < k and remaining > left() + overrun * (budget_s or 0.0):
                raise _OverBudget(f"stopped after fold {done}/{k}: {remaining:.0f} s more needed, "
                                  f"{max(0.0, left()):.0f} s left")

        try:
            if cand.kind == "finetune":
                cand.cross_validate(data, folds, ctx, score, after_fold=after_fold)
            else:
                cand.cross_validate(data, folds, ctx, score)
        except _OverBudget as exc:
            score.status, score.reason, score.folds, score.oof = "stopped", str(exc), [], None
            score.seconds = clock() - t0
            _update(ctx, score, "STOPPED", error=score.reason)
            emit(ctx.on_event, Notice("warning", f"{cand.key}: {score.reason}"))
            continue
        except Cancelled:
            raise
        except ReviewtuiError as exc:  # a diverged fine-tune, a model that cannot load
            score.status, score.reason, score.folds, score.oof = "failed", str(exc), [], None
            score.seconds = clock() - t0
            _update(ctx, score, "ERROR", error=score.reason)
            emit(ctx.on_event, Notice("warning", f"{cand.key} failed: {exc}"))
            continue
        score.seconds = clock() - t0
        score.mean, score.std = summarize(score.folds)
        _update(ctx, score, "TERMINATED", k)
        emit(ctx.on_event, Notice("info", f"{cand.key}: {ctx.metric} {score.mean[ctx.metric]:.3f} "
                                          f"± {score.std[ctx.metric]:.3f}, accuracy {score.mean['accuracy']:.3f} "
                                          f"({score.seconds:.0f} s)"))
    done = [s for s in scores if s.status == "done"]
    if ensembles:
        for ft in [s for s in done if by_key[s.key].kind == "finetune"]:
            for head in [s for s in done if by_key[s.key].kind == "head"]:
                ens = ensemble_score(ft, head, data, folds, ctx.metric)
                ens.mean, ens.std = summarize(ens.folds)
                scores.append(ens)
                _update(ctx, ens, "TERMINATED", k)
    ranked = [s for s in scores if s.status == "done" and (allowed_winners is None or allowed_winners(s.key))]
    budget_only = all(s.status in ("done", "stopped", "skipped") for s in scores
                      if allowed_winners is None or allowed_winners(s.key))
    if not ranked and fallback is not None and budget_only:  # a failed fine-tune is an error, not a fallback
        ranked = [s for s in scores if s.status == "done"]
        if ranked:
            emit(ctx.on_event, Notice("warning", fallback))
    if not ranked:
        reasons = "; ".join(f"{s.key}: {s.reason}" for s in scores if s.reason) or "no candidates"
        raise ReviewtuiError(f"no candidate could be scored ({reasons}): raise --budget or check [auto] candidates")
    winner = max(ranked, key=lambda s: _rank(s.mean, ctx.metric))
    return Selection(scores, winner.key, k, evaluation.seed, ctx.metric, budget_s, clock() - started, by_key)


# --- the final model ----------------------------------------------------------------------------------
def train_selected(selection: Selection, data: Data, ctx: Context, *, models_dir: Path, label_keys: Sequence[str],
                   name: str | None = None, dataset_version: str | None = None, dataset_sha256: str | None = None,
                   overwrite: bool = False, extra: dict[str, Any] | None = None):
    """Train the winner of ``selection`` on ALL of ``data`` (the epoch count and ensemble weight that
    cross-validation chose) and save it in ``models_dir``; returns its ModelCard. The card's
    ``metrics`` are the cross-validated means (there is no test split), ``per_class`` and
    ``confusion_matrix`` come from the pooled out-of-fold predictions, and
    ``extra["selection"]`` holds the comparison table. Raises Cancelled when cancelled."""
    from reviewtui.modeling.card import ModelCard, default_model_name, hardware_info, now_iso, write_model_dir
    from reviewtui.modeling.finetune import save_transformer
    from reviewtui.modeling.metrics import classification_metrics
    from reviewtui.modeling.loading import resolve_model

    winner = selection.score(selection.winner or "")
    keys = winner.key.removeprefix("ensemble:").split("+")
    finetune = next((selection.candidates[k] for k in keys if k in selection.candidates
                     and selection.candidates[k].kind == "finetune"), None)
    head = next((selection.candidates[k] for k in keys if k in selection.candidates
                 and selection.candidates[k].kind == "head"), None)
    emit(ctx.on_event, Notice("info", f"training {winner.key} on all {len(data.texts)} labels"
                                      + (f" for {winner.epochs} epochs" if finetune is not None else "")))
    started = time.perf_counter()
    fit = finetune.fit_final(data, ctx, int(winner.epochs or 1)) if finetune is not None else None
    quick = head.fit_final(data, ctx) if head is not None else None
    ctx.check_cancel("training")
    seconds = time.perf_counter() - started
    assert winner.oof is not None
    metrics, per_class, confusion = classification_metrics(list(data.y), list(winner.oof.argmax(1)), data.labels)
    metrics = {**metrics, **{k: v for k, v in winner.mean.items() if k in METRICS}}
    evaluation = {"method": "cross-validation", "folds": selection.folds, "seed": selection.seed,
                  "metric": selection.metric, "mean": winner.mean, "std": winner.std, "per_fold": winner.folds,
                  "pooled_out_of_fold": "per_class and confusion_matrix"}
    extra = {**(extra or {}), "evaluation": evaluation, "selection": selection.table()}
    if ctx.embedded_n:  # the cross-validation's wait was mostly this: the card and train say it
        extra["embedding"] = {"seconds": round(ctx.embedded_s, 3), "texts": ctx.embedded_n}
    encoder = finetune.encoder if finetune is not None else head.encoder  # type: ignore[union-attr]
    resolved = resolve_model(encoder)
    hp: dict[str, Any] = {"model": winner.key, "max_length": ctx.max_length}
    if finetune is not None:
        hp.update({**to_toml_dict(finetune.training), "epochs": int(winner.epochs or 1)})
    if head is not None:
        hp.update({"embedding_model": head.encoder, "embedding_max_length": ctx.max_length, "C": head.C})
    if fit is not None and quick is not None:
        hp.update({"ensemble_quick": True, "ensemble_weight": float(winner.weight or 0.5)})
    elif fit is not None:
        hp["ensemble_quick"] = False
    name = name or default_model_name(dataset_version, "auto" if len(selection.scores) > 1 else resolved.name)
    card = ModelCard(
        name=name, kind="finetuned" if fit is not None else "quick", base_model=resolved.name,
        base_source=resolved.source, labels=list(data.labels), taxonomy_keys=list(label_keys),
        dataset_version=dataset_version, dataset_sha256=dataset_sha256, hyperparameters=hp, metrics=metrics,
        per_class=per_class, confusion_matrix=confusion,
        splits={"train": len(data.texts), "validation": 0, "test": 0, "cv_folds": selection.folds},
        class_weights=getattr(fit, "class_weights", None), epochs_trained=float(winner.epochs or 0),
        history=[{k: v for k, v in row.items()} for row in (selection.score(finetune.key).curve if finetune else [])],
        created_at=now_iso(), train_seconds=round(seconds, 3),
        hardware={**hardware_info(), **({"device": fit.device} if fit is not None else {})}, extra=extra,
    )
    if fit is not None:
        save_transformer(models_dir, name, fit, card, overwrite=overwrite, quick=quick)
    else:
        def fill(tmp: Path) -> None:
            quick.save(tmp)  # type: ignore[union-attr]
            card.save(tmp)

        card.path = str(write_model_dir(models_dir, name, fill, overwrite=overwrite))
    emit(ctx.on_event, Notice("info", f"saved {name} ({winner.key}): cross-validated {selection.metric} "
                                      f"{winner.mean[selection.metric]:.3f} ± {winner.std[selection.metric]:.3f}"))
    return card


def auto_train(df, *, models_dir: Path, label_keys: Sequence[str], cache_dir: Path | None,
               evaluation: EvaluationSettings, auto: AutoSettings, training: TrainingSettings | None = None,
               max_length: int = ModelSettings().max_length, quick_C: float = DEFAULT_C, budget_s: float | None = None,
               name: str | None = None,
               dataset_version: str | None = None, dataset_sha256: str | None = None,
               on_event: EventSink | None = None, cancel: threading.Event | None = None,
               overwrite: bool = False, work_dir: Path | None = None,
               available: Callable[[str], bool] = encoder_available):
    """``train --auto``: cross-validate ``[auto] candidates`` within ``budget_s`` (default
    ``[auto] budget_s``) and train + save the winner on all labels. Returns (Selection, ModelCard).
    The final training's time is part of the budget."""
    started = time.perf_counter()
    budget = float(budget_s if budget_s is not None else auto.budget_s)
    check_name_free(models_dir, name, overwrite)
    data = Data.from_frame(df, label_keys)
    emit(on_event, Notice("info", f"training on {device_text()}"))
    cands, skipped = make_candidates(auto.candidates, auto=auto, training=training or TrainingSettings(),
                                     available=available, C=quick_C)
    # its budget bounds it: the candidates that would not fit are skipped, not named in a notice
    ctx = Context(cache_dir, max_length=max_length, on_event=on_event, cancel=cancel, work_dir=work_dir,
                  long_run_hint=False)
    selection = select_model(data, cands, evaluation=evaluation, ctx=ctx, budget_s=budget, ensembles=auto.ensembles,
                             skipped=skipped)
    card = train_selected(selection, data, ctx, models_dir=models_dir, label_keys=label_keys, name=name,
                          dataset_version=dataset_version, dataset_sha256=dataset_sha256, overwrite=overwrite,
                          extra={"auto": {"budget_s": budget, "seconds": round(time.perf_counter() - started, 1)}})
    card.extra["auto"]["seconds"] = round(time.perf_counter() - started, 1)
    card.save(Path(card.path or models_dir / card.name))
    return selection, card


def device_text() -> str:
    """Where training runs: "the GPU (NVIDIA H200)" when torch sees a CUDA device, else "the CPU"
    (fine-tunes and embeddings go to the GPU by themselves when there is one)."""
    import torch

    if torch.cuda.is_available():
        return f"the GPU ({torch.cuda.get_device_name(0)})"
    return "the CPU"


def check_name_free(models_dir: Path, name: str | None, overwrite: bool) -> None:
    """Raise ReviewtuiError before any training when ``models_dir/name`` is taken (and not ``overwrite``)."""
    if name and (Path(models_dir) / name).exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name or delete it")


def train_cross_validated(df, *, models_dir: Path, label_keys: Sequence[str], model: ModelSettings,
                          training: TrainingSettings, evaluation: EvaluationSettings, quick_C: float,
                          cache_dir: Path | None, quick: bool = False, name: str | None = None,
                          dataset_version: str | None = None, dataset_sha256: str | None = None,
                          on_event: EventSink | None = None, cancel: threading.Event | None = None,
                          overwrite: bool = False, work_dir: Path | None = None,
                          extra: dict[str, Any] | None = None, faster: str | None = CV_FASTER,
                          budget_s: float | None = None, quick_name: str | None = None):
    """What ``reviewtui train`` does below ``[evaluation] cv_below`` labels: score the model by
    stratified, seeded k-fold cross-validation, then train the saved model on ALL the labels.

    ``quick``: the embeddings of ``model.base`` + logistic regression (C ``quick_C``). Otherwise a
    fine-tune of ``model.base`` with ``training`` (each fold trains ``training.epochs`` epochs and
    scores the held-out fold after every one; the saved model trains for the epoch count that did
    best over the folds) and, with ``training.ensemble_quick``, its weighted mean with the quick
    model (MiniLM embeddings + logistic regression), kept when cross-validation prefers it.
    Returns (Selection, ModelCard); the card's metrics are the cross-validated means and
    ``extra["evaluation"]`` holds every fold's scores. ``faster``: what the notice of a long
    cross-validation says makes it faster, in the words of the command that runs it
    (:data:`CV_FASTER`, ``reviewtui train``'s), or None to say nothing of it. ``budget_s``: the most
    seconds the cross-validation and the final training take together; a fine-tune whose epochs do
    not fit trains fewer in every fold (:func:`fit_to_budget`), and the quick model is saved
    instead when not even one epoch fits or the fine-tune is stopped at the budget, under
    ``quick_name`` when one is given (a background job settles both names when it starts) and else
    under a default name that says it is the quick model. Raises ReviewtuiError for too little data
    or a taken name, Cancelled when ``cancel`` is set."""
    from reviewtui.modeling.card import default_model_name
    from reviewtui.modeling.data import MIN_ROWS
    from reviewtui.modeling.loading import resolve_model

    resolved = resolve_model(model.base)
    check_name_free(models_dir, name, overwrite)
    data = Data.from_frame(df, label_keys)
    if len(data.texts) < MIN_ROWS or len(set(data.y.tolist())) < 2:
        raise ReviewtuiError(f"too little data to train: {len(data.texts)} labeled rows in {len(set(data.y.tolist()))} "
                             f"categories; label at least {MIN_ROWS} assets in two or more training categories")
    ctx = Context(cache_dir, max_length=model.max_length, on_event=on_event, cancel=cancel, work_dir=work_dir,
                  faster=faster)
    fallback = None
    # the folds as scoring will make them: a category of one label is refused here with what to do,
    # before a line about folds that cannot be
    folds = len(stratified_folds([data.labels[j] for j in data.y], evaluation.folds, evaluation.seed, data.texts))
    rarest = int(np.unique(data.y, return_counts=True)[1].min())
    fewer = f" (the rarest category has {rarest} labels)" if rarest < evaluation.folds else ""
    groups = text_groups(data.texts)
    same = ""
    if groups is not None:
        repeated = sum(n for n in Counter(groups).values() if n > 1)
        same = (f"; {repeated:,} labels share their text with another, and each text's labels stay in one "
                "fold")
    ctx.check_cancel("training")  # (a cancel asked while the modules loaded: no word of work that will not be)
    emit(on_event, Notice("info", f"{len(data.texts)} labels: scoring by {folds}-fold cross-validation{fewer} "
                                  f"on {device_text()}, then training on all of them{same}"))
    if quick:
        cands: list[Any] = [HeadCandidate(model.base, C=quick_C)]
        ensembles, allowed = False, None
    else:
        head = HeadCandidate(ModelSettings().base, C=quick_C)
        finetune = FineTuneCandidate(model.base, training)
        if budget_s:
            fitted = fit_to_budget(finetune, head, data, evaluation, ctx, budget_s)  # the head runs under a budget
            extra = {**(extra or {}), "budget": fitted[1]}
            fallback = (f"the fine-tune did not finish within the {say_duration(budget_s)} budget: saving the "
                        f"quick model (`--budget none` or [training] budget_s lets it finish)")
        cands = [finetune if not budget_s else fitted[0]]
        if cands[0] is None:  # not one epoch fits: the quick model is what this budget can train
            cands = [head]
        elif training.ensemble_quick or budget_s:  # under a budget the quick model is also the fallback
            cands.append(head)
        ensembles = training.ensemble_quick

        def allowed(key: str) -> bool:  # the user asked for a fine-tune: the quick model alone is no answer
            return not key.startswith(("quick", "head:")) or cands[0] is head
    selection = select_model(data, cands, evaluation=evaluation, ctx=ctx, ensembles=ensembles,
                             allowed_winners=allowed, budget_s=budget_s, fallback=fallback, skip_over_budget=False,
                             overrun=OVERRUN)
    winner = selection.winner or ""
    fell_back = not quick and winner.startswith(("quick", "head:"))
    if budget_s and fell_back and cands[0] is not head:
        stopped = selection.score(cands[0].key)  # the fine-tune the budget stopped: the card says so
        extra["budget"]["fallback"] = stopped.reason or stopped.status  # type: ignore[index]
    if fell_back and quick_name:
        name = quick_name
    elif name is None:  # named after what was trained: the quick model when the budget left no fine-tune
        name = default_model_name(dataset_version, "quick" if quick or fell_back else resolved.name)
    card = train_selected(selection, data, ctx, models_dir=models_dir, label_keys=label_keys, name=name,
                          dataset_version=dataset_version, dataset_sha256=dataset_sha256, overwrite=overwrite,
                          extra=extra)
    return selection, card


#: how far past its budget `train` lets a fine-tune run rather than stop it and save the quick model
OVERRUN = 0.1


def fit_to_budget(finetune: FineTuneCandidate, head: HeadCandidate | None, data: Data,
                  evaluation: EvaluationSettings, ctx: Context, budget_s: float
                  ) -> tuple[FineTuneCandidate | None, dict[str, Any]]:
    """``finetune`` with as many of its epochs per fold as fit ``budget_s`` seconds beside ``head``
    (its embeddings and fits) and the final training, at the encoder's speed measured on the data's
    own texts (:data:`MARGIN` of the time left, the rest kept for the estimate's error); None when
    not even one epoch fits. A Notice says what the budget
    cut. Returns (the candidate, the plan as the card records it)."""
    from reviewtui.modeling import budget

    k = len(stratified_folds([data.labels[j] for j in data.y], evaluation.folds, evaluation.seed, data.texts))
    if head is not None:
        ctx.forward_seconds(head.encoder, data.texts)  # its embeddings' pace on these reviews
    head_s = head.estimate(data, k, ctx) + head.final_estimate(data, ctx) if head is not None else 0.0
    room = MARGIN * (budget_s - head_s)
    asked = finetune.training.epochs
    step_s = budget.train_step_seconds(finetune.encoder, data.texts, max_length=ctx.max_length,
                                       batch_size=finetune.training.batch_size)
    timed = FineTuneCandidate(finetune.encoder, finetune.training, step_s)  # priced as select_model prices it
    total = timed.estimate(data, k, ctx) + timed.final_estimate(data, ctx)
    fit = budget.epochs_within(room, epochs=asked, estimate_s=total)
    record: dict[str, Any] = {"budget_s": round(budget_s, 1), "asked_epochs": asked, "epochs": fit,
                              "estimate_s": round(total, 1), "fits_all_s": round(total / MARGIN + head_s, 1)}
    if fit == asked:
        return timed, record
    said = (f"{k}-fold cross-validation of {asked} epochs on {len(data.texts):,} labels and the final training would "
            f"take about {say_duration(total)} here; ")
    more = (f" (`{budget.budget_option(record['fits_all_s'])}`, `--budget none` or [training] budget_s trains "
            "them all)")
    if fit == 0:
        emit(ctx.on_event, Notice("warning", said + f"the {say_duration(budget_s)} budget fits not one epoch of the "
                                                    f"fine-tune: training the quick model instead" + more))
        return None, record
    emit(ctx.on_event, Notice("info", said + f"the {say_duration(budget_s)} budget fits {fit} epoch"
                                             f"{'s' if fit != 1 else ''} in each fold, which this training runs" + more))
    return FineTuneCandidate(finetune.encoder, replace(finetune.training, epochs=fit), step_s), record


def cv_trial_folds(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], data: Data, *,
                   evaluation: EvaluationSettings, report: Callable[[int, dict[str, float], float], None] | None = None
                   ) -> list[dict[str, float]]:
    """A tuning trial scored by cross-validation instead of one validation split: for each fold,
    ``fit_predict(train_idx, test_idx)`` returns the held-out probabilities; after each fold
    ``report(folds_done, running_mean, objective)`` runs with :func:`partial_objective` (Ray Tune
    reports there, so ASHA can stop a configuration after its first folds). Returns the per-fold
    scores."""
    folds = stratified_folds([data.labels[j] for j in data.y], evaluation.folds, evaluation.seed, data.texts)
    out: list[dict[str, float]] = []
    for f, (tr, te) in enumerate(folds):
        out.append(scores_of(data.y[te], fit_predict(tr, te), len(data.labels)))
        if report is not None:
            report(f + 1, summarize(out)[0], partial_objective(out, len(folds), evaluation.metric))
    return out


def partial_objective(folds: Sequence[dict[str, float]], k: int, metric: str = "f1_macro") -> float:
    """The objective of a trial that has scored ``len(folds)`` of its ``k`` folds: ``done / k`` times
    :func:`cv_objective`. ASHA compares trials after the same number of folds, where the factor is
    the same for all; and a trial stopped after a lucky first fold never outranks one that scored
    all ``k`` (the problem of picking by one validation split, moved to one fold)."""
    if not folds:
        return -math.inf
    return cv_objective(folds, metric) * len(folds) / max(1, int(k))


def median_epoch(best_epochs: Sequence[int]) -> int:
    """The epoch count for a final fit from per-fold best epochs (the median, rounded down)."""
    return max(1, int(statistics.median_low([int(e) for e in best_epochs]))) if best_epochs else 1


__all__ = ["CandidateScore", "Context", "Data", "FineTuneCandidate", "HeadCandidate", "Selection", "auto_train",
           "check_name_free", "cv_objective", "cv_trial_folds", "device_text", "encoder_available", "ensemble_score",
           "make_candidates", "median_epoch", "parse_budget", "partial_objective", "scores_of", "select_model",
           "stratified_folds", "summarize", "train_cross_validated", "train_selected", "use_cross_validation"]
