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

    from reviewtui.demo import build_demo_workspace

    root = Path(args.dir)
    if (root / "reviewtui.toml").exists():
        if not args.force:
            raise ReviewtuiError(f"{root}: a demo workspace is already there; open it with "
                                 f"`reviewtui --workspace {root}` or rebuild it with --force")
        shutil.rmtree(root)
    with _ProgressSink() as sink:
        ws = build_demo_workspace(root, size=args.size, seed=args.seed, on_event=sink)
    _console().print(f"Demo workspace ready in {ws.root}: {ws.store.count()} reviews, "
                     f"{len(ws.versions())} versions. Open it with `reviewtui --workspace {root}`.")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    ws = _open(args)
    from reviewtui.tui.app import ReviewApp

    ReviewApp(ws).run()
    return 0


# --- modeling ---

# --- analysis ---

# --- kili ---
def cmd_kili(args: argparse.Namespace) -> int:
    ws = _open(args)
    con = _console()
    action = args.kili_cmd
    if action is None:
        raise ReviewtuiError("say what to do: reviewtui kili create|attach|push|pull|predictions (see --help)")
    if action in ("create", "attach"):
        info = ws.kili_create(args.title, args.description) if action == "create" else ws.kili_attach(args.project_id)
        if args.json:
            _print_json(info.to_dict())
            return 0
        verb = "Created" if action == "create" else "Attached"
        con.print(f"{verb} Kili project [bold]{info.title}[/] ({info.id}); kept in reviewtui.toml [backend].")
        for w in info.check.warnings:
            con.print(f"[yellow]warning:[/] {w}")
        con.print("Next: reviewtui kili push")
        return 0
    if action == "push":
        with _ProgressSink() as sink:
            rep = ws.kili_push(limit=args.limit, on_event=sink)
        if args.json:
            _print_json(rep.to_dict())
            return 0
        con.print(f"Pushed {rep.pushed} assets to Kili project {rep.project_id} in {rep.batches} batches "
                  f"({rep.already_in_kili} were already there).")
        if rep.left_out:
            con.print(f"[yellow]{rep.left_out} assets left out[/] (cap {rep.cap} or empty text), e.g. "
                      + ", ".join(rep.left_out_ids[:5]) + "; raise the cap with --limit or [kili] max_assets.")
        return 0
    if action == "pull":
        with _ProgressSink() as sink:
            rep = ws.kili_pull(full=args.full, on_event=sink)
        if args.json:
            _print_json(rep.to_dict())
            return 0
        con.print(f"Pulled {rep.assets_seen} assets from Kili project {rep.project_id}"
                  f"{' changed since the last pull' if rep.incremental else ''}: {rep.labels_recorded} labels "
                  f"recorded, {rep.statuses_changed} statuses changed, {rep.skips_recorded} skips, "
                  f"{rep.new_assets} new assets, {rep.unchanged} unchanged.")
        return 0
    if action == "predictions":
        preds = ws.kili_predictions_from_csv(args.file)
        with _ProgressSink() as sink:
            rep = ws.kili_push_predictions(preds, args.model, args.model_version or "", on_event=sink)
        if args.json:
            _print_json(rep.to_dict())
            return 0
        con.print(f"Sent {rep.sent} predictions of {rep.model_name} to Kili project {rep.project_id}.")
        if rep.failed:
            con.print(f"{len(rep.failed)} not sent: " + "; ".join(f"{k}: {v}" for k, v in list(rep.failed.items())[:10]))
        return 0
    raise ReviewtuiError(f"unknown kili command {action!r}")


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
    r.add_argument("file", help="CSV with externalId (or id) and prediction (or label)[, confidence]")
    r.add_argument("--model", required=True, help="model name recorded in Kili")
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
