"""Reading the files teams have: every format into the same rows, and one clear error per bad input."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from conftest import PLAY_HEADER, PLAY_ROWS
from reviewtui.settings import ImportSettings
from reviewtui.errors import ReviewtuiError
from reviewtui.ingest import expand_inputs, keyed_ids, read_records, read_reviews, recognise, stable_id
from reviewtui.readers import cell, read_table

TSV = "\n".join("\t".join(r) for r in [PLAY_HEADER, *PLAY_ROWS]) + "\n"


def play_records() -> list[dict]:
    """google-play-scraper's results as Python objects: ints, datetimes, None."""
    out = []
    for r in PLAY_ROWS:
        rec = dict(zip(PLAY_HEADER, r))
        rec["score"] = int(rec["score"])
        rec["thumbsUpCount"] = int(rec["thumbsUpCount"])
        rec["at"] = datetime.fromisoformat(rec["at"])
        rec["repliedAt"] = datetime.fromisoformat(rec["repliedAt"]) if rec["repliedAt"] else None
        rec["replyContent"] = rec["replyContent"] or None
        rec["reviewCreatedVersion"] = rec["reviewCreatedVersion"] or None
        rec["appVersion"] = rec["reviewCreatedVersion"]
        out.append(rec)
    return out


def expected_rows() -> list[list[str]]:
    return [list(r) for r in PLAY_ROWS]


@pytest.mark.parametrize("encoding,bom,label", [
    ("utf-8", codecs.BOM_UTF8, "UTF-8 with BOM"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16 LE"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 BE"),
    ("utf-16-le", b"", "UTF-16 LE (no BOM)"),
])
def test_unicode_text_tab_separated_as_spreadsheets_save_it(tmp_path, encoding, bom, label):
    path = tmp_path / "reviews.txt"
    path.write_bytes(bom + TSV.encode(encoding))
    table = read_table(path)
    assert table.encoding == label and table.format == "tsv"
    assert table.header == PLAY_HEADER and table.rows == expected_rows()
    batch = read_reviews(path)
    assert batch.external_ids == ["r1", "r2", "r3", "r6"]
    assert batch.report.profile == "google-play-scraper"


def test_json_saved_from_google_play_scraper_as_is(tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(play_records(), default=str, indent=2), encoding="utf-8")
    table = read_table(path)
    assert table.format == "json" and table.header[:10] == PLAY_HEADER
    assert [r[:10] for r in table.rows] == expected_rows()
    batch = read_reviews(path)
    assert batch.external_ids == ["r1", "r2", "r3", "r6"]
    assert batch.metadata[0] == {"score": 1, "app_version": "4.4.0", "at": "2022-01-02 10:00:00", "thumbs_up": 3}


def test_json_lines_and_a_wrapped_json_list(tmp_path):
    lines = tmp_path / "reviews.jsonl"
    lines.write_text("\n".join(json.dumps(r, default=str) for r in play_records()) + "\n\n", encoding="utf-8")
    assert [r[:10] for r in read_table(lines).rows] == expected_rows()
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"count": 6, "reviews": play_records()}, default=str), encoding="utf-8")
    assert read_reviews(wrapped).external_ids == ["r1", "r2", "r3", "r6"]
    unnamed = tmp_path / "noext"
    unnamed.write_text(lines.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_table(unnamed).format == "jsonl"


def test_parquet_with_typed_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = play_records()
    table = pa.Table.from_pylist(recs)
    assert pa.types.is_timestamp(table.schema.field("at").type) and pa.types.is_integer(table.schema.field("score").type)
    path = tmp_path / "reviews.parquet"
    pq.write_table(table, path)
    got = read_table(path)
    assert got.format == "parquet" and [r[:10] for r in got.rows] == expected_rows()
    assert read_reviews(path).metadata[0]["score"] == 1


def test_parquet_floats_dictionaries_and_aware_timestamps(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"reviewId": pa.array(["a", "b"]).dictionary_encode(), "content": ["x", "y"],
                  "score": pa.array([5.0, None]), "ratio": [0.25, 1.5],
                  "at": pa.array([datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("ms", tz="UTC"))})
    pq.write_table(t, tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet").rows == [["a", "x", "5", "0.25", "2024-01-02T03:04:05+00:00"],
                                                        ["b", "y", "", "1.5", ""]]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_a_first_sheet_of_a_header_only_names_the_other_sheets_and_a_nul_byte_its_line(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"Intro": [["About this export"]], "Reviews": [["content"], ["ok"]]})
    with pytest.raises(ReviewtuiError, match=r"book.xlsx: the file has a header but no rows in sheet 'Intro'; the "
                                             r"workbook's other sheets: 'Reviews': --sheet NAME reads one"):
        read_table(path)
    (tmp_path / "nul.csv").write_bytes(b"id,content\n1,hello\n2,wor\x00ld\n")
    with pytest.raises(ReviewtuiError, match=r"nul.csv: not a CSV text file: it contains binary data \(a NUL byte on "
                                             r"line 3, byte 24\)"):
        read_table(tmp_path / "nul.csv")


def test_excel_first_sheet_or_a_named_one(tmp_path):
    typed = [[int(v) if i in (4, 5) else datetime.fromisoformat(v) if i == 7 else (v or None)
              for i, v in enumerate(r)] for r in PLAY_ROWS]
    path = write_xlsx(tmp_path / "reviews.xlsx", {"Notes": [["note"], ["ignore me"]],
                                                  "Reviews": [PLAY_HEADER, *typed, [None] * 10]})
    assert read_table(path).header == ["note"]
    table = read_table(path, sheet="Reviews")
    assert table.sheet == "Reviews" and table.rows == expected_rows()
    assert read_reviews(path, sheet="Reviews").external_ids == ["r1", "r2", "r3", "r6"]
    with pytest.raises(ReviewtuiError, match=r"no sheet 'Data'; the sheets are: Notes, Reviews"):
        read_table(path, sheet="Data")
    # the first sheet holds no reviews: the error names the others and --sheet
    with pytest.raises(ReviewtuiError, match=r"\(in sheet 'Notes'; the workbook's other sheets: 'Reviews': --sheet "
                                             r"NAME reads one\)"):
        read_reviews(path)


def test_excel_numbers_shown_with_fixed_decimals_keep_them(tmp_path):
    """An app version typed as a number reads as the sheet shows it: 5.10 under a "0.00" format is
    5.10, not 5.1 (the same version as 5.1 otherwise); a General number stays as it is."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["id", "content", "version", "score"])
    for i, (v, fmt) in enumerate([(5.1, "0.00"), (5.1, "0.0"), (5.1, "General"), (4.0, "0.0")]):
        ws.append([f"r{i}", f"text {i}", v, 4])
        ws.cell(row=i + 2, column=3).number_format = fmt
    wb.save(tmp_path / "v.xlsx")
    assert [r[2] for r in read_table(tmp_path / "v.xlsx").rows] == ["5.10", "5.1", "5.1", "4.0"]
    assert [m["app_version"] for m in read_reviews(tmp_path / "v.xlsx").metadata] == ["5.10", "5.1", "5.1", "4.0"]


def test_an_excel_workbook_named_csv_is_still_read(tmp_path):
    path = write_xlsx(tmp_path / "reviews.csv", {"S": [["id", "content"], ["a", "hello"]]})
    # the zip signature decides, not the name
    assert read_table(path).rows == [["a", "hello"]]


BAD = {
    "json-syntax": ("r.json", b'[{"reviewId": "a", "content": "x"},\n {"reviewId": "b" "content": "y"}]',
                    r"line 2, column 19: not valid JSON"),
    "json-object": ("r.json", b'{"a": 1, "b": 2}', "a JSON object, not a list of reviews"),
    "json-scalars": ("r.json", b'["one", "two"]', "item 1 is str, not an object"),
    "json-empty-list": ("r.json", b"[]", "the JSON list is empty"),
    "jsonl-bad-line": ("r.jsonl", b'{"content": "a"}\n{"content": \n', "line 2: not valid JSON"),
    "jsonl-not-object": ("r.jsonl", b'{"content": "a"}\n[1, 2]\n', "line 2 is list"),
    "parquet-broken": ("r.parquet", b"PAR1" + b"\x00garbage" * 10, "not a readable Parquet file"),
    "parquet-name-only": ("r.parquet", b"reviewId,content\na,b\n", "named like a Parquet file but it is not one"),
    "old-xls": ("r.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "save it as .xlsx or CSV"),
    "gzip": ("r.csv.gz", gzip.compress(b"reviewId,content\na,b\n"), "unpack it first"),
    "zip-not-workbook": ("r.zip", None, "not an Excel workbook"),
    "utf16-broken": ("r.txt", codecs.BOM_UTF16_LE + "id\tcontent\n".encode("utf-16-le") + b"\x00\xd8\x41",
                     "UTF-16 LE byte-order mark but byte"),
    "binary": ("r.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "not a CSV text file"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_one_clear_error(tmp_path, case):
    name, content, expected = BAD[case]
    path = tmp_path / name
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("reviews.csv", "id,content\na,b\n")
        content = buf.getvalue()
    path.write_bytes(content)
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(path)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_delimiter_is_one_character_and_tab_may_be_spelled_out(tmp_path, play_csv):
    with pytest.raises(ReviewtuiError, match=r"the delimiter must be one character .* not ';;'; fix --delimiter"):
        read_table(play_csv, delimiter=";;")
    tsv = tmp_path / "r.txt"
    tsv.write_text(TSV, encoding="utf-8")
    for spelled in ("\t", "\\t", "tab"):
        assert read_table(tsv, delimiter=spelled).header == PLAY_HEADER


def test_sheet_option_on_a_csv_is_refused(play_csv):
    with pytest.raises(ReviewtuiError, match="--sheet applies to Excel workbooks only"):
        read_table(play_csv, sheet="Reviews")


def test_cell_strings():
    assert [cell(v) for v in (None, float("nan"), 5.0, 2.5, True, 7, datetime(2024, 1, 2, 3, 4, 5), [1, "a"],
                              {"body": "thanks"})] == [
        "", "", "5", "2.5", "true", "7", "2024-01-02 03:04:05", '[1, "a"]', '{"body": "thanks"}']


# --- ids, apps and App Store exports ------------------------------------------------------------
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_review_id_is_the_id_column_in_any_file_that_has_one(tmp_path):
    f = write(tmp_path / "r.csv", "review_id,text,stars\nA1,Good app,5\nA2,Good app,5\n")
    batch = read_reviews(f, text_col="text")
    assert batch.external_ids == ["A1", "A2"]  # not hashed from the text, and not merged as duplicates
    f2 = write(tmp_path / "r2.csv", "reviewId,body\nx,hello\n")
    assert read_reviews(f2, text_col="body").external_ids == ["x"]


def test_empty_ids_refused_with_count_and_rows_or_filled_from_text(tmp_path):
    rows = "".join(f"{'' if i % 3 == 0 else f'id{i}'},review number {i}\n" for i in range(1, 10))
    f = write(tmp_path / "r.csv", "id,content\n" + rows + ",\n")  # the last row has neither id nor text
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(f)
    msg = str(err.value)
    assert "3 rows with an empty id in column 'id' (data rows 3, 6, 9)" in msg and "--fill-missing-ids" in msg
    batch = read_reviews(f, fill_missing_ids=True)
    assert batch.report.ids_from_text == 3 and batch.report.dropped["missing text"] == 1
    assert stable_id("review number 3") in batch.external_ids and "id1" in batch.external_ids
    assert len(batch.external_ids) == 9


def test_filled_ids_of_identical_texts_are_one_review(tmp_path):
    f = write(tmp_path / "r.csv", "id,content\na,nice\n,great app\n,great app\n")
    batch = read_reviews(f, fill_missing_ids=True)
    assert batch.external_ids == ["a", stable_id("great app")]
    assert batch.report.dropped["duplicate row"] == 1 and batch.report.ids_from_text == 2


def test_a_text_that_repeats_without_ids_is_a_review_each_time_and_a_repeated_review_is_one(tmp_path):
    """Without an id column, "Good" from two apps (or with two star scores) is two reviews, their
    ids from the text and what tells them apart, whatever the rows' order; the same review twice
    (a column nothing reads, a thumbs-up count, may differ) is one. A file of texts alone numbers
    a repeated text -2, -3."""
    f = write(tmp_path / "r.csv", "content,score,app,thumbsUpCount\nGood,5,a,1\nGood,2,b,0\nGood,2,b,3\n"
                                  "Bad,1,a,0\nGood,1,a,0\n")
    batch = read_reviews(f)
    assert len(set(batch.external_ids)) == 4 and all(e.startswith(stable_id(t) + "-")
                                                     for e, t in zip(batch.external_ids, batch.texts))
    assert [m["score"] for m in batch.metadata] == [5, 2, 1, 1]
    assert batch.report.dropped["duplicate row"] == 1
    assert batch.legacy_ids == [stable_id(t) for t in batch.texts]
    g = write(tmp_path / "g.csv", "content,score,app\nGood,1,a\nBad,1,a\nGood,2,b\nGood,5,a\n")  # reordered
    assert sorted(read_reviews(g).external_ids) == sorted(batch.external_ids)
    h = write(tmp_path / "h.csv", "content,thumbsUpCount\nGood,1\nGood,2\nBad,0\nBad,0\n")  # nothing tells them apart
    assert read_reviews(h).external_ids == [stable_id("Good"), stable_id("Good") + "-2", stable_id("Bad")]


def test_the_same_row_twice_with_its_id_is_one_review_and_an_id_on_rows_that_differ_is_refused(tmp_path):
    """Overlapping exports put together repeat a review (its count of thumbs may have moved): read
    once, the report counts the rest. An id with two texts stays an error, with how many rows
    share an id."""
    f = write(tmp_path / "r.csv", "reviewId,content,score\na,one,5\nb,two,4\na,one,5\na,one,4\n")
    batch = read_reviews(f)
    assert batch.external_ids == ["a", "b"] and batch.report.dropped["duplicate row"] == 2
    g = write(tmp_path / "g.csv", "reviewId,content,score\na,one,5\nb,two,4\na,One!,4\nb,two,4\nc,x,1\nc,y,1\n")
    with pytest.raises(ReviewtuiError) as err:
        read_reviews(g)
    assert str(err.value).endswith("id 'a' appears 2 times (data rows 1, 3) with texts that differ, and 2 more rows "
                                   "share ids; ids must be unique within a file (the same review twice is read once)")


def test_app_from_a_column_a_given_name_or_a_folder(tmp_path):
    f = write(tmp_path / "r.csv", "reviewId,content,score,App\na,one,5,Waze\nb,two,1,Facebook\nc,three,3,\n")
    batch = read_reviews(f)
    assert [m.get("app") for m in batch.metadata] == ["Waze", "Facebook", None]
    assert batch.report.apps == ["Facebook", "Waze"] and batch.report.app_column == "App"
    assert [m["app"] for m in read_reviews(f, default_app="folder").metadata] == ["Waze", "Facebook", "folder"]
    assert {m["app"] for m in read_reviews(f, app="Given").metadata} == {"Given"}


def test_per_app_folders_of_exports(tmp_path):
    root = tmp_path / "exports"
    for app in ("com.a", "com.b"):
        (root / app).mkdir(parents=True)
        write(root / app / "reviews_1.csv", "reviewId,content,score\n" + f"{app}-1,hi,5\n")
        write(root / app / "README.txt", "not a review file")
    inputs = expand_inputs([root])
    assert [(i.path.name, i.app) for i in inputs] == [("reviews_1.csv", "com.a"), ("reviews_1.csv", "com.b")]
    assert [(i.path.name, i.app) for i in expand_inputs([root / "com.a"])] == [("reviews_1.csv", "com.a")]
    assert read_reviews(inputs[1].path, default_app=inputs[1].app).metadata[0]["app"] == "com.b"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReviewtuiError, match="is a folder with no review files"):
        expand_inputs([tmp_path / "empty"])


APP_STORE = {
    "App Store (app-store-scraper)": (
        "id,date,userName,userUrl,version,score,title,text,url\n"
        "9876,2024-03-01T10:00:00-07:00,kim,https://u,10.1,1,Crashes,It crashes on launch,https://r\n",
        "9876", {"score": 1, "app_version": "10.1", "at": "2024-03-01 17:00:00", "title": "Crashes"}),
    "App Store (app-store-scraper, Python)": (
        "date,review,rating,isEdited,title,userName,developerResponse\n"
        "2024-03-01 10:00:00,Love the new maps,5,False,Great,lee,\n",
        keyed_ids(pd.Series(["Love the new maps"]), pd.Series(["5\x1f2024-03-01 10:00:00"]))[0],
        {"score": 5, "at": "2024-03-01 10:00:00", "title": "Great"}),
    "App Store Connect": (
        "id,rating,title,body,reviewerNickname,createdDate,territory\n"
        "00000012-a,2,Slow,Sync is slow,pat,2024-03-01T10:00:00-07:00,USA\n",
        "00000012-a", {"score": 2, "at": "2024-03-01 17:00:00", "title": "Slow"}),
    "App Store RSS feed": (
        "id,title,content,im:rating,im:version,author,updated\n"
        "555,Meh,It is fine,3,2.4,sam,2024-03-01T10:00:00-07:00\n",
        "555", {"score": 3, "app_version": "2.4", "at": "2024-03-01 17:00:00", "title": "Meh"}),
}


def test_a_google_play_console_export_gives_its_app_version_dates_and_replies(tmp_path):
    """The monthly reviews_<package>_<YYYYMM>.csv a team downloads from the Play Console, in UTF-16:
    the package as the app, the version name, the submit time, the developer's reply and its time;
    its other columns (language, device, millis) are known and not listed as unread."""
    header = ("Package Name,App Version Code,App Version Name,Reviewer Language,Device,Review Submit Date and Time,"
              "Review Submit Millis Since Epoch,Review Last Update Date and Time,Review Last Update Millis Since Epoch,"
              "Star Rating,Review Title,Review Text,Developer Reply Date and Time,Developer Reply Millis Since Epoch,"
              "Developer Reply Text,Review Link")
    rows = ["com.acme.bank,4120,4.12.0,en,a52q,2024-03-01T10:15:02Z,1709288102000,2024-03-01T10:15:02Z,"
            "1709288102000,1,,Transfers fail since the update,2024-03-02T08:00:00Z,1709366400000,Sorry!,",
            "com.acme.bank,4110,4.11.0,de,,2024-02-20T09:00:00Z,1708419600000,,,5,Super,Alles gut,,,,"]
    f = tmp_path / "reviews_com.acme.bank_202403.csv"
    f.write_text("\n".join([header, *rows]) + "\n", encoding="utf-16")
    batch = read_reviews(f)
    assert batch.report.profile == "Google Play Console" and batch.report.unused_columns == []
    assert batch.texts == ["Transfers fail since the update", "Alles gut"]
    assert batch.metadata == [
        {"score": 1, "app_version": "4.12.0", "at": "2024-03-01 10:15:02", "reply": "Sorry!",
         "replied_at": "2024-03-02 08:00:00", "app": "com.acme.bank"},
        {"score": 5, "app_version": "4.11.0", "at": "2024-02-20 09:00:00", "title": "Super", "app": "com.acme.bank"}]


@pytest.mark.parametrize("name", sorted(APP_STORE))
def test_app_store_exports_are_recognised_by_their_header(tmp_path, name):
    text, ext_id, meta = APP_STORE[name]
    f = write(tmp_path / "appstore.csv", text)
    assert recognise(text.split("\n", 1)[0].split(",")).name == name
    batch = read_reviews(f)
    assert batch.report.profile == name and batch.external_ids == [ext_id]
    assert batch.metadata == [meta]


def test_collected_records_go_through_the_same_rules():
    recs = [{**r, "appId": "com.example"} for r in play_records()]
    batch = read_records(recs, "collect com.example")
    assert batch.external_ids == ["r1", "r2", "r3", "r6"]
    assert all(m["app"] == "com.example" for m in batch.metadata)
    assert batch.report.profile == "google-play-scraper" and batch.report.format == "records"


def test_the_sample_export_in_data_imports_as_the_walkthrough_says():
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "inkwell-play.json"
    batch = read_reviews(sample, app="com.inkwell.reader")
    assert batch.report.format == "json" and batch.report.profile == "google-play-scraper"
    assert batch.report.rows_read == 300 and len(batch.external_ids) > 280
    assert {m["app"] for m in batch.metadata} == {"com.inkwell.reader"}
    oracle = read_table(sample.with_name("inkwell-oracle.csv"))
    assert oracle.header == ["reviewId", "label"] and len(oracle) == 300


def test_without_drop_missing_a_row_with_no_id_and_no_text_counts_as_a_missing_id(tmp_path):
    f = write(tmp_path / "r.csv", "id,content\na,one\n,\n")
    with pytest.raises(ReviewtuiError, match=r"1 row with an empty id in column 'id' \(data row 2\)"):
        read_reviews(f, cleaning=ImportSettings(drop_missing=False, drop_empty=False))
    assert read_reviews(f).external_ids == ["a"]


def _big_csv(rows: int, sep: str = ",", newline: str = "\n") -> str:
    lines = [sep.join(PLAY_HEADER)]
    for i in range(rows):
        text = f'"review {i}, with ""quotes"" and a\nsecond line ✨"' if i % 97 == 0 else f"plain review number {i} é"
        lines.append(sep.join([f"id{i}", "user", "", text, str(i % 5 + 1), "0", "4.5.0", "2024-05-01 10:00:00", "", ""]))
    return newline.join(lines) + newline


@pytest.mark.parametrize("bom,sep,newline,name", [(b"", ",", "\n", "a.csv"), (codecs.BOM_UTF8, ",", "\r\n", "b.csv"),
                                                  (b"", ";", "\n", "c.txt"), (b"", "\t", "\n", "d.tsv")])
def test_a_big_utf8_file_read_from_its_bytes_gives_the_rows_the_small_file_path_gives(tmp_path, monkeypatch,
                                                                                        bom, sep, newline, name):
    import reviewtui.readers as readers

    path = tmp_path / name
    path.write_bytes(bom + _big_csv(20_000, sep, newline).encode("utf-8"))
    assert path.stat().st_size > readers.ARROW_BYTES
    calls = []
    real = readers._read_big_utf8_delimited
    monkeypatch.setattr(readers, "_read_big_utf8_delimited", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    fast = read_table(path)
    assert isinstance(calls[0], readers.Table)  # read by pyarrow from the file, not by the pandas fallback
    assert fast.encoding == ("UTF-8 with BOM" if bom else "UTF-8")
    monkeypatch.setattr(readers, "ARROW_BYTES", 10 ** 12)  # every reader takes the small-file path
    slow = read_table(path)
    assert fast.header == slow.header == PLAY_HEADER and fast.encoding == slow.encoding
    assert fast.frame.astype(object).equals(slow.frame.astype(object)) and len(fast.frame) == 20_000
    assert fast.frame["content"][97] == 'review 97, with "quotes" and a\nsecond line ✨'
    assert fast.sha256 == slow.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_big_file_whose_header_line_is_longer_than_the_head_read_first_still_reads(tmp_path, monkeypatch):
    import reviewtui.readers as readers

    monkeypatch.setattr(readers, "HEAD_BYTES", 64)  # the header line ends past the first 64 bytes
    path = tmp_path / "long.csv"
    path.write_bytes(_big_csv(20_000).encode("utf-8"))
    table = read_table(path)
    monkeypatch.setattr(readers, "ARROW_BYTES", 10 ** 12)
    slow = read_table(path)
    assert table.header == slow.header and table.sha256 == slow.sha256
    assert table.frame.astype(object).equals(slow.frame.astype(object))


def test_a_big_file_with_a_byte_that_is_not_utf8_says_on_which_line(tmp_path):
    text = _big_csv(20_000).encode("utf-8")
    at = text.index(b"plain review number 15000")
    path = tmp_path / "bad.csv"
    path.write_bytes(text[:at] + b"\xff" + text[at:])
    with pytest.raises(ReviewtuiError) as err:
        read_table(path)
    line = text[:at].count(b"\n") + 1
    assert str(err.value).startswith(f"{path}: line {line}: bytes that are not UTF-8")


def test_a_big_file_pyarrow_refuses_is_tried_once_then_read_by_pandas(tmp_path, monkeypatch):
    import reviewtui.readers as readers

    path = tmp_path / "ragged.csv"
    path.write_text(_big_csv(20_000) + "only-an-id,\n", encoding="utf-8")
    tries = []
    real = readers._read_delimited_arrow
    monkeypatch.setattr(readers, "_read_delimited_arrow", lambda *a: tries.append(1) or real(*a))
    table = read_table(path)
    assert len(tries) == 1 and len(table.frame) == 20_001 and table.frame.iloc[-1]["reviewId"] == "only-an-id"


def test_a_big_json_file_without_an_extension_is_still_json(tmp_path):
    records = [dict(zip(PLAY_HEADER, [f"id{i}", "u", "", f"review {i} " + "x" * 40, "5", "0", "1.0", "", "", ""]))
               for i in range(20_000)]
    for name, text in (("reviews", json.dumps(records)), ("lines", "\n".join(json.dumps(r) for r in records))):
        path = tmp_path / name
        path.write_text("  \n" + text, encoding="utf-8")
        assert path.stat().st_size > 1_000_000
        table = read_table(path)
        assert table.format == ("json" if name == "reviews" else "jsonl") and len(table.frame) == 20_000


def test_rows_with_more_fields_than_the_header_are_refused_not_shifted(tmp_path):
    """Every row one field longer than the header (a text with an unquoted comma in each): pandas
    took the first field for an index and read the text as the id and the label as the text.
    It is one clear error, naming the counts and the fix."""
    path = tmp_path / "extra.csv"
    path.write_text("id,text,label\nr1,hello, there,bug\nr2,fine app, great,praise\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError) as e:
        read_table(path)
    said = str(e.value)
    assert "the header names 3 columns and the first row has 4 fields" in said and "double quotes" in said
    # only the first row too long: it is what pandas goes by, and the message claims no more
    path.write_text("id,text,label\nr1,hello, there,bug\nr2,fine app,praise\n", encoding="utf-8")
    with pytest.raises(ReviewtuiError, match="the header names 3 columns and the first row has 4 fields"):
        read_table(path)
    path.write_text('id,text,label\nr1,"hello, there",bug\nr2,"fine app, great",praise\n', encoding="utf-8")
    assert read_table(path).frame["text"].tolist() == ["hello, there", "fine app, great"]


def _rss_entry(i: int) -> dict:
    """One review as the App Store's customer reviews RSS feed writes it in JSON."""
    return {"author": {"uri": {"label": f"https://itunes.apple.com/us/reviews/id{i}"}, "name": {"label": f"user{i}"},
                       "label": ""},
            "updated": {"label": "2023-03-01T05:52:07-07:00"}, "im:rating": {"label": str(1 + i % 5)},
            "im:version": {"label": "4.0.3"}, "id": {"label": str(9876543210 + i)},
            "title": {"label": f"Title {i}"}, "content": {"label": f"review number {i} of the app", "attributes":
                                                          {"type": "text"}},
            "link": {"attributes": {"rel": "related", "href": "https://example.test"}},
            "im:voteSum": {"label": "2"}, "im:contentType": {"attributes": {"term": "Application", "label": "App"}},
            "im:voteCount": {"label": "3"}}


def test_the_app_store_rss_feed_as_apple_publishes_it_is_read(tmp_path):
    """The feed's JSON ({"feed": {"entry": [...]}}, each value wrapped as {"label": ...}) was refused
    as "a JSON object, not a list of reviews", and its entries alone had no text column."""
    from reviewtui.ingest import read_reviews

    page = {"feed": {"author": {"name": {"label": "iTunes Store"}}, "entry": [_rss_entry(i) for i in range(6)],
                     "updated": {"label": "2023-03-02T00:00:00-07:00"}}}
    path = tmp_path / "page1.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    batch = read_reviews(path, app="com.example")
    assert batch.report.profile == "App Store RSS feed"
    assert batch.external_ids == [str(9876543210 + i) for i in range(6)]
    assert batch.texts[2] == "review number 2 of the app"
    meta = batch.metadata[2]
    assert (meta["score"], meta["app_version"], meta["title"], meta["thumbs_up"]) == (3, "4.0.3", "Title 2", 2)
    one = tmp_path / "one.json"  # a feed of one review: its entry is that object
    one.write_text(json.dumps({"feed": {"entry": _rss_entry(7)}}), encoding="utf-8")
    assert read_reviews(one, app="com.example").external_ids == ["9876543217"]
    pages = tmp_path / "pages.json"  # pages saved one after the other in a list
    pages.write_text(json.dumps([page, {"feed": {"entry": [_rss_entry(8)]}}]), encoding="utf-8")
    assert len(read_reviews(pages, app="com.example").texts) == 7
