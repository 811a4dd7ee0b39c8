"""Model resolution and import hygiene of the modeling package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.modeling.loading import resolve_model


def test_minilm_resolves_to_the_packaged_weights():
    resolved = resolve_model("minilm")
    assert resolved.source == "package"
    assert resolved.name == "minilm"
    assert (Path(resolved.path) / "config.json").is_file()
    assert (Path(resolved.path) / "model.safetensors").is_file()
    assert resolve_model("MiniLM").path == resolved.path


def test_local_folder_resolves(tiny_bert):
    resolved = resolve_model(str(tiny_bert))
    assert resolved.source == "local"
    assert Path(resolved.path) == Path(tiny_bert).resolve()


def test_folder_without_config_is_refused(tmp_path):
    (tmp_path / "notamodel").mkdir()
    with pytest.raises(ReviewtuiError, match="no config.json"):
        resolve_model(str(tmp_path / "notamodel"))


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(ReviewtuiError, match="does not exist"):
        resolve_model(str(tmp_path / "nope" / "model"))


def test_uncached_hub_id_offline_says_how_to_use_a_local_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ReviewtuiError) as err:
        resolve_model("cardiffnlp/twitter-roberta-base-sentiment")
    text = str(err.value)
    assert "offline" in text and "local" in text and "[model] base" in text


def test_empty_spec_is_refused():
    with pytest.raises(ReviewtuiError, match=r"\[model\] base"):
        resolve_model("  ")


def test_importing_the_modeling_package_stays_light():
    """Importing the modules other packages import at start-up pulls in no heavy library."""
    code = (
        "import sys, json\n"
        "import reviewtui.modeling, reviewtui.modeling.loading, reviewtui.modeling.embeddings\n"
        "import reviewtui.modeling.quick, reviewtui.modeling.card, reviewtui.modeling.inference\n"
        "import reviewtui.modeling.finetune, reviewtui.modeling.tuning, reviewtui.modeling.history\n"
        "import reviewtui.modeling.data, reviewtui.modeling.metrics, reviewtui.modeling.batching\n"
        "import reviewtui.modeling.trial_log\n"
        "heavy = ['torch', 'transformers', 'datasets', 'ray', 'sklearn', 'pandas']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("spec, said", [("quick", "`reviewtui train --quick`"), ("Auto", "`reviewtui train --auto`")])
def test_a_kind_of_model_given_as_the_base_says_the_option_meant(spec, said):
    """`train --model quick` (as `predict --model quick` is written) says what to type at once,
    instead of asking the hub for a model named quick."""
    with pytest.raises(ReviewtuiError) as e:
        resolve_model(spec)
    assert "is a kind of model, not a base encoder" in str(e.value) and said in str(e.value)


def test_an_uncached_hub_id_with_no_network_fails_at_once(monkeypatch):
    """With no DNS (a GPU box with no network), a hub id not in the cache is refused before any
    download is tried, with the way to use a local folder; a host that resolves goes on."""
    import socket

    def no_dns(*_a, **_k):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.invalid")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(ReviewtuiError) as e:
        resolve_model("someone/not-cached-model-xyz")
    text = str(e.value)
    assert "cannot be reached from here (hub.example.invalid does not resolve)" in text
    assert "--local-dir" in text and "[model] base" in text
    monkeypatch.setenv("HF_ENDPOINT", "hub.example.invalid")  # written without its scheme
    with pytest.raises(ReviewtuiError, match="hub.example.invalid does not resolve"):
        resolve_model("someone/not-cached-model-xyz")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")  # the proxy resolves names
    assert resolve_model("someone/not-cached-model-xyz").source == "hub"
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: [])
    assert resolve_model("someone/not-cached-model-xyz").source == "hub"
