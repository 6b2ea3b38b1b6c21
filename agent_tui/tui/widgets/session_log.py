"""The session log: bounded, written in batches, following only while at the bottom.

Our own scrolling widget rather than Textual's ``RichLog``: that one loads ``rich.pretty``
(and through it ``attrs``, ~10 ms of every start) to print arbitrary objects, which this
log never gets, and it styles each blank line afresh on every frame.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

FLUSH_INTERVAL_S = 0.05
MAX_LINES = 5000
MIN_WIDTH = 20


class SessionLog(ScrollView, can_focus=True):
    """Lines are queued by ``add`` and written together on a short timer.

    Writing each event as it arrives would cost a layout per line when events flood in;
    batching keeps the app responsive.  A line is wrapped to the pane's width when it is
    written, and only the last ``MAX_LINES`` screen lines are kept: the full transcript is
    on disk anyway.
    """

    DEFAULT_CSS = """
    SessionLog {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Strip] = []
        """The written screen lines, oldest first (a long line is several)."""
        self.follow = True
        self.scrolled_away = False
        self.lines_written = 0
        self._pending: list[Text] = []
        self._dropped = 0  # screen lines trimmed from the top so far: keeps cache keys apart
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self._style: Style | None = None

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    def add(self, line: Text | str) -> None:
        self._pending.append(line if isinstance(line, Text) else Text(line))

    @property
    def backlog(self) -> int:
        """Lines received but not written yet (they go out on the next flush)."""
        return len(self._pending)

    def flush(self) -> None:
        """Write what is queued; before the pane has a width, it waits in the queue."""
        width = self.scrollable_content_region.width
        if not self._pending or not width:
            return
        pending, self._pending = self._pending, []
        width = max(width, MIN_WIDTH)
        console = self.app.console
        options = console.options.update_width(width)
        for line in pending:
            line.expand_tabs()
            rendered = Segment.split_lines(console.render(line, options))
            strips = [Strip(segments).adjust_cell_length(width) for segments in rendered]
            self.lines.extend(strips or [Strip.blank(width)])
        excess = len(self.lines) - MAX_LINES
        if excess > 0:
            del self.lines[:excess]
            self._dropped += excess
        self.lines_written += len(pending)
        self.virtual_size = Size(width, len(self.lines))
        if self.following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        if self._style is None:
            self._style = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        written = index < len(self.lines)
        key = (index + self._dropped, scroll_x, width) if written else (-1, 0, width)
        strip = self._cache.get(key)
        if strip is None:
            if written:
                strip = self.lines[index].crop_extend(scroll_x, scroll_x + width, self._style)
                strip = strip.apply_style(self._style)
            else:  # below the last line: one blank strip serves them all
                strip = Strip.blank(width, self._style)
            self._cache[key] = strip
        return strip

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Moving up means the reader wants to stay put; reaching the bottom follows again.

        A resize that clamps the offset lands exactly on the bottom, so it never counts.
        """
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y:
            self.scrolled_away = False
        elif new < old:
            self.scrolled_away = True

    @property
    def following(self) -> bool:
        """New lines scroll into view: following is on and the reader has not scrolled up."""
        return self.follow and not self.scrolled_away

    def toggle_follow(self) -> bool:
        """Stop following, or (also when the reader has scrolled up) jump to the end and follow."""
        self.follow = not self.following
        if self.follow:
            self.scrolled_away = False
            self.scroll_end(animate=False)
        return self.follow
