"""The session log: bounded, written in batches, following only while at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

FLUSH_INTERVAL_S = 0.05
MAX_LINES = 5000
MIN_WIDTH = 20


class SessionLog(RichLog):
    """A ``RichLog`` that queues lines and writes them together on a short timer.

    Writing each event as it arrives costs a layout per line when events flood in;
    batching keeps the app responsive.  The full transcript is on disk anyway.
    """

    def __init__(self, **kwargs) -> None:
        # min_width: RichLog renders at least 78 cells wide, which a narrow log pane crops
        # (an 80-column terminal lost the middle of every long line); wrap to the pane instead.
        super().__init__(
            max_lines=MAX_LINES,
            min_width=MIN_WIDTH,
            wrap=True,
            markup=False,
            auto_scroll=False,
            **kwargs,
        )
        self.follow = True
        self.scrolled_away = False
        self._pending: list[Text] = []
        self.lines_written = 0

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    def add(self, line: Text | str) -> None:
        self._pending.append(line if isinstance(line, Text) else Text(line))

    @property
    def backlog(self) -> int:
        """Lines received but not written yet (they go out on the next flush)."""
        return len(self._pending)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        follow = self.follow and not self.scrolled_away
        for line in pending:
            self.write(line, scroll_end=follow)
        self.lines_written += len(pending)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Moving up means the reader wants to stay put; reaching the bottom follows again.

        A resize that clamps the offset lands exactly on the bottom, so it never counts.
        """
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y:
            self.scrolled_away = False
        elif new < old:
            self.scrolled_away = True

    def toggle_follow(self) -> bool:
        self.follow = not self.follow
        if self.follow:
            self.scrolled_away = False
            self.scroll_end(animate=False)
        return self.follow
