"""The status line's spend while sessions run, kept apart from the widgets.

A ``usage`` event comes only as a session ends; in between, each reply brings a
``session_spend`` with the running session's spend so far (an estimate: cost and tokens).
So that the figures move with the work, the run's cost and tokens, the spec's cost and the
budgets' spend are what the last ``usage`` counted for the sessions that ended, plus every
running session's estimate (one per lane) that counts towards them; the next ``usage``
makes them exact again.  The forecast is figured from the spec's completed subtasks, which
no reply changes: it is the last ``usage``'s (or ``spend_planned``'s, before the first).
"""

from __future__ import annotations

from typing import NamedTuple

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events.money import BudgetKind, BudgetLine, Forecast


class Running(NamedTuple):
    """A lane's running session and its estimate so far."""

    session: int
    profile: str | None
    """None: its start was not seen (an app attached since)."""
    cost: float = 0.0
    tokens: tuple[int, int] = (0, 0)


class RunCost:
    def __init__(self) -> None:
        self._ended = 0.0
        """The run's sessions that ended: the last ``usage``'s total less the estimates of
        the sessions still running then (the engine counts them in it)."""
        self._spec_ended: float | None = None
        """The same of the spec's total over every run; None until a ``usage`` says it."""
        self._tokens_ended = (0, 0)
        """The same of the run's input and output tokens."""
        self._budgets_ended: tuple[BudgetLine, ...] = ()
        """The same of each budget's spend."""
        self.forecast: Forecast | None = None
        self._running: dict[int, Running] = {}
        """Lane → the session running in it."""

    def started(self, event: ev.SessionStarted) -> None:
        """A lane's new session has spent nothing yet (its last one has ended)."""
        self._running[event.lane] = Running(event.session, event.profile)

    def spent(self, event: sev.SessionSpend) -> None:
        was = self._running.get(event.lane)
        profile = was.profile if was is not None and was.session == event.session else None
        tokens = (event.input_tokens, event.output_tokens)
        self._running[event.lane] = Running(event.session, profile, event.cost_usd, tokens)

    def planned(self, event: sev.SpendPlanned) -> None:
        """Before the run's first session: the budgets as they stand, and the forecast."""
        self._budgets_ended = tuple(self._less_running(line) for line in event.budgets)
        self.forecast = event.forecast

    def ended(self, event: ev.Usage) -> None:
        """A session's own figures, and the run's and the spec's as the engine counts them."""
        was = self._running.get(event.lane)
        if was is not None and was.session == event.session:
            del self._running[event.lane]
        running = self._estimate()
        self._ended = event.total_cost_usd - running
        spec = event.spec_cost_usd
        self._spec_ended = None if spec is None else spec - running
        tokens_in, tokens_out = self._running_tokens()
        self._tokens_ended = (
            event.total_input_tokens - tokens_in,
            event.total_output_tokens - tokens_out,
        )
        self._budgets_ended = tuple(self._less_running(line) for line in event.budgets)
        self.forecast = event.forecast

    @property
    def run(self) -> float:
        return self._ended + self._estimate()

    @property
    def spec(self) -> float | None:
        return None if self._spec_ended is None else self._spec_ended + self._estimate()

    @property
    def tokens(self) -> tuple[int, int]:
        """The run's input and output tokens."""
        tokens_in, tokens_out = self._running_tokens()
        return self._tokens_ended[0] + tokens_in, self._tokens_ended[1] + tokens_out

    @property
    def budgets(self) -> tuple[BudgetLine, ...]:
        """Each budget with what the sessions running now have spent towards it."""
        return tuple(
            _spent(line, line.spent_usd + self._towards(line)) for line in self._budgets_ended
        )

    def tightest_budget(self) -> BudgetLine | None:
        """The budget closest to its limit."""
        return max(self.budgets, key=lambda line: line.share, default=None)

    def _less_running(self, line: BudgetLine) -> BudgetLine:
        return _spent(line, line.spent_usd - self._towards(line))

    def _towards(self, line: BudgetLine) -> float:
        """The running sessions' estimates that count towards ``line``: a profile's month
        counts the sessions on that profile (every one, if the line does not say which)."""
        if line.kind == BudgetKind.PROFILE and line.profile is not None:
            return self._estimate(line.profile)
        return self._estimate()

    def _estimate(self, profile: str | None = None) -> float:
        return sum(
            running.cost
            for running in self._running.values()
            if profile is None or running.profile == profile
        )

    def _running_tokens(self) -> tuple[int, int]:
        running = self._running.values()
        return sum(r.tokens[0] for r in running), sum(r.tokens[1] for r in running)


def _spent(line: BudgetLine, usd: float) -> BudgetLine:
    return BudgetLine(**{**line.as_dict(), "spent_usd": usd})
