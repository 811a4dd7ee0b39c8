"""Deterministic workspaces for the app's pilot and snapshot tests (helpers, not tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reviewtui.store import LabelRow, NewAsset
from reviewtui.workspace import Workspace

FROZEN = "2026-01-15T09:30:00+00:00"

TEXTS = {
    "SUBSCRIPTION": ["the premium price doubled and i was charged twice", "cancel the subscription is impossible",
                     "paywall after three articles, not worth the membership", "refund please, billed again"],
    "CONTENT": ["great articles about science every morning", "the writers are thoughtful and the topics fresh",
                "too much politics in the daily stories lately", "love the long reads on history"],
    "INTERFACE": ["the new layout hides the bookmark button", "dark mode resets every time i open it",
                  "font is tiny on my tablet and the menu overlaps", "crashes when i scroll the home screen"],
    "USER_EXPERIENCE": ["easy to use and smooth, i enjoy it daily", "simple and intuitive, five stars",
                        "helpful app, my evening routine", "smooth reading experience overall"],
}
VERSIONS = ["4.4.0", "4.4.1", "4.5.0"]


def reviews() -> list[NewAsset]:
    """40 reviews: ten rounds over the four categories, with stars, app version and date."""
    out = []
    cats = list(TEXTS)
    for i in range(40):
        cat = cats[i % 4]
        text = TEXTS[cat][(i // 4) % 4] + ("" if i < 16 else f" (review {i})")
        score = {"SUBSCRIPTION": 1, "CONTENT": 4, "INTERFACE": 2, "USER_EXPERIENCE": 5}[cat]
        out.append(NewAsset(f"r{i:02d}", text, {"score": score, "app_version": VERSIONS[i % 3],
                                                "at": f"2025-0{1 + i % 9}-1{i % 10} 10:00:00"}))
    return out


def oracle() -> dict[str, str]:
    cats = list(TEXTS)
    return {f"r{i:02d}": cats[i % 4] for i in range(40)}


def freeze_versions(ws: Workspace) -> None:
    """Fix the creation time in every manifest so screens that show it are deterministic."""
    for manifest in ws.versions_dir.glob("dataset-*.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["created"] = FROZEN
        manifest.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def build_workspace(root: Path, *, versions: bool = True) -> Workspace:
    """A workspace with 40 reviews; with ``versions``: dataset-1 (12 labels) and dataset-2
    (2 relabeled, 4 more labels, 2 reviewed), creation times frozen."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    ws = Workspace.init(root, name="fixture")
    ws.store.add_assets(reviews(), source="fixture.csv", sha256="0" * 64, rows_read=40)
    if not versions:
        return ws
    truth = oracle()
    first = [f"r{i:02d}" for i in range(12)]
    ws.store.add_labels([LabelRow(e, truth[e], "fixture", "import", at=FROZEN) for e in first])
    ws.export()
    ws.store.add_labels([LabelRow("r00", "CONTENT", "fixture", "human", at=FROZEN),
                         LabelRow("r05", "INTERFACE", "fixture", "human", at=FROZEN)] +
                        [LabelRow(f"r{i:02d}", truth[f"r{i:02d}"], "fixture", "import", at=FROZEN)
                         for i in range(12, 16)])
    ws.store.set_status(["r02", "r03"], "REVIEWED", author="fixture", at=FROZEN)
    ws.export()
    freeze_versions(ws)
    return ws


STAR_CONFLICTS = [("q1", "terrible, it crashes all the time and I hate it", 5, "INTERFACE"),
                  ("q2", "I love it, wonderful and great app", 1, None)]
#: Two more people label r01-r08 (history only: the effective labels stay the fixture's), a minute apart.
ANN = {"r01": "CONTENT", "r02": "INTERFACE", "r03": "USER_EXPERIENCE", "r04": "SUBSCRIPTION", "r06": "INTERFACE",
       "r07": "USER_EXPERIENCE", "r08": "SUBSCRIPTION"}
BOB = {"r01": "CONTENT", "r02": "CONTENT", "r03": "USER_EXPERIENCE", "r04": "SUBSCRIPTION", "r06": "INTERFACE",
       "r07": "INTERFACE", "r08": "SUBSCRIPTION"}


def build_quality_workspace(root: Path) -> Workspace:
    """:func:`build_workspace` plus two reviews whose stars contradict their text (q1 labeled,
    q2 not) and the labels of ann and bob on seven reviews, which disagree on r02 and r07."""
    ws = build_workspace(root)
    ws.store.add_assets([NewAsset(e, t, {"score": s, "app_version": "4.5.0", "at": "2025-03-01 10:00:00"})
                         for e, t, s, _ in STAR_CONFLICTS])
    ws.store.add_labels([LabelRow(e, lab, "fixture", "import", at=FROZEN) for e, _, _, lab in STAR_CONFLICTS if lab])
    for who, labels, second in (("ann", ANN, 0), ("bob", BOB, 30)):
        ws.store.add_labels([LabelRow(e, lab, who, "human", current=False, at=f"2026-01-15T10:{n:02d}:{second:02d}.000+00:00")
                             for n, (e, lab) in enumerate(labels.items())])
    return ws


def write_results(ws: Workspace, per_category: dict[str, int] | None = None) -> Path:
    """A fixed results/result.csv (what predict writes) so the summary screen has numbers: ten
    reviews a category, or as many as ``per_category`` says (category -> at most that many)."""
    sentiments = {"SUBSCRIPTION": "negative", "CONTENT": "positive", "INTERFACE": "negative",
                  "USER_EXPERIENCE": "positive"}
    truth = oracle()
    path = ws.results_dir / "result.csv"
    rows = []
    kept: dict[str, int] = {}
    for a in reviews():
        cat = truth[a.external_id]
        kept[cat] = kept.get(cat, 0) + 1
        if per_category is not None and kept[cat] > per_category.get(cat, 10):
            continue
        rows.append([a.external_id, a.text, cat, "0.9", sentiments[cat], a.metadata["score"],
                     a.metadata["app_version"], "0", "fixture-model"])
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["externalId", "content", "predicted_category", "confidence", "sentiment", "score",
                    "reviewCreatedVersion", "thumbsUpCount", "model"])
        w.writerows(rows)
    return path


def write_result_record(ws: Workspace, rows: int = 40, model: str = "fixture-model") -> Path:
    """results/result.json, the record predict writes beside result.csv: ``rows`` reviews predicted
    with ``model``."""
    path = ws.results_dir / "result.json"
    path.write_text(json.dumps({"rows": rows, "model": model, "created": FROZEN}, indent=2) + "\n", encoding="utf-8")
    return path


def build_tuning_workspace(root: Path, tiny_model: Path, rows: int = 120) -> Workspace:
    """A workspace whose one version holds ``rows`` synthetic labeled reviews and whose settings
    train the tiny BERT for one or two epochs (one trial at a time on two CPUs), scored by 2-fold
    cross-validation (fewer labels than [evaluation] cv_below)."""
    from modeling_fixtures import make_frame

    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    ws = Workspace.init(root, name="tuning")
    frame = make_frame(rows)
    ws.store.add_assets([NewAsset(str(r.externalId), r.content, {}) for r in frame.itertuples()])
    ws.store.add_labels([LabelRow(str(r.externalId), r.label, "fixture", "import") for r in frame.itertuples()])
    ws.export()
    ws.config.update_section("model", {"base": str(tiny_model), "max_length": 16})
    ws.config.update_section("training", {"epochs": 2, "learning_rate": 5e-3, "batch_size": 16, "warmup_ratio": 0.0,
                                          "seed": 42})
    ws.config.update_section("tuning", {"trials": 2, "max_epochs": 2, "learning_rate": [1e-3, 1e-2],
                                        "epochs": [1, 2], "batch_size": [16], "seed": 42, "seed_search": 7,
                                        "cpus_per_trial": 2})
    ws.config.update_section("evaluation", {"folds": 2})  # below cv_below: trials and saves cross-validate
    return ws


def search_updates(reports) -> tuple[list, "TuneResult"]:
    """Run ``reports`` (``("report" | "send", TrialUpdate)`` pairs) through the search's own log,
    as a search does: the TrialUpdates it emits (each stamped with its trial's best report) and
    the TuneResult the search would return from them (its best trial by the same rule)."""
    from reviewtui.events import TrialUpdate
    from reviewtui.modeling.trial_log import SearchLog
    from reviewtui.modeling.tuning import TuneResult, collect_results

    emitted: list = []
    log = SearchLog(sink=lambda e: emitted.append(e) if isinstance(e, TrialUpdate) else None,
                    total=len({u.trial_id for _, u in reports}))
    for how, update in reports:
        (log.report if how == "report" else log.send)(update, update.config)
    return emitted, collect_results(log, TuneResult())


def scored(metrics: dict) -> dict:
    """``metrics`` with the search objective, as a trial reports them."""
    from reviewtui.modeling.metrics import SEARCH_METRIC, search_objective

    return {**metrics, SEARCH_METRIC: search_objective(metrics)}


def trial_events():
    """TrialUpdate events of a small search on one GPU (for the table and its snapshot), as the
    search's log emits them: each with its trial's best report so far."""
    from reviewtui.events import GpuStat, TrialUpdate

    gpu = (GpuStat(0, "NVIDIA H200", 87.0, 40_960.0, 143_771.0),)
    cfg = [{"model": "minilm", "learning_rate": 3e-5, "batch_size": 16, "epochs": 3},
           {"model": "minilm", "learning_rate": 8e-5, "batch_size": 32, "epochs": 2},
           {"model": "quick", "quick_C": 12.0}]
    t2_last = scored({"accuracy": 0.64, "loss": 0.95})
    events, _ = search_updates([
        ("report", TrialUpdate("t1", "RUNNING", cfg[0], 1, scored({"accuracy": 0.71, "loss": 0.82}), 12.0, gpus=gpu)),
        ("report", TrialUpdate("t2", "RUNNING", cfg[1], 1, t2_last, 11.0, gpus=gpu)),
        ("report", TrialUpdate("t3", "RUNNING", cfg[2], 1, scored({"accuracy": 0.69, "loss": 0.88}), 3.0)),
        ("send", TrialUpdate("t3", "TERMINATED", cfg[2], 1, scored({"accuracy": 0.69, "loss": 0.88}), 3.0)),
        ("report", TrialUpdate("t1", "RUNNING", cfg[0], 2, scored({"accuracy": 0.78, "loss": 0.61}), 25.0, gpus=gpu)),
        ("send", TrialUpdate("t2", "STOPPED", cfg[1], 1, t2_last, 13.0, early_stopped=True, gpus=gpu)),
    ])
    return events


def best_versus_last_reports():
    """A search where the trial with the best report (t1: 0.800 at epoch 1) has a worse last report
    (0.700 at epoch 2) than another trial's (t2: 0.750): the emitted updates and the TuneResult."""
    from reviewtui.events import TrialUpdate

    cfg = {"model": "minilm", "learning_rate": 3e-5, "batch_size": 16, "epochs": 2}
    t1_last = scored({"accuracy": 0.70, "loss": 0.90})
    t2_last = scored({"accuracy": 0.75, "loss": 0.70})
    return search_updates([
        ("report", TrialUpdate("t1", "RUNNING", cfg, 1, scored({"accuracy": 0.80, "loss": 0.60}), 10.0)),
        ("report", TrialUpdate("t1", "RUNNING", cfg, 2, t1_last, 20.0)),
        ("send", TrialUpdate("t1", "TERMINATED", cfg, 2, t1_last, 20.0)),
        ("report", TrialUpdate("t2", "RUNNING", {**cfg, "learning_rate": 8e-5}, 1, t2_last, 9.0)),
        ("send", TrialUpdate("t2", "STOPPED", {**cfg, "learning_rate": 8e-5}, 1, t2_last, 9.5, early_stopped=True)),
    ])


def stop_signal_rounds(ws: Workspace) -> None:
    """Four recorded rounds of the stop signal, the last three stable (kappa >= 0.96), saved in the
    store: the stop line says stop, the learning curves have points, Interface is the weakest."""
    from reviewtui.loop.stopping import RoundRecord, StopSignal, save_signal

    kappas = [None, 0.965, 0.97, 0.99]
    history = []
    for r, kappa in enumerate(kappas):
        per = {"SUBSCRIPTION": 0.70 + 0.05 * r, "CONTENT": 0.65 + 0.06 * r, "INTERFACE": 0.40 + 0.04 * r,
               "USER_EXPERIENCE": 0.60 + 0.08 * r}
        counts = {k: 5 + 3 * r for k in per}
        stable = r  # rounds 2-4 reach the threshold one after another
        history.append(RoundRecord(r + 1, FROZEN, 20 + 12 * r, kappa, 0.4 - 0.05 * r,
                                   sum(per.values()) / 4, per, counts, stable, stable >= 3))
    save_signal(ws.store, StopSignal([f"r{i:02d}" for i in range(16, 40)], None, history))


def discovery():
    """A fixed result of discover (what is new in 4.5) for the discover screen's snapshot: 13
    reviews against 27, too few for growth to be reliable (its caution as new_in_version sets it)."""
    from reviewtui.loop.discover import Cluster, Discovery, growth_caution

    texts = reviews()
    by_id = {a.external_id: a.text for a in texts}
    groups = [(["layout", "font", "menu", "bookmark"], ["r18", "r26", "r34", "r10"], 0.31, 0.12),
              (["price", "charged", "subscription"], ["r16", "r20", "r24"], 0.23, 0.20),
              (["articles", "writers", "topics"], ["r17", "r21", "r25", "r29", "r33"], 0.38, 0.41)]
    clusters = [Cluster(i, len(ids), words, ids, [(e, by_id[e]) for e in ids[:3]], share, before, share - before)
                for i, (words, ids, share, before) in enumerate(groups)]
    return Discovery("new in version 4.5", clusters, "kmeans", "k-means, k = 3 by silhouette (0.214)", 0.214, 13,
                     0, 27, growth_caution(13, 27, clusters))
