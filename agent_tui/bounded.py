"""Read a file only if it is a regular one, and only up to a limit.

A path can name a FIFO (opening it would wait for a writer for ever), a device (``/dev/zero``
never ends, and ``st_size`` says 0) or a file far too large to be what it claims.  Each
caller says how much it accepts; nothing here blocks or reads past that.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


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
