"""The app's DataTable: lines drawn before the columns are measured again are not kept."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from reviewtui.tui.widgets.tables import PlainTable

pytestmark = pytest.mark.asyncio


class OneTable(App):
    def compose(self) -> ComposeResult:
        yield PlainTable()


async def test_a_header_drawn_before_the_widths_were_measured_is_drawn_again():
    """A frame drawn between a row's arrival and the next idle (when DataTable measures its columns)
    kept the header at the old widths above rows at the new ones: the quality screen on a busy
    machine."""
    app = OneTable()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(PlainTable)
        table.add_column("v", key="v")
        table.add_column("n", key="n")
        await pilot.pause()
        table.add_row("dataset-100000", "1")
        assert table.render_line(0).text.startswith(" v  n ")  # drawn now, the widths not yet measured
        table._update_dimensions(list(table._new_rows))  # what the next idle does
        header, row = table.render_line(0).text, table.render_line(1).text
        assert header.rstrip().rindex("n") == row.rstrip().rindex("1") and header.startswith(" v               n")
