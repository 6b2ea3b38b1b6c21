"""Lanes: the places sessions run at once, each with its own worktree, profile and
containment.  One lane is today's run: the spec's own worktree (or the project in place).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_tui.engine.accounts.rotation import ProfileRotation
from agent_tui.engine.progress.checkpoints import Checkpoints
from agent_tui.engine.sandbox.containment import Containment
from agent_tui.engine.sandbox.guard import Guard

if TYPE_CHECKING:
    from agent_tui.engine.schedule.attempt import Attempt


@dataclass(eq=False)
class Lane:
    id: int
    site: Checkpoints
    """Where its agent works: its worktree and spec copy (lane 1 alone: the spec's own)."""
    rotation: ProfileRotation
    """Its profile: a usage limit on one lane's account moves that lane, not the others."""
    guard: Guard
    containment: Containment | None = None
    """Decided as the run starts, for this lane's worktree."""
    attempt: Attempt | None = None
    """What it works on now (None: it is free)."""
    last: Attempt | None = None
    """What it worked on last: a run that ends puts its subtask back if it is unfinished."""
    free_at: float = 0.0
    """On the loop's clock: when it may start its next session (its rest between two)."""

    @property
    def busy(self) -> bool:
        return self.attempt is not None
