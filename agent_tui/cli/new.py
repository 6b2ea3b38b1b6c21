"""``agent-tui new "SENTENCE"``: a spec from a sentence, then its plan, stopped for review.

The spec dir is made first (``NNN-slug`` with ``spec.md``), then checked as ``run`` checks
its spec (a refusal removes it again: bad input changes nothing); the planner writes the
plan and the run stops there.  In the app the plan review screen offers approve (coding
starts in the same app), edit and discard, and the app left once the run has ended leaves
``run``'s end summary in the terminal; headless, the plan is printed and the run ends with
exit 0, for ``agent-tui run`` to code it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agent_tui.exit_codes import InputError

if TYPE_CHECKING:
    from agent_tui.startup.checks import CheckedRun

Launch = Callable[..., int]
"""Runs a loop factory in the app or headless, as ``run`` does (``commands._launch``)."""


def run_new(args: argparse.Namespace, launch: Launch, in_terminal: bool) -> int:
    from agent_tui.plan import PlanError
    from agent_tui.plan.new_spec import create_spec, spec_from
    from agent_tui.plan.specs import SPECS_SUBDIR

    project = _project(args.project)
    try:
        text, title = spec_from(args.sentence, args.from_file)
    except PlanError as exc:
        raise InputError(str(exc)) from None
    if not args.no_plan and not args.headless and not in_terminal:
        raise InputError(
            "stdout is not a terminal: use --headless to plan without the app, or --no-plan"
        )
    made = [d for d in (project / ".auto-claude", project / SPECS_SUBDIR) if not d.exists()]
    try:
        spec_dir = create_spec(project, text, title)
    except (OSError, PlanError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot create the spec in {project}: {reason}") from None
    if args.no_plan:
        from agent_tui.plan.commands import run_command

        _say_if_git_sees_it(project)
        print(f"created {spec_dir / 'spec.md'}")
        _say_if_no_commit(project)
        print(f"next: {run_command(project, spec_dir)}")
        return 0
    try:
        checked = _checked(args, project, spec_dir)
    except InputError:
        _unmake(spec_dir, made)  # refused: nothing of it stays
        raise
    _say_if_git_sees_it(project)  # once the spec stays: a refused one is gone again
    return _plan(args, project, spec_dir, checked, launch)


def _repository(project: Path):
    """Git on ``project`` when it is in a git work tree (None: no git, or not one)."""
    from agent_tui.workspace.git import Git, git_installed

    if not git_installed():
        return None
    git = Git(project)
    inside = git.run("rev-parse", "--is-inside-work-tree", check=False)
    return git if inside.ok and inside.text == "true" else None


def _say_if_git_sees_it(project: Path) -> None:
    """In a git repository that neither ignores nor tracks ``.auto-claude/``, its specs
    show in ``git status`` as new files: said once, with the usual remedy."""
    git = _repository(project)
    if git is None:
        return
    shown = git.run("status", "--porcelain", "-z", "--untracked-files=normal", "--",
                    ":(literal).auto-claude", check=False)  # fmt: skip
    if shown.ok and shown.out.startswith(b"?? "):
        print(
            "note: git shows .auto-claude/ as new files here: add it to .gitignore, unless "
            "you keep specs in the repository (then commit them)",
            file=sys.stderr,
        )


def _say_if_no_commit(project: Path) -> None:
    """A repository with no commit yet: ``run`` refuses it (a worktree needs a commit to
    start from), so said before the command that would be refused."""
    git = _repository(project)
    if git is not None and not git.run("rev-parse", "-q", "--verify", "HEAD", check=False).ok:
        print(
            "note: the repository has no commit yet: commit your files before agent-tui run "
            "(its work starts from a commit)",
            file=sys.stderr,
        )


def _unmake(spec_dir: Path, made: list[Path]) -> None:
    """Remove the spec dir, and the dirs made to hold it if they hold nothing else."""
    import contextlib
    import shutil

    shutil.rmtree(spec_dir, ignore_errors=True)
    for directory in reversed(made):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _project(given: str) -> Path:
    project = Path(given).expanduser()
    if not project.is_dir():
        problem = "is not a directory" if project.exists() else "does not exist"
        raise InputError(f"project directory {given!r} {problem}")
    return project.resolve()


def _checked(args: argparse.Namespace, project: Path, spec_dir: Path) -> CheckedRun:
    """The new spec checked as ``run --review-plan`` checks its spec."""
    from agent_tui.cli.commands import build_parser
    from agent_tui.startup.checks import check_run

    run_argv = ["run", "--project", str(project), "--spec", str(spec_dir), "--review-plan"]
    if args.headless:
        run_argv.append("--headless")
    if args.in_place:
        run_argv.append("--in-place")
    return check_run(build_parser().parse_args(run_argv))


def _plan(
    args: argparse.Namespace, project: Path, spec_dir: Path, checked: CheckedRun, launch: Launch
) -> int:
    """Plan the new spec and stop for review; then do what the review's outcome asks."""
    from agent_tui.cli import plan_review
    from agent_tui.engine.control.result import RunOutcome
    from agent_tui.plan.commands import run_command
    from agent_tui.startup.checks import build_loop

    branch_was_there = plan_review.branch_exists(checked.workspace)
    discards = f"the spec {spec_dir.name} goes"
    if checked.workspace is not None and checked.workspace.isolated:
        discards += ", with the work branch its planner ran on"
    end = plan_review.RunEnd(review=True)

    def make_loop(sink):
        return build_loop(checked, sink)

    code = launch(
        args,
        end.watching(make_loop),
        title=checked.title,
        plan_discard=discards,
    )
    if end.discarded:
        said = plan_review.discard_new_spec(spec_dir, checked.workspace, branch_was_there)
        print(f"agent-tui: {said}", file=sys.stderr)
    elif end.planned and args.headless and args.events == "text":
        plan_review.print_plan(spec_dir, project, sys.stdout)
    elif end.planned and args.headless:
        next_step = run_command(project, spec_dir)
        print(f"agent-tui: planned {spec_dir.name}; next: {next_step}", file=sys.stderr)
    else:  # the app's end as run's app says it; else where the spec is, if not complete
        said = not args.headless and end.say(project, spec_dir)
        if not said and end.outcome != RunOutcome.COMPLETE:
            next_step = run_command(project, spec_dir, review=not end.approved)
            print(f"agent-tui: the spec is kept in {spec_dir}: {next_step}", file=sys.stderr)
    return code
