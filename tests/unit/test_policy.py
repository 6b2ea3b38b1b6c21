"""The error policy as a table: every kind, retry verdict, role and switch option."""

from __future__ import annotations

import pytest

from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.policy import (
    Action,
    Role,
    decide,
    needs_user_reason,
    uses_retry_budget,
)

K, R, A = ErrorKind, Role, Action

TABLE = [
    # kind, role, give_up, auto_switch, can_switch -> action
    (K.RATE_LIMIT, R.CODER, False, True, True, A.SWITCH_PROFILE),
    (K.RATE_LIMIT, R.PLANNER, False, True, True, A.SWITCH_PROFILE),
    (K.RATE_LIMIT, R.CODER, False, True, False, A.NEEDS_USER),
    (K.RATE_LIMIT, R.CODER, False, False, True, A.NEEDS_USER),
    (K.AUTH, R.CODER, False, True, True, A.SWITCH_PROFILE),
    (K.AUTH, R.PLANNER, False, False, False, A.NEEDS_USER),
    (K.AUTH, R.CODER, True, False, False, A.NEEDS_USER),
    (K.TOOL_CONCURRENCY, R.CODER, False, False, False, A.BACK_OFF),
    (K.TOOL_CONCURRENCY, R.PLANNER, False, True, True, A.BACK_OFF),
    (K.TOOL_CONCURRENCY, R.CODER, True, False, False, A.STOP_STUCK),
    (K.TOOL_CONCURRENCY, R.PLANNER, True, False, False, A.GIVE_UP),
    (K.OVERLOADED, R.CODER, False, False, False, A.BACK_OFF),
    (K.OVERLOADED, R.CODER, True, False, False, A.NEEDS_USER),
    (K.OVERLOADED, R.PLANNER, True, True, True, A.NEEDS_USER),
    (K.OTHER, R.CODER, False, False, False, A.BACK_OFF),
    (K.OTHER, R.CODER, True, True, True, A.GIVE_UP),
    (K.OTHER, R.PLANNER, True, False, False, A.GIVE_UP),
    (K.CREDIT, R.CODER, False, True, True, A.SWITCH_PROFILE),
    (K.CREDIT, R.CODER, False, True, False, A.NEEDS_USER),
    (K.CREDIT, R.PLANNER, False, False, True, A.NEEDS_USER),
    (K.BUDGET, R.CODER, False, True, True, A.NEEDS_USER),  # the user's cap: no switch
    (K.BUDGET, R.QA_REVIEWER, False, False, False, A.NEEDS_USER),
    (K.RUNAWAY, R.CODER, False, True, True, A.BACK_OFF),
    (K.RUNAWAY, R.CODER, True, False, False, A.GIVE_UP),
]


@pytest.mark.parametrize(("kind", "role", "give_up", "auto_switch", "can_switch", "action"), TABLE)
def test_each_case_has_one_action(kind, role, give_up, auto_switch, can_switch, action):
    got = decide(kind, role, give_up=give_up, auto_switch=auto_switch, can_switch=can_switch)
    assert got == action


WAIT_TABLE = [
    # kind, role, auto_switch, can_switch, can_wait -> action
    (K.RATE_LIMIT, R.CODER, False, False, True, A.WAIT_FOR_RESET),
    (K.RATE_LIMIT, R.PLANNER, False, True, True, A.WAIT_FOR_RESET),
    (K.RATE_LIMIT, R.CODER, True, False, True, A.WAIT_FOR_RESET),
    (K.RATE_LIMIT, R.CODER, True, True, True, A.SWITCH_PROFILE),  # an open profile first
    (K.RATE_LIMIT, R.CODER, False, False, False, A.NEEDS_USER),
    (K.AUTH, R.CODER, False, False, True, A.NEEDS_USER),  # a login does not reset
    (K.CREDIT, R.CODER, False, False, True, A.NEEDS_USER),  # a month's credit: not waited
    (K.OVERLOADED, R.CODER, False, False, True, A.BACK_OFF),
]


@pytest.mark.parametrize(
    ("kind", "role", "auto_switch", "can_switch", "can_wait", "action"), WAIT_TABLE
)
def test_a_usage_limit_with_a_reset_in_reach_is_waited_for(
    kind, role, auto_switch, can_switch, can_wait, action
):
    got = decide(
        kind,
        role,
        give_up=False,
        auto_switch=auto_switch,
        can_switch=can_switch,
        can_wait=can_wait,
    )
    assert got == action


def test_an_auth_reason_names_the_fix_and_a_rate_limit_reason_the_reset():
    fix = "run `CLAUDE_CONFIG_DIR=/x claude` and log in, or `claude setup-token`"
    assert needs_user_reason(K.AUTH, "a", "401", auto_switch=False, fix=fix) == (
        f"authentication failed on profile 'a': 401; to fix it, {fix}"
    )
    assert needs_user_reason(K.AUTH, "a", "401", auto_switch=True, fix=fix) == (
        f"auth on profile 'a' and no other profile is usable; to fix it, {fix}"
    )
    resets = "the usage limit of profile 'a' resets at 20:50 (not waiting: --no-wait)"
    assert needs_user_reason(K.RATE_LIMIT, "a", "", auto_switch=False, resets=resets, fix=fix) == (
        f"rate limited on profile 'a'; {resets}"
    )


def test_only_errors_of_the_work_spend_the_retry_budget():
    assert {k for k in ErrorKind if uses_retry_budget(k)} == {
        K.TOOL_CONCURRENCY,
        K.OVERLOADED,
        K.RUNAWAY,
        K.OTHER,
    }


@pytest.mark.parametrize(
    ("kind", "auto_switch", "failed", "expected"),
    [
        (
            K.AUTH,
            True,
            {"a", "b"},
            "auth on profile 'a' and no other profile is usable (b failed too)",
        ),
        (K.RATE_LIMIT, True, {"a"}, "rate_limit on profile 'a' and no other profile is usable"),
        (K.AUTH, False, set(), "authentication failed on profile 'a': Not logged in"),
        (K.RATE_LIMIT, False, set(), "rate limited on profile 'a': Not logged in"),
        (K.OVERLOADED, False, set(), "overloaded error 3 times in a row on profile 'a'"),
    ],
)
def test_the_reason_names_the_profile_and_what_else_failed(kind, auto_switch, failed, expected):
    reason = needs_user_reason(
        kind,
        "a",
        "Not logged in",
        auto_switch=auto_switch,
        failed=failed,
        retry_reason="overloaded error 3 times in a row",
    )
    assert reason == expected


def test_a_rate_limit_without_a_message_says_so_plainly():
    assert needs_user_reason(K.RATE_LIMIT, "a", "", auto_switch=False) == (
        "rate limited on profile 'a'"
    )


def test_a_credit_error_names_the_profile_and_says_what_would_help():
    said = "You're out of usage credits · resets Dec 27, 12:59am (UTC)"
    assert needs_user_reason(K.CREDIT, "a", said, auto_switch=False) == (
        f"out of credit on profile 'a': {said}; add credits, or use another profile"
    )
    assert needs_user_reason(K.CREDIT, "a", said, auto_switch=True, failed={"a", "b"}) == (
        f"out of credit on profile 'a' and no other profile is usable (b failed too): {said}"
    )


def test_a_session_budget_names_the_setting_and_keeps_the_work():
    said = "session budget reached: $0.53 spent of its $0.50 (session_budget_usd)"
    assert needs_user_reason(K.BUDGET, "a", said, auto_switch=True) == (
        f"{said}; completed work is kept: raise session_budget_usd to go on"
    )
