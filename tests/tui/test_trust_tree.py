"""The tree says what agent-tui checked: a failed check, subtasks it could not verify, and
a QA node with a line per review and fix."""

from __future__ import annotations

import asyncio
import json

from agent_tui.cli.demo import create_workspace
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.checks.verify import CommandRun
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from tests.tui.conftest import scripted_loop, wait_until


class Checks:
    """1.1's first check fails; every other passes, printing what the demo plan expects."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, command, cwd, timeout_s) -> CommandRun:
        self.runs += 1
        if self.runs == 1:
            return CommandRun(exit_status=1, output="ModuleNotFoundError: No module named greeter")
        return CommandRun(exit_status=0, output="Hello, Ada!\nGoodbye, Ada.\n")


class Sessions:
    """Coders complete their subtask; the first review rejects, the second approves.  The
    second session of 1.1 waits for ``release``."""

    def __init__(self, plan_path) -> None:
        self.plan_path = plan_path
        self.release = asyncio.Event()
        self.started: list[tuple[str, str | None]] = []
        self.reviews = 0

    def edit(self, change) -> None:
        plan = json.loads(self.plan_path.read_text())
        change(plan)
        self.plan_path.write_text(json.dumps(plan, indent=2))

    def __call__(self, spec, emit, clock):
        sessions = self

        class Session:
            async def run(self) -> SessionOutcome:
                sessions.started.append((spec.kind, spec.subtask_id))
                if sessions.started.count(("coder", "1.1")) == 2:
                    await sessions.release.wait()
                sessions.act(spec)
                return SessionOutcome(outcome="success")

            async def interrupt(self) -> bool:
                return True

        return Session()

    def act(self, spec) -> None:
        if spec.kind == "coder":

            def complete(plan):
                for phase in plan["phases"]:
                    for subtask in phase["subtasks"]:
                        if subtask["id"] == spec.subtask_id:
                            subtask["status"] = "completed"

            self.edit(complete)
        elif spec.kind == "qa_reviewer":
            self.reviews += 1
            verdict = {"status": "rejected", "issues_found": ["README lacks usage"]}
            if self.reviews > 1:
                verdict = {"status": "approved"}
            self.edit(lambda plan: plan.__setitem__("qa_signoff", verdict))
        else:
            self.edit(lambda plan: plan["qa_signoff"].update(status="fixes_applied"))


async def test_the_tree_shows_failed_checks_unverified_subtasks_and_each_qa_step(tmp_path):
    workspace = create_workspace(tmp_path / "trust")
    sessions = Sessions(workspace.spec_dir / "implementation_plan.json")
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
        qa=True,
    )
    clock = VirtualClock()
    events: list[ev.Event] = []

    make_loop = scripted_loop(config, workspace, sessions, Checks(), clock, events)
    app = AgentApp(make_loop, title="trust", clock=clock)
    async with app.run_test(size=(130, 40)) as pilot:
        tree = app.main_screen.plan_tree
        await wait_until(pilot, lambda: len(sessions.started) == 2, "1.1's second session")
        # In progress again, and the failed check still marked while it is tried again.
        await wait_until(
            pilot,
            lambda: (
                tree.is_built("1.1")  # the screen shows what came in every quarter second
                and tree.label_of("1.1").startswith("◐ 1.1 ")
                and "check failed" in tree.label_of("1.1")
            ),
            "1.1 in progress with its failed check marked",
        )
        sessions.release.set()
        await wait_until(pilot, lambda: any(isinstance(e, ev.LoopFinished) for e in events), "end")
        await pilot.pause()

        assert "check failed" not in tree.label_of("1.1")
        assert "unverified" not in tree.label_of("1.1")  # its second check passed
        assert tree.label_of("1.3").startswith("✔ 1.3 unverified ")  # no command to run
        assert tree.label_of("2.2").startswith("✔ 2.2 unverified ")
        assert tree.qa_lines() == [
            "✔ QA approved",
            "✘ review 1 rejected: 1 issue",
            "✔ fixes for review 1 applied",
            "✔ review 2 approved",
        ]
        finished = [e for e in events if isinstance(e, ev.LoopFinished)]
        assert finished[0].exit_code == 0
