"""The modeling commands end to end through the CLI: train (quick and fine-tuned), models."""

from __future__ import annotations

import json
from typing import Callable

import pytest

from modeling_fixtures import make_frame
from reviewtui.cli import main


def _workspace_with_version(tmp_path, rows: int = 80):
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    csv = tmp_path / "dataset-1.csv"
    make_frame(rows, seed=3).to_csv(csv, index=False)
    ws.import_versions([csv])
    return ws


def test_train_quick_then_finetune_then_models(tmp_path, tiny_bert, capsys):
    ws = _workspace_with_version(tmp_path)
    root = str(ws.root)
    assert main(["-w", root, "train", "--quick", "--name", "q1", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["kind"] == "quick" and card["dataset_version"] == "dataset-1"
    assert card["dataset_sha256"] == ws.version_info("dataset-1").sha256
    assert card["taxonomy_keys"] == ws.taxonomy.training_keys
    # the cross-validation's wait is mostly the embedding of the labels: the card keeps it, train says it
    n = card["splits"]["train"]
    assert card["extra"]["embedding"]["texts"] == n and card["extra"]["embedding"]["seconds"] > 0
    assert main(["-w", root, "train", "--quick", "--name", "q1", "--overwrite"]) == 0
    said = " ".join(capsys.readouterr().out.split())  # the same reviews again: from the cache, nothing to say
    assert "final fit" in said and "of it embedding" not in said
    assert main(["-w", root, "train", "--quick", "--name", "q1", "--overwrite", "--json"]) == 0
    assert "embedding" not in json.loads(capsys.readouterr().out)["extra"]

    assert main(["-w", root, "train", "--model", str(tiny_bert), "--name", "ft1", "--epochs", "2",
                 "--lr", "0.005", "--version", "1"]) == 0
    out = capsys.readouterr().out
    assert "Saved model ft1" in out and "Confusion matrix" in out
    report = out[out.index("Per-class report"):]
    assert "│ Subscription " in report and "│ SUBSCRIPTION " not in report  # the taxonomy's names, not keys
    assert (ws.models_dir / "ft1" / "model_card.json").is_file()

    assert main(["-w", root, "models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {m["name"] for m in data["models"]} == {"q1", "ft1"}
    for m in data["models"]:  # what the scores were measured on: cross-validation or a test split
        splits = json.loads((ws.models_dir / m["name"] / "model_card.json").read_text())["splits"]
        assert m["scored_on"] == (f"{splits['cv_folds']}-fold CV over {splits['train']} labels"
                                  if splits.get("cv_folds") else f"{splits['test']} test rows")
    assert [p["version"] for p in data["learning_curve"]] == ["dataset-1"]
    assert main(["-w", root, "models"]) == 0
    out = capsys.readouterr().out
    assert "Trained models" in out and "5-fold CV" in out

    # a file deleted from a model folder by hand: models names it, and the model refuses to predict
    from reviewtui.errors import ReviewtuiError
    from reviewtui.modeling.inference import SavedClassifier

    (ws.models_dir / "q1" / "quick_model.npz").unlink()
    (ws.models_dir / "ft1" / "model.safetensors").unlink()
    assert main(["-w", root, "models"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "q1: quick_model.npz missing from its folder; it cannot predict" in err
    assert "ft1: model.safetensors missing from its folder" in err
    assert main(["-w", root, "models", "--json"]) == 0
    assert {m["name"]: m["missing"] for m in json.loads(capsys.readouterr().out)["models"]} == {
        "q1": ["quick_model.npz"], "ft1": ["model.safetensors"]}
    with pytest.raises(ReviewtuiError, match="model.safetensors is missing .deleted or moved"):
        SavedClassifier.load(ws.models_dir / "ft1")


def test_train_errors_are_one_line(tmp_path, capsys):
    ws = _workspace_with_version(tmp_path, rows=40)
    assert main(["-w", str(ws.root), "train", "--version", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "dataset-7" in err and len(err.strip().splitlines()) == 1
    assert main(["-w", str(ws.root), "train", "--model", str(tmp_path / "missing-model")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_tune_refuses_zero_trials(tmp_path, capsys):
    ws = _workspace_with_version(tmp_path, rows=40)
    assert main(["-w", str(ws.root), "tune", "--trials", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("error: --trials must be at least 1, not 0: leave it out to run [tuning] trials "
                            "from reviewtui.toml\n")
    assert captured.out == ""


def test_the_trial_board_and_the_summary_name_the_same_best_trial(capsys):
    """t1 reported 0.800 then 0.700, t2 0.750: the starred row, its best column and the closing
    summary all name t1 with 0.800 (its best report, the one a save retrains)."""
    from rich.console import Console
    from tui_data import best_versus_last_reports

    from reviewtui.cli import render
    from reviewtui.cli.live import TrialBoard

    events, result = best_versus_last_reports()
    board = TrialBoard(2)
    for event in events:
        board(event)
    console = Console(width=150, record=True)
    console.print(board.render())
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in console.export_text().splitlines() if line.startswith("│")}
    assert set(rows) == {"t1 *", "t2"}
    assert rows["t1 *"][7:11] == ["0.700", "-", "0.900", "0.800"]  # val acc, val F1, loss, best
    assert rows["t2"][10] == "0.750"
    result.cancelled = True
    capsys.readouterr()
    render.tune_result(result)
    out = " ".join(capsys.readouterr().out.split())
    assert "Best trial t1: validation accuracy 0.800 at epoch 1 with {" in out
    assert "Nothing saved (cancelled). Run it again with --save-on-cancel to keep the best trial." in out


@pytest.mark.slow
@pytest.mark.ray
def test_tune_save_on_cancel_keeps_the_best_finished_trial(tmp_path, tiny_bert, monkeypatch, capsys):
    """Ctrl-C during `reviewtui tune --save-on-cancel` (after a trial finished) retrains and saves
    the best trial, and the command exits 130 as a cancelled search does."""
    import _thread

    from tui_data import build_tuning_workspace

    from reviewtui.cli.commands import modeling
    from reviewtui.cli.live import TrialBoard
    from reviewtui.events import TrialUpdate

    class InterruptingBoard(TrialBoard):
        """The live board, pressing Ctrl-C once the first trial has finished with a score."""

        interrupted = False

        def __call__(self, event):
            super().__call__(event)
            if (isinstance(event, TrialUpdate) and event.status == "TERMINATED" and event.best
                    and not InterruptingBoard.interrupted):
                InterruptingBoard.interrupted = True
                _thread.interrupt_main()

    monkeypatch.setattr(modeling, "TrialBoard", InterruptingBoard)
    ws = build_tuning_workspace(tmp_path / "ws", tiny_bert)
    import signal

    # Ctrl-C is Python's own SIGINT handler raising KeyboardInterrupt, which interrupt_main() calls:
    # a ray.init() of an earlier test in this process (on its main thread) may have replaced it
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main(["-w", str(ws.root), "tune", "--trials", "6", "--save-on-cancel", "--name", "kept"])
    finally:
        signal.signal(signal.SIGINT, previous)
    captured = capsys.readouterr()
    out = " ".join(captured.out.split())
    assert InterruptingBoard.interrupted and code == 130
    # stderr is not a terminal here: the trials are written as lines as they start and end, with
    # their scores, instead of a live table that would show only at the end
    err = captured.err.splitlines()
    assert any(line.startswith("trial ") and line.endswith(": running") for line in err), captured.err
    assert any(line.startswith("trial ") and ": done, " in line for line in err), captured.err
    assert "cancelling: stopping the running trials…" in err and "Trials (" not in captured.err
    assert "Search cancelled in" in out and "Saved model kept" in out
    card = json.loads((ws.models_dir / "kept" / "model_card.json").read_text())
    assert card["extra"]["tuning"]["cancelled"] is True
    assert f"Best trial {card['extra']['tuning']['best_trial']}:" in out


def test_tune_time_budget_takes_a_duration_or_minutes():
    """`tune --time-budget` reads durations as `train --budget` does, and a bare number as minutes."""
    from reviewtui.cli.commands.modeling import time_budget_s
    from reviewtui.errors import ReviewtuiError

    assert time_budget_s("30m") == 1800 and time_budget_s("1h30m") == 5400 and time_budget_s("5") == 300
    assert time_budget_s("0.5") == 30
    with pytest.raises(ReviewtuiError, match=r"^--time-budget '5x' is not a duration: write 30m"):
        time_budget_s("5x")
    with pytest.raises(ReviewtuiError, match=r"^--time-budget must be more than 0 seconds"):
        time_budget_s("0")


def _train_bug_and_praise(tmp_path, capsys, praise: list[str]) -> tuple[int, str]:
    """`train --quick` on 40 Bug labels and one Praise label per text of ``praise``: its exit code
    and what it printed (stdout and stderr, line wrapping undone)."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Bug, Praise")
    rows = [("bug", f"the app crashes when I open it time {i}") for i in range(40)] + [("praise", t) for t in praise]
    csv = tmp_path / "labels.csv"
    csv.write_text("id,text,label\n" + "".join(f"r{i},{t},{lab}\n" for i, (lab, t) in enumerate(rows)),
                   encoding="utf-8")
    ws.import_reviews([csv], label_col="label")
    ws.export()
    code = main(["-w", str(ws.root), "train", "--quick", "--name", "q"])
    said = capsys.readouterr()
    return code, " ".join((said.out + said.err).split())


def test_train_says_the_folds_it_uses_when_a_category_has_fewer_labels(tmp_path, capsys):
    """A category with 3 labels lowers 5-fold cross-validation to 3 folds: the first line says 3,
    and why, as the candidates' line after it does."""
    code, out = _train_bug_and_praise(tmp_path, capsys, [f"I love this app so much day {i}" for i in range(3)])
    assert code == 0
    assert "43 labels: scoring by 3-fold cross-validation (the rarest category has 3 labels)" in out


def test_train_with_a_category_of_one_label_says_so_without_a_line_of_one_fold(tmp_path, capsys):
    """A category with a single label cannot be cross-validated: train stops with the category and
    the command that leaves it out, and says nothing of "1-fold cross-validation" before."""
    code, out = _train_bug_and_praise(tmp_path, capsys, ["I love this app"])
    assert code == 2
    assert "PRAISE has only 1 label" in out and "reviewtui categories set PRAISE --no-train" in out
    assert "1-fold" not in out and "has 1 labels" not in out


def test_train_says_which_training_categories_have_no_label(tmp_path, capsys):
    """A training category with no label in the version disappeared from the model without a word,
    and the summary then counted no review there. train says so, with what to do."""
    ws = _workspace_with_version(tmp_path)
    ws.add_category("Notifications")
    root = str(ws.root)
    assert main(["-w", root, "train", "--quick", "--name", "q1"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert ("Notifications has no label in dataset-1: the model cannot predict it, and the summary counts no review "
            "there; label some and export, or leave it out of training (`reviewtui categories set NOTIFICATIONS "
            "--no-train`)"
            in err), err


def login_or_design(tmp_path, texts: list[str]) -> tuple[str, Callable[[range], None]]:
    """A workspace of ``texts`` (ids r0, r1...) in two categories, and what labels a range of them
    (Login the even ones, Design the odd)."""
    from tests.conftest import write_csv

    data = write_csv(tmp_path / "r.csv", ["id", "text"], [[f"r{i}", t] for i, t in enumerate(texts)])
    root = str(tmp_path / "ws")
    assert main(["init", root, "--categories", "Login, Design"]) == 0
    assert main(["-w", root, "import", str(data), "--id-col", "id", "--text-col", "text"]) == 0

    def label(which: range) -> None:
        for i in which:
            assert main(["-w", root, "label", f"r{i}", ("Login", "Design")[i % 2]]) == 0

    return root, label


@pytest.mark.parametrize("how", [["--quick"], ["--auto", "--budget", "60s"], ["--quick", "--split"]])
def test_too_few_labels_are_refused_by_every_way_of_training_naming_the_version(tmp_path, capsys, how):
    """`train --auto` saved a model of 4 labels; the others said "label at least 10" to a user who had
    10, two of them given after the version it trained on."""
    root, label = login_or_design(tmp_path, [
        "the app crashes on login", "love the new design", "login fails again", "great colours", "cannot sign in",
        "beautiful layout", "password reset broken", "nice fonts", "locked out", "clean look"])
    label(range(8))
    assert main(["-w", root, "export"]) == 0
    label(range(8, 10))
    capsys.readouterr()
    assert main(["-w", root, "train", *how]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert ("too little data to train: dataset-1 has 8 labeled rows in 2 training categories, and a model needs 10 "
            "in two or more; the store holds 10 such labels now: `reviewtui export` makes a version of them") in err
    assert not list((tmp_path / "ws" / "models").glob("*"))


def test_too_few_labels_say_what_would_give_enough(tmp_path, capsys):
    """An older version named while a later one has enough: that one; too few anywhere: label more
    (an export of the store's 7 labels would still be refused)."""
    root, label = login_or_design(tmp_path, [f"review number {i} about {('login', 'design')[i % 2]}" for i in range(12)])
    label(range(7))
    assert main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, "train", "--quick"]) == 2
    assert "the store holds 7 in 2 now: label at least 10 reviews" in " ".join(capsys.readouterr().err.split())
    label(range(7, 12))
    assert main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, "train", "--quick", "--version", "dataset-1"]) == 2
    assert "train on a later version (--version dataset-2, or leave --version out)" in " ".join(
        capsys.readouterr().err.split())


@pytest.mark.parametrize("how", [["--quick"], ["--quick", "--split"]])
def test_too_few_different_texts_are_refused_with_their_count(tmp_path, capsys, how):
    """12 labels of 4 texts, one category's all one text: cross-validation blamed the budget, and
    the split said "every one of the 6 labeled rows has the same text" of 12 rows of 4 texts."""
    root, label = login_or_design(tmp_path, ["login fails"] * 5 + ["login broken", "cannot log in", "great colours",
                                             "great colours", "great colours", "great colours", "great colours"])
    for i in range(12):
        assert main(["-w", root, "label", f"r{i}", "Login" if i < 7 else "Design"]) == 0
    assert main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, "train", *how]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert ("too little data to train: dataset-1's 12 labeled rows have 4 different texts (Login 3, Design 1); the "
            "rows of one text stay together on one side of every split and fold") in err, err
    assert not list((tmp_path / "ws" / "models").glob("*"))

def test_a_training_cancelled_before_it_starts_says_no_word_of_its_folds(tmp_path):
    """A cancel asked while a job's modules loaded: the job went on to say "scoring by 5-fold
    cross-validation… then training", which read as work starting after the cancel."""
    import threading

    from reviewtui.events import Notice
    from reviewtui.modeling import Cancelled
    from reviewtui.workspace import Workspace

    root, label = login_or_design(tmp_path, [f"review number {i} about {('login', 'design')[i % 2]}" for i in range(12)])
    label(range(12))
    assert main(["-w", root, "export"]) == 0
    cancel, events = threading.Event(), []
    cancel.set()
    w = Workspace.open(root)
    with pytest.raises(Cancelled):
        w.train(quick=True, cancel=cancel, on_event=events.append)
    w.close()
    assert not [e for e in events if isinstance(e, Notice) and "cross-validation" in e.text], events
    assert not list((tmp_path / "ws" / "models").glob("*"))

def test_too_few_labels_count_neither_labels_under_review_nor_a_later_version_too_small(tmp_path, capsys):
    """Labels sent to review are not what an export writes: the advice was `reviewtui export`, which
    then wrote nothing; a later version also too small was named as the one to train on."""
    from reviewtui.workspace import Workspace

    root, label = login_or_design(tmp_path, [f"review number {i} about {('login', 'design')[i % 2]}" for i in range(12)])
    label(range(12))
    w = Workspace.open(root)
    w.send_to_review([f"r{i}" for i in range(5)])
    w.close()
    assert main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, "train", "--quick"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert ("the store holds 7 in 2 now (5 more under review: a label or a confirmation brings each back): label at "
            "least 10 reviews") in err, err
    assert main(["-w", root, "confirm", "r0"]) == 0 and main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, "train", "--quick", "--version", "dataset-1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "later version" not in err and "the store holds 8 in 2 now (4 more under review" in err, err


@pytest.mark.parametrize("how", [["train", "--quick"], ["train", "--quick", "--split"], ["train", "--auto"],
                                 ["tune", "--trials", "1"]])
def test_a_model_name_that_cannot_be_a_folder_is_refused_before_training(tmp_path, capsys, how):
    """`train --quick --name ../evil` cross-validated and trained the whole model, then refused."""
    root, label = login_or_design(tmp_path, [f"review number {i} about {('login', 'design')[i % 2]}" for i in range(12)])
    label(range(12))
    assert main(["-w", root, "export"]) == 0
    capsys.readouterr()
    assert main(["-w", root, *how, "--name", "../evil"]) == 2
    assert "model name '../evil' is not a valid folder name" in capsys.readouterr().err
    assert not (tmp_path / "ws" / "cache" / "embeddings").exists()  # refused before any review was embedded
