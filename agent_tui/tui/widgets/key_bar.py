"""The keys that apply now, on one line that is repainted in place, never rebuilt."""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

SHORT = {
    "Interrupt": "Intr",  # not "Stop": beside "q Quit" it read as the same
    "Retry now": "Now",
    "Profiles": "Prof",
    "Follow log": "Follow",
    "Stop following": "Hold",  # the log holds where it is
    "Search": "Find",
}
"""What a key says when the bar is short of room: a word each, so every key stays in sight."""
KEY_ONLY = frozenset({"Profiles", "Note", "Follow log", "Stop following", "Search"})
"""Shorter still (40 columns), the keys that do not steer the loop show only their key."""
PALETTE_ACTIONS = frozenset({"command_palette", "app.command_palette"})


class Key(NamedTuple):
    """One key as the bar shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    palette: bool = False
    """The command palette's key: at the right end, and left out when space is short."""


def shown_keys(screen: Screen) -> tuple[Key, ...]:
    """The keys a bar on ``screen`` shows, in the order they are bound; the palette's last."""
    keys, palette = [], []
    for active in screen.active_bindings.values():
        binding = active.binding
        is_palette = binding.action in PALETTE_ACTIONS
        if binding.show or is_palette:
            display = screen.app.get_key_display(binding)
            key = Key(binding.key, display, binding.description, active.enabled, is_palette)
            (palette if is_palette else keys).append(key)
    return (*keys, *palette)


class KeyBar(Widget):
    """What Textual's ``Footer`` shows, drawn as one line of text.

    ``Footer`` mounts a widget per key and mounts them all afresh whenever the keys change
    (``i`` comes and goes with every session): each time a full layout of the screen, and
    each time its old key widgets stay bound to the footer's ``compact`` reactive (Textual
    drops those only when ``compact`` changes), about eight more per session for as long as
    the app runs.  A line of text has neither cost: new keys repaint this one line.
    """

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--palette"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keys: tuple[Key, ...] = ()
        self._spans: list[tuple[int, int, str]] = []  # (from x, to x, key) as last drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is not self.screen:
            return
        keys = shown_keys(screen)
        if keys != self.keys:
            self.keys = keys
            self.refresh()

    @property
    def shown(self) -> dict[str, str]:
        """Each key shown at the bar's width, as shown (``/``, not ``slash``), and what it
        says there (what a test reads)."""
        labelled, _compact, palette = self._fitted(self.size.width)
        shown = {key.display: words for key, words in labelled}
        if palette is not None:
            shown[palette.display] = palette.description
        return shown

    def _fitted(self, width: int) -> tuple[list[tuple[Key, str]], bool, Key | None]:
        """The keys with the words that fit in ``width``: all of them and the palette's key
        if there is room, then without the palette's, then a word each, then only the key
        for those that do not steer the loop.  Also: compact, and the palette's key."""
        keys = [key for key in self.keys if not key.palette]
        palette = next((key for key in self.keys if key.palette), None)
        levels = [
            (False, lambda words: words, palette),
            (False, lambda words: words, None),
            (True, lambda words: SHORT.get(words, words), None),
            (True, lambda words: "" if words in KEY_ONLY else SHORT.get(words, words), None),
        ]
        for compact, words_of, shown_palette in levels:
            labelled = [(key, words_of(key.description)) for key in keys]
            room = sum(_width(key, words, compact) for key, words in labelled)
            if shown_palette is not None:
                room += _width(shown_palette, shown_palette.description, compact) + 1
            if room <= width:
                break
        return labelled, compact, shown_palette

    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("key-bar--key")
        words_style = self.get_component_rich_style("key-bar--description")
        labelled, compact, palette = self._fitted(width)
        line = Text(no_wrap=True, overflow="crop")
        self._spans = []
        for key, words in labelled:
            dim = Style() if key.enabled else Style(dim=True)
            start = line.cell_len
            # " p Pause " as Textual's footer; short of room, "p Stop " and "a ".
            line.append(f"{key.display} " if compact else f" {key.display} ", key_style + dim)
            if words:
                line.append(f"{words} ", words_style + dim)
            self._spans.append((start, line.cell_len, key.key))
        if palette is not None:
            dim = Style() if palette.enabled else Style(dim=True)
            shown = Text.assemble(
                ("▏", self.get_component_rich_style("key-bar--palette")),
                (f"{palette.display} ", key_style + dim),
                (f"{palette.description} ", words_style + dim),
            )
            start = width - shown.cell_len
            line.append(" " * (start - line.cell_len))
            line.append_text(shown)
            self._spans.append((start, width, palette.key))
        return line

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it, as on Textual's footer."""
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return


def _width(key: Key, words: str, compact: bool) -> int:
    shown = cell_len(key.display) + (1 if compact else 2)
    return shown + (cell_len(words) + 1 if words else 0)
