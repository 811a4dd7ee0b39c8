"""Labels a file writes otherwise than as category names: numbers (--label-names, or the class
names of a Hugging Face dataset's Parquet file, at init --categories-from and import --label-col),
and cells that name several categories."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reviewtui.cli import main
from reviewtui.errors import ReviewtuiError
from reviewtui.label_names import parse_label_names, plain_value
from reviewtui.workspace import Workspace
from tests.conftest import write_csv

TEXTS = ["the app crashes on login", "love the new design", "meh, it is fine", "refund never came",
         "great support team", "slow and buggy"]
LABELS = [0, 1, 1, 0, 1, 1]


def hf_parquet(path: Path) -> Path:
    """A dataset file as Hugging Face datasets writes it: labels 0/1, their names in the schema."""
    features = {"text": {"dtype": "string", "_type": "Value"},
                "label": {"names": ["negative", "positive"], "_type": "ClassLabel"}}
    table = pa.table({"text": TEXTS, "label": pa.array(LABELS, pa.int64())})
    table = table.replace_schema_metadata({b"huggingface": json.dumps({"info": {"features": features}}).encode()})
    pq.write_table(table, path)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), " ".join(out.err.split())


def test_a_datasets_parquet_file_gives_its_class_names_at_init_and_import(tmp_path, capsys):
    data = hf_parquet(tmp_path / "train.parquet")
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories-from", str(data), "--label-col", "label")[0] == 0
    ws = Workspace.open(ws_dir)
    assert [c.name for c in ws.taxonomy] == ["negative", "positive"]  # the dataset's order, not by count
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label")
    assert code == 0, err
    assert "Labels read by value (the class names the dataset's file keeps): 0 as negative, 1 as positive." in out
    ws = Workspace.open(ws_dir)
    keys = {c.name: c.key for c in ws.taxonomy}
    assert {a.text: a.label for a in ws.store.iter_assets()} == {
        t: keys["negative" if lab == 0 else "positive"] for t, lab in zip(TEXTS, LABELS)}


def test_label_names_that_differ_from_the_datasets_own_say_so(tmp_path, capsys):
    """--label-names wins over the class names a dataset's file keeps, and the import says what they were
    (names given in the wrong order would otherwise swap every label without a word)."""
    data = hf_parquet(tmp_path / "train.parquet")
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories", "negative, positive")[0] == 0
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label",
                         "--label-names", "positive,negative")
    assert code == 0, err
    assert ("Labels read by value (--label-names; the dataset's file names them otherwise: 0=negative, "
            "1=positive): 0 as positive, 1 as negative.") in out
    ws2 = str(tmp_path / "ws2")  # the same names as the file's: nothing more to say
    assert run(capsys, "init", ws2, "--categories", "negative, positive")[0] == 0
    code, out, err = run(capsys, "-w", ws2, "import", str(data), "--label-col", "label",
                         "--label-names", "negative,positive")
    assert code == 0, err
    assert "Labels read by value (--label-names): 0 as negative, 1 as positive." in out


def test_numbers_in_a_csv_are_refused_with_the_option_that_names_them_then_named(tmp_path, capsys):
    rows = [[f"r{i}", t, str(lab)] for i, (t, lab) in enumerate(zip(TEXTS, LABELS))]
    data = write_csv(tmp_path / "train.csv", ["id", "text", "label"], rows)
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories", "Complaint, Praise")[0] == 0
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label")
    assert code != 0 and "the labels are numbers: --label-names COMPLAINT,PRAISE names them in order" in err
    assert Workspace.open(ws_dir).store.count() == 0  # nothing half-written
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label",
                         "--label-names", "1=praise, 0=complaint")
    assert code == 0, err
    assert "Labels read by value (--label-names): 1 as praise, 0 as complaint." in out
    labels = {a.external_id: a.label for a in Workspace.open(ws_dir).store.iter_assets()}
    assert labels == {f"r{i}": "COMPLAINT" if lab == 0 else "PRAISE" for i, lab in enumerate(LABELS)}


@pytest.mark.parametrize("text, said", [
    ("", "needs the categories"),
    ("a,,b", "item 2 ('') has no category"),
    ("=a", "has no value"),
    ("0=a,b", "not both"),
    ("0=a,0.0=b", "the value 0.0 is given twice"),
])
def test_bad_label_names_are_refused(text, said):
    with pytest.raises(ReviewtuiError) as e:
        parse_label_names(text)
    assert said in str(e.value)


def test_label_names_need_a_label_column_and_values_compare_as_numbers(tmp_path, capsys):
    assert parse_label_names("neg, neu ,pos") == {"0": "neg", "1": "neu", "2": "pos"}
    assert [plain_value(v) for v in ("1.0", " 2 ", "-1", "1.5", "bug")] == ["1", "2", "-1", "1.5", "bug"]
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories", "a, b")[0] == 0
    data = write_csv(tmp_path / "t.csv", ["id", "text"], [["r1", "some review"]])
    code, _, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-names", "a,b")
    assert code != 0 and "--label-names names the values of --label-col: name the label column too" in err


def test_init_names_a_csvs_numbers_and_says_the_import_that_reads_them_alike(tmp_path, capsys):
    rows = [[f"r{i}", t, str(lab)] for i, (t, lab) in enumerate(zip(TEXTS, LABELS))]
    data = write_csv(tmp_path / "train.csv", ["id", "text", "label"], rows)
    ws_dir = str(tmp_path / "ws")
    code, out, err = run(capsys, "init", ws_dir, "--categories-from", str(data), "--label-col", "label",
                         "--label-names", "complaint,praise")
    assert code == 0, err
    assert "Categories: complaint, praise." in out and "--label-col label --label-names complaint,praise" in out
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label",
                         "--label-names", "complaint,praise")
    assert code == 0, err
    assert sorted(a.label for a in Workspace.open(ws_dir).store.iter_assets()) == ["COMPLAINT"] * 2 + ["PRAISE"] * 4
    code, _, err = run(capsys, "init", str(tmp_path / "other"), "--categories", "a", "--label-names", "a")
    assert code != 0 and "--label-names: only with --categories-from" in err


def test_cells_naming_several_categories_are_refused_with_what_to_do(tmp_path, capsys):
    """A multi-label file (food;service) gets an error that says a review has one category here,
    not the advice to add 'food;service' as a category; nothing is imported."""
    data = write_csv(tmp_path / "ml.csv", ["id", "text", "label"],
                     [["1", "great food bad service", "food;service"], ["2", "cheap and tasty", "Price | food"],
                      ["3", "rude staff", "service"]])
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories", "food, service, price")[0] == 0
    code, _, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label")
    assert code == 2 and "'food;service' names several categories: a review has one category here" in err
    assert "--add-categories" not in err and Workspace.open(ws_dir).store.count() == 0


def test_values_the_names_leave_out_are_refused_with_the_names_that_fit_or_left_unlabeled(tmp_path, capsys):
    """Labels 1/2 with --label-names neg,pos (0 and 1): 2 became a category of its own and the
    1 rows "neg"... the import suggested --add-categories. It is refused now with the names in the
    file's order; -1 (a Hugging Face test split's "no label") can be named nothing: no label."""
    ws_dir = str(tmp_path / "ws")
    assert run(capsys, "init", ws_dir, "--categories", "neg, pos")[0] == 0
    data = write_csv(tmp_path / "p.csv", ["id", "text", "label"],
                     [["r1", "awful slow app", "1"], ["r2", "lovely fast app", "2"], ["r3", "not sure yet", "-1"]])
    code, _, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label", "--label-names", "neg,pos")
    said = " ".join(err.split())
    assert code == 2 and "names the values 0, 1 of column label, which also holds -1 (1 row), 2 (1 row)" in said
    assert "--label-names=0=neg,1=pos,-1=NAME" in said and "--label-names=0=neg,1=pos,-1=;" in said
    assert Workspace.open(ws_dir).store.count() == 0
    code, out, err = run(capsys, "-w", ws_dir, "import", str(data), "--label-col", "label",
                         "--label-names=1=neg,2=pos,-1=")
    assert code == 0, err
    assert "-1 as no label" in " ".join(out.split())
    ws = Workspace.open(ws_dir)
    assert [ws.store.get(e).label for e in ("r1", "r2", "r3")] == ["NEG", "POS", None]
    ws.close()
    two = write_csv(tmp_path / "two.csv", ["id", "text", "label"], [["s1", "bad", "1"], ["s2", "good", "2"]])
    code, _, err = run(capsys, "-w", ws_dir, "import", str(two), "--label-col", "label", "--label-names", "neg,pos")
    assert code == 2 and "the file's values are 1, 2: --label-names=1=neg,2=pos names them in that order" in \
        " ".join(err.split())
