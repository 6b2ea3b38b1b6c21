"""The look of the app, with scripted sessions and a clock that moves only by hand."""

from __future__ import annotations

from agent_tui.engine.events import core as ev
from agent_tui.tui.screens.profile_picker import ProfilePicker
from tests.tui.conftest import wait_until

SIZE = (130, 34)


def test_main_screen_mid_run(snap_compare, scripted_app):
    harness = scripted_app(hold={"1.3"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.3" in harness.sessions.started, "session 3")
        await wait_until(pilot, lambda: harness.app.main_screen.log_view.lines_written >= 14, "log")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_backoff_countdown(snap_compare, scripted_app):
    harness = scripted_app(failures={"1.1": 2})

    async def run_before(pilot):
        await wait_until(pilot, lambda: len(harness.of(ev.BackoffStarted)) == 1, "the backoff")
        harness.clock.advance(0.5)
        await wait_until(pilot, lambda: harness.app.main_screen.countdown.display, "countdown")
        harness.app.main_screen.countdown.refresh()
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
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_profile_picker(snap_compare, scripted_app):
    harness = scripted_app(hold={"1.1"})

    async def run_before(pilot):
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(harness.app.screen, ProfilePicker), "picker")
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)


def test_waiting_for_a_usage_limit_to_reset(snap_compare, scripted_app, utc):
    harness = scripted_app(limits={"1.1": 1})

    async def run_before(pilot):
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the wait")
        harness.clock.advance(1800)
        await wait_until(pilot, lambda: harness.app.main_screen.countdown.display, "countdown")
        harness.app.main_screen.countdown.refresh()
        await pilot.pause()

    assert snap_compare(harness.app, terminal_size=SIZE, run_before=run_before)
