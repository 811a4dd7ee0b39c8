"""Benchmark the modeling package on the original project's dataset-11 (346 reviews, 4 categories).

Measures accuracy and weighted F1 on the original split (stratified test 0.2, validation 0.2 of the
rest, seed 42) and in stratified 5-fold cross-validation for:

* the quick model (MiniLM sentence embeddings + logistic regression),
* a default fine-tune (reviewtui train with the [training] defaults),
* the ensemble reviewtui uses for its best offline result (see ENSEMBLE below),
* a tuned model (reviewtui tune: Ray Tune ASHA + HyperOpt, best configuration retrained),

and the wall time of an N-trial ASHA search against the same N configurations (the ones HyperOpt
proposed in the ASHA search, replayed in the same order) each trained to its last epoch without
early stopping (FIFO), in the same run, with the same trainable, resources and data, and the best
validation accuracy of each.

Writes its section of docs/BENCHMARKS.md between <!-- models:start --> and <!-- models:end -->.

The parts of the stronger encoder, the cross-validated choice and the final fit on all labels
(bench/bench_encoders.py, its own section <!-- encoders:start -->) run from here too, on the same
data, split and folds: ``heads`` (MiniLM vs MPNet embeddings + logistic regression), ``finetune-cv``
(MiniLM vs MPNet fine-tunes, cross-validated as ``reviewtui train`` does below cv_below, and on the
split), ``auto`` (``train --auto --budget``), ``outer`` (the model ``train --split`` saves from 64 %
of the labels against ``--auto`` trained on all the 80 % outside the test split, both scored on the
same 70 test rows) and ``mpnet-fold``. MPNet needs ``reviewtui models add mpnet`` first.

    python bench/bench_models.py                 # the models section (long on CPU)
    python bench/bench_models.py --parts quick,finetune --folds 5
    python bench/bench_models.py --parts heads,finetune-cv,auto,outer --budget 30m
    python bench/bench_models.py --parts heads,auto --folds 2 --budget 3m --no-write   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, log, write_section  # noqa: E402

DATASET11 = DATA / "medium-reviews" / "dataset-11.csv"
LABELS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
START, END = "<!-- models:start -->", "<!-- models:end -->"


def metrics_of(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0))}


def folds(df, k: int):
    """(train, validation, test) frames of stratified k-fold CV; validation is 20 % of each train."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=42)
    for tr_idx, te_idx in skf.split(df, df["label"]):
        rest, test = df.iloc[tr_idx], df.iloc[te_idx]
        train, val = train_test_split(rest, test_size=0.2, stratify=rest["label"], random_state=42)
        yield train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True)


def mean(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]} if rows else {}


# --- models under test -------------------------------------------------------------------------
class Quick:
    def __init__(self, cache_dir: Path) -> None:
        from reviewtui.modeling.embeddings import EmbeddingCache
        from reviewtui.settings import ActiveLearningSettings, ModelSettings

        model = ModelSettings()
        self.C = ActiveLearningSettings().C
        self.name = f"quick model (MiniLM embeddings + logistic regression, C={self.C:g})"
        self.cache = EmbeddingCache(cache_dir, model.base, model.max_length)

    def proba(self, train, val, test):
        import numpy as np

        from reviewtui.modeling.quick import QuickModel

        fit = train if val is None else __import__("pandas").concat([train, val])
        model = QuickModel(C=self.C).fit(self.cache.embed(list(fit["content"])), list(fit["label"]))
        return model.proba_for(self.cache.embed(list(test["content"])), LABELS).astype(np.float64)


class FineTune:
    def __init__(self, training, name: str, seeds: tuple[int, ...] = ()) -> None:
        self.training, self.name = training, name  # a TrainingSettings
        self.seeds = seeds or (training.seed,)
        self._memo: dict = {}  # the ensemble reuses the fine-tunes of the same split/fold

    def proba(self, train, val, test):
        from dataclasses import replace

        from reviewtui.modeling.batching import predict_logits
        from reviewtui.modeling.finetune import fit_transformer
        from reviewtui.modeling.metrics import softmax
        from reviewtui.settings import ModelSettings

        model = ModelSettings()
        total = 0
        for seed in self.seeds:
            key = (seed, tuple(train["content"]), tuple(test["content"]))
            if key not in self._memo:
                fit = fit_transformer(train, val, LABELS, model, replace(self.training, seed=seed))
                self._memo[key] = softmax(predict_logits(fit.model, fit.tokenizer, list(test["content"]),
                                                         max_length=model.max_length))
                self.seconds = fit.seconds
            total = total + self._memo[key].astype("float64")
        return total / len(self.seeds)


class Ensemble:
    """Average of the fine-tuned model's and the quick model's probabilities."""

    def __init__(self, finetune: FineTune, quick: Quick) -> None:
        self.finetune, self.quick = finetune, quick
        self.name = f"ensemble: mean of ({finetune.name}) and the quick model"

    def proba(self, train, val, test):
        return (self.finetune.proba(train, val, test) + self.quick.proba(train, val, test)) / 2


def evaluate(model, df, split, k: int) -> dict:
    """Split and k-fold metrics (and seconds) of ``model``."""
    out: dict = {"name": model.name}
    train, val, test = split
    started = time.perf_counter()
    p = model.proba(train, val, test)
    out["split_seconds"] = time.perf_counter() - started
    out["split"] = metrics_of(list(test["label"]), [LABELS[i] for i in p.argmax(1)])
    log(model.name, "split", out["split"], f"{out['split_seconds']:.0f}s")
    if k:
        rows = []
        for i, (tr, va, te) in enumerate(folds(df, k)):
            p = model.proba(tr, va, te)
            rows.append(metrics_of(list(te["label"]), [LABELS[j] for j in p.argmax(1)]))
            log(model.name, f"fold {i + 1}/{k}", rows[-1])
        out["cv"] = mean(rows)
        out["cv_folds"] = rows
    return out


class WorkerPeak:
    """The largest RSS of any Ray trial worker (ray::ImplicitFunc) while the block runs, in MiB."""

    def __init__(self, every: float = 1.0) -> None:
        import threading

        self.every, self.peak_mib, self._stop = every, 0.0, threading.Event()

    def _watch(self) -> None:
        import psutil

        while not self._stop.is_set():
            for proc in psutil.process_iter(["cmdline"]):
                try:
                    if "ImplicitFunc" in " ".join(proc.info["cmdline"] or []):
                        self.peak_mib = max(self.peak_mib, proc.memory_info().rss / 2**20)
                except psutil.Error:
                    continue
            self._stop.wait(self.every)

    def __enter__(self):
        import threading

        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()


def tuned(df, trials: int, work: Path, scheduler: str = "asha", retrain: bool = True, tuning: dict | None = None,
          configs: list[dict] | None = None):
    """One tune_models search; ``configs`` replays those configurations (another search's) instead
    of HyperOpt's proposals."""
    from reviewtui.modeling.tuning import tune_models
    from reviewtui.settings import (ActiveLearningSettings, ModelSettings, TrainingSettings, TuningSettings,
                                    with_overrides)

    peak = WorkerPeak()
    started = time.perf_counter()
    with peak:
        result = tune_models(df, models_dir=work / f"models-{scheduler}", label_keys=LABELS, cache_dir=work / "cache",
                             model=ModelSettings(), training=TrainingSettings(),
                             tuning=with_overrides(TuningSettings(), tuning, "bench [tuning]"),
                             quick_C=ActiveLearningSettings().C, trials=trials, scheduler=scheduler,
                             retrain=retrain, dataset_version="dataset-11", name=f"tuned-{scheduler}",
                             configs=configs)
    wall = time.perf_counter() - started
    out = {"scheduler": scheduler, "trials": len(result.trials), "search_seconds": result.search_seconds,
           "wall_seconds": wall, "best_validation": result.best_metrics, "best_config": result.best_config,
           "counts": result.counts, "early_stopped": result.early_stopped,
           "epochs_run": sum(t.iteration for t in result.trials), "replayed": configs is not None,
           "configs": result.configs, "worker_peak_rss_mib": peak.peak_mib,
           "best_index": next((i for i, t in enumerate(result.trials) if t.trial_id == result.best_trial_id), None),
           "per_trial": [{"status": t.status, "epochs": t.iteration, "planned": int(c.get("epochs", 0) or 0),
                          "last_accuracy": t.metrics.get("accuracy"), "seconds": round(t.elapsed, 1)}
                         for t, c in zip(result.trials, result.configs)]}
    if result.card is not None:
        out["test"] = {k: result.card.metrics[k] for k in ("accuracy", "f1_weighted")}
        alone = result.card.extra.get("finetuned_only_metrics")
        if alone:  # the retrained model is an ensemble with the quick model; keep the fine-tune alone too
            out["test_finetuned_only"] = {k: alone[k] for k in ("accuracy", "f1_weighted")}
    log("tune", scheduler, json.dumps({k: v for k, v in out.items() if k not in ("best_config", "configs", "per_trial")}))
    return out


# --- report ------------------------------------------------------------------------------------
def fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "–"


def gib(mib) -> str:
    return f"{mib / 1024:.1f} GiB RSS" if mib else "–"


def section(results: dict) -> str:
    import torch

    lines = [START, "## Models (bench/bench_models.py)", ""]
    lines.append(f"Data: dataset-11 of the original project (346 rows, 4 categories); split 220 train / 56 "
                 f"validation / 70 test (stratified, seed 42); {results.get('folds', 0)}-fold stratified CV "
                 f"(validation = 20 % of each fold's train). Measured {results['when']} on "
                 f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared), torch threads "
                 f"{torch.get_num_threads()}, {'GPU' if torch.cuda.is_available() else 'no GPU'}, offline.")
    lines += ["", "| model | split accuracy | split weighted F1 | CV accuracy | CV weighted F1 | split time |",
              "|---|---|---|---|---|---|"]
    for row in results.get("models", []):
        cv = row.get("cv", {})
        lines.append(f"| {row['name']} | {fmt(row['split']['accuracy'])} | {fmt(row['split']['f1_weighted'])} | "
                     f"{fmt(cv.get('accuracy'))} | {fmt(cv.get('f1_weighted'))} | {row['split_seconds']:.0f} s |")
    if "tuned" in results:
        t = results["tuned"]
        alone = t.get("test_finetuned_only")
        lines += ["", f"Tuned ({t['trials']} trials, ASHA + HyperOpt, best retrained): test accuracy "
                      f"{fmt(t.get('test', {}).get('accuracy'))}, weighted F1 {fmt(t.get('test', {}).get('f1_weighted'))}"
                      + (f" (ensemble with the quick model; the tuned fine-tune alone: accuracy "
                         f"{fmt(alone['accuracy'])}, weighted F1 {fmt(alone['f1_weighted'])})" if alone else "") + "; "
                      f"best configuration {json.dumps(t['best_config'])}; search {t['search_seconds']:.0f} s, "
                      f"total {t['wall_seconds']:.0f} s."]
    if "asha" in results and "fifo" in results:
        a, f = results["asha"], results["fifo"]
        ratio = a["search_seconds"] / f["search_seconds"] if f["search_seconds"] else float("nan")
        diff = (a["best_validation"].get("accuracy", 0) - f["best_validation"].get("accuracy", 0)) * 100
        if f.get("replayed"):
            st = a.get("settings", {})
            lines += ["", f"Search cost, same run: a {a['trials']}-trial ASHA search (HyperOpt proposals; ASHA "
                          f"reduction factor {st.get('reduction_factor')}, grace period {st.get('grace_period')} "
                          f"epoch, max_t {st.get('max_epochs')} epochs; epochs {json.dumps(st.get('epochs'))}), then "
                          f"the same {f['trials']} configurations replayed in the same order, each trained to its last "
                          "epoch (FIFO, no early stopping); same trainable, resources and data:", ""]
        else:
            lines += ["", f"Search cost, {a['trials']} trials each, same search space and HyperOpt seed, same run:", ""]
        lines += [
                  "| scheduler | search wall time | epochs run | trials stopped early | best validation accuracy "
                  "| largest trial worker |",
                  "|---|---|---|---|---|---|",
                  f"| ASHA | {a['search_seconds']:.0f} s | {a['epochs_run']} | {a['early_stopped']} | "
                  f"{fmt(a['best_validation'].get('accuracy'))} | {gib(a.get('worker_peak_rss_mib'))} |",
                  f"| none (FIFO, every trial to its last epoch) | {f['search_seconds']:.0f} s | {f['epochs_run']} | 0 | "
                  f"{fmt(f['best_validation'].get('accuracy'))} | {gib(f.get('worker_peak_rss_mib'))} |",
                  "", f"ASHA / full = **{ratio:.2f}×** wall time; best validation accuracy differs by {diff:+.1f} points."]
        if f.get("replayed"):
            fi, ai = f.get("best_index"), a.get("best_index")
            if fi is not None and fi != ai and fi < len(a.get("per_trial", [])):
                row = a["per_trial"][fi]
                lines += ["", f"The full search's best is trial {fi + 1} ({row['planned']} epochs planned), which "
                              f"ASHA ran for {row['epochs']} epoch(s); ASHA's best is trial "
                              f"{(ai or 0) + 1}."]
            met = ratio <= 0.5 and diff >= -1.0
            lines += ["", f"Goal (≤ 0.5× the wall time, best validation accuracy within 1 point): "
                          f"**{'met' if met else 'not met'}**."]
    for note in results.get("notes", []):
        lines += ["", note]
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATASET11)
    ap.add_argument("--parts", default="quick,finetune,ensemble,tuned,asha",
                    help="comma-separated: quick, finetune, ensemble, tuned, asha; and the encoder parts: "
                         "heads, finetune-cv, auto, split64, outer, mpnet-fold")
    ap.add_argument("--folds", type=int, default=5, help="CV folds (0: the split only)")
    ap.add_argument("--cv-parts", default="quick,finetune,ensemble", help="parts that also run CV")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--min-epochs", type=int, help="search epochs in [min, max] (default: [tuning] epochs)")
    ap.add_argument("--max-epochs", type=int, help="ASHA's max_t and the most epochs (default: [tuning] max_epochs)")
    ap.add_argument("--reduction-factor", type=int, help="ASHA's (default: [tuning] reduction_factor)")
    ap.add_argument("--grace-period", type=int, help="ASHA's, in epochs (default: [tuning] grace_period)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--no-write", action="store_true", help="print the section instead of writing BENCHMARKS.md")
    ap.add_argument("--merge", action="store_true", help="start from the results in --json and redo only --parts")
    from bench import bench_encoders

    bench_encoders.add_arguments(ap)
    args = ap.parse_args(argv)

    import pandas as pd

    from reviewtui.modeling.data import prepare_frame, split_frame
    from reviewtui.settings import TrainingSettings, TuningSettings, to_toml_dict, with_overrides

    parts = set(args.parts.split(","))
    encoder_parts = parts & set(bench_encoders.PARTS)
    if encoder_parts:
        enc = bench_encoders.run_parts(encoder_parts, args, args.folds or 5, write=not args.no_write)
        if args.no_write:
            print(bench_encoders.section(enc))
        parts -= encoder_parts
        if not parts:
            return 0
    cv_parts = set(args.cv_parts.split(","))
    df = prepare_frame(pd.read_csv(args.data), LABELS)
    split = split_frame(df)
    work = Path(tempfile.mkdtemp(prefix="reviewtui-bench-"))
    results: dict = {"when": time.strftime("%Y-%m-%d"), "folds": args.folds, "models": [], "notes": []}
    if args.merge and args.json and args.json.exists():  # keep the parts measured by an earlier run
        results = json.loads(args.json.read_text())
        results["notes"] = [n for n in results.get("notes", []) if not n.startswith("Whole benchmark")
                            and not ("asha" in parts and n.startswith("ASHA vs full search"))]  # stale once rerun
        names = {"quick": "quick model", "finetune": "MiniLM fine-tune", "ensemble": "ensemble"}
        rerun = [names[p] for p in parts if p in names]
        results["models"] = [m for m in results.get("models", []) if not any(m["name"].startswith(r) for r in rerun)]
    quick = Quick(work / "cache")
    defaults = TrainingSettings()
    default = FineTune(defaults, f"MiniLM fine-tune, [training] defaults ({defaults.epochs} epochs, "
                                 f"lr {defaults.learning_rate:g}, patience {defaults.early_stopping_patience})")
    bench_started = time.perf_counter()

    def checkpoint() -> None:
        """Write what is measured so far, so a long run that is stopped still leaves its figures."""
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
        if not args.no_write:
            write_section(section(results), START, END)

    if "quick" in parts:
        results["models"].append(evaluate(quick, df, split, args.folds if "quick" in cv_parts else 0))
        checkpoint()
    if "finetune" in parts:
        results["models"].append(evaluate(default, df, split, args.folds if "finetune" in cv_parts else 0))
        checkpoint()
    if "ensemble" in parts:
        row = evaluate(Ensemble(default, quick), df, split, args.folds if "ensemble" in cv_parts else 0)
        if "finetune" in parts:  # the fine-tune was memoised: count its time once more here
            row["split_seconds"] += results["models"][-1]["split_seconds"]
        results["models"].append(row)
        checkpoint()
    space: dict = {}
    if args.max_epochs:
        space["max_epochs"] = args.max_epochs
        space["epochs"] = [args.min_epochs, args.max_epochs] if args.min_epochs else [args.max_epochs]
    if args.reduction_factor:
        space["reduction_factor"] = args.reduction_factor
    if args.grace_period:
        space["grace_period"] = args.grace_period
    if "tuned" in parts and "asha" not in parts:
        results["tuned"] = tuned(df, args.trials, work, tuning=space)
    if "asha" in parts:
        # the ASHA search doubles as the tuned model: its best configuration is retrained and tested
        results["asha"] = tuned(df, args.trials, work, "asha", retrain="tuned" in parts, tuning=space)
        eff = to_toml_dict(with_overrides(TuningSettings(), space, "bench [tuning]"))
        results["asha"]["settings"] = {k: eff[k] for k in ("reduction_factor", "grace_period", "max_epochs", "epochs")}
        if "tuned" in parts:
            results["tuned"] = results["asha"]
        checkpoint()
        # the full search: the very configurations ASHA's HyperOpt proposed, in the same order, no early stopping
        results["fifo"] = tuned(df, args.trials, work, "fifo", retrain=False, tuning=space,
                                configs=results["asha"]["configs"])
    results["notes"].append(f"Whole benchmark{' (this part)' if args.merge else ''}: "
                            f"{time.perf_counter() - bench_started:.0f} s.")
    text = section(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if args.no_write:
        print(text)
    else:
        write_section(text, START, END)
        log("wrote the models section of docs/BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
