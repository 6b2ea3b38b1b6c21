"""The run as its own process: event latency to an attached app during a 10 000-event flood
(target p99 < 50 ms), and the run process's memory (target < 60 MB RSS; the CLI sessions
are processes of their own, not counted).

Latency: a run process (this module with ``--run-side``: ``RunHost`` over a loop whose one
session emits ``EVENTS`` events as fast as it can, each stamped with the machine's
monotonic clock) and the app attached to it in this process (``run_test``); each event is
timed from its emission to the app taking it in (the target's figure) and to the screen
applying it (its next timed pass).  The run starts paused (PAUSE
file) and the app's ``p`` starts the flood, so the app sees every event live.  As
``run_app`` does, what is loaded before the app is made is frozen out of the collector's
passes; while the flood runs the test only sleeps (``pilot.pause`` would draw the screen
each time, on top of the app's own refreshes).

Memory: ``agent-tui run``'s own run process (``spawn``, as the app starts it) on a
one-subtask plan against the sim: its RSS while paused before any session, and its peak
(VmHWM) once a real session has run through the bundled CLI (claude-agent-sdk loaded), and
how much of its memory then is its own (private: not libpython's and the extension modules'
pages, shared with every Python process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import parser, stop_runs, write_spec

EVENTS = 10_000
ARRIVAL_BATCH = 50
"""Events per read from the CLI's pipe: the loop yields between batches, as it does there."""
RATES = (0, 2000, 1000)
"""Events per second the run floods at (0: as fast as it can)."""


def flood_session_at(rate: float):
    """A session that floods ``EVENTS`` events at ``rate`` a second (0: at once)."""
    return lambda spec, emit, clock: flood_session(spec, emit, clock, rate)


def flood_session(spec, emit, clock, rate: float = 0):
    from agent_tui.engine.agents.protocol import SessionOutcome
    from agent_tui.engine.events import core as ev

    class Flood:
        async def run(self) -> SessionOutcome:
            start = time.monotonic()
            for n in range(EVENTS):
                stamp = f"{time.monotonic():.6f}"
                await emit(ev.AssistantText(session=spec.number, text=f"{stamp} line {n}"))
                if n % ARRIVAL_BATCH == 0:
                    ahead = n / rate - (time.monotonic() - start) if rate else 0
                    await asyncio.sleep(max(0, ahead))
            return SessionOutcome(outcome="interrupted")

        async def interrupt(self) -> bool:
            return True

    return Flood()


def run_side(project: Path, spec: Path, rate: float) -> None:
    """The run process of the latency measure: the flood loop, hosted on its socket."""
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.engine.loop import CoderLoop, LoopConfig
    from agent_tui.runproc.host import RunHost

    config = LoopConfig(project_dir=project, spec_dir=spec, pause_between_s=0, max_iterations=1)

    def make_loop(sink):
        flood = flood_session_at(rate)
        return CoderLoop(config, ProfileStore.in_memory([]), sink, session_factory=flood)

    host = RunHost(make_loop, spec, project)

    async def serve() -> None:
        host.open()
        print(host.place.socket, flush=True)
        await host.serve()

    asyncio.run(serve())


async def latency(root: Path, rate: float) -> tuple[list[float], list[float]]:
    from agent_tui.engine.events import core as ev
    from agent_tui.runproc.client import RemoteRun
    from agent_tui.startup import collector
    from agent_tui.tui.app import AgentApp
    from agent_tui.tui.screens.main import MainScreen

    project, spec = write_spec(root / f"at-{rate}", 1)
    (spec / "PAUSE").write_text("")
    side = subprocess.Popen(
        [
            *(sys.executable, "-m", "benchmarks.run_process", "--run-side"),
            *(str(project), str(spec), str(rate)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    socket = Path(side.stdout.readline().strip())
    delays: list[float] = []
    received: list[float] = []

    def delay(event: ev.Event) -> float | None:
        if isinstance(event, ev.AssistantText) and " line " in event.text:
            return time.monotonic() - float(event.text.split()[0])
        return None

    class TimedScreen(MainScreen):
        def handle_event(self, event: ev.Event) -> None:
            """The screen applies it: its line is in the log for the next frame."""
            if (took := delay(event)) is not None:
                delays.append(took)
            super().handle_event(event)

    class TimedApp(AgentApp):
        async def _sink(self, event: ev.Event) -> None:
            if (took := delay(event)) is not None:
                received.append(took)
            await super()._sink(event)

    async def attach(sink):
        return await RemoteRun.attach(socket, sink)

    try:
        collector.freeze_loaded()  # as ``run_app`` does before it makes the app
        app = TimedApp(attach)
        app.main_screen = TimedScreen(app.clock)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.loop is None or not app.loop.paused:
                await pilot.pause(0.05)
            await pilot.press("p")
            while len(delays) < EVENTS:  # not pilot.pause: it redraws the screen each time
                await asyncio.sleep(0.05)
            app.loop.stop()
            while app.exit_code is None:
                await pilot.pause(0.05)
    finally:
        side.wait(30)
    return received, delays


def memory(root: Path) -> tuple[float, float, float, float]:
    """The run process's RSS while paused before any session, its peak after one, its own
    (private) memory then, and the peak of the same run headless."""
    from agent_tui.cli.commands import build_parser
    from agent_tui.runproc.places import RunPlace
    from agent_tui.runproc.process import spawn
    from agent_tui.sim.scenario import Scenario
    from agent_tui.sim.server import SimServer
    from agent_tui.startup.checks import check_run
    from agent_tui.startup.launch import RUN_PROCESS

    project, spec = write_spec(root / "mem", 1)
    (spec / "PAUSE").write_text("")
    steps = [
        {"text": "Working.", "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": "1.0", "status": "completed"}}]},
        {"text": "Done."},
    ]
    scenario = Scenario.model_validate(
        {"scripts": [{"match": r"Subtask ID: 1\.0\b", "sessions": [steps]}]}
    )
    with SimServer(scenario) as sim:
        os.environ.update(
            ANTHROPIC_BASE_URL=sim.base_url,
            ANTHROPIC_API_KEY="sk-ant-api03-benchmark-not-real",
            CLAUDE_CODE_MAX_RETRIES="0",
        )
        checked = check_run(build_parser().parse_args(["run", "--project", str(project)]))
        started = spawn(RUN_PROCESS, pickle.dumps(checked), RunPlace.of(spec))
        record = RunPlace.of(spec).record
        _until(lambda: json.loads(record.read_text())["state"] == "paused")
        idle = _status_mb(started.pid, "VmRSS")
        from agent_tui.runproc.client import RemoteRun

        private: list[float] = []

        async def watch_one_session() -> float:
            async def sink(event) -> None:
                pass

            run = await RemoteRun.attach(started.socket, sink)  # keeps it after the run
            waiting = asyncio.create_task(run.run())
            (spec / "PAUSE").unlink()
            await waiting
            peak = _status_mb(started.pid, "VmHWM")
            private.append(_private_mb(started.pid))
            run.close()
            return peak

        peak = asyncio.run(watch_one_session())
        headless = _headless_peak(root / "headless")
    return idle, peak, private[0], headless


def _headless_peak(root: Path) -> float:
    """The same run with ``--headless`` (the engine in the command's own process, as before
    runs had a process of their own): its peak RSS."""
    project, _spec = write_spec(root, 1)
    headless = subprocess.Popen(
        [sys.executable, "-m", "agent_tui.cli", "run", "--headless", "--project", str(project)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0.0
    while headless.poll() is None:  # its own peak: a wait's would count the CLI's too
        with contextlib.suppress(OSError, RuntimeError):
            peak = max(peak, _status_mb(headless.pid, "VmHWM"))
        time.sleep(0.05)
    if headless.returncode != 0:
        raise RuntimeError(f"the headless run ended with {headless.returncode}")
    return peak


def _spread(delays: list[float]) -> str:
    ordered = sorted(delays)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    median = statistics.median(ordered)
    return (
        f"median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def _private_mb(pid: int) -> float:
    """Memory only this process holds: RSS less the pages it shares (libpython, the
    extension modules' code) with every other Python process on the machine."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    fields = {line.split(":")[0]: line.split()[1] for line in rollup if ":" in line}
    return (int(fields["Private_Clean"]) + int(fields["Private_Dirty"])) / 1024


def _until(predicate, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.05)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["AGENT_TUI_STATE_DIR"] = str(root / "state")
        os.environ["AGENT_TUI_CONFIG_DIR"] = str(root / "config")
        try:
            for rate in RATES:
                received, handled = asyncio.run(latency(root, rate))
                at = f"{rate:g}/s" if rate else "as fast as the run can"
                load = f"load average {os.getloadavg()[0]:.1f}"
                for what, delays in (("received", received), ("shown", handled)):
                    print(
                        f"run process: {EVENTS} events at {at}, {what}: {_spread(delays)}; {load}"
                    )
            idle, peak, private, headless = memory(root)
        finally:
            stop_runs(root / "state")
    print(
        f"run process: RSS {idle:.0f} MB paused before any session, peak {peak:.0f} MB after "
        f"one (its own memory then, not shared: {private:.0f} MB); the same run headless: peak "
        f"{headless:.0f} MB; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run-side"]:
        run_side(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
    else:
        parser(__doc__, "run_process").parse_args()
        main()
