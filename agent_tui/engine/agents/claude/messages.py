"""The SDK, loaded off the event loop, and small readings of its messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agent_tui.engine.agents.protocol import SandboxRefused
from agent_tui.engine.sandbox.containment import SANDBOX_REFUSED

if TYPE_CHECKING:
    from claude_agent_sdk import AssistantMessage, ResultMessage


_loaded: ModuleType | None = None
"""The SDK once its import has finished (``sys.modules`` has it from the import's start)."""


def sdk() -> ModuleType:
    """``claude_agent_sdk``, imported on first use.

    Importing it takes about a second (it pulls in mcp, httpx, starlette…), so nothing on
    the way to the app's first frame imports it; ``load_sdk`` does, off the event loop.
    """
    global _loaded
    if _loaded is None:
        import claude_agent_sdk  # a second thread here waits for the first one's import

        _loaded = claude_agent_sdk
    return _loaded


async def load_sdk() -> ModuleType:
    """Import the SDK in a worker thread, so the app keeps drawing while it loads; lanes
    starting at once all wait for the one import."""
    return _loaded or await asyncio.to_thread(sdk)


async def idle_guarded(stream: AsyncIterator[Any], idle_timeout_s: float) -> AsyncIterator[Any]:
    iterator = stream.__aiter__()
    while True:
        try:
            item = await asyncio.wait_for(iterator.__anext__(), timeout=idle_timeout_s)
        except StopAsyncIteration:
            return
        yield item


def usage_of(message: ResultMessage) -> dict[str, Any]:
    """A result's cost and tokens (cache reads and writes count as input).  The tokens are
    ``model_usage``'s where the CLI gives it: every reply of every model, where ``usage``
    leaves out the reply that crossed a ``max_budget_usd``."""
    by_model = message.model_usage if isinstance(message.model_usage, dict) else {}
    models = [u for u in by_model.values() if isinstance(u, dict)]
    if models:
        input_tokens = sum(
            _count(u, "inputTokens")
            + _count(u, "cacheReadInputTokens")
            + _count(u, "cacheCreationInputTokens")
            for u in models
        )
        output_tokens = sum(_count(u, "outputTokens") for u in models)
    else:
        usage = message.usage or {}
        input_tokens = (
            _count(usage, "input_tokens")
            + _count(usage, "cache_read_input_tokens")
            + _count(usage, "cache_creation_input_tokens")
        )
        output_tokens = _count(usage, "output_tokens")
    return {
        "cost_usd": float(message.total_cost_usd or 0.0),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def raise_if_sandbox_refused(text: str) -> None:
    """A CLI told to require its sandbox ends with this error when it cannot start one."""
    if SANDBOX_REFUSED in text:
        raise SandboxRefused(text.partition(SANDBOX_REFUSED)[2].strip(": "))


def message_text(message: AssistantMessage) -> str:
    text_block = sdk().TextBlock
    return " ".join(b.text for b in message.content if isinstance(b, text_block))
