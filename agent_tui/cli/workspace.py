"""``agent-tui diff | merge | discard``: read a spec's work, bring it into your branch, or
throw it away.

The parsers are built on every start (see ``agent_tui.cli.commands``): argparse only at the top.
A diff is printed masked and without the file's own control characters, in git's colours
when stdout is a terminal.  Exit codes: 0 done; 2 refused, nothing changed (one line on
stderr); 3 a merge conflict aborted, or a discard declined.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from agent_tui.cli.args import given
from agent_tui.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_STOPPED_SHORT, InputError
from agent_tui.text import counted

COLOURS = {
    "commit": "33",
    "header": "1",
    "hunk": "36",
    "added": "32",
    "removed": "31",
}
"""git's own default colours: commits yellow, file headers bold, hunks cyan, added lines
green, removed red (by ``review.LineKind``)."""


def add_workspace_parsers(subparsers: argparse._SubParsersAction) -> None:
    diff = subparsers.add_parser(
        "diff",
        help="show a spec's work: everything its branch would merge, or one subtask's",
        description="Print the diff of a spec's work branch against your HEAD, or with "
        "--subtask the commit(s) of one subtask.",
    )
    _common(diff)
    diff.add_argument("--subtask", type=given, metavar="ID", help="one subtask's commit(s)")
    merge = subparsers.add_parser(
        "merge",
        help="merge a spec's work into your current branch, then remove its branch",
        description="Merge agent-tui/<spec> into the branch you have checked out, keeping its "
        "commits (a merge commit), or as one commit with --squash. Refused on uncommitted "
        "changes; a conflict is aborted. The branch and worktree go only after it succeeded.",
    )
    _common(merge)
    merge.add_argument("--squash", action="store_true", help="one commit instead of history")
    discard = subparsers.add_parser(
        "discard",
        help="delete a spec's work branch and worktree (asks first)",
        description="Remove agent-tui/<spec> and its worktree, after asking.",
    )
    _common(discard)
    discard.add_argument("--yes", action="store_true", help="do not ask (for scripts)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project", required=True, type=given, metavar="DIR", help="the project directory"
    )
    parser.add_argument(
        "--spec",
        type=given,
        metavar="SPEC",
        help="spec directory path (a relative one from the current directory), or a "
        "number/name prefix (default: the only spec)",
    )


def run_workspace(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
) -> int:
    from agent_tui.auth.redaction import redact
    from agent_tui.text import printable
    from agent_tui.workspace.git import GitError
    from agent_tui.workspace.merge import MergeConflict, MergeRefused

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        location = _located(args)
        if args.command == "diff":
            return _diff(location, args.subtask, out, err)
        _not_running(location.spec_dir)
        if args.command == "merge":
            from agent_tui.workspace.merge import merge

            print(merge(location, squash=args.squash), file=out)
            return 0
        return _discard(location, args.yes, out, err, ask)
    except MergeConflict as exc:
        print(f"agent-tui: {printable(redact(str(exc)))}", file=err)
        return EXIT_STOPPED_SHORT
    except (MergeRefused, GitError, InputError) as exc:
        print(f"agent-tui: {printable(redact(str(exc)))}", file=err)
        return EXIT_BAD_INPUT


def _located(args: argparse.Namespace):
    from agent_tui.config import worktrees_dir
    from agent_tui.plan import PlanError
    from agent_tui.plan.specs import find_spec_dir
    from agent_tui.workspace.location import WorkspaceRefused, locate

    project = Path(args.project).expanduser()
    if not project.is_dir():
        raise InputError(f"project directory {args.project!r} is not a directory")
    project = project.resolve()
    try:
        spec_dir = find_spec_dir(project, args.spec)
        location = locate(project, spec_dir, root=worktrees_dir())
    except (PlanError, WorkspaceRefused) as exc:
        raise InputError(str(exc)) from None
    if not location.isolated:
        raise InputError(f"{project}: {location.reason}, so its runs have no work branch")
    return location


def _not_running(spec_dir: Path) -> None:
    from agent_tui.engine.control.runlock import RunLock, SpecBusy

    try:
        RunLock(spec_dir).check()
    except SpecBusy as exc:
        raise InputError(str(exc)) from None  # it says what to do


def _diff(location, subtask: str | None, out: TextIO, err: TextIO) -> int:
    from agent_tui.workspace.merge import Branch, MergeRefused
    from agent_tui.workspace.review import Review, work_in_progress

    review = Review.of(location)
    if not review.exists():
        raise MergeRefused(f"there is no work branch {review.branch}: nothing to show")
    if subtask is None:
        text = review.branch_diff()
        if not text:
            print(f"agent-tui: {review.branch} changes nothing yet: no diff to show", file=err)
    else:
        _known_subtask(location.spec_dir, subtask)
        text = review.subtask_diff(subtask)
        if not text:
            print(f"agent-tui: subtask {subtask} has no commit on {review.branch}", file=err)
    pending = work_in_progress(Branch(location).worktree())
    if pending:
        print(
            f"agent-tui: its worktree ({location.worktree}) also holds changes not committed "
            "yet (not shown)",
            file=err,
        )
    write_diff(text, out)
    return 0


def _known_subtask(spec_dir: Path, subtask_id: str) -> None:
    from agent_tui.plan import PlanError, find_subtask, load_plan

    try:
        plan = load_plan(spec_dir / "implementation_plan.json")
    except PlanError as exc:
        raise InputError(str(exc)) from None
    if find_subtask(plan, subtask_id) is None:
        known = ", ".join(s.id for s in plan.subtasks()) or "none"
        raise InputError(f"the plan has no subtask {subtask_id!r} (its subtasks: {known})")


def write_diff(diff: bytes, out: TextIO) -> None:
    """``diff`` masked and made printable, line by line; coloured on a terminal."""
    from agent_tui.auth.redaction import redact
    from agent_tui.text import printable
    from agent_tui.workspace.review import line_kinds

    colour = out.isatty()
    lines = (printable(redact(line)) for line in diff.decode("utf-8", "replace").splitlines())
    for line, kind in line_kinds(lines):
        code = COLOURS.get(kind) if colour else None
        print(f"\x1b[{code}m{line}\x1b[m" if code else line, file=out)


def _discard(location, yes: bool, out: TextIO, err: TextIO, ask) -> int:
    from agent_tui.workspace.merge import discard
    from agent_tui.workspace.review import Review

    if not yes:
        if ask is None and not sys.stdin.isatty():
            raise InputError(
                "discard deletes the work branch and its worktree: pass --yes to confirm "
                "(stdin is not a terminal to ask on)"
            )
        count = len(Review.of(location).commits()) if Review.of(location).exists() else 0
        prompt = f"Delete {location.branch} ({counted(count, 'commit')}) and its worktree? [y/N] "
        try:
            answer = (ask or input)(prompt)
        except EOFError:
            answer = ""
        except KeyboardInterrupt:  # ctrl+c at the question: said on a line of its own
            print("\nagent-tui: nothing discarded", file=err)
            return EXIT_INTERRUPTED
        if answer.strip().lower() not in ("y", "yes"):
            print("agent-tui: nothing discarded", file=err)
            return EXIT_STOPPED_SHORT
    print(discard(location), file=out)
    return 0
