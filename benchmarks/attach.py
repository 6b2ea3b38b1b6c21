"""Attach to first frame: ``agent-tui attach`` to a run going on vs ``agent-tui run``, both
on a 500-subtask plan, fresh processes in a 120x40 pty.

Each round launches ``agent-tui run`` (timed until the plan shows), waits for its run
process to report the PAUSE file, detaches (ctrl+d), then launches ``agent-tui attach`` on
that run (timed the same way) and stops the run with ``q``.  The ratio is attach / run per
round; target <= 1.3x.
"""

from __future__ import annotations

import compileall
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import parser, pty_size, stop_runs
from benchmarks.startup import COLUMNS, LINES, TIMEOUT_S, agent_workspace

ROUNDS = 9
FIRST_FRAME = b"subtask 1.1"
ATTACHED = b"paused: PAUSE file"


class Terminal:
    """A program in a pty, as a user starts it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        pty_size(slave, COLUMNS, LINES)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def until(self, marker: bytes) -> float:
        """Seconds from the launch until ``marker`` showed."""
        while marker not in self.seen:
            if time.perf_counter() - self.started > TIMEOUT_S:
                raise RuntimeError(f"no {marker!r} in {TIMEOUT_S:g} s: {self.seen[-500:]!r}")
            if select.select([self.master], [], [], 0.5)[0]:
                self.seen += os.read(self.master, 65536)
        return time.perf_counter() - self.started

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        deadline = time.monotonic() + 30
        while self.process.poll() is None and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    break
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        os.close(self.master)


def main() -> None:
    import agent_tui

    compileall.compile_dir(Path(agent_tui.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        argv, env = agent_workspace(root)
        project = argv[argv.index("--project") + 1]
        state = Path(env["AGENT_TUI_STATE_DIR"])
        attach = [sys.executable, "-m", "agent_tui.cli", "attach", "--project", project]
        launched, attached = [], []
        try:
            for _ in range(ROUNDS):
                run = Terminal(argv, env)
                launched.append(run.until(FIRST_FRAME))
                run.until(ATTACHED)
                run.press(b"\x04")  # ctrl+d: the run goes on
                run.close()
                again = Terminal(attach, env)
                attached.append(again.until(FIRST_FRAME))
                again.until(ATTACHED)
                again.press(b"q")  # paused, no session running: it stops without asking
                again.close()
                stop_runs(state)
        finally:
            stop_runs(state)
    ratios = [a / r for a, r in zip(attached, launched, strict=True)]
    print(
        f"attach, launch to first frame: agent-tui run {statistics.median(launched) * 1000:.0f}"
        f" ms, agent-tui attach {statistics.median(attached) * 1000:.0f} ms, ratio "
        f"{statistics.median(ratios):.2f}x (median of {ROUNDS} rounds' ratios)"
    )


if __name__ == "__main__":
    parser(__doc__, "attach").parse_args()
    main()
