"""The report: results/report.md and results/report.html, PNG charts and the tables as CSV.

Everything is rendered into a temp folder first and moved into place file by file, the two
report files last, so a failure never leaves a report that mixes two runs' numbers with missing
charts. Charts use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewtui.analysis.summary import SENTIMENTS, Summary

SENTIMENT_COLOURS = {"negative": "#D1495B", "neutral": "#9E9E9E", "positive": "#66A182"}


@dataclass
class ReportPaths:
    """Where the report went: the two documents, chart PNGs and table CSVs by name."""

    markdown: Path
    html: Path
    charts: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"markdown": str(self.markdown), "html": str(self.html),
                "charts": {k: str(v) for k, v in self.charts.items()},
                "tables": {k: str(v) for k, v in self.tables.items()}}


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if f != f else f"{100 * f:.1f}%"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.3f}" if abs(v) < 10 and v != int(v) else f"{v:,.0f}"
    return str(v)


def findings(s: Summary) -> list[str]:
    """Plain-language headlines computed from the summary (the original project's readings)."""
    out: list[str] = []
    unit = "weighted reviews" if s.weighted else "reviews"
    if s.total:
        top = s.categories.idxmax()
        out.append(f"{top} is the largest category: {_pct(s.category_share[top])} of {_fmt(s.total)} {unit}.")
    neg = s.negative_share.dropna()
    if len(neg):
        worst = neg.idxmax()
        out.append(f"{worst} draws the most negative reviews: {_pct(neg[worst])} of its reviews are negative.")
        majority = [c for c, v in neg.items() if v > 0.5]
        if majority:
            out.append(f"Most reviews are negative in: {', '.join(majority)}.")
    stars = s.mean_score.dropna()
    if len(stars) > 1:
        low = stars.idxmin()
        out.append(f"{low} has the lowest star score: {stars[low]:.2f} on average (all reviews: "
                   f"{_mean_stars(s):.2f}).")
    L = s.latest
    if L and L.get("negative_share_others") == L.get("negative_share_others"):  # not NaN
        delta = L["negative_share"] - L["negative_share_others"]
        direction = "about as" if abs(delta) < 0.005 else "more" if delta > 0 else "less"
        shares, others = L["category_share"], L["category_share_others"]
        moved = max(shares, key=lambda c: shares[c] - others.get(c, 0.0)) if shares else None
        n = L["reviews"]
        text = (f"The latest version {L['version']} ({n} review{'' if n == 1 else 's'}) is {direction} negative "
                "than the "
                f"earlier ones: {_pct(L['negative_share'])} negative against {_pct(L['negative_share_others'])}")
        if moved is not None:
            text += (f"; {moved} rises to {_pct(shares[moved])} of its reviews "
                     f"(from {_pct(others.get(moved, 0.0))})")
        out.append(text + ".")
    return out


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

    if len(s.by_version):
        versions = [str(v) for v in s.by_version.index]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
        ax1.bar(versions, s.by_version["reviews"].values, color="#2E86AB")
        ax1.set_ylabel(ylabel)
        ax1.set_title("Reviews per version")
        for c in cats:
            ax2.plot(versions, s.version_negative_share[c].values * 100, marker="o", label=c,
                     color=colours.get(c))
        ax2.plot(versions, s.by_version["negative_share"].values * 100, marker="s", color="black", lw=2,
                 label="all")
        ax2.set_ylabel("% negative")
        ax2.set_title("Negative share per version")
        ax2.legend(fontsize=7)
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=30)
        out["by_version"] = figure_png(fig)
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
    "version_category": "Category per app version",
    "version_negative_share": "Negative share per category and app version",
}
PCT_TABLES = {"version_negative_share"}


def render_markdown(s: Summary, title: str, tables: dict[str, Any], charts: list[str]) -> str:
    scope = f"app version {s.app_version}" if s.app_version else "all app versions"
    lines = [f"# {title}", "",
             f"{s.reviews:,} reviews ({scope}); model {s.model or '-'}; "
             f"{'weighted by 1 + thumbs-up' if s.weighted else 'unweighted'}; "
             f"latest version {s.latest_version or '-'}.",
             "", "## Findings", ""]
    lines += [f"- {f}" for f in findings(s)] + [""]
    for name, df in tables.items():
        lines += [f"## {TABLE_TITLES.get(name, name)}", ""]
        if name in charts:
            lines += [f"![{name}](charts/{name}.png)", ""]
        pct = tuple(df.columns) if name in PCT_TABLES else ("share", "negative_share")
        lines += [_md_table(df, tuple(str(c) for c in pct)), "", f"[CSV](tables/{name}.csv)", ""]
    extra = [c for c in charts if c not in tables]
    for c in extra:
        lines += [f"## {c.replace('_', ' ').capitalize()}", "", f"![{c}](charts/{c}.png)", ""]
    return "\n".join(lines)


def render_html(s: Summary, title: str, tables: dict[str, Any], charts: dict[str, bytes]) -> str:
    esc = html.escape
    scope = f"app version {s.app_version}" if s.app_version else "all app versions"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}</style>",
             f"</head><body><h1>{esc(title)}</h1>",
             f"<p>{s.reviews:,} reviews ({esc(scope)}); model {esc(s.model or '-')}; "
             f"{'weighted by 1 + thumbs-up' if s.weighted else 'unweighted'}; latest version "
             f"{esc(s.latest_version or '-')}.</p><h2>Findings</h2><ul>"]
    parts += [f"<li>{esc(f)}</li>" for f in findings(s)] + ["</ul>"]
    for name, df in tables.items():
        parts.append(f"<h2>{esc(TABLE_TITLES.get(name, name))}</h2>")
        if name in charts:
            data = base64.b64encode(charts[name]).decode()
            parts.append(f"<img alt='{esc(name)}' src='data:image/png;base64,{data}'>")
        pct_cols = set(map(str, df.columns)) if name in PCT_TABLES else {"share", "negative_share"}
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


def write_report(s: Summary, results_dir: Path, *, title: str = "Review analysis",
                 colours: dict[str, str] | None = None) -> ReportPaths:
    """Write report.md, report.html, charts/*.png and tables/*.csv under ``results_dir``.
    Returns their paths. Files are staged in a temp folder and moved into place at the end."""
    from reviewtui.analysis.export import frame_csv_bytes

    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    tables = s.tables()
    charts = _charts(s, colours or {})
    stage = Path(tempfile.mkdtemp(dir=results_dir, prefix=".report-"))
    try:
        (stage / "charts").mkdir()
        (stage / "tables").mkdir()
        for name, data in charts.items():
            (stage / "charts" / f"{name}.png").write_bytes(data)
        for name, df in tables.items():
            (stage / "tables" / f"{name}.csv").write_bytes(frame_csv_bytes(df))
        (stage / "report.md").write_text(render_markdown(s, title, tables, list(charts)), encoding="utf-8")
        (stage / "report.html").write_text(render_html(s, title, tables, charts), encoding="utf-8")
        paths = ReportPaths(results_dir / "report.md", results_dir / "report.html")
        for sub, store in (("charts", paths.charts), ("tables", paths.tables)):
            (results_dir / sub).mkdir(exist_ok=True)
            for f in sorted((stage / sub).iterdir()):
                os.replace(f, results_dir / sub / f.name)
                store[f.stem] = results_dir / sub / f.name
        os.replace(stage / "report.md", paths.markdown)
        os.replace(stage / "report.html", paths.html)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return paths
