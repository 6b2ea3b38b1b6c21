"""The app on an unattended run: a wait for a usage limit shows its reset and r cuts it
short, the picker shows every profile's window, and m leaves a note for the next prompt."""

from __future__ import annotations

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.tui.screens.note_input import NoteInput
from agent_tui.tui.screens.profile_picker import ProfilePicker
from tests.tui.conftest import wait_until
from tests.tui.test_app_demo import footer_keys, log_text

SIZE = (150, 40)


async def test_a_wait_for_a_reset_shows_when_and_r_cuts_it_short(scripted_app, utc):
    harness = scripted_app(limits={"1.1": 1})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.countdown.display, "the countdown")
        await wait_until(pilot, lambda: harness.clock.sleepers == 1, "the loop to wait")
        assert screen.countdown.caption == "usage limit resets 19:00"
        assert "⏳ 1:00:30" in screen.countdown.render().plain
        harness.clock.advance(90)
        assert "⏳ 59:00" in screen.countdown.render().plain
        status = screen.status
        assert (status.state, status.detail) == ("waiting for the usage limit", "resets 19:00")
        assert status.quota == "5h limit reached · resets 19:00"
        assert "profile demo-a │ usage 5h limit reached · resets 19:00 │" in status.render().plain
        line = "waiting 1 h 01 min: the usage limit resets at 19:00"
        await wait_until(pilot, lambda: line in log_text(app), "the log line")
        await wait_until(pilot, lambda: "r" in footer_keys(app), "r in the footer")
        await pilot.press("r")
        await wait_until(pilot, lambda: harness.of(ev.BackoffEnded), "the wait to end")
        assert harness.of(ev.BackoffEnded)[0].reason == "retry_now"
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
    assert harness.sessions.started[:2] == ["1.1", "1.1"]  # tried again at once, not at 19:00
    assert harness.clock.now() < 1000 + 3600


async def test_the_picker_shows_every_profiles_window(scripted_app, utc):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        wall = harness.clock.wall()
        app.loop.quota.record(
            "demo-a",
            Quota(status=QuotaStatus.WARNING, window="five_hour", utilization=0.91,
                  resets_at=wall + 2 * 3600 + 50 * 60),
        )  # fmt: skip
        app.loop.quota.record(
            "demo-b", Quota(status=QuotaStatus.REJECTED, window="seven_day", resets_at=wall + 600)
        )
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        rows = [str(o.prompt) for o in app.screen.query_one("OptionList").options]
        assert rows[0].startswith("● demo-a") and rows[0].endswith("5h 91% · resets 20:50")
        assert rows[1].endswith("7d limit reached · resets 18:10")
        await pilot.press("escape")
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_m_puts_a_note_into_the_next_prompt_which_the_sim_records(demo_app):
    # Paced until the note is in, so it is typed while an early session runs (a loaded
    # machine may take a session or two to type it); four subtasks, so a session carries
    # it and one after it does not.
    harness = demo_app(pace_s=0.05, subtasks=("1.1", "1.2", "1.3", "2.1"))
    app = harness.app
    note = "Make main() quiet: prefer a real list, print nothing."  # every key letter
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.loop is not None and app.loop.session_running, "the first session"
        )
        await wait_until(pilot, lambda: "m" in footer_keys(app), "m in the footer")
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteInput), "the note input")
        await pilot.press(*note, "enter")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the input to close")
        assert harness.of(ev.NoteQueued)[0].text == note
        harness.sim.scenario.pace_s = 0.0  # the note is in: the rest need not be watched
        assert any("carries your note" in str(n.message) for n in app._notifications)
        await wait_until(pilot, lambda: harness.of(ev.NoteSent), "a session carrying the note")
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
        shown = " ".join(log_text(app).split())  # the log wraps its lines
        assert f"✉ note for the next session: {note}" in shown
        assert f"✉ this session's prompt carries your note: {note}" in shown
    assert app.exit_code == 0
    carried = [r for r in harness.sim.requests if note in r.prompt]
    first = harness.sim.requests[0]
    assert carried and note not in first.prompt
    assert len({r.session_id for r in carried}) == 1  # one session, then it was taken
    after = harness.sim.requests[harness.sim.requests.index(carried[-1]) + 1 :]
    assert {r.session_id for r in after} - {carried[0].session_id}  # a later session ran
    spec_dir = harness.workspace.spec_dir
    assert not (spec_dir / "HUMAN_INPUT.md").exists()
    kept = list((spec_dir / "logs").glob("session-*.human-input.md"))
    assert [path.read_text() for path in kept] == [note + "\n"]


async def test_escape_closes_the_note_input_and_leaves_no_note(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, NoteInput), "the note input")
        await pilot.press(*"never mind", "escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the input to close")
        assert not (harness.workspace.spec_dir / "HUMAN_INPUT.md").exists()
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")
    assert not harness.of(ev.NoteQueued)


async def test_the_status_lines_window_reads_reset_once_its_time_has_passed(
    scripted_app, utc, monkeypatch
):
    from agent_tui.tui.screens import main

    monkeypatch.setattr(main, "QUOTA_REFRESH_S", 0.05)  # the refresh's timer, not the clock
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        wall = harness.clock.wall()
        rejected = Quota(status=QuotaStatus.REJECTED, window="five_hour", resets_at=wall + 600)
        app.loop.quota.record("demo-a", rejected)
        screen = app.main_screen
        screen.show_quota()
        assert screen.status.quota == "5h limit reached · resets 18:10"
        harness.clock.advance(700)  # no event: the reset just passes
        await wait_until(
            pilot, lambda: screen.status.quota == "5h window reset at 18:10", "the reset said"
        )
        harness.sessions.release.set()
