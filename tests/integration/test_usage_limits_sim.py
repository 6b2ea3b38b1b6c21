"""Usage limits through the real CLI: the sim sends the unified rate-limit headers, the CLI
turns them into RateLimitEvent (it does so only for an OAuth bearer), the loop keeps each
profile's window and waits out, or moves past, a limit with a known reset."""

from __future__ import annotations

import time

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.clock import RealClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import QuotaStatus
from tests.integration.helpers import coder_steps, plan_doc, script
from tests.integration.test_profiles_sim import TOKENS, two_profiles

HOUR = 3600.0
OAUTH_ENV = "AGENT_TUI_TEST_OAUTH"
OAUTH_TOKEN = "sk-ant-oat01-usage-limit-test-token"


def rejected(resets_in_s: float = HOUR) -> dict:
    return {
        "error": "rate_limit",
        "quota": {"status": "rejected", "utilization": 1.0, "resets_in_s": resets_in_s},
    }


def with_quota(steps: list[dict], **quota) -> list[dict]:
    return [{**step, "quota": quota} for step in steps]


def one_oauth_profile(tmp_path) -> ProfileStore:
    config_dir = tmp_path / "claude-one"
    config_dir.mkdir()
    profile = Profile(name="one", config_dir=str(config_dir), token_env=OAUTH_ENV)
    return ProfileStore.in_memory([profile], active="one")


def waits_for_reset(run) -> list[ev.BackoffStarted]:
    return [e for e in run.of(ev.BackoffStarted) if e.resets_at is not None]


async def test_each_profiles_window_is_kept_on_disk(make_run, tmp_path):
    quota_file = tmp_path / "state" / "quota.json"
    on_b = with_quota(coder_steps("1.1"), status="allowed", utilization=0.25)
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[rejected()], on_b])],
        profiles=two_profiles(tmp_path),
        environ={},
        auto_switch=True,
        quota_file=quota_file,
    )
    before = time.time()
    await run.go()

    assert run.exit_code == 0
    book = QuotaBook.load(quota_file)
    a, b = book.get("a"), book.get("b")
    assert (a.status, a.window) == (QuotaStatus.REJECTED, "five_hour")
    assert before + HOUR <= a.resets_at <= time.time() + HOUR + 1
    assert (b.status, b.window, b.utilization) == (QuotaStatus.ALLOWED, "five_hour", 0.25)
    reported = [(q.profile, q.status) for q in run.of(ev.QuotaUpdated)]
    assert reported[0] == ("a", QuotaStatus.REJECTED)
    assert set(reported[1:]) == {("b", QuotaStatus.ALLOWED)}


async def test_a_warning_on_success_is_recorded_with_its_share_used(make_run, tmp_path):
    quota_file = tmp_path / "quota.json"
    steps = with_quota(coder_steps("1.1"), status="allowed_warning", utilization=0.91)
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [steps])],
        profiles=one_oauth_profile(tmp_path),
        environ={OAUTH_ENV: OAUTH_TOKEN},
        quota_file=quota_file,
    )
    await run.go()

    assert run.exit_code == 0
    assert {r.bearer for r in run.sim.requests} == {OAUTH_TOKEN}
    kept = QuotaBook.load(quota_file).get("one")
    assert (kept.status, kept.window, kept.utilization) == (QuotaStatus.WARNING, "five_hour", 0.91)


async def test_an_api_key_gets_no_window_from_the_cli(make_run, tmp_path):
    steps = with_quota(coder_steps("1.1"), status="allowed_warning", utilization=0.91)
    run = make_run(plan_doc([("1", [], ["1.1"])]), [script("1.1", [steps])])
    await run.go()
    assert run.exit_code == 0
    assert not run.of(ev.QuotaUpdated)  # the default profile sends an API key


async def test_one_profile_waits_until_the_reset_and_completes(make_run, tmp_path):
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[rejected()], coder_steps("1.1")])],
        profiles=one_oauth_profile(tmp_path),
        environ={OAUTH_ENV: OAUTH_TOKEN},
    )
    await run.go()

    assert run.exit_code == 0
    waits = waits_for_reset(run)
    assert len(waits) == 1 and waits[0].kind == "rate_limit"
    assert waits[0].delay_s == pytest.approx(HOUR + 30, abs=10)
    assert [e.reason for e in run.of(ev.BackoffEnded)] == ["elapsed"]
    wait_at = run.events.index(waits[0])
    sessions = [i for i, e in enumerate(run.events) if isinstance(e, ev.SessionStarted)]
    assert len(sessions) == 2 and sessions[0] < wait_at < sessions[1]
    assert run.clock.wall() >= waits[0].resets_at  # the second session came after it
    assert run.statuses() == {"1.1": "completed"}


async def test_a_short_real_reset_is_waited_out_on_the_real_clock(make_run, tmp_path):
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[rejected(resets_in_s=2)], coder_steps("1.1")])],
        profiles=one_oauth_profile(tmp_path),
        environ={OAUTH_ENV: OAUTH_TOKEN},
        clock=RealClock(),
        reset_margin_s=0.2,
    )
    started_at: list[float] = []

    def note_sessions(events):
        if isinstance(events[-1], ev.SessionStarted):
            started_at.append(time.time())

    run.on_event = note_sessions
    await run.go()

    assert run.exit_code == 0
    (wait,) = waits_for_reset(run)
    assert 0 < wait.delay_s <= 3.5
    assert started_at[1] >= wait.resets_at  # really after the reset, not before
    assert [e.reason for e in run.of(ev.BackoffEnded)] == ["elapsed"]


async def test_with_two_profiles_b_goes_on_and_a_is_not_tried_before_its_reset(make_run, tmp_path):
    run = make_run(
        plan_doc([("1", [], ["1.1", "1.2"])]),
        [
            script("1.1", [[rejected()], coder_steps("1.1")]),
            script("1.2", [[{"error": "rate_limit"}], coder_steps("1.2")]),
        ],
        profiles=two_profiles(tmp_path),
        environ={},
        auto_switch=True,
    )
    await run.go()

    assert run.exit_code == 0
    bearers = [r.bearer for r in run.sim.requests if r.script]
    first_b = bearers.index(TOKENS["b"])
    assert set(bearers[:first_b]) == {TOKENS["a"]}
    assert [(s.from_, s.to, s.reason) for s in run.of(ev.ProfileSwitched)] == [
        ("a", "b", "rate_limit"),
        ("b", "a", "usage limit reset"),
    ]
    # b's plain 429 left no profile open: the run waited for a's reset, then went back to a.
    (wait,) = waits_for_reset(run)
    back_to_a = run.events.index(run.of(ev.ProfileSwitched)[1])
    assert run.events.index(wait) < back_to_a
    assert [s.profile for s in run.of(ev.SessionStarted)] == ["a", "b", "b", "a"]
    assert run.statuses() == {"1.1": "completed", "1.2": "completed"}


async def test_a_rerun_during_the_window_waits_without_a_session(make_run, tmp_path):
    quota_file = tmp_path / "state" / "quota.json"
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[rejected()], coder_steps("1.1")])],
        profiles=one_oauth_profile(tmp_path),
        environ={OAUTH_ENV: OAUTH_TOKEN},
        quota_file=quota_file,
        wait_for_reset=False,
    )
    await run.go()
    assert run.exit_code == 3
    assert "(not waiting: --no-wait)" in run.of(ev.LoopFinished)[-1].message
    requests_before = len(run.sim.requests)

    run.events.clear()
    run.config.wait_for_reset = True
    await run.go()

    assert run.exit_code == 0
    first_wait = run.events.index(waits_for_reset(run)[0])
    first_session = run.events.index(run.of(ev.SessionStarted)[0])
    assert first_wait < first_session  # waited before spending a session
    assert len(run.of(ev.SessionStarted)) == 1
    assert all(r.status == 200 for r in run.sim.requests[requests_before:])
