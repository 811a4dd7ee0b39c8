"""The steps of ``check``. check.py runs each in its own child process, with its own time limit,
as this file run by its path (so the reviewtui installed in that Python is the one checked); by
hand from the folder holding tools/::

    python -m tools.gpubox.steps STEP PARAMS.json RESULT.json

A step reads its parameters from PARAMS.json and writes RESULT.json: ``status`` ("ok" or
"failed"), ``lines`` (what the report prints), ``checks`` (name -> {"ok", "detail"}) and the
measured figures. Only reviewtui's public API is used (``reviewtui.workspace.Workspace`` and the
``reviewtui.events`` it emits); torch, transformers and Ray load inside the steps that need them.
Training is watched from the outside, through transformers' public ``Trainer.train`` and a torch
forward hook, to see the precision it really runs in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

MODEL_NAME = "gpu-check"


class StepError(Exception):
    """The step could not do its work; the message is the report's line."""


def check(ok: bool, detail: str) -> dict[str, Any]:
    return {"ok": bool(ok), "detail": detail}


def _n(value: Any) -> str:
    """A number without a needless ".0" (1.0 -> "1", 2.5 -> "2.5"); "?" when there is none."""
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _mb(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)


def cuda_summary() -> dict[str, Any]:
    """torch's view of the GPU: available, device name, bf16 support (imports torch)."""
    import torch

    info: dict[str, Any] = {"cuda": bool(torch.cuda.is_available())}
    if info["cuda"]:
        info["device"] = torch.cuda.get_device_name(0)
        info["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
    return info


# --- env ------------------------------------------------------------------------------------------
def step_env(p: dict[str, Any]) -> dict[str, Any]:
    """Versions and the GPU as torch sees it; every import the other steps need."""
    import importlib
    import platform

    data: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpu_count": os.cpu_count(), "versions": {}}
    checks: dict[str, Any] = {}
    for module in ("reviewtui", "torch", "transformers", "ray", "ray.tune"):
        try:
            mod = importlib.import_module(module)
            data["versions"][module] = getattr(mod, "__version__", None)
            if module == "reviewtui":
                data["reviewtui_path"] = str(Path(mod.__file__).parent)
            checks[f"import {module}"] = check(True, str(data["versions"][module] or "ok"))
        except Exception as exc:  # report every import, not only the first that fails
            checks[f"import {module}"] = check(False, f"{exc.__class__.__name__}: {exc}")
    data["versions"].pop("ray.tune", None)
    v = data["versions"]
    lines = [f"Python {data['python']} on {data['platform']}, {data['cpu_count']} CPU cores",
             "reviewtui {}, torch {}, transformers {}, Ray {}".format(
                 v.get("reviewtui") or "missing", v.get("torch") or "missing",
                 v.get("transformers") or "missing", v.get("ray") or "missing")]
    data["gpu"] = False
    if v.get("torch"):
        import torch

        data["torch_cuda"] = torch.version.cuda
        data["gpu"] = bool(torch.cuda.is_available())
        if data["gpu"]:
            devices = []
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                devices.append({"index": i, "name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                                "capability": f"{props.major}.{props.minor}"})
            data["devices"] = devices
            data["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
            first = devices[0]
            lines.append(f"GPU: {first['name']} ({first['memory_gib']} GiB, compute {first['capability']})"
                         + (f" and {len(devices) - 1} more" if len(devices) > 1 else "")
                         + f"; torch built for CUDA {torch.version.cuda}; bf16 "
                         + ("supported" if data["bf16_supported"] else "NOT supported (training uses fp16)"))
        elif torch.version.cuda:
            lines.append(f"no GPU: this torch is built for CUDA {torch.version.cuda} but sees no device "
                         "(check the driver with nvidia-smi, and CUDA_VISIBLE_DEVICES)")
        else:
            lines.append("no GPU: this torch is a CPU-only build (install the CUDA build to use a GPU)")
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20).stdout.strip()
            data["nvidia_smi"] = out.splitlines()
            if out:
                lines.append(f"nvidia-smi: {out.splitlines()[0]} (driver)")
        except (OSError, subprocess.SubprocessError) as exc:
            data["nvidia_smi"] = [f"failed: {exc}"]
    return {"lines": lines, "checks": checks, **data}


# --- setup ----------------------------------------------------------------------------------------
def step_setup(p: dict[str, Any]) -> dict[str, Any]:
    """The workspace the other steps use: the demo (`reviewtui demo`) or a copy of the user's
    labeled version, configured for a short run."""
    from reviewtui.workspace import Workspace

    root = Path(p["ws"])
    if p.get("workspace"):
        src = Workspace.open(p["workspace"])
        try:
            info = src.version_info(p["version"]) if p.get("version") else src.latest_version()
            categories = src.taxonomy.to_list()
        finally:
            src.close()
        ws = Workspace.init(root, name="gpu-check")
        ws.config.set_categories(categories)
        ws.import_versions([info.csv_path])
        ws.import_reviews([info.csv_path])  # its rows are also the reviews to predict
        source = f"{p['workspace']} ({info.name})"
    else:
        cmd = [sys.executable, "-m", "reviewtui", "demo", str(root), "--size", str(p["rows"]), "--seed", str(p["seed"])]
        print("$", " ".join(cmd), flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True)
        print(done.stdout + done.stderr, flush=True)
        if done.returncode != 0:
            raise StepError(f"`reviewtui demo` exited {done.returncode}: "
                            + ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1])
        ws = Workspace.open(root)
        source = "the demo data (reviewtui demo)"
    try:
        for path in p.get("reviews") or []:
            ws.import_reviews([path])
        model = p["model"]
        if model not in ("minilm", "mpnet") and Path(model).expanduser().exists():
            model = str(Path(model).expanduser().resolve())
        ws.config.update_section("model", {"base": model})
        epochs = int(p["epochs"])
        ws.config.update_section("training", {"epochs": epochs, "early_stopping_patience": max(1, epochs // 2)})
        tune_epochs = int(p["tune_epochs"])
        tuning: dict[str, Any] = {"trials": int(p["trials"]), "max_epochs": tune_epochs, "epochs": [1, tune_epochs],
                                  "batch_size": [16, 32], "time_budget_s": float(p["tune_budget"])}
        if p.get("gpus_per_trial"):
            tuning["gpus_per_trial"] = float(p["gpus_per_trial"])
        ws.config.update_section("tuning", tuning)
        status = ws.status()
        version = ws.latest_version()
        data = {"workspace": str(ws.root), "source": source, "reviews": status.assets,
                "version": version.name, "version_rows": version.rows, "model": model}
    finally:
        ws.close()
    lines = [f"{source}: {data['reviews']:,} reviews; training on {data['version']} "
             f"({data['version_rows']:,} labeled rows); [model] base = {model}"]
    return {"lines": lines, "checks": {}, **data}


# --- train ----------------------------------------------------------------------------------------
@contextmanager
def watch_trainer() -> Iterator[dict[str, Any]]:
    """Record how transformers' Trainer really trains (mixed-precision flags, where the weights are
    and their dtype, the dtype of the classifier head's output in the first training forward pass)
    by wrapping the public ``Trainer.train`` while the block runs. Yields the dict it fills."""
    import torch
    import transformers

    seen: dict[str, Any] = {}
    original = transformers.Trainer.train

    def train(self, *args, **kwargs):
        param = next(self.model.parameters())
        seen.update(bf16=bool(self.args.bf16), fp16=bool(self.args.fp16), param_dtype=str(param.dtype),
                    param_device=str(param.device), batch_size=self.args.per_device_train_batch_size)

        def hook(module, inputs, output):
            if "forward_dtype" not in seen and module.training and hasattr(output, "dtype"):
                seen["forward_dtype"] = str(output.dtype)
                seen["forward_device"] = str(output.device)

        linears = [m for m in self.model.modules() if isinstance(m, torch.nn.Linear)]
        handle = linears[-1].register_forward_hook(hook) if linears else None
        try:
            return original(self, *args, **kwargs)
        finally:
            if handle is not None:
                handle.remove()

    transformers.Trainer.train = train
    try:
        yield seen
    finally:
        transformers.Trainer.train = original


def _printing_sink(prefix: str) -> Callable[[Any], None]:
    from reviewtui.events import Notice, Progress

    last = {"t": 0.0}

    def sink(event: Any) -> None:
        if isinstance(event, Notice):
            print(f"{prefix} {event.level}: {event.text}", flush=True)
        elif isinstance(event, Progress) and time.monotonic() - last["t"] > 5:
            last["t"] = time.monotonic()
            total = f"/{event.total}" if event.total else ""
            print(f"{prefix} {event.task} {event.done}{total} {event.detail}", flush=True)

    return sink


def step_train(p: dict[str, Any]) -> dict[str, Any]:
    """Fine-tune [model] base on the latest version through Workspace.train, as `reviewtui train`
    does; on a GPU check that it trains in bf16 (fp16 where bf16 is missing) over fp32 weights on
    the GPU and that the model card records the GPU."""
    import torch

    from reviewtui.workspace import Workspace

    cuda = cuda_summary()
    ws = Workspace.open(p["ws"])
    try:
        if not cuda["cuda"]:
            epochs = int(p["cpu_epochs"])
            ws.config.update_section("training", {"epochs": epochs, "early_stopping_patience": max(1, epochs // 2)})
        if cuda["cuda"]:
            torch.cuda.reset_peak_memory_stats()
        with watch_trainer() as seen:
            t0 = time.perf_counter()
            card = ws.train(version=None, name=MODEL_NAME, overwrite=True, on_event=_printing_sink("[train]"))
            seconds = time.perf_counter() - t0
        saved = (Path(ws.models_dir) / MODEL_NAME / "model_card.json").is_file()
    finally:
        ws.close()
    d = card.to_dict()
    hw = d.get("hardware") or {}
    acc = (d.get("metrics") or {}).get("accuracy")
    data: dict[str, Any] = {"seconds": round(seconds, 2), "trainer": seen, "card_hardware": hw,
                            "test_accuracy": acc, "epochs_trained": d.get("epochs_trained"),
                            "train_rows": (d.get("splits") or {}).get("train"), "model": MODEL_NAME}
    checks: dict[str, Any] = {"model saved": check(saved, f"models/{MODEL_NAME}/model_card.json")}
    device = str(hw.get("device", "?"))
    acc_text = f"test accuracy {acc:.3f}" if isinstance(acc, (int, float)) else "no test accuracy"
    if cuda["cuda"]:
        gpu = cuda["device"]
        data["peak_gpu_memory_mb"] = _mb(torch.cuda.max_memory_allocated())
        want = "torch.bfloat16" if cuda["bf16_supported"] else "torch.float16"
        if not seen:
            checks["Trainer observed"] = check(False, "transformers.Trainer.train was not called: the "
                                                      "precision could not be checked")
        else:
            checks["mixed precision on"] = check(
                seen.get("bf16") == cuda["bf16_supported"] and seen.get("fp16") == (not cuda["bf16_supported"]),
                f"Trainer bf16={seen.get('bf16')} fp16={seen.get('fp16')}")
            checks["forward pass in half precision"] = check(seen.get("forward_dtype") == want,
                                                             f"head output {seen.get('forward_dtype')}, want {want}")
            checks["weights kept in fp32"] = check(seen.get("param_dtype") == "torch.float32",
                                                   f"parameters {seen.get('param_dtype')}")
            checks["model on the GPU"] = check(str(seen.get("param_device", "")).startswith("cuda"),
                                               f"parameters on {seen.get('param_device')}")
        checks["card records the GPU"] = check(device.startswith("cuda") and gpu in (hw.get("gpus") or []),
                                               f"hardware.device {device}, gpus {hw.get('gpus')}")
        precision = "bf16" if seen.get("bf16") else ("fp16" if seen.get("fp16") else "fp32")
        lines = [f"{precision} training on {gpu}: {_n(d.get('epochs_trained'))} epochs over {data['train_rows']} rows "
                 f"in {seconds:.1f}s, {acc_text}, peak {data['peak_gpu_memory_mb']:,} MB of GPU memory; "
                 f"the model card records device {device}"]
    else:
        checks["card records the CPU"] = check(device == "cpu", f"hardware.device {device}")
        lines = [f"no GPU: the bf16 checks did not run; the CPU path trained instead ({_n(d.get('epochs_trained'))} "
                 f"epoch(s) over {data['train_rows']} rows in {seconds:.1f}s, {acc_text}); "
                 f"the model card records device {device}"]
    return {"lines": lines, "checks": checks, **data}


# --- predict --------------------------------------------------------------------------------------
def steady_rate(chunk_ends: dict[int, float], start: float, last_valid: int | None = None) -> dict[str, Any]:
    """Throughput of one predict run started at ``start`` from ``chunk_ends`` (reviews done at the
    end of a chunk -> the time it ended). ``steady`` is reviews/s from the end of the first chunk
    (model loading and warm-up excluded) to the last chunk end at or below ``last_valid`` (None:
    all); ``overall`` includes the first chunk. ``steady`` is None with fewer than two chunk ends."""
    ends = sorted((done, t) for done, t in chunk_ends.items() if last_valid is None or done <= last_valid)
    if not ends:
        return {"rows": 0, "seconds": None, "first_chunk_s": None, "steady": None, "overall": None}
    (first_done, first_t), (last_done, last_t) = ends[0], ends[-1]
    steady = (last_done - first_done) / (last_t - first_t) if len(ends) > 1 and last_t > first_t else None
    total = last_t - start
    return {"rows": last_done, "seconds": round(total, 3), "first_chunk_s": round(first_t - start, 3),
            "steady": round(steady, 1) if steady is not None else None,
            "steady_rows": last_done - first_done if steady is not None else 0,
            "overall": round(last_done / total, 1) if total > 0 else None}


def copy_workspace(src: Path, dest: Path) -> Path:
    """A copy of the workspace folder ``src`` without its caches and results (a cold start)."""
    src = Path(src)

    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        if here.parent == src and here.name in ("cache", "results"):
            return names  # keep the folder, not what it holds
        return []

    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, ignore=ignore)
    return dest


def step_predict(p: dict[str, Any]) -> dict[str, Any]:
    """Workspace.predict (what `reviewtui predict` runs) on a cold copy of the workspace, once per
    chunk size, stopped after ``max_rows`` reviews; throughput from its progress events."""
    import torch

    from reviewtui.events import Progress
    from reviewtui.workspace import Workspace

    cuda = cuda_summary()
    on = p["device"]
    if on == "gpu" and not cuda["cuda"]:
        raise StepError("no GPU visible to torch")
    runs = []
    for chunk in (int(c) for c in p["chunk_sizes"]):
        root = copy_workspace(Path(p["ws"]), Path(p["work"]) / f"predict-{on}-{chunk}")
        ws = Workspace.open(root)
        # Workspace.predict reports progress inside a chunk too (for an ensemble, once per half), so
        # only chunk ends are used: done a multiple of the chunk size, or the total
        chunk_ends: dict[int, float] = {}
        stop_at: list[int] = []
        cancel = threading.Event()
        # at least three chunks: the first (loading, warm-up) and the one cut short do not count
        max_rows = max(int(p["max_rows"]), 2 * chunk + 1)

        def sink(event: Any) -> None:
            if isinstance(event, Progress) and event.task == "predict" and event.done > 0 and (
                    event.done % chunk == 0 or event.done == event.total):
                chunk_ends[int(event.done)] = time.perf_counter()
                if event.done >= max_rows and not stop_at:
                    stop_at.append(int(event.done))
                    cancel.set()

        if cuda["cuda"]:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        device = None
        try:
            result = ws.predict(model=p["model"], sentiment="none", chunk_size=chunk, on_event=sink, cancel=cancel)
            device = result.device
            last_valid = None
        except Exception:
            if not cancel.is_set():
                raise
            # stopped on purpose: the chunk that crossed max_rows may have been cut short
            last_valid = stop_at[0] - 1
        finally:
            ws.close()
        shutil.rmtree(root, ignore_errors=True)
        run: dict[str, Any] = {"chunk_size": chunk, **steady_rate(chunk_ends, t0, last_valid),
                               "device": device or ("cuda" if cuda["cuda"] else "cpu")}
        if cuda["cuda"]:
            run["peak_gpu_memory_mb"] = _mb(torch.cuda.max_memory_allocated())
        print(f"[predict {on}] {json.dumps(run)}", flush=True)
        runs.append(run)
    checks: dict[str, Any] = {}
    if on == "gpu":
        used = max((r.get("peak_gpu_memory_mb") or 0) for r in runs)
        checks["predict ran on the GPU"] = check(used > 0, f"peak {used:,} MB of GPU memory allocated while predicting")
    else:
        checks["predict ran on the CPU"] = check(not cuda["cuda"] and all(r["device"] == "cpu" for r in runs),
                                                 "CUDA_VISIBLE_DEVICES hides the GPU from this run")
    checks["reviews predicted"] = check(all(r["rows"] > 0 for r in runs), ", ".join(f"{r['rows']:,}" for r in runs))
    return {"lines": [], "checks": checks, "device": on, "model": p["model"], "torch_threads": torch.get_num_threads(),
            "runs": runs}


# --- tune -----------------------------------------------------------------------------------------
def step_tune(p: dict[str, Any]) -> dict[str, Any]:
    """A short Ray Tune search through Workspace.tune (what `reviewtui tune` runs), keeping every
    TrialUpdate: on a GPU each trial's events must carry GPU stats, and the retrained best model
    must record the GPU."""
    from reviewtui.events import Notice, TrialUpdate
    from reviewtui.workspace import Workspace

    cuda = cuda_summary()
    events: list[Any] = []
    lock = threading.Lock()

    def sink(event: Any) -> None:
        with lock:
            events.append(event)
        if isinstance(event, Notice):
            print(f"[tune] {event.level}: {event.text}", flush=True)
        elif isinstance(event, TrialUpdate):
            gpus = "; ".join(f"gpu{s.index} {s.utilization}% {s.memory_used_mb}/{s.memory_total_mb} MB" for s in event.gpus)
            print(f"[tune] trial {event.trial_id} {event.status} epoch {event.iteration} "
                  f"accuracy {event.metrics.get('accuracy')} {gpus}", flush=True)

    ws = Workspace.open(p["ws"])
    try:
        t0 = time.perf_counter()
        result = ws.tune(trials=int(p["trials"]), on_event=sink)
        seconds = time.perf_counter() - t0
    finally:
        ws.close()
    updates = [e for e in events if isinstance(e, TrialUpdate)]
    with_gpus = [u for u in updates if u.gpus]
    peak_mem: dict[str, float] = {}
    peak_util: dict[str, float] = {}
    for u in with_gpus:
        for s in u.gpus:
            key = f"gpu{s.index}"
            if s.memory_used_mb is not None:
                peak_mem[key] = max(peak_mem.get(key, 0.0), s.memory_used_mb)
            if s.utilization is not None:
                peak_util[key] = max(peak_util.get(key, 0.0), s.utilization)
    trials = [{"trial_id": t.trial_id, "status": t.status, "epochs": t.iteration,
               "accuracy": t.metrics.get("accuracy"), "early_stopped": t.early_stopped, "error": t.error,
               "gpus": [{"index": s.index, "utilization": s.utilization, "memory_used_mb": s.memory_used_mb}
                        for s in t.gpus]} for t in result.trials]
    card = result.card.to_dict() if result.card is not None else {}
    counts = dict(result.counts)
    finished = sum(n for status, n in counts.items() if status in ("TERMINATED", "STOPPED"))
    errors = [t for t in trials if t["status"] == "ERROR"]
    best_acc = (result.best_metrics or {}).get("accuracy")
    data: dict[str, Any] = {
        "seconds": round(seconds, 2), "search_seconds": round(result.search_seconds, 2), "counts": counts,
        "best_trial": result.best_trial_id, "best_config": result.best_config,
        "best_validation_accuracy": best_acc, "cancelled": result.cancelled, "trial_events": len(updates),
        "trial_events_with_gpu_stats": len(with_gpus), "peak_gpu_memory_mb": peak_mem,
        "peak_gpu_utilization": peak_util, "notices": [e.text for e in events if isinstance(e, Notice)],
        "trials": trials, "card_hardware": card.get("hardware")}
    checks: dict[str, Any] = {
        "trials finished": check(finished >= 1, ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))),
        "no trial failed": check(not errors, "; ".join(f"{t['trial_id']}: {t['error']}" for t in errors) or "none"),
        "best model saved": check(bool(card), f"models/{card.get('name')}" if card else "no model saved"),
    }
    best = f"best {result.best_trial_id} (validation accuracy {best_acc:.3f})" if isinstance(best_acc, (int, float)) else "no best trial"
    lines = [f"{len(trials)} trials in {result.search_seconds:.0f}s of search "
             f"({', '.join(f'{n} {s.lower()}' for s, n in sorted(counts.items()))}); {best}"]
    if cuda["cuda"]:
        device = str((card.get("hardware") or {}).get("device", "?"))
        checks["trial events carry GPU stats"] = check(bool(with_gpus), f"{len(with_gpus)} of {len(updates)} events")
        checks["best model trained on the GPU"] = check(device.startswith("cuda"), f"hardware.device {device}")
        peaks = ", ".join(f"{k} up to {peak_util.get(k, 0):.0f}% and {v:,.0f} MB" for k, v in sorted(peak_mem.items()))
        lines.append(f"{len(with_gpus)} of {len(updates)} trial events carried GPU stats ({peaks or 'no readings'})")
    else:
        lines.append("no GPU: the trials ran on the CPU, so there were no GPU stats to check")
    for t in trials:
        acc = f"validation accuracy {t['accuracy']:.3f}" if isinstance(t["accuracy"], (int, float)) else "no result"
        gpus = "; ".join(f"gpu{g['index']} {_n(g['utilization'])}% {_n(g['memory_used_mb'])} MB" for g in t["gpus"])
        lines.append(f"  {t['trial_id']} {t['status'].lower()} after {t['epochs']} epoch(s), {acc}"
                     + (f", {gpus}" if gpus else "") + (f": {t['error']}" if t["error"] else ""))
    return {"lines": lines, "checks": checks, **data}


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "env": step_env, "setup": step_setup, "train": step_train, "predict": step_predict, "tune": step_tune}


def run_step(name: str, params_path: Path, result_path: Path) -> int:
    """Run step ``name`` with the parameters in ``params_path`` and write its result (also when it
    fails: status "failed", the error and the traceback) to ``result_path``. Returns the exit code."""
    params = json.loads(Path(params_path).read_text(encoding="utf-8"))
    try:
        result = STEPS[name](params)
        failed = [k for k, v in result.get("checks", {}).items() if not v["ok"]]
        result["status"] = "failed" if failed else "ok"
        if failed:
            result["error"] = "checks failed: " + ", ".join(failed)
        code = 0
    except StepError as exc:
        result, code = {"status": "failed", "error": str(exc), "lines": []}, 1
    except BaseException as exc:  # the report says what happened; the log keeps the traceback
        tb = traceback.format_exc()
        print(tb, file=sys.stderr, flush=True)
        result = {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}", "traceback": tb, "lines": []}
        code = 1
    tmp = Path(result_path).with_name(Path(result_path).name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, result_path)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 3 or argv[0] not in STEPS:
        print(f"usage: python -m tools.gpubox.steps {{{','.join(STEPS)}}} PARAMS.json RESULT.json", file=sys.stderr)
        return 2
    return run_step(argv[0], Path(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    raise SystemExit(main())
