"""`reviewtui train` below and above [evaluation] cv_below, `train --auto`, and the progress of a
training, end to end through the workspace and the CLI on a tiny BERT (real Trainer, real folds)."""

from __future__ import annotations

import json
import re

import pytest

from modeling_fixtures import LABELS, make_frame
from reviewtui.cli import main
from reviewtui.events import EpochProgress, TrialUpdate


def card_lines(card) -> list[str]:
    from reviewtui import presentation as say

    return say.evaluation_lines(card)


def workspace_with_version(tmp_path, rows: int = 60, evaluation: dict | None = None):
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    csv = tmp_path / "dataset-1.csv"
    make_frame(rows, seed=3).to_csv(csv, index=False)
    ws.import_versions([csv])
    if evaluation:
        ws.config.update_section("evaluation", evaluation)
    return ws


FAST = ["--epochs", "3", "--lr", "0.005", "--batch-size", "8"]


def test_below_cv_below_train_scores_by_folds_and_saves_a_model_trained_on_all_labels(tmp_path, tiny_bert, capsys):
    ws = workspace_with_version(tmp_path, evaluation={"folds": 3})
    ws.config.update_section("training", {"ensemble_quick": False})
    events = []
    card = ws.train(model=str(tiny_bert), name="cv", training={"epochs": 3, "learning_rate": 5e-3, "batch_size": 8},
                    on_event=events.append)
    ev = card.extra["evaluation"]
    assert ev["method"] == "cross-validation" and ev["folds"] == 3 and len(ev["per_fold"]) == 3
    assert card.splits == {"train": 60, "validation": 0, "test": 0, "cv_folds": 3}
    assert 1 <= card.hyperparameters["epochs"] <= 3 and card.epochs_trained == card.hyperparameters["epochs"]
    assert card.metrics["accuracy"] == pytest.approx(ev["mean"]["accuracy"])
    assert sum(map(sum, card.confusion_matrix)) == 60  # pooled out-of-fold predictions of every label
    # progress: one bar per epoch of every fold, then of the final fit on all 60 labels
    progress = [e for e in events if isinstance(e, EpochProgress)]
    assert {e.task for e in progress} == {"cv 1/3 finetune:" + str(tiny_bert), "cv 2/3 finetune:" + str(tiny_bert),
                                          "cv 3/3 finetune:" + str(tiny_bert), "final finetune:" + str(tiny_bert)}
    final = [e for e in progress if e.task.startswith("final")]
    assert final[-1].epoch == card.hyperparameters["epochs"] and final[-1].steps == 8  # 60 rows / 8
    assert all(e.samples_per_s > 0 and e.eta_s >= 0 for e in progress)

    # the CLI says how it was scored: the mean ± spread and every fold's score
    assert main(["-w", str(ws.root), "train", "--model", str(tiny_bert), "--name", "cli-cv", "--folds", "2",
                 *FAST]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "trained on all 60 labels" in out and "cross-validated macro F1" in out and " ± " in out
    assert re.search(r"labels of dataset-1 in [\d.]+s \(cross-validation [\d.]+s, final fit [\d.]+s(; [\d.]+s of it "
                     r"embedding [\d,]+ reviews)?\)", out), out
    assert "2-fold stratified cross-validation (seed 42); macro F1 per fold:" in out
    assert "pooled out-of-fold predictions" in out


def test_split_forces_the_held_out_split_and_the_card_says_so(tmp_path, tiny_bert, capsys):
    from reviewtui.store import NewAsset

    ws = workspace_with_version(tmp_path)
    corpus = make_frame(25, seed=8)
    ws.store.add_assets([NewAsset(f"r{i}", text, {}) for i, text in enumerate(corpus["content"])])
    assert main(["-w", str(ws.root), "train", "--model", str(tiny_bert), "--name", "split", "--split", *FAST,
                 "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["extra"]["evaluation"]["method"] == "split" and card["splits"]["test"] == 12
    # the faster precisions are checked on the held-out rows and on the store's first reviews
    # (the 25 of this workspace), since a few held-out rows cannot tell 99.5 % from 97 %
    held_out = card["splits"]["validation"] + card["splits"]["test"]
    check = card["precision_checks"]["int8"]
    assert check["rows"] == held_out + 25 and check["on"] == "validation and test splits and 25 reviews of the corpus"
    # at or above cv_below the split is the default
    ws.config.update_section("evaluation", {"cv_below": 60})
    assert ws.train(quick=True, name="q").extra["evaluation"]["method"] == "split"


def test_auto_compares_candidates_and_saves_the_winner_with_the_comparison(tmp_path, tiny_bert, capsys):
    ws = workspace_with_version(tmp_path, evaluation={"folds": 3})
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    ws.config.update_section("auto", {"candidates": [f"head:{tiny_bert}", f"finetune:{tiny_bert}",
                                                     "finetune:not-installed-model"],
                                      "minilm_epochs": 2, "mpnet_epochs": 2, "mpnet_learning_rate": 5e-3})
    events = []
    selection, card = ws.train_auto(name="auto", budget_s=3600, on_event=events.append)
    rows = {r["candidate"]: r for r in card.extra["selection"]["rows"]}
    assert rows["finetune:not-installed-model"]["status"] == "skipped"
    assert rows[f"head:{tiny_bert}"]["status"] == "done" and rows[f"finetune:{tiny_bert}"]["status"] == "done"
    assert f"ensemble:finetune:{tiny_bert}+head:{tiny_bert}" in rows
    assert card.extra["selection"]["winner"] == selection.winner and card.splits["train"] == 60
    done = [e for e in events if isinstance(e, TrialUpdate) and e.status == "TERMINATED"]
    assert {e.trial_id for e in done} >= {f"head:{tiny_bert}", f"finetune:{tiny_bert}"}
    assert all("f1_macro" in e.metrics and "f1_macro_std" in e.metrics for e in done)

    assert main(["-w", str(ws.root), "train", "--auto", "--budget", "1h", "--name", "auto2"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3-fold stratified cross-validation (seed 42) of 4 candidates" in out and "best " in out
    assert "Candidates" in out and "★" in out and "skipped" in out
    assert main(["-w", str(ws.root), "train", "--auto", "--quick"]) == 2
    assert "--auto chooses the model itself: leave out --quick" in capsys.readouterr().err
    assert main(["-w", str(ws.root), "train", "--budget", "soon"]) == 2
    assert "--budget 'soon' is not a duration: write 30m, 1h, 1h30m or 600 (seconds), or none for no limit" in \
        " ".join(capsys.readouterr().err.split())


def test_the_cli_draws_a_bar_per_epoch_and_the_live_comparison(monkeypatch):
    import io

    from rich.console import Console

    from reviewtui.cli import live
    from reviewtui.cli.choice import CandidateBoard

    # a terminal's stderr (a log gets lines instead: tests/test_cli_progress.py)
    monkeypatch.setattr(live, "err_console", lambda: Console(file=io.StringIO(), force_terminal=True))
    sink = live.ProgressSink()
    for step in (1, 2, 3):
        sink(EpochProgress("cv 1/2 finetune:minilm", 1, 2, step, 3, 12.5, 3.0 - step))
    sink(EpochProgress("cv 1/2 finetune:minilm", 2, 2, 1, 3, 11.0, 2.0))  # the next epoch starts the bar over
    [task] = sink.progress.tasks
    assert task.description == "cv 1/2 finetune:minilm epoch 2/2" and (task.completed, task.total) == (1, 3)
    assert task.fields["info"] == "11.0 samples/s · 2s left"

    board = CandidateBoard(1800.0)
    board(TrialUpdate("quick", "TERMINATED", {"candidate": "quick", "description": "minilm head"}, 5,
                      {"f1_macro": 0.8, "f1_macro_std": 0.02, "accuracy": 0.82, "accuracy_std": 0.03}, 4.0))
    board(TrialUpdate("finetune:minilm", "RUNNING", {"candidate": "finetune:minilm", "description": "fine-tune"}))
    board(TrialUpdate("finetune:minilm", "RUNNING", {"candidate": "finetune:minilm"}, 2, {}, 61.0))
    board(EpochProgress("cv 3/5 finetune:minilm", 1, 6, 4, 14, 30.0, 20.0))
    console = Console(width=160, record=True)
    console.print(board.render())
    text = console.export_text()
    assert "★ quick" in text and "0.800 ± 0.020" in text and "budget 30m00s" in text
    assert "finetune:minilm" in text and "fine-tune" in text and "1m01s" in text  # a fold done: same row
    assert "cv 3/5 finetune:minilm · epoch 1/6 · step 4/14 · 30.0 samples/s · 20s left" in text


def test_the_candidates_table_fits_80_columns():
    """At 80 columns (a pipe, a log) the comparison keeps each candidate's name whole on one line,
    leaving out the model description, the accuracy and the folds (the card and --json keep them)."""
    from rich.console import Console

    from reviewtui.cli.render import comparison_table

    def row(name: str, description: str, f1: float, **extra) -> dict:
        return {"candidate": name, "description": description, "status": "done", "seconds": 108.7,
                "mean": {"f1_macro": f1, "accuracy": f1}, "std": {"f1_macro": 0.08, "accuracy": 0.09},
                "folds": [{}] * 5, **extra}

    selection = {"method": "5-fold stratified cross-validation (seed 42)", "metric": "f1_macro",
                 "rows": [row("ensemble:finetune:minilm+quick", "weighted mean of (minilm fine-tune) and (quick)",
                              0.614, weight=0.5),
                          row("quick", "minilm embeddings + logistic regression (C=10)", 0.610),
                          row("finetune:minilm", "minilm fine-tune (≤1 epochs, lr 0.0001)", 0.342, epochs=1)]}
    for width in (80, 160):
        console = Console(width=width, record=True)
        console.print(comparison_table(selection))
        text = console.export_text()
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        body = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
        assert [r[0] for r in body if r[0]] == ["★ ensemble:finetune:minilm+quick", "quick", "finetune:minilm"]
        assert any("candidate" in line.split() for line in lines) and "0.614 ± 0.080" in body[0]
    assert "minilm embeddings + logistic regression (C=10)" in text  # at 160, the description too


def test_skipped_candidates_say_why_under_the_table_and_in_the_sentence():
    """The reason wrapped one word a line in the status column, and the sentence gave the budget as
    the reason of candidates skipped because their encoder was not installed."""
    from rich.console import Console

    from reviewtui import presentation as say
    from reviewtui.cli.render import comparison_table

    missing = "mpnet is not installed (reviewtui models add mpnet)"
    rows = [{"candidate": "quick", "description": "", "status": "done", "seconds": 1.0,
             "mean": {"f1_macro": 0.9}, "std": {"f1_macro": 0.01}, "folds": [{}] * 4},
            *({"candidate": c, "description": "", "status": "skipped", "reason": missing, "seconds": 0.0}
              for c in ("head:mpnet", "finetune:mpnet"))]
    selection = {"method": "4-fold cross-validation", "metric": "f1_macro", "rows": rows, "winner": "quick",
                 "seconds": 22, "budget_s": 60}
    console = Console(width=80, record=True)
    console.print(comparison_table(selection))
    text = console.export_text()
    body = [line for line in text.splitlines() if line.startswith("│")]
    assert len(body) == 3 and all("install" not in line for line in body)
    assert f"head:mpnet, finetune:mpnet skipped: {missing}" in " ".join(text.split())
    sentence = say.selection_sentence(selection)
    assert sentence.endswith(f"2 skipped ({missing}); budget 1m00s.")


def test_the_cross_validated_train_fits_its_budget(tmp_path, tiny_bert, monkeypatch, capsys):
    """[training] budget_s below cv_below labels: the folds' epochs and the final training must fit
    together. Fewer epochs per fold when fewer fit; the quick model, said, when not one does; no
    limit with `--budget none`."""
    from reviewtui.events import Notice
    from reviewtui.modeling.selection import Context

    ws = workspace_with_version(tmp_path, evaluation={"folds": 3})
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    from reviewtui.modeling import budget

    monkeypatch.setattr(Context, "forward_seconds", lambda self, spec, texts=(): 0.05)
    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 3.6)
    # per epoch at 3.6 s a step: 3 folds x 5 steps (40 rows in batches of 8), the 60 held-out rows scored
    # at a third of a step per 8, the final training's 8 steps: 91.8 s (the tiny model takes far less: the
    # pace measured after the first fold only makes the rest fit better); the quick model's embeddings
    # 60 x 0.05 s and its fits: 3.3 s
    said = []
    card = ws.train(name="four", training={"epochs": 6, "learning_rate": 5e-3, "batch_size": 8, "budget_s": 400},
                    on_event=lambda e: said.append(e.text) if isinstance(e, Notice) else None)
    assert card.extra["budget"]["epochs"] == 3 and card.extra["budget"]["asked_epochs"] == 6
    assert 1 <= card.hyperparameters["epochs"] <= 3 and card.kind == "finetuned"
    assert "the fine-tune trained at most 3 of the 6 epochs in each fold" in " ".join(card_lines(card))
    assert any("the 7 min budget fits 3 epochs in each fold, which this training runs (`--budget 11m`" in t
               for t in said)
    said.clear()
    card = ws.train(name="none-fit", training={"epochs": 6, "batch_size": 8, "budget_s": 2},
                    on_event=lambda e: said.append(e.text) if isinstance(e, Notice) else None)
    assert card.kind == "quick" and card.extra["budget"]["epochs"] == 0
    from reviewtui import presentation as say

    assert say.budget_sentence(card).startswith("Not one epoch of the fine-tune fitted the 2 s budget ([training] "
                                                "budget_s): this is the quick model; `--budget ")
    assert any("the 2 s budget fits not one epoch of the fine-tune: training the quick model instead" in t
               for t in said)
    # the CLI: --budget none lifts the limit, and the card records no cut
    assert main(["-w", str(ws.root), "train", "--name", "free", "--budget", "none", "--epochs", "1", "--folds", "2",
                 "--batch-size", "16", "--json"]) == 0
    free = json.loads(capsys.readouterr().out)
    assert free["kind"] == "finetuned" and "budget" not in free["extra"]
    assert main(["-w", str(ws.root), "train", "--name", "tight", "--budget", "1s", *FAST, "--json"]) == 0
    tight = json.loads(capsys.readouterr().out)
    assert tight["kind"] == "quick" and tight["extra"]["budget"]["budget_s"] == 1


def test_a_background_train_settles_the_name_of_the_quick_model_a_budget_may_leave(tmp_path, tiny_bert, monkeypatch):
    """A train job without a name is named when it starts, so that what it writes is known. Under a
    budget that may leave the quick model, the quick model's name is settled then too and held
    with the fine-tune's: the quick model is saved under its own name, not the fine-tune's."""
    from types import SimpleNamespace

    from reviewtui.modeling import budget
    from reviewtui.modeling.selection import Context

    ws = workspace_with_version(tmp_path, evaluation={"folds": 3})
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    params, writes = ws._job_plan("train", {"training": {"epochs": 6, "batch_size": 8, "budget_s": 2}})
    assert "-quick-" in params["quick_name"] and "-quick-" not in params["name"]
    assert writes == [f"models/{params['name']}", f"models/{params['quick_name']}"]
    # no budget (--budget none), a name given, or the quick model asked for: one name
    assert "quick_name" not in ws._job_plan("train", {"training": {"budget_s": 0}})[0]
    assert "quick_name" not in ws._job_plan("train", {"name": "mine", "training": {"budget_s": 2}})[0]
    assert "quick_name" not in ws._job_plan("train", {"quick": True})[0]
    # a quick model of that name already saved: refused at the start, not after the training
    import time

    from reviewtui.errors import ReviewtuiError

    with monkeypatch.context() as fixed:
        fixed.setattr(time, "strftime", lambda fmt, *a: "20261204-091500")
        taken = ws._job_plan("train", {"training": {"budget_s": 2}})[0]["quick_name"]
        (ws.models_dir / taken).mkdir(parents=True)
        with pytest.raises(ReviewtuiError, match=f"model '{taken}' already exists"):
            ws._job_plan("train", {"training": {"budget_s": 2}})
        (ws.models_dir / taken).rmdir()
    monkeypatch.setattr(Context, "forward_seconds", lambda self, spec, texts=(): 0.05)
    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 3.6)  # not one epoch fits
    card = ws.run_job(SimpleNamespace(kind="train", params=params))
    assert card.kind == "quick" and card.name == params["quick_name"]
    assert sorted(p.name for p in ws.models_dir.iterdir()) == [params["quick_name"]]


def test_a_budget_stop_saves_the_quick_model_and_a_failure_stays_an_error(tmp_path, tiny_bert, monkeypatch):
    """With [training] ensemble_quick = false the quick model is still the budget's fallback (it was
    not a candidate: `train` failed naming [auto] candidates). A fine-tune that fails is an error,
    budget or not: the fallback is for the budget only."""
    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling.finetune import TrainingDiverged
    from reviewtui.modeling.selection import Context, FineTuneCandidate

    ws = workspace_with_version(tmp_path, evaluation={"folds": 3})
    ws.config.update_section("model", {"base": str(tiny_bert), "max_length": 16})
    ws.config.update_section("training", {"ensemble_quick": False})
    from reviewtui.modeling import budget

    monkeypatch.setattr(Context, "forward_seconds", lambda self, spec, texts=(): 1e-6)  # the plan fits it all
    monkeypatch.setattr(budget, "train_step_seconds", lambda spec, texts, **kw: 1e-6)
    events = []
    card = ws.train(training={"epochs": 3, "batch_size": 8, "budget_s": 1}, on_event=events.append)
    rows = {r["candidate"]: r for r in card.extra["selection"]["rows"]}
    assert card.kind == "quick" and rows[f"finetune:{tiny_bert}"]["status"] == "stopped"
    assert "-quick-" in card.name  # named after what it is
    from reviewtui import presentation as say

    assert say.budget_sentence(card).startswith("The fine-tune did not fit the 1 s budget ([training] budget_s) and "
                                                "was stopped (stopped after fold 1/3: ")
    assert any(getattr(e, "text", "").startswith("the fine-tune did not finish within the 1 s budget") for e in events)

    def diverge(self, *args, **kwargs):
        raise TrainingDiverged("training loss became nan at epoch 1.0: lower the learning rate in [training]")

    monkeypatch.setattr(FineTuneCandidate, "cross_validate", diverge)
    with pytest.raises(ReviewtuiError, match="lower the learning rate"):
        ws.train(training={"epochs": 3, "batch_size": 8, "budget_s": 3600})


def test_a_category_absent_from_the_test_rows_is_no_zero_in_the_macro_f1():
    """A category with none of the test rows and never predicted scored 0 and pulled the macro-F1
    down (0.109 where the categories present gave 0.182); it is left out of the mean now."""
    from reviewtui.modeling.metrics import classification_metrics

    metrics, per_class, _ = classification_metrics([0, 0, 1, 1], [0, 0, 1, 0], ["A", "B", "C"])
    assert per_class["C"]["support"] == 0
    assert metrics["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    predicted_only, _, _ = classification_metrics([0, 0, 1, 1], [0, 2, 1, 1], ["A", "B", "C"])
    assert predicted_only["f1_macro"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)  # predicted: a real zero


def test_the_split_stays_stratified_when_a_category_is_rare():
    """One category of 3 labels made the whole split unstratified, so a category of 12 could get
    no test row; the rare ones are stratified together now and each other category is in the
    test split in proportion."""
    import pandas as pd

    from reviewtui.modeling.data import split_frame, strata

    labels = ["A"] * 40 + ["B"] * 12 + ["C"] * 3 + ["D"] * 2
    df = pd.DataFrame({"text": [f"review {i}" for i in range(len(labels))], "label": labels})
    for seed in range(10):
        train, val, test = split_frame(df, seed=seed)
        assert (test["label"] == "B").sum() >= 2 and (test["label"] == "A").sum() >= 7
        assert len(train) + len(val) + len(test) == len(df)
    assert list(strata(pd.Series(["A", "A", "B", "B"]), 2)) == ["A", "A", "B", "B"]
    assert strata(pd.Series(["A", "A", "A", "B"]), 2) is None  # a lone rare row: no stratifying
    # one label of one category: the others stay stratified (it went unstratified whole: 9/11/5)
    lone = pd.DataFrame({"text": [f"review {i}" for i in range(121)], "label": ["A"] * 40 + ["B"] * 40 + ["C"] * 40 + ["D"]})
    for seed in range(5):
        test = split_frame(lone, seed=seed)[2]
        assert [(test["label"] == c).sum() for c in "ABC"] == [8, 8, 8] or len(test) == 25 and \
            all(7 <= (test["label"] == c).sum() <= 9 for c in "ABC")


def test_the_rows_of_a_repeated_text_are_on_one_side_of_the_split():
    import pandas as pd

    from reviewtui.modeling.data import split_frame

    texts = [f"review {i % 30}" if i % 2 else f"REVIEW {i % 30}" for i in range(120)] + [f"unique {i}" for i in range(40)]
    df = pd.DataFrame({"content": texts, "label": [("A", "B")[i % 2] for i in range(160)]})
    train, val, test = split_frame(df, seed=3)
    assert len(train) + len(val) + len(test) == len(df)
    sides = [set(part["content"].str.lower()) for part in (train, val, test)]
    assert not sides[0] & sides[1] and not sides[0] & sides[2] and not sides[1] & sides[2]
    assert 0.1 < len(test) / len(df) < 0.35


def test_a_model_no_better_than_guessing_is_said_to_be():
    """Random labels of repeated texts gave a saved model, a summary and findings, with no word that
    the model told the categories apart no better than dice."""
    from types import SimpleNamespace

    from reviewtui import presentation as say

    def card(f1: float, n: int = 3, cv: bool = True):
        ev = {"method": "cross-validation", "mean": {"f1_macro": f1}} if cv else {}
        return SimpleNamespace(labels=[f"C{i}" for i in range(n)], metrics={"f1_macro": f1}, extra={"evaluation": ev})

    assert "cross-validated macro F1 0.313 is no better than guessing among 3 categories" in say.chance_warning(card(0.313))
    assert "test macro F1 0.450" in say.chance_warning(card(0.45, 2, cv=False))
    assert say.chance_warning(card(0.34)) is None and say.chance_warning(card(0.9, 2, cv=False)) is None


def test_wide_tables_keep_their_numbers_at_80_columns():
    """15 categories headed five columns "P…" and cut the last off; a 40-character category name
    left the star table's numbers as "…"."""
    from types import SimpleNamespace

    import pandas as pd
    from rich.console import Console

    from reviewtui.cli.render import confusion_table
    from reviewtui.cli.render_data import categories_by_stars

    names = ["Privacy", "Pricing", "Performance", "Praise", "Payments", *(f"Topic {i}" for i in range(9)), "Accessibility"]
    card = SimpleNamespace(confusion_matrix=[[33 if i == j else 0 for j in range(15)] for i in range(15)])
    for width, numbered in ((80, True), (240, False)):
        console = Console(width=width, record=True)
        console.print(confusion_table(card, names, width))
        lines = console.export_text().splitlines()
        assert max(len(line) for line in lines) <= width
        head = lines[[i for i, line in enumerate(lines) if line.startswith("┃")][0]]
        assert (" 15┃" in head and "│ 15 Accessibility" in "\n".join(lines)) if numbered else "Accessibili…" in head
        assert sum(line.count("33") for line in lines) == 15
    long = "A very long category name that exceeds forty characters"
    shares = pd.DataFrame([[0.132, 0.292, 0.348, 0.167, 0.143], [0.868, 0.708, 0.652, 0.833, 0.857]],
                          index=["LONG", "SHORT"], columns=[1, 2, 3, 4, 5])
    s = SimpleNamespace(category_score_share=shares, scores={k: 1000 * k for k in range(1, 6)})
    console = Console(width=80, record=True)
    categories_by_stars(s, console, {"LONG": long, "SHORT": "Short"})
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "13.2%" in text and "5,000" in text and "A very long category" in text
