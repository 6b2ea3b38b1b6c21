"""A run hosted as the run process hosts it (``RunHost``: its socket, record and snapshot),
in a thread with an event loop of its own, so an app in the test's thread, or in another
process, attaches to it over the real socket.  The loop is the scripted one of the TUI
tests: scripted sessions and a clock that moves only when the test says."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent_tui.cli.demo import create_workspace
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.runproc.host import RunHost
from tests.tui.conftest import PassingChecks, ScriptedSessions, scripted_loop

WAIT_S = 30.0


class HostedRun:
    def __init__(self, host: RunHost, clock: VirtualClock, sessions: ScriptedSessions) -> None:
        self.host = host
        self.clock = clock
        self.sessions = sessions
        self.events: list[Any] = []
        self.code: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening = threading.Event()
        self._go = threading.Event()
        self._thread = threading.Thread(target=self._main, name="hosted-run", daemon=True)

    @property
    def socket(self) -> Path:
        return self.host.place.socket

    @property
    def spec_dir(self) -> Path:
        return self.host.spec_dir

    def start(self, *, when_watched: bool = False) -> HostedRun:
        """Listen; the loop starts at once, or (``when_watched``) once an app watches, so
        that app sees every event as it happens."""
        self._thread.start()
        assert self._listening.wait(WAIT_S), "the hosted run did not start listening"
        if not when_watched:
            self._go.set()
        return self

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.host.open()
        await self.host.start()
        self._listening.set()
        while not self._go.is_set():
            if self.host.server is not None and self.host.server.attached:
                break
            await asyncio.sleep(0.01)
        self.code = await self.host.run()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the run's thread (the loop, its clock and its sessions
        belong to that thread's event loop); its result."""
        assert self._loop is not None
        done: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(function(*args))
            except BaseException as exc:
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return done.result(WAIT_S)

    def until(self, predicate: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        try:
            while not predicate():
                assert not deadline.wait(0.02), f"timed out waiting for {what}"
        finally:
            timer.cancel()

    def stop(self) -> None:
        """End the run (if it goes on) and wait for its thread; apps must have left.

        The stop is sent, not waited for: a run that ends as it arrives closes its event
        loop, which then never runs it (waiting for its result was a 30 s timeout)."""
        loop = self._loop
        if self._thread.is_alive() and loop is not None and self.host.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the run is over
                loop.call_soon_threadsafe(self.host.loop.stop, "the test is over")
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the hosted run did not end"


def hosted_run(
    root: Path,
    failures: dict[str, int] | None = None,
    hold: set[str] | None = None,
    clock: VirtualClock | None = None,
) -> HostedRun:
    """The demo plan with scripted sessions, hosted; not started.  ``clock`` moves only
    when the test says (by default it starts at 1000 s)."""
    workspace = create_workspace(root / "hosted")
    plan_path = workspace.spec_dir / "implementation_plan.json"
    sessions = ScriptedSessions(plan_path, failures)
    sessions.hold = set(hold or ())
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        model="claude-sonnet-4-5",
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
    )
    clock = clock or VirtualClock(auto_advance=False)
    events: list = []
    make_loop = scripted_loop(config, workspace, sessions, PassingChecks(), clock, events)
    host = RunHost(make_loop, workspace.spec_dir, workspace.project_dir, clock=clock)
    run = HostedRun(host, clock, sessions)
    run.events = events
    return run
