"""The modeling commands end to end through the CLI: train (quick and fine-tuned), models."""

from __future__ import annotations

import json

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

    assert main(["-w", root, "train", "--model", str(tiny_bert), "--name", "ft1", "--epochs", "2",
                 "--lr", "0.005", "--version", "1"]) == 0
    out = capsys.readouterr().out
    assert "Saved model ft1" in out and "Confusion matrix" in out
    assert (ws.models_dir / "ft1" / "model_card.json").is_file()

    assert main(["-w", root, "models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {m["name"] for m in data["models"]} == {"q1", "ft1"}
    assert [p["version"] for p in data["learning_curve"]] == ["dataset-1"]
    assert main(["-w", root, "models"]) == 0
    assert "Trained models" in capsys.readouterr().out


def test_train_errors_are_one_line(tmp_path, capsys):
    ws = _workspace_with_version(tmp_path, rows=40)
    assert main(["-w", str(ws.root), "train", "--version", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "dataset-7" in err and len(err.strip().splitlines()) == 1
    assert main(["-w", str(ws.root), "train", "--model", str(tmp_path / "missing-model")]) == 2
    assert "does not exist" in capsys.readouterr().err
