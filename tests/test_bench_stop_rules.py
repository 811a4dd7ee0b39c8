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
