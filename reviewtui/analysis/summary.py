"""The numbers of the final analysis, as data: distributions, cross tables and per-version trends.

``summarize(frame)`` takes the rows of ``results/result.csv`` (a pandas DataFrame) and returns a
:class:`Summary` of pandas Series/DataFrames and plain numbers. With ``weight_by_thumbs`` every
review counts ``1 + thumbsUpCount`` times (a review nobody up-voted still counts once). App
versions are grouped to ``version_depth`` parts (``4.5.2`` -> ``4.5`` at depth 2; None keeps them
whole), sorted numerically; reviews without a version are "unknown" and never the latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from reviewtui.errors import ReviewtuiError

SENTIMENTS = ["negative", "neutral", "positive"]
UNKNOWN = "unknown"


def version_key(v: str) -> tuple:
    """A sort key that orders ``4.10`` after ``4.9``; "unknown" sorts first."""
    if v == UNKNOWN:
        return ((-1,),)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-_ ]", str(v)) if p != "")


def version_group(v: Any, depth: int | None = 2) -> str:
    """``v`` cut to ``depth`` dot-separated parts; blank -> "unknown"."""
    s = str(v if v is not None else "").strip()
    if not s or s.lower() in ("nan", "none"):
        return UNKNOWN
    return ".".join(s.split(".")[:depth]) if depth else s


def matches_version(v: str, wanted: str) -> bool:
    """True when full version ``v`` is ``wanted`` or starts with ``wanted + "."``."""
    return v == wanted or v.startswith(wanted + ".")


@dataclass
class Summary:
    """Everything the report shows, as numbers. Counts are review counts, or summed weights when
    ``weighted``. Index orders: categories in taxonomy/model order, sentiments negative-neutral-
    positive, scores 1-5, versions ascending."""

    total: float
    reviews: int
    weighted: bool
    app_version: str | None
    latest_version: str | None
    model: str | None
    categories: Any            # Series: category -> count
    category_share: Any        # Series: category -> share of reviews
    sentiments: Any            # Series: sentiment -> count
    scores: Any                # Series: 1..5 -> count
    category_sentiment: Any    # DataFrame: category x sentiment counts
    negative_share: Any        # Series: category -> negative share within the category
    mean_score: Any            # Series: category -> mean star score
    by_version: Any            # DataFrame: version -> reviews, mean_score, negative_share, share of each category
    version_category: Any      # DataFrame: version x category counts
    version_negative_share: Any  # DataFrame: version x category negative share
    latest: dict[str, Any]     # the latest version against the others

    def tables(self) -> dict[str, Any]:
        """name -> DataFrame, the tables the report writes as CSV."""
        import pandas as pd

        def named(df, name: str):
            df = df.copy()
            df.index.name = name
            return df

        return {
            "category_distribution": named(pd.DataFrame({"reviews": self.categories, "share": self.category_share}),
                                           "category"),
            "sentiment_distribution": named(self.sentiments.rename("reviews").to_frame(), "sentiment"),
            "score_distribution": named(self.scores.rename("reviews").to_frame(), "stars"),
            "category_sentiment": named(self.category_sentiment, "category"),
            "negative_share_by_category": named(pd.DataFrame({"negative_share": self.negative_share,
                                                              "mean_score": self.mean_score}), "category"),
            "by_version": named(self.by_version, "version"),
            "version_category": named(self.version_category, "version"),
            "version_negative_share": named(self.version_negative_share, "version"),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dicts and lists (for --json and the app)."""
        def series(s) -> dict[str, Any]:
            return {str(k): _num(v) for k, v in s.items()}

        def frame(df) -> dict[str, dict[str, Any]]:
            return {str(i): {str(c): _num(v) for c, v in row.items()} for i, row in df.iterrows()}

        return {"total": _num(self.total), "reviews": self.reviews, "weighted": self.weighted,
                "app_version": self.app_version, "latest_version": self.latest_version, "model": self.model,
                "categories": series(self.categories), "category_share": series(self.category_share),
                "sentiments": series(self.sentiments), "scores": series(self.scores),
                "category_sentiment": frame(self.category_sentiment),
                "negative_share": series(self.negative_share), "mean_score": series(self.mean_score),
                "by_version": frame(self.by_version), "version_category": frame(self.version_category),
                "version_negative_share": frame(self.version_negative_share),
                "latest": {k: _num(v) if not isinstance(v, dict) else {a: _num(b) for a, b in v.items()}
                           for k, v in self.latest.items()}}


def _num(v: Any) -> Any:
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float):
        return None if v != v else round(v, 6)
    return v


#: The columns of results/result.csv that :func:`summarize` reads (the review texts are not among them).
SUMMARY_COLUMNS = ("predicted_category", "sentiment", "score", "reviewCreatedVersion", "thumbsUpCount", "model")


_LAST_READ: dict[tuple, Any] = {}  # the last file read (path, identity, columns) -> its frame


def read_results(path: Path, columns: Sequence[str] | None = SUMMARY_COLUMNS):
    """The ``columns`` of results/result.csv that it has (None: all) as a DataFrame of strings;
    treat it as read-only. Raises ReviewtuiError when it is missing (run reviewtui predict first)
    or lacks the needed columns. Read by pyarrow's multithreaded reader, without the columns nobody
    asked for (a million predicted reviews in about a second), and kept until the file changes, so
    the app's version filter does not read it again."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is None or not path.is_file():
        raise ReviewtuiError(f"no predictions yet ({path} is missing): run reviewtui predict first")
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, tuple(columns) if columns else None)
    if key not in _LAST_READ:
        frame = _read_results(path, columns)
        _LAST_READ.clear()
        _LAST_READ[key] = frame
    return _LAST_READ[key]


def _read_results(path: Path, columns: Sequence[str] | None):
    import csv

    import pandas as pd

    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in ("predicted_category", "sentiment", "score") if c not in header]
    if missing:
        raise ReviewtuiError(f"{path} has no {', '.join(missing)} column: run reviewtui predict again")
    wanted = [c for c in header if columns is None or c in columns]
    if len(set(header)) == len(header):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(
                path, read_options=pacsv.ReadOptions(block_size=1 << 24),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(include_columns=wanted,
                                                     column_types={c: pa.string() for c in wanted},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
            return table.to_pandas()
        except (pa.ArrowException, ValueError):
            pass  # pandas reads what pyarrow cannot (a ragged row), as before
    return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=wanted)


def summarize(df, *, app_version: str | None = None, weight_by_thumbs: bool = False,
              categories: list[str] | None = None, version_depth: int | None = 2) -> Summary:
    """The :class:`Summary` of prediction rows ``df`` (columns predicted_category, sentiment, score,
    reviewCreatedVersion, thumbsUpCount). ``app_version`` keeps only that version (``4.5`` matches
    4.5, 4.5.0, 4.5.1...). Raises ReviewtuiError when no row is left."""
    import pandas as pd

    if df is None or len(df) == 0:
        raise ReviewtuiError("no predictions to summarise: run reviewtui predict on a workspace with reviews")
    d = pd.DataFrame({
        "category": df["predicted_category"].astype(str),
        "sentiment": df["sentiment"].astype(str).str.strip().str.lower(),
        "score": pd.to_numeric(df["score"], errors="coerce"),
        "version_full": (df["reviewCreatedVersion"] if "reviewCreatedVersion" in df.columns
                         else pd.Series([""] * len(df), index=df.index)).astype(str).str.strip(),
        "thumbs": pd.to_numeric(df["thumbsUpCount"], errors="coerce").fillna(0).clip(lower=0)
        if "thumbsUpCount" in df.columns else 0.0,
    })
    # each distinct version string is grouped once, not each of a million rows
    d["version"] = d["version_full"].map({v: version_group(v, version_depth) for v in d["version_full"].unique()})
    versions_all = sorted({v for v in d["version"].unique() if v != UNKNOWN}, key=version_key)
    latest_all = versions_all[-1] if versions_all else None
    if app_version:
        wanted = str(app_version).strip()
        keep = d["version_full"].map({v: matches_version(v, wanted) for v in d["version_full"].unique()})
        if not keep.any():
            known = ", ".join(versions_all[-12:]) or "none"
            raise ReviewtuiError(f"no reviews of app version {wanted!r}; the versions are: {known}")
        d = d[keep]
    d["w"] = (1.0 + d["thumbs"]) if weight_by_thumbs else 1.0
    cats = list(categories) if categories else []
    cats += sorted(c for c in d["category"].unique() if c not in cats)

    def counts(col: str, index: list) -> Any:
        s = d.groupby(col)["w"].sum().reindex(index, fill_value=0.0)
        return s if weight_by_thumbs else s.astype(int)

    total = float(d["w"].sum())
    cat_counts = counts("category", cats)
    sent_counts = counts("sentiment", SENTIMENTS)
    score_counts = d[d["score"].between(1, 5)].groupby(d["score"].astype("Int64"))["w"].sum()
    score_counts = score_counts.reindex(range(1, 6), fill_value=0.0)
    score_counts.index = list(range(1, 6))
    if not weight_by_thumbs:
        score_counts = score_counts.astype(int)
    cross = d.pivot_table(index="category", columns="sentiment", values="w", aggfunc="sum", fill_value=0.0)
    cross = cross.reindex(index=cats, columns=SENTIMENTS, fill_value=0.0)
    if not weight_by_thumbs:
        cross = cross.astype(int)
    cross.index.name, cross.columns.name = "category", None
    with_sent = cross.sum(axis=1)
    neg_share = (cross["negative"] / with_sent.where(with_sent > 0)).rename("negative_share")

    def wmean(g) -> float:
        g = g[g["score"].notna()]
        return float((g["score"] * g["w"]).sum() / g["w"].sum()) if len(g) and g["w"].sum() else float("nan")

    mean_score = pd.Series({c: wmean(d[d["category"] == c]) for c in cats}, name="mean_score", dtype=float)

    versions = sorted(d["version"].unique(), key=version_key)
    vc = d.pivot_table(index="version", columns="category", values="w", aggfunc="sum", fill_value=0.0)
    vc = vc.reindex(index=versions, columns=cats, fill_value=0.0)
    if not weight_by_thumbs:
        vc = vc.astype(int)
    vc.index.name, vc.columns.name = "version", None
    vneg = d[d["sentiment"] == "negative"].pivot_table(index="version", columns="category", values="w",
                                                       aggfunc="sum", fill_value=0.0)
    vsent = d[d["sentiment"].isin(SENTIMENTS)].pivot_table(index="version", columns="category", values="w",
                                                           aggfunc="sum", fill_value=0.0)
    vneg = vneg.reindex(index=versions, columns=cats, fill_value=0.0)
    vsent = vsent.reindex(index=versions, columns=cats, fill_value=0.0)
    vneg_share = vneg / vsent.where(vsent > 0)
    vneg_share.index.name, vneg_share.columns.name = "version", None
    rows = {}
    for v in versions:
        g = d[d["version"] == v]
        gw = float(g["w"].sum())
        gs = g[g["sentiment"].isin(SENTIMENTS)]
        row = {"reviews": gw if weight_by_thumbs else int(len(g)), "mean_score": wmean(g),
               "negative_share": float(gs.loc[gs["sentiment"] == "negative", "w"].sum() / gs["w"].sum())
               if len(gs) else float("nan")}
        for c in cats:
            row[f"share_{c}"] = float(g.loc[g["category"] == c, "w"].sum() / gw) if gw else float("nan")
        rows[v] = row
    by_version = pd.DataFrame.from_dict(rows, orient="index")
    by_version.index.name = "version"

    latest = versions[-1] if versions and versions[-1] != UNKNOWN else None
    latest_info: dict[str, Any] = {}
    if latest is not None:
        cur, rest = d[d["version"] == latest], d[d["version"] != latest]

        def share_neg(g) -> float:
            g = g[g["sentiment"].isin(SENTIMENTS)]
            return float(g.loc[g["sentiment"] == "negative", "w"].sum() / g["w"].sum()) if len(g) else float("nan")

        def cat_share(g) -> dict[str, float]:
            gw = float(g["w"].sum())
            return {c: float(g.loc[g["category"] == c, "w"].sum() / gw) if gw else float("nan") for c in cats}

        latest_info = {"version": latest, "reviews": int(len(cur)), "negative_share": share_neg(cur),
                       "negative_share_others": share_neg(rest), "mean_score": wmean(cur),
                       "mean_score_others": wmean(rest), "category_share": cat_share(cur),
                       "category_share_others": cat_share(rest)}
    return Summary(total if weight_by_thumbs else int(len(d)), int(len(d)), weight_by_thumbs,
                   app_version, latest_all if not app_version else latest,
                   str(df["model"].iloc[0]) if "model" in df.columns and len(df) else None,
                   cat_counts, (cat_counts / total) if total else cat_counts * 0.0, sent_counts, score_counts,
                   cross, neg_share, mean_score, by_version, vc, vneg_share, latest_info)
