"""Spend, budgets and the forecast as the events carry them, and their words.

Records only (no events here, so ``core`` can use them): what a budget has spent of what
it allows, and what the rest of the plan is expected to cost and take.
"""

from __future__ import annotations

from enum import StrEnum

from agent_tui.engine.events.record import Record
from agent_tui.engine.events.timefmt import duration

WARN_SHARE = 0.8
"""A budget past this share of its limit is warned about, once."""


class BudgetKind(StrEnum):
    RUN = "run"
    """``--max-spend``: this run's sessions."""
    SPEC = "spec"
    """``spec_budget_usd``: every run's sessions of this spec."""
    PROFILE = "profile"
    """A profile's monthly budget: its sessions this month (or billing cycle), any spec's."""


class BudgetLine(Record):
    """One budget as it stands."""

    kind: BudgetKind
    limit_usd: float
    spent_usd: float
    name: str
    """What the user set it with: ``--max-spend``, ``spec_budget_usd``, ``profile 'a'
    monthly budget (June 2026)``."""
    profile: str | None = None
    """Whose month it is (a profile's monthly budget; None for the others): the sessions
    that count towards it."""

    @property
    def share(self) -> float:
        """Spent over the limit, rounded past what float sums of cents leave behind."""
        return round(self.spent_usd / self.limit_usd, 9) if self.limit_usd > 0 else 1.0

    @property
    def reached(self) -> bool:
        return round(self.spent_usd - self.limit_usd, 9) >= 0

    @property
    def left_usd(self) -> float:
        return max(0.0, self.limit_usd - self.spent_usd)

    def text(self) -> str:
        """``$4.10 of $5.00 --max-spend (82 %)``."""
        return f"{money(self.spent_usd)} of {money(self.limit_usd)} {self.name} ({self.share:.0%})"


class Forecast(Record):
    """What the plan's subtasks left are expected to cost and take, from what the spec's
    completed subtasks cost and took (their failed tries included)."""

    cost_usd: float
    seconds: float
    subtasks_left: int
    lanes: int = 1
    """The lanes the time is divided by (those in use, at most one per subtask left)."""
    based_on: int = 0
    """Completed subtasks the figures come from."""

    def text(self) -> str:
        """``≈ $4.20 · 1 h 10 min left``."""
        if self.subtasks_left == 0:
            return "nothing left"
        return f"≈ {money(self.cost_usd)} · {duration(self.seconds)} left"


def money(usd: float) -> str:
    """``$4.20``, ``$0.38``; under ten cents with the fractions of a cent that short
    sessions (and a scripted model's) cost: ``$0.0266``."""
    return f"${usd:.2f}" if usd >= 0.1 or usd == 0 else f"${usd:.4f}"
