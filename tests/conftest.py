"""Shared fixtures and helpers of the test suite."""

from __future__ import annotations

import csv
import os
import secrets
import signal
from pathlib import Path

import pytest

# Nothing in the suite may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every Ray the suite starts (in this process, in the processes it starts, the two-node cluster of
# tests/test_predict_ray.py) uses one token of this run: Ray loads a process's token once, so a
# token file another Ray left in ~/.ray, or a second token later in the run, would lock this
# process out of the next cluster it starts or joins.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
# int8's ONNX files (named by the weights) go to one folder of this run, shared by the tests and
# the commands they start: the packaged MiniLM of every default ensemble is exported once, not
# once per workspace. Tests of the workspace's own int8 folder unset it.
if "REVIEWTUI_INT8_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["REVIEWTUI_INT8_CACHE"] = tempfile.mkdtemp(prefix="reviewtui-test-int8-")
    atexit.register(shutil.rmtree, os.environ["REVIEWTUI_INT8_CACHE"], ignore_errors=True)
# Several workers share the machine's cores (`make test`: -n 3): each of them, and every command
# and Ray trial it starts, runs torch and its math libraries on its share of the cores. A worker's
# default is every core, and two of them spinning on the same cores wait on each other: a Ray
# search beside the other worker's training took four times as long.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
if _WORKERS > 1:
    _CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    _SHARE = str(max(1, _CORES // _WORKERS))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "REVIEWTUI_TORCH_THREADS"):
        os.environ.setdefault(_name, _SHARE)
# The Ctrl-C tests need SIGINT as a terminal gives it. A suite started in the background of a
# non-interactive shell (`make test &`, nohup) inherits it ignored, and Python and the commands the
# tests start would keep it ignored; Python's own handler here is reset to the default in every
# command the tests start, which then installs its own.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)



@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests that start Ray share one worker when the suite runs on several (`make test`: ``-n 3
    --dist loadgroup``): two Rays side by side on a two-core machine fight for the cores their
    trials reserve, and each is slower than the two one after the other."""
    for item in items:
        if item.get_closest_marker("ray"):
            item.add_marker(pytest.mark.xdist_group("ray"))


PLAY_HEADER = ["reviewId", "userName", "userImage", "content", "score", "thumbsUpCount",
               "reviewCreatedVersion", "at", "replyContent", "repliedAt"]

PLAY_ROWS = [
    ["r1", "Ann Lee", "https://img/a", "I can't read without paying for the membership!!", "1", "3", "4.4.0",
     "2022-01-02 10:00:00", "", ""],
    ["r2", "Bo Chan", "https://img/b", "Great articles about <b>science</b> 😀", "5", "0", "4.4.0",
     "2022-01-03 10:00:00", "Thanks!", "2022-01-04 10:00:00"],
    ["r3", "Cy Dee", "https://img/c", "The new   layout is CONFUSING, see https://example.com/x", "2", "7", "4.5.0",
     "2022-02-01 10:00:00", "", ""],
    ["r4", "Di Eve", "https://img/d", "", "3", "0", "4.5.0", "2022-02-02 10:00:00", "", ""],
    ["r5", "Ed Fox", "https://img/e", "😀😀", "4", "0", "4.5.0", "2022-02-03 10:00:00", "", ""],
    ["r6", "Flo Gu", "https://img/f", "Smooth and easy to use, love it", "5", "1", "", "2022-02-04 10:00:00", "", ""],
]


def schema_before_5() -> str:
    """The store's schema as reviewtui wrote it before version 5 (assets still had ``text_hash``),
    to build the stores of older versions the migrations start from."""
    from reviewtui.store import SCHEMA

    old = SCHEMA.replace("    text TEXT NOT NULL,\n", "    text TEXT NOT NULL,\n    text_hash TEXT NOT NULL,\n", 1)
    assert old != SCHEMA
    return old


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def play_csv(tmp_path: Path) -> Path:
    """A small google-play-scraper export: 6 rows, one empty text, one emoji-only."""
    return write_csv(tmp_path / "play.csv", PLAY_HEADER, PLAY_ROWS)


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh local workspace in a temp folder."""
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def imported(workspace, play_csv):
    """The fresh workspace with the small export imported (4 reviews kept)."""
    workspace.import_reviews([play_csv])
    return workspace


@pytest.fixture
def fixture_ws(tmp_path: Path):
    """(app) The app tests' workspace: 40 reviews and two dataset versions (tui_data.build_workspace)."""
    from tui_data import build_workspace

    ws = build_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def quality_ws(tmp_path: Path):
    """(app) fixture_ws's reviews with two authors' labels and stars against text (tui_data.build_quality_workspace)."""
    from tui_data import build_quality_workspace

    ws = build_quality_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """(modeling) A 2-layer BERT with hidden size 32 and the MiniLM tokenizer, saved once per session."""
    from modeling_fixtures import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def analysis_ws(tmp_path: Path):
    """(analysis) A local workspace of 64 short synthetic reviews, no labels yet, with star scores,
    app versions 4.4.x/4.5.x and thumbs-up in the metadata. ``analysis_ws.truth`` maps id -> label."""
    import random

    from modeling_fixtures import LABELS, review_text

    from reviewtui.store import NewAsset
    from reviewtui.workspace import Workspace

    rng = random.Random(5)
    ws = Workspace.init(tmp_path / "analysis-ws")
    truth, records = {}, []
    for i in range(64):
        label = LABELS[i % 4]
        ext = f"r{i:03d}"
        truth[ext] = label
        meta = {"score": 1 + (i * 7) % 5, "app_version": "4.5.1" if i % 3 == 0 else "4.4.0",
                "at": f"2025-01-{1 + i % 28:02d} 10:00:00", "thumbs_up": i % 4}
        records.append(NewAsset(ext, review_text(label, rng), meta))
    ws.store.add_assets(records)
    ws.truth = truth
    yield ws
    ws.close()
