"""A run's record in the state dir: what ``ls`` shows of it, kept true by the run itself.

One JSON file per spec (``KEY.json``, mode 0600), written atomically.  A finished run's
record stays, with its outcome, until it is dismissed; a record whose process is gone
without having finished it (``kill -9``, a crash, the machine restarted) reads as killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from agent_tui.files import atomic_write_text, read_bounded

RECORD_LIMIT = 1 << 20


class RunState(StrEnum):
    NEEDS_YOU = "needs you"
    """Paused on a problem only the user can fix."""
    STUCK = "stuck"
    """Going on, with a subtask stuck."""
    WAITING = "waiting for a reset"
    PAUSED = "paused"
    RUNNING = "running"
    FINISHED = "finished"


ORDER = list(RunState)
"""``ls`` lists the runs that need the user first, finished ones last."""
KILLED = "killed"
"""The outcome of a run whose process went away before it finished."""


@dataclass
class RunRecord:
    key: str
    spec: str
    spec_dir: str
    project_dir: str
    pid: int
    socket: str
    log: str
    process_start: str = ""
    """The process's start time as the kernel counts it: a pid reused later is not this run."""
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    state: RunState = RunState.RUNNING
    outcome: str = ""
    """How it finished (``complete``, ``stuck``, ``stopped``…, or ``killed``)."""
    exit_code: int | None = None
    message: str = ""
    done: int = 0
    total: int = 0
    lanes: int = 1
    lanes_busy: int = 0
    spend_usd: float = 0.0
    last_event: str = ""
    needs_you: str = ""
    """What the run said it needs while no app was attached (cleared once one attaches)."""
    branch: str = ""
    """The spec's work branch, where the run works in a worktree ("" in place)."""

    @classmethod
    def read(cls, path: Path) -> RunRecord | None:
        """The record at ``path``; None if it is missing or not one."""
        try:
            data = json.loads(read_bounded(path, RECORD_LIMIT, follow_symlinks=False))
            known = {f.name for f in fields(cls)}
            record = cls(**{k: v for k, v in data.items() if k in known})
            record.state = RunState(record.state)
        except (OSError, ValueError, TypeError):
            return None
        return record

    def write(self, path: Path) -> None:
        self.updated_at = time.time()
        atomic_write_text(path, json.dumps(self.as_json(), indent=1) + "\n", mode=0o600)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        return data

    @property
    def finished(self) -> bool:
        return self.state == RunState.FINISHED

    def alive(self) -> bool:
        """Its process is still there (and is this run's, not a later one with its pid)."""
        return process_start(self.pid) == self.process_start and self.process_start != ""

    def state_text(self) -> str:
        """``running``, ``needs you``…; a finished run says how: ``finished: complete``."""
        if self.finished:
            return f"finished: {self.outcome or 'unknown'}"
        return str(self.state)

    def next_step(self) -> str:
        """What to do now that the run has finished, in a line ("" if nothing)."""
        from agent_tui.plan.commands import next_step

        if not self.finished:
            return ""
        return next_step(self.outcome, Path(self.project_dir), Path(self.spec_dir), self.branch)

    def project_shown(self) -> str:
        """The project's path, ``~`` for the home directory."""
        home = os.path.expanduser("~")
        path = self.project_dir
        return "~" + path[len(home) :] if home != "/" and path.startswith(home + "/") else path

    def mark_killed(self) -> None:
        self.state = RunState.FINISHED
        self.outcome = KILLED
        self.message = "the run process went away: run it again to resume"
        self.lanes_busy = 0


def process_start(pid: int) -> str:
    """When process ``pid`` started (Linux: clock ticks since boot); "" if there is none or
    it is a zombie.  Without ``/proc``, the pid alone."""
    if not os.path.isdir("/proc/self"):
        return _pid_exists(pid)
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            after_name = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return "" if after_name[0] == "Z" else after_name[19]


def _pid_exists(pid: int) -> str:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ""
    except PermissionError:
        pass  # there, but another user's
    return str(pid)


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
