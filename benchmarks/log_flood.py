"""Log flood: 100 000 events through the engine into the app.

Reports keypress latency during the flood (target < 100 ms), RSS growth (< 60 MB) and whether
every event reached the transcript, beside the same flood into a bare sink for reference.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.agents.transcript import Transcript
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.tui.app import AgentApp
from benchmarks.common import parser, rss_mb, write_spec

EVENTS = 100_000
ARRIVAL_BATCH = 50  # events per read from the CLI's pipe


def flood_session(spec, emit, clock):
    class Flood:
        async def run(self) -> SessionOutcome:
            transcript = Transcript(spec.transcript_path)
            for n in range(EVENTS):
                event = ev.AssistantText(session=spec.number, text=f"line {n}: " + "x" * 60)
                transcript.write("event", event.to_dict())
                await emit(event)
                if n % ARRIVAL_BATCH == 0:
                    await asyncio.sleep(0)
            transcript.close()
            plan_path = (
                spec.cwd / ".auto-claude" / "specs" / "001-bench" / "implementation_plan.json"
            )
            plan = json.loads(plan_path.read_text())
            for subtask in plan["phases"][0]["subtasks"]:
                subtask["status"] = "completed"
            plan_path.write_text(json.dumps(plan))
            return SessionOutcome(outcome="success")

        async def interrupt(self) -> None:
            pass

    return Flood()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, spec = write_spec(Path(tmp), 1)
        config = LoopConfig(project_dir=project, spec_dir=spec, pause_between_s=0)
        app = AgentApp(
            lambda sink: CoderLoop(
                config,
                ProfileStore.in_memory([]),
                sink,
                clock=VirtualClock(),
                session_factory=flood_session,
            ),
            clock=VirtualClock(),
        )
        latencies: list[float] = []
        pressed_at: list[float] = []

        def timed(action):
            def run() -> None:
                latencies.append(time.perf_counter() - pressed_at[-1])
                action()

            return run

        # l follows or stops following, by turns: time whichever it runs.
        app.action_follow_log = timed(app.action_follow_log)
        app.action_unfollow_log = timed(app.action_unfollow_log)
        rss_before = rss_mb()
        start = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            while app.main_screen.events_seen < EVENTS:
                pressed_at.append(time.perf_counter())
                await pilot.press("l")
                await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - start
        rss_growth = rss_mb() - rss_before
        lines = sum(1 for _ in (spec / "logs" / "session-001.jsonl").open())
    print(
        f"log flood: {EVENTS} events in {elapsed:.1f} s; keypress latency median "
        f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
        f"over {len(latencies)} presses; RSS growth {rss_growth:.0f} MB; "
        f"transcript lines {lines} of {EVENTS}"
    )


if __name__ == "__main__":
    parser(__doc__, "log_flood").parse_args()
    asyncio.run(main())
