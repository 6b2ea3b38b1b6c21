"""Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from agent_tui.tui.textual_compat import FooterKey, footer_bindings_ready

Shown = tuple[tuple[str, str, bool, str], ...]

NARROW_BELOW = 64
"""Narrower than this, the footer is compact, says each key in a word and leaves the
palette key out (ctrl+p still opens it), so every key stays in sight."""
TINY_BELOW = 48
"""Narrower still (40 columns), the keys that do not steer the loop show only their key."""
SHORT = {
    "Interrupt": "Stop",
    "Retry now": "Now",
    "Profiles": "Prof",
    "Follow log": "Follow",
    "Stop following": "Pin",
}
KEY_ONLY_WHEN_TINY = frozenset({"Profiles", "Note", "Follow log", "Stop following"})


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
    screen changes, ``refresh_bindings``), about 10 ms each time with our seven keys, and
    three such signals come before the first frame: only the first rebuilds.  What was last
    composed is what counts, so a change between a signal and the rebuild is not lost.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: Shown | None = None
        self.rebuilds = 0
        self.narrow = False
        self.tiny = False

    def compose(self) -> ComposeResult:
        if footer_bindings_ready(self):
            self.shown = shown_keys(self.screen)
            self.rebuilds += 1
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = self._words(widget.description)
            yield widget

    def _words(self, description: str) -> str:
        if self.tiny and description in KEY_ONLY_WHEN_TINY:
            return ""
        return SHORT.get(description, description) if self.narrow else description

    def on_resize(self, event) -> None:
        narrow, tiny = event.size.width < NARROW_BELOW, event.size.width < TINY_BELOW
        if (narrow, tiny) != (self.narrow, self.tiny):
            self.narrow, self.tiny = narrow, tiny
            self.compact = narrow
            self.show_command_palette = not narrow
            self.refresh(recompose=True)

    def bindings_changed(self, screen: Screen) -> None:
        if self.shown is not None and screen is self.screen:
            now = shown_keys(screen)
            if now == self.shown or self._relabel(now):
                return
        super().bindings_changed(screen)

    def _relabel(self, now: Shown) -> bool:
        """When only what the keys say has changed (p: Pause or Resume), say it in place.

        A rebuild remounts every key and lays the screen out again: while the log floods,
        long enough to delay the next key press by 100 ms."""
        shown = self.shown
        assert shown is not None
        widgets = {widget.key: widget for widget in self.query(FooterKey)}
        same = [(key, enabled) for key, _, enabled, _ in now] == [
            (key, enabled) for key, _, enabled, _ in shown
        ]
        if not same or not all(key in widgets for key, *_ in now):
            return False
        for (key, description, _enabled, tooltip), before in zip(now, shown, strict=True):
            if (description, tooltip) != (before[1], before[3]):
                widget = widgets[key]
                widget.description = self._words(description)
                widget.tooltip = tooltip or None
                widget.refresh(layout=True)
        self.shown = now
        return True
