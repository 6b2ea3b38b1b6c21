"""The run's socket: every watcher gets the snapshot, then each event as it happens; every
call is applied once, whichever client sends it.

Only the run's own user may connect: the socket is 0600 in a 0700 directory, and a peer of
another uid (as the kernel reports it) is closed at once.  A watcher that stops reading is
dropped once ``BACKLOG_LIMIT`` bytes wait for it: a stuck app never holds the run back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import traceback
from collections.abc import Callable
from typing import Any

from agent_tui.engine.events import core as ev
from agent_tui.runproc import wire
from agent_tui.runproc.calls import CallRefused, Calls
from agent_tui.runproc.snapshot import Snapshot
from agent_tui.runproc.sockets import peer_uid

CLIENT_LINE_LIMIT = 1 << 20
BACKLOG_LIMIT = 64 * 1024 * 1024


class RunServer:
    def __init__(
        self,
        listener: socket.socket,
        snapshot: Snapshot,
        calls: Calls,
        status: Callable[[], dict[str, Any]],
        on_watch: Callable[[], None] = lambda: None,
    ) -> None:
        self.snapshot = snapshot
        self.calls = calls
        self.status = status
        """The run's status now (its loop state, profile, …): in the hello and each answer."""
        self._listener = listener
        self._on_watch = on_watch
        self._server: asyncio.AbstractServer | None = None
        self._watchers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.Task] = set()
        self._nobody = asyncio.Event()

    @property
    def attached(self) -> bool:
        """An app watches the run now."""
        return bool(self._watchers)

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(
            self._serve, sock=self._listener, limit=CLIENT_LINE_LIMIT
        )

    def publish(self, event: ev.Event) -> None:
        """Keep ``event`` for late watchers and send it to every watcher now."""
        seq = self.snapshot.add(event)
        if not self._watchers:
            return
        line = wire.encode(wire.event_line(seq, event))
        for writer in list(self._watchers):
            self._send(writer, line)

    def _send(self, writer: asyncio.StreamWriter, line: bytes) -> None:
        if writer.transport.is_closing():
            self._drop(writer)
        elif writer.transport.get_write_buffer_size() > BACKLOG_LIMIT:
            self._drop(writer)
            writer.close()
        else:
            writer.write(line)

    def _drop(self, writer: asyncio.StreamWriter) -> None:
        self._watchers.discard(writer)
        if not self._watchers:
            self._nobody.set()

    async def until_nobody_watches(self) -> None:
        while self._watchers:
            self._nobody.clear()
            await self._nobody.wait()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._watchers):
            writer.close()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.wait(self._clients, timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            connection = writer.get_extra_info("socket")
            uid = peer_uid(connection) if connection is not None else None
            if uid is not None and uid != os.getuid():
                return  # the socket's mode keeps others out; this is the second lock
            writer.write(wire.encode(wire.hello(self.status())))
            await self._read_lines(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ValueError:  # a line over the limit
            pass
        finally:
            self._drop(writer)
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_lines(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        while line := await reader.readline():
            try:
                message = wire.decode(line)
            except wire.WireError:
                return
            kind = message["kind"]
            if kind == wire.Kind.WATCH and writer not in self._watchers:
                self._watch(writer)
            elif kind == wire.Kind.CALL:
                writer.write(wire.encode(await self._answer(message)))
            await writer.drain()

    def _watch(self, writer: asyncio.StreamWriter) -> None:
        """The snapshot, then every event: written in one go, so none is lost or doubled."""
        for seq, event in self.snapshot.events():
            writer.write(wire.encode(wire.event_line(seq, event)))
        writer.write(wire.encode({"kind": wire.Kind.REPLAYED}))
        self._watchers.add(writer)
        self._on_watch()

    async def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        call_id = message.get("id")
        try:
            result = await self.calls.make(message.get("call"), message.get("args", {}))
        except CallRefused as exc:
            return wire.answer(call_id, error=str(exc), status=self.status())
        except Exception as exc:  # a bug in one call must not cut the client off
            traceback.print_exc()
            return wire.answer(call_id, error=f"{type(exc).__name__}: {exc}", status=self.status())
        return wire.answer(call_id, result=result, status=self.status())
