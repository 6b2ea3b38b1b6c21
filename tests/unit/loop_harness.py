"""The coder loop with scripted in-process sessions: no CLI, virtual time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.workspace.location import in_place

TOKEN = "sk-ant-oat01-LOOPTESTtoken0000000000"


def write_plan(spec_dir: Path, ids: list[str]) -> None:
    spec_dir.mkdir(parents=True, exist_ok=True)
    plan = {
        "feature": "f",
        "phases": [
            {
                "id": "1",
                "name": "P",
                "depends_on": [],
                "subtasks": [{"id": i, "description": i, "status": "pending"} for i in ids],
            }
        ],
    }
    (spec_dir / "implementation_plan.json").write_text(json.dumps(plan, indent=2))


def mark_completed(plan_path: Path, subtask_id: str) -> None:
    plan = json.loads(plan_path.read_text())
    for phase in plan["phases"]:
        for subtask in phase["subtasks"]:
            if subtask["id"] == subtask_id:
                subtask["status"] = "completed"
    plan_path.write_text(json.dumps(plan, indent=2))


Behaviour = Callable[[SessionSpec, int], SessionOutcome]
Reports = Callable[[SessionSpec, int], list[ev.Event]]


class ScriptedSessions:
    """Stands in for an AgentSession: ``behaviour(spec, n)`` decides each session's outcome."""

    def __init__(self, plan_path: Path, behaviour: Behaviour | None = None) -> None:
        self.plan_path = plan_path
        self.behaviour = behaviour or self.complete
        self.specs: list[SessionSpec] = []
        self.gate: asyncio.Event | None = None
        self.gate_on_interrupt = True
        self.interrupted = 0
        self.reports: Reports = lambda spec, n: []
        """Events each session emits before it ends (a usage window the CLI reported, say)."""

    def complete(self, spec: SessionSpec, n: int) -> SessionOutcome:
        mark_completed(self.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success", cost_usd=0.01, input_tokens=10, output_tokens=5)

    def __call__(self, spec, emit, clock):
        sessions = self

        class Session:
            async def run(self) -> SessionOutcome:
                sessions.specs.append(spec)
                if sessions.gate is not None:
                    await sessions.gate.wait()
                for event in sessions.reports(spec, len(sessions.specs)):
                    await emit(event)
                return sessions.behaviour(spec, len(sessions.specs))

            async def interrupt(self) -> None:
                sessions.interrupted += 1
                if sessions.gate is not None and sessions.gate_on_interrupt:
                    sessions.gate.set()

        return Session()


def make_setup(tmp_path):
    spec_dir = tmp_path / "project" / ".auto-claude" / "specs" / "001-x"
    write_plan(spec_dir, ["1.1", "1.2"])
    profiles = ProfileStore.in_memory(
        [Profile(name="a", token_env="TOKEN_A"), Profile(name="b", token_env="TOKEN_B")], active="a"
    )
    events: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    def build(
        behaviour: Behaviour | None = None,
        clock: VirtualClock | None = None,
        check_runner=None,
        **config,
    ) -> tuple[CoderLoop, ScriptedSessions]:
        sessions = ScriptedSessions(spec_dir / "implementation_plan.json", behaviour)
        config.setdefault("sandbox", SandboxCheck())  # no bwrap run: decided as available
        project = tmp_path / "project"
        config.setdefault("workspace", in_place(project, spec_dir, "not a git repository"))
        loop_config = LoopConfig(project_dir=project, spec_dir=spec_dir, **config)
        loop = CoderLoop(
            loop_config,
            profiles,
            sink,
            clock=clock or VirtualClock(),
            environ={"TOKEN_A": TOKEN, "TOKEN_B": TOKEN + "B"},
            session_factory=sessions,
            check_runner=check_runner,
        )
        return loop, sessions

    build.events = events
    build.spec_dir = spec_dir
    return build


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]
