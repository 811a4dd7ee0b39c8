"""Headless mode: a thin command per pipeline step, each calling one Workspace method.

Errors the user can cause print as one line on stderr and exit 2. ``reviewtui`` with no command
opens the app. Heavy libraries are never imported here; the rooms import them when called.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from reviewtui import __version__
from reviewtui.errors import ReviewtuiError

Handler = Callable[[argparse.Namespace], int]


def _console():
    from rich.console import Console

    return Console(highlight=False)


def _err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _open(args: argparse.Namespace):
    from reviewtui.workspace import Workspace

    return Workspace.open(args.workspace)


class _ProgressSink:
    """Feeds Progress/Notice events to a rich progress bar (transient) on stderr."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = _err_console()
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, transient=True,
                                  disable=not console.is_terminal)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> "_ProgressSink":
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, event: Any) -> None:
        from reviewtui.events import Notice, Progress

        if isinstance(event, Progress):
            task = self._tasks.get(event.task)
            if task is None:
                task = self._tasks[event.task] = self._progress.add_task(event.task, total=event.total)
            self._progress.update(task, completed=event.done, total=event.total,
                                  description=f"{event.task} {event.detail}".strip())
        elif isinstance(event, Notice):
            style = {"error": "red", "warning": "yellow"}.get(event.level, "")
            self._progress.console.print(f"[{style}]{event.text}[/]" if style else event.text)


# -- foundation commands --------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from reviewtui.workspace import Workspace

    ws = Workspace.init(args.dir, backend=args.backend, name=args.name)
    _console().print(f"Created workspace [bold]{ws.config.name}[/] in {ws.root} (backend {args.backend}).\n"
                     f"Next: cd {args.dir} && reviewtui import EXPORT.csv")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from rich.table import Table

    ws = _open(args)
    with _ProgressSink() as sink:
        result = ws.import_reviews(args.files, text_col=args.text_col, id_col=args.id_col, label_col=args.label_col,
                                   delimiter=args.delimiter, keep_pii=args.keep_pii, on_event=sink)
    if args.json:
        _print_json([r.__dict__ for r in result.reports])
        return 0
    table = Table(title="Import report")
    for col in ("file", "rows read", "dropped", "kept", "new", "already there"):
        table.add_column(col, justify="left" if col in ("file", "dropped") else "right")
    for r in result.reports:
        dropped = ", ".join(f"{k}: {v}" for k, v in r.dropped.items()) or "-"
        table.add_row(Path(r.source).name, str(r.rows_read), dropped, str(r.kept), str(r.added), str(r.existing))
    con = _console()
    con.print(table)
    for r in result.reports:
        changed = ", ".join(f"{k}: {v}" for k, v in r.changed.items() if v)
        if changed:
            con.print(f"[dim]{Path(r.source).name}: rows changed by cleaning — {changed}[/]")
        if r.labels:
            con.print(f"{Path(r.source).name}: {r.labels} labels recorded (source import)")
    con.print(f"{result.added} new reviews; {ws.store.count()} in the workspace.")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    ws = _open(args)
    con = _console()
    if args.from_file:
        res = ws.label_from_csv(args.from_file)
        con.print(f"Applied {res.recorded} labels from {args.from_file} ({res.unchanged} already so, "
                  f"{res.rows} rows).")
        return 0
    if not (args.id and args.label):
        raise ReviewtuiError("give --from FILE.csv, or an asset id and a label: reviewtui label ID LABEL")
    ev = ws.label(args.id, args.label)
    con.print(f"{ev.external_id}: {ev.category}")
    return 0


def cmd_skip(args: argparse.Namespace) -> int:
    ws = _open(args)
    ws.skip(args.id, args.reason)
    _console().print(f"{args.id}: skipped ({args.reason})")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    ws = _open(args)
    ev = ws.undo(args.id)
    if ev is None:
        _console().print("Nothing to undo.")
    else:
        _console().print(f"Undid {ev.kind} {ev.category or ev.note or ''} on {ev.external_id}.")
    return 0


def _bar(n: int, total: int, width: int = 20) -> str:
    filled = round(width * n / total) if total else 0
    return "█" * filled + "·" * (width - filled)


def cmd_status(args: argparse.Namespace) -> int:
    ws = _open(args)
    st = ws.status()
    if args.json:
        _print_json(st.to_dict())
        return 0
    from rich.table import Table

    con = _console()
    backend = st.backend.get("kind", "local")
    if st.backend.get("project_id"):
        backend += f" (project {st.backend['project_id']})"
    con.print(f"[bold]{st.name}[/]  {st.root}  backend: {backend}  assets: {st.assets}")
    t = Table(title="By status")
    t.add_column("status"), t.add_column("assets", justify="right"), t.add_column("")
    for k, v in st.by_status.items():
        t.add_row(k, str(v), _bar(v, st.assets))
    con.print(t)
    t = Table(title="By label")
    t.add_column("label"), t.add_column("assets", justify="right"), t.add_column("")
    total_labels = sum(st.by_label.values())
    for k, v in st.by_label.items():
        t.add_row(k, str(v), _bar(v, total_labels))
    con.print(t)
    if st.versions:
        t = Table(title="Versions")
        for c in ("version", "rows", "parent", "created", "source"):
            t.add_column(c)
        for v in st.versions:
            t.add_row(v["name"], str(v["rows"]), v["parent"] or "-", str(v["created"] or "-"), str(v["source"] or ""))
        con.print(t)
    if st.models:
        t = Table(title="Models")
        for c in ("model", "version", "base", "accuracy", "weighted F1"):
            t.add_column(c)
        for m in st.models:
            met = m.get("metrics") or {}
            t.add_row(str(m["name"]), str(m.get("version") or "-"), str(m.get("base") or "-"),
                      f"{met['accuracy']:.3f}" if "accuracy" in met else "-",
                      f"{met['f1_weighted']:.3f}" if "f1_weighted" in met else "-")
        con.print(t)
    for step in st.next_steps:
        con.print(f"→ {step}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    ws = _open(args)
    info = ws.export(remove=args.remove or ())
    con = _console()
    if info is None:
        con.print(f"Nothing changed since {ws.latest_version().name}; no version written.")
        return 0
    m = info.manifest
    counts = ", ".join(f"{k} {v}" for k, v in m["counts_by_label"].items())
    con.print(f"Wrote {info.csv_path.relative_to(ws.root)}: {m['rows']} rows ({counts}); parent {m['parent'] or '-'}.")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    ws = _open(args)
    con = _console()
    if args.versions_cmd == "import":
        infos = ws.import_versions(args.files)
        for info in infos:
            con.print(f"Registered {Path(info.manifest['imported_from']).name} as {info.name} ({info.rows} rows)")
        return 0
    versions = ws.versions()
    if args.json:
        _print_json([v.manifest for v in versions])
        return 0
    from rich.table import Table

    t = Table(title="Versions")
    for c in ("version", "rows", "parent", "created", "labels"):
        t.add_column(c)
    for v in versions:
        labels = ", ".join(f"{k} {n}" for k, n in v.manifest.get("counts_by_label", {}).items())
        t.add_row(v.name, str(v.rows), v.parent or "-", str(v.manifest.get("created", "-")), labels)
    con.print(t)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    ws = _open(args)
    d = ws.diff(args.a, args.b)
    moved = None
    if args.to_review:
        moved = ws.diff_to_review(d)
    if args.json:
        data = d.to_dict()
        if moved is not None:
            data["to_review"] = {"moved": moved.moved, "failed": moved.failed}
        _print_json(data)
        return 0
    from rich.table import Table

    con = _console()
    c = d.counts
    con.print(f"{d.a} → {d.b}: {c['added']} added, {c['removed']} removed, {c['relabeled']} relabeled, "
              f"{c['status_changed']} status changed")
    for pair, n in d.relabel_pairs.items():
        con.print(f"  relabeled {pair}: {n}")
    if not d.empty and args.rows:
        t = Table()
        t.add_column("change", no_wrap=True, min_width=9)
        t.add_column("externalId", no_wrap=True, overflow="ellipsis", min_width=10, max_width=16)
        t.add_column("from", no_wrap=True, overflow="ellipsis", min_width=7, max_width=16)
        t.add_column("to", no_wrap=True, overflow="ellipsis", min_width=7, max_width=16)
        t.add_column("content", no_wrap=True, overflow="ellipsis", min_width=20)
        for ch in d.changes[: args.rows]:
            t.add_row(ch.kind, ch.external_id, ch.before or "", ch.after or ch.label or "", ch.content[:120])
        con.print(t)
        if len(d.changes) > args.rows:
            con.print(f"[dim]… {len(d.changes) - args.rows} more (use --rows N or --json)[/]")
    if moved is not None:
        con.print(f"Sent {len(moved.moved)} assets to review.")
        if moved.failed:
            con.print(f"{len(moved.failed)} could not be moved: " +
                      "; ".join(f"{k}: {v}" for k, v in list(moved.failed.items())[:10]))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import shutil

    from reviewtui.workspace import Workspace

    root = Path(args.dir)
    if (root / "reviewtui.toml").exists():
        if not args.force:
            raise ReviewtuiError(f"{root}: a demo workspace is already there; open it with "
                                 f"`reviewtui --workspace {root}` or rebuild it with --force")
        shutil.rmtree(root)
    with _ProgressSink() as sink:
        ws = Workspace.demo(root, size=args.size, seed=args.seed, on_event=sink)
    _console().print(f"Demo workspace ready in {ws.root}: {ws.store.count()} reviews, "
                     f"{len(ws.versions())} versions. Open it with `reviewtui --workspace {root}`.")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    ws = _open(args)
    from reviewtui.tui.app import ReviewApp

    ReviewApp(ws).run()
    return 0


# --- modeling ---
def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "-"


def _print_card(card: Any) -> None:
    from rich.table import Table

    con = _console()
    m = card.metrics
    con.print(f"Saved model [bold]{card.name}[/] ({card.kind}, base {card.base_model}) trained on "
              f"{card.dataset_version} in {card.train_seconds:.1f}s: test accuracy [bold]{_fmt(m.get('accuracy'))}[/], "
              f"weighted F1 {_fmt(m.get('f1_weighted'))}, macro F1 {_fmt(m.get('f1_macro'))} "
              f"({card.splits.get('test', 0)} test rows).")
    alone, quick = card.extra.get("finetuned_only_metrics"), card.extra.get("quick_only_metrics")
    if alone and quick:
        con.print(f"[dim]Ensemble of the fine-tuned model (accuracy {_fmt(alone.get('accuracy'))}) and the quick "
                  f"model (accuracy {_fmt(quick.get('accuracy'))}); [training] ensemble_quick = false keeps the "
                  "fine-tune alone.[/]")
    report = Table(title="Per-class report (test split)")
    for col in ("label", "precision", "recall", "f1", "support"):
        report.add_column(col, justify="left" if col == "label" else "right")
    for label in card.labels:
        r = card.per_class.get(label, {})
        report.add_row(label, _fmt(r.get("precision")), _fmt(r.get("recall")), _fmt(r.get("f1")), str(r.get("support", 0)))
    report.add_row("weighted", _fmt(m.get("precision_weighted")), _fmt(m.get("recall_weighted")),
                   _fmt(m.get("f1_weighted")), str(card.splits.get("test", 0)), style="bold")
    con.print(report)
    if card.confusion_matrix:
        cm = Table(title="Confusion matrix (rows: true, columns: predicted)")
        cm.add_column("")
        for label in card.labels:
            cm.add_column(label[:12], justify="right")
        for label, row in zip(card.labels, card.confusion_matrix):
            cm.add_row(label, *[str(v) for v in row])
        con.print(cm)


def cmd_train(args: argparse.Namespace) -> int:
    ws = _open(args)
    version = f"dataset-{args.version}" if args.version and str(args.version).isdigit() else args.version
    overrides = {k: v for k, v in (("epochs", args.epochs), ("learning_rate", args.lr),
                                   ("batch_size", args.batch_size)) if v is not None}
    with _ProgressSink() as sink:
        card = ws.train(version, args.name, model=args.model, training=overrides, quick=args.quick,
                        overwrite=args.overwrite, on_event=sink)
    if args.json:
        _print_json(card.to_dict())
    else:
        _print_card(card)
    return 0


class _TrialBoard:
    """The live rich table of Ray Tune trials, fed by TrialUpdate events from the search thread."""

    def __init__(self, total: int) -> None:
        import threading

        self.total = total
        self.rows: dict[str, Any] = {}
        self.notes: list[str] = []
        self.lock = threading.Lock()
        self.cancelling = False

    def __call__(self, event: Any) -> None:
        from reviewtui.events import Notice, TrialUpdate

        with self.lock:
            if isinstance(event, TrialUpdate):
                self.rows[event.trial_id] = event
            elif isinstance(event, Notice):
                self.notes = (self.notes + [event.text])[-3:]

    def render(self):
        from rich.console import Group
        from rich.table import Table

        with self.lock:
            rows = list(self.rows.values())
            notes = list(self.notes)
        best = max((r for r in rows if "accuracy" in r.metrics), key=lambda r: r.metrics.get("objective", 0.0),
                   default=None)
        table = Table(title=f"Trials ({sum(r.status in ('TERMINATED', 'STOPPED', 'ERROR') for r in rows)}"
                            f"/{self.total} finished)", expand=False)
        for col in ("trial", "status", "model", "lr", "epochs", "batch", "epoch", "val acc", "val F1", "loss", "time"):
            table.add_column(col, justify="left" if col in ("trial", "status", "model") else "right")
        colours = {"RUNNING": "cyan", "TERMINATED": "green", "STOPPED": "yellow", "ERROR": "red"}
        for r in rows:
            c = r.config
            status = r.status + (" (ASHA)" if r.early_stopped else "")
            model = str(c.get("model", ""))
            quick = model == "quick"
            lr = f"C={_fmt(c.get('quick_C'), 1)}" if quick else (f"{c['learning_rate']:.1e}" if "learning_rate" in c else "-")
            table.add_row(r.trial_id + (" *" if best is not None and r.trial_id == best.trial_id else ""),
                          f"[{colours.get(r.status, '')}]{status}[/]", Path(model).name if "/" in model and
                          Path(model).exists() else model, lr,
                          "-" if quick else str(c.get("epochs", "-")), "-" if quick else str(c.get("batch_size", "-")),
                          str(r.iteration),
                          _fmt(r.metrics.get("accuracy")), _fmt(r.metrics.get("f1_weighted")),
                          _fmt(r.metrics.get("loss")), f"{r.elapsed:.0f}s")
        parts: list[Any] = [table]
        gpus = next((r.gpus for r in reversed(rows) if r.gpus), ())
        for g in gpus:
            parts.append(f"GPU {g.index} {g.name}: {_fmt(g.utilization, 0)}% util, "
                         f"{_fmt(g.memory_used_mb, 0)}/{_fmt(g.memory_total_mb, 0)} MB")
        errors = [r for r in rows if r.status == "ERROR" and r.error]
        parts += [f"[red]{r.trial_id}: {r.error}[/]" for r in errors[-3:]]
        parts += [f"[dim]{n}[/]" for n in notes]
        if self.cancelling:
            parts.append("[yellow]cancelling: stopping the running trials…[/]")
        return Group(*parts)


def cmd_tune(args: argparse.Namespace) -> int:
    import threading
    import time

    from rich.live import Live

    ws = _open(args)
    version = f"dataset-{args.version}" if args.version and str(args.version).isdigit() else args.version
    total = args.trials or int(ws.config.section("tuning").get("trials", 20))
    tuning: dict[str, Any] = {}
    if args.candidates:
        tuning["candidates"] = [c.strip() for c in args.candidates.split(",") if c.strip()]
    if args.time_budget is not None:
        tuning["time_budget_s"] = args.time_budget * 60
    board = _TrialBoard(total)
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    done = threading.Event()

    def run() -> None:
        try:
            outcome["result"] = ws.tune(total, args.ray_address, version=version, name=args.name, tuning=tuning,
                                        on_event=board, cancel=cancel)
        except BaseException as exc:  # re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="reviewtui-tune", daemon=True)
    console = _err_console()
    with Live(board.render(), console=console, refresh_per_second=4, transient=False,
              redirect_stdout=False, redirect_stderr=False) as live:
        worker.start()
        # a plain sleep, not Thread.join: a Ctrl-C inside join() can leave is_alive() wrong on 3.11
        while not done.is_set():
            try:
                time.sleep(0.25)
                live.update(board.render())
            except KeyboardInterrupt:
                # Ctrl-C: stop the search cleanly; finished trials are kept and Ray is shut down
                cancel.set()
                board.cancelling = True
        live.update(board.render())
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if args.json:
        _print_json({"cancelled": result.cancelled, "best_trial": result.best_trial_id,
                     "best_config": result.best_config, "best_validation": result.best_metrics,
                     "counts": result.counts, "early_stopped": result.early_stopped,
                     "search_seconds": round(result.search_seconds, 2),
                     "trials": [{"trial_id": t.trial_id, "status": t.status, "config": t.config,
                                 "iteration": t.iteration, "metrics": t.metrics, "early_stopped": t.early_stopped,
                                 "error": t.error} for t in result.trials],
                     "model": result.card.to_dict() if result.card else None})
        return 130 if result.cancelled else 0
    con = _console()
    counts = ", ".join(f"{n} {s.lower()}" for s, n in result.counts.items())
    con.print(f"Search {'cancelled' if result.cancelled else 'done'} in {result.search_seconds:.0f}s: {counts}; "
              f"{result.early_stopped} stopped early by ASHA.")
    if result.best_trial_id:
        con.print(f"Best trial {result.best_trial_id}: validation accuracy {_fmt(result.best_metrics.get('accuracy'))} "
                  f"with {json.dumps(result.best_config)}")
    if result.card is not None:
        _print_card(result.card)
    elif result.cancelled:
        con.print("Nothing saved (cancelled).")
    return 130 if result.cancelled else 0


def cmd_models(args: argparse.Namespace) -> int:
    from rich.table import Table

    ws = _open(args)
    rows = ws.model_history()
    curve = ws.learning_curve()
    if args.json:
        _print_json({"models": [r.to_dict() for r in rows], "learning_curve": [p.to_dict() for p in curve]})
        return 0
    con = _console()
    if not rows:
        con.print("No trained model yet: run reviewtui train (or reviewtui tune --trials 20).")
        return 0
    table = Table(title="Trained models (test split)")
    table.add_column("model", overflow="fold")
    table.add_column("kind / base", overflow="fold")
    table.add_column("version")
    for col in ("acc", "F1 w", "P w", "R w", "F1 m", "test", "trained"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        kind = r.kind + ("+tuned" if r.tuned else "") + f" / {r.base_model}"
        table.add_row(r.name, kind, r.dataset_version or "-", _fmt(r.accuracy), _fmt(r.f1_weighted),
                      _fmt(r.precision_weighted), _fmt(r.recall_weighted), _fmt(r.f1_macro), str(r.test_rows),
                      r.created_at.replace("T", " ")[5:16])
    con.print(table)
    if len(curve) > 1:
        lc = Table(title="Learning curve (best model per version)")
        for col in ("version", "model", "accuracy", "F1 w", "precision w", "recall w"):
            lc.add_column(col, justify="left" if col in ("version", "model") else "right")
        for p in curve:
            lc.add_row(p.version, p.model, _fmt(p.accuracy), _fmt(p.f1_weighted), _fmt(p.precision_weighted),
                       _fmt(p.recall_weighted))
        con.print(lc)
    return 0


def register_modeling_commands(sub: Any) -> None:
    s = sub.add_parser("train", help="fine-tune a classifier on a dataset version; evaluate and save it")
    s.add_argument("--version", help="dataset version, e.g. 11 or dataset-11 (default: the latest)")
    s.add_argument("--name", help="model folder name under models/ (default: <version>-<base>-<time>)")
    s.add_argument("--model", help="base model: minilm, a local folder or a hub id (default: [model] base)")
    s.add_argument("--quick", action="store_true", help="train the quick model (embeddings + logistic regression)")
    s.add_argument("--epochs", type=int, help="override [training] epochs")
    s.add_argument("--lr", type=float, help="override [training] learning_rate")
    s.add_argument("--batch-size", type=int, help="override [training] batch_size")
    s.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    s.add_argument("--json", action="store_true", help="print the model card as JSON")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("tune", help="Ray Tune search (ASHA + HyperOpt) with a live trial table; saves the best")
    s.add_argument("--trials", type=int, help="number of trials (default: [tuning] trials)")
    s.add_argument("--version", help="dataset version (default: the latest)")
    s.add_argument("--name", help="name of the saved best model")
    s.add_argument("--candidates", help="comma-separated base models to search among, e.g. minilm,quick "
                                        "(default: [tuning] candidates, else [model] base)")
    s.add_argument("--ray-address", help="run on an existing Ray cluster (e.g. auto or ray://head:10001)")
    s.add_argument("--time-budget", type=float, metavar="MINUTES",
                   help="stop starting and running trials after this long (default: [tuning] time_budget_s)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_tune)

    s = sub.add_parser("models", help="trained models and their metrics per dataset version")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)


# --- analysis ---
def cmd_queue(args: argparse.Namespace) -> int:
    ws = _open(args)
    with _ProgressSink() as sink:
        batch = ws.queue_batch(args.strategy, args.size, seed=args.seed, apply=not args.dry_run, on_event=sink)
    if args.json:
        _print_json(batch.to_dict())
        return 0
    from rich.table import Table

    con = _console()
    how = "coverage (no model yet)" if batch.cold_start else batch.strategy
    t = Table(title=f"Next {len(batch.items)} to label — {how}; {batch.labeled} labeled, "
                    f"{batch.candidates} candidates")
    t.add_column("#", justify="right")
    t.add_column("id", overflow="ellipsis", no_wrap=True, max_width=14)
    t.add_column("suggestion", no_wrap=True, min_width=10)
    t.add_column("conf.", justify="right", no_wrap=True)
    t.add_column("uncert.", justify="right", no_wrap=True, min_width=7)
    t.add_column("text", ratio=1, min_width=30)
    for rank, it in enumerate(batch.items[: args.rows], start=1):
        t.add_row(str(rank), it.external_id, it.suggestion or "-",
                  f"{it.confidence:.2f}" if it.confidence is not None else "-", f"{it.uncertainty:.3f}",
                  it.text[:160])
    con.print(t)
    if args.dry_run:
        con.print("[dim]--dry-run: priorities not changed[/]")
    else:
        failed = batch.moved.failed if batch.moved else {}
        con.print(f"Priorities set in the {batch.backend} backend for {len(batch.items) - len(failed)} assets"
                  + (f"; {len(failed)} failed" if failed else "") + ".")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    ws = _open(args)
    with _ProgressSink() as sink:
        strategies = [x for s in (args.strategy or []) for x in s.split(",") if x.strip()] or None
        res = ws.simulate(args.oracle, strategies=strategies, batch=args.batch, rounds=args.rounds,
                          seeds=args.seeds, initial=args.initial, allow_missing=args.allow_missing, on_event=sink)
    reach = res.labels_to_reach(0.95)
    interp = res.labels_to_reach(0.95, interpolate=True)
    if args.json:
        _print_json({"full_pool": res.full_pool, "labels_to_95pct": reach, "labels_to_95pct_interpolated": interp,
                     "pool": res.pool_size,
                     "test": res.test_size, "curves": res.mean_curves(),
                     "files": [str(p) for p in (res.csv_path, res.summary_path, res.png_path) if p]})
        return 0
    from rich.table import Table

    con = _console()
    curves = res.mean_curves()
    t = Table(title=f"Held-out macro-F1 (mean of {len(res.seeds)} seeds; pool {res.pool_size}, test {res.test_size}; "
                    f"full pool {res.full_pool['macro_f1']:.3f})")
    t.add_column("labels", justify="right")
    for s in res.strategies:
        t.add_column(s, justify="right")
    rounds = max(len(c) for c in curves.values())
    for r in range(rounds):
        row = [str(curves[res.strategies[0]][r][0]) if r < len(curves[res.strategies[0]]) else "-"]
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
        con.print(f"{s}: {n if n is not None else 'not reached'} labels to 95% of the full-pool macro-F1{ratio}")
    con.print(f"Wrote {res.csv_path}, {res.summary_path} and {res.png_path}.")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    ws = _open(args)
    with _ProgressSink() as sink:
        res = ws.predict(args.model, sentiment=args.sentiment, chunk_size=args.chunk_size, on_event=sink)
    if args.json:
        _print_json(res.to_dict())
        return 0
    con = _console()
    resumed = f", {res.resumed_chunks} of {res.chunks} chunks resumed" if res.resumed_chunks else ""
    con.print(f"Predicted {res.rows:,} reviews with {res.model} on {res.device} in {res.seconds:.1f}s{resumed}.")
    con.print("Categories: " + ", ".join(f"{k} {v:,}" for k, v in res.counts.items()))
    if res.sentiment_counts:
        con.print(f"Sentiment ({res.sentiment}): " + ", ".join(f"{k} {v:,}" for k, v in res.sentiment_counts.items()))
    con.print(f"Wrote {res.path}. Next: reviewtui report")
    return 0


def cmd_sentiment(args: argparse.Namespace) -> int:
    ws = _open(args)
    options = args.option or ["vader", "stars"]
    with _ProgressSink() as sink:
        cmp = ws.sentiment_comparison(options, sample=args.sample or None, on_event=sink)
    if args.json:
        _print_json(cmp.to_dict())
        return 0
    from rich.table import Table

    con = _console()
    dist = ", ".join(f"{k} {v:,}" for k, v in cmp.star_distribution.items())
    t = Table(title=f"Agreement with the stars on {cmp.n:,} reviews (stars: {dist})")
    for c in ("option", "accuracy", "macro-F1", "kappa", "negative", "neutral", "positive"):
        t.add_column(c, justify="left" if c == "option" else "right")
    for a in cmp.agreements:
        name = a.analyzer + (" (5-fold)" if a.cross_validated else "")
        t.add_row(name, f"{a.accuracy:.3f}", f"{a.macro_f1:.3f}", f"{a.kappa:.3f}",
                  *(f"{a.distribution.get(s, 0):,}" for s in ("negative", "neutral", "positive")))
    con.print(t)
    return 0


def _summary_args(s: Any) -> None:
    s.add_argument("--app-version", help="only this app version (4.5 matches 4.5.0, 4.5.1, ...)")
    s.add_argument("--weight-thumbs", action="store_true", help="count each review 1 + its thumbs-up times")
    s.add_argument("--version-depth", type=int, default=2,
                   help="group versions to this many parts (default 2: 4.5.1 -> 4.5; 0 keeps them whole)")


def cmd_summary(args: argparse.Namespace) -> int:
    ws = _open(args)
    s = ws.summary(args.app_version, args.weight_thumbs, args.version_depth or None)
    if args.json:
        _print_json(s.to_dict())
        return 0
    from rich.table import Table

    from reviewtui.analysis.report import findings

    con = _console()
    scope = f"version {s.app_version}" if s.app_version else "all versions"
    con.print(f"[bold]{s.reviews:,} reviews[/] ({scope}; model {s.model}; latest version {s.latest_version or '-'})")
    t = Table(title="Category x sentiment")
    t.add_column("category", no_wrap=True, min_width=15)
    for c in ("reviews", "share", "neg", "neu", "pos", "% neg", "stars"):
        t.add_column(c, justify="right", no_wrap=True)
    for cat in s.categories.index:
        cs = s.category_sentiment.loc[cat]
        neg, ms = s.negative_share.get(cat), s.mean_score.get(cat)
        t.add_row(str(cat), f"{s.categories[cat]:,.0f}", f"{100 * s.category_share[cat]:.1f}%",
                  *(f"{cs[x]:,.0f}" for x in ("negative", "neutral", "positive")),
                  "-" if neg != neg else f"{100 * neg:.1f}%", "-" if ms != ms else f"{ms:.2f}")
    con.print(t)
    t = Table(title="Per app version")
    t.add_column("version")
    for c in ("reviews", "mean stars", "% negative"):
        t.add_column(c, justify="right")
    for v, row in s.by_version.iterrows():
        t.add_row(str(v) + (" (latest)" if v == s.latest_version else ""), f"{row['reviews']:,.0f}",
                  "-" if row["mean_score"] != row["mean_score"] else f"{row['mean_score']:.2f}",
                  "-" if row["negative_share"] != row["negative_share"] else f"{100 * row['negative_share']:.1f}%")
    con.print(t)
    for f in findings(s):
        con.print(f"• {f}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    ws = _open(args)
    paths = ws.write_report(args.app_version, args.weight_thumbs, args.version_depth or None)
    if args.json:
        _print_json(paths.to_dict())
        return 0
    _console().print(f"Wrote {paths.markdown} and {paths.html} ({len(paths.charts)} charts, "
                     f"{len(paths.tables)} tables under {paths.markdown.parent}/tables).")
    return 0


def register_analysis_commands(sub: Any) -> None:
    STRATEGIES = ("random", "least_confidence", "margin", "entropy", "diversity")  # reviewtui.active's, kept light

    s = sub.add_parser("queue", help="pick the next batch to label (active learning) and set queue priorities")
    s.add_argument("--strategy", help=f"one of {', '.join(STRATEGIES)} (default: [active_learning] strategy)")
    s.add_argument("--size", type=int, help="batch size (default: [active_learning] batch_size)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--rows", type=int, default=20, help="rows to show (default 20)")
    s.add_argument("--dry-run", action="store_true", help="show the batch without changing priorities")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_queue)

    s = sub.add_parser("simulate", help="simulate labeling rounds from an oracle file; learning curves")
    s.add_argument("--oracle", required=True, help="CSV with an id column and a label column")
    s.add_argument("--strategy", action="extend", nargs="+", metavar="S",
                   help=f"one or more of {', '.join(STRATEGIES)} (default: random margin diversity)")
    s.add_argument("--batch", type=int, help="labels per round (default: [active_learning] batch_size)")
    s.add_argument("--rounds", type=int, default=10)
    s.add_argument("--seeds", type=int, default=5)
    s.add_argument("--initial", type=int, help="random labels before the first round (default: --batch)")
    s.add_argument("--allow-missing", action="store_true", help="leave out oracle ids not in the workspace")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("predict", help="predict category, confidence and sentiment of every review")
    s.add_argument("--model", help="saved model name, or quick (default: the newest saved model)")
    s.add_argument("--sentiment", help="vader, stars, none or a sentiment model folder (default: [sentiment] model)")
    s.add_argument("--chunk-size", type=int, default=None, help="reviews per resumable chunk (default 2048)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_predict)

    s = sub.add_parser("sentiment", help="compare sentiment options with the star scores")
    s.add_argument("--option", action="append", help="vader, stars or a model folder (repeatable; default vader, stars)")
    s.add_argument("--sample", type=int, default=5000, help="reviews to compare on (0: all)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sentiment)

    s = sub.add_parser("summary", help="category, sentiment and score tables of the predictions")
    _summary_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("report", help="write results/report.md and report.html with charts and CSV tables")
    _summary_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_report)


# --- kili ---
def cmd_kili(args: argparse.Namespace) -> int:
    action = args.kili_cmd
    if action is None:
        raise ReviewtuiError("say what to do: reviewtui kili create|attach|push|pull|predictions (see --help)")
    ws = _open(args)
    if action == "create":
        rep = ws.kili_create(args.title, args.description)
    elif action == "attach":
        rep = ws.kili_attach(args.project_id)
    else:
        preds, model = ws.kili_predictions_from_csv(args.file) if action == "predictions" else (None, None)
        model = args.model or model if action == "predictions" else None
        if action == "predictions" and not model:
            raise ReviewtuiError(f"{args.file}: no model column; name the model with --model NAME")
        with _ProgressSink() as sink:
            if action == "push":
                rep = ws.kili_push(limit=args.limit, on_event=sink)
            elif action == "pull":
                rep = ws.kili_pull(full=args.full, on_event=sink)
            else:
                rep = ws.kili_push_predictions(preds, model, args.model_version or "", on_event=sink)
    if args.json:
        _print_json(rep.to_dict())
        return 0
    con = _console()
    for line in _kili_lines(action, rep):
        con.print(line)
    return 0


def _kili_lines(action: str, rep: Any) -> list[str]:
    """What a kili command prints (rich markup; Kili's texts escaped)."""
    from rich.markup import escape

    if action in ("create", "attach"):
        verb = "Created" if action == "create" else "Attached"
        return [f"{verb} Kili project [bold]{escape(rep.title)}[/] ({escape(rep.id)}); its id is kept in "
                "reviewtui.toml \\[backend].",
                *(f"[yellow]warning:[/] {escape(w)}" for w in rep.check.warnings),
                "Next: reviewtui kili push"]
    if action == "push":
        lines = [f"Pushed {rep.pushed} assets to Kili project {rep.project_id} in {rep.batches} batches "
                 f"({rep.already_in_kili} were already there)."]
        if rep.left_out:
            lines.append(f"[yellow]{rep.left_out} assets left out[/] (past the cap of {rep.cap}, or empty text), "
                         f"e.g. {escape(', '.join(rep.left_out_ids[:3]))}; raise the cap with --limit or "
                         "max_assets in reviewtui.toml \\[kili].")
        return lines
    if action == "pull":
        return [f"Pulled {rep.assets_seen} assets from Kili project {rep.project_id}"
                f"{' changed since the last pull' if rep.incremental else ''}: {rep.labels_recorded} labels "
                f"recorded, {rep.statuses_changed} statuses changed, {rep.skips_recorded} skips, "
                f"{rep.new_assets} new assets, {rep.unchanged} unchanged."]
    lines = [f"Sent {rep.sent} predictions of {escape(rep.model_name)} to Kili project {rep.project_id}."]
    if rep.failed:
        lines.append(f"{len(rep.failed)} not sent: "
                     + escape("; ".join(f"{k}: {v}" for k, v in list(rep.failed.items())[:10])))
    return lines


def register_kili_commands(sub: Any) -> None:
    s = sub.add_parser("kili", help="label in a Kili project: create, attach, push, pull, predictions")
    ksub = s.add_subparsers(dest="kili_cmd", metavar="ACTION")
    c = ksub.add_parser("create", help="create a TEXT project whose interface comes from the taxonomy")
    c.add_argument("--title", help="project title (default: the workspace name)")
    c.add_argument("--description", default="", help="project description")
    c.add_argument("--json", action="store_true")
    a = ksub.add_parser("attach", help="use an existing project (its interface is checked)")
    a.add_argument("project_id")
    a.add_argument("--json", action="store_true")
    p = ksub.add_parser("push", help="upload the reviews (batches of 100, resumable, no duplicates)")
    p.add_argument("--limit", type=int, help="push at most N assets (default [kili] max_assets, 25000)")
    p.add_argument("--json", action="store_true")
    q = ksub.add_parser("pull", help="record Kili's labels, statuses and spans in the workspace")
    q.add_argument("--full", action="store_true", help="read every asset, not only those changed since the last pull")
    q.add_argument("--json", action="store_true")
    r = ksub.add_parser("predictions", help="send model predictions as pre-annotations")
    r.add_argument("file", help="results/result.csv of `reviewtui predict`, or a CSV with externalId (or id) "
                               "and prediction (or label)[, confidence]")
    r.add_argument("--model", help="model name recorded in Kili (default: the file's model column)")
    r.add_argument("--version", dest="model_version", help="model version (recorded as NAME@VERSION)")
    r.add_argument("--json", action="store_true")
    for action in (c, a, p, q, r):
        action.add_argument("-w", "--workspace", default=argparse.SUPPRESS, help="workspace folder")
    s.set_defaults(func=cmd_kili, kili_cmd=None)



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reviewtui", description="Label, version, train and analyse app reviews.")
    p.add_argument("--version", action="version", version=f"reviewtui {__version__}")
    p.add_argument("-w", "--workspace", help="workspace folder (default: the current folder or one above it)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-w", "--workspace", default=argparse.SUPPRESS,
                        help="workspace folder (default: the current folder or one above it)")
    _add = sub.add_parser
    sub.add_parser = lambda *a, **k: _add(*a, parents=[common], **k)  # every command takes --workspace

    s = sub.add_parser("init", help="create a workspace")
    s.add_argument("dir")
    s.add_argument("--backend", choices=("local", "kili"), default="local")
    s.add_argument("--name")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("import", help="import review CSV exports")
    s.add_argument("files", nargs="+")
    s.add_argument("--text-col", help="text column (default: content)")
    s.add_argument("--id-col", help="id column (default: reviewId; ids from the text when absent)")
    s.add_argument("--label-col", help="record labels from this column (source import)")
    s.add_argument("--delimiter", help="field delimiter (default: detected from the header)")
    s.add_argument("--keep-pii", action="store_true", help="keep userName/userImage")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("label", help="label assets headlessly: --from FILE.csv, or ID LABEL")
    s.add_argument("id", nargs="?")
    s.add_argument("label", nargs="?")
    s.add_argument("--from", dest="from_file", help="CSV with id,label[,status] rows")
    s.set_defaults(func=cmd_label)

    s = sub.add_parser("skip", help="skip an asset with a reason")
    s.add_argument("id")
    s.add_argument("--reason", required=True)
    s.set_defaults(func=cmd_skip)

    s = sub.add_parser("undo", help="undo your latest label, skip or status change")
    s.add_argument("id", nargs="?")
    s.set_defaults(func=cmd_undo)

    s = sub.add_parser("status", help="counts by status and label, versions and models")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("export", help="write the next immutable dataset version")
    s.add_argument("--remove", action="append", metavar="LABEL", help="drop this label (repeatable)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("versions", help="list versions, or register existing version CSVs")
    s.add_argument("--json", action="store_true")
    vsub = s.add_subparsers(dest="versions_cmd")
    vi = vsub.add_parser("import", help="register existing dataset-N.csv files")
    vi.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_versions)

    s = sub.add_parser("diff", help="compare two versions")
    s.add_argument("a")
    s.add_argument("b")
    s.add_argument("--json", action="store_true")
    s.add_argument("--rows", type=int, default=30, help="changed rows to show (default 30)")
    s.add_argument("--to-review", action="store_true", help="send the differing assets to TO_REVIEW")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("demo", help="build the demo workspace")
    s.add_argument("dir", nargs="?", default="demo-workspace")
    s.add_argument("--size", type=int, default=40_000)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--force", action="store_true", help="rebuild it if it exists")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("app", help="open the terminal app (the default)")
    s.set_defaults(func=cmd_app)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return p


# Rooms append functions taking the subparsers object to register their commands.
_EXTRA_COMMANDS: list[Callable[[Any], None]] = []
_EXTRA_COMMANDS.append(register_modeling_commands)  # --- modeling ---
_EXTRA_COMMANDS.append(register_analysis_commands)  # --- analysis ---
_EXTRA_COMMANDS.append(register_kili_commands)  # --- kili ---


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler = getattr(args, "func", cmd_app)
    try:
        return func(args)
    except ReviewtuiError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
