"""The plan review: after the planner, the run waits for the user's approve or discard.

A plan is the whole run's shape, written by an agent: before any subtask is worked on, the
user may read it, edit it, or throw it away.  In the app the run waits here (``ASK``);
headless it ends here with exit 0 (``STOP``), and the next run, finding the plan, codes it.
A stop while the review waits (``q`` or ``ctrl+c`` in the app, a signal) ends the run as
that: planned, exit 0, the plan kept; nothing was running to be interrupted.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.review import PlanApproved, PlanReview
from agent_tui.text import counted


class PlanReviewMode(StrEnum):
    OFF = "off"
    """The plan is coded as soon as it is written."""
    ASK = "ask"
    """Wait for ``approve`` or ``discard``."""
    STOP = "stop"
    """End the run once the plan is written (exit 0)."""


class Decision(StrEnum):
    APPROVED = "approved"
    DISCARDED = "discarded"
    STOPPED = "stopped"


class PlanReviewGate:
    def __init__(self, mode: PlanReviewMode, emit: ev.EventSink) -> None:
        self.mode = mode
        self._emit = emit
        self._decided = asyncio.Event()
        self._decision: Decision | None = None
        self._stop_reason = ""
        self.waiting = False
        """The run is held here now: ``approve`` and ``discard`` apply."""

    def approve(self) -> bool:
        """Code the plan as it is on disk now; False (nothing done) if no review waits."""
        return self._decide(Decision.APPROVED)

    def discard(self) -> bool:
        """End the run without coding the plan; False if no review waits."""
        return self._decide(Decision.DISCARDED)

    def stop(self, reason: str) -> None:
        """The run is being stopped: a review waiting ends with it."""
        self._stop_reason = reason
        self._decided.set()

    def _decide(self, decision: Decision) -> bool:
        if not self.waiting or self._decision is not None:
            return False
        self._decision = decision
        self._decided.set()
        return True

    async def hold(self, plan_path: Path, subtasks: int) -> None:
        """After the planner wrote the plan: go on (approved, or no review), or end the run
        (``RunEnded``: stopped here, discarded, or left by a stop while it waits)."""
        if self.mode == PlanReviewMode.OFF:
            return
        if self._stop_reason:
            end(RunOutcome.INTERRUPTED, self._stop_reason)
        waiting = self.mode == PlanReviewMode.ASK
        await self._emit(PlanReview(plan_path=str(plan_path), subtasks=subtasks, waiting=waiting))
        if not waiting:
            end(
                RunOutcome.PLANNED,
                f"plan written ({counted(subtasks, 'subtask')}): read it, then run again to "
                "code it",
            )
        self.waiting = True
        try:
            await self._decided.wait()
        finally:
            self.waiting = False
        if self._decision == Decision.APPROVED:
            await self._emit(PlanApproved(plan_path=str(plan_path)))
            return
        if self._decision == Decision.DISCARDED:
            end(RunOutcome.DISCARDED, "the plan was discarded: nothing was coded")
        end(  # nothing was running: the run ends as a headless one does here
            RunOutcome.PLANNED,
            f"{self._stop_reason} at the plan review: the plan is kept "
            f"({counted(subtasks, 'subtask')}), nothing is coded yet",
        )
