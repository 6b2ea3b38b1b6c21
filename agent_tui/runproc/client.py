"""``RemoteRun``: a run in another process, steered as the app steers a ``CoderLoop``.

The app calls the same names on it (``pause``, ``state``, ``subtask_diff``, …), so it need
not know where its run is.  Events come on one connection (the snapshot, then live ones)
and go to the app's sink; calls go on another, each waiting for its answer, which carries
the run's state at that moment: the keys follow a key press at once, as in-process.

A call blocks its caller until the run answers (a local socket: well under a millisecond
while the run is idle).  A run that does not answer in time, or has gone, is reported as a
``Notice`` in the log instead of failing the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import Quota
from agent_tui.engine.events.state import LoopMode, LoopState
from agent_tui.exit_codes import EXIT_STOPPED_SHORT
from agent_tui.runproc import sockets, wire
from agent_tui.runproc.codec import DecodeError, record_from_dict
from agent_tui.runproc.record import KILLED

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile

CALL_TIMEOUT_S = 10.0
DIFF_TIMEOUT_S = 120.0
"""git on a large repository may take a while."""
DETACHED = 0
"""What ``run`` returns once the app has detached: the run goes on."""


class RunEndedHere(Exception):
    """An app that attached to a run cannot start it again (it has no checked run)."""


def attaching(socket_path: Path) -> Callable[[ev.EventSink], Awaitable[RemoteRun]]:
    """The app's loop factory for a run it attaches to: once; asked again (``t`` on a stuck
    subtask once the run has ended) it says how to start the run again."""
    attached: list[RemoteRun] = []

    async def attach(sink: ev.EventSink) -> RemoteRun:
        if attached:
            raise RunEndedHere(attached[0].rerun_hint())
        attached.append(await RemoteRun.attach(socket_path, sink))
        return attached[0]

    return attach


class RunUnreachable(OSError):
    """A call found no run to answer it, or no answer in time."""


class CallFailed(OSError):
    """The run refused a call; its sentence says why."""


class ShownCredential:
    """A profile's credential as the run shows it: where it is, masked; never the token."""

    def __init__(self, source: str, masked: str) -> None:
        self.source, self.masked = source, masked


class ShownResolution:
    """What the picker reads of a profile's credentials (as ``Resolution`` says them)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.usable = bool(row.get("usable"))
        self.problem = row.get("problem")
        source, masked = row.get("source"), row.get("masked")
        self.credential = ShownCredential(source, masked) if source and masked else None


class RemoteConfig:
    """What the app reads of the run's settings: whether to ring for an event, the spec
    dir and its logs (a saved log and a screenshot go there)."""

    def __init__(self, notifications: bool, spec_dir: Path) -> None:
        self.wanted = notifications
        self.replaying = True
        self.spec_dir = spec_dir
        self.logs_dir = spec_dir / "logs"

    @property
    def notifications(self) -> bool:
        """Not for the events of the snapshot: they rang (or were noted) when they happened."""
        return self.wanted and not self.replaying


class RemoteProfiles:
    """The profile store as the run last listed it."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def names(self) -> list[str]:
        return list(self.rows)

    def get(self, name: str) -> Profile:
        from agent_tui.auth.profiles import Profile  # pydantic: not before the first frame

        if name not in self.rows:
            raise KeyError(name)
        return Profile(name=name)


class RemoteHistory:
    """A subtask's sessions, rollbacks and stuck reason, as the run's history holds them."""

    def __init__(self, run: RemoteRun) -> None:
        self._run = run

    def _of(self, subtask_id: str) -> dict[str, Any]:
        try:
            answer = self._run.call("history", subtask_id=subtask_id)
        except RunUnreachable:
            return {}
        return answer if isinstance(answer, dict) else {}

    def attempts(self, subtask_id: str) -> list[dict[str, Any]]:
        return list(self._of(subtask_id).get("attempts") or [])

    def stuck_reason(self, subtask_id: str) -> str | None:
        return self._of(subtask_id).get("stuck_reason")

    def rollbacks(self, subtask_id: str) -> list[dict[str, Any]]:
        return list(self._of(subtask_id).get("rollbacks") or [])


class RemoteRun:
    detachable = True
    """Leaving the app leaves this run going (a ``CoderLoop`` has no such attribute)."""

    def __init__(
        self,
        socket_path: Path,
        sink: ev.EventSink,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        status: dict[str, Any],
    ) -> None:
        self.socket_path = socket_path
        self._sink = sink
        self._reader, self._writer = reader, writer
        self.spec_dir = Path(status.get("spec_dir", ""))
        self.project_dir = Path(status.get("project_dir", ""))
        self.pid = status.get("pid")
        self.config = RemoteConfig(bool(status.get("notifications", True)), self.spec_dir)
        self.profiles = RemoteProfiles()
        self.history = RemoteHistory(self)
        self._state = LoopState()
        self._state_seq = -1
        self.profile_name = ""
        self.next_profile = ""
        self._quotas: dict[str, Quota] = {}
        self._apply(status)
        for name, quota in (status.get("quotas") or {}).items():
            self._keep_quota(name, quota)
        self.finished: ev.LoopFinished | None = None
        self.detached = False
        self._calls: socket.socket | None = None
        self._call_lock = threading.Lock()
        self._call_ids = 0
        self._buffer = b""
        self._app_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    async def attach(cls, socket_path: Path, sink: ev.EventSink) -> RemoteRun:
        """Connect to the run at ``socket_path`` and ask for its events (``WireMismatch``
        for a run of another agent-tui, ``OSError`` for none there)."""
        connection = await asyncio.to_thread(sockets.connect, socket_path)
        connection.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=connection, limit=wire.LINE_LIMIT)
        try:
            status = wire.check_hello(wire.decode(await reader.readline()))
            writer.write(wire.encode({"kind": wire.Kind.WATCH}))
            await writer.drain()
        except BaseException:
            writer.close()
            raise
        run = cls(socket_path, sink, reader, writer, status)
        run._app_loop = asyncio.get_running_loop()
        try:  # now: once the run has ended its socket is gone, and a diff still wanted
            await asyncio.to_thread(run._call_connection)
        except (OSError, wire.WireError) as exc:
            run.close()
            raise RunUnreachable(_why(exc)) from None
        return run

    # ----------------------------------------------------------------- events

    async def run(self) -> int:
        """Send the run's events to the sink until it finishes (its exit code), or the app
        detaches (``DETACHED``).  If its process goes away first, the sink gets the end the
        runs list gives it (``killed``) and this returns exit 3, stopped short."""
        self._app_loop = asyncio.get_running_loop()
        while not self.detached:
            try:
                line = await self._reader.readline()
            except (ConnectionError, ValueError):
                line = b""
            if not line:
                break
            message = wire.decode(line)
            if message["kind"] == wire.Kind.REPLAYED:
                self.config.replaying = False
            elif message["kind"] == wire.Kind.EVENT:
                await self._take(message)
                if self.finished is not None:
                    return self.finished.exit_code
        if self.detached:
            return DETACHED
        gone = ev.LoopFinished(
            outcome=KILLED,
            exit_code=EXIT_STOPPED_SHORT,
            message="the run process went away before the run finished: run it again to resume",
        )
        self.finished = gone
        await self._sink(gone)
        return gone.exit_code

    async def _take(self, message: dict[str, Any]) -> None:
        event = wire.event_of(message)
        if event is None:
            return
        seq = message.get("seq", 0)
        if isinstance(event, ev.LoopStateChanged) and seq > self._state_seq:
            self._state, self._state_seq = event.state, seq
        elif isinstance(event, ev.ProfileSwitched):
            self.profile_name = self.next_profile = event.to
        elif isinstance(event, ev.QuotaUpdated):
            self._quotas[event.profile] = event.quota
        elif isinstance(event, ev.LoopFinished):
            self.finished = event
        await self._sink(event)

    def reattach_hint(self) -> str:
        """How to see the run again: ``agent-tui attach …`` for it."""
        command = shlex.join(["agent-tui", "attach", *self._where()])
        return f"the run goes on (process {self.pid}): {command} shows it again"

    def rerun_hint(self) -> str:
        """How to start the spec's run again, from an app that only attached to it."""
        command = shlex.join(["agent-tui", "run", *self._where(), "--retry-stuck"])
        return f"the run this app attached to has ended: {command} starts it again"

    def _where(self) -> list[str]:
        specs = self.project_dir / ".auto-claude" / "specs"
        spec = self.spec_dir.name if self.spec_dir.parent == specs else str(self.spec_dir)
        return ["--project", str(self.project_dir), "--spec", spec]

    def detach(self) -> None:
        """Stop watching: the run goes on."""
        self.detached = True
        self.close()

    def close(self) -> None:
        self._writer.close()
        with self._call_lock:
            if self._calls is not None:
                self._calls.close()
                self._calls = None

    # ----------------------------------------------------------------- state

    @property
    def state(self) -> LoopState:
        if self.finished is not None:
            return LoopState(mode=LoopMode.FINISHED)
        return self._state

    @property
    def paused(self) -> bool:
        return self.state.mode == LoopMode.PAUSED

    @property
    def pause_requested(self) -> bool:
        return self.state.mode == LoopMode.PAUSING

    @property
    def session_running(self) -> bool:
        return self.state.session_running

    @property
    def interrupt_requested(self) -> bool:
        return self.state.interrupting

    @property
    def backing_off(self) -> bool:
        return self.state.mode == LoopMode.BACKING_OFF

    def quota_of(self, name: str) -> Quota | None:
        return self._quotas.get(name)

    def profile_resolution(self, profile: Profile) -> ShownResolution:
        return ShownResolution(self.profiles.rows.get(profile.name, {}))

    def _apply(self, status: dict[str, Any]) -> None:
        """The run's status as an answer or the hello gave it, unless events since said more."""
        seq = status.get("seq", -1)
        if isinstance(seq, int) and seq >= self._state_seq:
            with contextlib.suppress(DecodeError, TypeError):
                self._state = record_from_dict(LoopState, status.get("state") or {})
                self._state_seq = seq
        self.profile_name = status.get("profile") or self.profile_name
        self.next_profile = status.get("next_profile") or self.next_profile

    def _keep_quota(self, name: str, data: Any) -> None:
        with contextlib.suppress(DecodeError, TypeError):
            self._quotas[name] = record_from_dict(Quota, data)

    # ----------------------------------------------------------------- control

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")

    def interrupt(self, lane: int | None = None) -> None:
        self._control("interrupt", lane=lane)

    def retry_now(self) -> None:
        self._control("retry_now")

    def switch_profile(self, name: str, reason: str = "user") -> None:
        self._control("switch_profile", name=name)

    def stop(self, reason: str = "stopped by the user") -> None:
        self._control("stop", reason=reason)

    def approve_plan(self) -> bool:
        return bool(self._control("approve_plan"))

    def discard_plan(self) -> bool:
        return bool(self._control("discard_plan"))

    def retry_subtask(self, subtask_id: str) -> bool:
        try:
            return bool(self.call("retry_stuck", subtask_id=subtask_id))
        except OSError as exc:
            self._tell(f"retry: {exc}")
            return False

    def add_note(self, text: str) -> None:
        """``OSError`` when the run could not keep the note (as in-process)."""
        if text.strip():
            self.call("note", text=text)

    def subtask_diff(self, subtask_id: str) -> str:
        """Blocking, as in-process: called from a worker thread."""
        from agent_tui.engine.progress.checkpoints import WorkspaceFailed

        try:
            return str(self.call("diff", timeout_s=DIFF_TIMEOUT_S, subtask_id=subtask_id))
        except OSError as exc:
            raise WorkspaceFailed(str(exc)) from None

    def reload_profiles(self) -> str | None:
        """Ask the run for its profiles as they are now; what went wrong, if anything."""
        try:
            answer = self.call("profiles")
        except OSError as exc:
            return str(exc)
        rows = answer.get("profiles") if isinstance(answer, dict) else None
        if isinstance(rows, list):
            self.profiles.rows = {r["name"]: r for r in rows if isinstance(r, dict) and "name" in r}
            for row in self.profiles.rows.values():
                if row.get("quota"):
                    self._keep_quota(row["name"], row["quota"])
        return answer.get("problem") if isinstance(answer, dict) else None

    def _control(self, name: str, **args: Any) -> Any:
        """Make the call; its answer, or None (and the problem said in the log)."""
        try:
            return self.call(name, **args)
        except RunUnreachable as exc:
            self._tell(f"{name}: the run did not answer ({exc})")
        except CallFailed as exc:
            self._tell(f"{name}: {exc}")
        return None

    def _tell(self, problem: str) -> None:
        """A call that went nowhere, said in the log (the app must not fail over it)."""
        loop = self._app_loop
        if loop is not None and not loop.is_closed():
            notice = ev.Notice(level="error", message=problem)
            loop.call_soon_threadsafe(lambda: loop.create_task(self._sink(notice)))

    def call(self, name: str, *, timeout_s: float = CALL_TIMEOUT_S, **args: Any) -> Any:
        """Make call ``name`` of the run and wait for its answer (thread-safe).

        ``RunUnreachable`` when the run cannot be reached or does not answer in time;
        ``CallFailed`` with the run's sentence when it refused the call."""
        with self._call_lock:
            self._call_ids += 1
            call_id = self._call_ids
            try:
                connection = self._call_connection()
                connection.settimeout(timeout_s)
                connection.sendall(wire.encode(wire.call(call_id, name, **args)))
                answer = self._read_answer(connection, call_id)
            except (OSError, wire.WireError) as exc:
                if self._calls is not None:
                    self._calls.close()
                    self._calls = None
                raise RunUnreachable(_why(exc)) from None
        status = answer.get("status")
        if isinstance(status, dict):
            self._apply(status)
        if not answer.get("ok"):
            raise CallFailed(str(answer.get("error") or "refused"))
        return answer.get("result")

    def _call_connection(self) -> socket.socket:
        if self._calls is None:
            if self.detached:
                raise ConnectionAbortedError("detached from the run")
            connection = sockets.connect(self.socket_path)
            self._calls, self._buffer = connection, b""
            wire.check_hello(wire.decode(self._line(connection)))
        return self._calls

    def _line(self, connection: socket.socket) -> bytes:
        while b"\n" not in self._buffer:
            chunk = connection.recv(1 << 16)
            if not chunk:
                raise ConnectionResetError("the run closed the connection")
            self._buffer += chunk
            if len(self._buffer) > wire.LINE_LIMIT:
                raise wire.WireError("the run sent a line too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _read_answer(self, connection: socket.socket, call_id: int) -> dict[str, Any]:
        while True:
            message = wire.decode(self._line(connection))
            if message["kind"] == wire.Kind.ANSWER and message.get("id") == call_id:
                return message


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    return str(exc) or type(exc).__name__
