"""The session log: bounded, written in batches, following only while at the bottom.

Our own scrolling widget rather than Textual's ``RichLog``: that one loads ``rich.pretty``
(and through it ``attrs``, ~10 ms of every start) to print arbitrary objects, which this
log never gets, and it styles each blank line afresh on every frame.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from threading import Thread

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agent_tui.tui.log_search import LogSearch
from agent_tui.tui.log_wrap import Line, counter, wrapper
from agent_tui.tui.textual_compat import grow_in_place

FLUSH_INTERVAL_S = 0.05
MAX_LINES = 5000
WRITTEN_AT_ONCE = 250
"""Lines a timed flush writes at most (a long line is wrapped to be counted, ~80 µs): in a
flood the rest wait for the next flush, and keys are handled between them."""
RENDERED_LINES = 256
"""Drawn lines kept for redrawing: a few screens' worth."""
WRAPPED_TEXTS = 128
"""Kept lines kept wrapped, those drawn last: the others are wrapped when drawn."""


class SessionLog(ScrollView, can_focus=True):
    """Lines are queued by ``add`` and written together on a short timer.

    Writing each event as it arrives would cost a layout per line when events flood in;
    batching keeps the app responsive.  A line's screen lines at the pane's width are
    counted when it is written (a line that fits by its cells is not rendered for that),
    and only the last ``MAX_LINES`` screen lines are kept: the full transcript is on disk
    anyway.  A line is wrapped when it is drawn and kept wrapped only among those drawn
    last, so a full log holds its texts and their row counts, not 5 000 rows of segments
    (a few MB over a night).  When
    the pane's width changes, the kept lines are counted again in a thread (a full log
    takes a few hundred milliseconds) and the counts swapped in when done.
    """

    class FollowChanged(Message):
        """Whether new lines now scroll into view (the ``l`` key says what it will do)."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    class SearchChanged(Message):
        """A search began or ended (``n`` and ``N`` apply only during one)."""

        def __init__(self, searching: bool) -> None:
            super().__init__()
            self.searching = searching

    class Rewrapped(Message):
        """How many screen lines each kept line takes at the width of rewrap ``serial``
        (sent from its thread)."""

        def __init__(self, serial: int, first: int, counts: list[int]) -> None:
            super().__init__()
            self.serial = serial
            self.first = first
            self.counts = counts

    COMPONENT_CLASSES = {"session-log--match", "session-log--current-match"}
    BINDINGS = [Binding("escape", "end_search", "End search", show=False, id="log.end_search")]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines = _Rows(self)
        """The written screen lines, oldest first (a long line is several), wrapped when
        asked for: only the last few hundred kept lines are kept wrapped."""
        self._texts: list[Text] = []  # the kept lines as written, to wrap again
        self._counts: list[int] = []  # how many screen lines each of them takes
        self._widths: list[int] = []  # the width each was counted at (and is drawn at)
        self._ends: list[int] = []  # where each ends, in screen lines since the log began
        self._wrapped: LRUCache[tuple[int, int], list[Line]] = LRUCache(WRAPPED_TEXTS)
        """(Kept line, numbered since the log began; width) → its screen lines."""
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
        self._cache: LRUCache[tuple[int, int, int, int], Strip] = LRUCache(RENDERED_LINES)
        self._style: Style | None = None
        self.search: LogSearch | None = None
        self._searches = 0  # search changes so far: part of a drawn line's cache key
        self._current_rows = range(0)  # screen lines of the current match, since the log began

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    def add(self, line: Text | str) -> None:
        self._pending.append(line if isinstance(line, Text) else Text(line))

    def replace(self, lines: list[Text]) -> None:
        """Show ``lines`` instead of what the log holds (another lane's, say), following
        again at the end; a search ends with the lines it searched."""
        self.end_search()
        self._rewraps += 1  # a rewrap under way is of the lines that go
        self.rewrapping = None
        self._dropped += len(self.lines)  # drawn lines cached before are never shown again
        self._first += len(self._texts)
        self._texts, self._counts, self._widths, self._ends = [], [], [], []
        self._cache.clear()
        self._wrapped.clear()
        self._pending = list(lines)
        self.follow, self.scrolled_away = True, False
        self.flush(None)
        if self.wrap_width:
            self._resized()  # also when nothing was written: the old lines' height goes
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.post_message(self.FollowChanged(True))

    @property
    def backlog(self) -> int:
        """Lines received but not written yet (they go out on the next flush)."""
        return len(self._pending)

    def flush(self, at_most: int | None = WRITTEN_AT_ONCE) -> None:
        """Write what is queued (the oldest ``at_most`` lines of it); before the pane has a
        width, it waits in the queue."""
        self._skip_unkeepable()
        width = self.scrollable_content_region.width
        if not width:
            return
        if width != self.wrap_width:
            self.wrap_width = width  # the lines kept are drawn as counted till recounted
            if self._texts:
                self._rewrap(width)
        if not self._pending:
            return
        pending, self._pending = (
            self._pending[:at_most],
            self._pending[len(self._pending[:at_most]) :],
        )
        count = counter(self.app.console, width)  # the lines are wrapped when drawn
        end = self._ends[-1] if self._ends else self._dropped
        for text in pending:
            text.expand_tabs()
            rows = count(text)
            number = self._first + len(self._texts)
            if self.search is not None:
                self.search.add(number, text.plain)
            self._texts.append(text)
            self._counts.append(rows)
            self._widths.append(width)
            end += rows
            self._ends.append(end)
        self._trim()
        self.lines_written += len(pending)
        self._resized()

    def _skip_unkeepable(self) -> None:
        """With more than ``MAX_LINES`` lines queued, only the newest ``MAX_LINES`` of them
        can be kept (each takes a screen line at least): the kept lines and the older
        queued ones go as trimmed, without being counted."""
        skipped = len(self._pending) - MAX_LINES
        if skipped <= 0:
            return
        del self._pending[:skipped]
        self._rewraps += 1  # a recount under way is of lines that go
        self.rewrapping = None
        self._first += len(self._texts) + skipped
        self._dropped = self._ends[-1] if self._ends else self._dropped
        self._texts, self._counts, self._widths, self._ends = [], [], [], []
        self.lines_written += skipped
        if self.search is not None:
            self.search.drop_before(self._first)

    def _trim(self) -> None:
        """Keep the last ``MAX_LINES`` screen lines, dropping whole written lines."""
        excess = len(self.lines) - MAX_LINES
        if excess <= 0:
            return
        dropped = lines = 0
        while lines < excess and dropped < len(self._counts) - 1:
            lines += self._counts[dropped]
            dropped += 1
        del self._texts[:dropped], self._counts[:dropped], self._ends[:dropped]
        del self._widths[:dropped]
        self._first += dropped
        self._dropped += lines
        if self.search is not None:
            self.search.drop_before(self._first)

    def _resized(self) -> None:
        # Growing changes no geometry (both scrollbars are fixed by the styles): the
        # scrollbar follows, and nothing else on the screen is laid out again.
        grow_in_place(self, Size(self.wrap_width, len(self.lines)))
        if self.following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def _rewrap(self, width: int) -> None:
        """Wrap the kept lines at ``width`` in a thread; a newer rewrap makes it give up.

        Rewraps are told apart by number, not width: after A, B and A again, the first
        A's lines would miss those written at B."""
        self._rewraps += 1
        self.rewrapping, serial = width, self._rewraps
        texts, first, count = list(self._texts), self._first, counter(self.app.console, width)

        def wrap_all() -> None:
            counts = []
            for line in texts:
                if self._rewraps != serial:
                    return
                counts.append(count(line))
            self.post_message(self.Rewrapped(serial, first, counts))

        Thread(target=wrap_all, name="log-rewrap", daemon=True).start()

    def on_session_log_rewrapped(self, message: Rewrapped) -> None:
        width = self.rewrapping
        if message.serial != self._rewraps or width is None:
            return
        self.rewrapping = None
        # Lines trimmed since the snapshot are gone; lines written since are already at width.
        counts = message.counts[self._first - message.first :]
        top = self._first + self._line_at(int(self.scroll_y))
        self._counts[: len(counts)] = counts
        self._widths[: len(counts)] = [width] * len(counts)
        self._count_ends()
        self._cache.clear()
        self._trim()
        self._mark_current()
        following, away = self.following, self.scrolled_away
        self._resized()
        if not following:
            # The line that was at the top of the pane stays there.
            top = max(top - self._first, 0)
            self.scroll_to(y=self._start_of(top), animate=False, immediate=True)
            self.scrolled_away = away

    def _line_at(self, y: int) -> int:
        """Index of the kept line that screen line ``y`` belongs to."""
        index = bisect_right(self._ends, y + self._dropped)
        return min(index, max(len(self._counts) - 1, 0))

    def _start_of(self, index: int) -> int:
        """The screen line kept line ``index`` starts at."""
        return (self._ends[index - 1] if index else self._dropped) - self._dropped

    def _count_ends(self) -> None:
        end, ends = self._dropped, []
        for count in self._counts:
            end += count
            ends.append(end)
        self._ends = ends

    def row(self, y: int) -> Line:
        """Screen line ``y`` of the kept ones, wrapped at the width its line was counted
        at (while a rewrap runs, the older lines' old width)."""
        if not 0 <= y < len(self.lines):
            raise IndexError(y)
        index = self._line_at(y)
        key = (self._first + index, self._widths[index])
        rows = self._wrapped.get(key)
        if rows is None:
            rows = wrapper(self.app.console, key[1])(self._texts[index])
            self._wrapped[key] = rows
        return rows[y - self._start_of(index)]

    @property
    def screen_lines(self) -> int:
        """The kept lines' screen lines, at the width they were counted at."""
        return (self._ends[-1] - self._dropped) if self._ends else 0

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
        row = index + self._dropped
        key = (row, scroll_x, width, self._searches) if written else (-1, 0, width, 0)
        strip = self._cache.get(key)
        if strip is None:
            if written:
                segments = self.row(index)
                if self.search is not None:
                    current = row in self._current_rows
                    mark = "session-log--current-match" if current else "session-log--match"
                    segments = self.search.marked(segments, self.get_component_rich_style(mark))
                strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, self._style)
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

    # ------------------------------------------------------------------- search

    def find(self, query: str) -> int:
        """Search the kept lines for ``query`` (as typed, any case) and show the nearest
        match at or above the bottom of the pane; the number of matching lines."""
        self.search = LogSearch(query)
        for index, text in enumerate(self._texts):
            self.search.add(self._first + index, text.plain)
        bottom = self._line_at(int(self.scroll_y) + self.scrollable_content_region.height - 1)
        self.search.nearest_up_to(self._first + bottom)
        self._show_match()
        return len(self.search.matches)

    def next_match(self, by: int = 1) -> None:
        """Show the next match (``by`` 1: further down, newer) or the previous (-1)."""
        if self.search is not None:
            self.search.step(by)
            self._show_match()

    def action_end_search(self) -> None:
        self.end_search()

    def end_search(self) -> None:
        if self.search is None:
            return
        self.search = None
        self._current_rows = range(0)
        self._searches += 1
        self.border_subtitle = None
        self.post_message(self.SearchChanged(False))
        self.refresh()

    def _mark_current(self) -> None:
        """Note the screen lines of the current match, to draw it apart from the others."""
        line = self.search.line if self.search is not None else None
        if line is None or line < self._first:
            self._current_rows = range(0)
            return
        index = line - self._first
        top = self._dropped + self._start_of(index)
        self._current_rows = range(top, top + self._counts[index])

    def _show_match(self) -> None:
        """Scroll the current match into the upper third of the pane and stop following,
        so new lines do not carry it away."""
        assert self.search is not None
        self._searches += 1
        self._cache.clear()
        self._mark_current()
        self.border_subtitle = Text(self.search.status())  # the user's text: never markup
        self.post_message(self.SearchChanged(True))
        if self._current_rows:
            following = self.following
            top = self._current_rows.start - self._dropped
            height = self.scrollable_content_region.height
            self.scroll_to(y=max(top - height // 3, 0), animate=False, immediate=True)
            self.scrolled_away = True
            if following:
                self.post_message(self.FollowChanged(False))
        self.refresh()

    # ------------------------------------------------------------------- reading

    def kept_texts(self) -> list[Text]:
        """The kept lines as written, and those waiting for the next flush."""
        return [*self._texts, *self._pending]

    def plain_lines(self) -> list[str]:
        """The kept lines as written, in plain text (what a saved log holds)."""
        return [text.plain for text in self._texts]

    @property
    def lines_dropped(self) -> int:
        """Written lines trimmed from the top: only the transcripts still have them."""
        return self._first


class _Rows(Sequence):
    """A log's screen lines as a sequence, each wrapped when it is asked for."""

    __slots__ = ("_log",)

    def __init__(self, log: SessionLog) -> None:
        self._log = log

    def __len__(self) -> int:
        return self._log.screen_lines

    def __getitem__(self, y):  # type: ignore[override]
        if isinstance(y, slice):
            return [self._log.row(i) for i in range(*y.indices(len(self)))]
        return self._log.row(y if y >= 0 else len(self) + y)
