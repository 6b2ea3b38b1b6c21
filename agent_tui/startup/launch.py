"""``agent-tui run`` in a terminal: the checks in a forked child while the app loads, then
the run in a process of its own, and the app attached to it.

The child sends the title and the plan's first view as soon as the plan has passed its
checks, and the app draws them, off screen, while the child checks the profile and its
credentials: the app shows itself only once every check has passed, and a refusal is one
line in the shell.  The child's answer is the checked run, still pickled: it goes as it is
to the run process (see ``agent_tui.runproc``), started once the first frame is up, and the
app attaches to it.  The run outlives the app: closing the terminal, or ``ctrl+d``, leaves
it going.

Imports are kept light at the top: this module is imported before the checks fork.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from agent_tui.exit_codes import InputError
from agent_tui.startup import collector
from agent_tui.startup.preflight import Preflight, Send

RUN_PROCESS = "agent_tui.startup.run_process"


def run_in_app(
    args: argparse.Namespace,
    wrap: Callable[[Callable], Callable] | None = None,
    plan_discard: str = "",
) -> int:
    """Check ``args`` once, beside the app's start; run the loop in the app if they pass.

    ``wrap`` is given the loop factory and returns the one the app uses (to watch the
    run's events); ``plan_discard`` says in a plan review what a discard removes."""

    def check(send: Send) -> object:
        from agent_tui.startup.checks import check_run

        return check_run(args, on_view=send)

    with collector.paused():  # the checks' child inherits it
        preflight = Preflight.start(check, InputError)
        from agent_tui.startup.launched_app import run_app

        try:
            title, first_view, spec_dir = preflight.early()  # type: ignore[misc]
            if preflight.settled:  # checked here already (no fork): refused before the app
                preflight.wait()
            gate = None if preflight.settled else preflight.wait
            factory = _run_process(_jobs(preflight, args), spec_dir)
            return run_app(
                wrap(factory) if wrap is not None else factory,
                title=title,
                plan=first_view,
                gate=gate,
                plan_discard=plan_discard,
            )
        finally:
            preflight.close()


def _jobs(preflight: Preflight, args: argparse.Namespace) -> Callable[[], bytes]:
    """The checked run, pickled, for each run the app starts: the first as the start-up
    checks passed it (never loaded here), each later one (the app starts a new run to try a
    stuck subtask again) from ``args`` checked afresh, as a new ``agent-tui run`` would,
    less ``--retry-stuck``: the user named the one subtask to try.  A refusal is raised."""
    made = 0

    def next_job() -> bytes:
        nonlocal made
        made += 1
        if made == 1:
            return preflight.pickled()
        import pickle
        from dataclasses import replace

        from agent_tui.startup.checks import check_run

        return pickle.dumps(replace(check_run(args), retry_stuck=False))

    return next_job


def _run_process(jobs: Callable[[], bytes], spec_dir: Path) -> Callable:
    """The app's loop factory: a run process started with the next job, then the app
    attached to it."""

    async def attach(sink):
        import asyncio

        from agent_tui.runproc.client import RemoteRun
        from agent_tui.runproc.places import RunPlace
        from agent_tui.runproc.process import spawn

        def start() -> Path:
            return spawn(RUN_PROCESS, jobs(), RunPlace.of(spec_dir)).socket

        socket = await asyncio.to_thread(start)
        return await RemoteRun.attach(socket, sink)

    return attach
