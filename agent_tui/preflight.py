"""Start-up checks that run beside the app's imports instead of before them.

``agent-tui run`` must refuse bad input (plan, history, profiles, credentials) with one line
and exit 2 before its app opens.  Those checks load pydantic and find a keyring backend,
about as much work as loading Textual itself.  Both are CPU-bound Python, so a thread would
not overlap them: a forked child runs the checks while the parent imports Textual, and hands
back a small picklable result or the one-line error.

The child is an exact copy of the parent taken before any thread or terminal state exists,
and it leaves with ``os._exit``: no ``atexit`` handlers, no flushing of the parent's buffers.
Where ``fork`` is missing (Windows), where the parent already has threads, or when the child
dies without an answer, the checks simply run in the parent, as they did before this module.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_OK, _REFUSED, _FAILED = "ok", "refused", "failed"


class Preflight(Generic[T]):
    """``check()`` started now, its value (or its error) collected by :meth:`result`."""

    def __init__(self, check: Callable[[], T], refusal: type[Exception]) -> None:
        self._check = check
        self._refusal = refusal
        self._pid: int | None = None
        self._pipe: int | None = None
        self.forked = False

    @classmethod
    def start(cls, check: Callable[[], T], refusal: type[Exception]) -> Preflight[T]:
        """Fork a child that runs ``check``; ``refusal`` is the error type that carries a
        one-line message back (it is raised again, with that message, by :meth:`result`)."""
        preflight = cls(check, refusal)
        if hasattr(os, "fork") and threading.active_count() == 1:
            preflight._fork()
        return preflight

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.close(read_end)
                self._answer(write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        self._pid, self._pipe, self.forked = pid, read_end, True

    def _answer(self, write_end: int) -> None:
        import pickle  # here and in _collect, not at the top: after the fork, on both sides
        import signal

        # Ctrl+C reaches the whole process group: the child just ends, without a traceback.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            answer: tuple[str, object] = (_OK, self._check())
        except self._refusal as exc:
            answer = (_REFUSED, str(exc))
        except BaseException:  # the parent runs the check again and reports it as before
            answer = (_FAILED, None)
        try:
            data = pickle.dumps(answer)
        except Exception:
            data = pickle.dumps((_FAILED, None))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)

    def result(self) -> T:
        """The check's value; its refusal raised here; any other outcome runs it here."""
        if not self.forked:
            return self._check()
        kind, value = self._collect()
        if kind == _OK:
            return value  # type: ignore[return-value]
        if kind == _REFUSED:
            raise self._refusal(value)
        return self._check()

    def _collect(self) -> tuple[str, object]:
        import pickle

        assert self._pipe is not None and self._pid is not None
        chunks = []
        try:
            with os.fdopen(self._pipe, "rb") as pipe:
                while chunk := pipe.read(65536):
                    chunks.append(chunk)
        finally:
            self.forked = False
            os.waitpid(self._pid, 0)
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception:  # killed before it answered (OOM, a signal): no answer at all
            return _FAILED, None
        return kind, value
