"""The app driving the real demo: bundled CLI, scripted model on 127.0.0.1, virtual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.tui.screens.confirm_quit import ConfirmQuit
from agent_tui.tui.screens.diff_view import DiffView
from agent_tui.tui.screens.profile_picker import ProfilePicker
from agent_tui.tui.widgets.countdown import Countdown
from tests.tui.conftest import all_shown, screen_text, wait_until

SIZE = (150, 40)


def log_text(app) -> str:
    log = app.main_screen.log_view
    return "\n".join("".join(segment.text for segment in strip) for strip in log.lines)


async def test_demo_runs_to_completion_with_a_visible_backoff_and_diffs(demo_app, monkeypatch):
    from tests.tui.test_diff_view import shown_lines  # which imports this module

    shown: list[tuple[str, str]] = []
    start, stop = Countdown.start, Countdown.stop
    monkeypatch.setattr(
        Countdown,
        "start",
        lambda self, d, t, c: (shown.append(("start", c)), start(self, d, t, c))[1],
    )
    monkeypatch.setattr(Countdown, "stop", lambda self: (shown.append(("stop", "")), stop(self))[1])
    harness = demo_app()
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the demo loop to finish")
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status.state == "complete", "the complete state")
        # The log writes in batches: its last lines may come a moment after the state.
        await wait_until(pilot, lambda: "demo: the work is on" in log_text(app), "the log's end")
        tree = app.main_screen.plan_tree
        assert tree.counts() == (5, 5)
        assert all(
            tree.status_of(sid) == "completed" for sid in ("1.1", "1.2", "1.3", "2.1", "2.2")
        )
        text = log_text(app)
        assert "▶ Write greeter/core.py" in text
        assert "▶ Bash python3 -m greeter Ada" in text
        assert "tool_concurrency" in text
        assert app.main_screen.status.state == "complete"
        assert app.main_screen.status.quota.startswith("5h 42% · resets ")  # the sim's window
        assert not app.main_screen.countdown.display
        # The sample is a git repository: the agent worked in its worktree, each subtask
        # is a commit, d shows one, and the log ends saying how to review and finish.
        assert "◆ workspace: worktree " in text and "on agent-tui/001-greeter" in text
        assert text.count("· d: diff") == 5
        assert "demo: the work is on agent-tui/001-greeter: agent-tui diff --project " in text
        tree.focus()
        tree.move_cursor(tree._subtask_nodes["1.2"])
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffView), "the diff")
        diff = app.screen
        await wait_until(pilot, lambda: shown_lines(diff), "its lines")
        lines = shown_lines(diff)
        assert "    subtask 1.2: Add farewell(name) to greeter/core.py" in lines
        assert "+def farewell(name: str) -> str:" in lines
        assert "+def greet(name: str) -> str:" not in lines  # 1.1's, not this subtask's
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the diff to close")
    assert app.exit_code == 0
    assert not (harness.workspace.project_dir / "greeter").exists()  # the checkout: as laid out
    starts = [caption for kind, caption in shown if kind == "start"]
    assert starts == ["tool_concurrency, retry 1/5", "tool_concurrency, retry 2/5"]
    assert shown[-1][0] == "stop"
    assert [b.delay_s for b in harness.of(ev.BackoffStarted)] == [2.0, 4.0]


async def test_p_pauses_at_the_session_boundary_and_p_resumes(demo_app):
    harness = demo_app(pace_s=0.05)  # a slower model, so "p" lands inside the first session
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.loop is not None and app.loop.session_running, "the first session"
        )
        await pilot.press("p")
        assert app.main_screen.status.state == "pausing…"
        assert app.loop.pause_requested and not app.loop.paused
        await wait_until(pilot, lambda: app.loop.paused, "the pause at the boundary")
        await wait_until(pilot, lambda: app.main_screen.status.state == "paused", "paused state")
        sessions_when_paused = len(harness.of(ev.SessionStarted))
        assert sessions_when_paused == 1
        for _ in range(10):
            await pilot.pause(0.05)
        assert len(harness.of(ev.SessionStarted)) == sessions_when_paused
        await pilot.press("p")
        await wait_until(pilot, lambda: len(harness.of(ev.SessionStarted)) > 1, "a new session")
        assert harness.of(ev.Resumed)
        await wait_until(pilot, lambda: app.loop.session_running, "the session to run")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit), "the quit question")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")
    finished = harness.of(ev.LoopFinished)
    assert [f.outcome for f in finished] == ["interrupted"]
    assert app.return_code == 130


async def test_a_opens_the_picker_and_the_switch_applies_to_the_next_session(demo_app):
    harness = demo_app()
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.loop is not None and app.loop.session_running, "the first session"
        )
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: harness.of(ev.ProfileSwitched), "the switch")
        switch_at = harness.events.index(harness.of(ev.ProfileSwitched)[0])
        await wait_until(
            pilot,
            lambda: any(isinstance(e, ev.SessionStarted) for e in harness.events[switch_at:]),
            "the next session",
        )
        before = [e.profile for e in harness.events[:switch_at] if isinstance(e, ev.SessionStarted)]
        after = [e.profile for e in harness.events[switch_at:] if isinstance(e, ev.SessionStarted)]
        assert before and set(before) == {"demo-a"}
        assert after and set(after) == {"demo-b"}
        switched = harness.of(ev.ProfileSwitched)
        assert [(s.from_, s.to, s.reason) for s in switched] == [("demo-a", "demo-b", "user")]
        await wait_until(pilot, lambda: app.main_screen.status.profile == "demo-b", "status line")
        await wait_until(
            pilot,
            lambda: any(
                r.bearer == harness.workspace.tokens["demo-b"] for r in harness.sim.requests
            ),
            "a request made with demo-b's token",
        )
        await pilot.press("q")
        if isinstance(app.screen, ConfirmQuit):
            await pilot.press("y")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")
    tokens = harness.workspace.tokens
    bearers = [r.bearer for r in harness.sim.requests]
    assert bearers[0] == tokens["demo-a"]
    switch = bearers.index(tokens["demo-b"])
    assert set(bearers[:switch]) == {tokens["demo-a"]}
    assert set(bearers[switch:]) == {tokens["demo-b"]}


async def test_the_log_follows_at_the_bottom_and_stays_put_when_scrolled_up(scripted_app):
    harness = scripted_app(hold={"2.1"})
    app = harness.app
    async with app.run_test(size=(100, 20)) as pilot:
        await wait_until(pilot, lambda: "2.1" in harness.sessions.started, "session 4")
        log = app.main_screen.log_view
        await wait_until(
            pilot,
            lambda: log.max_scroll_y > 5 and log.scroll_y == log.max_scroll_y,
            "the log to fill and follow",
        )
        log.scroll_to(y=0, animate=False)
        await pilot.pause()
        assert log.scrolled_away
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
        await wait_until(pilot, lambda: log.backlog == 0, "the last lines to be written")
        await pilot.pause()
        assert log.scroll_y == 0 and log.max_scroll_y > 5
        # The key says what it will do (found by a tester: it said "Follow log" either way).
        assert footer_keys(app)["l"] == "Follow log"
        # One press brings a reader who scrolled up back to the end (found in tmux: it took two).
        await pilot.press("l")
        await wait_until(
            pilot, lambda: log.following and log.scroll_y == log.max_scroll_y, "the log to follow"
        )
        await wait_until(pilot, lambda: footer_keys(app)["l"] == "Stop following", "the label")
        await pilot.press("l")
        assert not log.following
        await wait_until(pilot, lambda: footer_keys(app)["l"] == "Follow log", "the label")
        await pilot.press("l")
        assert log.following and log.scroll_y == log.max_scroll_y


async def test_r_skips_the_backoff_wait(scripted_app):
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main_screen.countdown.display, "the countdown")
        # The wait is on the virtual clock, which nothing moves: only `r` can end it.
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the loop to wait")
        await pilot.press("r")
        await wait_until(pilot, lambda: harness.of(ev.BackoffEnded), "the backoff to end")
        assert harness.of(ev.BackoffEnded)[0].reason == "retry_now"
        await wait_until(pilot, lambda: not app.main_screen.countdown.display, "countdown hidden")
        await wait_until(pilot, lambda: "⏭ retrying now" in log_text(app), "the log to say so")
        text = log_text(app)
        assert text.index("⏳ waiting 2 s") < text.index("⏭ retrying now")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_the_countdown_says_p_resumes_while_a_backoff_is_paused(scripted_app):
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the backoff wait")
        await wait_until(pilot, lambda: all_shown(harness), "the wait shown")
        assert "r: now" in str(app.main_screen.countdown.render())
        await pilot.press("p")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await wait_until(pilot, lambda: all_shown(harness), "the pause shown")
        shown = str(app.main_screen.countdown.render())
        assert "(paused)" in shown and "p: resume" in shown and "r: now" not in shown
        await pilot.press("p")
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the wait again")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_a_stray_enter_in_the_quit_question_stays(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.loop and app.loop.session_running, "a session")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit), "the question")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the question closed")
        assert app.loop.session_running and app.exit_code is None
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_interrupt_from_a_stale_palette_says_nothing_when_no_session_runs(scripted_app):
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the backoff wait")
        said: list[object] = []
        app.notify = lambda *args, **kwargs: said.append(args)  # type: ignore[method-assign]
        app.action_interrupt()  # as a palette opened during the session would
        await pilot.pause()
        assert said == [] and not app.loop.pause_requested
        await pilot.press("r")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_i_interrupts_the_running_session_and_pauses(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("i")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await wait_until(pilot, lambda: app.main_screen.status.state == "paused", "paused state")
        assert harness.sessions.started == ["1.1"]
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")
    assert app.return_code == 130


async def test_a_full_disk_pauses_the_app_and_p_resumes_once_there_is_room(demo_app, monkeypatch):
    import os

    from agent_tui.engine.agents import transcript as transcript_module

    disk_full = True
    real_open_new = transcript_module.open_new

    def open_new(path):  # a full disk: every write to the new transcript fails with ENOSPC
        return os.open("/dev/full", os.O_WRONLY) if disk_full else real_open_new(path)

    monkeypatch.setattr(transcript_module, "open_new", open_new)
    # One subtask: the pause comes before the first session, and a run that completes
    # after p shows the resume took; the whole demo's run is the first test's.
    harness = demo_app(subtasks=("1.1",))
    app = harness.app
    plan_path = harness.workspace.spec_dir / "implementation_plan.json"
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status.state == "paused", "the pause")
        assert "No space left on device" in screen.status.detail
        await wait_until(pilot, lambda: "⏸ paused:" in log_text(app), "the log line")
        assert "No space left on device" in log_text(app)
        assert app.exit_code is None and app.loop.paused
        assert not harness.sim.requests  # no session ran without its transcript
        statuses = {s["id"]: s["status"] for p in _plan(plan_path)["phases"] for s in p["subtasks"]}
        assert set(statuses.values()) <= {"pending", "in_progress"}
        disk_full = False
        await pilot.press("p")
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
        assert app.exit_code == 0
        assert screen.plan_tree.counts() == (1, 1)


def _plan(path):
    import json

    return json.loads(path.read_text())


async def test_a_canary_token_never_reaches_the_screen(tmp_path):
    """The agent prints a live token and echoes it: the log, picker and screenshots mask it."""
    import json

    from agent_tui.cli.demo import create_workspace, demo_config
    from agent_tui.engine.clock import VirtualClock
    from agent_tui.engine.loop import CoderLoop
    from agent_tui.sim.scenario import Scenario
    from agent_tui.sim.server import SimServer
    from agent_tui.tui.app import AgentApp
    from tests.integration.helpers import coder_steps, plan_doc, script

    canary = "sk-ant-oat01-CANARYcanaryCANARY0123456789abc"
    workspace = create_workspace(tmp_path / "canary")
    (workspace.spec_dir / "implementation_plan.json").write_text(
        json.dumps(plan_doc([("1", [], ["1.1"])]))
    )
    active = workspace.profiles.active_profile()
    credentials = Path(active.config_dir) / ".credentials.json"
    payload = json.loads(credentials.read_text())
    payload["claudeAiOauth"]["accessToken"] = canary
    credentials.write_text(json.dumps(payload))
    leak = {
        "text": f"My token is {canary} oops.",
        "tools": [{"name": "Bash", "input": {"command": f"echo {canary}", "description": "x"}}],
    }
    scenario = Scenario.model_validate(
        {"name": "canary", "scripts": [script("1.1", [[leak, *coder_steps("1.1")]])]}
    )
    sim = SimServer(scenario).start()
    try:
        config = demo_config(workspace, sim, pause_between_s=0.0)
        clock = VirtualClock()
        app = AgentApp(
            lambda sink: CoderLoop(config, workspace.profiles, sink, clock=clock), clock=clock
        )
        screenshots = []
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
            await wait_until(pilot, lambda: "oops" in log_text(app), "the leaked line")
            assert app.exit_code == 0
            text = log_text(app)
            screenshots.append(app.export_screenshot())
            app.push_screen(_picker(app))
            await pilot.pause()
            screenshots.append(app.export_screenshot())
        assert {r.bearer for r in sim.requests} == {canary}  # the token was really used
    finally:
        sim.stop()
    assert "My token is sk-ant-oat01-…9abc oops." in text
    assert canary not in text
    for svg in screenshots:
        assert canary not in svg and "CANARYcanary" not in svg
    assert "9abc" in screenshots[1]  # the picker shows the masked token


async def test_a_switch_waiting_for_the_next_session_shows_and_can_be_taken_back(scripted_app):
    # Found in tmux: after a switch the status line named the old profile alone, and
    # choosing the old profile again changed nothing: the switch still happened.
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        status = app.main_screen.status
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the picker to close")
        assert status.render().plain.startswith("profile demo-a → demo-b │")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        picker_text = [str(o.prompt) for o in app.screen.query_one("OptionList").options]
        assert picker_text[0].startswith("● demo-a") and picker_text[1].startswith("→ demo-b")
        assert app.screen.query_one("OptionList").highlighted == 1
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the picker to close")
        assert status.render().plain.startswith("profile demo-a │")
        assert any("switch cancelled" in str(n.message) for n in app._notifications)
        harness.sessions.release.set()
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session 2")
        assert harness.of(ev.ProfileSwitched) == []
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
        assert {e.profile for e in harness.of(ev.SessionStarted)} == {"demo-a"}


def palette_titles(app) -> list[str]:
    return [command.title for command in app.get_system_commands(app.main_screen)]


async def test_the_command_palette_offers_the_keys_that_apply_now(scripted_app):
    # Found by a tester: the README said every key was in the palette, but it held only
    # Textual's own commands.
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await wait_until(pilot, lambda: all_shown(harness), "the events shown")
        titles = palette_titles(app)
        assert titles[:10] == [
            "Pause",
            "Interrupt",
            "Profiles",
            "Note",
            "Diff",  # the demo's sample is a git repository: the run is in its worktree
            "Stop following",
            "Search",
            "Save log",
            "Quit",
            "Quit now",
        ]
        assert "Next match" not in titles  # only while a search of the log is on
        assert "Resume" not in titles and "Retry now" not in titles
        assert titles.count("Quit") == 1  # Textual's own, which quits at once, is "Quit now"
        # Opened over a dialog (ctrl+p works there too), none of the loop's: found in review,
        # "Profiles" stacked a second picker.
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        over_picker = [c.title for c in app.get_system_commands(app.screen)]
        assert not {"Pause", "Profiles", "Note", "Quit", "Quit now"} & set(over_picker)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the picker to close")
        await pilot.press("ctrl+p")
        await pilot.press(*"pause", "enter")
        await wait_until(pilot, lambda: app.loop.pause_requested, "the pause asked for")
        assert "Resume" in palette_titles(app) and "Pause" not in palette_titles(app)
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_r_is_not_offered_while_a_backoff_is_paused(scripted_app):
    # Found by a tester: r stayed in the footer while paused in a backoff and did nothing.
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the backoff wait")
        await wait_until(pilot, lambda: "r" in footer_keys(app), "r in the footer")
        await pilot.press("p")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await wait_until(pilot, lambda: "r" not in footer_keys(app), "r to leave the footer")
        assert "Retry now" not in palette_titles(app)
        await pilot.press("p")
        await wait_until(pilot, lambda: "r" in footer_keys(app), "r back in the footer")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_a_backoff_resumed_after_a_pause_says_what_is_left_of_it(scripted_app):
    # Found by a tester: resumed with about 3 s left of a 4 s wait, the log said "waiting 4 s"
    # again.
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the backoff wait")
        harness.clock.advance(1.0)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await pilot.press("p")
        await wait_until(pilot, lambda: "waiting the last 1 s" in log_text(app), "the wait again")
        assert log_text(app).count("waiting 2 s, then retry 1/5") == 1
        await pilot.press("r")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_the_dialogs_fit_a_small_terminal(scripted_app):
    # Found by a tester at 40x12: the quit question lost its "Stay" button off the right
    # edge, and the picker its keys below the list.
    from textual.widgets import Button

    from agent_tui.tui.screens.confirm_quit import ConfirmQuit

    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit), "the question")
        await pilot.pause()
        screen = app.screen.region
        for button in app.screen.query(Button):
            assert screen.contains_region(button.region), button.label
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the question to close")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        await pilot.pause()
        picker = app.screen.query_one("#picker")
        assert screen.contains_region(picker.region)
        assert picker.border_subtitle == "Enter: switch · Esc: close"
        await pilot.press("escape")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


def _picker(app):
    from agent_tui.tui.screens.profile_picker import ProfilePicker

    loop = app.loop
    profiles = [loop.profiles.get(name) for name in loop.profiles.names()]
    return ProfilePicker(profiles, loop.profile_name, loop.profile_resolution)


def footer_keys(app) -> dict[str, str]:
    """Each key the bar shows now and what it says at the bar's width."""
    return app.main_screen.keys.shown


async def test_the_footer_says_pause_or_resume_as_the_loop_moves(scripted_app):
    harness = scripted_app(hold={"1.1", "1.2"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await wait_until(pilot, lambda: footer_keys(app).get("p") == "Pause", "p Pause")
        await pilot.press("p")
        await wait_until(pilot, lambda: footer_keys(app).get("p") == "Resume", "p Resume")
        harness.sessions.release.set()  # the session ends; the loop pauses at the boundary
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        harness.sessions.release.clear()
        await pilot.press("p")
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session 2")
        await wait_until(pilot, lambda: footer_keys(app).get("p") == "Pause", "p Pause again")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to finish")
        await wait_until(
            pilot,
            lambda: "q" in footer_keys(app) and "p" not in footer_keys(app),
            "p gone at the end, q still there",
        )


def history_outcomes(harness) -> list[str]:
    import json

    path = harness.workspace.spec_dir / "memory" / "attempt_history.json"
    data = json.loads(path.read_text())
    return [a["outcome"] for s in data["subtasks"].values() for a in s["attempts"]]


async def test_ctrl_c_stops_at_once_records_the_session_and_exits_130(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("ctrl+c")
        assert not isinstance(app.screen, ConfirmQuit)  # no question: ctrl+c means now
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")
    assert app.return_code == 130
    # The scripted session ends when interrupted; the real CLI's case is in test_app_process.
    assert len(history_outcomes(harness)) == 1 and harness.sessions.started == ["1.1"]
    assert [f.outcome for f in harness.of(ev.LoopFinished)] == ["interrupted"]


async def test_sigterm_stops_the_app_like_ctrl_c(scripted_app):
    import os
    import signal

    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        assert signal.SIGTERM in app.watched_signals  # else the signal would end pytest
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")
    assert app.return_code == 130 and app.stop_signal == "SIGTERM"
    assert len(history_outcomes(harness)) == 1 and harness.sessions.started == ["1.1"]
    assert not app.watched_signals  # handlers are gone with the app


async def test_i_and_r_are_in_the_footer_only_when_they_can_act(scripted_app):
    harness = scripted_app(failures={"1.1": 1}, hold={"1.2"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        # Backing off after the 400: r skips the wait; no session runs, so no i.
        await wait_until(pilot, lambda: app.main_screen.countdown.display, "the countdown")
        await wait_until(pilot, lambda: "r" in footer_keys(app), "r during the backoff")
        assert "i" not in footer_keys(app)
        await pilot.press("r")
        # A session runs (1.2 is held): i interrupts it; nothing to skip, so no r.
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session for 1.2")
        await wait_until(pilot, lambda: "i" in footer_keys(app), "i while a session runs")
        assert "r" not in footer_keys(app)
        await pilot.press("i")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await wait_until(
            pilot,
            lambda: footer_keys(app).get("p") == "Resume" and "i" not in footer_keys(app),
            "paused: p Resume, no i",
        )
        assert "r" not in footer_keys(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_i_still_interrupts_while_a_pause_waits_for_the_session_to_end(scripted_app):
    # Found in tmux: after p, the footer dropped i, so a long session could not be cut short.
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("p")
        await wait_until(pilot, lambda: app.main_screen.status.state == "pausing…", "pausing")
        assert footer_keys(app).get("p") == "Resume" and "i" in footer_keys(app)
        await pilot.press("i")
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        assert harness.sessions.release.is_set()  # the scripted session was interrupted
        assert harness.sessions.started == ["1.1"] and "i" not in footer_keys(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_i_leaves_the_footer_once_the_session_is_asked_to_stop(scripted_app):
    # Found in review: while an interrupted session ended, each further i asked it again
    # (each with its own five-second wait) and said so again.
    harness = scripted_app(hold={"1.1"})
    harness.sessions.interrupt_ends = False  # the CLI takes its time to stop
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("i")
        await wait_until(pilot, lambda: harness.sessions.interrupts == 1, "the interrupt")
        assert app.loop.session_running and "i" not in footer_keys(app)
        await pilot.press("i")
        await pilot.pause()
        assert harness.sessions.interrupts == 1
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_i_comes_back_when_the_session_did_not_take_the_interrupt(scripted_app):
    # Found in review: after an interrupt the CLI did not answer, i was gone for good and
    # only quitting could stop the session.
    harness = scripted_app(hold={"1.1"})
    harness.sessions.interrupt_ends = harness.sessions.interrupt_taken = False
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("i")
        await wait_until(pilot, lambda: harness.sessions.interrupts == 1, "the interrupt")
        await wait_until(pilot, lambda: "i" in footer_keys(app), "i back in the footer")
        assert any(
            isinstance(e, ev.Notice) and "did not take the interrupt" in e.message
            for e in harness.events
        )
        harness.sessions.interrupt_taken = True
        await pilot.press("i")
        await wait_until(pilot, lambda: harness.sessions.interrupts == 2, "the second interrupt")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.loop.paused, "the pause")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


def detail_text(app) -> str:
    from agent_tui.tui.screens.subtask_detail import SubtaskDetail

    assert isinstance(app.screen, SubtaskDetail)
    return screen_text(app.screen)


async def test_enter_on_a_subtask_shows_its_description_and_every_session(scripted_app):
    harness = scripted_app(failures={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the backoff wait")
        await pilot.press("r")  # the wait is on a virtual clock that nothing else moves
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
        tree = app.main_screen.plan_tree
        tree.focus()
        tree.move_cursor(tree.node_of("1.1"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not app.main_screen, "the detail view")
        shown = detail_text(app)
        assert "1.1  completed  ·  Core library" in shown
        assert "Create greeter/core.py with greet(name)" in shown  # in full, unlike the tree
        assert "1. session 1" in shown and "error (tool_concurrency)" in shown
        assert "2. session 2" in shown and "success" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "back to the main screen")
        tree.move_cursor(tree._phase_nodes["1"])
        await pilot.press("enter")  # a phase folds; it has no detail view
        await pilot.pause()
        assert app.screen is app.main_screen


async def test_t_in_a_stuck_subtasks_detail_tries_it_again(scripted_app):
    from agent_tui.engine.progress.history import AttemptHistory
    from agent_tui.plan import status_in_text

    harness = scripted_app(hold={"1.2"})
    history = AttemptHistory(harness.workspace.spec_dir)
    for session in (1, 2, 3):
        history.record_attempt("1.1", session, "incomplete", None, "")
    history.mark_stuck("1.1", "not completed after 3 sessions")
    plan_path = harness.workspace.spec_dir / "implementation_plan.json"
    plan_path.write_text(status_in_text(plan_path.read_text(), "1.1", "failed"))
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: harness.sessions.started == ["1.2"], "1.2's session")
        tree = app.main_screen.plan_tree
        await wait_until(pilot, lambda: tree.is_built("1.1"), "the plan in the tree")
        assert tree.status_of("1.1") == "stuck"
        tree.focus()
        tree.move_cursor(tree.node_of("1.1"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not app.main_screen, "the detail view")
        assert "t: try again" in app.screen.query_one("#detail").border_subtitle
        await pilot.press("t")
        await wait_until(pilot, lambda: harness.of(ev.SubtaskRetried), "the retry")
        await wait_until(pilot, lambda: tree.status_of("1.1") == "pending", "1.1 shown pending")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "1.1 tried again")
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
    assert not AttemptHistory(harness.workspace.spec_dir).is_stuck("1.1")


async def test_the_picker_shows_profiles_added_after_the_app_started(scripted_app, tmp_path):
    from agent_tui.auth.profiles import ProfileStore

    harness = scripted_app(hold={"1.1"})
    path = tmp_path / "profiles.json"
    store = ProfileStore.load(path)
    for name in ("demo-a", "demo-b"):  # the demo's, which have credentials
        store.add(name, config_dir=harness.workspace.profiles.get(name).config_dir)
    store.save()
    harness.workspace.profiles = ProfileStore.load(path)
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        later = ProfileStore.load(path)  # as `agent-tui profiles add` in another terminal
        later.add("night", config_dir=str(tmp_path / "night"))
        later.save()
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        options = [o.id for o in app.screen.query_one("OptionList").options]
        assert options == ["demo-a", "demo-b", "night"]
        await pilot.press("escape")
        await pilot.press("q")
        if isinstance(app.screen, ConfirmQuit):
            await pilot.press("y")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_every_key_stays_in_sight_in_a_40_column_footer(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: "i" in footer_keys(app), "the session's keys")
        await pilot.pause()
        assert list(footer_keys(app)) == ["p", "i", "a", "m", "d", "l", "/", "q"]
        assert footer_keys(app)["i"] == "Intr" and footer_keys(app)["l"] == ""
        assert bar_line(app).rstrip() == "p Pause i Intr a m d Diff l / q Quit"
        await pilot.resize_terminal(57, 20)
        await wait_until(pilot, lambda: footer_keys(app).get("l") == "Hold", "short labels")
        assert len(bar_line(app).rstrip()) <= 57 and "q Quit" in bar_line(app)
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: footer_keys(app).get("i") == "Interrupt", "wide labels")
        assert footer_keys(app)["l"] == "Stop following"
        assert bar_line(app).rstrip().endswith("^p palette")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


def bar_line(app) -> str:
    bar = app.main_screen.keys
    return bar.render().plain.ljust(bar.size.width)


@pytest.mark.parametrize(("running", "offered"), [(True, True), (False, False)])
async def test_t_is_offered_only_while_a_run_can_try_the_subtask_again(running, offered):
    from textual.app import App

    from agent_tui.tui.screens.subtask_detail import RETRY, SubtaskDetail

    subtask = ev.SubtaskView(id="1.1", description="d", status="failed", phase_id="1", stuck=True)
    chosen: list[str | None] = []
    app = App()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = SubtaskDetail(subtask, "Core", [], "not completed", can_retry=running)
        app.push_screen(detail, chosen.append)
        await pilot.pause()
        subtitle = detail.query_one("#detail").border_subtitle
        await pilot.press("t")
        await pilot.pause()
    assert ("t: try again" in subtitle) is offered
    assert ("--retry-stuck" in subtitle) is not offered
    assert chosen == ([RETRY] if offered else [])
