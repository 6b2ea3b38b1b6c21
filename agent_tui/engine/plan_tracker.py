"""The plan as the loop knows it: loaded, written back one status at a time, re-read after
the agent has had its turn, and set aside (the last good one restored) when it is corrupt."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

from agent_tui.engine import events as ev
from agent_tui.engine.recovery import AttemptHistory
from agent_tui.engine.views import plan_view
from agent_tui.plan import (
    ImplementationPlan,
    PlanError,
    is_empty,
    load_plan,
    save_plan,
    set_status,
)


class PlanTracker:
    def __init__(self, path: Path, spec_dir: Path, history: AttemptHistory) -> None:
        self.path = path
        self.spec_dir = spec_dir
        self.history = history
        self.plan: ImplementationPlan | None = None
        self._mtime: float | None = None
        self._shown: dict[str, tuple[str, int]] = {}

    def load_existing(self) -> ImplementationPlan | None:
        """The plan on disk, or None when there is none yet (or it has no subtasks)."""
        if not self.path.exists():
            return None
        plan = load_plan(self.path)
        if is_empty(plan):
            return None
        self.adopt(plan)
        return plan

    def adopt(self, plan: ImplementationPlan) -> None:
        self.plan = plan
        with contextlib.suppress(OSError):
            self._mtime = self.path.stat().st_mtime

    def view(self) -> ev.PlanLoaded:
        assert self.plan is not None
        return plan_view(self.plan, self.spec_dir, self.history)

    async def set_status(self, subtask_id: str, status: str) -> None:
        """Record a status in the plan on disk; the fsync runs off the event loop."""
        assert self.plan is not None
        self.plan = set_status(self.plan, subtask_id, status)
        await asyncio.to_thread(save_plan, self.path, self.plan)
        self.adopt(self.plan)

    def reload_after_session(self) -> ev.PlanWarning | None:
        """Read what the agent wrote; a corrupt plan is set aside and the last good one kept."""
        try:
            plan = load_plan(self.path)
        except PlanError as exc:
            if self.plan is None:
                raise
            corrupt = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                os.replace(self.path, corrupt)
            save_plan(self.path, self.plan)
            self.adopt(self.plan)
            return ev.PlanWarning(
                message=f"{exc}; kept the last good plan, the bad one is {corrupt.name}"
            )
        self.adopt(plan)
        return None

    def edited_statuses(self) -> list[tuple[str, str]]:
        """Subtask statuses the agent changed on disk since the plan was last read."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return []
        if mtime == self._mtime or self.plan is None:
            return []
        try:
            plan = load_plan(self.path)
        except PlanError:
            return []
        old = {s.id: s.status for s in self.plan.subtasks()}
        self.adopt(plan)
        return [(s.id, s.status) for s in plan.subtasks() if old.get(s.id) != s.status]

    def status_event(self, subtask_id: str, status: str, attempts: int) -> ev.SubtaskStatus | None:
        """The event for a subtask's status, or None when the UI already shows exactly that."""
        shown = (status, attempts)
        if self._shown.get(subtask_id) == shown:
            return None
        self._shown[subtask_id] = shown
        return ev.SubtaskStatus(id=subtask_id, status=status, attempts=attempts)
