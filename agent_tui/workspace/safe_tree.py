"""Files under a directory, read and written without ever following a symbolic link.

The worktree's spec copy is the agent's to write, while agent-tui (unsandboxed) copies files
in and out of it during the agent's session.  A link there (``spec/notes -> ~/.ssh``) would
have agent-tui read a secret into the agent's reach, or write a plan over a file anywhere.
So every step from the tree's root is opened relative to the one before with
``O_NOFOLLOW`` (no race between a check and the open): a link, or anything that is not a
regular file or a directory, is not followed but reported and left alone.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from agent_tui.files import TooLarge

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class NotPlain(OSError):
    """A link, a device or some other thing that is not a plain file or directory."""


@contextlib.contextmanager
def opened_dir(root: Path, parts: tuple[str, ...] = (), *, create: bool = False) -> Iterator[int]:
    """A descriptor of ``root/parts…``, each step a real directory (made if ``create``)."""
    fd = os.open(root, _DIR_FLAGS | _CLOEXEC)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            try:
                inner = os.open(part, _DIR_FLAGS | _CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if _is_link(fd, part):
                    raise NotPlain(None, "is a symbolic link", part) from None
                raise exc
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def walk(
    root: Path, start: tuple[str, ...], skip_top: frozenset[str], limit: int
) -> tuple[list[str], list[str]]:
    """The plain files under ``root/start…`` (POSIX paths relative to it, at most
    ``limit``), and the things that were not followed.  Names in ``skip_top`` are left out
    at its top level.  ``FileNotFoundError`` when it does not exist."""
    files: list[str] = []
    refused: list[str] = []
    with opened_dir(root, start):
        pass  # the way down is real directories (else NotPlain)
    pending: list[tuple[str, ...]] = [()]
    while pending and len(files) < limit:
        parts = pending.pop()
        try:
            with opened_dir(root, start + parts) as fd:
                entries = sorted(os.scandir(fd), key=lambda e: e.name)
        except NotPlain:
            refused.append("/".join(parts))
            continue
        except FileNotFoundError:
            continue
        for entry in entries:
            if not parts and entry.name in skip_top:
                continue
            rel = (*parts, entry.name)
            if entry.is_dir(follow_symlinks=False):
                pending.append(rel)
            elif entry.is_file(follow_symlinks=False):
                files.append("/".join(rel))
            else:
                refused.append("/".join(rel))
    return sorted(files[:limit]), refused


def read(root: Path, rel: str, limit: int) -> bytes | None:
    """The bytes of ``root/rel``, or None when it is not there; ``NotPlain`` for a link or a
    special file on the way, ``TooLarge`` past ``limit``."""
    *parts, name = PurePosixPath(rel).parts
    try:
        with opened_dir(root, tuple(parts)) as dir_fd:
            try:
                fd = os.open(name, _FILE_FLAGS | _CLOEXEC, dir_fd=dir_fd)
            except OSError as exc:
                if _is_link(dir_fd, name):
                    raise NotPlain(None, "is a symbolic link", rel) from None
                raise exc
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotPlain(None, "is not a regular file", rel)
        data = b""
        while len(data) <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return data
            data += chunk
        raise TooLarge(None, f"holds more than {limit} bytes", rel)
    finally:
        os.close(fd)


def write(root: Path, rel: str, data: bytes) -> None:
    """Replace ``root/rel`` with ``data`` atomically (directories made as needed); the
    temp file is made with ``O_EXCL`` and the rename never passes through a link."""
    *parts, name = PurePosixPath(rel).parts
    with opened_dir(root, tuple(parts), create=True) as dir_fd:
        mode = 0o644
        with contextlib.suppress(OSError):
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISREG(info.st_mode):
                mode = stat.S_IMODE(info.st_mode)
        temp = f".{name}.{os.getpid()}.sync.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | _CLOEXEC
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        fd = os.open(temp, flags, mode, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise


def remove(root: Path, rel: str) -> None:
    *parts, name = PurePosixPath(rel).parts
    with contextlib.suppress(FileNotFoundError), opened_dir(root, tuple(parts)) as dir_fd:
        os.unlink(name, dir_fd=dir_fd)
