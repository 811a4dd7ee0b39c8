"""Running a transformer over many texts: length-sorted batches, and the two forward passes built on
them (sentence embeddings of an encoder, logits of a sequence classifier).

Texts are sorted by length before batching, so each batch pads to a similar length; the results come
back in input order. Both passes run in inference mode on the model's device, emit Progress after
every batch and raise Cancelled between batches. torch loads inside the functions.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from reviewtui.events import EventSink, Progress, emit
from reviewtui.modeling import Cancelled
from reviewtui.settings import ModelSettings

#: Texts per forward pass when predicting or embedding.
BATCH_SIZE = 64
#: Tokens per text when the caller has no [model] settings at hand.
DEFAULT_MAX_LENGTH = ModelSettings().max_length


def length_sorted_batches(tokenizer, texts: Sequence[str], *, device, max_length: int = DEFAULT_MAX_LENGTH,
                          batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                          cancel: threading.Event | None = None, task: str = "embed", done_offset: int = 0,
                          total: int | None = None):
    """Yield (input indices, tokenised batch on ``device``) over ``texts`` sorted by length, so
    padding stays short; emits Progress(task, done, total) after each batch is consumed. Raises
    Cancelled when ``cancel`` is set between batches. The caller runs the model (in inference mode)."""
    n = len(texts)
    order = sorted(range(n), key=lambda i: len(str(texts[i])))
    total = n if total is None else total
    for start in range(0, n, batch_size):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"{task} cancelled after {done_offset + start} of {total} texts")
        idx = order[start:start + batch_size]
        batch = tokenizer([str(texts[i]) for i in idx], padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
        yield idx, {k: v.to(device) for k, v in batch.items()}
        emit(on_event, Progress(task, done_offset + min(start + batch_size, n), total))


def mean_pool(last_hidden, attention_mask):
    """Mean of ``last_hidden`` over positions where ``attention_mask`` is 1 (torch tensors)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden.dtype)
    return (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def encode_texts(tokenizer, model, texts: Sequence[str], *, max_length: int = DEFAULT_MAX_LENGTH,
                 batch_size: int = BATCH_SIZE, device: str | None = None, on_event: EventSink | None = None,
                 cancel: threading.Event | None = None, task: str = "embed", done_offset: int = 0,
                 total: int | None = None) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings of ``texts`` (float32, input order) from an encoder.

    Raises Cancelled when ``cancel`` is set between batches.
    """
    import torch

    n = len(texts)
    dim = int(model.config.hidden_size)
    out = np.zeros((n, dim), dtype=np.float32)
    if n == 0:
        return out
    device = device or next(model.parameters()).device.type
    if next(model.parameters()).device.type != device:
        model.to(device)
    with torch.inference_mode():
        for idx, batch in length_sorted_batches(tokenizer, texts, device=device, max_length=max_length,
                                                batch_size=batch_size, on_event=on_event, cancel=cancel,
                                                task=task, done_offset=done_offset, total=total):
            hidden = model(**batch).last_hidden_state
            pooled = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), p=2, dim=1)
            out[idx] = pooled.float().cpu().numpy()
    return out


def predict_logits(model, tokenizer, texts: Sequence[str], *, max_length: int = DEFAULT_MAX_LENGTH,
                   batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                   cancel: threading.Event | None = None, task: str = "predict") -> np.ndarray:
    """(N, K) logits of a sequence classifier, in input order, on the model's device.

    Raises Cancelled when ``cancel`` is set between batches.
    """
    import torch

    n = len(texts)
    k = int(model.config.num_labels)
    out = np.zeros((n, k), dtype=np.float32)
    if n == 0:
        return out
    model.eval()
    with torch.inference_mode():
        for idx, batch in length_sorted_batches(tokenizer, texts, device=next(model.parameters()).device,
                                                max_length=max_length, batch_size=batch_size,
                                                on_event=on_event, cancel=cancel, task=task):
            out[idx] = model(**batch).logits.float().cpu().numpy()
    return out
