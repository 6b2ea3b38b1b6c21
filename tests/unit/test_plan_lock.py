"""Every writer of the plan's file takes one lock: the tracker's statuses and each lane's
spec sync.  Found with 4 lanes: a merge's status, written from a read made before a lane's
pull wrote its session's claim, undid the claim, and a finished subtask was done again."""

from __future__ import annotations

import asyncio

from agent_tui.engine.progress.checkpoints import Checkpoints
from tests.unit.loop_harness import make_setup


class Mirror:
    """A spec copy whose sync notes whether the plan's lock was held meanwhile."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self.lock = lock
        self.held: list[bool] = []

    def push(self) -> list[str]:
        self.held.append(self.lock.locked())
        return []

    def pull(self, keep_as) -> tuple[list[str], list[str]]:
        self.held.append(self.lock.locked())
        return [], []


async def test_a_lanes_sync_holds_the_lock_the_trackers_writes_hold(tmp_path):
    setup = make_setup(tmp_path)
    loop, _ = setup()
    lane = Checkpoints(
        loop.config, setup.events.append, loop.history, lane=2, of_spec=loop.checkpoints
    )
    assert lane.plan_lock is loop.tracker.writing
    lane.mirror = mirror = Mirror(loop.tracker.writing)  # type: ignore[assignment]

    await lane.push()
    await lane.pull()
    assert mirror.held == [True, True]

    # A status the tracker is writing: the lane's pull waits for it, never in between.
    loop.tracker.load_existing()
    async with loop.tracker.writing:
        pulling = asyncio.ensure_future(lane.pull())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not pulling.done() and len(mirror.held) == 2
    await pulling
    assert mirror.held == [True, True, True]
