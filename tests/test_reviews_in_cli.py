"""A team's own taxonomy, the files teams have and exports for training elsewhere, through the CLI:
``init --categories/--taxonomy``, ``categories``, ``import --app/--sheet/--fill-missing-ids/
--add-categories`` and folders, ``export --format/--out``. Every bad input: exit 2, one line,
nothing written."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import tomllib
from pathlib import Path

import pytest

from reviewtui.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout (line wrapping undone unless it is JSON) and stderr of one command."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out if "--json" in argv else " ".join(out.out.split()), out.err


def digest(root: Path) -> str:
    """Everything a command could change: reviewtui.toml, the store's rows, versions/ and exports/."""
    parts = [(root / "reviewtui.toml").read_text(encoding="utf-8")]
    db = sqlite3.connect(root / "reviewtui.db")
    for table in ("assets", "labels", "imports"):
        parts.append(repr(db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()))
    db.close()
    for folder in ("versions", "exports"):
        for p in sorted((root / folder).rglob("*")) if (root / folder).exists() else []:
            parts.append(str(p.relative_to(root)) + (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def categories_of(root: Path) -> list[tuple[str, str, bool]]:
    data = tomllib.loads((root / "reviewtui.toml").read_text(encoding="utf-8"))
    return [(c["key"], c["name"], c["train"]) for c in data["categories"]]


# --- init -------------------------------------------------------------------------------------------
def test_init_with_categories_and_with_a_preset(tmp_path, capsys):
    code, out, _ = run(capsys, "init", str(tmp_path / "a"), "--categories", "Bug report, Feature request, Praise, Other")
    # every category is trained, the catch-all too: a model that never saw Other would put the vague
    # reviews into the other categories
    assert code == 0 and "Categories: Bug report, Feature request, Praise, Other." in out
    assert categories_of(tmp_path / "a") == [("BUG_REPORT", "Bug report", True), ("FEATURE_REQUEST", "Feature request", True),
                                              ("PRAISE", "Praise", True), ("OTHER", "Other", True)]
    code, out, _ = run(capsys, "init", str(tmp_path / "b"), "--taxonomy", "app-review")  # a preset by its name
    assert code == 0
    keys = [k for k, _, _ in categories_of(tmp_path / "b")]
    assert keys == ["BUG_REPORT", "FEATURE_REQUEST", "USER_EXPERIENCE", "RATING"]
    data = tomllib.loads((tmp_path / "b" / "reviewtui.toml").read_text(encoding="utf-8"))
    assert data["categories"][0]["examples"] and data["categories"][0]["description"]


def test_init_takes_a_preset_by_its_former_path_and_names_the_presets_for_a_missing_file(tmp_path, capsys, monkeypatch):
    """The presets are installed with the package; the path the docs gave before
    (data/taxonomies/NAME.toml) still names them, and a file that is not there is one error that
    lists them, with nothing created."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "old", "--taxonomy", "data/taxonomies/medium.toml")
    assert code == 0 and "SUBSCRIPTION" in (tmp_path / "old" / "reviewtui.toml").read_text(encoding="utf-8")
    (tmp_path / "mine").mkdir()
    code, _, err = run(capsys, "init", "new", "--taxonomy", "mine/app-review.toml")
    assert code == 2 and "mine/app-review.toml: no such taxonomy file or preset" in err
    assert "a preset: app-review, medium" in err and not (tmp_path / "new").exists()


def test_init_with_a_taxonomy_file_of_names_and_descriptions_only(tmp_path, capsys):
    """A team's file without train or colour gives what --categories gives: every category trained,
    palette colours (not the grey of a category without one); ``train = false`` keeps one out."""
    shop = tmp_path / "shop.toml"
    shop.write_text("".join(f"[[categories]]\nname = '{n}'\ndescription = 'about {n.lower()}'\n"
                            f"examples = ['one', 'two', 'three']\n\n"
                            for n in ("Shipping", "Product quality", "Price", "Other")), encoding="utf-8")
    code, out, _ = run(capsys, "init", str(tmp_path / "a"), "--taxonomy", str(shop))
    assert code == 0 and "Categories: Shipping, Product quality, Price, Other." in out
    code, _, _ = run(capsys, "init", str(tmp_path / "b"), "--categories", "Shipping, Product quality, Price, Other")
    assert code == 0
    from_file = tomllib.loads((tmp_path / "a" / "reviewtui.toml").read_text(encoding="utf-8"))["categories"]
    from_names = tomllib.loads((tmp_path / "b" / "reviewtui.toml").read_text(encoding="utf-8"))["categories"]
    assert [(c["key"], c["colour"], c["train"]) for c in from_file] == \
        [(c["key"], c["colour"], c["train"]) for c in from_names]
    assert "#888888" not in {c["colour"] for c in from_file}
    assert from_file[3]["description"] == "about other"
    shop.write_text(shop.read_text(encoding="utf-8") + "train = false\n", encoding="utf-8")  # the last: Other
    code, out, _ = run(capsys, "init", str(tmp_path / "c"), "--taxonomy", str(shop))
    assert code == 0 and "Categories: Shipping, Product quality, Price, Other (not trained)." in out


@pytest.mark.parametrize("argv,expected", [
    (["--categories", "Bug, bug"], "would both have the key BUG"),
    (["--categories", " , "], "give at least one category name"),
    (["--categories", "1, LABEL_1"], "would both have the key LABEL_1"),
    (["--taxonomy", "no/such.toml"], "no such taxonomy file"),
])
def test_bad_init_creates_nothing(tmp_path, capsys, argv, expected):
    code, out, err = run(capsys, "init", str(tmp_path / "ws"), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "ws").exists()


def test_init_takes_the_categories_from_a_labeled_file(tmp_path, capsys):
    """A team with a labeled data set names its taxonomy from it: one category per label, spelled
    as an import matches labels (case and spacing), the most frequent first; no default category
    is left with no labels, and the import that follows needs no --add-categories."""
    data = write_csv(tmp_path / "labeled.csv", ["review_id", "review_text", "Label"],
                     [["1", "charged twice", "negative"], ["2", "love it", "Positive"], ["3", "meh", "neutral"],
                      ["4", "great", "positive "], ["5", "bad", "Negative"], ["6", "fine", "positive"],
                      ["7", "", "  "]])
    root = tmp_path / "ws"
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(data), "--label-col", "label")
    assert code == 0, err
    assert "Categories: positive, negative, neutral." in out
    assert f"Next: reviewtui -w {root} import {data} --label-col label" in out
    assert categories_of(root) == [("POSITIVE", "positive", True), ("NEGATIVE", "negative", True),
                                   ("NEUTRAL", "neutral", True)]
    code, out, err = run(capsys, "-w", str(root), "import", str(data), "--label-col", "label")
    assert code == 0 and "has no labels" not in out, err
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "--unused")
    assert code == 0 and "Every category carries a label; nothing removed." in out


def test_the_import_line_init_prints_runs_with_label_names_that_start_with_a_minus(tmp_path, capsys):
    """init printed `--label-names -1=neg,...`, which the parser reads as an option: the line it
    said to run next failed. A value starting with "-" is joined to its option."""
    import shlex

    data = write_csv(tmp_path / "pm.csv", ["id", "text", "lab"], [["1", "bad", "-1"], ["2", "ok", "0"],
                                                                 ["3", "good", "1"]])
    root = tmp_path / "ws"
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(data), "--label-col", "lab",
                         "--label-names=-1=neg,0=neu,1=pos")
    assert code == 0, err
    line = " ".join(out.split()).split("Next: ", 1)[1]
    assert line.endswith("--label-names=-1=neg,0=neu,1=pos")
    argv = shlex.split(line)[1:]
    code, out, err = run(capsys, *argv)
    assert code == 0 and "3 new reviews" in out, err


def test_init_reads_the_categories_file_as_the_import_does(tmp_path, capsys):
    """--encoding, --delimiter and --sheet read the file as import reads it, and the import line
    init prints carries them; a label given only on a row the import drops (no text) is no category."""
    data = tmp_path / "excel.csv"
    data.write_bytes("review_id;review_text;label\n1;café crashes;négatif\n2;love it;positif\n3;;bizarre\n"
                     "4;good;positif\n".encode("cp1252"))
    root = tmp_path / "ws"
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(data), "--label-col", "label")
    assert code == 2 and "--encoding" in err and not root.exists()
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(data), "--label-col", "label",
                         "--encoding", "cp1252", "--delimiter", ";")
    assert code == 0, err
    assert "Categories: positif, négatif." in out
    assert f"Next: reviewtui -w {root} import {data} --label-col label --delimiter ';' --encoding cp1252" in out
    code, out, err = run(capsys, "-w", str(root), "import", str(data), "--label-col", "label", "--delimiter", ";",
                         "--encoding", "cp1252")
    assert code == 0 and "has no labels" not in out, err


def test_init_from_a_file_of_ids_and_labels_says_to_import_the_reviews_then_label_from_it(tmp_path, capsys):
    """A file of ids and labels only (no review text) names the taxonomy, and the next step is the
    reviews' import, then `label --from` that file (an import of it would fail: no text column)."""
    labels = write_csv(tmp_path / "labels.csv", ["reviewId", "label"], [["r1", "Bug"], ["r2", "Praise"], ["r3", "Bug"]])
    reviews = write_csv(tmp_path / "reviews.csv", ["reviewId", "content"],
                        [["r1", "crashes at login"], ["r2", "love it"], ["r3", "freezes"]])
    root = tmp_path / "ws"
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(labels), "--label-col", "label")
    assert code == 0, err
    assert "Categories: Bug, Praise." in out
    assert (f"Next: reviewtui -w {root} import EXPORT.csv (the reviews), then reviewtui -w {root} label --from "
            f"{labels}") in " ".join(out.split())
    assert run(capsys, "-w", str(root), "import", str(reviews))[0] == 0
    code, out, err = run(capsys, "-w", str(root), "label", "--from", str(labels))
    assert code == 0 and "Applied 3 labels" in out, out + err


@pytest.mark.parametrize("label_col,expected", [
    ("text", "labeled.csv: column text is the review text (an import reads it as the text), not labels; name the "
             "column that holds the labels with --label-col"),
    ("id", "column id gives 120 distinct labels over 120 labeled rows: not a column of categories"),
    ("note", "column note gives 12 distinct labels over 20 labeled rows: not a column of categories"),
])
def test_init_refuses_a_column_that_is_not_labels(tmp_path, capsys, label_col, expected):
    write_csv(tmp_path / "labeled.csv", ["id", "text", "label", "note"],
              [[str(i), f"review {i}", "Bug" if i % 2 else "Praise", f"n{i % 12}" if i < 20 else ""]
               for i in range(120)])
    code, out, err = run(capsys, "init", str(tmp_path / "ws"), "--categories-from", str(tmp_path / "labeled.csv"),
                         "--label-col", label_col)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert "--label-col" in err and not (tmp_path / "ws").exists()


@pytest.mark.parametrize("argv,expected", [
    (["--categories-from", "{tmp}/no.csv", "--label-col", "label"], "no.csv: no such file"),
    (["--categories-from", "{tmp}/labeled.csv", "--label-col", "tag"],
     "labeled.csv: no label column 'tag'; the columns are: id, text, label, note; name the column that holds the "
     "labels with --label-col"),
    (["--categories-from", "{tmp}/labeled.csv", "--label-col", "note"],
     "labeled.csv, column note has no labels (every row is blank there)"),
    (["--categories-from", "{tmp}/labeled.csv"], "give both, as in --categories-from labeled.csv --label-col label"),
    (["--label-col", "label"], "give both"),
    (["--encoding", "cp1252"], "--encoding: only with --categories-from"),
    (["--categories", "A, B", "--delimiter", ";", "--sheet", "x"], "--delimiter, --sheet: only with --categories-from"),
])
def test_bad_categories_from_creates_nothing(tmp_path, capsys, argv, expected):
    write_csv(tmp_path / "labeled.csv", ["id", "text", "label", "note"], [["1", "crash", "Bug", ""], ["2", "ok", "", " "]])
    code, out, err = run(capsys, "init", str(tmp_path / "ws"), *(a.replace("{tmp}", str(tmp_path)) for a in argv))
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "ws").exists()


def test_categories_remove_takes_several_names_and_unused(labeled, capsys):
    """A plain init's default taxonomy beside a data set's own labels: remove several at once, or
    every one with no label (--unused); one in use, or all of them, is refused with nothing removed."""
    assert run(capsys, "-w", str(labeled), "categories", "add", "Pricing")[0] == 0
    assert run(capsys, "-w", str(labeled), "categories", "add", "Spam")[0] == 0
    before = digest(labeled)
    for argv, expected in [(["Pricing", "Bug"], "2 reviews are labeled BUG; nothing removed: move them first "
                                                "with `reviewtui categories merge BUG --into WISH` (or another of "),
                           (["Nope"], "no category 'Nope'"),
                           ([], "name the categories to remove, or give --unused"),
                           (["Spam", "--unused"], "not both")]:
        code, out, err = run(capsys, "-w", str(labeled), "categories", "remove", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
        assert digest(labeled) == before
    code, out, err = run(capsys, "-w", str(labeled), "categories", "remove", "pricing", "SPAM")
    assert code == 0 and "Removed PRICING, SPAM." in out, err
    unused = [k for k, _, _ in categories_of(labeled) if k not in ("BUG", "WISH", "PRAISE")]
    code, out, err = run(capsys, "-w", str(labeled), "categories", "remove", "--unused")
    assert code == 0 and f"Removed {', '.join(unused)}." in out, err
    assert [k for k, _, _ in categories_of(labeled)] == ["BUG", "WISH", "PRAISE"]


def test_categories_remove_unused_keeps_a_taxonomy_with_no_labels(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "Bug, Other")[0] == 0
    before = digest(root)
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "--unused")
    assert code == 2 and "no review carries a label yet, so it would remove every category" in err
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "Bug", "Other")
    assert code == 2 and "BUG, OTHER are all the categories; a taxonomy needs at least one; nothing removed" in err
    assert digest(root) == before


def test_init_refuses_both_categories_and_taxonomy(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["init", str(tmp_path / "ws"), "--categories", "A, B", "--taxonomy", "x.toml"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "ws").exists()


# --- categories -------------------------------------------------------------------------------------
@pytest.fixture
def labeled(tmp_path, capsys):
    """A workspace with the taxonomy Bug, Wish, Praise, Other and six labeled reviews."""
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "Bug, Wish, Praise, Other")[0] == 0
    export = write_csv(tmp_path / "reviews.csv", ["reviewId", "content", "label"],
                       [["r1", "it crashes", "Bug"], ["r2", "freezes on start", "bug"], ["r3", "add dark mode", "Wish"],
                        ["r4", "love it", "Praise"], ["r5", "great", "praise"], ["r6", "meh", ""]])
    assert run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")[0] == 0
    return root


def history(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / "reviewtui.db")
    rows = db.execute("SELECT a.external_id, l.kind, l.category, l.note FROM labels l JOIN assets a "
                      "ON a.id = l.asset_id ORDER BY l.id").fetchall()
    db.close()
    return rows


def test_categories_list_add_rename_merge_remove(labeled, capsys):
    root = str(labeled)
    code, out, _ = run(capsys, "-w", root, "categories", "--json")
    assert code == 0 and [(c["key"], c["labeled"]) for c in json.loads(out)] == \
        [("BUG", 2), ("WISH", 1), ("PRAISE", 2), ("OTHER", 0)]
    code, out, _ = run(capsys, "-w", root, "categories", "add", "Pricing", "--description", "price and plans",
                       "--example", "too expensive", "--example", "the plan doubled")
    assert code == 0 and "Added PRICING." in out
    assert ("PRICING", "Pricing", True) in categories_of(labeled)
    code, out, _ = run(capsys, "-w", root, "categories", "add", "Spam", "--no-train")
    assert ("SPAM", "Spam", False) in categories_of(labeled)
    before = history(labeled)
    code, out, _ = run(capsys, "-w", root, "categories", "rename", "Bug", "Defect")
    assert code == 0 and "Renamed BUG to DEFECT: 2 reviews relabeled with new label events" in out
    after = history(labeled)
    assert after[:len(before)] == before  # the history is never rewritten
    assert after[len(before):] == [("r1", "label", "DEFECT", "renamed BUG to DEFECT"),
                                   ("r2", "label", "DEFECT", "renamed BUG to DEFECT")]
    code, out, _ = run(capsys, "-w", root, "categories", "merge", "Praise", "Wish", "--into", "Defect")
    assert code == 0 and "Merged PRAISE, WISH into DEFECT: 3 reviews relabeled" in out
    code, out, _ = run(capsys, "-w", root, "categories", "set", "other", "--train", "--colour", "#12ab3c",
                       "--description", "anything else")
    assert code == 0 and "Set OTHER: trained, colour #12AB3C, new description." in out
    assert ("OTHER", "Other", True) in categories_of(labeled)
    code, out, _ = run(capsys, "-w", root, "categories", "set", "Other", "--no-train")
    assert code == 0 and "Set OTHER: not trained." in out and ("OTHER", "Other", False) in categories_of(labeled)
    code, out, _ = run(capsys, "-w", root, "categories", "--json")
    other = next(c for c in json.loads(out) if c["key"] == "OTHER")
    assert (other["colour"], other["train"], other["description"]) == ("#12AB3C", False, "anything else")
    code, out, _ = run(capsys, "-w", root, "categories", "set", "Pricing", "--example", "costs too much",
                       "--example", "  fees everywhere ")
    assert code == 0 and "Set PRICING: 2 examples." in out
    code, out, _ = run(capsys, "-w", root, "categories", "set", "Pricing", "--add-example", "pay twice",
                       "--add-example", "costs too much")
    assert code == 0 and "Set PRICING: 3 examples." in out
    code, out, _ = run(capsys, "-w", root, "categories", "--json")
    pricing = next(c for c in json.loads(out) if c["key"] == "PRICING")
    assert pricing["examples"] == ["costs too much", "fees everywhere", "pay twice"]
    code, out, _ = run(capsys, "-w", root, "categories", "set", "Pricing", "--no-examples")
    assert code == 0 and "Set PRICING: 0 examples." in out
    code, out, _ = run(capsys, "-w", root, "categories", "--json")
    assert next(c for c in json.loads(out) if c["key"] == "PRICING")["examples"] == []
    code, out, _ = run(capsys, "-w", root, "categories", "remove", "Spam")
    assert code == 0 and "Removed SPAM." in out
    assert [k for k, _, _ in categories_of(labeled)] == ["DEFECT", "OTHER", "PRICING"]
    code, out, _ = run(capsys, "-w", root, "categories")
    assert code == 0 and "DEFECT" in out and "price and plans" in out


@pytest.mark.parametrize("argv,expected", [
    (["add", "bug"], "the taxonomy already has BUG"),
    (["rename", "Nope", "X"], "no category 'Nope'"),
    (["rename", "Bug", "Wish"], "reviewtui categories merge BUG --into WISH"),
    (["merge", "Bug", "--into", "Bug"], "cannot merge BUG into itself"),
    (["remove", "Bug"], "2 reviews are labeled BUG"),
    (["set", "Bugs", "--no-train"], "no category 'Bugs' (did you mean BUG?)"),
    (["set", "Bug", "--colour", "red"], "'red' is not a colour of the form #RRGGBB"),
    (["set", "Bug", "--colour", "#12345"], "is not a colour of the form #RRGGBB"),
    (["set", "Bug"], "nothing to change for BUG: give --train or --no-train"),
    (["set", "Bug", "--example", " "], "categories set BUG: an example is blank"),
    (["set", "Bug", "--example", "a", "--no-examples"], "give --example TEXT (the new examples) or --no-examples (none), not both"),
    (["add", "Pricing", "--colour", "blue"], "'blue' is not a colour of the form #RRGGBB"),
])
def test_bad_category_changes_write_nothing(labeled, capsys, argv, expected):
    before = digest(labeled)
    code, out, err = run(capsys, "-w", str(labeled), "categories", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert digest(labeled) == before


def test_set_refuses_train_and_no_train_together(labeled, capsys):
    """Both were taken, the last one winning without a word."""
    before = digest(labeled)
    for flags in (["--train", "--no-train"], ["--no-train", "--train"]):
        try:
            code = main(["-w", str(labeled), "categories", "set", "Bug", *flags])
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2 and "not allowed with argument" in err
    assert digest(labeled) == before


def test_set_refuses_to_leave_no_category_trained(labeled, capsys):
    for name in ("Bug", "Wish", "Other"):
        assert run(capsys, "-w", str(labeled), "categories", "set", name, "--no-train")[0] == 0
    before = digest(labeled)
    code, out, err = run(capsys, "-w", str(labeled), "categories", "set", "praise", "--no-train")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "with PRAISE untrained no category is left to train a model on" in err
    assert digest(labeled) == before


def test_export_says_which_labels_it_leaves_out_as_not_trained(labeled, capsys):
    """Reviews labeled with a category kept out of training are not in the version, and the
    export says so with the way to train it: else the model silently puts reviews like them into
    the trained categories."""
    root = str(labeled)
    assert run(capsys, "-w", root, "label", "r6", "Other")[0] == 0
    assert run(capsys, "-w", root, "categories", "set", "Other", "--no-train")[0] == 0
    code, out, _ = run(capsys, "-w", root, "export")
    assert code == 0 and "5 rows (BUG 2, PRAISE 2, WISH 1)" in out
    assert ("Left out, as not trained: OTHER 1. The model will put reviews like them in the trained categories; "
            "`reviewtui categories set OTHER --train` lets it learn OTHER.") in out
    manifest = json.loads((labeled / "versions" / "dataset-1.json").read_text(encoding="utf-8"))
    assert manifest["labels_not_for_training"] == {"OTHER": 1}
    assert run(capsys, "-w", root, "categories", "set", "Other", "--train")[0] == 0
    code, out, _ = run(capsys, "-w", root, "export")
    assert code == 0 and "6 rows" in out and "Left out" not in out


def test_changes_of_the_categories_kili_must_match_are_refused_on_the_kili_backend(labeled, capsys):
    """A key renamed, merged, added or removed here alone would stop every `kili pull` (the
    project's interface must list the workspace's categories); a new name alone is allowed."""
    from reviewtui.workspace import Workspace

    ws = Workspace.open(labeled)
    ws.config.update_section("backend", {"kind": "kili", "project_id": "proj-1"})
    ws.close()
    before = digest(labeled)
    for argv in (["rename", "Bug", "Defect", "--key", "DEFECT"], ["merge", "Wish", "--into", "Bug"],
                 ["add", "Pricing"], ["remove", "Other"]):
        code, _, err = run(capsys, "-w", str(labeled), "categories", *argv)
        assert code == 2 and "labels in Kili (project proj-1): its labels live in Kili" in err, argv
        assert "stop `reviewtui kili pull`" in err
        assert f"then edit [[categories]] in {labeled / 'reviewtui.toml'} by hand to match it" in " ".join(err.split())
    assert digest(labeled) == before
    code, _, _ = run(capsys, "-w", str(labeled), "categories", "rename", "Bug", "BUG")
    assert code == 0
    # a new name alone keeps the key on Kili: the key no longer follows the name there
    code, _, err = run(capsys, "-w", str(labeled), "categories", "rename", "BUG", "Defect")
    assert code == 0, err
    ws = Workspace.open(labeled)
    assert ws.taxonomy.get("BUG").name == "Defect"
    ws.close()
    # nor may an import add the categories of its labels
    more = write_csv(labeled.parent / "more.csv", ["id", "content", "label"], [["n1", "the fees went up", "Pricing"]])
    code, _, err = run(capsys, "-w", str(labeled), "import", str(more), "--label-col", "label", "--add-categories")
    assert code == 2 and "adding the file's categories here alone" in err
    # before the Kili project exists, `kili create` takes the taxonomy as it is: changes are free
    ws = Workspace.open(labeled)
    ws.config.update_section("backend", {"kind": "kili", "project_id": ""})
    ws.close()
    assert run(capsys, "-w", str(labeled), "categories", "add", "Pricing")[0] == 0


# --- import -----------------------------------------------------------------------------------------
def test_unknown_labels_are_listed_and_refused_then_added(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "Bug report, Other")[0] == 0
    export = write_csv(tmp_path / "appstore.csv", ["id", "content", "label"],
                       [["1", "crash", "bug report"], ["2", "add x", "Feature Request"], ["3", "add y", "feature request"],
                        ["4", "needs sync", "requirement"], ["5", "ok", "Bug Report"]])
    before = digest(root)
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert code == 2 and err.count("\n") == 1
    # which review each is given to, first (the rows' lines are not known once the file is read and cleaned)
    assert ("2 labels not in the taxonomy (BUG_REPORT, OTHER): 'Feature Request' (2 rows, first the review 2), "
            "'requirement' (1 row, review 4)") in err
    no_ids = write_csv(tmp_path / "noids.csv", ["content", "label"],
                       [["crash", "bug report"], ["add an offline mode to the reading list please", "Feature Request"]])
    code, out, err = run(capsys, "-w", str(root), "import", str(no_ids), "--label-col", "label")
    # ids made from the texts are in no file: the text's start names the review
    assert code == 2 and "'Feature Request' (1 row, review “add an offline mode to the reading list…”)" in err
    assert "--add-categories" in err and digest(root) == before
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label", "--add-categories")
    assert code == 0, err
    assert "Added categories from the labels: FEATURE_REQUEST, REQUIREMENT" in out
    # the workspace's category no label of the file gave is named, with how to remove it
    assert ("OTHER has no labels: the summary and report list it with no reviews; `reviewtui categories remove "
            "--unused` removes it") in out
    assert [k for k, _, _ in categories_of(root)] == ["BUG_REPORT", "OTHER", "FEATURE_REQUEST", "REQUIREMENT"]
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    assert ws.store.counts_by_label() == {"FEATURE_REQUEST": 2, "BUG_REPORT": 2, "REQUIREMENT": 1}
    ws.close()
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "--unused")
    assert code == 0 and "Removed OTHER." in out, err
    assert [k for k, _, _ in categories_of(root)] == ["BUG_REPORT", "FEATURE_REQUEST", "REQUIREMENT"]
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "--unused")
    assert code == 0 and "Every category carries a label; nothing removed." in out, err


def test_numbered_and_non_latin_labels_become_categories(tmp_path, capsys):
    """Public data sets label with numbers (0-4) or in their own script: each becomes a category
    whose name is the label and whose key is made valid (LABEL_1; a hash for a name with no Latin
    letter or digit), and labels of a later import resolve to them by name."""
    from reviewtui.config import Taxonomy, category_key

    def taxonomy_of(items):
        return Taxonomy.from_list(items, where="test")

    assert category_key("1") == "LABEL_1" and category_key("5 stars") == "LABEL_5_STARS"
    assert category_key("正面") != category_key("负面") and category_key("正面").startswith("LABEL_")
    assert category_key("正面") == category_key(" 正面 ") and category_key("Bug report") == "BUG_REPORT"
    # letters of another script dropped before a number: the hash keeps such names apart
    assert len({category_key("Ошибка 1"), category_key("Отзыв 1"), category_key("1")}) == 3
    assert category_key("5星") != category_key("5") == "LABEL_5"
    # accented Latin letters keep their letter, and a label written without the accents finds it
    assert category_key("Über Gebühren") == "UBER_GEBUHREN" and category_key("Réclamation") == "RECLAMATION"
    described = taxonomy_of([{"name": "Über Gebühren"}, {"name": "Réclamation"}])
    assert described.keys == ["UBER_GEBUHREN", "RECLAMATION"] and described.resolve("reclamation") == "RECLAMATION"
    from reviewtui.config import Taxonomy

    tax = Taxonomy.from_list([{"key": "LABEL_1", "name": "Label one"}, {"key": "ONE", "name": "1"}])
    assert tax.resolve("LABEL_1") == "LABEL_1" and tax.resolve("1") == "ONE"  # a key wins over a derived alias
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "0, 1, 2")[0] == 0
    assert categories_of(root) == [("LABEL_0", "0", True), ("LABEL_1", "1", True), ("LABEL_2", "2", True)]
    export = write_csv(tmp_path / "x.csv", ["id", "text", "label"],
                       [["a", "crash", "0"], ["b", "love it", "2"], ["c", "meh", "3"], ["d", "很好", "正面"],
                        ["e", "很差", "负面"], ["f", "不错", "正面"]])
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label", "--add-categories")
    assert code == 0, err
    assert "LABEL_1 has no labels" in out
    added = {name: key for key, name, _ in categories_of(root)[3:]}  # most rows first
    assert list(added)[0] == "正面" and set(added) == {"正面", "3", "负面"} and added["3"] == "LABEL_3" and len(set(added.values())) == 3
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    counts = ws.store.counts_by_label()
    assert counts["LABEL_0"] == counts["LABEL_2"] == counts["LABEL_3"] == 1
    assert counts[ws.taxonomy.resolve("正面")] == 2 and counts[ws.taxonomy.resolve("负面")] == 1
    ws.close()


def test_signed_number_labels_are_categories_apart_from_the_bare_number(tmp_path, capsys):
    """Sentiment sets label -1, 0, 1: "-1" and "1" gave one key (LABEL_1), so init
    --categories-from made two categories of three and the import filed the positive reviews
    under "-1". The sign is kept in the key: three categories, each review under its own."""
    from reviewtui.config import category_key

    assert [category_key(n) for n in ("-1", "1", "+1", "\u22121")] == ["LABEL_MINUS_1", "LABEL_1", "LABEL_PLUS_1",
                                                                      "LABEL_MINUS_1"]
    rows = [[f"r{i}", text, label] for i, (text, label) in enumerate(
        [("awful, crashes", "-1"), ("terrible support", "-1"), ("it is ok", "0"), ("fine I guess", "0"),
         ("love it", "1"), ("great app", "1"), ("superb", "1")])]
    export = write_csv(tmp_path / "pm.csv", ["id", "text", "sentiment_label"], rows)
    root = tmp_path / "ws"
    code, out, err = run(capsys, "init", str(root), "--categories-from", str(export), "--label-col", "sentiment_label")
    assert code == 0, err
    assert set(categories_of(root)) == {("LABEL_1", "1", True), ("LABEL_MINUS_1", "-1", True), ("LABEL_0", "0", True)}
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "sentiment_label")
    assert code == 0, err
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    assert ws.store.counts_by_label() == {"LABEL_1": 3, "LABEL_MINUS_1": 2, "LABEL_0": 2}
    assert ws.store.get("r4").label == "LABEL_1" and ws.store.get("r0").label == "LABEL_MINUS_1"
    ws.close()
    assert run(capsys, "-w", str(root), "label", "r2", "-1")[0] == 0
    ws = Workspace.open(root)
    assert ws.store.get("r2").label == "LABEL_MINUS_1"
    ws.close()


def test_the_import_names_as_unused_only_what_categories_remove_unused_removes(tmp_path, capsys):
    """A category whose only review is skipped still carries a label: `categories remove --unused`
    keeps it, so the import does not call it a category with no labels."""
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "Bug, Other, Praise")[0] == 0
    first = write_csv(tmp_path / "a.csv", ["id", "content", "label"], [["1", "hmm", "other"], ["2", "crash", "bug"]])
    assert run(capsys, "-w", str(root), "import", str(first), "--label-col", "label")[0] == 0
    assert run(capsys, "-w", str(root), "skip", "1", "--reason", "not a review")[0] == 0
    second = write_csv(tmp_path / "b.csv", ["id", "content", "label"], [["3", "add x", "wish"]])
    code, out, err = run(capsys, "-w", str(root), "import", str(second), "--label-col", "label", "--add-categories")
    assert code == 0, err
    assert "PRAISE has no labels" in out and "OTHER" not in out
    code, out, err = run(capsys, "-w", str(root), "categories", "remove", "--unused")
    assert code == 0 and "Removed PRAISE." in out, err


def test_add_categories_is_one_transaction_with_the_import(tmp_path, capsys, monkeypatch):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "Bug, Other")[0] == 0
    export = write_csv(tmp_path / "x.csv", ["id", "content", "label"], [["1", "crash", "bug"], ["2", "wish", "Wish"]])
    before = digest(root)
    from reviewtui import config

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(config, "write_toml", broken)
    with pytest.raises(OSError):
        main(["-w", str(root), "import", str(export), "--label-col", "label", "--add-categories"])
    assert digest(root) == before  # neither the reviews nor their labels went in


def test_importing_a_labeled_file_again_keeps_the_labels_given_since(tmp_path, capsys):
    """A team that arrived with labels corrects some of them (a label, a review, a skip) and imports
    the file again, or a newer release of it: the corrections stay; a label the file changed goes
    where the review still has the label an import gave."""
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "negative, neutral, positive")[0] == 0
    rows = [["r1", "love it", "negative"], ["r2", "awful", "positive"], ["r3", "fine I guess", "neutral"],
            ["r4", "ok", "neutral"], ["r5", "meh", "neutral"]]
    export = write_csv(tmp_path / "public.csv", ["review_id", "review_text", "label"], rows)
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert code == 0, err
    assert "public.csv: 5 labels recorded (source import)" in out
    assert run(capsys, "-w", str(root), "label", "r1", "positive")[0] == 0  # a person's correction
    fixes = write_csv(tmp_path / "fixes.csv", ["id", "label", "status"], [["r2", "negative", "REVIEWED"]])
    assert run(capsys, "-w", str(root), "label", "--from", str(fixes))[0] == 0
    assert run(capsys, "-w", str(root), "skip", "r3", "--reason", "not a review")[0] == 0
    rows[3][2] = "positive"  # the data set's next release relabels r4
    write_csv(export, ["review_id", "review_text", "label"], rows)
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert code == 0, err
    # r3's skip keeps it out of versions with the label the file gives it too: already so
    assert ("public.csv: 1 label recorded (source import), 2 already so; 2 reviews keep the label given since an "
            "earlier import (a correction, a confirmation, a review or a skip); to put a file's labels over them, "
            "`reviewtui label --from FILE --allow-missing` reads a UTF-8 CSV") in out
    db = sqlite3.connect(root / "reviewtui.db")
    state = {ext: (label, status, skipped) for ext, label, status, skipped in
             db.execute("SELECT external_id, label, status, skipped FROM assets")}
    assert state == {"r1": ("POSITIVE", "LABELED", 0), "r2": ("NEGATIVE", "REVIEWED", 0),
                     "r3": ("NEUTRAL", "LABELED", 1), "r4": ("POSITIVE", "LABELED", 0), "r5": ("NEUTRAL", "LABELED", 0)}
    events = db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
    code, out, _ = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert "public.csv: 0 labels recorded (source import), 3 already so; 2 reviews keep" in out
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == events  # a rerun records nothing
    db.close()


def test_a_newer_release_still_applies_over_labels_a_category_change_moved(tmp_path, capsys):
    """A rename of a key or a merge moves the imported labels to the new key; nobody corrected them,
    so the next release of the file still applies its changed labels there, and says none was kept."""
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "negative, neutral, positive, meh")[0] == 0
    rows = [["r1", "awful", "negative"], ["r2", "fine", "neutral"], ["r3", "bof", "meh"], ["r4", "ok", "positive"]]
    export = write_csv(tmp_path / "public.csv", ["review_id", "review_text", "label"], rows)
    assert run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")[0] == 0
    code, _, err = run(capsys, "-w", str(root), "categories", "rename", "negative", "negative", "--key", "NEG")
    assert code == 0, err
    code, _, err = run(capsys, "-w", str(root), "categories", "merge", "meh", "--into", "neutral")
    assert code == 0, err
    rows[0][2], rows[1][2], rows[2][2] = "positive", "positive", "neutral"  # the next release relabels r1, r2
    write_csv(export, ["review_id", "review_text", "label"], rows)
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert code == 0, err
    assert "public.csv: 2 labels recorded (source import), 2 already so" in out and "keep the label" not in out
    db = sqlite3.connect(root / "reviewtui.db")
    assert dict(db.execute("SELECT external_id, label FROM assets")) == {
        "r1": "POSITIVE", "r2": "POSITIVE", "r3": "NEUTRAL", "r4": "POSITIVE"}
    db.close()


def test_the_same_file_imported_by_another_author_records_nothing_again(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "negative, positive")[0] == 0
    export = write_csv(tmp_path / "public.csv", ["review_id", "review_text", "label"],
                       [["r1", "awful", "negative"], ["r2", "love it", "positive"]])
    assert run(capsys, "-w", str(root), "import", str(export), "--label-col", "label", "--author", "ann")[0] == 0
    db = sqlite3.connect(root / "reviewtui.db")
    events = db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label", "--author", "bob")
    assert code == 0, err
    assert "public.csv: 0 labels recorded (source import), 2 already so" in out
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == events
    db.close()


def test_a_confirmed_import_label_stays_over_a_newer_release(tmp_path, capsys):
    """A person who checked an imported label and kept it (``c`` in the app) made it theirs: a newer
    release of the file no longer changes it; a confirm taken back by undo does not count."""
    from reviewtui.workspace import Workspace

    root = tmp_path / "ws"
    assert run(capsys, "init", str(root), "--categories", "negative, positive")[0] == 0
    rows = [["r1", "awful", "negative"], ["r2", "bad", "negative"]]
    export = write_csv(tmp_path / "public.csv", ["review_id", "review_text", "label"], rows)
    assert run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")[0] == 0
    ws = Workspace.open(root)
    ws.store.confirm_label("r1", "NEGATIVE", author="ann")
    ws.store.confirm_label("r2", "NEGATIVE", author="ann")
    ws.store.undo_last(external_id="r2")
    ws.close()
    rows[0][2] = rows[1][2] = "positive"
    write_csv(export, ["review_id", "review_text", "label"], rows)
    code, out, err = run(capsys, "-w", str(root), "import", str(export), "--label-col", "label")
    assert code == 0, err
    assert "public.csv: 1 label recorded (source import); 1 review keeps the label given since" in out
    db = sqlite3.connect(root / "reviewtui.db")
    assert dict(db.execute("SELECT external_id, label FROM assets")) == {"r1": "NEGATIVE", "r2": "POSITIVE"}
    # what the report says to do works: the file as it is, through label --from
    code, out, err = run(capsys, "-w", str(root), "label", "--from", str(export), "--allow-missing")
    assert code == 0, err
    assert dict(db.execute("SELECT external_id, label FROM assets")) == {"r1": "POSITIVE", "r2": "POSITIVE"}
    db.close()


def test_folders_apps_sheets_and_missing_ids(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root))[0] == 0
    exports = tmp_path / "exports"
    write_csv(exports / "com.alpha" / "reviews_1.csv", ["reviewId", "content", "score"], [["a1", "nice", 5], ["a2", "bad", 1]])
    write_csv(exports / "com.beta" / "reviews_1.csv", ["reviewId", "content", "score"], [["b1", "ok", 3]])
    (exports / "README.txt").write_text("exports of two apps", encoding="utf-8")
    code, out, err = run(capsys, "-w", str(root), "import", str(exports))
    assert code == 0, err
    assert "com.alpha" in out and "com.beta" in out and "3 new reviews" in out
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("reviews")
    sheet.append(["review_id", "content", "rating"])
    sheet.append(["x1", "from excel", 4])
    sheet.append(["", "no id in this row", 2])
    book.save(tmp_path / "book.xlsx")
    before = digest(root)
    code, _, err = run(capsys, "-w", str(root), "import", str(tmp_path / "book.xlsx"), "--sheet", "reviews",
                       "--app", "Mail")
    assert code == 2 and "1 row with an empty id in column 'review_id'" in err and "--fill-missing-ids" in err
    assert digest(root) == before
    code, out, err = run(capsys, "-w", str(root), "import", str(tmp_path / "book.xlsx"), "--sheet", "reviews",
                         "--app", "Mail", "--fill-missing-ids")
    assert code == 0, err
    assert "book.xlsx: 1 rows had an empty id; their ids were taken from their text" in out
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    assert ws.store.counts_by_app() == {"Mail": 2, "com.alpha": 2, "com.beta": 1}
    assert ws.store.get("x1").metadata == {"score": 4, "app": "Mail"}
    ws.close()


@pytest.mark.parametrize("argv,expected", [
    (["--add-categories"], "--add-categories adds the labels of --label-col"),
    (["--app", " "], "--app is empty: give it a value, or leave it out"),
    (["--sheet", "nope"], "no sheet 'nope'"),
])
def test_bad_import_options_write_nothing(tmp_path, capsys, argv, expected):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root))[0] == 0
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["reviewId", "content"])
    book.active.append(["r1", "text"])
    book.save(tmp_path / "b.xlsx")
    before = digest(root)
    code, out, err = run(capsys, "-w", str(root), "import", str(tmp_path / "b.xlsx"), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert digest(root) == before


def test_an_empty_folder_is_one_clear_error(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root))[0] == 0
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "-w", str(root), "import", str(tmp_path / "empty"))
    assert code == 2 and "is a folder with no review files in it" in err


# --- export by format -------------------------------------------------------------------------------
def test_export_formats(labeled, tmp_path, capsys):
    root = str(labeled)
    code, out, _ = run(capsys, "-w", root, "export", "--format", "jsonl")
    assert code == 0 and "Wrote versions/dataset-1.csv" in out
    assert "Wrote dataset-1 as jsonl to exports/dataset-1.jsonl (5 rows; labels: BUG, WISH, PRAISE, OTHER)" in out
    lines = (labeled / "exports" / "dataset-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["label"] == "BUG" and json.loads(lines[0])["label_id"] == 0
    code, out, _ = run(capsys, "-w", root, "export", "--format", "parquet")
    assert code == 0 and "Nothing changed since dataset-1" in out and "exports/dataset-1.parquet" in out
    import pyarrow.parquet as pq

    assert pq.read_table(labeled / "exports" / "dataset-1.parquet").num_rows == 5
    code, out, _ = run(capsys, "-w", root, "export", "--format", "jsonl")  # the same version again: rewritten
    assert code == 0
    code, out, _ = run(capsys, "-w", root, "export", "--out", str(tmp_path / "copy.csv"))
    assert code == 0 and (tmp_path / "copy.csv").read_bytes() == (labeled / "versions" / "dataset-1.csv").read_bytes()
    code, out, err = run(capsys, "-w", root, "export", "--format", "hf", "--out", str(tmp_path / "hf"))
    assert code == 0 and err == ""  # no progress bar of the datasets library after the one line
    from datasets import load_from_disk

    ds = load_from_disk(str(tmp_path / "hf"))
    assert ds.features["label"].names == ["BUG", "WISH", "PRAISE", "OTHER"] and len(ds) == 5


@pytest.mark.parametrize("argv,expected", [
    (["--format", "xlsx"], "unknown export format 'xlsx': use one of csv, parquet, jsonl, hf"),
    (["--format", "parquet", "--out", "EXISTING"], "already exists; choose another path"),
    (["--format", "parquet", "--out", "NEW.csv"], "a .csv name for a parquet file; name it new.parquet, or give "
                                                  "--format csv; nothing was written"),
    (["--out", "NEW.jsonl"], "a .jsonl name for a csv file; name it new.csv, or give --format jsonl"),
])
def test_bad_exports_write_nothing(labeled, tmp_path, capsys, argv, expected):
    existing = tmp_path / "existing.parquet"
    existing.write_bytes(b"mine")
    argv = [str(existing) if a == "EXISTING" else str(tmp_path / a.lower()) if a.startswith("NEW") else a
            for a in argv]
    before = digest(labeled)
    code, out, err = run(capsys, "-w", str(labeled), "export", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err
    assert digest(labeled) == before and existing.read_bytes() == b"mine"


def test_an_import_that_leaves_a_label_column_unread_says_how_to_record_it(tmp_path, capsys):
    root = tmp_path / "ws"
    assert run(capsys, "init", str(root))[0] == 0
    data = write_csv(tmp_path / "hf.csv", ["text", "label"], [["great movie", "1"], ["awful", "0"]])
    code, out, _ = run(capsys, "-w", str(root), "import", str(data))
    assert code == 0 and "'label' looks like labels: import again with --label-col label to record them" in \
        " ".join(out.split())
    store = write_csv(tmp_path / "appstore.csv", ["date", "review", "rating", "isEdited", "userName", "title"],
                      [["2023-05-01 10:00:00", "Crashes every time", "1", "False", "bob", "Crash"]])
    code, out, _ = run(capsys, "-w", str(root), "import", str(store))
    assert code == 0 and "Recognised as an App Store" in out


def test_a_file_imported_again_with_its_id_column_is_refused_instead_of_stored_twice(tmp_path, capsys):
    """The first import did not take tweet_id for the ids (it says the column looks like them);
    the same file again with --id-col tweet_id stored every review a second time, without a word."""
    from reviewtui.cli import main
    from tests.conftest import write_csv

    rows = [[str(567588278876213800 + i), f"flight {i} was late and the crew was rude about it", "United"]
            for i in range(40)]
    f = write_csv(tmp_path / "Tweets.csv", ["tweet_id", "text", "airline"], rows)
    ws = tmp_path / "air"
    assert main(["init", str(ws)]) == 0
    assert main(["-w", str(ws), "import", str(f), "--app-col", "airline"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "'tweet_id' looks like the reviews' ids (unique, none empty)" in out and "--id-col tweet_id" in out
    assert main(["-w", str(ws), "import", str(f), "--app-col", "airline", "--id-col", "tweet_id"]) == 2
    err = capsys.readouterr().err
    assert "40 of 40 new rows have the text of reviews stored under ids made from their text" in err
    assert "nothing was imported" in err and "(--id-col none)" in err
    from reviewtui.workspace import Workspace

    assert Workspace.open(ws).store.count() == 40
    # a file with a reviewId column found by itself, imported first without it: the advice can be followed
    g = write_csv(tmp_path / "play.csv", ["reviewId", "content", "appId"],
                  [[f"gp:{i}", text, "United"] for i, (_, text, _) in enumerate(rows)])
    assert main(["-w", str(ws), "import", str(g)]) == 2
    assert "(--id-col none)" in capsys.readouterr().err
    assert main(["-w", str(ws), "import", str(g), "--id-col", "none"]) == 0
    assert "looks like the reviews' ids" not in capsys.readouterr().out  # asked for: no advice to the contrary
    assert Workspace.open(ws).store.count() == 40  # the same 40 reviews, under the ids made from their texts


def test_ctrl_c_while_the_copy_is_written_says_the_version_was_kept_and_the_rerun_writes_the_copy(
        labeled, tmp_path, capsys, monkeypatch):
    import reviewtui.version_formats as formats

    real = formats._write_hf

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(formats, "_write_hf", interrupted)
    code, out, err = run(capsys, "-w", str(labeled), "export", "--format", "hf", "--out", str(tmp_path / "hf"))
    assert code == 130 and out == ""
    assert err == ("interrupted: dataset-1 was written to versions/, its hf copy was not; the same command again "
                   "writes the copy (and no other version)\n")
    assert (labeled / "versions" / "dataset-1.csv").is_file() and not (tmp_path / "hf").exists()
    monkeypatch.setattr(formats, "_write_hf", real)
    code, out, err = run(capsys, "-w", str(labeled), "export", "--format", "hf", "--out", str(tmp_path / "hf"))
    assert code == 0 and "Nothing changed since dataset-1" in out and (tmp_path / "hf").is_dir()
    assert sorted(p.name for p in (labeled / "versions").glob("dataset-*.csv")) == ["dataset-1.csv"]


def test_an_out_path_that_cannot_be_written_says_the_version_was_written_all_the_same(labeled, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    code, out, err = run(capsys, "-w", str(labeled), "export", "--format", "jsonl", "--out",
                         str(tmp_path / "afile" / "x.jsonl"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"cannot write {tmp_path / 'afile' / 'x.jsonl'}: " in err
    assert "dataset-1 was written to versions/ all the same, and the same command with another --out writes its copy" \
        in err
    assert (labeled / "versions" / "dataset-1.csv").is_file()
