"""What both front ends say: the sentences and table cells the CLI and the app show, written once.

Everything here is plain text made from the core's data (a VersionInfo, a VersionDiff, a
TuneResult, TrialUpdates, a ModelCard, a PredictResult, ReportPaths): no markup, so the CLI prints
it with rich (markup off) and the app shows it in widgets and notifications as it is. No textual,
no rich, nothing heavy: the light commands import this module.

Contents:

* numbers: :func:`number`, :func:`elapsed`, :func:`bar`, :func:`short_name`
* categories: :func:`category_names` (taxonomy names for keys, for charts and tables)
* versions and labels: :func:`export_sentence`, :func:`undo_sentence`
* diffs: :func:`diff_headline`, :func:`relabel_lines`, :func:`status_change_counts`,
  :data:`DIFF_COLUMNS` / :func:`diff_cells`, :func:`to_review_sentence`
* models: :func:`card_sentence`, :func:`ensemble_sentence`
* tuning: :func:`trial_params`, :func:`params_text`, :func:`best_objective`, :func:`best_trial_id`,
  :func:`trial_best_text`, :func:`trial_status_word`, :func:`search_sentence`, :func:`best_trial_sentence`,
  :func:`saved_sentence`, :func:`tune_summary`
* analysis: :func:`predict_sentence`, :func:`predict_count_lines`, :func:`report_sentence`,
  :func:`no_sentiment_line`
* evaluation and model choice: :func:`cv_card_sentence`, :func:`evaluation_lines`, :func:`spread`,
  :data:`CANDIDATE_COLUMNS` / :func:`candidate_row` / :func:`candidate_cells`, :func:`winner_key`,
  :func:`selection_sentence`, :func:`epoch_progress_text`
* sentiment labels: :data:`SENTIMENT_KEYS`, :func:`sentiment_counts_text`
* the labeling loop: :func:`suggestion_source`, :func:`stop_line`, :func:`category_need_lines`,
  :func:`queue_how`, :func:`strategy_notice`, :func:`filter_header`, :func:`bulk_question`,
  :func:`bulk_sentence`, :data:`DISCOVER_COLUMNS` / :func:`cluster_cells`, :func:`discovery_headline`,
  :func:`growth_caution_sentence`, :func:`new_category_sentence`
* label quality: :func:`suspect_cells` / :data:`SUSPECT_COLUMNS`, :func:`suspect_reason`,
  :func:`suspects_sentence`, :func:`star_reason`, :func:`stars_sentence`, :func:`disagreement_reason`,
  :func:`agreement_sentence`, :func:`version_stats_cells`, :func:`author_stats_cells`,
  :func:`category_agreement_cells`, :func:`disagreements_question`; a diff's :func:`by_at_cell`
* background jobs: :data:`JOB_COLUMNS` / :func:`job_cells`, :func:`job_outcome`,
  :func:`job_started_sentence`, :func:`job_end_sentence`
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from reviewtui.backends import MoveResult
    from reviewtui.config import Taxonomy
    from reviewtui.diff import Change, VersionDiff
    from reviewtui.events import TrialUpdate
    from reviewtui.store import LabelEvent
    from reviewtui.versions import VersionInfo

#: The search objective's name in a trial's reported metrics (and in ``TrialUpdate.best``).
OBJECTIVE = "objective"


# --- numbers -------------------------------------------------------------------------------------
def count(n: int, word: str) -> str:
    """``1 label``, ``2 labels``, ``1,200 reviews``: ``n`` and ``word``, plural but for one."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def number(value: Any, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or "-" when it is missing or not a finite number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:.{digits}f}"
    return "-"


def elapsed(seconds: float) -> str:
    """``42s`` under a minute, ``3m05s`` above."""
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def training_state(spent_s: float, budget_s: float | None, scored: int, candidates: int) -> str:
    """The training screen's line while a training runs: the time spent (of the budget of
    ``train --auto``) and, where candidates are cross-validated, how many are scored. A training on
    a held-out split has no candidates: "0/0 candidates scored" said nothing there."""
    line = f"training {elapsed(spent_s)}" + (f" of a {elapsed(budget_s)} budget" if budget_s else "")
    return line + (f" · {scored}/{candidates} candidates scored" if candidates else "")


def bar(n: float, total: float, width: int) -> str:
    """A bar of ``width`` characters, ``n / total`` of it filled (``████····``)."""
    filled = round(width * n / total) if total else 0
    filled = max(0, min(width, filled))
    return "█" * filled + "·" * (width - filled)


_DANGLING = {"and", "or", "of", "the", "a", "an", "to", "in", "for", "with", "&", "-", "/"}


def short_name(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: whole when it fits, else its first words and "…"
    ("Subscription and billing problems" -> "Subscription…"); a first word longer than ``width``
    is cut inside."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:max(0, width)]
    kept: list[str] = []
    for word in text.split(" "):
        if len(" ".join(kept + [word])) + 1 > width:
            break
        kept.append(word)
    while kept and kept[-1].lower().strip(",;:") in _DANGLING:
        kept.pop()
    head = " ".join(kept).rstrip(",;:") if kept else text[:width - 1]
    return head + "…"


def short_id(external_id: str, width: int) -> str:
    """An id in at most ``width`` characters, cut in the middle ("5c0c0aa…89ab-eu"): its start and
    its end are kept, so ids that differ only at the end (copies per app or country) stay apart, and
    ``label``, ``skip`` and ``undo`` take it as shown (``LocalStore.resolve_id``)."""
    text = str(external_id)
    if len(text) <= width or width < 5:
        return text
    head = width // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def short_names(names: Sequence[str], width: int) -> list[str]:
    """Each of ``names`` in at most ``width`` characters, still told apart: cut at the end with
    "…" ("User experience" -> "User expe…") where that keeps them distinct; names it would make
    alike keep their start and their end around "…" ("Category number 10" -> "Cate…r 10"); names
    still alike then lose the start they all share ("com.a.app", "com.a.app-eu", "com.b.app",
    "com.b.app-eu" in 6: "a.app", "a.…-eu", "b.app", "b.…-eu"), or else show, after "…", where
    each parts from the name most like it."""
    def cut(text: str, middle: bool) -> str:
        if len(text) <= width or width < 3:
            return text[:max(0, width)]
        head = (width - 1) // 2 if middle else width - 1
        return text[:head].rstrip() + "…" + (text[len(text) - (width - 1 - head):].lstrip() if middle else "")

    def from_difference(text: str, others: list[str]) -> str:
        # the part where ``text`` parts from the name most like it, after a "…"
        start = max((len(os.path.commonprefix([text, o])) for o in others), default=0)
        start = max(0, min(start - 1, len(text) - (width - 1)))
        return "…" + text[start:start + width - 1]

    texts = [" ".join(str(n).split()) for n in names]
    out = [cut(t, False) for t in texts]
    alike = {n for n in out if out.count(n) > 1}
    out = [cut(t, True) if o in alike else o for t, o in zip(texts, out)]
    alike = {n for n in out if out.count(n) > 1}
    if not alike or width < 3:
        return out
    # still alike (app ids with one start and one end: "co…-eu"): without the start they share
    shared = len(os.path.commonprefix([t for t, o in zip(texts, out) if o in alike]))
    bare = [cut(t[shared:], True) if o in alike else o for t, o in zip(texts, out)]
    if len(set(bare)) == len(set(texts)):
        return bare
    return [from_difference(t, [u for u, p in zip(texts, out) if p == o and u != t]) if o in alike else o
            for t, o in zip(texts, out)]


# --- categories ----------------------------------------------------------------------------------
def category_names(keys: Iterable[Any], taxonomy: "Taxonomy", width: int | None = None) -> list[str]:
    """The taxonomy's name of each category key ("USER_EXPERIENCE" -> "User experience"); a key
    the taxonomy does not hold stays as it is. With ``width``, each name is :func:`short_name`'d."""
    names = {c.key: c.name for c in taxonomy}
    out = [names.get(str(k), str(k)) for k in keys]
    return [short_name(n, width) for n in out] if width else out


# --- versions and labels -------------------------------------------------------------------------
def export_sentence(info: "VersionInfo | None", *, root: Path, latest: str | None = None) -> str:
    """What ``reviewtui export`` (and the app's ``e``) says: the version written, or that nothing
    changed since ``latest`` (the newest version's name) when ``info`` is None."""
    if info is None:
        return f"Nothing changed since {latest or 'the last version'}; no version written."
    m = info.manifest
    counts = names_with_counts(m.get("counts_by_label", {}))
    try:
        where = info.csv_path.relative_to(root)
    except ValueError:
        where = info.csv_path
    out = f"Wrote {where}: {count(m.get('rows', 0), 'row')} ({counts}); parent {m.get('parent') or '-'}."
    left = m.get("labels_not_for_training") or {}
    if left:
        first = next(iter(left))
        out += (f" Left out, as not trained: {names_with_counts(left)}. The model will put reviews like them in "
                f"the trained categories; `reviewtui categories set {first} --train` lets it learn {first}.")
    removed = m.get("labels_removed") or {}
    if removed:
        out += f" Left out, as --remove asked: {names_with_counts(removed)}."
    orphans = m.get("labels_not_in_taxonomy") or {}
    if orphans:
        first = next(iter(orphans))
        out += (f" Left out, labels of no category of the taxonomy: {names_with_counts(orphans)}; "
                f"`reviewtui categories add NAME --key {first}` brings the category back, or label those reviews "
                "again.")
    waiting = m.get("waiting_in_review") or 0
    if waiting:
        them = "it" if waiting == 1 else "them"
        out += (f" Left out, waiting in review (TO_REVIEW): {count(waiting, 'labeled review')}; a label or a "
                f"confirmation makes {them} REVIEWED and the next version has {them} (the app's labeling screen "
                "with the filter status=TO_REVIEW, `reviewtui label ID LABEL` or `reviewtui confirm ID`).")
    return out


def import_labels_sentence(name: str, recorded: int, unchanged: int, kept: int) -> str:
    """What an import's label column did in one file: labels recorded, already so, and kept as a
    person (or a review, a skip) left them since an earlier import."""
    out = f"{name}: {count(recorded, 'label')} recorded (source import)"
    if unchanged:
        out += f", {unchanged:,} already so"
    if kept:
        out += (f"; {count(kept, 'review')} {'keeps' if kept == 1 else 'keep'} the label given since an earlier "
                "import (a correction, a confirmation, a review or a skip); to put a file's labels over them, "
                f"`reviewtui label --from FILE --allow-missing` {LABEL_FROM_NEEDS}")
    return out


#: What ``label --from`` reads (``Workspace.label_from_csv``), as the import report says it.
LABEL_FROM_NEEDS = ("reads a UTF-8 CSV (or one split by semicolons, tabs or bars) with an id column (id, "
                    "review_id, reviewId or externalId) and a column named label or category (a sentiment "
                    "column is read as sentiment); --allow-missing leaves out the ids the import dropped")


def label_sentence(external_id: str, before: str | None, after: str) -> str:
    """What labeling one review says: its new label, and the one it replaced when it had another
    ("relabeled r1: PRAISE -> FEES")."""
    if before and before != after:
        return f"relabeled {external_id}: {before} -> {after}"
    if before == after:
        return f"{external_id}: {after} (as it was)"
    return f"{external_id}: {after}"


#: The stop signal before its first round, where labels exist (``reviewtui status``)
NO_STOP_ROUND = ("no round yet: a round is recorded each time the quick model is refitted on enough new labels "
                 "(`reviewtui queue`, or the labeling screen)")


def undo_sentence(event: "LabelEvent | None", taxonomy: "Taxonomy | None" = None, now: Any = None) -> str:
    """What an undo says: what it undid and on which asset, or that there was nothing to undo.
    With ``taxonomy`` a label's category is named as the taxonomy names it; with ``now`` (the asset
    after the undo) an undone label says the label the review has now, or that it has none."""
    if event is None:
        return "Nothing to undo."
    what = category_name(event.category, taxonomy) if event.category else event.note or ""
    out = f"Undid {event.kind} {what} on {event.external_id}."
    if now is not None and event.kind == "label":
        out += (f" Its label is {category_name(now.label, taxonomy)} again ({now.status})." if now.label
                else f" It has no label now ({now.status}).")
    return out


def changed_since_shown(event: "LabelEvent", now: Any, taxonomy: "Taxonomy | None" = None) -> str:
    """What the labeling screen says when another author changed the review on screen since it was
    read (``event`` the latest of its history, ``now`` the review as stored): who did what, and
    that a label given again replaces it."""
    if event.kind in ("label", "confirm") and now.label:
        did = f"labeled it {category_name(now.label, taxonomy)}"
    elif event.kind == "skip":
        did = "skipped it" + (f" ({event.note})" if event.note else "")
    elif event.kind == "undo":
        did = ("undid its label" if not now.label
               else f"undid a change: its label is {category_name(now.label, taxonomy)}")
    else:
        did = f"set it {now.status}"
    return (f"{event.author} {did} since this review was shown ({event.created_at[:16]}); it shows now as stored. "
            "Label it again to replace that.")


def undo_bulk_sentence(events: "Sequence[LabelEvent]", taxonomy: "Taxonomy | None" = None,
                       undo: str = "`reviewtui undo`") -> str:
    """What ``undo --bulk`` says: how many labels of which category it took back (named as
    ``taxonomy`` names them when given); ``undo`` is what takes back a single label (the app's key)."""
    if not events:
        return (f"Your latest change is not a bulk label nor a labels file: nothing was undone ({undo} takes back "
                "your latest label).")
    from reviewtui.store import file_note_name

    name = file_note_name(events[0].note or "")
    labels = [e for e in events if e.kind != "sentiment"]  # a labels file's sentiments go back with it
    kept = sum(1 for e in labels if e.kind == "label" and getattr(e, "label_after", None))
    bare = len(labels) - kept
    after = (f" {kept:,} of the reviews {'keeps' if kept == 1 else 'keep'} an earlier or later label; {bare:,} "
             f"{'has' if bare == 1 else 'have'} no label now." if kept else "")
    if name is not None:
        felt = len(events) - len(labels)
        parts = [count(len(labels), "label")] if labels else []
        parts += [count(felt, "sentiment")] if felt else []
        return f"Undid the {' and the '.join(parts)} of {name} (`label --from`).{after}"
    categories = sorted({category_name(e.category, taxonomy) if e.category else "" for e in events})
    return (f"Undid the bulk label of {len(events):,} review{'s' if len(events) != 1 else ''} as "
            f"{', '.join(categories)}.{after}")


# --- diffs ---------------------------------------------------------------------------------------
def diff_headline(d: "VersionDiff") -> str:
    """``dataset-1 → dataset-2: 4 added, 0 removed, 2 relabeled, 2 status changed``."""
    c = d.counts
    renamed = f", {c['renamed']:,} moved with a renamed or merged category" if c.get("renamed") else ""
    sentiment = f", {c['sentiment_changed']:,} sentiment changed" if c.get("sentiment_changed") else ""
    return (f"{d.a} → {d.b}: {c['added']:,} added, {c['removed']:,} removed, {c['relabeled']:,} relabeled, "
            f"{c['status_changed']:,} status changed{sentiment}{renamed}")


def relabel_lines(d: "VersionDiff", limit: int | None = None) -> list[str]:
    """``relabeled FROM -> TO: N``, most common first (at most ``limit``), then the category
    changes: ``renamed OLD -> NEW: N (a category change: not sent to review)``."""
    pairs = list(d.relabel_pairs.items())
    lines = [f"relabeled {pair}: {n:,}" for pair, n in (pairs if limit is None else pairs[:limit])]
    return lines + [f"category change {pair}: {n:,} (renamed or merged: not sent to review)"
                    for pair, n in d.rename_pairs.items()]


def status_change_counts(d: "VersionDiff") -> dict[str, int]:
    """``"LABELED -> REVIEWED"`` -> count, in the diff's order."""
    out: dict[str, int] = {}
    for ch in d.status_changed:
        key = f"{ch.before} -> {ch.after}"
        out[key] = out.get(key, 0) + 1
    return out


#: The columns of a diff's changed rows: (title, key).
DIFF_COLUMNS = (("change", "change"), ("externalId", "id"), ("from", "from"), ("to", "to"), ("by / at", "by"),
                ("content", "content"))


def short_author(author: str | None, width: int = 8) -> str:
    """An author as a table shows it: an e-mail's local part, at most ``width`` characters."""
    name = str(author or "").split("@")[0] or str(author or "")
    return name if len(name) <= width else name[:width - 1] + "…"


def by_at_cell(change: "Change") -> str:
    """``ann 01-15``: who made a diff's change and on which day (month-day, UTC); "" when unknown."""
    if not change.author:
        return ""
    day = (change.at or "")[5:10]
    return f"{short_author(change.author, 6)} {day}".strip()


def by_at_text(change: "Change") -> str:
    """``by ann@example.com at 2026-01-15 09:30 UTC``; "" when the store does not know."""
    if not change.author:
        return ""
    at = change.at or ""
    return f"by {change.author}" + (f" at {at[:10]} {at[11:16]} UTC" if len(at) >= 16 else "")


def diff_has_authors(changes: Iterable["Change"]) -> bool:
    """True when any of the changes carries who made it."""
    return any(c.author for c in changes)


def diff_cells(change: "Change", content_chars: int = 300) -> tuple[str, str, str, str, str, str]:
    """One changed row's cells in :data:`DIFF_COLUMNS` order: a removed row's label under "from"
    (it was in A), an added row's under "to"."""
    removed = change.kind == "removed"
    before = change.before or (change.label if removed else None) or ""
    after = change.after or (None if removed else change.label) or ""
    return (change.kind, change.external_id, before, after, by_at_cell(change), change.content[:content_chars])


def to_review_sentence(moved: "MoveResult", limit: int = 10) -> str:
    """How many assets went to review, and why the others could not (first ``limit``)."""
    text = f"Sent {count(len(moved.moved), 'asset')} to review."
    if moved.failed:
        by_reason: dict[str, list[str]] = {}
        for ext, why in moved.failed.items():  # one reason once, with the ids it holds for
            by_reason.setdefault(str(why), []).append(str(ext))
        parts = []
        for why, ids in by_reason.items():
            shown = ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
            parts.append(f"{shown}: {why}")
        text += f" {len(moved.failed)} could not be moved: " + "; ".join(parts[:limit])
        if len(parts) > limit:
            text += f"; and {len(parts) - limit} other reasons"
    kept = moved.kept
    if kept:
        text += ("" if text.endswith(".") else ".")  # after the reasons of those that could not be moved
        text += (f" {count(len(kept), 'asset')} left as {'it is' if len(kept) == 1 else 'they are'}: "
                 + ", ".join(f"{n:,} {reason}" for reason, n in Counter(kept.values()).most_common()) + ".")
    return text


def priorities_sentence(batch: Any, limit: int = 3) -> str:
    """How many of a queue batch's priorities the backend set, and why the others were not (the
    first ``limit`` ids of each reason); when none was set, that the command fails for it. A
    reason the backend gave for the whole batch (out of reach) was said in a warning already."""
    failed = batch.moved.failed if batch.moved else {}
    ids = set(batch.external_ids)
    text = f"Priorities set in the {batch.backend} backend for {count(batch.priorities_set, 'asset')}"
    n_failed = sum(1 for e in failed if e in ids)
    if n_failed:
        text += f"; {n_failed:,} failed"
    by_reason: dict[str, list[str]] = {}
    for ext, why in ({} if batch.priorities_error else failed).items():
        by_reason.setdefault(str(why), []).append(str(ext))
    if by_reason:
        text += ": " + "; ".join(", ".join(e[:limit]) + (f" and {len(e) - limit} more" if len(e) > limit else "")
                                 + f": {why}" for why, e in list(by_reason.items())[:limit])
        if len(by_reason) > limit:
            text += f"; and {len(by_reason) - limit} other reasons"
    text += "."
    if batch.priorities_all_failed:
        text += (" Not one priority was set: the batch above is the ranking, to label in this order; rerun "
                 "`reviewtui queue` once the backend takes them.")
    return text


# --- models --------------------------------------------------------------------------------------
def card_sentence(card: Any) -> str:
    """What training (or tuning) says about the saved model: its test scores, or its
    cross-validated scores when it was trained on all labels (:func:`cv_card_sentence`)."""
    if is_cross_validated(card):
        return cv_card_sentence(card)
    m = card.metrics
    return (f"Saved model {card.name} ({card.kind}, base {card.base_model}) trained on {card.dataset_version} "
            f"in {training_time(card)}: test accuracy {number(m.get('accuracy'))}, weighted F1 "
            f"{number(m.get('f1_weighted'))}, macro F1 {number(m.get('f1_macro'))} "
            f"({card.splits.get('test', 0)} test rows).")


def seconds_text(seconds: float) -> str:
    """``0.8s`` under a minute, ``3m14s`` above (:func:`elapsed`)."""
    return f"{seconds:.1f}s" if seconds < 60 else elapsed(seconds)


def training_time(card: Any) -> str:
    """How long training took: ``0.8s``, or for a model that embedded the reviews first (the quick
    model) the whole and its parts, ``3m14s (3m13s embedding 7,963 reviews, 0.8s fitting)``."""
    embedding = (card.extra or {}).get("embedding") or {}
    if "seconds" not in embedding:
        return seconds_text(card.train_seconds)
    embed = float(embedding["seconds"])
    return (f"{seconds_text(embed + card.train_seconds)} ({seconds_text(embed)} embedding "
            f"{count(int(embedding.get('texts', 0)), 'review')}, {seconds_text(card.train_seconds)} fitting)")


def ensemble_sentence(card: Any) -> str | None:
    """For a fine-tuned + quick ensemble, how each part scored alone; None for a single model."""
    from reviewtui.modeling.history import idle_finetune

    alone, quick = card.extra.get("finetuned_only_metrics"), card.extra.get("quick_only_metrics")
    if not (alone and quick):
        return None
    idle = idle_finetune(card)
    if idle is not None:
        return idle_finetune_sentence(card.name, *idle, ensemble=card.metrics.get("accuracy"))
    return (f"Ensemble of the fine-tuned model (accuracy {number(alone.get('accuracy'))}) and the quick model "
            f"(accuracy {number(quick.get('accuracy'))}); [training] ensemble_quick = false keeps the "
            "fine-tune alone.")


def idle_finetune_sentence(name: str, alone: float, quick: float, *, ensemble: Any = None) -> str:
    """What to do about an ensemble whose fine-tuned part adds nothing (``alone`` < ``quick``)."""
    as_ = f"; the ensemble {number(ensemble)}" if ensemble is not None else ""
    return (f"The fine-tuned part of {name} adds nothing: accuracy {number(alone)} alone, against {number(quick)} for "
            f"its quick part{as_}. It learnt too little from these labels in these epochs, and it makes "
            "prediction several times slower: `reviewtui train --quick` saves the quick model alone, and more labels "
            "or epochs give a fine-tune its chance.")


# --- tuning --------------------------------------------------------------------------------------
_SHORT = {"learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "weight_decay": "wd", "warmup_ratio": "wu",
          "seed": "seed", "model": "", "quick_C": "C"}


def trial_params(config: dict[str, Any]) -> dict[str, Any]:
    """A trial's configuration less what its kind does not use: a search samples every parameter
    for every trial, but the quick model (embeddings + logistic regression) uses C alone, and the
    transformers everything but C. Without a ``model`` key (one kind), all of it. The model first."""
    quick = config.get("model") == "quick"
    return {key: value for key, value in sorted(config.items(), key=lambda kv: kv[0] != "model")
            if key == "model" or "model" not in config or (key == "quick_C") == quick}


def params_text(config: dict[str, Any]) -> str:
    """``minilm lr=3e-05 bs=16 ep=3``: the model first, then only the parameters it uses
    (:func:`trial_params`)."""
    parts = []
    for key, value in trial_params(config).items():
        if isinstance(value, float):
            value = f"{value:.2g}"
        name = _SHORT.get(key, key)
        parts.append(f"{name}={value}" if name else str(value))
    return " ".join(parts)


def best_objective(update: "TrialUpdate") -> float | None:
    """The search objective of the trial's best report so far (``update.best``); None before its
    first report, or for a trial that failed."""
    value = update.best.get(OBJECTIVE) if update.best else None
    if update.status == "ERROR" or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def best_trial_id(updates: Iterable["TrialUpdate"]) -> str | None:
    """The trial whose best report has the highest objective, the earliest to report winning a tie
    (the search's own rule, so the star and the closing summary name the same trial)."""
    best_id, best_score = None, -math.inf
    for u in updates:
        score = best_objective(u)
        if score is not None and score > best_score:
            best_id, best_score = u.trial_id, score
    return best_id


#: A search trial's state as every table and line says it: Ray's TERMINATED is a trial that ran all
#: its epochs, STOPPED one that ended before them (ASHA stopped it early, or the search was cancelled).
TRIAL_STATES = {"PENDING": "waiting", "RUNNING": "running", "TERMINATED": "done", "STOPPED": "stopped",
                "ERROR": "failed"}


def trial_status_word(status: str) -> str:
    """``done`` for Ray's TERMINATED, and so on (:data:`TRIAL_STATES`)."""
    return TRIAL_STATES.get(status, status.lower())


def trial_best_text(update: "TrialUpdate") -> str:
    """The validation accuracy of the trial's best report so far, or "-"."""
    return number(update.best.get("accuracy")) if update.best else "-"


def search_sentence(result: Any) -> str:
    """``Search done in 42s: 3 done, 1 stopped; 1 stopped early by ASHA.``"""
    counts = ", ".join(f"{n} {trial_status_word(s)}" for s, n in result.counts.items())
    return (f"Search {'cancelled' if result.cancelled else 'done'} in {result.search_seconds:.0f}s: {counts}; "
            f"{result.early_stopped} stopped early by ASHA.")


def best_trial_sentence(result: Any, *, with_config: bool = False) -> str | None:
    """``Best trial d1820394: validation accuracy 0.978 at epoch 2`` (its best report, the one the
    table stars and the saved model retrains), with its configuration when ``with_config``: the
    parameters of its kind only (:func:`trial_params`; the quick model trains no epochs)."""
    if not result.best_trial_id:
        return None
    config = dict(result.best_config)
    epoch = config.pop("best_epoch", None)
    folds = config.pop("folds", None)
    if config.get("model") == "quick":
        epoch = None
    config = trial_params(config)
    if folds:
        text = (f"Best trial {result.best_trial_id}: cross-validated accuracy "
                f"{number(result.best_metrics.get('accuracy'))}, macro F1 {number(result.best_metrics.get('f1_macro'))} "
                f"over {folds} fold{'s' if str(folds) != '1' else ''}")
    else:
        text = f"Best trial {result.best_trial_id}: validation accuracy {number(result.best_metrics.get('accuracy'))}"
    if epoch:
        text += f" at epoch {epoch}"
    if with_config:
        import json

        text += f" with {json.dumps(config)}"
    return text + "."


def saved_sentence(result: Any, keep_hint: str = "") -> str | None:
    """``Saved model NAME.``, or for a cancelled search that saved nothing ``Nothing saved
    (cancelled).`` followed by ``keep_hint`` (how this front end keeps the best trial) when a
    trial reported; None when a finished search saved nothing."""
    if result.card is not None:
        return f"Saved model {result.card.name}."
    if result.cancelled:
        return "Nothing saved (cancelled)." + (f" {keep_hint}" if keep_hint and result.best_trial_id else "")
    return None


def tune_summary(result: Any, keep_hint: str = "") -> str:
    """The closing summary of a search in one paragraph: how it went, the best trial, what was saved."""
    parts = [search_sentence(result), best_trial_sentence(result), saved_sentence(result, keep_hint)]
    return " ".join(p for p in parts if p)


# --- analysis ------------------------------------------------------------------------------------
def predict_sentence(res: Any) -> str:
    """``Predicted 40,000 reviews with NAME on cpu (int8 through onnxruntime) in 12.3s`` (the precision
    the model ran in and what ran it, the Ray cluster when there was one, and the chunks resumed)."""
    resumed = f", {res.resumed_chunks} of {res.chunks} chunks resumed" if res.resumed_chunks else ""
    precision = getattr(res, "precision", None)
    backend = (getattr(res, "precision_info", None) or {}).get("backend")
    if precision == "int8" and backend:
        precision = f"int8 through {backend}"
    where = f"the Ray cluster at {res.ray_address}" if getattr(res, "ray_address", None) else res.device
    return (f"Predicted {res.rows:,} reviews with {res.model} on {where}"
            f"{f' ({precision})' if precision else ''} in {res.seconds:.1f}s{resumed}.")


def predict_count_lines(res: Any, taxonomy: "Taxonomy | None" = None) -> list[str]:
    """The predicted categories (by the taxonomy's names, as the summary shows them) and sentiments
    with their counts."""
    names = category_names(list(res.counts), taxonomy) if taxonomy is not None else list(res.counts)
    lines = ["Categories: " + ", ".join(f"{n} {v:,}" for n, v in zip(names, res.counts.values()))]
    if res.sentiment_counts:
        choice = getattr(res, "sentiment_choice", "")
        lines.append(f"Sentiment ({res.sentiment}{f', as {choice}' if choice else ''}): "
                     + ", ".join(f"{k} {v:,}" for k, v in res.sentiment_counts.items()))
    return lines


def stale_lines(stale: Any, in_app: bool = False, untrained: bool = True) -> list[str]:
    """What summary, report and status say when the predictions are behind the workspace
    (``analysis.results.Staleness``; nothing when they are not, or no prediction ran): the reviews
    imported after the prediction, the labels given after its model learnt its labels; with
    ``untrained``, a category kept out of training that holds many labels (summary and report say
    it; status, a list of next steps, leaves it out). ``in_app`` names the app's keys instead of
    the commands."""
    if stale is None:
        return []
    out = []
    predict = "p on the Summary screen" if in_app else "`reviewtui predict`"
    n = stale.unpredicted
    if n:
        out.append(f"{n:,} review{'s' if n != 1 else ''} imported after the last prediction "
                   f"{'have' if n != 1 else 'has'} no prediction: run {predict}.")
    k = stale.late_labels
    if k:
        given = f"{k:,} label{'s were' if k != 1 else ' was'} given"
        if stale.kind == "quick":
            again = predict if in_app else "`reviewtui predict --model quick`"
            out.append(f"{given} after the last prediction fitted its quick model: {again} folds them in.")
        else:
            after = f"model {stale.model}'s training data ({stale.version})" if stale.version else \
                f"model {stale.model} was trained"
            done = getattr(stale, "in_version", None)
            if done:  # exported since: training on that version is what is left
                fold = (f"{done} has them: t on the Tune screen (train) folds them in, then p on the Summary screen"
                        if in_app else f"{done} has them: `reviewtui train` folds them in, then `reviewtui predict`")
            else:
                fold = ("e (export) and t on the Tune screen (train) fold them in, then p on the Summary screen"
                        if in_app else "`reviewtui export` and `reviewtui train` fold them in, then `reviewtui predict`")
            out.append(f"{given} after {after}: {fold}.")
    unknown = list(getattr(stale, "unknown_names", ()) or getattr(stale, "unknown_categories", ()) or ())
    if unknown:
        names = ", ".join(unknown)
        one = len(unknown) == 1
        if stale.kind == "quick":
            fold = predict if in_app else "`reviewtui predict --model quick`"
        else:
            fold = ("e (export), t on the Tune screen (train), then p on the Summary screen" if in_app
                    else "`reviewtui export`, `reviewtui train`, then `reviewtui predict`")
        out.append(f"The last prediction's model does not know {names} (no label of {'it' if one else 'them'} "
                   f"when it learnt, or added since), so no review is predicted in {'it' if one else 'them'}: "
                   f"label some, then {fold}.")
    if untrained:
        out += untrained_lines(stale, in_app)
    return out


def untrained_lines(stale: Any, in_app: bool = False) -> list[str]:
    """A line per category kept out of training that holds many labels (``Staleness.untrained``):
    not behind, and no prediction changes it; the reviews like its labels are counted in the
    trained categories (generic complaints read as Praise when Other is not trained)."""
    out: list[str] = []
    if stale is None:
        return out
    for key, name, labels in getattr(stale, "untrained", ()) or ():
        quick = stale.kind == "quick"  # the quick model learns it at the next prediction
        if in_app:  # two lines of the Summary screen's notes, which have a few rows
            then = "p" if quick else "e, t (Tune), then p"
            out.append(f"{name} ({count(labels, 'label')}) is not trained: reviews like them are counted in the "
                       f"trained categories; `reviewtui categories set {key} --train`, then {then}, learns it.")
            continue
        then = ("`reviewtui predict --model quick`" if quick
                else "`reviewtui export`, `reviewtui train`, then `reviewtui predict`")
        out.append(f"{name} is not trained ({count(labels, 'label')}, train = false): no review is predicted in it, "
                   f"and reviews like its labels are counted in the trained categories. `reviewtui categories set "
                   f"{key} --train`, then {then}, lets the model learn {name}.")
    return out


def stale_record(stale: Any) -> dict[str, Any] | None:
    """The ``stale`` field of the JSON of summary, report and status: the numbers and their lines."""
    return None if stale is None else {**stale.to_dict(), "notes": stale_lines(stale)}


def no_sentiment_line() -> str:
    """Said where a summary leaves the sentiment out: the predictions carry none (``--sentiment none``)."""
    from reviewtui.analysis.summary import NO_SENTIMENT

    return NO_SENTIMENT


def report_sentence(paths: Any) -> str:
    """``Wrote report.md and report.html (N charts, M tables under results/tables).``, and that the
    sentiment is left out where the predictions carry none."""
    return (f"Wrote {paths.markdown} and {paths.html} ({len(paths.charts)} charts, "
            f"{len(paths.tables)} tables under {paths.markdown.parent}/tables)."
            + ("" if getattr(paths, "sentiment", True) else " " + no_sentiment_line()))


def names_with_counts(counts: dict[str, int]) -> str:
    """``SUBSCRIPTION 3, CONTENT 2``."""
    return ", ".join(f"{k} {v:,}" for k, v in counts.items())


def model_rows(models: Sequence[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """The status's models as (model, version, base, accuracy, weighted F1) cells."""
    out = []
    for m in models:
        met = m.get("metrics") or {}
        out.append((str(m["name"]), str(m.get("version") or "-"), str(m.get("base") or "-"),
                    number(met.get("accuracy")), number(met.get("f1_weighted"))))
    return out


# --- reviews in: collect, apps, categories, exports by format --------------------------------------
#: Why one app's collect stopped, in words.
STOP_REASONS = {
    "count": "reached the count asked for",
    "known": "reached reviews already collected",
    "since": "reached reviews older than --since",
    "end": "no more reviews",
    "cancelled": "cancelled",
}
NO_APP = "(no app)"


def app_name(app: Any) -> str:
    """An app as shown: its name, or "(no app)" for reviews without one."""
    return str(app) if app not in (None, "") else NO_APP


def app_count_rows(by_app: dict[str, int]) -> list[tuple[str, int]]:
    """The status's counts by app as (app, reviews) rows, most first; empty when no review has an app."""
    if not any(a for a in by_app):
        return []
    return [(app_name(a), n) for a, n in sorted(by_app.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def collect_app_line(app: Any, imported: Any = None) -> str:
    """One app's collect: ``com.example.app: 3 pages, 600 new reviews (no more reviews); 598 added``."""
    why = STOP_REASONS.get(app.stopped_because, app.stopped_because)
    resumed = ", continuing an unfinished collect" if app.resumed else ""
    line = (f"{app.app_id}: {app.pages} page{'s' if app.pages != 1 else ''}, {app.reviews:,} new review"
            f"{'s' if app.reviews != 1 else ''} ({why}{resumed})")
    if imported is not None:
        line += f"; {imported.added:,} added to the workspace"
        if imported.existing:
            line += f" ({imported.existing:,} already there)"
    return line + "."


def collect_lines(outcome: Any, raw_dir: Path | None = None) -> list[str]:
    """What ``reviewtui collect play`` (and the app's collect) says when it ends."""
    result = outcome.collect
    reports = {Path(r.source).name: r for r in (outcome.imported.reports if outcome.imported else [])}
    lines = [collect_app_line(a, reports.get(a.folder.name)) for a in result.apps]
    where = f" under {raw_dir}" if raw_dir is not None else ""
    if outcome.imported is None:
        lines.append(f"Saved the pages{where}; not imported (--no-import): import them with "
                     "`reviewtui import data/raw/APP_ID`.")
    if result.cancelled:
        lines.append("Cancelled: what was collected is saved" + (" and imported" if outcome.imported else "")
                     + "; rerun the same command to continue where it stopped.")
    return lines


def category_change_sentence(applied: Any) -> str:
    """What ``reviewtui categories add|set|rename|merge|remove`` says."""
    change = applied.change
    text = change.note[0].upper() + change.note[1:] if change.note else change.action
    if change.relabel:
        text += (f": {applied.moved:,} review{'s' if applied.moved != 1 else ''} relabeled with new label events "
                 "(the history and the exported versions stay as they are)")
    return text + "."


def formatted_export_sentence(res: Any, *, root: Path) -> str:
    """``Wrote dataset-3 as parquet to exports/dataset-3.parquet (240 rows; labels: A, B).``"""
    w = res.written
    try:
        where = w.path.relative_to(root)
    except ValueError:
        where = w.path
    return f"Wrote {w.version} as {w.format} to {where} ({w.rows:,} rows; labels: {', '.join(w.label_names)})."


# --- background jobs -----------------------------------------------------------------------------
#: The columns of a jobs table (the CLI's ``reviewtui jobs`` and the app's status screen).
JOB_COLUMNS = ("job", "kind", "state", "started", "took", "outcome")


def job_started_sentence(job: Any) -> str:
    """``Started tune job 3f2a91c0 in the background: ...`` and how to follow and cancel it."""
    return (f"Started {job.kind} job {job.id} in the background; it goes on if this terminal closes. "
            f"Follow it: reviewtui jobs follow {job.id}. Cancel it: reviewtui jobs cancel {job.id}.")


#: A job's parameters as the options of its command (``training`` and ``tuning`` hold overrides).
JOB_OPTIONS = {"model": "--model", "sentiment": "--sentiment", "chunk_size": "--chunk-size",
               "precision": "--precision", "ray_address": "--ray-address", "trials": "--trials",
               "epochs": "--epochs", "learning_rate": "--lr", "batch_size": "--batch-size", "folds": "--folds",
               "candidates": "--candidates"}
JOB_FLAGS = {"quick": "--quick", "auto": "--auto", "overwrite": "--overwrite", "save_on_cancel": "--save-on-cancel"}


def duration_option(seconds: float) -> str:
    """Seconds as ``--budget`` takes them: ``3m``, ``1h30m``, ``45s``; ``none`` for 0 (no limit)."""
    if not seconds:
        return "none"
    h, rest = divmod(int(round(seconds)), 3600)
    m, sec = divmod(rest, 60)
    return "".join(f"{v}{unit}" for v, unit in ((h, "h"), (m, "m"), (sec, "s")) if v) or "1s"


def job_command(job: Any) -> str:
    """What a job was asked, in its command's words: ``train --quick --budget 3m (dataset-3)``:
    its options, then the dataset version it trains on; the model name is left out."""
    params = dict(job.params or {})
    words = [job.kind]
    overrides = [(params.get(k) or {}).items() for k in ("training", "tuning", "evaluation")]
    for key, value in [*params.items(), *(pair for part in overrides for pair in part)]:
        if key in JOB_FLAGS and value:
            words.append(JOB_FLAGS[key])
        elif key == "budget_s":
            words.append(f"--budget {duration_option(float(value))}")
        elif key == "time_budget_s":
            words.append(f"--time-budget {float(value) / 60:g}")
        elif key == "cv_below" and not value:
            words.append("--split")
        elif key in JOB_OPTIONS and value is not None:
            words.append(f"{JOB_OPTIONS[key]} {','.join(map(str, value)) if isinstance(value, list) else value}")
    return " ".join(words) + (f" ({params['version']})" if params.get("version") else "")


def toml_value(value: Any) -> str:
    """A setting's value as reviewtui.toml writes it: ``"minilm"``, ``true``, ``0.0001``, ``[1, 2]``
    (the config's own TOML writer)."""
    from reviewtui.config import toml_value as write

    return write(value)


def running_job_line(job: dict[str, Any]) -> str:
    """One running job of ``status`` (``WorkspaceStatus.jobs``): ``Running: predict job 3f2a91c0
    (predict --model ft2), started 2026-12-04 14:53 UTC; predict 1,977/2,611 (76%)``."""
    from types import SimpleNamespace

    what = job_command(SimpleNamespace(kind=job["kind"], params=job.get("params") or {}))
    started = (job.get("started") or "?").replace("T", " ")[:16]
    line = f"Running: {job['kind']} job {job['id']} ({what}), started {started} UTC"
    p = job.get("progress")
    if p:
        done, total = int(p.get("done") or 0), p.get("total")
        line += f"; {p.get('task')} {done:,}"
        if total:
            line += f"/{int(total):,} ({100 * done // max(1, int(total))}%)"
    return line


def job_outcome(job: Any) -> str:
    """What a job came to, in a few words: its saved model, predictions, error, or how far it is."""
    data = job.result or {}
    if job.state == "failed":
        return job.error or "failed"
    if job.state in ("starting", "running"):
        return "cancelling" if job.cancel_requested else job_command(job)  # what it was asked, not internals
    if job.kind in ("train", "keep") and data.get("model"):
        return f"saved model {data['model'].get('name')}"
    if job.kind == "tune":
        model = (data.get("model") or {}).get("name")
        best = data.get("best_trial")
        acc = number((data.get("best_validation") or {}).get("accuracy"))
        text = f"best trial {best} ({acc})" if best else "no trial reported"
        return text + (f", saved model {model}" if model else ", nothing saved" if job.state == "cancelled" else "")
    if job.kind == "predict" and data.get("rows"):
        return f"{data['rows']:,} reviews predicted with {data.get('model')}"
    return job.error or job.state


def job_cells(job: Any, now: float | None = None) -> tuple[str, str, str, str, str, str]:
    """One job as the cells of :data:`JOB_COLUMNS`."""
    import time

    from reviewtui.files import parse_timestamp

    def seconds(stamp: str | None) -> float | None:
        try:
            return parse_timestamp(stamp).timestamp() if stamp else None
        except ValueError:
            return None

    start = seconds(job.started or job.created)
    end = seconds(job.ended) or (now if now is not None else time.time())
    took = elapsed(end - start) if start is not None else "-"
    started = (job.started or job.created or "-").replace("T", " ")[:19]
    return job.id, job.kind, job.state, started, took, job_outcome(job)


def job_end_sentence(job: Any) -> str:
    """``Job 3f2a91c0 (tune) finished: best trial ...`` — how a job ended, in one line."""
    return f"Job {job.id} ({job.kind}) {job.state}: {job_outcome(job)}."


# --- the labeling loop: suggestions, the stop signal, filters, discover ---------------------------
def category_name(key: str | None, taxonomy: "Taxonomy | None") -> str:
    """The taxonomy's name for ``key`` (the key itself when unknown or without a taxonomy, "-"
    for None)."""
    if key is None:
        return "-"
    if taxonomy is None:
        return str(key)
    try:
        return taxonomy.get(key).name
    except KeyError:
        return str(key)


def suggestion_source(source: str, labels: int, prior_weight: float, from_names: bool = False) -> str:
    """Where suggestions come from: ``Suggestions.source``/``labels``/``prior_weight``/``from_names``."""
    if source == "zero-shot" and from_names:
        # two lines of the labeling screen's 30-cell model box, which a 24-row terminal keeps
        return "zero-shot from names only: add descriptions in reviewtui.toml"
    if source == "zero-shot":
        return "zero-shot: descriptions and examples, no model yet"
    if source == "model":
        text = f"quick model on {labels:,} labels"
        if prior_weight >= 0.005:
            text += f", zero-shot prior {prior_weight:.0%}"
        return text
    return ("no suggestion yet: label reviews of two categories (zero-shot suggestions need two categories "
            "to train and [active_learning] prior_labels above 0)")


def stop_line(summary: Any) -> str:
    """The stop signal in one line: its kappa sparkline, then what it says (``StopSummary``)."""
    spark = summary.sparkline.strip()  # the first round has no kappa: a blank
    return f"{spark} {summary.line}" if spark else summary.line


def category_need_lines(needs: Sequence[Any], taxonomy: "Taxonomy | None") -> list[str]:
    """One line per training category (``CategoryNeed``): its labels, cross-validated F1 and
    its change over the last rounds; the weakest marked, with why (below
    ``MIN_LABELS_PER_CATEGORY`` labels a category is the weakest whatever its F1)."""
    from reviewtui.loop.stopping import MIN_LABELS_PER_CATEGORY

    out = []
    for n in needs:
        f1 = f"CV F1 {n.f1:.2f}" if n.f1 is not None else "CV F1 -"
        change = f" ({n.change:+.2f} over {count(n.over, 'round')})" if n.change is not None else ""
        why = "fewest labels" if n.labels < MIN_LABELS_PER_CATEGORY else "lowest CV F1"
        mark = f"  <- needs labels most ({why})" if n.weakest else ""
        out.append(f"{category_name(n.key, taxonomy)}: {n.labels:,} labels, {f1}{change}{mark}")
    return out


def queue_how(batch: Any, taxonomy: "Taxonomy") -> str:
    """How a ``QueueBatch`` was chosen: "zero-shot first batch (no model yet)", "coverage (no
    model yet)", "weakest: Interface", or the strategy."""
    return batch.ranked_by(taxonomy) + (" (no model yet)" if batch.cold_start else "")


def strategy_notice(strategy: str, weakest: str | None, taxonomy: "Taxonomy") -> str:
    """The notification of a strategy switch (the weakest strategy names its category)."""
    if strategy == "weakest":
        if weakest is None:
            return "strategy: weakest (no category known yet: ranked as margin); re-ranking the queue"
        return f"strategy: weakest, steering to {category_name(weakest, taxonomy)}; re-ranking the queue"
    return f"strategy: {strategy}; re-ranking the queue"


def filter_header(description: str, total: int | None) -> str:
    """The filter line above a filtered queue: what it keeps and how many reviews."""
    if total is None:
        return f"filter: {description}"
    return f"filter: {description} · {total:,} review{'s' if total != 1 else ''}"


def bulk_question(count: int, description: str, category: str, in_app: bool = False) -> str:
    """The confirmation of a bulk label, naming the count (and the keys that undo it, ``in_app``)."""
    undo = "u takes them back one at a time, U all at once" if in_app else \
        "undo takes them back one at a time, `reviewtui undo --bulk` all at once"
    return (f"Label all {count:,} review{'s' if count != 1 else ''} of the filtered queue ({description}) as "
            f"{category}? Each gets its own label event: {undo}.")


def bulk_sentence(result: Any, taxonomy: "Taxonomy") -> str:
    """What a bulk label wrote (``BulkLabel``)."""
    text = f"Labeled {result.recorded:,} review{'s' if result.recorded != 1 else ''} as " \
           f"{category_name(result.category, taxonomy)}"
    if result.unchanged:
        text += f" ({result.unchanged:,} already were)"
    return text + "."


def share_percent(value: float | None, signed: bool = False) -> str:
    """``12.5%`` (``+12.5%`` when ``signed``), "-" for None: a cluster's share and growth."""
    if value is None:
        return "-"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


DISCOVER_COLUMNS = ("#", "cluster", "size", "share", "growth")


def cluster_cells(cluster: Any, caution: Any = None, total: int = 0) -> tuple[str, str, str, str, str]:
    """A ``Cluster`` as table cells: rank (1-based), its words, size, share and growth; the growth
    is marked ``?`` when ``caution`` (the Discovery's ``GrowthCaution``) names the cluster as too
    small for it. Outside what is new in a version the share is the cluster's of the ``total``
    reviews clustered (the selection), and there is no growth."""
    growth = share_percent(cluster.growth, signed=True)
    if caution is not None and cluster.id + 1 in caution.small_clusters:
        growth += " ?"
    share = cluster.share if cluster.share is not None else (cluster.size / total if total else None)
    return (str(cluster.id + 1), ", ".join(cluster.words[:5]) or cluster.name, f"{cluster.size:,}",
            share_percent(share), growth)


def discovery_headline(d: Any) -> str:
    """One line about a ``Discovery``: the selection, its size, the clusters and how they were made."""
    text = f"{d.selection}: {count(d.size, 'review')}, {count(len(d.clusters), 'cluster')}"
    if d.compared_with:
        text += f", compared with {d.compared_with:,} reviews of the earlier versions"
    if d.unclustered:
        text += f", {d.unclustered:,} in no cluster"
    if d.compared_with:  # the clustering ran over both: its figures are not the table's
        return f"{text}. Clustered together with the earlier versions' reviews: {d.reason}."
    return f"{text}. {d.reason}."


def growth_caution_sentence(caution: Any) -> str | None:
    """The warning with what is new in a version whose growth rests on too few reviews (a
    ``GrowthCaution``): which reviews are too few and what to do; None without a caution."""
    if caution is None:
        return None
    c = caution
    short = [(n, where) for n, where in ((c.reviews, "in this version"), (c.earlier, "in the earlier versions"))
             if n < c.min_reviews]
    ranks = [str(r) for r in c.small_clusters]
    clusters = (f"cluster {ranks[0]} holds" if len(ranks) == 1 else
                f"clusters {', '.join(ranks[:-1])} and {ranks[-1]} hold") if ranks else ""
    if not short:
        return (f"Too few reviews for reliable growth: {clusters} under {c.min_cluster} of this version's "
                "(growth marked ?). Read the marked growth as a hint, not a finding.")
    fewest = max(1, min(n for n, _ in short))
    text = (f"Too few reviews for reliable growth: {' and '.join(f'{n:,} {where}' for n, where in short)}, "
            f"under {c.min_reviews}{' each' if len(short) == 2 else ''} (one review moves a share by "
            f"{100 / fewest:.0f} points)")
    if clusters:
        text += f"; {clusters} under {c.min_cluster} of this version's (growth marked ?)"
    more = "" if len(short) == 2 else " of this version" if c.reviews < c.min_reviews else " of the earlier versions"
    return f"{text}. Read the ranking as a hint and collect more reviews{more} before acting on it."


def new_category_sentence(made: Any) -> str:
    """What making a cluster a category did (``NewCategory``)."""
    text = (f"Added the category {made.name} ({made.key}) to the taxonomy; {made.queued:,} of its reviews "
            f"{'is' if made.queued == 1 else 'are'} first in the queue")
    if made.already_labeled:
        text += f", {made.already_labeled:,} already labeled keep their label"
    if made.to_review:
        whose = (f"labeled {' or '.join(made.from_names)}" if made.from_names
                 else "labeled with a category not trained on")
        text += (f"; {made.to_review:,} of those, {whose}, "
                 f"{'was' if made.to_review == 1 else 'were'} sent to review (filter status=TO_REVIEW to "
                 "relabel them)")
    failed = len(made.moved.failed) if made.moved is not None else 0
    if failed:
        text += f" ({failed} priorities could not be set)"
    return text + ". Nothing was labeled."


# --- label quality -------------------------------------------------------------------------------
def percent(value: Any) -> str:
    """``82%``, or "-" when missing."""
    return f"{value:.0%}" if isinstance(value, (int, float)) and math.isfinite(value) else "-"


#: The columns of the suspects table: (title, key).
SUSPECT_COLUMNS = (("#", "rank"), ("id", "id"), ("label", "label"), ("suggested", "suggested"),
                   ("conf.", "confidence"), ("reason", "reason"), ("review", "text"))


def suspect_reason(suspect: Any, taxonomy: "Taxonomy | None" = None) -> str:
    """Why a label is suspect, in one line: the model's two probabilities, and cleanlab's flag;
    with ``taxonomy`` the categories by their names."""
    reason = suspect.reason
    if taxonomy is not None:
        label, suggested = category_name(suspect.label, taxonomy), category_name(suspect.suggested, taxonomy)
        reason = (f"the model gives {suggested} {suspect.confidence:.0%}, {label} {suspect.label_probability:.0%}"
                  if suspect.disagrees else f"the model agrees ({label} {suspect.confidence:.0%})")
    by = getattr(suspect, "author", "")
    return reason + ("; cleanlab flags it" if suspect.flagged else "") + (f"; labeled by {by}" if by else "")


#: How much of a suspect's review its row shows.
SUSPECT_TEXT_CHARS = 200


def suspect_cells(suspect: Any, rank: int,
                  taxonomy: "Taxonomy | None" = None) -> tuple[str, str, str, str, str, str, str]:
    """One suspect's cells in :data:`SUSPECT_COLUMNS` order (``rank`` counts from 1; the review
    cut to :data:`SUSPECT_TEXT_CHARS`; with ``taxonomy`` the categories by their names)."""
    text = " ".join(str(suspect.text).split())
    if len(text) > SUSPECT_TEXT_CHARS:
        text = text[:SUSPECT_TEXT_CHARS - 1] + "…"
    label, suggested = ((category_name(suspect.label, taxonomy), category_name(suspect.suggested, taxonomy))
                        if taxonomy is not None else (suspect.label, suspect.suggested))
    return (str(rank), suspect.external_id, label, suggested, percent(suspect.confidence),
            suspect_reason(suspect, taxonomy), text)


def suspects_sentence(report: Any) -> str:
    """``3 suspect labels among 16 (2 flagged by cleanlab, 1 confirmed); 3-fold x 3 out-of-fold probabilities.``"""
    suspects = report.suspects
    flagged = sum(s.flagged for s in suspects)
    left = (f"; {len(report.left_out):,} could not be judged (a category with too few labels)"
            if report.left_out else "")
    out = (f"{count(len(suspects), 'suspect label')} among {len(report.items):,} ({flagged:,} flagged by cleanlab, "
           f"{report.confirmed:,} confirmed); {report.folds}-fold x {report.repeats} out-of-fold probabilities{left}.")
    per = Counter(s.label for s in report.items)
    few = sorted(per.values())[len(per) // 2] if per else 0  # the median category's labels
    if per and few < FEW_FOR_SUSPECTS:
        out += (f" With {few} labels in the median category the model that judges them has seen few examples: "
                "read these as hints, most are the model's own errors; they sharpen with more labels.")
    return out


#: Fewer labels than this in the median category: the suspects are said to be rough.
FEW_FOR_SUSPECTS = 15


def star_reason(conflict: Any, analyzer: str = "") -> str:
    """``5★ but the text reads negative (vader -0.82)``."""
    by = f"{analyzer} " if analyzer else ""
    return f"{conflict.stars}★ but the text reads {conflict.sentiment} ({by}{conflict.score:+.2f})"


def stars_sentence(report: Any) -> str:
    """``2 reviews whose stars contradict their text, of 40 with 1 or 5 stars (vader, threshold 0.5).``"""
    sample = getattr(report, "sampled_from", None)
    of = f"of {report.checked:,} with 1 or 5 stars" + (f" (a sample of the {sample:,})" if sample else "")
    return (f"{len(report.open)} reviews whose stars contradict their text, {of} "
            f"({report.analyzer}, threshold {report.threshold:g})"
            + (f"; {len(report.items) - len(report.open)} confirmed" if len(report.open) < len(report.items) else "")
            + ".")


def disagreement_reason(labels: dict[str, str], taxonomy: "Taxonomy | None" = None) -> str:
    """``ann CONTENT · bob INTERFACE``: each author's latest label (by its name with ``taxonomy``)."""
    return " · ".join(f"{short_author(a, 12)} {category_name(v, taxonomy)}" for a, v in labels.items())


def agreement_sentence(report: Any) -> str:
    """The headline of the agreement between authors: how many assets, and the coefficients."""
    if not report.assets:
        return ("No review has labels from two authors yet: agreement needs two or more people labeling the "
                "same reviews (in the app, or a Kili project with consensus).")
    parts = [f"observed {percent(report.observed)}"]
    if report.cohen_kappa is not None:
        parts.append(f"Cohen's κ {number(report.cohen_kappa, 2)}")
    parts += [f"Fleiss' κ {number(report.fleiss_kappa, 2)}",
              f"Krippendorff's α {number(report.krippendorff_alpha, 2)}"]
    n = len(report.disagreements)
    settled = sum(bool(getattr(d, "settled", False)) for d in report.disagreements)
    tail = f"; {n} disagreement{'s' if n != 1 else ''}" + (f", {n - settled} open ({settled} settled by a label "
                                                         "confirmed after them)" if settled else "")
    return (f"Agreement on {report.assets} reviews labeled by two or more of {len(report.authors)} authors "
            f"({report.ratings} labels): " + ", ".join(parts) + tail + ".")


def transitions_text(transitions: dict[str, int], limit: int | None = 3, taxonomy: "Taxonomy | None" = None) -> str:
    """``CONTENT → INTERFACE 2, CONTENT → SUBSCRIPTION 1`` (the first ``limit``, then "+N more");
    with ``taxonomy``, the categories by its names (``Content → Interface 2``), as the app shows them."""
    items = list(transitions.items())
    shown = items if limit is None else items[:limit]

    def pair_text(pair: str) -> str:
        keys = pair.split(" -> ")
        return " → ".join(category_name(k, taxonomy) if taxonomy is not None else k for k in keys)

    text = ", ".join(f"{pair_text(pair)} {n}" for pair, n in shown)
    return text + (f" +{len(items) - len(shown)} more" if len(items) > len(shown) else "") if items else "-"


def version_transitions_line(v: Any, taxonomy: "Taxonomy | None" = None) -> str | None:
    """``dataset-1 → dataset-2: BUG → PRAISE 2; moved with a renamed category: BUG → DEFECT 20``
    for a VersionStats, or None when none of its rows changed label; with ``taxonomy`` the
    relabels name the categories (a category change keeps its keys)."""
    parts = [transitions_text(v.transitions, None, taxonomy)] if v.transitions else []
    if getattr(v, "renamed", None):
        parts.append("moved with a renamed or merged category: " + transitions_text(v.renamed, None))
    return f"{v.parent} → {v.name}: " + "; ".join(parts) if parts else None


#: The columns of the per-version table: (title, key).
VERSION_STATS_COLUMNS = (("version", "version"), ("rows", "rows"), ("added", "added"), ("removed", "removed"),
                         ("relabeled", "relabeled"), ("status", "status"), ("rate", "rate"),
                         ("transitions", "transitions"))


def version_stats_cells(v: Any, limit: int | None = 3, taxonomy: "Taxonomy | None" = None) -> tuple[str, ...]:
    """One version's cells in :data:`VERSION_STATS_COLUMNS` order (``taxonomy``: see :func:`transitions_text`)."""
    return (v.name, f"{v.rows:,}", f"{v.added:,}", f"{v.removed:,}", f"{v.relabeled:,}", f"{v.status_changed:,}",
            percent(v.relabel_rate) if v.relabel_rate is not None else "-",
            transitions_text(v.transitions, limit, taxonomy))


#: The columns of the per-author table: (title, key).
AUTHOR_STATS_COLUMNS = (("author", "author"), ("labels", "labels"), ("skips", "skips"), ("undos", "undos"),
                        ("confirms", "confirms"), ("sessions", "sessions"), ("s/label", "seconds"),
                        ("labels/h", "per_hour"))


def author_stats_cells(a: Any) -> tuple[str, ...]:
    """One author's cells in :data:`AUTHOR_STATS_COLUMNS` order (s/label: the median)."""
    return (a.author, f"{a.labels:,}", f"{a.skips:,}", f"{a.undos:,}", f"{a.confirms:,}", f"{a.sessions:,}",
            number(a.median_seconds_per_label, 1), number(a.labels_per_hour, 0))


def category_agreement_cells(c: Any, name: str) -> tuple[str, str, str, str]:
    """(category, labels, specific agreement, kappa) of one category's agreement."""
    return (name, f"{c.ratings:,}", percent(c.specific) if c.specific is not None else "-", number(c.kappa, 2))


def disagreements_question(n: int) -> str:
    """The confirmation before sending the disagreements to review."""
    return f"Send the {n} reviews on which authors disagree to review (status TO_REVIEW)?"


# --- evaluation, the automatic model choice, training progress, sentiment labels ---------------------
#: Metric names as the sentences say them.
METRIC_NAMES = {"f1_macro": "macro F1", "f1_weighted": "weighted F1", "accuracy": "accuracy"}


def spread(mean: dict[str, Any], std: dict[str, Any], key: str) -> str:
    """``0.842 ± 0.031``: a cross-validated mean and its spread over the folds (or "-")."""
    if not isinstance(mean.get(key), (int, float)):
        return "-"
    return f"{number(mean[key])} ± {number(std.get(key, 0.0))}"


def evaluation_of(card: Any) -> dict[str, Any]:
    """The card's ``extra["evaluation"]`` ({} for a card saved before it was recorded)."""
    return dict((card.extra or {}).get("evaluation") or {})


def is_cross_validated(card: Any) -> bool:
    """True when the card's scores come from cross-validation (the model trained on all labels)."""
    return evaluation_of(card).get("method") == "cross-validation"


def chance_warning(card: Any) -> str | None:
    """A warning when the model's macro F1 is no better than guessing among its categories (1 / their
    number): its scores look like a model but it tells the categories apart no better than dice, and
    every figure of a summary made with it would say so with confidence. None otherwise."""
    n = len(getattr(card, "labels", []) or [])
    mean = evaluation_of(card).get("mean", {}) if is_cross_validated(card) else (card.metrics or {})
    f1 = mean.get("f1_macro")
    if n < 2 or not isinstance(f1, (int, float)) or f1 > 1.0 / n:
        return None
    how = "cross-validated" if is_cross_validated(card) else "test"
    return (f"Its {how} macro F1 {number(f1)} is no better than guessing among {n} categories: the labels do "
            "not tell the categories apart (many reviews of the same text under different labels, or labels "
            "given at random); check them with `reviewtui suspects` and label reviews whose texts differ "
            "before predicting with this model.")


def cv_card_sentence(card: Any) -> str:
    """``Saved model NAME (finetuned, base minilm) trained on all 346 labels of dataset-11 in 80.2s:
    cross-validated macro F1 0.842 ± 0.031, accuracy 0.861 ± 0.025 (5 folds).``"""
    ev = evaluation_of(card)
    mean, std = ev.get("mean", {}), ev.get("std", {})
    metric = ev.get("metric", "f1_macro")
    others = [k for k in ("accuracy", "f1_macro") if k != metric]
    scores = ", ".join(f"{METRIC_NAMES.get(k, k)} {spread(mean, std, k)}" for k in (metric, *others))
    # the cross-validation (the embedding of the labels within it) and the final fit on all labels:
    # the final fit of a quick model alone takes a few milliseconds, which said "in 0.0s"
    chose = float(((card.extra or {}).get("selection") or {}).get("seconds") or 0.0)
    def short(x: float) -> str:
        return f"{x:.1f}s" if x < 60 else elapsed(x)

    embedding = (card.extra or {}).get("embedding") or {}
    embedded = (f"; {short(float(embedding['seconds']))} of it embedding "
                f"{count(int(embedding.get('texts', 0)), 'review')}" if embedding.get("seconds") else "")
    took = (f"in {short(chose + card.train_seconds)} (cross-validation {short(chose)}, final fit "
            f"{short(card.train_seconds)}{embedded})" if chose else f"in {card.train_seconds:.1f}s")
    return (f"Saved model {card.name} ({card.kind}, base {card.base_model}) trained on all "
            f"{card.splits.get('train', 0)} labels of {card.dataset_version} {took}: "
            f"cross-validated {scores} ({ev.get('folds', '?')} folds).")


def budget_sentence(card: Any) -> str | None:
    """What ``[training] budget_s`` cut in this training (``extra["budget"]``), or None when every
    epoch fitted: the quick model instead of a fine-tune (none fitted, or the fine-tune was stopped
    at the budget), a training stopped at the budget, one pass over part of the rows, or fewer
    epochs."""
    from reviewtui.modeling.budget import budget_option, say_duration

    b = (card.extra or {}).get("budget") or {}
    if not b:
        return None
    asked, epochs, steps = int(b.get("asked_epochs") or 0), b.get("epochs"), b.get("max_steps")
    stopped, fallback = b.get("stopped_at_epoch"), b.get("fallback")
    if not steps and epochs == asked and stopped is None and not fallback:
        return None
    budget = say_duration(float(b.get("budget_s") or 0))
    fits_all = float(b.get("fits_all_s") or 0)  # the budget every epoch fits in, with its margin
    more = f"; `{budget_option(fits_all)}` trains them all" if fits_all else ""
    if fallback:
        return (f"The fine-tune did not fit the {budget} budget ([training] budget_s) and was stopped ({fallback}): "
                f"this is the quick model{more}.")
    if epochs == 0:
        return (f"Not one epoch of the fine-tune fitted the {budget} budget ([training] budget_s): this is the "
                f"quick model{more}.")
    if stopped is not None:
        rows = b.get("rows_seen")
        return (f"The {budget} budget ([training] budget_s) stopped the fine-tune in epoch {float(stopped):.2f} of "
                f"{epochs}" + (f" ({int(rows):,} rows seen)" if rows else "") + f", slower than planned{more}.")
    if steps:
        rows = int(steps) * int((card.hyperparameters or {}).get("batch_size") or 0)
        done = f"one pass over {rows:,} of the {card.splits.get('train', 0):,} training rows" if rows else "part of one epoch"
    else:
        done = f"at most {epochs} of the {asked} epochs" + (" in each fold" if "estimate_s" in b else "")
    return f"Within the {budget} budget ([training] budget_s) the fine-tune trained {done}{more}."


def evaluation_lines(card: Any) -> list[str]:
    """How the card's scores were measured, in a line or two: the folds' scores and the epoch
    count cross-validation chose, or the split the test scores come from; and what the time
    budget cut, when it cut something."""
    budget = budget_sentence(card)
    budget_lines = [budget] if budget else []
    ev = evaluation_of(card)
    if ev.get("method") == "cross-validation":
        metric = ev.get("metric", "f1_macro")
        folds = " ".join(number(f.get(metric)) for f in ev.get("per_fold", []))
        lines = [f"{ev.get('folds')}-fold stratified cross-validation (seed {ev.get('seed')}); "
                 f"{METRIC_NAMES.get(metric, metric)} per fold: {folds}."]
        epochs = (card.hyperparameters or {}).get("epochs") if card.kind == "finetuned" else None
        weight = (card.hyperparameters or {}).get("ensemble_weight")
        what = f"for {epochs} epochs (the count cross-validation chose)" if epochs else ""
        if weight is not None:
            what += f"{', ' if what else ''}averaged with the quick model at weight {1 - float(weight):.2f}"
        lines.append(f"The saved model learned from all {card.splits.get('train', 0)} labels"
                     + (f" {what}" if what else "") + "; the per-class table pools the out-of-fold predictions.")
        return lines + budget_lines
    sizes = card.splits or {}
    return [f"Scored on a held-out test split of {sizes.get('test', 0)} rows; the model learned from "
            f"{sizes.get('train', 0)} rows" + (f" (validation {sizes['validation']})" if sizes.get("validation")
                                                 else "") + ".", *budget_lines]


#: The comparison table of a model choice (``train --auto``, the tuning screen): key, label.
CANDIDATE_COLUMNS = [("candidate", "candidate"), ("status", "status"), ("description", "model"),
                     ("folds", "folds"), ("metric", "macro F1"), ("accuracy", "accuracy"), ("choice", "epochs/w"),
                     ("time", "time")]


def candidate_row(update: "TrialUpdate") -> dict[str, Any]:
    """A comparison row (as ``Selection.table()["rows"]`` holds them) from a candidate's TrialUpdate."""
    metrics = update.metrics or {}
    mean = {k: v for k, v in metrics.items() if not k.endswith("_std")}
    std = {k.removesuffix("_std"): v for k, v in metrics.items() if k.endswith("_std")}
    status = {"RUNNING": "running", "TERMINATED": "done", "STOPPED": "skipped", "ERROR": "failed",
              "PENDING": "waiting"}.get(update.status, update.status.lower())
    if update.status == "STOPPED" and update.error and update.error.startswith("stopped"):
        status = "stopped"
    row = {"candidate": update.trial_id, "description": str(update.config.get("description", "")),
           "status": status, "mean": mean, "std": std, "folds_done": update.iteration, "seconds": update.elapsed}
    if update.config.get("may_win") is False:
        row["may_win"] = False
    if update.error:
        row["reason"] = update.error
    return row


def winner_key(rows: Iterable[dict[str, Any]], metric: str = "f1_macro") -> str | None:
    """The finished candidate with the highest mean ``metric`` (the first one wins a tie) among those
    that may win (a training that asked for a fine-tune never saves the quick model alone)."""
    best, score = None, -math.inf
    for r in rows:
        value = (r.get("mean") or {}).get(metric)
        if r.get("status") == "done" and r.get("may_win", True) and isinstance(value, (int, float)) and value > score:
            best, score = r["candidate"], float(value)
    return best


def candidate_cells(row: dict[str, Any], metric: str = "f1_macro", winner: str | None = None) -> dict[str, str]:
    """One comparison row's cells by :data:`CANDIDATE_COLUMNS` key; the winner is starred."""
    mean, std = row.get("mean") or {}, row.get("std") or {}
    folds = row.get("folds")
    done = len(folds) if isinstance(folds, list) else row.get("folds_done", 0)
    if "weight" in row:
        choice = f"w {row['weight']:g}"
    elif row.get("epochs"):
        choice = f"{row['epochs']} ep"
    else:
        choice = ""
    status = row.get("status", "")
    if row.get("reason") and status != "done":
        status += f": {row['reason']}"
    return {"candidate": ("★ " if row.get("candidate") == winner else "  ") + str(row.get("candidate", "")),
            "status": status, "description": str(row.get("description", "")), "folds": str(done or "-"),
            "metric": spread(mean, std, metric), "accuracy": spread(mean, std, "accuracy"), "choice": choice,
            "time": elapsed(float(row.get("seconds") or 0.0))}


def selection_sentence(table: dict[str, Any]) -> str:
    """``5-fold cross-validation of 6 candidates in 18m20s: best ensemble:finetune:mpnet+quick (macro
    F1 0.861 ± 0.021); 1 skipped (over the budget), 1 stopped; budget 30m00s.``"""
    rows = table.get("rows", [])
    metric = table.get("metric", "f1_macro")
    winner = next((r for r in rows if r.get("candidate") == table.get("winner")), None)
    text = f"{table.get('method', 'cross-validation')} of {len(rows)} candidate{'s' if len(rows) != 1 else ''} in {elapsed(table.get('seconds', 0))}"
    if winner is not None:
        text += (f": best {winner['candidate']} ({METRIC_NAMES.get(metric, metric)} "
                 f"{spread(winner.get('mean', {}), winner.get('std', {}), metric)})")
    why: dict[str, list[str]] = {}  # status -> the reasons of its candidates
    for r in rows:
        if r.get("status") != "done":
            why.setdefault(r["status"], []).append(str(r.get("reason") or ""))
    parts = []
    for status, reasons in why.items():
        one = set(reasons) if len(set(reasons)) == 1 and reasons[0] else None  # one reason for all: said
        parts.append(f"{len(reasons)} {status}" + (f" ({reasons[0]})" if one else ""))
    if parts:
        text += "; " + ", ".join(parts)
    if table.get("budget_s"):
        text += f"; budget {elapsed(table['budget_s'])}"
    return text + "."


def epoch_progress_text(event: Any) -> str:
    """``cv 2/5 finetune:minilm · epoch 3/6 · step 12/40 · 35.2 samples/s · 41s left``."""
    eta = event.eta_s if isinstance(event.eta_s, (int, float)) and math.isfinite(event.eta_s) else None
    return (f"{event.task} · epoch {event.epoch}/{event.epochs} · step {event.step}/{event.steps} · "
            f"{event.samples_per_s:.1f} samples/s" + (f" · {elapsed(eta)} left" if eta is not None else ""))


#: The sentiment keys of the labeling screen, as the screen and docs/APP.md show them.
SENTIMENT_KEYS = (("-", "negative"), ("0", "neutral"), ("+", "positive"))


def sentiment_counts_text(counts: dict[str, int]) -> str:
    """``negative 12, neutral 4, positive 30 (46 reviews)``; ``none yet`` without any."""
    total = sum(counts.values())
    if not total:
        return "none yet"
    return f"{names_with_counts(counts)} ({count(total, 'review')})"


# --- the labeling loop replayed (`simulate --loop`) -----------------------------------------------
def loop_simulation_lines(sim: Any) -> list[str]:
    """What ``simulate --loop`` says: how many labels each start took to 95 % of the full-pool
    macro-F1, and where the stop signal said stop against where the curve flattened."""
    rounds_labels = min(sim.batch * (sim.rounds + 1), sim.pool_size)  # a small pool runs out first
    up_to = "up to " if sim.batch * (sim.rounds + 1) > sim.pool_size else ""
    out = [f"The labeling loop replayed on {sim.pool_size:,} labeled reviews ({sim.test_size:,} more held out for "
           f"scoring): a first batch of {sim.batch}, then {up_to}{sim.rounds} rounds of {sim.batch} chosen by "
           f"{sim.strategy}, "
           f"{count(len(sim.seeds), 'seed')}. A quick model on the whole pool scores macro-F1 {sim.full_pool_f1:.3f}."]
    base = sim.outcomes[0].labels_to_95
    for o in sim.outcomes:
        if o.labels_to_95 is None:
            reach = f"95% of that not reached within {rounds_labels:,} labels"
        else:
            reach = f"95% of that at {o.labels_to_95:.0f} labels"
            if o is not sim.outcomes[0] and base:
                reach += f" ({o.labels_to_95 / base:.2f}x the random start)"
        out.append(f"{o.name}: {reach}; macro-F1 {o.final_f1:.3f} after {rounds_labels:,} labels.")
        stopped = o.stopped
        rule = f"kappa >= {sim.stop_kappa:g} for {count(sim.stop_rounds, 'round')}"
        flat = (f"; the mean curve is within 5% of its last value from {o.flat_at:.0f} labels"
                if o.flat_at is not None else "")
        if not stopped:
            out.append(f"  The stop signal ({rule}) did not say stop within {rounds_labels:,} labels{flat}.")
            continue
        at = ", ".join(f"{n:,}" for _, n, _ in stopped)
        never = len(o.stops) - len(stopped)
        share = min(f for _, _, f in stopped) / o.final_f1 if o.final_f1 else 0.0
        out.append(f"  The stop signal ({rule}) said stop at {at} labels"
                   + (f" (not within {rounds_labels:,} in {count(never, 'seed')})" if never else "")
                   + f"; the lowest macro-F1 at a stop is {share:.0%} of the last round's{flat}.")
    out.append("The zero-shot start used the categories' descriptions and examples." if sim.zero_shot == "descriptions"
               else "The zero-shot start had only the category names: a description and examples for each "
                    "(`reviewtui categories set KEY --description ... --example ...`) usually start it better.")
    return out
