"""The report: results/report.md and results/report.html, PNG charts and the tables as CSV.

Everything is rendered into a temp folder first; then the earlier report's files are set aside
and the new ones moved into place, the two report files last. A failure puts the earlier report
back whole: a report never mixes two runs' numbers. Charts use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import base64
import html
import numbers
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from reviewtui.analysis.summary import APART_RATIO, NO_APP, NO_SENTIMENT, SENTIMENTS, Finding, Summary, stars_text
from reviewtui.errors import ReviewtuiError
from reviewtui.findings import Share

SENTIMENT_COLOURS = {"negative": "#D1495B", "neutral": "#9E9E9E", "positive": "#66A182"}


@dataclass
class ReportPaths:
    """Where the report went: the two documents, chart PNGs and table CSVs by name."""

    markdown: Path
    html: Path
    charts: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    stale: Any = None  # analysis.results.Staleness of the predictions reported on (the workspace sets it)
    sentiment: bool = True  # whether the predictions carry a sentiment (else the report leaves it out)

    def to_dict(self) -> dict[str, Any]:
        return {"markdown": str(self.markdown), "html": str(self.html),
                "charts": {k: str(v) for k, v in self.charts.items()},
                "tables": {k: str(v) for k, v in self.tables.items()},
                "stale": self.stale.to_dict() if self.stale is not None else None, "sentiment": self.sentiment}


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if f != f else f"{100 * f:.1f}%"


def _fmt(v: Any) -> str:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):  # numpy's integers too: 1379 -> 1,379
        return f"{int(v):,}"
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.3f}" if abs(v) < 10 and v != int(v) else f"{v:,.0f}"
    return str(v)


def _ci(sh: Share, with_level: bool = True) -> str:
    """``95% CI 57.5–80.1%`` (without the level: ``57.5–80.1%``)."""
    level = f"{100 * sh.confidence:g}% CI " if with_level else ""
    return f"{level}{100 * sh.low:.1f}–{100 * sh.high:.1f}%"


def _share_text(sh: Share, with_level: bool = True) -> str:
    """``70.0% (95% CI 57.5–80.1%)``."""
    return f"{_pct(sh.value)} ({_ci(sh, with_level)})"


def _reviews(n: int) -> str:
    return f"{n:,} review{'' if n == 1 else 's'}"


#: The findings whose subject is a category.
CATEGORY_FINDINGS = ("largest_category", "most_negative_category", "negative_majority", "lowest_stars",
                     "app_category")


def finding_sentence(f: Finding, names: dict[str, str] | None = None) -> str:
    """One finding in plain words, with its n and the interval of every share; a category by its
    name in ``names`` (key -> the taxonomy's name) where it has one."""
    if names:
        rising = f.detail.get("rising")
        f = replace(f, subject=names.get(f.subject, f.subject) if f.kind in CATEGORY_FINDINGS else f.subject,
                    detail={**f.detail, "rising": names.get(rising, rising)} if rising else f.detail)
    if f.kind == "largest_category":
        return f"{f.subject} is the largest category: {_share_text(f.share)} of {_reviews(f.n)}."
    if f.kind == "most_negative_category":
        return (f"{f.subject} draws the most negative reviews: {_share_text(f.share)} of its {_reviews(f.n)} "
                "are negative.")
    if f.kind == "negative_majority":
        return f"Most reviews are negative in {f.subject}: {_share_text(f.share)} of {_reviews(f.n)}."
    if f.kind == "lowest_stars":
        ci = (f" ({100 * f.detail.get('confidence', 0.95):g}% CI {f.detail['mean_low']:.2f}–"
              f"{f.detail['mean_high']:.2f})" if "mean_low" in f.detail else "")
        return (f"{f.subject} has the lowest star score: {f.mean:.2f}{ci} on average over {_reviews(f.n)} "
                f"(all reviews: {f.mean_against:.2f}).")
    if f.kind == "latest_version":
        head = f"{f.app}: the latest version" if f.app else "The latest version"
        earlier = _reviews(int(f.detail.get("earlier_n", f.against.n if f.against else 0)))
        how = f"is {f.direction} negative than" if f.direction else "is not clearly more or less negative than"
        text = (f"{head} {f.subject} ({_reviews(f.n)}) {how} the earlier ones ({earlier}): "
                f"{_pct(f.share.value)} negative ({_ci(f.share)}) against {_share_text(f.against, False)}")
        if f.detail.get("rising"):
            now, before = f.detail["rising_share"], f.detail["rising_from"]
            text += (f"; {f.detail['rising']} rises to {_pct(now.value)} of its reviews ({_ci(now, False)}), "
                     f"from {_share_text(before, False)}")
        return text + "."
    if f.kind == "most_negative_app":
        return (f"{f.subject} has the most negative reviews of the {f.detail.get('apps', 0)} apps: "
                f"{_share_text(f.share)} of its {_reviews(f.n)} against {_share_text(f.against, False)} for the "
                f"others ({_reviews(int(f.detail.get('others_n', 0)))}).")
    if f.kind == "app_category":
        others = int(f.detail.get("apps", 2)) - 1
        where = "the other app" if others == 1 else f"the other {others} apps"
        return (f"{f.subject} is {_share_text(f.share)} of {f.app}'s {_reviews(f.n)} against "
                f"{_share_text(f.against, False)} in {where} ({_reviews(int(f.detail.get('others_n', 0)))}).")
    return f"{f.kind}: {f.subject} (n = {f.n:,})"


def findings(s: Summary, names: dict[str, str] | None = None) -> list[str]:
    """Plain-language headlines of the summary (the original project's readings), each with its n
    and the intervals of its shares, about groups of at least ``s.min_group_size`` reviews only;
    categories by their names in ``names`` (key -> name) where given."""
    return [finding_sentence(f, names) for f in s.findings]


def findings_rule(s: Summary) -> str:
    """What a finding needs, said once under the findings."""
    return (f"Findings are about groups of at least {s.min_group_size:,} reviews ([findings] min_group_size), count "
            f"reviews{' (not weights)' if s.weighted else ''} and show {100 * s.confidence:g}% Wilson intervals; "
            "a difference is stated only when the two intervals do not overlap"
            + ("; an app's share of a category is named when its interval clears every other app's and it is "
               f"at least {APART_RATIO:g} times (or at most 1/{APART_RATIO:g} of) theirs together."
               if s.several_apps else "."))


def scope_text(s: Summary) -> str:
    """``all apps``, ``app X``, ``app X, app version 4.5``..."""
    parts = []
    if s.app:
        parts.append(f"app {s.app}")
    elif s.several_apps:
        real = len(s.named_apps)
        parts.append(f"{real} app{'s' if real != 1 else ''}" + (" and reviews with no app" if real < len(s.apps) else ""))
    elif s.apps and s.apps[0] != NO_APP:  # no app asked for: the one app these reviews are of
        parts.append(f"app {s.apps[0]}" + (" (the only app these reviews are of)" if s.stars or s.app_version else ""))
    if s.app_version and s.several_apps and not s.app and s.by_app is not None and "reviews" in s.by_app:
        # each app numbers its own versions: one app's 2.0 is not another's, so say whose these are
        counts = [(str(a), int(n)) for a, n in s.by_app["reviews"].sort_values(ascending=False).items()
                  if a != NO_APP]
        shown = ", ".join(a if s.weighted else f"{a} {n:,}" for a, n in counts[:4]) + (", ..." if len(counts) > 4 else "")
        parts.append(f"app version {s.app_version} of each ({shown}; --app narrows to one)")
    elif s.app_version or s.has_versions:  # reviews of products or places have none to speak of
        parts.append(f"app version {s.app_version}" if s.app_version else "all app versions")
    if s.stars:
        parts.append(stars_text(s.stars))
    return ", ".join(parts) or "all reviews"


def no_thumbs_text(s: Summary) -> str:
    """When weighted: the reviews that count as 1 for want of a thumbs-up count (a file without
    the column), by app where there are several; "" when every review has one. The advice to compare
    the apps unweighted comes where some apps have counts and others lack them."""
    if not s.weighted or not s.no_thumbs:
        return ""
    n = sum(m for m, _ in s.no_thumbs.values())
    whose, advice = "", ""
    if s.several_apps:
        listed = [(("all" if m == of else f"{m:,} of") + (f" {a}'s" if a != NO_APP else " the reviews with no app"))
                  for a, (m, of) in list(s.no_thumbs.items())[:4]]
        whose = " (" + ", ".join(listed) + (", ..." if len(s.no_thumbs) > 4 else "") + ")"
        apps = [a for a in s.apps if a != NO_APP]
        lacking = [a for a in apps if a in s.no_thumbs]
        if (lacking and len(lacking) < len(apps)) or any(s.no_thumbs[a][0] < s.no_thumbs[a][1] for a in lacking):
            advice = ": compare the apps unweighted"
    if n >= s.reviews:
        return "no review has a thumbs-up count: each counts as 1, as unweighted"
    return (f"{n:,} review{'s' if n != 1 else ''}{whose} {'have' if n != 1 else 'has'} no thumbs-up count and "
            f"{'count' if n != 1 else 'counts'} as 1{advice}")


def latest_text(s: Summary) -> str:
    """``latest version 4.10``, or each app's latest when there are several; "no app versions"
    when no review has one."""
    if not s.has_versions:
        return "no app versions"
    if s.several_apps:
        # each app's latest of all its reviews: an --app-version or --stars filter leaves out the
        # latest version's reviews of some apps, and those apps were left out of this line
        latest = {str(a): str(v) for a, v in s.by_app["latest_version"].items() if a != NO_APP and v and v != "-"}
        return "latest versions: " + (", ".join(f"{a} {v}" for a, v in latest.items()) or "-")
    return f"latest version {s.latest_version or '-'}"


def _mean_stars(s: Summary) -> float:
    total = float(s.scores.sum())
    return float(sum(k * v for k, v in s.scores.items()) / total) if total else float("nan")


# --- charts -----------------------------------------------------------------------------------
def _charts(s: Summary, colours: dict[str, str]) -> dict[str, bytes]:
    from reviewtui.analysis.charts import figure_png, pyplot

    plt = pyplot()
    out: dict[str, bytes] = {}
    cats = list(s.categories.index)
    ccol = [colours.get(c, "#607D8B") for c in cats]
    ylabel = "weighted reviews" if s.weighted else "reviews"

    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(cats, s.categories.values, color=ccol)
    ax.set_ylabel(ylabel)
    ax.set_title("Predicted category")
    ax.tick_params(axis="x", labelrotation=20)
    out["category_distribution"] = figure_png(fig)

    if s.has_sentiment:  # predicted with --sentiment none: no chart of zeros
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.bar(SENTIMENTS, s.sentiments.values, color=[SENTIMENT_COLOURS[x] for x in SENTIMENTS])
        ax.set_ylabel(ylabel)
        ax.set_title("Sentiment")
        out["sentiment_distribution"] = figure_png(fig)

    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.bar([str(i) for i in s.scores.index], s.scores.values, color="#F3A712")
    ax.set_xlabel("stars")
    ax.set_ylabel(ylabel)
    ax.set_title("Star score")
    out["score_distribution"] = figure_png(fig)

    if s.has_sentiment:
        fig, ax = plt.subplots(figsize=(7, 3.8))
        bottom = None
        for sent in SENTIMENTS:
            vals = s.category_sentiment[sent].values.astype(float)
            ax.bar(cats, vals, bottom=bottom, color=SENTIMENT_COLOURS[sent], label=sent)
            bottom = vals if bottom is None else bottom + vals
        ax.set_ylabel(ylabel)
        ax.set_title("Sentiment per category")
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelrotation=20)
        out["category_sentiment"] = figure_png(fig)

        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.bar(cats, s.negative_share.fillna(0).values * 100, color=ccol)
        ax.set_ylabel("% negative")
        ax.set_ylim(0, 100)
        ax.set_title("Negative share per category")
        ax.tick_params(axis="x", labelrotation=20)
        out["negative_share_by_category"] = figure_png(fig)

    if s.several_apps:
        out.update(_app_charts(s, plt, figure_png, ylabel))
    elif s.has_versions:
        versions = [str(v) for v in s.by_version.index]
        # without a sentiment, the reviews per version alone
        fig, axes = plt.subplots(1, 2 if s.has_sentiment else 1, figsize=(11 if s.has_sentiment else 6, 3.8),
                                 squeeze=False)
        ax1 = axes[0][0]
        ax1.bar(versions, s.by_version["reviews"].values, color="#2E86AB")
        ax1.set_ylabel(ylabel)
        ax1.set_title("Reviews per version")
        if s.has_sentiment:
            ax2 = axes[0][1]
            for c in cats:
                ax2.plot(versions, s.version_negative_share[c].values * 100, marker="o", label=c,
                         color=colours.get(c))
            ax2.plot(versions, s.by_version["negative_share"].values * 100, marker="s", color="black", lw=2,
                     label="all")
            ax2.set_ylabel("% negative")
            ax2.set_title("Negative share per version")
            ax2.legend(fontsize=7)
        for ax in axes[0]:
            ax.tick_params(axis="x", labelrotation=30)
        out["by_version"] = figure_png(fig)
    return out


#: At most this many apps get a panel of their own in the app x version chart (the largest ones).
CHART_APPS = 6
#: Above this many apps, the per-app chart draws one horizontal bar per app, names on the side.
HORIZONTAL_APPS = 6
#: At most this many versions (the latest with enough reviews) per app panel.
CHART_VERSIONS = 12


def _app_charts(s: Summary, plt, figure_png, ylabel: str) -> dict[str, bytes]:
    """Several apps: reviews and negative share per app (with intervals), and each app's negative
    share over its latest versions that have at least ``min_group_size`` reviews."""
    out: dict[str, bytes] = {}
    apps = [str(a) for a in s.by_app.index]
    neg = s.by_app["negative_share"].values * 100
    low, high = s.by_app["negative_low"].values * 100, s.by_app["negative_high"].values * 100
    errors = None if s.weighted else [neg - low, high - neg]
    neg_title = "Negative share per app" + ("" if s.weighted else f" ({100 * s.confidence:g}% interval)")
    # without a sentiment, the reviews per app alone
    with_neg = s.has_sentiment
    if len(apps) <= HORIZONTAL_APPS:
        fig, axes = plt.subplots(1, 2 if with_neg else 1, figsize=(11 if with_neg else 6, 3.8), squeeze=False)
        ax1 = axes[0][0]
        ax1.bar(apps, s.by_app["reviews"].values, color="#2E86AB")
        ax1.set_ylabel(ylabel)
        if with_neg:
            ax2 = axes[0][1]
            ax2.bar(apps, neg, yerr=errors, capsize=4, color="#D1495B")
            ax2.set_ylabel("% negative")
            ax2.set_ylim(0, 100)
        for ax in axes[0]:
            ax.tick_params(axis="x", labelrotation=20)
    else:  # many apps: one row each, their names written out on the side instead of crowding an axis
        fig, axes = plt.subplots(1, 2 if with_neg else 1, figsize=(12 if with_neg else 6, 1.2 + 0.32 * len(apps)),
                                 sharey=True, squeeze=False)
        ax1 = axes[0][0]
        rows = list(range(len(apps)))[::-1]  # the first app on top
        ax1.barh(rows, s.by_app["reviews"].values, color="#2E86AB")
        ax1.set_yticks(rows, apps, fontsize=8)
        ax1.set_xlabel(ylabel)
        if with_neg:
            ax2 = axes[0][1]
            ax2.barh(rows, neg, xerr=errors, capsize=3, color="#D1495B")
            ax2.set_xlabel("% negative")
            ax2.set_xlim(0, 100)
    ax1.set_title("Reviews per app")
    if with_neg:
        ax2.set_title(neg_title)
    fig.tight_layout()
    out["by_app"] = figure_png(fig)
    if not s.has_sentiment:  # the app x version panels draw the negative share
        return out

    table = s.by_app_version
    shown = sorted(apps, key=lambda a: -float(s.by_app.loc[a, "reviews"]))[:CHART_APPS]
    panels = []
    for a in shown:
        rows = table[(table["app"] == a) & (table["version"] != "unknown") & (table["reviews"] >= s.min_group_size)]
        if len(rows):
            panels.append((a, rows.tail(CHART_VERSIONS)))
    if panels:
        cols = min(3, len(panels))
        nrows = (len(panels) + cols - 1) // cols
        fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.2 * nrows), squeeze=False)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, (a, rows) in zip(axes.flat, panels):
            versions = [str(v) for v in rows["version"]]
            y = rows["negative_share"].values * 100
            err = None if s.weighted else [y - rows["negative_low"].values * 100,
                                           rows["negative_high"].values * 100 - y]
            ax.errorbar(versions, y, yerr=err, marker="o", capsize=3, color="#D1495B")
            ax.set_ylim(0, 100)
            ax.set_title(a, fontsize=9)
            ax.set_ylabel("% negative", fontsize=8)
            ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        with_versions = sum(1 for a in apps if ((table["app"] == a) & (table["version"] != "unknown")
                                                 & (table["reviews"] >= s.min_group_size)).any())
        which = f"; the {len(panels)} largest of the {with_versions} apps with such versions" \
            if with_versions > len(panels) else ""
        fig.suptitle(f"Negative share per app version (versions with at least {s.min_group_size} reviews{which})",
                     fontsize=10)
        out["by_app_version"] = figure_png(fig)
    return out


# --- documents --------------------------------------------------------------------------------
def _md_table(df, pct_cols: tuple[str, ...] = ()) -> str:
    cols = [str(df.index.name or "")] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [str(idx)] + [_pct(v) if (str(c) in pct_cols or str(c).startswith("share")) else _fmt(v)
                              for c, v in row.items()]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


TABLE_TITLES = {
    "category_distribution": "Category distribution",
    "sentiment_distribution": "Sentiment distribution",
    "score_distribution": "Star score distribution",
    "category_sentiment": "Category x sentiment",
    "negative_share_by_category": "Negative share and mean stars per category",
    "by_version": "Per app version",
    "by_app": "Per app",
    "category_by_app": "Categories by app (share of each app's reviews)",
    "category_stars": "Categories by star score (share of each star score's reviews)",
    "by_app_version": "Per app and app version",
    "version_category": "Category per app version",
    "version_negative_share": "Negative share per category and app version",
}
#: Titles that change when the version tables are per app and version.
APP_TABLE_TITLES = {
    "version_category": "Category per app and app version",
    "version_negative_share": "Negative share per category, app and app version",
}
PCT_TABLES = {"version_negative_share", "category_by_app", "category_stars"}
PCT_COLUMNS = ("share", "negative_share", "negative_low", "negative_high")


def table_title(s: Summary, name: str) -> str:
    if name == "negative_share_by_category" and not s.has_sentiment:  # its negative share left out
        return "Mean stars per category"
    return (APP_TABLE_TITLES.get(name) if s.several_apps else None) or TABLE_TITLES.get(name, name)


def table_note(s: Summary, name: str) -> str:
    """A line under a table's title that its cells need ("" for most)."""
    if name == "category_by_app":
        sizes = ", ".join(f"{a} {_fmt(float(s.by_app.at[a, 'reviews']))}" for a in s.apps)
        return f"Each column adds up to 100%; {_sizes_word(s)}: {sizes}; all {_fmt(float(s.total))}."
    if name == "category_stars":
        sizes = ", ".join(f"{k}★ {_fmt(float(v))}" for k, v in s.scores.items() if v)
        return f"Each column adds up to 100%; {_sizes_word(s)}: {sizes}."
    return ""


def _sizes_word(s: Summary) -> str:
    """What a column's size counts: reviews, or their weights (1 + thumbs-up) when weighted."""
    return "weight" if s.weighted else "reviews"


def _intro(s: Summary) -> str:
    sentiment = f"sentiment {s.sentiment_source}; " if s.sentiment_source else ""
    no_thumbs = no_thumbs_text(s)
    return (f"{_reviews(s.reviews)} ({scope_text(s)}); model {s.model or '-'}; {sentiment}"
            f"{'weighted by 1 + thumbs-up' if s.weighted else 'unweighted'}; {latest_text(s)}."
            + (f" {no_thumbs[0].upper()}{no_thumbs[1:]}." if no_thumbs else "")
            + ("" if s.has_sentiment else f" {NO_SENTIMENT}"))


def named_table(df: Any, names: dict[str, str] | None) -> Any:
    """``df`` with the category keys of its rows (a table by category) and of its columns as their
    names in ``names`` (key -> the taxonomy's name); ``df`` itself without ``names``."""
    if not names:
        return df
    df = df.rename(columns=lambda c: names.get(str(c), c))
    return df.rename(index=lambda k: names.get(str(k), k)) if df.index.name == "category" else df


def render_markdown(s: Summary, title: str, tables: dict[str, Any], charts: list[str],
                    notes: Sequence[str] = (), names: dict[str, str] | None = None) -> str:
    lines = [f"# {title}", "", _intro(s), ""]
    lines += [f"> **Note:** {n}" for n in notes] + ([""] if notes else [])  # predictions behind the workspace
    lines += ["## Findings", ""]
    lines += [f"- {f}" for f in findings(s, names)] or ["- None: no group is large enough, or no difference is clear."]
    lines += ["", f"_{findings_rule(s)}_", ""]
    for name, df in tables.items():
        lines += [f"## {table_title(s, name)}", ""]
        if table_note(s, name):
            lines += [table_note(s, name), ""]
        if name in charts:
            lines += [f"![{name}](charts/{name}.png)", ""]
        pct = tuple(df.columns) if name in PCT_TABLES else PCT_COLUMNS
        df = named_table(df, names)
        lines += [_md_table(df, tuple(str(c) for c in pct)), "", f"[CSV](tables/{name}.csv)", ""]
    extra = [c for c in charts if c not in tables]
    for c in extra:
        lines += [f"## {c.replace('_', ' ').capitalize()}", "", f"![{c}](charts/{c}.png)", ""]
    return "\n".join(lines)


def render_html(s: Summary, title: str, tables: dict[str, Any], charts: dict[str, bytes],
                notes: Sequence[str] = (), names: dict[str, str] | None = None) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}</style>",
             f"</head><body><h1>{esc(title)}</h1>",
             f"<p>{esc(_intro(s))}</p>",
             *(f"<p><strong>Note:</strong> {esc(n)}</p>" for n in notes),
             "<h2>Findings</h2><ul>"]
    parts += [f"<li>{esc(f)}</li>" for f in findings(s, names)] or [
        "<li>None: no group is large enough, or no difference is clear.</li>"]
    parts += ["</ul>", f"<p><em>{esc(findings_rule(s))}</em></p>"]
    for name, df in tables.items():
        parts.append(f"<h2>{esc(table_title(s, name))}</h2>")
        if table_note(s, name):
            parts.append(f"<p>{esc(table_note(s, name))}</p>")
        if name in charts:
            data = base64.b64encode(charts[name]).decode()
            parts.append(f"<img alt='{esc(name)}' src='data:image/png;base64,{data}'>")
        df = named_table(df, names)
        pct_cols = set(map(str, df.columns)) if name in PCT_TABLES else set(PCT_COLUMNS)
        head = "".join(f"<th>{esc(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
        body = []
        for idx, row in df.iterrows():
            cells = [_pct(v) if (str(c) in pct_cols or str(c).startswith("share")) else _fmt(v)
                     for c, v in row.items()]
            body.append("<tr><td>" + esc(str(idx)) + "</td>" + "".join(f"<td>{esc(c)}</td>" for c in cells)
                        + "</tr>")
        parts.append(f"<table><tr>{head}</tr>{''.join(body)}</table>"
                     f"<p><a href='tables/{esc(name)}.csv'>CSV</a></p>")
    for name in charts:
        if name not in tables:
            data = base64.b64encode(charts[name]).decode()
            parts.append(f"<h2>{esc(name.replace('_', ' ').capitalize())}</h2>"
                         f"<img alt='{esc(name)}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


#: Every chart and table a report can write (which ones depends on the apps, versions and stars of
#: its scope): those an earlier report wrote and this one does not are removed, so that charts/ and
#: tables/ hold one scope's numbers.
REPORT_CHARTS = ("category_distribution", "sentiment_distribution", "score_distribution", "category_sentiment",
                 "negative_share_by_category", "by_version", "by_app", "by_app_version")
REPORT_TABLES = ("category_distribution", "sentiment_distribution", "score_distribution", "category_sentiment",
                 "negative_share_by_category", "category_stars", "by_app", "category_by_app", "by_app_version",
                 "by_version", "version_category", "version_negative_share")


def write_report(s: Summary, results_dir: Path, *, title: str = "Review analysis",
                 colours: dict[str, str] | None = None, notes: Sequence[str] = (),
                 names: dict[str, str] | None = None) -> ReportPaths:
    """Write report.md, report.html, charts/*.png and tables/*.csv under ``results_dir``, with
    ``notes`` (what the predictions miss, in the front ends' words) under the headline. The two
    documents call a category by its name in ``names`` (key -> the taxonomy's name) where given;
    the CSV tables keep the keys, as results/result.csv does. Returns their paths. Files are
    staged in a temp folder, then the earlier report's are set aside and the new ones moved in:
    any failure puts the earlier report back whole and raises :class:`ReviewtuiError` naming the
    folder that refused."""
    from reviewtui.analysis.export import frame_csv_bytes

    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    tables = s.tables()
    charts = _charts(s, colours or {})
    try:
        stage = Path(tempfile.mkdtemp(dir=results_dir, prefix=".report-"))
    except OSError as exc:
        raise _report_error(results_dir, exc, "") from exc
    keep_stage = False
    try:
        try:
            (stage / "charts").mkdir()
            (stage / "tables").mkdir()
            for name, data in charts.items():
                (stage / "charts" / f"{name}.png").write_bytes(data)
            for name, df in tables.items():
                (stage / "tables" / f"{name}.csv").write_bytes(frame_csv_bytes(df))
            (stage / "report.md").write_text(render_markdown(s, title, tables, list(charts), notes, names),
                                             encoding="utf-8")
            (stage / "report.html").write_text(render_html(s, title, tables, charts, notes, names),
                                               encoding="utf-8")
        except OSError as exc:
            raise _report_error(results_dir, exc, "") from exc
        paths = ReportPaths(results_dir / "report.md", results_dir / "report.html", sentiment=s.has_sentiment)
        paths.charts.update({name: results_dir / "charts" / f"{name}.png" for name in charts})
        paths.tables.update({name: results_dir / "tables" / f"{name}.csv" for name in tables})
        # the two documents last: until they are in, the earlier ones are
        new = [f"charts/{name}.png" for name in charts] + [f"tables/{name}.csv" for name in tables]
        new += ["report.md", "report.html"]
        # an earlier report's charts and tables of another scope (all apps, then one app)
        gone = [f"charts/{name}.png" for name in REPORT_CHARTS if name not in charts]
        gone += [f"tables/{name}.csv" for name in REPORT_TABLES if name not in tables]
        try:
            _swap_in(stage, results_dir, new, gone)
        except ReviewtuiError:  # the earlier report's files that could not be put back stay where it says
            keep_stage = any(not p.is_dir() for p in (stage / ".old").rglob("*"))
            raise
    finally:
        if not keep_stage:
            shutil.rmtree(stage, ignore_errors=True)
    return paths


def _report_error(results_dir: Path, exc: OSError, folder: str, left: Path | None = None) -> ReviewtuiError:
    """The error of a report that could not be written: the folder of ``results_dir`` that refused
    (``folder``: "charts", "tables" or "" for ``results_dir`` itself), why, and that the earlier
    report is as it was (or, ``left``, where the files of it that could not be put back are)."""
    where = results_dir / folder if folder else results_dir
    why = exc.strerror or str(exc)
    kept = ("the earlier report was left as it was" if left is None else
            f"some of the earlier report's files could not be put back: they are in {left}")
    return ReviewtuiError(f"cannot write {where}: {why}; the report was not written and {kept}. Make {where} "
                          "writable (or copy the workspace somewhere writable) and write the report again")


def _swap_in(stage: Path, results_dir: Path, new: Sequence[str], gone: Sequence[str]) -> None:
    """Move the files ``new`` (paths relative to ``stage``) into ``results_dir``, after setting
    aside the earlier ones of these names and of ``gone`` in ``stage/.old``; on a failure, move
    the new ones back out and the earlier ones back in, and raise :func:`_report_error`."""
    aside = stage / ".old"
    set_aside: list[tuple[Path, Path]] = []  # (in results_dir, in aside)
    moved_in: list[tuple[Path, Path]] = []  # (in results_dir, in stage)
    folder = ""
    try:
        for sub in ("charts", "tables"):
            folder = sub
            (results_dir / sub).mkdir(exist_ok=True)
        for rel in [*new, *gone]:
            final = results_dir / rel
            folder = str(Path(rel).parent) if "/" in rel else ""
            if final.exists() or final.is_symlink():
                old = aside / rel
                old.parent.mkdir(parents=True, exist_ok=True)
                os.replace(final, old)
                set_aside.append((final, old))
        for rel in new:
            folder = str(Path(rel).parent) if "/" in rel else ""
            os.replace(stage / rel, results_dir / rel)
            moved_in.append((results_dir / rel, stage / rel))
    except BaseException as exc:  # an interrupt too: the earlier report goes back before it is raised
        not_back = False
        for final, staged in reversed(moved_in):
            try:
                os.replace(final, staged)
            except OSError:
                not_back = True
        for final, old in reversed(set_aside):
            try:
                os.replace(old, final)
            except OSError:
                not_back = True
        if not isinstance(exc, OSError):
            if not_back:  # kept where the error says, not removed with the temporary folder
                raise ReviewtuiError(f"interrupted while the report was written: some of the earlier report's "
                                     f"files could not be put back: they are in {aside}") from exc
            raise
        raise _report_error(results_dir, exc, folder, aside if not_back else None) from exc
