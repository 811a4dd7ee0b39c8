"""Typed settings: reviewtui.toml is validated when the workspace opens. An unknown key, an unknown
section, a wrong type or an out-of-range value is one clear error naming the file, the section and
the key (exit 2 from the CLI), and a bad change through ``update_section`` changes nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.settings import ActiveLearningSettings, Settings
from reviewtui.workspace import Workspace


@pytest.fixture
def ws_path(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    ws.close()
    return ws.root


def edit(root, old: str, new: str) -> None:
    path = root / "reviewtui.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def open_error(root) -> str:
    with pytest.raises(ReviewtuiError) as err:
        Workspace.open(root)
    return str(err.value)


def test_a_new_workspace_has_the_default_settings(ws_path):
    ws = Workspace.open(ws_path)
    assert ws.settings.active_learning == ActiveLearningSettings()
    assert ws.settings.training == Settings().training
    ws.close()


def test_a_typo_in_a_key_is_one_error_naming_file_section_and_key(ws_path):
    edit(ws_path, "learning_rate = 0.0001", "learnig_rate = 0.0001")
    msg = open_error(ws_path)
    assert msg.startswith(f"{ws_path / 'reviewtui.toml'} [training]: unknown key 'learnig_rate'")
    assert "did you mean 'learning_rate'?" in msg and "\n" not in msg


def test_reviewtui_status_exits_2_with_one_line(ws_path):
    edit(ws_path, "learning_rate = 0.0001", "learnig_rate = 0.0001")
    done = subprocess.run([sys.executable, "-m", "reviewtui", "--workspace", str(ws_path), "status"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(ws_path / "reviewtui.toml") in lines[0] and "[training]" in lines[0] and "learnig_rate" in lines[0]


@pytest.mark.parametrize("old, new, expect", [
    ("batch_size = 50", 'batch_size = "fifty"', "[active_learning] batch_size must be a whole number, not 'fifty'"),
    ("retrain_every = 10", "retrain_every = -1", "[active_learning] retrain_every must be between 0 and 1,000,000, not -1"),
    ('strategy = "margin"', 'strategy = "best"', "[active_learning] strategy must be one of random, least_confidence"),
    ("lowercase = false", 'lowercase = "yes"', "[import] lowercase must be true or false, not 'yes'"),
    ("[training]", "[trainng]", "unknown section 'trainng'; did you mean 'training'?"),
    ("learning_rate = 0.0001", "learning_rate = nan", "[training] learning_rate must be a number, not nan"),
])
def test_wrong_types_ranges_and_sections(ws_path, old, new, expect):
    edit(ws_path, old, new)
    msg = open_error(ws_path)
    assert msg.startswith(str(ws_path / "reviewtui.toml")) and expect in msg, msg


def test_update_section_with_a_bad_value_changes_nothing(ws_path):
    ws = Workspace.open(ws_path)
    path = ws_path / "reviewtui.toml"
    before = path.read_bytes()
    for values in ({"retrain_every": -3}, {"batch_size": "many"}, {"retrain_evry": 2}):
        with pytest.raises(ReviewtuiError, match=r"\[active_learning\]"):
            ws.config.update_section("active_learning", values)
        assert path.read_bytes() == before
        assert ws.settings.active_learning == ActiveLearningSettings()
    ws.config.update_section("active_learning", {"retrain_every": 0})
    assert Workspace.open(ws_path).settings.active_learning.retrain_every == 0
    ws.close()


def test_reviewtui_settings_prints_the_settings_in_force_as_toml_with_their_help(ws_path, tmp_path, capsys, monkeypatch):
    """`reviewtui settings` writes every setting as reviewtui.toml takes it (valid TOML, to copy
    into the file), each after its help; a value that is not the default says the default;
    --changed keeps those; outside a workspace it shows the defaults; a wrong section is one error."""
    import json
    import tomllib

    from reviewtui.cli import main
    from reviewtui.settings import section_names, to_toml_dict

    edit(ws_path, "retrain_every = 10", "retrain_every = 25")
    assert main(["-w", str(ws_path), "settings"]) == 0
    out = capsys.readouterr().out
    parsed = tomllib.loads(out)
    expected = to_toml_dict(Workspace.open(ws_path).settings)
    assert parsed == {k: v for k, v in expected.items() if k in section_names()}
    assert "retrain_every = 25  # default 10" in out and "\nepochs = 10\n" in out  # the default says nothing more
    assert main(["-w", str(ws_path), "settings", "--changed"]) == 0
    changed = tomllib.loads(capsys.readouterr().out)
    assert changed["active_learning"] == {"retrain_every": 25} and "training" not in changed
    assert main(["-w", str(ws_path), "settings", "training", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["settings"]
    assert {r["section"] for r in rows} == {"training"} and all(r["help"] for r in rows)
    assert next(r for r in rows if r["key"] == "epochs")["allowed"] == "1 to 1,000"
    monkeypatch.chdir(tmp_path)  # not inside a workspace: the defaults
    assert main(["settings", "model"]) == 0
    out = capsys.readouterr().out
    assert "Not inside a workspace" in out and tomllib.loads(out) == {"model": to_toml_dict(Settings())["model"]}
    assert main(["-w", str(ws_path), "settings", "trainig"]) == 2
    err = capsys.readouterr().err
    assert "no section 'trainig'" in err and "did you mean 'training'?" in err


def test_a_settings_file_saved_in_another_encoding_is_one_error(ws_path):
    """A reviewtui.toml saved as UTF-16 (or Latin-1 with an accent) ended in UnicodeDecodeError."""
    path = ws_path / "reviewtui.toml"
    path.write_bytes(path.read_text(encoding="utf-8").replace('name = "', 'name = "Café ').encode("latin-1"))
    msg = open_error(ws_path)
    assert msg.startswith(str(path)) and "is not UTF-8); save the file as UTF-8" in msg, msg
