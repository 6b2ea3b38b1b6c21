"""Start-up checks that run beside the app's imports and first frame instead of before them.

``agent-tui run`` must refuse bad input (plan, history, profiles, credentials) with one line
and exit 2 before its app opens.  Those checks load pydantic and find a keyring backend,
about as much work as loading Textual itself.  Both are CPU-bound Python, so a thread would
not overlap them: a forked child runs the checks while the parent imports Textual.

The child can hand back one value early, before its checks are done (``run`` sends the
plan's view as soon as the plan is read, so the app can draw it while the profile and its
credentials are still being checked), then its answer: the checked value, or the one-line
refusal.  Each message is a kind byte and a length-prefixed pickle on a pipe.  The checked
value stays pickled until :meth:`Preflight.result` asks for it: unpickling it loads the
modules of its classes, and the thread that waits for the verdict must not load them while
the app draws its first frame.

The child is an exact copy of the parent taken before any thread or terminal state exists,
and it leaves with ``os._exit``: no ``atexit`` handlers, no flushing of the parent's buffers.
Where ``fork`` is missing (Windows), where the parent already has threads, or when the child
dies without a usable answer, the checks simply run in the parent.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, Generic, TypeVar

T = TypeVar("T")

Send = Callable[[object], None]
"""What a check calls, at most once, with the value it can give before it is done."""

_LENGTH_BYTES = 8
_NOTHING: Any = object()


class _Kind(enum.IntEnum):
    """What a message from the child carries."""

    EARLY = 1
    """The value the check sent before it was done."""
    PASSED = 2
    """The check's value, still pickled."""
    REFUSED = 3
    """The refusal's message."""
    FAILED = 4
    """No usable answer (the check crashed, or its value could not be pickled)."""


class _Pickled(bytes):
    """A value as the child pickled it, unpickled on first use."""


class PreflightClosed(RuntimeError):
    """The answer was asked for after :meth:`Preflight.close` gave up on it."""


class Preflight(Generic[T]):
    """``check(send)`` started now; its early value from :meth:`early`, its verdict from
    :meth:`wait`, its value (or its refusal) from :meth:`result`."""

    def __init__(self, check: Callable[[Send], T], refusal: type[Exception]) -> None:
        self._check = check
        self._refusal = refusal
        self._pid: int | None = None
        self._pipe: BinaryIO | None = None
        self._early: object = _NOTHING
        self._answer: tuple[_Kind, object] | None = None
        self._reap_lock = threading.Lock()
        self._closed = False
        self.forked = False

    @classmethod
    def start(cls, check: Callable[[Send], T], refusal: type[Exception]) -> Preflight[T]:
        """Fork a child that runs ``check``; ``refusal`` is the error type that carries a
        one-line message back (it is raised again, with that message, in the parent)."""
        preflight = cls(check, refusal)
        if hasattr(os, "fork") and threading.active_count() == 1:
            preflight._fork()
        return preflight

    @property
    def settled(self) -> bool:
        """Whether the verdict is known, so :meth:`wait` will not block."""
        return self._answer is not None

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.close(read_end)
                self._run_in_child(write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        self._pid, self._pipe, self.forked = pid, os.fdopen(read_end, "rb"), True

    def _run_in_child(self, write_end: int) -> None:
        import pickle  # here and in the parent's readers, not at the top: after the fork
        import signal

        # Ctrl+C reaches the whole process group: the child just ends, without a traceback.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(write_end, "wb") as pipe:

            def send(kind: _Kind, value: object) -> None:
                try:
                    data = pickle.dumps(value)
                except Exception:
                    kind, data = _Kind.FAILED, b""
                pipe.write(bytes([kind]) + len(data).to_bytes(_LENGTH_BYTES, "big") + data)
                pipe.flush()

            sent_early = False

            def send_early(value: object) -> None:
                nonlocal sent_early
                if not sent_early:
                    sent_early = True
                    send(_Kind.EARLY, value)

            try:
                answer: tuple[_Kind, object] = (_Kind.PASSED, self._check(send_early))
            except self._refusal as exc:
                answer = (_Kind.REFUSED, str(exc))
            except BaseException:  # the parent runs the check again and reports it as before
                answer = (_Kind.FAILED, None)
            send(*answer)

    def early(self) -> object:
        """The value the check sent early (None if it sent none); a refusal raised here.

        Waits for the child only until that value, or its answer, arrives.
        """
        while self._early is _NOTHING and self._answer is None and self.forked:
            self._take(self._receive())
        if self._early is _NOTHING and (self._answer is None or self._answer[0] is _Kind.FAILED):
            self._run_here()
        if self._early is _NOTHING:
            self._raise_refusal()
            return None
        return self._early

    def wait(self) -> None:
        """Until the check has passed; its refusal raised here; any other outcome runs the
        check here.  Nothing of its value is unpickled.

        May be called from another thread than :meth:`close`; once closed, it raises
        :class:`PreflightClosed` instead of running the check.
        """
        while self._answer is None and self.forked:
            self._take(self._receive())
        if self._answer is None or self._answer[0] is _Kind.FAILED:
            if self._closed:
                raise PreflightClosed("the start-up checks were abandoned")
            self._run_here()
        self._raise_refusal()

    def result(self) -> T:
        """The check's value, once :meth:`wait` would return; its refusal raised here."""
        self.wait()
        assert self._answer is not None
        value = self._answer[1]
        if isinstance(value, _Pickled):
            import pickle

            try:
                value = pickle.loads(value)
            except Exception:  # the child's value does not load here: check here instead
                self._run_here()
                self._raise_refusal()
                return self._answer[1]  # type: ignore[return-value]
            self._answer = (_Kind.PASSED, value)
        return value  # type: ignore[return-value]

    def pickled(self) -> bytes:
        """The check's value pickled, once :meth:`wait` would return: as the child sent it,
        never loaded here (the run process loads it, with the modules it needs)."""
        self.wait()
        assert self._answer is not None
        value = self._answer[1]
        if isinstance(value, _Pickled):
            return bytes(value)
        import pickle

        return pickle.dumps(value)

    def _raise_refusal(self) -> None:
        if self._answer is not None and self._answer[0] is _Kind.REFUSED:
            raise self._refusal(self._answer[1])

    def _take(self, message: tuple[_Kind, object]) -> None:
        kind, value = message
        if kind is _Kind.EARLY:
            self._early = value
        else:
            self._answer = message

    def _run_here(self) -> None:
        """The check in this process: no fork, or the child gave no usable answer."""

        def keep_early(value: object) -> None:
            if self._early is _NOTHING:
                self._early = value

        try:
            self._answer = (_Kind.PASSED, self._check(keep_early))
        except self._refusal as exc:
            self._answer = (_Kind.REFUSED, str(exc))

    def _receive(self) -> tuple[_Kind, object]:
        """The child's next message; once it has answered (or died), the child is reaped.

        A passed value is kept as it was pickled (see :meth:`result`)."""
        message: tuple[_Kind, object] = (_Kind.FAILED, None)
        try:
            message = self._read_message()
        except Exception:  # closed under us (see close), or a bug: no answer either way
            message = (_Kind.FAILED, None)
        if message[0] is not _Kind.EARLY:
            self._reap()
        return message

    def _read_message(self) -> tuple[_Kind, object]:
        pipe = self._pipe
        header = pipe.read(1 + _LENGTH_BYTES) if pipe is not None else b""
        if len(header) != 1 + _LENGTH_BYTES:
            return (_Kind.FAILED, None)  # the child died before it answered
        kind, length = _Kind(header[0]), int.from_bytes(header[1:], "big")
        data = pipe.read(length)  # type: ignore[union-attr]
        if len(data) != length or kind is _Kind.FAILED:
            return (_Kind.FAILED, None)
        if kind is _Kind.PASSED:
            return (kind, _Pickled(data))
        import pickle

        return (kind, pickle.loads(data))

    def _reap(self, *, kill: bool = False) -> None:
        """Once, whichever thread comes first: kill the child if asked, close, wait for it."""
        with self._reap_lock:
            pid, pipe = self._pid, self._pipe
            self._pipe, self._pid, self.forked = None, None, False
            if pid is not None and kill:
                import signal

                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # first: a read blocked on the pipe ends
            if pipe is not None:
                pipe.close()
            if pid is not None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)

    def close(self) -> None:
        """Give up on an answer no longer wanted (the app ended first): stop the child and
        reap it.  A :meth:`wait` blocked in another thread then raises PreflightClosed."""
        self._closed = True
        self._reap(kill=True)
