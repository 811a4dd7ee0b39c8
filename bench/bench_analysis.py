"""Benchmarks of the analysis package; writes its section of docs/BENCHMARKS.md.

1. Prediction throughput: ``Workspace.predict`` (length-sorted batches, inference mode, chunked)
   against the original project's way (a transformers text-classification pipeline called on one
   review at a time) over the same reviews of ../shared/data/play-store-fintech, same model, same
   run. Goal >= 5x on CPU.
2. Active learning: labels needed to reach 95% of the full-pool macro-F1 on a fixed held-out split,
   every strategy against random, 5 seeds, on dataset-11 and on the demo corpus. Goal <= 0.7x.
3. Quick-model retrain per round with cached embeddings, 1,000 labels. Goal < 1 s.

Usage: python bench/bench_analysis.py [--reviews 10000] [--demo-size 3000] [--skip-predict]
       [--skip-sentiment] [--robustness-seeds 10]
A skipped part keeps its figures from the previous run (bench/results/analysis.json), with that
run's date. --robustness-seeds N reruns random, margin and diversity with N seeds as a check on
the 5-seed goal figures. Only the text between ``<!-- analysis:start -->`` and ``<!-- analysis:end -->`` is replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, fintech_reviews, log, ROOT, write_section  # noqa: E402

START, END = "<!-- analysis:start -->", "<!-- analysis:end -->"
PREVIOUS = ROOT / "bench" / "results" / "analysis.json"
STRATEGIES = ("random", "least_confidence", "margin", "entropy", "diversity")
FIRST_RUN = "2026-11-28 17:32"  # the run whose sentiment figures predate their "at" field


# --- 1. prediction throughput -----------------------------------------------------------------
def save_classifier(ws, name: str) -> Path:
    """A MiniLM sequence classifier (untrained head: throughput does not depend on the weights),
    saved with a model card as reviewtui train would."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from reviewtui.modeling.card import ModelCard, now_iso
    from reviewtui.modeling.loading import packaged_minilm_path, quiet_transformers

    quiet_transformers()
    keys = ws.taxonomy.training_keys
    torch.manual_seed(0)
    src = str(packaged_minilm_path())
    model = AutoModelForSequenceClassification.from_pretrained(
        src, num_labels=len(keys), id2label=dict(enumerate(keys)), label2id={k: i for i, k in enumerate(keys)})
    folder = ws.models_dir / name
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(src).save_pretrained(folder)
    ModelCard(name=name, kind="finetuned", base_model="minilm", base_source="package", labels=list(keys),
              taxonomy_keys=list(keys), hyperparameters={"max_length": ws.settings.model.max_length},
              created_at=now_iso()).save(folder)
    return folder


def bench_predict(n: int, tmp: Path) -> dict:
    import numpy as np
    import torch
    from transformers import pipeline

    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ids, texts, meta, available = fintech_reviews(n)
    ws = Workspace.init(tmp / "predict-ws")
    ws.store.add_assets([NewAsset(i, t, m) for i, t, m in zip(ids, texts, meta)])
    folder = save_classifier(ws, "bench-minilm")
    log(f"predict bench: {len(texts)} reviews (of {available}), torch threads {torch.get_num_threads()}")

    # both timings include loading the model and reading the reviews, as a user's run would
    t0 = time.perf_counter()
    pipe = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device=-1)
    texts_again = [a.text for a in ws.store.iter_assets()]
    base = [pipe(t, truncation=True, max_length=128)[0]["label"] for t in texts_again]
    t_base = time.perf_counter() - t0
    log(f"pipeline one at a time: {t_base:.1f}s")

    t0 = time.perf_counter()
    res = ws.predict("bench-minilm", sentiment="none")
    t_ours = time.perf_counter() - t0
    log(f"reviewtui predict: {t_ours:.1f}s")
    import pandas as pd

    out = pd.read_csv(res.path, dtype=str, keep_default_na=False)
    agree = float(np.mean([a == b for a, b in zip(base, out["predicted_category"])]))

    from reviewtui.analysis.sentiment import VaderAnalyzer

    t0 = time.perf_counter()
    VaderAnalyzer().analyze(texts)
    t_vader = time.perf_counter() - t0
    t0 = time.perf_counter()
    ws.predict("bench-minilm", sentiment="vader")
    t_full = time.perf_counter() - t0
    lengths = [len(t) for t in texts]
    return {"reviews": len(texts), "available": available, "baseline_s": t_base, "ours_s": t_ours,
            "speedup": t_base / t_ours, "agreement": agree, "vader_s": t_vader, "predict_with_vader_s": t_full,
            "median_chars": statistics.median(lengths), "threads": torch.get_num_threads(), "device": res.device,
            "at": time.strftime("%Y-%m-%d %H:%M")}


# --- 2. active learning -----------------------------------------------------------------------
def al_workspace_dataset11(tmp: Path):
    from reviewtui.workspace import Workspace

    path = DATA / "medium-reviews" / "dataset-11.csv"
    ws = Workspace.init(tmp / "ds11-ws")
    ws.import_reviews([path], text_col="content", id_col="externalId")
    return ws, path


def al_workspace_demo(tmp: Path, size: int):
    from reviewtui.demo import generate_demo
    from reviewtui.workspace import Workspace

    files = generate_demo(tmp / "demo-data", size=size, seed=7)
    ws = Workspace.init(tmp / "demo-ws")
    ws.import_reviews([files.export_csv])
    return ws, files.oracle_csv


def bench_active(ws, oracle: Path, batch: int, rounds: int, seeds: int) -> dict:
    t0 = time.perf_counter()
    res = ws.simulate(oracle, strategies=STRATEGIES, batch=batch, rounds=rounds, seeds=seeds, allow_missing=True)
    reach = res.labels_to_reach(0.95)
    interp = res.labels_to_reach(0.95, interpolate=True)
    curves = res.mean_curves()
    fits = [p.fit_seconds for p in res.points]
    return {"pool": res.pool_size, "test": res.test_size, "batch": batch, "rounds": rounds, "seeds": seeds,
            "full_pool_macro_f1": res.full_pool["macro_f1"], "full_pool_accuracy": res.full_pool["accuracy"],
            "labels_to_95": reach,
            "ratio_vs_random": {s: (reach[s] / reach["random"] if reach[s] and reach["random"] else None)
                                for s in reach},
            "labels_to_95_interpolated": interp,
            "ratio_interpolated": {s: (interp[s] / interp["random"] if interp[s] and interp["random"] else None)
                                   for s in interp},
            "final_macro_f1": {s: c[-1][3] for s, c in curves.items()},
            "seconds": time.perf_counter() - t0, "max_fit_s": max(fits), "png": str(res.png_path),
            "csv": str(res.summary_path)}


def bench_robustness(ws, oracle: Path, batch: int, rounds: int, seeds: int) -> dict:
    """random, margin and diversity with more seeds: is the 5-seed figure noise?"""
    res = ws.simulate(oracle, strategies=("random", "margin", "diversity"), batch=batch, rounds=rounds,
                      seeds=seeds, allow_missing=True, write=False)
    reach = res.labels_to_reach(0.95)
    interp = res.labels_to_reach(0.95, interpolate=True)
    return {"seeds": seeds, "labels_to_95": reach, "labels_to_95_interpolated": interp,
            "ratio_vs_random": {s: (reach[s] / reach["random"] if reach[s] and reach["random"] else None)
                                for s in reach},
            "ratio_interpolated": {s: (interp[s] / interp["random"] if interp[s] and interp["random"] else None)
                                   for s in interp}}


def keep_figure(src: str, name: str) -> str:
    """Copy a learning-curve PNG out of the temp workspace into docs/figures/."""
    dest = ROOT / "docs" / "figures" / name
    dest.parent.mkdir(exist_ok=True)
    shutil.copyfile(src, dest)
    return str(dest.relative_to(ROOT))


# --- 3. retrain time --------------------------------------------------------------------------
def bench_retrain(ws, oracle: Path, n: int = 1000, repeats: int = 9) -> dict:
    from reviewtui.active import fit_quick, read_oracle
    from reviewtui.modeling.quick import QuickModel

    o = read_oracle(oracle, ws.store, ws.taxonomy, allow_missing=True)
    texts = dict(ws.store.texts())
    ids = [i for i, lab in o.labels.items() if lab in ws.taxonomy.training_keys][:n]
    X = ws.embedding_cache().embed([texts[i] for i in ids])  # cached by the simulation already
    y = [o.labels[i] for i in ids]
    al, qm = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit_quick(X, y)
        al.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        QuickModel().fit(X, y)
        qm.append(time.perf_counter() - t0)
    return {"labels": len(ids), "fit_quick_median_s": statistics.median(al), "fit_quick_max_s": max(al),
            "fit_quick_min_s": min(al), "quickmodel_fit_median_s": statistics.median(qm),
            "quickmodel_fit_min_s": min(qm), "repeats": repeats}


# --- 4. sentiment options against the stars ---------------------------------------------------
def bench_sentiment(n: int, tmp: Path) -> dict:
    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    ids, texts, meta, _ = fintech_reviews(n, seed=1)
    ws = Workspace.init(tmp / "sentiment-ws")
    ws.store.add_assets([NewAsset(i, t, m) for i, t, m in zip(ids, texts, meta)])
    t0 = time.perf_counter()
    cmp = ws.sentiment_comparison(["vader", "stars"], sample=None)
    return {**cmp.to_dict(), "seconds": time.perf_counter() - t0, "at": time.strftime("%Y-%m-%d %H:%M")}


# --- report -----------------------------------------------------------------------------------
def render(r: dict) -> str:
    lines = [START, "## Analysis package (bench/bench_analysis.py)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPU cores (shared with other work while it ran), no GPU; "
             "figures are from one run" + kept_note(r) + ".", ""]
    goals = ["| goal | measured | met |", "|---|---|---|"]
    p = r.get("predict")
    if p:
        goals.append(f"| predict >= 5x the one-at-a-time pipeline (CPU) | {p['speedup']:.1f}x | "
                     f"{'yes' if p['speedup'] >= 5 else 'no'} |")
    for key, title in (("ds11", "dataset-11"), ("demo", "demo corpus")):
        a = r.get(key)
        if a:
            for s in ("margin", "diversity"):
                whole, interp = a["ratio_vs_random"].get(s), a["ratio_interpolated"].get(s)
                if whole is None:
                    continue
                met = "yes" if whole <= 0.7 else ("interpolated only" if interp is not None and interp <= 0.7 else "no")
                rob = (a.get("robustness") or {}).get("ratio_vs_random", {}).get(s)
                extra = (f"; {a['robustness']['seeds']} seeds: {rob:.2f}x, interpolated "
                         f"{a['robustness']['ratio_interpolated'][s]:.2f}x" if rob is not None else "")
                goals.append(f"| {s} <= 0.7x random labels to 95% on {title} ({a['seeds']} seeds) | {whole:.2f}x "
                             f"(interpolated {interp:.2f}x){extra} | {met} |")
    q = r.get("retrain")
    if q:
        goals.append(f"| quick-model refit < 1 s for 1,000 labels | {q['fit_quick_median_s'] * 1000:.0f} ms | "
                     f"{'yes' if q['fit_quick_median_s'] < 1 else 'no'} |")
    lines += goals + [""]
    if p:
        lines += ["### Prediction throughput (goal >= 5x on CPU)", "",
                  f"{p['reviews']:,} reviews sampled from play-store-fintech ({p['available']:,} after cleaning; "
                  f"median {p['median_chars']:.0f} characters), the same MiniLM sequence classifier, "
                  f"{p['threads']} torch threads, in the same run; both times include loading the model.", "",
                  "| way | seconds | reviews/s |", "|---|---:|---:|",
                  f"| original: transformers pipeline, one review at a time | {p['baseline_s']:.1f} | "
                  f"{p['reviews'] / p['baseline_s']:.0f} |",
                  f"| `reviewtui predict --sentiment none` (batched, length-sorted, inference mode, chunked) | "
                  f"{p['ours_s']:.1f} | {p['reviews'] / p['ours_s']:.0f} |",
                  f"| `reviewtui predict` with VADER sentiment | {p['predict_with_vader_s']:.1f} | "
                  f"{p['reviews'] / p['predict_with_vader_s']:.0f} |", "",
                  f"**Speed-up {p['speedup']:.1f}x** ({'meets' if p['speedup'] >= 5 else 'misses'} the 5x goal). "
                  f"The two ways agree on {100 * p['agreement']:.2f}% of predicted labels. VADER alone over the "
                  f"same reviews: {p['vader_s']:.1f}s.", ""]
    for key, title in (("ds11", "dataset-11 (346 labeled Medium reviews)"), ("demo", "demo corpus")):
        a = r.get(key)
        if not a:
            continue
        lines += [f"### Active learning on {title} (goal <= 0.7x random)", "",
                  f"Pool {a['pool']}, fixed held-out test {a['test']}; batch {a['batch']} (the first batch "
                  f"random), {a['rounds']} rounds, {a['seeds']} seeds; full-pool macro-F1 "
                  f"{a['full_pool_macro_f1']:.3f} (accuracy {a['full_pool_accuracy']:.3f}). Labels to reach 95% of "
                  "it on the mean curve, at the first round that reaches it (whole batches) and with the "
                  "crossing interpolated between rounds:", "",
                  "| strategy | labels to 95% | x random | interpolated | x random | macro-F1 at the last round |",
                  "|---|---:|---:|---:|---:|---:|"]

        def fmt(v, spec):
            return "-" if v is None else format(v, spec)

        for s in STRATEGIES:
            n = a["labels_to_95"].get(s)
            lines.append(f"| {s} | {n if n is not None else 'not reached'} | {fmt(a['ratio_vs_random'].get(s), '.2f')} | "
                         f"{fmt(a['labels_to_95_interpolated'].get(s), '.1f')} | "
                         f"{fmt(a['ratio_interpolated'].get(s), '.2f')} | {a['final_macro_f1'][s]:.3f} |")
        rb = a.get("robustness")
        if rb:
            lines += ["", f"Robustness check with {rb['seeds']} seeds (0-{rb['seeds'] - 1}, the 5 above among them): "
                      + "; ".join(f"{s} {rb['labels_to_95'][s] if rb['labels_to_95'][s] is not None else 'not reached'} "
                                  f"labels ({fmt(rb['ratio_vs_random'][s], '.2f')}x random, interpolated "
                                  f"{fmt(rb['labels_to_95_interpolated'][s], '.1f')} = "
                                  f"{fmt(rb['ratio_interpolated'][s], '.2f')}x)"
                                  for s in ("random", "margin", "diversity")) + "."]
        lines += ["", f"Simulation time {a['seconds']:.0f}s; slowest single refit {a['max_fit_s'] * 1000:.0f} ms. "
                  f"Curves: `{a['png']}`.", ""]
    sm = r.get("sentiment")
    if sm:
        dist = ", ".join(f"{k} {v:,}" for k, v in sm["star_distribution"].items())
        lines += ["### Sentiment options against the stars (play-store-fintech)", "",
                  f"{sm['n']:,} reviews sampled from play-store-fintech with their real star scores as weak labels "
                  f"(1-2 negative, 3 neutral, 4-5 positive: {dist}). The star head is scored out-of-fold (5 folds).",
                  "", "| option | accuracy | macro-F1 | Cohen's kappa | negative | neutral | positive |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for a in sm["agreements"]:
            d = a["distribution"]
            lines.append(f"| {a['analyzer']}{' (out-of-fold)' if a['cross_validated'] else ''} | {a['accuracy']:.3f} | "
                         f"{a['macro_f1']:.3f} | {a['kappa']:.3f} | {d['negative']:,} | {d['neutral']:,} | "
                         f"{d['positive']:,} |")
        lines += ["", f"Both options over the sample: {sm['seconds']:.0f}s (including embedding).", ""]
    q = r.get("retrain")
    if q:
        lines += ["### Quick-model retrain per round (goal < 1 s for 1,000 labels)", "",
                  f"{q['labels']} labels, cached MiniLM embeddings, {q.get('repeats', 5)} fits each: active "
                  f"learning's refit (`active.fit_quick`, Newton-CG) median **{q['fit_quick_median_s'] * 1000:.0f} ms** "
                  f"(fastest {q.get('fit_quick_min_s', q['fit_quick_median_s']) * 1000:.0f} ms, slowest "
                  f"{q['fit_quick_max_s'] * 1000:.0f} ms); `QuickModel.fit` (what `train --quick` calls) median {q['quickmodel_fit_median_s'] * 1000:.0f} ms (fastest "
                  f"{q.get('quickmodel_fit_min_s', q['quickmodel_fit_median_s']) * 1000:.0f} ms). `fit_quick` "
                  "runs BLAS on one thread: with OpenBLAS's two threads on this shared two-core machine the same "
                  "fits took 0.5-2 s (an earlier run of this bench: median 153 ms, slowest 941 ms; another: "
                  "1.5 s).", ""]
    lines.append(END)
    return "\n".join(lines)


def kept_note(r: dict) -> str:
    """Which parts come from an earlier run than the rest, and when."""
    kept = [(name, r[key]["at"]) for key, name in (("predict", "throughput"), ("sentiment", "sentiment"))
            if r.get(key, {}).get("at") and r.get(key, {}).get("kept")]
    if not kept and r.get("predict", {}).get("at"):  # results written before parts could be skipped
        kept = [("throughput", r["predict"]["at"])]
    return (" except the " + " and the ".join(f"{name} figures (from the run of {at})" for name, at in kept)
            if kept else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--demo-size", type=int, default=3000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--skip-predict", action="store_true")
    ap.add_argument("--skip-sentiment", action="store_true")
    ap.add_argument("--robustness-seeds", type=int, default=0,
                    help="also run random/margin/diversity with this many seeds (0: no check)")
    ap.add_argument("--sentiment-reviews", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--render-only", action="store_true", help="rewrite the section from bench/results/analysis.json")
    args = ap.parse_args(argv)
    if args.render_only:
        write_section(render(json.loads(PREVIOUS.read_text())), START, END)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    results: dict = {}
    try:
        ws, oracle = al_workspace_dataset11(tmp)
        log("active learning on dataset-11")
        results["ds11"] = bench_active(ws, oracle, batch=10, rounds=26, seeds=args.seeds)
        results["ds11"]["png"] = keep_figure(results["ds11"]["png"], "analysis_learning_curves_dataset11.png")
        log(json.dumps(results["ds11"]["labels_to_95"]))
        if args.robustness_seeds:
            results["ds11"]["robustness"] = bench_robustness(ws, oracle, 10, 26, args.robustness_seeds)
            log(json.dumps(results["ds11"]["robustness"]["labels_to_95"]))
        ws, oracle = al_workspace_demo(tmp, args.demo_size)
        log(f"active learning on the demo corpus ({ws.store.count()} reviews)")
        results["demo"] = bench_active(ws, oracle, batch=10, rounds=30, seeds=args.seeds)
        results["demo"]["png"] = keep_figure(results["demo"]["png"], "analysis_learning_curves_demo.png")
        log(json.dumps(results["demo"]["labels_to_95"]))
        if args.robustness_seeds:
            results["demo"]["robustness"] = bench_robustness(ws, oracle, 10, 30, args.robustness_seeds)
            log(json.dumps(results["demo"]["robustness"]["labels_to_95"]))
        results["retrain"] = bench_retrain(ws, oracle)
        log(json.dumps(results["retrain"]))
        previous = json.loads(PREVIOUS.read_text()) if PREVIOUS.is_file() else {}
        if not args.skip_sentiment:
            results["sentiment"] = bench_sentiment(args.sentiment_reviews, tmp)
            log(json.dumps({k: v for k, v in results["sentiment"].items() if k != "agreements"}))
        elif previous.get("sentiment"):  # keep the last measured figures, with their date
            results["sentiment"] = {**previous["sentiment"], "kept": True}
            results["sentiment"].setdefault("at", FIRST_RUN)
        if not args.skip_predict:
            results["predict"] = bench_predict(args.reviews, tmp)
            log(json.dumps(results["predict"]))
        elif previous.get("predict"):  # keep the last measured throughput in the section
            results["predict"] = {**previous["predict"], "kept": True}
    finally:
        if not args.no_write and results:
            PREVIOUS.parent.mkdir(exist_ok=True)
            PREVIOUS.write_text(json.dumps(results, indent=2, default=str))
            write_section(render(results), START, END)
        shutil.rmtree(tmp, ignore_errors=True)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
