"""The agent-tui command lines that act on a spec, as they paste into a shell: what the
terminal, the runs list and ``attach`` say to do once a run has ended."""

from __future__ import annotations

import shlex
from pathlib import Path


def finish_steps(project_dir: Path, spec_dir: Path | None, base: str = "") -> list[tuple[str, str]]:
    """How to review and finish a run's work: each command, as it runs when pasted, and
    what it does (``spec_dir`` None: the project's only spec)."""
    where = f"--project {shlex.quote(str(project_dir))}"
    if spec_dir is not None:
        where += f" --spec {shlex.quote(spec_dir.name)}"
    return [
        (f"agent-tui diff {where}", "shows it"),
        (f"agent-tui merge {where}", f"brings it into {base}" if base else "brings it in"),
        (f"agent-tui discard {where}", "drops it"),
    ]


def review_commands(project_dir: Path, spec_dir: Path | None, base: str = "") -> list[str]:
    """``finish_steps`` one a line, their words aligned."""
    steps = finish_steps(project_dir, spec_dir, base)
    width = max(len(command) for command, _ in steps)
    return [f"  {command.ljust(width)}   {what}" for command, what in steps]


def run_command(project_dir: Path, spec_dir: Path, review: bool = False) -> str:
    """The command that codes the spec, as it can be pasted (``review``: stopping at the
    plan review its planner's plan, if one is planned)."""
    return (
        f"agent-tui run --project {shlex.quote(str(project_dir))} "
        f"--spec {shlex.quote(spec_dir.name)}" + (" --review-plan" if review else "")
    )


def next_step(
    outcome: str, project_dir: Path, spec_dir: Path, branch: str = "", review: bool = False
) -> str:
    """What to do after a run that ended with ``outcome`` (a ``RunOutcome`` value), in one
    line; "" when there is nothing to do (a plan discarded, work done in place).  ``review``:
    the run was to stop at its plan review, and had not passed it."""
    if outcome == "complete":
        if not branch:
            return ""
        diff = finish_steps(project_dir, spec_dir)[0][0]
        return f"the work is on {branch}: {diff} shows it, then merge or discard"
    if outcome == "discarded":
        return ""
    if outcome == "planned":
        return f"to code it: {run_command(project_dir, spec_dir)}"
    return f"to go on: {run_command(project_dir, spec_dir, review)}"
