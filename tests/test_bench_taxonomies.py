"""bench/bench_taxonomies.py's results files: --render-only reads the file --out names and refuses
to put a variant's results (another setting, some parts, the demo corpus) into the docs; a variant
run keeps its results apart from the documented run's. The benchmark itself does not run here."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from bench import bench_taxonomies as bt
from reviewtui.settings import ActiveLearningSettings


@pytest.fixture
def bench(tmp_path, monkeypatch):
    """The module with its results files under ``tmp_path``, docs writes recorded, no corpus read."""
    written = []
    monkeypatch.setattr(bt, "RESULTS", tmp_path / "results" / "taxonomies.json")
    monkeypatch.setattr(bt, "VARIANT_RESULTS", tmp_path / "results" / "taxonomies-variant.json")
    monkeypatch.setattr(bt, "write_section", lambda text, start, end: written.append(text))
    monkeypatch.setattr(bt, "render", lambda r: f"run of {r['at']}")
    monkeypatch.setattr(bt, "corpora", lambda *a, **kw: [])
    monkeypatch.setattr(bt, "fintech_labeled", lambda *a, **kw: ([], [], ["FEES"]))
    bt.written = written
    return bt


def results(at: str, **settings) -> dict:
    return {"at": at, "settings": {**asdict(ActiveLearningSettings()), **settings}, "parts": list(bt.PARTS), "demo": 0}


def test_render_only_reads_the_file_out_names(tmp_path, bench):
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps(results("elsewhere")), encoding="utf-8")
    bench.RESULTS.parent.mkdir()
    bench.RESULTS.write_text(json.dumps(results("default")), encoding="utf-8")
    assert bench.main(["--render-only", "--out", str(other)]) == 0
    assert bench.main(["--render-only"]) == 0
    assert bench.written == ["run of elsewhere", "run of default"]


@pytest.mark.parametrize("variant,why", [
    ({"settings": {**asdict(ActiveLearningSettings()), "C": 2.0}}, "C = 2.0"),
    ({"parts": ["zeroshot"]}, "parts zeroshot"),
    ({"demo": 3000}, "the demo corpus (3000 reviews)"),
])
def test_render_only_refuses_a_variants_results(tmp_path, bench, capsys, variant, why):
    path = tmp_path / "variant.json"
    path.write_text(json.dumps({**results("variant"), **variant}), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        bench.main(["--render-only", "--out", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and why in err and "docs/BENCHMARKS.md left as it is" in err
    assert bench.written == []
    assert bench.main(["--render-only", "--out", str(path), "--no-write"]) == 0  # printed, not written
    assert capsys.readouterr().out.strip() == "run of variant" and bench.written == []


def test_render_only_without_results_is_one_clear_error(tmp_path, bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--render-only", "--out", str(tmp_path / "none.json")])
    assert exc.value.code == 2 and "none.json: no such results file; run the benchmark first" in capsys.readouterr().err


def test_a_variant_run_keeps_its_results_apart_from_the_documented_run(bench):
    assert bench.main(["--parts", "zeroshot", "--set", "C=2"]) == 0
    assert not bench.RESULTS.exists() and bench.written == []
    kept = json.loads(bench.VARIANT_RESULTS.read_text(encoding="utf-8"))
    assert kept["parts"] == ["zeroshot"] and kept["settings"]["C"] == 2.0
    assert bench.main(["--set", "C=10"]) == 0  # the default value: the documented run
    assert json.loads(bench.RESULTS.read_text(encoding="utf-8"))["parts"] == list(bench.PARTS)
    assert len(bench.written) == 1
