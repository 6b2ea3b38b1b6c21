"""Budgets: this run's (``--max-spend``), the spec's across runs (``spec_budget_usd``) and
each profile's per month (its own, or ``monthly_budget_usd``; the month from its billing
day), each checked before a session starts.

A session that started below a budget runs to its end: stopping it mid-subtask would throw
away the work it has paid for (its try is rolled back), so a budget is overshot by at most
the sessions running when it was reached, each bounded by ``session_budget_usd`` when that
is set.  A budget past 80 % is warned about once.  A user who resumes a run paused at a
budget goes on past it for the rest of that run (it is lifted); the next run checks again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.accounts.ledger import Ledger
from agent_tui.engine.accounts.period import Period, period_of
from agent_tui.engine.events.money import WARN_SHARE, BudgetKind, BudgetLine, money


@dataclass(frozen=True)
class ProfileBudget:
    monthly_usd: float | None = None
    billing_day: int | None = None
    """The day of the month its period starts (None: the 1st, the calendar month)."""


class Budgets:
    def __init__(
        self,
        ledger: Ledger,
        *,
        run: str,
        spec: str,
        wall: Callable[[], float],
        run_limit: float | None = None,
        spec_limit: float | None = None,
        profile_budget: Callable[[str], ProfileBudget] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.ledger = ledger
        self.run = run
        self.spec = spec
        self.wall = wall
        self.run_limit = run_limit
        self.spec_limit = spec_limit
        self.profile_budget = profile_budget or (lambda _name: ProfileBudget())
        self.tz = tz
        self.lifted: set[tuple[BudgetKind, str]] = set()
        self._warned: set[tuple[BudgetKind, str]] = set()

    def month(self, profile: str) -> tuple[Period, float]:
        """The profile's billing period now, and what it has spent in it (any spec's)."""
        period = period_of(self.wall(), self.profile_budget(profile).billing_day, self.tz)
        return period, self.ledger.spent(profile=profile, between=(period.start, period.end))

    def lines(self, profile: str) -> list[BudgetLine]:
        """The budgets that apply to a session on ``profile`` now, as they stand."""
        lines = []
        if self.run_limit is not None:
            spent = self.ledger.spent(run=self.run)
            lines.append(BudgetLine(kind=BudgetKind.RUN, limit_usd=self.run_limit,
                                    spent_usd=spent, name="--max-spend"))  # fmt: skip
        if self.spec_limit is not None:
            spent = self.ledger.spent(spec=self.spec)
            lines.append(
                BudgetLine(
                    kind=BudgetKind.SPEC,
                    limit_usd=self.spec_limit,
                    spent_usd=spent,
                    name=f"spec_budget_usd ({Path(self.spec).name})",
                )
            )
        monthly = self.profile_budget(profile).monthly_usd
        if monthly is not None:
            period, spent = self.month(profile)
            lines.append(
                BudgetLine(
                    kind=BudgetKind.PROFILE,
                    limit_usd=monthly,
                    spent_usd=spent,
                    name=f"profile {profile!r} monthly budget ({period.label})",
                    profile=profile,
                )
            )
        return lines

    def reached(self, profile: str) -> BudgetLine | None:
        """The first budget that is spent and not lifted (None: a session may start)."""
        return next(
            (
                line
                for line in self.lines(profile)
                if line.reached and _key(line) not in self.lifted
            ),
            None,
        )

    def new_warnings(self, profile: str) -> list[BudgetLine]:
        """Budgets past 80 % not said before (each once per run)."""
        fresh = [
            line
            for line in self.lines(profile)
            if line.share >= WARN_SHARE and not line.reached and _key(line) not in self._warned
        ]
        self._warned.update(_key(line) for line in fresh)
        return fresh

    def lift(self, line: BudgetLine) -> None:
        """The user went on past ``line``: it stops nothing for the rest of the run."""
        self.lifted.add(_key(line))

    def profile_spent(self, name: str) -> str | None:
        """Why auto-switch must skip ``name`` (its month's budget is spent), or None."""
        monthly = self.profile_budget(name).monthly_usd
        if monthly is None:
            return None
        period, spent = self.month(name)
        line = BudgetLine(kind=BudgetKind.PROFILE, limit_usd=monthly, spent_usd=spent,
                          name=f"profile {name!r} monthly budget ({period.label})",
                          profile=name)  # fmt: skip
        if not line.reached or _key(line) in self.lifted:
            return None
        return (
            f"monthly budget spent ({money(spent)} of {money(monthly)} until {period.next_reset})"
        )

    def message(self, line: BudgetLine, profile: str, *, pausing: bool) -> str:
        """One line naming the budget, what happens to the work, and how to go on."""
        went_on = "; p goes on past it for this run" if pausing else ""
        if line.kind == BudgetKind.RUN:
            how = "run again with a higher --max-spend to go on"
        elif line.kind == BudgetKind.SPEC:
            how = "raise it with `agent-tui settings set spec_budget_usd N` to go on"
        else:
            resets = self.month(profile)[0].next_reset
            how = f"it resets on {resets}; raise it with `agent-tui profiles budget {profile} N`"
        return f"budget reached: {line.text()}; completed work is kept; {how}{went_on}"


def _key(line: BudgetLine) -> tuple[BudgetKind, str]:
    return line.kind, line.name


def profile_budgets(
    store: ProfileStore, monthly_usd: float | None, billing_day: int | None
) -> Callable[[str], ProfileBudget]:
    """Each profile's budget: its own, else the settings' (``monthly_usd``, ``billing_day``);
    the default login (no profile) has the settings'."""

    def of(name: str) -> ProfileBudget:
        profile = store.get(name) if name in store.names() else None
        own_monthly = profile.monthly_budget_usd if profile is not None else None
        own_day = profile.billing_day if profile is not None else None
        return ProfileBudget(
            monthly_usd=own_monthly if own_monthly is not None else monthly_usd,
            billing_day=own_day if own_day is not None else billing_day,
        )

    return of
