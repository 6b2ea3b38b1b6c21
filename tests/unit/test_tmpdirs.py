"""The sessions' own temp dirs: short enough for the CLI to keep them private, owned by
their process, and swept once it is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from agent_tui.engine.agents.claude.process import CliLauncher
from agent_tui.engine.sandbox.tmpdirs import CLI_TEMP_MAX_BYTES, TempDirs, UnsafeTmp

PYTEST_PATHS = 4096
"""The CLI's limit concerns the real ``/tmp``; pytest's temp paths are longer."""


def dead_pid() -> int:
    """A process id that was used and is no longer."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("uid", [0, 1000, 1868600000, 4294967295])
def test_in_the_real_tmp_a_sessions_cli_temp_dir_stays_within_the_clis_limit(
    monkeypatch, tmp_path, uid
):
    # Over the limit, the CLI gives its commands the shared /tmp/claude-<uid>, and its
    # sandbox shows that dir through the hiding (every session's output, readable again).
    monkeypatch.setattr(os, "getuid", lambda: uid)
    made: list[Path] = []
    monkeypatch.setattr("agent_tui.engine.sandbox.tmpdirs.private_dir", made.append)
    monkeypatch.setattr("agent_tui.engine.sandbox.tmpdirs.sweep", lambda root: [])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the shared dirs: made there
    temp = TempDirs.prepare()
    assert made == [Path(f"/tmp/at-{uid}")]
    longest = temp.root / "0a1b2c" / f"claude-{uid}"  # a session's name: six hex digits
    assert len(str(longest).encode()) <= CLI_TEMP_MAX_BYTES


def test_a_root_too_long_for_the_cli_is_refused_in_a_sentence(tmp_path):
    deep = tmp_path / ("d" * 40)
    said = f"too long a path .* \\(at most {CLI_TEMP_MAX_BYTES} bytes"
    with pytest.raises(UnsafeTmp, match=said):
        TempDirs.prepare(deep)


def test_a_killed_runs_session_dirs_go_as_the_next_run_prepares(tmp_path):
    temp = TempDirs.prepare(tmp_path, limit=PYTEST_PATHS)
    with temp.session() as mine:
        assert len(mine.name) == 6 and (temp.root / f"{mine.name}.pid").read_text() == str(
            os.getpid()
        )
        left = temp.root / "9f8e7d"
        (left / "claude-0" / "tasks").mkdir(parents=True)
        (left / "claude-0" / "tasks" / "out.txt").write_text("a killed run's output")
        (temp.root / "9f8e7d.pid").write_text(str(dead_pid()))
        old_style = temp.root / "session-09s211i2"  # no owner file: not ours to judge
        old_style.mkdir()
        elsewhere = tmp_path / "not-a-session"
        elsewhere.mkdir()
        link = temp.root / "5a5a5a"
        link.symlink_to(elsewhere)
        (temp.root / "5a5a5a.pid").write_text(str(dead_pid()))

        TempDirs.prepare(tmp_path, limit=PYTEST_PATHS)

        assert not left.exists() and not (temp.root / "9f8e7d.pid").exists()
        assert mine.is_dir()  # this process's own, in use
        assert old_style.is_dir() and elsewhere.is_dir() and link.is_symlink()
    assert not mine.exists() and not (temp.root / f"{mine.name}.pid").exists()


def test_an_earlier_versions_root_is_hidden_with_the_shared_dirs(tmp_path):
    legacy = tmp_path / f"agent-tui-{os.getuid()}"
    (legacy / "session-x1y2z3w4").mkdir(parents=True)
    temp = TempDirs.prepare(tmp_path, limit=PYTEST_PATHS)
    assert legacy in temp.shared and temp.root == tmp_path / f"at-{os.getuid()}"


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
