"""Benchmarks of label quality (reviewtui/quality); writes its section of docs/BENCHMARKS.md.

1. Injected noise: 10 % of dataset-11's labels flipped to another training category at random,
   5 seeds. Recall at k: the share of the flipped rows among the top 10 % of the ranking (k = the
   number flipped, so it is also the precision). Goal >= 75 %, and above the baseline measured in
   the same run: the lowest out-of-fold probability of the given label from the workspace's quick
   model as active learning fits it ([active_learning] C, 5 folds, one split). A few other
   settings of the suspects, and the same ranking from a model fitted on the unflipped labels (a
   ceiling for MiniLM + logistic regression on this data), are measured beside it.
2. The original project's own corrections: the suspects of dataset-9's labels; where the rows
   that dataset-10 and dataset-11 relabeled rank (median rank as a share of the list; random
   order gives 0.5), and whether the suggested label is the corrected one.
3. Speed: ``find_suspects`` on a store of 1,000 labels from the demo generator's oracle, with
   the embeddings cached. Goal < 5 s on the CPU.

Usage: python bench/bench_quality.py [--seeds 5] [--labels 1000]
The data is read from ../shared/data and never copied into the project; embeddings are cached in
a temporary folder. Only the text between ``<!-- quality:start -->`` and ``<!-- quality:end -->``
is replaced.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import DATA, log, ROOT, write_section  # noqa: E402

MEDIUM = DATA / "medium-reviews"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
RESULTS = ROOT / "bench" / "results" / "quality.json"


def version_rows(n: int) -> list[dict[str, str]]:
    with open(MEDIUM / f"dataset-{n}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- 1. injected noise ------------------------------------------------------------------------
def flip(labels: list[str], classes: list[str], share: float, seed: int) -> tuple[list[str], set[int]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(round(share * len(labels)))
    idx = rng.choice(len(labels), size=n, replace=False)
    out = list(labels)
    for i in idx:
        out[i] = str(rng.choice([c for c in classes if c != labels[i]]))
    return out, {int(i) for i in idx}


def recall_at(order: list[int], flipped: set[int]) -> float:
    return len(set(order[:len(flipped)]) & flipped) / len(flipped)


def bench_noise(cache, seeds: int, only_default: bool = False, data: tuple[list[str], list[str]] | None = None,
                quick_C: float | None = None) -> dict:
    """``data``: (texts, labels) of training categories only; dataset-11's when None."""
    import numpy as np

    from reviewtui.quality.suspects import out_of_fold_proba, rank_suspects
    from reviewtui.settings import ActiveLearningSettings, QualitySettings

    if data is None:
        rows = version_rows(11)
        texts, clean = [r["content"] for r in rows], [r["label"] for r in rows]
    else:
        texts, clean = list(data[0]), list(data[1])
    rows = texts
    classes = sorted(set(clean))
    ids = [str(i) for i in range(len(rows))]
    X = cache.embed(texts)
    default = QualitySettings()
    variants = {
        "default": default,
        "5 folds, 1 split, C 10": replace(default, folds=5, repeats=1, C=10.0),
        "10 folds, 1 split, C 2": replace(default, repeats=1),
        "10 folds, 3 splits, C 10": replace(default, C=10.0),
        "20 folds, 1 split, C 2": replace(default, folds=20, repeats=1),
        "normalized_margin": replace(default, method="normalized_margin"),
        "confidence_weighted_entropy": replace(default, method="confidence_weighted_entropy"),
    }
    if only_default:
        variants = {"default": default}
    quick_C = ActiveLearningSettings().C if quick_C is None else quick_C
    out: dict = {"rows": len(rows), "flipped": int(round(0.1 * len(rows))), "seeds": seeds,
                 "recall": {k: [] for k in variants}, "baseline": [], "ceiling": [], "flagged_recall": []}
    for seed in range(seeds):
        noisy, flipped = flip(clean, classes, 0.10, seed)
        y = np.array([classes.index(v) for v in noisy])
        for name, settings in variants.items():
            report = rank_suspects(ids, texts, noisy, X, classes, replace(settings, seed=seed))
            order = [int(s.external_id) for s in report.items]
            out["recall"][name].append(recall_at(order, flipped))
            if name == "default":
                flagged = {int(s.external_id) for s in report.items if s.flagged}
                out["flagged_recall"].append((len(flagged & flipped) / len(flipped), len(flagged)))
        proba = out_of_fold_proba(X, y, len(classes), folds=5, repeats=1, C=quick_C, seed=seed)
        out["baseline"].append(recall_at(list(np.argsort(proba[np.arange(len(y)), y], kind="stable")), flipped))
        truth = np.array([classes.index(v) for v in clean])
        proba = out_of_fold_proba(X, truth, len(classes), folds=default.folds, repeats=default.repeats,
                                  C=default.C, seed=seed)  # fitted on the unflipped labels: a ceiling
        out["ceiling"].append(recall_at(list(np.argsort(proba[np.arange(len(y)), y], kind="stable")), flipped))
        log(f"seed {seed}: default {out['recall']['default'][-1]:.3f}, baseline {out['baseline'][-1]:.3f}, "
            f"ceiling {out['ceiling'][-1]:.3f}")
    out["quick_C"] = quick_C
    out["settings"] = {"folds": default.folds, "repeats": default.repeats, "C": default.C, "method": default.method}
    return out


# --- 2. the original corrections --------------------------------------------------------------
def bench_corrections(cache) -> dict:
    from reviewtui.quality.suspects import rank_suspects
    from reviewtui.settings import QualitySettings

    v9, v10, v11 = (version_rows(n) for n in (9, 10, 11))
    labels10 = {r["externalId"]: r["label"] for r in v10}
    labels11 = {r["externalId"]: r["label"] for r in v11}
    classes = sorted({r["label"] for r in v9})
    ids = [r["externalId"] for r in v9]
    texts = [r["content"] for r in v9]
    labels = [r["label"] for r in v9]
    report = rank_suspects(ids, texts, labels, cache.embed(texts), classes, QualitySettings())
    by_id = {s.external_id: s for s in report.items}
    n = len(report.items)
    found = []
    for r in v9:
        ext, before = r["externalId"], r["label"]
        for version, later in (("dataset-10", labels10), ("dataset-11", labels11)):
            if ext in later and later[ext] != before:
                s = by_id[ext]
                found.append({"externalId": ext, "relabeled_in": version, "from": before, "to": later[ext],
                              "rank": s.rank, "share": (s.rank + 0.5) / n, "suggested": s.suggested,
                              "suggests_correction": s.suggested == later[ext], "flagged": s.flagged})
                break  # the first version that changed it
    shares = [f["share"] for f in found]
    return {"rows": n, "relabeled": found, "median_share": statistics.median(shares) if shares else None,
            "top10": sum(f["share"] <= 0.10 for f in found),
            "suggests_correction": sum(f["suggests_correction"] for f in found)}


# --- 3. speed ---------------------------------------------------------------------------------
def bench_speed(cache, tmp: Path, n: int) -> dict:
    from reviewtui.config import Taxonomy
    from reviewtui.demo import generate_demo, read_oracle
    from reviewtui.ingest import read_reviews
    from reviewtui.quality.suspects import find_suspects
    from reviewtui.settings import QualitySettings
    from reviewtui.store import LabelRow, LocalStore, NewAsset

    files = generate_demo(tmp / "demo", size=int(n * 1.6), seed=7)
    oracle = read_oracle(files.oracle_csv)
    batch = read_reviews(files.export_csv)
    keys = Taxonomy.default().training_keys
    picked = [(e, t) for e, t in zip(batch.external_ids, batch.texts) if oracle.get(e) in keys][:n]
    store = LocalStore(tmp / "speed.db", create=True)
    store.add_assets([NewAsset(e, t) for e, t in picked])
    store.add_labels([LabelRow(e, oracle[e], "oracle", "import") for e, _ in picked])
    t0 = time.perf_counter()
    cache.embed([t for _, t in picked])
    embed_s = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = find_suspects(store, cache, keys, QualitySettings())
        times.append(time.perf_counter() - t0)
    store.close()
    return {"labels": len(report.items), "embed_first_s": embed_s, "median_s": statistics.median(times),
            "max_s": max(times), "fits": report.folds * report.repeats, "suspects": len(report.suspects)}


# --- the report -------------------------------------------------------------------------------
def pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def render(r: dict) -> str:
    noise, corr, speed = r["noise"], r["corrections"], r["speed"]
    s = noise["settings"]
    mean = {k: statistics.mean(v) for k, v in noise["recall"].items()}
    sd = {k: statistics.pstdev(v) for k, v in noise["recall"].items()}
    base, ceil = statistics.mean(noise["baseline"]), statistics.mean(noise["ceiling"])
    goal = "met" if mean["default"] >= 0.75 else "not met"
    lines = [START, "## Label quality (bench/bench_quality.py)", "",
             f"Run {r['at']} on {r['machine']}; MiniLM-L6 embeddings (cached), quick models = logistic "
             f"regression; cleanlab {r['cleanlab']}.", "",
             f"### Injected noise: dataset-11, {noise['flipped']} of {noise['rows']} labels flipped, "
             f"{noise['seeds']} seeds", "",
             "Recall at k = share of the flipped rows among the top 10 % of the ranking (k = the number flipped).", "",
             "| ranking | recall at k (mean ± sd) | per seed |", "| --- | --- | --- |",
             f"| **suspects, default settings** ({s['folds']} folds × {s['repeats']} splits averaged, C {s['C']}, "
             f"cleanlab {s['method']}) | **{pct(mean['default'])}** ± {pct(sd['default'])} | "
             f"{', '.join(f'{v:.2f}' for v in noise['recall']['default'])} |",
             f"| baseline: lowest out-of-fold p(given label), the active-learning quick model (C {noise['quick_C']:g}, "
             f"5 folds, one split) | {pct(base)} ± {pct(statistics.pstdev(noise['baseline']))} | "
             f"{', '.join(f'{v:.2f}' for v in noise['baseline'])} |"]
    for k in noise["recall"]:
        if k != "default":
            lines.append(f"| suspects, {k} | {pct(mean[k])} ± {pct(sd[k])} | "
                         f"{', '.join(f'{v:.2f}' for v in noise['recall'][k])} |")
    lines.append(f"| ceiling: the default ranking's models fitted on the unflipped labels | {pct(ceil)} ± "
                 f"{pct(statistics.pstdev(noise['ceiling']))} | {', '.join(f'{v:.2f}' for v in noise['ceiling'])} |")
    fr = noise["flagged_recall"]
    lines += ["", f"Goal >= 75 %: **{goal}** ({pct(mean['default'])}); above the baseline: "
              f"{'yes' if mean['default'] > base else 'no'} (+{100 * (mean['default'] - base):.1f} points). "
              f"cleanlab's filter (prune_by_noise_rate) flags {statistics.mean(n for _, n in fr):.0f} rows a seed "
              f"and catches {pct(statistics.mean(v for v, _ in fr))} of the flipped ones.",
              f"One row is {100 / noise['flipped']:.1f} points, so settings within about 3 points of each other "
              "are a tie. The ceiling row scores the same ranking with models that never saw a flipped label: "
              f"even then MiniLM + logistic regression leaves {pct(1 - ceil)} of the flipped rows below clean "
              "rows it misreads, since dataset-11's categories overlap (Interface vs User experience) and its "
              "own labels are not all right (see below). 75 % is out of reach for this model family on this "
              "data; the gain over the baseline comes from more folds (more training data per model), a lower "
              "C and averaging differently shuffled splits. Tried while choosing the defaults and not kept: "
              "cleanlab's adjust_pred_probs, its find_label_issues order (flagged rows first), temperature "
              "scaling of the probabilities, and averaging with a TF-IDF logistic regression and a "
              "k-nearest-neighbour vote on the embeddings (all between 58 % and 68 %).", "",
              f"### The original project's corrections (suspects of dataset-9's {corr['rows']} labels)", "",
              "| row | relabeled in | from -> to | rank (share of list) | suggested | cleanlab flag |",
              "| --- | --- | --- | --- | --- | --- |"]
    for f in corr["relabeled"]:
        lines.append(f"| {f['externalId']} | {f['relabeled_in']} | {f['from']} -> {f['to']} | {f['rank'] + 1} "
                     f"({f['share']:.2f}) | {f['suggested']}{' (the correction)' if f['suggests_correction'] else ''} "
                     f"| {'yes' if f['flagged'] else 'no'} |")
    if corr["median_share"] is not None:
        lines += ["", f"Median rank share **{corr['median_share']:.2f}** against 0.50 for random order; "
                  f"{corr['top10']} of {len(corr['relabeled'])} in the top 10 %, and the suggested label is the "
                  f"correction the reviewers made for {corr['suggests_correction']} of them."]
    lines += ["", f"### Speed: {speed['labels']} labels (demo corpus oracle), embeddings cached", "",
              f"`find_suspects` (store read, {speed['fits']} quick-model fits, cleanlab): median "
              f"**{speed['median_s']:.2f} s**, slowest {speed['max_s']:.2f} s of 5 (goal < 5 s; embedding the "
              f"1,000 texts the first time took {speed['embed_first_s']:.0f} s).", END]
    return "\n".join(lines)


def encoder_noise(encoder: str, seeds: int) -> int:
    """The injected-noise part with another encoder's embeddings: the default suspects, the
    baseline and the ceiling, in the section ``quality-<encoder>`` of docs/BENCHMARKS.md."""
    from reviewtui.modeling.embeddings import EmbeddingCache

    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp_name:
        cache = EmbeddingCache(Path(tmp_name) / "cache", encoder, 128)
        t0 = time.perf_counter()
        noise = bench_noise(cache, seeds, only_default=True)
        seconds = time.perf_counter() - t0
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    rec, base, ceil = noise["recall"]["default"], noise["baseline"], noise["ceiling"]
    start, end = f"<!-- quality-{encoder}:start -->", f"<!-- quality-{encoder}:end -->"
    text = "\n".join([
        start, f"### Injected noise with {encoder} embeddings (bench/bench_quality.py --encoder {encoder})", "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} CPUs, {seconds:.0f} s "
        f"(embedding included); dataset-11, {noise['flipped']} of {noise['rows']} labels flipped, {seeds} seeds, "
        "the same rankings as above.", "",
        "| ranking | recall at k (mean ± sd) | per seed |", "| --- | --- | --- |",
        f"| suspects, default settings | **{pct(statistics.mean(rec))}** ± {pct(statistics.pstdev(rec))} | "
        + ", ".join(f"{v:.2f}" for v in rec) + " |",
        f"| baseline: lowest out-of-fold p(given label), C {noise['quick_C']:g}, 5 folds | "
        f"{pct(statistics.mean(base))} ± {pct(statistics.pstdev(base))} | " + ", ".join(f"{v:.2f}" for v in base) + " |",
        f"| ceiling: fitted on the unflipped labels | {pct(statistics.mean(ceil))} ± {pct(statistics.pstdev(ceil))} | "
        + ", ".join(f"{v:.2f}" for v in ceil) + " |", "",
        f"Goal >= 75 %: **{'met' if statistics.mean(rec) >= 0.75 else 'not met'}** ({pct(statistics.mean(rec))}).",
        end])
    write_section(text, start, end)
    print(text)
    return 0


def main(argv=None) -> int:
    from importlib.metadata import version

    from reviewtui.files import atomic_write_text
    from reviewtui.modeling.embeddings import EmbeddingCache

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--encoder", default="minilm",
                    help="another encoder (e.g. mpnet, after `reviewtui models add mpnet`): the injected-noise "
                         "part only, with the default settings, in a section of its own")
    args = ap.parse_args(argv)
    if args.encoder != "minilm":
        return encoder_noise(args.encoder, args.seeds)
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp_name:
        tmp = Path(tmp_name)
        cache = EmbeddingCache(tmp / "cache", "minilm", 128)
        log("injected noise on dataset-11")
        noise = bench_noise(cache, args.seeds)
        log("the original corrections (dataset-9 -> 10 -> 11)")
        corrections = bench_corrections(cache)
        log(f"speed with {args.labels} labels")
        speed = bench_speed(cache, tmp, args.labels)
    result = {"at": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
              "cleanlab": version("cleanlab"), "noise": noise, "corrections": corrections, "speed": speed}
    atomic_write_text(RESULTS, json.dumps(result, indent=2))
    text = render(result)
    write_section(text, START, END)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
