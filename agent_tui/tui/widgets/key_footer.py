"""Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, bool, str], ...]


def shown_keys(screen: Screen) -> Shown:
    """What a footer on ``screen`` displays: key, description, enabled and tooltip."""
    return tuple(
        (binding.key, binding.description, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show or binding.action == "app.command_palette"
    )


class KeyFooter(Footer):
    """A ``Footer`` that skips rebuilding when a bindings update leaves its keys as they were.

    Textual's footer unmounts and remounts every key on each bindings signal (focus moves,
    screen changes, ``refresh_bindings``), about 10 ms each time with our seven keys.  At
    start-up that happened three times before the first frame; now it is once.  What was
    last composed is what counts, so a change between a signal and the rebuild is not lost.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: Shown | None = None
        self.rebuilds = 0

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self.shown = shown_keys(self.screen)
            self.rebuilds += 1
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if self.shown is not None and screen is self.screen and shown_keys(screen) == self.shown:
            return
        super().bindings_changed(screen)
