"""Start-up to first frame: the app on a 500-subtask plan vs a bare Textual app (target 1.3x)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.tui.app import AgentApp
from benchmarks.common import write_spec

ROUNDS = 7


class BareApp(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello")
        yield Footer()


class Parked:
    """A session that never finishes: start-up is all we measure."""

    def __init__(self, spec, emit, clock) -> None:
        self.stop = asyncio.Event()

    async def run(self):
        await self.stop.wait()

    async def interrupt(self) -> None:
        self.stop.set()


async def time_bare() -> float:
    start = time.perf_counter()
    async with BareApp().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        return time.perf_counter() - start


async def time_agent(project: Path, spec: Path) -> float:
    config = LoopConfig(project_dir=project, spec_dir=spec, pause_between_s=0)
    app = AgentApp(
        lambda sink: CoderLoop(
            config, ProfileStore.in_memory([]), sink, clock=VirtualClock(), session_factory=Parked
        ),
        clock=VirtualClock(),
    )
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while app.main_screen.plan_tree.counts()[1] < 500:
            await pilot.pause()
        await pilot.pause()
        elapsed = time.perf_counter() - start
        app.loop.stop()
    return elapsed


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, spec = write_spec(Path(tmp), 500)
        bare, agent = [], []
        for _ in range(ROUNDS):
            bare.append(await time_bare())
            agent.append(await time_agent(project, spec))
            (spec / "implementation_plan.json").write_text(
                (spec / "implementation_plan.json").read_text()
            )
    b, a = statistics.median(bare), statistics.median(agent)
    print(
        f"startup: bare {b * 1000:.0f} ms, 500-subtask plan {a * 1000:.0f} ms, ratio {a / b:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
