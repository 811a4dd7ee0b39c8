"""Fine-tuning with the real Hugging Face Trainer on a tiny BERT, the model card, saved-model
inference, cancellation, NaN losses and the model history."""

from __future__ import annotations

import json
import math
import re
import threading

import numpy as np
import pytest

from modeling_fixtures import (LABELS, default_C, make_frame, make_nan_model, model_settings, training_settings)
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Notice, Progress
from reviewtui.modeling import Cancelled
from reviewtui.modeling.data import prepare_frame, split_dataset, split_frame
from reviewtui.modeling.finetune import (TrainingDiverged, class_weights_for, fit_transformer, train_model,
                                         warmup_steps_for)
from reviewtui.modeling.metrics import BestSoFar

FAST_OVER = {"epochs": 8, "learning_rate": 5e-3, "batch_size": 16, "early_stopping_patience": 8, "warmup_ratio": 0.0}
FAST = training_settings(**FAST_OVER)
#: The one timestamp format (reviewtui.files.utc_now): UTC ISO 8601 with milliseconds.
UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def test_split_is_the_original_projects_stratified_split():
    df = prepare_frame(make_frame(346, weights=[56, 75, 143, 72]), LABELS)
    train, val, test = split_frame(df)
    assert (len(train), len(val), len(test)) == (220, 56, 70)
    again = split_frame(df)
    assert list(again[2]["id"]) == list(test["id"])
    assert not set(train["id"]) & set(test["id"]) and not set(val["id"]) & set(test["id"])
    share = df["label"].value_counts(normalize=True)
    assert (test["label"].value_counts(normalize=True) - share).abs().max() < 0.03
    splits = split_dataset(make_frame(346, weights=[56, 75, 143, 72]), LABELS)
    assert splits.sizes == {"train": 220, "validation": 56, "test": 70} and splits.labels == LABELS
    assert list(splits.test["id"]) == list(test["id"])


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
    card = train_model(df, models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(tiny_bert, 16),
                       training=FAST, quick_C=default_C(), name="m1", dataset_version="dataset-2",
                       dataset_sha256="f" * 64, on_event=events.append, cache_dir=tmp_path / "cache",
                       check_texts=list(make_frame(30, seed=9)["content"]))
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
    assert data["hardware"]["device"] in ("cpu", "cuda") and UTC_MS.match(data["created_at"])
    assert data["hyperparameters"]["embedding_model"] == "minilm" and data["hyperparameters"]["select_metric"] == "accuracy"
    assert data["hyperparameters"]["ensemble_features"] == "packaged"  # the quick half on the packaged MiniLM
    # int8 checked against fp32 on the held-out rows (validation 32 + test 40) and the 30 check texts
    check = data["precision_checks"]["int8"]
    assert check["on"] == "validation and test splits and 30 reviews of the corpus"
    assert check["rows"] == 102 and 0 <= check["agreement"] <= 1 and check["ok"] == (check["agreement"] >= 0.995)
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
    # int8 (chosen when its check agreed) quantises activations per batch: another batch, close values
    assert np.allclose(SavedClassifier.load(folder).predict_proba(["button font layout screen"]), proba[1:2], atol=2e-3)
    exact = SavedClassifier.load(folder, precision="fp32")
    assert np.allclose(exact.predict_proba(["button font layout screen"]),
                       SavedClassifier.load(folder, precision="fp32").predict_proba(["x", "button font layout screen"])[1:],
                       atol=1e-5)
    assert clf.predict(["paywall premium subscription price"]) == ["SUBSCRIPTION"]
    clf.check_taxonomy(LABELS)
    with pytest.raises(ReviewtuiError, match="retrain"):
        clf.check_taxonomy(LABELS[:3])

    with pytest.raises(ReviewtuiError, match="already exists"):
        train_model(df, models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(tiny_bert, 16),
                    training=FAST, quick_C=default_C(), name="m1")


def test_cancelled_training_saves_nothing(tmp_path, tiny_bert):
    cancel = threading.Event()

    def sink(event):
        if isinstance(event, Progress) and event.task == "train" and event.done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                    model=model_settings(tiny_bert, 16), training=training_settings(**{**FAST_OVER, "epochs": 50}),
                    quick_C=default_C(), name="c1", on_event=sink, cancel=cancel)
    assert not (tmp_path / "models" / "c1").exists()
    assert not [p for p in (tmp_path / "models").iterdir()] if (tmp_path / "models").exists() else True


@pytest.mark.parametrize("job", [None, "20261202-a1b2"])
def test_a_long_training_says_its_wait_and_the_faster_ways_as_it_starts(tmp_path, tiny_bert, monkeypatch, job):
    """The split path (from [evaluation] cv_below labels on) fine-tunes every epoch with no estimate
    before it: 8k labels on two CPU cores is hours. Once the first steps give the pace, a training
    longer than LONG_TRAINING_S says how long, and the faster ways; run as a background job (its
    events going to the job's journal) it outlives the terminal already, and is stopped by
    `jobs cancel`, not Ctrl-C."""
    from reviewtui.modeling import progress

    monkeypatch.setattr(progress, "LONG_TRAINING_S", 0.0)
    monkeypatch.setattr(progress, "PACE_AFTER_S", 0.0)
    cancel = threading.Event()
    said = []

    def sink(event):
        if isinstance(event, Notice) and event.text.startswith("fine-tuning"):
            said.append(event.text)
            cancel.set()

    sink.job_id = job  # as a job's journal has (reviewtui.jobs.JournalSink)
    with pytest.raises(Cancelled):
        train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                    model=model_settings(tiny_bert, 16), training=training_settings(**{**FAST_OVER, "epochs": 50}),
                    quick_C=default_C(), name="long", on_event=sink, cancel=cancel)
    assert len(said) == 1
    assert re.match(rf"fine-tuning {tiny_bert.name} on 51 rows: about \d+ min more for 50 epochs at this pace "
                    r"\(early stopping may end it sooner\)\. Faster: `reviewtui train --quick`", said[0])
    assert "`--epochs N` trains fewer" in said[0]
    if job is None:
        assert said[0].endswith("`--detach` keeps it running after the terminal closes; Ctrl-C stops it, saving nothing")
    else:
        assert said[0].endswith(f"trains fewer; `reviewtui jobs cancel {job}` stops it, saving nothing")
        assert "--detach" not in said[0] and "Ctrl-C" not in said[0]


def test_nan_loss_raises_training_diverged(tmp_path, tiny_bert):
    broken = make_nan_model(tiny_bert, tmp_path / "nan-bert")
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))
    with pytest.raises(TrainingDiverged, match="learning rate"):
        fit_transformer(train, val, LABELS, model_settings(broken, 16), training_settings(epochs=2))


def test_offline_hub_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ReviewtuiError, match="local folder"):
        train_model(make_frame(40), models_dir=tmp_path / "models", label_keys=LABELS,
                    model=model_settings("someone/not-cached-model"), training=FAST, quick_C=default_C())


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


def test_the_best_model_of_a_version_is_chosen_among_scores_measured_alike(tmp_path):
    """A model scored on 18 test rows (0.83) was the version's best over one cross-validated over
    every label (0.72): scores of the two ways are not comparable; cross-validation wins."""
    from reviewtui.modeling.card import ModelCard
    from reviewtui.modeling.history import learning_curve

    models = tmp_path / "models"
    for name, f1, splits in [("split", 0.83, {"test": 18}), ("cv", 0.72, {"cv_folds": 3, "train": 90}),
                             ("cv-worse", 0.70, {"cv_folds": 3, "train": 90})]:
        (models / name).mkdir(parents=True)
        ModelCard(name=name, kind="quick", base_model="minilm", base_source="package", labels=LABELS,
                  taxonomy_keys=LABELS, dataset_version="dataset-2", created_at="2026-01-01",
                  metrics={"f1_weighted": f1}, splits=splits).save(models / name)
    (point,) = learning_curve(models)
    assert (point.model, point.f1_weighted, point.scored_on) == ("cv", 0.72, "3-fold CV over 90 labels")


@pytest.mark.parametrize("ratio", [0.25, 1.0])
def test_the_trainer_warms_up_for_the_ratio_of_its_total_steps(tmp_path, tiny_bert, monkeypatch, ratio):
    """[training] warmup_ratio is a share of the run in every transformers the project allows: the
    warm-up the Trainer's scheduler really uses is ceil(ratio x the Trainer's total steps). (Passed as
    warmup_steps, a ratio counted as 0 steps in transformers 4 and a ratio of 1.0 as one step in 5.)"""
    from transformers import Trainer

    seen = []
    original = Trainer.create_scheduler

    def create_scheduler(self, num_training_steps, optimizer=None):
        scheduler = original(self, num_training_steps, optimizer)
        seen.append((num_training_steps, scheduler))
        return scheduler

    monkeypatch.setattr(Trainer, "create_scheduler", create_scheduler)
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))  # 38 train rows
    fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                    training_settings(epochs=2, batch_size=8, warmup_ratio=ratio, learning_rate=1e-3))
    (total, scheduler), = seen
    assert total == 2 * math.ceil(len(train) / 8) == 10
    factor = scheduler.lr_lambdas[0]  # the linear schedule: k / warmup while warming up, then decaying
    warmup = 0 if factor(0) >= 1 else round(1 / factor(1))
    assert warmup == math.ceil(ratio * total) == warmup_steps_for(ratio, 2, len(train), 8)


def test_patience_counts_epochs_without_a_better_score_and_zero_never_stops():
    best: BestSoFar[int] = BestSoFar()
    assert best.offer((0.5, -1.0), 1) and best.offer((0.6, -1.2), 2)
    assert not best.offer((0.6, -1.3), 3) and not best.offer((0.4, -0.1), 4)
    assert best.item == 2 and best.since == 2
    assert best.out_of_patience(2) and not best.out_of_patience(3)
    assert not best.out_of_patience(0)  # [training] early_stopping_patience = 0: never stop early


def test_workspace_train_validates_its_overrides_before_loading_data(tmp_path):
    from tui_data import build_workspace

    ws = build_workspace(tmp_path / "ws", versions=False)
    try:
        with pytest.raises(ReviewtuiError, match=r"\[training\].*epochs must be between 1 and"):
            ws.train(training={"epochs": 0})
        with pytest.raises(ReviewtuiError, match="learnig_rate.*did you mean 'learning_rate'"):
            ws.train(training={"learnig_rate": 1e-3})
    finally:
        ws.close()


# --- the time budget of `reviewtui train` ([training] budget_s) -------------------------------------
def test_the_budget_plan_trains_every_epoch_fewer_or_part_of_one():
    from reviewtui.modeling.budget import budget_option, epochs_within, plan_for_budget, say_duration

    every = plan_for_budget(100, epochs=5, steps_per_epoch=10, step_s=1.0, eval_s=2.0)
    assert (every.epochs, every.max_steps, every.cut) == (5, None, False) and every.estimate_s == 60
    fewer = plan_for_budget(30, epochs=5, steps_per_epoch=10, step_s=1.0, eval_s=2.0)
    assert (fewer.epochs, fewer.max_steps, fewer.cut) == (2, None, True)  # 12 s an epoch
    part = plan_for_budget(8, epochs=5, steps_per_epoch=10, step_s=1.0, eval_s=2.0)
    assert (part.epochs, part.max_steps, part.cut) == (1, 6, True)  # 6 steps and the validation pass
    assert plan_for_budget(0.5, epochs=5, steps_per_epoch=10, step_s=1.0).max_steps == 1  # at least one step
    assert part.to_dict() == {"budget_s": 8, "asked_epochs": 5, "epochs": 1, "max_steps": 6, "estimated_epoch_s": 12,
                              "after_training_s": 0.0}
    assert [epochs_within(b, epochs=10, estimate_s=1000) for b in (2000, 1000, 450, 99)] == [10, 10, 4, 0]
    assert [budget_option(s) for s in (30, 2700, 3600, 13080)] == ["--budget 1m", "--budget 45m", "--budget 1h",
                                                                   "--budget 4h"]
    assert [say_duration(s) for s in (45, 600, 13080)] == ["45 s", "10 min", "3 h 38 min"]


def test_what_follows_a_training_is_priced_from_its_step_and_kept_out_of_its_share():
    """The test split's predictions, the quick half's embeddings and the precision checks (each
    encoder) are priced per text as shares of a training step's time per text; the training keeps
    the rest of the budget, and never less than a quarter of it."""
    from reviewtui.modeling.budget import (CHECK_SHARE, EMBED_SHARE, SCORE_SHARE, after_training_seconds,
                                           training_share)

    after = after_training_seconds(3.2, 32, scored=1000, embedded=500, checked=2000, encoders=2)
    assert after == pytest.approx(0.1 * (1000 * SCORE_SHARE + 500 * EMBED_SHARE + 4000 * CHECK_SHARE))
    assert after_training_seconds(3.2, 32, scored=1000) < after_training_seconds(3.2, 32, scored=1000, checked=1)
    assert after_training_seconds(3.2, 32) == 0
    assert training_share(600, 120) == 480
    assert training_share(600, 590) == 150  # a quarter of the budget at least


def test_a_budget_the_work_after_the_training_overruns_says_so_and_the_checks_take_a_sample(tmp_path, tiny_bert,
                                                                                            monkeypatch):
    """At 16 s a training step, 12 s of work after the training leave a 12 s budget's training 3 s
    (a quarter): a warning says the command runs past its budget. The precision checks run on at most
    CHECK_HELD_OUT held-out rows (here 12 of the 29), and the card says so."""
    from reviewtui.modeling import budget, precision

    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 16.0)
    monkeypatch.setattr(precision, "CHECK_HELD_OUT", 12)
    said = []
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="b",
                       budget_s=12, check_texts=["a review of the corpus"] * 3,
                       on_event=lambda e: said.append(e) if isinstance(e, Notice) else None)
    warning = next(e for e in said if e.level == "warning" and "past" in e.text)
    assert warning.text == ("the test split's predictions, the ensemble's quick half and the faster precisions' "
                            "checks after the training take about 12 s here: with the training's 3 s, this command "
                            "runs past its 12 s budget")
    assert card.extra["budget"]["after_training_s"] == pytest.approx(
        16 * budget.SCORE_SHARE + 80 * budget.EMBED_SHARE + 15 * 2 * budget.CHECK_SHARE, abs=0.06)
    check = card.precision_checks["int8"]
    assert check["rows"] == 15 and check["on"] == "12 rows of the validation and test splits and 3 reviews of the corpus"


def test_a_deadline_stops_the_training_scores_the_partial_epoch_and_keeps_the_best_weights(tiny_bert):
    """A pace slower than the plan cannot overrun the budget: at the deadline the step under way
    ends, the partial epoch is scored on the validation split like a whole one, and the training
    returns with what it has."""
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))  # 38 train rows: 5 steps of 8
    events = []
    fit = fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                          training_settings(epochs=4, batch_size=8, learning_rate=1e-3), deadline_s=0.0,
                          on_event=events.append)
    assert fit.stopped_at_deadline == pytest.approx(0.2) and fit.epochs_trained == pytest.approx(0.2)
    assert [row["epoch"] for row in fit.history] == [0.2] and fit.best_epoch == 0.2
    assert fit.validation_metrics["epoch"] == 0.2 and 0.0 <= fit.validation_metrics["accuracy"] <= 1.0
    assert [e.text for e in events if isinstance(e, Notice)][-1].startswith("epoch 0.2: validation accuracy")
    # without a deadline the same training runs its four epochs
    whole = fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                            training_settings(epochs=4, batch_size=8, learning_rate=1e-3))
    assert whole.stopped_at_deadline is None and [r["epoch"] for r in whole.history] == [1.0, 2.0, 3.0, 4.0]


def test_max_steps_trains_one_pass_over_part_of_the_rows(tiny_bert):
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))
    events = []
    fit = fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                          training_settings(epochs=4, batch_size=8, learning_rate=1e-3), max_steps=3,
                          on_event=events.append)
    assert fit.epochs_trained == pytest.approx(0.6) and [r["epoch"] for r in fit.history] == [0.6]
    assert fit.best_epoch == 0.6
    assert [e.done for e in events if isinstance(e, Progress) and e.task == "train"] == [1, 2, 3]
    assert {e.total for e in events if isinstance(e, Progress) and e.task == "train"} == {3}


def test_a_cancelled_training_does_not_score_the_validation_split_first(tiny_bert):
    """Ctrl+X in the app took some 20 s on thousands of labels: the Trainer still scored the
    validation split at the end of the epoch it was stopped in, for nothing."""
    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))
    cancel = threading.Event()
    cancel.set()
    events = []
    with pytest.raises(Cancelled):
        fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                        training_settings(epochs=4, batch_size=8), cancel=cancel, on_event=events.append)
    assert not [e for e in events if isinstance(e, Notice) and "validation accuracy" in e.text]


def test_train_model_plans_the_epochs_that_fit_its_budget(tmp_path, tiny_bert, monkeypatch):
    """From the time of a training step (here fixed at 1.6 s): 51 train rows in batches of 16 are 4
    steps, and 13 validation rows scored at a third of a step's time per text 0.43 s: 6.8 s an
    epoch. What follows the training is priced first (0.1 s a row: 16 test rows predicted, 80
    embedded for the quick half, 29 held-out rows checked by both encoders: 1.7 s) and kept out; the
    plan fills nine tenths of the rest: 18 s fits 2 of the 8 epochs asked; 6 s not one, so one pass
    of 2 steps."""
    from reviewtui.modeling import budget

    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 1.6)
    said = []
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="b2",
                       budget_s=18, on_event=lambda e: said.append(e.text) if isinstance(e, Notice) else None)
    assert card.extra["budget"] == {"budget_s": 18, "asked_epochs": 8, "epochs": 2, "max_steps": None,
                                    "estimated_epoch_s": 6.8, "after_training_s": 1.7, "fits_all_s": 62.4}
    assert card.hyperparameters["epochs"] == 2 and card.epochs_trained <= 2
    plan = next(t for t in said if "budget fits" in t)
    assert plan == ("8 epochs on 51 rows would take about 55 s here, and what follows it about 2 s; the 18 s budget "
                    "fits 2 epochs, which this training runs (`--budget 2m`, `--budget none` or [training] budget_s "
                    "trains them all)")
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="b0",
                       budget_s=6)
    assert card.extra["budget"]["max_steps"] == 2 and card.epochs_trained == pytest.approx(0.5)
    from reviewtui import presentation as say

    assert say.evaluation_lines(card)[-1] == ("Within the 6 s budget ([training] budget_s) the fine-tune trained one "
                                              "pass over 32 of the 51 training rows; `--budget 2m` trains them all.")
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="b70",
                       budget_s=70)  # every epoch fits: the card says so
    assert card.extra["budget"]["epochs"] == 8 and card.hyperparameters["epochs"] == 8
    assert say.budget_sentence(card) is None  # nothing cut: nothing said
    # no budget: every epoch, and no record of one
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="all")
    assert "budget" not in card.extra and card.hyperparameters["epochs"] == 8


class FakeClock:
    """time for :mod:`reviewtui.modeling.finetune`: every perf_counter() call is one second later."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("deadline", [5.5, 7.0])
def test_a_deadline_passed_in_an_epochs_last_step_stops_at_its_end(tiny_bert, monkeypatch, deadline):
    """The deadline is read after every step, at every epoch's end and after every validation pass:
    one passed while the epoch's last step ran (5.5 clock seconds) or while its validation split was
    scored (7) stops there, with the epoch whole (not one step into the next, and the validation
    pass run twice)."""
    from types import SimpleNamespace

    from reviewtui.modeling import finetune

    train, val, _ = split_frame(prepare_frame(make_frame(60), LABELS))  # 38 rows: 5 steps of 8
    clock = FakeClock()
    monkeypatch.setattr(finetune, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    fit = fit_transformer(train, val, LABELS, model_settings(tiny_bert, 16),
                          training_settings(epochs=4, batch_size=8, learning_rate=1e-3), deadline_s=deadline)
    assert fit.stopped_at_deadline == 1.0 and [r["epoch"] for r in fit.history] == [1.0] and fit.best_epoch == 1


def test_train_model_stops_at_its_budget_and_says_so(tmp_path, tiny_bert, monkeypatch):
    """A pace slower than the plan: the plan fits every epoch, the deadline stops the training in
    epoch 2 (one clock second a step, an epoch's end and its validation), the best epoch is kept,
    and the card and a warning say it."""
    from types import SimpleNamespace

    from reviewtui import presentation as say
    from reviewtui.modeling import finetune
    from reviewtui.modeling import budget

    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 1e-6)
    clock = FakeClock()
    monkeypatch.setattr(finetune, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    said = []
    card = train_model(make_frame(80), models_dir=tmp_path / "models", label_keys=LABELS,
                       model=model_settings(tiny_bert, 16), training=FAST, quick_C=default_C(), name="late",
                       budget_s=8, on_event=lambda e: said.append(e) if isinstance(e, Notice) else None)
    budget = card.extra["budget"]
    assert budget["epochs"] == 8 and budget["stopped_at_epoch"] == pytest.approx(1.5)  # 4 steps an epoch
    assert [r["epoch"] for r in card.history] == [1.0, 1.5]
    warning = next(e for e in said if e.level == "warning")
    assert warning.text.startswith("stopped at the 8 s budget in epoch 1.50; kept the weights of epoch ")
    assert budget["rows_seen"] == 76  # 1.5 epochs of 51 rows
    assert say.budget_sentence(card).startswith("The 8 s budget ([training] budget_s) stopped the fine-tune in "
                                                "epoch 1.50 of 8 (76 rows seen), slower than planned; `--budget ")


def test_a_training_step_is_timed_on_the_model_and_texts_given(tiny_bert):
    """The plan's pace: real steps of the model with a head on the device training uses."""
    from reviewtui.modeling import budget

    seconds = budget.train_step_seconds(str(tiny_bert), ["short", "a somewhat longer review text"] * 5,
                                        max_length=16, batch_size=4, steps=2)
    assert 0 < seconds < 30
    from modeling_fixtures import training_settings as ts
    from reviewtui.modeling.selection import Context, Data, FineTuneCandidate

    data = Data.from_frame(make_frame(60), LABELS)
    timed = FineTuneCandidate("x", ts(epochs=2, batch_size=8), step_s=1.0)
    ctx = Context(None)
    assert timed.estimate(data, 3, ctx) + timed.final_estimate(data, ctx) == pytest.approx(2 * (3 * 5 + 2.5 + 8))
    with pytest.raises(ReviewtuiError):
        budget.train_step_seconds(str(tiny_bert.parent / "no-such-model"), ["x"], max_length=16, batch_size=4)
