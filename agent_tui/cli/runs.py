"""``agent-tui ls | attach``: every run on this machine, and the app on one of them.

A run started by ``agent-tui run`` goes on in its own process when its app is left
(``ctrl+d``, or the terminal closed); ``ls`` lists it with the others, the ones that need
you first, and ``attach`` shows it again.  The parsers are built on every start (argparse
only at the top).  Exit codes: 0; 2 nothing to attach to (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from agent_tui.cli.args import given
from agent_tui.exit_codes import InputError
from agent_tui.text import printable

LS_COLUMNS = ("STATE", "SPEC", "PROGRESS", "LANES", "SPEND", "PID", "LAST EVENT", "PROJECT")


def add_runs_parsers(subparsers: argparse._SubParsersAction) -> None:
    ls = subparsers.add_parser(
        "ls",
        help="every run on this machine, across projects, the ones that need you first",
        description="List every run on this machine: its state (running, waiting for a "
        "reset, paused, needs you, stuck, finished), progress, lanes, spend and last event. "
        "A finished run stays listed, with its outcome, until dismissed.",
    )
    ls.add_argument(
        "--dismiss", action="store_true", help="forget the finished runs (after listing them)"
    )
    attach = subparsers.add_parser(
        "attach",
        help="show a run that goes on in its own process (without a spec: the list of runs)",
        description="Open the app on a run started by agent-tui run: the same tree, log and "
        "keys as the app that started it; ctrl+d leaves it going, q stops it (asking). "
        "Without --project and --spec: the list of runs; Enter attaches.",
    )
    attach.add_argument("--project", type=given, metavar="DIR", help="the run's project")
    attach.add_argument(
        "--spec", type=given, metavar="SPEC", help="the run's spec (a path, number or name)"
    )


def run_ls(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from agent_tui.runproc import registry

    out = out or sys.stdout
    records = registry.runs()
    if not records:
        print("no runs on this machine (agent-tui run starts one)", file=out)
        return 0
    rows = [LS_COLUMNS, *(_ls_row(record) for record in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(LS_COLUMNS) - 1)]
    for row, record in zip(rows, [None, *records], strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)
        if record is not None and record.needs_you:
            print(f"  ! {printable(record.needs_you)}", file=out)
    if args.dismiss:
        gone = [r for r in records if registry.dismiss(r)]
        print(f"dismissed {len(gone)} finished run{'' if len(gone) == 1 else 's'}", file=out)
    return 0


def _ls_row(record) -> tuple[str, ...]:
    return (
        record.state_text(),
        printable(record.spec),
        f"{record.done}/{record.total}",
        f"{record.lanes_busy}/{record.lanes}",
        f"${record.spend_usd:.2f}",
        "-" if record.finished else str(record.pid),
        printable(record.last_event),
        printable(record.project_shown()),
    )


def run_attach(args: argparse.Namespace) -> int:
    if not (sys.stdout.isatty() or os.environ.get("TEXTUAL_DRIVER")):
        raise InputError("stdout is not a terminal: attach shows the app (agent-tui ls lists runs)")
    if args.project is None and args.spec is None:
        from agent_tui.startup.attach import runs_app

        return runs_app()
    record = _the_run(Path(args.project or "."), args.spec)
    from agent_tui.cli.plan_review import RunEnd
    from agent_tui.startup.attach import attach_app
    from agent_tui.startup.checks import title_for

    end = RunEnd()
    spec_dir = Path(record.spec_dir)
    code = attach_app(Path(record.socket), title_for(spec_dir), wrap=end.watching)
    end.say(Path(record.project_dir), spec_dir)  # the run ended while attached: how
    return code


def _the_run(project: Path, spec: str | None):
    """The live run of ``project``'s spec ``spec`` (or of its only running spec)."""
    from agent_tui.plan import PlanError
    from agent_tui.plan.specs import find_spec_dir
    from agent_tui.runproc import registry

    if not project.is_dir():
        raise InputError(f"project directory {str(project)!r} does not exist")
    project = project.resolve()
    if spec is None:
        running = [r for r in registry.runs() if not r.finished and Path(r.project_dir) == project]
        if len(running) == 1:
            return running[0]
        if len(running) > 1:
            names = ", ".join(r.spec for r in running)
            raise InputError(f"{len(running)} runs in {project} ({names}): pick one with --spec")
    try:
        spec_dir = find_spec_dir(project, spec)
    except PlanError as exc:
        raise InputError(str(exc)) from None
    record = registry.record_of(spec_dir)
    if record is None or record.finished:
        _refuse_if_headless(spec_dir)
    if record is None:
        raise InputError(f"no run of {spec_dir.name} on this machine (agent-tui run starts one)")
    if record.finished:
        said = f": {record.message}" if record.message else ""
        step = record.next_step()
        raise InputError(
            f"the run of {spec_dir.name} has finished, {record.outcome}{said}"
            + (f"; {step}" if step else "")
        )
    return record


def _refuse_if_headless(spec_dir: Path) -> None:
    """A run holds the spec but has no record to attach to: a ``--headless`` one."""
    from agent_tui.engine.control.runlock import RunLock, SpecBusy, UnsafeLockFile
    from agent_tui.runproc.registry import NO_APP

    try:
        RunLock(spec_dir).check()
    except UnsafeLockFile:
        return
    except SpecBusy:
        raise InputError(f"{spec_dir.name} is being run {NO_APP}") from None
