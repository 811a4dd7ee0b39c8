"""The numeric precision a model predicts in: fp32, a bf16 copy of the weights (a GPU, or a CPU that
computes bf16 natively), or int8 (CPU: ONNX Runtime's quantisation of the linear layers, or
PyTorch's where ONNX Runtime is missing or cannot export the model).

A faster precision is only used when it gives the same labels: :func:`check_precision` runs the
fp32 model and the candidate over the same texts and measures how many predicted labels agree.
``reviewtui train`` records that check for the held-out rows (validation and test splits) in the
model card's ``precision_checks``; a model saved before that is checked on the first texts it
predicts, and the result is cached. "auto" (:func:`choose_precision`) then picks:

* on a GPU: bf16 when the GPU supports it and no recorded check says it disagrees;
* on a CPU with native bf16 (AMX or AVX-512 BF16, :func:`cpu_bf16_native`): bf16 when a check on
  the CPU agrees on at least :data:`MIN_AGREEMENT` of the labels. There the default ensemble's two
  encoders in bf16 ran 1.9x as fast as in fp32 (272 against 140 reviews/s on two cores of a Xeon
  with AMX, tokenising included; bench/bench_predict.py); where bf16 is emulated it is slower than
  fp32 and never chosen;
* on the CPU otherwise (or when bf16 disagrees): int8 when a recorded check agrees on at least
  :data:`MIN_AGREEMENT` of the labels;
* otherwise fp32.

Checks are recorded by precision, and a bf16 check on the CPU under its own key
(:func:`check_key`: "bf16-cpu"), since a model trained on a GPU carries the GPU's bf16 check.

int8 runs through :mod:`reviewtui.modeling.onnx_int8` (ONNX Runtime, weights with a scale per
output channel, activations over their full 8-bit range; both encoders of an ensemble) when
onnxruntime is installed, else through PyTorch's dynamic quantisation
(``torch.ao.quantization.quantize_dynamic``, the classifier alone: its 7-bit activations on the
quick half's encoder flipped 2-3 % of the labels). Either way a prediction whose two most probable
labels lie within :data:`RECHECK_MARGIN` of each other is computed again in fp32
(:func:`close_calls`): these close calls are where int8 changes labels. On 10,000 fintech reviews
the default ensemble in int8 alone agreed with fp32 on 97.6 % of the labels; with the 10.1 % of
close calls computed again, on 99.8 % (bench/bench_predict.py). The checks measure int8 with its close calls recomputed,
as predictions run. torch loads inside the functions.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError

PRECISIONS = ("auto", "fp32", "bf16", "int8")
#: The least share of labels a faster precision must agree on with fp32 to be chosen by "auto".
MIN_AGREEMENT = 0.995
#: Texts a check at predict time runs over (the first of the corpus).
CHECK_ROWS = 512
#: The most held-out rows (validation and test splits, spread over them) a new model's checks run
#: over beside the corpus's :data:`CHECK_ROWS`: 2,560 rows tell 99.5 % agreement to about a tenth of a
#: point, and the checks' three passes of both encoders over tens of thousands of held-out rows would
#: outlast a CPU training.
CHECK_HELD_OUT = 2048
#: An int8 prediction whose two most probable labels are closer than this (in probability) is
#: computed again in fp32. On 2,000 fintech reviews and the default ensemble: 0.05 recomputed 3.5 %
#: of the rows for 99.15 % agreement, 0.10 7.1 % for 99.65 %, 0.15 10.8 % for 99.85 %.
RECHECK_MARGIN = 0.15


@dataclass(frozen=True)
class PrecisionCheck:
    """How often ``precision`` gave fp32's label over ``rows`` texts (``on``: which texts)."""

    precision: str
    agreement: float
    rows: int
    on: str
    device: str
    seconds: float = 0.0
    #: the share of the rows computed again in fp32 (int8's close calls)
    rechecked: float = 0.0
    #: what ran int8 ("onnxruntime" or "torch"); empty for other precisions and for int8 checks
    #: recorded before close calls were computed again (:func:`current_checks` drops those)
    method: str = ""

    @property
    def ok(self) -> bool:
        return self.rows > 0 and self.agreement >= MIN_AGREEMENT

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PrecisionCheck":
        return cls(precision=str(data["precision"]), agreement=float(data["agreement"]), rows=int(data["rows"]),
                   on=str(data.get("on", "")), device=str(data.get("device", "cpu")),
                   seconds=float(data.get("seconds", 0.0)), rechecked=float(data.get("rechecked", 0.0)),
                   method=str(data.get("method", "")))


@dataclass
class PrecisionChoice:
    """The precision a prediction runs in, what was asked for and why: ``check`` is the agreement
    check that allowed (or refused) the faster precision, when there was one."""

    precision: str
    requested: str
    device: str
    reason: str
    check: PrecisionCheck | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "requested": self.requested, "device": self.device,
                "reason": self.reason, "check": self.check.to_dict() if self.check else None, **self.extra}


def validate_precision(value: str) -> str:
    """``value`` lower-cased when it is one of :data:`PRECISIONS`; raises ReviewtuiError otherwise."""
    v = str(value or "auto").strip().lower()
    if v not in PRECISIONS:
        raise ReviewtuiError(f"precision {value!r} is not one of {', '.join(PRECISIONS)}")
    return v


def int8_available() -> bool:
    """Whether int8 can run here: ONNX Runtime is installed, or this torch still has dynamic
    quantisation for linear layers on the CPU."""
    from reviewtui.modeling import onnx_int8

    return onnx_int8.available() or torch_int8_available()


def torch_int8_available() -> bool:
    """Whether this torch still has dynamic quantisation for linear layers on the CPU."""
    try:
        import torch

        return hasattr(torch.ao.quantization, "quantize_dynamic") and bool(torch.backends.quantized.supported_engines)
    except Exception:  # pragma: no cover - an unusual torch build
        return False


def int8_backend(model) -> str | None:
    """What runs an int8 model: "onnxruntime", "torch" (PyTorch's dynamic quantisation), or None
    for a model that is not int8."""
    backend = getattr(model, "backend", None)
    if backend:
        return str(backend)
    modules = getattr(model, "modules", None)
    if modules is not None and any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in modules()):
        return "torch"
    return None


def close_calls(proba: np.ndarray) -> np.ndarray:
    """Rows of ``proba`` (N, K) whose two highest probabilities are within :data:`RECHECK_MARGIN`:
    the int8 predictions computed again in fp32."""
    proba = np.asarray(proba, dtype=np.float32)
    if proba.ndim != 2 or proba.shape[1] < 2 or not len(proba):
        return np.zeros(len(proba), dtype=bool)
    top = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return (top[:, 1] - top[:, 0]) < RECHECK_MARGIN


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bf16 in hardware (AMX tiles or AVX-512 BF16), where PyTorch's
    oneDNN kernels run a bf16 model faster than fp32; elsewhere bf16 is emulated and slower."""
    try:
        import torch

        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except Exception:  # pragma: no cover - a torch without these probes
        return False


def bf16_available(device: str) -> bool:
    """Whether bf16 is worth running on ``device``: a GPU that supports it, or a CPU with native bf16."""
    import torch

    if device == "cpu":
        return cpu_bf16_native()
    return device == "cuda" and torch.cuda.is_available() and bool(torch.cuda.is_bf16_supported())


def check_key(precision: str, device: str) -> str:
    """The key a check of ``precision`` on ``device`` is recorded under: the precision, except bf16
    on the CPU ("bf16-cpu"), which is checked apart from a GPU's bf16."""
    return "bf16-cpu" if precision == "bf16" and device == "cpu" else precision


def prepare_model(model, precision: str, device: str, cache_dir: Path | None = None):
    """A model ready to predict in ``precision`` on ``device``. fp32 and bf16 move (and cast) ``model``
    itself; int8 returns a quantised copy (an ONNX Runtime session whose file is kept under
    ``cache_dir``, or PyTorch's quantised modules) and leaves ``model`` as it was. Raises
    ReviewtuiError for a precision the device cannot run (int8 off the CPU, bf16 on a GPU without
    it)."""
    import torch

    precision = validate_precision(precision)
    if precision == "int8":
        if device != "cpu":
            raise ReviewtuiError(f"int8 prediction runs on the CPU only (this run is on {device}): "
                                 "use precision auto, fp32 or bf16 on a GPU")
        from reviewtui.modeling import onnx_int8

        if onnx_int8.available():
            try:
                return onnx_int8.quantise(model, cache_dir)
            except Exception:  # an architecture the exporter cannot trace: PyTorch's quantisation
                if not torch_int8_available():
                    raise
        if not torch_int8_available():
            raise ReviewtuiError(f"this torch ({torch.__version__}) has no dynamic quantisation and onnxruntime is "
                                 "not installed: use precision fp32, or pip install onnxruntime onnx")
        with warnings.catch_warnings():  # torch.ao.quantization warns that it is moving to torchao
            warnings.simplefilter("ignore")
            # per-channel weight scales: on dataset-11's fine-tune they kept 98.8 % of the labels
            # against 97.1 % with one scale per tensor
            qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
            return torch.ao.quantization.quantize_dynamic(model.float().cpu().eval(), {torch.nn.Linear: qconfig},
                                                          dtype=torch.qint8)
    if precision == "bf16":
        if device.startswith("cuda") and not bf16_available("cuda"):
            raise ReviewtuiError("this GPU has no bf16 support: use precision fp32")
        return model.to(device=device, dtype=torch.bfloat16).eval()
    return model.to(device=device, dtype=torch.float32).eval()


def second_precision(precision: str) -> str:
    """The precision of an ensemble's second encoder (the quick half's) when the classifier runs in
    ``precision``: bf16 and fp32 apply to both, and int8 too with ONNX Runtime. PyTorch's int8
    stays with the classifier (the quick model's linear layer on its int8 embeddings flipped 2-3 %
    of dataset-11's labels, the classifier's head under 1 %)."""
    from reviewtui.modeling import onnx_int8

    return "fp32" if precision == "int8" and not onnx_int8.available() else precision


def prepare_models(models, precision: str, device: str, *, copy_first: bool = True, cache_dir: Path | None = None):
    """``prepare_model`` for a model, or for a (classifier, encoder, ...) tuple of an ensemble: the
    classifier in ``precision``, the others in :func:`second_precision`. int8 quantises a copy; with
    ``copy_first`` every model is copied first, so the given ones stay as they were."""
    def one(model, p):
        return prepare_model(copy.deepcopy(model).float() if copy_first else model, p, device, cache_dir)

    if isinstance(models, tuple):
        first, *rest = models
        return (one(first, precision), *(one(m, second_precision(precision)) for m in rest))
    return one(models, precision)


def _prepared(model, precision: str, device: str, cache_dir: Path | None = None):
    """A copy of ``model`` (or of each model of a tuple) prepared in ``precision`` on ``device``."""
    return prepare_models(model, precision, device, cache_dir=cache_dir)


def check_precision(model, precision: str, run: Callable[[Any], np.ndarray], *, device: str,
                    on: str, reference: np.ndarray | None = None, cache_dir: Path | None = None) -> PrecisionCheck:
    """Agreement of ``precision`` with fp32: ``run(prepared)`` returns (N, K) scores for the same
    texts; the check compares their argmax. For int8 the close calls (:func:`close_calls`) take
    fp32's label, as they do when predicting. ``model`` is an fp32 model, or a tuple of the models
    an ensemble runs (each prepared alike); left as it was. ``reference`` is fp32's argmax when it
    was computed already (:func:`fp32_reference`). Raises ReviewtuiError when the precision cannot
    run on ``device``."""
    started = time.perf_counter()
    if reference is None:
        reference = fp32_reference(model, run, device)
    prepared = _prepared(model, precision, device, cache_dir)
    scores = run(prepared)
    candidate = scores.argmax(axis=1)
    rows = int(len(reference))
    rechecked, method = 0.0, ""
    if precision == "int8":
        method = int8_backend(prepared[0] if isinstance(prepared, tuple) else prepared) or "torch"
        if rows:
            close = close_calls(scores)
            candidate = np.where(close, reference, candidate)
            rechecked = round(float(close.mean()), 6)
    agreement = float(np.mean(reference == candidate)) if rows else 0.0
    return PrecisionCheck(precision, round(agreement, 6), rows, on, device, round(time.perf_counter() - started, 3),
                          rechecked, method)


def fp32_reference(model, run: Callable[[Any], np.ndarray], device: str) -> np.ndarray:
    """fp32's labels (argmax) for :func:`check_precision`, to share between the checks of one model."""
    return run(_prepared(model, "fp32", device)).argmax(axis=1)


def choose_precision(requested: str, device: str, checks: dict[str, PrecisionCheck]) -> PrecisionChoice:
    """The precision to predict in on ``device`` given what was ``requested`` ("auto" or one of
    fp32/bf16/int8) and the recorded ``checks`` (precision -> check). Explicit requests are honoured
    (``prepare_model`` refuses what the device cannot run); "auto" follows the module's rules."""
    requested = validate_precision(requested)
    if requested != "auto":
        return PrecisionChoice(requested, requested, device, "asked for", checks.get(check_key(requested, device)))
    if device == "cuda":
        check = checks.get("bf16")
        if not bf16_available(device):
            return PrecisionChoice("fp32", "auto", device, "the GPU has no bf16")
        if check is not None and not check.ok:
            return PrecisionChoice("fp32", "auto", device, f"bf16 agreed on {check.agreement:.1%} of labels "
                                                            f"(below {MIN_AGREEMENT:.1%})", check)
        return PrecisionChoice("bf16", "auto", device, "GPU with bf16" + (
            f"; agrees with fp32 on {check.agreement:.1%} of {check.rows} labels" if check else ""), check)
    if device == "cpu":
        refused = ""
        bf16 = checks.get(check_key("bf16", "cpu"))
        if bf16 is not None and bf16_available("cpu"):
            if bf16.ok:
                return PrecisionChoice("bf16", "auto", device, f"CPU with native bf16; bf16 agrees with fp32 on "
                                                               f"{bf16.agreement:.1%} of {bf16.rows} labels ({bf16.on})",
                                       bf16)
            refused = f"bf16 agreed with fp32 on {bf16.agreement:.1%} of {bf16.rows} labels; "
        check = checks.get("int8")
        if not int8_available():
            return PrecisionChoice("fp32", "auto", device, refused + "int8 cannot run here (no onnxruntime, and no "
                                                            "dynamic quantisation in this torch)")
        if check is None:
            return PrecisionChoice("fp32", "auto", device, refused + "int8 not checked for this model")
        if not check.ok:
            return PrecisionChoice("fp32", "auto", device, refused + f"int8 agreed with fp32 on {check.agreement:.1%} of "
                                                            f"{check.rows} labels (below {MIN_AGREEMENT:.1%})", check)
        recomputed = f", {check.rechecked:.0%} of them close calls computed in fp32" if check.rechecked else ""
        return PrecisionChoice("int8", "auto", device, refused + f"int8 agrees with fp32 on {check.agreement:.1%} of "
                                                       f"{check.rows} labels ({check.on}{recomputed})", check)
    return PrecisionChoice("fp32", "auto", device, f"fp32 on {device}")


def checks_from(data: dict[str, Any] | None) -> dict[str, PrecisionCheck]:
    """Checks as a model card or a cache file records them (precision -> dict); bad entries skipped."""
    out: dict[str, PrecisionCheck] = {}
    for name, value in (data or {}).items():
        try:
            out[str(name)] = PrecisionCheck.from_dict(value)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def current_checks(checks: dict[str, PrecisionCheck]) -> dict[str, PrecisionCheck]:
    """``checks`` without the int8 checks recorded before int8's close calls were computed again
    in fp32 (they measured another way of predicting)."""
    return {k: c for k, c in checks.items() if c.precision != "int8" or c.method}


def candidates_for(device: str) -> list[tuple[str, str]]:
    """The faster precisions worth checking for a model that will predict on ``device``, as
    (precision, device to check it on) pairs: int8 always on the CPU (a model trained on a GPU may
    predict on a CPU machine), bf16 on a GPU with it and on a CPU with native bf16."""
    out = [("int8", "cpu")] if int8_available() else []
    if device == "cuda" and bf16_available(device):
        out.append(("bf16", "cuda"))
    if bf16_available("cpu"):
        out.append(("bf16", "cpu"))
    return out


def record_checks(model, texts: Sequence[str], run_factory: Callable[[Sequence[str]], Callable[[Any], np.ndarray]],
                  *, device: str, on: str, cache_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Checks of every faster precision for ``device`` (:func:`candidates_for`) over ``texts``, as a
    model card records them (keyed by :func:`check_key`)."""
    out: dict[str, dict[str, Any]] = {}
    if not texts:
        return out
    run = run_factory(list(texts))
    references: dict[str, np.ndarray] = {}
    for precision, where in candidates_for(device):
        if where not in references:
            references[where] = fp32_reference(model, run, where)
        check = check_precision(model, precision, run, device=where, on=on, reference=references[where],
                                cache_dir=cache_dir)
        out[check_key(precision, where)] = check.to_dict()
    return out
