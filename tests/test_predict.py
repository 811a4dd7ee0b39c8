"""Corpus prediction: result.csv, resuming an interrupted run, saved models, bad input."""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from reviewtui.analysis.predict import RESULT_COLUMNS
from reviewtui.errors import ReviewtuiError
from reviewtui.events import Progress
from reviewtui.modeling import Cancelled
from reviewtui.store import NewAsset


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def label_some(ws, n: int = 16) -> None:
    for i, (ext, lab) in enumerate(ws.truth.items()):
        if i >= n:
            break
        ws.label(ext, lab)


def save_classifier(ws, name: str, tiny_bert, *, keys=None, id2label=None, arch: str = "classifier"):
    """A tiny BERT (hidden 32, two layers, MiniLM tokenizer) saved as a reviewtui model folder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

    from reviewtui.modeling.card import ModelCard, now_iso

    keys = list(keys or ws.taxonomy.training_keys)
    config = BertConfig.from_pretrained(tiny_bert)
    config.num_labels = len(id2label or keys)
    config.id2label = dict(enumerate(id2label or keys))
    config.label2id = {v: k for k, v in config.id2label.items()}
    torch.manual_seed(0)
    model = BertForSequenceClassification(config) if arch == "classifier" else BertModel(config)
    folder = ws.models_dir / name
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    ModelCard(name=name, kind="finetuned", base_model="tiny", base_source="local", labels=keys, taxonomy_keys=keys,
              hyperparameters={"max_length": 64}, created_at=now_iso()).save(folder)
    return folder


def test_predict_with_the_quick_model_writes_every_column(analysis_ws):
    ws = analysis_ws
    label_some(ws)
    ws.store.add_assets([NewAsset("=evil", "=HYPERLINK(\"http://x\") -great app @home +1",
                                  {"score": 5, "app_version": "-4.5", "thumbs_up": 2})])
    res = ws.predict()
    assert res.model == "quick" and res.rows == 65 and res.sentiment == "vader" and res.device == "cpu"
    assert ws.summary().sentiment_source == "vader"  # the summary says what read the sentiment
    rows = read_rows(ws.results_dir / "result.csv")
    assert list(rows[0]) == RESULT_COLUMNS and len(rows) == 65
    assert all(r["predicted_category"] in ws.taxonomy.training_keys for r in rows)
    assert all(0.25 <= float(r["confidence"]) <= 1 for r in rows)
    assert all(r["sentiment"] in ("negative", "neutral", "positive") for r in rows)
    assert all(-1 <= float(r["sentiment_score"]) <= 1 for r in rows)
    first = rows[0]
    assert first["reviewId"] == "r000" and first["score"] == "1" and first["reviewCreatedVersion"] == "4.5.1"
    assert first["thumbsUpCount"] == "0" and first["at"] == "2025-01-01 10:00:00" and first["model"] == "quick"
    # the quick model learned the synthetic categories
    right = sum(r["predicted_category"] == ws.truth[r["reviewId"]] for r in rows if r["reviewId"] in ws.truth)
    assert right >= 0.8 * 64
    # cells that a spreadsheet would run as formulas are neutralised
    evil = rows[-1]
    assert evil["reviewId"] == "'=evil" and evil["content"].startswith("'=HYPERLINK")
    assert evil["reviewCreatedVersion"] == "'-4.5"
    raw = (ws.results_dir / "result.csv").read_text(encoding="utf-8")
    assert not any(line.startswith(("=", "+", "-", "@")) for line in raw.splitlines())
    assert "\n=" not in raw and ",=" not in raw and ",@" not in raw and ",+" not in raw
    assert not (ws.results_dir / ".predict").exists() or not any((ws.results_dir / ".predict").iterdir())


def test_an_interrupted_run_resumes_with_identical_results(analysis_ws):
    ws = analysis_ws
    label_some(ws)
    cancel = threading.Event()
    seen: list[Progress] = []

    def stop_after_two_chunks(ev):
        if isinstance(ev, Progress) and ev.task == "predict" and ev.detail.startswith("chunk 2/"):
            cancel.set()
        seen.append(ev)

    with pytest.raises(Cancelled, match="run it again to resume"):
        ws.predict("quick", chunk_size=10, on_event=stop_after_two_chunks, cancel=cancel)
    assert not (ws.results_dir / "result.csv").exists()
    run_dirs = list((ws.results_dir / ".predict").iterdir())
    assert len(run_dirs) == 1 and len(list(run_dirs[0].glob("chunk-*.npz"))) == 2

    after: list[Progress] = []
    # run again without --chunk-size: the interrupted run's chunks of 10 are resumed, not started over
    resumed = ws.predict("quick", on_event=after.append)
    assert resumed.chunks == 7 and resumed.resumed_chunks == 2
    # the resumed run counts from the 20 reviews already done, never past the 64 there are
    counts = [e.done for e in after if isinstance(e, Progress) and e.task == "predict"]
    assert counts and min(counts) > 20 and max(counts) == 64 and counts == sorted(counts)
    first = (ws.results_dir / "result.csv").read_bytes()
    assert not (ws.results_dir / ".predict" / run_dirs[0].name).exists()

    fresh = ws.predict("quick", chunk_size=10)
    assert fresh.resumed_chunks == 0
    assert (ws.results_dir / "result.csv").read_bytes() == first

    ws.label("r040", "CONTENT")  # other labels -> another quick model -> nothing to resume
    cancel.clear()
    with pytest.raises(Cancelled):
        ws.predict("quick", chunk_size=10, on_event=stop_after_two_chunks, cancel=cancel)
    ws.label("r041", "CONTENT")
    assert ws.predict("quick", chunk_size=10).resumed_chunks == 0


def test_a_failure_while_the_results_are_written_leaves_the_last_results_whole(analysis_ws, monkeypatch):
    """The Parquet parts could not be written (a full disk, a read-only folder): result.csv had
    been replaced by the new run's while result.json and the parts still spoke of the last one, and
    the command line said nothing was kept half-written."""
    from reviewtui.analysis import predict as predict_mod

    ws = analysis_ws
    label_some(ws)
    ws.predict("quick", sentiment="none")
    before = {name: (ws.results_dir / name).read_bytes() for name in ("result.csv", "result.json")}
    ws.label("r040", "CONTENT")  # another quick model: other results

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(predict_mod, "write_parts", full_disk)
    with pytest.raises(OSError):
        ws.predict("quick", sentiment="none")
    assert {name: (ws.results_dir / name).read_bytes() for name in before} == before
    leftovers = [p.name for p in ws.results_dir.iterdir() if p.name.startswith(".") and p.name != ".predict"]
    assert leftovers == [], leftovers
    monkeypatch.undo()
    ws.predict("quick", sentiment="none")
    assert (ws.results_dir / "result.csv").read_bytes() != before["result.csv"]


def test_a_saved_quick_model_counts_its_embedding_progress_over_the_whole_run(analysis_ws):
    """A saved quick model embeds chunk by chunk: the "predict embed" counter goes on from one
    chunk to the next (it used to start again at 0 in each chunk, out of the whole corpus)."""
    ws = analysis_ws
    label_some(ws, 24)
    ws.export()
    ws.train(quick=True, name="q", evaluation={"cv_below": 0})
    seen: list[Progress] = []
    ws.predict("q", sentiment="none", chunk_size=10, on_event=seen.append)
    predict = [e for e in seen if isinstance(e, Progress) and e.task == "predict"]
    assert {e.total for e in predict} == {64}
    counts = [e.done for e in predict]
    assert counts == sorted(counts) and counts[-1] == 64
    embed = [e.done for e in predict if e.detail == "embed"]
    assert embed and max(embed) > 10  # past the first chunk


def test_predict_with_a_saved_fine_tuned_model(analysis_ws, tiny_bert):
    ws = analysis_ws
    save_classifier(ws, "tiny", tiny_bert)
    res = ws.predict(sentiment="none")  # no name: the newest saved model
    assert res.model == "tiny" and res.sentiment == "none"
    rows = read_rows(res.path)
    assert len(rows) == 64 and {r["model"] for r in rows} == {"tiny"}
    assert all(r["predicted_category"] in ws.taxonomy.training_keys for r in rows)
    assert all(r["sentiment"] == "" and r["sentiment_score"] == "" for r in rows)
    # the same probabilities the modeling package's SavedClassifier gives
    from reviewtui.modeling.inference import SavedClassifier

    clf = SavedClassifier.load(ws.models_dir / "tiny")
    p = clf.predict_proba([a.text for a in ws.store.iter_assets()])
    assert [clf.labels[i] for i in p.argmax(1)] == [r["predicted_category"] for r in rows]
    np.testing.assert_allclose([float(r["confidence"]) for r in rows], p.max(1), atol=1e-3)


def test_bad_input_is_a_clear_error_and_writes_nothing(analysis_ws, workspace, tiny_bert, tmp_path):
    ws = analysis_ws
    out = ws.results_dir / "result.csv"
    with pytest.raises(ReviewtuiError, match="no reviews to predict"):
        workspace.predict()
    with pytest.raises(ReviewtuiError, match="no model to predict with"):
        ws.predict()
    with pytest.raises(ReviewtuiError, match="no model 'ghost'"):
        ws.predict("ghost")
    save_classifier(ws, "other-tax", tiny_bert, keys=["PRICE", "BUGS"])
    with pytest.raises(ReviewtuiError, match="trained on categories PRICE, BUGS"):
        ws.predict("other-tax")
    label_some(ws)
    not_sentiment = save_classifier(ws, "cat-model", tiny_bert)  # labels are categories, not sentiments
    with pytest.raises(ReviewtuiError, match="not a sentiment classifier: its labels are SUBSCRIPTION"):
        ws.predict("quick", sentiment=str(not_sentiment))
    encoder = save_classifier(ws, "encoder", tiny_bert, arch="encoder")
    with pytest.raises(ReviewtuiError, match="not a sentiment classifier: its architecture is BertModel"):
        ws.predict("quick", sentiment=str(encoder))
    with pytest.raises(ReviewtuiError, match="does not exist"):
        ws.predict("quick", sentiment=str(tmp_path / "no" / "such-model"))
    assert not out.exists() and not (ws.results_dir / ".predict").exists()


def test_a_hugging_face_sentiment_folder_is_used_through_the_same_interface(analysis_ws, tiny_bert):
    from reviewtui.analysis.sentiment import make_analyzer

    ws = analysis_ws
    folder = save_classifier(ws, "senti", tiny_bert, id2label=["Negative", "Neutral", "Positive"])
    an = make_analyzer(str(folder), max_length=ws.settings.model.max_length)
    out = an.analyze(["great", "awful app", "ok"])
    assert len(out) == 3 and set(out.labels) <= {"negative", "neutral", "positive"}
    assert np.all(np.abs(out.scores) <= 1)
    label_some(ws)
    res = ws.predict("quick", sentiment=str(folder))
    assert sum(res.sentiment_counts.values()) == 64


def test_cli_predict(analysis_ws, capsys):
    import json

    from reviewtui.cli import main

    label_some(analysis_ws)
    assert main(["-w", str(analysis_ws.root), "predict", "--model", "quick", "--chunk-size", "30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 64 and data["chunks"] == 3 and data["model"] == "quick"
    assert sum(data["counts"].values()) == 64
    assert main(["-w", str(analysis_ws.root), "predict", "--model", "quick", "--sentiment", "stars", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sentiment"] == "stars" and sum(data["sentiment_counts"].values()) == 64
    assert main(["-w", str(analysis_ws.root), "predict", "--model", "nope"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err


def test_a_killed_run_resumes(analysis_ws):
    """SIGKILL the predicting process after its second chunk; the next run resumes from the saved
    chunks and writes the same file as an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    ws = analysis_ws
    label_some(ws)
    root = Path(__file__).resolve().parents[1]
    code = (
        "import os, signal, sys\n"
        "from reviewtui.events import Progress\n"
        "from reviewtui.workspace import Workspace\n"
        "ws = Workspace.open(sys.argv[1])\n"
        "def die(ev):\n"
        "    if isinstance(ev, Progress) and ev.task == 'predict' and ev.detail.startswith('chunk 2/'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "ws.predict('quick', chunk_size=10, on_event=die)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code, str(ws.root)], env=env, capture_output=True, timeout=120)
    assert out.returncode == -signal.SIGKILL, out.stderr.decode()[-2000:]
    assert not (ws.results_dir / "result.csv").exists()
    resumed = ws.predict("quick", chunk_size=10)
    assert resumed.resumed_chunks == 2 and resumed.chunks == 7
    first = resumed.path.read_bytes()
    assert ws.predict("quick", chunk_size=10).resumed_chunks == 0
    assert resumed.path.read_bytes() == first


def test_every_file_predict_writes_is_written_atomically_with_utc_timestamps(analysis_ws, monkeypatch):
    """The run record (results/.predict/<key>/run.json), the chunks, result.csv and result.json all
    go through a temp file and a rename; the records' times are UTC ISO 8601 with milliseconds."""
    import json
    import os
    import re

    from reviewtui.files import parse_timestamp

    ws = analysis_ws
    label_some(ws)
    replaced: list[str] = []
    records: dict[str, dict] = {}
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        replaced.append(os.path.basename(dst))
        if os.path.basename(dst).endswith(".json"):
            with open(dst, encoding="utf-8") as fh:
                records[os.path.basename(dst)] = json.load(fh)

    monkeypatch.setattr(os, "replace", spy)
    res = ws.predict("quick", sentiment="none", chunk_size=30)
    assert res.chunks == 3
    assert "run.json" in replaced and "result.json" in replaced and "result.csv" in replaced
    assert sum(name.startswith("chunk-") for name in replaced) == 3
    one_format = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
    for name, key in (("run.json", "started"), ("result.json", "created")):
        assert one_format.match(records[name][key]), (name, records[name][key])
        assert parse_timestamp(records[name][key]).utcoffset().total_seconds() == 0


def test_files_written_through_a_temporary_name_get_the_permissions_of_the_umask(analysis_ws, tmp_path):
    """result.csv, result.json, the Parquet parts, a saved model and a dataset version are shared
    with the team: they get 0666/0777 less the umask, as a plain open() or mkdir() would give,
    not the 0600/0700 of tempfile's mkstemp/mkdtemp."""
    import os
    import stat

    from reviewtui.files import atomic_write_text, make_temp_dir

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    old = os.umask(0o022)
    try:
        ws = analysis_ws
        label_some(ws, 24)
        version = ws.export()
        card = ws.train(quick=True, name="q", evaluation={"cv_below": 0})
        ws.predict("q", sentiment="none")
        assert mode(ws.results_dir / "result.csv") == 0o644
        assert mode(ws.results_dir / "result.json") == 0o644
        parts = ws.results_dir / "result-parts"
        assert mode(parts) == 0o755 and {mode(p) for p in parts.iterdir()} == {0o644}
        assert mode(card.path) == 0o755 and {mode(p) for p in Path(card.path).iterdir()} == {0o644}
        assert mode(version.csv_path) == 0o644
        os.umask(0o027)
        assert mode(atomic_write_text(tmp_path / "a.txt", "x")) == 0o640
        assert mode(make_temp_dir(tmp_path, prefix=".d.")) == 0o750
    finally:
        os.umask(old)


def test_predict_without_a_model_names_a_better_model_of_the_same_version():
    from types import SimpleNamespace

    from reviewtui.analysis.predict import _say_a_better_model
    from reviewtui.events import Notice

    def card(name, version, accuracy, splits=None):
        return SimpleNamespace(name=name, dataset_version=version, metrics={"accuracy": accuracy},
                               splits=splits or {"test": 70})

    said = []
    _say_a_better_model([card("q2", "dataset-2", 0.667), card("old", "dataset-1", 0.9), card("ft2", "dataset-2", 0.638)],
                        said.append)
    assert [n.text for n in said if isinstance(n, Notice)] == [
        "predicting with ft2, the newest model; q2, trained on the same dataset-2, has a higher accuracy on its card "
        "(0.667 against 0.638): --model q2 predicts with it"]
    said.clear()  # within a point, or only on another version: nothing to say
    _say_a_better_model([card("q2", "dataset-2", 0.645), card("old", "dataset-1", 0.9), card("ft2", "dataset-2", 0.638)],
                        said.append)
    assert said == []
    # a score on a few test rows and one cross-validated over every label are not compared
    _say_a_better_model([card("split", "dataset-2", 0.83, {"test": 18}),
                         card("cv", "dataset-2", 0.72, {"cv_folds": 3, "train": 90})], said.append)
    assert said == []


def test_ctrl_c_during_predict_says_the_finished_chunks_are_kept(analysis_ws, capsys, monkeypatch):
    from reviewtui.cli import main
    from reviewtui.workspace import Workspace

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Workspace, "predict", interrupted)
    label_some(analysis_ws)  # the quick model has labels to learn from: predict's checks pass
    assert main(["-w", str(analysis_ws.root), "predict", "--model", "quick"]) == 130
    assert "the same predict command resumes from them" in capsys.readouterr().err


def test_predicts_closing_lines_name_the_categories_as_the_summary_does():
    """`reviewtui predict` counts the categories by the taxonomy's names, as the summary and the
    report show them; a key the taxonomy no longer holds stays as it is."""
    from types import SimpleNamespace

    from reviewtui import presentation as say
    from reviewtui.config import Taxonomy

    taxonomy = Taxonomy.from_list([{"key": "BUG_REPORT", "name": "Bug report"}, {"key": "PRAISE", "name": "Praise"}])
    res = SimpleNamespace(counts={"BUG_REPORT": 1200, "PRAISE": 3, "GONE": 1}, sentiment_counts={})
    assert say.predict_count_lines(res, taxonomy) == ["Categories: Bug report 1,200, Praise 3, GONE 1"]
    assert say.predict_count_lines(res) == ["Categories: BUG_REPORT 1,200, PRAISE 3, GONE 1"]


def test_a_model_replaced_by_a_run_killed_between_the_renames_comes_back(analysis_ws, monkeypatch):
    """`train --overwrite` killed after the old folder was set aside and before the new one took
    its place: `models` said there was none, `status` listed it twice (the hidden folders), and
    the old folder stayed hidden. The old model comes back when the workspace opens again."""
    import os
    import time

    from reviewtui.files import recover_dirs
    from reviewtui.workspace import Workspace

    ws = analysis_ws
    label_some(ws)
    ws.export()
    ws.train(quick=True, name="q1")
    real = os.replace

    def killed_after_the_first(src, dst):
        if Path(src).parent == ws.models_dir and Path(src).is_dir() and str(src).endswith(".tmp"):
            # the new folder's rename: the process dies first
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", killed_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        ws.train(quick=True, name="q1", overwrite=True)
    monkeypatch.setattr(os, "replace", real)
    hidden = [p.name for p in ws.models_dir.iterdir()]
    assert "q1" not in hidden and any(n.startswith(".q1.old-") for n in hidden)
    assert [m["name"] for m in ws.models()] == []  # never the hidden folders, listed as saved models
    assert recover_dirs(ws.models_dir, now=time.time() + 60) == ["q1"]
    assert [p.name for p in ws.models_dir.iterdir()] == ["q1"]
    assert Workspace.open(ws.root).model_card("q1").name == "q1"


def test_a_predict_killed_while_writing_its_files_is_named_by_the_summary_until_rerun(analysis_ws, monkeypatch):
    """result.csv of the new run beside result.json of the old one: the summary printed the old
    run's sentiment over the new run's rows, and the report wrote them, without a word."""
    import reviewtui.analysis.predict as predict_module

    ws = analysis_ws
    label_some(ws)
    ws.predict(model="quick", sentiment="stars")
    ws.summary()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    real = predict_module.replace_dir  # killed between putting result.csv and result.json in place
    monkeypatch.setattr(predict_module, "replace_dir", killed)
    with pytest.raises(KeyboardInterrupt):
        ws.predict(model="quick", sentiment="none")
    with pytest.raises(ReviewtuiError, match="stopped while it wrote its result files.*run the same `reviewtui predict`"):
        ws.summary()
    monkeypatch.setattr(predict_module, "replace_dir", real)
    ws.predict(model="quick", sentiment="none")
    assert ws.summary().sentiment_source is None and not (ws.results_dir / ".writing").exists()


def test_reviews_longer_than_the_model_reads_are_said():
    from types import SimpleNamespace

    from reviewtui.analysis.predict import _say_long_texts
    from reviewtui.events import Notice

    events: list = []
    short, long = SimpleNamespace(text="short one"), SimpleNamespace(text="a long review " * 60)  # 840 characters
    _say_long_texts([short] * 9 + [long], 128, events.append)
    (note,) = [e for e in events if isinstance(e, Notice)]
    assert note.text.startswith("1 of the 10 reviews (10%) are longer than the model reads (about 128 tokens")
    events.clear()
    _say_long_texts([short] * 11 + [long], 128, events.append)  # under a tenth: nothing to say
    assert events == []


def test_of_two_copies_set_aside_the_newer_comes_back(tmp_path):
    import os
    import time

    from reviewtui.files import recover_dirs

    older, newer = tmp_path / ".q1.old-100", tmp_path / ".q1.old-200"
    for i, folder in enumerate((older, newer)):
        folder.mkdir()
        (folder / "which").write_text(folder.name, encoding="utf-8")
        if i == 0:
            time.sleep(0.05)  # their set-aside times (ctime) differ
    assert recover_dirs(tmp_path, now=time.time() + 60) == ["q1"]
    assert (tmp_path / "q1" / "which").read_text(encoding="utf-8") == ".q1.old-200"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q1"]


REPLACE_READ_ONLY = """
import json, sys
from pathlib import Path
from reviewtui.files import replace_dir
final, new = Path(sys.argv[1]), Path(sys.argv[2])
left = []
replace_dir(new, final, on_left=left.append)
print(json.dumps({"left": [str(p) for p in left], "entries": sorted(p.name for p in final.parent.iterdir())}))
"""


def _replace_as_user(tmp_path, final: Path, new: Path) -> dict:
    """replace_dir(new, final) in a process bound by file permissions (root's override dropped)."""
    import json
    import shutil
    import subprocess
    import sys

    cmd = [sys.executable, "-c", REPLACE_READ_ONLY, str(final), str(new)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: read-only folders cannot refuse")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *cmd]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_read_only_folder_replaced_leaves_no_copy_set_aside(tmp_path):
    """A read-only results/result-parts: predict succeeded and left results/.result-parts.old-PID
    behind, its parts whole (rmtree could not empty a folder without write permission)."""

    final, new = tmp_path / "result-parts", tmp_path / ".result-parts.new.tmp"
    for folder in (final, new):
        (folder / "sub").mkdir(parents=True)
        (folder / "part-00000.parquet").write_bytes(b"x")
        (folder / "sub" / "part").write_bytes(b"y")
    os.chmod(final / "sub", 0o555)
    os.chmod(final, 0o555)
    said = _replace_as_user(tmp_path, final, new)
    assert said == {"left": [], "entries": ["result-parts"]}
    assert (final / "sub" / "part").read_bytes() == b"y"


def test_a_copy_set_aside_that_cannot_be_removed_is_named(tmp_path):
    """Another user's read-only parts: the set-aside folder is left, and said where, once."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder to another user")
    final, new = tmp_path / "result-parts", tmp_path / ".result-parts.new.tmp"
    for folder in (final, new):
        folder.mkdir()
        (folder / "part-00000.parquet").write_bytes(b"x")
    os.chown(final, 65534, 65534)
    os.chmod(final, 0o555)
    said = _replace_as_user(tmp_path, final, new)
    (left,) = said["left"]
    assert Path(left).name.startswith(".result-parts.old-") and Path(left).name in said["entries"]
    os.chmod(left, 0o755)


def test_predict_says_where_the_earlier_parts_were_left_when_they_cannot_be_removed(analysis_ws, monkeypatch):
    from reviewtui import files
    from reviewtui.events import Notice

    ws = analysis_ws
    label_some(ws)
    ws.predict(model="quick", sentiment="none")
    monkeypatch.setattr(files, "remove_tree", lambda path: False)
    events: list = []
    ws.predict(model="quick", sentiment="none", on_event=events.append)
    (note,) = [e for e in events if isinstance(e, Notice) and "result parts" in e.text]
    assert note.level == "warning" and f"left in {ws.results_dir}{os.sep}.result-parts.old-" in note.text


def test_a_fine_tuned_folder_without_its_vocabulary_is_refused(analysis_ws, tiny_bert):
    """Without tokenizer.json transformers built a tokenizer of five special tokens and the model
    predicted every review from [UNK]s; the folder is now refused like one without its weights."""
    from reviewtui.modeling.inference import SavedClassifier

    ws = analysis_ws
    folder = save_classifier(ws, "notok", tiny_bert)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ReviewtuiError, match=r"notok has a vocabulary of only \d+ tokens, so every word would be "
                                             r"read as unknown: its vocabulary file \(tokenizer.json"):
        SavedClassifier.load(folder).predict_proba(["the app crashes when I log in"])
    with pytest.raises(ReviewtuiError, match="vocabulary of only"):
        ws.predict("notok", sentiment="none")
    assert not (ws.results_dir / "result.csv").exists()


def test_a_folder_with_another_vocabulary_file_predicts(analysis_ws, tiny_bert):
    """A Hugging Face folder may keep its vocabulary in vocab.txt instead of tokenizer.json."""
    import shutil

    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.loading import packaged_minilm_path

    folder = save_classifier(analysis_ws, "vocab-txt", tiny_bert)
    (folder / "tokenizer.json").unlink()
    shutil.copy(packaged_minilm_path() / "vocab.txt", folder / "vocab.txt")
    clf = SavedClassifier.load(folder)
    assert clf.predict_proba(["the paywall is too expensive"]).shape == (1, len(clf.labels))
    assert len(clf._tokenizer) > 30000


def test_a_nearly_empty_vocabulary_is_a_clear_error(analysis_ws, tiny_bert):
    """A vocabulary file of a few tokens reads every word as unknown: loading the model, or the
    folder as a base model, says so instead of predicting."""
    from reviewtui.modeling.inference import SavedClassifier
    from reviewtui.modeling.loading import load_tokenizer, resolve_model

    folder = save_classifier(analysis_ws, "tiny-vocab", tiny_bert)
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n", encoding="utf-8")
    clf = SavedClassifier.load(folder)
    with pytest.raises(ReviewtuiError, match=r"has a vocabulary of only \d+ tokens.*vocab.txt"):
        clf.predict_proba(["the paywall is too expensive"])
    with pytest.raises(ReviewtuiError, match=r"tokenizer in .*tiny-vocab has a vocabulary of only"):
        load_tokenizer(resolve_model(str(folder)))


def test_files_written_into_a_model_folder_get_the_umask_permissions(tmp_path):
    """safetensors writes its weights 0600: a teammate could not read a model whose other files
    were 0644. Every file of a saved model folder now gets what the user's umask gives."""
    import os
    import stat

    import torch
    from safetensors.torch import save_file

    from reviewtui.modeling.card import write_model_dir

    def fill(folder):
        save_file({"w": torch.zeros(2)}, str(folder / "model.safetensors"))
        (folder / "config.json").write_text("{}", encoding="utf-8")
        (folder / "sub").mkdir(mode=0o700)
        save_file({"w": torch.zeros(2)}, str(folder / "sub" / "part.safetensors"))

    old = os.umask(0o027)
    try:
        folder = write_model_dir(tmp_path / "models", "m", fill)
    finally:
        os.umask(old)
    modes = {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*")}
    assert modes == {"model.safetensors": 0o640, "config.json": 0o640, "sub": 0o750, "sub/part.safetensors": 0o640}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750


def _deny(monkeypatch, name: str) -> None:
    """Opening a file called ``name`` fails as it does for a user without read permission."""
    import errno
    import os

    real = os.open

    def fake(path, flags, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == name:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake)


def test_a_model_file_the_user_may_not_read_says_so_not_retrain(analysis_ws, tiny_bert, monkeypatch):
    """A teammate's weights saved 0600 read as "FileNotFoundError ... retrain the model"; now the
    error names the file, says permission denied and what to do."""
    import errno

    from transformers import AutoModelForSequenceClassification

    from reviewtui.modeling.inference import SavedClassifier

    ws = analysis_ws
    folder = save_classifier(ws, "theirs", tiny_bert)
    clf = SavedClassifier.load(folder)  # loaded while readable: the weights load on the first predict
    _deny(monkeypatch, "model.safetensors")
    pattern = r"theirs/model.safetensors cannot be read \(permission denied\).*ask its owner.*chmod a\+r"
    with pytest.raises(ReviewtuiError, match=pattern) as caught:
        SavedClassifier.load(folder)
    assert "retrain" not in str(caught.value)
    with pytest.raises(ReviewtuiError, match=pattern):
        ws.predict("theirs", sentiment="none")

    def not_found(*args, **kwargs):  # what transformers raises for weights it may not open
        raise FileNotFoundError(f"No such file or directory: {folder / 'model.safetensors'}")

    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", not_found)
    with pytest.raises(ReviewtuiError, match=pattern) as caught:
        clf.predict_proba(["the paywall is too expensive"])
    assert "retrain" not in str(caught.value)
    monkeypatch.undo()

    real = Path.read_text

    def read_text(path, *args, **kwargs):
        if path.name == "model_card.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    with pytest.raises(ReviewtuiError, match=r"theirs/model_card.json cannot be read \(permission denied\)"):
        SavedClassifier.load(folder)


def test_a_model_is_named_after_its_folder(analysis_ws, tiny_bert):
    """Users rename and copy model folders: the folder's name is the model's name in the listing,
    predict, result.json and status, not the name written in its card when it was saved."""
    import json
    import shutil

    from reviewtui.modeling.card import load_card

    ws = analysis_ws
    folder = save_classifier(ws, "orig", tiny_bert)
    card = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    card["created_at"] = "2000-01-01T00:00:00.000+00:00"  # trained before every label
    (folder / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    folder.rename(ws.models_dir / "renamed")
    shutil.copytree(ws.models_dir / "renamed", ws.models_dir / "copy")
    loaded = load_card(ws.models_dir / "renamed")
    assert (loaded.name, loaded.saved_as) == ("renamed", "orig")
    assert "saved_as" not in loaded.to_dict() and loaded.to_dict()["name"] == "renamed"
    assert sorted(m.name for m in ws.model_history()) == ["copy", "renamed"]
    assert sorted(m["name"] for m in ws.models()) == ["copy", "renamed"]
    with pytest.raises(ReviewtuiError, match=r"no model 'orig' .*saved models: (renamed, copy|copy, renamed)\)"):
        ws.predict("orig", sentiment="none")

    label_some(ws)
    res = ws.predict("renamed", sentiment="none")
    assert res.model == "renamed"
    assert json.loads((ws.results_dir / "result.json").read_text(encoding="utf-8"))["model"] == "renamed"
    assert {r["model"] for r in read_rows(res.path)} == {"renamed"}
    stale = ws.prediction_staleness()
    assert stale.model == "renamed" and stale.late_labels == 16


def test_a_category_added_without_labels_leaves_saved_models_predicting(analysis_ws, tiny_bert):
    """`categories add Billing` made every saved model refuse to predict although a retrain could
    learn nothing of Billing while it has no label: predict now goes on and says Billing cannot be
    predicted; once Billing has a label, the refusal comes back and names it."""
    from reviewtui.events import Notice

    ws = analysis_ws
    label_some(ws)
    save_classifier(ws, "before", tiny_bert)
    ws.add_category("Billing")
    assert ws.model_misfit() is None
    seen = []
    res = ws.predict("before", sentiment="none", on_event=seen.append)
    assert res.model == "before" and res.rows == 64
    notes = [e.text for e in seen if isinstance(e, Notice)]
    assert ("model before was trained before Billing was added, so no review is predicted as Billing: label "
            "reviews of it, then reviewtui export and reviewtui train") in notes
    assert {r["predicted_category"] for r in read_rows(res.path)} <= set(ws.taxonomy.training_keys) - {"BILLING"}

    ws.label(next(iter(ws.truth)), "BILLING")
    assert ws.model_misfit() == ("model before learnt the taxonomy as it was before: it does not know Billing, and "
                                 "Billing has labels now")
    with pytest.raises(ReviewtuiError, match=r"model 'before' was trained on categories .* but the taxonomy now trains "
                                             r"on .*BILLING, and BILLING, added since, has labels now: retrain"):
        ws.predict("before", sentiment="none")


def test_a_precision_asked_for_that_the_model_does_not_run_in_is_said(analysis_ws):
    """--precision bf16 on the quick model ran in fp32 and said nothing (only result.json knew)."""
    from reviewtui.events import Notice

    ws = analysis_ws
    label_some(ws)
    seen: list = []
    res = ws.predict(model="quick", sentiment="none", precision="bf16", on_event=seen.append)
    assert res.precision == "fp32"
    said = [e.text for e in seen if isinstance(e, Notice) and e.level == "warning"]
    assert any(t.startswith("precision bf16 was asked for, and the model ran in fp32: quick model") for t in said)
    seen.clear()
    ws.predict(model="quick", sentiment="none", on_event=seen.append)  # auto: nothing to say
    assert not [e for e in seen if isinstance(e, Notice) and "was asked for" in e.text]


def test_removing_a_folder_leaves_the_permissions_of_the_folder_holding_it(tmp_path, monkeypatch):
    """remove_tree made the folder above the one it removes writable when that one's last rmdir
    was refused: a results/ or models/ folder its owner had made read-only stayed writable."""
    import stat

    from reviewtui import files

    holder = tmp_path / "models"
    leftover = holder / ".m1.old-123"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "sub" / "weights.bin").write_bytes(b"x")
    holder.chmod(0o555)
    real_rmdir = os.rmdir

    def rmdir(path, *args, **kwargs):
        if os.path.abspath(path) == str(leftover):
            raise PermissionError(13, "Permission denied", str(path))
        return real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", rmdir)
    try:
        assert files.remove_tree(leftover) is False  # its own contents go; the folder itself is left
        assert stat.S_IMODE(holder.stat().st_mode) == 0o555
        assert leftover.is_dir() and not any(leftover.iterdir())
    finally:
        holder.chmod(0o755)

