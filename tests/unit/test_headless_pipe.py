"""Headless output whose reader goes away: mid-run it interrupts the run, at the end it
changes nothing; ``profiles`` output to a closed pipe ends quietly."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.exit_codes import EXIT_INTERRUPTED
from agent_tui.headless import run_headless


class ClosedAfter(io.StringIO):
    """An output whose reader leaves after ``lines`` lines."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left == 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.left -= 1
        return super().write(text)


class ScriptedLoop:
    """Sends its events in order, unless stopped first; ends with ``loop_finished``."""

    def __init__(self, sink, code: int) -> None:
        self.sink, self.code, self.stopped = sink, code, False

    def stop(self, reason: str = "stopped by the user") -> None:
        self.stopped, self.reason = True, reason

    async def run(self) -> int:
        for event in (ev.Resumed(), ev.Paused(reason="r"), ev.Resumed()):
            if self.stopped:
                break
            await self.sink(event)
        outcome = ("interrupted", EXIT_INTERRUPTED) if self.stopped else ("complete", self.code)
        await self.sink(ev.LoopFinished(outcome=outcome[0], exit_code=outcome[1]))
        return outcome[1]


def run(out: io.StringIO) -> tuple[int, ScriptedLoop]:
    loops = []

    def make_loop(sink):
        loops.append(ScriptedLoop(sink, code=0))
        return loops[0]

    code = asyncio.run(run_headless(make_loop, out=out))
    return code, loops[0]


def test_a_reader_gone_mid_run_stops_it_as_an_interruption(capsys):
    out = ClosedAfter(lines=1)
    code, loop = run(out)
    assert (code, loop.stopped) == (EXIT_INTERRUPTED, True)
    assert loop.reason == "standard output was closed (its reader went away)"
    assert out.getvalue().count("\n") == 1
    assert "standard output was closed" in capsys.readouterr().err


def test_a_reader_gone_only_at_the_last_event_leaves_a_finished_run_its_code(capsys):
    # Found in review: the run had completed, yet it exited 130 with "the run stopped".
    out = ClosedAfter(lines=3)
    code, loop = run(out)
    assert (code, loop.stopped) == (0, False)
    assert "finished" not in out.getvalue()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("unbuffered", [True, False])
def test_profiles_output_to_a_closed_pipe_ends_quietly(tmp_path, unbuffered):
    # Found in review: without PYTHONUNBUFFERED the short output sat in the buffer and the
    # broken pipe surfaced in Python's flush at exit ("Exception ignored", exit 120).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["AGENT_TUI_CONFIG_DIR"] = str(tmp_path / "config")
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first write
    with os.fdopen(write, "wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "agent_tui.cli", "profiles", "list"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (EXIT_INTERRUPTED, "")
