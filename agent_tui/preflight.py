"""Start-up checks that run beside the app's imports and first frame instead of before them.

``agent-tui run`` must refuse bad input (plan, history, profiles, credentials) with one line
and exit 2 before its app opens.  Those checks load pydantic and find a keyring backend,
about as much work as loading Textual itself.  Both are CPU-bound Python, so a thread would
not overlap them: a forked child runs the checks while the parent imports Textual.

The child can hand back one value early, before its checks are done (``run`` sends the
plan's view as soon as the plan is read, so the app can draw it while the profile and its
credentials are still being checked), then its answer: a small picklable result or the
one-line error.  Each message is a length-prefixed pickle on a pipe.

The child is an exact copy of the parent taken before any thread or terminal state exists,
and it leaves with ``os._exit``: no ``atexit`` handlers, no flushing of the parent's buffers.
Where ``fork`` is missing (Windows), where the parent already has threads, or when the child
dies without an answer, the checks simply run in the parent.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, Generic, TypeVar

T = TypeVar("T")

Send = Callable[[object], None]
"""What a check calls, at most once, with the value it can give before it is done."""

_EARLY, _OK, _REFUSED, _FAILED = "early", "ok", "refused", "failed"
_LENGTH_BYTES = 8
_NOTHING: Any = object()


class PreflightClosed(RuntimeError):
    """The answer was asked for after :meth:`Preflight.close` gave up on it."""


class Preflight(Generic[T]):
    """``check(send)`` started now; its early value from :meth:`early`, its value (or its
    error) from :meth:`result`."""

    def __init__(self, check: Callable[[Send], T], refusal: type[Exception]) -> None:
        self._check = check
        self._refusal = refusal
        self._pid: int | None = None
        self._pipe: BinaryIO | None = None
        self._early: object = _NOTHING
        self._answer: tuple[str, object] | None = None
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
        """Whether the answer is known, so :meth:`result` will not wait."""
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
        import pickle  # here and in _receive, not at the top: after the fork, on both sides
        import signal

        # Ctrl+C reaches the whole process group: the child just ends, without a traceback.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(write_end, "wb") as pipe:

            def send(kind: str, value: object) -> None:
                try:
                    data = pickle.dumps((kind, value))
                except Exception:
                    data = pickle.dumps((_FAILED, None))
                pipe.write(len(data).to_bytes(_LENGTH_BYTES, "big") + data)
                pipe.flush()

            sent_early = False

            def send_early(value: object) -> None:
                nonlocal sent_early
                if not sent_early:
                    sent_early = True
                    send(_EARLY, value)

            try:
                answer: tuple[str, object] = (_OK, self._check(send_early))
            except self._refusal as exc:
                answer = (_REFUSED, str(exc))
            except BaseException:  # the parent runs the check again and reports it as before
                answer = (_FAILED, None)
            send(*answer)

    def early(self) -> object:
        """The value the check sent early (None if it sent none); a refusal raised here.

        Waits for the child only until that value, or its answer, arrives.
        """
        while self._early is _NOTHING and self._answer is None and self.forked:
            kind, value = self._receive()
            if kind == _EARLY:
                self._early = value
            else:
                self._answer = (kind, value)
        if self._early is _NOTHING and (self._answer is None or self._answer[0] == _FAILED):
            self._run_here()
        if self._early is _NOTHING:
            assert self._answer is not None
            if self._answer[0] == _REFUSED:
                raise self._refusal(self._answer[1])
            return None
        return self._early

    def result(self) -> T:
        """The check's value; its refusal raised here; any other outcome runs it here.

        May be called from another thread than :meth:`close`; once closed, it raises
        :class:`PreflightClosed` instead of running the check.
        """
        while self._answer is None and self.forked:
            kind, value = self._receive()
            if kind == _EARLY:
                self._early = value
            else:
                self._answer = (kind, value)
        if self._answer is None or self._answer[0] == _FAILED:
            if self._closed:
                raise PreflightClosed("the start-up checks were abandoned")
            self._run_here()
        assert self._answer is not None
        kind, value = self._answer
        if kind == _REFUSED:
            raise self._refusal(value)
        return value  # type: ignore[return-value]

    def _run_here(self) -> None:
        """The check in this process: no fork, or the child gave no usable answer."""

        def keep_early(value: object) -> None:
            if self._early is _NOTHING:
                self._early = value

        try:
            self._answer = (_OK, self._check(keep_early))
        except self._refusal as exc:
            self._answer = (_REFUSED, str(exc))

    def _receive(self) -> tuple[str, object]:
        """The child's next message; once it has answered (or died), the child is reaped."""
        import pickle

        message: tuple[str, object] = (_FAILED, None)
        pipe = self._pipe
        try:
            header = pipe.read(_LENGTH_BYTES) if pipe is not None else b""
            if len(header) == _LENGTH_BYTES:
                length = int.from_bytes(header, "big")
                data = pipe.read(length)  # type: ignore[union-attr]
                if len(data) == length:
                    message = pickle.loads(data)
        except Exception:  # closed under us (see close), or a bug: no answer either way
            message = (_FAILED, None)
        if message[0] != _EARLY:
            self._reap()
        return message

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
        reap it.  A :meth:`result` waiting in another thread then raises PreflightClosed."""
        self._closed = True
        self._reap(kill=True)
