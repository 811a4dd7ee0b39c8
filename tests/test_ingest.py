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
                     '"overall": 2.0, "summary": "Broke", "unixReviewTime": 1400000000}\n',
                     "reviewText", "stopped working after a week", {"score": 2, "title": "Broke"}),
    "yelp.json": ('[{"review_id": "Y1", "user_id": "u", "business_id": "b", "stars": 5, "useful": 1, '
                  '"text": "Lovely staff", "date": "2016-03-09 00:00:00"}]',
                  "text", "lovely staff", {"score": 5, "at": "2016-03-09 00:00:00"}),
    "googleplaystore_user_reviews.csv": ("App,Translated_Review,Sentiment\nSudoku,Too many ads,Negative\n",
                                         "Translated_Review", "too many ads", {"app": "Sudoku"}),
    "clothing.csv": ("Clothing ID,Age,Title,Review Text,Rating\n767,33,Nice,Runs small,4\n",
                     "Review Text", "runs small", {"score": 4, "title": "Nice"}),
    "survey.tsv": ("respondent\tcomment\tscore\n7\tCan't log in\t1\n", "comment", "can't log in", {"score": 1}),
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
    cleaned = read_reviews(path)  # every rule on, as [import] ships
    assert cleaned.texts[0] == "i can't read without paying for the membership!!"
    assert read_reviews(path, cleaning=ImportSettings()).texts == cleaned.texts
    kept_case = read_reviews(path, cleaning=ImportSettings(lowercase=False))
    assert kept_case.texts[0] == "I can't read without paying for the membership!!"
    assert "lowercase" not in kept_case.report.changed


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
