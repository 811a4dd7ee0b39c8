"""The app as a dimension: counts by app in the store and status, result.csv's app column, the
summary and the report filtered and compared by app and by app x version, and findings that
respect their sample (n stated, Wilson intervals, groups of at least [findings] min_group_size)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from reviewtui.analysis.report import findings
from reviewtui.analysis.summary import summarize
from reviewtui.cli import main
from reviewtui.errors import ReviewtuiError
from reviewtui.store import NewAsset

KEYS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (stdout with the console's line wrapping undone,
    unless it is JSON)."""
    code = main(list(argv))
    out = capsys.readouterr()
    text = out.out if "--json" in argv else " ".join(out.out.split())
    return code, text, out.err


def result_rows(groups, seed: int = 3) -> list[dict[str, str]]:
    """result.csv rows: ``groups`` is (app, version, reviews, negative share, category weights)."""
    rng = random.Random(seed)
    rows = []
    for app, version, n, neg, weights in groups:
        for i in range(n):
            negative = i < round(n * neg)
            rows.append({"reviewId": f"{app}-{version}-{i}", "content": "text", "score": "1" if negative else "5",
                         "app": app, "reviewCreatedVersion": version, "at": "", "thumbsUpCount": "0",
                         "predicted_category": rng.choices(KEYS, weights)[0], "confidence": "0.9",
                         "sentiment": "negative" if negative else "positive", "sentiment_score": "0",
                         "model": "m"})
    return rows


def frame(rows):
    import pandas as pd

    return pd.DataFrame(rows, dtype=str)


EVEN = [1, 1, 1, 1]
# Three apps. Waze's versions must be ordered as versions (4.10 is its latest, not 4.9), and its
# latest is clearly more negative, with INTERFACE rising. "Mail" has a single negative review of
# version 99.1: sorting every app's versions together makes 99.1 "the latest version", which is
# what the old report wrote as "The latest version 99.1 (1 review) is more negative than the
# earlier ones: 100.0% negative".
MULTI_APP = [
    ("Facebook", "96.1", 80, 0.30, EVEN), ("Facebook", "97.0", 70, 0.33, EVEN),
    ("Waze", "4.8", 60, 0.20, EVEN), ("Waze", "4.9", 60, 0.22, EVEN), ("Waze", "4.10", 60, 0.70, [1, 1, 6, 1]),
    ("Mail", "99.1", 1, 1.0, EVEN),
]


def test_a_single_review_of_another_app_is_not_the_latest_version():
    s = summarize(frame(result_rows(MULTI_APP)), categories=KEYS)
    all_versions = sorted({r[1] for r in MULTI_APP}, key=lambda v: [int(p) for p in v.split(".")])
    assert all_versions[-1] == "99.1"  # what "latest" was when every app's versions were sorted together
    text = findings(s)
    assert not any("99.1" in t or "(1 review)" in t or "Mail" in t for t in text), text
    assert s.latest_version is None  # several apps: each has its own latest
    assert {a: v["version"] for a, v in s.latest_by_app.items()} == {"Facebook": "97.0", "Mail": "99.1",
                                                                       "Waze": "4.10"}
    waze = [t for t in text if t.startswith("Waze:")]
    assert waze == [next(t for t in text if "Waze: the latest version 4.10 (60 reviews) is more negative than the "
                                             "earlier ones (120 reviews): 70.0% negative (95% CI" in t)]
    assert "INTERFACE rises to" in waze[0]
    fb = next(t for t in text if t.startswith("Facebook:"))
    assert "is not clearly more or less negative" in fb  # 33% against 30% with n = 70 and 80
    # every finding states its n; every share has its interval; no group under 30 reviews
    for f in s.findings:
        assert f.n >= 30 and (f.share is None or f.share.n >= 30)
    assert all("review" in t for t in text) and all("95% CI" in t for t in text if "%" in t)
    # versions ordered as versions within each app, apps apart
    order = [(r["app"], r["version"]) for _, r in s.by_app_version.iterrows()]
    assert order == [("Facebook", "96.1"), ("Facebook", "97.0"), ("Mail", "99.1"), ("Waze", "4.8"), ("Waze", "4.9"),
                     ("Waze", "4.10")]
    assert list(s.by_app.index) == ["Facebook", "Mail", "Waze"] and list(s.by_app["latest_version"]) == \
        ["97.0", "99.1", "4.10"]
    waze_row = s.by_app.loc["Waze"]
    assert waze_row["reviews"] == 180 and waze_row["negative_low"] < waze_row["negative_share"] < waze_row["negative_high"]
    json.dumps(s.to_dict())


def test_the_most_negative_app_is_named_only_when_clearly_apart():
    rows = result_rows([("A", "1.0", 100, 0.80, EVEN), ("B", "1.0", 100, 0.20, EVEN), ("C", "1.0", 100, 0.25, EVEN)])
    text = findings(summarize(frame(rows), categories=KEYS))
    assert any(t.startswith("A has the most negative reviews of the 3 apps: 80.0% (95% CI") for t in text)
    close = result_rows([("A", "1.0", 40, 0.30, EVEN), ("B", "1.0", 40, 0.25, EVEN)])
    assert not any("most negative reviews of" in t for t in findings(summarize(frame(close), categories=KEYS)))
    # two apps alike above the rest: neither is "the most negative" (each is clearly above the rest
    # together, not above the other)
    twins = result_rows([("A", "1.0", 300, 0.60, EVEN), ("A2", "1.0", 300, 0.60, EVEN), ("B", "1.0", 300, 0.10, EVEN),
                         ("C", "1.0", 300, 0.10, EVEN)])
    assert not any("most negative reviews of" in t for t in findings(summarize(frame(twins), categories=KEYS)))


def test_the_most_negative_category_needs_two_groups_large_enough():
    # 60 reviews, nearly all CONTENT: the only category of 30 or more is not "the most negative" of one
    rows = result_rows([("A", "1.0", 60, 0.1, [1, 60, 1, 1])], seed=5)
    kinds = [f.kind for f in summarize(frame(rows), categories=KEYS).findings]
    assert "largest_category" in kinds and "most_negative_category" not in kinds
    rows = result_rows([("A", "1.0", 120, 0.5, [1, 1, 0, 0])], seed=5)
    # two of 60, alike: neither is "the most negative" (their intervals overlap)
    assert "most_negative_category" not in [f.kind for f in summarize(frame(rows), categories=KEYS).findings]
    for r in rows:  # the negative ones all of one category now: beyond doubt the most negative
        r["predicted_category"] = KEYS[0] if r["sentiment"] == "negative" else KEYS[1]
    assert "most_negative_category" in [f.kind for f in summarize(frame(rows), categories=KEYS).findings]


def test_the_group_size_comes_from_the_settings():
    rows = result_rows([("Waze", "4.9", 12, 0.1, EVEN), ("Waze", "4.10", 12, 0.9, EVEN)])
    assert not [f for f in summarize(frame(rows), categories=KEYS).findings if f.kind == "latest_version"]
    s = summarize(frame(rows), categories=KEYS, min_group_size=10)
    latest = next(f for f in s.findings if f.kind == "latest_version")
    assert latest.app == "Waze" and latest.direction == "more" and latest.n == 12


def test_app_filter_and_its_errors():
    rows = frame(result_rows(MULTI_APP))
    s = summarize(rows, categories=KEYS, app="waze")  # any case
    assert s.app == "Waze" and s.apps == ["Waze"] and s.reviews == 180 and s.latest_version == "4.10"
    assert list(s.by_version.index) == ["4.8", "4.9", "4.10"]
    assert summarize(rows, categories=KEYS, app="Waze", app_version="4.9").reviews == 60
    with pytest.raises(ReviewtuiError, match=r"no reviews of app 'Wase'; the apps are: Waze, Facebook, Mail"):
        summarize(rows, app="Wase")
    with pytest.raises(ReviewtuiError, match=r"no reviews of app version '5.0' of Waze; the versions are: 4.8, 4.9, 4.10"):
        summarize(rows, app="Waze", app_version="5.0")


def test_a_version_filter_across_apps_names_each_apps_latest_version():
    """`summary --app-version 1.0` over two apps named A's latest as 1.0 and left out B, whose latest
    version (2.0) the filter took away."""
    from reviewtui.analysis.report import latest_text

    rows = frame(result_rows([("A", "1.0", 40, 0.2, EVEN), ("B", "1.0", 40, 0.2, EVEN), ("B", "2.0", 40, 0.2, EVEN)]))
    s = summarize(rows, categories=KEYS, app_version="1.0")
    assert s.several_apps and s.reviews == 80
    assert latest_text(s) == "latest versions: A 1.0, B 2.0"


def write_results(ws, rows) -> Path:
    path = ws.results_dir / "result.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_cli_summary_and_report_by_app(workspace, capsys):
    write_results(workspace, result_rows(MULTI_APP))
    root = str(workspace.root)
    code, out, _ = run(capsys, "-w", root, "summary")
    assert code == 0
    assert "331 reviews (3 apps, all app versions" in out and "Per app" in out and "Per app and version" in out
    assert "Waze: the latest version 4.10 (60 reviews) is more negative" in out
    assert "99.1 (1 review)" not in out and "groups of at least 30 reviews" in out
    code, out, _ = run(capsys, "-w", root, "summary", "--app", "Waze", "--json")
    data = json.loads(out)
    assert code == 0 and data["app"] == "Waze" and data["latest_version"] == "4.10"
    assert list(data["by_version"]) == ["4.8", "4.9", "4.10"]
    assert [f["kind"] for f in data["findings"]].count("latest_version") == 1
    code, out, _ = run(capsys, "-w", root, "report")
    assert code == 0
    md = (workspace.results_dir / "report.md").read_text(encoding="utf-8")
    assert "## Per app\n" in md and "## Per app and app version" in md
    assert "Waze: the latest version 4.10 (60 reviews) is more negative" in md and "99.1 (1 review)" not in md
    assert (workspace.results_dir / "charts" / "by_app.png").is_file()
    assert (workspace.results_dir / "charts" / "by_app_version.png").is_file()
    with open(workspace.results_dir / "tables" / "by_app_version.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    # app and version in two columns, a spreadsheet sorts and filters by each
    assert list(table[0])[:3] == ["app", "version", "reviews"]
    assert [(r["app"], r["version"]) for r in table][-3:] == [("Waze", "4.8"), ("Waze", "4.9"), ("Waze", "4.10")]
    assert "| app | version | reviews |" in (workspace.results_dir / "report.md").read_text(encoding="utf-8")
    for name in ("version_category", "version_negative_share"):  # "Waze 4.10" in one cell could not be split
        with open(workspace.results_dir / "tables" / f"{name}.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0])[:2] == ["app", "version"] and ("Waze", "4.10") in [(r["app"], r["version"]) for r in rows]
    code, out, _ = run(capsys, "-w", root, "report", "--app", "Waze")
    assert code == 0 and "3 apps" not in (workspace.results_dir / "report.md").read_text(encoding="utf-8")
    code, _, err = run(capsys, "-w", root, "summary", "--app", "Nope")
    assert code == 2 and err.count("\n") == 1 and "no reviews of app 'Nope'" in err
    code, _, err = run(capsys, "-w", root, "summary", "--app-version", "9.9")  # each app's versions, named
    assert code == 2 and "the latest versions by app are" in err and "Waze: 4.8, 4.9, 4.10" in err
    assert "(--app narrows to one)" in err


def test_counts_by_app_read_the_index(workspace):
    store = workspace.store
    store.add_assets([NewAsset(f"a{i}", f"text {i}", {"app": "A" if i % 3 else "B", "app_version": f"1.{i % 2}"})
                      for i in range(30)] + [NewAsset("none", "no app", {})])
    assert store.counts_by_app() == {"A": 20, "B": 10, None: 1}
    assert store.counts_by_app_version()[("A", "1.1")] == 10 and store.counts_by_app_version()[(None, None)] == 1
    for sql in ("SELECT json_extract(metadata, '$.app'), COUNT(*) FROM assets GROUP BY json_extract(metadata, '$.app')",
                "SELECT json_extract(metadata, '$.app'), json_extract(metadata, '$.app_version'), COUNT(*) FROM "
                "assets GROUP BY json_extract(metadata, '$.app'), json_extract(metadata, '$.app_version')"):
        plan = " ".join(str(r[3]) for r in store._read("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX assets_app" in plan and "TEMP B-TREE" not in plan, plan
    assert store.existing_ids_of_app(["a1", "a3", "none", "zzz"], "A") == {"a1", "none"}


def test_a_store_made_before_the_app_index_gets_it_on_open(tmp_path):
    import sqlite3

    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    ws.close()
    db = sqlite3.connect(tmp_path / "ws" / "reviewtui.db")
    db.execute("DROP INDEX assets_app")
    db.execute("CREATE INDEX assets_meta_app ON assets(json_extract(metadata, '$.app'))")  # what they had
    db.commit()
    db.close()
    ws = Workspace.open(tmp_path / "ws")
    names = {r[0] for r in ws.store._read("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "assets_app" in names and "assets_meta_app" not in names
    ws.close()


def write_app_folders(root: Path, rng: random.Random) -> dict[str, str]:
    """exports/<app>/reviews.csv for two apps of 40 synthetic reviews each (google-play-scraper
    columns); returns the true label of each review id."""
    from modeling_fixtures import LABELS, review_text

    truth = {}
    for app, versions in (("com.alpha.app", ["2.9.0", "2.10.0"]), ("com.beta.app", ["1.0.0", "1.1.0"])):
        folder = root / app
        folder.mkdir(parents=True)
        with open(folder / "reviews.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["reviewId", "content", "score", "thumbsUpCount", "reviewCreatedVersion", "at"])
            for i in range(40):
                label = LABELS[i % 4]
                rid = f"{app}-{i}"
                truth[rid] = label
                w.writerow([rid, review_text(label, rng), 1 + i % 5, 0, versions[i % 2], "2026-01-01 10:00:00"])
    return truth


def test_the_app_goes_from_import_through_predict_to_the_report(tmp_path, capsys):
    root = tmp_path / "ws"
    truth = write_app_folders(tmp_path / "exports", random.Random(4))
    assert run(capsys, "init", str(root))[0] == 0
    code, out, _ = run(capsys, "-w", str(root), "import", str(tmp_path / "exports"))
    assert code == 0 and "com.alpha.app" in out and "80 new reviews" in out
    code, out, _ = run(capsys, "-w", str(root), "status", "--json")
    assert json.loads(out)["by_app"] == {"com.alpha.app": 40, "com.beta.app": 40}
    code, out, _ = run(capsys, "-w", str(root), "status")
    assert "By app" in out and "com.beta.app" in out
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        w.writerows(list(truth.items())[::3])
    assert run(capsys, "-w", str(root), "label", "--from", str(labels))[0] == 0
    code, _, err = run(capsys, "-w", str(root), "predict", "--model", "quick", "--sentiment", "stars")
    assert code == 0, err
    with open(root / "results" / "result.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["app"] for r in rows} == {"com.alpha.app", "com.beta.app"}
    assert rows[0]["app"] == "com.alpha.app" and rows[0]["reviewCreatedVersion"] == "2.9.0"
    (root / "reviewtui.toml").write_text((root / "reviewtui.toml").read_text().replace(
        "min_group_size = 30", "min_group_size = 10"))
    code, out, _ = run(capsys, "-w", str(root), "summary", "--json")
    data = json.loads(out)
    assert data["apps"] == ["com.alpha.app", "com.beta.app"] and data["min_group_size"] == 10
    assert list(data["by_app_version"]) == ["com.alpha.app 2.9", "com.alpha.app 2.10", "com.beta.app 1.0",
                                            "com.beta.app 1.1"]
    assert {a: v["version"] for a, v in data["latest_by_app"].items()} == {"com.alpha.app": "2.10",
                                                                           "com.beta.app": "1.1"}
    code, out, _ = run(capsys, "-w", str(root), "report", "--app", "com.beta.app")
    md = (root / "results" / "report.md").read_text(encoding="utf-8")
    assert code == 0 and "40 reviews (app com.beta.app, all app versions)" in md and "latest version 1.1" in md


def test_reviews_of_products_without_versions_get_no_version_table(workspace, capsys):
    """Products (or hotels) have no app version: the summary's per-app table has no version column
    and there is no app x version table of "unknown" rows."""
    rows = result_rows([("Lamp", "", 40, 0.3, EVEN), ("Jacket", "", 40, 0.6, EVEN)])
    write_results(workspace, rows)
    code, out, _ = run(capsys, "-w", str(workspace.root), "summary")
    assert code == 0 and "Per app" in out
    assert "80 reviews (2 apps; model m; no app versions)" in out
    assert "Per app and version" not in out and "latest version" not in out and "unknown" not in out


# Three apps, 120 reviews each. A's reviews are half SUBSCRIPTION (the others' a tenth), which leaves
# it less room for CONTENT and USER_EXPERIENCE; C has hardly any INTERFACE.
APART = [("A", "1.0", 120, 0.3, [5, 2, 1.5, 1.5]), ("B", "1.0", 120, 0.3, [1, 4, 2.5, 2.5]),
         ("C", "1.0", 120, 0.3, [1, 5, 0.2, 3.8])]


def test_categories_by_app_and_the_app_that_stands_apart():
    s = summarize(frame(result_rows(APART, seed=7)), categories=KEYS)
    table = s.category_by_app
    assert list(table.columns) == ["A", "B", "C", "all"] and list(table.index) == KEYS
    for app in ("A", "B", "C"):
        assert abs(table[app].sum() - 1) < 1e-9  # each column is one app's reviews
    assert table.at["SUBSCRIPTION", "A"] > 0.4 > 0.15 > max(table.at["SUBSCRIPTION", "B"], table.at["SUBSCRIPTION", "C"])
    apart = [f for f in s.findings if f.kind == "app_category"]
    subjects = {(f.subject, f.app, f.direction) for f in apart}
    assert subjects == {("SUBSCRIPTION", "A", "more"), ("INTERFACE", "C", "less"), ("CONTENT", "A", "less"),
                        ("USER_EXPERIENCE", "A", "less")}
    assert len({f.subject for f in apart}) == len(apart)  # one finding a category at most
    assert apart[0].subject == "INTERFACE"  # the furthest apart first (0.8% against 8.3%)
    text = findings(s)
    sub = next(t for t in text if t.startswith("SUBSCRIPTION is "))
    assert "of A's 120 reviews against" in sub and "in the other 2 apps (240 reviews)" in sub and "95% CI" in sub
    data = s.to_dict()
    assert set(data["category_by_app"]["SUBSCRIPTION"]) == {"A", "B", "C", "all"}
    assert any(f["kind"] == "app_category" for f in data["findings"])
    json.dumps(data)


def test_no_app_stands_apart_on_small_or_alike_groups():
    alike = [("A", "1.0", 200, 0.3, EVEN), ("B", "1.0", 200, 0.3, EVEN)]
    assert not [f for f in summarize(frame(result_rows(alike)), categories=KEYS).findings if f.kind == "app_category"]
    small = [("A", "1.0", 20, 0.3, [1, 0, 0, 0]), ("B", "1.0", 20, 0.3, [0, 1, 0, 0])]  # under min_group_size
    assert not [f for f in summarize(frame(result_rows(small)), categories=KEYS).findings if f.kind == "app_category"]
    s = summarize(frame(result_rows(small)), categories=KEYS, min_group_size=10)
    apart = [f for f in s.findings if f.kind == "app_category"]
    # two apps: A's SUBSCRIPTION above B's is B's below A's; each category is said once, from above
    assert sorted((f.subject, f.app, f.direction) for f in apart) == [("CONTENT", "B", "more"),
                                                                       ("SUBSCRIPTION", "A", "more")]
    assert "in the other app (20 reviews)" in findings(s)[-1]


def test_categories_by_star_score_and_the_star_filter():
    rows = result_rows(APART, seed=7)
    for i, r in enumerate(rows):
        r["score"] = str(1 + i % 5) if r["predicted_category"] != "SUBSCRIPTION" else "1"
    s = summarize(frame(rows), categories=KEYS)
    shares = s.category_score_share
    assert list(shares.columns) == [1, 2, 3, 4, 5]
    assert all(abs(shares[k].sum() - 1) < 1e-9 for k in shares.columns)
    assert shares.at["SUBSCRIPTION", 2] == 0 and shares.at["SUBSCRIPTION", 1] > 0.5
    assert int(s.category_score.values.sum()) == 360
    one_two = summarize(frame(rows), categories=KEYS, stars="1-2")
    assert one_two.stars == (1, 2) and one_two.reviews == int(s.scores[1] + s.scores[2])
    assert list(one_two.category_score_share.columns) == [1, 2]
    assert summarize(frame(rows), categories=KEYS, stars=" 5 ").reviews == int(s.scores[5])
    for bad in ("0", "6", "2-1", "x", "1-2-3", "1.5"):
        with pytest.raises(ReviewtuiError, match=r"--stars takes a star score or a range of them from 1 to 5"):
            summarize(frame(rows), stars=bad)
    no_scores = frame([{**r, "score": ""} for r in rows])
    assert summarize(no_scores, categories=KEYS).category_score_share.empty
    with pytest.raises(ReviewtuiError, match="no reviews with 4–5 stars: the predictions have no star scores"):
        summarize(no_scores, stars="4-5")


def test_cli_summary_and_report_compare_categories_between_apps(workspace, capsys):
    rows = [{**r, "score": str(1 + i % 5)} for i, r in enumerate(result_rows(APART, seed=7))]
    write_results(workspace, rows)
    root = str(workspace.root)
    code, out, _ = run(capsys, "-w", root, "summary")
    assert code == 0 and "Categories by app (% of each app's reviews)" in out
    assert "Categories by star score (% of each score's reviews)" in out
    # the taxonomy's names, as the app shows them
    assert "Subscription is " in out and "of A's 120 reviews against" in out and "SUBSCRIPTION" not in out
    code, raw, _ = run(capsys, "-w", root, "summary", "--stars", "1")
    assert code == 0 and "(3 apps, all app versions, 1 star;" in raw
    code, out, _ = run(capsys, "-w", root, "summary", "--stars", "4-5", "--json")
    data = json.loads(out)
    assert data["stars"] == [4, 5] and data["reviews"] == sum(r["score"] in ("4", "5") for r in rows) == 144
    assert list(data["category_score_share"]["CONTENT"]) == ["4", "5"]
    code, _, err = run(capsys, "-w", root, "summary", "--stars", "5-9")
    assert code == 2 and err.count("\n") == 1 and "--stars takes a star score" in err
    code, _, _ = run(capsys, "-w", root, "report")
    md = (workspace.results_dir / "report.md").read_text(encoding="utf-8")
    assert "## Categories by app (share of each app's reviews)" in md and "reviews: A 120, B 120, C 120; all 360" in md
    assert "| category | A | B | C | all |" in md
    assert "## Categories by star score" in md and "Subscription is " in md  # the taxonomy's names
    assert (workspace.results_dir / "tables" / "category_by_app.csv").is_file()
    assert (workspace.results_dir / "tables" / "category_stars.csv").is_file()
    assert "Categories by app" in (workspace.results_dir / "report.html").read_text(encoding="utf-8")
    code, _, _ = run(capsys, "-w", root, "report", "--stars", "1-2")
    assert code == 0 and "1–2 stars" in (workspace.results_dir / "report.md").read_text(encoding="utf-8")


def test_a_file_given_by_itself_takes_its_folders_app_when_the_workspace_has_it(workspace, tmp_path):
    """A newer export of exports/<app>/ imported alone gets that app; a file whose folder is no app
    of the workspace gets none, and the report says how to give it one."""
    from tests.conftest import PLAY_HEADER, write_csv

    def rows(prefix: str, n: int) -> list[list[str]]:
        return [[f"{prefix}-{i}", "u", "", f"{prefix} review number {i}", "4", "0", "1.0", "2024-01-01 10:00:00", "",
                 ""] for i in range(n)]

    for app in ("com.a.app", "com.b.app"):
        (tmp_path / "exports" / app).mkdir(parents=True)
        write_csv(tmp_path / "exports" / app / "reviews_1.csv", PLAY_HEADER, rows(app, 3))
    workspace.import_reviews([tmp_path / "exports"])
    newer = write_csv(tmp_path / "exports" / "com.a.app" / "reviews_2.csv", PLAY_HEADER, rows("newer", 2))
    res = workspace.import_reviews([newer])
    assert any("com.a.app's, the app its folder is named after" in s for s in res.reports[0].readings)
    loose = write_csv(tmp_path / "loose.csv", PLAY_HEADER, rows("loose", 2))
    res = workspace.import_reviews([loose])
    assert any(s.startswith("no app: the file names none") and "--app NAME" in s for s in res.reports[0].readings)
    assert workspace.store.counts_by_app() == {"com.a.app": 5, "com.b.app": 3, None: 2}
    workspace.import_reviews([loose], app="com.c.app")  # the rerun the report suggests
    assert workspace.store.counts_by_app() == {"com.a.app": 5, "com.b.app": 3, "com.c.app": 2}
    # a copy of a file imported before, outside its app's folder: its reviews have their app, and
    # an --app given then changes no stored review's app, which the report says
    import shutil

    (tmp_path / "copy").mkdir()
    copy = shutil.copy(tmp_path / "exports" / "com.b.app" / "reviews_1.csv", tmp_path / "copy" / "reviews.csv")
    res = workspace.import_reviews([copy])
    assert not any("--app NAME" in s for s in res.reports[0].readings)
    assert "stored already, as reviews of com.b.app 3, and keep that app" in " ".join(res.reports[0].readings)
    res = workspace.import_reviews([copy], app="B")
    assert "3 of the file's reviews were stored already as another app's (com.b.app 3) and keep that app: " \
           "--app B gives an app only to new reviews" in " ".join(res.reports[0].readings)
    assert workspace.store.counts_by_app() == {"com.a.app": 5, "com.b.app": 3, "com.c.app": 2}


def test_a_file_given_by_itself_in_a_folder_named_as_an_app_id_takes_that_app(tmp_path):
    """A team's first per-app export imported alone (exports/com.a.app/reviews.csv) gets its folder's
    app, and the report says where it came from; a folder with another kind of name gives none."""
    from reviewtui.ingest import is_app_id
    from reviewtui.workspace import Workspace
    from tests.conftest import PLAY_HEADER, write_csv

    for folder in ("in.junio", "march exports"):
        (tmp_path / "exports" / folder).mkdir(parents=True)
    ws = Workspace.init(tmp_path / "ws", name="apps", categories="Bug, Praise")
    rows = [[f"r{i}", "u", "", f"review number {i}", "4", "0", "1.0", "2024-01-01 10:00:00", "", ""] for i in range(3)]
    first = write_csv(tmp_path / "exports" / "in.junio" / "reviews.csv", PLAY_HEADER, rows)
    res = ws.import_reviews([first])
    assert ws.store.counts_by_app() == {"in.junio": 3}
    assert any("in.junio's, the app its folder is named after (--app NAME gives them another)" in s
               for s in res.reports[0].readings)
    other = write_csv(tmp_path / "exports" / "march exports" / "reviews.csv", PLAY_HEADER,
                      [[f"m{i}", *r[1:]] for i, r in enumerate(rows)])
    ws.import_reviews([other])
    assert ws.store.counts_by_app() == {"in.junio": 3, None: 3}
    # an app column wins over the folder's name, and the report says so (iOS and Android exports
    # kept in folders of their own would otherwise be merged without a word)
    (tmp_path / "exports" / "com.greenlight.ios").mkdir()
    named = tmp_path / "exports" / "com.greenlight.ios" / "reviews.csv"
    named.write_text("id,review,Product\ng1,first review of the card,Greenlight\ng2,second one here,Greenlight\n",
                     encoding="utf-8")
    res = ws.import_reviews([named])
    assert ws.store.counts_by_app()["Greenlight"] == 2
    assert "the app came from the file's 'Product' column (Greenlight), not from its folder's name " \
           "com.greenlight.ios (--app NAME gives all its reviews one app)" in res.reports[0].readings
    res = ws.import_reviews([named], app="Greenlight Card")  # the app given: no word of the column
    assert not any("came from the file's" in r for r in res.reports[0].readings)
    assert [n for n in ("com.example.app", "in.junio", "me.greenlight", "exports", "2024.01", "a..b", ".cache")
            if is_app_id(n)] == ["com.example.app", "in.junio", "me.greenlight"]


@pytest.mark.parametrize("argv, said", [
    (["summary", "--app", "com.a", "--app", "com.b"], "--app given twice ('com.a' and 'com.b')"),
    (["summary", "--app", " "], "--app is empty"),
    (["queue", "--search", ""], "--search is empty"),
    (["import", "x.csv", "--app", "a", "--app", "b"], "--app given twice"),
])
def test_a_value_option_given_twice_or_empty_is_refused(argv, said, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and said in err


def test_the_per_app_charts_of_many_apps_write_every_name_and_say_which_apps_get_a_panel(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reviewtui.analysis import report

    apps = [f"com.example.app-{c}" for c in "abcdefghij"]
    s = summarize(frame(result_rows([(a, v, 40, 0.3, EVEN) for a in apps for v in ("1.0", "1.1")])), categories=KEYS)
    figures = {}

    def keep(fig):
        figures[len(figures)] = fig
        return b""

    out = report._app_charts(s, plt, keep, "reviews")
    assert set(out) == {"by_app", "by_app_version"}
    per_app = figures[0].axes[0]
    assert [t.get_text() for t in per_app.get_yticklabels()] == apps  # one bar per app, each named
    assert "the 6 largest of the 10 apps with such versions" in figures[1]._suptitle.get_text()
    plt.close("all")


def test_an_unknown_app_is_answered_with_the_apps_nearest_it_first():
    from reviewtui.app_version import nearest_apps

    apps = [f"com.app{i}" for i in range(10)] + ["me.greenlight", "me.greenlight-eu"]
    assert nearest_apps("greenlight", apps).startswith("me.greenlight, me.greenlight-eu, com.app0")
    assert nearest_apps("greenlight", apps).endswith(" and 4 more")
    assert nearest_apps("x", []) == "none"


@pytest.mark.parametrize("argv, said", [(["diff", "1", "2", "--to"], "unrecognized arguments: --to"),
                                        (["import", "x.csv", "--version", "3"], "unrecognized arguments: --version"),
                                        (["categories", "merge", "a", "--in", "b"], "required: --into")])
def test_an_option_is_taken_only_as_written(argv, said, capsys):
    """argparse took a prefix for the option it starts: `diff --to` sent the diff to review, and
    `import --version 3` read the version column from a column named 3."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and said in capsys.readouterr().err


def test_an_app_written_in_other_case_in_a_later_file_is_the_workspaces_app(tmp_path, capsys):
    """A second file's hand-typed "quickbite ios" became a second app beside the first file's
    "QuickBite iOS": the queue's app= filter counted both, the summary one."""
    root = str(tmp_path / "ws")
    assert run(capsys, "init", root)[0] == 0
    first = tmp_path / "a.csv"
    first.write_text("id,app,text\na1,QuickBite iOS,crash on login\na2,QuickBite iOS,great app\n", encoding="utf-8")
    later = tmp_path / "b.csv"
    later.write_text("id,app,text\nb1,quickbite ios,refund missing\nb2,QUICKBITE IOS,slow courier\n", encoding="utf-8")
    assert run(capsys, "-w", root, "import", str(first))[0] == 0
    code, out, _ = run(capsys, "-w", root, "import", str(later))
    assert code == 0 and "differ only in case read as one" in out and "as 'QuickBite iOS'" in out
    from reviewtui.workspace import Workspace

    ws = Workspace.open(root)
    assert {k: v for k, v in ws.store.counts_by_app().items() if k} == {"QuickBite iOS": 4}
    ws.close()


def test_the_summary_takes_apps_written_in_other_case_for_one():
    """Predictions of a workspace imported before app names were made one: the summary's apps and its
    app filter count them together, as the queue's app= filter does."""
    rows = frame(result_rows([("QuickBite iOS", "1.0", 40, 0.2, EVEN), ("quickbite ios", "1.0", 10, 0.2, EVEN),
                              ("Other", "2.0", 40, 0.2, EVEN)]))
    s = summarize(rows, categories=KEYS)
    assert sorted(s.apps) == ["Other", "QuickBite iOS"]
    assert summarize(rows, categories=KEYS, app="QUICKBITE IOS").reviews == 50
