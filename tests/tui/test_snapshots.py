"""The look of the app, with scripted sessions and a clock that moves only by hand."""

from __future__ import annotations

import json

from agent_tui.engine.agents.claude.summary import summarize_result
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome
from agent_tui.tui.messages import EngineEvent
from agent_tui.tui.screens.profile_picker import ProfilePicker
from tests.tui.conftest import all_shown, wait_until

SIZE = (130, 34)


def test_main_screen_mid_run(snap_compare, scripted_app):
    harness = scripted_app(hold={"1.3"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.3" in harness.sessions.started, "session 3")
        await wait_until(pilot, lambda: harness.app.main_screen.log_view.lines_written >= 14, "log")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_backoff_countdown(snap_compare, scripted_app):
    harness = scripted_app(failures={"1.1": 2})

    async def run_before(pilot):
        await wait_until(pilot, lambda: len(harness.of(ev.BackoffStarted)) == 1, "the backoff")
        harness.clock.advance(0.5)
        await wait_until(pilot, lambda: harness.app.main_screen.countdown.display, "countdown")
        harness.app.main_screen.countdown.refresh()
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()
        # Found by a tester: the status line said "4 s" while the countdown ran down.
        assert harness.app.main_screen.status.detail == "retry 1/5"

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_paused(snap_compare, scripted_app):
    harness = scripted_app(hold={"1.2"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session 2")
        await pilot.press("p")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: harness.app.loop.paused, "the pause")
        await wait_until(pilot, lambda: harness.app.main_screen.status.state == "paused", "state")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_interrupted(snap_compare, scripted_app):
    """After ``i`` the log says the session was interrupted, not that the user paused."""
    harness = scripted_app(hold={"1.2"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session 2")
        await wait_until(pilot, lambda: "i" in harness.app.main_screen.keys.shown, "i")
        await pilot.press("i")
        await wait_until(pilot, lambda: harness.app.loop.paused, "the pause")
        await wait_until(pilot, lambda: harness.app.main_screen.status.state == "paused", "state")
        await wait_until(pilot, lambda: harness.app.main_screen.log_view.backlog == 0, "log")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_profile_picker(snap_compare, scripted_app):
    harness = scripted_app(hold={"1.1"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(harness.app.screen, ProfilePicker), "picker")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_waiting_for_a_usage_limit_to_reset(snap_compare, scripted_app, utc):
    harness = scripted_app(limits={"1.1": 1})

    async def run_before(pilot):
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the wait")
        harness.clock.advance(1800)
        await wait_until(pilot, lambda: harness.app.main_screen.countdown.display, "countdown")
        harness.app.main_screen.countdown.refresh()
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


WRITE_NOTE = " (file state is current in your context — no need to Read it back)"
"""What the CLI appends to each Write and Edit result, for the model."""
CORE_PY = [
    '"""Greetings."""',
    "",
    "",
    "def greet(name: str) -> str:",
    '    return f"Hello, {name}!"',
]


def busy_run(spec_dir: str, cwd: str) -> list[ev.Event]:
    """A fourth try of a subtask with long descriptions, badges and lines that wrap, as
    the engine reports it (tool results summarised from what the CLI returns)."""

    def subtask(sid: str, description: str, status: str, **more) -> ev.SubtaskView:
        return ev.SubtaskView(
            id=sid, description=description, status=status, phase_id=sid[0], **more
        )

    core = (
        subtask(
            "1.1", "Create greeter/core.py with greet(name)", "completed", verification="passed"
        ),
        subtask(
            "1.2",
            "Add farewell(name) to greeter/core.py, with a docstring that says why",
            "completed",
            verification="unverified",
        ),
        subtask(
            "1.3",
            "Write tests/test_core.py for greet and farewell, empty names included",
            "in_progress",
            attempts=4,
        ),
    )
    command_line = (
        subtask(
            "2.1",
            "Add greeter/__main__.py: python3 -m greeter NAME prints both lines",
            "pending",
            attempts=3,
            stuck=True,
            verification="failed",
        ),
        subtask("2.2", "Document usage in README.md", "pending"),
    )
    read = "".join(f"{n}\t{line}\n" for n, line in enumerate(CORE_PY, 1))

    def tool(n: int, name: str, target: str, raw: str) -> list[ev.Event]:
        result = summarize_result(raw, cwd, tool=name)
        return [
            ev.ToolUse(session=4, tool_use_id=f"b{n}", name=name, summary=target),
            ev.ToolResult(session=4, tool_use_id=f"b{n}", is_error=False, summary=result),
        ]

    return [
        ev.PlanLoaded(
            spec_dir=spec_dir,
            feature="greeter: greetings as a library and a command",
            phases=(
                ev.PhaseView(id="1", name="Core library", subtasks=core),
                ev.PhaseView(id="2", name="Command line", subtasks=command_line),
            ),
            total=5,
            completed=2,
        ),
        ev.SessionStarted(
            session=4,
            kind="coder",
            subtask_id="1.3",
            profile="demo-a",
            attempt=4,
            model="claude-sonnet-4-5",
            transcript=f"{spec_dir}/logs/session-004.jsonl",
        ),
        ev.SubtaskStatus(id="1.3", status="in_progress", attempts=4),
        ev.AssistantText(
            session=4,
            text="The last try failed on an empty name: greet('') returned 'Hello, !'. "
            "I will read the module again, then cover empty and blank names.",
        ),
        *tool(1, "Read", "greeter/core.py", read),
        *tool(2, "Write", "tests/test_core.py", f"File created successfully at: {cwd}/t.py"),
        *tool(
            3,
            "Edit",
            "greeter/core.py",
            f"The file {cwd}/greeter/core.py has been updated successfully.{WRITE_NOTE}",
        ),
        *tool(
            4,
            "Write",
            "tests/conftest.py",
            f"File created successfully at: {cwd}/tests/conftest.py{WRITE_NOTE}",
        ),
        tev.VerificationStarted(
            subtask_id="1.3",
            command="python3 -m pytest -q tests/test_core.py -k 'greet or farewell or empty'",
            sandboxed=True,
            timeout_s=300,
        ),
        ev.Usage(
            session=4,
            session_cost_usd=0.037,
            session_input_tokens=21000,
            session_output_tokens=900,
            total_cost_usd=0.2157,
            total_input_tokens=61000,
            total_output_tokens=2700,
        ),
        ev.PlanWarning(message="the plan could not be read after the session; kept the last"),
    ]


def test_a_busy_run(snap_compare, scripted_app):
    """Badges before the cut description, wrapped lines indented, a file read summarised,
    the CLI's note to the model left out, labelled status fields, a notice clear of the
    log's last line and of the status line."""
    harness = scripted_app(hold={"1.1"})

    async def run_before(pilot):
        app = harness.app
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await wait_until(pilot, lambda: app.main_screen.log_view.lines_written >= 5, "log")
        await wait_until(pilot, lambda: all_shown(harness), "the loop's events shown")
        cwd = str(harness.workspace.project_dir)
        extra = busy_run(str(harness.workspace.spec_dir), cwd)
        for event in extra:
            app.main_screen.post_message(EngineEvent(event))
        shown = len(harness.events) + len(extra)
        await wait_until(pilot, lambda: app.main_screen.events_seen == shown, "every event")
        await wait_until(pilot, lambda: app.main_screen.log_view.backlog == 0, "the log")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_a_reopened_run_has_a_cursor(snap_compare, scripted_app):
    """A run opened on a plan with work done, paused: the cursor is on the next subtask."""
    harness = scripted_app()
    plan_path = harness.workspace.spec_dir / "implementation_plan.json"
    plan = json.loads(plan_path.read_text())
    for subtask in plan["phases"][0]["subtasks"][:2]:
        subtask["status"] = "completed"
    plan_path.write_text(json.dumps(plan, indent=2))
    (harness.workspace.spec_dir / "PAUSE").write_text("")

    async def run_before(pilot):
        await wait_until(pilot, lambda: harness.app.main_screen.status.state == "paused", "state")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_log_search(snap_compare, scripted_app):
    """``/`` finds a line in the log and marks it; the log has the focus and the accent."""
    harness = scripted_app(hold={"1.3"})

    async def run_before(pilot):
        app = harness.app
        await wait_until(pilot, lambda: "1.3" in harness.sessions.started, "session 3")
        await wait_until(pilot, lambda: app.main_screen.log_view.lines_written >= 14, "log")
        await pilot.press("slash")
        await pilot.press(*"subtask", "space", *"1.2")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main_screen.log_view.search is not None, "search")
        await wait_until(pilot, lambda: all_shown(harness), "every event shown")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def lanes_run(spec_dir: str) -> list[ev.Event]:
    """Three lanes at work as the engine reports them: a lane's failed check, a merge's
    re-check, lines that wrap after their lane, and the running sessions' spend so far."""

    def started(session: int, lane: int, subtask_id: str) -> ev.SessionStarted:
        return ev.SessionStarted(
            session=session, kind="coder", subtask_id=subtask_id, profile="demo-a",
            attempt=1, model="claude-sonnet-4-5", lane=lane,
            transcript=f"{spec_dir}/logs/session-{session:03}.jsonl",
        )  # fmt: skip

    written = ".auto-claude/specs/001-greeter/implementation_plan.json"  # as the CLI's is shown
    return [
        lev.LanesPlanned(lanes=3, reason="three subtasks may run at once"),
        lev.LaneBusy(lane=2, subtask_id="1.2"),
        started(5, 2, "1.2"),
        lev.LaneBusy(lane=3, subtask_id="1.3"),
        started(6, 3, "1.3"),
        ev.ToolResult(
            session=5, tool_use_id="w5", is_error=False, lane=2,
            summary=f"The file {written} has been updated successfully.",
        ),
        sev.SessionSpend(session=5, cost_usd=0.031, input_tokens=9000, output_tokens=300, lane=2),
        ev.AssistantText(
            session=6, lane=3,
            text="Both tests pass now: greet and farewell handle empty and blank names.\n\n"
            "Next I mark the subtask completed in the plan.",
        ),
        sev.SessionSpend(session=6, cost_usd=0.012, input_tokens=4000, output_tokens=90, lane=3),
        tev.VerificationStarted(
            subtask_id="1.2", command="python3 -m pytest -q tests/test_core.py", sandboxed=True,
            timeout_s=300, lane=2,
        ),
        tev.VerificationEnded(
            subtask_id="1.2", outcome=CheckOutcome.FAILED,
            command="python3 -m pytest -q tests/test_core.py",
            reason="`python3 -m pytest -q tests/test_core.py` exited 1 (expected 0)",
            output_tail="FAILED tests/test_core.py::test_farewell - AssertionError: "
            "assert 'Goodbye, !' == 'Goodbye.'\n1 failed, 3 passed in 0.04s\n",
            lane=2,
        ),
        lev.MergeQueued(subtask_id="2.1", lane=1, waiting=1),
        lev.MergeStarted(subtask_id="2.1", checks=("2.1", "1.1")),
        tev.VerificationStarted(
            subtask_id="2.1", command="python3 -m greeter Ada", sandboxed=True, timeout_s=300,
            lane=RECHECK_LANE,
        ),
        tev.VerificationEnded(
            subtask_id="2.1", outcome=CheckOutcome.PASSED, command="python3 -m greeter Ada",
            reason="`python3 -m greeter Ada` exited 0", lane=RECHECK_LANE,
        ),
    ]  # fmt: skip


def test_three_lanes_in_the_all_lanes_log(snap_compare, scripted_app):
    """Each lane's lines after it, wrapped rows under their text, a merge's re-check in no
    lane, and a run cost that counts the running sessions' spend so far."""
    harness = scripted_app(hold={"1.1"})

    async def run_before(pilot):
        app = harness.app
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await wait_until(pilot, lambda: all_shown(harness), "the loop's events shown")
        extra = lanes_run(str(harness.workspace.spec_dir))
        for event in extra:
            app.main_screen.post_message(EngineEvent(event))
        await wait_until(pilot, lambda: all_shown(harness, extra=len(extra)), "every event")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=(160, 34), run_before=run_before)
