"""At 80 columns (a pipe, a log) the summary's and the import's tables show every count whole and
tell apart app ids that share a long start; the categories-by-app table shows every app."""

from __future__ import annotations

import csv
import re

from reviewtui.cli import main

KEYS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
APPS = ["com.dreamplug.androidapp", "com.dreamplug.androidapp-eu", "com.dreamplug.androidapp-in",
        "com.dreamplug.androidapp-us", "com.epifi.paisa", "com.epifi.paisa-eu", "me.greenlight-us"]


def write_results(ws, per_app: int = 1234) -> None:
    """result.csv with ``per_app`` reviews of each app: four-digit counts in every column."""
    rows = []
    for a, app in enumerate(APPS):
        for i in range(per_app + a):
            rows.append({"reviewId": f"{app}-{i}", "content": "text", "score": str(1 + i % 5), "app": app,
                         "reviewCreatedVersion": f"1.{100 + i % 3}", "at": "", "thumbsUpCount": "0",
                         "predicted_category": KEYS[i % 4], "confidence": "0.9",
                         "sentiment": ("negative", "neutral", "positive")[i % 3], "sentiment_score": "0",
                         "model": "m"})
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def shown_ids(cells: list[str]) -> set[str]:
    """The app ids (whole or shortened with …) among table cells."""
    return {c for c in cells if c.startswith(("com.", "me.")) or "…" in c and c[:3] in ("com", "me.")}


def part_runs(app: str) -> set[str]:
    """The runs of whole parts of an app id ("com.", "dreamplug.", "androidapp-eu", ...)."""
    parts = re.findall(r"[^.\-]+[.\-]?", app)
    return {"".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}


def cells(out: str) -> list[str]:
    return [c.strip() for line in out.splitlines() for c in re.split(r"[│┃]", line) if c.strip()]


def test_summary_at_80_columns_keeps_counts_whole_and_apps_apart(workspace, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    write_results(workspace)
    assert main(["-w", str(workspace.root), "summary"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines() if "│" in line or "┃" in line) <= 80
    table_cells = cells(out)
    # no number cut: every count and share in a cell is whole
    assert not [c for c in table_cells if re.fullmatch(r"[\d,.%]+…", c)]
    total = sum(1234 + a for a in range(len(APPS)))
    for n in (f"{total:,}", *(f"{1234 + a:,}" for a in range(len(APPS)))):
        assert n in table_cells
    for header in ("reviews", "stars"):
        assert header in table_cells
    # every app, in every table, told apart from the others: as many distinct ids as apps
    per_app = out[out.index("Per app"):out.index("Categories by app")]
    assert len(shown_ids(cells(per_app))) == len(APPS)
    by_app = out[out.index("Categories by app"):out.index("Per app and version")]
    assert "more app" not in by_app
    assert len(shown_ids(cells(by_app))) == len(APPS)
    versions = out[out.index("Per app and version"):]
    assert len(shown_ids(cells(versions))) == len(APPS)
    # a shortened id keeps its end: the suffix that tells it apart
    for suffix in ("-eu", "-in", "-us"):
        assert any(c.endswith("androidapp" + suffix) or c.endswith("app" + suffix) for c in cells(per_app + versions))


def test_summary_headers_never_break_inside_a_word(workspace, capsys, monkeypatch):
    for width in ("80", "100", "160"):
        monkeypatch.setenv("COLUMNS", width)
        write_results(workspace)
        assert main(["-w", str(workspace.root), "summary"]) == 0
        out = capsys.readouterr().out
        assert max(len(line) for line in out.splitlines() if "│" in line or "┃" in line) <= int(width)
        head = out[out.index("Categories by app"):out.index("Per app and version")]
        words = {w for line in head.splitlines() if "┃" in line for c in line.split("┃") for w in c.split()}
        allowed = {"app", "reviews", "category", "all", "subscription", "content", "interface", "user",
                   "experience", *(run for app in APPS for run in part_runs(app))}
        for word in words:  # each word of a header is a whole word of a category name or a part of an app id
            assert word.lower() in allowed or word.endswith("…"), (width, word)
        assert not re.search(r"┃\s*(p|dapp|pp)\s*┃", head)
        assert "more app" not in head


def test_import_report_at_80_columns_tells_apps_apart(workspace, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    header = ["reviewId", "content", "score", "at"]
    for app in APPS:
        folder = tmp_path / "exports" / app
        folder.mkdir(parents=True)
        with open(folder / "app_reviews_1.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for i in range(3):
                w.writerow([f"{app}-{i}", f"review {i} of {app}", "3", "2024-01-01 10:00:00"])
    for _ in range(2):  # the second import has an "existing" column to make room for
        assert main(["-w", str(workspace.root), "import", str(tmp_path / "exports")]) == 0
        out = capsys.readouterr().out
        table = out[:out.index("└")]
        assert max(len(line) for line in table.splitlines()) <= 80
        assert len(shown_ids(cells(table))) == len(APPS)
        assert not [c for c in cells(table) if re.fullmatch(r"[\d,]+…", c)]


def test_short_names_tell_app_ids_apart_that_share_their_start_and_their_end():
    """Four app ids, two per country, at the width of the status screen's narrow chart: cut at the
    end they read "com.d…" twice, in the middle "co…-eu" twice; without the start they all share,
    each reads as itself. Names that are not alike are cut as before."""
    from reviewtui.presentation import short_names

    apps = ["com.dreamplug.androidapp", "com.dreamplug.androidapp-eu", "com.paytm.androidapp-eu",
            "com.paytm.androidapp"]
    assert short_names(apps, 6) == ["dr…app", "dr…-eu", "pa…-eu", "pa…app"]
    assert short_names(["User experience", "User interface", "Bug"], 8) == ["User ex…", "User in…", "Bug"]
    assert short_names(["Category number 10", "Category number 11"], 8) == ["Cat…r 10", "Cat…r 11"]
    # no start to drop: where each parts from the other
    names = short_names(["xXaaaaaaaaaaaaab", "xYaaaaaaaaaaaaab", "yXaaaaaaaaaaaaab"], 6)
    assert len(set(names)) == 3 and all(len(n) <= 6 for n in names)


def test_in_a_log_the_cells_where_an_app_stands_apart_are_starred(tmp_path, capsys):
    """Bold shows nothing in a log or a pipe: the shares where an app stands apart get a "*", and
    the legend says "*", not "bold"."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", categories="Subscription, Content, Interface, User experience")
    rows = []
    for a, app in enumerate(["com.a", "com.b", "com.c"]):
        for i in range(400):
            key = KEYS[0] if (app == "com.a" and i % 2) else KEYS[i % 4]
            rows.append({"reviewId": f"{app}-{i}", "content": "text", "score": "3", "app": app,
                         "reviewCreatedVersion": "1.0", "at": "", "thumbsUpCount": "0", "predicted_category": key,
                         "confidence": "0.9", "sentiment": "neutral", "sentiment_score": "0", "model": "m"})
    with open(ws.results_dir / "result.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["-w", str(ws.root), "summary"]) == 0
    out = capsys.readouterr().out
    assert "75.0%*" in out and "*: the app stands apart (a finding below)" in out and "bold:" not in out
