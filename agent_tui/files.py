"""Files agent-tui writes and reads safely.

Writes are crash-safe: a temp file in the same directory, fsync, then ``os.replace``; the
directories agent-tui keeps its records in are never a symbolic link (a cloned repo can
ship one pointing anywhere, and agent-tui would then write its records there).

Reads take a file only if it is a regular one, and only up to a limit: a path can name a
FIFO (opening it would wait for a writer for ever), a device (``/dev/zero`` never ends, and
``st_size`` says 0) or a file far too large to be what it claims.  Each caller says how
much it accepts; nothing here blocks or reads past that.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class LinkRefused(OSError):
    """A path agent-tui writes its own records in is a symbolic link, or not a directory."""


def real_dir(path: Path) -> Path:
    """``path`` as a directory of its own, made if missing (parents too); ``LinkRefused``
    when it is a symbolic link or not a directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused(
            f"{path} is a symbolic link: agent-tui writes its records only into a real "
            "directory; remove the link"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise LinkRefused(f"{path} is not a directory: move it away")
    return path


def atomic_write_text(path: Path | str, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` so a reader sees the old file or the new one, never half.

    ``mode`` (e.g. ``0o600``) is set on the temp file before any byte is written, so a
    secret-bearing file is never readable by others, even for a moment.  Without it, the
    file keeps the mode it had (a plan the user made 0644 stays 0644), and a new one gets
    what the umask gives, as ``open`` would: the temp file alone would make it 0600.
    """
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_bytes(path: Path | str, data: bytes, *, mode: int | None = None) -> None:
    """``atomic_write_text`` for bytes (a patch holds whatever bytes its files hold)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            info = os.lstat(target)  # a link is replaced, never followed: not its mode
        except FileNotFoundError:
            info = None
        linked = info is None or stat.S_ISLNK(info.st_mode)
        mode = 0o666 & ~_umask() if linked else stat.S_IMODE(info.st_mode)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def _umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only set it, which
    would race with other threads creating files)."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii") as status,
    ):
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class NotRegularFile(OSError):
    """The path is a directory, FIFO, socket or device, not a file to read."""


class TooLarge(OSError):
    """The file holds more than the caller accepts."""


def read_bounded(path: Path | str, limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of ``path``: at most ``limit`` of them, else :class:`TooLarge`."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(None, "is not a regular file", str(path))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise TooLarge(None, f"is larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)
