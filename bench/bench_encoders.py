"""Benchmark the stronger encoder, cross-validated model choice and the final fit on all labels.

Run through bench/bench_models.py (``--parts heads,finetune-cv,auto,outer``), or on its own. On
dataset-11 of the original project (346 reviews, 4 categories), in one run:

* heads: MiniLM vs MPNet sentence embeddings + logistic regression, on the original split
  (stratified test 0.2 then validation 0.2 of the rest, seed 42: the head fits on train +
  validation) and in k-fold stratified CV (seed 42; ``--folds``, 5);
* finetune-cv: MiniLM vs MPNet fine-tunes ([auto] epochs and learning rates), cross-validated the
  way ``reviewtui train`` does below [evaluation] cv_below (each fold's epoch chosen on the other
  folds), and on the original split (trained on train + validation for the epoch count CV chose);
* auto: ``train --auto`` (reviewtui.modeling.selection.auto_train) on all 346 labels within a
  budget: its comparison table (5-fold CV) and its wall time, the final training included;
* outer: the original split's 70 test rows held out; the model ``reviewtui train`` saves today
  (fine-tune on 220 + early stopping on 56, with the quick model) against ``--auto`` run on the
  other 276 rows and trained on all of them; both scored on the same 70 rows;
* mpnet-fold: one MPNet fine-tune on the original split, timed per epoch, to extrapolate a CV.

Embeddings are cached under bench/.work/enc/cache. Writes its section of docs/BENCHMARKS.md between
<!-- encoders:start --> and <!-- encoders:end -->; the sentiment figures come from
bench/bench_sentiment.py.

    python bench/bench_encoders.py --parts heads,auto,outer --budget 30m
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, log, ROOT, write_section  # noqa: E402

DATASET11 = DATA / "medium-reviews" / "dataset-11.csv"
LABELS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
WORK = ROOT / "bench" / ".work" / "enc"
START, END = "<!-- encoders:start -->", "<!-- encoders:end -->"


def split_metrics(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}


def heads(df, split, results: dict, folds: int = 5) -> None:
    from reviewtui.modeling import selection as sel
    from reviewtui.settings import EvaluationSettings

    data = sel.Data.from_frame(df, LABELS)
    train, val, test = split
    fit = __import__("pandas").concat([train, val])
    ctx = sel.Context(WORK / "cache")
    rows = []
    for enc in ("minilm", "mpnet"):
        cand = sel.HeadCandidate(enc)
        started = time.perf_counter()
        cv = sel.select_model(data, [cand], evaluation=EvaluationSettings(folds=folds, seed=42), ctx=ctx,
                              ensembles=False).score(cand.key)
        fit_data = sel.Data.from_frame(fit, LABELS)
        model = cand.fit_final(fit_data, ctx)
        pred = model.predict(ctx.embed(enc, list(test["content"])))
        rows.append({"name": cand.description, "cv": cv.mean, "cv_std": cv.std,
                     "split": split_metrics(list(test["label"]), pred), "seconds": time.perf_counter() - started})
        log("head", enc, rows[-1])
    rows.append(tfidf_baseline(data, fit, test, folds))
    log("head", "tfidf", rows[-1])
    results["heads"] = rows


def tfidf_baseline(data, fit, test, folds: int = 5, seed: int = 42) -> dict:
    """The baseline `train --auto` is to beat: TF-IDF of words and word pairs + logistic
    regression, on the same folds and split; C (1 or 10) chosen by CV macro-F1, as a user tuning
    the baseline would, never by the test rows. With ``fit`` or ``test`` None: the CV alone."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from reviewtui.modeling import selection as sel

    def model(C: float):
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                             LogisticRegression(C=C, max_iter=5000))

    started = time.perf_counter()
    texts = np.asarray(data.texts, dtype=object)
    y = np.asarray([data.labels[i] for i in data.y], dtype=object)
    splits = sel.stratified_folds(list(y), folds, seed)
    best = None
    for C in (1.0, 10.0):
        per = [split_metrics(list(y[te]), model(C).fit(list(texts[tr]), list(y[tr])).predict(list(texts[te])))
               for tr, te in splits]
        mean, std = sel.summarize(per)
        if best is None or mean["f1_macro"] > best[1]["f1_macro"]:
            best = (C, mean, std)
    C, mean, std = best
    split = None
    if fit is not None and test is not None:
        pred = model(C).fit(list(fit["content"]), list(fit["label"])).predict(list(test["content"]))
        split = split_metrics(list(test["label"]), pred)
    return {"name": f"TF-IDF of words and word pairs + logistic regression (C={C:g}; the baseline)", "cv": mean,
            "cv_std": std, "split": split, "seconds": time.perf_counter() - started}


def finetune_cv(df, split, results: dict, folds: int = 5, encoders: tuple[str, ...] = ("minilm", "mpnet"),
                epochs: int | None = None) -> None:
    """Fine-tunes scored as `reviewtui train` scores them below cv_below, and on the original split."""
    from dataclasses import replace

    import pandas as pd

    from reviewtui.modeling import selection as sel
    from reviewtui.settings import AutoSettings, EvaluationSettings, TrainingSettings

    auto_s = AutoSettings()
    data = sel.Data.from_frame(df, LABELS)
    train, val, test = split
    ctx = sel.Context(WORK / "cache")
    rows = []
    for enc in encoders:
        small = enc == "minilm"
        cand = sel.FineTuneCandidate(enc, replace(
            TrainingSettings(), epochs=epochs or (auto_s.minilm_epochs if small else auto_s.mpnet_epochs),
            learning_rate=auto_s.minilm_learning_rate if small else auto_s.mpnet_learning_rate))
        started = time.perf_counter()
        cv = sel.select_model(data, [cand], evaluation=EvaluationSettings(folds=folds, seed=42), ctx=ctx,
                              ensembles=False).score(cand.key)
        cv_seconds = time.perf_counter() - started
        fit = cand.fit_final(sel.Data.from_frame(pd.concat([train, val]), LABELS), ctx, int(cv.epochs or 1))
        from reviewtui.modeling.batching import predict_logits

        pred = predict_logits(fit.model, fit.tokenizer, list(test["content"])).argmax(1)
        rows.append({"name": cand.description, "cv": cv.mean, "cv_std": cv.std, "epochs": cv.epochs,
                     "fold_epochs": cv.fold_epochs, "cv_seconds": cv_seconds,
                     "split": split_metrics(list(test["label"]), [LABELS[i] for i in pred]),
                     "seconds": time.perf_counter() - started})
        log("finetune", enc, rows[-1])
    results["finetunes"] = rows


def auto(df, budget: float, results: dict, key: str = "auto", test=None, folds: int = 5) -> None:
    from reviewtui.events import Notice, TrialUpdate
    from reviewtui.modeling import selection as sel
    from reviewtui.settings import AutoSettings, EvaluationSettings

    def sink(event) -> None:
        if isinstance(event, Notice):
            log(key, event.text)
        elif isinstance(event, TrialUpdate) and event.status != "RUNNING":
            log(key, event.trial_id, event.status, event.metrics, event.error or "")

    started = time.perf_counter()
    selection, card = sel.auto_train(df, models_dir=WORK / f"models-{key}", label_keys=LABELS,
                                     cache_dir=WORK / "cache", evaluation=EvaluationSettings(folds=folds, seed=42),
                                     auto=AutoSettings(), budget_s=budget, name=key, overwrite=True, on_event=sink)
    out = {"table": selection.table(), "wall_seconds": time.perf_counter() - started, "rows": len(df),
           "winner": selection.winner, "card_metrics": card.metrics}
    if test is not None:
        from reviewtui.modeling.inference import SavedClassifier

        clf = SavedClassifier.load(Path(card.path), cache_dir=WORK / "cache")
        out["test"] = split_metrics(list(test["label"]), clf.predict(list(test["content"])))
    log(key, "done", json.dumps({k: v for k, v in out.items() if k != "table"}))
    results[key] = out


def split64(df, split, results: dict) -> None:
    """The saved model of `reviewtui train` today: 64 % train, 16 % validation, the same 70 test rows."""
    from reviewtui.modeling.finetune import train_model
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.settings import ActiveLearningSettings, ModelSettings, TrainingSettings

    train, val, test = split
    started = time.perf_counter()
    # the frame in its own order: train_model splits it again, into the very same split
    card = train_model(df, models_dir=WORK / "models-outer", label_keys=LABELS, name="split64", overwrite=True,
                       cache_dir=WORK / "cache", model=ModelSettings(), training=TrainingSettings(),
                       quick_C=ActiveLearningSettings().C)
    assert card.splits == {"train": len(train), "validation": len(val), "test": len(test)}
    clf = SavedClassifier.load(Path(card.path), cache_dir=WORK / "cache")
    test_metrics = split_metrics(list(test["label"]), clf.predict(list(test["content"])))
    assert abs(test_metrics["accuracy"] - card.metrics["accuracy"]) < 1e-9, "not the same test rows"
    results["outer_split64"] = {"test": test_metrics,
                                "finetuned_only": card.extra.get("finetuned_only_metrics", {}).get("accuracy"),
                                "seconds": time.perf_counter() - started}
    log("outer split64", results["outer_split64"])


def outer(df, split, budget: float, results: dict, folds: int = 5) -> None:
    """--auto on the 80 % outside the original test split, scored on those 70 test rows."""
    import pandas as pd

    train, val, test = split
    auto(pd.concat([train, val]), budget, results, key="outer_all", test=test, folds=folds)


def mpnet_fold(split, results: dict) -> None:
    from reviewtui.events import EpochProgress, Notice
    from reviewtui.modeling.batching import predict_logits
    from reviewtui.modeling.finetune import fit_transformer
    from reviewtui.settings import AutoSettings, ModelSettings, TrainingSettings

    train, val, test = split
    auto_s = AutoSettings()
    epochs: list[dict] = []
    mark = {"t": time.perf_counter()}

    def sink(event) -> None:
        if isinstance(event, EpochProgress) and event.step == event.steps:
            epochs.append({"epoch": event.epoch, "seconds": time.perf_counter() - mark["t"],
                           "samples_per_s": event.samples_per_s})
            mark["t"] = time.perf_counter()
        elif isinstance(event, Notice):
            log("mpnet", event.text)

    started = time.perf_counter()
    fit = fit_transformer(train, val, LABELS, ModelSettings(base="mpnet"),
                          TrainingSettings(epochs=auto_s.mpnet_epochs, learning_rate=auto_s.mpnet_learning_rate,
                                           early_stopping_patience=0), on_event=sink)
    pred = predict_logits(fit.model, fit.tokenizer, list(test["content"])).argmax(1)
    results["mpnet_fold"] = {"rows": len(train), "epochs": epochs, "best_epoch": fit.best_epoch,
                             "history": fit.history, "seconds": time.perf_counter() - started,
                             "test": split_metrics(list(test["label"]), [LABELS[i] for i in pred])}
    log("mpnet fold", results["mpnet_fold"])


# --- report ------------------------------------------------------------------------------------------
def fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "–"


def section(r: dict) -> str:
    lines = [START, "## Encoders, cross-validated choice, final fit on all labels (bench/bench_encoders.py)", "",
             f"dataset-11 (346 rows, 4 categories). Measured {r['when']} on {platform.machine()}, {os.cpu_count()} "
             f"CPUs{', ' + r['machine_note'] if r.get('machine_note') else ''}, "
             f"{'a GPU' if r.get('gpu') else 'no GPU'}, offline. CV is {r.get('folds', 5)}-fold stratified, seed 42; "
             "the split is the original one (220 train / 56 validation / 70 test, seed 42).", ""]
    if "heads" in r:
        lines += ["### Sentence embeddings + logistic regression", "",
                  "| encoder head | CV accuracy | CV macro-F1 | split accuracy | split macro-F1 |", "|---|---|---|---|---|"]
        for row in r["heads"]:
            lines.append(f"| {row['name']} | {fmt(row['cv']['accuracy'])} ± {fmt(row['cv_std']['accuracy'])} | "
                         f"{fmt(row['cv']['f1_macro'])} | {fmt(row['split']['accuracy'])} | "
                         f"{fmt(row['split']['f1_macro'])} |")
        lines.append("")
    if "finetunes" in r:
        lines += ["### Fine-tunes, cross-validated as `reviewtui train` does below cv_below", "",
                  "Each fold trains the most epochs and scores the held-out fold after every one; a fold's score "
                  "uses the epoch count that did best on the other folds. The split column: trained on train + "
                  "validation for the epoch count CV chose, scored on the 70 test rows.", "",
                  "| fine-tune | CV accuracy | CV macro-F1 | epochs (per fold) | split accuracy | split macro-F1 | "
                  "CV time |", "|---|---|---|---|---|---|---|"]
        for row in r["finetunes"]:
            lines.append(f"| {row['name']} | {fmt(row['cv']['accuracy'])} ± {fmt(row['cv_std']['accuracy'])} | "
                         f"{fmt(row['cv']['f1_macro'])} | {row['epochs']} ({row['fold_epochs']}) | "
                         f"{fmt(row['split']['accuracy'])} | {fmt(row['split']['f1_macro'])} | "
                         f"{row['cv_seconds']:.0f} s |")
        lines.append("")
    for key, title in (("auto_30m", "`train --auto --budget 30m` on all 346 labels"),
                       ("auto", f"`train --auto --budget {r.get('auto', {}).get('table', {}).get('budget_s', 0) / 60:.0f}m` "
                                "on all 346 labels"),
                       ("outer_all", "`train --auto` on the 276 rows outside the test split")):
        if key not in r:
            continue
        a = r[key]
        t = a["table"]
        lines += [f"### {title}", "",
                  f"Budget {t['budget_s']:.0f} s; whole run {a['wall_seconds']:.0f} s (selection {t['seconds']:.0f} s, "
                  f"then the winner's training on all {a['rows']} rows). Winner: **{t['winner']}**"
                  + (f"; on the 70 test rows: accuracy **{fmt(a['test']['accuracy'])}**, macro-F1 "
                     f"{fmt(a['test']['f1_macro'])}" if "test" in a else "") + ".", "",
                  "| candidate | status | CV accuracy | CV macro-F1 | epochs / weight | time | note |",
                  "|---|---|---|---|---|---|---|"]
        for row in t["rows"]:
            m, s = row.get("mean", {}), row.get("std", {})
            extra = (f"{row['epochs']} ({row.get('fold_epochs')})" if "epochs" in row and "weight" not in row else "")
            if "weight" in row:
                extra = f"w={row['weight']} ({row.get('fold_weights')})"
            lines.append(f"| {row['candidate']} | {row['status']} | "
                         f"{fmt(m.get('accuracy'))}{' ± ' + fmt(s.get('accuracy')) if s else ''} | "
                         f"{fmt(m.get('f1_macro'))} | {extra} | {row.get('seconds', 0):.0f} s | {row.get('reason', '')} |")
        lines.append("")
    if "outer_split64" in r and "outer_all" in r:
        o, a = r["outer_split64"], r["outer_all"]
        lines += ["### The final model on all labels against the one on 64 % of them", "",
                  "Same 70 held-out test rows (the original split's test). `reviewtui train` today: fine-tune on "
                  "220 rows with early stopping on 56, averaged with the quick model. `--auto`: cross-validated "
                  "on the 276 others, winner trained on all 276.", "",
                  "| model | labels it learned from | test accuracy | test macro-F1 |", "|---|---|---|---|",
                  f"| `reviewtui train` (fine-tune + quick model; the fine-tune alone: {fmt(o.get('finetuned_only'))}) "
                  f"| 220 (64 %) | {fmt(o['test']['accuracy'])} | {fmt(o['test']['f1_macro'])} |",
                  f"| `train --auto` ({a['winner']}) | 276 (80 %) | {fmt(a['test']['accuracy'])} | "
                  f"{fmt(a['test']['f1_macro'])} |", ""]
    if "mpnet_fold" in r:
        m = r["mpnet_fold"]
        per = [e["seconds"] for e in m["epochs"]]
        lines += ["### MPNet fine-tune, one fit", "",
                  f"{m['rows']} training rows, {len(per)} epochs: {', '.join(f'{s:.0f} s' for s in per)} per epoch "
                  f"(whole fit {m['seconds']:.0f} s); best validation epoch {m['best_epoch']}; test accuracy "
                  f"{fmt(m['test']['accuracy'])}, macro-F1 {fmt(m['test']['f1_macro'])}.", ""]
    for note in r.get("notes", []):
        lines += [note, ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


PARTS = ("heads", "finetune-cv", "auto", "split64", "outer", "mpnet-fold")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--budget", default="30m", help="the --auto budget (default 30m)")
    ap.add_argument("--encoders-json", type=Path, default=WORK / "results.json",
                    help="the raw results of these parts (kept between runs; default bench/.work/enc/results.json)")
    ap.add_argument("--encoders", default="minilm,mpnet", help="the encoders finetune-cv compares")
    ap.add_argument("--machine-note", default="", help="what the figures should say about the machine's load")
    ap.add_argument("--finetune-epochs", type=int, help="most epochs per fold in finetune-cv (default: [auto]'s)")


def run_parts(parts: set[str], args: argparse.Namespace, folds: int, write: bool = True) -> dict:
    """The encoder parts in ``parts`` on ``args.data``; writes their section of docs/BENCHMARKS.md
    after each (unless not ``write``). Returns the results."""
    import pandas as pd
    import torch

    from reviewtui.modeling.data import prepare_frame, split_frame
    from reviewtui.modeling.loading import set_torch_threads
    from reviewtui.modeling.selection import parse_budget

    # one torch thread: with both cores shared with other heavy work, two threads ran 2-3x slower
    set_torch_threads(int(os.environ.get("REVIEWTUI_TORCH_THREADS", "1")))
    df = prepare_frame(pd.read_csv(args.data), LABELS)
    split = split_frame(df)
    WORK.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.encoders_json.read_text()) if args.encoders_json.exists() else {}
    results.update({"when": time.strftime("%Y-%m-%d"), "folds": folds, "gpu": torch.cuda.is_available(),
                    "machine_note": args.machine_note or results.get("machine_note", "")})
    budget = parse_budget(args.budget)

    def checkpoint() -> None:
        args.encoders_json.parent.mkdir(parents=True, exist_ok=True)
        args.encoders_json.write_text(json.dumps(results, indent=2, default=str))
        if write:
            write_section(section(results), START, END)

    if "heads" in parts:
        heads(df, split, results, folds)
        checkpoint()
    if "finetune-cv" in parts:
        finetune_cv(df, split, results, folds, tuple(e for e in args.encoders.split(",") if e), args.finetune_epochs)
        checkpoint()
    if "auto" in parts:
        auto(df, budget, results, folds=folds)
        checkpoint()
    if "outer" in parts or "split64" in parts:
        split64(df, split, results)
        checkpoint()
    if "outer" in parts:
        outer(df, split, budget, results, folds)
        checkpoint()
    if "mpnet-fold" in parts:
        mpnet_fold(split, results)
        checkpoint()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATASET11)
    ap.add_argument("--parts", default="heads,finetune-cv,auto,outer", help=f"comma-separated: {', '.join(PARTS)}")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    add_arguments(ap)
    args = ap.parse_args(argv)
    results = run_parts(set(args.parts.split(",")), args, args.folds, write=not args.no_write)
    print(section(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
