"""Rich output of the commands: the consoles, JSON, and one function per table.

The sentences shared with the app come from :mod:`reviewtui.presentation` as plain text and are
printed with markup off (a label or a path with brackets prints as it is). The tables here are
the CLI's own; their cells use the presentation module's number formats.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from reviewtui import presentation as say
from reviewtui.cli import render_data
from reviewtui.cli.tables import Table
from reviewtui.diff import ID_WIDTH as DIFF_ID_WIDTH


def console() -> Console:
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_lines(lines: Iterable[str | None], con: Console | None = None) -> None:
    """Print plain-text lines (from :mod:`reviewtui.presentation`) with markup off; None skips.
    A terminal gets them wrapped at its width; a log or a pipe gets each line whole, so a command
    it names (a path in it) is never broken across lines."""
    con = con or console()
    for line in lines:
        if line is not None:
            con.print(line, markup=False, soft_wrap=not con.is_terminal)


# --- import ------------------------------------------------------------------------------------
def import_report(result: Any, total: int) -> None:
    with_app = any(r.apps for r in result.reports)
    labels = render_data.file_labels(result.reports, with_app)
    # a first import has nothing existing: the column would take the width the file and app names need
    with_existing = any(r.existing for r in result.reports)
    con = console()
    numbers = {"read": [f"{r.rows_read:,}" for r in result.reports], "kept": [f"{r.kept:,}" for r in result.reports],
               "new": [f"{r.added:,}" for r in result.reports]}
    if with_existing:
        numbers["existing"] = [f"{r.existing:,}" for r in result.reports]
    dropped = [render_data.dropped_text(r.dropped) for r in result.reports]
    # the numbers whole; the dropped rules wrap between words; the file and app names share the rest,
    # each shortened (in the middle where the ends are alike) rather than the numbers cut
    drop_w = max(len("dropped"), *(len(w) for d in dropped for w in d.split()))
    drop_w = max(drop_w, min(render_data.cells_width("dropped", dropped), 12))
    room = con.width - render_data.table_width([*(render_data.cells_width(k, v) for k, v in numbers.items()), drop_w])
    all_apps = list(dict.fromkeys(a for r in result.reports for a in r.apps[:3]))
    several = any(len(r.apps) > 1 for r in result.reports)
    file_need = render_data.cells_width("file", labels)
    app_need = max(len("app"), *(len(a) + several for a in all_apps)) if with_app else 0
    room -= 3 * (2 if with_app else 1)
    if with_app and file_need + app_need > room:
        file_w = file_need if room - file_need >= 14 else max(8, min(file_need, max(room // 2, room - app_need)))
        app_w = max(10, room - file_w)
    else:
        file_w, app_w = max(8, min(file_need, room)), app_need
    files = dict(zip(dict.fromkeys(labels), say.short_names(list(dict.fromkeys(labels)), file_w)))
    apps = render_data.app_labels(all_apps, app_w - several)
    table = Table(title="Import report")
    table.add_column("file", no_wrap=True)
    if with_app:
        table.add_column("app", no_wrap=not several, overflow="fold")
    for col in numbers:
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("dropped", overflow="fold", max_width=drop_w)
    for i, (name, r) in enumerate(zip(labels, result.reports)):
        app = (", ".join(apps[a] for a in r.apps[:3]) + (" …" if len(r.apps) > 3 else "") or "-",) if with_app else ()
        table.add_row(files[name], *app, *(v[i] for v in numbers.values()), dropped[i])
    con.print(table)
    for name, changed in render_data.cleaning_lines(labels, result.reports):
        con.print(f"[dim]{escape(name)}: rows changed by cleaning — {escape(changed)}[/]")
    for name, r in zip(labels, result.reports):
        if r.labels or r.labels_unchanged or r.labels_kept:
            con.print(say.import_labels_sentence(name, r.labels, r.labels_unchanged, r.labels_kept), markup=False)
    render_data.import_notes(result, labels, con)
    con.print(f"{result.added:,} new review{'s' if result.added != 1 else ''}; {total:,} in the workspace.")


# --- status and versions -----------------------------------------------------------------------
def settings_table(rows: Sequence[Any], path: Any, *, changed: bool = False) -> None:
    """``reviewtui settings``: the settings as reviewtui.toml writes them, a section after another,
    each key after its help as a comment, and ``# default ...`` beside a value that is not the
    default: valid TOML, to copy into the file."""
    con = console()
    wrap = not con.is_terminal
    head = ("# Not inside a workspace: the defaults a new workspace starts with." if path is None
            else f"# {path}: the settings in force.")
    con.print(Text(head, style="dim"), soft_wrap=wrap)
    if not rows:
        con.print(Text("# Every setting has its default." if changed else "# No settings.", style="dim"), soft_wrap=wrap)
        return
    section = None
    for r in rows:
        if r.section != section:
            section = r.section
            con.print()
            con.print(Text(f"[{section}]", style="bold"), soft_wrap=wrap)
        about = " ".join((r.help + (f" ({r.allowed})" if r.allowed else "")).split())
        con.print(Text(f"# {about}", style="dim"), soft_wrap=wrap)
        line = Text(f"{r.key} = {say.toml_value(r.value)}", style="bold" if r.value != r.default else "")
        if r.value != r.default:
            line.append(f"  # default {say.toml_value(r.default)}", style="dim")
        con.print(line, soft_wrap=wrap)


def status(st: Any) -> None:
    con = console()
    backend = st.backend.get("kind", "local")
    if st.backend.get("project_id"):
        backend += f" (project {st.backend['project_id']})"
    con.print(Text.assemble((st.name, "bold"), f"  {st.root}  backend: {backend}  assets: {st.assets:,}"))
    t = Table(title="By status")
    t.add_column("status"), t.add_column("assets", justify="right"), t.add_column("")
    for k, v in st.by_status.items():
        t.add_row(k, f"{v:,}", say.bar(v, st.assets, 20))
    con.print(t)
    if st.by_label:
        t = Table(title="By label")
        t.add_column("label"), t.add_column("assets", justify="right"), t.add_column("")
        total_labels = sum(st.by_label.values())
        for k, v in st.by_label.items():
            t.add_row(k, f"{v:,}", say.bar(v, total_labels, 20))
        con.print(t)
    else:  # an empty table said nothing
        print_lines(["Labels: none yet"], con)
    print_lines([f"Sentiment labels: {say.sentiment_counts_text(st.by_sentiment)}"], con)
    render_data.by_app(say.app_count_rows(getattr(st, "by_app", {})), st.assets, con)
    if st.versions:
        t = Table(title="Versions")
        for c in ("version", "rows", "parent", "created", "source"):
            t.add_column(c)
        for v in st.versions:
            t.add_row(v["name"], f"{v['rows']:,}", v["parent"] or "-", str(v["created"] or "-"), str(v["source"] or ""))
        con.print(t)
    if st.models:
        t = Table(title="Models")
        for c in ("model", "version", "base", "accuracy", "weighted F1"):
            t.add_column(c)
        for row in say.model_rows(st.models):
            t.add_row(*row)
        con.print(t)
    print_lines([say.running_job_line(job) for job in getattr(st, "jobs", ())], con)
    if getattr(st, "stop", None):
        stop_block(st.stop, con)
    elif any(st.by_label.values()):  # labels, no round: say how one comes (label --from records none)
        print_lines([f"Stop signal: {say.NO_STOP_ROUND}"], con)
    print_lines((f"→ {step}" for step in [*say.stale_lines(getattr(st, "stale", None), untrained=False),
                                           *st.next_steps]), con)


def versions_table(versions: Sequence[Any], missing: Sequence[dict[str, Any]] = ()) -> None:
    t = Table(title="Versions")
    for c in ("version", "rows", "parent", "created", "labels"):
        t.add_column(c)
    for v in versions:
        t.add_row(v.name, f"{v.rows:,}", v.parent or "-", str(v.manifest.get("created", "-")),
                  say.names_with_counts(v.manifest.get("counts_by_label", {})))
    console().print(t)
    print_lines((f"{m['name']} ({_missing_what(m)}) is no longer in versions/: `reviewtui versions import COPY.csv` "
                 f"puts a copy back, `reviewtui versions forget {m['name']}` stops this line; its number is not given "
                 "again" for m in missing), err_console())


def _missing_what(m: dict[str, Any]) -> str:
    if m.get("rows") is None:
        return f"named by model {m.get('named_by')}"
    return f"{int(m['rows']):,} rows, written {m.get('created') or '-'}"


# --- diff --------------------------------------------------------------------------------------
_CONTENT_MIN = 20
_ID_MIN = 13  # an id cut to 13 keeps its first 6 and last 6 characters (say.short_id)
_BY = [key for _title, key in say.DIFF_COLUMNS].index("by")


def diff_widths(changes: Sequence[Any], width: int, by: bool = False) -> list[int]:
    """Column widths of the changed rows for a console ``width`` characters wide: the change kind
    whole, the id at its length up to 36 (a UUID whole), the labels at their length up to 16,
    "by / at" (only with ``by``) up to 12, and the content the rest. When the content would get
    fewer than 20 characters (14 with "by / at"), the labels give way first (down to 8), then the
    id (to 13: its start and end, ``short_id``), then "by / at" (to 9)."""
    cells = [say.diff_cells(c) for c in changes]

    def longest(i: int, title: str) -> int:
        return max([len(title)] + [len(row[i]) for row in cells])

    widths = [max(9, longest(0, "change")), min(DIFF_ID_WIDTH, longest(1, "externalId")),
              min(16, longest(2, "from")), min(16, longest(3, "to"))]
    content_min = _CONTENT_MIN
    if by:
        widths.append(min(12, longest(_BY, "by / at")))
        content_min = 14
    budget = width - (3 * (len(widths) + 1) + 1)  # borders and padding of the box
    while budget - sum(widths) < content_min and max(widths[2], widths[3]) > 8:
        widths[2 if widths[2] >= widths[3] else 3] -= 1
    while budget - sum(widths) < content_min and widths[1] > _ID_MIN:
        widths[1] -= 1
    while by and budget - sum(widths) < content_min and widths[4] > 9:
        widths[4] -= 1
    return widths + [max(4, budget - sum(widths))]


def diff(d: Any, rows: int, moved: Any | None = None) -> None:
    con = console()
    print_lines([say.diff_headline(d)] + [f"  {line}" for line in say.relabel_lines(d)], con)
    shown = d.changes[:rows]
    if not d.empty and rows:
        by = say.diff_has_authors(shown)  # versions registered from elsewhere: no one to name
        keep = [i for i in range(len(say.DIFF_COLUMNS)) if by or i != _BY]
        widths = diff_widths(shown, con.width, by)
        t = Table()
        for i, w in zip(keep, widths):
            t.add_column(say.DIFF_COLUMNS[i][0], width=w, no_wrap=True, overflow="ellipsis")
        for ch in shown:
            cells = list(say.diff_cells(ch, 120))
            cells[1] = say.short_id(cells[1], widths[1])  # cut in the middle: ids often share their start
            t.add_row(*(Text(cells[i], no_wrap=True, overflow="ellipsis") for i in keep))
        con.print(t)
        if len(d.changes) > rows:
            con.print(f"[dim]… {len(d.changes) - rows} more (use --rows N or --json)[/]")
    if moved is not None:
        con.print(say.to_review_sentence(moved), markup=False)


# --- models ------------------------------------------------------------------------------------
def card(card: Any, taxonomy: Any = None) -> None:
    """A saved model's card: its scores, the per-class report and the confusion matrix, each
    category under its ``taxonomy`` name (the card keeps keys)."""
    con = console()
    name = dict(zip(card.labels, say.category_names(card.labels, taxonomy))) if taxonomy is not None else {}
    print_lines([say.card_sentence(card)], con)
    chance = say.chance_warning(card)
    if chance:
        con.print(Text(chance, style="yellow"), soft_wrap=not con.is_terminal)
    ensemble = say.ensemble_sentence(card)
    wrap = not con.is_terminal  # a log or a pipe gets each line whole, as print_lines gives them
    if ensemble:
        from reviewtui.modeling.history import idle_finetune

        con.print(Text(ensemble, style="yellow" if idle_finetune(card) else "dim"), soft_wrap=wrap)
    for line in say.evaluation_lines(card):
        con.print(Text(line, style="dim"), soft_wrap=wrap)
    selection = (card.extra or {}).get("selection")
    if selection and len(selection.get("rows", [])) > 1:
        con.print(comparison_table(selection))
    cv = say.is_cross_validated(card)
    m = card.metrics
    fmt = say.number
    report = Table(title="Per-class report (pooled out-of-fold predictions)" if cv else "Per-class report (test split)")
    for col in ("label", "precision", "recall", "f1", "support"):
        report.add_column(col, justify="left" if col == "label" else "right")
    predicted = [sum(col) for col in zip(*card.confusion_matrix)] if card.confusion_matrix else []
    for i, label in enumerate(card.labels):
        r = card.per_class.get(label, {})
        if not r.get("support") and i < len(predicted) and not predicted[i]:  # none in these rows: no score
            report.add_row(name.get(label, label), "-", "-", "-", "0")
            continue
        report.add_row(name.get(label, label), fmt(r.get("precision")), fmt(r.get("recall")), fmt(r.get("f1")), str(r.get("support", 0)))
    report.add_row("weighted", fmt(m.get("precision_weighted")), fmt(m.get("recall_weighted")),
                   fmt(m.get("f1_weighted")), str(card.splits.get("train" if cv else "test", 0)), style="bold")
    con.print(report)
    if card.confusion_matrix:
        con.print(confusion_table(card, [name.get(label, label) for label in card.labels], con.width))


def confusion_table(card: Any, names: Sequence[str], width: int) -> Table:
    """The confusion matrix, its columns headed by the categories' names (cut to 12), or, where
    those do not fit ``width`` (many categories, a log), by the rows' numbers."""
    values = [[str(v) for v in row] for row in card.confusion_matrix]
    heads = say.short_names(list(names), 12)
    digits = [max([len(r[i]) for r in values if i < len(r)] or [1]) for i in range(len(names))]
    named_widths = [max(len(n) for n in names)] + [max(len(h), d) for h, d in zip(heads, digits)]
    numbered = render_data.table_width(named_widths) > width
    if numbered:
        heads = [str(i + 1) for i in range(len(names))]
        names = [f"{i + 1} {n}" for i, n in enumerate(names)]
    cells = [max(len(h), d) for h, d in zip(heads, digits)]
    pad = 1 if not numbered or width - sum(w + 2 for w in cells) - 3 >= 14 else 0  # numbered: as much as fits
    title = "Confusion matrix (rows: true, columns: predicted" + (", numbered as the rows)" if numbered else ")")
    cm = Table(title=title, padding=(0, 1) if not numbered else (0, 0, 0, pad))
    cm.add_column("", no_wrap=numbered)
    for head, w in zip(heads, cells):
        cm.add_column(head, justify="right", no_wrap=True, min_width=w)
    room = max(8, width - sum(w + 1 + pad for w in cells) - 2 - pad)
    for label, row in zip(say.short_names(list(names), room) if numbered else names, values):
        cm.add_row(label, *row)
    return cm


#: The comparison's columns a narrow console leaves out, the first first, until the table fits.
CANDIDATE_DROPS = ("description", "accuracy", "folds")


class Comparison:
    """The candidates' table, laid out when it is drawn: the columns that fit the console's width
    (the model description, the accuracy and the folds give way, in that order; --json and the
    model card keep them), the candidate's name whole."""

    def __init__(self, selection: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
        self.selection, self.rows = selection, rows

    def __rich_console__(self, console: Console, options: Any) -> Iterable[Table | Text]:
        yield self.table(options.max_width)
        yield from self.reasons()

    def reasons(self) -> Iterable[Text]:
        """Under the table, why candidates were skipped or stopped: one line per reason, with the
        candidates it holds for (in the status column they wrapped a word a line)."""
        by_reason: dict[tuple[str, str], list[str]] = {}
        for row in self.rows:
            if row.get("reason") and row.get("status") != "done":
                key = (str(row.get("status", "")), str(row["reason"]))
                by_reason.setdefault(key, []).append(str(row.get("candidate")))
        for (status, reason), names in by_reason.items():
            yield Text(f"{', '.join(names)} {status}: {reason}", style="dim")

    def table(self, width: int) -> Table:
        metric = self.selection.get("metric", "f1_macro")
        winner = self.selection.get("winner") or say.winner_key(self.rows, metric)
        cells = [say.candidate_cells({k: v for k, v in row.items() if k != "reason"}, metric, winner)
                 for row in self.rows]  # the reasons go under the table
        titles = {key: say.METRIC_NAMES.get(metric, metric) if key == "metric" else label
                  for key, label in say.CANDIDATE_COLUMNS}
        least = {"description": 20, "status": 8}  # these wrap; the others stay on one line

        def need(key: str) -> int:
            longest = max([len(titles[key])] + [len(c[key]) for c in cells])
            return min(longest, least.get(key, longest))

        keys = [key for key, _ in say.CANDIDATE_COLUMNS]
        for dropped in CANDIDATE_DROPS:
            if sum(need(k) + 3 for k in keys) + 1 <= width:
                break
            keys.remove(dropped)
        title = f"Candidates ({self.selection.get('method', 'cross-validation')}; ★ chosen)"
        table = Table(title=title, expand=False)
        for key in keys:
            text = key in ("candidate", "status", "description")
            table.add_column(titles[key], justify="left" if text else "right", overflow="fold",
                             no_wrap=key not in least, min_width=need(key) if key == "candidate" else None)
        for row, c in zip(self.rows, cells):
            table.add_row(*(c[k] for k in keys), style="bold" if row.get("candidate") == winner else "")
        return table


def comparison_table(selection: dict[str, Any], rows: Sequence[dict[str, Any]] | None = None) -> Comparison:
    """The comparison of a model choice (a card's ``extra["selection"]``, or live ``rows``), one row
    per candidate, the winner starred: a renderable that lays its columns out for the console's
    width when it is printed."""
    return Comparison(selection, list(selection.get("rows", [])) if rows is None else list(rows))


def models(rows: Sequence[Any], curve: Sequence[Any]) -> None:
    con = console()
    if not rows:
        con.print("No trained model yet: run reviewtui train (or reviewtui tune --trials 20).")
        return
    fmt = say.number
    wide = con.width >= 110  # weighted precision and recall only where they fit (--json has them all)
    table = Table(title="Trained models", pad_edge=wide)
    table.add_column("model", overflow="fold", min_width=10)
    table.add_column("kind / base", overflow="fold", min_width=8)
    table.add_column("version", overflow="fold")
    for col in ("acc", "F1 w", "P w", "R w", "F1 m") if wide else ("acc", "F1 w", "F1 m"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("scored on" if wide else "scored", overflow="fold", min_width=6)
    table.add_column("trained" if wide else "date", justify="right", overflow="fold", min_width=5)
    for r in rows:
        kind = r.kind + ("+tuned" if r.tuned else "") + f" / {r.base_model}"
        scores = (fmt(r.accuracy), fmt(r.f1_weighted), fmt(r.precision_weighted), fmt(r.recall_weighted),
                  fmt(r.f1_macro))
        scored = r.scored_on
        table.add_row(r.name, kind, r.dataset_version or "-", *(scores if wide else scores[:2] + scores[4:]),
                      scored if wide else scored.split(" over ")[0].replace(" rows", ""),
                      r.created_at.replace("T", " ")[5:16 if wide else 10])
    con.print(table)
    print_lines((f"{r.name}: {', '.join(r.missing)} missing from its folder; it cannot predict until the file is put "
                 "back from a copy, or the model is trained again" for r in rows if r.missing), err_console())
    for r in rows:
        if getattr(r, "idle_finetune", None):
            con.print(Text(say.idle_finetune_sentence(r.name, *r.idle_finetune), style="yellow"),
                      soft_wrap=not con.is_terminal)
    if len(curve) > 1:
        lc = Table(title="Learning curve (best model per version)")
        for col in ("version", "model", "accuracy", "F1 w", "precision w", "recall w"):
            lc.add_column(col, justify="left" if col in ("version", "model") else "right")
        for p in curve:
            lc.add_row(p.version, p.model, fmt(p.accuracy), fmt(p.f1_weighted), fmt(p.precision_weighted),
                       fmt(p.recall_weighted))
        con.print(lc)


def jobs_table(jobs: Sequence[Any]) -> None:
    """The workspace's background jobs, oldest first."""
    con = console()
    if not jobs:
        con.print("No background jobs yet: start one with --detach (train, tune, predict) or from the app.")
        return
    table = Table(title="Jobs")
    for col in say.JOB_COLUMNS:
        table.add_column(col, overflow="fold")
    for job in jobs:
        cells = say.job_cells(job)
        style = {"running": "cyan", "starting": "cyan", "failed": "red", "cancelled": "yellow"}.get(job.state, "")
        table.add_row(*(Text(str(c)) for c in cells), style=style)  # an outcome's "[model]" is text, not markup
    con.print(table)


def tune_result(result: Any) -> None:
    """The closing summary of ``reviewtui tune``: the search, its best trial, the saved model."""
    con = console()
    print_lines([say.search_sentence(result), say.best_trial_sentence(result, with_config=True)], con)
    if result.card is not None:
        card(result.card)
    else:
        print_lines([say.saved_sentence(result, "Run it again with --save-on-cancel to keep the best trial.")], con)


def tune_json(result: Any) -> dict[str, Any]:
    return {"cancelled": result.cancelled, "best_trial": result.best_trial_id,
            "best_config": result.best_config, "best_validation": result.best_metrics,
            "counts": result.counts, "early_stopped": result.early_stopped,
            "search_seconds": round(result.search_seconds, 2),
            "trials": [{"trial_id": t.trial_id, "status": t.status, "config": t.config,
                        "iteration": t.iteration, "metrics": t.metrics, "best": t.best,
                        "early_stopped": t.early_stopped, "error": t.error} for t in result.trials],
            "model": result.card.to_dict() if result.card else None}


# --- analysis ----------------------------------------------------------------------------------
#: The width of an id column; longer ids are cut, and :data:`SHORT_IDS` says what to do with them.
ID_WIDTH = 14
SHORT_IDS = ("Ids are cut in the middle to fit: label, skip and undo take one as shown, its … included; --json shows "
             "them whole.")


def queue_widths(items: Sequence[Any], width: int) -> list[int]:
    """Column widths of the queue table for a console ``width`` characters wide (80 in a pipe or a
    log): the rank, the id up to :data:`ID_WIDTH`, the suggestion up to 16, conf. and uncert.
    whole, and the text the rest. When the text would get fewer than 20 characters, the suggestion
    gives way first (down to 10, cut with …), then the id (down to 10)."""
    widths = [max(1, len(str(len(items)))), min(ID_WIDTH, max([2, *(len(it.external_id) for it in items)])),
              min(16, max([10, *(len(it.suggestion or "-") for it in items)])), 5, 7]
    budget = width - (3 * (len(widths) + 1) + 1)  # borders and padding of the box
    while budget - sum(widths) < _CONTENT_MIN and widths[2] > 10:
        widths[2] -= 1
    while budget - sum(widths) < _CONTENT_MIN and widths[1] > 10:
        widths[1] -= 1
    return widths + [max(4, budget - sum(widths))]


def queue(batch: Any, rows: int, dry_run: bool, how: str | None = None) -> None:
    con = console()
    how = how or ("coverage (no model yet)" if batch.cold_start else batch.strategy)
    filtered = getattr(batch, "filtered", False)
    pool = getattr(batch, "pool", 0) or 0
    drawn = (f" (a sample of the {pool:,} {'the filter keeps' if filtered else 'left to label'})"
             if pool > batch.candidates else "")
    t = Table(title=f"Next {len(batch.items)} to label — {how}; {batch.labeled:,} training "
                    f"label{'' if batch.labeled == 1 else 's'}, "
                    f"{batch.candidates:,} {'filtered ' if filtered else ''}"
                    f"candidate{'' if batch.candidates == 1 else 's'}{drawn}")
    # every column has its width: at 80 columns (a pipe, a log) the table fits whole, its text wrapped
    widths = queue_widths(batch.items[:rows], con.width)
    for (title, justify), w in zip((("#", "right"), ("id", "left"), ("suggestion", "left"), ("conf.", "right"),
                                    ("uncert.", "right")), widths):
        t.add_column(title, justify=justify, width=w, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
    t.add_column("text", width=widths[-1], overflow="fold")
    # before any model, suggestions are zero-shot best matches: their sharpened scores read as
    # probabilities would overstate them (the app says "best match" too)
    zero_shot = getattr(batch, "suggested_by", None) == "zero-shot"  # QueueBatch.zero_shot
    scored = str(getattr(batch, "strategy", "")) != "random"  # random draws score nothing: "-", not 0.000
    for rank, it in enumerate(batch.items[:rows], start=1):
        t.add_row(str(rank), say.short_id(it.external_id, widths[1]), it.suggestion or "-",
                  f"{it.confidence:.2f}" if it.confidence is not None and not zero_shot else "-",
                  f"{it.uncertainty:.3f}" if scored else "-", it.text if len(it.text) <= 160 else it.text[:159] + "…")
    con.print(t)
    if zero_shot and any(it.suggestion for it in batch.items[:rows]):
        con.print("The suggestions are zero-shot best matches to the categories' descriptions, examples or names, "
                  "not probabilities (conf. -); --json gives their scores as zero_shot_score.", markup=False, style="dim",
                  soft_wrap=not con.is_terminal)
    if any(len(it.external_id) > widths[1] for it in batch.items[:rows]):
        con.print(SHORT_IDS, markup=False, style="dim")
    if dry_run:
        con.print("[dim]--dry-run: priorities not changed[/]")
    else:
        con.print(say.priorities_sentence(batch), markup=False)


def simulation(res: Any, reach: dict[str, Any], interp: dict[str, Any]) -> None:
    con = console()
    curves = res.mean_curves()
    t = Table(title=f"Held-out macro-F1 (mean of {len(res.seeds)} seeds; pool {res.pool_size}, test {res.test_size}; "
                    f"full pool {res.full_pool['macro_f1']:.3f})")
    t.add_column("labels", justify="right")
    for s in res.strategies:
        t.add_column(s, justify="right")
    rounds = max(len(c) for c in curves.values())
    first = curves[res.strategies[0]]
    for r in range(rounds):
        row = [str(first[r][0]) if r < len(first) else "-"]
        row += [f"{curves[s][r][3]:.3f}±{curves[s][r][4]:.3f}" if r < len(curves[s]) else "-" for s in res.strategies]
        t.add_row(*row)
    con.print(t)
    for s in res.strategies:
        n = reach[s]
        ratio = ""
        if n and reach.get("random") and s != "random":
            ratio = f", {n / reach['random']:.2f}x random"
            if interp[s] and interp.get("random"):
                ratio += f" (interpolated {interp[s]:.0f} labels, {interp[s] / interp['random']:.2f}x)"
        if n is None:
            last = curves[s][-1][0] if curves[s] else 0
            con.print(f"{s}: 95% of the full-pool macro-F1 not reached within {last:,} labels")
            continue
        con.print(f"{s}: {n} labels to 95% of the full-pool macro-F1{ratio}")
    con.print(f"Wrote {res.csv_path}, {res.summary_path} and {res.png_path}.", markup=False)


def sentiment(cmp: Any) -> None:
    dist = ", ".join(f"{k} {v:,}" for k, v in cmp.star_distribution.items())
    t = Table(title=f"Agreement with the stars on {cmp.n:,} reviews (stars: {dist})")
    for c in ("option", "accuracy", "macro-F1", "kappa", "negative", "neutral", "positive"):
        t.add_column(c, justify="left" if c == "option" else "right")
    for a in cmp.agreements:
        name = a.analyzer + (" (5-fold)" if a.cross_validated else "")
        t.add_row(name, f"{a.accuracy:.3f}", f"{a.macro_f1:.3f}", f"{a.kappa:.3f}",
                  *(f"{a.distribution.get(s, 0):,}" for s in ("negative", "neutral", "positive")))
    console().print(t)


def team_sentiment(cmp: Any) -> None:
    """Agreement of each sentiment option with the team's own labels (the star rule is the baseline
    to beat; the team models' figures are out-of-fold)."""
    dist = ", ".join(f"{k} {v:,}" for k, v in cmp.team_distribution.items())
    t = Table(title=f"Agreement with the team's sentiment labels on {cmp.n:,} reviews (team: {dist})")
    for c in ("option", "accuracy", "macro-F1", "kappa", "vs star rule"):
        t.add_column(c, justify="left" if c == "option" else "right")
    base = cmp.agreements[0].macro_f1 if cmp.agreements else 0.0
    for i, a in enumerate(cmp.agreements):
        name = a.analyzer + (f" ({cmp.folds}-fold)" if a.cross_validated else "") + (" — baseline" if i == 0 else "")
        delta = "" if i == 0 else f"{a.macro_f1 - base:+.3f}"
        t.add_row(name, f"{a.accuracy:.3f}", f"{a.macro_f1:.3f}", f"{a.kappa:.3f}", delta)
    console().print(t)


def summary(s: Any, findings: Sequence[str], rule: str = "", names: dict[str, str] | None = None) -> None:
    """The summary's tables and findings; a category by its name in ``names`` (key -> the
    taxonomy's name, as the app shows them) where it has one."""
    from reviewtui.analysis.report import latest_text, no_thumbs_text, scope_text

    con = console()
    names = names or {}
    con.print(Text.assemble((f"{s.reviews:,} review{'' if s.reviews == 1 else 's'}", "bold"),
                            f" ({scope_text(s)}; model {s.model}"
                            + (f"; sentiment {s.sentiment_source}" if getattr(s, "sentiment_source", None) else "")
                            + f"; {latest_text(s)})"
                            + ("; the tables count each review as 1 + its thumbs-up" if s.weighted else "")))
    for line in say.stale_lines(getattr(s, "stale", None)):
        con.print(Text(line, style="yellow"))
    no_thumbs = no_thumbs_text(s)
    if no_thumbs:
        con.print(Text(no_thumbs[0].upper() + no_thumbs[1:] + ".", style="yellow"))
    # counts whole: the category names give way (to 12 characters), then the share and the neutral
    # count are left out (--json has them)
    sentiment = getattr(s, "has_sentiment", True)  # predicted with --sentiment none: no columns of zeros
    if not sentiment:
        con.print(Text(say.no_sentiment_line(), style="yellow"))
    rows = []
    for cat in s.categories.index:
        cs = s.category_sentiment.loc[cat]
        neg, ms = s.negative_share.get(cat), s.mean_score.get(cat)
        rows.append(dict(zip(("reviews", "share", "neg", "neu", "pos", "% neg", "stars"),
                             (f"{s.categories[cat]:,.0f}", f"{100 * s.category_share[cat]:.1f}%",
                              *(f"{cs[x]:,.0f}" for x in ("negative", "neutral", "positive")),
                              "-" if neg != neg else f"{100 * neg:.1f}%", "-" if ms != ms else f"{ms:.2f}"))))
    cat_names = [names.get(str(cat), str(cat)) for cat in s.categories.index]
    need = {c: render_data.cells_width(c, [r[c] for r in rows])
            for c in (("reviews", "share", "neg", "neu", "pos", "% neg", "stars") if sentiment else
                      ("reviews", "share", "stars"))}
    cat_need = render_data.cells_width("category", cat_names)
    for dropped in (None, "share", "neu"):
        need.pop(dropped, None)
        room = con.width - render_data.table_width(list(need.values())) - 3
        if room >= min(cat_need, 12):
            break
    cat_w = max(len("category"), min(cat_need, room))
    t = Table(title=("Category x sentiment" if sentiment else "Categories")
              + (" (weighted by 1 + thumbs-up)" if s.weighted else ""))
    t.add_column("category", no_wrap=True)
    for c in need:
        t.add_column("weight" if c == "reviews" and s.weighted else c, justify="right", no_wrap=True)
    for name, row in zip(say.short_names(cat_names, cat_w), rows):
        t.add_row(name, *(row[c] for c in need))
    con.print(t)
    render_data.categories_by_stars(s, con, names)
    if getattr(s, "several_apps", False):
        render_data.summary_apps(s, con, names)
    elif s.has_versions:  # no review with a version: no table
        t = Table(title="Per app version" + (f" of {s.apps[0]}" if s.apps and s.apps[0] != "unknown" else ""))
        t.add_column("version")
        for c in ("reviews", "mean stars", *(("% negative", f"{100 * s.confidence:g}% CI") if sentiment else ())):
            t.add_column(c, justify="right")
        # newest first and "unknown" last, as the table of several apps and the app show versions
        known = [(v, row) for v, row in s.by_version.iterrows() if v != "unknown"]
        for v, row in known[::-1] + [(v, row) for v, row in s.by_version.iterrows() if v == "unknown"]:
            neg = ("-" if row["negative_share"] != row["negative_share"] else f"{100 * row['negative_share']:.1f}%",
                   render_data.interval_text(row))
            t.add_row(str(v) + (" (latest)" if v == s.latest_version else ""), f"{row['reviews']:,.0f}",
                      "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                      *(neg if sentiment else ()))
        con.print(t)
    print_lines((f"• {f}" for f in findings), con)
    if not findings:
        con.print("• No finding: no group is large enough, or no difference is clear.", markup=False)
    if rule:
        con.print(Text(rule, style="dim"))


# --- kili --------------------------------------------------------------------------------------
def _kili_next(action: str, to_push: int | None, reviews: int | None) -> str:
    """What to do after create/attach: push the reviews the project lacks, or pull when it has them
    all; import first when the workspace has no review (nothing to push, none "in the project")."""
    if reviews == 0:
        return ("The workspace has no reviews yet. Next: reviewtui import FILE, then reviewtui kili push"
                + (" (or reviewtui kili pull, which brings the project's reviews and labels)" if action == "attach"
                   else ""))
    if to_push == 0:
        return ("Every review of this workspace is in the project already. Next: reviewtui kili pull "
                "(brings the labels given in Kili)")
    if to_push is None:
        return "Next: reviewtui kili push"
    return (f"Next: reviewtui kili push ({to_push:,} review{'s' if to_push != 1 else ''} to send; any the "
            "project holds already are matched, not sent twice)")


def kili_lines(action: str, rep: Any) -> list[str]:
    """What a kili command prints (rich markup; Kili's texts escaped)."""
    if action in ("create", "attach"):
        verb = "Created" if action == "create" else "Attached"
        return [f"{verb} Kili project [bold]{escape(rep.title)}[/] ({escape(rep.id)}); its id is kept in "
                "reviewtui.toml \\[backend].",
                *(f"[yellow]warning:[/] {escape(w)}" for w in rep.check.warnings),
                _kili_next(action, rep.to_push, rep.reviews)]
    if action == "push":
        lines = [f"Pushed {say.count(rep.pushed, 'asset')} to Kili project {rep.project_id} in "
                 f"{rep.batches} batch{'' if rep.batches == 1 else 'es'} ({rep.already_in_kili} "
                 f"{'was' if rep.already_in_kili == 1 else 'were'} already there)."]
        if rep.left_out:
            lines.append(f"[yellow]{say.count(rep.left_out, 'asset')} left out[/] (past the cap of {rep.cap}, or "
                         f"empty text), e.g. {escape(', '.join(rep.left_out_ids[:3]))}; raise the cap with --limit or "
                         "max_assets in reviewtui.toml \\[kili].")
        if rep.deleted_in_kili:
            lines.append(f"[yellow]{say.count(rep.deleted_in_kili, 'asset')} deleted in Kili[/] after an earlier push "
                         f"{'was' if rep.deleted_in_kili == 1 else 'were'} not sent "
                         f"again, e.g. {escape(', '.join(rep.deleted_ids[:3]))}; `reviewtui kili push "
                         f"--restore-deleted` sends {'it' if rep.deleted_in_kili == 1 else 'them'}.")
        if rep.restored:
            lines.append(f"{rep.restored} of the pushed assets had been deleted in Kili and are back.")
        return lines
    if action == "pull":
        lines = [f"Pulled {rep.assets_seen} assets from Kili project {rep.project_id}"
                 f"{' changed since the last pull' if rep.incremental else ''}: {rep.labels_recorded} labels "
                 f"recorded, {rep.statuses_changed} statuses changed, {rep.skips_recorded} skips"
                 + (f", {rep.skips_undone} skip{'s' if rep.skips_undone != 1 else ''} taken off"
                    if getattr(rep, "skips_undone", 0) else "") + ", "
                 f"{rep.new_assets} new assets, {rep.unchanged} unchanged."]
        if rep.local_kept:
            lines.append(f"{rep.local_kept} review{'s' if rep.local_kept != 1 else ''} labeled in this workspace kept "
                         "their label and status (Kili has no label for them, or an older one); labels given here "
                         "stay here: Kili's web app does not see them.")
        not_taken = getattr(rep, "kili_skips_not_taken", [])
        if not_taken:
            lines.append(f"{len(not_taken)} review{'s' if len(not_taken) != 1 else ''} labeled here "
                         f"{'are' if len(not_taken) != 1 else 'is'} skipped in Kili, e.g. "
                         f"{escape(', '.join(not_taken[:3]))}: the label here is kept and the skip not taken; "
                         "`reviewtui skip ID --reason ...` skips one here too.")
        gone = rep.kili_label_gone
        if gone:
            lines.append(f"{len(gone)} review{'s' if len(gone) != 1 else ''} labeled from Kili before "
                         f"{'have' if len(gone) != 1 else 'has'} no label in project {rep.project_id} now (a new "
                         f"project, or the label deleted in Kili), e.g. {escape(', '.join(gone[:3]))}: label, status "
                         "and skip kept here, and the next version keeps them (label one again here to change it).")
        return lines
    lines = [f"Sent {rep.sent} predictions of {escape(rep.model_name)} to Kili project {rep.project_id}."]
    if rep.failed:
        lines.append(f"{len(rep.failed)} not sent: "
                     + escape("; ".join(f"{k}: {v}" for k, v in list(rep.failed.items())[:10])))
    return lines


# --- the labeling loop -------------------------------------------------------------------------
def stop_block(stop: dict[str, Any], con: Console | None = None) -> None:
    """The stop signal (a WorkspaceStatus's ``stop``): its line and each category's need."""
    from types import SimpleNamespace

    con = con or console()
    print_lines([f"Stop signal: {say.stop_line(SimpleNamespace(**stop))}"], con)
    needs = [SimpleNamespace(**n) for n in stop.get("categories", [])]
    if needs:  # the labels are today's; the F1 is the last round's, which may have had fewer
        print_lines(["  Per category: its labels now, and the cross-validated F1 of the last round:"], con)
    print_lines((f"  {line}" for line in say.category_need_lines(needs, None)), con)


def discovery(d: Any, examples: int, hint: bool = True) -> None:
    """The clusters of a Discovery: a table (rank, words, size, share, growth) and a few examples each;
    what is new in a version with too few reviews behind its growth says so under the headline."""
    con = console()
    print_lines([say.discovery_headline(d)], con)
    caution = say.growth_caution_sentence(d.caution)
    if caution is not None:
        con.print(Text(caution, style="yellow"))
    if not d.clusters:
        return
    t = Table(title="Clusters" + (" by growth" if d.compared_with else " by size"))
    columns = say.DISCOVER_COLUMNS if d.compared_with else say.DISCOVER_COLUMNS[:-1]  # growth: versions only
    for col in columns:
        t.add_column(col, justify="left" if col == "cluster" else "right", ratio=1 if col == "cluster" else None)
    for c in d.clusters:
        t.add_row(*say.cluster_cells(c, d.caution, d.size)[:len(columns)])
    con.print(t)
    if examples > 0:
        for c in d.clusters:
            print_lines([f"{c.id + 1}. {', '.join(c.words[:5]) or c.name}"], con)
            for _, text in c.examples[:examples]:
                con.print(Text(f"   “{text[:200]}”", style="dim"))
    if hint and d.size >= 2:  # a review or none: no group to name a category after
        con.print("[dim]Make one a category: the same command with --make N --name NAME[/]")
