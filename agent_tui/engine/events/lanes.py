"""The events of parallel lanes and their merge queue (same base class and rules as the
others: printable text, a stable ``type``).  With one lane only ``lanes`` is sent."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from agent_tui.engine.events.core import Event


class LanesPlanned(Event):
    """How many lanes the run has, and why that many (sent once, before the first)."""

    type: ClassVar[str] = "lanes"
    lanes: int
    reason: str


class LaneBusy(Event):
    """A lane took a subtask (its session starts next, after any wait)."""

    type: ClassVar[str] = "lane_busy"
    lane: int
    subtask_id: str
    on: str = ""
    """The subtask whose work, done and waiting to be merged, this one starts on (it comes
    before it in their phase); empty: it starts from the spec branch's tip."""

    def taken(self) -> str:
        """``1.2`` or ``1.2, on 1.1's work (not merged yet)``."""
        return (
            f"{self.subtask_id}, on {self.on}'s work (not merged yet)"
            if self.on
            else self.subtask_id
        )


class LaneFree(Event):
    type: ClassVar[str] = "lane_free"
    lane: int


class MergeOutcome(StrEnum):
    MERGED = "merged"
    CONFLICT = "conflict"
    """The replay met work merged meanwhile on the same lines: the subtask is redone."""
    RECHECK_FAILED = "recheck_failed"
    """Merged, a check failed on the result: undone, and the subtask is redone."""
    DROPPED = "dropped"
    """The subtask left the plan, or is no longer to be completed, while it waited."""
    UNMERGED_BASE = "unmerged_base"
    """It was started on the work of one before it that did not merge: it is redone from
    the spec branch's tip (no try spent)."""


class MergeQueued(Event):
    """A subtask's check passed in its lane: its commit waits to be merged."""

    type: ClassVar[str] = "merge_queued"
    subtask_id: str
    lane: int
    waiting: int
    """How many wait now, this one counted."""


class MergeStarted(Event):
    type: ClassVar[str] = "merge_started"
    subtask_id: str
    checks: tuple[str, ...] = ()
    """The subtasks whose checks run on the result: its own, and those its files touch."""
    batch: tuple[str, ...] = ()
    """The subtasks merged together with it, in order, itself included (each gets this
    event), their checks run once on the result; empty: merged alone."""

    def merged_with(self) -> str:
        """`` (with 1.2, 1.3)`` when others are merged together with it; else nothing."""
        others = [i for i in self.batch if i != self.subtask_id]
        return f" (with {', '.join(others)})" if others else ""

    def rechecks(self) -> str:
        """``checks 1.1, 2.3``; none when its commit lands as it was checked in its lane."""
        if not self.checks:
            return "its lane checked this very tree"
        return f"checks {', '.join(self.checks)}"


class MergeEnded(Event):
    type: ClassVar[str] = "merge_ended"
    subtask_id: str
    outcome: MergeOutcome
    commit: str | None = None
    """The spec branch's new commit (merged only)."""
    message: str = ""
    waiting: int = 0
