"""One run per spec at a time: two loops on one plan would run two agents on the same files.

The lock is ``flock`` on ``SPEC_DIR/.agent-tui.lock``: the kernel drops it when the holder
exits, however it exits, so a run killed with ``kill -9`` never leaves a stale lock behind and
the same command resumes at once.  The file itself stays (removing it would let a third run
lock a new file while a second still holds the old one); it only says who holds the lock.
Where ``fcntl`` does not exist (Windows) runs are not locked.

The file is opened without following a symbolic link and must be a regular file: a repo can
ship ``.agent-tui.lock`` as a link to any file, which would then be truncated and
overwritten (as root, perhaps), or as a FIFO that would hang the check.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".agent-tui.lock"


class SpecBusy(Exception):
    """Another run holds the spec (the message says which one), or its lock file is unsafe."""


class UnsafeLockFile(SpecBusy):
    """The lock file is a symbolic link or not a regular file: refused, never written."""


_NO_FOLLOW = (
    getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


class RunLock:
    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self.path = spec_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Hold the spec for this process; :class:`SpecBusy` when another run has it.

        A spec dir we cannot create a file in is not locked: the run then meets its own,
        clearer error when it writes the plan.
        """
        if fcntl is None or self._fd is not None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NO_FOLLOW, 0o600)
        except OSError:
            self._refuse_if_unsafe()
            return
        self._check_regular(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            message = self._busy_message(fd)
            os.close(fd)
            raise SpecBusy(message) from None
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {stamp}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def check(self) -> None:
        """Raise :class:`SpecBusy` if another run holds the spec; creates and holds nothing."""
        if fcntl is None:
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | _NO_FOLLOW)
        except OSError:  # no lock file: no run has ever held this spec
            self._refuse_if_unsafe()
            return
        self._check_regular(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            raise SpecBusy(self._busy_message(fd)) from None
        finally:
            os.close(fd)

    def _refuse_if_unsafe(self) -> None:
        if os.path.islink(self.path):
            raise UnsafeLockFile(
                f"{self.path} is a symbolic link: agent-tui never writes through one; "
                "remove it and run again"
            )

    def _check_regular(self, fd: int) -> None:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafeLockFile(f"{self.path} is not a regular file: remove it and run again")

    def _busy_message(self, fd: int) -> str:
        return (
            f"spec {self.spec_dir.name!r} is already being run ({_read_holder(fd)}): "
            "stop that run first, or wait for it to finish"
        )


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "by another process"
