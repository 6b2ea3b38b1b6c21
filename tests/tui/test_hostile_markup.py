"""Text from the plan, the agent, a tool or git is shown as it is: a ``[/bold]`` there
crashes nothing, and ``[@click=app.quit]`` or ``[link=…]`` is text, not an action.

The plan's subtask 1.1 and phase 1 are named with the hostile strings, its session says
them (assistant text, a tool call and its result), a notice and a notification carry them.
"""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from agent_tui.cli.demo import create_workspace
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from tests.tui.conftest import (
    Harness,
    PassingChecks,
    ScriptedSessions,
    screen_text,
    scripted_loop,
    wait_until,
)

HOSTILE = "[/bold] [@click=app.quit]quit[/] [link=https://evil.example]link[/link]"
CLICK = "[@click=app.quit]" + "quit " * 12 + "[/]"
"""Valid markup: parsed, each word would quit the app on a click."""
SIZE = (130, 34)


class HostileSessions(ScriptedSessions):
    """Each session first says the hostile strings every way a session can."""

    def __call__(self, spec, emit, clock):
        inner = super().__call__(spec, emit, clock)
        n = spec.number

        class Session:
            async def run(self):
                await emit(ev.AssistantText(session=n, text=f"I say {HOSTILE}", ts=0.0))
                await emit(
                    ev.ToolUse(session=n, tool_use_id="h", name="Bash", summary=HOSTILE, ts=0.0)
                )
                await emit(
                    ev.ToolResult(session=n, tool_use_id="h", is_error=True, summary=HOSTILE)
                )
                await emit(ev.Notice(level="warning", message=f"spec sync: {HOSTILE}"))
                await emit(ev.PlanWarning(message=f"the plan said {HOSTILE}"))  # notified
                return await inner.run()

            async def interrupt(self):
                return await inner.interrupt()

        return Session()


@pytest.fixture
def hostile_app(tmp_path):
    workspace = create_workspace(tmp_path / "hostile")
    plan_path = workspace.spec_dir / "implementation_plan.json"
    plan = json.loads(plan_path.read_text())
    plan["phases"][0]["name"] = HOSTILE
    plan["phases"][0]["subtasks"][0]["description"] = HOSTILE
    plan["phases"][0]["subtasks"][1]["description"] = CLICK
    plan_path.write_text(json.dumps(plan, indent=2))
    sessions = HostileSessions(plan_path)
    sessions.hold = {"1.1"}
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        model="claude-sonnet-4-5",
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
    )
    clock = VirtualClock(auto_advance=False)
    harness = Harness(app=None, clock=clock, workspace=workspace, sessions=sessions)  # type: ignore[arg-type]

    make_loop = scripted_loop(config, workspace, sessions, PassingChecks(), clock, harness.events)
    harness.app = AgentApp(make_loop, title="agent-tui hostile", clock=clock)
    harness.app.NOTIFICATION_TIMEOUT = 600  # in sight for the snapshot, however slow the machine
    return harness


async def _said_it_all(pilot, harness) -> None:
    app = harness.app
    await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
    await wait_until(pilot, lambda: app.main_screen.log_view.lines_written >= 8, "the log")
    await wait_until(pilot, lambda: harness.of(ev.PlanWarning) != [], "the notification")
    await pilot.pause()


def test_hostile_markup_is_shown_as_text(snap_compare, hostile_app):
    async def run_before(pilot):
        await _said_it_all(pilot, hostile_app)
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("Toast")), "the toast")

    assert snap_compare(hostile_app.app, terminal_size=SIZE, run_before=run_before)


def _unwrapped(text: str) -> str:
    return "".join(text.split())


def _log_text(app) -> str:
    """The log as one line without spaces: a long line wraps, padded to the width."""
    log = app.main_screen.log_view
    return _unwrapped("".join(segment.text for strip in log.lines for segment in strip))


async def test_the_tree_log_and_notice_show_the_strings_and_a_click_does_nothing(hostile_app):
    app = hostile_app.app
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _said_it_all(pilot, hostile_app)
        await wait_until(pilot, lambda: bool(app.screen.query("Toast")), "the toast")
        tree = app.main_screen.plan_tree
        assert HOSTILE in str(tree._phase_nodes["1"].label)
        assert HOSTILE in str(tree._subtask_nodes["1.1"].label)
        assert _log_text(app).count(_unwrapped(HOSTILE)) >= 3  # text, tool result, notice
        [toast] = app.screen.query("Toast")
        shown = "".join(strip.text for strip in toast.render_lines(toast.region.reset_offset))
        assert _unwrapped(HOSTILE) in _unwrapped(shown).replace("▌", "")  # its edge
        app.clear_notifications()
        app.notify(CLICK)
        await wait_until(pilot, lambda: len(app.screen.query("Toast")) == 1, "the new toast")
        await pilot.click("Toast", offset=(8, 1))  # on its words (a click closes a toast)
        await pilot.pause()
        assert app.is_running and app.exit_code is None
        hostile_app.sessions.release.set()
        await pilot.press("q")


async def _open_detail(pilot, subtask_id: str) -> None:
    app = pilot.app
    tree = app.main_screen.plan_tree
    tree.focus()
    tree.move_cursor(tree._subtask_nodes[subtask_id])
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is not app.main_screen, "the detail view")


async def test_the_detail_of_a_hostile_subtask_opens_and_clicking_it_does_nothing(hostile_app):
    app = hostile_app.app
    async with app.run_test(size=SIZE) as pilot:
        await _said_it_all(pilot, hostile_app)
        await _open_detail(pilot, "1.1")
        shown = screen_text(app.screen)
        assert _unwrapped(HOSTILE) in _unwrapped(shown)  # the description, as the plan has it
        assert f"·  {HOSTILE}" in shown  # the phase's name in the title
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "back to the main screen")
        await _open_detail(pilot, "1.2")
        description = app.screen.query_one("#detail-text", Static)
        assert _unwrapped(CLICK) in _unwrapped(screen_text(app.screen))
        for x in range(0, 60, 4):  # on its words
            await pilot.click(description, offset=(x, 0))
        await pilot.pause()
        assert app.is_running and app.exit_code is None and app.screen is not app.main_screen
        await pilot.press("escape")
        hostile_app.sessions.release.set()
        await pilot.press("q")


async def test_the_diff_of_a_hostile_subtask_is_titled_with_its_words(hostile_app):
    from agent_tui.tui.screens.diff_view import DiffView

    app = hostile_app.app
    async with app.run_test(size=SIZE) as pilot:
        await _said_it_all(pilot, hostile_app)
        subtask = ev.SubtaskView(id="1.1", description=HOSTILE, status="in_progress", phase_id="1")
        await app.push_screen(DiffView(subtask, f"diff --git a/x b/x\n+{HOSTILE}\n"))
        await pilot.pause()
        box = app.screen.query_one("#diff")
        [top, *_] = box.render_lines(box.region.reset_offset)
        assert f"1.1 {HOSTILE}"[:60] in top.text  # the border's title, as the plan says it
        await pilot.press("escape")
        hostile_app.sessions.release.set()
        await pilot.press("q")
