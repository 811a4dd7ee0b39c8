"""One forward pass of a transformer over many texts, as fast as the device allows.

:func:`run_forward` streams windows of texts (a predict run's chunks) through a model and yields one
(N, D) float32 array per window, rows in input order. What it computes from each batch is a
*head*: the classifier's probabilities (:class:`ClassifierHead`), the saved ensemble's probabilities
from one tokenised batch (:class:`TwoEncoderHead`: the classifier plus the quick model on a second
encoder sharing its tokenizer; :class:`EnsembleHead`: the quick model on the fine-tuned encoder's
own pooled output, one forward pass), or sentence embeddings (:class:`EmbeddingHead`).

Where the time goes, and what is done about it:

* tokenising runs on a background thread, up to ``depth`` windows ahead of the model (the Rust
  tokenizer releases the GIL), so the device never waits for it after the first window. It calls
  the fast tokenizer's Rust backend directly (:func:`fast_backend`): the transformers wrapper turns
  every text's encoding into Python objects one by one, which on a GPU machine took longer than the
  model itself; the backend's ids are checked against the wrapper's on each run's first texts;
* a window's batches are filled into one buffer with numpy (not row by row), pinned once per
  window on a GPU rather than once per batch (pinning took about 20 ms a call there);
* texts are bucketed by token length within a window and batched by a token budget
  (:func:`plan_batches`): short reviews go in large batches, padding stays small, and the number of
  Python-level steps per review falls;
* on a GPU the batches are built in pinned memory and copied without blocking; results come back
  the same way and are read once per window, when the next window's passes are queued (so the
  device does not wait while the caller uses a result); the head runs on the device, so only
  (B, K) probabilities cross back. The model gets its attention mask in the 4-D additive form
  (:func:`attention_mask_for`): given the 2-D one, transformers asks the GPU whether any token is
  padding before every forward pass, and the GPU then waits while the next pass is queued;
* the model's precision (fp32, a bf16 copy of the weights, or int8 dynamic quantisation on the CPU)
  is chosen by :mod:`reviewtui.modeling.precision`; heads compute softmax, pooling and the quick
  model in float32 whatever the weights' precision.

Texts come back in input order whatever the batching. torch loads inside the functions.
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from reviewtui.events import EventSink, Progress, emit
from reviewtui.modeling import Cancelled


@dataclass(frozen=True)
class BatchPlan:
    """How texts are grouped into forward passes on one kind of device: at most ``max_tokens``
    padded tokens (rows x longest row) and ``max_rows`` rows per batch; ``window`` texts are
    tokenised at once (and sorted by length within it); ``depth`` windows of batches are prepared
    ahead of the model."""

    max_tokens: int
    max_rows: int
    window: int
    depth: int = 2


#: CPU: batches of about 64 short reviews; a larger batch does not run faster per review there.
CPU_PLAN = BatchPlan(max_tokens=4096, max_rows=128, window=4096)
#: GPU: large batches keep the device busy and the Python that queues each pass rare (on an H200,
#: 128k tokens a batch ran 1.3x the reviews/s of 64k).
GPU_PLAN = BatchPlan(max_tokens=131072, max_rows=8192, window=16384, depth=3)


def plan_for(device: str) -> BatchPlan:
    """The batch plan for ``device`` ("cuda", "cpu", "mps")."""
    return GPU_PLAN if str(device).startswith("cuda") else CPU_PLAN


def plan_batches(lengths: Sequence[int], *, max_tokens: int, max_rows: int) -> list[np.ndarray]:
    """Indices of ``lengths`` grouped into batches, shortest texts first: each batch holds at most
    ``max_rows`` rows and (rows x its longest length) <= ``max_tokens`` padded tokens (a single text
    longer than the budget gets a batch of its own). Every index appears exactly once."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    start, n = 0, len(order)
    while start < n:
        stop = start + 1
        # sorted ascending: the batch's padded width is its last row's length
        while stop < n and stop - start < max_rows and (stop - start + 1) * int(lengths[order[stop]]) <= max_tokens:
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches


def mean_pool(last_hidden, attention_mask):
    """Mean of ``last_hidden`` over positions where ``attention_mask`` is 1, in float32."""
    hidden = last_hidden.float()
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def attention_mask_for(model, mask, *, dense: bool | None = None):
    """The attention mask ``model`` is given for a batch whose 2-D mask is ``mask``: on a GPU (or
    with ``dense``) the (B, 1, 1, L) additive mask in the model's float type, 0 where a token is read
    and the type's lowest value where it is padding, which transformers passes on as it is; else
    ``mask``. Only for the attention that adds such a mask to its scores (SDPA and eager)."""
    if dense is None:
        dense = mask.device.type == "cuda"
    config = getattr(model, "config", None)
    if not dense or getattr(config, "_attn_implementation", None) not in ("sdpa", "eager"):
        return mask
    import torch

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    keep = mask[:, None, None, :].to(dtype)
    return (1.0 - keep) * torch.finfo(dtype).min


# --- heads: what a batch's forward pass is turned into ----------------------------------------
class ClassifierHead:
    """Softmax probabilities of a sequence classifier, (B, K)."""

    def __init__(self, num_labels: int) -> None:
        self.dim = int(num_labels)

    def to(self, device) -> "ClassifierHead":
        return self

    def __call__(self, model, ids, mask):
        import torch

        logits = model(input_ids=ids, attention_mask=attention_mask_for(model, mask)).logits
        return torch.softmax(logits.float(), dim=-1)


class EmbeddingHead:
    """L2-normalised mean of the last hidden states, (B, D): a sentence embedding. Works on an
    encoder (``last_hidden_state``) and on a sequence classifier (its last hidden layer)."""

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)

    def to(self, device) -> "EmbeddingHead":
        return self

    def __call__(self, model, ids, mask):
        return pooled_embedding(model, ids, mask)


def pooled_embedding(model, ids, mask):
    """The L2-normalised mean-pooled last hidden layer of ``model`` for one batch (float32)."""
    import torch

    out = model(input_ids=ids, attention_mask=attention_mask_for(model, mask), output_hidden_states=True)
    hidden = getattr(out, "last_hidden_state", None)
    if hidden is None:
        hidden = out.hidden_states[-1]
    return torch.nn.functional.normalize(mean_pool(hidden, mask), p=2, dim=1)


class QuickWeights:
    """A quick model's linear layer as arrays, mapped onto ``labels``: ``coef`` (Kq, D), ``bias``
    (Kq,), and ``select`` (Kq, K) sending each of its classes to its column in ``labels`` (a label
    it was not trained on gets probability 0, as :meth:`QuickModel.proba_for` gives)."""

    def __init__(self, coef: np.ndarray, bias: np.ndarray, classes: Sequence[str], labels: Sequence[str]) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.select = np.zeros((len(classes), len(labels)), dtype=np.float32)
        index = {label: j for j, label in enumerate(labels)}
        for i, cls in enumerate(classes):
            if cls in index:
                self.select[i, index[cls]] = 1.0

    @classmethod
    def of(cls, quick, labels: Sequence[str]) -> "QuickWeights":
        """From a fitted :class:`reviewtui.modeling.quick.QuickModel`."""
        return cls(quick.coef_, quick.intercept_, quick.classes_, labels)


class EnsembleHead:
    """The saved ensemble in one pass: the mean of the classifier's probabilities and the quick
    model's probabilities on the same pass's pooled last hidden layer, (B, K); ``weight`` is the
    classifier's share (0.5: the plain mean; cross-validation may choose another, the card's
    ``ensemble_weight``)."""

    def __init__(self, quick: QuickWeights, weight: float = 0.5) -> None:
        self.quick = quick
        self.weight = float(weight)
        self.dim = quick.select.shape[1]
        self._tensors: tuple[Any, Any, Any] | None = None
        self._device = None

    def to(self, device) -> "EnsembleHead":
        import torch

        if self._tensors is None or self._device != str(device):
            self._tensors = tuple(torch.from_numpy(a).to(device) for a in
                                  (self.quick.coef, self.quick.bias, self.quick.select))  # type: ignore[assignment]
            self._device = str(device)
        return self

    def __call__(self, model, ids, mask):
        import torch

        out = model(input_ids=ids, attention_mask=attention_mask_for(model, mask), output_hidden_states=True)
        coef, bias, select = self.to(ids.device)._tensors  # type: ignore[misc]
        p_head = torch.softmax(out.logits.float(), dim=-1)
        emb = torch.nn.functional.normalize(mean_pool(out.hidden_states[-1], mask), p=2, dim=1)
        p_quick = torch.softmax(emb @ coef.T + bias, dim=-1) @ select
        return self.weight * p_head + (1.0 - self.weight) * p_quick


class TwoEncoderHead:
    """The saved ensemble whose quick half reads a second encoder (the packaged MiniLM) that shares
    the classifier's tokenizer: both models run on the same tokenised batch, (B, K)."""

    def __init__(self, encoder, quick: QuickWeights, weight: float = 0.5) -> None:
        self.encoder = encoder
        self.inner = EnsembleHead(quick, weight)
        self.dim = self.inner.dim
        self.classifier = ClassifierHead(self.dim)

    def to(self, device) -> "TwoEncoderHead":
        self.inner.to(device)
        return self

    def __call__(self, model, ids, mask):
        import torch

        coef, bias, select = self.inner.to(ids.device)._tensors  # type: ignore[misc]
        p_head = self.classifier(model, ids, mask)
        emb = pooled_embedding(self.encoder, ids, mask)
        p_quick = torch.softmax(emb @ coef.T + bias, dim=-1) @ select
        w = self.inner.weight
        return w * p_head + (1.0 - w) * p_quick


# --- tokenising ahead of the model ------------------------------------------------------------
_DONE = object()


def fast_backend(tokenizer, max_length: int):
    """A copy of ``tokenizer``'s Rust backend that truncates to ``max_length`` and does not pad, or
    None when it has none (a slow tokenizer): what the wrapper computes, without turning every
    text's encoding into Python objects."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or not hasattr(backend, "encode_batch"):
        return None
    try:
        backend = copy.deepcopy(backend)
        backend.enable_truncation(int(max_length))
        backend.no_padding()
    except Exception:  # noqa: BLE001 - an unusual backend: the wrapper does it
        return None
    return backend


def window_layout(enc: Sequence[Sequence[int]], *, max_tokens: int, max_rows: int, pad_id: int) -> tuple:
    """A window's token ids (``enc``, one list per text) laid out as its padded batches, one after
    the other in one buffer: (ids, mask, offsets, batches, widths), where batch ``b`` is
    ``ids[offsets[b]:offsets[b + 1]]`` viewed as (len(batches[b]), widths[b]) and holds the texts
    ``batches[b]`` (:func:`plan_batches`)."""
    lengths = np.fromiter(map(len, enc), dtype=np.int64, count=len(enc))
    flat = np.fromiter(itertools.chain.from_iterable(enc), dtype=np.int64, count=int(lengths.sum()))
    starts = np.zeros(len(enc), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    batches = plan_batches(lengths, max_tokens=max_tokens, max_rows=max_rows)
    widths = [int(lengths[idx].max()) for idx in batches]
    offsets = np.zeros(len(batches) + 1, dtype=np.int64)
    np.cumsum([len(idx) * w for idx, w in zip(batches, widths)], out=offsets[1:])
    ids_all = np.full(int(offsets[-1]), pad_id, dtype=np.int64)
    mask_all = np.zeros(int(offsets[-1]), dtype=np.int64)
    for b, (idx, width) in enumerate(zip(batches, widths)):
        rows = lengths[idx]
        valid = np.arange(width)[None, :] < rows[:, None]
        block = ids_all[offsets[b]:offsets[b + 1]].reshape(len(idx), width)
        block[valid] = flat[(starts[idx][:, None] + np.arange(width)[None, :])[valid]]
        mask_all[offsets[b]:offsets[b + 1]] = valid.ravel()
    return ids_all, mask_all, offsets, batches, widths


class _Prefetcher(threading.Thread):
    """Tokenises windows of texts and builds padded batches (pinned on a GPU) on its own thread, at
    most ``depth`` windows ahead of the consumer, which calls :meth:`window_taken` for each "end" it
    takes. Items: ("batch", key, idx, ids, mask), ("end", key, n), ("error", exc), then _DONE."""

    #: texts of the first window whose ids are compared between the backend and the wrapper
    CHECK = 64

    def __init__(self, tokenizer, windows: Iterable[tuple[Any, Sequence[str]]], *, max_length: int,
                 plan: BatchPlan, pin: bool) -> None:
        super().__init__(name="reviewtui-tokenise", daemon=True)
        self.tokenizer, self.windows, self.max_length, self.plan, self.pin = tokenizer, windows, max_length, plan, pin
        self.items: queue.Queue = queue.Queue(maxsize=max(4, plan.depth * max(1, plan.window // 64)))
        # the windows laid out and not yet taken by the consumer: at most `depth` (their batches are
        # pinned memory on a GPU, a few megabytes a window)
        self.ahead = threading.Semaphore(max(1, plan.depth))
        self.stop = threading.Event()
        self.pad_id = int(getattr(tokenizer, "pad_token_id", None) or 0)
        self.backend = fast_backend(tokenizer, max_length)
        self.checked = False

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            for key, texts in self.windows:
                while not self.ahead.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if self.stop.is_set():
                    return
                texts = [str(t) for t in texts]
                if texts and not self._emit(self.layout(texts), key):
                    return
                if not self._put(("end", key, len(texts))):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(("error", exc))
        finally:
            self._put(_DONE)

    def window_taken(self) -> None:
        """The consumer took a window's "end": one more window may be laid out."""
        self.ahead.release()

    def _check(self, texts: list[str]) -> None:
        """Compare the backend's ids with the wrapper's on the first texts; on a difference the
        wrapper tokenises the run."""
        head = texts[:self.CHECK]
        if self.backend is None or self.checked or not head:
            return
        self.checked = True
        if [e.ids for e in self.backend.encode_batch(head, add_special_tokens=True)] != self._wrapper_ids(head):
            self.backend = None

    def _wrapper_ids(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=False,
                              return_attention_mask=False, return_token_type_ids=False)["input_ids"]

    def tokenise(self, texts: list[str]) -> list[list[int]]:
        """Token ids of ``texts`` (special tokens added, truncated to ``max_length``): through the
        backend, once its ids matched the wrapper's on the first texts, else through the wrapper."""
        self._check(texts)
        if self.backend is None:
            return self._wrapper_ids(texts)
        encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
        return [e.ids for e in encode(texts, add_special_tokens=True)]

    def layout(self, texts: list[str]) -> tuple:
        """:func:`window_layout` of ``texts``, tokenised on this thread."""
        return window_layout(self.tokenise(texts), max_tokens=self.plan.max_tokens, max_rows=self.plan.max_rows,
                             pad_id=self.pad_id)

    def _emit(self, layout: tuple, key) -> bool:
        """Hand on a window's batches (its buffer pinned once on a GPU); False when stopped."""
        import torch

        ids_all, mask_all, offsets, batches, widths = layout
        t_ids, t_mask = torch.from_numpy(ids_all), torch.from_numpy(mask_all)
        if self.pin:
            t_ids, t_mask = t_ids.pin_memory(), t_mask.pin_memory()
        for b, (idx, width) in enumerate(zip(batches, widths)):
            lo, hi = int(offsets[b]), int(offsets[b + 1])
            if not self._put(("batch", key, idx, t_ids[lo:hi].view(len(idx), width),
                              t_mask[lo:hi].view(len(idx), width))):
                return False
        return True


def model_device(model) -> str:
    """The device type the model's parameters are on ("cpu" for a dynamically quantised model)."""
    try:
        return next(model.parameters()).device.type
    except StopIteration:  # pragma: no cover - every transformer has parameters
        return "cpu"


@dataclass
class ForwardTimes:
    """Where :func:`run_forward`'s own thread spent its seconds: waiting for the feeding thread's
    batches, queuing the passes (the model's and the head's Python; on a GPU the kernels run on
    after), and waiting for the device's results; with the windows, batches and texts it saw.
    Collected only when :data:`TIMES` is set (benchmarks)."""

    waiting_for_batches: float = 0.0
    queuing: float = 0.0
    waiting_for_device: float = 0.0
    windows: int = 0
    batches: int = 0
    texts: int = 0


#: set to a ForwardTimes to have each run_forward add to it
TIMES: ForwardTimes | None = None

#: hand windows back one behind on the CPU too, as on a GPU, with events that are done when made:
#: lets tests run the GPU's handback, on a cancel and on errors included, where there is no GPU
DEFER_ON_CPU = False


class _HostEvent:
    """A stand-in for ``torch.cuda.Event`` where the work is done when the event is recorded."""

    def record(self) -> None:
        pass

    def synchronize(self) -> None:
        pass


def _window_result(pending: list, n: int, dim: int) -> np.ndarray:
    result = np.zeros((n, dim), dtype=np.float32)
    for idx, values in pending:
        result[idx] = values.numpy()
    return result


def run_forward(model, tokenizer, windows: Iterable[tuple[Any, Sequence[str]]], head, *,
                max_length: int, plan: BatchPlan | None = None, on_event: EventSink | None = None,
                cancel: threading.Event | None = None, task: str = "predict", total: int | None = None,
                done_offset: int = 0) -> Iterator[tuple[Any, np.ndarray]]:
    """Yield (key, (N, head.dim) float32 array in input order) for each (key, texts) window, in the
    windows' order, running ``head`` on batches of ``model`` on the model's device.

    Tokenising runs on a background thread ahead of the model. On a GPU a window is handed back
    once the next window's passes are queued, so the device has work while the caller uses a
    result; on a cancel or an error the windows it finished are handed back first. Emits
    Progress(task, done, total) after each batch (``done`` counts from ``done_offset``). Raises
    Cancelled when ``cancel`` is set between batches, and whatever the tokenizer or the model
    raised.
    """
    import torch

    device = model_device(model)
    cuda = device == "cuda"
    deferred = cuda or DEFER_ON_CPU
    plan = plan or plan_for(device)
    head = head.to(torch.device(device) if cuda else "cpu")
    model.eval()
    feeder = _Prefetcher(tokenizer, windows, max_length=max_length, plan=plan, pin=cuda)
    feeder.start()
    done = done_offset
    pending: list[tuple[np.ndarray, Any]] = []
    queued: deque = deque()  # on a GPU (or DEFER_ON_CPU): windows whose passes are queued, (key, n, pending, event)
    times = TIMES
    clock = time.perf_counter
    try:
        try:
            with torch.inference_mode():
                while True:
                    t0 = clock()
                    item = feeder.items.get()
                    t1 = clock()
                    if times is not None:
                        times.waiting_for_batches += t1 - t0
                    if item is _DONE:
                        break
                    kind = item[0]
                    if kind == "error":
                        raise item[1]
                    if kind == "batch":
                        if cancel is not None and cancel.is_set():
                            raise Cancelled(f"{task} cancelled after {done} of "
                                            f"{total if total is not None else '?'} texts")
                        _, key, idx, ids, mask = item
                        if cuda:
                            ids, mask = ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)
                        out = head(model, ids, mask)
                        pending.append((idx, out.to("cpu", non_blocking=True) if cuda else out))
                        done += len(idx)
                        if times is not None:
                            times.queuing += clock() - t1
                            times.batches += 1
                            times.texts += len(idx)
                        emit(on_event, Progress(task, done, total))
                        continue
                    _, key, n = item  # the "end" of a window: its passes are all queued
                    feeder.window_taken()
                    if times is not None:
                        times.windows += 1
                    if not deferred:
                        result = _window_result(pending, n, head.dim)
                        pending = []
                        yield key, result
                        continue
                    event = torch.cuda.Event() if cuda else _HostEvent()
                    event.record()
                    queued.append((key, n, pending, event))
                    pending = []
                    if len(queued) > 1:  # the previous window, while the device works on this one
                        yield _handed_back(queued.popleft(), head.dim, times)
            while queued:
                yield _handed_back(queued.popleft(), head.dim, times)
        except GeneratorExit:
            raise
        except BaseException as exc:  # a cancel, the tokenizer's or the model's error, an interrupt
            finished = []  # what the device finished before it is handed back, then the error raised
            while queued:
                try:
                    finished.append(_handed_back(queued.popleft(), head.dim, times))
                except BaseException:  # noqa: BLE001 - the device failed too: hand back what it gave
                    break
            for window in finished:
                yield window
            raise exc
    finally:
        feeder.stop.set()
        feeder.join(timeout=5)


def _handed_back(window: tuple, dim: int, times: ForwardTimes | None) -> tuple[Any, np.ndarray]:
    key, n, pending, event = window
    t0 = time.perf_counter()
    event.synchronize()
    result = _window_result(pending, n, dim)
    if times is not None:
        times.waiting_for_device += time.perf_counter() - t0
    return key, result


def forward_texts(model, tokenizer, texts: Sequence[str], head, *, max_length: int, plan: BatchPlan | None = None,
                  on_event: EventSink | None = None, cancel: threading.Event | None = None,
                  task: str = "predict") -> np.ndarray:
    """(N, head.dim) float32 for ``texts`` in input order: :func:`run_forward` over windows of
    ``texts`` gathered into one array. Raises Cancelled when ``cancel`` is set."""
    texts = [str(t) for t in texts]
    plan = plan or plan_for(model_device(model))
    windows = ((start, texts[start:start + plan.window]) for start in range(0, len(texts), plan.window))
    out = np.zeros((len(texts), head.dim), dtype=np.float32)
    for start, values in run_forward(model, tokenizer, windows, head, max_length=max_length, plan=plan,
                                     on_event=on_event, cancel=cancel, task=task, total=len(texts)):
        out[start:start + len(values)] = values
    return out
