"""Agreement between authors on the assets that two or more of them labeled.

Each author's latest label on an asset counts (an undone label does not). On those assets:

* Cohen's kappa for each pair of authors (scikit-learn's ``cohen_kappa_score``), and as the
  headline figure when exactly two authors labeled;
* Fleiss' kappa over every asset with two or more labels (the common generalisation to a
  varying number of labels per asset: P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)); with the
  same number everywhere it is Fleiss 1971's kappa);
* Krippendorff's alpha, nominal (the ``krippendorff`` package; missing labels allowed);
* per category: specific agreement (of the pairs of labels on an asset that involve the
  category, the share where both say it) and Fleiss' per-category kappa;
* the disagreements: assets whose authors' latest labels differ, to send to review; one is
  settled (:func:`settled_ids`) when someone confirmed the asset's label after every label on it.

Fleiss' kappa is computed here (a few lines of numpy) instead of pulling in statsmodels for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from reviewtui.store import CATEGORY_NOTES

#: Label sources that are people (an import or a model is not an author to agree with).
PEOPLE = ("human", "kili")


@dataclass(frozen=True)
class PairAgreement:
    a: str
    b: str
    assets: int
    observed: float  # share of shared assets with the same label
    kappa: float | None


@dataclass(frozen=True)
class CategoryAgreement:
    category: str
    ratings: int             # labels of this category on the compared assets
    specific: float | None   # specific agreement
    kappa: float | None      # Fleiss' per-category kappa


@dataclass(frozen=True)
class Disagreement:
    external_id: str
    labels: dict[str, str]   # author -> latest label
    text: str = ""
    settled: bool = False    # someone confirmed a label after every label on it (see settled_ids)


@dataclass
class AgreementReport:
    """Agreement on the ``assets`` labeled by two or more of ``authors``. A kappa or alpha is None
    when it is undefined (no asset to compare, or one category only)."""

    assets: int
    authors: list[str]
    ratings: int
    observed: float | None = None          # share of assets on which every author agrees
    cohen_kappa: float | None = None       # exactly two authors
    fleiss_kappa: float | None = None
    krippendorff_alpha: float | None = None
    pairs: list[PairAgreement] = field(default_factory=list)
    per_category: list[CategoryAgreement] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def disagreement_ids(self) -> list[str]:
        return [d.external_id for d in self.disagreements]

    def to_dict(self) -> dict[str, Any]:
        return {"assets": self.assets, "authors": self.authors, "ratings": self.ratings, "observed": self.observed,
                "cohen_kappa": self.cohen_kappa, "fleiss_kappa": self.fleiss_kappa,
                "krippendorff_alpha": self.krippendorff_alpha, "pairs": [p.__dict__ for p in self.pairs],
                "per_category": [c.__dict__ for c in self.per_category],
                "disagreements": [d.__dict__ for d in self.disagreements]}


# --- from the history ------------------------------------------------------------------------
def author_labels(events: Iterable[Any], *, sources: Sequence[str] = PEOPLE,
                  former: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """external id -> {author: latest label} from label history rows (LabelEvent), in history
    order; labels that were undone, events of other sources, and the moves of a category rename or
    merge (nobody's judgement) do not count. ``former`` maps a category's former keys to its key
    now (``Taxonomy.former``), so a label given before a rename agrees with one given after it."""
    events = list(events)
    former = former or {}
    undone = {e.undoes for e in events if e.kind == "undo" and e.undoes is not None}
    out: dict[str, dict[str, str]] = {}
    for e in events:
        if e.kind != "label" or e.id in undone or e.source not in sources or e.category is None \
                or (e.note or "").startswith(CATEGORY_NOTES):
            continue
        out.setdefault(e.external_id, {})[e.author] = former.get(e.category, e.category)
    return out


# --- the coefficients ------------------------------------------------------------------------
def _undefined(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two authors' labels on the same assets (None when undefined: no asset,
    or both used one and the same category throughout)."""
    from sklearn.metrics import cohen_kappa_score

    if len(a) == 0 or len(set(a) | set(b)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return _undefined(cohen_kappa_score(list(a), list(b)))


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of an (assets, categories) table of label counts; every asset needs two or
    more labels (their number may vary). None when undefined (chance agreement is 1)."""
    n_ij = np.asarray(counts, dtype=np.float64)
    if n_ij.ndim != 2 or len(n_ij) == 0:
        return None
    n_i = n_ij.sum(axis=1)
    if np.any(n_i < 2):
        raise ValueError("every asset needs two or more labels for Fleiss' kappa")
    p_i = ((n_ij * (n_ij - 1)).sum(axis=1)) / (n_i * (n_i - 1))
    p_j = n_ij.sum(axis=0) / n_i.sum()
    p_bar, p_e = p_i.mean(), float((p_j ** 2).sum())
    return None if p_e >= 1.0 else float((p_bar - p_e) / (1.0 - p_e))


def category_agreement(counts: np.ndarray, categories: Sequence[str]) -> list[CategoryAgreement]:
    """Per category of an (assets, categories) count table: specific agreement
    sum_i n_ij (n_ij - 1) / sum_i n_ij (n_i - 1), and Fleiss' per-category kappa
    1 - sum_i n_ij (n_i - n_ij) / (sum_i n_i (n_i - 1) p_j (1 - p_j))."""
    n_ij = np.asarray(counts, dtype=np.float64)
    n_i = n_ij.sum(axis=1)
    total = n_i.sum()
    out = []
    for j, cat in enumerate(categories):
        col = n_ij[:, j] if len(n_ij) else np.zeros(0)
        ratings = int(col.sum())
        pairs = float((col * (n_i - 1)).sum())
        specific = float((col * (col - 1)).sum() / pairs) if pairs > 0 else None
        p = ratings / total if total else 0.0
        denom = float((n_i * (n_i - 1)).sum()) * p * (1 - p)
        kappa = 1.0 - float((col * (n_i - col)).sum()) / denom if denom > 0 else None
        out.append(CategoryAgreement(str(cat), ratings, specific, kappa))
    return out


def krippendorff_alpha(reliability: Sequence[Sequence[Any]]) -> float | None:
    """Krippendorff's alpha (nominal) of a (authors, assets) table of category names, None where
    an author did not label an asset. None when undefined (fewer than two pairable labels or a
    single category)."""
    import krippendorff

    rows = [list(r) for r in reliability]
    values = sorted({v for r in rows for v in r if v is not None})
    if len(values) < 2:
        return None
    code = {v: float(i) for i, v in enumerate(values)}
    data = np.array([[code[v] if v is not None else np.nan for v in r] for r in rows], dtype=float)
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
    if pairable == 0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return _undefined(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal",
                                             value_domain=list(code.values())))


# --- the report ------------------------------------------------------------------------------
def agreement_report(table: Mapping[str, Mapping[str, str]], categories: Sequence[str] | None = None, *,
                     texts: Mapping[str, str] | None = None) -> AgreementReport:
    """Agreement over the assets of ``table`` (external id -> {author: label}) that two or more
    authors labeled. ``categories`` orders the per-category rows (default: the labels seen)."""
    shared = {ext: dict(labels) for ext, labels in table.items() if len(labels) >= 2}
    authors = sorted({a for labels in shared.values() for a in labels})
    seen = sorted({v for labels in shared.values() for v in labels.values()})
    cats = list(categories or []) + [c for c in seen if c not in (categories or [])]
    ids = list(shared)
    report = AgreementReport(len(ids), authors, sum(len(v) for v in shared.values()))
    if not ids:
        report.per_category = category_agreement(np.zeros((0, len(cats))), cats)
        return report
    counts = np.zeros((len(ids), len(cats)), dtype=np.int64)
    for i, ext in enumerate(ids):
        for v in shared[ext].values():
            counts[i, cats.index(v)] += 1
    report.observed = float(np.mean([len(set(shared[e].values())) == 1 for e in ids]))
    report.fleiss_kappa = fleiss_kappa(counts)
    report.krippendorff_alpha = krippendorff_alpha([[shared[e].get(a) for e in ids] for a in authors])
    report.per_category = category_agreement(counts, cats)
    for a, b in combinations(authors, 2):
        both = [e for e in ids if a in shared[e] and b in shared[e]]
        if not both:
            continue
        la, lb = [shared[e][a] for e in both], [shared[e][b] for e in both]
        report.pairs.append(PairAgreement(a, b, len(both), float(np.mean([x == y for x, y in zip(la, lb)])),
                                          cohen_kappa(la, lb)))
    if len(authors) == 2 and report.pairs:
        report.cohen_kappa = report.pairs[0].kappa
    report.disagreements = [Disagreement(e, dict(sorted(shared[e].items())), (texts or {}).get(e, ""))
                            for e in ids if len(set(shared[e].values())) > 1]
    return report


def settled_ids(events: Iterable[Any]) -> set[str]:
    """External ids whose latest event that is not undone (confirm, label or undo aside) is a
    confirmation: someone checked the asset's label after every label on it, and kept it."""
    events = list(events)
    undone = {e.undoes for e in events if e.kind == "undo" and e.undoes is not None}
    last: dict[str, str] = {}
    for e in events:
        if e.id not in undone and e.kind in ("label", "confirm"):
            last[e.external_id] = e.kind
    return {ext for ext, kind in last.items() if kind == "confirm"}


def store_agreement(store, categories: Sequence[str] | None = None, *,
                    sources: Sequence[str] = PEOPLE, former: Mapping[str, str] | None = None) -> AgreementReport:
    """:func:`agreement_report` of the store's label history (people's labels only, by default;
    ``former`` as :func:`author_labels`)."""
    table = author_labels(store.label_history(), sources=sources, former=former)
    texts = {ext: store.get(ext).text for ext, labels in table.items() if len(labels) >= 2
             and len(set(labels.values())) > 1}
    return agreement_report(table, categories, texts=texts)
