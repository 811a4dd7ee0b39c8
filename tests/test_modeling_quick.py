"""Cached sentence embeddings (real MiniLM) and the quick model."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

from modeling_fixtures import LABELS, default_C, make_frame, model_settings
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.modeling import Cancelled
from reviewtui.modeling import embeddings as emb
from reviewtui.modeling.embeddings import EmbeddingCache
from reviewtui.modeling.quick import QuickModel

TEXTS = [
    "i have to pay for a subscription to read anything",
    "the premium membership is too expensive",
    "the font is tiny and the dark mode button is broken",
    "great stories and interesting writers",
    "i have to pay for a subscription to read anything",  # a duplicate
]


def test_embeddings_are_normalised_cached_and_in_input_order(tmp_path, monkeypatch):
    events = []
    cache = EmbeddingCache(tmp_path, "minilm", max_length=64)
    X = cache.embed(TEXTS, on_event=events.append, batch_size=2)
    assert X.shape == (5, 384) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert np.allclose(X[0], X[4])
    # the two subscription complaints are closer to each other than to the interface one
    assert X[0] @ X[1] > X[0] @ X[2]
    # progress counts the 5 texts asked for (the duplicate is ready once its twin is), 4 are encoded
    assert isinstance(events[-1], Progress) and events[-1].done == events[-1].total == 5
    assert events[0].done == 1 + 2 and len(cache) == 4

    # a fresh cache object reads the vectors from disk without loading the model
    monkeypatch.setattr(emb, "load_encoder_cached", lambda *_: pytest.fail("model loaded for cached texts"))
    again = EmbeddingCache(tmp_path, "minilm", max_length=64).embed(list(reversed(TEXTS)))
    assert np.allclose(again, X[::-1], atol=1e-6)


def test_embedding_matches_batch_of_one(tmp_path):
    """Length-sorted batching with padding gives the same vector as encoding a text alone."""
    a = EmbeddingCache(tmp_path / "a", "minilm", precision="fp32").embed(TEXTS[:4], batch_size=4)
    b = np.vstack([EmbeddingCache(tmp_path / "b", "minilm", precision="fp32").embed([t]) for t in TEXTS[:4]])
    assert np.allclose(a, b, atol=1e-4)


def test_where_bf16_is_native_the_cache_encodes_with_a_bf16_copy(tmp_path, monkeypatch):
    import torch

    from reviewtui.modeling.loading import resolve_model

    monkeypatch.setattr("reviewtui.modeling.loading.best_device", lambda: "cpu")  # a GPU encodes as loaded
    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: True)
    fp32 = EmbeddingCache(tmp_path / "a", "minilm", precision="fp32")
    X32 = fp32.embed(TEXTS)
    assert fp32.encoded_in == "fp32"
    auto = EmbeddingCache(tmp_path / "b", "minilm")
    X16 = auto.embed(TEXTS)
    assert auto.encoded_in == "bf16" and X16.dtype == np.float32
    assert np.allclose(np.linalg.norm(X16, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(X16, X32, atol=1e-6)  # really another computation
    assert (X16 * X32).sum(1).min() > 0.99  # and the same direction
    _, shared = emb.load_encoder_cached(resolve_model("minilm"))
    assert next(shared.parameters()).dtype == torch.float32  # the encoder the models read stays fp32

    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: False)
    plain = EmbeddingCache(tmp_path / "c", "minilm")
    assert np.allclose(plain.embed(TEXTS), X32, atol=1e-6) and plain.encoded_in == "fp32"
    with pytest.raises(ReviewtuiError, match="embedding precision 'half' is not one of auto, fp32"):
        EmbeddingCache(tmp_path / "d", "minilm", precision="half")


def test_embedding_cancel_raises(tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        EmbeddingCache(tmp_path, "minilm").embed(["one text", "another"], cancel=cancel)


def _blobs(n: int, k: int = 4, d: int = 384, seed: int = 0, rank: int = 24):
    """Embedding-like data: clusters in a low-rank subspace of a 384-d space, L2-normalised
    (sentence embeddings of reviews are far from isotropic noise)."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, d))
    centres = rng.normal(size=(k, rank))
    y = rng.integers(0, k, n)
    X = (centres[y] + rng.normal(size=(n, rank))) @ basis + rng.normal(scale=0.5, size=(n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), [LABELS[i] for i in y]


def test_quick_model_fits_1000_labels():
    X, y = _blobs(1000)
    model = QuickModel().fit(X, y)  # its speed is measured in bench/, not asserted here
    proba = model.predict_proba(X)
    assert proba.shape == (1000, 4)
    assert np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert model.classes_ == sorted(LABELS)
    assert np.mean(np.array(model.predict(X)) == np.array(y)) > 0.9


def test_quick_model_save_load_roundtrip(tmp_path):
    X, y = _blobs(200)
    model = QuickModel(C=3.0).fit(X, y)
    path = model.save(tmp_path / "qm")
    loaded = QuickModel.load(tmp_path / "qm")
    assert path.name == "quick_model.npz"
    assert loaded.classes_ == model.classes_ and loaded.C == 3.0
    assert np.allclose(loaded.predict_proba(X), model.predict_proba(X))
    with open(path, "r+b") as fh:  # cut short (a copy interrupted, a full disk): predict's traceback was zipfile's
        fh.truncate(100)
    with pytest.raises(ReviewtuiError, match=r"quick_model.npz is not a reviewtui quick model .*; delete it and retrain"):
        QuickModel.load(tmp_path / "qm")


def test_quick_model_two_classes_and_errors(tmp_path):
    X, y = _blobs(100, k=2)
    model = QuickModel().fit(X, y)
    assert model.predict_proba(X).shape == (100, 2)
    assert np.mean(np.array(model.predict(X)) == np.array(y)) > 0.9
    with pytest.raises(ReviewtuiError, match="at least two categories"):
        QuickModel().fit(X[:5], ["CONTENT"] * 5)
    with pytest.raises(ReviewtuiError, match="width"):
        model.predict_proba(np.zeros((2, 10), np.float32))
    with pytest.raises(ReviewtuiError, match="no quick model"):
        QuickModel.load(tmp_path / "missing")


def test_train_quick_saves_a_model_that_saved_classifier_predicts_with(tmp_path):
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.quick import train_quick

    df = make_frame(60)
    card = train_quick(df, models_dir=tmp_path / "models", label_keys=LABELS, cache_dir=tmp_path / "cache",
                       model=model_settings("minilm"), C=default_C(), name="q1", dataset_version="dataset-3",
                       dataset_sha256="abc")
    assert card.kind == "quick" and card.labels == LABELS and card.taxonomy_keys == LABELS
    assert card.hyperparameters["C"] == default_C() and card.hyperparameters["max_length"] == 128
    assert card.splits == {"train": 48, "validation": 0, "test": 12}
    # the one timestamp format of every output (reviewtui.files.utc_now): UTC, milliseconds
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", card.created_at)
    assert card.metrics["accuracy"] >= 0.75  # the categories are told apart by their words
    assert sum(map(sum, card.confusion_matrix)) == card.splits["test"]
    # the fit takes a moment; embedding the reviews before it is most of the wait, and is said too
    from reviewtui.presentation import card_sentence

    assert card.extra["embedding"]["texts"] == 60 and card.extra["embedding"]["seconds"] > 0
    assert re.search(r"trained on dataset-3 in \d+\.\ds \(\d+\.\ds embedding 60 reviews, \d+\.\ds fitting\): test "
                     "accuracy", card_sentence(card)), card_sentence(card)
    clf = SavedClassifier.load(tmp_path / "models" / "q1", cache_dir=tmp_path / "cache")
    proba = clf.predict_proba(["the paywall and premium price", "font and layout crash"])
    assert proba.shape == (2, 4) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert clf.predict(["the paywall and premium price subscription"]) == ["SUBSCRIPTION"]
    no_cache = SavedClassifier.load(tmp_path / "models" / "q1")
    # the same model without the cache: the same probabilities, within what bf16 (chosen on a CPU
    # that computes it natively) moves with the batch's padding
    again = no_cache.predict_proba(["font and layout crash"])
    assert np.allclose(again, proba[1:], atol=2e-3) and again.argmax() == proba[1].argmax()


def test_an_ensemble_whose_fine_tune_adds_nothing_is_said_so_where_its_scores_are_shown(tmp_path, capsys):
    """A short fine-tune on a few labels: alone it scores far below the quick part, the ensemble
    scores as the quick part does, and prediction pays its forward pass for nothing. Training and
    `models` say so, and what to do; an ensemble the fine-tune helps reads as before."""
    import json

    from reviewtui.cli import render
    from reviewtui.modeling.card import ModelCard
    from reviewtui.modeling.history import idle_finetune, model_history
    from reviewtui.presentation import ensemble_sentence

    def card(name: str, alone: float, ensemble: float) -> ModelCard:
        c = ModelCard(name, "finetuned", "minilm", "packaged", LABELS, LABELS, "dataset-2",
                      metrics={"accuracy": ensemble},
                      extra={"finetuned_only_metrics": {"accuracy": alone}, "quick_only_metrics": {"accuracy": 0.769}})
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_card.json").write_text(json.dumps(c.to_dict()), encoding="utf-8")
        return c

    idle, useful = card("short", 0.346, 0.769), card("long", 0.81, 0.84)
    assert idle_finetune(idle) == (0.346, 0.769) and idle_finetune(useful) is None
    said = ensemble_sentence(idle)
    assert said.startswith("The fine-tuned part of short adds nothing: accuracy 0.346 alone, against 0.769 for its "
                           "quick part; the ensemble 0.769.") and "`reviewtui train --quick`" in said
    assert ensemble_sentence(useful).startswith("Ensemble of the fine-tuned model (accuracy 0.810)")
    render.models(model_history(tmp_path), [])
    out = " ".join(capsys.readouterr().out.split())
    assert "The fine-tuned part of short adds nothing" in out and "part of long" not in out
