"""Profiles through the real CLI: each session carries its own profile's bearer token."""

from __future__ import annotations

import json
import time

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.events import core as ev
from tests.integration.helpers import coder_steps, plan_doc, script

TOKENS = {"a": "sk-ant-oat01-profileA-aaaaaaaaaaaa", "b": "sk-ant-oat01-profileB-bbbbbbbbbbbb"}


def two_profiles(tmp_path) -> ProfileStore:
    profiles = []
    for name, token in TOKENS.items():
        config_dir = tmp_path / f"claude-{name}"
        config_dir.mkdir()
        payload = {
            "claudeAiOauth": {
                "accessToken": token,
                "refreshToken": "sk-ant-ort01-x",
                "expiresAt": int((time.time() + 3600) * 1000),
                "scopes": ["user:inference"],
            }
        }
        (config_dir / ".credentials.json").write_text(json.dumps(payload))
        profiles.append(Profile(name=name, config_dir=str(config_dir)))
    return ProfileStore.in_memory(profiles, active="a")


async def test_a_switch_between_sessions_changes_the_bearer(make_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = make_run(
        plan,
        [script(s, [coder_steps(s)]) for s in ("1.1", "1.2")],
        profiles=two_profiles(tmp_path),
        environ={},
    )
    switched = False

    def switch_on_first_session(events):
        nonlocal switched
        if not switched and any(isinstance(e, ev.SessionStarted) for e in events):
            run.loop.switch_profile("b")
            switched = True

    run.on_event = switch_on_first_session
    await run.go()

    assert run.exit_code == 0
    first = run.sim.requests_for(r"Subtask ID: 1\.1\b")
    second = run.sim.requests_for(r"Subtask ID: 1\.2\b")
    assert first and {r.bearer for r in first} == {TOKENS["a"]}
    assert second and {r.bearer for r in second} == {TOKENS["b"]}
    assert all(r.api_key is None for r in first + second)
    assert [(s.from_, s.to, s.reason) for s in run.of(ev.ProfileSwitched)] == [("a", "b", "user")]
    assert [s.profile for s in run.of(ev.SessionStarted)] == ["a", "b"]


async def test_a_rate_limit_on_a_continues_on_b_with_auto_switch(make_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = make_run(
        plan,
        [script("1.1", [[{"error": "rate_limit"}], coder_steps("1.1")])],
        profiles=two_profiles(tmp_path),
        environ={},
        auto_switch=True,
    )
    await run.go()

    assert run.exit_code == 0
    requests = run.sim.requests_for(r"Subtask ID: 1\.1\b")
    assert requests[0].status == 429 and requests[0].bearer == TOKENS["a"]
    assert {r.bearer for r in requests[1:]} == {TOKENS["b"]}
    assert [(s.from_, s.to, s.reason) for s in run.of(ev.ProfileSwitched)] == [
        ("a", "b", "rate_limit")
    ]
    assert not run.of(ev.BackoffStarted)
    assert run.statuses() == {"1.1": "completed"}


async def test_no_usable_profile_stops_headless_with_the_reason(make_run, tmp_path):
    store = ProfileStore.in_memory(
        [Profile(name="empty", config_dir=str(tmp_path / "none"))], "empty"
    )
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [coder_steps("1.1")])],
        profiles=store,
        environ={},
    )
    await run.go()
    assert run.exit_code == 3
    finished = run.of(ev.LoopFinished)[-1]
    assert "no credentials for profile 'empty'" in finished.message
    assert not run.sim.requests


async def test_repeated_429_retries_inside_the_cli_switch_early(make_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = make_run(
        plan,
        [script("1.1", [[{"error": "rate_limit"}], coder_steps("1.1")])],
        profiles=two_profiles(tmp_path),
        environ={},
        auto_switch=True,
        extra_env={"CLAUDE_CODE_MAX_RETRIES": "8"},
    )
    await run.go()

    assert run.exit_code == 0
    first_session = [
        r for r in run.sim.requests_for(r"Subtask ID: 1\.1\b") if r.bearer == TOKENS["a"]
    ]
    assert 3 <= len(first_session) <= 5  # gave up after 3 CLI retries, not all 8
    ended = run.of(ev.SessionEnded)
    assert (ended[0].outcome, ended[0].error_kind) == ("error", "rate_limit")
    assert "retried 3 times" in ended[0].message
    assert [s.reason for s in run.of(ev.ProfileSwitched)] == ["rate_limit"]
    assert run.statuses() == {"1.1": "completed"}
