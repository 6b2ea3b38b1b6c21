"""The events of spend and budgets (same base class and rules as the others: printable
text, a stable ``type``).  The run's and the spec's totals and the forecast ride on ``usage``."""

from __future__ import annotations

from typing import ClassVar

from agent_tui.engine.events.core import Event, Usage
from agent_tui.engine.events.money import BudgetLine, Forecast, money


class SessionSpend(Event):
    """What a running session has spent so far, estimated from its replies' tokens; its
    ``usage`` at the end has the CLI's own figure."""

    type: ClassVar[str] = "session_spend"
    session: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    model: str | None = None
    lane: int = 1


class SpendPlanned(Event):
    """Before the run's first session: its budgets, the forecast, and whether it fits."""

    type: ClassVar[str] = "spend_planned"
    budgets: tuple[BudgetLine, ...]
    forecast: Forecast | None
    fits: bool | None
    """None: no forecast yet (no completed subtask to go by)."""

    def text(self) -> str:
        shown = "; ".join(b.text() for b in self.budgets) or "no budget"
        if self.forecast is None:
            return f"{shown}; no forecast yet (no subtask of this spec completed so far)"
        tight = min(self.budgets, key=lambda b: b.left_usd) if self.budgets else None
        if tight is None:
            return f"{shown}; forecast {self.forecast.text()}"
        verdict = "fits" if self.fits else "does NOT fit"
        return (
            f"{shown}; forecast {self.forecast.text()} for {self.forecast.subtasks_left} "
            f"subtask(s): {verdict} the {money(tight.left_usd)} left of {tight.name}"
        )


class BudgetWarning(Event):
    """A budget is past 80 % of its limit (said once per budget and run)."""

    type: ClassVar[str] = "budget_warning"
    budget: BudgetLine


class BudgetReached(Event):
    """A budget is spent: no session starts on it (the app pauses, headless stops, or with
    auto_switch a profile's month hands over to the next profile)."""

    type: ClassVar[str] = "budget_reached"
    budget: BudgetLine
    message: str


def usage_text(usage: Usage) -> str:
    """A ``usage`` event in words: ``$0.42 this session · $1.20 this run · $4.50 this spec
    · $4.50 of $15.00 spec_budget_usd (30%) · forecast ≈ $4.20 · 1 h 10 min left``."""
    parts = [
        f"{money(usage.session_cost_usd)} this session",
        f"{money(usage.total_cost_usd)} this run",
    ]
    spec = usage.spec_cost_usd
    if spec is not None:
        parts.append(f"{money(spec)} this spec")
    parts.extend(line.text() for line in usage.budgets)
    forecast = usage.forecast
    if forecast is not None:
        parts.append(f"forecast {forecast.text()}")
    return " · ".join(parts)
