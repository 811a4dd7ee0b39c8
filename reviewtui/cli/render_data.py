"""Rich output for reviews coming in: the import notes (apps, ids from text, categories added),
the taxonomy with its counts, the counts by app, and the summary's app, categories by app, app x
version and categories by star score tables.
Each function prints on the console it is given (:mod:`reviewtui.cli.render` makes them)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.text import Text

from reviewtui import presentation as say
from reviewtui.cli.tables import Table


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


#: Column names of a file's own labels that an import leaves unread unless --label-col names them.
LABEL_LIKE = {"label", "labels", "category", "categories", "class", "topic", "tag"}


def import_notes(result: Any, labels: Sequence[str], con: Console) -> None:
    """What an import adds to its report table: the exports its files were recognised as, the text
    column found by its name in the others, rows whose ids came from their text, the categories
    --add-categories added."""
    profiles: dict[str, list[str]] = {}
    for name, r in zip(labels, result.reports):
        if r.profile:
            profiles.setdefault(r.profile, []).append(name)

    def one(profile: str) -> str:
        return f"{'an' if profile[:1].lower() in 'aeiou' else 'a'} {profile} export"

    lines = [f"Recognised as {p} exports: {len(names)} files." if len(names) > 1 else
             f"{names[0]}: recognised as {one(p)}." if len(result.reports) > 1 else f"Recognised as {one(p)}."
             for p, names in profiles.items()]
    found: dict[str, list[str]] = {}
    for name, r in zip(labels, result.reports):
        if getattr(r, "text_column", None):
            found.setdefault(r.text_column, []).append(name)
    lines += [f"Text from column {col!r}" + (f" in {', '.join(names)}" if len(found) > 1 else "")
              + "; --text-col names another." for col, names in found.items()]
    lines += [f"{name}: {r.ids_from_text:,} rows had an empty id; their ids were taken from their text "
              "(--fill-missing-ids)" for name, r in zip(labels, result.reports) if r.ids_from_text]
    many = len(result.reports) > 1
    labels_read = any(getattr(r, "labels", 0) or getattr(r, "labels_unchanged", 0) for r in result.reports)
    for name, r in zip(labels, result.reports):
        where = f"{name}: " if many else ""
        if not r.profile and r.columns:
            lines.append(where + "Read " + ", ".join(f"{COLUMN_WORDS.get(k, k)} from {c!r}" for k, c in r.columns.items())
                         + ".")
        if r.unused_columns:
            lines.append(where + f"Not read: {', '.join(map(repr, r.unused_columns))} (--app-col, --stars-col, "
                         "--date-col, --version-col and --title-col name the columns to read).")
            named = [c for c in r.unused_columns if str(c).strip().casefold() in LABEL_LIKE]
            if named and not labels_read:
                lines.append(where + f"{named[0]!r} looks like labels: import again with --label-col {named[0]} to "
                             "record them (--add-categories adds the ones the taxonomy lacks).")
        if getattr(r, "id_like", None):
            col = r.id_like[0]
            lines.append(where + f"{col!r} looks like the reviews' ids (unique, none empty); the ids were made from "
                         f"the texts instead. To keep the file's own, import it with --id-col {col} into a new "
                         "workspace (here its reviews stay under the ids made from their texts).")
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
#: The widest the app x version table's version column gets (a longer version wraps).
VERSION_WIDTH = 16


def count_title(s: Any) -> str:
    """What a summary's count column or row is headed: "reviews", or "weight" when ``s`` counts
    each review as 1 + its thumbs-up (``--weight-thumbs``)."""
    return "weight" if getattr(s, "weighted", False) else "reviews"


def table_width(widths: Sequence[int]) -> int:
    """The width of a rich table (its default box and padding) whose columns are ``widths`` wide."""
    return sum(w + 3 for w in widths) + 1


def cells_width(title: str, cells: Sequence[str]) -> int:
    """The width a column needs to show ``title`` and each of ``cells`` whole."""
    return max([len(title), *(len(c) for c in cells)])


def app_labels(apps: Sequence[Any], width: int) -> dict[str, str]:
    """Each app id as a table shows it in at most ``width`` characters, the ids still told apart:
    :func:`reviewtui.presentation.short_names` (cut at the end where that keeps them apart, in the
    middle where it would not, so "com.dreamplug.androidapp-eu" keeps its "-eu"); wider where even
    that would make two alike."""
    ids = list(dict.fromkeys(str(a) for a in apps))
    longest = max((len(a) for a in ids), default=0)
    for w in range(max(3, width), longest):
        out = say.short_names(ids, w)
        if len(set(out)) == len(ids):
            return dict(zip(ids, out))
    return {a: a for a in ids}


#: The narrowest an app's column gets before the apps' tables leave columns out.
APP_MIN = 16


def app_columns(width: int, app_need: int, columns: Sequence[tuple[str, str, int]],
                drops: Sequence[str] = ()) -> tuple[list[tuple[str, str]], int]:
    """The columns beside the app's in a table ``width`` characters wide, and the width of the app's:
    ``columns`` are (key, long title, short title) ... with the width each needs; the long titles
    where the app ids fit whole beside them, else the short ones (the ids shortened to what is
    left, at least :data:`APP_MIN`), then ``drops`` left out in order until that fits. Numbers are
    never cut: their columns are as wide as their longest cell."""
    def room(cols: Sequence[Any], long: bool) -> int:
        return width - table_width([c[3] if long else c[4] for c in cols]) - 3

    cols = list(columns)
    if room(cols, True) >= app_need:
        return [(c[0], c[1]) for c in cols], app_need
    for dropped in (None, *drops):
        cols = [c for c in cols if c[0] != dropped]
        if room(cols, False) >= min(app_need, APP_MIN):
            break
    return [(c[0], c[2]) for c in cols], max(min(app_need, APP_MIN), min(app_need, room(cols, False)))


def summary_apps(s: Any, con: Console, names: dict[str, str] | None = None) -> None:
    """Several apps: the per-app table and each app's newest versions (neither version column nor
    version table when no review has a version: reviews of products or places). Counts are never
    cut: a narrow console gets shorter column titles and app ids shortened in the middle."""
    level = f"{100 * s.confidence:g}% CI"
    versions = bool(getattr(s, "has_versions", True))
    rows = []
    for app, row in s.by_app.iterrows():
        rows.append({"app": str(app), "reviews": f"{row['reviews']:,.0f}",
                     "latest": str(row["latest_version"]) if versions else "",
                     "stars": "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                     "neg": _pct(row["negative_share"]), "ci": interval_text(row)})
    titles = [("reviews", count_title(s), count_title(s)),
              *((("latest", "latest version", "latest"),) if versions else ()),
              ("stars", "mean stars", "stars"), ("neg", "% negative", "% neg"), ("ci", level, level)]
    titles = [c for c in titles if c[0] not in ("neg", "ci") or getattr(s, "has_sentiment", True)]
    spec = [(k, long, short, cells_width(long, [r[k] for r in rows]), cells_width(short, [r[k] for r in rows]))
            for k, long, short in titles]
    cols, app_w = app_columns(con.width, cells_width("app", [r["app"] for r in rows]), spec, ("ci", "latest"))
    labels = app_labels([r["app"] for r in rows], app_w)
    t = Table(title="Per app")
    t.add_column("app", no_wrap=True)
    for _, title in cols:
        t.add_column(title, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(labels[r["app"]], *(r[k] for k, _ in cols))
    con.print(t)
    categories_by_app(s, con, names)
    if versions:
        app_versions(s, con)


def wrap_name(name: str, width: int) -> str:
    """``name`` in lines of at most ``width`` characters, broken after its dots, dashes,
    underscores and spaces where it can ("com.dreamplug.androidapp" at 10: "com.", "dreamplug.",
    "androidapp"), a part longer than a line cut into pieces."""
    parts = []
    for part in name_parts(name):
        parts += [part[i:i + width] for i in range(0, len(part), width)]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part.rstrip()) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(line.rstrip() for line in lines)


def name_parts(name: str) -> list[str]:
    """The parts :func:`wrap_name` breaks a name between: each ends with its dot, dash, underscore
    or space."""
    import re

    return [part for part in re.findall(r"[^._\- ]*[._\- ]?", name) if part]


#: The narrowest and widest an app's column gets in the categories-by-app table.
APP_COLUMN = (6, 14)
#: The widest a category's column gets in the apps-as-rows table (its title wraps between words).
CATEGORY_COLUMN = 12


def categories_by_app(s: Any, con: Console, names: dict[str, str] | None = None) -> None:
    """Each app's share of its reviews in each category (bold where a finding says the app stands
    apart), and "all". Categories as rows (by their names in ``names`` where given) and apps as
    columns where every app fits the console's width with its title broken only between the parts
    of its id; else apps as rows and categories as columns, in as many tables as the width needs.
    Every app is shown, every number whole."""
    shares = s.category_by_app
    if shares.empty:
        return
    cats = [str(c) for c in shares.index]
    full = [(names or {}).get(c, c) for c in cats]
    reviews = {a: float(s.by_app.at[a, "reviews"]) for a in s.apps}
    apart = {(f.app, f.subject) for f in s.findings if f.kind == "app_category"}
    starred = bool(apart) and not con.color_system  # "100.0%*": a cell one longer
    value_w = max(6 + starred, *(len(f"{n:,.0f}") for n in reviews.values()), len(f"{float(s.total):,.0f}"))
    short = say.short_names(full, 18)
    cat_w = max(len("reviews"), *(len(n) for n in short))
    app_ws = [max(value_w, min(len(a), max(APP_COLUMN[1], *(len(p) for p in name_parts(a))))) for a in s.apps]
    title = "Categories by app (% of each app's reviews)"
    if table_width([cat_w, *app_ws, value_w]) <= con.width:
        t = Table(title=title)
        t.add_column("category", no_wrap=True)
        for a, w in zip(s.apps, app_ws):
            t.add_column(wrap_name(a, w), justify="right", width=w, no_wrap=True)
        t.add_column("all", justify="right", no_wrap=True)
        t.add_row(count_title(s), *(f"{reviews[a]:,.0f}" for a in s.apps), f"{float(s.total):,.0f}", end_section=True)
        for c, name in zip(cats, short):
            t.add_row(name, *(_apart_cell(shares.at[c, a], (a, c) in apart, con) for a in s.apps),
                      _pct(shares.at[c, "all"]))
        con.print(t)
    else:
        apps_as_rows(s, con, cats, full, reviews, apart, title)
    if apart:  # a log or a pipe shows no bold: a star marks the cell there
        mark = "bold" if con.color_system else "*"
        con.print(Text(f"{mark}: the app stands apart (a finding below)", style="dim"))


def _apart_cell(value: Any, apart: bool, con: Console) -> Text:
    """A share of the categories-by-app table: bold where the app stands apart, or with a "*" after
    it where the output shows no bold (a log, a pipe)."""
    if apart and not con.color_system:
        return Text(_pct(value) + "*")
    return Text(_pct(value), style="bold" if apart else "")


def apps_as_rows(s: Any, con: Console, cats: Sequence[str], full: Sequence[str], reviews: dict[str, float],
                 apart: set[tuple[str, str]], title: str) -> None:
    """The categories-by-app table for a console too narrow for an app a column: an app a row
    (its id shortened in the middle where it must be), then "all"; a category a column, titled
    by its name broken between words (a word longer than the column shortened with "…"), as many
    a table as fit, the reviews in the first."""
    shares = s.category_by_app
    rev_w = max(len("reviews"), len(f"{float(s.total):,.0f}"))
    app_w = min(max(len(a) for a in [*s.apps, "all"]), max(APP_MIN, con.width // 4))
    labels = app_labels(s.apps, app_w)
    app_w = max(len("all"), *(len(v) for v in labels.values()))
    star = "*" if apart and not con.color_system else ""
    cells = {c: [_pct(shares.at[c, a]) + star for a in [*s.apps, "all"]] for c in cats}
    narrow = [max(6, *(len(v) for v in cells[c]), min(CATEGORY_COLUMN, max(len(w) for w in n.split() or [""])))
              for c, n in zip(cats, full)]
    wide = [max(w, len(n)) for w, n in zip(narrow, full)]
    if table_width([app_w, rev_w, *wide]) <= con.width:
        widths = wide
    else:
        widths = narrow
    groups: list[list[int]] = [[]]
    for i, w in enumerate(widths):
        used = [app_w, *((rev_w,) if len(groups) == 1 else ()), *(widths[j] for j in groups[-1])]
        if groups[-1] and table_width([*used, w]) > con.width:
            groups.append([])
        groups[-1].append(i)

    def heading(name: str, width: int) -> str:
        return " ".join(w if len(w) <= width else say.short_name(w, width) for w in name.split())

    for n, group in enumerate(groups, start=1):
        t = Table(title=title + (f", {n} of {len(groups)}" if len(groups) > 1 else ""))
        t.add_column("app", no_wrap=True)
        if n == 1:
            t.add_column(count_title(s), justify="right", no_wrap=True)
        for i in group:
            t.add_column(heading(full[i], widths[i]), justify="right", width=widths[i])
        for a in s.apps:
            t.add_row(labels[a], *((f"{reviews[a]:,.0f}",) if n == 1 else ()),
                      *(_apart_cell(shares.at[cats[i], a], (a, cats[i]) in apart, con)
                        for i in group), end_section=a == s.apps[-1])
        t.add_row("all", *((f"{float(s.total):,.0f}",) if n == 1 else ()),
                  *(_pct(shares.at[cats[i], "all"]) for i in group))
        con.print(t)


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
    counts = [f"{float(s.scores[k]):,.0f}" for k in shares.columns]
    cells = [[_pct(v) for v in row.values] for _, row in shares.iterrows()]
    widths = [cells_width(f"{k}★", [n, *(r[i] for r in cells)])
              for i, (k, n) in enumerate(zip(shares.columns, counts))]
    for k, w in zip(shares.columns, widths):
        t.add_column(f"{k}★", justify="right", no_wrap=True, min_width=w)
    cat_names = [(names or {}).get(str(c), str(c)) for c in shares.index]
    # the numbers whole: a long category name gives way (it took every column's width at 80)
    room = max(len("category"), con.width - table_width(widths) - 3)
    t.add_row(count_title(s), *counts, end_section=True)
    for name, row in zip(say.short_names(cat_names, room), cells):
        t.add_row(name, *row)
    con.print(t)


def app_versions(s: Any, con: Console) -> None:
    """Each app's newest versions (``VERSIONS_SHOWN`` of them) with n, stars and negative share;
    counts whole, the app ids shortened in the middle and the column titles shorter where the
    console is narrow."""
    level = f"{100 * s.confidence:g}% CI"
    table = s.by_app_version
    hidden = 0
    rows = []
    for app in s.apps:
        app_rows = table[table["app"] == app]
        known = app_rows[app_rows["version"] != "unknown"]
        shown = known.tail(VERSIONS_SHOWN)
        hidden += len(known) - len(shown)
        latest = s.latest_by_app.get(app, {}).get("version")
        for _, row in list(shown.iloc[::-1].iterrows()) + list(app_rows[app_rows["version"] == "unknown"].iterrows()):
            rows.append({"app": str(app),
                         "version": str(row["version"]) + (" (latest)" if row["version"] == latest else ""),
                         "reviews": f"{row['reviews']:,.0f}",
                         "stars": "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                         "neg": _pct(row["negative_share"]), "ci": interval_text(row)})
    titles = [("version", "version", "version"), ("reviews", count_title(s), count_title(s)),
              ("stars", "mean stars", "stars"), ("neg", "% negative", "% neg"), ("ci", level, level)]
    titles = [c for c in titles if c[0] not in ("neg", "ci") or getattr(s, "has_sentiment", True)]
    # a version is text: past VERSION_WIDTH it wraps rather than narrowing the app ids
    spec = [(k, long, short, *(min(VERSION_WIDTH, cells_width(t, [r[k] for r in rows])) if k == "version"
                               else cells_width(t, [r[k] for r in rows]) for t in (long, short)))
            for k, long, short in titles]
    cols, app_w = app_columns(con.width, cells_width("app", [r["app"] for r in rows]), spec, ("ci",))
    labels = app_labels([r["app"] for r in rows], app_w)
    widths = {k: w for k, _, _, _, w in spec}
    t = Table(title=f"Per app and version (newest {VERSIONS_SHOWN} of each; all in the report)")
    t.add_column("app", no_wrap=True)
    for k, title in cols:
        if k == "version":
            t.add_column(title, max_width=max(widths[k], len(title)), overflow="fold")
        else:
            t.add_column(title, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(labels[r["app"]], *(r[k] for k, _ in cols))
    con.print(t)
    if hidden:
        con.print(f"[dim]… {hidden} earlier versions in results/tables/by_app_version.csv (reviewtui report) "
                  "or --json[/]")
