"""The status line's run and spec cost between sessions' ends: the sessions that ended plus
every running session's estimate, exact again at each ``usage``."""

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev
from agent_tui.tui.run_cost import RunCost


def started(session: int, lane: int) -> ev.SessionStarted:
    return ev.SessionStarted(
        session=session, kind="coder", subtask_id=f"{lane}.1", profile="a", attempt=1,
        model=None, transcript="t.jsonl", lane=lane,
    )  # fmt: skip


def spend(session: int, lane: int, cost: float) -> sev.SessionSpend:
    return sev.SessionSpend(
        session=session, cost_usd=cost, input_tokens=0, output_tokens=0, lane=lane
    )


def usage(session: int, lane: int, cost: float, total: float, spec: float | None) -> ev.Usage:
    return ev.Usage(
        session=session, session_cost_usd=cost, session_input_tokens=0,
        session_output_tokens=0, total_cost_usd=total, total_input_tokens=0,
        total_output_tokens=0, lane=lane, spec_cost_usd=spec,
    )  # fmt: skip


def test_one_lane_moves_with_each_reply_and_is_exact_at_the_end():
    cost = RunCost()
    cost.started(started(1, 1))
    cost.spent(spend(1, 1, 0.02))
    cost.spent(spend(1, 1, 0.05))
    assert cost.run == pytest.approx(0.05)
    assert cost.spec is None  # not known before the first usage
    cost.ended(usage(1, 1, 0.06, total=0.06, spec=1.06))
    assert (cost.run, cost.spec) == (pytest.approx(0.06), pytest.approx(1.06))
    cost.started(started(2, 1))
    cost.spent(spend(2, 1, 0.01))
    assert (cost.run, cost.spec) == (pytest.approx(0.07), pytest.approx(1.07))


def test_several_lanes_count_every_running_sessions_estimate_once():
    cost = RunCost()
    cost.started(started(1, 1))
    cost.started(started(2, 2))
    cost.spent(spend(1, 1, 0.10))
    cost.spent(spend(2, 2, 0.04))
    assert cost.run == pytest.approx(0.14)
    # Session 1 ends: the engine's total counts session 2's estimate as it stands.
    cost.ended(usage(1, 1, 0.12, total=0.16, spec=0.16))
    assert (cost.run, cost.spec) == (pytest.approx(0.16), pytest.approx(0.16))
    cost.spent(spend(2, 2, 0.07))
    assert cost.run == pytest.approx(0.19)
    cost.started(started(3, 1))  # lane 1's next session: nothing spent yet
    cost.spent(spend(3, 1, 0.01))
    assert cost.run == pytest.approx(0.20)
    cost.ended(usage(2, 2, 0.08, total=0.21, spec=0.21))
    assert cost.run == pytest.approx(0.21)
    cost.ended(usage(3, 1, 0.01, total=0.22, spec=0.22))
    assert (cost.run, cost.spec) == (pytest.approx(0.22), pytest.approx(0.22))


def test_a_usage_for_a_session_that_sent_no_estimate_keeps_the_others():
    cost = RunCost()
    cost.spent(spend(4, 2, 0.03))
    cost.ended(usage(5, 1, 0.02, total=0.05, spec=None))  # lane 1's session sent none
    assert cost.run == pytest.approx(0.05)
    cost.spent(spend(4, 2, 0.04))
    assert cost.run == pytest.approx(0.06)
