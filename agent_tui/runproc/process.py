"""Starting the run process, and becoming one.

``spawn`` starts ``python -m ENTRY READY_FD`` in a session of its own with the run's job
(the checked run, pickled) on its stdin; that process forks once more and exits, so the
run is nobody's child and can never get a controlling terminal (the classic double fork).
The run ignores SIGHUP, reads nothing from a terminal and writes its stdout and stderr to
its log in the state dir.  It says on the READY_FD pipe when its socket listens, or why
it cannot start; ``spawn`` waits for that line.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_tui.runproc.places import RunPlace

READY_TIMEOUT_S = 60.0
"""The run's imports and its first look at the workspace, on a loaded machine."""


class RunNotStarted(Exception):
    """The run process could not start: one sentence."""


@dataclass(frozen=True)
class Started:
    pid: int
    socket: Path


def spawn(entry: str, job: bytes, place: RunPlace, timeout_s: float = READY_TIMEOUT_S) -> Started:
    """Start the run process for ``job``; once its socket listens, its pid and socket."""
    ready_read, ready_write = os.pipe()
    log = os.open(place.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        starter = subprocess.Popen(
            [sys.executable, "-m", entry, str(ready_write)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            pass_fds=(ready_write,),
            start_new_session=True,
        )
    finally:
        os.close(ready_write)
        os.close(log)
    try:
        assert starter.stdin is not None
        with starter.stdin:
            starter.stdin.write(job)
        starter.wait(timeout_s)  # it forks the run and exits
        return _ready(ready_read, place, time.monotonic() + timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunNotStarted(f"the run process did not start ({exc}); see {place.log}") from None
    finally:
        os.close(ready_read)
        if starter.poll() is None:
            starter.kill()
            starter.wait()


def _ready(fd: int, place: RunPlace, deadline: float) -> Started:
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RunNotStarted(f"the run process did not answer in time; see {place.log}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RunNotStarted(f"the run process ended before it started; see {place.log}")
        data += chunk
    said = json.loads(data)
    if not said.get("ok"):
        raise RunNotStarted(str(said.get("error")))
    return Started(pid=int(said["pid"]), socket=Path(said["socket"]))


def become_run_process() -> None:
    """In the started process: fork the run off and leave; the run ignores hangups and keeps
    no terminal (stdin from /dev/null; stdout and stderr are already its log)."""
    if os.fork() != 0:
        os._exit(0)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def say_ready(fd: int, **said: Any) -> None:
    """Tell ``spawn`` the run listens (``ok``, ``pid``, ``socket``) or why not (``error``)."""
    with os.fdopen(fd, "w") as pipe:
        pipe.write(json.dumps(said) + "\n")
