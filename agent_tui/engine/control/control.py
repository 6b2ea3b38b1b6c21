"""The loop's control: its state, and every wait it makes, on the injected clock.

The user steers through ``pause``, ``resume``, ``interrupt``, ``retry_now`` and ``stop``
(plain calls, safe at any time from the loop's thread); the loop waits through
``pause_gate``, ``backoff`` and ``between_sessions``.  Whenever the state the UI derives its
keys from changes, one ``LoopStateChanged`` event says so.

Several sessions may run at once (one per lane), and each lane may wait at once: a pause
holds them all, one pause at a time, and ``retry_now`` ends every wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.state import LoopMode, LoopState
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.retry import RetryDecision

PAUSE_FILE_POLL_S = 1.0
"""How often a pause held by a PAUSE file looks whether the file is gone."""
USER_PAUSE = "paused by the user"
USER_INTERRUPT = "interrupted by the user"
WAIT_SLICE_S = 60.0
"""The longest sleep of a backoff: between slices it looks again at the PAUSE file and,
for a wait until a reset, at the wall clock (a suspended machine's monotonic clock stops)."""
COUNTDOWN_DRIFT_S = 1.0
"""A wait until a reset announces its countdown again when it is off by more than this."""


Announce = Callable[[float, float], ev.BackoffStarted]
"""A wait's ``BackoffStarted`` for its deadline (on the loop's clock) and the seconds left."""


class Interruptible(Protocol):
    async def interrupt(self) -> bool | None: ...


class Control:
    def __init__(
        self,
        clock: Clock,
        pause_file: Path,
        emit: ev.EventSink,
        after_resume: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.clock = clock
        self.pause_file = pause_file
        self._emit = emit
        self._after_resume = after_resume
        self._started = False
        self._finished = False
        self._pause_requested = False
        self._interrupted = False
        """The pause asked for came with ``interrupt``: the log says so, not a plain pause."""
        self._paused = False
        self._pause_over = asyncio.Event()
        """Set when the pause in force ends: what a second waiter at the gate waits for."""
        self._waits = 0
        self._retries_asked = 0
        """``retry_now`` calls so far: a wait ends when the count moves while it sleeps."""
        self.backoffs = 0
        """Backoff waits so far: a session followed by one needs no pause between sessions."""
        self.stop_reason: str | None = None
        self.sessions: dict[Interruptible, int] = {}
        """What runs now (a session or a check), and the lane it runs in."""
        self._interrupting: set[Interruptible] = set()
        self._wake = asyncio.Event()
        self._nudge = asyncio.Event()
        """Set by every control call: what a wait for "anything may have changed" waits on."""
        self._resume = asyncio.Event()
        self._shown: LoopState | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------------ the state

    @property
    def state(self) -> LoopState:
        return LoopState(
            mode=self._mode(),
            session_running=bool(self.sessions),
            interrupting=self.interrupt_requested,
            sessions=len(self.sessions),
        )

    def _mode(self) -> LoopMode:
        if self._finished:
            return LoopMode.FINISHED
        if self.stop_reason is not None:
            return LoopMode.STOPPING
        if self._paused:
            return LoopMode.PAUSED
        if self._pause_requested:
            return LoopMode.PAUSING
        if self._waits:
            return LoopMode.BACKING_OFF
        return LoopMode.RUNNING if self._started else LoopMode.STARTING

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested

    @property
    def backing_off(self) -> bool:
        return self._waits > 0

    @property
    def interrupt_requested(self) -> bool:
        """Every running session has been asked to stop (False when none runs)."""
        return bool(self.sessions) and self._interrupting >= self.sessions.keys()

    async def publish(self) -> None:
        """Emit the state if it differs from the one last emitted."""
        state = self.state
        if state != self._shown:
            self._shown = state
            await self._emit(
                ev.LoopStateChanged(
                    mode=state.mode,
                    session_running=state.session_running,
                    interrupting=state.interrupting,
                    sessions=state.sessions,
                )
            )

    def _publish_soon(self) -> None:
        """From a plain call: the state is read when the event goes out, so it is never stale."""
        self.background(self.publish())

    async def start(self) -> None:
        self._started = True
        await self.publish()

    async def finish(self) -> None:
        self._finished = True
        await self.publish()

    # ----------------------------------------------------------------- the handle

    def pause(self) -> None:
        """Pause at the next session boundary (a backoff wait pauses at once)."""
        self._nudge.set()
        if self._pause_requested or self._paused:
            return
        self._pause_requested = True
        self._wake.set()
        if self.sessions:
            self.background(self._emit(ev.Pausing()))
        self._publish_soon()

    def resume(self) -> None:
        self._nudge.set()
        self._pause_requested = False
        self._interrupted = False
        with contextlib.suppress(FileNotFoundError):
            self.pause_file.unlink()
        self._resume.set()
        self._wake.set()
        self._publish_soon()

    def interrupt(self, lane: int | None = None) -> None:
        """Stop the running sessions now (``lane``'s only, if given) and pause: the others
        end at their session boundary.  Asking a session once is enough."""
        self.pause()
        asked = False
        for session, its_lane in list(self.sessions.items()):
            if session in self._interrupting or lane not in (None, its_lane):
                continue
            self._interrupted = True
            self._interrupting.add(session)
            self.background(self._ask_to_stop(session))
            asked = True
        if asked:
            self._publish_soon()

    async def _ask_to_stop(self, session: Interruptible) -> None:
        taken = await session.interrupt()
        if taken is not False or self.stopping or session not in self.sessions:
            return  # taken, or the session ended meanwhile (then its answer means nothing)
        self._interrupting.discard(session)  # the CLI did not take it: ask again
        await self._emit(
            ev.Notice(
                level="warning",
                message="the session did not take the interrupt; press i to ask again",
            )
        )
        await self.publish()

    def retry_now(self) -> None:
        self._nudge.set()
        self._retries_asked += 1
        self._wake.set()

    def wake(self) -> None:
        """Cut a wait between sessions short (a profile switch, say)."""
        self._nudge.set()
        self._wake.set()

    def stop(self, reason: str) -> None:
        """End the run: the session is interrupted; the first reason given is kept."""
        self._nudge.set()
        if self.stop_reason is None:
            self.stop_reason = reason
        self._wake.set()
        self._resume.set()
        for session in list(self.sessions):
            self.background(_end(session))
        self._publish_soon()

    @contextlib.asynccontextmanager
    async def running(self, session: Interruptible, lane: int = 1) -> AsyncIterator[None]:
        """While a session (or a check) runs in ``lane``: ``interrupt`` and ``stop`` reach it."""
        self.sessions[session] = lane
        await self.publish()
        try:
            if self.stopping:
                await session.interrupt()
            yield
        finally:
            del self.sessions[session]
            self._interrupting.discard(session)
            await self.publish()

    def running_in(self, lane: int) -> Callable[[Interruptible], Any]:
        """``running`` for the sessions and checks of ``lane``."""
        return lambda session: self.running(session, lane)

    async def nudged(self) -> None:
        """Until a control call comes (at once if one came since this was last awaited)."""
        await self._nudge.wait()
        self._nudge.clear()

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` without waiting, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------- the waits

    async def _sleep_or(self, seconds: float, event: asyncio.Event) -> bool:
        """Sleep on the clock; True when ``event`` was set first."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waiter = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waiter):
                task.cancel()
        # Not ``event.is_set()``: another waiter may have cleared it since it woke this one.
        return waiter.done() and not waiter.cancelled()

    async def sleep_or_wake(self, seconds: float) -> bool:
        """Sleep on the clock; True when a control call cut the wait short."""
        self._wake.clear()
        return await self._sleep_or(seconds, self._wake)

    def _pause_wanted(self) -> bool:
        return self._pause_requested or self._pause_file_set()

    def _pause_file_set(self) -> bool:
        """A PAUSE file is there, whatever it holds: the user's.  The sandbox never makes
        one (the spec dir is write-denied as a whole), and one a killed CLI left under
        older rules is removed before the run's first session (``workspace.leftovers``)."""
        return os.path.lexists(self.pause_file)

    async def pause_gate(self, reason: str | None = None) -> bool:
        """Block while a pause is asked for (key, PAUSE file, or ``reason``: a problem only
        the user can fix); return on resume.

        True when it paused: what was decided before the pause may be out of date."""
        if self.stopping or not self._pause_wanted():
            return False
        if self._paused:  # another lane holds the pause: its resume is this one's too
            await self._pause_over.wait()
            return True
        self._pause_over = asyncio.Event()
        by_user = reason is None and self._pause_requested
        needs_user = reason is not None
        if reason is None:
            reason = "PAUSE file"
            if by_user:
                reason = USER_INTERRUPT if self._interrupted else USER_PAUSE
        self._paused = True
        self._resume.clear()
        await self._emit(ev.Paused(reason=reason, by_user=by_user, needs_user=needs_user))
        await self.publish()
        while not self.stopping and not self._resume.is_set():
            if self._pause_requested:
                await self._resume.wait()  # only a resume (or a stop) ends it
            elif not self._pause_file_set():
                break  # held by the PAUSE file alone, and the user removed it
            else:
                await self._sleep_or(PAUSE_FILE_POLL_S, self._resume)
        self._paused = False
        self._pause_requested = False
        self._interrupted = False
        try:
            if self._after_resume is not None:
                await self._after_resume()
            if not self.stopping:
                await self._emit(ev.Resumed())
            await self.publish()
        finally:
            self._pause_over.set()
        return True

    async def needs_user(self, reason: str) -> None:
        """A problem only the user can fix: pause with ``reason`` until they resume."""
        self._pause_requested = True
        await self.pause_gate(reason)

    async def backoff(self, decision: RetryDecision, lane: int = 1) -> None:
        def started(deadline: float, remaining: float) -> ev.BackoffStarted:
            return ev.BackoffStarted(
                kind=str(decision.kind),
                delay_s=decision.delay_s,
                retry=decision.retry,
                max_retries=decision.max_retries,
                deadline=deadline,
                remaining_s=remaining,
                lane=lane,
            )

        await self._wait(decision.delay_s, None, started, lane)

    async def wait_for_reset(self, seconds: float, resets_at: float, lane: int = 1) -> None:
        """Wait out a usage limit until ``resets_at`` (epoch s), ``seconds`` from now: a
        backoff as the keys and the countdown see it (``r`` ends it, ``p`` pauses it).

        It ends ``seconds`` from now on the wall clock, as the window opens then: a pause or
        a suspend shortens what is left instead of pushing the end later."""

        def started(deadline: float, remaining: float) -> ev.BackoffStarted:
            return ev.BackoffStarted(
                kind=str(ErrorKind.RATE_LIMIT),
                delay_s=seconds,
                retry=0,
                max_retries=0,
                deadline=deadline,
                remaining_s=remaining,
                resets_at=resets_at,
                lane=lane,
            )

        await self._wait(seconds, self.clock.wall() + seconds, started, lane)

    async def _wait(
        self, seconds: float, until: float | None, started: Announce, lane: int
    ) -> None:
        if self.stopping:
            return  # a stop asked for before the wait began: the wait would outlive it
        self._waits += 1
        self.backoffs += 1
        await self.publish()
        try:
            await self._wait_out(seconds, until, started, lane)
        finally:
            self._waits -= 1
            await self.publish()

    async def _wait_out(
        self, seconds: float, until: float | None, started: Announce, lane: int
    ) -> None:
        """Wait ``seconds`` of the loop's clock (held while paused), or until the wall time
        ``until``; a pause asked for before or during the wait pauses it."""
        left = seconds
        retried = False
        while True:
            if self._pause_wanted():
                await self.pause_gate()
            if until is not None:
                left = until - self.clock.wall()
            if self.stopping or left <= 0:
                break
            self._wake.clear()
            asked = self._retries_asked
            left = await self._sleep_slices(left, until, started)
            retried = self._retries_asked != asked
            if self.stopping or retried or left <= 0:
                break
        reason = "stopped" if self.stopping else "retry_now" if retried else "elapsed"
        await self._emit(ev.BackoffEnded(reason=reason, lane=lane))

    async def _sleep_slices(self, left: float, until: float | None, started: Announce) -> float:
        """Announce the countdown and sleep through ``left`` in slices; return what is left
        when a control call or a pause cut it short (<= 0: it elapsed)."""
        deadline = self.clock.now() + left
        await self._emit(started(deadline, left))
        while True:
            woken = await self._sleep_or(min(left, WAIT_SLICE_S), self._wake)
            now = self.clock.now()
            left = deadline - now if until is None else until - self.clock.wall()
            if woken or left <= 0 or self._pause_wanted():
                return left
            if abs(now + left - deadline) > COUNTDOWN_DRIFT_S:  # the wall clock jumped
                deadline = now + left
                await self._emit(started(deadline, left))

    async def between_sessions(self, seconds: float) -> None:
        if seconds > 0 and not self.stopping:
            await self.sleep_or_wake(seconds)


async def _end(session: Interruptible) -> None:
    """A stop ends a session for good: by its ``terminate`` where it has one (the real
    session: interrupt, then signal, then kill its CLI), else by an interrupt."""
    terminate = getattr(session, "terminate", None)
    await (terminate() if terminate is not None else session.interrupt())
