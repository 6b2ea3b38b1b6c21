"""Editing the plan in the user's editor: a draft copy, which replaces the plan only once
it is a valid plan.

The editor works on a copy in a private temp dir, never on the plan itself: an edit that is
not a plan (a stray comma, no subtasks) never reaches the file the run reads, and the draft
is kept, so the next edit starts from what the user typed rather than from the start.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from enum import StrEnum
from pathlib import Path

from agent_tui.files import atomic_write_text
from agent_tui.plan import PlanError, is_empty, parse_plan, read_plan_text

DEFAULT_EDITOR = "vi"


class Edited(StrEnum):
    SAVED = "saved"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    """Not a plan: the draft is kept for the next edit, the plan left as it was."""


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``, as words."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or DEFAULT_EDITOR
    return shlex.split(chosen) or [DEFAULT_EDITOR]


class PlanDraft:
    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        self._dir: Path | None = None
        self.problem = ""
        """Why the last edit is not a plan (one sentence), while it is kept as the draft."""

    @property
    def path(self) -> Path:
        """The draft the editor opens: the plan's text, or the last edit that was refused."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="agent-tui-plan-"))
        draft = self._dir / self.plan_path.name
        if not draft.exists():
            atomic_write_text(draft, read_plan_text(self.plan_path), mode=0o600)
        return draft

    def edit(self) -> int:
        """Open the draft in the editor and wait for it; the editor's exit status
        (``OSError`` when it cannot be started)."""
        return subprocess.run([*editor_command(), str(self.path)], check=False).returncode

    def take(self) -> Edited:
        """Replace the plan with the draft if it is a valid plan that says something new."""
        draft = self.path
        text = read_plan_text(draft)
        if text == read_plan_text(self.plan_path):
            self.discard()
            return Edited.UNCHANGED
        try:
            plan = parse_plan(text, "your edit")
            if is_empty(plan):
                raise PlanError("your edit: the plan has no subtasks")
        except PlanError as exc:
            self.problem = str(exc)
            return Edited.INVALID
        atomic_write_text(self.plan_path, text)
        self.discard()
        return Edited.SAVED

    def discard(self) -> None:
        """Forget the draft (the next edit starts from the plan)."""
        self.problem = ""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
