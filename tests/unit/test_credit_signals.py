"""Every credit, overage and budget shape the bundled CLI was seen to produce (CLI 2.1.331,
through a scripted API: /work/notes/issue-25-credit-signals.md), replayed as the CLI wrote it
through a real ``ClaudeSession``: the kind it ends with, and the usage window it reports.

``data/cli_credit_signals.json`` holds each case's stream-json lines (the large ``init``
line and unused fields left out), read with the SDK's own parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from claude_agent_sdk._internal.message_parser import parse_message

from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import Settings
from agent_tui.engine.agents.claude.session import ClaudeSession
from agent_tui.engine.agents.protocol import SessionSpec
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.sandbox.containment import Containment, SandboxCheck
from agent_tui.engine.sandbox.guard import Guard

CASES = json.loads((Path(__file__).parent / "data" / "cli_credit_signals.json").read_text())
K = ErrorKind
CREDIT_CASES = {
    "billing400_othertext_apikey", "credit400_apikey", "credit400_apikey_retries3",
    "credit400_billingtype_apikey", "credit400_oauth", "credit402_apikey", "pay402_apikey",
    "credits_required_fable", "credits_required_fable_noclaim", "e429_spend_limit_code",
    "gw_spend_cap_apikey", "gw_spend_cap_oauth", "o429_claim_overage",
    "o429_claim_overage_retries3", "o429_credits_required_body", "o429_daily_cap_paused",
    "o429_group_pool", "o429_no_claim", "o429_org_level_disabled_until", "o429_org_spend_cap",
    "stream_credit_text_nofallback", "stream_ooc_fallback429", "stream_ooc_nofallback",
    "stream_ooc_nofallback_before_text",
}  # fmt: skip
RATE_LIMIT_CASES = {
    "gw_fetch_error_oauth",  # the server could not check its counter: transient
    "o429_5h_member_disabled", "o429_5h_ooc_retries3", "o429_5h_out_of_credits",
    "o429_5h_overage_not_provisioned", "o429_5h_plain_retries3",  # a window, not a credit
    "o429_ooc_apikey_retries3", "o429_out_of_credits_apikey",  # an API key is told nothing
    "plain429_oauth_retries3",
}  # fmt: skip
BUDGET_CASES = {c for c in CASES if c.startswith("budget_")}
EXPECTED = {
    **dict.fromkeys(CREDIT_CASES, K.CREDIT),
    **dict.fromkeys(RATE_LIMIT_CASES, K.RATE_LIMIT),
    **dict.fromkeys(BUDGET_CASES, K.BUDGET),
}


class Replay:
    """The SDK client, answering with one recorded case's messages."""

    def __init__(self, lines: list[dict]) -> None:
        self.messages = [parse_message(line) for line in lines]

    def __call__(self, options):
        self.options = options
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> bool:
        return False

    async def query(self, prompt: str) -> None:
        pass

    async def receive_response(self):
        for message in self.messages:
            yield message


def spec_for(tmp_path: Path) -> SessionSpec:
    project = tmp_path / "project"
    spec_dir = project / ".auto-claude" / "specs" / "001"
    spec_dir.mkdir(parents=True, exist_ok=True)
    containment = Containment.build(
        Settings(containment="off"), ProfileStore.in_memory([]), project, spec_dir,
        SandboxCheck(()), {"HOME": str(tmp_path)},
    )  # fmt: skip
    return SessionSpec(
        number=1,
        kind="coder",
        subtask_id="1.1",
        prompt="p",
        cwd=project,
        env={},
        transcript_path=spec_dir / "logs" / "session-001.jsonl",
        guard=Guard(project, None),
        containment=containment,
        profile="a",
        max_budget_usd=0.0001,
    )


async def replay(tmp_path: Path, case: str):
    events: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    client = Replay(CASES[case]["stream"])
    clock = VirtualClock(wall_start=1_796_600_000.0)
    session = ClaudeSession(spec_for(tmp_path), sink, clock, client_factory=client)
    return await session.run(), events, client


def test_every_recorded_case_is_in_the_table():
    successes = {c for c in CASES if c.startswith(("baseline", "cost_", "ok_", "nobudget"))}
    assert set(CASES) == set(EXPECTED) | successes
    assert len(CASES) == 56


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_shape_ends_with_its_kind(tmp_path, case):
    outcome, events, _ = await replay(tmp_path, case)
    expected = EXPECTED.get(case)
    assert outcome.error_kind == expected, CASES[case]["wire"]
    assert outcome.ok == (expected is None)
    if expected is not None:
        errors = [e for e in events if isinstance(e, ev.SessionError)]
        assert errors and errors[-1].error_kind in (expected, K.RATE_LIMIT)


async def test_a_credit_error_keeps_the_clis_sentence_and_adds_the_reason(tmp_path):
    outcome, _, _ = await replay(tmp_path, "o429_org_level_disabled_until")
    assert outcome.message.startswith("You've hit your org's monthly spend limit")
    assert "reason: org_level_disabled_until" in outcome.message
    assert "resets " in outcome.message  # the reset the event gave, which the text lacks


@pytest.mark.parametrize(
    ("case", "status", "window"),
    [
        ("o429_claim_overage", QuotaStatus.REJECTED, "overage"),
        ("gw_spend_cap_oauth", QuotaStatus.REJECTED, "overage"),  # no type: a spend cap
        ("o429_5h_out_of_credits", QuotaStatus.REJECTED, "five_hour"),  # the window's reset
        ("ok_using_overage", QuotaStatus.ALLOWED, "overage"),  # billed to credits: open
        ("ok_overage_warning", QuotaStatus.WARNING, "overage"),
        ("ok_allowed_warning_claim_overage", QuotaStatus.WARNING, "overage"),
        ("ok_allowed_overage_disabled", QuotaStatus.ALLOWED, "five_hour"),
    ],
)
async def test_the_usage_window_each_shape_reports(tmp_path, case, status, window):
    _, events, _ = await replay(tmp_path, case)
    [quota] = [e for e in events if isinstance(e, ev.QuotaUpdated)]
    assert (quota.status, quota.window) == (status, window)


@pytest.mark.parametrize("case", ["plain429_oauth_retries3", "gw_fetch_error_oauth"])
async def test_throttling_is_no_usage_window(tmp_path, case):
    _, events, _ = await replay(tmp_path, case)
    assert not [e for e in events if isinstance(e, ev.QuotaUpdated)]


async def test_a_session_at_its_budget_says_so_and_counts_every_reply(tmp_path):
    outcome, _, client = await replay(tmp_path, "budget_0_01")
    assert client.options.max_budget_usd == 0.0001
    assert outcome.message == (
        "session budget reached: $0.0112 spent of its $0.0001 (session_budget_usd)"
    )
    assert (outcome.cost_usd, outcome.input_tokens, outcome.output_tokens) == (0.01125, 3000, 150)


def test_used_up_credits_are_no_window_to_wait_for():
    from agent_tui.engine.events.quota import Quota

    credits = Quota(status=QuotaStatus.REJECTED, window="overage", resets_at=2e9)
    window = Quota(status=QuotaStatus.REJECTED, window="five_hour", resets_at=2e9)
    assert credits.exhausted_until(1e9) is None  # bought again at any time: tried again
    assert credits.used(1e9) == 1.0  # yet the last a lane or a switch would pick
    assert window.exhausted_until(1e9) == 2e9
