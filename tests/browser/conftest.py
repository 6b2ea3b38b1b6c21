"""Browser fixtures: ``agent-tui serve`` as a user starts it, and runs hosted as the run
process hosts them."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

URL = re.compile(r"http://\S+/\?token=\S+")


def descendants(pid: int) -> set[int]:
    """Every process under ``pid`` now."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError), open(f"/proc/{entry}/stat") as handle:
            parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Served:
    def __init__(self, process: subprocess.Popen, url: str, said: str) -> None:
        self.process, self.url, self.said = process, url, said
        self.apps: set[int] = set()
        """The app processes it started, as last seen: each must be gone once it stops."""

    def note_apps(self) -> set[int]:
        """The app processes it runs now (one per open tab), kept to check they end."""
        self.apps |= descendants(self.process.pid)
        return self.apps

    def stop(self) -> int:
        self.note_apps()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in self.apps) and time.monotonic() < deadline:
            time.sleep(0.1)
        return code


@pytest.fixture
def serve():
    """``agent-tui serve --port 0 ARGS``; its URL once it listens; stopped at the end."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent_tui.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        said = b""
        deadline = time.monotonic() + 60
        while not URL.search(said.decode(errors="replace")):
            left = deadline - time.monotonic()
            assert left > 0 and process.poll() is None, said + process.stderr.read()
            if select.select([process.stdout], [], [], left)[0]:
                said += os.read(process.stdout.fileno(), 4096)
        served = Served(process, URL.search(said.decode()).group(0), said.decode())
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.stop()


@pytest.fixture
def hosted(tmp_path):
    from tests.hosted_run import hosted_run

    runs = []

    def build(**kwargs):
        run = hosted_run(tmp_path, **kwargs)
        runs.append(run)
        return run

    yield build
    for run in runs:
        run.stop()
