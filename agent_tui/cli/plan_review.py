"""What the command line does once a run with a plan review has ended: how it ended, what
a discard throws away, and the plan printed for a headless reader.

The engine only waits for the user's word (``engine.control.plan_review``); what the word
removes depends on the command: ``new`` made the spec dir (and, through its run, the work
branch), ``run --review-plan`` only the plan its planner wrote.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from agent_tui.engine.events import core as ev
    from agent_tui.plan import ImplementationPlan
    from agent_tui.workspace.location import Location

LoopFactory = Callable[["ev.EventSink"], Any]
PLANNED = "planned"
DISCARDED = "discarded"
COMPLETE = "complete"
"""``RunOutcome`` values, written out: this module loads before ``run`` forks its checks,
and the engine must not load with it."""


class RunEnd:
    """Notes how the run ended, from its ``loop_finished`` event.  Light: made before the
    checks fork (``agent_tui.startup``); the events module loads only with the loop."""

    def __init__(self, review: bool = False) -> None:
        self.outcome: str | None = None
        self.message = ""
        self.branch: str | None = None
        """The work branch, where the run worked in a worktree."""
        self.base = ""
        self.review = review
        """The run was to stop at its plan review (``new``, ``run --review-plan``)."""
        self.approved = False

    def watching(self, make_loop: LoopFactory) -> LoopFactory:
        """``make_loop`` with a sink that notes the run's end on the way."""

        def make(sink: ev.EventSink) -> Any:
            from agent_tui.engine.events import core as ev
            from agent_tui.engine.events.review import PlanApproved
            from agent_tui.engine.events.workspace import WorkspaceStatus

            async def noting(event: ev.Event) -> None:
                if isinstance(event, ev.LoopFinished):
                    self.outcome, self.message = event.outcome, event.message
                elif isinstance(event, PlanApproved):
                    self.approved = True
                elif isinstance(event, WorkspaceStatus):
                    self.branch = event.branch if event.mode == "worktree" else None
                    self.base = event.base
                await sink(event)

            return make_loop(noting)

        return make

    def summary(self, project_dir: Path, spec_dir: Path | None) -> str | None:
        """What the terminal says once the app has gone: how the run ended and what to do
        next (None: the app saw no end, and has said why itself)."""
        from agent_tui.auth.redaction import redact
        from agent_tui.plan.commands import next_step, review_commands
        from agent_tui.text import printable

        if self.outcome is None:
            return None
        said = f"agent-tui: {self.outcome}"
        if self.message:
            said += f": {printable(redact(self.message))}"
        if self.outcome == COMPLETE and self.branch:
            steps = review_commands(project_dir, spec_dir, self.base)
            return "\n".join([said, f"the work is on {self.branch}:", *steps])
        if self.outcome != COMPLETE and spec_dir is not None:
            review = self.review and not self.approved  # the next run asks again
            step = next_step(self.outcome, project_dir, spec_dir, review=review)
            return f"{said}\n{step}" if step else said
        return said

    def say(self, project_dir: Path, spec_dir: Path | None) -> bool:
        """Print ``summary`` for the terminal the app has left (if it is still there);
        False: there was nothing to say."""
        said = self.summary(project_dir, spec_dir)
        if said is None:
            return False
        with contextlib.suppress(OSError):  # the terminal may be gone (closed window: EIO)
            print(said, file=sys.stderr)
        return True

    @property
    def discarded(self) -> bool:
        return self.outcome == DISCARDED

    @property
    def planned(self) -> bool:
        return self.outcome == PLANNED


def plan_lines(plan: ImplementationPlan) -> list[str]:
    """The plan as an indented outline: phases, their subtasks, each subtask's check."""
    from agent_tui.text import printable

    lines = [printable(plan.feature)] if plan.feature else []
    for phase in plan.phases:
        after = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
        lines.append(printable(f"phase {phase.id}: {phase.name}{after}"))
        for subtask in phase.subtasks:
            lines.append(printable(f"  {subtask.id}  {subtask.description}"))
            check = subtask.verification
            if check is not None and check.command:
                expected = f" → {check.expected}" if check.expected else ""
                lines.append(printable(f"        check: {check.command}{expected}"))
    return lines


def print_plan(spec_dir: Path, project_dir: Path, out: TextIO) -> None:
    """The plan the run ended at, and what to run once it is read."""
    from agent_tui.auth.redaction import redact
    from agent_tui.plan import PlanError, load_plan
    from agent_tui.plan.commands import run_command

    plan_path = spec_dir / "implementation_plan.json"
    try:
        plan = load_plan(plan_path)
    except PlanError as exc:
        print(f"agent-tui: {exc}", file=out)
        return
    print(f"\nthe plan ({plan_path}):", file=out)
    for line in plan_lines(plan):
        print(redact(line), file=out)
    print(f"\nnext: edit it if you like, then {run_command(project_dir, spec_dir)}", file=out)


def discard_new_spec(spec_dir: Path, location: Location | None, branch_was_there: bool) -> str:
    """Remove the spec dir ``new`` made, and the work branch and worktree its run made (a
    branch there before, or with a commit, is left alone); what was removed, in a line."""
    removed = [str(spec_dir)]
    if location is not None and location.isolated and not branch_was_there:
        from agent_tui.workspace.git import GitError
        from agent_tui.workspace.merge import MergeRefused, discard
        from agent_tui.workspace.review import Review

        review = Review.of(location)
        with contextlib.suppress(GitError, MergeRefused):
            if review.exists() and not review.commits():
                discard(location)
                removed.append(f"{review.branch} and its worktree")
    shutil.rmtree(spec_dir, ignore_errors=True)
    return "discarded: removed " + " and ".join(removed)


def discard_planned(spec_dir: Path) -> str:
    """``run --review-plan`` discarded: the plan its planner wrote goes, spec.md stays."""
    plan_path = spec_dir / "implementation_plan.json"
    with contextlib.suppress(FileNotFoundError):
        plan_path.unlink()
    return f"discarded: removed {plan_path}; the next run plans again"


def branch_exists(location: Location | None) -> bool:
    """Whether the spec's work branch exists now (before a run that may make it)."""
    if location is None or not location.isolated:
        return False
    from agent_tui.workspace.git import GitError
    from agent_tui.workspace.review import Review

    try:
        return Review.of(location).exists()
    except GitError:
        return True  # unknown: never delete what may have been there
