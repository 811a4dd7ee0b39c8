"""Loading a saved model folder and predicting class probabilities for texts.

Both kinds of saved model answer the same way: ``SavedClassifier.load(models/<name>)`` then
``predict_proba(texts)`` -> (N, K) with columns in ``labels`` order (the taxonomy order the model
was trained with), or ``predict_chunks(chunks)`` yielding one array per chunk as a stream (what a
predict run uses: the next chunk is tokenised while the model runs the current one).

Fine-tuned models run through :mod:`reviewtui.modeling.forward` (token-budget batches, tokenising
ahead on a thread, on the GPU when there is one) in the precision :mod:`reviewtui.modeling.precision`
chooses ("auto": bf16 on a GPU; on the CPU bf16 where it is native, else int8, when the model's
recorded check agrees with fp32).
The ensemble ``reviewtui train`` saves by default (``ensemble_features = "packaged"``) has its quick
half on the packaged MiniLM: when that encoder shares the classifier's tokenizer and length, each
tokenised batch feeds both models; otherwise the encoder takes a second pass over each chunk.
With ``ensemble_features = "finetuned"`` the quick half reads the same forward pass's pooled last
hidden layer (one pass). No embedding-cache writes while predicting with a fine-tuned model. Quick
models embed the texts through the workspace embedding cache when a ``cache_dir`` is given and
apply the linear classifier.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Sequence

import numpy as np

from reviewtui.errors import ReviewtuiError
from reviewtui.events import EventSink, Notice, ShiftedProgress, emit
from reviewtui.modeling.batching import BATCH_SIZE, DEFAULT_MAX_LENGTH
from reviewtui.modeling.card import ModelCard, check_readable, load_card, missing_files, unreadable_error

#: The card's value of ``hyperparameters["ensemble_features"]`` for a one-pass ensemble.
ONE_PASS = "finetuned"


class SavedClassifier:
    """A saved model ready to predict. ``labels`` are the output columns; ``card`` its model card.

    ``precision`` is "auto", "fp32", "bf16" or "int8"; ``device`` forces a device ("cpu", "cuda")
    instead of the best one present.
    """

    def __init__(self, path: Path, card: ModelCard, cache_dir: Path | None = None, *, precision: str = "auto",
                 device: str | None = None) -> None:
        from reviewtui.modeling.precision import validate_precision

        self.path = Path(path)
        self.card = card
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.requested_precision = validate_precision(precision)
        self.requested_device = device
        self.choice: Any = None  # the PrecisionChoice, once prepared
        self._model: Any = None  # fp32 weights as loaded
        self._runner: Any = None  # the model in the chosen precision on the device
        self._tokenizer: Any = None
        self._quick: Any = None
        self._encoder: Any = None  # (tokenizer, model) of a two-encoder ensemble's quick half
        self._fp32: Any = None  # int8 only: the fp32 model(s) its close calls are computed again with
        self.rechecked = 0  # int8 predictions computed again in fp32 so far
        self._lock = threading.RLock()

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def name(self) -> str:
        """The model's folder name, what ``--model`` finds it by (:func:`load_card` names the card so)."""
        return self.card.name

    @property
    def max_length(self) -> int:
        """Tokens per text the model was trained with (every card records it)."""
        return int(self.card.hyperparameters.get("max_length", DEFAULT_MAX_LENGTH))

    @property
    def ensemble_weight(self) -> float:
        """An ensemble's share of the fine-tune in the mean with the quick model: 0.5, unless
        cross-validation chose another (the card's ``ensemble_weight``, ``train --auto``)."""
        return float(self.card.hyperparameters.get("ensemble_weight", 0.5))

    @property
    def one_pass(self) -> bool:
        """True for an ensemble whose quick half reads the fine-tuned encoder (one forward pass)."""
        return self.card.hyperparameters.get("ensemble_features") == ONE_PASS

    @property
    def precision(self) -> str | None:
        """The precision predictions run in (None before the first prediction or :meth:`prepare`)."""
        return self.choice.precision if self.choice is not None else None

    @classmethod
    def load(cls, model_dir: Path, cache_dir: Path | None = None, *, precision: str = "auto",
             device: str | None = None) -> "SavedClassifier":
        """Read the card of ``model_dir`` (weights load lazily on first predict).

        Raises ReviewtuiError when the folder is not a reviewtui model or ``precision`` is unknown.
        """
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ReviewtuiError(f"no model folder at {model_dir}: list models with reviewtui models")
        card = load_card(model_dir)
        if card.kind not in ("finetuned", "quick"):
            raise ReviewtuiError(f"{model_dir}: unknown model kind {card.kind!r} in model_card.json")
        missing = missing_files(model_dir, card)
        if missing:
            raise ReviewtuiError(f"{model_dir}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing "
                                 "(deleted or moved since the model was saved), and the model cannot predict without "
                                 "it: put the file back from a copy, or train the model again")
        check_readable(model_dir)
        return cls(model_dir, card, cache_dir, precision=precision, device=device)

    def check_taxonomy(self, training_keys: Sequence[str], current: Callable[[str], str] | None = None,
                       labeled: Collection[str] | None = None) -> list[str]:
        """Raise ReviewtuiError when the model was trained on other categories than ``training_keys``;
        returns the categories added since that it may leave out while they have no labels
        (``current`` and ``labeled`` as ``ModelCard.check_taxonomy``)."""
        return self.card.check_taxonomy(list(training_keys), current, labeled)

    # -- loading -------------------------------------------------------------------------------
    def _device(self) -> str:
        from reviewtui.modeling.loading import best_device

        return self.requested_device or best_device()

    def _ensure_loaded(self) -> None:
        with self._lock:
            if self.card.kind == "quick":
                if self._quick is None:
                    from reviewtui.modeling.quick import QuickModel

                    self._quick = QuickModel.load(self.path)
                return
            if self._model is not None:
                return
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            from reviewtui.modeling.loading import check_vocabulary, quiet_transformers, set_torch_threads

            quiet_transformers()
            set_torch_threads()
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                try:  # PyTorch's fused attention where the architecture has it
                    model = AutoModelForSequenceClassification.from_pretrained(
                        str(self.path), local_files_only=True, attn_implementation="sdpa")
                except (ValueError, ImportError):
                    model = AutoModelForSequenceClassification.from_pretrained(str(self.path), local_files_only=True)
            # a file cut short fails in the words of safetensors, torch or tokenizers; a file this user
            # may not read, in transformers' as a missing file: said as what it is
            except Exception as exc:  # noqa: BLE001
                check_readable(self.path)
                denied = _permission_denied(exc)
                if denied is not None:
                    raise unreadable_error(Path(denied.filename or self.path)) from exc
                raise ReviewtuiError(f"{self.path}: the weights or tokenizer cannot be read ({type(exc).__name__}: "
                                     f"{exc}); retrain the model") from exc
            check_vocabulary(self._tokenizer, self.path)
            if int(model.config.num_labels) != len(self.labels):
                raise ReviewtuiError(f"{self.path}: the weights have {model.config.num_labels} outputs but "
                                     f"the model card lists {len(self.labels)} labels; retrain the model")
            self._model = model.float().eval()
            if self.card.hyperparameters.get("ensemble_quick"):
                from reviewtui.modeling.quick import QuickModel

                self._quick = QuickModel.load(self.path)

    # -- precision -----------------------------------------------------------------------------
    def _check_cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        import torch

        key = hashlib.sha1(f"{self.path.resolve()}|{self.card.created_at}|{torch.__version__}".encode()).hexdigest()[:16]
        return self.cache_dir / "precision" / f"{self.card.name[:60]}-{key}.json"

    def _recorded_checks(self) -> dict:
        from reviewtui.modeling.precision import checks_from, current_checks

        checks = current_checks(checks_from(getattr(self.card, "precision_checks", None)))
        path = self._check_cache_path()
        if path is not None and path.is_file():
            try:
                checks = {**current_checks(checks_from(json.loads(path.read_text(encoding="utf-8")))), **checks}
            except (OSError, ValueError):
                pass
        return checks

    def prepare(self, sample: Sequence[str] = (), on_event: EventSink | None = None) -> dict[str, Any]:
        """Load the model and choose its precision; returns the choice as a dict (precision,
        requested, device, reason, check). With "auto" on the CPU, the faster precisions the model
        has no recorded check for (bf16 on a CPU with native bf16, then int8 unless bf16 passed)
        are checked now against fp32 on ``sample`` (the first texts to predict) and the results
        cached under ``cache_dir``. Raises ReviewtuiError when the asked precision cannot run here."""
        from reviewtui.modeling.precision import PrecisionChoice, choose_precision, int8_backend, prepare_models

        with self._lock:
            if self.choice is not None:
                return self.choice.to_dict()
            self._ensure_loaded()
            device = self._device()
            if self.card.kind == "quick":
                self.choice = PrecisionChoice("fp32", self.requested_precision, device,
                                              "quick model: cached embeddings")
                return self.choice.to_dict()
            checks = self._recorded_checks()
            two = self._quick is not None and not self.one_pass
            models = (self._model, self._load_quick_encoder()[1]) if two else self._model
            if self.requested_precision == "auto" and device == "cpu" and len(sample):
                self._check_on_sample(models, checks, sample, on_event)
            self.choice = choose_precision(self.requested_precision, device, checks)
            # int8 quantises a copy (the fp32 weights stay for its close calls); fp32/bf16 move in place
            int8 = self.choice.precision == "int8"
            ready = prepare_models(models, self.choice.precision, device, copy_first=int8, cache_dir=self.cache_dir)
            if int8:
                self._fp32 = models
                self.choice.extra["backend"] = int8_backend(ready[0] if two else ready) or "torch"
            if two:
                self._runner, enc_runner = ready
                self._encoder = (self._encoder[0], enc_runner)
            else:
                self._runner = ready
            return self.choice.to_dict()

    def _check_on_sample(self, models, checks: dict, sample: Sequence[str], on_event: EventSink | None) -> None:
        """Go through the faster precisions in the order "auto" prefers them on the CPU (bf16 where
        it is native, then int8) until one agrees with fp32: a recorded check counts; a precision
        with none is checked now over the first texts of ``sample``, and the result goes into
        ``checks`` and the cache."""
        from reviewtui.modeling.precision import (CHECK_ROWS, bf16_available, check_key, check_precision,
                                                  fp32_reference, int8_available)

        texts = [str(t) for t in list(sample)[:CHECK_ROWS]]
        run = lambda m: self._run_arrays(m, texts)  # noqa: E731
        reference = None
        for precision in [p for p, ok in (("bf16", bf16_available("cpu")), ("int8", int8_available())) if ok]:
            key = check_key(precision, "cpu")
            if key not in checks:
                emit(on_event, Notice("info", f"checking {precision} against fp32 on {len(texts)} reviews "
                                              "(once per model)"))
                if reference is None:
                    reference = fp32_reference(models, run, "cpu")
                checks[key] = check_precision(models, precision, run, device="cpu", reference=reference,
                                              on=f"the first {len(texts)} reviews predicted", cache_dir=self.cache_dir)
                self._cache_check(checks[key])
            if checks[key].ok:
                return

    def _cache_check(self, check) -> None:
        from reviewtui.files import atomic_write_text

        path = self._check_cache_path()
        if path is None:
            return
        try:
            old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError):
            old = {}
        from reviewtui.modeling.precision import check_key

        key = check_key(check.precision, check.device)
        atomic_write_text(path, json.dumps({**old, key: check.to_dict()}, indent=2) + "\n")

    # -- predicting ----------------------------------------------------------------------------
    def _head(self):
        from reviewtui.modeling.forward import ClassifierHead, EnsembleHead, QuickWeights

        if self._quick is not None and self.one_pass:
            return EnsembleHead(QuickWeights.of(self._quick, self.labels), self.ensemble_weight)
        return ClassifierHead(len(self.labels))

    def _run_arrays(self, model, texts: Sequence[str]) -> np.ndarray:
        """Scores of ``model`` (this classifier's weights in some precision; for a two-encoder
        ensemble a (classifier, encoder) pair) for ``texts``: what a precision check compares."""
        from reviewtui.modeling.forward import ClassifierHead, EmbeddingHead, forward_texts

        if isinstance(model, tuple):
            clf, encoder = model
            p_head = forward_texts(clf, self._tokenizer, texts, ClassifierHead(len(self.labels)),
                                   max_length=self.max_length)
            X = forward_texts(encoder, self._encoder[0], texts, EmbeddingHead(int(encoder.config.hidden_size)),
                              max_length=self._encoder_length)
            w = self.ensemble_weight
            return w * p_head + (1.0 - w) * self._quick.proba_for(X, self.labels)
        return forward_texts(model, self._tokenizer, texts, self._head(), max_length=self.max_length)

    def predict_chunks(self, chunks: Iterable[Sequence[str]], on_event: EventSink | None = None,
                       cancel: threading.Event | None = None, total: int | None = None) -> Iterator[np.ndarray]:
        """Yield (N, K) float32 probabilities for each chunk of texts, in order, columns in
        ``labels`` order. The next chunk is tokenised while the model runs the current one. Emits
        Progress("predict", done, total), or Progress("embed", done, total) for a quick model
        (``done`` counts texts over all chunks either way). Raises Cancelled when ``cancel`` is
        set between batches."""
        chunks = iter(chunks)
        first = next(chunks, None)
        if first is None:
            return
        first = [str(t) for t in first]
        self.prepare(first, on_event)
        chunks = itertools.chain([first], chunks)
        if self.card.kind == "quick":  # each chunk's embedding progress, counted over all the chunks
            done = 0
            for texts in chunks:
                texts = [str(t) for t in texts]
                sink = ShiftedProgress(on_event, done, total) if total is not None else on_event
                yield self._quick_proba(texts, sink, cancel)
                done += len(texts)
            return
        recheck = self._fp32 is not None
        texts_of: dict[int, list[str]] = {}

        def windows():
            for i, texts in enumerate(chunks):
                texts = [str(t) for t in texts]
                if recheck:
                    texts_of[i] = texts
                yield i, texts

        for key, proba in self._forward_windows(windows(), on_event, cancel, total):
            yield self._recheck(texts_of.pop(key), proba) if recheck else proba

    def _forward_windows(self, windows, on_event, cancel, total) -> Iterator[tuple[int, np.ndarray]]:
        """(key, probabilities) of each (key, texts) window, from the fine-tune alone, the one-pass
        ensemble or the two-encoder ensemble, in the chosen precision."""
        from reviewtui.modeling.forward import run_forward

        if self._quick is not None and not self.one_pass:
            if self._shares_tokens():
                from reviewtui.modeling.forward import QuickWeights, TwoEncoderHead

                head = TwoEncoderHead(self._encoder[1], QuickWeights.of(self._quick, self.labels),
                                      self.ensemble_weight)
                yield from run_forward(self._runner, self._tokenizer, windows, head, max_length=self.max_length,
                                       on_event=on_event, cancel=cancel, task="predict", total=total)
                return
            yield from self._two_encoder_chunks(windows, on_event, cancel, total)
            return
        yield from run_forward(self._runner, self._tokenizer, windows, self._head(), max_length=self.max_length,
                               on_event=on_event, cancel=cancel, task="predict", total=total)

    def _recheck(self, texts: list[str], proba: np.ndarray) -> np.ndarray:
        """``proba`` (int8's) with its close calls (:func:`~reviewtui.modeling.precision.close_calls`)
        computed again by the fp32 model(s)."""
        from reviewtui.modeling.precision import close_calls

        rows = np.flatnonzero(close_calls(proba))
        if not len(rows):
            return proba
        proba = np.array(proba, dtype=np.float32, copy=True)
        proba[rows] = self._run_arrays(self._fp32, [texts[i] for i in rows])
        self.rechecked += int(len(rows))
        return proba

    def _two_encoder_chunks(self, windows, on_event, cancel, total) -> Iterator[tuple[int, np.ndarray]]:
        """A two-encoder ensemble whose encoders tokenise differently: the fine-tune, then the
        quick half's encoder over the same chunk (both batched; no embedding cache writes)."""
        from reviewtui.modeling.forward import ClassifierHead, EmbeddingHead, forward_texts, run_forward

        tokenizer, encoder = self._encoder
        texts_of: dict[int, list[str]] = {}

        def remember(items):
            for key, texts in items:
                texts_of[key] = texts
                yield key, texts

        for key, proba in run_forward(self._runner, self._tokenizer, remember(windows), ClassifierHead(len(self.labels)),
                                      max_length=self.max_length, on_event=on_event, cancel=cancel, total=total):
            texts = texts_of.pop(key)
            X = forward_texts(encoder, tokenizer, texts, EmbeddingHead(int(encoder.config.hidden_size)),
                              max_length=self._encoder_length, cancel=cancel, task="embed")
            w = self.ensemble_weight
            yield key, w * proba + (1.0 - w) * self._quick.proba_for(X, self.labels)

    @property
    def _encoder_length(self) -> int:
        return int(self.card.hyperparameters.get("embedding_max_length", self.max_length))

    def _load_quick_encoder(self):
        """(tokenizer, fp32 encoder) of a two-encoder ensemble's quick half, loaded for this
        classifier alone (its precision may differ from the embedding cache's shared encoder)."""
        with self._lock:
            if self._encoder is None:
                from reviewtui.modeling.loading import load_encoder, load_tokenizer, resolve_model

                resolved = resolve_model(str(self.card.hyperparameters.get("embedding_model", self.card.base_model)))
                try:
                    encoder = load_encoder_sdpa(resolved)
                except (ValueError, ImportError, OSError):  # load_encoder words the error for the user
                    encoder = load_encoder(resolved)
                self._encoder = (load_tokenizer(resolved), encoder)
            return self._encoder

    def _shares_tokens(self) -> bool:
        """Whether the quick half's encoder reads the classifier's tokens (same vocabulary, same
        special tokens, same length): then one tokenised batch feeds both models."""
        enc_tok = self._encoder[0]
        if self._encoder_length != self.max_length:
            return False
        probe = "Hello World! 123 crashes, the UI's font... naïve ☺"
        try:
            return (enc_tok.get_vocab() == self._tokenizer.get_vocab()
                    and enc_tok(probe)["input_ids"] == self._tokenizer(probe)["input_ids"]
                    and enc_tok.pad_token_id == self._tokenizer.pad_token_id)
        except Exception:  # a tokenizer without get_vocab: take the safe path
            return False

    def predict_proba(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                      cancel: threading.Event | None = None) -> np.ndarray:
        """(N, K) float32 probabilities, columns in ``labels`` order, rows in input order.

        ``batch_size`` is used by quick models only (fine-tuned models batch by a token budget).
        Emits Progress("predict", done, total) (or "embed" for quick models). Raises Cancelled
        when ``cancel`` is set between batches.
        """
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if self.card.kind == "quick":
            self._ensure_loaded()
            return self._quick_proba(texts, on_event, cancel, batch_size)
        return next(self.predict_chunks([texts], on_event=on_event, cancel=cancel, total=len(texts)))

    def _quick_proba(self, texts, on_event, cancel, batch_size: int = BATCH_SIZE) -> np.ndarray:
        from reviewtui.modeling.embeddings import embed_texts

        hp = self.card.hyperparameters
        X = embed_texts(texts, str(hp.get("embedding_model", self.card.base_model)),
                        max_length=int(hp.get("embedding_max_length", self.max_length)), cache_dir=self.cache_dir,
                        batch_size=batch_size, on_event=on_event, cancel=cancel)
        return self._quick.proba_for(X, self.labels)

    def predict(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, on_event: EventSink | None = None,
                cancel: threading.Event | None = None) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts, batch_size=batch_size, on_event=on_event, cancel=cancel)
        return [self.labels[i] for i in proba.argmax(axis=1)] if len(proba) else []


def _permission_denied(exc: BaseException) -> PermissionError | None:
    """The PermissionError ``exc`` is or was raised from, if any."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        if isinstance(node, PermissionError):
            return node
        seen.add(id(node))
        node = node.__cause__ or node.__context__
    return None


def load_encoder_sdpa(resolved):
    """An fp32 encoder (AutoModel) with PyTorch's fused attention; raises ValueError/ImportError
    where the architecture has none."""
    from transformers import AutoModel

    from reviewtui.modeling.loading import hub_offline, quiet_transformers

    quiet_transformers()
    model = AutoModel.from_pretrained(resolved.path, local_files_only=resolved.is_local or hub_offline(),
                                      attn_implementation="sdpa")
    return model.float().eval()


def load_classifier(models_dir: Path, name: str | None = None, cache_dir: Path | None = None, *,
                    precision: str = "auto", device: str | None = None) -> SavedClassifier:
    """The model called ``name`` in ``models_dir``, or the newest one when ``name`` is None.

    Raises ReviewtuiError when there is no such model.
    """
    from reviewtui.modeling.card import list_cards

    models_dir = Path(models_dir)
    if name:
        return SavedClassifier.load(models_dir / name, cache_dir, precision=precision, device=device)
    cards = list_cards(models_dir)
    if not cards:
        raise ReviewtuiError(f"no trained model in {models_dir}: run reviewtui train first")
    return SavedClassifier.load(Path(cards[-1].path or models_dir / cards[-1].name), cache_dir,
                                precision=precision, device=device)
