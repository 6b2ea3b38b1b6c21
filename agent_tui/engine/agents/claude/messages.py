"""The SDK, loaded off the event loop, and small readings of its messages."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
from collections.abc import AsyncIterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agent_tui.engine.agents.protocol import SandboxRefused
from agent_tui.engine.sandbox.containment import SANDBOX_REFUSED

if TYPE_CHECKING:
    from claude_agent_sdk import AssistantMessage, ResultMessage


_loaded: ModuleType | None = None
"""The SDK once its import has finished (``sys.modules`` has it from the import's start)."""
_loading = threading.Lock()

LEFT_OUT = (
    "mcp",
    "mcp.types",
    "mcp.server",
    "mcp.shared",
    "mcp.shared.message",
    "mcp.shared.memory",
    "jsonschema",
)
"""What the SDK imports only to host MCP servers in this process (``create_sdk_mcp_server``
and ``mcp_servers`` of type ``sdk``), which agent-tui never does: the MCP library's server
and client stacks (starlette, uvicorn, httpx, opentelemetry, cryptography, ~430 modules in
all) and jsonschema.  Loading them cost each run process ~37 MB and a second of CPU."""


def sdk() -> ModuleType:
    """``claude_agent_sdk``, imported on first use, without its in-process MCP servers.

    Nothing on the way to the app's first frame imports it; ``load_sdk`` does, off the
    event loop.  While the SDK's modules load, each name in ``LEFT_OUT`` is a stand-in
    whose every attribute is a class that refuses to be made; the stand-ins leave
    ``sys.modules`` with the import, so a later ``import mcp`` is the real one.  Should the
    SDK no longer load that way (another version), it is imported in full.
    """
    global _loaded
    if _loaded is None:
        with _loading:  # a second thread here waits for the first one's import
            if _loaded is None:
                _loaded = _import_without_servers()
    return _loaded


def _import_without_servers() -> ModuleType:
    if "claude_agent_sdk" in sys.modules or any(name in sys.modules for name in LEFT_OUT):
        return importlib.import_module("claude_agent_sdk")  # loaded already: nothing saved
    stand_ins = {name: _StandIn(name) for name in LEFT_OUT}
    for name, module in stand_ins.items():
        parent, _, child = name.rpartition(".")
        if parent in stand_ins:
            setattr(stand_ins[parent], child, module)
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("claude_agent_sdk")
    except Exception:
        for name in [n for n in sys.modules if n.partition(".")[0] == "claude_agent_sdk"]:
            del sys.modules[name]
        _drop(stand_ins)
        return importlib.import_module("claude_agent_sdk")
    finally:
        _drop(stand_ins)


def _drop(stand_ins: dict[str, ModuleType]) -> None:
    for name, module in stand_ins.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]


class _LeftOut:
    """A class of a library the SDK was loaded without: made, it says so."""

    def __init_subclass__(cls, **_options: Any) -> None:  # the SDK subclasses one
        pass

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError(
            f"{type(self).__module__}.{type(self).__name__}: agent-tui loads claude-agent-sdk "
            "without in-process MCP servers"
        )


class _StandIn(ModuleType):
    """A module of ``LEFT_OUT`` while the SDK loads: any name in it is a ``_LeftOut``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []

    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        left_out = type(name, (_LeftOut,), {"__module__": self.__name__})
        setattr(self, name, left_out)
        return left_out


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
