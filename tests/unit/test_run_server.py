"""The run's socket server: what one turn of the run's event loop publishes goes to each
watcher in one write, in order, before any answer written after it; a watcher that stops
reading is dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.runproc import server as server_module
from agent_tui.runproc import wire
from agent_tui.runproc.server import RunServer
from agent_tui.runproc.snapshot import Snapshot
from agent_tui.runproc.sockets import listen

WAIT_S = 10.0


class Calls:
    """What the server asks of ``Calls``: one call, ``status``, answered at once."""

    async def make(self, name: object, args: object) -> Any:
        return None


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def message(self) -> dict[str, Any]:
        return wire.decode(await asyncio.wait_for(self.reader.readline(), WAIT_S))

    async def watch(self) -> None:
        self.writer.write(wire.encode({"kind": wire.Kind.WATCH}))
        while (await self.message())["kind"] != wire.Kind.REPLAYED:
            pass


@pytest.fixture
async def served(tmp_path: Path):
    snapshot = Snapshot(VirtualClock())
    server = RunServer(listen(tmp_path / "run.sock"), snapshot, Calls(), lambda: {})  # type: ignore[arg-type]
    await server.start()
    clients: list[Client] = []

    async def connect() -> Client:
        reader, writer = await asyncio.open_unix_connection(tmp_path / "run.sock")
        client = Client(reader, writer)
        clients.append(client)
        assert (await client.message())["kind"] == wire.Kind.HELLO
        return client

    yield server, connect
    for client in clients:
        client.writer.close()
    await server.close()


def line(n: int) -> ev.AssistantText:
    return ev.AssistantText(session=1, text=f"line {n}")


async def test_what_one_turn_publishes_goes_to_each_watcher_in_one_write(served):
    server, connect = served
    first, second = await connect(), await connect()
    await first.watch()
    await second.watch()
    writes: list[int] = []
    for watcher in server._watchers:
        write = watcher.write
        watcher.write = lambda data, write=write: (writes.append(data.count(b"\n")), write(data))
    for n in range(100):
        server.publish(line(n))
    for client in (first, second):
        got = [(await client.message())["event"]["text"] for _ in range(100)]
        assert got == [f"line {n}" for n in range(100)]
    assert writes == [100, 100]


async def test_an_answer_comes_after_the_events_published_before_it(served):
    server, connect = served
    client = await connect()
    await client.watch()
    for n in range(3):
        server.publish(line(n))
    client.writer.write(wire.encode(wire.call(1, "status")))
    kinds = [(await client.message())["kind"] for _ in range(4)]
    assert kinds == [wire.Kind.EVENT] * 3 + [wire.Kind.ANSWER]


async def test_a_watcher_that_stops_reading_is_dropped(served, monkeypatch):
    monkeypatch.setattr(server_module, "BACKLOG_LIMIT", 64 * 1024)
    server, connect = served
    stuck = await connect()
    await stuck.watch()
    text = "x" * 4096
    for _turn in range(1000):  # bounded: the kernel's and the transport's buffers fill first
        for _ in range(16):
            server.publish(ev.AssistantText(session=1, text=text))
        await asyncio.sleep(0)
        if not server.attached:
            break
    assert not server.attached
