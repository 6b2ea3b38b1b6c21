"""Before each session: the budgets that apply to it (the run's, the spec's, its profile's
month).

Before the run's first session with a budget, the budgets and the forecast are said, and
whether the forecast fits.  A budget past 80 % is warned about once.  A spent one starts no
session: a profile's month hands over to the next profile with auto_switch (skipped like an
exhausted window), else the run pauses for the user (headless: it ends, exit 3) with one
line naming the budget.  The sessions running then finish (see ``accounts.budget``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.money import BudgetKind
from agent_tui.engine.events.spend import BudgetReached, BudgetWarning, SpendPlanned
from agent_tui.engine.schedule.attempt import Attempt

if TYPE_CHECKING:
    from agent_tui.engine.stages.base import Stage


async def budget_gate(stage: Stage, attempt: Attempt) -> bool:
    """True: no session now (a budget is spent; the user resumed past it, or the run
    ends); False: the session may start (perhaps on another profile)."""
    spend = stage.parts.runner.spend
    budgets = spend.budgets
    rotation = attempt.lane.rotation
    await spend.refresh()
    await _plan_once(stage)
    for _ in range(len(rotation.store.names()) + 1):  # each profile is left once at most
        profile = rotation.current
        for line in budgets.new_warnings(profile):
            await stage.emit(BudgetWarning(budget=line))
        line = budgets.reached(profile)
        if line is None:
            return False
        target = rotation.next_usable() if stage.config.auto_switch else None
        if line.kind != BudgetKind.PROFILE or target is None:
            break
        message = f"{line.text()}: the next session runs on profile {target!r}"
        await stage.emit(BudgetReached(budget=line, message=message))
        rotation.request(target, "monthly budget spent")
        await rotation.apply_pending()
    message = budgets.message(line, rotation.current, pausing=stage.config.pause_on_problem)
    await stage.emit(BudgetReached(budget=line, message=message))
    await stage.needs_user(message)  # headless: the run ends here
    budgets.lift(line)
    going_on = f"resumed past {line.name}: it stops no session for the rest of this run"
    await stage.emit(ev.Notice(level="warning", message=going_on))
    return True


async def _plan_once(stage: Stage) -> None:
    """Before the run's first session: its budgets, the forecast, whether it fits."""
    spend = stage.parts.runner.spend
    if spend.planned:
        return
    spend.planned = True
    lines = spend.budgets.lines(stage.parts.spec_lane.rotation.current)
    if not lines:
        return
    forecast = spend.forecast()
    fits = None if forecast is None else all(forecast.cost_usd <= b.left_usd for b in lines)
    await stage.emit(SpendPlanned(budgets=tuple(lines), forecast=forecast, fits=fits))
