"""The learning curves of a simulation as files: every point (curves.csv), the mean and spread
per strategy and round (summary.csv) and a chart (learning_curves.png).

Takes the simulation's result (``reviewtui.active.SimulationResult``) as data; matplotlib loads
inside :func:`learning_curve_png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from reviewtui.analysis.charts import figure_png, pyplot
from reviewtui.analysis.export import write_csv_atomic
from reviewtui.files import atomic_write_bytes

CURVE_COLUMNS = ["strategy", "seed", "round", "labels", "train_labels", "accuracy", "macro_f1", "fit_seconds"]


class Curves(Protocol):
    """What these writers read of a simulation's result."""

    points: Sequence[Any]
    seeds: Sequence[int]
    batch: int
    test_size: int
    full_pool: dict[str, float]
    csv_path: Path | None
    summary_path: Path | None
    png_path: Path | None

    def mean_curves(self) -> dict[str, list[tuple[int, float, float, float, float]]]: ...

    def labels_to_reach(self, fraction: float = 0.95, metric: str = "macro_f1",
                        interpolate: bool = False) -> dict[str, float | None]: ...


def write_simulation(result: Curves, folder: Path) -> Curves:
    """Write curves.csv (every point), summary.csv (mean/std per strategy and round, and labels to
    reach 95% of the full-pool macro-F1) and learning_curves.png into ``folder``, atomically.
    Returns ``result`` with its ``csv_path``, ``summary_path`` and ``png_path`` set."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(folder / "curves.csv", CURVE_COLUMNS,
                     [[getattr(p, c) for c in CURVE_COLUMNS] for p in result.points])
    reach = result.labels_to_reach(0.95)
    interp = result.labels_to_reach(0.95, interpolate=True)
    rows = []
    for s, curve in result.mean_curves().items():
        for r, (n, acc, acc_sd, f1, f1_sd) in enumerate(curve):
            rows.append([s, r, n, round(acc, 4), round(acc_sd, 4), round(f1, 4), round(f1_sd, 4),
                         "" if reach[s] is None else reach[s], "" if interp[s] is None else interp[s]])
    write_csv_atomic(folder / "summary.csv", ["strategy", "round", "labels", "accuracy_mean", "accuracy_std",
                                              "macro_f1_mean", "macro_f1_std", "labels_to_95pct_full_f1",
                                              "labels_to_95pct_interpolated"], rows)
    atomic_write_bytes(folder / "learning_curves.png", learning_curve_png(result))
    result.csv_path = folder / "curves.csv"
    result.summary_path = folder / "summary.csv"
    result.png_path = folder / "learning_curves.png"
    return result


def learning_curve_png(result: Curves) -> bytes:
    """A PNG of mean accuracy and macro-F1 against labels, one line per strategy (std band)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for s, curve in result.mean_curves().items():
        n = [c[0] for c in curve]
        for ax, (m, sd) in zip(axes, ((1, 2), (3, 4))):
            mean = np.array([c[m] for c in curve])
            std = np.array([c[sd] for c in curve])
            ax.plot(n, mean, marker="o", ms=3, label=s)
            ax.fill_between(n, mean - std, mean + std, alpha=0.15)
    for ax, name, key in zip(axes, ("accuracy", "macro-F1"), ("accuracy", "macro_f1")):
        ax.axhline(result.full_pool[key], color="grey", ls="--", lw=1, label="full pool")
        ax.set_xlabel("labels")
        ax.set_ylabel(f"held-out {name}")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Learning curves ({len(result.seeds)} seeds, batch {result.batch}, test {result.test_size})")
    return figure_png(fig)

