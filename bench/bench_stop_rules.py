"""Stop rules beyond the kappa threshold, read off the same replayed loops on three corpora.

The stop signal (reviewtui.loop.stopping) says stop once the kappa between consecutive quick models
on the stop set stays at 0.96 for 3 rounds. On dataset-11 that stops near where the mean curve
reaches 95 % of its final macro-F1; on the fintech set (8 categories) about 2x later, on the demo
corpus about 3x later (docs/BENCHMARKS.md, "Labeling loop" and "Two taxonomies"). This benchmark
asks whether another label-free rule, computed from the models' predictions and probabilities on
the stop set, serves all three at once. It replays the default loop (zero-shot first batch + prior,
margin, batches of 10) with 20 seeds on dataset-11 (4 categories), fintech (231 reviews labeled in 8
categories, bench/fixtures) and the demo corpus (3,000 generated reviews), records every round's
stop-set predictions and probabilities and the held-out macro-F1, and evaluates, per rule, the mean
labels at the stop against the labels where the mean curve reaches 95 % of its final macro-F1, and
the lowest F1 at a stop as a share of the final (the goal: within +-25 %, never below 90 %).

Rule families:

* kappa between consecutive models >= k for n rounds (the default's family);
* kappa settled: at least a floor over a window of rounds, and within a range (as small-text's
  KappaAverage looks at how much kappa still changes);
* kappa over three rounds (the model against the one three rounds before), and between the means of
  the last three models' probabilities and of the three before (churn averaged out);
* the expected accuracy (mean top probability on the stop set) no longer changing over 3 rounds;
* the mean total-variation distance between consecutive models' probabilities;
* drift against churn: the disagreement over three rounds at most c times the one over one round
  (predictions that flip back and forth do not add up over rounds; predictions that improve do).

Label-aware families read the labels the user gives each round, which the loop knows: the replay's
quick-model fit and batch selection are wrapped to record, per round, the batch just labeled, the
probabilities the loop showed for it when it chose it and the predictions of the quick models of
the rounds before (the replay itself is unchanged):

* prequential accuracy (the share of the last 3 batches the model shown predicted right before they
  were labeled: its level, as Zhu et al. 2008's minimum-error criterion, or its plateau), and its
  ratio to the model's own expected accuracy on them (calibration);
* the label among the model's two most likely;
* old against new: the previous model's accuracy on the last 3 batches against a model 3 rounds older;
* the 5-fold cross-validated accuracy of the quick model on the labels so far: its plateau, or a
  learning curve a - b n^-c fitted to it (or to the batches' accuracy), stopping at 95-98 % of the
  fitted asymptote or when the fit predicts little rise over the next 50 labels;
* the kappa rule AND one of these;
* for comparison only, a plateau of the held-out macro-F1 itself per seed (labels no loop has).

Usage: python bench/bench_stop_rules.py [--seeds 20] [--cache DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import FINTECH_TAXONOMY, ROOT, fintech_labeled, log, write_section  # noqa: E402

START, END = "<!-- stoprules:start -->", "<!-- stoprules:end -->"
RESULTS = ROOT / "bench" / "results" / "stop_rules.json"
LABEL_AWARE = ("prequential accuracy", "prequential plateau", "calibration", "top-2 of the batch", "old against new",
               "labeled-set CV", "learning curve", "kappa and labels")
REFERENCE = "reference: held-out labels"  # a family no loop can follow, shown for comparison
BACK = 6  # the label-aware rules compare the models of up to this many rounds before on each new batch


# --- recording ----------------------------------------------------------------------------------
def record(corpora: list[dict], cache, seeds: int) -> dict:
    """Replay the default loop on each corpus; per round: labels, held-out macro-F1, the quick
    model's stop-set predictions and probabilities (captured where the stop signal observes them),
    and what the loop learns from the labels themselves: the batch just labeled (its labels, the
    probabilities the loop showed for it when it chose it, those of the previous quick model
    alone) and the 5-fold cross-validated accuracy and macro-F1 of the quick model on every label
    so far. The batch is captured by wrapping the quick model's fit and the batch selection the
    replay calls (reviewtui.active.fit_quick, select_batch): the replay itself is unchanged."""
    import reviewtui.active as active_module
    from reviewtui.loop import replay as replay_module
    from reviewtui.loop.zeroshot import ZeroShotModel
    from reviewtui.settings import ActiveLearningSettings

    s = ActiveLearningSettings()
    captured: list[dict] = []
    last: dict = {}
    fit_quick, select_batch = active_module.fit_quick, active_module.select_batch

    def fitting(X, y, C=None):
        model = fit_quick(X, y, C)
        last["fit"] = (np.asarray(X), [str(v) for v in y], model)
        return model

    def selecting(strategy, proba, size, **kw):
        pick = select_batch(strategy, proba, size, **kw)
        emb = kw.get("embeddings")
        last["pick"] = (None if proba is None else np.asarray(proba)[pick], None if emb is None else emb[pick])
        return pick

    class Recording(replay_module.StopSignal):
        """One per seed (the replay makes a new stop signal for each): the round's model is the
        last one fitted, the batch the rows it was fitted on beyond the previous round's."""

        def observe(self, predictions, proba, **kw):
            X, y, model = last["fit"]
            prev = getattr(self, "_prev", None)
            row = {"pred": [str(p) for p in predictions], "proba": np.asarray(proba, dtype=np.float32),
                   "batch_y": None, "batch_shown": None, "batch_quick": None,
                   "batch_right_shown": None, "batch_right_quick": None, "batch_back": None, "batch_truth": None}
            if prev is not None:
                X_prev, prev_model = prev
                assert np.array_equal(X[:len(X_prev)], X_prev), "the labeled set grows by appending"
                new_X, row["batch_y"] = X[len(X_prev):], y[len(X_prev):]
                if prev_model is not None and len(new_X):
                    row["batch_quick"] = active_module.proba_for(prev_model, new_X, keys).astype(np.float32)
                # the quick models of 1..BACK rounds before on the new batch (-1: no model yet)
                row["batch_back"] = np.array([
                    active_module.proba_for(m, new_X, keys).argmax(1) if m is not None and len(new_X)
                    else np.full(len(new_X), -1) for m in reversed(self._models[-BACK:])], dtype=int)
                shown, emb = last.pop("pick", (None, None))
                if shown is not None and emb is not None and len(new_X):
                    # the rows picked, in order, less those whose label is not trained on
                    keep, j = [], 0
                    for i, e in enumerate(emb):
                        if j < len(new_X) and np.array_equal(e, new_X[j]):
                            keep.append(i)
                            j += 1
                    assert j == len(new_X), "every new training row was in the batch picked"
                    row["batch_shown"] = np.asarray(shown[keep], dtype=np.float32)
            if row["batch_y"] is not None:
                truth = row["batch_truth"] = np.array([keys.index(v) for v in row["batch_y"]], dtype=int)
                for which in ("shown", "quick"):
                    pb = row[f"batch_{which}"]
                    row[f"batch_right_{which}"] = None if pb is None else pb.argmax(1) == truth
            row["cv_acc"], row["cv_f1"] = labeled_cv(X, y, keys, s.C, fit_quick)
            self._prev = (X, model)
            self._models = getattr(self, "_models", []) + [model]
            captured.append(row)
            return super().observe(predictions, proba, **kw)

    original = replay_module.StopSignal
    replay_module.StopSignal, active_module.fit_quick, active_module.select_batch = Recording, fitting, selecting
    out = {}
    try:
        for c in corpora:
            captured.clear()
            keys = list(c["tax"].training_keys)
            t0 = time.perf_counter()
            zs = ZeroShotModel.fit(c["tax"], cache.embed, c["X"])
            res = replay_module.replay(c["X"], c["labels"], c["tax"].training_keys, first="zeroshot", zero_shot=zs,
                                       strategy="margin", batch=10, rounds=c["rounds"], seeds=seeds,
                                       prior_labels=s.prior_labels, validate=False, stop_sample=s.stop_sample,
                                       C=s.C, calibrate=True)
            assert len(captured) == len(res.points)
            out[c["name"]] = [{"seed": p.seed, "round": p.round, "labels": p.labels, "f1": p.macro_f1,
                               "pool": res.pool_size, "test": res.test_size, **row}
                              for p, row in zip(res.points, captured)]
            log(f"{c['name']}: {len(res.points)} rounds replayed in {time.perf_counter() - t0:.0f}s")
    finally:
        replay_module.StopSignal = original
        active_module.fit_quick, active_module.select_batch = fit_quick, select_batch
    return out


def labeled_cv(X: np.ndarray, y: list[str], keys: list[str], C: float, fit_quick, *, seed: int = 0,
               folds: int = 5) -> tuple[float | None, float | None]:
    """Stratified ``folds``-fold (fewer when a category has fewer labels) accuracy and macro-F1 of
    the quick model on the labels so far; None with fewer than 10 labels or one category."""
    import warnings

    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    y_arr = np.asarray(y, dtype=object)
    present, counts = np.unique(y_arr, return_counts=True)
    if len(y_arr) < 10 or len(present) < 2:
        return None, None
    k = int(max(2, min(folds, counts.max(), len(y_arr) // 2)))
    pred = np.empty(len(y_arr), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a category with fewer labels than folds
        for train, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y_arr):
            model = fit_quick(X[train], list(y_arr[train]), C)
            pred[test] = y_arr[train][0] if model is None else model.predict(X[test])
    labels = [c for c in keys if c in set(present)]
    f1 = f1_score(list(y_arr), list(pred), labels=labels, average=None, zero_division=0)
    return float(np.mean(pred == y_arr)), float(np.mean(f1))


# --- the series each rule reads -----------------------------------------------------------------------
def kappa(a, b) -> float:
    from reviewtui.loop.stopping import cohen_kappa

    return cohen_kappa(a, b)


def series(rows: list[dict]) -> None:
    """Add to each round of one seed: k1/k3 (kappa against 1 and 3 rounds before), kavg3 (kappa
    between the argmax of the last three models' mean probabilities and of the three before),
    acc (mean top probability), tv (mean total-variation distance to the previous round)."""
    for i, r in enumerate(rows):
        r["k1"] = kappa(rows[i - 1]["pred"], r["pred"]) if i >= 1 else None
        r["k3"] = kappa(rows[i - 3]["pred"], r["pred"]) if i >= 3 else None
        r["acc"] = float(r["proba"].max(1).mean())
        r["tv"] = float(np.abs(r["proba"] - rows[i - 1]["proba"]).sum(1).mean() / 2) if i >= 1 else None
        if i >= 5:
            now = np.mean([rows[j]["proba"] for j in (i, i - 1, i - 2)], 0).argmax(1)
            before = np.mean([rows[j]["proba"] for j in (i - 3, i - 4, i - 5)], 0).argmax(1)
            r["kavg3"] = kappa(before, now)
        else:
            r["kavg3"] = None
    labeled_series(rows)


def pooled(rows: list[dict], i: int, w: int, value) -> float | None:
    """The mean of ``value(row)`` (an array over the row's new batch) over the batches of rounds
    i-w+1..i, pooled; None where one of them has none."""
    if i < w:
        return None
    parts = [value(rows[j]) for j in range(i - w + 1, i + 1)]
    if any(v is None for v in parts):
        return None
    items = np.concatenate([np.asarray(v, dtype=np.float64) for v in parts])
    return float(items.mean()) if len(items) else None


def power_law(ns: list[float], ys: list[float]) -> tuple[float, float] | tuple[None, None]:
    """A learning curve a - b * n^-c fitted to (labels, value) points: the fitted value at the last
    point as a share of the asymptote a (1.0 for a flat or falling curve), and the rise it predicts
    over the next 50 labels; None, None on fewer than 5 points or no fit."""
    import warnings

    from scipy.optimize import curve_fit

    if len(ns) < 5:
        return None, None
    n, y = np.asarray(ns, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(lambda x, a, b, c: a - b * x ** -c, n, y, p0=(y.max(), 1.0, 0.5),
                                     bounds=([0.0, 0.0, 0.05], [1.0, 50.0, 3.0]), maxfev=2000)
    except (RuntimeError, ValueError):
        return None, None
    if a <= 0:
        return None, None
    return float((a - b * n[-1] ** -c) / a), float(b * (n[-1] ** -c - (n[-1] + 50) ** -c))


def labeled_series(rows: list[dict]) -> None:
    """The label-aware series of one seed (each round's batch: the labels the user just gave):
    pacc/pexp (over the last 3 batches, pooled: the share the model shown predicted right before
    they were labeled, and its own expected accuracy on them, the mean top probability), top2 (the
    share whose label was among its two most likely), gain (the previous quick model's accuracy on
    the last 3 batches less that of the quick model 3 rounds older: neither saw them), pacc_up
    (pacc less the one over the 3 batches before), cv_acc (5-fold on the labels so far), cv_up
    (cv_acc less its best over the 3 rounds before), lc_cv / lc_pacc (a learning curve fitted to
    cv_acc by labels / to each round's batch accuracy: where the last point is against the fitted
    asymptote; lc_cv_rise / lc_pacc_rise: the rise the curve predicts over the next 50 labels)."""
    def right(r):
        return r["batch_right_shown"]

    def expected(r):
        return None if r["batch_shown"] is None else r["batch_shown"].max(1)

    def top2(r):
        p = r["batch_shown"]
        return None if p is None else (np.argsort(-p, 1)[:, :2] == r["batch_truth"][:, None]).any(1)

    def back(k):
        def hits(r):
            b = r["batch_back"]
            return None if b is None or len(b) < k or (b[k - 1] < 0).any() else b[k - 1] == r["batch_truth"]
        return hits

    for r in rows:  # rounds recorded without the labels' series read as unknown
        for key in ("batch_right_shown", "batch_shown", "batch_truth", "batch_back", "cv_acc"):
            r.setdefault(key, None)
    for i, r in enumerate(rows):
        r["pacc"], r["pexp"], r["top2"] = pooled(rows, i, 3, right), pooled(rows, i, 3, expected), pooled(rows, i, 3, top2)
        before = pooled(rows, i - 3, 3, right) if i >= 6 else None
        r["pacc_up"] = None if r["pacc"] is None or before is None else r["pacc"] - before
        new, old = pooled(rows, i, 3, back(1)), pooled(rows, i, 3, back(4))
        r["gain"] = None if new is None or old is None else new - old
        r["cv_up"] = (r["cv_acc"] - max(rows[j]["cv_acc"] for j in range(i - 3, i))
                      if i >= 4 and None not in [rows[j]["cv_acc"] for j in range(i - 3, i + 1)] else None)
        cv = [(q["labels"], q["cv_acc"]) for q in rows[:i + 1] if q["cv_acc"] is not None]
        r["lc_cv"], r["lc_cv_rise"] = power_law([n for n, _ in cv], [v for _, v in cv])
        pa = [(q["labels"], float(np.mean(q["batch_right_shown"]))) for q in rows[:i + 1]
              if q["batch_right_shown"] is not None and len(q["batch_right_shown"])]
        r["lc_pacc"], r["lc_pacc_rise"] = power_law([n for n, _ in pa], [v for _, v in pa])


def run_of(rows: list[dict], i: int, key: str, threshold: float) -> int:
    n = 0
    for j in range(i, -1, -1):
        v = rows[j][key]
        if v is None or v < threshold:
            break
        n += 1
    return n


def rules() -> dict[str, tuple[str, object]]:
    """name -> (family, rule(rows, i) -> bool: stop after round i)."""
    out: dict[str, tuple[str, object]] = {}
    for k in (0.90, 0.94, 0.96):
        for n in (2, 3):
            out[f"kappa >= {k:g} for {n} rounds" + (" (default)" if (k, n) == (0.96, 3) else "")] = (
                "kappa", lambda rows, i, k=k, n=n: run_of(rows, i, "k1", k) >= n)
    for floor in (0.80, 0.85, 0.90):
        for w in (3, 4):
            for width in (0.03, 0.05, 0.08):
                def settled(rows, i, floor=floor, w=w, width=width):
                    ks = [rows[j]["k1"] for j in range(i - w + 1, i + 1)] if i >= w else [None]
                    return None not in ks and min(ks) >= floor and max(ks) - min(ks) <= width
                out[f"kappa >= {floor:g} over {w} rounds, within {width:g}"] = ("kappa settled", settled)
    for k in (0.85, 0.90, 0.93, 0.95):
        for n in (1, 2):
            out[f"kappa over 3 rounds >= {k:g} for {n} round{'s' if n > 1 else ''}"] = (
                "kappa over 3 rounds", lambda rows, i, k=k, n=n: run_of(rows, i, "k3", k) >= n)
            out[f"kappa of 3-model means >= {k:g} for {n} round{'s' if n > 1 else ''}"] = (
                "kappa of 3-model means", lambda rows, i, k=k, n=n: run_of(rows, i, "kavg3", k) >= n)
    for eps in (0.005, 0.01, 0.02):
        out[f"expected accuracy moved <= {eps:g} over 3 rounds"] = (
            "expected accuracy", lambda rows, i, eps=eps: i >= 3 and abs(rows[i]["acc"] - rows[i - 3]["acc"]) <= eps)
    for eps in (0.02, 0.03, 0.05):
        for n in (2, 3):
            out[f"mean TV distance <= {eps:g} for {n} rounds"] = (
                "probability change", lambda rows, i, eps=eps, n=n: i >= n and all(
                    rows[j]["tv"] is not None and rows[j]["tv"] <= eps for j in range(i - n + 1, i + 1)))
    for c in (1.3, 1.6, 2.0):
        def drift(rows, i, c=c):
            return i >= 4 and all(rows[j]["k1"] >= 0.8 and 1 - rows[j]["k3"] <= c * (1 - rows[j]["k1"]) + 1e-9
                                  for j in (i, i - 1))
        out[f"disagreement over 3 rounds <= {c:g}x over 1, kappa >= 0.8, 2 rounds"] = ("drift against churn", drift)
    out.update(label_aware_rules())
    return out


def at_least(rows: list[dict], i: int, key: str, v: float) -> bool:
    return rows[i][key] is not None and rows[i][key] >= v


def at_most(rows: list[dict], i: int, key: str, v: float) -> bool:
    return rows[i][key] is not None and rows[i][key] <= v


def label_aware_rules() -> dict[str, tuple[str, object]]:
    """Rules that read the labels the user gives each round (see labeled_series)."""
    out: dict[str, tuple[str, object]] = {}
    for a in (0.5, 0.6, 0.7):
        out[f"prequential accuracy (last 3 batches) >= {a:g}"] = (
            "prequential accuracy", lambda rows, i, a=a: at_least(rows, i, "pacc", a))
    for eps in (0.0, 0.05):
        out[f"prequential accuracy no higher than over the 3 batches before + {eps:g}, 2 rounds"] = (
            "prequential plateau", lambda rows, i, eps=eps: all(at_most(rows, j, "pacc_up", eps) for j in (i, i - 1)))
    for tol in (0.1, 0.2):
        out[f"prequential accuracy within {tol:.0%} of the model's expected, 2 rounds"] = (
            "calibration", lambda rows, i, tol=tol: all(
                rows[j]["pacc"] is not None and rows[j]["pexp"] and abs(rows[j]["pacc"] / rows[j]["pexp"] - 1) <= tol
                for j in (i, i - 1)))
    for a in (0.85, 0.9, 0.95):
        out[f"label among the top 2 (last 3 batches) >= {a:g}"] = (
            "top-2 of the batch", lambda rows, i, a=a: at_least(rows, i, "top2", a))
    for eps in (0.0, 0.05):
        for n in (1, 2):
            out[f"newer model no better than one 3 rounds older on the last 3 batches + {eps:g}, {n} round{'s' * (n > 1)}"] = (
                "old against new", lambda rows, i, eps=eps, n=n: i >= n and all(
                    at_most(rows, j, "gain", eps) for j in range(i - n + 1, i + 1)))
    for eps in (0.0, 0.02):
        out[f"CV accuracy of the labels no higher than its best of 3 rounds before + {eps:g}, 2 rounds"] = (
            "labeled-set CV", lambda rows, i, eps=eps: all(at_most(rows, j, "cv_up", eps) for j in (i, i - 1)))
    for share in (0.95, 0.98):
        out[f"CV accuracy >= {share:.0%} of its fitted asymptote"] = (
            "learning curve", lambda rows, i, share=share: at_least(rows, i, "lc_cv", share))
        out[f"batch accuracy >= {share:.0%} of its fitted asymptote"] = (
            "learning curve", lambda rows, i, share=share: at_least(rows, i, "lc_pacc", share))
    for rise in (0.01, 0.02):
        out[f"CV accuracy's fitted curve rises < {rise:g} over the next 50 labels"] = (
            "learning curve", lambda rows, i, rise=rise: at_most(rows, i, "lc_cv_rise", rise))
        out[f"batch accuracy's fitted curve rises < {rise:g} over the next 50 labels"] = (
            "learning curve", lambda rows, i, rise=rise: at_most(rows, i, "lc_pacc_rise", rise))
    for eps in (0.0, 0.01):
        # not a rule the loop can follow: it reads the held-out split (70, 46 and 569 labels), as an
        # audit sample of random reviews labeled on the side would, at no cost in labels here
        out[f"held-out macro-F1 no higher than its best of 3 rounds before + {eps:g}, 2 rounds"] = (
            REFERENCE, lambda rows, i, eps=eps: i >= 4 and all(
                rows[j]["f1"] <= max(rows[q]["f1"] for q in range(j - 3, j)) + eps for j in (i, i - 1)))
    for k, n in ((0.9, 2), (0.94, 2), (0.96, 3)):
        out[f"kappa >= {k:g} for {n} rounds and top 2 >= 0.9"] = (
            "kappa and labels", lambda rows, i, k=k, n=n: run_of(rows, i, "k1", k) >= n and at_least(rows, i, "top2", 0.9))
        out[f"kappa >= {k:g} for {n} rounds and prequential accuracy no higher than before + 0.05"] = (
            "kappa and labels", lambda rows, i, k=k, n=n: run_of(rows, i, "k1", k) >= n and at_most(rows, i, "pacc_up", 0.05))
        out[f"kappa >= {k:g} for {n} rounds and newer model no better than one 3 rounds older + 0.05"] = (
            "kappa and labels", lambda rows, i, k=k, n=n: run_of(rows, i, "k1", k) >= n and at_most(rows, i, "gain", 0.05))
    return out


def evaluate(recorded: dict) -> dict:
    """Per corpus: the target (labels where the mean curve reaches 95 % of its final macro-F1) and,
    per rule, the mean stop labels, their ratio to the target, the lowest F1 share at a stop and
    the seeds that never stopped (counted at the last round)."""
    table = rules()
    out: dict = {"corpora": {}, "rules": {name: {"family": fam} for name, (fam, _) in table.items()}}
    for name, rows in recorded.items():
        by: dict[int, list[dict]] = defaultdict(list)
        for r in rows:
            by[r["seed"]].append(r)
        for seed_rows in by.values():
            seed_rows.sort(key=lambda r: r["round"])
            series(seed_rows)
        n_rounds = min(len(v) for v in by.values())
        labels = [float(np.mean([v[i]["labels"] for v in by.values()])) for i in range(n_rounds)]
        curve = [float(np.mean([v[i]["f1"] for v in by.values()])) for i in range(n_rounds)]
        final, goal = curve[-1], 0.95 * curve[-1]
        target = labels[-1]
        for i, f1 in enumerate(curve):
            if f1 >= goal:
                target = labels[0] if i == 0 else labels[i - 1] + (goal - curve[i - 1]) / (f1 - curve[i - 1]) * (
                    labels[i] - labels[i - 1])
                break
        at = min(range(n_rounds), key=lambda i: abs(labels[i] - target))  # the round nearest the target
        early = min(3, n_rounds - 1)  # the first round with 3 batches to pool

        def mean_at(key, i):
            vals = [v[i][key] for v in by.values() if v[i].get(key) is not None]
            return float(np.mean(vals)) if vals else None

        out["corpora"][name] = {"seeds": len(by), "rounds": n_rounds, "final_macro_f1": final, "target": target,
                                "pool": rows[0].get("pool"), "test": rows[0].get("test"),
                                "early": {"labels": labels[early], "f1_share": curve[early] / final,
                                          "pacc": mean_at("pacc", early), "top2": mean_at("top2", early),
                                          "cv_acc": mean_at("cv_acc", early)},
                                "at_target": {"labels": labels[at], "pacc": mean_at("pacc", at),
                                              # old against new needs 6 rounds: at the target or its first
                                              "gain": next((mean_at("gain", i) for i in range(at, n_rounds)
                                                            if mean_at("gain", i) is not None), None),
                                              "cv_acc": mean_at("cv_acc", at)}}
        for rule_name, (_, rule) in table.items():
            stops, shares, never = [], [], 0
            for seed_rows in by.values():
                hit = next((r for i, r in enumerate(seed_rows) if rule(seed_rows, i)), None)
                if hit is None:
                    never, hit = never + 1, seed_rows[-1]
                stops.append(hit["labels"])
                shares.append(hit["f1"] / final)
            mean = float(np.mean(stops))
            out["rules"][rule_name][name] = {"mean_labels": mean, "ratio": mean / target,
                                             "min_f1_share": float(min(shares)), "never_stopped": never}
    return out


# --- the section --------------------------------------------------------------------------------
def meets(cells: list[dict]) -> bool:
    return all(0.75 <= c["ratio"] <= 1.25 and c["min_f1_share"] >= 0.9 and not c["never_stopped"] for c in cells)


def rule_table(r: dict, names: list[str], which: list[str]) -> tuple[list[str], list[str]]:
    """The table rows of the rules ``which``, and those that meet the goal (reference rows never do)."""
    lines = ["| family | rule | " + " | ".join(f"{n}: x, min, never" for n in names) + " | meets the goal |",
             "|---|---|" + "---|" * len(names) + "---|"]
    met = []
    for rule_name in which:
        v = r["rules"][rule_name]
        cells = [v[n] for n in names]
        ok = meets(cells)
        met += [rule_name] if ok and v["family"] != REFERENCE else []
        verdict = ("(not a rule: " + ("within" if ok else "not within") + ")") if v["family"] == REFERENCE else (
            "yes" if ok else "no")
        lines.append(f"| {v['family']} | {rule_name} | " + " | ".join(
            f"{c['ratio']:.2f}x, {c['min_f1_share']:.1%}, {c['never_stopped']}" for c in cells) + f" | {verdict} |")
    return lines, met


def summary(r: dict, names: list[str], which: list[str], met: list[str]) -> str:
    ratios = {n: [r["rules"][w][n]["ratio"] for w in which] for n in names}
    spread = ", ".join(f"{n} {min(x):.2f}-{max(x):.2f}x" for n, x in ratios.items())
    order = sum(1 for w in which
                if r["rules"][w][names[0]]["ratio"] < r["rules"][w][names[1]]["ratio"] < r["rules"][w][names[2]]["ratio"])
    return (f"{len(met)} of {len(which)} rules meet the goal on all three corpora"
            + (f" ({'; '.join(met)})" if met else "") + f". Across the rules the stops range: {spread}; "
            f"{order} of the {len(which)} stop {names[0]} earliest against its target and {names[2]} latest.")


def label_aware_reading(r: dict, names: list[str], aware: list[str], reference: list[str]) -> str:
    """What the label-aware rows say, with this run's figures."""
    def within(c):
        return 0.75 <= c["ratio"] <= 1.25 and c["min_f1_share"] >= 0.9 and not c["never_stopped"]

    per = {n: sum(within(r["rules"][w][n]) for w in aware) for n in names}
    window = {n: sum(0.75 <= r["rules"][w][n]["ratio"] <= 1.25 for w in aware) for n in names}
    most = max((sum(within(r["rules"][w][n]) for n in names) for w in aware), default=0)
    c = r["corpora"]
    d11, fin, demo = names

    def pct(v):
        return "?" if v is None else f"{v:.2f}"

    def sizes(key):
        return ", ".join(str(c[n][key]) for n in names) if all(c[n].get(key) for n in names) else "?"

    ref = "; ".join(f"{n} {min(r['rules'][w][n]['ratio'] for w in reference):.2f}-"
                    f"{max(r['rules'][w][n]['ratio'] for w in reference):.2f}x" for n in names) if reference else ""
    return (f"Of the {len(aware)}, the mean stop is within 0.75-1.25x on {', '.join(f'{n} for {k}' for n, k in window.items())}; "
            f"with no stop under 90 % too, on {', '.join(f'{n} for {k}' for n, k in per.items())}; no rule meets the "
            f"goal on more than {most} of the three. The labels say how the model does on the "
            "reviews it chose, and margin sampling chooses those on its own decision boundary: the share the "
            "model shown predicted right stays near one half for as long as such reviews remain (after "
            f"{c[d11]['early']['labels']:.0f} labels {pct(c[d11]['early']['pacc'])} on {d11}, whose curve is then at "
            f"{c[d11]['early']['f1_share']:.0%} of its final macro-F1, and {pct(c[demo]['early']['pacc'])} on the "
            f"{demo}, at {c[demo]['early']['f1_share']:.0%}), and rises when the pool runs out of them (pools of "
            f"{sizes('pool')} reviews), not when the curve flattens. The same choice makes the labeled set harder "
            "round by round, so its cross-validated accuracy stays flat or falls while the held-out F1 rises "
            f"(after {c[demo]['early']['labels']:.0f} labels {pct(c[demo]['early']['cv_acc'])} on the {demo}, "
            f"{pct(c[d11]['early']['cv_acc'])} on {d11}), and a learning curve fitted to it reads it as flat at its "
            "first chance; and on the newer model's boundary an older model does as well or better (old against "
            f"new at the target or its first round: {', '.join(pct(c[n]['at_target']['gain']) for n in names)}). The "
            f"reference rows read the held-out split itself ({sizes('test')} labels) and stop at {ref}: one run's "
            "curve is too noisy at this resolution (rounds of 10) for a plateau read on it to place the mean curve's "
            "95 % point within 25 %, so a smaller random audit sample, which would also cost its own labels, "
            "would not serve either. "
            "The default stays the kappa threshold, chosen never to stop too early.")


def render(r: dict) -> str:
    names = list(r["corpora"])
    free = [w for w, v in r["rules"].items() if v["family"] not in LABEL_AWARE and v["family"] != REFERENCE]
    aware = [w for w, v in r["rules"].items() if v["family"] in LABEL_AWARE]
    reference = [w for w, v in r["rules"].items() if v["family"] == REFERENCE]
    lines = [START, "## Stop rules beyond the kappa threshold (`bench/bench_stop_rules.py`)", "",
             f"Run {r['at']} on {r['machine']}, no GPU; the default loop (zero-shot first batch + prior, margin, "
             f"batches of 10) replayed with {r['seeds']} seeds on each corpus; the stop set as the labeling screen "
             "draws it (1,000 reviews of the pool, all of it when smaller); every rule reads the same runs. "
             "\"x\" is the mean stop against the labels where the mean curve reaches 95 % of its final macro-F1; "
             "\"min\" the lowest F1 at a stop as a share of the final; \"never\" the seeds that never stopped "
             "(counted at their last round). A rule meets the goal where every corpus is within 0.75-1.25x, "
             "never under 90 %, never without a stop.", "",
             "| corpus | rounds | final macro-F1 | 95 % reached at |", "|---|---:|---:|---:|"]
    for name in names:
        c = r["corpora"][name]
        lines.append(f"| {name} | {c['rounds']} | {c['final_macro_f1']:.3f} | {c['target']:.0f} labels |")
    table, met = rule_table(r, names, free)
    lines += ["", "### Label-free rules: the quick model's predictions on the stop set", ""] + table + [
        "", summary(r, names, free, met) + " Every rule of these families reads how much the quick model still "
        "changes on the stop set. On the demo corpus the curve reaches 95 % of its final macro-F1 within four "
        "rounds while the model keeps changing, so a rule early enough there stops dataset-11 too early, and one "
        "that waits for dataset-11 stops the demo corpus two to three times late."]
    table, met_aware = rule_table(r, names, aware + reference)
    lines += ["", "### Label-aware rules: what the labels given each round say", "",
              "The loop knows the labels the user gives each round. Each round's batch is recorded with the "
              "probabilities the loop showed for it when it chose it (the quick model blended with the prior) and "
              "the predictions of the quick models of the rounds before; \"prequential accuracy\" is the share of "
              "the last 3 batches, pooled, that the model shown predicted right before they were labeled (Zhu et "
              "al. 2008's minimum-error criterion reads its level); \"calibration\" compares it with the model's "
              "own expected accuracy on them (the mean top probability); \"top 2\" counts a label among the two "
              "most likely; \"old against new\" is the previous quick model's accuracy on the last 3 batches less "
              "that of the quick model 3 rounds older (neither saw them); \"labeled-set CV\" is the 5-fold "
              "accuracy of the quick model on every label so far; \"learning curve\" fits a - b n^-c to the CV "
              "accuracy, or to each batch's accuracy, by labels (at least 5 points), as cost-based stopping "
              "estimates the curve it stops on. The reference rows read the held-out split itself, per seed: a "
              "plateau rule with labels no loop has (70, 46 and 569 of them, as if an audit sample of random "
              "reviews had been labeled on the side at no cost).", ""] + table
    lines += ["", summary(r, names, aware, met_aware) + " " + label_aware_reading(r, names, aware, reference), END]
    return "\n".join(lines) + "\n"


def corpora(cache, tmp: Path) -> list[dict]:
    from bench.bench_labeling import PRESET, dataset11, demo_corpus, preset

    ds11 = dataset11(cache)
    ds11.update(tax=preset(PRESET), rounds=26)
    _, texts, labels = fintech_labeled()
    fin = {"name": "fintech", "texts": texts, "labels": labels, "X": cache.embed(texts),
           "tax": preset(FINTECH_TAXONOMY), "rounds": 18}
    demo = demo_corpus(cache, 3000, tmp)
    demo.update(name="demo corpus", tax=preset(PRESET), rounds=30)
    return [ds11, fin, demo]


def main(argv=None) -> int:
    from reviewtui.files import atomic_write_text
    from reviewtui.modeling.embeddings import EmbeddingCache

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds of each replayed loop (20)")
    ap.add_argument("--cache", type=Path, help="keep the embedding cache in this folder")
    ap.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-stop-rules-") as tmp_name:
        tmp = Path(tmp_name)
        cache = EmbeddingCache(args.cache or tmp / "cache", "minilm", 128)
        recorded = record(corpora(cache, tmp), cache, args.seeds)
    results = {"at": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "seeds": args.seeds, **evaluate(recorded)}
    text = render(results)
    if args.no_write:
        print(text)
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS, json.dumps(results, indent=1) + "\n")
    write_section(text, START, END)
    log(f"wrote {RESULTS.relative_to(ROOT)} and the section of docs/BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
