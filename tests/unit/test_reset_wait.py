"""Which reset to wait for, whether the wait is allowed, and how a refusal names it."""

from __future__ import annotations

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.reset_wait import plan_reset_wait, reset_note
from agent_tui.engine.events.quota import Quota, QuotaStatus

NOW = 1_796_148_000.0  # 2026-12-01 18:00 UTC
HOUR = 3600.0


def book(**resets_in: float) -> QuotaBook:
    made = QuotaBook()
    for name, seconds in resets_in.items():
        made.record(name, Quota(status=QuotaStatus.REJECTED, resets_at=NOW + seconds))
    return made


def test_the_wait_is_for_the_first_window_to_open_plus_the_margin():
    wait = plan_reset_wait(book(a=2 * HOUR, b=HOUR), ["a", "b"], NOW, max_wait_s=6 * HOUR)
    assert (wait.profile, wait.resets_at, wait.wait_s) == ("b", NOW + HOUR, HOUR + 30.0)
    assert wait.allowed


def test_nothing_to_wait_for_when_no_profile_is_known_to_be_exhausted():
    assert plan_reset_wait(book(a=HOUR), ["b"], NOW, max_wait_s=6 * HOUR) is None
    assert plan_reset_wait(book(a=-1), ["a"], NOW, max_wait_s=6 * HOUR) is None


def test_a_wait_past_the_bound_or_with_no_wait_is_not_allowed_and_says_why(utc):
    far = plan_reset_wait(book(a=7 * HOUR), ["a"], NOW, max_wait_s=6 * HOUR, margin_s=0)
    assert not far.allowed
    assert reset_note(far, NOW, max_wait_s=6 * HOUR, waiting=True) == (
        "the usage limit of profile 'a' resets at 01:00, in 7 h 00 min: "
        "longer than the 6 h 00 min max_reset_wait_h allows"
    )
    near = plan_reset_wait(book(a=60), ["a"], NOW, max_wait_s=6 * HOUR, waiting=False)
    assert not near.allowed
    assert reset_note(near, NOW, max_wait_s=6 * HOUR, waiting=False) == (
        "the usage limit of profile 'a' resets at 18:01 (not waiting: --no-wait)"
    )


def test_a_bound_of_zero_means_never_wait(utc):
    wait = plan_reset_wait(book(a=60), ["a"], NOW, max_wait_s=0)
    assert not wait.allowed
    assert reset_note(wait, NOW, max_wait_s=0, waiting=True) == (
        "the usage limit of profile 'a' resets at 18:01 (not waiting: max_reset_wait_h is 0)"
    )
