"""What the loop does about a failed session: a pure table, the same for every stage.

``decide`` maps (error kind, retry decision, role, whether another profile can take
over, whether a usage limit's reset can be waited for) to one ``Action``;
``needs_user_reason`` words the reason when only the user can help.  The loop carries the
actions out; nothing here waits, writes or emits.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from agent_tui.engine.failures.kinds import ErrorKind


class Role(StrEnum):
    PLANNER = "planner"
    CODER = "coder"
    QA_REVIEWER = "qa_reviewer"
    QA_FIXER = "qa_fixer"


class Action(StrEnum):
    BACK_OFF = "back_off"
    """Wait the retry policy's delay, then run the session again."""
    SWITCH_PROFILE = "switch_profile"
    """The next session runs on the next usable profile."""
    WAIT_FOR_RESET = "wait_for_reset"
    """No profile can take over: wait for the first usage window to reset, then go on."""
    NEEDS_USER = "needs_user"
    """Only the user can fix it: pause (app) or end the run (headless)."""
    GIVE_UP = "give_up"
    """Coder: the subtask is stuck and the loop moves on.  Planner: one of its tries spent.
    QA: the reviewer's session left no verdict, or the fixer could not run."""
    STOP_STUCK = "stop_stuck"
    """Coder: the subtask is stuck and the run ends (more sessions would meet the same 400)."""


ACCOUNT_ERRORS = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.AUTH, ErrorKind.CREDIT})
"""Errors of the account, not the work: the CLI has already retried them (or declined to),
and another session on the same profile would fail the same way."""


def uses_retry_budget(kind: ErrorKind) -> bool:
    """Whether ``kind`` goes through the retry tracker (account errors and a session's own
    budget do not: a retry would spend the same again)."""
    return kind not in ACCOUNT_ERRORS and kind != ErrorKind.BUDGET


def decide(
    kind: ErrorKind,
    role: Role,
    *,
    give_up: bool,
    auto_switch: bool,
    can_switch: bool,
    can_wait: bool = False,
) -> Action:
    """The one thing to do about an error of ``kind``.

    ``give_up`` is the retry tracker's verdict (ignored for account errors); ``can_switch``
    says whether another profile is usable, has not failed since the last success and has
    an open usage window; ``can_wait`` whether a known reset is within the wait allowed.
    """
    if kind == ErrorKind.BUDGET:
        return Action.NEEDS_USER  # the user's cap: only they can raise it, or go on
    if kind in ACCOUNT_ERRORS:
        if auto_switch and can_switch:
            return Action.SWITCH_PROFILE
        if kind == ErrorKind.RATE_LIMIT and can_wait:
            return Action.WAIT_FOR_RESET
        return Action.NEEDS_USER
    if not give_up:
        return Action.BACK_OFF
    if kind == ErrorKind.OVERLOADED:
        return Action.NEEDS_USER  # the API, not the subtask: retrying later may work
    if kind == ErrorKind.TOOL_CONCURRENCY and role == Role.CODER:
        return Action.STOP_STUCK
    return Action.GIVE_UP


def needs_user_reason(
    kind: ErrorKind,
    profile: str,
    message: str,
    *,
    auto_switch: bool,
    failed: Collection[str] = (),
    retry_reason: str = "",
    fix: str = "",
    resets: str = "",
) -> str:
    """Why the run waits for the user, naming the profile (and what else was tried).

    ``fix`` (auth) says what to run to log the profile in again; ``resets`` (rate limit)
    names a known reset that is not waited for, and why."""
    fix_text = f"; to fix it, {fix}" if kind == ErrorKind.AUTH and fix else ""
    resets_text = f"; {resets}" if kind == ErrorKind.RATE_LIMIT and resets else ""
    if kind == ErrorKind.BUDGET:
        return f"{message}; completed work is kept: raise session_budget_usd to go on"
    if kind == ErrorKind.CREDIT:
        if auto_switch:
            others = sorted(set(failed) - {profile})
            tried = f" ({', '.join(others)} failed too)" if others else ""
            none_left = f"and no other profile is usable{tried}"
            return f"out of credit on profile {profile!r} {none_left}: {message}"
        hint = "add credits, or use another profile"
        return f"out of credit on profile {profile!r}: {message}; {hint}"
    if kind in ACCOUNT_ERRORS and auto_switch:
        others = sorted(set(failed) - {profile})
        tried = f" ({', '.join(others)} failed too)" if others else ""
        return f"{kind} on profile {profile!r} and no other profile is usable{tried}" + (
            fix_text or resets_text
        )
    if kind == ErrorKind.AUTH:
        return f"authentication failed on profile {profile!r}: {message}{fix_text}"
    if kind == ErrorKind.RATE_LIMIT:
        said = f": {message}" if message else ""
        return f"rate limited on profile {profile!r}{said}{resets_text}"
    return f"{retry_reason} on profile {profile!r}"
