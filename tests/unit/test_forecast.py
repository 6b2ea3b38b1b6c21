"""The forecast: cost and time per completed subtask (its failed tries in), times what is
left, the time shared by the lanes in use."""

from __future__ import annotations

import itertools

import pytest

from agent_tui.engine.accounts.forecast import forecast
from agent_tui.engine.accounts.ledger import Entry

SESSIONS = itertools.count(1)


def session(subtask: str | None, cost: float, seconds: float, role: str = "coder"):
    return Entry(run="r", session=next(SESSIONS), profile="a", spec="s", project="p", role=role,
                 ts=0.0, cost_usd=cost, subtask=subtask, duration_s=seconds)  # fmt: skip


def test_nothing_completed_is_no_forecast():
    assert forecast([session("1.1", 1.0, 60)], completed=set(), left=5) is None


def test_a_completed_subtasks_failed_tries_are_part_of_its_cost():
    sessions = [session("1.1", 1.0, 60), session("1.1", 1.0, 60), session("1.2", 2.0, 120)]
    made = forecast(sessions, completed={"1.1", "1.2"}, left=4)
    assert (made.cost_usd, made.seconds, made.based_on) == (8.0, 480.0, 2)
    assert made.text() == "≈ $8.00 · 8 min left"


def test_unfinished_subtasks_and_other_roles_are_no_basis():
    sessions = [
        session("1.1", 1.0, 60),
        session("1.2", 50.0, 600),  # still being worked on
        session(None, 9.0, 300, role="planner"),
    ]
    made = forecast(sessions, completed={"1.1"}, left=3)
    assert (made.cost_usd, made.seconds) == (3.0, 180.0)


@pytest.mark.parametrize(
    ("lanes", "left", "in_use", "seconds"), [(3, 6, 3, 120.0), (4, 2, 2, 60.0)]
)
def test_lanes_share_the_time_not_the_cost(lanes, left, in_use, seconds):
    made = forecast([session("1.1", 1.0, 60)], completed={"1.1"}, left=left, lanes=lanes)
    assert (made.cost_usd, made.seconds, made.lanes) == (float(left), seconds, in_use)


def test_nothing_left_says_so():
    made = forecast([session("1.1", 1.0, 60)], completed={"1.1"}, left=0)
    assert (made.cost_usd, made.text()) == (0.0, "nothing left")
