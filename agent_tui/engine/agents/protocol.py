"""What one session is given (``SessionSpec``) and how it ended (``SessionOutcome``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.engine.failures.kinds import ErrorKind

if TYPE_CHECKING:
    from agent_tui.engine.agents.claude.process import CliLauncher
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
    cli_path: str | None = None
    launcher: CliLauncher | None = None
    """Starts the CLI in its own process group, tied to agent-tui's life (see agents.claude.process)."""
    rate_limit_retries: int | None = None
    """Give up on the session after this many CLI retries of a 429 (another profile waits)."""
    profile: str = ""
    """The profile whose account the session runs on: its usage windows are that account's."""


class Ending(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    """Stopped by the user or a signal: says nothing of whether the subtask can be done."""
    TIMEOUT = "timeout"


INTERRUPT_GRACE_S = 0.8
"""How long a stop waits for the CLI to take the interrupt before signalling it."""
TERM_GRACE_S = 0.3
"""How long a CLI signalled to end gets before it is killed (a stopped one never ends)."""


@dataclass
class Seen:
    """What a session's messages have said so far."""

    error_kind: ErrorKind | None = None
    error_text: str = ""
    tool_calls: int = 0
    api_retries: list[dict[str, Any]] = field(default_factory=list)
    outcome: SessionOutcome | None = None


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
