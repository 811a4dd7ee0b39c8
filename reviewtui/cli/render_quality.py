"""Rich output of the label-quality commands: the suspects table and the statistics (versions,
authors, agreement). Cells and sentences come from :mod:`reviewtui.presentation`, as the app's."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from reviewtui import presentation as say
from reviewtui.cli.render import SHORT_IDS, console, print_lines
from reviewtui.cli.tables import Table


#: The width of the suspects table's id, label and suggested columns (longer values are cut).
SUSPECT_WIDTH = 16


#: Below this many columns the suspects come as three lines each instead of a table.
SUSPECT_TABLE_COLUMNS = 120


def suspects(report: Any, moved: Any | None = None, taxonomy: Any | None = None) -> None:
    """The suspect labels with their reviews: a table on a wide terminal (the reason and the review
    side by side), three lines each on a narrow one (the whole id, label → suggestion, the review),
    where a table's columns would be a few characters wide."""
    con = console()
    shown = report.top()
    title = f"Labels that are probably wrong (top {len(shown)} of {len(report.suspects)})"
    if shown and con.width >= SUSPECT_TABLE_COLUMNS:
        t = Table(title=title)
        for heading, key in say.SUSPECT_COLUMNS:
            wide = key in ("reason", "text")
            t.add_column(heading, justify="right" if key in ("rank", "confidence") else "left", no_wrap=not wide,
                         overflow="fold" if wide else "ellipsis",
                         max_width=SUSPECT_WIDTH if key in ("id", "label", "suggested") else None,
                         ratio=(2 if key == "text" else 1) if wide else None)
        for rank, s in enumerate(shown, start=1):
            cells = list(say.suspect_cells(s, rank, taxonomy))
            cells[1] = say.short_id(cells[1], SUSPECT_WIDTH)  # its start and end, as resolve_id takes it
            t.add_row(*cells)
        con.print(t)
        if any(len(s.external_id) > SUSPECT_WIDTH for s in shown):
            con.print(SHORT_IDS, markup=False, style="dim")
    elif shown:
        from rich.padding import Padding

        con.print(Text(title, style="bold"))
        for rank, s in enumerate(shown, start=1):  # the id whole, then what is wrong, then the review
            n, ext, label, suggested, conf, _, text = say.suspect_cells(s, rank, taxonomy)
            con.print(Text(f"{n:>3}  ") + Text(ext, style="bold"))
            con.print(Padding(Text(f"{label} → {suggested} ({conf})" + (", cleanlab flags it" if s.flagged else "")
                                   + (f", labeled by {s.author}" if getattr(s, "author", "") else "")),
                              (0, 0, 0, 5), expand=False))
            con.print(Padding(Text(text, style="dim"), (0, 0, 0, 5), expand=False))
    print_lines([say.suspects_sentence(report)], con)
    if moved is not None:
        print_lines([say.to_review_sentence(moved)], con)


def stats(st: Any, taxonomy: Any, moved: Any | None = None) -> None:
    con = console()
    if st.versions:
        t = Table(title="Dataset versions (against the one before)")
        columns = [(title, key) for title, key in say.VERSION_STATS_COLUMNS if key != "transitions"]
        for title, key in columns:
            t.add_column(title, justify="left" if key == "version" else "right", no_wrap=True)
        for v in st.versions:
            t.add_row(*say.version_stats_cells(v)[:len(columns)])
        con.print(t)
        print_lines([line for v in st.versions if (line := say.version_transitions_line(v))], con)
    else:
        print_lines(["No dataset version yet: export one with reviewtui export."], con)
    if st.authors:
        t = Table(title="Authors (people's labels; s/label: the median)")
        for title, key in say.AUTHOR_STATS_COLUMNS:
            t.add_column(title, justify="left" if key == "author" else "right", no_wrap=key != "author")
        for a in st.authors:
            t.add_row(*say.author_stats_cells(a))
        con.print(t)
    else:
        print_lines(["No label from a person yet (imports and models do not count)."], con)
    ag = st.agreement
    print_lines([say.agreement_sentence(ag)], con)
    if ag.assets:
        names = dict(zip(taxonomy.keys, say.category_names(taxonomy.keys, taxonomy)))
        t = Table(title="Agreement per category")
        for col in ("category", "labels", "specific", "κ", ""):
            t.add_column(col, justify="left" if col in ("category", "") else "right", no_wrap=True)
        for c in ag.per_category:
            if c.ratings:
                cells = say.category_agreement_cells(c, names.get(c.category, c.category))
                t.add_row(*cells, say.bar(c.specific or 0.0, 1.0, 20))
        con.print(t)
        if len(ag.pairs) > 1:
            t = Table(title="Agreement per pair of authors")
            for col in ("authors", "reviews", "observed", "Cohen's κ"):
                t.add_column(col, justify="left" if col == "authors" else "right")
            for p in ag.pairs:
                t.add_row(f"{p.a} · {p.b}", str(p.assets), say.percent(p.observed), say.number(p.kappa, 2))
            con.print(t)
        still = [d for d in ag.disagreements if not d.settled]
        if still:
            first = still[:10]
            con.print(Text(("Open disagreements: " if len(still) < len(ag.disagreements) else "Disagreements: ")
                           + "; ".join(f"{d.external_id} ({say.disagreement_reason(d.labels)})" for d in first)
                           + (f" … {len(still) - len(first)} more (`reviewtui stats --json` lists them all; D in "
                              "the app's review queues shows them one by one)" if len(still) > 10 else "")))
    if moved is not None:
        print_lines([say.to_review_sentence(moved)], con)
