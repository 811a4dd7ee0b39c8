"""Prediction on a GPU near its limit: steady throughput of the saved ensemble, `reviewtui predict`
over a million reviews, and the GPU's utilisation while it runs. One script, a few minutes.

What it does, on the first GPU torch sees:

1. a demo workspace of ``--reviews`` reviews (default 1,000,000; `reviewtui demo`), and the model
   `reviewtui train` saves by default trained on its labeled version (seconds on a GPU);
2. steady throughput of that model loaded in this process, tokenising included, in the chunks
   predict streams: the default way ("auto": a bf16 copy of the weights), the same with batches of
   twice the tokens, with predict's chunks twice as long, in fp32, and the default once more (the
   run's own drift), over ``--steady`` reviews after a warm-up, with their label agreement and
   where the forward loop's thread spent its time (waiting for batches, queuing the passes,
   waiting for the GPU); tokenising alone (the Rust backend, and the transformers wrapper),
   tokenising with the batches' layout, and the whole feeding thread alone, for the bounds they
   set;
3. `reviewtui predict --sentiment none` over the whole workspace as a fresh process (model
   loading, reading the store and writing result.csv included), while a thread samples
   ``nvidia-smi`` every 200 ms: wall time, and the GPU's utilisation during the run.

Goals: >= 50,000 reviews/s steady on one H200-class GPU; the 1M-review predict in < 2 minutes.
Prints a JSON record and the lines for docs/BENCHMARKS.md; ``--out DIR`` also writes them there.

    python bench/bench_predict_gpu.py                       # the whole check
    python bench/bench_predict_gpu.py --reviews 200000      # shorter
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")  # the Rust tokenizer may use every core

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


class GpuSampler:
    """Samples utilisation.gpu and memory.used of GPU 0 every ``every_ms`` with nvidia-smi's loop mode."""

    def __init__(self, every_ms: int = 200) -> None:
        self.every_ms = every_ms
        self.samples: list[tuple[float, float, float]] = []  # (time, util %, memory MiB)
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "GpuSampler":
        exe = shutil.which("nvidia-smi")
        if exe is None:
            return self
        self._proc = subprocess.Popen([exe, "-i", "0", "--query-gpu=utilization.gpu,memory.used",
                                       "--format=csv,noheader,nounits", f"-lms={self.every_ms}"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                util, mem = (float(x) for x in line.strip().split(",")[:2])
            except ValueError:
                continue
            self.samples.append((time.perf_counter(), util, mem))

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)

    def summary(self, start: float | None = None, stop: float | None = None) -> dict:
        rows = [(u, m) for t, u, m in self.samples if (start is None or t >= start) and (stop is None or t <= stop)]
        if not rows:
            return {"samples": 0}
        utils = [u for u, _ in rows]
        busy = [u for u in utils if u > 0]
        return {"samples": len(rows), "mean_util": round(statistics.mean(utils), 1),
                "median_util": statistics.median(utils), "max_util": max(utils),
                "mean_util_while_busy": round(statistics.mean(busy), 1) if busy else 0.0,
                "share_of_samples_busy": round(len(busy) / len(utils), 3), "peak_memory_mib": max(m for _, m in rows)}


def make_workspace(root: Path, n: int) -> Path:
    """The demo workspace (``Workspace.demo``, what `reviewtui demo` builds) with ``n`` reviews; its
    labeled version is what the model trains on."""
    from reviewtui.workspace import Workspace

    t0 = time.perf_counter()
    Workspace.demo(root, size=n).close()
    log(f"demo workspace of {n:,} reviews in {time.perf_counter() - t0:.0f}s")
    return root


def train(root: Path, epochs: int | None = None) -> str:
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    try:
        t0 = time.perf_counter()
        card = ws.train(name="gpu-bench", overwrite=True, training={"epochs": epochs} if epochs else None)
        log(f"trained {card.name} in {time.perf_counter() - t0:.0f}s: test accuracy {card.metrics['accuracy']:.3f}, "
            f"precision checks {card.precision_checks}")
        return card.name
    finally:
        ws.close()


def feeding_alone(tok, texts: list[str], plan, chunk: int, pin: bool) -> float:
    """Reviews/s the feeding side gives when nothing consumes more slowly than it: the windows
    tokenised and laid out on the feeding thread and pinned, the batches drained."""
    from reviewtui.modeling import forward

    windows = [(i, texts[i:i + chunk]) for i in range(0, len(texts), chunk)]
    feeder = forward._Prefetcher(tok, windows, max_length=128, plan=plan, pin=pin)
    t0 = time.perf_counter()
    feeder.start()
    while (item := feeder.items.get()) is not forward._DONE:
        if item[0] == "end":
            feeder.window_taken()
    return round(len(texts) / (time.perf_counter() - t0), 1)


def steady(root: Path, name: str, n: int) -> dict:
    """Throughput of the loaded model over ``n`` of the workspace's reviews, as predict streams them:
    the default way and its variants, each with where the forward loop's thread spent its time."""
    import dataclasses

    import numpy as np
    import torch

    from reviewtui.analysis.predict import CHUNK_SIZE, GPU_CHUNK_SIZE
    from reviewtui.modeling import forward
    from reviewtui.modeling.inference import SavedClassifier

    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    try:
        texts = [a.text for _, a in zip(range(n), ws.store.iter_assets())]
    finally:
        ws.close()
    cuda = torch.cuda.is_available()
    chunk = GPU_CHUNK_SIZE if cuda else CHUNK_SIZE  # the chunks predict streams on this device
    chunks = [texts[i:i + chunk] for i in range(0, len(texts), chunk)]
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    device_plan = forward.plan_for("cuda")
    out: dict = {"reviews": len(texts), "chunk": chunk, "plan": dataclasses.asdict(device_plan),
                 "device": torch.cuda.get_device_name(0) if cuda else "cpu (dry run)"}
    results = {}
    default_plan_for = forward.plan_for
    # the variants: batches of twice the tokens; predict's chunks twice as long; the weights in fp32;
    # then the default again, since one machine's passes drift (a first pass once ran at half the pace)
    twice = dataclasses.replace(device_plan, max_tokens=2 * device_plan.max_tokens, max_rows=2 * device_plan.max_rows)
    variants = (("auto", "auto", device_plan, chunks),
                ("auto-big", "auto", twice, chunks),
                ("auto-long", "auto", device_plan, [texts[i:i + 2 * chunk] for i in range(0, len(texts), 2 * chunk)]),
                ("fp32", "fp32", device_plan, chunks),
                ("auto-again", "auto", device_plan, chunks))  # the default once more: the run's own drift
    for way, precision, plan, parts in variants:
        clf = SavedClassifier.load(root / "models" / name, precision=precision)
        forward.plan_for = lambda device, plan=plan: plan
        try:
            list(clf.predict_chunks(parts[:3]))  # warm-up: load, kernels, allocator
            sync()
            forward.TIMES = times = forward.ForwardTimes()
            with GpuSampler() as gpu:
                t0 = time.perf_counter()
                proba = np.concatenate(list(clf.predict_chunks(parts)))
                sync()
                t1 = time.perf_counter()
        finally:
            forward.plan_for = default_plan_for
            forward.TIMES = None
        seconds = t1 - t0
        out[f"{way}_gpu"] = gpu.summary(t0, t1)
        out[f"{way}_rps"] = round(len(texts) / seconds, 1)
        out[f"{way}_precision"] = clf.precision
        out[f"{way}_times"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in dataclasses.asdict(times).items()}
        out[f"{way}_times"]["seconds"] = round(seconds, 3)
        results[way] = proba
        log(f"steady {way} ({clf.precision}, {plan.max_tokens} tokens a batch, chunks of {len(parts[0]):,}): "
            f"{len(texts) / seconds:,.0f} reviews/s; loop {out[f'{way}_times']}; GPU {out[f'{way}_gpu']}")
        del clf
        if cuda:
            torch.cuda.empty_cache()
    labels = {k: v.argmax(1) for k, v in results.items()}
    out["agreement_auto_vs_fp32"] = float(np.mean(labels["auto"] == labels["fp32"]))
    for way in ("auto-big", "auto-long", "auto-again"):
        out[f"agreement_auto_vs_{way}"] = float(np.mean(labels["auto"] == labels[way]))
        out[f"max_abs_diff_auto_vs_{way}"] = float(np.abs(results["auto"] - results[way]).max())
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(root / "models" / name))
    feeder = forward._Prefetcher(tok, [], max_length=128, plan=device_plan, pin=False)
    for key, tokenise in (("tokenise_only_rps", feeder.tokenise),
                          ("tokenise_wrapper_rps", feeder._wrapper_ids)):
        t0 = time.perf_counter()
        for i in range(0, len(texts), chunk):
            tokenise(texts[i:i + chunk])
        out[key] = round(len(texts) / (time.perf_counter() - t0), 1)
    out["tokenise_backend"] = feeder.backend is not None
    t0 = time.perf_counter()
    for i in range(0, len(texts), chunk):
        feeder.layout(texts[i:i + chunk])
    out["batches_only_rps"] = round(len(texts) / (time.perf_counter() - t0), 1)
    out["feeding_rps"] = feeding_alone(tok, texts, device_plan, chunk, cuda)
    log(f"tokenising alone: {out['tokenise_only_rps']:,.0f} reviews/s (the backend: {out['tokenise_backend']}; "
        f"the wrapper: {out['tokenise_wrapper_rps']:,.0f}); tokenised and laid out: {out['batches_only_rps']:,.0f}; "
        f"the feeding thread alone, pinned: {out['feeding_rps']:,.0f}")
    return out


def predict_cli(root: Path, out_dir: Path | None = None) -> dict:
    for sub in ("results",):
        shutil.rmtree(root / sub, ignore_errors=True)
    with GpuSampler() as gpu:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "reviewtui", "--workspace", str(root), "predict", "--sentiment",
                              "none", "--model", "gpu-bench"], env=child_env(), capture_output=True, text=True)
        t1 = time.perf_counter()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "predict_cli.log").write_text(out.stdout[-20000:] + "\n--- stderr ---\n" + out.stderr[-20000:])
    if out.returncode != 0:
        raise SystemExit(f"reviewtui predict failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    meta = json.loads((root / "results" / "result.json").read_text())
    res = {"seconds": round(t1 - t0, 2), "rows": meta["rows"], "precision": meta.get("precision"),
           "device": meta.get("device"), "inside_seconds": round(meta.get("seconds", 0.0), 2),
           "gpu": gpu.summary(t0, t1)}
    log(f"reviewtui predict over {meta['rows']:,} reviews: {res['seconds']:.1f}s wall ({meta.get('precision')}); "
        f"GPU {res['gpu']}")
    return res


def profile_cli(root: Path, out_dir: Path, top: int = 45) -> dict:
    """`reviewtui predict` once more, cold (results and embedding cache removed), under cProfile:
    where the process's main thread spends its time, the top ``top`` functions by cumulative time."""
    import pstats

    for sub in ("results", "cache"):
        shutil.rmtree(root / sub, ignore_errors=True)
    prof = out_dir / "predict.prof"
    t0 = time.perf_counter()
    # the CLI ends a process that loaded torch with os._exit after the exit handlers, so the profile
    # is written by an exit handler rather than by `python -m cProfile`, which would never get to it
    wrapper = ("import atexit, cProfile, runpy, sys\n"
               "p, path = cProfile.Profile(), sys.argv[1]\n"
               "def dump():\n    p.disable(); p.dump_stats(path)\n"
               "atexit.register(dump)\n"
               "sys.argv = ['reviewtui'] + sys.argv[2:]\n"
               "p.enable()\n"
               "runpy.run_module('reviewtui', run_name='__main__', alter_sys=True)\n")
    out = subprocess.run([sys.executable, "-c", wrapper, str(prof), "--workspace", str(root), "predict",
                          "--sentiment", "none", "--model", "gpu-bench"], env=child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or not prof.exists():
        return {"seconds": round(seconds, 1), "returncode": out.returncode, "failed": out.stderr[-2000:]}
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    (out_dir / "predict_profile.txt").write_text(buf.getvalue())
    prof.unlink()
    log(f"profiled predict: {seconds:.1f}s under cProfile")
    return {"seconds": round(seconds, 1)}


def lines(rec: dict) -> list[str]:
    s, p = rec["steady"], rec["predict"]
    g = p["gpu"]
    t = s["auto_times"]
    return [
        f"GPU prediction (`bench/bench_predict_gpu.py`), {rec['at']} on {s['device']}:",
        f"- steady, tokenising included, {s['reviews']:,} reviews: {s['auto_rps']:,.0f} reviews/s in "
        f"{s['auto_precision']}, batches of {s['plan']['max_tokens']:,} tokens (fp32: {s['fp32_rps']:,.0f}); labels "
        f"agree with fp32 on {s['agreement_auto_vs_fp32']:.2%} (goal >= 50,000: "
        f"{'met' if s['auto_rps'] >= 50_000 else 'not met'}); GPU while busy {s['auto_gpu'].get('mean_util_while_busy')} %, "
        f"busy in {s['auto_gpu'].get('share_of_samples_busy', 0):.0%} of the samples",
        f"- the loop's thread over {t['seconds']} s: waiting for batches {t['waiting_for_batches']} s, queuing "
        f"{t['batches']} passes {t['queuing']} s, waiting for the GPU {t['waiting_for_device']} s",
        f"- variants: batches of twice the tokens {s['auto-big_rps']:,.0f} reviews/s (labels agree on {s['agreement_auto_vs_auto-big']:.2%}); chunks "
        f"twice as long {s['auto-long_rps']:,.0f} reviews/s; the default once more, last {s['auto-again_rps']:,.0f} "
        f"reviews/s",
        f"- tokenising alone {s['tokenise_only_rps']:,.0f} reviews/s (the transformers wrapper "
        f"{s['tokenise_wrapper_rps']:,.0f}); tokenised and laid out {s['batches_only_rps']:,.0f}; the feeding thread "
        f"alone, pinned: {s['feeding_rps']:,.0f}",
        f"- `reviewtui predict --sentiment none` over {p['rows']:,} reviews: {p['seconds']:.1f} s wall "
        f"(goal < 120 s: {'met' if p['seconds'] < 120 else 'not met'}); GPU utilisation during the run: mean "
        f"{g.get('mean_util')} %, {g.get('mean_util_while_busy')} % while busy, busy in "
        f"{g.get('share_of_samples_busy', 0):.0%} of {g.get('samples')} samples, peak memory {g.get('peak_memory_mib')} MiB",
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=1_000_000)
    ap.add_argument("--steady", type=int, default=300_000, help="reviews for the steady throughput")
    ap.add_argument("--work", type=Path, help="where the workspace goes (default a temp folder, removed)")
    ap.add_argument("--out", type=Path, help="also write gpu_predict.json and gpu_predict.md here")
    ap.add_argument("--epochs", type=int, help="train fewer epochs (default: [training]; throughput does not depend on it)")
    ap.add_argument("--dry-run-on-cpu", action="store_true", help="run the steps without a GPU (a check of the script)")
    ap.add_argument("--profile-within", type=float, default=0.0,
                    help="also profile a cold `reviewtui predict` (cProfile, into --out) when the script has run "
                         "less than this many seconds by then (0: never)")
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available() and not args.dry_run_on_cpu:
        print("no GPU visible to torch: this benchmark measures GPU prediction; run it on a GPU machine")
        return 2
    started = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewtui-gpu-bench-"))
    rec: dict = {"at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "torch": torch.__version__,
                 "cpus": os.cpu_count(), "steps_s": {}}

    def step(key: str, fn, *a):
        t0 = time.perf_counter()
        value = fn(*a)
        rec["steps_s"][key] = round(time.perf_counter() - t0, 1)
        if args.out:  # what is done so far, should a later step not finish
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "gpu_predict.partial.json").write_text(json.dumps(rec, indent=2, default=str) + "\n")
        return value

    try:
        root = step("demo", make_workspace, work / "ws", args.reviews)
        name = step("train", train, root, args.epochs)
        rec["steady"] = step("steady", steady, root, name, min(args.steady, args.reviews))
        rec["predict"] = step("predict", predict_cli, root, args.out)
        if args.out and args.profile_within and time.perf_counter() - started < args.profile_within:
            rec["profile"] = step("profile", profile_cli, root, args.out)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(rec, indent=2))
    print("\n".join(lines(rec)))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_predict.json").write_text(json.dumps(rec, indent=2) + "\n")
        (args.out / "gpu_predict.md").write_text("\n".join(lines(rec)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
