"""The forecast: what the plan's subtasks left will cost and take, from what the spec's
completed subtasks cost and took so far.

Per completed subtask: every coder session it had (its failed tries too, in this run or an
earlier one), their cost and their time.  Times the subtasks left, the time divided by the
lanes that will run them at once.  Nothing to go by (no subtask completed with a session
in the ledger): no forecast.  Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from agent_tui.engine.accounts.ledger import Entry
from agent_tui.engine.events.money import Forecast

CODER = "coder"


def forecast(
    sessions: Iterable[Entry], completed: Collection[str], left: int, lanes: int = 1
) -> Forecast | None:
    """``sessions`` of the spec (one entry each), the subtasks ``completed`` in the plan,
    how many are ``left`` to do, and the ``lanes`` the run has."""
    counted = [e for e in sessions if e.role == CODER and e.subtask in completed]
    done = {e.subtask for e in counted}
    if not done:
        return None
    in_use = max(1, min(lanes, left))
    per_cost = sum(e.cost_usd for e in counted) / len(done)
    per_second = sum(e.duration_s for e in counted) / len(done)
    return Forecast(
        cost_usd=per_cost * left,
        seconds=per_second * left / in_use,
        subtasks_left=left,
        lanes=in_use,
        based_on=len(done),
    )
