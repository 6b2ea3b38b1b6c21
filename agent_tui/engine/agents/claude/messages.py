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
    """A result's cost and tokens (cache reads and writes count as input)."""
    usage = message.usage or {}
    input_tokens = (
        int(usage.get("input_tokens") or 0)
        + int(usage.get("cache_read_input_tokens") or 0)
        + int(usage.get("cache_creation_input_tokens") or 0)
    )
    return {
        "cost_usd": float(message.total_cost_usd or 0.0),
        "input_tokens": input_tokens,
        "output_tokens": int(usage.get("output_tokens") or 0),
    }


def raise_if_sandbox_refused(text: str) -> None:
    """A CLI told to require its sandbox ends with this error when it cannot start one."""
    if SANDBOX_REFUSED in text:
        raise SandboxRefused(text.partition(SANDBOX_REFUSED)[2].strip(": "))


def message_text(message: AssistantMessage) -> str:
    text_block = sdk().TextBlock
    return " ".join(b.text for b in message.content if isinstance(b, text_block))
