"""Rebuild data/samples/ from the demo generator (reviewtui/demo.py), deterministically.

    python data/make_samples.py

inkwell-play.json   300 reviews of the demo's fictional reading app, saved the way a
                    google-play-scraper user saves `reviews()` results: a JSON list of objects,
                    ints as numbers, missing values as null, datetimes as strings (json.dump with
                    default=str). It has no app column: import it with --app com.inkwell.reader.
inkwell-oracle.csv  reviewId,label: the demo's hidden category of each of those reviews, to
                    simulate labeling (`reviewtui label --from`).
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtui.demo import generate_demo  # noqa: E402
from reviewtui.files import atomic_write_text  # noqa: E402

SIZE, SEED = 300, 11
OUT = Path(__file__).resolve().parent / "samples"


def as_scraper_result(row: dict[str, str]) -> dict:
    """One demo CSV row as google-play-scraper returns it (before json.dump with default=str)."""
    def when(text: str):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S") if text else None

    version = row["reviewCreatedVersion"] or None
    return {"reviewId": row["reviewId"], "userName": row["userName"], "userImage": row["userImage"],
            "content": row["content"], "score": int(row["score"]), "thumbsUpCount": int(row["thumbsUpCount"]),
            "reviewCreatedVersion": version, "at": when(row["at"]), "replyContent": row["replyContent"] or None,
            "repliedAt": when(row["repliedAt"]), "appVersion": version}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = generate_demo(Path(tmp), size=SIZE, seed=SEED)
        with open(files.export_csv, encoding="utf-8", newline="") as fh:
            results = [as_scraper_result(r) for r in csv.DictReader(fh)]
        oracle = files.oracle_csv.read_text(encoding="utf-8")
    atomic_write_text(OUT / "inkwell-play.json", json.dumps(results, default=str, ensure_ascii=False, indent=1) + "\n")
    atomic_write_text(OUT / "inkwell-oracle.csv", oracle)
    print(f"wrote {len(results)} reviews to {OUT}")


if __name__ == "__main__":
    main()
