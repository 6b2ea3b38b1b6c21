"""Command line: parse, check the input, then run the TUI, headless mode or the demo.

Bad input never gets a traceback: one sentence on stderr and exit code 2.

Imports are kept to the parser at the top: ``run``'s checks fork from this module early
(see ``agent_tui.startup``), and whatever loads before the fork delays both sides.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent_tui import __version__
from agent_tui.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED, InputError
from agent_tui.text import printable

SUBCOMMANDS = (
    "run", "new", "demo", "ls", "attach", "serve", "profiles", "settings", "spend", "diff",
    "merge", "discard",
)  # fmt: skip

DESCRIPTION = """\
Supervise an autonomous Claude coding loop over an Auto-Claude implementation_plan.json:
a planner session if the plan is missing, then one fresh agent session per subtask until
every subtask is completed.  The app shows the subtask tree, the streaming session log and
any retry countdown; keys pause/resume the loop and switch the auth profile.
"""

EPILOG = """\
your first run (README.md, "Your first run", says more):
  agent-tui profiles add work --config-dir ~/.claude-work   it offers to log in
  agent-tui new "Add a --verbose flag" --project .          a spec, its plan, your review
  agent-tui run --project . --spec 001                      code it, a commit per subtask
  agent-tui diff --project .                                read what it changed
  agent-tui merge --project .                               bring it into your branch

examples:
  agent-tui demo                          scripted model on 127.0.0.1, no credentials needed
  agent-tui --project ~/code/app          run the only spec of ~/code/app in the app
  agent-tui ls                            every run on this machine; attach shows one
  agent-tui run --project . --spec 002 --headless --events jsonl
  agent-tui diff --project . --subtask 1.2   read what a subtask changed
  agent-tui run --project . --max-spend 15 --headless   stop once this run has spent $15
  agent-tui spend --project . --month       each profile's month, and this project's share

exit codes: 0 all subtasks completed (with --qa: and approved), or the run ended at its
plan review with the plan kept; 2 bad input or config; 3 stopped short (stuck subtask,
--max-iterations, a budget, no usable profile, a usage limit not waited for, QA escalated);
130 interrupted.
environment: ANTHROPIC_BASE_URL and CLAUDE_CODE_MAX_RETRIES pass through to the CLI;
AGENT_TUI_CONFIG_DIR overrides where profiles and settings are kept, AGENT_TUI_STATE_DIR
where each profile's usage window and the spend ledger are, AGENT_TUI_DATA_DIR where the
specs' worktrees are.
"""


def build_parser() -> argparse.ArgumentParser:
    from agent_tui.cli.args import OneLineParser, add_demo_parser, add_new_parser, add_run_parser
    from agent_tui.cli.profiles_args import add_profiles_parser
    from agent_tui.cli.runs import add_runs_parsers
    from agent_tui.cli.serve import add_serve_parser
    from agent_tui.cli.settings import add_settings_parser
    from agent_tui.cli.spend import add_spend_parser
    from agent_tui.cli.workspace import add_workspace_parsers

    parser = OneLineParser(
        prog="agent-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agent-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")

    add_run_parser(sub)
    add_new_parser(sub)
    add_demo_parser(sub)
    add_runs_parsers(sub)
    add_serve_parser(sub)
    add_profiles_parser(sub)
    add_settings_parser(sub)
    add_spend_parser(sub)
    add_workspace_parsers(sub)
    return parser


def _with_default_command(argv: Sequence[str]) -> list[str]:
    """``run`` in front when the first word is an option; a bare word that names no command
    is refused, since ``run`` takes no word and would only ask for ``--project``."""
    args = list(argv)
    if args and args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version"):
        if not args[0].startswith("-"):
            raise InputError(f"no command {args[0]!r} (commands: {', '.join(SUBCOMMANDS)})")
        return ["run", *args]
    return args


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """The arguments, or an ``InputError`` naming what is wrong with them (one line)."""
    from agent_tui.cli.args import check_output_flags, unknown_arguments

    args, extras = parser.parse_known_args(_with_default_command(argv))
    if extras:
        raise unknown_arguments(extras, _command_words(args))
    if args.command in ("run", "demo", "new"):
        check_output_flags(args)
    return args


def _command_words(args: argparse.Namespace) -> str:
    """``agent-tui settings show``: the command the arguments were given to."""
    words = ["agent-tui"]
    if args.command is not None:
        words.append(args.command)
        action = getattr(args, f"{args.command}_command", None)
        if action:
            words.append(action)
    return " ".join(words)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parse(parser, sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except InputError as exc:
        print(f"agent-tui: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command is None:
            return _no_command(parser)
        if args.command == "profiles":
            from agent_tui.cli.profiles import run_profiles

            code = run_profiles(args)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
            return code
        if args.command == "settings":
            from agent_tui.cli.settings import run_settings

            return run_settings(args)
        if args.command == "spend":
            from agent_tui.cli.spend import run_spend

            code = run_spend(args)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
            return code
        if args.command in ("diff", "merge", "discard"):
            from agent_tui.cli.workspace import run_workspace

            return run_workspace(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "new":
            from agent_tui.cli.new import run_new

            return run_new(args, _launch, _is_terminal())
        if args.command in ("ls", "attach"):
            from agent_tui.cli.runs import run_attach, run_ls

            return run_ls(args) if args.command == "ls" else run_attach(args)
        if args.command == "serve":
            from agent_tui.cli.serve import run_serve

            return run_serve(args)
        return _run(args)
    except InputError as exc:
        print(f"agent-tui: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `agent-tui profiles list | head -1`: stop quietly
        from agent_tui.headless import send_stdout_nowhere

        send_stdout_nowhere()
        return EXIT_INTERRUPTED


def _no_command(parser: argparse.ArgumentParser) -> int:
    """``agent-tui`` alone: the runs list when there are runs to show, else the help."""
    if _is_terminal():
        from agent_tui.runproc import registry

        try:
            runs = registry.runs()
        except OSError:  # the state dir is not usable: the help says what there is
            runs = []
        if runs:
            from agent_tui.startup.attach import runs_app

            return runs_app()
    parser.print_help()
    return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    from agent_tui.cli.plan_review import RunEnd

    end = RunEnd(review=args.review_plan)
    in_app = not args.headless and _is_terminal()
    if in_app:
        from agent_tui.startup.launch import run_in_app

        code = run_in_app(args, end.watching, plan_discard=PLAN_DISCARD)
        if not (args.review_plan and end.discarded):  # _after_review says what went
            _say_how_it_ended(args, end)
    else:
        from agent_tui.startup.checks import build_loop, check_run

        checked = check_run(args)

        def make_loop(sink):
            return build_loop(checked, sink)

        code = _launch(args, end.watching(make_loop), title=checked.title)
    if args.review_plan and (end.discarded or end.planned):
        _after_review(args, end, in_app)
    return code


def _say_how_it_ended(args: argparse.Namespace, end) -> None:
    """Once the app has gone, the terminal keeps how the run ended and what comes next."""
    from agent_tui.plan import PlanError
    from agent_tui.plan.specs import find_spec_dir

    project = Path(args.project).expanduser().resolve()
    try:
        spec_dir = find_spec_dir(project, args.spec)
    except (PlanError, OSError):
        spec_dir = None
    end.say(project, spec_dir)


PLAN_DISCARD = "the plan the planner wrote is removed (spec.md stays): the next run plans again"


def _after_review(args: argparse.Namespace, end, in_app: bool) -> None:
    """``run --review-plan``: a discarded plan is removed; a headless one is printed."""
    from agent_tui.cli import plan_review
    from agent_tui.plan.specs import find_spec_dir

    project = Path(args.project).expanduser().resolve()
    spec_dir = find_spec_dir(project, args.spec)
    if end.discarded:
        print(f"agent-tui: {plan_review.discard_planned(spec_dir)}", file=sys.stderr)
    elif not in_app and args.events == "text":  # the app's end summary said what next
        plan_review.print_plan(spec_dir, project, sys.stdout)


def _is_terminal() -> bool:
    return sys.stdout.isatty() or bool(os.environ.get("AGENT_TUI_FORCE_APP"))


def _demo(args: argparse.Namespace) -> int:
    from agent_tui.cli.demo import (
        DemoWorkspaceError,
        create_workspace,
        demo_config,
        demo_loop,
        review_commands,
        start_sim,
    )
    from agent_tui.engine.progress.history import AttemptHistory
    from agent_tui.engine.progress.views import plan_view
    from agent_tui.plan import load_plan
    from agent_tui.startup.checks import check_cli_available

    check_cli_available()
    try:
        workspace = create_workspace(Path(args.workdir) if args.workdir else None)
    except DemoWorkspaceError as exc:
        raise InputError(str(exc)) from None
    sim = start_sim()
    config = demo_config(workspace, sim, pause_on_problem=not args.headless)
    first_view = plan_view(
        load_plan(config.plan_path), workspace.spec_dir, AttemptHistory(workspace.spec_dir)
    )

    def make_loop(sink):
        return demo_loop(workspace, config, sink)

    # A temp dir's sample goes when the demo ends: its screenshots stay here instead.
    screenshots = Path.cwd() if workspace.owns_root else None
    try:
        code = _launch(
            args, make_loop, title="agent-tui demo", plan=first_view, screenshots=screenshots
        )
    finally:
        sim.stop()
        workspace.release()
        if workspace.owns_root:
            shutil.rmtree(workspace.root, ignore_errors=True)
    with contextlib.suppress(OSError):  # the terminal may be gone (closed window: EIO)
        print(_demo_farewell(code, workspace, review_commands), file=sys.stderr)
    return code


def _demo_farewell(code: int, workspace, review_commands: Callable[[Path], str]) -> str:
    """What the demo says as it ends: how it ended, and where its project is (or that it
    went with its temp dir, and how to keep one)."""
    how = {0: "complete", EXIT_INTERRUPTED: "stopped"}.get(code, f"ended (exit {code})")
    if workspace.owns_root:
        return (
            f"agent-tui: demo {how}; its project went with its temp dir (agent-tui demo "
            "--workdir DIR keeps one, to try diff and merge)"
        )
    kept = f"agent-tui: demo {how}; its project is kept in {workspace.project_dir}"
    if workspace.repository:
        kept += f": {review_commands(workspace.project_dir)}"
    return kept


def _launch(
    args: argparse.Namespace,
    make_loop: Callable,
    *,
    title: str,
    plan=None,
    plan_discard: str = PLAN_DISCARD,
    screenshots: Path | None = None,
) -> int:
    """Run headless or in the app; ``plan`` (a ``PlanLoaded``) fills the app's first frame,
    ``plan_discard`` says in the app's plan review what a discard removes, ``screenshots``
    says where the app saves them (default: the spec's logs/)."""
    if args.headless:
        import asyncio

        from agent_tui.headless import run_headless

        return asyncio.run(run_headless(make_loop, args.events))
    if not _is_terminal():
        raise InputError("stdout is not a terminal: use --headless for plain output")
    from agent_tui.startup import collector

    with collector.paused():
        from agent_tui.startup.launched_app import run_app

        return run_app(
            make_loop, title=title, plan=plan, plan_discard=plan_discard, screenshots=screenshots
        )


if __name__ == "__main__":
    sys.exit(main())
