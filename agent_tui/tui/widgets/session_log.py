"""The session log: bounded, written in batches, following only while at the bottom.

Our own scrolling widget rather than Textual's ``RichLog``: that one loads ``rich.pretty``
(and through it ``attrs``, ~10 ms of every start) to print arbitrary objects, which this
log never gets, and it styles each blank line afresh on every frame.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Thread

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

FLUSH_INTERVAL_S = 0.05
MAX_LINES = 5000
RENDERED_LINES = 256
"""Drawn lines kept for redrawing: a few screens' worth."""


class Line(tuple):
    """One screen line: its segments, wrapped and padded to the width it was written at.

    Kept as plain segments, not as a ``Strip``: each ``Strip`` carries seven caches, so
    5 000 kept strips were some 60 000 objects for the collector to walk on every full
    pass (25-56 ms each, a delayed key press when one met a flush).  A ``Strip`` is made
    only to draw a line, and only the last few hundred drawn are kept."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self)


class SessionLog(ScrollView, can_focus=True):
    """Lines are queued by ``add`` and written together on a short timer.

    Writing each event as it arrives would cost a layout per line when events flood in;
    batching keeps the app responsive.  A line is wrapped to the pane's width when it is
    written, and only the last ``MAX_LINES`` screen lines are kept: the full transcript is
    on disk anyway.  When the pane's width changes, the kept lines are wrapped again in a
    thread (a full log takes a few hundred milliseconds) and swapped in when done.
    """

    class FollowChanged(Message):
        """Whether new lines now scroll into view (the ``l`` key says what it will do)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    class Rewrapped(Message):
        """The kept lines, wrapped again by rewrap ``serial`` (sent from its thread)."""

        def __init__(self, serial: int, first: int, wrapped: list[list[Line]]) -> None:
            super().__init__()
            self.serial = serial
            self.first = first
            self.wrapped = wrapped

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Line] = []
        """The written screen lines, oldest first (a long line is several)."""
        self._texts: list[Text] = []  # the kept lines as written, to wrap again
        self._counts: list[int] = []  # how many screen lines each of them takes
        self._first = 0  # kept lines dropped from the top so far
        self.wrap_width = 0
        """The width the newest lines were wrapped at."""
        self.rewrapping: int | None = None
        """The width the kept lines are being wrapped at again, if they are."""
        self._rewraps = 0  # rewraps started: only the newest one's result is used
        self.follow = True
        self.scrolled_away = False
        self.lines_written = 0
        self._pending: list[Text] = []
        self._dropped = 0  # screen lines trimmed from the top so far: keeps cache keys apart
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(RENDERED_LINES)
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
        if not width:
            return
        if width != self.wrap_width:
            self.wrap_width = width
            if self._texts:
                self._rewrap(width)
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        wrap = self._wrapper(width)
        for text in pending:
            text.expand_tabs()
            rows = wrap(text)
            self.lines.extend(rows)
            self._texts.append(text)
            self._counts.append(len(rows))
        self._trim()
        self.lines_written += len(pending)
        self._resized()

    def _wrapper(self, width: int) -> Callable[[Text], list[Line]]:
        """A function wrapping one line at ``width``; it may run in another thread."""
        console = self.app.console
        options = console.options.update_width(width)

        def wrap(line: Text) -> list[Line]:
            rendered = Segment.split_lines(console.render(line, options))
            lines = [Line(Segment.adjust_line_length(segments, width)) for segments in rendered]
            return lines or [Line((Segment(" " * width),))]

        return wrap

    def _trim(self) -> None:
        """Keep the last ``MAX_LINES`` screen lines, dropping whole written lines."""
        excess = len(self.lines) - MAX_LINES
        if excess <= 0:
            return
        dropped = lines = 0
        while lines < excess and dropped < len(self._counts) - 1:
            lines += self._counts[dropped]
            dropped += 1
        del self.lines[:lines], self._texts[:dropped], self._counts[:dropped]
        self._first += dropped
        self._dropped += lines

    def _resized(self) -> None:
        self.virtual_size = Size(self.wrap_width, len(self.lines))
        if self.following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def _rewrap(self, width: int) -> None:
        """Wrap the kept lines at ``width`` in a thread; a newer rewrap makes it give up.

        Rewraps are told apart by number, not width: after A, B and A again, the first
        A's lines would miss those written at B."""
        self._rewraps += 1
        self.rewrapping, serial = width, self._rewraps
        texts, first, wrap = list(self._texts), self._first, self._wrapper(width)

        def wrap_all() -> None:
            wrapped = []
            for line in texts:
                if self._rewraps != serial:
                    return
                wrapped.append(wrap(line))
            self.post_message(self.Rewrapped(serial, first, wrapped))

        Thread(target=wrap_all, name="log-rewrap", daemon=True).start()

    def on_session_log_rewrapped(self, message: Rewrapped) -> None:
        if message.serial != self._rewraps or self.rewrapping is None:
            return
        self.rewrapping = None
        # Lines trimmed since the snapshot are gone; lines written since are already at width.
        wrapped = message.wrapped[self._first - message.first :]
        replaced = sum(self._counts[: len(wrapped)])
        top = self._first + self._line_at(int(self.scroll_y))
        self.lines[:replaced] = [row for rows in wrapped for row in rows]
        self._counts[: len(wrapped)] = [len(rows) for rows in wrapped]
        self._cache.clear()
        self._trim()
        following, away = self.following, self.scrolled_away
        self._resized()
        if not following:
            # The line that was at the top of the pane stays there.
            top = max(top - self._first, 0)
            self.scroll_to(y=sum(self._counts[:top]), animate=False, immediate=True)
            self.scrolled_away = away

    def _line_at(self, y: int) -> int:
        """Index of the kept line that screen line ``y`` belongs to."""
        total = 0
        for index, count in enumerate(self._counts):
            total += count
            if total > y:
                return index
        return max(len(self._counts) - 1, 0)

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
                strip = Strip(self.lines[index]).crop_extend(
                    scroll_x, scroll_x + width, self._style
                )
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
        following = self.following
        if new >= self.max_scroll_y:
            self.scrolled_away = False
        elif new < old:
            self.scrolled_away = True
        if self.following != following:
            self.post_message(self.FollowChanged(self.following))

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
        self.post_message(self.FollowChanged(self.follow))
        return self.follow
