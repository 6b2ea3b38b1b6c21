"""The app attached to a run in its own process (hosted here in a thread, over the real
socket): a late app shows what one that watched all along shows, control from any
attached app applies, and leaving it leaves the run going."""

from __future__ import annotations

import os
import signal

from pytest_textual_snapshot import normalize_svg
from textual import events

from agent_tui.runproc import registry
from agent_tui.runproc.client import RemoteRun
from agent_tui.runproc.record import RunState
from agent_tui.tui.app import AgentApp
from agent_tui.tui.runs_app import RunsApp
from agent_tui.tui.screens.main import MainScreen
from tests.tui.conftest import wait_until
from tests.tui.test_app_process import finish, launch, read_until

SIZE = (130, 34)
TITLE = "agent-tui — 001-greeter"


def attached_app(run) -> AgentApp:
    async def attach(sink):
        return await RemoteRun.attach(run.socket, sink)

    return AgentApp(attach, title=TITLE, clock=run.clock)


def test_an_app_attached_mid_run_shows_what_one_watching_all_along_shows(snap_compare, hosted):
    run = hosted(failures={"1.1": 2}).start(when_watched=True)
    screens: list[str] = []
    lines: list[int] = []

    def shown_all(app) -> bool:
        screen = app.main_screen
        return screen.events_seen == len(run.events) and not screen.log_view.backlog

    async def from_the_start(pilot):
        app = pilot.app
        await wait_until(pilot, lambda: run.clock.sleepers == 1, "the backoff's wait")
        run.call(run.clock.advance, 0.5)
        await wait_until(pilot, lambda: app.main_screen.countdown.display, "the countdown")
        await wait_until(pilot, lambda: app.main_screen.status.detail == "retry 1/5", "retry")
        await wait_until(pilot, lambda: shown_all(app), "every event, and the log written")
        app.main_screen.countdown.refresh()
        await pilot.pause()
        lines.append(app.main_screen.log_view.lines_written)
        screens.append(app.export_screenshot())

    async def mid_run(pilot):
        app = pilot.app
        await wait_until(pilot, lambda: app.loop is not None, "the attach")
        await wait_until(pilot, lambda: app.main_screen.countdown.display, "the countdown")
        await wait_until(pilot, lambda: shown_all(app), "every event, and the log written")
        assert app.main_screen.log_view.lines_written == lines[0]
        app.main_screen.countdown.refresh()
        await pilot.pause()
        screens.append(app.export_screenshot())

    assert snap_compare(attached_app(run), terminal_size=SIZE, run_before=from_the_start)
    assert run.host.loop.backing_off  # the run went on waiting between the two apps
    assert snap_compare(attached_app(run), terminal_size=SIZE, run_before=mid_run)
    assert normalize_svg(screens[1]) == normalize_svg(screens[0])


async def test_control_from_a_second_attached_app_pauses_and_resumes(hosted):
    run = hosted(failures={"1.1": 1}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        status = app.main_screen.status
        await wait_until(pilot, lambda: status.state == "backing off", "the backoff")
        second, terminal = launch("attach", "--project", str(run.host.project_dir), "--spec", "001")
        seen = bytearray()
        try:
            assert read_until(terminal, b"retry 1/5", seen, 60), bytes(seen[-2000:])
            os.write(terminal, b"p")
            await wait_until(pilot, lambda: status.state == "paused", "the pause, here too")
            assert run.call(lambda: run.host.loop.paused)
            assert app.check_action("resume", ()) and not app.check_action("pause", ())
            assert read_until(terminal, b"p resumes", seen, 30), bytes(seen[-2000:])
            os.write(terminal, b"p")
            await wait_until(pilot, lambda: status.state == "backing off", "the resume")
            assert not run.call(lambda: run.host.loop.paused)
            os.write(terminal, b"\x04")  # ctrl+d: that app leaves, the run goes on
        finally:
            code = finish(second, terminal, seen)
        assert code == 0, bytes(seen[-2000:])
        assert b"agent-tui: detached; the run goes on" in seen
        assert b"Traceback" not in seen
        assert run.host.loop.state.mode != "finished"
        assert app.loop_running  # the first app still watches


async def test_the_keys_follow_the_runs_state_while_the_app_has_no_focus(hosted):
    # A browser tab or a terminal in the background, and the run paused from another app:
    # Textual's Footer skips every change while the app has no focus, and went on saying
    # "p Pause" under a status line that said paused.
    run = hosted(failures={"1.1": 1}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        status, keys = app.main_screen.status, app.main_screen.keys
        await wait_until(pilot, lambda: status.state == "backing off", "the backoff")
        assert keys.shown["p"] == "Pause" and keys.shown["^d"] == "Detach"
        app.post_message(events.AppBlur())
        await wait_until(pilot, lambda: not app.app_focus, "the app to lose the focus")
        run.call(run.host.loop.pause)
        # the keys are redrawn after the status line, in the refresh that follows it
        paused = lambda: status.state == "paused" and keys.shown.get("p") == "Resume"  # noqa: E731
        await wait_until(pilot, paused, "the pause, in the keys too")
        assert "r" not in keys.shown
        run.call(run.host.loop.resume)
        going = lambda: status.state == "backing off" and keys.shown.get("p") == "Pause"  # noqa: E731
        await wait_until(pilot, going, "the resume, in the keys too")
        assert keys.shown["r"] == "Retry now"


async def test_s_in_an_attached_app_saves_the_log_in_the_runs_spec_dir(hosted):
    run = hosted(hold={"1.2"}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.2" in run.sessions.started, "session 2")
        await wait_until(
            pilot,
            lambda: "Working on subtask 1.2." in app.main_screen.log_view.plain_lines(),
            "session 2's text in the log",
        )
        await pilot.press("s")
        logs = run.spec_dir / "logs"
        await wait_until(pilot, lambda: list(logs.glob("app-log-*.md")), "the saved log")
        (saved,) = logs.glob("app-log-*.md")
        assert "## Session 2" in saved.read_text()
        assert app.return_code is None  # the app goes on


async def test_ctrl_d_leaves_the_run_going_and_says_how_to_come_back(hosted):
    run = hosted(hold={"1.2"}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.2" in run.sessions.started, "session 2")
        assert app.check_action("detach", ())
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: app.return_code is not None, "the app to leave")
    assert app.return_code == 0
    assert app.farewell is not None
    assert "agent-tui attach --project" in app.farewell and "--spec 001-greeter" in app.farewell
    run.until(lambda: not run.host.server.attached, "the run to see the app gone")
    assert run.host.loop.session_running  # the session goes on
    run.call(run.sessions.release.set)
    run.until(lambda: run.code is not None, "the run to complete with no app")
    assert run.code == 0
    record = registry.runs()[0]
    assert (record.state, record.outcome, record.done) == (RunState.FINISHED, "complete", 5)


async def test_a_run_process_gone_mid_run_shows_as_killed_and_the_app_exits_3(hosted):
    # Found by a newcomer (kill -9 of the run process): the status line read "RunGone: …"
    # and q left with exit 1, which the README does not list, and nothing said.
    import asyncio

    run = hosted(hold={"1.2"}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.2" in run.sessions.started, "session 2")
        run.call(lambda: asyncio.ensure_future(run.host.server.close()))  # as if it died
        await wait_until(pilot, lambda: app.exit_code is not None, "the app to see it gone")
        status = app.main_screen.status
        assert app.exit_code == 3 and status.state == "stopped"
        assert status.detail.startswith("the run process went away before the run finished")
        assert "RunGone" not in status.render().plain
        assert app.main_screen.finished is not None
        assert app.main_screen.finished.outcome == "killed"
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, "the app to leave")
    assert app.return_code == 3


async def test_q_in_an_attached_app_asks_about_the_run_and_names_ctrl_d(hosted):
    from textual.widgets import Label

    from agent_tui.tui.screens.confirm_quit import ConfirmQuit

    run = hosted(hold={"1.1"}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in run.sessions.started, "session 1")
        await wait_until(pilot, lambda: app.check_action("interrupt", ()), "the session seen")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit), "the question")
        asked = str(app.screen.query_one(Label).render())
        assert asked.startswith("A session is running. Stop the run and quit?")
        assert "ctrl+d leaves the run going" in asked
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmQuit), "staying")
        assert app.return_code is None and run.host.loop.session_running


async def test_once_the_run_has_ended_there_is_no_detaching_from_it(hosted):
    run = hosted().start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run's end")
        assert not app.check_action("detach", ())
        await pilot.press("ctrl+d")  # no "the run goes on" for a run that is over
        await pilot.pause()
        assert app.farewell is None or "goes on" not in app.farewell
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, "the app to leave")
    assert app.return_code == 0 and "goes on" not in (app.farewell or "")


async def test_a_signal_to_an_attached_app_leaves_the_run_going(hosted):
    run = hosted(hold={"1.1"}).start()
    app = attached_app(run)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in run.sessions.started, "session 1")
        await wait_until(pilot, lambda: app.loop is not None, "the attach")
        app._on_stop_signal(signal.SIGTERM)
        await wait_until(pilot, lambda: app.return_code is not None, "the app to leave")
    assert app.return_code == 0
    assert run.host.loop.session_running


async def test_the_runs_list_attaches_on_enter_and_ctrl_d_comes_back_to_it(hosted):
    run = hosted(hold={"1.1"}).start()
    run.until(lambda: registry.runs() and registry.runs()[0].last_event, "the run's record")
    app = RunsApp(registry.runs, registry.dismiss, clock=run.clock)
    async with app.run_test(size=SIZE) as pilot:
        listing = app.runs_list
        await wait_until(pilot, lambda: len(listing.records) == 1, "the run in the list")
        assert not app.check_action("pause", ()) and not app.check_action("follow_log", ())
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the run's screen")
        await wait_until(pilot, lambda: app.main_screen.plan_tree.counts() == (0, 5), "the tree")
        assert app.title == TITLE
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: app.screen is listing, "the list again")
        assert app.loop is None and app.return_code is None
        app.several_lanes = True  # as a run with lanes leaves it: its keys stay its screen's
        assert not app.check_action("cycle_lane", ()) and not app.check_action("pick_lane", ())
        await pilot.press("v", "V")
        await pilot.pause()
        assert app.screen is listing and app.return_code is None
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, "the app to leave")
    assert app.return_code == 0
    assert run.host.loop.session_running
