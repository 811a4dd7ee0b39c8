"""gpubox: take reviewtui to a GPU machine that has no network, and check its GPU paths there.

Run from a clone of the repository (or from an unpacked bundle, which carries this package)::

    python -m tools.gpubox bundle OUT       # on a machine with network: wheels, models, manifest
    python -m tools.gpubox verify OUT       # the sha256 of every file against the manifest
    python -m tools.gpubox install OUT      # on the GPU machine: verify, then pip install offline
    python -m tools.gpubox check            # on the GPU machine: bf16 training, predict speed, tuning

docs/GPU.md walks through it step by step. Nothing here imports reviewtui, torch or Ray at import
time: ``bundle``, ``verify`` and ``install`` work before reviewtui is installed, and ``check`` runs
each step that needs torch or Ray in a child process with its own time limit.
"""

from __future__ import annotations

from datetime import datetime, timezone


class ToolError(Exception):
    """A problem the user can fix; printed as one line. ``exit_code`` 2 for usage errors, 1 for a
    bundle that failed verification."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def utc_now() -> str:
    """Now as UTC ISO 8601 with milliseconds (``2026-12-01T09:30:00.123+00:00``), reviewtui's format."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
