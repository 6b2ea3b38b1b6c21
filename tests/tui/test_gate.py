"""The start-up gate: the app draws its first frame while the checks finish, and shows
itself (and makes the loop) only once they pass."""

from __future__ import annotations

import gc
import signal
import threading

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.startup import collector
from agent_tui.startup.drivers import HeldDriver, TerminalDriver
from agent_tui.startup.launched_app import CHECKS_WAITING, GatedApp, LaunchedApp
from agent_tui.tui.app import AgentApp
from tests.tui.conftest import wait_until


def one_phase_plan() -> ev.PlanLoaded:
    subtask = ev.SubtaskView(id="1.1", description="Write it", status="pending", phase_id="1")
    return ev.PlanLoaded(
        spec_dir="/spec",
        feature="f",
        phases=(ev.PhaseView(id="1", name="Build", subtasks=(subtask,)),),
        total=1,
        completed=0,
    )


def loop_recorder() -> tuple[list[object], object]:
    """A loop factory that notes it was asked (and goes no further), and its notes."""
    made: list[object] = []

    def make_loop(sink):
        made.append(sink)
        raise RuntimeError("enough: the loop was asked for")

    return made, make_loop


class Refused(Exception):
    pass


async def test_the_loop_is_made_only_after_the_gate_passes():
    passed = threading.Event()
    made, make_loop = loop_recorder()
    app = GatedApp(make_loop, plan=one_phase_plan(), gate=passed.wait)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.main_screen.plan_tree.counts() == (0, 1)  # drawn while the gate is shut
        for _ in range(5):
            await pilot.pause()
        assert made == []
        passed.set()
        await wait_until(pilot, lambda: made, "the loop to be made")
        assert app.gate_error is None


async def test_a_refused_gate_ends_the_app_without_making_the_loop():
    made: list[object] = []

    def refuse() -> None:
        raise Refused("no credentials for profile 'work'")

    app = GatedApp(made.append, plan=one_phase_plan(), gate=refuse)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.return_code is not None, "the app to end")
    assert isinstance(app.gate_error, Refused)
    assert app.return_code == 2
    assert made == []


class Terminal:
    """Stands in for the driver's writer thread: what reaches the terminal, in order."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.alive = True

    def write(self, data: str) -> None:
        self.received.append(data)

    def flush(self) -> None:
        pass

    def is_alive(self) -> bool:
        return self.alive


async def test_the_driver_writes_nothing_once_the_terminal_is_gone_or_its_writer_dead():
    """After a hangup a write would fail or block for ever (a dead writer's queue fills)."""
    driver = TerminalDriver(None)
    terminal = driver._writer_thread = Terminal()  # type: ignore[assignment]
    driver.write("frame 1")
    terminal.alive = False  # its write failed (EIO): the thread has ended
    driver.write("frame 2")
    driver.close()  # would put on the dead writer's queue and wait for it
    assert terminal.received == ["frame 1"]
    terminal.alive = True
    driver.terminal_gone()
    driver.write("frame 3")
    assert terminal.received == ["frame 1"] and driver.exit_event.is_set()


async def test_the_held_driver_writes_nothing_until_released_then_everything_in_order():
    driver = HeldDriver(None)
    terminal = driver._writer_thread = Terminal()  # type: ignore[assignment]
    driver.write("\x1b[?1049h")
    driver.write("frame 1")
    driver.flush()
    assert terminal.received == [] and driver.held
    releaser = threading.Thread(target=driver.release)  # as the gate's thread does
    releaser.start()
    releaser.join()
    driver.write("frame 2")
    assert terminal.received == ["\x1b[?1049hframe 1", "frame 2"]
    assert not driver.held


async def test_the_held_driver_never_shows_an_app_stopped_before_its_release():
    driver = HeldDriver(None)
    terminal = driver._writer_thread = Terminal()  # type: ignore[assignment]
    driver.write("\x1b[?1049h")
    driver.write("frame 1")
    driver.stop_application_mode()  # restores the terminal's mode; its own writes are held
    driver.release()  # a verdict that comes too late changes nothing
    assert terminal.received == []


async def test_the_held_driver_writes_a_notice_to_the_shell_only_while_held():
    driver = HeldDriver(None)
    terminal = driver._writer_thread = Terminal()  # type: ignore[assignment]
    driver.write("frame 1")
    driver.notice("agent-tui: still checking")
    assert terminal.received == ["agent-tui: still checking\r\n"]
    driver.release()
    driver.notice("too late")
    assert terminal.received == ["agent-tui: still checking\r\n", "frame 1"]


async def test_slow_checks_get_a_notice_and_fast_ones_none(monkeypatch):
    from textual.drivers.headless_driver import HeadlessDriver

    notices: list[str] = []
    monkeypatch.setattr(
        HeadlessDriver, "notice", lambda _, line: notices.append(line), raising=False
    )
    answer = threading.Event()
    made, make_loop = loop_recorder()
    slow = GatedApp(make_loop, plan=one_phase_plan(), gate=answer.wait)
    slow.checks_notice_after_s = 0  # the checks take longer than this
    async with slow.run_test() as pilot:
        await wait_until(pilot, lambda: notices, "the notice")
        answer.set()
        await wait_until(pilot, lambda: made, "the gate to pass")
    assert notices == [CHECKS_WAITING]

    # Fast checks: the notice's timer is cancelled once the gate passes, so it never fires
    # (its delay is long enough that only a cancel ends the thread within the test).
    fast = GatedApp(lambda sink: None, plan=one_phase_plan(), gate=lambda: None)
    fast.checks_notice_after_s = 60
    async with fast.run_test() as pilot:
        await wait_until(
            pilot,
            lambda: not any(t.name == "agent-tui-checks-notice" for t in threading.enumerate()),
            "the notice's timer to be cancelled",
        )


async def test_the_app_switches_the_collector_back_on_once_its_first_frame_is_drawn():
    """The command line pauses garbage collection while the app loads (it slows start-up)."""
    gc.disable()
    try:
        app = LaunchedApp(lambda sink: None, plan=one_phase_plan())
        async with app.run_test() as pilot:
            await wait_until(pilot, gc.isenabled, "the collector to be back on")
    finally:
        gc.enable()


def test_the_command_line_switches_the_collector_on_again_whatever_happens():
    with pytest.raises(KeyError), collector.paused():
        assert not gc.isenabled()
        raise KeyError("a refusal, say")
    assert gc.isenabled()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_a_stop_signal_while_the_screen_mounts_exits_cleanly_once_it_is_drawn(signum):
    """Textual fails (NoMatches) when an app exits before its screen has finished
    mounting: a signal that early ends the app right after its first frame instead."""

    class SignalledWhileMounting(AgentApp):
        def on_mount(self) -> None:
            super().on_mount()
            self._on_stop_signal(signum)  # as the event loop's handler calls it

    app = SignalledWhileMounting(lambda sink: None, plan=one_phase_plan())
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.return_code is not None, "the app to end")
    assert app.return_code == 130
    assert app.stop_signal == signal.Signals(signum).name
    assert app.first_frame_drawn


async def test_quitting_before_the_checks_answer_does_not_wait_for_them():
    never = threading.Event()
    app = GatedApp(lambda sink: None, plan=one_phase_plan(), gate=never.wait)
    try:
        async with app.run_test() as pilot:
            await pilot.press("q")
            await wait_until(pilot, lambda: app.return_code is not None, "the app to end")
        assert app.return_code == 130
        assert app.gate_error is None
    finally:
        never.set()  # lets the checks' thread end
