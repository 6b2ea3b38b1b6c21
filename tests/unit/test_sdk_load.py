"""The SDK is loaded without the MCP server stacks agent-tui never uses, and in full when
that is not possible; either way a later ``import mcp`` is the real library."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

HEAVY = ("mcp", "jsonschema", "starlette", "uvicorn", "httpx", "opentelemetry", "cryptography")


def fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_sdk_loads_without_the_mcp_server_stacks_and_mcp_stays_importable():
    out = fresh_python(
        f"""
        import sys
        from agent_tui.engine.agents.claude.messages import sdk
        claude = sdk()
        heavy = sorted(n for n in sys.modules if n.partition(".")[0] in {HEAVY!r})
        print("heavy", heavy)
        print("has", all(hasattr(claude, n) for n in
              ("ClaudeSDKClient", "ClaudeAgentOptions", "AssistantMessage", "ResultMessage",
               "TextBlock", "ToolUseBlock", "ToolResultBlock", "RateLimitEvent")))
        options = claude.ClaudeAgentOptions(max_budget_usd=1.0, permission_mode="acceptEdits")
        print("options", options.max_budget_usd)
        try:
            claude.create_sdk_mcp_server("x", tools=[])
        except RuntimeError as exc:
            print("refused", "without in-process MCP servers" in str(exc))
        import mcp.types
        print("real", mcp.types.Tool.__module__.startswith("mcp"))
        """
    )
    assert "heavy []" in out
    assert "has True" in out
    assert "options 1.0" in out
    assert "refused True" in out  # no silent stand-in: it says why
    assert "real True" in out


@pytest.mark.parametrize("left_out", ["('mcp', 'mcp.types')", "()"])
def test_an_sdk_that_no_longer_loads_that_way_is_imported_in_full(left_out):
    # Stand-ins for too few names make the SDK's import fail half way (another version
    # would): the half-loaded modules go and the SDK is imported as it is.
    out = fresh_python(
        f"""
        import sys
        from agent_tui.engine.agents.claude import messages
        messages.LEFT_OUT = {left_out}
        claude = messages.sdk()
        print("client", hasattr(claude, "ClaudeSDKClient"))
        print("mcp", type(sys.modules["mcp"]).__name__)
        """
    )
    assert "client True" in out
    assert "mcp module" in out  # the real package, not a stand-in
