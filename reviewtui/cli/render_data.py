"""Rich output for reviews coming in: the import notes (apps, ids from text, categories added),
the taxonomy with its counts, the counts by app, and the summary's app, categories by app, app x
version and categories by star score tables.
Each function prints on the console it is given (:mod:`reviewtui.cli.render` makes them)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewtui import presentation as say


def file_labels(reports: Sequence[Any], with_app: bool = False) -> list[str]:
    """Each imported file's name, with its folder when two files share a name (unless the report
    shows each file's app, which tells per-app folders apart)."""
    names = [Path(r.source).name for r in reports]
    return [f"{Path(r.source).parent.name}/{n}" if names.count(n) > 1 and not (with_app and r.apps) else n
            for n, r in zip(names, reports)]


#: The import notes' words for the metadata read from a file's columns.
COLUMN_WORDS = {"app": "the app", "score": "stars", "at": "dates", "app_version": "versions", "title": "titles",
                "thumbs_up": "thumbs-up counts", "reply": "replies", "replied_at": "reply dates",
                "user_name": "user names", "user_image": "user images"}

#: The import report's short words for why rows were dropped.
DROPPED = {"missing text": "no text", "empty after cleaning": "empty", "duplicate row": "duplicate"}


def dropped_text(dropped: dict[str, int]) -> str:
    """``3 no text, 19 empty`` (the rules that dropped rows), or "-"."""
    return ", ".join(f"{v:,} {DROPPED.get(k, k)}" for k, v in dropped.items() if v) or "-"


def cleaning_lines(labels: Sequence[str], reports: Sequence[Any]) -> list[tuple[str, str]]:
    """(file, "rule: rows, ...") of the rows each cleaning rule changed; summed over the files when
    there are more than three."""
    def text(changed: dict[str, int]) -> str:
        return ", ".join(f"{k}: {v:,}" for k, v in changed.items() if v)

    if len(reports) > 3:
        total: dict[str, int] = {}
        for r in reports:
            for k, v in r.changed.items():
                total[k] = total.get(k, 0) + v
        return [(f"{len(reports)} files", text(total))] if text(total) else []
    return [(name, text(r.changed)) for name, r in zip(labels, reports) if text(r.changed)]


def import_notes(result: Any, labels: Sequence[str], con: Console) -> None:
    """What an import adds to its report table: the exports its files were recognised as, the text
    column found by its name in the others, rows whose ids came from their text, the categories
    --add-categories added."""
    profiles: dict[str, int] = {}
    for r in result.reports:
        if r.profile:
            profiles[r.profile] = profiles.get(r.profile, 0) + 1
    lines = [f"Recognised as {p} export{'s' if n > 1 else ''}" + (f": {n} files" if n > 1 else "") + "."
             for p, n in profiles.items()] if len(result.reports) > 1 else \
        [f"Recognised as a {r.profile} export." for r in result.reports if r.profile]
    found: dict[str, list[str]] = {}
    for name, r in zip(labels, result.reports):
        if getattr(r, "text_column", None):
            found.setdefault(r.text_column, []).append(name)
    lines += [f"Text from column {col!r}" + (f" in {', '.join(names)}" if len(found) > 1 else "")
              + "; --text-col names another." for col, names in found.items()]
    lines += [f"{name}: {r.ids_from_text:,} rows had an empty id; their ids were taken from their text "
              "(--fill-missing-ids)" for name, r in zip(labels, result.reports) if r.ids_from_text]
    many = len(result.reports) > 1
    for name, r in zip(labels, result.reports):
        where = f"{name}: " if many else ""
        if not r.profile and r.columns:
            lines.append(where + "Read " + ", ".join(f"{COLUMN_WORDS.get(k, k)} from {c!r}" for k, c in r.columns.items())
                         + ".")
        if r.unused_columns:
            lines.append(where + f"Not read: {', '.join(map(repr, r.unused_columns))} (--app-col, --stars-col, "
                         "--date-col, --version-col and --title-col name the columns to read).")
        lines += [where + sentence[0].upper() + sentence[1:] + "." for sentence in r.readings]
        if getattr(r, "other_text", 0):
            ext, stored, given = r.other_text_examples[0]
            lines.append(where + f"{r.other_text:,} id{'s' if r.other_text != 1 else ''} of the file "
                         f"{'are' if r.other_text != 1 else 'is'} stored with another text (a review edited since, or "
                         f"ids that name other reviews): left as stored, text, metadata and labels"
                         + (f" ({r.labels_other_text:,} of the file's labels not recorded)" if r.labels_other_text
                            else "") + f". For example {ext}: stored {textwrap.shorten(stored, 60)!r}, in the file "
                         f"{textwrap.shorten(given, 60)!r}.")
        if r.filled:
            lines.append(where + f"{r.filled:,} review{'s' if r.filled != 1 else ''} imported before got the "
                         "metadata they lacked, and the values of the columns the options name (their other "
                         "values and their texts are kept).")
    if result.added_categories:
        lines.append(f"Added categories from the labels: {', '.join(result.added_categories)} "
                     "(reviewtui categories lists them)")
        empty = getattr(result, "unlabeled_categories", [])
        if empty:
            lines.append(f"{', '.join(empty)} {'has' if len(empty) == 1 else 'have'} no labels: the summary and "
                         f"report list {'it' if len(empty) == 1 else 'them'} with no reviews; `reviewtui categories "
                         f"remove --unused` removes {'it' if len(empty) == 1 else 'them'}")
    for line in lines:
        con.print(line, markup=False)


def by_app(rows: Sequence[tuple[str, int]], total: int, con: Console) -> None:
    """The status's counts by app (nothing when no review has an app)."""
    if not rows:
        return
    t = Table(title="By app")
    t.add_column("app"), t.add_column("reviews", justify="right"), t.add_column("")
    for app, n in rows:
        t.add_row(app, f"{n:,}", say.bar(n, total, 20))
    con.print(t)


def categories(rows: Sequence[Any], con: Console) -> None:
    t = Table(title="Categories")
    for c in ("key", "name", "train", "labeled", "description"):
        t.add_column(c, justify="right" if c == "labeled" else "left", overflow="fold")
    for r in rows:
        t.add_row(r.key, r.name, "yes" if r.train else "no", f"{r.labeled:,}",
                  (r.description[:60] + "…") if len(r.description) > 61 else r.description)
    con.print(t)


def _pct(v: Any) -> str:
    return "-" if v is None or v != v else f"{100 * float(v):.1f}%"


def interval_text(row: Any) -> str:
    """A table row's negative-share interval, ``31–38%`` ("-" when there is none)."""
    low, high = row.get("negative_low"), row.get("negative_high")
    if low is None or high is None or low != low or high != high:
        return "-"
    return f"{100 * low:.0f}–{100 * high:.0f}%"


#: The app x version table shows this many of each app's newest versions.
VERSIONS_SHOWN = 8


def summary_apps(s: Any, con: Console, names: dict[str, str] | None = None) -> None:
    """Several apps: the per-app table and each app's newest versions (neither version column nor
    version table when no review has a version: reviews of products or places)."""
    level = f"{100 * s.confidence:g}% CI"
    versions = bool(getattr(s, "has_versions", True))
    t = Table(title="Per app")
    t.add_column("app")
    for c in ("reviews", *(("latest version",) if versions else ()), "mean stars", "% negative", level):
        t.add_column(c, justify="right")
    for app, row in s.by_app.iterrows():
        t.add_row(str(app), f"{row['reviews']:,.0f}", *((str(row["latest_version"]),) if versions else ()),
                  "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                  _pct(row["negative_share"]), interval_text(row))
    con.print(t)
    categories_by_app(s, con, names)
    if versions:
        app_versions(s, con)


def wrap_name(name: str, width: int) -> str:
    """``name`` in lines of at most ``width`` characters, broken after its dots, dashes,
    underscores and spaces where it can ("com.dreamplug.androidapp" at 10: "com.", "dreamplug.",
    "androidapp"), a part longer than a line cut into pieces."""
    import re

    parts = []
    for part in re.findall(r"[^._\- ]*[._\- ]?", name):
        parts += [part[i:i + width] for i in range(0, len(part), width)] if part else []
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part.rstrip()) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(line.rstrip() for line in lines)


#: The narrowest and widest an app's column gets in the categories-by-app table.
APP_COLUMN = (6, 14)


def categories_by_app(s: Any, con: Console, names: dict[str, str] | None = None) -> None:
    """Categories as rows (by their names in ``names`` where given), apps as columns: each app's
    reviews, then the share of them in each category (bold where a finding says the app stands
    apart), and "all". As many apps as the console's width holds, the largest; the others are
    named under it."""
    shares = s.category_by_app
    if shares.empty:
        return
    cats = [str(c) for c in shares.index]
    names = say.short_names([(names or {}).get(c, c) for c in cats], 18)
    reviews = {a: float(s.by_app.at[a, "reviews"]) for a in s.apps}
    value_w = max(6, *(len(f"{n:,.0f}") for n in reviews.values()), len(f"{float(s.total):,.0f}"))
    cat_w = max(len("reviews"), *(len(n) for n in names))
    room = con.width - 1 - (cat_w + 3) - (value_w + 3)
    fit = max(1, room // (max(APP_COLUMN[0], value_w) + 3))
    largest = set(sorted(s.apps, key=lambda a: -reviews[a])[:fit])
    shown = [a for a in s.apps if a in largest]
    app_w = max(value_w, min(APP_COLUMN[1], room // len(shown) - 3, max(len(a) for a in shown)))
    apart = {(f.app, f.subject) for f in s.findings if f.kind == "app_category"}
    t = Table(title="Categories by app (% of each app's reviews)")
    t.add_column("category", no_wrap=True)
    for a in shown:
        t.add_column(wrap_name(a, app_w), justify="right", width=app_w, overflow="fold")
    t.add_column("all", justify="right", no_wrap=True)
    t.add_row("reviews", *(f"{reviews[a]:,.0f}" for a in shown), f"{float(s.total):,.0f}", end_section=True)
    for c, name in zip(cats, names):
        t.add_row(name, *(Text(_pct(shares.at[c, a]), style="bold" if (a, c) in apart else "") for a in shown),
                  _pct(shares.at[c, "all"]))
    con.print(t)
    hidden = [a for a in s.apps if a not in shown]
    notes = []
    if hidden:
        notes.append(f"{len(hidden)} more app{'s' if len(hidden) != 1 else ''} ({', '.join(hidden)}) in "
                     "results/tables/category_by_app.csv (reviewtui report) or --json")
    if apart:
        notes.append("bold: the app stands apart (a finding below)")
    for note in notes:
        con.print(Text(note, style="dim"))


def categories_by_stars(s: Any, con: Console, names: dict[str, str] | None = None) -> None:
    """Categories as rows (by their names in ``names`` where given), star scores as columns: the
    reviews of each score, then the share of them in each category. Nothing without star scores."""
    shares = s.category_score_share
    if shares.empty:
        return
    # a star filter leaves few columns: the short title, so it does not wrap above a narrow table
    t = Table(title="Categories by star score (% of each score's reviews)" if len(shares.columns) > 3 else
              "Categories by stars (%)")
    t.add_column("category", no_wrap=True)
    for k in shares.columns:
        t.add_column(f"{k}★", justify="right", no_wrap=True)
    t.add_row("reviews", *(f"{float(s.scores[k]):,.0f}" for k in shares.columns), end_section=True)
    for c, row in shares.iterrows():
        t.add_row((names or {}).get(str(c), str(c)), *(_pct(v) for v in row.values))
    con.print(t)


def app_versions(s: Any, con: Console) -> None:
    """Each app's newest versions (``VERSIONS_SHOWN`` of them) with n, stars and negative share."""
    level = f"{100 * s.confidence:g}% CI"
    t = Table(title=f"Per app and version (newest {VERSIONS_SHOWN} of each; all in the report)")
    t.add_column("app"), t.add_column("version")
    for c in ("reviews", "mean stars", "% negative", level):
        t.add_column(c, justify="right")
    table = s.by_app_version
    hidden = 0
    for app in s.apps:
        rows = table[table["app"] == app]
        known = rows[rows["version"] != "unknown"]
        shown = known.tail(VERSIONS_SHOWN)
        hidden += len(known) - len(shown)
        latest = s.latest_by_app.get(app, {}).get("version")
        for _, row in list(shown.iloc[::-1].iterrows()) + list(rows[rows["version"] == "unknown"].iterrows()):
            t.add_row(str(app), str(row["version"]) + (" (latest)" if row["version"] == latest else ""),
                      f"{row['reviews']:,.0f}",
                      "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                      _pct(row["negative_share"]), interval_text(row))
    con.print(t)
    if hidden:
        con.print(f"[dim]… {hidden} earlier versions in results/tables/by_app_version.csv (reviewtui report) "
                  "or --json[/]")
