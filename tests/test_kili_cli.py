"""`reviewtui kili ...` from the CLI against the loopback Kili, and the API key never leaking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reviewtui.cli import main
from reviewtui.demo import generate_demo, read_oracle
from reviewtui.workspace import Workspace
from tests.kili_server import KiliServer, kili_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_push_pull_export_diff_to_review_from_the_cli(tmp_path, kili_server, capsys):
    files = generate_demo(tmp_path / "data", size=250, seed=7)
    oracle = read_oracle(files.oracle_csv)
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--backend", "kili")[0] == 0
    assert run(capsys, "-w", ws_dir, "import", str(files.export_csv))[0] == 0
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "create", "--title", "Inkwell reviews")
    assert code == 0 and "Created Kili project" in out
    ws = Workspace.open(ws_dir)
    pid = ws.settings.backend.project_id
    n = ws.store.count()
    assert n >= 240

    code, out, _ = run(capsys, "-w", ws_dir, "kili", "push")
    assert code == 0 and f"Pushed {n} assets" in out
    sizes = [len(b["data"]["externalIDArray"]) for b in kili_server.calls("appendManyAssets")]
    assert max(sizes) <= 100 and sum(sizes) == n == len(kili_server.state.assets[pid])

    ids = [ext for ext, _ in ws.store.texts()]
    first = ids[:40]
    for ext in first:  # labeled in Kili's web UI
        kili_server.state.label(pid, ext, oracle[ext], email="labeler@example.com")
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "pull")
    assert code == 0 and "40 labels recorded" in out
    assert run(capsys, "-w", ws_dir, "export")[0] == 0

    trained = {c.key for c in ws.taxonomy if c.train}
    relabel = [e for e in first if oracle[e] in trained][:4]
    for ext in relabel:
        other = next(k for k in sorted(trained) if k != oracle[ext])
        kili_server.state.label(pid, ext, other, email="reviewer@example.com")
    added = [e for e in ids[40:60] if oracle[e] in trained][:6]
    for ext in added:
        kili_server.state.label(pid, ext, oracle[ext])
    assert run(capsys, "-w", ws_dir, "kili", "pull")[0] == 0
    assert run(capsys, "-w", ws_dir, "export")[0] == 0
    v1, v2 = [v.name for v in Workspace.open(ws_dir).versions()][-2:]

    kili_server.clear_log()
    code, out, _ = run(capsys, "-w", ws_dir, "diff", v1, v2, "--to-review", "--json")
    assert code == 0
    moved = json.loads(out)["to_review"]
    assert sorted(moved["moved"]) == sorted(relabel + added) and moved["failed"] == {}
    (call,) = kili_server.calls("addAssetsToReview")
    assert sorted(call["where"]["idIn"]) == sorted(kili_server.state.asset(pid, e)["id"] for e in relabel + added)
    assert {kili_server.state.asset(pid, e)["status"] for e in relabel + added} == {"TO_REVIEW"}
    assert {Workspace.open(ws_dir).store.get(e).status for e in relabel + added} == {"TO_REVIEW"}


def test_cli_errors_exit_non_zero_with_one_line(tmp_path, kili_server, capsys):
    ws_dir = str(tmp_path / "ws")
    run(capsys, "init", ws_dir, "--backend", "kili")
    code, out, err = run(capsys, "-w", ws_dir, "kili", "attach", "nope")
    assert code == 2 and err.startswith("error: ") and "'nope' does not exist" in err and err.count("\n") == 1
    code, _, err = run(capsys, "-w", ws_dir, "kili", "pull")
    assert code == 2 and "reviewtui kili create" in err


def test_predictions_from_a_csv(tmp_path, kili_server, capsys):
    ws_dir = str(tmp_path / "ws")
    run(capsys, "init", ws_dir, "--backend", "kili")
    ws = Workspace.open(ws_dir)
    from reviewtui.store import NewAsset

    ws.store.add_assets([NewAsset("a1", "great articles"), NewAsset("a2", "crashes all the time")])
    run(capsys, "-w", ws_dir, "kili", "create", "--title", "P")
    run(capsys, "-w", ws_dir, "kili", "push")
    csv_path = tmp_path / "preds.csv"
    csv_path.write_text("externalId,prediction,confidence\na1,CONTENT,0.8\na2,Interface,0.6\n")
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "predictions", str(csv_path), "--model", "quick", "--version", "2")
    assert code == 0 and "Sent 2 predictions of quick@2" in out
    assert {i["modelName"] for c in kili_server.calls("appendManyLabels") for i in c["data"]["labelsData"]} == {"quick@2"}
    result = tmp_path / "result.csv"  # the columns of `reviewtui predict`'s results/result.csv
    result.write_text("reviewId,content,predicted_category,confidence,model\n"
                      "a1,great articles,Content,0.7,minilm-ft-3\na2,crashes,INTERFACE,0.9,minilm-ft-3\n")
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "predictions", str(result))
    assert code == 0 and "Sent 2 predictions of minilm-ft-3" in out
    code, _, err = run(capsys, "-w", ws_dir, "kili", "predictions", str(csv_path))
    assert code == 2 and "--model" in err
    stray = tmp_path / "stray.csv"  # no row is an asset of the project: nothing sent, exit 1
    stray.write_text("externalId,prediction\nzz9,CONTENT\n")
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "predictions", str(stray), "--model", "quick")
    assert code == 1 and "Sent 0 predictions" in out and "zz9" in out


SECRET = "kili-SECRET-e4c1d9a07b3f5a62"


def _cli(ws_dir: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(ws_dir), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_api_key_never_appears_in_output_logs_or_files(tmp_path):
    server = KiliServer(api_key=SECRET).start()
    try:
        ws_dir = tmp_path / "ws"
        ws = Workspace.init(ws_dir, backend="kili")
        ws.config.update_section("kili", {"retry_deadline": 1})
        from reviewtui.store import NewAsset

        ws.store.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(5)])
        ws.close()
        (ws_dir / ".env").write_text(f"KILI_API_KEY={SECRET}\n")  # the only place the key is
        env = {k: v for k, v in os.environ.items() if not k.startswith("KILI_")}
        env.update(KILI_API_ENDPOINT=server.endpoint, PYTHONWARNINGS="always", HOME=str(tmp_path / "home"))
        runs = [_cli(ws_dir, env, "kili", "create", "--title", "Secret test"),
                _cli(ws_dir, env, "kili", "push"),
                _cli(ws_dir, env, "kili", "pull", "--json")]
        assert [r.returncode for r in runs] == [0, 0, 0], [r.stderr for r in runs]
        server.fail("*", "500", times=None)
        runs.append(_cli(ws_dir, env, "kili", "pull"))
        server.clear_faults()
        server.api_key = "some-other-key"  # the key is now rejected
        runs.append(_cli(ws_dir, env, "kili", "push"))
        assert [r.returncode for r in runs[3:]] == [2, 2]
        assert "HTTP 500" in runs[3].stderr and "HTTP 401" in runs[4].stderr
        for r in runs:
            assert SECRET not in r.stdout and SECRET not in r.stderr
            assert SECRET[-12:] not in r.stdout + r.stderr
        for path in [*ws_dir.rglob("*"), *(tmp_path / "home").rglob("*")]:
            if path.is_file() and path.name != ".env":
                assert SECRET.encode() not in path.read_bytes(), path
        # the SDK did send it, in the Authorization header only
        assert server.headers_seen[0]["Authorization"] == f"X-API-Key: {SECRET}"
        opened = Workspace.open(ws_dir)
        assert SECRET not in repr(opened.backend) and SECRET not in repr(opened.backend.settings)
    finally:
        server.stop()


def test_ctrl_c_during_a_push_says_what_was_pushed_and_how_to_finish(tmp_path, kili_server, capsys, monkeypatch):
    from kili.client import Kili

    from reviewtui.store import NewAsset

    ws_dir = str(tmp_path / "ws")
    run(capsys, "init", ws_dir, "--backend", "kili")
    ws = Workspace.open(ws_dir)
    ws.store.add_assets([NewAsset(f"r{i:03d}", f"review {i}") for i in range(250)])
    run(capsys, "-w", ws_dir, "kili", "create", "--title", "P")
    pid = Workspace.open(ws_dir).settings.backend.project_id
    append = Kili.append_many_to_dataset
    calls = []

    def ctrl_c_on_the_second_batch(self, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return append(self, *a, **kw)

    monkeypatch.setattr(Kili, "append_many_to_dataset", ctrl_c_on_the_second_batch)
    code, out, err = run(capsys, "-w", ws_dir, "kili", "push")
    assert code == 130 and out == "" and err.count("\n") == 1
    assert err.startswith("error: interrupted: 100 assets were pushed") and "rerun `reviewtui kili push`" in err.lower()
    assert len(kili_server.state.assets[pid]) == 100
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "push")
    assert code == 0 and "Pushed 150 assets" in out and "(100 were already there)" in " ".join(out.split())
    assert sorted(a["externalId"] for a in kili_server.state.assets[pid]) == [f"r{i:03d}" for i in range(250)]
    monkeypatch.setattr(Workspace, "kili_pull", lambda self, **kw: (_ for _ in ()).throw(KeyboardInterrupt))
    code, _, err = run(capsys, "-w", ws_dir, "kili", "pull")
    assert code == 130 and "all of it or none of it" in err and "reviewtui kili pull" in err


def test_attach_says_what_is_left_to_push_and_suggests_a_pull_when_nothing_is(tmp_path, kili_server, capsys):
    """create says how many reviews a push sends; attaching the same project again after the push
    says every review is there and points to pull, not to a push that sends nothing."""
    files = generate_demo(tmp_path / "data", size=60, seed=3)
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--backend", "kili")[0] == 0
    assert run(capsys, "-w", ws_dir, "import", str(files.export_csv))[0] == 0
    n = Workspace.open(ws_dir).store.count()
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "create", "--title", "Inkwell")
    out = " ".join(out.split())  # the lines are wrapped at the console's width
    assert code == 0 and f"Next: reviewtui kili push ({n} reviews to send;" in out
    assert run(capsys, "-w", ws_dir, "kili", "push")[0] == 0
    pid = Workspace.open(ws_dir).settings.backend.project_id
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "attach", pid)
    out = " ".join(out.split())
    assert code == 0 and "Every review of this workspace is in the project already. Next: reviewtui kili pull" in out
    assert "kili push" not in out
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "attach", pid, "--json")
    assert code == 0 and json.loads(out)["to_push"] == 0


def test_create_in_a_workspace_without_reviews_says_to_import_first(tmp_path, kili_server, capsys):
    """Before any import nothing is "in the project already": create says to import, then push."""
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--backend", "kili")[0] == 0
    code, out, _ = run(capsys, "-w", ws_dir, "kili", "create", "--title", "Empty")
    out = " ".join(out.split())
    assert code == 0 and "The workspace has no reviews yet. Next: reviewtui import FILE, then reviewtui kili push" in out
    assert "in the project already" not in out


def test_a_password_or_token_in_the_endpoint_is_never_printed():
    """KILI_API_ENDPOINT=http://user:PASSWORD@host/api?token=T named in "cannot reach Kili at ...":
    the key was hidden, the endpoint's own secrets were not."""
    from reviewtui.backends.kili_client import redact

    text = "cannot reach Kili at http://user:sekretpw@127.0.0.1:9/api?token=abc&x=1 (connection failed)"
    assert redact(text, "the-api-key") == \
        "cannot reach Kili at http://user:***@127.0.0.1:9/api?token=***&x=1 (connection failed)"
    assert redact("key the-api-key-0123456789 refused", "the-api-key-0123456789") == "key *** refused"
    assert redact("see https://docs.kili-technology.com/reference", None) == "see https://docs.kili-technology.com/reference"


def test_a_key_pasted_with_a_line_break_is_one_error_line_with_no_part_of_the_key(tmp_path, kili_server, capsys,
                                                                                   monkeypatch):
    key = "kq7Z-Wx3v\n9Tr-Pm2s-Ld5F"
    ws_dir = tmp_path / "ws"
    run(capsys, "init", str(ws_dir), "--backend", "kili")
    monkeypatch.delenv("KILI_API_KEY")
    (ws_dir / ".env").write_text('KILI_API_KEY="kq7Z-Wx3v\\n9Tr-Pm2s-Ld5F"\n', encoding="utf-8")
    for argv in (("kili", "create", "--title", "P"), ("kili", "attach", "some-project")):
        code, out, err = run(capsys, "-w", str(ws_dir), *argv)
        assert code == 2 and err.count("\n") == 1
        assert err.startswith(f"error: KILI_API_KEY (from {ws_dir / '.env'}) has characters an API key cannot "
                              "have (a line break); paste it again")
        said = out + err
        assert not [key[i:i + 4] for i in range(len(key) - 3) if key[i:i + 4] in said]
    assert kili_server.ops == []


def _six_reviews_pushed(tmp_path, capsys) -> tuple[str, str]:
    """A Kili workspace of six reviews pushed to a new project (retry deadline 1 s): its folder and project id."""
    from reviewtui.store import NewAsset

    ws_dir = str(tmp_path / "ws")
    run(capsys, "init", ws_dir, "--backend", "kili")
    ws = Workspace.open(ws_dir)
    ws.config.update_section("kili", {"retry_deadline": 1})
    ws.store.add_assets([NewAsset(f"r{i:03d}", f"review {i}: the app is fine") for i in range(6)])
    run(capsys, "-w", ws_dir, "kili", "create", "--title", "P")
    run(capsys, "-w", ws_dir, "kili", "push")
    pid = Workspace.open(ws_dir).settings.backend.project_id
    return ws_dir, pid


def test_queue_exits_2_when_kili_set_none_of_the_priorities_and_names_the_ones_it_declined(tmp_path, kili_server,
                                                                                            capsys, monkeypatch):
    """Kili out of reach: "Priorities set in the kili backend for 0 assets; 6 failed." and exit 0,
    so a script went on as if the queue were set. Some declined: the reasons were not said."""
    ws_dir, pid = _six_reviews_pushed(tmp_path, capsys)
    for ext in ("r000", "r001"):  # labeled in Kili, not pulled: Kili declines their priority
        kili_server.state.label(pid, ext, "CONTENT")
    code, out, err = run(capsys, "-w", ws_dir, "queue", "--strategy", "random", "--size", "6")
    out = " ".join(out.split())
    assert code == 0 and "Priorities set in the kili backend for 4 assets; 2 failed: " in out
    assert "r000" in out.split("2 failed: ")[1] and "Kili declined: the asset is not waiting to be labeled" in out

    monkeypatch.setenv("KILI_API_ENDPOINT", "http://127.0.0.1:9/api/label/v2/graphql")  # nothing listens there
    for json_out in (False, True):
        code, out, err = run(capsys, "-w", ws_dir, "queue", "--strategy", "random", "--size", "6",
                             *(["--json"] if json_out else []))
        assert code == 2 and "cannot reach Kili" in err
        if json_out:
            said = json.loads(out)
            assert len(said["items"]) == 6 and said["priorities_set"] == 0 and len(said["failed"]) == 6
        else:
            out = " ".join(out.split())
            assert "r002" in out  # the batch is still shown
            assert "Priorities set in the kili backend for 0 assets; 6 failed. Not one priority was set" in out
            assert "cannot reach" not in out  # said once, in the warning

def test_queue_whose_later_priority_call_fails_counts_the_ones_kili_took(tmp_path, kili_server, capsys):
    """One priority call per queue item: the 4th answer lost made the queue say "Not one priority
    was set" and exit 2, with Kili holding the first ones, and the store recording none of them."""
    ws_dir, pid = _six_reviews_pushed(tmp_path, capsys)
    kili_server.fail("setAssetsPriority", "drop", after=3)  # Kili applies the 4th call; its answer is lost
    code, out, err = run(capsys, "-w", ws_dir, "queue", "--strategy", "random", "--size", "6", "--json")
    said = json.loads(out)
    assert code == 0 and said["priorities_set"] == 3 and len(said["failed"]) == 3
    ranked = [it["external_id"] for it in said["items"]]  # priorities 6 down to 1
    in_kili = {a["externalId"]: a.get("priority") for a in kili_server.state.assets[pid]}
    assert [in_kili[e] for e in ranked] == [6, 5, 4, 3, 0, 0]
    store = Workspace.open(ws_dir).store
    assert [store.get(e).priority for e in ranked] == [6, 5, 4, 0, 0, 0]  # the ones Kili said it took
    lost, unsent = said["failed"][ranked[3]], said["failed"][ranked[4]]
    assert "may have been applied" in lost and "rerunning `reviewtui queue`" in lost
    assert unsent.startswith("not sent") and said["failed"][ranked[5]] == unsent
    assert "not set" not in err  # no warning that the whole batch failed

    kili_server.fail("setAssetsPriority", "drop", after=1)
    code, out, _ = run(capsys, "-w", ws_dir, "queue", "--strategy", "random", "--size", "6")
    out = " ".join(out.split())
    assert code == 0 and "Priorities set in the kili backend for 1 asset; 5 failed: " in out
    assert "the priority may have been applied; rerunning `reviewtui queue`" in out
    assert "Not one priority was set" not in out

    kili_server.fail("setAssetsPriority", "drop")  # the first call: nothing is known to be set
    code, out, err = run(capsys, "-w", ws_dir, "queue", "--strategy", "random", "--size", "6", "--json")
    assert code == 2 and json.loads(out)["priorities_set"] == 0
    assert "the queue's priorities were not set in the kili backend" in " ".join(err.split())


def test_attaching_a_project_a_teammate_pushed_to_says_nothing_is_left_to_send(tmp_path, kili_server, capsys):
    """Workspace B, with the reviews workspace A pushed, attached A's project: "3 reviews to send",
    and the push then sent none (all 3 already there)."""
    from reviewtui.store import NewAsset

    dirs = {}
    for name, n in (("a", 3), ("b", 3), ("c", 4)):
        dirs[name] = str(tmp_path / name)
        run(capsys, "init", dirs[name], "--backend", "kili")
        Workspace.open(dirs[name]).store.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(n)])
    run(capsys, "-w", dirs["a"], "kili", "create", "--title", "Shared")
    assert run(capsys, "-w", dirs["a"], "kili", "push")[0] == 0
    pid = Workspace.open(dirs["a"]).settings.backend.project_id
    kili_server.clear_log()
    code, out, _ = run(capsys, "-w", dirs["b"], "kili", "attach", pid)
    out = " ".join(out.split())
    assert code == 0 and "Every review of this workspace is in the project already. Next: reviewtui kili pull" in out
    b = Workspace.open(dirs["b"])
    assert b.status().next_steps[0].startswith("label in the Kili project")
    assert {f"r{i}": b.store.get(f"r{i}").remote_id for i in range(3)} == \
        {f"r{i}": kili_server.state.asset(pid, f"r{i}")["id"] for i in range(3)}
    code, out, _ = run(capsys, "-w", dirs["b"], "kili", "push")
    assert code == 0 and "Pushed 0 assets" in out and len(kili_server.state.assets[pid]) == 3
    code, out, _ = run(capsys, "-w", dirs["c"], "kili", "attach", pid, "--json")
    assert code == 0 and json.loads(out)["to_push"] == 1
    code, out, _ = run(capsys, "-w", dirs["c"], "kili", "push")
    assert code == 0 and "Pushed 1 asset" in out and len(kili_server.state.assets[pid]) == 4


def test_a_push_says_once_that_assets_were_deleted_in_kili(tmp_path, kili_server, capsys):
    """The "deleted in Kili" warning came twice: as a notice on stderr and in the result on stdout."""
    from reviewtui.store import NewAsset

    ws_dir = str(tmp_path / "ws")
    run(capsys, "init", ws_dir, "--backend", "kili")
    Workspace.open(ws_dir).store.add_assets([NewAsset(f"r{i}", f"review {i}") for i in range(4)]
                                            + [NewAsset("blank", " ")])
    run(capsys, "-w", ws_dir, "kili", "create", "--title", "P")
    run(capsys, "-w", ws_dir, "kili", "push")
    pid = Workspace.open(ws_dir).settings.backend.project_id
    kili_server.state.assets[pid] = [a for a in kili_server.state.assets[pid] if a["externalId"] != "r2"]
    code, out, err = run(capsys, "-w", ws_dir, "kili", "push")
    said = " ".join((out + err).split())
    assert code == 0 and said.count("deleted in Kili") == 1 and "r2" in said and "--restore-deleted" in said
    assert said.count("empty text") == 1
    code, out, err = run(capsys, "-w", ws_dir, "kili", "push", "--json")
    assert code == 0 and json.loads(out)["deleted_ids"] == ["r2"]
