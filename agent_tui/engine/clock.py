"""Clocks: the loop never calls ``time`` or ``asyncio.sleep`` directly, so tests can inject one.

``RealClock`` is the machine's time.  ``VirtualClock`` is a test clock: ``now()`` only moves
when a sleep is taken (``auto_advance=True``) or when the test calls ``advance()``.

Waits run on ``now()``, a monotonic scale; ``wall()`` is the calendar time, read only to turn
an instant someone else names (a usage limit's reset, in epoch seconds) into a wait.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

DEFAULT_WALL_START = 1_796_148_000.0
"""A virtual clock's calendar time at its start: 2026-12-01 18:00 UTC."""


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale; only differences mean anything."""
        ...

    def wall(self) -> float:
        """Epoch seconds, as ``time.time()``: what the CLI's usage-limit resets are given in."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """A clock for tests. With ``auto_advance`` a sleep returns at once and moves time on.

    ``wall()`` starts at ``wall_start`` and moves with ``now()``: a fixed default keeps what
    tests show (a reset at 20:50) the same on every run."""

    def __init__(
        self,
        start: float = 1000.0,
        *,
        auto_advance: bool = True,
        wall_start: float = DEFAULT_WALL_START,
    ) -> None:
        self._start = start
        self._wall_start = wall_start
        self._now = start
        self.auto_advance = auto_advance
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall_start + (self._now - self._start)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        if self.auto_advance:
            self._now += seconds
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time on and wake every sleeper whose deadline has come."""
        self._now += seconds
        while self._waiters and self._waiters[0][0] <= self._now:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())
