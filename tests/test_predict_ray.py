"""Prediction and tuning on a real two-node Ray cluster on loopback: the head (`ray start --head`) and
a second node joining it (`ray start --address`), one CPU each. Predict on the cluster writes the
same result.csv as the single-process path, row for row, and resumes after a failure without
redoing finished chunks; a 2-trial search runs on the same cluster.

The cluster's processes are started with ``--block`` in their own process groups and ended by
those groups' ids at the end of the module (so only this cluster is stopped, never another Ray on
the machine)."""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from modeling_fixtures import LABELS, default_C, make_frame, model_settings, training_settings, tuning_settings

from reviewtui.events import Notice, Progress

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
pytestmark = [pytest.mark.slow, pytest.mark.ray]


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port the kernel gives outgoing connections (32768 on most Linux systems)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n: int) -> list[int]:
    """n distinct free ports, none handed out before in this module, from below the kernel's range
    for outgoing connections: Ray binds a worker's port only when the worker starts, and a port of
    that range may by then be another process's connection (the other test workers open thousands).

    Each port is checked free by binding it; where that range starts too low to leave ports below
    it, the kernel picks them, all held open together so that it cannot give the same port twice."""
    low = _ephemeral_low()
    ports: list[int] = []
    if low > 12000:
        start = 10000 + (os.getpid() * 997) % max(1, low - 12000)  # test processes start far apart
        for port in list(range(start, low)) + list(range(10000, start)):
            if len(ports) == n:
                return ports
            if port in _HANDED_OUT:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _HANDED_OUT.add(port)
            ports.append(port)
    held: list[socket.socket] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


def free_port() -> int:
    return free_ports(1)[0]


def node_ports() -> list[str]:
    """Explicit free ports for one node, all distinct, so it never meets another Ray on this machine."""
    named = ["--node-manager-port", "--object-manager-port", "--metrics-export-port", "--runtime-env-agent-port",
             "--dashboard-agent-grpc-port", "--dashboard-agent-listen-port"]
    ports = free_ports(len(named) + 40)
    args: list[str] = []
    for flag, port in zip(named, ports):
        args += [flag, str(port)]
    return [*args, "--worker-port-list", ",".join(str(p) for p in ports[len(named):])]


def reachable(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def ray_cluster():
    """The address of a two-node local Ray cluster (1 CPU per node), stopped after the module."""
    if not RAY.is_file():
        pytest.skip("the ray command is not installed beside this Python")
    temp = Path(tempfile.mkdtemp(prefix="rt-ray-", dir="/tmp"))  # Ray's socket paths must stay short
    port = free_port()
    # the cluster and this process share the token of this run (Ray's token authentication; set in
    # conftest.py), so a token file another Ray left in ~/.ray never decides whether they can talk
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.environ.get("RAY_AUTH_TOKEN") or secrets.token_hex(32)}
    saved = {k: os.environ.get(k) for k in auth}
    os.environ.update(auth)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "RAY_USAGE_STATS_ENABLED": "0", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    common = ["--num-cpus", "1", "--num-gpus", "0", "--object-store-memory", str(150 * 2**20),
              "--disable-usage-stats", "--block"]
    procs = []
    log = open(temp / "ray-start.log", "w")
    try:
        procs.append(subprocess.Popen(
            [str(RAY), "start", "--head", "--port", str(port),
             "--include-dashboard", "false", "--temp-dir", str(temp),
             *node_ports(), *common], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while not reachable(port):
            assert procs[0].poll() is None, (temp / "ray-start.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Ray head did not start in 120 s"
            time.sleep(0.5)
        address = f"127.0.0.1:{port}"
        procs.append(subprocess.Popen(
            [str(RAY), "start", "--address", address, *node_ports(), *common],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_for_nodes(address, 2, deadline=time.monotonic() + 120, log=temp / "ray-start.log")
        yield address
    finally:
        for proc in reversed(procs):
            stop_group(proc)
        log.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(temp, ignore_errors=True)


def wait_for_nodes(address: str, count: int, *, deadline: float, log: Path) -> None:
    code = ("import ray, json; ray.init(address=%r, log_to_driver=False); "
            "print(json.dumps(sum(1 for n in ray.nodes() if n['Alive']))); ray.shutdown()" % address)
    while True:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if out.returncode == 0 and out.stdout.strip().splitlines()[-1] == str(count):
            return
        assert time.monotonic() < deadline, f"{count} Ray nodes did not come up: {out.stderr[-1500:]}" \
                                            f"{log.read_text()[-1500:]}"
        time.sleep(1)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(proc: subprocess.Popen) -> None:
    """End the `ray start --block` process and every process of its group (this node's raylet,
    GCS, workers), by the group's id: SIGTERM, then SIGKILL what is left after a few seconds."""
    pgid = proc.pid  # started with start_new_session: the group's id is its pid
    for sig, grace in ((signal.SIGTERM, 8.0), (signal.SIGKILL, 10.0)):
        if not group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while group_alive(pgid) and time.monotonic() < deadline:
            proc.poll()
            time.sleep(0.25)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL was sent
        pass


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bert):
    from reviewtui.modeling.finetune import train_model

    models = tmp_path_factory.mktemp("ray-models")
    train_model(make_frame(200, seed=3), models_dir=models, label_keys=LABELS, model=model_settings(tiny_bert, 32),
                training=training_settings(epochs=8, learning_rate=5e-3, batch_size=16, early_stopping_patience=8,
                                           warmup_ratio=0.0),
                quick_C=default_C(), name="ens")
    return models / "ens"


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_predict_on_the_cluster_equals_single_process_row_for_row(analysis_ws, trained, ray_cluster):
    import ray

    ws = analysis_ws
    shutil.copytree(trained, ws.models_dir / "ens")
    local = ws.predict(sentiment="vader", chunk_size=16)
    local_rows = read_rows(local.path)
    local_csv = local.path.read_bytes()

    events = []
    remote = ws.predict(sentiment="vader", chunk_size=16, ray_address=ray_cluster, on_event=events.append)
    assert not ray.is_initialized()  # predict disconnected the connection it made
    assert remote.ray_address == ray_cluster and remote.device == "ray" and remote.chunks == 4
    # each actor chose as this process did: bf16 where the CPU computes it natively, else int8
    assert remote.precision == local.precision and local.precision in ("bf16", "int8")
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("predicting 4 chunks on Ray with 2 actor(s) (1 CPU each)" in t for t in notices), notices
    remote_rows = read_rows(remote.path)
    assert len(remote_rows) == len(local_rows) == 64
    for a, b in zip(local_rows, remote_rows):
        assert {k: v for k, v in a.items() if k != "confidence"} == {k: v for k, v in b.items() if k != "confidence"}
        assert abs(float(a["confidence"]) - float(b["confidence"])) <= 1e-4
    assert remote.path.read_bytes() == local_csv or all(
        a["predicted_category"] == b["predicted_category"] for a, b in zip(local_rows, remote_rows))
    assert (ws.results_dir / "result-parts" / "part-00000.parquet").is_file()
    assert not any((ws.results_dir / ".predict").iterdir())


def test_predict_on_the_cluster_resumes_after_a_failure(analysis_ws, trained, ray_cluster):
    import ray

    ws = analysis_ws
    shutil.copytree(trained, ws.models_dir / "ens")
    local_rows = read_rows(ws.predict(sentiment="none", chunk_size=8, precision="fp32").path)

    class Boom(Exception):
        pass

    def fail_after_three_chunks(event):
        if isinstance(event, Progress) and event.detail.startswith("chunk 3/"):
            raise Boom("the driver failed")

    with pytest.raises(Boom):
        ws.predict(sentiment="none", chunk_size=8, precision="fp32", ray_address=ray_cluster,
                   on_event=fail_after_three_chunks)
    assert not ray.is_initialized()
    run_dir = next((ws.results_dir / ".predict").iterdir())
    saved = sorted(p.name for p in run_dir.glob("chunk-*.npz"))
    assert len(saved) == 3

    done_again = []

    def count(event):
        if isinstance(event, Progress) and event.detail.startswith("chunk "):
            done_again.append(event.done)

    resumed = ws.predict(sentiment="none", chunk_size=8, precision="fp32", ray_address=ray_cluster, on_event=count)
    assert resumed.resumed_chunks == 3 and resumed.chunks == 8
    assert len(done_again) == 5  # only the five chunks left ran
    rows = read_rows(resumed.path)
    assert [r["predicted_category"] for r in rows] == [r["predicted_category"] for r in local_rows]
    assert [r["reviewId"] for r in rows] == [r["reviewId"] for r in local_rows]
    assert resumed.precision == "fp32"


def test_a_two_trial_search_runs_on_the_cluster(tmp_path, tiny_bert, ray_cluster):
    import ray

    from reviewtui.modeling.tuning import tune_models

    events = []
    result = tune_models(
        make_frame(60), models_dir=tmp_path / "models", label_keys=LABELS, model=model_settings(tiny_bert, 16),
        training=training_settings(epochs=2, learning_rate=5e-3, batch_size=16, warmup_ratio=0.0, seed=42,
                                   ensemble_quick=False),
        tuning=tuning_settings(learning_rate=[1e-3, 1e-2], epochs=2, max_epochs=2, batch_size=[16], cpus_per_trial=1),
        quick_C=default_C(), cache_dir=tmp_path / "cache", trials=2, ray_address=ray_cluster, name="tuned",
        on_event=events.append)
    assert not ray.is_initialized()
    assert len(result.trials) == 2 and all(t.status in ("TERMINATED", "STOPPED") for t in result.trials)
    assert any(isinstance(e, Notice) and f"connecting to the Ray cluster at {ray_cluster}" in e.text for e in events)
    assert any(isinstance(e, Notice) and "searching 2 trials, 2 at a time" in e.text for e in events), \
        [e.text for e in events if isinstance(e, Notice)]
    assert result.card is not None and (tmp_path / "models" / "tuned" / "model_card.json").is_file()


def test_actor_plan_fits_actors_on_nodes():
    from reviewtui.analysis.predict_ray import actor_plan
    from reviewtui.settings import PredictSettings

    two_cpu_actors = PredictSettings(ray_cpus_per_actor=2)
    assert actor_plan([{"CPU": 1.0}, {"CPU": 1.0}], two_cpu_actors) == (2, {"num_cpus": 1.0})  # no actor spans nodes
    assert actor_plan([{"CPU": 8.0}, {"CPU": 5.0}], two_cpu_actors) == (6, {"num_cpus": 2.0})
    assert actor_plan([{"CPU": 16.0, "GPU": 2.0}, {"CPU": 16.0, "GPU": 1.0}], two_cpu_actors) == \
        (3, {"num_cpus": 1.0, "num_gpus": 1.0})
    assert actor_plan([{"CPU": 8.0}], PredictSettings(ray_actors=3, ray_cpus_per_actor=1))[0] == 3
