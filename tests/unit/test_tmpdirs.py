"""The sessions' own temp dirs: named by their process, and swept once it is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from agent_tui.engine.agents.claude.process import CliLauncher
from agent_tui.engine.sandbox.tmpdirs import TempDirs


def dead_pid() -> int:
    """A process id that was used and is no longer."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_runs_session_dirs_go_as_the_next_run_prepares(tmp_path):
    temp = TempDirs.prepare(tmp_path)
    with temp.session() as mine:
        assert mine.name.startswith(f"session-{os.getpid()}-")
        left = temp.root / f"session-{dead_pid()}-k9xq2ab1"
        (left / "claude-0" / "tasks").mkdir(parents=True)
        (left / "claude-0" / "tasks" / "out.txt").write_text("a killed run's output")
        old_style = temp.root / "session-09s211i2"  # no owner in its name: not ours to judge
        old_style.mkdir()
        elsewhere = tmp_path / "not-a-session"
        elsewhere.mkdir()
        link = temp.root / f"session-{dead_pid()}-link"
        link.symlink_to(elsewhere)

        TempDirs.prepare(tmp_path)

        assert not left.exists()
        assert mine.is_dir()  # this process's own, in use
        assert old_style.is_dir() and elsewhere.is_dir() and link.is_symlink()
    assert not mine.exists()  # its own clean-up, as the session ends


def test_a_killed_runs_cli_launchers_go_as_the_next_launcher_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"agent-tui-cli-{dead_pid()}-q1w2e3r4"
    left.mkdir()
    (left / "launch.py").write_text("# a killed agent-tui's launcher\n")
    alive = tmp_path / f"agent-tui-cli-{os.getpid()}-a1s2d3f4"  # another lane's, in use
    alive.mkdir()
    launcher = CliLauncher("/bin/sh")
    try:
        assert launcher.path.parent.name.startswith(f"agent-tui-cli-{os.getpid()}-")
        assert not left.exists() and alive.is_dir()
    finally:
        launcher.close()
    assert not launcher.path.parent.exists()
