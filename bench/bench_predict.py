"""Prediction on the CPU as a user runs it, against the original project's way, in the same run.

Parts (``--parts``, default ``cpu``):

* ``cpu``: N reviews sampled from ../shared/data/play-store-fintech (default 10,000) in a fresh
  workspace, and the model `reviewtui train` saves by default (the ensemble, trained here on
  dataset-11 with the [training] defaults, or ``--model-dir`` to reuse one). Timed, each as a
  subprocess so process start counts:

  - the original way: a transformers ``pipeline("text-classification")`` over the saved fine-tuned
    model, one review at a time;
  - ``reviewtui predict --sentiment none`` with a cold cache (no cache/ or results/ left), the
    default precision ("auto": int8 when the model's check allows it);
  - the same with ``[predict] precision = "fp32"``;

  and, in this process, steady throughput (model loaded, same texts) of the path `predict` ran
  before (two passes: the fine-tune in length-sorted batches of 64, then the packaged MiniLM for
  the quick half) against the path now (one tokenisation feeding both encoders) in fp32, bf16 (where
  native) and int8, with label agreement. int8 three ways: through ONNX Runtime with its close calls
  computed again in fp32 (what ``precision = "int8"`` runs), the same without them, and through
  PyTorch's dynamic quantisation (the way taken where onnxruntime is missing); and the seconds of
  the one-time export and quantisation.
  Goals: predict >= 3x the pipeline; int8 >= 2x the earlier batched fp32 with agreement >= 99.5%.
* ``embed``: filling the embedding cache (what the quick model, active learning and `--auto`'s
  heads read) with ``EmbeddingCache(precision=...)`` fp32 against auto (a bf16 copy of the encoder
  where bf16 is native): seconds for dataset-11 and ``--embed-reviews`` play-store-fintech reviews,
  the quick model's 5-fold CV accuracy on dataset-11 with each, and how often the quick models
  trained on each give the same label to the fintech reviews.
* ``ray``: the same saved model (``--model-dir``) over ``--ray-reviews`` reviews in one process and
  on a local two-node Ray cluster (Ray Data actor pool), in fp32: same labels, overhead per review.
* ``accuracy``: bench/predict_accuracy.py (the one-pass ensemble against the two-encoder ensemble
  on dataset-11's split and 5-fold CV); slow on a CPU (six fine-tunes).

The machine's load (/proc/loadavg) is printed and recorded before and after each part: the figures
mean something only when the 1-minute load stayed well under the number of cores. Writes its
section of docs/BENCHMARKS.md between <!-- predict:start --> and <!-- predict:end --> (``--no-write``
prints it instead).

    python bench/bench_predict.py --reviews 10000
    python bench/bench_predict.py --reviews 2000 --no-write        # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, fintech_reviews, log, ROOT, write_section  # noqa: E402

START, END = "<!-- predict:start -->", "<!-- predict:end -->"
RESULTS = ROOT / "bench" / "results" / "predict.json"

PIPELINE_SCRIPT = r'''
import json, sys, time
t0 = time.perf_counter()
from transformers import pipeline
from transformers.utils import logging

logging.disable_progress_bar(); logging.set_verbosity_error()
folder, texts_path, out_path = sys.argv[1:4]
texts = json.load(open(texts_path))
pipe = pipeline("text-classification", model=folder, tokenizer=folder, device=-1)
labels = [pipe(t, truncation=True, max_length=128)[0]["label"] for t in texts]
json.dump({"labels": labels, "seconds_inside": time.perf_counter() - t0}, open(out_path, "w"))
'''


def load() -> dict:
    """The machine's load averages and core count now."""
    one, five, fifteen = (float(x) for x in Path("/proc/loadavg").read_text().split()[:3])
    return {"load1": one, "load5": five, "load15": fifteen, "cpus": os.cpu_count(), "at": time.strftime("%H:%M:%S")}


def quiet(before: dict, after: dict) -> bool:
    """True when the 1-minute load was under half the cores before the part started and, after it,
    not above what the part's own torch threads make (one runnable thread a core)."""
    cpus = before["cpus"] or 1
    return before["load1"] < 0.5 * cpus and after["load1"] <= cpus + 0.5


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


def train_default_model(models_dir: Path, epochs: int | None = None, check_texts=()) -> Path:
    """The model `reviewtui train` saves by default, trained on dataset-11 ([training] defaults;
    ``epochs`` fewer for a quick look: throughput does not depend on them); its faster precisions
    are checked on the held-out rows and ``check_texts`` (the workspace's first reviews, as
    ``Workspace.train`` does)."""
    import pandas as pd

    from reviewtui.modeling.finetune import train_model
    from reviewtui.settings import ActiveLearningSettings, ModelSettings, TrainingSettings

    df = pd.read_csv(DATA / "medium-reviews" / "dataset-11.csv")
    labels = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
    from dataclasses import replace

    training = TrainingSettings() if epochs is None else replace(TrainingSettings(), epochs=epochs)
    card = train_model(df, models_dir=models_dir, label_keys=labels, model=ModelSettings(), training=training,
                       quick_C=ActiveLearningSettings().C, name="default-ensemble", dataset_version="dataset-11",
                       check_texts=check_texts)
    return Path(card.path)


def run_cli(ws: Path, *args: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "reviewtui", "--workspace", str(ws), *args], env=child_env(),
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"reviewtui {' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return seconds


def set_precision(ws: Path, precision: str) -> None:
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    try:
        w.config.update_section("predict", {"precision": precision})
    finally:
        w.close()


def cold(ws: Path) -> None:
    for name in ("cache", "results"):
        shutil.rmtree(ws / name, ignore_errors=True)


def result_labels(ws: Path) -> tuple[list[str], dict]:
    import csv

    with open(ws / "results" / "result.csv", newline="", encoding="utf-8") as fh:
        labels = [r["predicted_category"] for r in csv.DictReader(fh)]
    return labels, json.loads((ws / "results" / "result.json").read_text())


def steady(folder: Path, texts: list[str]) -> dict:
    """In-process throughput with the model loaded: the earlier two-pass fp32 path, and the path now
    in fp32, int8 and (on a CPU with native bf16) bf16."""
    import numpy as np
    import torch

    from reviewtui.modeling.batching import encode_texts, predict_logits
    from reviewtui.modeling.embeddings import load_encoder_cached
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.loading import resolve_model
    from reviewtui.modeling.metrics import softmax

    from reviewtui.modeling import onnx_int8, precision

    out: dict = {"threads": torch.get_num_threads()}
    fp32 = SavedClassifier.load(folder, precision="fp32", device="cpu")
    int8 = SavedClassifier.load(folder, precision="int8", device="cpu")
    warm = texts[:256]
    fp32.predict_proba(warm)
    t0 = time.perf_counter()
    int8.prepare(warm)  # exports and quantises both encoders (once per model; kept in the cache after)
    out["int8_export_s"] = time.perf_counter() - t0
    int8.predict_proba(warm)
    int8.rechecked = 0
    margin = precision.RECHECK_MARGIN
    precision.RECHECK_MARGIN = 0.0  # int8 alone: no close call computed again
    plain = SavedClassifier.load(folder, precision="int8", device="cpu")
    plain.predict_proba(warm)
    precision.RECHECK_MARGIN = margin
    available = onnx_int8.available
    onnx_int8.available = lambda: False  # PyTorch's dynamic quantisation, as where onnxruntime is missing
    try:
        torch_int8 = SavedClassifier.load(folder, precision="int8", device="cpu")
        torch_int8.predict_proba(warm)
    finally:
        onnx_int8.available = available
    torch_int8.rechecked = 0
    tok, enc = load_encoder_cached(resolve_model("minilm"))
    predict_logits(fp32._model, fp32._tokenizer, warm)  # the earlier path, warmed too
    encode_texts(tok, enc, warm)

    t0 = time.perf_counter()
    p_ft = softmax(predict_logits(fp32._model, fp32._tokenizer, texts, max_length=fp32.max_length))
    t_ft = time.perf_counter() - t0
    t0 = time.perf_counter()
    encode_texts(tok, enc, texts)
    t_second = time.perf_counter() - t0
    out["earlier_finetune_only_rps"] = len(texts) / t_ft
    out["earlier_two_pass_rps"] = len(texts) / (t_ft + t_second)
    t0 = time.perf_counter()
    p32 = fp32.predict_proba(texts)
    out["now_fp32_rps"] = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    p8 = int8.predict_proba(texts)
    out["now_int8_rps"] = len(texts) / (time.perf_counter() - t0)
    out["int8_vs_fp32_agreement"] = float(np.mean(p32.argmax(1) == p8.argmax(1)))
    out["int8_backend"] = int8.choice.extra.get("backend")
    out["int8_rechecked"] = int8.rechecked / len(texts)
    out["recheck_margin"] = margin
    precision.RECHECK_MARGIN = 0.0
    try:
        t0 = time.perf_counter()
        p8_plain = plain.predict_proba(texts)
        out["int8_plain_rps"] = len(texts) / (time.perf_counter() - t0)
    finally:
        precision.RECHECK_MARGIN = margin
    out["int8_plain_agreement"] = float(np.mean(p32.argmax(1) == p8_plain.argmax(1)))
    t0 = time.perf_counter()
    p8_torch = torch_int8.predict_proba(texts)
    out["torch_int8_rps"] = len(texts) / (time.perf_counter() - t0)
    out["torch_int8_agreement"] = float(np.mean(p32.argmax(1) == p8_torch.argmax(1)))
    out["torch_int8_rechecked"] = torch_int8.rechecked / len(texts)
    out["ensemble_vs_finetune_agreement"] = float(np.mean(p32.argmax(1) == p_ft.argmax(1)))
    out["int8_over_earlier_finetune"] = out["now_int8_rps"] / out["earlier_finetune_only_rps"]
    out["int8_over_earlier_two_pass"] = out["now_int8_rps"] / out["earlier_two_pass_rps"]
    out["int8_over_now_fp32"] = out["now_int8_rps"] / out["now_fp32_rps"]
    from reviewtui.modeling.precision import cpu_bf16_native

    out["cpu_bf16_native"] = cpu_bf16_native()
    if out["cpu_bf16_native"]:  # a bf16 copy of both encoders (what "auto" runs here when its check passes)
        bf16 = SavedClassifier.load(folder, precision="bf16", device="cpu")
        bf16.predict_proba(warm)
        t0 = time.perf_counter()
        p16 = bf16.predict_proba(texts)
        out["now_bf16_rps"] = len(texts) / (time.perf_counter() - t0)
        out["bf16_vs_fp32_agreement"] = float(np.mean(p32.argmax(1) == p16.argmax(1)))
        out["bf16_over_earlier_finetune"] = out["now_bf16_rps"] / out["earlier_finetune_only_rps"]
        out["bf16_over_now_fp32"] = out["now_bf16_rps"] / out["now_fp32_rps"]
    return out


def bench_cpu(n: int, work: Path, model_dir: Path | None, epochs: int | None = None) -> dict:
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    loads = {"before": load()}
    log(f"load before: {loads['before']}")
    ids, texts, meta, _ = fintech_reviews(n)
    ws_path = work / "ws"
    ws = Workspace.init(ws_path)
    ws.store.add_assets([NewAsset(i, t, m) for i, t, m in zip(ids, texts, meta)])
    texts = [a.text for a in ws.store.iter_assets()]
    ws.close()
    t0 = time.perf_counter()
    if model_dir is None:
        log("training the default ensemble on dataset-11 (the [training] defaults)")
        from reviewtui.modeling.precision import CHECK_ROWS

        model_dir = train_default_model(ws_path / "models", epochs, check_texts=texts[:CHECK_ROWS])
    else:
        shutil.copytree(model_dir, ws_path / "models" / model_dir.name)
        model_dir = ws_path / "models" / model_dir.name
    train_s = time.perf_counter() - t0
    card = json.loads((model_dir / "model_card.json").read_text())
    log(f"model {model_dir.name}: ensemble_features={card['hyperparameters'].get('ensemble_features')}, "
        f"precision checks {card.get('precision_checks')}")

    texts_path = work / "texts.json"
    texts_path.write_text(json.dumps(texts))
    log(f"pipeline one at a time over {len(texts)} reviews (subprocess)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", PIPELINE_SCRIPT, str(model_dir), str(texts_path), str(work / "pipe.json")],
                   env=child_env(), check=True, capture_output=True)
    t_pipe = time.perf_counter() - t0
    pipe = json.loads((work / "pipe.json").read_text())
    log(f"pipeline: {t_pipe:.1f}s")

    cold(ws_path)
    log("reviewtui predict --sentiment none (default precision, cold cache, subprocess)")
    t_auto = run_cli(ws_path, "predict", "--sentiment", "none")
    auto_labels, auto_meta = result_labels(ws_path)
    log(f"reviewtui predict: {t_auto:.1f}s, precision {auto_meta.get('precision')}")
    set_precision(ws_path, "fp32")
    cold(ws_path)
    t_fp32 = run_cli(ws_path, "predict", "--sentiment", "none")
    fp32_labels, fp32_meta = result_labels(ws_path)
    log(f"reviewtui predict, fp32: {t_fp32:.1f}s")
    set_precision(ws_path, "auto")

    log("steady throughput in this process")
    st = steady(model_dir, texts)
    loads["after"] = load()
    log(f"load after: {loads['after']}")
    agree = lambda a, b: sum(x == y for x, y in zip(a, b)) / max(1, len(a))  # noqa: E731
    return {"reviews": len(texts), "pipeline_s": t_pipe, "predict_s": t_auto, "predict_fp32_s": t_fp32,
            "speedup": t_pipe / t_auto, "speedup_fp32": t_pipe / t_fp32, "precision": auto_meta.get("precision"),
            "precision_info": auto_meta.get("precision_info"),
            "agree_pipeline_vs_finetune_head": agree(pipe["labels"], fp32_labels),
            "agree_int8_vs_fp32_predict": agree(auto_labels, fp32_labels), "steady": st, "train_s": train_s,
            "model": model_dir.name, "epochs": epochs, "loads": loads, "quiet": quiet(loads["before"], loads["after"]),
            "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version()}


# --- embed -------------------------------------------------------------------------------------------
def bench_embed(n: int, work: Path) -> dict:
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.modeling.precision import cpu_bf16_native
    from reviewtui.modeling.quick import QuickModel
    from reviewtui.settings import ActiveLearningSettings

    loads = {"before": load()}
    df = pd.read_csv(DATA / "medium-reviews" / "dataset-11.csv")
    texts, y = df["content"].astype(str).tolist(), np.asarray(df["label"])
    _, fintech, _, _ = fintech_reviews(n)
    C = ActiveLearningSettings().C
    EmbeddingCache(work / "warm", "minilm", precision="fp32").embed(texts[:64])  # load the encoder once
    out: dict = {"cpu_bf16_native": cpu_bf16_native(), "reviews": len(fintech), "labeled": len(texts)}
    vectors = {}
    for precision in ("fp32", "auto"):
        cache = EmbeddingCache(work / precision, "minilm", precision=precision)
        t0 = time.perf_counter()
        X = cache.embed(texts)
        F = cache.embed(fintech)
        seconds = time.perf_counter() - t0
        accs = []
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=42).split(X, y):
            q = QuickModel(C=C).fit(X[tr], list(y[tr]))
            accs.append(float(np.mean(np.asarray(q.predict(X[te])) == y[te])))
        labels = sorted(set(y))
        pred = QuickModel(C=C).fit(X, list(y)).proba_for(F, labels).argmax(1)
        vectors[precision] = F
        out[precision] = {"encoded_in": cache.encoded_in, "seconds": seconds,
                          "texts_per_s": (len(texts) + len(fintech)) / seconds, "cv_accuracy": float(np.mean(accs)),
                          "pred": pred}
        log(f"embed {precision} ({cache.encoded_in}): {seconds:.1f}s, CV accuracy {np.mean(accs):.3f}")
    out["label_agreement"] = float(np.mean(out["fp32"].pop("pred") == out["auto"].pop("pred")))
    out["min_cosine"] = float((vectors["fp32"] * vectors["auto"]).sum(1).min())
    out["speedup"] = out["fp32"]["seconds"] / out["auto"]["seconds"]
    loads["after"] = load()
    out.update(loads=loads, quiet=quiet(loads["before"], loads["after"]),
               at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return out


# --- ray ---------------------------------------------------------------------------------------------
class LocalRayCluster:
    """A two-node Ray cluster on this machine (``ray start --head`` and a node joining it, ``cpus``
    each), with a token of its own; ended by its process groups' ids on exit."""

    def __init__(self, cpus: int = 1) -> None:
        self.cpus = cpus
        self.procs: list[subprocess.Popen] = []

    @staticmethod
    def _port() -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __enter__(self) -> str:
        import secrets

        self.temp = Path(tempfile.mkdtemp(prefix="rt-ray-", dir="/tmp"))
        os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
        ray_exe = str(Path(sys.executable).with_name("ray"))
        port = self._port()
        common = ["--num-cpus", str(self.cpus), "--num-gpus", "0", "--disable-usage-stats", "--block"]
        self.log = open(self.temp / "ray.log", "w")
        env = {**child_env(), "RAY_USAGE_STATS_ENABLED": "0"}
        self.procs.append(subprocess.Popen([ray_exe, "start", "--head", "--port", str(port), "--include-dashboard",
                                            "false", "--temp-dir", str(self.temp), *common], env=env, stdout=self.log,
                                           stderr=subprocess.STDOUT, start_new_session=True))
        address = f"127.0.0.1:{port}"
        time.sleep(10)
        self.procs.append(subprocess.Popen([ray_exe, "start", "--address", address, *common], env=env,
                                           stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True))
        code = ("import ray; ray.init(address=%r, log_to_driver=False); "
                "print(sum(1 for n in ray.nodes() if n['Alive'])); ray.shutdown()" % address)
        for _ in range(60):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env())
            if out.returncode == 0 and out.stdout.strip().endswith("2"):
                return address
            time.sleep(2)
        raise SystemExit("the local Ray cluster did not come up: " + (self.temp / "ray.log").read_text()[-2000:])

    def __exit__(self, *exc) -> None:
        import signal

        for proc in reversed(self.procs):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                time.sleep(5)
        self.log.close()
        shutil.rmtree(self.temp, ignore_errors=True)


def bench_ray(n: int, work: Path, model_dir: Path, cpus: int = 1) -> dict:
    """Single-process predict against predict on a local two-node Ray cluster, same reviews, model
    and precision (fp32), same machine: label agreement and the overhead per review."""
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    loads = {"before": load()}
    ids, texts, meta, _ = fintech_reviews(n, seed=1)
    ws = Workspace.init(work / "ray-ws")
    ws.store.add_assets([NewAsset(i, t, m) for i, t, m in zip(ids, texts, meta)])
    shutil.copytree(model_dir, ws.models_dir / model_dir.name)
    try:
        t0 = time.perf_counter()
        local = ws.predict(model_dir.name, sentiment="none", precision="fp32")
        t_local = time.perf_counter() - t0
        local_labels = result_labels(ws.root)[0]
        with LocalRayCluster(cpus) as address:
            t0 = time.perf_counter()
            remote = ws.predict(model_dir.name, sentiment="none", precision="fp32", ray_address=address)
            t_ray = time.perf_counter() - t0
        ray_labels = result_labels(ws.root)[0]
    finally:
        ws.close()
    loads["after"] = load()
    same = sum(a == b for a, b in zip(local_labels, ray_labels)) / max(1, len(local_labels))
    log(f"ray: single process {t_local:.1f}s, Ray {t_ray:.1f}s, labels equal {same:.2%}")
    return {"reviews": local.rows, "local_s": t_local, "ray_s": t_ray, "same_labels": same, "chunks": remote.chunks,
            "overhead_ms_per_review": 1000 * (t_ray - t_local) / max(1, local.rows), "cpus_per_node": cpus,
            "loads": loads, "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def load_phrase(part: dict) -> str:
    """The 1-minute load before and after a part of the run, as its report says it."""
    return f"load {part['loads']['before']['load1']:.2f} before, {part['loads']['after']['load1']:.2f} after"


def section(res: dict) -> str:
    c = res.get("cpu")
    lines = [START, "## Prediction near the hardware's limit (`bench/bench_predict.py`, `bench/bench_predict_gpu.py`)",
             "", "### On the CPU, as a user runs it", ""]
    if c:
        st = c["steady"]
        lb, la = c["loads"]["before"], c["loads"]["after"]
        verdict = "quiet" if c["quiet"] else "NOT quiet (other work was running: rerun on a quiet machine)"
        lines += [
            f"Run {c['at']} on {platform.machine()}, {lb['cpus']} CPUs, torch threads {st['threads']}; load average "
            f"(1/5/15 min) {lb['load1']:.2f}/{lb['load5']:.2f}/{lb['load15']:.2f} before and "
            f"{la['load1']:.2f}/{la['load5']:.2f}/{la['load15']:.2f} after: {verdict}. "
            f"{c['reviews']:,} reviews sampled from play-store-fintech; the model `reviewtui train` saves by default "
            f"(the ensemble, trained on dataset-11 with the [training] defaults"
            + (f", {c['epochs']} epochs instead of the default for this quick look" if c.get("epochs") else "")
            + ").", "",
            "| way (each a fresh process, model loading included) | seconds | reviews/s | x pipeline |",
            "|---|---:|---:|---:|",
            f"| original: transformers pipeline over the saved fine-tune, one review at a time | {c['pipeline_s']:.1f} | "
            f"{c['reviews'] / c['pipeline_s']:.0f} | 1.00 |",
            f"| `reviewtui predict --sentiment none`, cold cache, precision auto ({c['precision']}) | {c['predict_s']:.1f} | "
            f"{c['reviews'] / c['predict_s']:.0f} | **{c['speedup']:.2f}** |",
            f"| the same with `[predict] precision = \"fp32\"` | {c['predict_fp32_s']:.1f} | "
            f"{c['reviews'] / c['predict_fp32_s']:.0f} | {c['speedup_fp32']:.2f} |", "",
            "Steady throughput, model loaded, same reviews, this process:", "",
            "| path | reviews/s |", "|---|---:|",
            f"| earlier predict: fine-tune in length-sorted batches of 64, fp32 (the fine-tune alone) | "
            f"{st['earlier_finetune_only_rps']:.0f} |",
            f"| earlier predict: the same plus the packaged-MiniLM pass for the quick half | {st['earlier_two_pass_rps']:.0f} |",
            f"| predict now: token-budget batches, one tokenisation for both encoders, fp32 | {st['now_fp32_rps']:.0f} |",
            f"| predict now, int8 through ONNX Runtime (both encoders), the close calls (top two within "
            f"{st.get('recheck_margin', 0.15):.2f}) computed again in fp32: {st.get('int8_rechecked', 0):.1%} of the reviews "
            f"| {st['now_int8_rps']:.0f} |",
            f"| the same without computing the close calls again | {st['int8_plain_rps']:.0f} |"
            if st.get("int8_plain_rps") else None,
            f"| int8 through PyTorch's dynamic quantisation (the fine-tune; where onnxruntime is missing), close calls in "
            f"fp32 ({st['torch_int8_rechecked']:.1%}) | {st['torch_int8_rps']:.0f} |" if st.get("torch_int8_rps") else None,
        ] + ([f"| predict now, bf16 (a bf16 copy of both encoders; this CPU computes bf16 natively) | "
              f"{st['now_bf16_rps']:.0f} |"] if st.get("now_bf16_rps") else []) + [
            "",
            f"int8 / earlier batched fp32: **{st['int8_over_earlier_finetune']:.2f}x** (fine-tune alone), "
            f"{st['int8_over_earlier_two_pass']:.2f}x (the earlier two-pass ensemble); int8 / fp32 now "
            f"{st['int8_over_now_fp32']:.2f}x. Labels: int8 agrees with fp32 on "
            f"**{st['int8_vs_fp32_agreement']:.2%}** of the {c['reviews']:,} reviews"
            + (f" ({st['int8_plain_agreement']:.2%} without the close calls computed again; PyTorch's int8 "
               f"{st['torch_int8_agreement']:.2%}). The export and quantisation of both encoders took "
               f"{st['int8_export_s']:.1f} s, once per model (the file is kept in the workspace cache)"
               if st.get("int8_plain_rps") else "") + ". The two predict runs, auto "
            f"({c['precision']}) and fp32, agree on {c['agree_int8_vs_fp32_predict']:.2%} of the labels; auto chose "
            f"{c['precision']} because: {(c.get('precision_info') or {}).get('reason')} (the model card's check on "
            f"dataset-11's held-out rows).", "",
        ] + ([f"bf16 / earlier batched fp32: **{st['bf16_over_earlier_finetune']:.2f}x** (fine-tune alone); bf16 / fp32 "
              f"now {st['bf16_over_now_fp32']:.2f}x; labels: bf16 agrees with fp32 on **{st['bf16_vs_fp32_agreement']:.2%}** "
              f"of the {c['reviews']:,} reviews.", ""] if st.get("now_bf16_rps") else []) + [
            f"Goals: predict >= 3x the pipeline: {'met' if c['speedup'] >= 3 else 'not met'} ({c['speedup']:.2f}x); "
            f"int8 >= 2x earlier batched fp32 with >= 99.5% agreement: against the same model's earlier path (the "
            f"two-pass ensemble) "
            f"{'met' if st['int8_over_earlier_two_pass'] >= 2 and st['int8_vs_fp32_agreement'] >= 0.995 else 'not met'}"
            f", against the fine-tune alone "
            f"{'met' if st['int8_over_earlier_finetune'] >= 2 and st['int8_vs_fp32_agreement'] >= 0.995 else 'not met'}"
            + (f"; bf16, the faster reduced precision on this CPU, >= 2x earlier batched fp32 with >= 99.5% agreement: "
               f"{'met' if st['bf16_over_earlier_finetune'] >= 2 and st['bf16_vs_fp32_agreement'] >= 0.995 else 'not met'}"
               if st.get("now_bf16_rps") else "") + ".",
        ]
    a = res.get("accuracy")
    if a:
        lines += ["", f"### One pass for the ensemble: accuracy on dataset-11 (split and {a['folds']}-fold CV)", "",
                  "| way | split accuracy | split weighted F1 | CV accuracy | CV weighted F1 |", "|---|---:|---:|---:|---:|"]
        for way, m in a["table"].items():
            cv = m.get("cv") or {}
            lines.append(f"| {way} | {m['split']['accuracy']:.3f} | {m['split']['f1_weighted']:.3f} | "
                         f"{cv.get('accuracy', float('nan')):.3f} | {cv.get('f1_weighted', float('nan')):.3f} |")
        lines += ["", f"int8 against fp32 on the test rows of each split: agreement {a['int8_agreement_min']:.1%} at "
                      f"the least ({a['int8_agreement_mean']:.1%} on average); measured {a['at']}, {a['seconds']:.0f} s."]
    e = res.get("embed")
    if e:
        lines += ["", "### Filling the embedding cache: fp32 against a bf16 copy of the encoder", "",
                  f"Run {e['at']}: MiniLM embeddings of dataset-11's {e['labeled']} reviews and {e['reviews']:,} "
                  f"play-store-fintech reviews into a fresh cache; this CPU computes bf16 natively: "
                  f"{'yes' if e['cpu_bf16_native'] else 'no'}; {load_phrase(e)}"
                  f"{'' if e['quiet'] else ' (NOT quiet)'}.", "",
                  "| `EmbeddingCache` precision | encoded in | seconds | texts/s | quick model, 5-fold CV accuracy on dataset-11 |",
                  "|---|---|---:|---:|---:|"]
        for name in ("fp32", "auto"):
            m = e[name]
            lines.append(f"| {name} | {m['encoded_in']} | {m['seconds']:.1f} | {m['texts_per_s']:.0f} | "
                         f"{m['cv_accuracy']:.3f} |")
        lines += ["", f"auto / fp32: **{e['speedup']:.2f}x**. The quick models trained on dataset-11 with each give the "
                      f"same label to {e['label_agreement']:.2%} of the fintech reviews; the least cosine between a "
                      f"review's two vectors: {e['min_cosine']:.4f}."]
    r = res.get("ray")
    if r:
        lines += ["", "### Ray Data on a local two-node cluster", "",
                  f"Run {r['at']}: {r['reviews']:,} play-store-fintech reviews, the same saved model in fp32, "
                  f"{r['chunks']} chunks; a head and a second node on this machine ({r['cpus_per_node']} CPU each); "
                  f"{load_phrase(r)}.", "",
                  "| way | seconds |", "|---|---:|",
                  f"| single process (`Workspace.predict`) | {r['local_s']:.1f} |",
                  f"| Ray Data actor pool (`Workspace.predict(ray_address=...)`, connecting and actor start included) | "
                  f"{r['ray_s']:.1f} |", "",
                  f"Same labels: {r['same_labels']:.2%}. Overhead: {r['overhead_ms_per_review']:+.2f} ms per review "
                  "(the cluster's two nodes share this machine's cores, so this is the cost of Ray's machinery, "
                  "not a speed-up)."]
    lines.append(END)
    return "\n".join(line for line in lines if line is not None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--parts", default="cpu", help="cpu,embed,ray,accuracy")
    ap.add_argument("--ray-reviews", type=int, default=4096)
    ap.add_argument("--embed-reviews", type=int, default=5000)
    ap.add_argument("--model-dir", type=Path, help="a saved default ensemble to reuse (else trained on dataset-11)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, help="train the model with fewer epochs (a quick look; default: [training])")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    res = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    work = Path(tempfile.mkdtemp(prefix="reviewtui-bench-predict-"))
    try:
        if "cpu" in parts:
            res["cpu"] = bench_cpu(args.reviews, work, args.model_dir, args.epochs)
        if "embed" in parts:
            res["embed"] = bench_embed(args.embed_reviews, work / "embed")
        if "ray" in parts:
            if args.model_dir is None:
                raise SystemExit("--parts ray needs --model-dir (a saved model to run)")
            res["ray"] = bench_ray(args.ray_reviews, work, args.model_dir)
        if "accuracy" in parts:
            from bench.predict_accuracy import measure

            res["accuracy"] = measure(args.folds, work / "accuracy")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2, default=str) + "\n")
    text = section(res)
    if args.no_write:
        print(text)
    else:
        write_section(text, START, END)
        log("wrote the predict section of docs/BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
