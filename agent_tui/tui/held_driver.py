"""A terminal driver whose output waits until the start-up checks have passed.

``agent-tui run`` checks its profile and credentials (in a forked child, see
``agent_tui.preflight``) while the app composes and draws its first frame.  Until the checks
pass, everything the app writes to the terminal (the switch to the alternate screen, the
frame) is kept in a buffer: the user's terminal still shows the shell.  ``release()`` writes
it all at once, so the first frame appears as soon as the checks pass instead of being drawn
only then.  An app that ends without a release has written nothing: a refusal is one line
in the shell, with no flash of the app.

Everything else starts as usual: the terminal's size is read, raw mode set (and restored at
the end, released or not), and keys are read.
"""

from __future__ import annotations

import threading

from textual.drivers.linux_driver import LinuxDriver


class HeldDriver(LinuxDriver):
    """``LinuxDriver`` whose writes are buffered until :meth:`release`.

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
