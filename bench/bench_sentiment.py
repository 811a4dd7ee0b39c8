"""Benchmark sentiment against a team's own sentiment labels on play-store-fintech.

The team's labels are simulated by bench/fixtures/sentiment-play-store-300.csv: 300 reviews drawn
from play-store-fintech (seed 20261201; reviews of at least 15 characters, mostly ASCII; 60 per star
score, so neutral and mixed reviews are well represented), whose sentiment was labeled by reading
the text alone, without seeing the star score. Rule: the overall tone towards the app or the
service; a complaint or a problem is negative even when polite; praise is positive; questions,
requests, unclear text and reviews whose praise and complaints weigh the same are neutral. The file
holds only review ids and those labels; the texts and scores are read from
../shared/data/play-store-fintech at run time.

In one run, every option is scored against those labels (accuracy, macro-F1, Cohen's kappa):
the star rule, VADER, the star-trained head (`[sentiment] model = "stars"`), and the team model
(embeddings + logistic regression, text only / with the star score / plus weak star labels),
out-of-fold (5 folds); then the team model's learning curve (trained on N team labels, scored on
the others, 5 draws each) against the star rule on the same reviews. 2,000 unlabeled reviews
drawn from the corpus (seed 0) join as the pool the weak star labels come from.

Writes its section of docs/BENCHMARKS.md between <!-- team-sentiment:start --> and
<!-- team-sentiment:end -->.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CORPUS = ROOT.parent / "shared" / "data" / "play-store-fintech"
LABELS = ROOT / "bench" / "fixtures" / "sentiment-play-store-300.csv"
WORK = ROOT / "bench" / ".work" / "sent"
START, END = "<!-- team-sentiment:start -->", "<!-- team-sentiment:end -->"


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def load(pool: int, seed: int):
    """(texts, stars, team labels or None) for the labeled reviews followed by ``pool`` others."""
    import numpy as np

    from reviewtui.ingest import read_reviews

    reviews: dict[str, tuple[str, str]] = {}
    for path in sorted(CORPUS.glob("*/*.csv")):
        batch = read_reviews(path)
        for ext, text, meta in zip(batch.external_ids, batch.texts, batch.metadata):
            reviews.setdefault(ext, (text, str(meta.get("score", ""))))
    with open(LABELS, encoding="utf-8", newline="") as fh:
        team = {r["reviewId"]: r["sentiment"] for r in csv.DictReader(fh)}
    missing = [i for i in team if i not in reviews]
    if missing:
        raise SystemExit(f"{len(missing)} labeled reviews are not in {CORPUS} (e.g. {missing[0]})")
    others = sorted(set(reviews) - set(team))
    rng = np.random.default_rng(seed)
    ids = list(team) + [others[i] for i in rng.choice(len(others), size=pool, replace=False)]
    return ([reviews[i][0] for i in ids], [reviews[i][1] for i in ids],
            [team.get(i) for i in ids], len(reviews))


def learning_curve(X, stars, labels, sizes, draws: int = 5):
    """Macro-F1 of the team model trained on N team labels (the rest of the labeled reviews are
    its test set; unlabeled reviews give weak labels) and of the star rule on the same test set."""
    import numpy as np
    from sklearn.metrics import f1_score

    from reviewtui.analysis.sentiment import star_label
    from reviewtui.analysis.sentiment_model import TeamSentimentModel

    team = [i for i, v in enumerate(labels) if v is not None]
    out = []
    for n in sizes:
        rows = {"n": n, "team": [], "team_text": [], "rule": []}
        for d in range(draws):
            rng = np.random.default_rng(100 + d)
            train = set(rng.choice(team, size=n, replace=False).tolist())
            test = [i for i in team if i not in train]
            lab = [v if i in train else None for i, v in enumerate(labels)]
            ref = [labels[i] for i in test]
            for key, kw in (("team", {"use_stars": True}), ("team_text", {"use_stars": False})):
                m = TeamSentimentModel(min_labels=1, **kw).fit(X, stars, lab)
                rows[key].append(f1_score(ref, m.predict(X[test], [stars[i] for i in test]), average="macro"))
            rows["rule"].append(f1_score(ref, [star_label(stars[i]) or "neutral" for i in test], average="macro"))
        out.append({k: (float(np.mean(v)) if isinstance(v, list) else v) for k, v in rows.items()})
        log("curve", out[-1])
    return out


def section(r: dict) -> str:
    lines = [START, "## Sentiment against a team's own labels (bench/bench_sentiment.py)", "",
             f"Measured {r['when']} on {platform.machine()}, {os.cpu_count()} CPUs shared with other heavy work, "
             f"offline. play-store-fintech ({r['corpus']:,} reviews after cleaning): {r['n']} reviews with a "
             "sentiment labeled by reading the text alone, without the star score "
             "(bench/fixtures/sentiment-play-store-300.csv: 60 per star score; the labeling rule is in "
             f"bench/bench_sentiment.py), plus {r['pool']:,} unlabeled reviews for weak star labels. Labels: "
             + ", ".join(f"{k} {v}" for k, v in r["team_distribution"].items())
             + f". MiniLM embeddings; trained options are scored out-of-fold ({r['folds']} folds).", "",
             "| option | accuracy | macro-F1 | Cohen's kappa | scored |", "|---|---:|---:|---:|---|"]
    for a in r["agreements"]:
        lines.append(f"| {a['analyzer']} | {a['accuracy']:.3f} | {a['macro_f1']:.3f} | {a['kappa']:.3f} | "
                     f"{'out-of-fold' if a['cross_validated'] else 'directly'} |")
    if r.get("weak"):
        lines += ["", "Weak star labels of the unlabeled reviews next to the team's (team model with stars, "
                      "out-of-fold macro-F1): " + ", ".join(f"weight {w['weight']:g}: {w['macro_f1']:.3f}"
                                                           for w in r["weak"]) + "."]
    if r.get("curve"):
        lines += ["", "Learning curve: the team model trained on N team labels, scored on the other "
                      f"{r['n']} - N labeled reviews (mean of 5 draws); the star rule on the same reviews:", "",
                  "| team labels | team model (text + stars) macro-F1 | team model (text only) | star rule |",
                  "|---:|---:|---:|---:|"]
        for c in r["curve"]:
            lines.append(f"| {c['n']} | {c['team']:.3f} | {c['team_text']:.3f} | {c['rule']:.3f} |")
    lines += ["", f"Whole run {r['seconds']:.0f} s (embedding included).", END]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    import numpy as np
    from sklearn.metrics import f1_score

    from reviewtui.analysis.sentiment_model import TeamSentimentModel, compare_with_team, out_of_fold
    from reviewtui.modeling.embeddings import EmbeddingCache
    from reviewtui.modeling.loading import set_torch_threads

    set_torch_threads(int(os.environ.get("REVIEWTUI_TORCH_THREADS", "1")))
    started = time.perf_counter()
    texts, stars, labels, corpus = load(args.pool, seed=0)
    log(f"{len(texts)} reviews, {sum(v is not None for v in labels)} with team labels")
    X = EmbeddingCache(ROOT / "bench" / ".work" / "enc" / "cache", "minilm").embed(texts)
    log("embedded")
    result = compare_with_team(X, texts, stars, labels, folds=5, seed=0, weak_weight=0.1)
    r = {"when": time.strftime("%Y-%m-%d"), "corpus": corpus, "pool": args.pool, **result.to_dict()}
    for a in result.agreements:
        log(f"{a.analyzer}: accuracy {a.accuracy:.3f} macro-F1 {a.macro_f1:.3f} kappa {a.kappa:.3f}")
    team = [i for i, v in enumerate(labels) if v is not None]
    ref = [labels[i] for i in team]
    r["weak"] = []
    for w in (0.0, 0.03, 0.1, 0.3, 1.0):
        pred = out_of_fold(lambda w=w: TeamSentimentModel(min_labels=1, weak_weight=w), X, stars, labels, folds=5)
        r["weak"].append({"weight": w, "macro_f1": float(f1_score(ref, pred, average="macro"))})
        log("weak", r["weak"][-1])
    r["curve"] = learning_curve(X, stars, labels, (30, 60, 100, 150, 200, 250))
    r["seconds"] = time.perf_counter() - started
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(r, indent=2, default=str))
    text = section(r)
    print(text)
    if not args.no_write:
        path = ROOT / "docs" / "BENCHMARKS.md"
        old = path.read_text(encoding="utf-8")
        if START in old and END in old:
            new = old[:old.index(START)] + text.rstrip("\n") + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n" + text
        from reviewtui.files import atomic_write_text

        atomic_write_text(path, new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
