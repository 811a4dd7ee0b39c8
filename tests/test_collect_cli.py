"""``reviewtui collect play`` end to end against the loopback replay of Google Play: paging and
import, the weekly rerun that fetches only what is new, a kill and a Ctrl-C midway and the rerun
that continues, no network, and every bad option (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from play_replay import Replay, ReplayServer, make_corpus
from reviewtui.cli import main
from reviewtui.collect import raw

APP = "com.example.app"
OTHER = "com.other.app"
ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (stdout as printed, unless it is JSON, with
    the console's line wrapping undone)."""
    code = main(list(argv))
    out = capsys.readouterr()
    text = out.out if "--json" in argv else " ".join(out.out.split())
    return code, text, out.err


def workspace_for(root: Path, url: str, **collect) -> Path:
    from reviewtui.workspace import Workspace

    ws = Workspace.init(root)
    ws.config.update_section("collect", {"base_url": url, "page_size": 20, "pause_s": 0.0, "backoff_s": 0.01,
                                         "max_backoff_s": 0.05, "timeout_s": 5.0, **collect})
    ws.close()
    return root


def store_ids(root: Path) -> list[str]:
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    try:
        return [ext for ext, _ in ws.store.texts()]
    finally:
        ws.close()


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_collect_pages_and_imports_with_the_app(tmp_path, capsys):
    rep = Replay({APP: make_corpus(45), OTHER: make_corpus(7, OTHER)})
    with ReplayServer(rep) as url:
        root = workspace_for(tmp_path / "ws", url)
        code, out, err = run(capsys, "-w", str(root), "collect", "play", APP, OTHER, "--lang", "fr",
                             "--country", "ca")
    assert code == 0, err
    assert f"{APP}: 3 pages, 45 new reviews (no more reviews); 45 added to the workspace." in out
    assert f"{OTHER}: 1 page, 7 new reviews (no more reviews); 7 added to the workspace." in out
    assert "52 reviews in the workspace" in out
    assert [r["app_id"] for r in rep.requests] == [APP] * 3 + [OTHER]
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    r = ws.store.get(f"{APP}-00045")
    assert r.metadata["app"] == APP and r.metadata["app_version"] == "4.9.0" and "user_name" not in r.metadata
    assert ws.store.counts_by_app() == {APP: 45, OTHER: 7}
    assert ws.status().by_app == {APP: 45, OTHER: 7}
    imports = ws.store.imports()
    assert [Path(i["source"]).name for i in imports] == [APP, OTHER]
    ws.close()
    assert raw.page_numbers(root / "data" / "raw" / APP) == [1, 2, 3]


def test_a_weekly_rerun_fetches_and_imports_only_what_is_new(tmp_path, capsys):
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    with ReplayServer(rep) as url:
        root = workspace_for(tmp_path / "ws", url)
        assert run(capsys, "-w", str(root), "collect", "play", APP, "--count", "all")[0] == 0
        rep.corpora[APP] = make_corpus(52)[:7] + corpus  # seven new reviews since
        rep.requests.clear()
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP, "--json")
        data = json.loads(out)
        assert code == 0 and len(rep.requests) == 1
        assert data["apps"][0]["reviews"] == 7 and data["apps"][0]["stopped_because"] == "known"
        assert data["imported"][0]["added"] == 7
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP)
    assert code == 0 and "0 new reviews (reached reviews already collected)" in out
    ids = store_ids(root)
    assert len(ids) == len(set(ids)) == 52


def test_reviews_imported_from_a_file_stop_the_collect_too(tmp_path, capsys):
    """The workspace's own reviews of that app count as known: a collect after importing an
    export stops where the export's newest review is."""
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps({"reviewId": r["reviewId"], "content": r["content"], "score": r["score"]})
                              + "\n" for r in corpus[10:]), encoding="utf-8")
    with ReplayServer(rep) as url:
        root = workspace_for(tmp_path / "ws", url)
        assert run(capsys, "-w", str(root), "import", str(export), "--app", APP)[0] == 0
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP)
    assert code == 0 and "10 new reviews (reached reviews already collected); 10 added" in out
    assert len(store_ids(root)) == 45


def test_no_import_saves_the_pages_and_import_reads_them_later(tmp_path, capsys):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        root = workspace_for(tmp_path / "ws", url)
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP, "--count", "30", "--no-import")
    assert code == 0 and "not imported (--no-import)" in out and "reviewtui import data/raw/APP_ID" in out
    assert store_ids(root) == []
    folder = root / "data" / "raw" / APP
    code, out, err = run(capsys, "-w", str(root), "import", str(folder))
    assert code == 0, err
    assert "30 new reviews" in out and len(store_ids(root)) == 30


KILL_AFTER_PAGES = 3


def wait_for_pages(folder: Path, pages: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if (folder / raw.STATE_NAME).exists() and raw.load_state(folder).pages >= pages:
            return
        time.sleep(0.02)
    raise AssertionError(f"the collect did not reach {pages} pages (exit {proc.poll()})")


def test_a_collect_killed_midway_continues_on_rerun_without_duplicates(tmp_path, capsys):
    corpus = make_corpus(45)
    rep = Replay({APP: corpus})
    with ReplayServer(rep) as url:
        # a pause long enough that the kill lands before the last page on a loaded machine too
        root = workspace_for(tmp_path / "ws", url, page_size=5, pause_s=2)
        folder = root / "data" / "raw" / APP
        proc = subprocess.Popen([sys.executable, "-m", "reviewtui", "-w", str(root), "collect", "play", APP],
                                env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_pages(folder, KILL_AFTER_PAGES, proc)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        killed = raw.load_state(folder)
        assert killed.status == "running" and killed.pages < 9
        assert store_ids(root) == []  # killed before its import
        n_before = len(rep.requests)
        from reviewtui.workspace import Workspace

        Workspace.open(root).config.update_section("collect", {"pause_s": 0.0})  # the same query: it continues
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP)
    assert code == 0 and "continuing an unfinished collect" in out and "45 new reviews" in out
    assert rep.requests[n_before]["token"] == killed.token
    ids = store_ids(root)
    assert len(ids) == len(set(ids)) == 45


def test_ctrl_c_cancels_imports_what_was_saved_and_says_rerun(tmp_path, capsys):
    rep = Replay({APP: make_corpus(45)})
    with ReplayServer(rep) as url:
        root = workspace_for(tmp_path / "ws", url, page_size=5, pause_s=30)
        folder = root / "data" / "raw" / APP
        proc = subprocess.Popen([sys.executable, "-m", "reviewtui", "-w", str(root), "collect", "play", APP],
                                env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_pages(folder, 1, proc)
            t = time.perf_counter()
            proc.send_signal(signal.SIGINT)  # during the 30 s pause
            out, err = proc.communicate(timeout=30)
            assert time.perf_counter() - t < 10
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        out = " ".join(out.split())
        assert "Cancelled" in out and "rerun the same command to continue" in out
        assert len(store_ids(root)) == 5
        from reviewtui.workspace import Workspace

        ws = Workspace.open(root)
        ws.config.update_section("collect", {"pause_s": 0.0})  # the same query: the rerun continues
        ws.close()
        code, out, _ = run(capsys, "-w", str(root), "collect", "play", APP)
    assert code == 0 and "continuing an unfinished collect" in out
    ids = store_ids(root)
    assert len(ids) == len(set(ids)) == 45


def test_no_network_is_one_line_within_ten_seconds_and_writes_nothing(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    root = workspace_for(tmp_path / "ws", f"http://127.0.0.1:{port}")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(root), "collect", "play", APP],
                         env=cli_env(), capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - t < 10
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: no network: cannot reach 127.0.0.1")
    assert "importing CSV, JSON" in out.stderr and "works offline" in out.stderr
    assert not (root / "data").exists()


@pytest.mark.parametrize("argv,expected", [
    (["collect", "play", "../etc"], "is not a Google Play app id"),
    (["collect", "play", APP, "--count", "0"], "--count must be a positive number or all"),
    (["collect", "play", APP, "--count", "lots"], "--count must be a positive number or all"),
    (["collect", "play", APP, "--score", "6"], "--score must be a star rating from 1 to 5"),
    (["collect", "play", APP, "--since", "last week"], "--since must be a date written YYYY-MM-DD"),
    (["collect", "play", APP, "--sort", "oldest"], "sort must be one of newest, relevant"),
    (["collect", "play", APP, "--lang", "english"], "--lang must be two letters"),
    (["collect"], "name the store to collect from: reviewtui collect play APP_ID"),
])
def test_bad_collect_options(tmp_path, capsys, argv, expected):
    root = workspace_for(tmp_path / "ws", "http://127.0.0.1:9")
    before = (root / "reviewtui.toml").read_text()
    code, out, err = run(capsys, "-w", str(root), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert not (root / "data").exists() and (root / "reviewtui.toml").read_text() == before
    assert store_ids(root) == []


def test_a_bad_base_url_in_the_settings(tmp_path, capsys):
    root = workspace_for(tmp_path / "ws", "play.google.com")
    code, _, err = run(capsys, "-w", str(root), "collect", "play", APP)
    assert code == 2 and "[collect] base_url must start with https://" in err
