"""tools/gpubox check on the CPU (the suite has no GPU): the report and its JSON, time limits, skips,
the workspace it sets up, and the CPU path of training and predicting on a tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tools.gpubox import check as check_module
from tools.gpubox.check import Check, CheckOptions
from tools.gpubox.steps import steady_rate

REPO = Path(__file__).resolve().parents[1]


def gpubox(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "tools.gpubox", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)


def test_check_with_the_gpu_steps_skipped_reports_the_environment_and_no_gpu_in_json(tmp_path):
    import torch

    import reviewtui

    out = tmp_path / "report.json"
    res = gpubox("check", "--skip", "train,predict,tune", "--json", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(out.read_text())
    gpu = torch.cuda.is_available()
    assert report["gpu"] is gpu and report["ok"] is True and report["format"] == 1
    assert report["summary"] == {"env": "ok", "setup": "skipped", "train": "skipped", "predict": "skipped",
                                 "tune": "skipped"}
    for step in ("train", "predict", "tune"):
        assert report["steps"][step] == {"status": "skipped", "reason": "--skip"}
    assert report["steps"]["setup"]["reason"] == "no step needs a workspace"
    env = report["steps"]["env"]
    assert env["versions"]["torch"] == torch.__version__ and env["versions"]["reviewtui"] == reviewtui.__version__
    assert env["versions"]["ray"] and all(c["ok"] for c in env["checks"].values())
    for stamp in (report["started"], report["finished"]):
        assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0
    if not gpu:
        assert [line for line in env["lines"] if line.startswith("no GPU: ")]
        assert "no GPU: this torch" in res.stdout and "No GPU here: the GPU checks did not run" in res.stdout
    assert "train    SKIPPED" in res.stdout and "--skip" in res.stdout
    assert "== env: exit 0" in (tmp_path / "report.log").read_text()  # the full output, next to the JSON
    assert not Path(report["work"]).exists()  # the temporary work folder is gone


@pytest.mark.parametrize("args, message", [
    (["--skip", "train,fly"], "error: --skip fly: unknown step; the steps that can be skipped are train, predict, tune"),
    (["--timeout", "warp=3"], "error: --timeout warp=...: unknown step; the steps are env, setup, train, predict, tune"),
    (["--version", "dataset-2"], "error: --version names a version of --workspace DIR; give the workspace too"),
    (["--rows", "0"], "error: --rows must be at least 1, not 0"),
])
def test_bad_options_are_one_line_and_exit_2(args, message):
    res = gpubox("check", *args)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [message]


def _one_step(tmp_path: Path, monkeypatch, launcher: str, limit: float = 60) -> tuple[dict, list[str], Check]:
    monkeypatch.setattr(check_module, "STEP_LAUNCHER", launcher)
    lines: list[str] = []
    c = Check(CheckOptions(work=tmp_path / "work", json_path=tmp_path / "r.json", timeouts={"env": limit}),
              out=lines.append)
    rec = c.step("env", lambda t: c.child("env", "env", {}, t))
    return rec, lines, c


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # a zombie has finished; only its exit code is left


def test_a_step_past_its_limit_is_stopped_with_the_processes_it_started(tmp_path, monkeypatch):
    pidfile = tmp_path / "grandchild.pid"
    launcher = ("import subprocess, time; p = subprocess.Popen(['sleep', '300']); "
                f"open({str(pidfile)!r}, 'w').write(str(p.pid)); print('working', flush=True); time.sleep(300)")
    t0 = time.monotonic()
    rec, lines, c = _one_step(tmp_path, monkeypatch, launcher, limit=3)
    assert time.monotonic() - t0 < 60
    assert rec["status"] == "failed"
    assert rec["error"] == "ran past its 3s limit and was stopped (raise it with --timeout, or --deadline)"
    assert rec["output_tail"] == ["working"]
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(pid), "the step's own child process outlived the time limit"
    assert lines[0].startswith("env      FAILED") and "ran past its 3s limit" in lines[0]
    assert json.loads((tmp_path / "r.json").read_text())["summary"] == {"env": "failed"}
    assert "[env] working" in c.log_path.read_text()


def test_require_gpu_fails_a_check_that_found_no_gpu(tmp_path, monkeypatch):
    # an env step that reports what a machine without a GPU reports
    monkeypatch.setattr(check_module, "STEP_LAUNCHER", "import json, sys; json.dump({'status': 'ok', 'gpu': False, "
                        "'lines': ['no GPU: this torch is a CPU-only build']}, open(sys.argv[-1], 'w'))")
    lines: list[str] = []
    opts = CheckOptions(json_path=tmp_path / "r.json", skip={"train", "predict", "tune"}, require_gpu=True)
    assert check_module.run_check(opts, out=lines.append) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] is False and report["gpu"] is False and report["summary"]["env"] == "ok"
    assert lines[-1].startswith("every step that ran passed on this machine (env)")
    assert "No GPU here: the GPU checks did not run (--require-gpu)" in lines[-1]
    opts.require_gpu = False
    assert check_module.run_check(opts, out=lines.append) == 0


def test_a_step_that_dies_without_a_result_is_reported_with_its_last_lines(tmp_path, monkeypatch):
    rec, lines, _ = _one_step(tmp_path, monkeypatch, "import sys; print('CUDA error: out of memory'); sys.exit(3)")
    assert rec["status"] == "failed" and rec["error"] == "the step's process exited 3 without a result"
    assert "CUDA error: out of memory" in "\n".join(lines)


def test_steady_rate_leaves_out_the_first_chunk_and_a_chunk_cut_short():
    ends = {512: 10.0, 1024: 11.0, 1536: 12.0, 2048: 12.5}
    cut = steady_rate(ends, start=2.0, last_valid=2047)  # stopped after 2048: that chunk may be partial
    assert cut == {"rows": 1536, "seconds": 10.0, "first_chunk_s": 8.0, "steady": 512.0, "steady_rows": 1024,
                   "overall": 153.6}
    whole = steady_rate(ends, start=2.0)
    assert whole["rows"] == 2048 and whole["steady"] == pytest.approx(1536 / 2.5, abs=0.1)
    one = steady_rate({512: 3.0}, start=1.0)
    assert one["steady"] is None and one["rows"] == 512 and one["overall"] == 256.0
    assert steady_rate({}, start=0.0)["rows"] == 0


def test_setup_from_a_workspace_trains_on_a_copy_of_its_version(tmp_path, workspace):
    from modeling_fixtures import make_frame

    from tools.gpubox.steps import step_setup

    csv = tmp_path / "dataset-1.csv"
    make_frame(40, seed=2).to_csv(csv, index=False)
    workspace.import_versions([csv])
    before = workspace.status()
    res = step_setup({"ws": str(tmp_path / "check-ws"), "rows": 100, "seed": 1, "model": "minilm",
                      "workspace": str(workspace.root), "version": None, "reviews": [], "epochs": 3, "trials": 2,
                      "tune_epochs": 2, "tune_budget": 30.0, "gpus_per_trial": 0.5})
    assert res["version"] == "dataset-1" and res["version_rows"] == 40 and res["reviews"] == 40
    assert res["lines"] == [f"{workspace.root} (dataset-1): 40 reviews; training on dataset-1 (40 labeled rows); "
                            "[model] base = minilm"]

    from reviewtui.workspace import Workspace

    ws = Workspace.open(tmp_path / "check-ws")
    try:
        s = ws.config.settings
        assert (s.training.epochs, s.training.early_stopping_patience) == (3, 1)
        assert (s.tuning.trials, s.tuning.max_epochs, s.tuning.gpus_per_trial) == (2, 2, 0.5)
        assert ws.taxonomy.to_list() == workspace.taxonomy.to_list()
    finally:
        ws.close()
    after = workspace.status()
    assert (after.assets, after.versions, after.models) == (before.assets, before.versions, before.models)


@pytest.mark.slow
def test_the_cpu_path_trains_and_predicts_a_tiny_model_through_the_workspace(tmp_path, tiny_bert):
    import torch

    from tools.gpubox.steps import step_predict, step_setup, step_train

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the GPU path runs instead")
    ws = tmp_path / "ws"
    setup = step_setup({"ws": str(ws), "rows": 200, "seed": 3, "model": str(tiny_bert), "workspace": None,
                        "version": None, "reviews": [], "epochs": 4, "trials": 2, "tune_epochs": 1,
                        "tune_budget": 60.0, "gpus_per_trial": None})
    assert setup["reviews"] > 150 and setup["version_rows"] > 100

    train = step_train({"ws": str(ws), "cpu_epochs": 1})
    assert {k: v["ok"] for k, v in train["checks"].items()} == {"model saved": True, "card records the CPU": True}
    assert train["card_hardware"]["device"] == "cpu" and train["epochs_trained"] == 1
    assert train["trainer"]["param_dtype"] == "torch.float32" and train["trainer"]["bf16"] is False
    assert train["lines"][0].startswith("no GPU: the bf16 checks did not run; the CPU path trained instead")

    predict = step_predict({"ws": str(ws), "work": str(tmp_path), "model": "gpu-check", "device": "cpu",
                            "chunk_sizes": [32], "max_rows": 100})
    assert all(c["ok"] for c in predict["checks"].values())
    (run,) = predict["runs"]
    assert run["device"] == "cpu" and run["rows"] >= 64 and run["steady"] > 0 and run["steady_rows"] >= 32
    assert not (tmp_path / "predict-cpu-32").exists()  # the cold copy is removed
    json.dumps([setup, train, predict])  # what the child writes as its result


def test_the_tool_imports_no_heavy_library_and_no_reviewtui():
    # bundle, verify and install run before reviewtui is installed; check loads torch only in its steps
    code = ("import sys, tools.gpubox.__main__, tools.gpubox.bundle, tools.gpubox.check, tools.gpubox.manifest, "
            "tools.gpubox.steps; print(sorted(m for m in ('torch', 'transformers', 'ray', 'reviewtui', 'rich', "
            "'numpy') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
