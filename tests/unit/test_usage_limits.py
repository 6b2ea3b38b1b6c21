"""Usage limits in the loop, on virtual time: wait for a known reset, move on to an open
profile, never back to an exhausted one, and know it all again in a new run."""

from __future__ import annotations

import asyncio

import pytest

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.reset_wait import RESET_MARGIN_S
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from tests.unit.loop_harness import make_setup, mark_completed, of

HOUR = 3600.0
LIMITED = SessionOutcome(
    outcome="error",
    error_kind=ErrorKind.RATE_LIMIT,
    message="You've hit your 5-hour limit · resets 7:00pm (UTC)",
)


@pytest.fixture
def setup(tmp_path, utc):
    return make_setup(tmp_path)


def rejected(spec, clock, resets_in: float = HOUR) -> ev.QuotaUpdated:
    quota = Quota(
        status=QuotaStatus.REJECTED,
        window="five_hour",
        utilization=1.0,
        resets_at=clock.wall() + resets_in,
        seen_at=clock.wall(),
    )
    return ev.QuotaUpdated.of(spec.profile, quota)


class Account:
    """Each profile's window: a session on an exhausted one is refused with a rejection."""

    def __init__(self, clock: VirtualClock, plan_path) -> None:
        self.clock = clock
        self.plan_path = plan_path
        self.closed_until: dict[str, float] = {}
        self.sessions: list[tuple[str, float]] = []
        """(profile, wall time) of every session that ran."""

    def exhaust(self, profile: str, resets_in: float) -> None:
        self.closed_until[profile] = self.clock.wall() + resets_in

    def reports(self, spec, n):
        until = self.closed_until.get(spec.profile, 0.0)
        if self.clock.wall() < until:
            return [rejected(spec, self.clock, until - self.clock.wall())]
        return []

    def behaviour(self, spec, n):
        self.sessions.append((spec.profile, self.clock.wall()))
        if self.clock.wall() < self.closed_until.get(spec.profile, 0.0):
            return LIMITED
        mark_completed(self.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")


def run_with(setup, account: Account, **config):
    loop, sessions = setup(account.behaviour, clock=account.clock, **config)
    sessions.reports = account.reports
    return loop, sessions


def account_for(setup) -> Account:
    return Account(VirtualClock(), setup.spec_dir / "implementation_plan.json")


async def test_one_profile_waits_for_the_reset_then_completes(setup):
    account = account_for(setup)
    account.exhaust("a", HOUR)
    start = account.clock.wall()
    loop, _ = run_with(setup, account)
    assert await loop.run() == 0
    waits = [e for e in of(setup.events, ev.BackoffStarted) if e.resets_at is not None]
    assert len(waits) == 1
    assert waits[0].kind == "rate_limit" and waits[0].resets_at == start + HOUR
    assert waits[0].delay_s == pytest.approx(HOUR + RESET_MARGIN_S)
    assert waits[0].reset_text() == "19:00"
    assert [p for p, _ in account.sessions] == ["a", "a", "a"]
    assert account.sessions[1][1] >= start + HOUR  # the second session came after the reset
    assert [e.reason for e in of(setup.events, ev.BackoffEnded)] == ["elapsed"]
    quota = [e for e in of(setup.events, ev.QuotaUpdated)]
    assert [(q.profile, q.status) for q in quota] == [("a", QuotaStatus.REJECTED)]


async def test_no_wait_stops_at_once_naming_the_reset(setup):
    account = account_for(setup)
    account.exhaust("a", HOUR)
    loop, _ = run_with(setup, account, wait_for_reset=False, pause_on_problem=False)
    assert await loop.run() == 3
    finished = of(setup.events, ev.LoopFinished)[-1]
    assert finished.outcome == "stopped"
    assert finished.message.endswith(
        "the usage limit of profile 'a' resets at 19:00 (not waiting: --no-wait)"
    )
    assert not [e for e in of(setup.events, ev.BackoffStarted)]


async def test_a_reset_past_the_bound_stops_and_names_it(setup):
    account = account_for(setup)
    account.exhaust("a", 8 * HOUR)
    loop, _ = run_with(setup, account, max_reset_wait_s=6 * HOUR, pause_on_problem=False)
    assert await loop.run() == 3
    finished = of(setup.events, ev.LoopFinished)[-1]
    assert finished.message.endswith(
        "the usage limit of profile 'a' resets at 02:00, in 8 h 00 min: "
        "longer than the 6 h 00 min max_reset_wait_h allows"
    )
    assert len(account.sessions) == 1


async def test_with_two_profiles_b_is_used_and_a_is_not_tried_before_its_reset(setup):
    account = account_for(setup)
    start = account.clock.wall()
    account.exhaust("a", HOUR)
    real_behaviour = account.behaviour

    def behaviour(spec, n):
        outcome = real_behaviour(spec, n)
        if spec.profile == "b" and outcome.ok:
            account.exhaust("b", 3 * HOUR)  # b's first success uses up its window too
        return outcome

    account.behaviour = behaviour
    loop, _ = run_with(setup, account, auto_switch=True)
    assert await loop.run() == 0
    assert [p for p, _ in account.sessions] == ["a", "b", "b", "a"]
    on_a = [wall for profile, wall in account.sessions if profile == "a"]
    assert on_a[0] == start and on_a[1] >= start + HOUR
    switches = [(s.from_, s.to, s.reason) for s in of(setup.events, ev.ProfileSwitched)]
    assert switches == [("a", "b", "rate_limit"), ("b", "a", "usage limit reset")]
    waits = [e for e in of(setup.events, ev.BackoffStarted) if e.resets_at is not None]
    assert [w.resets_at for w in waits] == [start + HOUR]  # a's, the earliest, not b's


async def test_a_new_run_knows_a_profile_is_exhausted_and_waits_before_any_session(setup, tmp_path):
    account = account_for(setup)
    quota_file = tmp_path / "state" / "quota.json"
    start = account.clock.wall()
    QuotaBook.load(quota_file).record(
        "a", Quota(status=QuotaStatus.REJECTED, window="five_hour", resets_at=start + HOUR)
    )
    loop, _ = run_with(setup, account, quota_file=quota_file)
    assert await loop.run() == 0
    assert account.sessions[0][1] >= start + HOUR  # no session spent to learn the limit
    assert [p for p, _ in account.sessions] == ["a", "a"]
    assert [e.resets_at for e in of(setup.events, ev.BackoffStarted)] == [start + HOUR]


async def test_a_new_run_with_auto_switch_starts_on_an_open_profile(setup, tmp_path):
    account = account_for(setup)
    quota_file = tmp_path / "quota.json"
    QuotaBook.load(quota_file).record(
        "a", Quota(status=QuotaStatus.REJECTED, resets_at=account.clock.wall() + HOUR)
    )
    loop, _ = run_with(setup, account, quota_file=quota_file, auto_switch=True)
    assert await loop.run() == 0
    assert [p for p, _ in account.sessions] == ["b", "b"]
    assert [(s.to, s.reason) for s in of(setup.events, ev.ProfileSwitched)] == [
        ("b", "usage limit")
    ]
    assert not of(setup.events, ev.BackoffStarted)


async def test_what_a_session_reports_is_kept_per_profile_on_disk(setup, tmp_path):
    account = account_for(setup)
    quota_file = tmp_path / "quota.json"

    def reports(spec, n):
        quota = Quota(
            status=QuotaStatus.WARNING, window="five_hour", utilization=0.5 + n / 10,
            resets_at=account.clock.wall() + HOUR, seen_at=account.clock.wall(),
        )  # fmt: skip
        return [ev.QuotaUpdated.of(spec.profile, quota)]

    loop, sessions = setup(account.behaviour, clock=account.clock, quota_file=quota_file)
    sessions.reports = reports
    assert await loop.run() == 0
    kept = QuotaBook.load(quota_file).get("a")
    assert kept.status == QuotaStatus.WARNING and kept.utilization == pytest.approx(0.7)
    assert loop.quota_of("a") == kept and loop.quota_of("b") is None


async def test_past_the_warning_threshold_the_next_session_moves_to_more_headroom(setup):
    account = account_for(setup)

    def reports(spec, n):
        used = {"a": 0.95, "b": 0.2}[spec.profile]
        quota = Quota(status=QuotaStatus.WARNING, window="five_hour", utilization=used)
        return [ev.QuotaUpdated.of(spec.profile, quota)]

    loop, sessions = setup(account.behaviour, clock=account.clock, auto_switch=True)
    sessions.reports = reports
    assert await loop.run() == 0
    assert [p for p, _ in account.sessions] == ["a", "b"]
    assert [(s.to, s.reason) for s in of(setup.events, ev.ProfileSwitched)] == [("b", "5h at 95%")]


async def test_below_the_threshold_or_without_auto_switch_the_profile_stays(setup):
    account = account_for(setup)

    def reports(spec, n):
        quota = Quota(status=QuotaStatus.WARNING, window="five_hour", utilization=0.8)
        return [ev.QuotaUpdated.of(spec.profile, quota)]

    loop, sessions = setup(account.behaviour, clock=account.clock, auto_switch=True)
    sessions.reports = reports
    assert await loop.run() == 0
    assert [p for p, _ in account.sessions] == ["a", "a"]
    assert not of(setup.events, ev.ProfileSwitched)


async def test_a_rate_limit_the_cli_gave_no_window_for_is_a_rejection_with_no_reset(setup):
    loop, sessions = setup(lambda spec, n: LIMITED, pause_on_problem=False)
    assert await loop.run() == 3  # nothing to wait for: the user is needed, as before
    assert len(sessions.specs) == 1
    quota = of(setup.events, ev.QuotaUpdated)
    assert [(q.profile, q.status, q.resets_at) for q in quota] == [
        ("a", QuotaStatus.REJECTED, None)
    ]
    assert loop.quota_of("a").status == QuotaStatus.REJECTED
    finished = of(setup.events, ev.LoopFinished)[-1]
    assert finished.message == (
        "rate limited on profile 'a': You've hit your 5-hour limit · resets 7:00pm (UTC)"
    )


async def test_a_stop_during_the_wait_for_a_reset_ends_the_run(setup):
    account = Account(VirtualClock(auto_advance=False), setup.spec_dir / "implementation_plan.json")
    account.exhaust("a", HOUR)
    loop, _ = run_with(setup, account)

    async def stop_when_waiting():
        while account.clock.sleepers == 0:
            await asyncio.sleep(0)
        loop.stop("stopped by the user")

    stopper = asyncio.ensure_future(stop_when_waiting())
    assert await loop.run() == 130
    await stopper
    assert [e.reason for e in of(setup.events, ev.BackoffEnded)] == ["stopped"]
    assert len(account.sessions) == 1
