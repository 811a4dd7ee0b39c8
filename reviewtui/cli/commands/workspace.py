"""The workspace commands: init, import, label, skip, undo, status, export, versions, diff, demo, app."""

from __future__ import annotations

import argparse
import shlex
import shutil
from pathlib import Path

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.errors import ReviewtuiError


def cmd_init(args: argparse.Namespace) -> int:
    from reviewtui.workspace import Workspace

    ws = Workspace.init(args.dir, backend=args.backend, name=args.name, categories=args.categories,
                        taxonomy=args.taxonomy, categories_from=args.categories_from, label_col=args.label_col,
                        delimiter=args.delimiter, sheet=args.sheet, encoding=args.encoding,
                        label_names=args.label_names)
    cats = ", ".join(c.name + ("" if c.train else " (not trained)") for c in ws.taxonomy)
    if args.categories_from:  # the file's path as given, from where it was given, read as init read it
        # a value that starts with "-" (-1=neg,...) is joined to its option: argparse reads it as an option
        reading = "".join((f" {o}={shlex.quote(v)}" if v.startswith("-") else f" {o} {shlex.quote(v)}")
                          for o, v in (("--delimiter", args.delimiter), ("--sheet", args.sheet),
                                       ("--encoding", args.encoding), ("--label-names", args.label_names))
                          if v is not None)
        if ws.labels_without_texts:  # ids and labels only: the reviews come from another file
            then = (f"reviewtui -w {shlex.quote(args.dir)} import EXPORT.csv (the reviews), then "
                    f"reviewtui -w {shlex.quote(args.dir)} label --from {shlex.quote(args.categories_from)} "
                    f"({args.categories_from} has no review text: its labels go to the reviews by id"
                    + ("" if args.label_col.strip().lower() in ("label", "category") else
                       f"; label --from reads the labels from a column named label or category: rename "
                       f"{args.label_col} to label") + ")")
        else:
            then = (f"reviewtui -w {shlex.quote(args.dir)} import {shlex.quote(args.categories_from)} "
                    f"--label-col {shlex.quote(args.label_col)}{reading}")
    else:
        then = f"cd {args.dir} && reviewtui import EXPORT.csv (or a folder of exports)"
    render.print_lines([f"Created workspace {ws.config.name} in {ws.root} (backend {args.backend}).",
                        f"Categories: {cats}.", f"Next: {then}"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from reviewtui.cli.live import ProgressSink
    from reviewtui.ingest import COLUMN_OPTIONS  # --app-col, --stars-col, ... (the parser adds them)

    ws = open_workspace(args)
    with ProgressSink() as sink:
        result = ws.import_reviews(args.files, text_col=args.text_col, id_col=args.id_col, label_col=args.label_col,
                                   delimiter=args.delimiter, keep_pii=args.keep_pii, sheet=args.sheet, app=args.app,
                                   fill_missing_ids=args.fill_missing_ids, add_categories=args.add_categories,
                                   columns={k: getattr(args, f"{k}_col") for k in COLUMN_OPTIONS},
                                   dayfirst=args.dayfirst, encoding=args.encoding, label_names=args.label_names,
                                   ids_per_app=args.ids_per_app, on_event=sink)
    if args.json:
        render.print_json([r.__dict__ for r in result.reports])
        return 0
    render.import_report(result, ws.store.count())
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    if args.from_file:
        if args.id or args.label:
            raise ReviewtuiError("label either one review (ID LABEL) or a file (--from), not both: "
                                 f"{' '.join(x for x in (args.id, args.label) if x)!r} would not be labeled")
        if args.sentiment:
            raise ReviewtuiError("--sentiment labels one review (reviewtui label ID --sentiment positive); "
                                 "a file gives its sentiments in a sentiment column")
        res = ws.label_from_csv(args.from_file, allow_missing=args.allow_missing)
        replaced = f"{res.replaced:,} over another label, " if res.replaced else ""
        labels = res.recorded or res.unchanged or not (res.sentiments_recorded or res.sentiments_unchanged)
        lines = [f"Applied {say.count(res.recorded, 'label')} from {args.from_file} ({replaced}{res.unchanged:,} "
                 f"already so, {say.count(res.rows, 'row')})."] if labels else [
                 f"Read {say.count(res.rows, 'row')} of sentiments from {args.from_file}."]
        if res.missing:
            lines.append(f"Left out {say.count(res.missing, 'id')} not in this workspace (--allow-missing).")
        if res.sentiments_recorded or res.sentiments_unchanged:
            skipped = (f"; {res.sentiments_on_skipped:,} on skipped reviews, which the counts by sentiment "
                       "leave out" if res.sentiments_on_skipped else "")
            lines.append(f"Recorded {say.count(res.sentiments_recorded, 'sentiment')} "
                         f"({res.sentiments_unchanged:,} already so{skipped}).")
        render.print_lines(lines)
        return 0
    if not (args.id and (args.label or args.sentiment)):
        raise ReviewtuiError("give --from FILE.csv, or an asset id and a label and/or --sentiment: "
                             "reviewtui label ID LABEL [--sentiment positive]")
    lines: list[str] = []
    if args.label:
        ws.taxonomy.require(args.label)  # a wrong label is said first, as before ids could be shortened
    args.id = _resolve(ws, args.id, lines)
    if args.label:
        before = ws.store.get(args.id).label
        if before is not None and before == ws.taxonomy.require(args.label):
            # the label it has: a person checked it and keeps it, as `c` in the app (a confirmation:
            # the suspects and the disagreements leave it; a review under review is REVIEWED)
            ev = ws.confirm_label(args.id, before)
            lines.append(f"{ev.external_id}: {before} (as it was; confirmed)")
        else:
            ev = ws.label(args.id, args.label)
            lines.append(say.label_sentence(ev.external_id, before, ev.category or ""))
    if args.sentiment:
        ev = ws.label_sentiment(args.id, args.sentiment)
        lines.append(f"{ev.external_id}: sentiment {ev.category}")
    render.print_lines(lines)
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    """``reviewtui confirm ID...``: keep each review's label as it is, checked (the app's ``c``)."""
    ws = open_workspace(args)
    lines: list[str] = []
    assets = {ext: ws.store.get(ext) for ext in (_resolve(ws, given, lines) for given in args.ids)}
    bare = [ext for ext, asset in assets.items() if asset.label is None]
    if bare:  # every id is checked before any is confirmed
        raise ReviewtuiError(f"{', '.join(bare)}: no label to confirm; label {'it' if len(bare) == 1 else 'them'} "
                             "with `reviewtui label ID LABEL`; nothing confirmed")
    for ext, asset in assets.items():
        ws.confirm_label(ext, asset.label)
        after = ws.store.get(ext).status
        lines.append(f"{ext}: {asset.label} confirmed" + (f" ({asset.status} -> {after})" if asset.status != after else ""))
    render.print_lines(lines)
    return 0


def cmd_skip(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    lines: list[str] = []
    ext = _resolve(ws, args.id, lines)
    ws.skip(ext, args.reason)
    render.print_lines([*lines, f"{ext}: skipped ({args.reason})"])
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    if args.bulk:
        if args.id:
            raise ReviewtuiError("undo --bulk takes back your latest bulk label as a whole: give no id with it")
        events = ws.undo_bulk()
        render.print_lines([say.undo_bulk_sentence(events, ws.taxonomy)])
        return 0 if events else 1  # nothing taken back: a script sees it as it sees "Nothing labeled."
    lines: list[str] = []
    event = ws.undo(_resolve(ws, args.id, lines) if args.id else None)
    render.print_lines([*lines, say.undo_sentence(event, now=ws.store.get(event.external_id) if event else None)])
    return 0 if event else 1


def _resolve(ws, given: str, lines: list[str]) -> str:
    """The external id ``given`` names: a table's shortened id is completed when one review has it
    (``LocalStore.resolve_id``), and ``lines`` gets what it was completed to."""
    ext = ws.store.resolve_id(given)
    if ext != given:
        lines.append(f"{given} is {ext}")
    return ext


def cmd_status(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    st = ws.status()
    if args.json:
        render.print_json({**st.to_dict(), "stale": say.stale_record(st.stale)})
    else:
        render.status(st)
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from reviewtui.workspace import settings_reference

    path, rows = settings_reference(args.workspace, args.sections, required=args.workspace is not None)
    if args.changed:
        rows = [r for r in rows if r.value != r.default]
    if args.json:
        render.print_json({"file": str(path) if path else None, "settings": [r.to_dict() for r in rows]})
        return 0
    render.settings_table(rows, path, changed=args.changed)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    if args.format.lower() != "csv" or args.out:
        res = ws.export_as(args.format, args.out, remove=args.remove or ())
        render.print_lines([say.export_sentence(res.version, root=ws.root, latest=res.latest.name),
                            say.formatted_export_sentence(res, root=ws.root)])
        return 0
    info = ws.export(remove=args.remove or ())
    latest = ws.latest_version().name if info is None else None
    render.print_lines([say.export_sentence(info, root=ws.root, latest=latest)])
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    if args.versions_cmd == "import":
        infos = ws.import_versions(args.files)
        render.print_lines((f"{Path(info.manifest['imported_from']).name} has the rows of {info.name} already: "
                            "nothing registered") if info.manifest.get("again") else
                           f"Put {Path(info.manifest['imported_from']).name} back as {info.name} ({info.rows} rows), "
                           "the version it is a copy of" if info.manifest.get("restored") else
                           f"Registered {Path(info.manifest['imported_from']).name} as {info.name} ({info.rows} rows)"
                           for info in infos)
        return 0
    if args.versions_cmd == "forget":
        gone = ws.forget_version(args.name)
        render.print_lines([f"{gone['name']} is no longer named as missing; its number is not given again"])
        return 0
    versions = ws.versions()
    if args.json:
        render.print_json([v.manifest for v in versions] + [{**m, "missing": True} for m in ws.missing_versions()])
    else:
        render.versions_table(versions, ws.missing_versions())
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    d = ws.diff(args.a, args.b)
    moved = ws.diff_to_review(d) if args.to_review else None
    if args.json:
        data = d.to_dict()
        if moved is not None:
            data["to_review"] = {"moved": moved.moved, "failed": moved.failed, "kept": moved.kept}
        render.print_json(data)
        return 0
    render.diff(d, args.rows, moved)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from reviewtui.cli.live import ProgressSink
    from reviewtui.workspace import Workspace

    if args.dir and args.workspace and Path(args.dir).resolve() != Path(args.workspace).resolve():
        raise ReviewtuiError(f"demo {args.dir} and --workspace {args.workspace} name two folders: give one")
    root = Path(args.dir or args.workspace or "demo-workspace")
    if (root / "reviewtui.toml").exists():
        if not _is_demo_workspace(root):  # a team's workspace: never replaced, --force or not
            raise ReviewtuiError(f"{root}: a reviewtui workspace the demo did not make is there; the demo is "
                                 "built in a new or empty folder: choose another one")
        if not args.force:
            raise ReviewtuiError(f"{root}: a demo workspace is already there; open it with "
                                 f"`reviewtui --workspace {root}` or rebuild it with --force")
        shutil.rmtree(root)
    elif root.is_dir() and (theirs := sorted(p.name for p in root.iterdir() if p.name not in DEMO_WRITES)):
        raise ReviewtuiError(f"{root}: the folder holds files already ({', '.join(theirs[:3])}); the demo is built "
                             "in a new or empty folder: choose another one")
    elif root.is_dir() and any(root.iterdir()):  # what an interrupted demo left: built again
        shutil.rmtree(root)
    with ProgressSink() as sink:
        ws = Workspace.demo(root, size=args.size, seed=args.seed, on_event=sink)
    render.print_lines([f"Demo workspace ready in {ws.root}: {ws.store.count():,} reviews, "
                        f"{len(ws.versions())} versions. Open it with `reviewtui --workspace {root}`."])
    return 0


#: What ``reviewtui demo`` writes in its folder: a folder holding only these is an interrupted demo.
DEMO_WRITES = frozenset({"demo-data", "reviewtui.toml", "reviewtui.db", "reviewtui.db-wal", "reviewtui.db-shm",
                         "reviewtui.db-journal", "versions", "models", "results", "cache", "jobs", "exports"})


def _is_demo_workspace(root: Path) -> bool:
    """Whether ``root`` holds a workspace ``reviewtui demo`` made (its name is "demo" and the
    generated corpus is beside it): the only kind ``demo --force`` replaces."""
    from reviewtui.config import Config

    try:
        name = Config.load(root / "reviewtui.toml").name
    except ReviewtuiError:
        return False
    return name == "demo" and (root / "demo-data").is_dir()


def cmd_app(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    from reviewtui.tui.app import ReviewApp

    app = ReviewApp(ws, quit_at_once=True)
    app.run()
    _leave_without_waiting_for_workers(app.return_code or 0)
    return app.return_code or 0


def _leave_without_waiting_for_workers(code: int) -> None:
    """After the app closed (ctrl+q): end the process at once when a worker thread still runs (the
    labeling screen embedding the corpus for its first suggestions, a refit). Python would wait for
    it at exit, minutes with the terminal blank. Nothing is lost: the labels were written as they
    were given, a store transaction not committed is rolled back by SQLite, and the embedding
    cache's shards are written whole or not at all; a job started from the app is a process of its
    own and runs on."""
    import os
    import sys
    import threading

    if not any(t.is_alive() and not t.daemon and t is not threading.main_thread() for t in threading.enumerate()):
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
