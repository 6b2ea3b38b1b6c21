"""One run per spec: a second run is refused with who holds it; a killed run frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from agent_tui.engine.control.runlock import LOCK_NAME, RunLock, SpecBusy


def test_a_second_run_on_the_spec_is_refused_until_the_first_releases(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(SpecBusy) as busy:
        second.acquire()
    expected = f"spec '{tmp_path.name}' is already being run (pid {os.getpid()} since "
    assert expected in str(busy.value)
    with pytest.raises(SpecBusy):
        second.check()
    assert not second.held
    first.release()
    second.check()
    second.acquire()
    assert second.held
    second.release()


def test_checking_a_spec_never_run_creates_nothing(tmp_path):
    RunLock(tmp_path).check()
    assert list(tmp_path.iterdir()) == []


def test_a_run_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from agent_tui.engine.control.runlock import RunLock; "
            f"RunLock(Path({str(tmp_path)!r})).acquire(); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SpecBusy) as busy:
            RunLock(tmp_path).acquire()
        assert f"pid {holder.pid} since" in str(busy.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock = RunLock(tmp_path)
    lock.acquire()  # the kernel dropped the dead run's lock: the same command resumes at once
    assert (tmp_path / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} since ")
    lock.release()
