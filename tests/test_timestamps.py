"""One timestamp format in every file and record reviewtui writes: UTC ISO 8601 with milliseconds
(``files.utc_now``), so times from the store, the version manifests, the Kili push log and the
prediction records compare and sort alike."""

from __future__ import annotations

import json
import re

from reviewtui.files import utc_now
from reviewtui.store import NewAsset
from tests.kili_server import kili_server  # noqa: F401  (fixture)

ONE_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def test_utc_now_is_the_one_format():
    assert ONE_FORMAT.match(utc_now())


def test_store_events_imports_and_version_manifests(imported):
    ws = imported
    ws.label(ws.store.texts()[0][0], "CONTENT")
    ws.skip(ws.store.texts()[1][0], "not a review")
    events = ws.store.label_history()
    assert events and all(ONE_FORMAT.match(e.created_at) for e in events)
    assert all(ONE_FORMAT.match(i["at"]) for i in ws.store.imports())
    assert all(ONE_FORMAT.match(a.created_at) and ONE_FORMAT.match(a.updated_at) for a in ws.store.iter_assets())
    exported = ws.export()
    assert ONE_FORMAT.match(exported.manifest["created"])
    on_disk = json.loads(exported.csv_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert ONE_FORMAT.match(on_disk["created"])
    copy = ws.root / "copy.csv"
    copy.write_bytes(exported.csv_path.read_bytes())
    (registered,) = ws.import_versions([copy])
    assert ONE_FORMAT.match(registered.manifest["created"])


def test_the_kili_predictions_log(tmp_path, kili_server):
    from reviewtui.workspace import Workspace

    ws = Workspace.init(tmp_path / "kws", backend="kili")
    ws.config.update_section("kili", {"retry_deadline": 1, "request_timeout": 10})
    ws.store.add_assets([NewAsset(f"k{i}", f"review {i}", {"score": 3}) for i in range(3)])
    ws.kili_create("Reviews")
    ws.kili_push()
    ws.kili_push_predictions({"k0": ("CONTENT", 0.9), "k1": "INTERFACE"}, "quick", "1")
    (entry,) = json.loads(ws.store.get_meta("kili.predictions"))
    assert ONE_FORMAT.match(entry["at"]), entry["at"]
    ws.close()
