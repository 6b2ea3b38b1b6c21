"""Where a run keeps its socket, its record and its log: ``STATE_DIR/runs``, named by spec.

The directory is the user's own (mode 0700; one owned by another user is refused) and each
socket in it is 0600 (see ``sockets``), so no other user can reach a run.  A spec's files
are named by a hash of its directory, which keeps the socket's path short.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent_tui.config import app_state_dir
from agent_tui.files import real_dir

RUNS = "runs"
KEY_CHARS = 16


class RunsDirRefused(OSError):
    """The runs directory is not the user's own: one sentence."""


def runs_dir() -> Path:
    """``STATE_DIR/runs``, made if missing, mode 0700 and the user's."""
    path = real_dir(app_state_dir().expanduser().absolute() / RUNS)
    info = os.lstat(path)
    if info.st_uid != os.getuid():
        raise RunsDirRefused(
            f"{path} belongs to another user: agent-tui keeps its run sockets only in a "
            "directory of your own (set AGENT_TUI_STATE_DIR)"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def run_key(spec_dir: Path) -> str:
    return hashlib.sha256(os.fsencode(spec_dir)).hexdigest()[:KEY_CHARS]


@dataclass(frozen=True)
class RunPlace:
    """A spec's run files: ``KEY.sock``, ``KEY.json`` (its record) and ``KEY.log``."""

    directory: Path
    key: str

    @classmethod
    def of(cls, spec_dir: Path) -> RunPlace:
        return cls(runs_dir(), run_key(spec_dir))

    @property
    def socket(self) -> Path:
        return self.directory / f"{self.key}.sock"

    @property
    def record(self) -> Path:
        return self.directory / f"{self.key}.json"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.key}.log"
