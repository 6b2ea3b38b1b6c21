"""The events of the plan review: a plan the planner wrote, waiting for the user's word.

Kept beside ``events`` (same base class, same rules: printable text, a stable ``type``);
the user interfaces import both.
"""

from __future__ import annotations

from typing import ClassVar

from agent_tui.engine.events.core import Event


class PlanReview(Event):
    """The planner has written the plan; no subtask is worked on until it is approved."""

    type: ClassVar[str] = "plan_review"
    plan_path: str
    subtasks: int
    waiting: bool
    """True: the run waits for approve or discard.  False: the run ends here (headless),
    for the user to read the plan and run again."""


class PlanApproved(Event):
    """The user approved the plan (as it is on disk now): coding starts."""

    type: ClassVar[str] = "plan_approved"
    plan_path: str
