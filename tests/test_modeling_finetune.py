"""Fine-tuning with the real Hugging Face Trainer on a tiny BERT, the model card, saved-model
inference, cancellation, NaN losses and the model history."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from modeling_fixtures import LABELS, make_frame, make_nan_model
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress
from reviewtui.modeling import Cancelled
from reviewtui.modeling.finetune import (TrainingDiverged, class_weights_for, fit_transformer, prepare_frame,
                                         split_frame, train_model)

FAST = {"epochs": 8, "learning_rate": 5e-3, "batch_size": 16, "early_stopping_patience": 8, "warmup_ratio": 0.0}


def test_split_is_the_original_projects_stratified_split():
    df = prepare_frame(make_frame(346, weights=[56, 75, 143, 72]), LABELS)
    train, val, test = split_frame(df)
    assert (len(train), len(val), len(test)) == (220, 56, 70)
    again = split_frame(df)
    assert list(again[2]["id"]) == list(test["id"])
    assert not set(train["id"]) & set(test["id"]) and not set(val["id"]) & set(test["id"])
    share = df["label"].value_counts(normalize=True)
    assert (test["label"].value_counts(normalize=True) - share).abs().max() < 0.03


def test_prepare_frame_keeps_training_categories_only():
    df = make_frame(12)
    df.loc[0, "label"] = "OTHER"
    df.loc[1, "skipped"] = True
    df.loc[2, "content"] = "   "
    out = prepare_frame(df, LABELS)
    assert len(out) == 9 and set(out["label"]) <= set(LABELS)
    with pytest.raises(ReviewtuiError, match="too little data"):
        split_frame(out.head(5))


def test_class_weights_only_when_imbalanced():
    assert class_weights_for(["A"] * 10 + ["B"] * 9, ["A", "B"]) is None
    w = class_weights_for(["A"] * 30 + ["B"] * 10, ["A", "B"])
    assert w == pytest.approx({"A": 40 / 60, "B": 40 / 20})
    assert class_weights_for(["A"] * 30 + ["B"] * 10, ["A", "B"], "none") is None


def test_train_model_saves_weights_tokenizer_and_card(tmp_path, tiny_bert):
    from reviewtui.modeling.inference import SavedClassifier

    df = make_frame(200, weights=[1, 1, 3, 1], seed=1)
    events = []
    card = train_model(df, models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
                       training=FAST, max_length=16, name="m1", dataset_version="dataset-2",
                       dataset_sha256="f" * 64, on_event=events.append, cache_dir=tmp_path / "cache")
    folder = tmp_path / "models" / "m1"
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert (folder / "quick_model.npz").is_file()  # the ensemble's quick half
    data = json.loads((folder / "model_card.json").read_text())
    assert data["dataset_version"] == "dataset-2" and data["dataset_sha256"] == "f" * 64
    assert data["labels"] == LABELS and data["taxonomy_keys"] == LABELS
    assert data["base_model"] == tiny_bert.name and data["base_source"] == "local"
    assert data["hyperparameters"]["learning_rate"] == 5e-3 and data["hyperparameters"]["max_length"] == 16
    assert data["class_weights"] is not None  # INTERFACE is three times as frequent
    assert data["splits"] == {"train": 128, "validation": 32, "test": 40}
    assert set(data["metrics"]) == {"accuracy", "precision_weighted", "recall_weighted", "f1_weighted",
                                    "precision_macro", "recall_macro", "f1_macro"}
    assert sorted(data["per_class"]) == sorted(LABELS)
    assert np.array(data["confusion_matrix"]).sum() == 40
    assert data["hardware"]["device"] in ("cpu", "cuda") and data["created_at"]
    assert len(data["history"]) == 8
    assert data["extra"]["finetuned_only_metrics"]["accuracy"] >= 0.7  # above the majority share (0.5): it learned
    assert data["extra"]["quick_only_metrics"]["accuracy"] >= 0.7
    assert card.metrics["accuracy"] >= 0.7
    assert any(isinstance(e, Progress) and e.task == "train" for e in events)
    assert any(isinstance(e, Notice) and "saved model m1" in e.text for e in events)
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]  # no temp folder left

    clf = SavedClassifier.load(folder, cache_dir=tmp_path / "cache")
    proba = clf.predict_proba(["paywall premium subscription price", "button font layout screen"] * 3, batch_size=4)
    assert proba.shape == (6, 4) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert np.allclose(SavedClassifier.load(folder).predict_proba(["button font layout screen"]), proba[1:2], atol=1e-4)
    assert clf.predict(["paywall premium subscription price"]) == ["SUBSCRIPTION"]
    clf.check_taxonomy(LABELS)
    with pytest.raises(ReviewtuiError, match="retrain"):
        clf.check_taxonomy(LABELS[:3])

    with pytest.raises(ReviewtuiError, match="already exists"):
        train_model(df, models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
                    training=FAST, name="m1")


def test_cancelled_training_saves_nothing(tmp_path, tiny_bert):
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, Progress) and event.task == "train" and event.done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS, model_spec=str(tiny_bert),
                    training={**FAST, "epochs": 50}, max_length=16, name="c1", on_event=sink, cancel=cancel)
    assert not (tmp_path / "models" / "c1").exists()
    assert not [p for p in (tmp_path / "models").iterdir()] if (tmp_path / "models").exists() else True


def test_nan_loss_raises_training_diverged(tmp_path, tiny_bert):
    broken = make_nan_model(tiny_bert, tmp_path / "nan-bert")
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))
    with pytest.raises(TrainingDiverged, match="learning rate"):
        fit_transformer(train, val, LABELS, str(broken), hp={"epochs": 2}, max_length=16)


def test_offline_hub_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ReviewtuiError, match="local folder"):
        train_model(make_frame(40), models_dir=tmp_path / "models", label_keys=LABELS,
                    model_spec="someone/not-cached-model")


def test_history_table_and_learning_curve(tmp_path, tiny_bert):
    from reviewtui.modeling.card import ModelCard
    from reviewtui.modeling.history import learning_curve, model_history

    models = tmp_path / "models"
    for name, version, f1, created in [("a", "dataset-10", 0.8, "2026-01-03"), ("b", "dataset-2", 0.6, "2026-01-01"),
                                       ("c", "dataset-2", 0.7, "2026-01-02")]:
        (models / name).mkdir(parents=True)
        ModelCard(name=name, kind="finetuned", base_model="minilm", base_source="package", labels=LABELS,
                  taxonomy_keys=LABELS, dataset_version=version, created_at=created,
                  metrics={"accuracy": f1 + 0.05, "f1_weighted": f1, "precision_weighted": f1,
                           "recall_weighted": f1}, splits={"test": 10}).save(models / name)
    (models / "junk").mkdir()
    rows = model_history(models)
    assert [r.name for r in rows] == ["b", "c", "a"]  # version 2 before 10, then by time
    curve = learning_curve(models)
    assert [(p.version, p.model, p.f1_weighted) for p in curve] == [("dataset-2", "c", 0.7), ("dataset-10", "a", 0.8)]
