"""The events of the stages that decide whether work is done: verification and QA.

Kept beside ``events`` (same base class, same rules: printable text, a stable ``type``) so
that module stays within its size; the user interfaces import both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from agent_tui.engine.events.core import Event

RECHECK_LANE = 0
"""The ``lane`` of a check run again on the spec's own branch while several lanes work: the
merge queue's re-checks and the final check.  No coder lane has it, so a lane's interrupt
does not reach them, and the log shows them apart from any lane's own checks."""

TAIL_LINES = 10
"""How much of a failed check's output the log and headless lines show: its end, where
test runners put the failures (the detail shows more, the history keeps 4000 characters)."""


class CheckOutcome(StrEnum):
    """What agent-tui's own run of a subtask's verification found."""

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNVERIFIED = "unverified"
    """No command to run (a manual, browser, api or e2e check, none at all, or verification
    turned off): the subtask counts as completed and is shown as not verified."""
    INTERRUPTED = "interrupted"
    """The user stopped the check (``i``, ``q``): it says nothing of the work, and the
    subtask is tried again."""

    @property
    def counts_as_completed(self) -> bool:
        return self in (CheckOutcome.PASSED, CheckOutcome.UNVERIFIED)


class QAStep(StrEnum):
    REVIEWING = "reviewing"
    FIXING = "fixing"


class QAVerdictKind(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NONE = "none"
    """The reviewer's session ended without setting a verdict in the plan."""


class VerificationStarted(Event):
    """agent-tui runs a subtask's verification command itself, as its agent's Bash would."""

    type: ClassVar[str] = "verification_started"
    subtask_id: str
    command: str
    sandboxed: bool
    """False: the command runs with the user's own access (containment off or missing)."""
    timeout_s: float
    lane: int = 1
    """The lane whose work it checks (one lane: always 1), or ``RECHECK_LANE``."""


class VerificationEnded(Event):
    type: ClassVar[str] = "verification_ended"
    subtask_id: str
    outcome: CheckOutcome
    command: str | None = None
    exit_status: int | None = None
    duration_s: float = 0.0
    reason: str = ""
    """One line: what was checked and what was found (why a check failed, or why none ran)."""
    output_tail: str = ""
    lane: int = 1
    """As ``verification_started``'s."""

    def finding(self) -> str:
        """The reason without the command (``verification_started`` showed it)."""
        found = self.reason.removeprefix("unverified: ")
        return found.removeprefix(f"`{self.command}` ") if self.command else found

    def tail_lines(self, limit: int = TAIL_LINES) -> list[str]:
        """The last ``limit`` lines of the check's output, blank ones at its end left out."""
        return [line.rstrip() for line in self.output_tail.rstrip().splitlines()[-limit:]]

    @property
    def refuted(self) -> bool:
        """The check ran and the work did not pass it: its output says why."""
        return self.outcome in (CheckOutcome.FAILED, CheckOutcome.TIMED_OUT)


class QAIteration(Event):
    """A QA session starts: the reviewer for ``iteration``, or the fixer after it (0: the
    fixer first, for a QA_FIX_REQUEST.md that was there before QA began)."""

    type: ClassVar[str] = "qa_iteration"
    iteration: int
    step: QAStep
    max_iterations: int


class QAVerdict(Event):
    type: ClassVar[str] = "qa_verdict"
    iteration: int
    verdict: QAVerdictKind
    issues: tuple[str, ...] = ()


class QAEscalated(Event):
    """The QA loop stopped short; ``path`` is the QA_ESCALATION.md that says why."""

    type: ClassVar[str] = "qa_escalated"
    reason: str
    path: str
