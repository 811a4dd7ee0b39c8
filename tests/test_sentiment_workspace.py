"""Sentiment a team can trust, through the workspace and the CLI: sentiment labels recorded and
counted, `[sentiment] model = "team"` used by predict (weak star labels before there are enough team
labels), and `reviewtui sentiment` reporting cross-validated agreement with the team's labels."""

from __future__ import annotations

import csv
import json

from reviewtui.analysis.sentiment import star_label
from reviewtui.analysis.sentiment_model import TeamAnalyzer
from reviewtui.cli import main


def label_sentiments(ws, n: int) -> dict[str, str]:
    """The team's sentiment on the first ``n`` reviews: the stars' reading, except that 3-star reviews
    are complaints (negative), as on the public set."""
    out = {}
    for asset in list(ws.store.iter_assets())[:n]:
        value = star_label(asset.metadata["score"])
        out[asset.external_id] = "negative" if value == "neutral" else value
        ws.label_sentiment(asset.external_id, out[asset.external_id])
    return out


def test_team_model_predicts_from_weak_star_labels_then_from_the_team(analysis_ws, capsys):
    ws = analysis_ws
    ws.config.update_section("sentiment", {"model": "team", "min_team_labels": 30})
    root = str(ws.root)
    for ext, label in list(ws.truth.items())[:24]:
        ws.label(ext, label)
    first = ws.predict("quick")
    assert first.sentiment == "team" and sum(first.sentiment_counts.values()) == 64
    # too few team labels: it learns from the stars' weak labels (on the text alone)
    analyzer = TeamAnalyzer(ws.store, ws.embedding_cache(), ws.settings.sentiment).fit()
    assert analyzer.model.mode == "stars" and analyzer.model.trained_on == {"team": 0, "weak": 64}

    team = label_sentiments(ws, 40)
    analyzer = TeamAnalyzer(ws.store, ws.embedding_cache(), ws.settings.sentiment).fit()
    assert analyzer.model.mode == "team" and analyzer.model.trained_on == {"team": 40, "weak": 24}
    assert main(["-w", root, "status"]) == 0
    assert "Sentiment labels: negative 24, neutral 0, positive 16 (40 reviews)" in " ".join(
        capsys.readouterr().out.split())
    assert main(["-w", root, "predict", "--model", "quick", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["sentiment"] == "team"
    with open(second["path"], newline="", encoding="utf-8") as fh:
        rows = {r["reviewId"]: r for r in csv.DictReader(fh)}
    # 40 team labels: it learned the team's reading of the stars (3 stars: a complaint)
    agree = sum(rows[ext]["sentiment"] == value for ext, value in team.items())
    assert agree >= 36


def test_sentiment_reports_agreement_with_the_team_cross_validated(analysis_ws, capsys):
    ws = analysis_ws
    root = str(ws.root)
    assert main(["-w", root, "sentiment", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["team"] is None and "no review has a team sentiment label yet" in data["team_note"]
    assert data["agreements"]  # the comparison with the stars still stands

    label_sentiments(ws, 40)
    assert main(["-w", root, "sentiment", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    team = data["team"]
    names = [a["analyzer"] for a in team["agreements"]]
    assert team["n"] == 40 and names[0].startswith("star rule") and "vader" in names
    assert any(n.startswith("team labels (text + stars") for n in names)
    crossed = {a["analyzer"]: a["cross_validated"] for a in team["agreements"]}
    assert crossed["team labels (text + stars)"] is True and crossed["vader"] is False
    rule = team["agreements"][0]
    assert rule["accuracy"] == 0.8  # the team calls 3-star reviews negative: 8 of 40 differ
    assert main(["-w", root, "sentiment"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Agreement with the team's sentiment labels on 40 reviews" in out and "baseline" in out
    assert "Agreement with the stars" in out


def test_label_records_sentiments_from_the_cli_and_a_file(analysis_ws, tmp_path, capsys):
    ws = analysis_ws
    root = str(ws.root)
    first, second, third = [a.external_id for a in list(ws.store.iter_assets())[:3]]
    category = ws.taxonomy.training_keys[0]
    assert main(["-w", root, "label", first, category, "--sentiment", "negative"]) == 0
    assert main(["-w", root, "label", second, "--sentiment", "positive"]) == 0  # the sentiment alone
    out = capsys.readouterr().out
    assert f"{first}: sentiment negative" in out and f"{second}: sentiment positive" in out
    assert ws.store.get(first).label == category and ws.store.get(second).label is None
    assert {k: v.sentiment for k, v in ws.store.sentiments().items()} == {first: "negative", second: "positive"}

    # a file: a sentiment column next to the labels; a blank label records the sentiment alone
    f = tmp_path / "team.csv"
    f.write_text(f"id,label,sentiment\n{first},,negative\n{second},{category},neutral\n{third},,\n",
                 encoding="utf-8")
    assert main(["-w", root, "label", "--from", str(f)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Applied 1 label" in out and "Recorded 1 sentiment (1 already so)." in out
    assert ws.store.sentiments()[second].sentiment == "neutral" and third not in ws.store.sentiments()
    assert ws.store.get(second).label == category

    # one bad sentiment applies nothing; undo takes back the latest sentiment
    bad = tmp_path / "bad.csv"
    bad.write_text(f"id,sentiment\n{third},positive\n{first},angry\n", encoding="utf-8")
    assert main(["-w", root, "label", "--from", str(bad)]) == 2
    assert "line 3: sentiment 'angry' is not one of negative, neutral, positive" in capsys.readouterr().err
    assert third not in ws.store.sentiments()
    assert main(["-w", root, "undo", second]) == 0
    assert ws.store.sentiments()[second].sentiment == "positive" and ws.store.get(second).label == category
    ws.skip(third, "spam")  # a skipped review's sentiment is recorded, and said to be left out of the counts
    f.write_text(f"id,sentiment\n{third},positive\n", encoding="utf-8")
    assert main(["-w", root, "label", "--from", str(f)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Recorded 1 sentiment (0 already so; 1 on skipped reviews, which the counts by sentiment leave out)." in out
    assert "Read 1 row of sentiments from" in out and "Applied 0 labels" not in out  # no labels in the file
    f.write_text("text,label\nthe app is fine,CONTENT\n", encoding="utf-8")  # the reviews, with no ids
    assert main(["-w", root, "label", "--from", str(f)]) == 2
    assert "applied by `reviewtui import FILE --label-col COLUMN`" in capsys.readouterr().err


def test_auto_sentiment_chooses_by_what_the_corpus_has():
    """[sentiment] model = "auto": the team's model once it has enough labels, the star-trained head
    where enough reviews carry stars of two kinds at least, VADER otherwise; each with its reason."""
    from reviewtui.analysis.sentiment import choose_sentiment

    many = [1, 2, 3, 4, 5] * 60
    assert choose_sentiment(many, {}, 30) == ("stars", "300 reviews have a star score to learn from")
    assert choose_sentiment(many, {"negative": 20, "positive": 10}, 30) == ("team", "the team labeled 30 sentiments")
    # 30 labels of one sentiment: the team model would learn from the stars, so the stars it is
    assert choose_sentiment(many, {"negative": 30}, 30)[0] == "stars"
    assert choose_sentiment([], {"negative": 30}, 30)[0] == "vader"
    few = ["5", None, "", "x"] * 40 + [1] * 30
    assert choose_sentiment(few, {"positive": 3}, 30) == ("vader", "only 70 reviews have a star score and the team labeled 3 "
                                                     "sentiments")
    assert choose_sentiment([5] * 290 + [1] * 10, {}, 30)[0] == "vader"  # nearly all of one kind
    assert choose_sentiment([], {}, 30)[0] == "vader"


def test_predict_runs_the_sentiment_auto_chooses_and_says_why(analysis_ws, capsys, monkeypatch):
    import reviewtui.analysis.sentiment as sentiment

    ws = analysis_ws
    assert ws.settings.sentiment.model == "auto"
    for ext, label in list(ws.truth.items())[:24]:
        ws.label(ext, label)
    first = ws.predict("quick")  # 64 reviews with stars: too few for the star head
    assert first.sentiment == "vader" and first.sentiment_choice.startswith("only 64 reviews have a star score")
    monkeypatch.setattr(sentiment, "AUTO_MIN_STARS", 50)
    assert main(["-w", str(ws.root), "predict", "--model", "quick"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Sentiment (stars, as 64 reviews have a star score to learn from):" in out
    meta = json.loads((ws.results_dir / "result.json").read_text(encoding="utf-8"))
    assert meta["sentiment"] == "stars" and meta["sentiment_choice"] == "64 reviews have a star score to learn from"
    label_sentiments(ws, 30)
    assert ws.predict("quick").sentiment == "team"


def test_a_sentiment_predict_cannot_run_is_said_as_the_sentiment_option(analysis_ws, capsys, monkeypatch):
    """A --sentiment that is none of predict's options gets advice about --sentiment, not about
    [model] base; a star sentiment (asked for, or auto's choice) that needs a [model] base that is not
    on this machine says so, and offers VADER, which needs no model."""
    import reviewtui.analysis.sentiment as sentiment
    from reviewtui.modeling.card import ModelCard

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ws = analysis_ws
    root = str(ws.root)
    for ext, label in list(ws.truth.items())[:24]:
        ws.label(ext, label)
    assert main(["-w", root, "predict", "--model", "quick", "--sentiment", "bogus"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "sentiment 'bogus' (--sentiment, or [sentiment] model in reviewtui.toml) is not one of auto, vader, " \
           "stars, team, none" in err
    assert "[model] base" not in err and "minilm" not in err
    # a saved model that predicts without [model] base, and a base that is nowhere here
    keys = list(ws.taxonomy.training_keys)
    (ws.models_dir / "m1").mkdir(parents=True)
    ModelCard("m1", "quick", "minilm", "package", keys, keys).save(ws.models_dir / "m1")
    toml = ws.root / "reviewtui.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('base = "minilm"', 'base = "owner/not-cached-here"', 1),
                    encoding="utf-8")
    monkeypatch.setattr(sentiment, "AUTO_MIN_STARS", 50)  # the 64 reviews' stars are enough for auto
    for flags, how in [(["--sentiment", "stars"], "the stars sentiment (--sentiment, or [sentiment] model)"),
                       ([], "the stars sentiment (chosen by --sentiment auto: 64 reviews have a star score")]:
        for where in ([], ["--detach"]):
            assert main(["-w", root, "predict", "--model", "m1", *flags, *where]) == 2, (flags, where)
            err = " ".join(capsys.readouterr().err.split())
            assert how in err and "owner/not-cached-here" in err and "--sentiment vader" in err, (flags, where, err)
    assert ws.jobs.list() == []


def test_auto_sentiment_chooses_alike_from_each_score_or_from_their_counts():
    from collections import Counter

    from reviewtui.analysis.sentiment import choose_sentiment

    for scores in ([1, 2, 3, 4, 5] * 60, [5] * 290 + [1] * 10, ["5", None, "", "x"] * 40 + [1] * 30, []):
        assert choose_sentiment(dict(Counter(scores)), {}, 30) == choose_sentiment(scores, {}, 30)
