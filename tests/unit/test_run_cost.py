"""The status line's run and spec cost, tokens and budgets between sessions' ends: the
sessions that ended plus every running session's estimate, exact again at each ``usage``."""

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events.money import BudgetKind, BudgetLine, Forecast
from agent_tui.tui.run_cost import RunCost


def started(session: int, lane: int, profile: str = "a") -> ev.SessionStarted:
    return ev.SessionStarted(
        session=session, kind="coder", subtask_id=f"{lane}.1", profile=profile, attempt=1,
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


def spend_of(session: int, lane: int, cost: float, tokens: tuple[int, int]) -> sev.SessionSpend:
    return sev.SessionSpend(
        session=session, cost_usd=cost, input_tokens=tokens[0], output_tokens=tokens[1], lane=lane
    )


def usage_of(
    session: int,
    lane: int,
    total: float,
    tokens: tuple[int, int],
    *budgets: BudgetLine,
    forecast: Forecast | None = None,
) -> ev.Usage:
    return ev.Usage(
        session=session, session_cost_usd=0.0, session_input_tokens=0,
        session_output_tokens=0, total_cost_usd=total, total_input_tokens=tokens[0],
        total_output_tokens=tokens[1], lane=lane, budgets=budgets, forecast=forecast,
    )  # fmt: skip


def run_budget(spent: float) -> BudgetLine:
    return BudgetLine(kind=BudgetKind.RUN, limit_usd=1.0, spent_usd=spent, name="--max-spend")


def month_of(profile: str, spent: float) -> BudgetLine:
    return BudgetLine(
        kind=BudgetKind.PROFILE, limit_usd=0.5, spent_usd=spent,
        name=f"profile {profile!r} monthly budget (June 2026)", profile=profile,
    )  # fmt: skip


def spent_of(cost: RunCost) -> dict[str, float]:
    return {line.name: pytest.approx(line.spent_usd) for line in cost.budgets}


def test_tokens_follow_each_reply_and_count_every_lane_once():
    cost = RunCost()
    cost.started(started(1, 1))
    cost.started(started(2, 2))
    cost.spent(spend_of(1, 1, 0.01, (1000, 100)))
    cost.spent(spend_of(1, 1, 0.03, (3000, 250)))
    assert cost.tokens == (3000, 250)
    cost.spent(spend_of(2, 2, 0.01, (500, 40)))
    assert cost.tokens == (3500, 290)
    # Session 1 ends with the CLI's own figures; the engine's total counts session 2's
    # estimate as it stands.
    cost.ended(usage_of(1, 1, 0.05, (5500, 340)))
    assert cost.tokens == (5500, 340)
    cost.spent(spend_of(2, 2, 0.02, (900, 80)))
    assert cost.tokens == (5900, 380)
    cost.started(started(3, 1))  # lane 1's next session: nothing spent yet
    assert cost.tokens == (5900, 380)
    cost.ended(usage_of(2, 2, 0.08, (6000, 400)))
    assert cost.tokens == (6000, 400)


def test_budgets_follow_each_reply_of_the_sessions_that_count_towards_them():
    cost = RunCost()
    cost.started(started(1, 1, profile="a"))
    cost.started(started(2, 2, profile="b"))
    cost.spent(spend_of(1, 1, 0.10, (0, 0)))
    cost.spent(spend_of(2, 2, 0.04, (0, 0)))
    # Session 1 ends: each line counts session 2's estimate if session 2 counts towards it.
    cost.ended(usage_of(1, 1, 0.16, (0, 0), run_budget(0.16), month_of("a", 0.32)))
    assert spent_of(cost) == {"--max-spend": 0.16, "profile 'a' monthly budget (June 2026)": 0.32}
    cost.spent(spend_of(2, 2, 0.09, (0, 0)))  # b's session: the run's budget, not a's month
    assert spent_of(cost) == {"--max-spend": 0.21, "profile 'a' monthly budget (June 2026)": 0.32}
    cost.started(started(3, 1))
    cost.spent(spend_of(3, 1, 0.05, (0, 0)))  # a's session: both
    assert spent_of(cost) == {"--max-spend": 0.26, "profile 'a' monthly budget (June 2026)": 0.37}
    tightest = cost.tightest_budget()
    assert tightest is not None and tightest.text() == (
        "$0.37 of $0.50 profile 'a' monthly budget (June 2026) (74%)"
    )


def test_before_the_first_session_ends_the_planned_budgets_move_and_the_forecast_holds():
    cost = RunCost()
    assert cost.tightest_budget() is None and cost.forecast is None
    forecast = Forecast(cost_usd=0.4, seconds=600, subtasks_left=4)
    cost.planned(sev.SpendPlanned(budgets=(run_budget(0.0),), forecast=forecast, fits=True))
    cost.started(started(1, 1))
    cost.spent(spend_of(1, 1, 0.07, (100, 10)))
    assert spent_of(cost) == {"--max-spend": 0.07}
    assert cost.forecast == forecast  # the completed subtasks' figures: no reply moves them
    later = Forecast(cost_usd=0.3, seconds=450, subtasks_left=3, based_on=1)
    cost.ended(usage_of(1, 1, 0.08, (120, 12), run_budget(0.08), forecast=later))
    assert cost.forecast == later and spent_of(cost) == {"--max-spend": 0.08}
