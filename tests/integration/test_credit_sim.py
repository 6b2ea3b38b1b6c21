"""Used-up credits and spend caps through the real CLI: each wire shape the sim can send,
as the bundled CLI turns it into messages, classified as a credit error (neither retried
nor an auth failure) and acted on: with auto_switch the next profile takes over, without it
the run stops (headless, exit 3) naming the profile and what the CLI said.  A reply billed
to usage credits while a window is used up is no exhausted window."""

from __future__ import annotations

import asyncio
import re

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import Settings
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.agents.claude.session import ClaudeSession
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.clock import RealClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.sandbox.containment import Containment, SandboxCheck
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.helpers import plan_doc, script

KEYS = {"a": "sk-ant-api03-credit-test-key-aaaa", "b": "sk-ant-api03-credit-test-key-bbbb"}
OAUTH = {"a": "sk-ant-oat01-credit-test-token-aaaa", "b": "sk-ant-oat01-credit-test-token-bbbb"}
DAY = 86400
CREDITS_OUT = {
    "status": "rejected",
    "window": "overage",
    "utilization": 1,
    "resets_in_s": 20 * DAY,
    "overage_status": "rejected",
    "overage_resets_in_s": 20 * DAY,
    "overage_disabled_reason": "out_of_credits",
}
SPEND_CAP = {
    "status": "rejected",
    "window": None,
    "resets_in_s": 36000,
    "overage_resets_in_s": 36000,
    "overage_utilization": 1,
    "overage_period": "daily",
    "overage_disabled_reason": "org_spend_cap_reached",
}
SHAPES = {
    # name: (auth, the first session's step, extra env, what the CLI's message says)
    "credit balance too low (API key)": ("key", {"error": "credit_balance"}, {}, "Credit balance"),
    "credit balance too low (OAuth)": ("oauth", {"error": "credit_balance"}, {}, "Credit balance"),
    "credit balance, HTTP 402": ("key", {"error": "credit_balance_402"}, {}, "Credit balance"),
    "prepaid credits, HTTP 402": ("key", {"error": "payment_required"}, {}, "402 Payment"),
    "out of usage credits": (
        "oauth",
        {"error": "out_of_credits", "quota": CREDITS_OUT},
        {},
        "out of usage credits",
    ),
    "usage credits required": (
        "oauth",
        {"error": "credits_required", "quota": CREDITS_OUT},
        {},
        "out of usage credits",
    ),
    "individual spend limit": (
        "oauth",
        {
            "error": "out_of_credits",
            "quota": {**CREDITS_OUT, "overage_disabled_reason": "org_spend_cap_reached"},
        },
        {},
        "spend limit",
    ),
    "team's pooled budget": (
        "oauth",
        {
            "error": "out_of_credits",
            "quota": {
                **CREDITS_OUT,
                "overage_disabled_reason": "org_level_disabled_until",
                "overage_scope": "group_pool",
            },
        },
        {},
        "pooled group budget",
    ),
    "organisation paused": (
        "oauth",
        {"error": "out_of_credits", "quota": {**CREDITS_OUT, "daily_cap_paused": True}},
        {},
        "Usage is paused",
    ),
    "gateway spend cap (OAuth)": (
        "oauth",
        {"error": "spend_cap", "quota": SPEND_CAP},
        {},
        "spend limit reached",
    ),
    "gateway spend cap (API key)": ("key", {"error": "spend_cap"}, {}, "spend limit reached"),
    "workspace spend limit": ("key", {"error": "workspace_spend_limit"}, {}, "API usage limits"),
    "credits run out mid-reply, the retry refused": (
        "oauth",
        {"fault": "credits_ran_out", "fallback": "out_of_credits", "quota": CREDITS_OUT},
        {},
        "out of usage credits",
    ),
    "credits run out mid-reply, no retry": (
        "oauth",
        {"fault": "credits_ran_out"},
        {"CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK": "1"},
        "Usage credits ran out",
    ),
}


def profiles(tmp_path, auth: str, names=("a", "b")) -> tuple[ProfileStore, dict[str, str]]:
    tokens = KEYS if auth == "key" else OAUTH
    made, environ = [], {}
    for name in names:
        config_dir = tmp_path / f"claude-{name}"
        config_dir.mkdir()
        made.append(Profile(name=name, config_dir=str(config_dir), token_env=f"CREDIT_{name}"))
        environ[f"CREDIT_{name}"] = tokens[name]
    return ProfileStore.in_memory(made, active="a"), environ


def done(subtask_id: str) -> list[dict]:
    """A short session that completes its subtask (the CLI edits only a file it has read)."""
    return [
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": f"Done with {subtask_id}."},
    ]


async def one_session(tmp_path, sim: SimServer, shape: str) -> tuple[SessionOutcome, list]:
    """A session of the real CLI against ``sim``, whose script for ``shape`` answers it."""
    auth, _, extra_env, _ = SHAPES[shape]
    home = tmp_path / shape.replace(" ", "_")
    project = home / "project"
    spec_dir = project / "spec"
    spec_dir.mkdir(parents=True)
    token = (KEYS if auth == "key" else OAUTH)["a"]
    env = {
        "ANTHROPIC_BASE_URL": sim.base_url,
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / "claude"),
        "ANTHROPIC_API_KEY": token if auth == "key" else "",
        "CLAUDE_CODE_OAUTH_TOKEN": token if auth == "oauth" else "",
        **extra_env,
    }
    containment = Containment.build(
        Settings(containment="off"), ProfileStore.in_memory([]), project, spec_dir,
        SandboxCheck(()), env,
    )  # fmt: skip
    spec = SessionSpec(
        number=1,
        kind="coder",
        subtask_id="1.1",
        prompt=f"Shape: {shape}.",
        cwd=project,
        env=env,
        transcript_path=spec_dir / "session-001.jsonl",
        guard=Guard(project, None),
        containment=containment,
        model="claude-sonnet-4-5",
        idle_timeout_s=60,
        profile="a",
    )
    events: list = []

    async def sink(event) -> None:
        events.append(event)

    return await ClaudeSession(spec, sink, RealClock()).run(), events


async def test_each_credit_shape_is_a_credit_error_with_the_clis_words(tmp_path):
    scripts = [{"match": re.escape(f"Shape: {s}."), "sessions": [[SHAPES[s][1]]]} for s in SHAPES]
    at_once = asyncio.Semaphore(4)

    async def classified(shape: str) -> tuple[str, bool, tuple | None]:
        async with at_once:
            outcome, events = await one_session(tmp_path, sim, shape)
        quotas = [(e.status, e.window) for e in events if isinstance(e, ev.QuotaUpdated)]
        said = SHAPES[shape][3] in outcome.message
        return outcome.error_kind, said, quotas[-1] if quotas else None

    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:
        found = await asyncio.gather(*(classified(shape) for shape in SHAPES))
        by_shape = dict(zip(SHAPES, found, strict=True))
    rejected = (QuotaStatus.REJECTED, "overage")
    expected = {
        shape: (ErrorKind.CREDIT, True, rejected if "quota" in step else None)
        for shape, (_, step, _, _) in SHAPES.items()
    }
    assert by_shape == expected
    assert len({r.session_id for r in sim.requests}) == len(SHAPES)  # one session each
    assert all(r.status != 200 for r in sim.requests if r.script and not r.streamed)


@pytest.mark.parametrize(
    ("shape", "auth_tokens"),
    [("out of usage credits", OAUTH), ("credit balance too low (API key)", KEYS)],
)
async def test_a_credit_error_hands_over_to_the_next_profile(
    make_run, tmp_path, shape, auth_tokens
):
    auth, step, extra_env, said = SHAPES[shape]
    store, environ = profiles(tmp_path, auth)
    quota_file = tmp_path / "quota.json"
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[step], done("1.1")])],
        profiles=store,
        environ=environ,
        auto_switch=True,
        quota_file=quota_file,
        extra_env=extra_env,
    )
    await run.go()

    assert run.exit_code == 0
    first, second = run.of(ev.SessionEnded)
    assert (first.outcome, first.error_kind) == ("error", "credit")
    assert said in first.message
    assert (second.outcome, second.error_kind) == ("success", None)
    assert [(s.from_, s.to, s.reason) for s in run.of(ev.ProfileSwitched)] == [("a", "b", "credit")]
    assert not run.of(ev.BackoffStarted)  # never retried into the same wall
    used = [r.api_key or r.bearer for r in run.sim.requests if r.script]
    assert used[0] == auth_tokens["a"] and set(used[1:]) == {auth_tokens["b"]}
    assert run.statuses() == {"1.1": "completed"}
    kept = QuotaBook.load(quota_file).get("a")
    assert (kept.status, kept.window) == (QuotaStatus.REJECTED, "overage")
    assert run.loop.history.attempts("1.1")[0]["error_kind"] == "credit"
    assert run.loop.history.attempt_count("1.1", interrupted=False) == 0  # not the subtask's


async def test_with_no_other_profile_the_run_stops_naming_the_credit(make_run, tmp_path):
    store, environ = profiles(tmp_path, "oauth", names=("a",))
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[{"error": "out_of_credits", "quota": CREDITS_OUT}], done("1.1")])],
        profiles=store,
        environ=environ,
    )
    await run.go()

    assert run.exit_code == 3
    message = run.of(ev.LoopFinished)[-1].message
    assert message.startswith("out of credit on profile 'a': You're out of usage credits")
    assert "reason: out_of_credits" in message and "add credits" in message
    assert len(run.of(ev.SessionStarted)) == 1 and not run.of(ev.BackoffStarted)
    assert run.statuses() == {"1.1": "pending"}


async def test_a_reply_billed_to_usage_credits_is_no_exhausted_window(make_run, tmp_path):
    store, environ = profiles(tmp_path, "oauth", names=("a",))
    on_credits = {
        "status": "rejected",
        "window": "five_hour",
        "utilization": 1,
        "resets_in_s": 3 * 3600,
        "overage_status": "allowed",
        "overage_in_use": True,
        "overage_resets_in_s": 20 * DAY,
    }
    quota_file = tmp_path / "quota.json"
    run = make_run(
        plan_doc([("1", [], ["1.1", "1.2"])]),
        [script(s, [[{**step, "quota": on_credits} for step in done(s)]]) for s in ("1.1", "1.2")],
        profiles=store,
        environ=environ,
        quota_file=quota_file,
    )
    await run.go()

    assert run.exit_code == 0
    assert not run.of(ev.BackoffStarted)  # the second session did not wait for a reset
    kept = QuotaBook.load(quota_file).get("a")
    assert (kept.status, kept.window) == (QuotaStatus.ALLOWED, "overage")
    assert kept.exhausted_until(run.clock.wall()) is None
