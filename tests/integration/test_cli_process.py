"""The CLI launcher: a process group of the CLI's own, its exit code passed on, and nothing
of the group left behind once the CLI ends or agent-tui dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from agent_tui.engine.agents.claude.process import CliLauncher, kill_group


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_the_exit_code_is_the_clis_and_what_it_left_behind_is_killed(tmp_path):
    launcher = CliLauncher("/bin/sh")
    try:
        left = tmp_path / "left.pid"
        done = subprocess.run(
            [str(launcher.path), "-c", f"sleep 60 & echo $! > {left}; exit 3"], timeout=20
        )
        assert done.returncode == 3
        assert wait_gone(int(left.read_text()), 2)  # a relay the CLI would have orphaned
    finally:
        launcher.close()


def test_the_cli_leads_its_own_group_and_a_group_kill_ends_it(tmp_path):
    launcher = CliLauncher("/bin/sh")
    try:
        process = subprocess.Popen([str(launcher.path), "-c", "sleep 60"])
        deadline = time.monotonic() + 10
        while launcher.pid() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        cli = launcher.pid()
        assert cli is not None and os.getpgid(cli) == cli != os.getpgid(0)
        os.kill(cli, signal.SIGSTOP)  # a stopped CLI ignores all but SIGKILL
        assert kill_group(cli, signal.SIGKILL)
        assert process.wait(timeout=10) == 128 + signal.SIGKILL
        assert wait_gone(cli, 2)
    finally:
        launcher.close()


def test_the_cli_dies_with_the_process_that_started_it(tmp_path):
    pid_file = tmp_path / "cli.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from agent_tui.engine.agents.claude.process import CliLauncher\n"
            "launcher = CliLauncher('/bin/sh')\n"
            "subprocess.Popen([str(launcher.path), '-c', 'sleep 60'])\n"
            "while launcher.pid() is None: time.sleep(0.02)\n"
            f"open({str(pid_file)!r}, 'w').write(str(launcher.pid()))\n"
            "time.sleep(60)\n",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        cli = int(pid_file.read_text())
        parent.kill()  # as kill -9 of agent-tui
        parent.wait()
        assert wait_gone(cli, 3)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_what_the_cli_leaves_outside_its_group_is_killed_when_it_ends(tmp_path):
    # A sandbox (bwrap --new-session) is a session of its own: a kill of the CLI's group
    # misses it, and had it missed the CLI's death too it would live on under init.
    launcher = CliLauncher("/bin/sh")
    left = tmp_path / "left.pid"
    try:
        process = subprocess.Popen(
            [str(launcher.path), "-c", f"setsid sleep 977 & echo $! > {left}; sleep 60"]
        )
        deadline = time.monotonic() + 10
        while not (left.exists() and left.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.02)
        orphan = int(left.read_text())
        while os.getsid(orphan) != orphan and time.monotonic() < deadline:
            time.sleep(0.02)  # (setsid runs just after the shell has said its pid)
        assert os.getsid(orphan) == orphan  # out of the CLI's group and session
        assert kill_group(launcher.pid() or 0, signal.SIGKILL)  # as a check's timeout does
        assert process.wait(timeout=10) == 128 + signal.SIGKILL
        assert wait_gone(orphan, 2)
    finally:
        launcher.close()
