"""The sessions' own temp dirs: named by their process, and swept once it is gone."""

from __future__ import annotations

import os
import subprocess
import sys

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
