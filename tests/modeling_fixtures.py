"""Helpers for the modeling tests: a tiny BERT (hidden 32, two layers) with the MiniLM tokenizer,
and a small synthetic review frame whose categories are told apart by their words."""

from __future__ import annotations

import os
import random
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

LABELS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]

WORDS = {
    "SUBSCRIPTION": ["paywall", "premium", "subscription", "pay", "price", "membership", "refund", "charged"],
    "CONTENT": ["articles", "stories", "writers", "topics", "news", "content", "politics", "posts"],
    "INTERFACE": ["button", "font", "scroll", "dark mode", "layout", "crash", "screen", "menu"],
    "USER_EXPERIENCE": ["easy", "love", "smooth", "intuitive", "great", "enjoy", "simple", "helpful"],
}
FILLER = ["the", "app", "is", "really", "and", "i", "think", "this", "so", "very", "with", "it"]


def review_text(label: str, rng: random.Random) -> str:
    words = rng.sample(WORDS[label], 3) + rng.sample(FILLER, 4)
    rng.shuffle(words)
    return " ".join(words)


def make_frame(n: int = 80, seed: int = 0, labels: list[str] | None = None, weights: list[float] | None = None):
    """A dataset-version-shaped DataFrame of ``n`` synthetic reviews."""
    import pandas as pd

    rng = random.Random(seed)
    labels = labels or LABELS
    rows = []
    for i in range(n):
        label = labels[i % len(labels)] if weights is None else rng.choices(labels, weights)[0]
        rows.append({"id": f"a{i}", "externalId": str(i), "skipped": False, "status": "LABELED",
                     "label": label, "content": review_text(label, rng)})
    return pd.DataFrame(rows)


def make_tiny_model(folder: Path) -> Path:
    """Save a randomly initialised 2-layer BERT (hidden 32) with the MiniLM tokenizer to ``folder``."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from reviewtui.modeling.loading import packaged_minilm_path

    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_minilm_path()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_nan_model(tiny: Path, folder: Path) -> Path:
    """A copy of the tiny model whose word embeddings are NaN: every loss it computes is NaN."""
    import shutil

    import torch
    from transformers import BertModel

    folder = Path(folder)
    shutil.copytree(tiny, folder, dirs_exist_ok=True)
    model = BertModel.from_pretrained(folder)
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.fill_(float("nan"))
    model.save_pretrained(folder)
    return folder


def model_settings(base: str | Path = "minilm", max_length: int | None = None):
    """[model] for a test: ``base`` (a folder, "minilm"), ``max_length`` (default: the setting's)."""
    from reviewtui.settings import ModelSettings, with_overrides

    over = {"base": str(base)} | ({"max_length": max_length} if max_length is not None else {})
    return with_overrides(ModelSettings(), over, "test [model]")


def training_settings(**over):
    """[training] with ``over`` applied, validated like reviewtui.toml."""
    from reviewtui.settings import TrainingSettings, with_overrides

    return with_overrides(TrainingSettings(), over, "test [training]")


def tuning_settings(**over):
    """[tuning] with ``over`` applied, validated like reviewtui.toml."""
    from reviewtui.settings import TuningSettings, with_overrides

    return with_overrides(TuningSettings(), over, "test [tuning]")


def default_C() -> float:
    """[active_learning] C's default: the quick model's C in the tests."""
    from reviewtui.settings import ActiveLearningSettings

    return ActiveLearningSettings().C
