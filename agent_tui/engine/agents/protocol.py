"""The agent session as the loop sees it: what one session is given (``SessionSpec``), the
handle it runs through (``AgentSession``), and how it ended (``SessionOutcome``).

The loop knows only this; ``claude/`` is the implementation behind it (the SDK, the CLI's
process, its messages), so another agent CLI would be one more package beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent_tui.engine.agents.runaway import RunawayLimits
from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev
from agent_tui.engine.failures.kinds import ErrorKind

if TYPE_CHECKING:
    from agent_tui.engine.sandbox.containment import Containment
    from agent_tui.engine.sandbox.guard import Guard


class CLIMissingError(RuntimeError):
    """The Claude Code CLI could not be found: a set-up problem, not a session failure."""


class SandboxRefused(RuntimeError):
    """The CLI would not start the sandbox the session requires: a set-up problem."""


@dataclass
class SessionSpec:
    """Everything one session needs; built fresh by the loop for every session."""

    number: int
    kind: str  # "planner" or "coder"
    subtask_id: str | None
    prompt: str
    cwd: Path
    env: dict[str, str]
    transcript_path: Path
    guard: Guard
    containment: Containment
    model: str | None = None
    idle_timeout_s: float = 600.0
    rate_limit_retries: int | None = None
    """Give up on the session after this many CLI retries of a 429 (another profile waits)."""
    profile: str = ""
    """The profile whose account the session runs on: its usage windows are that account's."""
    lane: int = 1
    """The lane it runs in: its events carry it."""
    max_budget_usd: float | None = None
    """The session's own cap: the CLI ends it there (``BUDGET``)."""
    runaway: RunawayLimits | None = None
    """When to stop it as a runaway (None: never)."""


class Ending(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    """Stopped by the user or a signal: says nothing of whether the subtask can be done."""
    TIMEOUT = "timeout"


@dataclass
class SessionOutcome:
    outcome: str  # an Ending
    error_kind: ErrorKind | None = None
    message: str = ""
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0
    api_retries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == Ending.SUCCESS


def interrupted_outcome(message: str = "interrupted", **common: Any) -> SessionOutcome:
    return SessionOutcome(outcome=Ending.INTERRUPTED, message=message, **common)


class AgentSession(Protocol):
    """One session, run once: ``run`` to its end; ``interrupt`` asks it to stop its turn
    (False: it did not take the request), ``terminate`` ends it for good.  Its events go to
    the sink it was made with, as they happen."""

    async def run(self) -> SessionOutcome: ...

    async def interrupt(self) -> bool | None: ...

    async def terminate(self) -> None: ...


AgentFactory = Callable[[SessionSpec, ev.EventSink, Clock], AgentSession]
"""Makes the session for a spec: its events go to the sink, its waits are on the clock."""
