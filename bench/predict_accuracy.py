"""Accuracy of the one-pass ensemble against the two-encoder ensemble, on dataset-11's split and CV.

The ensemble `reviewtui train` saved until now averaged the fine-tune with a quick model on the
*packaged* MiniLM's embeddings: two encoders, two forward passes per review. The one-pass ensemble
fits the quick model on the *fine-tuned* encoder's mean-pooled last hidden layer, so one forward
pass gives both halves. This part measures both (and a few variants of the quick half) on the
original split and in 5-fold CV, with the same fine-tunes, and how int8 agrees with fp32 on the
test rows. Used by bench/bench_predict.py (``--parts accuracy``); runnable alone::

    python bench/predict_accuracy.py --folds 5 --json bench/results/predict_accuracy.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, log, ROOT  # noqa: E402

DATASET11 = DATA / "medium-reviews" / "dataset-11.csv"
LABELS = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
#: (name, quick C) of the one-pass variants measured beside the saved default (C = [active_learning] C)
VARIANTS = (("one-pass, C=1", 1.0), ("one-pass, C=0.1", 0.1))


def metrics_of(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0))}


def load_frame(path: Path = DATASET11):
    import pandas as pd

    from reviewtui.modeling.data import prepare_frame

    return prepare_frame(pd.read_csv(path), LABELS)


def splits(df, folds: int):
    """("split", train, val, test), then ("fold i", ...) for stratified k-fold CV."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from reviewtui.modeling.data import split_frame

    yield ("split", *split_frame(df))
    if folds:
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
        for i, (tr, te) in enumerate(skf.split(df, df["label"])):
            rest, test = df.iloc[tr], df.iloc[te]
            train, val = train_test_split(rest, test_size=0.2, stratify=rest["label"], random_state=42)
            yield (f"fold {i + 1}", train.reset_index(drop=True), val.reset_index(drop=True),
                   test.reset_index(drop=True))


def one_part(train, val, test, cache_dir: Path) -> dict:
    """Every way's predicted test labels for one split (one fine-tune shared by all)."""
    import numpy as np

    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.modeling.finetune import fit_transformer
    from reviewtui.modeling.forward import ClassifierHead, EmbeddingHead, EnsembleHead, QuickWeights, forward_texts
    from reviewtui.modeling.precision import prepare_model
    from reviewtui.modeling.quick import QuickModel
    from reviewtui.settings import ActiveLearningSettings, ModelSettings, TrainingSettings

    model, C = ModelSettings(), ActiveLearningSettings().C
    fit = fit_transformer(train, val, LABELS, model, TrainingSettings())
    fit_texts = list(train["content"]) + list(val["content"])
    fit_labels = list(train["label"]) + list(val["label"])
    test_texts = list(test["content"])
    L = model.max_length

    def run(m, texts, head):
        return forward_texts(m, fit.tokenizer, texts, head, max_length=L)

    hidden = int(fit.model.config.hidden_size)
    p_ft = run(fit.model, test_texts, ClassifierHead(len(LABELS)))
    cache = EmbeddingCache(cache_dir, model.base, L)
    base_quick = QuickModel(C=C).fit(cache.embed(fit_texts), fit_labels)
    p_base_quick = base_quick.proba_for(cache.embed(test_texts), LABELS)
    feats_fit = run(fit.model, fit_texts, EmbeddingHead(hidden))
    feats_test = run(fit.model, test_texts, EmbeddingHead(hidden))
    out = {"y": list(test["label"]),
           "fine-tune alone": p_ft.argmax(1).tolist(),
           "quick model alone (packaged MiniLM)": p_base_quick.argmax(1).tolist(),
           "two-encoder ensemble (saved until now)": ((p_ft + p_base_quick) / 2).argmax(1).tolist()}
    ft_quick = QuickModel(C=C).fit(feats_fit, fit_labels)
    p_one = (p_ft + ft_quick.proba_for(feats_test, LABELS)) / 2
    out[f"one-pass ensemble, C={C:g} (saved now)"] = p_one.argmax(1).tolist()
    for name, c in VARIANTS:
        q = QuickModel(C=c).fit(feats_fit, fit_labels)
        out[name] = ((p_ft + q.proba_for(feats_test, LABELS)) / 2).argmax(1).tolist()
    # the saved one-pass head, fp32 and int8, through the engine the predict path runs
    head = EnsembleHead(QuickWeights.of(ft_quick, LABELS))
    p_engine = run(fit.model, test_texts, head)
    int8 = prepare_model(__import__("copy").deepcopy(fit.model).float(), "int8", "cpu")
    p_int8 = run(int8, test_texts, head)
    out["engine matches numpy"] = float(np.mean(p_engine.argmax(1) == p_one.argmax(1)))
    out["one-pass ensemble, int8"] = p_int8.argmax(1).tolist()
    out["int8 agreement"] = float(np.mean(p_engine.argmax(1) == p_int8.argmax(1)))
    return out


def measure(folds: int = 5, work: Path | None = None) -> dict:
    import tempfile

    df = load_frame()
    work = Path(work or tempfile.mkdtemp(prefix="reviewtui-acc-"))
    parts: dict[str, dict] = {}
    started = time.perf_counter()
    for name, train, val, test in splits(df, folds):
        t0 = time.perf_counter()
        parts[name] = one_part(train, val, test, work / "cache")
        log(name, f"{time.perf_counter() - t0:.0f}s",
            {k: round(metrics_of([LABELS.index(y) for y in parts[name]["y"]], v)["accuracy"], 3)
             for k, v in parts[name].items() if isinstance(v, list) and k != "y"})
    return summarise(parts, time.perf_counter() - started)


def summarise(parts: dict[str, dict], seconds: float) -> dict:
    ways = [k for k, v in parts["split"].items() if isinstance(v, list) and k != "y"]
    table = {}
    for way in ways:
        split = metrics_of([LABELS.index(y) for y in parts["split"]["y"]], parts["split"][way])
        folds = [metrics_of([LABELS.index(y) for y in p["y"]], p[way]) for n, p in parts.items() if n != "split"]
        cv = {k: sum(f[k] for f in folds) / len(folds) for k in folds[0]} if folds else {}
        table[way] = {"split": split, "cv": cv}
    int8 = [p["int8 agreement"] for p in parts.values()]
    return {"table": table, "int8_agreement_min": min(int8), "int8_agreement_mean": sum(int8) / len(int8),
            "engine_matches_numpy": min(p["engine matches numpy"] for p in parts.values()),
            "folds": len(parts) - 1, "seconds": round(seconds, 1), "rows": {k: len(p["y"]) for k, p in parts.items()},
            "at": time.strftime("%Y-%m-%d %H:%M")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "predict_accuracy.json")
    args = ap.parse_args(argv)
    from reviewtui.modeling.loading import set_torch_threads

    set_torch_threads()
    res = measure(args.folds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res["table"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
