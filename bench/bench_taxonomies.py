"""The quality measures on two taxonomies side by side: dataset-11 (Medium reviews, 4 categories)
and play-store-fintech labeled in a fintech team's 8 categories.

The fintech labels are bench/fixtures/categories-play-store-231.csv (231 Google Play reviews of
fintech apps, each read and labeled by hand in the categories of bench/fixtures/fintech-taxonomy.toml:
ACCOUNT_KYC, PAYMENTS, FEES, REWARDS, SUPPORT, APP_BUGS, PRAISE, and OTHER, which is not trained).
The file holds review ids and categories only; the texts are read from ../shared/data at run time.
Each measure calls the code path of the benchmark it comes from:

a. zero-shot accuracy and macro-F1 with 0 labels, from the taxonomy's descriptions and examples,
   against the majority class (bench_labeling.zero_shot_accuracy);
b. the quick model (MiniLM embeddings + logistic regression, [active_learning] C) cross-validated,
   5 stratified folds, one fold split per seed, against TF-IDF + logistic regression on the same
   folds (bench_encoders.tfidf_baseline), and the quick model at a few other C;
c. the loop replayed against the labels (bench_labeling.cold_start): labels to reach 95 % of the
   full-pool macro-F1 with the margin strategy against random selection, and with the zero-shot
   first batch (with and without the prior) against a random first batch; and the prior's weight
   ([active_learning] prior_labels 0, 10, 20, 40);
d. where the default stop rule stops against where the mean curve reaches 95 % of its final
   macro-F1 (bench_labeling.stopping, the default loop), with other thresholds read off the same
   runs; on fintech also with the stop set drawn from 1,000 unlabeled reviews of the same apps;
e. suspects: 10 % of the labels flipped to another training category; the share of the flipped
   rows in the top k (k = the number flipped: precision = recall) and cleanlab's flags
   (bench_quality.bench_noise, default settings).

Usage: python bench/bench_taxonomies.py [--seeds 5] [--loop-seeds 20]
[--parts zeroshot,cv,cold,prior,stop,suspects] [--demo] [--set C=2 ...] [--no-write]
[--render-only]. About 9 minutes on 2 CPU cores. ``--set`` changes an [active_learning] setting for the
run (to measure another default); ``--demo`` adds the demo corpus to the loop parts (c, d).
Results go to --out: by default bench/results/taxonomies.json for the documented run (every part,
the default settings, no demo corpus) and bench/results/taxonomies-variant.json for any other, so
that a variant never replaces the documented results. The section between <!-- taxonomies:start -->
and <!-- taxonomies:end --> of docs/BENCHMARKS.md is rewritten from the documented run only, unless
--no-write. ``--render-only`` rewrites it from the results file --out names (default
bench/results/taxonomies.json), and refuses a variant's results; with --no-write it prints them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (FINTECH_LABELS, FINTECH_TAXONOMY, fintech_labeled, fintech_reviews, log, ROOT,  # noqa: E402
                          write_section)

START, END = "<!-- taxonomies:start -->", "<!-- taxonomies:end -->"
RESULTS = ROOT / "bench" / "results" / "taxonomies.json"
#: where the results of a run that is not the documented one go unless --out names another file
VARIANT_RESULTS = ROOT / "bench" / "results" / "taxonomies-variant.json"
PARTS = ("zeroshot", "cv", "cold", "prior", "stop", "suspects")
OTHER_C = (1.0, 2.0, 5.0, 30.0)
PRIORS = (0.0, 10.0, 20.0, 40.0)  # prior_labels measured in the default loop
STOP_POOL = 1000  # unlabeled fintech reviews drawn for the stop set, as [active_learning] stop_sample
THRESHOLDS = tuple((k, n) for k in (0.90, 0.94, 0.96, 0.97) for n in (2, 3))  # stop rules beside the default


def corpora(cache, demo_size: int = 0, tmp: Path | None = None) -> list[dict]:
    """dataset-11 and fintech (and the demo corpus with ``demo_size``), each with its taxonomy."""
    from bench.bench_labeling import PRESET, dataset11, demo_corpus, preset

    ds11 = dataset11(cache)
    ds11.update(tax=preset(PRESET), rounds=26)
    ids, texts, labels = fintech_labeled()
    fin = {"name": "fintech", "ids": ids, "texts": texts, "labels": labels, "X": cache.embed(texts),
           "meta": [{} for _ in ids], "tax": preset(FINTECH_TAXONOMY), "rounds": 18}
    # the labeling screen's stop set: 1,000 unlabeled reviews of the same apps
    more_ids, more_texts, _, _ = fintech_reviews(STOP_POOL + len(ids), seed=0)
    unlabeled = [t for e, t in zip(more_ids, more_texts) if e not in set(ids)][:STOP_POOL]
    t0 = time.perf_counter()
    fin["stop_pool"] = cache.embed(unlabeled)
    log(f"fintech: {len(unlabeled)} unlabeled reviews for the stop set embedded in {time.perf_counter() - t0:.0f}s")
    out = [ds11, fin]
    if demo_size:  # the demo generator writes reviews in the Medium preset's categories
        demo = demo_corpus(cache, demo_size, tmp)
        demo.update(name="demo corpus", tax=preset(PRESET), rounds=30, loop_only=True)
        out.append(demo)
    return out


def training(corpus) -> tuple[list[int], list[str]]:
    keys = set(corpus["tax"].training_keys)
    idx = [i for i, v in enumerate(corpus["labels"]) if v in keys]
    return idx, [corpus["labels"][i] for i in idx]


def cross_validated(corpus, seeds: int, C: float, folds: int = 5) -> dict:
    """Quick model (at ``C`` and at OTHER_C) and TF-IDF baseline, ``folds``-fold stratified CV,
    one split per seed: per-seed mean accuracy and macro-F1."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from bench.bench_encoders import split_metrics, tfidf_baseline
    from reviewtui.modeling import selection as sel
    from reviewtui.modeling.quick import QuickModel

    idx, y = training(corpus)
    X = corpus["X"][idx]
    labels = sorted(set(y))
    data = sel.Data([corpus["texts"][i] for i in idx], np.array([labels.index(v) for v in y]), labels)
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name: str, mean: dict) -> None:
        r = rows.setdefault(name, {"accuracy": [], "f1_macro": []})
        r["accuracy"].append(mean["accuracy"])
        r["f1_macro"].append(mean["f1_macro"])

    for seed in range(seeds):
        splits = sel.stratified_folds(y, folds, seed)
        for c in (C, *[c for c in OTHER_C if c != C]):
            per = [split_metrics([y[j] for j in te], QuickModel(C=c).fit(X[tr], [y[j] for j in tr]).predict(X[te]))
                   for tr, te in splits]
            name = f"quick model (C={c:g}, the default)" if c == C else f"quick model, C={c:g}"
            add(name, sel.summarize(per)[0])
        per = [split_metrics([y[j] for j in te], QuickModel(C=C, class_weight="balanced").fit(
            X[tr], [y[j] for j in tr]).predict(X[te])) for tr, te in splits]
        add(f"quick model, C={C:g}, balanced class weights", sel.summarize(per)[0])
        with threadpool_limits(limits=1, user_api="blas"):  # 2-3x faster than BLAS threads on 2 busy cores
            base = tfidf_baseline(data, None, None, folds, seed)
        add("TF-IDF + logistic regression (C 1 or 10, chosen by CV)", base["cv"])
    return {"n": len(y), "classes": len(labels), "folds": folds, "seeds": seeds, "rows": rows}


def run(corpus, cache, parts, seeds: int, settings, loop_seeds: int) -> dict:
    from bench.bench_labeling import cold_start, stopping, zero_shot_accuracy
    from bench.bench_quality import bench_noise

    tax = corpus["tax"]
    out: dict = {"name": corpus["name"], "labels": len(corpus["labels"]),
                 "training_labels": len(training(corpus)[0]), "classes": len(tax.training_keys)}
    loop_only = corpus.get("loop_only", False)
    if "zeroshot" in parts and not loop_only:
        t0 = time.perf_counter()
        out["zeroshot"] = zero_shot_accuracy(corpus, cache, tax)
        log(f"{corpus['name']} zero-shot {time.perf_counter() - t0:.0f}s: "
            + json.dumps(next(iter(out["zeroshot"]["variants"].values()))))
    if "cv" in parts and not loop_only:
        t0 = time.perf_counter()
        out["cv"] = cross_validated(corpus, seeds, settings.C)
        log(f"{corpus['name']} cv {time.perf_counter() - t0:.0f}s: "
            + json.dumps({k: round(statistics.mean(v["f1_macro"]), 3) for k, v in out["cv"]["rows"].items()}))
    prior = dict(prior_labels=settings.prior_labels, calibrate=True)
    if "cold" in parts:
        t0 = time.perf_counter()
        configs = {"random first batch, random selection": dict(first="random", strategy="random"),
                   "random first batch, margin": dict(first="random"),
                   "zero-shot first batch, margin": dict(first="zeroshot"),
                   "zero-shot first batch + prior, margin (the default loop)": dict(first="zeroshot", **prior),
                   "zero-shot first batch + prior, random selection": dict(first="zeroshot", strategy="random",
                                                                           **prior)}
        out["cold"] = cold_start(corpus, cache, rounds=corpus["rounds"], seeds=loop_seeds, tax=tax, configs=configs,
                                 C=settings.C)
        log(f"{corpus['name']} cold start {time.perf_counter() - t0:.0f}s")
    if "prior" in parts:
        t0 = time.perf_counter()
        configs = {f"prior {p:g} labels": dict(first="zeroshot", prior_labels=p, calibrate=p > 0) for p in PRIORS}
        out["prior"] = cold_start(corpus, cache, rounds=corpus["rounds"], seeds=loop_seeds, tax=tax, configs=configs,
                                  C=settings.C)
        log(f"{corpus['name']} prior weights {time.perf_counter() - t0:.0f}s")
    if "stop" in parts:
        t0 = time.perf_counter()
        out["stop"] = stopping(corpus, cache, rounds=corpus["rounds"], seeds=loop_seeds, tax=tax, settings=settings,
                               only_default=True, thresholds=THRESHOLDS)
        log(f"{corpus['name']} stopping {time.perf_counter() - t0:.0f}s")
        if corpus.get("stop_pool") is not None:
            t0 = time.perf_counter()
            out["stop_unlabeled"] = stopping(corpus, cache, rounds=corpus["rounds"], seeds=loop_seeds, tax=tax,
                                             settings=settings, only_default=True, thresholds=THRESHOLDS,
                                             stop_pool=corpus["stop_pool"])
            out["stop_unlabeled"]["stop_pool"] = len(corpus["stop_pool"])
            log(f"{corpus['name']} stopping, unlabeled stop set {time.perf_counter() - t0:.0f}s")
    if "suspects" in parts and not loop_only:
        t0 = time.perf_counter()
        idx, y = training(corpus)
        out["suspects"] = bench_noise(cache, seeds, only_default=True, data=([corpus["texts"][i] for i in idx], y),
                                      quick_C=settings.C)
        log(f"{corpus['name']} suspects {time.perf_counter() - t0:.0f}s")
    return out


# --- the report -------------------------------------------------------------------------------
#: The reading of the figures, written from the run of the date in the section (rerun: check them).
NOTES: list[str] = [
    "Each default of the labeling loop was measured on both taxonomies; none that was tuned on the Medium set "
    "turned out to hurt the 8-category one, and none was changed:",
    "",
    "- Zero-shot: 0.557 accuracy on fintech with no label, 3.2 times the majority class (0.172); the default "
    "prototype carries over. On fintech the names alone do as well (0.581: five reviews of 203, within noise), "
    "since names such as \"Fees, charges and interest\" already describe the category; on dataset-11 they do not "
    "(0.457 against 0.676).",
    "- The quick model's C: 10 is the best or tied on both (C 30 ties; C 2 and 5 lose 1-2 points of macro-F1 "
    "on both, C 1 4-6 points). Balanced class weights gain 0.007 macro-F1 on dataset-11 (higher on 4 of the 5 "
    "fold splits) and 0.004 on fintech (higher on 2, lower on 1), within the spread of either: not a reason to "
    "change the default.",
    "- The quick model beats TF-IDF + logistic regression by 0.18 (dataset-11) and 0.20 (fintech) macro-F1.",
    "- Selection: margin reaches 95 % of the full-pool macro-F1 in about two thirds of the labels random "
    "selection needs on both corpora (mean curve 0.66x and 0.63x; per seed 99 against 126 and 95 against 130).",
    "- The zero-shot start: with the prior (the default loop) it does most on the 8-category set, 63 ± 16 labels "
    "to 95 % per seed against 95 ± 23 with a random first batch (F1 at 10 labels 0.55 against 0.20); on "
    "dataset-11 the same comparison is 88 ± 37 against 99 ± 34, within the spread, and the gain is in the first "
    "50 labels. The zero-shot first batch alone, without the prior, ties with a random one at 95 % on both.",
    "- The prior's weight: prior_labels 20, the default, gives the highest mean F1 over the first 100 labels on "
    "both (0.714 and 0.664); 10 and 40 tie with it on dataset-11 and lose 0.02-0.03 on fintech, so a weight "
    "that grows with the number of categories would not help the 8-category set.",
    "- The stop signal is the one measure that does not carry over: on fintech the default stops at 175 labels "
    "of a pool of 190, 2.2 times the point where the curve is at 95 % of its final macro-F1 (81 labels); on "
    "dataset-11 it stops at 1.10x. No kappa threshold of the table meets both: 0.90 for 2 rounds brings fintech "
    "to 1.40x but stops dataset-11 at 0.71x and as low as 85.8 % of its final macro-F1, which the default rule "
    "was raised to 0.96 to avoid. The stop set is not the cause: drawn from 1,000 unlabeled reviews of the same "
    "apps, as in the labeling screen, the models disagree more on them than on the labeled pool and the signal "
    "comes later still (187 labels, 2 of 20 seeds never). When the 231 reviews were labeled in the labeling "
    "screen (rounds of about 25) the kappa between rounds went from 0.69 to 0.93 and the signal never said stop "
    "either. With 7 trained categories and 25-35 labels each, the quick model still changes a few percent of its "
    "predictions per round when its held-out macro-F1 no longer moves. The default stays: late, never early, on "
    "both.",
    "- Suspects: the default ranking finds 62 % of the flipped labels in its top 20 on fintech, 8 points above "
    "the baseline and 4 below the ceiling, as on dataset-11 (67 %, +8, -4); cleanlab's flags catch 76 % of "
    "them, one flagged row in three is a flipped one.",
    "",
    "Not measured here: the first batch's size (the replay asks 10, the labeling screen re-ranks after 10 "
    "labels of a first batch of 50), and the fine-tuned model on the fintech labels.",
]


def ms(values, spec=".3f") -> str:
    """mean ± sd over seeds (sd of the population of seed values)."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{format(statistics.mean(values), spec)} ± {format(statistics.pstdev(values), spec)}"


def f(v, spec=".0f") -> str:
    return "-" if v is None else format(v, spec)


def per_seed_to_95(loop: dict, pool: int) -> list[int]:
    """Each seed's labels to 95 % of the full-pool macro-F1; a seed that never reached it counts as
    the whole pool."""
    return [v if v is not None else pool for v in loop.get("labels_to_95_per_seed", [])]


def f1_at(loop: dict, labels: tuple[str, ...]) -> str:
    """The loop's held-out macro-F1 at each of ``labels`` labels: ``0.598 / 0.643 / 0.690``."""
    return " / ".join(f(loop["f1_at"].get(k), ".3f") for k in labels)


def render(r: dict) -> str:
    res = r["corpora"]
    lines = [START, "## Two taxonomies: dataset-11 and fintech (bench/bench_taxonomies.py)", "",
             f"Run {r['at']} on {r['machine']} (shared with other work), {r['seconds'] / 60:.0f} minutes; MiniLM "
             f"embeddings; {r['seeds']} seeds for the cross-validation and the suspects, {r['loop_seeds']} for the "
             f"replayed loop; the defaults of [active_learning] (C {r['settings']['C']:g}, prior "
             f"{r['settings']['prior_labels']:g} labels, stop at kappa >= {r['settings']['stop_kappa']:g} for "
             f"{r['settings']['stop_rounds']} rounds). dataset-11: 346 Medium reviews in 4 categories "
             "(the medium preset). fintech: 231 Google Play reviews of four fintech apps from "
             "play-store-fintech, each read and labeled in the 8 categories of bench/fixtures/fintech-taxonomy.toml "
             "(bench/fixtures/categories-play-store-231.csv, ids and categories only; "
             + ", ".join(f"{k} {v}" for k, v in r["fintech_distribution"].items())
             + "). OTHER is not trained, so 203 labels in 7 categories train; in the replayed loop an OTHER "
             "review costs a label without training the model, as in the labeling screen.", "",
             "How to read it. A figure is a mean over seeds ± its standard deviation across them. The seed moves "
             "the fold split, the loop's first batch and stop set, and which labels are flipped; the loop's "
             "held-out 20 % is the same for every seed. The fintech set is small: a test fold holds about 40 "
             "labels, 6 of a category, so one review moves a fold's accuracy by 2.5 points and a category's F1 by "
             "up to 15; the loop's held-out set is 41 reviews; the 10 % flipped for the suspects are 20 rows, 5 "
             "points each. Differences within one standard deviation are noise, and so are a few labels on the "
             "labels-to-95 % figures: those are read where the curve flattens, between rounds 10 labels apart, "
             "and the per-seed spread is 15-35 labels.", ""]
    # (a) zero-shot
    zs = [(c["name"], c["zeroshot"]) for c in res if c.get("zeroshot")]
    if zs:
        lines += ["### a. Zero-shot with 0 labels", "",
                  "The default prototype (descriptions and examples, centred on the corpus) against the majority "
                  "class, on the labels of training categories; the names alone for comparison.", "",
                  "| corpus | labels | majority class | zero-shot accuracy | zero-shot macro-F1 | names only: "
                  "accuracy / macro-F1 |", "|---|---:|---|---:|---:|---|"]
        for name, z in zs:
            d = z["variants"]["descriptions and examples, centred on the corpus (the default)"]
            n = z["variants"]["the names only, centred (a taxonomy without descriptions)"]
            lines.append(f"| {name} | {z['n']} | {z['majority_class']} {z['majority_accuracy']:.3f} | "
                         f"**{d['accuracy']:.3f}** | **{d['macro_f1']:.3f}** | {n['accuracy']:.3f} / "
                         f"{n['macro_f1']:.3f} |")
        lines.append("")
    # (b) cross-validation
    cv = [(c["name"], c["cv"]) for c in res if c.get("cv")]
    if cv:
        lines += ["### b. Quick model against TF-IDF, 5-fold stratified cross-validation", "",
                  "One fold split per seed; accuracy and macro-F1 are the mean over the 5 folds, then mean ± sd over "
                  "the seeds.", "",
                  "| corpus | model | accuracy | macro-F1 |", "|---|---|---:|---:|"]
        for name, c in cv:
            for model, v in c["rows"].items():
                bold = "**" if "default" in model else ""
                lines.append(f"| {name} ({c['n']} labels, {c['classes']} categories) | {model} | "
                             f"{bold}{ms(v['accuracy'])}{bold} | {bold}{ms(v['f1_macro'])}{bold} |")
        lines.append("")
    # (c) cold start
    cold = [(c["name"], c["cold"]) for c in res if c.get("cold")]
    if cold:
        lines += ["### c. The loop replayed: labels to reach 95 % of the full-pool macro-F1", "",
                  f"{r['loop_seeds']} seeds; batches of 10 after a first batch of 10; a fixed stratified 20 % held "
                  "out; the full-pool macro-F1 is the quick model trained on the whole pool. \"mean curve\" is where "
                  "the mean curve over the seeds crosses 95 % of it; \"per seed\" is each seed's own crossing (mean ± "
                  "sd; a seed that never reached it within the rounds counts as the whole pool). x = against the "
                  "first row of the corpus. The mean F1 over the first 100 labels sums up the early curve.", "",
                  "| corpus | loop | labels to 95 %: mean curve | x | per seed | labels to 90 % | "
                  "F1 at 10 / 30 / 50 labels | mean F1, first 100 labels |", "|---|---|---:|---:|---|---:|---|---:|"]
        for name, c in cold:
            for loop, e in c["configs"].items():
                per = per_seed_to_95(e, c["pool"])
                never = sum(v is None for v in e.get("labels_to_95_per_seed", []))
                at = f1_at(e, ("10", "30", "50"))
                lines.append(f"| {name} (pool {c['pool']}, test {c['test']}, full-pool {c['full_pool_macro_f1']:.3f}) "
                             f"| {loop} | {f(e['labels_to_95'])} | {f(e['ratio_to_95'], '.2f')} | {ms(per, '.0f')}"
                             f"{f' ({never} never)' if never else ''} | {f(e['labels_to_90'])} | {at} | "
                             f"{f(e.get('mean_f1_to_100'), '.3f')} |")
        lines.append("")
    prior = [(c["name"], c["prior"]) for c in res if c.get("prior")]
    if prior:
        lines += ["### The zero-shot prior's weight", "",
                  "The default loop (zero-shot first batch, margin) with the prior blended in at weight "
                  "prior / (n + prior) after n labels ([active_learning] prior_labels; 0 = no prior), "
                  f"{r['loop_seeds']} seeds; held-out macro-F1 of the model shown.", "",
                  "| corpus | prior_labels | F1 at 10 / 30 / 50 / 100 labels | mean F1, first 100 labels | "
                  "labels to 95 % (per seed) |", "|---|---:|---|---:|---|"]
        for name, c in prior:
            for loop, e in c["configs"].items():
                per = per_seed_to_95(e, c["pool"])
                at = f1_at(e, ("10", "30", "50", "100"))
                default = loop == f"prior {r['settings']['prior_labels']:g} labels"
                lines.append(f"| {name} | {loop.split()[1]}{' (default)' if default else ''} | {at} | "
                             f"{'**' if default else ''}{f(e.get('mean_f1_to_100'), '.3f')}{'**' if default else ''} | "
                             f"{ms(per, '.0f')} |")
        lines.append("")
    # (d) stopping
    stop = [(c["name"], c["stop"]) for c in res if c.get("stop")]
    stop += [(f"{c['name']}, stop set {c['stop_unlabeled']['stop_pool']:,} unlabeled reviews", c["stop_unlabeled"])
             for c in res if c.get("stop_unlabeled")]
    if stop:
        lines += ["### d. Where the stop signal says stop", "",
                  f"The default loop (zero-shot first batch + prior, margin) replayed, {r['loop_seeds']} seeds; the stop "
                  "set is the pool (up to 1,000 reviews), or on fintech also 1,000 unlabeled reviews of the same apps "
                  "(as the labeling screen's; the loop and its curve are the same, only the kappa differs); "
                  "\"target\" is where the mean curve reaches 95 % of its final "
                  "macro-F1 (the last round's: the whole pool on fintech). Other thresholds are read off the same "
                  "runs.", "",
                  "| corpus | final macro-F1 | target labels | rule | mean stop labels (sd) | x target | lowest F1 at a "
                  "stop, share of final | never stopped |", "|---|---:|---:|---|---:|---:|---:|---:|"]
        for name, s in stop:
            loop = next(iter(s["loops"].values()))
            for rule, v in loop["rules"].items():
                labels = [p["labels"] for p in v["per_seed"] if p["labels"] is not None]
                sd = f" ({statistics.pstdev(labels):.0f})" if len(labels) > 1 else ""
                bold = "**" if "(default)" in rule else ""
                lines.append(f"| {name} ({s['rounds']} rounds) | {loop['final_macro_f1']:.3f} | "
                             f"{f(loop['target_labels'])} | {bold}{rule}{bold} | {f(v['mean_labels'])}{sd} | "
                             f"{bold}{f(v['ratio'], '.2f')}{bold} | {f(v['min_f1_share'], '.1%')} | "
                             f"{v['never_stopped']} |")
        lines.append("")
    # (e) suspects
    sus = [(c["name"], c["suspects"]) for c in res if c.get("suspects")]
    if sus:
        lines += ["### e. Suspects: 10 % of the labels flipped", "",
                  "Precision = recall at k, k = the number flipped, for the default `suspects` ranking and the "
                  "baseline (the lowest out-of-fold probability of the given label from the quick model, 5 folds); "
                  "the ceiling ranks with models fitted on the unflipped labels. cleanlab's flags: how many rows "
                  "it flags and the share of the flipped ones among them (precision) and caught (recall).", "",
                  "| corpus | flipped | suspects top-k | baseline | ceiling | flagged rows | flag precision | "
                  "flag recall |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, n in sus:
            fr = n["flagged_recall"]
            prec = [rec * n["flipped"] / cnt for rec, cnt in fr if cnt]
            lines.append(f"| {name} ({n['rows']} labels) | {n['flipped']} | **{ms(n['recall']['default'], '.2f')}** | "
                         f"{ms(n['baseline'], '.2f')} | {ms(n['ceiling'], '.2f')} | "
                         f"{ms([c for _, c in fr], '.0f')} | {ms(prec, '.2f')} | {ms([v for v, _ in fr], '.2f')} |")
        lines.append("")
    lines += ["### What generalises", "", *NOTES, ""]
    lines.append(END)
    return "\n".join(lines)


def variant(settings: dict, parts, demo: int) -> list[str]:
    """How a run differs from the documented one (every part, the default [active_learning]
    settings, no demo corpus); empty for the documented run. ``settings`` as the results record them."""
    from dataclasses import asdict

    from reviewtui.settings import ActiveLearningSettings

    defaults = json.loads(json.dumps(asdict(ActiveLearningSettings()), default=str))
    given = json.loads(json.dumps(settings, default=str))
    out = [f"{k} = {given[k]}" for k in defaults if k in given and given[k] != defaults[k]]
    if set(parts) != set(PARTS):
        out.append(f"parts {', '.join(parts)}")
    if demo:
        out.append(f"the demo corpus ({demo} reviews)")
    return out


def main(argv=None) -> int:
    from collections import Counter

    from reviewtui.files import atomic_write_text
    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.settings import ActiveLearningSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds of the cross-validation and the suspects (5)")
    ap.add_argument("--loop-seeds", type=int, default=20, help="seeds of the replayed loop (20)")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    ap.add_argument("--demo", type=int, nargs="?", const=3000, default=0,
                    help="add the demo corpus of this many reviews (3000) to the loop parts")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="an [active_learning] setting for this run (not written to the docs)")
    ap.add_argument("--cache", type=Path, help="keep the embedding cache in this folder")
    ap.add_argument("--out", type=Path, help="the results file (default: bench/results/taxonomies.json for the "
                    "documented run, bench/results/taxonomies-variant.json for another; with --render-only, the "
                    "file to read)")
    ap.add_argument("--no-write", action="store_true", help="leave docs/BENCHMARKS.md as it is")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the section from the results file --out names (default bench/results/taxonomies.json)")
    args = ap.parse_args(argv)
    if args.render_only:
        path = args.out or RESULTS
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            differs = variant(results["settings"], results.get("parts", PARTS), results.get("demo", 0))
            text = render(results)
        except FileNotFoundError:
            ap.error(f"{path}: no such results file; run the benchmark first")
        except (ValueError, KeyError, TypeError) as exc:
            ap.error(f"{path}: not the results of this benchmark ({exc.__class__.__name__}: {exc})")
        if args.no_write:
            print(text)
        elif differs:
            ap.error(f"{path}: the results of a variant ({'; '.join(differs)}), not of the documented run; "
                     "docs/BENCHMARKS.md left as it is (--no-write prints them)")
        else:
            write_section(text, START, END)
        return 0
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        ap.error(f"unknown parts: {', '.join(sorted(unknown))}")
    settings = ActiveLearningSettings()
    types = {fl.name: fl.type for fl in fields(settings)}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in types:
            ap.error(f"unknown setting {name!r}")
        try:
            settings = replace(settings, **{name: type(getattr(settings, name))(value)})
        except ValueError:
            ap.error(f"--set {item}: {value!r} is not a {type(getattr(settings, name)).__name__}")
    differs = variant({k: getattr(settings, k) for k in types}, parts, args.demo)
    out = args.out or (VARIANT_RESULTS if differs else RESULTS)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-taxonomies-") as tmp_name:
        cache = EmbeddingCache(args.cache or Path(tmp_name) / "cache", "minilm", 128)
        results = {"at": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                   "seeds": args.seeds, "loop_seeds": args.loop_seeds, "settings": {k: getattr(settings, k) for k in types},
                   "parts": parts, "demo": args.demo,
                   "fintech_distribution": dict(Counter(fintech_labeled(FINTECH_LABELS)[2]).most_common()),
                   "corpora": []}
        for corpus in corpora(cache, args.demo, Path(tmp_name)):
            log(f"{corpus['name']}: {len(corpus['labels'])} labels")
            results["corpora"].append(run(corpus, cache, parts, args.seeds, settings, args.loop_seeds))
    results["seconds"] = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(results, indent=2, default=str))
    log(f"results in {out}" + (f" (a variant: {'; '.join(differs)}; docs/BENCHMARKS.md left as it is)" if differs else ""))
    text = render(results)
    if not args.no_write and not differs:
        write_section(text, START, END)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
