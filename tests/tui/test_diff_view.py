"""The diff of a subtask in the app: ``d`` on a subtask of a run in its own worktree shows
what its commit changed; on a run in place there is no such key."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from agent_tui.tui.screens.diff_view import DiffView
from tests.integration.git_repo import make_repo
from tests.tui.conftest import screen_text, wait_until
from tests.tui.test_app_demo import footer_keys

SIZE = (120, 36)
PLAN = {
    "feature": "greetings",
    "phases": [
        {
            "id": "1",
            "name": "Core",
            "subtasks": [
                {"id": "1.1", "description": "Add greet()", "status": "pending"},
                {"id": "1.2", "description": "Add farewell()", "status": "pending"},
            ],
        }
    ],
}


class WorktreeSessions:
    """Sessions that write one file each where the agent works, and mark their subtask
    completed in the plan the prompt names (the worktree's copy)."""

    def __init__(self) -> None:
        self.cwds: list[Path] = []

    def __call__(self, spec: SessionSpec, emit, clock):
        sessions = self

        class Session:
            async def run(self) -> SessionOutcome:
                sessions.cwds.append(spec.cwd)
                name = spec.subtask_id.replace(".", "_")
                (spec.cwd / f"part_{name}.py").write_text(f"def part_{name}():\n    return 1\n")
                plan_path = Path(re.search(r"Plan file: (.+)", spec.prompt).group(1).strip())
                plan = json.loads(plan_path.read_text())
                for subtask in plan["phases"][0]["subtasks"]:
                    if subtask["id"] == spec.subtask_id:
                        subtask["status"] = "completed"
                plan_path.write_text(json.dumps(plan, indent=2))
                return SessionOutcome(outcome="success", cost_usd=0.01)

            async def interrupt(self) -> bool:
                return True

        return Session()


def app_over(project: Path, spec_dir: Path, profiles) -> tuple[AgentApp, WorktreeSessions]:
    sessions = WorktreeSessions()
    config = LoopConfig(
        project_dir=project,
        spec_dir=spec_dir,
        model="claude-sonnet-4-5",
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
    )

    def make_loop(sink):
        return CoderLoop(
            config, profiles, sink, clock=VirtualClock(), environ={}, session_factory=sessions
        )

    return AgentApp(make_loop, title="agent-tui test", clock=VirtualClock()), sessions


def shown_lines(screen: DiffView) -> list[str]:
    log = screen.query_one("#diff-lines")
    return ["".join(segment.text for segment in strip).rstrip() for strip in log.lines]


async def test_d_on_a_subtask_shows_its_commit_and_escape_closes_it(tmp_path):
    from agent_tui.auth.profiles import ProfileStore

    project, spec_dir = make_repo(tmp_path / "repo", plan=PLAN)
    app, sessions = app_over(project, spec_dir, ProfileStore.in_memory([]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
        assert app.exit_code == 0 and sessions.cwds and sessions.cwds[0] != project
        await wait_until(pilot, lambda: footer_keys(app).get("d") == "Diff", "the d key")
        tree = app.main_screen.plan_tree
        tree.move_cursor(tree._subtask_nodes["1.2"])
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffView), "the diff")
        screen = app.screen
        await wait_until(pilot, lambda: shown_lines(screen), "its lines")
        lines = shown_lines(screen)
        assert "    subtask 1.2: Add farewell()" in lines
        assert "+++ b/part_1_2.py" in lines and "+def part_1_2():" in lines
        assert not any("part_1_1" in line for line in lines)  # only this subtask's commit
        assert screen.query_one("#diff").border_title == "1.2 Add farewell()"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the diff to close")
    assert not (project / "part_1_2.py").exists()  # the user's checkout: untouched


async def test_d_on_a_phase_says_to_pick_a_subtask(tmp_path):
    from agent_tui.auth.profiles import ProfileStore

    project, spec_dir = make_repo(tmp_path / "repo", plan=PLAN)
    app, _ = app_over(project, spec_dir, ProfileStore.in_memory([]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
        tree = app.main_screen.plan_tree
        tree.move_cursor(tree._phase_nodes["1"])
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is app.main_screen
        assert any("Move to a subtask" in str(n.message) for n in app._notifications)


async def test_a_run_in_place_offers_no_diff_key(scripted_app):
    harness = scripted_app(in_place=True)
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
        await wait_until(pilot, lambda: "q" in footer_keys(app), "the footer")
        assert "d" not in footer_keys(app)
        [status] = harness.of(wev.WorkspaceStatus)
        assert status.mode == "in_place"


async def test_a_subtasks_detail_says_which_try_was_rolled_back_and_where_its_diff_is():
    from textual.app import App

    from agent_tui.tui.screens.subtask_detail import SubtaskDetail

    subtask = ev.SubtaskView(id="1.1", description="d", status="completed", phase_id="1")
    attempts = [
        {"session": 1, "ts": "2026-12-01T10:00:00", "outcome": "incomplete", "message": "no"},
        {"session": 2, "ts": "2026-12-01T10:05:00", "outcome": "success", "message": "ok"},
    ]
    rollbacks = [{"session": 1, "diff": "logs/session-001.rollback.diff", "to": "abc"}]
    app = App()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(SubtaskDetail(subtask, "Core", attempts, None, rollbacks))
        await pilot.pause()
        text = " ".join(screen_text(app.screen).split())
    assert "incomplete no ↶ rolled back; its diff is in logs/session-001.rollback.diff" in text
    assert text.count("rolled back") == 1
