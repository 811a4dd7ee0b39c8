"""int8 prediction on the CPU through ONNX Runtime.

A transformer (a fine-tuned classifier, or the encoder of an ensemble's quick half) is exported to
ONNX once with torch's TorchScript exporter; ONNX Runtime's dynamic quantisation stores the weights
of its linear layers (``MatMul`` with a constant weight) in int8 with a scale per output channel and
quantises activations per batch over their full 8-bit range (PyTorch's x86 dynamic quantisation
keeps activations to 7 bits). The attention products stay in fp32. The quantised file is kept under
the cache folder it is given (``<cache>/int8/<hash>.onnx``, the hash of the weights, ONNX Runtime's
version and this module's format), so a later run loads it in a fraction of a second; without a
cache folder it lives in a temporary folder removed when the process ends. It is written to a
temporary name first and renamed, so an interrupted export leaves no file that looks finished.
With :data:`SHARED_ENV` set to a folder, int8 files are written there and looked for there first:
the workspaces of one machine then share them (the quick half of every default ensemble is the
same packaged MiniLM, whose export and quantisation take a few seconds). Files are named by their
weights, so a shared one is only ever used for the same weights.

On two cores of a Xeon with AMX, each MiniLM encoder ran at 1.6-1.8 times its fp32 speed under ONNX
Runtime in a loop of its own; in a predict run the default ensemble in int8 ran at 1.3 times
predict's fp32 and kept 97.6 % of its labels on 10,000 fintech reviews (bench/bench_predict.py).
:mod:`reviewtui.modeling.precision` computes the close calls again in fp32, which brings the
agreement to the level "auto" asks for (99.8 % there). On two AVX2 cores without native bf16, where
"auto" takes int8, an encoder ran at 1.5-1.9 times its fp32 speed, and a predict run with its close
calls at 1.07-1.16 times predict's fp32 (docs/BENCHMARKS.md).

:class:`OrtModel` answers the calls :mod:`reviewtui.modeling.forward`'s heads make of a
transformers model (``model(input_ids=..., attention_mask=..., output_hidden_states=...)`` returning
``logits`` and ``last_hidden_state``), so every head runs on it unchanged. onnxruntime, onnx and torch
load inside the functions.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

#: Bumped when the export or the quantisation changes, so older files are not reused.
FORMAT = 1
#: The ONNX opset of the export (ONNX Runtime 1.16 and later run it).
OPSET = 17
#: An environment variable naming a folder of int8 files shared by the workspaces of this machine.
SHARED_ENV = "REVIEWTUI_INT8_CACHE"


_scratch: Path | None = None


def _scratch_folder() -> Path:
    """This process's temporary folder for int8 files when no cache folder is given."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="reviewtui-int8-"))
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return _scratch


def available() -> bool:
    """Whether ONNX Runtime and onnx are installed (nothing is imported)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


#: Configuration keys that do not change what the model computes: where it was loaded from, the
#: classes it was saved from (the model's own class is hashed), the dtype it was saved in (the export
#: is in fp32) and the transformers version that wrote it. The same weights loaded from another
#: folder (the model train checked against the one it saved, whose config names the classifier
#: class where the base model's named the encoder's; a model folder copied to another workspace)
#: keep the name of their int8 file.
NOT_THE_MODEL = frozenset({"_name_or_path", "_commit_hash", "architectures", "torch_dtype", "dtype",
                           "transformers_version"})


def weights_key(model) -> str:
    """A hash of ``model``'s class, configuration (less :data:`NOT_THE_MODEL`) and weights, with ONNX
    Runtime's and torch's versions and :data:`FORMAT`: the name of its quantised file."""
    import onnxruntime
    import torch

    h = hashlib.sha1(f"{type(model).__name__}|{onnxruntime.__version__}|{torch.__version__}|{FORMAT}".encode())
    config = getattr(model, "config", None)
    if config is not None:
        h.update(json.dumps({k: v for k, v in config.to_dict().items() if k not in NOT_THE_MODEL}, sort_keys=True,
                            default=str).encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy())  # its buffer, not a copy
    return h.hexdigest()[:24]


def _export(model, path: Path) -> None:
    """Write ``model`` (a transformers model in fp32 on the CPU) to ``path`` as ONNX with the inputs
    input_ids and attention_mask (batch and length dynamic) and the outputs logits (for a
    classifier) and hidden (the last hidden layer)."""
    import torch

    class Exported(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            hidden = getattr(out, "last_hidden_state", None)
            if hidden is None:
                hidden = out.hidden_states[-1]
            logits = getattr(out, "logits", None)
            return (logits, hidden) if logits is not None else (hidden,)

    # the wrapper in eval mode too: the exporter puts every module back in the wrapper's mode after
    # tracing, and a new Module is in training mode, which left the exported model's dropout on
    wrapped = Exported(model.float().cpu().eval()).eval()
    # a padded row in the example, so no code path that skips the mask is traced
    ids = torch.full((2, 8), 5, dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    with torch.no_grad():
        names = ["logits", "hidden"] if len(wrapped(ids, mask)) == 2 else ["hidden"]
        axes = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
                **{n: {0: "batch"} for n in names}}
        with warnings.catch_warnings():  # the tracer's notes on Python-level checks in transformers
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapped, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                              output_names=names, dynamic_axes=axes, opset_version=OPSET, dynamo=False)


@contextmanager
def _quiet_quantizer():
    """ONNX Runtime's quantiser logs its advice ("Please consider to run pre-processing before
    quantization") on the root logger, which also sets up a handler on stderr when there is none:
    the advice landed in `reviewtui train`'s output and every later warning of any library with it.
    While it runs, the root logger gets a handler that drops its records (and a filter for them
    when the program has its own handlers)."""
    import logging

    root = logging.getLogger()

    def keep(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname or record.levelno > logging.WARNING

    null = logging.NullHandler() if not root.handlers else None
    if null is not None:
        root.addHandler(null)
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        if null is not None:
            root.removeHandler(null)


def quantised_file(model, cache_dir: Path | None) -> Path:
    """The int8 ONNX file of ``model``, exported and quantised unless the cache has it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    own = (Path(cache_dir) if cache_dir is not None else _scratch_folder()) / "int8"
    shared = os.environ.get(SHARED_ENV, "").strip()
    folders = ([Path(shared).expanduser()] if shared else []) + [own]
    name = f"{weights_key(model)}.onnx"
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    folder = folders[0]
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        _export(model, fp32)
        with _quiet_quantizer():
            quantize_dynamic(str(fp32), str(int8), per_channel=True, reduce_range=False,
                             weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
        os.replace(int8, path)
    return path


class OrtModel:
    """An int8 ONNX Runtime session standing in for the transformers model it was made from."""

    backend = "onnxruntime"

    def __init__(self, session, config: Any) -> None:
        self.session = session
        self.config = config
        self.outputs = [o.name for o in session.get_outputs()]

    def __call__(self, input_ids=None, attention_mask=None, output_hidden_states: bool = False, **_: Any):
        import torch

        classifier = "logits" in self.outputs
        wanted = (["logits"] if classifier else []) + (["hidden"] if output_hidden_states or not classifier else [])
        feeds = {"input_ids": input_ids.to("cpu", torch.long).numpy(),
                 "attention_mask": attention_mask.to("cpu", torch.long).numpy()}
        got = dict(zip(wanted, (torch.from_numpy(a) for a in self.session.run(wanted, feeds))))
        hidden = got.get("hidden")
        return SimpleNamespace(logits=got.get("logits"), last_hidden_state=hidden,
                               hidden_states=(hidden,) if hidden is not None else None)

    def eval(self) -> "OrtModel":
        return self

    def parameters(self):
        return iter(())

    def modules(self):
        return iter(())


def quantise(model, cache_dir: Path | None = None) -> OrtModel:
    """``model`` (a transformers model) as an int8 :class:`OrtModel` on the CPU, with as many
    threads as torch uses. Raises what the export or ONNX Runtime raised (an architecture the
    exporter cannot trace); the caller falls back to PyTorch's quantisation."""
    import onnxruntime as ort
    import torch

    path = quantised_file(model, cache_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return OrtModel(session, getattr(model, "config", None))
