"""Budgets from the ledger: the run's, the spec's over its runs, each profile's month; a
warning at 80 % once, a spent one named in one line, a lifted one stops nothing."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.accounts.budget import Budgets, ProfileBudget, profile_budgets
from agent_tui.engine.accounts.ledger import Entry, Ledger
from agent_tui.engine.events.money import BudgetKind

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 6, 20, 12, tzinfo=UTC).timestamp()
SPEC = "/p/.auto-claude/specs/001"


SESSIONS = itertools.count(1)


def spent(ledger: Ledger, cost: float, *, run="this", profile="a", spec=SPEC, ts=NOW):
    ledger.append(
        Entry(run=run, session=next(SESSIONS), profile=profile, spec=spec, project="/p",
              role="coder", ts=ts, cost_usd=cost, final=True, estimated=False)
    )  # fmt: skip


def budgets(ledger: Ledger, **limits) -> Budgets:
    return Budgets(ledger, run="this", spec=SPEC, wall=lambda: NOW, tz=UTC, **limits)


def test_no_budget_set_stops_nothing():
    ledger = Ledger(None)
    spent(ledger, 1000.0)
    assert budgets(ledger).lines("a") == [] and budgets(ledger).reached("a") is None


def test_the_run_budget_counts_only_this_runs_sessions():
    ledger = Ledger(None)
    spent(ledger, 4.0, run="earlier")
    spent(ledger, 3.0)
    check = budgets(ledger, run_limit=5.0)
    [line] = check.lines("a")
    assert (line.kind, line.spent_usd, line.reached) == (BudgetKind.RUN, 3.0, False)
    assert line.profile is None  # every profile's sessions count towards it
    spent(ledger, 2.0)
    assert check.reached("a").text() == "$5.00 of $5.00 --max-spend (100%)"


def test_the_spec_budget_counts_every_run_of_the_spec_only():
    ledger = Ledger(None)
    spent(ledger, 9.0, run="earlier")
    spent(ledger, 50.0, spec="/p/.auto-claude/specs/002")
    spent(ledger, 6.0)
    line = budgets(ledger, spec_limit=15.0).reached("a")
    assert (line.kind, line.spent_usd, line.name) == (
        BudgetKind.SPEC, 15.0, "spec_budget_usd (001)",
    )  # fmt: skip


def test_a_profiles_month_counts_every_spec_of_that_month_only():
    ledger = Ledger(None)
    may = datetime(2026, 5, 31, 23, tzinfo=UTC).timestamp()
    spent(ledger, 80.0, ts=may)
    spent(ledger, 30.0, spec="/q/other")
    spent(ledger, 60.0, profile="b")
    check = budgets(ledger, profile_budget=lambda name: ProfileBudget(monthly_usd=100.0))
    [line] = check.lines("a")
    assert (line.spent_usd, line.name) == (30.0, "profile 'a' monthly budget (June 2026)")
    assert (line.profile, check.lines("b")[0].profile) == ("a", "b")  # whose month it is
    assert check.profile_spent("a") is None


def test_a_billing_day_moves_the_month():
    ledger = Ledger(None)
    spent(ledger, 80.0, ts=datetime(2026, 6, 14, tzinfo=UTC).timestamp())
    spent(ledger, 30.0)
    calendar = budgets(ledger, profile_budget=lambda n: ProfileBudget(100.0))
    from_15th = budgets(ledger, profile_budget=lambda n: ProfileBudget(100.0, billing_day=15))
    assert calendar.reached("a") is not None
    assert from_15th.reached("a") is None
    assert from_15th.lines("a")[0].name == "profile 'a' monthly budget (15 Jun to 14 Jul 2026)"


def test_a_spent_month_keeps_auto_switch_off_the_profile_until_it_starts_again():
    ledger = Ledger(None)
    spent(ledger, 100.0)
    check = budgets(ledger, profile_budget=lambda n: ProfileBudget(100.0))
    assert check.profile_spent("a") == "monthly budget spent ($100.00 of $100.00 until 1 Jul)"
    assert check.profile_spent("b") is None


def test_a_warning_at_80_percent_comes_once_per_budget():
    ledger = Ledger(None)
    spent(ledger, 7.9)
    check = budgets(ledger, run_limit=10.0, spec_limit=100.0)
    assert check.new_warnings("a") == []
    spent(ledger, 0.1)
    [warned] = check.new_warnings("a")
    assert (warned.kind, f"{warned.share:.0%}") == (BudgetKind.RUN, "80%")
    assert check.new_warnings("a") == []


def test_a_lifted_budget_stops_nothing_more_this_run():
    ledger = Ledger(None)
    spent(ledger, 5.0)
    check = budgets(ledger, run_limit=5.0, spec_limit=5.0)
    first = check.reached("a")
    check.lift(first)
    second = check.reached("a")
    assert (first.kind, second.kind) == (BudgetKind.RUN, BudgetKind.SPEC)
    check.lift(second)
    assert check.reached("a") is None


def test_the_message_names_the_budget_and_says_how_to_go_on():
    ledger = Ledger(None)
    spent(ledger, 5.2)
    run = budgets(ledger, run_limit=5.0)
    assert run.message(run.reached("a"), "a", pausing=False) == (
        "budget reached: $5.20 of $5.00 --max-spend (104%); completed work is kept; "
        "run again with a higher --max-spend to go on"
    )
    month = budgets(ledger, profile_budget=lambda n: ProfileBudget(5.0))
    assert month.message(month.reached("a"), "a", pausing=True).endswith(
        "it resets on 1 Jul; raise it with `agent-tui profiles budget a N`; "
        "p goes on past it for this run"
    )


def test_a_profiles_own_budget_wins_over_the_settings():
    store = ProfileStore.in_memory(
        [Profile(name="own", monthly_budget_usd=20.0, billing_day=3), Profile(name="plain")]
    )
    of = profile_budgets(store, 100.0, 15)
    assert of("own") == ProfileBudget(20.0, 3)
    assert of("plain") == ProfileBudget(100.0, 15)
    assert of("default") == ProfileBudget(100.0, 15)  # no profile: the CLI's own login
