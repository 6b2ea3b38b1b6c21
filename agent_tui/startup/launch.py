"""``agent-tui run`` in a terminal: the checks in a forked child while the app loads.

The child sends the title and the plan's first view as soon as the plan has passed its
checks, and the app draws them, off screen, while the child checks the profile and its
credentials: the app shows itself only once every check has passed, and a refusal is one
line in the shell.  The child's answer is the checked run, and the loop is built from it,
in a thread, once the first frame is up, so its imports do not delay that frame.

Imports are kept light at the top: this module is imported before the checks fork.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agent_tui.exit_codes import InputError
from agent_tui.startup import collector
from agent_tui.startup.preflight import Preflight, Send


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
            title, first_view = preflight.early()  # type: ignore[misc]
            if preflight.settled:  # checked here already (no fork): refused before the app
                preflight.wait()
            gate = None if preflight.settled else preflight.wait
            factory = _loop_factory(preflight, args)
            return run_app(
                wrap(factory) if wrap is not None else factory,
                title=title,
                plan=first_view,
                gate=gate,
                plan_discard=plan_discard,
            )
        finally:
            preflight.close()


def _loop_factory(preflight: Preflight, args: argparse.Namespace) -> Callable:
    """The app's loop factory: the checked run, unpickled in a thread with the loop's
    imports (away from the UI's thread), then the loop built from it.

    Called again (the app starts a new run to try a stuck subtask again), it checks
    ``args`` afresh, as a new ``agent-tui run`` would, less ``--retry-stuck``: the user
    named the one subtask to try.  A refusal is raised to the app."""
    made = 0

    def load() -> object:
        import agent_tui.engine.loop  # noqa: F401  (its imports, off the UI's thread)

        return preflight.result()

    def check_again() -> object:
        from dataclasses import replace

        from agent_tui.startup.checks import check_run

        return replace(check_run(args), retry_stuck=False)

    async def make_loop(sink):
        import asyncio

        nonlocal made
        made += 1
        checked = await asyncio.to_thread(load if made == 1 else check_again)
        from agent_tui.startup.checks import build_loop  # loaded by now, with the record

        return build_loop(checked, sink)  # type: ignore[arg-type]

    return make_loop
