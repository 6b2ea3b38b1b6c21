"""Whether to wait for a usage limit to reset, and for which profile: pure, clock-free.

When no profile can take over, the run waits for the earliest known reset (plus a margin,
as the reset instant itself may still be refused), if waiting is on and that is within the
bound; otherwise only the user can help, and the reason names the reset time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.events.timefmt import clock_time, duration

RESET_MARGIN_S = 30.0
"""Waited past a reset, so the first request after it meets the new window."""


@dataclass(frozen=True)
class ResetWait:
    profile: str
    """The profile whose window opens first: the next session runs on it."""
    resets_at: float
    """Epoch seconds."""
    wait_s: float
    """From now to the reset, plus the margin."""
    allowed: bool
    """Waiting is on (no ``--no-wait``) and the wait is within the bound."""


def plan_reset_wait(
    book: QuotaBook,
    names: Sequence[str],
    wall: float,
    *,
    max_wait_s: float,
    waiting: bool = True,
    margin_s: float = RESET_MARGIN_S,
) -> ResetWait | None:
    """The wait for the first of ``names`` (in the user's order) to reset; None when none of
    them is known to be exhausted (nothing to wait for)."""
    earliest = book.earliest_reset(names, wall)
    if earliest is None:
        return None
    profile, resets_at = earliest
    wait_s = resets_at - wall + margin_s
    return ResetWait(profile, resets_at, wait_s, allowed=waiting and wait_s <= max_wait_s)


def reset_note(wait: ResetWait, wall: float, *, max_wait_s: float, waiting: bool) -> str:
    """Why a known reset is not waited for, naming it: a clause for the reason shown."""
    resets = (
        f"the usage limit of profile {wait.profile!r} resets at {clock_time(wait.resets_at, wall)}"
    )
    if not waiting:
        return f"{resets} (not waiting: --no-wait)"
    if max_wait_s <= 0:
        return f"{resets} (not waiting: max_reset_wait_h is 0)"
    return (
        f"{resets}, in {duration(wait.resets_at - wall)}: longer than the "
        f"{duration(max_wait_s)} max_reset_wait_h allows"
    )
