"""The command palette (ctrl+p): every screen, every app key and every key of every screen.

Built from the screen registry and the bindings themselves, so a new binding is in the palette
without being listed twice.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from reviewtui.tui.screens import SCREENS, screen_class

Command = tuple[str, str, Callable[[], Any]]


class ActionsProvider(Provider):
    """The palette's entries: "Go to <screen>", the app's actions, "<Screen>: <action>"."""

    def commands(self) -> list[Command]:
        app: Any = self.app
        out: list[Command] = []
        for s in SCREENS:
            out.append((f"Go to {s.title}", f"screen {s.key}", lambda m=s.mode: app.switch_mode(m)))
        for binding in app.BINDINGS:
            if isinstance(binding, Binding) and binding.description and not binding.action.startswith("screen"):
                out.append((binding.description, f"key {binding.key_display or binding.key}",
                            lambda a=binding.action: app.run_action(a)))
        for s in SCREENS:
            for binding in getattr(screen_class(s.mode), "BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                out.append((f"{s.title}: {binding.description}", f"key {binding.key.split(',')[0]} on {s.title}",
                            lambda m=s.mode, a=binding.action: app.run_on_screen(m, a)))
        return out

    async def discover(self) -> Hits:
        for text, help_text, command in self.commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, command in self.commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)
