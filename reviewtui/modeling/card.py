"""The model card: what a saved model is, what it was trained on, and how well it did.

Every folder under ``models/<name>/`` has a ``model_card.json``. The analysis package reads
``taxonomy_keys`` to refuse predicting with a model trained on another taxonomy, and history
reads ``dataset_version`` and ``metrics`` to draw learning curves.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Collection

from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_write_text, give_plain_permissions, make_temp_dir, replace_dir, utc_now

CARD_FILE = "model_card.json"
CARD_FORMAT = 1


@dataclass
class ModelCard:
    """Metadata of one saved model. ``kind`` is "finetuned" (a transformers folder) or "quick"
    (embeddings + a linear classifier). ``metrics`` are on the test split: accuracy,
    precision/recall/f1 weighted and macro; ``per_class`` is sklearn's classification report per
    label; ``confusion_matrix`` rows are true labels and columns predictions, both in ``labels`` order.
    ``precision_checks`` (precision -> agreement, rows, ok, ...) say how faster precisions agreed
    with fp32 on held-out rows (reviewtui.modeling.precision).

    A card read by :func:`load_card` is named after its folder, whatever name it was saved under
    (kept in ``saved_as``): users rename and copy model folders, and the folder is what
    ``--model NAME`` finds.
    """

    name: str
    kind: str
    base_model: str
    base_source: str
    labels: list[str]
    taxonomy_keys: list[str]
    dataset_version: str | None = None
    dataset_sha256: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    validation_metrics: dict[str, float] = field(default_factory=dict)
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion_matrix: list[list[int]] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    class_weights: dict[str, float] | None = None
    epochs_trained: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    created_at: str = ""
    train_seconds: float = 0.0
    hardware: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    precision_checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = CARD_FORMAT
    path: str | None = None  # where it was loaded from; not written
    saved_as: str | None = None  # the name written in the card, where it came from; not written

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path", None)
        data.pop("saved_as", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | None = None) -> "ModelCard":
        known = {f.name for f in fields(cls)}
        card = cls(**{k: v for k, v in data.items() if k in known and k not in ("path", "saved_as")})
        card.path = path
        return card

    def save(self, folder: Path) -> Path:
        path = Path(folder) / CARD_FILE
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=False, default=_json_default) + "\n")
        return path

    def check_taxonomy(self, training_keys: list[str], current: Callable[[str], str] | None = None,
                       labeled: Collection[str] | None = None) -> list[str]:
        """Raise ReviewtuiError when this model's labels are not the taxonomy's training keys; with
        ``current`` (``Taxonomy.current``), a label whose category was renamed since counts as its
        new key (a merge leaves the model two labels for one category: retrain).

        With ``labeled`` (the training keys that have labels), categories added since the model was
        trained that have no label yet are let through, and returned: a retrain could not learn
        them, and the model predicts every other category (none of them) until they have labels.
        Returns [] when the model knows every training key."""
        keys = [current(k) for k in self.taxonomy_keys] if current is not None else list(self.taxonomy_keys)
        training_keys = list(training_keys)
        if keys == training_keys:
            return []
        added = [k for k in training_keys if k not in keys]
        ours = ', '.join(self.taxonomy_keys)
        if labeled is not None and [k for k in training_keys if k not in added] == keys:
            taught = [k for k in added if k in labeled]
            if not taught:
                return added
            raise ReviewtuiError(
                f"model {self.name!r} was trained on categories {ours} but the taxonomy now trains on "
                f"{', '.join(training_keys)}, and {', '.join(taught)}, added since, "
                f"{'has labels' if len(taught) == 1 else 'have labels'} now: retrain (reviewtui export, then "
                f"reviewtui train) so a model learns {'it' if len(taught) == 1 else 'them'}, or pick a model "
                "trained on this taxonomy")
        raise ReviewtuiError(
            f"model {self.name!r} was trained on categories {ours} but the taxonomy now trains on "
            f"{', '.join(training_keys)}: retrain (reviewtui train) or pick a model trained on this taxonomy"
        )


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"cannot write {type(value).__name__} to a model card")


def load_card(model_dir: Path) -> ModelCard:
    """The card of the model in ``model_dir``, named after the folder (the name written in the card
    is kept in ``saved_as``). Raises ReviewtuiError when absent or unreadable."""
    path = Path(model_dir) / CARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReviewtuiError(f"{model_dir} has no {CARD_FILE}: it is not a reviewtui model folder "
                             "(train one with reviewtui train)") from exc
    except PermissionError as exc:
        raise unreadable_error(path) from exc
    except (OSError, ValueError) as exc:
        raise ReviewtuiError(f"{path} is unreadable ({exc}); delete the model folder and retrain") from exc
    if not isinstance(data, dict) or "labels" not in data:
        raise ReviewtuiError(f"{path} is not a reviewtui model card; delete the model folder and retrain")
    try:
        card = ModelCard.from_dict(data, path=str(Path(model_dir)))
    except (TypeError, ValueError) as exc:  # a field missing or of another kind (a card edited by hand)
        raise ReviewtuiError(f"{path} is not a reviewtui model card ({exc}); delete the model folder and "
                             "retrain") from exc
    card.saved_as, card.name = card.name, folder_name(model_dir)
    return card


def folder_name(model_dir: Path) -> str:
    """The name of the model in ``model_dir``: the folder's name as given (a link keeps its own)."""
    name = Path(model_dir).name
    return name if name not in ("", "..") else Path(model_dir).resolve().name


def unreadable_error(path: Path) -> ReviewtuiError:
    """The error for a file of a model folder this user may not read (a teammate's model, a file
    saved 0600): the model is fine, its permissions are not."""
    return ReviewtuiError(f"{path} cannot be read (permission denied): the file is there, but this user may not "
                          f"read it; ask its owner to make it readable (chmod a+r {path}, or chmod -R a+rX on the "
                          "model folder), or use a copy of the folder you can read")


def check_readable(model_dir: Path) -> None:
    """Raise :func:`unreadable_error` for the first file of ``model_dir`` (or the folder itself)
    that this user may not open."""
    folder = Path(model_dir)
    try:
        children = sorted(folder.iterdir())
    except PermissionError as exc:
        raise unreadable_error(folder) from exc
    for child in children:
        if not child.is_file():
            continue
        try:
            os.close(os.open(child, os.O_RDONLY))
        except PermissionError as exc:
            raise unreadable_error(child) from exc


def now_iso() -> str:
    """A card's ``created_at``: :func:`reviewtui.files.utc_now`, the one timestamp format."""
    return utc_now()


#: The ``base`` of a tuned model's default name: a search picks its model among the candidates only
#: at its end, so ``reviewtui tune``, ``tune --detach`` and the app's search all name it alike.
TUNED_BASE = "tuned"


def default_model_name(dataset_version: str | None, base: str) -> str:
    """``<dataset version>-<base>-<local date-time>``: the folder name of a model saved without a
    name (``base``: the model's spec, ``quick``, ``auto`` for ``train --auto``, :data:`TUNED_BASE`
    for a search)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = base.replace("/", "-")
    return f"{dataset_version or 'model'}-{base}-{stamp}"


def hardware_info() -> dict[str, Any]:
    """Device, GPUs and library versions for the model card (imports torch)."""
    import torch
    import transformers

    info: dict[str, Any] = {
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gpus": [],
    }
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def check_model_name(name: str | None) -> None:
    """Raise ReviewtuiError when ``name`` cannot be a model's folder (``../evil``, ``.hidden``)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ReviewtuiError(f"model name {name!r} is not a valid folder name: use letters, digits, - and _")


def write_model_dir(models_dir: Path, name: str, fill, overwrite: bool = False) -> Path:
    """Create ``models_dir/name`` atomically: ``fill(tmp_folder)`` writes into a temp folder that is
    renamed into place only when it returns, its files with the permissions the user's umask gives
    (whatever mode the library that wrote them chose). Raises ReviewtuiError when the name is taken
    (unless ``overwrite``) or invalid."""
    check_model_name(name)
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / name
    if final.exists() and not overwrite:
        raise ReviewtuiError(f"model {name!r} already exists in {models_dir}: choose another --name "
                             "or delete that folder")
    tmp = make_temp_dir(models_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        plain = tmp.stat().st_mode  # 0777 less the umask
        fill(tmp)
        give_plain_permissions(tmp, plain)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


#: The file a quick model (and the quick half of an ensemble) keeps its classifier in.
QUICK_MODEL_FILE = "quick_model.npz"


def missing_files(model_dir: Path, card: ModelCard) -> list[str]:
    """The files a model of ``card``'s kind needs that are not in ``model_dir`` (deleted or moved
    by hand since it was saved): a quick model's classifier; a fine-tune's config, weights and
    tokenizer config, and its quick half when the card says it is an ensemble. The vocabulary is
    checked when the tokenizer is loaded (``loading.check_vocabulary``): some tokenizers keep it in
    no file (characters or bytes), others in files of other names, so no file name is asked for."""
    folder = Path(model_dir)
    need: list[tuple[str, ...]] = []
    if card.kind == "quick":
        need.append((QUICK_MODEL_FILE,))
    else:
        need += [("config.json",), ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                                     "pytorch_model.bin.index.json"), ("tokenizer_config.json",)]
        if card.hyperparameters.get("ensemble_quick"):
            need.append((QUICK_MODEL_FILE,))
    return [names[0] for names in need if not any((folder / n).is_file() for n in names)]


def list_cards(models_dir: Path) -> list[ModelCard]:
    """Cards of every model folder under ``models_dir``, oldest first; unreadable ones skipped."""
    cards: list[ModelCard] = []
    root = Path(models_dir)
    if not root.is_dir():
        return cards
    for child in root.iterdir():
        if child.name.startswith(".") or not (child / CARD_FILE).is_file():
            continue
        try:
            cards.append(load_card(child))
        except ReviewtuiError:
            continue
    cards.sort(key=lambda c: (c.created_at, c.name))
    return cards
