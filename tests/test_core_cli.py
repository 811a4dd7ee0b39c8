"""The foundation commands end to end through the CLI entry point, and their bad inputs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtui.cli import main
from reviewtui.workspace import Workspace
from tests.conftest import PLAY_HEADER, PLAY_ROWS, write_csv

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MEDIUM = SHARED / "medium-reviews"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def snapshot(ws_root: Path) -> str:
    """A digest of everything a command could change: the store's rows and the versions folder."""
    import sqlite3

    db = sqlite3.connect(ws_root / "reviewtui.db")
    parts = []
    for table in ("assets", "labels", "imports"):
        parts.append(repr(db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()))
    db.close()
    for p in sorted((ws_root / "versions").glob("*")):
        parts.append(p.name + hashlib.sha256(p.read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@pytest.fixture
def ws(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root))[0] == 0
    return root


def test_init_refuses_an_empty_name_and_a_path_the_system_refuses(tmp_path, monkeypatch, capsys):
    """`init "$UNSET"` made the current folder a workspace; a file on the path ended in a traceback."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "init", "")
    assert code == 2 and "give the workspace a folder name" in err and err.count("\n") == 1
    assert not (tmp_path / "reviewtui.toml").exists()
    (tmp_path / "afile").write_text("x")
    code, _, err = run(capsys, "init", "afile/ws")
    assert code == 2 and err == "error: afile/ws: Not a directory (ENOTDIR); check that path and run the command again\n"


def test_init_writes_taxonomy_and_refuses_twice(ws, capsys):
    import tomllib

    cfg = tomllib.loads((ws / "reviewtui.toml").read_text())
    keys = [(c["key"], c["name"], c["train"]) for c in cfg["categories"]]
    assert keys == [("SUBSCRIPTION", "Subscription", True), ("CONTENT", "Content", True),
                    ("INTERFACE", "Interface", True), ("USER_EXPERIENCE", "User experience", True),
                    ("OTHER", "Other", False), ("MULTI_LABEL", "Multi label", False)]
    assert all(c["colour"].startswith("#") for c in cfg["categories"])
    assert cfg["backend"]["kind"] == "local"
    for section in ("model", "tuning", "import"):
        assert section in cfg
    for sub in ("versions", "models", "results"):
        assert (ws / sub).is_dir()
    code, _, err = run(capsys, "init", str(ws))
    assert code == 2 and "already a reviewtui workspace" in err


def test_import_play_export_cleans_and_reports(ws, play_csv, capsys):
    code, out, _ = run(capsys, "-w", str(ws), "import", str(play_csv), "--json")
    assert code == 0
    report = json.loads(out)[0]
    assert report["rows_read"] == 6
    assert report["dropped"] == {"missing text": 1, "empty after cleaning": 1}
    assert report["added"] == 4
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    r1, r2, r3 = w.store.get("r1"), w.store.get("r2"), w.store.get("r3")
    assert r1.text == "I can't read without paying for the membership!!"  # the case as written
    assert r2.text == "Great articles about science"  # HTML and emoji gone
    assert r3.text == "The new layout is CONFUSING, see"  # URL gone, whitespace collapsed
    assert r1.metadata == {"score": 1, "app_version": "4.4.0", "at": "2022-01-02 10:00:00", "thumbs_up": 3}
    assert r2.metadata["reply"] == "Thanks!"
    assert "user_name" not in r1.metadata and "Ann Lee" not in json.dumps(r1.metadata)


def test_import_says_which_column_it_took_the_text_from(ws, tmp_path, capsys):
    a = write_csv(tmp_path / "a.csv", ["Clothing ID", "Review Text", "Rating"], [["1", "Runs small", "4"]])
    b = write_csv(tmp_path / "b.csv", ["id", "comment"], [["2", "Seams ripped"]])
    code, out, _ = run(capsys, "-w", str(ws), "import", str(a), str(b))
    assert code == 0
    assert "Text from column 'Review Text' in a.csv; --text-col names another." in out
    assert "Text from column 'comment' in b.csv; --text-col names another." in out
    code, out, _ = run(capsys, "-w", str(ws), "import", str(b), "--text-col", "comment")
    assert code == 0 and "Text from column" not in out


def test_keep_pii_keeps_user_columns(ws, play_csv, capsys):
    assert run(capsys, "-w", str(ws), "import", str(play_csv), "--keep-pii")[0] == 0
    from reviewtui.workspace import Workspace

    assert Workspace.open(ws).store.get("r1").metadata["user_name"] == "Ann Lee"


def test_reimport_adds_nothing_and_newer_export_adds_only_new(ws, play_csv, tmp_path, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    code, out, _ = run(capsys, "-w", str(ws), "import", str(play_csv), "--json")
    assert code == 0 and json.loads(out)[0]["added"] == 0 and json.loads(out)[0]["existing"] == 4
    newer = write_csv(tmp_path / "newer.csv", PLAY_HEADER,
                      PLAY_ROWS + [["r7", "G", "x", "Billing charged me twice", "1", "0", "4.5.0", "", "", ""]])
    code, out, _ = run(capsys, "-w", str(ws), "import", str(newer), "--json")
    assert json.loads(out)[0]["added"] == 1
    assert before != snapshot(ws)


def test_generic_csv_with_generated_stable_ids(ws, tmp_path, capsys):
    f = write_csv(tmp_path / "g.csv", ["review", "stars"], [["Good app", "5"], ["Bad app", "1"], ["Good app", "5"]])
    code, out, _ = run(capsys, "-w", str(ws), "import", str(f), "--text-col", "review", "--json")
    assert code == 0
    rep = json.loads(out)[0]
    assert rep["added"] == 2 and rep["dropped"]["duplicate row"] == 1
    from reviewtui.ingest import stable_id
    from reviewtui.workspace import Workspace

    store = Workspace.open(ws).store
    good = [a for a in store.iter_assets() if a.text == "Good app"]
    assert len(good) == 1 and good[0].external_id.startswith(stable_id("Good app") + "-")
    assert good[0].metadata["score"] == 5
    assert run(capsys, "-w", str(ws), "import", str(f), "--text-col", "review", "--json")[0] == 0
    assert Workspace.open(ws).store.count() == 2


def test_semicolon_file_is_detected(ws, tmp_path, capsys):
    f = write_csv(tmp_path / "s.csv", ["id", "text"], [["a", "hello; there"], ["b", "bye"]], delimiter=";")
    code, _, err = run(capsys, "-w", str(ws), "import", str(f), "--text-col", "text", "--id-col", "id")
    assert code == 0, err


BAD_FILES = {
    "missing": (None, "no such file"),
    "folder": ("DIR", "is a folder"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV"),
    "wrong-delimiter": ("reviewId;content;score\nx;hello;5\n", "delimiter"),
    "no-text-column": ("id,note\n1,hello\n", "the columns are: id, note"),
    "undecodable": (b"reviewId,content,score\nx,ok,5\ny,caf\xe9 bad,4\n", "line 3"),
    "empty": (b"", "empty"),
    "header-only": ("reviewId,content,score\n", "no rows"),
    "huge-field": ("reviewId,content,score\nx,\"" + "a" * 2_100_000 + "\",5\n", "2,100,000 characters"),
    "unbalanced-quote": ("reviewId,content,score\nx,\"I said great,4\n"
                         + "".join(f"r{i},{'more words of a review ' * 20},3\n" for i in range(300))
                         + "z,\"closing\" here,2\n", "on 302 lines: a quote is probably unbalanced"),
    "duplicate-ids": ("reviewId,content,score\nx,one,5\ny,two,4\nx,three,3\n", "appears 2 times"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_import_inputs_one_line_exit_2_store_unchanged(ws, play_csv, tmp_path, capsys, case):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    content, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    args = ["-w", str(ws), "import", str(play_csv), str(path)]  # a good file first: it must not land either
    if case == "wrong-delimiter":
        args += ["--delimiter", ","]
    code, out, err = run(capsys, *args)
    assert code == 2
    assert expected in err, err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert snapshot(ws) == before


def test_a_long_review_alone_is_read_whole_and_said(ws, tmp_path, capsys):
    text = "The update broke the export. " * 5_000  # 145,000 characters, one paragraph
    f = write_csv(tmp_path / "long.csv", ["reviewId", "content", "score"], [["a", "fine", "5"], ["b", text, "1"]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(f))
    assert code == 0, err
    assert "1 review is over 100,000 characters (data row 2): stored whole" in " ".join(out.split())
    assert Workspace.open(ws).store.get("b").text == text.strip()


def test_label_from_file_status_and_json(ws, play_csv, tmp_path, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    code, out, _ = run(capsys, "-w", str(ws), "status")
    assert code == 0 and "Labels: none yet" in out and "By label" not in out  # no empty table
    f = write_csv(tmp_path / "l.csv", ["id", "label"], [["r1", "SUBSCRIPTION"], ["r2", "content"],
                                                       ["r3", "Interface"]])
    code, out, _ = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 0 and "Applied 3 labels" in out
    code, out, _ = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert "Applied 0 labels" in out  # idempotent rerun
    g = write_csv(tmp_path / "g.csv", ["id", "label"], [["r1", "CONTENT"], ["r2", "content"], ["r3", "Interface"]])
    code, out, _ = run(capsys, "-w", str(ws), "label", "--from", str(g))
    assert "Applied 1 label from " in out and "(1 over another label, 2 already so, 3 rows)." in out
    run(capsys, "-w", str(ws), "label", "--from", str(f))
    code, out, _ = run(capsys, "-w", str(ws), "status", "--json")
    st = json.loads(out)
    assert st["assets"] == 4
    assert st["by_status"]["LABELED"] == 3 and st["by_status"]["TODO"] == 1
    assert st["by_label"] == {"SUBSCRIPTION": 1, "CONTENT": 1, "INTERFACE": 1}
    code, out, _ = run(capsys, "-w", str(ws), "status")
    assert code == 0 and "SUBSCRIPTION" in out and "LABELED" in out
    # undo --bulk takes back the latest file's labels together (a wrong file was one undo per row)
    code, out, _ = run(capsys, "-w", str(ws), "label", "--from", str(g))
    assert "Applied 1 label" in out
    code, out, _ = run(capsys, "-w", str(ws), "undo", "--bulk")
    assert code == 0 and "Undid the 1 label of g.csv (`label --from`)." in " ".join(out.split())
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert w.store.get("r1").label == "SUBSCRIPTION"  # f's label again: g's application alone was undone
    w.close()
    code, out, _ = run(capsys, "-w", str(ws), "undo", "--bulk")  # f's last application, then
    assert code == 0 and "Undid the 1 label of l.csv" in " ".join(out.split())
    # a file with a sentiment column: its sentiments go back with its labels, whichever came last
    h = write_csv(tmp_path / "h.csv", ["id", "label", "sentiment"], [["r6", "CONTENT", "negative"],
                                                                      ["r2", "INTERFACE", ""]])
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(h))
    assert code == 0 and "Applied 2 labels" in out, err
    code, out, _ = run(capsys, "-w", str(ws), "undo", "--bulk")
    assert code == 0 and "Undid the 2 labels and the 1 sentiment of h.csv" in " ".join(out.split())
    w = Workspace.open(ws)
    assert w.store.get("r6").label is None and w.store.get("r2").label == "CONTENT"
    assert w.store.sentiments(["r6"]) == {}
    w.close()


def test_status_counts_have_thousands_separators(ws, tmp_path, capsys):
    """A labeled data set's counts by label read as the counts by app do: 1,200, not 1200."""
    rows = [[f"r{i}", f"review number {i} about the app", "com.example.app", "CONTENT" if i < 1200 else "INTERFACE"]
            for i in range(1250)]
    f = write_csv(tmp_path / "big.csv", ["reviewId", "content", "app", "label"], rows)
    code, _, err = run(capsys, "-w", str(ws), "import", str(f), "--label-col", "label")
    assert code == 0, err
    code, out, _ = run(capsys, "-w", str(ws), "status")
    lines = [" ".join(line.replace("│", " ").split()) for line in out.splitlines()]
    by_label = lines[next(i for i, line in enumerate(lines) if line == "By label"):]
    assert any(line.startswith("CONTENT 1,200 ") for line in by_label), out
    assert any(line.startswith("LABELED 1,250 ") for line in lines), out
    assert any(line.startswith("com.example.app 1,250 ") for line in lines), out
    assert "assets: 1,250" in out


@pytest.mark.parametrize("rows,expected", [
    ([["r1", "SUBSCRIPTION"], ["r2", "NOPE"]], "l.csv: 1 label not in the taxonomy"),
    ([["r1", "SUBSCRIPTION"], ["r2", "SUBSCRIPTON"]], "'SUBSCRIPTON' (1 row, line 3, did you mean SUBSCRIPTION?)"),
    ([["r1", "SUBSCRIPTION"], ["r2", ""]], "an empty label (l.csv: line 3): give one of SUBSCRIPTION"),
    ([["r1", "SUBSCRIPTION"], ["zzz", "CONTENT"]], "no asset with id 'zzz'"),
    ([["r1", "SUBSCRIPTION"], ["r1", "CONTENT"]],
     "id 'r1' gets the label 'SUBSCRIPTION' on line 2 and 'CONTENT' on line 3; keep one; nothing applied"),
])
def test_label_from_bad_rows_applies_nothing(ws, play_csv, tmp_path, capsys, rows, expected):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    f = write_csv(tmp_path / "l.csv", ["id", "label"], rows)
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 2 and expected.replace("l.csv", str(f)) in err and "line 3" in err
    assert snapshot(ws) == before


def test_label_from_a_file_with_ids_the_import_dropped(ws, play_csv, tmp_path, capsys):
    """A public data set's labels file covers reviews the import dropped (emoji only, empty after
    cleaning): it is refused with how many ids are missing, and --allow-missing applies the rest."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    f = write_csv(tmp_path / "l.csv", ["id", "label"], [["r1", "SUBSCRIPTION"], ["gone1", "CONTENT"],
                                                       ["r2", "content"], ["gone2", "CONTENT"], ["gone1", "CONTENT"]])
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 2 and err.count("\n") == 1
    assert (f"{f}: line 3: no asset with id 'gone1' in this workspace (2 of the file's 4 ids are not); nothing "
            "applied: import those reviews first, or pass --allow-missing to leave them out") in err
    assert snapshot(ws) == before
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(f), "--allow-missing")
    assert code == 0, err
    assert "Applied 2 labels" in out and "Left out 2 ids not in this workspace (--allow-missing)." in out
    code, _, err = run(capsys, "-w", str(ws), "label", "r3", "CONTENT", "--allow-missing")
    assert code == 2 and "--allow-missing goes with --from FILE.csv" in err


def test_label_from_reads_a_unicode_text_file_and_says_what_to_do_with_a_workbook(ws, play_csv, tmp_path, capsys):
    """Excel's "Unicode text" (UTF-16 with a byte-order mark, tab-delimited) is read as import reads
    it; a workbook is refused once, saying to save it as CSV UTF-8, not that its bytes are not UTF-8."""
    from openpyxl import Workbook

    run(capsys, "-w", str(ws), "import", str(play_csv))
    f = tmp_path / "labels.txt"
    f.write_text("id\tlabel\nr1\tSubscription\nr2\tcontent\n", encoding="utf-16")
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 0, err
    assert "Applied 2 labels" in out
    before = snapshot(ws)
    wb = Workbook()
    wb.active.append(["id", "label"])
    wb.active.append(["r3", "Interface"])
    wb.save(tmp_path / "labels.xlsx")
    (tmp_path / "labels.csv").write_bytes((tmp_path / "labels.xlsx").read_bytes())  # a workbook named .csv
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(tmp_path / "labels.csv"))
    assert code == 2 and err.count("\n") == 1 and "UTF-8 at byte" not in err
    assert f"{tmp_path / 'labels.csv'}: an Excel workbook (.xlsx)" in err and "save it as CSV UTF-8" in err
    assert snapshot(ws) == before
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(tmp_path / "labels.xlsx"))  # read as import reads it
    assert code == 0 and "Applied 1 label" in out, err


def test_label_from_says_every_kind_of_problem_at_once(ws, play_csv, tmp_path, capsys):
    """An id the workspace lacks and a label the taxonomy lacks: one error names both, so one pass
    over the file fixes it; nothing is applied."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    f = write_csv(tmp_path / "l.csv", ["id", "label"], [["r1", "Subscription"], ["nope", "content"], ["r2", "Bugz"]])
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 2 and err.count("\n") == 1
    assert "line 3: no asset with id 'nope' in this workspace" in err
    assert ". Also 1 label not in the taxonomy" in err and "'Bugz' (1 row, line 4)" in err
    assert snapshot(ws) == before


def test_label_from_lists_every_unknown_label_with_its_rows(ws, play_csv, tmp_path, capsys):
    """A labels file spelled otherwise than the taxonomy is refused once, naming every label it
    does not know with its row count and first line, as import --label-col does."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    before = snapshot(ws)
    f = write_csv(tmp_path / "l.csv", ["id", "label"], [["r1", "Billing"], ["r2", "Speed"], ["r3", "billing"],
                                                       ["r1", "billing "]])
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(f))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert (f"{f}: 2 labels not in the taxonomy (") in err
    assert "'billing' (3 rows, first on line 2), 'Speed' (1 row, line 3); nothing applied: correct them in the file, " \
           "or add the categories first (`reviewtui categories add NAME`" in err
    assert snapshot(ws) == before


def test_label_from_a_semicolon_file_with_multi_line_texts(ws, play_csv, tmp_path, capsys):
    """A label file as a spreadsheet writes it: semicolons, the review's text beside its id (with
    line breaks in it), the same row twice; errors name the line the row starts on."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    good = write_csv(tmp_path / "good.csv", ["id", "label", "content"],
                     [["r1", "Content", "first\nsecond line"], ["r2", "interface", "x"], ["r2", "INTERFACE", "x"]],
                     delimiter=";")
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(good))
    assert code == 0, err
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert (w.store.get("r1").label, w.store.get("r2").label) == ("CONTENT", "INTERFACE")
    assert len(w.store.label_history("r2")) == 1  # the repeated row applied once
    w.close()
    bad = write_csv(tmp_path / "bad.csv", ["id", "label", "content"],
                    [["r3", "Content", "one\ntwo\nthree"], ["r1", "NOPE", "y"]], delimiter=";")
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(bad))
    assert code == 2 and "'NOPE' (1 row, line 5)" in err
    split = write_csv(tmp_path / "split.csv", ["id", "label", "sentiment", "status"],
                      [["r3", "Content", "", ""], ["r3", "", "positive", ""], ["r2", "interface", "", "REVIEWED"]])
    code, out, err = run(capsys, "-w", str(ws), "label", "--from", str(split))
    assert code == 0, err  # a label on one row and the sentiment on another: both applied
    w = Workspace.open(ws)
    assert w.store.get("r3").label == "CONTENT" and w.store.sentiments(["r3"])["r3"].sentiment == "positive"
    assert w.store.get("r2").status == "REVIEWED"
    w.close()
    clash = write_csv(tmp_path / "clash.csv", ["id", "label", "status"],
                      [["r2", "interface", "LABELED"], ["r2", "interface", "REVIEWED"]])
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(clash))
    assert code == 2 and "gets the label 'INTERFACE (LABELED)' on line 2 and 'INTERFACE (REVIEWED)' on line 3" in err
    (tmp_path / "empty.csv").write_text("\n", encoding="utf-8")
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(tmp_path / "empty.csv"))
    assert code == 2 and "the file is empty; it needs a header line and rows" in err


def test_the_queue_shows_long_ids_by_their_start_and_end_and_label_takes_them_as_shown(ws, tmp_path, capsys,
                                                                                         monkeypatch):
    """Copies of one review per country differ only at the end of their ids."""
    base = "5c0c0aa3-b17c-4e1f-9a2b-0123456789ab"
    f = write_csv(tmp_path / "r.csv", ["reviewId", "content"],
                  [[base + s, f"the app is slow in {s or 'home'} {n}"] for n, s in enumerate(("", "-eu", "-us"))])
    assert run(capsys, "-w", str(ws), "import", str(f))[0] == 0
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "-w", str(ws), "queue", "--search", "slow", "--dry-run")
    assert code == 0 and "5c0c0aa…9ab-eu" in out and "5c0c0aa…9ab-us" in out and "cut in the middle" in out
    code, out, err = run(capsys, "-w", str(ws), "skip", "5c0c0aa…9ab-eu", "--reason", "copy")
    assert code == 0 and out.startswith(f"5c0c0aa…9ab-eu is {base}-eu"), err


def test_a_shortened_id_from_a_table_is_enough_when_it_is_unique(ws, tmp_path, capsys):
    ids = ["097dd5e6-5dee-4a1b-9f00-1", "097dd5e6-5dee-4a1b-9f00-2", "1b2c3d4e-aaaa-bbbb-cccc-3"]
    f = write_csv(tmp_path / "r.csv", ["reviewId", "content"], [[i, f"text {n}"] for n, i in enumerate(ids)])
    assert run(capsys, "-w", str(ws), "import", str(f))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "label", "1b2c3d4e-aaaa…", "CONTENT")
    assert code == 0 and "1b2c3d4e-aaaa… is 1b2c3d4e-aaaa-bbbb-cccc-3" in out, err
    assert "1b2c3d4e-aaaa-bbbb-cccc-3: CONTENT" in out
    code, _, err = run(capsys, "-w", str(ws), "label", "097dd5e6-5dee", "CONTENT")
    assert code == 2 and "2 reviews have an id that starts with '097dd5e6-5dee' (097dd5e6-5dee-4a1b-9f00-1, " \
                         "097dd5e6-5dee-4a1b-9f00-2): give more of it" in err
    code, out, err = run(capsys, "-w", str(ws), "skip", "097dd5e6-5dee-4a1b-9f00-…", "--reason", "spam")
    assert code == 2 and "2 reviews have an id that starts with" in err
    code, out, err = run(capsys, "-w", str(ws), "skip", "097dd5e6-5dee-4a1b-9f00-2", "--reason", "spam")
    assert code == 0 and out.startswith("097dd5e6-5dee-4a1b-9f00-2: skipped (spam)")
    code, out, err = run(capsys, "-w", str(ws), "undo", "097dd5e6-5dee-4a1b-9f00-2...")
    assert code == 0 and out.startswith("097dd5e6-5dee-4a1b-9f00-2... is 097dd5e6-5dee-4a1b-9f00-2"), err
    # the 8 characters a narrow table shows, without the "…", are enough; so are 6
    code, out, err = run(capsys, "-w", str(ws), "skip", "1b2c3d4e", "--reason", "x")
    assert code == 0 and out.startswith("1b2c3d4e is 1b2c3d4e-aaaa-bbbb-cccc-3"), err
    code, out, err = run(capsys, "-w", str(ws), "label", "1b2c3d", "SUBSCRIPTION")
    assert code == 0 and out == "1b2c3d is 1b2c3d4e-aaaa-bbbb-cccc-3\nrelabeled 1b2c3d4e-aaaa-bbbb-cccc-3: CONTENT -> " \
                                "SUBSCRIPTION\n", err
    code, _, err = run(capsys, "-w", str(ws), "undo", "097dd5")
    assert code == 2 and err.count("\n") == 1 and "2 reviews have an id that starts with '097dd5'" in err
    # a shorter start is a typo more likely than an id: not completed unless it ends in "…"
    code, _, err = run(capsys, "-w", str(ws), "skip", "1b2c3", "--reason", "x")
    assert code == 2 and "no asset with id '1b2c3' in this workspace; to name one by the start of its id give " \
                         "at least 6 characters, or end it with …" in err
    code, _, err = run(capsys, "-w", str(ws), "skip", "zz9", "--reason", "x")
    assert code == 2 and err.strip().endswith("no asset with id 'zz9' in this workspace")
    code, out, err = run(capsys, "-w", str(ws), "skip", "1b2c…", "--reason", "x")
    assert code == 0 and out.startswith("1b2c… is 1b2c3d4e-aaaa-bbbb-cccc-3")
    # the start of an id is looked up through the unique index on external_id, not by a scan
    import sqlite3

    db = sqlite3.connect(ws / "reviewtui.db")
    plan = db.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM assets WHERE external_id >= ? AND external_id < ?",
                      ("097dd5", "097dd5\U0010ffff")).fetchall()
    db.close()
    assert "USING COVERING INDEX sqlite_autoindex_assets_1 (external_id>? AND external_id<?)" in plan[0][3], plan


def test_skip_undo_and_single_label(ws, play_csv, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    code, out, _ = run(capsys, "-w", str(ws), "label", "r1", "CONTENT")
    assert code == 0 and out == "r1: CONTENT\n"
    code, out, _ = run(capsys, "-w", str(ws), "label", "r1", "SUBSCRIPTION")
    assert code == 0 and out == "relabeled r1: CONTENT -> SUBSCRIPTION\n"  # says what it replaced
    from reviewtui.presentation import label_sentence

    assert label_sentence("r1", "SUBSCRIPTION", "SUBSCRIPTION") == "r1: SUBSCRIPTION (as it was)"
    assert run(capsys, "-w", str(ws), "skip", "r2", "--reason", "not english")[0] == 0
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert w.store.get("r2").skipped and w.store.get("r2").skip_reason == "not english"
    assert run(capsys, "-w", str(ws), "undo")[0] == 0
    assert not w.store.get("r2").skipped
    code, out, _ = run(capsys, "-w", str(ws), "undo")
    assert w.store.get("r1").label == "CONTENT"
    # says the label the review has now, not only the one taken back
    assert code == 0 and out == "Undid label SUBSCRIPTION on r1. Its label is CONTENT again (LABELED).\n"
    kinds = [e.kind for e in w.store.label_history("r1")]
    assert kinds == ["label", "label", "undo"]  # append-only: the undo is a row too
    code, out, _ = run(capsys, "-w", str(ws), "undo")
    assert code == 0 and out == "Undid label CONTENT on r1. It has no label now (TODO).\n"
    code, out, _ = run(capsys, "-w", str(ws), "undo")  # nothing of this author's left: a script sees it
    assert code == 1 and out == "Nothing to undo.\n"


def test_export_rules_manifest_and_no_change(ws, play_csv, tmp_path, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    f = write_csv(tmp_path / "l.csv", ["id", "label", "status"],
                  [["r1", "SUBSCRIPTION", "LABELED"], ["r2", "CONTENT", "REVIEWED"], ["r3", "OTHER", "LABELED"],
                   ["r6", "USER_EXPERIENCE", "TO_REVIEW"]])
    run(capsys, "-w", str(ws), "label", "--from", str(f))
    code, out, _ = run(capsys, "-w", str(ws), "export")
    assert code == 0 and "dataset-1.csv" in out
    lines = (ws / "versions" / "dataset-1.csv").read_text().splitlines()
    assert lines[0] == "id,externalId,skipped,status,label,content"
    assert [l.split(",")[1] for l in lines[1:]] == ["r1", "r2"]  # OTHER dropped, TO_REVIEW not exported
    manifest = json.loads((ws / "versions" / "dataset-1.json").read_text())
    assert manifest["parent"] is None and manifest["rows"] == 2
    assert manifest["counts_by_label"] == {"SUBSCRIPTION": 1, "CONTENT": 1}
    assert manifest["counts_by_status"] == {"LABELED": 1, "REVIEWED": 1}
    assert manifest["sha256"] == hashlib.sha256((ws / "versions" / "dataset-1.csv").read_bytes()).hexdigest()
    assert "OTHER" in manifest["rules"]["dropped_labels_not_for_training"]
    code, out, _ = run(capsys, "-w", str(ws), "export")
    assert code == 0 and "Nothing changed" in out and not (ws / "versions" / "dataset-2.csv").exists()
    code, out, _ = run(capsys, "-w", str(ws), "export", "--remove", "CONTENT")
    m2 = json.loads((ws / "versions" / "dataset-2.json").read_text())
    assert m2["parent"] == "dataset-1" and m2["counts_by_label"] == {"SUBSCRIPTION": 1}
    assert m2["rules"]["removed"] == ["CONTENT"]
    first = (ws / "versions" / "dataset-1.csv").read_bytes()
    run(capsys, "-w", str(ws), "label", "r6", "INTERFACE")
    run(capsys, "-w", str(ws), "export")
    assert (ws / "versions" / "dataset-1.csv").read_bytes() == first  # never overwritten


def test_export_says_the_labeled_reviews_it_leaves_out_while_they_wait_in_review(ws, play_csv, tmp_path, capsys):
    """Labeled reviews sent to review (suspects --to-review, a diff) are not in the version: the
    export said only the rows it wrote, and the next diff showed them as removed without a word."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    f = write_csv(tmp_path / "l.csv", ["id", "label", "status"],
                  [["r1", "SUBSCRIPTION", "LABELED"], ["r2", "CONTENT", "TO_REVIEW"],
                   ["r6", "USER_EXPERIENCE", "TO_REVIEW"]])
    run(capsys, "-w", str(ws), "label", "--from", str(f))
    code, out, _ = run(capsys, "-w", str(ws), "export")
    text = " ".join(out.split())
    assert code == 0 and "dataset-1.csv: 1 row (SUBSCRIPTION 1); parent -." in text  # not "1 rows"
    assert "Left out, waiting in review (TO_REVIEW): 2 labeled reviews; a label or a confirmation makes them" in text
    assert json.loads((ws / "versions" / "dataset-1.json").read_text())["waiting_in_review"] == 2
    run(capsys, "-w", str(ws), "label", "r2", "CONTENT")  # reviewed: in the next version, one left waiting
    code, out, _ = run(capsys, "-w", str(ws), "export")
    assert code == 0 and "waiting in review (TO_REVIEW): 1 labeled review;" in " ".join(out.split())


def test_export_with_nothing_labeled_is_an_error(ws, play_csv, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    code, _, err = run(capsys, "-w", str(ws), "export")
    assert code == 2 and "nothing to export" in err


def test_original_project_versions_diff_counts(ws, capsys):
    files = [str(MEDIUM / f"dataset-{i}.csv") for i in range(1, 12)]
    code, out, err = run(capsys, "-w", str(ws), "versions", "import", *files)
    assert code == 0, err
    code, out, _ = run(capsys, "-w", str(ws), "diff", "dataset-9", "dataset-10", "--json")
    d = json.loads(out)
    assert (d["counts"]["added"], d["counts"]["removed"], d["counts"]["relabeled"]) == (1, 9, 5)
    code, out, _ = run(capsys, "-w", str(ws), "diff", "10", "11", "--json")
    d = json.loads(out)
    assert (d["counts"]["added"], d["counts"]["removed"], d["counts"]["relabeled"]) == (0, 2, 4)
    assert sum(d["relabel_pairs"].values()) == 4
    code, out, _ = run(capsys, "-w", str(ws), "versions", "--json")
    assert [m["name"] for m in json.loads(out)][-1] == "dataset-11"
    # registered again: the same rows are not a version again (it made dataset-12, 13...)
    code, out, err = run(capsys, "-w", str(ws), "versions", "import", files[-1], files[-2])
    assert code == 0, err
    assert sorted(out.split("\n")[:2]) == ["dataset-10.csv has the rows of dataset-10 already: nothing registered",
                                           "dataset-11.csv has the rows of dataset-11 already: nothing registered"]
    code, out, _ = run(capsys, "-w", str(ws), "versions", "--json")
    assert len(json.loads(out)) == 11


def test_diff_to_review_moves_assets_in_store(ws, capsys):
    run(capsys, "-w", str(ws), "versions", "import", str(MEDIUM / "dataset-10.csv"), str(MEDIUM / "dataset-11.csv"))
    run(capsys, "-w", str(ws), "import", str(MEDIUM / "dataset-11.csv"), "--text-col", "content",
        "--id-col", "externalId", "--label-col", "label")
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review", "--json")
    d = json.loads(out)
    moved, failed = d["to_review"]["moved"], d["to_review"]["failed"]
    assert len(moved) == 5 and len(failed) == 2  # the 2 removed rows are not in the store
    from reviewtui.workspace import Workspace

    assert Workspace.open(ws).store.counts_by_status()["TO_REVIEW"] == 5
    # again: the five wait in review already; once one is reviewed, sending the diff leaves it too
    w = Workspace.open(ws)
    w.store.set_status([moved[0]], "REVIEWED", author="rev")
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review", "--json")
    again = json.loads(out)["to_review"]
    assert again["moved"] == [] and again["kept"] == {
        **{e: "already waiting in review" for e in moved[1:]}, moved[0]: "reviewed since (status REVIEWED)"}
    assert w.store.get(moved[0]).status == "REVIEWED"
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review")
    assert "5 assets left as they are: 4 already waiting in review, 1 reviewed since (status REVIEWED)." in (
        " ".join(out.split()))


def test_diff_to_review_leaves_the_reviews_with_no_label_here_in_the_queue(ws, capsys):
    """Versions registered from elsewhere, the reviews imported without their labels: the diff's
    reviews have nothing to review here, and sending them took them out of every queue."""
    run(capsys, "-w", str(ws), "versions", "import", str(MEDIUM / "dataset-10.csv"), str(MEDIUM / "dataset-11.csv"))
    run(capsys, "-w", str(ws), "import", str(MEDIUM / "dataset-11.csv"), "--text-col", "content",
        "--id-col", "externalId")
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review", "--json")
    sent = json.loads(out)["to_review"]
    assert sent["moved"] == [] and len(sent["kept"]) == 5
    assert set(sent["kept"].values()) == {"no label in this workspace (nothing to review; still in the labeling queue)"}
    w = Workspace.open(ws)
    assert w.store.counts_by_status()["TO_REVIEW"] == 0
    w.label(next(iter(sent["kept"])), "CONTENT")  # labeled here: now there is something to review
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review", "--json")
    assert len(json.loads(out)["to_review"]["moved"]) == 1


def test_a_labels_file_given_to_reviews_under_review_is_their_review(ws, play_csv, tmp_path, capsys):
    """As a label given in the app or by `label ID`: REVIEWED, unless the file names a status."""
    run(capsys, "-w", str(ws), "import", str(play_csv))
    f = write_csv(tmp_path / "a.csv", ["id", "label"], [["r1", "SUBSCRIPTION"], ["r2", "CONTENT"], ["r3", "CONTENT"]])
    run(capsys, "-w", str(ws), "label", "--from", str(f))
    w = Workspace.open(ws)
    w.backend.send_to_review(["r1", "r2", "r3"])
    g = write_csv(tmp_path / "b.csv", ["id", "label"], [["r1", "SUBSCRIPTION"], ["r2", "INTERFACE"]])
    code, out, _ = run(capsys, "-w", str(ws), "label", "--from", str(g))
    assert code == 0 and "Applied 2 labels" in out  # the same label again is the review's outcome too
    assert [w.store.get(e).status for e in ("r1", "r2", "r3")] == ["REVIEWED", "REVIEWED", "TO_REVIEW"]
    h = write_csv(tmp_path / "c.csv", ["id", "label", "status"], [["r3", "CONTENT", "LABELED"]])
    run(capsys, "-w", str(ws), "label", "--from", str(h))
    assert w.store.get("r3").status == "LABELED"  # a status the file names is kept


def test_undo_of_a_file_leaves_no_review_in_review_without_a_label(ws, play_csv, tmp_path, capsys):
    run(capsys, "-w", str(ws), "import", str(play_csv))
    f = write_csv(tmp_path / "a.csv", ["id", "label"], [["r1", "SUBSCRIPTION"]])
    g = write_csv(tmp_path / "c.csv", ["id", "label"], [["r1", "CONTENT"], ["r2", "CONTENT"]])
    run(capsys, "-w", str(ws), "--author", "bob", "label", "--from", str(f))
    run(capsys, "-w", str(ws), "export")
    run(capsys, "-w", str(ws), "--author", "bob", "label", "--from", str(g))
    run(capsys, "-w", str(ws), "export")
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review")
    assert "Sent 2 assets to review." in out
    code, out, _ = run(capsys, "-w", str(ws), "--author", "bob", "undo", "--bulk")
    assert ("Undid the 2 labels of c.csv (`label --from`). 1 of the reviews keeps an earlier or later label; 1 has "
            "no label now.") in " ".join(out.split())
    w = Workspace.open(ws)
    assert (w.store.get("r1").label, w.store.get("r1").status) == ("SUBSCRIPTION", "TO_REVIEW")
    assert (w.store.get("r2").label, w.store.get("r2").status) == (None, "TODO")  # back in the labeling queue


@pytest.mark.parametrize("argv,expected", [
    (["diff", "dataset-1", "dataset-7"], "no version 'dataset-7'"),
    (["versions", "import", "/nonexistent/dataset-1.csv"], "no such file"),
])
def test_bad_version_inputs(ws, capsys, argv, expected):
    run(capsys, "-w", str(ws), "versions", "import", str(MEDIUM / "dataset-1.csv"))
    code, _, err = run(capsys, "-w", str(ws), *argv)
    assert code == 2 and expected in err


def test_versions_import_rejects_bad_file_and_registers_nothing(ws, tmp_path, capsys):
    bad = write_csv(tmp_path / "dataset-2.csv", ["id", "externalId", "skipped", "status", "label", "content"],
                    [["a", "1", "False", "LABELED", "WHATEVER", "text"]])
    code, _, err = run(capsys, "-w", str(ws), "versions", "import", str(MEDIUM / "dataset-1.csv"), str(bad))
    assert code == 2 and "unknown label 'WHATEVER'" in err
    assert not list((ws / "versions").glob("dataset-*"))


def test_missing_workspace_is_one_clear_error(tmp_path, capsys):
    code, _, err = run(capsys, "-w", str(tmp_path / "nope"), "status")
    assert code == 2 and "no such workspace folder" in err
    code, _, err = run(capsys, "-w", str(tmp_path), "status")
    assert code == 2 and "not inside a reviewtui workspace" in err


def test_workspace_found_from_subfolder(ws, capsys, monkeypatch):
    sub = ws / "results"
    monkeypatch.chdir(sub)
    code, out, _ = run(capsys, "status", "--json")
    assert code == 0 and json.loads(out)["root"] == str(ws.resolve())


WRITER = """
import sys
from reviewtui.workspace import Workspace
ws = Workspace.open(sys.argv[1])
ids = sys.argv[3].split(",")
for i in ids:
    ws.label(i, sys.argv[2])
"""


def test_two_processes_writing_at_once_lose_nothing(ws, tmp_path, capsys):
    rows = [[f"id{i}", f"review number {i}", "3"] for i in range(400)]
    f = write_csv(tmp_path / "many.csv", ["reviewId", "content", "score"], rows)
    run(capsys, "-w", str(ws), "import", str(f))
    a = ",".join(f"id{i}" for i in range(0, 400, 2))
    b = ",".join(f"id{i}" for i in range(1, 400, 2))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws), lab, ids], env=env)
             for lab, ids in (("CONTENT", a), ("INTERFACE", b))]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert w.store.counts_by_label() == {"CONTENT": 200, "INTERFACE": 200}
    assert len(w.store.label_history()) == 400


def test_cli_exit_code_in_a_real_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(tmp_path / "x"), "status"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stdout == ""


def test_diff_table_is_readable_at_80_columns(ws, capsys):
    """At 80 columns every changed row shows its change kind and its id whole (the content column
    gives way), and the table stays inside the terminal."""
    run(capsys, "-w", str(ws), "versions", "import", str(MEDIUM / "dataset-10.csv"), str(MEDIUM / "dataset-11.csv"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-m", "reviewtui", "-w", str(ws), "diff", "1", "2"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--json")
    d = json.loads(out)
    changes = [(c["kind"], c["external_id"]) for key in ("added", "removed", "relabeled", "status_changed")
               for c in d[key]]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == len(changes) == 10
    for line, (kind, ext) in zip(rows, changes):
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[0] == kind and cells[1] == ext, line
        assert len(cells[4]) >= 10, line  # some of the review text too
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80


def test_demo_command_builds_the_demo_workspace(tmp_path, capsys):
    root = tmp_path / "demo"
    code, out, _ = run(capsys, "demo", str(root), "--size", "400", "--seed", "3")
    assert code == 0 and "Demo workspace ready" in out
    from reviewtui.workspace import Workspace

    w = Workspace.open(root)
    assert w.store.count() > 300 and [v.name for v in w.versions()] == ["dataset-1", "dataset-2"]
    code, _, err = run(capsys, "demo", str(root), "--size", "400")
    assert code == 2 and "--force" in err


def test_demo_never_replaces_a_teams_workspace_or_a_folder_of_files(ws, tmp_path, capsys):
    """`demo DIR --force` removed any folder with a reviewtui.toml (a team's workspace, labels and
    all), and a demo built beside a user's files removed them on its --force rebuild."""
    before = sorted(p.name for p in ws.iterdir())
    for force in ([], ["--force"]):
        code, _, err = run(capsys, "demo", str(ws), "--size", "40", *force)
        assert code == 2 and "a reviewtui workspace the demo did not make is there" in err and "--force" not in err
    assert sorted(p.name for p in ws.iterdir()) == before
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious", encoding="utf-8")
    code, _, err = run(capsys, "demo", str(mine), "--size", "40")
    assert code == 2 and "the folder holds files already (notes.txt)" in err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    code, _, err = run(capsys, "-w", str(tmp_path / "one"), "demo", str(tmp_path / "two"), "--size", "40")
    assert code == 2 and "name two folders: give one" in err
    named = tmp_path / "named"  # -w names the folder when no DIR is given (it was left for demo-workspace)
    assert run(capsys, "-w", str(named), "demo", "--size", "40")[0] == 0 and (named / "reviewtui.toml").is_file()
    left = tmp_path / "interrupted"  # what a demo stopped before its workspace was made leaves: built again
    (left / "demo-data").mkdir(parents=True)
    assert run(capsys, "demo", str(left), "--size", "40")[0] == 0 and (left / "reviewtui.toml").is_file()


def test_every_command_takes_the_workspace_option(ws, tmp_path, capsys, monkeypatch):
    from reviewtui.cli import build_parser

    parser = build_parser()
    for argv in (["status", "-w", "W"], ["-w", "W", "status"], ["versions", "import", "f.csv", "-w", "W"],
                 ["kili", "push", "-w", "W"], ["tune", "--trials", "2", "-w", "W"]):
        assert parser.parse_args(argv).workspace == "W", argv
    assert parser.parse_args(["status"]).workspace is None
    monkeypatch.chdir(tmp_path)  # not a workspace: -w after the action finds it
    code, out, _ = run(capsys, "versions", "import", str(MEDIUM / "dataset-1.csv"), "-w", str(ws))
    assert code == 0 and "as dataset-1" in out


END_SCRIPT = """
import atexit, sys, threading
import torch  # a command that loaded torch ends the process without the interpreter's teardown
from pathlib import Path
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text("exit handlers ran"))
class Teardown:  # finalised when the interpreter tears its modules down, which the quick end skips
    def __init__(self, path):
        self.path, self.open = path, open  # builtins are gone by the time teardown reaches it
    def __del__(self):
        self.open(self.path, "w").write("torn down")
kept = Teardown(str(marker.with_suffix(".teardown")))
if sys.argv[2] == "thread":  # a non-daemon thread still running at the end: the ordinary exit waits for it
    def after_main():
        threading.main_thread().join()
        marker.with_suffix(".thread").write_text("done")
    threading.Thread(target=after_main).start()
sys.argv = ["reviewtui", *sys.argv[3:]]
from reviewtui.cli import main
from reviewtui.workspace import Workspace
raise SystemExit(main())
"""


@pytest.mark.parametrize("command,code", [("import", 0), ("label", 2)])
@pytest.mark.parametrize("thread", ["none", "thread"])
def test_the_program_ends_with_its_code_its_output_and_its_exit_handlers(tmp_path, play_csv, command, code, thread):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    ws = tmp_path / "ws"  # made by another process: this one holds no connection to its store
    subprocess.run([sys.executable, "-m", "reviewtui", "init", str(ws)], check=True, capture_output=True, env=env)
    marker = tmp_path / "marker.txt"
    args = ["import", str(play_csv)] if command == "import" else ["label", "nope", "X"]
    proc = subprocess.run([sys.executable, "-c", END_SCRIPT, str(marker), thread, "-w", str(ws), *args],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == code, proc.stderr
    assert marker.read_text() == "exit handlers ran"
    if code:
        assert proc.stderr.startswith("error: unknown label 'X'")
    else:
        assert "4 new reviews; 4 in the workspace." in proc.stdout
    assert marker.with_suffix(".thread").exists() == (thread == "thread")
    assert marker.with_suffix(".teardown").exists() == (thread == "thread")  # no quick end while it ran
    # the store was closed: its write-ahead log is checkpointed into the database file and removed
    assert not (ws / "reviewtui.db-wal").exists()


def test_reimport_reading_more_columns_fills_the_metadata_reviews_lack(ws, tmp_path, capsys):
    """A first import that read only the text; a second that names the product and the European
    dates: the stored reviews get their app and date, keep their label and text, and a third run
    changes nothing."""
    f = write_csv(tmp_path / "shop.csv", ["ref", "opinion", "made_by", "posted", "mark"],
                  [["A1", "Parcel came late", "Lamp", "01/03/2025", "2"], ["A2", "Bright lamp", "Lamp", "02/03/2025", "5"]])
    code, out, _ = run(capsys, "-w", str(ws), "import", str(f), "--id-col", "ref", "--text-col", "opinion")
    assert code == 0 and "Not read: 'made_by', 'posted', 'mark'" in out
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    label = w.taxonomy.keys[0]
    w.label("A1", label)
    w.export()
    assert not any(s.startswith("export a dataset version") for s in w.status().next_steps)
    w.close()
    # the dates alone, read month first (nothing in 01/03 and 02/03 says otherwise)
    code, out, _ = run(capsys, "-w", str(ws), "import", str(f), "--id-col", "ref", "--text-col", "opinion",
                       "--date-col", "posted")
    assert code == 0 and "such as '01/03/2025' were read month first" in out
    assert Workspace.open(ws).store.get("A1").metadata == {"at": "2025-01-03"}
    # named again with --dayfirst: the dates are corrected, the rest filled in
    code, out, _ = run(capsys, "-w", str(ws), "import", str(f), "--id-col", "REF", "--text-col", "Opinion",
                       "--app-col", "made_by", "--date-col", "posted", "--stars-col", "mark", "--dayfirst")
    assert code == 0
    assert "Read the app from 'made_by', stars from 'mark', dates from 'posted'." in out
    assert "2 reviews imported before got the metadata they lacked" in out and "0 new reviews" in out
    w = Workspace.open(ws)
    a1 = w.store.get("A1")
    assert a1.metadata == {"app": "Lamp", "score": 2, "at": "2025-03-01"} and a1.text == "Parcel came late"
    assert a1.label == label
    # metadata is not part of a dataset version: filling it does not ask for a new one; a label does
    assert not any(s.startswith("export a dataset version") for s in w.status().next_steps)
    w.label("A2", label)
    assert any(s.startswith("export a dataset version") for s in w.status().next_steps)
    w.close()

    def assets() -> list:
        import sqlite3

        db = sqlite3.connect(ws / "reviewtui.db")
        try:
            return db.execute("SELECT * FROM assets ORDER BY id").fetchall()
        finally:
            db.close()

    before = assets()
    code, out, _ = run(capsys, "-w", str(ws), "import", str(f), "--id-col", "ref", "--text-col", "opinion",
                       "--app-col", "made_by", "--date-col", "posted", "--stars-col", "mark", "--dayfirst")
    assert code == 0 and "got the metadata" not in out
    assert assets() == before
    code, _, err = run(capsys, "-w", str(ws), "import", str(f), "--text-col", "opinion", "--date-col", "when")
    assert code == 2 and "no date column 'when' (--date-col); the columns are: ref, opinion" in err


def test_an_id_stored_with_another_text_is_left_as_stored_and_said(ws, tmp_path, capsys):
    """A second file whose id names another review (or the review edited since): the stored review
    keeps its text, its app and stars and its label; the file's label for it is not recorded; the
    report counts it with an example; a rerun says it again and changes nothing."""
    a = write_csv(tmp_path / "a.csv", ["reviewId", "content", "score", "appId"],
                  [["r1", "App crashes on login", "1", "com.app.a"], ["r2", "fine app", "4", "com.app.a"]])
    code, _, _ = run(capsys, "-w", str(ws), "import", str(a))
    assert code == 0
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    keys = w.taxonomy.keys
    w.label("r1", keys[0])
    w.close()
    b = write_csv(tmp_path / "b.csv", ["reviewId", "content", "score", "appId", "label"],
                  [["r1", "Love the cashback", "5", "com.app.a", keys[1]], ["r3", "new one", "3", "com.app.b", keys[1]]])
    for _ in range(2):
        code, out, err = run(capsys, "-w", str(ws), "import", str(b), "--label-col", "label")
        assert code == 0, err
        said = " ".join(out.split())
        assert ("1 id of the file is stored with another text (a review edited since, or ids that name other "
                "reviews): left as stored, text, metadata and labels (1 of the file's labels not recorded). For "
                "example r1: stored 'App crashes on login', in the file 'Love the cashback'.") in said
        w = Workspace.open(ws)
        r1 = w.store.get("r1")
        assert r1.text == "App crashes on login" and r1.metadata == {"score": 1, "app": "com.app.a"}
        assert r1.label == keys[0] and w.store.get("r3").label == keys[1]
        w.close()


def test_a_file_without_ids_repeating_reviews_stored_with_ids_is_refused_or_said(ws, tmp_path, capsys):
    """The same reviews, first from a file with ids, then from a file of texts alone: each would be
    stored twice. Most of the new rows repeating stored reviews word for word refuses the file,
    nothing written; a few are said. Short texts repeat between reviews and count for nothing."""
    from reviewtui.workspace import Workspace

    texts = [f"the app charged me twice for order number {i} and support never answered" for i in range(10)]
    a = write_csv(tmp_path / "a.csv", ["reviewId", "content", "score"],
                  [[f"r{i}", t, "1"] for i, t in enumerate(texts)] + [["r99", "Great app", "5"]])
    assert run(capsys, "-w", str(ws), "import", str(a))[0] == 0
    w = Workspace.open(ws)
    before = w.store.count()
    w.close()
    same = write_csv(tmp_path / "same.csv", ["content"], [[t] for t in texts[:6]] + [["Great app"]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(same))
    said = " ".join(err.split())
    assert code != 0 and "6 of its 6 new reviews of 6 words or more repeat word for word reviews stored" in said, out
    assert "nothing was imported" in said
    w = Workspace.open(ws)
    assert w.store.count() == before
    w.close()
    few = write_csv(tmp_path / "few.csv", ["content"], [[texts[0]], ["Great app"]] + [
        [f"a different review about the card being blocked, case {i}"] for i in range(5)])
    code, out, err = run(capsys, "-w", str(ws), "import", str(few))
    said = " ".join(out.split())
    assert code == 0, err
    assert "1 new review repeats word for word a review stored under an id of its own" in said
    assert "stored as 'r0'" in said
    w = Workspace.open(ws)
    assert w.store.count() == before + 7
    w.close()


def test_an_empty_file_in_a_folder_says_what_to_do(ws, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "a.csv", ["reviewId", "content", "score"], [["r1", "the card was blocked twice", "1"]])
    (folder / "b.csv").write_bytes(b"")
    code, out, err = run(capsys, "-w", str(ws), "import", str(folder))
    assert code == 2 and "b.csv: the file is empty: it holds no rows" in err and "move it out of the folder" in err


def test_ids_that_number_each_files_rows_are_refused(ws, tmp_path, capsys):
    """Two exports of one app, each numbering its rows 1, 2, ...: the second file's ids are stored
    with other texts, so they number rows, not reviews edited since. The import is refused with
    nothing written (its reviews would be left out); --id-col none imports them."""
    from reviewtui.workspace import Workspace

    header = ["id", "app", "review", "rating"]
    a = write_csv(tmp_path / "a.csv", header, [[str(i), "app.one", f"first file review number {i} about fees", "2"]
                                               for i in range(1, 9)])
    b = write_csv(tmp_path / "b.csv", header, [[str(i), "app.one", f"second file, another review {i} on login", "4"]
                                               for i in range(1, 9)] + [["9", "app.one", "one more review", "5"]])
    assert run(capsys, "-w", str(ws), "import", str(a))[0] == 0
    w = Workspace.open(ws)
    before = w.store.count()
    w.close()
    code, out, err = run(capsys, "-w", str(ws), "import", str(b))
    said = " ".join(err.split())
    assert code != 0 and "8 of the 8 ids of the file stored already are stored with another text" in said, out + err
    assert "nothing was imported" in said and "--id-col none" in said
    w = Workspace.open(ws)
    assert w.store.count() == before and not w.store.existing_ids(["9"])
    w.close()
    code, out, err = run(capsys, "-w", str(ws), "import", str(b), "--id-col", "none")
    assert code == 0, err
    w = Workspace.open(ws)
    assert w.store.count() == before + 9
    w.close()


def test_ids_unique_only_within_each_app_are_refused_then_read_per_app(ws, tmp_path, capsys):
    """Two apps' exports numbered 1, 2, ... each: the second file's ids name the first app's
    reviews, not edits of them. The import is refused, nothing written, with what to do;
    --ids-per-app stores them as APP/ID, and a rerun adds nothing. One file of both apps with
    repeated ids says the same; a file with no app cannot be read per app."""
    from reviewtui.workspace import Workspace

    header = ["id", "app", "review", "rating"]
    a = write_csv(tmp_path / "a.csv", header, [["1", "app.one", "The app crashes when I open it", "1"],
                                               ["2", "app.one", "Love the new design", "5"]])
    b = write_csv(tmp_path / "b.csv", header, [["1", "app.two", "Fees are too high", "2"],
                                               ["2", "app.two", "Support never answers", "1"]])
    assert run(capsys, "-w", str(ws), "import", str(a))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "import", str(b))
    said = " ".join(err.split())
    assert code == 2 and ("b.csv: 2 of the file's ids are ids of another app's reviews already in the workspace "
                          "(id '1': app.one's 'The app crashes when I open it', in the file app.two's 'Fees are too "
                          "high'); nothing was imported. When the file's ids are unique only within each app, import "
                          "it with --ids-per-app (each id stored as APP/ID)") in said
    w = Workspace.open(ws)
    assert w.store.count() == 2
    w.close()
    for added in (2, 0):
        code, out, err = run(capsys, "-w", str(ws), "import", str(b), "--ids-per-app")
        assert code == 0, err
        assert f"{added} new reviews; 4 in the workspace." in " ".join(out.split())
    w = Workspace.open(ws)
    two = w.store.get("app.two/1")
    assert two.text == "Fees are too high" and two.metadata["app"] == "app.two"
    assert w.store.get("1").text == "The app crashes when I open it"
    w.close()
    both = write_csv(tmp_path / "both.csv", header, [["1", "app.one", "Crashes", "1"], ["1", "app.two", "Fees", "2"]])
    code, _, err = run(capsys, "-w", str(ws), "import", str(both))
    assert code == 2 and "its rows are reviews of different apps: when the file's ids are unique only within each " \
        "app, import it with --ids-per-app" in " ".join(err.split())
    none = write_csv(tmp_path / "none.csv", ["id", "review"], [["1", "Crashes"]])
    code, _, err = run(capsys, "-w", str(ws), "import", str(none), "--ids-per-app")
    assert code == 2 and "--ids-per-app stores each id as APP/ID, but the file names no app" in err


def test_ids_per_app_are_made_with_the_apps_stored_spelling(ws, tmp_path, capsys):
    """A later export spells the app in other case ("APP.TWO" for "app.two"): its reviews are the
    ones already stored, not new ones; in one file, both spellings make one app's ids."""
    from reviewtui.workspace import Workspace

    header = ["id", "app", "review", "rating"]
    b = write_csv(tmp_path / "b.csv", header, [["1", "app.two", "Fees are too high", "2"],
                                               ["2", "app.two", "Support never answers", "1"]])
    again = write_csv(tmp_path / "again.csv", header, [["1", "APP.TWO", "Fees are too high", "2"],
                                                       ["3", "App.Two", "Transfers are slow", "2"],
                                                       ["4", "app.two", "Good app", "5"]])
    assert run(capsys, "-w", str(ws), "import", str(b), "--ids-per-app")[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "import", str(again), "--ids-per-app")
    assert code == 0, err
    assert "2 new reviews; 4 in the workspace." in " ".join(out.split())
    w = Workspace.open(ws)
    assert sorted(a.external_id for a in w.store.iter_assets()) == ["app.two/1", "app.two/2", "app.two/3", "app.two/4"]
    w.close()


def test_ids_per_app_and_the_app_column_are_spelled_alike_when_rows_are_dropped(ws, tmp_path, capsys):
    """Two spellings tie once a row without text is dropped: the ids and the app are written with
    the same one, so the next export of the same reviews adds none."""
    from reviewtui.workspace import Workspace

    header = ["id", "app", "review"]
    first = write_csv(tmp_path / "first.csv", header, [["1", "QB", "Late delivery again"], ["2", "QB", "Great food"],
                                                       ["3", "qb", "Driver was rude"], ["4", "qb", ""]])
    later = write_csv(tmp_path / "later.csv", header, [["1", "QB", "Late delivery again"], ["2", "QB", "Great food"],
                                                       ["3", "QB", "Driver was rude"]])
    for path, added in ((first, 3), (later, 0)):
        code, out, err = run(capsys, "-w", str(ws), "import", str(path), "--ids-per-app")
        assert code == 0, err
        assert f"{added} new reviews; 3 in the workspace." in " ".join(out.split())
    w = Workspace.open(ws)
    assert {(a.external_id.split("/")[0], a.metadata["app"]) for a in w.store.iter_assets()} == {("qb", "qb")}
    w.close()

def test_one_import_of_two_files_and_app_given_in_other_case_keep_one_app(ws, tmp_path, capsys):
    """Two files of one import spell the app in other case: one app, one review per id; --app
    written in other case than the stored app is that app, and the import says so."""
    from reviewtui.workspace import Workspace

    header = ["id", "app", "review"]
    a = write_csv(tmp_path / "a.csv", header, [["1", "QuickBite", "Late delivery again"],
                                               ["2", "QuickBite", "Great food, fast"]])
    b = write_csv(tmp_path / "b.csv", header, [["1", "quickbite", "Late delivery again"],
                                               ["3", "quickbite", "Driver was rude"]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(a), str(b), "--ids-per-app")
    assert code == 0, err
    assert "3 new reviews; 3 in the workspace." in " ".join(out.split())
    plain = write_csv(tmp_path / "plain.csv", ["review"], [["Cold fries"]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(plain), "--app", "QUICKBITE")
    assert code == 0, err
    assert "--app 'QUICKBITE' is the workspace's app 'QuickBite', spelled so" in " ".join((out + err).split())
    w = Workspace.open(ws)
    assert {a.metadata["app"] for a in w.store.iter_assets()} == {"QuickBite"}
    assert sorted(a.external_id for a in w.store.iter_assets() if "/" in a.external_id) == \
        ["QuickBite/1", "QuickBite/2", "QuickBite/3"]
    w.close()


def test_reviews_without_ids_keep_their_ids_across_overlapping_exports_and_older_imports(ws, tmp_path, capsys):
    """Exports without ids: January's, then February's, newest first and overlapping: the review
    they share is one, the other "Good" (another app, other stars) is another. A review an earlier
    reviewtui stored under the id of its text alone keeps it (and its label) when its file comes
    again; a change of the import's cleaning is no other text."""
    from reviewtui.ingest import stable_id
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    key = w.taxonomy.keys[0]
    w.store.add_assets([NewAsset(stable_id("Crashes on login"), "Crashes on login", {"score": 1, "app": "a"})])
    w.label(stable_id("Crashes on login"), key)
    w.close()
    header = ["content", "score", "app", "at"]
    jan = write_csv(tmp_path / "jan.csv", header, [["Good", "5", "a", "2026-01-03"],
                                                    ["Crashes on login", "1", "a", "2026-01-02"]])
    feb = write_csv(tmp_path / "feb.csv", header, [["GOOD", "1", "b", "2026-02-01"], ["Good", "5", "a", "2026-01-03"],
                                                    ["Crashes on login", "1", "a", "2026-01-02"]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(jan))
    assert code == 0 and "1 new review;" in out, err
    code, out, err = run(capsys, "-w", str(ws), "import", str(feb))
    assert code == 0 and "1 new review;" in out and "another text" not in out, err
    w = Workspace.open(ws)
    goods = sorted((a.metadata["app"], a.metadata["score"]) for a in w.store.iter_assets() if a.text.lower() == "good")
    assert goods == [("a", 5), ("b", 1)]
    old = w.store.get(stable_id("Crashes on login"))
    assert old.label == key and old.metadata["at"] == "2026-01-02" and w.store.count() == 3
    w.close()


def test_a_review_without_an_id_is_found_again_by_its_text_and_values(ws, tmp_path, capsys):
    """Imported first with its text and stars only; again with its date named, then as another
    export writing its stars and date otherwise: still two reviews, the date filled in. A review
    given twice in a file keeps the label either row gives."""
    from reviewtui.workspace import Workspace

    key = Workspace.open(ws).taxonomy.keys[0]
    first = write_csv(tmp_path / "s1.csv", ["text", "stars", "Posted"],
                      [["App crashes on login", "1", "2024-01-02"], ["Love it", "5", "2024-01-03"]])
    assert run(capsys, "-w", str(ws), "import", str(first))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "import", str(first), "--date-col", "Posted")
    assert code == 0 and "0 new reviews" in out, err
    other = write_csv(tmp_path / "s2.csv", ["text", "stars", "date", "label"],
                      [["App crashes on login", "1.0", "2024-01-02 00:00:00", ""],
                       ["Love it", "5 stars", "01/03/2024", ""], ["Love it", "5 stars", "01/03/2024", key]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(other), "--label-col", "label")
    assert code == 0 and "0 new reviews" in out, err
    w = Workspace.open(ws)
    assert w.store.count() == 2
    love = next(a for a in w.store.iter_assets() if a.text == "Love it")
    assert love.metadata["at"] == "2024-01-03" and love.label == key


def test_rows_with_ids_beside_filled_ones_import_into_a_workspace_with_text_ids(ws, tmp_path, capsys):
    """A file whose ids are blank on some rows (--fill-missing-ids), imported into a workspace that
    holds reviews with ids from their text: the rows with an id of their own are not matched by
    text (their legacy id is none, not NaN, which crashed the import)."""
    a = write_csv(tmp_path / "a.csv", ["content", "score"], [["Good", "5"]])
    b = write_csv(tmp_path / "b.csv", ["id", "content", "score"], [["x1", "Fine", "4"], ["", "Good", "1"]])
    assert run(capsys, "-w", str(ws), "import", str(a))[0] == 0
    code, out, err = run(capsys, "-w", str(ws), "import", str(b), "--fill-missing-ids")
    assert code == 0 and "2 new reviews" in out, err


def test_texts_of_symbols_alone_are_told_apart(ws, tmp_path, capsys):
    """':)' and ':(' under one id are two texts: the second file's label does not go onto the first
    file's review."""
    from reviewtui.workspace import Workspace

    ws_ = Workspace.open(ws)
    ws_.config.update_section("import", {"remove_emoji": False})
    keys = ws_.taxonomy.keys
    ws_.close()
    a = write_csv(tmp_path / "a.csv", ["id", "text", "label"], [["1", ":)", keys[0]]])
    b = write_csv(tmp_path / "b.csv", ["id", "text", "label"], [["1", ":(", keys[1]]])
    run(capsys, "-w", str(ws), "import", str(a), "--label-col", "label")
    code, out, _ = run(capsys, "-w", str(ws), "import", str(b), "--label-col", "label")
    assert code == 0 and "1 id of the file is stored with another text" in " ".join(out.split())
    assert Workspace.open(ws).store.get("1").label == keys[0]


def test_one_files_conflict_does_not_cost_another_file_its_label(ws, tmp_path, capsys):
    """Two files in one import give r1 two texts: the first file's review and label are stored; the
    second's label for its other r1 is not recorded, and its report says so."""
    from reviewtui.workspace import Workspace

    keys = Workspace.open(ws).taxonomy.keys
    a = write_csv(tmp_path / "a.csv", ["reviewId", "content", "label"], [["r1", "App crashes", keys[0]]])
    b = write_csv(tmp_path / "b.csv", ["reviewId", "content", "label"], [["r1", "Love it", keys[1]]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(a), str(b), "--label-col", "label")
    assert code == 0, err
    said = " ".join(out.split())
    assert "b.csv: 1 id of the file is stored with another text" in said and "(1 of the file's labels not recorded)" in said
    r1 = Workspace.open(ws).store.get("r1")
    assert r1.text == "App crashes" and r1.label == keys[0]


def test_a_windows_1252_file_is_read_with_encoding(ws, tmp_path, capsys):
    """Excel's "CSV" on Windows in Western Europe: cp1252 bytes and semicolons (with a UTF-8 mark
    before them, as some tools write). Refused with the option to use, then read with it."""
    f = tmp_path / "excel.csv"
    f.write_bytes(b"\xef\xbb\xbf" + "id;avis;note\n1;Très déçu, colis abîmé;1\n2;Parfait €;5\n".encode("cp1252"))
    code, _, err = run(capsys, "-w", str(ws), "import", str(f), "--text-col", "avis")
    assert code == 2 and "import with --encoding cp1252" in err
    code, out, err = run(capsys, "-w", str(ws), "import", str(f), "--text-col", "avis", "--encoding", "cp1252")
    assert code == 0, err
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert w.store.get("1").text == "Très déçu, colis abîmé" and w.store.get("2").text == "Parfait €"
    code, _, err = run(capsys, "-w", str(ws), "import", str(f), "--encoding", "klingon")
    assert code == 2 and "unknown encoding 'klingon' (--encoding)" in err


def test_labels_are_recorded_for_author_or_reviewtui_author(ws, play_csv, capsys, monkeypatch):
    """On a shared account every labeler has the same login: --author, else REVIEWTUI_AUTHOR, names
    who gave each label, and undo takes back that author's latest."""
    assert run(capsys, "-w", str(ws), "import", str(play_csv))[0] == 0
    from reviewtui.workspace import Workspace

    key = Workspace.open(ws).taxonomy.keys[0]
    monkeypatch.setenv("REVIEWTUI_AUTHOR", "ana")
    assert run(capsys, "-w", str(ws), "label", "r1", key)[0] == 0
    assert run(capsys, "-w", str(ws), "label", "r2", key, "--author", "Ben ")[0] == 0
    assert run(capsys, "--author", "chloe", "-w", str(ws), "label", "r3", key)[0] == 0
    history = Workspace.open(ws).store.label_history()
    assert [(e.external_id, e.author) for e in history if e.kind == "label"] == [("r1", "ana"), ("r2", "Ben"),
                                                                                ("r3", "chloe")]
    assert run(capsys, "-w", str(ws), "undo", "--author", "Ben")[0] == 0
    assert Workspace.open(ws).store.get("r2").label is None and Workspace.open(ws).store.get("r1").label == key
    code, _, err = run(capsys, "-w", str(ws), "label", "r2", key, "--author", " ")
    assert code == 2 and "--author needs a name" in err
    # a line break in a name would break every table of authors
    code, _, err = run(capsys, "-w", str(ws), "label", "r2", key, "--author", "bob\nevil")
    assert code == 2 and "--author 'bob\\nevil': a name without line breaks, tabs or control characters" in err
    monkeypatch.setenv("REVIEWTUI_AUTHOR", "eve\tx")
    code, _, err = run(capsys, "-w", str(ws), "label", "r2", key)
    assert code == 2 and "REVIEWTUI_AUTHOR 'eve\\tx': a name without line breaks" in err and "--author NAME" in err
    assert Workspace.open(ws).store.get("r2").label is None
    # --author overrides it; a zero-width non-joiner or a no-break space is part of a real name
    assert run(capsys, "-w", str(ws), "label", "r2", key, "--author", "Mohammad\u200cReza\u00a0K")[0] == 0
    monkeypatch.delenv("REVIEWTUI_AUTHOR")
    assert Workspace.open(ws).store.get("r2").label == key


def test_a_folder_per_app_import_table_keeps_the_file_names_at_80_columns(ws, tmp_path, capsys, monkeypatch):
    """Two apps, each a folder of app_reviews_N.csv: at 80 columns the file names stay whole (a first
    import has no 'existing' column to make room for); a second import shows that column."""
    monkeypatch.setenv("COLUMNS", "80")
    for app, rows in (("com.example.longappname", PLAY_ROWS[:2]), ("org.example.otherapp", PLAY_ROWS[2:])):
        (tmp_path / "exports" / app).mkdir(parents=True)
        for n, row in enumerate(rows, start=1):
            write_csv(tmp_path / "exports" / app / f"app_reviews_{n}.csv", PLAY_HEADER,
                      [[f"{app}-{row[0]}", *row[1:]]])
    code, out, _ = run(capsys, "-w", str(ws), "import", str(tmp_path / "exports"))
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert out.count("app_reviews_1.csv") == 2 and "existing" not in out
    code, out, _ = run(capsys, "-w", str(ws), "import", str(tmp_path / "exports"))
    assert code == 0 and "existing" in out


def test_a_metadata_column_empty_in_every_row_is_read_as_absent(ws, tmp_path, capsys):
    """No developer replied to any review of the file: replyContent and repliedAt are empty in every
    row. The import works and stores no reply. And a file whose every row is dropped (no text) is
    imported as nothing, beside the others."""
    rows = [[*r[:8], "", ""] for r in PLAY_ROWS[:3]]
    code, out, err = run(capsys, "-w", str(ws), "import", str(write_csv(tmp_path / "noreply.csv", PLAY_HEADER, rows)))
    assert code == 0, err
    from reviewtui.workspace import Workspace

    w = Workspace.open(ws)
    assert w.store.count() == 3 and all("reply" not in str(a.metadata) for a in w.store.iter_assets())
    w.close()
    empty = write_csv(tmp_path / "notext.csv", PLAY_HEADER, [["z1", "Zed", "", "", "4", "0", "1.0", "2022-01-01", "", ""]])
    code, out, err = run(capsys, "-w", str(ws), "import", str(empty), str(tmp_path / "noreply.csv"))
    assert code == 0, err
    assert "0 new reviews; 3 in the workspace." in " ".join(out.split())


def test_status_asks_for_an_export_only_while_one_would_write_something(ws, tmp_path, capsys):
    """A skip of an unlabeled review moves the label history without changing what a version holds:
    status asks, the export finds nothing new and says so, and status stops asking. A category
    left out of training since the version changes its rows: status asks again."""
    from reviewtui.workspace import Workspace

    f = write_csv(tmp_path / "p.csv", PLAY_HEADER, PLAY_ROWS)
    assert run(capsys, "-w", str(ws), "import", str(f))[0] == 0
    w = Workspace.open(ws)
    keys = w.taxonomy.training_keys
    w.label("r1", keys[0])
    w.label("r2", keys[1])
    assert w.export() is not None

    def asks() -> bool:
        return any(s.startswith("export a dataset version") for s in w.status().next_steps)

    assert not asks()
    w.skip("r3", "spam")
    assert asks()
    assert w.export() is None  # nothing new to write
    assert not asks()
    w.set_category(keys[1], train=False)
    assert asks()
    w.set_category(keys[1], train=True)  # back as it was: nothing to write, and no question
    w.add_category("Login issues")  # a category with no label yet: the version's rows stay, no question
    assert not asks()
    assert w.export() is None
    assert not asks()
    w.label("r3", "LOGIN_ISSUES")  # its first label: a version would hold it
    assert asks()
    w.close()


def test_a_workspace_that_cannot_be_written_is_one_clear_error(ws, capsys, monkeypatch):
    """A read-only mount (or a full disk) under a command: one line naming the file, exit 2, no
    traceback; a store whose folder is read-only is said to be so, not "not a reviewtui store"."""
    import errno
    import sqlite3

    from reviewtui import store as store_module
    from reviewtui.workspace import Workspace

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(ws / "versions" / ".dataset-1.tmp"))

    monkeypatch.setattr(Workspace, "export", refuse)
    assert main(["-w", str(ws), "export"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {ws / 'versions' / '.dataset-1.tmp'}: Read-only file system;")
    assert "Traceback" not in err and err.count("\n") == 1

    def unable(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(store_module.sqlite3, "connect", unable)
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: False)
    assert main(["-w", str(ws), "status"]) == 2
    err = capsys.readouterr().err
    assert "cannot open the store: its folder" in err and "is read-only" in err and "not a reviewtui store" not in err


@pytest.mark.parametrize("argv, said", [
    (["queue", "--seed", "-1", "--dry-run"], "argument --seed: must be at least 0, not -1"),
    (["simulate", "--oracle", "o.csv", "--initial", "0"], "argument --initial: must be at least 1, not 0"),
    (["discover", "--seed", "-1"], "argument --seed: must be at least 0, not -1"),
    (["discover", "--examples", "-1"], "argument --examples: must be at least 0, not -1"),
    (["sentiment", "--sample", "-5"], "argument --sample: must be at least 0, not -5"),
    (["diff", "1", "2", "--rows", "-5"], "argument --rows: must be at least 0, not -5"),
    (["simulate", "--oracle", "x.csv", "--batch", "0"], "argument --batch: must be at least 1, not 0"),
    (["simulate", "--oracle", "x.csv", "--initial", "-5"], "argument --initial: must be at least 1, not -5"),
    (["queue", "--rows", "two"], "argument --rows: must be a whole number, not 'two'"),
])
def test_negative_seeds_counts_and_rows_are_refused_by_the_option(ws, capsys, argv, said):
    """They reached numpy or scikit-learn and ended in a traceback, or were taken as written."""
    with pytest.raises(SystemExit) as stop:
        main(["-w", str(ws), *argv])
    assert stop.value.code == 2 and said in capsys.readouterr().err


def test_label_from_a_file_and_one_review_at_once_is_refused(ws, tmp_path, capsys):
    """`label --from FILE ID LABEL` applied the file and dropped ID LABEL without a word."""
    labels = write_csv(tmp_path / "l.csv", ["id", "label"], [["x", "y"]])
    code, _, err = run(capsys, "-w", str(ws), "label", "--from", str(labels), "r1", "Bug")
    assert code == 2 and "label either one review (ID LABEL) or a file (--from), not both: 'r1 Bug'" in err


def test_folds_beside_split_and_a_deleted_current_folder_are_one_line(ws, tmp_path, capsys, monkeypatch):
    """`train --split --folds 3` ignored --folds without a word; a command run from a folder deleted
    meanwhile ended in getcwd's traceback."""
    code, _, err = run(capsys, "-w", str(ws), "train", "--quick", "--split", "--folds", "3")
    assert code == 2 and "--folds sets the cross-validation, and --split trains on a train/validation/test split" in err
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    code, _, err = run(capsys, "status")
    assert code == 2 and "the current folder no longer exists (deleted or moved while this shell was in it)" in err


def test_a_version_deleted_by_hand_keeps_its_number_and_is_named_missing(ws, play_csv, tmp_path, capsys):
    assert run(capsys, "-w", str(ws), "import", str(play_csv))[0] == 0
    w = Workspace.open(ws)
    w.label("r1", "SUBSCRIPTION")
    first = w.export()
    w.label("r3", "INTERFACE")
    second = w.export()
    assert (first.name, second.name) == ("dataset-1", "dataset-2")
    copy_of_second = tmp_path / "second.csv"
    copy_of_second.write_bytes(second.csv_path.read_bytes())
    second.csv_path.unlink()
    second.csv_path.with_suffix(".json").unlink()
    w.label("r2", "CONTENT")
    third = w.export()
    assert third.name == "dataset-3" and third.parent == "dataset-1"  # dataset-2's number is not given again
    assert [m["name"] for m in w.missing_versions()] == ["dataset-2"]
    st = w.status()
    assert [m["name"] for m in st.missing_versions] == ["dataset-2"]
    assert st.next_steps[0].startswith("dataset-2 is no longer in versions/ (deleted by hand?")
    w.close()
    code, out, err = run(capsys, "-w", str(ws), "versions")
    assert code == 0 and "dataset-3" in out
    err = " ".join(err.split())
    assert "dataset-2 (2 rows, written " in err and "no longer in versions/" in err
    assert "reviewtui versions forget dataset-2" in err
    code, out, _ = run(capsys, "-w", str(ws), "versions", "--json")
    assert [(v["name"], v.get("missing", False)) for v in json.loads(out)] == [
        ("dataset-1", False), ("dataset-3", False), ("dataset-2", True)]
    # a version registered from a file takes the next number too
    other = tmp_path / "other.csv"
    other.write_bytes(third.csv_path.read_bytes().replace(b"CONTENT", b"INTERFACE"))
    assert run(capsys, "-w", str(ws), "versions", "import", str(other))[0] == 0
    w = Workspace.open(ws)
    assert [v.name for v in w.versions()] == ["dataset-1", "dataset-3", "dataset-4"]
    w.close()
    # a copy of the missing version goes back under its own number
    code, out, _ = run(capsys, "-w", str(ws), "versions", "import", str(copy_of_second))
    assert code == 0 and "Put second.csv back as dataset-2 (2 rows), the version it is a copy of" in " ".join(out.split())
    w = Workspace.open(ws)
    assert [v.name for v in w.versions()] == ["dataset-1", "dataset-2", "dataset-3", "dataset-4"]
    assert w.version_info("2").sha256 == second.sha256 and w.missing_versions() == []
    w.close()


def test_a_missing_version_can_be_forgotten_and_one_a_model_names_is_never_given_again(ws, play_csv, capsys):
    assert run(capsys, "-w", str(ws), "import", str(play_csv))[0] == 0
    w = Workspace.open(ws)
    w.label("r1", "SUBSCRIPTION")
    w.export()
    w.label("r3", "INTERFACE")
    second = w.export()
    second.csv_path.unlink()
    code, _, err = run(capsys, "-w", str(ws), "versions", "forget", "dataset-1")
    assert code == 2 and "'dataset-1' is not a missing version (it is in versions/); the missing ones are: dataset-2" \
        in err
    code, out, _ = run(capsys, "-w", str(ws), "versions", "forget", "2")
    assert code == 0 and "dataset-2 is no longer named as missing; its number is not given again" in out
    assert w.missing_versions() == [] and not any("versions/" in s for s in w.status().next_steps)
    w.label("r2", "CONTENT")
    assert w.export().name == "dataset-3"
    # a workspace from before the store kept the record: a version a model card names keeps its number
    w.store.set_meta("versions.given", "{}")
    model = w.models_dir / "m5"
    model.mkdir()
    (model / "model_card.json").write_text(json.dumps({"name": "m5", "dataset_version": "dataset-5", "labels": []}))
    assert [(m["name"], m["named_by"]) for m in w.missing_versions()] == [("dataset-5", "m5")]
    w.label("r6", "CONTENT")
    assert w.export().name == "dataset-6"
    w.close()


def test_diff_lists_sentiment_changes_row_by_row_and_column_wise(ws, play_csv, capsys):
    from reviewtui.diff import diff_versions
    from reviewtui.versions import read_rows

    assert run(capsys, "-w", str(ws), "import", str(play_csv))[0] == 0
    assert run(capsys, "-w", str(ws), "label", "r1", "SUBSCRIPTION")[0] == 0
    assert run(capsys, "-w", str(ws), "label", "r3", "INTERFACE", "--sentiment", "negative")[0] == 0
    assert run(capsys, "-w", str(ws), "export")[0] == 0
    assert run(capsys, "-w", str(ws), "label", "r1", "--sentiment", "negative")[0] == 0
    assert run(capsys, "-w", str(ws), "label", "r3", "--sentiment", "neutral")[0] == 0
    code, out, _ = run(capsys, "-w", str(ws), "export")
    assert code == 0 and "dataset-2" in out
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2")
    assert code == 0 and "0 relabeled, 0 status changed, 2 sentiment changed" in out
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--json")
    data = json.loads(out)
    assert data["counts"]["sentiment_changed"] == 2
    assert {(c["external_id"], c["before"], c["after"]) for c in data["sentiment_changed"]} == {
        ("r1", "none", "negative"), ("r3", "negative", "neutral")}
    # the column-wise comparison of big versions gives the same rows as the row-by-row one
    a, b = read_rows(ws / "versions" / "dataset-1.csv"), read_rows(ws / "versions" / "dataset-2.csv")
    plain = diff_versions("a", [dict(r) for r in a], "b", [dict(r) for r in b])
    assert plain.sentiment_changed == diff_versions("a", a, "b", b).sentiment_changed
    assert len(plain.sentiment_changed) == 2


def test_diff_to_review_leaves_a_review_skipped_since_as_it_is(ws, play_csv, capsys):
    """A labeled review skipped after a version: the next diff shows it removed, and --to-review
    made it TO_REVIEW and skipped at once, counted as skipped by status and listed under review by
    the queue's status filter."""
    assert run(capsys, "-w", str(ws), "import", str(play_csv))[0] == 0
    w = Workspace.open(ws)
    w.label("r1", "SUBSCRIPTION")
    w.label("r3", "INTERFACE")
    w.export()
    w.skip("r1", "duplicate")
    w.label("r3", "CONTENT")
    w.export()
    w.close()
    code, out, _ = run(capsys, "-w", str(ws), "diff", "1", "2", "--to-review", "--json")
    sent = json.loads(out)["to_review"]
    assert sent["moved"] == ["r3"] and sent["kept"] == {"r1": "skipped (a skipped review is in no version: nothing "
                                                               "to review)"}
    w = Workspace.open(ws)
    assert w.store.get("r1").status == "LABELED" and w.store.get("r1").skipped
    w.close()
