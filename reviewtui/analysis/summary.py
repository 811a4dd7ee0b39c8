"""The numbers of the final analysis, as data: distributions, cross tables, trends per app version,
comparisons between apps, and the findings they support.

``summarize(frame)`` takes the rows of ``results/result.csv`` (a pandas DataFrame) and returns a
:class:`Summary` of pandas Series/DataFrames and plain numbers. With ``weight_by_thumbs`` every
review counts ``1 + thumbsUpCount`` times (a review nobody up-voted still counts once). App
versions are grouped to ``version_depth`` parts (``4.5.2`` -> ``4.5`` at depth 2; None keeps them
whole) and ordered as versions (4.10 after 4.9), each app's among its own; reviews without a
version are "unknown" and never the latest. Reviews without an app are grouped as "(no app)", which
the comparisons between apps leave out.

Findings (:class:`Finding`) are drawn from review counts (never weights): each states its n, each
share comes with a Wilson interval at ``confidence``, a group smaller than ``min_group_size``
reviews carries none, and a difference is stated only when the two intervals do not overlap.
``stars`` keeps the reviews of one star score or a range of them (:func:`parse_stars`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from reviewtui.app_version import is_version, one_spelling_per_app, version_key
from reviewtui.errors import ReviewtuiError
from reviewtui.findings import Share, clearly_higher, large_enough, share, z_value

SENTIMENTS = ["negative", "neutral", "positive"]
UNKNOWN = "unknown"
#: What the reviews without an app are grouped under (not an app: the comparisons of apps leave it out).
NO_APP = "(no app)"


def version_group(v: Any, depth: int | None = 2) -> str:
    """``v`` cut to ``depth`` dot-separated parts; blank -> "unknown"."""
    s = str(v if v is not None else "").strip()
    if not s or s.lower() in ("nan", "none"):
        return UNKNOWN
    return ".".join(s.split(".")[:depth]) if depth else s


def matches_version(v: str, wanted: str) -> bool:
    """True when full version ``v`` is ``wanted`` or starts with ``wanted + "."``."""
    return v == wanted or v.startswith(wanted + ".")


@dataclass(frozen=True)
class Finding:
    """One statement the numbers support, as data (the report words it).

    ``kind``: largest_category, most_negative_category, negative_majority, lowest_stars,
    latest_version, most_negative_app or app_category (one app's share of a category, ``subject``,
    against the other apps' together). ``subject`` is the category, version or app it is about,
    ``n`` the reviews of that group, ``share`` the share it states (with its interval) and
    ``against`` the share of the group it is compared with. ``direction`` is "more" or "less"
    when two shares differ beyond doubt, "" when they do not. ``app`` names the app of a version."""

    kind: str
    subject: str
    n: int
    share: Share | None = None
    against: Share | None = None
    direction: str = ""
    mean: float | None = None
    mean_against: float | None = None
    app: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def sh(x: Share | None) -> dict[str, Any] | None:
            return None if x is None else {"k": x.k, "n": x.n, "value": _num(x.value), "low": _num(x.low),
                                           "high": _num(x.high), "confidence": x.confidence}

        detail = {k: sh(v) if isinstance(v, Share) else v for k, v in self.detail.items()}
        return {"kind": self.kind, "subject": self.subject, "n": self.n, "share": sh(self.share),
                "against": sh(self.against), "direction": self.direction, "mean": _num(self.mean),
                "mean_against": _num(self.mean_against), "app": self.app, "detail": detail}


#: The report's tables of sentiment alone, and the columns of the negative share in the others: left
#: out when no review has a sentiment (predictions made with ``--sentiment none``).
SENTIMENT_TABLES = ("sentiment_distribution", "category_sentiment", "version_negative_share")
NEGATIVE_COLUMNS = ("negative_share", "negative_low", "negative_high")
#: Said where the sentiment is left out.
NO_SENTIMENT = ("No sentiment was predicted: run `reviewtui predict --sentiment auto` (or vader, stars, team) "
                "to get it.")


@dataclass
class Summary:
    """Everything the report shows, as numbers. Counts are review counts, or summed weights when
    ``weighted``. Index orders: categories in taxonomy/model order, sentiments negative-neutral-
    positive, scores 1-5, versions as versions (each app's in turn when there are several apps:
    then the version tables are keyed ``"<app> <version>"``). ``negative_low``/``negative_high``
    are Wilson intervals of the unweighted negative share (missing when ``weighted``)."""

    total: float
    reviews: int
    weighted: bool
    app_version: str | None
    latest_version: str | None  # the latest version of the one app in the selection; None for several apps
    model: str | None
    categories: Any            # Series: category -> count
    category_share: Any        # Series: category -> share of reviews
    sentiments: Any            # Series: sentiment -> count
    scores: Any                # Series: 1..5 -> count
    category_sentiment: Any    # DataFrame: category x sentiment counts
    negative_share: Any        # Series: category -> negative share within the category
    mean_score: Any            # Series: category -> mean star score
    by_version: Any            # DataFrame: version -> reviews, mean_score, negative_share (+ interval), category shares
    version_category: Any      # DataFrame: version x category counts
    version_negative_share: Any  # DataFrame: version x category negative share
    latest: dict[str, Any]     # the latest version against the earlier ones (one app in the selection)
    app: str | None = None     # the app filter
    apps: list[str] = field(default_factory=list)   # the apps in the selection, by name
    by_app: Any = None         # DataFrame: app -> reviews, mean_score, negative_share (+ interval), latest version
    by_app_version: Any = None  # DataFrame: (label) -> app, version, reviews, mean_score, negative_share (+ interval)
    latest_by_app: dict[str, dict[str, Any]] = field(default_factory=dict)  # app -> as ``latest``
    findings: list[Finding] = field(default_factory=list)
    min_group_size: int = 30
    confidence: float = 0.95
    stale: Any = None          # analysis.results.Staleness of the predictions (the workspace sets it)
    sentiment_source: str | None = None  # what read the sentiment (vader, stars, team...; the workspace sets it)
    category_score: Any = None  # DataFrame: category x star score (1..5) counts
    stars: tuple[int, int] | None = None  # the star filter (lowest, highest)
    # weighted: app -> (its reviews without a thumbs-up count, its reviews), for the apps with some
    no_thumbs: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def several_apps(self) -> bool:
        return len(self.apps) > 1

    @property
    def named_apps(self) -> list[str]:
        """The apps, without the reviews that have none (:data:`NO_APP`)."""
        return [a for a in self.apps if a != NO_APP]

    @property
    def has_sentiment(self) -> bool:
        """Whether some review has a sentiment: predictions made with ``--sentiment none`` have none,
        and every sentiment count, negative share and chart of them is left out (not shown as 0)."""
        return bool(float(self.sentiments.sum()) > 0)

    @property
    def has_scores(self) -> bool:
        """Whether some review has a star score (1 to 5)."""
        return bool(float(self.scores.sum()) > 0)

    @property
    def category_by_app(self):
        """DataFrame: category x app, the share of each app's reviews in each category (columns in
        ``apps`` order, then "all": the share among every app's reviews). Empty with one app."""
        import pandas as pd

        if not self.several_apps or self.by_app is None:
            return pd.DataFrame()
        cats = list(self.categories.index)
        out = pd.DataFrame({str(a): [float(self.by_app.at[a, f"share_{c}"]) for c in cats] for a in self.apps},
                           index=cats)
        out["all"] = [float(self.category_share[c]) for c in cats]
        out.index.name, out.columns.name = "category", None
        return out

    @property
    def category_score_share(self):
        """DataFrame: category x star score, the share of each star score's reviews in each category
        (the scores that have reviews, as columns 1..5). Empty without star scores."""
        import pandas as pd

        if self.category_score is None or not self.has_scores:
            return pd.DataFrame()
        per_score = self.category_score.sum(axis=0)
        kept = [k for k in self.category_score.columns if per_score[k] > 0]
        out = self.category_score[kept].astype(float) / per_score[kept]
        out.index.name, out.columns.name = "category", None
        return out

    @property
    def has_versions(self) -> bool:
        """Whether some review has an app version (else the per-version table is one row, unknown;
        with several apps its rows are "<app> unknown", so the versions are read from the app x
        version table)."""
        versions = self.by_app_version["version"] if "version" in self.by_app_version else self.by_version.index
        return any(str(v) != UNKNOWN for v in versions)

    def tables(self) -> dict[str, Any]:
        """name -> DataFrame, the tables the report writes as CSV (by app only with several apps)."""
        import pandas as pd

        def named(df, name: str):
            df = df.copy()
            df.index.name = name
            return df

        version_name = "app_version" if self.several_apps else "version"
        out = {
            "category_distribution": named(pd.DataFrame({"reviews": self.categories, "share": self.category_share}),
                                           "category"),
            "sentiment_distribution": named(self.sentiments.rename("reviews").to_frame(), "sentiment"),
            "score_distribution": named(self.scores.rename("reviews").to_frame(), "stars"),
            "category_sentiment": named(self.category_sentiment, "category"),
            "negative_share_by_category": named(pd.DataFrame({"negative_share": self.negative_share,
                                                              "mean_score": self.mean_score}), "category"),
        }
        if self.has_scores:
            shares = self.category_score_share
            out["category_stars"] = named(shares.rename(columns=lambda k: f"{k} star{'' if k == 1 else 's'}"),
                                          "category")
        if self.several_apps:
            out["by_app"] = named(self.by_app, "app")
            out["category_by_app"] = named(self.category_by_app, "category")
        if not self.has_versions:  # reviews of products or places: every row would be "unknown"
            return self._weights_named(self._sentiment_kept(out))
        if self.several_apps:
            # app and version in columns of their own (a spreadsheet sorts and filters by each)
            out["by_app_version"] = self.by_app_version.set_index("app")
        else:
            out["by_version"] = named(self.by_version, "version")
        if self.several_apps:  # app and version in columns of their own, as by_app_version
            where = self.by_app_version[["app", "version"]]
            for name in ("version_category", "version_negative_share"):
                frame = getattr(self, name)
                out[name] = pd.concat([where.reindex(frame.index), frame], axis=1).set_index("app")
        else:
            out["version_category"] = named(self.version_category, version_name)
            out["version_negative_share"] = named(self.version_negative_share, version_name)
        return self._weights_named(self._sentiment_kept(out))

    def _sentiment_kept(self, tables: dict[str, Any]) -> dict[str, Any]:
        """``tables`` without the sentiment tables and negative-share columns when no review has a
        sentiment (:attr:`has_sentiment`): they would be all zeros and blanks."""
        if self.has_sentiment:
            return tables
        out = {k: df for k, df in tables.items() if k not in SENTIMENT_TABLES}
        return {k: df.drop(columns=[c for c in df.columns if str(c) in NEGATIVE_COLUMNS]) for k, df in out.items()}

    def _weights_named(self, tables: dict[str, Any]) -> dict[str, Any]:
        """``tables`` with their count columns headed "weight" when each review counts as 1 + its
        thumbs-up (``weight_by_thumbs``): "reviews" would read as a number of reviews."""
        if not self.weighted:
            return tables
        return {k: df.rename(columns={"reviews": "weight"}) for k, df in tables.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dicts and lists (for --json and the app)."""
        def series(s) -> dict[str, Any]:
            return {str(k): _num(v) for k, v in s.items()}

        def frame(df) -> dict[str, dict[str, Any]]:
            if df is None:
                return {}
            return {str(i): {str(c): _num(v) for c, v in row.items()} for i, row in df.iterrows()}

        def plain(d: dict[str, Any]) -> dict[str, Any]:
            return {k: _num(v) if not isinstance(v, dict) else {a: _num(b) for a, b in v.items()} for k, v in d.items()}

        return {"total": _num(self.total), "reviews": self.reviews, "weighted": self.weighted,
                "app": self.app, "apps": list(self.apps),
                "app_version": self.app_version, "latest_version": self.latest_version, "model": self.model,
                "categories": series(self.categories), "category_share": series(self.category_share),
                "has_sentiment": self.has_sentiment,
                "sentiments": series(self.sentiments) if self.has_sentiment else {}, "scores": series(self.scores),
                "category_sentiment": frame(self.category_sentiment) if self.has_sentiment else {},
                "negative_share": series(self.negative_share), "mean_score": series(self.mean_score),
                "by_version": frame(self.by_version), "version_category": frame(self.version_category),
                "version_negative_share": frame(self.version_negative_share),
                "by_app": frame(self.by_app), "by_app_version": frame(self.by_app_version),
                "latest": plain(self.latest),
                "latest_by_app": {a: plain(v) for a, v in self.latest_by_app.items()},
                "category_by_app": frame(self.category_by_app) if self.several_apps else {},
                "category_score": frame(self.category_score),
                "category_score_share": frame(self.category_score_share),
                "stars": list(self.stars) if self.stars else None,
                "no_thumbs": {a: {"missing": m, "reviews": n} for a, (m, n) in self.no_thumbs.items()},
                "findings": [f.to_dict() for f in self.findings],
                "min_group_size": self.min_group_size, "confidence": self.confidence,
                "stale": self.stale.to_dict() if self.stale is not None else None}


def _num(v: Any) -> Any:
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float):
        return None if v != v else round(v, 6)
    return v


#: The columns of results/result.csv that :func:`summarize` reads (the review texts are not among them).
SUMMARY_COLUMNS = ("predicted_category", "sentiment", "score", "app", "reviewCreatedVersion", "thumbsUpCount", "model")


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


def _pick_app(apps: list[str], wanted: str) -> str:
    text = str(wanted).strip()
    exact = [a for a in apps if a == text] or [a for a in apps if a.casefold() == text.casefold()]
    if exact:
        return exact[0]
    from reviewtui.app_version import nearest_apps

    raise ReviewtuiError(f"no reviews of app {text!r}; the apps are: {nearest_apps(text, apps, 12)}")


def parse_stars(value: Any) -> tuple[int, int] | None:
    """A star filter as (lowest, highest): "4" -> (4, 4), "1-2" -> (1, 2); a pair is checked and
    returned; None or "" -> None. Raises ReviewtuiError for anything else (scores run 1 to 5)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (tuple, list)):
        parts = [str(v) for v in value]
    else:
        parts = [p.strip() for p in str(value).strip().replace("–", "-").split("-")]
    try:
        low, high = (int(parts[0]), int(parts[-1])) if len(parts) in (1, 2) else (0, 0)
    except ValueError:
        low, high = 0, 0
    if not 1 <= low <= high <= 5:
        raise ReviewtuiError(f"--stars takes a star score or a range of them from 1 to 5 (1, 1-2, 4-5), not {value!r}")
    return low, high


def stars_text(stars: tuple[int, int]) -> str:
    """``1 star``, ``4 stars``, ``1–2 stars``."""
    low, high = stars
    return f"{low}–{high} stars" if low != high else f"{low} star{'' if low == 1 else 's'}"


def summarize(df, *, app: str | None = None, app_version: str | None = None, weight_by_thumbs: bool = False,
              categories: list[str] | None = None, version_depth: int | None = 2, min_group_size: int = 30,
              confidence: float = 0.95, stars: Any = None) -> Summary:
    """The :class:`Summary` of prediction rows ``df`` (columns predicted_category, sentiment, score,
    app, reviewCreatedVersion, thumbsUpCount; app and version may be missing). ``app`` keeps only
    that app (any case); ``app_version`` keeps only that version (``4.5`` matches 4.5, 4.5.0,
    4.5.1...); ``stars`` only the reviews of those star scores ("1", "1-2" or a pair: see
    :func:`parse_stars`). Findings need groups of ``min_group_size`` reviews and show intervals at
    ``confidence``. Raises ReviewtuiError for a bad star filter and when no row is left."""
    import pandas as pd

    stars = parse_stars(stars)
    if df is None or len(df) == 0:
        raise ReviewtuiError("no predictions to summarise: run reviewtui predict on a workspace with reviews")

    def column(name: str):
        return (df[name] if name in df.columns else pd.Series([""] * len(df), index=df.index)).astype(str).str.strip()

    d = pd.DataFrame({
        "category": df["predicted_category"].astype(str),
        "sentiment": df["sentiment"].astype(str).str.strip().str.lower(),
        "score": pd.to_numeric(df["score"], errors="coerce"),
        "app": column("app").replace("", NO_APP),
        "version_full": column("reviewCreatedVersion"),
        "thumbs": pd.to_numeric(df["thumbsUpCount"], errors="coerce").clip(lower=0)
        if "thumbsUpCount" in df.columns else float("nan"),
    })
    d["thumbs_known"] = d["thumbs"].notna()
    d["thumbs"] = d["thumbs"].fillna(0.0)
    # each distinct version string is grouped once, not each of a million rows
    d["version"] = d["version_full"].map({v: version_group(v, version_depth) for v in d["version_full"].unique()})
    # names that differ only in case are one app, as the queue's app= filter and each import since
    # take them (an import before that kept a hand-typed "quickbite ios" beside "QuickBite iOS")
    spelled = one_spelling_per_app(d["app"].value_counts().to_dict())
    if spelled:
        d["app"] = d["app"].replace(spelled)
    apps_all = sorted(d["app"].unique())
    if app:
        chosen = _pick_app(apps_all, app)
        d = d[d["app"] == chosen]
        app = chosen
    versions_scope = sorted({v for v in d["version"].unique() if v != UNKNOWN}, key=version_key)
    latest_scope = _latest_by_app(d)
    if app_version:
        wanted = str(app_version).strip()
        keep = d["version_full"].map({v: matches_version(v, wanted) for v in d["version_full"].unique()})
        if not keep.any():
            where = f" of {app}" if app else ""
            by_app = {a: sorted({v for v in g.unique() if v != UNKNOWN}, key=version_key)
                      for a, g in d.groupby("app")["version"]} if not app and d["app"].nunique() > 1 else {}
            if by_app:  # each app's latest versions, not the highest numbers of whichever app has them
                known = "; ".join(f"{a}: {', '.join(vs[-4:]) or 'none'}" for a, vs in by_app.items())
                raise ReviewtuiError(f"no reviews of app version {wanted!r}; the latest versions by app are "
                                     f"{known} (--app narrows to one)")
            known = ", ".join(versions_scope[-12:]) or "none"
            raise ReviewtuiError(f"no reviews of app version {wanted!r}{where}; the versions are: {known}")
        d = d[keep].copy()
    if stars:  # each app's latest version stays the one of all its reviews
        scored = d["score"].notna().any()
        d = d[d["score"].between(*stars)]
        if not len(d):
            raise ReviewtuiError(f"no reviews with {stars_text(stars)}"
                                 + (" in this selection" if scored else ": the predictions have no star scores"))
    apps = sorted(d["app"].unique())
    several = len(apps) > 1
    d["w"] = (1.0 + d["thumbs"]) if weight_by_thumbs else 1.0
    d["group"] = (d["app"] + " " + d["version"]) if several else d["version"]
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
    scored = d[d["score"].between(1, 5)]
    cat_score = scored.assign(stars=scored["score"].round().astype(int)).pivot_table(
        index="category", columns="stars", values="w", aggfunc="sum", fill_value=0.0)
    cat_score = cat_score.reindex(index=cats, columns=list(range(1, 6)), fill_value=0.0)
    if not weight_by_thumbs:
        cat_score = cat_score.astype(int)
    cat_score.index.name, cat_score.columns.name = "category", None
    with_sent = cross.sum(axis=1)
    neg_share = (cross["negative"] / with_sent.where(with_sent > 0)).rename("negative_share")
    mean_score = pd.Series({c: _wmean(d[d["category"] == c]) for c in cats}, name="mean_score", dtype=float)

    # versions: as versions, each app's in turn
    pairs = d[["app", "version", "group"]].drop_duplicates()
    pairs = pairs.assign(_k=pairs["version"].map(version_key)).sort_values(["app", "_k"], kind="stable")
    groups = list(pairs["group"])
    stats = _group_stats(d, "group", groups, cats, weight_by_thumbs, confidence)
    stats.index.name = "app_version" if several else "version"
    by_version = stats
    by_app_version = pd.concat([pairs.set_index("group")[["app", "version"]], stats.drop(
        columns=[c for c in stats.columns if c.startswith("share_")])], axis=1)
    by_app_version.index.name = "app_version" if several else "version"
    vc = d.pivot_table(index="group", columns="category", values="w", aggfunc="sum", fill_value=0.0)
    vc = vc.reindex(index=groups, columns=cats, fill_value=0.0)
    if not weight_by_thumbs:
        vc = vc.astype(int)
    vc.index.name, vc.columns.name = "version", None
    vneg = d[d["sentiment"] == "negative"].pivot_table(index="group", columns="category", values="w",
                                                       aggfunc="sum", fill_value=0.0)
    vsent = d[d["sentiment"].isin(SENTIMENTS)].pivot_table(index="group", columns="category", values="w",
                                                           aggfunc="sum", fill_value=0.0)
    vneg = vneg.reindex(index=groups, columns=cats, fill_value=0.0)
    vsent = vsent.reindex(index=groups, columns=cats, fill_value=0.0)
    vneg_share = vneg / vsent.where(vsent > 0)
    vneg_share.index.name, vneg_share.columns.name = "version", None

    by_app = _group_stats(d, "app", apps, cats, weight_by_thumbs, confidence)
    by_app.insert(list(by_app.columns).index("negative_high") + 1, "latest_version",
                  [latest_scope.get(a) or "-" for a in apps])
    by_app.index.name = "app"
    # the reviews without an app are no app's: their highest version is no latest version (unless
    # they are all there is)
    latest_by_app = {a: info for a in apps if a != NO_APP or not several
                     if (info := _latest_info(d[d["app"] == a], latest_scope.get(a), cats, confidence))}
    latest_info = latest_by_app.get(apps[0], {}) if len(apps) == 1 else {}
    latest_version = None if several else (latest_scope.get(apps[0]) if apps else None)
    summary = Summary(total if weight_by_thumbs else int(len(d)), int(len(d)), weight_by_thumbs,
                      app_version, latest_version,
                      str(df["model"].iloc[0]) if "model" in df.columns and len(df) else None,
                      cat_counts, (cat_counts / total) if total else cat_counts * 0.0, sent_counts, score_counts,
                      cross, neg_share, mean_score, by_version, vc, vneg_share, latest_info, app=app, apps=apps,
                      by_app=by_app, by_app_version=by_app_version, latest_by_app=latest_by_app,
                      min_group_size=int(min_group_size), confidence=float(confidence),
                      category_score=cat_score, stars=stars)
    if weight_by_thumbs:  # counted as 1: an app whose file had no thumbs-up column weighs less than it may
        missing, of = d.loc[~d["thumbs_known"], "app"].value_counts(), d["app"].value_counts()
        summary.no_thumbs = {str(a): (int(n), int(of[a])) for a, n in missing.items()}
    summary.findings = draw_findings(d, summary, cats)
    return summary


def _wmean(g) -> float:
    """The mean stars of ``g`` (weighted), of the scores 1-5 the star counts read."""
    g = g[g["score"].between(1, 5)]
    return float((g["score"] * g["w"]).sum() / g["w"].sum()) if len(g) and g["w"].sum() else float("nan")


def _negative(g, confidence: float) -> Share:
    """The unweighted negative share of ``g`` among its reviews with a sentiment."""
    with_sent = g["sentiment"].isin(SENTIMENTS)
    return share(int((g["sentiment"] == "negative").sum()), int(with_sent.sum()), confidence)


def _group_stats(d, key: str, order: list, cats: list[str], weighted: bool, confidence: float):
    """Per value of ``d[key]`` (in ``order``): reviews, mean stars, negative share and its interval,
    share of each category."""
    import pandas as pd

    rows = {}
    for value, g in d.groupby(key, sort=False):
        gw = float(g["w"].sum())
        gs = g[g["sentiment"].isin(SENTIMENTS)]
        neg = _negative(g, confidence)
        row: dict[str, Any] = {
            "reviews": gw if weighted else int(len(g)), "mean_score": _wmean(g),
            "negative_share": float(gs.loc[gs["sentiment"] == "negative", "w"].sum() / gs["w"].sum())
            if len(gs) else float("nan"),
            "negative_low": float("nan") if weighted or not neg.n else neg.low,
            "negative_high": float("nan") if weighted or not neg.n else neg.high}
        counts = g.groupby("category")["w"].sum()
        for c in cats:
            row[f"share_{c}"] = float(counts.get(c, 0.0) / gw) if gw else float("nan")
        rows[value] = row
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(order)
    out.index.name = key
    return out


def _mean_interval(scores, confidence: float) -> tuple[float, int, float, float]:
    """(mean, n, low, high) of star ``scores``: the normal interval of the mean at ``confidence``."""
    n = int(len(scores))
    mean = float(scores.mean())
    sd = float(scores.std(ddof=1)) if n > 1 else 0.0
    half = z_value(confidence) * sd / n ** 0.5 if n else 0.0
    return mean, n, mean - half, mean + half


def _latest_by_app(d) -> dict[str, str]:
    out = {}
    for a, g in d.groupby("app", sort=True):
        versions = [v for v in g["version"].unique() if v != UNKNOWN and is_version(v)]
        if versions:
            out[a] = max(versions, key=version_key)
    return out


def _latest_info(g, latest: str | None, cats: list[str], confidence: float) -> dict[str, Any]:
    """The latest version of one app (rows ``g``) against its earlier versions (unknown ones, and
    values that are no version, "Varies with device", left out)."""
    if latest is None or latest not in set(g["version"]):
        return {}
    cur = g[g["version"] == latest]
    versions = g["version"].map({v: v != UNKNOWN and is_version(v) for v in g["version"].unique()})
    rest = g[(g["version"] != latest) & versions.astype(bool)]

    def share_neg(x) -> float:
        x = x[x["sentiment"].isin(SENTIMENTS)]
        return float(x.loc[x["sentiment"] == "negative", "w"].sum() / x["w"].sum()) if len(x) else float("nan")

    def cat_share(x) -> dict[str, float]:
        xw = float(x["w"].sum())
        return {c: float(x.loc[x["category"] == c, "w"].sum() / xw) if xw else float("nan") for c in cats}

    neg, neg_rest = _negative(cur, confidence), _negative(rest, confidence)
    return {"version": latest, "reviews": int(len(cur)), "earlier_reviews": int(len(rest)),
            "negative_share": share_neg(cur), "negative_share_others": share_neg(rest),
            "negative_low": neg.low if neg.n else float("nan"), "negative_high": neg.high if neg.n else float("nan"),
            "others_low": neg_rest.low if neg_rest.n else float("nan"),
            "others_high": neg_rest.high if neg_rest.n else float("nan"),
            "mean_score": _wmean(cur), "mean_score_others": _wmean(rest),
            "category_share": cat_share(cur), "category_share_others": cat_share(rest)}


def draw_findings(d, s: Summary, cats: list[str]) -> list[Finding]:
    """The findings the rows ``d`` of summary ``s`` support (see the module's rules)."""
    out: list[Finding] = []
    m, z = s.min_group_size, s.confidence
    n_all = int(len(d))
    if large_enough(n_all, m):
        sizes = d["category"].value_counts()
        ranked = sorted(cats, key=lambda c: (-int(sizes.get(c, 0)), cats.index(c)))
        top = ranked[0]
        # "the largest" only when its share is beyond doubt above the next one's
        if sizes.get(top, 0) and (len(ranked) < 2 or clearly_higher(
                share(int(sizes[top]), n_all, z), share(int(sizes.get(ranked[1], 0)), n_all, z))):
            out.append(Finding("largest_category", top, n_all, share(int(sizes[top]), n_all, z)))
    by_cat = {c: _negative(d[d["category"] == c], z) for c in cats}
    big = {c: sh for c, sh in by_cat.items() if large_enough(sh.n, m)}
    if big:
        worst = max(big, key=lambda c: (big[c].value, -cats.index(c)))
        said = None
        # "the most negative" of one large-enough category says nothing; of several, only when its
        # share is beyond doubt above each other one's
        if big[worst].k and len(big) > 1 and all(clearly_higher(big[worst], sh) for c, sh in big.items()
                                                  if c != worst):
            out.append(Finding("most_negative_category", worst, big[worst].n, big[worst]))
            said = worst  # its share is stated there: a majority of it is not stated twice
        for c, sh in big.items():
            if sh.low > 0.5 and c != said:
                out.append(Finding("negative_majority", c, sh.n, sh))
    scored = d[d["score"].between(1, 5)]
    stars = {c: _mean_interval(g["score"], z) for c, g in scored.groupby("category") if large_enough(len(g), m)}
    if len(stars) > 1:
        low = min(stars, key=lambda c: (stars[c][0], cats.index(c) if c in cats else 0))
        # the lowest only when its interval lies wholly below each other category's
        if all(stars[low][3] < other[2] for c, other in stars.items() if c != low):
            out.append(Finding("lowest_stars", low, stars[low][1], mean=stars[low][0],
                               mean_against=float(scored["score"].mean()),
                               detail={"mean_low": stars[low][2], "mean_high": stars[low][3], "confidence": z}))
    for a, info in s.latest_by_app.items():
        g = d[d["app"] == a]
        cur, rest = g[g["version"] == info["version"]], g[(g["version"] != info["version"]) & (g["version"] != UNKNOWN)]
        neg, neg_rest = _negative(cur, z), _negative(rest, z)
        if not (large_enough(neg.n, m) and large_enough(neg_rest.n, m)):
            continue
        direction = "more" if clearly_higher(neg, neg_rest) else "less" if clearly_higher(neg_rest, neg) else ""
        detail: dict[str, Any] = {"earlier_n": int(len(rest))}
        rises = []
        for c in cats:
            now = share(int((cur["category"] == c).sum()), int(len(cur)), z)
            before = share(int((rest["category"] == c).sum()), int(len(rest)), z)
            if clearly_higher(now, before):
                rises.append((now.value - before.value, c, now, before))
        if rises:
            _, c, now, before = max(rises)
            detail.update({"rising": c, "rising_share": now, "rising_from": before})
        out.append(Finding("latest_version", info["version"], int(len(cur)), neg, neg_rest, direction,
                           app=a if a != NO_APP or s.several_apps else None, detail=detail))
    if s.several_apps:
        named = s.named_apps
        shares = {a: _negative(d[d["app"] == a], z) for a in named}
        big_apps = {a: sh for a, sh in shares.items() if large_enough(sh.n, m)}
        if len(big_apps) > 1:
            worst = max(big_apps, key=lambda a: big_apps[a].value)
            others = d[(d["app"] != worst) & d["app"].isin(list(big_apps))]
            against = _negative(others, z)
            # "the most negative of the apps" needs the worst above each other app, the next too
            if clearly_higher(big_apps[worst], against) and \
                    all(clearly_higher(big_apps[worst], sh) for a, sh in big_apps.items() if a != worst):
                out.append(Finding("most_negative_app", worst, int((d["app"] == worst).sum()), big_apps[worst],
                                   against, "more", detail={"apps": len(big_apps), "others_n": int(len(others))}))
        out += _app_category_findings(d[d["app"] != NO_APP], named, cats, m, z) if len(named) > 1 else []
    return out


#: An app's share of a category "stands apart" only when it is at least this many times the other
#: apps' share together (or at most its inverse), besides its interval clearing every other app's:
#: on tens of thousands of reviews nearly every difference is beyond doubt, and a finding for each
#: would bury the few that matter.
APART_RATIO = 2.0


def _app_category_findings(d, apps: list[str], cats: list[str], m: int, z: float) -> list[Finding]:
    """Per category at most one app whose share of it stands apart from every other app's: its
    interval wholly above (or below) each of theirs, and its share at least ``APART_RATIO`` times
    (at most 1 / ``APART_RATIO`` of) the others' together. Apps of fewer than ``m`` reviews take no
    part. An app above the others is preferred to one below them (with two apps the same fact);
    the findings come strongest first."""
    import math

    sizes = d["app"].value_counts()
    big = [a for a in apps if large_enough(int(sizes.get(a, 0)), m)]
    if len(big) < 2:
        return []
    d = d[d["app"].isin(big)]
    counts = d.groupby(["app", "category"]).size()
    n_all = int(len(d))
    found = []
    for c in cats:
        k_all = int(sum(int(counts.get((a, c), 0)) for a in big))
        mine = {a: share(int(counts.get((a, c), 0)), int(sizes[a]), z) for a in big}
        best = None
        for a in big:
            others = [mine[b] for b in big if b != a]
            against = share(k_all - mine[a].k, n_all - mine[a].n, z)
            if all(clearly_higher(mine[a], o) for o in others) and mine[a].value >= APART_RATIO * against.value:
                direction = "more"
            elif all(clearly_higher(o, mine[a]) for o in others) and mine[a].value * APART_RATIO <= against.value:
                direction = "less"
            else:
                continue
            ratio = (mine[a].value + 1e-9) / (against.value + 1e-9)
            rank = (direction == "more", abs(math.log(ratio)))
            if best is None or rank > best[0]:
                best = (rank, Finding("app_category", c, mine[a].n, mine[a], against, direction, app=a,
                                      detail={"apps": len(big), "others_n": against.n}))
        if best:
            found.append(best)
    return [f for _, f in sorted(found, key=lambda x: x[0][1], reverse=True)]
