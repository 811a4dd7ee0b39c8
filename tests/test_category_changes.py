"""A category renamed or merged keeps its meaning everywhere: its former keys are remembered, so
predictions, versions, diffs, author statistics and agreement read them as the category it is now."""

from __future__ import annotations

import pytest
from test_predict import label_some

from reviewtui.categories import add_category, merge_categories, rename_category
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.store import LabelRow

ITEMS = [{"key": k, "name": k.title(), "colour": "#888888", "train": True} for k in ("BUG", "FEATURE", "PRAISE", "CRASH")]


def test_rename_and_merge_remember_the_former_keys():
    renamed = rename_category(ITEMS, "BUG", "Defect")
    assert renamed.items[0]["former_keys"] == ["BUG"]
    merged = merge_categories(renamed.items, ["crash"], "defect")
    taxonomy = Taxonomy.from_list(merged.items)
    assert taxonomy.keys == ["DEFECT", "FEATURE", "PRAISE"]
    assert taxonomy.get("DEFECT").former_keys == ("BUG", "CRASH")
    assert [taxonomy.current(k) for k in ("BUG", "CRASH", "DEFECT", "NOPE")] == ["DEFECT", "DEFECT", "DEFECT", "NOPE"]
    # a label file written with the old key still applies
    assert taxonomy.resolve("bug") == "DEFECT" and taxonomy.resolve("bug", former=False) is None
    # renamed back: the key in use is not its own former key
    back = Taxonomy.from_list(rename_category(merged.items, "Defect", "Bug").items)
    assert back.keys[0] == "BUG" and back.get("BUG").former_keys == ("CRASH", "DEFECT")
    # a former key stays its category's: a new category under it (by key or by a name that gives
    # it, as a swap of names would) would take over the old data's labels
    for add in (lambda: add_category(merged.items, "Crash"), lambda: add_category(merged.items, "Other", key="BUG"),
                lambda: rename_category(merged.items, "Feature", "Bug"),
                lambda: rename_category(merged.items, "Feature", "Bugs", new_key="CRASH")):
        with pytest.raises(ReviewtuiError, match=r"was a key of DEFECT \(Defect\) before a rename or merge"):
            add()
    # a file written by hand may give a key in use as a former key: the key in use wins
    hand = Taxonomy.from_list([{"name": "Defect", "former_keys": ["BUG", "PRAISE"]}, {"name": "Praise"}])
    assert hand.get("DEFECT").former_keys == ("BUG",) and hand.current("PRAISE") == "PRAISE"


def test_a_change_of_the_taxonomy_given_a_former_key_is_refused_with_where_it_went():
    """`categories rename Payment Billing` after Payment was merged into Refund renamed Refund,
    without a word; labels still read the former key as Refund."""
    from reviewtui.categories import remove_category, set_category

    merged = merge_categories(ITEMS, ["crash"], "bug")
    for change in (lambda: rename_category(merged.items, "Crash", "Outage"),
                   lambda: set_category(merged.items, "crash", train=False),
                   lambda: remove_category(merged.items, ["CRASH"], {}),
                   lambda: merge_categories(merged.items, ["crash"], "praise"),
                   lambda: merge_categories(merged.items, ["praise"], "crash")):
        with pytest.raises(ReviewtuiError, match=r"'(Crash|crash|CRASH)' is no longer a category: it was renamed to, "
                                                 r"or merged into, BUG \(Bug\); name BUG to change that category"):
            change()
    assert Taxonomy.from_list(merged.items).resolve("crash") == "BUG"


def test_former_keys_that_are_not_keys_are_refused():
    with pytest.raises(ReviewtuiError, match="former_keys must be a list of UPPER_SNAKE_CASE keys"):
        Taxonomy.from_list([{"name": "Defect", "former_keys": "BUG"}])
    with pytest.raises(ReviewtuiError, match="former_keys must be a list"):
        Taxonomy.from_list([{"name": "Defect", "former_keys": ["bug report"]}])


@pytest.fixture
def renamed_ws(analysis_ws):
    """analysis_ws with 24 labels by ann, a version, a quick model and a prediction, then bob renames
    USER_EXPERIENCE to UX, merges CONTENT into INTERFACE and exports a second version."""
    ws = analysis_ws
    ws.author = "ann"
    label_some(ws, 24)
    ws.export()
    ws.train(quick=True, name="before")
    ws.predict(model="before", sentiment="none")
    ws.author = "bob"
    assert ws.rename_category("USER_EXPERIENCE", "UX").moved == 6
    assert ws.merge_categories(["CONTENT"], "INTERFACE").moved == 6
    ws.export()
    return ws


def test_a_diff_across_a_rename_shows_no_relabel_and_sends_none_to_review(renamed_ws):
    ws = renamed_ws
    d = ws.diff("dataset-1", "dataset-2")
    assert d.counts == {"added": 0, "removed": 0, "relabeled": 0, "status_changed": 0, "renamed": 12,
                        "sentiment_changed": 0}
    assert d.rename_pairs == {"USER_EXPERIENCE -> UX": 6, "CONTENT -> INTERFACE": 6}
    assert ws.diff_to_review(d).moved == []
    # a person's relabel after the rename is still a relabel
    ws.label("r003", "SUBSCRIPTION")  # was USER_EXPERIENCE, then UX
    ws.export()
    d3 = ws.diff("dataset-1", "dataset-3")
    assert [(c.external_id, c.before, c.after) for c in d3.relabeled] == [("r003", "USER_EXPERIENCE", "SUBSCRIPTION")]
    assert d3.counts["renamed"] == 11
    stats = ws.quality_stats()
    assert (stats.versions[1].relabeled, stats.versions[1].renamed) == (0, d.rename_pairs)
    # the newer version first: the same rows, the other way round, renames still no relabels
    back = ws.diff("dataset-3", "dataset-1")
    assert (back.a, back.b) == ("dataset-3", "dataset-1")
    assert [(c.external_id, c.before, c.after, c.label) for c in back.relabeled] == [
        ("r003", "SUBSCRIPTION", "USER_EXPERIENCE", "USER_EXPERIENCE")]
    assert back.rename_pairs == {"UX -> USER_EXPERIENCE": 5, "INTERFACE -> CONTENT": 6}
    assert ws.diff_to_review(ws.diff("dataset-2", "dataset-1")).moved == []


def test_a_copy_of_a_version_from_before_a_rename_is_that_version(renamed_ws, tmp_path):
    """Its labels have other keys now, but the file is dataset-1's: registering it makes no version."""
    import shutil

    ws = renamed_ws
    copy = tmp_path / "mine.csv"
    shutil.copyfile(ws.version_info("dataset-1").csv_path, copy)
    (info,) = ws.import_versions([copy])
    assert info.name == "dataset-1" and info.manifest.get("again")
    assert [v.name for v in ws.versions()] == ["dataset-1", "dataset-2"]


def test_the_moves_of_a_rename_are_no_ones_labels(renamed_ws):
    ws = renamed_ws
    stats = ws.quality_stats()
    assert [(a.author, a.labels) for a in stats.authors] == [("ann", 24)]
    # bob labels two of ann's reviews as she did (under the new keys): they agree
    ws.label("r003", "UX")
    ws.label("r001", "INTERFACE")  # ann said CONTENT, merged into INTERFACE
    ag = ws.quality_stats().agreement
    assert ag.assets == 2 and ag.disagreements == []
    # the prediction's model learnt every label there is: the moves are not late labels
    stale = ws.prediction_staleness()
    assert stale.late_labels == 2  # bob's two labels, not the 12 moves
    assert stale.unknown_categories == ()  # the model knew UX and INTERFACE by their former keys


def test_a_model_trained_before_a_rename_predicts_under_the_new_key(renamed_ws):
    ws = renamed_ws
    summary = ws.summary()  # the prediction made before the rename
    assert {k for k, n in summary.categories.items() if n} <= {"SUBSCRIPTION", "INTERFACE", "UX"}
    assert summary.categories.sum() == 64
    with pytest.raises(ReviewtuiError, match="retrain"):  # a merge leaves it two labels for one category
        ws.predict(model="before", sentiment="none")
    # trained on the first version (old keys), the model learns the categories of today
    card = ws.train(version="dataset-1", quick=True, name="from-v1")
    assert card.labels == ["SUBSCRIPTION", "INTERFACE", "UX"]
    ws.store.add_labels([LabelRow("r040", "UX", "bob", "human")])
    res = ws.predict(model="from-v1", sentiment="none")
    assert set(res.counts) == {"SUBSCRIPTION", "INTERFACE", "UX"}


def test_a_rename_alone_keeps_a_saved_model_usable(analysis_ws):
    ws = analysis_ws
    label_some(ws, 24)
    ws.export()
    ws.train(quick=True, name="m")
    ws.rename_category("CONTENT", "Articles")
    res = ws.predict(model="m", sentiment="none")
    assert "ARTICLES" in res.counts and "CONTENT" not in res.counts
    assert ws.prediction_staleness().late_labels == 0
    # a label given after the model learnt its labels stays late when a rename moves it
    ws.label("r040", "ARTICLES")
    assert ws.prediction_staleness().late_labels == 1
    ws.rename_category("ARTICLES", "Stories")
    assert ws.prediction_staleness().late_labels == 1


def test_a_rename_killed_before_the_store_committed_is_finished_when_the_workspace_opens(analysis_ws):
    """reviewtui.toml was written (the new key, the former one kept) and the process died before
    the label moves were committed: every export left those labels out, and the rename again said
    there was nothing to move."""
    from reviewtui.workspace import Workspace

    ws = analysis_ws
    label_some(ws, 24)
    before = {e: ws.store.get(e).label for e in ws.store.labels_of([a.external_id for a in ws.store.iter_assets()])}
    content = [e for e, lab in before.items() if lab == "CONTENT"]
    assert content
    ws.config.set_categories(rename_category(ws.taxonomy.to_list(), "CONTENT", "Articles").items)  # the file alone
    ws.close()
    again = Workspace.open(ws.root)
    assert {again.store.get(e).label for e in content} == {"ARTICLES"}
    assert "CONTENT" not in again.store.label_keys()
    last = again.store.label_history(content[0])[-1]
    assert last.note.startswith("finished an interrupted category change: CONTENT to ARTICLES")
    info = again.export()
    assert info.manifest["counts_by_label"]["ARTICLES"] == len(content)
    assert "labels_not_in_taxonomy" not in info.manifest
    n = len(again.store.label_history())
    assert Workspace.open(ws.root).store.label_history().__len__() == n  # nothing to finish the next time


def test_a_category_added_after_the_prediction_is_named_with_what_to_do(analysis_ws, capsys):
    from reviewtui import presentation as say
    from reviewtui.cli import main

    ws = analysis_ws
    label_some(ws, 24)
    ws.predict(model="quick", sentiment="none")
    assert ws.prediction_staleness().unknown_categories == ()
    ws.add_category("Refunds")
    stale = ws.prediction_staleness()
    assert stale.stale and stale.unknown_categories == ("REFUNDS",)
    (line,) = say.stale_lines(stale)
    assert stale.unknown_names == ("Refunds",)
    assert "The last prediction's model does not know Refunds (no label of it when it learnt, or added since)" in line
    assert "label some, then `reviewtui predict --model quick`" in line
    assert main(["-w", str(ws.root), "summary"]) == 0
    assert "does not know Refunds" in " ".join(capsys.readouterr().out.split())
    ws.add_category("Spam", train=False)  # not a training category: nothing to predict there
    assert ws.prediction_staleness().unknown_categories == ("REFUNDS",)


def test_the_cli_diff_and_stats_name_the_category_changes(renamed_ws, capsys, monkeypatch):
    from reviewtui.cli import main

    monkeypatch.setenv("COLUMNS", "100")
    capsys.readouterr()
    assert main(["--workspace", str(renamed_ws.root), "diff", "dataset-1", "dataset-2"]) == 0
    out = capsys.readouterr().out
    assert "0 relabeled, 0 status changed, 12 moved with a renamed or merged category" in out
    assert "category change USER_EXPERIENCE -> UX: 6 (renamed or merged: not sent to review)" in out
    assert main(["--workspace", str(renamed_ws.root), "stats"]) == 0
    out = capsys.readouterr().out
    line = next(li for li in out.splitlines() if li.startswith("dataset-1 → dataset-2: "))
    assert line.startswith("dataset-1 → dataset-2: moved with a renamed or merged category: ")
    assert "USER_EXPERIENCE → UX 6" in line and "CONTENT → INTERFACE 6" in line


def test_the_stored_predictions_move_with_a_rename_so_the_predicted_filter_finds_them(analysis_ws):
    ws = analysis_ws
    ws.store.set_predictions({"r000": ("USER_EXPERIENCE", 0.9), "r001": ("CONTENT", 0.8), "r002": ("INTERFACE", 0.7)})
    ws.rename_category("USER_EXPERIENCE", "UX")
    ws.merge_categories(["CONTENT"], "INTERFACE")
    assert ws.store.predictions() == {"r000": ("UX", 0.9), "r001": ("INTERFACE", 0.8), "r002": ("INTERFACE", 0.7)}
    assert ws.find(["predicted=UX"]).ids == ["r000"]
    assert sorted(ws.find(["predicted=user_experience"]).ids) == ["r000"]  # the old key reads as UX


def test_a_persons_relabel_stays_a_relabel_when_its_categories_are_merged_later(analysis_ws):
    ws = analysis_ws
    label_some(ws, 8)
    ws.export()
    ws.label("r003", "INTERFACE")  # a person's relabel: USER_EXPERIENCE -> INTERFACE
    ws.export()
    ws.merge_categories(["USER_EXPERIENCE"], "INTERFACE")
    d = ws.diff("dataset-1", "dataset-2")
    assert [(c.external_id, c.before, c.after) for c in d.relabeled] == [("r003", "USER_EXPERIENCE", "INTERFACE")]
    assert d.renamed == []
    assert ws.quality_stats().versions[1].relabeled == 1
    ws.export()
    d3 = ws.diff("dataset-2", "dataset-3")  # r007, USER_EXPERIENCE until the merge, moved with it
    assert d3.relabeled == [] and [c.external_id for c in d3.renamed] == ["r007"]
    assert d3.renamed[0].note == "merged USER_EXPERIENCE into INTERFACE"


def test_undo_leaves_a_merge_or_rename_and_export_names_the_labels_of_no_category(analysis_ws):
    """undo right after a merge took back one review's move: the review got back a category the
    taxonomy no longer had, and export left it out without a word. Undo now refuses, nothing
    changed; a label of no category (a hand-edited reviewtui.toml) is named by export, as the
    labels --remove leaves out are."""
    from reviewtui.presentation import export_sentence

    ws = analysis_ws
    label_some(ws, 8)
    before = {a.external_id: a.label for a in ws.store.iter_assets()}
    moved = sum(1 for v in before.values() if v == "USER_EXPERIENCE")
    assert moved
    ws.merge_categories(["USER_EXPERIENCE"], "INTERFACE")
    after = {a.external_id: a.label for a in ws.store.iter_assets()}
    with pytest.raises(ReviewtuiError, match=r"your latest change is a category change \(merged USER_EXPERIENCE into "
                                             r"INTERFACE\): .*nothing was undone"):
        ws.undo()
    assert {a.external_id: a.label for a in ws.store.iter_assets()} == after
    ws.rename_category("INTERFACE", "Screens")
    with pytest.raises(ReviewtuiError, match="not a rename or merge"):
        ws.undo()
    # a label whose category is gone from the taxonomy, as a hand edit leaves it
    ws.store.add_label("r000", "GONE", author=ws.author)
    info = ws.export(remove=["CONTENT"])
    said = export_sentence(info, root=ws.root)
    assert info.manifest["labels_not_in_taxonomy"] == {"GONE": 1}
    assert "Left out, labels of no category of the taxonomy: GONE 1;" in said
    assert "`reviewtui categories add NAME --key GONE` brings the category back" in said
    assert info.manifest["labels_removed"] == {"CONTENT": 2} and "Left out, as --remove asked: CONTENT 2." in said


def test_a_hand_edit_left_invalid_keeps_the_last_reading_and_is_never_written_over(analysis_ws):
    from reviewtui.config import CONFIG_NAME

    ws = analysis_ws
    keys = ws.taxonomy.keys
    path = ws.root / CONFIG_NAME
    broken = "categories = 5\n" + path.read_text(encoding="utf-8")  # invalid: categories both a number and tables
    path.write_text(broken, encoding="utf-8")
    assert ws.taxonomy.keys == keys  # the last good reading
    with pytest.raises(ReviewtuiError, match="cannot be read now .*nothing was written: fix the file"):
        ws.add_category("Pricing")
    assert path.read_text(encoding="utf-8") == broken
    text = broken.replace("categories = 5\n", "", 1)  # mended: read again, and written to as usual
    path.write_text(text.replace('name = "Content"', 'name = "Articles"'), encoding="utf-8")
    assert ws.taxonomy.get("CONTENT").name == "Articles"
    ws.add_category("Pricing")
    assert "PRICING" in ws.taxonomy.keys and 'name = "Articles"' in path.read_text(encoding="utf-8")


def test_an_import_that_adds_categories_stops_when_the_taxonomy_changed_meanwhile(analysis_ws, tmp_path, monkeypatch):
    from tests.conftest import write_csv

    from reviewtui import ingest as wsmod
    from reviewtui.workspace import Workspace

    ws = analysis_ws
    data = write_csv(tmp_path / "labels.csv", ["id", "content", "label"], [["n1", "fees went up again", "Pricing"]])
    real = wsmod.read_reviews

    def read_while_the_cli_renames(*args, **kwargs):
        other = Workspace.open(ws.root)
        other.rename_category("CONTENT", "Articles")
        other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(wsmod, "read_reviews", read_while_the_cli_renames)
    with pytest.raises(ReviewtuiError, match="changed by another command during the import: nothing was imported"):
        ws.import_reviews([data], label_col="label", add_categories=True)
    assert ws.store.find("n1") is None and "ARTICLES" in ws.taxonomy.keys and "PRICING" not in ws.taxonomy.keys


def test_a_rename_or_merge_of_many_labels_says_so_before_it_starts(analysis_ws, capsys, monkeypatch):
    """One transaction of hundreds of thousands of moves takes a minute: the CLI says how many labels
    move first (on stderr), and says nothing for a rename that keeps the key (nothing moves)."""
    from reviewtui.cli import main
    from reviewtui.cli.commands import categories

    monkeypatch.setattr(categories, "SAY_MOVING", 5)
    label_some(analysis_ws, 24)
    root = str(analysis_ws.root)
    assert main(["-w", root, "categories", "rename", "USER_EXPERIENCE", "Experience", "--key", "USER_EXPERIENCE"]) == 0
    assert "moving" not in capsys.readouterr().err
    assert main(["-w", root, "categories", "rename", "USER_EXPERIENCE", "UX"]) == 0
    assert "moving 6 labels in one transaction" in capsys.readouterr().err
    assert main(["-w", root, "categories", "merge", "CONTENT", "UX", "--into", "INTERFACE"]) == 0
    assert "moving 12 labels in one transaction" in capsys.readouterr().err
