"""The clocks' calendar reading: it moves with the monotonic one, so waits stay virtual."""

from __future__ import annotations

import time

from agent_tui.engine.clock import DEFAULT_WALL_START, RealClock, VirtualClock


async def test_a_virtual_clock_reads_the_calendar_from_its_wall_start_plus_what_passed():
    clock = VirtualClock(start=50.0, wall_start=2_000_000_000.0)
    assert clock.wall() == 2_000_000_000.0
    await clock.sleep(30)
    clock.advance(12.5)
    assert clock.now() == 92.5
    assert clock.wall() == 2_000_000_042.5


def test_a_virtual_clock_starts_at_the_same_calendar_time_on_every_run():
    assert VirtualClock().wall() == DEFAULT_WALL_START == VirtualClock(start=7.0).wall()


def test_the_real_clock_reads_the_calendar_as_time_does():
    before = time.time()
    reading = RealClock().wall()
    assert before <= reading <= time.time()
