"""What must not grow with a long run: the widgets alive, and the screen laid out again for
what changed in one line (a status, a label, the keys, a batch of log lines)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections import defaultdict
from pathlib import Path

from textual.widget import Widget

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.agents.claude.session import SessionOutcome
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from benchmarks.common import big_plan
from tests.tui.conftest import count_layouts, wait_until

SESSIONS = 12


class GatedSessions:
    """Sessions that each send a few events, then wait for their gate before they
    complete their subtask: the test looks at the app while session N is running."""

    def __init__(self, plan_path: Path) -> None:
        self.plan_path = plan_path
        self.started: list[str] = []
        self.gates: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.events = 0
        """Events the loop has sent so far."""

    def __call__(self, spec, emit, clock):
        sessions = self

        class Session:
            async def run(self) -> SessionOutcome:
                sid = spec.subtask_id or "plan"
                sessions.started.append(sid)
                n = spec.number
                await emit(ev.AssistantText(session=n, text=f"Working on subtask {sid}."))
                await emit(ev.ToolUse(session=n, tool_use_id=f"t{n}", name="Read", summary="a"))
                await emit(
                    ev.ToolResult(session=n, tool_use_id=f"t{n}", is_error=False, summary="9")
                )
                await sessions.gates[len(sessions.started)].wait()
                plan = json.loads(sessions.plan_path.read_text())
                for subtask in plan["phases"][0]["subtasks"]:
                    if subtask["id"] == sid:
                        subtask["status"] = "completed"
                sessions.plan_path.write_text(json.dumps(plan))
                return SessionOutcome(outcome="success", cost_usd=0.01)

            async def interrupt(self) -> bool:
                return True

        return Session()


def gated_app(tmp_path: Path) -> tuple[AgentApp, GatedSessions]:
    spec = tmp_path / "project" / ".auto-claude" / "specs" / "001-long"
    spec.mkdir(parents=True)
    plan_path = spec / "implementation_plan.json"
    plan_path.write_text(json.dumps(big_plan(SESSIONS, per_phase=SESSIONS)))
    sessions = GatedSessions(plan_path)
    config = LoopConfig(
        project_dir=tmp_path / "project",
        spec_dir=spec,
        pause_between_s=0,
        sandbox=SandboxCheck(),
        in_place=True,
    )

    def make_loop(sink):
        async def counted(event: ev.Event) -> None:
            sessions.events += 1
            await sink(event)

        return CoderLoop(
            config,
            ProfileStore.in_memory([]),
            counted,
            clock=VirtualClock(),
            session_factory=sessions,
        )

    return AgentApp(make_loop, clock=VirtualClock()), sessions


def all_shown(app: AgentApp, sessions: GatedSessions) -> bool:
    screen = app.main_screen
    return screen.events_seen == sessions.events and screen.log_view.backlog == 0


def widgets_alive() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, Widget))


async def test_the_widgets_alive_stay_as_many_session_after_session(tmp_path):
    # Found measuring an overnight run: each change of keys (i comes and goes with every
    # session) left Textual's footer key widgets behind, alive though out of the DOM, about
    # eight a session (485 after 60), and the app grew by 0.64 MB a subtask.
    app, sessions = gated_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        counts = []
        for n in range(1, SESSIONS + 1):
            await wait_until(pilot, lambda n=n: len(sessions.started) == n, f"session {n}")
            await wait_until(pilot, lambda: "i" in app.main_screen.keys.shown, "i")
            await wait_until(pilot, lambda: all_shown(app, sessions), "the events shown")
            await pilot.pause()
            if n in (3, SESSIONS):
                dom = len(list(app.screen.walk_children()))
                counts.append((dom, widgets_alive()))
            sessions.gates[n].set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
    (dom_early, alive_early), (dom_late, alive_late) = counts
    assert dom_late == dom_early
    assert alive_late == alive_early


async def test_a_status_a_label_the_keys_and_new_log_lines_lay_nothing_out(tmp_path):
    # Found measuring an overnight run: ~60 % of the app's time went to laying the whole
    # screen out again, some ten times a session, for changes that fit in their own line.
    app, sessions = gated_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        sessions.gates[1].set()
        await wait_until(pilot, lambda: len(sessions.started) == 2, "session 2")
        await wait_until(pilot, lambda: all_shown(app, sessions), "the events shown")
        await pilot.pause()
        layouts = count_layouts(app.screen)
        sessions.gates[2].set()  # session 2 ends, its check, commit, session 3 starts
        await wait_until(pilot, lambda: len(sessions.started) == 3, "session 3")
        screen = app.main_screen
        screen.status.total_cost = 1.5
        screen.post_message(ev_message(ev.SubtaskStatus(id="1.7", status="failed", attempts=2)))
        for n in range(200):
            screen.log_view.add(f"line {n} " + "of the agent's text, long enough to wrap " * 3)
        await wait_until(pilot, lambda: screen.log_view.backlog == 0, "the log")
        await wait_until(pilot, lambda: "try 2" in screen.plan_tree.label_of("1.7"), "1.7")
        await pilot.pause()
        assert layouts == []
        for n in range(3, SESSIONS + 1):
            sessions.gates[n].set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


def ev_message(event: ev.Event):
    from agent_tui.tui.messages import EngineEvent

    return EngineEvent(event)
