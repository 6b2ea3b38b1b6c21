"""A temp dir of its own for each session, so none reads or appends to another's.

The CLI keeps a background command's output under its temp dir, by default one per user
(``/tmp/claude-<uid>``) that every session on the machine shares: one session could read
another's output, or append a line that the other's model then takes for its command's.
Each session gets ``CLAUDE_CODE_TMPDIR=<root>/<name>`` instead; the sandbox hides the root
and the shared dirs and re-opens the session's own.  The root is ``/tmp``'s, never under
``$HOME``: a ``CLAUDE_CODE_TMPDIR`` inside a region the sandbox hides makes the CLI fall
back to the shared dir without a word.

So does a long one (CLI 2.1.331): when ``<CLAUDE_CODE_TMPDIR>/claude-<uid>`` is longer than
``CLI_TEMP_MAX_BYTES``, the CLI gives its commands the shared ``/tmp/claude-<uid>`` instead,
and its sandbox binds that writable, which shows it through the hiding: every session could
read and append to every other's output again.  ``/tmp/agent-tui-<uid>/session-XXXXXXXX``
was 42 bytes for root and 48 for uid 1000.  The names are short now (``/tmp/at-<uid>/`` and
six hex digits: 43 bytes at the largest 32-bit uid), and a path over the limit is refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SYSTEM_TMP = Path("/tmp")
"""Outside every home; the CLI's own default temp dir is here too."""
CLI_TEMP_MAX_BYTES = 44
"""The longest ``<CLAUDE_CODE_TMPDIR>/claude-<uid>`` the CLI keeps its commands in."""
OWNER_SUFFIX = ".pid"
"""``<root>/<name>.pid``: the process whose session ``<name>`` is, so another can tell it
was left behind (the root is hidden from every session: no agent writes it)."""
LEGACY_ROOT = "agent-tui-{uid}"
"""Where earlier versions kept the sessions' dirs: hidden too, for what a killed one left."""


class UnsafeTmp(Exception):
    """The private root is not a directory of this user's alone, or its paths are too long
    for the CLI to keep a session's files private; one sentence."""


@dataclass(frozen=True)
class TempDirs:
    """Where the sessions' own temp dirs go, and the CLI's shared ones they must not read."""

    root: Path
    shared: tuple[Path, ...] = ()

    @classmethod
    def prepare(cls, tmp: Path = SYSTEM_TMP, *, limit: int = CLI_TEMP_MAX_BYTES) -> TempDirs:
        """``/tmp/at-<uid>`` (made 0700), and the CLI's shared dirs, made as the CLI makes
        them: a hidden path must exist, or the sandbox plants a placeholder there (an empty
        file where the user's next ``claude`` wants its dir).  ``UnsafeTmp`` when the root
        is a link, or another user's, or its sessions' CLI temp dirs would be longer than
        ``limit`` bytes (the CLI's)."""
        uid = os.getuid()
        root = tmp / f"at-{uid}"
        if len(os.fsencode(_cli_temp(root / ("x" * NAME_BYTES)))) > limit:
            raise UnsafeTmp(
                f"{root} is too long a path for the CLI to keep each session's temp files "
                f"private (at most {limit} bytes with claude-{uid} in it)"
            )
        private_dir(root)
        sweep(root)
        dirs = {tmp / f"claude-{uid}", Path(tempfile.gettempdir()) / f"claude-{uid}"}
        shared = []
        for path in sorted(dirs):
            with contextlib.suppress(OSError):  # not ours to fix: the CLI reports it
                path.mkdir(mode=0o700, exist_ok=True)
                shared.append(path)
        legacy = tmp / LEGACY_ROOT.format(uid=uid)
        if legacy.is_dir() and not legacy.is_symlink():
            shared.append(legacy)
        return cls(root, tuple(shared))

    @contextlib.contextmanager
    def session(self) -> Iterator[Path]:
        """A new private dir under the root for one session, removed with what it holds
        when the session ends."""
        private_dir(self.root)  # a cleaner may have removed it since
        path, owner = _new_dir(self.root)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(OSError):
                owner.unlink()


NAME_BYTES = 6


def _cli_temp(tmp_dir: Path) -> str:
    return str(tmp_dir / f"claude-{os.getuid()}")


def _new_dir(root: Path) -> tuple[Path, Path]:
    """A new dir of ``NAME_BYTES`` hex digits under ``root``, and its owner's file."""
    while True:
        name = secrets.token_hex(NAME_BYTES // 2)
        owner = root / f"{name}{OWNER_SUFFIX}"
        try:
            fd = os.open(owner, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        path = root / name
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # taken by a dir without an owner: another name
            owner.unlink()
            continue
        return path, owner


def sweep(root: Path) -> list[str]:
    """Remove the session dirs under ``root`` whose process is gone (killed: its own
    clean-up never ran), and their owner files; their names.  A dir without an owner
    file, a link, or another user's is left alone."""
    gone = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if not entry.name.endswith(OWNER_SUFFIX) or not entry.is_file(follow_symlinks=False):
                continue
            owner = _owner(Path(entry.path))
            if owner is None or _alive(owner):
                continue
            path = root / entry.name.removesuffix(OWNER_SUFFIX)
            with contextlib.suppress(OSError):
                info = os.lstat(path)
                if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
                    shutil.rmtree(path)
                    gone.append(path.name)
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    return gone


def sweep_named(root: Path, prefix: str) -> list[str]:
    """Remove this user's ``<prefix><pid>-…`` dirs under ``root`` whose process is gone;
    their names.  A name without an owner, a link, or another user's is left alone."""
    gone = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            owner = _named_owner(entry.name, prefix)
            if owner is None or _alive(owner) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                    continue
                shutil.rmtree(entry.path)
                gone.append(entry.name)
    return gone


def _owner(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text(encoding="ascii").strip())
    return None


def _named_owner(name: str, prefix: str) -> int | None:
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
