"""A team's own taxonomy: init from names or a preset, add, rename, merge, remove; history kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from reviewtui.categories import (PALETTE, add_category, add_unknown, apply_change, label_counts, load_preset,
                                  merge_categories, parse_names, remove_category, rename_category, set_category,
                                  taxonomy_from_names, unknown_labels, unknown_labels_error)
from reviewtui.config import CONFIG_NAME, DEFAULT_CATEGORIES, Config, Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.store import LabelRow, LocalStore, NewAsset

REPO = Path(__file__).resolve().parents[1]


def test_init_from_names():
    change = taxonomy_from_names(parse_names("Bug report, Feature request,  Praise , Other,"))
    assert [(i["key"], i["name"], i["train"]) for i in change.items] == [
        ("BUG_REPORT", "Bug report", True), ("FEATURE_REQUEST", "Feature request", True), ("PRAISE", "Praise", True),
        ("OTHER", "Other", True)]
    assert len({i["colour"] for i in change.items}) == 4
    with pytest.raises(ReviewtuiError, match="would both have the key BUG"):
        taxonomy_from_names(["Bug", "bug"])
    assert [i["key"] for i in taxonomy_from_names(["2fa", "1"]).items] == ["LABEL_2FA", "LABEL_1"]
    with pytest.raises(ReviewtuiError, match="at least one category"):
        taxonomy_from_names([])


@pytest.mark.parametrize("name", ["medium", "app-review"])
def test_presets_load_with_descriptions_and_examples(name):
    change = load_preset(REPO / "reviewtui" / "presets" / f"{name}.toml")
    taxonomy = Taxonomy.from_list(change.items)
    for c in taxonomy:
        assert c.description and 3 <= len(c.examples) <= 5
    if name == "medium":
        assert [{k: i[k] for k in ("key", "name", "colour", "train")} for i in change.items] == DEFAULT_CATEGORIES
    else:
        assert taxonomy.keys == ["BUG_REPORT", "FEATURE_REQUEST", "USER_EXPERIENCE", "RATING"]


def test_bad_preset_files(tmp_path):
    with pytest.raises(ReviewtuiError, match="no such taxonomy file"):
        load_preset(tmp_path / "nope.toml")
    (tmp_path / "x.toml").write_text("[workspace]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"no \[\[categories\]\] tables"):
        load_preset(tmp_path / "x.toml")
    (tmp_path / "y.toml").write_text("[[categories]]\nname = 'A'\nexamples = 'one'\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError, match="examples must be a list of strings"):
        load_preset(tmp_path / "y.toml")


def test_a_taxonomy_file_without_train_or_colour_follows_the_rules_of_categories(tmp_path):
    """Other is kept out of training and every category gets a palette colour, as with --categories;
    what the file sets is kept."""
    (tmp_path / "shop.toml").write_text(
        "[[categories]]\nname = 'Shipping'\ndescription = 'delivery'\n\n"
        "[[categories]]\nname = 'Product quality'\n\n[[categories]]\nname = 'Price'\n\n"
        "[[categories]]\nname = 'Other'\n", encoding="utf-8")
    from_file = load_preset(tmp_path / "shop.toml").items
    from_names = taxonomy_from_names(["Shipping", "Product quality", "Price", "Other"]).items
    assert [(i["key"], i["colour"], i["train"]) for i in from_file] == \
        [(i["key"], i["colour"], i["train"]) for i in from_names]
    assert [i["train"] for i in from_file] == [True, True, True, True]  # a catch-all is trained too
    assert all(i["colour"] in PALETTE for i in from_file) and len({i["colour"] for i in from_file}) == 4
    (tmp_path / "set.toml").write_text(
        "[[categories]]\nname = 'Shipping'\n\n[[categories]]\nname = 'Price'\ncolour = '#2E86AB'\ntrain = false\n\n"
        "[[categories]]\nname = 'other'\ntrain = true\n", encoding="utf-8")
    items = load_preset(tmp_path / "set.toml").items
    assert [(i["key"], i["train"]) for i in items] == [("SHIPPING", True), ("PRICE", False), ("OTHER", True)]
    # the set colour stays and is not given again to a category without one
    assert items[1]["colour"] == "#2E86AB" and len({i["colour"] for i in items}) == 3


def test_description_and_examples_round_trip_through_reviewtui_toml(tmp_path):
    data = Config.default_data("t")
    data["categories"] = load_preset("app-review").items
    from reviewtui.config import write_toml

    write_toml(tmp_path / CONFIG_NAME, data)
    cfg = Config.load(tmp_path / CONFIG_NAME)
    bug = cfg.taxonomy.get("BUG_REPORT")
    preset_bug = next(i for i in load_preset("app-review").items if i["key"] == "BUG_REPORT")
    assert bug.description == preset_bug["description"] and bug.description.startswith("Reports something")
    assert list(bug.examples) == preset_bug["examples"] and len(bug.examples) == 5
    assert "Since the last update" in bug.examples[0]
    assert tomllib.loads((tmp_path / CONFIG_NAME).read_text(encoding="utf-8"))["categories"][0]["examples"] == list(
        bug.examples)


@pytest.mark.parametrize(("line", "message"), [
    ("colour = 'reddish'", r"category 'PRICE': colour 'reddish' is not of the form #RRGGBB"),
    ("train = 'no'", r"category 'PRICE': train = 'no' must be true or false")])
def test_a_hand_edited_colour_or_train_flag_is_refused_when_the_workspace_opens(tmp_path, line, message):
    """A colour the charts cannot draw passed every command and broke `report` with a traceback; the
    string "no" read as training."""
    (tmp_path / CONFIG_NAME).write_text("[[categories]]\nname = 'Shipping'\n\n[[categories]]\nname = 'Price'\n"
                                        f"{line}\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=message):
        Config.load(tmp_path / CONFIG_NAME)


def test_a_taxonomy_with_no_trained_category_is_refused_when_the_workspace_opens(tmp_path):
    """`categories set --no-train` refuses to leave nothing to train on; written by hand, it passed,
    and export then said there was no label with a training category although 200 were given."""
    (tmp_path / CONFIG_NAME).write_text("[[categories]]\nname = 'Shipping'\ntrain = false\n\n[[categories]]\n"
                                        "name = 'Price'\ntrain = false\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"every category has train = false, so no model can be trained"):
        Config.load(tmp_path / CONFIG_NAME)


@pytest.fixture
def cfg_store(tmp_path):
    data = Config.default_data("t")
    data["categories"] = taxonomy_from_names(["Bug report", "Requirement", "Feature request", "Praise"]).items
    from reviewtui.config import write_toml

    write_toml(tmp_path / CONFIG_NAME, data)
    cfg = Config.load(tmp_path / CONFIG_NAME)
    store = LocalStore(tmp_path / "reviewtui.db", create=True)
    store.add_assets([NewAsset(f"a{i}", f"text {i}") for i in range(8)])
    store.add_labels([LabelRow("a0", "BUG_REPORT", "ann", "human"), LabelRow("a1", "REQUIREMENT", "ann", "human"),
                      LabelRow("a2", "REQUIREMENT", "ann", "human", status="REVIEWED"),
                      LabelRow("a3", "FEATURE_REQUEST", "ann", "human"),
                      LabelRow("a4", "REQUIREMENT", "ann", "human", skipped=True,
                               spans=[{"start": 0, "end": 4, "category": "REQUIREMENT"}])])
    yield cfg, store
    store.close()


def test_merge_writes_new_label_events_and_keeps_status_skip_and_history(cfg_store):
    cfg, store = cfg_store
    before = store.label_history()
    change = merge_categories(cfg.data["categories"], ["requirement"], "Feature request")
    moved = apply_change(store, change, cfg.set_categories, author="lead")
    assert moved == 3
    assert cfg.taxonomy.keys == ["BUG_REPORT", "FEATURE_REQUEST", "PRAISE"]
    assert Config.load(cfg.path).taxonomy.keys == cfg.taxonomy.keys  # saved
    assert {a.external_id: (a.label, a.status, a.skipped) for a in store.iter_assets(labeled=True)} == {
        "a0": ("BUG_REPORT", "LABELED", False), "a1": ("FEATURE_REQUEST", "LABELED", False),
        "a2": ("FEATURE_REQUEST", "REVIEWED", False), "a3": ("FEATURE_REQUEST", "LABELED", False),
        "a4": ("FEATURE_REQUEST", "LABELED", True)}
    history = store.label_history()
    assert history[:len(before)] == before  # never rewritten
    new = history[len(before):]
    assert {e.external_id for e in new} == {"a1", "a2", "a4"}
    assert all(e.note == "merged REQUIREMENT into FEATURE_REQUEST" and e.author == "lead" for e in new)
    assert store.latest_spans("a4") == [{"start": 0, "end": 4, "category": "REQUIREMENT"}]
    # undo brings the old label back, as for any label event
    store.undo_last(external_id="a1")
    assert store.get("a1").label == "REQUIREMENT"


def test_rename_moves_labels_to_the_new_key_and_a_name_only_rename_moves_none(cfg_store):
    cfg, store = cfg_store
    change = rename_category(cfg.data["categories"], "BUG_REPORT", "Defect")
    assert change.relabel == {"BUG_REPORT": "DEFECT"}
    assert apply_change(store, change, cfg.set_categories, author="lead") == 1
    assert store.get("a0").label == "DEFECT" and cfg.taxonomy.get("DEFECT").name == "Defect"
    same_key = rename_category(cfg.data["categories"], "Defect", "DEFECT")
    assert same_key.relabel == {} and apply_change(store, same_key, cfg.set_categories, author="x") == 0
    with pytest.raises(ReviewtuiError, match="categories merge PRAISE --into FEATURE_REQUEST"):
        rename_category(cfg.data["categories"], "Praise", "Feature request")
    # another category's name under a new key: a label given by that name would pick one of two
    cats = [dict(c, name="Customer praise") if c["key"] == "PRAISE" else c for c in cfg.data["categories"]]
    with pytest.raises(ReviewtuiError, match="already has PRAISE named 'customer praise'; choose another name"):
        rename_category(cats, "Defect", "customer praise", new_key="PRAISE_2")


def test_a_failed_save_moves_no_label(cfg_store):
    cfg, store = cfg_store

    def fail(items):
        raise ReviewtuiError("disk full")

    change = merge_categories(cfg.data["categories"], ["REQUIREMENT"], "FEATURE_REQUEST")
    with pytest.raises(ReviewtuiError, match="disk full"):
        apply_change(store, change, fail, author="x")
    assert label_counts(store)["REQUIREMENT"] == 3 and cfg.taxonomy.resolve("REQUIREMENT")


def test_add_and_remove(cfg_store):
    cfg, store = cfg_store
    change = add_category(cfg.data["categories"], "Security", description="Privacy and safety worries",
                          examples=["My account was hacked"])
    apply_change(store, change, cfg.set_categories, author="x")
    assert cfg.taxonomy.get("SECURITY").examples == ("My account was hacked",)
    with pytest.raises(ReviewtuiError, match="already has SECURITY"):
        add_category(cfg.data["categories"], "security")
    with pytest.raises(ReviewtuiError, match=r"3 reviews are labeled REQUIREMENT.*categories merge REQUIREMENT"):
        remove_category(cfg.data["categories"], "Requirement", label_counts(store))
    apply_change(store, remove_category(cfg.data["categories"], "security", label_counts(store)), cfg.set_categories,
                 author="x")
    assert "SECURITY" not in cfg.taxonomy.keys
    with pytest.raises(ReviewtuiError, match="no category 'Nope'"):
        merge_categories(cfg.data["categories"], ["Nope"], "PRAISE")
    with pytest.raises(ReviewtuiError, match="into itself"):
        merge_categories(cfg.data["categories"], ["PRAISE"], "praise")


def test_set_changes_train_colour_and_description_and_moves_no_label(cfg_store):
    cfg, store = cfg_store
    before = store.label_history()
    change = set_category(cfg.data["categories"], "praise", train=False, colour="#12ab3c",
                          description="  Kind words  ")
    assert change.note == "set PRAISE: not trained, colour #12AB3C, new description" and change.relabel == {}
    assert apply_change(store, change, cfg.set_categories, author="x") == 0
    praise = Config.load(cfg.path).taxonomy.get("PRAISE")
    assert (praise.train, praise.colour, praise.description) == (False, "#12AB3C", "Kind words")
    assert "PRAISE" not in cfg.taxonomy.training_keys and store.label_history() == before
    apply_change(store, set_category(cfg.data["categories"], "PRAISE", train=True, description=""),
                 cfg.set_categories, author="x")
    assert cfg.taxonomy.get("PRAISE").train and cfg.taxonomy.get("PRAISE").description == ""
    assert cfg.taxonomy.get("PRAISE").colour == "#12AB3C"


def test_set_replaces_or_adds_examples(cfg_store):
    cfg, store = cfg_store
    before = store.label_history()
    change = set_category(cfg.data["categories"], "praise", examples=["love it", " great app "])
    assert change.note == "set PRAISE: 2 examples" and change.relabel == {}
    apply_change(store, change, cfg.set_categories, author="x")
    assert Config.load(cfg.path).taxonomy.get("PRAISE").examples == ("love it", "great app")
    apply_change(store, set_category(cfg.data["categories"], "PRAISE", add_examples=["five stars", "love it"]),
                 cfg.set_categories, author="x")
    assert cfg.taxonomy.get("PRAISE").examples == ("love it", "great app", "five stars")
    apply_change(store, set_category(cfg.data["categories"], "PRAISE", examples=["only this"], add_examples=["and this"]),
                 cfg.set_categories, author="x")
    assert cfg.taxonomy.get("PRAISE").examples == ("only this", "and this")
    apply_change(store, set_category(cfg.data["categories"], "PRAISE", examples=[]), cfg.set_categories, author="x")
    assert cfg.taxonomy.get("PRAISE").examples == () and store.label_history() == before
    with pytest.raises(ReviewtuiError, match="an example is blank"):
        set_category(cfg.data["categories"], "PRAISE", add_examples=["  "])


def test_set_refuses_a_bad_colour_nothing_to_do_an_unknown_name_and_no_category_left_to_train(cfg_store):
    cfg, _ = cfg_store
    items = cfg.data["categories"]
    for colour in ("red", "#12345", "#1234567", "12ab3c", "#GGGGGG"):
        with pytest.raises(ReviewtuiError, match="is not a colour of the form #RRGGBB"):
            set_category(items, "PRAISE", colour=colour)
    with pytest.raises(ReviewtuiError, match="is not a colour of the form #RRGGBB"):
        add_category(items, "Security", colour="blue")
    with pytest.raises(ReviewtuiError, match="nothing to change for PRAISE"):
        set_category(items, "Praise")
    with pytest.raises(ReviewtuiError, match=r"no category 'Prase' \(did you mean PRAISE\?\)"):
        set_category(items, "Prase", train=False)
    for key in ("BUG_REPORT", "REQUIREMENT", "FEATURE_REQUEST"):
        items = set_category(items, key, train=False).items
    with pytest.raises(ReviewtuiError, match="with PRAISE untrained no category is left to train a model on"):
        set_category(items, "PRAISE", train=False)


def test_import_labels_outside_the_taxonomy_are_listed_with_counts():
    taxonomy = Taxonomy.from_list(taxonomy_from_names(["Bug report", "Feature request"]).items)
    labels = ["bug report", "Bug Report", "requirement", "Requirement", "requirement", None, "", "rating",
              "FEATURE_REQUEST"]
    unknown = unknown_labels(labels, taxonomy)
    assert [(u.key, u.rows, u.name) for u in unknown] == [("REQUIREMENT", 3, "requirement"), ("RATING", 1, "rating")]
    msg = str(unknown_labels_error("reviews.csv", unknown, taxonomy))
    assert msg.startswith("reviews.csv: 2 labels not in the taxonomy (BUG_REPORT, FEATURE_REQUEST): "
                          "'requirement' (3 rows), 'rating' (1 row)")
    assert "--add-categories" in msg
    added = add_unknown(taxonomy.to_list(), unknown)
    assert Taxonomy.from_list(added.items).keys == ["BUG_REPORT", "FEATURE_REQUEST", "REQUIREMENT", "RATING"]
    assert unknown_labels(labels, Taxonomy.from_list(added.items)) == []


def test_a_label_spelled_with_other_spaces_and_signs_resolves_to_its_category():
    """What a team's label column holds for "Sizing/fit" and "Price/value": the same key, so the same
    category, in an import's --label-col as in `label`."""
    tax = Taxonomy.from_list([{"key": "SIZING_FIT", "name": "Sizing/fit"}, {"key": "PRICE_VALUE", "name": "Price/value"},
                              {"key": "OTHER", "name": "Other", "train": False}], where="test")
    for spelling in ("Sizing / Fit", "sizing-fit", " SIZING_FIT ", "Sizing/fit"):
        assert tax.resolve(spelling) == "SIZING_FIT"
    assert tax.resolve("Price value") == "PRICE_VALUE"
    assert tax.resolve("Sizing") is None and tax.resolve("") is None and tax.resolve("  ") is None
    assert [u.key for u in unknown_labels(["Sizing / Fit", "price-value", "Shipping"], tax)] == ["SHIPPING"]


def test_a_label_written_exactly_as_a_name_is_that_category_not_a_key_in_other_case():
    """Key CRASH named "Stability" beside key BUGS named "crash": "crash" is BUGS's name as written,
    and every such label went to CRASH."""
    tax = Taxonomy.from_list([{"key": "CRASH", "name": "Stability"}, {"key": "BUGS", "name": "crash"}], where="test")
    assert tax.resolve("crash") == "BUGS" and tax.resolve(" crash ") == "BUGS"
    assert tax.resolve("CRASH") == "CRASH" and tax.resolve("Stability") == "CRASH"
    assert tax.resolve("Crash") == "CRASH"  # neither as written: a key wins over a name, as before
    assert [u.key for u in unknown_labels(["crash", "CRASH", "bugs"], tax)] == []


def test_an_empty_category_name_is_refused_where_it_was_given(tmp_path):
    with pytest.raises(ReviewtuiError, match=r"name #2 is empty \(two commas in a row\?\)"):
        parse_names("Shipping, , Price")
    assert parse_names("Shipping, Price,") == ["Shipping", "Price"]  # a trailing comma is fine
    with pytest.raises(ReviewtuiError, match=r"shop.toml: category #1 has an empty name; give it one"):
        Taxonomy.from_list([{"name": "  "}, {"name": "A"}], where="shop.toml")
    with pytest.raises(ReviewtuiError, match="categories add needs a name"):
        add_category([{"key": "A", "name": "A"}], " ")


def test_an_unknown_labels_error_says_how_this_backend_adds_a_category(tmp_path):
    """On a Kili workspace `categories add` is refused: an unknown label's error points to the
    Kili project's interface and a pull instead, after set_categories too; a local one to
    `categories add`."""
    from reviewtui.config import write_toml

    for backend, wanted, unwanted in (("kili", "Kili project's interface", "categories add"),
                                      ("local", "reviewtui categories add", "Kili")):
        path = tmp_path / backend / CONFIG_NAME
        path.parent.mkdir()
        write_toml(path, Config.default_data("t", backend=backend))
        cfg = Config.load(path)
        for _ in range(2):
            with pytest.raises(ReviewtuiError) as err:
                cfg.taxonomy.require("BOGUS", "line 3")
            assert wanted in str(err.value) and unwanted not in str(err.value)
            cfg.set_categories([dict(i) for i in cfg.data["categories"]])


def test_a_taxonomy_with_no_categories_says_how_to_write_them():
    from reviewtui.config import Taxonomy
    from reviewtui.errors import ReviewtuiError

    with pytest.raises(ReviewtuiError, match=r'reviewtui.toml: the taxonomy has no categories; add them as '
                                             r'\[\[categories\]\] tables, each with a name \(name = "Bug report"\)'):
        Taxonomy.from_list([], where="reviewtui.toml")


def test_every_category_gets_its_own_colour_past_the_palette():
    """A fourteenth category took the first one's colour, and `categories add` a used one again."""
    from reviewtui.categories import PALETTE, add_category, taxonomy_from_names

    items = taxonomy_from_names([f"Category {i}" for i in range(30)]).items
    colours = [i["colour"] for i in items]
    assert colours[:len(PALETTE)] == list(PALETTE) and len(set(colours)) == 30
    more = add_category(items, "One more").items
    assert more[-1]["colour"] not in colours


def test_the_other_selection_looks_into_the_catch_all_named_other_even_when_it_is_trained():
    """init --categories "Bugs, Billing, Praise, Other" trains all four; train advised leaving Praise
    (one label) out of training, and discover --in other then looked into Praise alone."""
    from reviewtui.loop.discover import other_keys

    items = set_category(taxonomy_from_names(["Bugs", "Billing", "Praise", "Other"]).items, "PRAISE", train=False).items
    assert other_keys(Taxonomy.from_list(items)) == ["PRAISE", "OTHER"]
    assert other_keys(Taxonomy.from_list(taxonomy_from_names(["Bugs", "Billing"]).items)) == []


def test_a_hand_edited_taxonomy_with_two_categories_of_one_name_or_an_unknown_key_is_refused(tmp_path):
    """"Praise" on OTHER beside PRAISE's "Praise" sent a Praise label to OTHER; a misspelled
    `descripton` was read as nothing and dropped at the next write; a name of a list was stored."""
    with pytest.raises(ReviewtuiError, match=r"t.toml: categories PRAISE \('Praise'\) and OTHER \('praise'\) have "
                                             r"the same name in another case or spacing.*rename one"):
        Taxonomy.from_list([{"key": "PRAISE", "name": "Praise"}, {"key": "OTHER", "name": "praise "}], where="t.toml")
    with pytest.raises(ReviewtuiError, match=r"t.toml: category #2 \(Praise\): unknown key 'descripton' \(did you "
                                             r"mean 'description'\?\); a category takes colour, description"):
        Taxonomy.from_list([{"name": "Bug"}, {"name": "Praise", "descripton": "kind words"}], where="t.toml")
    with pytest.raises(ReviewtuiError, match=r"t.toml: category #1: name = \['a'\] must be a string"):
        Taxonomy.from_list([{"name": ["a"]}], where="t.toml")
    tax = Taxonomy.from_list([{"name": " Bug report "}, {"name": "Praise"}])
    assert tax.get("BUG_REPORT").name == "Bug report"  # stripped, as the CLI's names are
    # names that differ in signs only, with keys of their own, load as before and are told apart
    tax = Taxonomy.from_list([{"key": "CPP", "name": "C++"}, {"key": "CSHARP", "name": "C#"}])
    assert tax.resolve("C++") == "CPP" and tax.resolve("C#") == "CSHARP"


def test_a_workspace_whose_toml_names_two_categories_alike_is_one_error_line(tmp_path, capsys):
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    Workspace.init(tmp_path / "ws", categories="Bug report, Praise, Other").close()
    toml = tmp_path / "ws" / "reviewtui.toml"
    toml.write_text(toml.read_text().replace('name = "Other"', 'name = "Praise"'))
    assert main(["-w", str(tmp_path / "ws"), "status"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "categories PRAISE ('Praise') and OTHER ('Praise') have the same name" in err


def test_a_symlinked_reviewtui_toml_is_written_through(tmp_path):
    """A workspace whose reviewtui.toml links to a team's shared file: a change replaced the link
    with a file of its own, and the shared file never saw it."""
    from reviewtui.workspace import Workspace

    Workspace.init(tmp_path / "ws", categories="Bug, Praise").close()
    shared = tmp_path / "team" / "team.toml"
    shared.parent.mkdir()
    (tmp_path / "ws" / "reviewtui.toml").rename(shared)
    (tmp_path / "ws" / "reviewtui.toml").symlink_to(shared)
    ws = Workspace.open(tmp_path / "ws")
    ws.config.set_categories([*ws.taxonomy.to_list(), {"name": "Pricing"}])
    ws.close()
    assert (tmp_path / "ws" / "reviewtui.toml").is_symlink()
    assert 'name = "Pricing"' in shared.read_text()
    assert [p.name for p in shared.parent.iterdir()] == ["team.toml"]  # no temporary file left beside it


def test_add_refuses_a_blank_example_as_set_does(cfg_store):
    """`categories add W --example ""` wrote examples = [""] to reviewtui.toml."""
    cfg, _ = cfg_store
    with pytest.raises(ReviewtuiError, match=r"categories add Wishes: an example is blank"):
        add_category(cfg.data["categories"], "Wishes", examples=["dark mode please", " "])
    change = add_category(cfg.data["categories"], "Wishes", examples=[" dark mode please "])
    assert change.items[-1]["examples"] == ["dark mode please"]


def test_a_change_keeps_the_teams_comments_in_reviewtui_toml(tmp_path):
    """Any taxonomy or settings change wrote the file afresh: a team's comments were lost."""
    import tomllib

    from reviewtui.workspace import Workspace

    Workspace.init(tmp_path / "ws", categories="Bug report, Praise").close()
    toml = tmp_path / "ws" / "reviewtui.toml"
    toml.write_text(toml.read_text().replace("[training]", "# team note: keep the epochs low\n[training]")
                    .replace('name = "Praise"', 'name = "Praise"  # kind words only'))
    ws = Workspace.open(tmp_path / "ws")
    ws.config.set_categories([*ws.taxonomy.to_list(), {"name": "Pricing"}])
    ws.config.update_section("training", {"epochs": 3})
    for i in range(3):  # written again and again: the same layout, no blank lines piling up
        ws.config.set_categories([*ws.taxonomy.to_list()[:-1], {**ws.taxonomy.to_list()[-1], "description": f"d{i}"}])
    ws.close()
    text = toml.read_text()
    assert "# team note: keep the epochs low\n[training]" in text and 'name = "Praise"  # kind words only' in text
    assert "\n\n\n" not in text
    data = tomllib.loads(text)
    assert data["training"]["epochs"] == 3
    assert [c["name"] for c in data["categories"]] == ["Bug report", "Praise", "Pricing"]
    assert data["categories"][-1]["description"] == "d2"
    assert Workspace.open(tmp_path / "ws").taxonomy.get("PRICING").description == "d2"
