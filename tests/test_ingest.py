"""Reading review CSVs: the cleaning rules come from [import], and a missing column is one clear
sentence naming the file, the column and what to do."""

from __future__ import annotations

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.ingest import read_reviews
from reviewtui.settings import ImportSettings
from tests.conftest import PLAY_HEADER, PLAY_ROWS, write_csv


def test_a_file_without_a_text_column_says_so_in_one_sentence(tmp_path):
    path = write_csv(tmp_path / "g.csv", ["id", "body"], [["1", "hello"]])
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path)
    assert str(err.value) == (f"{path}: no text column (content); the columns are: id, body; "
                              "name the text column with --text-col")
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path, text_col="review")
    assert str(err.value).startswith(f"{path}: no text column 'review'; the columns are: id, body")


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
