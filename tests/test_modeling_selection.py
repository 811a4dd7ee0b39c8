"""Cross-validated scoring, the final fit on all labels and the automatic choice, on a tiny BERT and
synthetic reviews (real Trainer, real embedding cache, real logistic regression)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from modeling_fixtures import LABELS, make_frame
from reviewtui.errors import ReviewtuiError
from reviewtui.events import EpochProgress, Notice, TrialUpdate
from reviewtui.modeling import selection as sel
from reviewtui.modeling.progress import EpochMeter
from reviewtui.modeling.metrics import softmax
from reviewtui.settings import AutoSettings, EvaluationSettings, TrainingSettings

FAST = TrainingSettings(epochs=6, learning_rate=5e-3, batch_size=8, warmup_ratio=0.0, seed=1)


def test_stratified_folds_are_seeded_disjoint_and_cover_every_row():
    labels = ["a"] * 12 + ["b"] * 8 + ["c"] * 5
    folds = sel.stratified_folds(labels, 5, seed=3)
    assert len(folds) == 5
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests) == list(range(25))
    for tr, te in folds:
        assert not set(tr) & set(te) and {labels[i] for i in te} == {"a", "b", "c"}
    again = sel.stratified_folds(labels, 5, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    assert len(sel.stratified_folds(["a"] * 10 + ["b"] * 3, 5, 0)) == 3  # k lowered to the rarest count
    with pytest.raises(ReviewtuiError, match="at least 2 labels per category; b has only 1 label: .* leave it out"):
        sel.stratified_folds(["a"] * 10 + ["b"], 5, 0)
    with pytest.raises(ReviewtuiError, match=r"b, c and d have only 1 label each: .* leave them out of training "
                                             r"\(reviewtui categories set b --no-train\) and \(reviewtui categories"):
        sel.stratified_folds(["a"] * 10 + ["b", "c", "d"], 5, 0)
    with pytest.raises(ReviewtuiError, match="two categories"):
        sel.stratified_folds(["a"] * 10, 5, 0)


def test_the_rows_of_a_repeated_text_are_in_one_fold():
    """Real corpora repeat short reviews ("good app"): with a repeat on both sides of a fold, a
    model scored 1.000 on random labels of 24 texts written 8 times each."""
    rng = np.random.default_rng(0)
    texts = [f"text {i % 24}" if i % 3 else f"Text  {i % 24} " for i in range(192)]  # case and spacing aside
    labels = [str(rng.choice(["a", "b", "c"])) for _ in texts]
    folds = sel.stratified_folds(labels, 5, seed=1, texts=texts)
    assert len(folds) == 5 and sorted(np.concatenate([te for _, te in folds])) == list(range(192))
    for tr, te in folds:
        key = lambda i: " ".join(texts[i].lower().split())  # noqa: E731
        assert not {key(i) for i in tr} & {key(i) for i in te}
    distinct = [f"review {i}" for i in range(25)]  # no repeat: the folds are those without texts
    plain = ["a"] * 12 + ["b"] * 8 + ["c"] * 5
    assert all((a[1] == b[1]).all() for a, b in zip(sel.stratified_folds(plain, 5, 3, distinct),
                                                    sel.stratified_folds(plain, 5, 3)))
    with pytest.raises(ReviewtuiError, match="same text"):
        sel.stratified_folds(["a", "b"] * 5, 5, 0, texts=["good"] * 10)


def test_use_cross_validation_below_the_threshold():
    ev = EvaluationSettings(cv_below=3000)
    assert sel.use_cross_validation(346, ev) and not sel.use_cross_validation(3000, ev)


def test_cv_objective_prefers_an_edge_on_every_fold_to_one_lucky_fold():
    steady = [{"f1_macro": v, "log_loss": 0.5} for v in (0.80, 0.81, 0.80, 0.81, 0.80)]
    lucky = [{"f1_macro": v, "log_loss": 0.5} for v in (0.70, 0.70, 0.95, 0.86, 0.83)]  # higher mean
    assert np.mean([f["f1_macro"] for f in lucky]) > np.mean([f["f1_macro"] for f in steady])
    assert sel.cv_objective(steady) > sel.cv_objective(lucky)
    assert sel.cv_objective([]) == -np.inf


def test_parse_budget():
    assert sel.parse_budget("30m") == 1800 and sel.parse_budget("1h30m") == 5400
    assert sel.parse_budget("90s") == 90 and sel.parse_budget("600") == 600 and sel.parse_budget(45) == 45
    for bad in ("", "soon", "0", "-5m"):
        with pytest.raises(ReviewtuiError, match="budget"):
            sel.parse_budget(bad)


def test_epoch_meter_reports_steps_rate_and_eta_per_epoch():
    now = [0.0]
    events = []
    meter = EpochMeter(events.append, "train", epochs=2, steps_per_epoch=4, batch_size=8, samples=30,
                       min_interval=0.0, clock=lambda: now[0])
    for step in range(1, 9):
        now[0] += 0.5
        meter.step(step)
    assert [(e.epoch, e.step) for e in events] == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 3), (2, 4)]
    assert events[1].samples_per_s == pytest.approx(16 / 1.0) and events[1].eta_s == pytest.approx(1.0)
    assert events[3].eta_s == 0 and events[3].samples_per_s == pytest.approx(30 / 2.0)
    assert events[4].eta_s == pytest.approx(1.5)  # the second epoch's clock starts at the first one's end
    throttled = EpochMeter(events.append, "t", epochs=1, steps_per_epoch=100, batch_size=1, samples=100,
                           min_interval=10.0, clock=lambda: now[0])
    assert throttled.step(1) is not None and throttled.step(2) is None and throttled.step(100) is not None


def test_epoch_meter_says_a_long_training_once_from_the_pace_of_its_first_steps():
    """8k labels on two CPU cores: 10 epochs of 319 steps at 5 s a step. The wait is said once, after
    the pace is measured, while it can still be stopped; a short training says nothing."""
    now = [0.0]
    events = []
    meter = EpochMeter(events.append, "train", epochs=10, steps_per_epoch=319, batch_size=16, samples=5096,
                       min_interval=1e9, clock=lambda: now[0], long_run=lambda s: f"{s / 60:.0f} min more",
                       long_run_s=600, pace_after_s=20)
    for step in range(1, 40):
        now[0] += 5.0
        meter.step(step)
    said = [e.text for e in events if isinstance(e, Notice)]
    assert said == [f"{(3190 - 6) * 5 / 60:.0f} min more"]  # at step 6: 25 s after the first step seen
    short = []
    meter = EpochMeter(short.append, "train", epochs=2, steps_per_epoch=100, batch_size=16, samples=1600,
                       clock=lambda: now[0], long_run=lambda s: "long", long_run_s=600, pace_after_s=20)
    for step in range(1, 200):
        now[0] += 0.5
        meter.step(step)
    assert not [e for e in short if isinstance(e, Notice)]


@pytest.fixture(scope="module")
def frame():
    return make_frame(80, seed=4)


def test_heads_alone_pick_a_winner_and_the_saved_quick_model_predicts(tmp_path, tiny_bert, frame):
    from reviewtui.modeling.inference import SavedClassifier

    data = sel.Data.from_frame(frame, LABELS)
    events = []
    ctx = sel.Context(tmp_path / "cache", max_length=16, on_event=events.append)
    cands = [sel.HeadCandidate(str(tiny_bert), C=10.0), sel.HeadCandidate(str(tiny_bert), C=0.01)]
    cands[1].key = "head:weak"
    result = sel.select_model(data, cands, evaluation=EvaluationSettings(folds=4), ctx=ctx)
    assert result.folds == 4 and {s.key for s in result.scores} == {f"head:{tiny_bert}", "head:weak"}
    for s in result.scores:
        assert s.status == "done" and len(s.folds) == 4 and s.oof.shape == (80, 4)
        assert np.allclose(s.oof.sum(1), 1.0)
        assert s.mean["accuracy"] == pytest.approx(np.mean([f["accuracy"] for f in s.folds]))
    assert result.winner == f"head:{tiny_bert}"  # C=0.01 barely fits
    updates = [e for e in events if isinstance(e, TrialUpdate)]
    assert [u.status for u in updates if u.trial_id == "head:weak"] == ["RUNNING", "TERMINATED"]

    # the live table's star follows the winners a training may save: the better head barred, the other starred
    from reviewtui import presentation as say

    events.clear()
    barred = sel.select_model(data, cands, evaluation=EvaluationSettings(folds=4), ctx=ctx,
                              allowed_winners=lambda key: key == "head:weak")
    rows = {}
    for u in (e for e in events if isinstance(e, TrialUpdate)):
        rows[u.trial_id] = say.candidate_row(u)
    assert rows[f"head:{tiny_bert}"]["may_win"] is False and "may_win" not in rows["head:weak"]
    assert say.winner_key(rows.values()) == barred.winner == "head:weak"

    card = sel.train_selected(result, data, ctx, models_dir=tmp_path / "models", label_keys=LABELS, name="q")
    saved = json.loads((tmp_path / "models" / "q" / "model_card.json").read_text())
    assert saved["kind"] == "quick" and saved["splits"]["train"] == 80 and saved["splits"]["test"] == 0
    assert saved["extra"]["selection"]["winner"] == result.winner
    assert [r["candidate"] for r in saved["extra"]["selection"]["rows"]][0] == result.winner
    assert saved["metrics"]["accuracy"] == pytest.approx(result.score(result.winner).mean["accuracy"])
    assert np.array(saved["confusion_matrix"]).sum() == 80  # pooled out-of-fold predictions
    clf = SavedClassifier.load(tmp_path / "models" / "q", cache_dir=tmp_path / "cache")
    assert clf.predict(["paywall premium subscription price membership"]) == ["SUBSCRIPTION"]
    assert card.path


@pytest.mark.slow
def test_finetune_cv_picks_epochs_on_other_folds_then_trains_on_all_labels(tmp_path, tiny_bert, frame, monkeypatch):
    from reviewtui.modeling.inference import SavedClassifier

    # fp32 embeddings throughout, whatever the CPU: the mean is rebuilt below from fp32 halves
    monkeypatch.setattr("reviewtui.modeling.precision.cpu_bf16_native", lambda: False)

    data = sel.Data.from_frame(frame, LABELS)
    events = []
    ctx = sel.Context(tmp_path / "cache", max_length=16, on_event=events.append)
    ft = sel.FineTuneCandidate(str(tiny_bert), FAST)
    head = sel.HeadCandidate(str(tiny_bert))
    result = sel.select_model(data, [ft, head], evaluation=EvaluationSettings(folds=3, metric="accuracy"), ctx=ctx)
    fts = result.score(ft.key)
    assert fts.status == "done" and len(fts.folds) == 3 and len(fts.fold_epochs) == 3
    assert 1 <= fts.epochs <= 6 and len(fts.curve) == 6 and all(1 <= e <= 6 for e in fts.fold_epochs)
    assert fts.mean["accuracy"] > 0.5  # it learned (4 balanced classes: chance is 0.25)
    ens = result.score(f"ensemble:{ft.key}+{head.key}")
    assert ens.weight in sel.WEIGHTS and len(ens.fold_weights) == 3 and ens.status == "done"
    progress = [e for e in events if isinstance(e, EpochProgress)]
    assert {e.task for e in progress} >= {f"cv 1/3 {ft.key}", f"cv 3/3 {ft.key}"}
    assert all(e.steps == 7 and e.epochs == 6 for e in progress if e.task.startswith("cv"))  # 53-54 rows / 8

    # the final model: the ensemble, whatever won, saved with its chosen weight and epoch count
    result.winner = ens.key
    events.clear()
    card = sel.train_selected(result, data, ctx, models_dir=tmp_path / "models", label_keys=LABELS, name="e")
    hp = card.hyperparameters
    assert hp["ensemble_quick"] and hp["ensemble_weight"] == ens.weight and hp["epochs"] == fts.epochs
    assert card.splits == {"train": 80, "validation": 0, "test": 0, "cv_folds": 3}
    final = [e for e in events if isinstance(e, EpochProgress) and e.task == f"final {ft.key}"]
    assert final and final[-1].epoch == fts.epochs and final[-1].steps == 10  # all 80 rows / 8
    clf = SavedClassifier.load(tmp_path / "models" / "e", cache_dir=tmp_path / "cache", precision="fp32")
    texts = ["paywall premium subscription price", "button font layout screen"]
    proba = clf.predict_proba(texts)
    assert np.allclose(proba.sum(1), 1.0, atol=1e-5)
    # the saved weight is applied: rebuild the mean from both halves
    from reviewtui.modeling.batching import predict_logits
    from reviewtui.modeling.quick import QuickModel

    clf._ensure_loaded()  # noqa: SLF001 - reading both halves of the saved ensemble
    ft_p = softmax(predict_logits(clf._model, clf._tokenizer, texts, max_length=16))  # noqa: SLF001
    q_p = QuickModel.load(tmp_path / "models" / "e").proba_for(ctx.embed(str(tiny_bert), texts), LABELS)
    # (the prediction engine batches and attends its own way: equal to about 1e-4)
    assert np.allclose(proba, ens.weight * ft_p + (1 - ens.weight) * q_p, atol=1e-3)
    # another weight in the card is another mean (the engine reads it)
    card_file = tmp_path / "models" / "e" / "model_card.json"
    saved = json.loads(card_file.read_text(encoding="utf-8"))
    saved["hyperparameters"]["ensemble_weight"] = 0.75
    card_file.write_text(json.dumps(saved), encoding="utf-8")
    heavier = SavedClassifier.load(tmp_path / "models" / "e", cache_dir=tmp_path / "cache", precision="fp32")
    assert np.allclose(heavier.predict_proba(texts), 0.75 * ft_p + 0.25 * q_p, atol=1e-3)


def test_a_long_cross_validation_names_the_faster_ways_before_it_starts(tmp_path, tiny_bert, frame):
    data = sel.Data.from_frame(frame, LABELS)
    events = []
    ctx = sel.Context(tmp_path / "cache", max_length=16, on_event=events.append)
    slow, fast = sel.HeadCandidate(str(tiny_bert), C=10.0), sel.HeadCandidate(str(tiny_bert), C=1.0)
    fast.key = "head:fast"
    slow.estimate = lambda data, k, ctx: 1500.0  # as a fine-tune of 200 labels on two CPU cores
    sel.select_model(data, [slow, fast], evaluation=EvaluationSettings(folds=3), ctx=ctx)
    said = [e.text for e in events if isinstance(e, Notice) and e.text.startswith("cross-validating")]
    assert said[1].startswith(f"cross-validating head:{tiny_bert} (estimated 1500 s, 25 min with its final training: "
                              "`reviewtui train --quick` takes seconds, `--split` trains once")
    assert "train --quick" not in said[0]  # the quick one starts without the hint
    assert said[1].endswith("`--detach` keeps it running after the terminal closes)")
    # run as a background job it outlives the terminal already: `jobs cancel` stops it instead
    events.clear()

    def journal(event):
        events.append(event)

    journal.job_id = "20261202-a1b2"
    ctx = sel.Context(tmp_path / "cache", max_length=16, on_event=journal)
    sel.select_model(data, [slow, fast], evaluation=EvaluationSettings(folds=3), ctx=ctx)
    said = [e.text for e in events if isinstance(e, Notice) and e.text.startswith("cross-validating")]
    assert said[1].endswith("`--split` trains once on a held-out split, `reviewtui jobs cancel 20261202-a1b2` stops it)")
    assert "--detach" not in said[1]


def test_budget_skips_what_does_not_fit_and_auto_saves_the_winner(tmp_path, tiny_bert, frame, monkeypatch):
    events = []
    auto = AutoSettings(candidates=["head:" + str(tiny_bert), "finetune:" + str(tiny_bert), "finetune:mpnet"])
    # the fine-tune's pace as on a slow machine: the budget holds the head, never the fine-tune, however
    # busy the machine running the test is
    monkeypatch.setattr(sel.FineTuneCandidate, "estimate", lambda self, data, k, ctx: 10_000.0)
    selection, card = sel.auto_train(
        frame, models_dir=tmp_path / "models", label_keys=LABELS, cache_dir=tmp_path / "cache",
        evaluation=EvaluationSettings(folds=3), auto=auto, training=FAST, max_length=16, budget_s=60.0,
        name="auto", on_event=events.append, available=lambda enc: enc != "mpnet")
    rows = {r["candidate"]: r for r in selection.table()["rows"]}
    assert rows["finetune:mpnet"]["status"] == "skipped" and "models add mpnet" in rows["finetune:mpnet"]["reason"]
    assert rows[f"finetune:{tiny_bert}"]["status"] == "skipped"
    assert "s left" in rows[f"finetune:{tiny_bert}"]["reason"]
    assert selection.winner == f"head:{tiny_bert}" and card.kind == "quick"
    assert card.extra["auto"]["budget_s"] == 60.0 and card.extra["selection"]["rows"]
    assert any(isinstance(e, Notice) and e.text.startswith("skipping finetune") for e in events)
    with pytest.raises(ReviewtuiError, match="not quick, head:ENCODER or finetune:ENCODER"):
        sel.make_candidates(["svm"], auto=auto, training=FAST, available=lambda e: True)


@pytest.mark.slow
def test_a_candidate_over_its_pace_is_stopped_after_a_fold(tmp_path, tiny_bert, frame):
    data = sel.Data.from_frame(frame, LABELS)
    now = [0.0]
    ctx = sel.Context(tmp_path / "cache", max_length=16)
    ctx.forward_s[str(tiny_bert)] = 1e-6  # a far too optimistic speed: the estimate fits the budget
    ft = sel.FineTuneCandidate(str(tiny_bert), replace(FAST, epochs=1))
    real = ft.cross_validate

    def slow_cv(data, folds, ctx, score, after_fold=None):
        def late(f, seconds):
            now[0] += 100.0  # every fold "takes" 100 s
            after_fold(f, seconds)
        return real(data, folds, ctx, score, after_fold=late)

    ft.cross_validate = slow_cv
    head = sel.HeadCandidate(str(tiny_bert))
    result = sel.select_model(data, [ft, head], evaluation=EvaluationSettings(folds=3), ctx=ctx, budget_s=150.0,
                              clock=lambda: now[0])
    score = result.score(ft.key)
    assert score.status == "stopped" and "after fold 1/3" in score.reason and not score.folds
    assert result.winner == head.key and not any(s.key.startswith("ensemble") for s in result.scores)


def test_cv_trial_folds_reports_after_every_fold(frame):
    data = sel.Data.from_frame(frame, LABELS)
    reports = []
    prior = np.bincount(data.y, minlength=4) / len(data.y)

    def majority(tr, te):
        return np.tile(prior, (len(te), 1))

    folds = sel.cv_trial_folds(majority, data, evaluation=EvaluationSettings(folds=4),
                               report=lambda n, mean, obj: reports.append((n, mean["accuracy"], obj)))
    assert [r[0] for r in reports] == [1, 2, 3, 4] and len(folds) == 4
    assert reports[-1][1] == pytest.approx(np.mean([f["accuracy"] for f in folds]))
    assert sel.median_epoch([3, 5, 4, 8]) == 4 and sel.median_epoch([]) == 1
