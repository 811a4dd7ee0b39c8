"""``check``: run reviewtui's GPU paths on this machine and report what works.

Steps, in order (each in its own child process with its own time limit, see steps.py):

    env      versions of Python, reviewtui, torch (and its CUDA), transformers, Ray; the GPU and
             whether it supports bf16
    setup    a workspace under the work folder: the demo data (`reviewtui demo`), or the labeled
             version of a workspace you name, configured for a short run
    train    Workspace.train of [model] base: bf16 autocast over fp32 weights on the GPU, and the
             device the model card records
    predict  Workspace.predict on the GPU and, for comparison, on this machine's CPU
             (CUDA_VISIBLE_DEVICES=""): steady-state reviews/s after the first chunk, per chunk size
    tune     a short Ray Tune search (Workspace.tune): trials finish, their events carry GPU stats
             (TrialUpdate.gpus), the retrained best model records the GPU

``train``, ``predict`` and ``tune`` can be skipped. Without a GPU each of them says so in one line
and checks the CPU path instead. The report prints as the steps finish; ``--json FILE`` keeps it
(rewritten after every step, so an interrupted run keeps what it measured).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tools.gpubox import ToolError, utc_now

STEPS_FILE = Path(__file__).resolve().with_name("steps.py")
SKIPPABLE = ("train", "predict", "tune")
BUDGETS = {"env": 240.0, "setup": 300.0, "train": 900.0, "predict": 600.0, "tune": 900.0}
MIN_NEEDED = {"env": 20.0, "setup": 20.0, "train": 60.0, "predict": 30.0, "tune": 60.0}
FORMAT = 1
# Runs steps.py by its path, leaving sys.path alone: the reviewtui installed in this Python (a
# bundle's wheel, or a clone's editable install) is the one checked, not a folder next to the tool.
STEP_LAUNCHER = "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')"


@dataclass
class CheckOptions:
    """The ``check`` command's flags (see ``check --help``)."""

    json_path: Path | None = None
    log_path: Path | None = None
    work: Path | None = None
    keep: bool = False
    skip: set[str] = field(default_factory=set)
    deadline: float = 2400.0
    timeouts: dict[str, float] = field(default_factory=dict)
    model: str = "minilm"
    rows: int = 10_000
    seed: int = 7
    workspace: Path | None = None
    version: str | None = None
    reviews: list[Path] = field(default_factory=list)
    epochs: int = 4
    cpu_epochs: int = 1
    trials: int = 4
    tune_epochs: int = 2
    tune_budget: float = 300.0
    gpus_per_trial: float | None = None
    gpu_rows: int = 10_000
    cpu_rows: int = 2_000
    chunk_sizes: list[int] = field(default_factory=lambda: [512, 2048])
    require_gpu: bool = False
    verbose: bool = False

    def validate(self) -> None:
        unknown = sorted(self.skip - set(SKIPPABLE))
        if unknown:
            raise ToolError(f"--skip {','.join(unknown)}: unknown step; the steps that can be skipped are "
                            f"{', '.join(SKIPPABLE)}")
        bad = sorted(set(self.timeouts) - set(BUDGETS))
        if bad:
            raise ToolError(f"--timeout {bad[0]}=...: unknown step; the steps are {', '.join(BUDGETS)}")
        for name, value in (("--rows", self.rows), ("--epochs", self.epochs), ("--cpu-epochs", self.cpu_epochs),
                            ("--trials", self.trials), ("--tune-epochs", self.tune_epochs),
                            ("--gpu-rows", self.gpu_rows), ("--cpu-rows", self.cpu_rows)):
            if value < 1:
                raise ToolError(f"{name} must be at least 1, not {value}")
        if not self.chunk_sizes or min(self.chunk_sizes) < 1:
            raise ToolError("--chunk-sizes needs one or more sizes of at least 1, e.g. 512,2048")
        if self.deadline <= 0:
            raise ToolError(f"--deadline must be a number of seconds above 0, not {self.deadline:g}")
        if self.workspace is not None and not Path(self.workspace).is_dir():
            raise ToolError(f"--workspace {self.workspace}: no such folder")
        for path in self.reviews:
            if not Path(path).is_file():
                raise ToolError(f"--reviews {path}: no such file")
        if self.version and self.workspace is None:
            raise ToolError("--version names a version of --workspace DIR; give the workspace too")


class GpuSampler:
    """nvidia-smi every half second in the background; peak utilisation and memory per time window."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int, float, float]] = []  # (time, gpu, util %, memory MB)
        self.proc: subprocess.Popen | None = None
        exe = shutil.which("nvidia-smi")
        if exe:
            try:
                self.proc = subprocess.Popen([exe, "--query-gpu=index,utilization.gpu,memory.used",
                                              "--format=csv,noheader,nounits", "-lms", "500"],
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            except OSError:
                self.proc = None
        if self.proc is not None:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = [x.strip() for x in line.split(",")]
            try:
                self.samples.append((time.time(), int(parts[0]), float(parts[1]), float(parts[2])))
            except (ValueError, IndexError):
                continue

    def window(self, t0: float, t1: float) -> dict[str, Any] | None:
        rows = [s for s in self.samples if t0 <= s[0] <= t1]
        if not rows:
            return None
        out = {}
        for gpu in sorted({r[1] for r in rows}):
            mine = [r for r in rows if r[1] == gpu]
            out[f"gpu{gpu}"] = {"max_utilization": max(r[2] for r in mine),
                                "mean_utilization": round(sum(r[2] for r in mine) / len(mine), 1),
                                "max_memory_mb": max(r[3] for r in mine)}
        return out

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Check:
    """One run of the checks. :meth:`run` returns the report (also written to ``--json``)."""

    def __init__(self, opts: CheckOptions, out: Callable[[str], None] = print) -> None:
        opts.validate()
        self.opts = opts
        self.out = out
        self.t0 = time.monotonic()
        self.temp_work = opts.work is None
        self.work = Path(opts.work or tempfile.mkdtemp(prefix="gpubox-check-")).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(opts.log_path or (Path(opts.json_path).with_suffix(".log") if opts.json_path
                                               else self.work / "check.log")).resolve()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("", encoding="utf-8")
        self.sampler: GpuSampler | None = None
        self.report: dict[str, Any] = {
            "tool": "gpubox check", "format": FORMAT, "started": utc_now(), "finished": None, "ok": None,
            "gpu": None, "summary": {}, "steps": {},
            "options": {k: (str(v) if isinstance(v, Path) else sorted(v) if isinstance(v, set) else
                            [str(x) for x in v] if isinstance(v, list) and v and isinstance(v[0], Path) else v)
                        for k, v in opts.__dict__.items()},
            "work": str(self.work), "log": str(self.log_path)}

    # -- running children ----------------------------------------------------------------------
    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            env.setdefault(var, "1")  # a GPU machine without network must not wait on the hub
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra or {})
        return env

    def _log(self, text: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
        if self.opts.verbose:
            self.out(text.rstrip("\n"))

    def child(self, step: str, tag: str, params: dict[str, Any], timeout: float,
              env: dict[str, str] | None = None) -> dict[str, Any]:
        """Run ``steps.py step`` in a child process (its own process group) for at most ``timeout``
        seconds; returns the result it wrote, or a failed result saying why there is none."""
        params_path = self.work / f"{tag}.params.json"
        result_path = self.work / f"{tag}.result.json"
        params_path.write_text(json.dumps(params, indent=2, default=str), encoding="utf-8")
        result_path.unlink(missing_ok=True)
        cmd = [sys.executable, "-c", STEP_LAUNCHER, str(STEPS_FILE), step, str(params_path), str(result_path)]
        self._log(f"== {tag}: {' '.join(cmd)} (limit {timeout:.0f}s)")
        tail: list[str] = []
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                cwd=str(self.work), env=self._env(env), start_new_session=True)

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line.rstrip("\n"))
                del tail[:-40]
                self._log(f"[{tag}] {line.rstrip()}")

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            rc = proc.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            timed_out = True
            self._stop(proc)
            rc = proc.wait()
        except BaseException:  # Ctrl-C: the child has its own session, so it must be stopped here
            self._stop(proc)
            raise
        reader.join(timeout=10)
        self._log(f"== {tag}: exit {rc}")
        if timed_out:
            return {"status": "failed", "error": f"ran past its {timeout:.0f}s limit and was stopped "
                                                 "(raise it with --timeout, or --deadline)", "lines": [],
                    "output_tail": tail[-15:]}
        if result_path.is_file():
            result = json.loads(result_path.read_text(encoding="utf-8"))
            if result.get("status") == "failed" and "traceback" in result:
                result["output_tail"] = tail[-15:]
            return result
        return {"status": "failed", "error": f"the step's process exited {rc} without a result", "lines": [],
                "output_tail": tail[-15:]}

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        """Stop the child and everything it started in its process group: TERM, then KILL."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    # -- steps ---------------------------------------------------------------------------------
    def remaining(self) -> float:
        return self.opts.deadline - (time.monotonic() - self.t0)

    def step(self, name: str, run: Callable[[float], dict[str, Any]], why_not: str | None = None) -> dict[str, Any]:
        """Run step ``name`` (``run(timeout)`` returns its result) unless skipped; record, print and
        save its result. Never raises."""
        left = self.remaining()
        budget = self.opts.timeouts.get(name, BUDGETS[name])
        if name in self.opts.skip:
            rec: dict[str, Any] = {"status": "skipped", "reason": "--skip"}
        elif why_not:
            rec = {"status": "skipped", "reason": why_not}
        elif left < MIN_NEEDED[name]:
            rec = {"status": "skipped", "reason": f"--deadline leaves {max(left, 0):.0f}s; the step needs at "
                                                  f"least {MIN_NEEDED[name]:.0f}s"}
        else:
            started = time.time()
            try:
                rec = run(min(budget, left))
            except Exception as exc:  # a bug here must not lose the other steps' results
                rec = {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}", "lines": []}
            rec["seconds"] = round(time.time() - started, 1)
            if self.sampler is not None:
                rec["gpu_sampled"] = self.sampler.window(started, time.time())
        self.report["steps"][name] = rec
        self.report["summary"][name] = rec["status"]
        self.print_step(name, rec)
        self.save()
        return rec

    def print_step(self, name: str, rec: dict[str, Any]) -> None:
        status = rec["status"]
        seconds = f"{rec['seconds']:6.1f}s" if "seconds" in rec else " " * 7
        lines = list(rec.get("lines") or [])
        if status == "skipped":
            lines = [rec["reason"]]
        elif status == "failed" and rec.get("error"):
            lines.append(f"FAILED: {rec['error']}")
        first, *rest = lines or [""]
        self.out(f"{name:<8} {status.upper():<8} {seconds}  {first}")
        for line in rest:
            self.out(f"{'':<26}{line}")
        for check_name, c in (rec.get("checks") or {}).items():
            if not c["ok"]:
                self.out(f"{'':<26}✗ {check_name}: {c['detail']}")
        if status == "failed" and rec.get("output_tail"):
            self.out(f"{'':<26}last lines of its output (all of it in {self.log_path}):")
            for line in rec["output_tail"]:
                self.out(f"{'':<28}{line}")

    def save(self) -> None:
        if self.opts.json_path is None:
            return
        path = Path(self.opts.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.report, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        o = self.opts
        self.out(f"gpubox check: up to {o.deadline:.0f}s; work folder {self.work}; full output in {self.log_path}")
        self.sampler = GpuSampler()
        try:
            self._run_steps()
        finally:
            self.sampler.stop()
            self.report["finished"] = utc_now()
            self.report["elapsed_s"] = round(time.monotonic() - self.t0, 1)
            failed = [k for k, v in self.report["summary"].items() if v == "failed"]
            gpu_missing = o.require_gpu and not self.report["gpu"]
            self.report["ok"] = not failed and not gpu_missing
            self.save()
            if self.temp_work and not o.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        self.out(self.verdict())
        return self.report

    def _run_steps(self) -> None:
        o = self.opts
        env = self.step("env", lambda t: self.child("env", "env", {}, t))
        gpu = bool(env.get("gpu"))
        self.report["gpu"] = gpu if "gpu" in env else None  # None: the env step did not say
        self.report["gpu_name"] = (env.get("devices") or [{}])[0].get("name") if gpu else None

        ws = self.work / "ws"
        wanted = [s for s in SKIPPABLE if s not in o.skip]
        setup_params = {"ws": str(ws), "rows": o.rows, "seed": o.seed, "model": o.model,
                        "workspace": str(o.workspace) if o.workspace else None, "version": o.version,
                        "reviews": [str(Path(r).resolve()) for r in o.reviews], "epochs": o.epochs,
                        "trials": o.trials, "tune_epochs": o.tune_epochs, "tune_budget": o.tune_budget,
                        "gpus_per_trial": o.gpus_per_trial}
        shutil.rmtree(ws, ignore_errors=True)
        setup = self.step("setup", lambda t: self.child("setup", "setup", setup_params, t),
                          why_not=None if wanted else "no step needs a workspace")
        not_ready = None if setup["status"] == "ok" else "the workspace setup did not succeed"

        train = self.step("train", lambda t: self.child("train", "train", {"ws": str(ws), "cpu_epochs": o.cpu_epochs}, t),
                          why_not=not_ready)
        model = "gpu-check" if train["status"] == "ok" else "quick"
        self.step("predict", lambda t: self._predict(ws, model, gpu, t), why_not=not_ready)
        tune = self.step("tune", lambda t: self.child("tune", "tune", {"ws": str(ws), "trials": o.trials}, t),
                         why_not=not_ready)
        if tune["status"] == "failed":
            self.out(f"{'':<26}Ray's own logs: /tmp/ray/session_latest/logs (under $RAY_TMPDIR when it is set)")

    def _predict(self, ws: Path, model: str, gpu: bool, timeout: float) -> dict[str, Any]:
        """The GPU run (each chunk size) and the CPU run (the smallest chunk size, fewer reviews),
        each in its own process; the speed-up compares the same chunk size."""
        o = self.opts
        end = time.monotonic() + timeout
        base = {"ws": str(ws), "work": str(self.work), "model": model}
        lines: list[str] = []
        if model == "quick":
            lines.append("no trained model from the train step: predicting with the quick model (embeddings + "
                         "logistic regression on the labels)")
        rec: dict[str, Any] = {"status": "ok", "model": model, "lines": lines, "checks": {}}
        if gpu:
            res = self.child("predict", "predict-gpu", {**base, "device": "gpu", "chunk_sizes": o.chunk_sizes,
                                                        "max_rows": o.gpu_rows}, end - time.monotonic())
            rec["gpu"] = res
            lines += [_run_line("GPU", r, "--gpu-rows") for r in res.get("runs", [])]
        else:
            lines.append("no GPU: only this machine's CPU was measured")
        left = end - time.monotonic()
        if left < 10:
            rec["cpu"] = {"status": "skipped", "reason": "no time left in the predict step's limit"}
            lines.append("CPU run skipped: no time left in the step's limit (raise --timeout predict=...)")
        else:
            chunk = min(o.chunk_sizes)
            res = self.child("predict", "predict-cpu", {**base, "device": "cpu", "chunk_sizes": [chunk],
                                                        "max_rows": o.cpu_rows}, left,
                             env={"CUDA_VISIBLE_DEVICES": ""})
            rec["cpu"] = res
            lines += [_run_line(f"CPU ({res.get('torch_threads')} threads)", r, "--cpu-rows")
                      for r in res.get("runs", [])]
        cpu_runs = {r["chunk_size"]: r for r in rec.get("cpu", {}).get("runs", [])}
        for r in rec.get("gpu", {}).get("runs", []):
            c = cpu_runs.get(r["chunk_size"])
            if c and r["steady"] and c["steady"]:
                rec["speedup"] = round(r["steady"] / c["steady"], 1)
                lines.append(f"the GPU predicts {rec['speedup']}x as fast as this machine's CPU "
                             f"(chunks of {r['chunk_size']}, steady state)")
        for part in ("gpu", "cpu"):
            res = rec.get(part)
            if not res:
                continue
            for name, c in (res.get("checks") or {}).items():
                rec["checks"][f"{part}: {name}"] = c
            if res.get("status") == "failed":
                rec["status"] = "failed"
                rec["error"] = f"{part.upper()} run: {res.get('error')}"
                rec["output_tail"] = res.get("output_tail")
        return rec

    def verdict(self) -> str:
        summary = self.report["summary"]
        failed = [k for k, v in summary.items() if v == "failed"]
        skipped = [k for k, v in summary.items() if v == "skipped"]
        ran = [k for k, v in summary.items() if v == "ok"]
        where = self.report.get("gpu_name") or "this machine"
        text = (f"{len(failed)} step(s) failed: {', '.join(failed)}" if failed
                else f"every step that ran passed on {where} ({', '.join(ran) or 'none'})")
        if skipped:
            text += f"; skipped: {', '.join(skipped)}"
        if self.report["gpu"] is None:
            text += ". Whether there is a GPU is unknown: the env step did not finish"
        elif not self.report["gpu"]:
            text += ". No GPU here: the GPU checks did not run" + (" (--require-gpu)" if self.opts.require_gpu else "")
        if self.opts.json_path:
            text += f". Report: {self.opts.json_path}"
        return text + "."


def _run_line(device: str, r: dict[str, Any], rows_flag: str) -> str:
    """One predict run as a sentence of the report."""
    head = f"{device}, chunks of {r['chunk_size']}: "
    mem = f", peak {r['peak_gpu_memory_mb']:,} MB" if r.get("peak_gpu_memory_mb") else ""
    if r.get("steady"):
        return (head + f"{r['steady']:,.0f} reviews/s over {r['steady_rows']:,} reviews after the first chunk "
                f"(which took {r['first_chunk_s']:.1f}s with model loading){mem}")
    if r.get("rows"):
        return (head + f"{r['rows']:,} reviews in {r['seconds']:.1f}s ({r['overall']:,.0f}/s with model loading){mem}; "
                f"fewer than two chunks after the first, so no steady rate: raise {rows_flag} or lower --chunk-sizes")
    return head + "no chunk finished"


def run_check(opts: CheckOptions, out: Callable[[str], None] = print) -> int:
    """Run the checks; 0 when no step failed (and a GPU was there with ``require_gpu``), else 1."""
    report = Check(opts, out).run()
    return 0 if report["ok"] else 1
