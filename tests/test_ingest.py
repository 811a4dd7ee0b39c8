"""Reading review CSVs: the cleaning rules come from [import], and a missing column is one clear
sentence naming the file, the column and what to do."""

from __future__ import annotations

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.ingest import TEXT_COLUMNS, read_reviews
from reviewtui.settings import ImportSettings
from tests.conftest import PLAY_HEADER, PLAY_ROWS, write_csv


def test_a_file_without_a_text_column_says_so_in_one_sentence(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["id", "note"], [["1", "hello"]])
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path)
    assert str(err.value) == (f"{path}: no text column (none of {', '.join(TEXT_COLUMNS)}); the columns are: "
                              "id, note; name the text column with --text-col")
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path, text_col="review")
    assert str(err.value).startswith(f"{path}: no text column 'review'; the columns are: id, note")
    assert read_reviews(path, text_col="note").texts == ["hello"]


# the headers of public review sets (first rows made up), and what each should give with no option
PUBLIC_SETS = {
    "amazon.jsonl": ('{"reviewerID": "R1", "asin": "B00", "reviewText": "Stopped working after a week", '
                     '"overall": 2.0, "summary": "Broke", "helpful": [2, 3], "unixReviewTime": 1400000000}\n',
                     "reviewText", "Stopped working after a week", {"score": 2, "title": "Broke", "thumbs_up": 2}),
    "yelp.json": ('[{"review_id": "Y1", "user_id": "u", "business_id": "b", "stars": 5, "useful": 1, '
                  '"text": "Lovely staff", "date": "2016-03-09 00:00:00"}]',
                  "text", "Lovely staff", {"score": 5, "at": "2016-03-09 00:00:00"}),
    "googleplaystore_user_reviews.csv": ("App,Translated_Review,Sentiment\nSudoku,Too many ads,Negative\n",
                                         "Translated_Review", "Too many ads", {"app": "Sudoku"}),
    "clothing.csv": ("Clothing ID,Age,Title,Review Text,Rating\n767,33,Nice,Runs small,4\n",
                     "Review Text", "Runs small", {"score": 4, "title": "Nice"}),
    "trustpilot.csv": ("Review ID,Review Created (UTC),Review Title,Review Content,Review Stars,Company Reply "
                       "Date (UTC),Reply Content\n5f1a,2024-05-02 10:11:12,Slow,Refund took weeks,2,2024-05-03,Sorry\n",
                       "Review Content", "Refund took weeks",
                       {"score": 2, "at": "2024-05-02 10:11:12", "title": "Slow", "reply": "Sorry",
                        "replied_at": "2024-05-03"}),
    "survey.tsv": ("respondent\tcomment\tscore\n7\tCan't log in\t1\n", "comment", "Can't log in", {"score": 1}),
}


@pytest.mark.parametrize("name", PUBLIC_SETS)
def test_the_text_of_public_review_sets_is_found_by_its_column_name(tmp_path, name):
    content, column, text, meta = PUBLIC_SETS[name]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    batch = read_reviews(path)
    assert batch.texts == [text] and batch.report.text_column == column
    assert {k: batch.metadata[0][k] for k in meta} == meta
    assert read_reviews(path, text_col=column).report.text_column is None  # named: nothing to tell


def test_cleaning_follows_the_import_settings(tmp_path):
    path = write_csv(tmp_path / "play.csv", PLAY_HEADER, PLAY_ROWS)
    cleaned = read_reviews(path)  # as [import] ships: every rule on but lowercase (the text as written)
    assert cleaned.texts[0] == "I can't read without paying for the membership!!"
    assert read_reviews(path, cleaning=ImportSettings()).texts == cleaned.texts
    assert "lowercase" not in cleaned.report.changed
    lowered = read_reviews(path, cleaning=ImportSettings(lowercase=True))
    assert lowered.texts[0] == "i can't read without paying for the membership!!"
    assert lowered.report.changed["lowercase"] > 0


def test_cleaning_in_parts_gives_what_one_piece_gives(tmp_path, monkeypatch):
    import reviewtui.ingest as ingest

    texts = ["Great <b>app</b> &amp; more", "see https://x.io/a now 😀", "  Tabs\tand\n lines  ", "", "ok",
             'quote " and \\ slash', "Émoji ✨ here", "<i></i>", "x" * 50, "Same text", "same text "]
    rows = [[f"id{i}", "user", "", texts[i % len(texts)], str(i % 5 + 1), str(i % 3), f"4.{i % 4}.0",
             f"2024-01-{i % 28 + 1:02d} 10:00:00", "reply\tone" if i % 7 == 0 else "", ""] for i in range(301)]
    path = write_csv(tmp_path / "play.csv", PLAY_HEADER, rows)
    import reviewtui.readers as readers

    whole = read_reviews(path)
    monkeypatch.setattr(ingest, "_parts", lambda n: min(ingest.PARTS, max(1, n // 10)))
    for arrow in (False, True):  # pandas' frame (small files) and pyarrow's (big files)
        if arrow:
            monkeypatch.setattr(readers, "ARROW_BYTES", 1)
        for parts in (2, 3):
            monkeypatch.setattr(ingest, "PARTS", parts)
            split = read_reviews(path)
            assert split.external_ids == whole.external_ids and split.texts == whole.texts
            assert split.metadata.json == whole.metadata.json and split.report == whole.report
    assert any("\\t" in m for m in whole.metadata.json) and whole.report.changed["remove html"] > 0


def test_a_row_whose_metadata_is_all_empty_is_kept(tmp_path):
    """A blank rating in a file whose only metadata is the rating, and JSON Lines rows with a null or
    missing rating: the rows are kept with no stars (the metadata's JSON was joined short of them)."""
    csv_path = write_csv(tmp_path / "r.csv", ["review_id", "review_body", "star_rating"],
                         [["S1", "fine jacket", "4"], ["S2", "broken zipper", ""], ["S3", "ok", "5"]])
    batch = read_reviews(csv_path)
    assert batch.external_ids == ["S1", "S2", "S3"]
    assert list(batch.metadata) == [{"score": 4}, {}, {"score": 5}]
    lines = tmp_path / "r.jsonl"
    lines.write_text('{"id": "J1", "text": "a", "rating": 3}\n{"id": "J2", "text": "b", "rating": null}\n'
                     '{"id": "J3", "text": "c"}\n', encoding="utf-8")
    assert list(read_reviews(lines).metadata) == [{"score": 3}, {}, {}]


def test_star_values_in_the_forms_files_write_them():
    from reviewtui.values import read_stars

    forms = {"4": 4, "4.0": 4, " 4 stars ": 4, "1 star": 1, "5/5": 5, "4,0": 4, "4,5": 5, "2.5": 3, "8/10": 4,
             "3 out of 5": 3, "★★★★☆": 4, "★☆☆☆☆": 1, "⭐️⭐️⭐️": 3, "0": 0, "7": 7, "great": None, "": None,
             "6/5": None}
    assert {v: read_stars(v) for v in forms} == forms


def test_import_reads_stars_and_dates_and_says_what_it_could_not(tmp_path):
    path = write_csv(tmp_path / "eu.csv", ["review_id", "review_body", "star_rating", "review_date"], [
        ["E1", "parcel arrived late", "2 stars", "01/03/2025"],
        ["E2", "zipper broke", "1,0", "15/03/2025"],
        ["E3", "love it", "★★★★★", "2025-03-20"],
        ["E4", "fits well", "4/5", "Mar 5, 2025"],
        ["E5", "meh", "great", "yesterday"],
        ["E6", "ok", "7", "1741176000"]])
    batch = read_reviews(path)
    assert [m.get("score") for m in batch.metadata] == [2, 1, 5, 4, "great", 7]
    # 15/03 settles the column's order: day first; the ISO date is kept as it is
    assert [m.get("at") for m in batch.metadata] == ["2025-03-01", "2025-03-15", "2025-03-20", "2025-03-05",
                                                     "yesterday", "2025-03-05 12:00:00"]
    r = batch.report
    assert r.columns == {"score": "star_rating", "at": "review_date"} and r.unused_columns == []
    assert r.readings == [
        "1 star value in column 'star_rating' could not be read and was stored as written ('great')",
        "1 star value in column 'star_rating' lies outside 1-5 ('7'): the star counts leave it out",
        "1 date value in column 'review_date' could not be read and was stored as written ('yesterday')"]


def test_an_iso_date_no_calendar_has_is_counted_unreadable(tmp_path):
    """2023-02-30 has the ISO shape but is no day: stored as written and counted, as 'yesterday' is;
    a leap day and a date with its time pass."""
    path = write_csv(tmp_path / "d.csv", ["id", "text", "date"],
                     [["1", "a", "2023-02-30"], ["2", "b", "2024-02-29 10:00:00"], ["3", "c", "2023-02-28"],
                      ["4", "d", "2023-02-30"], ["5", "e", "yesterday"], ["6", "f", "yesterday"]])
    batch = read_reviews(path)
    assert [m["at"] for m in batch.metadata] == ["2023-02-30", "2024-02-29 10:00:00", "2023-02-28", "2023-02-30",
                                                 "yesterday", "yesterday"]
    # rows are counted, as the star values are, not the distinct values
    assert batch.report.readings == [
        "4 date values in column 'date' could not be read and were stored as written ('2023-02-30', 'yesterday')"]


def test_numeric_dates_nothing_settles_are_read_month_first_unless_dayfirst(tmp_path):
    path = write_csv(tmp_path / "us.csv", ["id", "text", "date"], [["1", "a", "01/03/2025"], ["2", "b", "02/04/25"]])
    batch = read_reviews(path)
    assert [m["at"] for m in batch.metadata] == ["2025-01-03", "2025-02-04"]
    assert batch.report.readings == ["dates in column 'date' such as '01/03/2025' were read month first; "
                                     "import with --dayfirst if the day comes first"]
    day_first = read_reviews(path, dayfirst=True)
    assert [m["at"] for m in day_first.metadata] == ["2025-03-01", "2025-04-02"] and not day_first.report.readings
    dots = write_csv(tmp_path / "de.csv", ["id", "text", "date"], [["1", "a", "01.03.2025"]])
    assert read_reviews(dots).metadata[0]["at"] == "2025-03-01"  # dotted dates are day first


def test_product_review_columns_are_read_and_the_rest_named(tmp_path):
    """Amazon's review TSV: the product as the app, its headline, date and votes; what is not read
    is listed; options name other columns, in any case."""
    header = ["marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
              "product_category", "star_rating", "helpful_votes", "total_votes", "vine", "verified_purchase",
              "review_headline", "review_body", "review_date"]
    path = write_csv(tmp_path / "amazon.tsv", header, [
        ["US", "123", "RX1", "B001", "9", "Lumen Desk Lamp", "Home", "5", "3", "4", "N", "Y", "Bright!",
         "Very bright lamp", "2015-08-31"]], delimiter="\t")
    batch = read_reviews(path)
    assert batch.metadata[0] == {"score": 5, "at": "2015-08-31", "thumbs_up": 3, "title": "Bright!",
                                 "app": "Lumen Desk Lamp"}
    assert batch.report.columns == {"app": "product_title", "score": "star_rating", "at": "review_date",
                                    "thumbs_up": "helpful_votes", "title": "review_headline"}
    assert batch.report.unused_columns == ["marketplace", "customer_id", "product_id", "product_parent",
                                           "product_category", "total_votes", "vine", "verified_purchase"]
    named = read_reviews(path, columns={"app": "Product_Category", "title": "MARKETPLACE"}, text_col="Review Body")
    assert named.metadata[0]["app"] == "Home" and named.metadata[0]["title"] == "US"
    assert "product_title" in named.report.unused_columns
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path, columns={"date": "posted"})
    assert str(err.value).startswith(f"{path}: no date column 'posted' (--date-col); the columns are: marketplace")


def test_dates_that_start_with_their_year_stay_year_month_day_under_dayfirst(tmp_path):
    """--dayfirst is for 01/03/2025; an ISO 8601 time beside it (a T, a zone) is not read as
    the 3rd of January."""
    path = write_csv(tmp_path / "iso.csv", ["id", "text", "date"],
                     [["1", "a", "2023-03-01T05:52:07-07:00"], ["2", "b", "2023-03-04T05:52:07Z"],
                      ["3", "c", "2023-03-25T08:00:00.5Z"], ["4", "d", "01/03/2025 10:00"]])
    for dayfirst in (True, False, None):
        at = [m["at"] for m in read_reviews(path, dayfirst=dayfirst).metadata]
        assert at[:3] == ["2023-03-01 12:52:07", "2023-03-04 05:52:07", "2023-03-25 08:00:00"], dayfirst
        assert at[3] == ("2025-03-01 10:00:00" if dayfirst else "2025-01-03 10:00:00")


def test_dotted_dates_are_day_first_beside_slashed_ones(tmp_path):
    path = write_csv(tmp_path / "mixed.csv", ["id", "text", "date"],
                     [["1", "a", "05.03.2025"], ["2", "b", "15/04/2025"], ["3", "c", "01/04/2025"]])
    assert [m["at"] for m in read_reviews(path).metadata] == ["2025-03-05", "2025-04-15", "2025-04-01"]


def test_one_column_named_for_two_things_is_refused(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["id", "text", "stars", "when"], [["1", "fine", "4", "2025-01-01"]])
    with pytest.raises(ReviewtuiError, match=r"column 'when' is named by --stars-col and --date-col"):
        read_reviews(path, columns={"stars": "when", "date": "when"})
    with pytest.raises(ReviewtuiError, match=r"column 'text' is named by --app-col and --text-col"):
        read_reviews(path, columns={"app": "text"}, text_col="text")
    with pytest.raises(ReviewtuiError, match=r"column 'text' is named by --app-col and the text column found by"):
        read_reviews(path, columns={"app": "text"})


def test_a_recognised_export_lists_no_unread_columns(tmp_path):
    """Google Play's appVersion repeats reviewCreatedVersion: an export's own columns are not news."""
    path = write_csv(tmp_path / "play.csv", PLAY_HEADER + ["appVersion"], [r + ["4.4.0"] for r in PLAY_ROWS])
    assert read_reviews(path).report.unused_columns == []


def test_a_column_of_unix_times_is_read_in_one_pass(tmp_path):
    """Amazon's review sets write milliseconds, others seconds: both read as UTC."""
    path = write_csv(tmp_path / "epoch.csv", ["id", "text", "timestamp"],
                     [["1", "a", "1600000000123"], ["2", "b", "1741176000"], ["3", "c", ""]])
    batch = read_reviews(path)
    assert [m.get("at") for m in batch.metadata] == ["2020-09-13 12:26:40", "2025-03-05 12:00:00", None]
    assert not batch.report.readings


def test_html_cleaning_removes_tags_not_the_text_between_a_less_than_and_a_greater_than(tmp_path):
    """"<3", "2 < 3 stars" and "> $10" are words of a review, written or escaped (&lt;3): the
    cleaning took everything from a "<" to the next ">" (and unescaped first, so escaped ones too).
    Tags, comments and tags written escaped (&lt;br /&gt;) still go."""
    texts = ["I <3 this app, but the premium plan costs > $10 a month", "Rating: 2 < 3 stars, files > 100MB",
             "I &lt;3 this app &amp; the price is &gt; fair", "Great<br/>app<br />really",
             "<p class='x'>Hello</p><!-- note --> world", "&lt;br /&gt;escaped tag", "Love it <333"]
    path = write_csv(tmp_path / "lt.csv", ["reviewId", "content"], [[f"r{i}", t] for i, t in enumerate(texts)])
    batch = read_reviews(path)
    assert batch.texts == ["I <3 this app, but the premium plan costs > $10 a month",
                           "Rating: 2 < 3 stars, files > 100MB", "I <3 this app & the price is > fair",
                           "Great app really", "Hello world", "escaped tag", "Love it <333"]
    assert batch.report.changed["remove html"] == 4


def test_letters_written_with_enclosed_alphanumerics_are_read_as_letters_not_dropped_as_emoji(tmp_path):
    texts = ["🅅🄴🅁🅈 🄶🄾🄾🄳 🄵🄾🅁 🄺🄸🄳🅂", "🅱🅴🆂🆃 app 🅴🆅🅴🆁 😀", "😀😀", "🇫🇷 ok"]
    path = write_csv(tmp_path / "styled.csv", ["reviewId", "content"], [[f"r{i}", t] for i, t in enumerate(texts)])
    batch = read_reviews(path)
    assert batch.texts == ["VERY GOOD FOR KIDS", "BEST app EVER", "ok"]  # the flag is still an emoji
    assert batch.report.dropped["empty after cleaning"] == 1
    kept = read_reviews(path, cleaning=ImportSettings(remove_emoji=False))
    assert kept.texts[0] == texts[0]  # left as written when emoji are kept


def test_a_text_of_invisible_characters_only_is_dropped_as_empty(tmp_path):
    """Zero-width spaces, a direction mark or a stray byte-order mark alone were stored as reviews."""
    texts = ["\u200b\u200b", "\u00a0\u00a0", "\u200e", "\ufeff", "real\u200b review", " \u2060 \u200f ", "ok",
             "http://example.com \u200b", "<br>\u200b", "\u200b😀", "\u2066\u061c\u2069"]  # invisible once cleaned
    path = write_csv(tmp_path / "invisible.csv", ["reviewId", "content"], [[f"r{i}", t] for i, t in enumerate(texts)])
    batch = read_reviews(path)
    assert batch.texts == ["real\u200b review", "ok"]
    assert sum(batch.report.dropped.values()) == 9 and batch.report.dropped["empty after cleaning"] >= 8
    kept = read_reviews(path, cleaning=ImportSettings(drop_empty=False))
    assert len(kept.texts) == 10  # only the blank one goes, as a missing text


CLEANABLE = ["<b>bold</b> text", "a &amp; b &lt;i&gt;x&lt;/i&gt;", "see http://ex.com/a?b=1 now", "www.site.org",
             "  lead and trail  ", "tab\there", "two  spaces", "line\nbreak", "😀", "<br>", "http://only.url",
             "\u00a0nbsp\u00a0", "&#x1F600; ent", "ok 👍🏽 fine", " ", "&amp;", "x\u2028y", "plain words", "Plain",
             "", "café crème", "a\u3000b", "I <3 it > $10", "&lt;3 &lt;br&gt;", "🅅🄴🅁🅈 🄶🄾🄾🄳 👍"]


@pytest.mark.parametrize("rules", [{}, {"remove_html": False}, {"collapse_whitespace": False},
                                   {"remove_urls": False, "remove_emoji": False}, {"drop_empty": False},
                                   {"drop_missing": False, "drop_empty": False},
                                   {"drop_missing": False, "collapse_whitespace": False}])
def test_the_rules_run_on_the_rows_they_can_change_and_give_what_they_give_on_every_row(tmp_path, monkeypatch, rules):
    import numpy as np

    import reviewtui.ingest as ingest

    rows = [[f"id{i}", text + (f" {i}" if i % 3 else "")] for i, text in enumerate(CLEANABLE * 4)]
    path = write_csv(tmp_path / "r.csv", ["reviewId", "content"], rows)
    settings = ImportSettings(**rules)
    seen = []
    real = ingest._cleanable
    monkeypatch.setattr(ingest, "_cleanable", lambda *a: seen.append(real(*a)) or seen[-1])
    some = read_reviews(path, cleaning=settings)
    assert 0 < seen[0].sum() < len(rows)  # the plain rows were left out
    monkeypatch.setattr(ingest, "_cleanable", lambda texts, *a: np.ones(len(texts), dtype=bool))
    every = read_reviews(path, cleaning=settings)
    assert (some.external_ids, some.texts, some.report.changed, some.report.dropped) == \
           (every.external_ids, every.texts, every.report.changed, every.report.dropped)


def test_reviews_whose_fields_sit_in_objects_are_read_from_them(tmp_path):
    """App Store Connect's API writes each review as {id, type, attributes: {rating, title, body,
    ...}}, and app-store-scraper the developer's answer as developerResponse: {body, modified}:
    the first was refused for having no text column, the answer was left out."""
    import json

    api = {"data": [{"type": "customerReviews", "id": f"a{i}",
                     "attributes": {"rating": 1 + i % 5, "title": f"title {i}", "body": f"the app review number {i}",
                                    "reviewerNickname": "nick", "createdDate": "2024-03-0%dT10:00:00-07:00" % (i + 1),
                                    "territory": "USA"}} for i in range(3)],
           "links": {"self": "https://api"}, "meta": {"paging": {"total": 3}}}
    path = tmp_path / "asc.json"
    path.write_text(json.dumps(api), encoding="utf-8")
    batch = read_reviews(path, app="com.acme.ios")
    assert batch.report.profile == "App Store Connect" and batch.external_ids == ["a0", "a1", "a2"]
    assert batch.texts[1] == "the app review number 1"
    assert batch.metadata[1]["score"] == 2 and batch.metadata[1]["title"] == "title 1"
    assert batch.metadata[0]["at"].startswith("2024-03-01")
    scraped = [{"date": "2024-05-01 10:00:00", "review": "crashes on start", "rating": 1, "isEdited": False,
                "title": "bad", "userName": "u1",
                "developerResponse": {"id": 7, "body": "Sorry, fixed in 2.1", "modified": "2024-05-02T09:00:00Z"}},
               {"date": "2024-05-03 10:00:00", "review": "love it", "rating": 5, "isEdited": False, "title": "ok",
                "userName": "u2"}]
    path = tmp_path / "as.json"
    path.write_text(json.dumps(scraped), encoding="utf-8")
    batch = read_reviews(path, app="com.acme.ios")
    assert batch.metadata[0]["reply"] == "Sorry, fixed in 2.1" and batch.metadata[0]["replied_at"].startswith("2024-05-02")
    assert "reply" not in batch.metadata[1]
    lines = tmp_path / "as.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in scraped), encoding="utf-8")
    assert read_reviews(lines, app="x").metadata[0]["reply"] == "Sorry, fixed in 2.1"


def test_the_columns_of_steam_amazon_food_and_trustpilot_exports_are_read_by_their_names(tmp_path):
    """Steam's app_id is a number beside app_name (the name is the app), its date timestamp_created
    and its votes votes_helpful; Amazon Fine Food's HelpfulnessNumerator; a Trustpilot export's
    Company, "Date of Experience" and "Rated 4 out of 5 stars"."""
    steam = write_csv(tmp_path / "steam.csv", ["app_id", "app_name", "review_id", "review", "timestamp_created",
                                               "votes_helpful"],
                      [["570", "Dota 2", "1", "great game but crashes", "1700000000", "3"],
                       ["730", "Counter-Strike 2", "2", "cheaters everywhere", "1700200000", "5"]])
    b = read_reviews(steam)
    assert [m["app"] for m in b.metadata] == ["Dota 2", "Counter-Strike 2"]
    assert b.metadata[0]["at"] == "2023-11-14 22:13:20" and b.metadata[1]["thumbs_up"] == 5
    food = write_csv(tmp_path / "food.csv", ["Id", "ProductId", "HelpfulnessNumerator", "HelpfulnessDenominator",
                                             "Score", "Time", "Summary", "Text"],
                     [["1", "B001E4KFG0", "1", "1", "5", "1303862400", "Good Quality Dog Food", "I have bought"]])
    m = read_reviews(food).metadata[0]
    assert (m["app"], m["thumbs_up"], m["score"], m["title"]) == ("B001E4KFG0", 1, 5, "Good Quality Dog Food")
    assert m["at"] == "2011-04-27 00:00:00"
    trust = write_csv(tmp_path / "trust.csv", ["Review Title", "Review Content", "Rating", "Date of Experience",
                                               "Company"],
                      [["Slow", "The transfer took a week", "Rated 2 out of 5 stars", "March 03, 2024", "Acme Bank"]])
    m = read_reviews(trust).metadata[0]
    assert (m["app"], m["score"], m["at"], m["title"]) == ("Acme Bank", 2, "2024-03-03", "Slow")


def test_rows_with_an_empty_app_among_apps_are_counted_in_the_report(tmp_path):
    path = write_csv(tmp_path / "apps.csv", ["reviewId", "content", "app"],
                     [["a", "great", "com.a"], ["b", "bad", ""], ["c", "ok", "com.b"], ["d", "meh", "  "]])
    batch = read_reviews(path)
    assert batch.report.apps == ["com.a", "com.b"]
    assert any(r.startswith("2 rows have an empty 'app'") for r in batch.report.readings)
    assert not read_reviews(path, app="com.c").report.readings  # --app sets every row's app


def test_a_quote_never_closed_is_named_by_its_line(tmp_path):
    """pandas' "EOF inside string starting at row 2" counted records, not the lines an editor shows."""
    path = tmp_path / "open.csv"
    path.write_text('id,text\n1,"good\napp"\n2,"bad\n3,ok\n', encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"open.csv: line 4: a quoted field opens there and is never closed"):
        read_reviews(path)
    # a stray quote pandas reads ("nice" app) before it is not the field that never closes
    path.write_text('id,text\n1,good app\n2,"nice" app\n3,ok\n4,"broken quote\n5,fine\n', encoding="utf-8")
    with pytest.raises(ReviewtuiError, match=r"open.csv: line 5: a quoted field opens there and is never closed"):
        read_reviews(path)


@pytest.mark.parametrize("big", [False, True])
def test_rows_read_into_one_quoted_field_are_refused(tmp_path, big):
    """A quote opened on one row and closed on a later one, followed by more text: the rows between
    became part of one review's text (two reviews lost) and the import said nothing. A text of
    several lines whose quotes close is a review's paragraphs, kept; so is a big file's."""
    filler = "".join(f"f{i},review number {i} is fine,4\n" for i in range(40_000)) if big else ""
    path = tmp_path / "swallow.csv"
    path.write_text('reviewId,content,score\n' + filler + 'a1,"broken text,1\na2,second review,2\na3,third,"3"\n'
                    'a4,fourth,4\n', encoding="utf-8")
    line = 2 + filler.count("\n")
    assert (path.stat().st_size >= 1_000_000) == big
    with pytest.raises(ReviewtuiError, match=rf"swallow.csv: line {line}: a quoted field opens there and its closing "
                                             rf"quote, on line {line + 2}, is followed by more text"):
        read_reviews(path)
    path.write_text('reviewId,content,score\n' + filler + 'a5,"two lines,\nand a ""quote""",5\na6,"nice" app,4\n',
                    encoding="utf-8")
    texts = read_reviews(path).texts
    assert texts[-2:] == ['two lines, and a "quote"', "nice app"]  # (spaces collapsed by the cleaning)


def test_app_names_that_differ_only_in_case_are_one_app(tmp_path):
    """"quickbite ios" typed beside "QuickBite iOS" was a second app in status and the summary (and
    one app to the queue's app= filter); the ids stay those the rows' own spellings give."""
    rows = [["a", "crash on login", "QuickBite iOS"], ["b", "crash at checkout", "quickbite ios "],
            ["c", "great", "QuickBite iOS"], ["d", "fine", "Other App"]]
    path = write_csv(tmp_path / "apps.csv", ["reviewId", "content", "app"], rows)
    batch = read_reviews(path)
    assert [m["app"] for m in batch.metadata] == ["QuickBite iOS", "QuickBite iOS", "QuickBite iOS", "Other App"]
    assert batch.report.apps == ["Other App", "QuickBite iOS"]
    assert "app names that differ only in case read as one: 'quickbite ios' (1 row) as 'QuickBite iOS'" in \
        batch.report.readings
    plain = write_csv(tmp_path / "plain.csv", ["reviewId", "content", "app"], [r[:2] + ["X"] for r in rows])
    assert not read_reviews(plain).report.readings


def test_ids_a_spreadsheet_rounded_are_said_to_be_rounded(tmp_path):
    """5.67588E+17 for 567588278876213835: the advice was --ids-per-app, which failed again."""
    rows = [["5.67588E+17", f"review number {i}", ("United", "Delta")[i % 2]] for i in range(6)]
    path = write_csv(tmp_path / "tweets.csv", ["tweet_id", "text", "airline"], rows)
    for ids_per_app in (False, True):
        with pytest.raises(ReviewtuiError, match="a spreadsheet rounded to a few digits.*without --id-col tweet_id"):
            read_reviews(path, id_col="tweet_id", columns={"app": "airline"}, ids_per_app=ids_per_app)
