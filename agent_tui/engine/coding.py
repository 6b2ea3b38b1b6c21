"""The coding phase: subtasks in lanes, and their work through the merge queue, until the
plan is complete (then the final check, and QA when it is on) or the run ends.

One lane is the run as it always was: a subtask at a time, in the spec's own worktree, the
rest between two sessions, the pause at a session boundary.  With several, each ready
subtask the scheduler allows takes a free lane (its own worktree), each lane rests between
its own sessions, and a pause waits for every lane's session to end.  A lane's error is its
own (its backoff, its profile switch); an error that ends the run stops every lane, and
each stopped session is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib

from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.result import RunEnded, RunOutcome, end
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.schedule.attempt import Attempt
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.engine.schedule.ready import ready, starts
from agent_tui.engine.stages.base import RunParts
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.engine.stages.merge import MergeQueue
from agent_tui.plan import ImplementationPlan, Subtask, find_subtask, is_complete
from agent_tui.text import counted

MERGE_UNDO_S = 30.0
"""How long a stopping run lets the merge queue undo a merge whose checks it interrupted."""


class Coding:
    def __init__(self, parts: RunParts, coder: CoderStage, queue: MergeQueue) -> None:
        self.parts = parts
        self.config: LoopConfig = parts.config
        self.control: Control = parts.control
        self.coder = coder
        self.queue = queue
        self.iterations = 0
        """Sessions started by this run's coder (``--max-iterations`` counts them)."""
        self._running: dict[asyncio.Future[None], Lane] = {}
        self._merging: asyncio.Future[None] | None = None
        self._cut_short: list[Attempt] = []
        """Attempts the run's end went through: their subtasks are put back."""
        self.left_in_spec: str | None = None
        """The subtask whose try alone in the spec's worktree did not complete it: what it
        left there is rolled back before a lane's work can be merged onto it."""

    async def run(self, complete: object) -> None:
        """Until ``end`` is called; ``complete(plan)`` is awaited whenever every subtask is
        completed (it ends the run, or returns when QA reopened a subtask)."""
        self._merging = asyncio.ensure_future(self.queue.run())
        try:
            await self._loop(complete)
        finally:
            await self._wind_down()
            if self.control.stopping and not self.queue.idle:
                # A stop interrupts the merge's checks: the queue undoes the merge, so the
                # spec's branch holds nothing unchecked (bounded: a check's CLI may hang).
                await asyncio.wait({self._merging}, timeout=MERGE_UNDO_S)
            self._merging.cancel()
            with contextlib.suppress(asyncio.CancelledError, RunEnded):
                await self._merging

    async def _loop(self, complete: object) -> None:
        coder, control, tracker = self.coder, self.control, self.parts.tracker
        while True:
            await coder.sync_plan()
            await coder.take_back_retried()
            plan = tracker.plan
            assert plan is not None
            if not self._running and self.queue.idle and is_complete(plan):
                # Before the stop check: a stop asked for as the last subtask was completed
                # (a quit, a reader gone) does not make a finished run an interrupted one.
                await complete(plan)  # type: ignore[operator]
                continue  # a check or a QA session reopened a subtask
            if self._running and control.stopping:
                await self._wait()  # the stop reaches every session: each end is recorded
                continue
            coder.end_if_stopped()
            if not self._running:
                rest = min(lane.free_at for lane in self.parts.lanes) - control.clock.now()
                if rest > 0:  # only between two sessions: not after the last, nor a backoff
                    await control.between_sessions(rest)
                    for lane in self.parts.lanes:
                        lane.free_at = 0.0
                    continue
                if await control.pause_gate():
                    continue  # the plan may have been edited while the loop was paused
            started = 0 if control.pause_requested else await self._start(plan)
            if not started and not self._running and self.queue.idle:
                stuck = sorted(self.parts.history.stuck_ids())
                detail = f"stuck: {', '.join(stuck)}" if stuck else "no subtask is ready"
                end(RunOutcome.STUCK, f"cannot go on ({detail})")
            await self._wait()

    async def _start(self, plan: ImplementationPlan) -> int:
        """Start what may start now on the lanes that are free and rested; how many."""
        now = self.control.clock.now()
        free = [lane for lane in self.parts.lanes if not lane.busy and lane.free_at <= now]
        if not free or any(lane.alone for lane in self.parts.lanes):
            return 0  # one works in the spec's worktree: nothing may merge onto it meanwhile
        stuck = self.parts.history.stuck_ids()
        queued = {i: entry.on for i, entry in self.queue.waiting.items()}
        running = self.parts.attempts
        chosen = starts(plan, running=running, queued=queued, skip=stuck, room=len(free))
        alone = self._alone(plan, [start.subtask for start in chosen], stuck)
        if not alone and chosen and self.left_in_spec is not None:
            await self.coder.try_failed(self.left_in_spec, self.parts.checkpoints)
            self.left_in_spec = None
        limit = self.config.max_iterations
        if limit is not None and chosen:
            if self.iterations >= limit:
                if self._running or not self.queue.idle:
                    return 0  # what runs and waits to be merged ends first
                message = f"stopped after {counted(self.iterations, 'session')} (--max-iterations)"
                end(RunOutcome.MAX_ITERATIONS, message)
            chosen = chosen[: limit - self.iterations]
        for start, lane in zip(chosen, free, strict=False):
            self.iterations += 1
            if alone:  # its try rolls back what an earlier one left there
                lane.work_alone_in(self.parts.spec_lane)
                self.left_in_spec = None
            on = self.queue.waiting.get(start.on or "")
            base = (on.subtask_id, on.commit) if on is not None else None
            attempt = self.coder.attempt(start.subtask, lane, base)
            self._running[asyncio.ensure_future(self._work(attempt))] = lane
        return len(chosen)

    def _alone(self, plan: ImplementationPlan, chosen: list[Subtask], stuck: set[str]) -> bool:
        """Whether the one subtask chosen works in the spec's own worktree, committed there
        as with one lane: nothing else runs or waits to be merged, and nothing else could
        start beside it (a plan that is a chain pays nothing for lanes it cannot use)."""
        lanes = self.parts.lanes
        if len(lanes) < 2 or len(chosen) != 1 or any(lane.busy for lane in lanes):
            return False  # (a try that has just ended may not have been waited for yet)
        return self.queue.idle and len(ready(plan, skip=stuck, room=2)) == 1

    async def _work(self, attempt: Attempt) -> None:
        lane, several = attempt.lane, len(self.parts.lanes) > 1
        if several:
            on = attempt.on or ""
            await self.parts.emit(
                lev.LaneBusy(lane=lane.id, subtask_id=attempt.subtask_id or "", on=on)
            )
        try:
            await self.coder.work(attempt)
        except RunEnded:
            self._cut_short.append(attempt)
            raise
        finally:
            self.coder.release(attempt)
            if lane.alone:
                lane.come_back()
                if not self._completed(attempt):
                    self.left_in_spec = attempt.subtask_id
            if several:
                await self.parts.emit(lev.LaneFree(lane=lane.id))
        pause = self.config.pause_between_s
        lane.free_at = 0.0 if attempt.backed_off else self.control.clock.now() + pause

    def _completed(self, attempt: Attempt) -> bool:
        plan = self.parts.tracker.plan
        subtask = find_subtask(plan, attempt.subtask_id or "") if plan else None
        return subtask is not None and subtask.status == "completed"

    async def _wait(self) -> None:
        """Until a lane's attempt ends, a merge ends, a lane's rest is over, or a control
        call may have changed what can start; an attempt that ended the run ends it."""
        assert self._merging is not None
        waits: set[asyncio.Future[object]] = {*self._running, self._merging}
        changes = asyncio.ensure_future(self._changed())
        waits.add(changes)
        timeout = None
        if self._running and not self.control.pause_requested:
            now = self.control.clock.now()  # a lane free and rested has nothing to wait for
            resting = [
                lane.free_at for lane in self.parts.lanes if not lane.busy and lane.free_at > now
            ]
            if resting:
                timeout = min(resting) - now
        try:
            done, _ = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            changes.cancel()
        if self._merging in done:
            self._merging.result()  # raises what ended the run (it never ends otherwise)
        for task in [t for t in done if t in self._running]:
            del self._running[task]
            task.result()  # raises what ended the run

    async def _changed(self) -> None:
        """A merge ended, or a control call came (a resume may let lanes start again)."""
        merged = asyncio.ensure_future(self.queue.settled())
        nudged = asyncio.ensure_future(self.control.nudged())
        try:
            await asyncio.wait({merged, nudged}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            merged.cancel()
            nudged.cancel()

    async def _wind_down(self) -> None:
        """The run ends: every lane's session is stopped and recorded before it does."""
        if not self._running:
            return
        if not self.control.stopping:
            self.control.stop("the run ended")
        results = await asyncio.gather(*self._running, return_exceptions=True)
        self._running.clear()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(
                result, RunEnded | asyncio.CancelledError
            ):
                raise result

    async def put_back(self) -> None:
        """A run that ends leaves no subtask in progress, nor one completed by a claim its
        check never decided (a subtask waiting to be merged stays in progress: the next run
        merges it)."""
        done: set[str] = set()
        for attempt in [*self._cut_short, *(lane.last for lane in self.parts.lanes if lane.last)]:
            if attempt.subtask_id in done or attempt.subtask_id in self.queue.waiting:
                continue
            done.add(attempt.subtask_id or "")
            await self.coder.put_back(attempt)
