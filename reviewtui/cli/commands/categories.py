"""``reviewtui categories [list] | add | set | rename | merge | remove``: a team's taxonomy without
editing reviewtui.toml. Renames and merges record new label events; history and exported versions
stay as they are."""

from __future__ import annotations

import argparse

from reviewtui import presentation as say
from reviewtui.cli import render, render_data
from reviewtui.cli.commands import open_workspace
from reviewtui.config import category_key
from reviewtui.errors import ReviewtuiError


def cmd_categories(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    action = getattr(args, "categories_cmd", None) or "list"
    if action == "list":
        rows = ws.categories()
        if getattr(args, "json", False):
            render.print_json([r.to_dict() for r in rows])
        else:
            render_data.categories(rows, render.console())
        return 0
    if action == "add":
        applied = ws.add_category(args.name, key=args.key, colour=args.colour, train=not args.no_train,
                                  description=args.description or "", examples=args.example or ())
    elif action == "set":
        if args.no_examples and args.example:
            raise ReviewtuiError("categories set: give --example TEXT (the new examples) or --no-examples "
                                 "(none), not both")
        examples = [] if args.no_examples else args.example
        applied = ws.set_category(args.name, train=args.train, colour=args.colour, description=args.description,
                                  examples=examples, add_examples=args.add_example or ())
    elif action == "rename":
        old = ws.taxonomy.resolve(str(args.old))
        if old is not None and (args.key or category_key(args.new)) != old:  # a new key: its labels move
            say_moving(ws, [args.old])
        applied = ws.rename_category(args.old, args.new, new_key=args.key)
    elif action == "merge":
        say_moving(ws, args.sources)
        applied = ws.merge_categories(args.sources, args.into)
    else:
        if args.unused == bool(args.names):
            raise ReviewtuiError("categories remove: name the categories to remove, or give --unused (every "
                                 "category no review carries)" + (", not both" if args.unused else ""))
        unused = ws.unused_categories() if args.unused else []
        if args.unused and not unused:
            render.print_lines(["Every category carries a label; nothing removed."])
            return 0
        if args.unused and len(unused) == len(ws.taxonomy.keys):
            raise ReviewtuiError("categories remove --unused: no review carries a label yet, so it would remove "
                                 "every category and a taxonomy needs at least one; nothing removed: label some "
                                 "reviews first (or import their labels), or name the categories to remove")
        applied = ws.remove_category(unused or args.names)
    render.print_lines([say.category_change_sentence(applied),
                        "Categories: " + ", ".join(f"{c.key} ({c.name})" for c in ws.taxonomy)])
    return 0


#: Labels a rename or a merge moves past which it says so before it starts (a minute for some
#: hundreds of thousands, in one transaction that Ctrl-C cannot stop half-way).
SAY_MOVING = 20_000


def say_moving(ws, names) -> None:
    """On stderr, before a rename or merge that moves many labels: how many, and that it is one
    transaction (nothing moves if it fails or the process is killed)."""
    if ws.settings.backend.kind == "kili":  # refused there (the labels live in Kili): nothing moves
        return
    counts = ws.store.counts_by_label()
    keys = {ws.taxonomy.resolve(str(n)) for n in names} - {None}
    moving = sum(counts.get(k, 0) for k in keys)
    if moving >= SAY_MOVING:
        render.err_console().print(f"moving {moving:,} labels in one transaction (about a minute per 300,000; "
                                   "if it is stopped, nothing moves)…", markup=False, highlight=False)

