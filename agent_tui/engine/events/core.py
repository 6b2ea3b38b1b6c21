"""Typed events the coder loop emits: the only thing a user interface consumes.

Every event is a frozen record (keyword-only fields, compared by value; see ``record``)
with a stable ``type`` name.  Its text never holds a terminal escape sequence or control
character: what the agent wrote reaches the user's terminal through it.  ``to_dict()``
gives the JSON-lines shape of headless mode (``type`` and ``ts`` first, then the fields).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from agent_tui.engine.events.money import BudgetLine, Forecast
from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.engine.events.record import Record, field
from agent_tui.engine.events.state import LoopMode, LoopState
from agent_tui.engine.events.timefmt import clock_time, duration
from agent_tui.text import printable


class Printable(Record):
    """A record the user sees: each text field is made printable as the record is made."""

    def __init__(self, **values: Any) -> None:
        super().__init__(**{name: _shown(value) for name, value in values.items()})


def _shown(value: Any) -> Any:
    if type(value) is str:  # not an enum's value: those are ours, and stay members
        return printable(value)
    if isinstance(value, tuple) and any(isinstance(item, str) for item in value):
        return tuple(_shown(item) for item in value)
    return value


class Event(Printable):
    type: ClassVar[str] = "event"
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """``type`` and ``ts`` first, then the fields; a field named for a Python keyword
        (``from_``) without its trailing underscore."""
        data = self.as_dict()
        ts = data.pop("ts")
        return {"type": self.type, "ts": round(ts, 3), **{json_name(k): v for k, v in data.items()}}


def json_name(field_name: str) -> str:
    """A field's key in the JSON lines: ``from_`` is ``from``."""
    return field_name.removesuffix("_")


class SubtaskView(Printable):
    """A subtask as the UI shows it."""

    id: str
    description: str
    status: str
    phase_id: str
    attempts: int = 0
    stuck: bool = False
    verification: str = ""
    """The last check's ``CheckOutcome`` value (``unverified`` for a completed subtask
    agent-tui did not see pass), ``checking`` while one runs, or "" for none."""


class PhaseView(Printable):
    id: str
    name: str
    subtasks: tuple[SubtaskView, ...]


class PlanLoaded(Event):
    type: ClassVar[str] = "plan_loaded"
    spec_dir: str
    feature: str
    phases: tuple[PhaseView, ...]
    total: int
    completed: int


class ContainmentStatus(Event):
    """How this run's sessions are confined: sent once, before the first session."""

    type: ClassVar[str] = "containment"
    mode: str  # "required", "auto" or "off": the setting
    sandboxed: bool
    missing: tuple[str, ...] = ()
    """What Claude Code's sandbox needs that this machine lacks (why ``auto`` runs without)."""
    allowed_hosts: tuple[str, ...] = ()
    home_readable: tuple[str, ...] = ()
    """What of the user's home a session may read (the toolchains found there)."""

    def home_text(self) -> str:
        """What of the home sessions read: the toolchains (the rest is unreadable)."""
        listed = ", ".join(self.home_readable) if self.home_readable else "nothing"
        return f"of your home, sessions read only {listed}"

    def summary(self) -> str:
        """One sentence: what confines the agent, or that nothing does."""
        if self.sandboxed:
            network = ", ".join(self.allowed_hosts) if self.allowed_hosts else "none"
            return (
                "sandboxed: Bash and its children write only inside the project; "
                f"network: {network}; credential stores unreadable"
            )
        why = "containment is off" if self.mode == "off" else "; ".join(self.missing)
        return (
            f"UNSANDBOXED ({why}): the guard and the read denies are a policy, not a "
            "boundary; a hostile agent can escape them"
        )


class PlanWarning(Event):
    """The plan on disk could not be read after a session; the last good plan is kept."""

    type: ClassVar[str] = "plan_warning"
    message: str


class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session: int
    kind: str  # "planner", "coder", "qa_reviewer" or "qa_fixer"
    subtask_id: str | None
    profile: str
    attempt: int
    model: str | None
    transcript: str
    lane: int = 1
    """The lane it happened in (one lane: always 1)."""

    def what(self) -> str:
        """``subtask 1.2``, ``planning``, ``QA review`` or ``QA fixes``."""
        if self.subtask_id:
            return f"subtask {self.subtask_id}"
        return {"qa_reviewer": "QA review", "qa_fixer": "QA fixes"}.get(self.kind, "planning")


class AssistantText(Event):
    type: ClassVar[str] = "assistant_text"
    session: int
    text: str
    lane: int = 1


class ToolUse(Event):
    type: ClassVar[str] = "tool_use"
    session: int
    tool_use_id: str
    name: str
    summary: str
    lane: int = 1


class ToolResult(Event):
    type: ClassVar[str] = "tool_result"
    session: int
    tool_use_id: str
    is_error: bool
    summary: str
    lane: int = 1


class ApiRetry(Event):
    """The CLI itself is waiting to retry an API call (its ``api_retry`` system message)."""

    type: ClassVar[str] = "api_retry"
    session: int
    attempt: int
    max_retries: int
    delay_s: float
    error_status: int | None
    error: str | None
    deadline: float  # on the loop's clock
    lane: int = 1

    def what(self) -> str:
        """What is retried: the error's name or status, or just the request."""
        if self.error and self.error != "unknown":
            return self.error
        return str(self.error_status) if self.error_status else "the request"

    def count(self) -> str:
        """`` (2/10)``, or nothing when the CLI gave no count."""
        return f" ({self.attempt}/{self.max_retries})" if self.max_retries else ""


class QuotaUpdated(Event):
    """The CLI reported a profile's usage window (its ``RateLimitEvent``); times are epoch s."""

    type: ClassVar[str] = "quota"
    profile: str
    status: QuotaStatus
    window: str | None
    utilization: float | None
    resets_at: float | None

    @classmethod
    def of(cls, profile: str, quota: Quota) -> QuotaUpdated:
        return cls(
            profile=profile,
            status=quota.status,
            window=quota.window,
            utilization=quota.utilization,
            resets_at=quota.resets_at,
            ts=quota.seen_at,
        )

    @property
    def quota(self) -> Quota:
        return Quota(
            status=self.status,
            window=self.window,
            utilization=self.utilization,
            resets_at=self.resets_at,
            seen_at=self.ts,
        )


class SessionError(Event):
    """An API or process error seen inside a session (already masked)."""

    type: ClassVar[str] = "session_error"
    session: int
    error_kind: str
    message: str
    lane: int = 1


class Usage(Event):
    """Cost and tokens so far: for this session and for the whole run (``total_``), the
    spec's across every run, the budgets as they stand, and the forecast for the rest."""

    type: ClassVar[str] = "usage"
    session: int
    session_cost_usd: float
    session_input_tokens: int
    session_output_tokens: int
    total_cost_usd: float
    total_input_tokens: int
    total_output_tokens: int
    lane: int = 1
    spec_cost_usd: float | None = None
    budgets: tuple[BudgetLine, ...] = ()
    forecast: Forecast | None = None


class SessionEnded(Event):
    type: ClassVar[str] = "session_ended"
    session: int
    subtask_id: str | None
    outcome: str  # "success", "error", "interrupted", "timeout"
    error_kind: str | None
    cost_usd: float
    message: str = ""
    lane: int = 1


class BackoffStarted(Event):
    type: ClassVar[str] = "backoff_started"
    kind: str
    delay_s: float
    retry: int
    max_retries: int
    deadline: float  # on the loop's clock: the countdown is rendered from it
    remaining_s: float | None = None
    """Less than ``delay_s`` when a wait goes on after a pause; None: all of it."""
    resets_at: float | None = None
    """A wait for a usage limit: when the window resets (epoch s); the wait ends a little
    after it."""
    lane: int = 1

    def wait_text(self) -> str:
        """``4 s``; or, for a wait that goes on after a pause, what is left: ``the last 3 s``."""
        left = self.remaining_s
        if left is None or left >= self.delay_s:
            return duration(self.delay_s) if self.resets_at else f"{self.delay_s:g} s"
        return f"the last {duration(left) if self.resets_at else f'{math.ceil(left)} s'}"

    def reset_text(self) -> str:
        """``20:50``: when the usage limit waited for resets, local time ("" if none is)."""
        if self.resets_at is None:
            return ""
        left = self.delay_s if self.remaining_s is None else self.remaining_s
        return clock_time(self.resets_at, self.resets_at - left)


class BackoffEnded(Event):
    type: ClassVar[str] = "backoff_ended"
    reason: str  # "elapsed", "retry_now", "stopped"
    lane: int = 1


class SubtaskStatus(Event):
    type: ClassVar[str] = "subtask_status"
    id: str
    status: str
    attempts: int = 0


class SubtaskNotCompleted(Event):
    """A coder session ended without its subtask completed (its agent did not mark it, or
    its check refuted the claim): one of the subtask's tries is spent."""

    type: ClassVar[str] = "subtask_not_completed"
    id: str
    session: int
    tries: int
    """Its tries so far, this one included."""
    max_tries: int
    reason: str = ""
    """Why, when the agent claimed it: ``its check failed`` or ``its check timed out``."""

    def text(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"{self.id} not completed{why} (try {self.tries}/{self.max_tries})"


class SubtaskStuck(Event):
    type: ClassVar[str] = "subtask_stuck"
    id: str
    reason: str


class SubtaskRetried(Event):
    """A stuck subtask is to be tried again (the user set it back to pending, or asked)."""

    type: ClassVar[str] = "subtask_retried"
    id: str


class ProfileSwitched(Event):
    type: ClassVar[str] = "profile_switched"
    from_: str | None
    to: str
    reason: str
    lane: int = 1


class Pausing(Event):
    """A pause was asked for; it takes effect at the next session boundary."""

    type: ClassVar[str] = "pausing"


class Paused(Event):
    type: ClassVar[str] = "paused"
    reason: str
    by_user: bool = False
    """The user asked for it (a key); False for a PAUSE file or a problem only they can fix."""
    needs_user: bool = False
    """A problem only the user can fix (an auth failure, a full disk…): worth telling them."""


class Resumed(Event):
    type: ClassVar[str] = "resumed"


class LoopStateChanged(Event):
    """The loop's state changed: what the UI derives its keys and status from."""

    type: ClassVar[str] = "loop_state"
    mode: LoopMode
    session_running: bool
    interrupting: bool
    sessions: int = 0

    @property
    def state(self) -> LoopState:
        return LoopState(
            mode=self.mode,
            session_running=self.session_running,
            interrupting=self.interrupting,
            sessions=self.sessions,
        )


class NoteQueued(Event):
    """The user left a note for the next session (HUMAN_INPUT.md)."""

    type: ClassVar[str] = "note_queued"
    text: str


class NoteSent(Event):
    """The session starting now carries the user's note in its prompt."""

    type: ClassVar[str] = "note_sent"
    text: str


class Notice(Event):
    """Something the user should read: a warning, a CLI stderr line, a credential notice."""

    type: ClassVar[str] = "notice"
    level: str  # "info", "warning", "error"
    message: str


class LoopFinished(Event):
    type: ClassVar[str] = "loop_finished"
    outcome: str  # a RunOutcome: "complete", "stuck", "interrupted", "planned", …
    exit_code: int
    message: str = ""


EventSink = Callable[[Event], Awaitable[None]]
"""Where the loop sends its events: one async callback."""
