"""The garbage collector at start-up: the one place that switches it off and on.

While the app loads, the collector's young-generation passes over Textual's imports cost
~10 ms of launch, so it is off from before the checks fork (the child inherits that) until
the app's first frame is drawn.  What is loaded by the time the app starts lives as long as
the process: it is frozen out of every later pass (a full pass over it costs ~0.1 s).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Off while the app loads; on again when the first frame is drawn (see
    :func:`first_frame_drawn`), or in any case on leaving."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def freeze_loaded() -> None:
    """Keep every object alive now out of the collector's passes (called as the app starts)."""
    gc.freeze()


def first_frame_drawn() -> None:
    gc.enable()
