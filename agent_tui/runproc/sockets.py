"""The run's Unix socket: listening (mode 0600, replacing a stale one), connecting, and who
is at the other end.

``sun_path`` holds about 100 bytes: a path longer than that (a deep state dir) is reached
through an ``O_PATH`` descriptor of its directory, ``/proc/self/fd/N/NAME`` (Linux).
Standard library only: the app imports this before its first frame.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

SUN_PATH_MAX = 100
"""Below Linux's 108 and macOS's 104 bytes, the NUL counted."""
CONNECT_TIMEOUT_S = 5.0


@contextlib.contextmanager
def short_address(path: Path) -> Iterator[str]:
    """``path`` as ``bind``/``connect`` can take it: itself, or, when too long, the same
    file through an ``O_PATH`` descriptor of its directory."""
    if len(os.fsencode(path)) <= SUN_PATH_MAX or not hasattr(os, "O_PATH"):
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def listen(path: Path) -> socket.socket:
    """A listening socket at ``path``, mode 0600; a stale one left by a killed run is
    replaced, a live one is ``FileExistsError``."""
    if is_stale(path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with short_address(path) as address:
            try:
                server.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise FileExistsError(f"{path} is in use: a run listens there") from None
                raise
            os.chmod(address, 0o600)  # the directory, 0700, kept it private meanwhile
        server.listen(16)
        server.setblocking(False)
    except BaseException:
        server.close()
        raise
    return server


def connect(path: Path, timeout_s: float = CONNECT_TIMEOUT_S) -> socket.socket:
    """A blocking connection to the run at ``path`` (``FileNotFoundError`` when there is
    none, ``ConnectionRefusedError`` when its process is gone)."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout_s)
    try:
        with short_address(path) as address:
            client.connect(address)
    except BaseException:
        client.close()
        raise
    return client


def is_stale(path: Path) -> bool:
    """A socket file nobody listens on any more (its run was killed)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(info.st_mode):
        return False
    try:
        connect(path, timeout_s=1.0).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def peer_uid(connection: socket.socket) -> int | None:
    """The user id of the process at the other end (Linux); None where it cannot be had."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    data = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", data)
    return uid
