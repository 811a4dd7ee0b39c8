"""The fast prediction path: the forward engine (token-budget batches tokenised on a thread, results
in input order), the one-pass ensemble, int8 against fp32, the precision rules and what a predict
run records."""

from __future__ import annotations

import copy
import csv
import json
import os
import random
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from modeling_fixtures import LABELS, default_C, make_frame, model_settings, training_settings

from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.modeling import Cancelled


@pytest.fixture(autouse=True)
def no_native_bf16(monkeypatch):
    """The tests run as on a CPU without native bf16, where "auto" never picks bf16 (emulated, it is
    slower than fp32) and the int8 rules apply; the bf16 tests turn it on."""
    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: False)


def train_fixture(folder, tiny_bert, features: str):
    from reviewtui.modeling.finetune import train_model

    training = training_settings(epochs=8, learning_rate=5e-3, batch_size=16, early_stopping_patience=8,
                                 warmup_ratio=0.0, ensemble_features=features)
    train_model(make_frame(200, seed=3), models_dir=folder, label_keys=LABELS, model=model_settings(tiny_bert, 32),
                training=training, quick_C=default_C(), name="ens")
    return folder / "ens"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bert):
    """A tiny BERT fine-tuned on the synthetic reviews, saved as the default ensemble (its quick
    half on the packaged MiniLM)."""
    return train_fixture(tmp_path_factory.mktemp("trained-models"), tiny_bert, "packaged")


@pytest.fixture(scope="module")
def trained_one_pass(tmp_path_factory, tiny_bert):
    """The same, saved as the one-pass ensemble (its quick half on the fine-tuned encoder)."""
    return train_fixture(tmp_path_factory.mktemp("one-pass-models"), tiny_bert, "finetuned")


def texts_of(n: int, seed: int = 0) -> list[str]:
    return list(make_frame(n, seed=seed)["content"])


def tiny_classifier(tiny_bert):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(tiny_bert)
    config.num_labels = 4
    torch.manual_seed(0)
    return BertForSequenceClassification(config).eval(), AutoTokenizer.from_pretrained(tiny_bert)


# --- the engine ----------------------------------------------------------------------------------
def test_plan_batches_covers_every_index_once_within_the_budget():
    from reviewtui.modeling.forward import plan_batches

    rng = random.Random(1)
    lengths = [rng.randint(1, 60) for _ in range(500)] + [200]
    batches = plan_batches(lengths, max_tokens=256, max_rows=16)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 16
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 256
    assert [len(b) for b in batches if 200 in [lengths[i] for i in b]] == [1]  # too long for the budget: alone
    # shortest first: short texts share big batches
    assert len(batches[0]) == 16 and len(batches[-1]) == 1


def test_the_engine_gives_the_plain_batched_probabilities_in_input_order(tiny_bert):
    from reviewtui.modeling.batching import predict_logits
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, forward_texts
    from reviewtui.modeling.metrics import softmax

    model, tok = tiny_classifier(tiny_bert)
    rng = random.Random(2)
    texts = [" ".join(rng.choice(["app", "font", "price", "stories", "crash"]) for _ in range(rng.randint(0, 40)))
             for _ in range(300)]
    want = softmax(predict_logits(model, tok, texts, max_length=32))
    events = []
    got = forward_texts(model, tok, texts, ClassifierHead(4), max_length=32,
                        plan=BatchPlan(max_tokens=300, max_rows=37, window=70), on_event=events.append)
    np.testing.assert_allclose(got, want, atol=1e-5)
    done = [e.done for e in events if isinstance(e, Progress)]
    assert done == sorted(done) and done[-1] == 300


def test_empty_windows_come_back_empty_and_the_backend_is_checked_on_the_first_texts(tiny_bert):
    from reviewtui.modeling import forward
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, run_forward

    model, tok = tiny_classifier(tiny_bert)
    texts = texts_of(90, seed=3)
    windows = [("none", []), ("a", texts[:50]), ("none again", []), ("b", texts[50:])]
    feeder = forward._Prefetcher(tok, windows, max_length=32, plan=BatchPlan(300, 37, 64), pin=False)
    feeder.start()
    items = []
    while (item := feeder.items.get(timeout=60)) is not forward._DONE:
        items.append(item)
        if item[0] == "end":
            feeder.window_taken()
    assert [i for i in items if i[0] == "end"] == [("end", "none", 0), ("end", "a", 50), ("end", "none again", 0),
                                                   ("end", "b", 40)]
    assert feeder.checked and feeder.backend is not None  # checked on "a"'s texts, not on the empty window
    times = forward.TIMES = forward.ForwardTimes()
    try:
        got = dict(run_forward(model, tok, windows, ClassifierHead(4), max_length=32, plan=BatchPlan(300, 37, 64)))
    finally:
        forward.TIMES = None
    assert [k for k in got] == ["none", "a", "none again", "b"]
    assert got["none"].shape == (0, 4) and got["a"].shape == (50, 4) and got["b"].shape == (40, 4)
    assert times.windows == 4 and times.texts == 90 and times.batches >= 3 and times.queuing > 0


def test_the_feeding_thread_stays_at_most_depth_windows_ahead(tiny_bert):
    import queue
    import time

    from reviewtui.modeling import forward
    from reviewtui.modeling.forward import BatchPlan

    _, tok = tiny_classifier(tiny_bert)
    texts = texts_of(200, seed=1)
    windows = [(i, texts[i:i + 20]) for i in range(0, len(texts), 20)]
    # (a plan window of 640 gives the queue room for 30 items: what holds the thread back is the depth)
    feeder = forward._Prefetcher(tok, windows, max_length=32, plan=BatchPlan(4096, 128, 640, depth=3), pin=False)
    feeder.start()
    time.sleep(1.5)  # ample for ten small windows, were it not held back
    held = []
    while True:
        try:
            held.append(feeder.items.get_nowait())
        except queue.Empty:
            break
    assert [i[1] for i in held if i[0] == "end"] == [0, 20, 40]  # three windows laid out, no more
    ends = 3
    for _ in range(3):
        feeder.window_taken()
    while (item := feeder.items.get(timeout=60)) is not forward._DONE:
        if item[0] == "end":
            ends += 1
            feeder.window_taken()
    assert ends == len(windows)


def prefetched(tok, texts, plan, **kw):
    from reviewtui.modeling.forward import _DONE, _Prefetcher

    feeder = _Prefetcher(tok, [("w", texts)], max_length=32, plan=plan, pin=False, **kw)
    feeder.run()  # on this thread: every item is in the queue afterwards
    items = []
    while (item := feeder.items.get_nowait()) is not _DONE:
        items.append(item)
    return feeder, items


def test_the_tokenizer_backend_gives_the_wrappers_batches_and_is_checked_against_it(tiny_bert):
    from reviewtui.modeling.forward import BatchPlan

    _, tok = tiny_classifier(tiny_bert)
    rng = random.Random(4)
    words = ["app", "font", "price", "stories", "crash", "Émoji 👍", "  ", "[SEP]", "unbelievably"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 60))) for _ in range(257)] + ["", "x" * 900]
    plan = BatchPlan(max_tokens=300, max_rows=37, window=1000)
    fast, got = prefetched(tok, texts, plan)
    assert fast.backend is not None  # the Rust backend did the work after its check
    want_ids = tok(texts, truncation=True, max_length=32)["input_ids"]
    seen = []
    for kind, key, idx, ids, mask in got[:-1]:
        assert kind == "batch" and ids.shape == mask.shape and ids.shape[0] == len(idx)
        for row, i in enumerate(idx):
            n = len(want_ids[i])
            assert ids[row, :n].tolist() == want_ids[i] and mask[row].tolist() == [1] * n + [0] * (ids.shape[1] - n)
            assert set(ids[row, n:].tolist()) <= {tok.pad_token_id}
        seen += list(idx)
    assert got[-1] == ("end", "w", len(texts)) and sorted(seen) == list(range(len(texts)))

    class Drifting:  # a backend whose ids differ from the wrapper's: the wrapper is used instead
        def __init__(self, inner):
            self.inner = inner

        def encode_batch(self, texts, add_special_tokens=True):
            return [type("E", (), {"ids": e.ids[:-1]})() for e in self.inner.encode_batch(texts, add_special_tokens=add_special_tokens)]

        encode_batch_fast = encode_batch

    slow, _ = prefetched(tok, texts, plan)
    slow.checked, slow.backend = False, Drifting(slow.backend)
    ids_all, mask_all, offsets, batches, widths = slow.layout(texts)
    assert slow.backend is None
    again = [(idx.tolist(), ids_all[offsets[b]:offsets[b + 1]].reshape(len(idx), w).tolist(),
              mask_all[offsets[b]:offsets[b + 1]].reshape(len(idx), w).tolist())
             for b, (idx, w) in enumerate(zip(batches, widths))]
    assert again == as_lists(got)


def as_lists(items):
    return [(b[2].tolist(), b[3].tolist(), b[4].tolist()) for b in items if b[0] == "batch"]


@pytest.mark.parametrize("implementation", ["sdpa", "eager"])
def test_the_additive_attention_mask_a_gpu_gets_computes_what_the_plain_mask_does(tiny_bert, implementation):
    import torch

    from reviewtui.modeling import forward
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, EmbeddingHead, forward_texts

    model, tok = tiny_classifier(tiny_bert)
    model.config._attn_implementation = implementation
    texts = texts_of(120, seed=5) + ["", "ok", "x " * 80]
    plan = BatchPlan(max_tokens=400, max_rows=40, window=64)
    plain = [forward_texts(model, tok, texts, head, max_length=32, plan=plan) for head in (ClassifierHead(4),
                                                                                          EmbeddingHead(32))]
    ids = torch.tensor([[101, 7, 102, 0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    assert forward.attention_mask_for(model, mask) is mask  # on the CPU the plain mask is kept
    dense = forward.attention_mask_for(model, mask, dense=True)
    assert dense.shape == (1, 1, 1, 4) and dense.dtype == torch.float32 and dense[0, 0, 0, :3].eq(0).all()
    assert float(dense[0, 0, 0, 3]) == torch.finfo(torch.float32).min
    half = copy.deepcopy(model).to(torch.bfloat16)
    assert forward.attention_mask_for(half, mask, dense=True).dtype == torch.bfloat16
    real = forward.attention_mask_for
    try:
        forward.attention_mask_for = lambda m, k: real(m, k, dense=True)
        got = [forward_texts(model, tok, texts, head, max_length=32, plan=plan) for head in (ClassifierHead(4),
                                                                                            EmbeddingHead(32))]
    finally:
        forward.attention_mask_for = real
    for a, b in zip(plain, got):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_the_engine_stops_on_cancel_and_reports_tokenizer_errors(tiny_bert):
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, forward_texts, run_forward

    model, tok = tiny_classifier(tiny_bert)
    cancel = threading.Event()

    def stop_soon(event):
        if isinstance(event, Progress) and event.done >= 20:
            cancel.set()

    before = threading.active_count()
    with pytest.raises(Cancelled):
        forward_texts(model, tok, texts_of(200), ClassifierHead(4), max_length=32,
                      plan=BatchPlan(max_tokens=100, max_rows=10, window=50), on_event=stop_soon, cancel=cancel)

    def broken():
        yield "a", ["fine"]
        raise ValueError("the source of texts broke")

    got = run_forward(model, tok, broken(), ClassifierHead(4), max_length=32)
    key, first = next(got)
    assert key == "a" and first.shape == (1, 4)
    with pytest.raises(ValueError, match="source of texts broke"):
        next(got)
    assert threading.active_count() <= before  # the tokenising threads ended


@pytest.fixture
def one_behind(monkeypatch):
    """Windows handed back one behind, as on a GPU, with the loop's timings recorded."""
    from reviewtui.modeling import forward

    monkeypatch.setattr(forward, "DEFER_ON_CPU", True)
    monkeypatch.setattr(forward, "TIMES", forward.ForwardTimes())
    return forward


def test_a_window_is_handed_back_once_the_next_windows_passes_are_queued(tiny_bert, one_behind):
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, run_forward

    model, tok = tiny_classifier(tiny_bert)
    texts = texts_of(150, seed=4)
    windows = [(start, texts[start:start + 50]) for start in range(0, 150, 50)]
    plan = BatchPlan(max_tokens=300, max_rows=37, window=50)
    one_behind.DEFER_ON_CPU = False
    want = dict(run_forward(model, tok, windows, ClassifierHead(4), max_length=32, plan=plan))
    one_behind.DEFER_ON_CPU = True
    one_behind.TIMES = times = one_behind.ForwardTimes()
    seen = []
    for key, values in run_forward(model, tok, windows, ClassifierHead(4), max_length=32, plan=plan):
        seen.append((key, times.windows))
        np.testing.assert_allclose(values, want[key], atol=1e-6)
    # the first two are handed back when the next window has ended; the last after the loop
    assert seen == [(0, 2), (50, 3), (100, 3)]


def test_one_behind_a_cancel_or_an_error_hands_back_the_finished_windows_first(tiny_bert, one_behind):
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, run_forward

    model, tok = tiny_classifier(tiny_bert)
    texts = texts_of(200, seed=5)
    windows = [(start, texts[start:start + 50]) for start in range(0, 200, 50)]
    plan = BatchPlan(max_tokens=100, max_rows=10, window=50)
    cancel = threading.Event()

    def stop_in_the_third_window(event):
        if isinstance(event, Progress) and event.done >= 110:
            cancel.set()

    got = []
    with pytest.raises(Cancelled):
        for key, values in run_forward(model, tok, windows, ClassifierHead(4), max_length=32, plan=plan,
                                       on_event=stop_in_the_third_window, cancel=cancel):
            got.append((key, len(values)))
    assert got == [(0, 50), (50, 50)]  # the second was still queued when the cancel came

    def broken():
        yield "a", texts[:30]
        raise ValueError("the source of texts broke")

    got = []
    with pytest.raises(ValueError, match="source of texts broke"):
        for key, values in run_forward(model, tok, broken(), ClassifierHead(4), max_length=32, plan=plan):
            got.append((key, len(values)))
    assert got == [("a", 30)]


def test_one_behind_a_device_that_fails_ends_the_run_with_its_error(tiny_bert, one_behind, monkeypatch):
    from reviewtui.modeling.forward import BatchPlan, ClassifierHead, run_forward

    class LostDevice:
        def record(self):
            pass

        def synchronize(self):
            raise RuntimeError("the device was lost")

    monkeypatch.setattr(one_behind, "_HostEvent", LostDevice)
    model, tok = tiny_classifier(tiny_bert)
    texts = texts_of(100, seed=6)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="device was lost"):
        list(run_forward(model, tok, [("a", texts[:50]), ("b", texts[50:])], ClassifierHead(4), max_length=32,
                         plan=BatchPlan(max_tokens=300, max_rows=37, window=50)))
    assert threading.active_count() <= before  # the feeding thread ended


def test_the_one_pass_head_is_the_mean_of_the_classifier_and_the_quick_model(tiny_bert):
    from reviewtui.modeling.forward import (ClassifierHead, EmbeddingHead, EnsembleHead, QuickWeights,
                                            forward_texts)
    from reviewtui.modeling.quick import QuickModel

    model, tok = tiny_classifier(tiny_bert)
    frame = make_frame(80, seed=4, labels=LABELS[:3])  # the quick half never saw USER_EXPERIENCE
    texts = list(frame["content"])
    X = forward_texts(model, tok, texts, EmbeddingHead(32), max_length=32)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    quick = QuickModel(C=10).fit(X, list(frame["label"]))
    got = forward_texts(model, tok, texts, EnsembleHead(QuickWeights.of(quick, LABELS)), max_length=32)
    p_head = forward_texts(model, tok, texts, ClassifierHead(4), max_length=32)
    np.testing.assert_allclose(got, (p_head + quick.proba_for(X, LABELS)) / 2, atol=1e-5)
    assert np.allclose(got.sum(1), 1, atol=1e-5)


# --- int8 and fp32 -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["trained", "trained_one_pass"])
def test_int8_and_fp32_agree_on_the_fixture(which, request):
    from reviewtui.modeling.card import load_card
    from reviewtui.modeling.inference import SavedClassifier

    trained = request.getfixturevalue(which)

    texts = texts_of(200, seed=11)
    fp32 = SavedClassifier.load(trained, precision="fp32", device="cpu")
    int8 = SavedClassifier.load(trained, precision="int8", device="cpu")
    p32, p8 = fp32.predict_proba(texts), int8.predict_proba(texts)
    assert fp32.precision == "fp32" and int8.precision == "int8"
    assert np.mean(p32.argmax(1) == p8.argmax(1)) >= 0.995
    assert np.abs(p32 - p8).max() < 0.05 and not np.array_equal(p32, p8)  # really another computation
    from reviewtui.modeling.precision import int8_backend

    # ONNX Runtime runs the classifier and, in the two-encoder ensemble, the quick half's encoder
    assert int8_backend(int8._runner) == "onnxruntime" and int8.choice.extra["backend"] == "onnxruntime"
    assert int8.one_pass == (which == "trained_one_pass")
    if not int8.one_pass:
        assert int8_backend(int8._encoder[1]) == "onnxruntime"
    check = load_card(trained).precision_checks["int8"]
    assert check["ok"] and check["agreement"] >= 0.995 and check["on"] == "validation and test splits"
    assert check["method"] == "onnxruntime" and 0.0 <= check["rechecked"] <= 1.0
    auto = SavedClassifier.load(trained, device="cpu")
    auto.predict_proba(texts[:5])
    assert auto.choice.precision == "int8" and auto.choice.check.rows == check["rows"]


def test_int8_computes_its_close_calls_again_in_fp32(trained, monkeypatch):
    from reviewtui.modeling.inference import SavedClassifier

    texts = texts_of(80, seed=13)
    p32 = SavedClassifier.load(trained, precision="fp32", device="cpu").predict_proba(texts)
    monkeypatch.setattr("reviewtui.modeling.precision.RECHECK_MARGIN", 0.0)
    plain = SavedClassifier.load(trained, precision="int8", device="cpu")
    p8 = plain.predict_proba(texts)
    assert plain.rechecked == 0 and not np.allclose(p8, p32, atol=1e-6)
    monkeypatch.setattr("reviewtui.modeling.precision.RECHECK_MARGIN", 1.01)  # every row is a close call
    every = SavedClassifier.load(trained, precision="int8", device="cpu")
    got = every.predict_proba(texts)
    assert every.rechecked == len(texts)
    np.testing.assert_allclose(got, p32, atol=1e-5)
    monkeypatch.setattr("reviewtui.modeling.precision.RECHECK_MARGIN", 0.15)
    some = SavedClassifier.load(trained, precision="int8", device="cpu")
    mixed = some.predict_proba(texts)
    from reviewtui.modeling.precision import close_calls

    close = close_calls(p8)
    assert some.rechecked == int(close.sum())
    np.testing.assert_allclose(mixed[close], p32[close], atol=1e-5)
    np.testing.assert_allclose(mixed[~close], p8[~close], atol=1e-6)


def test_close_calls_and_the_int8_check():
    from reviewtui.modeling.precision import PrecisionCheck, close_calls, current_checks

    proba = np.array([[0.50, 0.45, 0.05], [0.90, 0.05, 0.05], [0.40, 0.20, 0.40], [1.0, 0.0, 0.0]], dtype=np.float32)
    assert close_calls(proba).tolist() == [True, False, True, False]
    assert close_calls(np.ones((3, 1))).tolist() == [False, False, False]  # one class: nothing to recheck
    assert close_calls(np.zeros((0, 4))).shape == (0,)
    old = PrecisionCheck("int8", 1.0, 126, "validation and test splits", "cpu")  # before close calls
    new = PrecisionCheck.from_dict({**old.to_dict(), "rechecked": 0.1, "method": "onnxruntime"})
    bf16 = PrecisionCheck("bf16", 1.0, 126, "validation and test splits", "cpu")
    assert new.rechecked == 0.1 and new.method == "onnxruntime"
    assert current_checks({"int8": old, "bf16-cpu": bf16}) == {"bf16-cpu": bf16}
    assert current_checks({"int8": new}) == {"int8": new}


def test_the_int8_file_is_kept_in_the_cache_and_read_back(trained, tmp_path, monkeypatch, capfd):
    import logging

    from reviewtui.modeling.inference import SavedClassifier

    monkeypatch.delenv("REVIEWTUI_INT8_CACHE")
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in `reviewtui train`: no logging set up
    cache = tmp_path / "cache"
    texts = texts_of(30, seed=17)
    first = SavedClassifier.load(trained, cache_dir=cache, precision="int8", device="cpu")
    p1 = first.predict_proba(texts)
    # the quantiser's advice on the root logger neither reaches stderr nor leaves a handler behind
    assert "quantization" not in capfd.readouterr().err and logging.getLogger().handlers == []
    files = sorted((cache / "int8").iterdir())
    assert [f.suffix for f in files] == [".onnx", ".onnx"]  # the classifier and the quick half's encoder
    stamps = [f.stat().st_mtime_ns for f in files]
    second = SavedClassifier.load(trained, cache_dir=cache, precision="int8", device="cpu")
    np.testing.assert_allclose(second.predict_proba(texts), p1, atol=1e-6)
    assert sorted((cache / "int8").iterdir()) == files and [f.stat().st_mtime_ns for f in files] == stamps
    # a folder shared by the workspaces of the machine is looked in first, and written to
    shared = tmp_path / "shared"
    monkeypatch.setenv("REVIEWTUI_INT8_CACHE", str(shared))
    other = tmp_path / "other-cache"
    SavedClassifier.load(trained, cache_dir=other, precision="int8", device="cpu").predict_proba(texts)
    assert sorted(f.name for f in shared.iterdir()) == [f.name for f in files] and not (other / "int8").exists()
    shutil.rmtree(cache / "int8")
    SavedClassifier.load(trained, cache_dir=cache, precision="int8", device="cpu").predict_proba(texts)
    assert not (cache / "int8").exists()  # read from the shared folder


def test_the_export_leaves_the_model_in_eval_mode(tiny_bert, tmp_path):
    """torch's exporter puts the modules back in the mode of the module it traced: a model exported
    through a wrapper in training mode came back with its dropout on, and the same model then gave
    other outputs for the same texts."""
    import torch

    from reviewtui.modeling import onnx_int8

    model, tok = tiny_classifier(tiny_bert)
    model.config.hidden_dropout_prob = 0.5
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.5
    batch = tok(["the new layout is hard to read", "refund please"], return_tensors="pt", padding=True)
    with torch.inference_mode():
        before = model(**batch).logits
    onnx_int8._export(model, tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").stat().st_size > 0
    assert not any(m.training for m in model.modules())
    with torch.inference_mode():
        torch.testing.assert_close(model(**batch).logits, before)


def test_the_first_int8_predict_after_training_reads_the_files_the_check_wrote(tiny_bert, tmp_path, monkeypatch):
    """train's int8 check exports and quantises the model it trained; the model saved from it, loaded
    from its own folder (or from a copy of that folder), names the same file: no second export."""
    from reviewtui.modeling.finetune import train_model
    from reviewtui.modeling.inference import SavedClassifier

    monkeypatch.delenv("REVIEWTUI_INT8_CACHE")
    cache = tmp_path / "cache"
    training = training_settings(epochs=2, learning_rate=5e-3, batch_size=16, warmup_ratio=0.0)
    card = train_model(make_frame(120, seed=4), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 32), training=training, quick_C=default_C(), name="ens",
                       cache_dir=cache, check_texts=texts_of(20, seed=5))
    assert card.precision_checks["int8"]["method"] == "onnxruntime"
    files = sorted((cache / "int8").iterdir())
    assert [f.suffix for f in files] == [".onnx", ".onnx"]  # the classifier and the quick half's encoder
    stamps = [f.stat().st_mtime_ns for f in files]
    shutil.copytree(tmp_path / "models" / "ens", tmp_path / "copied")
    for folder in (tmp_path / "models" / "ens", tmp_path / "copied"):
        clf = SavedClassifier.load(folder, cache_dir=cache, precision="int8", device="cpu")
        assert clf.predict_proba(texts_of(12, seed=6)).shape == (12, len(LABELS))
        assert sorted((cache / "int8").iterdir()) == files and [f.stat().st_mtime_ns for f in files] == stamps


def test_int8_falls_back_to_torch_when_the_export_fails(trained, tmp_path, monkeypatch):
    from reviewtui.modeling import onnx_int8
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.precision import int8_backend

    monkeypatch.delenv("REVIEWTUI_INT8_CACHE")

    def broken(model, path):
        path.write_bytes(b"half an export")
        raise RuntimeError("an architecture the exporter cannot trace")

    monkeypatch.setattr(onnx_int8, "_export", broken)
    cache = tmp_path / "cache"
    clf = SavedClassifier.load(trained, cache_dir=cache, precision="int8", device="cpu")
    texts = texts_of(40, seed=19)
    got = clf.predict_proba(texts)
    assert clf.choice.extra["backend"] == "torch" and int8_backend(clf._runner) == "torch"
    assert list((cache / "int8").iterdir()) == []  # nothing half-written is left
    p32 = SavedClassifier.load(trained, precision="fp32", device="cpu").predict_proba(texts)
    assert np.mean(got.argmax(1) == p32.argmax(1)) >= 0.95


def test_auto_checks_an_unchecked_model_once_and_caches_it(trained, tmp_path):
    from reviewtui.modeling.card import load_card
    from reviewtui.modeling.inference import SavedClassifier

    folder = tmp_path / "old"
    shutil.copytree(trained, folder)
    card = load_card(folder)
    card.precision_checks = {}  # a model saved before the checks
    card.save(folder)
    cache = tmp_path / "cache"
    clf = SavedClassifier.load(folder, cache_dir=cache, device="cpu")
    clf.predict_proba(texts_of(60, seed=5))
    assert clf.choice.check is not None and clf.choice.check.rows == 60
    assert clf.choice.check.on == "the first 60 reviews predicted"
    cached = list((cache / "precision").glob("*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["int8"]["rows"] == 60
    again = SavedClassifier.load(folder, cache_dir=cache, device="cpu")
    again.prepare(["another text"])
    assert again.choice.check.rows == 60  # read from the cache, not checked on the new text


def test_choose_precision_rules():
    from reviewtui.modeling.precision import PrecisionCheck, choose_precision, validate_precision

    good = PrecisionCheck("int8", 1.0, 100, "validation and test splits", "cpu")
    bad = PrecisionCheck("int8", 0.98, 100, "validation and test splits", "cpu")
    assert choose_precision("auto", "cpu", {"int8": good}).precision == "int8"
    refused = choose_precision("auto", "cpu", {"int8": bad})
    assert refused.precision == "fp32" and "98.0%" in refused.reason
    assert choose_precision("auto", "cpu", {}).precision == "fp32"
    assert choose_precision("fp32", "cpu", {"int8": good}).precision == "fp32"
    assert choose_precision("int8", "cpu", {"int8": bad}).precision == "int8"  # asked for: honoured
    assert choose_precision("auto", "mps", {"int8": good}).precision == "fp32"
    assert PrecisionCheck("int8", 0.995, 200, "x", "cpu").ok and not PrecisionCheck("int8", 1.0, 0, "x", "cpu").ok
    with pytest.raises(ReviewtuiError, match="not one of auto, fp32, bf16, int8"):
        validate_precision("fp8")


def test_auto_prefers_bf16_on_a_cpu_with_native_bf16(monkeypatch):
    from reviewtui.modeling.precision import PrecisionCheck, check_key, choose_precision

    good = PrecisionCheck("int8", 1.0, 100, "validation and test splits", "cpu")
    bf16 = PrecisionCheck("bf16", 1.0, 100, "validation and test splits", "cpu")
    bad_bf16 = PrecisionCheck("bf16", 0.97, 100, "validation and test splits", "cpu")
    gpu_bf16 = PrecisionCheck("bf16", 1.0, 100, "validation and test splits", "cuda")
    assert check_key("bf16", "cpu") == "bf16-cpu" and check_key("bf16", "cuda") == "bf16"
    assert check_key("int8", "cpu") == "int8"
    # without native bf16, a CPU bf16 check is ignored
    assert choose_precision("auto", "cpu", {"int8": good, "bf16-cpu": bf16}).precision == "int8"
    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: True)
    chosen = choose_precision("auto", "cpu", {"int8": good, "bf16-cpu": bf16})
    assert chosen.precision == "bf16" and "native bf16" in chosen.reason and chosen.check is bf16
    refused = choose_precision("auto", "cpu", {"int8": good, "bf16-cpu": bad_bf16})
    assert refused.precision == "int8" and refused.reason.startswith("bf16 agreed with fp32 on 97.0%")
    assert choose_precision("auto", "cpu", {"bf16-cpu": bad_bf16}).precision == "fp32"
    # a GPU's bf16 check says nothing of the CPU's
    assert choose_precision("auto", "cpu", {"bf16": gpu_bf16}).precision == "fp32"


def test_training_checks_bf16_on_a_cpu_with_native_bf16(tiny_bert, monkeypatch):
    import torch

    from reviewtui.modeling.forward import ClassifierHead, forward_texts
    from reviewtui.modeling.precision import record_checks

    model, tok = tiny_classifier(tiny_bert)

    def run_factory(items):
        return lambda m: forward_texts(m, tok, items, ClassifierHead(4), max_length=32)

    texts = texts_of(40)
    assert set(record_checks(model, texts, run_factory, device="cpu", on="held out")) == {"int8"}
    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: True)
    checks = record_checks(model, texts, run_factory, device="cpu", on="held out")
    assert set(checks) == {"int8", "bf16-cpu"}
    assert checks["bf16-cpu"]["precision"] == "bf16" and checks["bf16-cpu"]["device"] == "cpu"
    assert checks["bf16-cpu"]["rows"] == 40 and checks["bf16-cpu"]["agreement"] >= 0.9
    assert next(model.parameters()).dtype == torch.float32  # the checked model stays as it was


def test_an_unchecked_model_on_a_cpu_with_native_bf16_checks_bf16_first(trained, tmp_path, monkeypatch):
    import torch

    from reviewtui.modeling.card import load_card
    from reviewtui.modeling.inference import SavedClassifier

    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: True)
    folder = tmp_path / "old"
    shutil.copytree(trained, folder)
    card = load_card(folder)
    card.precision_checks = {}
    card.save(folder)
    cache = tmp_path / "cache"
    texts = texts_of(60, seed=5)
    fp32 = SavedClassifier.load(folder, precision="fp32", device="cpu").predict_proba(texts)
    clf = SavedClassifier.load(folder, cache_dir=cache, device="cpu")
    got = clf.predict_proba(texts)
    cached = json.loads(next((cache / "precision").glob("*.json")).read_text())
    bf16 = cached["bf16-cpu"]
    assert bf16["precision"] == "bf16" and bf16["rows"] == 60 and bf16["device"] == "cpu"
    assert bf16["ok"]  # bf16 agreed with fp32 on the fixture: chosen, and int8 never checked
    assert clf.choice.precision == "bf16" and "int8" not in cached
    assert next(clf._runner.parameters()).dtype == torch.bfloat16
    assert np.mean(got.argmax(1) == fp32.argmax(1)) >= 0.995
    assert np.abs(got - fp32).max() < 0.05 and not np.array_equal(got, fp32)
    again = SavedClassifier.load(folder, cache_dir=cache, device="cpu")
    again.prepare(["another text"])
    assert again.choice.precision == "bf16" and again.choice.check.rows == 60  # read back, not checked again

    # where bf16 disagrees, int8 has its turn
    cached["bf16-cpu"] = {**bf16, "agreement": 0.9, "ok": False}
    next((cache / "precision").glob("*.json")).write_text(json.dumps(cached))
    third = SavedClassifier.load(folder, cache_dir=cache, device="cpu")
    third.prepare(texts)
    after = json.loads(next((cache / "precision").glob("*.json")).read_text())
    assert "int8" in after and third.choice.precision in ("int8", "fp32") and "bf16 agreed" in third.choice.reason


def test_int8_off_the_cpu_is_refused(tiny_bert):
    from reviewtui.modeling.precision import prepare_model

    model, _ = tiny_classifier(tiny_bert)
    with pytest.raises(ReviewtuiError, match="int8 prediction runs on the CPU only"):
        prepare_model(model, "int8", "cuda")


@pytest.mark.parametrize("shared", [True, False])
def test_the_two_encoder_ensemble_is_the_mean_of_both_halves(trained, tmp_path, shared):
    """With the same tokens (vocabulary and length) one tokenised batch feeds both models;
    otherwise the packaged encoder takes its own pass. Both give the two halves' mean."""
    from reviewtui.modeling.card import load_card
    from reviewtui.modeling.embeddings import embed_texts
    from reviewtui.modeling.forward import ClassifierHead, forward_texts
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.quick import QuickModel

    folder = tmp_path / "ens"
    shutil.copytree(trained, folder)
    card = load_card(folder)
    assert card.hyperparameters["embedding_model"] == "minilm" and card.hyperparameters["embedding_max_length"] == 128
    length = 32 if shared else 128  # the classifier reads 32 tokens
    card.hyperparameters["embedding_max_length"] = length
    card.save(folder)
    texts = texts_of(30, seed=8) + ["a much longer review " * 10]
    clf = SavedClassifier.load(folder, precision="fp32", device="cpu")
    got = clf.predict_proba(texts)
    assert not clf.one_pass and clf._shares_tokens() == shared
    p_ft = forward_texts(clf._runner, clf._tokenizer, texts, ClassifierHead(4), max_length=32)
    p_q = QuickModel.load(folder).proba_for(embed_texts(texts, "minilm", max_length=length), LABELS)
    np.testing.assert_allclose(got, (p_ft + p_q) / 2, atol=1e-4)


# --- what a run records --------------------------------------------------------------------------
def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_predict_records_the_precision_and_writes_parquet_parts(analysis_ws, trained):
    import pyarrow.parquet as pq

    ws = analysis_ws
    shutil.copytree(trained, ws.models_dir / "ens")
    seen_record = {}

    def sink(event):
        if isinstance(event, Progress) and event.detail.startswith("chunk 1/") and not seen_record:
            run_dir = next((ws.results_dir / ".predict").iterdir())
            seen_record.update(json.loads((run_dir / "run.json").read_text()))

    res = ws.predict(sentiment="none", chunk_size=16, on_event=sink)
    assert res.precision == "int8" and res.device == "cpu" and res.chunks == 4
    # the store holds what result.csv holds, handed over by the run rather than read back from the file
    in_file = {r["reviewId"]: (r["predicted_category"], float(r["confidence"])) for r in read_rows(res.path)}
    assert len(ws.store.predictions()) == 64 and ws.store.predictions() == in_file
    assert res.predictions is None  # handed to the store, not kept with the result
    assert seen_record["precision"]["precision"] == "int8" and seen_record["device"] == "cpu"
    meta = json.loads((ws.results_dir / "result.json").read_text())
    assert meta["precision"] == "int8" and meta["precision_info"]["check"]["ok"] and "predictions" not in meta
    assert "agrees with fp32" in meta["precision_info"]["reason"]
    assert meta["precision_info"]["backend"] == "onnxruntime"
    assert meta["precision_info"]["check"]["method"] == "onnxruntime"
    assert len(list(Path(os.environ["REVIEWTUI_INT8_CACHE"]).glob("*.onnx"))) >= 2  # the suite's shared folder
    rows = read_rows(res.path)
    table = pq.read_table(ws.results_dir / "result-parts").to_pandas()
    assert list(table.columns) == list(rows[0]) and len(table) == len(rows) == 64
    assert list(table["reviewId"]) == [r["reviewId"] for r in rows]
    assert list(table["predicted_category"]) == [r["predicted_category"] for r in rows]
    np.testing.assert_allclose(table["confidence"], [float(r["confidence"]) for r in rows], atol=1e-6)
    right = sum(r["predicted_category"] == ws.truth[r["reviewId"]] for r in rows)
    assert right >= 0.8 * 64  # the trained fixture learned the synthetic categories

    fp32 = ws.predict(sentiment="none", chunk_size=16, precision="fp32")
    assert fp32.precision == "fp32" and fp32.precision_info["reason"] == "asked for"
    agree = np.mean([a["predicted_category"] == b["predicted_category"] for a, b in zip(rows, read_rows(fp32.path))])
    assert agree >= 0.995
    with pytest.raises(ReviewtuiError, match="precision 'half' is not one of"):
        ws.predict(sentiment="none", precision="half")


def test_a_cancelled_fast_run_resumes_to_the_same_file(analysis_ws, trained):
    ws = analysis_ws
    shutil.copytree(trained, ws.models_dir / "ens")
    cancel = threading.Event()

    def stop_after_two(event):
        if isinstance(event, Progress) and event.detail.startswith("chunk 2/"):
            cancel.set()

    with pytest.raises(Cancelled, match="run it again to resume"):
        ws.predict(sentiment="vader", chunk_size=10, on_event=stop_after_two, cancel=cancel)
    run_dir = next((ws.results_dir / ".predict").iterdir())
    assert len(list(run_dir.glob("chunk-*.npz"))) == 2
    resumed = ws.predict(sentiment="vader", chunk_size=10)
    assert resumed.resumed_chunks == 2 and resumed.chunks == 7
    first = resumed.path.read_bytes()
    assert ws.predict(sentiment="vader", chunk_size=10).path.read_bytes() == first


def test_the_predict_command_takes_a_precision_and_says_it(analysis_ws, trained, capsys):
    from reviewtui.cli import main

    ws = analysis_ws
    shutil.copytree(trained, ws.models_dir / "ens")
    root = str(ws.root)
    assert main(["--workspace", root, "predict", "--sentiment", "none", "--precision", "fp32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["precision"] == "fp32" and out["precision_info"]["reason"] == "asked for"
    assert main(["--workspace", root, "predict", "--sentiment", "none"]) == 0
    assert "reviews with ens on cpu (int8 through onnxruntime) in" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--workspace", root, "predict", "--precision", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err
