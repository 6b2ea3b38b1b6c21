"""What a session reports of its spend as it goes (an estimate per API reply), and how its
context's growth with no file changed stops it as a runaway."""

from __future__ import annotations

import pytest
from claude_agent_sdk import AssistantMessage, ResultMessage, TextBlock, ToolUseBlock

from agent_tui.engine.agents.claude.session import ClaudeSession
from agent_tui.engine.agents.runaway import RunawayLimits
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events.spend import SessionSpend
from agent_tui.engine.failures.kinds import ErrorKind
from tests.unit.test_credit_signals import spec_for


def reply(n: int, context: int, *blocks) -> list[AssistantMessage]:
    """One API reply: the SDK gives each of its blocks as a message, with the same usage."""
    usage = {"input_tokens": 100, "cache_read_input_tokens": context - 100, "output_tokens": 1}
    return [
        AssistantMessage(content=[block], model="claude-sonnet-4-5", usage=usage,
                         message_id=f"msg_{n}")
        for block in blocks
    ]  # fmt: skip


class Client:
    def __init__(self, messages) -> None:
        self.messages = messages
        self.interrupted = False

    def __call__(self, options):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> bool:
        return False

    async def query(self, prompt: str) -> None:
        pass

    async def interrupt(self) -> None:
        self.interrupted = True

    async def receive_response(self):
        for message in self.messages:
            if self.interrupted:
                break
            yield message
        yield ResultMessage(
            subtype="error_during_execution" if self.interrupted else "success",
            duration_ms=1, duration_api_ms=1, is_error=self.interrupted, num_turns=1,
            session_id="s", total_cost_usd=0.0123, result="done",
            terminal_reason="aborted_streaming" if self.interrupted else "completed",
        )  # fmt: skip


async def run(tmp_path, messages, runaway=None):
    spec = spec_for(tmp_path)
    spec.runaway = runaway
    events = []

    async def sink(event):
        events.append(event)

    client = Client(messages)
    outcome = await ClaudeSession(spec, sink, VirtualClock(), client_factory=client).run()
    return outcome, [e for e in events if isinstance(e, SessionSpend)], client


def tool(n: int) -> ToolUseBlock:
    return ToolUseBlock(id=f"t{n}", name="Read", input={"file_path": f"f{n}"})


async def test_each_reply_adds_its_usage_once_to_the_estimate(tmp_path):
    messages = [*reply(1, 1000, TextBlock("a"), tool(1)), *reply(2, 3000, TextBlock("b"))]
    outcome, spends, _ = await run(tmp_path, messages)
    assert [(s.input_tokens, s.output_tokens) for s in spends] == [(1000, 1), (4000, 2)]
    # sonnet: $3 per Mtok of fresh input, a tenth of it for cache reads, $15 per Mtok out
    first = (100 * 3 + 900 * 0.3 + 1 * 15) / 1_000_000
    assert spends[0].cost_usd == pytest.approx(first)
    assert outcome.ok and outcome.cost_usd == 0.0123  # the CLI's own figure at the end


async def test_a_context_growing_with_no_file_changed_stops_the_session(tmp_path):
    messages = [m for n in range(1, 6) for m in reply(n, 10_000 * n, tool(n))]
    outcome, spends, client = await run(
        tmp_path, messages, RunawayLimits(repeats=0, token_growth=25_000)
    )
    assert client.interrupted
    assert (outcome.outcome, outcome.error_kind) == ("error", ErrorKind.RUNAWAY)
    assert outcome.message == (
        "runaway: its context grew by 30,000 tokens (to 40,000 per turn) with no file changed"
    )
    assert len(spends) == 4  # the fifth reply never came
