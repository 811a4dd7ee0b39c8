"""Summary: categories, sentiment and scores of the predicted reviews (not available yet)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from reviewtui.tui.screens.base import WorkspaceScreen


class SummaryScreen(WorkspaceScreen):
    MODE = "summary"
    BINDINGS = []

    def compose_body(self) -> ComposeResult:
        yield Static("The summary is not available yet in this build (no Workspace.summary).", id="summary-state")
