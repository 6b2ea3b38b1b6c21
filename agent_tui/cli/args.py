"""The ``run``, ``new`` and ``demo`` subcommands' arguments, the argument types every
parser shares, and the parser class whose errors are one line.

Built on every start, before the checks fork (see ``agent_tui.cli.commands``): argparse only.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import NoReturn

from agent_tui.exit_codes import InputError


class OneLineParser(argparse.ArgumentParser):
    """argparse's errors as one sentence naming the problem (an ``InputError``: one line,
    exit 2), not its usage block.

    An unknown option is named before the required one it may have stood in for
    (``--projct DIR``): argparse checks for missing options first and would only say
    ``--project`` is required.  Every sub-parser is of this class too.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.required_options: list[argparse.Action] = []

    def add_argument(self, *args, **kwargs) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        if action.required and action.option_strings:
            self.required_options.append(action)
        return action

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see {self.prog} --help)")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = None if args is None else list(args)
        try:
            return super().parse_known_args(words, namespace)
        except InputError as refused:
            if not self.required_options:
                raise
            parsed = self._without_required(words)
            if parsed is None or not any(word.startswith("-") for word in parsed[1]):
                raise refused from None
            return parsed  # the caller names the unknown option

    def _without_required(
        self, words: list[str] | None
    ) -> tuple[argparse.Namespace, list[str]] | None:
        """``words`` parsed as if no option were required; None if that fails too."""
        for action in self.required_options:
            action.required = False
        try:
            return super().parse_known_args(words, None)
        except InputError:
            return None
        finally:
            for action in self.required_options:
                action.required = True


def given(text: str) -> str:
    """A value that must say something: ``--project "$DIR"`` with DIR unset is an error,
    not the current directory (nor, for the other options, their default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def dollars(text: str) -> float:
    """An amount of US dollars above zero: ``15``, ``4.50``, ``$15``."""
    try:
        value = float(text.strip().removeprefix("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of dollars") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be an amount above 0")
    return value


def add_run_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    run = subparsers.add_parser(
        "run",
        help="run the coder loop on a project (the default command)",
        description="Run the coder loop on DIR's spec: in the app, or headless with --headless. "
        'New here? README.md, "Your first run": log in, agent-tui new, run, diff, merge.',
    )
    run.add_argument(
        "--project", required=True, type=given, metavar="DIR", help="the project directory"
    )
    run.add_argument(
        "--spec",
        type=given,
        metavar="SPEC",
        help="spec directory path (a relative one from the current directory), or a "
        "number/name prefix under DIR/.auto-claude/specs/ (default: the only spec there); "
        "it holds spec.md or implementation_plan.json",
    )
    run.add_argument(
        "--profile", type=given, metavar="NAME", help="auth profile to start with (default: active)"
    )
    run.add_argument(
        "--model", type=given, metavar="M", help="model for every session (default: the CLI's)"
    )
    run.add_argument(
        "--max-iterations", type=positive_int, metavar="N", help="stop after N coder sessions"
    )
    run.add_argument(
        "--lanes",
        type=positive_int,
        metavar="N",
        help="work on up to N independent subtasks at once, each in a worktree of its own, "
        "and merge each through a queue that runs the checks again (default: the plan's "
        "recommended_workers, else 1)",
    )
    add_budget_flag(run)
    run.add_argument(
        "--retry-stuck",
        action="store_true",
        help="try every stuck subtask again, with 3 new tries before it is stuck again "
        "(setting one back to pending in the plan does the same for it)",
    )
    run.add_argument(
        "--in-place",
        action="store_true",
        help="in a git repository, work on your checkout itself rather than in the spec's "
        "own worktree and branch (no commits, no rollback)",
    )
    run.add_argument(
        "--qa",
        action="store_true",
        help="once every subtask is completed, QA review and fix sessions until a review "
        "approves the build (exit 0 only then; the qa setting does the same)",
    )
    run.add_argument(
        "--review-plan",
        action="store_true",
        help="when the planner writes the plan, stop for you to review it before any coding: "
        "in the app approve, edit or discard it; headless, the run ends there (exit 0) and "
        "the next run codes it",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="on a usage limit, do not wait for its reset: pause (headless: exit 3)",
    )
    add_output_flags(run)
    return run


def add_new_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    new = subparsers.add_parser(
        "new",
        help="create the next numbered spec from a sentence, plan it, and review the plan",
        description="Create DIR/.auto-claude/specs/NNN-slug/spec.md from SENTENCE (or --from "
        "FILE), then run the planner and stop at its plan: in the app, approve it (coding "
        "starts), edit it ($EDITOR) or discard it; headless, the plan is printed and the "
        'command exits 0 for agent-tui run to code it. See README, "Your first run".',
    )
    new.add_argument(
        "sentence",
        nargs="?",
        metavar="SENTENCE",
        help="what to build, in a few words: spec.md's title, and the spec's name (its slug)",
    )
    new.add_argument(
        "--from",
        dest="from_file",
        type=given,
        metavar="FILE",
        help="a longer spec written beforehand (UTF-8, up to 256 KiB); with SENTENCE, the "
        "sentence is its title",
    )
    new.add_argument(
        "--project",
        default=".",
        type=given,
        metavar="DIR",
        help="the project directory (default: the current one)",
    )
    new.add_argument(
        "--no-plan", action="store_true", help="only create the spec; agent-tui run plans it"
    )
    new.add_argument(
        "--in-place",
        action="store_true",
        help="in a git repository, plan in the project itself rather than in the spec's "
        "own worktree",
    )
    add_output_flags(new)
    return new


def add_budget_flag(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--max-spend",
        type=dollars,
        metavar="USD",
        help="this run's budget in US dollars: no session starts once its sessions have spent "
        "it (the app pauses, headless exits 3); a session running then finishes",
    )


def add_demo_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    demo = subparsers.add_parser(
        "demo",
        help="run the bundled sample project against a scripted model (no credentials)",
        description="Copy the bundled sample project to a temp dir (or --workdir), make it a "
        "git repository (where git is installed), start the scripted Messages API on "
        "127.0.0.1 and drive the real bundled Claude Code CLI with it: the agent works in "
        "the sample's own worktree, a commit per subtask.  No credentials, no network.",
    )
    demo.add_argument(
        "--workdir",
        type=given,
        metavar="DIR",
        help="where to put the sample project (kept): a new or empty directory, or one an "
        "earlier demo used (its sample project starts afresh); its work branch is kept for "
        "agent-tui diff / merge / discard",
    )
    add_output_flags(demo)
    return demo


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="no app: print events to stdout")
    parser.add_argument(
        "--events",
        choices=("text", "jsonl"),
        help="with --headless: readable lines (default) or one JSON object per line",
    )


def unknown_arguments(extras: list[str], command: str) -> InputError:
    """The one line for words no parser took: the options named first (a mistyped option
    is the likelier mistake), then where to look."""
    options = [word for word in extras if word.startswith("-")]
    if options:
        found = f"unknown option{'s' if len(options) > 1 else ''} {', '.join(options)}"
    else:
        found = f"unexpected argument{'s' if len(extras) > 1 else ''} {' '.join(extras)!r}"
    return InputError(f"{found} (see {command} --help)")


def check_output_flags(args: argparse.Namespace) -> None:
    """``--events`` says how headless mode prints; without ``--headless`` it would be
    ignored, so it is refused."""
    if args.events is not None and not args.headless:
        raise InputError(
            f"--events {args.events} applies only with --headless (the app shows the events "
            "itself): add --headless, or drop --events"
        )
    args.events = args.events or "text"
