"""Summaries against a hand-computed case, the report files, CSV neutralising, sentiment options."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewtui.analysis.export import csv_text, frame_csv_bytes, safe_cell
from reviewtui.analysis.summary import summarize, version_group
from reviewtui.app_version import version_key
from reviewtui.errors import ReviewtuiError

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["reviewId", "content", "score", "reviewCreatedVersion", "at", "thumbsUpCount", "predicted_category",
          "confidence", "sentiment", "sentiment_score", "model"]
# id, category, sentiment, stars, version, thumbs-up
ROWS = [
    ("1", "SUBSCRIPTION", "negative", 1, "4.4.0", 0),
    ("2", "SUBSCRIPTION", "negative", 2, "4.5.0", 3),
    ("3", "SUBSCRIPTION", "positive", 5, "4.5.1", 0),
    ("4", "CONTENT", "positive", 5, "4.4.0", 1),
    ("5", "CONTENT", "neutral", 3, "4.4.1", 0),
    ("6", "INTERFACE", "negative", 1, "4.5.0", 9),
    ("7", "INTERFACE", "negative", 2, "4.10.0", 0),
    ("8", "USER_EXPERIENCE", "positive", 4, "", 0),
]
KEYS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]


def frame():
    import pandas as pd

    return pd.DataFrame([{"reviewId": i, "content": f"text {i}", "score": str(s), "reviewCreatedVersion": v,
                          "at": "", "thumbsUpCount": str(t), "predicted_category": c, "confidence": "0.9",
                          "sentiment": se, "sentiment_score": "0", "model": "m"}
                         for i, c, se, s, v, t in ROWS], dtype=str)


def test_summary_matches_the_hand_computed_case():
    s = summarize(frame(), categories=KEYS)
    assert s.reviews == 8 and s.total == 8 and s.model == "m"
    assert s.categories.to_dict() == {"SUBSCRIPTION": 3, "CONTENT": 2, "INTERFACE": 2, "USER_EXPERIENCE": 1}
    assert s.category_share["SUBSCRIPTION"] == pytest.approx(3 / 8)
    assert s.sentiments.to_dict() == {"negative": 4, "neutral": 1, "positive": 3}
    assert s.scores.to_dict() == {1: 2, 2: 2, 3: 1, 4: 1, 5: 2}
    assert s.category_sentiment.loc["SUBSCRIPTION"].to_dict() == {"negative": 2, "neutral": 0, "positive": 1}
    assert s.category_sentiment.loc["CONTENT"].to_dict() == {"negative": 0, "neutral": 1, "positive": 1}
    assert s.negative_share.to_dict() == pytest.approx({"SUBSCRIPTION": 2 / 3, "CONTENT": 0.0, "INTERFACE": 1.0,
                                                        "USER_EXPERIENCE": 0.0})
    assert s.mean_score.to_dict() == pytest.approx({"SUBSCRIPTION": 8 / 3, "CONTENT": 4.0, "INTERFACE": 1.5,
                                                    "USER_EXPERIENCE": 4.0})
    # versions grouped to major.minor, sorted numerically (4.10 after 4.5), blanks "unknown"
    assert list(s.by_version.index) == ["unknown", "4.4", "4.5", "4.10"]
    assert s.latest_version == "4.10"
    v45 = s.by_version.loc["4.5"]
    assert v45["reviews"] == 3 and v45["mean_score"] == pytest.approx(8 / 3)
    assert v45["negative_share"] == pytest.approx(2 / 3)
    assert v45["share_SUBSCRIPTION"] == pytest.approx(2 / 3) and v45["share_INTERFACE"] == pytest.approx(1 / 3)
    assert s.version_category.loc["4.4"].to_dict() == {"SUBSCRIPTION": 1, "CONTENT": 2, "INTERFACE": 0,
                                                       "USER_EXPERIENCE": 0}
    assert s.version_negative_share.loc["4.5", "SUBSCRIPTION"] == pytest.approx(0.5)
    # the latest version against the earlier ones (reviews without a version are not earlier)
    assert s.latest["version"] == "4.10" and s.latest["reviews"] == 1 and s.latest["earlier_reviews"] == 6
    assert s.latest["negative_share"] == 1.0 and s.latest["negative_share_others"] == pytest.approx(3 / 6)
    assert s.latest["category_share"]["INTERFACE"] == 1.0
    assert s.latest["category_share_others"]["INTERFACE"] == pytest.approx(1 / 6)
    # 8 reviews: no group reaches [findings] min_group_size (30), so nothing is claimed about them
    assert s.findings == []
    json.dumps(s.to_dict())  # plain data all the way down


def test_the_most_negative_category_is_not_said_again_as_a_negative_majority():
    import pandas as pd

    rows = [("SUBSCRIPTION", "negative" if i < 98 else "positive") for i in range(100)]
    rows += [("CONTENT", "negative" if i < 75 else "positive") for i in range(100)]
    d = pd.DataFrame([{"reviewId": str(i), "content": f"text {i}", "score": "3", "reviewCreatedVersion": "",
                       "at": "", "thumbsUpCount": "0", "predicted_category": c, "confidence": "0.9",
                       "sentiment": se, "sentiment_score": "0", "model": "m"} for i, (c, se) in enumerate(rows)],
                     dtype=str)
    kinds = [(f.kind, f.subject) for f in summarize(d, categories=KEYS).findings
             if f.kind in ("most_negative_category", "negative_majority")]
    assert kinds == [("most_negative_category", "SUBSCRIPTION"), ("negative_majority", "CONTENT")]


def test_a_category_is_the_largest_the_most_negative_or_the_lowest_in_stars_only_beyond_doubt():
    """The footer says a difference is stated only when the intervals do not overlap; "the largest
    category", "draws the most negative reviews" and "the lowest star score" were stated for any
    lead (35.9 % against 32.7 % on 39 and 55 reviews)."""
    import pandas as pd

    def rows_of(groups):
        out = []
        for c, n, neg in groups:
            out += [{"reviewId": f"{c}{i}", "content": "t", "score": "1" if i < neg else "4", "reviewCreatedVersion": "",
                     "at": "", "thumbsUpCount": "0", "predicted_category": c, "confidence": "0.9",
                     "sentiment": "negative" if i < neg else "positive", "sentiment_score": "0", "model": "m"}
                    for i in range(n)]
        return pd.DataFrame(out, dtype=str)

    close = summarize(rows_of([("SUBSCRIPTION", 39, 14), ("CONTENT", 55, 18)]), categories=KEYS)
    assert not [f for f in close.findings if f.kind in ("largest_category", "most_negative_category", "lowest_stars")]
    apart = summarize(rows_of([("SUBSCRIPTION", 300, 250), ("CONTENT", 60, 6)]), categories=KEYS)
    kinds = {f.kind: f for f in apart.findings}
    assert kinds["largest_category"].subject == "SUBSCRIPTION"
    assert kinds["most_negative_category"].subject == "SUBSCRIPTION"
    low = kinds["lowest_stars"]
    assert low.subject == "SUBSCRIPTION" and low.detail["mean_high"] < 3.7
    from reviewtui.analysis.report import finding_sentence

    assert "has the lowest star score: 1.50 (95% CI " in finding_sentence(low)


def test_thumbs_up_weighting_by_hand():
    s = summarize(frame(), categories=KEYS, weight_by_thumbs=True)  # weights 1+thumbs: 1,4,1,2,1,10,1,1
    assert s.total == 21 and s.reviews == 8
    assert s.categories.to_dict() == {"SUBSCRIPTION": 6, "CONTENT": 3, "INTERFACE": 11, "USER_EXPERIENCE": 1}
    assert s.sentiments["negative"] == 16
    assert s.negative_share["SUBSCRIPTION"] == pytest.approx(5 / 6)
    assert s.mean_score["SUBSCRIPTION"] == pytest.approx(14 / 6)
    assert s.scores[1] == 11


def test_version_filter():
    s = summarize(frame(), categories=KEYS, app_version="4.5")
    assert s.reviews == 3 and s.app_version == "4.5"
    assert s.categories.to_dict() == {"SUBSCRIPTION": 2, "CONTENT": 0, "INTERFACE": 1, "USER_EXPERIENCE": 0}
    assert summarize(frame(), app_version="4.10.0").reviews == 1
    assert summarize(frame(), app_version="4.4.1").reviews == 1
    with pytest.raises(ReviewtuiError, match=r"no reviews of app version '9.9'.*4.4, 4.5, 4.10"):
        summarize(frame(), app_version="9.9")
    with pytest.raises(ReviewtuiError, match="no predictions"):
        summarize(frame().iloc[:0])
    assert version_group("4.5.2") == "4.5" and version_group("", 2) == "unknown"
    assert version_group("4.5.2", None) == "4.5.2"
    assert sorted(["4.10", "4.9", "unknown", "10.0"], key=version_key) == ["unknown", "4.9", "4.10", "10.0"]


def test_csv_cells_that_look_like_formulas_are_neutralised():
    import pandas as pd

    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "ok", -0.5, 3, "-")] == \
        ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok", -0.5, 3, "-"]  # "-": a table's none
    rows = list(csv.reader(io.StringIO(csv_text(["a", "=b"], [["=cmd|' /C calc'!A0", -1.25]]))))
    assert rows == [["a", "'=b"], ["'=cmd|' /C calc'!A0", "-1.25"]]
    df = pd.DataFrame({"x": ["@evil", "fine"], "n": [-1.0, 2.0]}, index=pd.Index(["+a", "b"], name="k"))
    assert frame_csv_bytes(df).decode().splitlines() == ["k,x,n", "'+a,'@evil,-1.0", "b,fine,2.0"]


def write_result_csv(ws) -> Path:
    path = ws.results_dir / "result.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i, c, se, s, v, t in ROWS:
            w.writerow([i, f"text {i}", s, v, "", t, c, "0.9", se, "0", "m"])
    return path


def test_report_files_and_their_numbers(workspace):
    ws = workspace
    with pytest.raises(ReviewtuiError, match="run reviewtui predict first"):
        ws.summary()
    write_result_csv(ws)
    s = ws.summary()
    assert list(s.categories.index) == KEYS  # the taxonomy's training categories, in order
    paths = ws.write_report()
    for p in (paths.markdown, paths.html, *paths.charts.values(), *paths.tables.values()):
        assert p.is_file() and p.stat().st_size > 0
    assert set(paths.charts) == {"category_distribution", "sentiment_distribution", "score_distribution",
                                 "category_sentiment", "negative_share_by_category", "by_version"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths.charts.values())
    with open(paths.tables["category_sentiment"], newline="") as fh:
        table = {r["category"]: r for r in csv.DictReader(fh)}
    assert table["SUBSCRIPTION"] == {"category": "SUBSCRIPTION", "negative": "2", "neutral": "0", "positive": "1"}
    with open(paths.tables["negative_share_by_category"], newline="") as fh:
        neg = {r["category"]: float(r["negative_share"]) for r in csv.DictReader(fh)}
    assert neg["INTERFACE"] == 1.0 and neg["SUBSCRIPTION"] == pytest.approx(0.666667)
    md = paths.markdown.read_text()
    # eight reviews support no finding: the report says so instead of "4.10 (1 review) is more negative"
    assert "- None: no group is large enough" in md and "The latest version" not in md
    assert "groups of at least 30 reviews ([findings] min_group_size)" in md
    assert "![category_sentiment](charts/category_sentiment.png)" in md
    html = paths.html.read_text()
    assert html.count("data:image/png;base64,") == 6 and "<table>" in html
    assert not list(ws.results_dir.glob(".report-*"))
    # a filtered, weighted report
    paths = ws.write_report(app_version="4.5", weight_by_thumbs=True)
    assert "3 reviews (app version 4.5)" in paths.markdown.read_text()


def test_the_report_separates_thousands_names_categories_and_says_one_review(tmp_path):
    """Counts of a thousand and more read 1,200 (not 1200); with the taxonomy's names the documents
    and their findings call a category by its name where the taxonomy has one (the CSV tables keep
    the keys); a report on one review says "1 review"."""
    import pandas as pd

    from reviewtui.analysis.report import write_report

    big = pd.concat([frame()] * 300, ignore_index=True)  # 2,400 reviews, 1,200 of them negative
    big["reviewId"] = [str(i) for i in range(len(big))]
    names = {"SUBSCRIPTION": "Subscription", "USER_EXPERIENCE": "User experience"}
    paths = write_report(summarize(big, categories=KEYS), tmp_path / "big", names=names)
    md = paths.markdown.read_text(encoding="utf-8")
    assert "| negative | 1,200 |" in md and "| 1200 |" not in md
    assert "| Subscription | 900 | 37.5% |" in md and "| User experience | 300 | 12.5% |" in md
    assert "- Subscription is the largest category" in md and "| SUBSCRIPTION |" not in md
    assert "<td>Subscription</td>" in paths.html.read_text(encoding="utf-8")
    with open(paths.tables["category_distribution"], newline="") as fh:
        assert [r["category"] for r in csv.DictReader(fh)] == KEYS
    paths = write_report(summarize(frame().iloc[:1], categories=KEYS), tmp_path / "one")
    assert "\n1 review (all app versions)" in paths.markdown.read_text(encoding="utf-8")


def test_cli_summary_and_report(workspace, capsys):
    from reviewtui.cli import main

    write_result_csv(workspace)
    root = str(workspace.root)
    assert main(["-w", root, "summary", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["categories"]["SUBSCRIPTION"] == 3 and data["latest_version"] == "4.10"
    assert data["negative_share"]["INTERFACE"] == 1.0
    assert main(["-w", root, "summary"]) == 0
    out = capsys.readouterr().out
    versions = [line.split("│")[1].strip() for line in out.split("Per app version")[1].splitlines()
                if line.startswith("│")]
    assert versions[0] == "4.10 (latest)" and versions.index("4.10 (latest)") < versions.index("4.4")  # newest first
    assert "unknown" not in versions or versions[-1] == "unknown"
    assert main(["-w", root, "summary", "--app-version", "4.4"]) == 0
    assert "3 reviews" in capsys.readouterr().out
    assert main(["-w", root, "summary", "--app-version", "4.10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 review (app version 4.10") and "1 reviews" not in out
    assert main(["-w", root, "report", "--weight-thumbs"]) == 0
    assert "report.md" in capsys.readouterr().out
    assert main(["-w", root, "summary", "--weight-thumbs"]) == 0  # the counts are weights: said so
    out = " ".join(capsys.readouterr().out.split())
    assert "the tables count each review as 1 + its thumbs-up" in out and "(weighted by 1 + thumbs-up)" in out
    assert "┃ weight ┃" in out
    ws_tables = Path(root) / "results" / "tables"
    for name in ("category_distribution", "score_distribution"):  # the report's CSVs say weight too
        header = (ws_tables / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert "weight" in header.split(",") and "reviews" not in header.split(","), header
    md = (Path(root) / "results" / "report.md").read_text(encoding="utf-8")
    assert "Each column adds up to 100%; weight: 1★" in md and "; reviews: " not in md  # the sums are weights
    assert main(["-w", root, "summary", "--app-version", "7"]) == 2
    assert "no reviews of app version '7'" in capsys.readouterr().err
    for command in ("summary", "report"):
        assert main(["-w", root, command, "--version-depth", "-1"]) == 2
        assert "--version-depth must be 0 (versions kept whole) or more, not -1" in capsys.readouterr().err


def test_summary_and_report_take_version_as_the_app_version(workspace, capsys):
    """`summary --version 4.4` (as discover --version and the filter's version= read it) filters by
    the app version: argparse took it for an abbreviation of --version-depth and grouped versions
    to 4 parts over all the reviews instead, and a version with letters was refused as no number."""
    from reviewtui.cli import main

    write_result_csv(workspace)
    root = str(workspace.root)
    assert main(["-w", root, "summary", "--version", "4.4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 reviews (app version 4.4")
    assert main(["-w", root, "summary", "--version", "7"]) == 2
    assert "no reviews of app version '7'" in capsys.readouterr().err
    assert main(["-w", root, "report", "--version", "4.4"]) == 0
    assert "report.md" in capsys.readouterr().out


def test_status_says_predict_until_the_predictions_are_newer_than_the_models(workspace):
    import os

    card = workspace.models_dir / "m1" / "model_card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"name": "m1", "kind": "quick"}), encoding="utf-8")
    assert any(s.startswith("predict every review") for s in workspace.status().next_steps)
    result = write_result_csv(workspace)
    later = card.parent.stat().st_mtime + 5
    os.utime(result, (later, later))
    steps = workspace.status().next_steps
    assert any(s.startswith("read the summary of the predictions") for s in steps)
    assert not any(s.startswith("predict every review") for s in steps)


def write_result_record(ws, rows: int, model: str) -> None:
    """results/result.json as predict writes it beside result.csv (the fields the checks read)."""
    from reviewtui.files import utc_now

    (ws.results_dir / "result.json").write_text(json.dumps({"rows": rows, "model": model, "created": utc_now()}),
                                                encoding="utf-8")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_summary_report_and_status_say_what_the_predictions_miss(workspace, capsys):
    """Reviews imported after the prediction, and labels given after its model's training data, are
    each one line of summary, report and status, and a field of their JSON."""
    from reviewtui.cli import main
    from reviewtui.files import utc_now
    from reviewtui.store import LabelRow, NewAsset

    ws, root = workspace, str(workspace.root)
    ws.store.add_assets([NewAsset(i, f"text {i}") for i, *_ in ROWS])
    ws.store.add_labels([LabelRow(i, c, "ann", "human", at="2025-01-01T00:00:00.000+00:00") for i, c, *_ in ROWS[:6]])
    ws.export()  # dataset-1, which m1 learns from
    card = ws.models_dir / "m1" / "model_card.json"
    card.parent.mkdir(parents=True)
    card.write_text(json.dumps({"name": "m1", "kind": "quick", "labels": KEYS, "created_at": utc_now(),
                                "dataset_version": "dataset-1"}), encoding="utf-8")
    result = write_result_csv(ws)
    write_result_record(ws, len(ROWS), "m1")
    later = card.parent.stat().st_mtime + 5
    os.utime(result, (later, later))
    assert not ws.summary().stale.stale
    assert any(s.startswith("read the summary of the predictions") for s in ws.status().next_steps)
    assert main(["-w", root, "summary", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stale"]["notes"] == []

    # 350 more reviews, two of the old ones labeled now (a third as Other, which is not trained on)
    ws.store.add_assets([NewAsset(f"n{i}", f"new text {i}") for i in range(350)])
    ws.store.add_labels([LabelRow("7", "INTERFACE", "ann", "human"), LabelRow("8", "USER_EXPERIENCE", "ann", "human"),
                         LabelRow("n1", "OTHER", "ann", "human")])
    new_reviews = "350 reviews imported after the last prediction have no prediction: run `reviewtui predict`."
    new_labels = ("2 labels were given after model m1's training data (dataset-1): `reviewtui export` and "
                  "`reviewtui train` fold them in, then `reviewtui predict`.")
    assert main(["-w", root, "summary"]) == 0
    out = flat(capsys.readouterr().out)
    assert "8 reviews" in out and new_reviews in out and new_labels in out
    assert main(["-w", root, "summary", "--json"]) == 0
    stale = json.loads(capsys.readouterr().out)["stale"]
    assert {k: stale[k] for k in ("predicted", "reviews", "unpredicted", "late_labels", "model", "version")} == \
        {"predicted": 8, "reviews": 358, "unpredicted": 350, "late_labels": 2, "model": "m1", "version": "dataset-1"}
    assert stale["notes"] == [new_reviews, new_labels]
    assert main(["-w", root, "report"]) == 0
    out = flat(capsys.readouterr().out)
    assert out.startswith("Wrote ") and new_reviews in out and new_labels in out
    md = (ws.results_dir / "report.md").read_text(encoding="utf-8")  # the report a team reads says it too
    assert f"> **Note:** {new_reviews}" in md and f"> **Note:** {new_labels}" in md
    assert "<strong>Note:</strong> 350 reviews imported" in (ws.results_dir / "report.html").read_text(encoding="utf-8")
    assert main(["-w", root, "report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stale"]["notes"] == [new_reviews, new_labels]
    assert main(["-w", root, "status"]) == 0
    out = flat(capsys.readouterr().out)
    assert new_reviews in out and new_labels in out and "read the summary" not in out
    assert main(["-w", root, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stale"]["notes"] == [new_reviews, new_labels]
    # exported since: training on that version is what is left, and a label given after it asks the export again
    ws.export()
    from reviewtui.presentation import stale_lines

    assert stale_lines(ws.prediction_staleness())[1] == (
        "2 labels were given after model m1's training data (dataset-1): dataset-2 has them: `reviewtui train` "
        "folds them in, then `reviewtui predict`.")
    # a version registered from outside holds none of them: not named
    outside = ws.root.parent / "dataset-9.csv"
    lines = (ws.versions_dir / "dataset-2.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    outside.write_text("".join(lines[:-1]), encoding="utf-8")  # another set of rows
    (registered,) = ws.import_versions([outside])
    assert registered.manifest["source"] == "imported"
    assert stale_lines(ws.prediction_staleness())[1] == new_labels
    (ws.versions_dir / f"{registered.name}.csv").unlink()
    (ws.versions_dir / f"{registered.name}.json").unlink()
    assert "dataset-2 has them" in stale_lines(ws.prediction_staleness())[1]
    time.sleep(0.01)  # a label given after the export (times are to the millisecond)
    ws.store.add_labels([LabelRow("n3", "CONTENT", "ann", "human")])
    time.sleep(0.01)
    assert stale_lines(ws.prediction_staleness())[1] == new_labels.replace("2 labels were", "3 labels were")

    # predictions of the quick model, fitted when the prediction ran: predict again folds new labels in
    write_result_record(ws, 357, "quick")
    ws.store.add_labels([LabelRow("n2", "CONTENT", "ann", "human", at="2999-01-01T00:00:00.000+00:00")])

    assert stale_lines(ws.prediction_staleness()) == [
        "1 review imported after the last prediction has no prediction: run `reviewtui predict`.",
        "1 label was given after the last prediction fitted its quick model: `reviewtui predict --model quick` "
        "folds them in."]


def test_no_version_table_when_no_review_has_a_version(workspace, capsys):
    """A survey or a public set without app versions: the summary has no one-row "unknown"
    version table, and the report no version chart."""
    from reviewtui.cli import main

    path = workspace.results_dir / "result.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i, c, se, s, _v, t in ROWS:
            w.writerow([i, f"text {i}", s, "", "", t, c, "0.9", se, "0", "m"])
    assert main(["-w", str(workspace.root), "summary"]) == 0
    out = capsys.readouterr().out
    assert "Category x sentiment" in out and "Per app version" not in out
    assert "by_version" not in workspace.write_report().charts


# --- sentiment --------------------------------------------------------------------------------
def test_vader_and_star_labels():
    from reviewtui.analysis.sentiment import VaderAnalyzer, star_label

    out = VaderAnalyzer().analyze(["i love this app, it is great", "terrible, awful, i hate it", "the app"])
    assert out.labels == ["positive", "negative", "neutral"]
    assert out.scores[0] > 0.5 and out.scores[1] < -0.5 and out.scores[2] == 0
    assert [star_label(v) for v in (1, "2", 3, 4.0, "5", "", None, 7)] == \
        ["negative", "negative", "neutral", "positive", "positive", None, None, None]


def test_sentiment_label_mapping_of_model_configs():
    from reviewtui.analysis.sentiment import sentiment_columns

    seq = ["RobertaForSequenceClassification"]
    generic = {"architectures": seq, "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}}
    assert sentiment_columns(generic, "cardiffnlp/twitter-roberta-base-sentiment") == \
        {"negative": 0, "neutral": 1, "positive": 2}
    with pytest.raises(ReviewtuiError, match="not a sentiment classifier: its labels are LABEL_0"):
        sentiment_columns(generic, "some/topic-model")
    sst2 = {"architectures": seq, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}
    assert sentiment_columns(sst2, "x") == {"negative": 0, "positive": 1}
    with pytest.raises(ReviewtuiError, match="architecture is BertModel"):
        sentiment_columns({"architectures": ["BertModel"], "id2label": sst2["id2label"]}, "x")


def test_sentiment_options_compared_with_the_stars(analysis_ws):
    ws = analysis_ws
    cmp = ws.sentiment_comparison(["vader", "stars"])
    assert cmp.n == 64 and sum(cmp.star_distribution.values()) == 64
    vader, stars = cmp.agreements
    assert vader.analyzer == "vader" and not vader.cross_validated
    assert stars.analyzer == "stars" and stars.cross_validated
    for a in (vader, stars):
        assert sum(map(sum, a.confusion)) == 64 and 0 <= a.accuracy <= 1 and -1 <= a.kappa <= 1
        assert [sum(r) for r in a.confusion] == [cmp.star_distribution[s] for s in ("negative", "neutral", "positive")]
    assert cmp.pairwise["vader"]["vader"] == 1.0


def test_cli_sentiment(analysis_ws, capsys):
    from reviewtui.cli import main

    assert main(["-w", str(analysis_ws.root), "sentiment", "--option", "vader", "--sample", "20", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n"] == 20 and [a["analyzer"] for a in data["agreements"]] == ["vader"]
    assert main(["-w", str(analysis_ws.root), "sentiment", "--option", "/no/such/folder"]) == 2
    assert "does not exist" in capsys.readouterr().err
    # an option given twice is compared once; none and auto are no options to compare
    assert main(["-w", str(analysis_ws.root), "sentiment", "--option", "vader", "--option", "vader", "--sample", "20",
                 "--json"]) == 0
    assert [a["analyzer"] for a in json.loads(capsys.readouterr().out)["agreements"]] == ["vader"]
    for option in ("none", "auto"):
        assert main(["-w", str(analysis_ws.root), "sentiment", "--option", option]) == 2
        assert f"sentiment --option {option}: this command compares sentiment options" in capsys.readouterr().err


def test_sentiment_needs_star_scores(workspace, tmp_path):
    from reviewtui.store import NewAsset

    workspace.store.add_assets([NewAsset("a", "nice", {}), NewAsset("b", "bad", {})])
    with pytest.raises(ReviewtuiError, match="no review in this workspace has a 1-5 star score"):
        workspace.sentiment_comparison()


def test_analysis_modules_import_no_ml_stack():
    code = ("import json, sys\n"
            "import reviewtui.cli, reviewtui.active, reviewtui.analysis.predict, reviewtui.analysis.sentiment\n"
            "import reviewtui.analysis.summary, reviewtui.analysis.report, reviewtui.analysis.export\n"
            "reviewtui.cli.build_parser()\n"
            "heavy = ('torch', 'transformers', 'sklearn', 'matplotlib', 'pandas', 'datasets', 'ray')\n"
            "print(json.dumps(sorted({k.split('.')[0] for k in sys.modules if k.split('.')[0] in heavy})))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_reviews_without_an_app_are_no_app_and_not_compared_as_one():
    """Reviews of three apps and some with none: the summary counts three apps, calls the others
    "(no app)", and draws no app comparison where "(no app)" stands in for an app."""
    import pandas as pd

    from reviewtui.analysis.report import scope_text
    from reviewtui.analysis.summary import NO_APP, summarize

    rows = []
    for a, app in enumerate(["com.a", "com.b", "com.c", ""]):
        for i in range(200):
            neg = i < (180 if app == "" else 40)  # the reviews without an app are far more negative
            rows.append({"reviewId": f"{a}-{i}", "content": "t", "score": "1" if neg else "5", "app": app,
                         "reviewCreatedVersion": "1.0", "at": "", "thumbsUpCount": "0",
                         "predicted_category": "BUG" if (i + a) % 2 else "PRAISE", "confidence": "0.9",
                         "sentiment": "negative" if neg else "positive", "sentiment_score": "0", "model": "m"})
    s = summarize(pd.DataFrame(rows))
    assert NO_APP in s.apps and scope_text(s).startswith("3 apps and reviews with no app")
    assert not [f for f in s.findings if f.kind == "most_negative_app"]
    assert set(s.latest_by_app) == {"com.a", "com.b", "com.c"}  # "(no app)" has no latest version


def test_a_filter_that_leaves_one_app_does_not_read_as_an_app_filter():
    import pandas as pd

    from reviewtui.analysis.report import scope_text
    from reviewtui.analysis.summary import summarize

    rows = [{"reviewId": f"{app}-{i}", "content": "t", "score": "2" if app == "com.a" else "5", "app": app,
             "reviewCreatedVersion": "1.0", "at": "", "thumbsUpCount": "0", "predicted_category": "BUG",
             "confidence": "0.9", "sentiment": "negative", "sentiment_score": "0", "model": "m"}
            for app in ("com.a", "com.b") for i in range(40)]
    df = pd.DataFrame(rows)
    assert scope_text(summarize(df, stars="2")).startswith("app com.a (the only app these reviews are of)")
    assert scope_text(summarize(df, app="com.a")).startswith("app com.a,")
    # each app numbers its own versions: the scope says whose "1.0" the reviews are
    assert scope_text(summarize(df, app_version="1.0")) == \
        "2 apps, app version 1.0 of each (com.a 40, com.b 40; --app narrows to one)"
    with_none = df.assign(app=df["app"].where(df.index % 2 == 0, ""))
    assert "of each (com.a 20, com.b 20; --app" in scope_text(summarize(with_none, app_version="1.0"))


def test_a_value_that_is_no_version_is_not_an_earlier_version():
    import pandas as pd

    from reviewtui.analysis.summary import summarize

    rows = [{"reviewId": str(i), "content": "t", "score": "3", "app": "com.a", "at": "", "thumbsUpCount": "0",
             "reviewCreatedVersion": ("2.0", "1.0", "Varies with device")[i % 3], "predicted_category": "BUG",
             "confidence": "0.9", "sentiment": "neutral", "sentiment_score": "0", "model": "m"} for i in range(90)]
    s = summarize(pd.DataFrame(rows))
    assert s.latest_version == "2.0" and (s.latest["reviews"], s.latest["earlier_reviews"]) == (30, 30)


def test_a_report_of_one_app_leaves_no_table_or_chart_of_the_report_before(tmp_path):
    """A report of every app, then one of one app (`report --app`): charts/ and tables/ hold only
    what the second wrote (the first's by-app tables and charts stayed beside them, the numbers of
    all apps); a file the report never writes is left alone."""
    import pandas as pd

    from reviewtui.analysis.report import REPORT_CHARTS, REPORT_TABLES, write_report

    two = pd.concat([frame().assign(app="com.a"), frame().assign(app="com.b")], ignore_index=True)
    two["reviewId"] = [str(i) for i in range(len(two))]
    out = tmp_path / "results"
    first = write_report(summarize(two, categories=KEYS), out)
    assert {"by_app", "category_by_app", "by_app_version"} <= set(first.tables) and "by_app" in first.charts
    (out / "tables" / "mine.csv").write_text("kept\n")
    second = write_report(summarize(two[two["app"] == "com.a"], categories=KEYS), out)
    assert "by_app" not in second.tables
    assert sorted(p.name for p in (out / "tables").iterdir()) == sorted(
        [*(p.name for p in second.tables.values()), "mine.csv"])
    assert sorted(p.name for p in (out / "charts").iterdir()) == sorted(p.name for p in second.charts.values())
    assert {*first.tables, *second.tables} <= set(REPORT_TABLES) and {*first.charts} <= set(REPORT_CHARTS)


def test_a_report_of_reviews_without_versions_has_no_version_tables(tmp_path):
    """Reviews of airlines or hotels carry no app version: the report wrote three sections of
    "<app> unknown" rows under the header's "no app versions"."""
    import pandas as pd

    from reviewtui.analysis.report import write_report

    rows = [{"reviewId": str(i), "content": "t", "score": str(1 + i % 5), "app": ("United", "Delta")[i % 2],
             "reviewCreatedVersion": "", "at": "", "thumbsUpCount": "0",
             "predicted_category": KEYS[i % 2], "confidence": "0.9", "sentiment": "negative" if i % 3 else "positive",
             "sentiment_score": "0", "model": "m"} for i in range(80)]
    s = summarize(pd.DataFrame(rows, dtype=str), categories=KEYS)
    assert not s.has_versions and not {"by_app_version", "version_category", "version_negative_share"} & set(s.tables())
    paths = write_report(s, tmp_path / "results")
    text = paths.markdown.read_text(encoding="utf-8")
    assert "app version" not in text.replace("no app versions", "") and "unknown" not in text


def test_weighting_by_thumbs_up_names_the_reviews_that_have_no_count():
    """Files of other shapes carry no thumbs-up column: their reviews count as 1 beside up-voted
    ones, which the summary says, by app, instead of comparing the apps on it without a word."""
    import pandas as pd

    from reviewtui.analysis.report import _intro, no_thumbs_text
    from reviewtui.analysis.summary import summarize

    rows = [{"reviewId": f"{app}-{i}", "content": "t", "score": "2", "app": app, "reviewCreatedVersion": "1.0",
             "at": "", "thumbsUpCount": "" if app == "com.b" or (app == "com.c" and i < 5) else str(i),
             "predicted_category": "BUG", "confidence": "0.9", "sentiment": "negative", "sentiment_score": "0",
             "model": "m"} for app in ("com.a", "com.b", "com.c") for i in range(40)]
    df = pd.DataFrame(rows)
    s = summarize(df, weight_by_thumbs=True)
    assert s.no_thumbs == {"com.b": (40, 40), "com.c": (5, 40)} and s.total == 3 * 40 + 2 * sum(range(40)) - sum(range(5))
    assert no_thumbs_text(s) == ("45 reviews (all com.b's, 5 of com.c's) have no thumbs-up count and count as 1: "
                                 "compare the apps unweighted")
    assert no_thumbs_text(summarize(df)) == ""  # unweighted: nothing to say
    assert no_thumbs_text(summarize(df, weight_by_thumbs=True, app="com.c")) == \
        "5 reviews have no thumbs-up count and count as 1"
    assert "com.c 1.0. 45 reviews (all com.b's, 5 of com.c's) have" in _intro(s) and s.to_dict()["no_thumbs"]["com.c"] == {
        "missing": 5, "reviews": 40}
    # no review with a count: nothing to compare; only the reviews with no app without one: no app lacks it
    none = df.assign(thumbsUpCount="")
    assert no_thumbs_text(summarize(none, weight_by_thumbs=True)) == \
        "no review has a thumbs-up count: each counts as 1, as unweighted"
    no_app = df.assign(app=df["app"].replace("com.b", ""))
    assert no_thumbs_text(summarize(no_app, weight_by_thumbs=True)) == \
        "45 reviews (all the reviews with no app, 5 of com.c's) have no thumbs-up count and count as 1: " \
        "compare the apps unweighted"
    only = df.assign(thumbsUpCount=df["thumbsUpCount"].where(df["app"] == "com.b", "3"), app=no_app["app"])
    assert no_thumbs_text(summarize(only, weight_by_thumbs=True)) == \
        "40 reviews (all the reviews with no app) have no thumbs-up count and count as 1"


def test_a_category_kept_out_of_training_with_many_labels_is_said_beside_the_predictions(workspace, capsys):
    """Other not trained and 12 of 30 labels: its reviews were counted in the trained categories
    (generic complaints read as praise) without a word from summary, report or status."""
    from reviewtui.cli import main
    from reviewtui.store import LabelRow, NewAsset

    ws, root = workspace, str(workspace.root)
    ws.store.add_assets([NewAsset(f"r{i}", f"text {i}") for i in range(40)])
    ws.store.add_labels([LabelRow(f"r{i}", "CONTENT" if i < 18 else "OTHER", "ann", "human") for i in range(27)])
    write_result_csv(ws)
    write_result_record(ws, 40, "quick")
    assert ws.prediction_staleness().untrained == ()  # 9 labels of 27: too few to say much
    ws.store.add_labels([LabelRow(f"r{i}", "OTHER", "ann", "human") for i in range(27, 30)])
    note = ("Other is not trained (12 labels, train = false): no review is predicted in it, and reviews like its "
            "labels are counted in the trained categories. `reviewtui categories set OTHER --train`, then "
            "`reviewtui predict --model quick`, lets the model learn Other.")  # the quick model: no export to wait for
    assert main(["-w", root, "summary"]) == 0
    assert note in flat(capsys.readouterr().out)
    assert main(["-w", root, "summary", "--json"]) == 0
    stale = json.loads(capsys.readouterr().out)["stale"]
    assert stale["untrained"] == [{"key": "OTHER", "name": "Other", "labels": 12}] and note in stale["notes"]
    assert main(["-w", root, "status"]) == 0
    assert "Other is not trained" not in flat(capsys.readouterr().out)  # not a next step: said where results are read
    from reviewtui.presentation import untrained_lines

    assert untrained_lines(ws.prediction_staleness(), in_app=True) == [
        "Other (12 labels) is not trained: reviews like them are counted in the trained categories; `reviewtui "
        "categories set OTHER --train`, then p, learns it."]
    ws.config.set_categories([{**c, "train": True} if c["key"] == "OTHER" else c for c in ws.taxonomy.to_list()])
    assert ws.prediction_staleness().untrained == ()


def _report_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("refused", ["set aside", "moved in"])
def test_a_report_that_cannot_be_written_whole_leaves_the_earlier_one_whole(tmp_path, monkeypatch, refused):
    """results/tables read-only: the new charts were moved in, then the error said nothing was
    kept half-written, named the temporary folder, and report.md, report.html and tables/ were
    the earlier report's. Now every file of the earlier report is back, nothing of the new one is
    left, and the error names results/tables."""
    import pandas as pd

    from reviewtui.analysis import report

    two = pd.concat([frame().assign(app="com.a"), frame().assign(app="com.b")], ignore_index=True)
    two["reviewId"] = [str(i) for i in range(len(two))]
    out = tmp_path / "results"
    report.write_report(summarize(two, categories=KEYS), out)
    before = _report_files(out)
    real_replace = os.replace

    def replace(src, dst):  # the new tables refused (an earlier one put back is not)
        folder = Path(src if refused == "set aside" else dst).parent
        if folder == out / "tables" and ".old" not in Path(src).parts:
            raise PermissionError(13, "Permission denied", str(src), None, str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", replace)
    with pytest.raises(ReviewtuiError) as err:
        report.write_report(summarize(two[two["app"] == "com.a"], categories=KEYS), out)
    text = str(err.value)
    assert f"cannot write {out / 'tables'}: Permission denied" in text and ".report-" not in text
    assert "the earlier report was left as it was" in text
    assert _report_files(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".report-")]


def test_an_interrupt_while_the_report_is_swapped_in_puts_the_earlier_one_back(tmp_path, monkeypatch):
    """Ctrl-C after the earlier report's files were set aside: the rollback ran for OSError only,
    and the temporary folder holding them was then removed."""
    from reviewtui.analysis import report

    out = tmp_path / "results"
    report.write_report(summarize(frame(), categories=KEYS), out)
    before = _report_files(out)
    real_replace = os.replace

    def replace(src, dst):
        if ".old" not in Path(src).parts and ".old" not in Path(dst).parts and Path(dst).name == "report.md":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        report.write_report(summarize(frame(), categories=KEYS), out)
    assert _report_files(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".report-")]


def test_earlier_report_files_that_cannot_be_put_back_are_named_and_kept(tmp_path, monkeypatch):
    """The new tables refused and the earlier ones then refused on their way back: the error says
    where those are, and that folder is kept."""
    from reviewtui.analysis import report

    out = tmp_path / "results"
    report.write_report(summarize(frame(), categories=KEYS), out)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).parent == out / "tables":
            raise PermissionError(13, "Permission denied", str(src), None, str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", replace)
    with pytest.raises(ReviewtuiError, match="could not be put back: they are in") as err:
        report.write_report(summarize(frame(), categories=KEYS), out)
    left = Path(str(err.value).split("they are in ")[1].split(". Make")[0])
    assert left.is_dir() and (left / "tables" / "category_distribution.csv").is_file()


def test_predictions_without_sentiment_leave_it_out_of_the_summary_and_the_report(workspace, capsys):
    """`predict --sentiment none`: the summary printed a "Category x sentiment" table of zeros and
    the report wrote sentiment sections, a sentiment chart and CSVs of zeros. Now they are left
    out, said in one line, and an earlier report's sentiment files are removed."""
    from reviewtui.cli import main

    root = str(workspace.root)
    write_result_csv(workspace)
    assert main(["-w", root, "report"]) == 0
    results = Path(root) / "results"
    assert (results / "charts" / "sentiment_distribution.png").is_file()
    capsys.readouterr()
    with open(results / "result.csv", "w", newline="", encoding="utf-8") as fh:  # predicted with no sentiment
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i, c, _, s, v, t in ROWS:
            w.writerow([i, f"text {i}", s, v, "", t, c, "0.9", "", "", "m"])
    line = "No sentiment was predicted: run `reviewtui predict --sentiment auto` (or vader, stars, team) to get it."
    assert main(["-w", root, "summary"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert line in out and "sentiment" not in out.replace(line, "") and "% neg" not in out
    assert main(["-w", root, "summary", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["has_sentiment"] is False and data["sentiments"] == {} and data["category_sentiment"] == {}
    assert main(["-w", root, "report"]) == 0
    assert line in " ".join(capsys.readouterr().out.split())
    charts = sorted(p.stem for p in (results / "charts").iterdir())
    tables = sorted(p.stem for p in (results / "tables").iterdir())
    assert charts == ["by_version", "category_distribution", "score_distribution"]
    assert not {"sentiment_distribution", "category_sentiment", "version_negative_share"} & set(tables)
    for name in tables:
        header = (results / "tables" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert not {"negative", "negative_share", "negative_low", "negative_high"} & set(header), name
    for doc in ("report.md", "report.html"):
        text = (results / doc).read_text(encoding="utf-8")
        assert line in text and "Sentiment" not in text and "Negative share" not in text, doc
