"""A backoff countdown rendered from an absolute deadline on the injected clock."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from agent_tui.engine.clock import Clock
from agent_tui.engine.events.timefmt import countdown

BAR_WIDTH = 20


class Countdown(Static):
    """Shows seconds left and the retry number; hidden when no wait is running."""

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.deadline: float | None = None
        self.total_s = 0.0
        self.caption = ""
        self.frozen_left: float | None = None

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(1.0, self.refresh)

    def start(self, deadline: float, total_s: float, caption: str) -> None:
        self.deadline, self.total_s, self.caption = deadline, total_s, caption
        self.frozen_left = None
        self.display = True
        self.refresh()

    def freeze(self) -> None:
        if self.deadline is not None:
            self.frozen_left = self.seconds_left()
            self.refresh()

    def stop(self) -> None:
        self.deadline = None
        self.frozen_left = None
        self.display = False

    @property
    def active(self) -> bool:
        return self.deadline is not None

    def seconds_left(self) -> float:
        if self.frozen_left is not None:
            return self.frozen_left
        if self.deadline is None:
            return 0.0
        return max(0.0, self.deadline - self.clock.now())

    def render(self) -> Text:
        left = self.seconds_left()
        fraction = 0.0 if self.total_s <= 0 else min(1.0, left / self.total_s)
        filled = round(BAR_WIDTH * fraction)
        paused = " (paused)" if self.frozen_left is not None else ""
        return Text.assemble(
            (f"⏳ {countdown(left)}{paused} ", "bold"),
            ("█" * filled, "magenta"),
            ("░" * (BAR_WIDTH - filled), "dim"),
            ("  ", ""),
            (self.caption, ""),
            ("  p: resume" if paused else "  r: now", "dim"),
        )
