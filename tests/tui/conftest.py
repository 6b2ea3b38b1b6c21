"""TUI fixtures: the real demo path (bundled CLI + sim) and a scripted in-process engine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent_tui.cli.demo import create_workspace, demo_config, demo_loop
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec, interrupted_outcome
from agent_tui.engine.checks.verify import CommandRun
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from agent_tui.tui.app import AgentApp
from tests.integration.helpers import keep_subtasks

WAIT_STEPS = 1200  # x 0.05 s: the real CLI runs up to 7 sessions of ~1-2 s each


async def wait_until(pilot, predicate: Callable[[], bool], what: str) -> None:
    """Poll the app (pumping its messages) until ``predicate`` holds; fail with ``what``."""
    for _ in range(WAIT_STEPS):
        if predicate():
            return
        await pilot.pause(0.05)
    pytest.fail(f"timed out waiting for {what}")


def count_layouts(screen) -> list[object]:
    """A list that gets an item each time ``screen`` is laid out again (every widget's
    place worked out anew, then the screen repainted): the costly refresh to avoid."""
    layouts: list[object] = []
    screen.screen_layout_refresh_signal.subscribe(screen, layouts.append)
    return layouts


def screen_text(screen) -> str:
    """The text a screen's labels and statics show, wrapped as on screen."""
    return "\n".join(
        str(strip.text)
        for widget in screen.query("Static, Label")
        for strip in widget.render_lines(widget.region.reset_offset)
    )


def all_shown(harness: Harness, extra: int = 0) -> bool:
    """Every event the loop has sent, and ``extra`` the test posted, is on the screen (the
    screen shows them in batches)."""
    screen = harness.app.main_screen
    return screen.events_seen == len(harness.events) + extra and screen.log_view.backlog == 0


@dataclass
class Harness:
    app: AgentApp
    events: list[ev.Event] = field(default_factory=list)
    sim: SimServer | None = None
    clock: VirtualClock | None = None
    workspace: object | None = None
    sessions: ScriptedSessions | None = None
    checks: PassingChecks | None = None

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


@pytest.fixture
def demo_app(tmp_path):
    """The app over the real demo: bundled CLI, sim on 127.0.0.1, virtual clock for waits."""
    servers: list[SimServer] = []

    def build(pace_s: float = 0.0, subtasks: tuple[str, ...] | None = None) -> Harness:
        """``subtasks``: the plan keeps only these (a session each costs a CLI start-up);
        a test that needs the whole demo run leaves it None."""
        workspace = create_workspace(tmp_path / "demo")
        if subtasks is not None:
            keep_subtasks(workspace.spec_dir / "implementation_plan.json", subtasks)
        scenario = Scenario.bundled("demo").model_copy(update={"pace_s": pace_s})
        sim = SimServer(scenario).start()
        servers.append(sim)
        config = demo_config(workspace, sim, pause_between_s=0.0)
        clock = VirtualClock()
        harness = Harness(app=None, sim=sim, clock=clock, workspace=workspace)  # type: ignore[arg-type]

        def make_loop(sink):
            async def recording(event: ev.Event) -> None:
                harness.events.append(event)
                await sink(event)

            return demo_loop(workspace, config, recording, clock=clock)

        harness.app = AgentApp(make_loop, title="agent-tui demo", clock=clock)
        return harness

    yield build
    for server in servers:
        server.stop()


class PassingChecks:
    """The check runner of the scripted app: every check passes, printing what the demo
    plan's checks look for (its scripted sessions write no files to check)."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        self.commands.append(command)
        return CommandRun(exit_status=0, output="Hello, Ada!\nGoodbye, Ada.\n")


class ScriptedSessions:
    """In-process sessions that emit fixed events and, once done, write the one file they
    say they wrote; a session waits while ``hold`` is set."""

    def __init__(
        self,
        plan_path: Path,
        failures: dict[str, int] | None = None,
        limits: dict[str, int] | None = None,
    ) -> None:
        self.plan_path = plan_path
        self.failures = dict(failures or {})
        self.limits = dict(limits or {})
        """Sessions of a subtask that meet a used-up five-hour window, resetting in an hour."""
        self.hold: set[str] = set()
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.interrupts = 0
        self.interrupt_ends = True  # False: an interrupted session waits for ``release``
        self.interrupt_taken = True  # False: as a CLI that does not answer the request

    def __call__(self, spec: SessionSpec, emit, clock):
        sessions = self

        class Session:
            interrupted = False

            async def run(self) -> SessionOutcome:
                sid = spec.subtask_id or "plan"
                sessions.started.append(sid)
                n = spec.number
                await emit(ev.AssistantText(session=n, text=f"Working on subtask {sid}.", ts=0.0))
                await emit(
                    ev.ToolUse(
                        session=n,
                        tool_use_id=f"t{n}",
                        name="Write",
                        summary=f"src/part_{sid}.py",
                        ts=0.0,
                    )
                )
                await emit(
                    ev.ToolResult(
                        session=n,
                        tool_use_id=f"t{n}",
                        is_error=False,
                        summary="File created successfully",
                        ts=0.0,
                    )
                )
                if sid in sessions.hold:
                    await sessions.release.wait()
                if self.interrupted:  # as the CLI ends a session it was asked to stop
                    return interrupted_outcome()
                if sessions.limits.get(sid, 0) > 0:
                    sessions.limits[sid] -= 1
                    return await sessions.limited(spec, emit, clock)
                if sessions.failures.get(sid, 0) > 0:
                    sessions.failures[sid] -= 1
                    await emit(
                        ev.SessionError(
                            session=n,
                            error_kind="tool_concurrency",
                            ts=0.0,
                            message="API Error: 400 due to tool use concurrency issues.",
                        )
                    )
                    return SessionOutcome(
                        outcome="error",
                        error_kind=ErrorKind.TOOL_CONCURRENCY,
                        cost_usd=0.01,
                        input_tokens=1200,
                        output_tokens=40,
                    )
                part = spec.cwd / "src" / f"part_{sid}.py"  # the Write above, done
                part.parent.mkdir(exist_ok=True)
                part.write_text(f"PART = {sid!r}\n")
                plan = json.loads(sessions.plan_path.read_text())
                for phase in plan["phases"]:
                    for subtask in phase["subtasks"]:
                        if subtask["id"] == sid:
                            subtask["status"] = "completed"
                sessions.plan_path.write_text(json.dumps(plan, indent=2))
                await emit(ev.AssistantText(session=n, text=f"Subtask {sid} is done.", ts=0.0))
                return SessionOutcome(
                    outcome="success", cost_usd=0.05, input_tokens=5000, output_tokens=300
                )

            async def interrupt(self) -> bool:
                sessions.interrupts += 1
                self.interrupted = sessions.interrupt_taken
                if sessions.interrupt_ends:
                    sessions.release.set()
                return sessions.interrupt_taken

        return Session()

    async def limited(self, spec: SessionSpec, emit, clock) -> SessionOutcome:
        quota = Quota(
            status=QuotaStatus.REJECTED,
            window="five_hour",
            utilization=1.0,
            resets_at=clock.wall() + 3600,
            seen_at=clock.wall(),
        )
        await emit(ev.QuotaUpdated.of(spec.profile, quota))
        return SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT)


SHOWN_WORKTREE = "~/.local/share/agent-tui/worktrees/greeter-1a2b3c4d/001-greeter"
SHOWN_COMMIT = "5e1ec7ed" * 5


def scripted_loop(config, workspace, sessions, checks, clock, events: list) -> Callable:
    """The app's loop factory over scripted sessions and checks: each event is kept in
    ``events`` as the loop sent it, and reaches the app as ``same_on_every_run`` makes it."""

    def make_loop(sink):
        async def recording(event: ev.Event) -> None:
            events.append(event)
            await sink(same_on_every_run(event))

        return CoderLoop(
            config,
            workspace.profiles,
            recording,
            clock=clock,
            session_factory=sessions,
            check_runner=checks,
        )

    return make_loop


def same_on_every_run(event: ev.Event) -> ev.Event:
    """The event as the scripted app shows it: the worktree's path (under the test's tmp
    dir) and a commit's hash (its time is in it) differ on each run, and would make the
    snapshots differ; the events the harness records are the real ones."""
    if isinstance(event, wev.WorkspaceStatus) and event.mode == "worktree":
        return wev.WorkspaceStatus(**{**event.as_dict(), "path": SHOWN_WORKTREE})
    if isinstance(event, wev.SubtaskCommitted):
        return wev.SubtaskCommitted(**{**event.as_dict(), "commit": SHOWN_COMMIT})
    return event


@pytest.fixture
def scripted_app(tmp_path):
    """The app over the demo plan with scripted sessions and a clock that only moves by hand."""

    def build(
        failures: dict[str, int] | None = None,
        hold: set[str] | None = None,
        limits: dict[str, int] | None = None,
        in_place: bool = False,
    ) -> Harness:
        """``in_place``: on the project itself, as ``--in-place`` (the demo's sample is a
        git repository, so its runs are in a worktree)."""
        workspace = create_workspace(tmp_path / "scripted")
        plan_path = workspace.spec_dir / "implementation_plan.json"
        sessions = ScriptedSessions(plan_path, failures, limits)
        sessions.hold = set(hold or ())
        config = LoopConfig(
            project_dir=workspace.project_dir,
            spec_dir=workspace.spec_dir,
            model="claude-sonnet-4-5",
            pause_between_s=0.0,
            sandbox=SandboxCheck(),  # the same status line on every machine
            in_place=in_place,
        )
        clock = VirtualClock(auto_advance=False)
        harness = Harness(app=None, clock=clock, workspace=workspace)  # type: ignore[arg-type]
        harness.sessions = sessions
        harness.checks = PassingChecks()
        make_loop = scripted_loop(
            config, workspace, sessions, harness.checks, clock, harness.events
        )
        harness.app = AgentApp(make_loop, title="agent-tui demo", clock=clock)
        return harness

    return build


@pytest.fixture
def hosted(tmp_path):
    """Runs hosted as the run process hosts them, each in a thread (see tests.hosted_run);
    every one is stopped at the end."""
    from tests.hosted_run import hosted_run

    runs = []

    def build(**kwargs):
        run = hosted_run(tmp_path, **kwargs)
        runs.append(run)
        return run

    yield build
    for run in runs:
        run.stop()
