"""The loop's control: its state follows the calls and the waits, each change is one
``loop_state`` event, and every wait runs on the injected clock."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.control.control import PAUSE_FILE_POLL_S, WAIT_SLICE_S, Control
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.state import LoopMode
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.retry import RetryDecision

M = LoopMode


class Session:
    def __init__(self, taken: bool = True) -> None:
        self.asked = 0
        self.taken = taken

    async def interrupt(self) -> bool:
        self.asked += 1
        return self.taken


@pytest.fixture
def control(tmp_path):
    events: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    made = Control(VirtualClock(auto_advance=False), tmp_path / "PAUSE", sink)
    made.events = events  # type: ignore[attr-defined]
    return made


def states(control) -> list[tuple[LoopMode, bool, bool]]:
    return [
        (e.mode, e.session_running, e.interrupting)
        for e in control.events
        if isinstance(e, ev.LoopStateChanged)
    ]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def decision(delay: float = 4.0) -> RetryDecision:
    return RetryDecision(ErrorKind.TOOL_CONCURRENCY, False, delay, 2, 5, 0.0, "tool-use")


async def test_a_pause_asked_during_a_session_takes_effect_at_the_gate(control):
    await control.start()
    async with control.running(Session()):
        control.pause()
        await settle()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    assert control.paused
    control.resume()
    await gate
    await settle()
    assert states(control) == [
        (M.RUNNING, False, False),
        (M.RUNNING, True, False),
        (M.PAUSING, True, False),
        (M.PAUSING, False, False),
        (M.PAUSED, False, False),
        (M.RUNNING, False, False),
    ]
    paused = [e for e in control.events if isinstance(e, ev.Paused)]
    assert [(p.reason, p.by_user) for p in paused] == [("paused by the user", True)]
    assert any(isinstance(e, ev.Pausing) for e in control.events)


async def test_the_pause_after_an_interrupt_says_interrupted_and_the_next_pause_does_not(control):
    await control.start()
    async with control.running(Session()):
        control.interrupt()
        await settle()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    control.resume()
    await gate
    async with control.running(Session()):
        control.pause()
        await settle()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    control.resume()
    await gate
    paused = [(e.reason, e.by_user) for e in control.events if isinstance(e, ev.Paused)]
    assert paused == [("interrupted by the user", True), ("paused by the user", True)]


async def test_a_problem_pause_is_not_the_users(control):
    await control.start()
    gate = asyncio.create_task(control.needs_user("auth failed on profile 'a'"))
    await settle()
    control.resume()
    await gate
    paused = [e for e in control.events if isinstance(e, ev.Paused)]
    assert [(p.reason, p.by_user, p.needs_user) for p in paused] == [
        ("auth failed on profile 'a'", False, True)
    ]


async def test_a_pause_file_pause_ends_when_the_file_goes_polled_on_the_clock(control):
    control.pause_file.write_text("")
    await control.start()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    assert control.paused and control.clock.sleepers == 1
    control.clock.advance(PAUSE_FILE_POLL_S)
    await settle()
    assert control.paused  # the file is still there
    control.pause_file.unlink()
    control.clock.advance(PAUSE_FILE_POLL_S)
    await gate
    assert not control.paused
    paused = [e for e in control.events if isinstance(e, ev.Paused)]
    assert [(p.reason, p.by_user, p.needs_user) for p in paused] == [("PAUSE file", False, False)]
    assert any(isinstance(e, ev.Resumed) for e in control.events)


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("", 0o644),
        ("until Monday", 0o444),
        ("", 0o444),  # a sandbox placeholder the user touched: the sandbox makes none now
    ],
)
async def test_a_pause_file_someone_wrote_pauses(control, text, mode):
    control.pause_file.write_text(text)
    control.pause_file.chmod(mode)
    await control.start()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    assert control.paused and control.pause_file.exists()
    control.stop("done")
    await gate


async def test_a_user_pause_does_not_poll(control):
    await control.start()
    control.pause()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    assert control.paused and control.clock.sleepers == 0
    control.resume()
    await gate


async def test_backing_off_is_a_state_and_retry_now_ends_it(control):
    await control.start()
    wait = asyncio.create_task(control.backoff(decision()))
    await settle()
    assert control.state.mode == M.BACKING_OFF
    control.retry_now()
    await wait
    await settle()
    assert [s[0] for s in states(control)] == [M.RUNNING, M.BACKING_OFF, M.RUNNING]
    ended = [e.reason for e in control.events if isinstance(e, ev.BackoffEnded)]
    assert ended == ["retry_now"]


async def test_a_wait_for_a_reset_is_a_backoff_that_names_the_reset_and_r_ends_it(control):
    await control.start()
    wait = asyncio.create_task(control.wait_for_reset(7230.0, resets_at=1_796_155_200.0))
    await settle()
    assert control.state.mode == M.BACKING_OFF and control.clock.sleepers == 1
    started = [e for e in control.events if isinstance(e, ev.BackoffStarted)]
    assert [(e.kind, e.delay_s, e.resets_at) for e in started] == [
        ("rate_limit", 7230.0, 1_796_155_200.0)
    ]
    assert started[0].deadline == control.clock.now() + 7230.0
    assert started[0].wait_text() == "2 h 01 min"
    control.retry_now()
    await wait
    ended = [e.reason for e in control.events if isinstance(e, ev.BackoffEnded)]
    assert ended == ["retry_now"]


async def test_a_wait_asked_for_after_a_stop_does_not_begin(control):
    await control.start()
    control.stop("stopped by the user")
    await control.wait_for_reset(3600.0, resets_at=1_796_151_600.0)
    assert control.clock.sleepers == 0
    assert not [e for e in control.events if isinstance(e, ev.BackoffStarted)]


async def test_an_interrupt_is_asked_once_and_shown_until_the_session_ends(control):
    await control.start()
    session = Session()
    async with control.running(session):
        control.interrupt()
        control.interrupt()
        await settle()
        assert control.state.interrupting and control.state.mode == M.PAUSING
    assert session.asked == 1
    assert not control.state.interrupting


async def test_an_interrupt_the_session_did_not_take_can_be_asked_again(control):
    await control.start()
    session = Session(taken=False)
    async with control.running(session):
        control.interrupt()
        await settle()
        assert not control.state.interrupting
        notices = [e.message for e in control.events if isinstance(e, ev.Notice)]
        assert notices == ["the session did not take the interrupt; press i to ask again"]


async def test_stop_is_stopping_keeps_its_first_reason_and_ends_every_wait(control):
    await control.start()
    control.pause()
    gate = asyncio.create_task(control.pause_gate())
    await settle()
    control.stop("stopped by SIGTERM")
    control.stop("stopped by the user")
    await gate
    await settle()
    assert control.stop_reason == "stopped by SIGTERM"
    assert control.state.mode == M.STOPPING and not control.state.active
    assert not any(isinstance(e, ev.Resumed) for e in control.events)
    await control.finish()
    assert states(control)[-1] == (M.FINISHED, False, False)


async def test_the_wait_between_sessions_is_on_the_clock_and_a_switch_cuts_it(control):
    await control.start()
    wait = asyncio.create_task(control.between_sessions(3.0))
    await settle()
    assert control.clock.sleepers == 1
    control.wake()
    await wait
    assert control.clock.now() == 1000.0  # no time passed: the wake ended it


HOUR = 3600.0


def started_events(control) -> list[ev.BackoffStarted]:
    return [e for e in control.events if isinstance(e, ev.BackoffStarted)]


def ended_reasons(control) -> list[str]:
    return [e.reason for e in control.events if isinstance(e, ev.BackoffEnded)]


async def test_a_pause_longer_than_a_reset_wait_ends_the_wait_on_resume(control):
    clock = control.clock
    await control.start()
    until = clock.wall() + 4 * HOUR
    wait = asyncio.create_task(control.wait_for_reset(4 * HOUR, resets_at=until - 30))
    await settle()
    clock.advance(600)
    control.pause()
    await settle()
    assert control.paused and clock.sleepers == 0  # a user pause holds: nothing counts down
    clock.advance(9 * HOUR)  # the window opened while the user was away
    control.resume()
    await settle()
    assert wait.done()
    assert ended_reasons(control) == ["elapsed"]
    assert len(started_events(control)) == 1  # no countdown announced for a past reset


async def test_after_a_pause_a_reset_wait_counts_down_to_the_reset_not_a_duration(control):
    clock = control.clock
    await control.start()
    until = clock.wall() + 4 * HOUR
    wait = asyncio.create_task(control.wait_for_reset(4 * HOUR, resets_at=until - 30))
    await settle()
    clock.advance(600)
    control.pause()
    await settle()
    clock.advance(HOUR)
    control.resume()
    await settle()
    again = started_events(control)[-1]
    left = until - clock.wall()
    assert left == 4 * HOUR - 600 - HOUR
    assert (again.remaining_s, again.deadline) == (left, clock.now() + left)
    assert again.wait_text() == "the last 2 h 50 min"
    clock.advance(left - 1)
    await settle()
    assert not wait.done()
    clock.advance(1)
    await settle()
    assert wait.done() and ended_reasons(control) == ["elapsed"]
    assert clock.wall() == until


@pytest.mark.parametrize("how", ["key", "PAUSE file"])
async def test_a_pause_asked_before_a_wait_pauses_it_at_once(control, how):
    clock = control.clock
    await control.start()
    if how == "key":
        control.pause()  # p while the session that then hit the limit ran
    else:
        control.pause_file.write_text("")
    await settle()
    wait = asyncio.create_task(control.wait_for_reset(4 * HOUR, resets_at=clock.wall() + HOUR))
    await settle()
    paused = [e for e in control.events if isinstance(e, ev.Paused)]
    assert control.paused and len(paused) == 1
    assert paused[0].reason == ("paused by the user" if how == "key" else "PAUSE file")
    assert not started_events(control)  # the countdown starts once the pause ends
    control.resume()
    await settle()
    [started] = started_events(control)
    assert started.remaining_s == 4 * HOUR
    control.retry_now()
    await wait


async def test_a_pause_file_made_during_a_wait_pauses_it_within_a_slice(control):
    clock = control.clock
    await control.start()
    wait = asyncio.create_task(control.backoff(decision(delay=600.0)))
    await settle()
    control.pause_file.write_text("")
    clock.advance(WAIT_SLICE_S)
    await settle()
    assert control.paused
    control.pause_file.unlink()
    clock.advance(PAUSE_FILE_POLL_S)
    await settle()
    assert not control.paused
    # a plain backoff is a duration: the time paused does not count against it
    assert started_events(control)[-1].remaining_s == 600.0 - WAIT_SLICE_S
    clock.advance(600.0 - WAIT_SLICE_S)
    await wait
    assert ended_reasons(control) == ["elapsed"]


class SuspendableClock(VirtualClock):
    """A machine that sleeps: the wall clock moves on, the monotonic one does not."""

    def __init__(self) -> None:
        super().__init__(auto_advance=False)
        self.suspended_s = 0.0

    def wall(self) -> float:
        return super().wall() + self.suspended_s


async def test_a_suspend_during_a_reset_wait_does_not_push_its_end_later(tmp_path):
    events: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    clock = SuspendableClock()
    control = Control(clock, tmp_path / "PAUSE", sink)
    control.events = events  # type: ignore[attr-defined]
    await control.start()
    until = clock.wall() + 4 * HOUR
    wait = asyncio.create_task(control.wait_for_reset(4 * HOUR, resets_at=until - 30))
    await settle()
    clock.suspended_s = 3 * HOUR  # the lid closed for 3 h
    clock.advance(WAIT_SLICE_S)
    await settle()
    again = started_events(control)[-1]
    left = 4 * HOUR - 3 * HOUR - WAIT_SLICE_S
    assert (again.remaining_s, again.deadline) == (left, clock.now() + left)
    clock.advance(left)
    await settle()
    assert wait.done() and ended_reasons(control) == ["elapsed"]
    assert clock.wall() == until and clock.now() == 1000.0 + HOUR
