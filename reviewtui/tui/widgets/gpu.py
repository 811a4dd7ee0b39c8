"""The GPU panel: utilisation and memory per device, hidden when there is no GPU."""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static

from reviewtui.events import GpuStat
from reviewtui.presentation import bar


class GpuPanel(Static):
    DEFAULT_CSS = """
    GpuPanel { height: auto; display: none; }
    GpuPanel.-visible { display: block; }
    """

    stats: tuple[GpuStat, ...] = ()

    def show_stats(self, stats: tuple[GpuStat, ...]) -> None:
        self.stats = stats
        self.set_class(bool(stats), "-visible")
        if not stats:
            return
        table = Table.grid(padding=(0, 1))
        for _ in range(4):
            table.add_column(no_wrap=True)
        for g in stats:
            util = g.utilization or 0.0
            used, total = g.memory_used_mb or 0.0, g.memory_total_mb or 0.0
            table.add_row(f"{g.index} {g.name[:18]}", f"util {bar(util, 100, 10)} {util:3.0f}%",
                          f"mem {bar(used, total, 10)}", f"{used / 1024:.1f}/{total / 1024:.0f} GiB")
        self.update(table)
