"""The backoff state machine, on a virtual clock."""

from __future__ import annotations

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.retry import RetryPolicy, RetryTracker

TC = ErrorKind.TOOL_CONCURRENCY


def tracker(**policy) -> RetryTracker:
    return RetryTracker(RetryPolicy(**policy), VirtualClock(start=100.0))


def test_concurrency_delays_double_to_the_cap_then_give_up():
    retry = tracker()
    decisions = [retry.on_error(TC) for _ in range(6)]
    assert [d.delay_s for d in decisions[:5]] == [2, 4, 8, 16, 32]
    assert [d.retry for d in decisions[:5]] == [1, 2, 3, 4, 5]
    assert not any(d.give_up for d in decisions[:5])
    assert decisions[5].give_up and "6 times in a row" in decisions[5].reason
    assert all(d.max_retries == 5 for d in decisions)


def test_deadline_is_now_plus_delay_on_the_injected_clock():
    retry = tracker()
    retry.clock.advance(7.5)
    assert retry.on_error(TC).deadline == 107.5 + 2.0


def test_custom_cap_and_limit():
    retry = tracker(max_delay_s=5.0, max_retries=4)
    delays = [retry.on_error(TC) for _ in range(5)]
    assert [d.delay_s for d in delays[:4]] == [2, 4, 5, 5]
    assert delays[4].give_up


def test_success_resets_everything():
    retry = tracker()
    retry.note_planning_errors(["plan.json: bad"])
    retry.on_error(TC)
    retry.on_error(TC)
    assert retry.guidance_due and retry.concurrency_errors == 2
    retry.on_success()
    assert (retry.concurrency_errors, retry.guidance_due, retry.planning_errors) == (0, False, [])
    assert retry.on_error(TC).delay_s == 2


def test_another_error_resets_everything_including_the_planning_context():
    retry = tracker()
    retry.on_error(TC)
    retry.on_error(TC)
    retry.note_planning_errors(["plan.json: phase 1 has no subtasks"])
    decision = retry.on_error(ErrorKind.OTHER)
    assert decision.delay_s == 5.0 and not decision.give_up
    assert retry.concurrency_errors == 0
    assert not retry.guidance_due
    assert retry.planning_errors == []
    assert retry.on_error(TC).delay_s == 2


def test_a_concurrency_error_keeps_the_planning_context():
    # Found in an audit: a planner retried after a bad plan, cut short by a 400, was retried
    # again without being told what was wrong with its plan.
    retry = tracker()
    retry.note_planning_errors(["plan.json: phase 1 has no subtasks"])
    retry.on_error(ErrorKind.OTHER)
    retry.note_planning_errors(["plan.json: phase 1 has no subtasks"])
    assert retry.on_error(TC).delay_s == 2
    assert retry.planning_errors == ["plan.json: phase 1 has no subtasks"]
    assert retry.on_error(ErrorKind.OTHER).retry == 1  # the other errors' count started over


def test_other_errors_give_up_after_the_third_in_a_row():
    retry = tracker()
    decisions = [retry.on_error(ErrorKind.RATE_LIMIT) for _ in range(3)]
    assert [d.give_up for d in decisions] == [False, False, True]
    assert [d.retry for d in decisions] == [1, 2, 3]
