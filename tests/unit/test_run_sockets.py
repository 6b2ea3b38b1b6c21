"""The run's socket file: 0600, reachable however deep the state dir, a stale one replaced
and a live one never taken over."""

from __future__ import annotations

import os
import stat

import pytest

from agent_tui.runproc.sockets import SUN_PATH_MAX, connect, is_stale, listen


def test_a_socket_deeper_than_sun_path_allows_is_bound_and_reached(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-directory-name"] * 4)
    deep.mkdir(parents=True)
    path = deep / "0123456789abcdef.sock"
    assert len(os.fsencode(path)) > SUN_PATH_MAX
    server = listen(path)
    try:
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        client = connect(path)
        accepted, _ = server.accept()
        client.sendall(b"hello")
        assert accepted.recv(5) == b"hello"
        client.close()
        accepted.close()
    finally:
        server.close()


def test_a_stale_socket_is_replaced_and_a_live_one_refused(tmp_path):
    path = tmp_path / "run.sock"
    listen(path).close()  # as a kill -9 leaves it
    assert is_stale(path)
    live = listen(path)
    try:
        assert not is_stale(path)
        with pytest.raises(FileExistsError, match="a run listens there"):
            listen(path)
        connect(path).close()  # the live one still answers
    finally:
        live.close()
    (tmp_path / "plain").write_text("not a socket")
    assert not is_stale(tmp_path / "plain")
