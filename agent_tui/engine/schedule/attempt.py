"""One try at one piece of work: the object a stage is handed, instead of shared state.

An attempt owns what was scattered over the run before: the subtask (as the plan had it
when the try began: its check is the one that runs), the lane it runs in (and so the
worktree, profile and containment), its session's number and transcript, and its claim of
completion, from the moment the session starts until the check decides it.  Several
attempts run at once, one per lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from agent_tui.engine.agents.protocol import AgentSession, SessionOutcome
from agent_tui.engine.checks.verify import VerifyResult
from agent_tui.engine.failures.policy import Role
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.plan import Subtask


class Claim(StrEnum):
    """Where the agent's word that its subtask is done stands."""

    OPEN = "open"
    """From the try's start to its check's end: a completion its session writes is a claim
    its check decides (a run that ends meanwhile does not leave it completed), and one for
    any other subtask is put back."""
    DECIDED = "decided"
    """The check has run (or there was nothing to check): the plan says what it found."""


@dataclass(eq=False)
class Attempt:
    role: Role
    lane: Lane
    subtask: Subtask | None = None
    """The subtask as the plan had it when the try began (None: a planner or QA session)."""
    on: str | None = None
    """The subtask waiting in the merge queue whose work this try starts on (None: the
    spec branch's tip)."""
    on_commit: str | None = None
    """That work's commit in its lane."""
    tries: int = 1
    """Which session of its subtask this is, counting every one it had (the tree's count)."""
    number: int = 0
    """The session's number in the spec's one sequence, once it has started."""
    transcript: Path | None = None
    claim: Claim = Claim.OPEN
    outcome: SessionOutcome | None = None
    check: VerifyResult | None = None
    recorded: bool = False
    """Its session is in the attempt history (until then the tree counts it as running)."""
    backed_off: bool = False
    """A wait followed its session: the lane needs no rest before its next one."""
    session: AgentSession | None = None
    """Its session while it runs (what ``cut`` ends)."""
    cut: str | None = None
    """Why agent-tui ended its session before its end (the work it builds on went back, so
    its own could not be merged), if it did; a session not yet started does not start."""

    @property
    def subtask_id(self) -> str | None:
        return self.subtask.id if self.subtask is not None else None

    @property
    def working(self) -> bool:
        return self.claim is Claim.OPEN
