"""The footer of key bindings, fitted to the terminal's width.

Textual's footer lays out every shown binding on one line and cuts what does not fit: at 80 columns
the labeling screen lost half its keys, help among them. This footer fits the line instead:

1. every key in Textual's style, with the command palette's key on the right, when they fit;
2. else the compact style (one space less per key);
3. else compact without the palette's key (ctrl+p is in help);
4. else the first keys in the order the screen lists them, as many as fit, and ``?`` always, named
   "All keys" then: help lists every key of every screen.

It recomposes when its width changes, so a terminal resized over SSH gets the fitting line.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "help"
ALL_KEYS = "All keys"


def key_width(display: str, description: str, compact: bool) -> int:
    """Cells a FooterKey takes: the key and description with their padding (``" k desc "``), or
    compact (``"k desc"`` and a margin of one)."""
    return cell_len(display) + cell_len(description) + (2 if compact else 3)


def fit(keys: list[tuple[str, str, bool]], palette: str | None, width: int) -> tuple[list[int], bool, bool, bool]:
    """Which keys to show in ``width`` cells. ``keys`` are (display, description, is_help) in the
    screen's order, ``palette`` the palette key's display and description joined by a space, or None.

    Returns (indexes of the keys shown, compact, show the palette's key, help renamed "All keys")."""
    pal = palette.split(" ", 1) if palette else None

    def total(indexes: list[int], compact: bool, with_palette: bool, renamed: bool = False) -> int:
        w = sum(key_width(keys[i][0], ALL_KEYS if renamed and keys[i][2] else keys[i][1], compact)
                for i in indexes)
        if with_palette and pal:
            # always in the compact style, as Textual's footer draws it ("k desc"), its border on the
            # left and one cell on the right
            w += cell_len(pal[0]) + cell_len(pal[1]) + 3
        return w

    everything = list(range(len(keys)))
    for compact, with_palette in ((False, True), (True, True), (True, False)):
        if total(everything, compact, with_palette) <= width:
            return everything, compact, with_palette and pal is not None, False
    help_at = [i for i, k in enumerate(keys) if k[2]]
    shown: list[int] = []
    for i in everything:
        if keys[i][2]:
            continue
        if total(sorted(shown + [i] + help_at), True, False, True) > width:
            break
        shown.append(i)
    return sorted(shown + help_at), True, False, bool(help_at)


class FittingFooter(Footer):
    """A :class:`~textual.widgets.Footer` whose keys fit its width (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._fitted_width = 0

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._fitted_width = width = self._width()
        active = self.screen.active_bindings
        chosen: list[tuple[Binding, bool, str]] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            # one key per action, as Textual's footer shows (1-9 on the labeling screen: "1-9 Label")
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                chosen.append((binding, enabled, tooltip))
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        keys = [(self.app.get_key_display(b), b.description, b.action == HELP_ACTION) for b, _, _ in chosen]
        palette_text = f"{self.app.get_key_display(palette[1])} {palette[1].description}" if palette else None
        shown, compact, with_palette, renamed = fit(keys, palette_text, width)
        self.set_reactive(Footer.compact, compact)
        self.set_class(compact, "-compact")
        for i in shown:
            binding, enabled, tooltip = chosen[i]
            description = ALL_KEYS if renamed and keys[i][2] else binding.description
            yield FooterKey(binding.key, keys[i][0], description, binding.action, disabled=not enabled,
                            tooltip=tooltip).data_bind(compact=Footer.compact)
        if with_palette and palette:
            _node, binding, enabled, _tooltip = palette
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            classes="-command-palette", disabled=not enabled,
                            tooltip=binding.tooltip or binding.description)

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
