"""Budgets in the loop (scripted sessions, virtual time): said before the first session,
warned at 80 %, a spent one starts no session: the app pauses and a resume goes on past it,
headless ends with exit 3; a profile's spent month hands over to the next with auto_switch."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.engine.accounts.ledger import Entry, Ledger
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.money import BudgetKind
from agent_tui.engine.events.spend import BudgetReached, BudgetWarning, SpendPlanned
from tests.unit.loop_harness import make_setup, mark_completed, of, write_plan

BOUND_S = 10.0


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


async def until(predicate, what: str) -> None:
    async with asyncio.timeout(BOUND_S):
        while not predicate():
            await asyncio.sleep(0)
    assert predicate(), what


async def test_a_run_without_a_budget_says_nothing_of_one(setup):
    loop, _ = setup(pause_between_s=0)
    assert await loop.run() == 0
    assert not of(setup.events, SpendPlanned) and not of(setup.events, BudgetReached)
    usage = of(setup.events, ev.Usage)
    assert [u.total_cost_usd for u in usage] == pytest.approx([0.01, 0.02])
    assert usage[-1].spec_cost_usd == pytest.approx(0.02) and usage[-1].budgets == ()


async def test_headless_stops_at_the_run_budget_with_one_line_naming_it(setup):
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3", "1.4"])
    loop, sessions = setup(pause_between_s=0, pause_on_problem=False, max_spend_usd=0.025)
    assert await loop.run() == 3
    assert len(sessions.specs) == 3  # the third started below the budget, and finished
    [planned] = of(setup.events, SpendPlanned)
    assert (planned.forecast, planned.fits) == (None, None)
    assert [w.budget.kind for w in of(setup.events, BudgetWarning)] == [BudgetKind.RUN]
    message = of(setup.events, ev.LoopFinished)[-1].message
    assert message == (
        "budget reached: $0.0300 of $0.0250 --max-spend (120%); completed work is kept; "
        "run again with a higher --max-spend to go on"
    )


async def test_the_app_pauses_at_a_budget_and_a_resume_goes_on_past_it(setup):
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3"])
    loop, sessions = setup(pause_between_s=0, max_spend_usd=0.01)
    run = asyncio.ensure_future(loop.run())
    await until(lambda: of(setup.events, ev.Paused), "the pause")
    [paused] = of(setup.events, ev.Paused)
    assert paused.needs_user and paused.reason.startswith("budget reached: $0.0100 of $0.0100")
    assert paused.reason.endswith("; p goes on past it for this run")
    assert len(sessions.specs) == 1
    loop.resume()
    assert await asyncio.wait_for(run, BOUND_S) == 0
    assert len(sessions.specs) == 3  # lifted: it stops nothing more in this run
    assert len(of(setup.events, BudgetReached)) == 1
    notes = [n.message for n in of(setup.events, ev.Notice)]
    assert "resumed past --max-spend: it stops no session for the rest of this run" in notes


async def test_a_spent_month_hands_over_to_the_next_profile_with_auto_switch(setup, tmp_path):
    spend_dir = tmp_path / "spend"
    Ledger(spend_dir).append(
        Entry(run="earlier", session=1, profile="a", spec="/other", project="/other",
              role="coder", ts=1_796_148_000.0, cost_usd=5.0, final=True, estimated=False)
    )  # fmt: skip
    loop, sessions = setup(
        pause_between_s=0, auto_switch=True, monthly_budget_usd=5.0, spend_dir=spend_dir
    )
    assert await loop.run() == 0
    assert [s.profile for s in sessions.specs] == ["b", "b"]
    assert [(s.from_, s.to, s.reason) for s in of(setup.events, ev.ProfileSwitched)] == [
        ("a", "b", "monthly budget spent")
    ]


async def test_the_forecast_before_the_run_says_whether_it_fits(setup, tmp_path):
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3", "1.4"])
    spend_dir = tmp_path / "spend"
    first, _ = setup(pause_between_s=0, spend_dir=spend_dir, max_iterations=1)
    assert await first.run() == 3  # one subtask done: something to go by
    # $0.01 a subtask: 3 left ($0.03) of $0.04 left, then 2 left ($0.02) of $0.01 left
    for limit, left, fits in ((0.05, 3, True), (0.03, 2, False)):
        setup.events.clear()
        loop, _ = setup(
            pause_between_s=0,
            pause_on_problem=False,
            spend_dir=spend_dir,
            spec_budget_usd=limit,
            max_iterations=1,
        )
        await loop.run()
        planned = of(setup.events, SpendPlanned)[0]
        assert planned.fits is fits
        assert planned.forecast.subtasks_left == left
        assert planned.forecast.cost_usd == pytest.approx(0.01 * left)
        assert ("does NOT fit" in planned.text()) is not fits


async def test_a_session_stopped_at_its_own_cap_pauses_and_is_no_try(setup):
    def capped(spec, n):
        if n == 1:
            return SessionOutcome(
                outcome="error", error_kind="budget", message="session budget reached: $0.60"
            )
        mark_completed(setup.spec_dir / "implementation_plan.json", spec.subtask_id)
        return SessionOutcome(outcome="success", cost_usd=0.01)

    loop, sessions = setup(capped, pause_between_s=0, pause_on_problem=False)
    assert await loop.run() == 3
    assert len(sessions.specs) == 1 and not of(setup.events, ev.BackoffStarted)
    assert loop.history.attempt_count("1.1", interrupted=False) == 0
