"""The app's terminal drivers: one that survives a hangup, and one that also holds its
output until the start-up checks have passed.

``agent-tui run`` checks its profile and credentials (in a forked child, see
``agent_tui.startup.preflight``) while the app composes and draws its first frame.  Until the checks
pass, everything the app writes to the terminal (the switch to the alternate screen, the
frame) is kept in a buffer: the user's terminal still shows the shell.  ``release()`` writes
it all at once, so the first frame appears as soon as the checks pass instead of being drawn
only then.  An app that ends without a release has written nothing: a refusal is one line
in the shell, with no flash of the app.

Everything else starts as usual: the terminal's size is read, raw mode set (and restored at
the end, released or not), and keys are read.

Both the held driver and the plain one the app uses otherwise (``TerminalDriver``) survive
the terminal hanging up.  The app picks one of them wherever Textual would use its
``LinuxDriver`` (see ``agent_tui.startup.launched_app``).
"""

from __future__ import annotations

import os
import threading

from agent_tui.tui.textual_compat import LinuxDriverHooks


class TerminalDriver(LinuxDriverHooks):
    """``LinuxDriver`` that survives its terminal going away (the window closed, ssh cut).

    After a hangup every write fails (EIO): Textual's writer thread dies, its queue fills,
    and the next write, the shutdown's included, blocks for ever, while the kernel's SIGCONT
    starts a second key thread that spins on the dead terminal.  Here, once the app says the
    terminal is gone (on SIGHUP), nothing more is written or read, so the app can still stop
    its loop, record the session and exit.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._gone = False

    def terminal_gone(self) -> None:
        self._gone = True
        self.exit_event.set()  # ends the key thread; the shutdown then skips the terminal

    def hung_up(self) -> None:
        """On SIGHUP: the terminal is gone if it is no longer one (a closed window); a
        ``kill -HUP`` alone leaves it there, to be restored as usual."""
        if not os.isatty(self.fileno):
            self.terminal_gone()

    def _writing(self) -> bool:
        writer = self.writer_thread
        return not self._gone and (writer is None or writer.is_alive())

    def write(self, data: str) -> None:
        if self._writing():  # a dead writer's queue fills, and a full queue blocks
            super().write(data)

    def flush(self) -> None:
        if self._writing():
            super().flush()

    def on_sigcont(self, *args: object) -> None:
        # The kernel sends SIGCONT after a hangup too: application mode started again on a
        # dead terminal would start a second key thread spinning on it.
        if not self._gone and os.isatty(self.fileno):
            super().on_sigcont(*args)

    def run_input_thread(self) -> None:
        # Reading a hung-up terminal fails (EIO) before the SIGHUP is handled: Textual would
        # take that for a crash of the app (exit 1) instead of letting the signal stop it.
        try:
            super().run_input_thread()
        except OSError:
            if os.isatty(self.fileno):
                raise
            self.terminal_gone()

    def close(self) -> None:
        if self._writing():  # stopping a dead writer would block on its full queue
            super().close()


class HeldDriver(TerminalDriver):
    """``TerminalDriver`` whose writes are buffered until :meth:`release`.

    ``release`` may come from another thread (the one that waits for the checks), so the
    first frame goes out as soon as both it and the verdict exist, whichever is first.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._held: list[str] | None = []
        """Output written while held; ``None`` once released."""
        self._stopped = False

    @property
    def held(self) -> bool:
        return self._held is not None

    def write(self, data: str) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append(data)
                return
        super().write(data)  # released: nothing can be held again, so order is kept

    def flush(self) -> None:
        if self._held is None:
            super().flush()

    def notice(self, line: str) -> None:
        """Write ``line`` to the shell now, while the app's own output is still held."""
        with self._lock:
            if self._held is None or self._stopped:
                return
            super().write(line + "\r\n")  # raw mode: the line ends as the terminal expects
        super().flush()

    def release(self) -> None:
        """Write everything drawn so far; later output goes straight to the terminal."""
        with self._lock:
            if self._held is None or self._stopped:
                return
            drawn, self._held = "".join(self._held), None
            if drawn:
                super().write(drawn)
        super().flush()

    def stop_application_mode(self) -> None:
        """Restore the terminal; if never released, without writing anything to it."""
        super().stop_application_mode()
        with self._lock:
            self._stopped = True
            if self._held is not None:
                self._held.clear()
