"""bench/bench_stop_rules.py's reading of replayed rounds: where each rule stops against where the
mean curve reaches 95 % of its final macro-F1. The replays themselves do not run here."""

from __future__ import annotations

import numpy as np

from bench import bench_stop_rules as bs


def rounds(seed: int, changing_until: int, f1: list[float]) -> list[dict]:
    """One seed's rounds of 10 labels: predictions on a 40-review stop set that change every round
    until ``changing_until``, then stay; probabilities to match."""
    out = []
    for r, score in enumerate(f1):
        rng = np.random.default_rng(seed * 100 + min(r, changing_until))
        pred = [str(v) for v in rng.integers(0, 3, size=40)]
        proba = np.eye(3, dtype=np.float32)[[int(p) for p in pred]] * 0.7 + 0.1
        out.append({"seed": seed, "round": r, "labels": 10 * (r + 1), "f1": score, "pred": pred, "proba": proba})
    return out


def test_each_rule_is_read_against_the_95_percent_point_of_the_mean_curve():
    curve = [0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0]
    recorded = {"a": rounds(0, 2, curve) + rounds(1, 4, curve)}
    out = bs.evaluate(recorded)
    corpus = out["corpora"]["a"]
    assert corpus["target"] == 60 and corpus["final_macro_f1"] == 1.0 and corpus["seeds"] == 2
    # the default stops once three consecutive kappas are 1: after round 5 (seed 0) and round 7 (seed 1)
    default = out["rules"]["kappa >= 0.96 for 3 rounds (default)"]["a"]
    assert default == {"mean_labels": 70.0, "ratio": 70 / 60, "min_f1_share": 0.95, "never_stopped": 0}
    # kappa over three rounds needs the model three rounds back to agree: rounds 5 and 7
    assert out["rules"]["kappa over 3 rounds >= 0.95 for 1 round"]["a"]["mean_labels"] == 70.0
    # a rule that never holds counts its seeds at their last round
    assert out["rules"]["kappa >= 0.96 for 3 rounds (default)"]["family"] == "kappa"
    stuck = bs.evaluate({"a": rounds(0, 99, curve)})["rules"]["kappa >= 0.96 for 3 rounds (default)"]["a"]
    assert stuck["never_stopped"] == 1 and stuck["mean_labels"] == 90.0


def test_the_section_says_which_rules_meet_the_goal():
    curve = [0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0]
    recorded = {name: rounds(0, 2, curve) for name in ("dataset-11", "fintech", "demo corpus")}
    results = {"at": "2026-12-02 08:00", "machine": "x86_64, 2 CPU cores", "seeds": 1, **bs.evaluate(recorded)}
    text = bs.render(results)
    assert text.startswith(bs.START) and text.rstrip().endswith(bs.END)
    row = next(line for line in text.splitlines() if line.startswith("| kappa | kappa >= 0.96 for 3 rounds (default) |"))
    assert row.endswith("| 1.00x, 95.0%, 0 | 1.00x, 95.0%, 0 | 1.00x, 95.0%, 0 | yes |")


def test_label_aware_rules_read_the_batches_labeled_each_round():
    """Prequential accuracy: the share of each new batch the model shown predicted right before it
    was labeled, pooled over the last 3 batches; the rule stops at the first round it reaches."""
    curve = [0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0]
    rows = rounds(0, 2, curve)
    for r, row in enumerate(rows):
        if r == 0:
            continue  # the first batch has no model before it
        right = 2 * r  # of 10: 2, 4, 6, 8, 10, ...
        truth = np.zeros(10, dtype=int)
        shown = np.tile(np.array([0.3, 0.6, 0.1], dtype=np.float32), (10, 1))  # wrong, but second
        shown[:min(right, 10)] = [0.6, 0.3, 0.1]
        row.update(batch_truth=truth, batch_shown=shown, batch_right_shown=shown.argmax(1) == truth,
                   batch_back=np.array([shown.argmax(1)] * min(r, bs.BACK)), cv_acc=0.5 + 0.05 * r)
    out = bs.evaluate({"a": rows})
    # pooled over rounds 1-3: 12 of 30 right; rounds 2-4: 18 of 30 = 0.6 -> stops after round 4 (50 labels)
    assert out["rules"]["prequential accuracy (last 3 batches) >= 0.6"]["a"]["mean_labels"] == 50.0
    # the label is always among the two most likely: the first round with 3 batches to pool
    assert out["rules"]["label among the top 2 (last 3 batches) >= 0.95"]["a"]["mean_labels"] == 40.0
    assert out["rules"]["prequential accuracy (last 3 batches) >= 0.6"]["family"] in bs.LABEL_AWARE
    # rounds recorded without the labels (as the tests above) read as never stopping these rules
    plain = bs.evaluate({"a": rounds(0, 2, curve)})
    assert plain["rules"]["prequential accuracy (last 3 batches) >= 0.6"]["a"]["never_stopped"] == 1
