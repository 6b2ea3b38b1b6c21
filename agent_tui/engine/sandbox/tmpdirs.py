"""A temp dir of its own for each session, so none reads or appends to another's.

The CLI keeps a background command's output under its temp dir, by default one per user
(``/tmp/claude-<uid>``) that every session on the machine shares: one session could read
another's output, or append a line that the other's model then takes for its command's.
Each session gets ``CLAUDE_CODE_TMPDIR=<root>/session-…`` instead; the sandbox hides the
root and the shared dirs and re-opens the session's own.  The root is ``/tmp``'s, never
under ``$HOME``: a ``CLAUDE_CODE_TMPDIR`` inside a region the sandbox hides makes the CLI
fall back to the shared dir without a word.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYSTEM_TMP = Path("/tmp")
"""Outside every home; the CLI's own default temp dir is here too."""


class UnsafeTmp(Exception):
    """The private root is not a directory of this user's alone; one sentence."""


@dataclass(frozen=True)
class TempDirs:
    """Where the sessions' own temp dirs go, and the CLI's shared ones they must not read."""

    root: Path
    shared: tuple[Path, ...] = ()

    @classmethod
    def prepare(cls, tmp: Path = SYSTEM_TMP) -> TempDirs:
        """``/tmp/agent-tui-<uid>`` (made 0700), and the CLI's shared dirs, made as the CLI
        makes them: a hidden path must exist, or the sandbox plants a placeholder there
        (an empty file where the user's next ``claude`` wants its dir).  ``UnsafeTmp``
        when the root is a link, or another user's."""
        uid = os.getuid()
        root = private_dir(tmp / f"agent-tui-{uid}")
        sweep(root)
        dirs = {tmp / f"claude-{uid}", Path(tempfile.gettempdir()) / f"claude-{uid}"}
        shared = []
        for path in sorted(dirs):
            with contextlib.suppress(OSError):  # not ours to fix: the CLI reports it
                path.mkdir(mode=0o700, exist_ok=True)
                shared.append(path)
        return cls(root, tuple(shared))

    @contextlib.contextmanager
    def session(self) -> Iterator[Path]:
        """A new private dir under the root for one session, removed with what it holds
        when the session ends."""
        private_dir(self.root)  # a cleaner may have removed it since
        path = Path(tempfile.mkdtemp(prefix=f"{SESSION_PREFIX}{os.getpid()}-", dir=self.root))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


SESSION_PREFIX = "session-"
"""``session-<pid>-…``: the process whose session it is, so another can tell it was left."""


def sweep(root: Path, prefix: str = SESSION_PREFIX) -> list[str]:
    """Remove this user's ``<prefix><pid>-…`` dirs under ``root`` whose process is gone
    (killed: its own clean-up never ran); their names.  A name without an owner, a link,
    or another user's is left alone."""
    gone = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            owner = _owner(entry.name, prefix)
            if owner is None or _alive(owner) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                    continue
                shutil.rmtree(entry.path)
                gone.append(entry.name)
    return gone


def _owner(name: str, prefix: str) -> int | None:
    pid, dash, _ = name.removeprefix(prefix).partition("-")
    if not name.startswith(prefix) or not dash or not pid.isdigit():
        return None
    return int(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's (EPERM): alive as far as this one can tell
        return True
    return True


def private_dir(path: Path) -> Path:
    """``path`` as a directory only this user can enter, made if missing; ``UnsafeTmp``
    when it is a link or another user's (in a shared ``/tmp``, anyone can make it first)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise UnsafeTmp(
            f"{path} is not a directory of yours (a link, a file, or another user's): "
            "sessions keep their temp files there; remove it"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path
