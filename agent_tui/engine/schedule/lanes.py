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
    own: tuple[Checkpoints, Guard, Containment | None] | None = None
    """While it works alone in the spec's worktree: its own place, guard and containment."""

    @property
    def busy(self) -> bool:
        return self.attempt is not None

    @property
    def alone(self) -> bool:
        return self.own is not None

    def work_alone_in(self, spec: Lane) -> None:
        """Work where ``spec`` (the spec's own lane) does, as one lane would, until
        ``come_back``: the only subtask that can start needs no worktree nor merge."""
        self.own = (self.site, self.guard, self.containment)
        self.site, self.guard, self.containment = spec.site, spec.guard, spec.containment

    def come_back(self) -> None:
        if self.own is not None:
            self.site, self.guard, self.containment = self.own
            self.own = None
