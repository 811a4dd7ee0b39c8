"""The stop signal (kappa between consecutive models on a fixed stop set), per-category curves and
the weakest category."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from reviewtui.active import fit_quick, select_batch
from reviewtui.config import Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.loop.replay import replay
from reviewtui.loop.stopping import (StopSignal, choose_sample, cohen_kappa, cross_validate, learning_curves,
                                     load_signal, record_round, reset_signal, sparkline, stable_rounds, summarize,
                                     weakest_category)
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import LabelRow, LocalStore, NewAsset

KEYS = ["A", "B", "C"]


def run(changes: list[float], n: int = 400, seed: int = 0, kappa: float = 0.94, rounds: int = 3) -> StopSignal:
    """A synthetic labeling run: round i's predictions differ from round i-1's on ``changes[i-1]``
    of the stop set."""
    rng = np.random.default_rng(seed)
    pred = rng.choice(KEYS, size=n)
    signal = StopSignal(kappa=kappa, rounds=rounds)
    proba = np.full((n, 3), 1 / 3)
    signal.observe(list(pred), proba, labels=10, validation=None)
    for i, share in enumerate(changes):
        flip = rng.choice(n, size=int(round(share * n)), replace=False)
        pred = pred.copy()
        pred[flip] = [KEYS[(KEYS.index(p) + 1) % 3] for p in pred[flip]]
        signal.observe(list(pred), proba, labels=20 + 10 * i, validation=None)
    return signal


def test_the_signal_turns_on_when_predictions_plateau():
    s = run([0.4, 0.3, 0.2, 0.1, 0.02, 0.01, 0.0, 0.0, 0.0])
    stops = [r.stop for r in s.history]
    # kappas >= 0.94 from round 6 (2% changed) on: stable 1, 2, 3 -> stop at round 8 and after
    assert stops == [False] * 7 + [True, True, True]
    assert s.history[7].stable == 3 and s.history[0].kappa is None
    assert summarize(s).line.startswith("predictions stable for 5 rounds")


def test_the_signal_stays_off_while_the_model_keeps_improving():
    s = run([0.3, 0.2, 0.15, 0.12, 0.1, 0.1, 0.09, 0.08, 0.08, 0.07, 0.07, 0.06])
    assert not any(r.stop for r in s.history)
    assert all(r.kappa is None or r.kappa < 0.94 for r in s.history)
    assert "still changing" in summarize(s).line


def test_one_unstable_round_resets_the_count():
    assert stable_rounds([None, 0.95, 0.97, 0.5, 0.96, 0.99], 0.94) == 2
    assert stable_rounds([], 0.9) == 0
    s = run([0.0, 0.0, 0.3, 0.0, 0.0, 0.0], rounds=2)
    assert [r.stop for r in s.history] == [False, False, True, False, False, True, True]


def test_replay_on_separable_data_stops_after_it_plateaus():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16)) * 4
    y = np.repeat(KEYS, 120)
    X = np.vstack([centres[i] + rng.normal(size=(120, 16)) for i in range(3)]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    res = replay(X, list(y), KEYS, batch=6, rounds=12, seeds=2, stop_sample=200)
    for seed, point in res.stop_points().items():
        assert point is not None, f"seed {seed} never stopped"
        final = [p for p in res.points if p.seed == seed][-1].macro_f1
        assert point.macro_f1 >= 0.9 * final and point.round >= 3
    assert res.curve()[-1][1] > 0.9
    # without a prior the model shown is the quick model: the two kappas are the same
    first = [p for p in res.points if p.seed == 0]
    assert first[0].kappa_shown is None and all(p.kappa_shown == p.kappa for p in first[1:])


def test_replay_draws_the_stop_set_from_a_stop_pool():
    """Unlabeled reviews given as the stop pool are what the stop signal reads: here the
    categories' centres, where every model is sure, against the labeled pool's boundaries."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16)) * 4
    y = np.repeat(KEYS, 60)
    X = np.vstack([centres[i] + rng.normal(size=(60, 16)) * 2 for i in range(3)]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    sure = np.repeat(centres / np.linalg.norm(centres, axis=1, keepdims=True), 20, axis=0).astype(np.float32)
    base = replay(X, list(y), KEYS, batch=6, rounds=4, seeds=1, validate=False)
    res = replay(X, list(y), KEYS, batch=6, rounds=4, seeds=1, validate=False, stop_pool=sure)
    assert [p.macro_f1 for p in res.points] == [p.macro_f1 for p in base.points]  # the loop itself is the same
    assert all(p.mean_uncertainty < q.mean_uncertainty for p, q in zip(res.points[1:], base.points[1:]))
    assert all(p.kappa == 1.0 for p in res.points[1:])
    with pytest.raises(ReviewtuiError):
        replay(X, list(y), KEYS, rounds=1, seeds=1, stop_pool=sure[:, :8])


def test_kappa_edge_cases():
    assert cohen_kappa([], []) == 1.0
    assert cohen_kappa(["A"] * 5, ["A"] * 5) == 1.0
    assert cohen_kappa(["A", "B", "A", "B"], ["B", "A", "B", "A"]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa(["A"], ["A", "B"])


def test_cross_validation_and_weakest_category():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(loc=i * 3, size=(20, 4)) for i in range(3)]).astype(np.float32)
    y = ["A"] * 20 + ["B"] * 20 + ["C"] * 20
    y[40:45] = ["B"] * 5  # C's first five look like C but are labeled B: C and B suffer
    v = cross_validate(X, y, KEYS)
    assert v is not None and v.folds == 5 and set(v.per_class) == set(KEYS)
    assert v.per_class["A"] == pytest.approx(1.0)
    assert cross_validate(X[:5], y[:5], KEYS) is None  # too few labels
    assert weakest_category(v.per_class, {"A": 20, "B": 25, "C": 15}) in ("B", "C")
    assert weakest_category({"A": 0.9, "B": 0.4}, {"A": 30, "B": 30, "C": 2}) == "C"  # fewest labels first
    assert weakest_category({"A": 0.9, "B": 0.4}, {"A": 30, "B": 30}) == "B"
    # two categories short of labels, as many each: the one the model gets wrong more, not the first
    assert weakest_category({"A": 0.4, "B": 0.0, "C": 0.9}, {"A": 4, "B": 4, "C": 30}) == "B"
    assert weakest_category({}, {}) is None


def test_weakest_strategy_asks_about_the_target_categorys_boundary():
    p = np.array([[0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.2, 0.3, 0.5], [0.05, 0.9, 0.05], [0.34, 0.33, 0.33]])
    # target C (column 2): nearest p = 0.5 first
    assert select_batch("weakest", p, 2, target=2).tolist() == [2, 4]
    assert select_batch("weakest", p, 2).tolist() == select_batch("margin", p, 2).tolist()  # no target yet
    with pytest.raises(ReviewtuiError, match="column 7"):
        select_batch("weakest", p, 2, target=7)


def embed(texts):
    """Deterministic stand-in embeddings: the category word sets a direction, the hash adds noise."""
    out = []
    for t in texts:
        v = np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=8) * 0.3
        v[KEYS.index(t.split()[0])] += 3.0
        out.append(v / np.linalg.norm(v))
    return np.array(out, dtype=np.float32)


def test_rounds_are_kept_in_the_store(tmp_path):
    store = LocalStore(tmp_path / "s.db", create=True)
    tax = Taxonomy.from_list([{"key": k, "name": k} for k in KEYS])
    store.add_assets([NewAsset(f"r{i}", f"{KEYS[i % 3]} review number {i}") for i in range(90)])
    settings = ActiveLearningSettings(stop_sample=40)

    def label_and_record(n):
        rows = [LabelRow(f"r{i}", KEYS[i % 3], "t", "human") for i in range(n)]
        store.add_labels(rows)
        ids, texts, labels = [r.external_id for r in rows], [store.get(r.external_id).text for r in rows], \
            [r.category for r in rows]
        X = embed(texts)
        return record_round(store, fit_quick(X, labels, settings.C), embed, tax, settings, X_labeled=X, y_labeled=labels)

    first = label_and_record(12)
    assert first is not None and first.kappa is None and first.labels == 12
    assert label_and_record(12) is None  # same labels: no new round
    assert label_and_record(15) is None  # three more: not a round of the size the threshold was set on
    second = label_and_record(24)
    assert second is not None and second.kappa is not None and second.round == 2

    def record_on(n):  # the first n labels only: the rest undone
        rows = [LabelRow(f"r{i}", KEYS[i % 3], "t", "human") for i in range(n)]
        X, y = embed([store.get(r.external_id).text for r in rows]), [r.category for r in rows]
        return record_round(store, fit_quick(X, y, settings.C), embed, tax, settings, X_labeled=X, y_labeled=y)

    for n in range(23, 14, -1):  # labels undone one at a time: no round per undo
        assert record_on(n) is None, n
    third = record_on(14)  # ten fewer than the last round (an undone bulk label): a round
    assert third is not None and third.round == 3 and third.labels == 14
    signal = load_signal(store, settings)
    assert len(signal.sample) == 40 and len(signal.history) == 3
    assert all(int(s[1:]) >= 12 for s in signal.sample)  # drawn from what was unlabeled at round 1
    summary = summarize(signal)
    assert summary.rounds == 3 and len(summary.sparkline) == 3
    assert set(learning_curves(signal)) == set(KEYS)
    reset_signal(store)
    assert load_signal(store).history == []
    store.set_meta("stop_signal", "{not json")
    with pytest.raises(ReviewtuiError, match="stop signal"):
        load_signal(store)
    store.close()


def test_a_category_renamed_between_rounds_does_not_read_as_changed_predictions(tmp_path):
    """The last round's predictions kept the key a rename took away: every one of them read as a
    disagreement with the next model's, and the kappa fell (0.98 to 0.91 on a real run)."""
    settings = ActiveLearningSettings(stop_sample=40)
    renamed = Taxonomy.from_list([{"key": "NEW_" + KEYS[0], "name": "renamed", "former_keys": [KEYS[0]]},
                                  *[{"key": k, "name": k} for k in KEYS[1:]]])
    kappas = []
    for rename in (False, True):
        store = LocalStore(tmp_path / f"s{rename}.db", create=True)
        tax = Taxonomy.from_list([{"key": k, "name": k} for k in KEYS])
        store.add_assets([NewAsset(f"r{i}", f"{KEYS[i % 3]} review number {i}") for i in range(90)])
        for n in (12, 24):
            if rename and n == 24:
                tax = renamed
            rows = [LabelRow(f"r{i}", tax.current(KEYS[i % 3]), "t", "human") for i in range(n)]
            X, y = embed([store.get(r.external_id).text for r in rows]), [r.category for r in rows]
            rec = record_round(store, fit_quick(X, y, settings.C), embed, tax, settings, X_labeled=X, y_labeled=y)
        kappas.append(rec.kappa)
        store.close()
    assert kappas[0] is not None and kappas[1] == pytest.approx(kappas[0])


def test_a_round_counts_every_label_when_the_model_learns_from_a_sample(tmp_path):
    """Past [active_learning] fit_max_labels the quick model learns from a sample: the rounds, their
    label counts and the learning curves count every label, not the sample's size (which stays
    near the cap and would make every later refit look like no new round)."""
    from collections import Counter

    from reviewtui.active.model import fit_sample

    store = LocalStore(tmp_path / "s.db", create=True)
    tax = Taxonomy.from_list([{"key": k, "name": k} for k in KEYS])
    store.add_assets([NewAsset(f"r{i}", f"{KEYS[i % 3]} review number {i}") for i in range(400)])
    settings = ActiveLearningSettings(stop_sample=40, fit_max_labels=30)

    def label_and_record(n):
        store.add_labels([LabelRow(f"r{i}", KEYS[i % 3], "t", "human") for i in range(n)])
        ids, texts, labels = store.training_assets(KEYS)
        keep = fit_sample(labels, settings.fit_max_labels)
        texts, sampled = [texts[i] for i in keep], [labels[i] for i in keep]
        X = embed(texts)
        return record_round(store, fit_quick(X, sampled, settings.C), embed, tax, settings, X_labeled=X,
                            y_labeled=sampled, label_counts=dict(Counter(labels)))

    rounds = [label_and_record(n) for n in (100, 200, 300)]
    assert [r.labels for r in rounds] == [100, 200, 300] and [r.round for r in rounds] == [1, 2, 3]
    assert sum(rounds[-1].label_counts.values()) == 300
    store.close()


def test_sparkline_and_sample():
    assert sparkline([0.0, 0.5, 1.0], lo=0, hi=1) == "▁▅█"
    assert sparkline([None, 1.0]) == " ▁"
    assert choose_sample(["a", "b"], 5) == ["a", "b"]
    s = choose_sample([str(i) for i in range(100)], 10, seed=1)
    assert len(s) == 10 and s == choose_sample([str(i) for i in range(100)], 10, seed=1)


def test_a_categorys_f1_change_is_given_from_the_second_round():
    """After three rounds `status --json` gave every category's change as null: it waited for a
    full window of three rounds before the latest."""
    from reviewtui.loop.stopping import RoundRecord, StopSignal, category_needs

    def rec(n: int, f1: float) -> RoundRecord:
        return RoundRecord(n, "2026-01-01", 10 * n, None, 0.3, f1, {"A": f1, "B": 0.5}, {"A": 5 * n, "B": 5 * n},
                           0, False)

    signal = StopSignal(history=[rec(1, 0.4)])
    assert [n.change for n in category_needs(signal, ["A", "B"])] == [None, None]
    signal.history += [rec(2, 0.5), rec(3, 0.7)]
    a, b = category_needs(signal, ["A", "B"])
    assert a.change == pytest.approx(0.3) and a.over == 2 and b.change == 0.0
    signal.history += [rec(4, 0.75), rec(5, 0.8)]
    a, _ = category_needs(signal, ["A", "B"])
    assert a.change == pytest.approx(0.3) and a.over == 3  # the window: rounds 2 to 5
