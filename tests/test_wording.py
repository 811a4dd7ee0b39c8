"""The package's docstrings and comments speak the project's words: a part of the code is a module
or a package, not a "room"."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reviewtui"
JARGON = re.compile(r"\brooms?\b", re.IGNORECASE)


def test_no_room_in_docstrings_or_comments():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING) and JARGON.search(tok.string):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{tok.start[0]}")
    assert found == [], "say module or package: " + ", ".join(found)


def test_no_room_in_the_documentation():
    root = PACKAGE.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "data").rglob("*.md"))]
    found = [
        f"{page.relative_to(root)}:{number}"
        for page in pages
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        if JARGON.search(line)
    ]
    assert found == [], "say module, package or screen: " + ", ".join(found)
