"""When the reader of our standard output goes away (``agent-tui … | head``)."""

from __future__ import annotations

import contextlib
import os
import sys

READER_GONE = "standard output was closed (its reader went away)"


def send_stdout_nowhere() -> None:
    """Point stdout at the null device: later writes, and Python's flush at exit, which
    would fail again on the broken pipe, go nowhere."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
