"""Command line: parse, check the input, then run the TUI, headless mode or the demo.

Bad input never gets a traceback: one sentence on stderr and exit code 2.

Imports are kept to the parser at the top: ``run``'s checks fork from this module early
(see ``agent_tui.preflight``), and whatever loads before the fork delays both sides.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from agent_tui import __version__
from agent_tui.argtypes import given, positive_int
from agent_tui.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from agent_tui.printable import printable

SUBCOMMANDS = ("run", "demo", "profiles")

DESCRIPTION = """\
Supervise an autonomous Claude coding loop over an Auto-Claude implementation_plan.json:
a planner session if the plan is missing, then one fresh agent session per subtask until
every subtask is completed.  The app shows the subtask tree, the streaming session log and
any retry countdown; keys pause/resume the loop and switch the auth profile.
"""

EPILOG = """\
examples:
  agent-tui demo                          scripted model on 127.0.0.1, no credentials needed
  agent-tui --project ~/code/app          run the only spec of ~/code/app in the app
  agent-tui run --project . --spec 002 --headless --events jsonl
  agent-tui profiles add work --config-dir ~/.claude-work

exit codes: 0 all subtasks completed, 2 bad input or config, 3 stopped short
(stuck subtask, --max-iterations, no usable profile), 130 interrupted.
environment: ANTHROPIC_BASE_URL and CLAUDE_CODE_MAX_RETRIES pass through to the CLI;
AGENT_TUI_CONFIG_DIR overrides where profiles are kept.
"""


class InputError(Exception):
    """Bad input or configuration: reported as one line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    from agent_tui.auth.profiles_parser import add_profiles_parser

    parser = argparse.ArgumentParser(
        prog="agent-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agent-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{run,demo,profiles}")

    run = sub.add_parser(
        "run",
        help="run the coder loop on a project (the default command)",
        description="Run the coder loop on DIR's spec: in the app, or headless with --headless.",
    )
    run.add_argument(
        "--project", required=True, type=given, metavar="DIR", help="the project directory"
    )
    run.add_argument(
        "--spec",
        type=given,
        metavar="SPEC",
        help="spec directory path, or a number/name prefix under DIR/.auto-claude/specs/ "
        "(default: the only spec there); it holds spec.md or implementation_plan.json",
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
    _add_output_flags(run)

    demo = sub.add_parser(
        "demo",
        help="run the bundled sample project against a scripted model (no credentials)",
        description="Copy the bundled sample project to a temp dir (or --workdir), start the "
        "scripted Messages API on 127.0.0.1 and drive the real bundled Claude Code CLI with it.",
    )
    demo.add_argument(
        "--workdir",
        type=given,
        metavar="DIR",
        help="where to put the sample project (kept): a new or empty directory, or one an "
        "earlier demo used (its sample project starts afresh)",
    )
    _add_output_flags(demo)

    add_profiles_parser(sub)
    return parser


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="no app: print events to stdout")
    parser.add_argument(
        "--events",
        choices=("text", "jsonl"),
        default="text",
        help="headless output: readable lines (default) or one JSON object per line",
    )


def _with_default_command(argv: Sequence[str]) -> list[str]:
    args = list(argv)
    if args and args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "--version"):
        return ["run", *args]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(_with_default_command(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        if args.command == "profiles":
            from agent_tui.auth.commands import run_profiles

            code = run_profiles(args)
            sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
            return code
        if args.command == "demo":
            return _demo(args)
        return _run(args)
    except InputError as exc:
        print(f"agent-tui: {printable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `agent-tui profiles list | head -1`: stop quietly
        from agent_tui.pipes import send_stdout_nowhere

        send_stdout_nowhere()
        return EXIT_INTERRUPTED


def bundled_cli() -> Path | None:
    """The CLI that claude-agent-sdk ships, found without importing the SDK (that is slow)."""
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "_bundled" / "claude"


def _check_cli_available() -> None:
    """Fail early, with one line, when neither the bundled CLI nor ``claude`` on PATH exists."""
    bundled = bundled_cli()
    if (bundled is None or not bundled.exists()) and shutil.which("claude") is None:
        raise InputError(
            "the Claude Code CLI was not found: reinstall claude-agent-sdk (it bundles the CLI)"
        )


def _check_starting_profile(store, name: str | None) -> None:
    """A run must not start on a profile whose credentials cannot work."""
    from agent_tui.auth.credentials import resolve

    profile = store.get(name) if name else store.active_profile()
    if profile is None:
        return
    resolution = resolve(profile)
    if not resolution.usable:
        raise InputError(resolution.refusal)


class Prepared:
    """What the checks of ``agent-tui run`` found: enough to start the loop.

    A plain class: a dataclass would load ``dataclasses`` (and ``inspect``) before the
    checks fork, delaying both sides."""

    __slots__ = ("first_view", "make_loop", "title")

    def __init__(self, title: str, first_view: object, make_loop: Callable) -> None:
        self.title = title
        self.first_view = first_view  # a PlanLoaded for the app's first frame, or None
        self.make_loop = make_loop


def _prepare(args: argparse.Namespace, on_view: Callable | None = None) -> Prepared:
    """Check everything ``run`` needs (one ``InputError`` if not); nothing is written.

    ``on_view``, if given, gets the title and the plan's first view as soon as the plan has
    passed its checks, before the profile and its credentials are checked.
    """
    from agent_tui.atomic import LinkRefused
    from agent_tui.engine.containment import ContainmentRefused, check_records, sandbox_for
    from agent_tui.engine.recovery import AttemptHistory, RecoveryError
    from agent_tui.engine.runlock import RunLock, SpecBusy
    from agent_tui.engine.views import plan_view
    from agent_tui.plan import PlanError, is_empty, load_plan
    from agent_tui.plan.specs import find_spec_dir

    project = Path(args.project).expanduser()
    if not project.is_dir():
        raise InputError(f"project directory {args.project!r} does not exist")
    project = project.resolve()
    try:
        spec_dir = find_spec_dir(project, args.spec)
        plan_path = spec_dir / "implementation_plan.json"
        plan = load_plan(plan_path) if plan_path.exists() else None
        check_records(spec_dir)
        history = AttemptHistory(spec_dir)
        RunLock(spec_dir).check()
    except (PlanError, RecoveryError, SpecBusy, LinkRefused) as exc:
        raise InputError(str(exc)) from None
    title = f"agent-tui — {spec_dir.name}"
    first_view = plan_view(plan, spec_dir, history) if plan and not is_empty(plan) else None
    if on_view is not None:
        on_view((title, first_view))

    # Only now: the app can draw the plan while these load and check.
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.config import ConfigError

    try:
        store = ProfileStore.load()
        if args.profile:
            store.get(args.profile)
        elif store.data.active is not None and store.data.active not in store.names():
            # A hand-edited file: not the default login in silence (profiles use repairs it).
            raise InputError(
                f"the active profile {store.data.active!r} is not in {store.path}: "
                "pick one with agent-tui profiles use NAME"
            )
        _check_starting_profile(store, args.profile)
        sandbox = sandbox_for(store.settings.containment)
    except (ConfigError, ContainmentRefused) as exc:
        raise InputError(str(exc)) from None
    except KeyError:
        raise InputError(
            f"no profile named {args.profile!r} (see: agent-tui profiles list)"
        ) from None
    _check_cli_available()

    def make_loop(sink):
        from agent_tui.engine.loop import CoderLoop

        return CoderLoop(
            _loop_config(args, store.settings, project, spec_dir, sandbox), store, sink
        )

    return Prepared(title, first_view, make_loop)


def _loop_config(args: argparse.Namespace, settings, project: Path, spec_dir: Path, sandbox):
    from agent_tui.engine.loop import LoopConfig

    return LoopConfig(
        project_dir=project,
        spec_dir=spec_dir,
        model=args.model or settings.model,
        max_iterations=args.max_iterations,
        pause_between_s=settings.pause_between_s,
        bash_allowlist=settings.bash_allowlist,
        auto_switch=settings.auto_switch,
        pause_on_problem=not args.headless,
        profile=args.profile,
        sandbox=sandbox,
    )


def _run(args: argparse.Namespace) -> int:
    if not args.headless and _is_terminal():
        return _run_in_app(args)
    prepared = _prepare(args)
    return _launch(args, prepared.make_loop, title=prepared.title, plan=prepared.first_view)


def _run_in_app(args: argparse.Namespace) -> int:
    """As ``_run``, with the checks in a child process while Textual loads (see preflight).

    The child sends the title and the plan's first view as soon as the plan is checked, and
    the app draws them, off screen, while the child checks the profile: the app shows
    itself only once every check has passed.  The loop itself is prepared again, in a
    thread, once the first frame is up, so its imports do not delay it.
    """
    from agent_tui.preflight import Preflight

    def check(send: Callable) -> None:
        """Sends the title and plan view early; the answer is only pass or refuse."""
        _prepare(args, on_view=send)

    with _collector_paused():  # the checks' child inherits it
        preflight = Preflight.start(check, InputError)
        from agent_tui.tui.app import run_app

        try:
            title, first_view = preflight.early()  # type: ignore[misc]
            gate = None if preflight.settled else preflight.result
            return run_app(_loop_factory(args), title=title, plan=first_view, gate=gate)
        finally:
            preflight.close()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while the app loads: its young-generation passes cost ~10 ms of
    start-up.  The app switches it back on once its first frame is drawn (see ``run_app``);
    leaving this switches it on in any case."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _loop_factory(args: argparse.Namespace) -> Callable:
    """The app's loop factory for ``run``: ``_prepare`` again, in a thread."""

    def load() -> Prepared:
        import agent_tui.engine.loop  # noqa: F401  (its imports, away from the UI's thread)

        return _prepare(args)

    async def make_loop(sink):
        import asyncio

        prepared = await asyncio.to_thread(load)
        return prepared.make_loop(sink)

    return make_loop


def _is_terminal() -> bool:
    return sys.stdout.isatty() or bool(os.environ.get("AGENT_TUI_FORCE_APP"))


def _demo(args: argparse.Namespace) -> int:
    from agent_tui.demo import DemoWorkspaceError, create_workspace, demo_config, start_sim
    from agent_tui.engine.loop import CoderLoop
    from agent_tui.engine.recovery import AttemptHistory
    from agent_tui.engine.views import plan_view
    from agent_tui.plan import load_plan

    _check_cli_available()
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
        return CoderLoop(config, workspace.profiles, sink)

    try:
        code = _launch(args, make_loop, title="agent-tui demo", plan=first_view)
    finally:
        sim.stop()
        if workspace.owns_root:
            shutil.rmtree(workspace.root, ignore_errors=True)
    if not workspace.owns_root:
        with contextlib.suppress(OSError):  # the terminal may be gone (closed window: EIO)
            print(f"demo project kept in {workspace.project_dir}", file=sys.stderr)
    return code


def _launch(args: argparse.Namespace, make_loop: Callable, *, title: str, plan=None) -> int:
    """Run headless or in the app; ``plan`` (a ``PlanLoaded``) fills the app's first frame."""
    if args.headless:
        import asyncio

        from agent_tui.headless import run_headless

        return asyncio.run(run_headless(make_loop, args.events))
    if not _is_terminal():
        raise InputError("stdout is not a terminal: use --headless for plain output")
    with _collector_paused():
        from agent_tui.tui.app import run_app

        return run_app(make_loop, title=title, plan=plan)


if __name__ == "__main__":
    sys.exit(main())
