"""Catch a blocking call on the event loop: asyncio's debug mode names every callback that
ran longer than a threshold, set generous here (a second thread's wait, a synchronous
server shutdown or a subprocess run on the loop shows as one; a busy machine's scheduling
does not reach it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

SLOW_CALLBACK_S = 0.3


class _Slow(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing "):  # "Executing <Handle …> took 0.501 seconds"
            self.found.append(message)


@contextlib.contextmanager
def no_slow_callbacks(threshold_s: float = SLOW_CALLBACK_S) -> Iterator[None]:
    """Fail if a callback of the running loop took longer than ``threshold_s`` inside."""
    loop = asyncio.get_running_loop()
    was_debug, was_threshold = loop.get_debug(), loop.slow_callback_duration
    logger = logging.getLogger("asyncio")
    handler = _Slow()
    logger.addHandler(handler)
    loop.set_debug(True)
    loop.slow_callback_duration = threshold_s
    try:
        yield
    finally:
        loop.set_debug(was_debug)
        loop.slow_callback_duration = was_threshold
        logger.removeHandler(handler)
    assert not handler.found, "the event loop was blocked: " + "; ".join(handler.found)
