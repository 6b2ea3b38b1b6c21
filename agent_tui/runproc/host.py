"""A run served on its socket: the loop, the server, the snapshot and the run's record.

The run process (``agent_tui.startup.run_process``) hosts one; so do tests, in a thread.
The socket is there before the loop starts, so an app can attach at once; when the run
ends its socket is removed (the next run of the spec may start) but the process stays
while an app still watches it, answering what its screens ask (a diff, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.engine.clock import Clock, RealClock
from agent_tui.engine.events import core as ev
from agent_tui.runproc.book import FLUSH_S, RunBook
from agent_tui.runproc.calls import Calls
from agent_tui.runproc.places import RunPlace
from agent_tui.runproc.record import remove
from agent_tui.runproc.server import RunServer
from agent_tui.runproc.snapshot import Snapshot
from agent_tui.runproc.sockets import listen

if TYPE_CHECKING:
    from agent_tui.engine.loop import CoderLoop

LoopMaker = Callable[[ev.EventSink], "CoderLoop"]


class RunHost:
    def __init__(
        self,
        make_loop: LoopMaker,
        spec_dir: Path,
        project_dir: Path,
        *,
        clock: Clock | None = None,
        place: RunPlace | None = None,
    ) -> None:
        self.place = place or RunPlace.of(spec_dir)
        self.spec_dir, self.project_dir = spec_dir, project_dir
        self._make_loop = make_loop
        self.snapshot = Snapshot(clock or RealClock())
        self.book = RunBook(self.place, str(spec_dir), str(project_dir))
        self.loop: CoderLoop | None = None
        self.server: RunServer | None = None

    def open(self) -> None:
        """Listen on the spec's socket and write the run's record: an app may attach now.
        ``FileExistsError`` when another run listens there."""
        listener = listen(self.place.socket)
        self.loop = loop = self._make_loop(self._sink)
        self.server = RunServer(
            listener, self.snapshot, Calls(loop), self.status, on_watch=self.book.attached
        )
        self.book.write()

    async def serve(self) -> int:
        """Run the loop to its end, then stay while an app watches; the loop's exit code."""
        await self.start()
        return await self.run()

    async def start(self) -> None:
        """Answer on the socket (the loop has not started: an app attaching now sees it all)."""
        assert self.server is not None
        await self.server.start()

    async def run(self) -> int:
        assert self.loop is not None and self.server is not None
        flushing = asyncio.create_task(self._flush())
        try:
            code = await self.loop.run()
        finally:
            self.server.calls.ended = True
            remove(self.place.socket)
            flushing.cancel()
            self.book.write()
        await self.server.until_nobody_watches()
        await self.server.close()
        return code

    def status(self) -> dict[str, Any]:
        loop = self.loop
        assert loop is not None
        return {
            "seq": self.snapshot.seq,
            "state": loop.state.as_dict(),
            "profile": loop.profile_name,
            "next_profile": loop.next_profile,
            "notifications": loop.config.notifications,
            "spec_dir": str(self.spec_dir),
            "project_dir": str(self.project_dir),
            "pid": self.book.record.pid,
            "quotas": {name: quota.as_dict() for name, quota in self._quotas(loop)},
        }

    @staticmethod
    def _quotas(loop: CoderLoop) -> list[tuple[str, Any]]:
        names = dict.fromkeys([loop.profile_name, *loop.profiles.names()])
        known = ((name, loop.quota_of(name)) for name in names)
        return [(name, quota) for name, quota in known if quota is not None]

    async def _sink(self, event: ev.Event) -> None:
        server = self.server
        assert server is not None
        server.publish(event)
        try:
            self.book.note(event, attached=server.attached)
        except OSError as exc:  # the record is for ls: the run goes on without it
            print(f"agent-tui: the run's record was not written: {exc}", file=sys.stderr)

    async def _flush(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            with contextlib.suppress(OSError):
                self.book.flush()
