"""A long run in the app: 500 subtasks, each a paced scripted session and a passing check.

The real app and the real loop (plan, history, transcripts, checks, the tree, the log, the
status line and the footer); only the agent is scripted: each session sends what a short
real one sends (text, Read with a numbered file, Bash, Write and Edit, their results) spread
over ``SESSION_S`` of real time, then marks its subtask completed in the plan.  The same run
then goes through headless mode (text lines to the null device) for the CPU reference.

Reports, against the targets of the overnight issue: RSS growth over the run (≤ 10 MB, from
the end of the warm-up to the end), key latency throughout (p99 < 100 ms in every fifth of
the run: ``l`` pressed every ``PRESS_EVERY_S``, timed from the press to its action), app
CPU per subtask against headless CPU per subtask (≤ 2x), and the Textual work that costs
per subtask: layouts of the whole screen per session, and widgets in the DOM and alive (the
leak was the footer's key widgets piling up, out of the DOM but alive).

``python3 -m benchmarks.app_long_run [SUBTASKS]``
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from textual.widget import Widget

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.agents.claude.session import SessionOutcome, SessionSpec
from agent_tui.engine.agents.claude.summary import summarize_result
from agent_tui.engine.checks.verify import CommandRun
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.headless import run_headless
from agent_tui.tui.app import AgentApp
from benchmarks.common import big_plan, parser

SUBTASKS = 500
SESSION_S = 0.25
"""Real seconds over which one scripted session sends its events."""
PRESS_EVERY_S = 1.0
WARM_UP = 50
"""Subtasks before RSS is first read: the log's bounded buffer and the tree fill meanwhile."""
SLICES = 5
READ_RESULT = "".join(f"{n}\tline {n} of the module: value = {n * 7}\n" for n in range(1, 41))


def current_rss_mb() -> float:
    """Resident memory now (not the peak): a leak shows as growth, a spike does not."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_plan(root: Path, subtasks: int) -> tuple[Path, Path]:
    project = root / "project"
    spec = project / ".auto-claude" / "specs" / "001-bench"
    spec.mkdir(parents=True)
    plan = big_plan(subtasks)
    for phase in plan["phases"]:
        for subtask in phase["subtasks"]:
            subtask["description"] = (
                f"Implement part {subtask['id']} of the service, with its tests and docs"
            )
            subtask["verification"] = {
                "type": "command",
                "command": "make check",
                "expected": "exit 0",
            }
    (spec / "implementation_plan.json").write_text(json.dumps(plan, indent=2))
    return project, spec


class PassingChecks:
    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        return CommandRun(exit_status=0, output="ok\n")


def paced_sessions(plan_path: Path):
    """A session factory: each session paces its events as a short real one would."""

    def make(spec: SessionSpec, emit, clock):
        class Paced:
            async def run(self) -> SessionOutcome:
                n, sid = spec.number, spec.subtask_id or "plan"
                steps = [
                    ev.AssistantText(session=n, text=f"Looking at what subtask {sid} needs."),
                    *_tool(n, "Read", "src/service.py", READ_RESULT),
                    *_tool(n, "Bash", "python3 -m pytest -q tests/", "12 passed in 0.31s"),
                    ev.AssistantText(
                        session=n,
                        text="The module has what the plan expects; adding the part now, "
                        "with a test that covers the edge cases the spec names.",
                    ),
                    *_tool(n, "Write", f"src/part_{sid}.py", "File created successfully at: x"),
                    *_tool(n, "Edit", "src/service.py", "The file x has been updated."),
                    *_tool(n, "Bash", "python3 -m pytest -q tests/", "13 passed in 0.33s"),
                    ev.AssistantText(session=n, text=f"Subtask {sid} is done."),
                ]
                for step in steps:
                    await emit(step)
                    await asyncio.sleep(SESSION_S / len(steps))
                plan = json.loads(plan_path.read_text())
                for phase in plan["phases"]:
                    for subtask in phase["subtasks"]:
                        if subtask["id"] == sid:
                            subtask["status"] = "completed"
                plan_path.write_text(json.dumps(plan, indent=2))
                return SessionOutcome(
                    outcome="success", cost_usd=0.04, input_tokens=9000, output_tokens=600
                )

            async def interrupt(self) -> bool:
                return True

        return Paced()

    return make


def _tool(session: int, name: str, target: str, result: str) -> list[ev.Event]:
    use_id = f"t{session}-{name}-{target}"
    return [
        ev.ToolUse(session=session, tool_use_id=use_id, name=name, summary=target),
        ev.ToolResult(
            session=session,
            tool_use_id=use_id,
            is_error=False,
            summary=summarize_result(result, tool=name),
        ),
    ]


def make_loop(project: Path, spec: Path, sink) -> CoderLoop:
    config = LoopConfig(project_dir=project, spec_dir=spec, pause_between_s=0, in_place=True)
    return CoderLoop(
        config,
        ProfileStore.in_memory([]),
        sink,
        clock=VirtualClock(),
        session_factory=paced_sessions(spec / "implementation_plan.json"),
        check_runner=PassingChecks(),
    )


@dataclass
class Run:
    """What one run measured; each series is keyed by the subtasks completed by then."""

    done: int = 0
    cpu: list[tuple[int, float]] = field(default_factory=list)
    """Process CPU seconds so far."""
    stalls: list[tuple[int, float]] = field(default_factory=list)
    """How late a 50 ms sleep woke: what held the event loop (keys wait as long)."""
    latencies: list[tuple[int, float]] = field(default_factory=list)
    """(In the app) seconds from a key press to its action."""
    rss: list[tuple[int, float]] = field(default_factory=list)
    layouts: int = 0
    widgets: list[tuple[int, int, int]] = field(default_factory=list)
    """(subtasks completed, widgets in the screen's DOM, widgets alive)."""

    def per_subtask(self, low: int, high: int) -> float:
        """CPU seconds per subtask between ``low`` and ``high`` completed."""
        start = next(cpu for done, cpu in self.cpu if done >= low)
        end_done, end = next((d, c) for d, c in self.cpu if d >= high)
        first = next(done for done, cpu in self.cpu if done >= low)
        return (end - start) / max(end_done - first, 1)


async def probe_stalls(run: Run) -> None:
    """Sleep 50 ms again and again; note how late each wake-up is."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(0.05)
        run.stalls.append((run.done, time.perf_counter() - start - 0.05))


def note_progress(run: Run, sink):
    """``sink`` that also counts completed subtasks and notes the CPU spent at each."""

    async def counted(event: ev.Event) -> None:
        if isinstance(event, ev.SubtaskStatus) and event.status == "completed":
            run.done += 1
            run.cpu.append((run.done, time.process_time()))
        await sink(event)

    return counted


def count_layouts(app: AgentApp, run: Run) -> None:
    """Count the main screen's layouts: each places every widget anew and repaints it all."""

    def counted(_screen) -> None:
        run.layouts += 1

    app.main_screen.screen_layout_refresh_signal.subscribe(app.main_screen, counted)


def sample(app: AgentApp, run: Run, done: int) -> None:
    gc.collect()
    run.rss.append((done, current_rss_mb()))
    alive = sum(1 for thing in gc.get_objects() if isinstance(thing, Widget))
    run.widgets.append((done, len(list(app.main_screen.walk_children())), alive))


async def in_the_app(subtasks: int) -> Run:
    run = Run()
    with tempfile.TemporaryDirectory() as tmp:
        project, spec = write_plan(Path(tmp), subtasks)
        app = AgentApp(
            lambda sink: make_loop(project, spec, note_progress(run, sink)), clock=VirtualClock()
        )
        pressed_at: list[float] = []

        def timed(action):
            def act() -> None:
                run.latencies.append((run.done, time.perf_counter() - pressed_at[-1]))
                action()

            return act

        app.action_follow_log = timed(app.action_follow_log)
        app.action_unfollow_log = timed(app.action_unfollow_log)
        async with app.run_test(size=(120, 40)) as pilot:
            count_layouts(app, run)
            run.cpu.append((0, time.process_time()))
            probe = asyncio.ensure_future(probe_stalls(run))
            next_sample = WARM_UP
            while app.exit_code is None:
                pressed_at.append(time.perf_counter())
                await pilot.press("l")
                await asyncio.sleep(PRESS_EVERY_S)
                if run.done >= next_sample:
                    sample(app, run, run.done)
                    next_sample += max(subtasks // 10, 1)
            probe.cancel()
            sample(app, run, run.done)
    return run


async def headless(subtasks: int) -> Run:
    run = Run()
    with tempfile.TemporaryDirectory() as tmp:
        project, spec = write_plan(Path(tmp), subtasks)
        with open(os.devnull, "w") as null:
            run.cpu.append((0, time.process_time()))
            probe = asyncio.ensure_future(probe_stalls(run))
            code = await run_headless(
                lambda sink: make_loop(project, spec, note_progress(run, sink)), out=null
            )
            probe.cancel()
        assert code == 0, code
    return run


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def by_fifth(series: list[tuple[int, float]], subtasks: int) -> str:
    """p99 of ``series`` in each fifth of the run, in ms."""
    shown = []
    for k in range(SLICES):
        low, high = subtasks * k // SLICES, subtasks * (k + 1) // SLICES
        part = [value for done, value in series if low <= done < high]
        shown.append(f"{p99(part) * 1000:.0f}" if part else "-")
    return " / ".join(shown)


async def main(subtasks: int) -> None:
    app = await in_the_app(subtasks)
    cli = await headless(subtasks)
    fifth = subtasks // SLICES
    early = (app.per_subtask(0, fifth), cli.per_subtask(0, fifth))
    late = (
        app.per_subtask(subtasks - fifth, subtasks),
        cli.per_subtask(subtasks - fifth, subtasks),
    )
    whole = (app.per_subtask(0, subtasks), cli.per_subtask(0, subtasks))
    latencies = [seconds for _, seconds in app.latencies]
    (first_done, first_rss), (_, last_rss) = app.rss[0], app.rss[-1]
    rss = ", ".join(f"{done}: {mb:.0f}" for done, mb in app.rss)
    print(f"app long run, {subtasks} subtasks")
    print(
        f"  RSS {first_rss:.0f} MB at subtask {first_done} → {last_rss:.0f} MB at the end "
        f"({last_rss - first_rss:+.1f} MB); by subtask: {rss}"
    )
    print(
        f"  key latency: median {statistics.median(latencies) * 1000:.0f} ms, p99 in each "
        f"fifth {by_fifth(app.latencies, subtasks)} ms, max {max(latencies) * 1000:.0f} ms "
        f"({len(latencies)} presses)"
    )
    print(
        f"  event loop stalls, p99 in each fifth: app {by_fifth(app.stalls, subtasks)} ms; "
        f"headless {by_fifth(cli.stalls, subtasks)} ms"
    )
    print(
        f"  CPU per subtask, app vs headless: whole run {whole[0] * 1000:.0f} vs "
        f"{whole[1] * 1000:.0f} ms ({whole[0] / whole[1]:.2f}x); first fifth "
        f"{early[0] * 1000:.0f} vs {early[1] * 1000:.0f} ms, last fifth {late[0] * 1000:.0f} vs "
        f"{late[1] * 1000:.0f} ms; app minus headless {(early[0] - early[1]) * 1000:.0f} → "
        f"{(late[0] - late[1]) * 1000:.0f} ms"
    )
    print(
        f"  layouts per session {app.layouts / subtasks:.2f}; widgets in the DOM "
        f"{app.widgets[0][1]} → {app.widgets[-1][1]}, alive {app.widgets[0][2]} → "
        f"{app.widgets[-1][2]}"
    )


if __name__ == "__main__":
    command = parser(__doc__, "app_long_run")
    command.add_argument("subtasks", nargs="?", type=int, default=SUBTASKS)
    asyncio.run(main(command.parse_args().subtasks))
