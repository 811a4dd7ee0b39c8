"""GPU utilisation and memory per device, for the live trial table (nvidia-smi, throttled)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

from reviewtui.events import GpuStat

_QUERY = ["--query-gpu=index,name,utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"]
_lock = threading.Lock()
_last: tuple[float, tuple[GpuStat, ...]] = (0.0, ())


def _num(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def gpu_stats(max_age: float = 1.0) -> tuple[GpuStat, ...]:
    """Per-GPU stats, at most one nvidia-smi call per ``max_age`` seconds; () without GPUs."""
    global _last
    with _lock:
        now = time.monotonic()
        if now - _last[0] < max_age:
            return _last[1]
        stats: tuple[GpuStat, ...] = ()
        exe = shutil.which("nvidia-smi")
        if exe:
            try:
                out = subprocess.run([exe, *_QUERY], capture_output=True, text=True, timeout=5, check=True).stdout
                rows = []
                for line in out.strip().splitlines():
                    parts = [p.strip() for p in line.split(",")]
                    if len(parts) >= 5:
                        rows.append(GpuStat(int(parts[0]), parts[1], _num(parts[2]), _num(parts[3]), _num(parts[4])))
                stats = tuple(rows)
            except (OSError, subprocess.SubprocessError, ValueError):
                stats = ()
        _last = (now, stats)
        return stats
