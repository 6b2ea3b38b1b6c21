"""The events of the workspace: where the agent works, the commits and rollbacks made there.

Kept beside ``events`` (same base class, same rules: printable text, a stable ``type``) so
that module stays within its size; the user interfaces import both.
"""

from __future__ import annotations

from typing import ClassVar

from agent_tui.engine.events.core import Event


class WorkspaceStatus(Event):
    """Where the agent works (its worktree, or the project in place); sent once."""

    type: ClassVar[str] = "workspace"
    mode: str  # "worktree" or "in_place"
    path: str
    """The project as the agent sees it."""
    branch: str | None = None
    base: str = ""
    """The user's HEAD the branch was made from (``main``, ``detached at 1a2b3c4``)."""
    reason: str = ""
    """Why in place: ``--in-place``, ``not a git repository``, ``git is not installed``."""

    def summary(self) -> str:
        if self.mode == "worktree":
            return f"worktree {self.path} on {self.branch}, from {self.base}"
        return f"in place ({self.reason}): no branch, no commits, no rollback"


class SubtaskCommitted(Event):
    """agent-tui committed a completed subtask's work on the work branch."""

    type: ClassVar[str] = "subtask_committed"
    id: str
    commit: str
    files: int

    def files_text(self) -> str:
        return "1 file" if self.files == 1 else f"{self.files} files"


class TryRolledBack(Event):
    """A try was undone back to the last good commit; ``diff`` (in the spec dir) keeps it."""

    type: ClassVar[str] = "rolled_back"
    subtask_id: str
    session: int
    commit: str
    diff: str
