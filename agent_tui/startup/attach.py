"""``agent-tui attach``: the app on a run in its own process, or on the list of runs.

The app is the one ``agent-tui run`` shows, with the hangup-safe driver; in a browser
(``agent-tui serve`` starts this with Textual's web driver) the driver is that one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent_tui.runproc import registry
from agent_tui.runproc.client import attaching
from agent_tui.startup import collector
from agent_tui.startup.launched_app import LaunchedApp, run_app
from agent_tui.tui.runs_app import RunsApp


class LaunchedRunsApp(LaunchedApp, RunsApp):
    """``RunsApp`` through the driver ``LaunchedApp`` picks."""


def attach_app(socket: Path, title: str, wrap: Callable[[Callable], Callable] | None = None) -> int:
    """The app attached to the run listening at ``socket`` until it ends or is left
    (``wrap``: given the loop factory, returns the one the app uses, to watch the events)."""
    factory = attaching(socket)
    return run_app(wrap(factory) if wrap is not None else factory, title=title)


def runs_app() -> int:
    """The list of runs; Enter attaches."""
    collector.freeze_loaded()
    app = LaunchedRunsApp(registry.runs, registry.dismiss)
    result = app.run()
    return result if result is not None else 0
