"""Notifications: which events earn one, the terminal escape that carries it, and headless
mode sending it only to a terminal."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.headless import run_headless
from agent_tui.notifications import Notification, notification_for, terminal_escape

CANARY = "sk-ant-oat01-CANARYcanary0123456789abcdef"


def reset_wait(**fields) -> ev.BackoffStarted:
    base = dict(kind="rate_limit", delay_s=7230.0, retry=0, max_retries=0, deadline=1.0)
    return ev.BackoffStarted(**{**base, "resets_at": 1_796_158_200.0, **fields})


@pytest.mark.parametrize(
    ("event", "title"),
    [
        (ev.Paused(reason="auth failed on profile 'a'", needs_user=True), "agent-tui needs you"),
        (ev.SubtaskStuck(id="1.2", reason="not completed after 3 sessions"),
         "agent-tui: subtask stuck"),
        (reset_wait(), "agent-tui is waiting"),
        (ev.LoopFinished(outcome="complete", exit_code=0, message="all 5 subtasks completed"),
         "agent-tui: done"),
        (ev.LoopFinished(outcome="stopped", exit_code=3, message="rate limited"),
         "agent-tui stopped"),
    ],
)  # fmt: skip
def test_the_events_that_need_the_user_or_say_it_is_over_notify(utc, event, title):
    notification = notification_for(event)
    assert notification is not None and notification.title == title


@pytest.mark.parametrize(
    "event",
    [
        ev.Paused(reason="paused by the user", by_user=True),
        ev.Paused(reason="PAUSE file"),
        reset_wait(delay_s=20.0),  # a short wait: the user need not know
        reset_wait(remaining_s=3600.0),  # going on after a pause: already told
        ev.BackoffStarted(kind="tool_concurrency", delay_s=300, retry=1, max_retries=5, deadline=1),
        ev.LoopFinished(outcome="interrupted", exit_code=130, message="stopped by the user"),
        ev.SessionStarted(
            session=1, kind="coder", subtask_id="1", profile="a", attempt=1, model=None,
            transcript="t",
        ),
    ],
)  # fmt: skip
def test_everything_else_is_quiet(event):
    assert notification_for(event) is None


def test_a_long_wait_says_until_when(utc):
    assert notification_for(reset_wait()).body == (
        "waiting 2 h 01 min: the usage limit resets at 20:50"
    )


NOTE = Notification(title="agent-tui needs you", body="auth; failed\x1b]0;x\x07 " + CANARY)


def test_the_escape_is_the_bell_then_osc_9_with_one_safe_line():
    assert terminal_escape(NOTE, {"TERM": "xterm-256color"}) == (
        "\a\x1b]9;agent-tui needs you: auth, failed ]0,x  sk-ant-oat01-…cdef\x07"
    )


@pytest.mark.parametrize("environ", [{"TERM": "foot"}, {"TERM": "xterm", "VTE_VERSION": "7600"}])
def test_terminals_that_speak_osc_777_get_it(environ):
    escape = terminal_escape(Notification(title="t", body="b"), environ)
    assert escape == "\a\x1b]777;notify;t;b\x07"


def test_inside_tmux_the_escape_is_wrapped_to_reach_the_outer_terminal():
    escape = terminal_escape(Notification(title="t", body="b"), {"TMUX": "/tmp/tmux,1,0"})
    assert escape == "\a\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def headless_output(stream, notifications: bool) -> str:
    class Loop:
        config = SimpleNamespace(notifications=notifications)

        def __init__(self, sink) -> None:
            self.sink = sink

        def stop(self, reason: str) -> None:
            pass

        async def run(self) -> int:
            await self.sink(ev.Paused(reason="auth failed", needs_user=True))
            await self.sink(ev.LoopFinished(outcome="complete", exit_code=0, message="done"))
            return 0

    assert asyncio.run(run_headless(Loop, out=stream)) == 0
    return stream.getvalue()


def test_headless_mode_notifies_a_terminal_but_never_a_file_or_when_turned_off():
    to_terminal = headless_output(Terminal(), notifications=True)
    assert to_terminal.count("\a\x1b]9;") == 2
    assert "\a\x1b]9;agent-tui needs you: auth failed\x07" in to_terminal
    assert "\a" not in headless_output(Terminal(), notifications=False)
    assert "\a" not in headless_output(io.StringIO(), notifications=True)
