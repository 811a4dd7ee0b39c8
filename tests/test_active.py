"""Active learning: strategies on constructed probabilities, the queue, oracle files, simulation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from reviewtui.active import (DIVERSITY_POOL, STRATEGIES, check_strategy, fit_quick, read_oracle,
                              representative_batch, select_batch, simulate_arrays, skip_near_duplicates,
                              uncertainty, weighted_kmeans_picks)
from reviewtui.errors import ReviewtuiError
from reviewtui.settings import ActiveLearningSettings
from tests.kili_server import kili_server  # noqa: F401  (fixture)

# rows: 0 confident, 1 two-way tie, 2 flat over three, 3 fairly confident, 4 top low but clear 2nd gap
P = np.array([
    [0.97, 0.01, 0.01, 0.01],
    [0.45, 0.45, 0.05, 0.05],
    [0.34, 0.33, 0.33, 0.00],
    [0.80, 0.10, 0.05, 0.05],
    [0.40, 0.20, 0.20, 0.20],
])


def test_uncertainty_scores_by_hand():
    np.testing.assert_allclose(uncertainty(P, "least_confidence"), [0.03, 0.55, 0.66, 0.20, 0.60])
    np.testing.assert_allclose(uncertainty(P, "margin"), [1 - 0.96, 1.0, 1 - 0.01, 1 - 0.70, 1 - 0.20])
    ent = -(P * np.log(np.clip(P, 1e-12, 1))).sum(axis=1)
    np.testing.assert_allclose(uncertainty(P, "entropy"), ent)
    assert np.all(uncertainty(P, "random") == 0)


def test_each_strategy_picks_what_it_should():
    # least confidence: lowest top probability first -> 2 (0.34), then 4 (0.40), then 1 (0.45)
    assert list(select_batch("least_confidence", P, 3)) == [2, 4, 1]
    # margin: smallest gap between the top two -> 1 (0.00), then 2 (0.01), then 4 (0.20)
    assert list(select_batch("margin", P, 3)) == [1, 2, 4]
    # entropy: the flattest over all classes -> 4 (four-way spread) before 2, before 1
    assert list(select_batch("entropy", P, 3)) == [4, 2, 1]
    # the confident row is never in any uncertainty batch of 4
    for s in ("least_confidence", "margin", "entropy"):
        assert 0 not in select_batch(s, P, 4)


def test_random_is_seeded_and_without_repeats():
    a = select_batch("random", P, 4, seed=3)
    assert len(set(a.tolist())) == 4
    assert a.tolist() == select_batch("random", P, 4, seed=3).tolist()
    assert sorted(select_batch("random", P, 10).tolist()) == [0, 1, 2, 3, 4]  # size capped at N
    assert sorted(select_batch("random", None, 3, n=3).tolist()) == [0, 1, 2]  # no model, no embeddings


def _margin_proba(gaps):
    gaps = np.asarray(gaps, dtype=float)
    return np.stack([(1 + gaps) / 2, (1 - gaps) / 2], axis=1)


def test_uncertainty_batches_skip_near_duplicates():
    rng = np.random.default_rng(0)
    # rows 0-7: rewordings of one review (cosine > 0.99), the most uncertain; rows 8-37: distinct reviews
    A = np.eye(16)[0] + rng.normal(0, 0.01, (8, 16))
    B = rng.normal(0, 1.0, (30, 16))
    emb = np.vstack([A, B]).astype(np.float32)
    proba = _margin_proba(np.concatenate([np.linspace(0.00, 0.05, 8), np.linspace(0.10, 0.40, 30)]))
    for s in ("least_confidence", "margin", "entropy"):
        assert select_batch(s, proba, 4).tolist() == [0, 1, 2, 3]  # without embeddings: plain ranking
        picked = select_batch(s, proba, 4, embeddings=emb)
        assert picked.tolist() == [0, 8, 9, 10]  # one of the rewordings, then the next distinct ones
        assert picked.tolist() == select_batch(s, proba, 4, embeddings=emb).tolist()  # deterministic
    # when the batch cannot be filled otherwise, the skipped near-duplicates fill it in order
    assert select_batch("margin", proba[:8], 3, embeddings=emb[:8]).tolist() == [0, 1, 2]
    assert skip_near_duplicates([0, 1, 8, 2], emb, 3).tolist() == [0, 8, 1]
    assert skip_near_duplicates([0, 1, 8, 2], emb, 3, threshold=1.0).tolist() == [0, 1, 8]
    assert skip_near_duplicates([], emb, 3).tolist() == []
    # random stays a uniform sample: no filtering
    assert len(select_batch("random", proba, 8, embeddings=emb, seed=1)) == 8


def test_diversity_spreads_a_batch_over_clusters():
    rng = np.random.default_rng(0)
    # cluster A (rows 0-3) is the most uncertain, cluster B (rows 4-33) a little less so; rows within a
    # cluster are similar but no near-duplicates, so margin alone takes its whole batch from A
    A = np.eye(16)[0] * 3 + rng.normal(0, 1.0, (4, 16))
    B = np.eye(16)[1] * 3 + rng.normal(0, 1.0, (30, 16))
    emb = np.vstack([A, B]).astype(np.float32)
    proba = _margin_proba(np.concatenate([np.linspace(0.00, 0.05, 4), np.linspace(0.10, 0.15, 30)]))
    margin = select_batch("margin", proba, 2, embeddings=emb)
    assert margin.tolist() == [0, 1]
    div = select_batch("diversity", proba, 2, embeddings=emb, seed=0)
    assert int(div[0]) < 4 <= int(div[1])  # one from each cluster, the more uncertain first
    pool = set(np.argsort(-uncertainty(proba, "diversity"), kind="stable")[:2 * DIVERSITY_POOL].tolist())
    assert set(div.tolist()) <= pool  # only from the most uncertain DIVERSITY_POOL x size
    assert div.tolist() == select_batch("diversity", proba, 2, embeddings=emb, seed=0).tolist()
    with pytest.raises(ReviewtuiError, match="embeddings"):
        select_batch("diversity", proba, 2)


def test_weakest_spreads_its_batch_over_the_categorys_boundary():
    """The reviews nearest the weakest category's boundary in one tight group (one complaint in
    many words) and a second group a little farther: with the embeddings the batch takes from both,
    without them it ranks by the boundary alone."""
    rng = np.random.default_rng(0)
    A = np.eye(16)[0] * 3 + rng.normal(0, 1.0, (4, 16))
    B = np.eye(16)[1] * 3 + rng.normal(0, 1.0, (30, 16))
    emb = np.vstack([A, B]).astype(np.float32)
    p0 = np.concatenate([np.linspace(0.50, 0.48, 4), np.linspace(0.40, 0.35, 30)])  # column 0 is the target
    proba = np.column_stack([p0, 1.0 - p0])
    assert select_batch("weakest", proba, 2, target=0).tolist() == [0, 1]
    spread = select_batch("weakest", proba, 2, embeddings=emb, target=0, seed=0)
    assert int(spread[0]) < 4 <= int(spread[1])  # one from each group, the nearer the boundary first


def test_weighted_kmeans_picks_follow_the_weights():
    # one cluster over two groups: the centre (and so the pick) moves to the heavier group
    X = np.array([[1.0, 0.0], [0.98, 0.2], [0.0, 1.0], [0.2, 0.98]], dtype=np.float32)
    assert weighted_kmeans_picks(X, np.array([10.0, 10.0, 0.1, 0.1]), 1) in ([0], [1])
    assert weighted_kmeans_picks(X, np.array([0.1, 0.1, 10.0, 10.0]), 1) in ([2], [3])
    assert sorted(weighted_kmeans_picks(X, np.ones(4), 2)) in ([0, 2], [0, 3], [1, 2], [1, 3])


def test_cold_start_uses_coverage():
    emb = np.vstack([np.full((20, 2), c) + np.random.default_rng(int(c)).normal(0, 0.01, (20, 2))
                     for c in (0.0, 5.0, 10.0)]).astype(np.float32)
    picked = representative_batch(emb, 3, seed=0)
    assert sorted({int(i) // 20 for i in picked}) == [0, 1, 2]
    assert len(select_batch("margin", None, 3, embeddings=emb)) == 3


def test_strategy_names():
    assert check_strategy("LC") == "least_confidence"
    assert check_strategy("Margin") == "margin"
    with pytest.raises(ReviewtuiError, match="unknown strategy 'best'.*random"):
        check_strategy("best")
    assert len(STRATEGIES) == 6
    assert check_strategy("weakest-category") == "weakest"


def test_fit_quick_is_the_quick_models_objective():
    from reviewtui.modeling.quick import QuickModel

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 8)).astype(np.float32)
    y = np.array(["A", "B", "C"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    C = ActiveLearningSettings().C
    ours, ref = fit_quick(X, list(y)), QuickModel(C=C).fit(X, list(y))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    two = fit_quick(X, list(np.where(X[:, 0] > 0, "A", "B")), C)
    assert two.coef_.shape == (2, 8) and two.predict(X[:3]) == QuickModel(C=C).fit(
        X, list(np.where(X[:, 0] > 0, "A", "B"))).predict(X[:3])
    assert fit_quick(X, ["A"] * 120) is None


# --- simulation on injected embeddings --------------------------------------------------------
def blobs(n_per: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    keys = ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
    centres = np.eye(4, 16) * 3
    X = np.vstack([centres[k] + rng.normal(0, 1.0, (n_per, 16)) for k in range(4)])
    y = [keys[k] for k in range(4) for _ in range(n_per)]
    X = np.vstack([X, rng.normal(0, 1.0, (10, 16))])  # OTHER rows cost a label but are not trained on
    y += ["OTHER"] * 10
    return X.astype(np.float32), y, keys


def test_simulate_arrays_learns_and_is_reproducible():
    X, y, keys = blobs()
    res = simulate_arrays(X, y, keys, strategies=["random", "margin", "diversity"], batch=10, rounds=4, seeds=2)
    assert res.test_size == 48 and res.pool_size == len(y) - 48
    assert len(res.points) == 3 * 2 * 5
    curves = res.mean_curves()
    for s, rows in curves.items():
        assert [r[0] for r in rows] == [10, 20, 30, 40, 50]
        assert rows[-1][3] > rows[0][3] - 0.05  # more labels do not make it worse
        assert rows[-1][3] > 0.8
    assert res.full_pool["macro_f1"] > 0.9
    reach = res.labels_to_reach(0.95)
    assert set(reach) == {"random", "margin", "diversity"}
    assert all(v is None or 10 <= v <= 50 for v in reach.values())
    # every strategy of a seed starts from the same random labels
    first = {(p.strategy, p.seed): p.macro_f1 for p in res.points if p.round == 0}
    assert first[("random", 0)] == first[("margin", 0)] == first[("diversity", 0)]
    again = simulate_arrays(X, y, keys, strategies=["random", "margin", "diversity"], batch=10, rounds=4, seeds=2)
    assert [p.macro_f1 for p in again.points] == [p.macro_f1 for p in res.points]


def test_simulate_refuses_too_little_data():
    X, y, keys = blobs(2)
    with pytest.raises(ReviewtuiError, match="at least 10 oracle labels"):
        simulate_arrays(X, y, keys)


# --- oracle files -----------------------------------------------------------------------------
def write_oracle(path: Path, rows: list[tuple[str, str]], header=("reviewId", "label")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_oracle_errors(analysis_ws, tmp_path):
    ws = analysis_ws
    good = [(k, v) for k, v in ws.truth.items()]
    o = read_oracle(write_oracle(tmp_path / "o.csv", good), ws.store, ws.taxonomy)
    assert o.labels == ws.truth and o.id_column == "reviewId"
    bad_label = good[:5] + [(good[5][0], "PRICING")]
    with pytest.raises(ReviewtuiError, match=r"unknown label 'PRICING'.*line 7"):
        read_oracle(write_oracle(tmp_path / "b.csv", bad_label), ws.store, ws.taxonomy)
    missing = good + [("zzz-not-here", "CONTENT")]
    with pytest.raises(ReviewtuiError, match=r"1 of 65 ids .* not in this workspace.*zzz-not-here.*--allow-missing"):
        read_oracle(write_oracle(tmp_path / "m.csv", missing), ws.store, ws.taxonomy)
    o = read_oracle(tmp_path / "m.csv", ws.store, ws.taxonomy, allow_missing=True)
    assert o.missing == ["zzz-not-here"] and len(o.labels) == 64
    with pytest.raises(ReviewtuiError, match="id column"):
        read_oracle(write_oracle(tmp_path / "h.csv", good, header=("x", "label")), ws.store, ws.taxonomy)
    # one id with two labels: which is the truth? (the last one won without a word)
    other = next(k for k in ws.taxonomy.training_keys if k != good[0][1])
    with pytest.raises(ReviewtuiError, match=rf"id '{good[0][0]}' gets the label '{good[0][1]}' on line 2 and "
                                             rf"'{other}' on line 66; keep one"):
        read_oracle(write_oracle(tmp_path / "twice.csv", good + [(good[0][0], other)]), ws.store, ws.taxonomy)
    assert read_oracle(write_oracle(tmp_path / "same.csv", good + [good[0]]), ws.store, ws.taxonomy).labels == ws.truth
    with pytest.raises(ReviewtuiError, match="no such oracle file"):
        read_oracle(tmp_path / "nope.csv", ws.store, ws.taxonomy)
    # dataset-N.csv style: the id column that matches the workspace is chosen
    rows = [(f"kili{i}", k, v) for i, (k, v) in enumerate(good)]
    with open(tmp_path / "d.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "externalId", "label"])
        w.writerows(rows)
    assert read_oracle(tmp_path / "d.csv", ws.store, ws.taxonomy).id_column == "externalId"


def test_bad_oracle_writes_nothing(analysis_ws, tmp_path):
    ws = analysis_ws
    path = write_oracle(tmp_path / "o.csv", [("r000", "NOPE")])
    with pytest.raises(ReviewtuiError):
        ws.simulate(path)
    assert not (ws.results_dir / "simulation").exists()


# --- real MiniLM on a small workspace ---------------------------------------------------------
@pytest.fixture(scope="module")
def labeled_ws(tmp_path_factory):
    """64 synthetic reviews, 16 labeled (4 per category), embedded once with the real MiniLM."""
    import random

    from modeling_fixtures import LABELS, review_text

    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    rng = random.Random(2)
    ws = Workspace.init(tmp_path_factory.mktemp("al") / "ws")
    truth = {}
    recs = []
    for i in range(64):
        lab = LABELS[i % 4]
        truth[f"a{i}"] = lab
        recs.append(NewAsset(f"a{i}", review_text(lab, rng), {"score": 1 + i % 5}))
    ws.store.add_assets(recs)
    for i in range(16):
        ws.label(f"a{i}", truth[f"a{i}"])
    ws.truth = truth
    return ws


def test_queue_sets_priorities_and_lists_the_batch(labeled_ws):
    ws = labeled_ws
    batch = ws.queue_batch("margin", 5, apply=False)
    assert len(batch.items) == 5 and not batch.cold_start and batch.labeled == 16 and batch.candidates == 48
    assert all(not it.external_id in {f"a{i}" for i in range(16)} for it in batch.items)
    assert [it.priority for it in batch.items] == [5, 4, 3, 2, 1]
    assert all(it.suggestion in ws.taxonomy.training_keys and 0 < it.confidence <= 1 for it in batch.items)
    unc = [it.uncertainty for it in batch.items]
    assert unc == sorted(unc, reverse=True)
    assert all(a.priority == 0 for a in ws.store.iter_assets())  # the dry run changed nothing
    applied = ws.queue_batch("diversity", 4)
    assert applied.moved is not None and applied.moved.failed == {}
    assert [a.external_id for a in ws.queue(4)] == applied.external_ids  # the queue serves the batch first
    # the quick model mostly suggests the right category for the synthetic reviews
    sugg = ws.suggestions([f"a{i}" for i in range(16, 64)])
    right = sum(sugg[k][0] == ws.truth[k] for k in sugg)
    assert right >= 0.8 * len(sugg)
    one = ws.suggest("a20")
    assert one[0] == sugg["a20"][0] and one[1] == pytest.approx(sugg["a20"][1], abs=1e-5)


def test_queue_scores_a_stable_candidate_subset_of_a_large_pool(labeled_ws):
    ws = labeled_ws
    ws.config.update_section("active_learning", {"candidates": 20}, save=False)
    try:
        first = ws.queue_batch("margin", 5, apply=False)
        second = ws.queue_batch("entropy", 5, apply=False)
    finally:
        ws.config.update_section("active_learning", {}, save=False, drop=("candidates",))
    assert first.candidates == second.candidates == 20
    full = ws.queue_batch("margin", 48, apply=False)
    assert full.candidates == 48  # without the cap every unlabeled asset is scored
    import hashlib

    pool = sorted((f"a{i}" for i in range(16, 64)), key=lambda e: hashlib.sha1(e.encode()).digest())[:20]
    assert set(first.external_ids) <= set(pool) and set(second.external_ids) <= set(pool)


def test_queue_errors(workspace, labeled_ws):
    with pytest.raises(ReviewtuiError, match="no reviews"):
        workspace.queue_batch("margin", 5)
    with pytest.raises(ReviewtuiError, match="at least 1"):
        labeled_ws.queue_batch("margin", 0)
    with pytest.raises(ReviewtuiError, match="unknown strategy"):
        labeled_ws.queue_batch("smart", 5)


def test_simulate_workspace_end_to_end(labeled_ws, tmp_path):
    ws = labeled_ws
    path = write_oracle(tmp_path / "oracle.csv", list(ws.truth.items()))
    res = ws.simulate(path, strategies=["random", "entropy", "diversity"], batch=8, rounds=2, seeds=2)
    assert res.csv_path.is_file() and res.png_path.read_bytes()[:4] == b"\x89PNG"
    with open(res.csv_path) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 2 * 3
    assert {r["strategy"] for r in rows} == {"random", "entropy", "diversity"}
    assert [int(r["labels"]) for r in rows[:3]] == [8, 16, 24]
    assert all(0 <= float(r["macro_f1"]) <= 1 for r in rows)
    assert res.summary_path.is_file()


def test_queue_sets_priorities_in_kili(tmp_path, kili_server):
    """The batch's priorities go through the Kili backend's priority call (loopback Kili)."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "kws", backend="kili")
    ws.config.update_section("kili", {"retry_deadline": 1, "request_timeout": 10})
    from reviewtui.store import NewAsset

    ws.store.add_assets([NewAsset(f"k{i}", f"review {i}", {"score": 3}) for i in range(12)])
    ws = Workspace.open(ws.root)
    ws.kili_create("Reviews")
    ws.kili_push()
    kili_server.clear_log()
    batch = ws.queue_batch("random", 4, seed=1)
    assert batch.backend == "kili" and batch.moved.failed == {}
    calls = kili_server.calls("setAssetsPriority")
    assert calls, f"no priority call reached Kili: {kili_server.op_names()}"
    pid = ws.settings.backend.project_id
    assert [kili_server.state.asset(pid, e)["priority"] for e in batch.external_ids] == [4, 3, 2, 1]
    assert [a.external_id for a in ws.queue(4)] == batch.external_ids
    ws.close()


def test_cli_queue_and_simulate(labeled_ws, tmp_path, capsys):
    import json

    from reviewtui.cli import main

    root = str(labeled_ws.root)
    assert main(["-w", root, "queue", "--strategy", "entropy", "--size", "3", "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["strategy"] == "entropy" and len(data["items"]) == 3 and data["labeled"] == 16
    path = write_oracle(tmp_path / "oracle.csv", list(labeled_ws.truth.items()))
    assert main(["-w", root, "simulate", "--oracle", str(path), "--strategy", "random", "margin",
                 "--batch", "8", "--rounds", "1", "--seeds", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["curves"]) == {"random", "margin"} and len(data["curves"]["margin"]) == 2
    assert main(["-w", root, "simulate", "--oracle", str(tmp_path / "missing.csv")]) == 2
    assert "no such oracle file" in capsys.readouterr().err


def test_labels_to_reach_by_hand():
    from reviewtui.active import CurvePoint, SimulationResult

    pts = [CurvePoint("random", 0, r, 10 * (r + 1), 10 * (r + 1), 0.0, f1, 0.0)
           for r, f1 in enumerate([0.5, 0.7, 0.9, 0.96])]
    pts += [CurvePoint("margin", 0, r, 10 * (r + 1), 10 * (r + 1), 0.0, f1, 0.0)
            for r, f1 in enumerate([0.5, 0.8, 0.97, 0.99])]
    res = SimulationResult(pts, ["random", "margin"], [0], 10, 3, 100, 20, {"accuracy": 1.0, "macro_f1": 1.0})
    assert res.labels_to_reach(0.95) == {"random": 40, "margin": 30}
    # random crosses 0.95 between 30 (0.90) and 40 (0.96): 30 + 10 * 0.05 / 0.06
    assert res.labels_to_reach(0.95, interpolate=True) == {"random": pytest.approx(38.3, abs=0.05),
                                                           "margin": pytest.approx(28.8, abs=0.05)}
    assert res.labels_to_reach(0.999) == {"random": None, "margin": None}


# --- suggestions: retrain_every and two workers -----------------------------------------------
class TextVectors:
    """Stand-in embeddings for the Suggester's refit logic: a fixed vector per text (sha1-seeded)
    plus a direction per category word, so the quick model separates the synthetic reviews."""

    folder = Path("text-vectors")

    def embed(self, texts, **_):
        import hashlib

        from modeling_fixtures import LABELS

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha1(str(t).encode()).digest()[:4], "big")
            v = np.random.default_rng(seed).normal(0, 0.1, 8)
            for k, lab in enumerate(LABELS):
                v[k] += 1.0 if lab.lower().split("_")[0] in str(t).lower() else 0.0
            out.append(v)
        return np.asarray(out, dtype=np.float32).reshape(len(out), 8)


def counting_fits(monkeypatch):
    import reviewtui.active.suggestions as mod

    fits = []
    real = mod.fit_quick

    def fit(X, y, C=None):
        fits.append(len(y))
        return real(X, y, C)

    monkeypatch.setattr(mod, "fit_quick", fit)
    return fits


def test_suggester_refits_every_n_labels(analysis_ws, monkeypatch):
    from reviewtui.active import Suggester

    ws = analysis_ws
    fits = counting_fits(monkeypatch)
    ids = list(ws.truth)
    for e in ids[:8]:
        ws.label(e, ws.truth[e])
    s = Suggester(ws.store, ws.taxonomy, TextVectors(), ActiveLearningSettings(retrain_every=3))
    assert s.suggestions(ids[40:42]) and fits == [8]  # the first request fits
    ws.label(ids[8], ws.truth[ids[8]])
    ws.label(ids[9], ws.truth[ids[9]])
    s.suggestions(ids[40:42])
    assert fits == [8]  # two new labels: fewer than retrain_every
    ws.label(ids[10], ws.truth[ids[10]])
    s.suggestions(ids[40:42])
    assert fits == [8, 11]  # the third one refits
    ws.label(ids[0], ws.truth[ids[1]])  # a changed label counts as well
    s.suggestions([])
    assert fits == [8, 11]
    assert s.refit() and fits == [8, 11, 11]  # asked for: refits whatever the count


def test_retrain_every_zero_refits_only_when_asked(analysis_ws, monkeypatch):
    from reviewtui.active import Suggester

    ws = analysis_ws
    fits = counting_fits(monkeypatch)
    ids = list(ws.truth)
    s = Suggester(ws.store, ws.taxonomy, TextVectors(), ActiveLearningSettings(retrain_every=0))
    ws.label(ids[0], ws.truth[ids[0]])
    assert s.suggestions(ids[40:42]) == {} and fits == []  # one category: no model yet
    for e in ids[1:8]:
        ws.label(e, ws.truth[e])
    assert len(s.suggestions(ids[40:42])) == 2 and fits == [8]  # the first request that can fit does
    for e in ids[8:30]:
        ws.label(e, ws.truth[e])
    s.suggestions(ids[40:42])
    assert fits == [8]  # 22 new labels, no automatic refit
    s.suggestions(ids[40:42], refit=True)
    assert fits == [8, 30]
    s.settings = ActiveLearningSettings(retrain_every=5)  # a changed reviewtui.toml applies at once
    for e in ids[30:35]:
        ws.label(e, ws.truth[e])
    s.suggestions(ids[40:42])
    assert fits == [8, 30, 35]


def test_the_workspace_follows_retrain_every_from_its_settings(analysis_ws, monkeypatch):
    ws = analysis_ws
    fits = counting_fits(monkeypatch)
    monkeypatch.setattr(ws, "embedding_cache", TextVectors)
    ws.config.update_section("active_learning", {"retrain_every": 0}, save=False)
    ids = list(ws.truth)
    for e in ids[:8]:
        ws.label(e, ws.truth[e])
    assert ws.suggest(ids[40]) is not None and fits == [8]
    for e in ids[8:20]:
        ws.label(e, ws.truth[e])
    ws.suggestions(ids[40:44])
    assert fits == [8]
    ws.suggestions(ids[40:44], refit=True)
    assert fits == [8, 20]


def test_two_suggestion_workers_build_and_fit_one_model(analysis_ws, monkeypatch):
    """Two workers asking at once (the labeling screen's suggestion loads) share one Suggester:
    one embedding cache, one fit, one load of the encoder."""
    import threading
    import time

    import reviewtui.active as active

    ws = analysis_ws
    made, caches = [], []

    class SlowSuggester(active.Suggester):
        def __init__(self, *args, **kwargs):
            time.sleep(0.3)  # widen the window between looking for a suggester and keeping one
            made.append(self)
            super().__init__(*args, **kwargs)

    def cache():
        caches.append(1)
        return TextVectors()

    monkeypatch.setattr(active, "Suggester", SlowSuggester)
    monkeypatch.setattr(ws, "embedding_cache", cache)
    fits = counting_fits(monkeypatch)
    ids = list(ws.truth)
    for e in ids[:12]:
        ws.label(e, ws.truth[e])
    start = threading.Barrier(2)
    results: list = [None, None]

    def worker(i: int) -> None:
        start.wait()
        results[i] = ws.suggestions(ids[40:50])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(made) == 1 and len(caches) == 1 and fits == [12]
    assert results[0] == results[1] and len(results[0]) == 10


def test_a_strategy_that_never_reaches_95_percent_says_within_how_many_labels(capsys):
    from reviewtui.active import CurvePoint, SimulationResult
    from reviewtui.cli import render

    pts = [CurvePoint("random", 0, r, 50 * (r + 1), 50 * (r + 1), 0.0, f1, 0.0)
           for r, f1 in enumerate([0.5, 0.7, 0.96])]
    pts += [CurvePoint("margin", 0, r, 50 * (r + 1), 50 * (r + 1), 0.0, f1, 0.0)
            for r, f1 in enumerate([0.5, 0.6, 0.7])]
    res = SimulationResult(pts, ["random", "margin"], [0], 50, 2, 6370, 1593, {"accuracy": 1.0, "macro_f1": 1.0},
                           Path("curves.csv"), Path("curves.png"), Path("summary.csv"))
    render.simulation(res, res.labels_to_reach(0.95), res.labels_to_reach(0.95, interpolate=True))
    out = " ".join(capsys.readouterr().out.split())
    assert "random: 150 labels to 95% of the full-pool macro-F1" in out
    assert "margin: 95% of the full-pool macro-F1 not reached within 150 labels" in out


def test_the_loops_quick_model_learns_from_a_stratified_sample_past_fit_max_labels():
    """Hundreds of thousands of labels (a bulk label of a large filter) would cost minutes and
    gigabytes at every re-rank: past [active_learning] fit_max_labels the loop fits on a seeded
    sample that keeps every category, a rare one whole, in the order given; 0 or fewer labels: all."""
    from reviewtui.active.model import fit_sample

    labels = ["A"] * 9000 + ["B"] * 900 + ["C"] * 12
    keep = fit_sample(labels, 1000)
    assert len(keep) == 1000 and keep == sorted(keep) and keep == fit_sample(labels, 1000)
    got = [labels[i] for i in keep]
    assert got.count("C") == 12 and got.count("B") >= 166 and got.count("A") >= 700
    assert fit_sample(labels, 0) is None and fit_sample(labels[:500], 1000) is None
    assert fit_sample(labels, 1000, seed=1) != keep
    # a cap below twice the categories is raised to it: every category keeps a label
    assert fit_sample([str(i) for i in range(12)] * 2, 10) is None and fit_sample(["A"] * 3 + ["B"], 1) is None
    few = fit_sample([str(i) for i in range(12)] * 5, 10)
    assert len(few) == 24 and {str(i) for i in range(12)} == {str(i % 12) for i in few}


def test_a_batch_from_repeated_reviews_draws_no_clustering_warning():
    """Fewer distinct reviews than the clusters asked for: scikit-learn's ConvergenceWarning
    reached the terminal (queue --strategy weakest); the batch comes without it."""
    import warnings

    import numpy as np

    from reviewtui.active.strategies import select_batch

    X = np.repeat(np.eye(4, dtype=np.float32), 10, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picked = select_batch("diversity", np.full((40, 2), 0.5), 20, embeddings=X)
    assert len(set(picked.tolist())) == len(picked) > 0
