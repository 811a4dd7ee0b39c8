"""The labeling loop's commands: bulk labels of a filtered set (``label --filter/--search
--category``) and ``discover``. ``queue --filter/--search`` is the analysis module's queue command."""

from __future__ import annotations

import argparse
import sys

from reviewtui import presentation as say
from reviewtui.cli import render
from reviewtui.cli.commands import open_workspace
from reviewtui.errors import ReviewtuiError


def cmd_label(args: argparse.Namespace) -> int:
    """``reviewtui label``: a bulk label when a filter, a search or a category is given, else the
    workspace module's label command (ID LABEL, --from FILE.csv)."""
    if args.allow_missing and not args.from_file:
        raise ReviewtuiError("--allow-missing goes with --from FILE.csv: it leaves out the file's rows whose ids "
                             "are not in the workspace")
    if not (args.filters or args.search or args.category):
        from reviewtui.cli.commands.workspace import cmd_label as label_one

        return label_one(args)
    if args.id or args.label or args.from_file:
        raise ReviewtuiError("label either one review (ID LABEL), a file (--from) or a filtered set "
                             "(--filter/--search with --category), not several at once")
    if getattr(args, "sentiment", None):
        raise ReviewtuiError("--sentiment labels one review (reviewtui label ID --sentiment positive), not a "
                             "filtered set")
    if not args.category:
        raise ReviewtuiError("give --category X: the category for every review the filter keeps")
    if not (args.filters or args.search):
        raise ReviewtuiError("give --filter KEY=VALUE or --search TEXT: a bulk label needs a filtered set "
                             "(the whole queue is never labeled at once)")
    ws = open_workspace(args)
    key = ws.taxonomy.require(args.category, "--category")
    found = ws.find(args.filters, args.search)
    description = found.describe()
    if found.total == 0:
        raise ReviewtuiError(f"nothing to label: {ws.no_match(found.filter)}")
    question = say.bulk_question(found.total, description, say.category_name(key, ws.taxonomy))
    if not args.yes:
        if not sys.stdin.isatty():
            raise ReviewtuiError(f"nothing labeled: a bulk label asks first and there is no terminal to ask on; "
                                 f"confirm with --yes to label all {found.total:,} review{'s' if found.total != 1 else ''} "
                                 f"of the filtered queue ({description}) as {say.category_name(key, ws.taxonomy)}")
        con = render.console()
        for ext in found.ids[:5]:
            con.print(f"  {ext}: {ws.store.get(ext).text[:100]}", markup=False)
        if found.total > 5:
            con.print(f"  … and {found.total - 5:,} more", markup=False)
        answer = input(f"{question} [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            render.print_lines(["Nothing labeled."])
            return 1
    if found.total >= 20_000:  # one label event each, in one transaction
        render.err_console().print(f"labeling {found.total:,} reviews in one transaction…", markup=False,
                                   highlight=False)
    result = ws.bulk_label(found.ids, key, expected=found.total)
    render.print_lines([say.bulk_sentence(result, ws.taxonomy)
                        + (" `reviewtui undo --bulk` takes them all back." if result.recorded > 1 else "")])
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from reviewtui.cli.live import ProgressSink
    from reviewtui.loop.discover import check_options

    selection = args.selection or ("version" if args.version else None)  # None: other, or low-confidence
    if args.version and selection != "version":
        raise ReviewtuiError("--version goes with --in version")
    if (args.name or args.key) and args.make is None:
        raise ReviewtuiError("--name and --key go with --make N (the cluster to make a category)")
    if args.limit < 4:
        raise ReviewtuiError(f"--limit must be at least 4, not {args.limit}")
    check_options(None, clusters=args.clusters, min_size=args.min_size)
    ws = open_workspace(args)
    options = dict(version=args.version, app=args.app, limit=args.limit, seed=args.seed, clusters=args.clusters,
                   min_size=args.min_size)
    # --make N makes cluster N of the listing the user read, though predictions or labels changed since
    saved = ws.last_discovery(selection, **options) if args.make is not None else None
    listed_at = None
    if saved is not None:
        found, listed_at = saved
        if not args.json:
            render.print_lines([f"Cluster {args.make} of the listing of {listed_at[:16].replace('T', ' ')} UTC "
                                "(`reviewtui discover` without --make lists the clusters again)."])
    else:
        with ProgressSink() as sink:
            found = ws.discover(selection, on_event=sink, **options)
    made = None
    if args.make is not None:
        if not 1 <= args.make <= len(found.clusters):
            raise ReviewtuiError(f"--make {args.make}: there are {len(found.clusters)} clusters, numbered from 1")
        made = ws.make_category(found.clusters[args.make - 1], name=args.name, key=args.key)
    if args.json:
        data = found.to_dict()
        if made is not None:
            data["made"] = {"key": made.key, "name": made.name, "queued": made.queued,
                            "already_labeled": made.already_labeled, "listed_at": listed_at}
        render.print_json(data)
        return 0
    render.discovery(found, args.examples, hint=made is None)
    if made is not None:
        render.print_lines([say.new_category_sentence(made)])
    return 0
