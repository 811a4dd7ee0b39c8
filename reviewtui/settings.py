"""Typed settings: one frozen dataclass per ``reviewtui.toml`` section.

Every setting has its default, type and allowed range written once, here. :func:`load_settings`
validates the whole file when the workspace opens: an unknown key (a typo like ``learnig_rate``), a
wrong type or an out-of-range value is one :class:`ReviewtuiError` naming the file, the section and
the key. Call sites read ``settings.active_learning.retrain_every`` and never restate a default.

Each field's help text is what users read in ``reviewtui settings`` (:func:`reference`), beside
the value their workspace has.
"""

from __future__ import annotations

import difflib
import math
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from reviewtui.errors import ReviewtuiError


def setting(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
            choices: tuple[Any, ...] | None = None, pair: bool = False, allow_empty: bool = True) -> Any:
    """A dataclass field with its help text and validation rules.

    ``lo``/``hi`` bound a number (or every number of a list/range); ``choices`` lists the allowed
    values; ``pair`` marks a search range written ``[low, high]`` that may also be one value.
    """
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices, "pair": pair, "allow_empty": allow_empty}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


# --- sections ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkspaceSettings:
    """[workspace]"""
    name: str = setting("", "The workspace's name, shown in the app's title and in reports (default: the folder name).")


@dataclass(frozen=True)
class BackendSettings:
    """[backend]: where labeling happens."""
    kind: str = setting("local", "local (the embedded SQLite store) or kili (a Kili project).",
                        choices=("local", "kili"))
    project_id: str = setting("", "The Kili project id (written by `reviewtui kili create` or `kili attach`).")


@dataclass(frozen=True)
class ImportSettings:
    """[import]: how review texts are cleaned on import."""
    drop_missing: bool = setting(True, "Drop rows with no text.")
    remove_urls: bool = setting(True, "Remove URLs from the text.")
    remove_html: bool = setting(True, "Remove HTML tags (<br>, <p class=...>, comments) and read entities (&amp; "
                                      "as &); \"<3\" and \"2 < 3\" stay.")
    remove_emoji: bool = setting(True, "Remove emoji.")
    lowercase: bool = setting(False, "Lowercase the text.")
    collapse_whitespace: bool = setting(True, "Collapse runs of whitespace to one space.")
    drop_empty: bool = setting(True, "Drop rows whose text is empty after cleaning.")

    def as_flags(self) -> dict[str, bool]:
        """The cleaning rules as ``{rule: on}``."""
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ModelSettings:
    """[model]: the encoder every model builds on."""
    base: str = setting("minilm", "minilm (packaged offline), mpnet (after `reviewtui models add mpnet`), "
                                  "a local model folder, or a Hugging Face hub id where the network allows.")
    max_length: int = setting(128, "Tokens per review given to the encoder; longer reviews are cut.", lo=8, hi=4096)


@dataclass(frozen=True)
class TrainingSettings:
    """[training]: fine-tuning hyperparameters (`reviewtui train`)."""
    epochs: int = setting(10, "Maximum training epochs.", lo=1, hi=1000)
    learning_rate: float = setting(1e-4, "Peak learning rate.", lo=1e-8, hi=1.0)
    batch_size: int = setting(16, "Reviews per training step.", lo=1, hi=4096)
    weight_decay: float = setting(0.01, "AdamW weight decay.", lo=0.0, hi=1.0)
    warmup_ratio: float = setting(0.1, "Share of the training steps spent warming the learning rate up.", lo=0.0, hi=1.0)
    seed: int = setting(42, "Random seed of the split, the initialisation and the data order.", lo=0)
    early_stopping_patience: int = setting(5, "Stop after this many epochs without a better validation score "
                                              "(0 = never stop early).", lo=0, hi=1000)
    class_weights: str = setting("auto", "auto weighs rare categories up in the loss; none weighs all alike.",
                                 choices=("auto", "none"))
    budget_s: float = setting(3600.0, "Most seconds `reviewtui train` spends on a fine-tune (its cross-validation and "
                                      "final training together). Where the epochs do not fit at this machine's "
                                      "pace it trains fewer, or part of one; below [evaluation] cv_below labels it "
                                      "saves the quick model when not one epoch fits. 0 = no limit (`--budget` "
                                      "overrides).", lo=0.0)
    ensemble_quick: bool = setting(True, "Save the fine-tuned model averaged with the quick model.")
    ensemble_features: str = setting("packaged", "What the ensemble's quick half reads: packaged (the packaged "
                                                 "MiniLM's embeddings: a second encoder over the same tokens, the "
                                                 "more accurate on dataset-11) or finetuned (the fine-tuned encoder's "
                                                 "own output: one forward pass, faster).",
                                     choices=("packaged", "finetuned"))


@dataclass(frozen=True)
class TuningSettings:
    """[tuning]: the Ray Tune search (`reviewtui tune`). Ranges are written ``[low, high]``; one value
    fixes the hyperparameter."""
    trials: int = setting(20, "Configurations to try.", lo=1, hi=100_000)
    max_epochs: int = setting(8, "Most epochs any trial trains (ASHA's max_t).", lo=1, hi=1000)
    epochs: list[int] = setting([8], "Epochs per trial, or a [low, high] range.", lo=1, hi=1000, pair=True)
    learning_rate: list[float] = setting([2e-5, 2e-4], "Learning-rate range (log-uniform).", lo=1e-8, hi=1.0, pair=True)
    batch_size: list[int] = setting([8, 16, 32], "Batch sizes to choose from.", lo=1, hi=4096, allow_empty=False)
    weight_decay: list[float] = setting([0.0, 0.1], "Weight-decay range.", lo=0.0, hi=1.0, pair=True)
    warmup_ratio: list[float] = setting([0.0, 0.2], "Warm-up ratio range.", lo=0.0, hi=1.0, pair=True)
    seed: list[int] = setting([1, 100], "Seed range.", lo=0, pair=True)
    candidates: list[str] = setting([], "Models to search over (minilm, mpnet, quick, folders); empty = [model] base.")
    seed_search: int = setting(42, "Seed of the search algorithm (HyperOpt).", lo=0)
    quick_C: list[float] = setting([1.0, 100.0], "Regularisation range of the quick model when it is a candidate.",
                                   lo=1e-6, hi=1e6, pair=True)
    cpus_per_trial: int = setting(0, "CPUs each trial reserves (0 = half the machine, at most 4).", lo=0, hi=4096)
    gpus_per_trial: float = setting(1.0, "GPU share each trial reserves when there is a GPU (0.25 = four trials "
                                         "share one GPU).", lo=0.01, hi=64.0)
    grace_period: int = setting(1, "Epochs every trial runs before ASHA may stop it.", lo=1, hi=1000)
    reduction_factor: int = setting(3, "ASHA's reduction factor: keep the best 1/n at each rung.", lo=2, hi=100)
    time_budget_s: float = setting(0.0, "Stop the search after this many seconds (0 = no limit).", lo=0.0)


@dataclass(frozen=True)
class EvaluationSettings:
    """[evaluation]: how a model is scored before it is saved (`reviewtui train`, `--auto`, `tune`)."""
    cv_below: int = setting(3000, "Below this many labels, score by k-fold cross-validation and train the saved "
                                  "model on all labels; from this many on, hold out a validation and a test split.",
                            lo=0)
    folds: int = setting(5, "Folds of the cross-validation (stratified, seeded).", lo=2, hi=50)
    seed: int = setting(42, "Seed of the folds.", lo=0)
    metric: str = setting("f1_macro", "What ranks candidates and picks epochs and ensemble weights: f1_macro "
                                      "(fair to rare categories) or accuracy.", choices=("f1_macro", "accuracy"))


@dataclass(frozen=True)
class AutoSettings:
    """[auto]: `reviewtui train --auto`, an automatic, cross-validated choice among the models that exist here."""
    budget_s: float = setting(1800.0, "Seconds the whole choice may take, the final training included "
                                      "(`--budget 30m` overrides).", lo=1.0)
    candidates: list[str] = setting(["quick", "head:mpnet", "finetune:minilm", "finetune:mpnet"],
                                    "Candidates: quick (MiniLM embeddings + logistic regression), head:ENCODER "
                                    "(embeddings + logistic regression), finetune:ENCODER; ensembles of a "
                                    "fine-tune and a head are added. An encoder that is not installed is left out.")
    ensembles: bool = setting(True, "Also try the weighted mean of each fine-tune and each head (weights chosen "
                                    "by cross-validation).")
    minilm_epochs: int = setting(6, "Most epochs a MiniLM fine-tune trains in each fold.", lo=1, hi=100)
    minilm_learning_rate: float = setting(1e-4, "MiniLM fine-tune learning rate.", lo=1e-8, hi=1.0)
    mpnet_epochs: int = setting(4, "Most epochs an MPNet (or other large encoder) fine-tune trains in each fold.",
                                lo=1, hi=100)
    mpnet_learning_rate: float = setting(4e-5, "MPNet (or other large encoder) fine-tune learning rate.",
                                         lo=1e-8, hi=1.0)


@dataclass(frozen=True)
class SentimentSettings:
    """[sentiment]"""
    model: str = setting("auto", "auto (team once the team labeled min_team_labels sentiments, else stars where "
                                  "200 reviews or more have star scores, else vader), vader (offline rules), stars "
                                  "(a head trained on the star scores), team (trained on the team's sentiment "
                                  "labels with the star score as a feature), none, or a Hugging Face sentiment "
                                  "model folder.")
    min_team_labels: int = setting(30, "Team sentiment labels the team model needs before it learns from them; "
                                       "before that it learns from the stars' weak labels.", lo=1)
    weak_weight: float = setting(0.1, "Weight of the stars' weak labels (unlabeled reviews) next to the team's "
                                      "labels in the team model; 0 = the team's labels only.", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class PredictSettings:
    """[predict]: running a saved model over every review."""
    precision: str = setting("auto", "auto (bf16 on a GPU; on the CPU bf16 where the CPU computes it natively, "
                                     "else int8, each only when it gave fp32's label on at least 99.5% of the "
                                     "checked reviews), fp32, bf16 or int8 (CPU).",
                             choices=("auto", "fp32", "bf16", "int8"))
    ray_actors: int = setting(0, "Prediction actors on a Ray cluster (0 = one per GPU, or one per "
                                 "ray_cpus_per_actor CPUs of the cluster).", lo=0, hi=100_000)
    ray_cpus_per_actor: int = setting(2, "CPUs each prediction actor reserves on a Ray cluster without GPUs.",
                                      lo=1, hi=4096)


@dataclass(frozen=True)
class ActiveLearningSettings:
    """[active_learning]: the labeling queue."""
    strategy: str = setting("margin", "Query strategy: random, least_confidence, margin, entropy, diversity or "
                                      "weakest (steer to the category with the fewest labels or the lowest F1).",
                            choices=("random", "least_confidence", "margin", "entropy", "diversity", "weakest"))
    batch_size: int = setting(50, "Reviews per queue batch.", lo=1, hi=100_000)
    retrain_every: int = setting(10, "Refit the quick model and re-rank the queue after this many new labels; "
                                     "0 turns automatic re-ranking off (press r in the labeling screen, or run "
                                     "`reviewtui queue`).", lo=0, hi=1_000_000)
    candidates: int = setting(5000, "Unlabeled reviews scored per re-rank, a stable sample of large pools "
                                    "(0 = all).", lo=0)
    C: float = setting(10.0, "Inverse regularisation of the quick model (logistic regression).", lo=1e-6, hi=1e6)
    fit_max_labels: int = setting(20000, "Most training labels the labeling loop's quick model (suggestions, the "
                                         "queue's ranking, the stop signal) is fitted on: beyond it, a stratified "
                                         "seeded sample of them, as the ranking changes little past some thousands "
                                         "while hundreds of thousands of labels (a bulk label of a large filter) "
                                         "would take minutes and gigabytes at every re-rank; 0 = all. train and "
                                         "predict learn from every label.", lo=0)
    prior_labels: float = setting(20.0, "While labels are few, suggestions blend the zero-shot prior (the categories' "
                                        "descriptions and examples) with the quick model: weight n / (n + this) on "
                                        "the quick model after n labels; 0 turns the prior off.", lo=0.0, hi=1e6)
    zero_shot_temperature: float = setting(0.05, "Softmax temperature of the zero-shot scores before any label "
                                                 "(refitted to the labels once there are 5).", lo=0.001, hi=10.0)
    stop_kappa: float = setting(0.96, "The stop signal: Cohen's kappa between consecutive models' predictions on the "
                                      "stop set at which a round counts as stable.", lo=0.0, hi=1.0)
    stop_rounds: int = setting(3, "Stable rounds in a row after which the stop signal says further labels change "
                                  "little.", lo=1, hi=1000)
    stop_sample: int = setting(1000, "Unlabeled reviews in the stop set (a fixed, seeded sample).", lo=10, hi=1_000_000)
    stop_round_labels: int = setting(10, "Training labels a round of the stop signal needs beyond the round before "
                                         "(stop_kappa was set on rounds of 10 labels: two models a label or two "
                                         "apart agree more, and three such rounds would say stop too early).",
                                     lo=1, hi=1_000_000)


@dataclass(frozen=True)
class QualitySettings:
    """[quality]: likely wrong labels, stars against text, reviewer statistics."""
    folds: int = setting(10, "Cross-validation folds of the out-of-fold probabilities that rank suspect labels "
                             "(fewer when a category has fewer labels).", lo=2, hi=50)
    repeats: int = setting(3, "Differently shuffled fold splits whose out-of-fold probabilities are averaged.",
                           lo=1, hi=20)
    C: float = setting(2.0, "Inverse regularisation of the quick models fitted for the suspects.", lo=1e-6, hi=1e6)
    method: str = setting("self_confidence", "cleanlab's label quality score that orders the suspects.",
                          choices=("self_confidence", "normalized_margin", "confidence_weighted_entropy"))
    seed: int = setting(0, "Seed of the fold splits.", lo=0)
    star_threshold: float = setting(0.5, "How clearly the text must say the opposite of the stars (sentiment score "
                                         "at or beyond this, on -1..1) for a review to count as stars against text.",
                                    lo=0.0, hi=1.0)
    session_gap_s: float = setting(600.0, "Seconds without an event after which an author's labeling session ends "
                                          "(the gap is not counted as labeling time).", lo=1.0)


@dataclass(frozen=True)
class KiliSettings:
    """[kili]: the Kili backend. The API key comes from KILI_API_KEY (environment or .env), never from here."""
    retry_deadline: float = setting(3.0, "Seconds the SDK keeps retrying a failing request.", lo=0.01, hi=3600.0)
    request_timeout: float = setting(5.0, "Seconds one request may take.", lo=0.01, hi=3600.0)
    max_assets: int = setting(25_000, "Most assets `kili push` uploads in one run.", lo=1)
    review_steps: list[str] = setting([], "Workflow step names whose labels count as reviewed.")
    classification_job: str = setting("JOB_0", "The project's classification job (set by create/attach).")
    ner_job: str = setting("JOB_1", "The project's span job, empty when there is none (set by create/attach).")


@dataclass(frozen=True)
class CollectSettings:
    """[collect]: `reviewtui collect play` (Google Play, through google-play-scraper)."""
    lang: str = setting("en", "Language of the reviews, two letters (the store's hl=).")
    country: str = setting("us", "Store country, two letters (the store's gl=).")
    sort: str = setting("newest", "newest (a rerun stops at the first review already collected) or relevant.",
                        choices=("newest", "relevant"))
    page_size: int = setting(200, "Reviews asked for in one request (one saved page).", lo=1, hi=4500)
    pause_s: float = setting(1.0, "Seconds between two requests, to be polite to Google Play.", lo=0.0, hi=600.0)
    retries: int = setting(4, "Tries after a failed request (network error, HTTP 429/5xx) before giving up.",
                           lo=0, hi=20)
    backoff_s: float = setting(2.0, "Wait after the first failed request; it doubles at every further try.",
                               lo=0.0, hi=600.0)
    max_backoff_s: float = setting(60.0, "Longest wait between two tries.", lo=0.0, hi=3600.0)
    timeout_s: float = setting(30.0, "Seconds one request may take.", lo=1.0, hi=600.0)
    base_url: str = setting("https://play.google.com", "Google Play's address; change it only to collect through "
                                                       "a mirror or from a recorded replay (tests).")


@dataclass(frozen=True)
class FindingsSettings:
    """[findings]: when the summary and the report state a difference between groups."""
    min_group_size: int = setting(30, "Fewest reviews a group (an app, a version, an app and version, a category) needs "
                                      "before a finding is drawn about it.", lo=1, hi=1_000_000)
    confidence: float = setting(0.95, "Confidence level of the interval shown with every share (Wilson).",
                                lo=0.5, hi=0.999)


@dataclass(frozen=True)
class Settings:
    """Every section of reviewtui.toml except the taxonomy (``[[categories]]``)."""
    workspace: WorkspaceSettings = field(default_factory=WorkspaceSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    import_: ImportSettings = field(default_factory=ImportSettings, metadata={"toml": "import"})
    model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    tuning: TuningSettings = field(default_factory=TuningSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    auto: AutoSettings = field(default_factory=AutoSettings)
    sentiment: SentimentSettings = field(default_factory=SentimentSettings)
    predict: PredictSettings = field(default_factory=PredictSettings)
    active_learning: ActiveLearningSettings = field(default_factory=ActiveLearningSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    kili: KiliSettings = field(default_factory=KiliSettings)
    collect: CollectSettings = field(default_factory=CollectSettings)
    findings: FindingsSettings = field(default_factory=FindingsSettings)


#: Top-level TOML keys that are not settings sections.
NON_SETTINGS_KEYS = ("categories",)


def section_names() -> dict[str, str]:
    """TOML section name -> attribute name on :class:`Settings` (``import`` -> ``import_``)."""
    return {f.metadata.get("toml", f.name): f.name for f in fields(Settings)}


# --- validation ----------------------------------------------------------------------------------
def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        (arg,) = typing.get_args(tp)
        return f"a list of {_type_name(arg)}s"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(tp, str(tp))


def _coerce_scalar(value: Any, tp: Any) -> Any:
    """``value`` as ``tp`` or raise ValueError; ints are accepted where floats are expected."""
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    raise ValueError


def _check_value(value: Any, f: Any, tp: Any, where: str) -> Any:
    meta = f.metadata
    origin = typing.get_origin(tp)
    if origin is list:
        (arg,) = typing.get_args(tp)
        items = value if isinstance(value, list) else ([value] if meta.get("pair") else None)
        if items is None:
            raise ReviewtuiError(f"{where} must be {_type_name(tp)}, not {value!r}")
        try:
            out = [_coerce_scalar(v, arg) for v in items]
        except ValueError:
            raise ReviewtuiError(f"{where} must be {_type_name(tp)}, not {value!r}") from None
        if meta.get("pair"):
            if len(out) not in (1, 2):
                raise ReviewtuiError(f"{where} must be one value or a [low, high] range, not {value!r}")
            if len(out) == 2 and out[0] > out[1]:
                raise ReviewtuiError(f"{where}: the range [{out[0]}, {out[1]}] has low above high")
        if not out and not meta.get("allow_empty", True):
            raise ReviewtuiError(f"{where} needs at least one value")
        for v in out:
            _check_range(v, meta, where)
        return out
    try:
        out = _coerce_scalar(value, tp)
    except ValueError:
        raise ReviewtuiError(f"{where} must be {_type_name(tp)}, not {value!r}") from None
    _check_range(out, meta, where)
    return out


def _check_range(v: Any, meta: Any, where: str) -> None:
    choices = meta.get("choices")
    if choices is not None and v not in choices:
        raise ReviewtuiError(f"{where} must be one of {', '.join(map(str, choices))}, not {v!r}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(v, float) and not math.isfinite(v):  # nan compares false with every bound
        raise ReviewtuiError(f"{where} must be a number, not {v!r}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            bounds = (f"at least {_number(lo)}" if hi is None else
                      (f"at most {_number(hi)}" if lo is None else f"between {_number(lo)} and {_number(hi)}"))
            raise ReviewtuiError(f"{where} must be {bounds}, not {v!r}")


def _number(v: float) -> str:
    """A bound as people write it: 1,000,000 and 0.01, not 1e+06."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


def _unknown(key: str, known: list[str], where: str, what: str = "key") -> ReviewtuiError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ReviewtuiError(f"{where}: unknown {what} {key!r}; {hint}the known {what}s are {', '.join(known)}")


def parse_section(cls: type, data: Any, where: str) -> Any:
    """One section's dataclass from its TOML table, validated. ``where`` is ``"FILE [section]"``."""
    if not isinstance(data, dict):
        raise ReviewtuiError(f"{where} must be a table, not {data!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise _unknown(key, known, where)
        f = next(f for f in fields(cls) if f.name == key)
        values[key] = _check_value(value, f, hints[key], f"{where} {key}")
    return cls(**values)


def load_settings(data: dict[str, Any], path: str | Path = "reviewtui.toml") -> Settings:
    """Every section of a parsed reviewtui.toml, validated; raises one :class:`ReviewtuiError` naming
    the file, the section and the key at the first problem."""
    names = section_names()
    hints = typing.get_type_hints(Settings)
    parsed: dict[str, Any] = {}
    for key, value in data.items():
        if key in NON_SETTINGS_KEYS:
            continue
        if key not in names:  # a [table] is a section; a plain value at the top is a key
            what = "section" if isinstance(value, dict) else "key"
            raise _unknown(key, [*names, *NON_SETTINGS_KEYS], str(path), what)
        attr = names[key]
        parsed[attr] = parse_section(hints[attr], value, f"{path} [{key}]")
    return Settings(**parsed)


def with_overrides(section: Any, overrides: dict[str, Any] | None, where: str = "override") -> Any:
    """A copy of ``section`` with ``overrides`` applied and validated like the file's values."""
    if not overrides:
        return section
    checked = parse_section(type(section), dict(overrides), where)
    return replace(section, **{k: getattr(checked, k) for k in overrides})


def to_toml_dict(obj: Any) -> dict[str, Any]:
    """A section (or all :class:`Settings`) as plain TOML-ready values, keyed by TOML names."""
    if isinstance(obj, Settings):
        return {toml: to_toml_dict(getattr(obj, attr)) for toml, attr in section_names().items()}
    assert is_dataclass(obj)
    return {f.name: (list(v) if isinstance(v := getattr(obj, f.name), list) else v) for f in fields(obj)}


def describe(cls: type) -> list[tuple[str, Any, str]]:
    """(key, default, help) of every field of a section class."""
    out = []
    for f in fields(cls):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        out.append((f.name, default, f.metadata.get("help", "")))
    return out


@dataclass(frozen=True)
class SettingInfo:
    """One setting as ``reviewtui settings`` shows it: its section and key in reviewtui.toml, the
    value in force, the default, whether the file sets it, its help and allowed values."""
    section: str
    key: str
    value: Any
    default: Any
    set_in_file: bool
    help: str
    allowed: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _allowed(meta: Any) -> str:
    """The allowed values of a field, in words: ``a, b or c``, ``1 to 100``, ``at least 0``."""
    if meta.get("choices"):
        names = [str(c) for c in meta["choices"]]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    lo, hi = meta.get("lo"), meta.get("hi")
    def num(v: float) -> str:
        return f"{int(v):,}" if float(v).is_integer() and abs(v) >= 1 else f"{v:g}"
    if lo is not None and hi is not None:
        return f"{num(lo)} to {num(hi)}"
    if lo is not None:
        return f"at least {num(lo)}"
    if hi is not None:
        return f"at most {num(hi)}"
    return ""


def reference(settings: Settings, data: dict[str, Any] | None = None,
              sections: typing.Sequence[str] = ()) -> list[SettingInfo]:
    """Every setting of ``sections`` (TOML names; all when empty), in the order of the classes:
    the value ``settings`` has, the default, and whether the parsed file ``data`` sets it. Raises
    ReviewtuiError naming the sections when one is unknown."""
    names = section_names()
    for name in sections:
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1)
            raise ReviewtuiError(f"no section {name!r} in reviewtui.toml's settings; "
                                 + (f"did you mean {close[0]!r}? " if close else "")
                                 + f"the sections are {', '.join(names)}")
    out = []
    for toml, attr in names.items():
        if sections and toml not in sections:
            continue
        section = getattr(settings, attr)
        written = (data or {}).get(toml) or {}
        for f in fields(section):
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            value = getattr(section, f.name)
            out.append(SettingInfo(toml, f.name, list(value) if isinstance(value, (list, tuple)) else value,
                                   list(default) if isinstance(default, (list, tuple)) else default,
                                   isinstance(written, dict) and f.name in written,
                                   f.metadata.get("help", ""), _allowed(f.metadata)))
    return out


__all__ = [
    "ActiveLearningSettings", "AutoSettings", "BackendSettings", "CollectSettings", "EvaluationSettings",
    "FindingsSettings", "ImportSettings", "KiliSettings", "ModelSettings", "QualitySettings",
    "SentimentSettings", "Settings", "TrainingSettings", "TuningSettings", "WorkspaceSettings",
    "SettingInfo", "describe", "load_settings", "reference", "parse_section", "section_names", "to_toml_dict", "with_overrides",
]
